"""Trained agents load as data: the shipped agent rebuilds from safetensors and a YAML spec, every
recorded digest is checked, a stable-baselines3 zip is converted only with --trust, and a pickle
payload planted in an agent folder never runs."""

from __future__ import annotations

import base64
import builtins
import json
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from thetagym.cli import main
from thetagym.config import ConfigError
from thetagym.env.config import resolve_config
from thetagym.env.observation import observation_names
from thetagym.evaluate import agents
from thetagym.evaluate.config import AgentSpec, EvaluationConfig
from thetagym.policies.convert import convert_agent, zip_algorithm
from thetagym.policies.stored import ModelLoadError, PolicySpec, record_digests, sha256
from thetagym.policies.trained import TrainedPolicy, action_nvec, load_trained_agent

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "agents" / "maskable_ppo_reference"
REFERENCE_ZIP_SHA256 = "d231b147709c77278a1b6027eb8e62a4c4806642abeebe3f8b6c6be01528667b"


class Payload:
    """Unpickling this creates ``marker``: the stand-in for code an attacker would run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return builtins.open, (str(self.marker), "w")


def layout() -> tuple[list[str], list[int]]:
    config = resolve_config(None, {})
    return observation_names(config), action_nvec(len(config.book.layers))


@pytest.fixture
def agent(tmp_path: Path) -> Path:
    copy = tmp_path / "agent"
    shutil.copytree(REFERENCE, copy)
    return copy


def sb3_zip_with_payload(path: Path, marker: Path) -> Path:
    """A MaskablePPO-looking ``model.zip`` whose ``data`` carries a pickle payload, as SB3 stores
    every non-JSON attribute (``:serialized:``, base64 pickle)."""
    data = {
        "policy_class": {
            ":type:": "<class 'abc.ABCMeta'>",
            "__module__": "sb3_contrib.common.maskable.policies",
        },
        "policy_kwargs": {
            ":type:": "<class 'dict'>",
            ":serialized:": base64.b64encode(pickle.dumps(Payload(marker))).decode(),
        },
    }
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data", json.dumps(data))
    return path


def test_the_shipped_agent_is_stored_as_data_with_digests() -> None:
    assert not list(REFERENCE.glob("*.zip"))
    record = yaml.safe_load((REFERENCE / "metadata.yaml").read_text())
    for name in ("policy.safetensors", "policy.yaml", "spaces.yaml", "env.yaml"):
        assert record["sha256"][name] == sha256((REFERENCE / name).read_bytes()), name
    assert record["converted_from"] == {"file": "model.zip", "sha256": REFERENCE_ZIP_SHA256}
    spec = PolicySpec.from_record(yaml.safe_load((REFERENCE / "policy.yaml").read_text()), "policy.yaml")
    assert spec.algorithm == "maskable_ppo" and spec.net_arch == (64, 64) and spec.activation == "tanh"
    assert spec.action_nvec == (8, 8, 8, 8, 8, 4) and spec.observation_size == 69


def test_the_shipped_agent_acts_within_the_masks_deterministically() -> None:
    policy = load_trained_agent(REFERENCE)
    assert policy.masked and policy.name == "maskable_ppo_reference"
    rng = np.random.default_rng(0)
    observations = rng.uniform(-1, 1, (256, 69)).astype(np.float32)
    masks = rng.uniform(size=(256, 44)) < 0.5
    masks[:, [0, 8, 16, 24, 32, 40]] = True  # HOLD is always legal
    actions = policy.act(observations, masks, None)  # type: ignore[arg-type]
    offsets = np.array([0, 8, 16, 24, 32, 40])
    assert masks[np.arange(256)[:, None], offsets + actions].all()
    assert np.array_equal(actions, load_trained_agent(REFERENCE).act(observations, masks, None))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["policy.safetensors", "policy.yaml", "spaces.yaml", "env.yaml"])
def test_a_changed_file_is_refused_naming_it(agent: Path, name: str) -> None:
    with (agent / name).open("ab") as file:
        file.write(b"\n")
    with pytest.raises(ModelLoadError, match=rf"{name}: sha256 does not match the digest in .*metadata.yaml"):
        load_trained_agent(agent)


def test_missing_digests_and_unrecorded_files_are_refused(agent: Path) -> None:
    text = (agent / "metadata.yaml").read_text()
    record = yaml.safe_load(text)
    del record["sha256"]["policy.yaml"]
    (agent / "metadata.yaml").write_text(yaml.safe_dump(record))
    with pytest.raises(ModelLoadError, match=r"policy.yaml: not listed in .*'sha256' block"):
        load_trained_agent(agent)
    (agent / "metadata.yaml").unlink()
    with pytest.raises(ModelLoadError, match=r"metadata.yaml: missing; an agent's files are loaded only"):
        load_trained_agent(agent)


def test_weights_that_do_not_fit_the_spec_are_one_line(agent: Path) -> None:
    spec = yaml.safe_load((agent / "policy.yaml").read_text())
    spec["network"]["net_arch"] = [32, 32]
    (agent / "policy.yaml").write_text(yaml.safe_dump(spec))
    record_digests(agent, ["policy.yaml"])
    with pytest.raises(ModelLoadError, match=r"policy.safetensors: the weights do not fit the network"):
        load_trained_agent(agent)
    (agent / "policy.safetensors").write_bytes(np.random.default_rng(1).bytes(512))
    spec["network"]["net_arch"] = [64, 64]
    (agent / "policy.yaml").write_text(yaml.safe_dump(spec))
    record_digests(agent, ["policy.yaml", "policy.safetensors"])
    with pytest.raises(ModelLoadError, match=r"policy.safetensors: not a safetensors file"):
        load_trained_agent(agent)


def test_a_pickle_payload_in_model_zip_never_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "payload-ran"
    folder = tmp_path / "foreign"
    folder.mkdir()
    sb3_zip_with_payload(folder / "model.zip", marker)
    shutil.copyfile(REFERENCE / "spaces.yaml", folder / "spaces.yaml")
    names, nvec = layout()

    with pytest.raises(
        ModelLoadError, match=r"model.zip: a stable-baselines3 zip is a pickle and is never loaded"
    ):
        TrainedPolicy.load(folder, names, nvec)
    with pytest.raises(ModelLoadError, match="never loaded"):
        TrainedPolicy.load(folder / "model.zip", names, nvec)
    with pytest.raises(ConfigError, match="convert-agent"):
        agents.load_policy(AgentSpec(name="foreign", model=folder))
    with pytest.raises(
        ModelLoadError, match=r"refusing to convert without --trust: loading a stable-baselines3"
    ):
        convert_agent(folder, tmp_path / "converted", trust=False)
    assert zip_algorithm(folder / "model.zip") == "maskable_ppo"  # reads the JSON only
    for command in (
        ["convert-agent", str(folder), "--out", str(tmp_path / "converted")],
        [
            "simulate",
            "--agent",
            str(folder),
            "--scenario",
            "calm",
            "--days",
            "2",
            "--out",
            str(tmp_path / "simulated"),
        ],
    ):
        with pytest.raises(SystemExit) as ended:
            main(command)
        assert ended.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "model.zip" in err, err
    assert not marker.exists()
    assert not (tmp_path / "converted").exists()

    # The control: stable-baselines3's own loader would have run it.
    from stable_baselines3.common.save_util import json_to_data

    json_to_data(zipfile.ZipFile(folder / "model.zip").read("data").decode())
    assert marker.exists()


def test_compare_skips_agents_whose_files_do_not_match(tmp_path: Path) -> None:
    (tmp_path / "configs" / "rules").mkdir(parents=True)
    (tmp_path / "configs" / "rules" / "put_write.yaml").write_text("agent: put_write\n")
    shutil.copytree(REFERENCE, tmp_path / "agents" / "good")
    shutil.copytree(REFERENCE, tmp_path / "agents" / "tampered")
    (tmp_path / "agents" / "tampered" / "policy.safetensors").write_bytes(b"\0" * 64)
    (tmp_path / "agents" / "foreign").mkdir()
    sb3_zip_with_payload(tmp_path / "agents" / "foreign" / "model.zip", tmp_path / "payload-ran")
    config, notes = agents.with_builtin_agents(EvaluationConfig(agents=()), tmp_path)
    assert [agent.name for agent in config.agents] == ["put_write", "good"]
    assert len(notes) == 2
    assert "skipping trained agent foreign" in notes[0] and "model.zip" in notes[0]
    assert (
        "skipping trained agent tampered" in notes[1]
        and "policy.safetensors: sha256 does not match" in notes[1]
    )
    assert not (tmp_path / "payload-ran").exists()


def test_conversion_reproduces_the_original_weights(tmp_path: Path) -> None:
    """A trusted conversion of a real SB3 zip: weights, spec and decisions as the zip's model."""
    import torch
    from sb3_contrib import MaskablePPO

    from thetagym.env.sb3_adapter import SB3VecEnvAdapter
    from thetagym.env.vector import ShortPremiumVectorEnv

    env = SB3VecEnvAdapter(ShortPremiumVectorEnv(2, resolve_config(None, {})))
    model = MaskablePPO("MlpPolicy", env, seed=5, device="cpu", policy_kwargs={"net_arch": [16, 8]})
    source = tmp_path / "run"
    source.mkdir()
    model.save(source / "model.zip")
    (source / "notes.txt").write_text("kept")
    names, nvec = layout()
    out = tmp_path / "agent"
    main(
        [
            "convert-agent",
            str(source),
            "--trust",
            "--out",
            str(out),
            "--env",
            str(ROOT / "configs/env/default.yaml"),
        ]
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "metadata.yaml",
        "notes.txt",
        "policy.safetensors",
        "policy.yaml",
        "spaces.yaml",
    ]
    policy = TrainedPolicy.load(out, names, nvec)
    for key, value in model.policy.state_dict().items():
        assert torch.equal(policy.network.state_dict()[key], value), key
    observations = np.random.default_rng(2).uniform(-3, 3, (64, len(names))).astype(np.float32)
    masks = np.ones((64, sum(nvec)), dtype=bool)
    expected, _ = model.predict(observations, action_masks=masks, deterministic=True)
    assert np.array_equal(policy.act(observations, masks, None), expected)  # type: ignore[arg-type]
    with pytest.raises(ModelLoadError, match="already exists and is not empty"):
        convert_agent(source, out, trust=True, layout=(names, nvec))
    (source / "spaces.yaml").write_text(
        yaml.safe_dump({"algorithm": "ppo", "action_nvec": nvec, "observation_names": names})
    )
    with pytest.raises(
        ModelLoadError, match=r"spaces.yaml: key 'algorithm': 'ppo', but model.zip holds a maskable_ppo"
    ):
        convert_agent(source, tmp_path / "other", trust=True)


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        (
            "spaces.yaml",
            "action_nvec: [8, eight]\nobservation_names: [a]\n",
            "key 'action_nvec' is missing or not a list of ints",
        ),
        ("spaces.yaml", b"\xff\xfe binary", "spaces.yaml: not readable YAML (UnicodeDecodeError)"),
        (
            "policy.yaml",
            "format: thetagym-policy/1\nalgorithm: a2c\n",
            "policy.yaml: malformed policy spec (KeyError",
        ),
        (
            "policy.yaml",
            "format: something-else\n",
            "policy.yaml: key 'format': expected 'thetagym-policy/1'",
        ),
    ],
)
def test_bad_agent_files_are_one_line(agent: Path, file: str, content: str | bytes, message: str) -> None:
    path = agent / file
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    record_digests(agent, [file])
    with pytest.raises(ModelLoadError) as raised:
        load_trained_agent(agent)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_zip_that_is_not_from_stable_baselines3_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "model.zip").write_bytes(np.random.default_rng(0).bytes(1000))
    with pytest.raises(ModelLoadError, match=r"model.zip: not a stable-baselines3 model zip \(BadZipFile\)"):
        convert_agent(tmp_path / "model.zip", tmp_path / "out", trust=True)
    assert not (tmp_path / "out").exists()


def test_every_command_refuses_a_tampered_agent_in_one_line(
    agent: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (agent / "policy.safetensors").write_bytes((agent / "policy.safetensors").read_bytes()[:-4] + b"\0\0\0\0")
    evaluation = tmp_path / "evaluate.yaml"
    evaluation.write_text(
        f"agents:\n  - {{name: tampered, model: {agent}}}\nscenarios: [calm]\nepisodes: 2\ndays: 5\n"
    )
    rules = str(ROOT / "configs/rules/dynamic_exposure.yaml")
    for command in (
        [
            "simulate",
            "--agent",
            str(agent),
            "--scenario",
            "calm",
            "--days",
            "2",
            "--out",
            str(tmp_path / "s"),
        ],
        [
            "export-thresholds",
            str(agent),
            "--rules",
            rules,
            "--out",
            str(tmp_path / "e.yaml"),
            "--no-progress",
        ],
        ["evaluate", str(evaluation), "--out", str(tmp_path / "v"), "--workers", "1"],
    ):
        with pytest.raises(SystemExit) as ended:
            main(command)
        assert ended.value.code == 2, command
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "policy.safetensors: sha256 does not match the digest" in err, err
