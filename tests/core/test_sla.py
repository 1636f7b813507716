"""SLA rules: due times per unit, statuses, the Settings rules table, and the sync end to end."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.core.calendar import BusinessCalendar
from sync.core.headers import bind_workbook
from sync.core.model import RawSheet
from sync.core.parse import ParseContext
from sync.core.schema import LANGS, Lang
from sync.core.sla import DEFAULT_RULES, Status, Unit, evaluate, read_rules, rule_rows
from sync.core.tables import parse_tables

CN = BusinessCalendar("CN")
NOW = datetime(2026, 3, 20, 12, 0)


@pytest.mark.parametrize(
    ("start", "limit", "unit", "due"),
    [
        (datetime(2026, 3, 2, 10, 0), 24, "hours", datetime(2026, 3, 3, 10, 0)),
        (datetime(2026, 3, 6, 10, 0), 24, "hours", datetime(2026, 3, 7, 10, 0)),  # clock hours
        (date(2026, 3, 2), 24, "hours", datetime(2026, 3, 3, 0, 0)),  # a bare date: midnight
        (datetime(2026, 3, 2, 10, 0), 7, "days", date(2026, 3, 9)),
        (datetime(2026, 12, 28, 10, 0), 7, "days", date(2027, 1, 4)),  # into the next year
        (datetime(2026, 3, 6, 15, 0), 2, "workdays", date(2026, 3, 10)),  # over a weekend
        (datetime(2026, 2, 12, 15, 0), 2, "workdays", date(2026, 2, 14)),  # makeup Saturday
        (datetime(2026, 2, 13, 15, 0), 2, "workdays", date(2026, 2, 24)),  # Spring Festival
        (datetime(2026, 9, 18, 15, 0), 1, "workdays", date(2026, 9, 20)),  # makeup Sunday
        (datetime(2026, 9, 29, 15, 0), 2, "workdays", date(2026, 10, 8)),  # National Day
        (datetime(2026, 10, 3, 11, 0), 2, "workdays", date(2026, 10, 9)),  # start on a holiday
        (datetime(2025, 12, 31, 15, 0), 2, "workdays", date(2026, 1, 5)),  # next year, 1/4 on
        (datetime(2026, 3, 2, 17, 0), 2, "workhours", datetime(2026, 3, 3, 10, 0)),
        (datetime(2026, 3, 2, 16, 0), 2, "workhours", datetime(2026, 3, 2, 18, 0)),  # closing
        (datetime(2026, 3, 2, 7, 30), 2, "workhours", datetime(2026, 3, 2, 11, 0)),  # early
        (datetime(2026, 2, 13, 17, 0), 2, "workhours", datetime(2026, 2, 14, 10, 0)),
        (datetime(2026, 10, 1, 9, 0), 1, "workhours", datetime(2026, 10, 8, 10, 0)),
    ],
)
def test_due_per_unit(start: Any, limit: float, unit: str, due: Any) -> None:
    result = evaluate(start, None, limit, unit, NOW, CN)
    assert result.due == due and type(result.due) is type(due)


@pytest.mark.parametrize(
    ("done", "as_of", "status", "late"),
    [
        (datetime(2026, 3, 3, 9, 59), NOW, Status.MET, None),
        (datetime(2026, 3, 3, 10, 0), NOW, Status.MET, None),  # exactly on time
        (datetime(2026, 3, 3, 10, 20), NOW, Status.BREACHED, timedelta(minutes=20)),
        (date(2026, 3, 3), NOW, Status.MET, None),  # a day typed without time: by day
        (date(2026, 3, 4), NOW, Status.BREACHED, timedelta(days=1)),
        (None, datetime(2026, 3, 3, 9, 0), Status.OPEN, None),
        (None, datetime(2026, 3, 3, 13, 30), Status.OVERDUE, timedelta(hours=3, minutes=30)),
    ],
)
def test_each_status(done: Any, as_of: datetime, status: Status, late: Any) -> None:
    result = evaluate(datetime(2026, 3, 2, 10, 0), done, 24, Unit.HOURS, as_of, CN)
    assert (result.status, result.late_by) == (status, late)


def test_whole_day_dues_and_no_start() -> None:
    start = date(2026, 3, 2)  # a proposal due that day: limit 0 days
    assert evaluate(start, datetime(2026, 3, 2, 23, 0), 0, "days", NOW, CN).status is Status.MET
    late = evaluate(start, datetime(2026, 3, 4, 8, 0), 0, "days", NOW, CN)
    assert (late.status, late.late_by) == (Status.BREACHED, timedelta(days=2))
    assert evaluate(start, None, 0, "days", datetime(2026, 3, 2, 23, 59), CN).status is Status.OPEN
    overdue = evaluate(start, None, 0, "days", datetime(2026, 3, 3, 0, 1), CN)
    assert (overdue.status, overdue.late_by) == (Status.OVERDUE, timedelta(days=1))
    assert evaluate(None, None, 1, "days", NOW, CN).status is Status.NA


def test_estimated_years_are_carried_by_working_day_results() -> None:
    far = evaluate(datetime(2098, 12, 30, 10), None, 3, "workdays", NOW, CN)
    assert far.estimated_year == 2098
    assert evaluate(datetime(2026, 3, 2, 10), None, 3, "workdays", NOW, CN).estimated_year is None
    assert evaluate(datetime(2098, 12, 30, 10), None, 3, "days", NOW, CN).estimated_year is None


def test_settings_overrides_move_the_due() -> None:
    cal = BusinessCalendar("CN", extra_holidays=[date(2026, 3, 9)])
    assert evaluate(datetime(2026, 3, 6, 15), None, 1, "workdays", NOW, cal).due == date(
        2026, 3, 10
    )


moments = st.datetimes(min_value=datetime(2025, 6, 1), max_value=datetime(2027, 6, 30)).map(
    lambda t: t.replace(second=0, microsecond=0)
)
units = st.sampled_from(list(Unit))
limits = st.integers(min_value=0, max_value=60)


@settings(max_examples=300, deadline=None)
@given(moments, moments, moments, limits, units)
def test_a_later_done_never_improves_the_status(
    start: datetime, done1: datetime, done2: datetime, limit: int, unit: Unit
) -> None:
    early, late = sorted((done1, done2))
    a = evaluate(start, early, limit, unit, NOW, CN)
    b = evaluate(start, late, limit, unit, NOW, CN)
    assert a.status.rank <= b.status.rank
    never = evaluate(start, None, limit, unit, late, CN)
    assert b.status.rank <= never.status.rank or never.status is Status.OPEN


@settings(max_examples=300, deadline=None)
@given(moments, moments, moments, limits, units)
def test_a_later_now_never_improves_an_open_row_and_due_is_never_before_start(
    start: datetime, now1: datetime, now2: datetime, limit: int, unit: Unit
) -> None:
    early, late = sorted((now1, now2))
    a = evaluate(start, None, limit, unit, early, CN)
    b = evaluate(start, None, limit, unit, late, CN)
    assert a.status.rank <= b.status.rank
    due = a.due if isinstance(a.due, datetime) else datetime.combine(a.due, datetime.max.time())
    assert due >= start


# --- the rules table in Settings ------------------------------------------------------------


def _settings_sheet(lang: Lang, rows: list[list[Any]]) -> RawSheet:
    titles = {Lang.ZH_HANS: "设置", Lang.ZH_HANT: "設定", Lang.EN: "Settings"}
    heads = {
        Lang.ZH_HANS: ["设置项", "值", "说明"],
        Lang.ZH_HANT: ["設定項", "值", "說明"],
        Lang.EN: ["Setting", "Value", "Note"],
    }
    return RawSheet(titles[lang], [heads[lang], ["时区", "Asia/Shanghai"], [], *rows])


def _rules(lang: Lang, rows: list[list[Any]]) -> tuple[Any, list[Any]]:
    binding = bind_workbook([_settings_sheet(lang, rows)], lang=lang)
    tables, issues = parse_tables(binding, ParseContext(lang=lang))
    rules, found = read_rules(tables.get("sla_rules"), lang)
    return {r.id: r for r in rules}, issues + found


def _essence(rule: Any) -> tuple:
    cond = rule.condition
    return (
        rule.id,
        rule.table,
        rule.start,
        rule.end,
        rule.limit,
        rule.unit,
        rule.limit_field,
        (cond.field, cond.values, cond.negate) if cond else None,
        rule.enabled,
    )


@pytest.mark.parametrize("lang", LANGS)
def test_the_default_rules_table_reads_back_as_the_defaults(lang: Lang) -> None:
    rules, issues = _rules(lang, rule_rows(lang))
    assert issues == []
    assert [_essence(r) for r in rules.values()] == [_essence(r) for r in DEFAULT_RULES]


def test_rule_rows_override_add_disable_and_report_bad_cells() -> None:
    header = rule_rows(Lang.ZH_HANS)[0]
    rows = [
        header,
        ["首次跟进", "", "", "", 48, "", "", ""],  # blank cells keep the default
        ["minutes", "", "", "", "", "工作小时", "", "否"],
        ["交付", "合同订单", "签约日期", "交付日期", 30, "天", "", "是"],  # a new rule
        ["回款", "", "客户名称", "", "", "", "", ""],  # not a date column: reported
        ["一般问题解决", "", "", "", "", "周", "", ""],  # a unit it does not know: reported
        ["方案提交", "", "", "", "两天", "", "", ""],  # not a number
        ["复杂问题方案", "", "", "", "", "", "难度", ""],  # not a condition
        ["新规则", "", "", "", 3, "天", "", ""],  # a new rule without its tab and fields
    ]
    rules, issues = _rules(Lang.ZH_HANS, rows)
    assert rules["first_contact"].limit == 48 and rules["first_contact"].unit is Unit.HOURS
    assert rules["minutes"].unit is Unit.WORKHOURS and not rules["minutes"].enabled
    assert rules["minutes"].condition == DEFAULT_RULES[1].condition
    added = rules["交付"]
    assert (added.table, added.start, added.end, added.limit) == (
        "contracts",
        "signed_at",
        "delivered_at",
        30,
    )
    # Invalid rows are ignored: the defaults of those ids still apply.
    assert _essence(rules["payment"]) == _essence(DEFAULT_RULES[-1])
    assert rules["proposal"].limit == 0 and "新规则" not in rules
    found = sorted((i.code, i.row, i.column) for i in issues)
    assert found == [
        ("invalid-choice", 9, "F"),
        ("invalid-sla-rule", 8, "C"),
        ("invalid-sla-rule", 10, "E"),
        ("invalid-sla-rule", 11, "G"),
        ("invalid-sla-rule", 12, "A"),
    ]
    bad_start = next(i for i in issues if i.row == 8)
    assert "客户名称" in bad_start.message and "回款" in bad_start.message


# --- the sync, end to end -------------------------------------------------------------------

LEADS = ["线索编号", "来源类型", "客户名称", "负责人", "分配时间", "首次跟进时间", "当前阶段"]
FOLLOW_UPS = ["日期", "线索编号", "跟进方式", "跟进人", "下一步计划", "下一步日期", "纪要发送时间"]
CONTRACTS = ["合同编号", "客户名称", "负责人", "签约日期", "合同金额", "交付日期", "验收日期"]
CONTRACTS += ["付款账期", "首次回访"]
COLLECTIONS = ["发票号", "合同编号", "发票金额", "到期日", "回款日期", "回款金额"]
TICKETS = ["问题编号", "客户名称", "提出时间", "复杂度", "解决时间", "方案时间"]
AS_OF = "2026-10-09T12:00"


def _workbook(xlsx: Callable[..., Path]) -> Path:
    t = datetime
    return xlsx(
        {
            "线索跟踪": [
                LEADS,
                ["L1", "官网", "甲公司", "张伟", t(2026, 9, 30, 17), t(2026, 10, 1, 9), "商机"],
                ["L2", "官网", "乙公司", "张伟", t(2026, 9, 29, 10), t(2026, 10, 8, 9), "赢单"],
                ["L3", "官网", "丙公司", "张伟", t(2026, 10, 9, 10), None, "线索"],
                ["L4", "官网", "丁公司", "张伟", t(2026, 10, 1, 10), None, "线索"],
                ["L5", "官网", "戊公司", "", None, None, "线索"],
            ],
            "跟进记录": [
                FOLLOW_UPS,
                [t(2026, 9, 29, 15), "L1", "会议", "张伟", "发方案", date(2026, 10, 8), None],
                [
                    t(2026, 10, 8, 10),
                    "L1",
                    "拜访",
                    "张伟",
                    "10月12日再次拜访",
                    None,
                    "2026-10-09 9:00",
                ],
                [t(2026, 9, 30, 10), "L2", "电话", "张伟", "下周三再联系", None, None],
                [t(2026, 9, 28, 10), "L4", "拜访", "张伟", "", None, None],
            ],
            "合同订单": [
                CONTRACTS,
                [
                    "HT1",
                    "乙公司",
                    "张伟",
                    date(2026, 8, 1),
                    100,
                    date(2026, 9, 1),
                    date(2026, 9, 5),
                    None,
                    t(2026, 9, 10, 10),
                ],
                [
                    "HT2",
                    "甲公司",
                    "张伟",
                    date(2026, 8, 1),
                    100,
                    date(2026, 9, 2),
                    date(2026, 9, 5),
                    15,
                    None,
                ],
            ],
            "回款": [
                COLLECTIONS,
                ["FP1", "HT1", 60, date(2026, 9, 1), date(2026, 8, 20), 60],
                ["FP2", "HT1", 40, date(2026, 9, 30), date(2026, 10, 4), 40],
                ["FP3", "HT2", 100, date(2026, 9, 30), None, None],
            ],
            "售后问题": [
                TICKETS,
                ["TK1", "乙公司", t(2026, 9, 30, 10), "一般", t(2026, 10, 1, 9), None],
                ["TK2", "乙公司", t(2026, 10, 1, 10), "复杂", None, t(2026, 10, 4, 10)],
                ["TK3", "乙公司", t(2026, 10, 9, 10), "", None, None],
            ],
        }
    )


def _column(ws: Any, header: str, header_row: int = 1) -> list[Any]:
    heads = [c.value for c in ws[header_row]]
    col = heads.index(header)
    return [row[col] for row in ws.iter_rows(min_row=header_row + 1, values_only=True)]


def test_run_fills_the_sla_columns_and_a_second_run_changes_nothing(
    xlsx: Callable[..., Path], cli: Callable
) -> None:
    path = _workbook(xlsx)
    first = cli("run", str(path), "--as-of", AS_OF, "--json", "--fail-on", "never")
    assert first.code == 0, first.stderr
    report = first.json()
    assert report["summary"]["wrote"]
    sla = sorted(
        (i["code"], i["tab"], i["row"], i.get("rule"))
        for i in report["issues"]
        if i["code"].startswith(("sla-", "next-step"))
    )
    assert sla == [
        ("next-step-date-unreadable", "跟进记录", 4, None),
        ("sla-breached", "合同订单", 2, "post_delivery_visit"),
        ("sla-breached", "售后问题", 3, "ticket_complex"),
        ("sla-breached", "线索跟踪", 3, "first_contact"),
        ("sla-overdue", "合同订单", 3, "payment"),
        ("sla-overdue", "合同订单", 3, "post_delivery_visit"),
        ("sla-overdue", "线索跟踪", 5, "first_contact"),
        ("sla-overdue", "跟进记录", 2, "minutes"),  # 9-29 meeting: due 10-8, after the holiday
        ("sla-overdue", "跟进记录", 5, "minutes"),
    ]
    breach = next(i for i in report["issues"] if i.get("rule") == "first_contact")
    assert breach["message"] == (
        "首次跟进超时：应于 2026-09-30 10:00 前完成，实际 2026-10-08 09:00，晚了 7 天 23 小时。"
    )

    wb = openpyxl.load_workbook(path)
    leads, fus = wb["线索跟踪"], wb["跟进记录"]
    assert _column(leads, "⚙ 首次跟进时效") == ["达标", "超时", "进行中", "已逾期", None]
    assert _column(leads, "⚙ 首次跟进截止")[:2] == [
        datetime(2026, 10, 1, 17),
        datetime(2026, 9, 30, 10),
    ]
    assert _column(leads, "⚙ 跟进次数") == [2, 1, 0, 1, 0]
    assert _column(leads, "⚙ 最近跟进时间")[:2] == [
        datetime(2026, 10, 8, 10),
        datetime(2026, 9, 30, 10),
    ]
    assert _column(leads, "⚙ 下一步截止")[0] == datetime(2026, 10, 12)
    assert _column(leads, "⚙ 在途天数") == [9, None, 0, 8, None]
    # The 9-29 meeting promised 10-8 and was followed up that day; the 10-8 visit's step is open.
    statuses = dict(zip(_column(fus, "日期"), _column(fus, "⚙ 下一步状态"), strict=True))
    assert statuses[datetime(2026, 9, 29, 15)] == "达标"
    assert statuses[datetime(2026, 10, 8, 10)] == "进行中"
    minutes = dict(zip(_column(fus, "日期"), _column(fus, "⚙ 纪要时效"), strict=True))
    assert minutes[datetime(2026, 9, 29, 15)] == "已逾期"  # due 10-8 after the holiday
    assert minutes[datetime(2026, 10, 8, 10)] == "达标"
    assert minutes[datetime(2026, 9, 30, 10)] is None  # a phone call: no minutes due
    contracts = wb["合同订单"]
    assert _column(contracts, "⚙ 回访时效") == ["超时", "已逾期"]
    assert _column(contracts, "⚙ 付款到期") == [datetime(2026, 10, 5), datetime(2026, 9, 20)]
    assert _column(wb["回款"], "⚙ 逾期天数") == [0, 4, 9]
    assert _column(wb["售后问题"], "⚙ 响应时效") == ["达标", "超时", "进行中"]

    second = cli("run", str(path), "--as-of", AS_OF, "--json", "--fail-on", "never")
    assert not second.json()["summary"]["wrote"]
    assert second.json()["summary"]["cells_to_write"] == 0


def test_an_unknown_region_is_reported_and_the_default_applies(
    xlsx: Callable[..., Path], cli: Callable
) -> None:
    path = _workbook(xlsx)
    wb = openpyxl.load_workbook(path)
    ws = wb.create_sheet("设置")
    for row in (["设置项", "值"], ["日历地区", "Mars"], ["工作时间", "9-18"]):
        ws.append(row)
    wb.save(path)
    result = cli("check", str(path), "--as-of", AS_OF, "--json", "--fail-on", "never")
    bad = [i for i in result.json()["issues"] if i["code"] == "invalid-setting"]
    assert [(i["row"], i["column"]) for i in bad] == [(2, "B")]
    assert any(i.get("rule") == "first_contact" for i in result.json()["issues"])
