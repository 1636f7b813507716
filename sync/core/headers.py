"""Binding: which tab is which table, where its header row is, and which column is which field.

People keep workbooks their own way: tabs named in any of three languages (or "Sheet1"), a title
row above the header, columns in any order, headers in another script or width, extra columns
of their own. Binding finds the schema in all that, and reports (never guesses) what it cannot
tell apart: two columns meaning the same field, one header that could mean several fields.

>>> from sync.core.model import RawSheet
>>> sheet = RawSheet("線索跟蹤", [["銷售線索跟蹤表"], [], ["客戶名稱", "線索編號", "來源類型"]])
>>> binding = bind_workbook([sheet])
>>> bound = binding.tables["leads"]
>>> bound.header_row, bound.columns["lead_id"], binding.lang.value
(3, 2, 'zh-Hant')
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise

from .issues import Issue, make_issue

# the header rows and the A1 helpers are defined beside the grids, in `model`, for the backends,
# which read a workbook without loading the rules' modules (pandas …)
from .model import HEADER_SCAN_ROWS as HEADER_SCAN_ROWS
from .model import CellValue, RawSheet
from .model import column_letter as column_letter
from .model import column_number as column_number
from .schema import LANGS, SCHEMA, Lang, Schema, Table
from .text import fold

MIN_HEADER_MATCHES = 2


@dataclass(slots=True)
class BoundTable:
    """A tab recognised as a table: where its header is and which column holds which field."""

    table: Table
    sheet: RawSheet
    header_row: int  # 1-based spreadsheet row
    columns: dict[str, int] = field(default_factory=dict)  # field name → 1-based column
    headers: dict[str, str] = field(default_factory=dict)  # field name → header as typed
    last_column: int = 0  # rightmost column with a header (user columns included)
    unusable: set[str] = field(default_factory=set)  # fields with duplicate/ambiguous columns
    end_row: int | None = None  # first row past the table (a section of the same tab follows)

    @property
    def name(self) -> str:
        return self.sheet.name

    def header_of(self, field_name: str, lang: Lang) -> str:
        return self.headers.get(field_name) or self.table.field(field_name).headers[lang]


@dataclass(slots=True)
class Binding:
    tables: dict[str, BoundTable]
    lang: Lang
    issues: list[Issue]
    unbound_sheets: list[str]


def cell_text(value: CellValue) -> str:
    if value is None:
        return ""
    return str(value).strip()


@cache
def _field_lookup(table: Table) -> dict[str, tuple[str, ...]]:
    """Folded spelling → the fields it can mean (more than one: ambiguous)."""
    lookup: dict[str, list[str]] = defaultdict(list)
    for f in table.fields:
        for spelling in f.spellings():
            key = fold(spelling)
            if f.name not in lookup[key]:
                lookup[key].append(f.name)
    for label, names in table.vague.items():
        key = fold(label)
        for name in names:
            if name not in lookup[key]:
                lookup[key].append(name)
    return {k: tuple(v) for k, v in lookup.items()}


@cache
def _table_lookup(schema: Schema) -> dict[str, Table]:
    lookup: dict[str, Table] = {}
    for table in schema.tables:
        for spelling in table.spellings():
            lookup.setdefault(fold(spelling), table)
    return lookup


def find_table_by_name(sheet_name: str, schema: Schema = SCHEMA) -> Table | None:
    return _table_lookup(schema).get(fold(sheet_name))


def find_header_row(
    sheet: RawSheet, table: Table, *, scan: int = HEADER_SCAN_ROWS, after: int = 0
) -> tuple[int, int]:
    """(1-based row, fields matched) of the best header candidate; (0, 0) when there is none."""
    best_row, best_count = 0, 0
    for index, row in enumerate(sheet.rows[after:scan], start=after):
        count = len(_matched_fields(row, table))
        if count > best_count:
            best_row, best_count = index + 1, count
    needed = min(MIN_HEADER_MATCHES, len(table.fields))
    return (best_row, best_count) if best_count >= needed else (0, best_count)


def bind_columns(
    sheet: RawSheet, table: Table, header_row: int, lang: Lang
) -> tuple[BoundTable, list[Issue]]:
    bound = BoundTable(table, sheet, header_row)
    issues: list[Issue] = []
    lookup = _field_lookup(table)
    seen: dict[str, list[int]] = defaultdict(list)
    typed: dict[int, str] = {}
    for index, value in enumerate(sheet.rows[header_row - 1]):
        text = cell_text(value)
        if not text:
            continue
        col = index + 1
        bound.last_column = col
        names = lookup.get(fold(text))
        if not names:
            continue  # a column of the users' own: kept and ignored
        typed[col] = text
        if len(names) > 1:
            candidates = "、".join(table.field(n).headers[lang] for n in names)
            if lang is Lang.EN:
                candidates = ", ".join(table.field(n).headers[lang] for n in names)
            issues.append(
                make_issue(
                    "ambiguous-header",
                    lang,
                    tab=sheet.name,
                    row=header_row,
                    column=column_letter(col),
                    header=text,
                    value=text,
                    table=table.name,
                    params={"candidates": candidates},
                )
            )
            continue
        seen[names[0]].append(col)
    for name, cols in seen.items():
        if len(cols) == 1:
            bound.columns[name] = cols[0]
            bound.headers[name] = typed[cols[0]]
            continue
        bound.unusable.add(name)
        letters = ", ".join(column_letter(c) for c in cols)
        issues.append(
            make_issue(
                "duplicate-header",
                lang,
                tab=sheet.name,
                row=header_row,
                column=column_letter(cols[1]),
                header=typed[cols[1]],
                value=typed[cols[1]],
                field=name,
                table=table.name,
                params={"columns": letters, "header": table.field(name).headers[lang]},
            )
        )
    for f in table.fields:
        if f.required and f.name not in bound.columns and f.name not in bound.unusable:
            issues.append(
                make_issue(
                    "missing-column",
                    lang,
                    tab=sheet.name,
                    row=header_row,
                    header=f.headers[lang],
                    field=f.name,
                    table=table.name,
                )
            )
    return bound, issues


def detect_language(sheets: Sequence[RawSheet], matches: dict[str, tuple[Table, int]]) -> Lang:
    """The language whose exact spellings the tab names and header rows use most."""
    votes: Counter[Lang] = Counter()

    def exact(text: str) -> str:
        return unicodedata.normalize("NFKC", text).strip().casefold()

    for sheet in sheets:
        matched = matches.get(sheet.name)
        if matched is None:
            continue
        table, header_row = matched
        texts = [sheet.name]
        if header_row:
            texts += [cell_text(v) for v in sheet.rows[header_row - 1]]
        for text in map(exact, texts):
            for lang in LANGS:
                if text == exact(table.titles[lang]) or any(
                    text == exact(f.headers[lang]) for f in table.fields
                ):
                    votes[lang] += 1
    if not votes:
        return Lang.ZH_HANS
    top = max(votes.values())
    return next(lang for lang in LANGS if votes[lang] == top)  # ties: zh-Hans, zh-Hant, en


def bind_workbook(
    sheets: Sequence[RawSheet], *, lang: Lang | None = None, schema: Schema = SCHEMA
) -> Binding:
    """Recognise every tab; `lang` forces the message language (else it is detected)."""
    chosen: dict[str, RawSheet] = {}
    duplicates: list[tuple[RawSheet, RawSheet, Table]] = []
    unbound: list[RawSheet] = []
    for sheet in sheets:
        table = find_table_by_name(sheet.name, schema)
        if table is None:
            unbound.append(sheet)
        elif table.name in chosen:
            duplicates.append((sheet, chosen[table.name], table))
        else:
            chosen[table.name] = sheet
    # A tab with an unknown name ("Sheet1") is still recognised by a header row that carries
    # every required field of exactly one table not found by name.
    still_unbound: list[str] = []
    for sheet in unbound:
        candidates = []
        for table in schema.data_tables:
            if table.name in chosen:
                continue
            row, _ = find_header_row(sheet, table)
            required = {f.name for f in table.fields if f.required}
            if row and required <= _matched_fields(sheet.rows[row - 1], table):
                candidates.append(table)
        if len(candidates) == 1:
            chosen[candidates[0].name] = sheet
        else:
            still_unbound.append(sheet.name)

    header_rows = {t: find_header_row(s, schema.table(t))[0] for t, s in chosen.items()}
    matches = {s.name: (schema.table(t), header_rows[t]) for t, s in chosen.items()}
    lang = lang or detect_language(sheets, matches)

    issues: list[Issue] = []
    for sheet, kept, table in duplicates:
        issues.append(
            make_issue(
                "duplicate-tab",
                lang,
                tab=sheet.name,
                value=sheet.name,
                table=table.name,
                params={"other": kept.name, "table": table.titles[lang]},
            )
        )
    tables: dict[str, BoundTable] = {}
    for table in schema.tables:
        if table.section_of is not None:
            continue  # bound below, inside its parent's tab
        found_sheet = chosen.get(table.name)
        if found_sheet is None:
            if not table.owned:
                issues.append(
                    make_issue(
                        "missing-tab",
                        lang,
                        tab=table.titles[lang],
                        table=table.name,
                        params={"table": table.titles[lang]},
                    )
                )
            continue
        if table.owned:
            # Owned tabs are regenerated whole; their content is never read as input.
            tables[table.name] = BoundTable(table, found_sheet, 1)
            continue
        header_row = header_rows[table.name]
        if not header_row:
            if any(cell_text(v) for row in found_sheet.rows for v in row):
                expected = "、".join(f.headers[lang] for f in table.fields if f.required)
                issues.append(
                    make_issue(
                        "header-not-found",
                        lang,
                        tab=found_sheet.name,
                        table=table.name,
                        params={"scan": HEADER_SCAN_ROWS, "expected": expected},
                    )
                )
            continue  # an empty tab: nothing to check
        bound, column_issues = bind_columns(found_sheet, table, header_row, lang)
        tables[table.name] = bound
        issues.extend(column_issues)
    for parent in list(tables.values()):
        for section in schema.sections(parent.table.name):
            found = _bind_section(parent, section, lang)
            if found is not None:
                tables[section.name], section_issues = found
                issues.extend(section_issues)
    _close_sections(tables.values())
    return Binding(tables, lang, issues, still_unbound)


SECTION_SCAN_ROWS = 500  # sections sit below the parent's rows, anywhere in the tab


def _bind_section(
    parent: BoundTable, section: Table, lang: Lang
) -> tuple[BoundTable, list[Issue]] | None:
    """A section is present when a row below the parent's header carries its required fields."""
    row, _ = find_header_row(parent.sheet, section, scan=SECTION_SCAN_ROWS, after=parent.header_row)
    required = {f.name for f in section.fields if f.required}
    if not row or not required <= _matched_fields(parent.sheet.rows[row - 1], section):
        return None
    return bind_columns(parent.sheet, section, row, lang)


def _close_sections(bound: Iterable[BoundTable]) -> None:
    """Where several tables share a tab, each one's rows end where the next one's title or
    header begins: a blank row, then at most two title rows, then the header."""
    by_sheet: dict[int, list[BoundTable]] = defaultdict(list)
    for b in bound:
        by_sheet[id(b.sheet)].append(b)
    for group in by_sheet.values():
        group.sort(key=lambda b: b.header_row)
        for current, following in pairwise(group):
            end = following.header_row
            for back in (1, 2, 3):
                candidate = following.header_row - back
                if candidate <= current.header_row:
                    break
                if not any(cell_text(v) for v in current.sheet.rows[candidate - 1]):
                    end = candidate
                    break
            current.end_row = end


def _matched_fields(row: Sequence[CellValue], table: Table) -> set[str]:
    lookup = _field_lookup(table)
    found: set[str] = set()
    for value in row:
        text = cell_text(value)
        names = lookup.get(fold(text)) if text else None
        if names and len(names) == 1:
            found.add(names[0])
    return found
