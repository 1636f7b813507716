"""Excel tables grow to take in an owned column added right beside them, and only then."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from sync.backends.xlsx import apply_plan
from sync.backends.xlsx_tables import extend_table, table_parts
from sync.core.model import CellWrite, WritePlan

TABLE = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<table xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" id="1" '
    b'name="Leads" displayName="Leads" ref="B2:D9" totalsRowShown="0">'
    b'<autoFilter ref="B2:D9"/><tableColumns count="3"><tableColumn id="1" name="Id"/>'
    b'<tableColumn id="7" name="Source"/><tableColumn id="3" name="Customer"/></tableColumns>'
    b'<tableStyleInfo name="TableStyleMedium9" showRowStripes="1"/></table>'
)


@pytest.mark.parametrize(
    ("writes", "ref", "added"),
    [
        ({2: {5: "Flags"}}, "B2:E9", ["Flags"]),
        ({2: {5: "Flags", 6: "Class"}, 3: {5: "x"}}, "B2:F9", ["Flags", "Class"]),
        ({2: {5: "A & <B>"}}, "B2:E9", ["A & <B>"]),
    ],
)
def test_added_headers_join_the_table(writes: dict, ref: str, added: list[str]) -> None:
    grown = extend_table(TABLE, writes)
    assert grown is not None
    assert _columns(grown) == ["Id", "Source", "Customer", *added]
    assert _attr(grown, b"<table ", b"ref") == ref
    assert _attr(grown, b"<autoFilter", b"ref") == ref
    assert f'<tableColumns count="{3 + len(added)}">'.encode() in grown
    assert b'<tableColumn id="8" ' in grown  # above the largest id (7), never reused
    # Everything else in the part is as it was.
    assert (
        grown.split(b"<autoFilter")[0].replace(ref.encode(), b"B2:D9")
        == TABLE.split(b"<autoFilter")[0]
    )
    assert grown.endswith(TABLE[TABLE.index(b"</tableColumns>") :])


@pytest.mark.parametrize(
    "writes",
    [
        {3: {3: "inside the table"}},  # a data cell inside the range
        {2: {3: "Source"}},  # a header inside the range
        {2: {6: "Flags"}},  # not adjacent: a gap column between
        {3: {5: "Flags"}},  # beside it, but not in its header row
        {2: {5: "customer"}},  # a name the table already has (ignoring case)
        {2: {5: ""}},
        {2: {5: 12}},
    ],
)
def test_table_unchanged(writes: dict) -> None:
    assert extend_table(TABLE, writes) is None


def test_table_without_header_row_is_left_alone() -> None:
    xml = TABLE.replace(b'totalsRowShown="0"', b'headerRowCount="0"')
    assert extend_table(xml, {2: {5: "Flags"}}) is None


def test_prefixed_table_part() -> None:
    xml = (
        b'<x:table xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" id="2" '
        b"name='T' displayName='T' ref='A1:A3'><x:tableColumns count='1'>"
        b"<x:tableColumn id='1' name='Id'/></x:tableColumns></x:table>"
    )
    grown = extend_table(xml, {1: {2: "Flags"}})
    assert grown is not None
    assert b'ref="A1:B3"' in grown
    assert b'<x:tableColumn id="2" name="Flags"/></x:tableColumns>' in grown


def test_table_parts_from_sheet_rels() -> None:
    rels = (
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/table" Target="../tables/table3.xml"/>'
        b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/comments" Target="../comments1.xml"/></Relationships>'
    )
    assert table_parts("xl/worksheets/sheet2.xml", rels) == ["xl/tables/table3.xml"]


def _columns(xml: bytes) -> list[str]:
    import html
    import re

    found = re.findall(rb'<tableColumn [^>]*name="([^"]*)"', xml)
    return [html.unescape(m.decode()) for m in found]


def _attr(xml: bytes, tag: bytes, name: bytes) -> str:
    import re

    start = xml.index(tag)
    m = re.search(rb"\s" + name + rb"""=["']([^"']*)""", xml[start : xml.index(b">", start)])
    assert m is not None
    return m.group(1).decode()


# --------------------------------------------------------------------------- on real files


@pytest.fixture
def table_book(tmp_path: Path) -> Path:
    path = tmp_path / "table.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Leads")
    rows = [["L1", "web", "Acme"], ["L2", "fair", "Beta"], ["L3", "web", "Gamma"]]
    ws.add_table(
        "B2:D5",
        {"data": rows, "columns": [{"header": h} for h in ("Id", "Source", "Customer")]},
    )
    ws.add_table("G2:G3", {"columns": [{"header": "Other"}]})
    wb.close()
    return path


def _tables(path: Path) -> dict[str, tuple[str, list[str]]]:
    wb = openpyxl.load_workbook(path)
    return {t.name: (t.ref, [c.name for c in t.tableColumns]) for t in wb["Leads"].tables.values()}


def test_new_owned_column_extends_the_table(table_book: Path, tmp_path: Path) -> None:
    before = {i.filename: i for i in zipfile.ZipFile(table_book).infolist()}
    plan = WritePlan(
        cells={
            "Leads": [
                CellWrite(2, 5, "⚙ Flags", style_like=(2, 4)),
                CellWrite(4, 5, "bad source"),
            ]
        }
    )
    apply_plan(table_book, plan)
    assert _tables(table_book) == {
        "Table1": ("B2:E5", ["Id", "Source", "Customer", "⚙ Flags"]),
        "Table2": ("G2:G3", ["Other"]),
    }
    with zipfile.ZipFile(table_book) as zf:
        after = {i.filename: i for i in zf.infolist()}
        assert after["xl/tables/table2.xml"].CRC == before["xl/tables/table2.xml"].CRC
    # Writing inside the range afterwards changes the table part no more.
    table1 = zipfile.ZipFile(table_book).read("xl/tables/table1.xml")
    apply_plan(table_book, WritePlan(cells={"Leads": [CellWrite(5, 5, "late")]}))
    assert zipfile.ZipFile(table_book).read("xl/tables/table1.xml") == table1


@pytest.mark.libreoffice
def test_libreoffice_opens_the_grown_table(table_book: Path, tmp_path: Path) -> None:
    apply_plan(
        table_book,
        WritePlan(cells={"Leads": [CellWrite(2, 5, "Flags"), CellWrite(3, 5, "ok")]}),
    )
    soffice = shutil.which("soffice")
    assert soffice is not None
    out = tmp_path / "out"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            str(table_book),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    rows = CalamineWorkbook.from_path(str(out / "table.xlsx")).get_sheet_by_name("Leads")
    grid = rows.to_python(skip_empty_area=False)
    assert grid[1][1:5] == ["Id", "Source", "Customer", "Flags"]
    assert grid[2][4] == "ok"
    assert _tables(out / "table.xlsx")["Table1"][0] == "B2:E5"
