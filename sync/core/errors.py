"""Exceptions are for configuration and infrastructure; bad rows are issues, never exceptions."""

from __future__ import annotations


class SalesyncError(Exception):
    """Base of every error salesync raises on purpose. The CLI prints it as one line, exit 2."""

    exit_code = 2


class WorkbookNotFound(SalesyncError):
    """The workbook path or id does not exist."""


class WorkbookUnreadable(SalesyncError):
    """The file exists but is not a workbook salesync can read (corrupt, encrypted, wrong type)."""


class WorkbookLocked(SalesyncError):
    """The workbook is open in another program, or the file cannot be replaced."""


class WorkbookUnwritable(SalesyncError):
    """The new workbook could not be written (no room, no permission): the old one is as it was."""


class WorkbookChanged(SalesyncError):
    """The workbook changed between the read and the write (another program, person or sync
    saved or edited it meanwhile): nothing was written. Every backend raises it (Google's as
    `SheetChanged`)."""


class LayoutError(SalesyncError):
    """No tab of the workbook could be recognised as a salesync tab."""


class ExtraMissing(SalesyncError):
    """A backend needs an optional dependency that is not installed."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(f"this needs the '{module}' package: pip install 'salesync[{extra}]'")
        self.module = module
        self.extra = extra
