"""Trained policies stored as data: weights in safetensors, a YAML spec, sha256 digests.

Loading never unpickles. A stored policy is a folder holding

- ``policy.safetensors``: the actor-critic's tensors (a torch state dict, nothing else);
- ``policy.yaml``: the spec that rebuilds the network (algorithm, layer widths, activation,
  observation bounds and action layout), read with ``yaml.safe_load``;
- ``metadata.yaml``: under ``sha256:``, the digest of every file a loader reads.

A file is parsed only from bytes whose digest matched the record, so a file changed or planted
after the record is refused before anything reads it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from thetagym.config import ConfigError

WEIGHTS_FILE = "policy.safetensors"
SPEC_FILE = "policy.yaml"
METADATA_FILE = "metadata.yaml"
DIGESTS_KEY = "sha256"
SPEC_FORMAT = "thetagym-policy/1"
ALGORITHMS = ("maskable_ppo", "ppo")
ACTIVATIONS = ("tanh", "relu")


class ModelLoadError(ConfigError):
    """A trained agent folder that cannot be used: missing, changed, unsafe or of another layout."""


@dataclass(frozen=True)
class PolicySpec:
    """What rebuilds a stable-baselines3 actor-critic MLP before its weights are loaded.

    ``net_arch``: hidden widths shared by the policy and value heads, or ``{"pi": [...], "vf":
    [...]}``; ``observation_low``/``high``: the (uniform) bounds of the observation box.
    """

    algorithm: str
    net_arch: tuple[int, ...] | dict[str, tuple[int, ...]]
    activation: str
    observation_size: int
    observation_low: float
    observation_high: float
    action_nvec: tuple[int, ...]

    def record(self) -> dict[str, Any]:
        """The YAML form of the spec."""
        net_arch: Any = (
            {key: list(value) for key, value in self.net_arch.items()}
            if isinstance(self.net_arch, dict)
            else list(self.net_arch)
        )
        return {
            "format": SPEC_FORMAT,
            "algorithm": self.algorithm,
            "network": {"net_arch": net_arch, "activation": self.activation},
            "observation_space": {
                "shape": [self.observation_size],
                "low": self.observation_low,
                "high": self.observation_high,
                "dtype": "float32",
            },
            "action_space": {"nvec": list(self.action_nvec)},
        }

    @classmethod
    def from_record(cls, record: Any, source: str) -> PolicySpec:
        """Parse a spec, each bad entry refused with a line naming ``source`` and the key."""
        if not isinstance(record, dict) or record.get("format") != SPEC_FORMAT:
            found = record.get("format") if isinstance(record, dict) else type(record).__name__
            raise ModelLoadError(f"{source}: key 'format': expected {SPEC_FORMAT!r}, got {found!r}")
        try:
            algorithm = record["algorithm"]
            network = record["network"]
            box = record["observation_space"]
            nvec = tuple(_positive_int(n) for n in record["action_space"]["nvec"])
            raw_arch = network["net_arch"]
            net_arch: tuple[int, ...] | dict[str, tuple[int, ...]] = (
                {key: tuple(_positive_int(n) for n in raw_arch[key]) for key in ("pi", "vf")}
                if isinstance(raw_arch, dict)
                else tuple(_positive_int(n) for n in raw_arch)
            )
            (size,) = box["shape"]
            spec = cls(
                algorithm=algorithm,
                net_arch=net_arch,
                activation=network["activation"],
                observation_size=_positive_int(size),
                observation_low=float(box["low"]),
                observation_high=float(box["high"]),
                action_nvec=nvec,
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ModelLoadError(
                f"{source}: malformed policy spec ({type(error).__name__}: {error})"
            ) from None
        if spec.algorithm not in ALGORITHMS:
            raise ModelLoadError(f"{source}: key 'algorithm': {spec.algorithm!r} is not one of {ALGORITHMS}")
        if spec.activation not in ACTIVATIONS:
            raise ModelLoadError(
                f"{source}: key 'network.activation': {spec.activation!r} is not one of {ACTIVATIONS}"
            )
        if not spec.observation_low < spec.observation_high:
            raise ModelLoadError(f"{source}: key 'observation_space': low must be below high")
        return spec


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{value!r} is not a positive integer")
    return value


def policy_spec(policy: Any, algorithm: str) -> PolicySpec:
    """The spec of a live SB3 ``ActorCriticPolicy`` (MLP on a flat box, ``MultiDiscrete`` actions);
    a policy built with other settings than those a spec records is refused."""
    import numpy as np
    import torch
    from gymnasium import spaces
    from stable_baselines3.common.torch_layers import FlattenExtractor

    activations = {torch.nn.Tanh: "tanh", torch.nn.ReLU: "relu"}
    observation, action = policy.observation_space, policy.action_space
    if not isinstance(observation, spaces.Box) or len(observation.shape) != 1:
        raise ModelLoadError(f"the policy observes {observation}, not a flat Box")
    low, high = np.unique(observation.low), np.unique(observation.high)
    if len(low) != 1 or len(high) != 1:
        raise ModelLoadError("the policy's observation box has per-feature bounds; a spec records one bound")
    if not isinstance(action, spaces.MultiDiscrete):
        raise ModelLoadError(f"the policy acts in {action}, not a MultiDiscrete space")
    if policy.features_extractor_class is not FlattenExtractor or not policy.share_features_extractor:
        raise ModelLoadError("the policy uses another features extractor than a shared flatten layer")
    if policy.activation_fn not in activations:
        raise ModelLoadError(f"the policy's activation {policy.activation_fn.__name__} is not tanh or relu")
    arch = policy.net_arch
    net_arch = (
        {key: tuple(int(n) for n in arch[key]) for key in ("pi", "vf")}
        if isinstance(arch, dict)
        else tuple(int(n) for n in arch)
    )
    return PolicySpec(
        algorithm=algorithm,
        net_arch=net_arch,
        activation=activations[policy.activation_fn],
        observation_size=int(observation.shape[0]),
        observation_low=float(low[0]),
        observation_high=float(high[0]),
        action_nvec=tuple(int(n) for n in action.nvec),
    )


def build_policy(spec: PolicySpec) -> Any:
    """A fresh SB3 (or sb3-contrib masked) actor-critic of ``spec``, on the CPU, in eval mode."""
    import numpy as np
    import torch
    from gymnasium import spaces
    from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
    from stable_baselines3.common.policies import ActorCriticPolicy

    policy_class: Any = MaskableActorCriticPolicy if spec.algorithm == "maskable_ppo" else ActorCriticPolicy
    observation = spaces.Box(
        spec.observation_low, spec.observation_high, (spec.observation_size,), np.float32
    )
    net_arch: Any = (
        {key: list(value) for key, value in spec.net_arch.items()}
        if isinstance(spec.net_arch, dict)
        else list(spec.net_arch)
    )
    activation = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[spec.activation]
    policy = policy_class(
        observation,
        spaces.MultiDiscrete(list(spec.action_nvec)),
        lambda _: 0.0,
        net_arch=net_arch,
        activation_fn=activation,
    )
    policy.set_training_mode(False)
    return policy


def save_policy(state_dict: Mapping[str, Any], spec: PolicySpec, folder: Path) -> list[str]:
    """Write a policy's tensors (its ``state_dict()``) and spec into ``folder``; the files written."""
    from safetensors.torch import save

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {key: value.detach().cpu().contiguous() for key, value in state_dict.items()}
    write_atomically(folder / WEIGHTS_FILE, save(tensors))
    write_atomically(folder / SPEC_FILE, yaml.safe_dump(spec.record(), sort_keys=False).encode())
    return [WEIGHTS_FILE, SPEC_FILE]


def load_stored_policy(folder: Path, files: Mapping[str, bytes]) -> tuple[Any, PolicySpec]:
    """Rebuild the policy of ``folder`` from the verified bytes of its spec and weights."""
    from safetensors import SafetensorError
    from safetensors.torch import load as load_tensors

    spec = PolicySpec.from_record(_yaml(files[SPEC_FILE], folder / SPEC_FILE), str(folder / SPEC_FILE))
    policy = build_policy(spec)
    try:
        tensors = load_tensors(files[WEIGHTS_FILE])
    except (SafetensorError, ValueError) as error:
        raise ModelLoadError(f"{folder / WEIGHTS_FILE}: not a safetensors file ({error})") from None
    try:
        policy.load_state_dict(tensors, strict=True)
    except RuntimeError as error:
        detail = str(error).splitlines()[1].strip() if "\n" in str(error) else str(error)
        raise ModelLoadError(
            f"{folder / WEIGHTS_FILE}: the weights do not fit the network of {SPEC_FILE} ({detail})"
        ) from None
    return policy, spec


def _yaml(data: bytes, path: Path) -> Any:
    try:
        return yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise ModelLoadError(f"{path}: not readable YAML ({type(error).__name__})") from None


# --- digests --------------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    """Hex sha256 of ``data``.

    >>> sha256(b"")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(data).hexdigest()


def recorded_digests(folder: Path) -> dict[str, str]:
    """The ``sha256:`` block of ``folder/metadata.yaml`` (file name to hex digest)."""
    path = folder / METADATA_FILE
    if not path.is_file():
        raise ModelLoadError(
            f"{path}: missing; an agent's files are loaded only against the sha256 digests recorded "
            "there (thetagym train and thetagym convert-agent write them)"
        )
    record = _yaml(path.read_bytes(), path)
    digests = record.get(DIGESTS_KEY) if isinstance(record, dict) else None
    if not isinstance(digests, dict) or not digests:
        raise ModelLoadError(f"{path}: no {DIGESTS_KEY!r} block of file digests; refusing to load the agent")
    return {str(name): str(value) for name, value in digests.items()}


def read_verified(folder: Path, needed: Iterable[str]) -> dict[str, bytes]:
    """The bytes of the ``needed`` files of ``folder``, after every file recorded in its metadata
    matched its digest; a missing, unrecorded or changed file is refused with one line naming it."""
    digests = recorded_digests(folder)
    needed = list(needed)
    for name in needed:
        if name not in digests:
            raise ModelLoadError(
                f"{folder / name}: not listed in {folder / METADATA_FILE}'s {DIGESTS_KEY!r} block; "
                "refusing to load an unrecorded file"
            )
    contents: dict[str, bytes] = {}
    for name, digest in sorted(digests.items()):
        path = folder / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise ModelLoadError(f"{folder / METADATA_FILE}: digest entry {name!r} leaves the agent folder")
        if not path.is_file():
            raise ModelLoadError(f"{path}: missing, but its digest is recorded in {folder / METADATA_FILE}")
        data = path.read_bytes()
        if sha256(data) != digest:
            raise ModelLoadError(
                f"{path}: sha256 does not match the digest in {folder / METADATA_FILE} "
                "(changed since it was recorded); refusing to load the agent"
            )
        if name in needed:
            contents[name] = data
    return contents


def record_digests(folder: Path, names: Iterable[str], extra: Mapping[str, Any] | None = None) -> None:
    """Record the sha256 of ``names`` (files of ``folder``) in its ``metadata.yaml``, keeping the
    digests of other files and, textually, everything else the file says (comments included);
    ``extra`` top-level entries are set too."""
    path = folder / METADATA_FILE
    text = path.read_text() if path.is_file() else ""
    digests: dict[str, str] = {}
    if text:
        current = yaml.safe_load(text)
        if isinstance(current, dict) and isinstance(current.get(DIGESTS_KEY), dict):
            digests = {str(k): str(v) for k, v in current[DIGESTS_KEY].items()}
    for name in names:
        digests[name] = sha256((folder / name).read_bytes())
    blocks = {DIGESTS_KEY: dict(sorted(digests.items())), **(extra or {})}
    for key in blocks:
        text = _without_block(text, key)
    body = yaml.safe_dump(dict(blocks), sort_keys=False, width=120)
    comment = "# sha256 of every file a loader reads; a file that no longer matches is refused\n"
    text = (text.rstrip("\n") + "\n" if text.strip() else "") + comment + body
    write_atomically(path, text.encode())


def _without_block(text: str, key: str) -> str:
    """``text`` without its top-level ``key:`` entry (and the comment line just above it)."""
    pattern = re.compile(
        rf"(?m)^(# sha256 of every file[^\n]*\n)?{re.escape(key)}:[^\n]*\n(?:[ \t]+[^\n]*\n|\n(?=[ \t]))*"
    )
    return pattern.sub("", text if text.endswith("\n") or not text else text + "\n")


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file, then rename it to ``path``, so a reader never sees a
    half-written file."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.replace(path)
