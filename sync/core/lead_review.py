"""Leads as a whole: who should own the unassigned ones, which leads are one customer, and
which come from (or through) customers already won.

Proposals go into owned columns (建议负责人, 分配依据); only `assign=True` (`run --assign`)
fills the users' own 负责人 and 分配时间, and only where they are blank.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .assign import (
    AssignmentRule,
    Method,
    Proposal,
    Roster,
    parse_assignment_rules,
    propose_owners,
    rule_rows,
)
from .customers import (
    Finding,
    company_keys,
    duplicate_findings,
    finding_issues,
    group_duplicates,
    link_existing_customers,
    referral_counts,
)
from .issues import Issue
from .schema import ASSIGN_METHOD, Lang
from .tables import TableData
from .validate import Computed

_RULE_ROW = {
    Lang.ZH_HANS: "规则第{row}行·{method}",
    Lang.ZH_HANT: "規則第{row}列·{method}",
    Lang.EN: "rule row {row} · {method}",
}
_SAME_CUSTOMER = {Lang.ZH_HANS: "同一客户", Lang.ZH_HANT: "同一客戶", Lang.EN: "same customer"}


def reason(proposal: Proposal, lang: Lang) -> str:
    """Why a rep was proposed, in a few words: the rule's Settings row and its method."""
    if proposal.method is Method.SAME_CUSTOMER or proposal.rule_row is None:
        return _SAME_CUSTOMER[lang]
    method = ASSIGN_METHOD.label(proposal.method.value, lang)
    return _RULE_ROW[lang].format(row=proposal.rule_row, method=method)


@dataclass(slots=True)
class LeadReview:
    computed: Computed = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    referrals: dict[str, int] = field(default_factory=dict)  # referring customer → leads

    def records(self) -> list[dict[str, object]]:
        """Referrals per referring customer, for --json."""
        return [{"customer": name, "referred_leads": n} for name, n in self.referrals.items()]


def review_leads(
    tables: dict[str, TableData], lang: Lang, as_of: datetime, *, assign: bool = False
) -> LeadReview:
    leads = tables.get("leads")
    if leads is None or not len(leads):
        return LeadReview()
    roster = Roster.from_table(tables.get("reps"))
    rules_data = tables.get("assignment_rules")
    findings: list[Finding] = []
    rules: list[AssignmentRule] = []
    if rules_data is not None:
        rules, found = parse_assignment_rules(rule_rows(rules_data), roster)
        # A blank target is already a `required` issue of the rules table.
        findings += [f for f in found if f.code != "assign-rule-no-target"]
    companies = company_keys(leads.column("customer"))
    groups = group_duplicates(leads, companies)
    findings += duplicate_findings(groups)
    proposals, found = propose_owners(leads, roster, rules, duplicates=groups)
    findings += found

    out: dict[str, dict[int, object]] = {
        "suggested_owner": {},
        "suggested_by": {},
        "duplicate_group": {},
        "linked_customer": {},
    }
    for row, proposal in proposals.items():
        why = reason(proposal, lang)
        if assign:
            out.setdefault("owner", {})[row] = proposal.rep
            out.setdefault("assigned_at", {})[row] = as_of
            findings.append(
                Finding(
                    "lead-assigned",
                    "leads",
                    row,
                    "owner",
                    value=proposal.rep,
                    params={"rep": proposal.rep, "reason": why},
                )
            )
        else:
            out["suggested_owner"][row] = proposal.rep
            out["suggested_by"][row] = why
    for group in groups:
        rows = group.rows
        if len(rows) > 1:
            out["duplicate_group"].update(dict.fromkeys(rows, group.keep_row))
    links = link_existing_customers(leads, tables.get("contracts"), companies)
    for row, link in links.items():
        linked = link.existing or link.referred_by
        if linked:
            out["linked_customer"][row] = linked
        if link.referred_by and not link.referrer_known:
            findings.append(
                Finding(
                    "referrer-unknown",
                    "leads",
                    row,
                    "source",
                    value=link.referred_by,
                    params={"value": link.referred_by},
                )
            )
    computed: Computed = {"leads": {k: v for k, v in out.items() if v or not k.startswith("_")}}
    issues = finding_issues(findings, tables, lang)
    return LeadReview(computed, issues, referral_counts(links))
