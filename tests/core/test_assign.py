"""Assignment rules: parsing, each method, inactive reps, no guessing, determinism."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pytest

from sync.core.assign import (
    AssignmentRule,
    Method,
    Proposal,
    Roster,
    RuleRow,
    parse_assignment_rules,
    propose_owners,
    split_list,
)
from sync.core.customers import Finding, group_duplicates
from sync.core.headers import bind_workbook
from sync.core.model import RawSheet
from sync.core.parse import ParseContext
from sync.core.schema import Lang
from sync.core.tables import TableData, parse_tables
from tests.workbooks import EN_LEAD_HEADERS as LEAD_HEADERS

REPS = [
    ["Name", "Team", "Active"],
    ["Zhao Lei", "East", "Y"],
    ["Li Lei", "East", ""],
    ["Han Mei", "East", "Y"],
    ["Wang Wu", "East", "N"],  # inactive: never proposed
    ["Sun Li", "South", "Y"],
    ["Qian Qi", "South", "否"],
]


def tables_of(
    *leads: dict[str, Any], reps: Sequence[Sequence[Any]] = REPS, expect: Sequence[str] = ()
) -> dict:
    rows: list[list[Any]] = [LEAD_HEADERS]
    for n, lead in enumerate(leads, start=1):
        values = {
            "Lead ID": f"L{n}",
            "Source": "Website",
            "Customer": f"Customer {n}",
            "Created at": datetime(2026, 6, 1, 9, n),
            "Stage": "lead",
            **lead,
        }
        rows.append([values.get(h) for h in LEAD_HEADERS])
    sheets = [RawSheet("Leads", rows), RawSheet("Reps", [list(r) for r in reps])]
    tables, found = parse_tables(bind_workbook(sheets, lang=Lang.EN), ParseContext(lang=Lang.EN))
    assert [i.code for i in found] == list(expect)
    return tables


def roster_of(tables: dict[str, TableData]) -> Roster:
    return Roster.from_table(tables["reps"])


def rules_of(roster: Roster, *rows: dict[str, Any]) -> list[AssignmentRule]:
    rules, found = parse_assignment_rules(
        [RuleRow(row, cells) for row, cells in enumerate(rows, start=20)], roster
    )
    assert found == []
    return rules


def propose(
    tables: dict[str, TableData], *rules: dict[str, Any], **kw: Any
) -> tuple[dict[int, Proposal], list[Finding]]:
    roster = roster_of(tables)
    return propose_owners(tables["leads"], roster, rules_of(roster, *rules), **kw)


def reps_of(proposals: dict[int, Proposal]) -> dict[int, str]:
    return {row: p.rep for row, p in proposals.items()}


# --- parsing rules --------------------------------------------------------------------------

ROSTER = Roster.of(
    [("Li Lei", "华东", True), ("Han Mei", "华东", None), ("Wang Wu", "华南", False)]
)


@pytest.mark.parametrize(
    ("cell", "method"),
    [
        ("固定", Method.FIXED),
        ("Fixed", Method.FIXED),
        ("轮流", Method.ROUND_ROBIN),
        ("輪流", Method.ROUND_ROBIN),
        ("轮询", Method.ROUND_ROBIN),
        ("Round robin", Method.ROUND_ROBIN),
        ("round_robin", Method.ROUND_ROBIN),
        ("ＲＯＵＮＤ－ＲＯＢＩＮ", Method.ROUND_ROBIN),
        ("最少", Method.FEWEST_OPEN),
        ("最少线索", Method.FEWEST_OPEN),
        ("Fewest open", Method.FEWEST_OPEN),
        ("fewest_open", Method.FEWEST_OPEN),
    ],
)
def test_methods_are_read_in_every_language(cell: str, method: Method) -> None:
    [rule] = rules_of(ROSTER, {"target": "华东", "method": cell})
    assert rule.method is method


@pytest.mark.parametrize(
    ("target", "method"),
    [
        ("Li Lei", Method.FIXED),
        ("华东", Method.ROUND_ROBIN),
        ("Li Lei、Han Mei", Method.ROUND_ROBIN),
    ],
)
def test_a_blank_method_is_fixed_for_one_rep_and_round_robin_for_several(
    target: str, method: Method
) -> None:
    [rule] = rules_of(ROSTER, {"target": target})
    assert rule.method is method


def test_targets_are_reps_teams_or_lists_of_both() -> None:
    [rule] = rules_of(ROSTER, {"target": "華南, li lei；华东", "method": "轮流"})
    assert rule.reps == ("Wang Wu", "Li Lei", "Han Mei")  # listed order, each once


def test_matchers_are_folded_lists_and_any_means_blank() -> None:
    [rule] = rules_of(
        ROSTER,
        {
            "region": "華東、华南 / 北京",
            "industry": "全部",
            "product_line": "ＣＲＭ;erp",
            "source": "展会, 官網註冊",
            "target": "Li Lei",
        },
    )
    assert rule.region == {"华东", "华南", "北京"}
    assert rule.industry == frozenset()
    assert rule.product_line == {"crm", "erp"}
    assert rule.source == {"trade_show", "website"}


def test_bad_rules_are_findings_and_left_out() -> None:
    rows = [
        RuleRow(30, {"region": "华东", "target": ""}),
        RuleRow(31, {"target": "Nobody、Li Lei"}),
        RuleRow(32, {"target": "Li Lei", "method": "抽签"}),
        RuleRow(33, {"target": "Li Lei", "source": "传单"}),
        RuleRow(34, {"target": "Han Mei", "method": "固定"}),
    ]
    rules, found = parse_assignment_rules(rows, ROSTER)
    assert [(r.row, r.reps) for r in rules] == [(33, ("Li Lei",)), (34, ("Han Mei",))]
    assert [(f.code, f.table, f.row, f.field, f.value) for f in found] == [
        ("assign-rule-no-target", "assignment_rules", 30, "target", None),
        ("assign-rule-unknown-target", "assignment_rules", 31, "target", "Nobody"),
        ("assign-rule-unknown-method", "assignment_rules", 32, "method", "抽签"),
        ("assign-rule-unknown-source", "assignment_rules", 33, "source", "传单"),
    ]
    assert rules[0].source == {"传单"}  # still matches leads whose source reads so


def test_split_list() -> None:
    assert split_list(" 华东、 华南 ;; 北京/") == ["华东", "华南", "北京"]
    assert split_list(None) == split_list("  ") == []


# --- proposals ------------------------------------------------------------------------------


def test_only_leads_without_owner_get_a_proposal() -> None:
    tables = tables_of({"Owner": "Han Mei"}, {}, {"Owner": "  "})
    proposals, found = propose(tables, {"target": "Li Lei"})
    assert proposals == {
        3: Proposal("Li Lei", 20, Method.FIXED),
        4: Proposal("Li Lei", 20, Method.FIXED),
    }
    assert found == []


def test_the_first_matching_rule_wins() -> None:
    tables = tables_of(
        {"Region": "华东", "Industry": "制造"},
        {"Region": "華東", "Industry": "金融"},
        {"Region": "华南", "Industry": "制造"},
        {"Source": "展会-行业展", "Region": "华南"},
    )
    proposals, found = propose(
        tables,
        {"source": "行业展会", "target": "Zhao Lei"},
        {"region": "华东", "industry": "制造", "target": "Li Lei"},
        {"region": "华东", "target": "Han Mei"},
        {"target": "South", "method": "固定"},
    )
    assert reps_of(proposals) == {2: "Li Lei", 3: "Han Mei", 4: "Sun Li", 5: "Zhao Lei"}
    assert [p.rule_row for p in proposals.values()] == [21, 22, 23, 20]
    assert found == []


def test_no_matching_rule_is_a_finding_never_a_guess() -> None:
    tables = tables_of({"Region": "华北", "Industry": "金融", "Product line": "CRM"})
    proposals, found = propose(tables, {"region": "华东", "target": "Li Lei"})
    assert proposals == {}
    assert [(f.code, f.table, f.row, f.field) for f in found] == [
        ("assign-no-rule", "leads", 2, "owner")
    ]
    assert found[0].params == {
        "region": "华北",
        "industry": "金融",
        "product_line": "CRM",
        "source": "Website",
    }


def test_without_rules_nothing_is_proposed_or_reported() -> None:
    tables = tables_of({}, {})
    assert propose(tables) == ({}, [])


def test_fixed_on_a_team_is_its_first_active_rep_in_reps_order() -> None:
    tables = tables_of({}, {}, reps=[REPS[0], ["Wang Wu", "East", "N"], *REPS[1:4]])
    proposals, _ = propose(tables, {"target": "East", "method": "固定"})
    assert set(reps_of(proposals).values()) == {"Zhao Lei"}


def test_an_inactive_fixed_rep_gets_nothing_and_says_why() -> None:
    tables = tables_of({})
    proposals, found = propose(tables, {"target": "Wang Wu", "method": "固定"})
    assert proposals == {}
    assert [(f.code, f.row, f.params) for f in found] == [
        ("assign-no-active-rep", 2, {"rule_row": 20, "target": "Wang Wu"})
    ]


def test_round_robin_rotates_through_active_reps_by_name() -> None:
    tables = tables_of(*({} for _ in range(7)))
    proposals, found = propose(tables, {"target": "East", "method": "轮流"})
    # Active East reps by name: Han Mei, Li Lei (blank Active), Zhao Lei; Wang Wu is inactive.
    assert list(reps_of(proposals).values()) == [
        "Han Mei",
        "Li Lei",
        "Zhao Lei",
        "Han Mei",
        "Li Lei",
        "Zhao Lei",
        "Han Mei",
    ]
    assert found == []


def test_round_robin_follows_creation_order_not_row_order() -> None:
    tables = tables_of(
        {"Created at": datetime(2026, 6, 3)},
        {"Created at": datetime(2026, 6, 1)},
        {"Created at": datetime(2026, 6, 2)},
        {"Created at": None},
    )
    proposals, _ = propose(tables, {"target": "East", "method": "轮流"})
    assert reps_of(proposals) == {3: "Han Mei", 4: "Li Lei", 2: "Zhao Lei", 5: "Han Mei"}


def test_round_robin_starts_after_the_rep_of_the_last_lead_the_rule_assigned() -> None:
    tables = tables_of(
        {"Owner": "Li Lei", "Assigned at": datetime(2026, 6, 1, 10)},
        {"Owner": "Han Mei", "Assigned at": datetime(2026, 5, 1)},
        {"Owner": "Zhao Lei", "Region": "华南", "Assigned at": datetime(2026, 6, 2)},  # rule 20
        {},
        {},
    )
    proposals, _ = propose(
        tables,
        {"region": "华南", "target": "Zhao Lei"},
        {"target": "East", "method": "轮流"},
    )
    assert reps_of(proposals) == {5: "Zhao Lei", 6: "Han Mei"}


def test_round_robin_carries_on_after_the_proposals_are_applied() -> None:
    """A run with --assign, then new leads: the rotation continues, never restarts."""
    first = tables_of({}, {})
    done, _ = propose(first, {"target": "East", "method": "轮流"})
    assigned = [
        {"Owner": done[row].rep, "Assigned at": datetime(2026, 6, 2, 8)} for row in sorted(done)
    ]
    second = tables_of(*assigned, {}, {})
    proposals, _ = propose(second, {"target": "East", "method": "轮流"})
    assert list(reps_of(done).values()) == ["Han Mei", "Li Lei"]
    assert reps_of(proposals) == {4: "Zhao Lei", 5: "Han Mei"}


def test_fewest_open_counts_open_leads_and_this_runs_proposals() -> None:
    tables = tables_of(
        {"Owner": "Han Mei"},
        {"Owner": "Han Mei"},
        {"Owner": "Li Lei"},
        {"Owner": "Li Lei", "Stage": "Won"},  # closed: not counted
        {"Owner": "Zhao Lei", "Stage": "输单"},
        {"Owner": "Wang Wu"},  # inactive
        {},
        {},
        {},
        {},
    )
    proposals, found = propose(tables, {"target": "East", "method": "最少"})
    # Open: Han Mei 2, Li Lei 1, Zhao Lei 0 → Zhao, then Li/Zhao tie at 1 → Li (by name) …
    assert reps_of(proposals) == {8: "Zhao Lei", 9: "Li Lei", 10: "Zhao Lei", 11: "Han Mei"}
    assert found == []


def test_the_same_workbook_gives_the_same_proposals() -> None:
    leads = [
        {"Region": region, "Created at": datetime(2026, 6, 1 + n % 5, n % 24)}
        for n, region in enumerate(["华东", "华南", "华东", "", "华东", "华南"] * 4)
    ]
    rules = (
        {"region": "华南", "target": "South", "method": "最少"},
        {"target": "East", "method": "轮流"},
    )
    first = propose(tables_of(*leads), *rules)
    second = propose(tables_of(*leads), *rules)
    assert first == second
    assert len(first[0]) == len(leads)


def test_leads_of_a_customer_someone_owns_go_to_that_owner() -> None:
    tables = tables_of(
        {"Customer": "深圳市甲科技有限公司", "Owner": "Sun Li"},
        {"Customer": "深圳市甲科技有限責任公司"},
        {"Customer": "乙贸易", "Phone or e-mail": "13812345678"},
        {"Customer": "乙贸易有限公司"},
        {"Customer": "丙实业", "Owner": "Qian Qi"},  # owner inactive: the rules decide
        {"Customer": "丙实业"},
    )
    groups = group_duplicates(tables["leads"])
    proposals, found = propose(tables, {"target": "East", "method": "轮流"}, duplicates=groups)
    assert proposals == {
        3: Proposal("Sun Li", None, Method.SAME_CUSTOMER),
        4: Proposal("Han Mei", 20, Method.ROUND_ROBIN),
        5: Proposal("Han Mei", None, Method.SAME_CUSTOMER),  # the new customer stays together
        7: Proposal("Li Lei", 20, Method.ROUND_ROBIN),
    }
    assert found == []


def test_a_customer_chased_by_two_reps_goes_through_the_rules() -> None:
    tables = tables_of(
        {"Customer": "Acme Inc.", "Owner": "Sun Li"},
        {"Customer": "ACME", "Owner": "Li Lei"},
        {"Customer": "acme corp"},
    )
    groups = group_duplicates(tables["leads"])
    proposals, _ = propose(tables, {"target": "Zhao Lei"}, duplicates=groups)
    assert proposals == {4: Proposal("Zhao Lei", 20, Method.FIXED)}


def test_round_robin_history_counts_only_the_rules_own_reps() -> None:
    tables = tables_of(
        {"Owner": "Wang Wu", "Assigned at": datetime(2026, 6, 1)},  # in the team, left since
        {"Owner": "Sun Li", "Assigned at": datetime(2026, 6, 2)},  # another team: ignored
        {},
    )
    proposals, _ = propose(tables, {"target": "East", "method": "轮流"})
    assert reps_of(proposals) == {4: "Zhao Lei"}  # next after Wang Wu by name


def test_a_rule_on_an_unknown_source_matches_leads_whose_source_reads_so() -> None:
    tables = tables_of({"Source": "传单"}, {"Source": "Website"}, expect=["invalid-choice"])
    roster = roster_of(tables)
    rules, found = parse_assignment_rules(
        [RuleRow(20, {"source": "傳單", "target": "Sun Li"}), RuleRow(21, {"target": "Li Lei"})],
        roster,
    )
    proposals, _ = propose_owners(tables["leads"], roster, rules)
    assert [f.code for f in found] == ["assign-rule-unknown-source"]
    assert reps_of(proposals) == {2: "Sun Li", 3: "Li Lei"}
