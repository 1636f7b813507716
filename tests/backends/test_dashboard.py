"""A workbook that did not start from a template gets the Dashboard tab on its first `run`:
its native charts transplanted into the package, every other part left byte-identical, and a
second run writes nothing. Workbooks that already have one (templates, demo) get no second."""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from sync.backends.xlsx import XlsxBackend
from sync.core.schema import SCHEMA, Lang
from sync.demo import build_demo_workbook
from sync.job import sync_workbook
from sync.templates.extras import DASHBOARD
from tests.backends.test_lossless import _members, _only_insertions, _raw, _sheet_parts, _soffice
from tests.templates.libreoffice import recalculated_sheets

AS_OF = "2026-06-30T18:00"
TEMPLATES = Path(__file__).resolve().parents[2] / "workbook_templates"


def _plain_workbook(path: Path, lang: Lang) -> Path:
    """Leads and Reps only, written by openpyxl: no Dashboard, no owned tabs."""
    leads, reps = SCHEMA.table("leads"), SCHEMA.table("reps")
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = leads.title(lang)
    ws.append([leads.field(f).headers[lang] for f in ("lead_id", "source", "customer", "owner")])
    ws.append(["L001", "Website", "Acme", "Wang Lei"])
    ws.append(["L002", "???", "Globex", "Li Na"])  # not a source: flagged
    rs = wb.create_sheet(reps.title(lang))
    rs.append([reps.field(f).headers[lang] for f in ("name", "team")])
    rs.append(["Wang Lei", "East"])
    rs.append(["Li Na", "East"])
    wb.save(path)
    return path


def _chart_refs(path: Path) -> set[str]:
    """Tab names the chart series formulas of the package point at."""
    refs = set()
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if re.fullmatch(r"xl/charts/chart\d+\.xml", name):
                for f in re.findall(r"<c:f>([^<]+)</c:f>", zf.read(name).decode()):
                    refs.add(f.rsplit("!", 1)[0].strip("'").replace("''", "'"))
    return refs


def _charts(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return [n for n in zf.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]


@pytest.mark.parametrize("lang", [Lang.ZH_HANS, Lang.ZH_HANT, Lang.EN])
def test_plain_workbook_gets_a_dashboard(
    lang: Lang, tmp_path: Path, cli: Callable[..., object]
) -> None:
    path = _plain_workbook(tmp_path / "plain.xlsx", lang)
    before = tmp_path / "before.xlsx"
    shutil.copy(path, before)
    cli("run", str(path), "--as-of", AS_OF)

    sheets = _sheet_parts(path)
    assert DASHBOARD[lang] in sheets and DASHBOARD[lang] not in _sheet_parts(before)
    assert len(_charts(path)) == 4
    assert _chart_refs(path) == {DASHBOARD[lang]}
    dash_xml = _members(path)[sheets[DASHBOARD[lang]]].decode()
    formulas_read = set(re.findall(r"'([^']+)'!", dash_xml))
    assert formulas_read <= set(sheets)  # helper blocks read tabs that exist
    assert {SCHEMA.table("reps").title(lang), SCHEMA.table("performance").title(lang)} <= (
        formulas_read
    )
    assert 'tabSelected="1"' not in dash_xml and 't="s"' not in dash_xml

    # Every part of the original is there, first and in order; only the leads sheet (flags),
    # styles and the package lists changed; those by insertions only.
    old, new = _members(before), _members(path)
    assert list(new)[: len(old)] == list(old)
    changed = {n for n in old if old[n] != new[n]}
    leads_part = _sheet_parts(before)[SCHEMA.table("leads").title(lang)]
    package = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"}
    assert changed <= package | {leads_part, "xl/styles.xml"}
    old_raw, new_raw = _raw(before), _raw(path)
    for name in set(old) - changed:
        assert new_raw[name] == old_raw[name], name
    for name in package:
        assert _only_insertions(old[name], new[name]), name

    # Binding finds the tab now: a second run writes nothing.
    once = path.read_bytes()
    cli("run", str(path), "--as-of", AS_OF)
    assert path.read_bytes() == once


@pytest.mark.libreoffice
def test_libreoffice_opens_the_dashboard(tmp_path: Path, cli: Callable[..., object]) -> None:
    path = _plain_workbook(tmp_path / "plain.xlsx", Lang.ZH_HANS)
    cli("run", str(path), "--as-of", AS_OF)
    out = tmp_path / "pdf"
    _soffice(tmp_path, "pdf", out, path)
    assert (out / "plain.pdf").read_bytes().startswith(b"%PDF")
    resaved = tmp_path / "resaved"
    _soffice(tmp_path, "xlsx", resaved, path)
    assert len(_charts(resaved / "plain.xlsx")) == 4
    rows = recalculated_sheets(path, tmp_path)[DASHBOARD[Lang.ZH_HANS]]
    reps = [r[14] for r in rows[4:6]]  # column O: the completion block's reps
    assert reps == ["Wang Lei", "Li Na"]
    assert not any(v.startswith(("#", "Err:")) for r in rows for v in r)


@pytest.mark.parametrize("name", ["salesync-zh-Hans.xlsx", "salesync-en.xlsx"])
def test_templates_keep_their_one_dashboard(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    shutil.copy(TEMPLATES / name, path)
    charts = _charts(path)
    result = sync_workbook(XlsxBackend(path), write=True, as_of=datetime(2026, 6, 30, 18))
    assert result.plan.dashboard is None
    assert _charts(path) == charts


def test_demo_keeps_its_one_dashboard(tmp_path: Path) -> None:
    path = tmp_path / "demo.xlsx"
    build_demo_workbook(path, lang=Lang.ZH_HANT, size="small")
    charts = _charts(path)
    result = sync_workbook(XlsxBackend(path), write=True, as_of=datetime(2026, 6, 30, 18))
    assert result.plan.dashboard is None
    assert _charts(path) == charts
    assert sum(n == DASHBOARD[Lang.ZH_HANT] for n in _sheet_parts(path)) == 1
