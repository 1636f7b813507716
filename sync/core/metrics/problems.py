"""Problems are data: `MetricProblem` (a stable code, where to look, message parameters), the
message templates of every code (`METRIC_CODES`) and the localized `Issue` of a problem."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from ..issues import Issue, IssueKind, render
from ..schema import AMOUNT_UNIT, Lang, Severity
from ..tables import TableData
from .definitions import SCORING
from .vocabulary import INDICATOR_KEYS, INDICATORS, labels


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
    return IssueKind(code, severity, labels(zh_hans, zh_hant, en), labels(*short))


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
        if key in params and str(params[key]) in INDICATOR_KEYS:
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
    from ..schema import SCHEMA

    if name is None:
        return None
    try:
        return SCHEMA.table(name).title(lang)
    except KeyError:
        return SCORING.title(lang) if name == SCORING.name else name
