"""Working days and working hours on a region's official calendar.

Mainland China moves weekends around its holidays (调休): Saturday 2026-02-14 is a working day,
Friday 2026-02-20 is not. `BusinessCalendar` knows both from the `holidays` package (makeup
days are its `weekend_workdays`), lets the Settings tab add holidays and working days that win
over the official ones, and counts working days like NETWORKDAYS and WORKDAY do, on that
calendar. A year whose official schedule is not yet published still gets an answer, from the
package's estimate, and `is_estimated(year)` says so. Dates outside the package's coverage fall
back to plain weekends; nothing here raises on an unusual date.

Working days are kept, per year, as a sorted array of day ordinals, so counting and stepping
are binary searches, for one date or (`add_workdays_many`) a whole column at once.

>>> cal = BusinessCalendar("CN")
>>> cal.is_workday(date(2026, 2, 14)), cal.is_workday(date(2026, 2, 20))
(True, False)
>>> cal.add_workdays(date(2026, 2, 13), 1), cal.add_workdays(date(2026, 2, 14), 1)
(datetime.date(2026, 2, 14), datetime.date(2026, 2, 24))
>>> cal.workdays_between(date(2026, 2, 9), date(2026, 2, 28))  # 5 + Sat 14th + 4 + Sat 28th
11
"""

from __future__ import annotations

import sys
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

import numpy as np

from .columns import day_of

DEFAULT_BUSINESS_HOURS = (time(9, 0), time(18, 0))
# Regions that publish a yearly schedule of moved days: a year the package has no schedule for
# is an estimate built from the fixed rules.
ANNUAL_SCHEDULE_REGIONS = frozenset({"CN"})
_MIN_YEAR, _MAX_YEAR = 1, 9999


class UnknownRegion(ValueError):
    """The `holidays` package has no calendar for this region code."""


@cache
def _country_class(region: str) -> Any:
    import holidays

    try:
        return type(holidays.country_holidays(region))
    except NotImplementedError as exc:
        raise UnknownRegion(region) from exc


def is_known_region(region: str) -> bool:
    try:
        _country_class(region.strip().upper())
    except UnknownRegion:
        return False
    return True


@cache
def _official_through(region: str) -> int | None:
    """The last year whose official schedule the installed `holidays` lists for the region."""
    cls = _country_class(region)
    module = sys.modules[cls.__module__]
    years = [
        year
        for obj in vars(module).values()
        if isinstance(obj, type) and obj.__name__.endswith("StaticHolidays")
        for year in (getattr(obj, "special_public_holidays", None) or {})
    ]
    return max(years) if years else None


@cache
def _official_year(region: str, year: int) -> tuple[frozenset[date], frozenset[date], bool]:
    """(holidays, makeup working days, estimated) of one year, from the `holidays` package."""
    import holidays

    cls = _country_class(region)
    if not cls.start_year <= year <= cls.end_year:
        return frozenset(), frozenset(), True
    try:
        found = holidays.country_holidays(region, years=year, language="en_US")
    except Exception:  # a package gap must never stop a sync: weekends only
        return frozenset(), frozenset(), True
    days = frozenset(d for d in found if d.year == year)
    makeup = frozenset(d for d in getattr(found, "weekend_workdays", ()) if d.year == year)
    estimated = any("estimated" in str(name).casefold() for name in found.values())
    through = _official_through(region)
    if region in ANNUAL_SCHEDULE_REGIONS and through is not None and year > through:
        estimated = True
    return days, makeup, estimated


@cache
def _weekend(region: str) -> frozenset[int]:
    """Weekday numbers (Monday 0) of the region's weekend."""
    try:
        return frozenset(_country_class(region).weekend)
    except (UnknownRegion, AttributeError):
        return frozenset({5, 6})


class BusinessCalendar:
    """Working days of `region` (a `holidays` code: CN, TW, HK …) with overrides that win."""

    def __init__(
        self,
        region: str = "CN",
        extra_holidays: Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
        business_hours: tuple[time, time] = DEFAULT_BUSINESS_HOURS,
    ) -> None:
        self.region = region.strip().upper()
        _country_class(self.region)  # fail early, with UnknownRegion, on a code it does not know
        self.extra_holidays = frozenset(day_of(d) for d in extra_holidays)
        self.extra_workdays = frozenset(day_of(d) for d in extra_workdays) - self.extra_holidays
        start, end = business_hours
        if not start < end:
            raise ValueError(f"business hours must start before they end: {start}–{end}")
        self.business_hours = (start, end)
        self._open = start.hour * 60 + start.minute  # minutes after midnight
        self._close = end.hour * 60 + end.minute
        self._years: dict[int, np.ndarray] = {}  # year → sorted working-day ordinals
        self._span: tuple[int, int] | None = None
        self._ordinals: np.ndarray = np.empty(0, dtype=np.int64)
        self._list: list[int] = []

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.region!r})"

    # --- per year ----------------------------------------------------------------------------
    def _year(self, year: int) -> np.ndarray:
        found = self._years.get(year)
        if found is None:
            holidays, makeup, _ = _official_year(self.region, year)
            weekend = _weekend(self.region)
            first = date(year, 1, 1).toordinal()
            last = date(year, 12, 31).toordinal()
            off = {d.toordinal() for d in holidays | self.extra_holidays if d.year == year}
            on = {d.toordinal() for d in makeup | self.extra_workdays if d.year == year}
            on -= {d.toordinal() for d in self.extra_holidays}  # the Settings tab wins
            days = [
                o
                for o in range(first, last + 1)
                if o in on or ((o - 1) % 7 not in weekend and o not in off)
            ]
            found = self._years[year] = np.asarray(days, dtype=np.int64)
        return found

    def _cover(self, lo: int, hi: int) -> None:
        """Make the ordinal index cover the years lo…hi (clamped to 1…9999)."""
        lo, hi = max(lo, _MIN_YEAR), min(hi, _MAX_YEAR)
        if self._span is not None and self._span[0] <= lo and hi <= self._span[1]:
            return
        if self._span is not None:
            lo, hi = min(lo, self._span[0]), max(hi, self._span[1])
        parts = [self._year(y) for y in range(lo, hi + 1)]
        self._ordinals = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
        self._list = self._ordinals.tolist()
        self._span = (lo, hi)

    def is_estimated(self, year: int) -> bool:
        """Is this year's calendar an estimate (official schedule not yet published)?"""
        return _official_year(self.region, year)[2]

    def estimated_year(self, a: date, b: date) -> int | None:
        """The first estimated year among those from a to b, or None when all are official.
        Override dates typed for a year make no difference: the rest of it is still estimated."""
        lo, hi = sorted((a.year, b.year))
        return next((y for y in range(lo, hi + 1) if self.is_estimated(y)), None)

    # --- days --------------------------------------------------------------------------------
    def is_workday(self, d: date) -> bool:
        d = day_of(d)
        days = self._year(d.year)
        o = d.toordinal()
        i = int(np.searchsorted(days, o))
        return i < len(days) and int(days[i]) == o

    def add_workdays(self, d: date, n: int) -> date:
        """The nth working day after d (before it when n < 0); d itself when n == 0, like
        WORKDAY. Raises OverflowError past year 9999."""
        d, n = day_of(d), int(n)
        if n == 0:
            return d
        self._ensure_around(d, n)
        o = d.toordinal()
        ordinals = self._list
        i = bisect_right(ordinals, o) + n - 1 if n > 0 else bisect_left(ordinals, o) + n
        if not 0 <= i < len(ordinals):
            raise OverflowError(f"{n} working days from {d} is outside 0001…9999")
        return date.fromordinal(ordinals[i])

    def _ensure_around(self, d: date, n: int) -> None:
        # A year holds at least ~200 working days anywhere the package knows; reserve more.
        years = abs(n) // 150 + 1
        lo, hi = (d.year - 1, d.year + years) if n > 0 else (d.year - years, d.year + 1)
        self._cover(lo, hi)

    def add_workdays_many(self, days: np.ndarray, n: int | np.ndarray) -> np.ndarray:
        """`add_workdays` over an array of day ordinals (int64), in one pass; -1 where it
        would leave 0001…9999 or the day is missing (ordinal ≤ 0)."""
        days = np.asarray(days, dtype=np.int64)
        steps = np.broadcast_to(np.asarray(n, dtype=np.int64), days.shape)
        out = np.full(days.shape, -1, dtype=np.int64)
        valid = days > 0
        if not valid.any():
            return out
        first = date.fromordinal(int(days[valid].min())).year
        last = date.fromordinal(int(days[valid].max())).year
        most = int(np.abs(steps[valid]).max()) if valid.any() else 0
        self._cover(first - most // 150 - 1, last + most // 150 + 1)
        ordinals = self._ordinals
        after = np.searchsorted(ordinals, days, side="right") + steps - 1
        before = np.searchsorted(ordinals, days, side="left") + steps
        index = np.where(steps > 0, after, before)
        ok = valid & (index >= 0) & (index < len(ordinals))
        out[ok] = ordinals[index[ok]]
        zero = valid & (steps == 0)
        out[zero] = days[zero]
        return out

    def workdays_between(self, a: date, b: date) -> int:
        """Working days from a to b, both counted, like NETWORKDAYS (negative when b < a)."""
        a, b = day_of(a), day_of(b)
        if b < a:
            return -self.workdays_between(b, a)
        self._cover(a.year, b.year)
        ordinals = self._list
        return bisect_right(ordinals, b.toordinal()) - bisect_left(ordinals, a.toordinal())

    # --- hours -------------------------------------------------------------------------------
    def add_workhours(self, moment: datetime, hours: float) -> datetime:
        """`hours` counted only inside business hours on working days, from `moment` (a start
        before opening, after closing or on a day off counts from the next opening).

        >>> BusinessCalendar("CN").add_workhours(datetime(2026, 2, 13, 17, 0), 2)
        datetime.datetime(2026, 2, 14, 10, 0)
        """
        if isinstance(moment, datetime):
            day, minute = moment.date(), moment.hour * 60 + moment.minute + moment.second / 60
        else:
            day, minute = moment, 0.0
        left = float(hours) * 60
        if left < 0:
            raise ValueError("working hours to add must not be negative")
        open_, close = self._open, self._close
        if not self.is_workday(day) or minute >= close:
            day, minute = self.add_workdays(day, 1), open_
        minute = max(minute, open_)
        per_day = close - open_
        while True:
            room = close - minute
            if left <= room:
                return _at(day, minute + left)
            left -= room
            whole, left_over = divmod(left, per_day)
            if whole and left_over == 0:
                # Ends exactly at a closing time: that day, not the next morning.
                day = self.add_workdays(day, int(whole))
                return _at(day, close)
            day = self.add_workdays(day, int(whole) + 1)
            minute, left = open_, left_over


def _at(day: date, minutes: float) -> datetime:
    seconds = round(minutes * 60)
    return datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)
