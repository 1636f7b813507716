"""The writer's fast paths write exactly the bytes of its general, cell-by-cell path.

`patch_sheet` copies the usual row (new cells after its last one) as one slice and renders a
new cell once per (column, value); `tab_xml` renders owned tabs without a lookup per cell.
Here both run against slow references built from the general pieces (`_patch_row` for every
written row, `render_value` + `cell_xml` for every cell) on generated sheets: rows with and
without `spans`, a namespace prefix, cells written before, between and after existing ones,
existing cells overwritten, rows and cells that do not exist, dates that add styles, and the
sheet fed in chunks that cut rows and cells anywhere.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from sync.backends import xlsx_cells, xlsx_package, xlsx_splice, xlsx_styles, xlsx_tabs
from sync.backends.xlsx_bulk import MAX_ROWS, RowWrites
from sync.core.model import CellWrite, TabWrite, WritableValue

STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="0.00%"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs></styleSheet>"
)
VALUES: list[WritableValue] = [
    "达标",
    "超时",
    "a & b <c>",
    "_x0041_ literal",
    "",
    None,
    0,
    7,
    -3,
    True,
    False,
    2.5,
    0.1,
    float("nan"),
    datetime(2026, 3, 4, 9, 30),
    date(2026, 3, 5),
    # the same instant in two zones: equal, yet each is written as its own wall-clock time
    datetime(2026, 3, 4, 9, 30, tzinfo=timezone(timedelta(hours=8))),
    datetime(2026, 3, 4, 1, 30, tzinfo=UTC),
]


def _sheet(rng: random.Random, pfx: str, spans: bool, rows: int, base: int = 0) -> bytes:
    """Rows of cells in columns `base + 1…6`: inline strings (some rich text), numbers,
    formulas, empty cells, a few without `r` (right after the one before) or bare `<c>`."""
    p = pfx + ":" if pfx else ""
    ns = f'xmlns{":" + pfx if pfx else ""}="{xlsx_package.NS_MAIN}"'
    out = [
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{p}worksheet {ns}>'
        f'<{p}dimension ref="A1:F{rows}"/><{p}cols><{p}col min="2" max="3" width="9" '
        f'style="1" customWidth="1"/></{p}cols><{p}sheetData>'
    ]
    for r in range(1, rows + 1):
        if rng.random() < 0.15:
            continue  # a row that does not exist
        span = f' spans="{rng.randint(1, 2)}:{rng.randint(3, 6)}"' if spans else ""
        if rng.random() < 0.05:
            out.append(f'<{p}row r="{r}"{span}/>')
            continue
        cells = []
        prev = 0
        for c in range(base + 1, base + 7):
            if rng.random() < 0.35:
                continue
            ref = f"{xlsx_package.col_letters(c)}{r}"
            kind = rng.random()
            if c == prev + 1 and rng.random() < 0.04:  # its column is implied
                cells.append(rng.choice((f"<{p}c><{p}v>{c}</{p}v></{p}c>", f'<{p}c s="1"/>')))
            elif kind < 0.05:
                run = f'<{p}r><{p}rPr><{p}color rgb="FFFF0000"/></{p}rPr><{p}t>v{r}</{p}t></{p}r>'
                cells.append(f'<{p}c r="{ref}" t="inlineStr"><{p}is>{run}</{p}is></{p}c>')
            elif kind < 0.4:
                cells.append(
                    f'<{p}c r="{ref}" t="inlineStr"><{p}is><{p}t>v{r}{c}</{p}t></{p}is></{p}c>'
                )
            elif kind < 0.7:
                cells.append(f'<{p}c r="{ref}" s="{rng.randint(0, 2)}"><{p}v>{r * c}</{p}v></{p}c>')
            elif kind < 0.8:
                cells.append(f'<{p}c r="{ref}" s="1"/>')
            else:
                cells.append(f'<{p}c r="{ref}"><{p}f>A{r}+1</{p}f><{p}v>{r}</{p}v></{p}c>')
            prev = c
        out.append(f'<{p}row r="{r}"{span}>{"".join(cells)}</{p}row>')
    out.append(f'</{p}sheetData><{p}pageMargins left="0.7"/></{p}worksheet>')
    return "".join(out).encode()


def _writes(rng: random.Random, rows: int, base: int = 0) -> dict[int, dict[int, CellWrite]]:
    grouped: dict[int, dict[int, CellWrite]] = {}
    for r in range(1, rows + 8):
        if rng.random() < 0.3:
            continue
        for c in rng.sample(range(base + 1, base + 10), rng.randint(1, 4)):
            like = (1, 2) if rng.random() < 0.03 else None
            grouped.setdefault(r, {})[c] = CellWrite(r, c, rng.choice(VALUES), style_like=like)
    return grouped


class _SlowEdits(xlsx_cells.SheetEdits):
    """New cells rendered one by one, as before the fast paths: no cache."""

    def new_cell(self, row: bytes, write: CellWrite) -> bytes | None:
        rendered = xlsx_cells.render_value(write.value, self.date1904)
        style = self.style_for(write, None, False, rendered)
        xml = xlsx_cells.cell_xml(
            self.pfx.decode(), xlsx_package._ref(int(row), write.col), rendered, style
        )
        return xml.encode() if xml else None


def _reference_patch(xml: bytes, edits: xlsx_cells.SheetEdits) -> bytes:
    """Every written row through `_patch_row` / `_new_row`, the whole sheet in one buffer."""
    pfx_m = xlsx_package.ROOT_PREFIX_RE.search(xml)
    assert pfx_m
    pfx = (pfx_m.group(1) + b":") if pfx_m.group(1) else b""
    edits.pfx = pfx
    res = xlsx_splice._patch_res(pfx)
    sd = res["sheet_data"].search(xml)
    assert sd
    head = xml[: sd.start()]
    edits.col_styles = xlsx_splice._col_styles(head, pfx)
    out = [xlsx_splice._grow_dimension(head, pfx, edits), sd.group(0)]
    pending = sorted(edits.writes)
    end_sd = xml.index(b"</" + pfx + b"sheetData>")
    pos = sd.end()
    for m in res["row"].finditer(xml, sd.end(), end_sd):
        if m.start() < pos:
            continue
        row = int(re.search(rb'r="(\d+)"', m.group(0)).group(1))  # type: ignore[union-attr]
        while pending and pending[0] < row:
            out += [
                xml[pos : m.start()],
                xlsx_splice._new_row(pfx, pending[0], edits.writes[pending[0]], edits),
            ]
            pos = m.start()
            pending.pop(0)
        if pending and pending[0] == row:
            if m.group(0).endswith(b"/>"):
                end = m.end()
            else:
                end = xml.index(b"</" + pfx + b"row>", m.end()) + len(pfx) + 6
            out += [
                xml[pos : m.start()],
                xlsx_splice._patch_row(pfx, xml[m.start() : end], row, edits.writes[row], edits),
            ]
            pos = end
            pending.pop(0)
    out.append(xml[pos:end_sd])
    out += [xlsx_splice._new_row(pfx, r, edits.writes[r], edits) for r in pending]
    out.append(xml[end_sd:])
    return b"".join(out)


@pytest.mark.parametrize("seed", range(16))
def test_patch_sheet_matches_the_general_path(seed: int) -> None:
    rng = random.Random(seed)
    pfx = "x" if seed % 3 == 0 else ""
    rows = rng.randint(5, 120)
    base = 698 if seed % 4 == 3 else 0  # columns from ZW on: two letters, then three
    xml = _sheet(rng, pfx, spans=seed % 2 == 0, rows=rows, base=base)
    writes = _writes(rng, rows, base)
    # formulas in the written cells are plain ones (no shared ones), so nothing refuses
    grouped = RowWrites([w for cols in writes.values() for w in cols.values()], "t")
    step = rng.choice((7, 61, 400, 1 << 20))
    assert_splices_as_the_general_path(xml, grouped, step, like_styles={(1, 2): 1})


def assert_splices_as_the_general_path(
    xml: bytes, writes: RowWrites, step: int, like_styles: dict[tuple[int, int], int] | None = None
) -> None:
    """`patch_sheet` over `xml` fed `step` bytes at a time writes what `_reference_patch`
    writes, and both add the same styles and mark removed formulas alike."""
    fast_styles, ref_styles = xlsx_styles.StyleBook(STYLES), xlsx_styles.StyleBook(STYLES)
    like = like_styles or {}
    fast = xlsx_cells.SheetEdits("t", writes, fast_styles, False, like_styles=dict(like))
    ref = _SlowEdits("t", writes, ref_styles, False, like_styles=dict(like))
    chunks = [xml[i : i + step] for i in range(0, len(xml), step)]
    out: list[bytes] = []
    xlsx_splice.patch_sheet(iter(chunks), out.append, fast)
    assert b"".join(out) == _reference_patch(xml, ref)
    assert fast_styles.render() == ref_styles.render()
    assert fast.formulas_removed == ref.formulas_removed


def _reference_tab(tab: TabWrite, styles: xlsx_styles.StyleBook) -> bytes:
    rows = []
    header_rows = max(0, min(tab.header_rows, MAX_ROWS - 1))
    bold = styles.bold_xf(0) if header_rows and tab.rows else None
    for r, values in enumerate(tab.rows, start=1):
        base = bold if r <= header_rows else None
        cells = []
        for c, value in enumerate(values, start=1):
            rendered = xlsx_cells.render_value(value, False)
            if rendered.blank:
                continue
            style = base
            if rendered.date_kind is not None:
                style = styles.date_xf(base, rendered.date_kind)
            cells.append(xlsx_cells.cell_xml("", xlsx_package._ref(r, c), rendered, style))
        if cells:
            rows.append(f'<row r="{r}">{"".join(c for c in cells if c)}</row>')
    return "".join(rows).encode()


def test_tab_xml_matches_the_general_path() -> None:
    rng = random.Random(7)
    rows: list[tuple[WritableValue, ...]] = [("级别", "代码", "行", "说明", "when")]
    rows += [tuple(rng.choice(VALUES) for _ in range(5)) for _ in range(3000)]
    rows += [(None, None), (), ("tail",)]
    tab = TabWrite("问题清单", tuple(rows), column_widths=(10, 0, 8))
    fast_styles, ref_styles = xlsx_styles.StyleBook(STYLES), xlsx_styles.StyleBook(STYLES)
    xml = b"".join(xlsx_tabs.tab_xml(tab, fast_styles, False))
    body = xml[xml.index(b"<sheetData>") + 11 : xml.index(b"</sheetData>")]
    assert body == _reference_tab(tab, ref_styles)
    assert fast_styles.render() == ref_styles.render()


def _row(r: int, *refs: str) -> str:
    return f'<row r="{r}">' + "".join(f'<c r="{ref}"><v>1</v></c>' for ref in refs) + "</row>"


# Rows whose cells a write's own reference finds (`_Rows._find_cells`), and rows it must leave
# to the scan of every cell: each row gets a write in a gap, one onto a cell, or both.
FOUND_OR_NOT = {
    # found: onto the last cell, into a gap, onto a middle cell, in a gap of up to 8 columns,
    # in a gap between cells in order with others out of order after them
    1: (("A1", "B1", "D1"), (4,)),
    2: (("A2", "B2", "D2"), (3, 5)),
    3: (("A3", "B3", "D3"), (2, 3)),
    4: (("A4", "J4"), (2,)),
    7: (("A7", "D7", "B7", "E7"), (3,)),
    # not found so: a gap wider than 8 columns, a gap with a later column before it, a cell
    # numbered for another row, a last cell written `D05`
    5: (("A5", "K5"), (2,)),
    6: (("A6", "F6", "E6", "G6"), (4,)),
    8: (("A8", "C10", "E8"), (2,)),
    9: (("A9", "B9", "D09"), (4,)),
    # a cell whose `r` is not first: `_patch` writes every cell of the row with its reference
    10: (("A10",), (2,)),
}


def test_cells_found_by_their_references_splice_as_the_general_path() -> None:
    rows = [_row(r, *refs) for r, (refs, _) in sorted(FOUND_OR_NOT.items())]
    rows[-1] = rows[-1].replace("</row>", '<c s="0" r="C10"><v>2</v></c></row>')
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{xlsx_package.NS_MAIN}"><sheetData>{"".join(rows)}</sheetData>'
        "</worksheet>"
    ).encode()
    writes = RowWrites(
        [CellWrite(r, c, f"w{r}{c}") for r, (_, cols) in FOUND_OR_NOT.items() for c in cols], "t"
    )
    found = []
    original = xlsx_splice._Rows._find_cells

    def spy(self: xlsx_splice._Rows, rows: list[bytes], ks: list[int]) -> list[object]:
        settled = original(self, rows, ks)
        found.extend(self.pending[k] for k, cells in zip(ks, settled, strict=True) if cells)
        return settled

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(xlsx_splice._Rows, "_find_cells", spy)
        assert_splices_as_the_general_path(xml, writes, 1 << 20)
    assert found == [1, 2, 3, 4, 7]
