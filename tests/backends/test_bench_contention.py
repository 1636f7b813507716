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


def test_the_measurements_own_processes_are_its_own() -> None:
    before = bench().CpuSample.now()
    subprocess.run([sys.executable, "-c", BURN.format(s=1.5)], check=True)
    after = bench().CpuSample.now()
    # the waited-for child's CPU time is counted as the measurement's own, to the tick
    assert after.own - before.own >= 1.45
    assert after.busy is not None and before.busy is not None
    assert after.busy - before.busy >= 1.4  # and the machine saw it busy


def test_others_are_the_machines_busy_time_less_the_measurements() -> None:
    sample = bench().CpuSample
    before = sample(wall=100.0, busy=50.0, steal=1.0, own=2.0)
    # 4 s on 2 cores: 8 s of CPU; the machine busy 5 s of it, 3 s the measurement's own
    after = sample(wall=104.0, busy=55.0, steal=1.4, own=5.0)
    assert before.contention(after, cores=2) == {"others": 0.25, "steal": 0.05}
    # the measurement alone: nobody else
    alone = sample(wall=104.0, busy=53.0, steal=1.0, own=5.0)
    assert before.contention(alone, cores=2) == {"others": 0.0, "steal": 0.0}
    assert before.contention(sample(104.0, None, None, 5.0), cores=2) is None  # off Linux


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
