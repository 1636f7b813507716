"""The funnel: leads per stage and conversion, win rate, median sales cycle and weighted
pipeline, per rep, per team and for everyone (`FUNNEL_STAGES`, `FUNNEL_SUMMARY`,
`FUNNEL_PIPELINE`)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from itertools import repeat
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..columns import days, each_distinct
from ..parse import Period
from ..tables import TableData
from ..text import fold_all
from .book import Book, Leads, People
from .common import distinct_codes, month_codes, month_period, pair_totals
from .definitions import FUNNEL_PIPELINE, FUNNEL_STAGES, FUNNEL_SUMMARY, to_frame
from .problems import MetricProblem
from .rates import ratio
from .stages import FUNNEL_ORDER, OPEN_STAGES

STAGES = (*FUNNEL_ORDER, "lost")
"""The stage rows of a group, in order."""
_EPOCH = date(1970, 1, 1).toordinal()  # day numbers count days since then, as datetime64 does


class Funnel(NamedTuple):
    stages: pd.DataFrame  # FUNNEL_STAGES
    summary: pd.DataFrame  # FUNNEL_SUMMARY
    pipeline: pd.DataFrame  # FUNNEL_PIPELINE
    problems: list[MetricProblem]


class _Cycles(NamedTuple):
    """The sales cycle of each lead, in the order of `book.leads`."""

    days: np.ndarray  # -1 for a lead without one
    existing: np.ndarray  # the customer had signed a contract before


Members = set[str | None] | None  # rep keys; None for everyone
Pipeline = dict[tuple[str | None, Period], list[float]]  # → [open leads, expected, weighted]


def funnel(tables: Mapping[str, TableData], *, book: Book | None = None) -> Funnel:
    """Stage counts and conversion, win rate, median cycle and weighted pipeline; per rep
    (team and rep set), per team of the Reps tab (rep None) and for everyone (both None).

    - leads: leads now at the stage; reached: leads at the stage or beyond (`reached_rank`);
      conversion: reached / reached of the stage before.
    - win rate: won / (won + lost).
    - cycle days (won leads with a creation date): created → signing of the lead's earliest
      contract (Contracts.lead_id), else → its last follow-up. An existing customer is one with
      a contract signed before that day; the others are new.
    - weighted pipeline: Σ expected_amount × probability of open leads (every stage but won and
      lost) with both filled, by expected close month; leads without one are left out.
    """
    book = book or Book.read(tables)
    leads = book.leads
    cycles = _cycles(book, tables)
    pipeline = _pipeline(leads)
    rep_codes, reps = distinct_codes(leads.rep)
    stage = pd.Categorical(leads.stage, categories=STAGES).codes  # -1 without a stage
    stage_records: list[dict[str, Any]] = []
    summary_records: list[dict[str, Any]] = []
    pipeline_records: list[dict[str, Any]] = []
    for team, rep, members in _groups(book.people, set(reps[:-1]) | {r for r, _ in pipeline}):
        label = {"team": team, "rep": rep}
        mine = np.array([members is None or r in members for r in reps])[rep_codes]
        at = np.bincount(stage[mine & (stage >= 0)], minlength=len(STAGES)).tolist()
        stage_records += _stage_rows(label, at, leads.rank[mine])
        months = _pipeline_rows(label, pipeline, members)
        pipeline_records += months
        won, lost = at[STAGES.index("won")], at[STAGES.index("lost")]
        cycle_days, existing = cycles.days[mine], cycles.existing[mine]
        new = cycle_days[(cycle_days >= 0) & ~existing].tolist()
        old = cycle_days[(cycle_days >= 0) & existing].tolist()
        weighted_total = 0.0
        for month in months:
            weighted_total += month["weighted_amount"]
        summary_records.append(
            {
                **label,
                "leads": int(mine.sum()),
                "open": sum(n for s, n in zip(STAGES, at, strict=True) if s in OPEN_STAGES),
                "won": won,
                "lost": lost,
                "win_rate": ratio(won, won + lost),
                "cycle_days_new": statistics.median(new) if new else None,
                "cycle_days_existing": statistics.median(old) if old else None,
                "weighted_pipeline": weighted_total,
            }
        )
    return Funnel(
        to_frame(FUNNEL_STAGES, stage_records),
        to_frame(FUNNEL_SUMMARY, summary_records),
        to_frame(FUNNEL_PIPELINE, pipeline_records),
        [],
    )


def _cycles(book: Book, tables: Mapping[str, TableData]) -> _Cycles:
    """The sales cycle of each won lead, in days. Only won leads with a creation day can have
    one, so only their contracts, follow-ups and customers are looked up."""
    leads = book.leads
    days_, existing = np.full(len(leads), -1, np.int64), np.zeros(len(leads), bool)
    at = np.flatnonzero((leads.stage == "won") & ~np.isnat(leads.created))
    end = _ends(book, tables, leads.lead[at].tolist())
    created = leads.created[at].astype(np.int64)
    closed = end >= created  # NaN: False
    at, end = at[closed], end[closed]
    days_[at] = end - created[closed]
    first_signed = {customer: c.signed for customer, c in book.first_contracts().items()}
    customers = each_distinct(leads.customer[at].tolist(), _folded)
    first = _by_key(first_signed, customers)  # type: ignore[arg-type]  # all signed
    existing[at] = first < end
    return _Cycles(days_, existing)


def _ends(book: Book, tables: Mapping[str, TableData], leads: list[str | None]) -> np.ndarray:
    """The day number (days since 1970-01-01) each lead's cycle ends, by the lead id's key: its
    earliest contract's signing, else its last follow-up; NaN without either."""
    signed: dict[str, date] = {}
    for c in book.contracts:
        if c.lead is not None and c.signed is not None:
            old = signed.get(c.lead)
            signed[c.lead] = c.signed if old is None else min(old, c.signed)
    end = _by_key(signed, leads)
    unsigned = np.flatnonzero(np.isnan(end))
    end[unsigned] = _last_follow_ups(tables, [leads[i] for i in unsigned])
    return end


def _by_key(by_key: Mapping[str, date], keys: list[str | None]) -> np.ndarray:
    """The day number of each key's day, NaN where `by_key` has none (or the key is None)."""
    found: dict[str | None, float] = {k: d.toordinal() - _EPOCH for k, d in by_key.items()}
    return np.array([found.get(key, np.nan) for key in keys], dtype=np.float64)


def _last_follow_ups(tables: Mapping[str, TableData], leads: list[str | None]) -> np.ndarray:
    """The day number of each lead's last dated follow-up, by the lead id's key; NaN without.
    Only the follow-ups of these leads are looked at (a dict look-up per follow-up)."""
    follow_ups = tables.get("follow_ups")
    given_ids = dict.fromkeys(lead for lead in leads if lead is not None)
    wanted: dict[str | None, int] = {lead: i for i, lead in enumerate(given_ids)}
    if follow_ups is None or not wanted:
        return np.full(len(leads), np.nan)
    lead_codes = np.fromiter(
        map(wanted.get, follow_ups.keys("lead_id"), repeat(-1)), np.int64, len(follow_ups)
    )
    when = days(follow_ups.moments("date"))
    given = (lead_codes >= 0) & ~np.isnat(when)
    never = np.iinfo(np.int64).min
    last = np.full(len(wanted) + 1, never)  # the extra last one: a lead without an id
    np.maximum.at(last, lead_codes[given], when[given].astype(np.int64))
    found = np.where(last > never, last, np.nan)
    return found[[wanted.get(lead, -1) for lead in leads]]


def _folded(names: list[Any]) -> list[str | None]:
    """Names folded (`text.fold`), None for a blank."""
    given = [str(name) for name in names if name is not None]
    folded = iter(fold_all(given))
    return [None if name is None else next(folded) for name in names]


def _pipeline(leads: Leads) -> Pipeline:
    """Open leads with an expected close, amount and probability, by rep and close month."""
    open_ = pd.Series(leads.stage, dtype=object).isin(OPEN_STAGES).to_numpy()
    chosen = open_ & ~np.isnat(leads.close)
    chosen &= ~np.isnan(leads.amount) & ~np.isnan(leads.probability)
    amount = leads.amount[chosen]
    totals = pair_totals(
        *distinct_codes(leads.rep[chosen]),
        month_codes(leads.close[chosen]),
        amount,
        amount * leads.probability[chosen],
    )
    return {(rep, month_period(month)): [n, *sums] for rep, month, n, sums in totals}


def _stage_rows(label: dict[str, Any], at: list[int], ranks: np.ndarray) -> list[dict[str, Any]]:
    """A group's stage rows: `at` counts its leads now at each of `STAGES`, `ranks` are theirs."""
    per_rank = np.bincount(ranks[ranks >= 0], minlength=len(FUNNEL_ORDER))
    reached = per_rank[::-1].cumsum()[::-1].tolist()  # at the rank or beyond
    records: list[dict[str, Any]] = []
    previous = None
    for rank, stage in enumerate(FUNNEL_ORDER):
        records.append(
            {
                **label,
                "stage": stage,
                "leads": at[rank],
                "reached": reached[rank],
                "conversion": None if previous is None else ratio(reached[rank], previous),
            }
        )
        previous = reached[rank]
    records.append({**label, "stage": "lost", "leads": at[-1]})
    return records


def _pipeline_rows(
    label: dict[str, Any], pipeline: Pipeline, members: Members
) -> list[dict[str, Any]]:
    """The group's pipeline by expected close month."""
    by_month: dict[Period, list[float]] = {}
    for (r, m), s in pipeline.items():
        if members is None or r in members:
            sums = by_month.get(m, [0, 0.0, 0.0])
            by_month[m] = [a + b for a, b in zip(sums, s, strict=True)]
    return [
        {
            **label,
            "month": month,
            "open_leads": int(sums[0]),
            "expected_amount": sums[1],
            "weighted_amount": sums[2],
        }
        for month, sums in sorted(by_month.items())
    ]


def _groups(people: People, reps: set[str | None]) -> list[tuple[str | None, str | None, Members]]:
    """(team, rep, member keys) for each rep, each team of the Reps tab, then everyone."""
    known = sorted((r for r in reps if r is not None), key=people.sort_key)
    out: list[tuple[str | None, str | None, Members]] = [
        (people.team.get(r), people.display[r], {r}) for r in known
    ]
    teams: dict[str, set[str | None]] = defaultdict(set)
    for r in known:
        team = people.team.get(r)
        if team:
            teams[team].add(r)
    out += [(team, None, members) for team, members in teams.items()]
    out.append((None, None, None))
    return out
