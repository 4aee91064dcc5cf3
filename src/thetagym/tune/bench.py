"""Trials per minute of a tune config's study, by engine and worker count (held-out evaluation and
outputs left out; engine start-up timed apart).

    python -m thetagym.tune.bench configs/tune/dynamic_exposure.yaml --trials 64 --workers 1 2

Every run must choose the same best trial; the table says so in its last column.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from thetagym.config import read_yaml
from thetagym.engines import ENGINES, make_engine
from thetagym.env.warm_up import compile_kernels
from thetagym.tune.config import load_tune_config
from thetagym.tune.study import open_study, run_study, select_best, storage_url, trials_table


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark with the command-line arguments ``argv`` (None: the process's)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", type=Path)
    parser.add_argument("--trials", type=int, default=64)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    args = parser.parse_args(argv)
    config = load_tune_config(args.config)
    rules = read_yaml(config.rules)
    print(f"{'engine':<7} {'workers':>7} {'start s':>8} {'trials s':>9} {'trials/min':>11}  best trial")
    for engine in args.engines:
        for workers in args.workers:
            with tempfile.TemporaryDirectory() as folder:
                study = open_study(config, storage_url(config, Path(folder)), resume=False)
                started = time.perf_counter()
                with make_engine(engine, workers, prepare=compile_kernels) as runner:
                    ready = time.perf_counter()
                    run_study(config, study, runner, rules, args.trials)
                    done = time.perf_counter()
                best = select_best(trials_table(study))
            number = "none" if best is None else int(best["number"])
            rate = 60 * args.trials / (done - ready)
            print(
                f"{engine:<7} {workers:>7} {ready - started:>8.1f} {done - ready:>9.1f} {rate:>11.1f}  {number}",
                flush=True,
            )


if __name__ == "__main__":
    main()
