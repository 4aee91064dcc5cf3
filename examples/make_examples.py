"""Write the example book and market snapshot of ``thetagym advise`` (the files beside this one).

The book is the large book (``configs/env/large_book.yaml``) managed by the ``dynamic_exposure``
rules for ten trading days of a calm simulated market, read back as a broker would export it:
hundreds of legs, the wings, futures and VIX ETP untagged (the advice maps them to layers), the
condors tagged. The market snapshot gives what a trader has at hand (index, VIX, VIX3M, rate,
the ETP's price); ``option_quotes.csv`` holds implied volatilities of a few ES options.

    PYTHONPATH=src python examples/make_examples.py
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

import numpy as np

from thetagym.advise.episode import EpisodeBroker, agent_episode, write_market, write_positions
from thetagym.env.config import load_env_config
from thetagym.evaluate.agents import load_policy
from thetagym.evaluate.config import AgentSpec
from thetagym.market.surface import implied_volatility
from thetagym.pricing.instruments import InstrumentKind

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
SEED = 2026
START = "2026-11-19"
BARS = 10 * 4 + 2
UNTAGGED = ("put_wing", "call_wing", "futures", "vix_etp")
QUOTED_STRIKES = (-0.06, -0.03, 0.0, 0.03)


def main() -> None:
    config = load_env_config(ROOT / "configs/env/large_book.yaml")
    config = dataclasses.replace(
        config,
        scenario="calm",
        market=dataclasses.replace(config.market, start_date=START, initial_index=6000.0),
        path_extra_days=200,
    )
    agent = load_policy(AgentSpec.from_path(ROOT / "configs/rules/dynamic_exposure.yaml"), config.book)
    step = next(
        itertools.islice(agent_episode(config, agent, SEED, BARS + 1), BARS, None)
    )  # after BARS steps
    core = step.env.core
    broker = EpisodeBroker(core.book, step.broker.path, 0, step.broker.bar)  # no memory: a broker has none
    positions = [
        dataclasses.replace(
            p,
            layer="" if p.layer in UNTAGGED else p.layer,
            average_price=round(p.average_price, 2),
            quantity=round(p.quantity, 2) if p.instrument == "cash" else p.quantity,
            open_index=None,
            open_underlying=None,
        )
        for p in broker.positions()
    ]
    snapshot = broker.market()
    snapshot = dataclasses.replace(
        snapshot,
        index=round(snapshot.index or 0.0, 2),
        vix=round(snapshot.vix, 2),
        vix3m=round(snapshot.vix3m, 2),
        extra={name: round(snapshot.extra[name], 2) for name in ("vxx", "inverse_vix")},
    )
    legs = sum(p.instrument != "cash" for p in positions)
    write_positions(
        positions,
        HERE / "book_positions.csv",
        f"Example book for configs/env/large_book.yaml: {legs} positions and the account's cash.\n"
        "Written by examples/make_examples.py (a simulated book read back as a broker export).",
    )
    write_market(
        snapshot,
        HERE / "market_snapshot.csv",
        "Market snapshot for examples/book_positions.csv. Written by examples/make_examples.py.",
        state=("vxx", "inverse_vix"),
    )
    write_quotes(core, HERE / "option_quotes.csv")


def write_quotes(core: Any, path: Path) -> None:
    """Implied volatilities of the book's own surface at a few strikes of its first option expiries."""
    market, book, bar = core.market, core.book, int(core.bars[0])
    bpd = market.bars_per_day
    is_es_option = np.isin(book.layout.kind, (InstrumentKind.ES_CALL, InstrumentKind.ES_PUT))
    held = (np.asarray(book.quantity)[0] != 0) & is_es_option
    expiries = sorted({int(bar_) for bar_ in np.asarray(book.expiry_bar)[0][held]})[:3]
    surface = market.surface_at(np.array([0]), np.array([bar]))
    quarterly = market.next_expiry["quarterly"][0]
    lines = [
        "# Implied volatilities for examples/market_snapshot.csv; written by examples/make_examples.py.",
        "expiry,strike,right,iv",
    ]
    for expiry_bar in expiries:
        day = expiry_bar // bpd - 1
        years = float(market.time_to_bar(np.array(bar), np.array(expiry_bar)))
        future_years = market.time_to_bar(np.array(bar), np.array((int(quarterly[day]) + 1) * bpd))
        forward = float(
            market.es_future(np.array([0]), np.array([bar]), np.reshape(future_years, (1, 1)))[0, 0]
        )
        for offset in QUOTED_STRIKES:
            strike = round(forward * (1 + offset) / 5.0) * 5.0
            moneyness = np.log(np.array([[strike / forward]]))
            vol = float(implied_volatility(surface, moneyness, np.array([[years]]))[0, 0])
            lines.append(f"{market.dates[0, day]},{strike:g},{'put' if offset < 0 else 'call'},{vol:.4f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
