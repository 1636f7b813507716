"""The funnel: leads per stage and conversion, win rate, median sales cycle and weighted
pipeline, per rep, per team and for everyone (`FUNNEL_STAGES`, `FUNNEL_SUMMARY`,
`FUNNEL_PIPELINE`)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, NamedTuple

import pandas as pd

from ..parse import Period
from ..tables import TableData
from .book import Book, Lead, People
from .common import columns, day_of, id_key, month_of
from .definitions import FUNNEL_PIPELINE, FUNNEL_STAGES, FUNNEL_SUMMARY, to_frame
from .problems import MetricProblem
from .rates import ratio
from .stages import FUNNEL_ORDER, OPEN_STAGES


class Funnel(NamedTuple):
    stages: pd.DataFrame  # FUNNEL_STAGES
    summary: pd.DataFrame  # FUNNEL_SUMMARY
    pipeline: pd.DataFrame  # FUNNEL_PIPELINE
    problems: list[MetricProblem]


class _Cycle(NamedTuple):
    days: int
    existing: bool  # the customer had signed a contract before


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
    cycles = _cycles(book, tables)
    pipeline = _pipeline(book.leads)
    groups = _groups(book.people, {lead.rep for lead in book.leads} | {r for r, _ in pipeline})
    stage_records: list[dict[str, Any]] = []
    summary_records: list[dict[str, Any]] = []
    pipeline_records: list[dict[str, Any]] = []
    for team, rep, members in groups:
        label = {"team": team, "rep": rep}
        mine = [lead for lead in book.leads if members is None or lead.rep in members]
        mine_cycles = [
            cycle
            for lead, cycle in zip(book.leads, cycles, strict=True)
            if cycle is not None and (members is None or lead.rep in members)
        ]
        stage_records += _stage_rows(label, mine)
        months = _pipeline_rows(label, pipeline, members)
        pipeline_records += months
        won = sum(1 for lead in mine if lead.stage == "won")
        lost = sum(1 for lead in mine if lead.stage == "lost")
        new = [c.days for c in mine_cycles if not c.existing]
        existing = [c.days for c in mine_cycles if c.existing]
        weighted_total = 0.0
        for month in months:
            weighted_total += month["weighted_amount"]
        summary_records.append(
            {
                **label,
                "leads": len(mine),
                "open": sum(1 for x in mine if x.stage in OPEN_STAGES),
                "won": won,
                "lost": lost,
                "win_rate": ratio(won, won + lost),
                "cycle_days_new": statistics.median(new) if new else None,
                "cycle_days_existing": statistics.median(existing) if existing else None,
                "weighted_pipeline": weighted_total,
            }
        )
    return Funnel(
        to_frame(FUNNEL_STAGES, stage_records),
        to_frame(FUNNEL_SUMMARY, summary_records),
        to_frame(FUNNEL_PIPELINE, pipeline_records),
        [],
    )


def _cycles(book: Book, tables: Mapping[str, TableData]) -> list[_Cycle | None]:
    """The sales cycle of each won lead (None for the others), in the order of `book.leads`."""
    signed_by_lead: dict[str, date] = {}
    for c in book.contracts:
        if c.lead is not None and c.signed is not None:
            old = signed_by_lead.get(c.lead)
            signed_by_lead[c.lead] = c.signed if old is None else min(old, c.signed)
    last_follow_up: dict[str, date] = {}
    for _row, lead_id, when in columns(tables, "follow_ups", "lead_id", "date"):
        key, day = id_key(lead_id), day_of(when)
        if key is not None and day is not None:
            last_follow_up[key] = max(day, last_follow_up.get(key, day))
    first_signed: dict[str, date] = {}
    for customer, c in book.first_contracts().items():
        first_signed[customer] = c.signed  # type: ignore[assignment]

    cycles: list[_Cycle | None] = []
    for lead in book.leads:
        cycle = None
        if lead.stage == "won" and lead.created is not None and lead.lead is not None:
            end = signed_by_lead.get(lead.lead) or last_follow_up.get(lead.lead)
            if end is not None and end >= lead.created:
                first = first_signed.get(lead.customer) if lead.customer is not None else None
                cycle = _Cycle((end - lead.created).days, first is not None and first < end)
        cycles.append(cycle)
    return cycles


def _pipeline(leads: Sequence[Lead]) -> Pipeline:
    """Open leads with an expected close, amount and probability, by rep and close month."""
    pipeline: Pipeline = defaultdict(lambda: [0, 0.0, 0.0])
    for lead in leads:
        if (
            lead.stage in OPEN_STAGES
            and lead.close is not None
            and lead.amount is not None
            and lead.probability is not None
        ):
            sums = pipeline[(lead.rep, month_of(lead.close))]
            sums[0] += 1
            sums[1] += lead.amount
            sums[2] += lead.amount * lead.probability
    return pipeline


def _stage_rows(label: dict[str, Any], mine: Sequence[Lead]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    previous = None
    for rank, stage in enumerate(FUNNEL_ORDER):
        reached = sum(1 for lead in mine if lead.rank is not None and lead.rank >= rank)
        records.append(
            {
                **label,
                "stage": stage,
                "leads": sum(1 for lead in mine if lead.stage == stage),
                "reached": reached,
                "conversion": None if previous is None else ratio(reached, previous),
            }
        )
        previous = reached
    records.append({**label, "stage": "lost", "leads": sum(1 for x in mine if x.stage == "lost")})
    return records


def _pipeline_rows(
    label: dict[str, Any], pipeline: Pipeline, members: Members
) -> list[dict[str, Any]]:
    """The group's pipeline by expected close month."""
    records: list[dict[str, Any]] = []
    for month in sorted({m for r, m in pipeline if members is None or r in members}):
        sums = [0, 0.0, 0.0]
        for (r, m), s in pipeline.items():
            if m == month and (members is None or r in members):
                sums = [a + b for a, b in zip(sums, s, strict=True)]
        records.append(
            {
                **label,
                "month": month,
                "open_leads": int(sums[0]),
                "expected_amount": sums[1],
                "weighted_amount": sums[2],
            }
        )
    return records


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
