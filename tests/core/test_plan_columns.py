"""The write plan compared column by column: which owned cells change, the Issues tab, owned
tabs, and the values the messages show."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sync.core.plan as plan_module
from sync.core.columns import RowValues
from sync.core.headers import bind_workbook
from sync.core.issues import display_value, make_issue
from sync.core.model import CellWrite, ExcelError, RawSheet
from sync.core.outputs import reconciliation_column
from sync.core.parse import ParseContext, is_blank
from sync.core.plan import Planned, changed, issue_rows, plan_owned_tab, plan_sync, same_value
from sync.core.schema import Lang
from sync.core.sla import merge_computed
from sync.core.tables import parse_tables

HEADERS: list[Any] = ["Lead ID", "Source", "Customer", "Owner", "Created at", "BANT class"]
OWNED: list[Any] = ["⚙ Follow-ups", "⚙ Last follow-up", "⚙ Next step due"]
COUNT, LAST, DUE = 7, 8, 9  # the owned columns' numbers in `sheet()`
BANT = 6


class Color(StrEnum):
    RED = "red"


def lead(lead_id: str, *owned: Any) -> list[Any]:
    return [lead_id, "Website", "Acme", "Li Lei", datetime(2026, 6, 1, 9), "A", *owned]


def sheet(*rows: list[Any], formulas: frozenset[tuple[int, int]] = frozenset()) -> RawSheet:
    return RawSheet("Leads", [HEADERS + OWNED, *rows], formulas=formulas)


def plan(raw: RawSheet, values: dict[str, Mapping[int, Any]]) -> Planned:
    binding = bind_workbook([raw], lang=Lang.EN)
    tables, _ = parse_tables(binding, ParseContext(lang=Lang.EN))
    return plan_sync(binding, tables, {"leads": values}, [], Lang.EN)


def cells(planned: Planned) -> list[tuple[int, int, Any]]:
    return [(w.row, w.col, w.value) for w in planned.plan.cells.get("Leads", [])]


# --- changed: the bulk comparison is same_value, cell by cell ---------------------------------

cell_values = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "\u3000", "a", "A", "1", Color.RED, "red"]),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.0, 1.0, 2.5, 1.0000000000001, float("nan"), float("inf")]),
    st.sampled_from([date(2026, 6, 1), date(2026, 6, 2)]),
    st.sampled_from(
        [
            datetime(2026, 6, 1),
            datetime(2026, 6, 1, 9, 30),
            datetime(2026, 6, 1, 9, 30, 0, 500),
            pd.Timestamp(2026, 6, 1, 9, 30),
        ]
    ),
    st.sampled_from([timedelta(hours=1), ExcelError("#N/A")]),
)


@given(st.lists(st.tuples(cell_values, cell_values), max_size=40))
def test_changed_is_same_value_cell_by_cell(pairs: list[tuple[Any, Any]]) -> None:
    current, desired = [c for c, _ in pairs], [d for _, d in pairs]
    expected = [i for i, (c, d) in enumerate(pairs) if not same_value(c, d)]
    assert changed(current, desired) == expected


@given(st.lists(st.tuples(cell_values, cell_values), max_size=40), st.integers(1, 5))
def test_changed_block_by_block_is_same_value_cell_by_cell(
    pairs: list[tuple[Any, Any]], block: int
) -> None:
    """Blocks of a few cells, some alike and passed over, some not: the same positions."""
    current, desired = [c for c, _ in pairs], [d for _, d in pairs]
    expected = [i for i, (c, d) in enumerate(pairs) if not same_value(c, d)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plan_module, "_BLOCK", block)
        assert changed(current, desired) == expected


@given(st.lists(st.sampled_from(["a", "", None, 1, 2.5, float("nan")]), max_size=30))
def test_changed_passes_over_blocks_alike(values: list[Any]) -> None:
    """Plain values (a NaN found in both lists as the very same object among them) against
    themselves, a block of two at a time."""
    expected = [i for i, v in enumerate(values) if not same_value(v, v)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plan_module, "_BLOCK", 2)
        assert changed(values, list(values)) == expected


@pytest.mark.parametrize(
    ("current", "desired", "writes"),
    [
        ([None, None, None], [None, "", "x"], [2]),  # an empty column: only values
        (["", "", " "], [None, "", None], []),  # blank is blank
        ([3.0, 3, 1], [3, 3.0, True], [2]),  # int and float alike, bool is not a number
        ([datetime(2026, 6, 1)], [date(2026, 6, 1)], []),  # a date reads back as midnight
        ([datetime(2026, 6, 1, 9, 0, 0, 10)], [datetime(2026, 6, 1, 9)], []),
        (["red"], [Color.RED], [0]),  # equal, but not of one type
        ([float("nan"), float("nan")], [None, 1.0], [1]),  # NaN is a blank cell
        ([], [], []),
    ],
)
def test_changed(current: list[Any], desired: list[Any], writes: list[int]) -> None:
    assert changed(current, desired) == writes


_grid_cells = st.one_of(cell_values, st.sampled_from(["", None, "x"]))
_grids = st.lists(st.lists(_grid_cells, max_size=4), max_size=9)


def _reads_as(current: list[list[Any]], desired: list[list[Any]]) -> bool:
    """A tab reads as `desired`: blank cells at the ends of rows and blank rows at the bottom
    aside, cell by cell by `same_value` (the reference `_grid_equals` is held to)."""

    def trimmed(rows: list[list[Any]]) -> list[list[Any]]:
        out = [list(row) for row in rows]
        for row in out:
            while row and is_blank(row[-1]):
                row.pop()
        while out and not out[-1]:
            out.pop()
        return out

    have, want = trimmed(current), trimmed(desired)
    if [len(row) for row in have] != [len(row) for row in want]:
        return False
    return all(
        same_value(cell, value)
        for row, wanted in zip(have, want, strict=True)
        for cell, value in zip(row, wanted, strict=True)
    )


@given(_grids, _grids, st.booleans(), st.integers(1, 4), st.randoms(use_true_random=False))
def test_an_owned_tab_is_unchanged_when_it_reads_cell_by_cell_as_planned(
    current: list[list[Any]],
    desired: list[list[Any]],
    by_column: bool,
    rows_at_once: int,
    rng: Any,
) -> None:
    """`_grid_equals`, which counts rows first and compares a block of rows at a time, says
    what comparing every cell says, on lists of rows and on a grid kept by column."""
    from sync.core import plan as plan_module
    from sync.core.model import ColumnGrid

    if rng.random() < 0.5:  # often the same tab, a cell or a blank tail apart
        desired = [list(row) for row in current]
        if desired and rng.random() < 0.5:
            row = rng.randrange(len(desired))
            desired[row] = [*desired[row], rng.choice(["", None, "x", 1])]
        if rng.random() < 0.3:
            desired.append(rng.choice([[], [""], [None, ""], ["y"]]))
    width = max(map(len, current), default=0)
    grid: Any = current
    if by_column and width:
        padded = [[*row, *[""] * (width - len(row))] for row in current]
        grid = ColumnGrid([list(column) for column in zip(*padded, strict=True)])
    saved = plan_module._ROWS_AT_ONCE
    plan_module._ROWS_AT_ONCE = rows_at_once
    try:
        found = plan_module._grid_equals(grid, tuple(map(tuple, desired)))
    finally:
        plan_module._ROWS_AT_ONCE = saved
    assert found == _reads_as(current, desired)


# --- owned columns ------------------------------------------------------------------------------


def test_only_cells_that_change_are_written_and_stale_ones_are_cleared() -> None:
    raw = sheet(
        lead("L1", 3.0, datetime(2026, 6, 2, 9), date(2026, 6, 9)),  # all as computed
        lead("L2", 1.0, "", ""),  # count changes, due is new
        lead("L3", 5.0, datetime(2026, 6, 3), "old"),  # no values any more: cleared
        lead("L4"),  # a short row: its owned cells are blank
    )
    values: dict[str, dict[int, Any]] = {
        "follow_up_count": {2: 3, 3: 2, 5: 1},
        "last_follow_up_at": {2: datetime(2026, 6, 2, 9)},
        "next_step_due": {2: date(2026, 6, 9), 3: date(2026, 6, 10)},
    }
    assert cells(plan(raw, values)) == [
        (3, COUNT, 2),
        (4, COUNT, None),
        (5, COUNT, 1),
        (4, LAST, None),
        (3, DUE, date(2026, 6, 10)),
        (4, DUE, None),
    ]


def test_values_below_the_last_row_are_written() -> None:
    planned = plan(sheet(lead("L1")), {"follow_up_count": {2: 1, 4: 2}})
    assert cells(planned) == [(2, COUNT, 1), (4, COUNT, 2)]


def test_a_missing_owned_column_is_added_right_of_the_table_with_its_header() -> None:
    raw = RawSheet("Leads", [HEADERS, lead("L1"), lead("L2")])
    planned = plan(raw, {"days_in_pipeline": {2: None, 3: 12}, "duplicate_group": {2: None}})
    writes = planned.plan.cells["Leads"]
    assert writes == [
        CellWrite(1, 7, "⚙ Days in pipeline", style_like=(1, 6)),
        CellWrite(3, 7, 12),
    ]  # duplicate_group has nothing to say: no column for it yet


def test_values_for_an_empty_column_are_written_in_row_order_blank_ones_left_out() -> None:
    # Every row stops short of the owned columns: the values alone decide, in any order.
    raw = sheet(lead("L1"), lead("L2"), lead("L3"), lead("L4"))
    values = {"follow_up_count": {5: 4, 2: 0, 4: "", 3: None, 7: 2.5}}
    writes = plan(raw, values).plan.cells["Leads"]
    assert writes == [CellWrite(2, COUNT, 0), CellWrite(5, COUNT, 4), CellWrite(7, COUNT, 2.5)]
    assert [type(w.value) for w in writes] == [int, int, float]
    assert all(type(w) is CellWrite and w.style_like is None for w in writes)


def test_values_for_an_empty_column_stop_where_the_table_ends() -> None:
    binding = bind_workbook([sheet(lead("L1"), lead("L2"), lead("L3"))], lang=Lang.EN)
    binding.tables["leads"].end_row = 4  # a section of the same tab starts below row 3
    tables, _ = parse_tables(binding, ParseContext(lang=Lang.EN))
    values = {"leads": {"follow_up_count": {4: 9, 3: 2, 2: 1}}}
    planned = plan_sync(binding, tables, values, [], Lang.EN)
    assert cells(planned) == [(2, COUNT, 1), (3, COUNT, 2)]


def test_a_formula_in_an_empty_column_is_kept_and_reported() -> None:
    raw = sheet(lead("L1"), lead("L2"), lead("L3"), formulas=frozenset({(3, COUNT)}))
    planned = plan(raw, {"follow_up_count": {4: 7, 3: 5, 2: 1}})
    flags = 10  # the ⚙ Flags column, added right of the table
    assert cells(planned) == [
        (2, COUNT, 1),
        (4, COUNT, 7),
        (1, flags, "⚙ Flags"),
        (3, flags, "formula kept"),
    ]
    assert [(i.code, i.row) for i in planned.issues] == [("formula-in-owned-column", 3)]


def test_a_cell_write_reads_by_name_and_compares_as_its_fields() -> None:
    write = CellWrite(2, 5, "⚙ Flags", style_like=(2, 4))
    assert (write.row, write.col, write.value, write.style_like) == (2, 5, "⚙ Flags", (2, 4))
    assert write == CellWrite(2, 5, "⚙ Flags", (2, 4)) != CellWrite(2, 5, "⚙ Flags")
    assert len({write, CellWrite(2, 5, "⚙ Flags", (2, 4))}) == 1


def test_formula_cells_in_owned_columns_are_kept_and_reported_when_they_differ() -> None:
    raw = sheet(lead("L1", 4.0), lead("L2", 9.0), formulas=frozenset({(2, COUNT), (3, COUNT)}))
    planned = plan(raw, {"follow_up_count": {2: 4, 3: 5}})
    flags = 10  # the ⚙ Flags column, added right of the table
    assert cells(planned) == [(1, flags, "⚙ Flags"), (3, flags, "formula kept")]
    found = [(i.code, i.row, i.column, i.value) for i in planned.issues]
    assert found == [("formula-in-owned-column", 3, "G", "9")]


def test_a_job_if_blank_column_fills_blank_cells_only() -> None:
    raw = RawSheet(
        "Leads",
        [HEADERS, lead("L1"), lead("L2"), lead("L3"), lead("L4"), ["L5"]],
        formulas=frozenset({(5, BANT)}),
    )
    for row, value in ((2, "B"), (3, ""), (4, " "), (5, None)):
        raw.rows[row - 1][BANT - 1] = value
    planned = plan(raw, {"bant_class": {2: "A", 3: "A", 4: "B", 5: "C", 6: "D"}})
    assert cells(planned) == [(3, BANT, "A"), (4, BANT, "B"), (6, BANT, "D")]


@given(
    st.lists(
        st.tuples(st.sampled_from([None, "", 2.0, "x"]), st.sampled_from([None, "", 2, "y"])),
        max_size=12,
    )
)
def test_a_second_plan_after_writing_the_first_is_empty(pairs: list[tuple[Any, Any]]) -> None:
    raw = sheet(*(lead(f"L{i}", current) for i, (current, _) in enumerate(pairs)))
    values = {"follow_up_count": {i + 2: desired for i, (_, desired) in enumerate(pairs)}}
    for write in cells(plan(raw, values)):
        row, col, value = write
        raw.rows[row - 1][col - 1] = value
    assert cells(plan(raw, values)) == []


# --- the Issues tab and other owned tabs ---------------------------------------------------------


def test_issue_rows_show_one_issue_a_row_under_the_header() -> None:
    issues = [
        make_issue("required", Lang.EN, tab="Leads", row=5, column="C", header="Customer"),
        make_issue("missing-tab", Lang.EN, tab="Reps", params={"table": "Reps"}),
    ]
    assert issue_rows(issues, Lang.EN) == (
        ("Severity", "Code", "Tab", "Row", "Column", "Header", "Value", "Message"),
        ("Error", "required", "Leads", 5, "C", "Customer", None, "Customer is required but blank."),
        ("Info", "missing-tab", "Reps", None, None, None, None, issues[1].message),
    )


def owned_tab(rows: list[list[Any]], desired: list[list[Any]]) -> Any:
    binding = bind_workbook([RawSheet("Performance", rows), sheet(lead("L1"))], lang=Lang.EN)
    return plan_owned_tab(binding, "performance", desired, Lang.EN, with_header=False)


@pytest.mark.parametrize(
    ("current", "desired"),
    [
        ([["a", 1.0, ""], ["b", "", ""], [], ["", None]], [["a", 1], ["b"]]),  # blank ends
        ([["a", "", "c"]], [["a", None, "c"]]),  # a blank cell is blank
        ([["a", "x "]], [["a", "x ", "  "]]),  # blank text at a row's end is no cell
    ],
)
def test_an_owned_tab_that_reads_as_planned_is_left_alone(
    current: list[list[Any]], desired: list[list[Any]]
) -> None:
    header = ["Rep", "Period"]
    assert owned_tab([header, *current], [header, *desired]) is None


@pytest.mark.parametrize(
    ("current", "desired"),
    [
        ([["a", 1.0]], [["a", True]]),  # a yes is no number
        ([["a", "", "c"]], [["a", " ", "c"]]),  # blank text inside a row is written
        ([["a"], ["b"]], [["a"]]),  # a row too many
        ([["a", "b"]], [["a", "b", "c"]]),
    ],
)
def test_an_owned_tab_that_differs_is_rewritten_whole(
    current: list[list[Any]], desired: list[list[Any]]
) -> None:
    header = ["Rep", "Period"]
    tab = owned_tab([header, *current], [header, *desired])
    assert tab is not None and tab.rows == (tuple(header), *map(tuple, desired))


# --- values in messages and the reconciliation column -------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("  x ", "  x "),
        (Color.RED, "red"),
        (7, "7"),
        (True, "True"),
        (4.0, "4"),
        (4.25, "4.25"),
        (date(2026, 7, 1), "2026-07-01"),
        (datetime(2026, 7, 1), "2026-07-01"),
        (datetime(2026, 7, 1, 9, 5, 59), "2026-07-01 09:05"),
        (datetime(999, 7, 1, 9, 5), "999-07-01 09:05"),
        (datetime(2026, 7, 1, 9, 5, tzinfo=UTC), "2026-07-01 09:05"),
        (pd.Timestamp(2026, 7, 1, 9, 5), "2026-07-01 09:05"),
        (ExcelError("#N/A"), "#N/A"),
    ],
)
def test_display_value(value: object, shown: str) -> None:
    assert display_value(value) == shown


def test_a_blank_value_is_shown_as_none() -> None:
    issue = make_issue("invalid-number", Lang.EN, tab="Leads", value="\u3000 ")
    assert issue.value is None and issue.message == "“” is not a number."


def test_the_reconciliation_column_labels_each_invoice_row() -> None:
    statuses = pd.Series(
        ["matched", None, "unpaid", "matched"], index=pd.Index([4, 5, 6, 9]), dtype=object
    )
    invoices = pd.DataFrame({"reconciliation": statuses})
    metrics = SimpleNamespace(collections=SimpleNamespace(invoices=invoices))
    column = reconciliation_column(metrics, Lang.ZH_HANS)  # type: ignore[arg-type]
    assert column == {"collections": {"reconciliation": {4: "已结清", 6: "未回款", 9: "已结清"}}}
    assert all(type(row) is int for row in column["collections"]["reconciliation"])


@given(
    st.lists(st.tuples(cell_values, st.one_of(st.none(), cell_values)), max_size=12),
    st.sets(st.integers(2, 14), max_size=3),
    st.integers(0, 3),
)
def test_a_column_kept_as_row_values_plans_as_its_dict(
    pairs: list[tuple[Any, Any]], formula_rows: set[int], beyond: int
) -> None:
    """The SLA rules hand the plan `RowValues` (rows and values side by side); the plan reads
    them exactly as the dict of the same pairs: the same writes, clears and formula issues,
    within the table, past its last row and in a column it has not got yet."""
    raw = sheet(
        *(lead(f"L{i}", current) for i, (current, _) in enumerate(pairs)),
        formulas=frozenset((row, COUNT) for row in formula_rows),
    )
    by_row = {i + 2: desired for i, (_, desired) in enumerate(pairs) if desired is not None}
    by_row |= {len(pairs) + 2 + k: k for k in range(beyond)}
    rows = sorted(by_row)
    as_dict = plan(raw, {"follow_up_count": by_row, "days_in_pipeline": by_row})
    as_rows = RowValues(rows, [by_row[r] for r in rows])
    kept = plan(raw, {"follow_up_count": as_rows, "days_in_pipeline": as_rows})
    assert cells(kept) == cells(as_dict)
    assert kept.issues == as_dict.issues


def test_merged_columns_take_the_later_value_of_a_row() -> None:
    early = {"leads": {"follow_up_count": RowValues([2, 3], [1, 2]), "next_step_due": {}}}
    late = {"leads": {"follow_up_count": {3: 5, 4: 6}, "next_step_due": RowValues([2], [7])}}
    merged = merge_computed(early, late)["leads"]
    assert dict(merged["follow_up_count"]) == {2: 1, 3: 5, 4: 6}
    assert merged["next_step_due"] is late["leads"]["next_step_due"]  # taken as it is
    assert merge_computed(late, {"leads": {"next_step_due": {}}})["leads"]["next_step_due"] == {
        2: 7
    }
