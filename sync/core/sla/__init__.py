"""SLA rules as data, evaluated on every row against the working-day calendar.

A rule says: from this date field to that one, within this limit, in this unit, for the rows
matching a condition. The defaults are DESIGN.md §4; the Settings tab's SLA rules table
overrides a default by its id (or label) and can add rules. `evaluate` gives one row's due time
and status; `flag_sla` runs every rule over the typed tables and returns the owned column
values (due times, localized statuses, follow-up counts …) and the issues (breaches, overdue
rows, estimated calendars, invalid rule rows). Nothing raises on a bad row.

The package: `rules` (the rules as data and their defaults), `rule_table` (the Settings
table of rules), `evaluate` (one row, and whole columns at once), `promises` (dates written
in next-step texts), `flag` (every rule over the tables) and `reports` (their issues).
"""

from .evaluate import Evaluation, Evaluations, due_time, evaluate, evaluate_many
from .flag import Computed, flag_sla, merge_computed
from .promises import find_promised_date
from .rule_table import parse_condition, read_rules, rule_rows
from .rules import (
    CLOSED_STAGES,
    DEFAULT_PAYMENT_TERMS,
    DEFAULT_RULES,
    FULL_COLLECTION,
    NEXT_FOLLOW_UP,
    OUTPUTS,
    SPECIAL_ENDS,
    STATUS_LABELS,
    Condition,
    SlaRule,
    Status,
    Unit,
)

__all__ = [
    "CLOSED_STAGES",
    "DEFAULT_PAYMENT_TERMS",
    "DEFAULT_RULES",
    "FULL_COLLECTION",
    "NEXT_FOLLOW_UP",
    "OUTPUTS",
    "SPECIAL_ENDS",
    "STATUS_LABELS",
    "Computed",
    "Condition",
    "Evaluation",
    "Evaluations",
    "SlaRule",
    "Status",
    "Unit",
    "due_time",
    "evaluate",
    "evaluate_many",
    "find_promised_date",
    "flag_sla",
    "merge_computed",
    "parse_condition",
    "read_rules",
    "rule_rows",
]
