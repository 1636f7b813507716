"""The style book: `xl/styles.xml` edited as text, formats and cell styles added only when a
write needs them.
"""

from __future__ import annotations

import contextlib
import re

from sync.core.errors import SalesyncError

_DATE_BUILTINS = {14, 15, 16, 17, 22, 27, 28, 29, 30, 31, 36, 50, 51, 52, 53, 54, 55, 56, 57, 58}
_FMT_STRIP = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')


def _is_date_code(code: str) -> bool:
    code = _FMT_STRIP.sub("", code.split(";")[0]).lower()
    if "general" in code:
        return False
    if "d" in code or "y" in code:
        return True
    return "m" in code and "h" not in code and "s" not in code


_XF_RE = r"<{p}xf\b[^>]*?(?:/>|>.*?</{p}xf>)"
_FONT_RE = r"<{p}font\b[^>]*?(?:/>|>.*?</{p}font>)"
_SATTR_RE = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _sattrs(tag: str) -> dict[str, str]:
    return {
        m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _SATTR_RE.finditer(tag)
    }


def _set_attrs(element: str, changes: dict[str, str]) -> str:
    """Set attributes on an element's start tag, keeping the others and their order."""
    end = element.index(">")
    self_closing = element[end - 1] == "/"
    tag_end = end - 1 if self_closing else end
    head = element[:tag_end]
    for key, value in changes.items():
        pattern = re.compile(rf"""(\s{re.escape(key)}\s*=\s*)(?:"[^"]*"|'[^']*')""")
        if pattern.search(head):
            head = pattern.sub(lambda m, v=value: f'{m.group(1)}"{v}"', head, count=1)  # type: ignore[misc]
        else:
            head = f'{head.rstrip()} {key}="{value}"'
    return head + element[tag_end:]


class StyleBook:
    """Just enough of xl/styles.xml: which cell formats are dates; append formats when needed
    (existing ones are never renumbered; an equal appended format is reused)."""

    def __init__(self, text: str | None) -> None:
        self.text = text
        self.xfs: list[str] = []
        self.fonts: list[str] = []
        self.num_fmts: dict[int, str] = {}
        self.new_xfs: list[str] = []
        self.new_fonts: list[str] = []
        self.pfx = ""
        self._date_cache: dict[int, bool] = {}
        self._derived: dict[tuple[int, int], int] = {}
        if text is None:
            return
        m = re.search(r"<(?:([A-Za-z_][\w.-]*):)?styleSheet[\s>]", text)
        self.pfx = (m.group(1) + ":") if m and m.group(1) else ""
        p = re.escape(self.pfx)
        for nm in re.finditer(rf"<{p}numFmt\b[^>]*>", text):
            a = _sattrs(nm.group(0))
            with contextlib.suppress(KeyError, ValueError):
                self.num_fmts[int(a["numFmtId"])] = a.get("formatCode", "")
        self._xf_block = self._block("cellXfs")
        self._font_block = self._block("fonts")
        if self._xf_block:
            inner = text[self._xf_block[1] : self._xf_block[2]]
            self.xfs = re.findall(_XF_RE.format(p=p), inner, re.S)
        if self._font_block:
            inner = text[self._font_block[1] : self._font_block[2]]
            self.fonts = re.findall(_FONT_RE.format(p=p), inner, re.S)

    def _block(self, name: str) -> tuple[int, int, int] | None:
        """(start of the start tag, end of the start tag, start of the end tag)."""
        assert self.text is not None
        p = re.escape(self.pfx)
        m = re.search(rf"<{p}{name}\b[^>]*>", self.text)
        if not m or m.group(0).endswith("/>"):
            return None
        end = self.text.find(f"</{self.pfx}{name}>", m.end())
        return (m.start(), m.end(), end) if end >= 0 else None

    @property
    def changed(self) -> bool:
        return bool(self.new_xfs or self.new_fonts)

    def _xf(self, index: int) -> str:
        all_xfs = self.xfs + self.new_xfs
        if 0 <= index < len(all_xfs):
            return all_xfs[index]
        if all_xfs:
            return all_xfs[0]
        return f'<{self.pfx}xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'

    def is_date(self, index: int | None) -> bool:
        key = index or 0
        if key not in self._date_cache:
            self._date_cache[key] = self._is_date(key)
        return self._date_cache[key]

    def _is_date(self, index: int | None) -> bool:
        if self.text is None:
            return False
        try:
            fmt = int(_sattrs(self._xf(index or 0).split(">", 1)[0]).get("numFmtId", "0"))
        except ValueError:
            return False
        if fmt in self.num_fmts:
            return _is_date_code(self.num_fmts[fmt])
        return fmt in _DATE_BUILTINS

    def _require(self) -> None:
        if self.text is None or self._xf_block is None:
            raise SalesyncError("the workbook has no cell styles part; cannot add a date style")

    def _add_xf(self, xf: str) -> int:
        all_xfs = self.xfs + self.new_xfs
        if xf in all_xfs:
            return all_xfs.index(xf)
        self.new_xfs.append(xf)
        return len(all_xfs)

    def has_date_xf(self, base: int | None, kind: int) -> bool:
        """Whether a cell styled `base` takes a date of `kind` without a new format."""
        return self.is_date(base) or (base or 0, kind) in self._derived

    def date_xf(self, base: int | None, kind: int) -> int:
        """Index of a format like `base` with the date (14) or date-time (22) number format."""
        return self.number_xf(base, kind)

    def number_xf(self, base: int | None, kind: int) -> int:
        """Index of a format like `base` with the built-in number format `kind`."""
        key = (base or 0, kind)
        if key not in self._derived:
            self._require()
            changes = {"numFmtId": str(kind), "applyNumberFormat": "1"}
            self._derived[key] = self._add_xf(_set_attrs(self._xf(base or 0), changes))
        return self._derived[key]

    def bold_xf(self, base: int = 0) -> int:
        self._require()
        xf = self._xf(base)
        try:
            font_id = int(_sattrs(xf.split(">", 1)[0]).get("fontId", "0"))
        except ValueError:
            font_id = 0
        fonts = self.fonts + self.new_fonts
        font = fonts[font_id] if 0 <= font_id < len(fonts) else f"<{self.pfx}font/>"
        if not re.search(rf"<{re.escape(self.pfx)}b\s*/?>", font):
            if font.endswith("/>"):
                font = font[:-2].rstrip() + f"><{self.pfx}b/></{self.pfx}font>"
            else:
                cut = font.index(">") + 1
                font = font[:cut] + f"<{self.pfx}b/>" + font[cut:]
            if font in fonts:
                font_id = fonts.index(font)
            else:
                if self._font_block is None:
                    raise SalesyncError("the workbook has no fonts part; cannot add a bold style")
                self.new_fonts.append(font)
                font_id = len(fonts)
        xf = _set_attrs(xf, {"fontId": str(font_id), "applyFont": "1"})
        return self._add_xf(xf)

    def render(self) -> str:
        assert self.text is not None
        text = self.text
        # Edit the later block first so earlier offsets stay valid.
        edits = []
        if self.new_xfs and self._xf_block:
            edits.append((self._xf_block, self.new_xfs, len(self.xfs) + len(self.new_xfs)))
        if self.new_fonts and self._font_block:
            edits.append((self._font_block, self.new_fonts, len(self.fonts) + len(self.new_fonts)))
        for (start, tag_end, end), new, count in sorted(edits, key=lambda e: -e[0][0]):
            start_tag = _set_attrs(text[start:tag_end], {"count": str(count)})
            text = text[:start] + start_tag + text[tag_end:end] + "".join(new) + text[end:]
        return text
