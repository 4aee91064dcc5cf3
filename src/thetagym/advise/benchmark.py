"""Speed of ``thetagym advise`` on a large book, after the kernels are warm.

    python -m thetagym.advise.benchmark --legs 500 --repeat 20

The book is ``configs/env/large_book.yaml`` with its condor and wing ladders lengthened until its
structures hold at least ``--legs`` legs, opened on a simulated path and read back as a broker
export (:class:`~thetagym.advise.episode.EpisodeBroker`); its CSV files are written and read too.
One advice is made first (kernels and book tables warm), then ``--repeat`` are timed; the figures
are the median and the fastest, in milliseconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from thetagym.advise.advisor import Advisor
from thetagym.advise.csv_adapter import CsvBroker
from thetagym.advise.episode import EpisodeBroker, write_market, write_positions
from thetagym.book import Book, BookConfig
from thetagym.book.config import slot_count
from thetagym.env.config import EnvConfig, load_env_config
from thetagym.evaluate.agents import load_policy
from thetagym.evaluate.config import AgentSpec
from thetagym.market.simulator import simulate

ROOT = Path(__file__).resolve().parents[3]
BOOK = ROOT / "configs/env/large_book.yaml"
RULES = ROOT / "configs/rules/dynamic_exposure.yaml"
SEED = 7


def sized_config(config: EnvConfig, legs: int) -> EnvConfig:
    """``config`` with its condor and wing ladders lengthened (one rung at a time, condors first)
    until its structures hold at least ``legs`` legs; caps raised so the opened book is within them."""
    book = config.book
    layers = list(book.layers)

    def opened_legs() -> int:
        return sum(layer.standard_leg_count * layer.rungs for layer in layers if layer.open_at_reset)

    while opened_legs() < legs:
        for index, layer in enumerate(layers):
            if layer.kind in ("condor", "put_wing", "call_wing") and layer.rungs < 64:
                rungs = layer.rungs + 1
                cap = max(layer.max_contracts, 2 * layer.contracts * layer.standard_leg_count * rungs)
                layers[index] = dataclasses.replace(layer, rungs=rungs, max_contracts=cap)
                if opened_legs() >= legs:
                    break
    slots = sum(slot_count(layer) for layer in layers)
    guard = dataclasses.replace(book.guard, book_max_contracts=max(book.guard.book_max_contracts, 2 * slots))
    sized = BookConfig(**{**vars(book), "layers": tuple(layers), "max_legs": slots, "guard": guard})
    return dataclasses.replace(config, book=sized)


def opened_book(config: EnvConfig) -> EpisodeBroker:
    """The book of ``config`` opened at bar 1 of a simulated calm path, as a broker."""
    reach = max(layer.max_days + (layer.rungs - 1) * layer.rung_spacing_days for layer in config.book.layers)
    market = simulate(config.market, "calm", reach + 140, [SEED])
    book = Book(config.book, 1)
    book.reset(np.array([0]), market, np.array([1]))
    book.action_masks(market, np.array([1]))
    return EpisodeBroker(book, market, 0, 1)


def run(legs: int, repeat: int) -> dict[str, float]:
    config = sized_config(load_env_config(BOOK), legs)
    broker = opened_book(config)
    positions, snapshot = broker.positions(), broker.market()
    held = sum(p.instrument != "cash" for p in positions)
    advisor = Advisor(
        config, load_policy(AgentSpec.from_path(RULES), config.book), "dynamic_exposure", str(BOOK)
    )
    advisor.advise_on(positions, snapshot)  # warm: kernels loaded, book tables built
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        advisor.advise_on(positions, snapshot)
        timings.append(1000.0 * (time.perf_counter() - started))
    with tempfile.TemporaryDirectory() as folder:
        book_csv = write_positions(positions, Path(folder) / "positions.csv")
        market_csv = write_market(snapshot, Path(folder) / "market.csv")
        started = time.perf_counter()
        csv = CsvBroker(book_csv, market_csv)
        csv.positions(), csv.market()
        reading = 1000.0 * (time.perf_counter() - started)
    return {
        "legs": float(held),
        "advice_median_ms": statistics.median(timings),
        "advice_fastest_ms": min(timings),
        "csv_read_ms": reading,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--legs", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    figures = run(args.legs, args.repeat)
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"advice on a {figures['legs']:.0f}-leg book: median {figures['advice_median_ms']:.0f} ms, "
        f"fastest {figures['advice_fastest_ms']:.0f} ms over {args.repeat} runs (kernels warm); "
        f"reading its CSV files {figures['csv_read_ms']:.0f} ms"
    )


if __name__ == "__main__":
    main()
