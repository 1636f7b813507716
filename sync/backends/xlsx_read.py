"""Reading a local workbook.

Reading uses python-calamine for the grids and one streaming scan of each sheet's XML for what
calamine hides (error values, which cells hold formulas), the tabs on a thread pool.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import re
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar
from xml.etree import ElementTree as ET

from sync.backends.xlsx_package import (
    NS_MAIN,
    ROOT_PREFIX_RE,
    Package,
    _attrs,
    iter_chunks,
    load_package_checked,
    open_zip,
    parse_ref,
)
from sync.core.errors import SalesyncError, WorkbookUnreadable
from sync.core.model import CellValue, ExcelError, Position, RawSheet, RawWorkbook


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
        pos = parse_ref(_attrs(region[start:tag_end]).get(b"r", b""))
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
        pos = parse_ref(_attrs(region[start:tag_end]).get(b"r", b""))
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
                    pos = parse_ref((el.get("r") or "").encode())
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


def scan_sheet(zf: zipfile.ZipFile, part: str) -> tuple[dict[Position, ExcelError], set[Position]]:
    errors: dict[Position, ExcelError] = {}
    formulas: set[Position] = set()
    buf = b""
    pfx: bytes | None = None
    for chunk in iter_chunks(zf, part):
        buf += chunk
        if pfx is None:
            m = ROOT_PREFIX_RE.search(buf)
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
    with open_zip(path) as zf:
        pkg = load_package_checked(zf, path)
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


def _scan_tab(path: Path, pkg: Package, name: str) -> _Scanned:
    """What calamine hides from a worksheet's XML: its error values and formula cells."""
    ref = pkg.sheet(name)
    if ref is None or ref.part not in pkg.members:
        return {}, set()
    with open_zip(path) as zf:
        return scan_sheet(zf, ref.part)


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
