"""Typed tables: the data rows of every bound tab, parsed column by column.

Binding says which column holds which field; this module reads the rows under the header,
skips blank ones, parses every bound cell with `parse`, and turns each parse problem into an
issue that names the tab, the row the user sees, the column letter and the header.

>>> from sync.core.headers import bind_workbook
>>> from sync.core.model import RawSheet
>>> sheet = RawSheet("Reps", [["Name", "Active"], ["Li Lei", "Y"], [" ", ""], ["Han Mei", "maybe"]])
>>> tables, issues = parse_tables(bind_workbook([sheet]), ParseContext())
>>> tables["reps"].rows, tables["reps"].values["active"]
([2, 4], [True, None])
>>> [(i.code, i.row, i.column) for i in issues]
[('invalid-bool', 4, 'B')]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd

from . import columns as _columns
from .headers import Binding, BoundTable, column_letter
from .issues import Issue, make_issue, make_issues
from .model import CellValue, ColumnGrid
from .parse import ParseContext, Problem, blank_cells, is_blank, parse_column
from .schema import Field, Lang, Owner

Lines = list[list[CellValue]] | ColumnGrid
"""Rows of a tab as read: lists, or a column grid standing for them."""


@dataclass(slots=True)
class TableData:
    """One tab's data rows: `rows[i]` is the spreadsheet row of `values[field][i]`."""

    bound: BoundTable
    rows: list[int]
    values: dict[str, list[Any]] = field(default_factory=dict)
    raw: dict[str, list[CellValue]] = field(default_factory=dict)
    bad: dict[str, set[int]] = field(default_factory=dict)  # indices whose cell did not parse
    _located: dict[tuple[str, Lang], tuple[str | None, str]] = field(
        default_factory=dict, repr=False, compare=False
    )
    # (what, field) → a column worked out once from `values`: see usable / keys / moments
    _memo: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.bound.table.name

    @property
    def tab(self) -> str:
        return self.bound.sheet.name

    def __len__(self) -> int:
        return len(self.rows)

    def has(self, field_name: str) -> bool:
        return field_name in self.values

    def column(self, field_name: str) -> list[Any]:
        """Parsed values of a field (all None when its column is missing)."""
        return self.values.get(field_name) or [None] * len(self.rows)

    def usable(self, field_name: str) -> list[Any]:
        """Parsed values of a field, None where the cell did not parse (or the column is
        missing); worked out once per field. Shared: read it, never change it."""
        return self._once("usable", field_name, self._usable)

    def keys(self, field_name: str) -> list[str | None]:
        """The usable values of an id field as they compare (`columns.id_key`)."""
        return self._once("keys", field_name, lambda name: _columns.id_keys(self.usable(name)))

    def moments(self, field_name: str) -> np.ndarray:
        """The usable values of a date or datetime field as a datetime64[us] array (NaT where
        blank or unreadable)."""
        return self._once("moments", field_name, lambda name: _columns.moments(self.usable(name)))

    def forget(self) -> None:
        """Drop the columns worked out from `values` (after `values` changed)."""
        self._memo.clear()

    def _once(self, what: str, field_name: str, work: Any) -> Any:
        key = (what, field_name)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = work(field_name)
        return found

    def _usable(self, field_name: str) -> list[Any]:
        values = self.column(field_name)
        bad = self.bad.get(field_name)
        if not bad:
            return values
        values = list(values)
        for i in bad:
            values[i] = None
        return values

    def letter(self, field_name: str) -> str | None:
        col = self.bound.columns.get(field_name)
        return column_letter(col) if col else None

    def issue(self, code: str, i: int, field_name: str, lang: Lang, **kw: Any) -> Issue:
        """An issue about the cell of `field_name` in data row `i`: tab, spreadsheet row,
        column letter, header as typed and, unless given, the value as typed."""
        if "value" not in kw:
            raw = self.raw.get(field_name)
            kw["value"] = raw[i] if raw is not None else None
        column, header = self._where(field_name, lang)
        return make_issue(
            code,
            lang,
            tab=self.bound.sheet.name,
            row=self.rows[i],
            column=column,
            header=header,
            field=field_name,
            table=self.bound.table.name,
            **kw,
        )

    def issues(
        self,
        codes: Sequence[str],
        at: Sequence[int],
        field_name: str,
        lang: Lang,
        params: Sequence[Mapping[str, Any]],
        *,
        rule: str | None = None,
    ) -> list[Issue]:
        """`issue` about the cell of `field_name` in each data row `at[k]`, with `codes[k]`
        and `params[k]`, made in one go."""
        column, header = self._where(field_name, lang)
        raw = self.raw.get(field_name)
        return make_issues(
            codes,
            lang,
            tab=self.bound.sheet.name,
            rows=map(self.rows.__getitem__, at),
            column=column,
            header=header,
            values=map(raw.__getitem__, at) if raw is not None else [None] * len(at),
            params=params,
            field=field_name,
            table=self.bound.table.name,
            rule=rule,
        )

    def _where(self, field_name: str, lang: Lang) -> tuple[str | None, str]:
        """Column letter and header of a field, looked up once per field and language."""
        key = (field_name, lang)
        found = self._located.get(key)
        if found is None:
            found = self._located[key] = (
                self.letter(field_name),
                self.bound.header_of(field_name, lang),
            )
        return found

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        names = list(self.values)
        for i, row in enumerate(self.rows):
            yield row, {n: self.values[n][i] for n in names}

    def frame(self) -> pd.DataFrame:
        """The parsed values as a DataFrame indexed by spreadsheet row."""
        return pd.DataFrame(
            {n: pd.Series(v, dtype=object) for n, v in self.values.items()},
        ).set_axis(pd.Index(self.rows, name="row"))


def fill_blanks(
    data: TableData, values: Mapping[str, Mapping[int, Any]], fields: tuple[str, ...]
) -> None:
    """Put values the job is about to write into blank cells of `fields` (by spreadsheet row)
    into the parsed table too, so that what is computed next sees the workbook as written.

    Only a cell blank as typed takes one: the write-back never overwrites a cell that holds
    something, even something that did not parse ("tomorrow" in a date column)."""
    index = {row: i for i, row in enumerate(data.rows)}
    for name in fields:
        column = data.values.setdefault(name, [None] * len(data.rows))
        raw = data.raw.get(name)
        for row, value in _columns.column_items(values.get(name, {})):
            i = index.get(row)
            if i is not None and column[i] is None and (raw is None or is_blank(raw[i])):
                column[i] = value
    data.forget()


def data_row_numbers(bound: BoundTable) -> list[int]:
    """Spreadsheet rows under the header that hold anything the users typed.

    Owned columns do not count: a row whose only content is an old flag is blank.
    """
    lines = lines_under(bound)
    return (_typed_lines(bound, lines, []) + bound.header_row + 1).tolist()


def lines_under(bound: BoundTable) -> Lines:
    """The grid rows under the header, up to the end of the table."""
    return bound.sheet.rows[bound.header_row : (bound.end_row or 1 << 62) - 1]


def row_lengths(lines: Lines) -> list[int]:
    """How many cells each row has (a column grid's rows are all as wide as the grid)."""
    if isinstance(lines, ColumnGrid):
        return [lines.width] * len(lines)
    return list(map(len, lines))


def _typed_lines(bound: BoundTable, lines: Lines, columns: list[list[CellValue]]) -> np.ndarray:
    """Indices into `lines` of the rows `data_row_numbers` gives, looked for column by column
    (`columns`, transposed already, then the others): a row with something in its first
    counted column is done with, the others are looked at in the next column."""
    owned = {
        col for name, col in bound.columns.items() if bound.table.field(name).owner is Owner.JOB
    }
    width = bound.last_column or max(row_lengths(lines), default=0)
    blank = np.arange(len(lines))  # rows with nothing in the columns looked at so far
    for col in range(1, width + 1):
        if not blank.size:
            break
        if col not in owned:
            cells = columns[col - 1] if col <= len(columns) else cells_at(lines, col - 1)
            rest = cells if blank.size == len(lines) else _at(cells, blank)
            blank = blank[blank_cells(rest)]
    typed = np.ones(len(lines), dtype=bool)
    typed[blank] = False
    return np.flatnonzero(typed)


def _at(items: list[Any], at: np.ndarray) -> list[Any]:
    """The items at indices `at` (ascending)."""
    if at.size == len(items):
        return items
    if at.size and at[-1] - at[0] + 1 == at.size:  # one run
        return items[at[0] : at[-1] + 1]
    return list(map(items.__getitem__, at.tolist()))


def _transpose(lines: Lines, count: int) -> list[list[CellValue]]:
    """The first `count` columns of the rows, None where a row is shorter.

    Rows of one width (readers pad them) are laid end to end once and cut into columns by
    slicing: the rows are reached once, in one C pass, however many columns there are."""
    if isinstance(lines, ColumnGrid):
        return [cells_at(lines, c) for c in range(count)]
    widths = set(map(len, lines))
    if count > 1 and len(widths) == 1 and (width := widths.pop()) >= count:
        flat = list(chain.from_iterable(lines))
        return [flat[c::width] for c in range(count)]
    # zip stops at the shortest row: the columns beyond it are taken one by one
    reached = [list(cells) for cells in islice(zip(*lines, strict=False), count)]
    return reached + [cells_at(lines, c) for c in range(len(reached), count)]


def cells_at(lines: Lines, index: int, shortest: int | None = None) -> list[CellValue]:
    """The cells at `index` of every row, None where a row is shorter (`shortest`: the length
    of the shortest row, when known)."""
    if isinstance(lines, ColumnGrid):
        return lines.column(index) if index < lines.width else [None] * len(lines)
    if shortest is None:
        shortest = min(map(len, lines), default=0)
    if index < shortest:
        return list(map(itemgetter(index), lines))
    reach = np.flatnonzero(np.fromiter(map(len, lines), np.intp, len(lines)) > index)
    out = np.full(len(lines), None, dtype=object)
    out[reach] = np.fromiter(map(itemgetter(index), _at(lines, reach)), object, reach.size)
    return out.tolist()


# Rows parsed together, column by column. Measured at 1M follow-ups, parsing took 1.36-1.45 s
# in blocks of 2,048 rows and 1.18-1.24 s in blocks of 16,384 (fewer calls per column, the
# same values and issues); 65,536 gained nothing more.
_BLOCK_ROWS = 16_384


def parse_table(bound: BoundTable, ctx: ParseContext) -> tuple[TableData, list[Issue]]:
    """One tab's data rows, parsed column by column, and an issue for every cell that did not
    parse (or whose year was inferred).

    The rows go a block at a time (`_BLOCK_ROWS`), every column of a block parsed before the
    next block: the cells of a big tab are spread over the heap, and reaching them again for
    each pass over a whole column would cost more than parsing them."""
    inputs = {
        name: (col, bound.table.field(name))
        for name, col in bound.columns.items()
        if bound.table.field(name).owner is not Owner.JOB
    }  # computed columns are outputs, never inputs
    lines = lines_under(bound)
    data = TableData(bound, [])
    # Columns as long as all the lines, filled in place (a list grown a block at a time would be
    # copied over and over) and cut to the data rows at the end.
    for name in inputs:
        data.values[name], data.raw[name] = [None] * len(lines), [None] * len(lines)
    problems: dict[str, dict[int, Problem]] = {name: {} for name in inputs}
    for start in range(0, len(lines), _BLOCK_ROWS):
        _parse_block(data, start, lines[start : start + _BLOCK_ROWS], inputs, problems, ctx)
    issues: list[Issue] = []
    for name, found in problems.items():
        del data.values[name][len(data.rows) :], data.raw[name][len(data.rows) :]
        if found:
            data.bad[name] = {i for i, p in found.items() if p.code != "year-inferred"}
        issues += _problem_issues(data, name, found, ctx.lang)
    return data, issues


def _parse_block(
    data: TableData,
    start: int,
    block: Lines,
    inputs: dict[str, tuple[int, Field]],
    problems: dict[str, dict[int, Problem]],
    ctx: ParseContext,
) -> None:
    """The typed rows among `block` (the lines from `start` on) appended to `data`: rows, raw
    and parsed values; their problems put into `problems`, by field and data row."""
    columns = _transpose(block, max((col for col, _ in inputs.values()), default=0))
    at = _typed_lines(data.bound, block, columns)
    done, end = len(data.rows), len(data.rows) + at.size  # where the block's rows go
    data.rows += (at + data.bound.header_row + 1 + start).tolist()
    for name, (col, f) in inputs.items():
        raw = _at(columns[col - 1], at)
        parsed = parse_column(raw, f, ctx)
        data.raw[name][done:end] = raw
        data.values[name][done:end] = parsed.values
        problems[name].update({done + i: p for i, p in parsed.problems.items()})


def _problem_issues(
    data: TableData, name: str, problems: dict[int, Problem], lang: Lang
) -> list[Issue]:
    """An issue for each cell of field `name` that did not parse (or whose year was inferred)."""
    bound = data.bound
    column = column_letter(bound.columns[name])
    header = bound.header_of(name, lang)
    raw = data.raw[name]
    return [
        make_issue(
            problem.code,
            lang,
            tab=bound.sheet.name,
            row=data.rows[i],
            column=column,
            header=header,
            value=raw[i],
            params=problem.params,
            field=name,
            table=bound.table.name,
        )
        for i, problem in problems.items()
    ]


def parse_tables(
    binding: Binding, ctx: ParseContext, *, skip: frozenset[str] = frozenset()
) -> tuple[dict[str, TableData], list[Issue]]:
    """Every bound data tab but those named in `skip` (already parsed by the caller)."""
    tables: dict[str, TableData] = {}
    issues: list[Issue] = []
    for name, bound in binding.tables.items():
        if bound.table.owned or name in skip:
            continue
        data, found = parse_table(bound, ctx)
        tables[name] = data
        issues.extend(found)
    return tables, issues
