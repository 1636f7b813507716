"""Row rules: required fields, unique ids, references, ranges, date order and BANT screening.

Every rule reads typed tables and returns issues; none raises on a bad row. A cell that did not
parse has already been reported, so rules skip it instead of piling a second issue on it. Rules
work a column at a time (numpy arrays, or each distinct value once): Python code runs per row
only for the rows that get an issue.

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

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import compress
from typing import Any, cast

import numpy as np
import pandas as pd

from .columns import days, is_midnight, is_none, objects
from .issues import Issue, display_value, short_labels
from .schema import Kind, Lang, Severity
from .scoring import BANT_FIELDS, bant_class
from .settings import DEFAULT_SETTINGS, Settings
from .tables import TableData
from .text import fold

Computed = dict[str, dict[str, Mapping[int, Any]]]
"""table → field → spreadsheet row → value the job writes into an owned column."""


@dataclass(slots=True)
class Validation:
    issues: list[Issue] = field(default_factory=list)
    computed: Computed = field(default_factory=dict)

    def set_all(self, table: str, field_name: str, values: Iterable[tuple[int, Any]]) -> None:
        """Values for an owned column, as (spreadsheet row, value) pairs."""
        fields = self.computed.setdefault(table, {})
        column = fields.get(field_name)
        if not isinstance(column, dict):
            column = fields[field_name] = dict(column or {})
        column.update(values)


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


def _indices(mask: np.ndarray) -> list[int]:
    """The positions where `mask` holds, as Python ints."""
    return np.flatnonzero(mask).tolist()


def check_required(data: TableData, lang: Lang) -> Iterator[Issue]:
    for f in data.bound.table.fields:
        if not f.required or not data.has(f.name):
            continue  # a missing column is reported once, by binding
        values = data.values[f.name]
        if all(values) or None not in values:
            continue  # the usual case: `all` stops at a falsy cell and is faster than `in`
        blank = is_none(values)
        blank[list(data.bad.get(f.name, ()))] = False  # reported already, as unreadable
        for i in _indices(blank):
            yield data.issue("required", i, f.name, lang)


def check_unique(data: TableData, lang: Lang) -> Iterator[Issue]:
    """Every later occurrence of an id, grouped by id in order of first appearance."""
    for f in data.bound.table.fields:
        if not f.unique or not data.has(f.name):
            continue
        # A parsed id never normalises to nothing, so a None key is exactly a blank cell.
        codes, _ = pd.factorize(pd.Series(data.keys(f.name), dtype=object))  # None: -1
        filled = codes >= 0
        repeated = pd.Series(codes).duplicated().to_numpy() & filled
        firsts = np.flatnonzero(filled & ~repeated)  # codes number ids as they first appear
        later = np.flatnonzero(repeated)
        for i in later[np.argsort(codes[later], kind="stable")].tolist():
            first = data.rows[firsts[codes[i]]]
            yield data.issue("duplicate-id", i, f.name, lang, params={"other_rows": first})


def check_ranges(data: TableData, lang: Lang) -> Iterator[Issue]:
    for f in data.bound.table.fields:
        if not data.has(f.name) or (f.minimum is None and f.maximum is None):
            continue
        number = np.array(data.usable(f.name), dtype=float)  # parsed numbers; NaN for None
        negative = number < 0 if f.kind is Kind.AMOUNT else np.zeros(len(number), dtype=bool)
        outside = np.zeros(len(number), dtype=bool)
        if f.minimum is not None:
            outside |= number < f.minimum
        if f.maximum is not None:
            outside |= number > f.maximum
        bounds = {"low": _bound_text(f.minimum, f.kind), "high": _bound_text(f.maximum, f.kind)}
        for i in _indices(negative | outside):
            if negative[i]:
                yield data.issue("negative-amount", i, f.name, lang)
            else:
                yield data.issue("out-of-range", i, f.name, lang, params=dict(bounds))


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
        earlier = data.usable(order.earlier)
        before = _before(data.moments(order.later), data.moments(order.earlier), date_only)
        for i in _indices(before):
            yield data.issue(
                "impossible-order",
                i,
                order.later,
                lang,
                severity=order.severity,
                params={
                    "earlier_header": data.bound.header_of(order.earlier, lang),
                    "earlier_value": display_value(earlier[i]),
                },
            )


def _before(later: np.ndarray, earlier: np.ndarray, date_only: bool) -> np.ndarray:
    """Which `later` moments fall strictly before their `earlier` one (NaT on either side:
    no). A midnight means a date typed without a time: such pairs compare by day."""
    by_day = days(later) < days(earlier)
    if date_only:
        return by_day
    return np.where(is_midnight(later) | is_midnight(earlier), by_day, later < earlier)


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
        if is_rep:
            values: list[Any] = data.usable(f.name)
            unknown = _unknown_names(values, target.usable(target_field))
        else:
            values = data.keys(f.name)
            unknown = set(values) - set(target.keys(target_field))
        unknown.discard(None)  # a blank refers to nothing
        if not unknown:
            continue
        target_header = target.bound.header_of(target_field, lang)
        for i in compress(range(len(values)), map(unknown.__contains__, values)):
            yield data.issue(
                "unknown-rep" if is_rep else "unknown-reference",
                i,
                f.name,
                lang,
                severity=None if is_rep else f.reference_severity,
                params={"target_tab": target.tab, "target_header": target_header},
            )


def _unknown_names(names: list[Any], roster: list[Any]) -> set[Any]:
    """The distinct names that match no one on the roster once folded (`text.fold`)."""
    known = {fold(str(name)) for name in set(roster) if name is not None}
    return {name for name in set(names) if name is not None and fold(str(name)) not in known}


def classify_leads(data: TableData, lang: Lang, settings: Settings, result: Validation) -> None:
    """Fill a blank BANT class from the four answers; report an entered one that disagrees."""
    if not any(data.has(name) for name in BANT_FIELDS):
        return
    # One row per question: 1 yes, 0 no, NaN unanswered (or unreadable).
    answers = np.array([data.usable(name) for name in BANT_FIELDS], dtype=float)
    yes = np.nansum(answers, axis=0).astype(int)
    answered = ~np.isnan(answers).any(axis=0)
    expected = np.where(answered, _classes(settings)[yes], None)
    entered = objects(data.column("bant_class"))
    judged = answered.copy()
    judged[list(data.bad.get("bant_class", ()))] = False
    blank = judged & is_none(entered)
    if blank.any():
        rows = np.asarray(data.rows)[blank].tolist()
        result.set_all("leads", "bant_class", zip(rows, expected[blank].tolist(), strict=True))
    wrong = judged & ~blank & (entered != expected)
    for i in _indices(wrong):
        result.issues.append(
            data.issue(
                "bant-mismatch",
                i,
                "bant_class",
                lang,
                params={"yes": int(yes[i]), "expected": expected[i]},
            )
        )


def _classes(settings: Settings) -> np.ndarray:
    """The BANT class for 0 to 4 yes answers (the count is all `bant_class` looks at)."""
    return np.array(
        [
            bant_class(
                [True] * n + [False] * (4 - n),
                a_min_yes=settings.bant_a_min_yes,
                b_min_yes=settings.bant_b_min_yes,
            )
            for n in range(5)
        ],
        dtype=object,
    )


def flag_rows(issues: list[Issue], tables: dict[str, TableData], lang: Lang) -> Computed:
    """The ⚙ flags column: a few words per error or warning of the row, most severe first.

    Tables come in the order of their first flagged row, rows in the order of their first
    issue. Rows are worked out a table at a time; Python sorts and joins labels only for the
    few rows with more than one issue."""
    flagged = {name for name, data in tables.items() if data.bound.table.has("flags")}
    shown = [i for i in issues if i.table in flagged and i.severity is not Severity.INFO]
    labels = short_labels(shown, lang)
    names = objects([i.table for i in shown])
    firsts: dict[str, int] = {}  # table → place in `shown` of its first flagged row
    flags: Computed = {}
    for table in dict.fromkeys(names.tolist()):
        at = np.flatnonzero(names == table).tolist()
        rows = [shown[n].row for n in at]
        texts = _on_data_rows(_row_flags(shown, labels, at, rows, lang), tables[table].rows)
        if texts:
            flags[table] = {"flags": texts}
            firsts[table] = at[rows.index(next(iter(texts)))]
    return {table: flags[table] for table in sorted(firsts, key=firsts.__getitem__)}


def _row_flags(
    shown: list[Issue], labels: list[str], at: list[int], rows: list[int | None], lang: Lang
) -> dict[int | None, str]:
    """Row → flag text, from the issues at places `at` of `shown`, about rows `rows`."""
    texts = dict(zip(rows, map(labels.__getitem__, at), strict=True))
    if len(texts) < len(rows):  # some rows have several issues
        sep = "; " if lang is Lang.EN else "；"
        for row, places in _repeated(rows, at).items():
            places.sort(key=lambda n: _flag_order(shown[n]))
            texts[row] = sep.join(dict.fromkeys([labels[n] for n in places]))
    return texts


def _on_data_rows(texts: dict[int | None, str], data_rows: list[int]) -> dict[int, str]:
    """`texts` but for rows that hold no data: the header, a blank row, None for the tab."""
    kept = set(texts).intersection(data_rows)
    if len(kept) == len(texts):
        return cast(dict[int, str], texts)  # every key a data row, so none is None
    return {row: text for row, text in texts.items() if row is not None and row in kept}


def _repeated(rows: list[int | None], at: list[int]) -> dict[int | None, list[int]]:
    """The rows that come more than once, each with its places (`at[k]` for `rows[k]`)."""
    several = pd.Series(np.array(rows, dtype=float)).duplicated(keep=False).to_numpy()
    places: dict[int | None, list[int]] = {}
    for k in np.flatnonzero(several).tolist():
        places.setdefault(rows[k], []).append(at[k])
    return places


def _flag_order(issue: Issue) -> tuple[int, int, str, str]:
    """Most severe first, then by column (A … Z, AA …) and code."""
    column = issue.column or ""
    return (-issue.severity.rank, len(column), column, issue.code)
