"""The tables the metrics produce (`OUTPUT_TABLES`, one owned tab each), the scoring table
managers edit (`SCORING`), and frames shaped by them."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..schema import (
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
    Kind,
    Lang,
    Table,
)

__all__ = [
    "CONTRACT_INVOICING",
    "EVALUATION",
    "FUNNEL_PIPELINE",
    "FUNNEL_STAGES",
    "FUNNEL_SUMMARY",
    "INVOICE_RECONCILIATION",
    "OUTPUT_TABLES",
    "PERFORMANCE",
    "REP_COLLECTIONS",
    "SCORING",
    "localize",
    "to_frame",
]


def to_frame(table: Table, records: list[dict[str, Any]], index: list[int] | None = None) -> Any:
    """The records as a frame with the table's columns, blanks as None."""
    columns = [f.name for f in table.fields]
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame = frame.astype(object).where(frame.notna(), None) if len(frame) else frame
    if index is not None:
        frame.index = pd.Index(index, name="row")
    return frame


def localize(frame: pd.DataFrame, table: Table, lang: Lang) -> pd.DataFrame:
    """A frame as a tab shows it: headers in `lang`, choice keys as labels, periods as text.

    >>> frame = to_frame(EVALUATION, [{"indicator": "collection_rate", "dimension": "results"}])
    >>> list(localize(frame, EVALUATION, Lang.EN).iloc[0][["Dimension", "Indicator"]])
    ['Results', 'Collection rate']
    """
    out = frame.copy()
    for f in table.fields:
        if f.name not in out:
            continue
        if f.choices is not None:
            choices = f.choices
            out[f.name] = [None if v is None else choices.label(v, lang) for v in out[f.name]]
        elif f.kind is Kind.PERIOD:
            out[f.name] = [None if v is None else str(v) for v in out[f.name]]
    return out.rename(columns={f.name: f.headers[lang] for f in table.fields})
