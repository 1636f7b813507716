"""Parsing: raw cell values, the way a spreadsheet reader returns them, into typed values.

Every field has a `Kind`; this module turns whatever people typed into that kind: dates in a
dozen spellings (and Excel serial numbers), amounts written as 50万 or ¥1,200, percentages as
85%, 0.85 or 85, yes/no as 是/否, Y/N or ✓/✗, enumeration values through any alias, periods as
2026-07 or 2026Q3. Nothing raises: a value that cannot be read becomes a `Problem` (an issue code
of `issues.CODES` plus its extra message parameters), and the caller turns it into an issue.

>>> from sync.core.schema import SCHEMA
>>> parse_value("50万", SCHEMA.table("contracts").field("amount"), ParseContext())
(500000.0, None)
>>> parse_value("7月21日", SCHEMA.table("contracts").field("signed_at"), ParseContext())
(datetime.date(2025, 7, 21), Problem(code='year-inferred', params={'year': 2025}))
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from itertools import repeat
from operator import not_
from typing import Any, NamedTuple

import numpy as np

from .model import CellValue, ExcelError
from .schema import YES_NO, Choices, Field, Kind, Lang
from .text import fold

__all__ = [
    "DateText",
    "ParseContext",
    "ParsedColumn",
    "Period",
    "Problem",
    "blank_cells",
    "choice_lookup",
    "excel_serial_to_datetime",
    "find_date_in_text",
    "is_blank",
    "match_choice",
    "parse_column",
    "parse_date_text",
    "parse_number_text",
    "parse_period_text",
    "parse_value",
    "render_text",
]


@dataclass(frozen=True, slots=True)
class ParseContext:
    lang: Lang = Lang.ZH_HANS
    amount_unit: str = "yuan"  # an AMOUNT_UNIT key: "yuan" or "wan_yuan"
    as_of: date = date(2026, 1, 1)  # "today", for dates typed without a year


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a cell did not parse (or, for year-inferred, how it was read)."""

    code: str  # an issues.CODES key
    params: dict[str, object] = field(default_factory=dict)  # extra message parameters


@dataclass(frozen=True, slots=True)
class Period:
    """A calendar month (`month` set), quarter (`quarter` set) or, with neither, a whole year.

    Periods sort by their first day, then by length (2026-07 < 2026Q3 < 2026-08).
    """

    year: int
    month: int | None = None
    quarter: int | None = None

    def __post_init__(self) -> None:
        if self.month is not None and self.quarter is not None:
            raise ValueError("a period is a month or a quarter, not both")
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValueError(f"month {self.month} out of range")
        if self.quarter is not None and not 1 <= self.quarter <= 4:
            raise ValueError(f"quarter {self.quarter} out of range")

    def _first_last_month(self) -> tuple[int, int]:
        if self.month is not None:
            return self.month, self.month
        if self.quarter is not None:
            return 3 * self.quarter - 2, 3 * self.quarter
        return 1, 12

    def start(self) -> date:
        return date(self.year, self._first_last_month()[0], 1)

    def end(self) -> date:
        """The last day, inclusive."""
        last = self._first_last_month()[1]
        if last == 12:
            return date(self.year, 12, 31)
        return date(self.year, last + 1, 1) - timedelta(days=1)

    def contains(self, d: date) -> bool:
        if isinstance(d, datetime):
            d = d.date()
        return self.start() <= d <= self.end()

    def months(self) -> tuple[tuple[int, int], ...]:
        first, last = self._first_last_month()
        return tuple((self.year, m) for m in range(first, last + 1))

    def _key(self) -> tuple[int, int, int]:
        first, last = self._first_last_month()
        return (self.year, first, last - first)

    def __lt__(self, other: Period) -> bool:
        return self._key() < other._key()

    def __le__(self, other: Period) -> bool:
        return self._key() <= other._key()

    def __gt__(self, other: Period) -> bool:
        return self._key() > other._key()

    def __ge__(self, other: Period) -> bool:
        return self._key() >= other._key()

    def __str__(self) -> str:
        if self.month is not None:
            return f"{self.year:04d}-{self.month:02d}"
        if self.quarter is not None:
            return f"{self.year:04d}Q{self.quarter}"
        return f"{self.year:04d}"


@dataclass(slots=True)
class ParsedColumn:
    values: list[object | None]
    problems: dict[int, Problem]  # index into values → its problem


# --- blanks and text ------------------------------------------------------------------------

# Everything str.isspace() knows (full-width space, nbsp, thin spaces …) plus zero-width marks.
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
_WS = "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + _ZERO_WIDTH
_BLANK: tuple[None, None] = (None, None)


def is_blank(value: CellValue) -> bool:
    """None, '' or only white space (full-width and no-break spaces too). A float NaN (what a
    pandas-based reader makes of an empty cell) is blank as well."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip(_WS)
    if isinstance(value, float):
        return value != value
    return False


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text) if not text.isascii() else text


def render_text(value: CellValue) -> str:
    """A non-blank cell as text: numbers without a trailing .0, bools as TRUE/FALSE, dates ISO."""
    if isinstance(value, str):
        return value.strip(_WS)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.hour == value.minute == value.second == value.microsecond == 0:
            return value.date().isoformat()
        if value.second == value.microsecond == 0:
            return value.strftime("%Y-%m-%d %H:%M")
        return value.isoformat(sep=" ", timespec="seconds" if not value.microsecond else "auto")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="seconds" if not value.microsecond else "auto")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return render_text(float(value))
    return str(value).strip(_WS)


# --- Excel serial numbers -------------------------------------------------------------------

_EPOCH_1900 = datetime(1899, 12, 30)
_EPOCH_1904 = datetime(1904, 1, 1)
MAX_SERIAL = 2958465  # 9999-12-31
PLAUSIBLE_SERIALS = (20000, 80000)  # 1954-10-03 … 2119-01-10: a number there in a date column


def excel_serial_to_datetime(serial: float, date1904: bool = False) -> datetime:
    """An Excel date serial as a datetime (fraction → time of day, to the millisecond).

    1900 system: 1 is 1900-01-01; Excel's fictitious 1900-02-29 (serial 60) reads as 1900-02-28,
    the way openpyxl reads it, and serials below 60 are shifted by the missing day.
    """
    if not 0 <= serial <= MAX_SERIAL or serial != serial:
        raise ValueError(f"not an Excel date serial: {serial!r}")
    if date1904:
        epoch = _EPOCH_1904
    else:
        epoch = _EPOCH_1900
        if serial < 60:
            serial += 1
    return epoch + timedelta(milliseconds=round(serial * 86_400_000))


# --- dates ----------------------------------------------------------------------------------


class DateText(NamedTuple):
    """A date read from text: `value` is a datetime when a time was written, else a date."""

    value: date | datetime
    year_inferred: bool = False


_TIME = (
    r"(?:(?:[Tt]|\s+|(?<=[日号])\s*)"
    r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<F>\d{1,6}))?)?)?"
)
_DATE_TEXT = re.compile(
    r"(?:"
    r"(?P<y1>\d{4})\s*(?P<sep>[-/.])\s*(?P<m1>\d{1,2})\s*(?P=sep)\s*(?P<d1>\d{1,2})"
    r"|(?P<y2>\d{4})\s*年\s*(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*[日号]?"
    r"|(?P<y3>\d{4})(?P<m3>\d{2})(?P<d3>\d{2})"
    r"|(?P<m4>\d{1,2})\s*月\s*(?P<d4>\d{1,2})\s*[日号]"
    r")" + _TIME
)
_DATE_IN_TEXT = re.compile(
    r"(?<!\d)(?:"
    r"(?P<y1>\d{4})[-/.](?P<m1>\d{1,2})[-/.](?P<d1>\d{1,2})"
    r"|(?P<y2>\d{4})\s*年\s*(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*[日号]?"
    r"|(?P<m4>\d{1,2})\s*月\s*(?P<d4>\d{1,2})\s*[日号]"
    r")(?!\d)"
)
_INFER_WINDOW = 183  # days: a yearless date further ahead than this is last year's


def _make_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _infer_year(month: int, day: int, as_of: date) -> date | None:
    """This year's date, unless it lies more than half a year ahead: then last year's."""
    this = _make_date(as_of.year, month, day)
    if this is not None and (this - as_of).days <= _INFER_WINDOW:
        return this
    return _make_date(as_of.year - 1, month, day)


def _date_of(match: re.Match[str], as_of: date) -> tuple[date | None, bool]:
    g = match.groupdict()
    for y, m, d in (("y1", "m1", "d1"), ("y2", "m2", "d2"), ("y3", "m3", "d3")):
        if g.get(y) is not None:
            return _make_date(int(g[y]), int(g[m]), int(g[d])), False
    return _infer_year(int(g["m4"]), int(g["d4"]), as_of), True


def parse_date_text(text: str, ctx: ParseContext) -> DateText | None:
    """Text that is a date (and maybe a time of day), or None.

    2026-06-02, 2026/6/2, 2026.6.2, 2026年6月2日 (or 号), 20260602, each optionally followed by a
    time (14:30, 9:05:07, T14:30:00.5); 6月2日 without a year takes ctx.as_of's year, or the year
    before when that would be more than 183 days after as_of. Full-width digits are fine.
    """
    s = _nfkc(text).strip(_WS)
    match = _DATE_TEXT.fullmatch(s)
    if match is None:
        return None
    day, inferred = _date_of(match, ctx.as_of)
    if day is None:
        return None
    if match.group("H") is None:
        return DateText(day, inferred)
    hour, minute = int(match.group("H")), int(match.group("M"))
    second = int(match.group("S") or 0)
    micro = int((match.group("F") or "").ljust(6, "0"))
    if hour > 23 or minute > 59 or second > 59:
        return None
    return DateText(datetime(day.year, day.month, day.day, hour, minute, second, micro), inferred)


def find_date_in_text(text: str, ctx: ParseContext) -> date | None:
    """The first valid date written inside free text ("7月21日再次跟进" → 7/21 of the inferred
    year; "2026-07-21前回复"); None when there is none ("下周")."""
    if not text:
        return None
    s = _nfkc(text)
    for match in _DATE_IN_TEXT.finditer(s):
        day, _ = _date_of(match, ctx.as_of)
        if day is not None:
            return day
    return None


@lru_cache(maxsize=1 << 16)
def _serial_or_compact(number: float) -> datetime | None:
    """A number in a date column: an Excel serial (plausible range only) or 20260602."""
    if number != number or number in (math.inf, -math.inf):
        return None
    low, high = PLAUSIBLE_SERIALS
    if low <= number <= high:
        return excel_serial_to_datetime(number)
    if 19000101 <= number <= 22001231 and number == int(number):
        n = int(number)
        d = _make_date(n // 10000, n // 100 % 100, n % 100)
        return None if d is None else datetime(d.year, d.month, d.day)
    return None


_INVALID_DATE = (None, Problem("invalid-date"))


def _parse_date(
    value: CellValue, f: Field, ctx: ParseContext
) -> tuple[object | None, Problem | None]:
    if isinstance(value, datetime):
        return value.date(), None
    if isinstance(value, date):
        return value, None
    if isinstance(value, str):
        found = parse_date_text(value, ctx)
        if found is None:
            return _INVALID_DATE
        day = found.value
        if isinstance(day, datetime):
            day = day.date()
        return day, (Problem("year-inferred", {"year": day.year}) if found.year_inferred else None)
    if isinstance(value, int | float) and not isinstance(value, bool):
        serial = _serial_or_compact(value)
        return _INVALID_DATE if serial is None else (serial.date(), None)
    return _INVALID_DATE


def _parse_datetime(
    value: CellValue, f: Field, ctx: ParseContext
) -> tuple[object | None, Problem | None]:
    if isinstance(value, datetime):
        return value, None
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day), None
    if isinstance(value, str):
        found = parse_date_text(value, ctx)
        if found is None:
            return _INVALID_DATE
        day = found.value
        moment = day if isinstance(day, datetime) else datetime(day.year, day.month, day.day)
        return moment, (
            Problem("year-inferred", {"year": moment.year}) if found.year_inferred else None
        )
    if isinstance(value, int | float) and not isinstance(value, bool):
        serial = _serial_or_compact(value)
        return _INVALID_DATE if serial is None else (serial, None)
    return _INVALID_DATE


# --- numbers --------------------------------------------------------------------------------


class NumberText(NamedTuple):
    """A number read from text. `multiplier`: the stated unit in yuan (万 → 10000, 元 → 1), or
    None for a bare number; `percent`: a trailing % was written (value not yet divided)."""

    value: Decimal
    multiplier: Decimal | None = None
    percent: bool = False


_NUMBER_TEXT = re.compile(
    r"(?P<s1>[+-]?)"
    r"(?:rmb|cny|¥|\$|人民币)?"
    r"(?P<s2>[+-]?)"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d*)?|\.\d+)"
    r"(?P<exp>e[+-]?\d{1,3})?"
    r"(?P<mult>百万|千万|万|亿|千|k|w)?"
    r"(?P<yuan>元|块钱|块)?"
    r"(?:rmb|cny|人民币)?"
    r"(?P<pct>%)?"
)
_MULTIPLIERS = {
    "百万": Decimal(1_000_000),
    "千万": Decimal(10_000_000),
    "万": Decimal(10_000),
    "w": Decimal(10_000),
    "亿": Decimal(100_000_000),
    "千": Decimal(1_000),
    "k": Decimal(1_000),
}
_SPACES = re.compile(r"\s+")
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
_WAN = Decimal(10_000)


def parse_number_text(text: str) -> NumberText | None:
    """A number typed as text: full-width digits, thousands separators (, ， and spaces),
    currency marks (¥ ￥ $ RMB CNY 人民币 元), a leading sign, a trailing % and the multipliers
    万/w, 亿, 千/k, 百万, 千万. None when it is not a number; the caller decides which of the
    extras its kind accepts."""
    s = _nfkc(text).replace("−", "-").lower()
    s = _SPACES.sub("", s.strip(_WS))
    match = _NUMBER_TEXT.fullmatch(s)
    if match is None:
        return None
    s1, s2, mult, yuan, pct = match.group("s1", "s2", "mult", "yuan", "pct")
    if (s1 and s2) or (pct and (mult or yuan)):
        return None
    try:
        number = Decimal(match.group("num").replace(",", "") + (match.group("exp") or ""))
    except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
        return None
    if (s1 or s2) == "-":
        number = -number
    multiplier = _MULTIPLIERS[mult] if mult else (_ONE if yuan else None)
    return NumberText(number, multiplier, bool(pct))


_INVALID_NUMBER = (None, Problem("invalid-number"))


def _finite(x: float) -> bool:
    return x - x == 0.0  # False for inf and nan


def _cell_number(value: CellValue) -> float | None:
    """A numeric cell (not bool) as a finite float, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) or (
        isinstance(value, numbers.Real) and not isinstance(value, bool)
    ):
        try:
            x = float(value)
        except (OverflowError, TypeError, ValueError):
            return None
        return x if _finite(x) else None
    return None


def _to_float(d: Decimal) -> float | None:
    x = float(d)
    return x if _finite(x) else None


def _parse_number(
    value: CellValue, f: Field, ctx: ParseContext
) -> tuple[object | None, Problem | None]:
    if isinstance(value, str):
        found = parse_number_text(value)
        if found is None or (found.multiplier is not None and found.multiplier != _ONE):
            return _INVALID_NUMBER
        x = _to_float(found.value / _HUNDRED if found.percent else found.value)
    else:
        x = _cell_number(value)
    return _INVALID_NUMBER if x is None else (x, None)


def _parse_amount(
    value: CellValue, f: Field, ctx: ParseContext
) -> tuple[object | None, Problem | None]:
    if isinstance(value, str):
        found = parse_number_text(value)
        if found is None or found.percent:
            return _INVALID_NUMBER
        number = found.value
        if found.multiplier is not None:  # a stated unit: convert into the workbook's
            number *= found.multiplier
            if ctx.amount_unit == "wan_yuan":
                number /= _WAN
        x = _to_float(number)
    else:
        x = _cell_number(value)
    return _INVALID_NUMBER if x is None else (x, None)


def _parse_integer(
    value: CellValue, f: Field, ctx: ParseContext
) -> tuple[object | None, Problem | None]:
    if isinstance(value, int) and not isinstance(value, bool):
        return value, None
    if isinstance(value, str):
        found = parse_number_text(value)
        if (
            found is None
            or found.percent
            or (found.multiplier is not None and found.multiplier != _ONE)
            or found.value != found.value.to_integral_value()
        ):
            return _INVALID_NUMBER
        return int(found.value), None
    x = _cell_number(value)
    if x is None or not x.is_integer():
        return _INVALID_NUMBER
    return int(x), None


def _percent_of(x: float) -> float:
    """85 typed where 85% was meant: a number above 1 and up to 100 is a percentage."""
    return x / 100 if 1 < x <= 100 else x


def _parse_percent(
    value: CellValue, f: Field, ctx: ParseContext
) -> tuple[object | None, Problem | None]:
    if isinstance(value, str):
        found = parse_number_text(value)
        if found is None or (found.multiplier is not None and found.multiplier != _ONE):
            return _INVALID_NUMBER
        if found.percent or _ONE < found.value <= _HUNDRED:
            x = _to_float(found.value / _HUNDRED)
        else:
            x = _to_float(found.value)
    else:
        x = _cell_number(value)
        if x is not None:
            x = _percent_of(x)
    return _INVALID_NUMBER if x is None else (x, None)


# --- text kinds -----------------------------------------------------------------------------


def _parse_text(
    value: CellValue, f: Field, ctx: ParseContext
) -> tuple[object | None, Problem | None]:
    text = render_text(value)
    return (text or None), None


def _parse_id(
    value: CellValue, f: Field, ctx: ParseContext
) -> tuple[object | None, Problem | None]:
    text = render_text(value)
    if text and not text.isascii():
        text = unicodedata.normalize("NFKC", text).strip(_WS)
    return (text or None), None


def _parse_phone(
    value: CellValue, f: Field, ctx: ParseContext
) -> tuple[object | None, Problem | None]:
    if isinstance(value, float) and value.is_integer():
        return str(int(value)), None
    return (render_text(value) or None), None


# --- choices --------------------------------------------------------------------------------


@cache
def choice_lookup(choices: Choices) -> dict[str, str]:
    """fold(spelling) → choice key for every spelling of every choice. Keys and labels win over
    aliases when two choices share a spelling."""
    lookup: dict[str, str] = {}
    for choice in choices.choices:
        for spelling in (choice.key, *choice.labels.values()):
            lookup.setdefault(fold(spelling), choice.key)
    for choice in choices.choices:
        for spelling in choice.aliases:
            lookup.setdefault(fold(spelling), choice.key)
    lookup.pop("", None)
    return lookup


@cache
def _allowed(choices: Choices, lang: Lang) -> str:
    sep = ", " if lang is Lang.EN else "、"
    return sep.join(c.labels[lang] for c in choices.choices)


_DETAIL_SEPARATORS = ("-", "—", "–", ":", "(")  # after NFKC: － → -, ： → :, （ → (


def match_choice(text: str, choices: Choices) -> str | None:
    """The key of the choice `text` spells, or None. With a detail separator, "展会-行业展" is
    the choice 展会 with a detail."""
    lookup = choice_lookup(choices)
    key = lookup.get(fold(text))
    if key is not None or choices.detail_separator is None:
        return key
    s = _nfkc(text)
    cut = len(s)
    for sep in (choices.detail_separator, *_DETAIL_SEPARATORS):
        i = s.find(sep)
        if 0 < i < cut:
            cut = i
    if cut == len(s):
        return None
    return lookup.get(fold(s[:cut]))


def _parse_enum(
    value: CellValue, f: Field, ctx: ParseContext
) -> tuple[object | None, Problem | None]:
    choices = f.choices
    if choices is None:  # a schema mistake; read the value as text rather than fail
        return _parse_text(value, f, ctx)
    text = render_text(value)
    key = match_choice(text, choices)
    if key is None:
        return None, Problem("invalid-choice", {"allowed": _allowed(choices, ctx.lang)})
    return key, None


_INVALID_BOOL = (None, Problem("invalid-bool"))


def _parse_bool(
    value: CellValue, f: Field, ctx: ParseContext
) -> tuple[object | None, Problem | None]:
    if isinstance(value, bool):
        return value, None
    choices = f.choices or YES_NO
    if isinstance(value, str):
        key = match_choice(value, choices)
        if key is None:
            return _INVALID_BOOL
        return key == choices.choices[0].key, None
    x = _cell_number(value)
    if x == 1:
        return True, None
    if x == 0:
        return False, None
    return _INVALID_BOOL


# --- periods --------------------------------------------------------------------------------

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_PERIOD_MONTH = (
    re.compile(r"(\d{4})[-/._](\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月份?"),
    re.compile(r"(\d{4})(\d{2})"),
)
_PERIOD_QUARTER = (
    re.compile(r"(?P<y>\d{4})(?:年|[-/._])?第?q(?P<q>[1-4])"),
    re.compile(r"q(?P<q>[1-4])(?:[-/._,]|年)?(?P<y>\d{4})年?"),
    re.compile(r"(?P<y>\d{4})(?:年|[-/._])?第?(?P<q>[1-4一二三四])季度?"),
)


def parse_period_text(text: str, ctx: ParseContext | None = None) -> Period | None:
    """2026-07, 2026/7, 2026.07, 2026年7月, 202607 (months); 2026Q3, 2026 Q3, 2026-Q3, 2026年Q3,
    2026年第3季度, 2026年三季度, Q3 2026 (quarters); or a full date, meaning its month."""
    s = _SPACES.sub("", _nfkc(text).strip(_WS)).lower()
    for pattern in _PERIOD_MONTH:
        match = pattern.fullmatch(s)
        if match is not None:
            year, month = int(match.group(1)), int(match.group(2))
            return Period(year, month) if 1 <= month <= 12 else None
    for pattern in _PERIOD_QUARTER:
        match = pattern.fullmatch(s)
        if match is not None:
            return Period(int(match.group("y")), quarter=_CN_DIGITS[match.group("q")])
    found = parse_date_text(text, ctx or ParseContext())
    if found is not None and not found.year_inferred:
        return Period(found.value.year, found.value.month)
    return None


_INVALID_PERIOD = (None, Problem("invalid-period"))


def _parse_period(
    value: CellValue, f: Field, ctx: ParseContext
) -> tuple[object | None, Problem | None]:
    if isinstance(value, date):
        return Period(value.year, value.month), None
    if isinstance(value, str):
        period = parse_period_text(value, ctx)
        return _INVALID_PERIOD if period is None else (period, None)
    if isinstance(value, Period):
        return value, None
    x = _cell_number(value)
    if x is not None and x.is_integer() and 190001 <= x <= 220012:
        year, month = divmod(int(x), 100)
        if 1 <= month <= 12:
            return Period(year, month), None
    return _INVALID_PERIOD


# --- dispatch -------------------------------------------------------------------------------

_Parser = Callable[[CellValue, Field, ParseContext], tuple[object | None, Problem | None]]
_PARSERS: dict[Kind, _Parser] = {
    Kind.TEXT: _parse_text,
    Kind.ID: _parse_id,
    Kind.PHONE: _parse_phone,
    Kind.DATE: _parse_date,
    Kind.DATETIME: _parse_datetime,
    Kind.NUMBER: _parse_number,
    Kind.AMOUNT: _parse_amount,
    Kind.PERCENT: _parse_percent,
    Kind.INTEGER: _parse_integer,
    Kind.BOOL: _parse_bool,
    Kind.ENUM: _parse_enum,
    Kind.PERIOD: _parse_period,
}
_EXCEL_ERROR = (None, Problem("excel-error"))


def parse_value(
    value: CellValue, field: Field, ctx: ParseContext
) -> tuple[object | None, Problem | None]:
    """One cell as `field.kind`: (value, None), (None, None) for a blank, (None, problem) when
    it cannot be read, or (value, Problem("year-inferred")) for a date typed without a year.
    Never raises."""
    if is_blank(value):
        return _BLANK
    if isinstance(value, ExcelError):
        return _EXCEL_ERROR
    return _PARSERS[field.kind](value, field, ctx)


# --- columns --------------------------------------------------------------------------------
# A column is parsed one type of cell at a time, in passes that run in C (map, join, dicts,
# numpy) rather than a Python loop per cell. The cells of a big tab are spread over the heap and
# reaching them costs more than the work done on each, so the passes are few.

_NONE = type(None)
_NONE_ONLY = frozenset({_NONE})
# Cell types a kind takes as they are: such a cell is its own parsed value.
_AS_IS: dict[Kind, frozenset[type]] = {
    kind: frozenset({_NONE, *types})
    for kind, types in (
        (Kind.DATE, {date}),
        (Kind.DATETIME, {datetime}),
        (Kind.INTEGER, {int}),
        (Kind.BOOL, {bool}),
        (Kind.PERIOD, {Period}),
    )
}
# Cell types whose equal values parse alike, so that each distinct value is parsed once. Not
# floats of the numeric kinds (-0.0 == 0.0 there parses to two values; they go through numpy),
# nor datetimes with a time zone (equal moments in two zones fall on different days).
_BY_VALUE = frozenset({str, int, bool, date, datetime, float})
_NEVER_BLANK = frozenset({int, bool, date, datetime, time, timedelta, ExcelError})
_NUMERIC = frozenset({Kind.NUMBER, Kind.AMOUNT, Kind.PERCENT})
_TEXTUAL = frozenset({Kind.TEXT, Kind.ID, Kind.PHONE})
_TEXT_OR_NONE = frozenset({str, _NONE})
_NOT_A_NUMBER = _INVALID_NUMBER[1]


def blank_cells(values: Sequence[CellValue]) -> np.ndarray:
    """`is_blank` of every cell, as a boolean array.

    >>> blank_cells(["a", " ", None, 0, float("nan"), "\u3000b"]).tolist()
    [False, True, True, False, True, False]
    """
    try:  # all text, the common case
        return _mask(len(values), _strip_texts(values, _joined(values)).empty)
    except TypeError:  # a cell that is not text
        pass
    types = list(map(type, values))
    blank = np.zeros(len(values), dtype=bool)
    if _one_type(types) in _NEVER_BLANK:
        return blank
    distinct, codes = _distinct(types)  # each cell's type, as a number
    for code, cell_type in enumerate(distinct):
        if cell_type in _NEVER_BLANK:
            continue
        where = np.flatnonzero(codes == code).tolist()
        cells = list(map(values.__getitem__, where))
        if cell_type is _NONE:
            found: Any = True
        elif cell_type is str:
            found = _mask(len(cells), _strip_texts(cells, _joined(cells)).empty)
        elif cell_type is float:
            found = np.isnan(np.fromiter(cells, float, len(cells)))
        else:
            found = np.fromiter(map(is_blank, cells), bool, len(cells))
        blank[where] = found
    return blank


def _mask(size: int, at: np.ndarray) -> np.ndarray:
    """A boolean array of `size`, True at the indices `at`."""
    mask = np.zeros(size, dtype=bool)
    mask[at] = True
    return mask


class _Stripped(NamedTuple):
    texts: list[str]  # every cell stripped of white space
    empty: np.ndarray  # the indices of the empty texts
    ascii: bool  # all cells are ASCII


# Whether a UTF-16 code unit is a character `_WS` strips (all of them lie in the Basic
# Multilingual Plane; the halves of a surrogate pair are not white space).
_IS_WS = np.zeros(0x10000, dtype=bool)
_IS_WS[[ord(c) for c in _WS]] = True


def _strip_texts(cells: Sequence[Any], joined: str) -> _Stripped:
    """`cell.strip(_WS)` of every cell, given the cells joined by NULs.

    Cells spread over the heap cost more to reach than the work done on each, while the joined
    text, in one place and read as code units by numpy, shows which cells are empty or start or
    end with white space. Only those few are stripped; the others are kept as they are (a kind
    of str, np.str_ say, stays one: parsing passes cells of type str only).

    >>> cells = [" a", "", "b", "\u3000"]
    >>> _strip_texts(cells, _joined(cells))
    _Stripped(texts=['a', '', 'b', ''], empty=array([1, 3]), ascii=False)
    """
    units = _code_units(joined)
    nuls = np.flatnonzero(units == 0)
    if nuls.size != len(cells) - 1:  # texts holding NULs, or no text at all
        texts = list(map(str.strip, cells, repeat(_WS)))
        empty = np.flatnonzero(np.fromiter(texts, object, len(texts)) == "")
        return _Stripped(texts, empty, joined.isascii())
    firsts = np.concatenate(([0], nuls + 1))  # where each text starts in `joined`
    ends = np.append(nuls, units.size)  # and where it stops
    filled = np.flatnonzero(firsts < ends)
    edges = units[np.concatenate((firsts[filled], ends[filled] - 1))]
    spaced = _IS_WS[edges].reshape(2, -1).any(axis=0)
    to_strip = filled[spaced].tolist()
    texts = list(cells)
    stripped = list(map(str.strip, map(cells.__getitem__, to_strip), repeat(_WS)))
    _put(texts, to_strip, stripped)
    empty = firsts == ends
    empty[to_strip] = np.fromiter(map(not_, stripped), bool, len(stripped))
    return _Stripped(texts, np.flatnonzero(empty), joined.isascii())


def _joined(cells: Sequence[Any]) -> str:
    """The cells joined by NULs (TypeError when one is not text)."""
    return "\0".join(cells)


def _code_units(text: str) -> np.ndarray:
    """The code units of `text` as an array: bytes when it is ASCII, else UTF-16 (each NUL and
    each `_WS` character one unit)."""
    if text.isascii():
        return np.frombuffer(text.encode("ascii"), np.uint8)
    return np.frombuffer(text.encode("utf-16-le", "surrogatepass"), np.uint16)


def parse_column(values: Sequence[CellValue], field: Field, ctx: ParseContext) -> ParsedColumn:
    """Every cell of a column, as `parse_value` would: cells the kind takes as they are stay,
    text of a text kind is stripped in bulk, floats of a numeric kind go through numpy, and each
    distinct value of the other cells is parsed once (straight away when the column is text,
    else after the cells are told apart by type).

    >>> from sync.core.schema import SCHEMA
    >>> amount = SCHEMA.table("contracts").field("amount")
    >>> column = parse_column(["50万", "x", "50万", None, 3.0], amount, ParseContext())
    >>> column.values, column.problems
    ([500000.0, None, 500000.0, None, 3.0], {1: Problem(code='invalid-number', params={})})
    """
    if field.kind in _TEXTUAL:
        joined = _joined_texts(values)
        if joined is not None:  # all text, the common case
            return ParsedColumn(_parse_texts(values, joined, field.kind), {})
    elif _looks_textual(values):
        distinct, codes = _distinct(values)
        if _TEXT_OR_NONE.issuperset(map(type, distinct)):  # no two types that compare equal
            return ParsedColumn(*_parse_codes(distinct, codes, field, ctx))
    types = list(map(type, values))
    as_is = _AS_IS.get(field.kind, _NONE_ONLY)
    only = _one_type(types)
    if only in as_is:
        return ParsedColumn(list(values), {})
    if only is not None:
        return ParsedColumn(*_parse_cells(only, values, field, ctx))
    distinct, codes = _distinct(types)  # each cell's type, as a number
    if as_is.issuperset(distinct):
        return ParsedColumn(list(values), {})
    out: list[object] = list(values)
    problems: dict[int, Problem] = {}
    for code, cell_type in enumerate(distinct):
        if cell_type in as_is:
            continue
        where = np.flatnonzero(codes == code).tolist()
        cells = list(map(values.__getitem__, where))
        parsed, bad = _parse_cells(cell_type, cells, field, ctx)
        _put(out, where, parsed)
        problems.update({where[i]: problem for i, problem in bad.items()})
    return ParsedColumn(out, dict(sorted(problems.items())))


_BLOCK = 2048  # cells whose objects stay in the CPU cache between two passes over them


def _joined_texts(values: Sequence[CellValue]) -> str | None:
    """The cells joined by NULs when all are of type str, else None.

    A block of cells at a time has its types checked and is joined while its cells are still in
    the CPU cache: reaching them a second time is then nearly free, which two passes over the
    whole column would not be."""
    parts = []
    for start in range(0, len(values), _BLOCK):
        block = values[start : start + _BLOCK]
        if _one_type(list(map(type, block))) is not str:
            return None
        parts.append(_joined(block))
    return "\0".join(parts)


def _looks_textual(values: Sequence[CellValue]) -> bool:
    """Whether cells spread over the column are all text: then most likely all are, and each
    distinct value is worth parsing straight away, without telling types apart first."""
    return all(type(cell) is str for cell in values[:: len(values) // 16 + 1])


def _one_type(types: list[type]) -> type | None:
    """The type of every cell when all are of one type; None when there are several (or none)."""
    if types and types.count(types[0]) == len(types):
        return types[0]
    return None


def _put(items: list[Any], where: list[int], values: Iterable[Any]) -> None:
    """items[where[k]] = values[k] for every k, without a Python loop."""
    deque(map(items.__setitem__, where, values), maxlen=0)


def _parse_cells(
    cell_type: type, cells: Sequence[Any], field: Field, ctx: ParseContext
) -> tuple[list[Any], dict[int, Problem]]:
    """Cells all of `cell_type`, as `parse_value` would: their values and, by index, problems."""
    if cell_type is str and field.kind in _TEXTUAL:
        return _parse_texts(cells, _joined(cells), field.kind), {}
    if cell_type is float and field.kind in _NUMERIC:
        return _parse_numbers(cells, field.kind)
    if cell_type in _BY_VALUE:
        return _parse_distinct(cells, field, ctx)
    return _parse_each(cells, field, ctx)


def _parse_texts(cells: Sequence[Any], joined: str, kind: Kind) -> list[Any]:
    """Cells of type str of a text kind (and the cells joined by NULs): stripped (an id
    NFKC-normalised too), blank as None."""
    texts, empty, ascii = _strip_texts(cells, joined)
    if kind is Kind.ID and not ascii:
        normal = {t: unicodedata.normalize("NFKC", t).strip(_WS) or None for t in set(texts)}
        return list(map(normal.__getitem__, texts))
    out: list[Any] = texts
    _put(out, empty.tolist(), repeat(None))
    return out


def _parse_numbers(cells: Sequence[float], kind: Kind) -> tuple[list[Any], dict[int, Problem]]:
    """Float cells of a numeric kind: finite ones as they are (a percentage above 1 and up to
    100 divided by 100), NaN blank, infinities not a number."""
    numbers = np.fromiter(cells, float, len(cells))
    if kind is Kind.PERCENT:
        values = np.where((numbers > 1) & (numbers <= 100), numbers / 100, numbers).tolist()
    else:
        values = list(cells)
    finite = np.isfinite(numbers)
    if finite.all():
        return values, {}
    _put(values, np.flatnonzero(~finite).tolist(), repeat(None))
    return values, dict.fromkeys(np.flatnonzero(np.isinf(numbers)).tolist(), _NOT_A_NUMBER)


class _Codes(dict[Any, int]):
    """Numbers the distinct cells of a column in the order they first appear."""

    def __missing__(self, cell: Any) -> int:
        code = self[cell] = len(self)
        return code


def _parse_distinct(
    cells: Sequence[Any], field: Field, ctx: ParseContext
) -> tuple[list[Any], dict[int, Problem]]:
    """Cells parsed through `parse_value` once per distinct value (datetimes with a time zone
    one by one)."""
    distinct, codes = _distinct(cells)
    if type(cells[0]) is datetime and any(d.tzinfo is not None for d in distinct):
        return _parse_each(cells, field, ctx)
    return _parse_codes(distinct, codes, field, ctx)


def _distinct(cells: Sequence[Any]) -> tuple[list[Any], np.ndarray]:
    """The distinct cells in the order they first appear, and each cell's index among them."""
    distinct = _Codes()
    codes = np.fromiter(map(distinct.__getitem__, cells), np.intp, len(cells))
    return list(distinct), codes


def _parse_codes(
    distinct: list[Any], codes: np.ndarray, field: Field, ctx: ParseContext
) -> tuple[list[Any], dict[int, Problem]]:
    """Cells given as `distinct[codes]`, each distinct one parsed through `parse_value` once."""
    parsed = [parse_value(cell, field, ctx) for cell in distinct]
    values = np.fromiter((value for value, _ in parsed), object, len(parsed))[codes].tolist()
    bad = [code for code, (_, problem) in enumerate(parsed) if problem is not None]
    if not bad:
        return values, {}
    hit = np.flatnonzero(np.isin(codes, bad))
    return values, {
        i: parsed[code][1] for i, code in zip(hit.tolist(), codes[hit].tolist(), strict=True)
    }


def _parse_each(
    cells: Sequence[Any], field: Field, ctx: ParseContext
) -> tuple[list[Any], dict[int, Problem]]:
    """Cells parsed one by one (types whose equal values may parse differently)."""
    parsed = [parse_value(cell, field, ctx) for cell in cells]
    return [v for v, _ in parsed], {i: p for i, (_, p) in enumerate(parsed) if p is not None}
