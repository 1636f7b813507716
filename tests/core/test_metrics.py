"""Metrics on small workbooks whose every figure is worked out by hand in the test.

Inputs go through the real pipeline (RawSheet → bind_workbook → parse_tables), so header
matching, 万 amounts and periods are read the way a sync reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.core.headers import bind_workbook
from sync.core.metrics import (
    DEFAULT_SCORING,
    EVALUATION,
    METRIC_CODES,
    OUTPUT_TABLES,
    PERFORMANCE,
    ScoringCells,
    amount_unit_problems,
    as_weight,
    collection_rate,
    completion_rate,
    compute_metrics,
    funnel,
    localize,
    metric_issue,
    monthly_performance,
    parse_scoring_rows,
    parse_scoring_rule,
    quarterly_evaluation,
    reconcile_collections,
    score,
    weighted_score,
    weights_problem,
)
from sync.core.model import RawSheet
from sync.core.parse import ParseContext, Period
from sync.core.schema import LANGS, Lang
from sync.core.settings import Settings
from sync.core.tables import TableData, parse_tables

AS_OF = date(2026, 7, 31)
JUL = Period(2026, 7)
JUN = Period(2026, 6)
Q3 = Period(2026, quarter=3)

REPS = [["Name", "Team"], ["Wang Fang", "East"], ["Li Lei", "East"], ["Zhao Min", "West"]]
TARGETS = ["Rep", "Period", "Sales target"]
CONTRACTS = ["Contract ID", "Lead ID", "Customer", "Owner", "Signed on", "Amount"]
COLLECTIONS = [
    "Invoice no.",
    "Contract ID",
    "Invoiced on",
    "Invoice amount",
    "Due date",
    "Received amount",
]
LEADS = [
    "Lead ID",
    "Source",
    "Customer",
    "Owner",
    "Created at",
    "Stage",
    "Expected amount",
    "Probability",
    "Expected close",
    "Proposal due",
    "Proposal submitted at",
]
FOLLOW_UPS = ["Date", "Lead ID", "Method", "Rep"]


def read(
    sheets: dict[str, Sequence[Sequence[Any]]], *, unit: str = "yuan", as_of: date = AS_OF
) -> dict[str, TableData]:
    raw = [RawSheet(name, [list(r) for r in rows]) for name, rows in sheets.items()]
    ctx = ParseContext(lang=Lang.EN, amount_unit=unit, as_of=as_of)
    tables, issues = parse_tables(bind_workbook(raw, lang=Lang.EN), ctx)
    assert [i for i in issues if i.code != "year-inferred"] == []
    return tables


def contract(cid: str, customer: str, owner: str, signed: str, amount: object, lead: str = ""):
    return [cid, lead or None, customer, owner, signed, amount]


def invoice(no: str, cid: str, amount: object, due: str, received: object = None, at: str = ""):
    return [no, cid, at or due, amount, due, received]


def row_of(frame, **match: object) -> dict[str, Any]:
    found = [r for r in frame.to_dict("records") if all(r[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, found)
    return found[0]


def codes(problems) -> list[tuple]:
    return [(p.code, p.table, p.row) for p in problems]


# --- the pure helpers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "target", "rule", "expected"),
    [
        (168, 150, "linear", 100.0),  # capped
        (120, 150, "linear", 80.0),
        (0, 150, "linear", 0.0),
        (10, 0, "linear", None),  # a zero target has no score
        (None, 150, "linear", None),
        (0.9, 1.0, "≥100%:100;≥80%:80;<80%:50", 80.0),
        (1.2, 1.0, "<80%:50; ≥80%:80; ≥100%:100", 100.0),  # order of the bands does not matter
        (0.5, 1.0, "≥100%:100;≥80%:80;<80%:50", 50.0),
        (0.5, 1.0, "≥100%:100；≥80%:80", 0.0),  # no band matches
        (0.27, 0.30, "≥100%:100;≥80%:80;<80%:50", 80.0),  # bands on actual/target = 90%
        (0.9, 1.0, "whatever", None),
    ],
)
def test_score(actual, target, rule, expected) -> None:
    result = score(actual, target, rule)
    assert result == (pytest.approx(expected) if expected is not None else None)


@given(
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
    st.floats(min_value=1e-6, max_value=1e9),
)
def test_linear_scores_are_bounded(actual: float, target: float) -> None:
    assert 0.0 <= score(actual, target) <= 100.0  # type: ignore[operator]


@pytest.mark.parametrize("text", ["15%", "15", 15, 0.15, "0.15", "15分", " 15 % "])
def test_weights_are_read_as_percent_fraction_or_points(text: object) -> None:
    assert as_weight(text) == pytest.approx(0.15)


def test_rates_are_blank_without_a_denominator() -> None:
    assert completion_rate(168, 150) == pytest.approx(1.12)
    assert completion_rate(168, 0) is None and completion_rate(168, None) is None
    assert collection_rate(85, 100) == pytest.approx(0.85)
    assert collection_rate(None, 100) == 0.0 and collection_rate(5, 0) is None


def test_weighted_score_refuses_weights_not_adding_to_100() -> None:
    assert weighted_score([80, 100, 50], ["40%", 0.4, 20]) == pytest.approx(82.0)
    assert weighted_score([80, 100], [40, 40]) is None
    problem = weights_problem([40, 40], [7, 8])
    assert problem is not None and problem.code == "weights-not-100"
    assert problem.params["sum"] == "80%" and problem.params["rows"] == "7, 8"
    # A score left blank is not applicable: the other weights count for 100%.
    assert weighted_score([80, None], [60, 40]) == pytest.approx(80.0)


def test_scoring_rule_text_round_trips() -> None:
    rule = parse_scoring_rule("≥100%：100； ≥80% : 80 ;<80%:50")
    assert str(rule) == "≥100%:100;≥80%:80;<80%:50"
    assert parse_scoring_rule("") == parse_scoring_rule("线性") == parse_scoring_rule("linear")
    assert parse_scoring_rule("≥100%:150") is None  # points above 100


# --- monthly performance --------------------------------------------------------------------


def worked_example(target: object = 150, unit: str = "yuan", amounts=(50, 60, 58)) -> dict:
    return {
        "Reps": REPS,
        "Targets": [TARGETS, ["Wang Fang", "2026-07", target]],
        "Contracts": [
            CONTRACTS,
            contract("C1", "Acme", "Wang Fang", "2026-07-03", amounts[0]),
            contract("C2", "Beta", "Wang Fang", "2026-07-15", amounts[1]),
            contract("C3", "Cosco", "Wang Fang", "2026-07-31", amounts[2]),
        ],
        "Collections": [
            COLLECTIONS,
            invoice("F1", "C1", 50, "2026-07-20", 50),
            invoice("F2", "C2", 50, "2026-07-31", 35),  # 85 of 100 due in July
            invoice("F3", "C3", 58, "2026-08-01"),  # due in August: not July's
        ],
    }


def test_the_source_templates_worked_example() -> None:
    # target 150, actual 50 + 60 + 58 = 168, three new customers, 85 of 100 collected
    # → completion 168/150 = 112%, average deal 168/3 = 56.
    result = monthly_performance(read(worked_example()), as_of=AS_OF)
    assert result.problems == []
    row = row_of(result.frame, rep="Wang Fang", period=JUL)
    assert row["sales_target"] == 150 and row["actual_sales"] == 168
    assert row["completion_rate"] == pytest.approx(1.12)
    assert row["new_customers"] == 3
    assert row["avg_deal"] == pytest.approx(56)
    assert row["collection_rate"] == pytest.approx(0.85)
    assert row["top_customers"] == "Beta、Cosco、Acme"
    assert list(result.frame.columns) == [f.name for f in PERFORMANCE.fields]


def test_amounts_in_wan_yuan() -> None:
    # A 万元 workbook: 50万 is 50, 600000元 is 60, a bare 58 is already 万元; target 150万.
    tables = read(worked_example("150万", "wan_yuan", ("50万", "600000元", 58)), unit="wan_yuan")
    row = row_of(monthly_performance(tables, as_of=AS_OF).frame, period=JUL)
    assert (row["sales_target"], row["actual_sales"]) == (150, 168)
    assert row["completion_rate"] == pytest.approx(1.12)
    assert row["avg_deal"] == pytest.approx(56)


def test_month_boundaries_and_new_customers() -> None:
    tables = read(
        {
            "Reps": REPS,
            "Targets": [TARGETS, ["Li Lei", "2026-06", 100], ["Wang Fang", "2026-07", 100]],
            "Contracts": [
                CONTRACTS,
                contract("C1", "Acme", "Li Lei", "2026-06-30", 40),
                # Acme's second contract: Wang Fang's sale, not a new customer.
                contract("C2", "ACME ", "Wang Fang", "2026-07-01", 30),
                contract("C3", "Beta", "Wang Fang", "2026-07-01", 20),
                contract("C4", "Beta", "Wang Fang", "2026-07-20", 10),
                contract("C5", "Gamma", "Wang Fang", "2026-08-01", 99),  # after as_of's month
            ],
        }
    )
    frame = monthly_performance(tables, as_of=AS_OF).frame
    assert [(r["rep"], str(r["period"])) for r in frame.to_dict("records")] == [
        ("Li Lei", "2026-06"),
        ("Wang Fang", "2026-07"),
    ]
    june = row_of(frame, rep="Li Lei", period=JUN)
    assert (june["actual_sales"], june["new_customers"], june["avg_deal"]) == (40, 1, 40)
    july = row_of(frame, rep="Wang Fang", period=JUL)
    # 30 + 20 + 10 = 60 from two customers (Acme, Beta); only Beta is new.
    assert (july["actual_sales"], july["new_customers"]) == (60, 1)
    assert july["avg_deal"] == pytest.approx(30)
    assert july["top_customers"] == "Acme、Beta"  # Beta 30 (20 + 10) ties Acme 30: earlier row
    assert july["collection_rate"] is None  # nothing due
    # Asked for explicitly, a future month is computed too.
    aug = monthly_performance(tables, months=[Period(2026, 8)]).frame
    assert row_of(aug, rep="Wang Fang")["new_customers"] == 1


def test_reps_without_targets_and_zero_targets() -> None:
    tables = read(
        {
            "Reps": REPS,
            "Targets": [
                TARGETS,
                ["Wang Fang", "2026-07", 100],  # no sales: a row of zeros
                ["Zhao Min", "2026-07", 0],  # zero target
                ["Li Lei", "2026Q3", 300],  # a quarter target does not count for July
            ],
            "Contracts": [
                CONTRACTS,
                contract("C1", "Acme", "Li Lei", "2026-07-10", 80),
                contract("C2", "Beta", "Zhao Min", "2026-07-11", 20),
            ],
        }
    )
    result = monthly_performance(tables, as_of=AS_OF)
    wang = row_of(result.frame, rep="Wang Fang")
    assert (wang["sales_target"], wang["actual_sales"], wang["new_customers"]) == (100, 0, 0)
    assert wang["completion_rate"] == 0 and wang["avg_deal"] is None
    li = row_of(result.frame, rep="Li Lei")
    assert li["sales_target"] is None and li["completion_rate"] is None
    zhao = row_of(result.frame, rep="Zhao Min")
    assert zhao["sales_target"] == 0 and zhao["completion_rate"] is None
    assert codes(result.problems) == [
        ("sales-without-target", "targets", None),
        ("zero-target", "targets", 3),
    ]
    assert result.problems[0].params == {"rep": "Li Lei", "period": "2026-07", "actual": "80"}


def test_a_target_edited_between_two_runs_changes_the_result() -> None:
    sheets = worked_example()
    before = row_of(monthly_performance(read(sheets), as_of=AS_OF).frame, period=JUL)
    sheets["Targets"][1][2] = 200  # the manager edits the cell
    after = row_of(monthly_performance(read(sheets), as_of=AS_OF).frame, period=JUL)
    assert before["completion_rate"] == pytest.approx(1.12)
    assert after["completion_rate"] == pytest.approx(0.84)


def test_duplicate_targets_use_the_first_row() -> None:
    sheets = worked_example()
    sheets["Targets"] = [*sheets["Targets"], ["wang fang", "2026年7月", 999]]
    result = monthly_performance(read(sheets), as_of=AS_OF)
    assert row_of(result.frame, period=JUL)["sales_target"] == 150
    assert codes(result.problems) == [("duplicate-target", "targets", 3)]
    assert result.problems[0].params["rows"] == "2, 3"


# --- quarterly evaluation -------------------------------------------------------------------


def lead(lead_id, created, stage, *, amount=None, prob=None, close=None, due=None, sent=None,
         owner="Li Lei", customer="Acme"):  # fmt: skip
    return [lead_id, "Website", customer, owner, created, stage, amount, prob, close, due, sent]


def evaluation_book() -> dict:
    follow_ups = [FOLLOW_UPS]
    # 26 follow-ups in Q3 (2 a week over 13 weeks), one on each side of the quarter.
    follow_ups += [[f"2026-07-{d:02d}", "L1", "Phone", "Li Lei"] for d in range(1, 27)]
    follow_ups += [["2026-06-30", "L1", "Phone", "Li Lei"], ["2026-10-01", "L1", "Visit", "Li Lei"]]
    return {
        "Reps": REPS,
        "Leads": [
            LEADS,
            # Created in Q3: five leads, one converted (L1 won) → 1/5 = 20% (target 30%).
            lead("L1", "2026-07-01", "Won", due="2026-07-10", sent="2026-07-09 18:00"),
            lead("L2", "2026-07-02", "Lead"),
            lead("L3", "2026-07-03", "Lost"),  # lost as a lead: no opportunity data
            lead("L4", "2026-07-04", "Lead"),
            lead("L5", "2026-09-30 23:00", "Lead"),
            # Created in Q2, proposals due in Q3: one late, one never sent and past due.
            lead("L6", "2026-06-20", "Proposal", due="2026-08-01", sent="2026-08-03"),
            lead("L7", "2026-06-21", "Negotiation", due="2026-09-20"),
            lead("L8", "2026-06-22", "Proposal", due="2026-10-05"),  # Q4
        ],
        "Follow-ups": follow_ups,
        # A quarter target: 300. Q3 sales 100 + 140 = 240 → 80%.
        "Targets": [TARGETS, ["Li Lei", "2026Q3", 300]],
        "Contracts": [
            CONTRACTS,
            contract("C0", "Acme", "Li Lei", "2026-06-30", 500),  # Q2
            contract("C1", "Acme", "Li Lei", "2026-07-01", 100, lead="L1"),
            contract("C2", "Beta", "Li Lei", "2026-09-30", 140),
        ],
        # Due in Q3: 200 invoiced, 190 received → 95% (target 90%).
        "Collections": [
            COLLECTIONS,
            invoice("F1", "C1", 100, "2026-07-31", 100),
            invoice("F2", "C2", 100, "2026-09-30", 90),
            invoice("F0", "C0", 500, "2026-06-30", 0),  # Q2
        ],
    }


def test_quarterly_evaluation_worked_by_hand() -> None:
    tables = read(evaluation_book(), as_of=date(2026, 9, 30))
    result = quarterly_evaluation(tables, as_of=date(2026, 9, 30), quarters=[Q3])
    frame = result.frame
    assert list(frame.columns) == [f.name for f in EVALUATION.fields]
    got = {r["indicator"]: r for r in frame.to_dict("records") if r["rep"] == "Li Lei"}

    conv = got["lead_conversion"]
    assert (conv["dimension"], conv["weight"], conv["target"]) == ("process", 0.15, 0.30)
    assert conv["actual"] == pytest.approx(0.2)
    assert conv["score"] == pytest.approx(200 / 3)  # 100 · 0.2/0.3
    assert conv["weighted_score"] == pytest.approx(10)
    assert conv["hint"] == "lead_conversion"

    on_time = got["proposal_on_time"]  # L1 on time; L6 late; L7 unsent past due → 1/3
    assert on_time["actual"] == pytest.approx(1 / 3)
    assert on_time["score"] == pytest.approx(100 / 3 / 0.95)
    assert on_time["weighted_score"] == pytest.approx(10 / 3 / 0.95)

    weekly = got["follow_ups_per_week"]  # 26 / 13 weeks
    assert (weekly["actual"], weekly["target"]) == (2, 3)
    assert weekly["score"] == pytest.approx(200 / 3)
    assert weekly["weighted_score"] == pytest.approx(10)

    sales = got["sales_completion"]  # 240 / 300
    assert (sales["dimension"], sales["actual"], sales["score"]) == ("results", 0.8, 80)
    assert sales["weighted_score"] == pytest.approx(32)

    collected = got["collection_rate"]  # 190 / 200 = 95% ≥ 90%: full marks, no hint
    assert collected["actual"] == pytest.approx(0.95)
    assert (collected["score"], collected["weighted_score"], collected["hint"]) == (100, 20, None)

    total = got["total"]
    assert total["weight"] == pytest.approx(1.0)
    assert total["weighted_score"] == pytest.approx(10 + 10 / 3 / 0.95 + 10 + 32 + 20)
    assert result.problems == []


def test_working_weeks_can_be_given() -> None:
    tables = read(evaluation_book(), as_of=date(2026, 9, 30))
    frame = quarterly_evaluation(tables, quarters=[Q3], workweeks=lambda q: 6.5).frame
    assert row_of(frame, indicator="follow_ups_per_week")["actual"] == 4  # 26 / 6.5


def test_a_quarter_target_is_the_sum_of_its_month_targets_when_not_given() -> None:
    book = evaluation_book()
    book["Targets"] = [
        TARGETS,
        ["Li Lei", "2026-07", 100],
        ["Li Lei", "2026-08", 100],
        ["Li Lei", "2026-09", 200],  # 400 in all; 240 sold → 60%
    ]
    tables = read(book, as_of=date(2026, 9, 30))
    frame = quarterly_evaluation(tables, quarters=[Q3]).frame
    assert row_of(frame, indicator="sales_completion")["actual"] == pytest.approx(0.6)


def test_the_source_templates_222_point_weights_are_reported_not_summed() -> None:
    # The source template's scoring table: its weights add up to 222 points.
    rows = [
        ScoringCells(20, "线索转化率", "过程", "30", "≥30%", ""),
        ScoringCells(21, "方案按时提交率", "过程", "20", "95%", "linear"),
        ScoringCells(22, "周均跟进次数", "过程", "22", "3次", None),
        ScoringCells(23, "销售目标完成率", "结果", "100", "100%", "≥100%:100;≥80%:80;<80%:50"),
        ScoringCells(24, "回款率", "结果", "50", "90%", None),
    ]
    scoring, problems = parse_scoring_rows(rows)
    assert [(r.indicator.value, r.weight, r.target) for r in scoring.rows] == [
        ("lead_conversion", 0.30, 0.30),
        ("proposal_on_time", 0.20, 0.95),
        ("follow_ups_per_week", 0.22, 3.0),
        ("sales_completion", 1.00, 1.00),
        ("collection_rate", 0.50, 0.90),
    ]
    assert codes(problems) == [("weights-not-100", "scoring", 20)]
    assert problems[0].params["sum"] == "222%"
    assert problems[0].params["rows"] == "20, 21, 22, 23, 24"
    assert metric_issue(problems[0], Lang.ZH_HANS).message == (
        "评分表的权重合计为 222%（第 20, 21, 22, 23, 24 行），应为 100%；修正前不计算总分。"
    )

    tables = read(evaluation_book(), as_of=date(2026, 9, 30))
    frame = quarterly_evaluation(tables, scoring, quarters=[Q3]).frame
    assert row_of(frame, indicator="total")["weighted_score"] is None
    # Indicator scores still show; the banded sales completion (80%) scores 80.
    assert row_of(frame, indicator="sales_completion")["score"] == 80


def test_a_valid_scoring_table_from_cells() -> None:
    rows = [
        (5, "Lead conversion", None, "15%", "30%", None),
        (6, "Proposal on-time rate", None, 0.10, 0.95, None),
        (7, "follow-ups per week", None, 15, 3, None),
        (8, "Sales completion", None, "40%", "100%", None),
        (9, "Collection rate", None, "20", "≥90%", None),
        (10, None, None, None, None, None),
    ]
    scoring, problems = parse_scoring_rows(rows)
    assert problems == [] and scoring.weights_ok
    assert [r.row for r in scoring.rows] == [5, 6, 7, 8, 9]
    assert [replace(r, row=None) for r in scoring.rows] == list(DEFAULT_SCORING.rows)


def test_bad_scoring_rows_are_problems() -> None:
    rows = [
        (5, "Lead conversion", None, "15%", "30%", "sometimes"),
        (6, "Happiness", None, "10%", None, None),
        (7, "Lead conversion", None, "15%", None, None),
        (8, "Sales completion", None, "lots", None, None),
    ]
    _, problems = parse_scoring_rows(rows)
    assert codes(problems) == [
        ("invalid-scoring-rule", "scoring", 5),
        ("unknown-indicator", "scoring", 6),
        ("invalid-weight", "scoring", 8),
        ("duplicate-indicator", "scoring", 7),
        ("weights-not-100", "scoring", 5),
    ]


# --- funnel ---------------------------------------------------------------------------------


def test_funnel() -> None:
    tables = read(
        {
            "Reps": REPS,
            "Leads": [
                LEADS,
                # Li Lei: won ×2, lost ×1 (after a proposal), negotiation ×1, lead ×1.
                lead("L1", "2026-03-01", "Won"),
                lead("L2", "2026-03-01", "Won", customer="Beta"),
                lead("L3", "2026-04-01", "Lost", due="2026-04-10", sent="2026-04-09"),
                lead("L4", "2026-05-01", "Negotiation", amount=100, prob=0.5, close="2026-08-15"),
                lead("L5", "2026-05-01", "Lead", amount=40, prob="10%", close="2026-08-31"),
                # Zhao Min (team West): one open proposal closing in September, one lost lead.
                lead(
                    "L6",
                    "2026-05-01",
                    "Proposal",
                    owner="Zhao Min",
                    amount=200,
                    prob=0.3,
                    close="2026-09-01",
                ),
                lead("L7", "2026-05-01", "Lost", owner="Zhao Min"),
            ],
            "Contracts": [
                CONTRACTS,
                contract("C0", "Acme", "Li Lei", "2025-12-01", 10),  # Acme is an existing customer
                contract("C1", "Acme", "Li Lei", "2026-03-31", 10, lead="L1"),  # 30 days
                contract("C2", "Beta", "Li Lei", "2026-03-11", 10, lead="L2"),  # 10 days, new
            ],
        }
    )
    result = funnel(tables)
    stages = result.stages
    li = {r["stage"]: r for r in stages.to_dict("records") if r["rep"] == "Li Lei"}
    assert li["lead"]["leads"] == 1 and li["lead"]["reached"] == 5
    assert li["opportunity"]["reached"] == 4  # L1, L2, L3 (proposal sent), L4
    assert li["proposal"]["reached"] == 4
    assert li["negotiation"]["reached"] == 3 and li["negotiation"]["conversion"] == 0.75
    assert li["won"]["reached"] == 2 and li["won"]["conversion"] == pytest.approx(2 / 3)
    assert li["lost"]["leads"] == 1
    assert li["lead"]["team"] == "East"

    summary = {(r["team"], r["rep"]): r for r in result.summary.to_dict("records")}
    mine = summary[("East", "Li Lei")]
    assert (mine["leads"], mine["open"], mine["won"], mine["lost"]) == (5, 2, 2, 1)
    assert mine["win_rate"] == pytest.approx(2 / 3)
    assert (mine["cycle_days_new"], mine["cycle_days_existing"]) == (10, 30)
    assert mine["weighted_pipeline"] == pytest.approx(100 * 0.5 + 40 * 0.1)
    everyone = summary[(None, None)]
    assert (everyone["leads"], everyone["won"], everyone["lost"]) == (7, 2, 2)
    assert everyone["win_rate"] == 0.5
    assert summary[("West", None)]["weighted_pipeline"] == pytest.approx(60)

    pipeline = [
        (r["rep"], str(r["month"]), r["open_leads"], r["weighted_amount"])
        for r in result.pipeline.to_dict("records")
        if r["team"] is None
    ]
    assert pipeline == [
        (None, "2026-08", 2, pytest.approx(54)),
        (None, "2026-09", 1, pytest.approx(60)),
    ]


# --- collections ----------------------------------------------------------------------------


def collections_book() -> dict:
    return {
        "Reps": REPS,
        "Contracts": [
            CONTRACTS,
            contract("C1", "Acme", "Wang Fang", "2026-06-01", 100),
            contract("C2", "Beta", "Li Lei", "2026-06-02", 60),
        ],
        "Collections": [
            COLLECTIONS,
            invoice("F1", "C1", 60, "2026-06-30", 60, at="2026-06-01"),  # matched
            invoice("F2", "C1", 30, "2026-07-10", 10, at="2026-06-10"),  # partial, 21 days late
            invoice("F3", "C1", 20, "2026-07-20", None, at="2026-06-20"),  # 110 > 100
            invoice("F4", "c2 ", 50, "2026-07-05", 55, at="2026-06-05"),  # overpaid; C2 55 of 60
            invoice("F5", "C9", 10, "2026-07-05", 10, at="2026-06-05"),  # unknown contract
            invoice("F6", "C2", 5, "2026-08-15", None, at="2026-07-15"),  # unpaid, not yet due
        ],
    }


def test_reconcile_collections() -> None:
    result = reconcile_collections(read(collections_book()), as_of=AS_OF)
    invoices = result.invoices
    assert list(invoices.index) == [2, 3, 4, 5, 6, 7]
    assert list(invoices["reconciliation"]) == [
        "matched",
        "partial",
        "above_contract",
        "overpaid",
        "unknown_contract",
        "unpaid",
    ]
    assert list(invoices["overdue_days"]) == [0, 21, 11, 0, 0, 0]
    assert list(invoices["outstanding"]) == [0, 20, 20, -5, 0, 5]
    assert list(invoices["rep"]) == ["Wang Fang"] * 3 + ["Li Lei", None, "Li Lei"]

    c1 = row_of(result.contracts, contract_id="C1")
    assert (c1["invoiced"], c1["received"], c1["uninvoiced"], c1["above_contract"]) == (
        110,
        70,
        -10,
        True,
    )
    c2 = row_of(result.contracts, contract_id="C2")
    assert (c2["invoiced"], c2["received"], c2["above_contract"]) == (55, 55, False)

    assert codes(result.problems) == [
        ("invoiced-above-contract", "collections", 4),
        ("invoice-overpaid", "collections", 5),
    ]
    assert result.problems[0].params["invoiced"] == "110"

    reps = {(r["rep"], str(r["period"])): r for r in result.reps.to_dict("records")}
    # Wang Fang: due in July F2 (30, 10 received) and F3 (20) → 10/50.
    assert reps[("Wang Fang", "2026-07")]["collection_rate"] == pytest.approx(0.2)
    assert reps[("Wang Fang", "2026-06")]["collection_rate"] == 1
    assert reps[("Li Lei", "2026-07")]["collection_rate"] == pytest.approx(1.1)


def test_collection_rates_tie_out_to_the_performance_tab() -> None:
    tables = read(collections_book())
    performance = monthly_performance(tables, as_of=date(2026, 12, 31)).frame
    reps = reconcile_collections(tables, as_of=AS_OF).reps
    per_rep = {(r["rep"], r["period"]): r["collection_rate"] for r in reps.to_dict("records")}
    shown = {
        (r["rep"], r["period"]): r["collection_rate"]
        for r in performance.to_dict("records")
        if r["collection_rate"] is not None
    }
    assert shown == per_rep and len(shown) == 4


# --- units, issues and the whole -------------------------------------------------------------


def test_an_amount_typed_in_the_other_unit_is_suspect() -> None:
    sheets = worked_example(unit="wan_yuan")
    sheets["Contracts"].append(contract("C4", "Delta", "Li Lei", "2026-07-09", 500000))  # 元
    sheets["Targets"] += [["Li Lei", "2026-07", 1500000], ["Zhao Min", "2026-07", 160]]
    sheets["Targets"] += [["Li Lei", "2026-06", 170]]
    tables = read(sheets, unit="wan_yuan")
    problems = amount_unit_problems(tables, Settings(amount_unit="wan_yuan"))
    assert codes(problems) == [
        ("amount-unit-suspect", "contracts", 5),
        ("amount-unit-suspect", "targets", 3),
    ]
    issue = metric_issue(problems[0], Lang.ZH_HANS, tables)
    assert (issue.tab, issue.row, issue.column) == ("Contracts", 5, "F")
    assert "万元" in issue.message and "500,000" in issue.message


def test_every_code_has_three_languages_and_renders() -> None:
    sample = {
        "rep": "Li",
        "period": "2026-07",
        "actual": "1",
        "rows": "2, 3",
        "used": 2,
        "sum": "90%",
        "allowed": "x",
        "indicator": "lead_conversion",
        "default": "1",
        "received": "2",
        "invoiced": "1",
        "contract_id": "C1",
        "amount": "1",
        "typical": "1",
        "ratio": "10,000",
        "unit": "yuan",
    }
    from sync.core.metrics import MetricProblem

    for code, kind in METRIC_CODES.items():
        assert set(kind.messages) == set(LANGS) == set(kind.short)
        for lang in LANGS:
            message = metric_issue(MetricProblem(code, params=sample), lang).message
            assert "{" not in message, (code, lang, message)


def test_compute_metrics_and_localized_tabs() -> None:
    tables = read(evaluation_book(), as_of=date(2026, 9, 30))
    metrics = compute_metrics(tables, as_of=datetime(2026, 9, 30, 18))
    assert metrics.scoring is DEFAULT_SCORING
    shown = localize(metrics.evaluation, EVALUATION, Lang.ZH_HANS)
    assert list(shown.columns)[:4] == ["销售员", "周期", "维度", "指标"]
    first = shown.iloc[0]
    assert (first["周期"], first["维度"], first["指标"]) == ("2026Q2", "过程", "线索转化率")
    records = metrics.records()
    assert records["performance"][0]["period"] == "2026-06"
    assert {t.name for t in OUTPUT_TABLES} >= {"performance", "evaluation"}
    assert all(p.code in METRIC_CODES for p in metrics.problems)
