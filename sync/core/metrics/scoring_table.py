"""The scoring table: indicators, their dimension, weight, target and rule, read from the
Settings tab's scoring section (`parse_scoring_rows`) or the defaults (`DEFAULT_SCORING`)."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..model import CellValue
from ..parse import is_blank, match_choice, parse_number_text, render_text
from ..schema import Lang
from ..tables import TableData
from .definitions import SCORING
from .problems import MetricProblem
from .rates import (
    LINEAR,
    WEIGHT_TOLERANCE,
    ScoringRule,
    as_weight,
    parse_scoring_rule,
    weights_problem,
)
from .vocabulary import DIMENSIONS, INDICATORS, Dimension, Indicator


@dataclass(frozen=True, slots=True)
class ScoringRow:
    indicator: Indicator
    dimension: Dimension
    weight: float  # a fraction: 0.15
    target: float  # ratios as fractions (0.3); follow-ups per week as a count (3)
    rule: ScoringRule = LINEAR
    row: int | None = None  # the Settings row it was read from


@dataclass(frozen=True, slots=True)
class ScoringTable:
    rows: tuple[ScoringRow, ...]

    @property
    def weight_sum(self) -> float:
        return sum(r.weight for r in self.rows)

    @property
    def weights_ok(self) -> bool:
        return abs(self.weight_sum - 1.0) <= WEIGHT_TOLERANCE

    def get(self, indicator: str) -> ScoringRow | None:
        return next((r for r in self.rows if r.indicator == indicator), None)


RATIO_INDICATORS = frozenset(set(Indicator) - {Indicator.FOLLOW_UPS_PER_WEEK})
"""Indicators whose target and actual are ratios (show as %); follow-ups per week is a count."""

DEFAULT_SCORING = ScoringTable(
    (
        ScoringRow(Indicator.LEAD_CONVERSION, Dimension.PROCESS, 0.15, 0.30),
        ScoringRow(Indicator.PROPOSAL_ON_TIME, Dimension.PROCESS, 0.10, 0.95),
        ScoringRow(Indicator.FOLLOW_UPS_PER_WEEK, Dimension.PROCESS, 0.15, 3.0),
        ScoringRow(Indicator.SALES_COMPLETION, Dimension.RESULTS, 0.40, 1.00),
        ScoringRow(Indicator.COLLECTION_RATE, Dimension.RESULTS, 0.20, 0.90),
    )
)


class ScoringCells(NamedTuple):
    """One raw row of the scoring table, as read from the sheet."""

    row: int | None
    indicator: CellValue
    dimension: CellValue = None
    weight: CellValue = None
    target: CellValue = None
    rule: CellValue = None


def _target_value(value: CellValue, indicator: Indicator) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        x = float(value)
    elif isinstance(value, str):
        s = unicodedata.normalize("NFKC", value).strip()
        s = re.sub(r"^(>=|≥|>|≧)", "", s).strip()
        s = re.sub(r"(次/周|次/週|次每周|次|/周|/week|per week)$", "", s, flags=re.I).strip()
        found = parse_number_text(s)
        if found is None or (found.multiplier is not None and found.multiplier != 1):
            return None
        x = float(found.value) / (100 if found.percent else 1)
    else:
        return None
    if indicator in RATIO_INDICATORS and x > 1.5:  # 30 where 30% was meant
        x /= 100
    return x if x > 0 else None


def parse_scoring_rows(
    rows: Iterable[ScoringCells | Sequence[CellValue]],
) -> tuple[ScoringTable, list[MetricProblem]]:
    """The scoring table from raw rows (row number, indicator, dimension, weight, target, rule).

    Unknown indicators and unreadable weights drop their row; a blank target or rule takes the
    default; a blank dimension the indicator's own. Weights not adding up to 100% are a
    `weights-not-100` problem naming the rows and the sum (the table is still returned: its
    indicator scores are shown, its totals are not).
    """
    found: list[ScoringRow] = []
    problems: list[MetricProblem] = []
    seen: dict[Indicator, list[int | None]] = defaultdict(list)
    allowed = "、".join(INDICATORS.label(i.value, Lang.ZH_HANS) for i in Indicator)

    def flag(code: str, row: int | None, field: str, params: dict[str, Any]) -> None:
        problems.append(MetricProblem(code, SCORING.name, row, field, params))

    for item in rows:
        cells = item if isinstance(item, ScoringCells) else ScoringCells(*item)  # type: ignore[arg-type]
        if all(is_blank(c) for c in cells[1:]):
            continue
        key = (
            match_choice(render_text(cells.indicator), INDICATORS)
            if not is_blank(cells.indicator)
            else None
        )
        if key is None or key == "total":
            flag(
                "unknown-indicator",
                cells.row,
                "indicator",
                {"value": render_text(cells.indicator), "allowed": allowed},
            )
            continue
        indicator = Indicator(key)
        seen[indicator].append(cells.row)
        if len(seen[indicator]) > 1:
            continue
        weight = as_weight(cells.weight)
        if weight is None:
            value = render_text(cells.weight) if cells.weight is not None else ""
            flag("invalid-weight", cells.row, "weight", {"value": value})
            continue
        default = DEFAULT_SCORING.get(indicator)
        assert default is not None
        target = default.target
        if not is_blank(cells.target):
            parsed_target = _target_value(cells.target, indicator)
            if parsed_target is None:
                value = render_text(cells.target)
                flag(
                    "invalid-scoring-target",
                    cells.row,
                    "target",
                    {"value": value, "default": f"{target:g}"},
                )
            else:
                target = parsed_target
        rule = parse_scoring_rule(cells.rule)
        if rule is None:
            flag("invalid-scoring-rule", cells.row, "rule", {"value": render_text(cells.rule)})
            rule = LINEAR
        dimension = default.dimension
        if not is_blank(cells.dimension):
            dim_key = match_choice(render_text(cells.dimension), DIMENSIONS)
            dimension = Dimension(dim_key) if dim_key else dimension
        found.append(ScoringRow(indicator, dimension, weight, target, rule, cells.row))
    for indicator, where in seen.items():
        if len(where) > 1:
            flag(
                "duplicate-indicator",
                where[1],
                "indicator",
                {
                    "indicator": indicator.value,
                    "rows": ", ".join(str(r) for r in where if r is not None),
                    "used": where[0] if where[0] is not None else "",
                },
            )
    table = ScoringTable(tuple(found))
    if found and not table.weights_ok:
        weight_problem = weights_problem([r.weight for r in found], [r.row for r in found])
        if weight_problem is not None:
            problems.append(weight_problem)
    return table, problems


def scoring_from_table(data: TableData | None) -> tuple[ScoringTable, list[MetricProblem]]:
    """The scoring section as bound and parsed by the job (its cells are read raw); the
    defaults when the workbook has none."""
    if data is None or not len(data):
        return DEFAULT_SCORING, []
    cells = [
        data.raw.get(name) or [None] * len(data)
        for name in ("indicator", "dimension", "weight", "target", "rule")
    ]
    return parse_scoring_rows(
        ScoringCells(r, *row) for r, *row in zip(data.rows, *cells, strict=True)
    )


def scoring_rows(lang: Lang, table: ScoringTable | None = None) -> list[list[Any]]:
    """The scoring table as a Settings section shows it: header row, then one row per
    indicator (weights and ratio targets as percentages)."""
    rows: list[list[Any]] = [[f.headers[lang] for f in SCORING.fields]]
    for item in (table or DEFAULT_SCORING).rows:
        ratio = item.indicator is not Indicator.FOLLOW_UPS_PER_WEEK
        target = f"{item.target:.0%}" if ratio else f"{item.target:g}"
        rows.append(
            [
                INDICATORS.label(item.indicator.value, lang),
                DIMENSIONS.label(item.dimension.value, lang),
                f"{item.weight:.0%}",
                target,
                None,
            ]
        )
    return rows
