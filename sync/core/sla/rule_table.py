"""The SLA rules table in Settings: how its rows override and extend the default rules, and
how the defaults are shown there. A bad row is reported, naming its cell, and ignored."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from ..headers import find_table_by_name
from ..issues import Issue, make_issue
from ..parse import match_choice, parse_number_text, render_text
from ..schema import SCHEMA, SLA_UNIT, YES_NO, Choices, Kind, Lang, Table
from ..tables import TableData
from ..text import fold
from .rules import DEFAULT_RULES, SPECIAL_ENDS, Condition, SlaRule, Unit, by_lang

_REASONS: dict[str, dict[Lang, str]] = {
    "table": by_lang("找不到工作表“{value}”", "找不到工作表「{value}」", "no tab “{value}”"),
    "new_needs": by_lang(
        "新规则需要填写适用工作表、开始字段、结束字段、时限和单位",
        "新規則需要填寫適用工作表、開始欄位、結束欄位、時限和單位",
        "a new rule needs its tab, start, end, limit and unit",
    ),
    "start": by_lang(
        "开始字段“{value}”不是该表的日期列",
        "開始欄位「{value}」不是該表的日期欄",
        "start “{value}” is not a date column of that tab",
    ),
    "end": by_lang(
        "结束字段“{value}”不是该表的日期列",
        "結束欄位「{value}」不是該表的日期欄",
        "end “{value}” is not a date column of that tab",
    ),
    "limit": by_lang(
        "时限“{value}”应为不小于 0 的数（按天计时为整数）或该表的数字列",
        "時限「{value}」應為不小於 0 的數（按天計時為整數）或該表的數字欄",
        "limit “{value}” must be a number ≥ 0 (whole for day units) or a number column",
    ),
    "condition": by_lang(
        "条件“{value}”应写成 列名=值（多个值用 / 分隔）或 列名≠值",
        "條件「{value}」應寫成 欄名=值（多個值用 / 分隔）或 欄名≠值",
        "condition “{value}” must read column=value (values split by /) or column≠value",
    ),
}


def _date_fields(table: Table) -> dict[str, str]:
    return {
        fold(s): f.name
        for f in table.fields
        if f.kind in (Kind.DATE, Kind.DATETIME)
        for s in f.spellings()
    }


def _any_field(table: Table) -> dict[str, str]:
    return {fold(s): f.name for f in table.fields for s in f.spellings()}


def _rule_lookup() -> dict[str, SlaRule]:
    return {fold(s): r for r in DEFAULT_RULES for s in (r.id, *r.labels.values())}


def _special_end(text: str, table: str) -> str | None:
    key = fold(text)
    for name, (on, labels, aliases) in SPECIAL_ENDS.items():
        if on == table and key in {fold(s) for s in (name, *labels.values(), *aliases)}:
            return name
    return None


_CONDITION = re.compile(r"^(?P<f>.+?)\s*(?P<op>!=|≠|<>|==|=|\s+in\s+|属于|屬於)\s*(?P<v>.+)$")
_VALUE_SEP = re.compile(r"\s*(?:/|,|，|、|\||或|\bor\b)\s*")


def parse_condition(text: str, table: Table) -> Condition | None:
    """'跟进方式=拜访/会议', 'complexity != complex', 'method in visit, meeting' → a Condition."""
    match = _CONDITION.match(unicodedata.normalize("NFKC", text).strip())
    if match is None:
        return None
    name = _any_field(table).get(fold(match["f"]))
    if name is None:
        return None
    f = table.field(name)
    choices: Choices | None = f.choices if f.kind in (Kind.ENUM, Kind.BOOL) else None
    keys: set[str] = set()
    for part in filter(None, _VALUE_SEP.split(match["v"].strip())):
        if choices is not None:
            key = match_choice(part, choices if f.kind is Kind.ENUM else YES_NO)
            if key is None:
                return None
            keys.add(key)
        else:
            keys.add(fold(part))
    if not keys:
        return None
    negate = match["op"].strip() in ("!=", "≠", "<>")
    return Condition(name, frozenset(keys), negate, {lang: text for lang in Lang})


def read_rules(data: TableData | None, lang: Lang) -> tuple[tuple[SlaRule, ...], list[Issue]]:
    """The defaults, overridden and extended by the rows of the Settings SLA rules table.

    A blank cell keeps the default rule's value; an invalid row is reported (naming its cell)
    and ignored, so the default of that id still applies and the other rules still run.
    """
    rules = {r.id: r for r in DEFAULT_RULES}
    if data is None:
        return tuple(rules.values()), []
    issues: list[Issue] = []
    defaults = _rule_lookup()
    names = [f.name for f in data.bound.table.fields]
    values = {name: data.column(name) for name in names}
    raw = {name: data.raw.get(name, [None] * len(data)) for name in names}
    for i in range(len(data)):
        if any(i in data.bad.get(name, ()) for name in data.bad):
            continue  # a cell that did not parse has been reported already
        rule_text = values["rule"][i]
        if rule_text is None:
            continue
        base = defaults.get(fold(str(rule_text)))

        def bad(reason: str, name: str, value: Any = None, i: int = i, text: Any = rule_text):
            shown = render_text(value if value is not None else raw[name][i] or "")
            issues.append(
                make_issue(
                    "invalid-sla-rule",
                    lang,
                    tab=data.tab,
                    row=data.rows[i],
                    column=data.letter(name),
                    header=data.bound.header_of(name, lang),
                    value=raw[name][i],
                    field=name,
                    table=data.name,
                    params={"rule": text, "reason": _REASONS[reason][lang].format(value=shown)},
                )
            )

        table_text = values["table"][i]
        table: Table | None
        if table_text is not None:
            table = find_table_by_name(str(table_text))
            if table is None or table.section_of is not None or table.owned:
                bad("table", "table")
                continue
        else:
            table = SCHEMA.table(base.table) if base else None
        start, end, limit, unit = (values[n][i] for n in ("start", "end", "limit", "unit"))
        if base is None and (table is None or None in (start, end, limit, unit)):
            bad("new_needs", "rule")
            continue
        assert table is not None
        changes: dict[str, Any] = {"table": table.name}
        if start is not None:
            name = _date_fields(table).get(fold(str(start)))
            if name is None:
                bad("start", "start")
                continue
            changes["start"] = name
        if end is not None:
            name = _date_fields(table).get(fold(str(end))) or _special_end(str(end), table.name)
            if name is None:
                bad("end", "end")
                continue
            changes["end"] = name
        if unit is not None:
            changes["unit"] = Unit(unit)
        if limit is not None:
            parsed_limit = _parse_limit(limit, table)
            if parsed_limit is None:
                bad("limit", "limit")
                continue
            changes["limit"], changes["limit_field"] = parsed_limit
        condition_text = values["condition"][i]
        if condition_text is not None:
            condition = parse_condition(str(condition_text), table)
            if condition is None:
                bad("condition", "condition")
                continue
            changes["condition"] = condition
        if values["enabled"][i] is not None:
            changes["enabled"] = bool(values["enabled"][i])
        if base is not None:
            rule = replace(base, **changes)
            if rule.table != base.table and "start" not in changes:
                bad("new_needs", "rule")
                continue
        else:
            text = str(rule_text)
            rule = SlaRule(id=text, labels={lg: text for lg in Lang}, **changes)
        if (
            rule.limit is not None
            and rule.unit in (Unit.DAYS, Unit.WORKDAYS)
            and rule.limit != int(rule.limit)
        ):
            bad("limit", "limit", rule.limit)
            continue
        rules[rule.id] = rule
    return tuple(rules.values()), issues


def _parse_limit(value: Any, table: Table) -> tuple[float | None, str | None] | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number: float | None = float(value)
    else:
        found = parse_number_text(str(value))
        number = float(found.value) if found is not None and found.multiplier is None else None
    if number is not None:
        return (number, None) if number >= 0 else None
    name = _any_field(table).get(fold(str(value)))
    if name is not None and table.field(name).kind in (Kind.INTEGER, Kind.NUMBER):
        return None, name
    return None


def rule_rows(lang: Lang, rules: Iterable[SlaRule] = DEFAULT_RULES) -> list[list[Any]]:
    """The SLA rules table as a Settings section shows it: header row, then one row a rule."""
    table = SCHEMA.table("sla_rules")
    rows: list[list[Any]] = [[f.headers[lang] for f in table.fields]]
    for rule in rules:
        on = SCHEMA.table(rule.table)
        end = (
            SPECIAL_ENDS[rule.end][1][lang]
            if rule.end in SPECIAL_ENDS
            else on.field(rule.end).headers[lang]
        )
        limit: Any = rule.limit
        if rule.limit_field is not None:
            limit = on.field(rule.limit_field).headers[lang]
        elif isinstance(limit, float) and limit.is_integer():
            limit = int(limit)
        rows.append(
            [
                rule.label(lang),
                on.title(lang),
                on.field(rule.start).headers[lang],
                end,
                limit,
                SLA_UNIT.label(rule.unit.value, lang),
                rule.condition.text.get(lang, "") if rule.condition else "",
                YES_NO.label("yes" if rule.enabled else "no", lang),
            ]
        )
    return rows
