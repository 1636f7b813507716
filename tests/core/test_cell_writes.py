"""`CellWrites`, the plan's writes of a tab kept as lists: read as the list of `CellWrite`s it
stands for, whichever way it was filled."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.backends import gsheets
from sync.backends.xlsx_bulk import RowWrites
from sync.core.model import CellWrite, CellWrites

_values = st.one_of(st.none(), st.text(max_size=3), st.integers(-5, 5), st.booleans())
_write = st.builds(
    CellWrite,
    st.integers(1, 40),
    st.integers(1, 6),
    _values,
    st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))),
)
_column = st.tuples(
    st.lists(st.integers(1, 40), max_size=8), st.integers(1, 6), st.randoms(use_true_random=False)
)
_steps = st.lists(st.one_of(_write, _column), max_size=12)


def _filled(steps: list[Any]) -> tuple[CellWrites, list[CellWrite]]:
    """The same steps taken by a `CellWrites` and by a plain list."""
    writes, expected = CellWrites(), []
    for step in steps:
        if isinstance(step, CellWrite):
            writes.append(step)
            expected.append(step)
        else:
            rows, col, rng = step
            values = [rng.choice([None, "x", 3, True]) for _ in rows]
            writes.add_column(rows, col, values)
            expected += [CellWrite(r, col, v) for r, v in zip(rows, values, strict=True)]
    return writes, expected


@given(_steps)
def test_it_reads_as_the_list_of_its_writes(steps: list[Any]) -> None:
    writes, expected = _filled(steps)
    assert len(writes) == len(expected) and bool(writes) == bool(expected)
    assert list(writes) == expected and writes == expected and expected == writes
    assert writes == CellWrites(expected) and writes != tuple(expected)
    assert all(type(w) is CellWrite for w in writes)
    for i in range(-len(expected), len(expected)):
        assert writes[i] == expected[i]
    assert writes[1:-1:2] == expected[1:-1:2] and writes[::-1] == expected[::-1]
    for i in (len(expected), -len(expected) - 1):
        with pytest.raises(IndexError):
            writes[i]
    rows, cols, values, likes = writes.lists()
    assert [(w.row, w.col, w.value) for w in expected] == list(zip(rows, cols, values, strict=True))
    assert likes == {i: w.style_like for i, w in enumerate(expected) if w.style_like}
    if expected:
        assert writes != expected[:-1] and writes != [*expected[:-1], CellWrite(0, 0, "other")]


@given(_steps)
def test_the_xlsx_writer_indexes_it_as_it_indexes_the_list(steps: list[Any]) -> None:
    writes, expected = _filled(steps)
    from_lists, from_list = RowWrites(writes, "t"), RowWrites(expected, "t")
    assert list(from_lists) == list(from_list)
    assert [dict(from_lists[r]) for r in from_lists] == [dict(from_list[r]) for r in from_list]
    assert from_lists.live_bounds() == from_list.live_bounds()
    places = list(range(len(from_list.order)))
    found = from_lists.values_at(np.asarray(places, dtype=int))
    assert list(zip(*found, strict=True)) == [
        (w.value, w.style_like) for w in from_list.writes_at(places)
    ]


@given(_steps)
def test_the_google_writer_reads_it_as_it_reads_the_list(steps: list[Any]) -> None:
    writes, expected = _filled(steps)
    assert gsheets._lists(writes) == gsheets._lists(expected) == writes.lists()


def test_a_column_needs_a_value_per_row() -> None:
    with pytest.raises(ValueError, match="2 rows for 1 values"):
        CellWrites().add_column([1, 2], 3, ["x"])
