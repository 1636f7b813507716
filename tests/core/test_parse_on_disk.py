"""Every parsing form, written to a real .xlsx by openpyxl and read back through the backend.

The in-memory tables of cases live in test_parse.py; this file proves the same forms survive a
real file: date cells, serial numbers in General cells, text, full-width digits, bool cells.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest

from sync.backends.xlsx import XlsxBackend
from sync.job import sync_workbook

AS_OF = datetime(2026, 6, 30, 18, 0)
HEADERS = [
    "线索编号",
    "来源类型",
    "客户名称",
    "联系方式",
    "创建时间",
    "预计金额",
    "赢率",
    "预算",
    "预计成交",
]

# (cell as typed, field, expected parsed value, expected issue code or None)
CASES = [
    (datetime(2026, 6, 2, 14, 30), "created_at", datetime(2026, 6, 2, 14, 30), None),
    (date(2026, 6, 2), "created_at", datetime(2026, 6, 2), None),
    (46175.5, "created_at", datetime(2026, 6, 2, 12, 0), None),  # a serial in a General cell
    ("2026-06-02", "created_at", datetime(2026, 6, 2), None),
    ("2026-06-02T14:30", "created_at", datetime(2026, 6, 2, 14, 30), None),
    ("2026/6/2", "created_at", datetime(2026, 6, 2), None),
    ("2026-6-2 14:30", "created_at", datetime(2026, 6, 2, 14, 30), None),
    ("2026年6月2日", "created_at", datetime(2026, 6, 2), None),
    ("２０２６年６月２日", "created_at", datetime(2026, 6, 2), None),
    ("6月2日", "created_at", datetime(2026, 6, 2), "year-inferred"),
    ("2026-13-45", "created_at", None, "invalid-date"),
    ("2026/6/2", "expected_close", date(2026, 6, 2), None),
    ("1,234,567", "expected_amount", 1234567.0, None),
    ("１２３", "expected_amount", 123.0, None),
    ("50万", "expected_amount", 500000.0, None),
    ("¥1,200.50", "expected_amount", 1200.5, None),
    (880, "expected_amount", 880.0, None),
    ("a lot", "expected_amount", None, "invalid-number"),
    ("85%", "probability", 0.85, None),
    (0.85, "probability", 0.85, None),
    (85, "probability", 0.85, None),
    ("是", "budget", True, None),
    ("否", "budget", False, None),
    ("Y", "budget", True, None),
    ("n", "budget", False, None),
    ("✓", "budget", True, None),
    ("✗", "budget", False, None),
    (True, "budget", True, None),
    ("FALSE", "budget", False, None),
    ("也许", "budget", None, "invalid-bool"),
    ("官网", "source", "website", None),
    ("行業展會", "source", "trade_show", None),
    ("Partner referral", "source", "partner", None),
    ("展会-行业展", "source", "trade_show", None),
    ("抖音直播", "source", None, "invalid-choice"),
    ("013812345678", "phone_or_email", "013812345678", None),
    ("0755-1234 5678", "phone_or_email", "0755-1234 5678", None),
    ("\u3000013812345678\u200b", "phone_or_email", "013812345678", None),  # marks around it
    ("\u3000", "created_at", None, None),  # a full-width space is a blank cell
    (-0.0, "expected_amount", -0.0, None),
]
COLUMN = {
    "source": 1,
    "phone_or_email": 3,
    "created_at": 4,
    "expected_amount": 5,
    "probability": 6,
    "budget": 7,
    "expected_close": 8,
}


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    from tests.conftest import write_xlsx

    rows = [HEADERS]
    for n, (typed, field, _, _) in enumerate(CASES):
        row: list[object] = [f"L{n}", "官网", "客户", None, None, None, None, None, None]
        row[COLUMN[field]] = typed
        rows.append(row)
    path = write_xlsx(tmp_path_factory.mktemp("forms") / "forms.xlsx", {"线索跟踪": rows})
    result = sync_workbook(XlsxBackend(path), write=False, as_of=AS_OF)
    return result.tables["leads"], result.issues


@pytest.mark.parametrize(("index", "case"), list(enumerate(CASES)), ids=lambda c: repr(c))
def test_each_form_reads_back_from_a_real_file(parsed: tuple, index: int, case: tuple) -> None:
    _typed, field, expected, code = case
    table, issues = parsed
    assert table.values[field][index] == expected
    row_issues = [i.code for i in issues if i.row == index + 2]
    assert row_issues == ([code] if code else [])


def test_rows_keep_their_spreadsheet_numbers(parsed: tuple) -> None:
    table, _ = parsed
    assert table.rows == list(range(2, len(CASES) + 2))


def test_error_values_from_a_real_file(tmp_path_factory: pytest.TempPathFactory) -> None:
    import xlsxwriter

    path = tmp_path_factory.mktemp("errors") / "errors.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("线索跟踪")
    sheet.write_row(0, 0, HEADERS)
    for row, (formula, shown) in enumerate(
        [("=NA()", "#N/A"), ("=1/0", "#DIV/0!"), ('=VALUE("x")', "#VALUE!")], start=1
    ):
        sheet.write_row(row, 0, [f"L{row}", "官网", "客户"])
        sheet.write_formula(row, 5, formula, None, shown)
    book.close()
    result = sync_workbook(XlsxBackend(path), write=False, as_of=AS_OF)
    assert [(i.code, i.row, i.column, i.value) for i in result.issues if i.tab == "线索跟踪"] == [
        ("excel-error", 2, "F", "#N/A"),
        ("excel-error", 3, "F", "#DIV/0!"),
        ("excel-error", 4, "F", "#VALUE!"),
    ]


def test_a_year_inferred_date_says_which_year(parsed: tuple, xlsx: Callable) -> None:
    _, issues = parsed
    issue = next(i for i in issues if i.code == "year-inferred")
    assert issue.severity == "info" and "2026" in issue.message


def test_blank_and_flag_only_rows_are_not_data_rows(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from tests.conftest import write_xlsx

    rows = [
        [*HEADERS, "系统提示"],  # the flags column: the job's, not the users'
        ["L1", "官网", "客户甲"],
        [None, None, None, None, None, None, None, None, None, "旧标记"],
        ["\u3000", "", " "],
        [None, None, "客户乙", None, "2026-06-02"],  # no lead id, still a row the user typed
        ["L4", "展会", "客户丙"],
    ]
    path = write_xlsx(tmp_path_factory.mktemp("gaps") / "gaps.xlsx", {"线索跟踪": rows})
    result = sync_workbook(XlsxBackend(path), write=False, as_of=AS_OF)
    leads = result.tables["leads"]
    assert leads.rows == [2, 5, 6]
    assert leads.values["lead_id"] == ["L1", None, "L4"]
    assert leads.values["created_at"] == [None, datetime(2026, 6, 2), None]
    assert leads.values["customer"] == ["客户甲", "客户乙", "客户丙"]
