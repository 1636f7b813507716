"""The scan of a worksheet's XML for formulas and error values (`xlsx_scan.scan_sheet`), fed in
chunks of every size, finds what a full XML parse (`_scan_sheet_full`, ElementTree) finds: long
stretches without either are passed over a chunk at a time, so a formula or an error value
right after one, or cut in two by a chunk's edge, is the case to get right."""

from __future__ import annotations

import random
import zipfile
from collections.abc import Set as AbstractSet
from pathlib import Path

import pytest

from sync.backends import xlsx_package, xlsx_scan
from sync.backends.xlsx_package import NS_MAIN
from sync.core.model import ExcelError


def _sheet(rng: random.Random, pfx: str, rows: int, unreferenced: bool) -> bytes:
    """Rows of text and numbers with, now and then, a formula (plain, shared, array), an error
    value, or both; long runs of rows with neither; with `unreferenced`, a cell without `r`."""
    p = pfx + ":" if pfx else ""
    ns = f'xmlns{":" + pfx if pfx else ""}="{NS_MAIN}"'
    out = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{p}worksheet {ns}>']
    out.append(f"<{p}sheetData>")
    quiet = 0
    for r in range(1, rows + 1):
        cells = []
        for c in range(1, 6):
            ref = f"{xlsx_package.col_letters(c)}{r}"
            roll = rng.random() if quiet == 0 else 1.0
            if roll < 0.02:
                cells.append(f'<{p}c r="{ref}"><{p}f>A{r}*2</{p}f><{p}v>{r}</{p}v></{p}c>')
            elif roll < 0.03:
                cells.append(f'<{p}c r="{ref}"><{p}f t="shared" si="0"/><{p}v>1</{p}v></{p}c>')
            elif roll < 0.04:
                cells.append(f'<{p}c r="{ref}" t="e"><{p}v>#N/A</{p}v></{p}c>')
            elif roll < 0.045:
                cells.append(f"<{p}c r='{ref}' t='e'><{p}f>1/0</{p}f><{p}v>#DIV/0!</{p}v></{p}c>")
            elif roll < 0.05:
                cells.append(f'<{p}c r="{ref}" t="e"/>')
            elif roll < 0.5:
                text = 'f e <f> "e"'.replace("<", "&lt;").replace('"', "&quot;")
                cells.append(
                    f'<{p}c r="{ref}" t="inlineStr"><{p}is><{p}t>{text}</{p}t></{p}is></{p}c>'
                )
            else:
                cells.append(f'<{p}c r="{ref}" s="1"><{p}v>{r * c}</{p}v></{p}c>')
        if unreferenced and r == rows // 2:
            cells.append(f"<{p}c><{p}f>B{r}</{p}f><{p}v>0</{p}v></{p}c>")
        quiet = rng.randint(20, 200) if quiet == 0 and rng.random() < 0.1 else max(0, quiet - 1)
        out.append(f'<{p}row r="{r}">{"".join(cells)}</{p}row>')
    out.append(f"</{p}sheetData></{p}worksheet>")
    return "".join(out).encode()


Found = tuple[dict[tuple[int, int], ExcelError], AbstractSet[tuple[int, int]]]


def scanned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xml: bytes, chunk: int, **wanted: bool
) -> tuple[Found, Found]:
    """`xml` as a zipped sheet, scanned in chunks of `chunk` bytes (`wanted`: scan_sheet's
    want_errors, want_formulas), and as the full ElementTree parse finds it."""
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("sheet.xml", xml)
    monkeypatch.setattr(xlsx_package, "CHUNK", chunk)
    with zipfile.ZipFile(path) as zf:
        return xlsx_scan.scan_sheet(zf, "sheet.xml", **wanted), xlsx_scan._scan_sheet_full(
            zf, "sheet.xml"
        )


@pytest.mark.parametrize("want_errors", [True, False])
@pytest.mark.parametrize("chunk", [7, 61, 400, 4096, 1 << 20])
@pytest.mark.parametrize("seed", range(6))
def test_scan_finds_what_a_full_parse_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, chunk: int, want_errors: bool
) -> None:
    rng = random.Random(seed)
    xml = _sheet(
        rng, "x" if seed % 3 == 0 else "", rows=rng.randint(200, 900), unreferenced=seed == 5
    )
    (errors, formulas), (full_errors, full_formulas) = scanned(
        tmp_path, monkeypatch, xml, chunk, want_errors=want_errors
    )
    assert formulas == full_formulas and len(formulas) > 3
    assert errors == (full_errors if want_errors else {})
    assert not want_errors or len(errors) > 1


XR = "http://schemas.microsoft.com/office/spreadsheetml/2014/revision"


FORMULA_SHAPES = [
    '<{p}c s="2" r="F{r}">{formula}',  # the reference not first
    '<{p}c xr:uid="{{{uid}}}" r="F{r}" s="2">{formula}',  # a long attribute before it
    '<{p}c r="F{r}" s="2">\n  {formula}',  # a line break before the formula
    '<{p}c r="F{r}"><{p}f t="shared" si="0"/><{p}v>1</{p}v></{p}c>',  # a shared formula
    '<{p}c r="F{r}" s="2"/>',  # no formula, no value
    '<{p}c r="F{r}" s="2">{formula}',  # as every writer puts it
]
WEIGHTS = [5, 3, 2, 2, 2, 86]


def _formula_column(rng: random.Random, pfx: str, rows: int, shapes: bool) -> bytes:
    """A user's formula column (F) on every row beside typed cells; with `shapes`, some of its
    cells in the shapes other writers give: the reference not first, a long attribute before
    the reference, a line break before the formula, a shared formula, a self-closing cell."""
    p = pfx + ":" if pfx else ""
    ns = f'xmlns{":" + pfx if pfx else ""}="{NS_MAIN}" xmlns:xr="{XR}"'
    out = [f'<?xml version="1.0" encoding="UTF-8"?><{p}worksheet {ns}><{p}sheetData>']
    for r in range(1, rows + 1):
        cells = [f'<{p}c r="{col}{r}" s="1"><{p}v>{r}</{p}v></{p}c>' for col in "ABCDE"]
        formula = f"<{p}f>A{r}*2</{p}f><{p}v>{2 * r}</{p}v></{p}c>"
        shape = rng.choices(FORMULA_SHAPES, WEIGHTS)[0] if shapes else FORMULA_SHAPES[-1]
        cells.append(shape.format(p=p, r=r, formula=formula, uid="0" * 400))
        out.append(f'<{p}row r="{r}">{"".join(cells)}</{p}row>')
    out.append(f"</{p}sheetData></{p}worksheet>")
    return "".join(out).encode()


@pytest.mark.parametrize("shapes", [False, True])
@pytest.mark.parametrize("chunk", [61, 4096, 1 << 20])
@pytest.mark.parametrize("pfx", ["", "x"])
def test_a_column_of_formulas_is_found_as_a_full_parse_finds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shapes: bool, chunk: int, pfx: str
) -> None:
    xml = _formula_column(random.Random(chunk), pfx, rows=3000, shapes=shapes)
    (errors, formulas), (full_errors, full_formulas) = scanned(
        tmp_path, monkeypatch, xml, chunk, want_errors=False
    )
    assert formulas == full_formulas
    assert len(formulas) > (2500 if shapes else 2999) and not full_errors and not errors


def test_a_formula_far_from_its_cells_start_is_found() -> None:
    """The cell a formula is in is looked for close by first, then further back."""
    long = "0" * 5000
    region = (
        f'<c r="A1"><v>1</v></c><c s="1" r="B1" xr:uid="{long}"><f>A1</f><v>1</v></c>'
        f'<c xr:uid="{long}" r="C1"><f>B1</f><v>1</v></c><c r="D1"><v>2</v></c>'
    ).encode()
    formulas = xlsx_scan.FormulaFinds()
    assert xlsx_scan.scan_region(region, b"", {}, formulas, want_errors=False)
    assert formulas.cells() == {(1, 2), (1, 3)}
    # without a cell around it, a formula belongs to no cell
    outside = b"<f>A1</f>" + region
    found = xlsx_scan.FormulaFinds()
    assert xlsx_scan.scan_region(outside, b"", {}, found, want_errors=False)
    assert found.cells() == {(1, 2), (1, 3)}


def test_a_formula_after_an_empty_cell_is_not_that_cells() -> None:
    region = b'<c r="A1"/><f>B1</f><c r="B1"><f>A1</f><v>0</v></c>'
    formulas = xlsx_scan.FormulaFinds()
    assert xlsx_scan.scan_region(region, b"", {}, formulas, want_errors=False)
    assert formulas.cells() == {(1, 2)}


def test_an_error_value_in_a_cell_whose_type_comes_first() -> None:
    """`<c t="e" r="B1">`: the attribute right after the element's name is found in its cell
    (it used to be taken for the previous cell's and dropped)."""
    region = (
        b'<c r="A1"><v>1</v></c><c t="e" r="B1"><v>#REF!</v></c><c r="C1" t="e"><v>#N/A</v></c>'
    )
    errors: dict[tuple[int, int], object] = {}
    assert xlsx_scan.scan_region(region, b"", errors, xlsx_scan.FormulaFinds())
    assert errors == {(1, 2): ExcelError("#REF!"), (1, 3): ExcelError("#N/A")}
    # a "t" that is not an attribute of its own is not one
    region = b'<c r="D1" xt="e"><v>1</v></c>'
    assert xlsx_scan.scan_region(region, b"", errors, xlsx_scan.FormulaFinds())
    assert len(errors) == 2


@pytest.mark.parametrize(
    "cell",
    [
        '<c r="B1" t="e"/>',
        '<c r="B1" t="e"><v></v></c>',
        '<c r="B1" t="e"><v/></c>',
        '<c r="B1" t="e"><f>1/0</f></c>',
        '<c r="B1" t="e"><f>1/0</f><v></v></c>',
    ],
)
def test_an_error_cell_without_a_code_is_no_error_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cell: str
) -> None:
    """calamine reads such a cell as empty: neither scan makes up a code for it."""
    xml = f'<worksheet xmlns="{NS_MAIN}"><sheetData><row r="1">{cell}</row></sheetData></worksheet>'
    (errors, _), (full_errors, _) = scanned(tmp_path, monkeypatch, xml.encode(), 4096)
    assert errors == full_errors == {}


@pytest.mark.parametrize("chunk", [61, 4096])
@pytest.mark.parametrize("seed", range(3))
def test_error_values_alone_are_what_a_full_parse_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, chunk: int
) -> None:
    """The scan a fast read asks for when fastexcel reports error values: those alone (the
    formulas are the other scan's), the same as a full parse finds."""
    xml = _sheet(random.Random(seed), "x" if seed == 1 else "", 600, unreferenced=False)
    (errors, formulas), (full_errors, _) = scanned(
        tmp_path, monkeypatch, xml, chunk, want_formulas=False
    )
    assert errors == full_errors and len(errors) > 1 and formulas == set()


@pytest.mark.parametrize("chunk", [7, 61, 4096])
@pytest.mark.parametrize("pfx", ["", "x"])
def test_codes_calamine_does_not_read_become_na(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int, pfx: str
) -> None:
    """`with_known_codes` puts #N/A in place of each code calamine does not read, in error
    cells only (a text "#SPILL!" stays), whatever the chunks; the rest of the XML as it was."""
    p = pfx + ":" if pfx else ""
    cells = [
        f'<{p}c r="A{{r}}" t="e"><{p}f>SEQUENCE(3)</{p}f><{p}v>#SPILL!</{p}v></{p}c>',
        f"<{p}c r='B{{r}}' s='3' t='e'><{p}v>#N/A</{p}v></{p}c>",
        f'<{p}c r="C{{r}}" t="str"><{p}f>"#"&amp;"CALC!"</{p}f><{p}v>#CALC!</{p}v></{p}c>',
        f'<{p}c r="D{{r}}" t="e"/>',
        f'<{p}c r="E{{r}}"><{p}v>5</{p}v></{p}c>',
        f'<{p}c r="F{{r}}" t="e"><{p}v>#BUSY!</{p}v></{p}c>',
    ]
    ns = f'xmlns{":" + pfx if pfx else ""}="{NS_MAIN}"'
    rows = "".join(
        f'<{p}row r="{r}">' + "".join(c.format(r=r) for c in cells) + f"</{p}row>"
        for r in range(1, 40)
    )
    xml = f"<{p}worksheet {ns}><{p}sheetData>{rows}</{p}sheetData></{p}worksheet>".encode()
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("sheet.xml", xml)
    monkeypatch.setattr(xlsx_package, "CHUNK", chunk)
    with zipfile.ZipFile(path) as zf:
        assert xlsx_scan.refused(xlsx_scan.scan_sheet(zf, "sheet.xml")[0])
        known = b"".join(xlsx_scan.with_known_codes(zf, "sheet.xml"))
    want = xml.replace(b">#SPILL!<", b">#N/A<").replace(b">#BUSY!<", b">#N/A<")
    assert known == want and b"#CALC!" in known
    path.write_bytes(b"")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("sheet.xml", known)
    with zipfile.ZipFile(path) as zf:
        assert not xlsx_scan.refused(xlsx_scan.scan_sheet(zf, "sheet.xml")[0])


def test_references_found_in_bulk_read_as_one_at_a_time() -> None:
    """A region's formula references, read side by side (`FormulaFinds.add_refs`), give the
    positions `parse_ref` gives each: one to three letters, rows to the sheet's last and past
    it (a reference longer than any sheet's is read one at a time), repeats counted once."""
    from sync.backends.xlsx_package import col_letters, parse_ref

    rng = random.Random(5)
    refs = [
        f"{col_letters(rng.choice([1, 26, 27, 52, 702, 703, 16384, rng.randint(1, 16384)]))}"
        f"{rng.choice([1, 9, 10, 99, 1048576, rng.randint(1, 1048576)])}".encode()
        for _ in range(2000)
    ]
    finds = xlsx_scan.FormulaFinds()
    finds.add_refs([*refs[:1000], b"C007"])
    finds.add((3, 4))
    finds.add_refs([*refs[1000:], b"A012", b"B12345678901", b"C" + b"9" * 25])
    want = {parse_ref(ref) for ref in refs} | {(3, 4), (7, 3), (12, 1), (12345678901, 2)}
    cells = finds.cells()
    assert cells == want and len(cells) == len(want)
    assert all(pos in cells for pos in want) and (5, 5) not in cells
    assert all(list(rows) == sorted(set(rows)) for rows in cells.columns.values())
