"""Amounts probably typed in the other unit than the workbook's (元 for 万元 or back)."""

from __future__ import annotations

import statistics
from collections.abc import Mapping

from ..settings import DEFAULT_SETTINGS, Settings
from ..tables import TableData
from .book import Book
from .common import amount_text, month_of
from .problems import MetricProblem

UNIT_SUSPECT_RATIO = 3000.0
"""元 and 万元 differ 10,000-fold; real amounts of one kind rarely spread beyond 1,000-fold.
An amount this many times above or below its comparable amounts was likely typed in the other
unit (a bare number: "50万" is converted by parsing and never suspect)."""


def _suspect(value: float | None, typical: float | None) -> float | None:
    if value is None or typical is None or value <= 0 or typical <= 0:
        return None
    ratio = value / typical
    if ratio >= UNIT_SUSPECT_RATIO or ratio <= 1 / UNIT_SUSPECT_RATIO:
        return ratio
    return None


def amount_unit_problems(
    tables: Mapping[str, TableData],
    settings: Settings = DEFAULT_SETTINGS,
    *,
    book: Book | None = None,
) -> list[MetricProblem]:
    """Amounts probably typed in the other unit than the workbook's (a heuristic): a contract
    amount far from the median contract, a target far from the median monthly target (a
    quarter's counts a third) or from the median month of a rep's sales, an invoice far from
    its contract's amount. A median needs at least three amounts."""
    book = book or Book.read(tables)
    problems: list[MetricProblem] = []

    def check(
        table: str, row: int, name: str, value: float | None, typical: float | None, scale: int = 1
    ) -> bool:
        ratio = _suspect(value, typical)
        if ratio is None or value is None or typical is None:
            return False
        shown = f"{ratio:,.0f}" if ratio >= 1 else f"1/{1 / ratio:,.0f}"
        params = {
            "value": amount_text(value * scale),
            "typical": amount_text(typical * scale),
            "ratio": shown,
            "unit": settings.amount_unit,
        }
        problems.append(MetricProblem("amount-unit-suspect", table, row, name, params))
        return True

    def median(values: list[float]) -> float | None:
        positive = [v for v in values if v > 0]
        return statistics.median(positive) if len(positive) >= 3 else None

    typical_contract = median([c.amount for c in book.contracts if c.amount is not None])
    for c in book.contracts:
        check("contracts", c.row, "amount", c.amount, typical_contract)

    month_sales = book.sales_by(month_of)
    monthly = [
        (row, value / 3 if period.quarter is not None else value, 3 if period.quarter else 1)
        for (_rep, period), (value, row) in book.targets.items()
    ]
    typical_target = median([value for _, value, _ in monthly])
    typical_sales = median(list(month_sales.values()))
    for row, value, scale in sorted(monthly):
        if not check("targets", row, "sales_target", value, typical_target, scale):
            check("targets", row, "sales_target", value, typical_sales, scale)

    for inv in book.invoices:
        if inv.contract is not None:
            check("collections", inv.row, "invoice_amount", inv.amount, inv.contract.amount)
    return problems
