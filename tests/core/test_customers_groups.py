"""Duplicate groups and contact keys worked out for a whole column at once: plain numbers read
on the spot, shared keys counted per column, groups cut from sorted arrays, and the edges of
that (no shared key, empty tables, missing columns, blank and unreadable times)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np
import pytest

from sync.core import customers as customers_module
from sync.core.customers import Finding, group_duplicates
from sync.core.headers import bind_workbook
from sync.core.model import RawSheet
from sync.core.parse import ParseContext
from sync.core.schema import Lang
from sync.core.tables import TableData, parse_tables
from tests.core.test_customers import lead_rows, leads_of

# --- contact keys of a column ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "keys"),
    [
        ("0755-8888-1234", ("075588881234",)),  # plain: digits and dashes
        ("13812345678", ("13812345678",)),
        ("12-34", ()),  # plain but too short to name anyone
        ("8613812345678", ("13812345678",)),  # plain with the country code
        ("0086-138-1234-5678", ("13812345678",)),
        ("86-755-8888-1234", ("075588881234",)),  # +86 drops a landline's trunk 0
        ("-1234567", ("1234567",)),  # a dash first: read the general way
        ("１３８－１２３４－５６７８", ("13812345678",)),  # full width: plain after NFKC
        ("٠٧٥٥٨٨٨٨١٢٣٤", ("٠٧٥٥٨٨٨٨١٢٣٤",)),  # digits, not ASCII: the general way
        ("13812345678\n13912345678", ("13812345678", "13912345678")),  # a line break inside
        ("1381234567x", ("1381234567",)),
        ("Li.Lei@Example.com", ("li.lei@example.com",)),
        (13812345678, ("13812345678",)),  # a number cell
        (None, ()),
        ("  ", ()),
    ],
)
def test_contact_keys_of_a_column_read_plain_numbers_as_the_general_way_would(
    cell: Any, keys: tuple[str, ...]
) -> None:
    column = [cell, "0755-8888-1234", cell]  # each cell in the company of a plain one
    assert customers_module._cell_contact_keys(column) == [keys, ("075588881234",), keys]
    assert customers_module.contact_keys(cell) == set(keys)


def test_contact_keys_of_an_empty_column_are_none() -> None:
    assert customers_module._cell_contact_keys([]) == []


# --- shared keys and groups -----------------------------------------------------------------


def test_shared_keys_are_numbered_company_keys_first_in_order_of_first_appearance() -> None:
    lead, key, keys = customers_module._shared_keys(
        ["乙", "", "甲", "乙", "甲", "丙"],
        [("1",), ("2", "1"), (), ("2",), (), ("3",)],
    )
    assert keys == ["乙", "甲", "1", "2"]  # 丙 and 3 are on one lead only
    assert list(zip(lead.tolist(), key.tolist(), strict=True)) == [
        (0, 0),
        (2, 1),
        (3, 0),
        (4, 1),
        (0, 2),
        (1, 3),
        (1, 2),
        (3, 3),
    ]


def test_no_shared_key_means_no_entries() -> None:
    lead, key, keys = customers_module._shared_keys(["甲", "乙"], [(), ("1",)])
    assert (lead.tolist(), key.tolist(), keys) == ([], [], [])
    lead, key, keys = customers_module._shared_keys([], [])
    assert (lead.tolist(), key.tolist(), keys) == ([], [], [])


def test_smallest_linked_lead_joins_through_chains_of_keys() -> None:
    # key 0 on leads 3 and 1, key 1 on leads 1 and 4, key 2 on 0 and 2; lead 5 shares nothing
    lead = np.array([3, 1, 1, 4, 0, 2])
    key = np.array([0, 0, 1, 1, 2, 2])
    assert customers_module._smallest_linked(lead, key, 6).tolist() == [0, 1, 0, 1, 1, 5]
    assert customers_module._smallest_linked(lead[:0], key[:0], 3).tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    ("values", "runs"),
    [
        ([], []),
        ([4], [(0, 1)]),
        ([0, 0, 2, 5, 5, 5], [(0, 2), (2, 3), (3, 6)]),
    ],
)
def test_runs_of_a_sorted_array(values: list[int], runs: list[tuple[int, int]]) -> None:
    assert customers_module._runs(np.array(values, dtype=np.int64)) == runs


def test_leads_sharing_nothing_make_no_group() -> None:
    tables = leads_of(
        {"Customer": "甲公司", "Phone or e-mail": "13812345678"},
        {"Customer": "乙公司", "Phone or e-mail": "13912345678"},
    )
    assert group_duplicates(tables["leads"]) == []


def _bare_leads(rows: list[list[Any]]) -> TableData:
    """A Leads tab with only the columns given (no phone, owner or time columns)."""
    raw = [RawSheet("Leads", [list(row) for row in rows])]
    binding = bind_workbook(raw, lang=Lang.EN)
    tables, _ = parse_tables(binding, ParseContext(lang=Lang.EN))
    return tables["leads"]


def test_a_table_without_rows_has_no_groups() -> None:
    assert group_duplicates(_bare_leads([["Lead ID", "Customer", "Stage"]])) == []


def test_groups_without_phone_owner_or_time_columns_keep_their_first_row() -> None:
    leads = _bare_leads(
        [
            ["Lead ID", "Customer", "Stage"],
            ["L1", "乙有限公司", "lead"],
            ["L2", "甲公司", "lead"],
            ["L3", "乙", "lead"],
            ["L4", "甲", "lead"],
        ]
    )
    groups = group_duplicates(leads)
    assert [(g.members, g.keep_row, g.matched_on) for g in groups] == [
        (((2, None), (4, None)), 2, ("乙",)),
        (((3, None), (5, None)), 3, ("甲",)),
    ]


@pytest.mark.parametrize(
    ("leads", "keep"),
    [
        # a date is its midnight: 06-01 00:00 comes before 06-01 09:00
        ([{"Assigned at": "2026-06-01 09:00"}, {"Assigned at": date(2026, 6, 1)}], 3),
        ([{"Assigned at": datetime(2026, 6, 1, 9)}, {"Assigned at": "2026-06-01 08:59"}], 3),
        # an unreadable time is a blank one: it comes after any time
        ([{"Assigned at": "soon"}, {"Assigned at": "2026-06-09"}], 3),
        ([{"Created at": "n/a"}, {"Created at": "2026-06-09"}], 3),
        ([{"Assigned at": "soon"}, {"Assigned at": "later"}], 2),
        # a blank assignment comes after an assigned lead however late it was created
        (
            [
                {"Created at": "2026-06-01"},
                {"Created at": "2026-06-09", "Assigned at": "2026-06-10"},
            ],
            3,
        ),
    ],
)
def test_keep_row_reads_dates_datetimes_and_unreadable_times(
    leads: list[dict[str, Any]], keep: int
) -> None:
    rows = lead_rows(*({"Customer": "Acme Inc.", **lead} for lead in leads))
    raw = [RawSheet("Leads", rows)]
    tables, _ = parse_tables(bind_workbook(raw, lang=Lang.EN), ParseContext(lang=Lang.EN))
    [group] = group_duplicates(tables["leads"])
    assert group.keep_row == keep


def test_groups_come_in_order_of_their_first_row_with_their_keys_sorted() -> None:
    tables = leads_of(
        {"Customer": "丙", "Phone or e-mail": "a@x.com"},
        {"Customer": "乙", "Owner": "Li Lei"},
        {"Customer": "甲", "Phone or e-mail": "13812345678"},
        {"Customer": "乙", "Owner": "Han Mei"},
        {"Customer": "丁", "Phone or e-mail": "A@x.com; 13812345678"},
    )
    groups = group_duplicates(tables["leads"])
    assert [(g.members, g.keep_row, g.matched_on) for g in groups] == [
        (((2, None), (4, None), (6, None)), 2, ("13812345678", "a@x.com")),
        (((3, "Li Lei"), (5, "Han Mei")), 3, ("乙",)),
    ]


# --- findings -------------------------------------------------------------------------------


def test_findings_compare_and_hash_by_value() -> None:
    one = Finding("duplicate-customer", "leads", 2, "customer", value="Li Lei")
    assert one == Finding("duplicate-customer", "leads", 2, "customer", value="Li Lei")
    assert one != Finding("duplicate-customer", "leads", 3, "customer", value="Li Lei")
    with pytest.raises(TypeError):  # its params are a dict, as when it was frozen
        hash(one)
