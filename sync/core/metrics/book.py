"""The source tables read once for every metric (`Book.read`): reps and customers matched by
their folded names, contracts, invoices linked to their contracts, leads (as columns) with how
far along the funnel they got, and sales targets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from ..columns import days, each_distinct, id_keys, objects
from ..parse import Period
from ..tables import TableData
from ..text import fold, fold_all
from .common import (
    PeriodOf,
    amount_text,
    columns,
    day_of,
    distinct_codes,
    number,
    text_or_none,
)
from .problems import MetricProblem
from .stages import reached_ranks


@dataclass(slots=True)
class Names:
    """Names by their folded form (width, case, script and spaces aside), shown as first seen."""

    display: dict[str, str] = dataclass_field(default_factory=dict)
    # text as given → its key: a name seen before has its key (and its display) already
    known: dict[str, str | None] = dataclass_field(default_factory=dict, repr=False)

    def key(self, name: object) -> str | None:
        if type(name) is not str:
            return None if name is None else self._key(name)
        found = self.known.get(name, self)
        if found is self:
            found = self.known[name] = self._key(name)
        return found  # type: ignore[return-value]

    def keys(self, names: Sequence[object]) -> list[str | None]:
        """`key` of every name, each distinct name looked up once, in the order of the names."""
        return each_distinct(names, self._keys_of)

    def _keys_of(self, names: list[object]) -> list[str | None]:
        """`key` of distinct names, those not known yet folded together."""
        known = self.known
        texts = {
            i: str(name).strip()
            for i, name in enumerate(names)
            if name is not None and not (type(name) is str and name in known)
        }
        folded = dict(zip(texts, fold_all(list(texts.values())), strict=True))
        out: list[str | None] = []
        for i, name in enumerate(names):
            if i not in folded:
                out.append(None if name is None else known[name])  # type: ignore[index]
                continue
            key = folded[i] or None
            if key is not None:
                self.display.setdefault(key, texts[i])
            if type(name) is str:
                known[name] = key
            out.append(key)
        return out

    def codes(self, names: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
        """The distinct keys of an object array of names (None among them, last) and, for each
        name, the index of its key; each distinct name is looked up once."""
        name_codes, distinct = distinct_codes(names)
        key_codes, keys = distinct_codes(objects(self.keys(distinct)))
        return key_codes[name_codes], keys

    def _key(self, name: object) -> str | None:
        text = str(name).strip()
        key = fold(text)
        if not key:
            return None
        self.display.setdefault(key, text)
        return key


@dataclass(slots=True)
class People(Names):
    """Reps, shown as the Reps tab spells them (else as first seen), in its order."""

    team: dict[str, str | None] = dataclass_field(default_factory=dict)
    order: dict[str, int] = dataclass_field(default_factory=dict)

    def sort_key(self, key: str | None) -> tuple[int, str]:
        if key is None:
            return (1 << 30, "")
        return (self.order.get(key, 1 << 29), self.display.get(key, key))

    def period_order(self, key: tuple[str, Period]) -> tuple[Period, tuple[int, str]]:
        """Sort (rep, period) keys by period, then rep."""
        return (key[1], self.sort_key(key[0]))


@dataclass(slots=True)
class Contract:
    row: int
    contract_id: str | None  # as typed
    cid: str | None
    owner: str | None
    customer: str | None
    signed: date | None
    amount: float | None
    lead: str | None


@dataclass(slots=True)
class Invoice:
    row: int
    invoice_no: str | None
    contract_id: str | None  # as typed
    cid: str | None
    contract: Contract | None
    amount: float | None
    received: float | None
    invoiced_at: date | None
    due: date | None

    @property
    def owner(self) -> str | None:
        return self.contract.owner if self.contract else None


@dataclass(slots=True)
class Leads:
    """The Leads tab as columns, one entry a data row. Object arrays hold None where blank,
    days (datetime64[D]) NaT, amounts (float) NaN."""

    row: np.ndarray  # the spreadsheet row
    lead: np.ndarray  # the lead id's key
    rep: np.ndarray  # the owner's key
    customer: np.ndarray  # as typed
    created: np.ndarray  # day
    stage: np.ndarray
    rank: np.ndarray  # see `reached_ranks`: -1 without a stage
    amount: np.ndarray
    probability: np.ndarray
    close: np.ndarray  # day
    due: np.ndarray  # day the proposal is due
    submitted: np.ndarray  # day the proposal was submitted

    def __len__(self) -> int:
        return len(self.row)


Targets = dict[tuple[str, Period], tuple[float, int]]  # (rep, month or quarter) → (amount, row)


@dataclass(slots=True)
class Book:
    people: People
    customers: Names
    contracts: list[Contract]
    by_id: dict[str, Contract]
    invoices: list[Invoice]
    targets: Targets
    leads: Leads
    problems: list[MetricProblem]
    # (what, period function) → `sales_by` or `collections_by`: worked out once, and shared
    # by the copies, as the rows are
    _sums: dict[tuple[str, PeriodOf], Any] = dataclass_field(default_factory=dict, repr=False)

    @classmethod
    def read(cls, tables: Mapping[str, TableData]) -> Book:
        people = _read_people(tables)
        customers = Names()
        contracts = _read_contracts(tables, people, customers)
        by_id: dict[str, Contract] = {}
        for contract in contracts:
            if contract.cid is not None:
                by_id.setdefault(contract.cid, contract)  # a duplicate id is reported elsewhere
        invoices = _read_invoices(tables, by_id)
        targets, problems = _read_targets(tables, people)
        leads = _read_leads(tables, people)
        return cls(people, customers, contracts, by_id, invoices, targets, leads, problems)

    def copy(self) -> Book:
        """A book to hand to one metric: the rows are shared (no metric changes them), the
        name registers are its own (looking a name up registers how it is shown)."""
        people = People(
            display=dict(self.people.display),
            team=dict(self.people.team),
            order=dict(self.people.order),
        )
        return replace(
            self,
            people=people,
            customers=Names(display=dict(self.customers.display)),
            problems=list(self.problems),
        )

    def first_contracts(self) -> dict[str, Contract]:
        """Each customer's first contract overall (earliest signing, then the higher row)."""
        first: dict[str, Contract] = {}
        for c in self.contracts:
            if c.customer is None or c.signed is None:
                continue
            best = first.get(c.customer)
            if best is None or (c.signed, c.row) < (best.signed, best.row):
                first[c.customer] = c
        return first

    def sales_by(self, period_of: PeriodOf) -> dict[tuple[str, Period], float]:
        """(contract owner, period of the signing) → the contracts' amount. Shared: read it,
        never change it."""
        found = self._sums.get(("sales", period_of))
        if found is None:
            found = self._sums["sales", period_of] = defaultdict(float)
            for c in self.contracts:
                if c.owner is not None and c.signed is not None and c.amount is not None:
                    found[(c.owner, period_of(c.signed))] += c.amount
        return found

    def collections_by(self, period_of: PeriodOf) -> dict[tuple[str, Period], list[float]]:
        """(contract owner, period of the due date) → [invoiced, received]. Shared: read it,
        never change it."""
        found = self._sums.get(("collections", period_of))
        if found is None:
            found = self._sums["collections", period_of] = defaultdict(lambda: [0.0, 0.0])
            for inv in self.invoices:
                owner = inv.owner
                if owner is None or inv.due is None or inv.amount is None:
                    continue
                sums = found[(owner, period_of(inv.due))]
                sums[0] += inv.amount
                sums[1] += inv.received or 0.0
        return found

    def sales_target(self, rep: str, period: Period) -> tuple[float | None, int | None]:
        """A month's target; a quarter's own target, else the sum of its months' targets."""
        found = self.targets.get((rep, period))
        if found is not None:
            return found
        if period.quarter is None:
            return None, None
        months = [self.targets.get((rep, Period(y, m))) for y, m in period.months()]
        given = [m for m in months if m is not None]
        if not given:
            return None, None
        return sum(v for v, _ in given), given[0][1]


def target_problem(
    rep: str, period: Period, actual: float, target: float | None, target_row: int | None
) -> MetricProblem | None:
    """Sales without a target, or a zero target: the completion rate is left blank."""
    params: dict[str, object]
    if target is None and actual:
        params = {"rep": rep, "period": str(period), "actual": amount_text(actual)}
        return MetricProblem("sales-without-target", "targets", None, "sales_target", params)
    if target == 0:
        params = {"rep": rep, "period": str(period), "value": 0}
        return MetricProblem("zero-target", "targets", target_row, "sales_target", params)
    return None


def _read_people(tables: Mapping[str, TableData]) -> People:
    people = People()
    for i, (_row, name, team) in enumerate(columns(tables, "reps", "name", "team")):
        key = people.key(name)
        if key is not None and key not in people.order:
            people.display[key] = str(name).strip()
            people.team[key] = team
            people.order[key] = i
    return people


def _read_contracts(
    tables: Mapping[str, TableData], people: People, customers: Names
) -> list[Contract]:
    data = tables.get("contracts")
    if data is None:
        return []
    column = data.column
    return list(
        map(
            Contract,
            data.rows,
            map(text_or_none, column("contract_id")),
            _id_keys(data, "contract_id"),
            people.keys(column("owner")),
            customers.keys(column("customer")),
            map(day_of, column("signed_at")),
            map(number, column("amount")),
            _id_keys(data, "lead_id"),
        )
    )


def _read_invoices(tables: Mapping[str, TableData], by_id: Mapping[str, Contract]) -> list[Invoice]:
    data = tables.get("collections")
    if data is None:
        return []
    column = data.column
    cids = _id_keys(data, "contract_id")
    return list(
        map(
            Invoice,
            data.rows,
            map(text_or_none, column("invoice_no")),
            map(text_or_none, column("contract_id")),
            cids,
            [by_id.get(cid or "") for cid in cids],
            map(number, column("invoice_amount")),
            map(number, column("received_amount")),
            map(day_of, column("invoiced_at")),
            map(day_of, column("due_date")),
        )
    )


def _id_keys(data: TableData, name: str) -> list[str | None]:
    """`id_keys` of a column: the table's own keys (worked out once, often by an earlier rule)
    when every cell of it parsed, as they are then keys of the same values."""
    return id_keys(data.column(name)) if data.bad.get(name) else data.keys(name)


def _read_targets(
    tables: Mapping[str, TableData], people: People
) -> tuple[Targets, list[MetricProblem]]:
    targets: Targets = {}
    duplicates: dict[tuple[str, Period], list[int]] = defaultdict(list)
    for row, rep, period, amount in columns(tables, "targets", "rep", "period", "sales_target"):
        key = people.key(rep)
        value = number(amount)
        if key is None or not isinstance(period, Period) or value is None:
            continue
        if period.month is None and period.quarter is None:
            continue  # a whole-year target plays no part in monthly or quarterly figures
        duplicates[(key, period)].append(row)
        targets.setdefault((key, period), (value, row))
    problems = [
        MetricProblem(
            "duplicate-target",
            "targets",
            rows[1],
            "sales_target",
            {
                "rep": people.display[rep],
                "period": str(period),
                "rows": ", ".join(map(str, rows)),
                "used": rows[0],
            },
        )
        for (rep, period), rows in duplicates.items()
        if len(rows) > 1
    ]
    return targets, problems


def _read_leads(tables: Mapping[str, TableData], people: People) -> Leads:
    data = tables.get("leads")
    rows = data.rows if data is not None else []

    def values(name: str) -> list[Any]:
        return data.column(name) if data is not None else []

    def day(name: str) -> np.ndarray:
        if data is None:
            return np.empty(0, dtype="datetime64[D]")
        return days(data.moments(name))

    def given(name: str) -> np.ndarray:
        return pd.notna(objects(values(name)))

    stage = objects(values("stage"))
    evidence = given("expected_amount") | given("probability")
    evidence |= given("expected_close") | given("proposal_due")
    return Leads(
        row=np.array(rows, dtype=np.int64),
        lead=objects(data.keys("lead_id") if data is not None else []),
        rep=objects(people.keys(values("owner"))),
        customer=objects(values("customer")),
        created=day("created_at"),
        stage=stage,
        rank=reached_ranks(stage, evidence, given("proposal_submitted_at")),
        amount=_floats(values("expected_amount")),
        probability=_floats(values("probability")),
        close=day("expected_close"),
        due=day("proposal_due"),
        submitted=day("proposal_submitted_at"),
    )


def _floats(values: Sequence[float | None]) -> np.ndarray:
    """Amounts (floats or None) as floats: NaN where blank or not finite, as `number` has it."""
    out = np.array(values, dtype=np.float64)
    out[~np.isfinite(out)] = np.nan
    return out
