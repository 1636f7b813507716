"""The Dashboard tab for a Google spreadsheet that has none: the templates' own
`write_dashboard` is run against recorders of the few xlsxwriter calls it makes, and what it
recorded becomes Sheets API requests for the backend's one batch update:

- ``addSheet`` for the tab, ``updateDimensionProperties`` for its column widths;
- one ``updateCells`` with the titles and the helper blocks: text as ``stringValue``, formulas
  as ``userEnteredValue.formulaValue`` (the Google dialect of the formulas, see
  `write_dashboard`), bold headers and percent/thousands number formats;
- one ``addChart`` per chart: an EmbeddedChart with a BasicChartSpec (COLUMN or BAR, STACKED
  for a stacked one), its domain and series as GridRange source ranges of the helper blocks
  (header row included, ``headerCount`` 1, so the series take their names from it), anchored
  with an overlayPosition at the cell the xlsx template puts it, shrunk to fit before the next
  chart of its row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sync.core.headers import column_number
from sync.core.model import DashboardWrite

CHART_TYPES = {"column": "COLUMN", "bar": "BAR", "line": "LINE"}
DEFAULT_COLUMN_PX = 100  # Google's width of a new column
DEFAULT_ROW_PX = 21
CHART_MARGIN_PX = 8
NUMBER_FORMATS = {
    "0%": {"type": "PERCENT", "pattern": "0%"},
    "#,##0": {"type": "NUMBER", "pattern": "#,##0"},
}
_AREA = re.compile(r"!\$([A-Z]+)\$(\d+):\$([A-Z]+)\$(\d+)$")


@dataclass(frozen=True, slots=True)
class _Format:
    bold: bool = False
    number: str | None = None


class _Styles:
    header = title = _Format(bold=True)

    @staticmethod
    def number(num_format: str | None) -> _Format:
        return _Format(number=num_format)


@dataclass(slots=True)
class _Chart:
    kind: str
    subtype: str | None = None
    series: list[dict[str, Any]] = field(default_factory=list)
    title: str = ""
    legend: bool = True
    size: tuple[int, int] = (480, 288)  # xlsxwriter's default

    def add_series(self, options: dict[str, Any]) -> None:
        self.series.append(options)

    def set_title(self, options: dict[str, Any]) -> None:
        self.title = str(options.get("name", ""))

    def set_legend(self, options: dict[str, Any]) -> None:
        self.legend = not options.get("none", False)

    def set_size(self, options: dict[str, Any]) -> None:
        self.size = (int(options["width"]), int(options["height"]))

    def set_x_axis(self, options: dict[str, Any]) -> None:
        """Axis looks: Google takes number formats from the data, and lists a bar chart's
        categories top down already."""

    set_y_axis = set_x_axis


class _Workbook:
    def __init__(self) -> None:
        self.charts: list[_Chart] = []

    def add_chart(self, options: dict[str, Any]) -> _Chart:
        chart = _Chart(str(options["type"]), options.get("subtype"))
        self.charts.append(chart)
        return chart


class _Sheet:
    def __init__(self, name: str) -> None:
        self.name = name
        self.cells: dict[tuple[int, int], tuple[dict[str, Any], _Format | None]] = {}
        self.placed: list[tuple[int, int, _Chart]] = []
        self.widths: dict[int, float] = {}

    def write_string(self, row: int, col: int, text: str, fmt: _Format | None = None) -> None:
        self.cells[(row, col)] = ({"stringValue": text}, fmt)

    def write_formula(
        self, row: int, col: int, formula: str, fmt: _Format | None = None, value: Any = None
    ) -> None:
        self.cells[(row, col)] = ({"formulaValue": formula}, fmt)

    def insert_chart(
        self, row: int, col: int, chart: _Chart, options: dict[str, Any] | None = None
    ) -> None:
        self.placed.append((row, col, chart))

    def set_column(self, first: int, last: int, width: float) -> None:
        for col in range(first, last + 1):
            self.widths[col] = width

    # page setup has no counterpart in a Google sheet's grid
    def set_landscape(self) -> None: ...

    def print_area(self, *args: int) -> None: ...

    def fit_to_pages(self, *args: int) -> None: ...


def _pixels(chars: float) -> int:
    """A column width in characters as Google's pixels."""
    return round(chars * 7 + 5)


def column_width_request(sheet_id: int, col: int, chars: float) -> dict[str, Any]:
    """Set the width of 0-based column `col` of a tab to `chars` characters."""
    return {
        "updateDimensionProperties": {
            "range": {
                "sheetId": sheet_id,
                "dimension": "COLUMNS",
                "startIndex": col,
                "endIndex": col + 1,
            },
            "properties": {"pixelSize": _pixels(chars)},
            "fields": "pixelSize",
        }
    }


def _color(hex_rgb: str) -> dict[str, float]:
    value = hex_rgb.lstrip("#")
    red, green, blue = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return {"red": round(red, 4), "green": round(green, 4), "blue": round(blue, 4)}


def record_dashboard(dash: DashboardWrite) -> tuple[_Sheet, _Workbook]:
    """What `write_dashboard` writes for `dash`, in the Google dialect of its formulas."""
    from sync.core.schema import Lang
    from sync.templates import extras

    workbook, sheet = _Workbook(), _Sheet(dash.sheet)
    extras.write_dashboard(
        workbook,
        sheet,
        Lang(dash.lang),
        _Styles(),
        dict(dash.tabs),
        google=True,
    )
    return sheet, workbook


def grid_size(sheet: _Sheet) -> tuple[int, int]:
    """(rowCount, columnCount) of the new tab: its cells and chart anchors, with room below."""
    rows = max([r for r, _ in sheet.cells] + [r for r, _, _ in sheet.placed], default=0) + 1
    cols = max([c for _, c in sheet.cells] + [c for _, c, _ in sheet.placed], default=0) + 1
    return max(rows + 20, 100), max(cols, 26)


def dashboard_requests(dash: DashboardWrite, sheet_id: int) -> list[dict[str, Any]]:
    """The requests that add `dash` as tab `sheet_id`, in the order they must be applied."""
    sheet, _ = record_dashboard(dash)
    rows, cols = grid_size(sheet)
    out: list[dict[str, Any]] = [
        {
            "addSheet": {
                "properties": {
                    "sheetId": sheet_id,
                    "title": dash.sheet,
                    "gridProperties": {"rowCount": rows, "columnCount": cols},
                }
            }
        }
    ]
    out.extend(column_width_request(sheet_id, c, w) for c, w in sorted(sheet.widths.items()))
    out.append(_cells(sheet, sheet_id))
    out.extend(_charts(sheet, sheet_id))
    return out


def _cells(sheet: _Sheet, sheet_id: int) -> dict[str, Any]:
    height = max(r for r, _ in sheet.cells) + 1
    grid: list[list[dict[str, Any]]] = [[] for _ in range(height)]
    for (r, c), (entered, fmt) in sorted(sheet.cells.items()):
        line = grid[r]
        line.extend({} for _ in range(c + 1 - len(line)))
        data: dict[str, Any] = {"userEnteredValue": entered}
        if fmt is not None:
            looks: dict[str, Any] = {}
            if fmt.bold:
                looks["textFormat"] = {"bold": True}
            if fmt.number in NUMBER_FORMATS:
                looks["numberFormat"] = dict(NUMBER_FORMATS[fmt.number])
            if looks:
                data["userEnteredFormat"] = looks
        line[c] = data
    return {
        "updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
            "rows": [{"values": line} for line in grid],
            "fields": "userEnteredValue,userEnteredFormat.textFormat.bold,"
            "userEnteredFormat.numberFormat",
        }
    }


def _series_name(sheet: _Sheet, options: dict[str, Any]) -> tuple[int, int] | None:
    """The cell holding the series' name when it is the one right above its values."""
    r0, c0, _, _ = _area(options["values"])
    name = options.get("name")
    if isinstance(name, list):
        return (r0 - 1, c0) if (int(name[1]), int(name[2])) == (r0 - 1, c0) else None
    above = sheet.cells.get((r0 - 1, c0))
    if above is not None and above[0].get("stringValue") == name:
        return (r0 - 1, c0)
    return None


def _area(text: str) -> tuple[int, int, int, int]:
    """0-based (first row, first column, last row, last column) of "='tab'!$O$5:$O$34"."""
    found = _AREA.search(text)
    if found is None:
        raise ValueError(f"not a cell area: {text}")
    c1, r1, c2, r2 = found.groups()
    return int(r1) - 1, column_number(c1) - 1, int(r2) - 1, column_number(c2) - 1


def _range(sheet_id: int, area: tuple[int, int, int, int], header: bool) -> dict[str, Any]:
    r0, c0, r1, c1 = area
    return {
        "sourceRange": {
            "sources": [
                {
                    "sheetId": sheet_id,
                    "startRowIndex": r0 - (1 if header else 0),
                    "endRowIndex": r1 + 1,
                    "startColumnIndex": c0,
                    "endColumnIndex": c1 + 1,
                }
            ]
        }
    }


def _charts(sheet: _Sheet, sheet_id: int) -> list[dict[str, Any]]:
    out = []
    for row, col, chart in sheet.placed:
        kind = CHART_TYPES[chart.kind]
        header = all(_series_name(sheet, s) is not None for s in chart.series)
        series = []
        for options in chart.series:
            entry: dict[str, Any] = {
                "series": _range(sheet_id, _area(options["values"]), header),
                "targetAxis": "BOTTOM_AXIS" if kind == "BAR" else "LEFT_AXIS",
            }
            color = (options.get("fill") or {}).get("color")
            if color:
                entry["colorStyle"] = {"rgbColor": _color(color)}
            series.append(entry)
        basic: dict[str, Any] = {
            "chartType": kind,
            "legendPosition": "BOTTOM_LEGEND" if chart.legend else "NO_LEGEND",
            "domains": [{"domain": _range(sheet_id, _area(chart.series[0]["categories"]), header)}],
            "series": series,
            "headerCount": 1 if header else 0,
        }
        if chart.subtype == "stacked":
            basic["stackedType"] = "STACKED"
        width, height = _fit(sheet, row, col, chart.size)
        out.append(
            {
                "addChart": {
                    "chart": {
                        "spec": {"title": chart.title, "basicChart": basic},
                        "position": {
                            "overlayPosition": {
                                "anchorCell": {
                                    "sheetId": sheet_id,
                                    "rowIndex": row,
                                    "columnIndex": col,
                                },
                                "widthPixels": width,
                                "heightPixels": height,
                            }
                        },
                    }
                }
            }
        )
    return out


def _fit(sheet: _Sheet, row: int, col: int, size: tuple[int, int]) -> tuple[int, int]:
    """The chart's size, shrunk so that it ends before the next chart to its right and the
    next one below it (Google's columns and rows are not Excel's)."""
    width, height = size
    right = [c for r, c, _ in sheet.placed if r == row and c > col]
    if right:
        space = sum(
            _pixels(sheet.widths[c]) if c in sheet.widths else DEFAULT_COLUMN_PX
            for c in range(col, min(right))
        )
        width = min(width, space - CHART_MARGIN_PX)
    below = [r for r, c, _ in sheet.placed if c == col and r > row]
    if below:
        height = min(height, (min(below) - row) * DEFAULT_ROW_PX - CHART_MARGIN_PX)
    return width, height
