"""SALES_* cell functions: thin wrappers over `sync.core`, so a cell and the sync job agree.

With xlwings installed (`pip install 'salesync[excel]'`) the functions are registered as
Excel UDFs; without it they stay plain Python functions.

>>> SALES_BANT_CLASS("是", "Y", "✓", "否")
'B'
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from functools import lru_cache, wraps
from typing import Any, TypeVar

from sync.core.calendar import BusinessCalendar, UnknownRegion
from sync.core.metrics import rates as metric_rates
from sync.core.parse import (
    ParseContext,
    excel_serial_to_datetime,
    is_blank,
    match_choice,
    parse_date_text,
    parse_number_text,
    parse_value,
)
from sync.core.schema import (
    COLLECTIONS,
    LEADS,
    PERFORMANCE,
    SCORING,
    SETTING_KEYS,
    SLA_RULES,
    SLA_UNIT,
    YES_NO,
    Choices,
    Field,
    Kind,
    Lang,
)
from sync.core.scoring import BANT_FIELDS, bant_class
from sync.core.sla import Unit, due_time, evaluate

F = TypeVar("F", bound=Callable[..., Any])
CALENDAR_REGION = next(s for s in SETTING_KEYS if s.key == "calendar_region")

try:  # xlwings is optional; its decorators leave functions callable as plain Python
    import xlwings as xw

    func: Callable[[F], F] = xw.func
    xl_arg: Callable[..., Callable[[F], F]] | None = xw.arg
except ImportError:  # pragma: no cover - depends on the environment
    xl_arg = None

    def func(fn: F) -> F:
        return fn


def labelled(*headers: dict[Lang, str]) -> str:
    """A help text from schema labels: "预算 / 預算 / Budget" (repeats dropped)."""
    parts = [text for h in headers for text in (h[Lang.ZH_HANS], h[Lang.ZH_HANT], h[Lang.EN])]
    return " / ".join(dict.fromkeys(parts))


def choices_help(choices: Choices) -> str:
    return ", ".join(
        dict.fromkeys(text for c in choices.choices for text in (c.key, *c.labels.values()))
    )


def arg_docs(**docs: str) -> Callable[[F], F]:
    """Excel's help for each argument (xlwings `@xw.arg(name, doc=...)`), built from the schema
    so a cell's tooltip and the workbook's headers use the same words; kept on the function as
    `__arg_docs__` too."""

    def decorate(fn: F) -> F:
        fn.__arg_docs__ = docs  # type: ignore[attr-defined]
        if xl_arg is not None:
            for name, doc in docs.items():
                fn = xl_arg(name, doc=doc)(fn)
        return fn

    return decorate


_YES_NO = f"({choices_help(YES_NO)}, ✓/✗)"
_REGION = labelled(CALENDAR_REGION.labels) + ": CN, TW, HK …"
_UNIT = labelled(SLA_RULES.field("unit").headers) + f": {choices_help(SLA_UNIT)}"
_LIMIT = labelled(SLA_RULES.field("limit").headers)
_START = "start: a date, date-time, Excel serial or date text (2026-06-02, 2026年6月2日)"


@func
@arg_docs(
    budget=labelled(LEADS.field("budget").headers) + " " + _YES_NO,
    authority=labelled(LEADS.field("authority").headers) + " " + _YES_NO,
    need_fit=labelled(LEADS.field("need_fit").headers) + " " + _YES_NO,
    timeline=labelled(LEADS.field("timeline").headers) + " " + _YES_NO,
    a_min_yes=labelled(next(s for s in SETTING_KEYS if s.key == "bant_a_min_yes").labels),
    b_min_yes=labelled(next(s for s in SETTING_KEYS if s.key == "bant_b_min_yes").labels),
)
def SALES_BANT_CLASS(
    budget: Any,
    authority: Any,
    need_fit: Any,
    timeline: Any,
    a_min_yes: int = 4,
    b_min_yes: int = 2,
) -> str:
    """BANT class A/B/C from the four yes/no answers (是/否, Y/N, ✓/✗, TRUE/FALSE); "" until
    all four are answered or when one is not a yes/no."""
    answers: list[bool | None] = []
    for name, cell in zip(BANT_FIELDS, (budget, authority, need_fit, timeline), strict=True):
        value, problem = parse_value(cell, LEADS.field(name), ParseContext())
        if problem is not None:
            return ""
        answers.append(value if isinstance(value, bool) else None)
    return bant_class(answers, a_min_yes=int(a_min_yes), b_min_yes=int(b_min_yes)) or ""


# --- working days and SLAs ------------------------------------------------------------------

_CTX = ParseContext()


@lru_cache(maxsize=32)
def _calendar(region: str) -> BusinessCalendar:
    return BusinessCalendar(region or "CN")


class _Bad(Exception):
    """An argument a cell function cannot use: shown as a short text in the cell."""


def _moment(value: Any, what: str, required: bool = True) -> date | datetime | None:
    """A cell as a date or datetime: date cells, Excel serials, ISO or Chinese date text."""
    if is_blank(value):
        if required:
            raise _Bad(f"#{what}?")
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            moment = excel_serial_to_datetime(float(value))
        except ValueError:
            raise _Bad(f"#{what}?") from None
        return moment.date() if moment.time() == time(0) else moment
    if isinstance(value, str):
        found = parse_date_text(value, _CTX)
        if found is not None:
            return found.value
    raise _Bad(f"#{what}?")


def _number(value: Any, what: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        found = parse_number_text(value)
        if found is not None and found.multiplier is None and not found.percent:
            return float(found.value)
    raise _Bad(f"#{what}?")


def _unit(value: Any) -> Unit:
    key = match_choice(str(value), SLA_UNIT) if not is_blank(value) else None
    if key is None:
        raise _Bad("#unit?")
    return Unit(key)


def _region(value: Any) -> BusinessCalendar:
    region = "CN" if is_blank(value) else str(value).strip().upper()
    try:
        return _calendar(region)
    except UnknownRegion:
        raise _Bad("#region?") from None


def _cellwise(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Apply `fn` cell by cell when any argument is a range (a list, or a list of lists),
    broadcasting single values; a bad cell gives its error text, never an exception."""

    def one(*args: Any) -> Any:
        try:
            return fn(*args)
        except _Bad as bad:
            return str(bad)
        except (OverflowError, ValueError):
            return "#range?"

    @wraps(fn)
    def wrapper(*args: Any) -> Any:
        shaped = next((a for a in args if isinstance(a, list | tuple)), None)
        if shaped is None:
            return one(*args)
        if shaped and isinstance(shaped[0], list | tuple):
            rows, cols = len(shaped), len(shaped[0])
            at = _grid_getter
            return [[one(*(at(a, r, c) for a in args)) for c in range(cols)] for r in range(rows)]
        return [
            one(*(a[i] if isinstance(a, list | tuple) else a for a in args))
            for i in range(len(shaped))
        ]

    return wrapper


def _grid_getter(arg: Any, r: int, c: int) -> Any:
    if not isinstance(arg, list | tuple):
        return arg
    row = arg[r] if r < len(arg) else arg[-1]
    if isinstance(row, list | tuple):
        return row[c] if c < len(row) else (row[-1] if len(row) == 1 else None)
    return row  # a one-column range beside a wider one


def _as_day(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


@func
@arg_docs(start=_START, end="end: " + _START.split(": ", 1)[1], region=_REGION)
@_cellwise
def SALES_WORKDAYS(start: Any, end: Any, region: Any = "CN") -> Any:
    """Working days from start to end, both counted, like NETWORKDAYS, on the region's
    official calendar with its makeup working days (调休).

    >>> SALES_WORKDAYS("2026-02-09", "2026-02-28")
    11
    """
    cal = _region(region)
    first, last = _moment(start, "start"), _moment(end, "end")
    return cal.workdays_between(_as_day(first), _as_day(last))  # type: ignore[arg-type]


@func
@arg_docs(start=_START, days="working days (negative: before)", region=_REGION)
@_cellwise
def SALES_WORKDAY(start: Any, days: Any, region: Any = "CN") -> Any:
    """The working day `days` working days after start (before it when negative), like WORKDAY.

    >>> SALES_WORKDAY("2026-02-13", 1), SALES_WORKDAY([["2026-02-13"], ["x"]], 1)
    (datetime.date(2026, 2, 14), [[datetime.date(2026, 2, 14)], ['#start?']])
    """
    cal = _region(region)
    n = _number(days, "days")
    return cal.add_workdays(_as_day(_moment(start, "start")), int(n))  # type: ignore[arg-type]


@func
@arg_docs(start=_START, limit=_LIMIT, unit=_UNIT, region=_REGION)
@_cellwise
def SALES_SLA_DUE(start: Any, limit: Any, unit: Any, region: Any = "CN") -> Any:
    """When something started at `start` is due: `limit` in hours, days, workdays or workhours
    (小时, 天, 工作日, 工作小时). Blank start: blank."""
    cal = _region(region)
    begun = _moment(start, "start", required=False)
    if begun is None:
        return ""
    return due_time(begun, _number(limit, "limit"), _unit(unit), cal)


@func
@arg_docs(
    start=_START,
    done="done: when it was done (blank: not yet)",
    limit=_LIMIT,
    unit=_UNIT,
    as_of="as of (blank: now)",
    region=_REGION,
)
@_cellwise
def SALES_SLA_STATUS(
    start: Any, done: Any, limit: Any, unit: Any, as_of: Any = None, region: Any = "CN"
) -> Any:
    """met, breached, open, overdue or n/a (no start), as of `as_of` (default: now)."""
    cal = _region(region)
    now = _moment(as_of, "as_of", required=False) or datetime.now().replace(microsecond=0)
    now_dt = now if isinstance(now, datetime) else datetime(now.year, now.month, now.day)
    result = evaluate(
        _moment(start, "start", required=False),
        _moment(done, "done", required=False),
        _number(limit, "limit"),
        _unit(unit),
        now_dt,
        cal,
    )
    return result.status.value


# --- performance and evaluation -------------------------------------------------------------


def _amount(value: Any, what: str) -> float | None:
    """A cell's amount (50万 and 1,200 understood); None when blank."""
    if is_blank(value):
        return None
    parsed, problem = parse_value(value, _AMOUNT_FIELD, _CTX)
    if problem is not None or parsed is None:
        raise _Bad(f"#{what}?")
    return float(parsed)  # type: ignore[arg-type]


_AMOUNT_FIELD = Field("amount", Kind.AMOUNT, {lang: "amount" for lang in Lang})


@func
@arg_docs(
    actual=labelled(PERFORMANCE.field("actual_sales").headers),
    target=labelled(PERFORMANCE.field("sales_target").headers),
)
@_cellwise
def SALES_COMPLETION_RATE(actual: Any, target: Any) -> Any:
    """actual ÷ target as a fraction (1.12 is 112%); "" when the target is blank or 0."""
    rate = metric_rates.completion_rate(_amount(actual, "actual"), _amount(target, "target"))
    return "" if rate is None else rate


@func
@arg_docs(
    received=labelled(COLLECTIONS.field("received_amount").headers),
    invoiced=labelled(COLLECTIONS.field("invoice_amount").headers),
)
@_cellwise
def SALES_COLLECTION_RATE(received: Any, invoiced: Any) -> Any:
    """received ÷ invoiced as a fraction; "" when nothing was invoiced."""
    rate = metric_rates.collection_rate(
        _amount(received, "received"), _amount(invoiced, "invoiced")
    )
    return "" if rate is None else rate


@func
@arg_docs(
    actual="actual value",
    target=labelled(SCORING.field("target").headers),
    rule=labelled(SCORING.field("rule").headers) + ": linear, ≥100%:100;≥80%:80;<80%:50",
)
@_cellwise
def SALES_SCORE(actual: Any, target: Any, rule: Any = "linear") -> Any:
    """An indicator's score 0–100: linear min(100, 100·actual/target), or bands such as
    "≥100%:100;≥80%:80;<80%:50"; "#rule?" for a rule it cannot read."""
    text = "linear" if is_blank(rule) else str(rule)
    if metric_rates.parse_scoring_rule(text) is None:
        raise _Bad("#rule?")
    value = metric_rates.score(_number(actual, "actual"), _number(target, "target"), text)
    return "" if value is None else value


@func
@arg_docs(
    scores="scores 0–100 (a range)",
    weights=labelled(SCORING.field("weight").headers) + " (a range: 15%, 0.15 or 15)",
)
def SALES_WEIGHTED_SCORE(scores: Any, weights: Any) -> Any:
    """Σ score × weight over two ranges of the same size (weights as 15%, 0.15 or 15); an
    error text naming the sum when the weights do not add up to 100%."""
    flat_scores = [None if is_blank(s) else s for s in _flatten(scores)]
    flat_weights = [w for w in _flatten(weights)]
    if len(flat_scores) != len(flat_weights):
        return "#size?"
    problem = metric_rates.weights_problem(flat_weights)
    if problem is not None:
        total = problem.params.get("sum")
        return f"#weights={total}" if total else "#weights?"
    try:
        numbers = [None if s is None else _number(s, "score") for s in flat_scores]
    except _Bad as bad:
        return str(bad)
    value = metric_rates.weighted_score(numbers, flat_weights)
    return "" if value is None else value


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return [x for item in value for x in _flatten(item)]
    return [value]
