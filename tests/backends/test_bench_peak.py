"""benchmarks/bench.py reports each measurement's own peak memory, not that of the process that
started it (Linux keeps the starting process's resident size in `ru_maxrss` across exec)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backends.test_read_fast_sync import bench

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="the peak is read from /proc/self/status"
)


def test_a_measurements_peak_is_its_own(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    bench().generate(book, 300, seed=3)
    alone = bench()._subprocess("read", book)["peak_rss_mb"]
    held = bytearray(b"\x01") * (700 << 20)  # 700 MiB resident in this process meanwhile
    try:
        beside = bench()._subprocess("read", book)["peak_rss_mb"]
    finally:
        del held
    assert 0 < beside < 400  # a fresh interpreter reading a small workbook
    assert abs(beside - alone) < 50
