"""The metrics through the whole job on real files: tabs written, Settings scoring honoured,
a manager's edit followed on the next run."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook

from sync.backends.xlsx import XlsxBackend
from sync.job import sync_workbook
from tests.conftest import write_xlsx

AS_OF = datetime(2026, 7, 31, 18, 0)
CONTRACTS = [
    ["合同编号", "客户名称", "负责人", "签约日期", "合同金额"],
    ["C1", "甲公司", "李雷", datetime(2026, 7, 3), 60],
    ["C2", "乙公司", "李雷", datetime(2026, 7, 10), 50],
    ["C3", "丙公司", "李雷", datetime(2026, 7, 20), 58],
]
TARGETS = [["销售员", "周期", "目标销售额"], ["李雷", "2026-07", 150]]
SETTINGS_222 = [
    ["设置项", "值"],
    ["金额单位", "万元"],
    [],
    ["考核指标", "维度", "权重", "目标值"],
    ["线索转化率", "过程", "30", "30%"],
    ["方案按时提交率", "过程", "40", "95%"],
    ["周均跟进次数", "过程", "52", "3"],
    ["销售目标完成率", "结果", "60", "100%"],
    ["回款率", "结果", "40", "90%"],
]


def book(tmp_path: Path, settings: list | None = None, target: float = 150) -> Path:
    targets = [TARGETS[0], ["李雷", "2026-07", target]]
    sheets = {"合同订单": CONTRACTS, "目标": targets, "销售人员": [["姓名"], ["李雷"]]}
    if settings:
        sheets["设置"] = settings
    return write_xlsx(tmp_path / "book.xlsx", sheets)


def performance_row(path: Path) -> dict[str, object]:
    ws = load_workbook(path)["业绩"]
    header = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[1] == "2026-07")
    return dict(zip(header, row, strict=True))


def test_the_source_templates_worked_example_lands_in_the_performance_tab(tmp_path: Path) -> None:
    path = book(tmp_path)
    sync_workbook(XlsxBackend(path), write=True, as_of=AS_OF)
    row = performance_row(path)
    assert (row["目标销售额"], row["实际销售额"], row["新签客户数"]) == (150, 168, 3)
    assert round(row["完成率"], 4) == 1.12 and row["客单价"] == 56


def test_a_target_edited_between_runs_is_followed(tmp_path: Path) -> None:
    path = book(tmp_path)
    sync_workbook(XlsxBackend(path), write=True, as_of=AS_OF)
    wb = load_workbook(path)
    wb["目标"]["C2"] = 200  # the manager edits the cell
    wb.save(path)
    sync_workbook(XlsxBackend(path), write=True, as_of=AS_OF)
    assert performance_row(path)["完成率"] == 0.84


def test_weights_that_add_up_to_222_are_reported_not_summed(tmp_path: Path) -> None:
    path = book(tmp_path, SETTINGS_222)
    result = sync_workbook(XlsxBackend(path), write=True, as_of=AS_OF)
    [issue] = [i for i in result.issues if i.code == "weights-not-100"]
    assert issue.severity == "error" and "222%" in issue.message and "5" in issue.message
    ws = load_workbook(path)["绩效"]
    totals = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[3] == "总分"]
    assert totals and all(r[8] is None for r in totals)  # no weighted total is written
    assert not any(i.tab == "设置" and i.code == "unknown-setting" for i in result.issues)
