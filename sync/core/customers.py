"""Customers: one company however it is typed, duplicate leads, repeat and referral business.

`company_key` reduces a company name to what identifies it: width, case, script (traditional →
simplified), spaces, punctuation, bracketed parts such as （上海）, and legal suffixes
(有限公司, 有限責任公司, Co., Ltd. …) aside. `contact_keys` does the same for the phone numbers
and e-mail addresses of a contact cell. Leads sharing any key are one customer
(`group_duplicates`); a lead whose company already signed a contract, or who was referred by
such a customer, is linked to it (`link_existing_customers`).

Everything here is pure: typed tables in, records and `Finding`s out; nothing raises on a bad row.

>>> company_key("深圳市甲科技有限責任公司") == company_key("深圳市 甲科技") == "深圳市甲科技"
True
>>> sorted(contact_keys("+86 138-1234-5678 / 0755-8888 1234"))
['075588881234', '13812345678']
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from .issues import Issue, make_issue
from .model import CellValue
from .parse import is_blank, render_text
from .schema import Lang, Severity
from .tables import TableData
from .text import _T2S, fold

__all__ = [
    "DuplicateGroup",
    "Finding",
    "LinkedCustomer",
    "company_key",
    "company_keys",
    "contact_keys",
    "duplicate_findings",
    "finding_issue",
    "group_duplicates",
    "link_existing_customers",
    "referral_counts",
    "referral_detail",
]


# --- findings -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem found by a rule, before it becomes an `Issue`: where it is and its parameters.

    `code` is an `issues.CODES` key; `row` the spreadsheet row; `field` the canonical field, whose
    column and header `finding_issue` looks up in the bound table.
    """

    code: str
    table: str
    row: int | None
    field: str | None = None
    value: CellValue = None
    params: Mapping[str, Any] = dataclass_field(default_factory=dict)
    severity: Severity | None = None  # None: the code's default


def finding_issue(finding: Finding, tables: Mapping[str, TableData], lang: Lang) -> Issue:
    """The issue a finding becomes, located in its tab, column and header."""
    data = tables.get(finding.table)
    tab, column, header = finding.table, None, None
    if data is not None:
        tab = data.tab
        if finding.field is not None and data.has(finding.field):
            column = data.letter(finding.field)
            header = data.bound.header_of(finding.field, lang)
    return make_issue(
        finding.code,
        lang,
        tab=tab,
        row=finding.row,
        column=column,
        header=header,
        value=finding.value,
        params=finding.params,
        severity=finding.severity,
        field=finding.field,
        table=finding.table,
    )


# --- company names --------------------------------------------------------------------------

# Brackets anywhere: （上海） and (Shanghai) name a branch or a region, not another company.
_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕|<[^<>]*>|《[^《》]*》")
# After NFKC and t2s; longest first so 股份有限公司 is not cut at 有限公司.
_ZH_SUFFIXES = tuple(
    sorted(
        (
            "集团股份有限公司",
            "股份有限公司",
            "有限责任公司",
            "集团有限公司",
            "控股有限公司",
            "有限公司",
            "股份公司",
            "集团公司",
            "总公司",
            "公司",
            "株式会社",
            "有限会社",
            "合同会社",
            "集团",
            "控股",
        ),
        key=len,
        reverse=True,
    )
)
_ZH_PREFIXES = ("株式会社", "有限会社")
# Whole words only, so "Zinc" keeps its "inc" and "Costco" its "co".
_EN_SUFFIXES = frozenset(
    (
        "co",
        "company",
        "ltd",
        "limited",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "llc",
        "llp",
        "lp",
        "plc",
        "gmbh",
        "ag",
        "sa",
        "sas",
        "srl",
        "bv",
        "nv",
        "pte",
        "pty",
        "pvt",
        "sdn",
        "bhd",
        "kk",
        "oy",
        "ab",
        "as",
        "group",
        "holding",
        "holdings",
    )
)


def _is_separator(ch: str) -> bool:
    """Punctuation, symbols and spaces: they separate words but never identify a company."""
    return ch.isspace() or unicodedata.category(ch)[0] in "PSZC"


class _Separators(dict[int, str]):
    """A `str.translate` table that turns every separator into a space, learning each character
    the first time it is seen (so a name costs one C-level pass, not a call per character)."""

    def __missing__(self, code: int) -> str:
        found = " " if _is_separator(chr(code)) else chr(code)
        self[code] = found
        return found


_SEPARATORS = _Separators()


def _normalise(text: str) -> str:
    out = unicodedata.normalize("NFKC", text)
    out = _T2S.convert(out).casefold()
    return unicodedata.normalize("NFKC", out)


def _strip_zh(word: str) -> str:
    """Legal suffixes (and 株式会社 prefixes) off one word, never down to nothing."""
    if not word.endswith(_ZH_SUFFIXES) and not word.startswith(_ZH_PREFIXES):
        return word  # most words: nothing to strip
    while True:
        suffix = next((x for x in _ZH_SUFFIXES if word.endswith(x)), "")
        prefix = next((x for x in _ZH_PREFIXES if word.startswith(x)), "")
        if suffix and len(word) > len(suffix):
            word = word[: -len(suffix)]
        elif prefix and len(word) > len(prefix):
            word = word[len(prefix) :]
        else:
            return word


def _key_once(text: str) -> str:
    out = _normalise(text)
    while True:  # nested brackets: innermost first
        stripped = _BRACKETS.sub(" ", out)
        if stripped == out:
            break
        out = stripped
    words = out.translate(_SEPARATORS).split()
    while len(words) > 1:  # a lone word stays, even "Limited": never reduce a name to nothing
        last = words[-1]
        if last in _EN_SUFFIXES or last in _ZH_SUFFIXES:
            words.pop()
            continue
        stripped = _strip_zh(last)
        if stripped == last:
            break
        words[-1] = stripped
    if len(words) > 1 and words[0] in _ZH_PREFIXES:
        words.pop(0)
    return _strip_zh("".join(words))


def company_key(name: CellValue) -> str:
    """What identifies a company, for comparison; idempotent; blank for a blank cell.

    A name that is nothing but a suffix or punctuation ("有限公司", "()") keeps its folded form
    rather than becoming empty, so it matches only names written the same way.

    >>> company_key("ＡＢＣ Co., Ltd.") == company_key("abc co ltd") == "abc"
    True
    """
    if is_blank(name):
        return ""
    return _company_key(render_text(name))


@lru_cache(maxsize=65536)
def _company_key(text: str) -> str:
    key = _key_once(text)
    for _ in range(4):  # script conversion can expose a suffix: settle on a fixed point
        again = _key_once(key) if key else key
        if again == key:
            break
        key = again
    if key:
        return key
    return "".join(c for c in fold(text) if not c.isspace()) or text.strip()


# --- phones and e-mails ---------------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+\-']+@[\w\-]+(?:\.[\w\-]+)+", re.UNICODE)
_NUMBER_SEPARATORS = re.compile(r"[,;/、|\n\r]|\s(?:or|或|或者)\s")
# An extension is not part of the number people share: 0755-88881234转808, ext. 12, x12.
_EXTENSION = re.compile(r"(?:转|轉|分机|分機|ext\.?|x|#)\s*\d+\s*$", re.IGNORECASE)
# A cell that is nothing but ASCII digits and dashes: no e-mail, no separator, no extension,
# one token, so the general path below would read exactly its digits as one number.
_PLAIN_NUMBER = re.compile(r"[0-9][0-9-]*")
MIN_PHONE_DIGITS = 7  # fewer digits (110, an extension alone) identify no one


def _phone_key(digits: str) -> str | None:
    had_country = False
    if digits.startswith("0086") and len(digits) > 11:
        digits, had_country = digits[4:], True
    elif digits.startswith("86") and len(digits) >= 12:
        digits, had_country = digits[2:], True
    # +86 drops the trunk 0 of a landline's area code: +86 755 … is 0755 …
    if had_country and not digits.startswith(("0", "1")):
        digits = "0" + digits
    return digits if len(digits) >= MIN_PHONE_DIGITS else None


def _phones(piece: str) -> Iterable[str]:
    """Numbers of one piece; spaces split numbers only between two complete ones."""
    current = ""
    for token in piece.split():
        token = _EXTENSION.sub("", token)
        digits = "".join(c for c in token if c.isdigit())
        if not digits:
            continue
        if len(current) >= MIN_PHONE_DIGITS and len(digits) >= MIN_PHONE_DIGITS:
            yield current
            current = digits
        else:
            current += digits
    if current:
        yield current


def contact_keys(value: CellValue) -> set[str]:
    """The phone numbers (digits only, +86/0086 dropped) and e-mails (lower case) of a cell.

    >>> sorted(contact_keys("0086 13812345678；Li.Lei@Example.COM"))
    ['13812345678', 'li.lei@example.com']
    """
    if is_blank(value):
        return set()
    text = unicodedata.normalize("NFKC", render_text(value))
    if _PLAIN_NUMBER.fullmatch(text):  # one number, digits and dashes: the common cell
        key = _phone_key(text.replace("-", ""))
        return set() if key is None else {key}
    return _contacts_in(text)


def _contacts_in(text: str) -> set[str]:
    """`contact_keys` of an NFKC-normalised cell text, the general way."""
    keys: set[str] = set()
    for email in _EMAIL.findall(text):
        keys.add(email.casefold())
    text = _EMAIL.sub(" ", text)
    for piece in _NUMBER_SEPARATORS.split(text):
        piece = _EXTENSION.sub("", piece.strip())
        for digits in _phones(piece):
            key = _phone_key(digits)
            if key is not None:
                keys.add(key)
    return keys


# --- duplicate leads ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    """Leads that are one customer. `members`: (row, owner or None) in row order."""

    members: tuple[tuple[int, str | None], ...]
    keep_row: int  # the earliest assignment (then creation, then row): the lead to keep
    matched_on: tuple[str, ...]  # the company keys, phones and e-mails the rows share

    @property
    def rows(self) -> tuple[int, ...]:
        return tuple(row for row, _ in self.members)

    @property
    def owners(self) -> tuple[str, ...]:
        """Distinct non-blank owners, as first written, in row order."""
        seen: dict[str, str] = {}
        for _, owner in self.members:
            if owner is not None:
                seen.setdefault(fold(owner), owner)
        return tuple(seen.values())

    @property
    def conflict(self) -> bool:
        """More than one rep chases this customer."""
        return len(self.owners) > 1


def _owner(value: Any) -> str | None:
    return None if is_blank(value) else render_text(value)


def as_moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return None


def _earliest_first(assigned: Any, created: Any, row: int) -> tuple:
    a, c = as_moment(assigned), as_moment(created)
    return (a is None, a or datetime.min, c is None, c or datetime.min, row)


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def company_keys(names: Sequence[CellValue]) -> list[str]:
    """`company_key` of every cell of a column, each distinct name worked out once."""
    seen: dict[str, str] = {}
    out: list[str] = []
    for name in names:
        if is_blank(name):
            out.append("")
            continue
        text = render_text(name)
        key = seen.get(text)
        if key is None:
            key = seen[text] = _company_key.__wrapped__(text)
        out.append(key)
    return out


def lead_keys(leads: TableData, i: int, company: str | None = None) -> set[str]:
    """The keys that identify the customer of lead `i`: its company key (`company`, when
    already known) and contact keys."""
    keys = set(contact_keys(leads.column("phone_or_email")[i]))
    if company is None:
        company = company_key(leads.column("customer")[i])
    if company:
        keys.add("company:" + company)
    return keys


def group_duplicates(
    leads: TableData, companies: Sequence[str] | None = None
) -> list[DuplicateGroup]:
    """Groups of two or more leads sharing a company key, a phone number or an e-mail.

    Sharing is transitive (A and B the same company, B and C the same phone: one group).
    Groups come in the order of their first row. `companies`: the leads' `company_keys`, when
    the caller has them already.
    """
    n = len(leads)
    if companies is None:
        companies = company_keys(leads.column("customer"))
    uf = _UnionFind(n)
    first_with: dict[str, int] = {}
    rows_with: dict[str, list[int]] = defaultdict(list)
    for i in range(n):
        for key in lead_keys(leads, i, companies[i]):
            rows_with[key].append(i)
            if key in first_with:
                uf.union(first_with[key], i)
            else:
                first_with[key] = i
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        members[uf.find(i)].append(i)
    shared_by: dict[int, list[str]] = defaultdict(list)  # group root → keys on 2+ of its rows
    for key, found in rows_with.items():
        if len(found) > 1:
            shared_by[uf.find(next(iter(found)))].append(key)
    owners, assigned, created = (
        leads.column("owner"),
        leads.column("assigned_at"),
        leads.column("created_at"),
    )
    groups: list[DuplicateGroup] = []
    for indices in members.values():
        if len(indices) < 2:
            continue
        shared = sorted(
            key.removeprefix("company:") for key in shared_by.get(uf.find(indices[0]), ())
        )
        keep = min(indices, key=lambda i: _earliest_first(assigned[i], created[i], leads.rows[i]))
        groups.append(
            DuplicateGroup(
                members=tuple((leads.rows[i], _owner(owners[i])) for i in indices),
                keep_row=leads.rows[keep],
                matched_on=tuple(shared),
            )
        )
    return groups


def duplicate_findings(groups: Iterable[DuplicateGroup], *, table: str = "leads") -> list[Finding]:
    """One `duplicate-customer` finding per row of every group chased by more than one rep.

    Each names every row and owner and the row to keep, so each row's ⚙ flags can show it.
    """
    found: list[Finding] = []
    for group in groups:
        if not group.conflict:
            continue
        params = {
            "rows": ", ".join(map(str, group.rows)),
            "owners": ", ".join(f"{owner or '-'} ({row})" for row, owner in group.members),
            "keep_row": group.keep_row,
            "matched": ", ".join(group.matched_on),
        }
        for row, owner in group.members:
            found.append(
                Finding("duplicate-customer", table, row, "customer", value=owner, params=params)
            )
    return found


# --- existing customers and referrals -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinkedCustomer:
    """How a lead relates to customers already won.

    `existing`: the customer's name as written in Contracts when the lead's company signed a
    contract before the lead was created (a repeat sale). `referred_by`: the referrer named in a
    customer-referral source ("客户推荐-甲公司"), as written in Contracts when it is a customer
    there (`referrer_known`), else as typed.
    """

    row: int
    existing: str | None = None
    first_signed: date | None = None
    referred_by: str | None = None
    referrer_key: str | None = None
    referrer_known: bool = False


_DETAIL_CUT = ("-", "—", "–", ":", "(")  # the separators parse.match_choice accepts


def referral_detail(source: CellValue) -> str | None:
    """The free detail after the source type ("客户推荐-甲公司" → "甲公司"), or None."""
    if is_blank(source):
        return None
    text = unicodedata.normalize("NFKC", render_text(source))
    cuts = [i for i in (text.find(sep) for sep in _DETAIL_CUT) if i > 0]
    if not cuts:
        return None
    detail = text[min(cuts) + 1 :].strip(" -—–:()")
    return detail or None


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def link_existing_customers(
    leads: TableData, contracts: TableData | None, companies: Sequence[str] | None = None
) -> dict[int, LinkedCustomer]:
    """Leads from existing customers, or referred by one, keyed by spreadsheet row.

    A contract counts when it has a signing date, belongs to another lead (its own lead's
    contract does not make a customer "existing") and was signed before the day the lead was
    created (any day when the lead has no creation time). `companies`: the leads'
    `company_keys`, when the caller has them already.
    """
    by_key = _contracts_by_key(contracts) if contracts is not None else {}
    if companies is None:
        companies = company_keys(leads.column("customer"))
    links: dict[int, LinkedCustomer] = {}
    created, sources, ids = (
        leads.column("created_at"),
        leads.column("source"),
        leads.column("lead_id"),
    )
    raw_sources = leads.raw.get("source") or [None] * len(leads)
    for i, row in enumerate(leads.rows):
        existing = first = None
        key = companies[i]
        lead_id = None if is_blank(ids[i]) else render_text(ids[i])
        created_day = _as_date(created[i])
        for day, name, contract_lead in by_key.get(key, ()):
            if contract_lead is not None and contract_lead == lead_id:
                continue
            if created_day is None or day < created_day:
                existing, first = name, day
                break
        referred_by = referrer_key = None
        known = False
        if sources[i] == "customer_referral":
            detail = referral_detail(raw_sources[i])
            if detail is not None:
                referrer_key = company_key(detail)
                known = referrer_key in by_key
                referred_by = by_key[referrer_key][0][1] if known else detail
        if existing is not None or referred_by is not None:
            links[row] = LinkedCustomer(row, existing, first, referred_by, referrer_key, known)
    return links


def _contracts_by_key(contracts: TableData) -> dict[str, list[tuple[date, str, str | None]]]:
    """Signed contracts per company key, earliest first."""
    out: dict[str, list[tuple[date, str, str | None]]] = defaultdict(list)
    names, dates, lead_ids = (
        contracts.column("customer"),
        contracts.column("signed_at"),
        contracts.column("lead_id"),
    )
    for i in range(len(contracts)):
        key, day = company_key(names[i]), _as_date(dates[i])
        if key and day is not None:
            lead_id = None if is_blank(lead_ids[i]) else render_text(lead_ids[i])
            out[key].append((day, render_text(names[i]), lead_id))
    for found in out.values():
        found.sort(key=lambda t: t[0])
    return out


def referral_counts(links: Mapping[int, LinkedCustomer]) -> dict[str, int]:
    """Referred leads per referring customer (by its name), most referrals first."""
    names: dict[str, str] = {}
    counts: dict[str, int] = defaultdict(int)
    for link in sorted(links.values(), key=lambda link: link.row):
        if link.referrer_key is None or link.referred_by is None:
            continue
        names.setdefault(link.referrer_key, link.referred_by)
        counts[link.referrer_key] += 1
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], names[kv[0]]))
    return {names[key]: count for key, count in ordered}
