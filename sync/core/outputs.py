"""What the metrics put into the workbook: the owned tabs (业绩, 绩效, 漏斗) as grids, and the
owned 对账结果 column of Collections, in the workbook's language.

A tab may stack several blocks: the Funnel tab shows stage counts, then the per-rep summary,
then the weighted pipeline, each under its own title and header row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from itertools import compress
from typing import Any

import pandas as pd

from .metrics import Metrics, localize
from .parse import Period
from .schema import (
    EVALUATION,
    FUNNEL_PIPELINE,
    FUNNEL_STAGES,
    FUNNEL_SUMMARY,
    PERFORMANCE,
    RECONCILIATION,
    Lang,
    Table,
)
from .validate import Computed

Block = tuple[Table, pd.DataFrame]
Grid = list[list[Any]]


def metric_tabs(metrics: Metrics, lang: Lang) -> dict[str, Grid]:
    """Owned tab (by its table name) → the grid to write, header first."""
    return {
        PERFORMANCE.name: grid([(PERFORMANCE, metrics.performance)], lang),
        EVALUATION.name: grid([(EVALUATION, metrics.evaluation)], lang),
        FUNNEL_STAGES.name: grid(
            [
                (FUNNEL_STAGES, metrics.funnel.stages),
                (FUNNEL_SUMMARY, metrics.funnel.summary),
                (FUNNEL_PIPELINE, metrics.funnel.pipeline),
            ],
            lang,
        ),
    }


def grid(blocks: Sequence[Block], lang: Lang) -> Grid:
    """Blocks one under another: the first one's header is the tab's header row; each next
    block follows a blank row and a title row."""
    rows: Grid = []
    for number, (table, frame) in enumerate(blocks):
        if number:
            rows += [[], [table.title(lang)]]
        shown = localize(frame, table, lang)
        rows.append([f.header(lang) for f in table.fields])
        rows += (list(map(cell_value, record)) for record in shown.itertuples(index=False))
    return rows


def cell_value(value: Any) -> Any:
    """A plain value a backend can write: no NaN, no numpy scalars, periods as text."""
    if value is None:
        return None
    if isinstance(value, Period):
        return str(value)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, datetime | date | str | bool):
        return value
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        return round(value, 6)
    return value


def reconciliation_column(metrics: Metrics, lang: Lang) -> Computed:
    """The owned Collections column 对账结果, one label per invoice row."""
    invoices = metrics.collections.invoices
    if "reconciliation" not in invoices or invoices.empty:
        return {}
    statuses = invoices["reconciliation"].tolist()
    labels = {s: RECONCILIATION.label(str(s), lang) for s in set(statuses) if s is not None}
    given = list(map(labels.__contains__, statuses))  # each distinct status labelled once
    rows = map(int, compress(invoices.index.tolist(), given))
    values = dict(zip(rows, map(labels.__getitem__, compress(statuses, given)), strict=True))
    return {"collections": {"reconciliation": values}}
