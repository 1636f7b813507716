"""benchmarks/bench.py records how much of the machine other processes took during each
measurement, so that figures taken on a busy shared machine are reported as such."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.backends.test_read_fast_sync import bench

BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < {s}: pass"

pytestmark = pytest.mark.skipif(
    not Path("/proc/stat").exists(), reason="the machine's CPU time is read from /proc/stat"
)


def test_a_process_busy_meanwhile_is_counted_as_others() -> None:
    cores = os.cpu_count() or 1
    other = subprocess.Popen([sys.executable, "-c", BURN.format(s=3)])
    try:
        time.sleep(0.5)  # the other process has started
        before = bench().CpuSample.now()
        time.sleep(1.5)
        share = before.contention(bench().CpuSample.now())
    finally:
        other.kill()
        other.wait()
    assert share is not None
    # one core of `cores` busy throughout (a little less while the machine serves others)
    assert 0.7 / cores <= share["others"] <= 1.0
    assert 0.0 <= share["steal"] <= 1.0


def test_the_measurements_own_processes_are_not_others() -> None:
    cores = os.cpu_count() or 1
    before = bench().CpuSample.now()
    subprocess.run([sys.executable, "-c", BURN.format(s=1.5)], check=True)
    share = before.contention(bench().CpuSample.now())
    assert share is not None
    # the waited-for child's 1.5 s of CPU is the measurement's own: counted as others it
    # would be about 1 / cores of the machine
    assert share["others"] < 0.4 / cores


def test_disturbed_measurements_are_named_where_they_are() -> None:
    calm, busy = {"others": 0.01, "steal": 0.0}, {"others": 0.31, "steal": 0.02}
    report = {
        "results": [
            {"check": {"seconds": 1.0, "contention": calm}},
            {"run": {"seconds": 2.0, "contention": busy}, "later": {"run": {"contention": calm}}},
        ],
        "google": [{"seconds": 3.0, "contention": {"others": 0.0, "steal": 0.12}}],
    }
    assert bench().disturbed(report) == [
        "results[1].run: others 31%, stolen 2%",
        "google[0]: others 0%, stolen 12%",
    ]
