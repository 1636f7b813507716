"""The row rules worked out column by column: blanks, cells that did not parse, missing columns,
empty tables, dates against datetimes, and the order issues come in."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.core.columns import id_key
from sync.core.headers import bind_workbook
from sync.core.model import RawSheet
from sync.core.parse import ParseContext, parse_column
from sync.core.schema import SCHEMA, Lang
from sync.core.settings import DEFAULT_SETTINGS
from sync.core.tables import TableData, parse_tables
from sync.core.validate import (
    Validation,
    check_orders,
    check_ranges,
    check_references,
    check_required,
    check_unique,
    classify_leads,
    validate_tables,
)

EN = Lang.EN


def tables(**tabs: list[list[Any]]) -> dict[str, TableData]:
    """Parsed tables from tabs given as title=rows (underscores in a title are spaces)."""
    sheets = [RawSheet(title.replace("_", "-"), rows) for title, rows in tabs.items()]
    found, _ = parse_tables(bind_workbook(sheets, lang=EN), ParseContext(lang=EN))
    return found


def where(issues: Any) -> list[tuple[str, int | None, str | None]]:
    return [(i.code, i.row, i.column) for i in issues]


def test_required_skips_cells_that_did_not_parse_and_missing_columns() -> None:
    data = tables(
        Collections=[
            ["Invoice no.", "Invoice amount"],  # no Contract ID column: binding reports it
            ["F1", None],
            ["F2", "lots"],  # unreadable: reported by parsing, not again as blank
            [None, 5],
            ["F4", "  "],
        ]
    )["collections"]
    assert where(check_required(data, EN)) == [  # field by field, then row by row
        ("required", 4, "A"),
        ("required", 2, "B"),
        ("required", 5, "B"),
    ]


def test_required_tells_a_zero_or_false_from_a_blank() -> None:
    """A zero is a filled cell: only a None is blank, whatever `all` makes of the column."""
    data = tables(
        Contracts=[
            ["Contract ID", "Customer", "Owner", "Signed at", "Amount"],
            ["C1", "Acme", "Li", "2026-03-02", 0],  # zero: filled
            ["C2", "Beta", "Li", "2026-03-02", 5],
        ],
        Collections=[
            ["Invoice no.", "Contract ID", "Invoice amount"],
            ["F1", "C1", 0],
            ["F2", "C2", None],  # blank after a zero: still found
        ],
    )
    assert where(check_required(data["contracts"], EN)) == []
    assert where(check_required(data["collections"], EN)) == [("required", 3, "C")]


def test_every_rule_accepts_a_table_without_rows() -> None:
    found = tables(
        Leads=[["Lead ID", "Owner", "Created at", "Assigned at", "Probability", "Budget"]],
        Reps=[["Name", "Team"], ["Li Lei", "East"]],
    )
    result = validate_tables(found, EN)
    assert (result.issues, result.computed) == ([], {})


SPACES = " \u3000\u00a0\u2007\u200b\ufeff\u00a8\u0308\uff21a"


@given(
    st.one_of(
        st.text(),
        st.text(alphabet=SPACES),
        st.integers(),
        st.floats(allow_nan=False),
        st.booleans(),
    )
)
def test_a_parsed_id_or_name_never_keys_to_blank(cell: Any) -> None:
    """Rules take a None key (`columns.id_key`) to mean a blank cell: parsing must agree."""
    for f in (SCHEMA.table("leads").field("lead_id"), SCHEMA.table("reps").field("name")):
        [value] = parse_column([cell], f, ParseContext(lang=EN)).values
        assert value is None or id_key(value) is not None


def test_duplicates_come_grouped_by_id_in_order_of_first_appearance() -> None:
    data = tables(
        Contracts=[
            ["Contract ID", "Customer"],
            ["A-1", "Acme"],  # 2
            ["b-2", "Acme"],  # 3
            [None, "Acme"],  # 4: blank ids are never duplicates
            ["Ｂ-2 ", "Acme"],  # 5: width, case and spaces aside, b-2 again
            ["a-1", "Acme"],  # 6
            [None, "Acme"],  # 7
            ["B-2", "Acme"],  # 8
        ]
    )["contracts"]
    issues = list(check_unique(data, EN))
    assert where(issues) == [
        ("duplicate-id", 6, "A"),
        ("duplicate-id", 5, "A"),
        ("duplicate-id", 8, "A"),
    ]
    assert [i.message for i in issues] == [
        "The id a-1 is used again in row(s) 2.",
        "The id Ｂ-2  is used again in row(s) 3.",  # the value as typed
        "The id B-2 is used again in row(s) 3.",
    ]


def test_ranges_in_row_order_with_negative_amounts_named_as_such() -> None:
    data = tables(
        Leads=[
            ["Lead ID", "Expected amount", "Probability"],
            ["L1", -5, "150%"],
            ["L2", "lots", "150%"],  # unreadable amount: only the probability is out of range
            ["L3", None, -0.2],
            ["L4", 0, 1],
            ["L5", 1e12, 0],
        ]
    )["leads"]
    issues = list(check_ranges(data, EN))
    assert where(issues) == [
        ("negative-amount", 2, "B"),
        ("out-of-range", 2, "C"),
        ("out-of-range", 3, "C"),
        ("out-of-range", 4, "C"),
    ]
    assert issues[1].message == "150% is outside the range of Probability (0% to 100%)."


def _leads_with_times(pairs: list[tuple[Any, Any]]) -> TableData:
    rows: list[list[Any]] = [["Lead ID", "Assigned at", "First contact at"]]
    rows += [[f"L{n}", assigned, first] for n, (assigned, first) in enumerate(pairs)]
    return tables(Leads=rows)["leads"]


def test_orders_compare_a_date_typed_without_time_by_day() -> None:
    nine, noon = datetime(2026, 6, 1, 9), datetime(2026, 6, 1, 12)
    data = _leads_with_times(
        [
            (noon, nine),  # 2: three hours earlier: impossible
            (date(2026, 6, 1), nine),  # 3: a bare date and a time that day: fine
            (noon, date(2026, 6, 1)),  # 4: the same, the other way round
            (noon, date(2026, 5, 31)),  # 5: the day before: impossible
            (None, nine),  # 6: nothing to compare with
            ("soon", nine),  # 7: unreadable: reported by parsing only
            (noon, noon),  # 8: the same moment is not before
        ]
    )
    issues = list(check_orders(data, EN))
    assert where(issues) == [("impossible-order", 2, "C"), ("impossible-order", 5, "C")]
    assert issues[0].message == (
        "First contact at (2026-06-01 09:00) is before Assigned at (2026-06-01 12:00)."
    )


def test_orders_between_date_fields_ignore_the_time_of_day() -> None:
    data = tables(
        Collections=[
            ["Invoice no.", "Invoiced on", "Received on"],
            ["F1", datetime(2026, 6, 5, 18), datetime(2026, 6, 5, 8)],
            ["F2", datetime(2026, 6, 5), datetime(2026, 6, 4, 23)],
        ]
    )["collections"]
    assert where(check_orders(data, EN)) == [("impossible-order", 3, "C")]


MOMENTS = st.one_of(
    st.none(),
    st.integers(0, 2 * 24 * 4).map(lambda q: datetime(2026, 6, 1) + timedelta(minutes=15 * q)),
    st.integers(0, 2).map(lambda d: date(2026, 6, 1) + timedelta(days=d)),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(MOMENTS, MOMENTS), max_size=12))
def test_orders_agree_with_comparing_one_row_at_a_time(pairs: list[tuple[Any, Any]]) -> None:
    def moment(v: date) -> datetime:
        return v if isinstance(v, datetime) else datetime(v.year, v.month, v.day)

    def before(later: date | None, earlier: date | None) -> bool:
        if later is None or earlier is None:
            return False
        a, b = moment(later), moment(earlier)
        if time() in (a.time(), b.time()):  # a bare date: compare days
            return a.date() < b.date()
        return a < b

    data = _leads_with_times(pairs)
    expected = [row for row, (a, b) in zip(data.rows, pairs, strict=True) if before(b, a)]
    assert [i.row for i in check_orders(data, EN)] == expected


def test_references_skip_blanks_and_compare_ids_as_ids() -> None:
    found = tables(
        Leads=[["Lead ID", "Customer"], ["LD-1", "Acme"], ["ld-2", "Acme"]],
        Follow_ups=[
            ["Lead ID", "Rep"],
            ["ＬＤ-1", None],
            [None, None],
            ["LD-3", None],
            [" ld-2", None],
            ["ld-3", None],
        ],
    )
    issues = list(check_references(found["follow_ups"], found, EN))
    assert where(issues) == [("unknown-reference", 4, "A"), ("unknown-reference", 6, "A")]
    assert issues[0].message == "“LD-3” does not exist in Lead ID of Leads."


def test_rep_names_are_folded_and_an_empty_roster_checks_nothing() -> None:
    follow_ups = [
        ["Lead ID", "Rep"],
        ["L1", "韓梅"],
        ["L1", "li lei"],
        ["L1", "Wang"],
        ["L1", None],
    ]
    found = tables(
        Follow_ups=follow_ups, Reps=[["Name", "Team"], ["韩梅", "East"], ["Li Lei (East)", "East"]]
    )
    assert where(check_references(found["follow_ups"], found, EN)) == [("unknown-rep", 4, "B")]
    no_roster = tables(Follow_ups=follow_ups, Reps=[["Name", "Team"]])
    assert list(check_references(no_roster["follow_ups"], no_roster, EN)) == []


def _classified(rows: list[list[Any]]) -> Validation:
    header = ["Lead ID", "Budget", "Authority", "Need fit", "Timeline", "BANT class"]
    result = Validation()
    classify_leads(tables(Leads=[header, *rows])["leads"], EN, DEFAULT_SETTINGS, result)
    return result


def test_bant_class_is_filled_as_text_only_where_blank_and_answered() -> None:
    result = _classified(
        [
            ["L1", "Y", "Y", "Y", "Y", None],  # 2
            ["L2", "Y", "N", "Y", None, None],  # 3: unanswered
            ["L3", "N", "N", "N", "Y", None],  # 4
            ["L4", "Y", "Y", "N", "N", "B"],  # 5: entered and right
            ["L5", "Y", "Y", "N", "N", "A"],  # 6: entered and wrong
            ["L6", "Y", "Y", "Y", "N", "Z"],  # 7: unreadable class: reported by parsing
            ["L7", "maybe", "Y", "Y", "Y", None],  # 8: unreadable answer: unanswered
        ]
    )
    assert result.computed == {"leads": {"bant_class": {2: "A", 4: "C"}}}
    assert all(type(v) is str for v in result.computed["leads"]["bant_class"].values())
    assert where(result.issues) == [("bant-mismatch", 6, "F")]
    assert "2" in result.issues[0].message and "B" in result.issues[0].message


def test_bant_class_needs_all_four_answer_columns_and_some_rows() -> None:
    assert _classified([]).computed == {}
    partial = tables(Leads=[["Lead ID", "Budget", "Authority"], ["L1", "Y", "Y"]])["leads"]
    result = Validation()
    classify_leads(partial, EN, DEFAULT_SETTINGS, result)
    assert (result.issues, result.computed) == ([], {})
