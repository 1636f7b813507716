"""parse_table takes the rows a block at a time: the table and issues are those of one go."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.core import tables
from sync.core.headers import BoundTable, bind_workbook
from sync.core.model import ExcelError, RawSheet
from sync.core.parse import ParseContext, parse_value
from sync.core.schema import Lang

HEADERS = ["Date", "Lead ID", "Method", "Next step date", "Minutes sent at", "⚙ Flags"]
CTX = ParseContext(lang=Lang.EN, as_of=date(2026, 1, 1))


def _follow_ups(rows: list[list]) -> BoundTable:
    sheet = RawSheet("Follow-ups", [HEADERS, *rows])
    return bind_workbook([sheet], lang=Lang.EN).tables["follow_ups"]


def _parsed(bound: BoundTable, block_rows: int) -> tuple:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tables, "_BLOCK_ROWS", block_rows)
        data, issues = tables.parse_table(bound, CTX)
    return data.rows, data.values, data.raw, data.bad, issues


GRID = [
    [datetime(2026, 3, 1, 9), "L1", "Phone", "3月5日", "", "old flag"],
    [None, "", " ", None, "\u3000"],  # blank: a block of blank rows only when blocks are 2
    ["", None, "", "", "", "flag"],  # an owned cell only: blank too
    [date(2026, 3, 2), "L2", "nope", "2026-02-30", ExcelError("#N/A")],
    ["x", " L3 ", "Visit", 46000.0, "2026-03-04 10:00"],
    [None, "L4"],  # a short row
    [None, None, None, "7月21日", datetime(2026, 3, 6, 8, 30)],
]


@pytest.mark.parametrize("block_rows", [1, 2, 3, 5])
def test_blocks_give_the_table_and_issues_of_one_go(block_rows):
    bound = _follow_ups(GRID)
    assert _parsed(bound, block_rows) == _parsed(bound, 1 << 20)


def test_blocks_give_rows_values_and_issues_by_spreadsheet_row():
    rows, values, raw, bad, issues = _parsed(_follow_ups(GRID), 2)
    assert rows == [2, 5, 6, 7, 8]
    assert values["date"] == [datetime(2026, 3, 1, 9), datetime(2026, 3, 2), None, None, None]
    assert values["lead_id"] == ["L1", "L2", "L3", "L4", None]
    assert values["next_step_date"] == [
        date(2026, 3, 5),
        None,
        date(2025, 12, 9),  # Excel serial 46000
        None,
        date(2025, 7, 21),  # more than half a year after as_of: last year's
    ]
    assert raw["minutes_sent_at"] == [
        "",
        ExcelError("#N/A"),
        "2026-03-04 10:00",
        None,
        datetime(2026, 3, 6, 8, 30),
    ]
    assert bad == {"date": {2}, "method": {1}, "next_step_date": {1}, "minutes_sent_at": {1}}
    assert [(i.code, i.row, i.column, i.value) for i in issues] == [
        ("invalid-date", 6, "A", "x"),
        ("invalid-choice", 5, "C", "nope"),
        ("year-inferred", 2, "D", "3月5日"),
        ("invalid-date", 5, "D", "2026-02-30"),
        ("year-inferred", 8, "D", "7月21日"),
        ("excel-error", 5, "E", "#N/A"),  # the value as the user sees it
    ]


def test_blocks_of_an_empty_tab_and_of_blank_rows_only():
    for grid in ([], [[None, ""], [" "], []]):
        rows, values, raw, bad, issues = _parsed(_follow_ups(grid), 2)
        assert (rows, values["lead_id"], raw["date"], bad, issues) == ([], [], [], {}, [])


CELLS = st.sampled_from(
    [None, "", " ", "L1", "Phone", "nope", "3月5日", "2026-03-04", 46000.0, float("nan"),
     date(2026, 3, 2), datetime(2026, 3, 1, 9, 30), ExcelError("#REF!")]
)  # fmt: skip


@given(st.lists(st.lists(CELLS, max_size=7), max_size=12), st.integers(1, 4))
def test_blocks_parse_every_typed_row_cell_by_cell(grid, block_rows):
    bound = _follow_ups(grid)
    rows, values, raw, bad, issues = _parsed(bound, block_rows)
    assert rows == tables.data_row_numbers(bound)
    problems = []
    for name, col in bound.columns.items():
        if name == "flags":
            continue
        cells = [_cell(bound, row, col) for row in rows]
        parsed = [parse_value(cell, bound.table.field(name), CTX) for cell in cells]
        assert raw[name] == cells
        assert values[name] == [value for value, _ in parsed]
        unread = {i for i, (_, p) in enumerate(parsed) if p and p.code != "year-inferred"}
        assert bad.get(name, set()) == unread
        problems += [(p.code, row) for row, (_, p) in zip(rows, parsed, strict=True) if p]
    assert [(i.code, i.row) for i in issues] == problems


def _cell(bound: BoundTable, row: int, col: int) -> object:
    line = bound.sheet.rows[row - 1]
    return line[col - 1] if col <= len(line) else None
