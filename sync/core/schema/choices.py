"""The enumerations: every allowed value with its labels in three languages and its aliases."""

from __future__ import annotations

from .base import Choice, Choices, _l

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

ASSIGN_METHOD = Choices(
    "assign_method",
    (
        Choice(
            "fixed",
            _l("固定", "固定", "Fixed"),
            ("固定分配", "指定", "专人", "fixed owner"),
        ),
        Choice(
            "round_robin",
            _l("轮流", "輪流", "Round robin"),
            ("轮询", "輪詢", "轮换", "輪換", "依次", "平均分配", "round-robin", "rotate", "rr"),
        ),
        Choice(
            "fewest_open",
            _l("最少", "最少", "Fewest open"),
            (
                "最少线索",
                "最少在跟",
                "最少未结",
                "负载最少",
                "负载均衡",
                "fewest",
                "fewest open leads",
                "least loaded",
                "least open",
            ),
        ),
    ),
)
