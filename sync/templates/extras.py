# ruff: noqa: E501  (the instructions are prose, one line per paragraph)
"""The template tabs beyond the data tabs: the owned tabs as an empty sync leaves them, the
Dashboard with native charts, the Holidays list WORKDAY reads, the Instructions, and the
hidden `xlwings.conf` sheet.

The Dashboard is the template's, not the sync's: its helper blocks read the owned tabs
(业绩, 漏斗, 问题清单) by fixed areas, so its charts follow whatever the sync writes there later.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from sync.core.model import sheet_ref
from sync.core.schema import DASHBOARD as DASHBOARD_TABLE
from sync.core.schema import (
    FUNNEL_PIPELINE,
    FUNNEL_STAGES,
    ISSUES,
    PERFORMANCE,
    REPS,
    STAGE,
    Lang,
    labels,
)

from .formulas import HOLIDAYS_NAME

TEMPLATE_YEAR = 2026  # holidays listed: the year before, this one and the next (same bytes)
DASHBOARD_REPS = 30  # rows of the completion block: reps 1..30 of the Reps tab
PIPELINE_MONTHS = 18

DASHBOARD = DASHBOARD_TABLE.titles
HOLIDAYS = labels("节假日", "節假日", "Holidays")
INSTRUCTIONS = labels("说明", "說明", "Instructions")
XLWINGS_CONF = "xlwings.conf"
UDF_MODULES = "addin.udfs"
MACROS_MODULE = "addin.macros"


def owned_tab_grids(lang: Lang) -> dict[str, list[list[Any]]]:
    """Owned tab title → the grid a sync of an empty workbook writes there, so that `check`
    and `run` on a fresh template have nothing to change."""
    from sync.core.metrics import compute_metrics
    from sync.core.outputs import metric_tabs
    from sync.core.plan import issue_rows
    from sync.core.schema import SCHEMA

    grids = {ISSUES.title(lang): [list(r) for r in issue_rows([], lang)]}
    tabs = metric_tabs(compute_metrics({}, as_of=date(TEMPLATE_YEAR, 1, 1)), lang)
    for name, rows in tabs.items():
        grids[SCHEMA.table(name).title(lang)] = rows
    return grids


def write_owned_tab(ws: Worksheet, rows: list[list[Any]], header_fmt: Any) -> None:
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            fmt = header_fmt if r == 0 else None
            if isinstance(value, int | float):
                ws.write_number(r, c, value, fmt)
            else:
                ws.write_string(r, c, str(value), fmt)
    width = max((len(r) for r in rows), default=0)
    ws.set_column(0, max(width - 1, 0), 14)
    ws.freeze_panes(1, 0)


# --- holidays -------------------------------------------------------------------------------

_HOLIDAY_LANG = {Lang.ZH_HANS: "zh_CN", Lang.ZH_HANT: "zh_TW", Lang.EN: "en_US"}


def official_days(lang: Lang, region: str = "CN") -> tuple[list[tuple[date, str]], list[date]]:
    """(holidays with their names, makeup working days) of the years around TEMPLATE_YEAR,
    as the installed `holidays` package lists them."""
    import holidays

    years = range(TEMPLATE_YEAR - 1, TEMPLATE_YEAR + 2)
    found = holidays.country_holidays(region, years=list(years), language=_HOLIDAY_LANG[lang])
    days = sorted((d, str(name)) for d, name in found.items() if d.year in years)
    makeup = sorted(d for d in getattr(found, "weekend_workdays", ()) if d.year in years)
    return days, makeup


def write_holidays(workbook: Workbook, ws: Worksheet, lang: Lang, styles: Any) -> None:
    days, makeup = official_days(lang)
    head = {
        Lang.ZH_HANS: ("日期", "名称", "调休上班日（WORKDAY 无法使用，由同步处理）"),
        Lang.ZH_HANT: ("日期", "名稱", "調休上班日（WORKDAY 無法使用，由同步處理）"),
        Lang.EN: ("Date", "Name", "Makeup working days (WORKDAY cannot use them; the sync does)"),
    }[lang]
    date_fmt = styles.number("yyyy-mm-dd")
    ws.write_string(0, 0, head[0], styles.header)
    ws.write_string(0, 1, head[1], styles.header)
    ws.write_string(0, 3, head[2], styles.header)
    for i, (day, name) in enumerate(days, start=1):
        ws.write_datetime(i, 0, _midnight(day), date_fmt)
        ws.write_string(i, 1, name)
    for i, day in enumerate(makeup, start=1):
        ws.write_datetime(i, 3, _midnight(day), date_fmt)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 30)
    ws.set_column(3, 3, 44)
    ws.freeze_panes(1, 0)
    last = max(200, len(days) + 50)  # room for the users' company days off
    title = sheet_ref(HOLIDAYS[lang])
    workbook.define_name(HOLIDAYS_NAME, f"={title}!$A$2:$A${last}")


def _midnight(day: date) -> Any:
    from datetime import datetime

    return datetime(day.year, day.month, day.day)


# --- dashboard ------------------------------------------------------------------------------

_DASH_TEXT = {
    Lang.ZH_HANS: {
        "title": "销售仪表盘（运行 salesync run 后更新：读取 业绩、漏斗、问题清单 工作表）",
        "period": "周期",
        "rep": "销售员",
        "target": "目标销售额",
        "actual": "实际销售额",
        "completion": "完成率",
        "stage": "阶段",
        "reached": "到达数",
        "month": "预计成交月份",
        "weighted": "加权金额",
        "rule": "SLA 规则",
        "breached": "超时",
        "overdue": "已逾期",
        "c1": "各销售完成率（所选周期）",
        "c2": "销售漏斗（到达各阶段的线索数）",
        "c3": "加权管道（按预计成交月份）",
        "c4": "SLA 超时与逾期（按规则）",
    },
    Lang.ZH_HANT: {
        "title": "銷售儀表板（執行 salesync run 後更新：讀取 業績、漏斗、問題清單 工作表）",
        "period": "週期",
        "rep": "銷售員",
        "target": "目標銷售額",
        "actual": "實際銷售額",
        "completion": "完成率",
        "stage": "階段",
        "reached": "到達數",
        "month": "預計成交月份",
        "weighted": "加權金額",
        "rule": "SLA 規則",
        "breached": "逾時",
        "overdue": "已逾期",
        "c1": "各銷售完成率（所選週期）",
        "c2": "銷售漏斗（到達各階段的線索數）",
        "c3": "加權管道（按預計成交月份）",
        "c4": "SLA 逾時與逾期（按規則）",
    },
    Lang.EN: {
        "title": "Sales dashboard (updated by salesync run: reads Performance, Funnel, Issues)",
        "period": "Period",
        "rep": "Rep",
        "target": "Sales target",
        "actual": "Actual sales",
        "completion": "Completion",
        "stage": "Stage",
        "reached": "Reached",
        "month": "Expected close month",
        "weighted": "Weighted amount",
        "rule": "SLA rule",
        "breached": "Breached",
        "overdue": "Overdue",
        "c1": "Completion by rep (selected period)",
        "c2": "Funnel (leads that reached each stage)",
        "c3": "Weighted pipeline by expected close month",
        "c4": "SLA breaches and overdue by rule",
    },
}

# Helper blocks sit right of the charts, from column O.
_COL = 14
_TOP = 3  # 0-based row of the blocks' header rows


def write_dashboard(
    workbook: Workbook,
    ws: Worksheet,
    lang: Lang,
    styles: Any,
    tabs: Mapping[str, str] | None = None,
    *,
    google: bool = False,
) -> None:
    """Four native charts over helper blocks that read the owned tabs by fixed areas.

    `tabs`: table name (performance, funnel_stages, issues, reps) → the tab to read, for a
    workbook whose tabs are not named as the schema's titles; the others take the titles. The
    charts read this sheet by its own name (`ws.name`). `google`: formulas for Google Sheets,
    whose tabs end at their grid (INDEX past a tab's last row is an error there, so the
    pipeline scan stops at it); `ws` and `workbook` may then be recorders of these calls
    (sync/backends/gsheets_dashboard.py)."""
    from sync.core.sla import rule_rows

    names = dict(tabs or {})

    def tab(table: Any) -> str:
        return sheet_ref(names.get(table.name) or table.title(lang))

    t = _DASH_TEXT[lang]
    perf, funnel = tab(PERFORMANCE), tab(FUNNEL_STAGES)
    issues, reps = tab(ISSUES), tab(REPS)
    me = sheet_ref(ws.name)
    pct, amount = styles.number("0%"), styles.number("#,##0")
    ws.write_string(0, 0, t["title"], styles.title)

    # Completion by rep, for the period in the cell under "period" (default: the latest).
    c = _COL
    ws.write_string(_TOP - 2, c, t["period"], styles.header)
    period_cell = xl_rowcol_to_cell(_TOP - 2, c + 1, row_abs=True, col_abs=True)
    ws.write_formula(
        _TOP - 2,
        c + 1,
        f'=IF(COUNTA({perf}!$B:$B)<2,"",INDEX({perf}!$B:$B,COUNTA({perf}!$B:$B)))',
        None,
        "",
    )
    for i, key in enumerate(("rep", "target", "actual", "completion")):
        ws.write_string(_TOP, c + i, t[key], styles.header)
    first = _TOP + 1
    for i in range(DASHBOARD_REPS):
        r = first + i
        rep = xl_rowcol_to_cell(r, c, col_abs=True)
        ws.write_formula(r, c, f'=IF({reps}!A{i + 2}="","",{reps}!A{i + 2}&"")', None, "")
        for k, col in ((1, "C"), (2, "D")):
            ws.write_formula(
                r,
                c + k,
                f'=IF({rep}="","",SUMIFS({perf}!${col}:${col},{perf}!$A:$A,{rep},'
                f"{perf}!$B:$B,{period_cell}))",
                amount,
                "",
            )
        target, actual = xl_rowcol_to_cell(r, c + 1), xl_rowcol_to_cell(r, c + 2)
        ws.write_formula(r, c + 3, f'=IF(N({target})=0,"",{actual}/{target})', pct, "")
    last = first + DASHBOARD_REPS - 1
    chart = workbook.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": t["completion"],
            "categories": _area(me, first, c, last, c),
            "values": _area(me, first, c + 3, last, c + 3),
            "fill": {"color": "#4472C4"},
        }
    )
    _finish(chart, t["c1"], percent=True)
    ws.insert_chart(2, 0, chart, {"x_scale": 1.0, "y_scale": 1.0})

    # The funnel: the team's rows of the Funnel tab's first block (team and rep blank).
    c = _COL + 5
    ws.write_string(_TOP, c, t["stage"], styles.header)
    ws.write_string(_TOP, c + 1, t["reached"], styles.header)
    stages = [ch.labels[lang] for ch in STAGE.choices if ch.key != "lost"]
    for i, stage in enumerate(stages):
        r = _TOP + 1 + i
        ws.write_string(r, c, stage)
        ws.write_formula(
            r,
            c + 1,
            f"=SUMIFS({funnel}!$E:$E,{funnel}!$C:$C,{xl_rowcol_to_cell(r, c)},"
            f'{funnel}!$A:$A,"",{funnel}!$B:$B,"")',
            None,
            0,
        )
    last = _TOP + len(stages)
    chart = workbook.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": t["reached"],
            "categories": _area(me, _TOP + 1, c, last, c),
            "values": _area(me, _TOP + 1, c + 1, last, c + 1),
            "fill": {"color": "#70AD47"},
        }
    )
    _finish(chart, t["c2"])
    chart.set_y_axis({"reverse": True})
    ws.insert_chart(2, 7, chart)

    # Weighted pipeline: the Funnel tab's last block, found by its title; its team rows
    # (team and rep blank) close it, one per expected close month.
    c = _COL + 8
    start, end, first = (
        xl_rowcol_to_cell(_TOP - 2, c + k, row_abs=True, col_abs=True) for k in (1, 2, 3)
    )
    title = FUNNEL_PIPELINE.title(lang)
    col_a, col_b, col_c = (f"INDEX({funnel}!${x}:${x},{{}})" for x in "ABC")
    scan_end = f"{start}+5000"
    if google:
        scan_end = f"MIN({scan_end},ROWS({funnel}!$C:$C))"
    helpers = (
        f'=IFERROR(MATCH("{title}",{funnel}!$A:$A,0)+2,0)',
        f"=IF({start}=0,0,{start}-1+COUNTA({col_c.format(start)}:{col_c.format(scan_end)}))",
        f'=IF({end}<{start},0,{end}+1-COUNTIFS({col_a.format(start)}:{col_a.format(end)},"",'
        f'{col_b.format(start)}:{col_b.format(end)},""))',
    )
    for k, formula in enumerate(helpers, start=1):
        ws.write_formula(_TOP - 2, c + k, formula, None, 0)
    ws.write_string(_TOP, c, t["month"], styles.header)
    ws.write_string(_TOP, c + 1, t["weighted"], styles.header)
    for i in range(PIPELINE_MONTHS):
        r = _TOP + 1 + i
        ws.write_formula(
            r,
            c,
            f'=IF(OR({first}=0,{first}+{i}>{end}),"",INDEX({funnel}!$C:$C,{first}+{i})&"")',
            None,
            "",
        )
        month = xl_rowcol_to_cell(r, c)
        ws.write_formula(
            r, c + 1, f'=IF({month}="","",INDEX({funnel}!$F:$F,{first}+{i}))', amount, ""
        )
    last = _TOP + PIPELINE_MONTHS
    chart = workbook.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": t["weighted"],
            "categories": _area(me, _TOP + 1, c, last, c),
            "values": _area(me, _TOP + 1, c + 1, last, c + 1),
            "fill": {"color": "#ED7D31"},
        }
    )
    _finish(chart, t["c3"])
    ws.insert_chart(18, 0, chart)

    # SLA breaches by rule: the Issues tab's sla-* rows, by the rule name opening the message.
    c = _COL + 11
    for i, key in enumerate(("rule", "breached", "overdue")):
        ws.write_string(_TOP, c + i, t[key], styles.header)
    rules = [row[0] for row in rule_rows(lang)[1:]]
    for i, rule in enumerate(rules):
        r = _TOP + 1 + i
        ws.write_string(r, c, rule)
        name = xl_rowcol_to_cell(r, c)
        for k, code in ((1, "sla-breached"), (2, "sla-overdue")):
            ws.write_formula(
                r,
                c + k,
                f'=COUNTIFS({issues}!$B:$B,"{code}",{issues}!$H:$H,{name}&"*")',
                None,
                0,
            )
    last = _TOP + len(rules)
    chart = workbook.add_chart({"type": "bar", "subtype": "stacked"})
    for k, color in ((1, "#C00000"), (2, "#FFC000")):
        chart.add_series(
            {
                "name": [ws.name, _TOP, c + k],
                "categories": _area(me, _TOP + 1, c, last, c),
                "values": _area(me, _TOP + 1, c + k, last, c + k),
                "fill": {"color": color},
            }
        )
    _finish(chart, t["c4"], legend=True)
    chart.set_y_axis({"reverse": True})
    ws.insert_chart(18, 7, chart)
    ws.set_column(_COL, _COL + 13, 14)
    ws.set_column(0, _COL - 1, 9)
    ws.set_landscape()
    ws.print_area(0, 0, 34, _COL - 1)  # the four charts on one page
    ws.fit_to_pages(1, 1)


def _area(sheet: str, r1: int, c1: int, r2: int, c2: int) -> str:
    a = f"${xl_col_to_name(c1)}${r1 + 1}"
    b = f"${xl_col_to_name(c2)}${r2 + 1}"
    return f"={sheet}!{a}:{b}"


def _finish(chart: Any, title: str, *, percent: bool = False, legend: bool = False) -> None:
    chart.set_title({"name": title, "name_font": {"size": 12}})
    if percent:
        chart.set_y_axis({"num_format": "0%"})
    if not legend:
        chart.set_legend({"none": True})
    else:
        chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 520, "height": 300})


# --- instructions and xlwings ---------------------------------------------------------------

INSTRUCTION_LINES = {
    Lang.ZH_HANS: (
        "salesync 销售流程模板",
        "",
        "1. 在 线索跟踪、跟进记录、合同订单、回款、售后问题、销售人员、目标 工作表中逐行填写；每个表都是 Excel 表格，下拉框列出可选值。",
        "2. 蓝色表头是你的数据。灰色 ⚙ 表头的列由 salesync 同步写入（SLA 状态、截止时间、提示），请勿手工填写，也不要在其中放公式。",
        "3. 黄色 ƒ 表头的列是表格自带的公式（不装 Python 也能用）：首次跟进截止 = 分配时间 + 24 小时；纪要截止 = WORKDAY(日期, 2, 节假日)；目标 表中的实际销售额、完成率、回款率；设置 表中评分表旁的得分与加权总分。",
        "4. 节假日 工作表列出国家法定节假日（来自 holidays 程序包），WORKDAY/NETWORKDAYS 使用名称 Holidays 引用它；可在下方补充公司放假日。调休上班日（如 2026-02-14 周六）无法用 WORKDAY 表达，只作列示；salesync 同步会按调休计算，两者在调休附近可能相差一天。",
        "5. 公式按名字精确匹配销售员；百分比请输入 85%（输入 85 时 salesync 理解为 85%，公式不会）。评分公式只支持线性评分；分档评分由 salesync 计算。",
        "6. 设置 工作表：金额单位、时区、日历地区、工作时间、额外放假日/上班日，以及 SLA 规则表、评分表（权重合计须为 100%）和分配规则表。",
        "7. 问题清单、业绩、绩效、漏斗 由 salesync run 重新生成；仪表盘 的图表读取这些工作表的固定区域，同步后自动更新。",
        "8. 命令：salesync check 文件.xlsx（只检查）；salesync run 文件.xlsx（检查并写回）。",
        '9. Excel 加载项：安装 xlwings 加载项后，本工作簿的 xlwings.conf 隐藏表把 UDF Modules 指向 addin.udfs（SALES_* 函数）；宏在 addin.macros 中，在 .xlsm 的 VBA 中用 RunPython "import addin.macros" 调用。',
    ),
    Lang.ZH_HANT: (
        "salesync 銷售流程範本",
        "",
        "1. 在 線索跟蹤、跟進記錄、合約訂單、回款、售後問題、銷售人員、目標 工作表中逐列填寫；每個表都是 Excel 表格，下拉選單列出可選值。",
        "2. 藍色表頭是你的資料。灰色 ⚙ 表頭的欄由 salesync 同步寫入（SLA 狀態、截止時間、提示），請勿手動填寫，也不要在其中放公式。",
        "3. 黃色 ƒ 表頭的欄是表格內建的公式（不裝 Python 也能用）：首次跟進截止 = 分配時間 + 24 小時；紀要截止 = WORKDAY(日期, 2, 節假日)；目標 表中的實際銷售額、完成率、回款率；設定 表中評分表旁的得分與加權總分。",
        "4. 節假日 工作表列出法定節假日（來自 holidays 套件），WORKDAY/NETWORKDAYS 以名稱 Holidays 參照；可在下方補充公司休假日。補班日（如 2026-02-14 週六）無法以 WORKDAY 表達，只作列示；salesync 同步會按補班計算，兩者在補班附近可能相差一天。",
        "5. 公式按名字精確比對銷售員；百分比請輸入 85%（輸入 85 時 salesync 理解為 85%，公式不會）。評分公式只支援線性評分；分級評分由 salesync 計算。",
        "6. 設定 工作表：金額單位、時區、日曆地區、工作時間、額外休假日/上班日，以及 SLA 規則表、評分表（權重合計須為 100%）和分配規則表。",
        "7. 問題清單、業績、績效、漏斗 由 salesync run 重新產生；儀表板 的圖表讀取這些工作表的固定區域，同步後自動更新。",
        "8. 指令：salesync check 檔案.xlsx（只檢查）；salesync run 檔案.xlsx（檢查並寫回）。",
        '9. Excel 增益集：安裝 xlwings 增益集後，本活頁簿的 xlwings.conf 隱藏表把 UDF Modules 指向 addin.udfs（SALES_* 函數）；巨集在 addin.macros 中，在 .xlsm 的 VBA 中以 RunPython "import addin.macros" 呼叫。',
    ),
    Lang.EN: (
        "salesync sales-process template",
        "",
        "1. Fill the Leads, Follow-ups, Contracts, Collections, Tickets, Reps and Targets tabs row by row; each is an Excel table and drop-downs list the allowed values.",
        "2. Blue headers are your data. Grey ⚙ headers are columns the salesync sync writes (SLA status, due times, flags): do not type in them and do not put formulas there.",
        "3. Yellow ƒ headers are the template's own formulas (no Python needed): first contact due = assigned at + 24 h; minutes due = WORKDAY(date, 2, Holidays); actual sales, completion and collection rate in Targets; score and weighted total next to the Scoring table in Settings.",
        "4. The Holidays tab lists the official holidays (from the holidays package); WORKDAY/NETWORKDAYS read it through the name Holidays; add company days off below. Makeup working days (e.g. Saturday 2026-02-14) cannot be expressed in WORKDAY and are listed only; the sync counts them, so the two may differ by a day around them.",
        "5. Formulas match rep names exactly; type percentages as 85% (salesync reads 85 as 85 %, formulas do not). The score formulas are linear only; banded scoring is computed by salesync.",
        "6. Settings: amount unit, time zone, calendar region, business hours, extra days off and working days, then the SLA rules, Scoring (weights must add up to 100 %) and Assignment rules tables.",
        "7. Issues, Performance, Evaluation and Funnel are regenerated by salesync run; the Dashboard charts read fixed areas of them and follow every sync.",
        "8. Commands: salesync check book.xlsx (report only); salesync run book.xlsx (check and write back).",
        '9. Excel add-in: with the xlwings add-in installed, the hidden xlwings.conf sheet points UDF Modules at addin.udfs (the SALES_* functions); macros live in addin.macros, called from an .xlsm\'s VBA with RunPython "import addin.macros".',
    ),
}


def write_instructions(ws: Worksheet, lang: Lang, styles: Any) -> None:
    lines = INSTRUCTION_LINES[lang]
    ws.write_string(0, 0, lines[0], styles.title)
    for i, line in enumerate(lines[1:], start=1):
        if line:
            ws.write_string(i, 0, line, styles.wrap)
    ws.set_column(0, 0, 110)


def write_xlwings_conf(ws: Worksheet) -> None:
    """Key/value rows from A1, the layout xlwings' VBA reads (keys up to the first blank)."""
    rows = (("UDF Modules", UDF_MODULES), ("SALESYNC Macros", MACROS_MODULE))
    for r, (key, value) in enumerate(rows):
        ws.write_string(r, 0, key)
        ws.write_string(r, 1, value)
    ws.hide()
