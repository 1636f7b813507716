"""Backends: adapters that read a workbook into a `RawWorkbook` and apply a `WritePlan`.

`open_backend(target)` picks the backend for a target. Local .xlsx/.xlsm files are handled by
`sync.backends.xlsx.XlsxBackend`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sync.core.errors import SalesyncError

if TYPE_CHECKING:
    from sync.backends.xlsx import XlsxBackend

__all__ = ["open_backend"]

_XLSX_SUFFIXES = {".xlsx", ".xlsm"}


def open_backend(target: str) -> XlsxBackend:
    """Return the backend for `target` (a path ending .xlsx or .xlsm)."""
    suffix = Path(target).suffix.lower()
    if suffix in _XLSX_SUFFIXES:
        from sync.backends.xlsx import XlsxBackend

        return XlsxBackend(target)
    shown = suffix or "no suffix"
    raise SalesyncError(f"{target}: unsupported workbook type ({shown}); use a .xlsx or .xlsm file")
