"""Shared set-up of the advice tests: the repository's configs and examples, and advisors."""

from __future__ import annotations

from pathlib import Path

import pytest

from thetagym.advise import Advice, Advisor, CsvBroker
from thetagym.env.config import EnvConfig, load_env_config
from thetagym.evaluate.agents import load_policy
from thetagym.evaluate.config import AgentSpec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DEFAULT_ENV = ROOT / "configs/env/default.yaml"
LARGE_ENV = ROOT / "configs/env/large_book.yaml"
SMALL_BOOK = EXAMPLES / "small_book.csv"
SELLOFF = EXAMPLES / "market_selloff.csv"
MARKET_HEADER = "date,time,index,vix,vix3m,rate,vxx\n"
SELLOFF_ROW = "2026-12-03,12:45,5650.00,27.50,25.00,0.04,31.50\n"


def rules(name: str) -> Path:
    return ROOT / "configs/rules" / f"{name}.yaml"


def make_advisor(agent: str = "dynamic_exposure", env: Path | EnvConfig = DEFAULT_ENV) -> Advisor:
    config = env if isinstance(env, EnvConfig) else load_env_config(env)
    spec = AgentSpec.from_path(rules(agent))
    return Advisor(config, load_policy(spec, config.book), agent, str(env))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def selloff_market(tmp_path: Path) -> Path:
    return write(tmp_path / "market.csv", MARKET_HEADER + SELLOFF_ROW)


def advise_on(
    tmp_path: Path,
    positions: str,
    agent: str = "dynamic_exposure",
    market: str = SELLOFF_ROW,
    header: str = "",
) -> Advice:
    """The advice of ``agent`` on a positions file of ``positions`` (rows under the header; or the
    whole file ``header``) in the default book, in the sell-off market (or the row ``market``)."""
    text = header or "instrument,expiry,strike,quantity,average_price,layer\n" + positions
    book = write(tmp_path / "positions.csv", text)
    snapshot = write(tmp_path / "market.csv", MARKET_HEADER + market)
    return make_advisor(agent).advise(CsvBroker(book, snapshot))
