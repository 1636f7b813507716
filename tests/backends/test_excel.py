"""The live-Excel backend (xlwings): the contract the xlsx backend passes, run against a fake of
the slice of the xlwings object model the backend uses (Excel cannot run on Linux), plus the
pure block planning, the call budget, and an opt-in run against a real Excel.

The fake behaves as desktop Excel does where it matters: values come back as floats,
datetimes and None; errors as text only with ``err_to_str=True``; ``used_range`` starts at the
first used cell, not A1; ``formula`` reads a cell's source (a text cell's own text, without
its apostrophe prefix) as a tuple of tuples; and a string written without the apostrophe
prefix is parsed as if typed ("=x" becomes a formula, "0012" the number 12).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.backends.excel import (
    NOT_AVAILABLE,
    Block,
    ExcelAccessError,
    ExcelBackend,
    ExcelUnavailable,
    WorkbookChanged,
    from_excel,
    plan_blocks,
    to_excel,
)
from sync.backends.xlsx import XlsxBackend
from sync.core.errors import SalesyncError
from sync.core.model import CellWrite, ExcelError, TabWrite, WritePlan

# --------------------------------------------------------------------------- the fake


@dataclass(frozen=True)
class Err:
    """An error value held by a cell; COM hands the newer ones (#SPILL!) over as ints."""

    code: str
    com: int | None = None


@dataclass(frozen=True)
class F:
    """A formula cell in a seed: its source and its current (cached) value."""

    expr: str
    value: Any


@dataclass
class Cell:
    value: Any = None
    formula: str | None = None
    prefixed: bool = False  # typed with an apostrophe
    bold: bool = False
    font_color: tuple[int, int, int] | None = None
    fill: tuple[int, int, int] | None = None


_EPOCH = datetime(1899, 12, 30)


def _typed(text: str) -> Cell:
    """What Excel makes of a string handed to Range.Value: as if typed into the cell."""
    if text.startswith("'"):
        return Cell(text[1:], prefixed=True)
    if text[:1] in ("=", "+", "-", "@") and len(text) > 1:
        return Cell(Err("#NAME?"), formula="=" + text.lstrip("=+@"))
    if text.upper() in ("TRUE", "FALSE"):
        return Cell(text.upper() == "TRUE")
    try:
        return Cell(float(text))
    except ValueError:
        pass
    try:
        return Cell(datetime.fromisoformat(text))
    except ValueError:
        return Cell(text)


def _stored(value: Any) -> Cell:
    if value is None or value == "":
        return Cell()
    if isinstance(value, F):
        return Cell(_stored(value.value).value, formula=value.expr)
    if isinstance(value, Err):
        return Cell(value)
    if isinstance(value, bool):
        return Cell(value)
    if isinstance(value, int | float):
        return Cell(float(value))
    if isinstance(value, datetime):
        return Cell(value)
    if isinstance(value, date):
        return Cell(datetime(value.year, value.month, value.day))
    if isinstance(value, time):
        return Cell(datetime.combine(_EPOCH.date(), value))
    assert isinstance(value, str), value
    return _typed(value)


def _source(cell: Cell | None) -> str:
    if cell is None or (cell.value is None and cell.formula is None):
        return ""
    if cell.formula is not None:
        return cell.formula
    v = cell.value
    if isinstance(v, Err):
        return v.code
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, datetime):
        return f"{(v - _EPOCH) / timedelta(days=1):g}"
    return str(v)


class FakeApp:
    def __init__(self) -> None:
        self.status_bar: str | bool = False
        self.screen_updating = True
        self.alerts: list[tuple[str, str | None]] = []
        self.calculations = 0

    def alert(self, prompt: str, title: str | None = None, **_: Any) -> str:
        self.alerts.append((prompt, title))
        return "ok"

    def calculate(self) -> None:
        self.calculations += 1


class FakeFont:
    def __init__(self, rng: FakeRange) -> None:
        self._rng = rng

    @property
    def bold(self) -> bool:
        return all(c.bold for c in self._rng.cells())

    @bold.setter
    def bold(self, value: bool) -> None:
        self._rng.log("bold")
        for c in self._rng.cells():
            c.bold = value

    @property
    def color(self) -> tuple[int, int, int] | None:
        return self._rng.cells()[0].font_color

    @color.setter
    def color(self, value: tuple[int, int, int]) -> None:
        self._rng.log("font-color")
        for c in self._rng.cells():
            c.font_color = value


class FakeRange:
    def __init__(self, sheet: FakeSheet, first: tuple[int, int], last: tuple[int, int]) -> None:
        self.sheet = sheet
        self.first, self.last = first, last
        self._options: dict[str, Any] = {}

    def log(self, what: str) -> None:
        self.sheet.book.calls.append((self.sheet.name, what, self.address))

    @property
    def address(self) -> str:
        (r1, c1), (r2, c2) = self.first, self.last
        return f"R{r1}C{c1}:R{r2}C{c2}"

    @property
    def row(self) -> int:
        return self.first[0]

    @property
    def column(self) -> int:
        return self.first[1]

    @property
    def shape(self) -> tuple[int, int]:
        return (self.last[0] - self.first[0] + 1, self.last[1] - self.first[1] + 1)

    @property
    def last_cell(self) -> FakeRange:
        return FakeRange(self.sheet, self.last, self.last)

    def positions(self) -> list[list[tuple[int, int]]]:
        (r1, c1), (r2, c2) = self.first, self.last
        return [[(r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]

    def cells(self) -> list[Cell]:
        return [self.sheet.cells.setdefault(p, Cell()) for row in self.positions() for p in row]

    def options(self, **options: Any) -> FakeRange:
        rng = FakeRange(self.sheet, self.first, self.last)
        rng._options = {**self._options, **options}
        return rng

    def _out(self, cell: Cell | None) -> Any:
        if cell is None or cell.value is None:
            return self._options.get("empty")
        if isinstance(cell.value, Err):
            err = cell.value
            if err.com is not None:
                return err.com
            return err.code if self._options.get("err_to_str") else None
        return cell.value

    @property
    def value(self) -> Any:
        self.log("read")
        grid = [[self._out(self.sheet.cells.get(p)) for p in row] for row in self.positions()]
        if self._options.get("ndim") == 2:
            return grid
        if self.shape == (1, 1):
            return grid[0][0]
        if self.shape[0] == 1:
            return grid[0]
        return [r[0] for r in grid] if self.shape[1] == 1 else grid

    @value.setter
    def value(self, data: Any) -> None:
        self.log("write")
        rows = data if isinstance(data, list) and data and isinstance(data[0], list) else [[data]]
        assert (len(rows), len(rows[0])) == self.shape, (self.shape, rows)
        for prow, drow in zip(self.positions(), rows, strict=True):
            for p, v in zip(prow, drow, strict=True):
                old = self.sheet.cells.get(p, Cell())
                new = _stored(v)
                new.bold, new.font_color, new.fill = old.bold, old.font_color, old.fill
                self.sheet.cells[p] = new

    @property
    def formula(self) -> Any:
        self.log("formula")
        grid = tuple(
            tuple(_source(self.sheet.cells.get(p)) for p in row) for row in self.positions()
        )
        return grid[0][0] if self.shape == (1, 1) else grid

    def clear_contents(self) -> None:
        self.log("clear")
        for row in self.positions():
            for p in row:
                if p in self.sheet.cells:
                    old = self.sheet.cells[p]
                    self.sheet.cells[p] = Cell(bold=old.bold, font_color=old.font_color)

    @property
    def font(self) -> FakeFont:
        return FakeFont(self)

    @property
    def color(self) -> tuple[int, int, int] | None:
        return self.cells()[0].fill

    @color.setter
    def color(self, value: tuple[int, int, int]) -> None:
        self.log("fill")
        for c in self.cells():
            c.fill = value

    @property
    def column_width(self) -> float:
        return self.sheet.widths.get(self.column, 8.43)

    @column_width.setter
    def column_width(self, value: float) -> None:
        self.log("width")
        self.sheet.widths[self.column] = value


class FakeFreezePanes:
    def __init__(self, sheet: FakeSheet) -> None:
        self.sheet = sheet

    def freeze_at(self, where: str) -> None:
        self.sheet.frozen = where


class FakeSheet:
    def __init__(self, book: FakeBook, name: str, visible: Any = True) -> None:
        self.book, self.name, self.visible = book, name, visible
        self.cells: dict[tuple[int, int], Cell] = {}
        self.widths: dict[int, float] = {}
        self.frozen: str | None = None
        self.freeze_panes = FakeFreezePanes(self)

    def seed(self, rows: list[list[Any]]) -> None:
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                cell = _stored(value) if not isinstance(value, str) else Cell(value)
                if isinstance(value, F):
                    cell = _stored(value)
                if cell.value is not None or cell.formula is not None:
                    self.cells[(r, c)] = cell

    def range(self, first: tuple[int, int], last: tuple[int, int] | None = None) -> FakeRange:
        return FakeRange(self, first, last or first)

    @property
    def used_range(self) -> FakeRange:
        used = [p for p, c in self.cells.items() if c.value is not None or c.formula is not None]
        if not used:
            return FakeRange(self, (1, 1), (1, 1))
        rows, cols = [p[0] for p in used], [p[1] for p in used]
        return FakeRange(self, (min(rows), min(cols)), (max(rows), max(cols)))

    def activate(self) -> None:
        self.book.active_sheet = self

    def grid(self) -> list[list[Any]]:
        """Values as a person sees them, from A1 to the last used cell."""
        last = self.used_range.last
        return [
            [
                (lambda c: None if c is None else c.value)(self.cells.get((r, c)))
                for c in range(1, last[1] + 1)
            ]
            for r in range(1, last[0] + 1)
        ]


class FakeSheets:
    def __init__(self, book: FakeBook) -> None:
        self.book = book
        self.items: list[FakeSheet] = []

    def __iter__(self) -> Iterator[FakeSheet]:
        return iter(list(self.items))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, key: int | str) -> FakeSheet:
        if isinstance(key, int):
            return self.items[key]
        return next(s for s in self.items if s.name == key)

    def add(
        self,
        name: str | None = None,
        before: FakeSheet | None = None,
        after: FakeSheet | None = None,
    ) -> FakeSheet:
        assert name is not None and before is None
        sheet = FakeSheet(self.book, name)
        index = self.items.index(after) + 1 if after is not None else 0
        self.items.insert(index, sheet)
        self.book.calls.append((name, "add-sheet", ""))
        return sheet

    @property
    def active(self) -> FakeSheet:
        return self.book.active_sheet or self.items[0]


class FakeBook:
    """An open workbook: `FakeBook({"Leads": rows, ...})`; every range call is in `calls`."""

    def __init__(
        self, sheets: dict[str, list[list[Any]]], name: str = "pipeline.xlsx", **visible: Any
    ) -> None:
        self.name = name
        self.fullname = f"C:\\Users\\li\\{name}"
        self.app = FakeApp()
        self.calls: list[tuple[str, str, str]] = []
        self.active_sheet: FakeSheet | None = None
        self.sheets = FakeSheets(self)
        for title, rows in sheets.items():
            sheet = FakeSheet(self, title, visible.get(title, True))
            sheet.seed(rows)
            self.sheets.items.append(sheet)

    def count(self, what: str, sheet: str | None = None) -> int:
        return sum(1 for s, w, _ in self.calls if w == what and (sheet is None or s == sheet))

    def snapshot(self) -> dict[str, dict[tuple[int, int], Cell]]:
        return {s.name: {p: Cell(**vars(c)) for p, c in s.cells.items()} for s in self.sheets}


# --------------------------------------------------------------------------- fixtures


def rich_book(visible: Any = 0) -> FakeBook:
    """Data from B2, numbers, dates, formulas (two with errors, one a COM-int #SPILL!), a typed
    text "#N/A", a hidden tab, an empty tab, a stray cell far right."""
    return FakeBook(
        {
            "Leads": [
                [],
                [None, "Name", "Amount", "Date", "Total", "Status", "Seen"],
                [
                    None,
                    "Customer 3",
                    3001.5,
                    date(2024, 1, 3),
                    F("=C3*2", 6003.0),
                    F("=1/0", Err("#DIV/0!")),
                    time(9, 30),
                ],
                [
                    None,
                    "Customer 4",
                    12,
                    datetime(2024, 1, 4, 9, 30),
                    F("=NA()", Err("#N/A")),
                    "#N/A",
                    None,
                ],
                [
                    None,
                    "=HYPERLINK text",
                    True,
                    None,
                    F("=SEQUENCE(2)", Err("#SPILL!", -2146826243)),
                ],
            ],
            "Lists": [["open"], ["won"], ["lost"]],
            "Empty": [],
        },
        Lists=visible,
    )


# --------------------------------------------------------------------------- reading


def test_read_grid_is_a1_aligned() -> None:
    book = ExcelBackend(rich_book()).read()
    assert book.source == "C:\\Users\\li\\pipeline.xlsx"
    assert [s.name for s in book.sheets] == ["Leads", "Lists", "Empty"]
    leads = book.sheet("Leads")
    assert leads is not None
    assert leads.value(1, 1) in ("", None)
    assert leads.value(2, 2) == "Name"
    assert leads.value(3, 2) == "Customer 3"
    assert leads.value(3, 3) == pytest.approx(3001.5)
    assert leads.value(3, 4) == date(2024, 1, 3)  # a date at midnight reads as a date
    assert leads.value(4, 4) == datetime(2024, 1, 4, 9, 30)
    assert leads.value(3, 7) == time(9, 30)
    assert leads.value(5, 3) is True
    assert leads.value(5, 2) == "=HYPERLINK text"
    assert book.sheet("Empty").rows == []  # type: ignore[union-attr]


@pytest.mark.parametrize("hidden_as", [0, 2, False])  # COM xlSheetHidden, VeryHidden, macOS
def test_read_errors_formulas_hidden(hidden_as: Any) -> None:
    book = ExcelBackend(rich_book(hidden_as)).read()
    leads = book.sheet("Leads")
    assert leads is not None
    assert leads.value(3, 5) == pytest.approx(6003.0)
    assert leads.value(3, 6) == ExcelError("#DIV/0!")
    assert leads.value(4, 5) == ExcelError("#N/A")
    assert leads.value(5, 5) == ExcelError("#SPILL!")
    assert leads.value(4, 6) == "#N/A"  # typed text, not a formula: stays text
    assert leads.formulas == frozenset({(3, 5), (3, 6), (4, 5), (5, 5)})
    assert not leads.hidden
    lists = book.sheet("Lists")
    assert lists is not None and lists.hidden
    assert lists.value(2, 1) == "won"


def test_visible_tabs_as_windows_reports_them() -> None:
    book = ExcelBackend(rich_book(visible=-1)).read()  # COM xlSheetVisible
    assert not book.sheet("Lists").hidden  # type: ignore[union-attr]


@pytest.mark.parametrize("rows", [10, 2000])
def test_read_is_one_value_and_one_formula_read_per_tab(rows: int) -> None:
    fake = FakeBook({"Leads": [["id", "n"]] + [[f"L{i}", i] for i in range(rows)], "S": [[1]]})
    ExcelBackend(fake).read()
    for tab in ("Leads", "S"):
        assert fake.count("read", tab) == 1
        assert fake.count("formula", tab) == 1
    assert {a for s, w, a in fake.calls if s == "Leads"} == {f"R1C1:R{rows + 1}C2"}


@pytest.mark.parametrize(
    ("raw", "formula", "expected"),
    [
        (datetime(2026, 6, 2), False, date(2026, 6, 2)),
        (datetime(2026, 6, 2, 8, 0), False, datetime(2026, 6, 2, 8, 0)),
        (datetime(1899, 12, 30, 18, 0), False, time(18, 0)),
        ("#REF!", True, ExcelError("#REF!")),
        ("#REF!", False, "#REF!"),
        (-2146826246, True, ExcelError("#N/A")),
        (-2146826246, False, -2146826246),
        (3.0, True, 3.0),
        (None, False, None),
    ],
)
def test_from_excel(raw: Any, formula: bool, expected: Any) -> None:
    got = from_excel(raw, formula=formula)
    assert got == expected and type(got) is type(expected)


def test_text_written_by_salesync_is_not_a_formula() -> None:
    """A text "=x" reads its formula as "=x": it is text, because its value is its source."""
    fake = FakeBook({"S": [["x"]]})
    backend = ExcelBackend(fake)
    backend.read()
    backend.apply(WritePlan(cells={"S": [CellWrite(1, 2, "=SUM(A1)")]}))
    sheet = ExcelBackend(fake).read().sheets[0]
    assert sheet.value(1, 2) == "=SUM(A1)"
    assert sheet.formulas == frozenset()


# --------------------------------------------------------------------------- blocks


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ([], []),
        ([(2, 3)], [(2, 3, 1, 1)]),
        ([(2, 3), (3, 3), (4, 3)], [(2, 3, 3, 1)]),  # a run down a column
        ([(2, 3), (4, 3)], [(2, 3, 1, 1), (4, 3, 1, 1)]),  # a gap: two blocks
        ([(2, 3), (3, 3), (2, 4), (3, 4), (2, 5), (3, 5)], [(2, 3, 2, 3)]),  # a rectangle
        ([(2, 3), (3, 3), (2, 4)], [(2, 3, 2, 1), (2, 4, 1, 1)]),  # ragged: never a blank cell
        ([(5, 1), (5, 2), (5, 9)], [(5, 1, 1, 2), (5, 9, 1, 1)]),  # a header row, one far off
    ],
)
def test_plan_blocks(
    cells: list[tuple[int, int]], expected: list[tuple[int, int, int, int]]
) -> None:
    writes = [CellWrite(r, c, f"{r},{c}") for r, c in cells]
    blocks = plan_blocks(writes)
    assert [(b.row, b.col, b.height, b.width) for b in blocks] == expected
    for b in blocks:
        for i, row in enumerate(b.values):
            assert list(row) == [f"{b.row + i},{b.col + j}" for j in range(b.width)]


def test_plan_blocks_last_write_wins() -> None:
    assert plan_blocks([CellWrite(1, 1, "a"), CellWrite(1, 1, "b")]) == [Block(1, 1, (("b",),))]


@given(st.sets(st.tuples(st.integers(1, 30), st.integers(1, 6)), max_size=80))
def test_blocks_cover_exactly_the_written_cells(cells: set[tuple[int, int]]) -> None:
    blocks = plan_blocks([CellWrite(r, c, r * 100 + c) for r, c in cells])
    covered = [
        (b.row + i, b.col + j, v)
        for b in blocks
        for i, row in enumerate(b.values)
        for j, v in enumerate(row)
    ]
    assert sorted((r, c) for r, c, _ in covered) == sorted(cells)  # each once, nothing else
    assert all(v == r * 100 + c for r, c, v in covered)
    runs = {(c, r) for r, c in cells if (r - 1, c) not in cells}  # column runs: an upper bound
    assert len(blocks) <= len(runs)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("'quoted", "''quoted"),
        ("", None),
        (None, None),
        (float("nan"), None),
        (7, 7),
        (True, True),
        (date(2026, 6, 2), datetime(2026, 6, 2)),
    ],
)
def test_to_excel(value: Any, expected: Any) -> None:
    assert to_excel(value) == expected


# --------------------------------------------------------------------------- applying

ALL_VALUES = [
    ("text", "hello 世界"),
    ("int", 42),
    ("float", 3.25),
    ("bool", True),
    ("date", date(2024, 2, 29)),
    ("datetime", datetime(2024, 3, 1, 13, 45, 30)),
]


def synced(fake: FakeBook, plan: WritePlan) -> ExcelBackend:
    backend = ExcelBackend(fake)
    backend.read()
    backend.apply(plan)
    return backend


def test_apply_changes_only_the_planned_cells() -> None:
    fake = rich_book()
    before = fake.snapshot()
    writes = [CellWrite(r, 9, f"note {r}") for r in range(2, 6)]
    writes += [CellWrite(4, 3, 99.5), CellWrite(30, 2, "far below")]
    synced(fake, WritePlan(cells={"Leads": writes}))
    after = fake.snapshot()
    written = {(w.row, w.col) for w in writes}
    assert set(after) == set(before)
    for tab, cells in before.items():
        for pos, cell in cells.items():
            if tab != "Leads" or pos not in written:
                assert after[tab][pos] == cell, (tab, pos)
    leads = ExcelBackend(fake).read().sheet("Leads")
    assert leads is not None
    assert [leads.value(r, 9) for r in range(2, 6)] == [f"note {r}" for r in range(2, 6)]
    assert leads.value(4, 3) == 99.5 and leads.value(30, 2) == "far below"


@pytest.mark.parametrize(("label", "value"), ALL_VALUES)
def test_written_values_read_back(label: str, value: object) -> None:
    fake = FakeBook({"S": [[1]]})
    synced(fake, WritePlan(cells={"S": [CellWrite(5, 3, value)]}))  # type: ignore[arg-type]
    got = ExcelBackend(fake).read().sheets[0].value(5, 3)
    if isinstance(value, date):
        assert got == value and type(got) is type(value)
    else:
        assert got == value
    assert fake.sheets["S"].cells[(5, 3)].formula is None


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "=1+1", "0012", "TRUE", "2026-06-02", "'x"]
)
def test_formula_like_text_stays_text(text: str) -> None:
    fake = rich_book()
    synced(fake, WritePlan(cells={"Leads": [CellWrite(5, 9, text)]}))
    cell = fake.sheets["Leads"].cells[(5, 9)]
    assert cell.formula is None and cell.value == text
    sheet = ExcelBackend(fake).read().sheet("Leads")
    assert sheet is not None
    assert sheet.value(5, 9) == text
    assert (5, 9) not in sheet.formulas


def test_none_clears_a_value() -> None:
    fake = rich_book()
    synced(fake, WritePlan(cells={"Leads": [CellWrite(4, 3, None), CellWrite(4, 2, "")]}))
    leads = ExcelBackend(fake).read().sheet("Leads")
    assert leads is not None and leads.value(4, 3) is None and leads.value(4, 2) is None


@pytest.mark.parametrize("rows", [10, 3000])
def test_one_range_write_per_block_not_per_cell(rows: int) -> None:
    fake = FakeBook({"Leads": [["id", "a", "b"]] + [[f"L{i}"] for i in range(rows)]})
    writes = [CellWrite(r, c, f"v{r}") for r in range(2, rows + 2) for c in (2, 3)]
    writes += [CellWrite(r, 5, r) for r in range(2, rows + 2) if r % 2 == 0]  # every other row
    backend = synced(fake, WritePlan(cells={"Leads": writes}))
    assert fake.count("write", "Leads") == 1 + len(range(2, rows + 2, 2))  # B:C whole, E per cell
    assert backend.range_writes == fake.count("write")
    # reads: the sync's read, and one re-read that checks nobody edited meanwhile
    assert fake.count("read", "Leads") == 2 and fake.count("formula", "Leads") == 1


def test_style_like_copies_the_neighbour_header_look() -> None:
    fake = rich_book()
    head = fake.sheets["Leads"].cells[(2, 7)]
    head.bold, head.fill, head.font_color = True, (221, 238, 255), (0, 0, 255)
    synced(fake, WritePlan(cells={"Leads": [CellWrite(2, 9, "SLA", style_like=(2, 7))]}))
    new = fake.sheets["Leads"].cells[(2, 9)]
    assert (new.value, new.bold, new.fill, new.font_color) == (
        "SLA",
        True,
        (221, 238, 255),
        (0, 0, 255),
    )


def test_new_owned_tab_goes_last_with_bold_frozen_header() -> None:
    fake = rich_book()
    tab = TabWrite(
        "Issues",
        (("Sheet", "Row", "Message", "When"), ("Leads", 3, "=bad", date(2024, 1, 2)), ("x",)),
        column_widths=(12, 8, 40),
    )
    synced(fake, WritePlan(tabs=[tab]))
    assert [s.name for s in fake.sheets] == ["Leads", "Lists", "Empty", "Issues"]
    issues = fake.sheets["Issues"]
    assert fake.count("write", "Issues") == 1
    assert issues.frozen == "1:1"
    assert issues.cells[(1, 1)].bold and issues.cells[(1, 4)].bold
    assert not issues.cells[(2, 1)].bold
    assert issues.widths == {1: 12, 2: 8, 3: 40}
    read = ExcelBackend(fake).read().sheet("Issues")
    assert read is not None
    assert read.rows == [
        ["Sheet", "Row", "Message", "When"],
        ["Leads", 3.0, "=bad", date(2024, 1, 2)],
        ["x", None, None, None],
    ]
    assert read.formulas == frozenset()


def test_replacing_an_owned_tab_clears_what_was_there() -> None:
    fake = rich_book()
    synced(fake, WritePlan(tabs=[TabWrite("Issues", (("A", "B"), ("x", 1), ("y", 2)))]))
    synced(fake, WritePlan(tabs=[TabWrite("Issues", (("A", "B"), ("z", 3)))]))
    issues = ExcelBackend(fake).read().sheet("Issues")
    assert issues is not None and issues.rows == [["A", "B"], ["z", 3.0]]
    assert [s.name for s in fake.sheets][-1] == "Issues"
    assert fake.count("add-sheet") == 1


def test_replacing_a_user_tab_by_name_keeps_others() -> None:
    fake = rich_book()
    before = fake.snapshot()
    synced(fake, WritePlan(tabs=[TabWrite("Lists", (("only",),))]))
    assert fake.snapshot()["Leads"] == before["Leads"]
    assert fake.sheets["Lists"].grid() == [["only"]]


def test_empty_plan_touches_nothing() -> None:
    fake = rich_book()
    ExcelBackend(fake).apply(WritePlan(cells={"Leads": []}))
    assert fake.calls == []


def test_formula_cells_are_never_overwritten() -> None:
    fake = rich_book()
    before = fake.snapshot()
    with pytest.raises(SalesyncError, match=r"Leads!F3 holds a formula"):
        synced(fake, WritePlan(cells={"Leads": [CellWrite(3, 9, "x"), CellWrite(3, 6, 1)]}))
    assert fake.snapshot() == before


def test_unknown_tab_is_an_error() -> None:
    with pytest.raises(SalesyncError, match="no tab named"):
        synced(rich_book(), WritePlan(cells={"Nope": [CellWrite(1, 1, 1)]}))


def test_an_edit_between_read_and_write_writes_nothing() -> None:
    fake = rich_book()
    backend = ExcelBackend(fake)
    backend.read()
    fake.sheets["Leads"].cells[(3, 2)] = Cell("Customer 3 (renamed)")
    before = fake.snapshot()
    with pytest.raises(WorkbookChanged, match="run again"):
        backend.apply(WritePlan(cells={"Leads": [CellWrite(3, 9, "x")]}))
    assert fake.snapshot() == before


def test_excel_failures_are_one_error_with_the_cause() -> None:
    class Refusing(FakeBook):
        @property
        def sheets(self) -> Any:
            raise RuntimeError("Call was rejected by callee.")

        @sheets.setter
        def sheets(self, value: Any) -> None:
            pass

    with pytest.raises(ExcelAccessError, match="rejected") as err:
        ExcelBackend(Refusing({})).read()
    assert isinstance(err.value.__cause__, RuntimeError)


def test_screen_updating_is_restored() -> None:
    fake = rich_book()
    synced(fake, WritePlan(cells={"Leads": [CellWrite(3, 9, "x")]}))
    assert fake.app.screen_updating is True


def test_no_excel_here_is_a_clear_error() -> None:
    pytest.importorskip("xlwings")
    if _excel_reachable():
        pytest.skip("Excel is reachable on this machine")
    with pytest.raises(ExcelUnavailable, match="Windows and macOS"):
        ExcelBackend.active()


# --------------------------------------------------------------------------- the whole job


def fake_from_xlsx(path: Path) -> FakeBook:
    """The workbook at `path` as Excel holds it once opened: values, formulas, hidden tabs."""
    raw = XlsxBackend(path).read()
    book = FakeBook({}, name=path.name)
    for s in raw.sheets:
        sheet = FakeSheet(book, s.name, not s.hidden)
        for r, row in enumerate(s.rows, start=1):
            for c, v in enumerate(row, start=1):
                if (r, c) in s.formulas:
                    value = Err(v.code) if isinstance(v, ExcelError) else v
                    sheet.cells[(r, c)] = _stored(F(f"=FORMULA_R{r}C{c}()", value))
                elif isinstance(v, str):
                    sheet.cells[(r, c)] = Cell(v, prefixed=True) if v else Cell()
                elif v is not None:
                    sheet.cells[(r, c)] = _stored(v)
        book.sheets.items.append(sheet)
    return book


@pytest.fixture(scope="module")
def demo_xlsx(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, datetime]:
    from sync.demo import build_demo_workbook

    path = tmp_path_factory.mktemp("demo") / "demo.xlsx"
    manifest = build_demo_workbook(path)
    return path, manifest.as_of


def _issues(result: Any) -> list[tuple[Any, ...]]:
    return [(i.code, i.tab, i.row, i.column) for i in result.issues]


def test_sync_workbook_through_excel_matches_the_file_backend(
    demo_xlsx: tuple[Path, datetime], tmp_path: Path
) -> None:
    from sync.job import sync_workbook

    source, as_of = demo_xlsx
    path = tmp_path / "demo.xlsx"
    shutil.copy(source, path)
    fake = fake_from_xlsx(path)

    existing = {s.name for s in fake.sheets}
    via_excel = sync_workbook(ExcelBackend(fake), write=True, as_of=as_of)
    # a constant number of calls per tab: one value and one formula read, one re-read of each
    # tab written, and one write per block of owned cells
    for sheet in fake.sheets:
        assert fake.count("formula", sheet.name) == (sheet.name in existing)
        assert fake.count("read", sheet.name) <= 2
    blocks = {t: len(plan_blocks(w)) for t, w in via_excel.plan.cells.items()}
    assert {t: fake.count("write", t) for t in blocks} == blocks
    for tab in via_excel.plan.tabs:
        assert fake.count("write", tab.sheet) == 1, tab.sheet
    via_file = sync_workbook(XlsxBackend(path), write=True, as_of=as_of)
    assert via_excel.wrote and via_file.wrote
    assert _issues(via_excel) == _issues(via_file)
    assert via_excel.plan.cells.keys() == via_file.plan.cells.keys()
    for tab, writes in via_file.plan.cells.items():
        assert sorted((w.row, w.col) for w in via_excel.plan.cells[tab]) == sorted(
            (w.row, w.col) for w in writes
        ), tab
    assert [t.sheet for t in via_excel.plan.tabs] == [t.sheet for t in via_file.plan.tabs]

    # the same content lands in the workbook: compare what both read back
    excel_book, file_book = ExcelBackend(fake).read(), XlsxBackend(path).read()
    for tab in [*via_file.plan.cells, *(t.sheet for t in via_file.plan.tabs)]:
        a, b = excel_book.sheet(tab), file_book.sheet(tab)
        assert a is not None and b is not None
        for r in range(1, max(len(a.rows), len(b.rows)) + 1):
            for c in range(1, max(map(len, a.rows + b.rows)) + 1):
                x, y = a.value(r, c), b.value(r, c)
                assert (x in (None, "") and y in (None, "")) or x == y, (tab, r, c, x, y)

    again = sync_workbook(ExcelBackend(fake), write=True, as_of=as_of)
    assert again.plan.is_empty() and not again.wrote


# --------------------------------------------------------------------------- real Excel


def _excel_reachable() -> bool:
    try:
        import xlwings as xw

        xw.apps.count  # noqa: B018 - raises where xlwings cannot drive Excel
    except Exception:
        return False
    return True


@pytest.fixture
def real_book() -> Iterator[Any]:
    if not _excel_reachable():
        pytest.skip(NOT_AVAILABLE)
    import xlwings as xw

    app = xw.App(visible=False, add_book=False)
    try:
        book = app.books.add()
        sheet = book.sheets[0]
        sheet.name = "Leads"
        sheet.range("B2").value = [
            ["Name", "Amount", "Date", "Total", "Status"],
            ["Customer 3", 3001.5, datetime(2024, 1, 3), None, None],
        ]
        sheet.range("E3").formula = "=C3*2"
        sheet.range("F3").formula = "=1/0"
        hidden = book.sheets.add("Lists", after=sheet)
        hidden.range("A1").value = [["open"], ["won"]]
        hidden.visible = False
        yield book
    finally:
        for book in list(app.books):
            book.close()
        app.quit()


def test_real_excel_contract(real_book: Any) -> None:
    backend = ExcelBackend(real_book)
    book = backend.read()
    leads = book.sheet("Leads")
    assert leads is not None
    assert leads.value(2, 2) == "Name" and leads.value(3, 4) == date(2024, 1, 3)
    assert leads.value(3, 6) == ExcelError("#DIV/0!")
    assert leads.formulas == frozenset({(3, 5), (3, 6)})
    assert book.sheet("Lists").hidden  # type: ignore[union-attr]
    plan = WritePlan(
        cells={"Leads": [CellWrite(r, 8, t) for r, t in ((2, "SLA"), (3, '=HYPERLINK("x")'))]},
        tabs=[TabWrite("Issues", (("Code", "When"), ("0012", date(2024, 1, 2))))],
    )
    backend.apply(plan)
    again = ExcelBackend(real_book).read()
    leads = again.sheet("Leads")
    assert leads is not None and leads.value(3, 8) == '=HYPERLINK("x")'
    assert (3, 8) not in leads.formulas
    issues = again.sheet("Issues")
    assert issues is not None and issues.rows == [["Code", "When"], ["0012", date(2024, 1, 2)]]
    assert [s.name for s in real_book.sheets][-1] == "Issues"
