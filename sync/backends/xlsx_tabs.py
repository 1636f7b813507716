"""Owned tabs: a tab salesync owns is regenerated whole, its sheet XML written row by row."""

from __future__ import annotations

from collections.abc import Iterator

from sync.backends.xlsx_bulk import MAX_ROWS
from sync.backends.xlsx_cells import cell_xml, inline, render_value
from sync.backends.xlsx_package import CHUNK, NS_MAIN, NS_REL, _ref, col_letters
from sync.backends.xlsx_styles import StyleBook
from sync.core.errors import SalesyncError
from sync.core.model import TabWrite, WritableValue

_INVALID_TAB_CHARS = set("[]:*?/\\")


def tab_xml(tab: TabWrite, styles: StyleBook, date1904: bool) -> Iterator[bytes]:
    ncols = max((len(r) for r in tab.rows), default=0)
    nrows = len(tab.rows)
    if nrows > MAX_ROWS:  # the core lists no more (the Issues tab says what it left out)
        raise SalesyncError(
            f"tab {tab.sheet!r} would have {nrows:,} rows, more than a sheet holds ({MAX_ROWS:,})"
        )
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
    heads = [f'<c r="{col_letters(c)}' for c in range(1, ncols + 1)]
    tails: dict[tuple[object, ...], str | None] = {}
    texts: dict[str, str] = {}  # text → what follows `<c r="A1` (codes, kinds repeat)

    def text_tail(value: str) -> str:
        t = f'" t="inlineStr">{inline(value)}</c>'
        if len(texts) < 1 << 16:
            texts[value] = t
        return t

    def tail(base: int | None, value: WritableValue) -> str | None:
        """What follows `<c r="A1` (None: no cell), as `cell_xml` writes it."""
        rendered = render_value(value, date1904)
        if rendered.blank:
            return None
        style = base
        if rendered.date_kind is not None:
            style = styles.date_xf(base, rendered.date_kind)
        xml = cell_xml("", "\x00", rendered, style)
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
            if size >= CHUNK // 4:
                yield "".join(rows_xml).encode()
                rows_xml.clear()
                size = 0
    if rows_xml:
        yield "".join(rows_xml).encode()
    yield b"</sheetData>"
    span = filtered_cells(tab)
    if span is not None:
        yield f'<autoFilter ref="{_ref(*span[0])}:{_ref(*span[1])}"/>'.encode()
    yield (
        b'<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
        b'footer="0.3"/></worksheet>'
    )


FilterCells = tuple[tuple[int, int], tuple[int, int]]
"""A filter's first and last cells, (row, column) each."""


def filtered_cells(tab: TabWrite) -> FilterCells | None:
    """The first and last cells (row, column) of an owned tab's filter: from its last header
    row to its last row, over every column (None for a tab without a header or columns). A
    table of thousands of rows (the Issues tab) is read by filtering it: each column's header
    gets the spreadsheet's filter button."""
    ncols = max((len(r) for r in tab.rows), default=0)
    header = min(tab.header_rows, len(tab.rows))  # no longer than a sheet: `tab_xml` says so
    if not header or not ncols:
        return None
    return (header, 1), (len(tab.rows), ncols)


def check_tab_name(name: str) -> None:
    if (
        not name
        or len(name) > 31
        or set(name) & _INVALID_TAB_CHARS
        or name[0] == "'"
        or (name[-1] == "'")
    ):
        raise SalesyncError(f"{name!r} is not a valid tab name (1-31 characters, no []:*?/\\)")
