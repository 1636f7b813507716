"""The demo workbook: realistic, internally consistent, and wrong in exactly the planted places.

The invariants are checked here independently of the sync job: the workbook is read back with
openpyxl and every rule the job applies is re-stated in plain Python.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from sync.core.schema import SCHEMA, SETTING_KEYS, SOURCE, STAGE, YES_NO, Lang
from sync.demo import DEMO_AS_OF, DemoManifest, build_demo_workbook
from sync.templates import setting_value

PLANTED = {
    ("duplicate-customer", "leads", "customer"),  # one customer split across two reps
    ("duplicate-id", "leads", "lead_id"),
    ("impossible-order", "leads", "first_contact_at"),
    ("invalid-date", "leads", "created_at"),
    ("invalid-choice", "leads", "source"),
    ("bant-mismatch", "leads", "bant_class"),
    ("unknown-reference", "follow_ups", "lead_id"),
    ("unknown-rep", "follow_ups", "rep"),
    ("negative-amount", "contracts", "amount"),
    ("impossible-order", "collections", "received_at"),
    ("required", "tickets", "customer"),
    ("excel-error", "collections", "received_amount"),
    ("next-step-date-unreadable", "follow_ups", "next_step"),
}
REQUIRED = {
    "leads": ("lead_id", "source", "customer"),
    "follow_ups": ("date", "lead_id", "method", "rep"),
    "contracts": ("contract_id", "customer", "owner", "signed_at", "amount"),
    "collections": ("invoice_no", "contract_id", "invoice_amount"),
    "tickets": ("ticket_id", "customer", "opened_at"),
    "reps": ("name",),
    "targets": ("rep", "period", "sales_target"),
    "settings": ("key",),
}
PLANS = {"expected_close", "proposal_due", "next_step_date", "delivery_due", "due_date"}
_TEXT_DATE = re.compile(
    r"^(?P<y>20\d\d)(?:/(?P<m>\d{1,2})/(?P<d>\d{1,2})(?: (?P<H>\d{1,2}):(?P<M>\d\d))?"
    r"|年(?P<m2>\d{1,2})月(?P<d2>\d{1,2})日)$"
)


class Tab:
    def __init__(self, ws: Any, header_row: int, table_name: str, lang: Lang) -> None:
        table = SCHEMA.table(table_name)
        by_header = {f.header(lang): f.name for f in table.fields}
        header = [c.value for c in ws[header_row]]
        self.ws = ws
        self.col = {by_header[h]: i for i, h in enumerate(header) if h in by_header}
        self.extra = [h for h in header if h and h not in by_header]
        assert set(self.col) == {f.name for f in table.fields}, "every schema column is there"
        self.rows: dict[int, dict[str, Any]] = {}
        for r, cells in enumerate(ws.iter_rows(min_row=header_row + 1), start=header_row + 1):
            values = {name: cells[i].value for name, i in self.col.items()}
            values["_cells"] = cells
            if any(values[n] not in (None, "") for n in self.col):
                self.rows[r] = values
            elif table_name == "settings":
                break  # the SLA rules table follows, after a blank row

    def cell(self, row: int, name: str) -> Any:
        return self.rows[row]["_cells"][self.col[name]]


def when(value: Any) -> datetime | None:
    """A date cell or a date typed as text, as a datetime; None for an invalid text."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    m = _TEXT_DATE.match(str(value).strip())
    if not m:
        return None
    g = m.groupdict()
    return datetime(
        int(g["y"]),
        int(g["m"] or g["m2"]),
        int(g["d"] or g["d2"]),
        int(g["H"] or 0),
        int(g["M"] or 0),
    )


def blank(value: Any) -> bool:
    return value in (None, "")


def load(path: Path, lang: Lang) -> dict[str, Tab]:
    wb = openpyxl.load_workbook(path)
    return {
        t.name: Tab(wb[t.title(lang)], 3 if t.name == "leads" else 1, t.name, lang)
        for t in SCHEMA.data_tables
    }


@pytest.fixture(
    scope="module",
    params=[
        ("small", Lang.ZH_HANS),
        ("standard", Lang.ZH_HANS),
        ("small", Lang.ZH_HANT),
        ("small", Lang.EN),
    ],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[DemoManifest, dict[str, Tab]]:
    size, lang = request.param
    path = tmp_path_factory.mktemp("demo") / f"demo-{size}-{lang}.xlsx"
    manifest = build_demo_workbook(path, lang=lang, size=size)
    return manifest, load(path, lang)


def planted(manifest: DemoManifest, code: str, table: str) -> set[int]:
    return {e.row for e in manifest.expected if e.code == code and e.table == table}


def test_manifest_lists_the_planted_mistakes_on_distinct_rows(demo) -> None:
    manifest, tabs = demo
    assert manifest.as_of == DEMO_AS_OF
    assert {(e.code, e.table, e.field) for e in manifest.expected} == PLANTED
    assert len(manifest.expected) == 14  # 12 mistakes, and both rows of the split customer
    assert len({(e.table, e.row) for e in manifest.expected}) == 14
    assert manifest.counts == {name: len(tab.rows) for name, tab in tabs.items()}
    for e in manifest.expected:
        assert e.row in tabs[e.table].rows


def test_sizes(demo) -> None:
    manifest, _ = demo
    c = manifest.counts
    big = c["leads"] > 200
    assert c["reps"] == 12 and c["targets"] == 12 * 11 and c["settings"] == len(SETTING_KEYS)
    if big:
        assert 380 <= c["leads"] <= 420 and 2500 <= c["follow_ups"] <= 3500
        assert 100 <= c["contracts"] <= 140 and 50 <= c["tickets"] <= 70
    else:
        assert 50 <= c["leads"] <= 70 and 200 <= c["follow_ups"] <= 400
    assert c["contracts"] <= c["collections"] <= 3 * c["contracts"]


def test_required_fields_are_filled_except_the_planted_blank(demo) -> None:
    manifest, tabs = demo
    for name, fields in REQUIRED.items():
        skip = planted(manifest, "required", name)
        for r, row in tabs[name].rows.items():
            for f in fields:
                assert r in skip or not blank(row[f]), (name, r, f)


def test_leads(demo) -> None:
    manifest, tabs = demo
    lang, leads = manifest.lang, tabs["leads"]
    ws = leads.ws
    assert ws["A1"].value and all(blank(c.value) for c in ws[2])
    assert leads.extra  # a column of the users' own
    reps = {row["name"] for row in tabs["reps"].rows.values()}
    ids = Counter(row["lead_id"] for row in leads.rows.values())
    (dup_row,) = planted(manifest, "duplicate-id", "leads")
    assert [i for i, n in ids.items() if n > 1] == [leads.rows[dup_row]["lead_id"]]
    assert ids[leads.rows[dup_row]["lead_id"]] == 2
    assert dup_row == max(
        r for r, x in leads.rows.items() if x["lead_id"] == leads.rows[dup_row]["lead_id"]
    )

    sources = {fold(s) for c in SOURCE.choices for s in c.spellings()}
    bad_source = planted(manifest, "invalid-choice", "leads")
    bad_date = planted(manifest, "invalid-date", "leads")
    bad_order = planted(manifest, "impossible-order", "leads")
    bad_bant = planted(manifest, "bant-mismatch", "leads")
    yes, no = YES_NO.label("yes", lang), YES_NO.label("no", lang)
    stages = {c.labels[lang] for c in STAGE.choices}
    unassigned = blank_class = quick = contacted = 0
    owners_by_customer: dict[str, set[str]] = {}
    for r, row in leads.rows.items():
        source = str(row["source"]).split("-")[0]
        assert (fold(source) in sources) == (r not in bad_source), r
        assert row["stage"] in stages
        created, assigned, first = (
            when(row[n]) if not blank(row[n]) else None
            for n in ("created_at", "assigned_at", "first_contact_at")
        )
        assert (created is None) == (r in bad_date), r
        if r in bad_date:
            assert row["created_at"] == "2026-13-45"
        if not row["owner"]:
            unassigned += 1
            assert assigned is None and first is None
        else:
            assert row["owner"] in reps
            owners_by_customer.setdefault(row["customer"], set()).add(row["owner"])
            assert created is None or created <= assigned
        if first:
            assert created is None or created <= first
            assert (first < assigned) == (r in bad_order), r
            contacted += 1
            quick += r not in bad_order and 1 <= (first - assigned).total_seconds() / 3600 <= 30
        answers = [row[n] for n in ("budget", "authority", "need_fit", "timeline")]
        assert all(a in (yes, no, None) for a in answers)
        if blank(row["bant_class"]):
            blank_class += 1
        else:
            n = answers.count(yes)
            rule = "A" if n == 4 else "B" if n >= 2 else "C"
            assert (row["bant_class"] == rule) == (r not in bad_bant), r
        if not blank(row["probability"]):
            assert 0 <= row["probability"] <= 1
            assert "%" in leads.cell(r, "probability").number_format
        if isinstance(row["created_at"], datetime):
            assert leads.cell(r, "created_at").number_format == "yyyy-mm-dd hh:mm"
        assert isinstance(row["phone_or_email"], str)
    assert unassigned == (8 if manifest.counts["leads"] > 200 else 2)
    assert quick >= 0.8 * contacted
    assert 0.3 <= blank_class / len(leads.rows) <= 0.7
    assert any(len(owners) > 1 for owners in owners_by_customer.values())
    phones = [row["phone_or_email"] for row in leads.rows.values()]
    assert any(p.startswith("0") and "-" in p for p in phones)
    assert any(re.fullmatch(r"1[3-9]\d{9}", p) for p in phones)


def test_follow_ups(demo) -> None:
    manifest, tabs = demo
    leads = {row["lead_id"]: row for row in tabs["leads"].rows.values()}
    reps = {row["name"] for row in tabs["reps"].rows.values()}
    unknown_lead = planted(manifest, "unknown-reference", "follow_ups")
    unknown_rep = planted(manifest, "unknown-rep", "follow_ups")
    fus = tabs["follow_ups"]
    assert fus.extra
    for r, row in fus.rows.items():
        assert (row["lead_id"] in leads) == (r not in unknown_lead), r
        assert (row["rep"] in reps) == (r not in unknown_rep), r
        t = when(row["date"])
        assert t is not None
        if row["lead_id"] in leads:
            created = when(leads[row["lead_id"]]["created_at"])
            assert created is None or created <= t
        if not blank(row["minutes_sent_at"]):
            assert when(row["minutes_sent_at"]) >= t
        if not blank(row["next_step_date"]):
            assert when(row["next_step_date"]).date() > t.date()
    assert tabs["follow_ups"].rows[min(unknown_rep)]["rep"] == "王小明"


def test_contracts_collections_tickets(demo) -> None:
    manifest, tabs = demo
    lang = manifest.lang
    won = STAGE.label("won", lang)
    leads = {row["lead_id"]: row for row in tabs["leads"].rows.values()}
    reps = {row["name"] for row in tabs["reps"].rows.values()}
    contracts = tabs["contracts"]
    ids = [row["contract_id"] for row in contracts.rows.values()]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"HT\d{4}-\d{3}", i) for i in ids)
    negative = planted(manifest, "negative-amount", "contracts")
    for r, row in contracts.rows.items():
        assert (row["amount"] > 0) == (r not in negative)
        assert row["owner"] in reps
        if row["lead_id"]:
            assert leads[row["lead_id"]]["stage"] == won
            assert leads[row["lead_id"]]["customer"] == row["customer"]
        signed = when(row["signed_at"])
        delivered = when(row["delivered_at"]) if row["delivered_at"] else None
        if delivered:
            assert signed <= delivered
            if row["accepted_at"]:
                assert delivered <= when(row["accepted_at"])
            if row["first_visit_at"]:
                assert delivered <= when(row["first_visit_at"])
    amount_letter = openpyxl.utils.get_column_letter(contracts.col["amount"] + 1)
    tax = [
        c
        for c in next(iter(contracts.rows.values()))["_cells"]
        if isinstance(c.value, str) and c.value.startswith("=")
    ]
    assert tax and tax[0].value == f"={amount_letter}{tax[0].row}*1.13"

    collections = tabs["collections"]
    early = planted(manifest, "impossible-order", "collections")
    (na,) = planted(manifest, "excel-error", "collections")
    numbers = [row["invoice_no"] for row in collections.rows.values()]
    assert len(numbers) == len(set(numbers))
    for r, row in collections.rows.items():
        assert row["contract_id"] in ids
        invoiced = when(row["invoiced_at"])
        assert invoiced <= when(row["due_date"])
        if row["received_at"]:
            assert (invoiced <= when(row["received_at"])) == (r not in early), r
        assert row["invoice_amount"] >= 0
        if r == na:
            assert row["received_amount"] == "=NA()"
        elif not blank(row["received_amount"]):
            assert row["received_amount"] >= 0

    tickets = tabs["tickets"]
    complexities = {"一般", "复杂", "複雜", "General", "Complex"}
    for row in tickets.rows.values():
        assert row["contract_id"] in ids
        assert row["complexity"] in complexities
        opened = when(row["opened_at"])
        for later in ("resolved_at", "plan_at"):
            if row[later]:
                assert opened <= when(row[later])


def test_reps_targets_settings(demo) -> None:
    manifest, tabs = demo
    lang = manifest.lang
    reps = tabs["reps"].rows.values()
    names = [row["name"] for row in reps]
    assert len(set(names)) == 12 and "王小明" not in names
    assert {row["active"] for row in reps} == {YES_NO.label("yes", lang)}
    assert len({row["region"] for row in reps}) == 3
    targets = tabs["targets"].rows.values()
    assert {row["period"] for row in targets} == {f"2026-{m:02d}" for m in range(1, 12)}
    for row in targets:
        assert row["rep"] in names
        assert 300_000 <= row["sales_target"] <= 850_000
        assert row["collection_target"] == pytest.approx(0.9)
    settings = list(tabs["settings"].rows.values())
    assert [row["key"] for row in settings] == [s.labels[lang] for s in SETTING_KEYS]
    for row, setting in zip(settings, SETTING_KEYS, strict=True):
        assert (row["value"] or "") == setting_value(setting, lang)


def test_dates_are_date_cells_with_a_few_dozen_typed_as_text(demo) -> None:
    manifest, tabs = demo
    texts = []
    for name, tab in tabs.items():
        for f in SCHEMA.table(name).fields:
            if f.kind.value not in ("date", "datetime") or f.owned:
                continue
            for r, row in tab.rows.items():
                value = row[f.name]
                if isinstance(value, str) and value:
                    texts.append(value)
                    if (name, r) not in {(e.table, e.row) for e in manifest.expected}:
                        assert when(value) is not None, value  # a full date with its year
                elif isinstance(value, datetime):
                    fmt = tab.cell(r, f.name).number_format
                    assert fmt == (
                        "yyyy-mm-dd hh:mm" if f.kind.value == "datetime" else "yyyy-mm-dd"
                    )
                    assert datetime(2025, 12, 1) <= value, (name, r, f.name)
                    if f.name not in PLANS:  # facts, not plans, lie in the past
                        assert value <= DEMO_AS_OF, (name, r, f.name)
    low, high = (20, 60) if manifest.counts["leads"] > 200 else (6, 20)
    assert low <= len(texts) <= high
    assert any("年" in t for t in texts) and any("/" in t for t in texts)


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    a = build_demo_workbook(tmp_path / "a.xlsx", size="small")
    b = build_demo_workbook(tmp_path / "b.xlsx", size="small")
    c = build_demo_workbook(tmp_path / "c.xlsx", size="small", seed=7)
    assert a.path.read_bytes() == b.path.read_bytes() != c.path.read_bytes()
    assert a.expected == b.expected
    assert {(e.code, e.table) for e in c.expected} == {(e.code, e.table) for e in a.expected}


def test_unknown_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        build_demo_workbook(tmp_path / "x.xlsx", size="huge")


def fold(text: str) -> str:
    return text.strip().casefold()
