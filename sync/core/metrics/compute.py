"""Every metric of one sync at once (`compute_metrics`), for the owned tabs, the owned
Collections columns and --json."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from ..parse import Period
from ..settings import DEFAULT_SETTINGS, Settings
from ..tables import TableData
from .book import Book
from .definitions import SCORING
from .evaluation import Workweeks, quarterly_evaluation
from .performance import monthly_performance
from .problems import MetricProblem
from .reconciliation import Reconciliation, reconcile_collections
from .sales_funnel import Funnel, funnel
from .scoring_table import ScoringTable, scoring_from_table
from .units import amount_unit_problems


@dataclass(slots=True)
class Metrics:
    """All metrics of one sync, for the owned tabs, the owned Collections columns and --json."""

    performance: pd.DataFrame
    evaluation: pd.DataFrame
    funnel: Funnel
    collections: Reconciliation
    scoring: ScoringTable
    problems: list[MetricProblem]

    def records(self) -> dict[str, list[dict[str, Any]]]:
        """snake_case records for --json (periods and dates as ISO text)."""

        def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [
                {k: _json_value(v) for k, v in record.items()}
                for record in frame.to_dict("records")
            ]

        invoices = self.collections.invoices.reset_index()
        return {
            "performance": rows(self.performance),
            "evaluation": rows(self.evaluation),
            "funnel": rows(self.funnel.stages)
            + [{"stage": None, **r} for r in rows(self.funnel.summary)],
            "pipeline": rows(self.funnel.pipeline),
            "collections": rows(invoices),
        }


def _json_value(value: Any) -> Any:
    if isinstance(value, Period):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def compute_metrics(
    tables: Mapping[str, TableData],
    settings: Settings = DEFAULT_SETTINGS,
    scoring: ScoringTable | None = None,
    *,
    as_of: date | datetime | None = None,
    workweeks: Workweeks = None,
) -> Metrics:
    """Every metric. `scoring`: None reads the Settings scoring section (`tables["scoring"]`)
    when the workbook has one, else uses `DEFAULT_SCORING`."""
    problems: list[MetricProblem] = []
    if scoring is None:
        scoring, found = scoring_from_table(tables.get(SCORING.name))
        problems += found
    book = Book.read(tables)  # once: each metric gets its own copy of the name registers
    performance = monthly_performance(tables, as_of=as_of, book=book.copy())
    evaluation = quarterly_evaluation(
        tables, scoring, as_of=as_of, workweeks=workweeks, book=book.copy()
    )
    funnel_result = funnel(tables, book=book.copy())
    collections = reconcile_collections(tables, as_of=as_of, book=book.copy())
    problems += performance.problems
    problems += [p for p in evaluation.problems if p not in performance.problems]
    problems += funnel_result.problems + collections.problems
    problems += amount_unit_problems(tables, settings, book=book.copy())
    targets = tables.get("targets")
    if targets is None or not len(targets):
        # A team that keeps no targets is not told, month after month, that it has none.
        problems = [p for p in problems if p.code != "sales-without-target"]
    return Metrics(
        performance.frame, evaluation.frame, funnel_result, collections, scoring, problems
    )
