"""Reading positions, market snapshots and quotes: good files in, one line per bad value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.advise.conftest import EXAMPLES, MARKET_HEADER, ROOT, SELLOFF_ROW, advise_on, make_advisor, write
from thetagym.advise import CsvBroker, InputError

HEADER = "instrument,expiry,strike,quantity,average_price,layer\n"
GOOD = "es_put,2026-12-18,5750,-4,22.50,\n"


def test_example_files_read_as_written() -> None:
    broker = CsvBroker(
        EXAMPLES / "book_positions.csv", EXAMPLES / "market_snapshot.csv", EXAMPLES / "option_quotes.csv"
    )
    positions = broker.positions()
    assert sum(p.instrument != "cash" for p in positions) == 333
    first = positions[0]
    assert (first.instrument, first.expiry.isoformat() if first.expiry else "", first.layer) == (
        "es_put",
        "2026-12-04",
        "condor_0",
    )
    assert first.source.line == 4  # two comment lines and the header come first
    market = broker.market()
    assert (market.index, market.vix, market.vix3m, market.rate) == (5971.42, 20.65, 21.9, 0.04)
    assert market.extra == {"vxx": 27.76, "inverse_vix": 87.96}
    assert len(market.quotes) == 12 and market.quotes[0].is_call is False


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            HEADER + "es_pt,2026-12-18,5750,-4,22.5,\n",
            "line 2 column 'instrument': 'es_pt' is not an instrument (did you mean 'es_put'?)",
        ),
        (
            HEADER + "es_put,2026-13-18,5750,-4,22.5,\n",
            "line 2 column 'expiry': '2026-13-18' is not a date: use YYYY-MM-DD",
        ),
        (HEADER + "es_put,2026-12-18,5750,four,22.5,\n", "line 2 column 'quantity': 'four' is not a number"),
        (
            HEADER + "es_put,2026-12-18,5750,-1.5,22.5,\n",
            "line 2 column 'quantity': '-1.5' is not a nonzero whole number",
        ),
        (HEADER + "es_put,2026-12-18,,-4,22.5,\n", "line 2 column 'strike': '' is empty: strike is required"),
        (
            "instrument,expiry,strike,average_price\n" + GOOD,
            "line 1 column 'quantity': 'instrument,expiry,strike,average_price' is a header without the column 'quantity'",
        ),
        (
            HEADER.replace("layer", "layr") + GOOD,
            "line 1 column 'layr': 'layr' is not a column (did you mean 'layer'?)",
        ),
        (
            HEADER + GOOD + "es_put,2026-12-18,5750,-4,22.5,1,2\n",
            "line 3: 'es_put,2026-12-18,5750,-4,22.5,1,2' has 7 fields for 6 columns",
        ),
    ],
)
def test_bad_positions_raise_one_line_naming_file_line_column_value(
    tmp_path: Path, rows: str, message: str
) -> None:
    path = write(tmp_path / "positions.csv", rows)
    with pytest.raises(InputError) as error:
        CsvBroker(path, tmp_path / "unused.csv").positions()
    text = str(error.value)
    assert text.startswith(f"{path} {message}"), text
    assert "\n" not in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            MARKET_HEADER + SELLOFF_ROW.replace("0.04", "4.3"),
            "line 2 column 'rate': '4.3' is above 1 (a decimal: 0.043 for 4.3%)",
        ),
        (
            MARKET_HEADER + SELLOFF_ROW.replace("12:45", "25:00"),
            "line 2 column 'time': '25:00' is not a time",
        ),
        (
            MARKET_HEADER + SELLOFF_ROW + SELLOFF_ROW,
            ": 2 data rows: a market snapshot is one row under the header",
        ),
        (
            MARKET_HEADER.replace("vix3m", "vix_3m") + SELLOFF_ROW,
            "line 1 column 'vix_3m': 'vix_3m' is not a column (did you mean 'vix3m'?)",
        ),
        (
            MARKET_HEADER.replace("index", "es") + SELLOFF_ROW.replace("5650.00", "-1"),
            "line 2 column 'es': -1.0 is not a positive price",
        ),
    ],
)
def test_bad_market_raises_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "market.csv", text)
    with pytest.raises(InputError) as error:
        CsvBroker(tmp_path / "unused.csv", path).market()
    assert str(error.value).startswith(f"{path}{'' if message.startswith(':') else ' '}{message}"), str(
        error.value
    )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "es_put,2026-12-19,5750,-4,22.5,\n",
            "column 'expiry': '2026-12-19' is not a trading day (a Saturday)",
        ),
        (
            "es_put,2026-11-27,5750,-4,22.5,\n",
            "column 'expiry': '2026-11-27' has expired (the market snapshot is of 2026-12-03)",
        ),
        ("es_put,2026-12-18,5750,-4,22.5,put_wng\n", "column 'layer': 'put_wng' is not a layer of"),
        (
            "es_call,2026-12-18,6250,-4,9.5,put_wing\n",
            "column 'layer': 'put_wing' cannot hold a short es_call (a put_wing layer)",
        ),
        (
            "vix_future,2026-12-16,,1,20.5,\n",
            "column 'instrument': 'vix_future' is held by no layer of a thetagym book",
        ),
        (
            "es_put,2026-12-18,5750,-4,22.5,put_wing\nes_put,2026-12-24,5700,-4,20,put_wing\n",
            "line 3 column 'layer': 'put_wing' has no free slot for this short es_put",
        ),
        (
            "es_put,2026-12-18,5750,-4,22.5,\ninverse_vix,,,100,80,\n",
            "column 'instrument': 'inverse_vix' (long inverse_vix) fits no free slot",
        ),
    ],
)
def test_positions_the_book_cannot_hold_raise_one_line(tmp_path: Path, row: str, message: str) -> None:
    with pytest.raises(InputError) as error:
        advise_on(tmp_path, row)
    text = str(error.value)
    assert text.startswith(f"{tmp_path / 'positions.csv'} line ") and message in text, text
    assert "\n" not in text
    if "put_wng" in message:
        assert "(did you mean 'put_wing'?)" in text


def test_etp_shares_need_their_price(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="column 'vxx': '' is missing: the book holds vxx shares"):
        advise_on(tmp_path, "vxx,,,-1000,27.4,\n", market="2026-12-03,12:45,5650,27.5,25,0.04,\n")


def test_command_reports_bad_input_in_one_line_without_a_traceback(tmp_path: Path) -> None:
    book = write(
        tmp_path / "positions.csv", HEADER + "es_put,2026-12-18,5750,-4,22.5,\nes_pt,2026-12-18,5700,-1,3,\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "thetagym",
            "advise",
            "--book",
            str(book),
            "--market",
            str(EXAMPLES / "market_selloff.csv"),
            "--agent",
            "configs/rules/dynamic_exposure.yaml",
            "--out",
            str(tmp_path / "out"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: {book} line 3 column 'instrument': 'es_pt' is not an instrument (did you mean 'es_put'?); "
        "known: es_future, es_call, es_put, vix_future, vix_call, vix_put, vxx, inverse_vix, cash"
    ]


def test_an_es_price_is_the_front_future_the_book_marks(tmp_path: Path) -> None:
    """Given the front ES future (December: more than 5 days away) instead of the index, the book's
    front future is marked at it."""
    market = "2026-12-03,12:45,6010.25,27.50,25.00,0.04,31.50\n"
    write(tmp_path / "market.csv", MARKET_HEADER.replace("index", "es") + market)
    broker = CsvBroker(
        write(tmp_path / "positions.csv", HEADER + "es_future,2026-12-18,,1,6000,\n"), tmp_path / "market.csv"
    )
    advice = make_advisor().advise(broker)
    assert advice.today.legs[0].mark == pytest.approx(6010.25, rel=1e-12)
    assert advice.market["index"] < 6010.25  # the index is below the future by the carry to December
