"""Columns parsed in bulk: text stripped through the joined column, text-looking columns parsed by
value straight away, mixed columns split by type; each the same as `parse_value` cell by cell."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.core.model import ExcelError
from sync.core.parse import (
    ParseContext,
    ParsedColumn,
    Problem,
    blank_cells,
    is_blank,
    parse_column,
    parse_value,
)
from sync.core.schema import SOURCE, YES_NO, Choices, Field, Kind, Lang

CTX = ParseContext()  # as_of 2026-01-01


def fld(kind: Kind, choices: Choices | None = None) -> Field:
    return Field("x", kind, {Lang.ZH_HANS: "x", Lang.ZH_HANT: "x", Lang.EN: "x"}, choices=choices)


TEXT, ID, ENUM, BOOL = fld(Kind.TEXT), fld(Kind.ID), fld(Kind.ENUM, SOURCE), fld(Kind.BOOL, YES_NO)
DATE, DATETIME = fld(Kind.DATE), fld(Kind.DATETIME)


class Text(str):
    """A kind of str, the way some readers hand text over."""


SMILE = "\U0001f600"  # beyond the Basic Multilingual Plane: two UTF-16 code units


def exactly(column: ParsedColumn) -> tuple[list[tuple[type, str]], list[tuple[int, Problem]]]:
    """Values with their types (1 and 1.0 or True stay apart), problems in their order."""
    return [(type(v), repr(v)) for v in column.values], list(column.problems.items())


def one_by_one(cells: list, field: Field) -> ParsedColumn:
    parsed = [parse_value(cell, field, CTX) for cell in cells]
    return ParsedColumn([v for v, _ in parsed], {i: p for i, (_, p) in enumerate(parsed) if p})


# --- text ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "values"),
    [
        ([], []),
        ([""], [None]),
        (["", "", ""], [None, None, None]),
        (["a b", " a", "a ", "\ta\n"], ["a b", "a", "a", "a"]),
        (["中 文", "\u3000中", "文\u3000", "\u3000"], ["中 文", "中", "文", None]),
        (["\xa0a", "b\xa0", "c"], ["a", "b", "c"]),  # Latin-1, not ASCII
        (["\u200ba", "a\u200b", "a\u200bb", "\ufeff"], ["a", "a", "a\u200bb", None]),
        ([SMILE, f" {SMILE} ", f"{SMILE}a"], [SMILE, SMILE, f"{SMILE}a"]),
        (["\ud800", " \udfff ", ""], ["\ud800", "\udfff", None]),  # lone surrogates
        (["a\x00", " \x00 ", "", "b"], ["a\x00", "\x00", None, "b"]),  # NULs in the texts
    ],
    ids=repr,
)
def test_text_columns_are_stripped_and_blank_is_none(cells, values):
    assert parse_column(cells, TEXT, CTX).values == values
    assert blank_cells(cells).tolist() == [value is None for value in values]


def test_text_cells_with_nothing_to_strip_are_kept_as_they_are():
    cells = ["甲", " 乙 ", "丙"]
    values = parse_column(cells, TEXT, CTX).values
    assert values == ["甲", "乙", "丙"]
    assert values[0] is cells[0] and values[2] is cells[2]
    assert values is not cells  # a new list: the raw cells stay as read


@pytest.mark.parametrize("other", [None, 7.0, Text(" b "), ExcelError("#N/A")])
def test_text_columns_longer_than_a_block_with_another_cell_far_down(other):
    # Types are checked block by block (2048 cells): a cell that is not str in a later block
    # still sends the column the way of mixed columns.
    cells = [" a", "b", "", "\u3000"] * 1500
    assert parse_column(cells, TEXT, CTX).values == ["a", "b", None, None] * 1500
    cells[5000] = other
    for field in (TEXT, ID, fld(Kind.PHONE)):
        assert exactly(parse_column(cells, field, CTX)) == exactly(one_by_one(cells, field))


def test_id_columns_are_normalised_when_not_ascii():
    cells = ["Ｌ－３\u3000", "", " ｌ ", "L-4"]
    assert parse_column(cells, ID, CTX).values == ["L-3", None, "l", "L-4"]


WHITE = [" ", "\t", "\xa0", "\u3000", "\u200b", "\ufeff", "\u2003"]
TEXTS = st.lists(
    st.text(st.sampled_from([*WHITE, "a", "中", SMILE, "\x00", "\ud800"]), max_size=4),
    max_size=30,
)


@settings(max_examples=300)
@given(TEXTS)
def test_text_columns_are_parse_value_cell_by_cell(cells):
    assert exactly(parse_column(cells, TEXT, CTX)) == exactly(one_by_one(cells, TEXT))
    assert exactly(parse_column(cells, ID, CTX)) == exactly(one_by_one(cells, ID))
    assert blank_cells(cells).tolist() == list(map(is_blank, cells))


# --- text-looking columns of other kinds ------------------------------------------------------


def test_a_column_of_text_is_parsed_once_per_distinct_value():
    cells = ["是", "否", "", "x", None] * 20
    column = parse_column(cells, BOOL, CTX)
    assert column.values[:5] == [True, False, None, None, None]
    assert list(column.problems) == list(range(3, 100, 5))
    assert all(p == Problem("invalid-bool") for p in column.problems.values())


@pytest.mark.parametrize("odd", [True, 1, 1.0, 0.0, ExcelError("#N/A"), date(2026, 1, 1)])
@pytest.mark.parametrize("field", [BOOL, ENUM, DATE], ids=lambda f: f.kind.name)
def test_other_cells_among_text_are_told_apart(odd, field):
    # Cells between those looked at to tell a column of text, equal to a text's value (1 == True)
    # or not text at all: each still parses as its own type.
    cells = ["是", "1", "官网", "2026-01-01"] * 10  # every third cell looked at
    cells[5] = odd
    cells[7] = True if odd is not True else 1
    assert exactly(parse_column(cells, field, CTX)) == exactly(one_by_one(cells, field))


TEXT_CELLS = st.sampled_from(["是", "否", "1", "官网", " 展会 ", "", "2026-01-01", "6月2日", "x"])
OTHER_CELLS = st.sampled_from(
    [None, True, 1, 1.0, 0.0, float("nan"), ExcelError("#N/A"), date(2026, 1, 1), Text("是")]
)


@settings(max_examples=200)
@given(
    st.lists(st.one_of(TEXT_CELLS, TEXT_CELLS, TEXT_CELLS, OTHER_CELLS), min_size=17, max_size=80),
    st.sampled_from([BOOL, ENUM, DATE, fld(Kind.AMOUNT), fld(Kind.PERIOD)]),
)
def test_mostly_text_columns_are_parse_value_cell_by_cell(cells, field):
    assert exactly(parse_column(cells, field, CTX)) == exactly(one_by_one(cells, field))


def test_a_text_column_with_blanks_as_none_is_parsed_by_value():
    cells = ["官网", None, "展会-行业展", "nope"] * 5
    column = parse_column(cells, ENUM, CTX)
    assert column.values[:4] == ["website", None, "trade_show", None]
    assert list(column.problems) == [3, 7, 11, 15, 19]


# --- mixed columns ----------------------------------------------------------------------------


def test_mixed_columns_are_parsed_type_by_type_with_problems_in_row_order():
    cells = [
        datetime(2026, 3, 1, 9, 30), "", date(2026, 3, 2), "bad", 46175.0, None,
        "2026-03-04 10:00", ExcelError("#REF!"), 1e12, date(2026, 3, 2),
    ]  # fmt: skip
    column = parse_column(cells, DATETIME, CTX)
    assert column.values == [
        datetime(2026, 3, 1, 9, 30), None, datetime(2026, 3, 2), None, datetime(2026, 6, 2),
        None, datetime(2026, 3, 4, 10), None, None, datetime(2026, 3, 2),
    ]  # fmt: skip
    assert [(i, p.code) for i, p in column.problems.items()] == [
        (3, "invalid-date"),
        (7, "excel-error"),
        (8, "invalid-date"),
    ]
    assert exactly(column) == exactly(one_by_one(cells, DATETIME))


@pytest.mark.parametrize(
    "cells",
    [
        [datetime(2026, 1, 1, 8)] * 20,  # one type, taken as it is
        [datetime(2026, 1, 1, 8), None] * 10,  # types taken as they are only
        [date(2026, 1, 1)] * 20,  # one type, parsed
        [datetime(2026, 1, 1, 8), date(2026, 1, 2), "", None] * 5,
    ],
    ids=["datetimes", "datetimes-and-none", "dates", "mixed"],
)
def test_columns_of_dates_and_datetimes(cells):
    for field in (DATE, DATETIME):
        assert exactly(parse_column(cells, field, CTX)) == exactly(one_by_one(cells, field))


@pytest.mark.parametrize(
    "cells",
    [
        [],
        [None, None],
        [datetime(2026, 1, 1)] * 3,
        [date(2026, 1, 1), "", None, " x ", float("nan"), 0.0, 0, " "],
        ["\u3000", 5, None],
    ],
    ids=repr,
)
def test_blank_cells_of_mixed_columns(cells):
    assert blank_cells(cells).tolist() == list(map(is_blank, cells))


@pytest.mark.parametrize("field", [TEXT, ID, ENUM, BOOL, DATE, DATETIME], ids=lambda f: f.kind.name)
def test_an_empty_column(field):
    assert parse_column([], field, CTX) == ParsedColumn([], {})


@pytest.mark.parametrize("field", [TEXT, ID, ENUM], ids=lambda f: f.kind.name)
def test_kinds_of_str_are_read_as_str(field):
    cells = [Text("a"), Text(" b "), "c", Text(""), *["官网"] * 30, Text("官网"), Text("d")]
    column = parse_column(cells, field, CTX)
    assert exactly(column) == exactly(one_by_one(cells, field))
    assert {type(v) for v in column.values} <= {str, type(None)}
