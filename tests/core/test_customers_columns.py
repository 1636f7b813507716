"""Column-wise customer keys: each distinct cell worked out once, names converted together,
and the edge cases of whole columns (blank cells, missing columns, ties, empty tables)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.core import customers as customers_module
from sync.core.assign import Roster, RuleRow, parse_assignment_rules, propose_owners
from sync.core.columns import each_distinct
from sync.core.customers import (
    Finding,
    company_key,
    company_keys,
    finding_issue,
    finding_issues,
    group_duplicates,
    link_existing_customers,
)
from sync.core.headers import bind_workbook
from sync.core.model import RawSheet
from sync.core.parse import ParseContext
from sync.core.schema import Lang
from sync.core.tables import TableData, parse_tables
from sync.core.text import fold, fold_all
from tests.core.test_customers import lead_rows, leads_of

# --- each_distinct --------------------------------------------------------------------------


def test_each_distinct_works_out_each_distinct_cell_once_in_first_seen_order() -> None:
    calls: list[list[Any]] = []

    def work(cells: list[Any]) -> list[str]:
        calls.append(cells)
        return [f"<{c}>" for c in cells]

    assert each_distinct(["b", None, "a", "b", None], work) == [
        "<b>",
        "<None>",
        "<a>",
        "<b>",
        "<None>",
    ]
    assert calls == [["b", None, "a"]]


def test_each_distinct_tells_true_from_one_and_false_from_zero() -> None:
    cells = [1, True, 1.0, 0, False, "1"]
    assert each_distinct(cells, lambda found: [repr(c) for c in found]) == [repr(c) for c in cells]
    assert company_keys(cells) == ["1", "true", "1", "0", "false", "1"]


def test_each_distinct_keeps_every_nan_cell() -> None:
    nan, other_nan = float("nan"), float("nan")
    assert each_distinct([nan, 1.5, other_nan, nan], lambda found: [str(c) for c in found]) == [
        "nan",
        "1.5",
        "nan",
        "nan",
    ]


def test_each_distinct_of_nothing_is_nothing() -> None:
    assert each_distinct([], lambda found: [1 for _ in found]) == []
    assert company_keys([]) == []


# --- findings located once per field -----------------------------------------------------


def test_findings_become_the_issues_each_would_become_on_its_own() -> None:
    tables = leads_of({"Customer": "甲", "Owner": "Li Lei"}, {"Customer": "甲"})
    findings = [
        Finding("duplicate-customer", "leads", 2, "customer", value="Li Lei", params={"rows": 1}),
        Finding("lead-assigned", "leads", 3, "owner", params={"rep": "Li Lei", "reason": "x"}),
        Finding("duplicate-customer", "leads", 3, "customer", params={"rows": 2}),
        Finding("referrer-unknown", "leads", 3, "no_such_field", params={"value": "v"}),
        Finding("assign-rule-no-target", "assignment_rules", 2, None, params={"row": 2}),
    ]
    issues = finding_issues(findings, tables, Lang.EN)
    assert issues == [finding_issue(f, tables, Lang.EN) for f in findings]
    customer, owner = tables["leads"].letter("customer"), tables["leads"].letter("owner")
    assert customer and owner and customer != owner
    assert [(i.tab, i.row, i.column) for i in issues] == [
        ("Leads", 2, customer),
        ("Leads", 3, owner),
        ("Leads", 3, customer),
        ("Leads", 3, None),
        ("assignment_rules", 2, None),
    ]


# --- names converted together ---------------------------------------------------------------

# Line breaks (the joiner), combining marks and Hangul jamo at the edges, traditional phrases
# (乾隆 stays, 乾 alone becomes 干) and full-width forms: what a joined conversion could spoil.
_TRICKY = "乾隆頭髮臺灣\n\r \u0301\u0308\u1100\u1161\u11a8eÅﬁßİＡ１（）有限公司"
tricky_texts = st.lists(st.text(alphabet=_TRICKY, max_size=8), max_size=8)


@given(tricky_texts)
def test_names_normalised_together_are_normalised_each_on_its_own(texts: list[str]) -> None:
    together = customers_module._normalise_all(texts)
    assert together == [customers_module._normalise(text) for text in texts]


@given(tricky_texts)
def test_a_column_of_tricky_names_has_the_key_of_each_name(texts: list[str]) -> None:
    assert company_keys(texts) == [company_key(text) for text in texts]


@given(st.text(max_size=30))
def test_reducing_a_reduced_name_changes_nothing(text: str) -> None:
    # company keys settle by normalising the keys again: only a key normalising changes can move
    once = customers_module._reduce(customers_module._normalise(text))
    assert customers_module._reduce(once) == once


@given(st.characters())
def test_letters_and_digits_never_separate_words(ch: str) -> None:
    # why a name that is all letters and digits can skip brackets and separators
    if ch.isalnum():
        assert not customers_module._is_separator(ch)


def test_a_name_holding_a_line_break_is_keyed_like_any_other() -> None:
    names = ["深圳市甲科技\n有限公司", "乙貿易有限公司", "深圳市甲科技有限公司"]
    assert company_keys(names) == ["深圳市甲科技", "乙贸易", "深圳市甲科技"]


# The joiner of `fold_all` itself, marks, hints in brackets, spaces of every kind, traditional
# phrases and forms that compose: what folding joined texts could spoil.
_FOLDABLE = _TRICKY + "\ue000⚙*★()（）(必填)\u3000\t\xa0e\u0301"


@given(st.lists(st.text(alphabet=_FOLDABLE, max_size=10), max_size=8))
def test_texts_folded_together_are_folded_each_on_its_own(texts: list[str]) -> None:
    assert fold_all(texts) == [fold(text) for text in texts]


def test_folding_together_strips_every_trailing_hint_but_never_to_nothing() -> None:
    texts = ["负责人(销售)(必填)", "(必填)", "a(b)c", "客戶 名稱 ⚙", ""]
    assert fold_all(texts) == ["负责人", "(必填)", "a(b)c", "客户名称", ""]
    assert fold_all([]) == []


contact_cells = st.lists(
    st.one_of(
        st.none(), st.integers(), st.text(alphabet="0123456789０１２-+ \n/;@a.x转", max_size=20)
    ),
    max_size=8,
)


@given(contact_cells)
def test_a_column_of_contacts_reads_each_cell_on_its_own(cells: list[Any]) -> None:
    together = customers_module._cell_contact_keys(cells)
    assert together == [tuple(sorted(customers_module.contact_keys(cell))) for cell in cells]


# --- duplicate groups over columns ----------------------------------------------------------


def test_a_company_named_like_a_phone_number_is_not_that_phone() -> None:
    tables = leads_of(
        {"Customer": "13812345678"},
        {"Customer": "甲公司", "Phone or e-mail": "13812345678"},
    )
    assert group_duplicates(tables["leads"]) == []


def test_keys_shared_as_company_and_as_phone_are_both_named_in_order() -> None:
    tables = leads_of(
        {"Customer": "13812345678", "Phone or e-mail": "13812345678", "Owner": "Li Lei"},
        {"Customer": "13812345678", "Phone or e-mail": "a@x.com; 13812345678"},
        {"Customer": "乙", "Phone or e-mail": "A@x.com", "Owner": "Han Mei"},
    )
    [group] = group_duplicates(tables["leads"])
    assert group.rows == (2, 3, 4)
    assert group.matched_on == ("13812345678", "13812345678", "a@x.com")
    assert group.owners == ("Li Lei", "Han Mei")


def test_leads_join_through_any_chain_of_shared_keys_and_groups_keep_row_order() -> None:
    # rows 3 and 5 share a company and a phone, 5 and 7 an e-mail, 7 and 4 a company: one
    # group, named after rows 2 and 6 (its own first row comes later)
    tables = leads_of(
        {"Customer": "甲", "Phone or e-mail": "13800000001"},
        {"Customer": "乙", "Phone or e-mail": "13900000009"},
        {"Customer": "丙", "Phone or e-mail": "c@x.com"},
        {"Customer": "乙", "Phone or e-mail": "13900000009 / d@x.com"},
        {"Customer": "丁", "Phone or e-mail": "13800000001"},
        {"Customer": "丙", "Phone or e-mail": "d@x.com"},
    )
    groups = group_duplicates(tables["leads"])
    assert [group.rows for group in groups] == [(2, 6), (3, 4, 5, 7)]
    assert groups[1].matched_on == ("13900000009", "d@x.com", "丙", "乙")


def test_a_long_chain_of_leads_is_one_group() -> None:
    # lead n shares a phone with lead n + 1 only: the smallest lead reaches the far end
    chain = [{"Phone or e-mail": f"1380000{n:04d} / 1380000{n + 1:04d}"} for n in range(40)]
    [group] = group_duplicates(leads_of(*reversed(chain))["leads"])
    assert group.rows == tuple(range(2, 42))


def test_blank_names_and_contacts_group_nothing() -> None:
    tables = leads_of(
        {}, {}, {"Customer": "  "}, {"Phone or e-mail": "110"}, {"Phone or e-mail": "110"}
    )
    assert group_duplicates(tables["leads"]) == []


# --- existing customers over columns --------------------------------------------------------

CONTRACTS = [
    ["Contract ID", "Lead ID", "Customer", "Owner", "Signed on", "Amount"],
    ["C1", "L9", "甲科技有限公司", "Li Lei", date(2026, 3, 1), 100],
    ["C2", "L8", "甲科技（深圳）有限公司", "Li Lei", date(2026, 3, 1), 100],  # same day: later row
    ["C3", "L7", "乙贸易", "Li Lei", None, 100],  # not signed: not a customer yet
    ["C4", "L6", "", "Li Lei", date(2026, 1, 1), 100],  # no customer: matches no one
    ["C5", "L1", "丙实业", "Li Lei", date(2026, 1, 1), 100],
]


def test_of_contracts_signed_the_same_day_the_first_row_names_the_customer() -> None:
    tables = leads_of(
        {"Customer": "甲科技", "Created at": datetime(2026, 4, 1, 9)},
        {"Customer": "乙贸易", "Created at": datetime(2026, 4, 1, 9)},
        {"Customer": "丙实业", "Created at": datetime(2026, 4, 1, 9)},  # L3: C5 is L1's
        {"Customer": "丙实业", "Created at": date(2026, 1, 1)},  # signed the same day: not before
        Contracts=CONTRACTS,
    )
    links = link_existing_customers(tables["leads"], tables["contracts"])
    assert {row: (link.existing, link.first_signed) for row, link in links.items()} == {
        2: ("甲科技有限公司", date(2026, 3, 1)),
        4: ("丙实业", date(2026, 1, 1)),
    }
    assert isinstance(links[2].first_signed, date) and not isinstance(
        links[2].first_signed, datetime
    )


def test_a_contract_whose_own_lead_it_is_does_not_make_that_lead_existing() -> None:
    tables = leads_of({"Customer": "丙实业"}, Contracts=CONTRACTS)  # L1, the lead of C5
    assert link_existing_customers(tables["leads"], tables["contracts"]) == {}


def test_an_unreadable_signing_date_is_no_signing_date() -> None:
    contracts = [CONTRACTS[0], ["C1", "L9", "甲科技", "Li Lei", "not a date", 100]]
    sheets = [
        RawSheet("Leads", lead_rows({"Customer": "甲科技"})),
        RawSheet("Contracts", contracts),
    ]
    tables: dict[str, TableData]
    tables, found = parse_tables(bind_workbook(sheets, lang=Lang.EN), ParseContext(lang=Lang.EN))
    assert [(i.code, i.row) for i in found] == [("invalid-date", 2)]
    assert link_existing_customers(tables["leads"], tables["contracts"]) == {}


# --- proposals over columns -----------------------------------------------------------------

REPS = [["Name", "Team", "Active"], ["Li Lei", "East", "Y"], ["Han Mei", "East", "Y"]]


@pytest.mark.parametrize(
    ("created", "order"),
    [
        # the same creation time: by row; no creation time: last, by row
        ([datetime(2026, 6, 1, 9), datetime(2026, 6, 1, 9), None, None], [2, 3, 4, 5]),
        # a date is its midnight, before 09:00 that day
        ([None, datetime(2026, 6, 2, 9), None, date(2026, 6, 2)], [5, 3, 2, 4]),
    ],
)
def test_unassigned_leads_are_proposed_in_creation_order_then_row(
    created: list[Any], order: list[int]
) -> None:
    tables = leads_of(*({"Created at": c} for c in created), Reps=REPS)
    roster = Roster.from_table(tables["reps"])
    rules, _ = parse_assignment_rules([RuleRow(9, {"target": "East"})], roster)
    proposals, found = propose_owners(tables["leads"], roster, rules)
    assert found == []
    # round robin by name from the start: Han Mei, Li Lei, Han Mei, … in the order taken
    expected = dict(zip(order, ["Han Mei", "Li Lei", "Han Mei", "Li Lei"], strict=True))
    assert {row: p.rep for row, p in proposals.items()} == expected
    assert list(proposals) == order


def test_round_robin_history_prefers_a_dated_assignment_to_an_undated_one() -> None:
    tables = leads_of(
        {"Owner": "li lei", "Created at": datetime(2026, 6, 9)},  # no assignment time
        {"Owner": "Han Mei", "Assigned at": datetime(2026, 6, 1), "Created at": date(2026, 6, 1)},
        {},
        Reps=REPS,
    )
    roster = Roster.from_table(tables["reps"])
    rules, _ = parse_assignment_rules([RuleRow(9, {"target": "East"})], roster)
    proposals, _ = propose_owners(tables["leads"], roster, rules)
    assert {row: p.rep for row, p in proposals.items()} == {4: "Li Lei"}  # after Han Mei


def test_fewest_open_counts_owners_however_they_are_written() -> None:
    tables = leads_of(
        {"Owner": "LI LEI"},
        {"Owner": "li lei"},
        {"Owner": "Han Mei", "Stage": "Won"},
        {"Owner": "Han Mei"},
        {"Owner": "Nobody"},
        {},
        Reps=REPS,
    )
    roster = Roster.from_table(tables["reps"])
    rules, _ = parse_assignment_rules([RuleRow(9, {"target": "East", "method": "最少"})], roster)
    proposals, _ = propose_owners(tables["leads"], roster, rules)
    assert {row: p.rep for row, p in proposals.items()} == {7: "Han Mei"}
