"""The column-wise side of the metrics: the array helpers, leads read as columns, and the
funnel and evaluation on the cells a per-row reading handled one by one (blank cells, cells
that did not parse, datetimes late in the day, names and ids typed differently, missing
columns and tables, empty tabs)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.core.columns import each_once
from sync.core.headers import bind_workbook
from sync.core.metrics import funnel, quarterly_evaluation, reached_rank
from sync.core.metrics.book import Book, Names
from sync.core.metrics.common import (
    distinct_codes,
    month_codes,
    month_of,
    month_period,
    pair_totals,
    quarter_codes,
    quarter_of,
    quarter_period,
)
from sync.core.metrics.stages import reached_ranks
from sync.core.model import RawSheet
from sync.core.parse import ParseContext, Period
from sync.core.schema import Lang
from sync.core.tables import TableData, parse_tables

REPS = [["Name", "Team"], ["Li Lei", "East"]]
LEADS = ["Lead ID", "Customer", "Owner", "Created at", "Stage"]
OPPORTUNITY = ["Expected amount", "Probability", "Expected close"]
PROPOSAL = ["Proposal due", "Proposal submitted at"]
FOLLOW_UPS = ["Date", "Lead ID", "Rep"]
Q2, Q3 = Period(2026, quarter=2), Period(2026, quarter=3)


def read(sheets: dict[str, Sequence[Sequence[Any]]]) -> tuple[dict[str, TableData], list[str]]:
    """The tables and the codes of the cell issues parsing found."""
    raw = [RawSheet(name, [list(r) for r in rows]) for name, rows in sheets.items()]
    ctx = ParseContext(lang=Lang.EN, as_of=date(2026, 9, 30))
    tables, issues = parse_tables(bind_workbook(raw, lang=Lang.EN), ctx)
    return tables, [i.code for i in issues]


def records(frame, **match: object) -> list[dict[str, Any]]:
    return [r for r in frame.to_dict("records") if all(r[k] == v for k, v in match.items())]


# --- the array helpers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "month", "quarter"),
    [
        ("2026-01-01", Period(2026, 1), Period(2026, quarter=1)),
        ("2026-03-31", Period(2026, 3), Period(2026, quarter=1)),
        ("2026-04-01", Period(2026, 4), Period(2026, quarter=2)),
        ("2026-12-31", Period(2026, 12), Period(2026, quarter=4)),
        ("1970-01-01", Period(1970, 1), Period(1970, quarter=1)),
        ("1969-12-31", Period(1969, 12), Period(1969, quarter=4)),  # before the epoch
        ("1900-02-28", Period(1900, 2), Period(1900, quarter=1)),
    ],
)
def test_month_and_quarter_codes(day: str, month: Period, quarter: Period) -> None:
    days = np.array([day], dtype="datetime64[D]")
    assert month_period(month_codes(days)[0]) == month
    assert quarter_period(quarter_codes(days)[0]) == quarter
    assert type(month_period(month_codes(days)[0]).year) is int  # not a numpy integer


def test_every_day_of_a_month_or_quarter_shares_one_period() -> None:
    march = [month_of(date(2026, 3, 1)), month_of(date(2026, 3, 31))]
    march.append(month_period(month_codes(np.array(["2026-03-15"], dtype="datetime64[D]"))[0]))
    assert march == [Period(2026, 3)] * 3 and march[0] is march[1] is march[2]
    q1 = [quarter_of(date(2026, 1, 1)), quarter_of(date(2026, 3, 31))]
    q1.append(quarter_period(quarter_codes(np.array(["2026-02-01"], dtype="datetime64[D]"))[0]))
    assert q1 == [Period(2026, quarter=1)] * 3 and q1[0] is q1[1] is q1[2]
    assert month_of(date(2026, 4, 1)) == Period(2026, 4) != march[0]


def test_distinct_codes_put_none_last() -> None:
    codes, distinct = distinct_codes(np.array([None, "b", "a", None, "b"], dtype=object))
    assert distinct == ["b", "a", None]
    assert [distinct[c] for c in codes] == [None, "b", "a", None, "b"]
    codes, distinct = distinct_codes(np.array([], dtype=object))
    assert (len(codes), distinct) == (0, [None])


def test_each_once_works_once_per_value_in_order_of_first_appearance() -> None:
    seen: list[str | None] = []

    def work(value: str | None) -> str | None:
        seen.append(value)
        return None if value is None else value.upper()

    assert each_once(["b", None, "a", "b", None], work) == ["B", None, "A", "B", None]
    assert seen == ["b", None, "a"]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", None]),
            st.integers(-3, 3),
            st.floats(-1e6, 1e6, allow_nan=False),
        ),
        max_size=40,
    )
)
def test_pair_totals_add_as_a_loop_over_the_rows_does(rows: list[tuple]) -> None:
    expected: dict[tuple, list] = {}
    for key, code, weight in rows:
        sums = expected.setdefault((key, code), [0, 0.0])
        sums[0] += 1
        sums[1] += weight
    keys = np.empty(len(rows), dtype=object)
    keys[:] = [key for key, _, _ in rows]
    codes = np.array([code for _, code, _ in rows], dtype=np.int64)
    weights = np.array([weight for _, _, weight in rows], dtype=np.float64)
    got = pair_totals(*distinct_codes(keys), codes, weights)
    assert [((k, c), [n, *sums]) for k, c, n, sums in got] == list(expected.items())  # exactly
    assert all(type(c) is int and type(n) is int for _, c, n, _ in got)


@pytest.mark.parametrize("stage", [None, "lead", "opportunity", "proposal", "won", "lost"])
@pytest.mark.parametrize("evidence", [False, True])
@pytest.mark.parametrize("submitted", [False, True])
def test_reached_ranks_is_reached_rank_of_every_lead(stage, evidence, submitted) -> None:
    expected = {
        None: None,
        "lead": 0,
        "opportunity": 1,
        "proposal": 4,
        "won": 6,
        "lost": 4 if submitted else 1 if evidence else 0,
    }[stage]
    assert reached_rank(stage, evidence, submitted) == expected
    ranks = reached_ranks(
        np.array([stage], dtype=object), np.array([evidence]), np.array([submitted])
    )
    assert ranks.tolist() == [-1 if expected is None else expected]


# --- leads as columns -----------------------------------------------------------------------


def test_leads_are_read_as_columns() -> None:
    tables, issues = read(
        {
            "Reps": REPS,
            "Leads": [
                [*LEADS, *OPPORTUNITY, *PROPOSAL],
                [
                    "L-1",
                    " Acme ",
                    "ＬＩ ＬＥＩ",
                    "2026-03-01 23:30",
                    "Won",
                    100,
                    "50%",
                    "2026-08-01",
                ],
                ["ｌ-2", None, "sun yu", "soon", "Lost", None, None, None, None, "2026-04-02 9:00"],
                [None, "Beta", "Sun Yu", None, "maybe", "lots", None, None, "2026-05-01"],
            ],
        }
    )
    assert issues == ["invalid-date", "invalid-choice", "invalid-number"]
    book = Book.read(tables)
    leads = book.leads
    assert len(leads) == 3 and leads.row.tolist() == [2, 3, 4]
    assert leads.lead.tolist() == ["l-1", "l-2", None]
    assert leads.rep.tolist() == ["lilei", "sunyu", "sunyu"]
    assert book.people.display["sunyu"] == "sun yu"  # as first seen: not on the Reps tab
    assert leads.customer.tolist() == ["Acme", None, "Beta"]  # as typed (trimmed by parsing)
    assert leads.created.tolist() == [date(2026, 3, 1), None, None]  # the day; unreadable: NaT
    assert leads.stage.tolist() == ["won", "lost", None]
    assert leads.rank.tolist() == [6, 4, -1]  # the lost lead had submitted a proposal
    assert leads.amount.tolist()[0] == 100.0 and np.isnan(leads.amount[1:]).all()
    assert leads.probability[0] == 0.5
    assert leads.close.tolist() == [date(2026, 8, 1), None, None]
    assert leads.due.tolist() == [None, None, date(2026, 5, 1)]
    assert leads.submitted.tolist() == [None, date(2026, 4, 2), None]


@pytest.mark.parametrize("sheets", [{"Reps": REPS}, {"Reps": REPS, "Leads": [LEADS]}])
def test_no_leads(sheets) -> None:
    tables, _ = read(sheets)
    assert len(Book.read(tables).leads) == 0
    result = funnel(tables)
    assert records(result.summary) == [
        {
            "team": None,
            "rep": None,
            "leads": 0,
            "open": 0,
            "won": 0,
            "lost": 0,
            "win_rate": None,
            "cycle_days_new": None,
            "cycle_days_existing": None,
            "weighted_pipeline": 0.0,
        }
    ]
    assert [r["reached"] for r in records(result.stages, stage="lead")] == [0]
    assert result.pipeline.empty


# --- names and contracts read as columns ----------------------------------------------------


def test_names_keyed_together_are_keyed_and_shown_as_one_by_one() -> None:
    names: list[Any] = ["臺灣 甲", None, "台湾甲", "  ", 7, "Li Lei", " li lei ", "7", 7, "乙⚙"]
    one_by_one, together = Names(), Names()
    one_by_one.key("LI LEI")  # known before: the first spelling stays the one shown
    together.key("LI LEI")
    expected = [one_by_one.key(name) for name in names]
    assert (
        together.keys(names)
        == expected
        == ["台湾甲", None, "台湾甲", None, "7", "lilei", "lilei", "7", "7", "乙"]
    )
    assert together.display == one_by_one.display
    assert list(together.display.items()) == [
        ("lilei", "LI LEI"),
        ("台湾甲", "臺灣 甲"),
        ("7", "7"),
        ("乙", "乙⚙"),
    ]


def test_sales_and_collections_per_period_are_worked_out_once_for_every_copy() -> None:
    tables, _ = read(
        {
            "Reps": REPS,
            "Contracts": [
                ["Contract ID", "Customer", "Owner", "Signed on", "Amount"],
                ["C1", "Acme", "Li Lei", "2026-03-01", 100],
                ["C2", "Beta", "li lei", "2026-03-31 23:00", 50],
                ["C3", "Beta", "Li Lei", None, 70],  # not signed: no sales
            ],
            "Collections": [
                ["Invoice no", "Contract ID", "Invoice amount", "Received amount", "Due date"],
                ["I1", " c1 ", 60, None, "2026-04-10"],
                ["I2", "C2", 50, 50, "2026-04-30"],
                ["I3", "C9", 10, 10, "2026-04-01"],  # no such contract: no rep
            ],
        }
    )
    book = Book.read(tables)
    march, april = Period(2026, 3), Period(2026, 4)
    assert book.sales_by(month_of) == {("lilei", march): 150.0}
    assert book.collections_by(month_of) == {("lilei", april): [110.0, 50.0]}
    assert book.copy().sales_by(month_of) is book.sales_by(month_of)
    assert [(c.cid, c.customer, c.owner) for c in book.contracts] == [
        ("c1", "acme", "lilei"),
        ("c2", "beta", "lilei"),
        ("c3", "beta", "lilei"),
    ]
    assert [i.contract.row if i.contract else None for i in book.invoices] == [2, 3, None]


def test_ids_are_keyed_as_typed_whether_or_not_their_cells_parsed() -> None:
    tables, _ = read(
        {
            "Reps": REPS,
            "Contracts": [
                ["Contract ID", "Lead ID", "Customer", "Owner", "Signed on", "Amount"],
                ["C1", " l-1 ", "Acme", "Li Lei", "2026-03-01", 100],
                [None, "L-2", "Beta", "Li Lei", "2026-03-02", 50],
            ],
            "Collections": [
                ["Invoice no", "Contract ID", "Invoice amount", "Due date"],
                ["I1", "ｃ1", 60, "2026-04-10"],
                ["I2", None, 10, "2026-04-01"],
            ],
        }
    )
    book = Book.read(tables)
    assert [(c.cid, c.lead) for c in book.contracts] == [("c1", "l-1"), (None, "l-2")]
    assert [i.cid for i in book.invoices] == ["c1", None]
    # a cell flagged as not parsed keeps its key: ids compare as typed
    tables["contracts"].bad["lead_id"] = {0}
    tables["collections"].bad["contract_id"] = {0}
    book = Book.read(tables)
    assert [c.lead for c in book.contracts] == ["l-1", "l-2"]
    assert [i.contract.row if i.contract else None for i in book.invoices] == [2, None]


# --- the funnel -----------------------------------------------------------------------------


def test_sales_cycles_end_at_the_last_follow_up_without_a_contract() -> None:
    tables, issues = read(
        {
            "Reps": REPS,
            "Leads": [
                LEADS,
                ["L1", "Acme", "Li Lei", "2026-03-01 09:00", "Won"],  # → 03-11: 10 days
                ["L2", "Beta", "li lei", "2026-03-02 18:00", "Won"],  # → 03-03: 1 day
                ["L3", "Gamma", "Li Lei", None, "Won"],  # no creation date: no cycle
                ["L4", "Delta", "Li Lei", "2026-03-10", "Won"],  # last follow-up before
                ["L5", "Eta", "Li Lei", "2026-03-01", "Won"],  # no follow-up, no contract
                ["L6", "Zeta", "Li Lei", "2026-03-01", "Negotiation"],  # not won
            ],
            "Follow-ups": [
                FOLLOW_UPS,
                ["2026-03-05 10:00", "L1", "Li Lei"],
                ["2026-03-11 17:30", " l1 ", "Li Lei"],  # the id as typed differently
                ["2026-03-04", "L1", "Li Lei"],
                ["2026-03-03 08:00", "L2", "Li Lei"],
                ["2026-03-01", "L4", "Li Lei"],
                ["someday", "L5", "Li Lei"],  # did not parse
                [None, "L5", "Li Lei"],
                ["2026-04-01", "L6", "Li Lei"],
                ["2026-04-01", None, "Li Lei"],
            ],
        }
    )
    assert issues == ["invalid-date"]
    mine = records(funnel(tables).summary, rep="Li Lei")[0]
    assert (mine["won"], mine["open"]) == (5, 1)
    assert mine["cycle_days_new"] == 5.5 and type(mine["cycle_days_new"]) is float  # (10 + 1) / 2
    assert mine["cycle_days_existing"] is None


def test_a_cycle_of_an_existing_customer_and_an_odd_median_stay_whole_days() -> None:
    tables, _ = read(
        {
            "Reps": REPS,
            "Leads": [LEADS, ["L1", "Acme", "Li Lei", "2026-03-01 20:00", "Won"]],
            "Contracts": [
                ["Contract ID", "Lead ID", "Customer", "Owner", "Signed on", "Amount"],
                ["C0", None, "ACME", "Li Lei", "2026-02-01", 10],
                ["C1", "L1", "Acme", "Li Lei", "2026-03-01", 10],  # signed the day it was created
            ],
            "Follow-ups": [FOLLOW_UPS, ["2026-05-01", "L1", "Li Lei"]],  # the contract wins
        }
    )
    mine = records(funnel(tables).summary, rep="Li Lei")[0]
    assert mine["cycle_days_existing"] == 0 and type(mine["cycle_days_existing"]) is int
    assert mine["cycle_days_new"] is None


def test_the_pipeline_adds_amounts_in_row_order() -> None:
    leads = [[*LEADS, *OPPORTUNITY]]
    leads += [[f"L{i}", "Acme", "Li Lei", "2026-03-01", "Proposal", a, 1, "2026-08-01"]
              for i, a in enumerate((0.1, 0.2, 0.3))]  # fmt: skip
    leads += [["L9", "Acme", None, "2026-03-01", "Lead", 5, "10%", "2026-08-31"]]  # nobody's
    leads += [["L8", "Acme", "Li Lei", "2026-03-01", "Won", 7, 1, "2026-08-01"]]  # not open
    leads += [["L7", "Acme", "Li Lei", "2026-03-01", "Lead", 7, None, "2026-08-01"]]  # no prob.
    tables, _ = read({"Reps": REPS, "Leads": leads})
    result = funnel(tables)
    mine = records(result.pipeline, rep="Li Lei")
    assert [(str(r["month"]), r["open_leads"]) for r in mine] == [("2026-08", 3)]
    assert mine[0]["expected_amount"] == 0.1 + 0.2 + 0.3  # 0.6000000000000001, as a loop adds
    everyone = records(result.pipeline, team=None, rep=None)
    # the month of everyone adds the reps' sums in the order the reps first appear
    assert [(r["open_leads"], r["weighted_amount"]) for r in everyone] == [
        (4, 0.0 + (0.1 + 0.2 + 0.3) + 0.5)
    ]


def test_a_leads_tab_without_stages_counts_its_leads_at_no_stage() -> None:
    tables, _ = read({"Reps": REPS, "Leads": [["Lead ID", "Owner"], ["L1", "Li Lei"]]})
    result = funnel(tables)
    mine = records(result.summary, rep="Li Lei")[0]
    assert (mine["leads"], mine["open"], mine["won"], mine["lost"]) == (1, 0, 0, 0)
    assert {r["leads"] for r in records(result.stages, rep="Li Lei")} == {0}
    assert {r["reached"] for r in records(result.stages, rep="Li Lei")} == {0, None}


# --- the evaluation -------------------------------------------------------------------------


def test_follow_ups_per_week_count_each_rep_however_typed() -> None:
    tables, issues = read(
        {
            "Reps": REPS,
            "Follow-ups": [
                FOLLOW_UPS,
                ["2026-07-01", "L1", "Li Lei"],
                ["2026-07-02 10:00", "L1", "li lei"],
                ["2026-09-30 23:59", "L1", "ＬＩ ＬＥＩ"],
                ["2026-10-01 00:00", "L1", "Li Lei"],  # Q4: after as_of
                ["2026-07-03", "L1", None],  # nobody's
                ["soon", "L1", "Li Lei"],  # did not parse
                ["2026-06-30 23:59", "L2", "sun yu"],  # not on the Reps tab
                ["2026-07-01", "L2", "Sun Yu"],
            ],
        }
    )
    assert issues == ["invalid-date"]
    frame = quarterly_evaluation(tables, as_of=date(2026, 9, 30)).frame
    weekly = {
        (r["rep"], r["period"]): r["actual"]
        for r in records(frame, indicator="follow_ups_per_week")
    }
    assert weekly == {("sun yu", Q2): 1 / 13, ("Li Lei", Q3): 3 / 13, ("sun yu", Q3): 1 / 13}


def test_proposals_count_on_the_day_and_once_past_due() -> None:
    as_of = date(2026, 9, 30)
    tables, _ = read(
        {
            "Reps": REPS,
            "Leads": [
                [*LEADS, *PROPOSAL],
                ["L1", "A", "Li Lei", "2026-07-01", "Proposal", "2026-08-01", "2026-08-01 23:00"],
                ["L2", "A", "Li Lei", "2026-07-01", "Proposal", "2026-09-29", None],  # late
                ["L3", "A", "Li Lei", "2026-07-01", "Proposal", "2026-09-30", None],  # due today
                ["L4", "A", "Li Lei", "2026-07-01", "Proposal", "2026-08-01", "2026-08-02"],
                ["L5", "A", None, "2026-07-01", "Proposal", "2026-08-01", "2026-08-01"],
                ["L6", "A", "Li Lei", None, None, "2026-07-01", "2026-06-30"],  # no stage
            ],
        }
    )

    def rates(as_of: date | None) -> dict[str, Any]:
        frame = quarterly_evaluation(tables, as_of=as_of, quarters=[Q3]).frame
        return {r["indicator"]: r["actual"] for r in records(frame, rep="Li Lei")}

    seen = rates(as_of)
    assert seen["proposal_on_time"] == 2 / 4  # L1 and L6 on time; L2 and L4 late
    assert seen["lead_conversion"] == 1  # five leads created in Q3 with a stage, all proposals
    assert rates(None)["proposal_on_time"] == 2 / 3  # without a day, unsent ones never count
