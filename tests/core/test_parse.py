"""Parsing raw cells into typed values: every kind, every accepted spelling, and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import numpy as np
import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.core.headers import bind_workbook
from sync.core.issues import CODES
from sync.core.model import ExcelError, RawSheet
from sync.core.parse import (
    ParseContext,
    ParsedColumn,
    Period,
    Problem,
    blank_cells,
    choice_lookup,
    excel_serial_to_datetime,
    find_date_in_text,
    is_blank,
    parse_column,
    parse_date_text,
    parse_period_text,
    parse_value,
)
from sync.core.schema import (
    AMOUNT_UNIT,
    BANT_CLASS,
    COMPLEXITY,
    LANGUAGE,
    METHOD,
    SCHEMA,
    SEVERITY,
    SOURCE,
    STAGE,
    YES_NO,
    Choices,
    Field,
    Kind,
    Lang,
)
from sync.core.tables import data_row_numbers, parse_table
from sync.core.text import fold

CTX = ParseContext()  # as_of 2026-01-01, yuan, zh-Hans
WAN = ParseContext(amount_unit="wan_yuan")
ALL_CHOICES = (
    YES_NO,
    SOURCE,
    STAGE,
    METHOD,
    BANT_CLASS,
    COMPLEXITY,
    SEVERITY,
    AMOUNT_UNIT,
    LANGUAGE,
)


def fld(kind: Kind, choices: Choices | None = None) -> Field:
    return Field("x", kind, {Lang.ZH_HANS: "x", Lang.ZH_HANT: "x", Lang.EN: "x"}, choices=choices)


FIELDS = {
    kind: fld(kind, YES_NO if kind is Kind.BOOL else SOURCE if kind is Kind.ENUM else None)
    for kind in Kind
}


def value_of(raw, kind: Kind, ctx: ParseContext = CTX):
    value, problem = parse_value(raw, FIELDS[kind], ctx)
    assert problem is None, (raw, problem)
    return value


def code_of(raw, kind: Kind, ctx: ParseContext = CTX) -> str | None:
    value, problem = parse_value(raw, FIELDS[kind], ctx)
    if problem is not None and problem.code != "year-inferred":
        assert value is None
    return None if problem is None else problem.code


# --- blanks and errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", [None, "", " ", "\t\n", "\u3000", "\xa0", " \u3000\u200b ", float("nan")]
)
def test_blank(raw):
    assert is_blank(raw)
    for kind in Kind:
        assert parse_value(raw, FIELDS[kind], CTX) == (None, None)


@pytest.mark.parametrize("raw", ["x", 0, 0.0, False, "0", date(2026, 1, 1), ExcelError("#N/A")])
def test_not_blank(raw):
    assert not is_blank(raw)


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("code", ["#N/A", "#DIV/0!", "#REF!", "#VALUE!"])
def test_excel_error_for_every_kind(kind, code):
    assert parse_value(ExcelError(code), FIELDS[kind], CTX) == (None, Problem("excel-error"))


def test_problem_codes_are_registered():
    for code in (
        "excel-error",
        "invalid-date",
        "invalid-number",
        "invalid-bool",
        "invalid-choice",
        "invalid-period",
        "year-inferred",
    ):
        assert code in CODES


# --- text, id, phone ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  客户A \u3000", "客户A"),
        (123, "123"),
        (123.0, "123"),
        (-4.0, "-4"),
        (1.5, "1.5"),
        (0.1, "0.1"),
        (True, "TRUE"),
        (False, "FALSE"),
        (date(2026, 6, 2), "2026-06-02"),
        (datetime(2026, 6, 2), "2026-06-02"),
        (datetime(2026, 6, 2, 14, 30), "2026-06-02 14:30"),
        (datetime(2026, 6, 2, 14, 30, 5), "2026-06-02 14:30:05"),
        (time(9, 5), "09:05:00"),
        ("ＡＢＣ", "ＡＢＣ"),  # text is kept as typed, only trimmed
    ],
)
def test_text(raw, expected):
    assert value_of(raw, Kind.TEXT) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" L-001 ", "L-001"),
        (1001.0, "1001"),
        (1001, "1001"),
        ("ＬＤ－００１", "LD-001"),
        ("\u3000Ｃ１２３\u3000", "C123"),
        ("线索１", "线索1"),
    ],
)
def test_id(raw, expected):
    assert value_of(raw, Kind.ID) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0755-1234567", "0755-1234567"),
        ("013812345678", "013812345678"),
        (" 138 1234 5678 ", "138 1234 5678"),
        ("a@b.cn", "a@b.cn"),
        (13812345678, "13812345678"),
        (13812345678.0, "13812345678"),
    ],
)
def test_phone(raw, expected):
    assert value_of(raw, Kind.PHONE) == expected


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "2026-06-02",
        "2026-06-02T14:30",
        "2026-06-02T14:30:00",
        "2026-06-02 14:30",
        "2026/6/2",
        "2026/6/2 9:05",
        "2026/06/02",
        "2026.6.2",
        "2026-6-2 14:30",
        "2026年6月2日",
        "2026年6月2日 14:30",
        "2026年6月2日14:30",
        "2026年6月2号",
        "2026 年 6 月 2 日",
        "20260602",
        "２０２６－０６－０２",
        "２０２６／６／２　１４：３０",
        "２０２６年６月２日",
        " 2026-06-02 ",
        date(2026, 6, 2),
        datetime(2026, 6, 2, 14, 30),
        46175,  # Excel serial of 2026-06-02
        46175.0,
        46175.6,
        20260602,  # a date typed as a number
    ],
)
def test_date_forms(raw):
    assert value_of(raw, Kind.DATE) == date(2026, 6, 2)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-06-02", datetime(2026, 6, 2)),
        ("2026-06-02T14:30", datetime(2026, 6, 2, 14, 30)),
        ("2026-06-02T14:30:15", datetime(2026, 6, 2, 14, 30, 15)),
        ("2026-06-02 14:30:15.25", datetime(2026, 6, 2, 14, 30, 15, 250000)),
        ("2026/6/2 9:05", datetime(2026, 6, 2, 9, 5)),
        ("2026-6-2 14:30", datetime(2026, 6, 2, 14, 30)),
        ("2026年6月2日 14:30", datetime(2026, 6, 2, 14, 30)),
        ("2026年6月2号 8:00", datetime(2026, 6, 2, 8, 0)),
        ("２０２６－０６－０２　１４：３０", datetime(2026, 6, 2, 14, 30)),
        (date(2026, 6, 2), datetime(2026, 6, 2)),
        (datetime(2026, 6, 2, 14, 30), datetime(2026, 6, 2, 14, 30)),
        (46175.5, datetime(2026, 6, 2, 12, 0)),
        (46175 + (14 * 60 + 30) / 1440, datetime(2026, 6, 2, 14, 30)),
    ],
)
def test_datetime_forms(raw, expected):
    assert value_of(raw, Kind.DATETIME) == expected


@pytest.mark.parametrize("kind", [Kind.DATE, Kind.DATETIME])
@pytest.mark.parametrize(
    "raw",
    [
        "2026-13-45",
        "2026-2-30",
        "2026/02/29",
        "2025年2月29日",
        "2026-06-02 24:00",
        "2026-06-02 14:60",
        "2026-06",
        "6-2",
        "6/2",
        "2026-06/02",
        "下周",
        "明天",
        "TBD",
        "46175",  # a serial typed as text is not a date
        "2026-06-02 下午",
        time(9, 0),
        timedelta(days=1),
        True,
        59,  # a serial outside 1954–2119
        100000,
        -3,
        1e300,
        float("inf"),
        20261399,
    ],
)
def test_invalid_dates(kind, raw):
    assert code_of(raw, kind) == "invalid-date"


@pytest.mark.parametrize(
    ("raw", "as_of", "expected"),
    [
        ("6月2日", date(2026, 1, 1), date(2026, 6, 2)),
        ("6月2号", date(2026, 1, 1), date(2026, 6, 2)),
        ("６月２日", date(2026, 1, 1), date(2026, 6, 2)),
        ("7月1日", date(2026, 1, 1), date(2026, 7, 1)),  # 181 days ahead: this year
        ("7月5日", date(2026, 1, 1), date(2025, 7, 5)),  # 185 days ahead: last year
        ("12月31日", date(2026, 1, 1), date(2025, 12, 31)),
        ("12月31日", date(2026, 12, 1), date(2026, 12, 31)),
        ("1月3日", date(2026, 11, 20), date(2026, 1, 3)),
        ("2月29日", date(2025, 3, 1), date(2024, 2, 29)),
        ("2月29日", date(2028, 3, 1), date(2028, 2, 29)),
    ],
)
def test_year_inferred(raw, as_of, expected):
    ctx = ParseContext(as_of=as_of)
    value, problem = parse_value(raw, FIELDS[Kind.DATE], ctx)
    assert value == expected
    assert problem == Problem("year-inferred", {"year": expected.year})


def test_year_inferred_with_time():
    value, problem = parse_value("6月2日 14:30", FIELDS[Kind.DATETIME], CTX)
    assert value == datetime(2026, 6, 2, 14, 30)
    assert problem == Problem("year-inferred", {"year": 2026})


def test_yearless_feb_29_without_leap_year_nearby_is_invalid():
    assert code_of("2月29日", Kind.DATE, ParseContext(as_of=date(2026, 6, 1))) == "invalid-date"


def test_parse_date_text():
    assert parse_date_text("2026-06-02", CTX).value == date(2026, 6, 2)
    found = parse_date_text("6月2日 9:30", CTX)
    assert found.value == datetime(2026, 6, 2, 9, 30)
    assert found.year_inferred
    assert parse_date_text("not a date", CTX) is None


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (1, datetime(1900, 1, 1)),
        (59, datetime(1900, 2, 28)),
        (60, datetime(1900, 2, 28)),  # Excel's fictitious 1900-02-29
        (61, datetime(1900, 3, 1)),
        (25569, datetime(1970, 1, 1)),
        (45658, datetime(2025, 1, 1)),
        (46175.25, datetime(2026, 6, 2, 6, 0)),
        (2958465, datetime(9999, 12, 31)),
    ],
)
def test_excel_serial(serial, expected):
    assert excel_serial_to_datetime(serial) == expected


def test_excel_serial_1904():
    assert excel_serial_to_datetime(0, date1904=True) == datetime(1904, 1, 1)
    assert excel_serial_to_datetime(45658 - 1462, date1904=True) == datetime(2025, 1, 1)


@pytest.mark.parametrize("serial", [-1, 2958466, float("nan")])
def test_excel_serial_out_of_range(serial):
    with pytest.raises(ValueError):
        excel_serial_to_datetime(serial)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7月21日再次跟进", date(2025, 7, 21)),
        ("客户说3月2号前给答复", date(2026, 3, 2)),
        ("约2026-08-01前回复", date(2026, 8, 1)),
        ("2026/8/1 再联系", date(2026, 8, 1)),
        ("下次：2026年8月1日", date(2026, 8, 1)),
        ("2026年13月1日不对，改为3月2日", date(2026, 3, 2)),
        ("７月２１日", date(2025, 7, 21)),
        ("下周", None),
        ("", None),
        ("报价单号 20260801", None),
        ("1/2 的客户", None),
        ("订单12026-08-01", None),
    ],
)
def test_find_date_in_text(text, expected):
    assert find_date_in_text(text, CTX) == expected


# --- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (12, 12.0),
        (12.5, 12.5),
        ("12.5", 12.5),
        ("-3", -3.0),
        ("+3", 3.0),
        ("−3", -3.0),
        ("1,234.5", 1234.5),
        ("1，234", 1234.0),
        ("1 234", 1234.0),
        ("1\u2009234", 1234.0),
        ("１２３", 123.0),
        ("¥1,200", 1200.0),
        ("￥1200", 1200.0),
        ("RMB 1200", 1200.0),
        ("CNY1200", 1200.0),
        ("$99", 99.0),
        ("1200元", 1200.0),
        ("12%", 0.12),
        ("0.5%", 0.005),
        (".5", 0.5),
        ("1e3", 1000.0),
    ],
)
def test_number(raw, expected):
    assert value_of(raw, Kind.NUMBER) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "1,2",
        "12,34",
        "1.2.3",
        "--3",
        "3-",
        "(1,200)",
        "nan",
        "inf",
        "1_000",
        "50万",
        "0x10",
        True,
        False,
        date(2026, 1, 1),
        time(1, 2),
        float("inf"),
        "1e99999",
        "¥",
        "%",
    ],
)
def test_invalid_number(raw):
    assert code_of(raw, Kind.NUMBER) == "invalid-number"


@pytest.mark.parametrize(
    ("raw", "yuan", "wan_yuan"),
    [
        ("50万", 500000.0, 50.0),
        ("50万元", 500000.0, 50.0),
        ("50 万", 500000.0, 50.0),
        ("５０万", 500000.0, 50.0),
        ("1.2亿", 120000000.0, 12000.0),
        ("3千", 3000.0, 0.3),
        ("3k", 3000.0, 0.3),
        ("3K", 3000.0, 0.3),
        ("5w", 50000.0, 5.0),
        ("5W", 50000.0, 5.0),
        ("2百万", 2000000.0, 200.0),
        ("5000元", 5000.0, 0.5),
        ("¥5000元", 5000.0, 0.5),
        ("0.1万", 1000.0, 0.1),
        # a bare number is already in the workbook's unit
        ("5000", 5000.0, 5000.0),
        ("¥5,000", 5000.0, 5000.0),
        ("RMB 50", 50.0, 50.0),
        (5000, 5000.0, 5000.0),
        (12.5, 12.5, 12.5),
        ("-1,200", -1200.0, -1200.0),
    ],
)
def test_amount(raw, yuan, wan_yuan):
    assert value_of(raw, Kind.AMOUNT, CTX) == yuan
    assert value_of(raw, Kind.AMOUNT, WAN) == wan_yuan


@pytest.mark.parametrize(
    "raw", ["12%", "万", "50万万", "a lot", "50万%", "1,2万", True, date(2026, 1, 1)]
)
def test_invalid_amount(raw):
    assert code_of(raw, Kind.AMOUNT) == "invalid-number"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(3, 3), (3.0, 3), ("3", 3), ("3.0", 3), ("1,000", 1000), ("-2", -2), ("３", 3), ("1e3", 1000)],
)
def test_integer(raw, expected):
    value = value_of(raw, Kind.INTEGER)
    assert value == expected
    assert type(value) is int


@pytest.mark.parametrize(
    "raw", [3.5, "3.5", "3%", "3万", "three", True, float("inf"), -float("inf")]
)
def test_invalid_integer(raw):
    assert code_of(raw, Kind.INTEGER) == "invalid-number"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("85%", 0.85),
        ("85 %", 0.85),
        ("８５％", 0.85),
        ("85.5%", 0.855),
        ("0.1%", 0.001),
        ("150%", 1.5),
        (0.85, 0.85),
        (1, 1.0),
        (0, 0.0),
        (85, 0.85),
        (85.0, 0.85),
        (100, 1.0),
        ("85", 0.85),
        ("0.85", 0.85),
        ("1", 1.0),
        ("150", 150.0),  # out of range: left for the range check
    ],
)
def test_percent(raw, expected):
    assert value_of(raw, Kind.PERCENT) == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("raw", ["high", "85万", "%", True, date(2026, 1, 1)])
def test_invalid_percent(raw):
    assert code_of(raw, Kind.PERCENT) == "invalid-number"


# --- yes/no ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        True,
        1,
        1.0,
        "是",
        "Y",
        "y",
        "yes",
        "YES",
        "Ｙｅｓ",
        "✓",
        "✔",
        "√",
        "TRUE",
        "true",
        "1",
        "有",
        "对",
        " 是 ",
    ],
)
def test_bool_yes(raw):
    assert value_of(raw, Kind.BOOL) is True


@pytest.mark.parametrize(
    "raw", [False, 0, 0.0, "否", "N", "no", "No", "✗", "✘", "×", "FALSE", "0", "无", "没有", "不是"]
)
def test_bool_no(raw):
    assert value_of(raw, Kind.BOOL) is False


@pytest.mark.parametrize("raw", ["maybe", "待定", 2, 0.5, "是否", date(2026, 1, 1)])
def test_invalid_bool(raw):
    assert code_of(raw, Kind.BOOL) == "invalid-bool"


def test_bool_field_without_choices_uses_yes_no():
    assert parse_value("是", fld(Kind.BOOL), CTX) == (True, None)


# --- enumerations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("trade_show", "trade_show"),
        ("行业展会", "trade_show"),
        ("行業展會", "trade_show"),
        ("Trade show", "trade_show"),
        ("TRADE SHOW", "trade_show"),
        ("ｔｒａｄｅ　ｓｈｏｗ", "trade_show"),
        ("展会", "trade_show"),
        ("展会-行业展", "trade_show"),
        ("展会－行业展", "trade_show"),
        ("展会—上海", "trade_show"),
        ("展会：上海车展", "trade_show"),
        ("展会:上海", "trade_show"),
        ("展会（行业展）", "trade_show"),
        ("展会(上海)", "trade_show"),
        ("Expo - Shanghai", "trade_show"),
        ("官网", "website"),
        ("官網註冊", "website"),
        ("渠道-华东代理", "partner"),
        ("其它", "other"),
        ("其他-朋友介绍", "other"),
    ],
)
def test_enum_source(raw, expected):
    assert value_of(raw, Kind.ENUM) == expected


@pytest.mark.parametrize(
    ("choices", "raw", "expected"),
    [
        (STAGE, "成交", "won"),
        (STAGE, "贏單", "won"),
        (STAGE, "Closed Won", "won"),
        (BANT_CLASS, "a", "A"),
        (BANT_CLASS, "Ｂ类", "B"),
        (METHOD, "電話", "phone"),
        (METHOD, "E-mail", "email"),
        (LANGUAGE, "zh-CN", "zh-Hans"),
        (AMOUNT_UNIT, "萬元", "wan_yuan"),
    ],
)
def test_enum_other_choices(choices, raw, expected):
    assert parse_value(raw, fld(Kind.ENUM, choices), CTX) == (expected, None)


def test_enum_number_cell_matches_its_text():
    assert parse_value(1, fld(Kind.ENUM, YES_NO), CTX) == ("yes", None)


def test_enum_without_detail_separator_does_not_split():
    assert value_of("官网-上午", Kind.ENUM) == "website"  # SOURCE has a separator; METHOD not:
    value, problem = parse_value("电话-上午", fld(Kind.ENUM, METHOD), CTX)
    assert value is None
    assert problem.code == "invalid-choice"


@pytest.mark.parametrize(
    ("lang", "allowed"),
    [
        (Lang.ZH_HANS, "官网注册、行业展会、转介绍、线上广告、客户推荐、其他"),
        (Lang.ZH_HANT, "官網註冊、行業展會、轉介紹、線上廣告、客戶推薦、其他"),
        (Lang.EN, "Website, Trade show, Partner referral, Online ads, Customer referral, Other"),
    ],
)
def test_invalid_choice_lists_allowed_labels(lang, allowed):
    value, problem = parse_value("电视", FIELDS[Kind.ENUM], ParseContext(lang=lang))
    assert value is None
    assert problem == Problem("invalid-choice", {"allowed": allowed})


@pytest.mark.parametrize("choices", ALL_CHOICES, ids=lambda c: c.name)
def test_every_spelling_maps_to_its_choice(choices):
    for choice in choices.choices:
        for label in choice.labels.values():
            assert parse_value(label, fld(Kind.ENUM, choices), CTX) == (choice.key, None)
        assert parse_value(choice.key, fld(Kind.ENUM, choices), CTX) == (choice.key, None)
    # aliases map to their own choice, except where a key or label of another choice wins
    lookup = choice_lookup(choices)
    assert set(lookup.values()) == {c.key for c in choices.choices}


@pytest.mark.parametrize("choices", ALL_CHOICES, ids=lambda c: c.name)
def test_no_spelling_is_shared_by_two_choices(choices):
    seen: dict[str, str] = {}
    for choice in choices.choices:
        for spelling in set(map(fold, choice.spellings())):
            assert seen.setdefault(spelling, choice.key) == choice.key, spelling


def test_schema_enum_and_bool_fields_have_choices():
    for table in SCHEMA.tables:
        for f in table.fields:
            if f.kind in (Kind.ENUM, Kind.BOOL):
                assert f.choices is not None, f.name


# --- periods --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-07", Period(2026, 7)),
        ("2026-7", Period(2026, 7)),
        ("2026/7", Period(2026, 7)),
        ("2026.07", Period(2026, 7)),
        ("2026年7月", Period(2026, 7)),
        ("2026年07月份", Period(2026, 7)),
        ("202607", Period(2026, 7)),
        ("２０２６－０７", Period(2026, 7)),
        (202607, Period(2026, 7)),
        (date(2026, 7, 9), Period(2026, 7)),
        (datetime(2026, 7, 31, 23, 59), Period(2026, 7)),
        ("2026-07-09", Period(2026, 7)),
        ("2026Q3", Period(2026, quarter=3)),
        ("2026q3", Period(2026, quarter=3)),
        ("2026 Q3", Period(2026, quarter=3)),
        ("2026-Q3", Period(2026, quarter=3)),
        ("2026年Q3", Period(2026, quarter=3)),
        ("2026年第3季度", Period(2026, quarter=3)),
        ("2026年三季度", Period(2026, quarter=3)),
        ("2026年第三季度", Period(2026, quarter=3)),
        ("2026年第一季", Period(2026, quarter=1)),
        ("Q3 2026", Period(2026, quarter=3)),
        ("Q4-2026", Period(2026, quarter=4)),
        ("２０２６Ｑ３", Period(2026, quarter=3)),
    ],
)
def test_period(raw, expected):
    assert value_of(raw, Kind.PERIOD) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "2026-13",
        "2026-00",
        "2026Q5",
        "2026年第五季度",
        "Q0 2026",
        "7月",
        "2026",
        "下季度",
        "x",
        "6月2日",
        2026.5,
        46175,
        True,
        time(1, 0),
    ],
)
def test_invalid_period(raw):
    assert code_of(raw, Kind.PERIOD) == "invalid-period"


def test_period_methods():
    july = Period(2026, 7)
    q3 = Period(2026, quarter=3)
    q1 = Period(2026, quarter=1)
    assert (str(july), str(q3)) == ("2026-07", "2026Q3")
    assert (july.start(), july.end()) == (date(2026, 7, 1), date(2026, 7, 31))
    assert (q3.start(), q3.end()) == (date(2026, 7, 1), date(2026, 9, 30))
    assert Period(2024, 2).end() == date(2024, 2, 29)
    assert Period(2026, quarter=4).end() == date(2026, 12, 31)
    assert q1.months() == ((2026, 1), (2026, 2), (2026, 3))
    assert july.months() == ((2026, 7),)
    assert q3.contains(date(2026, 8, 15))
    assert q3.contains(datetime(2026, 9, 30, 23, 59))
    assert not q3.contains(date(2026, 10, 1))
    assert sorted([Period(2026, 8), q3, july, q1, Period(2025, 12)]) == [
        Period(2025, 12),
        q1,
        july,
        q3,
        Period(2026, 8),
    ]
    assert parse_period_text("2026Q3") == q3
    with pytest.raises(ValueError):
        Period(2026, 13)
    with pytest.raises(ValueError):
        Period(2026, 1, 1)


# --- columns --------------------------------------------------------------------------------


def test_parse_column_matches_parse_value():
    raw = [
        "2026-06-02",
        "",
        None,
        "6月2日",
        "junk",
        46175,
        date(2026, 1, 1),
        ExcelError("#REF!"),
        "2026-06-02",
        "\u3000",
        True,
    ]
    for kind in Kind:
        column = parse_column(raw, FIELDS[kind], CTX)
        assert len(column.values) == len(raw)
        for i, cell in enumerate(raw):
            value, problem = parse_value(cell, FIELDS[kind], CTX)
            assert column.values[i] == value, (kind, cell)
            assert column.problems.get(i) == problem, (kind, cell)


def test_parse_column_problems_by_index():
    column = parse_column(["50万", "x", None, "¥1,200", "x"], FIELDS[Kind.AMOUNT], CTX)
    assert column.values == [500000.0, None, None, 1200.0, None]
    assert column.problems == {1: Problem("invalid-number"), 4: Problem("invalid-number")}


@pytest.mark.parametrize(
    ("kind", "cells"),
    [
        (Kind.DATE, ["2026-06-02", "2026/6/3", None, "", 46175.0, datetime(2026, 1, 1), "6月2日"]),
        (Kind.DATETIME, ["2026-06-02 14:30", 46175.5, date(2026, 1, 1), "bad"]),
        (Kind.AMOUNT, ["50万", 1200.0, 3, "x", float("nan")]),
        (Kind.ENUM, ["展会", "官网", "电视", ""]),
        (Kind.TEXT, ["a", " b ", 1.0, None]),
        (Kind.ID, ["L-1", 2.0]),
        (Kind.BOOL, ["是", "否", True, 0]),
        (Kind.PERIOD, ["2026-07", "2026Q3"]),
    ],
)
def test_parse_column_200k_repeated(kind, cells):
    raw = cells * (200_000 // len(cells))
    column = parse_column(raw, FIELDS[kind], CTX)
    assert len(column.values) == len(raw)
    small = parse_column(cells, FIELDS[kind], CTX)
    assert column.values[: len(cells)] == small.values
    assert column.values[-len(cells) :] == small.values
    assert len(column.problems) == len(small.problems) * (200_000 // len(cells))


class Text(str):
    """A str subclass, the way some readers hand text over."""


CST = timezone(timedelta(hours=8))
# Cells that take the column-wise paths apart: equal values of different types or signs, blanks
# of every sort, zero-width marks, NULs (the texts are joined by NULs), width variants, errors.
TRICKY_CELLS = [
    None, "", " ", "\u3000", "\u200b", " \u200b ", "\u200ba\u200b", "\ufeff官网", "a", " a ",
    "\x00", "a\x00", "\x00\x00", "\u00a8", Text(" t "), Text(""), "Ｌ-1", " ｌｅａｄ-1 ", "L-1",
    "50万", "85%", "x", "2026-06-02", "6月2日", "2026Q3", "是", "否", "官网", "展会-行业展",
    0, 1, -1, 2**70, True, False, 0.0, -0.0, 1.0, 85.0, 0.85, 150.0, float("nan"), float("inf"),
    -float("inf"), 46175, 46175.5, 20260602, 202607, np.float64(0.5), date(2026, 1, 1),
    datetime(2026, 1, 1), datetime(2026, 1, 1, 9, 30), datetime(2025, 12, 31, 20, tzinfo=UTC),
    datetime(2026, 1, 1, 4, tzinfo=CST), time(1, 0), timedelta(days=1), ExcelError("#N/A"),
    Period(2026, 7),
]  # fmt: skip


def exactly(column: ParsedColumn) -> tuple:
    """A parsed column with the type of every value, so that 0.0 and -0.0, 1 and 1.0 or a date
    and its midnight do not pass for each other; problems in their order."""
    values = [(type(v), repr(v)) for v in column.values]
    return values, list(column.problems.items())


def one_by_one(cells: list, field: Field, ctx: ParseContext) -> ParsedColumn:
    parsed = [parse_value(cell, field, ctx) for cell in cells]
    problems = {i: p for i, (_, p) in enumerate(parsed) if p is not None}
    return ParsedColumn([v for v, _ in parsed], problems)


@settings(max_examples=400)
@given(
    st.lists(st.sampled_from(TRICKY_CELLS), max_size=40),
    st.sampled_from(list(Kind)),
    st.sampled_from([CTX, WAN]),
)
def test_parse_column_is_parse_value_cell_by_cell(cells, kind, ctx):
    field = FIELDS[kind]
    assert exactly(parse_column(cells, field, ctx)) == exactly(one_by_one(cells, field, ctx))


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize(
    "cells",
    [
        [],
        [None, None],
        ["", " ", "\u3000"],
        [0.0, -0.0, -0.0, 0.0],
        [1, 1.0, True, "1"],
        [date(2026, 1, 1), datetime(2026, 1, 1), "2026-01-01"],
        [datetime(2025, 12, 31, 20, tzinfo=UTC), datetime(2026, 1, 1, 4, tzinfo=CST)],
        [float("nan"), float("inf"), 2.5, None, "2.5"],
        ["\u200b", "a\u200b", " ｌｅａｄ-1 ", "lead-1"],
        [ExcelError("#REF!"), "x", ExcelError("#REF!")],
    ],
    ids=repr,
)
def test_parse_column_edge_columns(cells, kind):
    field = FIELDS[kind]
    assert exactly(parse_column(cells, field, CTX)) == exactly(one_by_one(cells, field, CTX))


def test_parse_column_keeps_signed_zeros_and_scales_percentages_in_bulk():
    assert exactly(parse_column([0.0, -0.0], FIELDS[Kind.AMOUNT], CTX))[0] == [
        (float, "0.0"),
        (float, "-0.0"),
    ]
    column = parse_column([85.0, 0.85, 100.0, 150.0, float("nan"), -0.0], FIELDS[Kind.PERCENT], CTX)
    assert exactly(column)[0] == [
        (float, "0.85"),
        (float, "0.85"),
        (float, "1.0"),
        (float, "150.0"),
        (type(None), "None"),
        (float, "-0.0"),
    ]
    column = parse_column(
        [1.0, float("inf"), float("nan"), -float("inf")], FIELDS[Kind.NUMBER], CTX
    )
    assert column.values == [1.0, None, None, None]
    assert column.problems == {1: Problem("invalid-number"), 3: Problem("invalid-number")}


def test_parse_column_text_kinds():
    cells = [" a ", "", "\u3000", " \u200b ", "\u200bb", "c", "ｃ", "\x00", "a\x00\x00"]
    assert parse_column(cells, FIELDS[Kind.TEXT], CTX).values == [
        "a", None, None, None, "b", "c", "ｃ", "\x00", "a\x00\x00",
    ]  # fmt: skip
    ids = [" ｌｅａｄ-1 ", "L-2", "", "Ｌ－３\u3000"]
    assert parse_column(ids, FIELDS[Kind.ID], CTX).values == ["lead-1", "L-2", None, "L-3"]
    assert parse_column(["a", 5, 5.0, None], FIELDS[Kind.ID], CTX).values == ["a", "5", "5", None]


def test_parse_column_dates_of_zoned_datetimes_stay_apart():
    # Equal moments, different days: each is read on its own, as parse_value reads it.
    cells = [datetime(2025, 12, 31, 20, tzinfo=UTC), datetime(2026, 1, 1, 4, tzinfo=CST)]
    assert parse_column(cells, FIELDS[Kind.DATE], CTX).values == [
        date(2025, 12, 31),
        date(2026, 1, 1),
    ]


def test_parse_column_mixed_types_keep_problems_in_row_order():
    cells = ["x", date(2026, 1, 1), 12.5, "6月2日", None, "x", 46175]
    column = parse_column(cells, FIELDS[Kind.DATE], CTX)
    assert column.values == [
        None, date(2026, 1, 1), None, date(2026, 6, 2), None, None, date(2026, 6, 2),
    ]  # fmt: skip
    assert list(column.problems.items()) == [
        (0, Problem("invalid-date")),
        (2, Problem("invalid-date")),
        (3, Problem("year-inferred", {"year": 2026})),
        (5, Problem("invalid-date")),
    ]


@given(st.lists(st.sampled_from(TRICKY_CELLS), max_size=40))
def test_blank_cells_is_is_blank_cell_by_cell(cells):
    assert blank_cells(cells).tolist() == [is_blank(cell) for cell in cells]


@pytest.mark.parametrize(
    "cells",
    [
        [], ["a"], [""], ["", ""], [" "], ["a", "\x00"], ["\x00\x00", "b"], ["a", "", "b"],
        ["中", "", "文"], ["", "中"], ["中", "\u3000"], ["\u200b", "中", " "], ["", "\x00中", ""],
        ["\ud800", ""], ["", "\U0001f600", "", ""],
    ],
    ids=repr,
)  # fmt: skip
def test_blank_cells_of_text(cells):
    # Blanks are found in the texts joined by NULs: at either end, two NULs in a row, or
    # (texts holding NULs) text by text.
    assert blank_cells(cells).tolist() == [is_blank(cell) for cell in cells]


def test_parse_column_text_blanks_at_the_ends_of_non_ascii_columns():
    cells = ["", "中", "\u3000", "文", " \u200b"]
    assert parse_column(cells, FIELDS[Kind.TEXT], CTX).values == [None, "中", None, "文", None]


# --- tables ---------------------------------------------------------------------------------

LEADS = ["Lead ID", "Source", "Customer", "Flags"]  # Flags: an owned column


def _leads(rows: list[list]):
    binding = bind_workbook([RawSheet("Leads", [LEADS, *rows])], lang=Lang.EN)
    return binding.tables["leads"]


def test_data_rows_skip_blank_and_owned_only_rows_and_keep_short_ones():
    bound = _leads(
        [
            ["L1", "官网", "A", "x"],
            [None, None, None, "old flag"],  # an owned cell only: blank
            ["", " ", "B"],  # typed in the third column only
            [],
            ["L4"],  # short row
            ["\u3000", None, None, None, "a note past the header"],  # past the last header
            [None, None, 0],
        ]
    )
    assert data_row_numbers(bound) == [2, 4, 6, 8]


def test_parse_table_reads_short_rows_as_blank_cells():
    bound = _leads([["L1", "官网", "A"], ["L2"], [" ", "", "C", "flag"], ["L4", "电视", "D"]])
    data, issues = parse_table(bound, ParseContext(lang=Lang.EN))
    assert data.rows == [2, 3, 4, 5]
    assert data.raw["source"] == ["官网", None, "", "电视"]
    assert data.values["lead_id"] == ["L1", "L2", None, "L4"]
    assert data.values["customer"] == ["A", None, "C", "D"]
    assert "flags" not in data.values  # an owned column is an output
    assert [(i.code, i.row, i.column) for i in issues] == [("invalid-choice", 5, "B")]


def test_parse_table_of_an_empty_tab():
    data, issues = parse_table(_leads([]), ParseContext(lang=Lang.EN))
    assert (data.rows, data.values["lead_id"], issues) == ([], [], [])


def test_parse_table_of_rows_of_one_width_with_blank_rows_between_and_after():
    # Rows as readers give them (padded to one width), cut into columns in one go; the blank
    # rows are left out of every column.
    grid = [
        ["L1", "官网", " A ", ""],
        ["", "", "\u3000", "old flag"],
        ["L3", "nope", "", ""],
        [None, None, None, None],
        ["L5", "展会", "E", ""],
        ["", " ", None, "flag"],
    ]
    data, issues = parse_table(_leads(grid), ParseContext(lang=Lang.EN))
    assert data.rows == [2, 4, 6]
    assert data.raw == {
        "lead_id": ["L1", "L3", "L5"],
        "source": ["官网", "nope", "展会"],
        "customer": [" A ", "", "E"],
    }
    assert data.values["customer"] == ["A", None, "E"]
    assert data.values["source"] == ["website", None, "trade_show"]
    assert [(i.code, i.row, i.column, i.value) for i in issues] == [
        ("invalid-choice", 4, "B", "nope")
    ]


@given(
    st.integers(min_value=0, max_value=6).flatmap(
        lambda width: st.lists(
            st.lists(st.sampled_from([None, "", " ", "x", "官网", 0, 1.5]), min_size=width,
                     max_size=width),
            max_size=10,
        )
    )
)  # fmt: skip
def test_parse_table_of_rows_of_one_width_is_cell_by_cell(rows):
    bound = _leads(rows)
    data, _ = parse_table(bound, ParseContext(lang=Lang.EN))
    assert data.rows == _typed_rows_one_by_one(bound)
    for name, col in bound.columns.items():
        if name == "flags":
            continue
        cells = [
            bound.sheet.rows[r - 1][col - 1] if col <= len(bound.sheet.rows[r - 1]) else None
            for r in data.rows
        ]
        field = bound.table.field(name)
        expected = one_by_one(cells, field, ParseContext(lang=Lang.EN))
        assert data.raw[name] == cells
        assert data.values[name] == expected.values


def _typed_rows_one_by_one(bound) -> list[int]:
    """data_row_numbers, by its definition: a row past the header with a non-blank cell in a
    column up to the last header that the job does not own."""
    owned = {bound.columns["flags"]}
    grid = bound.sheet.rows
    return [
        i + 1
        for i in range(bound.header_row, len(grid))
        if any(
            not is_blank(c)
            for col, c in enumerate(grid[i][: bound.last_column], start=1)
            if col not in owned
        )
    ]


@given(
    st.lists(
        st.lists(st.sampled_from([None, "", " ", "\u3000", "x", 0, float("nan")]), max_size=6),
        max_size=12,
    )
)
def test_data_rows_match_their_definition(rows):
    bound = _leads(rows)
    assert data_row_numbers(bound) == _typed_rows_one_by_one(bound)


# --- properties -----------------------------------------------------------------------------

DATES = st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31))


@given(DATES)
def test_date_cell_and_its_iso_text_agree(d):
    assert parse_value(d, FIELDS[Kind.DATE], CTX) == parse_value(
        d.isoformat(), FIELDS[Kind.DATE], CTX
    )
    assert parse_value(d, FIELDS[Kind.DATE], CTX) == (d, None)


@given(st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)))
def test_datetime_cell_and_its_iso_text_agree(dt):
    field = FIELDS[Kind.DATETIME]
    assert parse_value(dt, field, CTX) == parse_value(dt.isoformat(), field, CTX) == (dt, None)
    assert parse_value(dt.isoformat(sep=" "), field, CTX) == (dt, None)


@given(
    DATES, st.sampled_from(["{y}/{m}/{d}", "{y}.{m}.{d}", "{y}年{m}月{d}日", "{y}-{m:02d}-{d:02d}"])
)
def test_date_spellings_agree(d, pattern):
    text = pattern.format(y=d.year, m=d.month, d=d.day)
    assert parse_value(text, FIELDS[Kind.DATE], CTX) == (d, None)


@given(st.dates(min_value=date(1955, 1, 1), max_value=date(2118, 12, 31)))
def test_excel_serial_round_trip(d):
    serial = (d - date(1899, 12, 30)).days
    assert parse_value(serial, FIELDS[Kind.DATE], CTX) == (d, None)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_inferred_year_is_within_the_window(as_of):
    ctx = ParseContext(as_of=as_of)
    for month, day in ((1, 1), (3, 15), (6, 30), (7, 2), (12, 31)):
        value, problem = parse_value(f"{month}月{day}日", FIELDS[Kind.DATE], ctx)
        assert problem == Problem("year-inferred", {"year": value.year})
        assert -183 - 366 <= (value - as_of).days <= 183
        assert value.year in (as_of.year, as_of.year - 1)


_T2S_INVERSE = opencc.OpenCC("s2t")


def _full_width(text: str) -> str:
    return "".join(
        chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text
    )


_VARIANTS = {
    "same": lambda s: s,
    "upper": str.upper,
    "lower": str.lower,
    "title": str.title,
    "full-width": _full_width,
    "padded": lambda s: f"  {s}\u3000",
    "traditional": _T2S_INVERSE.convert,
}
_SPELLINGS = [
    (choices, choice.key, spelling)
    for choices in ALL_CHOICES
    for choice in choices.choices
    for spelling in choice.spellings()
    if choice_lookup(choices).get(fold(spelling)) == choice.key
]


@given(st.sampled_from(_SPELLINGS), st.sampled_from(sorted(_VARIANTS)))
def test_enum_matching_is_fold_insensitive(spelling, variant):
    choices, key, text = spelling
    assert parse_value(_VARIANTS[variant](text), fld(Kind.ENUM, choices), CTX) == (key, None)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_integer_text_round_trips_as_amount(n):
    field = FIELDS[Kind.AMOUNT]
    for text in (str(n), f"{n:,}", f"¥{n:,}", f"{n}元", _full_width(str(n))):
        assert parse_value(text, field, CTX) == (float(n), None), text
    assert parse_value(f"{n}万", field, CTX) == (float(n * 10_000), None)
    assert parse_value(f"{n}万", field, WAN) == (float(n), None)
    assert parse_value(str(n), field, WAN) == (float(n), None)
    assert parse_value(str(n), FIELDS[Kind.INTEGER], CTX) == (n, None)


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=99))
def test_decimal_text_round_trips_as_number(whole, cents):
    text = f"{whole:,}.{cents:02d}"
    assert parse_value(text, FIELDS[Kind.NUMBER], CTX) == (float(f"{whole}.{cents:02d}"), None)


@settings(max_examples=300)
@given(st.text(), st.sampled_from(list(Kind)))
def test_parse_never_raises_on_text(text, kind):
    value, problem = parse_value(text, FIELDS[kind], CTX)
    assert problem is None or problem.code in CODES
    assert (
        value is not None
        or problem is not None
        or is_blank(text)
        or kind in (Kind.TEXT, Kind.ID, Kind.PHONE)
    )
    find_date_in_text(text, CTX)


@settings(max_examples=300)
@given(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.dates(),
        st.datetimes(),
        st.times(),
        st.timedeltas(),
        st.text(alphabet="0123456789-/.年月日号万元%:Qq ", max_size=20),
    ),
    st.sampled_from(list(Kind)),
)
def test_parse_never_raises_on_any_cell(value, kind):
    parsed, problem = parse_value(value, FIELDS[kind], CTX)
    assert problem is None or problem.code in CODES
    assert parse_column([value, value], FIELDS[kind], CTX).values == [parsed, parsed]
