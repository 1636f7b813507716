"""A new cell's XML, and a sheet's edits (`SheetEdits`): the plan's writes for one sheet and
the rendering of the cells they add, a column and a type at a time.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from itertools import compress, repeat
from operator import is_
from typing import Any, cast

import numpy as np

from sync.backends.xlsx_bulk import (
    FRAMED,
    RowWrites,
    excel_serial,
    framed_text,
    framed_texts,
    is_naive,
    num_text,
)
from sync.backends.xlsx_package import col_letters, is_nan, xml_text
from sync.backends.xlsx_styles import StyleBook
from sync.core.model import CellWrite, Position, WritableValue

_FMT_DATE = 14
_FMT_DATETIME = 22


# ----------------------------------------------------------------------------- cell XML


@dataclass(slots=True)
class _Rendered:
    """A write resolved to XML pieces: `t` attribute, inner XML, and whether it is a date."""

    t: str | None
    inner: str
    date_kind: int | None = None
    blank: bool = False


def inline(value: str) -> str:
    """An inline string's `<is>`. `xml:space="preserve"` only where it matters, as Excel,
    openpyxl and xlsxwriter write it: text that starts or ends with white space (anything
    `str.isspace` calls so). Without it the text is ~20 bytes shorter per cell."""
    if value[:1].isspace() or value[-1:].isspace():
        return f'<is><t xml:space="preserve">{xml_text(value)}</t></is>'
    return f"<is><t>{xml_text(value)}</t></is>"


@lru_cache(maxsize=1 << 14)
def _render_text(value: str) -> _Rendered:
    # Cached: owned columns and the Issues tab repeat the same few texts on many rows.
    return _Rendered("inlineStr", inline(value))


def render_value(value: WritableValue, date1904: bool) -> _Rendered:
    if type(value) is str:  # the common case first
        return _render_text(value)
    if value is None or is_nan(value):
        return _Rendered(None, "", blank=True)
    if isinstance(value, bool):
        return _Rendered("b", f"<v>{int(value)}</v>")
    if isinstance(value, str):
        return _Rendered("inlineStr", inline(value))
    if isinstance(value, datetime | date):
        serial = excel_serial(value, date1904)
        if serial is None:  # before Excel's calendar: keep it readable as text
            return render_value(value.isoformat(), date1904)
        kind = _FMT_DATETIME if isinstance(value, datetime) else _FMT_DATE
        return _Rendered(None, f"<v>{num_text(serial)}</v>", date_kind=kind)
    if isinstance(value, time):
        frac = (value.hour * 3600 + value.minute * 60 + value.second) / 86400
        return _Rendered(None, f"<v>{num_text(frac + value.microsecond / 86400e6)}</v>")
    if isinstance(value, numbers.Integral):
        return _Rendered(None, f"<v>{int(value)}</v>")
    if isinstance(value, numbers.Real):
        f = float(value)
        if not math.isfinite(f):
            return _Rendered(None, "", blank=True)
        return _Rendered(None, f"<v>{num_text(f)}</v>")
    raise TypeError(f"cannot write a {type(value).__name__} to a cell: {value!r}")


def cell_xml(
    pfx: str, ref: str, rendered: _Rendered, style: int | None, extra: str = ""
) -> str | None:
    s = f' s="{style}"' if style else ""
    if rendered.blank:
        return f'<{pfx}c r="{ref}"{s}{extra}/>' if style else None
    t = f' t="{rendered.t}"' if rendered.t else ""
    inner = rendered.inner
    if pfx:
        inner = re.sub(r"<(/?)(is|t|v)\b", rf"<\1{pfx}\2", inner)
    return f'<{pfx}c r="{ref}"{s}{t}{extra}>{inner}</{pfx}c>'


# ----------------------------------------------------------------------------- a sheet's edits


@dataclass(slots=True)
class Batch:
    """Written rows `ks`' writes, gathered once to render and to tell whether rendering adds
    a format: their places in `RowWrites.order`, where each row's begin (the end last), their
    values, and their groups, (column, model cell, type) → code, with each write's code."""

    ks: list[int]
    places: np.ndarray
    bounds: list[int]
    values: list[Any]
    groups: dict[tuple[int, Position | None, type], int]
    codes: np.ndarray


@dataclass(slots=True)
class SheetEdits:
    """Cell writes for one sheet, and what they need from the style book."""

    sheet: str
    writes: RowWrites
    styles: StyleBook
    date1904: bool
    like_styles: dict[Position, int | None] = field(default_factory=dict)
    col_styles: dict[int, int] = field(default_factory=dict)
    formulas_removed: bool = False
    pfx: bytes = b""
    # (column, style_like, type, value) → what follows `<c r="A1` in a new cell's XML (None:
    # no cell); `_tails` the same by (base style, type, value)
    tails: dict[tuple[object, ...], bytes | None] = field(default_factory=dict)
    _tails: dict[tuple[object, ...], bytes | None] = field(default_factory=dict)
    # (column, style_like, type) → a number's or date's cell XML around its `<v>` text
    frames: dict[tuple[object, ...], tuple[bytes, bytes]] = field(default_factory=dict)
    heads: CellHeads = field(default_factory=lambda: CellHeads(b""))  # for `pfx`

    def new_rows(self, ks: list[int]) -> list[bytes]:
        """The XML of written rows `writes.rows[k]` for `k` in `ks` as new rows (b"" for a
        row with no cell to write)."""
        open_tag, close_tag = b"<" + self.pfx + b'row r="', b"</" + self.pfx + b"row>"
        rows = map(self.writes.rows.__getitem__, ks)
        return [
            open_tag + b"%d" % row + b'">' + cells + close_tag if cells else b""
            for row, cells in zip(rows, self.new_cells(ks), strict=True)
        ]

    def new_cells(self, ks: list[int]) -> list[bytes]:
        """The XML of written rows `writes.rows[k]`'s cells (`k` in `ks`) as new cells, a
        row's joined in column order (b"" for a row with none): what goes after its last cell.
        Rendering may add a date format (`adds_no_format` tells whether it can)."""
        parts, bounds = self.new_cell_parts(self.gather(ks))
        ends = [3 * b for b in bounds]
        return list(map(b"".join, map(parts.__getitem__, map(slice, ends, ends[1:]))))

    def gather(self, ks: list[int]) -> Batch:
        """The writes of rows `writes.rows[k]` for `k` in `ks`, grouped by column, model cell
        and type in the order the groups first occur (formats are added in that order)."""
        writes = self.writes
        places, bounds = writes.places(ks)
        values, like_list = writes.values_at(places)
        types = list(map(type, values))
        likes = set(like_list)
        if len(likes) == 1:  # the usual batch: grouped by column and type, in numpy
            (like,) = likes
            kinds = list(dict.fromkeys(types))
            key = writes.cols[places] * len(kinds)
            if len(kinds) > 1:
                kind_of = {kind: j for j, kind in enumerate(kinds)}
                key += np.fromiter(map(kind_of.__getitem__, types), np.int64, len(types))
            keys, firsts, codes = np.unique(key, return_index=True, return_inverse=True)
            groups = {
                (int(keys[j]) // len(kinds), like, kinds[int(keys[j]) % len(kinds)]): int(j)
                for j in np.argsort(firsts)
            }
        else:
            columns = writes.cols[places].tolist()
            triples = list(zip(columns, like_list, types, strict=True))
            groups = {triple: j for j, triple in enumerate(dict.fromkeys(triples))}
            codes = np.fromiter(map(groups.__getitem__, triples), np.intp, len(triples))
        return Batch(ks, places, bounds, values, groups, codes)

    def new_cell_parts(self, batch: Batch) -> tuple[list[bytes], list[int]]:
        """`new_cells` as three parts a write: `<c r="AB`, the row number and the rest (b""
        each where a write makes no cell), and where each row's writes begin (the end last).
        Joined only once, with the rows they go into."""
        writes, bounds = self.writes, batch.bounds
        tails = self.new_tails(batch)
        digits = list(map(b"%d".__mod__, map(writes.rows.__getitem__, batch.ks)))
        row_of = np.repeat(np.arange(len(batch.ks)), np.diff(bounds)).tolist()
        parts = [b""] * (3 * len(tails))
        parts[0::3] = map(self.heads.__getitem__, writes.cols[batch.places].tolist())
        parts[1::3] = map(digits.__getitem__, row_of)
        parts[2::3] = cast(list[bytes], tails)  # Nones are blanked just below
        for i in compress(range(len(tails)), map(is_, tails, repeat(None))):
            parts[3 * i : 3 * i + 3] = b"", b"", b""
        return parts, bounds

    def adds_no_format(self, batch: Batch) -> bool:
        """Whether rendering `batch` as new cells cannot add a cell format: only a date or
        datetime in a column (or like a cell) whose format is not a date yet adds one."""
        for col, like, kind in batch.groups:
            if kind is date or kind is datetime:
                base = self.like_styles.get(like) if like is not None else self.col_styles.get(col)
                fmt = _FMT_DATETIME if kind is datetime else _FMT_DATE
                if not self.styles.has_date_xf(base, fmt):
                    return False
        return True

    def new_tails(self, batch: Batch) -> list[bytes | None]:
        """`[self.tail(w) for w in writes]` for the batch's writes, a group at a time."""
        values = batch.values
        if len(batch.groups) == 1:
            ((col, like, kind),) = batch.groups
            return self._group_tails(col, like, kind, values)
        out = np.empty(len(values), dtype=object)
        for (col, like, kind), j in batch.groups.items():
            at = np.flatnonzero(batch.codes == j)
            out[at] = self._group_tails(col, like, kind, list(map(values.__getitem__, at.tolist())))
        tails: list[bytes | None] = out.tolist()
        return tails

    def _group_tails(
        self, col: int, like: Position | None, kind: type, values: list[Any]
    ) -> list[bytes | None]:
        """`tail` of each value (all of type `kind`) written in column `col` like `like`:
        numbers and dates through `framed_texts` in one go, other values once each."""

        def one(value: Any) -> bytes | None:
            return self.tail(CellWrite(0, col, value, like))

        if kind in FRAMED and (kind is not datetime or is_naive(values)):
            texts = framed_texts(kind, values, self.date1904)
            missing = list(compress(range(len(texts)), map(is_, texts, repeat(None))))
            if len(missing) == len(texts):
                return list(map(one, values))
            frame_key = (col, like, kind)
            frame = self.frames.get(frame_key)
            if frame is None:
                base = self.like_styles.get(like) if like is not None else self.col_styles.get(col)
                frame = self.frames[frame_key] = self._frame(base, kind)
            for i in missing:
                texts[i] = b""
            tails: list[bytes | None] = list(
                map(b"".join, zip(repeat(frame[0]), cast(list[bytes], texts), repeat(frame[1])))
            )
            for i in missing:
                tails[i] = one(values[i])
            return tails
        if kind is datetime:  # zoned: equal instants are written as their own wall-clock time
            return list(map(one, values))
        try:
            table = {value: one(value) for value in dict.fromkeys(values)}
        except TypeError:  # an unhashable value
            return list(map(one, values))
        return list(map(table.__getitem__, values))

    def new_cell(self, row: bytes, write: CellWrite) -> bytes | None:
        """XML of a cell that does not exist yet; `row` is the row number as ASCII digits."""
        tail = self.tail(write)
        if tail is None:
            return None
        return _cell_head(self.pfx, write.col) + row + tail

    def tail(self, write: CellWrite) -> bytes | None:
        """What follows `<c r="A1` in the XML of a cell that does not exist yet (None: no
        cell). The same value in the same column repeats down thousands of rows: it is
        rendered once per (style, value). Numbers and dates, more often each their own, are
        rendered into a frame made once per column and type."""
        value = write.value
        kind = type(value)
        if kind in FRAMED:
            text = framed_text(cast(float | date, value), self.date1904)
            if text is not None:
                frame_key = (write.col, write.style_like, kind)
                frame = self.frames.get(frame_key)
                if frame is None:
                    frame = self.frames[frame_key] = self._frame(self._base(write), kind)
                return frame[0] + text + frame[1]
        key = (write.col, write.style_like, kind, value)
        try:
            tail = self.tails[key]
        except KeyError:
            base = self._base(write)
            if getattr(value, "tzinfo", None) is not None:
                # equal instants in other zones are written as their own wall-clock time
                tail = self._new_tail(base, value)
            else:
                by_base = (base, type(value), value)
                if by_base in self._tails:
                    tail = self._tails[by_base]
                else:
                    tail = self._tails[by_base] = self._new_tail(base, value)
                if len(self.tails) >= 1 << 16:
                    self.tails.clear()
                    self._tails.clear()
                self.tails[key] = tail
        except TypeError:  # an unhashable value: render it as it is
            tail = self._new_tail(self._base(write), value)
        return tail

    def _frame(self, base: int | None, kind: type) -> tuple[bytes, bytes]:
        date_kind = _FMT_DATETIME if kind is datetime else _FMT_DATE if kind is date else None
        tail = self._render_tail(base, _Rendered(None, "<v>\x01</v>", date_kind=date_kind))
        assert tail is not None
        before, after = tail.split(b"\x01")
        return before, after

    def _base(self, write: CellWrite) -> int | None:
        """The style a new cell starts from: its model cell's, else its column's."""
        if write.style_like is not None:
            return self.like_styles.get(write.style_like)
        return self.col_styles.get(write.col)

    def _new_tail(self, base: int | None, value: WritableValue) -> bytes | None:
        return self._render_tail(base, render_value(value, self.date1904))

    def _render_tail(self, base: int | None, rendered: _Rendered) -> bytes | None:
        style = base
        if rendered.date_kind is not None and not self.styles.is_date(base):
            style = self.styles.date_xf(base, rendered.date_kind)
        xml = cell_xml(self.pfx.decode(), "\x00", rendered, style)
        if xml is None:
            return None
        return xml.split("\x00", 1)[1].encode()

    def style_for(
        self, write: CellWrite, existing: int | None, exists: bool, rendered: _Rendered
    ) -> int | None:
        if exists:
            base = existing
        elif write.style_like is not None:
            base = self.like_styles.get(write.style_like)
        else:
            base = self.col_styles.get(write.col)
        if rendered.date_kind is not None and not self.styles.is_date(base):
            return self.styles.date_xf(base, rendered.date_kind)
        return base


class CellHeads(dict[int, bytes]):
    """column → `<c r="AB`, filled as columns are asked for."""

    def __init__(self, pfx: bytes) -> None:
        super().__init__()
        self.pfx = pfx

    def __missing__(self, col: int) -> bytes:
        head = self[col] = _cell_head(self.pfx, col)
        return head


@lru_cache(maxsize=1 << 12)
def _cell_head(pfx: bytes, col: int) -> bytes:
    """`<c r="AB` for column 28: a cell's start up to its row number."""
    return b"<" + pfx + b'c r="' + col_letters(col).encode()
