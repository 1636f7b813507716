"""The blank templates: every data tab with the schema's headers, drop-downs, Settings rows."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from sync.core.schema import LANGS, SCHEMA, SETTING_KEYS, Kind, Lang
from sync.templates import column_format_hint, write_blank_workbook


def _validations(ws) -> dict[str, list[str]]:
    """Column letter → the list of choices of a list validation covering rows 2..1000."""
    found: dict[str, list[str]] = {}
    for dv in ws.data_validations.dataValidation:
        if dv.type != "list":
            continue
        for rng in dv.sqref.ranges:
            col = openpyxl.utils.get_column_letter(rng.min_col)
            assert rng.min_row == 2 and rng.max_row == 1000
            found[col] = [s.strip('"') for s in dv.formula1.strip('"').split(",")]
    return found


def _dimension(ws, col: int):
    """The <col> element covering column `col` (openpyxl keeps grouped ranges under the first)."""
    for dim in ws.column_dimensions.values():
        if dim.min is not None and dim.min <= col <= dim.max:
            return dim
    raise AssertionError(f"no width set for column {col}")


@pytest.mark.parametrize("lang", LANGS)
def test_every_data_table_has_its_tab_and_headers(tmp_path: Path, lang: Lang) -> None:
    path = write_blank_workbook(tmp_path / f"{lang}.xlsx", lang)
    wb = openpyxl.load_workbook(path)
    tabs = [t.title(lang) for t in SCHEMA.data_tables]
    assert wb.sheetnames[: len(tabs)] == tabs  # then the owned tabs, Dashboard, Holidays …
    for table in SCHEMA.data_tables:
        ws = wb[table.title(lang)]
        header_cells = ws[1][: len(table.fields)]  # the Settings sections below are wider
        headers = [c.value for c in header_cells]
        assert headers == [f.header(lang) for f in table.fields]  # ƒ formula columns follow
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref is not None or len(ws.tables) == 1  # an Excel table filters
        owned_fill = {
            c.fill.fgColor.rgb for c, f in zip(header_cells, table.fields, strict=True) if f.owned
        }
        user_fill = {
            c.fill.fgColor.rgb
            for c, f in zip(header_cells, table.fields, strict=True)
            if not f.owned
        }
        assert all(c.font.b for c in header_cells)
        assert len(user_fill) == 1 and not owned_fill & user_fill
        if table.name == "settings":
            continue
        validations = _validations(ws)
        for col, f in enumerate(table.fields, start=1):
            letter = openpyxl.utils.get_column_letter(col)
            if f.kind in (Kind.ENUM, Kind.BOOL) and f.choices is not None:
                assert validations[letter] == [c.labels[lang] for c in f.choices.choices]
            else:
                assert letter not in validations
            width = _dimension(ws, col).width
            if f.kind in (Kind.DATE, Kind.DATETIME):
                assert width == pytest.approx(18, abs=1)
            else:
                assert 13 <= width <= 29


@pytest.mark.parametrize("lang", LANGS)
def test_settings_rows_hold_every_key_with_its_default(tmp_path: Path, lang: Lang) -> None:
    wb = openpyxl.load_workbook(write_blank_workbook(tmp_path / "t.xlsx", lang))
    ws = wb[SCHEMA.table("settings").title(lang)]
    last = 1 + len(SETTING_KEYS)
    rows = list(ws.iter_rows(min_row=2, max_row=last, max_col=3, values_only=True))
    assert len(rows) == len(SETTING_KEYS)
    assert all(v is None for v in next(ws.iter_rows(min_row=last + 1, values_only=True)))
    for (key, value, note), setting in zip(rows, SETTING_KEYS, strict=True):
        assert key == setting.labels[lang]
        assert note == setting.help[lang]
        if setting.choices is not None and setting.default:
            assert value == setting.choices.label(setting.default, lang)
        elif setting.default:
            assert str(value) == setting.default
        else:
            assert value in (None, "")
    unit = next(r for r, s in zip(rows, SETTING_KEYS, strict=True) if s.key == "amount_unit")
    assert unit[1] == {"zh-Hans": "元", "zh-Hant": "元", "en": "yuan"}[lang]


def test_date_and_percent_columns_are_formatted(tmp_path: Path) -> None:
    lang = Lang.ZH_HANS
    wb = openpyxl.load_workbook(write_blank_workbook(tmp_path / "t.xlsx", lang))
    leads = SCHEMA.table("leads")
    ws = wb[leads.title(lang)]
    for name in ("created_at", "expected_close", "probability"):
        col = [f.name for f in leads.fields].index(name) + 1
        fmt = column_format_hint(leads.field(name))
        assert fmt is not None
        # The column's default style: what a cell typed there later takes.
        assert _dimension(ws, col).number_format == fmt
    assert column_format_hint(leads.field("probability")) == "0%"
    assert "hh:mm" in column_format_hint(leads.field("created_at"))
    assert "hh" not in column_format_hint(leads.field("expected_close"))
    assert column_format_hint(leads.field("customer")) is None


@pytest.mark.parametrize("lang", LANGS)
def test_same_language_gives_the_same_bytes(tmp_path: Path, lang: Lang) -> None:
    a = write_blank_workbook(tmp_path / "a.xlsx", lang).read_bytes()
    b = write_blank_workbook(tmp_path / "b.xlsx", lang).read_bytes()
    assert a == b


@pytest.mark.parametrize("lang", list(Lang))
def test_settings_carry_the_sla_scoring_and_assignment_sections(tmp_path, lang: Lang) -> None:
    from sync.backends.xlsx import XlsxBackend
    from sync.core.headers import bind_workbook

    path = write_blank_workbook(tmp_path / "blank.xlsx", lang)
    binding = bind_workbook(XlsxBackend(path).read().sheets)
    for section in ("sla_rules", "scoring", "assignment_rules"):
        assert binding.tables[section].sheet.name == SCHEMA.table("settings").title(lang)
    assert binding.issues == [i for i in binding.issues if i.code == "missing-tab"] == []
