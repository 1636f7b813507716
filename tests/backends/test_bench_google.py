"""benchmarks/bench.py's Google measurement, run as the benchmark runs it: a fresh process
syncs a generated workbook through the real gspread and google-auth against the loopback
Sheets API server, which runs in a process of its own so that the sync's peak memory is its
own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sync.backends.xlsx import XlsxBackend
from sync.core.schema import ISSUES, Lang
from sync.job import sync_workbook
from tests.backends.test_read_fast_sync import ROOT, bench

FOLLOW_UPS = 1_000


def test_google_measurement_syncs_through_a_server_in_its_own_process(tmp_path: Path) -> None:
    book = tmp_path / "bench.xlsx"
    rows = bench().generate(book, FOLLOW_UPS)

    script = ROOT / "benchmarks" / "bench.py"
    done = subprocess.run(
        [sys.executable, str(script), "--measure", "google", "--path", str(book)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    google = json.loads(done.stdout)

    # the same plan as the local sync of the same workbook: the same cells written
    local = sync_workbook(XlsxBackend(book), write=False, as_of=bench().AS_OF)
    assert google["cells_written"] == sum(len(c) for c in local.plan.cells.values()) > 0
    # one read of the metadata, the values in two batches, the writes in one batch update
    assert google["calls"] == {"get": 1, "values:batchGet": 2, "batchUpdate": 1}
    assert google["requests"] == 4 and google["retries"] == 0
    assert google["token_requests"] == 1
    assert google["bytes_sent"] > 0 and google["bytes_received"] > 0
    before, after = google["tabs_before"], google["tabs_after"]
    for tab, table in bench().TABS.items():
        assert before[tab][0] == rows[table] + 1  # the header row and the data
        assert after[tab][0] == before[tab][0]  # no row added or lost
        assert after[tab][1] >= before[tab][1]  # owned columns added at the right
    assert ISSUES.title(Lang.ZH_HANS) in after and ISSUES.title(Lang.ZH_HANS) not in before
    assert google["cells_after"] > google["cells_before"]
    # the peaks are measured apart: each process's own
    assert google["peak_rss_mb"] > 0 and google["server_peak_rss_mb"] > 0
