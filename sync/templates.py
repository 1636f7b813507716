"""Blank workbook templates, written from the schema with xlsxwriter.

One tab per data table of `SCHEMA` (tab name and headers in the chosen language), with a styled
and frozen header row, drop-downs on enumeration and yes/no columns, number formats on date and
percent columns, and a Settings tab pre-filled with every setting's default. The same language
always gives the same bytes.

The helpers here are shared with `sync.demo`: the demo looks like a template users filled in.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from sync.core.schema import SCHEMA, SETTING_KEYS, Field, Kind, Lang, Setting, Table

FIXED_CREATED = datetime(2026, 1, 1, 0, 0, 0)  # stamped in every workbook: same bytes each time

VALIDATION_LAST_ROW = 1000  # drop-downs and formats reach spreadsheet row 1000
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0%"
AMOUNT_FORMAT = "#,##0.00"
INTEGER_FORMAT = "0"

HEADER_FILL = "#DDEBF7"  # users' columns
OWNED_FILL = "#D9D9D9"  # ⚙ columns the sync job writes

# Free-text fields that usually hold a sentence or two: wider columns.
LONG_TEXT_FIELDS = frozenset(
    {"need", "summary", "content", "feedback", "next_step", "lost_reason", "flags", "note"}
)

_FORMATS: dict[Kind, str] = {
    Kind.DATE: DATE_FORMAT,
    Kind.DATETIME: DATETIME_FORMAT,
    Kind.PERCENT: PERCENT_FORMAT,
    Kind.AMOUNT: AMOUNT_FORMAT,
    Kind.INTEGER: INTEGER_FORMAT,
}


def column_format_hint(field: Field) -> str | None:
    """The Excel number format a column of this field gets (None: General)."""
    return _FORMATS.get(field.kind)


def column_width(field: Field, lang: Lang) -> float:
    if field.kind in (Kind.DATE, Kind.DATETIME):
        return 18
    if field.name in LONG_TEXT_FIELDS:
        return 28
    header = field.header(lang)
    wide = sum(2 if ord(ch) > 0x2E80 else 1 for ch in header)  # CJK characters are double width
    return max(14.0, min(28.0, wide + 4.0))


def choice_labels(field: Field, lang: Lang) -> list[str] | None:
    """The drop-down list of an ENUM or BOOL field, in `lang`; None for other fields."""
    if field.choices is None or field.kind not in (Kind.ENUM, Kind.BOOL):
        return None
    return [c.labels[lang] for c in field.choices.choices]


class Styles:
    """The formats a workbook needs, created once per workbook (xlsxwriter formats are
    bound to it)."""

    def __init__(self, workbook: Workbook) -> None:
        base = {"bold": True, "border": 1, "valign": "vcenter", "text_wrap": True}
        self.header = workbook.add_format({**base, "bg_color": HEADER_FILL})
        self.owned_header = workbook.add_format(
            {**base, "bg_color": OWNED_FILL, "font_color": "#404040"}
        )
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        self._workbook = workbook
        self._numbers: dict[str, Any] = {}

    def number(self, num_format: str | None) -> Any:
        if num_format is None:
            return None
        if num_format not in self._numbers:
            self._numbers[num_format] = self._workbook.add_format({"num_format": num_format})
        return self._numbers[num_format]

    def for_field(self, field: Field) -> Any:
        return self.number(column_format_hint(field))


def new_workbook(path: Path) -> tuple[Workbook, Styles]:
    workbook = xlsxwriter.Workbook(
        str(path),
        {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    workbook.set_properties({"created": FIXED_CREATED, "title": "salesync"})
    return workbook, Styles(workbook)


def write_header(
    ws: Worksheet,
    row: int,
    columns: list[tuple[str, bool]],
    styles: Styles,
    widths: list[float],
    formats: list[Any],
    last_row: int = VALIDATION_LAST_ROW - 1,
) -> None:
    """Write a header row (0-based `row`): (text, owned) per column; set widths and column
    formats, freeze the panes below it and put an autofilter down to `last_row` (0-based)."""
    for col, (text, owned) in enumerate(columns):
        ws.write_string(row, col, text, styles.owned_header if owned else styles.header)
        ws.set_column(col, col, widths[col], formats[col])
    ws.set_row(row, 30)
    ws.freeze_panes(row + 1, 0)
    ws.autofilter(row, 0, max(row + 1, last_row), len(columns) - 1)


def add_validations(
    ws: Worksheet, first_row: int, last_row: int, fields: list[Field | None], lang: Lang
) -> None:
    """Drop-downs (0-based rows, inclusive) on every ENUM/BOOL column; `None` = user column."""
    for col, field in enumerate(fields):
        labels = choice_labels(field, lang) if field is not None else None
        if labels:
            ws.data_validation(
                first_row,
                col,
                last_row,
                col,
                {
                    "validate": "list",
                    "source": labels,
                    "error_type": "warning",  # aliases and "展会-detail" stay allowed
                    "ignore_blank": True,
                },
            )


def setting_value(setting: Setting, lang: Lang) -> str | int:
    """A setting's default as a user would see it: an enum's label in `lang`, a number."""
    if setting.choices is not None:
        return setting.choices.label(setting.default, lang) if setting.default else ""
    if setting.kind is Kind.INTEGER and setting.default:
        return int(setting.default)
    return setting.default


def write_settings_rows(ws: Worksheet, first_row: int, lang: Lang, styles: Styles) -> int:
    """One row per `SETTING_KEYS` entry from 0-based `first_row`: label, default, help.
    Returns the number of rows written."""
    for i, setting in enumerate(SETTING_KEYS):
        row = first_row + i
        ws.write_string(row, 0, setting.labels[lang])
        value = setting_value(setting, lang)
        if isinstance(value, int):
            ws.write_number(row, 1, value)
        elif value:
            ws.write_string(row, 1, value)
        ws.write_string(row, 2, setting.help.get(lang, ""), styles.wrap)
        if setting.choices is not None:
            labels = [c.labels[lang] for c in setting.choices.choices]
            ws.data_validation(
                row, 1, row, 1, {"validate": "list", "source": labels, "error_type": "warning"}
            )
    return len(SETTING_KEYS)


def settings_sections(lang: Lang) -> list[list[list[Any]]]:
    """The small tables a blank Settings tab carries below its key/value rows, each header
    first: the SLA rules and the scoring table with their defaults, and an empty assignment
    rules table for managers to fill."""
    from sync.core.metrics import scoring_rows
    from sync.core.sla import rule_rows

    assignment = [[f.headers[lang] for f in SCHEMA.table("assignment_rules").fields]]
    return [rule_rows(lang), scoring_rows(lang), assignment]


def write_section(ws: Worksheet, first_row: int, rows: list[list[Any]], styles: Styles) -> int:
    """A small table (its header first) from 0-based `first_row`; returns the rows written."""
    for i, row in enumerate(rows):
        for c, value in enumerate(row):
            fmt = styles.header if i == 0 else None
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                ws.write_boolean(first_row + i, c, value, fmt)
            elif isinstance(value, int | float):
                ws.write_number(first_row + i, c, value, fmt)
            else:
                ws.write_string(first_row + i, c, str(value), fmt)
    return len(rows)


def write_settings_sections(
    ws: Worksheet,
    first_row: int,
    lang: Lang,
    styles: Styles,
    sections: list[list[list[Any]]] | None = None,
) -> int:
    """Every section from 0-based `first_row`, a blank row before each; returns rows used."""
    row = first_row
    for rows in sections if sections is not None else settings_sections(lang):
        row += 1 + write_section(ws, row + 1, rows, styles)
    return row - first_row


def table_layout(
    table: Table, lang: Lang, styles: Styles
) -> tuple[list[tuple[str, bool]], list[float], list[Any]]:
    """Header (text, owned), width and column format of each field of `table`, in order."""
    columns = [(f.header(lang), f.owned) for f in table.fields]
    widths = [column_width(f, lang) for f in table.fields]
    if table.name == "settings":
        widths = [22.0, 18.0, 60.0]
    return columns, widths, [styles.for_field(f) for f in table.fields]


def write_blank_workbook(path: str | Path, lang: Lang) -> Path:
    """A new, empty salesync workbook in `lang` at `path` (overwritten)."""
    path = Path(path)
    workbook, styles = new_workbook(path)
    for table in SCHEMA.data_tables:
        ws = workbook.add_worksheet(table.title(lang))
        columns, widths, formats = table_layout(table, lang, styles)
        write_header(ws, 0, columns, styles, widths, formats)
        if table.name == "settings":
            written = write_settings_rows(ws, 1, lang, styles)
            write_settings_sections(ws, 1 + written, lang, styles)
        else:
            add_validations(ws, 1, VALIDATION_LAST_ROW - 1, list(table.fields), lang)
    workbook.close()
    return path
