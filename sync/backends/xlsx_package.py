"""The .xlsx package: its parts, rels and sheets (`load_package`), small XML helpers, copying
and adding zip members (raw where zipfile's internals allow), lock files and the atomic replace.
"""

from __future__ import annotations

import contextlib
import errno
import os
import posixpath
import re
import stat
import struct
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, cast
from xml.etree import ElementTree as ET

from zlib_ng import zlib_ng

from sync.backends.xlsx_bulk import MAX_COLS
from sync.core.errors import (
    WorkbookLocked,
    WorkbookNotFound,
    WorkbookUnreadable,
    WorkbookUnwritable,
)
from sync.core.model import Position, column_letter, column_number

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_OFFICE_DOC = NS_REL + "/officeDocument"
NS_STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
"""A workbook saved as Strict Open XML (ISO/IEC 29500 strict) has its elements here, and its
relationships' types under http://purl.oclc.org/ooxml/officeDocument/relationships/."""
REL_STRICT_OFFICE_DOC = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
REL_WORKSHEET = NS_REL + "/worksheet"
REL_STYLES = NS_REL + "/styles"
REL_CALC_CHAIN = NS_REL + "/calcChain"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

CHUNK = 1 << 20
_COMPRESSED_CHUNK = CHUNK // 8  # sheet XML deflates about tenfold
ZLIB_ERROR = cast("type[Exception]", zlib_ng.error)  # its stub types it as an instance


# ----------------------------------------------------------------------------- small helpers


col_letters = lru_cache(maxsize=MAX_COLS)(column_letter)


letters_col = lru_cache(maxsize=MAX_COLS)(column_number)


def _ref(row: int, col: int) -> str:
    return f"{col_letters(col)}{row}"


_REF_RE = re.compile(rb"\$?([A-Za-z]{1,3})\$?(\d+)")


def parse_ref(ref: bytes) -> Position | None:
    m = _REF_RE.fullmatch(ref)
    if not m:
        return None
    return int(m.group(2)), letters_col(m.group(1).upper())


_ATTR_RE = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


_COL_RE = re.compile(rb"""\sr\s*=\s*["']\$?([A-Za-z]{1,3})\$?\d""")


def col_of(tag: bytes) -> int | None:
    """The column of a cell from its start tag's `r`, or None when it has none."""
    m = _COL_RE.search(tag)
    if not m:
        return None
    return letters_col(m.group(1).upper())


def _attrs(tag: bytes) -> dict[bytes, bytes]:
    """Attributes of a start tag as raw (still escaped) bytes, in document order."""
    return {
        m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _ATTR_RE.finditer(tag)
    }


_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""Control characters XML cannot hold: Excel writes each as `_xHHHH_`, which readers decode."""
_UNWRITABLE = re.compile("[\ufffe\uffff\ud800-\udfff]")
"""Characters no cell text holds: not XML, and no reader decodes them from `_xHHHH_`."""
_OOXML_ESCAPE = re.compile("_(?=x[0-9A-Fa-f]{4}_)")


_NEEDS_ESCAPE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff&<>\r_]")


def xml_text(text: str) -> str:
    r"""Text content for an inline string, which reads back as `text`: a control character
    and a carriage return written as Excel writes them (`_x000B_`, `_x000D_`), a literal
    `_xHHHH_` kept literal (`_x005F_xHHHH_`: readers would decode it); a non-character or a
    lone surrogate, which no reader gives, dropped.

    >>> xml_text("a\x0bb_x0041_c\rd<e")
    'a_x000B_b_x005F_x0041_c_x000D_d&lt;e'
    """
    if not _NEEDS_ESCAPE.search(text):  # nearly all text: one scan instead of six
        return text
    text = _UNWRITABLE.sub("", text)
    text = _OOXML_ESCAPE.sub("_x005F_", text)  # before the controls become _xHHHH_ themselves
    text = _CONTROL.sub(_excel_escape, text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "_x000D_")


def _excel_escape(found: re.Match[str]) -> str:
    return f"_x{ord(found.group()):04X}_"


def xml_attr(text: str) -> str:
    text = _ILLEGAL_XML.sub("", text)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


def _resolve_target(source_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def _rels_part(part: str) -> str:
    return posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")


def relative_target(source_part: str, part: str) -> str:
    return posixpath.relpath(part, posixpath.dirname(source_part) or ".")


def is_nan(value: object) -> bool:
    try:
        return bool(value != value)  # NaN, NaT
    except Exception:
        return False


# ----------------------------------------------------------------------------- the package


@dataclass(slots=True)
class _SheetRef:
    name: str
    sheet_id: int
    rid: str
    part: str
    state: str
    content_type: str = ""


@dataclass(slots=True)
class Package:
    """The parts of the package salesync needs to find its way: the workbook part, its rels,
    the sheets (name → part) and the styles part."""

    workbook_part: str
    sheets: list[_SheetRef]
    rels: list[tuple[str, str, str]]  # (Id, Type, resolved part)
    styles_part: str | None
    calc_chain_part: str | None
    date1904: bool
    members: set[str] = field(default_factory=set)

    @property
    def workbook_rels_part(self) -> str:
        return _rels_part(self.workbook_part)

    def sheet(self, name: str) -> _SheetRef | None:
        for ref in self.sheets:
            if ref.name == name:
                return ref
        return None


def _parse_xml(zf: zipfile.ZipFile, part: str) -> ET.Element:
    return ET.fromstring(zf.read(part))


def _content_types(zf: zipfile.ZipFile) -> dict[str, str]:
    root = _parse_xml(zf, "[Content_Types].xml")
    out: dict[str, str] = {}
    defaults: dict[str, str] = {}
    for el in root:
        if el.tag == f"{{{NS_CT}}}Override":
            out[el.get("PartName", "").lstrip("/")] = el.get("ContentType", "")
        elif el.tag == f"{{{NS_CT}}}Default":
            defaults[el.get("Extension", "").lower()] = el.get("ContentType", "")
    for name in zf.namelist():
        if name not in out:
            ext = name.rsplit(".", 1)[-1].lower()
            if ext in defaults:
                out[name] = defaults[ext]
    return out


def load_package(zf: zipfile.ZipFile) -> Package:
    members = set(zf.namelist())
    workbook_part = "xl/workbook.xml"
    if "_rels/.rels" in members:
        for rel in _parse_xml(zf, "_rels/.rels"):
            if rel.get("Type") in (REL_OFFICE_DOC, REL_STRICT_OFFICE_DOC):
                workbook_part = _resolve_target("", rel.get("Target", ""))
                break
    if workbook_part not in members:
        raise WorkbookUnreadable(f"no workbook part ({workbook_part}) in the package")
    rels: list[tuple[str, str, str]] = []
    rels_part = _rels_part(workbook_part)
    if rels_part in members:
        for rel in _parse_xml(zf, rels_part):
            if rel.get("TargetMode") == "External":
                continue
            rels.append(
                (
                    rel.get("Id", ""),
                    rel.get("Type", ""),
                    _resolve_target(workbook_part, rel.get("Target", "")),
                )
            )
    by_id = {rid: part for rid, _, part in rels}
    content_types = _content_types(zf)
    root = _parse_xml(zf, workbook_part)
    if root.tag == f"{{{NS_STRICT_MAIN}}}workbook":
        # calamine reads it, but its sheets, formulas and error values would go unseen here,
        # and a sync's new parts would mix namespaces: refused, rather than half read
        raise WorkbookUnreadable(
            "saved as Strict Open XML, which salesync does not read: open it in Excel and save "
            "it as an Excel Workbook (.xlsx)"
        )
    sheets: list[_SheetRef] = []
    sheets_el = root.find(f"{{{NS_MAIN}}}sheets")
    for el in sheets_el if sheets_el is not None else []:
        rid = el.get(f"{{{NS_REL}}}id", "")
        part = by_id.get(rid, "")
        sheets.append(
            _SheetRef(
                name=el.get("name", ""),
                sheet_id=int(el.get("sheetId", "0") or 0),
                rid=rid,
                part=part,
                state=el.get("state", "visible"),
                content_type=content_types.get(part, ""),
            )
        )
    pr = root.find(f"{{{NS_MAIN}}}workbookPr")
    date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
    styles = next((p for _, t, p in rels if t == REL_STYLES and p in members), None)
    calc = next((p for _, t, p in rels if t == REL_CALC_CHAIN and p in members), None)
    return Package(workbook_part, sheets, rels, styles, calc, date1904, members)


def open_zip(path: Path) -> zipfile.ZipFile:
    if not path.exists():
        raise WorkbookNotFound(f"{path}: no such file")
    if path.is_dir():
        raise WorkbookUnreadable(f"{path}: is a directory, not a workbook")
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        with open(path, "rb") as fh:
            magic = fh.read(8)
        if magic.startswith(b"\xd0\xcf\x11\xe0"):
            why = "password-protected, or a legacy .xls saved under another name"
        else:
            why = "not an .xlsx/.xlsm workbook, or corrupt"
        raise WorkbookUnreadable(f"{path}: cannot read it ({why})") from exc
    except OSError as exc:
        raise WorkbookUnreadable(f"{path}: cannot read it ({exc.strerror or exc})") from exc


Version = tuple[tuple[str, int, int, int], ...]
"""What tells one version of a workbook from another: each member's name, CRC-32 and sizes."""


def version(zf: zipfile.ZipFile) -> Version:
    """The workbook's `Version`, from its zip directory alone (milliseconds at any size): any
    change to a part's bytes changes its CRC-32."""
    return tuple((i.filename, i.CRC, i.compress_size, i.file_size) for i in zf.infolist())


def version_of(path: Path) -> Version:
    with open_zip(path) as zf:
        return version(zf)


def load_package_checked(zf: zipfile.ZipFile, path: Path) -> Package:
    try:
        return load_package(zf)
    except WorkbookUnreadable as exc:
        raise WorkbookUnreadable(f"{path}: {exc}") from exc
    except (KeyError, ET.ParseError, zipfile.BadZipFile, ValueError, OSError) as exc:
        raise WorkbookUnreadable(f"{path}: the workbook package is damaged ({exc})") from exc


Segments = dict[tuple[int, int], tuple[int, int]]
"""Where a member's deflate stream holds a piece that inflates on its own: (its uncompressed
length, CRC-32) → (the file offset of its compressed bytes, their length). See `iter_chunks`."""

FLUSH_MARK = b"\x00\x00\xff\xff"
"""How a deflate stream flushed to a byte boundary goes on: an empty stored block's lengths."""


def iter_chunks(
    zf: zipfile.ZipFile, part: str, segments: Segments | None = None
) -> Iterator[bytes]:
    """A member's uncompressed bytes, `CHUNK` to twice that at a time (the last chunk less).

    A deflated member of a workbook on disk is inflated by zlib-ng, about three times as fast
    as zipfile's zlib (at a million rows a sheet's XML is half a gigabyte), from a file handle
    of its own, so threads may read members side by side; its size and CRC-32 are checked at
    the end, as zipfile checks them. Anything else (stored, encrypted, another method, a
    workbook in memory) is read through zipfile.

    With `segments`, the pieces of the stream between flush marks (`FLUSH_MARK`, as the
    writer's segments end: see `xlsx._Deflater`) are recorded there as they are inflated, for
    the writer to copy those it would compress to the same bytes. A mark is only likely to
    end a piece that inflates on its own (the bytes may occur inside compressed data too, and
    a flush need not reset what the next piece may refer to): the writer checks a piece
    before it uses it."""
    info = zf.getinfo(part)
    if (
        info.compress_type != zipfile.ZIP_DEFLATED
        or info.flag_bits & 0x1  # encrypted
        or not isinstance(zf.filename, str)
        or not os.path.isfile(zf.filename)
    ):
        with zf.open(info) as fh:
            while chunk := fh.read(CHUNK):
                yield chunk
        return
    with open(zf.filename, "rb") as fh:
        fh.seek(info.header_offset)
        header = fh.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header for {part}")
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        (flags,) = struct.unpack("<H", header[6:8])
        name = fh.read(name_len).decode("utf-8" if flags & 0x800 else "cp437", "replace")
        if name != info.orig_filename:  # as zipfile checks
            raise zipfile.BadZipFile(f"{part}: the names in the directory and the header differ")
        fh.seek(extra_len, os.SEEK_CUR)
        inflate = zlib_ng.decompressobj(-15)
        at = fh.tell()  # the file offset of the next compressed byte read
        remaining, size, crc = info.compress_size, 0, 0
        piece_at, piece_size, piece_crc = at, 0, 0  # the piece being inflated, so far
        carry = b""  # the end of the bytes read before, for a mark across two reads
        # What is inflated goes out `CHUNK` or more at a time, however small the pieces: a
        # stream flushed often (LibreOffice flushes a sheet's every 130 kB of XML or so) would
        # otherwise hand the reader thousands of small chunks, each a region to splice and a
        # wait for the GIL (at 1M follow-ups, 3.5 s more for the write).
        out: list[bytes] = []
        out_size = 0
        while remaining and not inflate.eof:
            data = fh.read(min(remaining, _COMPRESSED_CHUNK))
            if not data:
                raise zipfile.BadZipFile(f"{part} is truncated")
            remaining -= len(data)
            ends = _mark_ends(carry + data, len(carry)) if segments is not None else []
            start = 0
            for end, marked in [*((end, True) for end in ends), (len(data), False)]:
                pending = data[start:end]
                while True:
                    try:
                        chunk = inflate.decompress(pending, CHUNK)
                    except ZLIB_ERROR as exc:
                        raise zipfile.BadZipFile(f"{part} is damaged ({exc})") from exc
                    pending = inflate.unconsumed_tail
                    if chunk:
                        size += len(chunk)
                        crc = zlib_ng.crc32(chunk, crc)
                        if segments is not None:
                            piece_size += len(chunk)
                            piece_crc = zlib_ng.crc32(chunk, piece_crc)
                        out.append(chunk)
                        out_size += len(chunk)
                        if out_size >= CHUNK:
                            yield out[0] if len(out) == 1 else b"".join(out)
                            out, out_size = [], 0
                    if inflate.eof or (not pending and len(chunk) < CHUNK):
                        break  # all the input is in, and all it gives is out
                if marked and segments is not None and not inflate.eof:
                    segments[piece_size, piece_crc] = (piece_at, at + end - piece_at)
                    piece_at, piece_size, piece_crc = at + end, 0, 0
                start = end
            at += len(data)
            carry = (carry + data)[-(len(FLUSH_MARK) - 1) :]
        if out:
            yield b"".join(out)
    if not inflate.eof or size != info.file_size or crc != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 or size for {part}")


def _mark_ends(data: bytes, skip: int) -> list[int]:
    """Where each `FLUSH_MARK` in `data` ends, less `skip` (the bytes that came before), for
    those that end after them."""
    ends, i = [], data.find(FLUSH_MARK)
    while i >= 0:
        end = i + len(FLUSH_MARK) - skip
        if end > 0:
            ends.append(end)
        i = data.find(FLUSH_MARK, i + 1)
    return ends


ROOT_PREFIX_RE = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?worksheet[\s>]")


def sheet_prefix(head: bytes) -> bytes | None:
    """The namespace prefix of a worksheet's elements, colon included (b"" for none), once
    `head` (the XML's beginning) holds the root tag; None before."""
    m = ROOT_PREFIX_RE.search(head)
    if m is None:
        return None
    return m.group(1) + b":" if m.group(1) else b""


# ----------------------------------------------------------------------------- zip writing


def _strip_zip64_extra(extra: bytes) -> bytes:
    out = b""
    i = 0
    while i + 4 <= len(extra):
        kind, size = struct.unpack("<HH", extra[i : i + 4])
        if kind != 1:
            out += extra[i : i + 4 + size]
        i += 4 + size
    return out


def _raw_copy(
    src_fh,
    info: zipfile.ZipInfo,
    out: zipfile.ZipFile,
    name: str | None = None,
    date_time: tuple[int, int, int, int, int, int] | None = None,
) -> None:
    """Copy one member's compressed bytes as they are (no decompression)."""
    src_fh.seek(info.header_offset)
    header = src_fh.read(30)
    if header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    zinfo = zipfile.ZipInfo(name or info.filename, date_time or info.date_time)
    zinfo.compress_type = info.compress_type
    zinfo.comment = info.comment
    zinfo.extra = _strip_zip64_extra(info.extra)
    zinfo.create_system = info.create_system
    zinfo.create_version = info.create_version
    zinfo.extract_version = info.extract_version
    zinfo.external_attr = info.external_attr
    zinfo.internal_attr = info.internal_attr
    zinfo.flag_bits = info.flag_bits & ~0x08  # sizes go in the local header
    zinfo.CRC = info.CRC
    zinfo.compress_size = info.compress_size
    zinfo.file_size = info.file_size
    _put_raw(src_fh, info.header_offset + 30 + name_len + extra_len, zinfo, out)


def _put_raw(src_fh, offset: int, zinfo: zipfile.ZipInfo, out: zipfile.ZipFile) -> None:
    """Add a member whose compressed bytes (`zinfo.compress_size` of them, with its CRC and
    sizes set) are in `src_fh` at `offset`: its local header, then those bytes as they are."""
    fp = out.fp
    assert fp is not None
    zinfo.header_offset = fp.tell()
    zip64 = zinfo.file_size > zipfile.ZIP64_LIMIT or zinfo.compress_size > zipfile.ZIP64_LIMIT
    fp.write(zinfo.FileHeader(zip64))
    src_fh.seek(offset)
    remaining = zinfo.compress_size
    while remaining:
        block = src_fh.read(min(remaining, CHUNK))
        if not block:
            raise zipfile.BadZipFile(f"{zinfo.filename} is truncated")
        fp.write(block)
        remaining -= len(block)
    out.filelist.append(zinfo)
    out.NameToInfo[zinfo.filename] = zinfo
    out.start_dir = fp.tell()
    out._didModify = True  # type: ignore[attr-defined]


# The raw copy reaches into zipfile's internals (ZipInfo.FileHeader, ZipFile.fp/filelist/
# NameToInfo/start_dir/_didModify) because the public API offers no way to add a member
# already compressed. Should a Python release rename them, these errors mean "internals
# missing" and the member is copied by decompressing and recompressing it instead (same
# compression method, identical uncompressed bytes, only slower).
_INTERNALS_MISSING = (AttributeError, TypeError, NotImplementedError)


def _recompress_copy(
    src: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    out: zipfile.ZipFile,
    date_time: tuple[int, int, int, int, int, int] | None = None,
) -> None:
    """Copy one member through the public API: decompress, recompress the same way."""
    zinfo = zipfile.ZipInfo(info.filename, date_time or info.date_time)
    zinfo.compress_type = info.compress_type
    zinfo.comment = info.comment
    zinfo.external_attr = info.external_attr
    zinfo.internal_attr = info.internal_attr
    zinfo.create_system = info.create_system
    big = info.file_size > zipfile.ZIP64_LIMIT
    with src.open(info) as fh, out.open(zinfo, "w", force_zip64=big) as dst:
        while block := fh.read(CHUNK):
            dst.write(block)


def copy_member(
    src: zipfile.ZipFile,
    src_fh,
    info: zipfile.ZipInfo,
    out: zipfile.ZipFile,
    date_time: tuple[int, int, int, int, int, int] | None = None,
) -> None:
    """Copy one member as its raw compressed bytes, or recompress it when zipfile's internals
    are not what `_raw_copy` expects."""
    _with_fallback(
        out,
        lambda: _raw_copy(src_fh, info, out, date_time=date_time),
        lambda: _recompress_copy(src, info, out, date_time=date_time),
    )


def _with_fallback(
    out: zipfile.ZipFile, raw: Callable[[], None], public: Callable[[], None]
) -> None:
    """Add a member with `raw` (zipfile's internals); when they are missing, cut off anything
    it wrote and add the member with `public` (the public API) instead."""
    fp = out.fp
    start = fp.tell() if fp is not None else None
    entries = len(out.filelist)
    try:
        raw()
        return
    except _INTERNALS_MISSING:
        if fp is None or start is None:
            raise
    fp.seek(start)
    fp.truncate()
    removed = out.filelist[entries:]
    del out.filelist[entries:]
    for zinfo in removed:
        out.NameToInfo.pop(zinfo.filename, None)
    out.start_dir = start
    public()


@dataclass(slots=True)
class Deflated:
    """A member's deflate stream in the scratch file, with what its zip headers need."""

    offset: int
    compress_size: int
    file_size: int
    crc: int


def add_deflated(
    scratch_fh,
    member: Deflated,
    out: zipfile.ZipFile,
    name: str,
    date_time: tuple[int, int, int, int, int, int],
) -> None:
    """Add a member written by `_Deflater`: its deflate stream as it is, or inflated and
    deflated again through the public API when zipfile's internals are missing."""

    def zinfo() -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16  # as `ZipFile.open(name, "w")` gives a new member
        return info

    def raw() -> None:
        info = zinfo()
        info.CRC = member.crc
        info.compress_size = member.compress_size
        info.file_size = member.file_size
        _put_raw(scratch_fh, member.offset, info, out)

    def public() -> None:
        inflate = zlib_ng.decompressobj(-15)
        big = member.file_size > zipfile.ZIP64_LIMIT
        scratch_fh.seek(member.offset)
        remaining = member.compress_size
        with out.open(zinfo(), "w", force_zip64=big) as dst:
            while remaining:
                block = scratch_fh.read(min(remaining, CHUNK))
                if not block:
                    raise zipfile.BadZipFile(f"{name} is truncated in the scratch file")
                remaining -= len(block)
                dst.write(inflate.decompress(block))
            dst.write(inflate.flush())

    _with_fallback(out, raw, public)


def writestr(
    out: zipfile.ZipFile,
    name: str,
    data: bytes,
    like: zipfile.ZipInfo | None,
    date_time: tuple[int, int, int, int, int, int],
) -> None:
    zinfo = zipfile.ZipInfo(name, like.date_time if like else date_time)
    zinfo.compress_type = like.compress_type if like else zipfile.ZIP_DEFLATED
    if like:
        zinfo.external_attr = like.external_attr
        zinfo.create_system = like.create_system
    out.writestr(zinfo, data)


# ----------------------------------------------------------------------------- locks & atomic


def check_locks(target: Path) -> None:
    folder, name = target.parent, target.name
    for lock, app in (
        (folder / f"~${name}", "Excel"),
        (folder / f".~lock.{name}#", "LibreOffice"),
    ):
        if lock.exists():
            raise WorkbookLocked(
                f"{name} is open in {app} (lock file {lock.name}); close it and run again"
            )


@contextlib.contextmanager
def replacing(dst: Path, like: Path | None = None) -> Iterator[IO[bytes]]:
    """A temporary file beside `dst` (`.~salesync-NAME-….tmp`) to write the new `dst` into.
    When the block ends it takes `dst`'s place in one step, on disk first, with the permissions
    of `dst` (else of `like`; a new file gets a new file's); when the block fails it is
    removed and `dst` is as it was. Refuses a workbook open in Excel or LibreOffice. A `dst`
    that is a symbolic link has the file it points to replaced, the link kept."""
    check_locks(dst)
    if dst.is_symlink():
        # the file it points to: replacing the link would leave that workbook as it was
        dst = dst.resolve()
        check_locks(dst)
    folder = dst.parent if str(dst.parent) else Path(".")
    was = dst if dst.exists() or like is None else like
    found = was.stat() if was.exists() else None
    mode = stat.S_IMODE(found.st_mode) if found else _new_file_mode()
    try:
        tmp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed, renamed or removed below
            dir=folder, prefix=f".~salesync-{dst.name}-", suffix=".tmp", delete=False
        )
    except OSError as exc:
        raise _unwritable(dst, folder, exc) from exc
    try:
        yield tmp
        tmp.flush()
        os.fsync(tmp.fileno())
        tmp.close()
        os.chmod(tmp.name, mode)
        if found is not None:
            _keep_owner(tmp.name, found.st_uid, found.st_gid)
        try:
            os.replace(tmp.name, dst)
        except PermissionError as exc:
            raise WorkbookLocked(
                f"{dst.name} cannot be replaced ({exc.strerror}); close it in Excel or "
                "LibreOffice, check its permissions, and run again"
            ) from exc
        fsync_dir(folder)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.close()
        with contextlib.suppress(OSError):
            os.unlink(tmp.name)
        if isinstance(exc, OSError):
            raise _unwritable(dst, folder, exc) from exc
        raise


NO_ROOM = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
"""A write that found no room: a full disk, a file too large for it, a quota."""


def _unwritable(dst: Path, folder: Path, exc: OSError) -> WorkbookUnwritable:
    """What a failed write of `dst` says: the cause, and that the file is as it was (or that
    nothing was written, for a new one)."""
    left = f"{dst.name} is as it was" if dst.exists() else "nothing was written"
    if not folder.is_dir():
        return WorkbookUnwritable(f"{dst}: cannot write it: there is no folder {folder}")
    if exc.errno in NO_ROOM:
        return WorkbookUnwritable(
            f"{dst}: no room to write it ({exc.strerror}): the new workbook is written beside "
            f"the old one before it takes its place; make room in {folder} and run again "
            f"({left})"
        )
    return WorkbookUnwritable(f"{dst}: cannot write it ({exc}); {left}")


def _keep_owner(path: str, uid: int, gid: int) -> None:
    """Give the new file the old one's owner and group where this process may (a teammate's
    sync of a shared workbook keeps it theirs and the group's), else at least the group; a
    process without the right leaves the file its own, as any editor's save does."""
    chown = getattr(os, "chown", None)  # not on Windows, whose files keep no such owner
    if chown is None:
        return
    now = os.stat(path)
    if (now.st_uid, now.st_gid) == (uid, gid):
        return
    try:
        chown(path, uid, gid)
    except OSError:
        with contextlib.suppress(OSError):
            chown(path, -1, gid)


def _new_file_mode() -> int:
    """The permissions a file created now gets (0o666 less the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
