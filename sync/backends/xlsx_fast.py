"""Reading a big worksheet fast, to the same cells python-calamine gives.

python-calamine builds a Python object per cell in native code holding the GIL, and at a
million rows that costs more than parsing the XML. fastexcel parses the same XML (calamine
too), without the GIL, into Arrow columns, which numpy turns into Python values a column at a
time. But fastexcel gives a column one type and coerces cells of other types into it (a number
in a date column becomes a date, a text "12" in a number column 12.0), and the checks must see
what was typed. So a tab goes the fast way only where that cannot happen:

- its first `HEAD_ROWS` rows (where a title block and the header row sit, whose cells differ in
  type from the data under them) are read by python-calamine itself, from a copy of the package
  in memory that holds only those rows; their error values come from a scan of that XML;
- the rows below are read by fastexcel with its strict inference over every row: a column
  that holds two kinds of cell (a "TBD" among dates, a phone typed as a number among texts) is
  left out of it and read by python-calamine alone, from a copy of the sheet that holds only
  that column's cells (`_exact_columns`), beside fastexcel's parse (so is a column holding
  #NAME?, which fastexcel refuses wherever it is, and one holding a cell it reports it could
  not convert: a text that reads as '' among numbers or dates, which its inference took for an
  empty cell). fastexcel names such a column only when it refuses the whole tab or reports the
  cell: the columns its first `SAMPLE_BYTES` already mix are left out from the start, and one
  mixed only further down costs a second parse (up to `MAX_MIXED` such columns; with more the
  tab is read by python-calamine);
- each Arrow column becomes the values python-calamine gives for the kind: '' for an empty
  cell, a datetime.date for a whole-day date, a datetime.time for a serial below 1, a
  datetime.timedelta for a duration; a text column that repeats a few values a lot shares one
  str object per value;
- fastexcel leaves error cells (#N/A …) empty and reports each one with its kind, which names
  its code (calamine reads an error cell only when its code is one of those kinds, and refuses
  the tab otherwise): the codes are put back from that report. Only when it reports a kind
  without a code here, or a text below the head starts with "#", does the caller scan the XML
  for the codes as it does for python-calamine.

`read_grid` answers None whenever it cannot vouch for the result (more mixed columns than it
reads exactly, a mixed column's cells written without `r` as their first attribute, a date
past year 9999 or at serial 1, a 1904 date system, a kind it does not know, rows without
numbers, a tab no longer than its head), and the caller reads the tab with python-calamine.
One difference is known and accepted: a date serial a float's hair off a whole day (formula
arithmetic leaves them) reads as a date here and as a datetime at midnight through
python-calamine; the core takes the two alike (see the tests).
"""

from __future__ import annotations

import io
import logging
import re
import threading
import zipfile
from collections.abc import Callable, Iterator, Sequence, Set
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from sync.backends.xlsx_package import (
    NS_MAIN,
    Package,
    _attrs,
    col_letters,
    iter_chunks,
    open_zip,
    sheet_prefix,
)
from sync.backends.xlsx_scan import CALAMINE_CODES, FormulaFinds, scan_region
from sync.core.model import HEADER_SCAN_ROWS, CellValue, ColumnGrid, ExcelError, Position

HEAD_ROWS = HEADER_SCAN_ROWS
"""The rows read exactly by python-calamine: the header row is never below them."""
SAMPLE_BYTES = 2 << 20
"""How much of a sheet's XML is tried by fastexcel first (some thousands of rows)."""
MAX_MIXED = 4
"""The most columns of two kinds of cell a tab read the fast way may have."""
MAX_RELOADS = 1
"""How many times fastexcel parses a tab again after naming a mixed column the sample did not
show: once costs less than python-calamine's read of the whole tab, twice more."""

_DAY_MS = 86_400_000
_MS_1900 = int((datetime(1900, 1, 1) - datetime(1970, 1, 1)).total_seconds()) * 1000
"""Serial 1 (1900-01-01) in fastexcel's milliseconds since 1970: below it, a time of day."""
_MS_LAST = int((datetime(9999, 12, 31) - datetime(1970, 1, 1)).total_seconds()) * 1000 + _DAY_MS - 1
"""The last millisecond a Python datetime holds (python-calamine gives the serial past it)."""

_EMPTY_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<worksheet xmlns="' + NS_MAIN.encode() + b'"><sheetData/></worksheet>'
)

# fastexcel logs a warning for a column with no value in any row; such a column reads as empty
# cells here, which is what the tab holds.
logging.getLogger("fastexcel").setLevel(logging.ERROR)


class FastGrid(NamedTuple):
    """A tab read the fast way: its cells, the error values found on the way (in its head, in
    the columns read exactly, and those fastexcel reported below), and whether the rows below
    may hold error values it could not name (then the caller scans the XML for them)."""

    grid: ColumnGrid
    errors: dict[Position, ExcelError]
    errors_below: bool


def rust_panic(exc: BaseException) -> bool:
    """Whether `exc` is a panic inside a Rust extension (fastexcel, python-calamine): pyo3
    raises it as `pyo3_runtime.PanicException`, a BaseException, not an Exception."""
    kind = type(exc)
    return kind.__name__ == "PanicException" and kind.__module__ == "pyo3_runtime"


def read_grid(path: Path, pkg: Package, name: str) -> FastGrid | None:
    """The tab's cells as python-calamine's `to_python(skip_empty_area=False)` gives them, kept
    by column; None when the fast way cannot be sure of giving exactly that (or fastexcel or
    python-calamine panicked on the way)."""
    try:
        return _read_grid(path, pkg, name)
    except BaseException as exc:
        if rust_panic(exc):
            return None
        raise


def _read_grid(path: Path, pkg: Package, name: str) -> FastGrid | None:
    ref = pkg.sheet(name)
    if ref is None or ref.part not in pkg.members or pkg.date1904:
        return None
    with open_zip(path) as zf:
        opening = _opening(zf, pkg, ref.part)
        if opening is None:
            return None
        head = _head(zf, pkg, ref.part, name, opening)
        mixed = None if head is None else _mixed_columns(zf, pkg, ref.part, name, opening)
    if head is None or mixed is None:
        return None
    rows, errors = head
    stop = threading.Event()  # the exact reads are not waited for once the tab goes another way
    with ThreadPoolExecutor(1, thread_name_prefix="salesync-exact") as pool:
        exact: list[Future[_Exact | None]] = []

        def read_exactly(columns: Set[int]) -> None:
            exact.append(
                pool.submit(
                    _exact_columns, path, pkg, ref.part, name, opening, sorted(columns), stop
                )
            )

        if mixed:
            read_exactly(mixed)  # beside fastexcel's parse of the other columns
        try:
            body = _body(path, name, mixed, read_exactly)
            found = [future.result() for future in exact] if body is not None else []
        finally:
            stop.set()
    if body is None or any(part is None for part in found):
        return None
    below, height, named, errors_below = body
    errors.update(named)
    for part in found:
        assert part is not None
        below.update(part.columns)
        errors.update(part.errors)
    height = max([height, *map(len, below.values())])
    width = max(max(map(len, rows), default=0), max(below, default=-1) + 1)
    rows += [[] for _ in range(HEAD_ROWS - len(rows))]
    columns = []
    for c in range(width):
        column = [row[c] if c < len(row) else "" for row in rows]
        values = below.pop(c, [])
        column += values
        column += [""] * (height - len(values))
        columns.append(column)
    return FastGrid(ColumnGrid(columns), errors, errors_below)


class _Opening(NamedTuple):
    """The beginning of a sheet's XML, each piece cut before a row and closed again."""

    head: bytes  # the rows up to `HEAD_ROWS`
    sample: bytes  # the rows in its first `SAMPLE_BYTES` or so (the head's among them)
    pfx: bytes  # the namespace prefix of its elements
    strings: _Strings | None  # the shared strings the sample uses (None: all of them)


def _head(
    zf: zipfile.ZipFile, pkg: Package, part: str, name: str, opening: _Opening
) -> tuple[list[list[CellValue]], dict[Position, ExcelError]] | None:
    """The tab's first `HEAD_ROWS` rows read by python-calamine and their error values; None
    when its cells are not numbered or python-calamine cannot read them."""
    errors: dict[Position, ExcelError] = {}
    if not scan_region(opening.head, opening.pfx, errors, FormulaFinds()):
        return None
    rows = _calamine_rows(_package_with(zf, pkg, part, opening.head, opening.strings), name)
    if rows is None:
        return None  # the reader as before says what is wrong with the tab
    head: list[list[CellValue]] = [list(row) for row in rows]
    return head, errors


def _calamine_rows(copy: io.BytesIO, name: str) -> Sequence[Sequence[CellValue]] | None:
    """Tab `name` of a copy of the package as python-calamine gives it, from A1; None when
    python-calamine cannot read it."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(copy)
        try:
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        finally:
            book.close()
    except CalamineError:
        return None
    return rows


def _mixed_columns(
    zf: zipfile.ZipFile, pkg: Package, part: str, name: str, opening: _Opening
) -> set[int] | None:
    """The columns (0-based from A) whose rows just below the head already hold two kinds of
    cell: fastexcel's parse of the whole tab leaves them out from the start, where it would
    otherwise parse all of it only to refuse. A column of typed text is most often so from its
    first rows on. None when there are more than `MAX_MIXED`."""
    import fastexcel

    sample = _package_with(zf, pkg, part, opening.sample, opening.strings).read()
    mixed: set[int] = set()
    while True:
        try:
            below = _below_head(sample, name, mixed)
        except _MixedColumn as exc:
            found = None if exc.column is None else {exc.column}
        except fastexcel.FastExcelError:
            return mixed  # the whole tab will tell
        else:
            found = _reported(below.errors, below.columns, below.batch).unconverted
            if not found:
                return mixed
        if found is None or not _joins(found, mixed):
            return None
        mixed |= found


def _joins(found: set[int], mixed: set[int]) -> bool:
    """Whether columns `found` mixed may join `mixed`, the columns read exactly: none found
    again, no more than `MAX_MIXED` in all."""
    return not found & mixed and len(mixed | found) <= MAX_MIXED


class _MixedColumn(Exception):
    """fastexcel found two kinds of cell in a column (0-based from A; None: it did not say
    which in a way this module understands)."""

    def __init__(self, column: int | None) -> None:
        super().__init__(column)
        self.column = column


_MIXED_COLUMN = re.compile(r"could not determine dtype for column (\S+)")


class _Below(NamedTuple):
    """The rows below the head as fastexcel reads them: its columns' descriptions, the Arrow
    columns, and the cells it could not convert."""

    columns: list[Any]
    batch: Any
    errors: Any


def _below_head(source: str | bytes, name: str, skip: Set[int] = frozenset()) -> _Below:
    """The tab's rows below the head as fastexcel loads them (a workbook's path or bytes),
    the columns in `skip` (0-based from A) left out and every row's kind of cell counted in the
    others: two kinds in a column raise `_MixedColumn`."""
    import fastexcel

    names: dict[str, int] = {}  # fastexcel's name of a column → its index from A

    def use(column: Any) -> bool:
        names[column.name] = column.absolute_index
        return column.absolute_index not in skip

    try:
        sheet = fastexcel.read_excel(source).load_sheet(
            name,
            header_row=None,
            skip_rows=HEAD_ROWS,
            schema_sample_rows=None,
            dtype_coercion="strict",
            use_columns=use,
        )
        columns = sheet.selected_columns
        batch, errors = sheet.to_arrow_with_errors()
    except (fastexcel.UnsupportedColumnTypeCombinationError, fastexcel.CalamineCellError) as exc:
        # two kinds of cell in a column, or an error value fastexcel does not take in any
        # column (#NAME?, in 0.21): the column it names is read exactly
        said = _MIXED_COLUMN.search(str(exc))
        if said is None and isinstance(exc, fastexcel.CalamineCellError):
            raise
        raise _MixedColumn(names.get(said.group(1)) if said else None) from exc
    return _Below(columns, batch, errors)


def _package_with(
    zf: zipfile.ZipFile, pkg: Package, part: str, xml: bytes, table: _Strings | None
) -> io.BytesIO:
    """An in-memory copy of the package in which the sheet `part` is `xml` (the other sheets
    empty), with only the shared strings `table` holds (those `xml` uses; None: all of them):
    what a reader needs to read those rows."""
    copy = io.BytesIO()
    sheets = {ref.part for ref in pkg.sheets}
    strings = _shared_strings_part(pkg)
    with zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED) as out:
        for info in zf.infolist():
            member = info.filename
            if member == part:
                out.writestr(member, xml if table is None else table.renumbered(xml))
            elif member in sheets:
                out.writestr(member, _EMPTY_SHEET)
            elif member == strings:
                out.writestr(member, zf.read(member) if table is None else table.part)
            elif _needed(member, pkg):
                out.writestr(member, zf.read(member))
    copy.seek(0)
    return copy


def _needed(member: str, pkg: Package) -> bool:
    """Whether python-calamine needs the member to read a sheet: the package's and workbook's
    parts and relationships and the styles (which numbers are dates)."""
    if member in ("[Content_Types].xml", "_rels/.rels", pkg.workbook_part, pkg.styles_part):
        return True
    return member == pkg.workbook_rels_part


class _Exact(NamedTuple):
    """Columns read exactly: each one's cells below the head (by 0-based index from A), and
    their error values."""

    columns: dict[int, list[CellValue]]
    errors: dict[Position, ExcelError]


def _exact_columns(
    path: Path,
    pkg: Package,
    part: str,
    name: str,
    opening: _Opening,
    columns: list[int],
    stop: threading.Event,
) -> _Exact | None:
    """The cells below the head of `columns` (0-based from A), as python-calamine reads them
    from a copy of the sheet that holds only those columns' cells, each moved to a column of
    its own from A (so that python-calamine builds no empty cells left of them), and their error
    values. None when a cell of the sheet is written without a plain `r` attribute (there is no
    telling which column it is in), python-calamine cannot read the copy, or `stop` is set."""
    with open_zip(path) as zf:
        xml = _only_columns(zf, part, opening.pfx, columns, stop)
        if xml is None:
            return None
        copy = _package_with(zf, pkg, part, xml, _used_strings(zf, pkg, xml, opening.pfx))
    found: dict[Position, ExcelError] = {}
    if not scan_region(xml, opening.pfx, found, FormulaFinds()):
        return None
    rows = _calamine_rows(copy, name)
    if rows is None:
        return None
    below = rows[HEAD_ROWS:]
    values: dict[int, list[CellValue]] = {
        col: [row[k] if k < len(row) else "" for row in below] for k, col in enumerate(columns)
    }
    errors = {(row, columns[col - 1] + 1): err for (row, col), err in found.items()}
    return _Exact(values, errors)


def _only_columns(
    zf: zipfile.ZipFile, part: str, pfx: bytes, columns: list[int], stop: threading.Event
) -> bytes | None:
    """The sheet's XML with only the cells of `columns` (0-based from A), the k-th of them
    moved to the k-th column, each row that holds one kept; None when a cell has no `r` as its
    first attribute (every writer puts it there) or `stop` is set. The XML streams by, a region
    of whole rows at a time, and a region's cells are counted by substring counts, which run
    at memory speed: only the cells kept are matched one by one."""
    p = re.escape(pfx)
    letters = [col_letters(c + 1).encode() for c in columns]
    cell = re.compile(
        b"<" + p + rb'c r="(' + b"|".join(letters) + rb')(\d+)"([^>]*?(?:/>|>.*?</' + p + rb"c>))",
        re.S,
    )
    moved = {
        letter: b"<" + pfx + b'c r="' + col_letters(k + 1).encode()
        for k, letter in enumerate(letters)
    }
    row_start, row_end = b"<" + pfx + b"row", b"</" + pfx + b"row>"
    c_start = b"<" + pfx + b"c"  # a cell's start, or another element's whose name starts so:
    others = [b"<" + pfx + b"co", b"<" + pfx + b"ch"]  # color, condense, charset (rich text)
    numbered = b"<" + pfx + b'c r="'
    data_start, data_end = b"<" + pfx + b"sheetData", b"</" + pfx + b"sheetData>"
    rows: list[bytes] = []

    def keep(region: bytes) -> bool:
        cells, numbered_cells = region.count(c_start), region.count(numbered)
        # the usual region: every `<c` a numbered cell, and the other elements not counted
        if cells != numbered_cells and cells - sum(map(region.count, others)) != numbered_cells:
            return False
        current = b""
        kept: list[bytes] = []
        for letter, number, rest in cell.findall(region):
            if number != current:
                if kept:
                    rows.append(b"".join(kept) + row_end)
                kept = [row_start + b' r="' + number + b'">']
                current = number
            kept.append(moved[letter] + number + b'"' + rest)
        if kept:
            rows.append(b"".join(kept) + row_end)
        return True

    buf = b""
    inside = False
    for chunk in iter_chunks(zf, part):
        if stop.is_set():
            return None
        buf += chunk
        if not inside:
            at = buf.find(data_start)
            if at < 0:
                continue
            inside, buf = True, buf[at:]
        end = buf.find(data_end)
        if end >= 0:
            buf = buf[:end]
            break
        cut = buf.rfind(row_start)
        if cut > 0:
            if not keep(buf[:cut]):
                return None
            buf = buf[cut:]
    if not keep(buf):
        return None
    ns = b"xmlns" + (b":" + pfx[:-1] if pfx else b"")
    return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>%s%s%s' % (
        b'<%sworksheet %s="%s"><%ssheetData>' % (pfx, ns, NS_MAIN.encode(), pfx),
        b"".join(rows),
        b"</%ssheetData></%sworksheet>" % (pfx, pfx),
    )


def _shared_strings_part(pkg: Package) -> str | None:
    return next((part for _, kind, part in pkg.rels if kind.endswith("/sharedStrings")), None)


def _used_strings(zf: zipfile.ZipFile, pkg: Package, xml: bytes, pfx: bytes) -> _Strings | None:
    """The shared strings the cells of `xml` use (`_strings_for`); None: all of them."""
    strings = _shared_strings_part(pkg)
    return _strings_for(zf, strings, xml, pfx) if strings in pkg.members else None


class _Strings(NamedTuple):
    """Shared strings for a copy of the package: the ones some rows use, numbered anew."""

    number: dict[int, bytes]  # a string's index in the workbook → its index here
    part: bytes  # the shared-strings part holding them, in that order
    cell: re.Pattern[bytes]  # a shared-string cell, up to its index (group 2)

    def renumbered(self, xml: bytes) -> bytes:
        """`xml` (rows among those the strings were gathered for) with the indices here."""
        return self.cell.sub(lambda m: m.group(1) + self.number[int(m.group(2))], xml)


def _strings_for(zf: zipfile.ZipFile, part: str, xml: bytes, pfx: bytes) -> _Strings | None:
    """The shared strings the cells of `xml` use, numbered 0, 1, 2 … in a part of their own:
    python-calamine and fastexcel read every string they are given, and a big workbook's
    strings are mostly its body's. None (use the part as it is) when a shared-string cell is
    not written as looked for, or the part holds too few strings."""
    p = re.escape(pfx)
    kinds = re.findall(b"<" + p + rb"""c\s[^>]*?\bt\s*=\s*["']s["']""", xml)
    cell = re.compile(
        b"(<" + p + rb"""c\s[^>]*?\bt\s*=\s*["']s["'][^>]*>\s*<""" + p + rb"v>\s*)(\d+)"
    )
    indices = [int(m.group(2)) for m in cell.finditer(xml)]
    if len(kinds) != len(indices):
        return None
    used = sorted(set(indices))
    found = _strings_at(zf, part, used)
    if found is None:
        return None
    root, items, close = found
    number = {old: str(new).encode() for new, old in enumerate(used)}
    return _Strings(number, root + b"".join(items) + close, cell)


def _strings_at(
    zf: zipfile.ZipFile, part: str, wanted: list[int]
) -> tuple[bytes, list[bytes], bytes] | None:
    """The shared-strings part's root start tag, its strings at the indices `wanted`
    (ascending), each as its `<si>` element, and its closing tag; None when it holds fewer.

    The part streams by a region of whole elements at a time: a region's elements are counted
    in one pass, and only a region holding a wanted string is walked element by element."""
    buf = b""
    root = close = start = b""
    item: re.Pattern[bytes] | None = None
    seen = 0  # the elements before `buf`
    out: list[bytes] = []
    want = iter(wanted)
    target = next(want, None)
    for chunk in iter_chunks(zf, part):
        buf += chunk
        if item is None:
            m = re.search(rb"<(?:([A-Za-z_][\w.-]*):)?sst[\s>][^>]*>", buf)
            if m is None:
                continue
            pfx = m.group(1) + b":" if m.group(1) else b""
            root, close = buf[: m.end()], b"</" + pfx + b"sst>"
            item, start = re.compile(b"<" + re.escape(pfx) + rb"si[\s>/]"), b"<" + pfx + b"si"
            buf = buf[m.end() :]
        if target is None:
            break
        last = buf.rfind(start)
        if last <= 0:
            continue
        region, buf = buf[:last], buf[last:]
        count = region.count(start)
        if target < seen + count:
            target = _take(region, item, seen, target, want, out)
        seen += count
    if target is not None and item is not None and buf:  # the last element, then the close
        end = buf.rfind(close)
        target = _take(buf[:end] if end >= 0 else buf, item, seen, target, want, out)
    return None if target is not None or item is None else (root, out, close)


def _take(
    region: bytes,
    item: re.Pattern[bytes],
    seen: int,
    target: int | None,
    want: Iterator[int],
    out: list[bytes],
) -> int | None:
    """Append to `out` the elements of `region` (whole ones, the first of them element number
    `seen`) at the wanted indices, `target` the first; return the next index past the region."""
    starts = [m.start() for m in item.finditer(region)] + [len(region)]
    while target is not None and target - seen < len(starts) - 1:
        k = target - seen
        out.append(region[starts[k] : starts[k + 1]])
        target = next(want, None)
    return target


def _opening(zf: zipfile.ZipFile, pkg: Package, part: str) -> _Opening | None:
    """The sheet's head and sample, and the shared strings the sample uses (see `_Opening`);
    None when no row lies below the head within the sample's reach, or a row has no number."""
    buf = b""
    searched = 0
    row_re: re.Pattern[bytes] | None = None
    pfx = b""
    head_end: int | None = None
    last_row = 0  # where the last row found starts
    for chunk in iter_chunks(zf, part):
        buf += chunk
        if row_re is None:
            found = sheet_prefix(buf)
            if found is None:
                continue
            pfx = found
            row_re = re.compile(b"<" + re.escape(pfx) + rb"row[\s>/]")
        for m in row_re.finditer(buf, searched):
            end = buf.find(b">", m.start())
            if end < 0:
                break  # the tag goes on in the next chunk
            number = _attrs(buf[m.start() : end]).get(b"r")
            if number is None or not number.isdigit():
                return None
            if head_end is None and int(number) > HEAD_ROWS:
                head_end = m.start()
            last_row = m.start()
            searched = end
        else:
            searched = max(searched, len(buf) - 64)
        if head_end is not None and len(buf) >= SAMPLE_BYTES:
            break
    if head_end is None:
        return None
    close = b"</" + pfx + b"sheetData></" + pfx + b"worksheet>"
    head, sample = buf[:head_end] + close, buf[: max(last_row, head_end)] + close
    table = _used_strings(zf, pkg, sample, pfx)
    return _Opening(head, sample, pfx, table)


class _Rows(NamedTuple):
    """The rows below the head as fastexcel reads them."""

    columns: dict[int, list[CellValue]]  # by 0-based index from A: python-calamine's values
    height: int
    errors: dict[Position, ExcelError]  # the error values fastexcel reported, with their codes
    unnamed: bool  # whether they may hold error values not among `errors`


def _body(
    path: Path, name: str, mixed: set[int], mixed_found: Callable[[Set[int]], None]
) -> _Rows | None:
    """The rows below the head as fastexcel reads them, the `mixed` columns left out. A column
    found to hold two kinds of cell is added to `mixed` and handed to `mixed_found` before the
    tab is parsed again. None when more columns are mixed than this module reads exactly, or a
    column holds cells it does not turn into python-calamine's values."""
    import fastexcel
    import pyarrow.compute as pc

    reloads = 0
    while True:
        try:
            infos, batch, errors = _below_head(str(path), name, mixed)
        except _MixedColumn as exc:
            found = None if exc.column is None else {exc.column}
        except fastexcel.FastExcelError:
            return None
        else:
            reported = _reported(errors, infos, batch)
            found = reported.unconverted
            if not found:
                break
        # columns mixed only below the sample, or holding a cell fastexcel could not convert:
        # read exactly, beside fastexcel's new parse
        if found is None or not _joins(found, mixed):
            return None
        if reloads == MAX_RELOADS:
            return None
        reloads += 1
        mixed |= found
        mixed_found(found)
    unnamed = reported.unnamed
    columns: dict[int, list[CellValue]] = {}
    for info, array in zip(infos, batch.columns, strict=True):
        values = _values(array)
        if values is None:
            return None
        if not unnamed and _is_text(array):
            # an error code calamine does not know would read as its text: the XML tells
            unnamed = bool(pc.any(pc.starts_with(array, "#")).as_py())
        columns[info.absolute_index] = values
    return _Rows(columns, batch.num_rows, reported.errors, unnamed)


class _Reported(NamedTuple):
    """What fastexcel reported of the cells below the head it left empty."""

    errors: dict[Position, ExcelError]  # the error values, with the code each one's kind names
    unnamed: bool  # whether some kind names no code here (then the XML tells)
    unconverted: set[int] | None  # the columns (0-based from A) of the cells it could not
    # convert (a text that reads as '' or "N/A", which its inference took for an empty cell,
    # among numbers or dates) or turned into NaN ("nan"): their values are lost; None when it
    # did not say which column


def _reported(errors: Any, infos: Sequence[Any], batch: Any) -> _Reported:
    """fastexcel's reports (`errors`, None for none) on the columns `infos` (`batch` their
    Arrow columns), sorted out. A number column holding NaN counts as one with a cell it could
    not convert: its inference takes a text "nan", "NaN", "-nan" or "-NaN" (among others) for
    an empty cell, and the conversion then reads it as a float NaN, which no number cell holds,
    without a word."""
    import pyarrow as pa
    import pyarrow.compute as pc

    absolute = {info.index: info.absolute_index for info in infos}
    found: dict[Position, ExcelError] = {}
    unnamed = False
    unconverted: set[int] | None = set()
    for error in errors.errors if errors is not None else ():
        row, col = error.offset_position
        said = _ERROR_DETAIL.search(error.detail)
        if said is None:
            if unconverted is not None and col in absolute:
                unconverted.add(absolute[col])
            else:
                unconverted = None
            continue
        code = _ERROR_CODES.get(said.group(1))
        if code is None or col not in absolute:
            unnamed = True
            continue
        found[(HEAD_ROWS + row + 1, absolute[col] + 1)] = code
    if unconverted is not None:
        for info, array in zip(infos, batch.columns, strict=True):
            if pa.types.is_floating(array.type) and pc.any(pc.is_nan(array)).as_py():
                unconverted.add(info.absolute_index)
    return _Reported(found, unnamed, unconverted)


def _is_text(array: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_string(array.type) or pa.types.is_large_string(array.type))


def _values(array: Any) -> list[CellValue] | None:
    """An Arrow column as python-calamine's cell values, '' where empty."""
    import pyarrow as pa

    kind = array.type
    if pa.types.is_null(kind):
        return [""] * len(array)
    if _is_text(array):
        return _texts(array.fill_null(""))
    empty = array.is_null().to_numpy(zero_copy_only=False) if array.null_count else None
    if pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        out = np.asarray(array.to_pylist(), dtype=object)
    elif pa.types.is_timestamp(kind) and kind.unit == "ms" and kind.tz is None:
        ms = array.fill_null(_MS_1900 + _DAY_MS).cast(pa.int64()).to_numpy()
        if ((ms == _MS_1900) | (ms > _MS_LAST)).any():
            return None  # serial 1 or just below it (a time), or past what Python dates hold
        out = _moments(ms)
    elif pa.types.is_duration(kind) and kind.unit == "ms":
        ms = array.fill_null(0).cast(pa.int64()).to_numpy()
        out = ms.astype("timedelta64[ms]").astype(object)
    else:
        return None
    if empty is not None:
        out[empty] = ""
    return out.tolist()


_SAMPLE = 4096
_ERROR_DETAIL = re.compile(r"got 'Error\((\w+)\)'?$")
"""How fastexcel reports an error value (#N/A …) in a cell, as opposed to a failed conversion:
with calamine's name of its kind."""
_ERROR_CODES = {kind: ExcelError(code) for kind, code in CALAMINE_CODES.items()}
"""The error value of each kind calamine reads (the only code it reads as that kind)."""


def _texts(array: Any) -> list[CellValue]:
    """A text column as str objects, one object per distinct text when texts repeat a lot (a
    status, a rep, a method): fewer objects to build, and every later pass that hashes the
    column finds each hash already computed."""
    import pyarrow.compute as pc

    sample = array.slice(0, _SAMPLE)
    if len(array) <= _SAMPLE or pc.count_distinct(sample).as_py() * 4 > len(sample):
        return array.to_pylist()
    encoded = array.dictionary_encode()
    texts = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
    return texts[encoded.indices.to_numpy()].tolist()


def _moments(ms: np.ndarray) -> np.ndarray:
    """Milliseconds since 1970 as python-calamine gives a date cell: a time of day below serial
    1, a date for a whole day, else a datetime."""
    out = np.empty(len(ms), dtype=object)
    clock = ms < _MS_1900
    whole = ~clock & (ms % _DAY_MS == 0)
    rest = ~clock & ~whole
    out[whole] = ms[whole].astype("datetime64[ms]").astype("datetime64[D]").astype(object)
    out[rest] = ms[rest].astype("datetime64[ms]").astype(object)
    if clock.any():
        out[clock] = [_clock(int(m)) for m in ms[clock].tolist()]
    return out


def _clock(ms: int) -> time:
    return (datetime.min + timedelta(milliseconds=ms % _DAY_MS)).time()
