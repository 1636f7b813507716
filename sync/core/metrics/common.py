"""Small helpers every metric shares: cell values as numbers, days, the month and quarter of a
day (one at a time or a column at once), a table's columns, the periods a metric reports,
amounts as text.

>>> days = np.array(["2026-01-31", "2026-04-01", "1969-12-31"], dtype="datetime64[D]")
>>> [str(quarter_period(code)) for code in quarter_codes(days)]
['2026Q1', '2026Q2', '1969Q4']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..columns import day_of
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


def text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def month_of(d: date) -> Period:
    return _month_of(d)


def quarter_of(d: date) -> Period:
    return _quarter_of(d)


# Periods are immutable: one per day is looked up once, and one per month or quarter is made
# once and shared by every row in it (keys holding the same object compare without calling
# `Period.__eq__`).
@lru_cache(maxsize=16384)
def _month_of(d: date) -> Period:
    return _month(d.year, d.month)


@lru_cache(maxsize=16384)
def _quarter_of(d: date) -> Period:
    return _quarter(d.year, (d.month - 1) // 3 + 1)


@lru_cache(maxsize=4096)
def _month(year: int, month: int) -> Period:
    return Period(year, month)


@lru_cache(maxsize=4096)
def _quarter(year: int, quarter: int) -> Period:
    return Period(year, quarter=quarter)


def month_codes(days: np.ndarray) -> np.ndarray:
    """The month of each day (datetime64[D], no NaT) as months since January 1970."""
    return days.astype("datetime64[M]").astype(np.int64)


def quarter_codes(days: np.ndarray) -> np.ndarray:
    """The quarter of each day (datetime64[D], no NaT) as quarters since 1970Q1."""
    return month_codes(days) // 3


def month_period(code: int) -> Period:
    """The month of a `month_codes` code."""
    year, month = divmod(int(code), 12)
    return _month(1970 + year, month + 1)


def quarter_period(code: int) -> Period:
    """The quarter of a `quarter_codes` code."""
    year, quarter = divmod(int(code), 4)
    return _quarter(1970 + year, quarter + 1)


def distinct_codes(values: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """The distinct values of an object array (None among them, last) and, for each value, the
    index of its distinct value."""
    codes, distinct = pd.factorize(values)
    return np.where(codes < 0, len(distinct), codes), [*distinct.tolist(), None]


def pair_totals(
    key_codes: np.ndarray, keys: Sequence[Any], codes: np.ndarray, *weights: np.ndarray
) -> list[tuple[Any, int, int, list[float]]]:
    """Per distinct (key, code) pair of the rows, in order of first appearance: the key, the
    code, how many rows have the pair and the sum of each of `weights` over them, added in row
    order as a loop over the rows adds them. A row's key is `keys[key_codes[row]]` (see
    `distinct_codes`); codes are integers.

    >>> key_codes, keys = distinct_codes(np.array(["a", None, "a", "a"], dtype=object))
    >>> pair_totals(key_codes, keys, np.array([7, 7, 7, 8]), np.array([0.5, 1.0, 0.25, 2.0]))
    [('a', 7, 2, [0.75]), (None, 7, 1, [1.0]), ('a', 8, 1, [2.0])]
    """
    low = int(codes.min()) if len(codes) else 0
    span = int(codes.max()) - low + 1 if len(codes) else 1
    pair_codes, pairs = pd.factorize(key_codes * span + (codes - low))
    size = len(pairs)
    count = np.bincount(pair_codes, minlength=size).tolist()
    # bincount adds each row's weight to its pair in row order: the sums of a Python loop
    sums = [np.bincount(pair_codes, weights=w, minlength=size).tolist() for w in weights]
    return [
        (keys[pair // span], low + pair % span, count[i], [s[i] for s in sums])
        for i, pair in enumerate(pairs.tolist())
    ]


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
