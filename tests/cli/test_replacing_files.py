"""The commands that create workbooks (`init --force`, `demo`, `template`) never destroy a file
someone filled in: a file is replaced in one step or not at all, `demo` replaces only a demo
workbook and `template` only a template file that is still the template, unless --force."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from sync import job
from sync.backends.xlsx_package import replacing
from sync.core.errors import WorkbookLocked
from sync.core.schema import LANGS, Lang
from sync.demo import build_demo_workbook, is_demo_workbook
from sync.templates import TEMPLATE_FILES, extras, template_bytes, write_template
from tests.backends.test_xlsx import dir_listing
from tests.conftest import CliResult

Cli = Callable[..., CliResult]


def test_a_replacement_that_fails_leaves_the_file_as_it_was_and_nothing_beside_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"what the team typed")
    with pytest.raises(RuntimeError), replacing(path) as fh:
        fh.write(b"half a workbook")
        raise RuntimeError("the disk is full")
    assert path.read_bytes() == b"what the team typed"
    assert dir_listing(tmp_path) == ["book.xlsx"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_replaced_file_keeps_its_permissions_and_a_new_one_gets_the_umask(
    tmp_path: Path,
) -> None:
    old = tmp_path / "old.xlsx"
    old.write_bytes(b"x")
    old.chmod(0o640)
    with replacing(old) as fh:
        fh.write(b"new")
    assert old.read_bytes() == b"new" and stat.S_IMODE(old.stat().st_mode) == 0o640
    umask = os.umask(0o027)
    try:
        with replacing(tmp_path / "new.xlsx") as fh:
            fh.write(b"new")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.xlsx").stat().st_mode) == 0o640
    assert dir_listing(tmp_path) == ["new.xlsx", "old.xlsx"]


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0, reason="giving a file to another user takes root"
)
def test_a_replaced_file_keeps_its_owner_and_group(tmp_path: Path) -> None:
    path = tmp_path / "shared.xlsx"
    path.write_bytes(b"a teammate's workbook")
    os.chown(path, 4321, 4322)
    with replacing(path) as fh:
        fh.write(b"synced")
    found = path.stat()
    assert (found.st_uid, found.st_gid) == (4321, 4322) and path.read_bytes() == b"synced"


def test_a_workbook_open_in_excel_is_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"open")
    (tmp_path / "~$book.xlsx").write_bytes(b"lock")
    with pytest.raises(WorkbookLocked, match="open in Excel"), replacing(path) as fh:
        fh.write(b"new")
    assert path.read_bytes() == b"open"


def test_init_force_that_fails_part_way_leaves_the_file_as_it_was(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pipeline.xlsx"
    path.write_bytes(b"a filled-in workbook")

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(extras, "write_dashboard", broken)
    failed = cli("init", str(path), "--force")
    assert failed.code == 2
    assert failed.stderr == (
        f"salesync: error: {path}: no room to write it (No space left on device): the new "
        f"workbook is written beside the old one before it takes its place; make room in "
        f"{tmp_path} and run again (pipeline.xlsx is as it was)\n"
    )
    assert path.read_bytes() == b"a filled-in workbook"
    assert dir_listing(tmp_path) == ["pipeline.xlsx"]


def test_init_force_replaces_the_file_with_the_template(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "pipeline.xlsx"
    path.write_bytes(b"a filled-in workbook")
    assert cli("init", str(path), "--force", "--lang", "en").code == 0
    assert path.read_bytes() == template_bytes(Lang.EN)
    assert dir_listing(tmp_path) == ["pipeline.xlsx"]


def test_demo_refuses_to_replace_a_workbook_it_did_not_write(cli: Cli, tmp_path: Path) -> None:
    path = write_template(tmp_path / "pipeline.xlsx", Lang.ZH_HANS)
    before = path.read_bytes()
    refused = cli("demo", "--out", str(path))
    assert refused.code == 2 and refused.stdout == ""
    assert refused.stderr == (
        f"salesync: error: {path} already exists and is not a workbook salesync demo wrote; "
        "pass --force to replace it, or choose another --out\n"
    )
    assert path.read_bytes() == before and not is_demo_workbook(path)
    assert cli("demo", "--out", str(path), "--force").code == 0
    assert is_demo_workbook(path)


def test_demo_replaces_its_own_workbook_synced_or_not(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "salesync-demo.xlsx"
    build_demo_workbook(path)
    assert is_demo_workbook(path)
    assert cli("demo", "--out", str(path)).code == 0  # replaced, then synced
    assert is_demo_workbook(path)  # the sync keeps the document's properties
    assert cli("demo", "--out", str(path)).code == 0
    assert dir_listing(tmp_path) == ["salesync-demo.xlsx"]


def test_a_file_that_is_not_a_workbook_is_not_a_demo(tmp_path: Path) -> None:
    (tmp_path / "notes.xlsx").write_text("not a zip")
    assert not is_demo_workbook(tmp_path / "notes.xlsx")
    assert not is_demo_workbook(tmp_path / "missing.xlsx")


def test_template_refuses_to_replace_a_filled_in_template(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "t"
    assert cli("template", "--out", str(out)).code == 0
    stamps = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.iterdir()}
    assert cli("template", "--out", str(out)).code == 0  # the same bytes: nothing to refuse
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.iterdir()} == stamps
    filled = out / TEMPLATE_FILES[Lang.EN]
    filled.write_bytes(filled.read_bytes() + b"\0")  # a template someone went on to fill in
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    refused = cli("template", "--out", str(out))
    assert refused.code == 2
    assert refused.stderr == (
        f"salesync: error: {out}: {filled.name} differs from the template salesync writes "
        "(filled in or edited, or from another version): pass --force to replace them, or "
        "choose another --out\n"
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # none written
    assert cli("template", "--out", str(out), "--force").code == 0
    assert filled.read_bytes() == template_bytes(Lang.EN)
    assert dir_listing(out) == sorted(TEMPLATE_FILES[lang] for lang in LANGS)


def test_a_sync_that_cannot_write_beside_the_workbook_says_so_in_one_line(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a folder where the file may be changed but no file created (a shared folder's rights)
    path = tmp_path / "demo.xlsx"
    build_demo_workbook(path)
    before = path.read_bytes()

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(tmp_path / ".~salesync-demo.xlsx-1"))

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", denied)
    done = cli("run", str(path), "--as-of", "2026-11-20T18:00", "--fail-on", "never")
    assert done.code == 2 and "Traceback" not in done.stderr
    assert done.stderr.endswith(
        f"salesync: error: {path}: cannot write it ([Errno 13] Permission denied: "
        f"'{tmp_path / '.~salesync-demo.xlsx-1'}'); demo.xlsx is as it was\n"
    )
    assert path.read_bytes() == before and dir_listing(tmp_path) == ["demo.xlsx"]


def test_a_sync_writes_nothing_into_a_workbook_saved_meanwhile(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "demo.xlsx"
    build_demo_workbook(path)
    check = job.check_workbook

    def saved_meanwhile(*args: Any, **kwargs: Any) -> Any:
        result = check(*args, **kwargs)
        other = openpyxl.load_workbook(path)  # a colleague's save, while the sync runs
        other.active["A2"] = "L-NEW"
        other.save(path)
        return result

    monkeypatch.setattr(job, "check_workbook", saved_meanwhile)
    done = cli("run", str(path), "--as-of", "2026-11-20T18:00", "--fail-on", "never")
    assert done.code == 2 and done.stdout == ""
    assert done.stderr == (
        f"salesync: error: {path}: changed since salesync read it (saved by another program, "
        "or another sync, meanwhile); nothing was written: run salesync again\n"
    )
    assert openpyxl.load_workbook(path).active["A2"].value == "L-NEW"
    assert dir_listing(tmp_path) == ["demo.xlsx"]


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_a_workbook_behind_a_symbolic_link_is_synced_and_the_link_kept(
    cli: Cli, tmp_path: Path
) -> None:
    real = tmp_path / "shared" / "pipeline.xlsx"
    real.parent.mkdir()
    build_demo_workbook(real)
    link = tmp_path / "pipeline.xlsx"
    link.symlink_to(real)
    before = real.read_bytes()
    done = cli("run", str(link), "--as-of", "2026-11-20T18:00", "--fail-on", "never")
    assert done.code == 0, done.stderr
    assert link.is_symlink() and link.resolve() == real  # the link still points to the file
    assert real.read_bytes() != before  # which holds the sync's cells
    again = cli("run", str(link), "--as-of", "2026-11-20T18:00", "--fail-on", "never")
    assert "没有需要写回的内容" in again.stdout
    assert dir_listing(real.parent) == ["pipeline.xlsx"]


def test_a_workbook_in_a_folder_that_does_not_exist_is_one_line(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    for args in (("demo", "--out", str(missing / "d.xlsx")), ("init", str(missing / "i.xlsx"))):
        done = cli(*args)
        assert done.code == 2
        name = args[-1]
        assert (
            done.stderr
            == f"salesync: error: {name}: cannot write it: there is no folder {missing}\n"
        )
    assert not missing.exists()
