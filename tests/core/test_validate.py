"""Every validation rule, on workbooks written to disk by openpyxl and read back by salesync."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from sync.backends.xlsx import XlsxBackend
from sync.core.schema import Lang, Severity
from sync.job import SyncResult, sync_workbook

AS_OF = datetime(2026, 6, 30, 18, 0)
LEADS = [
    "Lead ID",
    "Source",
    "Customer",
    "Owner",
    "Created at",
    "Assigned at",
    "First contact at",
    "Budget",
    "Authority",
    "Need fit",
    "Timeline",
    "BANT class",
    "Expected amount",
    "Probability",
]
REPS = [["Name", "Team"], ["Li Lei", "East"], ["Han Mei", "East"]]


def lead(lead_id: str = "L1", **values: object) -> list[object]:
    row: dict[str, object] = {
        "Lead ID": lead_id,
        "Source": "Website",
        "Customer": "Acme",
        "Owner": "Li Lei",
        "Created at": datetime(2026, 6, 1, 9),
        "Assigned at": datetime(2026, 6, 1, 10),
        "First contact at": datetime(2026, 6, 1, 15),
    }
    row.update({k.replace("_", " "): v for k, v in values.items()})
    return [row.get(h) for h in LEADS]


def check(path: Path) -> SyncResult:
    return sync_workbook(XlsxBackend(path), write=False, as_of=AS_OF)


def found(result: SyncResult, severity: Severity | None = None) -> list[tuple]:
    return [
        (i.code, i.tab, i.row, i.column)
        for i in result.issues
        if i.code != "missing-tab" and (severity is None or i.severity is severity)
    ]


def test_a_clean_workbook_has_no_issues(xlsx: Callable) -> None:
    result = check(xlsx({"Leads": [LEADS, lead("L1"), lead("L2")], "Reps": REPS}))
    assert found(result) == []


def test_required_blank_is_reported_with_row_column_and_header(xlsx: Callable) -> None:
    result = check(xlsx({"Leads": [LEADS, lead("L1", Customer=None)], "Reps": REPS}))
    [issue] = [i for i in result.issues if i.code == "required"]
    assert (issue.tab, issue.row, issue.column, issue.header) == ("Leads", 2, "C", "Customer")
    assert issue.message == "Customer is required but blank."
    assert issue.severity is Severity.ERROR


def test_blank_and_whitespace_rows_are_skipped(xlsx: Callable) -> None:
    rows = [LEADS, lead("L1"), [None] * 3, ["  ", "\u3000", ""], lead("L2")]
    result = check(xlsx({"Leads": rows, "Reps": REPS}))
    assert result.tables["leads"].rows == [2, 5]
    assert found(result) == []


def test_duplicate_ids_are_reported_on_every_later_occurrence(xlsx: Callable) -> None:
    rows = [LEADS, lead("L1"), lead("L2"), lead("l1 "), lead("L1")]
    result = check(xlsx({"Leads": rows, "Reps": REPS}))
    assert found(result) == [("duplicate-id", "Leads", 4, "A"), ("duplicate-id", "Leads", 5, "A")]
    assert "2" in next(i for i in result.issues if i.code == "duplicate-id").message


def test_references_to_missing_leads_and_contracts(xlsx: Callable) -> None:
    follow = [
        ["Date", "Lead ID", "Method", "Rep"],
        [datetime(2026, 6, 2), "L1", "Phone", "Li Lei"],
        [datetime(2026, 6, 2), "L9", "电话", "Li Lei"],
    ]
    collections = [["Invoice no.", "Contract ID", "Invoice amount"], ["F1", "C404", 100]]
    contracts = [
        ["Contract ID", "Customer", "Owner", "Signed on", "Amount"],
        ["C1", "Acme", "Li Lei", datetime(2026, 6, 3), 1000],
    ]
    result = check(
        xlsx(
            {
                "Leads": [LEADS, lead("L1")],
                "Follow-ups": follow,
                "Contracts": contracts,
                "Collections": collections,
                "Reps": REPS,
            }
        )
    )
    assert found(result) == [
        ("unknown-reference", "Collections", 2, "B"),
        ("unknown-reference", "Follow-ups", 3, "B"),
    ]
    follow_up = next(i for i in result.issues if i.tab == "Follow-ups")
    assert follow_up.message == "“L9” does not exist in Lead ID of Leads."


def test_unknown_rep_is_a_warning_only_when_reps_has_rows(xlsx: Callable) -> None:
    rows = [LEADS, lead("L1", Owner="Wang Xiaoming")]
    with_roster = check(xlsx({"Leads": rows, "Reps": REPS}))
    assert found(with_roster) == [("unknown-rep", "Leads", 2, "D")]
    assert next(i for i in with_roster.issues if i.code == "unknown-rep").severity is (
        Severity.WARNING
    )
    no_roster = check(xlsx({"Leads": rows, "Reps": [["Name", "Team"]]}))
    assert found(no_roster) == []


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"Source": "TikTok live"}, [("invalid-choice", "Leads", 2, "B")]),
        ({"Source": "展会-行业展"}, []),
        ({"Source": "行業展會"}, []),
        ({"Budget": "maybe"}, [("invalid-bool", "Leads", 2, "H")]),
        ({"Created at": "2026-13-45"}, [("invalid-date", "Leads", 2, "E")]),
        ({"Expected amount": "lots"}, [("invalid-number", "Leads", 2, "M")]),
        ({"Expected amount": -5}, [("negative-amount", "Leads", 2, "M")]),
        ({"Probability": "150%"}, [("out-of-range", "Leads", 2, "N")]),
        ({"Probability": -0.2}, [("out-of-range", "Leads", 2, "N")]),
        ({"Probability": "85%"}, []),
    ],
)
def test_cell_rules(xlsx: Callable, values: dict, expected: list) -> None:
    result = check(xlsx({"Leads": [LEADS, lead("L1", **values)], "Reps": REPS}))
    assert found(result) == expected


def test_first_contact_before_assignment_is_impossible(xlsx: Callable) -> None:
    row = lead("L1", First_contact_at=datetime(2026, 6, 1, 9, 30))
    result = check(xlsx({"Leads": [LEADS, row], "Reps": REPS}))
    issue = next(i for i in result.issues if i.code == "impossible-order")
    assert (issue.row, issue.column, issue.severity) == (2, "G", Severity.ERROR)
    assert "Assigned at" in issue.message


def test_a_date_typed_without_time_is_not_out_of_order_on_the_same_day(xlsx: Callable) -> None:
    row = lead(
        "L1",
        Created_at=datetime(2026, 6, 1, 9),
        Assigned_at="2026-06-01",
        First_contact_at="2026/6/1 15:00",
    )
    assert found(check(xlsx({"Leads": [LEADS, row], "Reps": REPS}))) == []


def test_received_before_invoiced(xlsx: Callable) -> None:
    collections = [
        ["Invoice no.", "Contract ID", "Invoiced on", "Invoice amount", "Received on"],
        ["F1", "C1", datetime(2026, 6, 5), 100, datetime(2026, 6, 4)],
    ]
    result = check(xlsx({"Collections": collections}))
    assert found(result) == [("impossible-order", "Collections", 2, "E")]


def test_excel_error_values_are_issues(tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "errors.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("Collections")
    sheet.write_row(0, 0, ["Invoice no.", "Contract ID", "Invoice amount", "Received amount"])
    sheet.write_row(1, 0, ["F1", "C1", 100])
    sheet.write_formula(1, 3, "=NA()", None, "#N/A")
    sheet.write_row(2, 0, ["F2", "C1"])
    sheet.write_formula(2, 2, "=1/0", None, "#DIV/0!")
    book.close()
    result = check(path)
    assert [
        (i.code, i.row, i.column, i.value) for i in result.issues if i.code == "excel-error"
    ] == [("excel-error", 2, "D", "#N/A"), ("excel-error", 3, "C", "#DIV/0!")]
    assert not any(i.code == "required" for i in result.issues)  # one issue per bad cell


@pytest.mark.parametrize(
    ("answers", "entered", "computed", "codes"),
    [
        (("是", "是", "是", "是"), None, "A", []),
        (("Y", "N", "✓", "✗"), None, "B", []),
        ((True, False, False, False), None, "C", []),
        (("是", "否", "否", "否"), "A", None, ["bant-mismatch"]),
        (("是", "是", "是", "是"), "A", None, []),
        (("是", None, "是", "是"), None, None, []),  # unanswered: nothing computed
    ],
)
def test_bant_class_is_computed_when_blank_and_checked_when_entered(
    xlsx: Callable, answers: tuple, entered: str | None, computed: str | None, codes: list
) -> None:
    row = lead(
        "L1",
        Budget=answers[0],
        Authority=answers[1],
        Need_fit=answers[2],
        Timeline=answers[3],
        BANT_class=entered,
    )
    result = check(xlsx({"Leads": [LEADS, row], "Reps": REPS}))
    assert [i.code for i in result.issues if i.code != "missing-tab"] == codes
    writes = {(w.row, w.col): w.value for w in result.plan.cells.get("Leads", [])}
    assert writes.get((2, 12)) == computed


def test_settings_change_the_amount_unit_and_bant_rule(xlsx: Callable) -> None:
    settings = [
        ["Setting", "Value"],
        ["Amount unit", "万元"],
        ["BANT A: yes answers", 3],
        ["favourite colour", "blue"],
        ["BANT B: yes answers", "lots"],
    ]
    row = lead(
        "L1", Expected_amount="50万", Budget="是", Authority="是", Need_fit="是", Timeline="否"
    )
    result = check(xlsx({"Leads": [LEADS, row], "Reps": REPS, "Settings": settings}))
    assert result.settings.amount_unit == "wan_yuan"
    assert result.tables["leads"].values["expected_amount"] == [50.0]
    assert [(i.code, i.row) for i in result.issues if i.tab == "Settings"] == [
        ("unknown-setting", 4),
        ("invalid-setting", 5),
    ]
    writes = {(w.row, w.col): w.value for w in result.plan.cells["Leads"]}
    assert writes[(2, 12)] == "A"  # 3 yes is an A under this workbook's rule


def test_the_language_setting_wins_over_the_headers(xlsx: Callable) -> None:
    settings = [["设置项", "值"], ["语言", "English"]]
    result = check(
        xlsx(
            {
                "线索跟踪": [["线索编号", "来源类型", "客户名称"], ["L1", "官网", None]],
                "设置": settings,
            }
        )
    )
    assert result.lang is Lang.EN
    assert "is required but blank" in next(i for i in result.issues if i.code == "required").message


def test_messages_follow_the_workbook_language(xlsx: Callable) -> None:
    result = check(
        xlsx({"線索跟蹤": [["線索編號", "來源類型", "客戶名稱"], ["L1", "官網註冊", None]]})
    )
    assert result.lang is Lang.ZH_HANT
    issue = next(i for i in result.issues if i.code == "required")
    assert issue.message == "「客戶名稱」為必填，但為空白。"
