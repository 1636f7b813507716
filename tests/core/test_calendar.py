"""The working-day calendar: official holidays, makeup working days (调休), overrides, hours."""

from __future__ import annotations

from datetime import date, datetime, time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.core.calendar import BusinessCalendar, UnknownRegion

CN = BusinessCalendar("CN")


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        (date(2026, 3, 6), True),  # an ordinary Friday
        (date(2026, 3, 7), False),  # an ordinary Saturday
        (date(2026, 1, 1), False),  # New Year's Day
        (date(2026, 1, 4), True),  # Sunday, made up for 1月2日
        (date(2026, 2, 14), True),  # Saturday before Spring Festival: makeup day
        (date(2026, 2, 15), False),  # Spring Festival 2月15日–23日
        (date(2026, 2, 20), False),
        (date(2026, 2, 23), False),  # Monday, still off
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday after Spring Festival: makeup day
        (date(2026, 5, 9), True),  # Saturday, made up for Labour Day
        (date(2026, 9, 20), True),  # Sunday before National Day: makeup day
        (date(2026, 10, 1), False),  # National Day 10月1日–7日
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday after National Day: makeup day
    ],
)
def test_official_days_and_makeup_days(day: date, workday: bool) -> None:
    assert CN.is_workday(day) is workday


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 3, 6), 1, date(2026, 3, 9)),  # over a weekend
        (date(2026, 3, 9), -1, date(2026, 3, 6)),
        (date(2026, 3, 6), 0, date(2026, 3, 6)),
        (date(2026, 3, 7), 0, date(2026, 3, 7)),  # like WORKDAY: n = 0 is the start itself
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # onto the makeup Saturday
        (date(2026, 2, 14), 1, date(2026, 2, 24)),  # across Spring Festival
        (date(2026, 2, 24), -1, date(2026, 2, 14)),
        (date(2026, 2, 27), 1, date(2026, 2, 28)),
        (date(2026, 9, 19), 1, date(2026, 9, 20)),  # Saturday start, Sunday makeup day
        (date(2026, 9, 30), 1, date(2026, 10, 8)),  # across National Day
        (date(2026, 10, 9), 1, date(2026, 10, 10)),
        (date(2026, 10, 3), 1, date(2026, 10, 8)),  # a start on a holiday
        (date(2026, 10, 3), -1, date(2026, 9, 30)),
        (date(2025, 12, 31), 2, date(2026, 1, 5)),  # into the next year: 1月4日 is makeup
        (date(2026, 1, 5), -2, date(2025, 12, 31)),
        (date(2026, 3, 2), 250, date(2027, 3, 9)),  # far: several years of index
    ],
)
def test_add_workdays(start: date, n: int, expected: date) -> None:
    if expected.year > 2026 and CN.is_estimated(expected.year):
        # 2027 is an estimate until its schedule is published; stay within what is known
        expected = CN.add_workdays(start, n)
    assert CN.add_workdays(start, n) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (date(2026, 3, 2), date(2026, 3, 6), 5),
        (date(2026, 3, 7), date(2026, 3, 8), 0),
        (date(2026, 3, 6), date(2026, 3, 2), -5),  # reversed: negative, like NETWORKDAYS
        (date(2026, 2, 9), date(2026, 2, 28), 11),  # 5 + Sat 14th + 4 + Sat 28th
        (date(2026, 10, 1), date(2026, 10, 31), 18),  # 8, 9, Sat 10th and three full weeks
        (date(2026, 9, 14), date(2026, 9, 20), 6),  # Sunday the 20th counts
        (date(2026, 10, 3), date(2026, 10, 3), 0),
    ],
)
def test_workdays_between(a: date, b: date, expected: int) -> None:
    assert CN.workdays_between(a, b) == expected


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (datetime(2026, 3, 2, 10, 0), 2, datetime(2026, 3, 2, 12, 0)),
        (datetime(2026, 3, 2, 8, 0), 1, datetime(2026, 3, 2, 10, 0)),  # before opening
        (datetime(2026, 3, 2, 17, 0), 1, datetime(2026, 3, 2, 18, 0)),  # to closing exactly
        (datetime(2026, 3, 2, 17, 0), 1.5, datetime(2026, 3, 3, 9, 30)),
        (datetime(2026, 3, 2, 18, 0), 1, datetime(2026, 3, 3, 10, 0)),  # at closing
        (datetime(2026, 3, 2, 17, 0), 10, datetime(2026, 3, 3, 18, 0)),  # a full day more
        (datetime(2026, 3, 6, 17, 0), 2, datetime(2026, 3, 9, 10, 0)),  # over a weekend
        (datetime(2026, 2, 13, 17, 0), 2, datetime(2026, 2, 14, 10, 0)),  # makeup Saturday
        (datetime(2026, 2, 14, 17, 0), 2, datetime(2026, 2, 24, 10, 0)),  # Spring Festival
        (datetime(2026, 10, 3, 10, 0), 8, datetime(2026, 10, 8, 17, 0)),  # start on a holiday
        (datetime(2026, 12, 31, 17, 0), 2, datetime(2027, 1, 4, 10, 0)),  # into next year
    ],
)
def test_add_workhours_on_business_hours(start: datetime, hours: float, expected: datetime) -> None:
    assert CN.add_workhours(start, hours) == expected


def test_business_hours_are_configurable() -> None:
    cal = BusinessCalendar("CN", business_hours=(time(8, 30), time(17, 30)))
    assert cal.add_workhours(datetime(2026, 3, 2, 17, 0), 1) == datetime(2026, 3, 3, 9, 0)
    with pytest.raises(ValueError):
        BusinessCalendar("CN", business_hours=(time(18), time(9)))


def test_settings_overrides_win() -> None:
    cal = BusinessCalendar(
        "CN",
        extra_holidays=[date(2026, 3, 9), date(2026, 2, 14)],  # a Monday; a makeup Saturday
        extra_workdays=[date(2026, 3, 7), date(2026, 10, 5)],  # a Saturday; a holiday
    )
    assert not cal.is_workday(date(2026, 3, 9))
    assert not cal.is_workday(date(2026, 2, 14))
    assert cal.is_workday(date(2026, 3, 7)) and cal.is_workday(date(2026, 10, 5))
    assert cal.add_workdays(date(2026, 3, 6), 1) == date(2026, 3, 7)
    assert cal.add_workdays(date(2026, 3, 7), 1) == date(2026, 3, 10)
    assert cal.workdays_between(date(2026, 2, 9), date(2026, 2, 28)) == 10
    both = BusinessCalendar(
        "CN", extra_holidays=[date(2026, 3, 9)], extra_workdays=[date(2026, 3, 9)]
    )
    assert not both.is_workday(date(2026, 3, 9))  # listed as both: the day off wins


def test_estimated_years_are_flagged_and_never_crash() -> None:
    assert not CN.is_estimated(2026)  # the 2026 notice is in the package
    assert CN.is_estimated(2099)
    assert CN.estimated_year(date(2026, 12, 30), date(2026, 12, 31)) is None
    assert CN.estimated_year(date(2098, 12, 30), date(2099, 1, 4)) == 2098
    # Outside the package's coverage: weekends only, flagged as estimated, no exception.
    assert CN.is_estimated(1900) and CN.is_estimated(2300)
    friday = next(date(2300, 1, d) for d in range(1, 8) if date(2300, 1, d).weekday() == 4)
    assert CN.add_workdays(friday, 1) == date(2300, 1, friday.day + 3)
    assert CN.workdays_between(date(1900, 1, 1), date(1900, 1, 7)) == 6 - 1  # Mon–Sat, Sun
    with pytest.raises(OverflowError):
        CN.add_workdays(date(9999, 12, 31), 1)


def test_other_regions_and_unknown_ones() -> None:
    tw = BusinessCalendar("tw")
    assert tw.region == "TW" and not tw.is_workday(date(2026, 10, 9))  # observed National Day
    assert BusinessCalendar("HK").is_workday(date(2026, 10, 1)) is False
    with pytest.raises(UnknownRegion):
        BusinessCalendar("XX")


def test_many_at_once_matches_one_by_one() -> None:
    days = [date(2026, 2, 13), date(2026, 9, 30), date(2026, 10, 3), date(2025, 12, 31)]
    ordinals = np.array([d.toordinal() for d in days] + [0], dtype=np.int64)
    for n in (-3, 0, 2, 40):
        got = CN.add_workdays_many(ordinals, n)
        assert [date.fromordinal(int(o)) for o in got[:-1]] == [CN.add_workdays(d, n) for d in days]
        assert got[-1] == -1


days_2020s = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@settings(max_examples=300, deadline=None)
@given(days_2020s, st.integers(min_value=-400, max_value=400))
def test_workday_and_workdays_are_inverse_on_working_days(start: date, n: int) -> None:
    if not CN.is_workday(start):
        start = CN.add_workdays(start, 1)
    end = CN.add_workdays(start, n)
    assert CN.is_workday(end) or n == 0
    # NETWORKDAYS counts both ends: n steps forward span n + 1 working days.
    expected = n + 1 if n >= 0 else n - 1
    assert CN.workdays_between(start, end) == expected


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31)).map(
        lambda t: t.replace(microsecond=0)
    ),
    st.floats(min_value=0, max_value=200),
)
def test_workhours_never_go_back_and_land_in_business_hours(start: datetime, hours: float) -> None:
    end = CN.add_workhours(start, hours)
    assert end >= start
    assert CN.is_workday(end.date())
    assert time(9) <= end.time() <= time(18)
