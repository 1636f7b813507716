"""The Dashboard tab for a workbook that has none: built by the templates' own
`write_dashboard` in a one-sheet xlsxwriter workbook in memory, then transplanted.

The sheet's XML, its drawing and its four chart parts (with their rels) are taken out of that
package under fresh part names of the target package. Cell styles are mapped onto formats of
the target's styles part (bold, percent, thousands) and shared strings become inline strings,
so nothing else of the target has to change beyond the new sheet's entries in workbook.xml,
its rels and [Content_Types].xml.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

from sync.core.model import DashboardWrite

CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9}

StyleFor = Callable[[bool, int], int | None]
"""(bold, built-in number format id) → a cell format index of the target, or None."""


@dataclass(slots=True)
class DashboardParts:
    sheet_part: str
    parts: list[tuple[str, bytes]]  # every new part, the sheet first, rels included
    content_types: list[tuple[str, str]]  # (part, content type) overrides to add


class _Styles:
    """What `write_dashboard` asks of the templates' styles, as plain xlsxwriter formats."""

    def __init__(self, workbook: Any) -> None:
        self._workbook = workbook
        self.header = self.title = workbook.add_format({"bold": True})
        self._numbers: dict[str | None, Any] = {}

    def number(self, num_format: str | None) -> Any:
        if num_format not in self._numbers:
            self._numbers[num_format] = self._workbook.add_format({"num_format": num_format})
        return self._numbers[num_format]


def render_dashboard(
    dash: DashboardWrite,
) -> tuple[dict[str, bytes], dict[int, tuple[bool, int]]]:
    """The parts of a one-sheet workbook holding the Dashboard, and the cell formats it used:
    format index → (bold, built-in number format id, -1 when not built in)."""
    import xlsxwriter

    from sync.core.schema import Lang
    from sync.templates import extras

    buf = io.BytesIO()
    workbook = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = workbook.add_worksheet(dash.sheet)
    styles = _Styles(workbook)
    extras.write_dashboard(workbook, ws, Lang(dash.lang), styles, dict(dash.tabs))
    workbook.close()
    with zipfile.ZipFile(buf) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    formats = {
        fmt.xf_index: (bool(fmt.bold), _BUILTIN_FORMATS.get(fmt.num_format, -1))
        for fmt in workbook.formats
        if fmt.xf_index is not None
    }
    return parts, formats


def _fresh(pattern: str, used: set[str]) -> str:
    n = 1
    while pattern.format(n) in used:
        n += 1
    name = pattern.format(n)
    used.add(name)
    return name


def _rels_of(part: str) -> str:
    return posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")


def _retarget(rels: bytes, source: tuple[str, str], renamed: dict[str, str]) -> bytes:
    """Point the relationships of `source` (in the xlsxwriter package) at the renamed parts."""

    def sub(m: re.Match[str]) -> str:
        old = posixpath.normpath(posixpath.join(posixpath.dirname(source[0]), m.group(2)))
        new = renamed[old]
        return m.group(1) + posixpath.relpath(new, posixpath.dirname(source[1])) + m.group(3)

    text = re.sub(r'(\bTarget=")([^"]+)(")', sub, rels.decode("utf-8"))
    return text.encode("utf-8")


def _shared_strings(data: bytes | None) -> list[str]:
    if data is None:
        return []
    root = ET.fromstring(data)
    return ["".join(t.text or "" for t in si.iter(f"{{{_NS_MAIN}}}t")) for si in root]


def _sheet_xml(data: bytes, strings: list[str], xf_map: dict[int, int | None]) -> bytes:
    from sync.backends.xlsx_package import xml_text as _xml_text

    text = data.decode("utf-8")
    text = re.sub(r'\stabSelected="1"', "", text)  # the users' selected tab stays the one

    def cell(m: re.Match[str]) -> str:
        head, body = m.group(1), m.group(2)
        style = re.search(r'\ss="(\d+)"', head)
        if style:
            mapped = xf_map.get(int(style.group(1)))
            repl = "" if mapped is None else f' s="{mapped}"'
            head = head[: style.start()] + repl + head[style.end() :]
        if re.search(r'\st="s"', head):
            index = re.search(r"<v>(\d+)</v>", body)
            value = strings[int(index.group(1))] if index else ""
            head = re.sub(r'\st="s"', ' t="inlineStr"', head)
            body = f'<is><t xml:space="preserve">{_xml_text(value)}</t></is>'
        return f"{head}>{body}</c>"

    text = re.sub(r"(<c\b[^>]*?)>(.*?)</c>", cell, text, flags=re.S)
    return text.encode("utf-8")


def dashboard_parts(
    dash: DashboardWrite, sheet_part: str, used_parts: Iterable[str], style_for: StyleFor
) -> DashboardParts:
    """The new parts for `dash` as `sheet_part` of a package already holding `used_parts`."""
    src, formats = render_dashboard(dash)
    used = set(used_parts) | {sheet_part}
    base = posixpath.dirname(posixpath.dirname(sheet_part)) or "xl"  # the workbook's folder
    renamed = {"xl/worksheets/sheet1.xml": sheet_part}
    types: list[tuple[str, str]] = []
    for name in sorted(src, key=_natural):
        if re.fullmatch(r"xl/drawings/drawing\d+\.xml", name):
            renamed[name] = _fresh(posixpath.join(base, "drawings/drawing{}.xml"), used)
            types.append((renamed[name], CT_DRAWING))
        elif re.fullmatch(r"xl/charts/chart\d+\.xml", name):
            renamed[name] = _fresh(posixpath.join(base, "charts/chart{}.xml"), used)
            types.append((renamed[name], CT_CHART))
    xf_map: dict[int, int | None] = {
        index: style_for(bold, code) if index and code >= 0 else None
        for index, (bold, code) in formats.items()
    }
    strings = _shared_strings(src.get("xl/sharedStrings.xml"))
    parts = [(sheet_part, _sheet_xml(src["xl/worksheets/sheet1.xml"], strings, xf_map))]
    for old, new in renamed.items():
        if old != "xl/worksheets/sheet1.xml":
            parts.append((new, src[old]))
        rels = _rels_of(old)
        if rels in src:
            parts.append((_rels_of(new), _retarget(src[rels], (old, new), renamed)))
    return DashboardParts(sheet_part, parts, types)


def _natural(name: str) -> tuple[str, int]:
    m = re.search(r"(\d+)\.xml$", name)
    return (name[: m.start()] if m else name, int(m.group(1)) if m else 0)
