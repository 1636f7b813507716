"""Binding tabs and headers on real workbooks written to disk and read back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.backends.xlsx import XlsxBackend
from sync.core.headers import bind_workbook, column_letter, column_number
from sync.core.schema import SCHEMA, Lang
from sync.core.text import fold


def bind(path: Path, lang: Lang | None = None):
    return bind_workbook(XlsxBackend(path).read().sheets, lang=lang)


def test_zh_hant_headers_reordered_below_a_title_with_extra_columns(xlsx: Callable) -> None:
    path = xlsx(
        {
            "線索跟蹤": [
                ["銷售線索跟蹤表"],
                [],
                [
                    "客戶名稱",
                    "我的備註",
                    "來源類型",
                    "線索編號",
                    "聯系人",
                    "篩選結果（A/B/C類）",
                    "ＢＵＤＧＥＴ",
                ],
                ["甲公司", "自己的", "展會-行業展", "L-1", "王先生", "", "是"],
            ],
        }
    )
    binding = bind(path)
    leads = binding.tables["leads"]
    assert binding.lang is Lang.ZH_HANT
    assert leads.header_row == 3
    assert leads.columns == {
        "customer": 1,
        "source": 3,
        "lead_id": 4,
        "contact": 5,
        "bant_class": 6,
        "budget": 7,
    }
    assert leads.last_column == 7  # the extra column 我的備註 is kept, ignored
    assert [i.code for i in binding.issues if i.tab == "線索跟蹤"] == []


@pytest.mark.parametrize("lang", list(Lang))
def test_every_tab_is_found_by_its_name_in_each_language(xlsx: Callable, lang: Lang) -> None:
    sheets = {t.title(lang): [[f.headers[lang] for f in t.fields]] for t in SCHEMA.data_tables}
    binding = bind(xlsx(sheets))
    assert binding.lang is lang
    assert set(binding.tables) == {t.name for t in SCHEMA.data_tables}
    for table in SCHEMA.data_tables:
        assert len(binding.tables[table.name].columns) == len(table.fields)
    assert binding.issues == []


def test_a_tab_with_an_unknown_name_is_recognised_by_its_header(xlsx: Callable) -> None:
    path = xlsx({"Sheet1": [["Invoice no.", "Contract ID", "Invoice amount"], ["F1", "C1", 10]]})
    binding = bind(path)
    assert binding.tables["collections"].sheet.name == "Sheet1"


def test_duplicate_headers_are_reported_and_neither_column_is_used(xlsx: Callable) -> None:
    path = xlsx(
        {"Leads": [["Lead ID", "Source", "Customer", "客户名称"], ["L1", "Other", "A", "B"]]}
    )
    binding = bind(path)
    [issue] = [i for i in binding.issues if i.code == "duplicate-header"]
    assert (issue.tab, issue.row, issue.column) == ("Leads", 1, "D")
    assert "C, D" in issue.message
    assert "customer" not in binding.tables["leads"].columns


def test_a_vague_header_is_reported_as_ambiguous_never_guessed(xlsx: Callable) -> None:
    path = xlsx({"线索跟踪": [["线索编号", "来源类型", "客户名称", "时间"]]})
    binding = bind(path)
    [issue] = [i for i in binding.issues if i.code == "ambiguous-header"]
    assert (issue.column, issue.value) == ("D", "时间")
    assert "创建时间" in issue.message and "分配时间" in issue.message


def test_missing_required_column_and_missing_tab(xlsx: Callable) -> None:
    binding = bind(xlsx({"Leads": [["Lead ID", "Customer"]]}), Lang.EN)
    codes = {(i.code, i.header or i.tab) for i in binding.issues}
    assert ("missing-column", "Source") in codes
    assert ("missing-tab", "Follow-ups") in codes


def test_header_row_not_found_in_a_tab_with_content(xlsx: Callable) -> None:
    binding = bind(xlsx({"Leads": [["just some notes"], ["more notes"]]}), Lang.EN)
    assert [i.code for i in binding.issues if i.tab == "Leads"] == ["header-not-found"]


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("  客 户 名 称 ", "客户名称"),
        ("ＬＥＡＤ　ＩＤ", "lead id"),
        ("筛选结果(A/B/C类)", "筛选结果"),
        ("⚙ 系統提示", "系统提示"),
        ("聯系人", "联系人"),
        ("聯繫人", "联系人"),
    ],
)
def test_fold_ignores_width_case_space_script_and_hints(typed: str, canonical: str) -> None:
    assert fold(typed) == fold(canonical)
    assert fold(fold(typed)) == fold(typed)


@pytest.mark.parametrize(("col", "letters"), [(1, "A"), (26, "Z"), (27, "AA"), (16_384, "XFD")])
def test_column_letters(col: int, letters: str) -> None:
    assert column_letter(col) == letters
    assert column_number(letters) == column_number(letters.lower()) == col
    assert column_number(letters.encode()) == col


@given(st.integers(min_value=1, max_value=16_384))
def test_column_number_reverses_column_letter(col: int) -> None:
    assert column_number(column_letter(col)) == col
