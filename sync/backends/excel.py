"""The live-Excel backend: an open workbook read and written through xlwings (Windows, macOS).

The cost of a sync is a constant number of xlwings calls per tab, whatever the row count:

* ``read()``: per worksheet, its used range's last cell, then **one** 2-D value read and
  **one** 2-D formula read of the block from A1 to that cell (anchored at A1, so rows and
  columns keep their spreadsheet numbers), and its visibility.
* ``apply(plan)``: per data tab, one re-read of its values (nothing is written if someone
  edited the workbook meanwhile) and **one range write per rectangular block** of owned cells
  (`plan_blocks`: a column's contiguous run of rows is one block; equal runs in adjacent
  columns merge into one rectangle); per owned tab, one clear of its used range and one write
  of the whole tab. Header styling, column widths and frozen panes of a new owned tab are
  best-effort cosmetics: they never fail a sync.

Values are converted the way the file backend reads them: a date cell at midnight becomes a
`date`, a time-only cell a `time`; error values (#N/A, #DIV/0! …) of formula cells become
`ExcelError`. A non-formula cell whose text reads "#N/A" stays text, because Excel reports a
typed error and a text "#N/A" the same way and the job writes such texts itself (the Issues
tab quotes offending values); a second sync must read back what the first wrote.

Text is written with a leading apostrophe, Excel's documented "this is text" prefix (which is
not part of the value), so "=HYPERLINK(…)", "0012", "2026-06-02" or "TRUE" stay the exact text
written instead of becoming a formula, a number, a date or a boolean. Dates are written as
datetimes. Live Excel has no transactions: a failure mid-write leaves the writes made so far,
and nothing is saved; the workbook is saved (or not) by its user.

>>> [(b.row, b.col, b.values) for b in plan_blocks(
...     [CellWrite(2, 5, "a"), CellWrite(3, 5, "b"), CellWrite(2, 6, 1), CellWrite(3, 6, 2),
...      CellWrite(9, 5, "c")])]
[(2, 5, (('a', 1), ('b', 2))), (9, 5, (('c',),))]
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sync.core.errors import ExtraMissing, SalesyncError, WorkbookChanged, WorkbookNotFound
from sync.core.model import (
    CellValue,
    CellWrite,
    ExcelError,
    Position,
    RawSheet,
    RawWorkbook,
    TabWrite,
    WritableValue,
    WritePlan,
)

__all__ = [
    "Block",
    "ExcelAccessError",
    "ExcelBackend",
    "ExcelUnavailable",
    "WorkbookChanged",
    "from_excel",
    "plan_blocks",
    "to_excel",
]

ERROR_CODES = frozenset(
    {
        "#NULL!",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#N/A",
        "#GETTING_DATA",
        "#SPILL!",
        "#CONNECT!",
        "#BLOCKED!",
        "#UNKNOWN!",
        "#FIELD!",
        "#CALC!",
        "#BUSY!",
    }
)
# Excel's CVErr numbers (xlErrNull 2000 … xlErrBusy 2051) arrive through COM as the HRESULT
# 0x800A0000 + n. xlwings turns the seven classic ones into text with err_to_str=True and
# passes the newer ones (#SPILL!, #CALC! …) through as plain ints.
_COM_ERRORS = {
    -2146828288 + n: code
    for n, code in {
        2000: "#NULL!",
        2007: "#DIV/0!",
        2015: "#VALUE!",
        2023: "#REF!",
        2029: "#NAME?",
        2036: "#NUM!",
        2042: "#N/A",
        2043: "#GETTING_DATA",
        2045: "#SPILL!",
        2046: "#CONNECT!",
        2047: "#BLOCKED!",
        2048: "#UNKNOWN!",
        2049: "#FIELD!",
        2050: "#CALC!",
        2051: "#BUSY!",
    }.items()
}
_SERIAL_ZERO = date(1899, 12, 30)  # a time-only cell reads as this day plus the time
_NOT_HIDDEN = (True, -1)  # Sheet.visible: a bool (macOS) or COM's xlSheetVisible -1 (Windows)
_READ = {"ndim": 2, "empty": None, "err_to_str": True}
NOT_AVAILABLE = (
    "Excel is not available on this machine (xlwings drives Excel on Windows and macOS only)"
)


class ExcelUnavailable(SalesyncError):
    """No Excel to talk to: not Windows or macOS, Excel not running, no workbook open."""


class ExcelAccessError(SalesyncError):
    """Excel refused a call (a cell being edited, a modal dialog open, a protected sheet …)."""


# --------------------------------------------------------------------------- values


def from_excel(value: Any, *, formula: bool = False) -> CellValue:
    """One value as xlwings reads it (`empty=None`, `err_to_str=True`), as the core reads it.

    >>> from_excel(datetime(2026, 6, 2)), from_excel(datetime(1899, 12, 30, 9, 30))
    (datetime.date(2026, 6, 2), datetime.time(9, 30))
    >>> from_excel("#N/A", formula=True), from_excel("#N/A")
    (ExcelError(code='#N/A'), '#N/A')
    """
    if isinstance(value, datetime):
        value = value.replace(tzinfo=None)
        if value.date() == _SERIAL_ZERO:
            return value.time()
        if value.time() == time(0):
            return value.date()
        return value
    if formula:
        if isinstance(value, str) and value in ERROR_CODES:
            return ExcelError(value)
        if isinstance(value, int) and not isinstance(value, bool) and value in _COM_ERRORS:
            return ExcelError(_COM_ERRORS[value])
    return value


def to_excel(value: WritableValue | object) -> Any:
    """One value as it must be handed to xlwings so that Excel stores exactly it.

    >>> to_excel("=1+1"), to_excel("0012"), to_excel(""), to_excel(date(2026, 6, 2))
    ("'=1+1", "'0012", None, datetime.datetime(2026, 6, 2, 0, 0))
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    # Excel parses what it is given as if typed; the apostrophe prefix makes it text as it is
    return "'" + str(value)


# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True, slots=True)
class Block:
    """A rectangle of cells written with one range write; `values[r][c]` is cell
    (row + r, col + c)."""

    row: int
    col: int
    values: tuple[tuple[WritableValue, ...], ...]

    @property
    def height(self) -> int:
        return len(self.values)

    @property
    def width(self) -> int:
        return len(self.values[0]) if self.values else 0

    @property
    def last(self) -> Position:
        return (self.row + self.height - 1, self.col + self.width - 1)


def plan_blocks(writes: Sequence[CellWrite]) -> list[Block]:
    """The fewest rectangles of the written cells that cover nothing else: each column's
    contiguous runs of rows, then runs spanning the same rows in adjacent columns merged.
    A cell written twice takes its last value. Blocks come in (row, column) order."""
    cells: dict[Position, WritableValue] = {(w.row, w.col): w.value for w in writes}
    runs: list[tuple[int, int, int]] = []  # (first row, last row, column)
    for row, col in sorted(cells, key=lambda p: (p[1], p[0])):
        if runs and runs[-1][2] == col and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row, col)
        else:
            runs.append((row, row, col))
    spans: list[tuple[int, int, int, int]] = []  # (first row, last row, first col, last col)
    for first, last, col in sorted(runs):
        if spans and spans[-1][:2] == (first, last) and spans[-1][3] == col - 1:
            spans[-1] = (first, last, spans[-1][2], col)
        else:
            spans.append((first, last, col, col))
    return [
        Block(
            first,
            left,
            tuple(
                tuple(cells[(r, c)] for c in range(left, right + 1)) for r in range(first, last + 1)
            ),
        )
        for first, last, left, right in sorted(spans, key=lambda s: (s[0], s[2]))
    ]


# --------------------------------------------------------------------------- reading helpers


def _grid(raw: Any, rows: int, cols: int) -> list[list[Any]]:
    """A formula (or value) read as rows × cols lists, whatever shape the engine returned:
    a scalar for one cell, a flat sequence for one row or column, nested sequences."""
    if not isinstance(raw, list | tuple):
        return [[raw]]
    if raw and not isinstance(raw[0], list | tuple):
        return [list(raw)] if rows == 1 else [[x] for x in raw]
    return [list(r) for r in raw]


def _is_formula(text: Any, value: Any) -> bool:
    # A text cell written as '=x reads back its formula as "=x" on some engines; a real
    # formula's value is never its own source text.
    return isinstance(text, str) and text.startswith("=") and text != value


def _trim(rows: list[list[CellValue]]) -> list[list[CellValue]]:
    """Drop trailing blank rows (a used range stretched by formatting alone)."""
    end = len(rows)
    while end and all(v is None or v == "" for v in rows[end - 1]):
        end -= 1
    del rows[end:]
    return rows


def _xlwings() -> Any:
    try:
        import xlwings
    except ImportError:
        raise ExtraMissing("xlwings", "excel") from None
    return xlwings


@contextlib.contextmanager
def _excel_calls(action: str, source: str) -> Iterator[None]:
    """xlwings and COM/AppleScript failures become one SalesyncError that keeps the cause."""
    try:
        yield
    except SalesyncError:
        raise
    except Exception as error:
        raise ExcelAccessError(
            f"{source}: Excel refused {action} ({type(error).__name__}: {error}); "
            "finish editing any cell, close open dialogs and run again"
        ) from error


# --------------------------------------------------------------------------- the backend


class ExcelBackend:
    """An open Excel workbook (an `xlwings.Book`) as a salesync workbook: `read()` and
    `apply(plan)`. `ExcelBackend.active()` takes the active workbook of the running Excel,
    `ExcelBackend.caller()` the workbook that called a RunPython macro. After a sync,
    `range_reads` and `range_writes` count the value and formula block calls made."""

    def __init__(self, book: Any) -> None:
        self.book = book
        self.range_reads = 0
        self.range_writes = 0
        self._snapshots: dict[str, RawSheet] = {}

    @classmethod
    def active(cls) -> ExcelBackend:
        xw = _xlwings()
        try:
            if xw.apps.count == 0:
                raise ExcelUnavailable("Excel is not running: open the workbook in Excel first")
            book = xw.books.active
        except SalesyncError:
            raise
        except Exception as error:
            raise ExcelUnavailable(f"{NOT_AVAILABLE}: {error}") from error
        if book is None:
            raise WorkbookNotFound("Excel has no workbook open: open the workbook first")
        return cls(book)

    @classmethod
    def caller(cls) -> ExcelBackend:
        xw = _xlwings()
        try:
            return cls(xw.Book.caller())
        except Exception as error:
            raise ExcelUnavailable(
                f"no calling workbook: run this from an Excel macro or button ({error})"
            ) from error

    def __repr__(self) -> str:
        return f"ExcelBackend({self.source!r})"

    @property
    def source(self) -> str:
        for attr in ("fullname", "name"):
            with contextlib.suppress(Exception):
                return str(getattr(self.book, attr))
        return "the Excel workbook"

    # -- reading
    def read(self) -> RawWorkbook:
        source = self.source
        with _excel_calls("reading", source):
            self._snapshots = {}
            sheets = []
            for sheet in self.book.sheets:
                raw = self._read_sheet(sheet)
                self._snapshots[raw.name] = raw
                sheets.append(raw)
        return RawWorkbook(sheets=sheets, source=source)

    def _extent(self, sheet: Any) -> tuple[int, int]:
        last = sheet.used_range.last_cell
        return int(last.row), int(last.column)

    def _read_block(self, sheet: Any) -> tuple[list[list[Any]], int, int]:
        rows, cols = self._extent(sheet)
        block = sheet.range((1, 1), (rows, cols))
        values = _grid(block.options(**_READ).value, rows, cols)
        self.range_reads += 1
        return values, rows, cols

    def _read_sheet(self, sheet: Any) -> RawSheet:
        values, rows, cols = self._read_block(sheet)
        formulas_raw = _grid(sheet.range((1, 1), (rows, cols)).formula, rows, cols)
        self.range_reads += 1
        formulas: set[Position] = set()
        grid: list[list[CellValue]] = []
        for r, (vrow, frow) in enumerate(zip(values, formulas_raw, strict=False), start=1):
            out: list[CellValue] = []
            for c, value in enumerate(vrow, start=1):
                text = frow[c - 1] if c - 1 < len(frow) else None
                is_formula = _is_formula(text, value)
                if is_formula:
                    formulas.add((r, c))
                out.append(from_excel(value, formula=is_formula))
            grid.append(out)
        hidden = sheet.visible not in _NOT_HIDDEN
        return RawSheet(str(sheet.name), _trim(grid), hidden=hidden, formulas=frozenset(formulas))

    def _values_now(self, sheet: Any, formulas: AbstractSet[Position]) -> list[list[CellValue]]:
        values, _, _ = self._read_block(sheet)
        return _trim(
            [
                [from_excel(v, formula=(r, c) in formulas) for c, v in enumerate(row, start=1)]
                for r, row in enumerate(values, start=1)
            ]
        )

    # -- writing
    def apply(self, plan: WritePlan) -> None:
        if plan.is_empty():
            return
        source = self.source
        with _excel_calls("writing", source):
            if not self._snapshots:
                self.read()
            sheets = {str(s.name): s for s in self.book.sheets}
            cell_tabs = {t: w for t, w in plan.cells.items() if w}
            for title, writes in cell_tabs.items():
                self._check_writes(source, sheets, title, writes)
            for title in cell_tabs:
                self._check_unchanged(source, sheets[title])
            with self._quiet():
                for title, writes in cell_tabs.items():
                    self._write_cells(sheets[title], writes)
                for tab in plan.tabs:
                    self._write_tab(sheets, tab)

    def _check_writes(
        self, source: str, sheets: dict[str, Any], title: str, writes: Sequence[CellWrite]
    ) -> None:
        snapshot = self._snapshots.get(title)
        if title not in sheets or snapshot is None:
            raise SalesyncError(f"{source}: no tab named {title!r}")
        for w in writes:
            if (w.row, w.col) in snapshot.formulas:
                raise SalesyncError(
                    f"{source}: {title}!{_a1(w.row, w.col)} holds a formula; "
                    "salesync never overwrites formulas"
                )

    def _check_unchanged(self, source: str, sheet: Any) -> None:
        before = self._snapshots[str(sheet.name)]
        if self._values_now(sheet, before.formulas) != before.rows:
            raise WorkbookChanged(
                f"{source}: {sheet.name} changed while syncing; nothing was written; run again"
            )

    def _write_cells(self, sheet: Any, writes: Sequence[CellWrite]) -> None:
        snapshot = self._snapshots[str(sheet.name)]
        for w in writes:  # a new owned header looks like its neighbour (a handful of cells)
            if w.style_like is not None and snapshot.value(w.row, w.col) in (None, ""):
                _copy_style(sheet, w.style_like, (w.row, w.col))
        for block in plan_blocks(writes):
            target = sheet.range((block.row, block.col), block.last)
            target.options(ndim=2).value = [[to_excel(v) for v in row] for row in block.values]
            self.range_writes += 1

    def _write_tab(self, sheets: dict[str, Any], tab: TabWrite) -> None:
        sheet = sheets.get(tab.sheet)
        created = sheet is None
        if sheet is None:
            sheet = self.book.sheets.add(tab.sheet, after=self.book.sheets[-1])
            sheets[tab.sheet] = sheet
        else:
            sheet.used_range.clear_contents()
            self.range_writes += 1
        width = max((len(r) for r in tab.rows), default=0)
        if width:
            grid = [[to_excel(v) for v in row] + [None] * (width - len(row)) for row in tab.rows]
            sheet.range((1, 1), (len(grid), width)).options(ndim=2).value = grid
            self.range_writes += 1
        if created:
            _dress_new_tab(sheet, tab, width)

    @contextlib.contextmanager
    def _quiet(self) -> Iterator[None]:
        """No screen redraws while writing (restored afterwards, best-effort)."""
        app: Any = None
        with contextlib.suppress(Exception):
            before = self.book.app.screen_updating
            self.book.app.screen_updating = False
            app = self.book.app
        try:
            yield
        finally:
            if app is not None:
                with contextlib.suppress(Exception):
                    app.screen_updating = before


def _a1(row: int, col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


def _copy_style(sheet: Any, source: Position, target: Position) -> None:
    """Bold, font colour and fill of `source` onto `target`, property by property (a
    Range.copy would also carry notes and validations; the clipboard is the user's)."""
    with contextlib.suppress(Exception):
        src, dst = sheet.range(source), sheet.range(target)
        dst.font.bold = src.font.bold
        color = src.font.color
        if color is not None:
            dst.font.color = color
        fill = src.color
        if fill is not None:
            dst.color = fill


def _dress_new_tab(sheet: Any, tab: TabWrite, width: int) -> None:
    """Bold header rows, column widths and frozen header panes: cosmetics, never fatal."""
    header = min(tab.header_rows, len(tab.rows))
    if header and width:
        with contextlib.suppress(Exception):
            sheet.range((1, 1), (header, width)).font.bold = True
    for col, chars in enumerate(tab.column_widths[:width] if width else (), start=1):
        with contextlib.suppress(Exception):
            sheet.range((1, col)).column_width = chars
    if header:
        _freeze_rows(sheet, header)


def _freeze_rows(sheet: Any, rows: int) -> None:
    with contextlib.suppress(Exception):
        sheet.freeze_panes.freeze_at(f"1:{rows}")  # xlwings' own API where the engine has it
        return
    # desktop Excel on Windows: the window of the (briefly activated) sheet
    with contextlib.suppress(Exception):
        book = sheet.book
        previous = book.sheets.active
        sheet.activate()
        window = book.app.api.ActiveWindow
        window.FreezePanes = False
        window.SplitColumn = 0
        window.SplitRow = rows
        window.FreezePanes = True
        previous.activate()
