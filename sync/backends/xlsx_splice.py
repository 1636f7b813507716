"""Splicing a sheet: only the `<row>` elements that change are patched (`patch_sheet`).

A region's written rows are spliced in bulk: the plan's writes are indexed by arrays
(`xlsx_bulk.RowWrites`) rather than a dict per row, and the cells they add after or between a
row's cells are rendered a column and a type at a time (`xlsx_cells.SheetEdits`), and the
existing cells they write onto (a later sync's usual write) are rewritten in the same pass; only
a row whose cells cannot be located by reference, or that gets a date onto an existing cell, is
patched alone. The cells of a region's written rows are located by one scan of them all, and a
region is joined once, its rows, their new cells and end tags side by side.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from itertools import chain, compress, repeat
from typing import Any, cast

import numpy as np

from sync.backends.xlsx_bulk import MAX_COLS
from sync.backends.xlsx_cells import Batch, CellHeads, SheetEdits, cell_xml, render_value
from sync.backends.xlsx_package import (
    _attrs,
    _ref,
    col_letters,
    col_of,
    letters_col,
    parse_ref,
    sheet_prefix,
)
from sync.core.errors import SalesyncError, WorkbookUnreadable
from sync.core.model import CellWrite, Position, WritableValue


@lru_cache(maxsize=8)
def _patch_res(pfx: bytes) -> dict[str, re.Pattern[bytes]]:
    p = re.escape(pfx)
    return {
        "sheet_data": re.compile(b"<" + p + rb"sheetData(?=[\s/>])[^>]*>"),
        "row": re.compile(b"<" + p + rb"row(?=[\s/>])[^>]*>"),
        "cell": re.compile(b"<" + p + rb"c(?=[\s/>])([^>]*?)(/>|>(.*?)</" + p + rb"c>)", re.S),
        "dimension": re.compile(b"<" + p + rb"dimension\b[^>]*>"),
        "col": re.compile(b"<" + p + rb"col\b[^>]*>"),
        "formula": re.compile(b"<" + p + rb"f\b([^>]*)"),
    }


def _new_row(pfx: bytes, row: int, writes: dict[int, CellWrite], edits: SheetEdits) -> bytes:
    digits = str(row).encode()
    cells = []
    for col in sorted(writes):
        xml = edits.new_cell(digits, writes[col])
        if xml:
            cells.append(xml)
    if not cells:
        return b""
    return b"<" + pfx + b'row r="' + digits + b'">' + b"".join(cells) + b"</" + pfx + b"row>"


@lru_cache(maxsize=8)
def _cell_res(pfx: bytes) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    p = re.escape(pfx)
    return (
        re.compile(b"<" + p + rb"c(?=[\s/>])"),
        re.compile(b"<" + p + rb'c r="([A-Z]{1,3})\d+"'),
    )


def _locate_cells(pfx: bytes, body: bytes) -> tuple[list[int], list[bytes]] | None:
    """Columns and reference letters of a row's cells, when every cell starts `<c r="…"` (as
    Excel, LibreOffice, xlsxwriter and openpyxl write them) in column order; else None. Two
    scans in C instead of a regex match per cell: rows that get a write in their middle are
    common."""
    any_cell, with_ref = _cell_res(pfx)
    refs = with_ref.findall(body)
    if len(refs) != len(any_cell.findall(body)):  # `<` never occurs in text: the count is exact
        return None
    cols = list(map(letters_col, refs))
    if any(a >= b for a, b in itertools.pairwise(cols)):
        return None
    return cols, refs


_UNKNOWN: Any = object()
_SAME_TAIL = frozenset({str, int, bool, type(None)})
"""Types whose equal values render alike (not floats: -0.0 equals 0.0)."""


def _overwritten(
    pfx: bytes,
    row: int,
    write: CellWrite,
    attrs: dict[bytes, bytes],
    inner: bytes | None,
    edits: SheetEdits,
) -> bytes:
    """The XML of an existing cell (its start tag's `attrs`, the XML `inner` to it) with
    `write` made: its style kept (a date format added if need be), attributes other than the
    value's kept; b"" when the cell goes. A formula that other cells share is refused."""
    existing = None
    extra = ""
    with contextlib.suppress(ValueError):
        existing = int(attrs.get(b"s", b"0"))
    for key, value in attrs.items():
        if key not in (b"r", b"s", b"t", b"cm", b"vm"):
            extra += f' {key.decode()}="{value.decode()}"'
    if inner:
        fm = _patch_res(pfx)["formula"].search(inner)
        if fm:
            fattrs = _attrs(fm.group(1))
            if b"ref" in fattrs or fattrs.get(b"t") in (b"array", b"dataTable"):
                raise SalesyncError(
                    f"{edits.sheet}!{_ref(row, write.col)} holds a formula that other "
                    "cells share; salesync will not overwrite it"
                )
            edits.formulas_removed = True
    rendered = render_value(write.value, edits.date1904)
    style = edits.style_for(write, existing, True, rendered)
    xml = cell_xml(pfx.decode(), _ref(row, write.col), rendered, style, extra)
    return xml.encode() if xml else b""


def _patch_row(
    pfx: bytes,
    row_xml: bytes,
    row: int,
    writes: dict[int, CellWrite],
    edits: SheetEdits,
    located: tuple[list[int], list[bytes]] | None = _UNKNOWN,
) -> bytes:
    """`row_xml` with `writes` made; `located`, when the caller has it, is `_locate_cells` of
    the row's body (what it would find again)."""
    res = _patch_res(pfx)
    tag_end = row_xml.index(b">") + 1
    p = pfx.decode()
    if row_xml[tag_end - 2 : tag_end] == b"/>":
        start_tag = row_xml[: tag_end - 2].rstrip() + b">"
        body = b""
        end_tag = b"</" + pfx + b"row>"
    else:
        start_tag = row_xml[:tag_end]
        end_tag = b"</" + pfx + b"row>"
        body = row_xml[tag_end : len(row_xml) - len(end_tag)]
    pieces: list[bytes] = []
    last = 0
    pending = sorted(writes)
    digits = str(row).encode()
    wi = 0
    col = 0

    def render(write: CellWrite, attrs: dict[bytes, bytes] | None, inner: bytes | None) -> bytes:
        if attrs is None:
            return edits.new_cell(digits, write) or b""
        return _overwritten(pfx, row, write, attrs, inner, edits)

    last_open = max(body.rfind(b"<" + pfx + b"c "), body.rfind(b"<" + pfx + b"c>"))
    last_col = 0
    if last_open >= 0:
        last_col = col_of(body[last_open : body.find(b">", last_open)]) or MAX_COLS + 1
    if last_col >= pending[0] and located is _UNKNOWN:
        located = _locate_cells(pfx, body)
    if last_col < pending[0]:  # the usual case: every write goes after the last cell
        pass
    elif located is not None:  # every cell has its reference: find the writes' places directly
        cols, refs = located
        close = b"</" + pfx + b"c>"
        open_len = len(pfx) + 2
        ref_open = b"<" + pfx + b'c r="'

        def start_of(i: int) -> int:
            # Columns ascend, so the first `<c r="P` is cell P's (PA, PB… come after it).
            return body.index(ref_open + refs[i], last)

        for col in pending:
            i = bisect.bisect_left(cols, col)
            if i < len(cols) and cols[i] == col:
                start = start_of(i)
                tag_end = body.index(b">", start)
                if body[tag_end - 1 : tag_end] == b"/":
                    end, inner = tag_end + 1, None
                else:
                    close_at = body.index(close, tag_end)
                    end, inner = close_at + len(close), body[tag_end + 1 : close_at]
                pieces.append(body[last:start])
                pieces.append(render(writes[col], _attrs(body[start + open_len : tag_end]), inner))
                last = end
            else:
                at = start_of(i) if i < len(cols) else len(body)
                pieces.append(body[last:at])
                pieces.append(render(writes[col], None, None))
                last = at
        wi = len(pending)
    else:
        for m in res["cell"].finditer(body):
            found = col_of(m.group(1))
            col = found or col + 1
            while wi < len(pending) and pending[wi] < col:
                pieces.append(body[last : m.start()])
                pieces.append(render(writes[pending[wi]], None, None))
                last = m.start()
                wi += 1
            if wi < len(pending) and pending[wi] == col:
                pieces.append(body[last : m.start()])
                pieces.append(render(writes[col], _attrs(m.group(1)), m.group(3)))
                last = m.end()
                wi += 1
            elif found is None:  # give it an explicit reference: cells are being inserted
                pieces.append(body[last : m.start()])
                pieces.append(
                    m.group(0).replace(b"<" + pfx + b"c", f'<{p}c r="{_ref(row, col)}"'.encode(), 1)
                )
                last = m.end()
            if wi >= len(pending):
                break
    pieces.append(body[last:])
    while wi < len(pending):
        pieces.append(render(writes[pending[wi]], None, None))
        wi += 1
    if b"spans" in start_tag:
        start_tag = _fix_spans(start_tag, pending[0], pending[-1])
    return start_tag + b"".join(pieces) + end_tag


def _grow_dimension(head: bytes, pfx: bytes, edits: SheetEdits) -> bytes:
    bounds = edits.writes.live_bounds()
    if bounds is None:
        return head
    m = _patch_res(pfx)["dimension"].search(head)
    if not m:
        return head
    ref = _attrs(m.group(0)).get(b"ref", b"")
    parts = [parse_ref(x) for x in ref.split(b":")]
    if not parts or any(x is None for x in parts):
        return head
    rows = [x[0] for x in parts if x] + [bounds[0], bounds[2]]
    cols = [x[1] for x in parts if x] + [bounds[1], bounds[3]]
    new_ref = f"{_ref(min(rows), min(cols))}:{_ref(max(rows), max(cols))}"
    if min(rows) == max(rows) and min(cols) == max(cols):
        new_ref = _ref(min(rows), min(cols))
    if new_ref.encode() == ref:
        return head
    tag = re.sub(
        rb"""ref\s*=\s*(?:"[^"]*"|'[^']*')""", f'ref="{new_ref}"'.encode(), m.group(0), count=1
    )
    return head[: m.start()] + tag + head[m.end() :]


def _col_styles(head: bytes, pfx: bytes) -> dict[int, int]:
    out: dict[int, int] = {}
    for m in _patch_res(pfx)["col"].finditer(head):
        a = _attrs(m.group(0))
        try:
            style = int(a.get(b"style", b"0"))
            lo, hi = int(a[b"min"]), int(a[b"max"])
        except (KeyError, ValueError):
            continue
        if style:
            for c in range(lo, min(hi, MAX_COLS) + 1):
                out[c] = style
    return out


def find_styles(chunks: Iterable[bytes], positions: set[Position]) -> dict[Position, int | None]:
    """The `s` of the cells at `positions` (None where the cell does not exist)."""
    found: dict[Position, int | None] = dict.fromkeys(positions)
    wanted_rows = {r for r, _ in positions}
    last_row = max(wanted_rows)
    buf = b""
    pfx: bytes | None = None
    pos = 0
    prev = 0
    for chunk in chunks:
        buf = buf[pos:] + chunk
        pos = 0
        if pfx is None:
            pfx = sheet_prefix(buf)
            if pfx is None:
                continue
        res = _patch_res(pfx)
        while True:
            m = res["row"].search(buf, pos)
            if not m:
                cut = buf.rfind(b"<", pos)
                pos = cut if cut >= 0 else len(buf)
                break
            attrs = _attrs(m.group(0))
            try:
                row = int(attrs.get(b"r", b"")) if b"r" in attrs else prev + 1
            except ValueError:
                row = prev + 1
            if row not in wanted_rows:
                prev = row
                pos = m.end()
                if row > last_row:
                    return found
                continue
            if m.group(0).endswith(b"/>"):
                prev, pos = row, m.end()
                continue
            end = buf.find(b"</" + pfx + b"row>", m.end())
            if end < 0:
                pos = m.start()
                break
            prev = row
            col = 0
            for cm in res["cell"].finditer(buf, m.end(), end):
                a = _attrs(cm.group(1))
                ref = parse_ref(a.get(b"r", b""))
                col = ref[1] if ref else col + 1
                if (row, col) in found:
                    try:
                        found[(row, col)] = int(a.get(b"s", b"0")) or None
                    except ValueError:
                        found[(row, col)] = None
            pos = end
    return found


_ROW_NUMBER_RE = re.compile(rb"""\sr\s*=\s*["'](\d+)["']""")


_LAST_CELL_RES: dict[bytes, re.Pattern[bytes]] = {}


def _last_cell_re(pfx: bytes) -> re.Pattern[bytes]:
    pattern = _LAST_CELL_RES.get(pfx)
    if pattern is None:
        pattern = re.compile(
            b"<" + re.escape(pfx) + rb"""c\s+r\s*=\s*["']\$?([A-Za-z]{1,3})\$?\d"""
        )
        _LAST_CELL_RES[pfx] = pattern
    return pattern


def _fix_spans(start_tag: bytes, lo: int, hi: int) -> bytes:
    """A row's start tag with its `spans` widened to take in columns lo..hi."""
    i = start_tag.find(b' spans="')
    if i >= 0 and start_tag.count(b"spans") == 1 and b"'" not in start_tag:
        j = start_tag.find(b'"', i + 8)
        try:
            a, b = (int(x) for x in start_tag[i + 8 : j].split(b":"))
        except ValueError:
            return start_tag
        if lo < a or hi > b:
            return start_tag[: i + 8] + f"{min(a, lo)}:{max(b, hi)}".encode() + start_tag[j:]
        return start_tag
    attrs = _attrs(start_tag)
    if b"spans" in attrs:
        try:
            a, b = (int(x) for x in attrs[b"spans"].split(b":"))
            if lo < a or hi > b:
                start_tag = re.sub(
                    rb"""spans\s*=\s*(?:"[^"]*"|'[^']*')""",
                    f'spans="{min(a, lo)}:{max(b, hi)}"'.encode(),
                    start_tag,
                    count=1,
                )
        except ValueError:
            pass
    return start_tag


def patch_sheet(chunks: Iterator[bytes], out: Callable[[bytes], None], edits: SheetEdits) -> None:
    """Stream a sheet's XML to `out`, patching only the rows that have writes.

    The XML is taken a region at a time: the complete rows in the buffer (up to the start of
    the last, perhaps partial, row). `_Rows` splices a region in bulk, with C-speed bytes
    operations over all its rows and Python work only for the written ones; the rare region
    it cannot map (a row without `r`, empty rows written `<row …/>`, cells without `r`) goes
    row by row (`_Rows._slowly`)."""
    it = iter(chunks)
    buf = b""
    pfx = b""
    sd = None
    for chunk in it:
        buf += chunk
        found = sheet_prefix(buf)
        if found is not None:
            pfx = found
            sd = _patch_res(pfx)["sheet_data"].search(buf)
            if sd:
                break
    if sd is None:
        raise WorkbookUnreadable(f"tab {edits.sheet!r}: its sheet XML has no sheetData")
    edits.pfx = pfx
    edits.heads = CellHeads(pfx)
    head = buf[: sd.start()]
    edits.col_styles = _col_styles(head, pfx)
    out(_grow_dimension(head, pfx, edits))
    pending = edits.writes.rows
    if sd.group(0).endswith(b"/>"):
        out(b"<" + pfx + b"sheetData>")
        out(b"".join(edits.new_rows(list(range(len(pending))))))
        out(b"</" + pfx + b"sheetData>")
        out(buf[sd.end() :])
        for chunk in it:
            out(chunk)
        return
    out(sd.group(0))
    buf = buf[sd.end() :]
    rows = _Rows(pfx, edits, pending)
    end_sd = b"</" + pfx + b"sheetData>"
    row_open = b"<" + pfx + b"row"
    searched = 0  # `buf[:searched]` holds no `</sheetData>`: only what came after is looked at
    while True:
        if rows.done():
            out(buf)
            for chunk in it:
                out(chunk)
            return
        e = buf.find(end_sd, searched)
        if e >= 0:  # the last region: every write still pending is placed in it
            out(rows.splice(buf[:e], last=True))
            buf, searched = buf[e:], 0
            continue
        cut = buf.rfind(row_open)  # the rows before the last one, perhaps partial, are whole
        if cut > 0:
            out(rows.splice(buf[:cut], last=False))
            buf = buf[cut:]
        searched = max(0, len(buf) - len(end_sd) + 1)
        more = next(it, None)
        if more is None:
            raise WorkbookUnreadable(f"tab {edits.sheet!r}: its sheet XML is truncated")
        buf += more


_ROW_KEY = 1 << 20  # row ordinal × this + column: a key sorted by row, then column
_GAP_TRIES = 8
"""How many of the next columns `_Rows._find_cells` looks for the cell a new one goes before."""


@lru_cache(maxsize=8)
def _row_cell_refs(pfx: bytes) -> re.Pattern[bytes]:
    """Matches a row's start (group empty) and a cell's `<c r="AB12"` (group: its letters)."""
    p = re.escape(pfx)
    return re.compile(b"<" + p + rb"row[\s>]|<" + p + rb'c r="([A-Z]{1,3})\d+"')


class _RefColumns(dict[bytes, int]):
    """Reference letters → column, filled as letters are asked for."""

    def __missing__(self, letters: bytes) -> int:
        col = self[letters] = letters_col(letters)
        return col


@dataclass(slots=True)
class _Places:
    """Where written rows `pending[k]` (k from `k0`) fall in a region's pieces: the piece that
    is the row (`existing[k - k0]`) or that it goes before."""

    k0: int
    pieces: list[int]
    existing: np.ndarray

    def __getitem__(self, k: int) -> int:
        return self.pieces[k - self.k0]


@dataclass(slots=True)
class _Appended:
    """New cells to put after rows of a region (before their end tags): `counts[j]` parts
    after piece `places[j]`, the parts in that order."""

    places: list[np.ndarray] = field(default_factory=list)
    counts: list[np.ndarray] = field(default_factory=list)
    parts: list[bytes] = field(default_factory=list)

    def add(self, places: np.ndarray, counts: np.ndarray, parts: Iterable[bytes]) -> None:
        self.places.append(places)
        self.counts.append(counts)
        self.parts += parts

    def join(self, pieces: list[bytes], close: bytes) -> bytes:
        """`close.join(pieces)` with the cells in: one join of the pieces, the cells' parts
        and the end tags side by side, placed by numpy rather than a row at a time."""
        if not self.parts:
            return close.join(pieces)
        places, counts = np.concatenate(self.places), np.concatenate(self.counts)
        extra = np.zeros(len(pieces), np.intp)
        extra[places] = counts
        slots = np.zeros(len(pieces) + 1, np.intp)  # piece i's slot; its end tag's is next - 1
        np.cumsum(extra + 2, out=slots[1:])
        out = np.empty(slots[-1] - 1, dtype=object)
        out[:] = close  # the same object throughout (`np.full` would copy it into each)
        out[slots[:-1]] = pieces
        firsts = slots[places] + 1 - (np.cumsum(counts) - counts)
        out[np.repeat(firsts, counts) + np.arange(len(self.parts))] = self.parts
        return b"".join(out.tolist())


class _Rows:
    """Splices the rows of a sheet's `<sheetData>`, one region of complete rows at a time, in
    document order. `pending` are the written rows, ascending."""

    def __init__(self, pfx: bytes, edits: SheetEdits, pending: list[int]) -> None:
        self.pfx = pfx
        self.edits = edits
        self.pending = pending
        self.pi = 0  # pending[:pi] are placed
        self.prev = 0  # the number of the last row passed
        self.row_open = b"<" + pfx + b"row"
        self.row_close = b"</" + pfx + b"row>"
        self.cell_start = b"<" + pfx + b"c"  # any cell's start (and rarer tags', `<col…`)
        self.cell_ref = b"<" + pfx + b'c r="'
        self.cell_close = b"</" + pfx + b"c>"
        self.formula_open = b"<" + pfx + b"f"
        self.overwrites: dict[tuple[bytes, type, object], bytes | None] = {}  # `_overwrite`'s
        self.numbers = re.compile(re.escape(self.row_open) + rb'(?: r="(\d+)")?')
        self.refs = _row_cell_refs(pfx)
        self.last_cell = _last_cell_re(pfx)
        self.heads = edits.heads
        self.col_of: dict[bytes, int] = {col_letters(c).encode(): c for c in range(1, 703)}
        self.ref_cols = _RefColumns(self.col_of)
        self.ref_cols[b""] = 0  # a row's start, to `_locate_gaps`
        self.letters_of = [b"", *self.col_of]  # column → its letters, to `ZZ`
        self.refless = re.compile(re.escape(self.cell_start) + rb'(?! r=")')
        self.appended = _Appended()  # the region's, as `splice` goes

    def done(self) -> bool:
        return self.pi >= len(self.pending)

    def splice(self, region: bytes, last: bool) -> bytes:
        """`region` (whole rows, and what lies between them) with its written rows patched;
        with `last`, `</sheetData>` follows the region and every write still pending lands in
        it. Rows must have `r` first, end tags and ascending numbers to be mapped in bulk."""
        numbers = self.numbers.findall(region)  # b"" for a row without `r`
        n = len(numbers)
        if b"" in numbers:
            return self._slowly(region, last)
        rows = list(map(int, numbers))
        if not all(map(int.__lt__, rows, rows[1:])) or (n and rows[0] <= self.prev):
            return self._slowly(region, last)
        pending = self.pending
        if not last and n and self.pi < len(pending) and pending[self.pi] > rows[-1]:
            # no write among these rows: they go as they are
            self.prev = rows[-1]
            return region
        pieces = region.split(self.row_close)
        if n != len(pieces) - 1:
            return self._slowly(region, last)
        stop = len(pending) if last else bisect.bisect_right(pending, rows[-1] if n else 0, self.pi)
        self.appended = _Appended()
        if stop > self.pi:
            self._place(pieces, rows, self.pi, stop, b"spans" in region)
        self.pi = stop
        if n:
            self.prev = rows[-1]
        return self.appended.join(pieces, self.row_close)

    def _place(self, pieces: list[bytes], rows: list[int], k0: int, k1: int, spans: bool) -> None:
        """Put written rows `pending[k0:k1]` into `pieces` (the region's rows, numbered `rows`,
        each without its end tag; one more piece follows the last). The usual row gets new
        cells after its last one, and a row that does not exist is new: both are rendered in
        bulk (`SheetEdits.new_cell_parts`). A row with writes among or onto its cells goes
        through `_insert` (or `_patch`, see there). Where rendering could add a date format,
        the bulk rows go in runs between those, so that formats are added in the order row by
        row would add them."""
        writes = self.edits.writes
        wanted = np.asarray(self.pending[k0:k1])
        found = np.searchsorted(np.asarray(rows, dtype=np.int64), wanted)
        there = found < len(rows)
        there[there] = np.asarray(rows, dtype=np.int64)[found[there]] == wanted[there]
        hit = np.flatnonzero(there) + k0
        at = _Places(k0, found.tolist(), there)
        lasts = self._last_cols(list(map(pieces.__getitem__, found[there].tolist())))
        inside = hit[lasts >= writes.cols[writes.starts[hit]]].tolist()
        before: dict[int, list[bytes]] = {}  # piece → new rows to put before it
        batch = self.edits.gather(list(range(k0, k1)))
        if inside and not self.edits.adds_no_format(batch):
            runs = list(itertools.pairwise([k0 - 1, *inside, k1]))
        else:  # rendering adds no format, or no row is left to `_patch`: no order to keep
            runs = self._bulk(pieces, before, at, batch, inside, spans)
        for patched, stop in runs:
            if patched >= k0:
                row = self.pending[patched]
                row_writes = writes.row_at(patched)
                pieces[at[patched]] = self._patch(pieces[at[patched]], row, row_writes, spans)
            if stop > patched + 1:
                self._append(pieces, before, at, list(range(patched + 1, stop)), spans)
        for i, new in before.items():
            if i < len(rows):
                pieces[i] = b"".join(new) + pieces[i]
            else:  # after the last row and what follows it
                pieces[i] += b"".join(new)

    def _bulk(
        self,
        pieces: list[bytes],
        before: dict[int, list[bytes]],
        at: _Places,
        batch: Batch,
        inside: list[int],
        spans: bool,
    ) -> list[tuple[int, int]]:
        """The batch's rows `pending[k]`, rendered at once: `_append` for all but those
        `inside`, which get new cells in the gaps between their cells through `_insert`.
        Returns the rows left for `_patch` (see `_insert`) as runs."""
        parts, bounds = self.edits.new_cell_parts(batch)
        ks = batch.ks
        k0 = ks[0]
        left = self._insert(pieces, at, inside, parts, batch.values, bounds, k0, spans)
        self._place_cells(pieces, before, at, ks, parts, bounds, spans, set(inside))
        return [(k, k + 1) for k in left]

    def _insert(
        self,
        pieces: list[bytes],
        at: _Places,
        ks: list[int],
        parts: list[bytes],
        values: list[Any],
        bounds: list[int],
        k0: int,
        spans: bool,
    ) -> list[int]:
        """Existing rows `pending[k]` (`k` in `ks`) with their new cells (row `k`'s writes
        from `bounds[k - k0]` to `bounds[k - k0 + 1]`, in `SheetEdits.new_cell_parts`, their
        values in `values`) put into the gaps between their cells and after the last, and the
        cells they write onto rewritten (`_overwrite`), as `_patch` does both. Returns the
        rows left to `_patch`: cells it cannot locate, or a date written onto a cell (that may
        add a date format, which must come in row order)."""
        if not ks:
            return []
        rows = list(map(pieces.__getitem__, map(at.__getitem__, ks)))
        fits, mendable, counts, letters, onto, starts = self._locate(rows, ks)
        writes = self.edits.writes
        left, g = [], 0
        for j, k in enumerate(ks):
            n, first, stop = counts[j], bounds[k - k0], bounds[k - k0 + 1]
            row_values = None
            if mendable[j]:  # writes onto cells: those need the values themselves
                row_values = values[first : first + n]  # in column order
                if any(onto[g + i] and isinstance(row_values[i], date) for i in range(n)):
                    row_values = None
            if not fits[j] and row_values is None:
                left.append(k)
                g += n
                continue
            piece, a = rows[j], 3 * first
            start = piece.find(self.row_open)
            tag_end = piece.find(b">", start) + 1
            if spans and piece.find(b"spans", start, tag_end) >= 0:
                tag = _fix_spans(piece[start:tag_end], writes.first_cols[k], writes.last_cols[k])
                out, emit = [piece[:start], tag], tag_end
            else:
                out, emit = [], 0
            if row_values is None:
                for i in starts[g : g + n]:
                    out += (piece[emit:i], *parts[a : a + 3])
                    emit, a = i, a + 3
            else:
                row = self.pending[k]
                for w, ref in enumerate(letters[g : g + n]):
                    i = starts[g + w]
                    if onto[g + w]:
                        end, xml = self._overwrite(piece, i, ref, row, row_values[w])
                        out += (piece[emit:i], xml)
                        emit = end
                    else:
                        out += (piece[emit:i], *parts[a : a + 3])
                        emit = i
                    a += 3
            g += n
            out.append(piece[emit:])
            out += parts[a : 3 * stop]
            pieces[at[k]] = b"".join(out)
        return left

    def _overwrite(
        self, piece: bytes, i: int, letters: bytes, row: int, value: WritableValue
    ) -> tuple[int, bytes]:
        """The cell that starts at `i` in `piece` (`<c r="` and `letters`, its column) with
        `value` written onto it: where it ends, its XML. A text, whole number, yes/no or blank
        written onto a cell whose start tag reads the same after its reference (style, type,
        other attributes) and that holds no formula is rendered once, as what follows its
        reference: later syncs rewrite a column of such cells."""
        quote = piece.index(b'"', i + len(self.cell_ref) + len(letters))  # the reference's end
        tag_end = piece.index(b">", quote)
        if piece[tag_end - 1 : tag_end] == b"/":
            end, inner = tag_end + 1, None
        else:
            close_at = piece.index(self.cell_close, tag_end)
            end, inner = close_at + len(self.cell_close), piece[tag_end + 1 : close_at]
        kind = type(value)
        if kind not in _SAME_TAIL or (inner is not None and self.formula_open in inner):
            attrs = _attrs(piece[i + len(self.pfx) + 2 : tag_end])
            return end, self._overwritten(row, letters, value, attrs, inner)
        key = (piece[quote + 1 : tag_end], kind, value)
        digits = b"%d" % row
        tail = self.overwrites.get(key, _UNKNOWN)
        if tail is _UNKNOWN:
            attrs = _attrs(piece[i + len(self.pfx) + 2 : tag_end])
            xml = self._overwritten(row, letters, value, attrs, inner)
            tail = xml[len(self.cell_ref) + len(letters) + len(digits) :] if xml else None
            if len(self.overwrites) >= 1 << 16:
                self.overwrites.clear()
            self.overwrites[key] = tail
        return end, b"" if tail is None else self.cell_ref + letters + digits + tail

    def _overwritten(
        self,
        row: int,
        letters: bytes,
        value: WritableValue,
        attrs: dict[bytes, bytes],
        inner: bytes | None,
    ) -> bytes:
        # the write as the plan made it but for its model cell, which the existing cell's
        # own style overrules
        write = CellWrite(row, self.ref_cols[letters], value)
        return _overwritten(self.pfx, row, write, attrs, inner, self.edits)

    def _locate(
        self, rows: list[bytes], ks: list[int]
    ) -> tuple[list[bool], list[bool], list[int], list[bytes], list[bool], list[int]]:
        """What `_locate_gaps` tells of existing rows `pending[k]` (`k` in `ks`, `rows` their
        XML), and where in its row each cell it names starts. A row's cells are looked up by
        their references (`_find_cells`); the rows that cannot be settled so go through
        `_locate_gaps`' scan of every cell."""
        found = self._find_cells(rows, ks)
        slow = [j for j, f in enumerate(found) if f is None]
        if slow:
            fits, mendable, counts, letters, onto = self._locate_gaps(
                list(map(rows.__getitem__, slow)), list(map(ks.__getitem__, slow))
            )
            g = 0
            for j, n, fit, mend in zip(slow, counts, fits, mendable, strict=True):
                refs = letters[g : g + n]
                starts, i = [-1] * n, 0  # not looked for in a row `_insert` leaves to `_patch`
                if fit or mend:
                    for w, ref in enumerate(refs):
                        # columns ascend, so the first `<c r="P` is cell P's (PA, PB… after it)
                        i = starts[w] = rows[j].index(self.cell_ref + ref, i)
                found[j] = (fit, mend, refs, onto[g : g + n], starts)
                g += n
        settled = cast(list[tuple[bool, bool, list[bytes], list[bool], list[int]]], found)
        return (
            [f[0] for f in settled],
            [f[1] for f in settled],
            [len(f[2]) for f in settled],
            list(chain.from_iterable(f[2] for f in settled)),
            list(chain.from_iterable(f[3] for f in settled)),
            list(chain.from_iterable(f[4] for f in settled)),
        )

    def _find_cells(
        self, rows: list[bytes], ks: list[int]
    ) -> list[tuple[bool, bool, list[bytes], list[bool], list[int]] | None]:
        """For each existing row `pending[k]` (`rows` their XML): `_locate_gaps`' answer
        (whether it fits, is mendable, the letters of the cells its writes go before or onto,
        and whether onto) and where those cells start (`_find_row_cells`), or None for a row
        that cannot be settled without reading every cell, or that has a cell without `r`
        first (which `_patch` writes with its reference, as every written row's cells)."""
        writes = self.edits.writes
        places, bounds = writes.places(ks)
        wanted = writes.cols[places].tolist()
        lasts, last_starts = (a.tolist() for a in self._last_cells(rows))
        refless = self.refless.search
        found: list[tuple[bool, bool, list[bytes], list[bool], list[int]] | None] = []
        for j, piece in enumerate(rows):
            last = lasts[j]
            cells = None
            if 0 < last < len(self.letters_of) and not refless(piece):
                cols = wanted[bounds[j] : bounds[j + 1]]
                inner = cols[: bisect.bisect_right(cols, last)]
                digits = b'%d"' % self.pending[ks[j]]
                cells = self._find_row_cells(piece, inner, last, last_starts[j], digits)
            if cells is None:
                found.append(None)
            else:
                written_onto = any(cells[1])
                found.append((not written_onto, written_onto, *cells))
        return found

    def _find_row_cells(
        self, piece: bytes, cols: list[int], last: int, last_start: int, digits: bytes
    ) -> tuple[list[bytes], list[bool], list[int]] | None:
        """For writes to columns `cols` (ascending, none beyond `last`, the column of the
        row's last cell, that starts at `last_start`) in row `piece` (its number `digits`
        and a quote): the letters of the cell each goes onto or before, whether onto, and
        where that cell starts. The cell a write goes onto is found by its whole reference
        (`<c r="AD12"`); the one it goes before as the first of the next columns' so found,
        the cell before that in an earlier column (the caller has seen that every cell in the
        row has `r` first, so no other cell lies between the two). None
        where that fails: the cell not found, a gap wider than `_GAP_TRIES` columns, or cells
        that do not read so around it."""
        ref_open, letters_of = self.cell_ref, self.letters_of
        refs: list[bytes] = []
        onto: list[bool] = []
        starts: list[int] = []
        i = 0
        for col in cols:
            ref = letters_of[col]
            if col == last:
                if not piece.startswith(ref_open + ref + digits, last_start):
                    return None
                at = last_start
            else:
                at = piece.find(ref_open + ref + digits, i)
            if at >= 0:
                refs.append(ref)
                onto.append(True)
                starts.append(i := at)
                continue
            for nxt in range(col + 1, min(last, col + _GAP_TRIES) + 1):
                at = piece.find(ref_open + letters_of[nxt] + digits, i)
                if at >= 0:
                    break
            else:
                return None
            before = piece.rfind(ref_open, 0, at)
            if before >= 0:
                skip = before + len(ref_open)
                tail = piece[skip : skip + 3].rstrip(b'0123456789"')
                if self.col_of.get(tail, MAX_COLS) >= col:
                    return None
            refs.append(letters_of[nxt])
            onto.append(False)
            starts.append(i := at)
        return refs, onto, starts

    def _locate_gaps(
        self, rows: list[bytes], ks: list[int]
    ) -> tuple[list[bool], list[bool], list[int], list[bytes], list[bool]]:
        """For existing rows `pending[k]` (`k` in `ks`, `rows` their XML): whether each can
        take its new cells in gaps (every cell `<c r="…"`, columns ascending, no write onto a
        cell), whether each could but for writes onto cells, how many of its writes go
        before or onto its last cell, the letters of the cell each of those goes before or
        onto, and whether it goes onto it. One regex scan over all the rows, not two a row."""
        n = len(rows)
        tokens = self.refs.findall(b"".join(rows))  # b"" where a row starts, else a cell's letters
        cols = np.fromiter(map(self.ref_cols.__getitem__, tokens), np.int64, len(tokens))
        heads = np.flatnonzero(cols == 0)
        if len(heads) != n or cols[0] != 0:  # something between rows: no gap is sure
            return [False] * n, [False] * n, [0] * n, [], []
        ends = np.append(heads[1:], len(cols))
        row_of = np.cumsum(cols == 0) - 1
        later = cols[1:]
        disordered = row_of[1:][(later != 0) & (later <= cols[:-1])]
        fits = np.bincount(disordered, minlength=n) == 0
        fits &= ends - heads - 1 == np.fromiter(
            map(bytes.count, rows, repeat(self.cell_start)), np.int64, n
        )
        if not fits.all():  # a row's columns in order of appearance: sorted, never matched
            cols = np.where(fits[row_of], cols, np.arange(len(cols)) - heads[row_of])
        keys = row_of * _ROW_KEY + cols  # sorted: by row, then column
        places, bounds = self.edits.writes.places(ks)
        wanted = self.edits.writes.cols[places]
        write_row = np.repeat(np.arange(n), np.diff(bounds))
        query = write_row * _ROW_KEY + wanted
        found = np.searchsorted(keys, query)
        onto = keys[np.minimum(found, len(keys) - 1)] == query
        fits &= ends > heads + 1  # a row with no cell has no gap
        written_onto = np.bincount(write_row[onto], minlength=n) > 0
        inner = wanted <= cols[ends - 1][write_row]  # equal: onto the last cell
        counts = np.bincount(write_row[inner], minlength=n).tolist()
        letters = list(map(tokens.__getitem__, found[inner].tolist()))
        mendable = fits & written_onto
        fits &= ~written_onto
        return fits.tolist(), mendable.tolist(), counts, letters, onto[inner].tolist()

    def _append(
        self,
        pieces: list[bytes],
        before: dict[int, list[bytes]],
        at: _Places,
        ks: list[int],
        spans: bool,
    ) -> None:
        """Written rows `pending[k]` for `k` in `ks`: new cells after the last ones of those
        that exist, new rows (put in `before`) for the others."""
        parts, bounds = self.edits.new_cell_parts(self.edits.gather(ks))
        self._place_cells(pieces, before, at, ks, parts, bounds, spans, set())

    def _place_cells(
        self,
        pieces: list[bytes],
        before: dict[int, list[bytes]],
        at: _Places,
        ks: list[int],
        parts: list[bytes],
        bounds: list[int],
        spans: bool,
        skip: set[int],
    ) -> None:
        """`_append` for rows `ks` but those in `skip`, with their new cells rendered (`parts`,
        `bounds` as `SheetEdits.new_cell_parts` gives them). The cells of existing rows go to
        `self.appended`, joined with the region."""
        writes, k0 = self.edits.writes, ks[0]
        places = np.asarray(at.pieces)[np.asarray(ks) - at.k0]
        sizes = 3 * np.diff(bounds)
        existing = at.existing[np.asarray(ks) - at.k0]
        kept = existing.copy()
        if skip:
            kept &= ~np.fromiter(map(skip.__contains__, ks), bool, len(ks))
        for k in compress(ks, (~existing).tolist()):
            j = k - k0
            cells = b"".join(parts[3 * bounds[j] : 3 * bounds[j + 1]])
            if cells:
                row = b"%d" % writes.rows[k]
                new = b"<" + self.pfx + b'row r="' + row + b'">' + cells + self.row_close
                before.setdefault(int(places[j]), []).append(new)
        if spans:  # widened even where only blanks are written, as `_patch` does
            for k in compress(ks, kept.tolist()):
                i = int(places[k - k0])
                piece = pieces[i]
                start = piece.find(self.row_open)
                tag_end = piece.find(b">", start) + 1
                tag = piece[start:tag_end]
                if b"spans" in tag:
                    tag = _fix_spans(tag, writes.first_cols[k], writes.last_cols[k])
                    pieces[i] = piece[:start] + tag + piece[tag_end:]
        self.appended.add(places[kept], sizes[kept], compress(parts, np.repeat(kept, sizes)))

    def _last_cols(self, pieces: list[bytes]) -> np.ndarray:
        """The column of each row's last cell (0: none); beyond `MAX_COLS` where it is not
        plain (`<c r="AB12"`, one or two upper-case letters)."""
        return self._last_cells(pieces)[0]

    def _last_cells(self, pieces: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """`_last_cols`, and where each row's last cell (or other `<c…` tag) starts. The start
        tags are read side by side as the rows of a byte matrix, not matched a row at a
        time."""
        ref = np.frombuffer(self.cell_ref, np.uint8)
        width = len(ref) + 3
        starts = np.fromiter(map(bytes.rfind, pieces, repeat(self.cell_start)), np.int64)
        tags = list(
            map(bytes.__getitem__, pieces, map(slice, starts.tolist(), (starts + width).tolist()))
        )
        chars = np.array(tags, dtype=f"S{width}").view(np.uint8).reshape(-1, width)
        plain = (chars[:, : len(ref)] == ref).all(axis=1)
        after = chars[:, len(ref) :].astype(np.int64)
        letter, digit = (after >= 65) & (after <= 90), (after >= 48) & (after <= 57)
        one = letter[:, 0] & digit[:, 1]
        two = letter[:, 0] & letter[:, 1] & digit[:, 2]
        cols = np.where(one, after[:, 0] - 64, (after[:, 0] - 64) * 26 + after[:, 1] - 64)
        cols[~(plain & (one | two))] = MAX_COLS + 1
        cols[starts < 0] = 0
        return cols, starts

    def _patch(
        self, piece: bytes, row: int, row_writes: dict[int, CellWrite], spans: bool
    ) -> bytes:
        """One written row, `piece` being it without its end tag (and perhaps whitespace
        before its start tag). The usual row gets its new cells after its last one, and
        perhaps some in gaps between its cells: it is kept as slices and the new cells put
        between them; a row whose existing cells are overwritten goes through `_patch_row`."""
        cols = sorted(row_writes)
        last = piece.rfind(self.cell_start)
        if last < 0:
            last_col = 0
        else:
            lm = self.last_cell.match(piece, last)
            letters = lm.group(1) if lm else b""
            last_col = self.col_of.get(letters) or (letters_col(letters.upper()) if lm else 0)
            if not last_col:
                last_col = MAX_COLS + 1
        digits = b"%d" % row
        k = 0
        if last_col < cols[0] and not spans:  # the usual row: one slice, then the new cells
            out = [piece]
            start = tag_end = emit = len(piece)
        else:
            start = piece.find(self.row_open)
            tag_end = emit = piece.find(b">", start) + 1
            if spans and piece.find(b"spans", start, tag_end) >= 0:
                out = [piece[:start], _fix_spans(piece[start:tag_end], cols[0], cols[-1])]
            else:
                out = [piece[:tag_end]]
        if last_col >= cols[0]:  # writes among the cells: only into gaps here
            located = _locate_cells(self.pfx, piece[tag_end:])
            if located is None or any(c in located[0] for c in cols if c <= last_col):
                end = self.row_close
                patched = _patch_row(
                    self.pfx, piece[start:] + end, row, row_writes, self.edits, located
                )
                return piece[:start] + patched[: -len(end)]
            existing, refs = located
            last_col = existing[-1] if existing else 0  # `<c…` found last may not be a cell
            ref_open = b"<" + self.pfx + b'c r="'
            while k < len(cols) and cols[k] < last_col:
                i = bisect.bisect_left(existing, cols[k])
                # columns ascend, so the first `<c r="P` is cell P's (PA, PB… come after it)
                at = piece.index(ref_open + refs[i], emit)
                out.append(piece[emit:at])
                emit = at
                cell = self._cell(cols[k], row_writes[cols[k]], digits)
                if cell:
                    out.append(cell)
                k += 1
        if emit < len(piece):
            out.append(piece[emit:])
        tails, heads, tail = self.edits.tails, self.heads, self.edits.tail
        for col in cols[k:]:
            w = row_writes[col]
            v = w.value
            t = tails.get((col, w.style_like, str, v)) if type(v) is str else None
            if t is None:
                t = tail(w)
                if t is None:
                    continue
            out.append(heads[col] + digits + t)
        return b"".join(out)

    def _cell(self, col: int, write: CellWrite, digits: bytes) -> bytes | None:
        t = self.edits.tail(write)
        return None if t is None else self.heads[col] + digits + t

    def _slowly(self, region: bytes, last: bool) -> bytes:
        """`splice` row by row, for regions with rows or cells it cannot map in bulk."""
        pfx, edits, pending, writes = self.pfx, self.edits, self.pending, self.edits.writes
        out: list[bytes] = []
        emit = 0
        for m in _patch_res(pfx)["row"].finditer(region):
            if m.start() < emit:
                continue  # inside a row already patched (cannot be: `<` is never text)
            rm = _ROW_NUMBER_RE.search(m.group(0))
            row = int(rm.group(1)) if rm else self.prev + 1
            while self.pi < len(pending) and pending[self.pi] < row:
                out += [
                    region[emit : m.start()],
                    _new_row(pfx, pending[self.pi], writes[pending[self.pi]], edits),
                ]
                emit = m.start()
                self.pi += 1
            if self.pi < len(pending) and pending[self.pi] == row:
                if m.group(0).endswith(b"/>"):
                    end = m.end()
                else:
                    end = region.find(self.row_close, m.end())
                    if end < 0:
                        raise WorkbookUnreadable(f"tab {edits.sheet!r}: a row is not closed")
                    end += len(self.row_close)
                patched = _patch_row(pfx, region[m.start() : end], row, writes[row], edits)
                out += [region[emit : m.start()], patched]
                emit = end
                self.pi += 1
            self.prev = row
        out.append(region[emit:])
        if last:
            out += [_new_row(pfx, r, writes[r], edits) for r in pending[self.pi :]]
            self.pi = len(pending)
        return b"".join(out)
