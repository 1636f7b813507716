"""The data tabs users fill (DESIGN.md §3), the Settings tab and its SLA section, and the
Issues tab the job writes."""

from __future__ import annotations

from .base import Field, Kind, Lang, Order, Owner, Severity, Table, _l
from .choices import (
    BANT_CLASS,
    COMPLEXITY,
    METHOD,
    SEVERITY,
    SLA_UNIT,
    SOURCE,
    STAGE,
    YES_NO,
)

# --- tables ---------------------------------------------------------------------------------

F = Field
# A person's name must be listed in Reps (checked only when the Reps tab has rows: unknown-rep).
_REP = ("reps", "name")
_flags = F(
    "flags",
    Kind.TEXT,
    _l("系统提示", "系統提示", "Flags"),
    ("提示", "检查结果", "salesync flags"),
    owner=Owner.JOB,
    help="Problems found in the row by the last sync, shortest first; details in the Issues tab.",
)


def _owned(name: str, kind: Kind, headers: dict[Lang, str], help: str = "") -> Field:
    return F(name, kind, headers, owner=Owner.JOB, help=help)


LEADS = Table(
    "leads",
    _l("线索跟踪", "線索跟蹤", "Leads"),
    aliases=(
        "销售线索",
        "销售线索跟踪",
        "销售线索跟踪表",
        "线索",
        "线索表",
        "lead list",
        "线索跟踪表",
    ),
    row_label="lead_id",
    help="One row per lead, through its life.",
    vague={
        "时间": ("created_at", "assigned_at", "first_contact_at"),
        "日期": ("created_at", "assigned_at", "first_contact_at", "expected_close"),
        "名称": ("customer", "contact"),
        "name": ("customer", "contact"),
    },
    fields=(
        F(
            "lead_id",
            Kind.ID,
            _l("线索编号", "線索編號", "Lead ID"),
            ("编号", "线索id", "id"),
            required=True,
            unique=True,
        ),
        F(
            "source",
            Kind.ENUM,
            _l("来源类型", "來源類型", "Source"),
            ("来源", "线索来源", "lead source", "渠道来源"),
            required=True,
            choices=SOURCE,
        ),
        F(
            "customer",
            Kind.TEXT,
            _l("客户名称", "客戶名稱", "Customer"),
            ("客户", "公司名称", "企业名称", "公司", "customer name", "company"),
            required=True,
        ),
        F(
            "contact",
            Kind.TEXT,
            _l("联系人", "聯繫人", "Contact"),
            ("联络人", "contact person", "contact name"),
        ),
        F(
            "title",
            Kind.TEXT,
            _l("职位", "職位", "Title"),
            ("职务", "职称", "job title", "position"),
        ),
        F(
            "phone_or_email",
            Kind.PHONE,
            _l("联系方式", "聯繫方式", "Phone or e-mail"),
            (
                "联络方式",
                "电话",
                "手机",
                "手机号",
                "邮箱",
                "phone",
                "email",
                "e-mail",
                "contact info",
            ),
        ),
        F("region", Kind.TEXT, _l("区域", "區域", "Region"), ("地区", "大区")),
        F("industry", Kind.TEXT, _l("行业", "行業", "Industry"), ("所属行业",)),
        F("product_line", Kind.TEXT, _l("产品线", "產品線", "Product line"), ("产品", "product")),
        F(
            "need",
            Kind.TEXT,
            _l("初步需求", "初步需求", "Need"),
            ("需求", "需求描述", "initial need"),
        ),
        F(
            "budget",
            Kind.BOOL,
            _l("预算", "預算", "Budget"),
            ("有预算", "bant-b", "b-预算"),
            choices=YES_NO,
        ),
        F(
            "authority",
            Kind.BOOL,
            _l("决策权", "決策權", "Authority"),
            ("决策人", "有决策权", "bant-a", "a-决策权"),
            choices=YES_NO,
        ),
        F(
            "need_fit",
            Kind.BOOL,
            _l("需求匹配", "需求匹配", "Need fit"),
            ("需求契合", "需求符合", "bant-n", "n-需求"),
            choices=YES_NO,
        ),
        F(
            "timeline",
            Kind.BOOL,
            _l("时间线", "時間線", "Timeline"),
            ("时间表", "采购时间", "bant-t", "t-时间线"),
            choices=YES_NO,
        ),
        F(
            "bant_class",
            Kind.ENUM,
            _l("筛选结果", "篩選結果", "BANT class"),
            ("线索等级", "等级", "bant等级", "bant", "class", "lead class"),
            choices=BANT_CLASS,
            owner=Owner.JOB_IF_BLANK,
            help="A/B/C. Entered, or computed from the four BANT answers when blank.",
        ),
        F(
            "owner",
            Kind.TEXT,
            _l("负责人", "負責人", "Owner"),
            ("销售", "销售员", "业务员", "sales rep", "rep", "sales"),
            references=_REP,
        ),
        F(
            "created_at",
            Kind.DATETIME,
            _l("创建时间", "建立時間", "Created at"),
            ("创建日期", "建立日期", "登记日期", "登记时间", "created"),
        ),
        F(
            "assigned_at",
            Kind.DATETIME,
            _l("分配时间", "分配時間", "Assigned at"),
            ("分配日期", "分派时间", "assigned"),
        ),
        F(
            "first_contact_at",
            Kind.DATETIME,
            _l("首次跟进时间", "首次跟進時間", "First contact at"),
            ("首次联系时间", "首次跟进", "first contact"),
        ),
        F(
            "stage",
            Kind.ENUM,
            _l("当前阶段", "目前階段", "Stage"),
            ("当前状态", "目前状态", "阶段", "状态", "status", "销售阶段"),
            choices=STAGE,
        ),
        F(
            "expected_amount",
            Kind.AMOUNT,
            _l("预计金额", "預計金額", "Expected amount"),
            ("预估金额", "商机金额", "deal size", "amount"),
            minimum=0,
        ),
        F(
            "probability",
            Kind.PERCENT,
            _l("赢率", "贏率", "Probability"),
            ("成交概率", "成交机率", "win probability", "赢单率"),
            minimum=0,
            maximum=1,
        ),
        F(
            "expected_close",
            Kind.DATE,
            _l("预计成交", "預計成交", "Expected close"),
            ("预计成交日期", "预计签约", "close date"),
        ),
        F(
            "proposal_due",
            Kind.DATE,
            _l("方案截止", "方案截止", "Proposal due"),
            ("方案截止日期", "方案截止时间"),
        ),
        F(
            "proposal_submitted_at",
            Kind.DATETIME,
            _l("方案提交时间", "方案提交時間", "Proposal submitted at"),
            ("方案提交日期", "方案提交"),
        ),
        F("lost_reason", Kind.TEXT, _l("输单原因", "輸單原因", "Lost reason"), ("丢单原因",)),
        F(
            "summary",
            Kind.TEXT,
            _l("跟进记录摘要", "跟進記錄摘要", "Summary"),
            ("跟进摘要", "备注", "notes", "remarks"),
        ),
        _owned(
            "first_contact_due",
            Kind.DATETIME,
            _l("首次跟进截止", "首次跟進截止", "First contact due"),
        ),
        _owned(
            "first_contact_sla", Kind.TEXT, _l("首次跟进时效", "首次跟進時效", "First contact SLA")
        ),
        _owned(
            "last_follow_up_at", Kind.DATETIME, _l("最近跟进时间", "最近跟進時間", "Last follow-up")
        ),
        _owned("follow_up_count", Kind.INTEGER, _l("跟进次数", "跟進次數", "Follow-ups")),
        _owned("next_step_due", Kind.DATE, _l("下一步截止", "下一步截止", "Next step due")),
        _owned("days_in_pipeline", Kind.INTEGER, _l("在途天数", "在途天數", "Days in pipeline")),
        _owned(
            "suggested_owner",
            Kind.TEXT,
            _l("建议负责人", "建議負責人", "Suggested owner"),
            "For a lead without an owner: the rep the assignment rules propose.",
        ),
        _owned(
            "suggested_by",
            Kind.TEXT,
            _l("分配依据", "分配依據", "Assigned by"),
            "The assignment rule (its Settings row and method) behind the suggestion.",
        ),
        _owned(
            "duplicate_group",
            Kind.INTEGER,
            _l("重复组", "重複組", "Duplicate group"),
            "Leads of the same company share the row number of the lead to keep.",
        ),
        _owned(
            "linked_customer",
            Kind.TEXT,
            _l("关联客户", "關聯客戶", "Linked customer"),
            "The existing customer (signed before) or the referring customer of this lead.",
        ),
        _flags,
    ),
    orders=(
        Order("created_at", "assigned_at", Severity.WARNING),
        Order("assigned_at", "first_contact_at"),
        Order("created_at", "first_contact_at"),
    ),
)

FOLLOW_UPS = Table(
    "follow_ups",
    _l("跟进记录", "跟進記錄", "Follow-ups"),
    aliases=("跟进", "跟进日志", "跟进记录表", "客户跟进记录", "follow ups", "follow-up log"),
    help="One row per contact with a customer.",
    fields=(
        F(
            "date",
            Kind.DATETIME,
            _l("日期", "日期", "Date"),
            ("跟进日期", "跟进时间", "时间"),
            required=True,
        ),
        F(
            "lead_id",
            Kind.ID,
            _l("线索编号", "線索編號", "Lead ID"),
            ("线索id",),
            required=True,
            references=("leads", "lead_id"),
        ),
        F(
            "method",
            Kind.ENUM,
            _l("跟进方式", "跟進方式", "Method"),
            ("方式", "沟通方式"),
            required=True,
            choices=METHOD,
        ),
        F("counterpart", Kind.TEXT, _l("沟通对象", "溝通對象", "Counterpart"), ("对象",)),
        F(
            "content",
            Kind.TEXT,
            _l("沟通内容摘要", "溝通內容摘要", "Content"),
            ("沟通内容", "内容", "content summary"),
        ),
        F(
            "feedback",
            Kind.TEXT,
            _l("客户反馈/异议", "客戶反饋/異議", "Feedback"),
            ("客户反馈", "反馈", "异议", "objections"),
        ),
        F(
            "next_step",
            Kind.TEXT,
            _l("下一步计划", "下一步計劃", "Next step"),
            ("下一步", "下步计划", "下一步行动"),
        ),
        F(
            "next_step_date",
            Kind.DATE,
            _l("下一步日期", "下一步日期", "Next step date"),
            ("下次跟进日期", "下一步时间"),
        ),
        F(
            "rep",
            Kind.TEXT,
            _l("跟进人", "跟進人", "Rep"),
            ("负责人", "销售", "销售员", "sales rep"),
            required=True,
            references=_REP,
        ),
        F(
            "minutes_sent_at",
            Kind.DATETIME,
            _l("纪要发送时间", "紀要發送時間", "Minutes sent at"),
            ("会议纪要发送时间", "纪要发送"),
        ),
        _owned("next_step_status", Kind.TEXT, _l("下一步状态", "下一步狀態", "Next step status")),
        _owned("minutes_sla", Kind.TEXT, _l("纪要时效", "紀要時效", "Minutes SLA")),
        _flags,
    ),
    orders=(Order("date", "minutes_sent_at"), Order("date", "next_step_date", Severity.WARNING)),
)

CONTRACTS = Table(
    "contracts",
    _l("合同订单", "合約訂單", "Contracts"),
    aliases=("合同", "合同台账", "订单", "合同订单表", "contract list", "orders"),
    row_label="contract_id",
    vague={"日期": ("signed_at", "delivered_at", "accepted_at")},
    fields=(
        F(
            "contract_id",
            Kind.ID,
            _l("合同编号", "合約編號", "Contract ID"),
            ("订单编号", "合同号", "contract no"),
            required=True,
            unique=True,
        ),
        F(
            "lead_id",
            Kind.ID,
            _l("线索编号", "線索編號", "Lead ID"),
            ("线索id",),
            references=("leads", "lead_id"),
            reference_severity=Severity.WARNING,
        ),
        F(
            "customer",
            Kind.TEXT,
            _l("客户名称", "客戶名稱", "Customer"),
            ("客户", "公司名称", "customer name"),
            required=True,
        ),
        F(
            "owner",
            Kind.TEXT,
            _l("负责人", "負責人", "Owner"),
            ("销售", "销售员", "sales rep", "rep"),
            required=True,
            references=_REP,
        ),
        F(
            "signed_at",
            Kind.DATE,
            _l("签约日期", "簽約日期", "Signed on"),
            ("签订日期", "签约时间", "signed"),
            required=True,
        ),
        F(
            "amount",
            Kind.AMOUNT,
            _l("合同金额", "合約金額", "Amount"),
            ("金额", "合同额", "contract amount"),
            required=True,
            minimum=0,
        ),
        F("delivery_due", Kind.DATE, _l("交付期限", "交付期限", "Delivery due"), ("交付截止",)),
        F("delivered_at", Kind.DATE, _l("交付日期", "交付日期", "Delivered on"), ("交付时间",)),
        F("accepted_at", Kind.DATE, _l("验收日期", "驗收日期", "Accepted on"), ("验收时间",)),
        F(
            "payment_terms_days",
            Kind.INTEGER,
            _l("付款账期", "付款帳期", "Payment terms (days)"),
            ("账期", "付款期限", "payment terms"),
            minimum=0,
        ),
        F(
            "first_visit_at",
            Kind.DATETIME,
            _l("首次回访", "首次回訪", "First visit"),
            ("首次回访时间", "回访日期"),
        ),
        _owned(
            "post_delivery_visit_sla",
            Kind.TEXT,
            _l("回访时效", "回訪時效", "Post-delivery visit SLA"),
        ),
        _owned("payment_due", Kind.DATE, _l("付款到期", "付款到期", "Payment due")),
        _flags,
    ),
    orders=(
        Order("signed_at", "delivered_at", Severity.WARNING),
        Order("delivered_at", "accepted_at"),
        Order("delivered_at", "first_visit_at", Severity.WARNING),
    ),
)

COLLECTIONS = Table(
    "collections",
    _l("回款", "回款", "Collections"),
    aliases=("回款记录", "回款明细", "收款", "收款记录", "回款跟踪", "payments"),
    row_label="invoice_no",
    vague={
        "日期": ("invoiced_at", "due_date", "received_at"),
        "金额": ("invoice_amount", "received_amount"),
        "amount": ("invoice_amount", "received_amount"),
    },
    fields=(
        F(
            "invoice_no",
            Kind.ID,
            _l("发票号", "發票號", "Invoice no."),
            ("发票号码", "发票编号", "invoice", "invoice number"),
            required=True,
            unique=True,
        ),
        F(
            "contract_id",
            Kind.ID,
            _l("合同编号", "合約編號", "Contract ID"),
            ("合同号",),
            required=True,
            references=("contracts", "contract_id"),
        ),
        F("invoiced_at", Kind.DATE, _l("开票日期", "開票日期", "Invoiced on"), ("开票时间",)),
        F(
            "invoice_amount",
            Kind.AMOUNT,
            _l("发票金额", "發票金額", "Invoice amount"),
            ("开票金额",),
            required=True,
            minimum=0,
        ),
        F("due_date", Kind.DATE, _l("到期日", "到期日", "Due date"), ("到期日期", "应收日期")),
        F(
            "received_at",
            Kind.DATE,
            _l("回款日期", "回款日期", "Received on"),
            ("收款日期", "到账日期"),
        ),
        F(
            "received_amount",
            Kind.AMOUNT,
            _l("回款金额", "回款金額", "Received amount"),
            ("收款金额", "到账金额"),
            minimum=0,
        ),
        _owned("overdue_days", Kind.INTEGER, _l("逾期天数", "逾期天數", "Overdue days")),
        _owned("reconciliation", Kind.TEXT, _l("对账结果", "對帳結果", "Reconciliation")),
        _flags,
    ),
    orders=(Order("invoiced_at", "received_at"), Order("invoiced_at", "due_date")),
)

TICKETS = Table(
    "tickets",
    _l("售后问题", "售後問題", "Tickets"),
    aliases=("售后", "售后工单", "工单", "客诉", "售后问题记录", "after-sales"),
    row_label="ticket_id",
    vague={"时间": ("opened_at", "resolved_at", "plan_at")},
    fields=(
        F(
            "ticket_id",
            Kind.ID,
            _l("问题编号", "問題編號", "Ticket ID"),
            ("工单号", "工单编号"),
            required=True,
            unique=True,
        ),
        F("customer", Kind.TEXT, _l("客户名称", "客戶名稱", "Customer"), ("客户",), required=True),
        F(
            "contract_id",
            Kind.ID,
            _l("合同编号", "合約編號", "Contract ID"),
            ("合同号",),
            references=("contracts", "contract_id"),
            reference_severity=Severity.WARNING,
        ),
        F(
            "opened_at",
            Kind.DATETIME,
            _l("提出时间", "提出時間", "Opened at"),
            ("提出日期", "报告时间", "opened"),
            required=True,
        ),
        F(
            "complexity",
            Kind.ENUM,
            _l("复杂度", "複雜度", "Complexity"),
            ("问题类型", "难度"),
            choices=COMPLEXITY,
        ),
        F("resolved_at", Kind.DATETIME, _l("解决时间", "解決時間", "Resolved at"), ("解决日期",)),
        F(
            "plan_at",
            Kind.DATETIME,
            _l("方案时间", "方案時間", "Plan at"),
            ("方案提供时间", "方案日期"),
        ),
        _owned("response_sla", Kind.TEXT, _l("响应时效", "響應時效", "Response SLA")),
        _flags,
    ),
    orders=(Order("opened_at", "resolved_at"), Order("opened_at", "plan_at")),
)

REPS = Table(
    "reps",
    _l("销售人员", "銷售人員", "Reps"),
    aliases=("销售团队", "人员", "团队成员", "sales team", "team"),
    row_label="name",
    fields=(
        F(
            "name",
            Kind.TEXT,
            _l("姓名", "姓名", "Name"),
            ("销售员", "名字", "rep"),
            required=True,
            unique=True,
        ),
        F("team", Kind.TEXT, _l("团队", "團隊", "Team"), ("小组", "部门")),
        F("region", Kind.TEXT, _l("区域", "區域", "Region"), ("地区",)),
        F("manager", Kind.TEXT, _l("主管", "主管", "Manager"), ("上级", "经理")),
        F("email", Kind.PHONE, _l("邮箱", "郵箱", "E-mail"), ("电子邮箱", "email", "mail")),
        F("active", Kind.BOOL, _l("在职", "在職", "Active"), ("是否在职", "状态"), choices=YES_NO),
    ),
)

TARGETS = Table(
    "targets",
    _l("目标", "目標", "Targets"),
    aliases=("销售目标", "业绩目标", "目标设定", "quota", "quotas"),
    fields=(
        F(
            "rep",
            Kind.TEXT,
            _l("销售员", "銷售員", "Rep"),
            ("姓名", "负责人", "sales rep"),
            required=True,
            references=_REP,
        ),
        F(
            "period",
            Kind.PERIOD,
            _l("周期", "週期", "Period"),
            ("月份", "季度", "期间"),
            required=True,
        ),
        F(
            "sales_target",
            Kind.AMOUNT,
            _l("目标销售额", "目標銷售額", "Sales target"),
            ("销售目标", "目标金额", "target"),
            required=True,
            minimum=0,
        ),
        F(
            "new_customers_target",
            Kind.INTEGER,
            _l("目标新签客户数", "目標新簽客戶數", "New customers target"),
            ("新客户目标",),
            minimum=0,
        ),
        F(
            "collection_target",
            Kind.PERCENT,
            _l("目标回款率", "目標回款率", "Collection target"),
            ("回款率目标",),
            minimum=0,
            maximum=1,
        ),
    ),
)

SETTINGS = Table(
    "settings",
    _l("设置", "設定", "Settings"),
    aliases=("参数", "配置", "系统设置", "config", "configuration"),
    fields=(
        F(
            "key",
            Kind.TEXT,
            _l("设置项", "設定項", "Setting"),
            ("项目", "参数", "名称", "key"),
            required=True,
        ),
        F("value", Kind.TEXT, _l("值", "值", "Value"), ("设定值", "取值", "value")),
        F("note", Kind.TEXT, _l("说明", "說明", "Note"), ("备注", "notes")),
    ),
)

ASSIGNMENT_RULES = Table(
    "assignment_rules",
    _l("分配规则", "分配規則", "Assignment rules"),
    aliases=("线索分配规则", "分配表"),
    section_of="settings",
    help="Who gets a new lead: the first row whose region, industry, product line and source "
    "match names a rep or a team and a method (fixed, round robin, fewest open leads).",
    fields=(
        F("region", Kind.TEXT, _l("区域", "區域", "Region"), ("地区", "大区")),
        F("industry", Kind.TEXT, _l("行业", "行業", "Industry"), ("所属行业",)),
        F("product_line", Kind.TEXT, _l("产品线", "產品線", "Product line"), ("产品", "product")),
        F("source", Kind.TEXT, _l("来源类型", "來源類型", "Source"), ("来源", "lead source")),
        F(
            "target",
            Kind.TEXT,
            _l("分配给", "分配給", "Assign to"),
            ("分配对象", "assignee", "assign to"),
            required=True,
        ),
        F(
            "method",
            Kind.TEXT,
            _l("分配方式", "分配方式", "Method"),
            ("分配方法", "assignment method"),
        ),
        F("note", Kind.TEXT, _l("说明", "說明", "Note"), ("备注",)),
    ),
)

SLA_RULES = Table(
    "sla_rules",
    _l("时效规则", "時效規則", "SLA rules"),
    aliases=("sla规则", "时限规则"),
    section_of="settings",
    row_label="rule",
    help="The SLA rules table, below the key/value rows of Settings; a row overrides the "
    "default rule of the same id, a new id adds a rule.",
    fields=(
        F(
            "rule",
            Kind.TEXT,
            _l("SLA规则", "SLA規則", "SLA rule"),
            ("规则", "規則", "时效规则", "rule", "sla"),
            required=True,
            unique=True,
        ),
        F("table", Kind.TEXT, _l("适用工作表", "適用工作表", "Applies to"), ("table", "tab")),
        F(
            "start",
            Kind.TEXT,
            _l("开始字段", "開始欄位", "Starts at"),
            ("开始", "起算字段", "開始字段", "start", "start field"),
        ),
        F(
            "end",
            Kind.TEXT,
            _l("结束字段", "結束欄位", "Ends at"),
            ("结束", "完成字段", "結束字段", "end", "end field"),
        ),
        F("limit", Kind.TEXT, _l("时限", "時限", "Limit"), ("期限", "limit")),
        F("unit", Kind.ENUM, _l("单位", "單位", "Unit"), ("时限单位",), choices=SLA_UNIT),
        F("condition", Kind.TEXT, _l("条件", "條件", "Condition"), ("适用条件", "when")),
        F(
            "enabled",
            Kind.BOOL,
            _l("启用", "啟用", "Enabled"),
            ("是否启用", "on", "active"),
            choices=YES_NO,
        ),
    ),
)

ISSUES = Table(
    "issues",
    _l("问题清单", "問題清單", "Issues"),
    aliases=("问题", "校验结果", "检查结果"),
    owner=Owner.JOB,
    fields=(
        F("severity", Kind.ENUM, _l("级别", "級別", "Severity"), choices=SEVERITY),
        F("code", Kind.TEXT, _l("代码", "代碼", "Code")),
        F("tab", Kind.TEXT, _l("工作表", "工作表", "Tab")),
        F("row", Kind.INTEGER, _l("行", "列號", "Row")),
        F("column", Kind.TEXT, _l("列", "欄", "Column")),
        F("header", Kind.TEXT, _l("表头", "表頭", "Header")),
        F("value", Kind.TEXT, _l("值", "值", "Value")),
        F("message", Kind.TEXT, _l("说明", "說明", "Message")),
    ),
)
