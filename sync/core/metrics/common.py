"""Small helpers every metric shares: cell values as numbers, days and ids, the month and
quarter of a day, a table's columns, the periods a metric reports, amounts as text."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple

import pandas as pd

from ..parse import Period
from ..tables import TableData
from .problems import MetricProblem

PeriodOf = Callable[[date], Period]


class MetricTable(NamedTuple):
    frame: pd.DataFrame
    problems: list[MetricProblem]


def number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        x = float(value)
        return x if math.isfinite(x) else None
    return None


def day_of(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None


def id_key(value: object) -> str | None:
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip().casefold()
    return text or None


def text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def month_of(d: date) -> Period:
    return _month_of(d)


def quarter_of(d: date) -> Period:
    return _quarter_of(d)


# Periods are immutable: one per day is made once and shared by every row of that day.
@lru_cache(maxsize=16384)
def _month_of(d: date) -> Period:
    return Period(d.year, d.month)


@lru_cache(maxsize=16384)
def _quarter_of(d: date) -> Period:
    return Period(d.year, quarter=(d.month - 1) // 3 + 1)


def columns(tables: Mapping[str, TableData], name: str, *fields: str) -> Iterable[tuple[Any, ...]]:
    """(row, value of each field) of a table's rows; nothing when the table is missing."""
    data = tables.get(name)
    if data is None:
        return ()
    return zip(data.rows, *(data.column(f) for f in fields), strict=True)


def select_periods(
    keys: Iterable[tuple[str, Period]],
    periods: Iterable[Period] | None,
    as_of: date | datetime | None,
    period_of: PeriodOf,
) -> list[tuple[str, Period]]:
    """The (rep, period) keys to report: those of `periods` when given, else those up to the
    period of `as_of` (all when None)."""
    if periods is not None:
        wanted = set(periods)
        return [k for k in keys if k[1] in wanted]
    day = day_of(as_of)
    last = period_of(day) if day is not None else None
    return [k for k in keys if last is None or k[1] <= last]


def amount_text(x: float) -> str:
    return f"{x:,.2f}".rstrip("0").rstrip(".")
