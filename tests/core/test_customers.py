"""Company names, contact keys, duplicate leads and existing/referring customers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import opencc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.core import customers as customers_module
from sync.core import issues as issues_module
from sync.core.customers import (
    DuplicateGroup,
    Finding,
    company_key,
    company_keys,
    contact_keys,
    duplicate_findings,
    finding_issue,
    group_duplicates,
    link_existing_customers,
    referral_counts,
    referral_detail,
)
from sync.core.headers import bind_workbook
from sync.core.issues import IssueKind
from sync.core.model import RawSheet
from sync.core.parse import ParseContext
from sync.core.schema import Lang, Severity
from sync.core.tables import TableData, parse_tables
from tests.workbooks import EN_LEAD_HEADERS as LEAD_HEADERS


def tables_of(sheets: dict[str, Sequence[Sequence[Any]]]) -> dict[str, TableData]:
    """Typed tables through the real pipeline: bind headers, then parse every cell."""
    raw = [RawSheet(name, [list(r) for r in rows]) for name, rows in sheets.items()]
    tables, found = parse_tables(bind_workbook(raw, lang=Lang.EN), ParseContext(lang=Lang.EN))
    assert [i.code for i in found] == []
    return tables


def lead_rows(*leads: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = [LEAD_HEADERS]
    for n, lead in enumerate(leads, start=1):
        values = {"Lead ID": f"L{n}", "Source": "Website", "Stage": "lead", **lead}
        rows.append([values.get(h) for h in LEAD_HEADERS])
    return rows


def leads_of(*leads: dict[str, Any], **tabs: Sequence[Sequence[Any]]) -> dict[str, TableData]:
    return tables_of({"Leads": lead_rows(*leads), **tabs})


# --- company_key ----------------------------------------------------------------------------

SAME_COMPANY = [
    # three scripts, spaces and suffixes
    (
        "深圳市甲科技有限公司",
        "深圳市甲科技有限責任公司",
        "深圳市 甲科技",
        "深圳市甲科技股份有限公司",
    ),
    ("深圳市甲科技有限公司", "深圳市甲科技（上海）有限公司", "深圳市甲科技(Shenzhen)"),
    ("华为技术有限公司", "華為技術有限公司", "華爲技術 有限公司", "华为技术"),
    ("台积电股份有限公司", "台積電股份有限公司", "台積電"),
    ("阿里巴巴集团控股有限公司", "阿里巴巴集團", "阿里巴巴"),
    # width, case and punctuation in Latin names
    ("ＡＢＣ Co., Ltd.", "abc co ltd", "ABC Co.Ltd", "ABC Company Limited", "abc"),
    ("Acme Inc.", "ACME, Inc", "acme corporation", "Acme Corp.", "ACME LLC", "Acme GmbH"),
    ("株式会社ソニー", "ソニー株式会社", "ソニー"),
    ("Ｂｅｔａ－Ｔｅｃｈ (HK) Limited", "beta tech limited", "Beta Tech"),
]


@pytest.mark.parametrize("names", SAME_COMPANY, ids=lambda names: names[0])
def test_one_company_written_differently_has_one_key(names: tuple[str, ...]) -> None:
    keys = {company_key(name) for name in names}
    assert len(keys) == 1, keys


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("深圳市甲科技有限公司", "深圳市乙科技有限公司"),
        ("Zinc Ltd", "Z Inc"),  # "inc" inside a word is not a suffix
        ("Costco", "Cost Co"),
        ("甲科技上海分公司", "甲科技北京分公司"),  # branches are not bracketed: kept
    ],
)
def test_different_companies_keep_different_keys(a: str, b: str) -> None:
    assert company_key(a) != company_key(b)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("有限公司", "有限公司"),
        ("集团有限公司", "集团有限公司"),
        ("Co., Ltd.", "co"),
        ("Limited", "limited"),
        ("株式会社", "株式会社"),
        ("（上海）", "(上海)"),
        ("", ""),
        (None, ""),
        ("   ", ""),
        (12345, "12345"),
    ],
)
def test_a_name_is_never_reduced_to_nothing(name: Any, key: str) -> None:
    assert company_key(name) == key


_S2T = opencc.OpenCC("s2t")
_HANZI = (
    "甲乙丙丁科技电子华为国际贸易发展网络软件信息机械制造东方长城"
    "新能源汽车医疗器械银行实业广州深圳市"
)
_LATIN = "abcdefghijklmnopqrstuvwxyz0123456789"
names = st.text(alphabet=_HANZI + _LATIN + " .,-()（）&", min_size=0, max_size=24)
hanzi_names = st.text(alphabet=_HANZI, min_size=1, max_size=12)


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@given(st.text(max_size=30))
def test_company_key_is_idempotent(name: str) -> None:
    key = company_key(name)
    assert company_key(key) == key


@given(st.lists(st.one_of(st.text(max_size=20), st.none(), st.integers(), st.floats())))
def test_a_column_of_keys_is_the_key_of_each_cell(cells: list[Any]) -> None:
    assert company_keys(cells) == [company_key(c) for c in cells]


@given(st.text(max_size=40))
def test_separators_become_spaces_character_by_character(text: str) -> None:
    expected = "".join(" " if customers_module._is_separator(c) else c for c in text)
    assert text.translate(customers_module._SEPARATORS) == expected


@given(names)
def test_width_case_and_script_do_not_change_the_key(name: str) -> None:
    key = company_key(name)
    assert company_key(name.upper()) == key
    assert company_key(_full_width(name)) == key
    assert company_key(_S2T.convert(name)) == key


@given(
    hanzi_names,
    st.sampled_from(
        [
            "有限公司",
            "有限責任公司",
            "股份有限公司",
            "集团有限公司",
            "（上海）有限公司",
            " Co., Ltd.",
        ]
    ),
)
def test_legal_suffixes_do_not_change_the_key(name: str, suffix: str) -> None:
    assert company_key(name + suffix) == company_key(name)
    assert company_key(" ".join(name) + suffix) == company_key(name)


# --- contact_keys ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "keys"),
    [
        ("+86 138-1234-5678", {"13812345678"}),
        ("13812345678", {"13812345678"}),
        (13812345678, {"13812345678"}),
        (13812345678.0, {"13812345678"}),
        ("0086 13812345678", {"13812345678"}),
        ("86-138 1234 5678", {"13812345678"}),
        ("１３８１２３４５６７８", {"13812345678"}),
        ("138 1234 5678", {"13812345678"}),
        ("0755-8888 1234", {"075588881234"}),
        ("(0755) 8888-1234", {"075588881234"}),
        ("+86 755 8888 1234", {"075588881234"}),
        ("0755-88881234转808", {"075588881234"}),
        ("0755-88881234 ext. 12", {"075588881234"}),
        ("13812345678 13987654321", {"13812345678", "13987654321"}),
        ("13812345678/13987654321", {"13812345678", "13987654321"}),
        ("13812345678、0755-8888 1234", {"13812345678", "075588881234"}),
        ("Li.Lei@Example.COM", {"li.lei@example.com"}),
        ("li.lei@example.com；138-1234-5678", {"li.lei@example.com", "13812345678"}),
        ("电话：13812345678，邮箱：a@b.cn", {"13812345678", "a@b.cn"}),
        ("+852 9123 4567", {"85291234567"}),
        ("110", set()),
        ("", set()),
        (None, set()),
        ("微信联系", set()),
    ],
)
def test_contact_keys(cell: Any, keys: set[str]) -> None:
    assert contact_keys(cell) == keys


@given(st.text(alphabet="0123456789-", min_size=1, max_size=24))
def test_a_plain_number_reads_as_the_general_way_reads_it(text: str) -> None:
    # the fast path for digits and dashes must agree with the general parser on every input
    assert contact_keys(text) == customers_module._contacts_in(text)


# --- duplicate groups -----------------------------------------------------------------------


def test_a_customer_split_across_two_reps_is_one_group_with_the_earliest_kept() -> None:
    tables = leads_of(
        {
            "Customer": "深圳市甲科技有限公司",
            "Owner": "Li Lei",
            "Created at": datetime(2026, 6, 1, 9),
            "Assigned at": datetime(2026, 6, 2, 9),
        },
        {
            "Customer": "深圳市甲科技有限責任公司",
            "Owner": "Han Mei",
            "Created at": datetime(2026, 6, 3, 9),
            "Assigned at": datetime(2026, 6, 1, 10),
        },
        {"Customer": "深圳市 甲科技", "Created at": datetime(2026, 6, 4)},
        {"Customer": "乙贸易", "Phone or e-mail": "+86 138-1234-5678", "Owner": "Li Lei"},
        {"Customer": "丙实业", "Phone or e-mail": "13812345678", "Owner": "li lei"},
        {"Customer": "丁机械", "Phone or e-mail": "0755-8888 1234", "Owner": "Wang Wu"},
    )
    groups = group_duplicates(tables["leads"])
    assert [(g.rows, g.owners, g.keep_row, g.conflict) for g in groups] == [
        ((2, 3, 4), ("Li Lei", "Han Mei"), 3, True),
        ((5, 6), ("Li Lei",), 5, False),  # same rep, written in another case: no conflict
    ]
    assert groups[0].matched_on == ("深圳市甲科技",)
    assert groups[1].matched_on == ("13812345678",)


def test_groups_are_transitive_through_phone_and_email() -> None:
    tables = leads_of(
        {"Customer": "甲公司", "Phone or e-mail": "a@x.com"},
        {"Customer": "乙公司", "Phone or e-mail": "A@X.com; 13912345678"},
        {"Customer": "丙公司", "Phone or e-mail": "0086 139 1234 5678"},
        {"Customer": "丙有限公司"},
    )
    [group] = group_duplicates(tables["leads"])
    assert group.rows == (2, 3, 4, 5)
    assert group.matched_on == ("13912345678", "a@x.com", "丙")


@pytest.mark.parametrize(
    ("leads", "keep"),
    [
        ([{"Assigned at": "2026-06-02"}, {"Assigned at": "2026-06-01"}], 3),
        ([{"Created at": "2026-06-02"}, {"Created at": "2026-06-01"}], 3),
        ([{"Created at": "2026-06-01"}, {"Assigned at": "2026-06-05"}], 3),  # assigned first
        ([{}, {}], 2),
    ],
)
def test_keep_row_is_the_earliest_assignment_then_creation_then_row(
    leads: list[dict[str, Any]], keep: int
) -> None:
    tables = leads_of(*({"Customer": "Acme Inc.", **lead} for lead in leads))
    [group] = group_duplicates(tables["leads"])
    assert group.keep_row == keep


def test_only_groups_chased_by_several_reps_are_findings_one_per_row() -> None:
    groups = [
        DuplicateGroup(((2, "Li Lei"), (7, "Han Mei"), (9, None)), 7, ("甲科技",)),
        DuplicateGroup(((3, "Li Lei"), (4, "Li Lei")), 3, ("acme",)),
    ]
    found = duplicate_findings(groups)
    assert [(f.code, f.row, f.field) for f in found] == [
        ("duplicate-customer", 2, "customer"),
        ("duplicate-customer", 7, "customer"),
        ("duplicate-customer", 9, "customer"),
    ]
    assert found[0].params == {
        "rows": "2, 7, 9",
        "owners": "Li Lei (2), Han Mei (7), - (9)",
        "keep_row": 7,
        "matched": "甲科技",
    }


# --- existing customers and referrals -------------------------------------------------------

CONTRACTS = [
    ["Contract ID", "Lead ID", "Customer", "Owner", "Signed on", "Amount"],
    ["C1", "L0", "深圳市甲科技有限公司", "Li Lei", date(2026, 3, 1), 100],
    ["C2", "L3", "乙贸易有限公司", "Han Mei", date(2026, 5, 20), 50],
    ["C3", "", "Acme Inc.", "Han Mei", date(2026, 7, 1), 50],
]


def test_leads_of_customers_who_signed_before_are_linked() -> None:
    tables = leads_of(
        {"Customer": "深圳市甲科技有限責任公司", "Created at": datetime(2026, 5, 1)},  # repeat
        {"Customer": "Other", "Created at": datetime(2026, 5, 1)},
        {"Customer": "乙贸易", "Created at": datetime(2026, 5, 1)},  # its own contract: new
        {"Customer": "乙贸易", "Created at": datetime(2026, 6, 1)},  # after C2: existing
        {"Customer": "ACME", "Created at": datetime(2026, 6, 1)},  # signed later: new
        {"Customer": "ACME"},  # no creation time: any other contract counts
        Contracts=CONTRACTS,
    )
    links = link_existing_customers(tables["leads"], tables["contracts"])
    assert {row: (link.existing, link.first_signed) for row, link in links.items()} == {
        2: ("深圳市甲科技有限公司", date(2026, 3, 1)),
        5: ("乙贸易有限公司", date(2026, 5, 20)),
        7: ("Acme Inc.", date(2026, 7, 1)),
    }


def test_referrals_name_the_referring_customer_and_are_counted() -> None:
    tables = leads_of(
        {"Source": "客户推荐-深圳市甲科技", "Customer": "X"},
        {"Source": "Customer referral - 深圳市甲科技有限公司", "Customer": "Y"},
        {"Source": "客戶推薦：丙公司", "Customer": "Z"},
        {"Source": "客户推荐", "Customer": "W"},  # no referrer named
        {"Source": "展会-甲科技", "Customer": "V"},  # a detail, but not a referral
        Contracts=CONTRACTS,
    )
    links = link_existing_customers(tables["leads"], tables["contracts"])
    assert {row: (link.referred_by, link.referrer_known) for row, link in links.items()} == {
        2: ("深圳市甲科技有限公司", True),
        3: ("深圳市甲科技有限公司", True),
        4: ("丙公司", False),
    }
    assert referral_counts(links) == {"深圳市甲科技有限公司": 2, "丙公司": 1}


def test_without_contracts_only_referrals_are_linked() -> None:
    tables = leads_of({"Source": "客户推荐-甲", "Customer": "甲"}, {"Customer": "甲"})
    links = link_existing_customers(tables["leads"], None)
    assert list(links) == [2]
    assert links[2].existing is None


@pytest.mark.parametrize(
    ("cell", "detail"),
    [
        ("客户推荐-甲公司", "甲公司"),
        ("客户推荐－甲公司", "甲公司"),
        ("客户推荐（甲公司）", "甲公司"),
        ("客户推荐: 甲公司", "甲公司"),
        ("客户推荐", None),
        ("客户推荐-", None),
        (None, None),
    ],
)
def test_referral_detail(cell: Any, detail: str | None) -> None:
    assert referral_detail(cell) == detail


# --- the issue codes these modules need (to be registered in sync/core/issues.py) -----------

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741


def _kind(code: str, severity: Severity, hans: str, hant: str, en: str, short: tuple) -> IssueKind:
    return IssueKind(
        code,
        severity,
        {Lang.ZH_HANS: hans, Lang.ZH_HANT: hant, Lang.EN: en},
        dict(zip((Lang.ZH_HANS, Lang.ZH_HANT, Lang.EN), short, strict=True)),
    )


PROPOSED_CODES = {
    code: issues_module.CODES[code]
    for code in (
        "duplicate-customer",
        "assign-rule-no-target",
        "assign-rule-unknown-target",
        "assign-rule-unknown-method",
        "assign-rule-unknown-source",
        "assign-no-rule",
        "assign-no-active-rep",
        "lead-assigned",
        "referrer-unknown",
    )
}


def test_a_finding_becomes_an_issue_in_its_tab_column_and_language() -> None:
    tables = leads_of({"Customer": "甲"}, {"Customer": "甲", "Owner": "Han Mei"})
    group = DuplicateGroup(((2, None), (3, "Han Mei"), (4, "Li Lei")), 3, ("甲",))
    issue = finding_issue(duplicate_findings([group])[1], tables, Lang.EN)
    assert (issue.tab, issue.row, issue.column, issue.header, issue.value) == (
        "Leads",
        3,
        "C",
        "Customer",
        "Han Mei",
    )
    assert issue.severity is Severity.WARNING
    assert issue.message == (
        "The same customer (甲) is followed by several reps: rows 2, 3, 4, owners "
        "- (2), Han Mei (3), Li Lei (4); keep row 3 (assigned first)."
    )


@pytest.mark.parametrize("lang", list(Lang))
@pytest.mark.parametrize("code", sorted(PROPOSED_CODES))
def test_every_proposed_message_renders_in_every_language(code: str, lang: Lang) -> None:
    params = {
        k: "x"
        for k in (
            "rows",
            "owners",
            "keep_row",
            "matched",
            "region",
            "industry",
            "product_line",
            "source",
            "rule_row",
            "target",
            "rep",
            "reason",
        )
    }
    issue = finding_issue(Finding(code, "nowhere", 1, value="v", params=params), {}, lang)
    assert "{" not in issue.message
