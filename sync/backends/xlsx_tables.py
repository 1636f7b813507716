"""Excel tables (ListObjects, `xl/tables/tableN.xml`) that must grow when salesync adds a column.

An owned column that is missing is added at the right end of the data (DESIGN.md §2). When that
data is an Excel table, Excel expects the table's `ref` to cover the new column and a
`<tableColumn>` named like the header cell; otherwise the new column sits outside the table
(no banding, no filter button, formulas with structured references do not see it). Only the
table part's `ref`, its `autoFilter`'s `ref` and its `<tableColumns>` list change; the edit is
textual so that every other byte of the part stays as it was.

>>> xml = (b'<table xmlns="m" id="1" name="T" displayName="T" ref="A1:B3">'
...        b'<autoFilter ref="A1:B3"/><tableColumns count="2"><tableColumn id="1" name="a"/>'
...        b'<tableColumn id="2" name="b"/></tableColumns></table>')
>>> print(extend_table(xml, {1: {3: "c"}}).decode())  # doctest: +NORMALIZE_WHITESPACE
<table xmlns="m" id="1" name="T" displayName="T" ref="A1:C3"><autoFilter ref="A1:C3"/><tableColumns
count="3"><tableColumn id="1" name="a"/><tableColumn id="2" name="b"/><tableColumn id="3"
name="c"/></tableColumns></table>
"""

from __future__ import annotations

import html
import posixpath
import re
from collections.abc import Mapping

from sync.core.model import column_letter, column_number

__all__ = ["REL_TABLE", "extend_table", "table_parts"]

REL_TABLE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/table"
_RANGE_RE = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)(?::\$?([A-Za-z]{1,3})\$?(\d+))?")
_ATTR_TMPL = r"""(\s{name}\s*=\s*)(?:"([^"]*)"|'([^']*)')"""


def _parse_range(text: str) -> tuple[int, int, int, int] | None:
    """(first row, first col, last row, last col) of `A1:C9` (or `A1`)."""
    m = _RANGE_RE.fullmatch(text.strip())
    if not m:
        return None
    r1, c1 = int(m.group(2)), column_number(m.group(1))
    if m.group(3) is None:
        return r1, c1, r1, c1
    return r1, c1, int(m.group(4)), column_number(m.group(3))


def _get_attr(tag: str, name: str) -> str | None:
    m = re.search(_ATTR_TMPL.format(name=re.escape(name)), tag)
    if not m:
        return None
    return m.group(2) if m.group(2) is not None else m.group(3)


def _set_attr(tag: str, name: str, value: str) -> str:
    pattern = re.compile(_ATTR_TMPL.format(name=re.escape(name)))
    return pattern.sub(lambda m: f'{m.group(1)}"{value}"', tag, count=1)


def _escape_name(name: str) -> str:
    # Line breaks in a table column name are stored as _x000a_ (as Excel does); the rest is
    # ordinary attribute escaping.
    name = re.sub("_(?=x[0-9A-Fa-f]{4}_)", "_x005F_", name)
    name = name.replace("\r\n", "\n").replace("\n", "_x000a_").replace("\r", "_x000d_")
    return (
        name.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;").replace("\t", "&#9;")
    )


def table_parts(sheet_part: str, rels_xml: bytes) -> list[str]:
    """The table parts a sheet's rels point at, resolved to package paths."""
    out = []
    text = rels_xml.decode("utf-8", "replace")
    for m in re.finditer(r"<(?:[\w.-]+:)?Relationship\b[^>]*>", text):
        tag = m.group(0)
        if _get_attr(tag, "Type") != REL_TABLE or _get_attr(tag, "TargetMode") == "External":
            continue
        target = html.unescape(_get_attr(tag, "Target") or "")
        if target.startswith("/"):
            out.append(target.lstrip("/"))
        else:
            out.append(posixpath.normpath(posixpath.join(posixpath.dirname(sheet_part), target)))
    return out


def extend_table(xml: bytes, writes: Mapping[int, Mapping[int, object]]) -> bytes | None:
    """The table part with new columns for the text written in its header row right after its
    last column (`writes`: row → column → value), or None when the table needs no change.

    Consecutive headers (several owned columns added at once) all join the table; a header
    whose name the table already has (names are unique, ignoring case) stops the extension,
    since Excel would have to rename the column to repair the file.
    """
    text = xml.decode("utf-8")
    m = re.search(r"<(?:([A-Za-z_][\w.-]*):)?table[\s>]", text)
    if not m:
        return None
    pfx = (m.group(1) + ":") if m.group(1) else ""
    start_end = text.find(">", m.start())
    start_tag = text[m.start() : start_end + 1]
    if (_get_attr(start_tag, "headerRowCount") or "1").strip() == "0":
        return None  # no header row: there is no header cell to name a column by
    bounds = _parse_range(_get_attr(start_tag, "ref") or "")
    if bounds is None:
        return None
    top, left, bottom, right = bounds
    columns_m = re.search(rf"<{re.escape(pfx)}tableColumns\b[^>]*>", text)
    columns_end = text.find(f"</{pfx}tableColumns>")
    if not columns_m or columns_end < 0:
        return None
    columns_xml = text[columns_m.end() : columns_end]
    column_tags = re.findall(rf"<{re.escape(pfx)}tableColumn\b[^>]*>", columns_xml)
    names = {html.unescape(_get_attr(t, "name") or "").casefold() for t in column_tags}
    ids = [int(i) for t in column_tags if (i := _get_attr(t, "id") or "").isdigit()]
    header_writes = writes.get(top, {})
    added: list[str] = []
    col = right + 1
    while col <= 16_384:
        value = header_writes.get(col)
        if not isinstance(value, str) or not value.strip() or value.casefold() in names:
            break
        names.add(value.casefold())
        added.append(value)
        col += 1
    if not added:
        return None
    new_right = right + len(added)
    new_ref = f"{column_letter(left)}{top}:{column_letter(new_right)}{bottom}"
    next_id = max(ids, default=0) + 1
    new_columns = "".join(
        f'<{pfx}tableColumn id="{next_id + i}" name="{_escape_name(name)}"/>'
        for i, name in enumerate(added)
    )
    count = len(column_tags) + len(added)
    columns_tag = _set_attr(columns_m.group(0), "count", str(count))
    if columns_tag == columns_m.group(0) and "count" not in columns_tag:
        columns_tag = columns_tag[:-1].rstrip() + f' count="{count}">'
    # Rebuild from the end backwards so earlier offsets stay valid.
    text = text[: columns_m.start()] + columns_tag + columns_xml + new_columns + text[columns_end:]
    auto = re.search(rf"<{re.escape(pfx)}autoFilter\b[^>]*>", text)
    if auto:
        af = _parse_range(_get_attr(auto.group(0), "ref") or "")
        if af is not None and af[3] == right:
            af_ref = f"{column_letter(af[1])}{af[0]}:{column_letter(new_right)}{af[2]}"
            text = (
                text[: auto.start()] + _set_attr(auto.group(0), "ref", af_ref) + text[auto.end() :]
            )
    text = text[: m.start()] + _set_attr(start_tag, "ref", new_ref) + text[start_end + 1 :]
    return text.encode("utf-8")
