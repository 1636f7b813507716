"""What backends hand to the core and what the core hands back: raw grids in, a write plan out.

A backend reads a workbook into a `RawWorkbook` (every tab as a grid of plain cell values, the
way a spreadsheet shows them) and applies a `WritePlan` (only owned cells and owned tabs). The
core never sees a file, a URL or an Excel process.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple, overload


@dataclass(frozen=True, slots=True)
class ExcelError:
    """An error value a formula left in a cell (#N/A, #DIV/0!, #REF! …)."""

    code: str

    def __str__(self) -> str:
        return self.code


CellValue = str | float | int | bool | date | datetime | time | timedelta | ExcelError | None
"""A cell as read: '' or None for blank; numbers as float or int; dates as date/datetime."""

Position = tuple[int, int]
"""(row, column), both 1-based, as the spreadsheet numbers them: (1, 1) is A1."""


class ColumnGrid(Sequence[list[CellValue]]):
    """A grid kept column by column, every row as wide as the grid: what a columnar reader
    hands over, with no list built per row. It reads as the list of rows it stands for:
    `grid[i]` builds row i, `grid[a:b]` is a view of those rows (still by column), and
    `column(c)` is the c-th cell (0-based) of every row in the view, in one piece.

    >>> grid = ColumnGrid([["id", "a", "b"], ["n", 1.0, ""]])
    >>> len(grid), grid[1], list(grid[1:]), grid[1:].column(1)
    (3, ['a', 1.0], [['a', 1.0], ['b', '']], [1.0, ''])
    """

    __slots__ = ("columns", "start", "stop")

    def __init__(self, columns: list[list[CellValue]], start: int = 0, stop: int | None = None):
        self.columns = columns
        self.start = start
        self.stop = (len(columns[0]) if columns else 0) if stop is None else stop

    @property
    def width(self) -> int:
        return len(self.columns)

    def __len__(self) -> int:
        return self.stop - self.start

    @overload
    def __getitem__(self, key: int) -> list[CellValue]: ...
    @overload
    def __getitem__(self, key: slice) -> ColumnGrid: ...
    def __getitem__(self, key: int | slice) -> list[CellValue] | ColumnGrid:
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step != 1:
                return ColumnGrid(
                    [c[self.start : self.stop][start:stop:step] for c in self.columns]
                )
            return ColumnGrid(self.columns, self.start + start, self.start + max(start, stop))
        index = key + len(self) if key < 0 else key
        if not 0 <= index < len(self):
            raise IndexError(key)
        return [column[self.start + index] for column in self.columns]

    def __iter__(self) -> Iterator[list[CellValue]]:
        if not self.columns:
            return (list[CellValue]() for _ in range(len(self)))
        return map(list, zip(*(self.column(c) for c in range(self.width)), strict=True))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(map(operator.eq, self, other))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ColumnGrid({len(self)} rows × {self.width} columns)"

    def column(self, index: int) -> list[CellValue]:
        """Cell `index` (0-based) of every row, as a new list."""
        return self.columns[index][self.start : self.stop]

    def cell(self, row: int, col: int) -> CellValue:
        """The cell at 0-based (row, col) of the view; None past its ends."""
        if 0 <= row < len(self) and 0 <= col < self.width:
            return self.columns[col][self.start + row]
        return None


@dataclass(slots=True)
class RawSheet:
    """One tab as a grid. rows[0] is spreadsheet row 1 and rows[r][c] is column c+1.

    Rows may be ragged; a missing cell is blank. `formulas` holds the positions of cells whose
    content is a formula, so that the job never overwrites one. A reader may hand the rows over
    as a `ColumnGrid`: the same cells, kept by column.
    """

    name: str
    rows: list[list[CellValue]] | ColumnGrid
    hidden: bool = False
    formulas: frozenset[Position] = frozenset()

    def value(self, row: int, col: int) -> CellValue:
        if isinstance(self.rows, ColumnGrid):
            return self.rows.cell(row - 1, col - 1)
        if row - 1 < len(self.rows):
            cells = self.rows[row - 1]
            if col - 1 < len(cells):
                return cells[col - 1]
        return None


@dataclass(slots=True)
class RawWorkbook:
    sheets: list[RawSheet]
    source: str = ""  # a path or URL, for messages

    def sheet(self, name: str) -> RawSheet | None:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        return None


WritableValue = str | float | int | bool | date | datetime | None
"""What the job writes: plain values. A str is always written as text, never as a formula."""


class CellWrite(NamedTuple):
    """Set one cell. `style_like`: for a cell that does not exist yet, copy that cell's style
    (a new owned header takes the look of the header beside it).

    A tuple, not a dataclass: a plan holds one per changed cell (millions on a first sync),
    and a tuple is built in bulk without an `__init__` call each (see `plan._column_writes`).
    """

    row: int
    col: int
    value: WritableValue
    style_like: Position | None = None


@dataclass(frozen=True, slots=True)
class TabWrite:
    """Replace (or create) an owned tab whole. The first `header_rows` rows are headers."""

    sheet: str
    rows: tuple[tuple[WritableValue, ...], ...]
    header_rows: int = 1
    column_widths: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class DashboardWrite:
    """Add the Dashboard tab (native charts over helper blocks reading the owned tabs and Reps).

    `lang` is the language code ("zh-Hans", "zh-Hant", "en"); `tabs` maps the table names the
    charts read (performance, funnel_stages, issues, reps) to their tab names as bound or as the
    plan writes them. The xlsx backend (transplanted chart parts) and Google Sheets (addChart
    requests in its one batch update) render it; live Excel leaves it out for now.
    """

    sheet: str
    lang: str
    tabs: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class WritePlan:
    """Everything a sync writes: cells in data tabs (by tab name) and whole owned tabs.

    A plan holds only real changes: an empty plan means the workbook is already up to date and
    the backend must not touch it.
    """

    cells: dict[str, list[CellWrite]] = field(default_factory=dict)
    tabs: list[TabWrite] = field(default_factory=list)
    dashboard: DashboardWrite | None = None  # a Dashboard tab to add (xlsx, Google)

    def is_empty(self) -> bool:
        return not any(self.cells.values()) and not self.tabs and self.dashboard is None

    def cell_count(self) -> int:
        return sum(len(c) for c in self.cells.values()) + sum(
            len(r) for t in self.tabs for r in t.rows
        )
