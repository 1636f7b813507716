"""The issues a rule raises about its rows (breached, overdue, resting on an estimated
calendar), built in bulk: texts once per distinct due, done and lateness value, and the
issues by `issues_from_params`, the same as `TableData.issue` would make row by row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from ..columns import each_once, objects
from ..issues import Issue, display_value, issues_from_params
from ..schema import Lang
from ..tables import TableData
from .evaluate import BREACHED_CODE, Judged
from .rules import SlaRule


@dataclass(slots=True)
class Cells:
    """The cells a rule's issues are about: `where` of `data` in data rows `at`, with the
    values as an issue shows them ("" for a blank)."""

    data: TableData
    where: str
    at: np.ndarray
    values: np.ndarray
    rule: SlaRule
    lang: Lang

    @classmethod
    def of(cls, data: TableData, where: str, at: np.ndarray, rule: SlaRule, lang: Lang) -> Cells:
        """The cells, each distinct cell shown once; none shown without cells as typed."""
        raw = data.raw.get(where)
        if raw is None:
            return cls(data, where, at, np.full(len(at), "", dtype=object), rule, lang)
        shown = each_once(list(map(raw.__getitem__, at.tolist())), _shown_value)
        return cls(data, where, at, objects(shown), rule, lang)

    @property
    def header(self) -> str:
        return self.data.bound.header_of(self.where, self.lang)

    def part(self, rows: np.ndarray) -> Cells:
        return replace(self, at=self.at[rows], values=self.values[rows])

    def issues(self, codes: list[str], params: list[dict[str, Any]]) -> list[Issue]:
        """`issues_from_params` about these cells: the params hold the header and the values
        shown already."""
        data = self.data
        return issues_from_params(
            codes,
            self.lang,
            tab=data.tab,
            rows=map(data.rows.__getitem__, self.at.tolist()),
            column=data.letter(self.where),
            header=self.header,
            params=params,
            field=self.where,
            table=data.name,
            rule=self.rule.id,
        )


def _shown_value(value: Any) -> str:
    """A cell as an issue shows it: as typed, "" for a blank."""
    text = "" if value is None else display_value(value)
    return "" if text.isspace() else text


def estimated_issues(cells: Cells, years: np.ndarray) -> list[Issue]:
    """A calendar-estimated issue about each of the cells, in the year estimated."""
    header, label, values = cells.header or "", cells.rule.label(cells.lang), cells.values.tolist()
    params = [
        {"header": header, "value": value, "year": year, "rule_label": label}
        for value, year in zip(values, years.tolist(), strict=True)
    ]
    return cells.issues(["calendar-estimated"] * len(params), params)


def late_issues(
    cells: Cells, judged: Judged, late: np.ndarray, done_us: np.ndarray, as_of: datetime
) -> list[Issue]:
    """A breached or overdue issue about each of the cells, of rows `late` (indices into
    `judged`) done at `done_us` (microseconds since 1970, NaT: not done); due, done and
    lateness texts are worked out once per distinct value."""
    lang = cells.lang
    header, label, values = cells.header or "", cells.rule.label(lang), cells.values.tolist()
    due = judged.due[late]
    whole_day = due.dtype == np.dtype("datetime64[D]")
    dues = _each_shown(due, _show_due)
    dones = _each_shown(done_us.astype("datetime64[us]"), _show_done)
    lates = _each_shown(judged.late_by[late], lambda late_by: _duration(late_by, lang, whole_day))
    as_of_text = as_of.strftime("%Y-%m-%d %H:%M")
    years = judged.estimated[late].tolist()
    notes = {year: _ESTIMATED[lang].format(year=year) for year in set(years)} | {0: ""}
    estimated = [notes[year] for year in years]
    params = [
        {
            "header": header,
            "value": value,
            "rule_label": label,
            "due": due_text,
            "done": done_text,
            "late": late_text,
            "as_of": as_of_text,
            "estimated": note,
        }
        for value, due_text, done_text, late_text, note in zip(
            values, dues, dones, lates, estimated, strict=True
        )
    ]
    codes = np.where(judged.status[late] == BREACHED_CODE, "sla-breached", "sla-overdue")
    return cells.issues(codes.tolist(), params)


def _each_shown(values: np.ndarray, show: Callable[[Any], str]) -> list[str]:
    """`show` of each datetime64 or timedelta64 value (as Python's, None for NaT), called
    once per distinct value."""
    codes, distinct = pd.factorize(values.view(np.int64))
    return objects([show(v) for v in distinct.astype(values.dtype).tolist()])[codes].tolist()


_ESTIMATED = {
    Lang.ZH_HANS: "（{year} 年日历为推定）",
    Lang.ZH_HANT: "（{year} 年日曆為推定）",
    Lang.EN: " ({year} calendar estimated)",
}


def _show_due(due: date) -> str:
    if isinstance(due, datetime):
        return due.strftime("%Y-%m-%d %H:%M")
    return due.isoformat()


def _show_done(done: datetime | None) -> str:
    return "" if done is None else display_value(done)


def _duration(late: timedelta | None, lang: Lang, whole_day: bool) -> str:
    if late is None:
        return ""
    minutes = int(late.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    units = {
        Lang.ZH_HANS: ("天", "小时", "分钟", " "),
        Lang.ZH_HANT: ("天", "小時", "分鐘", " "),
        Lang.EN: (" d", " h", " min", " "),
    }[lang]
    parts = []
    if days:
        parts.append(f"{days}{'' if lang is Lang.EN else ' '}{units[0]}".replace("  ", " "))
    if not whole_day:
        if hours:
            parts.append(f"{hours}{'' if lang is Lang.EN else ' '}{units[1]}")
        if mins and not days:
            parts.append(f"{mins}{'' if lang is Lang.EN else ' '}{units[2]}")
    return units[3].join(parts) or f"1{'' if lang is Lang.EN else ' '}{units[2]}"
