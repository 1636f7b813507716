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
from datetime import date
from functools import lru_cache
from itertools import chain, compress
from typing import Any

import numpy as np
import pandas as pd

from .columns import days, each_distinct, each_once, objects
from .issues import Issue, make_issue
from .model import CellValue
from .parse import _WS, is_blank, render_text
from .schema import Lang, Severity
from .tables import TableData
from .text import _T2S, each_joined, fold

__all__ = [
    "DuplicateGroup",
    "Finding",
    "LinkedCustomer",
    "company_key",
    "company_keys",
    "contact_keys",
    "duplicate_findings",
    "finding_issue",
    "finding_issues",
    "group_duplicates",
    "link_existing_customers",
    "referral_counts",
    "referral_detail",
]


# --- findings -------------------------------------------------------------------------------


@dataclass(slots=True, unsafe_hash=True)
class Finding:
    """A problem found by a rule, before it becomes an `Issue`: where it is and its parameters.

    `code` is an `issues.CODES` key; `row` the spreadsheet row; `field` the canonical field, whose
    column and header `finding_issue` looks up in the bound table.

    A value: nothing changes a finding once made. (Not a frozen dataclass only because those set
    every field through `object.__setattr__`, and a big workbook makes 10,000s of findings.)
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
    return finding_issues([finding], tables, lang)[0]


def finding_issues(
    findings: Iterable[Finding], tables: Mapping[str, TableData], lang: Lang
) -> list[Issue]:
    """`finding_issue` of every finding; each (table, field) is located once."""
    places: dict[tuple[str, str | None], tuple[str, str | None, str | None]] = {}
    issues: list[Issue] = []
    for finding in findings:
        where = (finding.table, finding.field)
        place = places.get(where)
        if place is None:
            place = places[where] = _place(finding.table, finding.field, tables, lang)
        tab, column, header = place
        issues.append(
            make_issue(
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
        )
    return issues


def _place(
    table: str, field: str | None, tables: Mapping[str, TableData], lang: Lang
) -> tuple[str, str | None, str | None]:
    """The tab, column letter and header of a table's field (the table's name, None, None
    when the table is missing)."""
    data = tables.get(table)
    if data is None:
        return table, None, None
    if field is None or not data.has(field):
        return data.tab, None, None
    return data.tab, data.letter(field), data.bound.header_of(field, lang)


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
# The leftmost match that reaches the end is the longest suffix.
_ZH_SUFFIX = re.compile(f"(?:{'|'.join(_ZH_SUFFIXES)})\\Z")
_ZH_PREFIX = re.compile("|".join(_ZH_PREFIXES))
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

# Joins the names converted together. NFKC, t2s and casefold each leave it alone and map every
# other character on its own side of it (it composes with nothing, and no t2s phrase holds it).
_JOIN = "\n"


def _normalise(text: str) -> str:
    """One width, case and script: NFKC, traditional → simplified, casefold, NFKC."""
    out = unicodedata.normalize("NFKC", text)
    out = _T2S.convert(out).casefold()
    return unicodedata.normalize("NFKC", out)


def _normalise_all(texts: list[str]) -> list[str]:
    return each_joined(_normalise, texts, _JOIN)


def _strip_zh(word: str) -> str:
    """Legal suffixes (and 株式会社 prefixes) off one word, never down to nothing."""
    while word.endswith(_ZH_SUFFIXES) or word.startswith(_ZH_PREFIXES):
        suffix = _ZH_SUFFIX.search(word)
        if suffix and suffix.start() > 0:
            word = word[: suffix.start()]
            continue
        prefix = _ZH_PREFIX.match(word)
        if prefix and prefix.end() < len(word):
            word = word[prefix.end() :]
            continue
        break
    return word


def _reduce(name: str) -> str:
    """A normalised name without brackets, separators and legal suffixes."""
    if name.isalnum():  # most names: letters and digits, so no bracket and no separator
        return _strip_zh(name)
    while True:  # nested brackets: innermost first
        stripped = _BRACKETS.sub(" ", name)
        if stripped == name:
            break
        name = stripped
    words = name.translate(_SEPARATORS).split()
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


def _company_keys_of(texts: list[str]) -> list[str]:
    """`company_key` of every rendered cell text ("" for a blank cell)."""
    keys = [_reduce(name) for name in _normalise_all(texts)]
    moving = [i for i, key in enumerate(keys) if key]
    for _ in range(4):  # script conversion can expose a suffix: settle on a fixed point
        # `_reduce` leaves its own keys alone: only a key that normalising changes can move.
        normalised = _normalise_all([keys[i] for i in moving])
        moved = []
        for i, name in zip(moving, normalised, strict=True):
            if name != keys[i] and (key := _reduce(name)) != keys[i]:
                keys[i] = key
                moved.append(i)
        moving = [i for i in moved if keys[i]]
        if not moving:
            break
    for i, key in enumerate(keys):
        if not key:
            text = texts[i]
            keys[i] = "".join(c for c in fold(text) if not c.isspace()) or text.strip()
    return keys


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
    return _company_keys_of([text])[0]


def company_keys(names: Sequence[CellValue]) -> list[str]:
    """`company_key` of every cell of a column, the distinct names worked out together."""
    return each_distinct(names, _cell_company_keys)


def _cell_company_keys(cells: list[CellValue]) -> list[str]:
    return _company_keys_of(_texts(cells))


_TEXT_CELLS = frozenset({str, type(None)})


def _texts(cells: list[CellValue]) -> list[str]:
    """Each cell as text (`render_text`), "" for a blank one."""
    if set(map(type, cells)) <= _TEXT_CELLS:  # the usual text column: no call per cell
        return ["" if cell is None else cell.strip(_WS) for cell in cells]  # type: ignore[union-attr]
    return ["" if is_blank(cell) else render_text(cell) for cell in cells]


# --- phones and e-mails ---------------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+\-']+@[\w\-]+(?:\.[\w\-]+)+", re.UNICODE)
_NUMBER_SEPARATORS = re.compile(r"[,;/、|\n\r]|\s(?:or|或|或者)\s")
# An extension is not part of the number people share: 0755-88881234转808, ext. 12, x12.
_EXTENSION = re.compile(r"(?:转|轉|分机|分機|ext\.?|x|#)\s*\d+\s*$", re.IGNORECASE)
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
    return set(_cell_contact_keys([value])[0])


def _cell_contact_keys(cells: list[CellValue]) -> list[tuple[str, ...]]:
    """`contact_keys` of every cell (sorted), NFKC run once over them all.

    Phone numbers are mostly one per cell and all different, so the cells are not told apart
    first: a plain number (ASCII digits and dashes, a digit first) is read on the spot, as
    `_contacts_in` would read it; only the other cells are read once per distinct text.

    Tuples of text, not sets: the garbage collector stops tracking them, so that a column of
    them does not make it walk every object of a big workbook again.
    """
    texts = each_joined(_nfkc, _texts(cells), _JOIN)
    numbers = each_joined(_without_dashes, texts, _JOIN)
    plain = [
        number.isdigit() and number.isascii() and text[0] != "-"
        for text, number in zip(texts, numbers, strict=True)
    ]
    others = iter(each_once([t for t, p in zip(texts, plain, strict=True) if not p], _sorted))
    return [
        _number_keys(number) if is_plain else next(others)
        for number, is_plain in zip(numbers, plain, strict=True)
    ]


def _number_keys(digits: str) -> tuple[str, ...]:
    key = _phone_key(digits)
    return () if key is None else (key,)


def _sorted(text: str) -> tuple[str, ...]:
    return tuple(sorted(_contacts_in(text)))


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _without_dashes(text: str) -> str:
    return text.replace("-", "")


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


def _smallest_linked(lead: np.ndarray, key: np.ndarray, n: int) -> np.ndarray:
    """For each of `n` leads, the smallest lead joined to it through shared keys (lead
    `lead[j]` has key `key[j]`; transitively; itself when it shares none): each key takes the
    smallest label of its leads, each lead the smallest label of its keys, each label the label
    of its own lead, until nothing changes."""
    label = np.arange(n)
    keys = int(key.max()) + 1 if len(key) else 0
    while True:
        smallest = np.full(keys, n)
        np.minimum.at(smallest, key, label[lead])
        joined = label.copy()
        np.minimum.at(joined, lead, smallest[key])
        joined = joined[joined]  # a label's own label is as far joined: jump to it
        if np.array_equal(joined, label):
            return label
        label = joined


def _shared_keys(
    companies: Sequence[str], contacts: Sequence[tuple[str, ...]]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The keys on two leads or more: per entry its lead and its key's number, and the keys by
    number. Company keys come first, then phones and e-mails (a company key written like a
    phone is another key), each in order of first appearance."""
    n = len(companies)
    company = objects(companies)
    named = np.flatnonzero(company != "")
    counts = np.fromiter(map(len, contacts), dtype=np.int64, count=n)
    lead = np.concatenate([named, np.repeat(np.arange(n), counts)])
    company_codes, company_found = pd.factorize(company[named])
    contact_codes, contact_found = pd.factorize(objects(list(chain.from_iterable(contacts))))
    codes = np.concatenate([company_codes, contact_codes + len(company_found)])
    shared = np.bincount(codes, minlength=len(company_found) + len(contact_found)) > 1
    number = np.cumsum(shared) - 1  # a shared key's number among the shared ones
    on_shared = shared[codes]
    keys = list(compress(chain(company_found, contact_found), shared))
    return lead[on_shared], number[codes[on_shared]], keys


def group_duplicates(
    leads: TableData, companies: Sequence[str] | None = None
) -> list[DuplicateGroup]:
    """Groups of two or more leads sharing a company key, a phone number or an e-mail.

    Sharing is transitive (A and B the same company, B and C the same phone: one group).
    Groups come in the order of their first row. `companies`: the leads' `company_keys`, when
    the caller has them already.
    """
    if companies is None:
        companies = company_keys(leads.column("customer"))
    contacts = _cell_contact_keys(leads.column("phone_or_email"))
    lead, key, keys = _shared_keys(companies, contacts)
    root = _smallest_linked(lead, key, len(leads))  # a group's smallest lead
    grouped = np.unique(lead)
    grouped = grouped[np.argsort(root[grouped], kind="stable")]  # by group, then in order
    keep = grouped[_earliest_first(leads, grouped, root[grouped])].tolist()
    indices = grouped.tolist()
    owner_cells = leads.column("owner")
    owners = each_distinct([owner_cells[i] for i in indices], _texts_or_none)
    members = list(zip(map(leads.rows.__getitem__, indices), owners, strict=True))
    return [
        DuplicateGroup(tuple(members[start:end]), leads.rows[keep[start]], matched_on)
        for (start, end), matched_on in zip(
            _runs(root[grouped]), _matched_on(keys, key, root[lead]), strict=True
        )
    ]


def _runs(values: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of equal values in a sorted array of numbers from 0."""
    starts = np.flatnonzero(np.diff(values, prepend=-1))
    ends = np.flatnonzero(np.diff(values, append=-1)) + 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _matched_on(keys: list[str], key: np.ndarray, roots: np.ndarray) -> list[tuple[str, ...]]:
    """Per group, in order of its smallest lead, the keys its leads share, sorted (the lead of
    entry `j`, in group `roots[j]`, has key `keys[key[j]]`)."""
    group_of = np.empty(len(keys), dtype=np.int64)
    group_of[key] = roots
    order = np.argsort(group_of, kind="stable")
    ordered = [keys[k] for k in order.tolist()]
    return [tuple(sorted(ordered[start:end])) for start, end in _runs(group_of[order])]


def _earliest_first(leads: TableData, at: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Positions of the leads `at` by group, then the earliest assignment, the earliest
    creation (a blank time last) and row."""
    assigned, created = leads.moments("assigned_at")[at], leads.moments("created_at")[at]
    rows = np.fromiter(map(leads.rows.__getitem__, at.tolist()), dtype=np.int64, count=len(at))
    # sort keys, primary last
    return np.lexsort(
        (
            rows,
            created.view("int64"),
            np.isnat(created),
            assigned.view("int64"),
            np.isnat(assigned),
            groups,
        )
    )


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


def _cell_referral_details(cells: list[CellValue]) -> list[str | None]:
    return [referral_detail(cell) for cell in cells]


def _texts_or_none(cells: list[CellValue]) -> list[str | None]:
    """Each cell as text (`render_text`), None for a blank one."""
    return [text or None for text in _texts(cells)]


def link_existing_customers(
    leads: TableData, contracts: TableData | None, companies: Sequence[str] | None = None
) -> dict[int, LinkedCustomer]:
    """Leads from existing customers, or referred by one, keyed by spreadsheet row.

    A contract counts when it has a signing date, belongs to another lead (its own lead's
    contract does not make a customer "existing") and was signed before the day the lead was
    created (any day when the lead has no creation time). `companies`: the leads'
    `company_keys`, when the caller has them already.
    """
    if companies is None:
        companies = company_keys(leads.column("customer"))
    existing: dict[int, int] = {}
    first_of_key: dict[str, int] = {}  # company key → its earliest contract
    names: list[Any] = []
    signed_on = np.empty(0, dtype="datetime64[D]")
    if contracts is not None:
        signed = _signed_contracts(contracts)
        existing = _existing_customers(leads, companies, signed)
        first = signed.drop_duplicates("key")
        first_of_key = dict(zip(first["key"].tolist(), first["contract"].tolist(), strict=True))
        names, signed_on = contracts.column("customer"), days(contracts.moments("signed_at"))
    referrers = _referrers(leads)
    links: dict[int, LinkedCustomer] = {}
    for i in sorted({*existing, *referrers}):
        name = first_signed = referred_by = referrer_key = None
        known = False
        if i in existing:
            contract = existing[i]
            name, first_signed = render_text(names[contract]), signed_on[contract].item()
        if i in referrers:
            referred_by, referrer_key = referrers[i]
            known = referrer_key in first_of_key
            if known:
                referred_by = render_text(names[first_of_key[referrer_key]])
        row = leads.rows[i]
        links[row] = LinkedCustomer(row, name, first_signed, referred_by, referrer_key, known)
    return links


def _signed_contracts(contracts: TableData) -> pd.DataFrame:
    """Contracts with a company key and a signing day, earliest first (then by row): `key`,
    `day` (days since 1970), `contract` (index in the table), `lead` (its lead id as text, or
    None)."""
    keys = np.asarray(company_keys(contracts.column("customer")), dtype=object)
    signed = days(contracts.moments("signed_at"))
    use = np.flatnonzero(~np.isnat(signed) & (keys != ""))
    use = use[np.argsort(signed[use], kind="stable")]
    lead_ids = contracts.column("lead_id")
    return pd.DataFrame(
        {
            "key": keys[use],
            "day": signed[use].view("int64"),
            "contract": use,
            "lead": each_distinct([lead_ids[i] for i in use.tolist()], _texts_or_none),
        }
    )


def _existing_customers(
    leads: TableData, companies: Sequence[str], signed: pd.DataFrame
) -> dict[int, int]:
    """Lead index → the contract that makes its customer an existing one: the earliest
    (`signed` order) of another lead's contracts of its company signed before its creation day."""
    keys = np.asarray(companies, dtype=object)
    candidates = np.flatnonzero(pd.Series(keys, dtype=object).isin(signed["key"]).to_numpy())
    if not len(candidates):
        return {}
    created = days(leads.moments("created_at"))[candidates]
    lead_ids = leads.column("lead_id")
    pairs = pd.DataFrame(
        {
            "lead_index": candidates,
            "key": keys[candidates],
            "lead_id": each_distinct([lead_ids[i] for i in candidates.tolist()], _texts_or_none),
            "created": created.view("int64"),
            "undated": np.isnat(created),
        }
    ).merge(signed.assign(order=np.arange(len(signed))), on="key")
    own = pairs["lead"].notna() & (pairs["lead"] == pairs["lead_id"])
    before = pairs["undated"] | (pairs["day"] < pairs["created"])
    found = pairs[~own & before].sort_values(["lead_index", "order"])
    found = found.drop_duplicates("lead_index")
    return dict(zip(found["lead_index"].tolist(), found["contract"].tolist(), strict=True))


def _referrers(leads: TableData) -> dict[int, tuple[str, str]]:
    """Lead index → (referrer as typed, its company key), for customer referrals naming one."""
    referred = np.flatnonzero(
        pd.Series(leads.column("source"), dtype=object) == "customer_referral"
    )
    raw = leads.raw.get("source")
    if raw is None or not len(referred):
        return {}
    details = each_distinct([raw[i] for i in referred.tolist()], _cell_referral_details)
    named = [(i, detail) for i, detail in zip(referred.tolist(), details, strict=True) if detail]
    keys = company_keys([detail for _, detail in named])
    return {i: (detail, key) for (i, detail), key in zip(named, keys, strict=True)}


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
