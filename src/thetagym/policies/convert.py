"""Convert a stable-baselines3 ``model.zip`` into a stored policy (:mod:`thetagym.policies.stored`).

An SB3 zip holds pickled Python objects, and loading it runs whatever code they name. This is the
one place thetagym loads one, and only when the caller says it trusts the file (``trust=True``).
The output folder holds the policy's weights and spec, ``spaces.yaml``, the source folder's other
plain files (configs, evaluations, metadata), and in ``metadata.yaml`` the sha256 of the files
loaders read (:data:`DIGESTED`): notes beside them, such as an exported rule config, may change.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from thetagym.policies.stored import (
    METADATA_FILE,
    SPEC_FILE,
    WEIGHTS_FILE,
    ModelLoadError,
    policy_spec,
    record_digests,
    save_policy,
    sha256,
)
from thetagym.policies.trained import SPACES_FILE, read_spaces, write_spaces

MODEL_NAMES = ("model.zip", "best_model.zip")
DIGESTED = (WEIGHTS_FILE, SPEC_FILE, SPACES_FILE, "env.yaml")
"""Files of an agent folder that loaders read, so their digests are recorded."""
POLICY_MODULES = {
    "sb3_contrib.common.maskable.policies": "maskable_ppo",
    "stable_baselines3.common.policies": "ppo",
}
TRUST_WARNING = (
    "loading a stable-baselines3 zip unpickles it, which runs any code its author put in it; "
    "pass --trust only for a file from a source you trust"
)


def find_zip(source: Path) -> Path:
    """The SB3 zip named by ``source``: the file itself, or a folder's ``model.zip``/``best_model.zip``."""
    if source.is_file():
        return source
    if source.is_dir():
        for name in MODEL_NAMES:
            if (source / name).is_file():
                return source / name
        raise ModelLoadError(f"{source}: no {' or '.join(MODEL_NAMES)} to convert")
    raise ModelLoadError(f"{source}: no such file or folder")


def zip_algorithm(model_zip: Path) -> str:
    """``maskable_ppo`` or ``ppo``, read from the zip's JSON ``data`` entry (nothing unpickled)."""
    try:
        with zipfile.ZipFile(model_zip) as archive:
            data = json.loads(archive.read("data"))
        module = data["policy_class"]["__module__"]
    except (zipfile.BadZipFile, KeyError, TypeError, ValueError, OSError) as error:
        raise ModelLoadError(
            f"{model_zip}: not a stable-baselines3 model zip ({type(error).__name__})"
        ) from None
    if module not in POLICY_MODULES:
        raise ModelLoadError(
            f"{model_zip}: policy class from {module!r}; only PPO and MaskablePPO actor-critics convert"
        )
    return POLICY_MODULES[module]


def convert_agent(
    source: Path, out: Path, trust: bool, layout: tuple[Sequence[str], Sequence[int]] | None = None
) -> Path:
    """Convert the SB3 zip of ``source`` into the new agent folder ``out``; return ``out``.

    ``layout`` (observation names, action nvec) is used when the source has no ``spaces.yaml``.
    Without ``trust`` nothing is read beyond the file's existence.
    """
    model_zip = find_zip(source)
    if not trust:
        raise ModelLoadError(f"{model_zip}: refusing to convert without --trust: {TRUST_WARNING}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ModelLoadError(f"{out}: already exists and is not empty; choose a new --out folder")
    folder = model_zip.parent
    algorithm = zip_algorithm(model_zip)
    spaces: dict[str, Any] | None = None
    if (folder / SPACES_FILE).is_file():
        spaces = read_spaces(folder / SPACES_FILE, (folder / SPACES_FILE).read_bytes())
        declared = spaces.get("algorithm", algorithm)
        if declared != algorithm:
            raise ModelLoadError(
                f"{folder / SPACES_FILE}: key 'algorithm': {declared!r}, but {model_zip.name} holds a "
                f"{algorithm} policy"
            )
        names, nvec = spaces["observation_names"], spaces["action_nvec"]
    elif layout is not None:
        names, nvec = list(layout[0]), [int(n) for n in layout[1]]
    else:
        raise ModelLoadError(
            f"{folder}: no {SPACES_FILE} beside {model_zip.name}; give --env to take the layout from an env"
        )
    network = _load_trusted(model_zip, algorithm)
    spec = policy_spec(network, algorithm)
    if spec.observation_size != len(names) or list(spec.action_nvec) != list(nvec):
        raise ModelLoadError(
            f"{model_zip}: the model's spaces ({spec.observation_size} features, actions "
            f"{list(spec.action_nvec)}) do not match the layout ({len(names)} features, actions {list(nvec)})"
        )
    partial = out.with_name(f".{out.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    copied = _copy_plain_files(folder, partial) if source.is_dir() else []
    written = save_policy(network.state_dict(), spec, partial)
    if SPACES_FILE not in copied:
        written.extend(write_spaces(partial, names, nvec, algorithm))
    origin = {"file": model_zip.name, "sha256": sha256(model_zip.read_bytes())}
    present = {*copied, *written}
    record_digests(partial, [name for name in DIGESTED if name in present], extra={"converted_from": origin})
    if out.exists():
        out.rmdir()
    partial.replace(out)
    return out


def _load_trusted(model_zip: Path, algorithm: str) -> Any:
    """The policy network of a zip the caller trusts (this unpickles)."""
    from sb3_contrib import MaskablePPO
    from stable_baselines3 import PPO

    model_class: Any = MaskablePPO if algorithm == "maskable_ppo" else PPO
    try:
        model = model_class.load(model_zip, device="cpu")
    except Exception as error:  # any failure of a foreign file becomes one line
        raise ModelLoadError(
            f"{model_zip}: stable-baselines3 cannot load it ({type(error).__name__})"
        ) from None
    return model.policy


def _copy_plain_files(source: Path, out: Path) -> list[str]:
    """Copy the source folder's files other than zips (and the metadata, which is kept as text and
    gets digests); the names copied."""
    copied = []
    for path in sorted(source.iterdir()):
        if not path.is_file() or path.suffix == ".zip" or path.name.startswith("."):
            continue
        shutil.copyfile(path, out / path.name)
        if path.name != METADATA_FILE:
            copied.append(path.name)
    return copied
