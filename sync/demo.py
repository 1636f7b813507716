"""A realistic demo workbook: a 12-rep industrial B2B team's year, with known mistakes planted.

`build_demo_workbook` writes, from a seed, the workbook such a team keeps (leads, follow-ups,
contracts, collections, tickets, reps, monthly targets, settings) over 2025-12-01 … 2026-11-20,
in the layout users really have (a title above the leads' header, columns of their own, a
formula column, dates typed as text, phone numbers with leading zeros). The data is internally
consistent except for exactly the mistakes listed in the returned manifest, each with the
spreadsheet row and field where the sync job must report it.
"""

from __future__ import annotations

import random
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import opencc
from xlsxwriter.utility import xl_rowcol_to_cell

from sync.backends.xlsx_package import replacing
from sync.core.customers import company_key
from sync.core.schema import (
    ASSIGN_METHOD,
    ASSIGNMENT_RULES,
    BANT_CLASS,
    COMPLEXITY,
    METHOD,
    SCHEMA,
    SETTING_KEYS,
    SOURCE,
    STAGE,
    YES_NO,
    Field,
    Kind,
    Lang,
)
from sync.templates import (
    VALIDATION_LAST_ROW,
    add_validations,
    extras,
    new_workbook,
    settings_sections,
    table_layout,
    write_header,
    write_settings_rows,
    write_settings_sections,
)


@dataclass(frozen=True)
class ExpectedIssue:
    code: str
    table: str
    field: str
    row: int  # the spreadsheet row the user sees


@dataclass(frozen=True)
class DemoManifest:
    path: Path
    lang: Lang
    as_of: datetime
    expected: tuple[ExpectedIssue, ...]
    counts: dict[str, int]  # data rows per table name


DEMO_AS_OF = datetime(2026, 11, 20, 18, 0)
DEMO_TITLE = "salesync demo"
"""The demo workbook's title (its document properties): what `salesync demo` may replace."""
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"


def is_demo_workbook(path: str | Path) -> bool:
    """Whether the file at `path` is a workbook `salesync demo` wrote (synced or not: a sync
    keeps the document properties as they are)."""
    try:
        with zipfile.ZipFile(path) as zf:
            title = ET.fromstring(zf.read("docProps/core.xml")).find(_DC_TITLE)
    except (OSError, KeyError, zipfile.BadZipFile, ET.ParseError):
        return False
    return title is not None and title.text == DEMO_TITLE


START = datetime(2025, 12, 1, 9, 0)
# size: leads, repeat deals (no lead), tickets, unassigned leads, follow-ups per lead (scale)
SIZES = {"standard": (400, 25, 60, 8, 1.0), "small": (60, 4, 10, 2, 0.65)}

LEADS_TITLE = {
    Lang.ZH_HANS: "销售线索跟踪表",
    Lang.ZH_HANT: "銷售線索跟蹤表",
    Lang.EN: "Sales lead tracker",
}
# User columns of their own, inserted after a schema field: (table, after field, headers).
EXTRA_COLUMNS = {
    "leads": (
        "phone_or_email",
        {Lang.ZH_HANS: "客户微信群", Lang.ZH_HANT: "客戶微信群", Lang.EN: "WeChat group"},
    ),
    "follow_ups": ("rep", {Lang.ZH_HANS: "备注2", Lang.ZH_HANT: "備註2", Lang.EN: "Remarks 2"}),
    "contracts": (
        "amount",
        {Lang.ZH_HANS: "含税金额", Lang.ZH_HANT: "含稅金額", Lang.EN: "Amount incl. VAT"},
    ),
}
EXTRA = "__extra__"

# name, e-mail user, region (team lead first in each region)
REPS = (
    ("陈建华", "chenjianhua", "华东"),
    ("李思远", "lisiyuan", "华东"),
    ("张伟", "zhangwei", "华东"),
    ("刘婷", "liuting", "华东"),
    ("黄志明", "huangzhiming", "华南"),
    ("林晓燕", "linxiaoyan", "华南"),
    ("吴俊杰", "wujunjie", "华南"),
    ("郑雅琪", "zhengyaqi", "华南"),
    ("赵国栋", "zhaoguodong", "华北"),
    ("孙丽娜", "sunlina", "华北"),
    ("周鹏", "zhoupeng", "华北"),
    ("马晓东", "maxiaodong", "华北"),
)
UNKNOWN_REP = "王小明"
CITIES = {
    "华东": (
        ("杭州", "0571"),
        ("宁波", "0574"),
        ("苏州", "0512"),
        ("无锡", "0510"),
        ("上海", "021"),
        ("南京", "025"),
        ("合肥", "0551"),
    ),
    "华南": (
        ("广州", "020"),
        ("深圳", "0755"),
        ("东莞", "0769"),
        ("佛山", "0757"),
        ("厦门", "0592"),
        ("中山", "0760"),
    ),
    "华北": (
        ("北京", "010"),
        ("天津", "022"),
        ("石家庄", "0311"),
        ("济南", "0531"),
        ("青岛", "0532"),
        ("唐山", "0315"),
    ),
}
CORES = (
    "恒远",
    "华信",
    "博越",
    "中科",
    "鼎盛",
    "瑞丰",
    "永泰",
    "金桥",
    "天成",
    "宏达",
    "新锐",
    "凯捷",
    "精工",
    "联创",
    "海纳",
    "同力",
    "华晟",
    "德润",
    "安泰",
    "力源",
    "科达",
    "万邦",
    "宏图",
    "晨光",
    "嘉禾",
    "立信",
    "远航",
    "星辰",
    "融通",
    "泰和",
    "合力",
    "鑫源",
)
BUSINESSES = (
    ("精密机械", "机械加工"),
    ("汽车零部件", "汽车零部件"),
    ("电子科技", "电子制造"),
    ("食品", "食品饮料"),
    ("化工", "化工"),
    ("制药", "医药"),
    ("新能源科技", "新能源"),
    ("电器", "家电"),
    ("包装材料", "包装"),
    ("五金制品", "五金"),
)
PRODUCTS = {  # product line: (amount range in 元, needs)
    "工业传感器": ((80_000, 400_000), ("产线温压监测点位改造", "设备状态在线监测，减少停机")),
    "MES系统": ((300_000, 1_500_000), ("车间生产过程追溯", "替换纸质工单，打通ERP")),
    "自动化产线": ((600_000, 2_500_000), ("装配线自动化改造，节拍提升30%", "新厂房整线规划")),
    "机器视觉检测": ((150_000, 600_000), ("外观缺陷自动检测", "来料尺寸视觉测量")),
    "工业机器人": ((200_000, 900_000), ("上下料机器人替代人工", "码垛工位自动化")),
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = (
    "伟",
    "芳",
    "敏",
    "静",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "建国",
    "志强",
    "海燕",
    "文博",
    "晓峰",
    "佳怡",
    "子涵",
)
CONTACT_TITLES = (
    "采购经理",
    "设备部经理",
    "生产总监",
    "技术总监",
    "总经理",
    "工艺工程师",
    "信息化主管",
    "厂长",
)
CONTENTS = {
    "phone": ("电话沟通项目背景和预算", "电话确认技术参数", "电话跟进方案反馈"),
    "visit": ("上门拜访，现场查看产线", "拜访技术部，讲解方案", "现场演示样机"),
    "email": ("邮件发送产品资料和案例", "邮件发送报价单", "邮件确认合同条款"),
    "wechat": ("微信发送案例视频", "微信沟通交期", "微信确认会议时间"),
    "meeting": ("线上会议评审技术方案", "与采购和技术开会讨论商务条款", "项目启动会"),
}
FEEDBACKS = (
    "对方案认可，关注交期",
    "认为价格偏高",
    "需要内部评估",
    "要求提供同行业案例",
    "预算下季度才批",
    "",
    "",
    "希望增加售后培训",
)
NEXT_STEPS = (
    "发送详细方案",
    "安排技术交流",
    "提交报价",
    "邀请参观样板工厂",
    "跟进内部评估结果",
    "确认合同条款",
)
LOST_REASONS = ("价格偏高", "选择了竞争对手", "项目预算取消", "需求延期", "技术方案不匹配")
STAGE_PLAN = (  # stage, share, created from/to (days after START, days before as-of), follow-ups
    ("won", 0.26, 0, 75, (8, 16)),
    ("lost", 0.18, 0, 30, (3, 10)),
    ("negotiation", 0.06, 60, 20, (7, 14)),
    ("proposal", 0.09, 60, 20, (5, 12)),
    ("needs_analysis", 0.09, 120, 7, (4, 9)),
    ("qualified", 0.10, 120, 7, (3, 7)),
    ("opportunity", 0.05, 120, 7, (2, 5)),
    ("lead", 0.17, 0, 1, (0, 3)),
)
PROBABILITY = {
    "lead": 0.1,
    "opportunity": 0.2,
    "qualified": 0.3,
    "needs_analysis": 0.4,
    "proposal": 0.5,
    "negotiation": 0.7,
    "won": 1.0,
    "lost": 0.0,
}
BANT_YES = {
    "won": (3, 4),
    "negotiation": (3, 4),
    "proposal": (2, 4),
    "needs_analysis": (2, 4),
    "qualified": (2, 4),
    "opportunity": (1, 3),
    "lead": (0, 4),
    "lost": (0, 3),
}


@dataclass(frozen=True)
class Text:
    """A date typed as text ("2026/6/2 14:30", "2026年6月2日")."""

    text: str


@dataclass(frozen=True)
class Formula:
    """`expr` may name the row's cells as {field}; `value` is the cached result."""

    expr: str
    value: Any


Row = dict[str, Any]


def _text_datetime(t: datetime) -> Text:
    return Text(f"{t.year}/{t.month}/{t.day} {t.hour}:{t.minute:02d}")


def _text_day(d: date) -> Text:
    return Text(f"{d.year}年{d.month}月{d.day}日")


class _Gen:
    def __init__(self, lang: Lang, seed: int, size: str) -> None:
        self.rng = random.Random(seed)
        self.sla_rng = random.Random(seed + 1)  # timeliness habits: the rest stays as it was
        self.lang = lang
        (self.n_leads, self.n_repeat, self.n_tickets, self.n_unassigned, self.fu_scale) = SIZES[
            size
        ]
        self.reps = [name for name, _, _ in REPS]
        self.by_region = {r: [n for n, _, reg in REPS if reg == r] for r in CITIES}

    # --- helpers ----------------------------------------------------------------------------
    def at_work(self, day: date) -> datetime:
        return datetime(
            day.year,
            day.month,
            day.day,
            self.rng.randint(9, 17),
            self.rng.choice((0, 10, 15, 20, 30, 40, 45, 50)),
        )

    def after(self, t: datetime, lo_hours: float, hi_hours: float) -> datetime:
        minutes = int(self.rng.uniform(lo_hours, hi_hours) * 60)
        return (t + timedelta(minutes=minutes)).replace(second=0, microsecond=0)

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def phone(self, area: str) -> str:
        if self.rng.random() < 0.55:
            return self.rng.choice(("138", "139", "135", "186", "177", "150")) + "".join(
                self.rng.choice("0123456789") for _ in range(8)
            )
        digits = 8 if len(area) == 3 or self.rng.random() < 0.7 else 7
        return f"{area}-{self.rng.randint(2, 8)}" + "".join(
            self.rng.choice("0123456789") for _ in range(digits - 1)
        )

    def yes_no(self, yes: bool) -> str:
        return YES_NO.label("yes" if yes else "no", self.lang)

    # --- tables -----------------------------------------------------------------------------
    def leads(self) -> list[Row]:
        plan: list[str] = []
        for stage, share, *_ in STAGE_PLAN:
            plan += [stage] * round(share * self.n_leads)
        plan = plan[: self.n_leads - self.n_unassigned]
        plan += ["lead"] * (self.n_leads - self.n_unassigned - len(plan))
        leads = [self.lead(stage) for stage in plan]
        leads += [self.lead("lead", unassigned=True) for _ in range(self.n_unassigned)]
        leads.sort(key=lambda r: r["created_at"])
        per_year: dict[int, int] = {}
        names: set[str] = set()
        for lead in leads:
            year = lead["created_at"].year
            per_year[year] = per_year.get(year, 0) + 1
            lead["lead_id"] = f"L{year}-{per_year[year]:04d}"
            # One lead per customer, as salesync tells companies apart (but see below).
            while company_key(lead["customer"]) in names:
                lead["customer"] = self.company(lead["_city"], lead["_business"])
            names.add(company_key(lead["customer"]))
        # One customer approached by two reps of the same region.
        a, b = next(
            (x, y)
            for x in leads
            for y in leads
            if x["region"] == y["region"]
            and x["owner"]
            and y["owner"]
            and x["owner"] != y["owner"]
            and x["_stage"] == "won"
            and y["_stage"] == "qualified"
        )
        b["customer"] = a["customer"]
        self.split_customer = (a, b)
        return leads

    def company(self, city: str, business: str) -> str:
        kind = "股份有限公司" if self.rng.random() < 0.2 else "有限公司"
        return f"{city}{self.rng.choice(CORES)}{business}{kind}"

    def lead(self, stage: str, unassigned: bool = False) -> Row:
        rng = self.rng
        _, _, lo, hi, (fmin, fmax) = next(p for p in STAGE_PLAN if p[0] == stage)
        span_end = DEMO_AS_OF - timedelta(days=hi)
        if unassigned:
            created = DEMO_AS_OF - timedelta(days=rng.uniform(0.2, 5))
        else:
            start = START + timedelta(days=lo)
            created = start + (span_end - start) * rng.random()
        created = (
            self.at_work(created.date())
            if not unassigned
            else created.replace(second=0, microsecond=0)
        )
        created = min(created, DEMO_AS_OF - timedelta(hours=2))
        owner = "" if unassigned else rng.choice(self.reps)
        region = (
            next(reg for n, _, reg in REPS if n == owner) if owner else rng.choice(list(CITIES))
        )
        city, area = rng.choice(CITIES[region])
        business, industry = rng.choice(BUSINESSES)
        product = rng.choice(list(PRODUCTS))
        (lo_amt, hi_amt), needs = PRODUCTS[product]
        src = rng.choices(SOURCE.choices, weights=(25, 20, 15, 15, 15, 5))[0]
        row: Row = {
            "_stage": stage,
            "_city": city,
            "_business": business,
            "_fu": (fmin, fmax),
            "source": src.labels[self.lang],
            "customer": self.company(city, business),
            "contact": self.person(),
            "title": rng.choice(CONTACT_TITLES),
            "phone_or_email": self.phone(area),
            "region": region,
            "industry": industry,
            "product_line": product,
            "need": rng.choice(needs),
            "owner": owner,
            "created_at": created,
            "stage": STAGE.label(stage, self.lang),
        }
        if src.key == "trade_show" and self.lang is Lang.ZH_HANS and rng.random() < 0.5:
            row["source"] = rng.choice(("展会", "展会-工博会", "行业展会-自动化展"))
        row[EXTRA] = f"{row['customer'][:4]}项目群" if rng.random() < 0.3 else ""
        if unassigned:
            return row
        row["assigned_at"] = self.after(created, 0.3, 20)
        hours = rng.choices(((1, 24), (24, 30), (30, 72)), weights=(85, 10, 5))[0]
        first = self.after(row["assigned_at"], *hours)
        row["first_contact_at"] = first if first <= DEMO_AS_OF else None
        if row["first_contact_at"] is None:
            row["_fu"] = (0, 0)
        yes = rng.randint(*BANT_YES[stage])
        answers = [True] * yes + [False] * (4 - yes)
        rng.shuffle(answers)
        for name, answer in zip(
            ("budget", "authority", "need_fit", "timeline"), answers, strict=True
        ):
            row[name] = self.yes_no(answer)
        if rng.random() < 0.5:
            row["bant_class"] = BANT_CLASS.label(
                "A" if yes == 4 else "B" if yes >= 2 else "C", self.lang
            )
        amount = round(rng.uniform(lo_amt, hi_amt), -3)
        if stage != "lead" or rng.random() < 0.4:
            row["expected_amount"] = amount
            row["probability"] = PROBABILITY[stage]
            row["expected_close"] = (created + timedelta(days=rng.randint(60, 180))).date()
        end = DEMO_AS_OF
        if stage == "won":
            signed = created + timedelta(days=rng.randint(35, 160))
            row["_signed"] = min(signed, DEMO_AS_OF - timedelta(days=3)).date()
            row["expected_close"] = row["_signed"]
            end = datetime.combine(row["_signed"], datetime.min.time()) + timedelta(hours=12)
        elif stage == "lost":
            end = min(
                created + timedelta(days=rng.randint(20, 120)), DEMO_AS_OF - timedelta(days=1)
            )
            row["lost_reason"] = rng.choice(LOST_REASONS)
        row["_end"] = end
        if stage in ("proposal", "negotiation", "won") or (stage == "lost" and rng.random() < 0.5):
            due = (created + timedelta(days=rng.randint(20, 45))).date()
            row["proposal_due"] = due
            late = rng.random() < 0.1
            sub = self.at_work(
                due + timedelta(days=rng.randint(1, 3) if late else -rng.randint(0, 5))
            )
            if row["first_contact_at"] and row["first_contact_at"] < sub <= min(end, DEMO_AS_OF):
                row["proposal_submitted_at"] = sub
        return row

    def follow_ups(self, leads: list[Row]) -> list[Row]:
        rng, rows = self.rng, []
        methods = [c.key for c in METHOD.choices]
        for lead in leads:
            first = lead.get("first_contact_at")
            count = round(rng.randint(*lead["_fu"]) * self.fu_scale)
            if not first or not count:
                continue
            end = min(lead["_end"], DEMO_AS_OF)
            gap = max(1.0, (end - first).days / count)
            t = first
            for k in range(count):
                if k:
                    t = self.at_work((t + timedelta(days=gap * rng.uniform(0.5, 1.4))).date())
                if t > end or (k and t <= first):
                    break
                method = (
                    rng.choice(("phone", "wechat"))
                    if k == 0
                    else rng.choices(methods, weights=(35, 20, 10, 25, 10))[0]
                )
                row: Row = {
                    "date": t,
                    "lead_id": lead["lead_id"],
                    "method": METHOD.label(method, self.lang),
                    "counterpart": lead["contact"] if rng.random() < 0.8 else self.person(),
                    "content": rng.choice(CONTENTS[method]),
                    "feedback": rng.choice(FEEDBACKS),
                    "rep": lead["owner"],
                    "_lead": lead,
                }
                if rng.random() < 0.75:
                    row["next_step"] = rng.choice(NEXT_STEPS)
                    row["next_step_date"] = t.date() + timedelta(days=rng.randint(1, 14))
                if method in ("visit", "meeting") and rng.random() < 0.9:
                    sent = self.after(t, *rng.choices(((1, 40), (72, 120)), weights=(85, 15))[0])
                    if sent <= DEMO_AS_OF:
                        row["minutes_sent_at"] = sent
                if rng.random() < 0.05:
                    row[EXTRA] = "客户要求保密"
                rows.append(row)
            if rows and rows[-1]["_lead"] is lead:
                lead["summary"] = f"{rows[-1]['content']}；{rows[-1]['feedback'] or '待反馈'}"
        rows.sort(key=lambda r: (r["date"], r["lead_id"]))
        return rows

    def contracts(self, leads: list[Row]) -> list[Row]:
        rng, rows = self.rng, []
        won = [lead for lead in leads if lead["_stage"] == "won"]
        for lead in won:
            rows.append(
                self.contract(
                    lead["customer"],
                    lead["owner"],
                    lead["_signed"],
                    lead["expected_amount"],
                    lead["lead_id"],
                )
            )
        for lead in rng.sample(won, min(self.n_repeat, len(won))):
            signed = lead["_signed"] + timedelta(days=rng.randint(30, 200))
            if signed <= (DEMO_AS_OF - timedelta(days=3)).date():
                rows.append(
                    self.contract(
                        lead["customer"],
                        lead["owner"],
                        signed,
                        round(rng.uniform(50_000, 400_000), -3),
                        "",
                    )
                )
        rows.sort(key=lambda r: (r["signed_at"], r["customer"]))
        for i, row in enumerate(rows, 1):
            row["contract_id"] = f"HT{row['signed_at'].year}-{i:03d}"
        return rows

    def contract(self, customer: str, owner: str, signed: date, amount: float, lead_id: str) -> Row:
        rng = self.rng
        amount = round(amount * rng.uniform(0.9, 1.05), -2)
        today = DEMO_AS_OF.date()
        row: Row = {
            "lead_id": lead_id,
            "customer": customer,
            "owner": owner,
            "signed_at": signed,
            "amount": amount,
            EXTRA: Formula("={amount}*1.13", round(amount * 1.13, 2)),
            "delivery_due": signed + timedelta(days=rng.randint(30, 90)),
            "payment_terms_days": rng.choice((30, 30, 45, 60, 90, None)),
        }
        delivered = signed + timedelta(days=rng.randint(20, 80))
        if delivered <= today:
            row["delivered_at"] = delivered
            accepted = delivered + timedelta(days=rng.randint(3, 25))
            row["accepted_at"] = accepted if accepted <= today else None
            visit = self.at_work(delivered + timedelta(days=rng.choice((1, 2, 3, 5, 6, 9, 12))))
            row["first_visit_at"] = visit if visit <= DEMO_AS_OF else None
        return row

    def collections(self, contracts: list[Row]) -> list[Row]:
        rng, rows = self.rng, []
        today = DEMO_AS_OF.date()
        for c in contracts:
            n = rng.choices((1, 2, 3), weights=(3, 4, 3))[0]
            shares = {1: (1.0,), 2: rng.choice(((0.3, 0.7), (0.5, 0.5))), 3: (0.3, 0.6, 0.1)}[n]
            dates = [c["signed_at"] + timedelta(days=rng.randint(0, 7))]
            if n >= 2 and c.get("accepted_at"):
                dates.append(c["accepted_at"] + timedelta(days=rng.randint(0, 5)))
            if n == 3 and len(dates) == 2:
                dates.append(dates[1] + timedelta(days=rng.randint(90, 200)))
            terms = c["payment_terms_days"] or 30
            left = c["amount"]
            for k, invoiced in enumerate(dates):
                if invoiced > today:
                    break
                amt = left if k == len(shares) - 1 else round(c["amount"] * shares[k], 2)
                left = round(left - amt, 2)
                row: Row = {
                    "contract_id": c["contract_id"],
                    "invoiced_at": invoiced,
                    "invoice_amount": amt,
                    "due_date": invoiced + timedelta(days=terms),
                }
                paid = invoiced + timedelta(days=rng.randint(5, terms + 25))
                if paid <= today and rng.random() < (0.9 if row["due_date"] <= today else 0.4):
                    row["received_at"] = paid
                    row["received_amount"] = (
                        amt if rng.random() < 0.9 else round(amt * rng.uniform(0.5, 0.95), 2)
                    )
                rows.append(row)
        rows.sort(key=lambda r: (r["invoiced_at"], r["contract_id"]))
        for i, row in enumerate(rows, 1):
            row["invoice_no"] = f"FP{row['invoiced_at'].year}{i:05d}"
        return rows

    def tickets(self, contracts: list[Row]) -> list[Row]:
        rng, rows = self.rng, []
        today = DEMO_AS_OF.date()
        delivered = [
            c
            for c in contracts
            if c.get("delivered_at") and c["delivered_at"] <= today - timedelta(days=4)
        ]
        for _ in range(self.n_tickets):
            c = rng.choice(delivered)
            days = rng.randint(3, min(150, (today - c["delivered_at"]).days - 1))
            opened = self.at_work(c["delivered_at"] + timedelta(days=days))
            key = "general" if rng.random() < 0.7 else "complex"
            row: Row = {
                "customer": c["customer"],
                "contract_id": c["contract_id"],
                "opened_at": opened,
                "complexity": COMPLEXITY.label(key, self.lang),
            }
            if key == "general":
                done = self.after(opened, 1, 30)
            else:
                row["plan_at"] = plan = self.after(opened, 4, 60)
                done = self.after(plan, 24, 240)
                row["plan_at"] = plan if plan <= DEMO_AS_OF else None
            row["resolved_at"] = done if done <= DEMO_AS_OF else None
            rows.append(row)
        rows.sort(key=lambda r: r["opened_at"])
        for i, row in enumerate(rows, 1):
            row["ticket_id"] = f"TK{row['opened_at'].year}-{i:04d}"
        return rows

    def reps_and_targets(self) -> tuple[list[Row], list[Row]]:
        rng, reps, targets = self.rng, [], []
        for name, user, region in REPS:
            lead = self.by_region[region][0]
            reps.append(
                {
                    "name": name,
                    "team": f"{region}销售组",
                    "region": region,
                    "manager": "周建国" if name == lead else lead,
                    "email": f"{user}@hengtong-auto.cn",
                    "active": self.yes_no(True),
                }
            )
        for name, _, _ in REPS:
            base = rng.randrange(300_000, 800_001, 50_000)
            for month in range(1, 12):
                targets.append(
                    {
                        "rep": name,
                        "period": f"2026-{month:02d}",
                        "sales_target": float(base + rng.choice((0, 0, 50_000))),
                        "new_customers_target": rng.randint(1, 3),
                        "collection_target": 0.9,
                    }
                )
        return reps, targets

    # --- timeliness -------------------------------------------------------------------------
    def keep_promises(self, fus: list[Row]) -> None:
        """Most reps follow up by the day they promised, a few slip; some write the promised
        day into the next-step text (7月21日 …) instead of its own column; minutes mostly go
        out on time."""
        rng = self.sla_rng
        by_lead: dict[int, list[Row]] = {}
        for row in fus:
            by_lead.setdefault(id(row["_lead"]), []).append(row)
        for rows in by_lead.values():
            for row, following in zip(rows, [*rows[1:], None], strict=True):
                if "next_step" not in row:
                    continue
                day = row["date"].date()
                if following is not None:
                    then = following["date"].date()
                    slip = rng.random() < 0.06
                    promised = then - timedelta(
                        days=rng.randint(1, 4) if slip else -rng.randint(0, 3)
                    )
                    row["next_step_date"] = max(promised, day + timedelta(days=1))
                if rng.random() < 0.08:
                    promised = row.pop("next_step_date")
                    row["next_step"] = (
                        f"{promised.month}月{promised.day}日{row['next_step']}"
                        if self.lang is not Lang.EN
                        else f"{row['next_step']} by {promised.month}/{promised.day}"
                    )
        for row in fus:
            method = next(c.key for c in METHOD.choices if c.labels[self.lang] == row["method"])
            if method in ("visit", "meeting") and "minutes_sent_at" not in row:
                sent = row["date"] + timedelta(minutes=rng.randint(120, 1800))
                if rng.random() < 0.7 and sent <= DEMO_AS_OF:
                    row["minutes_sent_at"] = sent

    # --- planted mistakes and typing habits --------------------------------------------------
    def plant(self, t: dict[str, list[Row]]) -> list[tuple[str, str, str, Row]]:
        """Break exactly one rule in each of a few rows; returns (code, table, field, row)."""
        rng = self.rng
        leads, fus, contracts, cols = t["leads"], t["follow_ups"], t["contracts"], t["collections"]
        per_customer = Counter(r["customer"] for r in leads)
        shared = {name for name, n in per_customer.items() if n > 1}  # stays valid
        ok = [
            r
            for r in leads
            if r["_stage"] not in ("won",)
            and r.get("first_contact_at")
            and r["customer"] not in shared
            and r["assigned_at"] > r["created_at"]
        ]
        dup, order, bad_date, source, bant = rng.sample(ok, 5)
        copy = dict(dup)
        leads.insert(min(len(leads), leads.index(dup) + rng.randint(3, 15)), copy)
        order["assigned_at"] = self.after(order["first_contact_at"], 1, 5)
        bad_date["created_at"] = Text("2026-13-45")
        source["source"] = "抖音直播"
        for name, answer in zip(
            ("budget", "authority", "need_fit", "timeline"),
            (True, False, False, False),
            strict=True,
        ):
            bant[name] = self.yes_no(answer)
        bant["bant_class"] = BANT_CLASS.label("A", self.lang)
        planted_leads = {id(r) for r in (dup, copy, order, bad_date, source, bant)}
        fu_unknown, fu_rep = rng.sample(
            [r for r in fus if id(r["_lead"]) not in planted_leads and r["date"] > START], 2
        )
        fu_unknown["lead_id"] = "L2026-9999"
        fu_rep["rep"] = UNKNOWN_REP
        ticketed = {r["contract_id"] for r in t["tickets"]}
        negative = rng.choice([c for c in contracts if c["contract_id"] not in ticketed])
        negative["amount"] = -50000.0
        negative[EXTRA] = Formula("={amount}*1.13", -56500.0)
        cols[:] = [r for r in cols if r["contract_id"] != negative["contract_id"]]
        early, na = rng.sample([r for r in cols if r.get("received_at")], 2)
        early["received_at"] = early["invoiced_at"] - timedelta(days=rng.randint(2, 10))
        na["received_amount"] = Formula("=NA()", "#N/A")
        no_customer = rng.choice(t["tickets"])
        no_customer["customer"] = ""
        undated = self.sla_rng.choice(
            [r for r in fus if r.get("next_step") and r not in (fu_unknown, fu_rep)]
        )
        undated.pop("next_step_date", None)
        undated["next_step"] = (
            "下周三再约技术交流" if self.lang is not Lang.EN else "Call again next Wednesday"
        )
        return [
            ("duplicate-id", "leads", "lead_id", copy),
            ("impossible-order", "leads", "first_contact_at", order),
            ("invalid-date", "leads", "created_at", bad_date),
            ("invalid-choice", "leads", "source", source),
            ("bant-mismatch", "leads", "bant_class", bant),
            ("unknown-reference", "follow_ups", "lead_id", fu_unknown),
            ("unknown-rep", "follow_ups", "rep", fu_rep),
            ("negative-amount", "contracts", "amount", negative),
            ("impossible-order", "collections", "received_at", early),
            ("required", "tickets", "customer", no_customer),
            ("excel-error", "collections", "received_amount", na),
            ("next-step-date-unreadable", "follow_ups", "next_step", undated),
            *(("duplicate-customer", "leads", "customer", r) for r in self.split_customer),
        ]

    def type_as_text(self, t: dict[str, list[Row]], avoid: set[int]) -> None:
        """A few dozen dates typed as text in other accepted forms, as people do."""
        plan: list[tuple[str, str, Callable[[Any], Text], int]] = [
            ("leads", "created_at", _text_day, 33),
            ("follow_ups", "date", _text_datetime, 300),
            ("contracts", "signed_at", lambda d: Text(f"{d.year}/{d.month}/{d.day}"), 24),
            ("collections", "received_at", _text_day, 48),
        ]
        for table, name, form, per in plan:
            rows = [r for r in t[table] if id(r) not in avoid and isinstance(r.get(name), date)]
            for row in self.rng.sample(rows, max(2, len(t[table]) // per)):
                row[name] = form(row[name])


def _columns(table_name: str, fields: tuple[Field, ...]) -> list[Field | None]:
    """The tab's columns: schema fields in order, with the users' own column (None) inserted."""
    extra = EXTRA_COLUMNS.get(table_name)
    out: list[Field | None] = []
    for f in fields:
        out.append(f)
        if extra and extra[0] == f.name:
            out.append(None)
    return out


def build_demo_workbook(
    path: str | Path, *, lang: Lang = Lang.ZH_HANS, seed: int = 2026, size: str = "standard"
) -> DemoManifest:
    """Write the demo workbook to `path`; the manifest lists the issues a sync must report."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
    lang, path = Lang(lang), Path(path)
    gen = _Gen(lang, seed, size)
    leads = gen.leads()
    contracts = gen.contracts(leads)
    t = {"leads": leads, "follow_ups": gen.follow_ups(leads), "contracts": contracts}
    t["collections"] = gen.collections(contracts)
    t["tickets"] = gen.tickets(contracts)
    t["reps"], t["targets"] = gen.reps_and_targets()
    gen.keep_promises(t["follow_ups"])
    planted = gen.plant(t)
    avoid = {id(row) for *_, row in planted}
    avoid |= {id(r) for r in leads if r["lead_id"] == planted[0][3]["lead_id"]}
    gen.type_as_text(t, avoid)

    convert: Callable[[str], str] = (
        opencc.OpenCC("s2tw").convert if lang is Lang.ZH_HANT else (lambda s: s)
    )
    with replacing(path) as fh, new_workbook(fh, title=DEMO_TITLE) as (workbook, styles):
        first_data_row: dict[str, int] = {}  # 1-based spreadsheet row of each tab's first data row
        for table in SCHEMA.data_tables:
            ws = workbook.add_worksheet(table.title(lang))
            columns = _columns(table.name, table.fields)
            header_row = 2 if table.name == "leads" else 0
            if table.name == "leads":
                ws.write_string(0, 0, LEADS_TITLE[lang], styles.title)
            rows = t.get(table.name, [])
            heads, widths, formats = table_layout(table, lang, styles)
            by_field = {
                f.name: (h, w, fm)
                for f, h, w, fm in zip(table.fields, heads, widths, formats, strict=True)
            }
            layout = [
                by_field[f.name] if f else ((EXTRA_COLUMNS[table.name][1][lang], False), 16.0, None)
                for f in columns
            ]
            last = header_row + max(len(rows), len(SETTING_KEYS) if table.name == "settings" else 0)
            write_header(
                ws,
                header_row,
                [x[0] for x in layout],
                styles,
                [x[1] for x in layout],
                [x[2] for x in layout],
                last_row=max(last, header_row + 1),
            )
            first_data_row[table.name] = header_row + 2
            if table.name == "settings":
                written = write_settings_rows(ws, header_row + 1, lang, styles)
                sections = settings_sections(lang)
                sections[-1] = assignment_rule_rows(lang)  # the demo team's own rules
                write_settings_sections(ws, header_row + 1 + written, lang, styles, sections)
                continue
            add_validations(ws, header_row + 1, max(VALIDATION_LAST_ROW - 1, last), columns, lang)
            refs = {f.name: c for c, f in enumerate(columns) if f}
            for i, row in enumerate(rows):
                r = header_row + 1 + i
                for c, f in enumerate(columns):
                    value = row.get(f.name if f else EXTRA)
                    _put(ws, r, c, value, f, styles, convert, refs)
        # The owned tabs as the template has them, and its Dashboard, whose charts read them: the
        # sync that follows fills the tabs and the charts follow.
        for title, grid in extras.owned_tab_grids(lang).items():
            extras.write_owned_tab(workbook.add_worksheet(title), grid, styles.owned_header)
        extras.write_dashboard(
            workbook, workbook.add_worksheet(extras.DASHBOARD[lang]), lang, styles
        )

    def row_of(table: str, target: Row) -> int:
        index = next(i for i, r in enumerate(t[table]) if r is target)
        return first_data_row[table] + index

    expected = tuple(
        ExpectedIssue(code, table, name, row_of(table, row)) for code, table, name, row in planted
    )
    counts = {table.name: len(t.get(table.name, [])) for table in SCHEMA.data_tables}
    counts["settings"] = len(SETTING_KEYS)
    return DemoManifest(path, lang, DEMO_AS_OF, expected, counts)


def assignment_rule_rows(lang: Lang) -> list[list[Any]]:
    """The demo team's assignment rules: one per region, each with another method."""
    method = {
        key: ASSIGN_METHOD.label(key, lang) for key in ("round_robin", "fewest_open", "fixed")
    }
    header = [f.headers[lang] for f in ASSIGNMENT_RULES.fields]
    note = {
        Lang.ZH_HANS: (
            "华东新线索在组内轮流分配",
            "华南分给在跟线索最少的人",
            "华北由组长统一跟进",
        ),
        Lang.ZH_HANT: (
            "華東新線索在組內輪流分配",
            "華南分給在跟線索最少的人",
            "華北由組長統一跟進",
        ),
        Lang.EN: ("East: take turns", "South: fewest open leads", "North: the team lead"),
    }[lang]
    return [
        header,
        ["华东", None, None, None, "华东销售组", method["round_robin"], note[0]],
        ["华南", None, None, None, "华南销售组", method["fewest_open"], note[1]],
        ["华北", None, None, None, "赵国栋", method["fixed"], note[2]],
    ]


def _put(
    ws: Any,
    r: int,
    c: int,
    value: Any,
    f: Field | None,
    styles: Any,
    convert: Callable[[str], str],
    refs: dict[str, int],
) -> None:
    fmt = styles.for_field(f) if f is not None else None
    if value is None or value == "":
        return
    if isinstance(value, Text):
        ws.write_string(r, c, value.text)
    elif isinstance(value, Formula):
        cells = {name: xl_rowcol_to_cell(r, col) for name, col in refs.items()}
        ws.write_formula(r, c, value.expr.format(**cells), fmt, value.value)
    elif isinstance(value, date):  # datetime too
        ws.write_datetime(r, c, value, fmt or styles.number("yyyy-mm-dd"))
    elif isinstance(value, int | float):
        ws.write_number(r, c, value, fmt)
    elif f is None or f.kind is Kind.TEXT:
        ws.write_string(r, c, convert(str(value)))
    else:
        ws.write_string(r, c, str(value))
