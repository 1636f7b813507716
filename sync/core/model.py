"""What backends hand to the core and what the core hands back: raw grids in, a write plan out.

A backend reads a workbook into a `RawWorkbook` (every tab as a grid of plain cell values, the
way a spreadsheet shows them) and applies a `WritePlan` (only owned cells and owned tabs). The
core never sees a file, a URL or an Excel process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple


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


@dataclass(slots=True)
class RawSheet:
    """One tab as a grid. rows[0] is spreadsheet row 1 and rows[r][c] is column c+1.

    Rows may be ragged; a missing cell is blank. `formulas` holds the positions of cells whose
    content is a formula, so that the job never overwrites one.
    """

    name: str
    rows: list[list[CellValue]]
    hidden: bool = False
    formulas: frozenset[Position] = frozenset()

    def value(self, row: int, col: int) -> CellValue:
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
