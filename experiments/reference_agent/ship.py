"""Copy a training run into agents/<name>/ and write its metadata.yaml.

    python experiments/reference_agent/ship.py RUN_DIR AGENT_DIR --model final \
        --seconds 396.7 --steps 2007040

The ``benchmark`` verdict at the end of metadata.yaml is written by hand after this.
``--seconds`` and ``--steps`` are the figures of the ``thetagym train`` final line ("done: N steps in
S s"). A residual agent's rule config (``base_rules.yaml``) is copied byte for byte. The sha256
of the files loaders read are recorded last, as ``thetagym train`` does; evaluations live in the
experiment that shipped the agent, not in its metadata.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import yaml

from thetagym.policies.convert import DIGESTED
from thetagym.policies.stored import SPEC_FILE, WEIGHTS_FILE, record_digests
from thetagym.policies.trained import BASE_RULES_FILE

COPIED = ("spaces.yaml", "config.yaml", "env.yaml", "evaluations.csv")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run", type=Path)
    parser.add_argument("agent", type=Path)
    parser.add_argument(
        "--model", default="final", choices=("final", "best"), help="the run's final or best policy"
    )
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--steps", type=int, required=True)
    args = parser.parse_args()

    args.agent.mkdir(parents=True, exist_ok=True)
    source = args.run if args.model == "final" else args.run / "best"
    for name in (WEIGHTS_FILE, SPEC_FILE):
        shutil.copyfile(source / name, args.agent / name)
    root = str(Path.cwd().resolve()) + "/"
    for name in COPIED:  # paths relative to the project, so the folder reads the same anywhere
        (args.agent / name).write_text((args.run / name).read_text().replace(root, ""))
    if (args.run / BASE_RULES_FILE).is_file():  # a residual agent's rule, byte for byte (digested)
        shutil.copyfile(args.run / BASE_RULES_FILE, args.agent / BASE_RULES_FILE)
    config = yaml.safe_load((args.run / "config.yaml").read_text())
    run = yaml.safe_load((args.run / "run.yaml").read_text())["sessions"][-1]
    metadata = {
        "name": args.agent.name,
        "algorithm": config["algorithm"],
        "train_config": run["command"].split(" train ", 1)[-1].split(" ")[0],
        "command": "thetagym train " + run["command"].split(" train ", 1)[-1],
        "git_revision": run["git_revision"],
        "seed": config["seed"],
        "timesteps": args.steps,
        "model": "the run's final weights"
        if args.model == "final"
        else "the run's best policy by periodic evaluation",
        "training_seconds": round(args.seconds, 1),
        "throughput_env_steps_per_second": round(args.steps / args.seconds),
        "network": config["policy"],
        "reward": config.get("reward"),
    }
    text = yaml.safe_dump(metadata, sort_keys=False, width=120)
    (args.agent / "metadata.yaml").write_text(text)
    record_digests(
        args.agent, [name for name in (*DIGESTED, BASE_RULES_FILE) if (args.agent / name).is_file()]
    )


if __name__ == "__main__":
    main()
