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
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from dataclasses import field as dataclass_field
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from .calendar import BusinessCalendar
from .headers import find_table_by_name
from .issues import Issue, display_value, make_issue
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
        return _to_minute(_as_datetime(start) + timedelta(hours=float(limit)))
    if unit is Unit.WORKHOURS:
        return _to_minute(calendar.add_workhours(_as_datetime(start), float(limit)))
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
        estimated = calendar.estimated_year(_day(start), _day(due))
    whole_day = not isinstance(due, datetime)
    if done is not None:
        if whole_day or _is_day_only(done):
            late_days = (_day(done) - _day(due)).days
            late = timedelta(days=late_days) if late_days > 0 else None
        else:
            gap = _as_datetime(done) - due  # type: ignore[operator]
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


def _as_datetime(value: date) -> datetime:
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


def _day(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


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
# Status codes of `evaluate_many`, indices into _STATUSES.
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


def evaluate_many(
    starts: Sequence[date | datetime | None],
    dones: Sequence[date | datetime | None],
    limits: Sequence[float],
    unit: Unit | str,
    as_of: datetime,
    calendar: BusinessCalendar,
) -> Evaluations:
    """`evaluate` of every row at once: due times as whole columns (working days through
    `add_workdays_many`), statuses by comparing arrays. Same results, row for row.

    >>> cal = BusinessCalendar("CN")
    >>> ev = evaluate_many([date(2026, 2, 12)], [None], [2], "workdays", datetime(2026, 2, 20), cal)
    >>> ev.due, ev.status
    ([datetime.date(2026, 2, 14)], [<Status.OVERDUE: 'overdue'>])
    """
    unit = Unit(unit)
    if unit is Unit.WORKHOURS or not starts:  # a walk through business hours: row by row
        return _row_by_row(starts, dones, limits, unit, as_of, calendar)
    try:
        start_us = _microseconds(starts)
        done_us = _microseconds(dones)
    except (TypeError, ValueError, OverflowError):  # not plain dates: the careful way
        return _row_by_row(starts, dones, limits, unit, as_of, calendar)
    has_start = start_us != _NAT
    start_day = np.where(has_start, start_us // _DAY_US, 0) + _EPOCH_ORDINAL  # ordinals
    limit = np.asarray(limits, dtype=np.float64)
    whole_day = unit is not Unit.HOURS
    due_us = np.zeros(len(starts), dtype=np.int64)
    if unit is Unit.HOURS:
        # timedelta(hours=x) rounds to the microsecond the way Python does: per distinct limit
        steps = [_hours_us(x) for x in limit.tolist()]
        step = np.array([0 if x is None else x for x in steps], dtype=np.int64)
        due_us = start_us + step
        ok = has_start & np.array([x is not None for x in steps])
        ok &= (due_us >= _MIN_US) & (due_us <= _MAX_US)
        due_us = np.where(ok, due_us - due_us % _MINUTE_US, 0)
        due_day = due_us // _DAY_US + _EPOCH_ORDINAL
    else:
        # beyond ±10 million days every due falls outside 0001…9999 anyway
        days = np.trunc(np.clip(np.nan_to_num(limit), -1e7, 1e7)).astype(np.int64)
        finite = np.isfinite(limit)
        if unit is Unit.DAYS:
            due_day = start_day + days
            ok = has_start & finite & (due_day >= 1) & (due_day <= _MAX_ORDINAL)
        else:
            due_day = calendar.add_workdays_many(np.where(has_start & finite, start_day, 0), days)
            ok = has_start & finite & (due_day > 0)
    has_done = done_us != _NAT
    done_day = np.where(has_done, done_us // _DAY_US, 0) + _EPOCH_ORDINAL
    day_only = has_done & (done_us % _DAY_US == 0)
    as_of_us = (as_of - _EPOCH) // timedelta(microseconds=1)
    by_day = np.full(len(starts), whole_day) | (has_done & day_only)
    # lateness: whole days where compared by day, else microseconds
    late_days = np.where(has_done, done_day, as_of.date().toordinal()) - due_day
    late_us = np.where(has_done, done_us, as_of_us) - due_us
    late = np.where(by_day, late_days > 0, late_us > 0) & ok
    status = np.where(
        has_done,
        np.where(late, _BREACHED_CODE, _MET_CODE),
        np.where(late, _OVERDUE_CODE, _OPEN_CODE),
    )
    status = np.where(ok, status, _NA_CODE)
    if whole_day:
        dues: list[Any] = (
            (np.where(ok, due_day, _EPOCH_ORDINAL) - _EPOCH_ORDINAL)
            .astype("datetime64[D]")
            .tolist()
        )
    else:
        dues = due_us.astype("datetime64[us]").tolist()
    late_by: list[timedelta | None] = [None] * len(starts)
    for k in np.flatnonzero(late).tolist():
        late_by[k] = (
            timedelta(days=int(late_days[k]))
            if by_day[k]
            else timedelta(microseconds=int(late_us[k]))
        )
    estimated: list[int | None] = [None] * len(starts)
    if unit is Unit.WORKDAYS:
        rows = np.flatnonzero(ok).tolist()
        first, last = _years(start_day[ok]).tolist(), _years(due_day[ok]).tolist()
        seen: dict[tuple[int, int], int | None] = {}
        for k, pair in zip(rows, zip(first, last, strict=True), strict=True):
            if pair not in seen:
                seen[pair] = calendar.estimated_year(date(pair[0], 1, 1), date(pair[1], 1, 1))
            estimated[k] = seen[pair]
    codes = status.tolist()
    return Evaluations(
        [dues[k] if c else None for k, c in enumerate(codes)],
        [_STATUSES[c] for c in codes],
        late_by,
        estimated,
    )


_NAT = np.iinfo(np.int64).min


def _microseconds(values: Sequence[date | datetime | None]) -> np.ndarray:
    """Microseconds since 1970 of dates (their midnight) and naive datetimes; NaT for None."""
    for v in values:
        if v is not None and (not isinstance(v, date) or getattr(v, "tzinfo", None) is not None):
            raise TypeError(f"not a naive date or datetime: {v!r}")
    stamps = pd.to_datetime(pd.Series(values, dtype=object))
    return stamps.to_numpy(dtype="datetime64[us]").astype(np.int64)


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


def _row_by_row(
    starts: Sequence[date | datetime | None],
    dones: Sequence[date | datetime | None],
    limits: Sequence[float],
    unit: Unit,
    as_of: datetime,
    calendar: BusinessCalendar,
) -> Evaluations:
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

    def set(self, table: str, name: str, row: int, value: Any) -> None:
        if SCHEMA.table(table).has(name):
            self.computed.setdefault(table, {}).setdefault(name, {})[row] = value

    def target(self, table: str, name: str) -> dict[int, Any] | None:
        """The values of one owned column by row, to fill in; None when the schema has none."""
        if not SCHEMA.table(table).has(name):
            return None
        return self.computed.setdefault(table, {}).setdefault(name, {})

    def column(self, table: str, name: str) -> None:
        """Own a column even when no row gets a value: stale values are cleared."""
        if SCHEMA.table(table).has(name):
            self.computed.setdefault(table, {}).setdefault(name, {})


def flag_sla(
    tables: dict[str, TableData],
    rules: Iterable[SlaRule],
    calendar: BusinessCalendar,
    as_of: datetime,
    lang: Lang,
) -> tuple[Computed, list[Issue]]:
    """Every enabled rule over its table: owned column values and issues."""
    out = _Out(lang, as_of)
    follow_ups = _FollowUps(tables) if "follow_ups" in tables else None
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


def _usable(data: TableData, name: str) -> list[Any]:
    """A field's parsed values, None where the cell did not parse."""
    values = data.column(name)
    bad = data.bad.get(name)
    if not bad:
        return values
    return [None if i in bad else v for i, v in enumerate(values)]


class _FollowUps:
    """Follow-ups grouped by lead, in time order; each one's next on the same lead."""

    def __init__(self, tables: dict[str, TableData]) -> None:
        data = tables["follow_ups"]
        self.data = data
        dates, leads = _usable(data, "date"), _usable(data, "lead_id")
        by_lead: dict[str, list[int]] = defaultdict(list)
        for i, (when, lead) in enumerate(zip(dates, leads, strict=True)):
            if when is not None and lead is not None:
                by_lead[_key(lead)].append(i)
        self.next: dict[int, int] = {}
        self.by_lead: dict[str, list[int]] = {}
        for lead, indices in by_lead.items():
            indices.sort(key=lambda i: (_as_datetime(dates[i]), data.rows[i]))
            self.by_lead[lead] = indices
            for a, b in pairwise(indices):
                self.next[a] = b
        self.dates = dates
        self.leads = leads
        self.promised: list[date | None] = []
        self.unreadable: set[int] = set()
        step_dates, steps = _usable(data, "next_step_date"), data.column("next_step")
        for i, (given, text) in enumerate(zip(step_dates, steps, strict=True)):
            promised = given
            if promised is None and text is not None and dates[i] is not None:
                promised = find_promised_date(str(text), _day(dates[i]))
                if promised is None:
                    self.unreadable.add(i)
            self.promised.append(promised)


def _lead_stages(tables: dict[str, TableData]) -> dict[str, str]:
    leads = tables.get("leads")
    if leads is None:
        return {}
    return {
        _key(lead): stage
        for lead, stage in zip(_usable(leads, "lead_id"), _usable(leads, "stage"), strict=True)
        if lead is not None and stage is not None
    }


def _collected(tables: dict[str, TableData]) -> dict[str, tuple[float, date | None]]:
    """contract id → (received in all, date of the last receipt)."""
    cols = tables.get("collections")
    found: dict[str, tuple[float, date | None]] = {}
    if cols is None:
        return found
    ids, amounts = _usable(cols, "contract_id"), _usable(cols, "received_amount")
    dates = _usable(cols, "received_at")
    for cid, amount, when in zip(ids, amounts, dates, strict=True):
        if cid is None or not amount:
            continue
        total, last = found.get(_key(cid), (0.0, None))
        if when is not None and (last is None or when > last):
            last = when
        found[_key(cid)] = (total + float(amount), last)
    return found


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
    lang, as_of = out.lang, out.as_of
    starts = list(_usable(data, rule.start))
    condition = rule.condition
    cond_values = _usable(data, condition.field) if condition is not None else None
    limits = _usable(data, rule.limit_field) if rule.limit_field else None
    ends: list[Any]
    stages: dict[str, str] = {}
    where = rule.end  # the column an issue points at
    if rule.end == NEXT_FOLLOW_UP:
        if follow_ups is None or follow_ups.data is not data:
            return
        starts = follow_ups.promised if rule.start == "next_step_date" else starts
        ends = [
            follow_ups.dates[follow_ups.next[i]] if i in follow_ups.next else None
            for i in range(len(data))
        ]
        stages = _lead_stages(tables)
        where = "next_step_date" if data.has("next_step_date") else "next_step"
        for i in sorted(follow_ups.unreadable):
            out.issues.append(data.issue("next-step-date-unreadable", i, "next_step", lang))
    elif rule.end == FULL_COLLECTION:
        if "collections" not in tables:
            return
        collected = _collected(tables)
        ids, amounts = _usable(data, "contract_id"), _usable(data, "amount")
        ends = []
        for i, (cid, amount) in enumerate(zip(ids, amounts, strict=True)):
            if amount is None or amount < 0:
                starts[i] = None  # no amount to collect: nothing to measure
            total, last = collected.get(_key(cid), (0.0, None)) if cid is not None else (0, None)
            ends.append(last if amount is not None and total >= amount - 0.005 else None)
        where = rule.start
    else:
        ends = _usable(data, rule.end)
    end_bad = data.bad.get(rule.end, set())
    label = rule.label(lang)
    as_of_text = as_of.strftime("%Y-%m-%d %H:%M")
    chosen: list[int] = []  # the rows the rule measures
    for i, start in enumerate(starts):
        if start is None or i in end_bad:
            continue
        if condition is not None and not condition.matches(cond_values[i]):  # type: ignore[index]
            continue
        if (
            rule.end == NEXT_FOLLOW_UP
            and ends[i] is None
            and follow_ups is not None
            and (stages.get(_key(follow_ups.leads[i]) if follow_ups.leads[i] else "") or "")
            in CLOSED_STAGES
        ):
            continue  # the lead is closed: its last promised step no longer applies
        chosen.append(i)
    if limits is None:
        chosen_limits = [float(rule.limit or 0)] * len(chosen)
    else:
        chosen_limits = [
            float((limits[i] if limits[i] is not None else DEFAULT_PAYMENT_TERMS) or 0)
            for i in chosen
        ]
    found = evaluate_many(
        [starts[i] for i in chosen],
        [ends[i] for i in chosen],
        chosen_limits,
        rule.unit,
        as_of,
        calendar,
    )
    dues = out.target(rule.table, due_column) if due_column else None
    statuses = out.target(rule.table, status_column) if status_column else None
    status_labels = {status: labels[lang] for status, labels in STATUS_LABELS.items()}
    due_kind = data.bound.table.field(due_column).kind if due_column else None
    for k, i in enumerate(chosen):
        status = found.status[k]
        if status is Status.NA:
            continue
        row = data.rows[i]
        due = found.due[k]
        if dues is not None:
            dues[row] = _cell_value(due, due_kind)
        if statuses is not None:
            statuses[row] = status_labels[status]
        estimated = ""
        year = found.estimated_year[k]
        if year is not None:
            estimated = _ESTIMATED[lang].format(year=year)
            out.issues.append(
                data.issue(
                    "calendar-estimated",
                    i,
                    where,
                    lang,
                    rule=rule.id,
                    params={"year": year, "rule_label": label},
                )
            )
        if status is Status.BREACHED or status is Status.OVERDUE:
            code = "sla-breached" if status is Status.BREACHED else "sla-overdue"
            done = ends[i]
            out.issues.append(
                data.issue(
                    code,
                    i,
                    where,
                    lang,
                    rule=rule.id,
                    params={
                        "rule_label": label,
                        "due": _show_due(due),
                        "done": display_value(done) if done is not None else "",
                        "late": _duration(found.late_by[k], lang, whole_day=_whole(due)),
                        "as_of": as_of_text,
                        "estimated": estimated,
                    },
                )
            )


_ESTIMATED = {
    Lang.ZH_HANS: "（{year} 年日历为推定）",
    Lang.ZH_HANT: "（{year} 年日曆為推定）",
    Lang.EN: " ({year} calendar estimated)",
}


def _whole(due: Any) -> bool:
    return not isinstance(due, datetime)


def _show_due(due: Any) -> str:
    if isinstance(due, datetime):
        return due.strftime("%Y-%m-%d %H:%M")
    return due.isoformat()


def _cell_value(due: Any, kind: Kind | None) -> Any:
    """What a due column of `kind` holds: a date for DATE columns and whole-day dues, else a
    datetime to the minute."""
    if kind is Kind.DATE or not isinstance(due, datetime):
        return _day(due)
    return _to_minute(due)


def _duration(late: timedelta | None, lang: Lang, *, whole_day: bool) -> str:
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


def _key(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip().casefold()


# --- lead summaries and overdue invoices -----------------------------------------------------


def _lead_follow_ups(leads: TableData, follow_ups: _FollowUps, out: _Out) -> None:
    """Last follow-up, how many, and the promised date of the latest one, per lead."""
    for name in ("last_follow_up_at", "follow_up_count", "next_step_due"):
        out.column("leads", name)
    stages = _usable(leads, "stage")
    for i, lead in enumerate(_usable(leads, "lead_id")):
        if lead is None:
            continue
        row = leads.rows[i]
        indices = follow_ups.by_lead.get(_key(lead), [])
        out.set("leads", "follow_up_count", row, len(indices))
        if not indices:
            continue
        last = indices[-1]
        out.set("leads", "last_follow_up_at", row, _to_minute(_as_datetime(follow_ups.dates[last])))
        promised = follow_ups.promised[last]
        if promised is not None and stages[i] not in CLOSED_STAGES:
            out.set("leads", "next_step_due", row, promised)


def _days_in_pipeline(leads: TableData, out: _Out) -> None:
    """Days since the lead was created (else assigned), while it is open."""
    out.column("leads", "days_in_pipeline")
    created, assigned = _usable(leads, "created_at"), _usable(leads, "assigned_at")
    stages = _usable(leads, "stage")
    today = out.as_of.date()
    for i, row in enumerate(leads.rows):
        began = created[i] or assigned[i]
        if began is None or stages[i] in CLOSED_STAGES:
            continue
        out.set("leads", "days_in_pipeline", row, max(0, (today - _day(began)).days))


def _overdue_days(cols: TableData, out: _Out) -> None:
    """Days an invoice was (or still is) paid after its due date; 0 when on time or not due."""
    if not cols.has("due_date"):
        return
    out.column("collections", "overdue_days")
    today = out.as_of.date()
    received = _usable(cols, "received_at")
    for i, due in enumerate(_usable(cols, "due_date")):
        if due is None:
            continue
        paid = received[i]
        end = _day(paid) if paid is not None else today
        out.set("collections", "overdue_days", cols.rows[i], max(0, (end - due).days))


def merge_computed(*parts: Computed) -> Computed:
    """One Computed from several; a later part wins for the same cell."""
    merged: Computed = {}
    for part in parts:
        for table, fields in part.items():
            for name, values in fields.items():
                merged.setdefault(table, {}).setdefault(name, {}).update(values)
    return merged
