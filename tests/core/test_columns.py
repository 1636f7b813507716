"""The columns every rule shares: usable values, id keys and datetime arrays, worked out once."""

from datetime import date, datetime
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.core.columns import (
    RowValues,
    column_items,
    column_values,
    days,
    id_key,
    id_keys,
    is_midnight,
    moments,
)
from sync.core.headers import bind_workbook
from sync.core.model import RawSheet
from sync.core.parse import ParseContext
from sync.core.schema import Lang
from sync.core.tables import fill_blanks, parse_tables


def _follow_ups():
    sheet = RawSheet(
        "Follow-ups",
        [
            ["Lead ID", "Date", "Method", "Content"],
            [" ＬＤ-1 ", datetime(2026, 3, 2, 9, 30), "Call", "a"],
            ["LD-1", "not a date", "Call", "b"],
            ["ld-2", date(2026, 3, 3), "Visit", "c"],
        ],
    )
    tables, _ = parse_tables(bind_workbook([sheet], lang=Lang.EN), ParseContext(lang=Lang.EN))
    return tables["follow_ups"]


def test_id_keys_fold_width_case_and_spaces_and_blank_is_none() -> None:
    assert id_key("  Ａb-1 ") == "ab-1"
    assert id_key("   ") is None
    assert id_keys(["X", "x ", None, 7, 7.5]) == ["x", "x", None, "7", "7.5"]


def test_usable_blanks_cells_that_did_not_parse_and_is_worked_out_once() -> None:
    data = _follow_ups()
    usable = data.usable("date")
    assert usable == [datetime(2026, 3, 2, 9, 30), None, datetime(2026, 3, 3)]
    assert data.usable("date") is usable
    assert data.raw["date"][1] == "not a date"  # what the user typed is kept
    assert data.keys("lead_id") == ["ld-1", "ld-1", "ld-2"]
    assert data.usable("next_step") == [None, None, None]  # no such column: all blank


def test_moments_are_microsecond_datetimes_with_nat_for_blanks() -> None:
    data = _follow_ups()
    found = data.moments("date")
    assert found.dtype == np.dtype("datetime64[us]")
    assert found[0] == np.datetime64("2026-03-02T09:30")
    assert np.isnat(found[1])
    assert list(is_midnight(found)) == [False, False, True]
    assert days(found)[0] == np.datetime64("2026-03-02")
    assert moments([]).shape == (0,)


def test_fill_blanks_forgets_what_was_worked_out_from_the_old_values() -> None:
    data = _follow_ups()
    assert data.usable("content") == ["a", "b", "c"]
    before = data.usable("next_step")
    fill_blanks(data, {"next_step": {3: "call back"}}, ("next_step",))
    assert before == [None, None, None]
    assert data.usable("next_step") == [None, "call back", None]


def test_fill_blanks_leaves_a_cell_that_did_not_parse() -> None:
    # The write-back never overwrites "not a date": the table must not pretend it did.
    data = _follow_ups()
    fill_blanks(data, {"date": {3: datetime(2026, 3, 5), 4: datetime(2026, 3, 6)}}, ("date",))
    assert data.values["date"][1] is None and data.raw["date"][1] == "not a date"
    assert data.values["date"][2] == datetime(2026, 3, 3)  # not blank: kept as it was


def test_id_keys_keep_numbers_that_compare_equal_apart() -> None:
    assert id_keys([1, 1.0, True, "1"]) == ["1", "1.0", "true", "1"]


# --- RowValues: an owned column as rows and values side by side ---------------------------------

row_values = st.dictionaries(
    st.integers(2, 40), st.one_of(st.none(), st.text(max_size=2), st.integers(), st.floats())
)


@given(row_values)
def test_row_values_read_as_the_dict_of_their_pairs(by_row: dict[int, Any]) -> None:
    rows = sorted(by_row)
    column = RowValues(rows, [by_row[r] for r in rows])
    assert len(column) == len(by_row) and list(column) == rows
    assert column == {r: by_row[r] for r in rows}  # Mapping equality, value by value
    assert list(column_items(column)) == [(r, by_row[r]) for r in rows]
    assert column_values(column) == [by_row[r] for r in rows]
    assert all(r in column for r in rows) and 1 not in column and column.get(41) is None
    assert {**column} == by_row


@given(row_values, st.integers(0, 45), st.integers(0, 45))
def test_spread_lays_the_values_out_row_by_row(
    by_row: dict[int, Any], first: int, last: int
) -> None:
    rows = sorted(by_row)
    full, given_ = RowValues(rows, [by_row[r] for r in rows]).spread(first, last)
    span = range(first, last + 1)
    assert full.tolist() == [by_row.get(r) for r in span]
    assert given_.tolist() == [r in by_row for r in span]


def test_row_values_take_rows_ascending_each_once_one_value_each() -> None:
    for rows, values in (([3, 2], [1, 2]), ([2, 2], [1, 2]), ([2, 3], [1])):
        with pytest.raises(ValueError):
            RowValues(rows, values)
    # a value that is itself a sequence stays one value
    assert RowValues([2, 3], [(1, 2), [3]]).spread(2, 3)[0].tolist() == [(1, 2), [3]]


@given(row_values)
def test_row_values_of_a_dict_take_its_rows_in_order(by_row: dict[int, Any]) -> None:
    column = RowValues.of(by_row)
    assert list(column) == sorted(by_row) and column == by_row
    assert RowValues.of(column) is column
