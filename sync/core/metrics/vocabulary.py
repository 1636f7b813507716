"""The vocabularies of the metric tabs, each key with its label in every language: indicators,
dimensions, improvement hints and reconciliation results."""

from __future__ import annotations

from enum import StrEnum

from ..schema import Choice, Choices, Lang


def labels(zh_hans: str, zh_hant: str, en: str) -> dict[Lang, str]:
    return {Lang.ZH_HANS: zh_hans, Lang.ZH_HANT: zh_hant, Lang.EN: en}


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
            labels("线索转化率", "線索轉化率", "Lead→opportunity conversion"),
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
            labels("方案按时提交率", "方案按時提交率", "Proposal on-time rate"),
            ("方案及时率", "方案准时率", "方案按时率", "proposal on time", "proposal on-time"),
        ),
        Choice(
            "follow_ups_per_week",
            labels("周均跟进次数", "週均跟進次數", "Follow-ups per week"),
            ("每周跟进次数", "周跟进次数", "跟进频次", "客户跟进频次", "weekly follow-ups"),
        ),
        Choice(
            "sales_completion",
            labels("销售目标完成率", "銷售目標完成率", "Sales completion"),
            ("业绩完成率", "销售完成率", "完成率", "目标完成率", "sales target completion"),
        ),
        Choice(
            "collection_rate",
            labels("回款率", "回款率", "Collection rate"),
            ("回款完成率", "收款率", "collections"),
        ),
        Choice("total", labels("总分", "總分", "Total"), ("合计", "total score")),
    ),
)
INDICATOR_KEYS = frozenset(c.key for c in INDICATORS.choices)

DIMENSIONS = Choices(
    "dimension",
    (
        Choice("process", labels("过程", "過程", "Process"), ("过程指标", "过程考核", "过程维度")),
        Choice("results", labels("结果", "結果", "Results"), ("结果指标", "结果考核", "result")),
    ),
)

HINTS = Choices(
    "hint",
    (
        Choice(
            "lead_conversion",
            labels(
                "提高线索质量：优先跟进 A/B 类线索，尽早确认预算和决策人。",
                "提高線索品質：優先跟進 A/B 類線索，儘早確認預算和決策人。",
                "Work A/B leads first and confirm budget and decision maker early.",
            ),
        ),
        Choice(
            "proposal_on_time",
            labels(
                "提前规划方案进度，在截止日前提交方案。",
                "提前規劃方案進度，在截止日前提交方案。",
                "Plan proposal work ahead and submit before the due date.",
            ),
        ),
        Choice(
            "follow_ups_per_week",
            labels(
                "提高跟进频次：为每个在跟客户安排每周的下一步。",
                "提高跟進頻次：為每個在跟客戶安排每週的下一步。",
                "Follow up more often: give every active customer a next step each week.",
            ),
        ),
        Choice(
            "sales_completion",
            labels(
                "聚焦高赢率商机，加快推进谈判与签约。",
                "聚焦高贏率商機，加快推進談判與簽約。",
                "Focus on high-probability deals and move negotiations to signature.",
            ),
        ),
        Choice(
            "collection_rate",
            labels(
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
        Choice("matched", labels("已结清", "已結清", "Matched")),
        Choice("partial", labels("部分回款", "部分回款", "Partial")),
        Choice("unpaid", labels("未回款", "未回款", "Unpaid")),
        Choice("overpaid", labels("超额回款", "超額回款", "Overpaid")),
        Choice("unknown_contract", labels("合同不存在", "合約不存在", "Unknown contract")),
        Choice("above_contract", labels("开票超合同", "開票超合約", "Invoiced above contract")),
    ),
)
