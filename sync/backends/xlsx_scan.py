"""Finding what calamine hides in a worksheet's XML: which cells hold error values (#N/A …)
and which hold formulas.

One streaming pass over the inflated XML, a region of whole cells at a time: most regions hold
neither, and a substring test (memchr-fast) tells so without a regex.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator
from functools import lru_cache
from xml.etree import ElementTree as ET

import numpy as np

from sync.backends.xlsx_package import (
    NS_MAIN,
    _attrs,
    iter_chunks,
    parse_ref,
    sheet_prefix,
)
from sync.core.model import ExcelError, FormulaCells, Position


@lru_cache(maxsize=8)
def _scan_res(pfx: bytes) -> tuple[re.Pattern[bytes], re.Pattern[bytes], re.Pattern[bytes]]:
    p = re.escape(pfx)
    formula = re.compile(b"<" + p + rb"f[\s>/]")
    # an attribute t="e", the whitespace before it checked apart: a pattern that starts with a
    # letter is searched for by that letter, four times faster than one that starts with \s
    error = re.compile(rb"""t\s*=\s*["']e["']""")
    # a formula as every writer puts it: first in a cell whose reference comes first (the
    # attributes taken possessively: a cell without a formula is given up at once)
    cell = b"<" + p + rb'c r="([A-Z]{1,3}\d+)"[^>]*+(?<!/)>'
    formula_cell = re.compile(cell + b"<" + p + rb"f[\s>/]")
    return formula, error, formula_cell


class FormulaFinds:
    """The formula cells a scan finds: one position at a time, or a region's references in
    bulk (`add_refs`: a column of formulas puts thousands in a region), read a column of
    references at a time rather than a Python tuple each."""

    def __init__(self) -> None:
        self._one: list[Position] = []
        self._rows: list[np.ndarray] = []
        self._cols: list[np.ndarray] = []

    def add(self, position: Position) -> None:
        self._one.append(position)

    def add_refs(self, refs: list[bytes]) -> None:
        """Cells by their references (`AB12`: letters, then digits)."""
        found = _positions(refs)
        if found is None:  # a row number longer than any sheet's
            for ref in refs:
                pos = parse_ref(ref)
                if pos is not None:
                    self._one.append(pos)
            return
        self._rows.append(found[0])
        self._cols.append(found[1])

    def cells(self) -> FormulaCells:
        # a reference past any sheet's end is no cell a write could reach: one past what an
        # int64 holds is left out (an array of positions could not hold it)
        one = [pos for pos in self._one if max(pos) < _BEYOND]
        if one:
            flat = np.array(one, dtype=np.int64).reshape(-1, 2)
            self._rows.append(flat[:, 0])
            self._cols.append(flat[:, 1])
            self._one = []
        if not self._rows:
            return FormulaCells()
        return FormulaCells.from_arrays(np.concatenate(self._rows), np.concatenate(self._cols))


_REF_BYTES = 10
"""The longest reference a sheet may hold: XFD1048576."""
_BEYOND = 1 << 63


def _positions(refs: list[bytes]) -> tuple[np.ndarray, np.ndarray] | None:
    """The rows and columns of references `AB12` (letters, then digits), read side by side as
    the rows of a byte matrix; None when one is longer than `_REF_BYTES`."""
    if not refs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    chars = np.array(refs)
    width = chars.dtype.itemsize
    if width > _REF_BYTES:
        return None
    codes = chars.view(np.uint8).reshape(len(refs), width).astype(np.int64)  # 0 pads
    letter, digit = (codes >= 65) & (codes <= 90), (codes >= 48) & (codes <= 57)
    rows = np.zeros(len(refs), np.int64)
    cols = np.zeros(len(refs), np.int64)
    for j in range(width):
        cols = np.where(letter[:, j], cols * 26 + codes[:, j] - 64, cols)
        rows = np.where(digit[:, j], rows * 10 + codes[:, j] - 48, rows)
    return rows, cols


def scan_region(
    region: bytes,
    pfx: bytes,
    errors: dict[Position, ExcelError],
    formulas: FormulaFinds,
    *,
    want_errors: bool = True,
    want_formulas: bool = True,
) -> bool:
    """Find error cells (unless not `want_errors`) and formula cells (unless not
    `want_formulas`) in `region` (whole cells only). Returns False when a cell has no `r`
    attribute (the caller then falls back to a full parse). An error cell without a code
    (`<c t="e"/>`, an empty `<v>`) is no error value: calamine reads it as an empty cell."""
    formula_re, error_re, formula_cell_re = _scan_res(pfx)
    # Most regions hold neither: a substring test and a search by a literal spare the passes.
    has_formula = want_formulas and b"<" + pfx + b"f" in region
    has_error = want_errors and error_re.search(region) is not None
    if not has_formula and not has_error:
        return True
    code_re = _code_res(pfx)[1]  # an error cell's value
    cell_open, bare_open = b"<" + pfx + b"c ", b"<" + pfx + b"c>"
    cell_close = b"</" + pfx + b"c>"

    def cell_start(before: int) -> int:
        # The last cell start before `before`: looked for close by first, as a formula or an
        # error value sits right after its cell's start tag. Searching back to the region's
        # start for each match (a `<c>` without attributes is looked for too, and is nowhere)
        # made a region of thousands of formulas quadratic.
        window = 256
        while True:
            lo = max(before - window, 0)
            found = max(region.rfind(cell_open, lo, before), region.rfind(bare_open, lo, before))
            if found >= 0 or lo == 0:
                return found
            window *= 16

    if has_formula:
        # A column of formulas puts thousands in a region: when each one is the first thing in
        # its cell, whose reference comes first, one pass reads every reference, without a
        # look around each formula.
        refs = formula_cell_re.findall(region)
        if len(refs) == len(formula_re.findall(region)):
            formulas.add_refs(refs)
            has_formula = False
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
    for m in error_re.finditer(region) if has_error else ():
        if not region[m.start() - 1 : m.start()].isspace():
            continue  # not an attribute named t
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
        closed = region[tag_end - 1 : tag_end] == b"/"  # `<c … t="e"/>`: no value of its own
        body = region[tag_end + 1 : end] if end >= 0 and not closed else b""
        vm = code_re.search(body)
        if vm is None:
            continue  # no code: calamine reads the cell as empty, and so does every route
        errors[pos] = ExcelError(vm.group(2).decode("utf-8", "replace"))
    return True


def _scan_sheet_full(
    zf: zipfile.ZipFile, part: str
) -> tuple[dict[Position, ExcelError], FormulaCells]:
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
                v = el.find(v_tag) if el.get("t") == "e" else None
                if v is not None and v.text:
                    errors[(row, col)] = ExcelError(v.text)
                el.clear()
            elif el.tag == row_tag:
                el.clear()
    return errors, FormulaCells.of(formulas)


def scan_sheet(
    zf: zipfile.ZipFile, part: str, *, want_errors: bool = True, want_formulas: bool = True
) -> tuple[dict[Position, ExcelError], FormulaCells]:
    """The sheet's error values (unless not `want_errors`: none) and formula cells (unless not
    `want_formulas`: none)."""
    errors, formulas = _scan_sheet(zf, part, want_errors, want_formulas)
    return errors if want_errors else {}, formulas if want_formulas else FormulaCells()


def _scan_sheet(
    zf: zipfile.ZipFile, part: str, want_errors: bool, want_formulas: bool
) -> tuple[dict[Position, ExcelError], FormulaCells]:
    """The sheet's error cells and formula cells (each looked for only when wanted).

    Most of a big sheet's chunks hold neither: one regex search tells so, and such a chunk
    is passed over without being copied into a region; only the cell it ends inside is kept
    for the next."""
    errors: dict[Position, ExcelError] = {}
    formulas = FormulaFinds()
    buf = b""
    pfx: bytes | None = None
    marked: Callable[[bytes], bool] = bool
    cell_open = b""
    held = False  # whether `buf` (not yet scanned) holds a marker
    chunks = iter_chunks(zf, part)
    for chunk in chunks:
        if pfx is None:
            buf += chunk
            pfx = sheet_prefix(buf)
            if pfx is None:
                continue
            marked = _marker(pfx, want_errors, want_formulas)
            cell_open = b"<" + pfx + b"c "
            chunk, buf = buf, b""
        joint = len(pfx) + 8  # a marker cut in two by the chunk's start
        if not held and not marked(buf[-joint:] + chunk[:joint]) and not marked(chunk):
            cut = chunk.rfind(cell_open)
            buf = chunk[cut:] if cut >= 0 else buf + chunk
            continue
        buf += chunk
        cut = buf.rfind(cell_open)
        if cut <= 0:
            held = True
            continue
        if not scan_region(
            buf[:cut], pfx, errors, formulas, want_errors=want_errors, want_formulas=want_formulas
        ):
            return _scan_sheet_full(zf, part)
        buf = buf[cut:]
        held = marked(buf)
    if (
        buf
        and pfx is not None
        and not scan_region(
            buf, pfx, errors, formulas, want_errors=want_errors, want_formulas=want_formulas
        )
    ):
        return _scan_sheet_full(zf, part)
    return errors, formulas.cells()


def _marker(pfx: bytes, want_errors: bool, want_formulas: bool) -> Callable[[bytes], bool]:
    """Whether some XML may hold a formula (when wanted) or an error value (when wanted)."""
    formula_re, error_re, _ = _scan_res(pfx)
    formula, error = formula_re.search, error_re.search
    if not want_errors:
        return lambda data: formula(data) is not None
    if not want_formulas:
        return lambda data: error(data) is not None
    return lambda data: formula(data) is not None or error(data) is not None


CALAMINE_CODES = {
    "Div0": "#DIV/0!",
    "NA": "#N/A",
    "Name": "#NAME?",
    "Null": "#NULL!",
    "Num": "#NUM!",
    "Ref": "#REF!",
    "Value": "#VALUE!",
}
"""The error codes calamine reads, by its name of their kind (one code each). It refuses a
workbook holding any other (#SPILL!, #CALC!, #BUSY!, #GETTING_DATA …, which newer Excel
writes) as a whole."""
KNOWN_CODES = frozenset(CALAMINE_CODES.values())


def refused(errors: dict[Position, ExcelError]) -> bool:
    """Whether some of a sheet's error values have a code calamine does not read: it refuses
    the sheet for them."""
    return any(error.code not in KNOWN_CODES for error in errors.values())


def with_known_codes(zf: zipfile.ZipFile, part: str) -> Iterator[bytes]:
    """The sheet's XML, a region of whole cells at a time, with every error code calamine does
    not read replaced by #N/A: its cell stays an error cell, for a reader to read the sheet;
    the code itself is taken from the sheet as it is (`scan_sheet`)."""
    buf = b""
    pfx: bytes | None = None
    for chunk in iter_chunks(zf, part):
        buf += chunk
        if pfx is None:
            pfx = sheet_prefix(buf)
            if pfx is None:
                continue
        cut = buf.rfind(b"<" + pfx + b"c ")
        if cut > 0:
            yield _known_codes(buf[:cut], pfx)
            buf = buf[cut:]
    yield buf if pfx is None else _known_codes(buf, pfx)


def _known_codes(region: bytes, pfx: bytes) -> bytes:
    if _scan_res(pfx)[1].search(region) is None:
        return region  # no error cell (most regions): passed on as it is
    cell, value = _code_res(pfx)

    def known(found: re.Match[bytes]) -> bytes:
        code = found.group(2).decode("utf-8", "replace")
        return found.group(0) if code in KNOWN_CODES else found.group(1) + b"#N/A" + found.group(3)

    return cell.sub(lambda found: value.sub(known, found.group(0)), region)


@lru_cache(maxsize=8)
def _code_res(pfx: bytes) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    p = re.escape(pfx)
    # an error cell (t="e" among its attributes; not closed at once) and its value, the code
    cell = re.compile(
        b"<" + p + rb"""c\s[^>]*?(?<=\s)t\s*=\s*["']e["'][^>]*(?<!/)>.*?</""" + p + b"c>",
        re.S,
    )
    value = re.compile(b"(<" + p + b"v>)([^<]+)(</" + p + b"v>)")
    return cell, value
