"""Lead assignment: managers' rules in, a proposed owner for every unassigned lead out.

A rule matches on region, industry, product line and source (each a list of values, any of
which matches; blank matches anything) and names a target: reps, teams (from Reps.team), or
both. Its method picks one active rep of the target:

- fixed 固定: the first active rep, in the order the rule lists them (a team in Reps order);
- round_robin 轮流: the next active rep, by name, after the one who got the last lead this
  rule matched, so the same workbook always gives the same proposals and a second run after
  `--assign` carries on where the first stopped;
- fewest_open 最少: the active rep with the fewest open leads (not won or lost), counting the
  proposals already made in this run; ties go to the first by name.

The first matching rule wins; a lead no rule matches gets a finding, never a guess. A lead of a
customer that already has exactly one owner goes to that owner, so no two reps chase one
customer (`duplicates`). Everything here is pure and never raises on bad rows.

>>> roster = Roster.of([("Li Lei", "East", True), ("Han Mei", "East", True)])
>>> rules, problems = parse_assignment_rules([RuleRow(5, {"target": "East", "method": "轮流"})],
...                                          roster)
>>> rules[0].method, sorted(rules[0].reps), problems
(<Method.ROUND_ROBIN: 'round_robin'>, ['Han Mei', 'Li Lei'], [])
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from enum import StrEnum
from functools import partial

import numpy as np
import pandas as pd

from .columns import each_distinct
from .customers import DuplicateGroup, Finding
from .model import CellValue
from .parse import is_blank, match_choice, render_text
from .schema import ASSIGN_METHOD, SOURCE
from .tables import TableData
from .text import fold

__all__ = [
    "ASSIGN_METHOD",
    "AssignmentRule",
    "Method",
    "Proposal",
    "Rep",
    "Roster",
    "RuleRow",
    "parse_assignment_rules",
    "propose_owners",
    "rule_rows",
]

RULES_TABLE = "assignment_rules"
MATCH_FIELDS = ("region", "industry", "product_line", "source")
CLOSED_STAGES = frozenset({"won", "lost"})


class Method(StrEnum):
    FIXED = "fixed"
    ROUND_ROBIN = "round_robin"
    FEWEST_OPEN = "fewest_open"
    SAME_CUSTOMER = "same_customer"  # not a rule method: the customer's existing owner


# A list cell: 华东、华南 / IT;制造 / A, B. "全部" or "*" alone means any value.
_LIST_SPLIT = re.compile(r"[、,;/|\n，；／｜]")
_ANY = frozenset(fold(x) for x in ("全部", "任意", "所有", "不限", "any", "all", "*", "-"))


def split_list(value: CellValue) -> list[str]:
    """The items of a list cell, as typed (trimmed), blanks dropped."""
    if is_blank(value):
        return []
    return [part.strip() for part in _LIST_SPLIT.split(render_text(value)) if part.strip()]


# --- reps -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rep:
    name: str
    team: str | None
    active: bool  # a blank Active cell means active


@dataclass(frozen=True, slots=True)
class Roster:
    """The Reps tab, in its order: who exists, who is in which team, who is active."""

    reps: tuple[Rep, ...]

    @classmethod
    def of(cls, reps: Iterable[tuple[str, str | None, bool | None]]) -> Roster:
        out: dict[str, Rep] = {}
        for name, team, active in reps:
            if is_blank(name):
                continue
            rep = Rep(
                render_text(name),
                None if is_blank(team) else render_text(team),
                active is not False,
            )
            out.setdefault(fold(rep.name), rep)  # a repeated name is the first one's (duplicate-id)
        return cls(tuple(out.values()))

    @classmethod
    def from_table(cls, reps: TableData | None) -> Roster:
        if reps is None:
            return cls(())
        columns = reps.column("name"), reps.column("team"), reps.column("active")
        return cls.of(zip(*columns, strict=True))

    def rep(self, name: str) -> Rep | None:
        key = fold(name)
        return next((r for r in self.reps if fold(r.name) == key), None)

    def team(self, name: str) -> tuple[Rep, ...]:
        key = fold(name)
        return tuple(r for r in self.reps if r.team is not None and fold(r.team) == key)


# --- rules ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleRow:
    """One row of the rules table as typed: field name → raw cell value."""

    row: int
    cells: Mapping[str, CellValue]


def rule_rows(data: TableData) -> list[RuleRow]:
    """The rows of the bound rules table, for `parse_assignment_rules`."""
    names = list(data.raw)
    return [RuleRow(row, {n: data.raw[n][i] for n in names}) for i, row in enumerate(data.rows)]


@dataclass(frozen=True, slots=True)
class AssignmentRule:
    """A parsed rule. Matchers hold folded values (source: SOURCE keys); empty matches any."""

    row: int
    region: frozenset[str] = frozenset()
    industry: frozenset[str] = frozenset()
    product_line: frozenset[str] = frozenset()
    source: frozenset[str] = frozenset()
    target: str = ""  # as typed
    reps: tuple[str, ...] = ()  # every rep the target names, in order, active or not
    method: Method = Method.FIXED


def _matcher(items: list[str], name: str, row: int, findings: list[Finding]) -> frozenset[str]:
    keys: set[str] = set()
    for item in items:
        key = fold(item)
        if key in _ANY:
            return frozenset()  # "全部" among others still means any
        if name == "source":
            choice = match_choice(item, SOURCE)
            if choice is None:
                findings.append(
                    Finding("assign-rule-unknown-source", RULES_TABLE, row, "source", item)
                )
            else:
                key = choice
        keys.add(key)
    return frozenset(keys)


def parse_assignment_rules(
    rows: Iterable[RuleRow], roster: Roster
) -> tuple[list[AssignmentRule], list[Finding]]:
    """Rules in table order, and what is wrong with the rest.

    A rule without a target, with a target that is neither a rep nor a team, or with an unknown
    method is left out (an error finding). A blank method means fixed for one rep, round robin
    for a team or several reps. A name that is both a rep and a team is the rep.
    """
    rules: list[AssignmentRule] = []
    findings: list[Finding] = []
    for item in rows:
        cells, row = item.cells, item.row
        targets = split_list(cells.get("target"))
        if not targets:
            findings.append(Finding("assign-rule-no-target", RULES_TABLE, row, "target"))
            continue
        reps: list[str] = []
        unknown = []
        for target in targets:
            rep = roster.rep(target)
            team = roster.team(target)
            if rep is not None:
                reps.append(rep.name)
            elif team:
                reps.extend(r.name for r in team)
            else:
                unknown.append(target)
        if unknown:
            findings.append(
                Finding(
                    "assign-rule-unknown-target",
                    RULES_TABLE,
                    row,
                    "target",
                    "、".join(unknown),
                )
            )
            continue
        reps = list(dict.fromkeys(reps))
        method_cell = cells.get("method")
        if is_blank(method_cell):
            single = len(targets) == 1 and roster.rep(targets[0]) is not None
            method = Method.FIXED if single else Method.ROUND_ROBIN
        else:
            key = match_choice(render_text(method_cell), ASSIGN_METHOD)
            if key is None:
                findings.append(
                    Finding("assign-rule-unknown-method", RULES_TABLE, row, "method", method_cell)
                )
                continue
            method = Method(key)
        matchers = {
            name: _matcher(split_list(cells.get(name)), name, row, findings)
            for name in MATCH_FIELDS
        }
        rules.append(
            AssignmentRule(
                row=row,
                target=render_text(cells.get("target")),
                reps=tuple(reps),
                method=method,
                **matchers,
            )
        )
    return rules, findings


# --- proposals ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Proposal:
    """The owner proposed for one lead, and why."""

    rep: str
    rule_row: int | None  # None for Method.SAME_CUSTOMER
    method: Method


def _match_columns(leads: TableData) -> dict[str, list[str | None]]:
    """Per field rules match on, every lead's folded value; the source as its key (or, when it
    did not parse, the folded text typed). Each distinct value is folded once."""
    columns = {
        name: each_distinct(leads.column(name), _folded)
        for name in MATCH_FIELDS
        if name != "source"
    }
    sources = np.asarray(leads.column("source"), dtype=object)
    unread = np.flatnonzero(pd.isna(sources))
    raw = leads.raw.get("source")
    if raw is not None and len(unread):
        sources[unread] = each_distinct([raw[i] for i in unread.tolist()], _folded)
    columns["source"] = sources.tolist()
    return columns


def _folded(cells: list[CellValue]) -> list[str | None]:
    """Each cell folded; None for a blank one."""
    return [None if is_blank(cell) else fold(render_text(cell)) for cell in cells]


def _first_rules(leads: TableData, rules: Sequence[AssignmentRule]) -> np.ndarray:
    """Per lead, the index of the first rule it matches, or -1."""
    first = np.full(len(leads), -1)
    if not rules:
        return first
    columns = {
        name: pd.Series(values, dtype=object) for name, values in _match_columns(leads).items()
    }
    for r in reversed(range(len(rules))):
        matches = np.ones(len(leads), dtype=bool)
        for name in MATCH_FIELDS:
            wanted: frozenset[str] = getattr(rules[r], name)
            if wanted:
                matches &= columns[name].isin(wanted).to_numpy()
        first[matches] = r
    return first


@dataclass(slots=True)
class _State:
    """What the run has decided so far: open leads per rep, the last rep of each rule."""

    open_counts: dict[str, int] = dataclass_field(default_factory=lambda: defaultdict(int))
    last_rep: dict[int, str] = dataclass_field(default_factory=dict)


def propose_owners(
    leads: TableData,
    roster: Roster,
    rules: Sequence[AssignmentRule],
    *,
    duplicates: Iterable[DuplicateGroup] = (),
) -> tuple[dict[int, Proposal], list[Finding]]:
    """A proposed owner for every lead whose owner is blank, keyed by spreadsheet row.

    Leads are taken in order of creation (then row). With no rules at all nothing is proposed
    and nothing reported: the team does not assign through salesync.
    """
    owners = leads.column("owner")
    blank = np.array(each_distinct(owners, _blanks), dtype=bool)
    if not blank.any() or not (rules or duplicates):
        return {}, []
    reps = pd.Series(each_distinct(owners, partial(_rep_names, roster)), dtype=object)
    stages = leads.column("stage")
    first_rule = _first_rules(leads, rules)
    created = leads.moments("created_at")
    state = _State()
    is_open = ~pd.Series(stages, dtype=object).isin(CLOSED_STAGES).to_numpy()
    state.open_counts.update({name: int(n) for name, n in reps[is_open].value_counts().items()})
    _remember_last_reps(leads, rules, reps, first_rule, created, state)
    group_of = {row: g for g, group in enumerate(duplicates) for row in group.rows}
    group_owner = _group_owners(duplicates, roster)

    proposals: dict[int, Proposal] = {}
    findings: list[Finding] = []
    unassigned = np.flatnonzero(blank)
    when = (np.asarray(leads.rows), created.view("int64"), np.isnat(created))  # primary last
    in_order = unassigned[np.lexsort(tuple(key[unassigned] for key in when))]
    rule_of = first_rule.tolist()
    for i in in_order.tolist():
        row = leads.rows[i]
        group = group_of.get(row)
        owner = group_owner.get(group) if group is not None else None
        if owner is not None:
            proposal = Proposal(owner, None, Method.SAME_CUSTOMER)
        else:
            if rule_of[i] < 0:
                if rules:
                    findings.append(_no_rule(leads, i))
                continue
            rule = rules[rule_of[i]]
            rep_name = _pick(rule, roster, state)
            if rep_name is None:
                findings.append(
                    Finding(
                        "assign-no-active-rep",
                        "leads",
                        row,
                        "owner",
                        params={"rule_row": rule.row, "target": rule.target},
                    )
                )
                continue
            proposal = Proposal(rep_name, rule.row, rule.method)
            state.last_rep[rule.row] = rep_name
            if group is not None and group not in group_owner:
                group_owner[group] = rep_name  # the rest of this new customer's leads follow
        proposals[row] = proposal
        if stages[i] not in CLOSED_STAGES:
            state.open_counts[proposal.rep] += 1
    return proposals, findings


def _blanks(cells: list[CellValue]) -> list[bool]:
    return [is_blank(cell) for cell in cells]


def _rep_names(roster: Roster, cells: list[CellValue]) -> list[str | None]:
    """The roster name of each owner cell; None when blank or not a rep."""
    found = (None if is_blank(cell) else roster.rep(render_text(cell)) for cell in cells)
    return [None if rep is None else rep.name for rep in found]


def _group_owners(groups: Iterable[DuplicateGroup], roster: Roster) -> dict[int, str | None]:
    """Per duplicate group, its one active owner; None when it has several (a conflict) or its
    owner is inactive, so its unassigned leads go through the rules instead."""
    out: dict[int, str | None] = {}
    for g, group in enumerate(groups):
        owners = group.owners
        if not owners:
            continue
        rep = roster.rep(owners[0]) if len(owners) == 1 else None
        out[g] = rep.name if rep is not None and rep.active else None
    return out


def _remember_last_reps(
    leads: TableData,
    rules: Sequence[AssignmentRule],
    reps: pd.Series,
    first_rule: np.ndarray,
    created: np.ndarray,
    state: _State,
) -> None:
    """For each round-robin rule, the rep (one of its own) of the latest assigned lead it
    matches: the latest assignment time, then creation time, then row."""
    if not any(r.method is Method.ROUND_ROBIN for r in rules):
        return
    assigned = leads.moments("assigned_at")
    # sort keys, primary last; a blank time is the earliest (NaT is the smallest int64)
    latest_last = (np.asarray(leads.rows), created.view("int64"), assigned.view("int64"))
    for r, rule in enumerate(rules):
        if rule.method is not Method.ROUND_ROBIN:
            continue
        # assigned by hand outside the rule's reps: says nothing of its rotation
        found = np.flatnonzero((first_rule == r) & reps.isin(rule.reps).to_numpy())
        if len(found):
            latest = found[np.lexsort(tuple(key[found] for key in latest_last))[-1]]
            state.last_rep[rule.row] = reps.iat[latest]


def _by_name(names: Iterable[str]) -> list[str]:
    return sorted(names, key=lambda n: (fold(n), n))


def _pick(rule: AssignmentRule, roster: Roster, state: _State) -> str | None:
    active = [n for n in rule.reps if (rep := roster.rep(n)) is not None and rep.active]
    if not active:
        return None
    if rule.method is Method.FIXED:
        return active[0]
    ordered = _by_name(active)
    if rule.method is Method.FEWEST_OPEN:
        return min(ordered, key=lambda n: state.open_counts[n])  # min keeps the first of ties
    last = state.last_rep.get(rule.row)
    if last is None:
        return ordered[0]
    # The next by name after the last one, even when the last one is inactive now.
    key = (fold(last), last)
    return next((n for n in ordered if (fold(n), n) > key), ordered[0])


def _no_rule(leads: TableData, i: int) -> Finding:
    params = {}
    for name in MATCH_FIELDS:
        raw = leads.raw[name][i] if name in leads.raw else None
        params[name] = "" if is_blank(raw) else render_text(raw)
    return Finding("assign-no-rule", "leads", leads.rows[i], "owner", params=params)
