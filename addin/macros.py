"""Macros: buttons and Run-main entry points that sync the workbook that called them.

Wire a button (or the xlwings ribbon's *Run main*) to one of these through xlwings' RunPython:

    Sub SalesyncRun()
        RunPython "import addin.macros; addin.macros.sync_caller()"
    End Sub
    Sub SalesyncDashboard()
        RunPython "import addin.macros; addin.macros.refresh_dashboard()"
    End Sub

*Run main* calls `main()` of a module named like the workbook (pipeline.xlsm → pipeline.py);
such a module can be the one line ``from addin.macros import main``.

They run the same job as ``salesync run`` on the open workbook (`sync.backends.excel`), show
the progress in Excel's status bar, a one-line summary in a message box, and bring the Issues
tab forward. They never raise into Excel: a SalesyncError (the workbook unreadable, an edit
during the run …) is shown as its one-line message, anything else as a short "unexpected
error" line with the traceback on stderr (xlwings' log).

>>> summary_line({"error": 2, "warning": 1, "info": 0}, cells=14, tabs=1, lang=Lang.EN)
'salesync: 2 errors, 1 warnings, 0 info · wrote 14 cells and 1 tabs'
"""

from __future__ import annotations

import contextlib
import sys
import traceback
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sync.backends.excel import ExcelBackend
from sync.core.errors import SalesyncError
from sync.core.schema import LANGS, SCHEMA, Lang
from sync.job import SyncResult, sync_workbook

TITLE = "salesync"
DASHBOARD_TITLES = ("仪表盘", "儀表板", "Dashboard")

_WORDS: dict[Lang, dict[str, str]] = {
    Lang.ZH_HANS: {
        "counts": "salesync：{error} 个错误，{warning} 个警告，{info} 条提示",
        "wrote": " · 已写回 {cells} 个单元格和 {tabs} 个工作表",
        "clean": " · 工作簿已是最新",
        "step": "salesync：{step} …",
    },
    Lang.ZH_HANT: {
        "counts": "salesync：{error} 個錯誤，{warning} 個警告，{info} 條提示",
        "wrote": " · 已寫回 {cells} 個儲存格和 {tabs} 個工作表",
        "clean": " · 活頁簿已是最新",
        "step": "salesync：{step} …",
    },
    Lang.EN: {
        "counts": "salesync: {error} errors, {warning} warnings, {info} info",
        "wrote": " · wrote {cells} cells and {tabs} tabs",
        "clean": " · the workbook is up to date",
        "step": "salesync: {step} …",
    },
}


def summary_line(counts: dict[str, int], *, cells: int, tabs: int, lang: Lang) -> str:
    words = _WORDS[lang]
    line = words["counts"].format(**counts)
    if cells or tabs:
        return line + words["wrote"].format(cells=cells, tabs=tabs)
    return line + words["clean"]


def main() -> SyncResult | None:
    """The xlwings *Run main* entry point: sync the calling workbook."""
    return sync_caller()


def sync_caller(*, as_of: datetime | None = None, alert: bool = True) -> SyncResult | None:
    """Sync the workbook that called this macro and show the result; None when it failed
    (the reason was shown)."""
    return _run(as_of=as_of, alert=alert, after=_show_issues)


def refresh_dashboard(*, as_of: datetime | None = None, alert: bool = True) -> SyncResult | None:
    """Sync (which regenerates the Performance, Evaluation and Funnel tabs the dashboard
    charts read), recalculate, and bring the dashboard forward."""
    return _run(as_of=as_of, alert=alert, after=_show_dashboard)


def _run(
    *, as_of: datetime | None, alert: bool, after: Callable[[Any, SyncResult], None]
) -> SyncResult | None:
    try:
        backend = ExcelBackend.caller()
    except SalesyncError as error:  # not called from Excel: nowhere to show it but stderr
        print(f"salesync: error: {error}", file=sys.stderr)
        return None
    book = backend.book
    app = _app(book)
    try:
        result = sync_workbook(
            backend,
            write=True,
            as_of=as_of,
            progress=lambda step: _status(app, _WORDS[Lang.EN]["step"].format(step=step)),
        )
    except SalesyncError as error:
        _tell(app, f"salesync: {error}", alert=alert, critical=True)
        return None
    except Exception as error:  # never a traceback dialog in Excel; the log keeps it
        traceback.print_exc(file=sys.stderr)
        _tell(
            app,
            f"salesync: unexpected error ({type(error).__name__}: {error})",
            alert=alert,
            critical=True,
        )
        return None
    line = summary_line(
        result.counts(),
        cells=sum(len(c) for c in result.plan.cells.values()) if result.wrote else 0,
        tabs=len(result.plan.tabs) if result.wrote else 0,
        lang=result.lang,
    )
    with contextlib.suppress(Exception):
        after(book, result)
    _tell(app, line, alert=alert, critical=False)
    return result


def _app(book: Any) -> Any:
    with contextlib.suppress(Exception):
        return book.app
    return None


def _status(app: Any, text: str) -> None:
    """Best-effort: the status bar (xlwings resets it when the macro ends)."""
    if app is not None:
        with contextlib.suppress(Exception):
            app.status_bar = text


def _tell(app: Any, text: str, *, alert: bool, critical: bool) -> None:
    _status(app, text)
    if alert and app is not None:
        with contextlib.suppress(Exception):
            app.alert(text, title=TITLE, mode="critical" if critical else "info")


def _sheet_named(book: Any, names: tuple[str, ...]) -> Any:
    wanted = {n.casefold() for n in names}
    for sheet in book.sheets:
        if str(sheet.name).casefold() in wanted:
            return sheet
    return None


def _show_issues(book: Any, result: SyncResult) -> None:
    issues = SCHEMA.table("issues")
    sheet = _sheet_named(book, (issues.title(result.lang), *(issues.title(x) for x in LANGS)))
    if sheet is not None:
        sheet.activate()


def _show_dashboard(book: Any, result: SyncResult) -> None:
    with contextlib.suppress(Exception):
        book.app.calculate()
    sheet = _sheet_named(book, DASHBOARD_TITLES)
    if sheet is not None:
        sheet.activate()
    else:
        _show_issues(book, result)
