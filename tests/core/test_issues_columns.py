"""Issues made many at a time: `make_issues` and `TableData.issues` make what `make_issue` and
`TableData.issue` make one by one, `short_labels` what `short_label` gives, and `flag_rows`
puts a row's labels most severe first, once each, in one sort over all rows."""

from __future__ import annotations

import pickle
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.core.headers import bind_workbook
from sync.core.issues import (
    CODES,
    Issue,
    display_value,
    issues_from_params,
    make_issue,
    make_issues,
    render,
    render_many,
    short_label,
    short_labels,
)
from sync.core.model import ExcelError, RawSheet
from sync.core.parse import ParseContext
from sync.core.schema import SCHEMA, Lang, Severity
from sync.core.tables import TableData, parse_tables
from sync.core.validate import flag_rows

# Cell values that read differently although some are equal (1, 1.0 and True).
VALUES: list[Any] = [
    None,
    "",
    "\u3000 ",
    "abc",
    1,
    1.0,
    True,
    4.5,
    datetime(2026, 7, 21, 9, 30),
    datetime(2026, 7, 21),  # midnight: shown as a date
    date(2026, 7, 21),
    ExcelError("#N/A"),
]


def _fields(issue: Issue) -> tuple[Any, ...]:
    return (*issue.to_record().values(), issue.severity, issue.rule, dict(issue.params))


def _mixed_issues() -> tuple[list[str], list[dict[str, Any]], list[int]]:
    """Codes, extra params and rows of issues of four kinds, three times over."""
    codes = ["invalid-number", "required", "sla-breached", "calendar-estimated"] * 3
    params: list[dict[str, Any]] = [
        {},
        {"header": "Renamed"},  # a parameter wins over the header
        {"rule_label": "First contact", "due": "2026-07-21", "done": "", "late": "1 d"},
        {"year": 2027, "rule_label": "First contact"},
    ] * 3
    return codes, params, list(range(2, 2 + len(codes)))


@pytest.mark.parametrize("lang", list(Lang))
def test_make_issues_is_make_issue_of_each(lang: Lang) -> None:
    codes, params, rows = _mixed_issues()
    made = make_issues(
        codes,
        lang,
        tab="Leads",
        rows=rows,
        column="D",
        header="Amount",
        values=VALUES,
        params=params,
        field="amount",
        table="leads",
        rule="first_contact",
    )
    one = _one_by_one(codes, lang, rows, params)
    assert list(map(_fields, made)) == list(map(_fields, one))
    assert [i.value for i in made] == [
        None,
        None,
        None,
        "abc",
        "1",
        "1",
        "True",
        "4.5",
        "2026-07-21 09:30",
        "2026-07-21",
        "2026-07-21",
        "#N/A",
    ]


def test_make_issues_of_nothing_and_of_a_missing_parameter() -> None:
    assert (
        make_issues([], Lang.EN, tab="T", rows=[], column=None, header=None, values=[], params=[])
        == []
    )
    [issue] = make_issues(
        ["sla-overdue"],
        Lang.EN,
        tab="T",
        rows=[3],
        column=None,
        header=None,
        values=[None],
        params=[{}],
    )
    assert issue.message == CODES["sla-overdue"].messages[Lang.EN]  # the template as it is
    assert issue.params == {"header": "", "value": ""} and issue.header is None


def _one_by_one(
    codes: list[str], lang: Lang, rows: list[int], params: list[dict[str, Any]]
) -> list[Issue]:
    """`make_issue` of each row about column D (Amount) of Leads, with VALUES as typed."""
    return [
        make_issue(
            code,
            lang,
            tab="Leads",
            row=row,
            column="D",
            header="Amount",
            value=value,
            params=extra,
            field="amount",
            table="leads",
            rule="first_contact",
        )
        for code, row, value, extra in zip(codes, rows, VALUES, params, strict=True)
    ]


@pytest.mark.parametrize("lang", list(Lang))
def test_issues_from_ready_params_are_make_issue_of_each(lang: Lang) -> None:
    codes, extras, rows = _mixed_issues()
    one = _one_by_one(codes, lang, rows, extras)
    made = issues_from_params(
        codes,
        lang,
        tab="Leads",
        rows=rows,
        column="D",
        header="Amount",
        params=[dict(issue.params) for issue in one],  # header and value shown: ready
        field="amount",
        table="leads",
        rule="first_contact",
    )
    assert [_fields(i) for i in made] == [_fields(i) for i in one]
    assert [list(i.params) for i in made] == [list(i.params) for i in one]  # in order
    assert [i.value for i in made][:4] == [None, None, None, "abc"]  # blanks show nothing


def test_issues_from_no_params_are_none() -> None:
    found = issues_from_params([], Lang.EN, tab="T", rows=[], column=None, header=None, params=[])
    assert found == []


# Templates `render_many` fills in field by field, and those it leaves to `render` row by row.
TEMPLATES = [
    "{a} and {b}.",
    "{b}{a}",
    "no fields",
    "",
    "{{a}} is {a}",  # escaped braces
    "{a!s:>4}|{b!r}",  # a conversion, a spec
    "{a.__class__.__name__}",  # an attribute
    "{0} {}",  # positions
    "{a",  # malformed
    "{c}",  # a field no row has
]
_param_value = st.one_of(
    st.none(),
    st.text(max_size=3),
    st.integers(-5, 5),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.just(["x"]),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(TEMPLATES),
            st.dictionaries(st.sampled_from("ab"), _param_value),  # a field may be missing
        ),
        max_size=8,
    )
)
def test_render_many_is_render_of_each(rows: list[tuple[str, dict[str, Any]]]) -> None:
    templates, params = [t for t, _ in rows], [p for _, p in rows]
    assert render_many(templates, params) == [render(t, p) for t, p in rows]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{a} and {b}.", ["1 and x.", "2.5 and 2026-07-21."]),
        ("{a:>4}", ["   1", " 2.5"]),
        ("{c}", ["{c}", "{c}"]),
        ("", ["", ""]),
    ],
)
def test_render_many_formats_values_as_str_format_does(template: str, expected: list[str]) -> None:
    params: list[dict[str, Any]] = [{"a": 1, "b": "x"}, {"a": 2.5, "b": date(2026, 7, 21)}]
    assert render_many([template] * 2, params) == expected
    assert display_value(2.5) == "2.5"


def test_an_issue_is_a_value_equal_and_hashed_without_its_params() -> None:
    a = make_issue("required", Lang.EN, tab="Leads", row=5, header="Customer", params={"x": 1})
    b = make_issue("required", Lang.EN, tab="Leads", row=5, header="Customer", params={"x": 2})
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != make_issue("required", Lang.EN, tab="Leads", row=6, header="Customer")
    copied = pickle.loads(pickle.dumps(a))
    assert _fields(copied) == _fields(a) and copied.params == {
        "header": "Customer",
        "value": "",
        "x": 1,
    }


def test_to_record_keeps_the_field_order_and_leaves_out_params_and_a_missing_rule() -> None:
    issue = make_issue("required", Lang.EN, tab="Leads", row=5, column="C", header="Customer")
    assert list(issue.to_record().items()) == [
        ("code", "required"),
        ("severity", "error"),
        ("tab", "Leads"),
        ("row", 5),
        ("column", "C"),
        ("header", "Customer"),
        ("value", None),
        ("message", "Customer is required but blank."),
        ("field", None),
        ("table", None),
    ]
    ruled = make_issue("calendar-estimated", Lang.EN, tab="Leads", rule="first_contact")
    assert ruled.to_record()["rule"] == "first_contact"


# --- TableData.issues ---------------------------------------------------------------------


def _tables(leads: list[list[Any]], reps: list[list[Any]] | None = None) -> dict[str, TableData]:
    """Leads (id, customer, created) and Reps (name), parsed."""
    sheets = []
    for table, fields, rows in (
        ("leads", ("lead_id", "customer", "created_at"), leads),
        ("reps", ("name",), reps or []),
    ):
        on = SCHEMA.table(table)
        header = [on.field(name).headers[Lang.EN] for name in fields]
        sheets.append(RawSheet(on.title(Lang.EN), [header, *rows]))
    tables, _ = parse_tables(bind_workbook(sheets), ParseContext(lang=Lang.EN))
    return tables


def _leads(*rows: list[Any]) -> TableData:
    return _tables(list(rows))["leads"]


THREE = _tables(
    [["L1", "Acme", None], ["L2", "Beta", None], ["L3", "Gamma", None]], [["Li"], ["Wu"], ["Ma"]]
)


def test_table_issues_are_table_issue_of_each_row() -> None:
    data = _leads(
        ["L1", "Acme", datetime(2026, 3, 2, 10)],
        ["L2", "Beta", "soon"],  # did not parse: the value as typed
        ["L3", "Gamma", None],
        ["L4", "Delta", datetime(2026, 3, 2, 10)],
    )
    at, codes = [3, 0, 1, 2], ["sla-overdue", "sla-breached", "sla-overdue", "calendar-estimated"]
    params = [{"rule_label": "R", "due": str(k)} for k in at]
    many = data.issues(codes, at, "created_at", Lang.EN, params, rule="r1")
    one = [
        data.issue(code, i, "created_at", Lang.EN, params=extra, rule="r1")
        for code, i, extra in zip(codes, at, params, strict=True)
    ]
    assert list(map(_fields, many)) == list(map(_fields, one))
    assert [(i.row, i.column, i.value) for i in many] == [
        (5, "C", "2026-03-02 10:00"),
        (2, "C", "2026-03-02 10:00"),
        (3, "C", "soon"),
        (4, "C", None),
    ]


def test_table_issues_about_a_missing_column_have_no_value_or_letter() -> None:
    data = _leads(["L1", "Acme", None])
    [issue] = data.issues(["required"], [0], "stage", Lang.EN, [{}])
    assert (issue.row, issue.column, issue.value, issue.field) == (2, None, None, "stage")
    assert _fields(issue) == _fields(data.issue("required", 0, "stage", Lang.EN))


# --- short labels and the flags column ----------------------------------------------------


def test_short_labels_are_short_label_of_each() -> None:
    issues = [
        make_issue("required", Lang.EN, tab="T", header="Customer"),
        make_issue("required", Lang.EN, tab="T", header="Stage"),
        make_issue("sla-breached", Lang.EN, tab="T", params={"rule_label": "First contact"}),
        make_issue("sla-breached", Lang.EN, tab="T", params={"rule_label": "Payment"}),
        make_issue("sla-overdue", Lang.EN, tab="T"),  # no rule label: the template
        make_issue("required", Lang.EN, tab="T", header="Customer"),
        make_issue("duplicate-id", Lang.EN, tab="T"),
    ]
    for lang in Lang:
        assert short_labels(issues, lang) == [short_label(i, lang) for i in issues]
    assert short_labels(issues, Lang.EN) == [
        "Customer missing",
        "Stage missing",
        "First contact late",
        "Payment late",
        "{rule_label} overdue",
        "Customer missing",
        "duplicate id",
    ]


def _flag_rows_one_row_at_a_time(
    issues: list[Issue], tables: dict[str, TableData], lang: Lang
) -> dict[str, dict[str, dict[int, str]]]:
    """What `flag_rows` gives, worked out the plain way."""
    rank = {Severity.ERROR: 3, Severity.WARNING: 2, Severity.INFO: 1}
    by_row: dict[tuple[Any, Any], list[Issue]] = {}
    for i in issues:
        if (
            i.table in tables
            and tables[i.table].bound.table.has("flags")
            and i.severity is not Severity.INFO
        ):
            by_row.setdefault((i.table, i.row), []).append(i)
    flags: dict[str, dict[str, dict[int, str]]] = {}
    for (table, row), found in by_row.items():
        if row in tables[table].rows:
            found.sort(
                key=lambda i: (-rank[i.severity], len(i.column or ""), i.column or "", i.code)
            )
            labels = dict.fromkeys(short_label(i, lang) for i in found)
            flags.setdefault(table, {}).setdefault("flags", {})[row] = (
                "; " if lang is Lang.EN else "；"
            ).join(labels)
    return flags


def _issue(table: str, row: int | None, column: str | None, code: str, severity: Severity) -> Issue:
    return make_issue(
        code,
        Lang.EN,
        tab=table,
        row=row,
        column=column,
        header="H",
        table=table,
        severity=severity,
        params={"rule_label": "R"},
    )


def test_flag_rows_puts_the_most_severe_first_and_each_label_once() -> None:
    tables = THREE  # rows 2 to 4 in both; Reps has no flags column
    e, w, i = Severity.ERROR, Severity.WARNING, Severity.INFO
    issues = [
        _issue("leads", 4, "AA", "required", w),
        _issue("leads", 3, "B", "sla-overdue", w),
        _issue("leads", 4, "B", "required", w),  # column B before AA
        _issue("leads", 4, "C", "duplicate-id", e),  # errors first
        _issue("leads", 3, "B", "sla-breached", i),  # info: never a flag
        _issue("reps", 3, "A", "required", e),  # a tab without flags
        _issue("leads", 1, "A", "missing-column", e),  # the header row
        _issue("leads", None, None, "missing-tab", e),  # the tab
        _issue("leads", 9, "A", "required", e),  # not a data row
        _issue("leads", 2, "C", "sla-breached", w),
        _issue("leads", 2, "A", "sla-breached", w),  # the same label again: once
    ]
    flags = flag_rows(issues, tables, Lang.EN)
    assert flags == {
        "leads": {"flags": {4: "duplicate id; H missing", 3: "R overdue", 2: "R late"}}
    }
    assert list(flags["leads"]["flags"]) == [4, 3, 2]  # rows in the order they first come
    assert flag_rows(issues, tables, Lang.ZH_HANS)["leads"]["flags"][4] == "编号重复；缺H"
    assert flag_rows([], tables, Lang.EN) == {}


_codes = st.sampled_from(["required", "duplicate-id", "sla-breached", "sla-overdue", "unknown-rep"])
_flaggable = st.tuples(
    st.sampled_from(["leads", "reps"]),
    st.one_of(st.none(), st.integers(1, 6)),
    st.sampled_from([None, "A", "B", "Z", "AA", "AB"]),
    _codes,
    st.sampled_from(list(Severity)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_flaggable, max_size=25), st.sampled_from(list(Lang)))
def test_flag_rows_is_the_plain_way(found: list[tuple[Any, ...]], lang: Lang) -> None:
    tables = THREE
    issues = [_issue(*f) for f in found]
    flags = flag_rows(issues, tables, lang)
    plain = _flag_rows_one_row_at_a_time(issues, tables, lang)
    assert flags == plain
    assert [list(t["flags"]) for t in flags.values()] == [list(t["flags"]) for t in plain.values()]
