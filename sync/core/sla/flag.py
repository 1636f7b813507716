"""Every enabled rule over the typed tables (`flag_sla`): the owned columns' values (due
times, localized statuses, follow-up counts, days in the pipeline, days overdue) and the
issues. Each rule is a handful of array operations over its table's columns."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from ..calendar import BusinessCalendar
from ..columns import RowValues, is_none, moments, objects
from ..issues import Issue
from ..schema import SCHEMA, Kind, Lang
from ..tables import TableData
from ..validate import Computed
from .evaluate import (
    BREACHED_CODE,
    EPOCH_ORDINAL,
    MAX_ORDINAL,
    NA_CODE,
    NAT,
    OVERDUE_CODE,
    STATUSES,
    Judged,
    judge,
)
from .promises import find_promised_date
from .reports import Cells, estimated_issues, late_issues
from .rules import (
    CLOSED_STAGES,
    DEFAULT_PAYMENT_TERMS,
    FULL_COLLECTION,
    NEXT_FOLLOW_UP,
    OUTPUTS,
    SPECIAL_ENDS,
    STATUS_LABELS,
    SlaRule,
    Unit,
)


@dataclass(slots=True)
class _Out:
    lang: Lang
    as_of: datetime
    computed: Computed = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    rows: dict[str, np.ndarray] = field(default_factory=dict)  # spreadsheet rows, by table

    def column(self, table: str, name: str) -> None:
        """Own a column even when no row gets a value: stale values are cleared."""
        if SCHEMA.table(table).has(name):
            self.computed.setdefault(table, {}).setdefault(name, {})

    def fill(self, data: TableData, name: str, at: np.ndarray, values: list[Any]) -> None:
        """Set an owned column's values in data rows `at` (ascending) of a table: kept as they
        come (`RowValues`), merged with the values set before only where there are some."""
        if not SCHEMA.table(data.name).has(name):
            return
        rows = self.rows.get(data.name)
        if rows is None:
            rows = self.rows[data.name] = np.asarray(data.rows, dtype=np.int64)
        fields = self.computed.setdefault(data.name, {})
        before, chosen = fields.get(name), rows[at]
        if before or not RowValues.ascending(chosen):
            merged = dict(before or {})
            merged.update(zip(chosen.tolist(), values, strict=True))
            fields[name] = merged
        else:
            fields[name] = RowValues(chosen, values)


def flag_sla(
    tables: dict[str, TableData],
    rules: Iterable[SlaRule],
    calendar: BusinessCalendar,
    as_of: datetime,
    lang: Lang,
) -> tuple[Computed, list[Issue]]:
    """Every enabled rule over its table: owned column values and issues."""
    out = _Out(lang, as_of)
    leads = tables.get("leads")
    follow_ups = _FollowUps(tables["follow_ups"], leads) if "follow_ups" in tables else None
    for rule in rules:
        data = tables.get(rule.table)
        if not rule.enabled or data is None:
            continue
        _run_rule(rule, data, tables, follow_ups, calendar, out)
    if leads is not None and follow_ups is not None:
        _lead_follow_ups(leads, follow_ups, out)
    if leads is not None:
        _days_in_pipeline(leads, out)
    if "collections" in tables:
        _overdue_days(tables["collections"], out)
    return out.computed, out.issues


class _FollowUps:
    """Follow-ups grouped by lead, in time order: each one's next on the same lead, each
    lead's count and latest, and the date each follow-up promises for its next step. The
    rows of the leads tab get the same lead codes, so the two tabs meet without lookups."""

    def __init__(self, data: TableData, leads: TableData | None) -> None:
        self.data, self.leads = data, leads
        self.date_us = _us(data.moments("date"))
        lead, self.of_leads, self.size, self.blank = _lead_codes(data, leads)
        self.lead = lead  # of each follow-up: a code, -1 for none
        dated = np.flatnonzero((lead >= 0) & (self.date_us != NAT))
        # by lead, then by time; the sort is stable, so a tie keeps row order
        order = dated[np.lexsort((self.date_us[dated], lead[dated]))]
        same = lead[order[1:]] == lead[order[:-1]]
        self.next = np.full(len(data), -1)  # -1: the lead's latest
        self.next[order[:-1][same]] = order[1:][same]
        self.count = np.bincount(lead[dated], minlength=self.size)
        self.latest = _last_of_groups(lead[order], order, self.size)
        self.promised, self.promised_us, self.unreadable = _promised_dates(data)


def _lead_codes(
    follow_ups: TableData, leads: TableData | None
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """A code for each lead key of either tab, so that neither looks up the other's keys: the
    codes of the follow-ups and of the leads (-1: none), how many, and the code of a blank-ish
    lead id on the leads tab (-1: none)."""
    lead_keys = _grouping_keys(leads, "lead_id") if leads is not None else objects([])
    code, keys = pd.factorize(np.concatenate([_grouping_keys(follow_ups, "lead_id"), lead_keys]))
    of_leads = code[len(follow_ups) :]
    blank = of_leads[lead_keys == ""]
    return code[: len(follow_ups)], of_leads, len(keys), int(blank[0]) if blank.size else -1


def _promised_dates(data: TableData) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Each follow-up's next-step date, as typed and in microseconds: as given, else the first
    date its next-step text holds (worked out once per distinct text and day); and the rows
    whose text holds none."""
    promised = objects(data.usable("next_step_date"))
    promised_us = _us(data.moments("next_step_date"))
    days = data.moments("date").astype("datetime64[D]")
    undated = np.flatnonzero((promised_us == NAT) & ~np.isnat(days))
    texts = objects(list(map(data.column("next_step").__getitem__, undated.tolist())))
    written = ~is_none(texts)
    unread = undated[written]
    if not unread.size:
        return promised, promised_us, []
    text, distinct_texts = pd.factorize(texts[written])
    ordinal = days[unread].astype(np.int64) + EPOCH_ORDINAL
    _, first, inverse = np.unique(
        text * (MAX_ORDINAL + 1) + ordinal, return_index=True, return_inverse=True
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
        return np.where(at >= 0, self.end_us[at], NAT)


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
        span = _to_next_follow_up(rule, follow_ups)
    elif rule.end == FULL_COLLECTION:
        if "collections" not in tables:
            return
        span = _to_full_collection(rule, data, tables["collections"])
    else:
        span = _to_end(rule, data)
    measured = span.start_us != NAT
    if span.skip is not None:
        measured &= ~span.skip
    if rule.condition is not None:
        measured &= rule.condition.matches_column(data.usable(rule.condition.field))
    chosen = np.flatnonzero(measured)
    limits = _limits(rule, data, chosen)
    judged = judge(
        span.start_us[chosen], span.done_us(chosen), limits, Unit(rule.unit), out.as_of, calendar
    )
    shown = judged.status != NA_CODE
    if due_column:
        kind = data.bound.table.field(due_column).kind
        out.fill(data, due_column, chosen[shown], _cell_values(judged.due[shown], kind))
    if status_column:
        labels = np.array([STATUS_LABELS[s][out.lang] for s in STATUSES], dtype=object)
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


def _to_next_follow_up(rule: SlaRule, follow_ups: _FollowUps) -> _Span:
    """From the promised date (or the rule's start) to the next follow-up on the same lead.
    The last promise of a closed lead no longer applies."""
    data = follow_ups.data
    if rule.start == "next_step_date":
        start = follow_ups.promised_us
    else:
        start = _us(data.moments(rule.start))
    skip = (follow_ups.next < 0) & _on_closed_leads(follow_ups)
    where = "next_step_date" if data.has("next_step_date") else "next_step"
    return _Span(start, follow_ups.date_us, where, follow_ups.next, skip)


def _on_closed_leads(follow_ups: _FollowUps) -> np.ndarray:
    """Which follow-ups are on a lead whose stage is won or lost (the lead's last row with a
    stage says); a follow-up without a lead goes with a lead whose id is blank-ish."""
    leads, code = follow_ups.leads, follow_ups.of_leads
    if leads is None:
        return np.zeros(len(follow_ups.lead), dtype=bool)
    stages = objects(leads.usable("stage"))
    staged = np.flatnonzero((code >= 0) & ~is_none(stages))
    order = staged[np.argsort(code[staged], kind="stable")]
    last = _last_of_groups(code[order], order, follow_ups.size)
    closed = np.zeros(follow_ups.size + 1, dtype=bool)  # the last: no lead
    closed[:-1][last >= 0] = _closed(stages[last[last >= 0]])
    closed[-1] = follow_ups.blank >= 0 and closed[follow_ups.blank]
    return closed[follow_ups.lead]


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
    dated = np.flatnonzero(counted & (when != NAT))
    order = dated[np.lexsort((-dated, when[dated], contract[dated]))]
    return pd.Index(keys), total, _last_of_groups(contract[order], order, len(keys))


def _limits(rule: SlaRule, data: TableData, rows: np.ndarray) -> np.ndarray:
    """The limit of each measured row: the rule's, or its limit field (blank: the default
    payment terms)."""
    if rule.limit_field is None:
        return np.full(len(rows), float(rule.limit or 0))
    return _floats(objects(data.usable(rule.limit_field))[rows], DEFAULT_PAYMENT_TERMS)


def _report(
    rule: SlaRule, data: TableData, span: _Span, chosen: np.ndarray, judged: Judged, out: _Out
) -> None:
    """An issue for each measured row that is breached or overdue, or whose due time rests
    on an estimated calendar (that one first)."""
    status = judged.status
    late = (status == BREACHED_CODE) | (status == OVERDUE_CODE)
    picked = np.flatnonzero(late | (judged.estimated > 0))
    late, estimated = late[picked], judged.estimated[picked] > 0
    cells = Cells.of(data, span.where, chosen[picked], rule, out.lang)
    # each picked row's issues in turn: its estimated calendar first, then its lateness
    count = estimated.astype(np.int64) + late
    first = np.cumsum(count) - count
    issues = np.empty(int(count.sum()), dtype=object)
    issues[first[estimated]] = estimated_issues(
        cells.part(estimated), judged.estimated[picked[estimated]]
    )
    issues[first[late] + estimated[late]] = late_issues(
        cells.part(late), judged, picked[late], span.done_us(cells.at[late]), out.as_of
    )
    out.issues.extend(issues.tolist())


def _cell_values(due: np.ndarray, kind: Kind) -> list[Any]:
    """What a due column of `kind` holds: a date for DATE columns and whole-day dues, else a
    datetime to the minute (as `judge` gives it)."""
    if kind is Kind.DATE:
        due = due.astype("datetime64[D]")
    return due.tolist()


# --- lead summaries and overdue invoices -----------------------------------------------------


def _lead_follow_ups(leads: TableData, follow_ups: _FollowUps, out: _Out) -> None:
    """Last follow-up, how many, and the promised date of the latest one, per lead."""
    for name in ("last_follow_up_at", "follow_up_count", "next_step_due"):
        out.column("leads", name)
    listed = np.flatnonzero(follow_ups.of_leads >= 0)
    code = follow_ups.of_leads[listed]
    count = follow_ups.count[code]
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
    """One Computed from several; a later part wins for the same cell. A column only one part
    has is taken as it is (its dict shared, not copied: a column's values number a row each);
    one that several have is merged into a new dict, so no part is changed."""
    merged: Computed = {}
    for part in parts:
        for table, fields in part.items():
            into = merged.setdefault(table, {})
            for name, values in fields.items():
                before = into.get(name)
                into[name] = {**before, **values} if before and values else values or before or {}
    return merged


# --- column helpers ---------------------------------------------------------------------------


def _us(found: np.ndarray) -> np.ndarray:
    """datetime64[us] as microseconds since 1970 (`NAT` for NaT); a view, not a copy."""
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
