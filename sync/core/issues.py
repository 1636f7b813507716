"""Issues are data: one record per problem, with a stable code and a message in the workbook's
language.

Each kind of issue is registered once in `CODES` with its default severity and a message
template per language; templates are `str.format` strings over the issue's `params`.

>>> issue = make_issue("required", Lang.EN, tab="Leads", row=5, column="C", header="Customer",
...                    params={"header": "Customer"})
>>> issue.message
'Customer is required but blank.'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from itertools import repeat
from operator import attrgetter, itemgetter
from string import Formatter
from typing import Any

import numpy as np

from .columns import each_once, objects
from .schema import Lang, Severity


@dataclass(frozen=True, slots=True)
class IssueKind:
    code: str
    severity: Severity
    messages: dict[Lang, str]
    short: dict[Lang, str]  # a few words for the row's ⚙ flags cell


def _k(
    code: str, severity: Severity, zh_hans: str, zh_hant: str, en: str, short: tuple[str, str, str]
) -> IssueKind:
    return IssueKind(
        code,
        severity,
        {Lang.ZH_HANS: zh_hans, Lang.ZH_HANT: zh_hant, Lang.EN: en},
        {Lang.ZH_HANS: short[0], Lang.ZH_HANT: short[1], Lang.EN: short[2]},
    )


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741 - short by design

CODES: dict[str, IssueKind] = {
    k.code: k
    for k in (
        # --- layout: tabs and headers ---------------------------------------------------------
        _k(
            "issues-not-listed",
            I,
            "另有 {count} 条问题未列入本表（工作表最多 {limit} 行：先列全部错误，再列警告和提示，"
            "列满为止）；salesync check --json 可列出全部。",
            "另有 {count} 個問題未列入本表（工作表最多 {limit} 列：先列全部錯誤，再列警告和提示，"
            "列滿為止）；salesync check --json 可列出全部。",
            "{count} more issues are not listed here (a sheet holds {limit} rows: every error "
            "is listed, then warnings and notes as they fit); salesync check --json lists them "
            "all.",
            ("问题未全列", "問題未全列", "not all listed"),
        ),
        _k(
            "missing-tab",
            I,
            "工作簿中没有“{table}”工作表，相关检查已跳过。",
            "活頁簿中沒有「{table}」工作表，相關檢查已略過。",
            "The workbook has no {table} tab; its checks were skipped.",
            ("缺工作表", "缺工作表", "missing tab"),
        ),
        _k(
            "duplicate-tab",
            W,
            "工作表“{value}”和“{other}”都是“{table}”，只使用了“{other}”。",
            "工作表「{value}」和「{other}」都是「{table}」，只使用了「{other}」。",
            "Tabs “{value}” and “{other}” are both {table}; only “{other}” was used.",
            ("重复工作表", "重複工作表", "duplicate tab"),
        ),
        _k(
            "header-not-found",
            E,
            "在工作表前 {scan} 行中找不到表头行（需要至少包含：{expected}）。",
            "在工作表前 {scan} 列中找不到表頭列（至少需要：{expected}）。",
            "No header row found in the first {scan} rows (expected at least: {expected}).",
            ("无表头", "無表頭", "no header"),
        ),
        _k(
            "missing-column",
            E,
            "缺少必填列“{header}”。",
            "缺少必填欄「{header}」。",
            "Required column “{header}” is missing.",
            ("缺列", "缺欄", "missing column"),
        ),
        _k(
            "duplicate-header",
            E,
            "列 {columns} 都对应“{header}”，无法确定使用哪一列；请删除或改名其中之一。",
            "欄 {columns} 都對應「{header}」，無法確定使用哪一欄；請刪除或改名其中之一。",
            "Columns {columns} all mean “{header}”; rename or remove all but one.",
            ("重复表头", "重複表頭", "duplicate header"),
        ),
        _k(
            "ambiguous-header",
            E,
            "表头“{value}”可以理解为：{candidates}；请改用其中一个的完整名称。",
            "表頭「{value}」可以理解為：{candidates}；請改用其中一個的完整名稱。",
            "Header “{value}” could mean {candidates}; use the full name of one of them.",
            ("表头歧义", "表頭歧義", "ambiguous header"),
        ),
        # --- cells ----------------------------------------------------------------------------
        _k(
            "required",
            E,
            "“{header}”为必填项，但为空。",
            "「{header}」為必填，但為空白。",
            "{header} is required but blank.",
            ("缺{header}", "缺{header}", "{header} missing"),
        ),
        _k(
            "invalid-date",
            E,
            "“{value}”不是可识别的日期（例如 2026-06-02、2026/6/2、2026年6月2日）。",
            "「{value}」不是可辨識的日期（例如 2026-06-02、2026/6/2、2026年6月2日）。",
            "“{value}” is not a date (try 2026-06-02, 2026/6/2 or 2026年6月2日).",
            ("日期无效", "日期無效", "bad date"),
        ),
        _k(
            "invalid-number",
            E,
            "“{value}”不是数字。",
            "「{value}」不是數字。",
            "“{value}” is not a number.",
            ("数字无效", "數字無效", "bad number"),
        ),
        _k(
            "invalid-bool",
            E,
            "“{value}”不是“是/否”（可用：是、否、Y、N、✓、✗、TRUE、FALSE）。",
            "「{value}」不是「是/否」（可用：是、否、Y、N、✓、✗、TRUE、FALSE）。",
            "“{value}” is not yes/no (use 是/否, Y/N, ✓/✗ or TRUE/FALSE).",
            ("是否无效", "是否無效", "bad yes/no"),
        ),
        _k(
            "invalid-choice",
            E,
            "“{value}”不是“{header}”的可选值（可选：{allowed}）。",
            "「{value}」不是「{header}」的可選值（可選：{allowed}）。",
            "“{value}” is not an allowed {header} (allowed: {allowed}).",
            ("{header}无效", "{header}無效", "bad {header}"),
        ),
        _k(
            "invalid-period",
            E,
            "“{value}”不是周期（例如 2026-07 表示月份，2026Q3 表示季度）。",
            "「{value}」不是週期（例如 2026-07 表示月份，2026Q3 表示季度）。",
            "“{value}” is not a period (2026-07 for a month, 2026Q3 for a quarter).",
            ("周期无效", "週期無效", "bad period"),
        ),
        _k(
            "excel-error",
            E,
            "单元格是错误值 {value}，请修正产生它的公式。",
            "儲存格是錯誤值 {value}，請修正產生它的公式。",
            "The cell holds the error value {value}; fix the formula that produced it.",
            ("错误值", "錯誤值", "error value"),
        ),
        _k(
            "year-inferred",
            I,
            "“{value}”没有写年份，按 {year} 年理解。",
            "「{value}」沒有寫年份，按 {year} 年理解。",
            "“{value}” has no year; read as {year}.",
            ("年份推断", "年份推斷", "year assumed"),
        ),
        _k(
            "negative-amount",
            E,
            "金额 {value} 为负数。",
            "金額 {value} 為負數。",
            "The amount {value} is negative.",
            ("金额为负", "金額為負", "negative amount"),
        ),
        _k(
            "out-of-range",
            E,
            "{value} 超出“{header}”的允许范围（{low} 到 {high}）。",
            "{value} 超出「{header}」的允許範圍（{low} 到 {high}）。",
            "{value} is outside the range of {header} ({low} to {high}).",
            ("超出范围", "超出範圍", "out of range"),
        ),
        # --- rows -----------------------------------------------------------------------------
        _k(
            "duplicate-id",
            E,
            "编号 {value} 重复，也出现在第 {other_rows} 行。",
            "編號 {value} 重複，也出現在第 {other_rows} 列。",
            "The id {value} is used again in row(s) {other_rows}.",
            ("编号重复", "編號重複", "duplicate id"),
        ),
        _k(
            "unknown-reference",
            E,
            "“{value}”在“{target_tab}”的“{target_header}”中不存在。",
            "「{value}」在「{target_tab}」的「{target_header}」中不存在。",
            "“{value}” does not exist in {target_header} of {target_tab}.",
            ("引用不存在", "引用不存在", "unknown reference"),
        ),
        _k(
            "unknown-rep",
            W,
            "“{value}”不在“{target_tab}”名单中。",
            "「{value}」不在「{target_tab}」名單中。",
            "“{value}” is not listed in {target_tab}.",
            ("人员不在名单", "人員不在名單", "unknown rep"),
        ),
        _k(
            "impossible-order",
            E,
            "“{header}”（{value}）早于“{earlier_header}”（{earlier_value}）。",
            "「{header}」（{value}）早於「{earlier_header}」（{earlier_value}）。",
            "{header} ({value}) is before {earlier_header} ({earlier_value}).",
            ("时间顺序错误", "時間順序錯誤", "dates out of order"),
        ),
        _k(
            "bant-mismatch",
            W,
            "筛选结果填的是 {value}，但 BANT 四项中有 {yes} 项为“是”，应为 {expected}"
            "（清空该单元格即可自动计算）。",
            "篩選結果填的是 {value}，但 BANT 四項中有 {yes} 項為「是」，應為 {expected}"
            "（清空該儲存格即可自動計算）。",
            "BANT class is {value} but {yes} of the four BANT answers are yes, which gives "
            "{expected} (clear the cell to have it computed).",
            ("BANT不符", "BANT不符", "BANT mismatch"),
        ),
        _k(
            "formula-in-owned-column",
            W,
            "“{header}”由 salesync 计算，但该单元格有公式，已保留公式未写入。",
            "「{header}」由 salesync 計算，但該儲存格有公式，已保留公式未寫入。",
            "{header} is computed by salesync, but this cell holds a formula; it was left as is.",
            ("公式未覆盖", "公式未覆蓋", "formula kept"),
        ),
        _k(
            "invalid-setting",
            E,
            "设置“{key}”的值“{value}”无效：{reason}。",
            "設定「{key}」的值「{value}」無效：{reason}。",
            "Setting {key} has an invalid value “{value}”: {reason}.",
            ("设置无效", "設定無效", "bad setting"),
        ),
        # --- SLA -------------------------------------------------------------------------------
        _k(
            "sla-breached",
            W,
            "{rule_label}超时：应于 {due} 前完成，实际 {done}，晚了 {late}。{estimated}",
            "{rule_label}逾時：應於 {due} 前完成，實際 {done}，晚了 {late}。{estimated}",
            "{rule_label} SLA breached: due {due}, done {done}, {late} late.{estimated}",
            ("{rule_label}超时", "{rule_label}逾時", "{rule_label} late"),
        ),
        _k(
            "sla-overdue",
            W,
            "{rule_label}已逾期：应于 {due} 前完成，截至 {as_of} 仍未完成，"
            "已超 {late}。{estimated}",
            "{rule_label}已逾期：應於 {due} 前完成，截至 {as_of} 仍未完成，"
            "已超 {late}。{estimated}",
            "{rule_label} overdue: due {due}, still not done at {as_of}, {late} late.{estimated}",
            ("{rule_label}逾期", "{rule_label}逾期", "{rule_label} overdue"),
        ),
        _k(
            "calendar-estimated",
            W,
            "{year} 年的官方放假安排尚未公布，“{rule_label}”的截止时间按推定日历计算，"
            "公布后可能变化。",
            "{year} 年的官方放假安排尚未公布，「{rule_label}」的截止時間按推定日曆計算，"
            "公布後可能變化。",
            "The official {year} holiday schedule is not published yet; the {rule_label} due "
            "time uses an estimated calendar and may change.",
            ("日历为推定", "日曆為推定", "estimated calendar"),
        ),
        _k(
            "invalid-sla-rule",
            E,
            "时效规则“{rule}”无效：{reason}。该行已忽略，其他规则照常执行。",
            "時效規則「{rule}」無效：{reason}。該列已略過，其他規則照常執行。",
            "SLA rule “{rule}” is invalid: {reason}. The row was ignored; the other rules ran.",
            ("规则无效", "規則無效", "bad SLA rule"),
        ),
        _k(
            "next-step-date-unreadable",
            I,
            "下一步计划“{value}”中没有可识别的日期（例如 7月21日、7/21），无法检查是否按时跟进。",
            "下一步計劃「{value}」中沒有可辨識的日期（例如 7月21日、7/21），無法檢查是否按時跟進。",
            "No date found in the next step “{value}” (write 7/21 or 2026-07-21); its follow-up "
            "cannot be checked.",
            ("下一步无日期", "下一步無日期", "next step undated"),
        ),
        _k(
            "unknown-setting",
            W,
            "不认识设置项“{value}”，已忽略。",
            "不認識設定項「{value}」，已忽略。",
            "Unknown setting “{value}”; ignored.",
            ("未知设置", "未知設定", "unknown setting"),
        ),
        # --- metrics: performance, evaluation, reconciliation --------------------------------
        _k(
            "sales-without-target",
            W,
            "{rep} 在 {period} 有销售额 {actual}，但“目标”中没有该周期的目标销售额，完成率留空。",
            "{rep} 在 {period} 有銷售額 {actual}，但「目標」中沒有該週期的目標銷售額，完成率留空。",
            "{rep} has sales of {actual} in {period} but no sales target for it in Targets; "
            "the completion rate is left blank.",
            ("无目标", "無目標", "no target"),
        ),
        _k(
            "zero-target",
            W,
            "{rep} 在 {period} 的目标销售额为 0，完成率留空。",
            "{rep} 在 {period} 的目標銷售額為 0，完成率留空。",
            "The sales target of {rep} for {period} is 0; the completion rate is left blank.",
            ("目标为0", "目標為0", "zero target"),
        ),
        _k(
            "duplicate-target",
            E,
            "{rep} 在 {period} 有多行目标（第 {rows} 行），只使用了第 {used} 行。",
            "{rep} 在 {period} 有多列目標（第 {rows} 列），只使用了第 {used} 列。",
            "{rep} has several targets for {period} (rows {rows}); only row {used} was used.",
            ("目标重复", "目標重複", "duplicate target"),
        ),
        _k(
            "weights-not-100",
            E,
            "评分表的权重合计为 {sum}（第 {rows} 行），应为 100%；修正前不计算总分。",
            "評分表的權重合計為 {sum}（第 {rows} 列），應為 100%；修正前不計算總分。",
            "The scoring table's weights (rows {rows}) add up to {sum}, not 100%; "
            "no total score is computed until they do.",
            ("权重合计≠100%", "權重合計≠100%", "weights ≠ 100%"),
        ),
        _k(
            "unknown-indicator",
            E,
            "评分表中的指标“{value}”无法识别（可选：{allowed}），该行已忽略。",
            "評分表中的指標「{value}」無法辨識（可選：{allowed}），該列已忽略。",
            "Unknown indicator “{value}” in the scoring table (use {allowed}); row ignored.",
            ("未知指标", "未知指標", "unknown indicator"),
        ),
        _k(
            "duplicate-indicator",
            E,
            "指标“{indicator}”在评分表中重复（第 {rows} 行），只使用了第 {used} 行。",
            "指標「{indicator}」在評分表中重複（第 {rows} 列），只使用了第 {used} 列。",
            "Indicator {indicator} appears more than once in the scoring table (rows {rows}); "
            "only row {used} was used.",
            ("指标重复", "指標重複", "duplicate indicator"),
        ),
        _k(
            "invalid-weight",
            E,
            "权重“{value}”无效（例如 15%、0.15 或 15）。",
            "權重「{value}」無效（例如 15%、0.15 或 15）。",
            "“{value}” is not a weight (write 15%, 0.15 or 15).",
            ("权重无效", "權重無效", "bad weight"),
        ),
        _k(
            "invalid-scoring-target",
            E,
            "目标值“{value}”无效，已使用默认值 {default}。",
            "目標值「{value}」無效，已使用預設值 {default}。",
            "“{value}” is not a target value; the default {default} was used.",
            ("目标值无效", "目標值無效", "bad target"),
        ),
        _k(
            "invalid-scoring-rule",
            E,
            "评分规则“{value}”无法识别，已按线性计分（例如 linear 或 ≥100%:100;≥80%:80;<80%:50）。",
            "評分規則「{value}」無法辨識，已按線性計分"
            "（例如 linear 或 ≥100%:100;≥80%:80;<80%:50）。",
            "Scoring rule “{value}” is not understood; scored linearly "
            "(write linear or bands such as ≥100%:100;≥80%:80;<80%:50).",
            ("规则无效", "規則無效", "bad rule"),
        ),
        _k(
            "invoice-overpaid",
            W,
            "回款金额 {received} 超过发票金额 {invoiced}。",
            "回款金額 {received} 超過發票金額 {invoiced}。",
            "The amount received, {received}, exceeds the invoice amount {invoiced}.",
            ("超额回款", "超額回款", "overpaid"),
        ),
        _k(
            "invoiced-above-contract",
            W,
            "合同 {contract_id} 累计开票 {invoiced}，超过合同金额 {amount}。",
            "合約 {contract_id} 累計開票 {invoiced}，超過合約金額 {amount}。",
            "Contract {contract_id} has {invoiced} invoiced, above its amount {amount}.",
            ("开票超合同", "開票超合約", "invoiced above contract"),
        ),
        _k(
            "amount-unit-suspect",
            W,
            "金额 {value} 约为同类金额（{typical}）的 {ratio} 倍，可能用错了单位"
            "（本工作簿金额单位为 {unit}）。",
            "金額 {value} 約為同類金額（{typical}）的 {ratio} 倍，可能用錯了單位"
            "（本活頁簿金額單位為 {unit}）。",
            "The amount {value} is about {ratio}× the comparable amounts ({typical}); it may be "
            "in the wrong unit (this workbook's amounts are in {unit}).",
            ("单位可疑", "單位可疑", "unit?"),
        ),
        # --- leads: duplicate customers and assignment ----------------------------------------
        _k(
            "duplicate-customer",
            W,
            "同一客户（{matched}）有多条线索由不同负责人跟进：第 {rows} 行，负责人 {owners}；"
            "建议保留第 {keep_row} 行（最早分配）。",
            "同一客戶（{matched}）有多筆線索由不同負責人跟進：第 {rows} 列，負責人 {owners}；"
            "建議保留第 {keep_row} 列（最早分配）。",
            "The same customer ({matched}) is followed by several reps: rows {rows}, owners "
            "{owners}; keep row {keep_row} (assigned first).",
            ("重复客户", "重複客戶", "duplicate customer"),
        ),
        _k(
            "assign-rule-no-target",
            E,
            "分配规则缺少“分配给”（销售人员或团队），该规则未使用。",
            "分配規則缺少「分配給」（銷售人員或團隊），該規則未使用。",
            "The assignment rule names no rep or team to assign to; it was not used.",
            ("缺分配对象", "缺分配對象", "no assignee"),
        ),
        _k(
            "assign-rule-unknown-target",
            E,
            "“{value}”既不是销售人员也不是团队，该分配规则未使用。",
            "「{value}」既不是銷售人員也不是團隊，該分配規則未使用。",
            "“{value}” is neither a rep nor a team in Reps; the assignment rule was not used.",
            ("分配对象不存在", "分配對象不存在", "unknown assignee"),
        ),
        _k(
            "assign-rule-unknown-method",
            E,
            "“{value}”不是分配方式（可选：固定、轮流、最少），该分配规则未使用。",
            "「{value}」不是分配方式（可選：固定、輪流、最少），該分配規則未使用。",
            "“{value}” is not an assignment method (use Fixed, Round robin or Fewest open); "
            "the rule was not used.",
            ("分配方式无效", "分配方式無效", "bad method"),
        ),
        _k(
            "assign-rule-unknown-source",
            W,
            "“{value}”不是来源类型，只匹配来源完全相同的线索。",
            "「{value}」不是來源類型，只匹配來源完全相同的線索。",
            "“{value}” is not a lead source; it matches only leads whose source reads the same.",
            ("来源无效", "來源無效", "bad source"),
        ),
        _k(
            "assign-no-rule",
            W,
            "没有匹配的分配规则（区域“{region}”、行业“{industry}”、产品线“{product_line}”、"
            "来源“{source}”），未建议负责人。",
            "沒有符合的分配規則（區域「{region}」、行業「{industry}」、產品線「{product_line}」、"
            "來源「{source}」），未建議負責人。",
            "No assignment rule matches (region “{region}”, industry “{industry}”, product line "
            "“{product_line}”, source “{source}”); no owner proposed.",
            ("无分配规则", "無分配規則", "no assignment rule"),
        ),
        _k(
            "assign-no-active-rep",
            W,
            "分配规则（第 {rule_row} 行）的“{target}”没有在职人员，未建议负责人。",
            "分配規則（第 {rule_row} 列）的「{target}」沒有在職人員，未建議負責人。",
            "Assignment rule (row {rule_row}): “{target}” has no active rep; no owner proposed.",
            ("无在职人员", "無在職人員", "no active rep"),
        ),
        _k(
            "lead-assigned",
            I,
            "已分配给 {rep}（{reason}）。",
            "已分配給 {rep}（{reason}）。",
            "Assigned to {rep} ({reason}).",
            ("已分配", "已分配", "assigned"),
        ),
        _k(
            "referrer-unknown",
            I,
            "推荐客户“{value}”在合同中找不到，推荐次数按填写的名称统计。",
            "推薦客戶「{value}」在合約中找不到，推薦次數按填寫的名稱統計。",
            "The referring customer “{value}” has no contract; referrals are counted under the "
            "name as typed.",
            ("推荐人未知", "推薦人未知", "unknown referrer"),
        ),
    )
}


def _shown_parameters(kind: IssueKind) -> Callable[[Mapping[str, Any]], Any] | None:
    """A getter of the parameters the short labels of a kind show (None: they show none)."""
    texts = kind.short.values()
    names = dict.fromkeys(
        name for text in texts for _, name, _, _ in Formatter().parse(text) if name
    )
    return itemgetter(*names) if names else None


_SHORT_SHOWS = {code: _shown_parameters(kind) for code, kind in CODES.items()}


@dataclass(slots=True, unsafe_hash=True)
class Issue:
    """One problem. `row` is the spreadsheet row number the user sees; `column` a letter.

    A value: nothing changes an issue once made. (Not a frozen dataclass only because those
    set every field through `object.__setattr__`, and a large workbook makes 100,000s of
    issues.)
    """

    code: str
    severity: Severity
    tab: str
    row: int | None
    column: str | None
    header: str | None
    value: str | None
    message: str
    field: str | None = None  # canonical field name, for programs
    table: str | None = None  # canonical table name, for programs
    params: Mapping[str, Any] = dataclass_field(default_factory=dict, compare=False)
    rule: str | None = None  # the SLA rule id, for sla-* and calendar-estimated issues

    def to_record(self) -> dict[str, Any]:
        """The fields but `params` (and `rule` when None), severity as its text."""
        record = {
            "code": self.code,
            "severity": self.severity.value,
            "tab": self.tab,
            "row": self.row,
            "column": self.column,
            "header": self.header,
            "value": self.value,
            "message": self.message,
            "field": self.field,
            "table": self.table,
        }
        if self.rule is not None:
            record["rule"] = self.rule
        return record

    def sort_key(self) -> tuple:
        return (self.tab, self.row or 0, self.column or "", self.code, self.value or "")


def render(template: str, params: Mapping[str, Any]) -> str:
    try:
        return template.format_map(params if type(params) is dict else dict(params))
    except (KeyError, IndexError, ValueError):
        return template


def make_issue(
    code: str,
    lang: Lang,
    *,
    tab: str,
    row: int | None = None,
    column: str | None = None,
    header: str | None = None,
    value: object = None,
    params: Mapping[str, Any] | None = None,
    severity: Severity | None = None,
    field: str | None = None,
    table: str | None = None,
    rule: str | None = None,
) -> Issue:
    kind = CODES[code]
    return _built(
        code,
        kind.messages[lang],
        severity or kind.severity,
        tab,
        row,
        column,
        header,
        _shown(value),
        params,
        field,
        table,
        rule,
    )


def make_issues(
    codes: Sequence[str],
    lang: Lang,
    *,
    tab: str,
    rows: Iterable[int],
    column: str | None,
    header: str | None,
    values: Iterable[object],
    params: Iterable[Mapping[str, Any]],
    field: str | None = None,
    table: str | None = None,
    rule: str | None = None,
) -> list[Issue]:
    """Many issues about one column, `make_issue` of each (code, row, value, params), with
    each code's template and severity looked up once and its messages rendered together
    (`render_many`).

    >>> [i.message for i in make_issues(["invalid-number", "required"], Lang.EN, tab="Leads",
    ...     rows=[3, 4], column="D", header="Amount", values=["abc", None], params=[{}, {}])]
    ['“abc” is not a number.', 'Amount is required but blank.']
    """
    kinds = {code: CODES[code] for code in set(codes)}
    shown = each_once(list(values), _shown)  # the same date or number shown once
    merged = [
        _merged(header, text_value, extra) for text_value, extra in zip(shown, params, strict=True)
    ]
    messages = render_many([kinds[code].messages[lang] for code in codes], merged)
    return [
        Issue(
            code,
            kinds[code].severity,
            tab,
            row,
            column,
            header,
            text_value,
            message,
            field,
            table,
            merged_params,
            rule,
        )
        for code, row, text_value, message, merged_params in zip(
            codes, rows, shown, messages, merged, strict=True
        )
    ]


def _built(
    code: str,
    template: str,
    severity: Severity,
    tab: str,
    row: int | None,
    column: str | None,
    header: str | None,
    text_value: str | None,
    params: Mapping[str, Any] | None,
    field: str | None,
    table: str | None,
    rule: str | None,
) -> Issue:
    """An issue, its message rendered from `template` over the header, the value shown and
    `params`."""
    merged = _merged(header, text_value, params)
    message = render(template, merged)
    return Issue(
        code, severity, tab, row, column, header, text_value, message, field, table, merged, rule
    )


def _merged(
    header: str | None, text_value: str | None, params: Mapping[str, Any] | None
) -> dict[str, Any]:
    """An issue's parameters: the header and the value shown ("" for none), then `params`."""
    merged = {"header": header or "", "value": text_value or ""}
    if params:
        merged.update(params)
    return merged


def issues_from_params(
    codes: Sequence[str],
    lang: Lang,
    *,
    tab: str,
    rows: Iterable[int | None],
    column: str | None,
    header: str | None,
    params: Sequence[dict[str, Any]],
    field: str | None = None,
    table: str | None = None,
    rule: str | None = None,
) -> list[Issue]:
    """Many issues about one column from ready params: each dict holds the "header" and the
    "value" as shown ("" for a blank) besides its own fields, as `make_issue` merges them.
    The issues `make_issue` makes, with each code's template parsed once for all its rows.

    >>> [i.message for i in issues_from_params(["invalid-number", "required"], Lang.EN,
    ...     tab="Leads", rows=[3, 4], column="D", header="Amount",
    ...     params=[{"header": "Amount", "value": "abc"}, {"header": "Amount", "value": ""}])]
    ['“abc” is not a number.', 'Amount is required but blank.']
    """
    kinds = {code: CODES[code] for code in set(codes)}
    templates = {code: kind.messages[lang] for code, kind in kinds.items()}
    severities = {code: kind.severity for code, kind in kinds.items()}
    messages = render_many(list(map(templates.__getitem__, codes)), params)
    return [
        Issue(
            code,
            severities[code],
            tab,
            row,
            column,
            header,
            merged["value"] or None,
            message,
            field,
            table,
            merged,
            rule,
        )
        for code, row, message, merged in zip(codes, rows, messages, params, strict=True)
    ]


def render_many(templates: Sequence[str], params: Sequence[dict[str, Any]]) -> list[str]:
    """`render` of each template over its params, each distinct template parsed once and
    filled in field by field rather than row by row.

    >>> render_many(["{a}-{b}", "{b}!", "{a}-{b}"], [{"a": 1, "b": "x"}, {"b": "y"}, {"a": 2}])
    ['1-x', 'y!', '{a}-{b}']
    """
    distinct = dict.fromkeys(templates)
    if len(distinct) == 1:
        return _render_all(templates[0], params)
    messages = np.empty(len(templates), dtype=object)
    template_of = objects(templates)
    for template in distinct:
        rows = np.flatnonzero(template_of == template)
        found = _render_all(template, list(map(params.__getitem__, rows.tolist())))
        messages[rows] = objects(found)  # as objects: numpy would make a list of texts an array
    return messages.tolist()


def _render_all(template: str, params: Sequence[dict[str, Any]]) -> list[str]:
    """`render` of one template over many params: its literal texts and each field's values
    joined column by column (a value formatted as `str.format` does)."""
    names = _plain_fields(template)
    if names is None:
        return [render(template, param) for param in params]
    count = len(params)
    pieces: list[Iterable[str]] = []
    for literal, name in names:
        pieces.append(repeat(literal, count))
        if name is not None:
            pieces.append(map(format, map(itemgetter(name), params)))
    if not pieces:
        return [template] * count
    try:
        return list(map("".join, zip(*pieces, strict=True)))
    except (KeyError, IndexError, ValueError):  # what `render` leaves as the template
        return [render(template, param) for param in params]


def _plain_fields(template: str) -> list[tuple[str, str | None]] | None:
    """A template's literal texts, each followed by the name of a field (None after the last
    text); None when a field is more than a plain name (a spec, a conversion, an attribute,
    an index, a position) or the template does not parse: `render` takes those row by row."""
    try:
        parts = list(Formatter().parse(template))
    except ValueError:
        return None
    if any(
        name is not None and (spec or convert or not name.isidentifier())
        for _, name, spec, convert in parts
    ):
        return None
    return [(literal, name) for literal, name, _, _ in parts]


def _shown(value: object) -> str | None:
    """A value as an issue shows it; None for no value or a blank one."""
    if value is None:
        return None
    text = display_value(value)
    return None if not text or text.isspace() else text


def short_label(issue: Issue, lang: Lang) -> str:
    return render(CODES[issue.code].short[lang], issue.params)


def short_labels(issues: Iterable[Issue], lang: Lang) -> list[str]:
    """`short_label` of each issue, each distinct label rendered once.

    >>> issues = [make_issue("required", Lang.EN, tab="Leads", header=h) for h in "ABA"]
    >>> short_labels(issues, Lang.EN)
    ['A missing', 'B missing', 'A missing']
    """
    known: dict[Any, str] = {}
    labels = []
    for issue in issues:
        shows = _SHORT_SHOWS[issue.code]
        try:
            key = (issue.code, shows(issue.params)) if shows else issue.code
        except KeyError:  # a parameter is missing: the label is its template
            key = issue.code, _MISSING
        label = known.get(key)
        if label is None:
            label = known[key] = short_label(issue, lang)
        labels.append(label)
    return labels


_MISSING = object()  # a parameter an issue does not have


def display_value(value: object) -> str:
    """A cell value as a person would read it in a message.

    >>> display_value(datetime(2026, 7, 21, 9, 30)), display_value(datetime(2026, 7, 21))
    ('2026-07-21 09:30', '2026-07-21')
    >>> display_value(4.0), display_value(4.5), display_value("4.0")
    ('4', '4.5', '4.0')
    """
    if type(value) is str:  # the common case, first
        return value
    if isinstance(value, datetime):
        if value.hour == value.minute == value.second == 0:
            return value.date().isoformat()
        if type(value) is datetime and value.tzinfo is None and value.year >= 1000:
            return value.isoformat(" ", "minutes")  # what strftime gives, in a quarter the time
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def count_by_severity(issues: Iterable[Issue]) -> dict[str, int]:
    tally = Counter(map(attrgetter("severity"), issues))
    return {s.value: tally[s] for s in Severity}
