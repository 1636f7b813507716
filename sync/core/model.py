"""What backends hand to the core and what the core hands back: raw grids in, a write plan out.

A backend reads a workbook into a `RawWorkbook` (every tab as a grid of plain cell values, the
way a spreadsheet shows them) and applies a `WritePlan` (only owned cells and owned tabs). The
core never sees a file, a URL or an Excel process.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import chain, repeat
from typing import Any, NamedTuple, overload

import numpy as np


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

SHEET_ROWS = 1_048_576
"""The rows of a worksheet in Excel and LibreOffice: no tab written may be longer."""

HEADER_SCAN_ROWS = 30
"""How far down a title block may push the header row: the rows binding searches for it (and
the rows the fast reader reads exactly, `sync.backends.xlsx_fast`)."""


def sheet_ref(title: str) -> str:
    """A tab's name as a formula or an A1 range names it: quoted, its quotes doubled.

    >>> sheet_ref("It's Q3")
    "'It''s Q3'"
    """
    return "'" + title.replace("'", "''") + "'"


def column_letter(col: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_number(letters: str | bytes) -> int:
    """A → 1, aa → 27 (text or ASCII bytes, either case): `column_letter` reversed."""
    col = 0
    for ch in letters.upper():
        col = col * 26 + (ord(ch) if isinstance(ch, str) else ch) - 64
    return col


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


class FormulaCells(AbstractSet[Position]):
    """The positions of a tab's formula cells, kept by column: each column's rows ascending,
    as an array. A formula filled down a million rows is a million positions; as a set of
    tuples they cost a Python object each to make and a hash each to look up, while the core
    looks them up a column at a time (`columns`). Compares equal to the set of the same
    positions.

    >>> cells = FormulaCells.of([(9, 2), (3, 2), (4, 7)])
    >>> (3, 2) in cells, (3, 7) in cells, len(cells), cells == {(3, 2), (9, 2), (4, 7)}
    (True, False, 3, True)
    >>> {col: rows.tolist() for col, rows in cells.columns.items()}
    {2: [3, 9], 7: [4]}
    >>> cells == FormulaCells.of([(4, 7), (9, 2), (3, 2), (3, 2)]), cells == FormulaCells.of([])
    (True, False)
    """

    __slots__ = ("_columns", "_size")

    def __init__(self, columns: Mapping[int, np.ndarray] | None = None) -> None:
        """`columns`: column → its rows, ascending and distinct (int64 arrays, not empty)."""
        self._columns = dict(columns or {})
        self._size = sum(map(len, self._columns.values()))

    @classmethod
    def of(cls, positions: Iterable[Position]) -> FormulaCells:
        found = positions if isinstance(positions, AbstractSet) else set(positions)
        flat = np.fromiter(chain.from_iterable(found), np.int64, 2 * len(found))
        return cls.from_arrays(flat[0::2], flat[1::2])

    @classmethod
    def from_arrays(cls, rows: np.ndarray, cols: np.ndarray) -> FormulaCells:
        """The cells at `rows[i]`, `cols[i]` (in any order; repeats count once)."""
        order = np.lexsort((rows, cols))  # by column, then row
        rows, cols = rows[order], cols[order]
        fresh = np.ones(len(rows), dtype=bool)
        fresh[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        rows, cols = rows[fresh], cols[fresh]
        starts = [0, *(np.flatnonzero(np.diff(cols)) + 1).tolist()]
        stops = [*starts[1:], len(rows)]
        return cls({int(cols[a]): rows[a:b] for a, b in zip(starts, stops, strict=True) if b > a})

    @property
    def columns(self) -> Mapping[int, np.ndarray]:
        """Column → its formula rows, ascending (shared: read them, never change them)."""
        return self._columns

    def __contains__(self, position: object) -> bool:
        if not isinstance(position, tuple) or len(position) != 2:
            return False
        row, col = position
        rows = self._columns.get(col)
        if rows is None:
            return False
        at = int(np.searchsorted(rows, row))
        return at < len(rows) and bool(rows[at] == row)

    def __iter__(self) -> Iterator[Position]:
        for col, rows in self._columns.items():
            yield from zip(rows.tolist(), repeat(col))

    def __len__(self) -> int:
        return self._size

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FormulaCells):  # column by column, not a lookup a position
            mine, theirs = self._columns, other._columns
            return mine.keys() == theirs.keys() and all(
                np.array_equal(rows, theirs[col]) for col, rows in mine.items()
            )
        return super().__eq__(other)

    __hash__ = AbstractSet._hash

    def __repr__(self) -> str:
        return f"FormulaCells({len(self)} cells in columns {sorted(self._columns)})"


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
    formulas: AbstractSet[Position] = frozenset()

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
    (a new owned header takes the look of the header beside it)."""

    row: int
    col: int
    value: WritableValue
    style_like: Position | None = None


class CellWrites(Sequence[CellWrite]):
    """A tab's cell writes, kept as three lists (rows, columns, values) and the few model
    cells, not as a `CellWrite` each: a first sync plans millions, the plan adds them a column
    at a time (`add_column`), a check only counts them, and the xlsx writer takes the lists
    whole (`lists`). Read one by one, each is made a `CellWrite` as it is read.

    >>> writes = CellWrites([CellWrite(1, 3, "Head", (1, 2))])
    >>> writes.add_column([2, 5], 3, ["a", None])
    >>> len(writes), writes[-1], writes == [CellWrite(1, 3, "Head", (1, 2)), *writes[1:]]
    (3, CellWrite(row=5, col=3, value=None, style_like=None), True)
    """

    __slots__ = ("_cols", "_likes", "_rows", "_values")

    def __init__(self, writes: Iterable[CellWrite] = ()) -> None:
        self._rows: list[int] = []
        self._cols: list[int] = []
        self._values: list[WritableValue] = []
        self._likes: dict[int, Position] = {}  # place → model cell, for the writes with one
        for write in writes:
            self.append(write)

    def append(self, write: CellWrite) -> None:
        if write.style_like is not None:
            self._likes[len(self._rows)] = write.style_like
        self._rows.append(write.row)
        self._cols.append(write.col)
        self._values.append(write.value)

    def add_column(self, rows: list[int], col: int, values: list[Any]) -> None:
        """A write of `values[i]` to row `rows[i]` of column `col`, for each i."""
        if len(rows) != len(values):
            raise ValueError(f"{len(rows)} rows for {len(values)} values")
        self._rows += rows
        self._cols += repeat(col, len(rows))
        self._values += values

    def lists(self) -> tuple[list[int], list[int], list[WritableValue], dict[int, Position]]:
        """Rows, columns and values, place by place, and the model cells by place."""
        return self._rows, self._cols, self._values, self._likes

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, at: int) -> CellWrite: ...
    @overload
    def __getitem__(self, at: slice) -> list[CellWrite]: ...
    def __getitem__(self, at: int | slice) -> CellWrite | list[CellWrite]:
        if isinstance(at, slice):
            return list(map(self.__getitem__, range(len(self._rows))[at]))
        i = at if at >= 0 else range(len(self._rows))[at]  # as a list has negative places
        like = self._likes.get(i) if self._likes else None
        return tuple.__new__(CellWrite, (self._rows[i], self._cols[i], self._values[i], like))

    def __iter__(self) -> Iterator[CellWrite]:
        if self._likes:  # each write's model cell, None for most: looked up in C, not a call each
            likes = map(self._likes.get, range(len(self._rows)))
            cells = zip(self._rows, self._cols, self._values, likes, strict=True)
        else:
            cells = zip(self._rows, self._cols, self._values, repeat(None))
        return map(tuple.__new__, repeat(CellWrite), cells)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CellWrites | list):
            return len(self) == len(other) and all(map(operator.eq, self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"CellWrites({list(self)!r})"


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

    cells: dict[str, Sequence[CellWrite]] = field(default_factory=dict)
    tabs: list[TabWrite] = field(default_factory=list)
    dashboard: DashboardWrite | None = None  # a Dashboard tab to add (xlsx, Google)

    def is_empty(self) -> bool:
        return not any(self.cells.values()) and not self.tabs and self.dashboard is None

    def cell_count(self) -> int:
        return sum(len(c) for c in self.cells.values()) + sum(
            len(r) for t in self.tabs for r in t.rows
        )
