"""Metrics (DESIGN.md §5): monthly performance, quarterly weighted evaluation, funnel and the
reconciliation of collections against contracts.

Everything here reads the parsed tables the job produces (`dict[str, TableData]`; any table
may be missing) and returns pandas DataFrames whose columns are the canonical field names of
the owned tables declared below (`PERFORMANCE`, `EVALUATION`, …), plus `MetricProblem`s:
problems are data, never raised. Amounts are taken as they are, in the workbook's unit
(Settings amount_unit): a contract typed "50万" is already 50 in a 万元 workbook.

How people and things are matched: reps by their folded name (width, case, script and spaces
aside, as the Reps reference check does), customers the same way, contract ids exactly but for
width, case and surrounding spaces. A row whose needed fields are blank or did not parse is
skipped (its cell issue is reported by parsing already).

The modules: `vocabulary` and `definitions` (the output tables and their labels), `problems`
(codes and messages), `rates` and `scoring_table` (pure scoring), `book` (the source tables
read once), then one module a metric: `performance`, `evaluation`, `sales_funnel`,
`reconciliation`, `units`; `compute` runs them all.

>>> completion_rate(168, 150), avg_deal(168, 3)
(1.12, 56.0)
>>> score(0.24, 0.30), score(0.9, 1.0, "≥100%:100;≥80%:80;<80%:50")
(80.0, 80.0)
>>> weighted_score([80, 100], [40, 60]), weighted_score([80, 100], [0.4, 0.4])
(92.0, None)
"""

from .common import MetricTable
from .compute import Metrics, compute_metrics
from .definitions import (
    CONTRACT_INVOICING,
    EVALUATION,
    FUNNEL_PIPELINE,
    FUNNEL_STAGES,
    FUNNEL_SUMMARY,
    INVOICE_RECONCILIATION,
    OUTPUT_TABLES,
    PERFORMANCE,
    REP_COLLECTIONS,
    SCORING,
    localize,
)
from .evaluation import WEEKS_PER_QUARTER, Workweeks, quarterly_evaluation
from .performance import TOP_CUSTOMERS, monthly_performance
from .problems import METRIC_CODES, MetricProblem, metric_issue
from .rates import (
    LINEAR,
    Band,
    ScoringRule,
    as_weight,
    avg_deal,
    collection_rate,
    completion_rate,
    parse_scoring_rule,
    score,
    weighted_score,
    weights_problem,
)
from .reconciliation import Reconciliation, reconcile_collections
from .sales_funnel import Funnel, funnel
from .scoring_table import (
    DEFAULT_SCORING,
    RATIO_INDICATORS,
    ScoringCells,
    ScoringRow,
    ScoringTable,
    parse_scoring_rows,
    scoring_from_table,
    scoring_rows,
)
from .stages import FUNNEL_ORDER, OPEN_STAGES, is_converted, reached_rank
from .units import UNIT_SUSPECT_RATIO, amount_unit_problems
from .vocabulary import DIMENSIONS, HINTS, INDICATORS, RECONCILIATION, Dimension, Indicator

__all__ = [
    "CONTRACT_INVOICING",
    "DEFAULT_SCORING",
    "DIMENSIONS",
    "EVALUATION",
    "FUNNEL_ORDER",
    "FUNNEL_PIPELINE",
    "FUNNEL_STAGES",
    "FUNNEL_SUMMARY",
    "HINTS",
    "INDICATORS",
    "INVOICE_RECONCILIATION",
    "LINEAR",
    "METRIC_CODES",
    "OPEN_STAGES",
    "OUTPUT_TABLES",
    "PERFORMANCE",
    "RATIO_INDICATORS",
    "RECONCILIATION",
    "REP_COLLECTIONS",
    "SCORING",
    "TOP_CUSTOMERS",
    "UNIT_SUSPECT_RATIO",
    "WEEKS_PER_QUARTER",
    "Band",
    "Dimension",
    "Funnel",
    "Indicator",
    "MetricProblem",
    "MetricTable",
    "Metrics",
    "Reconciliation",
    "ScoringCells",
    "ScoringRow",
    "ScoringRule",
    "ScoringTable",
    "Workweeks",
    "amount_unit_problems",
    "as_weight",
    "avg_deal",
    "collection_rate",
    "completion_rate",
    "compute_metrics",
    "funnel",
    "is_converted",
    "localize",
    "metric_issue",
    "monthly_performance",
    "parse_scoring_rows",
    "parse_scoring_rule",
    "quarterly_evaluation",
    "reached_rank",
    "reconcile_collections",
    "score",
    "scoring_from_table",
    "scoring_rows",
    "weighted_score",
    "weights_problem",
]
