"""Native formulas of the templates: what a spreadsheet computes alone, without Python.

They live in helper columns marked ƒ, to the right of each data tab's schema columns, never in
the ⚙ columns the sync owns: the sync leaves formula cells of its columns alone (and reports
`formula-in-owned-column`), so a formula there would freeze the column for the sync. Helper
headers match no field, so the sync ignores them like any column of the users' own.

The formulas follow the sync's rules where a spreadsheet can: 24 h for first contact, 2
working days (WORKDAY over the Holidays list) for meeting minutes, completion and collection
rates per rep and period. What they cannot do is documented in the Instructions tab: makeup
working days (调休) are not expressible in WORKDAY, names are matched exactly (the sync folds
width, case and script), and percentages typed as "85" are not 85 %.

>>> [h.key for h in HELPERS["follow_ups"]]
['minutes_due', 'minutes_status']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from xlsxwriter.utility import xl_col_to_name

from sync.core.model import sheet_ref
from sync.core.schema import (
    COMPLEXITY,
    METHOD,
    SCHEMA,
    YES_NO,
    Kind,
    Lang,
    labels,
)
from sync.core.sla import STATUS_LABELS, Status

HOLIDAYS_NAME = "Holidays"  # the defined name WORKDAY reads: the Holidays tab's date column
MARK = "ƒ "  # on helper headers: a formula column the template keeps, the sync ignores


@dataclass(frozen=True)
class Helper:
    """A formula column. `formula` names cells as {field} or {key} (same row, same tab),
    whole columns of another tab as {table.field} / {table.key}, and words as {$word}."""

    key: str
    headers: dict[Lang, str]
    formula: str
    kind: Kind
    status: bool = False  # holds SLA status words: gets the red / amber formats

    def header(self, lang: Lang) -> str:
        return MARK + self.headers[lang]


_STATUS = (
    '=IF({due}="","",IF({done}="",IF({now}>{due},"{$overdue}","{$open}"),'
    'IF({done_cmp}<={due},"{$met}","{$breached}")))'
)


def _status(due: str, done: str, *, by_day: bool) -> str:
    now, done_cmp = ("TODAY()", f"INT({{{done}}})") if by_day else ("NOW()", f"{{{done}}}")
    return (
        _STATUS.replace("{due}", f"{{{due}}}")
        .replace("{done}", f"{{{done}}}")
        .replace("{now}", now)
        .replace("{done_cmp}", done_cmp)
    )


# A Targets period: a date cell (its month), "2026-07" or "2026Q3".
_PERIOD_START = (
    '=IF({period}="","",IF(ISNUMBER({period}),DATE(YEAR({period}),MONTH({period}),1),'
    'IF(ISNUMBER(SEARCH("Q",{period})),'
    "DATE(VALUE(LEFT({period},4)),3*VALUE(RIGHT({period},1))-2,1),"
    "DATE(VALUE(LEFT({period},4)),VALUE(MID({period},6,2)),1))))"
)
_IN_PERIOD = '{rep},{due},">="&{period_start},{due},"<"&{period_end}'

HELPERS: dict[str, tuple[Helper, ...]] = {
    "leads": (
        Helper(
            "bant_formula",
            labels("筛选结果", "篩選結果", "BANT class"),
            '=IF(COUNTA({budget}:{timeline})<4,"",IF(COUNTIF({budget}:{timeline},"{$yes}")>=4,'
            '"A",IF(COUNTIF({budget}:{timeline},"{$yes}")>=2,"B","C")))',
            Kind.TEXT,
        ),
        Helper(
            "first_contact_due",
            labels("首次跟进截止", "首次跟進截止", "First contact due"),
            '=IF({assigned_at}="","",{assigned_at}+1)',
            Kind.DATETIME,
        ),
        Helper(
            "first_contact_status",
            labels("首次跟进时效", "首次跟進時效", "First contact SLA"),
            _status("first_contact_due", "first_contact_at", by_day=False),
            Kind.TEXT,
            status=True,
        ),
    ),
    "follow_ups": (
        Helper(
            "minutes_due",
            labels("纪要截止", "紀要截止", "Minutes due"),
            '=IF(AND({date}<>"",OR({method}="{$visit}",{method}="{$meeting}")),'
            f'WORKDAY(INT({{date}}),2,{HOLIDAYS_NAME}),"")',
            Kind.DATE,
        ),
        Helper(
            "minutes_status",
            labels("纪要时效", "紀要時效", "Minutes SLA"),
            _status("minutes_due", "minutes_sent_at", by_day=True),
            Kind.TEXT,
            status=True,
        ),
    ),
    "contracts": (
        Helper(
            "visit_due",
            labels("回访截止", "回訪截止", "Visit due"),
            '=IF({delivered_at}="","",INT({delivered_at})+7)',
            Kind.DATE,
        ),
        Helper(
            "payment_due",
            labels("付款到期", "付款到期", "Payment due"),
            '=IF({accepted_at}="","",INT({accepted_at})'
            '+IF({payment_terms_days}="",30,{payment_terms_days}))',
            Kind.DATE,
        ),
    ),
    "collections": (
        Helper(
            "owner",
            labels("负责人", "負責人", "Owner"),
            '=IF({contract_id}="","",'
            'IFERROR(INDEX({contracts.owner},MATCH({contract_id},{contracts.contract_id},0))&"",'
            '""))',
            Kind.TEXT,
        ),
        Helper(
            "outstanding",
            labels("未回款金额", "未回款金額", "Outstanding"),
            '=IF({invoice_amount}="","",{invoice_amount}-N({received_amount}))',
            Kind.AMOUNT,
        ),
    ),
    "tickets": (
        Helper(
            "response_due",
            labels("响应截止", "響應截止", "Response due"),
            '=IF({opened_at}="","",{opened_at}+IF({complexity}="{$complex}",2,1))',
            Kind.DATETIME,
        ),
    ),
    "targets": (
        Helper("period_start", labels("开始", "開始", "From"), _PERIOD_START, Kind.DATE),
        Helper(
            "period_end",
            labels("结束", "結束", "Until"),
            '=IF({period_start}="","",EDATE({period_start},'
            'IF(ISNUMBER(SEARCH("Q",{period})),3,1)))',
            Kind.DATE,
        ),
        Helper(
            "actual_sales",
            labels("实际销售额", "實際銷售額", "Actual sales"),
            '=IF(OR({rep}="",{period_start}=""),"",SUMIFS({contracts.amount},'
            + _IN_PERIOD.replace("{rep}", "{contracts.owner},{rep}").replace(
                "{due}", "{contracts.signed_at}"
            )
            + "))",
            Kind.AMOUNT,
        ),
        Helper(
            "completion_rate",
            labels("完成率", "完成率", "Completion"),
            '=IF(OR({actual_sales}="",N({sales_target})=0),"",{actual_sales}/{sales_target})',
            Kind.PERCENT,
        ),
        Helper(
            "invoiced_due",
            labels("到期发票金额", "到期發票金額", "Invoiced (due)"),
            '=IF(OR({rep}="",{period_start}=""),"",SUMIFS({collections.invoice_amount},'
            + _IN_PERIOD.replace("{rep}", "{collections.owner},{rep}").replace(
                "{due}", "{collections.due_date}"
            )
            + "))",
            Kind.AMOUNT,
        ),
        Helper(
            "received",
            labels("已回款", "已回款", "Received"),
            '=IF(OR({rep}="",{period_start}=""),"",SUMIFS({collections.received_amount},'
            + _IN_PERIOD.replace("{rep}", "{collections.owner},{rep}").replace(
                "{due}", "{collections.due_date}"
            )
            + "))",
            Kind.AMOUNT,
        ),
        Helper(
            "collection_rate",
            labels("回款率", "回款率", "Collection rate"),
            '=IF(N({invoiced_due})=0,"",{received}/{invoiced_due})',
            Kind.PERCENT,
        ),
    ),
}


def words(lang: Lang) -> dict[str, str]:
    """The localized words formulas compare with or return."""
    return {
        "yes": YES_NO.label("yes", lang),
        "visit": METHOD.label("visit", lang),
        "meeting": METHOD.label("meeting", lang),
        "complex": COMPLEXITY.label("complex", lang),
        **{s.value: STATUS_LABELS[s][lang] for s in (Status.MET, Status.BREACHED, Status.OPEN)},
        "overdue": STATUS_LABELS[Status.OVERDUE][lang],
    }


def column_index(table_name: str, name: str) -> int:
    """0-based column of a field or helper in the template's layout: schema fields first."""
    table = SCHEMA.table(table_name)
    if table.has(name):
        return [f.name for f in table.fields].index(name)
    keys = [h.key for h in HELPERS[table_name]]
    return len(table.fields) + keys.index(name)


_TOKEN = re.compile(r"\{(\$?)([a-z_]+)(?:\.([a-z_]+))?\}")


def render(formula: str, table_name: str, row: int, lang: Lang) -> str:
    """The formula of a helper in 0-based spreadsheet `row` of `table_name`'s tab.

    >>> render("={assigned_at}+1", "leads", 1, Lang.EN)
    '=R2+1'
    """
    said = words(lang)

    def sub(m: re.Match[str]) -> str:
        word, first, second = m.groups()
        if word:
            return said[first]
        if second is None:
            return xl_col_to_name(column_index(table_name, first)) + str(row + 1)
        col = xl_col_to_name(column_index(first, second))
        return f"{sheet_ref(SCHEMA.table(first).title(lang))}!${col}:${col}"

    return _TOKEN.sub(sub, formula)


def status_fields(table_name: str) -> list[str]:
    """The ⚙ SLA status columns of a table (they hold met / breached / open / overdue)."""
    from sync.core.sla import OUTPUTS

    rules = {"first_contact": "leads", "minutes": "follow_ups", "next_step": "follow_ups"}
    rules |= {"post_delivery_visit": "contracts", "ticket_general": "tickets"}
    columns = [OUTPUTS[rule][1] for rule, table in rules.items() if table == table_name]
    return [c for c in columns if c is not None]
