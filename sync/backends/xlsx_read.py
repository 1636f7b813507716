"""Reading a local workbook.

Reading uses fastexcel for the big tabs (`xlsx_fast`, kept by column) and python-calamine for
the others and for any tab fastexcel cannot read exactly, plus one streaming scan of each
sheet's XML for what calamine hides (error values, which cells hold formulas), the tabs on a
thread pool.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sync.backends.xlsx_fast import read_grid, rust_panic
from sync.backends.xlsx_package import (
    CT_WORKSHEET,
    NO_ROOM,
    Package,
    copy_member,
    load_package_checked,
    open_zip,
)
from sync.backends.xlsx_scan import refused, scan_sheet, with_known_codes
from sync.core.errors import SalesyncError, WorkbookUnreadable
from sync.core.model import (
    CellValue,
    ColumnGrid,
    ExcelError,
    FormulaCells,
    Position,
    RawSheet,
    RawWorkbook,
)


def _overlay(rows: list[list[CellValue]] | ColumnGrid, errors: dict[Position, ExcelError]) -> None:
    if isinstance(rows, ColumnGrid):
        for (row, col), err in errors.items():
            rows.columns[col - 1][row - 1] = err  # calamine's range holds every error cell
        return
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
    grid (through fastexcel for a tab of `FAST_MIN_BYTES` or more, else python-calamine, each
    thread on its own calamine workbook; calamine parses without the GIL), and a scan of the
    tab's XML for what calamine hides (formulas; error values too, unless the fast read finds
    none), mostly inflating, which zlib-ng does without the GIL too. The grids go first,
    largest first, and the scans after them, so that the scan of the largest tab runs while
    calamine is still reading it instead of after: the read takes about the time of the
    largest grid rather than of the largest grid and its scan; the big worksheets start
    before python-calamine has listed the tabs. The result is the same as reading the tabs
    one by one; the cost is that two grids are being built at once.

    A tab calamine refuses for an error code it does not read (#SPILL!, #CALC! … which newer
    Excel writes, in a dashboard tab as well as in a log) is read again with #N/A in their
    place, and the codes are the scan's (`_known_codes_read`); the other tabs are not."""
    path = Path(path)
    with _openable(path) as readable:
        return _read_workbook(path, readable)


@contextlib.contextmanager
def _openable(path: Path) -> Iterator[Path]:
    """`path` as the readers in Rust (python-calamine, fastexcel) can open it: itself, or, for a
    name that is not UTF-8 (bytes a POSIX file name may hold: a GBK name unzipped on Linux,
    which Python keeps as surrogates and Rust cannot be handed), the file opened here and named
    by its descriptor (`/proc/self/fd/N`), for as long as the read lasts."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        yield path
        return
    fds = next((d for d in ("/proc/self/fd", "/dev/fd") if os.path.isdir(d)), None)
    if fds is None:  # nowhere to name it from: the readers say they cannot open it
        yield path
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        yield Path(fds, str(fd))
    finally:
        os.close(fd)


def _read_workbook(path: Path, readable: Path) -> RawWorkbook:
    """`read_workbook` of `path`, its files opened as `readable` (`_openable`)."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum

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
        book = _guarded(path, lambda: CalamineWorkbook.from_path(str(readable)))
        opened.append(book)
        return book

    def fast(name: str) -> bool:
        return sizes.get(name, 0) >= FAST_MIN_BYTES and _has_fastexcel()

    def grid(name: str) -> _Grid:
        """The tab's cells and, when the scan will not look for them, its error values."""
        errors: Callable[[], dict[Position, ExcelError]] | None = None
        if fast(name):
            found = _guarded(path, lambda: read_grid(readable, pkg, name))
            if found is not None and not found.errors_below:
                return found.grid, found.errors
            # the scan task looks for formulas only in a tab meant for the fast way: its error
            # values are looked for now (beside the fast way's values, or, before python-calamine
            # reads the tab, to tell whether calamine would refuse it for their codes)
            errors = started(lambda: _error_values(path, pkg, name))
            if found is not None:
                return found.grid, _guarded(path, errors)
            if refused(_guarded(path, errors)):
                # calamine refuses the tab for those codes: the fast way, on a copy without them
                copied = _guarded(path, lambda: _known_codes_read(path, pkg, name))
                return copied, _guarded(path, errors)
        try:
            book = books.get_nowait()
        except queue.Empty:
            book = open_book()
        cells: list[list[CellValue]] | ColumnGrid
        try:
            cells = _guarded(path, lambda: _read_grid(book, name))
        except WorkbookUnreadable:
            if errors is not None or not refused(
                _guarded(path, lambda: _error_values(path, pkg, name))
            ):
                raise  # refused for another reason
            cells = _guarded(path, lambda: _known_codes_read(path, pkg, name, fast=False))
        finally:
            books.put(book)
        return cells, None if errors is None else _guarded(path, errors)

    def scan(name: str) -> _Scanned:
        # a tab read the fast way has its error values found on that way
        return _guarded(path, lambda: _scan_tab(path, pkg, name, want_errors=not fast(name)))

    def largest_first(names: Iterable[str]) -> list[str]:
        # so that no big tab starts last while the other thread idles
        return sorted(names, key=lambda name: -sizes.get(name, 0))

    cores = os.cpu_count() or 1
    try:
        with ThreadPoolExecutor(cores, thread_name_prefix="salesync-read") as pool:
            # The worksheets fastexcel reads need no python-calamine workbook: they start
            # while the one that lists the tabs opens (reading every shared string first).
            # On one core the tabs go one at a time, in order.
            big = [r.name for r in pkg.sheets if r.content_type == CT_WORKSHEET and cores > 1]
            early = {n: pool.submit(grid, n) for n in largest_first(filter(fast, big))}
            first = open_book()
            metas = [
                m
                for m in _guarded(path, lambda: first.sheets_metadata)
                if m.typ in (SheetTypeEnum.WorkSheet, SheetTypeEnum.MacroSheet)
            ]  # chart sheets, dialog sheets: no cells
            books.put(first)
            names = [m.name for m in metas]
            if cores <= 1:
                grids = {name: grid(name) for name in names}
                scans = {name: scan(name) for name in names}
            else:
                order = largest_first(names)
                grid_tasks = {
                    n: early.pop(n) if n in early else pool.submit(grid, n) for n in order
                }
                scan_tasks = {name: pool.submit(scan, name) for name in order}
                grids = {name: task.result() for name, task in grid_tasks.items()}
                scans = {name: task.result() for name, task in scan_tasks.items()}
            for task in early.values():  # not a tab python-calamine lists: not read
                task.cancel()
        sheets = [_sheet(meta, *grids.pop(meta.name), scans[meta.name]) for meta in metas]
    finally:
        for book in opened:
            with contextlib.suppress(Exception):
                book.close()
    if cores > 1:
        _release_freed_memory()
    return RawWorkbook(sheets=sheets, source=str(path))


FAST_MIN_BYTES = 8 << 20
"""A tab whose XML is at least this long is read the fast way (`xlsx_fast`) when it can be."""


@lru_cache(maxsize=1)
def _has_fastexcel() -> bool:
    try:
        import fastexcel  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


_Scanned = tuple[dict[Position, ExcelError], FormulaCells]
"""A tab's error values and formula positions, as its XML has them."""

_Grid = tuple[list[list[CellValue]] | ColumnGrid, dict[Position, ExcelError] | None]
"""A tab's cells and its error values (None: the scan's)."""

_T = TypeVar("_T")


def started(work: Callable[[], _T], name: str = "salesync-read-errors") -> Callable[[], _T]:
    """`work` started on a thread of its own; the call returned waits for its result."""
    pool = ThreadPoolExecutor(1, thread_name_prefix=name)
    future = pool.submit(work)
    pool.shutdown(wait=False)

    def result() -> _T:
        # in short waits: on Windows Ctrl-C interrupts a wait for a thread only between two
        # (a wait without a timeout there ends only with the thread's work, seconds at 1M)
        while not future.done():
            wait([future], timeout=0.1)
        return future.result()

    return result


def _guarded(path: Path, work: Callable[[], _T]) -> _T:
    """`work`, with anything but salesync's own errors reported as an unreadable workbook
    (a panic inside python-calamine too: pyo3 raises it as a BaseException)."""
    try:
        return work()
    except SalesyncError:
        raise
    except BaseException as exc:
        if not isinstance(exc, Exception) and not rust_panic(exc):
            raise  # KeyboardInterrupt, SystemExit …
        if type(exc).__name__ == "WorksheetNotFound":  # a tab it listed itself
            tab = exc.args[0] if exc.args else "?"
            raise WorkbookUnreadable(
                f"{path}: cannot read tab {tab!r}: python-calamine, which reads the cells, lists "
                "it but does not find its sheet in the file (the workbook names the sheet by a "
                "path it does not follow, such as ../xl/worksheets/…, or the sheet is missing); "
                "open the workbook in Excel or LibreOffice, save it, and run again"
            ) from exc
        raise WorkbookUnreadable(f"{path}: cannot read it ({exc or type(exc).__name__})") from exc


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


def _error_values(path: Path, pkg: Package, name: str) -> dict[Position, ExcelError]:
    """Tab `name`'s error values alone, from a scan of its XML."""
    return _scan_tab(path, pkg, name, want_errors=True, want_formulas=False)[0]


def _known_codes_read(
    path: Path, pkg: Package, name: str, fast: bool = True
) -> list[list[CellValue]] | ColumnGrid:
    """The cells of tab `name`, which holds error codes calamine refuses it for, read from a
    temporary copy of the workbook in which the tab holds #N/A in their place (the fast way
    when `fast` and it can, else by python-calamine); the codes themselves are the scan's, from
    the workbook's own XML. The sheet is stored in the copy as it is rewritten, uncompressed:
    it is read once, right away; the other members are copied as they are."""
    from python_calamine import CalamineWorkbook

    ref = pkg.sheet(name)
    assert ref is not None  # a tab with error values has a sheet
    with _being_read(tempfile.TemporaryDirectory(prefix="salesync-")) as folder:
        copy = Path(folder, "workbook" + path.suffix)  # a name the readers in Rust can open
        size = 0  # the sheet's XML, stored as it is rewritten
        try:
            with (
                open_zip(path) as zf,
                open(path, "rb") as fh,
                zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED, allowZip64=True) as out,
            ):
                for info in zf.infolist():
                    if info.filename != ref.part:
                        copy_member(zf, fh, info, out)
                        continue
                    size = info.file_size
                    with out.open(info.filename, "w", force_zip64=True) as member:
                        for piece in with_known_codes(zf, ref.part):
                            member.write(piece)
        except OSError as exc:
            if exc.errno not in NO_ROOM:
                raise
            raise WorkbookUnreadable(
                f"{path}: tab {name!r} holds error values of newer Excel (#SPILL!, #CALC! …), "
                f"so it is read from a copy of the workbook holding that tab's "
                f"{_size(size)} of XML uncompressed, in the temporary folder "
                f"{Path(folder).parent}, and there was no room for it ({exc.strerror}): make "
                "room there, or set TMPDIR to a folder with room, and run again"
            ) from exc
        if fast:
            found = read_grid(copy, pkg, name)
            if found is not None:
                return found.grid
        book = CalamineWorkbook.from_path(str(copy))
        try:
            return _read_grid(book, name)
        finally:
            book.close()


_COPIES: set[str] = set()
"""The temporary folders of the workbook copies being read (`_known_codes_read`)."""


@contextlib.contextmanager
def _being_read(folder: tempfile.TemporaryDirectory[str]) -> Iterator[str]:
    """`folder`'s path, known to `copies_being_read` until the folder is removed."""
    try:
        with folder as where:
            _COPIES.add(where)
            yield where
    finally:
        _COPIES.discard(folder.name)  # once the folder is gone


def copies_being_read() -> bool:
    """Whether a thread is reading a temporary copy of a workbook, which it removes once done:
    a process that ends sooner (Ctrl-C) waits for it rather than leave the copy behind."""
    return bool(_COPIES)


def _size(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB" if n >= 2**20 else f"{n:,} bytes"


def _read_grid(book: Any, name: str) -> list[list[CellValue]]:
    """One worksheet's cells from calamine, row by row."""
    grid = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    # calamine hands back fresh lists: keep them rather than copy every row
    return [r if type(r) is list else list(r) for r in grid]


def _scan_tab(
    path: Path, pkg: Package, name: str, *, want_errors: bool, want_formulas: bool = True
) -> _Scanned:
    """What calamine hides from a worksheet's XML: its error values and formula cells (each
    when wanted)."""
    ref = pkg.sheet(name)
    if ref is None or ref.part not in pkg.members:
        return {}, FormulaCells()
    with open_zip(path) as zf:
        return scan_sheet(zf, ref.part, want_errors=want_errors, want_formulas=want_formulas)


def _sheet(
    meta: Any,
    rows: list[list[CellValue]] | ColumnGrid,
    errors: dict[Position, ExcelError] | None,
    scanned: _Scanned,
) -> RawSheet:
    """A worksheet as the core sees it: the grid with the error values put back (`errors`, or
    the scan's when None)."""
    from python_calamine import SheetVisibleEnum

    scanned_errors, formulas = scanned
    _overlay(rows, scanned_errors if errors is None else errors)
    return RawSheet(
        name=meta.name,
        rows=rows,
        hidden=meta.visible != SheetVisibleEnum.Visible,
        formulas=formulas,
    )
