"""SLA rules as data: what a rule measures (from a date field to another, within a limit, in a
unit, for the rows matching a condition), the defaults of DESIGN.md §4, and the statuses a
row can have with their labels in every language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from enum import StrEnum
from typing import Any

import numpy as np

from ..columns import each_once
from ..schema import SCHEMA, Lang, Table
from ..text import fold


class Unit(StrEnum):
    HOURS = "hours"  # clock hours from the start
    DAYS = "days"  # by the end of the Nth calendar day after the start day
    WORKDAYS = "workdays"  # by the end of the Nth working day after the start day
    WORKHOURS = "workhours"  # N hours counted inside business hours on working days


class Status(StrEnum):
    MET = "met"  # done by the due time
    BREACHED = "breached"  # done after it
    OPEN = "open"  # not done, not yet due
    OVERDUE = "overdue"  # not done, past due
    NA = "n/a"  # no start: nothing to measure

    @property
    def rank(self) -> int:
        """Worse is higher: a later done time or a later 'now' never lowers it."""
        return {"n/a": 0, "met": 1, "open": 1, "breached": 2, "overdue": 2}[self.value]


def by_lang(zh_hans: str, zh_hant: str, en: str) -> dict[Lang, str]:
    return {Lang.ZH_HANS: zh_hans, Lang.ZH_HANT: zh_hant, Lang.EN: en}


STATUS_LABELS: dict[Status, dict[Lang, str]] = {
    Status.MET: by_lang("达标", "達標", "met"),
    Status.BREACHED: by_lang("超时", "逾時", "breached"),
    Status.OPEN: by_lang("进行中", "進行中", "open"),
    Status.OVERDUE: by_lang("已逾期", "已逾期", "overdue"),
    Status.NA: by_lang("", "", ""),  # nothing to say: the cell stays blank
}

# Ends that are not a field of the row.
NEXT_FOLLOW_UP = "next_follow_up"  # a later follow-up on the same lead
FULL_COLLECTION = "full_collection"  # received amounts reach the contract amount
SPECIAL_ENDS: dict[str, tuple[str, dict[Lang, str], tuple[str, ...]]] = {
    NEXT_FOLLOW_UP: (
        "follow_ups",
        by_lang("下一次跟进", "下一次跟進", "next follow-up"),
        ("下次跟进", "后续跟进", "next follow up", "later follow-up"),
    ),
    FULL_COLLECTION: (
        "contracts",
        by_lang("全额回款", "全額回款", "full collection"),
        ("回款完成", "全部回款", "fully collected", "paid in full"),
    ),
}
DEFAULT_PAYMENT_TERMS = 30  # days, when a contract's 付款账期 is blank
CLOSED_STAGES = frozenset({"won", "lost"})


@dataclass(frozen=True, slots=True)
class Condition:
    """`field` (=, ≠ or in) `values`; values are choice keys for enumerations, else folded."""

    field: str
    values: frozenset[str]
    negate: bool = False
    text: dict[Lang, str] = dataclass_field(default_factory=dict, compare=False)

    def matches(self, value: Any) -> bool:
        if isinstance(value, bool):
            key = "yes" if value else "no"
        elif value is None:
            key = ""
        else:
            key = value if isinstance(value, str) and value in self.values else fold(str(value))
        return (key in self.values) != self.negate

    def matches_column(self, values: Sequence[Any]) -> np.ndarray:
        """`matches` of every value, worked out once per distinct value (`columns.each_once`)."""
        return np.fromiter(each_once(values, self.matches), dtype=bool, count=len(values))


@dataclass(frozen=True, slots=True)
class SlaRule:
    id: str
    table: str
    start: str  # a date/datetime field of `table`
    end: str  # a date/datetime field, or NEXT_FOLLOW_UP / FULL_COLLECTION
    limit: float | None  # None: the row's `limit_field`
    unit: Unit
    labels: dict[Lang, str]
    limit_field: str | None = None
    condition: Condition | None = None
    enabled: bool = True

    def label(self, lang: Lang) -> str:
        return self.labels.get(lang) or self.id


def _cond(name: str, keys: tuple[str, ...], negate: bool, table: Table) -> Condition:
    f = table.field(name)
    assert f.choices is not None
    sep = {Lang.ZH_HANS: "/", Lang.ZH_HANT: "/", Lang.EN: "/"}
    op = "≠" if negate else "="
    text = {
        lang: f.headers[lang] + op + sep[lang].join(f.choices.label(k, lang) for k in keys)
        for lang in Lang
    }
    return Condition(name, frozenset(keys), negate, text)


_T = SCHEMA.table
DEFAULT_RULES: tuple[SlaRule, ...] = (
    SlaRule(
        "first_contact",
        "leads",
        "assigned_at",
        "first_contact_at",
        24,
        Unit.HOURS,
        by_lang("首次跟进", "首次跟進", "First contact"),
    ),
    SlaRule(
        "minutes",
        "follow_ups",
        "date",
        "minutes_sent_at",
        2,
        Unit.WORKDAYS,
        by_lang("会议纪要", "會議紀要", "Meeting minutes"),
        condition=_cond("method", ("visit", "meeting"), False, _T("follow_ups")),
    ),
    SlaRule(
        "proposal",
        "leads",
        "proposal_due",
        "proposal_submitted_at",
        0,
        Unit.DAYS,
        by_lang("方案提交", "方案提交", "Proposal"),
    ),
    SlaRule(
        "next_step",
        "follow_ups",
        "next_step_date",
        NEXT_FOLLOW_UP,
        0,
        Unit.DAYS,
        by_lang("下一步跟进", "下一步跟進", "Next step"),
    ),
    SlaRule(
        "post_delivery_visit",
        "contracts",
        "delivered_at",
        "first_visit_at",
        7,
        Unit.DAYS,
        by_lang("交付后回访", "交付後回訪", "Post-delivery visit"),
    ),
    SlaRule(
        "ticket_general",
        "tickets",
        "opened_at",
        "resolved_at",
        24,
        Unit.HOURS,
        by_lang("一般问题解决", "一般問題解決", "General ticket"),
        condition=_cond("complexity", ("complex",), True, _T("tickets")),
    ),
    SlaRule(
        "ticket_complex",
        "tickets",
        "opened_at",
        "plan_at",
        48,
        Unit.HOURS,
        by_lang("复杂问题方案", "複雜問題方案", "Complex ticket plan"),
        condition=_cond("complexity", ("complex",), False, _T("tickets")),
    ),
    SlaRule(
        "payment",
        "contracts",
        "accepted_at",
        FULL_COLLECTION,
        None,
        Unit.DAYS,
        by_lang("回款", "回款", "Payment"),
        limit_field="payment_terms_days",
    ),
)

# Owned columns a rule writes: (due column, status column), either may be None.
OUTPUTS: dict[str, tuple[str | None, str | None]] = {
    "first_contact": ("first_contact_due", "first_contact_sla"),
    "minutes": (None, "minutes_sla"),
    "next_step": (None, "next_step_status"),
    "post_delivery_visit": (None, "post_delivery_visit_sla"),
    "ticket_general": (None, "response_sla"),
    "ticket_complex": (None, "response_sla"),
    "payment": ("payment_due", None),
}
