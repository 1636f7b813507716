"""Cell writes in bulk, for the xlsx writer.

A first sync writes millions of cells (every owned column of every row). Held as one dict per
row, they cost more than the splicing they serve; here they stay in the plan's lists (rows,
columns, values: `CellWrites`), indexed by arrays sorted by (row, column), and the `<v>` text of
numbers and dates is rendered a column and a type at a time with numpy instead of a call per
cell.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from itertools import repeat
from operator import attrgetter, is_not
from typing import cast

import numpy as np

from sync.core.errors import SalesyncError
from sync.core.model import SHEET_ROWS, CellWrite, CellWrites, Position, WritableValue

MAX_ROWS = SHEET_ROWS
MAX_COLS = 16_384

_DAY_US = 86_400_000_000
_FEW = 64
_EPOCH_US = {  # the day before serial 1 (and 1904's day 0), in µs since 1970
    False: int(np.datetime64("1899-12-30", "us").astype(np.int64)),
    True: int(np.datetime64("1904-01-01", "us").astype(np.int64)),
}


class RowWrites(Mapping[int, dict[int, CellWrite]]):
    """A sheet's cell writes by row: `writes[row]` is {column: write}, rows iterate ascending.

    The writes stay in the lists they came in (`cells`, `cell_values`, `likes`: model cells by
    place); `order` lists them by (row, column), the last write to a cell only, and
    `starts[k]:starts[k + 1]` are row `rows[k]`'s places in it.
    """

    def __init__(self, cells: Sequence[CellWrite], sheet: str) -> None:
        if not isinstance(cells, CellWrites):
            cells = CellWrites(cells)
        row_list, col_list, self.cell_values, self.likes = cells.lists()
        n = len(cells)
        try:
            rows = np.fromiter(row_list, np.int64, n)
            cols = np.fromiter(col_list, np.int64, n)
        except OverflowError:
            rows = cols = np.zeros(0, np.int64)
            _check_bounds(sheet, cells)  # a number beyond int64 is outside the sheet
        outside = (rows < 1) | (rows > MAX_ROWS) | (cols < 1) | (cols > MAX_COLS)
        if outside.any():
            w = cells[int(np.flatnonzero(outside)[0])]
            raise SalesyncError(f"{sheet}: cell ({w.row}, {w.col}) is outside the sheet")
        order = np.lexsort((cols, rows))  # stable: writes to one cell keep their order
        r, c = rows[order], cols[order]
        last = np.ones(n, bool)  # the last write to a cell wins
        last[:-1] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
        self.cells = cells
        self.order = order[last]
        self.cols = c[last]
        r = r[last]
        first = np.flatnonzero(np.r_[True, r[1:] != r[:-1]]) if len(r) else np.zeros(0, np.intp)
        self.starts = np.append(first, len(r))
        self.row_array = r[first]
        self.rows: list[int] = self.row_array.tolist()
        self.first_cols: list[int] = self.cols[first].tolist()
        self.last_cols: list[int] = self.cols[self.starts[1:] - 1].tolist()
        self._lists: tuple[list[int], list[int], list[int]] | None = None

    def __getitem__(self, row: int) -> dict[int, CellWrite]:
        k = int(np.searchsorted(self.row_array, row))
        if k >= len(self.rows) or self.rows[k] != row:
            raise KeyError(row)
        places = np.arange(self.starts[k], self.starts[k + 1])
        return dict(zip(self.cols[places].tolist(), self.writes_at(places), strict=True))

    def row_at(self, k: int) -> dict[int, CellWrite]:
        """`self[self.rows[k]]`, without looking the row up (lists made on first use)."""
        if self._lists is None:
            self._lists = (self.starts.tolist(), self.cols.tolist(), self.order.tolist())
        starts, cols, order = self._lists
        begin, end = starts[k], starts[k + 1]
        writes = map(self.cells.__getitem__, order[begin:end])
        return dict(zip(cols[begin:end], writes, strict=True))

    def __iter__(self) -> Iterator[int]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, row: object) -> bool:
        k = int(np.searchsorted(self.row_array, row))  # type: ignore[call-overload]
        return k < len(self.rows) and self.rows[k] == row

    def places(self, ks: list[int]) -> tuple[np.ndarray, list[int]]:
        """The places in `order` of rows `rows[k]` for `k` in `ks` (ascending), and where each
        row's begin among them (with the end last)."""
        ks_ = np.asarray(ks, dtype=np.intp)
        begins, ends = self.starts[ks_], self.starts[ks_ + 1]
        bounds = np.zeros(len(ks_) + 1, np.intp)
        np.cumsum(ends - begins, out=bounds[1:])
        places = np.arange(bounds[-1]) + np.repeat(begins - bounds[:-1], ends - begins)
        return places, bounds.tolist()

    def writes_at(self, places: np.ndarray) -> list[CellWrite]:
        """The writes at `places` in `order`."""
        return list(map(self.cells.__getitem__, self.order[places].tolist()))

    def values_at(self, places: np.ndarray) -> tuple[list[WritableValue], list[Position | None]]:
        """The values and model cells (None: none) of the writes at `places` in `order`."""
        at = self.order[places].tolist()
        values = list(map(self.cell_values.__getitem__, at))
        if not self.likes:
            return values, [None] * len(at)
        return values, list(map(self.likes.get, at))

    def live_bounds(self) -> tuple[int, int, int, int] | None:
        """(top, left, bottom, right) of the writes that put a value (not None), or None."""
        values = self.cell_values
        live = np.fromiter(map(is_not, values, repeat(None)), bool, len(values))[self.order]
        if not live.any():
            return None
        rows = np.repeat(self.row_array, np.diff(self.starts))[live]
        cols = self.cols[live]
        return int(rows.min()), int(cols.min()), int(rows.max()), int(cols.max())


def _check_bounds(sheet: str, cells: Sequence[CellWrite]) -> None:
    for w in cells:
        if not (1 <= w.row <= MAX_ROWS and 1 <= w.col <= MAX_COLS):
            raise SalesyncError(f"{sheet}: cell ({w.row}, {w.col}) is outside the sheet")


def excel_serial(value: date, date1904: bool) -> float | int | None:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.replace(tzinfo=None)
        epoch = datetime(1904, 1, 1) if date1904 else datetime(1899, 12, 30)
        delta = value - epoch
        serial: float | int = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
    else:
        epoch_d = date(1904, 1, 1) if date1904 else date(1899, 12, 30)
        serial = (value - epoch_d).days
    if not date1904:
        if serial < 61:
            serial -= 1  # Excel counts a 29 February 1900 that never was
        if serial < 1:
            return None
    elif serial < 0:
        return None
    return serial


def num_text(value: float | int) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int) or (
        isinstance(value, float) and value.is_integer() and abs(value) < 1e15
    ):
        return str(int(value))
    return repr(float(value))


FRAMED = frozenset((int, float, datetime, date))


def framed_text(value: float | date, date1904: bool) -> bytes | None:
    """The `<v>` text `xlsx_cells.render_value` gives an int, float, date or datetime (exactly
    those types); None when it renders no number (NaN, infinity, a date before Excel's
    calendar)."""
    if type(value) is int:
        return b"%d" % value
    if isinstance(value, date):
        serial = excel_serial(value, date1904)
        return None if serial is None else num_text(serial).encode()
    if not math.isfinite(value):
        return None
    return num_text(value).encode()


def framed_texts(kind: type, values: list[float | date], date1904: bool) -> list[bytes | None]:
    """The `<v>` texts of values all of type `kind` (int, float, date, or a naive datetime),
    as the writer renders one (`framed_text`); None where it renders no number (NaN,
    infinity, a date before Excel's calendar)."""
    if kind is int:
        return list(map(b"%d".__mod__, values))
    if len(values) < _FEW:  # below the cost of a trip through numpy
        return [framed_text(v, date1904) for v in values]
    if kind is float:
        return _number_texts(np.array(values, dtype=np.float64))
    delta = _micros(kind, cast(list[date], values)) - _EPOCH_US[date1904]
    days = delta // _DAY_US
    serial: np.ndarray = days
    if (
        kind is datetime
    ):  # as timedelta splits it: days, then seconds and microseconds within the day
        rem = delta - days * _DAY_US
        seconds = rem // 1_000_000
        serial = days + (seconds + (rem - seconds * 1_000_000) / 1e6) / 86400
    if date1904:
        valid = serial >= 0
    else:
        serial = np.where(serial < 61, serial - 1, serial)  # Excel's 29 February 1900
        valid = serial >= 1
    if kind is date:
        texts: list[bytes | None] = list(map(b"%d".__mod__, serial.tolist()))
    else:
        texts = _number_texts(serial)
    if not valid.all():
        for i in np.flatnonzero(~valid).tolist():
            texts[i] = None
    return texts


_EPOCH = datetime(1970, 1, 1)
_EPOCH_DAY = _EPOCH.date()
_ONE_US = timedelta(microseconds=1)


def _micros(kind: type, values: list[date]) -> np.ndarray:
    """Microseconds since 1970 of dates (at their midnight) or naive datetimes, exactly, for
    any year a date holds. A region's batch of a few hundred values costs less than half a
    trip through pandas, whose fixed cost per call outweighs its speed per value there."""
    if kind is date:
        days = np.array([(d - _EPOCH_DAY).days for d in values], dtype=np.int64)
        return days * _DAY_US
    return np.array([(d - _EPOCH) // _ONE_US for d in cast(list[datetime], values)], np.int64)


def _number_texts(values: np.ndarray) -> list[bytes | None]:
    """Floats as `num_text` writes them: whole ones below 1e15 as integers, others by repr;
    None for NaN and infinities."""
    out = np.full(len(values), None, dtype=object)
    finite = np.isfinite(values)
    whole = finite & (np.abs(values) < 1e15) & (values == np.trunc(values))
    if whole.any():
        out[whole] = list(map(b"%d".__mod__, values[whole].astype(np.int64).tolist()))
    other = finite & ~whole
    if other.any():
        out[other] = list(map(str.encode, map(repr, values[other].tolist())))
    texts: list[bytes | None] = out.tolist()
    return texts


def is_naive(values: list[datetime]) -> bool:
    """Whether no datetime has a zone (a zoned one is written as its own wall-clock time)."""
    return not any(map(is_not, map(attrgetter("tzinfo"), values), repeat(None)))


class RowValues(Mapping[int, dict[int, object]]):
    """The values of a sheet's writes by row (row → column → value), read as asked for."""

    def __init__(self, writes: RowWrites) -> None:
        self.writes = writes

    def __getitem__(self, row: int) -> dict[int, object]:
        return {col: w.value for col, w in self.writes[row].items()}

    def __iter__(self) -> Iterator[int]:
        return iter(self.writes)

    def __len__(self) -> int:
        return len(self.writes)
