"""Cell writes in bulk: `RowWrites` indexes the plan's writes as the per-row dicts it replaces,
and `framed_texts` renders a column's numbers and dates as `framed_text` renders each."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.backends.xlsx_bulk import (
    MAX_COLS,
    MAX_ROWS,
    RowValues,
    RowWrites,
    framed_text,
    framed_texts,
    is_naive,
)
from sync.core.errors import SalesyncError
from sync.core.model import CellWrite

EDGE_FLOATS = [0.0, -0.0, 1.0, -1.0, 0.1, 2.5, 1e15, 1e15 - 1, -1e15, 1e16, 1e-300, 123456.789]
EDGE_FLOATS += [float("nan"), float("inf"), float("-inf"), 4503599627370496.5, 2.0**53]
EDGE_DAYS = [date(1899, 12, 30), date(1899, 12, 31), date(1900, 1, 1), date(1900, 2, 28)]
EDGE_DAYS += [date(1900, 3, 1), date(1903, 12, 31), date(1904, 1, 1), date(2026, 11, 23)]
EDGE_DAYS += [date(1, 1, 1), date(9999, 12, 31)]


def _as_dicts(cells: list[CellWrite]) -> dict[int, dict[int, CellWrite]]:
    out: dict[int, dict[int, CellWrite]] = {}
    for w in cells:
        out.setdefault(w.row, {})[w.col] = w  # the last write to a cell wins
    return out


@pytest.mark.parametrize("seed", range(20))
def test_row_writes_index_the_writes_as_dicts_by_row(seed: int) -> None:
    rng = random.Random(seed)
    cells = [
        CellWrite(rng.randint(1, 40), rng.randint(1, 12), rng.random())
        for _ in range(rng.randint(0, 300))
    ]
    writes = RowWrites(cells, "S")
    expected = _as_dicts(cells)
    assert writes == expected
    assert writes.rows == sorted(expected)
    assert [writes.first_cols[k] for k in range(len(writes))] == [min(expected[r]) for r in writes]
    assert [writes.last_cols[k] for k in range(len(writes))] == [max(expected[r]) for r in writes]
    assert 0 not in writes and 41 not in writes
    with pytest.raises(KeyError):
        writes[41]
    assert [writes.row_at(k) for k in range(len(writes))] == [expected[r] for r in writes.rows]
    ks = sorted(rng.sample(range(len(writes)), min(len(writes), 7)))
    places, bounds = writes.places(ks)
    got = writes.writes_at(places)
    want = [w for k in ks for _, w in sorted(expected[writes.rows[k]].items())]
    assert got == want
    assert bounds == [0, *accumulate(len(expected[writes.rows[k]]) for k in ks)]
    assert RowValues(writes) == {
        r: {c: w.value for c, w in cols.items()} for r, cols in expected.items()
    }


def test_row_writes_refuse_numbers_beyond_the_sheet() -> None:
    with pytest.raises(SalesyncError, match=r"S: cell \(1, 16385\) is outside"):
        RowWrites([CellWrite(1, MAX_COLS + 1, "x")], "S")
    with pytest.raises(SalesyncError, match=r"is outside"):
        RowWrites([CellWrite(1 << 70, 1, "x")], "S")
    assert RowWrites([CellWrite(MAX_ROWS, MAX_COLS, 1)], "S").live_bounds() == (
        MAX_ROWS,
        MAX_COLS,
        MAX_ROWS,
        MAX_COLS,
    )


@pytest.mark.parametrize("date1904", [False, True])
@pytest.mark.parametrize("size", [3, 200])  # below and above the bulk path's threshold
def test_framed_texts_edges(date1904: bool, size: int) -> None:
    floats = (EDGE_FLOATS * size)[:size] if size > len(EDGE_FLOATS) else EDGE_FLOATS[:size]
    ints = [0, -1, 7, 10**20, -(10**30)] * (size // 5 + 1)
    days = (EDGE_DAYS * (size // len(EDGE_DAYS) + 1))[:size]
    moments = [datetime.combine(d, datetime.min.time()) for d in days]
    moments += [datetime(1900, 2, 28, 23, 59, 59, 999_999), datetime(2026, 3, 4, 9, 30, 0, 1)]
    for kind, values in ((float, floats), (int, ints), (date, days), (datetime, moments)):
        assert framed_texts(kind, list(values), date1904) == [
            framed_text(v, date1904) for v in values
        ], kind


@given(st.lists(st.floats(), min_size=64, max_size=200))
def test_framed_texts_of_floats(values: list[float]) -> None:
    assert framed_texts(float, values, False) == [framed_text(v, False) for v in values]


@given(st.lists(st.datetimes(), min_size=64, max_size=150), st.booleans())
def test_framed_texts_of_datetimes(values: list[datetime], date1904: bool) -> None:
    assert framed_texts(datetime, values, date1904) == [framed_text(v, date1904) for v in values]


@given(st.lists(st.dates(), min_size=64, max_size=150), st.booleans())
def test_framed_texts_of_dates(values: list[date], date1904: bool) -> None:
    assert framed_texts(date, values, date1904) == [framed_text(v, date1904) for v in values]


def test_is_naive() -> None:
    naive = [datetime(2026, 1, 1) + timedelta(hours=h) for h in range(5)]
    assert is_naive(naive)
    assert not is_naive([*naive, datetime(2026, 1, 1, tzinfo=UTC)])
