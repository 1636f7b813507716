"""Plan: turn computed values and issues into the smallest set of writes.

Only owned cells and owned tabs are ever in a plan, and only where the workbook differs from
what the job would write, so a second run plans nothing and the file is left alone. A cell of
an owned column that holds a formula is the users' choice: it is kept and reported.

>>> same_value(5.0, 5), same_value("", None), same_value("A", "a")
(True, True, False)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .headers import Binding, BoundTable, column_letter
from .issues import Issue, make_issue
from .model import CellValue, CellWrite, DashboardWrite, TabWrite, WritableValue, WritePlan
from .parse import is_blank
from .schema import DASHBOARD, ISSUES, SCHEMA, SEVERITY, Kind, Lang, Owner
from .tables import TableData
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
        data = tables[table_name]
        for field_name, values in fields.items():
            found.extend(layouts[table_name].formula_issues(field_name, values, lang))
    flags = flag_rows(found, tables, lang)
    for table_name, data in tables.items():
        fields = dict(computed.get(table_name, {}))
        if data.bound.table.has("flags"):
            fields["flags"] = flags.get(table_name, {}).get("flags", {})
        writes: list[CellWrite] = []
        for field_name, values in fields.items():
            writes.extend(layouts[table_name].writes(field_name, values, lang))
        if writes:
            plan.cells[data.tab] = writes
    found.sort(key=lambda i: i.sort_key())
    issues_tab = _issues_tab(binding, found, lang)
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
        self.next_free = self._rightmost() + 1

    def _rightmost(self) -> int:
        """The last column in use by the table: header, data, or a formula without a value."""
        right = self.bound.last_column
        grid = self.bound.sheet.rows
        below = self.bound.header_row
        right = max([right, *(c for r, c in self.bound.sheet.formulas if r >= below)])
        for row in self.data.rows:
            cells = grid[row - 1]
            for col in range(len(cells), right, -1):
                if not is_blank(cells[col - 1]):
                    right = col
                    break
        return right

    def column(self, field_name: str) -> int | None:
        return self.bound.columns.get(field_name) or self.added.get(field_name)

    def formula_issues(self, field_name: str, values: dict[int, Any], lang: Lang) -> list[Issue]:
        col = self.bound.columns.get(field_name)
        if col is None or field_name in self.bound.unusable:
            return []
        sheet = self.bound.sheet
        owner = self.bound.table.field(field_name).owner
        issues = []
        for row, value in values.items():
            if (row, col) not in sheet.formulas:
                continue
            current = sheet.value(row, col)
            if owner is not Owner.JOB or same_value(current, value):
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

    def writes(self, field_name: str, values: dict[int, Any], lang: Lang) -> list[CellWrite]:
        if field_name in self.bound.unusable:
            return []  # duplicate columns: reported, never guessed at
        f = self.bound.table.field(field_name)
        col = self.column(field_name)
        sheet = self.bound.sheet
        writes: list[CellWrite] = []
        if col is None:
            if not any(v not in (None, "") for v in values.values()):
                return []  # nothing to say: no need for the column yet
            col = self.added[field_name] = self.next_free
            self.next_free += 1
            header_row = self.bound.header_row
            writes.append(
                CellWrite(
                    header_row,
                    col,
                    f.header(lang),
                    style_like=(header_row, self.bound.last_column or 1),
                )
            )
        if f.owner is Owner.JOB:
            # Rewrite the whole column: rows that no longer have a value are cleared.
            last = max(len(sheet.rows), max(values, default=0))
            if self.bound.end_row is not None:
                last = min(last, self.bound.end_row - 1)
            first, grid, index = self.bound.header_row + 1, sheet.rows, col - 1
            # Only rows with a value to write or a cell to clear can change: the others are
            # blank and stay blank.
            filled = (
                row
                for row, cells in enumerate(grid[first - 1 : last], start=first)
                if index < len(cells) and not (cells[index] is None or cells[index] == "")
            )
            candidates = sorted({*filled, *(r for r in values if first <= r <= last)})
            formula_rows = {r for r, c in sheet.formulas if c == col}
            get, add, rows_in_grid = values.get, writes.append, len(grid)
            for row in candidates:
                if formula_rows and row in formula_rows:
                    continue
                desired = get(row)
                cells = grid[row - 1] if row <= rows_in_grid else ()
                current = cells[index] if index < len(cells) else None
                if current is None or current == "":  # the common blank cell, decided here
                    if desired is None or desired == "":
                        continue
                elif same_value(current, desired):
                    continue
                add(CellWrite(row, col, desired))
        else:  # JOB_IF_BLANK: only blank cells are filled
            for row, desired in sorted(values.items()):
                if is_blank(sheet.value(row, col)) and (row, col) not in sheet.formulas:
                    writes.append(CellWrite(row, col, desired))
        return writes


def issue_rows(issues: list[Issue], lang: Lang) -> tuple[tuple[WritableValue, ...], ...]:
    header = tuple(f.header(lang) for f in ISSUES.fields)
    rows: list[tuple[WritableValue, ...]] = [header]
    for issue in issues:
        rows.append(
            (
                SEVERITY.label(issue.severity.value, lang),
                issue.code,
                issue.tab,
                issue.row,
                issue.column,
                issue.header,
                issue.value,
                issue.message,
            )
        )
    return tuple(rows)


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
    name = existing.sheet.name if existing else SCHEMA.table(table_name).title(binding.lang)
    if existing is not None and _grid_equals(existing.sheet.rows, rows):
        return None
    return TabWrite(name, rows, header_rows=1, column_widths=widths)


def _grid_equals(
    current: list[list[CellValue]], desired: tuple[tuple[WritableValue, ...], ...]
) -> bool:
    def trimmed(rows: list[list[CellValue]]) -> list[list[CellValue]]:
        out = [list(r) for r in rows]
        for r in out:
            while r and is_blank(r[-1]):
                r.pop()
        while out and not out[-1]:
            out.pop()
        return out

    have, want = trimmed(current), trimmed([list(r) for r in desired])
    if len(have) != len(want):
        return False
    return all(
        len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))  # type: ignore[arg-type]
        for a, b in zip(have, want, strict=True)
    )
