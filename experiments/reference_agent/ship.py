"""Copy a training run into agents/<name>/ and write its metadata.yaml.

    python experiments/reference_agent/ship.py RUN_DIR AGENT_DIR --model final \
        --seconds 396.7 --steps 2007040 [--report reports/reference_agent]

The ``benchmark`` verdict at the end of metadata.yaml is written by hand after this.
``--seconds`` and ``--steps`` are the figures of the ``thetagym train`` final line ("done: N steps in
S s"); with ``--report`` the evaluation summary (tables.py) goes into the metadata too. The
sha256 of the files loaders read are recorded last, as ``thetagym train`` does.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import yaml

from thetagym.policies.convert import DIGESTED
from thetagym.policies.stored import SPEC_FILE, WEIGHTS_FILE, record_digests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tables import as_yaml, tables

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
    parser.add_argument("--report", type=Path)
    args = parser.parse_args()

    args.agent.mkdir(parents=True, exist_ok=True)
    source = args.run if args.model == "final" else args.run / "best"
    for name in (WEIGHTS_FILE, SPEC_FILE):
        shutil.copyfile(source / name, args.agent / name)
    root = str(Path.cwd().resolve()) + "/"
    for name in COPIED:  # paths relative to the project, so the folder reads the same anywhere
        (args.agent / name).write_text((args.run / name).read_text().replace(root, ""))
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
    if args.report is not None:
        evaluation = yaml.safe_load((args.report / "config.yaml").read_text())
        text += yaml.safe_dump(
            {
                "evaluation_config": "experiments/reference_agent/evaluate.yaml",
                "evaluation_seed": evaluation["seed"],
                "evaluation_episodes_per_scenario": evaluation["episodes"],
                "evaluation_days": evaluation["days"],
            },
            sort_keys=False,
        )
        text += (
            "# [mean, 95% bootstrap low, high] per scenario and agent; 'all scenarios' pools every episode\n"
        )
        text += as_yaml(tables(args.report))
    (args.agent / "metadata.yaml").write_text(text)
    record_digests(args.agent, [name for name in DIGESTED if (args.agent / name).is_file()])


if __name__ == "__main__":
    main()
