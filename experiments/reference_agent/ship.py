"""Copy a training run into agents/<name>/ and write its metadata.yaml.

    python experiments/reference_agent/ship.py RUN_DIR AGENT_DIR --model model.zip \
        --seconds 396.7 --steps 2007040 [--report reports/reference_agent]

The ``benchmark`` verdict at the end of metadata.yaml is written by hand after this.
``--seconds`` and ``--steps`` are the figures of the ``thetagym train`` final line ("done: N steps in
S s"); with ``--report`` the evaluation summary (tables.py) goes into the metadata too.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tables import as_yaml, tables

COPIED = ("spaces.yaml", "config.yaml", "env.yaml", "evaluations.csv")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run", type=Path)
    parser.add_argument("agent", type=Path)
    parser.add_argument("--model", default="model.zip", help="model.zip (final) or best_model.zip")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--report", type=Path)
    args = parser.parse_args()

    args.agent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.run / args.model, args.agent / "model.zip")
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
        "model": f"{args.model} of the run (final weights)"
        if args.model == "model.zip"
        else f"{args.model} of the run (best periodic evaluation)",
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


if __name__ == "__main__":
    main()
