"""The sync job: read → bind → parse → rules → plan → apply.

One function, `sync_workbook`, runs the whole pipeline against any backend (an object with
`read() -> RawWorkbook` and `apply(plan)`); `check` is the same run without the write.

>>> from sync.core.model import RawSheet, RawWorkbook
>>> class Memory:
...     def read(self):
...         return RawWorkbook([RawSheet("Reps", [["Name", "Team"], ["Li"], ["Li"]])])
...     def apply(self, plan): raise AssertionError("check never writes")
>>> result = sync_workbook(Memory(), write=False, as_of=datetime(2026, 6, 1))
>>> [(i.code, i.tab, i.row) for i in result.issues if i.severity == "error"]
[('duplicate-id', 'Reps', 3)]
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from .collector import gc_paused as gc_paused
from .core.calendar import BusinessCalendar
from .core.errors import LayoutError
from .core.headers import Binding, bind_workbook
from .core.issues import Issue, count_by_severity
from .core.lead_review import review_leads
from .core.metrics import Metrics, compute_metrics, metric_issue
from .core.model import RawWorkbook, WritePlan
from .core.outputs import metric_tabs, reconciliation_column
from .core.parse import ParseContext, Period
from .core.plan import plan_sync
from .core.schema import SCHEMA, Lang, Severity
from .core.settings import DEFAULT_SETTINGS, SettingRow, Settings, read_settings
from .core.sla import flag_sla, merge_computed, read_rules
from .core.tables import TableData, fill_blanks, parse_table, parse_tables
from .core.validate import validate_tables


class Backend(Protocol):
    """`adds_dashboard` (optional, default False): the backend renders `WritePlan.dashboard`,
    so a workbook without a Dashboard tab gets one planned."""

    def read(self) -> RawWorkbook: ...

    def apply(self, plan: WritePlan) -> None: ...


Progress = Callable[[str], None]
"""Called with the name of each step as it starts (read, check, write)."""


@dataclass(slots=True)
class SyncResult:
    source: str
    lang: Lang
    as_of: datetime
    issues: list[Issue]
    plan: WritePlan
    tables: dict[str, TableData]
    settings: Settings
    metrics: Metrics | None = None
    referrals: list[dict[str, object]] = field(default_factory=list)
    wrote: bool = False
    requests: int | None = None  # HTTP requests made (Google Sheets backend)
    seconds: dict[str, float] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return count_by_severity(self.issues)

    def worst(self) -> Severity | None:
        present = set(map(attrgetter("severity"), self.issues))
        return max(present, key=attrgetter("rank")) if present else None

    def summary(self) -> dict[str, Any]:
        # one pass over the issues (a large workbook has hundreds of thousands), not one a tab
        severities = map(attrgetter("severity.value"), self.issues)
        tally = Counter(zip(map(attrgetter("table"), self.issues), severities, strict=True))
        per_tab: dict[str, dict[str, Any]] = {}
        for name, data in self.tables.items():
            counts = {s.value: tally[name, s.value] for s in Severity}
            per_tab[data.tab] = {"table": name, "rows": len(data), **counts}
        return {
            "source": self.source,
            "language": self.lang.value,
            "as_of": self.as_of.isoformat(timespec="minutes"),
            "issues": self.counts(),
            "tabs": per_tab,
            "cells_to_write": sum(len(c) for c in self.plan.cells.values()),
            "tabs_to_write": [t.sheet for t in self.plan.tabs]
            + ([self.plan.dashboard.sheet] if self.plan.dashboard else []),
            "wrote": self.wrote,
            "requests": self.requests,
        }

    def to_json(self) -> dict[str, Any]:
        records = self.metrics.records() if self.metrics is not None else {}
        return {
            "issues": [i.to_record() for i in self.issues],
            "summary": self.summary(),
            **records,
            "referrals": self.referrals,
        }


def sync_workbook(
    backend: Backend,
    *,
    write: bool,
    as_of: datetime | None = None,
    lang: Lang | None = None,
    assign: bool = False,
    progress: Progress | None = None,
) -> SyncResult:
    """Validate the workbook and, when `write`, put the owned cells and tabs back into it.
    `assign`: also fill blank lead owners (and their assignment time) from the proposals."""
    step = progress or (lambda _name: None)
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    step("read")
    with gc_paused():  # the reader builds millions of cells and no cycles, like the check
        raw = backend.read()
    seconds["read"] = time.perf_counter() - started

    step("check")
    started = time.perf_counter()
    # The check allocates millions of small objects and frees almost none of them in cycles:
    # the cyclic collector would walk the whole workbook again and again for nothing.
    with gc_paused():
        result = check_workbook(
            raw,
            lang=lang,
            as_of=as_of,
            assign=assign,
            dashboard=bool(getattr(backend, "adds_dashboard", False)),
        )
    seconds["check"] = time.perf_counter() - started
    result.seconds = seconds

    if write and not result.plan.is_empty():
        step("write")
        started = time.perf_counter()
        with gc_paused():
            backend.apply(result.plan)
        result.wrote = True
        seconds["write"] = time.perf_counter() - started
    result.requests = getattr(backend, "requests", None)
    return result


def check_workbook(
    raw: RawWorkbook,
    *,
    lang: Lang | None = None,
    as_of: datetime | None = None,
    assign: bool = False,
    dashboard: bool = False,
) -> SyncResult:
    """Bind, parse and check a workbook read into memory, and plan its write-back.

    Only the result outlives the call: what the rules worked out on the way (owned columns by
    row, columns as arrays) is freed before a write needs the memory.
    """
    binding = bind_workbook(raw.sheets, lang=lang)
    if not any(not b.table.owned for b in binding.tables.values()):
        raise LayoutError(
            f"{raw.source or 'the workbook'}: no tab looks like a salesync tab "
            f"(expected tabs such as 线索跟踪 / 線索跟蹤 / Leads with their headers); "
            f"run 'salesync init' for a blank workbook"
        )
    settings_data, settings, settings_issues = _settings(binding)
    if lang is None and settings.language is not None and settings.language != binding.lang:
        binding = bind_workbook(raw.sheets, lang=settings.language)
        settings_data, settings, settings_issues = _settings(binding)
    lang = binding.lang
    now = as_of or datetime.now(_zone(settings.timezone)).replace(tzinfo=None, microsecond=0)
    ctx = ParseContext(lang=lang, amount_unit=settings.amount_unit, as_of=now.date())
    tables, parse_issues = parse_tables(binding, ctx, skip=frozenset({"settings"}))
    if settings_data is not None:
        tables["settings"] = settings_data
    validation = validate_tables(tables, lang, settings)
    rules, rule_issues = read_rules(tables.get("sla_rules"), lang)
    calendar = business_calendar(settings)
    sla_computed, sla_issues = flag_sla(tables, rules, calendar, now, lang)
    leads = review_leads(tables, lang, now, assign=assign)
    if assign:
        fill_blanks(tables["leads"], leads.computed.get("leads", {}), ("owner", "assigned_at"))
    metrics = compute_metrics(tables, settings, as_of=now, workweeks=_workweeks(calendar, now))
    computed = merge_computed(
        validation.computed, sla_computed, leads.computed, reconciliation_column(metrics, lang)
    )
    issues = (
        binding.issues
        + settings_issues
        + parse_issues
        + validation.issues
        + rule_issues
        + sla_issues
        + leads.issues
        + [metric_issue(p, lang, tables) for p in metrics.problems]
    )
    planned = plan_sync(
        binding, tables, computed, issues, lang, metric_tabs(metrics, lang), dashboard=dashboard
    )
    for data in tables.values():
        data.forget()  # the columns the rules shared
    return SyncResult(
        raw.source,
        lang,
        now,
        planned.issues,
        planned.plan,
        tables,
        settings,
        metrics=metrics,
        referrals=leads.records(),
    )


def _settings(binding: Binding) -> tuple[TableData | None, Settings, list[Issue]]:
    bound = binding.tables.get("settings")
    if bound is None:
        return None, DEFAULT_SETTINGS, []
    data, issues = parse_table(bound, ParseContext(lang=binding.lang))
    keys, values = data.raw.get("key"), data.raw.get("value")
    if keys is None or values is None:
        return data, DEFAULT_SETTINGS, issues
    rows = [
        SettingRow(k, v, row, data.letter("key"), data.letter("value"))
        for row, k, v in zip(data.rows, keys, values, strict=True)
    ]
    settings, found = read_settings(rows, binding.lang, tab=data.tab)
    return data, settings, issues + found


def business_calendar(settings: Settings) -> BusinessCalendar:
    """The working-day calendar the Settings tab describes (invalid values were reported and
    replaced by their defaults when the settings were read)."""
    return BusinessCalendar(
        settings.calendar_region,
        extra_holidays=settings.extra_holidays,
        extra_workdays=settings.extra_workdays,
        business_hours=settings.business_hours,
    )


def _workweeks(calendar: BusinessCalendar, now: datetime) -> Callable[[Period], float]:
    """Working weeks of a quarter for follow-ups per week: its working days up to `now`, / 5
    (an unfinished quarter is not judged on weeks that have not happened)."""

    def weeks(quarter: Period) -> float:
        end = min(quarter.end(), now.date())
        if end < quarter.start():
            return 0.0
        return max(calendar.workdays_between(quarter.start(), end), 1) / 5

    return weeks


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        return ZoneInfo(DEFAULT_SETTINGS.timezone)


def table_titles(lang: Lang) -> list[str]:
    return [t.title(lang) for t in SCHEMA.data_tables]
