"""Row rules: required fields, unique ids, references, ranges, date order and BANT screening.

Every rule reads typed tables and returns issues; none raises on a bad row. A cell that did not
parse has already been reported, so rules skip it instead of piling a second issue on it.

>>> from sync.core.headers import bind_workbook
>>> from sync.core.model import RawSheet
>>> from sync.core.tables import parse_tables
>>> from sync.core.parse import ParseContext
>>> sheet = RawSheet("Reps", [["Name", "Team"], ["Li Lei", "East"], ["Li Lei", "West"]])
>>> tables, _ = parse_tables(bind_workbook([sheet]), ParseContext(lang=Lang.EN))
>>> [(i.code, i.row, i.column) for i in validate_tables(tables, Lang.EN).issues]
[('duplicate-id', 3, 'A')]
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .issues import Issue, display_value, short_label
from .schema import SCHEMA, Kind, Lang, Severity
from .scoring import BANT_FIELDS, bant_class, bant_yes_count
from .settings import DEFAULT_SETTINGS, Settings
from .tables import TableData
from .text import fold

Computed = dict[str, dict[str, dict[int, Any]]]
"""table → field → spreadsheet row → value the job writes into an owned column."""


@dataclass(slots=True)
class Validation:
    issues: list[Issue] = field(default_factory=list)
    computed: Computed = field(default_factory=dict)

    def set(self, table: str, field_name: str, row: int, value: Any) -> None:
        self.computed.setdefault(table, {}).setdefault(field_name, {})[row] = value


def validate_tables(
    tables: dict[str, TableData], lang: Lang, settings: Settings = DEFAULT_SETTINGS
) -> Validation:
    result = Validation()
    for data in tables.values():
        result.issues.extend(check_required(data, lang))
        result.issues.extend(check_unique(data, lang))
        result.issues.extend(check_ranges(data, lang))
        result.issues.extend(check_orders(data, lang))
        result.issues.extend(check_references(data, tables, lang))
    if "leads" in tables:
        classify_leads(tables["leads"], lang, settings, result)
    return result


def _usable(data: TableData, name: str) -> Iterator[tuple[int, Any]]:
    """(index, value) of a field's cells that parsed to a value."""
    bad = data.bad.get(name, ())
    for i, value in enumerate(data.column(name)):
        if value is not None and i not in bad:
            yield i, value


def check_required(data: TableData, lang: Lang) -> Iterator[Issue]:
    for f in data.bound.table.fields:
        if not f.required or not data.has(f.name):
            continue  # a missing column is reported once, by binding
        bad = data.bad.get(f.name, ())
        for i, value in enumerate(data.values[f.name]):
            if value is None and i not in bad:
                yield data.issue("required", i, f.name, lang)


def check_unique(data: TableData, lang: Lang) -> Iterator[Issue]:
    for f in data.bound.table.fields:
        if not f.unique or not data.has(f.name):
            continue
        seen: dict[str, list[int]] = defaultdict(list)
        for i, value in _usable(data, f.name):
            seen[_key(value)].append(i)
        for indices in seen.values():
            first = data.rows[indices[0]]
            for i in indices[1:]:
                yield data.issue("duplicate-id", i, f.name, lang, params={"other_rows": first})


def check_ranges(data: TableData, lang: Lang) -> Iterator[Issue]:
    for f in data.bound.table.fields:
        if not data.has(f.name) or (f.minimum is None and f.maximum is None):
            continue
        for i, value in _usable(data, f.name):
            if not isinstance(value, int | float):
                continue
            if f.kind is Kind.AMOUNT and value < 0:
                yield data.issue("negative-amount", i, f.name, lang)
            elif (f.minimum is not None and value < f.minimum) or (
                f.maximum is not None and value > f.maximum
            ):
                low, high = _bound_text(f.minimum, f.kind), _bound_text(f.maximum, f.kind)
                yield data.issue("out-of-range", i, f.name, lang, params={"low": low, "high": high})


def _bound_text(limit: float | None, kind: Kind) -> str:
    if limit is None:
        return "∞"
    return f"{limit:.0%}" if kind is Kind.PERCENT else f"{limit:g}"


def check_orders(data: TableData, lang: Lang) -> Iterator[Issue]:
    table = data.bound.table
    for order in table.orders:
        if not (data.has(order.earlier) and data.has(order.later)):
            continue
        date_only = Kind.DATE in (table.field(order.earlier).kind, table.field(order.later).kind)
        earlier = dict(_usable(data, order.earlier))
        for i, later in _usable(data, order.later):
            first = earlier.get(i)
            if first is None or not _before(later, first, date_only):
                continue
            yield data.issue(
                "impossible-order",
                i,
                order.later,
                lang,
                severity=order.severity,
                params={
                    "earlier_header": data.bound.header_of(order.earlier, lang),
                    "earlier_value": display_value(first),
                },
            )


def _before(later: Any, earlier: Any, date_only: bool) -> bool:
    """Is `later` strictly before `earlier`? A midnight time means a date typed without time."""
    a, b = _as_datetime(later), _as_datetime(earlier)
    if date_only or _is_midnight(a) or _is_midnight(b):
        return a.date() < b.date()
    return a < b


def _as_datetime(value: date) -> datetime:
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


def _is_midnight(value: datetime) -> bool:
    return value.hour == value.minute == value.second == value.microsecond == 0


def _key(value: Any) -> str:
    """How ids and names compare: width, case and spaces aside, exactly."""
    return unicodedata.normalize("NFKC", str(value)).strip().casefold()


def _name_key(value: Any) -> str:
    return fold(str(value))


def check_references(data: TableData, tables: dict[str, TableData], lang: Lang) -> Iterator[Issue]:
    for f in data.bound.table.fields:
        if f.references is None or not data.has(f.name):
            continue
        target_name, target_field = f.references
        target = tables.get(target_name)
        if target is None or not target.has(target_field):
            continue  # nothing to check against: the missing tab is reported already
        is_rep = target_name == "reps"
        if is_rep and not len(target):
            continue  # an empty Reps tab means the team keeps no roster
        key = _name_key if is_rep else _key
        known = {key(v) for _, v in _usable(target, target_field)}
        target_header = target.bound.header_of(target_field, lang)
        for i, value in _usable(data, f.name):
            if key(value) in known:
                continue
            yield data.issue(
                "unknown-rep" if is_rep else "unknown-reference",
                i,
                f.name,
                lang,
                severity=None if is_rep else f.reference_severity,
                params={"target_tab": target.tab, "target_header": target_header},
            )


def classify_leads(data: TableData, lang: Lang, settings: Settings, result: Validation) -> None:
    """Fill a blank BANT class from the four answers; report an entered one that disagrees."""
    answers = [data.column(name) for name in BANT_FIELDS]
    if not any(data.has(name) for name in BANT_FIELDS):
        return
    entered = data.column("bant_class")
    bad = data.bad.get("bant_class", ())
    for i, row in enumerate(data.rows):
        four = [column[i] for column in answers]
        expected = bant_class(
            four, a_min_yes=settings.bant_a_min_yes, b_min_yes=settings.bant_b_min_yes
        )
        if expected is None or i in bad:
            continue
        if entered[i] is None:
            result.set("leads", "bant_class", row, expected)
        elif entered[i] != expected:
            result.issues.append(
                data.issue(
                    "bant-mismatch",
                    i,
                    "bant_class",
                    lang,
                    params={"yes": bant_yes_count(four), "expected": expected},
                )
            )


def flag_rows(issues: list[Issue], tables: dict[str, TableData], lang: Lang) -> Computed:
    """The ⚙ flags column: a few words per error or warning of the row, most severe first."""
    data_rows = {name: set(data.rows) for name, data in tables.items()}
    by_row: dict[tuple[str, int], list[Issue]] = defaultdict(list)
    for issue in issues:
        if (
            issue.table in data_rows
            and issue.row in data_rows[issue.table]
            and issue.severity is not Severity.INFO
        ):
            by_row[(issue.table, issue.row)].append(issue)
    sep = "; " if lang is Lang.EN else "；"
    flags: Computed = {}
    for (table, row), found in by_row.items():
        if not SCHEMA.table(table).has("flags"):
            continue
        found.sort(key=lambda i: (-i.severity.rank, len(i.column or ""), i.column or "", i.code))
        labels = list(dict.fromkeys(short_label(i, lang) for i in found))
        flags.setdefault(table, {}).setdefault("flags", {})[row] = sep.join(labels)
    return flags
