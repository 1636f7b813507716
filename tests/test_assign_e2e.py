"""Lead assignment end to end on a real file: proposals, `run --assign`, duplicates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook

from tests.conftest import write_xlsx

LEADS = ["线索编号", "来源类型", "客户名称", "区域", "联系方式", "负责人", "创建时间", "分配时间"]
ROWS = [
    [
        "L1",
        "官网",
        "甲科技有限公司",
        "华东",
        "13812345678",
        "李雷",
        datetime(2026, 6, 1, 9),
        datetime(2026, 6, 1, 10),
    ],
    ["L2", "官网", "乙制造", "华东", None, None, datetime(2026, 6, 2, 9), None],
    ["L3", "官网", "丙物流", "华南", None, None, datetime(2026, 6, 3, 9), None],
    ["L4", "官网", "丁能源", "西北", None, None, datetime(2026, 6, 4, 9), None],
    [
        "L5",
        "官网",
        "甲科技（上海）有限公司",
        "华东",
        "+86 138-1234-5678",
        "韩梅",
        datetime(2026, 6, 5, 9),
        datetime(2026, 6, 5, 11),
    ],
    ["L6", "官网", "戊电子", "华东", None, None, datetime(2026, 6, 6, 9), datetime(2026, 6, 6, 9)],
]
REPS = [
    ["姓名", "团队", "在职"],
    ["李雷", "华东组", "是"],
    ["韩梅", "华东组", "是"],
    ["王芳", "华南组", "是"],
    ["赵强", "华南组", "否"],
]
SETTINGS = [
    ["设置项", "值"],
    ["金额单位", "元"],
    [],
    ["区域", "分配给", "分配方式"],
    ["华东", "华东组", "轮流"],
    ["华南", "华南组", "最少"],
]


def workbook(tmp_path: Path) -> Path:
    return write_xlsx(
        tmp_path / "leads.xlsx", {"线索跟踪": [LEADS, *ROWS], "销售人员": REPS, "设置": SETTINGS}
    )


def column(ws, header: str) -> dict[int, object]:
    col = next(c.column for c in ws[1] if c.value == header)
    return {r: ws.cell(r, col).value for r in range(2, ws.max_row + 1)}


def test_run_proposes_owners_and_reports_what_it_cannot(cli: Callable, tmp_path: Path) -> None:
    path = workbook(tmp_path)
    result = cli("run", str(path), "--as-of", "2026-06-10T12:00", "--json", "--fail-on", "never")
    codes = [(i["code"], i["row"]) for i in result.json()["issues"] if i["tab"] == "线索跟踪"]
    assert ("assign-no-rule", 5) in codes  # 西北 has no rule: reported, not guessed
    assert ("duplicate-customer", 2) in codes and ("duplicate-customer", 6) in codes
    ws = load_workbook(path)["线索跟踪"]
    suggested = column(ws, "⚙ 建议负责人")
    assert suggested[3] in {"李雷", "韩梅"}
    assert suggested[4] == "王芳"  # 赵强 is inactive
    assert suggested[5] is None and suggested[2] is None  # no rule; already owned
    assert column(ws, "负责人")[3] is None  # the users' own column is left alone
    assert column(ws, "⚙ 重复组")[6] == 2  # the same company as row 2, which is kept


def test_run_assign_fills_only_blank_owner_cells(cli: Callable, tmp_path: Path) -> None:
    path = workbook(tmp_path)
    before = load_workbook(path)["线索跟踪"]
    typed = {
        (c.row, c.column): c.value for row in before.iter_rows() for c in row if c.value is not None
    }
    result = cli("run", str(path), "--assign", "--as-of", "2026-06-10T12:00", "--fail-on", "never")
    assert result.code == 0
    ws = load_workbook(path)["线索跟踪"]
    for (r, c), value in typed.items():
        assert ws.cell(r, c).value == value, (r, c)  # every non-blank user cell as it was
    owners, assigned = column(ws, "负责人"), column(ws, "分配时间")
    assert owners[3] in {"李雷", "韩梅"} and owners[4] == "王芳"
    assert assigned[3] == datetime(2026, 6, 10, 12, 0) and assigned[4] == datetime(2026, 6, 10, 12)
    assert owners[5] is None and assigned[5] is None  # no rule matched: nothing guessed
    assert assigned[7] == datetime(2026, 6, 6, 9)  # typed by a user: kept even with no owner
    issues = load_workbook(path)["问题清单"]
    assigned_rows = [r for r in issues.iter_rows(values_only=True) if r[1] == "lead-assigned"]
    assert len(assigned_rows) == 3  # rows 3, 4 and 7
    # The next run no longer lists those assignments (they are done); then nothing changes.
    moment = ("--as-of", "2026-06-10T12:00", "--fail-on", "never")
    cli("run", str(path), "--assign", *moment)
    assert column(load_workbook(path)["线索跟踪"], "负责人") == owners
    again = cli("run", str(path), "--assign", *moment)
    assert "没有需要写回的内容" in again.stdout


def test_repeat_and_referral_business_is_linked_and_counted(cli: Callable, tmp_path: Path) -> None:
    leads = [
        LEADS,
        ["L1", "官网", "甲科技有限公司", "华东", None, "李雷", datetime(2026, 7, 1, 9), None],
        ["L2", "客户推荐-甲科技", "庚医疗", "华东", None, "李雷", datetime(2026, 7, 2, 9), None],
        ["L3", "客户推荐-无名公司", "辛材料", "华东", None, "李雷", datetime(2026, 7, 3, 9), None],
    ]
    contracts = [
        ["合同编号", "客户名称", "负责人", "签约日期", "合同金额"],
        ["C1", "甲科技（上海）有限公司", "李雷", datetime(2026, 3, 1), 100],
    ]
    path = write_xlsx(
        tmp_path / "b.xlsx", {"线索跟踪": leads, "合同订单": contracts, "销售人员": REPS}
    )
    result = cli("run", str(path), "--json", "--as-of", "2026-07-10T12:00", "--fail-on", "never")
    data = result.json()
    referrals = {r["customer"]: r["referred_leads"] for r in data["referrals"]}
    assert referrals == {"甲科技（上海）有限公司": 1, "无名公司": 1}
    assert ("referrer-unknown", 4) in [(i["code"], i["row"]) for i in data["issues"]]
    linked = column(load_workbook(path)["线索跟踪"], "⚙ 关联客户")
    assert linked[2] == "甲科技（上海）有限公司"  # a repeat customer: signed in March
    assert linked[3] == "甲科技（上海）有限公司"  # referred by that customer
    assert linked[4] == "无名公司"
