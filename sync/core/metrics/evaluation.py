"""Quarterly weighted evaluation per rep: the Evaluation tab (`EVALUATION`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from ..columns import day_of, days, objects
from ..parse import Period
from ..tables import TableData
from .book import Book, target_problem
from .common import (
    MetricTable,
    distinct_codes,
    pair_totals,
    quarter_codes,
    quarter_of,
    quarter_period,
    select_periods,
)
from .definitions import EVALUATION, to_frame
from .rates import completion_rate, ratio, score
from .scoring_table import DEFAULT_SCORING, ScoringTable
from .stages import is_converted
from .vocabulary import Indicator

WEEKS_PER_QUARTER = 13.0
Workweeks = float | Callable[[Period], float] | None
"""Working weeks of a quarter for follow-ups per week: a number, a function of the quarter
(e.g. working days up to `as_of` / 5, from the calendar), or None for 13."""


@dataclass(slots=True)
class _Quarterly:
    created: int = 0
    converted: int = 0
    proposals_due: int = 0
    proposals_on_time: int = 0
    follow_ups: int = 0
    sales: float = 0.0
    invoiced: float = 0.0
    received: float = 0.0


def quarterly_evaluation(
    tables: Mapping[str, TableData],
    scoring: ScoringTable = DEFAULT_SCORING,
    *,
    as_of: date | datetime | None = None,
    quarters: Iterable[Period] | None = None,
    workweeks: Workweeks = None,
    book: Book | None = None,
) -> MetricTable:
    """Per rep and quarter (columns of `EVALUATION`): one row per indicator of `scoring`, then
    a `total` row.

    Indicators, each credited to its row's rep (lead owner, follow-up rep, contract owner):
    - lead_conversion: of the leads created in the quarter, the share that reached the
      opportunity stage or beyond (`reached_rank`); blank without leads created;
    - proposal_on_time: of the leads whose proposal was due in the quarter, the share submitted
      on or before the due day; one not submitted counts as late once its due day is before
      `as_of`, and is left out while it is not yet due;
    - follow_ups_per_week: follow-ups dated in the quarter / `workweeks`;
    - sales_completion: contracts signed in the quarter / the quarter's target (its own, or the
      sum of its months'); blank without a target;
    - collection_rate: received / invoiced of the invoices due in the quarter.
    target/actual hold fractions for ratios (0.3 is 30%) and a count for follow-ups per week.
    An indicator without data has no score and leaves the total: the total is
    Σ weighted_score / Σ weight of the scored indicators, and the total row's `weight` shows
    that scored weight. When the scoring weights do not add up to 100%, the total is blank
    (the problem comes from `parse_scoring_rows`).
    """
    book = book or Book.read(tables)
    problems = list(book.problems)
    stats = _tally(book, tables, day_of(as_of))
    records: list[dict[str, Any]] = []
    for key in sorted(
        select_periods(stats, quarters, as_of, quarter_of), key=book.people.period_order
    ):
        rep, quarter = key
        q = stats[key]
        display = book.people.display[rep]
        target, target_row = book.sales_target(rep, quarter)
        problem = target_problem(display, quarter, q.sales, target, target_row)
        if problem is not None:
            problems.append(problem)
        weeks = workweeks(quarter) if callable(workweeks) else (workweeks or WEEKS_PER_QUARTER)
        actuals: dict[Indicator, float | None] = {
            Indicator.LEAD_CONVERSION: ratio(q.converted, q.created),
            Indicator.PROPOSAL_ON_TIME: ratio(q.proposals_on_time, q.proposals_due),
            Indicator.FOLLOW_UPS_PER_WEEK: ratio(q.follow_ups, weeks),
            Indicator.SALES_COMPLETION: completion_rate(q.sales, target),
            Indicator.COLLECTION_RATE: ratio(q.received, q.invoiced),
        }
        records += _indicator_rows(display, quarter, scoring, actuals)
    return MetricTable(to_frame(EVALUATION, records), problems)


def _tally(
    book: Book, tables: Mapping[str, TableData], today: date | None
) -> dict[tuple[str, Period], _Quarterly]:
    """The counts and sums behind the indicators, per rep and quarter; a quarter with a target
    (or a month target in it) has a row even without data."""
    stats: dict[tuple[str, Period], _Quarterly] = defaultdict(_Quarterly)
    leads = book.leads
    owned = pd.notna(leads.rep)
    created = owned & ~np.isnat(leads.created) & pd.notna(leads.stage)
    for key, n, (converted,) in _per_quarter(
        *distinct_codes(leads.rep[created]),
        leads.created[created],
        is_converted(leads.rank[created]),
    ):
        stats[key].created += n
        stats[key].converted += int(converted)
    submitted = ~np.isnat(leads.submitted)
    # a proposal not submitted counts once its due day is past, and not before
    due = owned & ~np.isnat(leads.due)
    due &= submitted | (today is not None and leads.due < np.datetime64(today, "D"))
    on_time = submitted[due] & (leads.submitted[due] <= leads.due[due])
    rep_codes, reps = distinct_codes(leads.rep[due])
    for key, n, (in_time,) in _per_quarter(rep_codes, reps, leads.due[due], on_time):
        stats[key].proposals_due += n
        stats[key].proposals_on_time += int(in_time)
    for key, n, _ in _per_quarter(*_follow_ups(book, tables)):
        stats[key].follow_ups += n
    for key, sales in book.sales_by(quarter_of).items():
        stats[key].sales += sales
    for key, (invoiced, received) in book.collections_by(quarter_of).items():
        stats[key].invoiced += invoiced
        stats[key].received += received
    for rep, period in book.targets:
        stats.setdefault((rep, quarter_of(period.start())), _Quarterly())
    return stats


def _follow_ups(
    book: Book, tables: Mapping[str, TableData]
) -> tuple[np.ndarray, list[str | None], np.ndarray]:
    """The rep and the day of the follow-ups that have both (as `Names.codes` has the reps)."""
    data = tables.get("follow_ups")
    if data is None:
        return np.empty(0, dtype=np.int64), [None], np.empty(0, dtype="datetime64[D]")
    rep_codes, reps = book.people.codes(objects(data.column("rep")))
    day = days(data.moments("date"))
    given = np.array([rep is not None for rep in reps])[rep_codes] & ~np.isnat(day)
    return rep_codes[given], reps, day[given]


def _per_quarter(
    rep_codes: np.ndarray, reps: list[str | None], day: np.ndarray, *counts: np.ndarray
) -> list[tuple[tuple[str, Period], int, list[float]]]:
    """Per rep and quarter of `day`: how many rows and the sum of each of `counts`."""
    totals = pair_totals(rep_codes, reps, quarter_codes(day), *counts)
    return [((rep, quarter_period(q)), n, sums) for rep, q, n, sums in totals]


def _indicator_rows(
    rep: str, quarter: Period, scoring: ScoringTable, actuals: Mapping[Indicator, float | None]
) -> list[dict[str, Any]]:
    """One row per indicator of `scoring`, then the total row."""
    records: list[dict[str, Any]] = []
    scored: list[tuple[float, float]] = []
    for spec in scoring.rows:
        actual = actuals[spec.indicator]
        points = score(actual, spec.target, spec.rule)
        weighted = None if points is None else points * spec.weight
        if points is not None:
            scored.append((points, spec.weight))
        below = actual is not None and actual < spec.target - 1e-9
        records.append(
            {
                "rep": rep,
                "period": quarter,
                "dimension": spec.dimension.value,
                "indicator": spec.indicator.value,
                "weight": spec.weight,
                "target": spec.target,
                "actual": actual,
                "score": points,
                "weighted_score": weighted,
                "hint": spec.indicator.value if below else None,
            }
        )
    scored_weight = sum(w for _, w in scored)
    total = None
    if scoring.weights_ok and scored_weight > 0:
        total = sum(p * w for p, w in scored) / scored_weight
    records.append(
        {
            "rep": rep,
            "period": quarter,
            "indicator": "total",
            "weight": scored_weight,
            "weighted_score": total,
        }
    )
    return records
