"""The fast paths of the shared column helpers give what the plain per-cell definitions give:
same values, same types, same order, blanks and NaN included."""

import math
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.core.columns import MOMENT, each_distinct, each_once, id_key, id_keys, moments
from sync.core.model import ExcelError


class Label(str):
    """A text cell of its own type (equal to the plain text, yet told apart)."""


NAN = math.nan
CELLS = st.sampled_from(
    [
        "a",
        " A ",
        "Ａ",
        "",
        "1",
        "true",
        None,
        1,
        0,
        1.0,
        0.0,
        -0.0,
        NAN,
        True,
        False,
        date(2026, 3, 2),
        datetime(2026, 3, 2),
        datetime(2026, 3, 2, 9, 30),
        time(0),
        timedelta(0),
        Label("a"),
        ExcelError("#N/A"),
    ]
)
TEXTS = st.sampled_from(["L-1", " l-1 ", "Ｌ-1", "中-1", "", " ", "x\x00", "\ud800", None])


def typed_each_distinct(values, work):
    """The definition: cells are told apart by type and value, in first-seen order."""
    typed = [(type(v), v) for v in values]
    distinct = list(dict.fromkeys(typed))
    found = dict(zip(distinct, work([v for _, v in distinct]), strict=True))
    return [found[k] for k in typed]


def recorded(calls):
    def work(cells):
        calls.append(list(cells))
        return [(type(c).__name__, repr(c)) for c in cells]

    return work


def assert_identical(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert type(g) is type(w)
        assert g is w or g == w


FRESH_NAN = st.builds(float, st.just("nan"))  # a NaN object of its own


@settings(max_examples=500)
@given(st.lists(st.one_of(CELLS, FRESH_NAN), max_size=40))
def test_each_distinct_tells_cells_apart_as_the_typed_definition_does(values) -> None:
    got_calls, want_calls = [], []
    got = each_distinct(values, recorded(got_calls))
    want = typed_each_distinct(values, recorded(want_calls))
    assert got == want
    assert len(got_calls) == len(want_calls) == 1
    assert list(map(id, got_calls[0])) == list(map(id, want_calls[0]))  # first-seen cells


@pytest.mark.parametrize(
    ("values", "distinct"),
    [
        ([1, True, 1.0, 1], [1, True, 1.0]),  # equal numbers of different types
        (["a", Label("a"), "a"], ["a", Label("a")]),  # a text of its own type
        (
            [date(2026, 3, 2), datetime(2026, 3, 2), None, None],
            [date(2026, 3, 2), datetime(2026, 3, 2), None],
        ),
        ([0.0, -0.0, 0], [0.0, 0]),  # -0.0 == 0.0: one float
        ([], []),
    ],
)
def test_each_distinct_hands_work_the_first_seen_cells(values, distinct) -> None:
    calls = []
    each_distinct(values, recorded(calls))
    assert_identical(calls[0], distinct)


def test_each_distinct_keeps_each_nan_object_apart_as_a_dict_does() -> None:
    other_nan = float("nan")
    calls = []
    found = each_distinct([NAN, other_nan, NAN, 2.5], recorded(calls))
    assert len(calls[0]) == 3 and calls[0][0] is NAN and calls[0][1] is other_nan
    assert found[0] is found[2]


def test_each_once_works_each_blank_and_text_once_in_order() -> None:
    seen = []

    def work(cell):
        seen.append(cell)
        return cell

    assert each_once(["b", None, "", "b", None, "a"], work) == ["b", None, "", "b", None, "a"]
    assert seen == ["b", None, "", "a"]


@settings(max_examples=300)
@given(st.lists(TEXTS, max_size=30))
def test_id_keys_of_texts_are_id_key_of_each(values) -> None:
    assert_identical(id_keys(values), [id_key(v) for v in values])


@pytest.mark.parametrize(
    "values",
    [
        [],
        [None, None],  # a missing column
        ["", None, "  "],  # blanks
        [None, "A-1", " a-1 "],  # a blank before the first id
        ["A-1", 1, 1.0, True, None],  # numbers typed in an id column
        [Label("A-1"), "a-1", ExcelError("#N/A")],
    ],
)
def test_id_keys_edge_cases(values) -> None:
    assert_identical(id_keys(values), [id_key(v) for v in values])


def test_id_keys_share_one_key_per_distinct_id() -> None:
    keys = id_keys(["A-1", "B-2", " a-1", None, "A-1"])
    assert keys == ["a-1", "b-2", "a-1", None, "a-1"]
    assert keys[0] is keys[4]  # the same id: the same key, so later look-ups match at once


def pandas_moments(values):
    """The definition: pandas' conversion of the whole column."""
    found = pd.to_datetime(pd.Series(values, dtype=object)).to_numpy()
    return found.astype(MOMENT, copy=False)


MOMENT_CELLS = st.one_of(
    st.none(),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 12, 31)),
)


@settings(max_examples=300)
@given(st.lists(MOMENT_CELLS, min_size=1, max_size=60))
def test_moments_are_pandas_conversion_of_the_column(values) -> None:
    found = moments(values)
    assert found.dtype == np.dtype(MOMENT)
    assert found.view(np.int64).tolist() == pandas_moments(values).view(np.int64).tolist()


@pytest.mark.parametrize(
    ("values", "want"),
    [
        ([], []),
        ([None, None], ["NaT", "NaT"]),  # blank or unreadable cells, a missing column
        ([date(2026, 3, 2)] * 60, ["2026-03-02T00:00"] * 60),  # a repeated date
        (
            [datetime(2026, 3, 2, 9, 30, 0, 5), None, date(2026, 3, 2), NAN],
            ["2026-03-02T09:30:00.000005", "NaT", "2026-03-02T00:00", "NaT"],
        ),
    ],
)
def test_moments_edge_cases(values, want) -> None:
    found = moments(values)
    assert found.dtype == np.dtype(MOMENT)
    assert found.view(np.int64).tolist() == np.array(want, dtype=MOMENT).view(np.int64).tolist()
