"""Trained PPO / MaskablePPO policies behind the :class:`~thetagym.policies.base.Policy` interface.

A trained agent is a stored policy (:mod:`thetagym.policies.stored`: safetensors weights, a YAML
spec, sha256 digests in ``metadata.yaml``) plus ``spaces.yaml``, the observation names and action
layout it was trained on. In a run folder the final policy sits at the top, the best one in
``best/`` and the latest checkpoint in ``checkpoints/last/``. Loading checks every recorded digest,
never unpickles, and refuses a policy whose layout does not match the env it is asked to act in. A
stable-baselines3 ``.zip`` is refused: ``thetagym convert-agent`` converts one from a trusted source.

A residual agent (:mod:`thetagym.policies.residual`) also stores its base rule config,
``base_rules.yaml``, named in ``spaces.yaml`` and covered by the digests: the agent folder alone
says what it does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from thetagym.policies.base import PolicyContext
from thetagym.policies.residual import RuleResidual, check_departures, departing_parts
from thetagym.policies.stored import (
    SPEC_FILE,
    WEIGHTS_FILE,
    ModelLoadError,
    load_stored_policy,
    read_verified,
)

POLICY_FOLDERS = (".", "best", "checkpoints/last")
"""Where a folder's policy is looked for, in order: an agent's (or a run's final) policy, a run's
best policy, a run's latest checkpoint."""
SPACES_FILE = "spaces.yaml"
AGENT_FILES = (SPACES_FILE, SPEC_FILE, WEIGHTS_FILE)
"""The files every stored agent has, and loading reads."""
BASE_RULES_FILE = "base_rules.yaml"
"""A residual agent's base rule config, a copy of the file it was trained with."""
CONVERT_HINT = "convert it from a source you trust with: thetagym convert-agent {path} --trust --out NEW_DIR"


def find_policy_folder(agent_dir: Path) -> Path:
    """The folder holding the policy of an agent or run folder, with a clear error when there is none."""
    agent_dir = Path(agent_dir)
    if agent_dir.is_file() and agent_dir.suffix == ".zip":
        raise ModelLoadError(
            f"{agent_dir}: a stable-baselines3 zip is a pickle and is never loaded; "
            + CONVERT_HINT.format(path=agent_dir)
        )
    if not agent_dir.is_dir():
        raise ModelLoadError(f"{agent_dir}: no such agent folder")
    for name in POLICY_FOLDERS:
        folder = agent_dir / name
        if (folder / WEIGHTS_FILE).is_file():
            return folder.resolve() if name == "." else folder
    zips = sorted(agent_dir.glob("*.zip"))
    if zips:
        raise ModelLoadError(
            f"{zips[0]}: a stable-baselines3 zip is a pickle and is never loaded; "
            + CONVERT_HINT.format(path=agent_dir)
        )
    looked = ", ".join(str(Path(name) / WEIGHTS_FILE) for name in POLICY_FOLDERS)
    raise ModelLoadError(
        f"{agent_dir}: no model found (looked for {looked}; an SB3 model.zip must be converted first)"
    )


def verify_agent(agent_dir: Path) -> Path:
    """The policy folder of ``agent_dir`` once every file recorded in its metadata matches its
    digest; raises :class:`ModelLoadError` naming the first file that does not."""
    folder = find_policy_folder(agent_dir)
    read_verified(folder, AGENT_FILES)
    return folder


def write_spaces(
    folder: Path,
    observation_names: Sequence[str],
    action_nvec: Sequence[int],
    algorithm: str,
    base_rules: Path | None = None,
    departures: Sequence[str] = (),
    departure_parts: Sequence[str] = (),
    departure_triggers: Sequence[str] = (),
) -> list[str]:
    """Record the layout a model is trained on (the env's), so loading can check it against an env,
    and copy a residual agent's ``base_rules`` config beside it (with its ``departures``,
    ``departure_parts`` and ``departure_triggers``, if limited); the names of the files written."""
    record: dict[str, Any] = {
        "algorithm": algorithm,
        "action_nvec": [int(n) for n in action_nvec],
        "observation_names": list(observation_names),
    }
    folder.mkdir(parents=True, exist_ok=True)
    names = [SPACES_FILE]
    if base_rules is not None:
        record["base_rules"] = BASE_RULES_FILE
        if departures:
            record["departures"] = list(departures)
        if departure_parts:
            record["departure_parts"] = list(departure_parts)
        if departure_triggers:
            record["departure_triggers"] = list(departure_triggers)
        (folder / BASE_RULES_FILE).write_bytes(Path(base_rules).read_bytes())
        names.append(BASE_RULES_FILE)
    (folder / SPACES_FILE).write_text(yaml.safe_dump(record, sort_keys=False))
    return names


def read_spaces(path: Path, data: bytes) -> dict[str, Any]:
    """The layout record (see :func:`write_spaces`) in the verified bytes ``data`` of ``path``."""
    try:
        record = yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise ModelLoadError(f"{path}: not readable YAML ({type(error).__name__})") from None
    if not isinstance(record, dict):
        raise ModelLoadError(f"{path}: expected a mapping of the model's layout")
    for key, kind in (("action_nvec", int), ("observation_names", str)):
        values = record.get(key)
        if not isinstance(values, list) or not all(type(value) is kind for value in values):
            raise ModelLoadError(f"{path}: key {key!r} is missing or not a list of {kind.__name__}s")
    if record.get("base_rules", BASE_RULES_FILE) != BASE_RULES_FILE:
        raise ModelLoadError(
            f"{path}: key 'base_rules' must be {BASE_RULES_FILE!r}, got {record['base_rules']!r}"
        )
    for key in ("departures", "departure_triggers"):
        names = record.get(key, [])
        try:
            if not isinstance(names, list):
                raise ValueError(f"expected a list, got {names!r}")
            check_departures(names)
        except ValueError as error:
            raise ModelLoadError(f"{path}: key {key!r}: {error}") from None
    parts = record.get("departure_parts", [])
    if not isinstance(parts, list) or not all(isinstance(name, str) for name in parts):
        raise ModelLoadError(f"{path}: key 'departure_parts' must be a list of part names; got {parts!r}")
    return dict(record)


def load_residual(
    folder: Path, record: dict[str, Any], nvec: Sequence[int], book: Any
) -> RuleResidual | None:
    """The base rule of a residual agent in ``folder`` (None for a plain policy), built for ``book``
    (a :class:`thetagym.book.BookConfig`; None: the default book) from the verified copy of its rule
    config."""
    if "base_rules" not in record:
        return None
    from thetagym.policies.rules import build_rule_agent
    from thetagym.policies.rules.registry import rule_config_from_data

    if book is None:
        from thetagym.env.config import resolve_config

        book = resolve_config(None, {}).book
    path = folder / BASE_RULES_FILE
    data = yaml.safe_load(read_verified(folder, [BASE_RULES_FILE])[BASE_RULES_FILE].decode("utf-8"))
    if not isinstance(data, dict):
        raise ModelLoadError(f"{path}: expected a rule config mapping")
    rule = build_rule_agent(rule_config_from_data(data, path), book, str(path))
    try:
        departing = departing_parts([layer.name for layer in book.layers], record.get("departure_parts", []))
    except ValueError as error:
        raise ModelLoadError(f"{folder / SPACES_FILE}: key 'departure_parts': {error}") from None
    return RuleResidual(
        rule, nvec, record.get("departures", []), departing, record.get("departure_triggers", [])
    )


def check_layout(
    folder: Path, record: dict[str, Any], observation_names: Sequence[str], action_nvec: Sequence[int]
) -> None:
    """Raise :class:`ModelLoadError` naming the first difference between model and env layouts."""
    trained_nvec = [int(n) for n in record["action_nvec"]]
    if trained_nvec != [int(n) for n in action_nvec]:
        raise ModelLoadError(
            f"{folder}: the model's action layout {trained_nvec} does not match the env's "
            f"{[int(n) for n in action_nvec]} (a different book?)"
        )
    trained_names = list(record["observation_names"])
    if trained_names != list(observation_names):
        if len(trained_names) != len(observation_names):
            detail = f"{len(trained_names)} features, the env has {len(observation_names)}"
        else:
            index = next(
                i for i, (a, b) in enumerate(zip(trained_names, observation_names, strict=True)) if a != b
            )
            detail = f"feature {index} is {trained_names[index]!r} in the model, {observation_names[index]!r} in the env"
        raise ModelLoadError(f"{folder}: the model's observation layout does not match the env: {detail}")


class TrainedPolicy:
    """A PPO or MaskablePPO actor-critic acting deterministically (masked when it supports masks).

    ``network``: an SB3 ``ActorCriticPolicy`` (or sb3-contrib's masked one), e.g. ``model.policy``;
    ``residual``: the base rule of a residual policy (None: the network acts alone).
    """

    def __init__(self, network: Any, name: str, masked: bool, residual: RuleResidual | None = None) -> None:
        self.network = network
        self.name = name
        self.masked = masked
        self.residual = residual

    @classmethod
    def load(
        cls,
        agent_dir: str | Path,
        observation_names: Sequence[str],
        action_nvec: Sequence[int],
        name: str = "",
        book: Any = None,
    ) -> TrainedPolicy:
        """Load the policy of ``agent_dir`` after checking its files' digests and its layout; a
        residual agent's base rule acts on a book of ``book`` (None: the default book)."""
        folder = find_policy_folder(Path(agent_dir))
        files = read_verified(folder, AGENT_FILES)
        record = read_spaces(folder / SPACES_FILE, files[SPACES_FILE])
        check_layout(folder, record, observation_names, action_nvec)
        residual = load_residual(folder, record, action_nvec, book)
        network, spec = load_stored_policy(folder, files)
        nvec = residual.policy_nvec if residual is not None else [int(n) for n in action_nvec]
        size = len(observation_names) + (sum(int(n) for n in action_nvec) if residual is not None else 0)
        if list(spec.action_nvec) != nvec or spec.observation_size != size:
            raise ModelLoadError(
                f"{folder / SPEC_FILE}: the network's spaces ({spec.observation_size} features, actions "
                f"{list(spec.action_nvec)}) do not match {SPACES_FILE}"
            )
        agent_name = name or (
            Path(agent_dir).resolve().name if folder.name in ("best", "last") else folder.name
        )
        return cls(network, agent_name, masked=spec.algorithm == "maskable_ppo", residual=residual)

    def act(self, observations: np.ndarray, action_masks: np.ndarray, context: PolicyContext) -> np.ndarray:
        """Deterministic actions ``(num_envs, n_parts)``; masked models never pick an illegal action."""
        if self.residual is not None:
            observations = self.residual.observe(observations, action_masks, context)
            action_masks = self.residual.masks(action_masks)
        if self.masked:
            actions, _ = self.network.predict(observations, action_masks=action_masks, deterministic=True)
        else:
            actions, _ = self.network.predict(observations, deterministic=True)
        actions = np.asarray(actions, dtype=np.int64).reshape(len(observations), -1)
        return self.residual.resolve(actions) if self.residual is not None else actions

    def reset(self, rows: np.ndarray) -> None:
        """Forget the base rule's memory of envs ``rows``; a plain network is stateless."""
        if self.residual is not None:
            self.residual.reset(rows)


def load_trained_agent(agent_dir: str | Path, book: Any = None) -> TrainedPolicy:
    """A trained agent acting in an env of ``book`` (a :class:`thetagym.book.BookConfig`; None: the
    default book), its layout checked against that env's."""
    from thetagym.env.config import resolve_config
    from thetagym.env.observation import observation_names

    config = resolve_config(None, {"book": book} if book is not None else {})
    nvec = action_nvec(len(config.book.layers))
    return TrainedPolicy.load(agent_dir, observation_names(config), nvec, book=config.book)


def action_nvec(n_layers: int) -> list[int]:
    """The ``MultiDiscrete`` layout of a book of ``n_layers`` layers: one part per layer plus the balancer."""
    from thetagym.book import BalancerAction, LayerAction

    return [len(LayerAction)] * n_layers + [len(BalancerAction)]
