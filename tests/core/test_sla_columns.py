"""SLA rules over whole columns: `evaluate_many` agrees with `evaluate` row by row, and
`flag_sla` groups, skips and fills the owned columns the way the rules say, blanks, cells
that did not parse, dates without a time, empty tables and missing columns included."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.core.calendar import BusinessCalendar
from sync.core.headers import bind_workbook
from sync.core.model import RawSheet
from sync.core.parse import ParseContext
from sync.core.schema import SCHEMA, Lang
from sync.core.sla import DEFAULT_RULES, Condition, Unit, evaluate, evaluate_many, flag_sla
from sync.core.tables import parse_tables

CN = BusinessCalendar("CN")
NOW = datetime(2026, 3, 20, 12, 0)
t = datetime

# --- evaluate_many ------------------------------------------------------------------------

_moment = st.datetimes(min_value=datetime(2025, 6, 1), max_value=datetime(2027, 6, 30))
_when = st.one_of(
    st.none(),
    _moment,
    _moment.map(lambda m: m.replace(hour=0, minute=0, second=0, microsecond=0)),  # midnight
    _moment.map(datetime.date),  # a date typed without a time
)
_row = st.tuples(_when, _when, st.floats(min_value=0, max_value=400, allow_nan=False))


@settings(max_examples=200, deadline=None)
@given(st.lists(_row, max_size=12), st.sampled_from(list(Unit)), _moment)
def test_evaluate_many_is_evaluate_row_by_row(
    rows: list[tuple[Any, Any, float]], unit: Unit, as_of: datetime
) -> None:
    if unit in (Unit.DAYS, Unit.WORKDAYS):  # day units take whole numbers
        rows = [(s, d, float(int(lim))) for s, d, lim in rows]
    starts, dones, limits = ([r[k] for r in rows] for k in range(3))
    many = evaluate_many(starts, dones, limits, unit, as_of, CN)
    one = [evaluate(s, d, lim, unit, as_of, CN) for s, d, lim in rows]
    assert [(type(d), d) for d in many.due] == [(type(e.due), e.due) for e in one]
    assert many.status == [e.status for e in one]
    assert many.late_by == [e.late_by for e in one]
    assert many.estimated_year == [e.estimated_year for e in one]


def test_evaluate_many_carries_estimated_years_and_dues_past_9999() -> None:
    starts = [t(2098, 12, 30, 10), t(9999, 12, 30, 10), t(2026, 3, 2, 10)]
    found = evaluate_many(starts, [None] * 3, [3, 3, 3], Unit.WORKDAYS, NOW, CN)
    assert found.estimated_year[0] == 2098 and found.estimated_year[2] is None
    assert found.due[1] is None and found.status[1].value == "n/a"


@pytest.mark.parametrize(
    "values",
    [
        ["visit", "Visit", None, "meeting", "call"],
        [True, False, None, "yes"],
        [1, 1.0, True, None, "1", 2.5],  # equal numbers that read differently
        [],
    ],
)
@pytest.mark.parametrize("negate", [False, True])
def test_a_condition_over_a_column_matches_each_value(values: list[Any], negate: bool) -> None:
    condition = Condition("method", frozenset({"visit", "yes", "1", ""}), negate)
    found = condition.matches_column(values).tolist()
    assert found == [condition.matches(v) for v in values]


# --- flag_sla over typed tables -----------------------------------------------------------


def _sheet(table: str, fields: list[str], *rows: list[Any]) -> RawSheet:
    on = SCHEMA.table(table)
    header = [on.field(name).headers[Lang.EN] for name in fields]
    return RawSheet(on.title(Lang.EN), [header, *rows])


def _flag(*sheets: RawSheet) -> tuple[dict[str, dict[str, dict[int, Any]]], list[Any]]:
    tables, _ = parse_tables(bind_workbook(list(sheets)), ParseContext(lang=Lang.EN))
    return flag_sla(tables, DEFAULT_RULES, CN, NOW, Lang.EN)


FOLLOW_UPS = ["date", "lead_id", "method", "rep", "next_step", "next_step_date"]
LEADS = ["lead_id", "source", "customer", "stage", "created_at", "assigned_at"]
COLLECTIONS = ["invoice_no", "contract_id", "invoice_amount", "due_date"]


def _typed(values: dict[int, Any]) -> dict[int, tuple[type, Any]]:
    return {row: (type(v), v) for row, v in values.items()}


def test_follow_ups_group_by_lead_as_ids_compare_and_in_time_order() -> None:
    computed, issues = _flag(
        _sheet(
            "follow_ups",
            FOLLOW_UPS,
            [t(2026, 3, 2, 10), "L-1", "Phone", "Li", "call", date(2026, 3, 3)],  # 2
            [date(2026, 3, 5), "l-1", "Phone", "Li", "", date(2026, 3, 4)],  # 3: midnight
            [t(2026, 3, 3, 9), " Ｌ-1", "Phone", "Li", "", date(2026, 3, 4)],  # 4
            [t(2026, 3, 5, 0), "L-1", "Phone", "Li", "", date(2026, 3, 25)],  # 5: ties 3
            [None, "L-1", "Phone", "Li", "", date(2026, 3, 1)],  # 6: no date: no group
            [t(2026, 3, 6, 9), None, "Phone", "Li", "", date(2026, 3, 7)],  # 7: no lead
        ),
        _sheet("leads", LEADS, ["l-1", "Web", "Acme", "Opportunity", None, None]),
    )
    status = computed["follow_ups"]["next_step_status"]
    # 2 → 4 on 3/3 (met); 4 → 3 on 3/5 and 3 → 5 on 3/5 (a day late); 5 still open
    assert status == {2: "met", 3: "breached", 4: "breached", 5: "open", 6: "overdue", 7: "overdue"}
    late = [i for i in issues if i.code == "sla-breached" and i.row in (3, 4)]
    assert [(i.row, i.params["done"], i.params["late"]) for i in late] == [
        (3, "2026-03-05", "1 d"),
        (4, "2026-03-05", "1 d"),
    ]
    leads = computed["leads"]
    assert leads["follow_up_count"] == {2: 4}
    assert _typed(leads["last_follow_up_at"]) == {2: (datetime, t(2026, 3, 5))}
    assert _typed(leads["next_step_due"]) == {2: (date, date(2026, 3, 25))}


def test_a_closed_lead_keeps_no_last_promise_and_no_pipeline_age() -> None:
    computed, _ = _flag(
        _sheet(
            "follow_ups",
            FOLLOW_UPS,
            [t(2026, 3, 2, 10), "L-2", "Phone", "Li", "", date(2026, 3, 3)],
            [t(2026, 3, 4, 10), "L-2", "Phone", "Li", "", date(2026, 3, 5)],
            [t(2026, 3, 4, 10), "L-3", "Phone", "Li", "", date(2026, 3, 5)],
        ),
        _sheet(
            "leads",
            LEADS,
            ["L-2", "Web", "Acme", "Won", t(2026, 3, 1, 9), None],
            ["L-3", "Web", "Beta", "Lead", None, t(2026, 3, 1, 9)],  # no creation: assigned
            ["L-4", "Web", "Gamma", "Lead", t(2026, 3, 30, 9), None],  # in the future: 0
            ["L-5", "Web", "Delta", None, None, None],  # no date: no age
        ),
    )
    assert computed["follow_ups"]["next_step_status"] == {2: "breached", 4: "overdue"}
    leads = computed["leads"]
    assert leads["follow_up_count"] == {2: 2, 3: 1, 4: 0, 5: 0}
    assert leads["next_step_due"] == {3: date(2026, 3, 5)}
    assert leads["days_in_pipeline"] == {3: 19, 4: 0}


@pytest.mark.parametrize(
    ("stages", "status"),
    [
        (["Won", "Lead"], {2: "overdue"}),  # reopened: its last promise is measured
        (["Lead", "Lost", None], {}),  # a row without a stage says nothing
        ([None, None], {2: "overdue"}),
    ],
)
def test_a_lead_listed_twice_is_closed_as_its_last_row_with_a_stage_says(
    stages: list[str | None], status: dict[int, str]
) -> None:
    computed, _ = _flag(
        _sheet(
            "follow_ups",
            FOLLOW_UPS,
            [t(2026, 3, 2, 10), "L-1", "Phone", "Li", "", date(2026, 3, 3)],
        ),
        _sheet(
            "leads",
            LEADS,
            ["L-9", "Web", "Other", "Won", None, None],
            *[["l-1", "Web", "Acme", stage, None, None] for stage in stages],
        ),
    )
    assert computed["follow_ups"]["next_step_status"] == status
    counts = {2: 0} | dict.fromkeys(range(3, 3 + len(stages)), 1)
    assert computed["leads"]["follow_up_count"] == counts


def test_follow_ups_on_leads_missing_from_either_tab_count_nothing() -> None:
    computed, _ = _flag(
        _sheet(
            "follow_ups",
            FOLLOW_UPS,
            [t(2026, 3, 2, 10), "L-8", "Phone", "Li", "", date(2026, 3, 3)],  # no such lead
        ),
        _sheet(
            "leads",
            LEADS,
            ["L-1", "Web", "Acme", "Lost", None, None],  # no follow-ups
            [None, "Web", "Beta", "Won", None, None],  # no id
        ),
    )
    assert computed["follow_ups"]["next_step_status"] == {2: "overdue"}
    assert computed["leads"]["follow_up_count"] == {2: 0}
    assert computed["leads"]["last_follow_up_at"] == {}


def test_an_empty_leads_tab_closes_nothing() -> None:
    computed, _ = _flag(
        _sheet(
            "follow_ups", FOLLOW_UPS, [t(2026, 3, 2, 10), None, "Phone", "Li", "", date(2026, 3, 3)]
        ),
        _sheet("leads", LEADS),
    )
    assert computed["follow_ups"]["next_step_status"] == {2: "overdue"}
    assert computed["leads"]["follow_up_count"] == {}


def test_a_next_step_date_is_read_from_the_text_when_none_is_given() -> None:
    computed, issues = _flag(
        _sheet(
            "follow_ups",
            ["date", "lead_id", "method", "rep", "next_step"],  # no next-step date column
            [t(2026, 3, 2, 10), "L-1", "Visit", "Li", "3月25日 演示"],
            [t(2026, 3, 3, 10), "L-2", "Visit", "Li", "3/25 demo"],  # the same day: once
            [t(2026, 3, 4, 10), "L-3", "Visit", "Li", "later"],
            [t(2026, 3, 4, 10), "L-4", "Visit", "Li", None],
        ),
        _sheet("leads", LEADS, ["L-1", "Web", "Acme", "Lead", None, None]),
    )
    assert computed["follow_ups"]["next_step_status"] == {2: "open", 3: "open"}
    assert computed["leads"]["next_step_due"] == {2: date(2026, 3, 25)}
    unreadable = [(i.row, i.column) for i in issues if i.code == "next-step-date-unreadable"]
    assert unreadable == [(4, "E")]


def test_payment_is_due_after_the_terms_and_done_by_the_receipt_that_completes_it() -> None:
    contracts = ["contract_id", "customer", "owner", "signed_at", "amount", "accepted_at"]
    computed, issues = _flag(
        _sheet(
            "contracts",
            [*contracts, "payment_terms_days"],
            ["HT-1", "Acme", "Li", date(2026, 1, 5), 100, date(2026, 2, 1), None],  # 30 days
            ["HT-2", "Beta", "Li", date(2026, 1, 5), 100, date(2026, 2, 1), 10],  # short
            ["HT-3", "Gamma", "Li", date(2026, 1, 5), None, date(2026, 2, 1), 10],  # no amount
        ),
        _sheet(
            "collections",
            [*COLLECTIONS, "received_at", "received_amount"],
            ["F1", "ht-1", 60, date(2026, 3, 1), date(2026, 3, 1), 60],
            ["F2", "HT-1", 40, date(2026, 3, 5), date(2026, 3, 10), 40],
            ["F3", "HT-2", 100, date(2026, 3, 1), None, None],
            ["F4", "HT-2", 100, None, date(2026, 3, 2), 0],
        ),
    )
    assert _typed(computed["contracts"]["payment_due"]) == {
        2: (date, date(2026, 3, 3)),
        3: (date, date(2026, 2, 11)),
    }
    late = [(i.code, i.row, i.params["done"], i.params["late"]) for i in issues]
    assert late == [("sla-breached", 2, "2026-03-10", "7 d"), ("sla-overdue", 3, "", "37 d")]
    assert computed["collections"]["overdue_days"] == {2: 0, 3: 5, 4: 19}


def test_a_done_time_that_did_not_parse_leaves_the_row_unmeasured() -> None:
    tickets = ["ticket_id", "customer", "opened_at", "complexity", "resolved_at"]
    computed, issues = _flag(
        _sheet(
            "tickets",
            tickets,
            ["TK1", "Acme", t(2026, 3, 2, 10), "General", "soon-ish"],  # did not parse
            ["TK2", "Acme", t(2026, 3, 2, 10), "General", t(2026, 3, 3, 10, 30)],
            ["TK3", "Acme", t(2026, 3, 2, 10), None, date(2026, 3, 3)],  # by day: met
            ["TK4", "Acme", t(2026, 3, 2, 10), "Complex", None],  # no plan column
        ),
    )
    assert computed["tickets"]["response_sla"] == {3: "breached", 4: "met"}
    assert [(i.row, i.params["late"]) for i in issues] == [(3, "30 min")]


def test_empty_tables_own_their_columns_and_flag_nothing() -> None:
    computed, issues = _flag(
        _sheet("follow_ups", FOLLOW_UPS),
        _sheet("leads", [*LEADS, "first_contact_at"]),
        _sheet("collections", COLLECTIONS),
    )
    assert issues == []
    assert computed == {
        "follow_ups": {"next_step_status": {}},
        "leads": {
            "first_contact_due": {},
            "first_contact_sla": {},
            "last_follow_up_at": {},
            "follow_up_count": {},
            "next_step_due": {},
            "days_in_pipeline": {},
        },
        "collections": {"overdue_days": {}},
    }


def test_hour_dues_are_datetimes_to_the_minute_even_at_midnight() -> None:
    computed, _ = _flag(
        _sheet(
            "leads",
            [*LEADS, "first_contact_at"],
            ["L-1", "Web", "Acme", "Lead", None, date(2026, 3, 2), None],
            ["L-2", "Web", "Acme", "Lead", None, t(2026, 3, 2, 9, 30, 45), None],
        ),
    )
    assert _typed(computed["leads"]["first_contact_due"]) == {
        2: (datetime, t(2026, 3, 3)),
        3: (datetime, t(2026, 3, 3, 9, 30)),
    }


def test_ids_that_normalise_to_nothing_still_group_together() -> None:
    # The parser blanks such ids; a value put in by hand (fill_blanks) can still be one.
    sheets = [
        _sheet(
            "follow_ups",
            FOLLOW_UPS,
            [t(2026, 3, 2, 10), "X", "Phone", "Li", "", date(2026, 3, 3)],
            [t(2026, 3, 3, 10), "Y", "Phone", "Li", "", date(2026, 3, 5)],
            [t(2026, 3, 4, 10), "Z", "Phone", "Li", "", date(2026, 3, 5)],
        ),
        _sheet("leads", LEADS, ["W", "Web", "Acme", "Lost", None, None]),
    ]
    tables, _ = parse_tables(bind_workbook(sheets), ParseContext(lang=Lang.EN))
    tables["follow_ups"].values["lead_id"][:] = [" ", "\u3000", None]
    tables["leads"].values["lead_id"][:] = ["\t"]
    computed, _ = flag_sla(tables, DEFAULT_RULES, CN, NOW, Lang.EN)
    # 2 → 3 (met); 3 is the last on a closed lead, and so is 4, without a lead
    assert computed["follow_ups"]["next_step_status"] == {2: "met"}
    assert computed["leads"]["follow_up_count"] == {2: 2}
