"""When a row is due and whether it was done in time: `evaluate` for one row, `judge` for a
whole column at once (numpy over microseconds since 1970), with the same results.

>>> from sync.core.calendar import BusinessCalendar
>>> cal = BusinessCalendar("CN")
>>> ev = evaluate(datetime(2026, 2, 12, 15), None, 2, Unit.WORKDAYS, datetime(2026, 2, 20), cal)
>>> ev.due, ev.status.value   # Thu → Fri 13th, Sat 14th (a makeup working day)
(datetime.date(2026, 2, 14), 'overdue')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import numpy as np

from ..calendar import BusinessCalendar
from ..columns import as_datetime, day_of, moments
from .rules import Status, Unit


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
EPOCH_ORDINAL = _EPOCH.toordinal()
_MIN_US = (datetime.min - _EPOCH) // timedelta(microseconds=1)
_MAX_US = (datetime.max - _EPOCH) // timedelta(microseconds=1)
MAX_ORDINAL = date.max.toordinal()
NAT = np.iinfo(np.int64).min  # NaT as microseconds
# Status codes of `judge`, indices into STATUSES.
NA_CODE, MET_CODE, BREACHED_CODE, OPEN_CODE, OVERDUE_CODE = range(5)
STATUSES = (Status.NA, Status.MET, Status.BREACHED, Status.OPEN, Status.OVERDUE)


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
class Judged:
    """`evaluate` of many rows as arrays: `status` codes (indices into `STATUSES`), `due`
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
            [STATUSES[c] for c in self.status.tolist()],
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
    """`evaluate` of every row at once (see `judge`). Same results, row for row.

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
    return judge(start_us, done_us, limit, Unit(unit), as_of, calendar).evaluations()


def judge(
    start_us: np.ndarray,
    done_us: np.ndarray,
    limit: np.ndarray,
    unit: Unit,
    as_of: datetime,
    calendar: BusinessCalendar,
) -> Judged:
    """`evaluate` of every row, from starts and done times as microseconds since 1970 (int64,
    `NAT` where blank): due times as whole columns, statuses by comparing arrays. Only
    working hours walk the calendar row by row."""
    has_start = start_us != NAT
    start_day = np.where(has_start, start_us // _DAY_US, 0) + EPOCH_ORDINAL  # ordinals
    whole_day = unit in (Unit.DAYS, Unit.WORKDAYS)
    if whole_day:
        due_day, ok = _day_dues(start_day, has_start, limit, unit, calendar)
        due_us = np.zeros(len(start_us), dtype=np.int64)  # unused: whole days compare by day
    else:
        if unit is Unit.HOURS:
            due_us, ok = _hour_dues(start_us, has_start, limit)
        else:
            due_us, ok = _workhour_dues(start_us, has_start, limit, calendar)
        due_day = due_us // _DAY_US + EPOCH_ORDINAL
    has_done = done_us != NAT
    done_day = np.where(has_done, done_us // _DAY_US, 0) + EPOCH_ORDINAL
    day_only = has_done & (done_us % _DAY_US == 0)
    as_of_us = (as_of - _EPOCH) // timedelta(microseconds=1)
    by_day = np.full(len(start_us), whole_day) | day_only
    # lateness: whole days where compared by day, else microseconds
    late_days = np.where(has_done, done_day, as_of.date().toordinal()) - due_day
    late_us = np.where(has_done, done_us, as_of_us) - due_us
    late = np.where(by_day, late_days > 0, late_us > 0) & ok
    status = np.where(
        has_done,
        np.where(late, BREACHED_CODE, MET_CODE),
        np.where(late, OVERDUE_CODE, OPEN_CODE),
    )
    if whole_day:
        due = (np.where(ok, due_day, EPOCH_ORDINAL) - EPOCH_ORDINAL).astype("datetime64[D]")
    else:
        due = due_us.astype("datetime64[us]")
    due[~ok] = np.datetime64("NaT")
    late_by = np.where(by_day, late_days * _DAY_US, late_us).astype("timedelta64[us]")
    late_by[~late] = np.timedelta64("NaT")
    estimated = np.zeros(len(start_us), dtype=np.int64)
    if unit in (Unit.WORKDAYS, Unit.WORKHOURS):
        estimated[ok] = _estimated_years(start_day[ok], due_day[ok], calendar)
    return Judged(np.where(ok, status, NA_CODE), due, late_by, estimated)


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
        return due_day, usable & (due_day >= 1) & (due_day <= MAX_ORDINAL)
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
    days = (ordinals - EPOCH_ORDINAL).astype("datetime64[D]")
    return days.astype("datetime64[Y]").astype(np.int64) + 1970
