"""Metrics (DESIGN.md §5): monthly performance, quarterly weighted evaluation, funnel and the
reconciliation of collections against contracts.

Everything here reads the parsed tables the job produces (`dict[str, TableData]`; any table
may be missing) and returns pandas DataFrames whose columns are the canonical field names of
the owned tables declared below (`PERFORMANCE`, `EVALUATION`, …), plus `MetricProblem`s:
problems are data, never raised. Amounts are taken as they are, in the workbook's unit
(Settings amount_unit): a contract typed "50万" is already 50 in a 万元 workbook.

How people and things are matched: reps by their folded name (width, case, script and spaces
aside, as the Reps reference check does), customers the same way, contract ids exactly but for
width, case and surrounding spaces. A row whose needed fields are blank or did not parse is
skipped (its cell issue is reported by parsing already).

>>> completion_rate(168, 150), avg_deal(168, 3)
(1.12, 56.0)
>>> score(0.24, 0.30), score(0.9, 1.0, "≥100%:100;≥80%:80;<80%:50")
(80.0, 80.0)
>>> weighted_score([80, 100], [40, 60]), weighted_score([80, 100], [0.4, 0.4])
(92.0, None)
"""

from __future__ import annotations

import math
import re
import statistics
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, NamedTuple

import pandas as pd

from .issues import Issue, IssueKind, render
from .model import CellValue
from .parse import Period, is_blank, match_choice, parse_number_text, render_text
from .schema import AMOUNT_UNIT, STAGE, Choice, Choices, Field, Kind, Lang, Owner, Severity, Table
from .settings import DEFAULT_SETTINGS, Settings
from .tables import TableData
from .text import fold

__all__ = [
    "CONTRACT_INVOICING",
    "DEFAULT_SCORING",
    "EVALUATION",
    "FUNNEL_PIPELINE",
    "FUNNEL_STAGES",
    "FUNNEL_SUMMARY",
    "INVOICE_RECONCILIATION",
    "METRIC_CODES",
    "OUTPUT_TABLES",
    "PERFORMANCE",
    "REP_COLLECTIONS",
    "SCORING",
    "Band",
    "Dimension",
    "Funnel",
    "Indicator",
    "MetricProblem",
    "MetricTable",
    "Metrics",
    "Reconciliation",
    "ScoringRow",
    "ScoringRule",
    "ScoringTable",
    "amount_unit_problems",
    "avg_deal",
    "collection_rate",
    "completion_rate",
    "compute_metrics",
    "funnel",
    "localize",
    "metric_issue",
    "monthly_performance",
    "parse_scoring_rows",
    "parse_scoring_rule",
    "quarterly_evaluation",
    "reconcile_collections",
    "score",
    "scoring_from_table",
    "weighted_score",
    "weights_problem",
]


def _l(zh_hans: str, zh_hant: str, en: str) -> dict[Lang, str]:
    return {Lang.ZH_HANS: zh_hans, Lang.ZH_HANT: zh_hant, Lang.EN: en}


# --- problems -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MetricProblem:
    """Something the metrics could not compute cleanly. `table`/`row`/`field` point at the
    cell to fix (canonical names; `row` is the spreadsheet row), when there is one; `params`
    fill the message templates of `METRIC_CODES[code]`."""

    code: str
    table: str | None = None
    row: int | None = None
    field: str | None = None
    params: Mapping[str, Any] = dataclass_field(default_factory=dict)

    @property
    def severity(self) -> Severity:
        return METRIC_CODES[self.code].severity


def _k(
    code: str, severity: Severity, zh_hans: str, zh_hant: str, en: str, short: tuple[str, str, str]
) -> IssueKind:
    return IssueKind(code, severity, _l(zh_hans, zh_hant, en), _l(*short))


E, W = Severity.ERROR, Severity.WARNING

METRIC_CODES: dict[str, IssueKind] = {
    k.code: k
    for k in (
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
    )
}


def metric_issue(
    problem: MetricProblem, lang: Lang, tables: Mapping[str, TableData] | None = None
) -> Issue:
    """The localized issue of a problem, pointing at its tab, row and column when known."""
    kind = METRIC_CODES[problem.code]
    data = (tables or {}).get(problem.table or "")
    tab = data.tab if data is not None else (_table_title(problem.table, lang) or "")
    column = data.letter(problem.field) if data is not None and problem.field else None
    header = (
        data.bound.header_of(problem.field, lang) if data is not None and problem.field else None
    )
    params: dict[str, Any] = {"header": header or "", "value": "", **problem.params}
    if "unit" in params:
        params["unit"] = AMOUNT_UNIT.label(str(params["unit"]), lang)
    for key in ("indicator",):
        if key in params and str(params[key]) in _INDICATOR_KEYS:
            params[key] = INDICATORS.label(str(params[key]), lang)
    value = params.get("value")
    return Issue(
        code=problem.code,
        severity=kind.severity,
        tab=tab,
        row=problem.row,
        column=column,
        header=header,
        value=str(value) if value not in (None, "") else None,
        message=render(kind.messages[lang], params),
        field=problem.field,
        table=problem.table,
        params=params,
    )


def _table_title(name: str | None, lang: Lang) -> str | None:
    from .schema import SCHEMA

    if name is None:
        return None
    try:
        return SCHEMA.table(name).title(lang)
    except KeyError:
        return SCORING.title(lang) if name == SCORING.name else name


# --- vocabularies ---------------------------------------------------------------------------


class Indicator(StrEnum):
    LEAD_CONVERSION = "lead_conversion"
    PROPOSAL_ON_TIME = "proposal_on_time"
    FOLLOW_UPS_PER_WEEK = "follow_ups_per_week"
    SALES_COMPLETION = "sales_completion"
    COLLECTION_RATE = "collection_rate"


class Dimension(StrEnum):
    PROCESS = "process"
    RESULTS = "results"


INDICATORS = Choices(
    "indicator",
    (
        Choice(
            "lead_conversion",
            _l("线索转化率", "線索轉化率", "Lead→opportunity conversion"),
            (
                "线索转商机率",
                "商机转化率",
                "线索→商机转化率",
                "转化率",
                "lead conversion",
                "lead-to-opportunity conversion",
                "conversion",
            ),
        ),
        Choice(
            "proposal_on_time",
            _l("方案按时提交率", "方案按時提交率", "Proposal on-time rate"),
            ("方案及时率", "方案准时率", "方案按时率", "proposal on time", "proposal on-time"),
        ),
        Choice(
            "follow_ups_per_week",
            _l("周均跟进次数", "週均跟進次數", "Follow-ups per week"),
            ("每周跟进次数", "周跟进次数", "跟进频次", "客户跟进频次", "weekly follow-ups"),
        ),
        Choice(
            "sales_completion",
            _l("销售目标完成率", "銷售目標完成率", "Sales completion"),
            ("业绩完成率", "销售完成率", "完成率", "目标完成率", "sales target completion"),
        ),
        Choice(
            "collection_rate",
            _l("回款率", "回款率", "Collection rate"),
            ("回款完成率", "收款率", "collections"),
        ),
        Choice("total", _l("总分", "總分", "Total"), ("合计", "total score")),
    ),
)
_INDICATOR_KEYS = frozenset(c.key for c in INDICATORS.choices)

DIMENSIONS = Choices(
    "dimension",
    (
        Choice("process", _l("过程", "過程", "Process"), ("过程指标", "过程考核", "过程维度")),
        Choice("results", _l("结果", "結果", "Results"), ("结果指标", "结果考核", "result")),
    ),
)

HINTS = Choices(
    "hint",
    (
        Choice(
            "lead_conversion",
            _l(
                "提高线索质量：优先跟进 A/B 类线索，尽早确认预算和决策人。",
                "提高線索品質：優先跟進 A/B 類線索，儘早確認預算和決策人。",
                "Work A/B leads first and confirm budget and decision maker early.",
            ),
        ),
        Choice(
            "proposal_on_time",
            _l(
                "提前规划方案进度，在截止日前提交方案。",
                "提前規劃方案進度，在截止日前提交方案。",
                "Plan proposal work ahead and submit before the due date.",
            ),
        ),
        Choice(
            "follow_ups_per_week",
            _l(
                "提高跟进频次：为每个在跟客户安排每周的下一步。",
                "提高跟進頻次：為每個在跟客戶安排每週的下一步。",
                "Follow up more often: give every active customer a next step each week.",
            ),
        ),
        Choice(
            "sales_completion",
            _l(
                "聚焦高赢率商机，加快推进谈判与签约。",
                "聚焦高贏率商機，加快推進談判與簽約。",
                "Focus on high-probability deals and move negotiations to signature.",
            ),
        ),
        Choice(
            "collection_rate",
            _l(
                "跟进到期发票，按合同账期催收回款。",
                "跟進到期發票，按合約帳期催收回款。",
                "Chase invoices that are due and collect per the payment terms.",
            ),
        ),
    ),
)

RECONCILIATION = Choices(
    "reconciliation",
    (
        Choice("matched", _l("已结清", "已結清", "Matched")),
        Choice("partial", _l("部分回款", "部分回款", "Partial")),
        Choice("unpaid", _l("未回款", "未回款", "Unpaid")),
        Choice("overpaid", _l("超额回款", "超額回款", "Overpaid")),
        Choice("unknown_contract", _l("合同不存在", "合約不存在", "Unknown contract")),
        Choice("above_contract", _l("开票超合同", "開票超合約", "Invoiced above contract")),
    ),
)

# The funnel's order; `lost` ends a lead at any stage. `opportunity` is the coarse stage of
# workbooks that keep no finer one, ranked just above `lead`.
FUNNEL_ORDER: tuple[str, ...] = (
    "lead",
    "opportunity",
    "qualified",
    "needs_analysis",
    "proposal",
    "negotiation",
    "won",
)
_RANK = {stage: i for i, stage in enumerate(FUNNEL_ORDER)}
OPEN_STAGES = frozenset(FUNNEL_ORDER[:-1])


# --- output tables --------------------------------------------------------------------------


def _f(name: str, kind: Kind, headers: dict[Lang, str], choices: Choices | None = None) -> Field:
    return Field(name, kind, headers, choices=choices)


_REP_F = _f("rep", Kind.TEXT, _l("销售员", "銷售員", "Rep"))
_TEAM_F = _f("team", Kind.TEXT, _l("团队", "團隊", "Team"))
_PERIOD_F = _f("period", Kind.PERIOD, _l("周期", "週期", "Period"))

PERFORMANCE = Table(
    "performance",
    _l("业绩", "業績", "Performance"),
    owner=Owner.JOB,
    help="Monthly performance per rep (DESIGN.md §5); the source template's columns.",
    fields=(
        _REP_F,
        _PERIOD_F,
        _f("sales_target", Kind.AMOUNT, _l("目标销售额", "目標銷售額", "Sales target")),
        _f("actual_sales", Kind.AMOUNT, _l("实际销售额", "實際銷售額", "Actual sales")),
        _f("completion_rate", Kind.PERCENT, _l("完成率", "完成率", "Completion")),
        _f("new_customers", Kind.INTEGER, _l("新签客户数", "新簽客戶數", "New customers")),
        _f("avg_deal", Kind.AMOUNT, _l("客单价", "客單價", "Average deal")),
        _f("collection_rate", Kind.PERCENT, _l("回款率", "回款率", "Collection rate")),
        _f("top_customers", Kind.TEXT, _l("核心贡献客户", "核心貢獻客戶", "Top customers")),
    ),
)

EVALUATION = Table(
    "evaluation",
    _l("绩效", "績效", "Evaluation"),
    owner=Owner.JOB,
    help="Quarterly weighted evaluation: one row per rep and indicator, then the rep's total.",
    fields=(
        _REP_F,
        _PERIOD_F,
        _f("dimension", Kind.ENUM, _l("维度", "維度", "Dimension"), DIMENSIONS),
        _f("indicator", Kind.ENUM, _l("指标", "指標", "Indicator"), INDICATORS),
        _f("weight", Kind.PERCENT, _l("权重", "權重", "Weight")),
        _f("target", Kind.NUMBER, _l("目标值", "目標值", "Target")),
        _f("actual", Kind.NUMBER, _l("实际值", "實際值", "Actual")),
        _f("score", Kind.NUMBER, _l("得分", "得分", "Score")),
        _f("weighted_score", Kind.NUMBER, _l("加权得分", "加權得分", "Weighted score")),
        _f("hint", Kind.ENUM, _l("改进建议", "改進建議", "Improvement hint"), HINTS),
    ),
)

_STAGE_F = _f("stage", Kind.ENUM, _l("阶段", "階段", "Stage"), STAGE)
FUNNEL_STAGES = Table(
    "funnel_stages",
    _l("漏斗", "漏斗", "Funnel"),
    owner=Owner.JOB,
    help="Leads per stage (now), leads that reached the stage, conversion from the stage before.",
    fields=(
        _TEAM_F,
        _REP_F,
        _STAGE_F,
        _f("leads", Kind.INTEGER, _l("线索数", "線索數", "Leads")),
        _f("reached", Kind.INTEGER, _l("到达数", "到達數", "Reached")),
        _f("conversion", Kind.PERCENT, _l("阶段转化率", "階段轉化率", "Conversion")),
    ),
)
FUNNEL_SUMMARY = Table(
    "funnel_summary",
    _l("漏斗汇总", "漏斗匯總", "Funnel summary"),
    owner=Owner.JOB,
    fields=(
        _TEAM_F,
        _REP_F,
        _f("leads", Kind.INTEGER, _l("线索数", "線索數", "Leads")),
        _f("open", Kind.INTEGER, _l("在跟进", "跟進中", "Open")),
        _f("won", Kind.INTEGER, _l("赢单", "贏單", "Won")),
        _f("lost", Kind.INTEGER, _l("输单", "輸單", "Lost")),
        _f("win_rate", Kind.PERCENT, _l("赢单率", "贏單率", "Win rate")),
        _f(
            "cycle_days_new",
            Kind.NUMBER,
            _l("新客户成交周期中位数(天)", "新客戶成交週期中位數(天)", "Median cycle, new (days)"),
        ),
        _f(
            "cycle_days_existing",
            Kind.NUMBER,
            _l(
                "老客户成交周期中位数(天)",
                "老客戶成交週期中位數(天)",
                "Median cycle, existing (days)",
            ),
        ),
        _f("weighted_pipeline", Kind.AMOUNT, _l("加权管道", "加權管道", "Weighted pipeline")),
    ),
)
FUNNEL_PIPELINE = Table(
    "funnel_pipeline",
    _l("加权管道", "加權管道", "Weighted pipeline"),
    owner=Owner.JOB,
    fields=(
        _TEAM_F,
        _REP_F,
        _f("month", Kind.PERIOD, _l("预计成交月份", "預計成交月份", "Expected close month")),
        _f("open_leads", Kind.INTEGER, _l("在跟进线索", "跟進中線索", "Open leads")),
        _f("expected_amount", Kind.AMOUNT, _l("预计金额", "預計金額", "Expected amount")),
        _f("weighted_amount", Kind.AMOUNT, _l("加权金额", "加權金額", "Weighted amount")),
    ),
)
INVOICE_RECONCILIATION = Table(
    "invoice_reconciliation",
    _l("回款对账", "回款對帳", "Invoice reconciliation"),
    owner=Owner.JOB,
    help="One row per Collections row (indexed by its spreadsheet row): the owned columns "
    "overdue_days and reconciliation come from here.",
    fields=(
        _f("invoice_no", Kind.ID, _l("发票号", "發票號", "Invoice no.")),
        _f("contract_id", Kind.ID, _l("合同编号", "合約編號", "Contract ID")),
        _REP_F,
        _f("invoice_amount", Kind.AMOUNT, _l("发票金额", "發票金額", "Invoice amount")),
        _f("received_amount", Kind.AMOUNT, _l("回款金额", "回款金額", "Received amount")),
        _f("outstanding", Kind.AMOUNT, _l("未回款金额", "未回款金額", "Outstanding")),
        _f("due_date", Kind.DATE, _l("到期日", "到期日", "Due date")),
        _f("overdue_days", Kind.INTEGER, _l("逾期天数", "逾期天數", "Overdue days")),
        _f(
            "reconciliation",
            Kind.ENUM,
            _l("对账结果", "對帳結果", "Reconciliation"),
            RECONCILIATION,
        ),
    ),
)
CONTRACT_INVOICING = Table(
    "contract_invoicing",
    _l("合同开票", "合約開票", "Contract invoicing"),
    owner=Owner.JOB,
    fields=(
        _f("contract_id", Kind.ID, _l("合同编号", "合約編號", "Contract ID")),
        _f("customer", Kind.TEXT, _l("客户名称", "客戶名稱", "Customer")),
        _REP_F,
        _f("amount", Kind.AMOUNT, _l("合同金额", "合約金額", "Amount")),
        _f("invoiced", Kind.AMOUNT, _l("已开票", "已開票", "Invoiced")),
        _f("received", Kind.AMOUNT, _l("已回款", "已回款", "Received")),
        _f("uninvoiced", Kind.AMOUNT, _l("未开票", "未開票", "Not invoiced")),
        _f("above_contract", Kind.BOOL, _l("开票超合同", "開票超合約", "Invoiced above amount")),
    ),
)
REP_COLLECTIONS = Table(
    "rep_collections",
    _l("回款率", "回款率", "Collection rate"),
    owner=Owner.JOB,
    help="Invoices due in the month, per contract owner: the Performance tab's collection rate.",
    fields=(
        _REP_F,
        _PERIOD_F,
        _f("invoiced", Kind.AMOUNT, _l("到期发票金额", "到期發票金額", "Invoiced (due)")),
        _f("received", Kind.AMOUNT, _l("已回款", "已回款", "Received")),
        _f("collection_rate", Kind.PERCENT, _l("回款率", "回款率", "Collection rate")),
    ),
)

# The scoring table managers edit: a section of the Settings tab (like the SLA rules).
SCORING = Table(
    "scoring",
    _l("评分表", "評分表", "Scoring"),
    section_of="settings",
    aliases=("绩效评分表", "考核指标", "scoring table"),
    fields=(
        Field(
            "indicator",
            Kind.TEXT,
            _l("考核指标", "考核指標", "Indicator"),
            ("指标", "指标名称", "kpi"),
            required=True,
        ),
        Field("dimension", Kind.TEXT, _l("维度", "維度", "Dimension"), ("考核维度", "类别")),
        Field(
            "weight",
            Kind.TEXT,
            _l("权重", "權重", "Weight"),
            ("权重(%)", "分值", "占比"),
            required=True,
        ),
        Field("target", Kind.TEXT, _l("目标值", "目標值", "Target"), ("目标", "考核标准")),
        Field("rule", Kind.TEXT, _l("评分规则", "評分規則", "Scoring rule"), ("计分规则", "规则")),
    ),
)

OUTPUT_TABLES: tuple[Table, ...] = (
    PERFORMANCE,
    EVALUATION,
    FUNNEL_STAGES,
    FUNNEL_SUMMARY,
    FUNNEL_PIPELINE,
    INVOICE_RECONCILIATION,
    CONTRACT_INVOICING,
    REP_COLLECTIONS,
)


def _frame(table: Table, records: list[dict[str, Any]], index: list[int] | None = None) -> Any:
    columns = [f.name for f in table.fields]
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame = frame.astype(object).where(frame.notna(), None) if len(frame) else frame
    if index is not None:
        frame.index = pd.Index(index, name="row")
    return frame


def localize(frame: pd.DataFrame, table: Table, lang: Lang) -> pd.DataFrame:
    """A frame as a tab shows it: headers in `lang`, choice keys as labels, periods as text.

    >>> frame = _frame(EVALUATION, [{"indicator": "collection_rate", "dimension": "results"}])
    >>> list(localize(frame, EVALUATION, Lang.EN).iloc[0][["Dimension", "Indicator"]])
    ['Results', 'Collection rate']
    """
    out = frame.copy()
    for f in table.fields:
        if f.name not in out:
            continue
        if f.choices is not None:
            choices = f.choices
            out[f.name] = [None if v is None else choices.label(v, lang) for v in out[f.name]]
        elif f.kind is Kind.PERIOD:
            out[f.name] = [None if v is None else str(v) for v in out[f.name]]
    return out.rename(columns={f.name: f.headers[lang] for f in table.fields})


# --- pure scoring helpers (shared with the SALES_* cell functions) --------------------------


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        x = float(value)
        return x if math.isfinite(x) else None
    return None


def _ratio(numerator: object, denominator: object) -> float | None:
    a, b = _number(numerator), _number(denominator)
    if a is None or b is None or b == 0:
        return None
    return a / b


def completion_rate(actual: float | None, target: float | None) -> float | None:
    """actual / target; None when either is missing or the target is 0.

    >>> completion_rate(168, 150), completion_rate(10, 0), completion_rate(None, 150)
    (1.12, None, None)
    """
    return _ratio(actual, target)


def collection_rate(received: float | None, invoiced: float | None) -> float | None:
    """received / invoiced; None when nothing was invoiced. A missing received amount is 0."""
    return _ratio(0.0 if received is None else received, invoiced)


def avg_deal(actual: float | None, customers: int | None) -> float | None:
    """Sales per customer signed; None without customers."""
    return _ratio(actual, customers)


_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b - 1e-9,
    ">": lambda a, b: a > b + 1e-9,
    "<=": lambda a, b: a <= b + 1e-9,
    "<": lambda a, b: a < b - 1e-9,
    "=": lambda a, b: abs(a - b) <= 1e-9,
}


@dataclass(frozen=True, slots=True)
class Band:
    """`op threshold : points`; the threshold is an achievement ratio (actual/target)."""

    op: str
    threshold: float
    points: float

    def matches(self, achievement: float) -> bool:
        return _OPS[self.op](achievement, self.threshold)

    def __str__(self) -> str:
        sign = {">=": "≥", "<=": "≤"}.get(self.op, self.op)
        return f"{sign}{self.threshold * 100:g}%:{self.points:g}"


@dataclass(frozen=True, slots=True)
class ScoringRule:
    """Linear (no bands): min(100, 100·actual/target). Bands: the highest points among the
    bands the achievement (actual/target) satisfies, 0 when none does; so the order the bands
    are written in does not matter for the usual rising scales."""

    bands: tuple[Band, ...] = ()

    def __str__(self) -> str:
        return ";".join(map(str, self.bands)) if self.bands else "linear"


LINEAR = ScoringRule()
_LINEAR_WORDS = frozenset(
    map(fold, ("linear", "线性", "線性", "按比例", "比例", "默认", "default"))
)
_BAND = re.compile(
    r"(?P<op>>=|<=|≥|≤|>|<|=|＞|＜|＝|≧|≦)?\s*(?P<num>[-+]?\d+(?:\.\d+)?)\s*(?P<pct>%)?"
    r"\s*(?:以上|及以上)?\s*[:：→=]>?\s*(?P<points>[-+]?\d+(?:\.\d+)?)\s*分?"
)
_OP_NORMAL = {"≥": ">=", "≧": ">=", "≤": "<=", "≦": "<=", "＞": ">", "＜": "<", "＝": "="}


def parse_scoring_rule(text: object) -> ScoringRule | None:
    """A rule cell: blank or "linear" (线性), or bands such as "≥100%:100;≥80%:80;<80%:50".
    None when it cannot be read.

    >>> str(parse_scoring_rule("≥100%:100；≥80%:80；<80%:50"))
    '≥100%:100;≥80%:80;<80%:50'
    """
    if text is None or (isinstance(text, str) and is_blank(text)):
        return LINEAR
    s = unicodedata.normalize("NFKC", render_text(text)).strip()  # type: ignore[arg-type]
    if fold(s) in _LINEAR_WORDS:
        return LINEAR
    bands: list[Band] = []
    for part in re.split(r"[;,|\n]+", s):
        part = part.strip()
        if not part:
            continue
        match = _BAND.fullmatch(part)
        if match is None:
            return None
        op = _OP_NORMAL.get(match.group("op") or ">=", match.group("op") or ">=")
        threshold = float(match.group("num"))
        if match.group("pct") or threshold > 10:  # "≥100:100" means 100%
            threshold /= 100
        points = float(match.group("points"))
        if not 0 <= points <= 100:
            return None
        bands.append(Band(op, threshold, points))
    return ScoringRule(tuple(bands)) if bands else None


def score(
    actual: float | None, target: float | None, rule: str | ScoringRule = "linear"
) -> float | None:
    """An indicator's score, 0–100: linear min(100, 100·actual/target), or by bands on the
    achievement actual/target. None when the actual or target is missing, the target is not
    positive, or the rule cannot be read.

    >>> score(168, 150), score(3, 4), score(-1, 3), score(1, 0)
    (100.0, 75.0, 0.0, None)
    """
    parsed = parse_scoring_rule(rule) if not isinstance(rule, ScoringRule) else rule
    a, t = _number(actual), _number(target)
    if parsed is None or a is None or t is None or t <= 0:
        return None
    achievement = a / t
    if not parsed.bands:
        return max(0.0, min(100.0, 100.0 * achievement))
    matched = [b.points for b in parsed.bands if b.matches(achievement)]
    return max(matched) if matched else 0.0


def as_weight(value: object) -> float | None:
    """A weight as a fraction: 15%, "15%", 0.15 and 15 (points) are all 0.15."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = re.sub(r"\s*(分|points?|pts?)$", "", value.strip(), flags=re.IGNORECASE)
        found = parse_number_text(text)
        if found is None or (found.multiplier is not None and found.multiplier != 1):
            return None
        x = float(found.value)
        if found.percent:
            return x / 100
    else:
        number = _number(value)
        if number is None:
            return None
        x = number
    if x < 0:
        return None
    return x / 100 if x > 1 else x


_WEIGHT_TOLERANCE = 1e-6


def _pct(x: float) -> str:
    return f"{round(x * 100, 4):g}%"


def weights_problem(
    weights: Sequence[object], rows: Sequence[int | None] | None = None
) -> MetricProblem | None:
    """The problem with a set of weights, if any: unreadable, or not summing to 100%.

    >>> weights_problem([30, 25, 22, 85, 60]).params["sum"]
    '222%'
    """
    parsed = [as_weight(w) for w in weights]
    row_text = ", ".join(str(r) for r in (rows or []) if r is not None)
    for w, value, row in zip(parsed, weights, rows or [None] * len(parsed), strict=False):
        if w is None and value is not None:
            return MetricProblem("invalid-weight", SCORING.name, row, "weight", {"value": value})
    total = sum(w or 0.0 for w in parsed)
    if abs(total - 1.0) > _WEIGHT_TOLERANCE:
        return MetricProblem(
            "weights-not-100",
            SCORING.name,
            next((r for r in rows or [] if r is not None), None),
            "weight",
            {"sum": _pct(total), "total": total, "rows": row_text},
        )
    return None


def weighted_score(scores: Sequence[float | None], weights: Sequence[object]) -> float | None:
    """Σ score × weight, 0–100, over indicators that have a score (a None score is not
    applicable: the others' weights are scaled up to 100%). None when the weights do not add up
    to 100% (see `weights_problem` for why) or nothing is scored."""
    if len(scores) != len(weights) or weights_problem(weights) is not None:
        return None
    pairs = [
        (x, as_weight(w) or 0.0)
        for s, w in zip(scores, weights, strict=True)
        if (x := _number(s)) is not None
    ]
    scored_weight = sum(w for _, w in pairs)
    if not pairs or scored_weight <= 0:
        return None
    return sum(s * w for s, w in pairs) / scored_weight


# --- the scoring table ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoringRow:
    indicator: Indicator
    dimension: Dimension
    weight: float  # a fraction: 0.15
    target: float  # ratios as fractions (0.3); follow-ups per week as a count (3)
    rule: ScoringRule = LINEAR
    row: int | None = None  # the Settings row it was read from


@dataclass(frozen=True, slots=True)
class ScoringTable:
    rows: tuple[ScoringRow, ...]

    @property
    def weight_sum(self) -> float:
        return sum(r.weight for r in self.rows)

    @property
    def weights_ok(self) -> bool:
        return abs(self.weight_sum - 1.0) <= _WEIGHT_TOLERANCE

    def get(self, indicator: str) -> ScoringRow | None:
        return next((r for r in self.rows if r.indicator == indicator), None)


_DEFAULT_DIMENSION = {
    Indicator.LEAD_CONVERSION: Dimension.PROCESS,
    Indicator.PROPOSAL_ON_TIME: Dimension.PROCESS,
    Indicator.FOLLOW_UPS_PER_WEEK: Dimension.PROCESS,
    Indicator.SALES_COMPLETION: Dimension.RESULTS,
    Indicator.COLLECTION_RATE: Dimension.RESULTS,
}
RATIO_INDICATORS = frozenset(set(Indicator) - {Indicator.FOLLOW_UPS_PER_WEEK})
"""Indicators whose target and actual are ratios (show as %); follow-ups per week is a count."""

DEFAULT_SCORING = ScoringTable(
    (
        ScoringRow(Indicator.LEAD_CONVERSION, Dimension.PROCESS, 0.15, 0.30),
        ScoringRow(Indicator.PROPOSAL_ON_TIME, Dimension.PROCESS, 0.10, 0.95),
        ScoringRow(Indicator.FOLLOW_UPS_PER_WEEK, Dimension.PROCESS, 0.15, 3.0),
        ScoringRow(Indicator.SALES_COMPLETION, Dimension.RESULTS, 0.40, 1.00),
        ScoringRow(Indicator.COLLECTION_RATE, Dimension.RESULTS, 0.20, 0.90),
    )
)


class ScoringCells(NamedTuple):
    """One raw row of the scoring table, as read from the sheet."""

    row: int | None
    indicator: CellValue
    dimension: CellValue = None
    weight: CellValue = None
    target: CellValue = None
    rule: CellValue = None


def _target_value(value: CellValue, indicator: Indicator) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        x = float(value)
    elif isinstance(value, str):
        s = unicodedata.normalize("NFKC", value).strip()
        s = re.sub(r"^(>=|≥|>|≧)", "", s).strip()
        s = re.sub(r"(次/周|次/週|次每周|次|/周|/week|per week)$", "", s, flags=re.I).strip()
        found = parse_number_text(s)
        if found is None or (found.multiplier is not None and found.multiplier != 1):
            return None
        x = float(found.value) / (100 if found.percent else 1)
    else:
        return None
    if indicator in RATIO_INDICATORS and x > 1.5:  # 30 where 30% was meant
        x /= 100
    return x if x > 0 else None


def parse_scoring_rows(
    rows: Iterable[ScoringCells | Sequence[CellValue]],
) -> tuple[ScoringTable, list[MetricProblem]]:
    """The scoring table from raw rows (row number, indicator, dimension, weight, target, rule).

    Unknown indicators and unreadable weights drop their row; a blank target or rule takes the
    default; a blank dimension the indicator's own. Weights not adding up to 100% are a
    `weights-not-100` problem naming the rows and the sum (the table is still returned: its
    indicator scores are shown, its totals are not).
    """
    found: list[ScoringRow] = []
    problems: list[MetricProblem] = []
    seen: dict[Indicator, list[int | None]] = defaultdict(list)
    sep = "、"
    allowed = sep.join(INDICATORS.label(i.value, Lang.ZH_HANS) for i in Indicator)
    for item in rows:
        cells = item if isinstance(item, ScoringCells) else ScoringCells(*item)  # type: ignore[arg-type]
        if all(is_blank(c) for c in cells[1:]):
            continue
        key = (
            match_choice(render_text(cells.indicator), INDICATORS)
            if not is_blank(cells.indicator)
            else None
        )
        if key is None or key == "total":
            problems.append(
                MetricProblem(
                    "unknown-indicator",
                    SCORING.name,
                    cells.row,
                    "indicator",
                    {"value": render_text(cells.indicator), "allowed": allowed},
                )
            )
            continue
        indicator = Indicator(key)
        seen[indicator].append(cells.row)
        if len(seen[indicator]) > 1:
            continue
        weight = as_weight(cells.weight)
        if weight is None:
            problems.append(
                MetricProblem(
                    "invalid-weight",
                    SCORING.name,
                    cells.row,
                    "weight",
                    {"value": render_text(cells.weight) if cells.weight is not None else ""},
                )
            )
            continue
        default = DEFAULT_SCORING.get(indicator)
        assert default is not None
        target = default.target
        if not is_blank(cells.target):
            parsed_target = _target_value(cells.target, indicator)
            if parsed_target is None:
                problems.append(
                    MetricProblem(
                        "invalid-scoring-target",
                        SCORING.name,
                        cells.row,
                        "target",
                        {"value": render_text(cells.target), "default": f"{target:g}"},
                    )
                )
            else:
                target = parsed_target
        rule = parse_scoring_rule(cells.rule)
        if rule is None:
            problems.append(
                MetricProblem(
                    "invalid-scoring-rule",
                    SCORING.name,
                    cells.row,
                    "rule",
                    {"value": render_text(cells.rule)},
                )
            )
            rule = LINEAR
        dimension = _DEFAULT_DIMENSION[indicator]
        if not is_blank(cells.dimension):
            dim_key = match_choice(render_text(cells.dimension), DIMENSIONS)
            dimension = Dimension(dim_key) if dim_key else dimension
        found.append(ScoringRow(indicator, dimension, weight, target, rule, cells.row))
    for indicator, where in seen.items():
        if len(where) > 1:
            problems.append(
                MetricProblem(
                    "duplicate-indicator",
                    SCORING.name,
                    where[1],
                    "indicator",
                    {
                        "indicator": indicator.value,
                        "rows": ", ".join(str(r) for r in where if r is not None),
                        "used": where[0] if where[0] is not None else "",
                    },
                )
            )
    table = ScoringTable(tuple(found))
    if found and not table.weights_ok:
        weight_problem = weights_problem([r.weight for r in found], [r.row for r in found])
        if weight_problem is not None:
            problems.append(weight_problem)
    return table, problems


def scoring_from_table(data: TableData | None) -> tuple[ScoringTable, list[MetricProblem]]:
    """The scoring section as bound and parsed by the job (its cells are read raw); the
    defaults when the workbook has none."""
    if data is None or not len(data):
        return DEFAULT_SCORING, []
    cells = [
        data.raw.get(name) or [None] * len(data)
        for name in ("indicator", "dimension", "weight", "target", "rule")
    ]
    return parse_scoring_rows(
        ScoringCells(r, *row) for r, *row in zip(data.rows, *cells, strict=True)
    )


# --- reading the tables once ----------------------------------------------------------------


def _day(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None


def _id_key(value: object) -> str | None:
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip().casefold()
    return text or None


def _month(d: date) -> Period:
    return Period(d.year, d.month)


def _quarter(d: date) -> Period:
    return Period(d.year, quarter=(d.month - 1) // 3 + 1)


def _columns(tables: Mapping[str, TableData], name: str, *fields: str) -> Iterable[tuple[Any, ...]]:
    """(row, value of each field) of a table's rows; nothing when the table is missing."""
    data = tables.get(name)
    if data is None:
        return ()
    return zip(data.rows, *(data.column(f) for f in fields), strict=True)


@dataclass(slots=True)
class _People:
    """Reps by folded name, shown as the Reps tab spells them (else as first seen)."""

    display: dict[str, str] = dataclass_field(default_factory=dict)
    team: dict[str, str | None] = dataclass_field(default_factory=dict)
    order: dict[str, int] = dataclass_field(default_factory=dict)

    def key(self, name: object) -> str | None:
        if name is None:
            return None
        text = str(name).strip()
        key = fold(text)
        if not key:
            return None
        self.display.setdefault(key, text)
        return key

    def sort_key(self, key: str | None) -> tuple[int, str]:
        if key is None:
            return (1 << 30, "")
        return (self.order.get(key, 1 << 29), self.display.get(key, key))


@dataclass(slots=True)
class _Contract:
    row: int
    contract_id: str | None  # as typed
    cid: str | None
    owner: str | None
    customer: str | None
    signed: date | None
    amount: float | None
    lead: str | None


@dataclass(slots=True)
class _Invoice:
    row: int
    invoice_no: str | None
    contract_id: str | None  # as typed
    cid: str | None
    contract: _Contract | None
    amount: float | None
    received: float | None
    invoiced_at: date | None
    due: date | None

    @property
    def owner(self) -> str | None:
        return self.contract.owner if self.contract else None


@dataclass(slots=True)
class _Book:
    people: _People
    customers: dict[str, str]  # folded customer → name as first seen
    contracts: list[_Contract]
    by_id: dict[str, _Contract]
    invoices: list[_Invoice]
    targets: dict[tuple[str, Period], tuple[float, int]]  # (rep, month or quarter) → (amount, row)
    problems: list[MetricProblem]

    @classmethod
    def read(cls, tables: Mapping[str, TableData]) -> _Book:
        people = _People()
        for i, (_row, name, team) in enumerate(_columns(tables, "reps", "name", "team")):
            key = people.key(name)
            if key is not None and key not in people.order:
                people.display[key] = str(name).strip()
                people.team[key] = team
                people.order[key] = i
        customers: dict[str, str] = {}

        def customer_key(name: object) -> str | None:
            if name is None:
                return None
            key = fold(str(name))
            if key:
                customers.setdefault(key, str(name).strip())
            return key or None

        contracts: list[_Contract] = []
        by_id: dict[str, _Contract] = {}
        fields = ("contract_id", "owner", "customer", "signed_at", "amount", "lead_id")
        for row, cid, owner, customer, signed, amount, lead in _columns(
            tables, "contracts", *fields
        ):
            contract = _Contract(
                row,
                None if cid is None else str(cid),
                _id_key(cid),
                people.key(owner),
                customer_key(customer),
                _day(signed),
                _number(amount),
                _id_key(lead),
            )
            contracts.append(contract)
            if contract.cid is not None:
                by_id.setdefault(contract.cid, contract)  # a duplicate id is reported elsewhere
        invoices = [
            _Invoice(
                row,
                None if no is None else str(no),
                None if cid is None else str(cid),
                _id_key(cid),
                by_id.get(_id_key(cid) or ""),
                _number(amount),
                _number(received),
                _day(invoiced_at),
                _day(due),
            )
            for row, no, cid, amount, received, invoiced_at, due in _columns(
                tables,
                "collections",
                "invoice_no",
                "contract_id",
                "invoice_amount",
                "received_amount",
                "invoiced_at",
                "due_date",
            )
        ]
        targets: dict[tuple[str, Period], tuple[float, int]] = {}
        duplicates: dict[tuple[str, Period], list[int]] = defaultdict(list)
        for row, rep, period, amount in _columns(
            tables, "targets", "rep", "period", "sales_target"
        ):
            key = people.key(rep)
            value = _number(amount)
            if key is None or not isinstance(period, Period) or value is None:
                continue
            if period.month is None and period.quarter is None:
                continue  # a whole-year target plays no part in monthly or quarterly figures
            duplicates[(key, period)].append(row)
            targets.setdefault((key, period), (value, row))
        problems = [
            MetricProblem(
                "duplicate-target",
                "targets",
                rows[1],
                "sales_target",
                {
                    "rep": people.display[rep],
                    "period": str(period),
                    "rows": ", ".join(map(str, rows)),
                    "used": rows[0],
                },
            )
            for (rep, period), rows in duplicates.items()
            if len(rows) > 1
        ]
        return cls(people, customers, contracts, by_id, invoices, targets, problems)

    def first_contracts(self) -> dict[str, _Contract]:
        """Each customer's first contract overall (earliest signing, then the higher row)."""
        first: dict[str, _Contract] = {}
        for c in self.contracts:
            if c.customer is None or c.signed is None:
                continue
            best = first.get(c.customer)
            if best is None or (c.signed, c.row) < (best.signed, best.row):
                first[c.customer] = c
        return first

    def collections_by(
        self, period_of: Callable[[date], Period]
    ) -> dict[tuple[str, Period], list[float]]:
        """(contract owner, period of the due date) → [invoiced, received]."""
        out: dict[tuple[str, Period], list[float]] = defaultdict(lambda: [0.0, 0.0])
        for inv in self.invoices:
            owner = inv.owner
            if owner is None or inv.due is None or inv.amount is None:
                continue
            sums = out[(owner, period_of(inv.due))]
            sums[0] += inv.amount
            sums[1] += inv.received or 0.0
        return out

    def sales_target(self, rep: str, period: Period) -> tuple[float | None, int | None]:
        """A month's target; a quarter's own target, else the sum of its months' targets."""
        found = self.targets.get((rep, period))
        if found is not None:
            return found
        if period.quarter is None:
            return None, None
        months = [self.targets.get((rep, Period(y, m))) for y, m in period.months()]
        given = [m for m in months if m is not None]
        if not given:
            return None, None
        return sum(v for v, _ in given), given[0][1]


def _up_to(as_of: date | datetime | None, of: Callable[[date], Period]) -> Period | None:
    day = _day(as_of)
    return of(day) if day is not None else None


class MetricTable(NamedTuple):
    frame: pd.DataFrame
    problems: list[MetricProblem]


# --- monthly performance --------------------------------------------------------------------

TOP_CUSTOMERS = 3


def monthly_performance(
    tables: Mapping[str, TableData],
    *,
    as_of: date | datetime | None = None,
    months: Iterable[Period] | None = None,
) -> MetricTable:
    """Per rep and month (columns of `PERFORMANCE`): the month's target from Targets, contract
    amounts signed in the month, completion (blank without a positive target), customers whose
    first contract ever was signed that month (credited to that contract's owner), sales per
    customer signed, received/invoiced of the invoices due in the month (credited to the
    contract's owner) and the three customers with the most sales.

    Rows: every month a rep has a month target, a signed contract or an invoice due, up to the
    month of `as_of` (all months when None), or only `months` when given. A quarter target
    does not enter monthly figures (see `quarterly_evaluation`).
    """
    book = _Book.read(tables)
    problems = list(book.problems)
    sales: dict[tuple[str, Period], float] = defaultdict(float)
    by_customer: dict[tuple[str, Period], dict[str, tuple[float, int]]] = defaultdict(dict)
    for c in book.contracts:
        if c.owner is None or c.signed is None or c.amount is None:
            continue
        key = (c.owner, _month(c.signed))
        sales[key] += c.amount
        if c.customer is not None:
            amount, row = by_customer[key].get(c.customer, (0.0, c.row))
            by_customer[key][c.customer] = (amount + c.amount, min(row, c.row))
    new_customers: dict[tuple[str, Period], int] = defaultdict(int)
    for c in book.first_contracts().values():
        if c.owner is not None and c.amount is not None:
            new_customers[(c.owner, _month(c.signed))] += 1  # type: ignore[arg-type]
    collected = book.collections_by(_month)
    month_targets = {k: v for k, v in book.targets.items() if k[1].month is not None}

    keys = set(month_targets) | set(sales) | set(collected)
    wanted = set(months) if months is not None else None
    last = _up_to(as_of, _month)
    keys = {
        k
        for k in keys
        if (wanted is None or k[1] in wanted)
        and (wanted is not None or last is None or k[1] <= last)
    }
    records = []
    for rep, month in sorted(keys, key=lambda k: (k[1], book.people.sort_key(k[0]))):
        key = (rep, month)
        target, target_row = month_targets.get(key, (None, None))
        actual = sales.get(key, 0.0)
        display = book.people.display[rep]
        if target is None and actual:
            problems.append(
                MetricProblem(
                    "sales-without-target",
                    "targets",
                    None,
                    "sales_target",
                    {"rep": display, "period": str(month), "actual": _num(actual)},
                )
            )
        elif target == 0:
            problems.append(
                MetricProblem(
                    "zero-target",
                    "targets",
                    target_row,
                    "sales_target",
                    {"rep": display, "period": str(month), "value": 0},
                )
            )
        customers = by_customer.get(key, {})
        top = sorted(customers.items(), key=lambda kv: (-kv[1][0], kv[1][1]))[:TOP_CUSTOMERS]
        invoiced, received = collected.get(key, (0.0, 0.0))
        records.append(
            {
                "rep": display,
                "period": month,
                "sales_target": target,
                "actual_sales": actual,
                "completion_rate": completion_rate(actual, target),
                "new_customers": new_customers.get(key, 0),
                "avg_deal": avg_deal(actual, len(customers)),
                "collection_rate": collection_rate(received, invoiced),
                "top_customers": "、".join(book.customers[c] for c, _ in top) or None,
            }
        )
    return MetricTable(_frame(PERFORMANCE, records), problems)


def _num(x: float) -> str:
    return f"{x:,.2f}".rstrip("0").rstrip(".")


# --- quarterly evaluation -------------------------------------------------------------------

WEEKS_PER_QUARTER = 13.0
Workweeks = float | Callable[[Period], float] | None
"""Working weeks of a quarter for follow-ups per week: a number, a function of the quarter
(e.g. working days up to `as_of` / 5, from the calendar), or None for 13."""


def _opportunity_evidence(
    expected_amount: object, probability: object, expected_close: object, proposal: object
) -> bool:
    return any(v is not None for v in (expected_amount, probability, expected_close, proposal))


def reached_rank(stage: str | None, evidence: bool, proposal_submitted: bool) -> int | None:
    """How far along the funnel a lead got, as an index of `FUNNEL_ORDER`.

    The current stage says it, except for a lost lead, which reached the proposal stage when a
    proposal was submitted, the opportunity stage when it carries any opportunity data
    (expected amount, probability, expected close, proposal due), and only the lead stage
    otherwise (disqualified as a lead).
    """
    if stage is None:
        return None
    if stage != "lost":
        return _RANK.get(stage)
    if proposal_submitted:
        return _RANK["proposal"]
    return _RANK["opportunity"] if evidence else _RANK["lead"]


def is_converted(rank: int | None) -> bool:
    """Lead→opportunity conversion: the lead reached the opportunity stage or beyond."""
    return rank is not None and rank >= _RANK["opportunity"]


@dataclass(slots=True)
class _Quarterly:
    created: int = 0
    converted: int = 0
    proposals_due: int = 0
    proposals_on_time: int = 0
    follow_ups: int = 0
    sales: float = 0.0
    invoiced: float = 0.0
    received: float = 0.0


def quarterly_evaluation(
    tables: Mapping[str, TableData],
    scoring: ScoringTable = DEFAULT_SCORING,
    *,
    as_of: date | datetime | None = None,
    quarters: Iterable[Period] | None = None,
    workweeks: Workweeks = None,
) -> MetricTable:
    """Per rep and quarter (columns of `EVALUATION`): one row per indicator of `scoring`, then
    a `total` row.

    Indicators, each credited to its row's rep (lead owner, follow-up rep, contract owner):
    - lead_conversion: of the leads created in the quarter, the share that reached the
      opportunity stage or beyond (`reached_rank`); blank without leads created;
    - proposal_on_time: of the leads whose proposal was due in the quarter, the share submitted
      on or before the due day; one not submitted counts as late once its due day is before
      `as_of`, and is left out while it is not yet due;
    - follow_ups_per_week: follow-ups dated in the quarter / `workweeks`;
    - sales_completion: contracts signed in the quarter / the quarter's target (its own, or the
      sum of its months'); blank without a target;
    - collection_rate: received / invoiced of the invoices due in the quarter.
    target/actual hold fractions for ratios (0.3 is 30%) and a count for follow-ups per week.
    An indicator without data has no score and leaves the total: the total is
    Σ weighted_score / Σ weight of the scored indicators, and the total row's `weight` shows
    that scored weight. When the scoring weights do not add up to 100%, the total is blank
    (the problem comes from `parse_scoring_rows`).
    """
    book = _Book.read(tables)
    problems = list(book.problems)
    today = _day(as_of)
    stats: dict[tuple[str, Period], _Quarterly] = defaultdict(_Quarterly)
    for _row, owner, created, stage, amount, prob, close, due, submitted in _columns(
        tables,
        "leads",
        "owner",
        "created_at",
        "stage",
        "expected_amount",
        "probability",
        "expected_close",
        "proposal_due",
        "proposal_submitted_at",
    ):
        rep = book.people.key(owner)
        if rep is None:
            continue
        created_day = _day(created)
        if created_day is not None and stage is not None:
            q = stats[(rep, _quarter(created_day))]
            q.created += 1
            evidence = _opportunity_evidence(amount, prob, close, due)
            q.converted += is_converted(reached_rank(stage, evidence, submitted is not None))
        due_day = _day(due)
        if due_day is not None:
            submitted_day = _day(submitted)
            if submitted_day is None and (today is None or due_day >= today):
                continue  # not due yet
            q = stats[(rep, _quarter(due_day))]
            q.proposals_due += 1
            q.proposals_on_time += submitted_day is not None and submitted_day <= due_day
    for _row, rep_name, when in _columns(tables, "follow_ups", "rep", "date"):
        rep = book.people.key(rep_name)
        day = _day(when)
        if rep is not None and day is not None:
            stats[(rep, _quarter(day))].follow_ups += 1
    for c in book.contracts:
        if c.owner is not None and c.signed is not None and c.amount is not None:
            stats[(c.owner, _quarter(c.signed))].sales += c.amount
    for (rep, quarter), (invoiced, received) in book.collections_by(_quarter).items():
        stats[(rep, quarter)].invoiced += invoiced
        stats[(rep, quarter)].received += received
    for rep, period in book.targets:
        stats.setdefault((rep, _quarter(period.start())), _Quarterly())

    wanted = set(quarters) if quarters is not None else None
    last = _up_to(as_of, _quarter)
    keys = [
        k
        for k in stats
        if (wanted is None or k[1] in wanted)
        and (wanted is not None or last is None or k[1] <= last)
    ]
    records: list[dict[str, Any]] = []
    for rep, quarter in sorted(keys, key=lambda k: (k[1], book.people.sort_key(k[0]))):
        q = stats[(rep, quarter)]
        display = book.people.display[rep]
        target, target_row = book.sales_target(rep, quarter)
        if target is None and q.sales:
            problems.append(
                MetricProblem(
                    "sales-without-target",
                    "targets",
                    None,
                    "sales_target",
                    {"rep": display, "period": str(quarter), "actual": _num(q.sales)},
                )
            )
        elif target == 0:
            problems.append(
                MetricProblem(
                    "zero-target",
                    "targets",
                    target_row,
                    "sales_target",
                    {"rep": display, "period": str(quarter), "value": 0},
                )
            )
        weeks = workweeks(quarter) if callable(workweeks) else (workweeks or WEEKS_PER_QUARTER)
        actuals: dict[Indicator, float | None] = {
            Indicator.LEAD_CONVERSION: _ratio(q.converted, q.created),
            Indicator.PROPOSAL_ON_TIME: _ratio(q.proposals_on_time, q.proposals_due),
            Indicator.FOLLOW_UPS_PER_WEEK: _ratio(q.follow_ups, weeks),
            Indicator.SALES_COMPLETION: completion_rate(q.sales, target),
            Indicator.COLLECTION_RATE: _ratio(q.received, q.invoiced),
        }
        scored: list[tuple[float, float]] = []
        for spec in scoring.rows:
            actual = actuals[spec.indicator]
            points = score(actual, spec.target, spec.rule)
            weighted = None if points is None else points * spec.weight
            if points is not None:
                scored.append((points, spec.weight))
            below = actual is not None and actual < spec.target - 1e-9
            records.append(
                {
                    "rep": display,
                    "period": quarter,
                    "dimension": spec.dimension.value,
                    "indicator": spec.indicator.value,
                    "weight": spec.weight,
                    "target": spec.target,
                    "actual": actual,
                    "score": points,
                    "weighted_score": weighted,
                    "hint": spec.indicator.value if below else None,
                }
            )
        scored_weight = sum(w for _, w in scored)
        total = None
        if scoring.weights_ok and scored_weight > 0:
            total = sum(p * w for p, w in scored) / scored_weight
        records.append(
            {
                "rep": display,
                "period": quarter,
                "indicator": "total",
                "weight": scored_weight,
                "weighted_score": total,
            }
        )
    return MetricTable(_frame(EVALUATION, records), problems)


# --- funnel ---------------------------------------------------------------------------------


class Funnel(NamedTuple):
    stages: pd.DataFrame  # FUNNEL_STAGES
    summary: pd.DataFrame  # FUNNEL_SUMMARY
    pipeline: pd.DataFrame  # FUNNEL_PIPELINE
    problems: list[MetricProblem]


@dataclass(slots=True)
class _Lead:
    rep: str | None
    rank: int | None
    stage: str | None
    cycle_days: int | None = None
    existing: bool = False


def funnel(tables: Mapping[str, TableData]) -> Funnel:
    """Stage counts and conversion, win rate, median cycle and weighted pipeline; per rep
    (team and rep set), per team of the Reps tab (rep None) and for everyone (both None).

    - leads: leads now at the stage; reached: leads at the stage or beyond (`reached_rank`);
      conversion: reached / reached of the stage before.
    - win rate: won / (won + lost).
    - cycle days (won leads with a creation date): created → signing of the lead's earliest
      contract (Contracts.lead_id), else → its last follow-up. An existing customer is one with
      a contract signed before that day; the others are new.
    - weighted pipeline: Σ expected_amount × probability of open leads (every stage but won and
      lost) with both filled, by expected close month; leads without one are left out.
    """
    book = _Book.read(tables)
    signed_by_lead: dict[str, date] = {}
    for c in book.contracts:
        if c.lead is not None and c.signed is not None:
            old = signed_by_lead.get(c.lead)
            signed_by_lead[c.lead] = c.signed if old is None else min(old, c.signed)
    last_follow_up: dict[str, date] = {}
    for _row, lead_id, when in _columns(tables, "follow_ups", "lead_id", "date"):
        key, day = _id_key(lead_id), _day(when)
        if key is not None and day is not None:
            last_follow_up[key] = max(day, last_follow_up.get(key, day))
    first_signed: dict[str, date] = {}
    for customer, c in book.first_contracts().items():
        first_signed[customer] = c.signed  # type: ignore[assignment]

    leads: list[_Lead] = []
    pipeline: dict[tuple[str | None, Period], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for (
        _row,
        lead_id,
        owner,
        customer,
        created,
        stage,
        amount,
        prob,
        close,
        due,
        submitted,
    ) in _columns(
        tables,
        "leads",
        "lead_id",
        "owner",
        "customer",
        "created_at",
        "stage",
        "expected_amount",
        "probability",
        "expected_close",
        "proposal_due",
        "proposal_submitted_at",
    ):
        rep = book.people.key(owner)
        evidence = _opportunity_evidence(amount, prob, close, due)
        lead = _Lead(rep, reached_rank(stage, evidence, submitted is not None), stage)
        leads.append(lead)
        key = _id_key(lead_id)
        created_day = _day(created)
        if stage == "won" and created_day is not None and key is not None:
            end = signed_by_lead.get(key) or last_follow_up.get(key)
            if end is not None and end >= created_day:
                lead.cycle_days = (end - created_day).days
                first = first_signed.get(fold(str(customer))) if customer is not None else None
                lead.existing = first is not None and first < end
        close_day = _day(close)
        amount_value, prob_value = _number(amount), _number(prob)
        if (
            stage in OPEN_STAGES
            and close_day is not None
            and amount_value is not None
            and prob_value is not None
        ):
            sums = pipeline[(rep, _month(close_day))]
            sums[0] += 1
            sums[1] += amount_value
            sums[2] += amount_value * prob_value

    groups = _groups(book.people, {lead.rep for lead in leads} | {r for r, _ in pipeline})
    stage_records: list[dict[str, Any]] = []
    summary_records: list[dict[str, Any]] = []
    pipeline_records: list[dict[str, Any]] = []
    for team, rep, members in groups:
        mine = [lead for lead in leads if members is None or lead.rep in members]
        label = {"team": team, "rep": rep}
        previous = None
        for rank, stage in enumerate(FUNNEL_ORDER):
            reached = sum(1 for lead in mine if lead.rank is not None and lead.rank >= rank)
            stage_records.append(
                {
                    **label,
                    "stage": stage,
                    "leads": sum(1 for lead in mine if lead.stage == stage),
                    "reached": reached,
                    "conversion": None if previous is None else _ratio(reached, previous),
                }
            )
            previous = reached
        stage_records.append(
            {**label, "stage": "lost", "leads": sum(1 for x in mine if x.stage == "lost")}
        )
        won = sum(1 for lead in mine if lead.stage == "won")
        lost = sum(1 for lead in mine if lead.stage == "lost")
        new = [x.cycle_days for x in mine if x.cycle_days is not None and not x.existing]
        existing = [x.cycle_days for x in mine if x.cycle_days is not None and x.existing]
        months = sorted({m for r, m in pipeline if members is None or r in members})
        weighted_total = 0.0
        for month in months:
            sums = [0, 0.0, 0.0]
            for (r, m), s in pipeline.items():
                if m == month and (members is None or r in members):
                    sums = [a + b for a, b in zip(sums, s, strict=True)]
            weighted_total += sums[2]
            pipeline_records.append(
                {
                    **label,
                    "month": month,
                    "open_leads": int(sums[0]),
                    "expected_amount": sums[1],
                    "weighted_amount": sums[2],
                }
            )
        summary_records.append(
            {
                **label,
                "leads": len(mine),
                "open": sum(1 for x in mine if x.stage in OPEN_STAGES),
                "won": won,
                "lost": lost,
                "win_rate": _ratio(won, won + lost),
                "cycle_days_new": statistics.median(new) if new else None,
                "cycle_days_existing": statistics.median(existing) if existing else None,
                "weighted_pipeline": weighted_total,
            }
        )
    return Funnel(
        _frame(FUNNEL_STAGES, stage_records),
        _frame(FUNNEL_SUMMARY, summary_records),
        _frame(FUNNEL_PIPELINE, pipeline_records),
        [],
    )


def _groups(
    people: _People, reps: set[str | None]
) -> list[tuple[str | None, str | None, set[str | None] | None]]:
    """(team, rep, member keys) for each rep, each team of the Reps tab, then everyone."""
    known = sorted((r for r in reps if r is not None), key=people.sort_key)
    out: list[tuple[str | None, str | None, set[str | None] | None]] = [
        (people.team.get(r), people.display[r], {r}) for r in known
    ]
    teams: dict[str, set[str | None]] = defaultdict(set)
    for r in known:
        team = people.team.get(r)
        if team:
            teams[team].add(r)
    out += [(team, None, members) for team, members in teams.items()]
    out.append((None, None, None))
    return out


# --- collections reconciliation -------------------------------------------------------------


class Reconciliation(NamedTuple):
    invoices: pd.DataFrame  # INVOICE_RECONCILIATION, indexed by the Collections row
    contracts: pd.DataFrame  # CONTRACT_INVOICING
    reps: pd.DataFrame  # REP_COLLECTIONS, by the month of the due date
    problems: list[MetricProblem]


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def reconcile_collections(
    tables: Mapping[str, TableData], *, as_of: date | datetime | None = None
) -> Reconciliation:
    """Collections against contracts.

    Per invoice: outstanding = invoiced − received (a blank received amount is 0); overdue days
    = days from the due date to `as_of` while something is outstanding (0 when not due or paid
    in full, blank without a due date or an amount); reconciliation, the first that applies:
    unknown_contract (its contract id is not in Contracts), above_contract (this invoice takes
    the contract's invoiced total, in invoicing-date order, above the contract amount),
    overpaid, matched, partial (something received), unpaid.
    Per contract: amount, invoiced, received, not yet invoiced. Per rep and month of the due
    date: invoiced, received and their rate, the same figures as the Performance tab's.
    """
    book = _Book.read(tables)
    today = _day(as_of)
    problems: list[MetricProblem] = []
    above: set[int] = set()
    per_contract: dict[int, list[_Invoice]] = defaultdict(list)
    for inv in book.invoices:
        if inv.contract is not None:
            per_contract[inv.contract.row].append(inv)
    for invoices in per_contract.values():
        contract = invoices[0].contract
        assert contract is not None
        if contract.amount is None:
            continue
        running = 0.0
        ordered = sorted(invoices, key=lambda i: (i.invoiced_at or date.max, i.row))
        for inv in ordered:
            running += inv.amount or 0.0
            if running > contract.amount and not _close(running, contract.amount):
                if not above & {i.row for i in invoices}:
                    total = sum(i.amount or 0.0 for i in invoices)
                    problems.append(
                        MetricProblem(
                            "invoiced-above-contract",
                            "collections",
                            inv.row,
                            "invoice_amount",
                            {
                                "contract_id": contract.contract_id,
                                "invoiced": _num(total),
                                "amount": _num(contract.amount),
                                "value": _num(inv.amount or 0.0),
                            },
                        )
                    )
                above.add(inv.row)

    records: list[dict[str, Any]] = []
    for inv in book.invoices:
        received = inv.received or 0.0
        outstanding = None if inv.amount is None else inv.amount - received
        if inv.cid is not None and inv.contract is None:
            status = "unknown_contract"
        elif inv.row in above:
            status = "above_contract"
        elif inv.amount is None:
            status = None
        elif received > inv.amount and not _close(received, inv.amount):
            status = "overpaid"
            problems.append(
                MetricProblem(
                    "invoice-overpaid",
                    "collections",
                    inv.row,
                    "received_amount",
                    {
                        "received": _num(received),
                        "invoiced": _num(inv.amount),
                        "value": _num(received),
                    },
                )
            )
        elif _close(received, inv.amount):
            status = "matched"
        else:
            status = "partial" if received > 0 else "unpaid"
        overdue: int | None = None
        if outstanding is not None and inv.due is not None:
            late = (today - inv.due).days if today is not None else 0
            overdue = max(0, late) if outstanding > 0 and not _close(outstanding, 0) else 0
        records.append(
            {
                "invoice_no": inv.invoice_no,
                "contract_id": inv.contract_id,
                "rep": book.people.display.get(inv.owner) if inv.owner else None,
                "invoice_amount": inv.amount,
                "received_amount": inv.received,
                "outstanding": outstanding,
                "due_date": inv.due,
                "overdue_days": overdue,
                "reconciliation": status,
            }
        )
    invoices_frame = _frame(INVOICE_RECONCILIATION, records, [i.row for i in book.invoices])

    contract_records = []
    for c in book.contracts:
        mine = (
            per_contract.get(c.row, []) if c.cid is not None and book.by_id.get(c.cid) is c else []
        )
        invoiced = sum(i.amount or 0.0 for i in mine)
        contract_records.append(
            {
                "contract_id": c.contract_id,
                "customer": book.customers.get(c.customer) if c.customer else None,
                "rep": book.people.display.get(c.owner) if c.owner else None,
                "amount": c.amount,
                "invoiced": invoiced,
                "received": sum(i.received or 0.0 for i in mine),
                "uninvoiced": None if c.amount is None else c.amount - invoiced,
                "above_contract": any(i.row in above for i in mine),
            }
        )
    rep_records = [
        {
            "rep": book.people.display[rep],
            "period": month,
            "invoiced": invoiced,
            "received": received,
            "collection_rate": collection_rate(received, invoiced),
        }
        for (rep, month), (invoiced, received) in sorted(
            book.collections_by(_month).items(),
            key=lambda kv: (kv[0][1], book.people.sort_key(kv[0][0])),
        )
    ]
    return Reconciliation(
        invoices_frame,
        _frame(CONTRACT_INVOICING, contract_records),
        _frame(REP_COLLECTIONS, rep_records),
        problems,
    )


# --- amount units ---------------------------------------------------------------------------

UNIT_SUSPECT_RATIO = 3000.0
"""元 and 万元 differ 10,000-fold; real amounts of one kind rarely spread beyond 1,000-fold.
An amount this many times above or below its comparable amounts was likely typed in the other
unit (a bare number: "50万" is converted by parsing and never suspect)."""


def _suspect(value: float | None, typical: float | None) -> float | None:
    if value is None or typical is None or value <= 0 or typical <= 0:
        return None
    ratio = value / typical
    if ratio >= UNIT_SUSPECT_RATIO or ratio <= 1 / UNIT_SUSPECT_RATIO:
        return ratio
    return None


def amount_unit_problems(
    tables: Mapping[str, TableData], settings: Settings = DEFAULT_SETTINGS
) -> list[MetricProblem]:
    """Amounts probably typed in the other unit than the workbook's (a heuristic): a contract
    amount far from the median contract, a target far from the median monthly target (a
    quarter's counts a third) or from the median month of a rep's sales, an invoice far from
    its contract's amount. A median needs at least three amounts."""
    book = _Book.read(tables)
    problems: list[MetricProblem] = []

    def check(
        table: str, row: int, name: str, value: float | None, typical: float | None, scale: int = 1
    ) -> bool:
        ratio = _suspect(value, typical)
        if ratio is None or value is None or typical is None:
            return False
        shown = f"{ratio:,.0f}" if ratio >= 1 else f"1/{1 / ratio:,.0f}"
        params = {
            "value": _num(value * scale),
            "typical": _num(typical * scale),
            "ratio": shown,
            "unit": settings.amount_unit,
        }
        problems.append(MetricProblem("amount-unit-suspect", table, row, name, params))
        return True

    def median(values: list[float]) -> float | None:
        positive = [v for v in values if v > 0]
        return statistics.median(positive) if len(positive) >= 3 else None

    typical_contract = median([c.amount for c in book.contracts if c.amount is not None])
    for c in book.contracts:
        check("contracts", c.row, "amount", c.amount, typical_contract)

    month_sales: dict[tuple[str, Period], float] = defaultdict(float)
    for c in book.contracts:
        if c.owner and c.signed and c.amount:
            month_sales[(c.owner, _month(c.signed))] += c.amount
    monthly = [
        (row, value / 3 if period.quarter is not None else value, 3 if period.quarter else 1)
        for (_rep, period), (value, row) in book.targets.items()
    ]
    typical_target = median([value for _, value, _ in monthly])
    typical_sales = median(list(month_sales.values()))
    for row, value, scale in sorted(monthly):
        if not check("targets", row, "sales_target", value, typical_target, scale):
            check("targets", row, "sales_target", value, typical_sales, scale)

    for inv in book.invoices:
        if inv.contract is not None:
            check("collections", inv.row, "invoice_amount", inv.amount, inv.contract.amount)
    return problems


# --- everything at once ---------------------------------------------------------------------


@dataclass(slots=True)
class Metrics:
    """All metrics of one sync, for the owned tabs, the owned Collections columns and --json."""

    performance: pd.DataFrame
    evaluation: pd.DataFrame
    funnel: Funnel
    collections: Reconciliation
    scoring: ScoringTable
    problems: list[MetricProblem]

    def records(self) -> dict[str, list[dict[str, Any]]]:
        """snake_case records for --json (periods and dates as ISO text)."""

        def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [
                {k: _json_value(v) for k, v in record.items()}
                for record in frame.to_dict("records")
            ]

        invoices = self.collections.invoices.reset_index()
        return {
            "performance": rows(self.performance),
            "evaluation": rows(self.evaluation),
            "funnel": rows(self.funnel.stages)
            + [{"stage": None, **r} for r in rows(self.funnel.summary)],
            "pipeline": rows(self.funnel.pipeline),
            "collections": rows(invoices),
        }


def _json_value(value: Any) -> Any:
    if isinstance(value, Period):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def compute_metrics(
    tables: Mapping[str, TableData],
    settings: Settings = DEFAULT_SETTINGS,
    scoring: ScoringTable | None = None,
    *,
    as_of: date | datetime | None = None,
    workweeks: Workweeks = None,
) -> Metrics:
    """Every metric. `scoring`: None reads the Settings scoring section (`tables["scoring"]`)
    when the workbook has one, else uses `DEFAULT_SCORING`."""
    problems: list[MetricProblem] = []
    if scoring is None:
        scoring, found = scoring_from_table(tables.get(SCORING.name))
        problems += found
    performance = monthly_performance(tables, as_of=as_of)
    evaluation = quarterly_evaluation(tables, scoring, as_of=as_of, workweeks=workweeks)
    funnel_result = funnel(tables)
    collections = reconcile_collections(tables, as_of=as_of)
    problems += performance.problems
    problems += [p for p in evaluation.problems if p not in performance.problems]
    problems += funnel_result.problems + collections.problems
    problems += amount_unit_problems(tables, settings)
    return Metrics(
        performance.frame, evaluation.frame, funnel_result, collections, scoring, problems
    )
