"""Collections reconciled against contracts: per invoice, per contract and per rep and month
(`INVOICE_RECONCILIATION`, `CONTRACT_INVOICING`, `REP_COLLECTIONS`)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, NamedTuple

import pandas as pd

from ..columns import day_of
from ..tables import TableData
from .book import Book, Invoice
from .common import amount_text, month_of
from .definitions import CONTRACT_INVOICING, INVOICE_RECONCILIATION, REP_COLLECTIONS, to_frame
from .problems import MetricProblem
from .rates import collection_rate


class Reconciliation(NamedTuple):
    invoices: pd.DataFrame  # INVOICE_RECONCILIATION, indexed by the Collections row
    contracts: pd.DataFrame  # CONTRACT_INVOICING
    reps: pd.DataFrame  # REP_COLLECTIONS, by the month of the due date
    problems: list[MetricProblem]


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def reconcile_collections(
    tables: Mapping[str, TableData],
    *,
    as_of: date | datetime | None = None,
    book: Book | None = None,
) -> Reconciliation:
    """Collections against contracts.

    Per invoice: outstanding = invoiced − received (a blank received amount is 0); overdue days
    = days from the due date to `as_of` while something is outstanding (0 when not due or paid
    in full, blank without a due date or an amount); reconciliation, the first that applies:
    unknown_contract (its contract id is not in Contracts), above_contract (this invoice takes
    the contract's invoiced total, in invoicing-date order, above the contract amount),
    overpaid, matched, partial (something received), unpaid.
    Per contract: amount, invoiced, received, not yet invoiced. Per rep and month of the due
    date: invoiced, received and their rate, the same figures as the Performance tab's.
    """
    book = book or Book.read(tables)
    today = day_of(as_of)
    per_contract: dict[int, list[Invoice]] = defaultdict(list)
    for inv in book.invoices:
        if inv.contract is not None:
            per_contract[inv.contract.row].append(inv)
    above, problems = _above_contract(per_contract)

    records: list[dict[str, Any]] = []
    for inv in book.invoices:
        received = inv.received or 0.0
        outstanding = None if inv.amount is None else inv.amount - received
        if inv.cid is not None and inv.contract is None:
            status = "unknown_contract"
        elif inv.row in above:
            status = "above_contract"
        elif inv.amount is None:
            status = None
        elif received > inv.amount and not _close(received, inv.amount):
            status = "overpaid"
            params = {
                "received": amount_text(received),
                "invoiced": amount_text(inv.amount),
                "value": amount_text(received),
            }
            problems.append(
                MetricProblem("invoice-overpaid", "collections", inv.row, "received_amount", params)
            )
        elif _close(received, inv.amount):
            status = "matched"
        else:
            status = "partial" if received > 0 else "unpaid"
        overdue: int | None = None
        if outstanding is not None and inv.due is not None:
            late = (today - inv.due).days if today is not None else 0
            overdue = max(0, late) if outstanding > 0 and not _close(outstanding, 0) else 0
        records.append(
            {
                "invoice_no": inv.invoice_no,
                "contract_id": inv.contract_id,
                "rep": book.people.display.get(inv.owner) if inv.owner else None,
                "invoice_amount": inv.amount,
                "received_amount": inv.received,
                "outstanding": outstanding,
                "due_date": inv.due,
                "overdue_days": overdue,
                "reconciliation": status,
            }
        )
    invoices_frame = to_frame(INVOICE_RECONCILIATION, records, [i.row for i in book.invoices])
    return Reconciliation(
        invoices_frame,
        to_frame(CONTRACT_INVOICING, _contract_rows(book, per_contract, above)),
        to_frame(REP_COLLECTIONS, _rep_rows(book)),
        problems,
    )


def _above_contract(
    per_contract: Mapping[int, list[Invoice]],
) -> tuple[set[int], list[MetricProblem]]:
    """The rows of the invoices that take their contract's invoiced total above its amount, in
    invoicing-date order, and one problem per such contract (at the first of them)."""
    above: set[int] = set()
    problems: list[MetricProblem] = []
    for invoices in per_contract.values():
        contract = invoices[0].contract
        assert contract is not None
        if contract.amount is None:
            continue
        running = 0.0
        ordered = sorted(invoices, key=lambda i: (i.invoiced_at or date.max, i.row))
        for inv in ordered:
            running += inv.amount or 0.0
            if running > contract.amount and not _close(running, contract.amount):
                if not above & {i.row for i in invoices}:
                    total = sum(i.amount or 0.0 for i in invoices)
                    params = {
                        "contract_id": contract.contract_id,
                        "invoiced": amount_text(total),
                        "amount": amount_text(contract.amount),
                        "value": amount_text(inv.amount or 0.0),
                    }
                    problems.append(
                        MetricProblem(
                            "invoiced-above-contract",
                            "collections",
                            inv.row,
                            "invoice_amount",
                            params,
                        )
                    )
                above.add(inv.row)
    return above, problems


def _contract_rows(
    book: Book, per_contract: Mapping[int, list[Invoice]], above: set[int]
) -> list[dict[str, Any]]:
    records = []
    for c in book.contracts:
        # a contract whose id another row took first has no invoices of its own
        owns_id = c.cid is not None and book.by_id.get(c.cid) is c
        mine = per_contract.get(c.row, []) if owns_id else []
        invoiced = sum(i.amount or 0.0 for i in mine)
        records.append(
            {
                "contract_id": c.contract_id,
                "customer": book.customers.display.get(c.customer) if c.customer else None,
                "rep": book.people.display.get(c.owner) if c.owner else None,
                "amount": c.amount,
                "invoiced": invoiced,
                "received": sum(i.received or 0.0 for i in mine),
                "uninvoiced": None if c.amount is None else c.amount - invoiced,
                "above_contract": any(i.row in above for i in mine),
            }
        )
    return records


def _rep_rows(book: Book) -> list[dict[str, Any]]:
    collected = book.collections_by(month_of)
    records = []
    for key in sorted(collected, key=book.people.period_order):
        invoiced, received = collected[key]
        records.append(
            {
                "rep": book.people.display[key[0]],
                "period": key[1],
                "invoiced": invoiced,
                "received": received,
                "collection_rate": collection_rate(received, invoiced),
            }
        )
    return records
