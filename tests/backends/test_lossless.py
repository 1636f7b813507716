"""Issue 7's promise, on real workbooks: `salesync run` changes only what it owns.

Each workbook holds the things teams build (charts, an image, comments, sparklines, a list
validation reading another tab, conditional formats with 2010 data bars, a text box, defined
names, a hidden tab, grouped rows, an Excel table, a button and, for .xlsm, a VBA project) next
to a 线索跟踪 tab with one bad row, so the sync writes a ⚙ flags column and a 问题清单 tab. The
tests run the real `salesync run` and then compare the package before and after, part by part
and, in the sheet that changed, cell by cell.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
import shutil
import struct
import subprocess
import warnings
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from sync.backends import xlsx_package
from sync.backends.xlsx import XlsxBackend
from sync.job import sync_workbook

AS_OF = "2026-06-30T18:00"
LEADS = "线索跟踪"
HEADERS = ["线索编号", "来源类型", "客户名称", "负责人"]
REPS = ["王磊", "李娜", "张伟"]
ROWS = [
    ["L001", "官网注册", "华东精密机械", "王磊"],
    ["L002", "展会", "苏州恒通电子", "李娜"],
    ["L003", "火星", "杭州远景自动化", "张伟"],  # not a source type: flagged
    ["L004", "转介绍", "宁波港联物流", "王磊"],
    ["L005", "线上广告", "无锡瑞丰化工", "李娜"],
    ["L006", "客户推荐", "常州德隆重工", "张伟"],
]
BAD_ROW = 4  # spreadsheet row of L003
FLAGS = "⚙ 系统提示"


def _png() -> bytes:
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\x20\x80\xc0"))
        + chunk(b"IEND", b"")
    )


def _vba_project(tmp_path: Path) -> Path:
    """A real vbaProject.bin (from xlwings' quickstart workbook) when xlwings is installed;
    otherwise an opaque blob, which is all the byte-for-byte guarantee needs."""
    path = tmp_path / "vbaProject.bin"
    spec = importlib.util.find_spec("xlwings")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        book = Path(folder) / "quickstart.xlsm"
        if book.exists():
            with zipfile.ZipFile(book) as zf:
                path.write_bytes(zf.read("xl/vbaProject.bin"))
            return path
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 16)
    return path


def build_rich_workbook(path: Path, *, vba: Path | None = None) -> Path:
    """Everything issue 7 lists, written by xlsxwriter around a salesync 线索跟踪 tab."""
    tmp = path.parent
    (tmp / "pixel.png").write_bytes(_png())
    wb = xlsxwriter.Workbook(str(path))
    head = wb.add_format({"bold": True, "bg_color": "#DDEEFF", "border": 1})
    hot = wb.add_format({"font_color": "#9C0006", "bg_color": "#FFC7CE"})

    leads = wb.add_worksheet(LEADS)
    leads.add_table(
        0,
        0,
        len(ROWS),
        len(HEADERS) - 1,
        {"data": ROWS, "columns": [{"header": h, "header_format": head} for h in HEADERS]},
    )
    leads.write_comment("C2", "大客户，季度回访")
    leads.data_validation(
        "D2:D200", {"validate": "list", "source": "=Reps!$A$2:$A$20", "ignore_blank": True}
    )
    leads.conditional_format(
        "B2:B200", {"type": "text", "criteria": "containing", "value": "展会", "format": hot}
    )
    leads.conditional_format("A2:A200", {"type": "data_bar", "data_bar_2010": True})
    leads.set_row(2, None, None, {"level": 1})
    leads.set_row(3, None, None, {"level": 1, "hidden": False})
    leads.set_column("C:C", 22)
    leads.freeze_panes(1, 0)
    leads.insert_textbox("G4", "Pipeline notes: 每周一更新", {"width": 200, "height": 60})

    reps = wb.add_worksheet("Reps")
    reps.write_row(0, 0, ["姓名", "团队"])
    for i, name in enumerate(REPS, start=1):
        reps.write_row(i, 0, [name, "华东"])

    data = wb.add_worksheet("Data")
    data.write_row(0, 0, ["月份", "1月", "2月", "3月", "4月", "5月", "6月"])
    data.write_row(1, 0, ["金额", 120, 135, 98, 160, 171, 188])
    data.write_row(2, 0, ["线索", 30, 41, 28, 45, 52, 60])
    data.hide()

    charts = wb.add_worksheet("Charts")
    charts.write("A1", "季度趋势")
    charts.write_formula("A2", f"=COUNTA('{LEADS}'!A2:A200)", None, len(ROWS))
    column = wb.add_chart({"type": "column"})
    column.add_series(
        {"name": "金额", "categories": "=Data!$B$1:$G$1", "values": "=Data!$B$2:$G$2"}
    )
    charts.insert_chart("B3", column)
    line = wb.add_chart({"type": "line"})
    line.add_series({"name": "线索", "categories": "=Data!$B$1:$G$1", "values": "=Data!$B$3:$G$3"})
    charts.insert_chart("J3", line)
    charts.insert_image("B20", str(tmp / "pixel.png"))
    charts.add_sparkline("H1", {"range": "Data!B2:G2"})
    charts.add_sparkline("I1", {"range": "Data!B3:G3", "type": "column"})
    charts.insert_textbox("B25", "看板说明：每周一刷新")
    if vba is not None:
        charts.insert_button("H20", {"macro": "SampleCall", "caption": "Run"})

    wb.define_name("金额", "=Data!$B$2:$G$2")
    wb.define_name("Reps!本地名", "=Reps!$A$2:$A$4")
    if vba is not None:
        wb.add_vba_project(str(vba))
    wb.close()
    return path


def build_libreoffice_workbook(tmp_path: Path) -> Path:
    """A package written by LibreOffice (its own part names, shared strings, chart XML)."""
    src = tmp_path / "src" / "lo.xlsx"
    src.parent.mkdir()
    wb = xlsxwriter.Workbook(str(src))
    leads = wb.add_worksheet(LEADS)
    leads.write_row(0, 0, HEADERS)
    for r, row in enumerate(ROWS, start=1):
        leads.write_row(r, 0, row)
    leads.write_comment("C2", "大客户")
    leads.data_validation("D2:D200", {"validate": "list", "source": "=Reps!$A$2:$A$20"})
    leads.conditional_format(
        "B2:B200",
        {
            "type": "text",
            "criteria": "containing",
            "value": "展会",
            "format": wb.add_format({"bold": True}),
        },
    )
    leads.set_row(2, None, None, {"level": 1})
    reps = wb.add_worksheet("Reps")
    reps.write_column(0, 0, ["姓名", *REPS])
    data = wb.add_worksheet("Data")
    data.write_row(0, 0, ["1月", "2月", "3月"])
    data.write_row(1, 0, [120, 135, 98])
    data.hide()
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"categories": "=Data!$A$1:$C$1", "values": "=Data!$A$2:$C$2"})
    leads.insert_chart("H2", chart)
    wb.define_name("金额", "=Data!$A$2:$C$2")
    wb.close()
    out = tmp_path / "lo"
    _soffice(tmp_path, "xlsx", out, src)
    return out / "lo.xlsx"


def _soffice(tmp_path: Path, fmt: str, outdir: Path, *files: Path) -> None:
    soffice = shutil.which("soffice")
    assert soffice is not None
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}",
            "--headless",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            *map(str, files),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )


# --------------------------------------------------------------------------- comparing packages


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _raw(path: Path) -> dict[str, tuple[int, int, bytes]]:
    """Each member's compression method, CRC and compressed bytes as stored."""
    out = {}
    with zipfile.ZipFile(path) as zf, open(path, "rb") as fh:
        for info in zf.infolist():
            fh.seek(info.header_offset)
            header = fh.read(30)
            name_len, extra_len = struct.unpack("<HH", header[26:30])
            fh.seek(info.header_offset + 30 + name_len + extra_len)
            out[info.filename] = (info.compress_type, info.CRC, fh.read(info.compress_size))
    return out


def _sheet_parts(path: Path) -> dict[str, str]:
    """Tab name → sheet part, from workbook.xml and its rels."""
    with zipfile.ZipFile(path) as zf:
        wb = zf.read("xl/workbook.xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
    targets = {
        m.group(1): m.group(2)
        for m in re.finditer(r'<Relationship Id="([^"]+)"[^>]*?Target="([^"]+)"', rels)
    }
    targets |= {
        m.group(2): m.group(1)
        for m in re.finditer(r'<Relationship[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)
    }
    out = {}
    for m in re.finditer(r"<sheet\b[^>]*>", wb):
        tag = m.group(0)
        name = re.search(r'name="([^"]+)"', tag).group(1)  # type: ignore[union-attr]
        rid = re.search(r'r:id="([^"]+)"', tag).group(1)  # type: ignore[union-attr]
        target = targets[rid].lstrip("/")
        out[name] = target if target.startswith("xl/") else "xl/" + target
    return out


_CELL_RE = re.compile(rb"<c\b[^>]*?(?:/>|>.*?</c>)", re.S)
_ROW_RE = re.compile(rb"<row\b[^>]*>")


def _cells(sheet_xml: bytes) -> dict[str, bytes]:
    return {
        re.search(rb'\br="([A-Z]+\d+)"', m.group(0)).group(1).decode(): m.group(0)  # type: ignore[union-attr]
        for m in _CELL_RE.finditer(sheet_xml)
    }


def _outside_sheet_data(sheet_xml: bytes) -> tuple[bytes, bytes]:
    start = sheet_xml.index(b"<sheetData")
    end = sheet_xml.rindex(b"</sheetData>")
    head = re.sub(rb"<dimension\b[^>]*/>", b"", sheet_xml[:start])
    return head, sheet_xml[end:]


def _only_insertions(before: bytes, after: bytes, *, ignore: bytes = rb"$^") -> bool:
    """`after` is `before` with text inserted and nothing removed or replaced (attributes that
    match `ignore`, such as a list's count, are left out of the comparison)."""
    a = re.sub(ignore, b"", before).decode()
    b = re.sub(ignore, b"", after).decode()
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    return all(tag in ("equal", "insert") for tag, *_ in ops)


def _column(ref: str) -> str:
    return re.match(r"[A-Z]+", ref).group(0)  # type: ignore[union-attr]


def assert_lossless(before: Path, after: Path, *, owned_columns: set[str]) -> set[str]:
    """Every part but the owned cells is as it was; returns the names of the parts that changed."""
    old, new = _members(before), _members(after)
    old_raw, new_raw = _raw(before), _raw(after)
    old_sheets, new_sheets = _sheet_parts(before), _sheet_parts(after)
    leads_part = old_sheets[LEADS]
    added = [n for n in new if n not in old]
    assert list(new)[: len(old)] == list(old), "parts were dropped or reordered"
    # New tabs are owned tabs: the Issues tab, and whatever else the job regenerates.
    new_tabs = set(new_sheets) - set(old_sheets)
    assert "问题清单" in new_tabs
    tab_parts = {new_sheets[t] for t in new_tabs}
    for name in added:
        owned_part = name in tab_parts or name.startswith(
            ("xl/worksheets/_rels/", "xl/drawings/", "xl/charts/")
        )
        assert owned_part, name
    assert tab_parts <= set(added)
    changed = {n for n in old if old[n] != new[n]}
    allowed = {
        leads_part,
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "[Content_Types].xml",
        "xl/styles.xml",
    } | {n for n in old if n.startswith("xl/tables/")}
    assert changed <= allowed, changed - allowed
    for name in old:
        if name not in changed:  # untouched: the very same compressed bytes, not just equal text
            assert new_raw[name] == old_raw[name], name
    for name in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
        assert _only_insertions(old[name], new[name]), name
    if "xl/styles.xml" in changed:
        assert _only_insertions(old["xl/styles.xml"], new["xl/styles.xml"], ignore=rb' count="\d+"')

    # The one changed data sheet: owned cells only.
    old_cells, new_cells = _cells(old[leads_part]), _cells(new[leads_part])
    for ref, xml in old_cells.items():
        if _column(ref) not in owned_columns:
            assert new_cells.get(ref) == xml, ref
    for ref in set(new_cells) - set(old_cells):
        assert _column(ref) in owned_columns, ref
    assert _outside_sheet_data(old[leads_part]) == _outside_sheet_data(new[leads_part])
    old_rows = [re.sub(rb'\sspans="[^"]*"', b"", t) for t in _ROW_RE.findall(old[leads_part])]
    new_rows = [re.sub(rb'\sspans="[^"]*"', b"", t) for t in _ROW_RE.findall(new[leads_part])]
    assert new_rows == old_rows  # grouping, heights, hidden state of every row kept
    return changed


def _run(cli: Callable[..., object], path: Path) -> None:
    result = cli("run", str(path), "--as-of", AS_OF)
    assert result.code == 1, (result.stdout, result.stderr)  # type: ignore[attr-defined]
    assert "已写回" in result.stdout  # type: ignore[attr-defined]


def _header_row(path: Path) -> list[str]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(LEADS).to_python()
    return [str(v) for v in rows[0]]


def _added_columns(before: Path, after: Path) -> set[str]:
    """Letters of the owned columns the sync added (new headers right of the user's)."""
    old, new = _header_row(before), _header_row(after)
    return {chr(65 + i) for i, h in enumerate(new) if h and (i >= len(old) or not old[i])}


def _flags(path: Path) -> dict[int, str]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(LEADS).to_python()
    col = rows[0].index(FLAGS)
    return {r: row[col] for r, row in enumerate(rows, start=1) if len(row) > col and row[col]}


def _parts_count(path: Path, pattern: str) -> int:
    with zipfile.ZipFile(path) as zf:
        return sum(1 for n in zf.namelist() if re.fullmatch(pattern, n))


# --------------------------------------------------------------------------- the tests


@pytest.fixture
def rich_book(tmp_path: Path) -> Path:
    return build_rich_workbook(tmp_path / "team.xlsx")


@pytest.fixture
def macro_book(tmp_path: Path) -> Path:
    return build_rich_workbook(tmp_path / "team.xlsm", vba=_vba_project(tmp_path))


@pytest.mark.parametrize("book", ["rich_book", "macro_book"])
def test_run_changes_only_owned_cells(
    book: str, request: pytest.FixtureRequest, cli: Callable[..., object], tmp_path: Path
) -> None:
    path: Path = request.getfixturevalue(book)
    before = tmp_path / ("before" + path.suffix)
    shutil.copy(path, before)
    _run(cli, path)
    added = _added_columns(before, path)
    assert chr(65 + len(HEADERS)) in added  # the first owned column sits right of the table
    changed = assert_lossless(before, path, owned_columns=added)
    assert "xl/tables/table1.xml" in changed  # the flags column joined the table
    assert _flags(path)[1] == FLAGS
    assert set(_flags(path)) == {1, BAD_ROW}

    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    for part in ("xl/comments1.xml", "xl/media/image1.png", "xl/charts/chart1.xml"):
        assert part in names
    if path.suffix == ".xlsm":
        assert _members(path)["xl/vbaProject.bin"] == _members(before)["xl/vbaProject.bin"]

    # A second run has nothing to do and leaves the file alone, to the byte.
    once = path.read_bytes()
    result = cli("run", str(path), "--as-of", AS_OF)
    assert result.code == 1  # type: ignore[attr-defined]
    assert path.read_bytes() == once


@pytest.mark.filterwarnings("ignore:.*extension is not supported")
def test_table_grows_with_the_added_column(rich_book: Path, cli: Callable[..., object]) -> None:
    _run(cli, rich_book)
    headers = [h for h in _header_row(rich_book) if h]
    assert headers[: len(HEADERS) + 1] == [*HEADERS, headers[len(HEADERS)]]
    assert FLAGS in headers
    wb = openpyxl.load_workbook(rich_book)
    table = wb[LEADS].tables["Table1"]
    assert table.ref == f"A1:{chr(64 + len(headers))}{len(ROWS) + 1}"
    assert table.autoFilter.ref == table.ref
    assert [c.name for c in table.tableColumns] == headers
    assert [c.id for c in table.tableColumns] == list(range(1, len(headers) + 1))


def test_sync_workbook_with_the_backend_directly(rich_book: Path, tmp_path: Path) -> None:
    before = tmp_path / "before.xlsx"
    shutil.copy(rich_book, before)
    result = sync_workbook(XlsxBackend(rich_book), write=True, as_of=datetime(2026, 6, 30, 18))
    assert result.wrote
    assert_lossless(before, rich_book, owned_columns=_added_columns(before, rich_book))


def test_openpyxl_round_trip_would_lose_what_salesync_keeps(
    rich_book: Path, tmp_path: Path
) -> None:
    """Why the backend never loads and saves the workbook with openpyxl."""
    resaved = tmp_path / "openpyxl.xlsx"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        openpyxl.load_workbook(rich_book).save(resaved)
    assert any("Sparkline" in str(w.message) for w in caught)
    old, new = _members(rich_book), _members(resaved)
    assert b"sparkline" in old["xl/worksheets/sheet4.xml"]
    assert not any(b"sparkline" in data for data in new.values())
    assert any(b"txBody" in data for name, data in old.items() if "drawings/drawing" in name)
    assert not any(b"txBody" in data for name, data in new.items() if "drawings/drawing" in name)


def test_fallback_copy_without_zip_internals(
    rich_book: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When zipfile's internals are not what the raw copy expects, members are recompressed
    with the same method: the parts' bytes are still identical."""
    before = tmp_path / "before.xlsx"
    shutil.copy(rich_book, before)
    original = xlsx_package._raw_copy
    calls = []

    def half_then_fail(src_fh: object, info: zipfile.ZipInfo, out: zipfile.ZipFile, **kw: object):
        calls.append(info.filename)
        assert out.fp is not None
        out.fp.write(b"PK\x03\x04 half a header")  # a partial write must be cut off
        raise AttributeError("'ZipFile' object has no attribute 'start_dir'")

    monkeypatch.setattr(xlsx_package, "_raw_copy", half_then_fail)
    sync_workbook(XlsxBackend(rich_book), write=True, as_of=datetime(2026, 6, 30, 18))
    assert calls
    monkeypatch.setattr(xlsx_package, "_raw_copy", original)
    with zipfile.ZipFile(rich_book) as zf:
        assert zf.testzip() is None
    old, new = _members(before), _members(rich_book)
    for name in old:
        if name.startswith(("xl/media/", "xl/charts/", "xl/drawings/", "xl/comments", "docProps")):
            assert new[name] == old[name], name
    kinds = dict(_compress_types(rich_book))
    assert all(kinds[n] == t for n, t in _compress_types(before))
    assert_lossless_text(before, rich_book)


def _compress_types(path: Path) -> list[tuple[str, int]]:
    with zipfile.ZipFile(path) as zf:
        return [(i.filename, i.compress_type) for i in zf.infolist()]


def assert_lossless_text(before: Path, after: Path) -> None:
    """The uncompressed-bytes half of `assert_lossless` (a recompressed member's stored bytes
    may differ from the original's, its content may not)."""
    old, new = _members(before), _members(after)
    leads_part = _sheet_parts(before)[LEADS]
    for name in old:
        if name not in (
            leads_part,
            "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels",
            "[Content_Types].xml",
            "xl/styles.xml",
            "xl/tables/table1.xml",
        ):
            assert new[name] == old[name], name


@pytest.mark.libreoffice
def test_libreoffice_opens_the_result_with_the_same_charts(
    rich_book: Path, macro_book: Path, tmp_path: Path, cli: Callable[..., object]
) -> None:
    originals = tmp_path / "originals"
    originals.mkdir()
    for book in (rich_book, macro_book):
        shutil.copy(book, originals / book.name)
        _run(cli, book)
    out_before, out_after = tmp_path / "lo-before", tmp_path / "lo-after"
    _soffice(tmp_path, "xlsx", out_before, originals / rich_book.name, originals / macro_book.name)
    _soffice(tmp_path, "xlsx", out_after, rich_book, macro_book)
    for book in (rich_book, macro_book):
        resaved_before = out_before / (book.stem + ".xlsx")
        resaved_after = out_after / (book.stem + ".xlsx")
        charts = _parts_count(resaved_before, r"xl/charts/chart\d+\.xml")
        assert charts == 2
        # the user's two charts, and the four of the Dashboard tab the run added
        assert _parts_count(resaved_after, r"xl/charts/chart\d+\.xml") == charts + 4
        assert _parts_count(resaved_after, r"xl/media/.*") == _parts_count(
            resaved_before, r"xl/media/.*"
        )
        assert _flags(resaved_after) == _flags(book)
        assert "问题清单" in CalamineWorkbook.from_path(str(resaved_after)).sheet_names


@pytest.mark.libreoffice
def test_libreoffice_written_workbook(tmp_path: Path, cli: Callable[..., object]) -> None:
    path = build_libreoffice_workbook(tmp_path)
    before = tmp_path / "before.xlsx"
    shutil.copy(path, before)
    _run(cli, path)
    assert_lossless(before, path, owned_columns=_added_columns(before, path))
    assert set(_flags(path)) == {1, BAD_ROW}
    once = path.read_bytes()
    cli("run", str(path), "--as-of", AS_OF)
    assert path.read_bytes() == once

    out = tmp_path / "pdf"
    _soffice(tmp_path, "pdf", out, path)
    assert (out / "lo.pdf").read_bytes().startswith(b"%PDF")
    resaved = tmp_path / "resaved"
    _soffice(tmp_path, "xlsx", resaved, path)
    assert _parts_count(resaved / "lo.xlsx", r"xl/charts/chart\d+\.xml") == _parts_count(
        before, r"xl/charts/chart\d+\.xml"
    )
