"""The fast tab reader gives exactly the grid python-calamine gives.

`xlsx_read.read_workbook` reads a tab of at least `FAST_MIN_BYTES` with `xlsx_fast.read_grid`
(python-calamine for the head rows, fastexcel's Arrow columns below them) and reads it with
python-calamine alone when the fast reader answers None. Every workbook here is read both ways,
the fast reader tried on every tab and never tried, and the two `RawWorkbook`s must be the same
cell for cell, type included. A spy on `read_grid` tells which route each tab took: two
python-calamine reads are trivially equal, so a test that means to exercise the fast reader
says so, and fails when the tab quietly fell back.
"""

from __future__ import annotations

import errno
import math
import os
import random
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple
from xml.sax.saxutils import escape as xml_escape

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.chart import BarChart, Reference
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from sync.backends import xlsx_fast, xlsx_read
from sync.backends.xlsx_package import NS_MAIN, load_package
from sync.core.errors import WorkbookUnreadable
from sync.core.model import CellValue, ColumnGrid, ExcelError, RawSheet, RawWorkbook

HEAD = xlsx_fast.HEAD_ROWS
NEVER = 1 << 62


class Route(StrEnum):
    FAST = "fast"  # read_grid gave the grid
    FALLBACK = "fallback"  # read_grid answered None: python-calamine read the tab


class Reads(NamedTuple):
    book: RawWorkbook  # as python-calamine alone reads it (equal to the fast read)
    routes: dict[str, Route]  # the tabs the fast reader was tried on, and how it answered


# -- reading both ways ----------------------------------------------------------------------


def read_both_ways(path: Path, threshold: int = 0) -> Reads:
    """Read `path` with the fast reader off, then tried on every tab of at least `threshold`
    bytes; assert both reads equal."""
    routes: dict[str, Route] = {}
    real = xlsx_fast.read_grid

    def spy(path: Path, pkg: Any, tab: str) -> Any:
        grid = real(path, pkg, tab)
        name = next((ref.name for ref in pkg.sheets if tab in (ref.name, ref.part)), tab)
        routes[name] = Route.FALLBACK if grid is None else Route.FAST
        return grid

    with pytest.MonkeyPatch.context() as mp:
        # xlsx_read may call the name it imported or look it up on the module: spy on both
        mp.setattr(xlsx_fast, "read_grid", spy)
        mp.setattr(xlsx_read, "read_grid", spy, raising=False)
        mp.setattr(xlsx_read, "FAST_MIN_BYTES", NEVER)
        slow = xlsx_read.read_workbook(path)
        assert routes == {}, "the fast reader ran with FAST_MIN_BYTES out of reach"
        mp.setattr(xlsx_read, "FAST_MIN_BYTES", threshold)
        fast = xlsx_read.read_workbook(path)
    assert_same_workbook(fast, slow)
    return Reads(slow, routes)


def same_cell(a: CellValue, b: CellValue) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)  # type: ignore[arg-type]
    return a == b


def first_difference(got: RawSheet, want: RawSheet) -> tuple[Any, ...] | None:
    """(sheet, row, column, got, want) of the first cell that differs, 1-based; column None
    when a row is missing from one grid."""
    got_rows, want_rows = list(got.rows), list(want.rows)
    for r in range(max(len(got_rows), len(want_rows))):
        if r >= len(got_rows) or r >= len(want_rows):
            shown = [
                repr(rows[r]) if r < len(rows) else "<no row>" for rows in (got_rows, want_rows)
            ]
            return (got.name, r + 1, None, *shown)
        g, w = got_rows[r], want_rows[r]
        for c in range(max(len(g), len(w))):
            if c >= len(g) or c >= len(w) or not same_cell(g[c], w[c]):
                shown = [repr(row[c]) if c < len(row) else "<no cell>" for row in (g, w)]
                return (got.name, r + 1, c + 1, *shown)
    return None


def assert_reads_alike(sheet: RawSheet) -> None:
    """The grid gives the same cells by iteration, by index and through `value`, whatever it
    is kept as (a list of rows, a `ColumnGrid`)."""
    rows = list(sheet.rows)
    assert len(sheet.rows) == len(rows), sheet.name
    for r, row in enumerate(rows):
        assert type(row) is list, (sheet.name, r + 1)
        indexed = sheet.rows[r]
        for c, cell in enumerate(row):
            assert same_cell(indexed[c], cell), (sheet.name, r + 1, c + 1, indexed[c], cell)
            assert same_cell(sheet.value(r + 1, c + 1), cell), (sheet.name, r + 1, c + 1)
        assert sheet.value(r + 1, len(row) + 1) is None
    assert sheet.value(len(rows) + 1, 1) is None


def assert_same_workbook(fast: RawWorkbook, slow: RawWorkbook) -> None:
    assert [s.name for s in fast.sheets] == [s.name for s in slow.sheets]
    for got, want in zip(fast.sheets, slow.sheets, strict=True):
        diff = first_difference(got, want)
        assert diff is None, f"(sheet, row, col, fast, calamine) first differ at {diff}"
        assert got.hidden == want.hidden, got.name
        assert got.formulas == want.formulas, got.name
        assert_reads_alike(got)


def kinds(sheet: RawSheet | None, col: int, below: int = HEAD) -> set[type]:
    """The types of the non-empty cells of `col` (1-based) below row `below`."""
    assert sheet is not None
    return {
        type(row[col - 1]) for row in sheet.rows[below:] if len(row) >= col and row[col - 1] != ""
    }


# -- cell values of each kind -----------------------------------------------------------------

WORDS = [
    *["alpha", "销售", "跟進", " padded ", "   ", "", "00123", "a & b <c>", "_x0041_", "TRUE"],
    *["two\nlines", "\ttab", "cr\r\nlf", "a\u00a0b", "😀", "#1 priority"],
]


def _text(rng: random.Random) -> str:
    return rng.choice(WORDS)


def _number(rng: random.Random) -> float | int:
    return rng.choice(
        [
            round(rng.uniform(-1e6, 1e6), rng.randint(0, 6)),
            rng.randint(-1000, 100_000),
            rng.random(),
            1e15 + rng.randint(0, 9),
        ]
    )


def _day(rng: random.Random) -> date:
    return date(2020, 1, 1) + timedelta(days=rng.randint(0, 3000))


def _moment(rng: random.Random) -> datetime:
    return datetime(2024, 1, 1) + timedelta(milliseconds=rng.randint(1, 10**11))


def _clock(rng: random.Random) -> time:
    return (datetime.min + timedelta(milliseconds=rng.randint(1, 86_399_999))).time()


def _duration(rng: random.Random) -> timedelta:
    return timedelta(seconds=rng.randint(0, 500 * 3600))


def _bool(rng: random.Random) -> bool:
    return rng.random() < 0.5


def put(ws: Any, row: int, col: int, value: Any) -> None:
    """Write one cell with openpyxl; durations get a duration format."""
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, timedelta):
        cell.number_format = "[h]:mm:ss"


def fill_column(
    ws: Any, col: int, first: int, last: int, make: Callable[[random.Random], Any], seed: int
) -> None:
    """Rows `first…last` of `col`, about one cell in seven left empty."""
    rng = random.Random(seed)
    for row in range(first, last + 1):
        if rng.random() >= 0.15:
            put(ws, row, col, make(rng))


def new_sheet(title: str = "S", epoch: Any = None) -> tuple[Workbook, Any]:
    wb = Workbook()
    if epoch is not None:
        wb.epoch = epoch
    ws = wb.active
    ws.title = title
    return wb, ws


def save(wb: Workbook, path: Path) -> Path:
    wb.save(path)
    return path


# -- tabs the fast reader takes ---------------------------------------------------------------

TYPICAL = [  # (header, kind) in columns A…; None: a column with nothing at all
    ("name", _text),
    ("amount", _number),
    ("count", lambda rng: rng.randint(-50, 5000)),
    ("day", _day),
    ("when", _moment),
    None,
    ("at", _clock),
    ("took", _duration),
    ("ok", _bool),
    ("note", _text),
]


def typical_tab(ws: Any, top: int, left: int, last: int, headers: bool = True) -> None:
    """Header in row `top` from column `left`, data below to row `last`, then a trailing column
    with a header and nothing under it. Without `headers`, data from row `top`."""
    for i, spec in enumerate(TYPICAL):
        if spec is None:
            continue
        header, make = spec
        if headers:
            put(ws, top, left + i, header)
        fill_column(ws, left + i, top + headers, last, make, seed=i)
    if headers:
        put(ws, top, left + len(TYPICAL), "spare")


def test_typical_tab_reads_the_fast_way_to_the_same_grid(tmp_path: Path) -> None:
    wb, ws = new_sheet()
    typical_tab(ws, top=1, left=1, last=120)
    reads = read_both_ways(save(wb, tmp_path / "typical.xlsx"))
    assert reads.routes == {"S": Route.FAST}
    sheet = reads.book.sheet("S")
    assert sheet is not None
    # the recipe does give every kind python-calamine knows, below the head
    assert kinds(sheet, 1) == {str}
    assert kinds(sheet, 2) == {float}
    assert kinds(sheet, 4) == {date}
    assert kinds(sheet, 5) == {datetime}
    assert kinds(sheet, 6) == set()
    assert kinds(sheet, 7) == {time}
    assert kinds(sheet, 8) == {timedelta}
    assert kinds(sheet, 9) == {bool}
    assert len(sheet.rows) == 120 and {len(r) for r in sheet.rows} == {len(TYPICAL) + 1}


def test_title_block_and_empty_leading_columns(tmp_path: Path) -> None:
    wb, ws = new_sheet()
    put(ws, 3, 3, "Sales lead tracker")
    typical_tab(ws, top=5, left=3, last=90)
    reads = read_both_ways(save(wb, tmp_path / "title.xlsx"))
    assert reads.routes == {"S": Route.FAST}
    sheet = reads.book.sheet("S")
    assert sheet is not None and sheet.value(3, 3) == "Sales lead tracker"
    assert kinds(sheet, 1) == kinds(sheet, 2) == set()


@pytest.mark.parametrize("top", [HEAD, HEAD + 1, HEAD + 10])
def test_data_starting_at_or_below_the_head(tmp_path: Path, top: int) -> None:
    """Nothing in the first rows at all: the tab's used range starts at `top`. (No header row:
    one below the head would be a text in every column, and fall back.)"""
    wb, ws = new_sheet()
    typical_tab(ws, top=top, left=2, last=top + 60, headers=False)
    reads = read_both_ways(save(wb, tmp_path / "low.xlsx"))
    assert reads.routes == {"S": Route.FAST}


# -- two kinds of cell in a column --------------------------------------------------------------

CLEAN = [("name", _text), ("amount", _number), ("day", _day), ("ok", _bool)]
INTRUDERS = {  # id: (column, row, value)
    "TBD in a date column": (3, 100, "TBD"),
    "a number in a text column": (1, 90, 42),
    "TRUE in a number column": (2, 80, True),
    "a date in a number column": (2, 70, date(2024, 5, 1)),
    "a duration in a date column": (3, 50, timedelta(hours=30)),
    "a number in a bool column": (4, 110, 1),
}
ONE_KIND = {  # id: (column, row, value): one kind to fastexcel (a moment), if not to calamine
    "a datetime in a date column": (3, 60, datetime(2024, 5, 1, 9, 30)),
    "a time in a date column": (3, 40, time(9, 30)),
    "a whole day in a date and time column": (5, 45, date(2024, 5, 1)),
}


def clean_tab(ws: Any, last: int) -> None:
    for i, (header, make) in enumerate(CLEAN, start=1):
        put(ws, 1, i, header)
        fill_column(ws, i, 2, last, make, seed=i)


@pytest.mark.parametrize(("col", "row", "value"), INTRUDERS.values(), ids=INTRUDERS)
def test_a_mixed_column_below_the_head_reads_fast(
    tmp_path: Path, col: int, row: int, value: Any
) -> None:
    """fastexcel parses the other columns; the mixed one is read by python-calamine from a
    copy of the sheet that holds only its cells."""
    wb, ws = new_sheet()
    clean_tab(ws, last=120)
    put(ws, row, col, value)
    reads = read_both_ways(save(wb, tmp_path / "mixed.xlsx"))
    assert reads.routes == {"S": Route.FAST}
    assert reads.book.sheets[0].rows[row - 1][col - 1] == value


class Parses(NamedTuple):
    whole: list[set[int]]  # each parse of the whole tab by fastexcel: the columns left out
    exact: list[list[int]]  # each exact read: its columns (0-based from A)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Parses:
    """What the fast reader parses: spies on fastexcel's parses of the whole tab and on the
    exact reads of mixed columns. The sheet streams by in 16 KiB and the sample is some 600
    rows, so that a tab of some thousands of rows has rows below the sample."""
    from sync.backends import xlsx_package

    monkeypatch.setattr(xlsx_package, "CHUNK", 1 << 14)
    monkeypatch.setattr(xlsx_fast, "SAMPLE_BYTES", 1 << 15)
    found = Parses([], [])
    below, exact = xlsx_fast._below_head, xlsx_fast._exact_columns

    def below_spy(source: Any, name: str, skip: Any = frozenset()) -> Any:
        if isinstance(source, str):  # a path: the whole tab (the sample is read from bytes)
            found.whole.append(set(skip))
        return below(source, name, skip)

    def exact_spy(*args: Any) -> Any:
        found.exact.append(list(args[5]))
        return exact(*args)

    monkeypatch.setattr(xlsx_fast, "_below_head", below_spy)
    monkeypatch.setattr(xlsx_fast, "_exact_columns", exact_spy)
    return found


@pytest.mark.parametrize(
    ("row", "whole"), [(100, [{2}]), (2400, [set(), {2}])], ids=["in the sample", "below it"]
)
def test_a_mixed_column_is_left_out_of_fastexcels_parse(
    tmp_path: Path, parses: Parses, row: int, whole: list[set[int]]
) -> None:
    """A text among the dates in the rows of the sample leaves the column out of fastexcel's
    parse of the whole tab from the start; one further down is named by that parse, which is
    done once more without it. Either way the column is read exactly, once."""
    wb, ws = new_sheet()
    clean_tab(ws, last=2500)
    put(ws, row, 3, "TBD")
    reads = read_both_ways(save(wb, tmp_path / "sampled.xlsx"))
    assert reads.routes == {"S": Route.FAST}
    assert parses.whole == whole
    assert parses.exact == [[2]]
    assert reads.book.sheets[0].rows[row - 1][2] == "TBD"


EMPTY_TEXTS = {  # id: (column, a text cell's body that reads as '')
    "spaces among numbers, as openpyxl writes them": ("C", "<is><t>   </t></is>"),
    "no text among dates": ("D", "<is><t/></is>"),
}


@pytest.mark.parametrize(("col", "body"), EMPTY_TEXTS.values(), ids=EMPTY_TEXTS)
@pytest.mark.parametrize(
    ("row", "whole"), [(100, [{-1}]), (2400, [set(), {-1}])], ids=["in the sample", "below it"]
)
def test_a_text_that_reads_as_empty_among_numbers_or_dates(
    tmp_path: Path, parses: Parses, col: str, body: str, row: int, whole: list[set[int]]
) -> None:
    """A text cell that reads as '' (no text, or spaces without xml:space="preserve"): fastexcel's
    inference takes it for an empty cell and then reports it could not convert it. The column
    is read exactly, as a mixed one (once more without it when the report comes from the whole
    tab's parse), not the whole tab by python-calamine."""
    cell = f'<c r="{col}{row}" t="inlineStr">{body}</c>'
    xml = with_cell(sheet_xml(rows=2500, dimension=None), f"{col}{row}", cell)
    reads = read_both_ways(write_package(tmp_path / "empty-text.xlsx", xml))
    index = ord(col) - ord("A")
    assert reads.routes == {"S": Route.FAST}
    assert parses.whole == [{index} if w == {-1} else w for w in whole]
    assert parses.exact == [[index]]
    assert reads.book.sheets[0].rows[row - 1][index] == ""


NULL_LOOKING = ["nan", "NaN", "-nan", "-NaN", "N/A", "NA", "#N/A", "NULL", "null", "None", "<NA>"]
"""Texts fastexcel's inference takes for an empty cell (its NULL_STRING_VALUES)."""


@pytest.mark.parametrize("text", NULL_LOOKING)
@pytest.mark.parametrize(("col", "row"), [("C", 100), ("C", 2400), ("D", 100), ("D", 2400)])
def test_a_text_that_looks_like_no_value_among_numbers_or_dates_stays_text(
    tmp_path: Path, text: str, col: str, row: int
) -> None:
    """fastexcel's inference takes "nan", "N/A", "NULL" … for empty cells; converting the
    column, it reports the ones it cannot convert, but reads "nan", "NaN", "-nan" and "-NaN"
    in a number column as a float NaN without a word. A column holding NaN is read exactly:
    the text stays text, as python-calamine reads it, in the sample or below it."""
    cell = f'<c r="{col}{row}" t="inlineStr"><is><t>{xml_escape(text)}</t></is></c>'
    xml = with_cell(sheet_xml(rows=2500, dimension=None), f"{col}{row}", cell)
    reads = read_both_ways(write_package(tmp_path / "null-looking.xlsx", xml))
    assert reads.routes == {"S": Route.FAST}
    assert reads.book.sheets[0].rows[row - 1][ord(col) - ord("A")] == text


def test_several_mixed_columns_are_read_exactly_together(tmp_path: Path, parses: Parses) -> None:
    """Mixed columns the sample shows are read in one copy of the sheet, side by side; an error
    value in one of them is found there too."""
    wb, ws = new_sheet()
    clean_tab(ws, last=2500)
    for col, row, value in [(1, 50, 7), (3, 60, "TBD"), (3, 2000, "later"), (2, 100, "x")]:
        put(ws, row, col, value)
    cell = ws.cell(row=1500, column=3)
    cell.value, cell.data_type = "#N/A", "e"
    reads = read_both_ways(save(wb, tmp_path / "several.xlsx"))
    assert reads.routes == {"S": Route.FAST}
    assert parses.whole == [{0, 1, 2}]
    assert parses.exact == [[0, 1, 2]]
    sheet = reads.book.sheets[0]
    assert sheet.value(1500, 3) == ExcelError("#N/A") and sheet.value(2000, 3) == "later"


def test_a_mixed_column_longer_than_the_others(tmp_path: Path, parses: Parses) -> None:
    wb, ws = new_sheet()
    clean_tab(ws, last=2500)
    put(ws, 2700, 3, "TBD")
    put(ws, 2600, 3, date(2025, 1, 1))
    reads = read_both_ways(save(wb, tmp_path / "longer.xlsx"))
    assert reads.routes == {"S": Route.FAST}
    assert parses.exact == [[2]]
    assert len(reads.book.sheets[0].rows) == 2700


def test_more_mixed_columns_than_read_exactly_fall_back(
    tmp_path: Path, parses: Parses, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx_fast, "MAX_MIXED", 1)
    wb, ws = new_sheet()
    clean_tab(ws, last=2500)
    put(ws, 50, 1, 7)
    put(ws, 60, 3, "TBD")
    reads = read_both_ways(save(wb, tmp_path / "many.xlsx"))
    assert reads.routes == {"S": Route.FALLBACK}
    assert parses.whole == []  # told by the sample: fastexcel never parses the whole tab


def test_a_second_column_mixed_below_the_sample_falls_back(tmp_path: Path, parses: Parses) -> None:
    """Each column mixed only below the sample costs fastexcel another parse of the whole tab:
    after `MAX_RELOADS` the tab goes to python-calamine."""
    wb, ws = new_sheet()
    clean_tab(ws, last=2500)
    put(ws, 2400, 3, "TBD")
    put(ws, 2300, 2, "x")
    reads = read_both_ways(save(wb, tmp_path / "two.xlsx"))
    assert reads.routes == {"S": Route.FALLBACK}
    assert len(parses.whole) == 1 + xlsx_fast.MAX_RELOADS


@pytest.mark.parametrize(("col", "row", "value"), ONE_KIND.values(), ids=ONE_KIND)
def test_dates_datetimes_and_times_in_one_column_read_fast(
    tmp_path: Path, col: int, row: int, value: Any
) -> None:
    wb, ws = new_sheet()
    clean_tab(ws, last=120)
    put(ws, 1, 5, "when")
    fill_column(ws, 5, 2, 120, _moment, seed=5)
    put(ws, row, col, value)
    reads = read_both_ways(save(wb, tmp_path / "moments.xlsx"))
    assert reads.routes == {"S": Route.FAST}
    assert reads.book.sheets[0].rows[row - 1][col - 1] == value


def test_mixed_cells_only_in_the_head_still_read_fast(tmp_path: Path) -> None:
    wb, ws = new_sheet()
    clean_tab(ws, last=120)
    for col, row, value in [(3, 10, "TBD"), (1, 5, 7), (2, 20, True), (4, HEAD, "n/a")]:
        put(ws, row, col, value)
    reads = read_both_ways(save(wb, tmp_path / "head.xlsx"))
    assert reads.routes == {"S": Route.FAST}
    assert reads.book.sheets[0].rows[9][2] == "TBD"


# -- error values and formulas ------------------------------------------------------------------


ERRORS = {  # id: ({(row, column): error code}, the route, or None when either is fine)
    "in a number and a text column": (
        {(40, 2): "#N/A", (77, 2): "#DIV/0!", (50, 1): "#VALUE!", (90, 3): "#NUM!"},
        Route.FAST,
    ),
    "in a date and a bool column": ({(45, 3): "#N/A", (66, 4): "#VALUE!"}, Route.FAST),
    "in the head": ({(5, 2): "#REF!", (HEAD, 4): "#N/A"}, Route.FAST),
    "a column of errors only": ({(row, 6): "#N/A" for row in range(2, 101, 3)}, Route.FAST),
    "the widest cell, alone in its column": ({(100, 9): "#NAME?"}, None),
}


@pytest.mark.parametrize(("errors", "route"), ERRORS.values(), ids=ERRORS)
def test_error_values(tmp_path: Path, errors: dict[tuple[int, int], str], route: Route) -> None:
    wb, ws = new_sheet()
    clean_tab(ws, last=100)
    for (row, col), code in errors.items():
        cell = ws.cell(row=row, column=col)
        cell.value, cell.data_type = code, "e"
    reads = read_both_ways(save(wb, tmp_path / "errors.xlsx"))
    assert reads.routes.keys() == {"S"}
    if route is not None:
        assert reads.routes["S"] is route
    sheet = reads.book.sheets[0]
    assert {pos: sheet.value(*pos) for pos in errors} == {
        pos: ExcelError(code) for pos, code in errors.items()
    }


CODES = ["#DIV/0!", "#N/A", "#NULL!", "#NUM!", "#REF!", "#VALUE!"]  # #NAME?: further down


def error_scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tabs whose XML is scanned for error values (spied on)."""
    scans: list[str] = []
    real = xlsx_read._scan_tab

    def spy(path: Path, pkg: Any, name: str, *, want_errors: bool, **kw: bool) -> Any:
        if want_errors:
            scans.append(name)
        return real(path, pkg, name, want_errors=want_errors, **kw)

    monkeypatch.setattr(xlsx_read, "_scan_tab", spy)
    return scans


@pytest.mark.parametrize("code", CODES)
def test_error_codes_below_the_head_come_from_fastexcels_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    """fastexcel reports each error value below the head with calamine's kind of it, which
    names its code: the fast read puts the codes back without scanning the XML for them, at
    their places in a tab whose cells start at C4 (fastexcel numbers its columns from the first
    one used) and in a column left out of fastexcel's parse (read exactly). A text below the
    head that starts with "#" is what a code calamine does not know would read as: then the XML
    is scanned."""
    wb, ws = new_sheet()
    typical_tab(ws, top=4, left=3, last=160)
    for row in ws.iter_rows(min_row=HEAD + 1):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("#"):
                cell.value = cell.value[1:]
    # a number, a whole number, a date, a moment, a time, a duration, a bool, a text column
    cells = [(40, 4), (41, 5), (77, 6), (50, 7), (55, 9), (65, 10), (90, 11), (150, 3)]
    where = dict.fromkeys(cells, code)
    where |= {(row, 8): code for row in range(20, 161, 7)}  # the column with nothing else
    where[(60, 12)] = code  # a text column
    for (row, col), value in where.items():
        cell = ws.cell(row=row, column=col)
        cell.value, cell.data_type = value, "e"
    put(ws, 100, 6, "TBD")  # the date column: mixed, read exactly
    scans = error_scans(monkeypatch)
    for hash_text, scanned in ((None, []), ("#1 priority", ["S"])):
        if hash_text:
            put(ws, 120, 12, hash_text)
        path = save(wb, tmp_path / "codes.xlsx")
        reads = read_both_ways(path)
        assert reads.routes == {"S": Route.FAST}
        sheet = reads.book.sheets[0]
        assert {p: sheet.value(*p) for p in where} == dict.fromkeys(where, ExcelError(code))
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(xlsx_read, "FAST_MIN_BYTES", 0)
            scans.clear()
            assert_same_workbook(xlsx_read.read_workbook(path), reads.book)
        assert scans == scanned


@pytest.mark.parametrize("columns", [[4], [4, 12], [3, 4, 5, 11, 12]])
def test_name_errors_below_the_head(tmp_path: Path, parses: Parses, columns: list[int]) -> None:
    """fastexcel refuses a tab holding #NAME? below the head, naming the column: that column
    is read exactly, as a column of two kinds of cell is, and with more such columns than it
    reads so the whole tab goes to python-calamine. The same grid every way."""
    wb, ws = new_sheet()
    typical_tab(ws, top=4, left=3, last=160)
    where = {(row, col): "#NAME?" for col in columns for row in range(30, 161, 13)}
    for (row, col), value in where.items():
        cell = ws.cell(row=row, column=col)
        cell.value, cell.data_type = value, "e"
    reads = read_both_ways(save(wb, tmp_path / "name.xlsx"))
    fast = len(columns) <= xlsx_fast.MAX_MIXED
    assert reads.routes == {"S": Route.FAST if fast else Route.FALLBACK}
    sheet = reads.book.sheets[0]
    assert {p: sheet.value(*p) for p in where} == dict.fromkeys(where, ExcelError("#NAME?"))
    if fast:
        assert sorted(c + 1 for read in parses.exact for c in read) == columns


NO_CODE = {  # id: an error cell without a code, as hand-made XML may hold it
    "self-closed": '<c r="C50" t="e"/>',
    "an empty value": '<c r="C50" t="e"><v></v></c>',
    "a self-closed value": '<c r="C50" t="e"><v/></c>',
    "a formula alone": '<c r="C50" t="e"><f>1/0</f></c>',
}


@pytest.mark.parametrize("cell", NO_CODE.values(), ids=NO_CODE)
def test_an_error_cell_without_a_code_is_empty_every_way(tmp_path: Path, cell: str) -> None:
    """calamine reads it as an empty cell, and so does the scan that puts error codes back:
    the same grid by every route, with an error value elsewhere in the tab or not (the fast
    read scans the XML only when fastexcel reports an error value it cannot name)."""
    for other in ("", '<c r="C60" t="e"><v>#N/A</v></c>'):
        xml = with_cell(sheet_xml(), "C50", cell)
        if other:
            xml = with_cell(xml, "C60", other)
        reads = read_both_ways(write_package(tmp_path / "hand.xlsx", xml))
        assert reads.routes == {"S": Route.FAST}
        sheet = reads.book.sheets[0]
        assert sheet.value(50, 3) == ""
        assert sheet.value(60, 3) == (ExcelError("#N/A") if other else 60 * 1.25)


NEWER_CODES = ["#SPILL!", "#CALC!", "#BUSY!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#UNKNOWN!"]


@pytest.mark.parametrize("code", NEWER_CODES)
@pytest.mark.parametrize("row", [10, 50], ids=["in the head", "below the head"])
def test_an_error_code_calamine_does_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, row: int, code: str
) -> None:
    """calamine refuses a tab holding a code it does not read (newer Excel's): that tab is
    read again from a copy holding #N/A there (the fast way when the tab is big enough), the
    other tab as usual; the code is the workbook's, every other cell as with #N/A."""
    wb, ws = new_sheet()
    clean_tab(ws, last=100)
    clean_tab(wb.create_sheet("T"), last=100)
    cell = ws.cell(row=row, column=2)
    cell.value, cell.data_type = code, "e"
    again = spy_copies(monkeypatch)
    got = read_both_ways(save(wb, tmp_path / "newer.xlsx"))
    assert again == [("S", False), ("S", True)]  # read slow, then fast
    assert got.routes == {"S": Route.FAST, "T": Route.FAST}  # the copy of S read fast
    sheet = got.book.sheet("S")
    assert sheet is not None and sheet.value(row, 2) == ExcelError(code)
    cell.value = "#N/A"
    plain = read_both_ways(save(wb, tmp_path / "plain.xlsx")).book
    plain.sheets[0].rows[row - 1][1] = ExcelError(code)
    assert_same_workbook(got.book, plain)


def test_an_error_code_calamine_does_not_read_in_a_tab_it_reads_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy the fast reader cannot take either (six mixed columns) is read by
    python-calamine."""
    wb, ws = new_sheet()
    clean_tab(ws, last=100)
    for col in (5, 6):
        fill_column(ws, col, 2, 100, _number, seed=col)
    for col in range(1, 7):
        put(ws, 60, col, "TBD" if col > 1 else 7)
    cell = ws.cell(row=80, column=3)
    cell.value, cell.data_type = "#SPILL!", "e"
    again = spy_copies(monkeypatch)
    got = read_both_ways(save(wb, tmp_path / "newer.xlsx"))
    assert again == [("S", False), ("S", True)]
    assert got.routes == {"S": Route.FALLBACK}
    sheet = got.book.sheet("S")
    assert sheet is not None and sheet.value(80, 3) == ExcelError("#SPILL!")


@pytest.mark.parametrize(
    ("failure", "said"),
    [
        (errno.ENOSPC, r"no room for it .*set TMPDIR to a folder with room"),
        (errno.EACCES, r"cannot read it \(\[Errno 13\]"),
    ],
    ids=["no room", "another failure"],
)
def test_the_copy_for_an_error_code_calamine_does_not_read_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: int, said: str
) -> None:
    """A temporary folder without room for the copy (a small /tmp at a million rows) is named
    with what to do, not reported as an unreadable workbook; the copy is not left behind and
    the workbook is as it was."""
    wb, ws = new_sheet()
    clean_tab(ws, last=100)
    cell = ws.cell(row=50, column=2)
    cell.value, cell.data_type = "#SPILL!", "e"
    path = save(wb, tmp_path / "newer.xlsx")
    before = path.read_bytes()
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))

    class Full(zipfile.ZipFile):
        def open(self, name: Any, mode: Any = "r", *args: Any, **kwargs: Any) -> Any:
            handle = super().open(name, mode, *args, **kwargs)
            if mode == "w" and name.startswith("xl/worksheets/"):

                def write(data: Any) -> int:
                    raise OSError(failure, os.strerror(failure))

                handle.write = write  # type: ignore[method-assign]
            return handle

    monkeypatch.setattr(zipfile, "ZipFile", Full)
    with pytest.raises(WorkbookUnreadable, match=said) as raised:
        xlsx_read.read_workbook(path)
    if failure == errno.ENOSPC:
        assert "'S'" in str(raised.value) and str(temp) in str(raised.value)
    assert list(temp.iterdir()) == []
    assert path.read_bytes() == before


def spy_copies(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """The tabs read from a copy with known codes (spied on), and whether the fast way."""
    copies: list[tuple[str, bool]] = []
    real = xlsx_read._known_codes_read

    def spy(path: Path, pkg: Any, name: str, fast: bool = True) -> Any:
        copies.append((name, fast))
        return real(path, pkg, name, fast)

    monkeypatch.setattr(xlsx_read, "_known_codes_read", spy)
    return copies


def test_a_workbook_unreadable_otherwise_says_why(tmp_path: Path) -> None:
    """A workbook calamine refuses for another reason than an error code is not read again:
    the message is calamine's."""
    xml = with_cell(sheet_xml(), "C50", '<c r="C50" t="n"><v>not a number</v></c>')
    path = write_package(tmp_path / "bad.xlsx", xml)
    with pytest.raises(WorkbookUnreadable, match="cannot read it"):
        xlsx_read.read_workbook(path)


def test_formulas_with_cached_values(tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "formulas.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("S")
    when = book.add_format({"num_format": "yyyy-mm-dd"})
    for col, header in enumerate(["n", "text", "flag", "err", "day", "plain"]):
        ws.write_string(0, col, header)
    for row in range(1, 100):
        ws.write_formula(row, 0, f"=ROW()*2+{row % 3}", None, (row + 1) * 2 + row % 3)
        ws.write_formula(row, 1, f'="t{row}"', None, f"t{row}")
        ws.write_formula(row, 2, "=TRUE()", None, row % 2 == 0)
        if row % 4:
            ws.write_number(row, 3, row / 7)
        else:
            ws.write_formula(row, 3, "=1/0", None, "#DIV/0!")
        ws.write_formula(row, 4, f"=DATE(2024,1,{row})", when, 45291 + row)
        ws.write_number(row, 5, row)
    ws.write_formula(100, 0, "=1+1")  # no cached value: xlsxwriter stores 0
    book.close()
    reads = read_both_ways(path)
    assert "S" in reads.routes
    sheet = reads.book.sheets[0]
    assert len(sheet.formulas) == 4 * 99 + 99 // 4 + 1
    assert sheet.value(5, 4) == ExcelError("#DIV/0!") and sheet.value(6, 5) == date(2024, 1, 5)


# -- shared strings, rich text, inline strings, hand-made sheet XML ----------------------------


def test_shared_strings_and_rich_text(tmp_path: Path) -> None:
    wb, ws = new_sheet()
    clean_tab(ws, last=80)
    bold = InlineFont(b=True)
    ws["A1"] = CellRichText(TextBlock(bold, "客户"), "名称")
    ws["E1"] = "note"
    for row in range(2, 81):
        put(ws, row, 5, CellRichText("plain ", TextBlock(bold, f"bold {row}")))
    reads = read_both_ways(save(wb, tmp_path / "rich.xlsx"))
    assert reads.routes == {"S": Route.FAST}
    assert reads.book.sheets[0].rows[0][0] == "客户名称"
    assert reads.book.sheets[0].rows[59][4] == "plain bold 60"


CT_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STYLES_XML = (  # style 1: a date, style 2: a date and time
    f'<styleSheet xmlns="{NS}"><fonts count="1"><font><sz val="11"/></font></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/>'
    '<xf numFmtId="22" applyNumberFormat="1"/></cellXfs></styleSheet>'
)
SHARED = ["shared", "共享", " spaced "]


def write_package(
    path: Path, sheet_xml: str, strings: list[str] = SHARED, sst_pfx: str = ""
) -> Path:
    """A one-tab package ("S") written by hand, with the styles above and `strings` shared
    (their part's elements with the namespace prefix `sst_pfx`)."""
    p = sst_pfx + ":" if sst_pfx else ""
    shared = "".join(f'<{p}si><{p}t xml:space="preserve">{s}</{p}t></{p}si>' for s in strings)
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{CT_MAIN}.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{CT_MAIN}.worksheet+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{CT_MAIN}.styles+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" '
            f'ContentType="{CT_MAIN}.sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{NS}" xmlns:r="{RELS}"><sheets>'
            '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{RELS}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId3" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
        "xl/styles.xml": STYLES_XML,
        "xl/sharedStrings.xml": (
            f'<{p}sst xmlns{":" + sst_pfx if sst_pfx else ""}="{NS}" count="{len(strings)}" '
            f'uniqueCount="{len(strings)}">{shared}</{p}sst>'
        ),
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + text)
    return path


def _cells(row: int) -> Iterable[tuple[str, str, str]]:
    """(column, attributes, body) of row `row`'s cells: an inline string, a shared string, a
    number, a date, a date and time, a formula's cached text, an ISO date, an empty `<v/>`."""
    yield "A", ' t="inlineStr"', f"<is><t>inline {row}</t></is>"
    yield "B", ' t="s"', f"<v>{row % len(SHARED)}</v>"
    yield "C", "", f"<v>{row * 1.25}</v>"
    yield "D", ' s="1"', f"<v>{45000 + row}</v>"
    yield "E", ' s="2"', f"<v>{45000 + row + row / 97}</v>"
    yield "F", ' t="str"', f"<f>A{row}</f><v>cached {row}</v>"
    yield "G", ' t="d"', f"<v>2024-03-{1 + row % 28:02d}T10:{row % 60:02d}:00</v>"
    if row % 5:
        yield "H", "", "<v/>" if row % 2 else ""


def sheet_xml(
    rows: int = 80,
    *,
    pfx: str = "",
    dimension: str | None = "A1:H80",
    row_numbers: bool = True,
    cell_refs: bool = True,
) -> str:
    p = pfx + ":" if pfx else ""
    out = [f'<{p}worksheet xmlns{":" + pfx if pfx else ""}="{NS}">']
    if dimension:
        out.append(f'<{p}dimension ref="{dimension}"/>')
    out.append(f"<{p}sheetData>")
    for r in range(1, rows + 1):
        out.append(f'<{p}row r="{r}">' if row_numbers else f"<{p}row>")
        for col, attrs, body in _cells(r):
            ref = f' r="{col}{r}"' if cell_refs else ""
            body = body.replace("<", f"<{p}").replace(f"<{p}/", f"</{p}") if p else body
            out.append(f"<{p}c{ref}{attrs}>{body}</{p}c>" if body else f"<{p}c{ref}{attrs}/>")
        out.append(f"</{p}row>")
    out.append(f"</{p}sheetData></{p}worksheet>")
    return "".join(out)


HAND_MADE = {  # id: (sheet XML, the route, or None when either is fine)
    "inline and shared strings, dates, cached text, ISO dates": (sheet_xml(), None),
    "a namespace prefix": (sheet_xml(pfx="x"), None),
    "no dimension": (sheet_xml(dimension=None), None),
    "a dimension wider and longer than the cells": (sheet_xml(dimension="A1:Z500"), None),
    "a dimension smaller than the cells": (sheet_xml(dimension="A1:B2"), None),
    "cells without r": (sheet_xml(cell_refs=False), None),
    "rows without r": (sheet_xml(row_numbers=False), Route.FALLBACK),
    "rows and cells without r": (
        sheet_xml(row_numbers=False, cell_refs=False),
        Route.FALLBACK,
    ),
}


@pytest.mark.parametrize(("xml", "route"), HAND_MADE.values(), ids=HAND_MADE)
def test_hand_made_sheet_xml(tmp_path: Path, xml: str, route: Route | None) -> None:
    reads = read_both_ways(write_package(tmp_path / "hand.xlsx", xml))
    assert reads.routes.keys() == {"S"}
    if route is not None:
        assert reads.routes["S"] is route
    assert reads.book.sheets[0].value(50, 1) == "inline 50"


def with_cell(xml: str, ref: str, cell: str, pfx: str = "") -> str:
    """`xml` with the cell at `ref` replaced by `cell` (written without a namespace prefix:
    `pfx` is put on its elements)."""
    p = pfx + ":" if pfx else ""
    if p:
        cell = re.sub(r"<(/?)(\w)", rf"<\1{p}\2", cell)
    found = re.search(rf'<{p}c r="{ref}"[^>]*?(?:/>|>.*?</{p}c>)', xml)
    assert found is not None
    return xml[: found.start()] + cell + xml[found.end() :]


RICH = '<is><r><rPr><b/><color rgb="FFFF0000"/><charset val="134"/></rPr><t>TBD</t></r></is>'
MIXED_BY_HAND = {  # id: (sheet XML with a text among the numbers of column C, the route)
    "an inline text": (
        with_cell(sheet_xml(), "C50", '<c r="C50" t="inlineStr"><is><t>TBD</t></is></c>'),
        Route.FAST,
    ),
    "rich text": (
        with_cell(sheet_xml(), "C50", f'<c r="C50" t="inlineStr">{RICH}</c>'),
        Route.FAST,
    ),
    "a shared string": (with_cell(sheet_xml(), "C50", '<c r="C50" t="s"><v>1</v></c>'), Route.FAST),
    "a namespace prefix": (
        with_cell(
            sheet_xml(pfx="x"), "C50", '<c r="C50" t="inlineStr"><is><t>TBD</t></is></c>', "x"
        ),
        Route.FAST,
    ),
    "r not the first attribute": (
        with_cell(sheet_xml(), "C50", '<c t="inlineStr" r="C50"><is><t>TBD</t></is></c>'),
        Route.FALLBACK,
    ),
    "a cell without r": (
        with_cell(sheet_xml(), "C50", '<c r="C50" t="inlineStr"><is><t>TBD</t></is></c><c/>'),
        Route.FALLBACK,
    ),
}


@pytest.mark.parametrize(("xml", "route"), MIXED_BY_HAND.values(), ids=MIXED_BY_HAND)
def test_hand_made_mixed_column(tmp_path: Path, xml: str, route: Route) -> None:
    """A mixed column is read exactly only where every cell of the sheet says where it is
    the way every writer writes it (`r` first): another cell could be in that column."""
    reads = read_both_ways(write_package(tmp_path / "hand.xlsx", xml))
    assert reads.routes == {"S": route}
    assert reads.book.sheets[0].value(50, 3) in ("TBD", SHARED[1])


def shared_strings_sheet(header: list[int], body: Callable[[int], int], rows: int = 90) -> str:
    """Column A a shared-string header (`header`: the strings' indices) then `body(row)`'s
    string, column B a number."""
    out = [f'<worksheet xmlns="{NS}"><sheetData><row r="1">']
    out += [f'<c r="{chr(65 + k)}1" t="s"><v>{i}</v></c>' for k, i in enumerate(header)]
    out.append("</row>")
    for r in range(2, rows + 1):
        out.append(f'<row r="{r}"><c r="A{r}" t="s"><v>{body(r)}</v></c><c r="B{r}"><v>{r}</v></c>')
        out.append("</row>")
    out.append("</sheetData></worksheet>")
    return "".join(out)


STRINGS = [f"text {i}" for i in range(3000)]
HEADS = {  # id: (header's string indices, a row's string index, the SST's prefix)
    "the head's strings first": ([0, 1], lambda r: 100 + r, ""),
    "the head's strings last": ([2998, 2999], lambda r: r, ""),
    "a prefixed table": ([0, 5], lambda r: 100 + r, "x"),
    "rows far into the table": ([0], lambda r: 2000 + r, ""),
}


@pytest.mark.parametrize(("header", "body", "pfx"), HEADS.values(), ids=HEADS)
def test_the_head_reads_only_the_shared_strings_it_uses(
    tmp_path: Path, header: list[int], body: Callable[[int], int], pfx: str
) -> None:
    """The copies of the package the head and the sample are read from hold only the shared
    strings the sample's rows use (here every row but the last, before which the sample is
    cut), numbered anew (readers read every string they are given), and read the same."""
    used = {*header, *map(body, range(2, 90))}
    path = write_package(
        tmp_path / "sst.xlsx", shared_strings_sheet(header, body), STRINGS, sst_pfx=pfx
    )
    made: list[Any] = []
    real = xlsx_fast._strings_for

    def spy(*args: Any) -> Any:
        made.append(real(*args))
        return made[-1]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(xlsx_fast, "_strings_for", spy)
        reads = read_both_ways(path)
    assert reads.routes == {"S": Route.FAST}
    assert len(made) == 1 and made[0] is not None
    assert made[0].part.count(b"si>") // 2 == len(used) < len(STRINGS)
    rows = reads.book.sheets[0].rows
    assert rows[0][: len(header)] == [STRINGS[i] for i in header]
    assert rows[59][0] == STRINGS[body(60)]


# -- the 1904 date system -----------------------------------------------------------------------


def test_1904_date_system(tmp_path: Path) -> None:
    wb, ws = new_sheet(epoch=CALENDAR_MAC_1904)
    for i, (header, make) in enumerate(
        [("day", _day), ("when", _moment), ("at", _clock), ("took", _duration), ("n", _number)],
        start=1,
    ):
        put(ws, 1, i, header)
        fill_column(ws, i, 2, 90, make, seed=i)
    reads = read_both_ways(save(wb, tmp_path / "mac.xlsx"))
    assert reads.routes == {"S": Route.FALLBACK}  # xlsx_fast leaves 1904 workbooks to calamine
    sheet = reads.book.sheets[0]
    assert kinds(sheet, 1) == {date} and kinds(sheet, 2) == {datetime}


# -- sparse rows --------------------------------------------------------------------------------


def test_sparse_rows_and_a_last_row_far_below(tmp_path: Path) -> None:
    wb, ws = new_sheet()
    clean_tab(ws, last=45)
    for row in range(46, 80):  # a gap of empty rows…
        for col in range(1, len(CLEAN) + 1):
            ws.cell(row=row, column=col).value = None
    rng = random.Random(8)
    for row in range(80, 100):  # …data again, and one cell far below
        for col, (_, make) in enumerate(CLEAN, start=1):
            put(ws, row, col, make(rng))
    put(ws, 5000, 2, 1.5)
    put(ws, 60, 300, "far right")
    reads = read_both_ways(save(wb, tmp_path / "sparse.xlsx"))
    assert reads.routes == {"S": Route.FAST}
    assert len(reads.book.sheets[0].rows) == 5000


# -- several tabs, a chart sheet, a threshold, .xlsm ------------------------------------------


def several_tabs(path: Path) -> Path:
    wb, big = new_sheet("Big")
    typical_tab(big, top=1, left=1, last=150)
    small = wb.create_sheet("Small")
    for row in [["a", "b"], [1, date(2024, 1, 2)], [2, "x"]]:
        small.append(row)
    wb.create_sheet("Empty")
    hidden = wb.create_sheet("Hidden")
    hidden.sheet_state = "hidden"
    clean_tab(hidden, last=60)
    chart = BarChart()
    chart.add_data(Reference(big, min_col=2, min_row=1, max_row=20), titles_from_data=True)
    wb.create_chartsheet("Chart").add_chart(chart)
    return save(wb, path)


def test_several_tabs_and_a_chart_sheet(tmp_path: Path) -> None:
    reads = read_both_ways(several_tabs(tmp_path / "tabs.xlsx"))
    assert [s.name for s in reads.book.sheets] == ["Big", "Small", "Empty", "Hidden"]
    # the chart sheet has no cells to read; a tab that ends within the head has nothing to gain
    assert reads.routes == {
        "Big": Route.FAST,
        "Small": Route.FALLBACK,
        "Empty": Route.FALLBACK,
        "Hidden": Route.FAST,
    }
    assert reads.book.sheet("Hidden").hidden  # type: ignore[union-attr]


def test_only_tabs_over_the_threshold_try_the_fast_reader(tmp_path: Path) -> None:
    path = several_tabs(tmp_path / "tabs.xlsx")
    with zipfile.ZipFile(path) as zf:
        pkg = load_package(zf)
        sizes = {ref.name: zf.getinfo(ref.part).file_size for ref in pkg.sheets}
    reads = read_both_ways(path, threshold=sizes["Big"])
    assert reads.routes == {"Big": Route.FAST}
    assert all(sizes[name] < sizes["Big"] for name in ("Small", "Empty", "Hidden"))


def test_macro_enabled_workbook(tmp_path: Path) -> None:
    """An .xlsm: the same package with the macro-enabled workbook content type."""
    wb, ws = new_sheet()
    typical_tab(ws, top=1, left=1, last=60)
    plain = save(wb, tmp_path / "plain.xlsx")
    path = tmp_path / "book.xlsm"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    f"{CT_MAIN}.sheet.main+xml".encode(),
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                )
                assert b"macroEnabled" in data
            out.writestr(info, data)
    reads = read_both_ways(path)
    assert reads.routes == {"S": Route.FAST}


# -- edge values and number formats -----------------------------------------------------------

FAST, EITHER = Route.FAST, None
EDGES = {  # id: (values for a column, their number format if not openpyxl's, the route)
    # serial 1 (1900-01-01) reads in milliseconds as a serial just below it (a time) would:
    # the fast reader leaves such a tab to python-calamine
    "1900 dates around the leap-year bug": (
        [date(1900, 1, 1), date(1900, 1, 2), date(1900, 2, 28), date(1900, 3, 1)],
        None,
        EITHER,
    ),
    "1900 dates after the first": (
        [date(1900, 1, 2), date(1900, 2, 28), date(1900, 3, 1)],
        None,
        FAST,
    ),
    "1900 datetimes": ([datetime(1900, 1, 1, 12), datetime(1900, 1, 2, 6, 30)], None, FAST),
    "far dates": ([date(9999, 12, 31), datetime(9999, 12, 31, 23, 59, 59)], None, FAST),
    "midnight and almost midnight": (
        [datetime(2024, 1, 1), datetime(2024, 1, 1, 23, 59, 59, 999_000)],
        None,
        FAST,
    ),
    "times at the ends of the day": (
        [time(0, 0), time(0, 0, 0, 1000), time(23, 59, 59)],
        None,
        FAST,
    ),
    "durations of nothing and over a day": (
        [timedelta(0), timedelta(days=3, seconds=1), timedelta(milliseconds=1)],
        None,
        FAST,
    ),
    "negative numbers with a date format": ([-1.0, -0.5, 0.0, 0.25], "yyyy-mm-dd", FAST),
    "numbers with a duration format": ([0.0, 1.5, 100.25, -2.0], "[h]:mm:ss", FAST),
    "floats at the edges": (
        [5e-324, 1.7976931348623157e308, -0.0, 1 / 3, 2**53 + 1],
        None,
        FAST,
    ),
    # serials no one types into a date or time cell, but formulas and typos leave there; the
    # fast reader may answer None for them, not a different cell
    "a time a hair below a whole day": ([time(9, 30), 0.9999999999], "hh:mm:ss", EITHER),
    "serials after 9999-12-31": (
        [date(2024, 1, 2), 2958466.0, 2958466.5],
        "yyyy-mm-dd",
        EITHER,
    ),
    "a phone number in a date column": ([date(2024, 1, 2), 13800138000], "yyyy-mm-dd", EITHER),
}


@pytest.mark.parametrize(("values", "fmt", "route"), EDGES.values(), ids=EDGES)
def test_edge_values(
    tmp_path: Path, values: list[Any], fmt: str | None, route: Route | None
) -> None:
    wb, ws = new_sheet()
    put(ws, 1, 1, "v")
    for row in range(2, HEAD + 41):
        put(ws, row, 1, values[row % len(values)])
        if fmt:
            ws.cell(row=row, column=1).number_format = fmt
    reads = read_both_ways(save(wb, tmp_path / "edges.xlsx"))
    assert reads.routes.keys() == {"S"}
    if route is not None:
        assert reads.routes["S"] is route


def test_a_whole_day_to_the_millisecond_reads_as_a_date(tmp_path: Path) -> None:
    """The one known difference. A date serial a float's hair off a whole day (what formula
    arithmetic leaves: 45000 + 1e-12) reads through python-calamine as a datetime at midnight,
    and here as a date: fastexcel's milliseconds cannot tell it from the whole day. Nothing
    else differs, and the core takes the two alike: a date field takes the day, a datetime
    field midnight, and the write-back counts them as the same value."""
    from sync.core.parse import ParseContext, parse_value
    from sync.core.plan import same_value
    from sync.core.schema import SCHEMA

    hairs = [math.nextafter(45000.0, math.inf), math.nextafter(45000.0, 0.0), 45000.0 + 5e-9]
    wb, ws = new_sheet()
    put(ws, 1, 1, "v")
    for row in range(2, HEAD + 41):
        ws.cell(row=row, column=1, value=[date(2024, 1, 2), *hairs][row % 4])
        ws.cell(row=row, column=1).number_format = "yyyy-mm-dd"
    path = save(wb, tmp_path / "hairs.xlsx")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(xlsx_read, "FAST_MIN_BYTES", NEVER)
        slow = xlsx_read.read_workbook(path).sheets[0]
        mp.setattr(xlsx_read, "FAST_MIN_BYTES", 0)
        fast = xlsx_read.read_workbook(path).sheets[0]
    assert isinstance(fast.rows, ColumnGrid)  # the fast way was taken
    differ = 0
    ctx = ParseContext()
    leads = SCHEMA.table("leads")
    day, moment = leads.field("expected_close"), leads.field("created_at")
    for r, (got, want) in enumerate(zip(fast.rows, slow.rows, strict=True), start=1):
        if same_cell(got[0], want[0]):
            continue
        differ += 1
        assert r > HEAD and r % 4 != 0, (r, got[0], want[0])  # a hair cell below the head
        assert got[0] == date(2023, 3, 15) and want[0] == datetime(2023, 3, 15)
        assert parse_value(got[0], day, ctx) == parse_value(want[0], day, ctx)
        assert parse_value(got[0], moment, ctx) == parse_value(want[0], moment, ctx)
        assert same_value(got[0], want[0])  # type: ignore[arg-type]
    assert differ == 3 * 10  # the 40 rows below the head: 30 hair cells


NUMBER_FORMATS = [  # built-in and custom formats, each for a column of the same serials
    *["General", "0.00%", "#,##0.00", "@", "0.00E+00", "# ?/?", ";;;", "0;-0;;@", '"m"0'],
    *["[<=9999999]###-####;(###) ###-####", "[$€-2] #,##0.00", "\\d0"],
    *['yyyy"年"m"月"d"日"', "[$-F800]dddd\\,\\ mmmm\\ dd\\,\\ yyyy", "m/d/yy h:mm"],
    *["h:mm AM/PM", "mm:ss.0", '"Date: "yyyy-mm-dd', "[Red]yyyy-mm-dd", "yyyy-mm-dd;@"],
    *["d-mmm", "[$-409]mmm-yy", "dd/mm/yyyy hh:mm:ss.000", 'ggge"年"m"月"d"日"', "b2yyyy-mm-dd"],
    *['[DBNum1]yyyy"年"m"月"', 'hh"h"mm', "yy", "AM/PM"],
    *["[h]:mm", "[mm]:ss", "[ss]", "[h]:mm:ss;@"],
]


def test_number_formats(tmp_path: Path) -> None:
    """Which formats make a number a date, a time or a duration is calamine's call: the fast
    reader's calamine (inside fastexcel) must make the same one."""
    wb, ws = new_sheet()
    serials = [45000.5, 0.25, 45001, 1.75, -3.0, 100000.125]
    for col, fmt in enumerate(NUMBER_FORMATS, start=1):
        put(ws, 1, col, fmt)
        for row in range(2, HEAD + 50):
            ws.cell(row=row, column=col, value=serials[row % len(serials)]).number_format = fmt
    reads = read_both_ways(save(wb, tmp_path / "formats.xlsx"))
    assert reads.routes == {"S": Route.FAST}
    sheet = reads.book.sheets[0]
    seen = set().union(*(kinds(sheet, col) for col in range(1, len(NUMBER_FORMATS) + 1)))
    assert seen == {float, date, datetime, time, timedelta}


# -- any tab of one-kind columns ---------------------------------------------------------------

KINDS = {
    "text": st.sampled_from(WORDS) | st.text(st.characters(codec="utf-8", categories=["L", "Zs"])),
    "number": st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**9), 10**9),
    "date": st.dates(date(1900, 3, 1), date(9999, 12, 30)),
    "datetime": st.integers(1, 10**13).map(
        lambda ms: datetime(1900, 3, 1) + timedelta(milliseconds=ms)
    ),
    "time": st.integers(1, 86_399_999).map(
        lambda ms: (datetime.min + timedelta(milliseconds=ms)).time()
    ),
    "duration": st.integers(0, 10**10).map(lambda ms: timedelta(milliseconds=ms)),
    "bool": st.booleans(),
}


def drawn_tab(
    draw: st.DrawFn, tallest: int, widest: int, strays: int, stray: st.SearchStrategy[Any]
) -> tuple[int, int, list[list[Any]]]:
    """(first row, first column, rows): up to `widest` columns of one kind each, up to
    `tallest` rows, into which up to `strays` cells drawn from `stray` are put anywhere (so
    that a column or two may be mixed)."""
    height = draw(st.integers(HEAD + 1, tallest))
    columns = []
    for kind in draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=widest)):
        cell = st.none() | KINDS[kind]
        columns.append(draw(st.lists(cell, min_size=height, max_size=height)))
    for _ in range(draw(st.integers(0, strays))):
        col = draw(st.integers(0, len(columns) - 1))
        row = draw(st.integers(0, height - 1))
        columns[col][row] = draw(stray)
    top, left = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    return top, left, [list(r) for r in zip(*columns, strict=True)]


@st.composite
def tabs(draw: st.DrawFn) -> tuple[int, int, list[list[Any]]]:
    """Tabs of up to 120 rows and six columns with up to two cells of any kind put in."""
    return drawn_tab(draw, 120, 6, 2, st.sampled_from(sorted(KINDS)).flatmap(KINDS.__getitem__))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(tab=tabs())
@example(tab=(4, 1, [[None] * 4] * 27 + [["", None, None, None]]))  # found in CI
@example(tab=(4, 1, [[None]] * 29 + [["   "], [False]]))  # found in CI
def test_any_tab_reads_the_same_both_ways(tab: tuple[int, int, list[list[Any]]]) -> None:
    top, left, rows = tab
    wb, ws = new_sheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                put(ws, top + r, left + c, value)
    with tempfile.TemporaryDirectory() as folder:
        reads = read_both_ways(save(wb, Path(folder) / "any.xlsx"))
    assert reads.routes.keys() == {"S"}
    # openpyxl writes '' as an inline string without text, which calamine's range leaves out:
    # a tab holding nothing else below the head has no rows there for fastexcel
    held = [r for r, row in enumerate(rows) if any(v not in (None, "") for v in row)]
    last = max((top + r for r in held), default=0)
    if last > HEAD:  # mixed columns too: they are read exactly
        assert reads.routes["S"] is Route.FAST


class Code(str):
    """An error value to put in a cell (its code), as Excel writes it: `t="e"`."""


STRAYS = st.one_of(
    *KINDS.values(),
    st.sampled_from(["", "   ", "TBD", "#N/A"]),  # '' and spaces read as '' by fastexcel
    st.sampled_from(["#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"]).map(Code),
)


@st.composite
def tall_tabs(draw: st.DrawFn) -> tuple[int, int, list[list[Any]]]:
    """`tabs`, taller, with up to four cells of any kind or an error value put anywhere in it
    (most of them below the few rows the sample holds when the sample is small)."""
    return drawn_tab(draw, 160, 5, 4, STRAYS)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(tab=tall_tabs(), sample=st.sampled_from([1 << 10, 1 << 12]))
def test_any_tab_reads_the_same_both_ways_below_a_small_sample(
    tab: tuple[int, int, list[list[Any]]], sample: int
) -> None:
    """As `test_any_tab_reads_the_same_both_ways`, with a sample of a few rows (a workbook's 2
    MiB are some thousands): a column mixed, an error value or a text read as '' below it is
    found by fastexcel's parse of the whole tab, which runs again without the column (once;
    a tab it cannot vouch for is read by python-calamine). Whatever the way, the cells are
    python-calamine's."""
    from sync.backends import xlsx_package

    top, left, rows = tab
    wb, ws = new_sheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            put(ws, top + r, left + c, str(value) if isinstance(value, Code) else value)
            if isinstance(value, Code):
                ws.cell(row=top + r, column=left + c).data_type = "e"
    with pytest.MonkeyPatch.context() as mp, tempfile.TemporaryDirectory() as folder:
        mp.setattr(xlsx_package, "CHUNK", 1 << 9)
        mp.setattr(xlsx_fast, "SAMPLE_BYTES", sample)
        reads = read_both_ways(save(wb, Path(folder) / "tall.xlsx"))
    assert reads.routes.keys() == {"S"}
    codes = {
        (top + r, left + c): ExcelError(value)
        for r, row in enumerate(rows)
        for c, value in enumerate(row)
        if isinstance(value, Code)
    }
    sheet = reads.book.sheets[0]
    assert {at: sheet.value(*at) for at in codes} == codes


# -- the repo's own workbooks ------------------------------------------------------------------

TEMPLATES = sorted((Path(__file__).parents[2] / "workbook_templates").glob("*.xlsx"))


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.name for t in TEMPLATES])
def test_templates(template: Path) -> None:
    reads = read_both_ways(template)
    assert reads.routes.keys() == {s.name for s in reads.book.sheets}


@pytest.mark.parametrize("synced", [False, True], ids=["as built", "synced"])
def test_demo_workbook(tmp_path: Path, synced: bool) -> None:
    from sync.backends.xlsx import XlsxBackend
    from sync.demo import build_demo_workbook
    from sync.job import sync_workbook

    path = tmp_path / "demo.xlsx"
    manifest = build_demo_workbook(path)
    if synced:
        assert sync_workbook(XlsxBackend(path), write=True, as_of=manifest.as_of).wrote
    reads = read_both_ways(path)
    assert reads.routes.keys() == {s.name for s in reads.book.sheets}
    assert Route.FAST in reads.routes.values()


# -- a panic in a Rust extension ------------------------------------------------------------

# pyo3 raises a Rust panic as `pyo3_runtime.PanicException`, a BaseException (the module
# exists only once a panic happened): the same class here, by name and module
PanicException = type("PanicException", (BaseException,), {"__module__": "pyo3_runtime"})


def test_a_panic_in_the_fast_reader_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def panic(*args: Any) -> Any:
        raise PanicException("called `Option::unwrap()` on a `None` value")

    monkeypatch.setattr(xlsx_fast, "_body", panic)
    wb, ws = new_sheet()
    clean_tab(ws, last=120)
    reads = read_both_ways(save(wb, tmp_path / "panic.xlsx"))
    assert reads.routes == {"S": Route.FALLBACK}
    assert len(reads.book.sheets[0].rows) == 120


def test_a_panic_reading_a_mixed_column_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """python-calamine panicking on the copy of a mixed column, in the thread beside
    fastexcel's parse: the tab is read the exact way."""

    def panic(*args: Any) -> Any:
        raise PanicException("called `Option::unwrap()` on a `None` value")

    monkeypatch.setattr(xlsx_fast, "_exact_columns", panic)
    wb, ws = new_sheet()
    clean_tab(ws, last=120)
    put(ws, 60, 3, "TBD")
    reads = read_both_ways(save(wb, tmp_path / "panic.xlsx"))
    assert reads.routes == {"S": Route.FALLBACK}
    assert reads.book.sheets[0].rows[59][2] == "TBD"


def test_a_mixed_column_read_is_stopped_when_the_tab_goes_the_exact_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fastexcel's parse gives up (here: the tab holds more columns of two kinds than it may)
    while a mixed column is being read exactly: that read is told to stop and the tab is
    read by python-calamine."""
    stops: list[bool] = []
    real = xlsx_fast._exact_columns

    def exact(*args: Any) -> Any:
        stop = args[-1]
        assert stop.wait(10), "the exact read was never told to stop"
        stops.append(stop.is_set())
        return real(*args)

    from sync.backends import xlsx_package

    monkeypatch.setattr(xlsx_fast, "_exact_columns", exact)
    monkeypatch.setattr(xlsx_fast, "MAX_RELOADS", 0)
    monkeypatch.setattr(xlsx_package, "CHUNK", 1 << 14)  # as in `parses`: a sample of
    monkeypatch.setattr(xlsx_fast, "SAMPLE_BYTES", 1 << 15)  # some hundreds of rows
    wb, ws = new_sheet()
    clean_tab(ws, last=2500)
    put(ws, 60, 3, "TBD")  # in the sample: read exactly from the start
    put(ws, 2400, 2, "x")  # below it: named by the whole parse, which may not run again
    reads = read_both_ways(save(wb, tmp_path / "stopped.xlsx"))
    assert reads.routes == {"S": Route.FALLBACK}
    assert stops == [True]


@pytest.mark.parametrize("fast", [True, False], ids=["fast way", "python-calamine"])
def test_a_panic_reading_a_tab_says_the_workbook_cannot_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast: bool
) -> None:
    def panic(*args: Any) -> Any:
        raise PanicException("index out of bounds")

    monkeypatch.setattr(xlsx_read, "_read_grid", panic)
    monkeypatch.setattr(xlsx_fast, "_body", panic)  # the fast way falls back, then this
    monkeypatch.setattr(xlsx_read, "FAST_MIN_BYTES", 0 if fast else NEVER)
    wb, ws = new_sheet()
    clean_tab(ws, last=50)
    path = save(wb, tmp_path / "panic.xlsx")
    with pytest.raises(WorkbookUnreadable) as raised:
        xlsx_read.read_workbook(path)
    assert str(raised.value) == f"{path}: cannot read it (index out of bounds)"


def test_an_interrupt_while_reading_is_not_turned_into_an_unreadable_workbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(*args: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(xlsx_read, "_read_grid", interrupt)
    wb, ws = new_sheet()
    clean_tab(ws, last=50)
    with pytest.raises(KeyboardInterrupt):
        xlsx_read.read_workbook(save(wb, tmp_path / "stop.xlsx"))


@pytest.mark.parametrize(
    ("cell", "kept"),
    [
        ('<c r="B3" t="inlineStr"><is><t>TBD</t></is></c>', True),
        (f'<c r="B3" t="inlineStr">{RICH}</c>', True),  # <color>, <charset>: no cells
        ('<c t="inlineStr"><is><t>TBD</t></is></c>', False),  # no reference: which column?
        ('<c s="1" r="B3"><v>1</v></c>', False),  # the reference not first
        ("<c><v>1</v></c>", False),
    ],
)
def test_the_copy_of_a_column_needs_every_cell_numbered(
    tmp_path: Path, cell: str, kept: bool
) -> None:
    """A column read exactly is copied out of the sheet by its cells' references: a sheet with a
    cell written without its reference first cannot be copied so (None: the tab goes to
    python-calamine), while elements whose names start as a cell's do not count as cells."""
    import threading

    rows = [
        f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>{r}</v></c></row>' for r in (1, 2)
    ]
    rows.append(f'<row r="3"><c r="A3"><v>3</v></c>{cell}</row>')
    xml = (
        f'<?xml version="1.0"?><worksheet xmlns="{NS_MAIN}"><sheetData>'
        + "".join(rows)
        + "</sheetData></worksheet>"
    ).encode()
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("s.xml", xml)
    with zipfile.ZipFile(path) as zf:
        copy = xlsx_fast._only_columns(zf, "s.xml", b"", [1], threading.Event())
    assert (copy is not None) is kept
    if copy is not None:  # column B moved to A, one row a cell
        assert copy.count(b"<c ") == 3 and b'<c r="A3"' in copy and b'r="B' not in copy
