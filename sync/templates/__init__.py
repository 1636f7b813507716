"""Workbook templates, written from the schema with xlsxwriter (`salesync template`, `init`).

One tab per data table of `SCHEMA` (tab name and headers in the chosen language), each an Excel
table with a frozen header, drop-downs on enumeration and yes/no columns, number formats, ⚙
owned columns in grey, red/amber SLA statuses and ƒ formula columns (`formulas`); a Settings tab
pre-filled with every setting's default and its SLA, scoring and assignment tables; the owned
tabs as an empty sync leaves them, a Dashboard with native charts, the Holidays list, the
Instructions and the hidden xlwings.conf sheet (`extras`). The same language always gives the
same bytes.

The helpers here are shared with `sync.demo`: the demo looks like a template users filled in.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from sync.backends.xlsx_package import replacing
from sync.core.errors import SalesyncError
from sync.core.schema import LANGS, SCHEMA, SETTING_KEYS, Field, Kind, Lang, Setting, Table

FIXED_CREATED = datetime(2026, 1, 1, 0, 0, 0)  # stamped in every workbook: same bytes each time

VALIDATION_LAST_ROW = 1000  # drop-downs and formats reach spreadsheet row 1000
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0%"
AMOUNT_FORMAT = "#,##0.00"
INTEGER_FORMAT = "0"

HEADER_FILL = "#DDEBF7"  # users' columns
OWNED_FILL = "#D9D9D9"  # ⚙ columns the sync job writes
FORMULA_FILL = "#FFF2CC"  # ƒ columns: the template's own formulas
BAD_FILL, BAD_FONT = "#FFC7CE", "#9C0006"  # breached / overdue
OPEN_FILL, OPEN_FONT = "#FFEB9C", "#9C5700"  # open
TEMPLATE_FILES = {lang: f"salesync-{lang.value}.xlsx" for lang in LANGS}

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
        self.formula_header = workbook.add_format({**base, "bg_color": FORMULA_FILL})
        self.bad = workbook.add_format({"bg_color": BAD_FILL, "font_color": BAD_FONT})
        self.open = workbook.add_format({"bg_color": OPEN_FILL, "font_color": OPEN_FONT})
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


@contextmanager
def new_workbook(fh: IO[bytes], title: str = "salesync") -> Iterator[tuple[Workbook, Styles]]:
    """An xlsxwriter workbook, written into the open binary file `fh` when the block ends (a
    file on disk goes through `replacing`, which puts it in its place whole, or not at all)."""
    workbook = xlsxwriter.Workbook(
        fh, {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    )
    workbook.set_properties({"created": FIXED_CREATED, "title": title})
    yield workbook, Styles(workbook)
    workbook.close()


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
            number = _number_text(value) if i else None
            if isinstance(value, bool):
                ws.write_boolean(first_row + i, c, value, fmt)
            elif isinstance(value, int | float):
                ws.write_number(first_row + i, c, value, fmt)
            elif number is not None:  # "15%" and "3" as numbers: formulas can use them
                percent = str(value).endswith("%")
                ws.write_number(first_row + i, c, number, styles.number("0%") if percent else None)
            else:
                ws.write_string(first_row + i, c, str(value), fmt)
    return len(rows)


_NUMBER_TEXT = re.compile(r"^(\d+(?:\.\d+)?)(%?)$")


def _number_text(value: Any) -> float | int | None:
    """The number a default such as "15%" or "3" stands for (0.15, 3), else None."""
    m = _NUMBER_TEXT.match(str(value)) if isinstance(value, str) else None
    if m is None:
        return None
    number = float(m.group(1))
    if m.group(2):
        return round(number / 100, 10)
    return int(number) if number.is_integer() else number


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
    """A new, empty salesync workbook in `lang` at `path` (overwritten): the template."""
    return write_template(path, lang)


def write_templates(out_dir: str | Path, *, force: bool = False) -> list[Path]:
    """Every language's template into `out_dir` (created): salesync-zh-Hans.xlsx … A template
    is the same bytes every time, so a file there that holds them is left as it is, and one
    that differs was filled in or edited (or written by another version of salesync): unless
    `force`, none is written and SalesyncError names them."""
    out = Path(out_dir)
    paths = {lang: out / TEMPLATE_FILES[lang] for lang in LANGS}
    fresh = {lang: template_bytes(lang) for lang in LANGS}
    stale = {lang: path for lang, path in paths.items() if _differs(path, fresh[lang])}
    edited = [path.name for path in stale.values() if path.exists()]
    if edited and not force:
        raise SalesyncError(
            f"{out}: {', '.join(edited)} differ{'s' if len(edited) == 1 else ''} from the "
            "template salesync writes (filled in or edited, or from another version): "
            "pass --force to replace them, or choose another --out"
        )
    out.mkdir(parents=True, exist_ok=True)
    for lang, path in stale.items():
        with replacing(path) as fh:
            fh.write(fresh[lang])
    return list(paths.values())


def _differs(path: Path, content: bytes) -> bool:
    """Whether the file at `path` does not hold `content` (a missing file does not)."""
    return not path.exists() or path.stat().st_size != len(content) or path.read_bytes() != content


def template_bytes(lang: Lang) -> bytes:
    """The template of `lang` as the file's bytes."""
    buffer = io.BytesIO()
    _write_template(buffer, lang)
    return buffer.getvalue()


def write_template(
    path: str | Path, lang: Lang, data: Mapping[str, Sequence[Mapping[str, Any]]] | None = None
) -> Path:
    """The template of `lang` at `path`, replaced in one step; the same bytes every time.
    `data` (table name → rows as field → value) fills the data tabs: a template users filled
    in."""
    path = Path(path)
    with replacing(path) as fh:
        _write_template(fh, lang, data)
    return path


def _write_template(
    fh: IO[bytes], lang: Lang, data: Mapping[str, Sequence[Mapping[str, Any]]] | None = None
) -> None:
    from . import extras

    with new_workbook(fh) as (workbook, styles):
        for table in SCHEMA.data_tables:
            ws = workbook.add_worksheet(table.title(lang))
            if table.name == "settings":
                columns, widths, formats = table_layout(table, lang, styles)
                write_header(ws, 0, columns, styles, widths, formats)
                written = write_settings_rows(ws, 1, lang, styles)
                write_settings_sections(ws, 1 + written, lang, styles)
                write_score_calculator(ws, 1 + written, lang, styles)
            else:
                rows = (data or {}).get(table.name, ())
                write_data_tab(workbook, ws, table, lang, styles, rows)
        for title, grid in extras.owned_tab_grids(lang).items():
            extras.write_owned_tab(workbook.add_worksheet(title), grid, styles.owned_header)
        extras.write_dashboard(
            workbook, workbook.add_worksheet(extras.DASHBOARD[lang]), lang, styles
        )
        extras.write_holidays(workbook, workbook.add_worksheet(extras.HOLIDAYS[lang]), lang, styles)
        extras.write_instructions(workbook.add_worksheet(extras.INSTRUCTIONS[lang]), lang, styles)
        extras.write_xlwings_conf(workbook.add_worksheet(extras.XLWINGS_CONF))


def write_data_tab(
    workbook: Workbook,
    ws: Worksheet,
    table: Table,
    lang: Lang,
    styles: Styles,
    rows: Sequence[Mapping[str, Any]] = (),
) -> None:
    """An Excel table from A1 down to row `VALIDATION_LAST_ROW` (or the last of `rows`): the
    schema's columns, then the ƒ formula columns, filled in every row (empty text while the
    row is blank)."""
    from .formulas import HELPERS, render, status_fields

    helpers = HELPERS.get(table.name, ())
    last = max(VALIDATION_LAST_ROW - 1, len(rows))
    for r, record in enumerate(rows, start=1):
        for c, f in enumerate(table.fields):
            write_value(ws, r, c, record.get(f.name), styles.for_field(f))
    columns: list[dict[str, Any]] = []
    for f in table.fields:
        head = styles.owned_header if f.owned else styles.header
        columns.append({"header": f.header(lang), "header_format": head})
        ws.set_column(
            len(columns) - 1, len(columns) - 1, column_width(f, lang), styles.for_field(f)
        )
    for h in helpers:
        columns.append({"header": h.header(lang), "header_format": styles.formula_header})
        width = 18 if h.kind in (Kind.DATE, Kind.DATETIME) else 14
        ws.set_column(
            len(columns) - 1, len(columns) - 1, width, styles.number(_FORMATS.get(h.kind))
        )
    ws.add_table(
        0,
        0,
        last,
        len(columns) - 1,
        {
            "name": "tbl_" + table.name,
            "columns": columns,
            "style": "Table Style Light 1",
            "banded_rows": False,
        },
    )
    for i, h in enumerate(helpers):
        col = len(table.fields) + i
        fmt = styles.number(_FORMATS.get(h.kind))
        for row in range(1, last + 1):
            ws.write_formula(row, col, render(h.formula, table.name, row, lang), fmt, "")
    ws.set_row(0, 30)
    ws.freeze_panes(1, 0)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)  # printed one page wide
    add_validations(ws, 1, last, list(table.fields), lang)
    status_cols = [[f.name for f in table.fields].index(n) for n in status_fields(table.name)]
    status_cols += [len(table.fields) + i for i, h in enumerate(helpers) if h.status]
    for col in status_cols:
        add_status_formats(ws, 1, last, col, lang, styles)
    if table.has("overdue_days"):
        col = [f.name for f in table.fields].index("overdue_days")
        ws.conditional_format(
            1, col, last, col, {"type": "cell", "criteria": ">", "value": 0, "format": styles.bad}
        )


def add_status_formats(
    ws: Worksheet, first: int, last: int, col: int, lang: Lang, styles: Styles
) -> None:
    """Breached and overdue red, open amber (the sync's own words in `lang`)."""
    from sync.core.sla import STATUS_LABELS, Status

    for status, fmt in (
        (Status.BREACHED, styles.bad),
        (Status.OVERDUE, styles.bad),
        (Status.OPEN, styles.open),
    ):
        word = STATUS_LABELS[status][lang]
        ws.conditional_format(
            first,
            col,
            last,
            col,
            {"type": "cell", "criteria": "==", "value": f'"{word}"', "format": fmt},
        )


_CALCULATOR = {
    Lang.ZH_HANS: ("实际值", "得分", "加权得分", "加权总分"),
    Lang.ZH_HANT: ("實際值", "得分", "加權得分", "加權總分"),
    Lang.EN: ("Actual", "Score", "Weighted score", "Weighted total"),
}


def write_score_calculator(ws: Worksheet, first_row: int, lang: Lang, styles: Styles) -> None:
    """Beside the Scoring table of Settings: type each indicator's actual value, get its
    linear score min(100, 100·actual/target), weighted score and the total, or
    "#weights=…%" when the weights do not add up to 100 % (like SALES_WEIGHTED_SCORE)."""
    from .formulas import MARK

    sections = settings_sections(lang)
    row = first_row + 1 + len(sections[0]) + 1  # the scoring header: after the SLA rules
    n = len(sections[1]) - 1
    col = len(sections[0][0]) + 1  # one blank column after the widest section
    for i, text in enumerate(_CALCULATOR[lang]):
        ws.write_string(row, col + i, MARK + text, styles.formula_header)
    weights = f"C{row + 2}:C{row + 1 + n}"
    for i in range(n):
        r = row + 1 + i
        actual, target = f"{_letter(col)}{r + 1}", f"D{r + 1}"
        ws.write_formula(
            r,
            col + 1,
            f'=IF(OR({actual}="",N({target})=0),"",MIN(100,100*{actual}/{target}))',
            None,
            "",
        )
        ws.write_formula(
            r,
            col + 2,
            f'=IF({_letter(col + 1)}{r + 1}="","",{_letter(col + 1)}{r + 1}*C{r + 1})',
            None,
            "",
        )
    scores = f"{_letter(col + 2)}{row + 2}:{_letter(col + 2)}{row + 1 + n}"
    ws.write_formula(
        row + 1,
        col + 3,
        f'=IF(ABS(SUM({weights})-1)>0.0001,"#weights="&TEXT(SUM({weights}),"0%"),'
        f'IF(COUNT({scores})=0,"",SUM({scores})))',
        None,
        "",
    )
    ws.set_column(col, col + 3, 12)


def _letter(col: int) -> str:
    from xlsxwriter.utility import xl_col_to_name

    return xl_col_to_name(col)


def write_value(ws: Worksheet, row: int, col: int, value: Any, fmt: Any) -> None:
    """One typed cell: dates as dates, numbers as numbers, anything else as text."""
    value = getattr(value, "value", getattr(value, "text", value))  # demo Formula / Text
    if value is None or value == "":
        return
    if isinstance(value, datetime):
        ws.write_datetime(row, col, value, fmt)
    elif isinstance(value, date):
        ws.write_datetime(row, col, datetime(value.year, value.month, value.day), fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)
