"""The ⚙ flags column over several flagged tabs: tables in the order of their first flagged row,
rows in the order of their first issue, and no flag for the header, the tab or a blank row."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.core.headers import bind_workbook
from sync.core.issues import Issue, short_label
from sync.core.model import RawSheet
from sync.core.parse import ParseContext
from sync.core.schema import Lang, Severity
from sync.core.tables import TableData, parse_tables
from sync.core.validate import flag_rows
from tests.core.test_issues_columns import _issue

EN = Lang.EN


def _tables() -> dict[str, TableData]:
    """Leads on rows 2, 3 and 5 (row 4 is blank), Follow-ups on rows 2 and 3, Reps unflagged."""
    sheets = [
        RawSheet(
            "Leads", [["Lead ID", "Customer"], ["L1", "Acme"], ["L2", "Beta"], [], ["L3", "C"]]
        ),
        RawSheet("Follow-ups", [["Date", "Lead ID"], ["2026-03-02", "L1"], ["2026-03-03", "L2"]]),
        RawSheet("Reps", [["Name", "Team"], ["Li", "East"]]),
    ]
    found, _ = parse_tables(bind_workbook(sheets, lang=EN), ParseContext(lang=EN))
    return found


TABLES = _tables()


def test_tables_come_in_the_order_of_their_first_flagged_row() -> None:
    e, w = Severity.ERROR, Severity.WARNING
    issues = [
        _issue("leads", 1, "A", "missing-column", e),  # the header row: Leads not yet flagged
        _issue("leads", None, None, "missing-tab", e),  # the tab
        _issue("leads", 4, "A", "required", e),  # a blank row
        _issue("follow_ups", 3, "B", "sla-overdue", w),
        _issue("reps", 2, "A", "required", e),  # a tab without flags
        _issue("leads", 5, "B", "required", w),
        _issue("follow_ups", 2, "A", "required", w),
        _issue("leads", 5, "A", "duplicate-id", e),
        _issue("follow_ups", 3, "A", "sla-overdue", w),  # the same label again: once
    ]
    flags = flag_rows(issues, TABLES, EN)
    assert list(flags) == ["follow_ups", "leads"]
    assert flags == {
        "follow_ups": {"flags": {3: "R overdue", 2: "H missing"}},
        "leads": {"flags": {5: "duplicate id; H missing"}},
    }
    assert list(flags["follow_ups"]["flags"]) == [3, 2]


def test_issues_about_no_data_row_flag_nothing() -> None:
    e = Severity.ERROR
    issues = [_issue("leads", row, "A", "required", e) for row in (None, 1, 4, 4, 6)]
    assert flag_rows(issues, TABLES, EN) == {}
    assert flag_rows([_issue("leads", 3, "A", "required", Severity.INFO)], TABLES, EN) == {}


def _plain(issues: list[Issue], tables: dict[str, TableData], lang: Lang) -> dict[str, Any]:
    """What `flag_rows` gives, worked out one issue at a time."""
    by_row: dict[tuple[Any, Any], list[Issue]] = {}
    for i in issues:
        if tables[i.table].bound.table.has("flags") and i.severity is not Severity.INFO:
            by_row.setdefault((i.table, i.row), []).append(i)
    flags: dict[str, Any] = {}
    for (table, row), found in by_row.items():
        if row in tables[table].rows:
            found.sort(
                key=lambda i: (-i.severity.rank, len(i.column or ""), i.column or "", i.code)
            )
            labels = dict.fromkeys(short_label(i, lang) for i in found)
            sep = "; " if lang is Lang.EN else "；"
            flags.setdefault(table, {}).setdefault("flags", {})[row] = sep.join(labels)
    return flags


_flaggable = st.tuples(
    st.sampled_from(["leads", "follow_ups", "reps"]),
    st.one_of(st.none(), st.integers(1, 6)),
    st.sampled_from([None, "A", "B", "AA"]),
    st.sampled_from(["required", "duplicate-id", "sla-breached", "sla-overdue"]),
    st.sampled_from(list(Severity)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_flaggable, max_size=30), st.sampled_from(list(Lang)))
def test_flags_over_several_tabs_are_the_plain_way(
    found: list[tuple[Any, ...]], lang: Lang
) -> None:
    issues = [_issue(*f) for f in found]
    flags = flag_rows(issues, TABLES, lang)
    plain = _plain(issues, TABLES, lang)
    assert flags == plain
    assert list(flags) == list(plain)
    assert [list(t["flags"]) for t in flags.values()] == [list(t["flags"]) for t in plain.values()]
