"""The tabs the metrics produce (one owned tab each) and the scoring section of Settings that
managers edit, with the vocabularies they show: indicators, dimensions, hints, reconciliation."""

from __future__ import annotations

from .base import Choice, Choices, Field, Kind, Lang, Owner, Table
from .base import labels as labels
from .choices import STAGE, YES_NO

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


def _f(name: str, kind: Kind, headers: dict[Lang, str], choices: Choices | None = None) -> Field:
    return Field(name, kind, headers, choices=choices)


_REP_F = _f("rep", Kind.TEXT, labels("销售员", "銷售員", "Rep"))
_TEAM_F = _f("team", Kind.TEXT, labels("团队", "團隊", "Team"))
_PERIOD_F = _f("period", Kind.PERIOD, labels("周期", "週期", "Period"))
_RECEIVED_F = _f("received", Kind.AMOUNT, labels("已回款", "已回款", "Received"))
_LEADS_F = _f("leads", Kind.INTEGER, labels("线索数", "線索數", "Leads"))
_CONTRACT_ID_F = _f("contract_id", Kind.ID, labels("合同编号", "合約編號", "Contract ID"))
_COLLECTION_RATE_F = _f(
    "collection_rate", Kind.PERCENT, labels("回款率", "回款率", "Collection rate")
)

PERFORMANCE = Table(
    "performance",
    labels("业绩", "業績", "Performance"),
    owner=Owner.JOB,
    help="Monthly performance per rep (DESIGN.md §5); the source template's columns.",
    fields=(
        _REP_F,
        _PERIOD_F,
        _f("sales_target", Kind.AMOUNT, labels("目标销售额", "目標銷售額", "Sales target")),
        _f("actual_sales", Kind.AMOUNT, labels("实际销售额", "實際銷售額", "Actual sales")),
        _f("completion_rate", Kind.PERCENT, labels("完成率", "完成率", "Completion")),
        _f("new_customers", Kind.INTEGER, labels("新签客户数", "新簽客戶數", "New customers")),
        _f("avg_deal", Kind.AMOUNT, labels("客单价", "客單價", "Average deal")),
        _COLLECTION_RATE_F,
        _f("top_customers", Kind.TEXT, labels("核心贡献客户", "核心貢獻客戶", "Top customers")),
    ),
)

EVALUATION = Table(
    "evaluation",
    labels("绩效", "績效", "Evaluation"),
    owner=Owner.JOB,
    help="Quarterly weighted evaluation: one row per rep and indicator, then the rep's total.",
    fields=(
        _REP_F,
        _PERIOD_F,
        _f("dimension", Kind.ENUM, labels("维度", "維度", "Dimension"), DIMENSIONS),
        _f("indicator", Kind.ENUM, labels("指标", "指標", "Indicator"), INDICATORS),
        _f("weight", Kind.PERCENT, labels("权重", "權重", "Weight")),
        _f("target", Kind.NUMBER, labels("目标值", "目標值", "Target")),
        _f("actual", Kind.NUMBER, labels("实际值", "實際值", "Actual")),
        _f("score", Kind.NUMBER, labels("得分", "得分", "Score")),
        _f("weighted_score", Kind.NUMBER, labels("加权得分", "加權得分", "Weighted score")),
        _f("hint", Kind.ENUM, labels("改进建议", "改進建議", "Improvement hint"), HINTS),
    ),
)

_STAGE_F = _f("stage", Kind.ENUM, labels("阶段", "階段", "Stage"), STAGE)
FUNNEL_STAGES = Table(
    "funnel_stages",
    labels("漏斗", "漏斗", "Funnel"),
    owner=Owner.JOB,
    help="Leads per stage (now), leads that reached the stage, conversion from the stage before.",
    fields=(
        _TEAM_F,
        _REP_F,
        _STAGE_F,
        _LEADS_F,
        _f("reached", Kind.INTEGER, labels("到达数", "到達數", "Reached")),
        _f("conversion", Kind.PERCENT, labels("阶段转化率", "階段轉化率", "Conversion")),
    ),
)
FUNNEL_SUMMARY = Table(
    "funnel_summary",
    labels("漏斗汇总", "漏斗匯總", "Funnel summary"),
    owner=Owner.JOB,
    fields=(
        _TEAM_F,
        _REP_F,
        _LEADS_F,
        _f("open", Kind.INTEGER, labels("在跟进", "跟進中", "Open")),
        _f("won", Kind.INTEGER, labels("赢单", "贏單", "Won")),
        _f("lost", Kind.INTEGER, labels("输单", "輸單", "Lost")),
        _f("win_rate", Kind.PERCENT, labels("赢单率", "贏單率", "Win rate")),
        _f(
            "cycle_days_new",
            Kind.NUMBER,
            labels(
                "新客户成交周期中位数(天)", "新客戶成交週期中位數(天)", "Median cycle, new (days)"
            ),
        ),
        _f(
            "cycle_days_existing",
            Kind.NUMBER,
            labels(
                "老客户成交周期中位数(天)",
                "老客戶成交週期中位數(天)",
                "Median cycle, existing (days)",
            ),
        ),
        _f("weighted_pipeline", Kind.AMOUNT, labels("加权管道", "加權管道", "Weighted pipeline")),
    ),
)
FUNNEL_PIPELINE = Table(
    "funnel_pipeline",
    labels("加权管道", "加權管道", "Weighted pipeline"),
    owner=Owner.JOB,
    fields=(
        _TEAM_F,
        _REP_F,
        _f("month", Kind.PERIOD, labels("预计成交月份", "預計成交月份", "Expected close month")),
        _f("open_leads", Kind.INTEGER, labels("在跟进线索", "跟進中線索", "Open leads")),
        _f("expected_amount", Kind.AMOUNT, labels("预计金额", "預計金額", "Expected amount")),
        _f("weighted_amount", Kind.AMOUNT, labels("加权金额", "加權金額", "Weighted amount")),
    ),
)
INVOICE_RECONCILIATION = Table(
    "invoice_reconciliation",
    labels("回款对账", "回款對帳", "Invoice reconciliation"),
    owner=Owner.JOB,
    help="One row per Collections row (indexed by its spreadsheet row): the owned columns "
    "overdue_days and reconciliation come from here.",
    fields=(
        _f("invoice_no", Kind.ID, labels("发票号", "發票號", "Invoice no.")),
        _CONTRACT_ID_F,
        _REP_F,
        _f("invoice_amount", Kind.AMOUNT, labels("发票金额", "發票金額", "Invoice amount")),
        _f("received_amount", Kind.AMOUNT, labels("回款金额", "回款金額", "Received amount")),
        _f("outstanding", Kind.AMOUNT, labels("未回款金额", "未回款金額", "Outstanding")),
        _f("due_date", Kind.DATE, labels("到期日", "到期日", "Due date")),
        _f("overdue_days", Kind.INTEGER, labels("逾期天数", "逾期天數", "Overdue days")),
        _f(
            "reconciliation",
            Kind.ENUM,
            labels("对账结果", "對帳結果", "Reconciliation"),
            RECONCILIATION,
        ),
    ),
)
CONTRACT_INVOICING = Table(
    "contract_invoicing",
    labels("合同开票", "合約開票", "Contract invoicing"),
    owner=Owner.JOB,
    fields=(
        _CONTRACT_ID_F,
        _f("customer", Kind.TEXT, labels("客户名称", "客戶名稱", "Customer")),
        _REP_F,
        _f("amount", Kind.AMOUNT, labels("合同金额", "合約金額", "Amount")),
        _f("invoiced", Kind.AMOUNT, labels("已开票", "已開票", "Invoiced")),
        _RECEIVED_F,
        _f("uninvoiced", Kind.AMOUNT, labels("未开票", "未開票", "Not invoiced")),
        _f(
            "above_contract",
            Kind.BOOL,
            labels("开票超合同", "開票超合約", "Invoiced above amount"),
            YES_NO,
        ),
    ),
)
REP_COLLECTIONS = Table(
    "rep_collections",
    labels("回款率", "回款率", "Collection rate"),
    owner=Owner.JOB,
    help="Invoices due in the month, per contract owner: the Performance tab's collection rate.",
    fields=(
        _REP_F,
        _PERIOD_F,
        _f("invoiced", Kind.AMOUNT, labels("到期发票金额", "到期發票金額", "Invoiced (due)")),
        _RECEIVED_F,
        _COLLECTION_RATE_F,
    ),
)

# The scoring table managers edit: a section of the Settings tab (like the SLA rules).
SCORING = Table(
    "scoring",
    labels("评分表", "評分表", "Scoring"),
    section_of="settings",
    aliases=("绩效评分表", "考核指标", "scoring table"),
    fields=(
        Field(
            "indicator",
            Kind.TEXT,
            labels("考核指标", "考核指標", "Indicator"),
            ("指标", "指标名称", "kpi"),
            required=True,
        ),
        Field("dimension", Kind.TEXT, labels("维度", "維度", "Dimension"), ("考核维度", "类别")),
        Field(
            "weight",
            Kind.TEXT,
            labels("权重", "權重", "Weight"),
            ("权重(%)", "分值", "占比"),
            required=True,
        ),
        Field("target", Kind.TEXT, labels("目标值", "目標值", "Target"), ("目标", "考核标准")),
        Field(
            "rule", Kind.TEXT, labels("评分规则", "評分規則", "Scoring rule"), ("计分规则", "规则")
        ),
    ),
)

# The Dashboard: native charts over helper blocks that read the owned tabs and Reps. It has no
# fields and is never read: a workbook without one gets one added (xlsx, Google), then it is
# left alone.
DASHBOARD = Table(
    "dashboard",
    labels("仪表盘", "儀表板", "Dashboard"),
    fields=(),
    owner=Owner.JOB,
    help="Charts: completion by rep, funnel, weighted pipeline, SLA breaches by rule.",
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
