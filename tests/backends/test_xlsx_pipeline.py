"""The writer's and reader's parallel plumbing gives what the plain, one-thread way gives.

- `_Deflater` compresses a member segment by segment on a thread pool: the segments inflate
  as one stream to exactly the bytes written, with the right CRC and sizes, and the member
  goes into the zip raw, or through the public API when zipfile's internals are missing. The
  segments are cut by content, however the data was written; the reader finds them in a
  member again, and the next write copies those that did not change (only where they inflate
  on their own to exactly the same bytes): the same file as compressing them again.
- `_read_ahead` inflates a member in a second thread: the same bytes, errors handed over, and
  a reader that stops early does not leave the thread hanging.
- `patch_sheet` splices whole regions of rows in bulk (`_Rows.splice`): the same bytes as the
  general path wherever the chunks cut the XML, its row-by-row fallback only where needed.
- New numbers and dates are rendered into a frame per column and type: the same XML as
  `render_value` + `cell_xml`.
- `read_workbook` reads tabs on a thread pool: the same workbook as one by one.
"""

from __future__ import annotations

import io
import itertools
import math
import random
import re
import struct
import threading
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from zlib_ng import zlib_ng

from sync.backends import xlsx as x
from sync.backends import xlsx_cells, xlsx_package, xlsx_read, xlsx_splice, xlsx_styles
from sync.backends.xlsx import apply_plan, read_workbook
from sync.backends.xlsx_bulk import MAX_COLS, MAX_ROWS, RowWrites
from sync.core.errors import SalesyncError, WorkbookUnreadable
from sync.core.model import CellWrite, ExcelError, TabWrite, WritableValue, WritePlan
from tests.backends.test_xlsx import make_xlsx, members, rich  # noqa: F401 - `rich` a fixture
from tests.backends.test_xlsx_fastpaths import (
    STYLES,
    _reference_patch,
    _SlowEdits,
    assert_splices_as_the_general_path,
)

# --------------------------------------------------------------------------- deflate


def _deflate(
    data: bytes, pieces: list[int], workers: int = 2
) -> tuple[bytes, xlsx_package.Deflated]:
    """`data` through a `_Deflater`, written in pieces of the given sizes (cycled)."""
    fh = io.BytesIO()  # stands in for the scratch file
    fh.write(b"junk before")  # the stream starts where the file is
    records: list[xlsx_package.Deflated] = []
    with (
        ThreadPoolExecutor(workers) as pool,
        x._deflated(pool, fh, records.append, depth=2) as sink,
    ):
        at = i = 0
        while at < len(data):
            n = pieces[i % len(pieces)]
            sink.write(data[at : at + n])
            at += n
            i += 1
    (record,) = records
    stream = fh.getvalue()[record.offset : record.offset + record.compress_size]
    return stream, record


def _rows_xml(size: int, seed: int, numbered: bool = True) -> bytes:
    """About `size` bytes of rows (numbered from 1, or without `r`), cut at `size`."""
    rng = random.Random(seed)
    words = [b"<c r=", b'"A1"', "达标".encode(), b"</c>", b"12345", b"<v>7</v>"]
    out, n, total = [], 0, 0
    while total < size:
        n += 1
        row = b"<row" + (b' r="%d"' % n if numbered else b"") + b">"
        row += b"".join(rng.choices(words, k=rng.randrange(4, 40))) + b"</row>"
        out.append(row)
        total += len(row)
    return b"".join(out)[:size]


@pytest.mark.parametrize(
    "size",
    [
        0,
        1,
        1000,
        x._SEGMENT - 1,
        x._SEGMENT,
        x._SEGMENT + 1,
        2 * x._SEGMENT + 5,
        x._MAX_SEGMENT + 7,
    ],
)
@pytest.mark.parametrize("numbered", [True, False])
def test_deflated_segments_inflate_to_the_bytes_written(size: int, numbered: bool) -> None:
    data = _rows_xml(size, size, numbered)
    stream, record = _deflate(data, [7, 100_000, xlsx_package.CHUNK + 3, 1])
    assert zlib.decompress(stream, -15) == data
    assert record.file_size == len(data)
    assert record.crc == zlib.crc32(data)
    assert record.offset == len(b"junk before")
    # the segments, each compressed from scratch, compress about as well as one stream
    whole = zlib_ng.compressobj(x.DEFLATE_LEVEL, zlib_ng.DEFLATED, -15)
    one = whole.compress(data) + whole.flush()
    assert len(stream) <= len(one) * 1.01 + 16 * (size // x._SEGMENT + 1)


def _segments_of(data: bytes, pieces: list[int], monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The segments `_Deflater` cuts `data` into, written in pieces of the given sizes."""
    blocks: list[bytes] = []
    original = x._segment

    def spy(block: bytes, last: bool, old: tuple[str, int, int] | None) -> bytes:
        blocks.append(block)
        return original(block, last, old)

    monkeypatch.setattr(x, "_segment", spy)
    _deflate(data, pieces, workers=1)
    monkeypatch.setattr(x, "_segment", original)
    return blocks


@pytest.mark.parametrize("prefix", ["", "x:"])
def test_segments_are_cut_by_content_not_by_the_writes(
    monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    """Each segment but the last ends before the first row numbered in thousands at
    `_SEGMENT` bytes or further (or at `_MAX_SEGMENT` without one), however the data was
    written, so that two versions of a sheet that read the same are cut the same; each
    segment inflates on its own."""
    monkeypatch.setattr(x, "_SEGMENT", 20_000)
    monkeypatch.setattr(x, "_MAX_SEGMENT", 200_000)
    data = _rows_xml(900_000, 1).replace(b"<row", b"<" + prefix.encode() + b"row")
    data += _rows_xml(450_000, 2, numbered=False)  # a stretch without numbers: cut at the most
    cuts, kinds = [], []
    for pieces in ([7, 1, 13], [4096], [19_999, 20_001], [1 << 20], [31, 33, 10_007]):
        blocks = _segments_of(data, pieces, monkeypatch)
        assert b"".join(blocks) == data
        cuts.append([len(b) for b in blocks])
        for block, after in itertools.pairwise(blocks):
            m = x._CUT.match(after)
            kinds.append(m is not None)
            if m is None:  # no row numbered in thousands 20,000 bytes or further in
                assert len(block) == 200_000
                assert x._CUT.search(block, 20_000) is None
            else:
                assert m.group(0).endswith(b'000"')
                assert len(block) >= 20_000
                assert x._CUT.search(block, 20_000) is None
        for block in blocks[:-1]:
            c = zlib_ng.compressobj(x.DEFLATE_LEVEL, zlib_ng.DEFLATED, -15)
            alone = c.compress(block) + c.flush(zlib_ng.Z_SYNC_FLUSH)
            assert zlib.decompressobj(-15).decompress(alone) == block
    assert all(c == cuts[0] for c in cuts)
    assert kinds.count(True) >= 6 * 5 and kinds.count(False) >= 2 * 5  # both kinds of cut


@pytest.mark.parametrize("pieces", [[0, 7], [0, 1 << 20], [-40, 5, 100], [-3, 9], [1, 1]])
def test_a_row_numbered_in_thousands_just_short_of_the_size_does_not_cut(
    monkeypatch: pytest.MonkeyPatch, pieces: list[int]
) -> None:
    """A row numbered in thousands that starts a few bytes before `_SEGMENT` does not cut
    the segment, wherever the writes begin and end around it: the next one does."""
    data = _rows_xml(400_000, 6)
    first = data.index(b'<row r="1000"')
    monkeypatch.setattr(x, "_SEGMENT", first + 1 + 10)  # `row r="1000"` starts 10 bytes short
    sizes = [first + 11 + n if i == 0 else n for i, n in enumerate(pieces)]
    blocks = _segments_of(data, sizes, monkeypatch)
    assert blocks[0] == data[: data.index(b'row r="2000"')]
    assert b"".join(blocks) == data


def test_a_segment_is_reused_only_where_it_stands_for_the_same_bytes(tmp_path: Path) -> None:
    """`_reused` takes compressed bytes for a segment only if, inflated alone, they give
    exactly its bytes and end flushed on a block boundary."""
    block = _rows_xml(300_000, 3)
    before = _rows_xml(100_000, 4)
    own = x._deflate_block(block, last=False)
    c = zlib_ng.compressobj(
        x.DEFLATE_LEVEL, zlib_ng.DEFLATED, -15, 8, zlib_ng.Z_DEFAULT_STRATEGY, before[-32768:]
    )
    primed = c.compress(block) + c.flush(zlib_ng.Z_SYNC_FLUSH)  # refers to the bytes before
    assert primed.endswith(xlsx_package.FLUSH_MARK) and primed != own
    other = bytearray(block)
    other[1000:1004] = b"9999" if other[1000:1004] != b"9999" else b"8888"
    path = tmp_path / "old"

    def reused(data: bytes, wanted: bytes = block) -> bytes | None:
        path.write_bytes(b"junk" + data + b"more")
        return x._reused(wanted, str(path), 4, len(data))

    assert reused(own) == own
    assert reused(primed) is None
    assert reused(own, bytes(other)) is None
    assert reused(own, block + b"<") is None
    assert reused(own, block[:-1]) is None
    ended = x._deflate_block(block, last=True)
    assert reused(ended) is None  # not flushed: the last
    assert reused(ended + xlsx_package.FLUSH_MARK) is None  # the stream would end in it
    assert reused(own[:-5] + xlsx_package.FLUSH_MARK) is None  # cut inside a block
    assert x._reused(block, str(path), 4, len(own) + 100) is None  # past the file's end
    assert x._reused(block, str(tmp_path / "gone"), 4, len(own)) is None


def test_a_failing_block_fails_the_member(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(block: bytes, last: bool) -> bytes:
        raise MemoryError("no room")

    monkeypatch.setattr(x, "_deflate_block", boom)
    records: list[xlsx_package.Deflated] = []
    with (
        ThreadPoolExecutor(2) as pool,
        pytest.raises(MemoryError),
        x._deflated(pool, io.BytesIO(), records.append, depth=1) as sink,
    ):
        for _ in range(5):
            sink.write(b"x" * x._SEGMENT)
    assert records == []


@pytest.mark.parametrize("internals", [True, False])
def test_deflated_member_in_a_zip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, internals: bool
) -> None:
    """A member added from the scratch file: raw, or inflated and deflated again through the
    public API when zipfile's internals are missing (a partial write cut off)."""
    data = "".join(f'<row r="{i}"><c r="A{i}"><v>{i}</v></c></row>' for i in range(60_000))
    payload = data.encode()
    scratch = tmp_path / "scratch"
    records: list[xlsx_package.Deflated] = []
    with open(scratch, "w+b") as fh, ThreadPoolExecutor(2) as pool:
        fh.write(b"other members' streams")
        with x._deflated(pool, fh, records.append, depth=4) as sink:
            sink.write(payload)
    if not internals:
        original = xlsx_package._put_raw

        def half_then_fail(src_fh: object, offset: int, zinfo: object, out: zipfile.ZipFile):
            assert out.fp is not None
            out.fp.write(b"PK\x03\x04 half a header")
            raise AttributeError("'ZipFile' object has no attribute 'start_dir'")

        monkeypatch.setattr(xlsx_package, "_put_raw", half_then_fail)
    out = tmp_path / "out.zip"
    stamp = (2024, 5, 6, 7, 8, 10)
    with zipfile.ZipFile(out, "w") as zout, open(scratch, "rb") as fh:
        zout.writestr("first.xml", b"<a/>")
        xlsx_package.add_deflated(fh, records[0], zout, "xl/worksheets/sheet1.xml", stamp)
        zout.writestr("last.xml", b"<b/>")
    if not internals:
        monkeypatch.setattr(xlsx_package, "_put_raw", original)
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        assert zf.namelist() == ["first.xml", "xl/worksheets/sheet1.xml", "last.xml"]
        info = zf.getinfo("xl/worksheets/sheet1.xml")
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert info.date_time == stamp
        assert zf.read(info) == payload


# --------------------------------------------------------------------------- read ahead


def _zip_with(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "one.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("part.xml", data)
    return path


_KINDS_OF_DATA = {
    "random": random.Random(2).randbytes(300_000),
    "xml": b"".join(
        b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (n, n, n) for n in range(90_000)
    ),
    "one byte again and again": b"\0" * (12 * xlsx_package.CHUNK),  # a 1000-fold deflate
    "empty": b"",
}


@pytest.mark.parametrize("kind", list(_KINDS_OF_DATA))
@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_iter_chunks_yields_the_member_as_zipfile_reads_it(
    tmp_path: Path, kind: str, method: int
) -> None:
    data = _KINDS_OF_DATA[kind]
    path = tmp_path / "one.zip"
    with zipfile.ZipFile(path, "w", method) as zf:
        zf.writestr("first.xml", b"<a/>" * 1000)
        zf.writestr("xl/worksheets/\u8868.xml", data)  # a name in UTF-8
    with zipfile.ZipFile(path) as zf:
        for part in zf.namelist():
            chunks = list(xlsx_package.iter_chunks(zf, part))
            assert b"".join(chunks) == zf.read(part)
            assert all(0 < len(c) < 2 * xlsx_package.CHUNK for c in chunks)
            assert all(len(c) >= xlsx_package.CHUNK for c in chunks[:-1])
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as zf:  # a workbook in memory
        assert b"".join(xlsx_package.iter_chunks(zf, "xl/worksheets/\u8868.xml")) == data


def _damaged(tmp_path: Path, how: str) -> Path:
    data = _KINDS_OF_DATA["xml"]
    path = _zip_with(tmp_path, data)
    raw = bytearray(path.read_bytes())
    local, central = raw.index(b"PK\x03\x04"), raw.index(b"PK\x01\x02")
    if how == "crc":  # the same in both headers: only the data can tell
        for at in (local + 14, central + 16):
            raw[at] ^= 0x01
    elif how == "stream":
        raw[local + 30 + len("part.xml") + 200] ^= 0xFF
    elif how == "name":
        raw[local + 30] = ord("q")
    elif how == "truncated":  # half the stream gone, the directory moved up to follow it
        (size,) = struct.unpack("<I", raw[central + 20 : central + 24])
        start = local + 30 + len("part.xml")
        del raw[start + size // 2 : start + size]
        end = raw.index(b"PK\x05\x06")
        (directory,) = struct.unpack("<I", raw[end + 16 : end + 20])
        raw[end + 16 : end + 20] = struct.pack("<I", directory - (size - size // 2))
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize("how", ["crc", "stream", "name", "truncated"])
def test_iter_chunks_refuses_a_damaged_member_as_zipfile_does(tmp_path: Path, how: str) -> None:
    path = _damaged(tmp_path, how)
    with zipfile.ZipFile(path) as zf:
        with pytest.raises((zipfile.BadZipFile, zlib.error, EOFError)):
            zf.read("part.xml")
        with pytest.raises(zipfile.BadZipFile):
            list(xlsx_package.iter_chunks(zf, "part.xml"))


def test_read_ahead_yields_the_member(tmp_path: Path) -> None:
    data = random.Random(1).randbytes(3 * xlsx_package.CHUNK + 17)
    with zipfile.ZipFile(_zip_with(tmp_path, data)) as zf:
        chunks = list(x._read_ahead(zf, "part.xml"))
    assert b"".join(chunks) == data
    assert max(map(len, chunks)) < 2 * xlsx_package.CHUNK


def test_read_ahead_stopped_early_ends_its_thread(tmp_path: Path) -> None:
    data = b"<row/>" * (2 * xlsx_package.CHUNK)  # compresses well: many chunks queued at once
    with zipfile.ZipFile(_zip_with(tmp_path, data)) as zf:
        before = threading.active_count()
        reader = x._read_ahead(zf, "part.xml", depth=1)
        assert next(reader) == data[: xlsx_package.CHUNK]
        reader.close()
        assert threading.active_count() == before


def test_read_ahead_hands_over_errors(tmp_path: Path) -> None:
    path = _zip_with(tmp_path, b"<sheetData>" * 100_000)
    raw = bytearray(path.read_bytes())
    raw[60:80] = b"\xff" * 20  # damage the deflate stream
    path.write_bytes(bytes(raw))
    with zipfile.ZipFile(path) as zf, pytest.raises((zlib.error, zipfile.BadZipFile)):
        list(x._read_ahead(zf, "part.xml"))


# --------------------------------------------------------------------------- splicing


def _worksheet_open(pfx: str, before_data: str) -> str:
    """A worksheet's XML up to its `<sheetData>`, elements prefixed with `pfx`."""
    p = pfx + ":" if pfx else ""
    ns = f'xmlns{":" + pfx if pfx else ""}="{xlsx_package.NS_MAIN}"'
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{p}worksheet {ns}>'
        f"{before_data}<{p}sheetData>"
    )


def _plain_sheet(rng: random.Random, pfx: str, spans: bool, rows: int, gaps: bool) -> bytes:
    """Rows with references and end tags (no `<row/>`, no `<c>` without `r`): the regions
    `_Rows.splice` maps in bulk. Some rows are missing; cells in columns 1-6."""
    p = pfx + ":" if pfx else ""
    out = [_worksheet_open(pfx, f'<{p}dimension ref="A1:F{rows}"/>')]
    for r in range(1, rows + 1):
        if rng.random() < 0.1:
            continue
        span = f' spans="1:{rng.randint(3, 6)}"' if spans else ""
        cells = []
        for c in range(1, 7):
            if gaps and rng.random() < 0.3:
                continue
            ref = f"{xlsx_package.col_letters(c)}{r}"
            if rng.random() < 0.5:
                cells.append(
                    f'<{p}c r="{ref}" t="inlineStr"><{p}is><{p}t>v{r}</{p}t></{p}is></{p}c>'
                )
            else:
                cells.append(f'<{p}c r="{ref}" s="1"><{p}v>{r * c}</{p}v></{p}c>')
        out.append(f'<{p}row r="{r}"{span}>{"".join(cells)}</{p}row>')
    out.append(f'</{p}sheetData><{p}pageMargins left="0.7"/></{p}worksheet>')
    return "".join(out).encode()


def _clean_sheet(
    rng: random.Random, pfx: str, spans: bool, rows: int, base: int, cols: str = ""
) -> bytes:
    """Rows as Excel writes them (references on every row and cell, columns ascending), cells
    in columns `base + 1…8` of every kind a write may land on: inline and shared-string text,
    styled numbers, styled empty cells (`<c …/>`), plain formulas, an attribute of another
    kind; some rows and cells missing."""
    p = pfx + ":" if pfx else ""
    out = [_worksheet_open(pfx, cols)]
    for r in range(1, rows + 1):
        if rng.random() < 0.1:
            continue
        span = f' spans="{base + 1}:{base + 8}"' if spans else ""
        cells = []
        for c in range(base + 1, base + 9):
            if rng.random() < 0.3:
                continue
            ref = f"{xlsx_package.col_letters(c)}{r}"
            kind = rng.randrange(6)
            if kind == 0:
                cells.append(
                    f'<{p}c r="{ref}" t="inlineStr"><{p}is><{p}t>v{r}</{p}t></{p}is></{p}c>'
                )
            elif kind == 1:
                cells.append(f'<{p}c r="{ref}" s="1"><{p}v>{r * c}</{p}v></{p}c>')
            elif kind == 2:
                cells.append(f'<{p}c r="{ref}" s="2"/>')
            elif kind == 3:
                cells.append(f'<{p}c r="{ref}"><{p}f>A{r}*2</{p}f><{p}v>{2 * r}</{p}v></{p}c>')
            elif kind == 4:
                cells.append(f'<{p}c r="{ref}" t="s" ph="1"><{p}v>{r % 3}</{p}v></{p}c>')
            else:
                cells.append(f'<{p}c r="{ref}" s="1" t="n"><{p}v>{r}.5</{p}v></{p}c>')
        out.append(f'<{p}row r="{r}"{span}>{"".join(cells)}</{p}row>')
    out.append(f'</{p}sheetData><{p}pageMargins left="0.7"/></{p}worksheet>')
    return "".join(out).encode()


@pytest.mark.parametrize("dated", [False, True], ids=["values", "dates too"])
@pytest.mark.parametrize("seed", range(12))
def test_writes_onto_cells_splice_in_bulk_as_the_general_path(
    seed: int, dated: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later sync's usual write: values onto cells that exist, into gaps and after the
    last cell, hundreds of rows at a time: rewritten in the bulk path (`_Rows._overwrite`),
    byte for byte as `_patch_row` rewrites them, styles and the formulas-removed mark alike.
    A date onto a cell may add a date format, which must come in row order: with dates in
    date-formatted columns (the bulk path's batches), such a row goes through `_patch`."""
    rng = random.Random(1000 + seed)
    pfx = "x" if seed % 3 == 0 else ""
    rows = rng.randint(40, 300)
    base = 698 if seed % 4 == 3 else 0  # columns from ZW on: two letters, then three
    p = pfx + ":" if pfx else ""
    cols = f'<{p}cols><{p}col min="{base + 1}" max="{base + 9}" style="2"/></{p}cols>'
    xml = _clean_sheet(rng, pfx, spans=seed % 2 == 0, rows=rows, base=base, cols=cols)
    values = VALUES if dated else [v for v in VALUES if not isinstance(v, date)]
    cells = [
        CellWrite(r, c, rng.choice(values))
        for r in range(1, rows + 8)
        if rng.random() < 0.8
        for c in rng.sample(range(base + 1, base + 10), rng.randint(1, 3))
    ]
    overwrites: list[int] = []
    real = xlsx_splice._Rows._overwrite

    def spy(self: xlsx_splice._Rows, *args: Any) -> tuple[int, bytes]:
        overwrites.append(1)
        return real(self, *args)

    monkeypatch.setattr(xlsx_splice._Rows, "_overwrite", spy)
    assert_splices_as_the_general_path(xml, RowWrites(cells, "t"), rng.choice((61, 400, 1 << 20)))
    assert len(overwrites) > rows // (8 if dated else 2)  # the bulk path did the rewriting


VALUES: list[WritableValue] = [
    "达标",
    " padded ",
    "a\nb",
    7,
    -3,
    2.5,
    1e20,
    float("inf"),
    None,
    True,
    datetime(2026, 3, 4, 9, 30),
    date(2026, 3, 5),
    date(1899, 1, 1),
    datetime(2026, 3, 4, 9, 30, tzinfo=timezone(timedelta(hours=8))),
]


def _run(xml: bytes, writes: dict[int, dict[int, CellWrite]], step: int) -> tuple[bytes, bytes]:
    fast_styles, ref_styles = xlsx_styles.StyleBook(STYLES), xlsx_styles.StyleBook(STYLES)
    grouped = RowWrites([w for cols in writes.values() for w in cols.values()], "t")
    fast = xlsx_cells.SheetEdits("t", grouped, fast_styles, False)
    ref = _SlowEdits("t", grouped, ref_styles, False)
    out: list[bytes] = []
    xlsx_splice.patch_sheet(
        iter([xml[i : i + step] for i in range(0, len(xml), step)]), out.append, fast
    )
    reference = _reference_patch(xml, ref)
    assert fast_styles.render() == ref_styles.render()
    return b"".join(out), reference


@pytest.mark.parametrize("seed", range(10))
def test_bulk_splice_at_every_kind_of_chunk_boundary(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regions the bulk path maps never fall back, whatever the chunks cut: a row's start or
    end tag, a cell, `</sheetData>`. Writes go after the last cell, into gaps between cells,
    onto existing cells (through `_patch_row`), and into rows that do not exist."""
    rng = random.Random(seed)
    pfx = "x" if seed % 4 == 0 else ""
    rows = rng.randint(3, 80)
    xml = _plain_sheet(rng, pfx, spans=seed % 2 == 0, rows=rows, gaps=seed % 3 != 0)

    def no_fallback(self: object, region: bytes, last: bool) -> bytes:
        raise AssertionError("a region with references fell back to row by row")

    monkeypatch.setattr(xlsx_splice._Rows, "_slowly", no_fallback)
    writes: dict[int, dict[int, CellWrite]] = {}
    for r in range(1, rows + 5):
        if rng.random() < 0.4:
            continue
        for c in rng.sample(range(1, 10), rng.randint(1, 3)):
            writes.setdefault(r, {})[c] = CellWrite(r, c, rng.choice(VALUES))
    ends = [m.end() for m in re.finditer(rb"</?\w*:?(?:row|sheetData)\b", xml)]
    for step in sorted(
        {1, 5, 64, 999, len(xml)} | {max(1, e - rng.randint(0, 3)) for e in ends[:5]}
    ):
        fast, reference = _run(xml, writes, step)
        assert fast == reference, step


def test_regions_that_cannot_be_mapped_fall_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """Empty rows written `<row …/>`, a cell without `r`: row by row. (Rows without `r`:
    `test_xlsx.py::test_prefixed_sheet_and_rows_without_references`.)"""
    p = xlsx_package.NS_MAIN
    xml = (
        f'<worksheet xmlns="{p}"><sheetData>'
        '<row r="1"><c r="A1"><v>1</v></c></row>'
        '<row r="2" ht="30" customHeight="1"/>'
        '<row r="3"><c r="A3"><v>3</v></c></row>'
        '<row r="4"><c><v>4</v></c></row>'
        '<row r="6"><c r="A6"><v>6</v></c></row>'
        "</sheetData></worksheet>"
    ).encode()
    calls: list[bytes] = []
    slowly = xlsx_splice._Rows._slowly

    def spy(self: xlsx_splice._Rows, region: bytes, last: bool) -> bytes:
        calls.append(region)
        return slowly(self, region, last)

    monkeypatch.setattr(xlsx_splice._Rows, "_slowly", spy)
    writes = {r: {2: CellWrite(r, 2, f"w{r}")} for r in (1, 2, 3, 4, 5, 6, 9)}
    fast, reference = _run(xml, writes, len(xml))
    assert fast == reference
    assert calls
    assert b'<c r="B3" t="inlineStr"><is><t>w3</t></is></c>' in fast
    assert fast.index(b'<row r="5">') < fast.index(b'<row r="6"')
    assert fast.index(b'<row r="9">') < fast.index(b"</sheetData>")


# --------------------------------------------------------------------------- cell rendering


FRAMED: list[WritableValue] = [
    0,
    7,
    -3,
    10**20,
    2.5,
    0.1,
    -0.0,
    3.0,
    1e15,
    1e-7,
    float("nan"),
    float("inf"),
    float("-inf"),
    datetime(2026, 3, 4, 9, 30, 15, 250),
    datetime(1900, 2, 28, 12),
    datetime(1900, 3, 1),
    datetime(1899, 12, 31, 6),
    datetime(1899, 1, 1),
    datetime(2026, 3, 4, 9, 30, tzinfo=timezone(timedelta(hours=8))),
    datetime(2026, 3, 4, 1, 30, tzinfo=UTC),
    date(2026, 3, 5),
    date(1900, 1, 1),
    date(1800, 1, 1),
]


@pytest.mark.parametrize("date1904", [False, True])
@pytest.mark.parametrize("pfx", [b"", b"x:"])
def test_framed_numbers_and_dates_render_as_the_general_path(date1904: bool, pfx: bytes) -> None:
    fast = xlsx_cells.SheetEdits(
        "t", RowWrites([], "t"), xlsx_styles.StyleBook(STYLES), date1904, pfx=pfx
    )
    ref = xlsx_cells.SheetEdits(
        "t", RowWrites([], "t"), xlsx_styles.StyleBook(STYLES), date1904, pfx=pfx
    )
    fast.col_styles = ref.col_styles = {3: 1}
    fast.like_styles = ref.like_styles = {(1, 1): 2}
    for value in FRAMED * 2:  # the second time from the frames made the first
        for col, like in ((2, None), (3, None), (4, (1, 1))):
            write = CellWrite(5, col, value, style_like=like)
            assert fast.tail(write) == ref._new_tail(ref._base(write), value), (value, col)
    assert fast.styles.render() == ref.styles.render()


def test_inline_text_preserves_space_only_where_it_matters() -> None:
    assert xlsx_cells.inline("达标") == "<is><t>达标</t></is>"
    assert xlsx_cells.inline("a  b\nc") == "<is><t>a  b\nc</t></is>"
    assert xlsx_cells.inline("") == "<is><t></t></is>"
    for text in (" a", "a ", "\ta", "a\n", "\u3000全角", "a\r"):
        assert xlsx_cells.inline(text).startswith('<is><t xml:space="preserve">'), repr(text)


def test_texts_with_and_without_preserve_read_back(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "t.xlsx", {"S": '<sheetData><row r="1"/></sheetData>'})
    texts = ["达标", " lead", "trail ", "a  b", "two\nlines", "\u3000x", "x\t", "&<>"]
    plan = WritePlan(
        cells={"S": [CellWrite(1, i + 1, t) for i, t in enumerate(texts)]},
        tabs=[TabWrite("Issues", (tuple(texts),))],
    )
    apply_plan(path, plan)
    book = {s.name: s.rows for s in read_workbook(path).sheets}
    assert book["S"][0] == texts
    assert book["Issues"][0] == texts


# --------------------------------------------------------------------------- grouping


def test_row_writes_refuse_cells_outside_the_sheet() -> None:
    ok = [CellWrite(1, 1, "a"), CellWrite(MAX_ROWS, MAX_COLS, "b"), CellWrite(1, 2, "c")]
    assert RowWrites(ok, "S") == {1: {1: ok[0], 2: ok[2]}, MAX_ROWS: {MAX_COLS: ok[1]}}
    for bad in ((0, 1), (1, 0), (MAX_ROWS + 1, 1), (1, MAX_COLS + 1)):
        with pytest.raises(SalesyncError, match=rf"S: cell \({bad[0]}, {bad[1]}\) is outside"):
            RowWrites([*ok, CellWrite(*bad, "x")], "S")


def test_dimension_bounds_skip_writes_of_none() -> None:
    def grouped(cells: list[tuple[int, int, WritableValue]]) -> RowWrites:
        return RowWrites([CellWrite(r, c, v) for r, c, v in cells], "S")

    assert grouped([(1, 1, None)]).live_bounds() is None
    cells = [(2, 5, None), (3, 2, "a"), (9, 4, 1), (9, 1, None), (12, 7, None), (11, 6, 0)]
    assert grouped(cells).live_bounds() == (3, 2, 11, 6)
    rng = random.Random(3)
    for _ in range(200):
        cells = [
            (rng.randint(1, 30), rng.randint(1, 30), rng.choice([None, "v"]))
            for _ in range(rng.randint(1, 40))
        ]
        g = grouped(cells)
        live = [(r, c) for r, cols in g.items() for c, w in cols.items() if w.value is not None]
        expected = None
        if live:
            rows, cols_ = [r for r, _ in live], [c for _, c in live]
            expected = (min(rows), min(cols_), max(rows), max(cols_))
        assert g.live_bounds() == expected


# --------------------------------------------------------------------------- reading


def _error_sheet(n: int) -> str:
    rows = [
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>t{n}-{r}</t></is></c>'
        f'<c r="B{r}"><f>A{r}*2</f><v>{r}</v></c><c r="C{r}" t="e"><v>#N/A</v></c></row>'
        for r in range(1, 40 * n)
    ]
    return f"<sheetData>{''.join(rows)}</sheetData>"


def test_parallel_read_equals_reading_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_xlsx(tmp_path / "many.xlsx", {f"T{n}": _error_sheet(n) for n in range(1, 7)})
    monkeypatch.setattr(x.os, "cpu_count", lambda: 1)
    one = read_workbook(path)
    monkeypatch.setattr(x.os, "cpu_count", lambda: 4)
    many = read_workbook(path)
    assert many == one
    assert [s.name for s in many.sheets] == [f"T{n}" for n in range(1, 7)]
    assert (3, 2) in many.sheets[0].formulas
    assert many.sheets[5].rows[2][2] == ExcelError("#N/A")


def test_parallel_read_of_the_rich_workbook(
    rich: Path,  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(x.os, "cpu_count", lambda: 1)
    one = read_workbook(rich)
    monkeypatch.setattr(x.os, "cpu_count", lambda: 3)
    assert read_workbook(rich) == one


def test_parallel_read_reports_a_damaged_tab(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_xlsx(
        tmp_path / "bad.xlsx",
        {"Good": _error_sheet(1), "Bad": "<sheetData><row r='1'><c r='A1'><v>1</v></row>"},
    )
    monkeypatch.setattr(x.os, "cpu_count", lambda: 2)
    with pytest.raises(WorkbookUnreadable, match=r"bad\.xlsx"):
        read_workbook(path)


def test_written_workbook_round_trips_through_the_pipeline(tmp_path: Path) -> None:
    """Several big members through the pool at once: each reads back as written."""
    path = make_xlsx(tmp_path / "big.xlsx", {"A": _error_sheet(30), "B": _error_sheet(20)})
    rng = random.Random(5)
    cells = {
        name: [CellWrite(r, 4, rng.choice(["达标", "超时", 3, 2.5])) for r in range(1, n)]
        for name, n in (("A", 1200), ("B", 800))
    }
    rows = tuple((f"issue {i}", i, f"row {i}") for i in range(60_000))
    apply_plan(path, WritePlan(cells=cells, tabs=[TabWrite("Issues", (("h", "n", "w"), *rows))]))
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
    book = {s.name: s for s in read_workbook(path).sheets}
    for name, writes in cells.items():
        for w in writes:
            got = book[name].rows[w.row - 1][w.col - 1]
            assert got == w.value or (isinstance(w.value, float) and math.isclose(got, w.value))
    assert book["Issues"].rows[-1] == ["issue 59999", 59999, "row 59999"]
    assert members(path)["xl/workbook.xml"].count(b"<sheet ") == 3


@pytest.mark.parametrize(
    "data",
    [
        "<sheetData></sheetData>",
        "<sheetData>\n  </sheetData>",
        '<sheetData><row r="2"/></sheetData>',
        '<sheetData><row r="9"><c r="A9"><v>1</v></c></row></sheetData>',
    ],
)
@pytest.mark.parametrize("step", [1, 3, 1 << 20])
def test_sheet_data_with_no_row_to_patch(data: str, step: int) -> None:
    """Every write lands even where `</sheetData>` starts a region or ends the first chunk."""
    xml = (
        f'<worksheet xmlns="{xlsx_package.NS_MAIN}">{data}<pageMargins left="0.7"/></worksheet>'
    ).encode()
    writes = {r: {c: CellWrite(r, c, f"v{r}{c}") for c in (1, 3)} for r in (1, 2, 5)}
    fast, reference = _run(xml, writes, step)
    assert fast == reference
    assert fast.count(b"<c r=") == 6 + data.count("<c r=")


def test_parallel_read_returns_the_threads_freed_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_xlsx(tmp_path / "two.xlsx", {"A": _error_sheet(2), "B": _error_sheet(3)})
    calls: list[None] = []
    release = xlsx_read._release_freed_memory
    monkeypatch.setattr(xlsx_read, "_release_freed_memory", lambda: calls.append(release()))
    monkeypatch.setattr(x.os, "cpu_count", lambda: 1)
    read_workbook(path)
    assert calls == []  # one workbook, read on this thread: nothing to hand back
    monkeypatch.setattr(x.os, "cpu_count", lambda: 2)
    read_workbook(path)
    assert calls == [None]


# --------------------------------------------------------------------------- reuse


def _numbered_sheet(rows: int) -> str:
    return (
        "<sheetData>"
        + "".join(
            f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>lead {r}</t></is></c>'
            f'<c r="B{r}"><v>{r * 7}</v></c></row>'
            for r in range(1, rows + 1)
        )
        + "</sheetData>"
    )


@pytest.mark.parametrize("read", [1, 3, 5, 1 << 17])
def test_the_reader_records_the_segments_the_writer_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read: int
) -> None:
    """`iter_chunks` finds, by their flush marks, the segments a member was deflated in: by
    the length and CRC-32 of their bytes, where their compressed bytes lie in the file; a
    mark read in two pieces too."""
    monkeypatch.setattr(x, "_SEGMENT", 20_000)
    path = make_xlsx(tmp_path / "s.xlsx", {"S": _numbered_sheet(5000)})
    apply_plan(path, WritePlan(cells={"S": [CellWrite(r, 3, "x") for r in range(1, 5001)]}))
    blocks = _segments_of(members(path)["xl/worksheets/sheet1.xml"], [1 << 20], monkeypatch)
    assert len(blocks) == 6  # cut before rows 1000, 2000 … 5000
    monkeypatch.setattr(xlsx_package, "_COMPRESSED_CHUNK", read)
    segments: xlsx_package.Segments = {}
    with zipfile.ZipFile(path) as zf:
        data = b"".join(xlsx_package.iter_chunks(zf, "xl/worksheets/sheet1.xml", segments))
    assert data == b"".join(blocks)
    assert set(segments) == {(len(b), zlib.crc32(b)) for b in blocks[:-1]}
    raw = path.read_bytes()
    for block in blocks[:-1]:
        at, size = segments[len(block), zlib.crc32(block)]
        assert zlib.decompressobj(-15).decompress(raw[at : at + size]) == block


def test_a_stream_flushed_often_is_read_a_chunk_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sheet whose deflate stream is flushed often (LibreOffice flushes its sheets every
    130 kB of XML or so) still reaches the splicer `CHUNK` or more at a time, not a small chunk
    per flushed piece, while every piece is recorded as a segment."""
    monkeypatch.setattr(x, "_SEGMENT", 12_000)  # cut before every thousandth row: ~150 kB
    rows = 60_000
    path = make_xlsx(tmp_path / "s.xlsx", {"S": _numbered_sheet(rows)})
    apply_plan(path, WritePlan(cells={"S": [CellWrite(r, 3, "x") for r in range(1, rows + 1)]}))
    segments: xlsx_package.Segments = {}
    with zipfile.ZipFile(path) as zf:
        chunks = list(xlsx_package.iter_chunks(zf, "xl/worksheets/sheet1.xml", segments))
        assert b"".join(chunks) == zf.read("xl/worksheets/sheet1.xml")
    assert len(b"".join(chunks)) > 3 * xlsx_package.CHUNK
    assert len(segments) == rows // 1000  # cut before rows 1000, 2000 … 60000: each piece recorded
    assert all(xlsx_package.CHUNK <= len(c) < 2 * xlsx_package.CHUNK for c in chunks[:-1])
    assert 0 < len(chunks[-1]) < 2 * xlsx_package.CHUNK


def test_the_next_write_copies_the_segments_that_did_not_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sheet written before by salesync, written again with a few cells changed near its
    end: the segments before them are copied, not compressed again, and the file is the
    same, byte for byte, as compressing every segment would make it."""
    monkeypatch.setattr(x, "_SEGMENT", 20_000)
    monkeypatch.setattr(x, "_MAX_SEGMENT", 200_000)
    path = make_xlsx(tmp_path / "s.xlsx", {"S": _numbered_sheet(6000), "T": _numbered_sheet(9)})
    first = [CellWrite(r, 3, "达标" if r % 3 else r) for r in range(1, 6001)]
    apply_plan(path, WritePlan(cells={"S": first}))
    later = [CellWrite(r, 3, "超时") for r in range(5990, 6001)] + [CellWrite(2, 4, 1)]
    plan = WritePlan(cells={"S": later, "T": [CellWrite(1, 1, "new")]})

    calls: list[bool] = []
    original = x._reused

    def spy(block: bytes, path_: str, at: int, size: int) -> bytes | None:
        got = original(block, path_, at, size)
        calls.append(got is not None)
        return got

    monkeypatch.setattr(x, "_reused", spy)
    apply_plan(path, plan, out=tmp_path / "reused.xlsx")
    monkeypatch.setattr(x, "_reused", lambda *args: None)
    apply_plan(path, plan, out=tmp_path / "compressed.xlsx")
    assert (tmp_path / "reused.xlsx").read_bytes() == (tmp_path / "compressed.xlsx").read_bytes()
    # cut before rows 1000 … 6000: the first segment (row 2 changed), the one of rows 5000-5999
    # and the last are compressed again, the 4 between copied (the tab T was written by
    # hand: nothing to copy)
    blocks = _segments_of(members(path)["xl/worksheets/sheet1.xml"], [1 << 20], monkeypatch)
    assert len(blocks) == 7
    assert calls == [True] * 4
    book = {s.name: s.rows for s in read_workbook(tmp_path / "reused.xlsx").sheets}
    assert [r[2] for r in book["S"]] == [
        "超时" if r >= 5990 else ("达标" if r % 3 else r) for r in range(1, 6001)
    ]
    assert book["S"][1][3] == 1
    assert book["T"][0][0] == "new"
