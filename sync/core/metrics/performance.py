"""Monthly performance per rep: the Performance tab (`PERFORMANCE`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from ..parse import Period
from ..tables import TableData
from .book import Book, target_problem
from .common import MetricTable, month_of, select_periods
from .definitions import PERFORMANCE, to_frame
from .rates import avg_deal, collection_rate, completion_rate

TOP_CUSTOMERS = 3


def monthly_performance(
    tables: Mapping[str, TableData],
    *,
    as_of: date | datetime | None = None,
    months: Iterable[Period] | None = None,
    book: Book | None = None,
) -> MetricTable:
    """Per rep and month (columns of `PERFORMANCE`): the month's target from Targets, contract
    amounts signed in the month, completion (blank without a positive target), customers whose
    first contract ever was signed that month (credited to that contract's owner), sales per
    customer signed, received/invoiced of the invoices due in the month (credited to the
    contract's owner) and the three customers with the most sales.

    Rows: every month a rep has a month target, a signed contract or an invoice due, up to the
    month of `as_of` (all months when None), or only `months` when given. A quarter target
    does not enter monthly figures (see `quarterly_evaluation`).
    """
    book = book or Book.read(tables)
    problems = list(book.problems)
    sales = book.sales_by(month_of)
    # customer → (amount, first row) per rep and month, for the top customers
    by_customer: dict[tuple[str, Period], dict[str, tuple[float, int]]] = defaultdict(dict)
    for c in book.contracts:
        if c.owner is None or c.signed is None or c.amount is None or c.customer is None:
            continue
        mine = by_customer[(c.owner, month_of(c.signed))]
        amount, row = mine.get(c.customer, (0.0, c.row))
        mine[c.customer] = (amount + c.amount, min(row, c.row))
    new_customers: dict[tuple[str, Period], int] = defaultdict(int)
    for c in book.first_contracts().values():
        if c.owner is not None and c.amount is not None:
            new_customers[(c.owner, month_of(c.signed))] += 1  # type: ignore[arg-type]
    collected = book.collections_by(month_of)
    month_targets = {k: v for k, v in book.targets.items() if k[1].month is not None}

    keys = select_periods(set(month_targets) | set(sales) | set(collected), months, as_of, month_of)
    records = []
    for key in sorted(keys, key=book.people.period_order):
        rep, month = key
        target, target_row = month_targets.get(key, (None, None))
        actual = sales.get(key, 0.0)
        display = book.people.display[rep]
        problem = target_problem(display, month, actual, target, target_row)
        if problem is not None:
            problems.append(problem)
        customers = by_customer.get(key, {})
        top = sorted(customers.items(), key=lambda kv: (-kv[1][0], kv[1][1]))[:TOP_CUSTOMERS]
        invoiced, received = collected.get(key, (0.0, 0.0))
        records.append(
            {
                "rep": display,
                "period": month,
                "sales_target": target,
                "actual_sales": actual,
                "completion_rate": completion_rate(actual, target),
                "new_customers": new_customers.get(key, 0),
                "avg_deal": avg_deal(actual, len(customers)),
                "collection_rate": collection_rate(received, invoiced),
                "top_customers": "、".join(book.customers.display[c] for c, _ in top) or None,
            }
        )
    return MetricTable(to_frame(PERFORMANCE, records), problems)
