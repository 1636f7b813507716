"""Backends: adapters that read a workbook into a `RawWorkbook` and apply a `WritePlan`.

`open_backend(target)` picks the backend for a target: local .xlsx/.xlsm files go to
`sync.backends.xlsx.XlsxBackend`, Google Sheet URLs and ids to
`sync.backends.gsheets.GoogleSheetsBackend` (extra `google`), and `excel=True` to the workbook
active in the running Excel, `sync.backends.excel.ExcelBackend` (extra `excel`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sync.backends.targets import is_google_target
from sync.core.errors import SalesyncError

if TYPE_CHECKING:
    from sync.backends.excel import ExcelBackend
    from sync.backends.gsheets import GoogleSheetsBackend
    from sync.backends.xlsx import XlsxBackend

__all__ = ["open_backend"]

_XLSX_SUFFIXES = {".xlsx", ".xlsm"}


def open_backend(
    target: str | None, *, excel: bool = False, protect: bool = False
) -> XlsxBackend | GoogleSheetsBackend | ExcelBackend:
    """Return the backend for `target`: a path ending .xlsx or .xlsm, or a Google Sheet; or,
    with `excel`, the active workbook of the running Excel. `protect`: Google Sheets only,
    warning-only protection of the owned columns."""
    if excel:
        if target:
            raise SalesyncError("give a workbook or --excel, not both")
        from sync.backends.excel import ExcelBackend

        return ExcelBackend.active()
    if not target:
        raise SalesyncError(
            "give a workbook (a .xlsx/.xlsm path or a Google Sheet URL or id) or --excel"
        )
    if is_google_target(target):
        from sync.backends.gsheets import GoogleSheetsBackend

        return GoogleSheetsBackend(target, protect_owned=protect)
    suffix = Path(target).suffix.lower()
    if suffix in _XLSX_SUFFIXES:
        from sync.backends.xlsx import XlsxBackend

        return XlsxBackend(target)
    shown = suffix or "no suffix"
    raise SalesyncError(
        f"{target}: unsupported workbook type ({shown}); "
        "use a .xlsx or .xlsm file, or a Google Sheet URL or id"
    )
