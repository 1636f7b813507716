"""The Excel macros, run against the fake xlwings workbook of tests/backends/test_excel.py with
`xlwings.Book.caller` pointing at it, as RunPython would."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from addin import macros
from sync.core.errors import WorkbookLocked
from sync.core.schema import SCHEMA, Lang
from tests.backends.test_excel import FakeBook, FakeSheet, fake_from_xlsx

xw = pytest.importorskip("xlwings")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, datetime]:
    from sync.demo import build_demo_workbook

    path = tmp_path_factory.mktemp("macros") / "pipeline.xlsx"
    return path, build_demo_workbook(path).as_of


@pytest.fixture
def calling(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make `xw.Book.caller()` return `book`, as RunPython does for the calling workbook."""

    def use(book: Any) -> Any:
        monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: book))
        return book

    return use


def test_sync_caller_syncs_and_shows_the_summary(demo: tuple[Path, datetime], calling: Any) -> None:
    path, as_of = demo
    book = calling(fake_from_xlsx(path))
    result = macros.sync_caller(as_of=as_of)
    assert result is not None and result.wrote
    counts = result.counts()
    [(text, title)] = book.app.alerts
    assert title == "salesync"
    assert text.startswith(f"salesync：{counts['error']} 个错误，{counts['warning']} 个警告")
    assert "已写回" in text
    assert book.app.status_bar == text
    assert book.active_sheet is not None and book.active_sheet.name == "问题清单"
    header = [f.header(Lang.ZH_HANS) for f in SCHEMA.table("issues").fields]
    assert book.sheets["问题清单"].grid()[0] == header

    book.app.alerts.clear()
    second = macros.sync_caller(as_of=as_of)
    assert second is not None and not second.wrote
    assert book.app.alerts[-1][0].endswith("工作簿已是最新")


def test_a_salesync_error_is_shown_not_raised(calling: Any) -> None:
    book = calling(FakeBook({"Sheet1": [["hello", "world"]]}))
    before = book.snapshot()
    assert macros.sync_caller() is None
    [(text, _)] = book.app.alerts
    assert text.startswith("salesync: ") and "salesync init" in text
    assert book.snapshot() == before


def test_an_unexpected_error_is_shown_not_raised(
    calling: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    book = calling(FakeBook({"Sheet1": [["x"]]}))

    def broken(*args: Any, **kwargs: Any) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(macros, "sync_workbook", broken)
    assert macros.sync_caller() is None
    assert book.app.alerts == [("salesync: unexpected error (KeyError: 'boom')", "salesync")]
    assert "Traceback" in capsys.readouterr().err


def test_a_locked_workbook_error_keeps_its_message(
    calling: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = calling(FakeBook({"Sheet1": [["x"]]}))

    def locked(*args: Any, **kwargs: Any) -> None:
        raise WorkbookLocked("pipeline.xlsx: 线索跟踪 changed while syncing; run again")

    monkeypatch.setattr(macros, "sync_workbook", locked)
    assert macros.refresh_dashboard(alert=False) is None
    assert book.app.alerts == []
    assert (
        book.app.status_bar == "salesync: pipeline.xlsx: 线索跟踪 changed while syncing; run again"
    )


def test_not_called_from_excel(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def nobody(cls: Any) -> Any:
        raise RuntimeError("not called from Excel")

    monkeypatch.setattr(xw.Book, "caller", classmethod(nobody))
    assert macros.sync_caller() is None
    assert "run this from an Excel macro or button" in capsys.readouterr().err


def test_refresh_dashboard_recalculates_and_shows_it(
    demo: tuple[Path, datetime], calling: Any
) -> None:
    path, as_of = demo
    book = fake_from_xlsx(path)
    # The demo carries the template's Dashboard; here it stands for a tab of charts.
    book.sheets.items[:] = [s for s in book.sheets.items if s.name != "仪表盘"]
    dashboard = FakeSheet(book, "仪表盘")
    dashboard.seed([["charts below"]])
    book.sheets.items.append(dashboard)
    calling(book)
    result = macros.refresh_dashboard(as_of=as_of, alert=False)
    assert result is not None and result.wrote
    assert book.app.calculations == 1
    assert book.active_sheet is dashboard
    assert dashboard.grid() == [["charts below"]]  # not an owned tab: never written
    assert book.app.alerts == []


def test_main_is_sync_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(macros, "sync_caller", lambda: "synced")
    assert macros.main() == "synced"


def test_summary_line_in_each_language() -> None:
    counts = {"error": 0, "warning": 0, "info": 3}
    assert macros.summary_line(counts, cells=0, tabs=0, lang=Lang.ZH_HANT) == (
        "salesync：0 個錯誤，0 個警告，3 條提示 · 活頁簿已是最新"
    )
    assert macros.summary_line(counts, cells=5, tabs=0, lang=Lang.EN).endswith(
        "wrote 5 cells and 0 tabs"
    )
