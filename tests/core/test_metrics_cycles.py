"""Sales cycles of won leads (the funnel's cycle days): only won leads with a creation day are
looked up, by their contracts, else their follow-ups; blank ids, duplicate ids, cells that did
not parse, dates against datetimes and missing tables or columns, checked against a reading of
the rows one by one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.core.columns import id_key
from sync.core.headers import bind_workbook
from sync.core.metrics import funnel
from sync.core.metrics.book import Book
from sync.core.metrics.sales_funnel import _cycles
from sync.core.model import RawSheet
from sync.core.parse import ParseContext
from sync.core.schema import Lang
from sync.core.tables import TableData, parse_tables
from sync.core.text import fold


def day_of(value: object) -> date | None:
    """The day of a date or datetime cell; None for anything else (the reference below reads
    cells one by one)."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


REPS = [["Name", "Team"], ["Li Lei", "East"]]
LEADS = ["Lead ID", "Customer", "Owner", "Created at", "Stage"]
CONTRACTS = ["Contract ID", "Lead ID", "Customer", "Owner", "Signed on", "Amount"]
FOLLOW_UPS = ["Date", "Lead ID", "Rep"]


def read(sheets: dict[str, Sequence[Sequence[Any]]]) -> dict[str, TableData]:
    raw = [RawSheet(name, [list(r) for r in rows]) for name, rows in sheets.items()]
    ctx = ParseContext(lang=Lang.EN, as_of=date(2026, 9, 30))
    return parse_tables(bind_workbook(raw, lang=Lang.EN), ctx)[0]


def cycles(tables: dict[str, TableData]) -> tuple[list[int], list[bool]]:
    """Each lead's cycle days (-1 for none) and, where it has one, whether it is existing."""
    found = _cycles(Book.read(tables), tables)
    days = found.days.tolist()
    return days, [bool(e) for e, d in zip(found.existing, days, strict=True) if d >= 0]


def summary(tables: dict[str, TableData]) -> dict[str, Any]:
    rows = funnel(tables).summary.to_dict("records")
    return next(r for r in rows if r["rep"] == "Li Lei")


def test_a_won_lead_without_an_id_or_a_date_has_no_cycle_and_the_others_keep_theirs() -> None:
    tables = read(
        {
            "Reps": REPS,
            "Leads": [
                LEADS,
                [None, "Acme", "Li Lei", "2026-03-01", "Won"],  # no id: nothing to look up
                ["L1", "Beta", "Li Lei", "2026-03-01", "Won"],
                ["ｌ1 ", "Gamma", "Li Lei", date(2026, 3, 2), "Won"],  # the same id again
                ["L2", "Delta", "Li Lei", "2026-03-01 23:00", "Won"],  # only undated follow-ups
                ["L3", "Eta", "Li Lei", "soon", "Won"],  # the creation did not parse
                ["L4", "Zeta", "Li Lei", "2026-03-01", "Lost"],  # not won
            ],
            "Follow-ups": [
                FOLLOW_UPS,
                [datetime(2026, 3, 9, 23, 59), "L1", "Li Lei"],
                ["2026-03-04", "l1", "Li Lei"],
                ["2026-03-20", None, "Li Lei"],  # no lead
                ["someday", "L2", "Li Lei"],
                [None, "L2", "Li Lei"],
                ["2026-03-08", "L3", "Li Lei"],
                ["2026-03-08", "L4", "Li Lei"],
            ],
        }
    )
    assert cycles(tables) == ([-1, 8, 7, -1, -1, -1], [False, False])
    mine = summary(tables)
    assert (mine["won"], mine["cycle_days_new"], mine["cycle_days_existing"]) == (5, 7.5, None)


def test_the_earliest_contract_ends_a_cycle_and_one_signed_before_the_lead_ends_none() -> None:
    tables = read(
        {
            "Reps": REPS,
            "Leads": [
                LEADS,
                ["L1", "Acme", "Li Lei", "2026-03-01", "Won"],
                ["L2", "Beta", "Li Lei", "2026-03-10", "Won"],  # its contract came first
                ["L3", None, "Li Lei", "2026-03-01", "Won"],  # no customer: a new one
            ],
            "Contracts": [
                CONTRACTS,
                ["C1", "L1", "Acme", "Li Lei", "2026-04-01", 10],
                ["C2", " l1", "Acme", "Li Lei", datetime(2026, 3, 21, 18), 10],  # the earliest
                ["C3", None, "Acme", "Li Lei", "2026-03-01", 10],  # no lead
                ["C4", "L2", "Beta", "Li Lei", "2026-03-09", 10],
                ["C5", "L3", None, "Li Lei", "2026-03-05", 10],
            ],
            "Follow-ups": [FOLLOW_UPS, ["2026-05-01", "L1", "Li Lei"]],  # the contract wins
        }
    )
    # Acme had signed C3 before L1's cycle ended: an existing customer
    assert cycles(tables) == ([20, -1, 4], [True, False])


def test_an_existing_customer_is_matched_however_typed_and_only_if_signed_before() -> None:
    tables = read(
        {
            "Reps": REPS,
            "Leads": [
                LEADS,
                ["L1", " ＡＣＭＥ 公司", "Li Lei", "2026-03-01", "Won"],
                ["L2", "Beta", "Li Lei", "2026-03-01", "Won"],
            ],
            "Contracts": [
                CONTRACTS,
                ["C1", None, "acme公司", "Li Lei", "2026-02-01", 10],
                ["C2", None, "Beta", "Li Lei", "2026-03-06", 10],  # after L2's last follow-up
            ],
            "Follow-ups": [
                FOLLOW_UPS,
                ["2026-03-05", "L1", "Li Lei"],
                ["2026-03-05", "L2", "Li Lei"],
            ],
        }
    )
    assert cycles(tables) == ([4, 4], [True, False])


def test_no_follow_ups_tab_or_no_dates_leaves_only_contract_cycles() -> None:
    leads = [LEADS, ["L1", "Acme", "Li Lei", "2026-03-01", "Won"]]
    leads += [["L2", "Beta", "Li Lei", "2026-03-01", "Won"]]
    contracts = [CONTRACTS, ["C1", "L1", "Acme", "Li Lei", "2026-03-03", 10]]
    without_tab = read({"Reps": REPS, "Leads": leads, "Contracts": contracts})
    assert cycles(without_tab) == ([2, -1], [False])
    without_dates = read(
        {
            "Reps": REPS,
            "Leads": leads,
            "Contracts": contracts,
            "Follow-ups": [["Lead ID", "Rep"], ["L2", "Li Lei"]],
        }
    )
    assert cycles(without_dates) == ([2, -1], [False])
    assert cycles(read({"Reps": REPS, "Leads": [LEADS]})) == ([], [])


# --- against the rows one by one ------------------------------------------------------------

IDS = st.sampled_from([None, "L1", " l1 ", "Ｌ1", "L2", "L3"])
DAYS = st.sampled_from(
    [None, "2026-03-01", "2026-03-05 23:30", "2026-02-20", "2026-04-01", "someday",
     date(2026, 3, 3), datetime(2026, 3, 10, 9)]
)  # fmt: skip
CUSTOMERS = st.sampled_from([None, "Acme", "ＡＣＭＥ", " acme ", "Beta"])
STAGES = st.sampled_from([None, "Won", "won", "Lost", "Proposal"])
Row = tuple[Any, ...]


def one_by_one(tables: dict[str, TableData]) -> tuple[list[int], list[bool]]:
    """The cycles read a row at a time: the lead's earliest contract, else its last dated
    follow-up; existing when its customer signed a first contract before that day."""
    leads, contracts = tables["leads"], tables["contracts"]
    signed: dict[str, date] = {}
    first: dict[str, tuple[date, int]] = {}
    for row, lead, customer, when in zip(
        contracts.rows,
        contracts.column("lead_id"),
        contracts.column("customer"),
        contracts.column("signed_at"),
        strict=True,
    ):
        day = day_of(when)
        if day is None:
            continue
        lead_key = id_key(lead)
        if lead_key is not None:
            signed[lead_key] = min(day, signed.get(lead_key, day))
        key = fold(str(customer).strip()) if customer is not None else ""
        if key and (key not in first or (day, row) < first[key]):
            first[key] = (day, row)
    last: dict[str, date] = {}
    follow_ups = tables["follow_ups"]
    for lead, when in zip(follow_ups.usable("lead_id"), follow_ups.usable("date"), strict=True):
        lead_key, day = id_key(lead), day_of(when)
        if lead_key is not None and day is not None:
            last[lead_key] = max(day, last.get(lead_key, day))
    days: list[int] = []
    existing: list[bool] = []
    for lead, customer, created, stage in zip(
        leads.column("lead_id"),
        leads.column("customer"),
        leads.usable("created_at"),
        leads.column("stage"),
        strict=True,
    ):
        key = id_key(lead)
        end = (signed.get(key) or last.get(key)) if key is not None else None
        start = day_of(created)
        if stage != "won" or start is None or end is None or end < start:
            days.append(-1)
            continue
        days.append((end - start).days)
        found = first.get(fold(str(customer))) if customer is not None else None
        existing.append(found is not None and found[0] < end)
    return days, existing


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(IDS, CUSTOMERS, DAYS, STAGES), max_size=6),
    st.lists(st.tuples(IDS, CUSTOMERS, DAYS), max_size=4),
    st.lists(st.tuples(DAYS, IDS), max_size=6),
)
def test_cycles_are_those_of_the_rows_one_by_one(
    leads: list[Row], contracts: list[Row], follow_ups: list[Row]
) -> None:
    tables = read(
        {
            "Reps": REPS,
            "Leads": [LEADS, *([i, c, "Li Lei", d, s] for i, c, d, s in leads)],
            "Contracts": [CONTRACTS, *([f"C{n}", i, c, "Li Lei", d, 1] for n, (i, c, d) in
                                       enumerate(contracts))],
            "Follow-ups": [FOLLOW_UPS, *([d, i, "Li Lei"] for d, i in follow_ups)],
        }
    )  # fmt: skip
    assert cycles(tables) == one_by_one(tables)
