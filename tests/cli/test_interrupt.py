"""Ctrl-C during a sync: the command stops at once, says what it left behind, and leaves the
workbook as it was (or, once the file is replaced, fully synced) and no file of its own.

The commands run in processes of their own through the console entry point, with one step made
to take a minute: a sheet's parse in a reader's thread (native code the signal cannot stop, as
fastexcel's parse of a big sheet is), or the write just before the file would be replaced.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sync import cli as command
from sync import job
from sync.backends import xlsx_read
from sync.demo import build_demo_workbook
from tests.conftest import CliResult

pytestmark = pytest.mark.skipif(os.name != "posix", reason="sends SIGINT, as Ctrl-C does")

STALLED = """
import signal, sys, time, pathlib
signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
stalled = pathlib.Path(sys.argv[1])
step = sys.argv[2]
sys.argv = ["salesync", *sys.argv[3:]]
if step == "read":
    import sync.backends.xlsx_read as reader

    def parse(book, name):  # in a reader's thread, holding no lock, as a native parse does
        stalled.touch()
        time.sleep(60)

    reader._read_grid = parse
else:
    import sync.backends.xlsx as xlsx
    rewrite = xlsx._rewrite

    def write(*args):  # the whole package in the temporary file, not yet in its place
        rewrite(*args)
        stalled.touch()
        time.sleep(60)

    xlsx._rewrite = write
from sync.cli import entry
entry()
"""


def _interrupted(tmp_path: Path, step: str, *args: str) -> tuple[subprocess.Popen[str], float]:
    """`salesync ARGS…` stopped by SIGINT once it is stalled in `step`: the process, and the
    seconds from the signal to its end."""
    stalled = tmp_path / "stalled"
    proc = subprocess.Popen(
        [sys.executable, "-c", STALLED, str(stalled), step, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not stalled.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the step never started"
        time.sleep(0.02)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=50)  # well before the stalled step's minute is up
    return proc, time.monotonic() - sent


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    path = tmp_path / "book" / "demo.xlsx"
    path.parent.mkdir()
    build_demo_workbook(path)
    return path


def test_ctrl_c_while_a_sheet_is_parsed_ends_at_once_and_writes_nothing(
    tmp_path: Path, demo: Path
) -> None:
    before = demo.read_bytes()
    proc, seconds = _interrupted(tmp_path, "read", "run", str(demo), "--as-of", "2026-11-20")
    assert proc.returncode == command.INTERRUPTED == 130
    assert proc.stderr.read().strip() == "salesync: interrupted while reading: nothing was written"
    assert seconds < 20  # not the parse's minute
    assert demo.read_bytes() == before
    assert sorted(p.name for p in demo.parent.iterdir()) == ["demo.xlsx"]


def test_ctrl_c_while_writing_leaves_the_workbook_as_it_was_and_no_file_behind(
    tmp_path: Path, demo: Path
) -> None:
    before = demo.read_bytes()
    proc, seconds = _interrupted(tmp_path, "write", "run", str(demo), "--as-of", "2026-11-20")
    assert proc.returncode == 130
    said = proc.stderr.read()
    assert f"interrupted while writing: {demo} is as it was or fully synced" in said
    assert seconds < 20
    assert demo.read_bytes() == before  # the temporary file was not yet in its place
    assert sorted(p.name for p in demo.parent.iterdir()) == ["demo.xlsx"]


def test_ctrl_c_waits_for_a_temporary_copy_to_be_removed(tmp_path: Path) -> None:
    # a tab holding #SPILL! is read from a copy in the temporary folder: while a thread reads
    # one, the interrupted command waits for it to be removed rather than leave it behind
    assert not command._copies_being_read()
    with xlsx_read._being_read(tempfile.TemporaryDirectory(dir=tmp_path)) as folder:
        assert Path(folder).is_dir() and command._copies_being_read()
    assert not Path(folder).exists() and not command._copies_being_read()


@pytest.mark.parametrize(
    ("step", "target", "excel", "said"),
    [
        ("read", "book.xlsx", False, "interrupted while reading: nothing was written"),
        ("check", "book.xlsx", False, "interrupted while checking: nothing was written"),
        ("write", "book.xlsx", False, "book.xlsx is as it was or fully synced"),
        ("write", "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", False, "may be partly done"),
        ("write", None, True, "the workbook is not saved"),
        ("done", "book.xlsx", False, "interrupted after the sync had finished"),
    ],
)
def test_what_an_interrupt_says_follows_the_step_and_the_target(
    step: str, target: str | None, excel: bool, said: str
) -> None:
    assert said in command._interrupted(step, target, excel)


def test_ctrl_c_in_process_is_exit_130_with_the_line(
    cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch, demo: Path
) -> None:
    def stopped(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(job, "check_workbook", stopped)
    done = cli("run", str(demo), "--as-of", "2026-11-20")
    assert done.code == 130 and done.stdout == ""
    assert done.stderr.strip() == "salesync: interrupted while checking: nothing was written"
