"""A tab salesync regenerates (the Issues tab, the metric tabs) comes with a filter over its
header, named in the workbook part as Excel and LibreOffice name one: a hidden
`_xlnm._FilterDatabase` local to the tab. The name follows the tab's size from one write to the
next, and every other name in the workbook stays as it was."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.workbook.defined_name import DefinedName

from sync.backends.xlsx import _with_filter_names, apply_plan
from sync.backends.xlsx_tabs import filtered_cells
from sync.core.model import TabWrite, WritePlan
from tests.templates.libreoffice import convert

ISSUES = (("Severity", "Code", "Message"), ("Error", "required", "a"), ("Warning", "late", "b"))


def _book(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Leads"
    ws.append(["Lead ID", "Customer"])
    ws.append(["L1", "Acme"])
    wb.defined_names["Rate"] = DefinedName("Rate", attr_text="Leads!$B$2")
    ws.print_area = "A1:B2"
    wb.save(path)
    return path


def _names(path: Path) -> list[str]:
    workbook = zipfile.ZipFile(path).read("xl/workbook.xml").decode()
    return re.findall(r"<definedName\b.*?</definedName>", workbook)


def _filters(path: Path) -> list[str]:
    return [name for name in _names(path) if "_xlnm._FilterDatabase" in name]


def _sheet_xml(path: Path, title: str) -> str:
    with zipfile.ZipFile(path) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
        rid = re.search(rf'<sheet name="{title}" sheetId="\d+"[^>]* r:id="(rId\d+)"', workbook)
        assert rid is not None
        target = re.search(rf'Id="{rid.group(1)}"[^>]*Target="([^"]+)"', rels)
        assert target is not None
        return zf.read("xl/" + target.group(1).removeprefix("/xl/")).decode()


def test_a_regenerated_tab_gets_a_filter_and_its_name(tmp_path: Path) -> None:
    path = _book(tmp_path / "book.xlsx")
    others = [name for name in _names(path) if "_FilterDatabase" not in name]
    assert len(others) == 2  # Rate, and the print area

    apply_plan(path, WritePlan(tabs=[TabWrite("Issues", ISSUES)]))
    assert '<autoFilter ref="A1:C3"/>' in _sheet_xml(path, "Issues")
    assert _filters(path) == [
        '<definedName name="_xlnm._FilterDatabase" localSheetId="1" hidden="1">'
        "'Issues'!$A$1:$C$3</definedName>"
    ]
    assert [name for name in _names(path) if "_FilterDatabase" not in name] == others
    ws = openpyxl.load_workbook(path)["Issues"]
    assert ws.auto_filter.ref == "A1:C3"

    # rewritten shorter: the same name, its range following the tab
    apply_plan(path, WritePlan(tabs=[TabWrite("Issues", ISSUES[:2])]))
    assert '<autoFilter ref="A1:C2"/>' in _sheet_xml(path, "Issues")
    assert _filters(path) == [
        '<definedName name="_xlnm._FilterDatabase" localSheetId="1" hidden="1">'
        "'Issues'!$A$1:$C$2</definedName>"
    ]
    # without a header row, no filter, and the old name goes with it
    apply_plan(path, WritePlan(tabs=[TabWrite("Issues", ISSUES, header_rows=0)]))
    assert "autoFilter" not in _sheet_xml(path, "Issues")
    assert _filters(path) == []
    assert [name for name in _names(path) if "_FilterDatabase" not in name] == others


def test_the_filter_covers_the_last_header_row_to_the_last_row() -> None:
    assert filtered_cells(TabWrite("T", ISSUES)) == ((1, 1), (3, 3))
    assert filtered_cells(TabWrite("T", ((), ("a", "b", "c", "d"), ("x",)), header_rows=2)) == (
        (2, 1),
        (3, 4),
    )
    assert filtered_cells(TabWrite("T", ())) is None
    assert filtered_cells(TabWrite("T", ISSUES, header_rows=0)) is None


WORKBOOKS = {
    "no names, before calcPr": (
        '<workbook xmlns="m"><sheets><sheet name="A"/><sheet name="It&apos;s R&amp;D"/>'
        '</sheets><calcPr calcId="1"/></workbook>',
        '<workbook xmlns="m"><sheets><sheet name="A"/><sheet name="It&apos;s R&amp;D"/>'
        '</sheets><definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="1" '
        "hidden=\"1\">'It''s R&amp;D'!$A$1:$C$3</definedName></definedNames>"
        '<calcPr calcId="1"/></workbook>',
    ),
    "no names, nothing after the sheets": (
        '<x:workbook xmlns:x="m"><x:sheets><x:sheet name="It&apos;s R&amp;D"/></x:sheets>'
        "</x:workbook>",
        '<x:workbook xmlns:x="m"><x:sheets><x:sheet name="It&apos;s R&amp;D"/></x:sheets>'
        '<x:definedNames><x:definedName name="_xlnm._FilterDatabase" localSheetId="0" '
        "hidden=\"1\">'It''s R&amp;D'!$A$1:$C$3</x:definedName></x:definedNames>"
        "</x:workbook>",
    ),
    "LibreOffice's old name replaced, the others kept": (
        '<workbook xmlns="m"><sheets><sheet name="A"/><sheet name="It&apos;s R&amp;D"/>'
        '</sheets><definedNames><definedName function="false" hidden="true" localSheetId="1" '
        'name="_xlnm._FilterDatabase" vbProcedure="false">x!$A$1:$B$9</definedName>'
        '<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">A!$A$1:$B$2'
        '</definedName><definedName name="Rate">A!$B$2</definedName></definedNames></workbook>',
        '<workbook xmlns="m"><sheets><sheet name="A"/><sheet name="It&apos;s R&amp;D"/>'
        '</sheets><definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="1" '
        "hidden=\"1\">'It''s R&amp;D'!$A$1:$C$3</definedName>"
        '<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">A!$A$1:$B$2'
        '</definedName><definedName name="Rate">A!$B$2</definedName></definedNames></workbook>',
    ),
}


@pytest.mark.parametrize(("before", "after"), WORKBOOKS.values(), ids=list(WORKBOOKS))
def test_the_filter_name_goes_where_the_schema_puts_it(before: str, after: str) -> None:
    cells = filtered_cells(TabWrite("T", ISSUES))
    named = _with_filter_names(before.encode(), {"it's r&d": cells})  # names: any case
    assert named.decode() == after
    assert _with_filter_names(named, {"It's R&D": cells}) == named  # nothing to change


@pytest.mark.libreoffice
def test_libreoffice_shows_the_filter(tmp_path: Path) -> None:
    path = _book(tmp_path / "book.xlsx")
    apply_plan(path, WritePlan(tabs=[TabWrite("Issues", ISSUES)]))
    out = convert(path, tmp_path, "xlsx") / "book.xlsx"
    assert 'autoFilter ref="A1:C3"' in _sheet_xml(out, "Issues")
    assert any("Issues!$A$1:$C$3" in name for name in _filters(out))
