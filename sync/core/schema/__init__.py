"""The one declarative schema of a salesync workbook.

Every tab and field of DESIGN.md §3 is described here once: canonical name, kind of value,
whether it is required or unique, its allowed values and their aliases, its display headers in
zh-Hans, zh-Hant and English, and whether the sync job owns it. Templates, header matching,
parsing, validation, messages and documentation all read this module; nothing repeats it.

>>> SCHEMA.table("leads").field("lead_id").headers[Lang.ZH_HANT]
'線索編號'
"""

from __future__ import annotations

from .base import (
    LANGS,
    Choice,
    Choices,
    Field,
    Kind,
    Lang,
    Order,
    Owner,
    Schema,
    Severity,
    Table,
    labels,
)
from .choices import (
    AMOUNT_UNIT,
    ASSIGN_METHOD,
    BANT_CLASS,
    COMPLEXITY,
    LANGUAGE,
    METHOD,
    SEVERITY,
    SLA_UNIT,
    SOURCE,
    STAGE,
    YES_NO,
)
from .metric_tabs import (
    CONTRACT_INVOICING,
    DIMENSIONS,
    EVALUATION,
    FUNNEL_PIPELINE,
    FUNNEL_STAGES,
    FUNNEL_SUMMARY,
    HINTS,
    INDICATOR_KEYS,
    INDICATORS,
    INVOICE_RECONCILIATION,
    OUTPUT_TABLES,
    PERFORMANCE,
    RECONCILIATION,
    REP_COLLECTIONS,
    SCORING,
)
from .settings_keys import SETTING_KEYS, Setting
from .tables import (
    ASSIGNMENT_RULES,
    COLLECTIONS,
    CONTRACTS,
    FOLLOW_UPS,
    ISSUES,
    LEADS,
    REPS,
    SETTINGS,
    SLA_RULES,
    TARGETS,
    TICKETS,
)

SCHEMA = Schema(
    (
        LEADS,
        FOLLOW_UPS,
        CONTRACTS,
        COLLECTIONS,
        TICKETS,
        REPS,
        TARGETS,
        SETTINGS,
        SLA_RULES,
        SCORING,
        ASSIGNMENT_RULES,
        ISSUES,
        *OUTPUT_TABLES,
    )
)

__all__ = [
    "AMOUNT_UNIT",
    "ASSIGNMENT_RULES",
    "ASSIGN_METHOD",
    "BANT_CLASS",
    "COLLECTIONS",
    "COMPLEXITY",
    "CONTRACTS",
    "CONTRACT_INVOICING",
    "DIMENSIONS",
    "EVALUATION",
    "FOLLOW_UPS",
    "FUNNEL_PIPELINE",
    "FUNNEL_STAGES",
    "FUNNEL_SUMMARY",
    "HINTS",
    "INDICATORS",
    "INDICATOR_KEYS",
    "INVOICE_RECONCILIATION",
    "ISSUES",
    "LANGS",
    "LANGUAGE",
    "LEADS",
    "METHOD",
    "OUTPUT_TABLES",
    "PERFORMANCE",
    "RECONCILIATION",
    "REPS",
    "REP_COLLECTIONS",
    "SCHEMA",
    "SCORING",
    "SETTINGS",
    "SETTING_KEYS",
    "SEVERITY",
    "SLA_RULES",
    "SLA_UNIT",
    "SOURCE",
    "STAGE",
    "TARGETS",
    "TICKETS",
    "YES_NO",
    "Choice",
    "Choices",
    "Field",
    "Kind",
    "Lang",
    "Order",
    "Owner",
    "Schema",
    "Setting",
    "Severity",
    "Table",
    "labels",
]
