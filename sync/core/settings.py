"""The Settings tab: key/value rows managers edit, read into one typed `Settings` record.

Keys are matched like headers (any language, width, case); values are parsed with the same
rules as cells. An invalid value is an issue and the default applies; it never stops a sync.

>>> settings, issues = read_settings([("金额单位", "万元"), ("A类最少是数", "五")], Lang.ZH_HANS)
>>> settings.amount_unit, settings.bant_a_min_yes, [i.code for i in issues]
('wan_yuan', 4, ['invalid-setting'])
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache
from zoneinfo import ZoneInfo

from .issues import Issue, make_issue
from .model import CellValue
from .parse import ParseContext, is_blank, parse_value
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


DEFAULT_SETTINGS = Settings()

_REASONS = {
    Lang.ZH_HANS: ("应为 {allowed}", "应在 {low} 到 {high} 之间", "B类标准不能高于A类标准"),
    Lang.ZH_HANT: ("應為 {allowed}", "應在 {low} 到 {high} 之間", "B類標準不能高於A類標準"),
    Lang.EN: ("use {allowed}", "must be between {low} and {high}", "the B rule exceeds the A rule"),
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
    return parsed, None


def _is_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        return False
    return True


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
