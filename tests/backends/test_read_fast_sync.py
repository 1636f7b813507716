"""A sync gives the same result whether its tabs were read the fast way or not.

`xlsx_read.read_workbook` hands the core a tab read by the fast reader (`xlsx_fast.read_grid`)
as a `ColumnGrid`, and the core reads it through paths of its own (`tables.lines_under`,
`row_lengths`, `cells_at`, `_transpose`; `plan._Layout`, `_rightmost`, `_grid_equals`;
`RawSheet.value`). test_read_fast.py proves the grids equal; here the job runs on the benchmark
generator's workbooks (columns of one kind each, so the fast way is taken) with the fast reader
tried on every tab and never tried, and the two checks must find the same issues and plan the
same writes, and the two runs write the same bytes. A spy on `read_grid` says which way each tab
went: a test that means to exercise the fast way asserts it was taken.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from openpyxl.utils.cell import column_index_from_string

from sync.backends import xlsx_fast, xlsx_read
from sync.backends.xlsx import XlsxBackend
from sync.backends.xlsx_package import load_package
from sync.core.headers import column_letter
from sync.core.issues import Issue
from sync.core.model import CellValue, ColumnGrid, ExcelError, RawWorkbook, WritePlan
from sync.core.schema import ISSUES, SCHEMA, Lang, Owner
from sync.job import SyncResult, check_workbook, sync_workbook

ROOT = Path(__file__).parents[2]
FIXED = datetime(2026, 11, 20, 12)
FOLLOW_UPS = 3_000
NEVER = 1 << 62
LANG = Lang.ZH_HANS  # the generator's
HEAD = xlsx_fast.HEAD_ROWS


@cache
def bench() -> ModuleType:
    """benchmarks/bench.py (benchmarks/ is no package)."""
    spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tab_of(table: str) -> str:
    """The generated tab that holds `table` (leads, follow_ups …)."""
    return next(tab for tab, name in bench().TABS.items() if name == table)


LEADS, FOLLOW_UPS_TAB = tab_of("leads"), tab_of("follow_ups")
ISSUES_TAB = ISSUES.title(LANG)


class Way(StrEnum):
    FAST = "fast"  # the fast reader tried on every tab
    SLOW = "slow"  # never tried: python-calamine reads every tab


class Route(StrEnum):
    FAST = "fast"  # read_grid gave the grid
    FALLBACK = "fallback"  # read_grid answered None: python-calamine read the tab


@contextmanager
def reading(way: Way) -> Iterator[dict[str, Route]]:
    """Within the block, `read_workbook` reads `way`; the dict fills with the tabs the fast
    reader was tried on and how it answered."""
    routes: dict[str, Route] = {}
    real = xlsx_fast.read_grid

    def spy(path: Path, pkg: Any, name: str) -> Any:
        found = real(path, pkg, name)
        routes[name] = Route.FALLBACK if found is None else Route.FAST
        return found

    with pytest.MonkeyPatch.context() as mp:
        # xlsx_read calls the name it imported: spy on both
        mp.setattr(xlsx_fast, "read_grid", spy)
        mp.setattr(xlsx_read, "read_grid", spy)
        mp.setattr(xlsx_read, "FAST_MIN_BYTES", 0 if way is Way.FAST else NEVER)
        yield routes
    if way is Way.SLOW:
        assert routes == {}, "the fast reader ran with FAST_MIN_BYTES out of reach"


# -- comparing results --------------------------------------------------------------------------


def issue_fields(issues: list[Issue]) -> list[tuple[Any, ...]]:
    """Every field of every issue, `params` (left out of `==`) included."""
    return [tuple(getattr(i, f.name) for f in fields(Issue)) for i in issues]


def typed(values: Any) -> list[tuple[str, Any]]:
    """The values with their types: 5 and 5.0, True and 1, a date and a datetime differ."""
    return [(type(v).__name__, v) for v in values]


def plan_parts(plan: WritePlan) -> dict[str, Any]:
    return {
        "cells": {
            tab: [(w.row, w.col, *typed([w.value]), w.style_like) for w in writes]
            for tab, writes in plan.cells.items()
        },
        "tabs": [
            (t.sheet, t.header_rows, t.column_widths, [typed(row) for row in t.rows])
            for t in plan.tabs
        ],
        "dashboard": plan.dashboard,
    }


def assert_same_plan(fast: WritePlan, slow: WritePlan) -> None:
    got, want = plan_parts(fast), plan_parts(slow)
    assert got["cells"].keys() == want["cells"].keys()
    for tab, writes in got["cells"].items():
        differ = [(g, w) for g, w in zip(writes, want["cells"][tab], strict=False) if g != w]
        assert differ == [], f"{tab}: (fast, slow) first differ at {differ[:1]}"
        assert len(writes) == len(want["cells"][tab]), tab
    assert [t[0] for t in got["tabs"]] == [t[0] for t in want["tabs"]]
    for g, w in zip(got["tabs"], want["tabs"], strict=True):
        assert g == w, f"tab {g[0]} differs"
    assert got["dashboard"] == want["dashboard"]


def assert_same_result(fast: SyncResult, slow: SyncResult) -> None:
    differ = [
        (g, w)
        for g, w in zip(issue_fields(fast.issues), issue_fields(slow.issues), strict=False)
        if g != w
    ]
    assert differ == [], f"(fast, slow) issues first differ at {differ[:1]}"
    assert len(fast.issues) == len(slow.issues)
    assert fast.issues == slow.issues
    assert_same_plan(fast.plan, slow.plan)
    # and what the report shows: counts, metrics, referrals
    assert as_json(fast) == as_json(slow)


def as_json(result: SyncResult) -> str:
    """The report as JSON, but for the file's path (two runs sync two copies)."""
    record = result.to_json()
    del record["summary"]["source"]
    return json.dumps(record, default=str, sort_keys=True, ensure_ascii=False)


# -- the job both ways ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    fast: SyncResult
    slow: SyncResult
    routes: dict[str, Route]  # of the fast read
    book: RawWorkbook  # the fast read


def check_both_ways(path: Path) -> Checked:
    """Check `path` read each way; assert the issues, the plan and the report equal."""
    results: dict[Way, SyncResult] = {}
    books: dict[Way, RawWorkbook] = {}
    routes: dict[Way, dict[str, Route]] = {}
    for way in Way:
        with reading(way) as routes[way]:
            books[way] = xlsx_read.read_workbook(path)
        # as `sync_workbook` checks for the xlsx backend: a Dashboard tab planned if missing
        results[way] = check_workbook(books[way], as_of=FIXED, dashboard=XlsxBackend.adds_dashboard)
    assert_same_result(results[Way.FAST], results[Way.SLOW])
    return Checked(results[Way.FAST], results[Way.SLOW], routes[Way.FAST], books[Way.FAST])


@dataclass(frozen=True)
class Ran:
    fast: Path
    slow: Path
    results: dict[Way, SyncResult]
    routes: dict[str, Route]  # of the fast run's read


def run_both_ways(path: Path, folder: Path) -> Ran:
    """Sync a copy of `path` each way; assert the issues and plans equal and the two written
    files hold the same members, byte for byte."""
    folder.mkdir(exist_ok=True)
    copies: dict[Way, Path] = {}
    results: dict[Way, SyncResult] = {}
    routes: dict[Way, dict[str, Route]] = {}
    for way in Way:
        copies[way] = Path(shutil.copy(path, folder / f"{way}.xlsx"))
        with reading(way) as routes[way]:
            results[way] = sync_workbook(XlsxBackend(copies[way]), write=True, as_of=FIXED)
    assert_same_result(results[Way.FAST], results[Way.SLOW])
    assert results[Way.FAST].wrote == results[Way.SLOW].wrote
    fast, slow = members(copies[Way.FAST]), members(copies[Way.SLOW])
    assert list(fast) == list(slow)
    assert [name for name in fast if fast[name] != slow[name]] == []
    return Ran(copies[Way.FAST], copies[Way.SLOW], results, routes[Way.FAST])


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def assert_went_fast(routes: Mapping[str, Route], *tabs: str) -> None:
    assert {tab: routes.get(tab) for tab in tabs} == dict.fromkeys(tabs, Route.FAST)


# -- editing a workbook's XML -----------------------------------------------------------------

_CELL = re.compile(r'<c r="([A-Z]+)\d+"[^>]*?(?:/>|>.*?</c>)', re.S)


def edit_cells(path: Path, tab: str, cells: Mapping[str, str]) -> None:
    """Put each cell's XML (`<c r="B7" …>…</c>`, by its reference) in its row of the tab, in
    place of the cell there if any. The row must exist; only the tab's XML changes."""
    with zipfile.ZipFile(path) as zf:
        ref = load_package(zf).sheet(tab)
        assert ref is not None, tab
        parts = [(info, zf.read(info)) for info in zf.infolist()]
    xml = next(data for info, data in parts if info.filename == ref.part).decode()
    for at, cell in cells.items():
        ref_parts = re.fullmatch(r"([A-Z]+)(\d+)", at)
        assert ref_parts is not None, at
        row = re.search(rf'<row r="{ref_parts[2]}"(?:\s[^>]*)?>(.*?)</row>', xml, re.S)
        assert row is not None, (tab, at)
        placed = {column_index_from_string(m[1]): m[0] for m in _CELL.finditer(row[1])}
        placed[column_index_from_string(ref_parts[1])] = cell
        xml = xml[: row.start(1)] + "".join(placed[c] for c in sorted(placed)) + xml[row.end(1) :]
    with zipfile.ZipFile(path, "w") as out:
        for info, data in parts:
            out.writestr(info, xml.encode() if info.filename == ref.part else data)


def text_cell(at: str, text: str) -> str:
    return f'<c r="{at}" t="inlineStr"><is><t>{text}</t></is></c>'


def header_columns(path: Path, tab: str) -> dict[str, int]:
    """The tab's headers (row 1) and their columns, 1-based."""
    with reading(Way.SLOW):
        sheet = xlsx_read.read_workbook(path).sheet(tab)
    assert sheet is not None
    return {str(v): c for c, v in enumerate(sheet.rows[0], start=1) if v not in ("", None)}


def value_at(book: RawWorkbook, tab: str, row: int, col: int) -> CellValue:
    sheet = book.sheet(tab)
    assert sheet is not None, tab
    return sheet.value(row, col)


def header(table: str, field: str) -> str:
    return SCHEMA.table(table).field(field).header(LANG)


# -- workbooks ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The benchmark's workbook, small: every column holds one kind of cell."""
    path = tmp_path_factory.mktemp("generated") / "book.xlsx"
    counts = bench().generate(path, FOLLOW_UPS, seed=7)
    assert counts["follow_ups"] == FOLLOW_UPS
    return path


@pytest.fixture(scope="module")
def synced(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated workbook after one sync (python-calamine's read; the fast one writes the
    same bytes, `test_generated_workbook` says)."""
    path = Path(shutil.copy(generated, tmp_path_factory.mktemp("synced") / "book.xlsx"))
    with reading(Way.SLOW):
        assert sync_workbook(XlsxBackend(path), write=True, as_of=FIXED).wrote
    return path


@pytest.fixture
def edited(synced: Path, tmp_path: Path) -> Path:
    """A copy of the synced workbook for a test to edit."""
    return Path(shutil.copy(synced, tmp_path / "edited.xlsx"))


# -- the tests ------------------------------------------------------------------------------------


def test_generated_workbook(generated: Path, tmp_path: Path) -> None:
    checked = check_both_ways(generated)
    assert_went_fast(checked.routes, LEADS, FOLLOW_UPS_TAB)
    sheet = checked.book.sheet(FOLLOW_UPS_TAB)
    assert sheet is not None and isinstance(sheet.rows, ColumnGrid)
    # a first sync has everything to say: owned columns to fill, owned tabs to add
    assert {LEADS, FOLLOW_UPS_TAB} <= checked.fast.plan.cells.keys()
    assert ISSUES_TAB in [t.sheet for t in checked.fast.plan.tabs]
    assert checked.fast.plan.dashboard is not None
    assert checked.fast.issues

    ran = run_both_ways(generated, tmp_path / "run")
    assert_went_fast(ran.routes, LEADS, FOLLOW_UPS_TAB)
    assert ran.results[Way.FAST].wrote


def test_second_sync_plans_nothing_either_way(synced: Path, tmp_path: Path) -> None:
    checked = check_both_ways(synced)
    # the owned tabs the first sync wrote are read the fast way too (the Issues tab, metrics)
    assert_went_fast(checked.routes, LEADS, FOLLOW_UPS_TAB, ISSUES_TAB)
    assert checked.fast.plan.is_empty() and checked.slow.plan.is_empty()
    assert checked.fast.issues  # the same mistakes as before, still reported

    ran = run_both_ways(synced, tmp_path / "run")
    assert not ran.results[Way.FAST].wrote
    assert members(ran.fast) == members(synced)  # left alone, byte for byte


def test_user_columns_right_of_the_tables(edited: Path) -> None:
    """A "notes" column just past each table and a cell far to its right, in the head and below
    it; the flags header renamed, so that the field is missing and the plan adds its column
    past every column in use, which `_rightmost` finds in the rows of a ColumnGrid."""
    far = {(LEADS, "leads"): 60, (FOLLOW_UPS_TAB, "follow_ups"): 45}  # a column past the table
    for (tab, table), col in far.items():
        cols = header_columns(edited, tab)
        flags = column_letter(cols[header(table, "flags")])
        notes = column_letter(max(cols.values()) + 1)
        far_right = f"{column_letter(col)}300"
        edits = {f"{notes}{r}": text_cell(f"{notes}{r}", f"note {r}") for r in (4, 45, 46, 200)}
        edits[f"{notes}1"] = text_cell(f"{notes}1", "notes")
        edits[f"{flags}1"] = text_cell(f"{flags}1", "旧列")
        edits[far_right] = text_cell(far_right, "far")
        edit_cells(edited, tab, edits)
    checked = check_both_ways(edited)
    assert_went_fast(checked.routes, LEADS, FOLLOW_UPS_TAB)
    for (tab, table), col in far.items():
        assert value_at(checked.book, tab, 300, col) == "far"  # the edit was read
        headers = [w for w in checked.fast.plan.cells[tab] if w.row == 1]
        assert [(w.col, w.value) for w in headers] == [(col + 1, header(table, "flags"))]


def test_formula_in_an_owned_column(edited: Path) -> None:
    """Formulas in an owned column, in the head (a number) and below it (a text, so that the
    column keeps one kind and the tab its fast way): kept, and reported."""
    assert SCHEMA.table("follow_ups").field("next_step_status").owner is Owner.JOB
    col = header_columns(edited, FOLLOW_UPS_TAB)[header("follow_ups", "next_step_status")]
    status = column_letter(col)
    formulas = {
        f"{status}5": f'<c r="{status}5"><f>1+1</f><v>2</v></c>',
        f"{status}100": f'<c r="{status}100" t="str"><f>"x"&amp;"y"</f><v>xy</v></c>',
    }
    edit_cells(edited, FOLLOW_UPS_TAB, formulas)
    checked = check_both_ways(edited)
    assert_went_fast(checked.routes, FOLLOW_UPS_TAB)
    sheet = checked.book.sheet(FOLLOW_UPS_TAB)
    assert sheet is not None and {(5, col), (100, col)} <= sheet.formulas
    for result in (checked.fast, checked.slow):
        written = {(w.row, w.col) for w in result.plan.cells.get(FOLLOW_UPS_TAB, [])}
        assert not written & {(5, col), (100, col)}
        found = {
            (i.row, i.column, i.value)
            for i in result.issues
            if i.code == "formula-in-owned-column" and i.tab == FOLLOW_UPS_TAB
        }
        assert found == {(5, status, "2"), (100, status, "xy")}


def test_error_values_below_the_head(edited: Path) -> None:
    """Error values in input columns (a date, an amount) below the head: fastexcel reports
    them with their kinds, which name their codes; the tabs stay on the fast way."""
    next_date = header_columns(edited, FOLLOW_UPS_TAB)[header("follow_ups", "next_step_date")]
    amount = header_columns(edited, LEADS)[header("leads", "expected_amount")]
    errors = {(FOLLOW_UPS_TAB, 120, next_date): "#N/A", (LEADS, 200, amount): "#DIV/0!"}
    for (tab, row, col), code in errors.items():
        at = f"{column_letter(col)}{row}"
        edit_cells(edited, tab, {at: f'<c r="{at}" t="e"><v>{code}</v></c>'})
    checked = check_both_ways(edited)
    assert_went_fast(checked.routes, LEADS, FOLLOW_UPS_TAB)
    read = {at: value_at(checked.book, *at) for at in errors}
    assert read == {at: ExcelError(code) for at, code in errors.items()}
    found = {(i.tab, i.row, i.column) for i in checked.fast.issues}
    assert {(tab, row, column_letter(col)) for tab, row, col in errors} <= found


def test_error_codes_calamine_does_not_read(edited: Path, tmp_path: Path) -> None:
    """#SPILL! and #CALC! (newer Excel's codes, which calamine refuses a workbook for) in input
    columns: the workbook is read all the same, those two tabs by python-calamine from a copy
    holding #N/A there, each code from the workbook itself; each is an excel-error issue; the
    sync writes the same bytes either way, and the cells keep their codes."""
    next_date = header_columns(edited, FOLLOW_UPS_TAB)[header("follow_ups", "next_step_date")]
    amount = header_columns(edited, LEADS)[header("leads", "expected_amount")]
    errors = {(FOLLOW_UPS_TAB, 120, next_date): "#SPILL!", (LEADS, 5, amount): "#CALC!"}
    for (tab, row, col), code in errors.items():
        at = f"{column_letter(col)}{row}"
        edit_cells(
            edited, tab, {at: f'<c r="{at}" t="e"><f>FILTER(A:A,A:A=0)</f><v>{code}</v></c>'}
        )
    checked = check_both_ways(edited)
    assert {at: value_at(checked.book, *at) for at in errors} == {
        at: ExcelError(code) for at, code in errors.items()
    }
    found = {(i.tab, i.row, i.column, i.code) for i in checked.fast.issues}
    assert {(tab, row, column_letter(col), "excel-error") for tab, row, col in errors} <= found
    ran = run_both_ways(edited, tmp_path / "ran")
    written = members(ran.fast)
    with zipfile.ZipFile(ran.fast) as zf:
        pkg = load_package(zf)
    for (tab, row, col), code in errors.items():
        ref = pkg.sheet(tab)
        assert ref is not None
        at = f"{column_letter(col)}{row}"
        assert (
            f'<c r="{at}" t="e"><f>FILTER(A:A,A:A=0)</f><v>{code}</v></c>'.encode()
            in (written[ref.part])
        )


def test_stray_text_in_a_date_column(edited: Path) -> None:
    """The follow-ups' date column has a text below the head: that column is read by
    python-calamine alone (fastexcel refuses a column of two kinds), the tab and the others
    still fast, the same check either way."""
    day = column_letter(header_columns(edited, FOLLOW_UPS_TAB)[header("follow_ups", "date")])
    edit_cells(edited, FOLLOW_UPS_TAB, {f"{day}150": text_cell(f"{day}150", "TBD")})
    checked = check_both_ways(edited)
    assert value_at(checked.book, FOLLOW_UPS_TAB, 150, column_index_from_string(day)) == "TBD"
    assert_went_fast(checked.routes, FOLLOW_UPS_TAB, LEADS, ISSUES_TAB)
    assert (FOLLOW_UPS_TAB, 150, day) in {(i.tab, i.row, i.column) for i in checked.fast.issues}


@pytest.mark.parametrize("lookups", [False, True], ids=["LEN", "a third VLOOKUP showing #N/A"])
def test_a_column_of_formulas_beside_the_follow_ups(
    generated: Path, tmp_path: Path, lookups: bool
) -> None:
    """The benchmark's workbook with a column of formulas on every follow-up (as a team adds
    one; with `lookups`, a third of them showing #N/A): each formula found, in its own column,
    each error value in its cell, the tab still read fast, and the same check as without it
    (the column is not salesync's)."""
    from openpyxl import load_workbook

    copy = Path(shutil.copy(generated, tmp_path / "book.xlsx"))
    book = bench().with_formula_column(copy, "lookups" if lookups else "formulas")
    checked = check_both_ways(book)
    assert_went_fast(checked.routes, LEADS, FOLLOW_UPS_TAB)
    sheet = checked.book.sheet(FOLLOW_UPS_TAB)
    assert sheet is not None
    column = max(header_columns(generated, FOLLOW_UPS_TAB).values()) + 1  # the first one free
    assert header_columns(book, FOLLOW_UPS_TAB)[bench().FORMULA_HEADER] == column
    rows = range(2, FOLLOW_UPS + 2)
    assert sheet.formulas == {(row, column) for row in rows}
    shown = {row: sheet.value(row, column) for row in rows}
    assert shown == {row: ExcelError("#N/A") if lookups and row % 3 == 0 else 8 for row in rows}
    plain = check_both_ways(generated).fast
    assert [i.to_record() for i in checked.fast.issues] == [i.to_record() for i in plain.issues]
    opened = load_workbook(book, read_only=True)  # another reader takes the file as it is
    cells = list(opened[FOLLOW_UPS_TAB].iter_rows(min_row=2, max_row=3, values_only=True))
    assert [row[column - 1] for row in cells] == [
        "=LEN(B2)",
        "=VLOOKUP(B3,Z:Z,1,FALSE)" if lookups else "=LEN(B3)",
    ]
    opened.close()


def test_a_spill_half_way_down_the_follow_ups(generated: Path, tmp_path: Path) -> None:
    """The benchmark's `spill` workbook: one #SPILL! (a code calamine refuses a sheet for) half
    way down the follow-ups, in a column salesync does not own. The tab is read from a copy
    without it, the fast way; the code is in its cell; the check is the one without it."""
    copy = Path(shutil.copy(generated, tmp_path / "book.xlsx"))
    book = bench().with_formula_column(copy, "spill")
    checked = check_both_ways(book)
    assert_went_fast(checked.routes, LEADS, FOLLOW_UPS_TAB)
    sheet = checked.book.sheet(FOLLOW_UPS_TAB)
    assert sheet is not None
    column = max(header_columns(generated, FOLLOW_UPS_TAB).values()) + 1
    middle = (FOLLOW_UPS + 1) // 2 + 1
    assert sheet.formulas == {(middle, column)}
    assert sheet.value(middle, column) == ExcelError("#SPILL!")
    plain = check_both_ways(generated).fast
    assert [i.to_record() for i in checked.fast.issues] == [i.to_record() for i in plain.issues]


def test_issues_tab_read_back_as_a_column_grid(edited: Path) -> None:
    """The owned tabs a sync wrote, read back the fast way, compare equal to what the next sync
    would write (`_grid_equals` over a ColumnGrid); one message changed below the head, the
    Issues tab alone is planned again, both ways."""
    checked = check_both_ways(edited)
    assert checked.routes[ISSUES_TAB] is Route.FAST
    issues = checked.book.sheet(ISSUES_TAB)
    assert issues is not None and isinstance(issues.rows, ColumnGrid)
    assert len(issues.rows) > HEAD + 1
    assert checked.fast.plan.tabs == checked.slow.plan.tabs == []

    message = f"{column_letter(len(issues.rows[0]))}{HEAD + 5}"
    edit_cells(edited, ISSUES_TAB, {message: text_cell(message, "changed")})
    checked = check_both_ways(edited)
    assert checked.routes[ISSUES_TAB] is Route.FAST
    assert [t.sheet for t in checked.fast.plan.tabs] == [ISSUES_TAB]
