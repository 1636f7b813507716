"""Local .xlsx/.xlsm workbooks: read with python-calamine, write by splicing the package.

Reading uses python-calamine for the grids and one streaming scan of each sheet's XML for what
calamine hides (error values, which cells hold formulas), the tabs on a thread pool.

Writing never loads the workbook into an object model. The package is rewritten member by
member: every part the plan does not touch is copied as its raw compressed bytes (same order,
same compression), the sheets with cell writes are patched by splicing only the `<row>`
elements that change, owned tabs are regenerated whole, and `xl/styles.xml`, `xl/workbook.xml`,
its rels and `[Content_Types].xml` are edited as text only when they must change. Every cell,
style, formula, comment, validation, chart, defined name and macro project the plan does not
name stays byte-identical. The new file is written beside the target and moved over it
atomically.

The work is spread over the cores where the GIL allows: a changed sheet is inflated in one
thread (`_read_ahead`) while this one splices it region by region (`_patch_sheet`), and what
it writes is deflated in 4 MiB blocks on a thread pool (`_Deflater`, at zipfile's default
level) into a scratch file, from which the members are copied raw into the package. A region's
written rows are spliced in bulk: the plan's writes are indexed by arrays (`xlsx_bulk.RowWrites`)
rather than a dict per row, and the cells they add after or between a row's cells are rendered a
column and a type at a time; only a row whose writes land on existing cells is patched alone.
The gaps between cells are found by one scan of all the written rows of a region, and a region
is joined once, its rows, their new cells and end tags side by side.
"""

from __future__ import annotations

import bisect
import contextlib
import ctypes
import itertools
import math
import numbers
import os
import posixpath
import queue
import re
import stat
import struct
import tempfile
import threading
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from itertools import compress, repeat
from operator import is_, itemgetter
from pathlib import Path
from typing import IO, Any, TypeVar, cast
from xml.etree import ElementTree as ET

import numpy as np

from sync.backends.xlsx_bulk import (
    FRAMED,
    MAX_COLS,
    MAX_ROWS,
    RowValues,
    RowWrites,
    excel_serial,
    framed_text,
    framed_texts,
    is_naive,
    num_text,
)
from sync.backends.xlsx_dashboard import dashboard_parts
from sync.backends.xlsx_tables import extend_table, table_parts
from sync.core.errors import SalesyncError, WorkbookLocked, WorkbookNotFound, WorkbookUnreadable
from sync.core.headers import column_letter, column_number
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

__all__ = ["XlsxBackend", "apply_plan", "read_workbook"]

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_OFFICE_DOC = NS_REL + "/officeDocument"
REL_WORKSHEET = NS_REL + "/worksheet"
REL_STYLES = NS_REL + "/styles"
REL_CALC_CHAIN = NS_REL + "/calcChain"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

_CHUNK = 1 << 20
_FMT_DATE = 14
_FMT_DATETIME = 22
_INVALID_TAB_CHARS = set("[]:*?/\\")

# ----------------------------------------------------------------------------- small helpers


_col_letters = lru_cache(maxsize=MAX_COLS)(column_letter)


def _ref(row: int, col: int) -> str:
    return f"{_col_letters(col)}{row}"


_REF_RE = re.compile(rb"\$?([A-Za-z]{1,3})\$?(\d+)")


def _parse_ref(ref: bytes) -> Position | None:
    m = _REF_RE.fullmatch(ref)
    if not m:
        return None
    return int(m.group(2)), _letters_col(m.group(1).upper())


_ATTR_RE = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


_COL_RE = re.compile(rb"""\sr\s*=\s*["']\$?([A-Za-z]{1,3})\$?\d""")


def _col_of(tag: bytes) -> int | None:
    """The column of a cell from its start tag's `r`, or None when it has none."""
    m = _COL_RE.search(tag)
    if not m:
        return None
    return _letters_col(m.group(1).upper())


def _attrs(tag: bytes) -> dict[bytes, bytes]:
    """Attributes of a start tag as raw (still escaped) bytes, in document order."""
    return {
        m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _ATTR_RE.finditer(tag)
    }


_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_OOXML_ESCAPE = re.compile("_(?=x[0-9A-Fa-f]{4}_)")


_NEEDS_ESCAPE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff&<>\r_]")


def _xml_text(text: str) -> str:
    """Text content for an inline string: illegal XML characters dropped, `_xHHHH_` kept
    literal (Excel would decode it), a carriage return kept as Excel encodes it."""
    if not _NEEDS_ESCAPE.search(text):  # nearly all text: one scan instead of six
        return text
    text = _ILLEGAL_XML.sub("", text)
    text = _OOXML_ESCAPE.sub("_x005F_", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "_x000D_")


def _xml_attr(text: str) -> str:
    text = _ILLEGAL_XML.sub("", text)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


def _resolve_target(source_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def _rels_part(part: str) -> str:
    return posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")


def _relative_target(source_part: str, part: str) -> str:
    return posixpath.relpath(part, posixpath.dirname(source_part) or ".")


def _is_nan(value: object) -> bool:
    try:
        return bool(value != value)  # NaN, NaT
    except Exception:
        return False


# ----------------------------------------------------------------------------- the package


@dataclass(slots=True)
class _SheetRef:
    name: str
    sheet_id: int
    rid: str
    part: str
    state: str
    content_type: str = ""


@dataclass(slots=True)
class _Package:
    """The parts of the package salesync needs to find its way: the workbook part, its rels,
    the sheets (name → part) and the styles part."""

    workbook_part: str
    sheets: list[_SheetRef]
    rels: list[tuple[str, str, str]]  # (Id, Type, resolved part)
    styles_part: str | None
    calc_chain_part: str | None
    date1904: bool
    members: set[str] = field(default_factory=set)

    @property
    def workbook_rels_part(self) -> str:
        return _rels_part(self.workbook_part)

    def sheet(self, name: str) -> _SheetRef | None:
        for ref in self.sheets:
            if ref.name == name:
                return ref
        return None


def _parse_xml(zf: zipfile.ZipFile, part: str) -> ET.Element:
    return ET.fromstring(zf.read(part))


def _content_types(zf: zipfile.ZipFile) -> dict[str, str]:
    root = _parse_xml(zf, "[Content_Types].xml")
    out: dict[str, str] = {}
    defaults: dict[str, str] = {}
    for el in root:
        if el.tag == f"{{{NS_CT}}}Override":
            out[el.get("PartName", "").lstrip("/")] = el.get("ContentType", "")
        elif el.tag == f"{{{NS_CT}}}Default":
            defaults[el.get("Extension", "").lower()] = el.get("ContentType", "")
    for name in zf.namelist():
        if name not in out:
            ext = name.rsplit(".", 1)[-1].lower()
            if ext in defaults:
                out[name] = defaults[ext]
    return out


def _load_package(zf: zipfile.ZipFile) -> _Package:
    members = set(zf.namelist())
    workbook_part = "xl/workbook.xml"
    if "_rels/.rels" in members:
        for rel in _parse_xml(zf, "_rels/.rels"):
            if rel.get("Type") == REL_OFFICE_DOC:
                workbook_part = _resolve_target("", rel.get("Target", ""))
                break
    if workbook_part not in members:
        raise WorkbookUnreadable(f"no workbook part ({workbook_part}) in the package")
    rels: list[tuple[str, str, str]] = []
    rels_part = _rels_part(workbook_part)
    if rels_part in members:
        for rel in _parse_xml(zf, rels_part):
            if rel.get("TargetMode") == "External":
                continue
            rels.append(
                (
                    rel.get("Id", ""),
                    rel.get("Type", ""),
                    _resolve_target(workbook_part, rel.get("Target", "")),
                )
            )
    by_id = {rid: part for rid, _, part in rels}
    content_types = _content_types(zf)
    root = _parse_xml(zf, workbook_part)
    sheets: list[_SheetRef] = []
    sheets_el = root.find(f"{{{NS_MAIN}}}sheets")
    for el in sheets_el if sheets_el is not None else []:
        rid = el.get(f"{{{NS_REL}}}id", "")
        part = by_id.get(rid, "")
        sheets.append(
            _SheetRef(
                name=el.get("name", ""),
                sheet_id=int(el.get("sheetId", "0") or 0),
                rid=rid,
                part=part,
                state=el.get("state", "visible"),
                content_type=content_types.get(part, ""),
            )
        )
    pr = root.find(f"{{{NS_MAIN}}}workbookPr")
    date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
    styles = next((p for _, t, p in rels if t == REL_STYLES and p in members), None)
    calc = next((p for _, t, p in rels if t == REL_CALC_CHAIN and p in members), None)
    return _Package(workbook_part, sheets, rels, styles, calc, date1904, members)


def _open_zip(path: Path) -> zipfile.ZipFile:
    if not path.exists():
        raise WorkbookNotFound(f"{path}: no such file")
    if path.is_dir():
        raise WorkbookUnreadable(f"{path}: is a directory, not a workbook")
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        with open(path, "rb") as fh:
            magic = fh.read(8)
        if magic.startswith(b"\xd0\xcf\x11\xe0"):
            why = "password-protected, or a legacy .xls saved under another name"
        else:
            why = "not an .xlsx/.xlsm workbook, or corrupt"
        raise WorkbookUnreadable(f"{path}: cannot read it ({why})") from exc
    except OSError as exc:
        raise WorkbookUnreadable(f"{path}: cannot read it ({exc.strerror or exc})") from exc


def _load_package_checked(zf: zipfile.ZipFile, path: Path) -> _Package:
    try:
        return _load_package(zf)
    except WorkbookUnreadable as exc:
        raise WorkbookUnreadable(f"{path}: {exc}") from exc
    except (KeyError, ET.ParseError, zipfile.BadZipFile, ValueError, OSError) as exc:
        raise WorkbookUnreadable(f"{path}: the workbook package is damaged ({exc})") from exc


def _iter_chunks(zf: zipfile.ZipFile, part: str) -> Iterator[bytes]:
    with zf.open(part) as fh:
        while chunk := fh.read(_CHUNK):
            yield chunk


_ROOT_PREFIX_RE = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?worksheet[\s>]")


# ----------------------------------------------------------------------------- reading


@lru_cache(maxsize=8)
def _scan_res(pfx: bytes) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    formula = re.compile(b"<" + re.escape(pfx) + rb"f[\s>/]")
    error = re.compile(rb"""\st\s*=\s*["']e["']""")
    return formula, error


def _scan_region(
    region: bytes,
    pfx: bytes,
    errors: dict[Position, ExcelError],
    formulas: set[Position],
) -> bool:
    """Find error cells and formula cells in `region` (whole cells only). Returns False when a
    cell has no `r` attribute (the caller then falls back to a full parse)."""
    # Most regions hold neither: a substring test (memchr-fast) spares both regex passes.
    has_formula = b"<" + pfx + b"f" in region
    if not has_formula and b'"e"' not in region and b"'e'" not in region:
        return True
    formula_re, error_re = _scan_res(pfx)
    cell_open, bare_open = b"<" + pfx + b"c ", b"<" + pfx + b"c>"
    cell_close = b"</" + pfx + b"c>"

    def cell_start(before: int) -> int:
        return max(region.rfind(cell_open, 0, before), region.rfind(bare_open, 0, before))

    for m in formula_re.finditer(region) if has_formula else ():
        start = cell_start(m.start())
        if start < 0:
            continue
        tag_end = region.find(b">", start)
        if tag_end > m.start() or region[tag_end - 1 : tag_end] == b"/":
            continue
        if region.find(cell_close, tag_end, m.start()) >= 0:
            continue  # not inside this cell (e.g. an <f> elsewhere)
        pos = _parse_ref(_attrs(region[start:tag_end]).get(b"r", b""))
        if pos is None:
            return False
        formulas.add(pos)
    for m in error_re.finditer(region):
        start = cell_start(m.start())
        if start < 0:
            continue
        tag_end = region.find(b">", start)
        if tag_end < m.start():
            continue  # the match is not inside a cell's start tag
        pos = _parse_ref(_attrs(region[start:tag_end]).get(b"r", b""))
        if pos is None:
            return False
        end = region.find(cell_close, tag_end)
        body = region[tag_end + 1 : end] if end >= 0 else b""
        vm = re.search(b"<" + re.escape(pfx) + rb"v>([^<]*)</", body)
        code = vm.group(1).decode("utf-8", "replace") if vm else "#N/A"
        errors[pos] = ExcelError(code)
    return True


def _scan_sheet_full(
    zf: zipfile.ZipFile, part: str
) -> tuple[dict[Position, ExcelError], set[Position]]:
    """Slow path for sheets whose cells lack `r` attributes: an iterparse counting positions."""
    errors: dict[Position, ExcelError] = {}
    formulas: set[Position] = set()
    row_tag, c_tag = f"{{{NS_MAIN}}}row", f"{{{NS_MAIN}}}c"
    f_tag, v_tag = f"{{{NS_MAIN}}}f", f"{{{NS_MAIN}}}v"
    row = col = 0
    with zf.open(part) as fh:
        for event, el in ET.iterparse(fh, events=("start", "end")):
            if event == "start":
                if el.tag == row_tag:
                    r = el.get("r")
                    row = int(r) if r else row + 1
                    col = 0
                elif el.tag == c_tag:
                    pos = _parse_ref((el.get("r") or "").encode())
                    col = pos[1] if pos else col + 1
            elif el.tag == c_tag:
                if el.find(f_tag) is not None:
                    formulas.add((row, col))
                if el.get("t") == "e":
                    v = el.find(v_tag)
                    errors[(row, col)] = ExcelError((v.text or "#N/A") if v is not None else "#N/A")
                el.clear()
            elif el.tag == row_tag:
                el.clear()
    return errors, formulas


def _scan_sheet(zf: zipfile.ZipFile, part: str) -> tuple[dict[Position, ExcelError], set[Position]]:
    errors: dict[Position, ExcelError] = {}
    formulas: set[Position] = set()
    buf = b""
    pfx: bytes | None = None
    for chunk in _iter_chunks(zf, part):
        buf += chunk
        if pfx is None:
            m = _ROOT_PREFIX_RE.search(buf)
            if not m:
                continue
            pfx = (m.group(1) + b":") if m.group(1) else b""
        cut = buf.rfind(b"<" + pfx + b"c ")
        if cut <= 0:
            continue
        if not _scan_region(buf[:cut], pfx, errors, formulas):
            return _scan_sheet_full(zf, part)
        buf = buf[cut:]
    if buf and pfx is not None and not _scan_region(buf, pfx, errors, formulas):
        return _scan_sheet_full(zf, part)
    return errors, formulas


def _overlay(rows: list[list[CellValue]], errors: dict[Position, ExcelError]) -> None:
    for (row, col), err in errors.items():
        while len(rows) < row:
            rows.append([])
        cells = rows[row - 1]
        if len(cells) < col:
            cells.extend([""] * (col - len(cells)))
        cells[col - 1] = err


def read_workbook(path: str | Path) -> RawWorkbook:
    """Every worksheet as an A1-aligned grid, with error values and formula positions.

    Two kinds of task run side by side on the machine's cores: calamine reading a tab into a
    grid (each thread on its own calamine workbook; calamine parses without the GIL), and a
    scan of the tab's XML for what calamine hides (error values, formulas), mostly inflating,
    which zlib does without the GIL too. The grids go first, largest first, and the scans
    after them, so that the scan of the largest tab runs while calamine is still reading it
    instead of after: the read takes about the time of the largest grid rather than of the
    largest grid and its scan. The result is the same as reading the tabs one by one; the cost
    is that two grids are being built at once (at a million follow-ups the read peaks ~160 MB
    higher, still below what the check phase holds later)."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    path = Path(path)
    with _open_zip(path) as zf:
        pkg = _load_package_checked(zf, path)
        sizes = {
            ref.name: zf.getinfo(ref.part).file_size
            for ref in pkg.sheets
            if ref.part in pkg.members
        }
    books: queue.SimpleQueue[Any] = queue.SimpleQueue()  # idle workbooks, one per thread
    opened: list[Any] = []

    def open_book() -> Any:
        try:
            book = CalamineWorkbook.from_path(str(path))
        except Exception as exc:
            raise WorkbookUnreadable(f"{path}: cannot read it ({exc})") from exc
        opened.append(book)
        return book

    try:
        first = open_book()
        try:
            metas = [
                m
                for m in first.sheets_metadata
                if m.typ in (SheetTypeEnum.WorkSheet, SheetTypeEnum.MacroSheet)
            ]  # chart sheets, dialog sheets: no cells
        except Exception as exc:
            raise WorkbookUnreadable(f"{path}: cannot read it ({exc})") from exc
        books.put(first)

        def grid(name: str) -> list[list[CellValue]]:
            try:
                book = books.get_nowait()
            except queue.Empty:
                book = open_book()
            try:
                return _guarded(path, lambda: _read_grid(book, name))
            finally:
                books.put(book)

        def scan(name: str) -> _Scanned:
            return _guarded(path, lambda: _scan_tab(path, pkg, name))

        names = [m.name for m in metas]
        workers = min(len(metas), os.cpu_count() or 1)
        if workers <= 1:
            grids = {name: grid(name) for name in names}
            scans = {name: scan(name) for name in names}
        else:
            # the largest first, so that no big tab starts last while the other thread idles
            order = sorted(names, key=lambda name: -sizes.get(name, 0))
            with ThreadPoolExecutor(workers, thread_name_prefix="salesync-read") as pool:
                grid_tasks = {name: pool.submit(grid, name) for name in order}
                scan_tasks = {name: pool.submit(scan, name) for name in order}
                grids = {name: task.result() for name, task in grid_tasks.items()}
                scans = {name: task.result() for name, task in scan_tasks.items()}
        sheets = [_sheet(meta, grids.pop(meta.name), scans[meta.name]) for meta in metas]
    finally:
        for book in opened:
            with contextlib.suppress(Exception):
                book.close()
    if workers > 1:
        _release_freed_memory()
    return RawWorkbook(sheets=sheets, source=str(path))


_Scanned = tuple[dict[Position, ExcelError], set[Position]]
"""A tab's error values and formula positions, as its XML has them."""

_T = TypeVar("_T")


def _guarded(path: Path, work: Callable[[], _T]) -> _T:
    """`work`, with anything but salesync's own errors reported as an unreadable workbook."""
    try:
        return work()
    except SalesyncError:
        raise
    except Exception as exc:
        raise WorkbookUnreadable(f"{path}: cannot read it ({exc})") from exc


def _release_freed_memory() -> None:
    """Hand the memory calamine freed in the reading threads back to the system. glibc gives
    each thread its own malloc arena, and what a thread frees there (a sheet's cells, once
    turned into Python lists) is not reused by the main thread's allocations: at a million
    follow-ups the run would otherwise peak ~250 MB higher than reading on one thread.
    Elsewhere than glibc there is no `malloc_trim`, and nothing to do."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError, TypeError):  # TypeError: Windows has no CDLL(None)
        return
    trim(0)


def _read_grid(book: Any, name: str) -> list[list[CellValue]]:
    """One worksheet's cells from calamine, row by row."""
    grid = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    # calamine hands back fresh lists: keep them rather than copy every row
    return [r if type(r) is list else list(r) for r in grid]


def _scan_tab(path: Path, pkg: _Package, name: str) -> _Scanned:
    """What calamine hides from a worksheet's XML: its error values and formula cells."""
    ref = pkg.sheet(name)
    if ref is None or ref.part not in pkg.members:
        return {}, set()
    with _open_zip(path) as zf:
        return _scan_sheet(zf, ref.part)


def _sheet(meta: Any, rows: list[list[CellValue]], scanned: _Scanned) -> RawSheet:
    """A worksheet as the core sees it: calamine's grid with the error values put back."""
    from python_calamine import SheetVisibleEnum

    errors, formulas = scanned
    _overlay(rows, errors)
    return RawSheet(
        name=meta.name,
        rows=rows,
        hidden=meta.visible != SheetVisibleEnum.Visible,
        formulas=frozenset(formulas),
    )


# ----------------------------------------------------------------------------- styles


_DATE_BUILTINS = {14, 15, 16, 17, 22, 27, 28, 29, 30, 31, 36, 50, 51, 52, 53, 54, 55, 56, 57, 58}
_FMT_STRIP = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')


def _is_date_code(code: str) -> bool:
    code = _FMT_STRIP.sub("", code.split(";")[0]).lower()
    if "general" in code:
        return False
    if "d" in code or "y" in code:
        return True
    return "m" in code and "h" not in code and "s" not in code


_XF_RE = r"<{p}xf\b[^>]*?(?:/>|>.*?</{p}xf>)"
_FONT_RE = r"<{p}font\b[^>]*?(?:/>|>.*?</{p}font>)"
_SATTR_RE = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _sattrs(tag: str) -> dict[str, str]:
    return {
        m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _SATTR_RE.finditer(tag)
    }


def _set_attrs(element: str, changes: dict[str, str]) -> str:
    """Set attributes on an element's start tag, keeping the others and their order."""
    end = element.index(">")
    self_closing = element[end - 1] == "/"
    tag_end = end - 1 if self_closing else end
    head = element[:tag_end]
    for key, value in changes.items():
        pattern = re.compile(rf"""(\s{re.escape(key)}\s*=\s*)(?:"[^"]*"|'[^']*')""")
        if pattern.search(head):
            head = pattern.sub(lambda m, v=value: f'{m.group(1)}"{v}"', head, count=1)  # type: ignore[misc]
        else:
            head = f'{head.rstrip()} {key}="{value}"'
    return head + element[tag_end:]


class _StyleBook:
    """Just enough of xl/styles.xml: which cell formats are dates; append formats when needed
    (existing ones are never renumbered; an equal appended format is reused)."""

    def __init__(self, text: str | None) -> None:
        self.text = text
        self.xfs: list[str] = []
        self.fonts: list[str] = []
        self.num_fmts: dict[int, str] = {}
        self.new_xfs: list[str] = []
        self.new_fonts: list[str] = []
        self.pfx = ""
        self._date_cache: dict[int, bool] = {}
        self._derived: dict[tuple[int, int], int] = {}
        if text is None:
            return
        m = re.search(r"<(?:([A-Za-z_][\w.-]*):)?styleSheet[\s>]", text)
        self.pfx = (m.group(1) + ":") if m and m.group(1) else ""
        p = re.escape(self.pfx)
        for nm in re.finditer(rf"<{p}numFmt\b[^>]*>", text):
            a = _sattrs(nm.group(0))
            with contextlib.suppress(KeyError, ValueError):
                self.num_fmts[int(a["numFmtId"])] = a.get("formatCode", "")
        self._xf_block = self._block("cellXfs")
        self._font_block = self._block("fonts")
        if self._xf_block:
            inner = text[self._xf_block[1] : self._xf_block[2]]
            self.xfs = re.findall(_XF_RE.format(p=p), inner, re.S)
        if self._font_block:
            inner = text[self._font_block[1] : self._font_block[2]]
            self.fonts = re.findall(_FONT_RE.format(p=p), inner, re.S)

    def _block(self, name: str) -> tuple[int, int, int] | None:
        """(start of the start tag, end of the start tag, start of the end tag)."""
        assert self.text is not None
        p = re.escape(self.pfx)
        m = re.search(rf"<{p}{name}\b[^>]*>", self.text)
        if not m or m.group(0).endswith("/>"):
            return None
        end = self.text.find(f"</{self.pfx}{name}>", m.end())
        return (m.start(), m.end(), end) if end >= 0 else None

    @property
    def changed(self) -> bool:
        return bool(self.new_xfs or self.new_fonts)

    def _xf(self, index: int) -> str:
        all_xfs = self.xfs + self.new_xfs
        if 0 <= index < len(all_xfs):
            return all_xfs[index]
        if all_xfs:
            return all_xfs[0]
        return f'<{self.pfx}xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'

    def is_date(self, index: int | None) -> bool:
        key = index or 0
        if key not in self._date_cache:
            self._date_cache[key] = self._is_date(key)
        return self._date_cache[key]

    def _is_date(self, index: int | None) -> bool:
        if self.text is None:
            return False
        try:
            fmt = int(_sattrs(self._xf(index or 0).split(">", 1)[0]).get("numFmtId", "0"))
        except ValueError:
            return False
        if fmt in self.num_fmts:
            return _is_date_code(self.num_fmts[fmt])
        return fmt in _DATE_BUILTINS

    def _require(self) -> None:
        if self.text is None or self._xf_block is None:
            raise SalesyncError("the workbook has no cell styles part; cannot add a date style")

    def _add_xf(self, xf: str) -> int:
        all_xfs = self.xfs + self.new_xfs
        if xf in all_xfs:
            return all_xfs.index(xf)
        self.new_xfs.append(xf)
        return len(all_xfs)

    def has_date_xf(self, base: int | None, kind: int) -> bool:
        """Whether a cell styled `base` takes a date of `kind` without a new format."""
        return self.is_date(base) or (base or 0, kind) in self._derived

    def date_xf(self, base: int | None, kind: int) -> int:
        """Index of a format like `base` with the date (14) or date-time (22) number format."""
        return self.number_xf(base, kind)

    def number_xf(self, base: int | None, kind: int) -> int:
        """Index of a format like `base` with the built-in number format `kind`."""
        key = (base or 0, kind)
        if key not in self._derived:
            self._require()
            changes = {"numFmtId": str(kind), "applyNumberFormat": "1"}
            self._derived[key] = self._add_xf(_set_attrs(self._xf(base or 0), changes))
        return self._derived[key]

    def bold_xf(self, base: int = 0) -> int:
        self._require()
        xf = self._xf(base)
        try:
            font_id = int(_sattrs(xf.split(">", 1)[0]).get("fontId", "0"))
        except ValueError:
            font_id = 0
        fonts = self.fonts + self.new_fonts
        font = fonts[font_id] if 0 <= font_id < len(fonts) else f"<{self.pfx}font/>"
        if not re.search(rf"<{re.escape(self.pfx)}b\s*/?>", font):
            if font.endswith("/>"):
                font = font[:-2].rstrip() + f"><{self.pfx}b/></{self.pfx}font>"
            else:
                cut = font.index(">") + 1
                font = font[:cut] + f"<{self.pfx}b/>" + font[cut:]
            if font in fonts:
                font_id = fonts.index(font)
            else:
                if self._font_block is None:
                    raise SalesyncError("the workbook has no fonts part; cannot add a bold style")
                self.new_fonts.append(font)
                font_id = len(fonts)
        xf = _set_attrs(xf, {"fontId": str(font_id), "applyFont": "1"})
        return self._add_xf(xf)

    def render(self) -> str:
        assert self.text is not None
        text = self.text
        # Edit the later block first so earlier offsets stay valid.
        edits = []
        if self.new_xfs and self._xf_block:
            edits.append((self._xf_block, self.new_xfs, len(self.xfs) + len(self.new_xfs)))
        if self.new_fonts and self._font_block:
            edits.append((self._font_block, self.new_fonts, len(self.fonts) + len(self.new_fonts)))
        for (start, tag_end, end), new, count in sorted(edits, key=lambda e: -e[0][0]):
            start_tag = _set_attrs(text[start:tag_end], {"count": str(count)})
            text = text[:start] + start_tag + text[tag_end:end] + "".join(new) + text[end:]
        return text


# ----------------------------------------------------------------------------- cell XML


@dataclass(slots=True)
class _Rendered:
    """A write resolved to XML pieces: `t` attribute, inner XML, and whether it is a date."""

    t: str | None
    inner: str
    date_kind: int | None = None
    blank: bool = False


def _inline(value: str) -> str:
    """An inline string's `<is>`. `xml:space="preserve"` only where it matters, as Excel,
    openpyxl and xlsxwriter write it: text that starts or ends with white space (anything
    `str.isspace` calls so). Without it the text is ~20 bytes shorter per cell."""
    if value[:1].isspace() or value[-1:].isspace():
        return f'<is><t xml:space="preserve">{_xml_text(value)}</t></is>'
    return f"<is><t>{_xml_text(value)}</t></is>"


@lru_cache(maxsize=1 << 14)
def _render_text(value: str) -> _Rendered:
    # Cached: owned columns and the Issues tab repeat the same few texts on many rows.
    return _Rendered("inlineStr", _inline(value))


def _render_value(value: WritableValue, date1904: bool) -> _Rendered:
    if type(value) is str:  # the common case first
        return _render_text(value)
    if value is None or _is_nan(value):
        return _Rendered(None, "", blank=True)
    if isinstance(value, bool):
        return _Rendered("b", f"<v>{int(value)}</v>")
    if isinstance(value, str):
        return _Rendered("inlineStr", _inline(value))
    if isinstance(value, datetime | date):
        serial = excel_serial(value, date1904)
        if serial is None:  # before Excel's calendar: keep it readable as text
            return _render_value(value.isoformat(), date1904)
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


def _cell_xml(
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


# ----------------------------------------------------------------------------- sheet patching


@dataclass(slots=True)
class _Batch:
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
class _SheetEdits:
    """Cell writes for one sheet, and what they need from the style book."""

    sheet: str
    writes: RowWrites
    styles: _StyleBook
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
    heads: _CellHeads = field(default_factory=lambda: _CellHeads(b""))  # for `pfx`

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

    def gather(self, ks: list[int]) -> _Batch:
        """The writes of rows `writes.rows[k]` for `k` in `ks`, grouped by column, model cell
        and type in the order the groups first occur (formats are added in that order)."""
        writes = self.writes
        places, bounds = writes.places(ks)
        found = writes.writes_at(places)
        values = list(map(itemgetter(2), found))
        types = list(map(type, values))
        likes = set(map(itemgetter(3), found))
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
            columns = map(itemgetter(1), found)
            triples = list(zip(columns, map(itemgetter(3), found), types, strict=True))
            groups = {triple: j for j, triple in enumerate(dict.fromkeys(triples))}
            codes = np.fromiter(map(groups.__getitem__, triples), np.intp, len(triples))
        return _Batch(ks, places, bounds, values, groups, codes)

    def new_cell_parts(self, batch: _Batch) -> tuple[list[bytes], list[int]]:
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

    def adds_no_format(self, batch: _Batch) -> bool:
        """Whether rendering `batch` as new cells cannot add a cell format: only a date or
        datetime in a column (or like a cell) whose format is not a date yet adds one."""
        for col, like, kind in batch.groups:
            if kind is date or kind is datetime:
                base = self.like_styles.get(like) if like is not None else self.col_styles.get(col)
                fmt = _FMT_DATETIME if kind is datetime else _FMT_DATE
                if not self.styles.has_date_xf(base, fmt):
                    return False
        return True

    def new_tails(self, batch: _Batch) -> list[bytes | None]:
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
        return self._render_tail(base, _render_value(value, self.date1904))

    def _render_tail(self, base: int | None, rendered: _Rendered) -> bytes | None:
        style = base
        if rendered.date_kind is not None and not self.styles.is_date(base):
            style = self.styles.date_xf(base, rendered.date_kind)
        xml = _cell_xml(self.pfx.decode(), "\x00", rendered, style)
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


def _new_row(pfx: bytes, row: int, writes: dict[int, CellWrite], edits: _SheetEdits) -> bytes:
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


_letters_col = lru_cache(maxsize=MAX_COLS)(column_number)


class _CellHeads(dict[int, bytes]):
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
    return b"<" + pfx + b'c r="' + _col_letters(col).encode()


def _locate_cells(pfx: bytes, body: bytes) -> tuple[list[int], list[bytes]] | None:
    """Columns and reference letters of a row's cells, when every cell starts `<c r="…"` (as
    Excel, LibreOffice, xlsxwriter and openpyxl write them) in column order; else None. Two
    scans in C instead of a regex match per cell: rows that get a write in their middle are
    common."""
    any_cell, with_ref = _cell_res(pfx)
    refs = with_ref.findall(body)
    if len(refs) != len(any_cell.findall(body)):  # `<` never occurs in text: the count is exact
        return None
    cols = list(map(_letters_col, refs))
    if any(a >= b for a, b in itertools.pairwise(cols)):
        return None
    return cols, refs


def _patch_row(
    pfx: bytes, row_xml: bytes, row: int, writes: dict[int, CellWrite], edits: _SheetEdits
) -> bytes:
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
        exists = True
        existing = None
        extra = ""
        if attrs is not None:
            with contextlib.suppress(ValueError):
                existing = int(attrs.get(b"s", b"0"))
            for key, value in attrs.items():
                if key not in (b"r", b"s", b"t", b"cm", b"vm"):
                    extra += f' {key.decode()}="{value.decode()}"'
            if inner:
                fm = res["formula"].search(inner)
                if fm:
                    fattrs = _attrs(fm.group(1))
                    if b"ref" in fattrs or fattrs.get(b"t") in (b"array", b"dataTable"):
                        raise SalesyncError(
                            f"{edits.sheet}!{_ref(row, write.col)} holds a formula that other "
                            "cells share; salesync will not overwrite it"
                        )
                    edits.formulas_removed = True
        rendered = _render_value(write.value, edits.date1904)
        style = edits.style_for(write, existing, exists, rendered)
        xml = _cell_xml(p, _ref(row, write.col), rendered, style, extra)
        return xml.encode() if xml else b""

    last_open = max(body.rfind(b"<" + pfx + b"c "), body.rfind(b"<" + pfx + b"c>"))
    last_col = 0
    if last_open >= 0:
        last_col = _col_of(body[last_open : body.find(b">", last_open)]) or MAX_COLS + 1
    located = None if last_col < pending[0] else _locate_cells(pfx, body)
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
            found = _col_of(m.group(1))
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


def _grow_dimension(head: bytes, pfx: bytes, edits: _SheetEdits) -> bytes:
    bounds = edits.writes.live_bounds()
    if bounds is None:
        return head
    m = _patch_res(pfx)["dimension"].search(head)
    if not m:
        return head
    ref = _attrs(m.group(0)).get(b"ref", b"")
    parts = [_parse_ref(x) for x in ref.split(b":")]
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


def _find_styles(chunks: Iterable[bytes], positions: set[Position]) -> dict[Position, int | None]:
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
            m = _ROOT_PREFIX_RE.search(buf)
            if not m:
                continue
            pfx = (m.group(1) + b":") if m.group(1) else b""
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
                ref = _parse_ref(a.get(b"r", b""))
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


def _patch_sheet(chunks: Iterator[bytes], out: Callable[[bytes], None], edits: _SheetEdits) -> None:
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
        m = _ROOT_PREFIX_RE.search(buf)
        if m:
            pfx = (m.group(1) + b":") if m.group(1) else b""
            sd = _patch_res(pfx)["sheet_data"].search(buf)
            if sd:
                break
    if sd is None:
        raise WorkbookUnreadable(f"tab {edits.sheet!r}: its sheet XML has no sheetData")
    edits.pfx = pfx
    edits.heads = _CellHeads(pfx)
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
    while True:
        if rows.done():
            out(buf)
            for chunk in it:
                out(chunk)
            return
        e = buf.find(end_sd)
        if e >= 0:  # the last region: every write still pending is placed in it
            out(rows.splice(buf[:e], last=True))
            buf = buf[e:]
            continue
        cut = buf.rfind(row_open)  # the rows before the last one, perhaps partial, are whole
        if cut > 0:
            out(rows.splice(buf[:cut], last=False))
            buf = buf[cut:]
        more = next(it, None)
        if more is None:
            raise WorkbookUnreadable(f"tab {edits.sheet!r}: its sheet XML is truncated")
        buf += more


_ROW_KEY = 1 << 20  # row ordinal × this + column: a key sorted by row, then column


@lru_cache(maxsize=8)
def _row_cell_refs(pfx: bytes) -> re.Pattern[bytes]:
    """Matches a row's start (group empty) and a cell's `<c r="AB12"` (group: its letters)."""
    p = re.escape(pfx)
    return re.compile(b"<" + p + rb"row[\s>]|<" + p + rb'c r="([A-Z]{1,3})\d+"')


class _RefColumns(dict[bytes, int]):
    """Reference letters → column, filled as letters are asked for."""

    def __missing__(self, letters: bytes) -> int:
        col = self[letters] = _letters_col(letters)
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

    def __init__(self, pfx: bytes, edits: _SheetEdits, pending: list[int]) -> None:
        self.pfx = pfx
        self.edits = edits
        self.pending = pending
        self.pi = 0  # pending[:pi] are placed
        self.prev = 0  # the number of the last row passed
        self.row_open = b"<" + pfx + b"row"
        self.row_close = b"</" + pfx + b"row>"
        self.cell_start = b"<" + pfx + b"c"  # any cell's start (and rarer tags', `<col…`)
        self.cell_ref = b"<" + pfx + b'c r="'
        self.numbers = re.compile(re.escape(self.row_open) + rb'(?: r="(\d+)")?')
        self.refs = _row_cell_refs(pfx)
        self.last_cell = _last_cell_re(pfx)
        self.heads = edits.heads
        self.col_of: dict[bytes, int] = {_col_letters(c).encode(): c for c in range(1, 703)}
        self.ref_cols = _RefColumns(self.col_of)
        self.ref_cols[b""] = 0  # a row's start, to `_locate_gaps`
        self.appended = _Appended()  # the region's, as `splice` goes

    def done(self) -> bool:
        return self.pi >= len(self.pending)

    def splice(self, region: bytes, last: bool) -> bytes:
        """`region` (whole rows, and what lies between them) with its written rows patched;
        with `last`, `</sheetData>` follows the region and every write still pending lands in
        it. Rows must have `r` first, end tags and ascending numbers to be mapped in bulk."""
        pieces = region.split(self.row_close)
        numbers = self.numbers.findall(region)  # b"" for a row without `r`
        n = len(numbers)
        if n != len(pieces) - 1 or b"" in numbers:
            return self._slowly(region, last)
        rows = list(map(int, numbers))
        if not all(map(int.__lt__, rows, rows[1:])) or (n and rows[0] <= self.prev):
            return self._slowly(region, last)
        pending = self.pending
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
        bulk (`_SheetEdits.new_cell_parts`). A row with writes among or onto its cells goes through
        `_patch`. Where rendering could add a date format, the bulk rows go in runs between
        those, so that formats are added in the order row by row would add them."""
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
                pieces[at[patched]] = self._patch(pieces[at[patched]], row, writes[row], spans)
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
        batch: _Batch,
        inside: list[int],
        spans: bool,
    ) -> list[tuple[int, int]]:
        """The batch's rows `pending[k]`, rendered at once: `_append` for all but those
        `inside`, which get new cells in the gaps between their cells through `_insert`.
        Returns the rows left for `_patch` (writes onto existing cells) as runs."""
        parts, bounds = self.edits.new_cell_parts(batch)
        ks = batch.ks
        k0 = ks[0]
        left = self._insert(pieces, at, inside, parts, [bounds[k - k0] for k in inside], spans)
        self._place_cells(pieces, before, at, ks, parts, bounds, spans, set(inside))
        return [(k, k + 1) for k in left]

    def _insert(
        self,
        pieces: list[bytes],
        at: _Places,
        ks: list[int],
        parts: list[bytes],
        firsts: list[int],
        spans: bool,
    ) -> list[int]:
        """Existing rows `pending[k]` (`k` in `ks`) with their new cells (row `ks[j]`'s writes
        from `firsts[j]` on, in `_SheetEdits.new_cell_parts`) put into the gaps between their
        cells and after the last, as `_patch` puts them. Returns the rows left to `_patch`:
        a write onto an existing cell, or cells it cannot locate."""
        if not ks:
            return []
        rows = list(map(pieces.__getitem__, map(at.__getitem__, ks)))
        fits, counts, letters = self._locate_gaps(rows, ks)
        writes = self.edits.writes
        sizes = np.diff(writes.starts)[ks].tolist()
        ref_open, left, g = self.cell_ref, [], 0
        for j, k in enumerate(ks):
            n = counts[j]
            if not fits[j]:
                left.append(k)
                g += n
                continue
            piece, a = rows[j], 3 * firsts[j]
            start = piece.find(self.row_open)
            tag_end = piece.find(b">", start) + 1
            if spans and piece.find(b"spans", start, tag_end) >= 0:
                tag = _fix_spans(piece[start:tag_end], writes.first_cols[k], writes.last_cols[k])
                out, emit = [piece[:start], tag], tag_end
            else:
                out, emit = [], 0
            for ref in letters[g : g + n]:
                # columns ascend, so the first `<c r="P` is cell P's (PA, PB… come after it)
                i = piece.index(ref_open + ref, emit)
                out += (piece[emit:i], *parts[a : a + 3])
                emit, a = i, a + 3
            g += n
            out.append(piece[emit:])
            out += parts[a : 3 * (firsts[j] + sizes[j])]
            pieces[at[k]] = b"".join(out)
        return left

    def _locate_gaps(
        self, rows: list[bytes], ks: list[int]
    ) -> tuple[list[bool], list[int], list[bytes]]:
        """For existing rows `pending[k]` (`k` in `ks`, `rows` their XML): whether each can
        take its new cells in gaps (every cell `<c r="…"`, columns ascending, no write onto a
        cell), how many of its writes go before its last cell, and the letters of the cell
        each of those goes before. One regex scan over all the rows, not two a row."""
        n = len(rows)
        tokens = self.refs.findall(b"".join(rows))  # b"" where a row starts, else a cell's letters
        cols = np.fromiter(map(self.ref_cols.__getitem__, tokens), np.int64, len(tokens))
        heads = np.flatnonzero(cols == 0)
        if len(heads) != n or cols[0] != 0:  # something between rows: no gap is sure
            return [False] * n, [0] * n, []
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
        fits &= np.bincount(write_row[onto], minlength=n) == 0
        fits &= ends > heads + 1  # a row with no cell has no gap
        inner = wanted < cols[ends - 1][write_row]
        counts = np.bincount(write_row[inner], minlength=n).tolist()
        letters = list(map(tokens.__getitem__, found[inner].tolist()))
        return fits.tolist(), counts, letters

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
        `bounds` as `_SheetEdits.new_cell_parts` gives them). The cells of existing rows go to
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
        plain (`<c r="AB12"`, one or two upper-case letters). The start tags are read side by
        side as the rows of a byte matrix, not matched a row at a time."""
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
        return cols

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
            last_col = self.col_of.get(letters) or (_letters_col(letters.upper()) if lm else 0)
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
                patched = _patch_row(self.pfx, piece[start:] + end, row, row_writes, self.edits)
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


# ----------------------------------------------------------------------------- owned tabs


def _tab_xml(tab: TabWrite, styles: _StyleBook, date1904: bool) -> Iterator[bytes]:
    ncols = max((len(r) for r in tab.rows), default=0)
    nrows = len(tab.rows)
    yield (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<worksheet xmlns="' + NS_MAIN.encode() + b'" xmlns:r="' + NS_REL.encode() + b'">'
    )
    if nrows and ncols:
        yield f'<dimension ref="A1:{_ref(nrows, ncols)}"/>'.encode()
    else:
        yield b'<dimension ref="A1"/>'
    header_rows = max(0, min(tab.header_rows, MAX_ROWS - 1))
    if header_rows:
        top = f"A{header_rows + 1}"
        yield (
            f'<sheetViews><sheetView workbookViewId="0"><pane ySplit="{header_rows}" '
            f'topLeftCell="{top}" activePane="bottomLeft" state="frozen"/>'
            f'<selection pane="bottomLeft" activeCell="{top}" sqref="{top}"/>'
            "</sheetView></sheetViews>"
        ).encode()
    else:
        yield b'<sheetViews><sheetView workbookViewId="0"/></sheetViews>'
    yield b'<sheetFormatPr defaultRowHeight="15"/>'
    widths = [(i + 1, w) for i, w in enumerate(tab.column_widths) if w and w > 0]
    if widths:
        yield b"<cols>"
        for col, width in widths:
            yield f'<col min="{col}" max="{col}" width="{width:g}" customWidth="1"/>'.encode()
        yield b"</cols>"
    yield b"<sheetData>"
    bold = styles.bold_xf(0) if header_rows and nrows and styles.text is not None else None
    heads = [f'<c r="{_col_letters(c)}' for c in range(1, ncols + 1)]
    tails: dict[tuple[object, ...], str | None] = {}
    texts: dict[str, str] = {}  # text → what follows `<c r="A1` (codes, kinds repeat)

    def text_tail(value: str) -> str:
        t = f'" t="inlineStr">{_inline(value)}</c>'
        if len(texts) < 1 << 16:
            texts[value] = t
        return t

    def tail(base: int | None, value: WritableValue) -> str | None:
        """What follows `<c r="A1` (None: no cell), as `_cell_xml` writes it."""
        rendered = _render_value(value, date1904)
        if rendered.blank:
            return None
        style = base
        if rendered.date_kind is not None:
            style = styles.date_xf(base, rendered.date_kind)
        xml = _cell_xml("", "\x00", rendered, style)
        return xml.split("\x00", 1)[1] if xml else None

    rows_xml: list[str] = []
    size = 0
    for r, values in enumerate(tab.rows, start=1):
        base = bold if r <= header_rows else None
        digits = str(r)
        cells = []
        for c, value in enumerate(values):
            kind = type(value)
            if base is None and kind is str:  # nearly every cell: one lookup
                text = texts.get(value) or text_tail(value)  # type: ignore[arg-type]
                cells.append(heads[c] + digits + text)
            elif base is None and kind is int:
                cells.append(f'{heads[c]}{digits}"><v>{value}</v></c>')
            elif value is None:
                continue
            elif getattr(value, "tzinfo", None) is not None:  # equal instants, other zones
                t = tail(base, value)
                if t is not None:
                    cells.append(heads[c] + digits + t)
            else:
                key = (base, kind, value)
                try:
                    t = tails[key] if key in tails else tails.setdefault(key, tail(base, value))
                except TypeError:  # unhashable
                    t = tail(base, value)
                if len(tails) > 1 << 16:
                    tails.clear()
                if t is not None:
                    cells.append(heads[c] + digits + t)
        if cells:
            row_xml = f'<row r="{digits}">{"".join(cells)}</row>'
            rows_xml.append(row_xml)
            size += len(row_xml)
            if size >= _CHUNK // 4:
                yield "".join(rows_xml).encode()
                rows_xml.clear()
                size = 0
    if rows_xml:
        yield "".join(rows_xml).encode()
    yield b"</sheetData>"
    yield (
        b'<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
        b'footer="0.3"/></worksheet>'
    )


def _check_tab_name(name: str) -> None:
    if (
        not name
        or len(name) > 31
        or set(name) & _INVALID_TAB_CHARS
        or name[0] == "'"
        or (name[-1] == "'")
    ):
        raise SalesyncError(f"{name!r} is not a valid tab name (1-31 characters, no []:*?/\\)")


# ----------------------------------------------------------------------------- zip writing


def _strip_zip64_extra(extra: bytes) -> bytes:
    out = b""
    i = 0
    while i + 4 <= len(extra):
        kind, size = struct.unpack("<HH", extra[i : i + 4])
        if kind != 1:
            out += extra[i : i + 4 + size]
        i += 4 + size
    return out


def _raw_copy(
    src_fh,
    info: zipfile.ZipInfo,
    out: zipfile.ZipFile,
    name: str | None = None,
    date_time: tuple[int, int, int, int, int, int] | None = None,
) -> None:
    """Copy one member's compressed bytes as they are (no decompression)."""
    src_fh.seek(info.header_offset)
    header = src_fh.read(30)
    if header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    zinfo = zipfile.ZipInfo(name or info.filename, date_time or info.date_time)
    zinfo.compress_type = info.compress_type
    zinfo.comment = info.comment
    zinfo.extra = _strip_zip64_extra(info.extra)
    zinfo.create_system = info.create_system
    zinfo.create_version = info.create_version
    zinfo.extract_version = info.extract_version
    zinfo.external_attr = info.external_attr
    zinfo.internal_attr = info.internal_attr
    zinfo.flag_bits = info.flag_bits & ~0x08  # sizes go in the local header
    zinfo.CRC = info.CRC
    zinfo.compress_size = info.compress_size
    zinfo.file_size = info.file_size
    _put_raw(src_fh, info.header_offset + 30 + name_len + extra_len, zinfo, out)


def _put_raw(src_fh, offset: int, zinfo: zipfile.ZipInfo, out: zipfile.ZipFile) -> None:
    """Add a member whose compressed bytes (`zinfo.compress_size` of them, with its CRC and
    sizes set) are in `src_fh` at `offset`: its local header, then those bytes as they are."""
    fp = out.fp
    assert fp is not None
    zinfo.header_offset = fp.tell()
    zip64 = zinfo.file_size > zipfile.ZIP64_LIMIT or zinfo.compress_size > zipfile.ZIP64_LIMIT
    fp.write(zinfo.FileHeader(zip64))
    src_fh.seek(offset)
    remaining = zinfo.compress_size
    while remaining:
        block = src_fh.read(min(remaining, _CHUNK))
        if not block:
            raise zipfile.BadZipFile(f"{zinfo.filename} is truncated")
        fp.write(block)
        remaining -= len(block)
    out.filelist.append(zinfo)
    out.NameToInfo[zinfo.filename] = zinfo
    out.start_dir = fp.tell()
    out._didModify = True  # type: ignore[attr-defined]


# The raw copy reaches into zipfile's internals (ZipInfo.FileHeader, ZipFile.fp/filelist/
# NameToInfo/start_dir/_didModify) because the public API offers no way to add a member
# already compressed. Should a Python release rename them, these errors mean "internals
# missing" and the member is copied by decompressing and recompressing it instead (same
# compression method, identical uncompressed bytes, only slower).
_INTERNALS_MISSING = (AttributeError, TypeError, NotImplementedError)


def _recompress_copy(
    src: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    out: zipfile.ZipFile,
    date_time: tuple[int, int, int, int, int, int] | None = None,
) -> None:
    """Copy one member through the public API: decompress, recompress the same way."""
    zinfo = zipfile.ZipInfo(info.filename, date_time or info.date_time)
    zinfo.compress_type = info.compress_type
    zinfo.comment = info.comment
    zinfo.external_attr = info.external_attr
    zinfo.internal_attr = info.internal_attr
    zinfo.create_system = info.create_system
    big = info.file_size > zipfile.ZIP64_LIMIT
    with src.open(info) as fh, out.open(zinfo, "w", force_zip64=big) as dst:
        while block := fh.read(_CHUNK):
            dst.write(block)


def _copy_member(
    src: zipfile.ZipFile,
    src_fh,
    info: zipfile.ZipInfo,
    out: zipfile.ZipFile,
    date_time: tuple[int, int, int, int, int, int] | None = None,
) -> None:
    """Copy one member as its raw compressed bytes, or recompress it when zipfile's internals
    are not what `_raw_copy` expects."""
    _with_fallback(
        out,
        lambda: _raw_copy(src_fh, info, out, date_time=date_time),
        lambda: _recompress_copy(src, info, out, date_time=date_time),
    )


def _with_fallback(
    out: zipfile.ZipFile, raw: Callable[[], None], public: Callable[[], None]
) -> None:
    """Add a member with `raw` (zipfile's internals); when they are missing, cut off anything
    it wrote and add the member with `public` (the public API) instead."""
    fp = out.fp
    start = fp.tell() if fp is not None else None
    entries = len(out.filelist)
    try:
        raw()
        return
    except _INTERNALS_MISSING:
        if fp is None or start is None:
            raise
    fp.seek(start)
    fp.truncate()
    removed = out.filelist[entries:]
    del out.filelist[entries:]
    for zinfo in removed:
        out.NameToInfo.pop(zinfo.filename, None)
    out.start_dir = start
    public()


def _add_deflated(
    scratch_fh,
    member: _Deflated,
    out: zipfile.ZipFile,
    name: str,
    date_time: tuple[int, int, int, int, int, int],
) -> None:
    """Add a member written by `_Deflater`: its deflate stream as it is, or inflated and
    deflated again through the public API when zipfile's internals are missing."""

    def zinfo() -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16  # as `ZipFile.open(name, "w")` gives a new member
        return info

    def raw() -> None:
        info = zinfo()
        info.CRC = member.crc
        info.compress_size = member.compress_size
        info.file_size = member.file_size
        _put_raw(scratch_fh, member.offset, info, out)

    def public() -> None:
        inflate = zlib.decompressobj(-15)
        big = member.file_size > zipfile.ZIP64_LIMIT
        scratch_fh.seek(member.offset)
        remaining = member.compress_size
        with out.open(zinfo(), "w", force_zip64=big) as dst:
            while remaining:
                block = scratch_fh.read(min(remaining, _CHUNK))
                if not block:
                    raise zipfile.BadZipFile(f"{name} is truncated in the scratch file")
                remaining -= len(block)
                dst.write(inflate.decompress(block))
            dst.write(inflate.flush())

    _with_fallback(out, raw, public)


def _writestr(
    out: zipfile.ZipFile,
    name: str,
    data: bytes,
    like: zipfile.ZipInfo | None,
    date_time: tuple[int, int, int, int, int, int],
) -> None:
    zinfo = zipfile.ZipInfo(name, like.date_time if like else date_time)
    zinfo.compress_type = like.compress_type if like else zipfile.ZIP_DEFLATED
    if like:
        zinfo.external_attr = like.external_attr
        zinfo.create_system = like.create_system
    out.writestr(zinfo, data)


# ----------------------------------------------------------------------------- locks & atomic


def _check_locks(target: Path) -> None:
    folder, name = target.parent, target.name
    for lock, app in (
        (folder / f"~${name}", "Excel"),
        (folder / f".~lock.{name}#", "LibreOffice"),
    ):
        if lock.exists():
            raise WorkbookLocked(
                f"{name} is open in {app} (lock file {lock.name}); close it and run again"
            )


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------- the backend


class XlsxBackend:
    """A local .xlsx or .xlsm file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"XlsxBackend({str(self.path)!r})"

    def read(self) -> RawWorkbook:
        return read_workbook(self.path)

    adds_dashboard = True  # renders WritePlan.dashboard (xlsx_dashboard)

    def apply(self, plan: WritePlan, *, out: Path | None = None) -> None:
        apply_plan(self.path, plan, out=out)


def apply_plan(path: str | Path, plan: WritePlan, out: str | Path | None = None) -> None:
    """Write `plan` into the workbook at `path` (or into a copy at `out`), all or nothing."""
    if plan.is_empty():
        return
    src = Path(path)
    dst = Path(out) if out is not None else src
    if not src.exists():
        raise WorkbookNotFound(f"{src}: no such file")
    _check_locks(dst)
    folder = dst.parent if str(dst.parent) else Path(".")
    mode = stat.S_IMODE((dst if dst.exists() else src).stat().st_mode)
    tmp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed, renamed or removed below
        dir=folder, prefix=f".~salesync-{dst.name}-", suffix=".tmp", delete=False
    )
    scratch_path: Path | None = None
    try:
        with _open_zip(src) as zin:
            pkg = _load_package_checked(zin, src)
            scratch = tempfile.NamedTemporaryFile(  # noqa: SIM115 - removed in finally
                dir=folder, prefix=f".~salesync-{dst.name}-", suffix=".parts", delete=False
            )
            scratch_path = Path(scratch.name)
            with scratch:
                _rewrite(zin, pkg, plan, tmp, scratch, src)
        tmp.flush()
        os.fsync(tmp.fileno())
        tmp.close()
        os.chmod(tmp.name, mode)
        try:
            os.replace(tmp.name, dst)
        except PermissionError as exc:
            raise WorkbookLocked(
                f"{dst.name} cannot be replaced ({exc.strerror}); close it in Excel or "
                "LibreOffice, check its permissions, and run again"
            ) from exc
        _fsync_dir(folder)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.close()
        with contextlib.suppress(OSError):
            os.unlink(tmp.name)
        raise
    finally:
        if scratch_path is not None:
            with contextlib.suppress(OSError):
                os.unlink(scratch_path)


# zipfile's default level for ZIP_DEFLATED (6), the one `benchmarks/bench.py`'s floor uses:
# a faster level would make every written workbook larger.
_LEVEL = zlib.Z_DEFAULT_COMPRESSION
_WINDOW = 32 * 1024  # how far back deflate may refer: what each block is primed with
# A block is compressed by two zlib calls, each of which waits for the GIL when it returns
# (up to the 5 ms switch interval while this thread splices): 4 MiB blocks keep those waits
# a small part of the ~50 ms a block takes to compress.
_BLOCK = 4 << 20


def _deflate_block(block: bytes, zdict: bytes, last: bool) -> bytes:
    """One block of a member's raw deflate stream. It is primed with the 32 KiB before it and
    ends on a byte boundary (a sync flush, or the final block), so the blocks, compressed
    apart, concatenate into one stream that any inflater reads as a whole (pigz's way)."""
    if zdict:
        c = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY, zdict)
    else:
        c = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15)
    return c.compress(block) + c.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


@dataclass(slots=True)
class _Deflated:
    """A member's deflate stream in the scratch file, with what its zip headers need."""

    offset: int
    compress_size: int
    file_size: int
    crc: int


class _Deflater:
    """Write one member's data as a raw deflate stream to `fh`, compressed 4 MiB block by
    block on `pool`. zlib's deflate releases the GIL: while this thread splices or renders
    the next block, the pool's threads compress the ones before it on the other cores, so a
    member costs about the larger of the two instead of their sum. Blocks are written to
    `fh` in order; at most `depth` wait in memory."""

    def __init__(self, pool: ThreadPoolExecutor, fh: IO[bytes], depth: int) -> None:
        self._pool = pool
        self._fh = fh
        self._depth = depth
        self._parts: list[bytes] = []
        self._size = 0
        self._futures: deque[Future[bytes]] = deque()
        self._tail = b""
        self.offset = fh.tell()
        self.compress_size = 0
        self.file_size = 0
        self.crc = 0

    def write(self, data: bytes) -> None:
        if data:
            self._parts.append(data)
            self._size += len(data)
            if self._size >= _BLOCK:
                self._submit(last=False)

    def _submit(self, last: bool) -> None:
        block = b"".join(self._parts)
        self._parts.clear()
        self._size = 0
        self.crc = zlib.crc32(block, self.crc)
        self.file_size += len(block)
        self._futures.append(self._pool.submit(_deflate_block, block, self._tail, last))
        self._tail = (self._tail + block)[-_WINDOW:] if len(block) < _WINDOW else block[-_WINDOW:]
        while len(self._futures) > (0 if last else self._depth):
            self._put(self._futures.popleft().result())

    def _put(self, data: bytes) -> None:
        self._fh.write(data)
        self.compress_size += len(data)

    def close(self) -> _Deflated:
        """Compress what is left, wait for every block and end the stream."""
        self._submit(last=True)
        return _Deflated(self.offset, self.compress_size, self.file_size, self.crc)

    def abandon(self) -> None:
        for future in self._futures:
            future.cancel()
        self._futures.clear()


@contextlib.contextmanager
def _deflated(
    pool: ThreadPoolExecutor, fh: IO[bytes], done: Callable[[_Deflated], None], depth: int
) -> Iterator[_Deflater]:
    """A sink for one new member, compressed on `pool` into `fh`; `done` gets its record."""
    writer = _Deflater(pool, fh, depth)
    try:
        yield writer
        done(writer.close())
    finally:
        writer.abandon()


def _read_ahead(zf: zipfile.ZipFile, part: str, depth: int = 3) -> Iterator[bytes]:
    """A member's uncompressed bytes in ~1 MiB chunks, read and inflated in a second thread
    (zlib's inflate and crc32 release the GIL) while this one works on the chunk before."""
    chunks: queue.Queue[bytes | BaseException | None] = queue.Queue(depth)
    stop = threading.Event()

    def run() -> None:
        try:
            with zf.open(part) as fh:
                while not stop.is_set() and (chunk := fh.read(_CHUNK)):
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


def _rewrite(zin: zipfile.ZipFile, pkg: _Package, plan: WritePlan, tmp, scratch, src: Path) -> None:
    styles_text = zin.read(pkg.styles_part).decode("utf-8") if pkg.styles_part else None
    styles = _StyleBook(styles_text)
    tab_names = [t.sheet for t in plan.tabs]
    if len(set(tab_names)) != len(tab_names):
        raise SalesyncError("the write plan regenerates the same tab twice")
    replaced: dict[str, _Deflated] = {}  # part → its deflate stream in `scratch`
    dropped: set[str] = set()
    formulas_removed = False
    new_sheets: list[tuple[str, str, str, int]] = []  # (name, part, rid, sheetId)
    table_texts: dict[str, bytes] = {}
    # One thread renders at ~100 MB/s and deflate runs at ~75 MB/s a core: more than a few
    # compressing threads would only hold more 4 MiB blocks in memory.
    workers = max(1, min(os.cpu_count() or 1, 4))

    def member(part: str) -> contextlib.AbstractContextManager[_Deflater]:
        return _deflated(pool, scratch, lambda done: replaced.__setitem__(part, done), workers + 1)

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
            edits = _SheetEdits(name, RowWrites(writes, name), styles, pkg.date1904)
            table_texts.update(_grown_tables(zin, pkg, ref.part, edits.writes))
            likes = {w.style_like for w in writes if w.style_like is not None}
            if likes:
                edits.like_styles = _find_styles(_iter_chunks(zin, ref.part), likes)
            with member(ref.part) as sink:
                _patch_sheet(_read_ahead(zin, ref.part), sink.write, edits)
            formulas_removed |= edits.formulas_removed

        used_parts = set(pkg.members)
        used_ids = {rid for rid, _, _ in pkg.rels}
        next_sheet_id = max((s.sheet_id for s in pkg.sheets), default=0) + 1
        sheets_dir = posixpath.join(posixpath.dirname(pkg.workbook_part), "worksheets")
        n = 1
        for tab in plan.tabs:
            _check_tab_name(tab.sheet)
            ref = next((s for s in pkg.sheets if s.name.lower() == tab.sheet.lower()), None)
            if ref is not None:  # tab names are unique regardless of case
                if ref.content_type and ref.content_type != CT_WORKSHEET:
                    raise SalesyncError(f"{src.name}: tab {tab.sheet!r} is not a worksheet")
                part = ref.part
                rels = _rels_part(part)
                if rels in pkg.members:
                    dropped.add(rels)
                if part in pkg.members:
                    _, old_formulas = _scan_sheet(zin, part)
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
                for piece in _tab_xml(tab, styles, pkg.date1904):
                    sink.write(piece)
    scratch.flush()

    dashboard = None
    dash = plan.dashboard
    taken = {s.name.lower() for s in pkg.sheets} | {t.lower() for t in tab_names}
    if dash is not None and dash.sheet.lower() not in taken:
        _check_tab_name(dash.sheet)
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
                _add_deflated(scratch_fh, replaced[name], zout, name, info.date_time)
            elif name in texts:
                _writestr(zout, name, texts[name], info, info.date_time)
            else:
                _copy_member(zin, src_fh, info, zout)
        for _, part, _, _ in new_sheets:
            if dashboard is None or part != dashboard.sheet_part:
                _add_deflated(scratch_fh, replaced[part], zout, part, wb_info.date_time)
        for part, data in dashboard.parts if dashboard else ():
            _writestr(zout, part, data, None, wb_info.date_time)


def _style_for(styles: _StyleBook) -> Callable[[bool, int], int | None]:
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
    zin: zipfile.ZipFile, pkg: _Package, sheet_part: str, writes: RowWrites
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


def _edit_package_parts(
    zin: zipfile.ZipFile,
    pkg: _Package,
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
            f'<{p}sheet name="{_xml_attr(name)}" sheetId="{sid}"{decl} {rid_attr}="{rid}"/>'
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
        f'Target="{_xml_attr(_relative_target(pkg.workbook_part, part))}"/>'
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
