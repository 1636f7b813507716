"""benchmarks/bench.py --repeat: the measurements the targets compare, taken round after round,
each reported as its median measurement, with every round's own ratios beside."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.backends.test_read_fast_sync import bench


def test_the_median_is_a_measurement_as_taken() -> None:
    found = [{"seconds": s, "peak_rss_mb": p} for s, p in ((3.0, 30), (1.0, 10), (2.0, 20))]
    assert bench()._median(found) == {"seconds": 2.0, "peak_rss_mb": 20}
    assert bench()._median(found[:2]) == {"seconds": 1.0, "peak_rss_mb": 10}  # the faster middle
    assert bench()._median(found[:1]) == found[0]


def test_a_rounds_ratios_are_its_own() -> None:
    r = {
        "check": {"seconds": 6.0},
        "run": {"seconds": 10.0},
        "read": {"seconds": 3.0},
        "rezip": {"seconds": 2.0},
    }
    summary = bench()._round_summary(r)
    assert summary == {
        "check": 6.0,
        "run": 10.0,
        "read": 3.0,
        "rezip": 2.0,
        "run_to_floor": 2.0,
        "check_to_read": 2.0,
    }
    other = bench()._round_summary({**r, "read": {"seconds": 4.0}})
    line = bench()._rounds_line({"follow_ups": 1000, "rounds": [summary, other]})
    assert line == (
        "1,000 follow-ups, 2 rounds: check 6.00–6.00 s, run 10.00–10.00 s, read 3.00–4.00 s, "
        "rezip 2.00–2.00 s, run_to_floor 1.67–2.00×, check_to_read 1.50–2.00×"
    )


def test_a_round_syncs_a_fresh_copy_and_rezips_what_it_changed(tmp_path: Path) -> None:
    book, target = tmp_path / "book.xlsx", tmp_path / "run.xlsx"
    bench().generate(book, 300, seed=3)
    before = book.read_bytes()
    target.write_bytes(b"not a workbook: the round copies the book over it")
    r = bench()._round(book, target)
    assert set(r) == {"check", "run", "read", "rezip"}
    assert all(m["seconds"] > 0 for m in r.values())
    assert book.read_bytes() == before  # measured, never written
    assert r["run"]["changed_sheets"]  # the first sync writes owned cells
    with zipfile.ZipFile(target) as synced, zipfile.ZipFile(book) as original:
        changed = [
            n for n in original.namelist() if synced.read(n) != original.read(n)
        ]  # the tabs the sync wrote, in the synced copy
    assert changed
