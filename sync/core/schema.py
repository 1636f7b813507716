"""The one declarative schema of a salesync workbook.

Every tab and field of DESIGN.md §3 is described here once: canonical name, kind of value,
whether it is required or unique, its allowed values and their aliases, its display headers in
zh-Hans, zh-Hant and English, and whether the sync job owns it. Templates, header matching,
parsing, validation, messages and documentation all read this module; nothing repeats it.

>>> SCHEMA.table("leads").field("lead_id").headers[Lang.ZH_HANT]
'線索編號'
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum


class Lang(StrEnum):
    ZH_HANS = "zh-Hans"
    ZH_HANT = "zh-Hant"
    EN = "en"


LANGS: tuple[Lang, ...] = (Lang.ZH_HANS, Lang.ZH_HANT, Lang.EN)


class Kind(StrEnum):
    """What a cell of a field holds once parsed."""

    TEXT = "text"  # free text, numbers rendered without a trailing .0
    ID = "id"  # an identifier: text, trimmed, compared exactly
    PHONE = "phone"  # phone number or e-mail: text, leading zeros kept
    DATE = "date"  # a calendar day
    DATETIME = "datetime"  # a moment; a bare date means its midnight
    NUMBER = "number"  # a plain quantity
    AMOUNT = "amount"  # money in the workbook's unit (元 or 万元); 50万 is understood
    PERCENT = "percent"  # a ratio: 85%, 0.85 and 85 all mean 0.85
    INTEGER = "integer"  # a whole count
    BOOL = "bool"  # 是/否, Y/N, ✓/✗, TRUE/FALSE
    ENUM = "enum"  # one of the field's choices, through any alias
    PERIOD = "period"  # a month (2026-07) or a quarter (2026Q3)


class Owner(StrEnum):
    """Who writes a column or a tab."""

    USER = "user"  # the users' own data: the job never writes it
    JOB = "job"  # computed: the job (re)writes it on every run
    JOB_IF_BLANK = "job_if_blank"  # entered by users, filled by the job only where blank


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


def _l(zh_hans: str, zh_hant: str, en: str) -> dict[Lang, str]:
    return {Lang.ZH_HANS: zh_hans, Lang.ZH_HANT: zh_hant, Lang.EN: en}


@dataclass(frozen=True, eq=False)
class Choice:
    """One allowed value of an enumeration, with its labels and the other ways people write it."""

    key: str
    labels: dict[Lang, str]
    aliases: tuple[str, ...] = ()

    def spellings(self) -> Iterator[str]:
        yield self.key
        yield from self.labels.values()
        yield from self.aliases


@dataclass(frozen=True, eq=False)
class Choices:
    """An enumeration. `detail_separator`: text after it is a free detail ("展会-行业展")."""

    name: str
    choices: tuple[Choice, ...]
    detail_separator: str | None = None

    def choice(self, key: str) -> Choice:
        for choice in self.choices:
            if choice.key == key:
                return choice
        raise KeyError(key)

    def label(self, key: str, lang: Lang) -> str:
        return self.choice(key).labels[lang]


@dataclass(frozen=True, eq=False)
class Field:
    name: str
    kind: Kind
    headers: dict[Lang, str]
    aliases: tuple[str, ...] = ()
    required: bool = False
    unique: bool = False
    choices: Choices | None = None
    owner: Owner = Owner.USER
    references: tuple[str, str] | None = None  # (table, field) the value must exist in
    reference_severity: Severity = Severity.ERROR
    minimum: float | None = None
    maximum: float | None = None
    help: str = ""

    @property
    def owned(self) -> bool:
        return self.owner is not Owner.USER

    def header(self, lang: Lang) -> str:
        """The header a template or the job writes; owned columns carry a visible ⚙ mark."""
        text = self.headers[lang]
        return f"⚙ {text}" if self.owner is Owner.JOB else text

    def spellings(self) -> Iterator[str]:
        yield self.name
        yield from self.headers.values()
        yield from self.aliases


@dataclass(frozen=True, eq=False)
class Order:
    """`earlier` must not come after `later` in the same row (when both are filled)."""

    earlier: str
    later: str
    severity: Severity = Severity.ERROR


@dataclass(frozen=True, eq=False)
class Table:
    name: str
    titles: dict[Lang, str]
    fields: tuple[Field, ...]
    aliases: tuple[str, ...] = ()
    owner: Owner = Owner.USER
    orders: tuple[Order, ...] = ()
    row_label: str = ""  # the field that names a row in messages (its id)
    help: str = ""
    # Generic labels that could mean several fields: reported as ambiguous, never guessed.
    vague: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # A small table kept inside another table's tab (the SLA rules below the key/value rows of
    # Settings): found by its own header row anywhere in that tab.
    section_of: str | None = None
    _by_name: dict[str, Field] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for f in self.fields:
            self._by_name[f.name] = f

    def field(self, name: str) -> Field:
        return self._by_name[name]

    def has(self, name: str) -> bool:
        return name in self._by_name

    @property
    def owned(self) -> bool:
        return self.owner is Owner.JOB

    def spellings(self) -> Iterator[str]:
        yield self.name
        yield from self.titles.values()
        yield from self.aliases

    def title(self, lang: Lang) -> str:
        return self.titles[lang]


@dataclass(frozen=True, eq=False)
class Schema:
    tables: tuple[Table, ...]

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    @property
    def data_tables(self) -> tuple[Table, ...]:
        """Tables with a tab of their own that users fill (sections excluded)."""
        return tuple(t for t in self.tables if not t.owned and t.section_of is None)

    def sections(self, parent: str) -> tuple[Table, ...]:
        return tuple(t for t in self.tables if t.section_of == parent)

    @property
    def owned_tables(self) -> tuple[Table, ...]:
        return tuple(t for t in self.tables if t.owned)


# --- enumerations ---------------------------------------------------------------------------

YES_NO = Choices(
    "yes_no",
    (
        Choice(
            "yes",
            _l("是", "是", "Yes"),
            ("y", "true", "✓", "✔", "☑", "√", "1", "有", "对", "是的", "ok"),
        ),
        Choice(
            "no",
            _l("否", "否", "No"),
            ("n", "false", "✗", "✘", "☒", "×", "0", "无", "没有", "不是"),
        ),
    ),
)

SOURCE = Choices(
    "source",
    (
        Choice(
            "website", _l("官网注册", "官網註冊", "Website"), ("官网", "网站", "web", "官网注册")
        ),
        Choice(
            "trade_show",
            _l("行业展会", "行業展會", "Trade show"),
            ("展会", "展览会", "exhibition", "expo", "trade fair"),
        ),
        Choice(
            "partner",
            _l("转介绍", "轉介紹", "Partner referral"),
            ("合作伙伴", "渠道", "渠道转介绍", "partner", "channel"),
        ),
        Choice(
            "online_ads",
            _l("线上广告", "線上廣告", "Online ads"),
            ("广告", "网络广告", "网络推广", "ads", "online ad", "sem"),
        ),
        Choice(
            "customer_referral",
            _l("客户推荐", "客戶推薦", "Customer referral"),
            ("老客户推荐", "客户介绍", "referral"),
        ),
        Choice("other", _l("其他", "其他", "Other"), ("其它", "others")),
    ),
    detail_separator="-",
)

STAGE = Choices(
    "stage",
    (
        Choice("lead", _l("线索", "線索", "Lead"), ("新线索", "new")),
        Choice("opportunity", _l("商机", "商機", "Opportunity"), ("机会", "opp")),
        Choice("qualified", _l("已筛选", "已篩選", "Qualified"), ("已确认", "筛选通过")),
        Choice("needs_analysis", _l("需求分析", "需求分析", "Needs analysis"), ("需求调研",)),
        Choice(
            "proposal", _l("方案", "方案", "Proposal"), ("方案阶段", "报价", "方案报价", "quote")
        ),
        Choice("negotiation", _l("商务谈判", "商務談判", "Negotiation"), ("谈判", "议价")),
        Choice(
            "won", _l("赢单", "贏單", "Won"), ("成交", "已成交", "签约", "已签约", "closed won")
        ),
        Choice("lost", _l("输单", "輸單", "Lost"), ("丢单", "失败", "已丢单", "closed lost")),
    ),
)

METHOD = Choices(
    "method",
    (
        Choice("phone", _l("电话", "電話", "Phone"), ("电话沟通", "call", "tel")),
        Choice("visit", _l("拜访", "拜訪", "Visit"), ("上门拜访", "面访", "on-site visit")),
        Choice("email", _l("邮件", "郵件", "E-mail"), ("电子邮件", "mail", "email")),
        Choice("wechat", _l("微信", "微信", "WeChat"), ("企业微信", "wechat")),
        Choice(
            "meeting", _l("会议", "會議", "Meeting"), ("线上会议", "视频会议", "online meeting")
        ),
    ),
)

BANT_CLASS = Choices(
    "bant_class",
    (
        Choice("A", _l("A", "A", "A"), ("A类", "a class")),
        Choice("B", _l("B", "B", "B"), ("B类", "b class")),
        Choice("C", _l("C", "C", "C"), ("C类", "c class")),
    ),
)

COMPLEXITY = Choices(
    "complexity",
    (
        Choice("general", _l("一般", "一般", "General"), ("普通", "简单", "simple", "normal")),
        Choice("complex", _l("复杂", "複雜", "Complex"), ("困难", "complicated")),
    ),
)

SEVERITY = Choices(
    "severity",
    (
        Choice("error", _l("错误", "錯誤", "Error")),
        Choice("warning", _l("警告", "警告", "Warning")),
        Choice("info", _l("提示", "提示", "Info")),
    ),
)


AMOUNT_UNIT = Choices(
    "amount_unit",
    (
        Choice("yuan", _l("元", "元", "yuan"), ("rmb", "cny", "人民币", "¥", "￥")),
        Choice("wan_yuan", _l("万元", "萬元", "10k yuan"), ("万", "wan", "ten thousand yuan")),
    ),
)

LANGUAGE = Choices(
    "language",
    (
        Choice(
            "zh-Hans",
            _l("简体中文", "簡體中文", "Simplified Chinese"),
            ("zh-cn", "zh_hans", "简体"),
        ),
        Choice(
            "zh-Hant",
            _l("繁体中文", "繁體中文", "Traditional Chinese"),
            ("zh-tw", "zh-hk", "zh_hant", "繁体"),
        ),
        Choice("en", _l("英文", "英文", "English"), ("english", "en-us", "en-gb")),
    ),
)


SLA_UNIT = Choices(
    "sla_unit",
    (
        Choice("hours", _l("小时", "小時", "hours"), ("h", "hour", "钟头", "自然小时")),
        Choice("days", _l("天", "天", "days"), ("d", "day", "日", "自然日", "calendar days")),
        Choice(
            "workdays",
            _l("工作日", "工作日", "working days"),
            ("workday", "business days", "working day", "个工作日"),
        ),
        Choice(
            "workhours",
            _l("工作小时", "工作小時", "working hours"),
            ("workhour", "business hours", "工时", "工作时"),
        ),
    ),
)


@dataclass(frozen=True, eq=False)
class Setting:
    """One key of the Settings tab's key/value table."""

    key: str
    labels: dict[Lang, str]
    kind: Kind
    default: str
    aliases: tuple[str, ...] = ()
    choices: Choices | None = None
    minimum: float | None = None
    maximum: float | None = None
    help: dict[Lang, str] = field(default_factory=dict)

    def spellings(self) -> Iterator[str]:
        yield self.key
        yield from self.labels.values()
        yield from self.aliases


SETTING_KEYS: tuple[Setting, ...] = (
    Setting(
        "language",
        _l("语言", "語言", "Language"),
        Kind.ENUM,
        "",
        ("界面语言", "lang"),
        choices=LANGUAGE,
        help=_l(
            "消息和问题清单使用的语言；留空则按表头自动判断。",
            "訊息和問題清單使用的語言；留空則按表頭自動判斷。",
            "Language of messages and the Issues tab; blank: detected from the headers.",
        ),
    ),
    Setting(
        "amount_unit",
        _l("金额单位", "金額單位", "Amount unit"),
        Kind.ENUM,
        "yuan",
        ("货币单位", "金额单位(元/万元)", "currency unit", "unit"),
        choices=AMOUNT_UNIT,
        help=_l(
            "金额列的单位：元 或 万元。",
            "金額欄的單位：元 或 萬元。",
            "Unit of every amount column: 元 (yuan) or 万元 (10k yuan).",
        ),
    ),
    Setting(
        "timezone",
        _l("时区", "時區", "Time zone"),
        Kind.TEXT,
        "Asia/Shanghai",
        ("time zone", "tz"),
        help=_l(
            "“现在”所在的时区（IANA 名称）。",
            "「現在」所在的時區（IANA 名稱）。",
            "IANA time zone of “now”.",
        ),
    ),
    Setting(
        "calendar_region",
        _l("日历地区", "日曆地區", "Calendar region"),
        Kind.TEXT,
        "CN",
        ("节假日地区", "地区日历", "holiday region", "region"),
        help=_l(
            "法定节假日与调休所依据的地区（CN、TW、HK…）。",
            "法定假日與補班所依據的地區（CN、TW、HK…）。",
            "Region whose official holidays and makeup days count (CN, TW, HK …).",
        ),
    ),
    Setting(
        "business_hours",
        _l("工作时间", "工作時間", "Business hours"),
        Kind.TEXT,
        "09:00-18:00",
        ("上班时间", "营业时间", "office hours", "working hours"),
        help=_l(
            "“工作小时”时限只在工作日的这段时间内计时。",
            "「工作小時」時限只在工作日的這段時間內計時。",
            "Working-hour SLA limits count only inside these hours on working days.",
        ),
    ),
    Setting(
        "extra_holidays",
        _l("额外放假日", "額外放假日", "Extra holidays"),
        Kind.TEXT,
        "",
        ("公司假日", "额外假日", "company holidays"),
        help=_l(
            "公司自己的放假日，优先于法定日历；多个用逗号分隔，区间写成 2026-12-24~2026-12-26。",
            "公司自己的放假日，優先於法定日曆；多個用逗號分隔，區間寫成 2026-12-24~2026-12-26。",
            "Company days off that win over the official calendar; separate with commas, "
            "ranges as 2026-12-24~2026-12-26.",
        ),
    ),
    Setting(
        "extra_workdays",
        _l("额外上班日", "額外上班日", "Extra working days"),
        Kind.TEXT,
        "",
        ("公司上班日", "额外工作日", "extra workdays", "company working days"),
        help=_l(
            "公司自己的上班日（例如周末加班），优先于法定日历；写法同上。",
            "公司自己的上班日（例如週末加班），優先於法定日曆；寫法同上。",
            "Company working days (a weekend worked, say) that win over the official calendar.",
        ),
    ),
    Setting(
        "bant_a_min_yes",
        _l("A类最少是数", "A類最少是數", "BANT A: yes answers"),
        Kind.INTEGER,
        "4",
        ("a类标准",),
        minimum=0,
        maximum=4,
        help=_l(
            "BANT 四项中至少几项为“是”算 A 类。",
            "BANT 四項中至少幾項為「是」算 A 類。",
            "Fewest yes answers of the four BANT questions for class A.",
        ),
    ),
    Setting(
        "bant_b_min_yes",
        _l("B类最少是数", "B類最少是數", "BANT B: yes answers"),
        Kind.INTEGER,
        "2",
        ("b类标准",),
        minimum=0,
        maximum=4,
        help=_l(
            "至少几项为“是”算 B 类（更少为 C 类）。",
            "至少幾項為「是」算 B 類（更少為 C 類）。",
            "Fewest yes answers for class B (fewer is C).",
        ),
    ),
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

SCHEMA = Schema(
    (
        LEADS,
        FOLLOW_UPS,
        CONTRACTS,
        COLLECTIONS,
        TICKETS,
        REPS,
        TARGETS,
        SETTINGS,
        SLA_RULES,
        ISSUES,
    )
)
