"""End to end on real files: what `run` writes, what it leaves alone, and that it converges."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.datavalidation import DataValidation

from sync.backends.xlsx import XlsxBackend
from sync.job import sync_workbook
from tests.conftest import write_xlsx
from tests.workbooks import HEADERS, leads_rows

AS_OF = datetime(2026, 6, 30, 18, 0)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(path: Path):
    return sync_workbook(XlsxBackend(path), write=True, as_of=AS_OF)


def styled_workbook(path: Path) -> Path:
    """A lead list dressed the way people dress theirs: title, fills, borders, a formula,
    a comment, a drop-down, a hidden helper tab."""
    write_xlsx(
        path,
        {
            "线索跟踪": leads_rows(),
            "销售人员": [["姓名", "团队"], ["李雷", "华东"], ["韩梅", "华东"]],
            "helper": [["x", "=1+1"]],
        },
    )
    wb = load_workbook(path)
    ws = wb["线索跟踪"]
    ws.merge_cells("A1:E1")
    ws["A1"].font = Font(bold=True, size=16)
    thin = Side(style="thin", color="FF999999")
    for cell in ws[3]:
        cell.fill = PatternFill("solid", fgColor="FFDDEEFF")
        cell.border = Border(bottom=thin)
        cell.alignment = Alignment(horizontal="center")
    ws["C4"].comment = Comment("大客户", "manager")
    ws["E4"].number_format = "yyyy-mm-dd hh:mm"
    ws["N4"] = "=LEN(C4)"
    validation = DataValidation(type="list", formula1='"是,否"')
    ws.add_data_validation(validation)
    validation.add("H4:K100")
    ws.freeze_panes = "A4"
    wb["helper"].sheet_state = "hidden"
    wb.save(path)
    return path


def snapshot(path: Path, skip: dict[str, set[int]]) -> dict[tuple[str, str], tuple]:
    wb = load_workbook(path)
    cells = {}
    for ws in wb.worksheets:
        if ws.title in skip.get("*tabs*", set()):
            continue
        for row in ws.iter_rows():
            for cell in row:
                if cell.column in skip.get(ws.title, set()):
                    continue
                cells[(ws.title, cell.coordinate)] = (
                    cell.value,
                    cell.data_type,
                    cell.number_format,
                    repr(cell.font),
                    repr(cell.fill),
                    repr(cell.border),
                    repr(cell.alignment),
                    repr(cell.protection),
                    cell.comment.text if cell.comment else None,
                )
    return cells


def test_run_writes_owned_cells_only_and_everything_else_keeps_value_type_and_style(
    tmp_path: Path,
) -> None:
    path = styled_workbook(tmp_path / "leads.xlsx")
    before = snapshot(path, {})
    result = run(path)
    assert result.wrote
    header = [c.value for c in load_workbook(path)["线索跟踪"][3]]
    flags_col = header.index("⚙ 系统提示") + 1
    # Owned columns (SLA due and status, days in pipeline, flags) go right of the table, past
    # the user's formula column N.
    added = set(range(15, len(header) + 1))
    assert flags_col in added and all(str(h).startswith("⚙") for h in header[14:])
    owned = {"线索跟踪": added, "*tabs*": {"问题清单"}}
    after = snapshot(path, owned)
    # The BANT class column is filled only where it was blank: L1 gets A, L3 gets B.
    wb = load_workbook(path)
    ws = wb["线索跟踪"]
    assert (ws["L4"].value, ws["L5"].value, ws["L6"].value) == ("A", "A", "B")
    assert ws.cell(3, flags_col).value == "⚙ 系统提示"
    assert "编号重复" in ws.cell(5, flags_col).value
    assert ws.cell(4, flags_col).value is None
    changed = {k for k in before if before[k] != after.get(k)}
    assert changed == {("线索跟踪", "L4"), ("线索跟踪", "L6")}
    assert ws["M5"].value == '=HYPERLINK("x")' and ws["M5"].data_type == "f"  # the user's own
    assert wb["helper"].sheet_state == "hidden"
    assert ws.freeze_panes == "A4"
    assert wb["问题清单"].max_row == len(result.issues) + 1
    assert ws.data_validations.dataValidation[0].sqref is not None


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    path = styled_workbook(tmp_path / "leads.xlsx")
    run(path)
    first = digest(path)
    mtime = path.stat().st_mtime_ns
    again = run(path)
    assert again.plan.is_empty() and not again.wrote
    assert digest(path) == first and path.stat().st_mtime_ns == mtime


def test_text_that_looks_like_a_formula_is_written_as_text(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "f.xlsx",
        {"Leads": [["Lead ID", "Source", "Customer"], ["=cmd|'/c calc'!A1", "nope", "x"]]},
    )
    run(path)
    wb = load_workbook(path)
    issues = wb["Issues"]
    values = [c.value for row in issues.iter_rows(min_row=2) for c in row]
    assert "=cmd|'/c calc'!A1" not in values  # the id is fine; the bad source is quoted as text
    assert all(c.data_type != "f" for row in issues.iter_rows() for c in row)


cell_text = st.sampled_from(
    [
        "",
        " ",
        "L1",
        "L2",
        "l1",
        "官网",
        "展会-行业展",
        "抖音",
        "是",
        "否",
        "Y",
        "✓",
        "maybe",
        "A",
        "B",
        "C",
        "2026-06-01",
        "2026/6/2 10:00",
        "2026-13-45",
        "6月2日",
        "50万",
        "-3",
        "=1+1",
        "#N/A",
    ]
)
moments = st.integers(0, 24 * 60).map(lambda m: datetime(2026, 6, 1) + timedelta(minutes=m))
lead_rows = st.lists(
    st.lists(st.one_of(cell_text, moments, st.none()), min_size=12, max_size=12),
    min_size=0,
    max_size=12,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=lead_rows)
def test_any_second_run_is_a_no_op(tmp_path_factory, rows: list[list[object]]) -> None:
    path = tmp_path_factory.mktemp("prop") / "book.xlsx"
    write_xlsx(path, {"线索跟踪": [HEADERS[:12], *rows], "销售人员": [["姓名"], ["李雷"]]})
    run(path)
    first = digest(path)
    second = run(path)
    assert second.plan.is_empty(), second.plan
    assert digest(path) == first


CONTROLS = [chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]]


def test_text_with_control_characters_is_written_back_as_it_reads(tmp_path: Path) -> None:
    """Excel keeps a control character of a cell's text as `_x000B_` and readers give the
    character back. A value quoted into the Issues tab (an unknown source type here) is written
    the same way, not without the character: else every run read the tab as changed and wrote
    it again, and a second run was never a no-op."""
    import zipfile

    from python_calamine import CalamineWorkbook

    rows = [HEADERS[:12], *[[f"L{n}", f"Billboard@{n}@", "Acme"] for n in range(len(CONTROLS))]]
    sheets = {"线索跟踪": rows, "销售人员": [["姓名"], ["李雷"]]}
    plain = write_xlsx(tmp_path / "plain.xlsx", sheets)
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in zin.infolist():
            data = zin.read(info.filename)
            for n, char in enumerate(CONTROLS):  # the characters as Excel writes them
                data = data.replace(f"@{n}@".encode(), f"_x{ord(char):04X}_".encode())
            out.writestr(info, data)
    run(path)
    quoted = {
        row[6]
        for row in CalamineWorkbook.from_path(str(path)).get_sheet_by_name("问题清单").to_python()
        if row[1] == "invalid-choice"
    }
    assert quoted == {f"Billboard{char}" for char in CONTROLS}
    first = digest(path)
    assert run(path).plan.is_empty()
    assert digest(path) == first
