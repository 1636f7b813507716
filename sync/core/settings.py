"""The Settings tab: key/value rows managers edit, read into one typed `Settings` record.

Keys are matched like headers (any language, width, case); values are parsed with the same
rules as cells. An invalid value is an issue and the default applies; it never stops a sync.

>>> settings, issues = read_settings([("金额单位", "万元"), ("A类最少是数", "五")], Lang.ZH_HANS)
>>> settings.amount_unit, settings.bant_a_min_yes, [i.code for i in issues]
('wan_yuan', 4, ['invalid-setting'])
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from .calendar import DEFAULT_BUSINESS_HOURS, is_known_region
from .issues import Issue, make_issue
from .model import CellValue
from .parse import ParseContext, is_blank, parse_date_text, parse_value
from .schema import SETTING_KEYS, Field, Lang, Setting
from .text import fold


@dataclass(frozen=True, slots=True)
class Settings:
    language: Lang | None = None  # None: detected from the headers
    amount_unit: str = "yuan"
    timezone: str = "Asia/Shanghai"
    calendar_region: str = "CN"
    bant_a_min_yes: int = 4
    bant_b_min_yes: int = 2
    business_hours: tuple[time, time] = DEFAULT_BUSINESS_HOURS
    extra_holidays: tuple[date, ...] = ()
    extra_workdays: tuple[date, ...] = ()


DEFAULT_SETTINGS = Settings()

_REASONS = {
    Lang.ZH_HANS: ("应为 {allowed}", "应在 {low} 到 {high} 之间", "B类标准不能高于A类标准"),
    Lang.ZH_HANT: ("應為 {allowed}", "應在 {low} 到 {high} 之間", "B類標準不能高於A類標準"),
    Lang.EN: ("use {allowed}", "must be between {low} and {high}", "the B rule exceeds the A rule"),
}
_EXAMPLES = {
    "calendar_region": "CN, TW, HK, SG …",
    "business_hours": "09:00-18:00",
    "extra_holidays": "2026-12-24, 2026-12-30~2026-12-31",
    "extra_workdays": "2026-12-26",
}


@cache
def _setting_lookup() -> dict[str, Setting]:
    return {fold(s): setting for setting in SETTING_KEYS for s in setting.spellings()}


def find_setting(key: str) -> Setting | None:
    return _setting_lookup().get(fold(key))


@dataclass(frozen=True, slots=True)
class SettingRow:
    key: CellValue
    value: CellValue
    row: int | None = None
    key_column: str | None = None
    value_column: str | None = None


def read_settings(
    rows: Iterable[tuple[CellValue, CellValue] | SettingRow], lang: Lang, *, tab: str = "Settings"
) -> tuple[Settings, list[Issue]]:
    """Settings from (key, value) rows; unknown keys and bad values become issues."""
    values: dict[str, object] = {}
    issues: list[Issue] = []
    ctx = ParseContext(lang=lang)
    for item in rows:
        row = item if isinstance(item, SettingRow) else SettingRow(*item)
        if is_blank(row.key):
            continue
        key_text = str(row.key).strip()
        setting = find_setting(key_text)
        if setting is None:
            issues.append(
                make_issue(
                    "unknown-setting",
                    lang,
                    tab=tab,
                    row=row.row,
                    column=row.key_column,
                    value=key_text,
                )
            )
            continue
        if is_blank(row.value):
            continue  # the default applies
        parsed, reason = _parse_setting(setting, row.value, ctx)
        if reason is None:
            values[setting.key] = parsed
        else:
            issues.append(
                make_issue(
                    "invalid-setting",
                    lang,
                    tab=tab,
                    row=row.row,
                    column=row.value_column,
                    header=setting.labels[lang],
                    value=row.value,
                    params={"key": setting.labels[lang], "reason": reason},
                )
            )
    settings = replace(DEFAULT_SETTINGS, **values)  # type: ignore[arg-type]
    if settings.bant_b_min_yes > settings.bant_a_min_yes:
        issues.append(
            make_issue(
                "invalid-setting",
                lang,
                tab=tab,
                value=settings.bant_b_min_yes,
                header=_label("bant_b_min_yes", lang),
                params={"key": _label("bant_b_min_yes", lang), "reason": _REASONS[lang][2]},
            )
        )
        settings = replace(
            settings,
            bant_a_min_yes=DEFAULT_SETTINGS.bant_a_min_yes,
            bant_b_min_yes=DEFAULT_SETTINGS.bant_b_min_yes,
        )
    return settings, issues


def _label(key: str, lang: Lang) -> str:
    return next(s.labels[lang] for s in SETTING_KEYS if s.key == key)


def _parse_setting(
    setting: Setting, value: CellValue, ctx: ParseContext
) -> tuple[object, str | None]:
    as_field = Field(setting.key, setting.kind, setting.labels, choices=setting.choices)
    parsed, problem = parse_value(value, as_field, ctx)
    reasons = _REASONS[ctx.lang]
    if problem is not None or parsed is None:
        if setting.choices is not None:
            sep = ", " if ctx.lang is Lang.EN else "、"
            allowed = sep.join(c.labels[ctx.lang] for c in setting.choices.choices)
        else:
            allowed = {"integer": "0–4"}.get(setting.kind.value, setting.kind.value)
        return None, reasons[0].format(allowed=allowed)
    if isinstance(parsed, int | float) and (
        (setting.minimum is not None and parsed < setting.minimum)
        or (setting.maximum is not None and parsed > setting.maximum)
    ):
        return None, reasons[1].format(low=_num(setting.minimum), high=_num(setting.maximum))
    if setting.key == "language":
        return Lang(str(parsed)), None
    if setting.key == "timezone" and not _is_timezone(str(parsed)):
        return None, reasons[0].format(allowed="Asia/Shanghai, Asia/Taipei, Asia/Hong_Kong …")
    if setting.key in _EXAMPLES:
        special = _SPECIAL[setting.key](str(parsed), ctx)
        if special is None:
            return None, reasons[0].format(allowed=_EXAMPLES[setting.key])
        return special, None
    return parsed, None


def _region(text: str, ctx: ParseContext) -> str | None:
    code = text.strip().upper()
    return code if is_known_region(code) else None


_HOURS = re.compile(
    r"^\s*(\d{1,2})(?:[:：](\d{2}))?\s*(?:-|~|–|—|至|到)\s*(\d{1,2})(?:[:：](\d{2}))?\s*$"
)


def parse_business_hours(text: str, ctx: ParseContext | None = None) -> tuple[time, time] | None:
    """'09:00-18:00', '9-18', '9:30～17:30' → (start, end); None when it is not such a span."""
    match = _HOURS.match(unicodedata.normalize("NFKC", text))
    if match is None:
        return None
    h1, m1, h2, m2 = (int(g) if g else 0 for g in match.groups())
    if not (h1 < 24 and h2 <= 24 and m1 < 60 and m2 < 60):
        return None
    start, end = time(h1, m1), time(23, 59) if h2 == 24 else time(h2, m2)
    return (start, end) if start < end else None


_DATE_SEPARATORS = re.compile(r"[,，、;；\s]+")
_RANGE = re.compile(r"\s*(?:~|～|至|到|—|–)\s*")


def parse_date_list(text: str, ctx: ParseContext | None = None) -> tuple[date, ...] | None:
    """'2026-12-24, 2026/12/30~2026/12/31' → the days listed; None when a part is not a date."""
    ctx = ctx or ParseContext()
    days: list[date] = []
    text = _RANGE.sub("~", unicodedata.normalize("NFKC", text).strip())
    for part in filter(None, _DATE_SEPARATORS.split(text)):
        found = [parse_date_text(p, ctx) for p in part.split("~")]
        ends = [_as_day(e.value) for e in found if e is not None]
        if len(ends) != len(found) or len(ends) > 2:
            return None
        first, last = ends[0], ends[-1]
        if last < first or (last - first).days > 366:
            return None
        days += [first + timedelta(days=k) for k in range((last - first).days + 1)]
    return tuple(sorted(set(days)))


def _as_day(value: date) -> date:
    return value if type(value) is date else date(value.year, value.month, value.day)


_SPECIAL: dict[str, Callable[[str, ParseContext], object]] = {
    "calendar_region": _region,
    "business_hours": parse_business_hours,
    "extra_holidays": parse_date_list,
    "extra_workdays": parse_date_list,
}


def _is_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        return False
    return True


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
