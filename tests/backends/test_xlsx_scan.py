"""The scan of a worksheet's XML for formulas and error values (`xlsx_scan.scan_sheet`), fed in
chunks of every size, finds what a full XML parse (`_scan_sheet_full`, ElementTree) finds: long
stretches without either are passed over a chunk at a time, so a formula or an error value
right after one, or cut in two by a chunk's edge, is the case to get right."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest

from sync.backends import xlsx_package, xlsx_scan
from sync.backends.xlsx_package import NS_MAIN


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
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("sheet.xml", xml)
    monkeypatch.setattr(xlsx_package, "CHUNK", chunk)
    with zipfile.ZipFile(path) as zf:
        errors, formulas = xlsx_scan.scan_sheet(zf, "sheet.xml", want_errors=want_errors)
        full_errors, full_formulas = xlsx_scan._scan_sheet_full(zf, "sheet.xml")
    assert formulas == full_formulas and len(formulas) > 3
    assert errors == (full_errors if want_errors else {})
    assert not want_errors or len(errors) > 1
