"""The .xlsx/.xlsm backend against real files built with xlsxwriter, openpyxl and by hand."""

from __future__ import annotations

import csv
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from sync.backends import open_backend, xlsx_package
from sync.backends import xlsx as xlsx_mod
from sync.backends.xlsx import XlsxBackend, apply_plan, read_workbook
from sync.core.errors import (
    SalesyncError,
    WorkbookChanged,
    WorkbookLocked,
    WorkbookNotFound,
    WorkbookUnreadable,
    WorkbookUnwritable,
)
from sync.core.model import CellWrite, ExcelError, TabWrite, WritePlan
from tests.conftest import write_xlsx

# --------------------------------------------------------------------------- fixtures


def _png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"\x00\xff\x00\x00"  # one red pixel
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def rich(tmp_path: Path) -> Path:
    """Styles, number formats, a comment, validation, conditional formatting, a defined name,
    a merged cell, formulas (one with an error), a hidden tab, a chart, an image, frozen panes.
    Data starts at B3 (row 1 and column A blank)."""
    path = tmp_path / "rich.xlsx"
    (tmp_path / "pixel.png").write_bytes(_png())
    wb = xlsxwriter.Workbook(str(path))
    head = wb.add_format({"bold": True, "bg_color": "#DDEEFF", "border": 1})
    money = wb.add_format({"num_format": "#,##0.00", "font_color": "#0000FF"})
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    pct = wb.add_format({"num_format": "0.0%", "italic": True})
    leads = wb.add_worksheet("Leads")
    leads.write_row("B2", ["Name", "Amount", "Date", "Rate", "Total", "Status"], head)
    for i in range(3, 9):
        leads.write(f"B{i}", f"Customer {i}")
        leads.write_number(f"C{i}", i * 1000.5, money)
        leads.write_datetime(f"D{i}", datetime(2024, 1, i), day)
        leads.write_number(f"E{i}", i / 100, pct)
        leads.write_formula(f"F{i}", f"=C{i}*E{i}", money, i * 1000.5 * i / 100)
    leads.write_formula("G3", "=1/0", None, "#DIV/0!")
    leads.write_formula("G4", "=NA()", None, "#N/A")
    leads.write_comment("B3", "first customer")
    leads.data_validation("G5:G20", {"validate": "list", "source": ["open", "won", "lost"]})
    leads.conditional_format(
        "C3:C8", {"type": "cell", "criteria": ">", "value": 5000, "format": head}
    )
    leads.merge_range("I2:J2", "Merged", head)
    leads.freeze_panes(2, 0)
    leads.insert_image("L2", str(tmp_path / "pixel.png"))
    leads.set_column("B:B", 20)
    wb.define_name("Amounts", "=Leads!$C$3:$C$8")
    lists = wb.add_worksheet("Lists")
    lists.write_column("A1", ["open", "won", "lost"])
    lists.hide()
    charts = wb.add_worksheet("Charts")
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "=Leads!$C$3:$C$8", "categories": "=Leads!$B$3:$B$8"})
    charts.insert_chart("B2", chart)
    charts.write("A1", "chart below")
    wb.close()
    return path


_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def make_xlsx(
    path: Path,
    sheets: dict[str, str],
    *,
    prefix: str = "",
    date1904: bool = False,
    vba: bytes | None = None,
) -> Path:
    """A minimal package written by hand; `sheets` maps a tab name to its sheetData XML."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{main}"' if prefix else f'xmlns="{main}"'
    wb_type = (
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
        if vba
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    )
    ct = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{wb_type}"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.styles+xml"/>'
    ]
    rels = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId100" Type="{rel}/styles" Target="styles.xml"/>'
    ]
    if vba:
        rels.append(
            '<Relationship Id="rId101" '
            'Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
            'Target="vbaProject.bin"/>'
        )
    sheet_els = []
    parts = {}
    for i, (name, data) in enumerate(sheets.items(), start=1):
        part = f"xl/worksheets/sheet{i}.xml"
        ct.append(
            f'<Override PartName="/{part}" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/>'
        )
        rels.append(
            f'<Relationship Id="rId{i}" Type="{rel}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        )
        sheet_els.append(f'<{p}sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>')
        parts[part] = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<{p}worksheet {xmlns} xmlns:r="{rel}">'
            f'<{p}dimension ref="A1"/>{data}</{p}worksheet>'
        )
    ct.append("</Types>")
    rels.append("</Relationships>")
    pr = f'<{p}workbookPr date1904="1"/>' if date1904 else ""
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<{p}workbook {xmlns} xmlns:r="{rel}">{pr}'
        f"<{p}sheets>{''.join(sheet_els)}</{p}sheets></{p}workbook>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "".join(ct))
        zf.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        zf.writestr("xl/workbook.xml", workbook)
        zf.writestr("xl/_rels/workbook.xml.rels", "".join(rels))
        zf.writestr("xl/styles.xml", _STYLES)
        for part, xml in parts.items():
            zf.writestr(part, xml)
        if vba:
            zf.writestr("xl/vbaProject.bin", vba, compress_type=zipfile.ZIP_STORED)
    return path


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def compress_types(path: Path) -> list[tuple[str, int]]:
    with zipfile.ZipFile(path) as zf:
        return [(i.filename, i.compress_type) for i in zf.infolist()]


def dir_listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def cell_look(cell) -> tuple:
    return (
        cell.value,
        cell.data_type,
        cell.number_format,
        repr(cell.font),
        repr(cell.fill),
        repr(cell.border),
    )


LEADS_PART = "xl/worksheets/sheet1.xml"

# --------------------------------------------------------------------------- reading


def test_read_grid_is_a1_aligned(rich: Path) -> None:
    book = XlsxBackend(rich).read()
    assert book.source == str(rich)
    assert [s.name for s in book.sheets] == ["Leads", "Lists", "Charts"]
    leads = book.sheet("Leads")
    assert leads is not None
    assert leads.value(1, 1) in ("", None)
    assert leads.value(2, 2) == "Name"
    assert leads.value(3, 2) == "Customer 3"
    assert leads.value(3, 3) == pytest.approx(3001.5)
    assert leads.value(3, 4) == date(2024, 1, 3) or leads.value(3, 4) == datetime(2024, 1, 3)
    assert leads.value(2, 9) == "Merged"


def test_read_errors_formulas_hidden(rich: Path) -> None:
    book = read_workbook(rich)
    leads = book.sheet("Leads")
    assert leads is not None
    assert leads.value(3, 7) == ExcelError("#DIV/0!")
    assert leads.value(4, 7) == ExcelError("#N/A")
    assert leads.formulas == frozenset({(r, 6) for r in range(3, 9)} | {(3, 7), (4, 7)})
    assert not leads.hidden
    lists = book.sheet("Lists")
    assert lists is not None and lists.hidden
    assert lists.value(2, 1) == "won"


def test_read_shared_formulas_and_errors_beyond_the_grid(tmp_path: Path) -> None:
    data = (
        '<sheetData><row r="1"><c r="A1"><v>1</v></c><c r="B1"><f t="shared" ref="B1:B3" si="0">'
        'A1*2</f><v>2</v></c></row><row r="2"><c r="B2"><f t="shared" si="0"/><v>0</v></c>'
        '</row><row r="3"><c r="B3"><f t="shared" si="0"/><v>0</v></c>'
        '<c r="E3" t="e"><v>#REF!</v></c></row></sheetData>'
    )
    path = make_xlsx(tmp_path / "shared.xlsx", {"S": data})
    sheet = read_workbook(path).sheets[0]
    assert sheet.formulas == frozenset({(1, 2), (2, 2), (3, 2)})
    assert sheet.value(3, 5) == ExcelError("#REF!")


def test_read_cells_without_references(tmp_path: Path) -> None:
    data = (
        "<sheetData><row><c><v>1</v></c><c><f>A1+1</f><v>2</v></c></row>"
        '<row><c t="e"><v>#N/A</v></c></row></sheetData>'
    )
    sheet = read_workbook(make_xlsx(tmp_path / "noref.xlsx", {"S": data})).sheets[0]
    assert sheet.formulas == frozenset({(1, 2)})
    assert sheet.value(2, 1) == ExcelError("#N/A")


def test_read_prefixed_namespace(tmp_path: Path) -> None:
    data = (
        '<x:sheetData><x:row r="2"><x:c r="B2" t="e"><x:f>1/0</x:f><x:v>#DIV/0!</x:v></x:c>'
        "</x:row></x:sheetData>"
    )
    sheet = read_workbook(make_xlsx(tmp_path / "p.xlsx", {"S": data}, prefix="x")).sheets[0]
    assert sheet.formulas == frozenset({(2, 2)})
    assert sheet.value(2, 2) == ExcelError("#DIV/0!")


def test_read_missing_and_garbage(tmp_path: Path) -> None:
    with pytest.raises(WorkbookNotFound, match="no such file"):
        read_workbook(tmp_path / "nope.xlsx")
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"this is not a zip file at all")
    with pytest.raises(WorkbookUnreadable) as err:
        read_workbook(garbage)
    assert err.value.__cause__ is not None
    ole = tmp_path / "encrypted.xlsx"
    ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    with pytest.raises(WorkbookUnreadable, match="password-protected"):
        read_workbook(ole)
    not_a_workbook = tmp_path / "other.xlsx"
    with zipfile.ZipFile(not_a_workbook, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(WorkbookUnreadable):
        read_workbook(not_a_workbook)


STRICT = {  # transitional namespaces → Strict Open XML's (ISO/IEC 29500 strict), as Excel saves
    b"http://schemas.openxmlformats.org/spreadsheetml/2006/main": (
        b"http://purl.oclc.org/ooxml/spreadsheetml/main"
    ),
    b"http://schemas.openxmlformats.org/officeDocument/2006/relationships": (
        b"http://purl.oclc.org/ooxml/officeDocument/relationships"
    ),
}


def test_strict_open_xml_is_refused_with_what_to_do(tmp_path: Path, cli: Any) -> None:
    """A workbook saved as Strict Open XML: python-calamine reads its cells, but salesync
    would miss its sheets' formulas and error values and could not write it, so both commands
    refuse it, saying how to save it instead, and leave the file as it is."""
    from sync.demo import build_demo_workbook

    plain = tmp_path / "plain.xlsx"
    build_demo_workbook(plain)
    strict = tmp_path / "strict.xlsx"
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(strict, "w", zipfile.ZIP_DEFLATED) as out:
        for info in zin.infolist():
            data = zin.read(info)
            for old, new in STRICT.items():
                data = data.replace(old, new)
            out.writestr(info, data)
    assert CalamineWorkbook.from_path(str(strict)).sheet_names  # readable as cells
    before = strict.read_bytes()
    for command in ("check", "run"):
        result = cli(command, str(strict))
        assert result.code == 2, (command, result)
        said = " ".join(result.stderr.split())  # as the terminal wraps it
        assert "Strict Open XML" in said and "Excel Workbook (.xlsx)" in said
    assert strict.read_bytes() == before


def test_open_backend(tmp_path: Path) -> None:
    assert isinstance(open_backend(str(tmp_path / "a.xlsx")), XlsxBackend)
    assert isinstance(open_backend(str(tmp_path / "a.XLSM")), XlsxBackend)
    with pytest.raises(SalesyncError, match=r"\.csv"):
        open_backend("data.csv")


def test_a_read_started_ahead_is_the_read(tmp_path: Path) -> None:
    """`start_read` reads on a thread of its own; the next `read` gives what it read, and a
    read after that reads the file again."""
    path = tmp_path / "ahead.xlsx"
    write_xlsx(path, {"Leads": [["id", "name"], ["L-1", "甲"]]})
    backend = XlsxBackend(path)
    backend.start_read()
    backend.start_read()  # once is enough: a second call starts nothing more
    assert backend.read() == read_workbook(path)
    write_xlsx(path, {"Leads": [["id", "name"], ["L-2", "乙"]]})
    again = backend.read()
    assert again == read_workbook(path) and again.sheets[0].rows[1] == ["L-2", "乙"]


def test_a_read_started_ahead_raises_when_read(tmp_path: Path) -> None:
    """What the read ahead could not read is said by `read`, as a read would say it."""
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a zip")
    backend = XlsxBackend(path)
    backend.start_read()  # says nothing yet
    with pytest.raises(WorkbookUnreadable) as ahead:
        backend.read()
    with pytest.raises(WorkbookUnreadable) as plain:
        backend.read()
    assert str(ahead.value) == str(plain.value)


IMPORTS = """
import sys
from sync.backends import open_backend
backend = open_backend(sys.argv[1])
backend.start_read()
backend.read()
print(",".join(m for m in ("pandas", "gspread", "google.auth", "xlwings") if m in sys.modules))
"""


def test_reading_a_file_loads_neither_the_rules_nor_google(tmp_path: Path) -> None:
    """The command starts reading a file before it loads the rules' modules (pandas …), so
    that they load while the sheets are parsed: the read itself must not need them."""
    path = tmp_path / "light.xlsx"
    write_xlsx(path, {"Leads": [["id"], ["L-1"]]})
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS, str(path)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""


# --------------------------------------------------------------------------- applying

ALL_VALUES = [
    ("text", "hello 世界"),
    ("int", 42),
    ("float", 3.25),
    ("bool", True),
    ("date", date(2024, 2, 29)),
    ("datetime", datetime(2024, 3, 1, 13, 45, 30)),
]


def test_apply_changes_only_the_patched_sheet(rich: Path) -> None:
    before = members(rich)
    plan = WritePlan(cells={"Leads": [CellWrite(3, 8, "ok"), CellWrite(20, 3, 7)]})
    apply_plan(rich, plan)
    after = members(rich)
    assert list(after) == list(before)
    assert compress_types(rich) == [(n, zipfile.ZIP_DEFLATED) for n in before]
    changed = {n for n in before if before[n] != after[n]}
    assert changed == {LEADS_PART}


def test_untouched_cells_keep_value_type_style(rich: Path, tmp_path: Path) -> None:
    original = tmp_path / "original.xlsx"
    shutil.copy(rich, original)
    writes = [CellWrite(r, 8, f"note {r}") for r in range(2, 9)]
    writes += [CellWrite(4, 3, 99.5), CellWrite(30, 2, "far below")]
    apply_plan(rich, WritePlan(cells={"Leads": writes}))
    old = openpyxl.load_workbook(original)["Leads"]
    new = openpyxl.load_workbook(rich)["Leads"]
    written = {(w.row, w.col) for w in writes}
    for row in old.iter_rows(min_row=1, max_row=old.max_row, max_col=old.max_column):
        for cell in row:
            if (cell.row, cell.column) in written:
                continue
            assert cell_look(cell) == cell_look(new.cell(cell.row, cell.column)), cell.coordinate
    assert new["C4"].value == 99.5
    assert new["C4"].number_format == "#,##0.00"  # the cell kept its style
    assert new["H5"].value == "note 5"
    assert new["B30"].value == "far below"
    assert new.freeze_panes == "A3"
    assert {str(r) for r in new.merged_cells.ranges} == {"I2:J2"}
    assert new["B3"].comment is not None
    assert new.data_validations.dataValidation
    assert new.conditional_formatting
    raw = members(rich)[LEADS_PART].decode()
    assert '<dimension ref="B2:J30"/>' in raw


@pytest.mark.parametrize(("label", "value"), ALL_VALUES)
def test_written_values_read_back(tmp_path: Path, label: str, value: object) -> None:
    path = make_xlsx(
        tmp_path / f"{label}.xlsx",
        {"S": '<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>'},
    )
    apply_plan(path, WritePlan(cells={"S": [CellWrite(5, 3, value)]}))  # type: ignore[arg-type]
    got = (
        CalamineWorkbook.from_path(str(path))
        .get_sheet_by_name("S")
        .to_python(skip_empty_area=False)
    )
    ws = openpyxl.load_workbook(path)["S"]
    if isinstance(value, datetime):
        assert got[4][2] == value
        assert ws["C5"].value == value
    elif isinstance(value, date):
        assert got[4][2] in (value, datetime.combine(value, datetime.min.time()))
        assert ws["C5"].value == datetime.combine(value, datetime.min.time())
        assert ws["C5"].is_date
    else:
        assert got[4][2] == value
        assert ws["C5"].value == value
        assert type(ws["C5"].value) is type(value)


def test_none_clears_a_value_and_keeps_style(rich: Path) -> None:
    apply_plan(rich, WritePlan(cells={"Leads": [CellWrite(4, 3, None), CellWrite(4, 2, None)]}))
    ws = openpyxl.load_workbook(rich)["Leads"]
    assert ws["C4"].value is None
    assert ws["C4"].number_format == "#,##0.00"
    assert ws["B4"].value is None
    assert read_workbook(rich).sheet("Leads").value(4, 2) in ("", None)  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "=1+1"])
def test_formula_like_text_stays_text(rich: Path, text: str) -> None:
    apply_plan(rich, WritePlan(cells={"Leads": [CellWrite(5, 8, text)]}))
    cell = openpyxl.load_workbook(rich)["Leads"]["H5"]
    assert cell.data_type == "s"
    assert cell.value == text
    sheet = read_workbook(rich).sheet("Leads")
    assert sheet is not None
    assert sheet.value(5, 8) == text
    assert (5, 8) not in sheet.formulas


def test_escaping_and_illegal_characters(rich: Path) -> None:
    # control characters XML cannot hold go as Excel writes them (_x0001_), read back as
    # they were; a literal _x0041_ stays literal; a non-character no reader gives is dropped
    nasty = "a<b>&c \"q\" 'x' _x0041_ \x01\x0bend\r\nline"
    apply_plan(rich, WritePlan(cells={"Leads": [CellWrite(6, 8, nasty + "\ufffe")]}))
    # openpyxl does not decode _xHHHH_ in inline strings; Excel and calamine do
    sheet = read_workbook(rich).sheet("Leads")
    assert sheet is not None
    assert sheet.value(6, 8) == nasty


def test_style_like_and_date_styles(rich: Path) -> None:
    plan = WritePlan(
        cells={
            "Leads": [
                CellWrite(2, 8, "SLA", style_like=(2, 7)),  # G2: the header style
                CellWrite(3, 8, date(2024, 5, 1)),  # no style: gets a date format
                CellWrite(4, 8, datetime(2024, 5, 1, 9, 30)),
                CellWrite(5, 4, date(2025, 1, 1)),  # already a date format: kept
            ]
        }
    )
    styles_before = members(rich)["xl/styles.xml"]
    apply_plan(rich, plan)
    ws = openpyxl.load_workbook(rich)["Leads"]
    assert cell_look(ws["H2"])[2:] == cell_look(ws["G2"])[2:]
    assert ws["H2"].font.b
    assert ws["H3"].is_date and ws["H3"].number_format in ("mm-dd-yy", "m/d/yyyy", "yyyy-mm-dd")
    assert ws["H4"].is_date and "h" in ws["H4"].number_format
    assert ws["D5"].number_format == "yyyy-mm-dd"
    assert ws["D5"].value == datetime(2025, 1, 1)
    styles_after = members(rich)["xl/styles.xml"]
    assert styles_after != styles_before
    # existing formats are only appended to, never renumbered
    head = styles_before.split(b"</cellXfs>")[0].split(b"<cellXfs")[1].split(b">", 1)[1]
    assert head in styles_after


def test_dates_in_1904_workbook(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "mac.xlsx", {"S": "<sheetData/>"}, date1904=True)
    apply_plan(path, WritePlan(cells={"S": [CellWrite(1, 1, date(2024, 1, 1))]}))
    assert b"<v>43830</v>" in members(path)["xl/worksheets/sheet1.xml"]
    assert openpyxl.load_workbook(path)["S"]["A1"].value == datetime(2024, 1, 1)


def test_new_owned_tab_goes_last_with_frozen_header(rich: Path) -> None:
    before = members(rich)
    tab = TabWrite(
        "Issues",
        (("Sheet", "Row", "Message", "When"), ("Leads", 3, "bad <value> & co", date(2024, 1, 2))),
        header_rows=1,
        column_widths=(12, 8, 40),
    )
    apply_plan(rich, WritePlan(tabs=[tab]))
    after = members(rich)
    assert list(after)[: len(before)] == list(before)
    for name in before:
        if name not in (
            "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels",
            "[Content_Types].xml",
            "xl/styles.xml",
        ):
            assert after[name] == before[name], name
    wb = openpyxl.load_workbook(rich)
    assert wb.sheetnames == ["Leads", "Lists", "Charts", "Issues"]
    ws = wb["Issues"]
    assert ws.freeze_panes == "A2"
    assert ws["A1"].value == "Sheet" and ws["A1"].font.b
    assert ws["C2"].value == "bad <value> & co"
    assert ws["D2"].value == datetime(2024, 1, 2)
    assert ws.column_dimensions["C"].width == 40
    assert wb["Lists"].sheet_state == "hidden"
    book = read_workbook(rich)
    issues = book.sheet("Issues")
    assert issues is not None and issues.rows[1][:3] == ["Leads", 3, "bad <value> & co"]


def test_replacing_an_owned_tab(rich: Path) -> None:
    first = TabWrite("Issues", (("A", "B"), ("x", 1), ("y", 2)))
    second = TabWrite("Issues", (("A", "B"), ("z", 3)))
    apply_plan(rich, WritePlan(tabs=[first]))
    names = list(members(rich))
    apply_plan(rich, WritePlan(tabs=[second]))
    assert list(members(rich)) == names
    issues = read_workbook(rich).sheet("Issues")
    assert issues is not None
    assert issues.rows == [["A", "B"], ["z", 3]]
    assert openpyxl.load_workbook(rich).sheetnames[-1] == "Issues"


def test_replacing_a_user_tab_by_name_keeps_others(rich: Path) -> None:
    before = members(rich)
    apply_plan(rich, WritePlan(tabs=[TabWrite("Charts", (("only",),))]))
    after = members(rich)
    assert "xl/worksheets/_rels/sheet3.xml.rels" not in after
    assert after[LEADS_PART] == before[LEADS_PART]
    wb = openpyxl.load_workbook(rich)
    assert wb["Charts"]["A1"].value == "only"


def test_empty_plan_touches_nothing(rich: Path) -> None:
    os.utime(rich, (1_000_000_000, 1_000_000_000))
    data = rich.read_bytes()
    XlsxBackend(rich).apply(WritePlan(cells={"Leads": []}))
    assert rich.stat().st_mtime == 1_000_000_000
    assert rich.read_bytes() == data


def test_same_plan_twice_gives_identical_bytes(rich: Path) -> None:
    plan = WritePlan(
        cells={"Leads": [CellWrite(3, 8, date(2024, 5, 1)), CellWrite(2, 8, "SLA", (2, 7))]},
        tabs=[TabWrite("Issues", (("A", "When"), ("x", datetime(2024, 1, 1, 8, 0))))],
    )
    apply_plan(rich, plan)
    once = rich.read_bytes()
    apply_plan(rich, plan)
    assert rich.read_bytes() == once


def test_out_writes_a_copy(rich: Path, tmp_path: Path) -> None:
    data = rich.read_bytes()
    target = tmp_path / "copy.xlsx"
    XlsxBackend(rich).apply(WritePlan(cells={"Leads": [CellWrite(3, 8, "x")]}), out=target)
    assert rich.read_bytes() == data
    assert openpyxl.load_workbook(target)["Leads"]["H3"].value == "x"


def test_a_workbook_saved_by_another_program_meanwhile_is_not_written(rich: Path) -> None:
    """The plan was made from what the read found: once the file changed (rows inserted, a
    column moved …), its rows and columns may no longer be where the plan writes."""
    backend = XlsxBackend(rich)
    backend.read()
    other = openpyxl.load_workbook(rich)
    other["Leads"]["Z9"] = "typed meanwhile"
    other.save(rich)  # another program saves the workbook while the sync runs
    saved = rich.read_bytes()
    listing = dir_listing(rich.parent)
    with pytest.raises(WorkbookChanged) as refused:
        backend.apply(WritePlan(cells={"Leads": [CellWrite(3, 8, "x")]}))
    assert str(refused.value) == (
        f"{rich}: changed since salesync read it (saved by another program, or another sync, "
        "meanwhile); nothing was written: run salesync again"
    )
    assert rich.read_bytes() == saved and dir_listing(rich.parent) == listing


def test_every_backend_reports_a_change_meanwhile_as_one_error() -> None:
    from sync.backends import excel, gsheets

    assert excel.WorkbookChanged is WorkbookChanged
    assert issubclass(gsheets.SheetChanged, WorkbookChanged)


def test_of_two_syncs_at_once_the_second_to_write_writes_nothing(rich: Path) -> None:
    first, second = XlsxBackend(rich), XlsxBackend(rich)
    first.read()
    second.read()
    first.apply(WritePlan(cells={"Leads": [CellWrite(3, 8, "first")]}))
    written = rich.read_bytes()
    with pytest.raises(WorkbookChanged):
        second.apply(WritePlan(cells={"Leads": [CellWrite(3, 8, "second")]}))
    assert rich.read_bytes() == written
    again = XlsxBackend(rich)  # read again, it writes
    assert again.read().sheet("Leads") is not None
    again.apply(WritePlan(cells={"Leads": [CellWrite(3, 8, "second")]}))
    assert openpyxl.load_workbook(rich)["Leads"]["H3"].value == "second"


def test_failure_leaves_the_original_and_no_temp_files(
    rich: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = rich.read_bytes()
    listing = dir_listing(rich.parent)

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xlsx_mod.os, "replace", boom)
    with pytest.raises(
        WorkbookUnwritable, match=r"no room to write it \(No space left on device\)"
    ):
        apply_plan(rich, WritePlan(cells={"Leads": [CellWrite(3, 8, "x")]}))
    assert rich.read_bytes() == data
    assert dir_listing(rich.parent) == listing


@pytest.mark.parametrize("segment", [1 << 20, 64], ids=["one segment", "many segments"])
def test_a_full_disk_while_compressed_segments_are_written(
    rich: Path, monkeypatch: pytest.MonkeyPatch, segment: int
) -> None:
    """A write of compressed segments into the scratch file that fails (no room left) fails
    the sync, which leaves the workbook as it was and no temporary file."""
    data = rich.read_bytes()
    listing = dir_listing(rich.parent)
    real = xlsx_mod.tempfile.NamedTemporaryFile

    def scratch(*args: Any, **kwargs: Any) -> Any:
        made = real(*args, **kwargs)
        if kwargs.get("suffix") == ".parts":

            def full(data: bytes) -> int:
                raise OSError(28, "No space left on device")

            made.write = full  # type: ignore[method-assign,assignment]
        return made

    monkeypatch.setattr(xlsx_mod.tempfile, "NamedTemporaryFile", scratch)
    monkeypatch.setattr(xlsx_mod, "_SEGMENT", segment)
    monkeypatch.setattr(xlsx_mod, "_MAX_SEGMENT", segment * 2)  # cut wherever it falls
    plan = WritePlan(cells={"Leads": [CellWrite(r, 8, f"x{r}") for r in range(2, 40)]})
    with pytest.raises(
        WorkbookUnwritable, match=r"no room to write it \(No space left on device\)"
    ):
        apply_plan(rich, plan)
    assert rich.read_bytes() == data
    assert dir_listing(rich.parent) == listing


def test_failure_mid_write_leaves_no_temp_files(
    rich: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = rich.read_bytes()
    listing = dir_listing(rich.parent)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed")

    monkeypatch.setattr(xlsx_package, "_raw_copy", broken)
    with pytest.raises(RuntimeError):
        apply_plan(rich, WritePlan(tabs=[TabWrite("Issues", (("a",),))]))
    assert rich.read_bytes() == data
    assert dir_listing(rich.parent) == listing


def test_permission_error_on_replace_is_locked(rich: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    listing = dir_listing(rich.parent)

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(xlsx_mod.os, "replace", denied)
    with pytest.raises(WorkbookLocked):
        apply_plan(rich, WritePlan(cells={"Leads": [CellWrite(3, 8, "x")]}))
    assert dir_listing(rich.parent) == listing


@pytest.mark.parametrize("lock", ["~${}", ".~lock.{}#"])
def test_lock_files(rich: Path, lock: str) -> None:
    (rich.parent / lock.format(rich.name)).write_text("someone")
    data = rich.read_bytes()
    with pytest.raises(WorkbookLocked, match=r"rich\.xlsx is open in"):
        apply_plan(rich, WritePlan(cells={"Leads": [CellWrite(3, 8, "x")]}))
    assert rich.read_bytes() == data


def test_permission_bits_are_kept(rich: Path) -> None:
    os.chmod(rich, 0o640)
    apply_plan(rich, WritePlan(cells={"Leads": [CellWrite(3, 8, "x")]}))
    assert stat.S_IMODE(rich.stat().st_mode) == 0o640


def test_xlsm_keeps_the_macro_project(tmp_path: Path) -> None:
    vba = bytes(range(256)) * 40
    path = make_xlsx(
        tmp_path / "macro.xlsm",
        {"S": '<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>'},
        vba=vba,
    )
    before = members(path)
    apply_plan(path, WritePlan(cells={"S": [CellWrite(1, 2, "x")]}, tabs=[TabWrite("T", ())]))
    after = members(path)
    assert after["xl/vbaProject.bin"] == vba == before["xl/vbaProject.bin"]
    assert dict(compress_types(path))["xl/vbaProject.bin"] == zipfile.ZIP_STORED
    wb = openpyxl.load_workbook(path, keep_vba=True)
    assert wb["S"]["B1"].value == "x"
    assert wb.vba_archive is not None
    wb.vba_archive.close()


def test_prefixed_sheet_and_rows_without_references(tmp_path: Path) -> None:
    data = (
        '<x:sheetData><x:row r="2"><x:c r="B2"><x:v>5</x:v></x:c></x:row>'
        '<x:row r="4"><x:c r="A4"><x:v>1</x:v></x:c></x:row></x:sheetData>'
    )
    path = make_xlsx(tmp_path / "p.xlsx", {"S": data}, prefix="x")
    plan = WritePlan(
        cells={"S": [CellWrite(2, 1, "a"), CellWrite(3, 3, 1.5), CellWrite(9, 1, True)]}
    )
    apply_plan(path, plan)
    ws = openpyxl.load_workbook(path)["S"]
    assert [ws["A2"].value, ws["B2"].value, ws["C3"].value, ws["A4"].value, ws["A9"].value] == [
        "a",
        5,
        1.5,
        1,
        True,
    ]
    noref = make_xlsx(
        tmp_path / "n.xlsx",
        {"S": "<sheetData><row><c><v>1</v></c><c><v>3</v></c></row></sheetData>"},
    )
    apply_plan(noref, WritePlan(cells={"S": [CellWrite(1, 2, 2), CellWrite(1, 4, 4)]}))
    ws = openpyxl.load_workbook(noref)["S"]
    assert [ws.cell(1, c).value for c in range(1, 5)] == [1, 2, None, 4]


def test_rows_are_inserted_in_order(tmp_path: Path) -> None:
    data = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in (2, 5, 9))
    path = make_xlsx(tmp_path / "o.xlsx", {"S": f"<sheetData>{data}</sheetData>"})
    writes = [CellWrite(r, c, r * 10 + c) for r in (1, 3, 5, 7, 12) for c in (3, 1, 2)]
    apply_plan(path, WritePlan(cells={"S": writes}))
    xml = members(path)["xl/worksheets/sheet1.xml"].decode()
    rows = [int(x.split('"')[0]) for x in xml.split('<row r="')[1:]]
    assert rows == sorted(rows) == [1, 2, 3, 5, 7, 9, 12]
    ws = openpyxl.load_workbook(path)["S"]
    assert ws["A5"].value == 51 and ws["C12"].value == 123 and ws["A9"].value == 9


def test_shared_formula_master_is_not_overwritten(tmp_path: Path) -> None:
    data = (
        '<sheetData><row r="1"><c r="B1"><f t="shared" ref="B1:B2" si="0">A1*2</f><v>0</v></c>'
        '</row><row r="2"><c r="B2"><f t="shared" si="0"/><v>0</v></c></row></sheetData>'
    )
    path = make_xlsx(tmp_path / "s.xlsx", {"S": data})
    blob = path.read_bytes()
    with pytest.raises(SalesyncError, match="formula"):
        apply_plan(path, WritePlan(cells={"S": [CellWrite(1, 2, 1)]}))
    assert path.read_bytes() == blob


def test_unknown_tab_is_an_error(rich: Path) -> None:
    with pytest.raises(SalesyncError, match="no tab named"):
        apply_plan(rich, WritePlan(cells={"Nope": [CellWrite(1, 1, 1)]}))


# --------------------------------------------------------------------------- LibreOffice


@pytest.mark.libreoffice
def test_libreoffice_reads_written_values(rich: Path, tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        if os.environ.get("SALESYNC_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("soffice is required (SALESYNC_REQUIRE_LIBREOFFICE=1) but not found")
        pytest.skip("soffice (libreoffice-calc-nogui) is not installed")
    plan = WritePlan(
        cells={"Leads": [CellWrite(3, 8, '=HYPERLINK("x")'), CellWrite(4, 8, 12345)]},
        tabs=[TabWrite("Issues", (("Code",), ("E042",)))],
    )
    apply_plan(rich, plan)
    outdir = tmp_path / "csv"
    profile = (tmp_path / "lo-profile").as_uri()
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "csv",
            "--outdir",
            str(outdir),
            str(rich),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    with open(outdir / "rich.csv", newline="", encoding="utf-8", errors="replace") as fh:
        rows = list(csv.reader(fh))
    assert rows[2][7] == '=HYPERLINK("x")'
    assert rows[3][7] == "12345"
    assert rows[1][1] == "Name"


def test_a_tab_longer_than_a_sheet_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    """The core lists no more issues than a sheet holds; should a plan still bring a longer
    tab, the writer refuses it rather than write a sheet no spreadsheet opens."""
    from sync.backends.xlsx_tabs import MAX_ROWS

    path = write_xlsx(tmp_path / "b.xlsx", {"Leads": [["Lead ID"], ["L1"]]})
    before = path.read_bytes()
    rows = (("Code",), *(("x",),) * MAX_ROWS)
    with pytest.raises(SalesyncError, match="1,048,577 rows, more than a sheet holds"):
        apply_plan(path, WritePlan(tabs=[TabWrite("Issues", rows)]))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["b.xlsx"]  # no temporary file left


def _sheets_named_from_above(src: Path, dst: Path) -> Path:
    """`src` with its workbook relationships naming the sheets `../xl/worksheets/…`: the same
    parts by a path that python-calamine does not follow (no writer makes such paths)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b'Target="worksheets/', b'Target="../xl/worksheets/')
                data = data.replace(b'Target="/xl/worksheets/', b'Target="../xl/worksheets/')
            out.writestr(info, data)
    return dst


def test_a_sheet_calamine_cannot_find_is_named_with_what_to_do(tmp_path: Path) -> None:
    src = write_xlsx(tmp_path / "src.xlsx", {"Leads": [["Lead ID"], ["L1"]]})
    path = _sheets_named_from_above(src, tmp_path / "odd.xlsx")
    with pytest.raises(WorkbookUnreadable) as found:
        read_workbook(path)
    said = str(found.value)
    assert "cannot read tab 'Leads'" in said and "../xl/worksheets/" in said
    assert said.endswith("open the workbook in Excel or LibreOffice, save it, and run again")


@pytest.mark.libreoffice
def test_a_sheet_calamine_cannot_find_reads_once_libreoffice_saved_it(tmp_path: Path) -> None:
    from tests.templates.libreoffice import convert

    src = write_xlsx(tmp_path / "src.xlsx", {"Leads": [["Lead ID"], ["L1"]]})
    path = _sheets_named_from_above(src, tmp_path / "odd.xlsx")
    saved = convert(path, tmp_path, "xlsx") / "odd.xlsx"
    leads = read_workbook(saved).sheets[0]
    assert leads.name == "Leads" and leads.value(2, 1) == "L1"


@pytest.mark.parametrize("fast", [False, True], ids=["python-calamine", "fastexcel"])
def test_a_file_whose_name_is_not_utf8_is_read_and_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast: bool
) -> None:
    """A POSIX file name may hold bytes that are not UTF-8 (a GBK name unzipped on Linux);
    Python keeps them as surrogates, which the readers in Rust cannot be handed: they are
    handed the file by its descriptor's path instead."""
    from sync.backends import xlsx_read
    from sync.demo import build_demo_workbook
    from sync.job import sync_workbook

    manifest = build_demo_workbook(tmp_path / "demo.xlsx")
    path = tmp_path / os.fsdecode(b"\xcf\xfa\xca\xdb.xlsx")  # 销售 in GBK
    try:
        manifest.path.rename(path)
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system takes no such name")
    if fast:
        monkeypatch.setattr(xlsx_read, "FAST_MIN_BYTES", 0)
    first = sync_workbook(XlsxBackend(path), write=True, as_of=manifest.as_of)
    assert first.wrote and len(first.issues) > 100
    again = sync_workbook(XlsxBackend(path), write=True, as_of=manifest.as_of)
    assert again.plan.is_empty() and [p.name for p in tmp_path.iterdir()] == [path.name]
