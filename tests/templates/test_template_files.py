"""The committed templates: generated, deterministic, clean for the sync, and their native
formulas recalculate in LibreOffice to the sync's own figures."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from sync.core.calendar import BusinessCalendar
from sync.core.schema import FOLLOW_UPS, LANGS, SCHEMA, TARGETS, Lang
from sync.core.sla import due_time
from sync.templates import TEMPLATE_FILES, write_template, write_templates
from sync.templates.extras import DASHBOARD, HOLIDAYS, INSTRUCTIONS, XLWINGS_CONF
from sync.templates.formulas import HELPERS, MARK, column_index
from tests.templates.libreoffice import error_cells, recalculated_sheets

COMMITTED = Path(__file__).resolve().parents[2] / "workbook_templates"


def test_committed_templates_equal_freshly_generated_ones(tmp_path: Path) -> None:
    fresh = write_templates(tmp_path)
    assert sorted(p.name for p in COMMITTED.glob("*.xlsx")) == sorted(p.name for p in fresh)
    for path in fresh:
        assert (COMMITTED / path.name).read_bytes() == path.read_bytes(), (
            f"{path.name} is stale: run `salesync template --out workbook_templates`"
        )


def test_template_command_writes_one_workbook_a_language(tmp_path: Path, cli) -> None:
    result = cli("template", "--out", str(tmp_path / "t"))
    assert result.code == 0, result.stderr
    assert result.stdout.split() == [str(tmp_path / "t" / TEMPLATE_FILES[x]) for x in LANGS]
    again = cli("template", "--out", str(tmp_path / "u"))
    assert again.code == 0
    for lang in LANGS:
        name = TEMPLATE_FILES[lang]
        assert (tmp_path / "t" / name).read_bytes() == (tmp_path / "u" / name).read_bytes()


def test_template_command_reports_an_unwritable_folder(tmp_path: Path, cli) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = cli("template", "--out", str(blocker / "sub"))
    assert result.code == 2
    assert result.stderr.startswith("salesync: error: ") and result.stderr[-1] == "\n"
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("lang", LANGS)
def test_init_writes_the_template_of_its_language(tmp_path: Path, cli, lang: Lang) -> None:
    assert cli("init", str(tmp_path / "b.xlsx"), "--lang", lang.value).code == 0
    assert (tmp_path / "b.xlsx").read_bytes() == (COMMITTED / TEMPLATE_FILES[lang]).read_bytes()


@pytest.mark.parametrize("lang", LANGS)
def test_check_on_an_empty_template_reports_no_issues(tmp_path: Path, cli, lang: Lang) -> None:
    path = write_template(tmp_path / "t.xlsx", lang)
    result = cli("check", str(path), "--json", "--fail-on", "info")
    assert result.code == 0
    assert result.json()["issues"] == []


@pytest.mark.parametrize("lang", LANGS)
def test_run_on_an_empty_template_changes_nothing(tmp_path: Path, cli, lang: Lang) -> None:
    path = write_template(tmp_path / "t.xlsx", lang)
    before = path.read_bytes()
    assert cli("run", str(path), "--json").code == 0
    assert path.read_bytes() == before


@pytest.mark.parametrize("lang", LANGS)
def test_template_tabs_tables_and_helper_columns(tmp_path: Path, lang: Lang) -> None:
    wb = openpyxl.load_workbook(write_template(tmp_path / "t.xlsx", lang))
    owned = [t.title(lang) for t in SCHEMA.owned_tables if t.name in {"issues", "performance"}]
    assert set(owned) < set(wb.sheetnames)
    for title in (DASHBOARD[lang], HOLIDAYS[lang], INSTRUCTIONS[lang], XLWINGS_CONF):
        assert title in wb.sheetnames
    for table in SCHEMA.data_tables:
        if table.name == "settings":
            continue
        ws = wb[table.title(lang)]
        (excel_table,) = ws.tables.values()
        headers = [c.value for c in ws[1] if c.value is not None]
        helpers = HELPERS.get(table.name, ())
        assert headers == [f.header(lang) for f in table.fields] + [h.header(lang) for h in helpers]
        assert excel_table.ref == f"A1:{openpyxl.utils.get_column_letter(len(headers))}1000"
        for i, _ in enumerate(helpers):  # a formula in every row of the table
            col = len(table.fields) + 1 + i
            assert str(ws.cell(2, col).value).startswith("=")
            assert str(ws.cell(1000, col).value).startswith("=")
        for f in table.fields:  # the sync's columns hold no formula
            col = [x.name for x in table.fields].index(f.name) + 1
            assert ws.cell(2, col).value is None


def test_xlwings_conf_points_at_the_addin(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(write_template(tmp_path / "t.xlsx", Lang.EN))
    ws = wb[XLWINGS_CONF]
    assert ws.sheet_state == "hidden"
    assert ws["A1"].value == "UDF Modules" and ws["B1"].value == "addin.udfs"
    assert [ws["A2"].value, ws["B2"].value] == ["SALESYNC Macros", "addin.macros"]


def test_holidays_tab_lists_the_official_days_workday_reads(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(write_template(tmp_path / "t.xlsx", Lang.ZH_HANS))
    ws = wb[HOLIDAYS[Lang.ZH_HANS]]
    days = {c.value.date() for (c,) in ws.iter_rows(min_row=2, max_col=1) if c.value}
    assert {date(2026, 1, 1), date(2026, 2, 17), date(2026, 10, 1)} <= days
    assert date(2026, 2, 14) not in days  # a makeup working day: listed apart, in column D
    makeup = {c.value.date() for (c,) in ws.iter_rows(min_row=2, min_col=4, max_col=4) if c.value}
    assert date(2026, 2, 14) in makeup
    assert wb.defined_names["Holidays"].attr_text.endswith("!$A$2:$A$200")


# --- LibreOffice ------------------------------------------------------------------------------


@pytest.mark.libreoffice
@pytest.mark.parametrize("lang", LANGS)
def test_templates_recalculate_in_libreoffice_without_error_values(
    tmp_path: Path, lang: Lang
) -> None:
    sheets = recalculated_sheets(write_template(tmp_path / "t.xlsx", lang), tmp_path)
    assert DASHBOARD[lang] in sheets and TARGETS.title(lang) in sheets
    assert error_cells(sheets) == []
    # Recalculated, not the cached values: the pipeline block found its title in the Funnel tab.
    dashboard = sheets[DASHBOARD[lang]]
    assert int(dashboard[1][23]) > 0


def _demo_tables(lang: Lang) -> dict[str, list[dict]]:
    """The demo's clean rows (no planted mistakes, no dates typed as text)."""
    from sync.demo import _Gen

    gen = _Gen(lang, 2026, "small")
    leads = gen.leads()
    contracts = gen.contracts(leads)
    t = {"leads": leads, "follow_ups": gen.follow_ups(leads), "contracts": contracts}
    t["collections"] = gen.collections(contracts)
    t["tickets"] = gen.tickets(contracts)
    t["reps"], t["targets"] = gen.reps_and_targets()
    gen.keep_promises(t["follow_ups"])
    return t


def _number(text: str) -> float | None:
    if text == "":
        return None
    return float(text[:-1]) / 100 if text.endswith("%") else float(text)


@pytest.mark.libreoffice
@pytest.mark.parametrize("lang", [Lang.ZH_HANS, Lang.EN])
def test_filled_template_formulas_give_the_sync_figures(tmp_path: Path, cli, lang: Lang) -> None:
    tables = _demo_tables(lang)
    path = write_template(tmp_path / "filled.xlsx", lang, tables)
    ran = cli("run", str(path), "--json", "--as-of", "2026-11-20T18:00", "--fail-on", "never")
    assert ran.code == 0, ran.stderr
    performance = {(r["rep"], r["period"]): r for r in json.loads(ran.stdout)["performance"]}
    sheets = recalculated_sheets(path, tmp_path)
    assert error_cells(sheets) == []

    # Completion and collection rate per rep and month: Targets' ƒ columns vs 业绩.
    rows = sheets[TARGETS.title(lang)][1:]
    col = {k: column_index("targets", k) for k in ("rep", "period", "actual_sales")}
    col |= {k: column_index("targets", k) for k in ("completion_rate", "collection_rate")}
    compared = collected = 0
    for row in rows:
        key = (row[col["rep"]], row[col["period"]])
        if key not in performance:
            continue
        sync = performance[key]
        assert _number(row[col["actual_sales"]]) == pytest.approx(sync["actual_sales"])
        assert _number(row[col["completion_rate"]]) == pytest.approx(
            sync["completion_rate"], abs=1e-6
        )
        assert _number(row[col["collection_rate"]]) == pytest.approx(
            sync["collection_rate"], abs=1e-6
        )
        compared += 1
        collected += sync["collection_rate"] is not None
    assert compared >= 100 and collected >= 5

    # Minutes due (WORKDAY over the Holidays tab) vs the sync's calendar, away from makeup days.
    calendar = BusinessCalendar("CN")
    makeup = set(calendar_makeup_days())
    fus = sheets[FOLLOW_UPS.title(lang)][1:]
    date_col, due_col = (
        column_index("follow_ups", "date"),
        column_index("follow_ups", "minutes_due"),
    )
    checked = 0
    for row in fus:
        if not row[due_col]:
            continue
        start = datetime.fromisoformat(row[date_col]).date()
        expected = due_time(start, 2, "workdays", calendar)
        if any(start + timedelta(days=d) in makeup for d in range((expected - start).days + 1)):
            continue
        assert date.fromisoformat(row[due_col][:10]) == expected, row
        checked += 1
    assert checked >= 10


def calendar_makeup_days() -> list[date]:
    from sync.templates.extras import official_days

    return official_days(Lang.EN)[1]


def test_helper_headers_match_no_field() -> None:
    from sync.core.text import fold

    spellings = {fold(s) for t in SCHEMA.tables for f in t.fields for s in f.spellings()}
    for helpers in HELPERS.values():
        for h in helpers:
            for lang in LANGS:
                assert h.header(lang).startswith(MARK)
                assert fold(h.header(lang)) not in spellings
