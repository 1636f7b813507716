"""Plan: turn computed values and issues into the smallest set of writes.

Only owned cells and owned tabs are ever in a plan, and only where the workbook differs from
what the job would write, so a second run plans nothing and the file is left alone. A cell of
an owned column that holds a formula is the users' choice: it is kept and reported.

>>> same_value(5.0, 5), same_value("", None), same_value("A", "a")
(True, True, False)
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import chain, compress, count, repeat
from operator import attrgetter, itemgetter
from types import NoneType
from typing import Any

import numpy as np

from .columns import RowValues, column_items, column_values
from .headers import Binding, BoundTable, column_letter
from .issues import Issue, make_issue
from .model import (
    SHEET_ROWS,
    CellValue,
    CellWrite,
    CellWrites,
    ColumnGrid,
    DashboardWrite,
    ExcelError,
    FormulaCells,
    TabWrite,
    WritableValue,
    WritePlan,
)
from .parse import blank_cells, is_blank
from .schema import DASHBOARD, ISSUES, SCHEMA, SEVERITY, Kind, Lang, Owner, Severity
from .tables import TableData, cells_at, lines_under, row_lengths
from .validate import Computed, flag_rows

ISSUE_COLUMN_WIDTHS = (8.0, 22.0, 14.0, 6.0, 6.0, 18.0, 22.0, 80.0)


@dataclass(slots=True)
class Planned:
    plan: WritePlan
    issues: list[Issue]  # every issue, the ones found while planning included, sorted


def same_value(current: CellValue, desired: WritableValue) -> bool:
    """Would writing `desired` leave the cell as it reads now?"""
    if is_blank(current) and (desired is None or desired == ""):
        return True
    if isinstance(desired, bool) or isinstance(current, bool):
        return type(desired) is type(current) and desired == current
    if isinstance(desired, int | float) and isinstance(current, int | float):
        return math.isclose(float(current), float(desired), rel_tol=1e-12, abs_tol=1e-9)
    if isinstance(desired, datetime) or isinstance(current, datetime):
        return _as_dt(current) == _as_dt(desired)
    if isinstance(desired, date) and isinstance(current, date):
        return current == desired
    return type(current) is type(desired) and current == desired


def _as_dt(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(microsecond=0)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return value


_PLAIN_TYPES = frozenset({str, int, float, date, datetime, time, timedelta, ExcelError, NoneType})
"""Cell types between which `==` settles `same_value` (not bool: True == 1 is no same value)."""

_NONE_AS_EMPTY: dict[Any, str] = {None: ""}
_EMPTY = frozenset({None, ""})
_SAME_KIND: dict[type, type] = {int: float, NoneType: str}


def changed(current: Sequence[Any], desired: Sequence[Any]) -> list[int]:
    """The positions, ascending, where writing `desired[i]` over `current[i]` changes the cell
    (`same_value` is false).

    >>> changed(["a", 5.0, "", None, True, "x", None], ["a", 5, None, "", 1, "y", 0])
    [4, 5, 6]
    """
    if current.count(None) == len(current):  # a new or empty column: only values change it
        return np.flatnonzero(_empty_for_none(desired) != "").tolist()
    doubtful = _doubtful(current, desired)
    empty = list(map(_EMPTY.__contains__, map(current.__getitem__, doubtful)))
    # An empty cell is the same as nothing `_doubtful` leaves: those are writes for certain.
    filled = compress(doubtful, map(operator.not_, empty))
    checked = [i for i in filled if not same_value(current[i], desired[i])]
    return sorted([*compress(doubtful, empty), *checked])


def _doubtful(current: Sequence[Any], desired: Sequence[Any]) -> list[int]:
    """The positions where `current` and `desired` may differ, found in bulk: all but the pairs
    that are equal and of one kind (None and '' alike, int and float alike).

    A column of plain types goes `_BLOCK` rows at a time, and a block the two lists hold
    alike (`==` of lists, in C, an object compared by identity first) is passed over: on a
    later sync most of an owned column is what it was. Alike, in plain types, means equal
    values of one kind, but for a NaN object found in both (`==` of lists takes it as equal
    to itself): a block with a NaN is compared value by value."""
    types = {*map(type, current), *map(type, desired)}
    if not _PLAIN_TYPES.issuperset(types):
        apart = np.flatnonzero(_empty_for_none(current) != _empty_for_none(desired))
        return np.union1d(apart, np.flatnonzero(_kinds(current) != _kinds(desired))).tolist()
    found: list[int] = []
    for start in range(0, len(current), _BLOCK):
        have, want = current[start : start + _BLOCK], desired[start : start + _BLOCK]
        if have == want and not (float in types and _has_nan(have)):
            continue
        found += (np.flatnonzero(_empty_for_none(have) != _empty_for_none(want)) + start).tolist()
    return found


_BLOCK = 4096  # cells compared at a time: a block alike is passed over


def _has_nan(values: Sequence[Any]) -> bool:
    return any(value != value for value in values)


def _empty_for_none(values: Sequence[Any]) -> np.ndarray:
    return np.fromiter(map(_NONE_AS_EMPTY.get, values, values), object, len(values))


def _kinds(values: Sequence[Any]) -> np.ndarray:
    types = list(map(type, values))
    return np.fromiter(map(_SAME_KIND.get, types, types), object, len(types))


def plan_sync(
    binding: Binding,
    tables: dict[str, TableData],
    computed: Computed,
    issues: list[Issue],
    lang: Lang,
    owned_tabs: Mapping[str, Sequence[Sequence[WritableValue]]] | None = None,
    *,
    dashboard: bool = False,
) -> Planned:
    """Writes for owned columns (values in `computed`, plus ⚙ flags), the Issues tab and the
    other owned tabs (`owned_tabs`: table name → data rows under the schema's headers), and,
    with `dashboard` (a backend that can add charts), a Dashboard tab where there is none."""
    plan = WritePlan()
    found = list(issues)
    layouts = {name: _Layout(data) for name, data in tables.items()}
    # Formula cells in owned columns are found first so that they, too, reach the flags.
    for table_name, fields in computed.items():
        for field_name, values in fields.items():
            found.extend(layouts[table_name].formula_issues(field_name, values, lang))
    flags = flag_rows(found, tables, lang)
    for table_name, data in tables.items():
        fields = dict(computed.get(table_name, {}))
        if data.bound.table.has("flags"):
            fields["flags"] = flags.get(table_name, {}).get("flags", {})
        writes = CellWrites()
        for field_name, values in fields.items():
            layouts[table_name].add_writes(writes, field_name, values, lang)
        if writes:
            plan.cells[data.tab] = writes
    found.sort(key=Issue.sort_key)
    listed = listed_issues(found, lang, _tab_title(binding, ISSUES.name))
    if len(listed) < len(found):  # the last row says so; the others are all still reported
        found.append(listed[-1])
    issues_tab = _issues_tab(binding, listed, lang)
    if issues_tab is not None:
        plan.tabs.append(issues_tab)
    for table_name, rows in (owned_tabs or {}).items():
        tab = plan_owned_tab(binding, table_name, rows, lang, with_header=False)
        if tab is not None:
            plan.tabs.append(tab)
    if dashboard:
        plan.dashboard = plan_dashboard(binding, plan)
    return Planned(plan, found)


DASHBOARD_SOURCES = ("performance", "funnel_stages", "issues", "reps")
"""The tables whose tabs the Dashboard's helper blocks read."""


def plan_dashboard(binding: Binding, plan: WritePlan) -> DashboardWrite | None:
    """A Dashboard tab when the workbook has none, reading the tabs as they are named (bound)
    or will be named (written by `plan`); none when one is there or when a tab it reads would
    be missing (a workbook without Reps)."""
    if DASHBOARD.name in binding.tables:
        return None
    lang = binding.lang
    written = {t.sheet for t in plan.tabs}
    tabs = []
    for name in DASHBOARD_SOURCES:
        bound = binding.tables.get(name)
        title = SCHEMA.table(name).title(lang)
        if bound is not None:
            tabs.append((name, bound.sheet.name))
        elif title in written:
            tabs.append((name, title))
        else:
            return None
    sheet = DASHBOARD.title(lang)
    taken = {b.sheet.name.casefold() for b in binding.tables.values()}
    taken |= {t.casefold() for t in written} | {u.casefold() for u in binding.unbound_sheets}
    if sheet.casefold() in taken:
        return None  # a tab of another kind already has the name
    return DashboardWrite(sheet, lang.value, tuple(tabs))


class _Layout:
    """Where a table's owned columns are, and where missing ones will go."""

    def __init__(self, data: TableData) -> None:
        self.data = data
        self.bound: BoundTable = data.bound
        self.added: dict[str, int] = {}
        self.first = self.bound.header_row + 1
        self.last = (self.bound.end_row or 1 << 62) - 1  # the last row the table may reach
        self.lines = lines_under(self.bound)  # the rows under the header, as read
        lengths = row_lengths(self.lines)
        self.shortest, self.longest = min(lengths, default=0), max(lengths, default=0)
        formulas = self.bound.sheet.formulas
        if not isinstance(formulas, FormulaCells):
            formulas = FormulaCells.of(formulas)
        self.formula_rows = formulas.columns  # column → its formula rows, ascending
        self.next_free = self._rightmost() + 1

    def _rightmost(self) -> int:
        """The last column in use by the table: header, data, or a formula without a value."""
        right = self.bound.last_column
        grid = self.bound.sheet.rows
        below = self.bound.header_row
        right = max([right, *(c for c, rows in self.formula_rows.items() if rows[-1] >= below)])
        if self.longest <= right:
            return right  # no row goes on past the table
        at = list(map(operator.sub, self.data.rows, repeat(1)))
        if isinstance(grid, ColumnGrid):  # every row as long: the columns past the table
            for col in range(grid.width, right, -1):
                cells = grid.column(col - 1)
                if not blank_cells(list(map(cells.__getitem__, at))).all():
                    return col
            return right
        lines = list(map(grid.__getitem__, at))
        # Only rows longer than the table can hold more: usually none of them.
        for cells in compress(lines, list(map(right.__lt__, map(len, lines)))):
            for col in range(len(cells), right, -1):
                if not is_blank(cells[col - 1]):
                    right = col
                    break
        return right

    def column(self, field_name: str) -> int | None:
        return self.bound.columns.get(field_name) or self.added.get(field_name)

    def cells(self, index: int, last: int) -> list[CellValue]:
        """Column `index` (0-based) from the first row under the header to `last`, as read;
        None where a row stops short of it and past the table."""
        found = cells_at(self.lines, index, self.shortest) if index < self.longest else []
        size = last - self.first + 1
        return found[:size] + [None] * (size - len(found))

    def formula_issues(self, field_name: str, values: Mapping[int, Any], lang: Lang) -> list[Issue]:
        col = self.bound.columns.get(field_name)
        if col is None or field_name in self.bound.unusable:
            return []
        if self.bound.table.field(field_name).owner is not Owner.JOB:
            return []
        formulas = self.formula_rows.get(col)
        if formulas is None:
            return []
        sheet = self.bound.sheet
        issues = []
        items = list(column_items(values))
        rows = np.fromiter(map(itemgetter(0), items), np.int64, len(items))
        for at in np.flatnonzero(np.isin(rows, formulas)).tolist():
            row, value = items[at]
            current = sheet.value(row, col)
            if same_value(current, value):
                continue
            issues.append(
                make_issue(
                    "formula-in-owned-column",
                    lang,
                    tab=sheet.name,
                    row=row,
                    column=column_letter(col),
                    header=self.bound.header_of(field_name, lang),
                    value=current,
                    field=field_name,
                    table=self.bound.table.name,
                )
            )
        return issues

    def add_writes(
        self, into: CellWrites, field_name: str, values: Mapping[int, Any], lang: Lang
    ) -> None:
        """The column's writes, added to `into` a column at a time (a table's writes can
        number millions: no `CellWrite` is made for each)."""
        if field_name in self.bound.unusable:
            return  # duplicate columns: reported, never guessed at
        f = self.bound.table.field(field_name)
        col = self.column(field_name)
        if col is None:
            if _EMPTY.issuperset(column_values(values)):
                return  # nothing to say: no need for the column yet
            col = self.added[field_name] = self.next_free
            self.next_free += 1
            header_row = self.bound.header_row
            style_like = (header_row, self.bound.last_column or 1)
            into.append(CellWrite(header_row, col, f.header(lang), style_like=style_like))
        if f.owner is Owner.JOB:
            rows, new = self._rewritten(col, values)
        else:
            rows, new = self._blanks_filled(col, values)
        formulas = self.formula_rows.get(col)
        if formulas is not None and rows:
            kept = np.isin(np.asarray(rows, dtype=np.int64), formulas, invert=True).tolist()
            rows, new = list(compress(rows, kept)), list(compress(new, kept))
        into.add_column(rows, col, new)

    def _rewritten(self, col: int, values: Mapping[int, Any]) -> tuple[list[int], list[Any]]:
        """The rows (ascending) and values that rewrite the whole column: rows that no longer
        have a value are cleared."""
        if col > self.longest:  # past every row's end: only the values change it
            return self._non_empty(values)
        column = RowValues.of(values)
        top = int(column.rows[-1]) if len(column) else 0
        last = min(max(len(self.bound.sheet.rows), top), self.last)
        full, given = column.spread(self.first, last)
        # '' where a row has no value, as an empty cell reads (`same_value` takes '' and None
        # alike): most of a column the job wrote before then compares alike, block by block
        at = changed(self.cells(col - 1, last), np.where(given, full, "").tolist())
        # None where a row has no value: cleared
        return list(map(range(self.first, last + 1).__getitem__, at)), full[at].tolist()

    def _non_empty(self, values: Mapping[int, Any]) -> tuple[list[int], list[Any]]:
        """The table's rows (ascending) with a value that is not empty, and their values."""
        rows, new = list(values), list(column_values(values))
        if not _EMPTY.isdisjoint(new):  # usually none is blank: no pass to leave them out
            filled = list(map(operator.not_, map(_EMPTY.__contains__, new)))
            rows, new = list(compress(rows, filled)), list(compress(new, filled))
        if rows == sorted(rows) and (not rows or self.first <= rows[0] <= rows[-1] <= self.last):
            return rows, new  # the usual case: values come in row order
        at = np.array(rows, np.int64)
        order = np.argsort(at, kind="stable")
        order = order[(at[order] >= self.first) & (at[order] <= self.last)]
        return at[order].tolist(), list(map(new.__getitem__, order.tolist()))

    def _blanks_filled(self, col: int, values: Mapping[int, Any]) -> tuple[list[int], list[Any]]:
        """JOB_IF_BLANK: the rows (ascending) and values where the cell is blank now (the
        values are for data rows)."""
        given = sorted(values)
        column = self.cells(col - 1, max(given, default=0))
        current = list(map(column.__getitem__, map(operator.sub, given, repeat(self.first))))
        blank = {v for v in set(current) if is_blank(v)}  # each distinct value once
        rows = list(compress(given, map(blank.__contains__, current)))
        return rows, list(map(values.__getitem__, rows))


ISSUE_ROW_FIELDS = ("code", "tab", "row", "column", "header", "value", "message")
"""The Issue attributes in the Issues tab's columns, after the severity label."""


def issue_rows(issues: list[Issue], lang: Lang) -> tuple[tuple[WritableValue, ...], ...]:
    """The Issues tab: the header, then one row per issue.

    >>> issue_rows([make_issue("required", Lang.EN, tab="Leads", row=5, header="Customer")],
    ...            Lang.EN)[1]
    ('Error', 'required', 'Leads', 5, None, 'Customer', None, 'Customer is required but blank.')
    """
    header = tuple(f.header(lang) for f in ISSUES.fields)
    labels = {s: SEVERITY.label(s.value, lang) for s in Severity}
    severities = map(labels.__getitem__, map(attrgetter("severity"), issues))
    columns = (map(attrgetter(name), issues) for name in ISSUE_ROW_FIELDS)
    return (header, *zip(severities, *columns, strict=True))


def listed_issues(
    issues: list[Issue], lang: Lang, tab: str, sheet_rows: int | None = None
) -> list[Issue]:
    """The issues the Issues tab lists, in their order: all of them, or, with more than a
    sheet of `sheet_rows` holds under its header, the errors first, then warnings, then the
    rest, as many as fit with a last row that says how many are not listed
    (`issues-not-listed`). A sheet of a million rows with two issues each would otherwise make
    a tab no spreadsheet opens.

    >>> many = [make_issue("required", Lang.EN, tab="Leads", row=r) for r in range(3, 9)]
    >>> many[1] = make_issue("sla-overdue", Lang.EN, tab="Leads", row=4)  # a warning
    >>> listed = listed_issues(many, Lang.EN, "Issues", sheet_rows=5)  # 3 listed, 1 saying so
    >>> [i.row for i in listed]
    [3, 5, 6, None]
    >>> listed[-1].message
    '3 more issues are not listed here (a sheet holds 5 rows: every error is listed, then \
warnings and notes as they fit); salesync check --json lists them all.'
    """
    sheet_rows = sheet_rows or SHEET_ROWS
    room = sheet_rows - 1  # under the header
    if len(issues) <= room:
        return issues
    keep = room - 1  # and the row that says how many are not listed
    worst_first = sorted(range(len(issues)), key=lambda i: -issues[i].severity.rank)  # stable
    kept = sorted(worst_first[:keep])
    note = make_issue(
        "issues-not-listed",
        lang,
        tab=tab,
        params={"count": len(issues) - keep, "limit": sheet_rows},
    )
    return [*map(issues.__getitem__, kept), note]


def _tab_title(binding: Binding, table_name: str) -> str:
    """The name of the owned tab `table_name`: the workbook's, else the schema's."""
    existing = binding.tables.get(table_name)
    return existing.sheet.name if existing else SCHEMA.table(table_name).title(binding.lang)


def _issues_tab(binding: Binding, issues: list[Issue], lang: Lang) -> TabWrite | None:
    return _tab_if_changed(binding, ISSUES.name, issue_rows(issues, lang), ISSUE_COLUMN_WIDTHS)


def plan_owned_tab(
    binding: Binding,
    table_name: str,
    rows: Sequence[Sequence[WritableValue]],
    lang: Lang,
    *,
    with_header: bool = True,
) -> TabWrite | None:
    """The whole owned tab `table_name` (the schema's header unless `rows` bring their own,
    then `rows`), unless it already reads so."""
    table = SCHEMA.table(table_name)
    header = (tuple(f.header(lang) for f in table.fields),) if with_header else ()
    widths = tuple(_column_width(f.kind) for f in table.fields)
    return _tab_if_changed(binding, table_name, (*header, *map(tuple, rows)), widths)


def _column_width(kind: Kind) -> float:
    widths = {Kind.TEXT: 24.0, Kind.DATE: 12.0, Kind.DATETIME: 17.0, Kind.PERIOD: 10.0}
    return widths.get(kind, 12.0)


def _tab_if_changed(
    binding: Binding,
    table_name: str,
    rows: tuple[tuple[WritableValue, ...], ...],
    widths: tuple[float, ...],
) -> TabWrite | None:
    existing = binding.tables.get(table_name)
    if existing is not None and _grid_equals(existing.sheet.rows, rows):
        return None
    return TabWrite(_tab_title(binding, table_name), rows, header_rows=1, column_widths=widths)


_ROWS_AT_ONCE = 4096
"""Rows compared at a time: the comparison stops at the first block that differs."""


def _grid_equals(
    current: list[list[CellValue]] | ColumnGrid, desired: tuple[tuple[WritableValue, ...], ...]
) -> bool:
    """Does the tab read as `desired`, blank cells at the ends of rows and blank rows at the
    bottom aside? Compared cell by cell as `same_value` does, in bulk, a block of rows at a
    time: the first block that differs settles it (and a count of rows that differs, first)."""
    n = _filled_length(current)
    if n != _filled_length(desired):
        return False
    for start in range(0, n, _ROWS_AT_ONCE):
        stop = min(n, start + _ROWS_AT_ONCE)
        have, want = _ends_trimmed(current[start:stop]), _ends_trimmed(desired[start:stop])
        if list(map(len, have)) != list(map(len, want)):
            return False
        flat_have, flat_want = list(chain.from_iterable(have)), list(chain.from_iterable(want))
        doubtful = _doubtful(flat_have, flat_want)
        if not all(same_value(flat_have[i], flat_want[i]) for i in doubtful):
            return False
    return True


def _filled_length(rows: Sequence[Sequence[Any]]) -> int:
    """How many rows there are up to the last with a cell that is not blank."""
    n = len(rows)
    while n and all(map(is_blank, rows[n - 1])):
        n -= 1
    return n


def _ends_trimmed(rows: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
    """Rows without their trailing blank cells."""
    out = list(rows)
    filled = list(compress(count(), out))
    ends = list(map(itemgetter(-1), map(out.__getitem__, filled)))
    blank = {v for v in set(ends) if is_blank(v)}  # each distinct value once
    for i in compress(filled, map(blank.__contains__, ends)):  # the few rows that need it
        row = list(out[i])
        while row and is_blank(row[-1]):
            row.pop()
        out[i] = row
    return out
