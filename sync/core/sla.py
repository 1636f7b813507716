"""SLA rules as data, evaluated on every row against the working-day calendar.

A rule says: from this date field to that one, within this limit, in this unit, for the rows
matching a condition. The defaults are DESIGN.md §4; the Settings tab's SLA rules table
overrides a default by its id (or label) and can add rules. `evaluate` gives one row's due time
and status; `flag_sla` runs every rule over the typed tables and returns the owned column
values (due times, localized statuses, follow-up counts …) and the issues (breaches, overdue
rows, estimated calendars, invalid rule rows). Nothing raises on a bad row.

>>> from sync.core.calendar import BusinessCalendar
>>> cal = BusinessCalendar("CN")
>>> ev = evaluate(datetime(2026, 2, 12, 15), None, 2, Unit.WORKDAYS, datetime(2026, 2, 20), cal)
>>> ev.due, ev.status.value   # Thu → Fri 13th, Sat 14th (a makeup working day)
(datetime.date(2026, 2, 14), 'overdue')
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from dataclasses import field as dataclass_field
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from .calendar import BusinessCalendar
from .columns import as_datetime, day_of, each_once, is_none, moments, objects
from .headers import find_table_by_name
from .issues import CODES, Issue, display_value, make_issue
from .parse import match_choice, parse_number_text, render_text
from .schema import SCHEMA, SLA_UNIT, YES_NO, Choices, Kind, Lang, Table
from .tables import TableData
from .text import fold

Computed = dict[str, dict[str, dict[int, Any]]]


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


def _l(zh_hans: str, zh_hant: str, en: str) -> dict[Lang, str]:
    return {Lang.ZH_HANS: zh_hans, Lang.ZH_HANT: zh_hant, Lang.EN: en}


STATUS_LABELS: dict[Status, dict[Lang, str]] = {
    Status.MET: _l("达标", "達標", "met"),
    Status.BREACHED: _l("超时", "逾時", "breached"),
    Status.OPEN: _l("进行中", "進行中", "open"),
    Status.OVERDUE: _l("已逾期", "已逾期", "overdue"),
    Status.NA: _l("", "", ""),  # nothing to say: the cell stays blank
}

# Ends that are not a field of the row.
NEXT_FOLLOW_UP = "next_follow_up"  # a later follow-up on the same lead
FULL_COLLECTION = "full_collection"  # received amounts reach the contract amount
SPECIAL_ENDS: dict[str, tuple[str, dict[Lang, str], tuple[str, ...]]] = {
    NEXT_FOLLOW_UP: (
        "follow_ups",
        _l("下一次跟进", "下一次跟進", "next follow-up"),
        ("下次跟进", "后续跟进", "next follow up", "later follow-up"),
    ),
    FULL_COLLECTION: (
        "contracts",
        _l("全额回款", "全額回款", "full collection"),
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
        _l("首次跟进", "首次跟進", "First contact"),
    ),
    SlaRule(
        "minutes",
        "follow_ups",
        "date",
        "minutes_sent_at",
        2,
        Unit.WORKDAYS,
        _l("会议纪要", "會議紀要", "Meeting minutes"),
        condition=_cond("method", ("visit", "meeting"), False, _T("follow_ups")),
    ),
    SlaRule(
        "proposal",
        "leads",
        "proposal_due",
        "proposal_submitted_at",
        0,
        Unit.DAYS,
        _l("方案提交", "方案提交", "Proposal"),
    ),
    SlaRule(
        "next_step",
        "follow_ups",
        "next_step_date",
        NEXT_FOLLOW_UP,
        0,
        Unit.DAYS,
        _l("下一步跟进", "下一步跟進", "Next step"),
    ),
    SlaRule(
        "post_delivery_visit",
        "contracts",
        "delivered_at",
        "first_visit_at",
        7,
        Unit.DAYS,
        _l("交付后回访", "交付後回訪", "Post-delivery visit"),
    ),
    SlaRule(
        "ticket_general",
        "tickets",
        "opened_at",
        "resolved_at",
        24,
        Unit.HOURS,
        _l("一般问题解决", "一般問題解決", "General ticket"),
        condition=_cond("complexity", ("complex",), True, _T("tickets")),
    ),
    SlaRule(
        "ticket_complex",
        "tickets",
        "opened_at",
        "plan_at",
        48,
        Unit.HOURS,
        _l("复杂问题方案", "複雜問題方案", "Complex ticket plan"),
        condition=_cond("complexity", ("complex",), False, _T("tickets")),
    ),
    SlaRule(
        "payment",
        "contracts",
        "accepted_at",
        FULL_COLLECTION,
        None,
        Unit.DAYS,
        _l("回款", "回款", "Payment"),
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


# --- one row ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evaluation:
    due: date | datetime | None  # a date: by the end of that day
    status: Status
    late_by: timedelta | None = None  # how late (breached, overdue)
    estimated_year: int | None = None  # the due time rests on an estimated calendar year


_NA = Evaluation(None, Status.NA)


def due_time(
    start: date | datetime, limit: float, unit: Unit | str, calendar: BusinessCalendar
) -> date | datetime:
    """When a row started at `start` is due: a datetime for hour units, a whole day (by its
    end) for day units. A start typed without a time counts from that day's midnight."""
    unit = Unit(unit)
    if unit is Unit.HOURS:
        return _to_minute(as_datetime(start) + timedelta(hours=float(limit)))
    if unit is Unit.WORKHOURS:
        return _to_minute(calendar.add_workhours(as_datetime(start), float(limit)))
    day = start.date() if isinstance(start, datetime) else start
    if unit is Unit.DAYS:
        return day + timedelta(days=int(limit))
    return calendar.add_workdays(day, int(limit))


def evaluate(
    start: date | datetime | None,
    done: date | datetime | None,
    limit: float,
    unit: Unit | str,
    as_of: datetime,
    calendar: BusinessCalendar,
) -> Evaluation:
    """Due time, status and lateness of one row. A `done` typed without a time (a date, or a
    midnight) compares by day, the way people mean it."""
    if start is None:
        return _NA
    unit = Unit(unit)
    try:
        due = due_time(start, limit, unit, calendar)
    except (OverflowError, ValueError):
        return _NA
    estimated = None
    if unit in (Unit.WORKDAYS, Unit.WORKHOURS):
        estimated = calendar.estimated_year(day_of(start), day_of(due))
    whole_day = not isinstance(due, datetime)
    if done is not None:
        if whole_day or _is_day_only(done):
            late_days = (day_of(done) - day_of(due)).days
            late = timedelta(days=late_days) if late_days > 0 else None
        else:
            gap = as_datetime(done) - due  # type: ignore[operator]
            late = gap if gap > timedelta(0) else None
        status = Status.BREACHED if late else Status.MET
        return Evaluation(due, status, late, estimated)
    if whole_day:
        late_days = (as_of.date() - due).days
        late = timedelta(days=late_days) if late_days > 0 else None
    else:
        gap = as_of - due  # type: ignore[operator]
        late = gap if gap > timedelta(0) else None
    return Evaluation(due, Status.OVERDUE if late else Status.OPEN, late, estimated)


def _is_day_only(value: date) -> bool:
    return not isinstance(value, datetime) or (
        value.hour == value.minute == value.second == value.microsecond == 0
    )


def _to_minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


# --- whole columns ----------------------------------------------------------------------------

_DAY_US = 86_400_000_000
_MINUTE_US = 60_000_000
_EPOCH = datetime(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_MIN_US = (datetime.min - _EPOCH) // timedelta(microseconds=1)
_MAX_US = (datetime.max - _EPOCH) // timedelta(microseconds=1)
_MAX_ORDINAL = date.max.toordinal()
_NAT = np.iinfo(np.int64).min  # NaT as microseconds
# Status codes of `_judge`, indices into _STATUSES.
_NA_CODE, _MET_CODE, _BREACHED_CODE, _OPEN_CODE, _OVERDUE_CODE = range(5)
_STATUSES = (Status.NA, Status.MET, Status.BREACHED, Status.OPEN, Status.OVERDUE)


@dataclass(slots=True)
class Evaluations:
    """`evaluate` of many rows, column-wise: `due[k]`, `status[k]` … of row k."""

    due: list[date | datetime | None]
    status: list[Status]
    late_by: list[timedelta | None]
    estimated_year: list[int | None]

    def __len__(self) -> int:
        return len(self.status)


@dataclass(slots=True)
class _Judged:
    """`evaluate` of many rows as arrays: `status` codes (indices into `_STATUSES`), `due`
    (datetime64[D] for day units, datetime64[us] to the minute for hour units, NaT where
    n/a), `late_by` (timedelta64[us], NaT where on time) and `estimated` year (0: official)."""

    status: np.ndarray
    due: np.ndarray
    late_by: np.ndarray
    estimated: np.ndarray

    def evaluations(self) -> Evaluations:
        """The same, as Python values."""
        return Evaluations(
            self.due.tolist(),
            [_STATUSES[c] for c in self.status.tolist()],
            self.late_by.tolist(),
            [year or None for year in self.estimated.tolist()],
        )


def evaluate_many(
    starts: Sequence[date | datetime | None],
    dones: Sequence[date | datetime | None],
    limits: Sequence[float],
    unit: Unit | str,
    as_of: datetime,
    calendar: BusinessCalendar,
) -> Evaluations:
    """`evaluate` of every row at once (see `_judge`). Same results, row for row.

    >>> cal = BusinessCalendar("CN")
    >>> ev = evaluate_many([date(2026, 2, 12)], [None], [2], "workdays", datetime(2026, 2, 20), cal)
    >>> ev.due, ev.status
    ([datetime.date(2026, 2, 14)], [<Status.OVERDUE: 'overdue'>])
    """
    try:
        start_us, done_us = _microseconds(starts), _microseconds(dones)
    except (TypeError, ValueError, OverflowError):  # not plain dates: the careful way
        found = [
            evaluate(s, d, lim, unit, as_of, calendar)
            for s, d, lim in zip(starts, dones, limits, strict=True)
        ]
        return Evaluations(
            [e.due for e in found],
            [e.status for e in found],
            [e.late_by for e in found],
            [e.estimated_year for e in found],
        )
    limit = np.asarray(limits, dtype=np.float64)
    return _judge(start_us, done_us, limit, Unit(unit), as_of, calendar).evaluations()


def _judge(
    start_us: np.ndarray,
    done_us: np.ndarray,
    limit: np.ndarray,
    unit: Unit,
    as_of: datetime,
    calendar: BusinessCalendar,
) -> _Judged:
    """`evaluate` of every row, from starts and done times as microseconds since 1970 (int64,
    `_NAT` where blank): due times as whole columns, statuses by comparing arrays. Only
    working hours walk the calendar row by row."""
    has_start = start_us != _NAT
    start_day = np.where(has_start, start_us // _DAY_US, 0) + _EPOCH_ORDINAL  # ordinals
    whole_day = unit in (Unit.DAYS, Unit.WORKDAYS)
    if whole_day:
        due_day, ok = _day_dues(start_day, has_start, limit, unit, calendar)
        due_us = np.zeros(len(start_us), dtype=np.int64)  # unused: whole days compare by day
    else:
        if unit is Unit.HOURS:
            due_us, ok = _hour_dues(start_us, has_start, limit)
        else:
            due_us, ok = _workhour_dues(start_us, has_start, limit, calendar)
        due_day = due_us // _DAY_US + _EPOCH_ORDINAL
    has_done = done_us != _NAT
    done_day = np.where(has_done, done_us // _DAY_US, 0) + _EPOCH_ORDINAL
    day_only = has_done & (done_us % _DAY_US == 0)
    as_of_us = (as_of - _EPOCH) // timedelta(microseconds=1)
    by_day = np.full(len(start_us), whole_day) | day_only
    # lateness: whole days where compared by day, else microseconds
    late_days = np.where(has_done, done_day, as_of.date().toordinal()) - due_day
    late_us = np.where(has_done, done_us, as_of_us) - due_us
    late = np.where(by_day, late_days > 0, late_us > 0) & ok
    status = np.where(
        has_done,
        np.where(late, _BREACHED_CODE, _MET_CODE),
        np.where(late, _OVERDUE_CODE, _OPEN_CODE),
    )
    if whole_day:
        due = (np.where(ok, due_day, _EPOCH_ORDINAL) - _EPOCH_ORDINAL).astype("datetime64[D]")
    else:
        due = due_us.astype("datetime64[us]")
    due[~ok] = np.datetime64("NaT")
    late_by = np.where(by_day, late_days * _DAY_US, late_us).astype("timedelta64[us]")
    late_by[~late] = np.timedelta64("NaT")
    estimated = np.zeros(len(start_us), dtype=np.int64)
    if unit in (Unit.WORKDAYS, Unit.WORKHOURS):
        estimated[ok] = _estimated_years(start_day[ok], due_day[ok], calendar)
    return _Judged(np.where(ok, status, _NA_CODE), due, late_by, estimated)


def _day_dues(
    start_day: np.ndarray,
    has_start: np.ndarray,
    limit: np.ndarray,
    unit: Unit,
    calendar: BusinessCalendar,
) -> tuple[np.ndarray, np.ndarray]:
    """Due days (ordinals) for day units, and where there is one."""
    # beyond ±10 million days every due falls outside 0001…9999 anyway
    days = np.trunc(np.clip(np.nan_to_num(limit), -1e7, 1e7)).astype(np.int64)
    usable = has_start & np.isfinite(limit)
    if unit is Unit.DAYS:
        due_day = start_day + days
        return due_day, usable & (due_day >= 1) & (due_day <= _MAX_ORDINAL)
    due_day = calendar.add_workdays_many(np.where(usable, start_day, 0), days)
    return due_day, usable & (due_day > 0)


def _hour_dues(
    start_us: np.ndarray, has_start: np.ndarray, limit: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Due moments (microseconds, to the minute) for clock hours, and where there is one."""
    # timedelta(hours=x) rounds to the microsecond the way Python does: per distinct limit
    distinct, inverse = np.unique(limit, return_inverse=True)
    steps = [_hours_us(x) for x in distinct.tolist()]
    step = np.array([0 if x is None else x for x in steps], dtype=np.int64)[inverse]
    known = np.array([x is not None for x in steps], dtype=bool)[inverse]
    due_us = start_us + step
    ok = has_start & known & (due_us >= _MIN_US) & (due_us <= _MAX_US)
    return np.where(ok, due_us - due_us % _MINUTE_US, 0), ok


def _workhour_dues(
    start_us: np.ndarray, has_start: np.ndarray, limit: np.ndarray, calendar: BusinessCalendar
) -> tuple[np.ndarray, np.ndarray]:
    """Due moments (microseconds, to the minute) counted in business hours: a walk through
    the calendar, row by row."""
    due_us = np.zeros(len(start_us), dtype=np.int64)
    ok = np.zeros(len(start_us), dtype=bool)
    rows = np.flatnonzero(has_start)
    starts = start_us[rows].astype("datetime64[us]").tolist()
    for k, start, hours in zip(rows.tolist(), starts, limit[rows].tolist(), strict=True):
        try:
            due = _to_minute(calendar.add_workhours(start, hours))
        except (OverflowError, ValueError):
            continue
        due_us[k] = (due - _EPOCH) // timedelta(microseconds=1)
        ok[k] = True
    return due_us, ok


def _estimated_years(
    start_day: np.ndarray, due_day: np.ndarray, calendar: BusinessCalendar
) -> np.ndarray:
    """`calendar.estimated_year` from each start to its due (0 where official), asked once
    per distinct pair of years."""
    pairs = _years(start_day) * 10_000 + _years(due_day)
    distinct, inverse = np.unique(pairs, return_inverse=True)
    found = [
        calendar.estimated_year(date(p // 10_000, 1, 1), date(p % 10_000, 1, 1)) or 0
        for p in distinct.tolist()
    ]
    return np.array(found, dtype=np.int64)[inverse]


def _microseconds(values: Sequence[date | datetime | None]) -> np.ndarray:
    """Microseconds since 1970 of dates (their midnight) and naive datetimes; NaT for None."""
    for v in values:
        if v is not None and (not isinstance(v, date) or getattr(v, "tzinfo", None) is not None):
            raise TypeError(f"not a naive date or datetime: {v!r}")
    return moments(values).view(np.int64)


@lru_cache(maxsize=256)
def _hours_us(hours: float) -> int | None:
    """timedelta(hours=hours) in microseconds; None where `due_time` would fail."""
    try:
        found = timedelta(hours=hours) // timedelta(microseconds=1)
    except (OverflowError, ValueError):
        return None
    return found if abs(found) < _MAX_US - _MIN_US else None


def _years(ordinals: np.ndarray) -> np.ndarray:
    days = (ordinals - _EPOCH_ORDINAL).astype("datetime64[D]")
    return days.astype("datetime64[Y]").astype(np.int64) + 1970


# --- the rules table in Settings --------------------------------------------------------------


_REASONS: dict[str, dict[Lang, str]] = {
    "table": _l("找不到工作表“{value}”", "找不到工作表「{value}」", "no tab “{value}”"),
    "new_needs": _l(
        "新规则需要填写适用工作表、开始字段、结束字段、时限和单位",
        "新規則需要填寫適用工作表、開始欄位、結束欄位、時限和單位",
        "a new rule needs its tab, start, end, limit and unit",
    ),
    "start": _l(
        "开始字段“{value}”不是该表的日期列",
        "開始欄位「{value}」不是該表的日期欄",
        "start “{value}” is not a date column of that tab",
    ),
    "end": _l(
        "结束字段“{value}”不是该表的日期列",
        "結束欄位「{value}」不是該表的日期欄",
        "end “{value}” is not a date column of that tab",
    ),
    "limit": _l(
        "时限“{value}”应为不小于 0 的数（按天计时为整数）或该表的数字列",
        "時限「{value}」應為不小於 0 的數（按天計時為整數）或該表的數字欄",
        "limit “{value}” must be a number ≥ 0 (whole for day units) or a number column",
    ),
    "condition": _l(
        "条件“{value}”应写成 列名=值（多个值用 / 分隔）或 列名≠值",
        "條件「{value}」應寫成 欄名=值（多個值用 / 分隔）或 欄名≠值",
        "condition “{value}” must read column=value (values split by /) or column≠value",
    ),
}


def _date_fields(table: Table) -> dict[str, str]:
    return {
        fold(s): f.name
        for f in table.fields
        if f.kind in (Kind.DATE, Kind.DATETIME)
        for s in f.spellings()
    }


def _any_field(table: Table) -> dict[str, str]:
    return {fold(s): f.name for f in table.fields for s in f.spellings()}


def _rule_lookup() -> dict[str, SlaRule]:
    return {fold(s): r for r in DEFAULT_RULES for s in (r.id, *r.labels.values())}


def _special_end(text: str, table: str) -> str | None:
    key = fold(text)
    for name, (on, labels, aliases) in SPECIAL_ENDS.items():
        if on == table and key in {fold(s) for s in (name, *labels.values(), *aliases)}:
            return name
    return None


_CONDITION = re.compile(r"^(?P<f>.+?)\s*(?P<op>!=|≠|<>|==|=|\s+in\s+|属于|屬於)\s*(?P<v>.+)$")
_VALUE_SEP = re.compile(r"\s*(?:/|,|，|、|\||或|\bor\b)\s*")


def parse_condition(text: str, table: Table) -> Condition | None:
    """'跟进方式=拜访/会议', 'complexity != complex', 'method in visit, meeting' → a Condition."""
    match = _CONDITION.match(unicodedata.normalize("NFKC", text).strip())
    if match is None:
        return None
    name = _any_field(table).get(fold(match["f"]))
    if name is None:
        return None
    f = table.field(name)
    choices: Choices | None = f.choices if f.kind in (Kind.ENUM, Kind.BOOL) else None
    keys: set[str] = set()
    for part in filter(None, _VALUE_SEP.split(match["v"].strip())):
        if choices is not None:
            key = match_choice(part, choices if f.kind is Kind.ENUM else YES_NO)
            if key is None:
                return None
            keys.add(key)
        else:
            keys.add(fold(part))
    if not keys:
        return None
    negate = match["op"].strip() in ("!=", "≠", "<>")
    return Condition(name, frozenset(keys), negate, {lang: text for lang in Lang})


def read_rules(data: TableData | None, lang: Lang) -> tuple[tuple[SlaRule, ...], list[Issue]]:
    """The defaults, overridden and extended by the rows of the Settings SLA rules table.

    A blank cell keeps the default rule's value; an invalid row is reported (naming its cell)
    and ignored, so the default of that id still applies and the other rules still run.
    """
    rules = {r.id: r for r in DEFAULT_RULES}
    if data is None:
        return tuple(rules.values()), []
    issues: list[Issue] = []
    defaults = _rule_lookup()
    names = [f.name for f in data.bound.table.fields]
    values = {name: data.column(name) for name in names}
    raw = {name: data.raw.get(name, [None] * len(data)) for name in names}
    for i in range(len(data)):
        if any(i in data.bad.get(name, ()) for name in data.bad):
            continue  # a cell that did not parse has been reported already
        rule_text = values["rule"][i]
        if rule_text is None:
            continue
        base = defaults.get(fold(str(rule_text)))

        def bad(reason: str, name: str, value: Any = None, i: int = i, text: Any = rule_text):
            shown = render_text(value if value is not None else raw[name][i] or "")
            issues.append(
                make_issue(
                    "invalid-sla-rule",
                    lang,
                    tab=data.tab,
                    row=data.rows[i],
                    column=data.letter(name),
                    header=data.bound.header_of(name, lang),
                    value=raw[name][i],
                    field=name,
                    table=data.name,
                    params={"rule": text, "reason": _REASONS[reason][lang].format(value=shown)},
                )
            )

        table_text = values["table"][i]
        table: Table | None
        if table_text is not None:
            table = find_table_by_name(str(table_text))
            if table is None or table.section_of is not None or table.owned:
                bad("table", "table")
                continue
        else:
            table = SCHEMA.table(base.table) if base else None
        start, end, limit, unit = (values[n][i] for n in ("start", "end", "limit", "unit"))
        if base is None and (table is None or None in (start, end, limit, unit)):
            bad("new_needs", "rule")
            continue
        assert table is not None
        changes: dict[str, Any] = {"table": table.name}
        if start is not None:
            name = _date_fields(table).get(fold(str(start)))
            if name is None:
                bad("start", "start")
                continue
            changes["start"] = name
        if end is not None:
            name = _date_fields(table).get(fold(str(end))) or _special_end(str(end), table.name)
            if name is None:
                bad("end", "end")
                continue
            changes["end"] = name
        if unit is not None:
            changes["unit"] = Unit(unit)
        if limit is not None:
            parsed_limit = _parse_limit(limit, table)
            if parsed_limit is None:
                bad("limit", "limit")
                continue
            changes["limit"], changes["limit_field"] = parsed_limit
        condition_text = values["condition"][i]
        if condition_text is not None:
            condition = parse_condition(str(condition_text), table)
            if condition is None:
                bad("condition", "condition")
                continue
            changes["condition"] = condition
        if values["enabled"][i] is not None:
            changes["enabled"] = bool(values["enabled"][i])
        if base is not None:
            rule = replace(base, **changes)
            if rule.table != base.table and "start" not in changes:
                bad("new_needs", "rule")
                continue
        else:
            text = str(rule_text)
            rule = SlaRule(id=text, labels={lg: text for lg in Lang}, **changes)
        if (
            rule.limit is not None
            and rule.unit in (Unit.DAYS, Unit.WORKDAYS)
            and rule.limit != int(rule.limit)
        ):
            bad("limit", "limit", rule.limit)
            continue
        rules[rule.id] = rule
    return tuple(rules.values()), issues


def _parse_limit(value: Any, table: Table) -> tuple[float | None, str | None] | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number: float | None = float(value)
    else:
        found = parse_number_text(str(value))
        number = float(found.value) if found is not None and found.multiplier is None else None
    if number is not None:
        return (number, None) if number >= 0 else None
    name = _any_field(table).get(fold(str(value)))
    if name is not None and table.field(name).kind in (Kind.INTEGER, Kind.NUMBER):
        return None, name
    return None


def rule_rows(lang: Lang, rules: Iterable[SlaRule] = DEFAULT_RULES) -> list[list[Any]]:
    """The SLA rules table as a Settings section shows it: header row, then one row a rule."""
    table = SCHEMA.table("sla_rules")
    rows: list[list[Any]] = [[f.headers[lang] for f in table.fields]]
    for rule in rules:
        on = SCHEMA.table(rule.table)
        end = (
            SPECIAL_ENDS[rule.end][1][lang]
            if rule.end in SPECIAL_ENDS
            else on.field(rule.end).headers[lang]
        )
        limit: Any = rule.limit
        if rule.limit_field is not None:
            limit = on.field(rule.limit_field).headers[lang]
        elif isinstance(limit, float) and limit.is_integer():
            limit = int(limit)
        rows.append(
            [
                rule.label(lang),
                on.title(lang),
                on.field(rule.start).headers[lang],
                end,
                limit,
                SLA_UNIT.label(rule.unit.value, lang),
                rule.condition.text.get(lang, "") if rule.condition else "",
                YES_NO.label("yes" if rule.enabled else "no", lang),
            ]
        )
    return rows


# --- next-step dates written in text ---------------------------------------------------------

_PROMISE = re.compile(
    r"(?<![\d/.-])(?:"
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?"
    r"|(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*[日号]?"
    r"|(?P<m3>\d{1,2})/(?P<d3>\d{1,2})"
    r")(?![\d/])"
)


@lru_cache(maxsize=1 << 14)
def find_promised_date(text: str, after: date) -> date | None:
    """The first date written in a next-step text; a date without a year is the first such
    day on or after `after` (the follow-up's own day).

    >>> find_promised_date("1月5日再次拜访", date(2025, 12, 20))
    datetime.date(2026, 1, 5)
    >>> day = date(2026, 7, 1)
    >>> find_promised_date("7/21 演示", day), find_promised_date("下周三", day)
    (datetime.date(2026, 7, 21), None)
    """
    for match in _PROMISE.finditer(unicodedata.normalize("NFKC", text)):
        g = match.groupdict()
        if g["y"]:
            found = _make_date(int(g["y"]), int(g["m"]), int(g["d"]))
        else:
            month, day = (int(g["m2"]), int(g["d2"])) if g["m2"] else (int(g["m3"]), int(g["d3"]))
            found = next(
                (
                    d
                    for year in (after.year, after.year + 1)
                    if (d := _make_date(year, month, day)) is not None and d >= after
                ),
                None,
            )
        if found is not None:
            return found
    return None


def _make_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


# --- all rows -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Out:
    lang: Lang
    as_of: datetime
    computed: Computed = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    rows: dict[str, np.ndarray] = field(default_factory=dict)  # spreadsheet rows, by table

    def target(self, table: str, name: str) -> dict[int, Any] | None:
        """The values of one owned column by row, to fill in; None when the schema has none."""
        if not SCHEMA.table(table).has(name):
            return None
        return self.computed.setdefault(table, {}).setdefault(name, {})

    def column(self, table: str, name: str) -> None:
        """Own a column even when no row gets a value: stale values are cleared."""
        self.target(table, name)

    def fill(self, data: TableData, name: str, at: np.ndarray, values: list[Any]) -> None:
        """Set an owned column's values in data rows `at` of a table."""
        target = self.target(data.name, name)
        if target is None:
            return
        rows = self.rows.get(data.name)
        if rows is None:
            rows = self.rows[data.name] = np.asarray(data.rows)
        target.update(zip(rows[at].tolist(), values, strict=True))


def flag_sla(
    tables: dict[str, TableData],
    rules: Iterable[SlaRule],
    calendar: BusinessCalendar,
    as_of: datetime,
    lang: Lang,
) -> tuple[Computed, list[Issue]]:
    """Every enabled rule over its table: owned column values and issues."""
    out = _Out(lang, as_of)
    follow_ups = _FollowUps(tables["follow_ups"]) if "follow_ups" in tables else None
    for rule in rules:
        data = tables.get(rule.table)
        if not rule.enabled or data is None:
            continue
        _run_rule(rule, data, tables, follow_ups, calendar, out)
    if "leads" in tables and follow_ups is not None:
        _lead_follow_ups(tables["leads"], follow_ups, out)
    if "leads" in tables:
        _days_in_pipeline(tables["leads"], out)
    if "collections" in tables:
        _overdue_days(tables["collections"], out)
    return out.computed, out.issues


class _FollowUps:
    """Follow-ups grouped by lead, in time order: each one's next on the same lead, each
    lead's count and latest, and the date each follow-up promises for its next step."""

    def __init__(self, data: TableData) -> None:
        self.data = data
        self.date_us = _us(data.moments("date"))
        lead, keys = pd.factorize(_grouping_keys(data, "lead_id"))
        self.lead = lead  # of each follow-up: a code, -1 for none
        self.leads = pd.Index(keys)  # lead key of each code
        dated = np.flatnonzero((lead >= 0) & (self.date_us != _NAT))
        # by lead, then by time; the sort is stable, so a tie keeps row order
        order = dated[np.lexsort((self.date_us[dated], lead[dated]))]
        same = lead[order[1:]] == lead[order[:-1]]
        self.next = np.full(len(data), -1)  # -1: the lead's latest
        self.next[order[:-1][same]] = order[1:][same]
        self.count = np.bincount(lead[dated], minlength=len(keys))
        self.latest = _last_of_groups(lead[order], order, len(keys))
        self.promised, self.promised_us, self.unreadable = _promised_dates(data)


def _promised_dates(data: TableData) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Each follow-up's next-step date, as typed and in microseconds: as given, else the first
    date its next-step text holds (worked out once per distinct text and day); and the rows
    whose text holds none."""
    promised = objects(data.usable("next_step_date"))
    promised_us = _us(data.moments("next_step_date"))
    days = data.moments("date").astype("datetime64[D]")
    undated = np.flatnonzero((promised_us == _NAT) & ~np.isnat(days))
    texts = objects(list(map(data.column("next_step").__getitem__, undated.tolist())))
    written = ~is_none(texts)
    unread = undated[written]
    if not unread.size:
        return promised, promised_us, []
    text, distinct_texts = pd.factorize(texts[written])
    ordinal = days[unread].astype(np.int64) + _EPOCH_ORDINAL
    _, first, inverse = np.unique(
        text * (_MAX_ORDINAL + 1) + ordinal, return_index=True, return_inverse=True
    )
    found = objects(
        [
            find_promised_date(str(distinct_texts[text[k]]), date.fromordinal(int(ordinal[k])))
            for k in first.tolist()
        ]
    )[inverse]
    promised[unread] = found
    promised_us = promised_us.copy()  # the cached column is shared: never changed in place
    promised_us[unread] = _us(moments(found.tolist()))
    return promised, promised_us, unread[is_none(found)].tolist()


@dataclass(slots=True)
class _Span:
    """From where a rule's rows start to what ends them: `end_us[at[i]]` is row i's end in
    microseconds (`at` None: `end_us[i]`; -1: not ended)."""

    start_us: np.ndarray
    end_us: np.ndarray
    where: str  # the column an issue points at
    at: np.ndarray | None = None
    skip: np.ndarray | None = None  # rows the rule does not measure

    def done_us(self, rows: np.ndarray) -> np.ndarray:
        if self.at is None:
            return self.end_us[rows]
        at = self.at[rows]
        return np.where(at >= 0, self.end_us[at], _NAT)


def _run_rule(
    rule: SlaRule,
    data: TableData,
    tables: dict[str, TableData],
    follow_ups: _FollowUps | None,
    calendar: BusinessCalendar,
    out: _Out,
) -> None:
    due_column, status_column = OUTPUTS.get(rule.id, (None, None))
    special = rule.end in SPECIAL_ENDS
    if not data.has(rule.start) and not (rule.start == "next_step_date" and data.has("next_step")):
        return  # no start column: nothing to measure
    if not special and not data.has(rule.end):
        return  # no end column: the team does not track it, so nothing is overdue
    for name in (due_column, status_column):
        if name:
            out.column(rule.table, name)
    if rule.end == NEXT_FOLLOW_UP:
        if follow_ups is None or follow_ups.data is not data:
            return
        for i in follow_ups.unreadable:
            out.issues.append(data.issue("next-step-date-unreadable", i, "next_step", out.lang))
        span = _to_next_follow_up(rule, follow_ups, tables.get("leads"))
    elif rule.end == FULL_COLLECTION:
        if "collections" not in tables:
            return
        span = _to_full_collection(rule, data, tables["collections"])
    else:
        span = _to_end(rule, data)
    measured = span.start_us != _NAT
    if span.skip is not None:
        measured &= ~span.skip
    if rule.condition is not None:
        measured &= rule.condition.matches_column(data.usable(rule.condition.field))
    chosen = np.flatnonzero(measured)
    limits = _limits(rule, data, chosen)
    judged = _judge(
        span.start_us[chosen], span.done_us(chosen), limits, Unit(rule.unit), out.as_of, calendar
    )
    shown = judged.status != _NA_CODE
    if due_column:
        kind = data.bound.table.field(due_column).kind
        out.fill(data, due_column, chosen[shown], _cell_values(judged.due[shown], kind))
    if status_column:
        labels = np.array([STATUS_LABELS[s][out.lang] for s in _STATUSES], dtype=object)
        out.fill(data, status_column, chosen[shown], labels[judged.status[shown]].tolist())
    _report(rule, data, span, chosen, judged, out)


def _to_end(rule: SlaRule, data: TableData) -> _Span:
    """From the rule's start field to its end field; a row whose end did not parse is left
    out (it has been reported)."""
    skip = None
    bad = data.bad.get(rule.end)
    if bad:
        skip = np.zeros(len(data), dtype=bool)
        skip[list(bad)] = True
    start, end = _us(data.moments(rule.start)), _us(data.moments(rule.end))
    return _Span(start, end, rule.end, skip=skip)


def _to_next_follow_up(rule: SlaRule, follow_ups: _FollowUps, leads: TableData | None) -> _Span:
    """From the promised date (or the rule's start) to the next follow-up on the same lead.
    The last promise of a closed lead no longer applies."""
    data = follow_ups.data
    if rule.start == "next_step_date":
        start = follow_ups.promised_us
    else:
        start = _us(data.moments(rule.start))
    skip = (follow_ups.next < 0) & _on_closed_leads(follow_ups, leads)
    where = "next_step_date" if data.has("next_step_date") else "next_step"
    return _Span(start, follow_ups.date_us, where, follow_ups.next, skip)


def _on_closed_leads(follow_ups: _FollowUps, leads: TableData | None) -> np.ndarray:
    """Which follow-ups are on a lead whose stage is won or lost (the lead's last row with a
    stage says); a follow-up without a lead goes with a lead whose id is blank-ish."""
    if leads is None:
        return np.zeros(len(follow_ups.lead), dtype=bool)
    lead_keys, stages = _grouping_keys(leads, "lead_id"), objects(leads.usable("stage"))
    listed = ~is_none(lead_keys) & ~is_none(stages)
    stage_of = dict(zip(lead_keys[listed].tolist(), stages[listed].tolist(), strict=True))
    closed = [key for key, stage in stage_of.items() if stage in CLOSED_STAGES]
    # asked once per lead; code -1 (no lead) picks the last: whether "" is closed
    return np.append(follow_ups.leads.isin(closed), "" in closed)[follow_ups.lead]


def _to_full_collection(rule: SlaRule, data: TableData, collections: TableData) -> _Span:
    """From the rule's start to the last receipt of a contract once its receipts add up to
    its amount; a contract without an amount (or a negative one) is not measured."""
    contracts, total, latest = _collected(collections)
    code = contracts.get_indexer(_grouping_keys(data, "contract_id"))
    amount = _floats(data.usable("amount"), np.nan)
    received = np.append(total, 0.0)[code]  # code -1: nothing received
    at = np.where(received >= amount - 0.005, np.append(latest, -1)[code], -1)
    start, end = _us(data.moments(rule.start)), _us(collections.moments("received_at"))
    return _Span(start, end, rule.start, at, skip=~(amount >= 0))


def _collected(cols: TableData) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """Contract keys, the amount each has received in all, and the row of its last receipt
    (the first such row on a tie; -1: none dated)."""
    contract, keys = pd.factorize(_grouping_keys(cols, "contract_id"))
    amount = _floats(cols.usable("received_amount"), 0.0)
    counted = (contract >= 0) & (amount != 0)
    # bincount adds in row order, as a running total would
    total = np.bincount(contract[counted], weights=amount[counted], minlength=len(keys))
    when = _us(cols.moments("received_at"))
    dated = np.flatnonzero(counted & (when != _NAT))
    order = dated[np.lexsort((-dated, when[dated], contract[dated]))]
    return pd.Index(keys), total, _last_of_groups(contract[order], order, len(keys))


def _limits(rule: SlaRule, data: TableData, rows: np.ndarray) -> np.ndarray:
    """The limit of each measured row: the rule's, or its limit field (blank: the default
    payment terms)."""
    if rule.limit_field is None:
        return np.full(len(rows), float(rule.limit or 0))
    return _floats(objects(data.usable(rule.limit_field))[rows], DEFAULT_PAYMENT_TERMS)


def _report(
    rule: SlaRule, data: TableData, span: _Span, chosen: np.ndarray, judged: _Judged, out: _Out
) -> None:
    """An issue for each measured row that is breached or overdue, or whose due time rests
    on an estimated calendar (that one first)."""
    status = judged.status
    late = (status == _BREACHED_CODE) | (status == _OVERDUE_CODE)
    picked = np.flatnonzero(late | (judged.estimated > 0))
    late, estimated = late[picked], judged.estimated[picked] > 0
    cells = _Cells.of(data, span.where, chosen[picked], rule, out.lang)
    # each picked row's issues in turn: its estimated calendar first, then its lateness
    count = estimated.astype(np.int64) + late
    first = np.cumsum(count) - count
    issues = np.empty(int(count.sum()), dtype=object)
    issues[first[estimated]] = _estimated_issues(
        cells.part(estimated), judged.estimated[picked[estimated]]
    )
    issues[first[late] + estimated[late]] = _late_issues(
        cells.part(late), judged, picked[late], span, out.as_of
    )
    out.issues.extend(issues.tolist())


@dataclass(slots=True)
class _Cells:
    """The cells a rule's issues are about: `where` of `data` in data rows `at`, with the
    values as an issue shows them ("" for a blank)."""

    data: TableData
    where: str
    at: np.ndarray
    values: np.ndarray
    rule: SlaRule
    lang: Lang

    @classmethod
    def of(cls, data: TableData, where: str, at: np.ndarray, rule: SlaRule, lang: Lang) -> _Cells:
        """The cells, each distinct cell shown once; none shown without cells as typed."""
        raw = data.raw.get(where)
        if raw is None:
            return cls(data, where, at, np.full(len(at), "", dtype=object), rule, lang)
        shown = each_once(list(map(raw.__getitem__, at.tolist())), _shown_value)
        return cls(data, where, at, objects(shown), rule, lang)

    @property
    def header(self) -> str:
        return self.data.bound.header_of(self.where, self.lang)

    def part(self, rows: np.ndarray) -> _Cells:
        return replace(self, at=self.at[rows], values=self.values[rows])

    def issues(
        self, codes: list[str], params: list[dict[str, Any]], messages: list[str]
    ) -> list[Issue]:
        """What `TableData.issues` makes from these codes and parameters (which hold the header
        and the value shown already), given the messages."""
        data, where, header = self.data, self.where, self.header
        column = data.letter(where)
        severities = {code: CODES[code].severity for code in set(codes)}
        tab, table, rule = data.tab, data.name, self.rule.id
        rows = list(map(data.rows.__getitem__, self.at.tolist()))
        return [
            Issue(
                code,
                severities[code],
                tab,
                row,
                column,
                header,
                merged["value"] or None,
                message,
                where,
                table,
                merged,
                rule,
            )
            for code, row, merged, message in zip(codes, rows, params, messages, strict=True)
        ]


def _shown_value(value: Any) -> str:
    """A cell as an issue shows it: as typed, "" for a blank."""
    text = "" if value is None else display_value(value)
    return "" if text.isspace() else text


def _estimated_issues(cells: _Cells, years: np.ndarray) -> list[Issue]:
    """A calendar-estimated issue about each of the cells, in the year estimated."""
    header, label, values = cells.header or "", cells.rule.label(cells.lang), cells.values.tolist()
    params = [
        {"header": header, "value": value, "year": year, "rule_label": label}
        for value, year in zip(values, years.tolist(), strict=True)
    ]
    codes = ["calendar-estimated"] * len(params)
    texts: dict[str, str | list[str]] = {
        "header": header,
        "value": values,
        "year": years.astype(str).tolist(),
        "rule_label": label,
    }
    return cells.issues(codes, params, _messages(codes, cells.lang, texts))


def _late_issues(
    cells: _Cells, judged: _Judged, late: np.ndarray, span: _Span, as_of: datetime
) -> list[Issue]:
    """A breached or overdue issue about each of the cells, of rows `late` (indices into
    `judged`); due, done and lateness texts are worked out once per distinct value."""
    lang = cells.lang
    header, label, values = cells.header or "", cells.rule.label(lang), cells.values.tolist()
    due = judged.due[late]
    whole_day = due.dtype == np.dtype("datetime64[D]")
    dues = _each_shown(due, _show_due)
    dones = _each_shown(span.done_us(cells.at).astype("datetime64[us]"), _show_done)
    lates = _each_shown(judged.late_by[late], lambda late_by: _duration(late_by, lang, whole_day))
    as_of_text = as_of.strftime("%Y-%m-%d %H:%M")
    years = judged.estimated[late].tolist()
    notes = {year: _ESTIMATED[lang].format(year=year) for year in set(years)} | {0: ""}
    estimated = [notes[year] for year in years]
    params = [
        {
            "header": header,
            "value": value,
            "rule_label": label,
            "due": due_text,
            "done": done_text,
            "late": late_text,
            "as_of": as_of_text,
            "estimated": note,
        }
        for value, due_text, done_text, late_text, note in zip(
            values, dues, dones, lates, estimated, strict=True
        )
    ]
    texts: dict[str, str | list[str]] = {
        "header": header,
        "value": values,
        "rule_label": label,
        "due": dues,
        "done": dones,
        "late": lates,
        "as_of": as_of_text,
        "estimated": estimated,
    }
    codes = np.where(judged.status[late] == _BREACHED_CODE, "sla-breached", "sla-overdue")
    return cells.issues(codes.tolist(), params, _messages(codes.tolist(), lang, texts))


def _each_shown(values: np.ndarray, show: Callable[[Any], str]) -> list[str]:
    """`show` of each datetime64 or timedelta64 value (as Python's, None for NaT), called
    once per distinct value."""
    codes, distinct = pd.factorize(values.view(np.int64))
    return objects([show(v) for v in distinct.astype(values.dtype).tolist()])[codes].tolist()


def _messages(codes: list[str], lang: Lang, texts: dict[str, str | list[str]]) -> list[str]:
    """Each row's message: its code's template over the texts of its fields (a list: one a
    row; a text: the same in every row), as `str.format_map` renders it, with each template
    parsed once rather than once a row."""
    code_of = np.asarray(codes, dtype=object)
    messages = np.empty(len(codes), dtype=object)
    for code in dict.fromkeys(codes):
        rows = code_of == code
        count = int(rows.sum())
        pieces: list[Iterable[str]] = []
        for literal, name, _, _ in string.Formatter().parse(CODES[code].messages[lang]):
            pieces.append(repeat(literal, count))
            if name is not None:
                text = texts[name]
                pieces.append(repeat(text, count) if isinstance(text, str) else objects(text)[rows])
        messages[rows] = list(map("".join, zip(*pieces, strict=True)))
    return messages.tolist()


_ESTIMATED = {
    Lang.ZH_HANS: "（{year} 年日历为推定）",
    Lang.ZH_HANT: "（{year} 年日曆為推定）",
    Lang.EN: " ({year} calendar estimated)",
}


def _show_due(due: date) -> str:
    if isinstance(due, datetime):
        return due.strftime("%Y-%m-%d %H:%M")
    return due.isoformat()


def _cell_values(due: np.ndarray, kind: Kind) -> list[Any]:
    """What a due column of `kind` holds: a date for DATE columns and whole-day dues, else a
    datetime to the minute (as `_judge` gives it)."""
    if kind is Kind.DATE:
        due = due.astype("datetime64[D]")
    return due.tolist()


def _show_done(done: datetime | None) -> str:
    return "" if done is None else display_value(done)


def _duration(late: timedelta | None, lang: Lang, whole_day: bool) -> str:
    if late is None:
        return ""
    minutes = int(late.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    units = {
        Lang.ZH_HANS: ("天", "小时", "分钟", " "),
        Lang.ZH_HANT: ("天", "小時", "分鐘", " "),
        Lang.EN: (" d", " h", " min", " "),
    }[lang]
    parts = []
    if days:
        parts.append(f"{days}{'' if lang is Lang.EN else ' '}{units[0]}".replace("  ", " "))
    if not whole_day:
        if hours:
            parts.append(f"{hours}{'' if lang is Lang.EN else ' '}{units[1]}")
        if mins and not days:
            parts.append(f"{mins}{'' if lang is Lang.EN else ' '}{units[2]}")
    return units[3].join(parts) or f"1{'' if lang is Lang.EN else ' '}{units[2]}"


# --- lead summaries and overdue invoices -----------------------------------------------------


def _lead_follow_ups(leads: TableData, follow_ups: _FollowUps, out: _Out) -> None:
    """Last follow-up, how many, and the promised date of the latest one, per lead."""
    for name in ("last_follow_up_at", "follow_up_count", "next_step_due"):
        out.column("leads", name)
    keys = _grouping_keys(leads, "lead_id")
    listed = np.flatnonzero(~is_none(keys))
    code = follow_ups.leads.get_indexer(keys[listed])
    count = np.append(follow_ups.count, 0)[code]  # code -1: no follow-up
    out.fill(leads, "follow_up_count", listed, count.tolist())
    followed = listed[count > 0]
    latest = follow_ups.latest[code[count > 0]]
    last_at = follow_ups.data.moments("date")[latest].astype("datetime64[m]")
    out.fill(leads, "last_follow_up_at", followed, _datetimes(last_at))
    promised = follow_ups.promised[latest]
    open_ = ~is_none(promised) & ~_closed(objects(leads.usable("stage"))[followed])
    out.fill(leads, "next_step_due", followed[open_], promised[open_].tolist())


def _days_in_pipeline(leads: TableData, out: _Out) -> None:
    """Days since the lead was created (else assigned), while it is open."""
    out.column("leads", "days_in_pipeline")
    created, assigned = leads.moments("created_at"), leads.moments("assigned_at")
    began = np.where(np.isnat(created), assigned, created).astype("datetime64[D]")
    counted = np.flatnonzero(~np.isnat(began) & ~_closed(leads.usable("stage")))
    age = _days_since(began[counted], np.datetime64(out.as_of.date(), "D"))
    out.fill(leads, "days_in_pipeline", counted, age)


def _overdue_days(cols: TableData, out: _Out) -> None:
    """Days an invoice was (or still is) paid after its due date; 0 when on time or not due."""
    if not cols.has("due_date"):
        return
    out.column("collections", "overdue_days")
    due = cols.moments("due_date").astype("datetime64[D]")
    paid = cols.moments("received_at").astype("datetime64[D]")
    end = np.where(np.isnat(paid), np.datetime64(out.as_of.date(), "D"), paid)
    counted = np.flatnonzero(~np.isnat(due))
    late = _days_since(due[counted], end[counted])
    out.fill(cols, "overdue_days", counted, late)


def _days_since(start: np.ndarray, end: np.ndarray | np.datetime64) -> list[int]:
    """Whole days from each start day to its end day, 0 when the end comes first."""
    return np.maximum((end - start).astype(np.int64), 0).tolist()


def merge_computed(*parts: Computed) -> Computed:
    """One Computed from several; a later part wins for the same cell."""
    merged: Computed = {}
    for part in parts:
        for table, fields in part.items():
            for name, values in fields.items():
                merged.setdefault(table, {}).setdefault(name, {}).update(values)
    return merged


# --- column helpers ---------------------------------------------------------------------------


def _us(found: np.ndarray) -> np.ndarray:
    """datetime64[us] as microseconds since 1970 (`_NAT` for NaT); a view, not a copy."""
    return found.view(np.int64)


def _datetimes(found: np.ndarray) -> list[datetime]:
    """Moments as Python datetimes (a midnight too: never a bare date)."""
    return found.astype("datetime64[us]").tolist()


def _floats(values: Sequence[Any], blank: float) -> np.ndarray:
    """Numbers as float64; `blank` where a value is None."""
    found = objects(values)
    found[is_none(found)] = blank
    return found.astype(np.float64)


def _closed(stages: Sequence[Any]) -> np.ndarray:
    """Which lead stages are closed (won or lost)."""
    return pd.Series(stages, dtype=object).isin(list(CLOSED_STAGES)).to_numpy()


def _grouping_keys(data: TableData, name: str) -> np.ndarray:
    """An id field's keys (`TableData.keys`) as an object array, None only where blank: an id
    that normalises to nothing groups under "" as these rules always had it."""
    keys, usable = objects(data.keys(name)), data.usable(name)
    blank = np.flatnonzero(is_none(keys)).tolist()
    keys[[i for i in blank if usable[i] is not None]] = ""
    return keys


def _last_of_groups(groups: np.ndarray, order: np.ndarray, size: int) -> np.ndarray:
    """The last of `order` in each group, for `order` sorted by its `groups` (of codes below
    `size`); -1 for a group with none."""
    found = np.full(size, -1)
    if order.size:
        ends = np.flatnonzero(np.append(groups[1:] != groups[:-1], True))
        found[groups[ends]] = order[ends]
    return found
