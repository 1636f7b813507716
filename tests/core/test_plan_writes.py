"""Writes for owned columns the rows do not reach yet (a first sync): the values alone decide,
blank ones left out, in row order, within the table, each value kept as computed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.core.headers import bind_workbook
from sync.core.model import CellWrite, RawSheet
from sync.core.parse import ParseContext
from sync.core.plan import Planned, plan_sync
from sync.core.schema import Lang
from sync.core.tables import parse_tables

HEADERS: list[Any] = ["Lead ID", "Source", "Customer", "Owner", "Created at", "BANT class"]
DAYS, GROUP = 7, 8  # the columns the first and second missing owned column are added at


def lead(lead_id: str) -> list[Any]:
    return [lead_id, "Website", "Acme", "Li Lei", datetime(2026, 6, 1, 9), "A"]


def plan(values: dict[str, dict[int, Any]], leads: int = 4, end_row: int | None = None) -> Planned:
    raw = RawSheet("Leads", [HEADERS, *(lead(f"L{n}") for n in range(leads))])
    binding = bind_workbook([raw], lang=Lang.EN)
    binding.tables["leads"].end_row = end_row
    tables, _ = parse_tables(binding, ParseContext(lang=Lang.EN))
    return plan_sync(binding, tables, {"leads": values}, [], Lang.EN)


def data_writes(planned: Planned) -> list[tuple[int, int, Any]]:
    """The writes under the header row, as (row, column, value)."""
    return [(w.row, w.col, w.value) for w in planned.plan.cells.get("Leads", []) if w.row > 1]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param({2: 3, 3: 0, 4: 1.5}, [(2, 3), (3, 0), (4, 1.5)], id="filled-in-order"),
        pytest.param({4: "c", 2: "a", 3: "b"}, [(2, "a"), (3, "b"), (4, "c")], id="out-of-order"),
        pytest.param({2: None, 3: "", 4: " ", 5: 0}, [(4, " "), (5, 0)], id="blank-left-out"),
        pytest.param({2: "a", 9: "far below"}, [(2, "a"), (9, "far below")], id="below-rows"),
        pytest.param({}, [], id="no-values"),
    ],
)
def test_values_for_a_new_column(values: dict[int, Any], expected: list[Any]) -> None:
    writes = data_writes(plan({"days_in_pipeline": values}))
    assert writes == [(row, DAYS, value) for row, value in expected]
    assert [type(w[2]) for w in writes] == [type(v) for _, v in expected]


def test_dates_and_datetimes_are_written_as_computed() -> None:
    values = {2: date(2026, 6, 1), 3: datetime(2026, 6, 1), 4: datetime(2026, 6, 1, 9, 30)}
    writes = data_writes(plan({"days_in_pipeline": values}))
    assert [(w[0], type(w[2])) for w in writes] == [(2, date), (3, datetime), (4, datetime)]
    assert [w[2] for w in writes] == list(values.values())


@pytest.mark.parametrize(
    "values",
    [{2: 1, 3: 2, 4: 3, 5: 4}, {5: 4, 4: 3, 3: 2, 2: 1}, {2: 1, 3: None, 4: 3, 5: 4}],
    ids=["in-order", "out-of-order", "with-a-blank"],
)
def test_values_for_a_new_column_stop_where_the_table_ends(values: dict[int, Any]) -> None:
    writes = data_writes(plan({"days_in_pipeline": values}, end_row=4))
    assert writes == [(row, DAYS, values[row]) for row in (2, 3) if values[row] is not None]


def test_two_new_columns_are_added_side_by_side_each_under_its_header() -> None:
    planned = plan({"days_in_pipeline": {3: 12, 2: 5}, "duplicate_group": {4: "G1"}})
    assert planned.plan.cells["Leads"] == [
        CellWrite(1, DAYS, "⚙ Days in pipeline", style_like=(1, 6)),
        CellWrite(2, DAYS, 5),
        CellWrite(3, DAYS, 12),
        CellWrite(1, GROUP, "⚙ Duplicate group", style_like=(1, 6)),
        CellWrite(4, GROUP, "G1"),
    ]
    assert all(type(w) is CellWrite for w in planned.plan.cells["Leads"])


def test_an_empty_table_gets_its_values_below_the_header() -> None:
    writes = data_writes(plan({"days_in_pipeline": {3: 7, 2: None}}, leads=0))
    assert writes == [(3, DAYS, 7)]


@given(
    st.dictionaries(
        st.integers(0, 12),
        st.sampled_from([None, "", " ", "x", 0, 1.5, False, date(2026, 6, 1)]),
        max_size=12,
    ),
    st.sampled_from([None, 3, 6]),
)
def test_new_column_writes_are_the_non_blank_values_within_the_table_in_row_order(
    values: dict[int, Any], end_row: int | None
) -> None:
    last = (end_row or 1 << 62) - 1
    expected = [
        (row, DAYS, values[row])
        for row in sorted(values)
        if 2 <= row <= last and values[row] is not None and values[row] != ""
    ]
    assert data_writes(plan({"days_in_pipeline": values}, end_row=end_row)) == expected
