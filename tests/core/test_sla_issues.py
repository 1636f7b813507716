"""The issues `flag_sla` makes in bulk: one row's estimated calendar before its lateness, the
texts of due, done and late worked out once per distinct value, and every issue the same as
`TableData.issues` makes from the same parameters (header and value shown included)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.core.calendar import BusinessCalendar
from sync.core.headers import bind_workbook
from sync.core.issues import Issue
from sync.core.model import RawSheet
from sync.core.parse import ParseContext
from sync.core.schema import SCHEMA, Lang
from sync.core.sla import DEFAULT_RULES, flag_sla
from sync.core.tables import TableData, parse_tables

CN = BusinessCalendar("CN")  # 2026 official, 2027 estimated
t = datetime
FOLLOW_UPS = ["date", "lead_id", "method", "rep", "next_step_date", "minutes_sent_at"]
Sheet = tuple[str, tuple[list[str], tuple[list[Any], ...]]]  # table, (fields, rows)


def _tables(*sheets: Sheet, lang: Lang = Lang.EN) -> dict[str, TableData]:
    on = [SCHEMA.table(table) for table, _ in sheets]
    raw = [
        RawSheet(table.title(lang), [[table.field(n).headers[lang] for n in fields], *rows])
        for table, (_, (fields, rows)) in zip(on, sheets, strict=True)
    ]
    tables, _ = parse_tables(bind_workbook(raw), ParseContext(lang=lang))
    return tables


def _minutes(*rows: list[Any]) -> Sheet:
    return "follow_ups", (FOLLOW_UPS, rows)


def _as_made_one_by_one(issue: Issue, data: TableData, lang: Lang) -> Issue:
    """The issue `TableData.issues` makes from the same code, row and parameters."""
    assert issue.row is not None and issue.field is not None
    params = {k: v for k, v in issue.params.items() if k not in ("header", "value")}
    i = data.rows.index(issue.row)
    (made,) = data.issues([issue.code], [i], issue.field, lang, [params], rule=issue.rule)
    return made


def _assert_as_made_one_by_one(issues: list[Issue], data: TableData, lang: Lang) -> None:
    for issue in issues:
        made = _as_made_one_by_one(issue, data, lang)
        assert issue == made
        assert list(issue.params.items()) == list(made.params.items())  # order too


def test_an_estimated_calendar_comes_before_the_lateness_of_the_same_row() -> None:
    tables = _tables(
        _minutes(
            [t(2026, 12, 30, 10), "L-1", "Visit", "Li", None, None],  # 2: due in 2027, overdue
            [t(2026, 3, 2, 10), "L-1", "Visit", "Li", None, t(2026, 3, 10, 10, 30)],  # 3: late
            [t(2027, 1, 20, 10), "L-1", "Visit", "Li", None, date(2027, 1, 21)],  # 4: met
            [t(2026, 3, 2, 10), "L-1", "Phone", "Li", None, None],  # 5: not a meeting
        )
    )
    _, issues = flag_sla(tables, DEFAULT_RULES, CN, t(2027, 2, 1, 12), Lang.EN)
    minutes = [i for i in issues if i.rule == "minutes"]
    assert [(i.code, i.row) for i in minutes] == [
        ("calendar-estimated", 2),
        ("sla-overdue", 2),
        ("sla-breached", 3),
        ("calendar-estimated", 4),
    ]
    overdue, breached = minutes[1].params, minutes[2].params
    assert (overdue["due"], overdue["done"], overdue["late"]) == ("2027-01-04", "", "28 d")
    assert overdue["estimated"] == " (2027 calendar estimated)"
    assert (breached["due"], breached["done"], breached["late"]) == (
        "2026-03-04",
        "2026-03-10 10:30",
        "6 d",
    )
    assert breached["estimated"] == ""
    assert minutes[3].params["year"] == 2027
    assert minutes[1].message == (
        "Meeting minutes overdue: due 2027-01-04, still not done at 2027-02-01 12:00, 28 d late."
        " (2027 calendar estimated)"
    )
    _assert_as_made_one_by_one(issues, tables["follow_ups"], Lang.EN)


def test_issues_show_the_cell_as_typed_and_blank_cells_as_nothing() -> None:
    tables = _tables(
        _minutes(
            [t(2026, 3, 2, 10), "L-1", "Visit", "Li", None, "2026/3/10"],  # text, as typed
            [t(2026, 3, 2, 10), "L-1", "Visit", "Li", None, "   "],  # blank: overdue
            [t(2026, 3, 2, 10), "L-1", "Visit", "Li", None, t(2026, 3, 10)],  # midnight
        ),
        lang=Lang.ZH_HANS,
    )
    _, issues = flag_sla(tables, DEFAULT_RULES, CN, t(2026, 3, 20, 12), Lang.ZH_HANS)
    minutes = [i for i in issues if i.rule == "minutes"]
    assert [(i.row, i.value, i.params["value"], i.params["done"]) for i in minutes] == [
        (2, "2026/3/10", "2026/3/10", "2026-03-10"),
        (3, None, "", ""),
        (4, "2026-03-10", "2026-03-10", "2026-03-10"),
    ]
    assert [i.params["late"] for i in minutes] == ["6 天", "16 天", "6 天"]
    _assert_as_made_one_by_one(issues, tables["follow_ups"], Lang.ZH_HANS)


def test_a_column_without_cells_as_typed_shows_no_value() -> None:
    # A value put in by hand (fill_blanks) has no raw cell behind it.
    tables = _tables(
        ("leads", (["lead_id", "customer", "assigned_at"], ([" L-1", "Acme", t(2026, 3, 2, 9)],)))
    )
    leads = tables["leads"]
    leads.values["first_contact_at"] = [t(2026, 3, 4, 9, 15)]
    _, issues = flag_sla(tables, DEFAULT_RULES, CN, t(2026, 3, 20, 12), Lang.EN)
    assert [(i.code, i.value, i.params["late"]) for i in issues] == [("sla-breached", None, "1 d")]
    _assert_as_made_one_by_one(issues, leads, Lang.EN)


def test_follow_ups_without_a_leads_tab_measure_every_next_step() -> None:
    tables = _tables(
        _minutes(
            [t(2026, 3, 2, 10), "L-1", "Phone", "Li", date(2026, 3, 3), None],
            [t(2026, 3, 5, 10), "L-1", "Phone", "Li", date(2026, 3, 6), None],
        )
    )
    computed, issues = flag_sla(tables, DEFAULT_RULES, CN, t(2026, 3, 20, 12), Lang.EN)
    assert computed["follow_ups"]["next_step_status"] == {2: "breached", 3: "overdue"}
    assert [(i.code, i.row, i.params["done"]) for i in issues] == [
        ("sla-breached", 2, "2026-03-05 10:00"),
        ("sla-overdue", 3, ""),
    ]
    _assert_as_made_one_by_one(issues, tables["follow_ups"], Lang.EN)


@pytest.mark.parametrize("lang", list(Lang))
def test_every_message_reads_as_made_one_by_one_in_every_language(lang: Lang) -> None:
    tables = _tables(
        _minutes(
            [t(2026, 12, 30, 10), "L-1", "visit", "Li", None, None],
            [t(2026, 3, 2, 10), "L-1", "visit", "Li", None, t(2026, 3, 10, 10, 30)],
            [t(2027, 1, 20, 10), "L-1", "visit", "Li", None, date(2027, 1, 21)],
        ),
        lang=lang,
    )
    _, issues = flag_sla(tables, DEFAULT_RULES, CN, t(2027, 2, 1, 12), lang)
    assert {i.code for i in issues} == {"calendar-estimated", "sla-overdue", "sla-breached"}
    _assert_as_made_one_by_one(issues, tables["follow_ups"], lang)


_moment = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 3, 1))
_when = st.one_of(st.none(), _moment, _moment.map(datetime.date))
_row = st.tuples(_when, st.sampled_from(["L-1", "L-2", None]), st.sampled_from(["Visit", "Phone"]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(_row, _when, _when), max_size=8), _moment)
def test_bulk_issues_are_the_issues_made_one_by_one(
    rows: list[tuple[tuple[Any, Any, Any], Any, Any]], as_of: datetime
) -> None:
    tables = _tables(
        _minutes(
            *(
                [day, lead, method, "Li", promised, sent]
                for (day, lead, method), promised, sent in rows
            )
        )
    )
    _, issues = flag_sla(tables, DEFAULT_RULES, CN, as_of, Lang.EN)
    _assert_as_made_one_by_one(issues, tables["follow_ups"], Lang.EN)
