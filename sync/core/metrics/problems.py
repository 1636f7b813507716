"""Problems are data: `MetricProblem` (a stable code, where to look, message parameters), the
message templates of every code (`METRIC_CODES`) and the localized `Issue` of a problem."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from ..issues import CODES, Issue, render
from ..schema import AMOUNT_UNIT, Lang, Severity
from ..tables import TableData
from .definitions import SCORING
from .vocabulary import INDICATOR_KEYS, INDICATORS


@dataclass(frozen=True, slots=True)
class MetricProblem:
    """Something the metrics could not compute cleanly. `table`/`row`/`field` point at the
    cell to fix (canonical names; `row` is the spreadsheet row), when there is one; `params`
    fill the message templates of `METRIC_CODES[code]`."""

    code: str
    table: str | None = None
    row: int | None = None
    field: str | None = None
    params: Mapping[str, Any] = dataclass_field(default_factory=dict)

    @property
    def severity(self) -> Severity:
        return METRIC_CODES[self.code].severity


# The message templates live with every other code in `issues.CODES`.
METRIC_CODES = {
    code: CODES[code]
    for code in (
        "sales-without-target",
        "zero-target",
        "duplicate-target",
        "weights-not-100",
        "unknown-indicator",
        "duplicate-indicator",
        "invalid-weight",
        "invalid-scoring-target",
        "invalid-scoring-rule",
        "invoice-overpaid",
        "invoiced-above-contract",
        "amount-unit-suspect",
    )
}


def metric_issue(
    problem: MetricProblem, lang: Lang, tables: Mapping[str, TableData] | None = None
) -> Issue:
    """The localized issue of a problem, pointing at its tab, row and column when known."""
    kind = METRIC_CODES[problem.code]
    data = (tables or {}).get(problem.table or "")
    tab = data.tab if data is not None else (_table_title(problem.table, lang) or "")
    column = data.letter(problem.field) if data is not None and problem.field else None
    header = (
        data.bound.header_of(problem.field, lang) if data is not None and problem.field else None
    )
    params: dict[str, Any] = {"header": header or "", "value": "", **problem.params}
    if "unit" in params:
        params["unit"] = AMOUNT_UNIT.label(str(params["unit"]), lang)
    for key in ("indicator",):
        if key in params and str(params[key]) in INDICATOR_KEYS:
            params[key] = INDICATORS.label(str(params[key]), lang)
    value = params.get("value")
    return Issue(
        code=problem.code,
        severity=kind.severity,
        tab=tab,
        row=problem.row,
        column=column,
        header=header,
        value=str(value) if value not in (None, "") else None,
        message=render(kind.messages[lang], params),
        field=problem.field,
        table=problem.table,
        params=params,
    )


def _table_title(name: str | None, lang: Lang) -> str | None:
    from ..schema import SCHEMA

    if name is None:
        return None
    try:
        return SCHEMA.table(name).title(lang)
    except KeyError:
        return SCORING.title(lang) if name == SCORING.name else name
