"""The vocabularies of the metric tabs, each key with its label in every language: indicators,
dimensions, improvement hints and reconciliation results."""

from __future__ import annotations

from enum import StrEnum

from ..schema import DIMENSIONS, HINTS, INDICATOR_KEYS, INDICATORS, RECONCILIATION, labels


class Indicator(StrEnum):
    LEAD_CONVERSION = "lead_conversion"
    PROPOSAL_ON_TIME = "proposal_on_time"
    FOLLOW_UPS_PER_WEEK = "follow_ups_per_week"
    SALES_COMPLETION = "sales_completion"
    COLLECTION_RATE = "collection_rate"


class Dimension(StrEnum):
    PROCESS = "process"
    RESULTS = "results"


__all__ = [
    "DIMENSIONS",
    "HINTS",
    "INDICATORS",
    "INDICATOR_KEYS",
    "RECONCILIATION",
    "Dimension",
    "Indicator",
    "labels",
]
