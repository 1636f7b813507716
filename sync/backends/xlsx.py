"""Local .xlsx/.xlsm workbooks: read with python-calamine, write by splicing the package.

Writing never loads the workbook into an object model. The package is rewritten member by
member: every part the plan does not touch is copied as its raw compressed bytes (same order,
same compression), the sheets with cell writes are patched by splicing only the `<row>`
elements that change, owned tabs are regenerated whole, and `xl/styles.xml`, `xl/workbook.xml`,
its rels and `[Content_Types].xml` are edited as text only when they must change. Every cell,
style, formula, comment, validation, chart, defined name and macro project the plan does not
name stays byte-identical. The new file is written beside the target and moved over it
atomically.

The work is spread over the cores where the GIL allows: a changed sheet is inflated in one
thread (`_read_ahead`) while this one splices it region by region (`patch_sheet`), and what
it writes is deflated in segments of 4 MiB or more on a thread pool (`_Deflater`, at zlib-ng's
level 5) into a scratch file, from which the members are copied raw into the package. A
segment that reads as one of the sheet's segments before (the sheet written by salesync) is
copied from the workbook instead of compressed again.

This module is the backend (`XlsxBackend`, `apply_plan`, the rewrite and the deflater); the
rest lives beside it:

- `xlsx_package`: the package (its parts, rels and sheets), small XML helpers, copying and
  adding zip members, lock files and the atomic replace;
- `xlsx_read`: reading (`read_workbook`);
- `xlsx_styles`: the style book (`xl/styles.xml`);
- `xlsx_cells`: a new cell's XML and a sheet's edits (`SheetEdits`), the rendering of new cells;
- `xlsx_splice`: splicing a sheet's rows (`patch_sheet`);
- `xlsx_tabs`: owned tabs, written whole;
- `xlsx_bulk`, `xlsx_tables`, `xlsx_dashboard`: the plan's writes indexed by arrays, tables,
  the dashboard.
"""

from __future__ import annotations

import contextlib
import html
import os
import posixpath
import queue
import re
import tempfile
import threading
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO

from zlib_ng import zlib_ng

from sync.backends.xlsx_bulk import RowValues, RowWrites
from sync.backends.xlsx_cells import SheetEdits
from sync.backends.xlsx_dashboard import dashboard_parts
from sync.backends.xlsx_package import (
    CT_WORKSHEET,
    FLUSH_MARK,
    NS_REL,
    REL_CALC_CHAIN,
    REL_WORKSHEET,
    ZLIB_ERROR,
    Deflated,
    Package,
    Segments,
    Version,
    _attrs,
    _rels_part,
    add_deflated,
    col_letters,
    copy_member,
    iter_chunks,
    load_package_checked,
    open_zip,
    relative_target,
    replacing,
    version,
    version_of,
    writestr,
    xml_attr,
)
from sync.backends.xlsx_read import read_workbook, started
from sync.backends.xlsx_scan import scan_sheet
from sync.backends.xlsx_splice import find_styles, patch_sheet
from sync.backends.xlsx_styles import StyleBook
from sync.backends.xlsx_tables import extend_table, table_parts
from sync.backends.xlsx_tabs import FilterCells, check_tab_name, filtered_cells, tab_xml
from sync.core.errors import SalesyncError, WorkbookChanged, WorkbookNotFound, WorkbookUnreadable
from sync.core.model import RawWorkbook, WritePlan, sheet_ref

__all__ = ["XlsxBackend", "apply_plan", "read_workbook"]


class XlsxBackend:
    """A local .xlsx or .xlsm file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._ahead: Callable[[], tuple[Version, RawWorkbook]] | None = None
        self._read_as: Version | None = None  # the version the last read found

    def __repr__(self) -> str:
        return f"XlsxBackend({str(self.path)!r})"

    def start_read(self) -> None:
        """Start reading the workbook on a thread of its own; the next `read` gives what it
        read (or raises what it raised). The command starts it before it loads the rules'
        modules (pandas …), which then load while the reader's threads parse the sheets."""
        if self._ahead is None:
            self._ahead = started(self._read, "salesync-read-ahead")

    def read(self) -> RawWorkbook:
        ahead, self._ahead = self._ahead, None
        self._read_as, workbook = ahead() if ahead is not None else self._read()
        return workbook

    def _read(self) -> tuple[Version, RawWorkbook]:
        # the version first: a change after it (even while the sheets are parsed) stops the
        # write, and one before it is read
        read_as = version_of(self.path)
        return read_as, read_workbook(self.path)

    adds_dashboard = True  # renders WritePlan.dashboard (xlsx_dashboard)

    def apply(self, plan: WritePlan, *, out: Path | None = None) -> None:
        """Write `plan`, made from what `read` read: WorkbookChanged, and nothing written, if
        the file changed since (saved by another program, or another sync, meanwhile)."""
        apply_plan(self.path, plan, out=out, read_as=self._read_as)


def apply_plan(
    path: str | Path,
    plan: WritePlan,
    out: str | Path | None = None,
    *,
    read_as: Version | None = None,
) -> None:
    """Write `plan` into the workbook at `path` (or into a copy at `out`), all or nothing;
    with `read_as`, only if the workbook is still that version (else WorkbookChanged)."""
    if plan.is_empty():
        return
    src = Path(path)
    dst = Path(out) if out is not None else src
    if not src.exists():
        raise WorkbookNotFound(f"{src}: no such file")
    folder = dst.parent if str(dst.parent) else Path(".")
    scratch_path: Path | None = None
    try:
        with replacing(dst, like=src) as tmp, open_zip(src) as zin:
            if read_as is not None and version(zin) != read_as:
                raise WorkbookChanged(
                    f"{src}: changed since salesync read it (saved by another program, or "
                    "another sync, meanwhile); nothing was written: run salesync again"
                )
            pkg = load_package_checked(zin, src)
            scratch = tempfile.NamedTemporaryFile(  # noqa: SIM115 - removed in finally
                dir=folder, prefix=f".~salesync-{dst.name}-", suffix=".parts", delete=False
            )
            scratch_path = Path(scratch.name)
            with scratch:
                _rewrite(zin, pkg, plan, tmp, scratch, src)
    finally:
        if scratch_path is not None:
            with contextlib.suppress(OSError):
                os.unlink(scratch_path)


# zlib-ng's level 5: on sheet XML it deflates 1.3-1.8x faster than its level 6 (the default,
# zipfile's, openpyxl's and LibreOffice's) to streams 0.2-0.9 % larger, still no larger than
# the stdlib zlib's level 6 makes them; level 4 grows them by 5-9 %. `benchmarks/bench.py`'s
# rezip floor compresses at this level too.
DEFLATE_LEVEL = 5
# A member is deflated in segments, each compressed on its own on a thread pool while this
# thread splices or renders what follows. A segment is cut before the first row numbered in
# thousands (`<row r="…000"`) that starts `_SEGMENT` bytes or further into it (failing one,
# `_MAX_SEGMENT` bytes in), so where two versions of a sheet read the same, they are cut the same:
# the next write copies the compressed bytes of a segment that did not change instead of
# compressing it again (`_reused`). Segments of 4 MiB and more also keep short the waits of
# the pool's zlib-ng calls for the GIL (up to the 5 ms switch interval each) against the
# ~15 ms a MiB takes to compress.
_SEGMENT = 4 << 20
_MAX_SEGMENT = 16 << 20
_CUT = re.compile(rb'row r="\d*000"')
_CARRY = 32  # bytes of the data before that a cut's pattern may begin in
_FINAL_EMPTY_BLOCK = b"\x03\x00"  # a last, empty block: what Z_FINISH adds to a flushed stream


def _deflate_block(block: bytes, last: bool) -> bytes:
    """One segment of a member's raw deflate stream, compressed from scratch: it ends on a
    byte boundary (a sync flush, `FLUSH_MARK`, or the final block) and refers to nothing before
    it, so the segments concatenate into one stream that any inflater reads as a whole, and
    a segment may be copied into another stream."""
    c = zlib_ng.compressobj(DEFLATE_LEVEL, zlib_ng.DEFLATED, -15)
    return c.compress(block) + c.flush(zlib_ng.Z_FINISH if last else zlib_ng.Z_SYNC_FLUSH)


def _segment(block: bytes, last: bool, old: tuple[str, int, int] | None) -> bytes:
    """A segment's deflate stream: the compressed bytes `old` (the file, offset and length of
    a segment of the member before) where they are that segment's, else `_deflate_block`."""
    if old is not None and not last:
        reused = _reused(block, *old)
        if reused is not None:
            return reused
    return _deflate_block(block, last)


def _reused(block: bytes, path: str, at: int, size: int) -> bytes | None:
    """The `size` bytes at `at` in `path` if they are a deflate stream of exactly `block` that
    refers to nothing before it and ends flushed on a block boundary (they then stand for
    `block` in any stream); None if not. Inflated from a fresh state they must give `block`
    and then, with an empty last block after them, end the stream: a piece that refers to
    earlier bytes fails to inflate or gives other bytes, and one that does not end on a block
    boundary reads the last block as something else."""
    try:
        with open(path, "rb") as fh:
            fh.seek(at)
            data = fh.read(size)
    except OSError:
        return None
    if len(data) != size or not data.endswith(FLUSH_MARK):
        return None
    inflate = zlib_ng.decompressobj(-15)
    try:
        out = inflate.decompress(data + _FINAL_EMPTY_BLOCK, len(block) + 1)
    except ZLIB_ERROR:
        return None
    if out == block and inflate.eof and not inflate.unused_data and not inflate.unconsumed_tail:
        return data
    return None


class _Deflater:
    """Write one member's data as a raw deflate stream to `fh`, in segments (see `_SEGMENT`)
    compressed on `pool`. zlib-ng's deflate releases the GIL: while this thread splices or
    renders the next segment, the pool's threads compress the ones before it on the other
    cores, so a member costs about the larger of the two instead of their sum. A segment
    found in `old` (the member before, see `iter_chunks`) by its length and CRC-32 is copied
    from `path` where `_reused` finds it so. Segments are written to `fh` in order; at most
    `depth` wait in memory."""

    def __init__(
        self,
        pool: ThreadPoolExecutor,
        fh: IO[bytes],
        depth: int,
        old: Segments | None = None,
        path: str | None = None,
    ) -> None:
        self._pool = pool
        self._fh = fh
        self._depth = depth
        self._old = old if old is not None and path else None
        self._path = path or ""
        self._parts: list[bytes] = []
        self._size = 0
        self._futures: deque[Future[bytes]] = deque()
        self.offset = fh.tell()
        self.compress_size = 0
        self.file_size = 0
        self.crc = 0

    def write(self, data: bytes) -> None:
        if not data:
            return
        before = self._size
        self._parts.append(data)
        self._size += len(data)
        while self._size >= _SEGMENT:
            cut = self._cut(before)
            if cut is None:
                if self._size < _MAX_SEGMENT:
                    return
                cut = _MAX_SEGMENT
            self._submit(self._split(cut), last=False)
            before = 0

    def _cut(self, before: int) -> int | None:
        """Where the segment is cut: before the first row numbered in thousands that starts
        `_SEGMENT` bytes or further into it. What lies before `before` bytes was looked at
        already: only the last part (from `before` on) is, and the seam before it, where a
        row's number may have begun."""
        data = self._parts[-1]
        if before > _SEGMENT:
            tail, n = [], 0  # the `_CARRY` bytes before `data`
            for i in range(len(self._parts) - 2, -1, -1):
                tail.append(self._parts[i][-(_CARRY - n) :])
                n += len(tail[-1])
                if n >= _CARRY:
                    break
            seam = b"".join(reversed(tail))
            m = _CUT.search(seam + data[:_CARRY], max(0, _SEGMENT - (before - len(seam))))
            if m is not None and m.start() < len(seam):
                return before - len(seam) + m.start()
        m = _CUT.search(data, max(0, _SEGMENT - before))
        return None if m is None else before + m.start()

    def _split(self, cut: int) -> bytes:
        """The first `cut` bytes buffered, taken out of the buffer."""
        parts, at = self._parts, 0
        for i, part in enumerate(parts):
            if at + len(part) >= cut:
                k = cut - at
                head = b"".join([*parts[:i], part[:k]]) if i else part[:k]
                rest = [part[k:], *parts[i + 1 :]] if k < len(part) else parts[i + 1 :]
                self._parts = rest
                self._size -= cut
                return head
            at += len(part)
        raise AssertionError("the cut lies beyond the buffer")

    def _join(self) -> bytes:
        block = b"".join(self._parts)
        self._parts = []
        self._size = 0
        return block

    def _submit(self, block: bytes, last: bool) -> None:
        self.crc = zlib_ng.crc32(block, self.crc)
        self.file_size += len(block)
        old = None
        if self._old and not last:  # none recorded: the sheet was not written in segments
            found = self._old.get((len(block), zlib_ng.crc32(block)))
            old = None if found is None else (self._path, *found)
        self._futures.append(self._pool.submit(_segment, block, last, old))
        while len(self._futures) > (0 if last else self._depth):
            self._put(self._futures.popleft().result())

    def _put(self, data: bytes) -> None:
        self._fh.write(data)
        self.compress_size += len(data)

    def close(self) -> Deflated:
        """Compress what is left, wait for every segment and end the stream."""
        self._submit(self._join(), last=True)
        return Deflated(self.offset, self.compress_size, self.file_size, self.crc)

    def abandon(self) -> None:
        for future in self._futures:
            future.cancel()
        self._futures.clear()


@contextlib.contextmanager
def _deflated(
    pool: ThreadPoolExecutor,
    fh: IO[bytes],
    done: Callable[[Deflated], None],
    depth: int,
    old: Segments | None = None,
    path: str | None = None,
) -> Iterator[_Deflater]:
    """A sink for one new member, compressed on `pool` into `fh`; `done` gets its record.
    `old`, `path`: the segments of the member it replaces, and the file they are in."""
    writer = _Deflater(pool, fh, depth, old, path)
    try:
        yield writer
        done(writer.close())
    finally:
        writer.abandon()


def _read_ahead(
    zf: zipfile.ZipFile, part: str, depth: int = 3, segments: Segments | None = None
) -> Iterator[bytes]:
    """A member's uncompressed bytes in ~1 MiB chunks, read and inflated in a second thread
    (zlib-ng's inflate and crc32 release the GIL) while this one works on the chunk before;
    its segments recorded in `segments` as they go by (see `iter_chunks`)."""
    chunks: queue.Queue[bytes | BaseException | None] = queue.Queue(depth)
    stop = threading.Event()

    def run() -> None:
        try:
            for chunk in iter_chunks(zf, part, segments):
                if stop.is_set():
                    break
                chunks.put(chunk)
            chunks.put(None)
        except BaseException as exc:  # handed to the reading thread
            chunks.put(exc)

    thread = threading.Thread(target=run, name="salesync-inflate", daemon=True)
    thread.start()
    try:
        while (item := chunks.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a put() on a full queue, then let it see `stop`
            with contextlib.suppress(queue.Empty):
                chunks.get(timeout=0.01)
        thread.join()


def _rewrite(zin: zipfile.ZipFile, pkg: Package, plan: WritePlan, tmp, scratch, src: Path) -> None:
    styles_text = zin.read(pkg.styles_part).decode("utf-8") if pkg.styles_part else None
    styles = StyleBook(styles_text)
    tab_names = [t.sheet for t in plan.tabs]
    if len(set(tab_names)) != len(tab_names):
        raise SalesyncError("the write plan regenerates the same tab twice")
    replaced: dict[str, Deflated] = {}  # part → its deflate stream in `scratch`
    dropped: set[str] = set()
    formulas_removed = False
    new_sheets: list[tuple[str, str, str, int]] = []  # (name, part, rid, sheetId)
    table_texts: dict[str, bytes] = {}
    filters: dict[str, FilterCells | None] = {}  # regenerated tab → its filter's cells
    # One thread renders at ~100 MB/s and deflate runs at ~75 MB/s a core: more than a few
    # compressing threads would only hold more segments in memory.
    workers = max(1, min(os.cpu_count() or 1, 4))

    def member(
        part: str, old: Segments | None = None
    ) -> contextlib.AbstractContextManager[_Deflater]:
        def done(record: Deflated) -> None:
            replaced[part] = record

        return _deflated(pool, scratch, done, workers + 1, old, zin.filename)

    with ThreadPoolExecutor(workers, thread_name_prefix="salesync-deflate") as pool:
        for name, writes in plan.cells.items():
            if not writes:
                continue
            if name in tab_names:
                raise SalesyncError(f"the write plan both patches and regenerates tab {name!r}")
            ref = pkg.sheet(name)
            if ref is None or ref.part not in pkg.members:
                raise SalesyncError(f"{src.name}: no tab named {name!r} to write to")
            if (
                ref.content_type
                and ref.content_type != CT_WORKSHEET
                and "macro" not in (ref.content_type)
            ):
                raise SalesyncError(f"{src.name}: tab {name!r} is not a worksheet")
            edits = SheetEdits(name, RowWrites(writes, name), styles, pkg.date1904)
            table_texts.update(_grown_tables(zin, pkg, ref.part, edits.writes))
            likes = set(edits.writes.likes.values())
            if likes:
                edits.like_styles = find_styles(iter_chunks(zin, ref.part), likes)
            old: Segments = {}  # filled as the sheet is read, ahead of the writing
            with member(ref.part, old) as sink:
                patch_sheet(_read_ahead(zin, ref.part, segments=old), sink.write, edits)
            formulas_removed |= edits.formulas_removed

        used_parts = set(pkg.members)
        used_ids = {rid for rid, _, _ in pkg.rels}
        next_sheet_id = max((s.sheet_id for s in pkg.sheets), default=0) + 1
        sheets_dir = posixpath.join(posixpath.dirname(pkg.workbook_part), "worksheets")
        n = 1
        for tab in plan.tabs:
            check_tab_name(tab.sheet)
            ref = next((s for s in pkg.sheets if s.name.lower() == tab.sheet.lower()), None)
            if ref is not None:  # tab names are unique regardless of case
                if ref.content_type and ref.content_type != CT_WORKSHEET:
                    raise SalesyncError(f"{src.name}: tab {tab.sheet!r} is not a worksheet")
                part = ref.part
                rels = _rels_part(part)
                if rels in pkg.members:
                    dropped.add(rels)
                if part in pkg.members:
                    _, old_formulas = scan_sheet(zin, part)
                    formulas_removed |= bool(old_formulas)
            else:
                while posixpath.join(sheets_dir, f"sheet{n}.xml") in used_parts:
                    n += 1
                part = posixpath.join(sheets_dir, f"sheet{n}.xml")
                used_parts.add(part)
                k = len(used_ids) + 1
                while f"rId{k}" in used_ids:
                    k += 1
                rid = f"rId{k}"
                used_ids.add(rid)
                new_sheets.append((tab.sheet, part, rid, next_sheet_id))
                next_sheet_id += 1
            with member(part) as sink:
                for piece in tab_xml(tab, styles, pkg.date1904):
                    sink.write(piece)
            filters[tab.sheet] = filtered_cells(tab)
    scratch.flush()

    dashboard = None
    dash = plan.dashboard
    taken = {s.name.lower() for s in pkg.sheets} | {t.lower() for t in tab_names}
    if dash is not None and dash.sheet.lower() not in taken:
        check_tab_name(dash.sheet)
        while posixpath.join(sheets_dir, f"sheet{n}.xml") in used_parts:
            n += 1
        part = posixpath.join(sheets_dir, f"sheet{n}.xml")
        k = len(used_ids) + 1
        while f"rId{k}" in used_ids:
            k += 1
        dashboard = dashboard_parts(dash, part, used_parts, _style_for(styles))
        new_sheets.append((dash.sheet, part, f"rId{k}", next_sheet_id))

    if formulas_removed and pkg.calc_chain_part:
        dropped.add(pkg.calc_chain_part)

    texts: dict[str, bytes] = dict(table_texts)
    if styles.changed and pkg.styles_part:
        texts[pkg.styles_part] = styles.render().encode("utf-8")
    if new_sheets or pkg.calc_chain_part in dropped:
        texts.update(
            _edit_package_parts(
                zin,
                pkg,
                new_sheets,
                pkg.calc_chain_part in dropped,
                dashboard.content_types if dashboard else (),
            )
        )
    workbook = texts.get(pkg.workbook_part) or zin.read(pkg.workbook_part)
    named = _with_filter_names(workbook, filters)
    if named != workbook:
        texts[pkg.workbook_part] = named

    wb_info = zin.getinfo(pkg.workbook_part)
    with (
        open(src, "rb") as src_fh,
        open(scratch.name, "rb") as scratch_fh,
        zipfile.ZipFile(tmp, "w", allowZip64=True) as zout,
    ):
        zout.comment = zin.comment
        for info in zin.infolist():
            name = info.filename
            if name in dropped:
                continue
            if name in replaced:
                add_deflated(scratch_fh, replaced[name], zout, name, info.date_time)
            elif name in texts:
                writestr(zout, name, texts[name], info, info.date_time)
            else:
                copy_member(zin, src_fh, info, zout)
        for _, part, _, _ in new_sheets:
            if dashboard is None or part != dashboard.sheet_part:
                add_deflated(scratch_fh, replaced[part], zout, part, wb_info.date_time)
        for part, data in dashboard.parts if dashboard else ():
            writestr(zout, part, data, None, wb_info.date_time)


def _style_for(styles: StyleBook) -> Callable[[bool, int], int | None]:
    """Cell formats of the target for the Dashboard's: bold and/or a built-in number format;
    None (the default format) when the workbook has no styles to extend."""

    def style_for(bold: bool, num_fmt: int) -> int | None:
        try:
            base = styles.bold_xf(0) if bold else 0
            return styles.number_xf(base, num_fmt) if num_fmt else base or None
        except SalesyncError:
            return None

    return style_for


def _grown_tables(
    zin: zipfile.ZipFile, pkg: Package, sheet_part: str, writes: RowWrites
) -> dict[str, bytes]:
    """Table parts of `sheet_part` that grow to take in owned columns added beside them."""
    rels = _rels_part(sheet_part)
    if rels not in pkg.members:
        return {}
    values = RowValues(writes)
    out: dict[str, bytes] = {}
    for part in table_parts(sheet_part, zin.read(rels)):
        if part not in pkg.members:
            continue
        try:
            grown = extend_table(zin.read(part), values)
        except (UnicodeDecodeError, ValueError):
            continue  # a table part we cannot read is left exactly as it is
        if grown is not None:
            out[part] = grown
    return out


_FILTER_NAME = "_xlnm._FilterDatabase"
_AFTER_NAMES = (  # the workbook's elements that follow <definedNames>, in schema order
    "calcPr",
    "oleSize",
    "customWorkbookViews",
    "pivotCaches",
    "smartTagPr",
    "smartTagTypes",
    "webPublishing",
    "fileRecoveryPr",
    "webPublishObjects",
    "extLst",
)


def _with_filter_names(workbook: bytes, filters: Mapping[str, FilterCells | None]) -> bytes:
    """The workbook part with each regenerated tab's filter named as Excel names one: a hidden
    `_xlnm._FilterDatabase` local to the tab, holding the filter's cells (LibreOffice shows a
    tab's filter only with it, Excel keeps it so). A tab's old one is replaced (or dropped, for a
    tab without a filter now); every other name and byte stays as it was."""
    if not filters:
        return workbook
    wb = workbook.decode("utf-8")
    m = re.search(r"<(?:([A-Za-z_][\w.-]*):)?workbook[\s>]", wb)
    p = (m.group(1) + ":") if m and m.group(1) else ""
    q = re.escape(p)
    sheets = re.search(rf"<{q}sheets\b.*?</{q}sheets>", wb, re.S)
    if sheets is None:
        return workbook
    titles = [
        html.unescape(_attrs(tag.encode()).get(b"name", b"").decode())
        for tag in re.findall(rf"<{q}sheet\b[^>]*>", sheets.group(0))
    ]
    index = {title.casefold(): i for i, title in enumerate(titles)}
    wanted: dict[int, str] = {}
    for title, cells in filters.items():
        i = index.get(title.casefold())
        if i is not None:
            wanted[i] = (
                ""
                if cells is None
                else f'<{p}definedName name="{_FILTER_NAME}" localSheetId="{i}" hidden="1">'
                f"{_quoted(titles[i])}!{_absolute(cells[0])}:{_absolute(cells[1])}"
                f"</{p}definedName>"
            )
    block = re.search(rf"<{q}definedNames\s*>(.*?)</{q}definedNames>", wb, re.S)
    if block is None:
        added = "".join(wanted.values())
        if not added:
            return workbook
        after = "|".join(_AFTER_NAMES)
        at = re.search(rf"<{q}(?:{after})\b|</{q}workbook>", wb)
        if at is None:
            return workbook
        names = f"<{p}definedNames>{added}</{p}definedNames>"
        return (wb[: at.start()] + names + wb[at.start() :]).encode("utf-8")
    inner = block.group(1)
    element = re.compile(rf"<{q}definedName\b([^>]*?)(?:/>|>.*?</{q}definedName>)", re.S)

    def replaced(found: re.Match[str]) -> str:
        attrs = _attrs(found.group(1).encode())
        sheet = attrs.get(b"localSheetId", b"").decode()
        if attrs.get(b"name", b"").decode().casefold() != _FILTER_NAME.casefold():
            return found.group(0)
        if not sheet.isdigit() or int(sheet) not in wanted:
            return found.group(0)
        return wanted.pop(int(sheet))

    inner = element.sub(replaced, inner) + "".join(wanted.values())
    if inner == block.group(1):
        return workbook
    if not inner.strip():  # the tab's name was the only one: no empty list is left
        return (wb[: block.start()] + wb[block.end() :]).encode("utf-8")
    return (wb[: block.start(1)] + inner + wb[block.end(1) :]).encode("utf-8")


def _absolute(cell: tuple[int, int]) -> str:
    return f"${col_letters(cell[1])}${cell[0]}"


def _quoted(title: str) -> str:
    """A tab's name in a formula, quoted (as XML text)."""
    return sheet_ref(title).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _edit_package_parts(
    zin: zipfile.ZipFile,
    pkg: Package,
    new_sheets: list[tuple[str, str, str, int]],
    drop_calc_chain: bool,
    extra_types: Iterable[tuple[str, str]] = (),
) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    # workbook.xml: new <sheet> elements at the end of <sheets>
    if new_sheets:
        wb = zin.read(pkg.workbook_part).decode("utf-8")
        m = re.search(r"<(?:([A-Za-z_][\w.-]*):)?workbook[\s>]", wb)
        p = (m.group(1) + ":") if m and m.group(1) else ""
        rm = re.search(r'xmlns:([\w.-]+)\s*=\s*["\']' + re.escape(NS_REL) + "[\"']", wb)
        if rm:
            rid_attr, decl = f"{rm.group(1)}:id", ""
        else:
            rid_attr, decl = "r:id", f' xmlns:r="{NS_REL}"'
        added = "".join(
            f'<{p}sheet name="{xml_attr(name)}" sheetId="{sid}"{decl} {rid_attr}="{rid}"/>'
            for name, _, rid, sid in new_sheets
        )
        end = wb.find(f"</{p}sheets>")
        if end < 0:
            raise WorkbookUnreadable("the workbook part has no <sheets> list")
        wb = wb[:end] + added + wb[end:]
        calc = re.search(rf"<{re.escape(p)}calcPr\b[^>]*>", wb)
        if extra_types and calc and "fullCalcOnLoad" not in calc.group(0):
            # the Dashboard's formulas have no values yet: have Excel compute them on opening
            at = calc.start() + len(f"<{p}calcPr")
            wb = wb[:at] + ' fullCalcOnLoad="1"' + wb[at:]
        out[pkg.workbook_part] = wb.encode("utf-8")
    # workbook rels
    rels_part = pkg.workbook_rels_part
    rels = zin.read(rels_part).decode("utf-8")
    if drop_calc_chain:
        rels = re.sub(
            r"<Relationship\b[^>]*" + re.escape(REL_CALC_CHAIN) + r"[\"'][^>]*/>", "", rels
        )
    added = "".join(
        f'<Relationship Id="{rid}" Type="{REL_WORKSHEET}" '
        f'Target="{xml_attr(relative_target(pkg.workbook_part, part))}"/>'
        for _, part, rid, _ in new_sheets
    )
    end = rels.rfind("</Relationships>")
    out[rels_part] = (rels[:end] + added + rels[end:]).encode("utf-8")
    # content types
    ct = zin.read("[Content_Types].xml").decode("utf-8")
    if drop_calc_chain and pkg.calc_chain_part:
        ct = re.sub(
            r"<Override\b[^>]*PartName=[\"']/" + re.escape(pkg.calc_chain_part) + r"[\"'][^>]*/>",
            "",
            ct,
        )
    types = [(part, CT_WORKSHEET) for _, part, _, _ in new_sheets] + list(extra_types)
    added = "".join(f'<Override PartName="/{part}" ContentType="{kind}"/>' for part, kind in types)
    end = ct.rfind("</Types>")
    out["[Content_Types].xml"] = (ct[:end] + added + ct[end:]).encode("utf-8")
    return out
