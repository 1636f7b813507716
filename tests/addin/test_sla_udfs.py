"""SALES_WORKDAYS, SALES_WORKDAY, SALES_SLA_DUE, SALES_SLA_STATUS: cell inputs, ranges, errors,
and agreement with LibreOffice's NETWORKDAYS/WORKDAY where a holiday list can express the
calendar."""

from __future__ import annotations

import csv
import random
import subprocess
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import holidays
import pytest

from addin.udfs import SALES_SLA_DUE, SALES_SLA_STATUS, SALES_WORKDAY, SALES_WORKDAYS


@pytest.mark.parametrize(
    "start",
    [date(2026, 2, 13), datetime(2026, 2, 13, 15, 30), 46066, 46066.65, "2026-02-13", "2026/2/13"],
)
def test_accepts_what_a_cell_holds(start: object) -> None:
    assert SALES_WORKDAY(start, 1) == date(2026, 2, 14)  # the makeup Saturday
    assert SALES_WORKDAYS(start, "2026-02-28") == 7  # 13th, Sat 14th, 24th–27th, Sat 28th


def test_workdays_and_workday() -> None:
    assert SALES_WORKDAYS("2026-02-09", "2026-02-28") == 11
    assert SALES_WORKDAYS("2026-02-28", "2026-02-09") == -11
    assert SALES_WORKDAY("2026-10-08", -1) == date(2026, 9, 30)
    assert SALES_WORKDAY("2026-10-09", 1, "TW") == date(2026, 10, 12)


def test_sla_due_and_status() -> None:
    assert SALES_SLA_DUE("2026-02-12 15:00", 2, "工作日") == date(2026, 2, 14)
    assert SALES_SLA_DUE("2026-02-13 17:00", 2, "workhours") == datetime(2026, 2, 14, 10, 0)
    assert SALES_SLA_DUE("2026-03-02 10:00", 24, "小时") == datetime(2026, 3, 3, 10, 0)
    assert SALES_SLA_DUE(None, 24, "hours") == ""
    start = "2026-03-02 10:00"
    assert SALES_SLA_STATUS(start, "2026-03-03 09:00", 24, "hours") == "met"
    assert SALES_SLA_STATUS(start, "2026-03-03 11:00", 24, "hours") == "breached"
    assert SALES_SLA_STATUS(start, None, 24, "hours", "2026-03-03 09:00") == "open"
    assert SALES_SLA_STATUS(start, "", 24, "hours", "2026-03-03 11:00") == "overdue"
    assert SALES_SLA_STATUS(None, None, 24, "hours", "2026-03-03 11:00") == "n/a"


def test_bad_cells_give_short_error_text_never_an_exception() -> None:
    assert SALES_WORKDAYS("soon", "2026-01-01") == "#start?"
    assert SALES_WORKDAYS("2026-01-01", None) == "#end?"
    assert SALES_WORKDAY("2026-01-01", "two") == "#days?"
    assert SALES_WORKDAY("9999-12-31", 5) == "#range?"
    assert SALES_SLA_DUE("2026-01-01", 1, "weeks") == "#unit?"
    assert SALES_SLA_STATUS("2026-01-01", None, "x", "days") == "#limit?"
    assert SALES_WORKDAYS("2026-01-01", "2026-01-31", "Atlantis") == "#region?"


def test_ranges_in_ranges_out() -> None:
    starts = [["2026-02-13"], ["2026-09-30"], ["oops"]]
    assert SALES_WORKDAY(starts, 1) == [[date(2026, 2, 14)], [date(2026, 10, 8)], ["#start?"]]
    assert SALES_WORKDAY(["2026-02-13", "2026-09-30"], [1, -1]) == [
        date(2026, 2, 14),
        date(2026, 9, 29),
    ]
    grid = SALES_SLA_STATUS(
        [["2026-03-02 10:00", "2026-03-02 10:00"]],
        [["2026-03-03 09:00", None]],
        24,
        "hours",
        "2026-03-04 00:00",
    )
    assert grid == [["met", "overdue"]]


# --- LibreOffice agreement ------------------------------------------------------------------


def _windows(region: str) -> list[tuple[date, date]]:
    """Spans of 2026 with no makeup working day, where NETWORKDAYS/WORKDAY over a holiday list
    can describe the calendar."""
    found = holidays.country_holidays(region, years=2026).weekend_workdays
    edges = [date(2025, 12, 31), *sorted(d for d in found if d.year == 2026), date(2027, 1, 1)]
    return [(a + timedelta(days=1), b - timedelta(days=1)) for a, b in pairwise(edges)]


@pytest.mark.libreoffice
@pytest.mark.parametrize("region", ["CN", "TW"])
def test_agrees_with_libreoffice_networkdays_and_workday(tmp_path: Path, region: str) -> None:
    from openpyxl import Workbook

    rng = random.Random(region)
    days_off = sorted(d for d in holidays.country_holidays(region, years=2026))
    cases = []
    for lo, hi in _windows(region):
        span = (hi - lo).days
        if span < 20:
            continue
        for _ in range(40 if region == "TW" else 10):
            # WORKDAY must stay inside the window: a start two weeks from its ends.
            a = lo + timedelta(days=rng.randint(14, span - 14))
            b = lo + timedelta(days=rng.randint(0, span))
            cases.append((a, b, rng.randint(-5, 5)))
    assert len(cases) > 20
    wb = Workbook()
    ws = wb.active
    ws.title = "cases"
    holidays_ws = wb.create_sheet("holidays")
    for i, day in enumerate(days_off, start=1):
        holidays_ws.cell(i, 1, day)
    ref = f"holidays!$A$1:$A${len(days_off)}"
    for r, (a, b, n) in enumerate(cases, start=1):
        ws.cell(r, 1, a)
        ws.cell(r, 2, b)
        ws.cell(r, 3, n)
        ws.cell(r, 4, f"=NETWORKDAYS(A{r},B{r},{ref})")
        ws.cell(r, 5, f'=TEXT(WORKDAY(A{r},C{r},{ref}),"yyyy-mm-dd")')
    book = tmp_path / "cases.xlsx"
    wb.save(book)
    profile = tmp_path / "profile"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "csv",
            "--outdir",
            str(tmp_path),
            str(book),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    rows = list(csv.reader((tmp_path / "cases.csv").open(encoding="utf-8")))
    assert len(rows) == len(cases)
    for (a, b, n), row in zip(cases, rows, strict=True):
        assert int(row[3]) == SALES_WORKDAYS(a, b, region), (a, b)
        assert row[4] == SALES_WORKDAY(a, n, region).isoformat(), (a, n)
