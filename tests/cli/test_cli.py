"""The CLI as a user sees it: exact lines, exit codes, JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import typer

from sync.cli import app
from sync.core.issues import Issue
from sync.demo import build_demo_workbook

SLA_OUTCOMES = {"sla-breached", "sla-overdue", "calendar-estimated"}

CLEAN = {"Leads": [["Lead ID", "Source", "Customer"], ["L1", "Website", "Acme"]]}
DIRTY = {"Leads": [["Lead ID", "Source", "Customer"], ["L1", "Website", None]]}


def test_missing_file_is_one_line_and_exit_2(cli: Callable, tmp_path: Path) -> None:
    result = cli("check", str(tmp_path / "nope.xlsx"))
    assert result.code == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "nope.xlsx" in result.stderr and "Traceback" not in result.stderr


def test_a_file_that_is_not_a_workbook_is_exit_2(cli: Callable, tmp_path: Path) -> None:
    path = tmp_path / "notes.xlsx"
    path.write_text("not a zip")
    result = cli("check", str(path))
    assert result.code == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("salesync: error:")


def test_an_unknown_layout_is_exit_2(cli: Callable, xlsx: Callable) -> None:
    result = cli("check", str(xlsx({"Sheet1": [["foo", "bar"], [1, 2]]})))
    assert result.code == 2
    assert "no tab looks like a salesync tab" in result.stderr


def test_bad_option_value_is_exit_2(cli: Callable, xlsx: Callable) -> None:
    result = cli("check", str(xlsx(CLEAN)), "--as-of", "yesterday")
    assert result.code == 2 and "--as-of" in result.stderr


def test_clean_is_0_issues_are_1_and_fail_on_moves_the_bar(cli: Callable, xlsx: Callable) -> None:
    assert cli("check", str(xlsx(CLEAN))).code == 0
    dirty = str(xlsx(DIRTY))
    assert cli("check", dirty).code == 1
    assert cli("check", dirty, "--fail-on", "never").code == 0
    # missing tabs are info: failing on info turns a clean-looking workbook red
    assert cli("check", str(xlsx(CLEAN)), "--fail-on", "info").code == 1


def test_check_writes_nothing_and_run_writes(cli: Callable, xlsx: Callable) -> None:
    path = xlsx(DIRTY)
    before = path.read_bytes()
    cli("check", str(path))
    assert path.read_bytes() == before
    result = cli("run", str(path), "--as-of", "2026-06-30")
    assert result.code == 1 and path.read_bytes() != before
    assert "Wrote" in result.stdout
    again = cli("run", str(path), "--as-of", "2026-06-30")
    assert "Nothing to write" in again.stdout


def test_json_output_has_issues_with_snake_case_fields_and_a_summary(
    cli: Callable, xlsx: Callable
) -> None:
    result = cli("check", str(xlsx(DIRTY)), "--json", "--as-of", "2026-06-30T18:00")
    data = result.json()
    required = next(i for i in data["issues"] if i["code"] == "required")
    assert required == {
        "code": "required",
        "severity": "error",
        "tab": "Leads",
        "row": 2,
        "column": "C",
        "header": "Customer",
        "value": None,
        "message": "Customer is required but blank.",
        "field": "customer",
        "table": "leads",
    }
    assert data["summary"]["issues"]["error"] == 1
    assert data["summary"]["as_of"] == "2026-06-30T18:00"
    assert data["summary"]["tabs"]["Leads"]["rows"] == 1


def test_init_writes_a_blank_workbook_that_checks_clean(cli: Callable, tmp_path: Path) -> None:
    for lang in ("zh-Hans", "zh-Hant", "en"):
        path = tmp_path / f"blank-{lang}.xlsx"
        assert cli("init", str(path), "--lang", lang).code == 0
        result = cli("check", str(path), "--json", "--fail-on", "info")
        assert result.code == 0, result.stdout
        assert result.json()["summary"]["language"] == lang
    assert cli("init", str(tmp_path / "blank-en.xlsx")).code == 2  # exists: refuse


def test_check_on_the_demo_reports_exactly_the_deliberate_mistakes(
    cli: Callable, tmp_path: Path
) -> None:
    manifest = build_demo_workbook(tmp_path / "demo.xlsx")
    result = cli("check", str(manifest.path), "--json", "--as-of", manifest.as_of.isoformat())
    assert result.code == 1
    issues = result.json()["issues"]
    # Late follow-ups and overdue payments are how the team worked, not mistakes in the file:
    # they are checked below; everything else must be exactly the planted mistakes.
    outcomes = [i for i in issues if i["code"] in SLA_OUTCOMES]
    found = sorted(
        (i["code"], i["table"], i["field"], i["row"])
        for i in issues
        if i["code"] not in SLA_OUTCOMES
    )
    expected = sorted((e.code, e.table, e.field, e.row) for e in manifest.expected)
    assert found == expected
    assert {i["code"] for i in outcomes} == {"sla-breached", "sla-overdue"}  # 2026: official
    assert all(i["severity"] == "warning" and i["rule"] for i in outcomes)
    rules = {i["rule"] for i in outcomes}
    assert {"first_contact", "minutes", "next_step", "payment", "proposal"} <= rules
    assert len(outcomes) < len(manifest.counts) * 150  # a realistic share, not every row


def test_demo_command_writes_and_syncs_a_sample(cli: Callable, tmp_path: Path) -> None:
    path = tmp_path / "demo.xlsx"
    result = cli("demo", "--out", str(path))
    assert result.code == 0 and path.exists()
    assert "线索跟踪" in result.stdout
    again = cli("run", str(path), "--as-of", "2026-11-20T18:00", "--fail-on", "never")
    assert "没有需要写回的内容" in again.stdout


@pytest.mark.parametrize(
    ("lang", "unwritten", "written"),
    [
        ("zh-Hans", "条：salesync run 会把全部问题写入“问题清单”工作表", "条，见“问题清单”工作表"),
        (
            "zh-Hant",
            "條：salesync run 會把全部問題寫入「問題清單」工作表",
            "條，見「問題清單」工作表",
        ),
        ("en", "more: salesync run writes them all to the Issues tab", "more in the Issues tab"),
    ],
)
def test_the_issues_not_shown_are_found_where_they_are(
    cli: Callable, tmp_path: Path, lang: str, unwritten: str, written: str
) -> None:
    # a check leaves the Issues tab as it was (empty here): it points to `run` and --json;
    # once a run wrote the tab (or found it up to date) it points to the tab
    path = build_demo_workbook(tmp_path / "demo.xlsx").path
    args = ("--as-of", "2026-11-20T18:00", "--fail-on", "never", "--lang", lang)
    checked = cli("check", str(path), *args).stdout.splitlines()
    assert unwritten in checked[-2] and written not in checked[-2]
    for _ in range(2):  # written, then up to date
        ran = cli("run", str(path), *args).stdout.splitlines()
        assert written in ran[-2] and unwritten not in ran[-2]


@pytest.mark.parametrize("command", ["check", "run", "init", "template", "demo"])
def test_every_command_has_help_and_is_documented(cli: Callable, command: str) -> None:
    result = cli(command, "--help")
    assert result.code == 0 and "Usage" in result.stdout
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert f"salesync {command}" in readme


def test_the_console_script_is_installed() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sync.cli", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "demo" in done.stdout
    assert set(typer.main.get_command(app).commands) == {"check", "run", "init", "demo", "template"}


ENTRY = """
import atexit, sys
atexit.register(lambda: print("atexit ran", file=sys.stderr))
sys.argv = ["salesync", *sys.argv[1:]]
from sync.cli import entry
entry()
"""


def _entry(*args: str) -> subprocess.CompletedProcess[str]:
    """`salesync ARGS…` in a process of its own, through the console entry point."""
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *args], capture_output=True, text=True, timeout=120
    )


def test_the_console_entry_ends_with_the_output_out_and_the_exit_code(
    cli: Callable, xlsx: Callable
) -> None:
    path = str(xlsx(DIRTY))
    args = ("check", path, "--json", "--as-of", "2026-06-30T18:00")
    done = _entry(*args)
    in_process = cli(*args)
    # the process ends without freeing the result: its JSON is whole, its exit code kept, and
    # the atexit handlers ran
    assert done.returncode == in_process.code == 1
    assert json.loads(done.stdout) == in_process.json()
    assert done.stderr.splitlines()[-1] == "atexit ran"
    missing = _entry("check", path + ".missing.xlsx")
    assert missing.returncode == 2 and "salesync: error:" in missing.stderr
    assert "atexit ran" in missing.stderr


def test_in_process_main_keeps_nothing_for_the_exit(cli: Callable, xlsx: Callable) -> None:
    import sync.cli

    assert cli("check", str(xlsx(CLEAN)), "--as-of", "2026-06-30T18:00").code == 0
    assert sync.cli._left_to_exit is None  # the result was freed as usual


def test_a_target_or_excel_is_needed_and_not_both(cli: Callable, xlsx: Callable) -> None:
    missing = cli("check")
    assert missing.code == 2 and "or --excel" in missing.stderr
    both = cli("check", str(xlsx(CLEAN)), "--excel")
    assert both.code == 2 and "not both" in both.stderr


def test_run_excel_syncs_the_active_workbook(
    cli: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sync.backends.excel import ExcelBackend
    from tests.backends.test_excel import FakeBook

    book = FakeBook({"Leads": [["Lead ID", "Source", "Customer"], ["L1", "Website", None]]})
    monkeypatch.setattr(ExcelBackend, "active", classmethod(lambda cls: cls(book)))
    result = cli("run", "--excel", "--as-of", "2026-06-30", "--json")
    assert result.code == 1
    assert [i["code"] for i in result.json()["issues"] if i["tab"] == "Leads"] == ["required"]
    assert "Issues" in [s.name for s in book.sheets]  # the Issues tab was written into Excel


def test_the_report_shows_the_worst_issues_first_and_counts_them_per_tab(
    cli: Callable, tmp_path: Path
) -> None:
    """The report picks its lines and counts them without sorting or scanning them all once
    per tab: the same lines and counts as a full sort, grouped, and a count per tab give."""
    import json
    import random
    from itertools import groupby

    from sync.backends import open_backend
    from sync.core.issues import count_by_severity
    from sync.core.schema import Severity
    from sync.job import sync_workbook
    from sync.report import SHOWN_CELLS, SHOWN_ISSUES, Shown, first_shown

    manifest = build_demo_workbook(tmp_path / "demo.xlsx")
    result = sync_workbook(open_backend(str(manifest.path)), write=False, as_of=manifest.as_of)
    assert len({i.severity for i in result.issues}) == 3 and len(result.issues) > SHOWN_ISSUES

    def kind(i: Issue) -> tuple[object, ...]:
        return (-i.severity.rank, i.code, i.rule or "", i.tab, i.column or "")

    order = (Severity.ERROR, Severity.WARNING, Severity.INFO)
    shuffled = list(result.issues)
    random.Random(7).shuffle(shuffled)
    for issues in (result.issues, shuffled, shuffled[:5]):
        # the naive way: sort them all, group each kind's, order the kinds by their first
        ordered = sorted(issues, key=lambda i: (kind(i), i.sort_key()))
        kinds = [list(group) for _, group in groupby(ordered, key=kind)]
        kinds.sort(key=lambda group: (-group[0].severity.rank, group[0].sort_key()))
        naive = [
            Shown(g[0], len(g) - 1, [f"{i.column or ''}{i.row}" for i in g[1 : 1 + SHOWN_CELLS]])
            for g in kinds
        ]
        assert first_shown(issues, order) == naive[:SHOWN_ISSUES]
    assert len(set(map(kind, result.issues))) > SHOWN_ISSUES  # more kinds than lines
    summary = result.summary()
    for name, data in result.tables.items():
        naive = count_by_severity(i for i in result.issues if i.table == name)
        assert {s: summary["tabs"][data.tab][s] for s in naive} == naive
    assert summary["issues"] == {
        s.value: sum(i.severity is s for i in result.issues) for s in Severity
    }

    # --json holds what the sync found, an issue a line
    printed = cli("check", str(manifest.path), "--json", "--as-of", manifest.as_of.isoformat())
    assert printed.json() == json.loads(json.dumps(result.to_json(), default=str))
    lines = printed.stdout.splitlines()
    first = lines.index('  "issues": [') + 1
    assert lines[first + len(result.issues)] == "  ],"
    assert all(
        line.startswith('    {"code": ') for line in lines[first : first + len(result.issues)]
    )


@pytest.mark.parametrize(
    ("lang", "five", "two"),
    [
        ("en", " (4 more like it: C3, C4, C5 …)", " (1 more like it: B5)"),
        ("zh-Hans", "（同类另有 4 处：C3、C4、C5…）", "（同类另有 1 处：B5）"),
        ("zh-Hant", "（同類另有 4 處：C3、C4、C5…）", "（同類另有 1 處：B5）"),
    ],
)
def test_the_report_shows_each_kind_of_issue_once_with_where_the_others_are(
    cli: Callable, xlsx: Callable, lang: str, five: str, two: str
) -> None:
    # five blank customers, two unknown sources, one duplicate id: three lines, not eight
    rows = [["Lead ID", "Source", "Customer"]]
    rows += [[f"L{n}", "Website", None] for n in range(1, 6)]  # rows 2-6
    rows[3][1] = rows[4][1] = "Billboard"  # rows 4 and 5
    rows.append(["L1", "Website", "Acme"])  # row 7
    path = xlsx({"Leads": rows})
    report = cli("check", str(path), "--as-of", "2026-06-30T18:00", "--lang", lang)
    lines = [line for line in report.stdout.splitlines() if "Leads!" in line]
    assert [line.split()[1] for line in lines] == ["Leads!C2", "Leads!B4", "Leads!A7"]
    assert lines[0].endswith(five) and lines[1].endswith(two)
    assert "L1" in lines[2] and not lines[2].endswith(("）", ")"))  # the only one of its kind
    # 8 issues in Leads and 7 tabs missing (a line each): 10 lines, 5 more in the count
    assert " 5 " in report.stdout.splitlines()[-2]


def test_more_issues_than_a_sheet_holds_list_the_errors_first_and_say_so(
    cli: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Issues tab never grows past a sheet's rows (a million-row log with two issues a row
    would make a tab no spreadsheet opens): it lists the errors first, then warnings, as many as
    fit, and a last row saying how many it left out; the report and --json still have them all.
    A sheet's rows made 40 here, for the demo's 529 issues."""
    from python_calamine import CalamineWorkbook

    import sync.core.plan as plan
    from sync.backends.xlsx_tabs import MAX_ROWS

    monkeypatch.setattr(plan, "SHEET_ROWS", 40)
    manifest = build_demo_workbook(tmp_path / "demo.xlsx")
    args = ("--as-of", manifest.as_of.isoformat(), "--fail-on", "never", "--lang", "en")
    everything = cli("check", str(manifest.path), "--json", *args).json()["issues"]
    cli("run", str(manifest.path), *args)
    book = CalamineWorkbook.from_path(str(manifest.path))
    rows = book.get_sheet_by_name("问题清单").to_python()
    assert len(rows) == 40 and len(everything) > 40 and MAX_ROWS == 1_048_576
    listed, note = rows[1:-1], rows[-1]

    def where(issue: dict[str, object]) -> tuple[object, ...]:
        return issue["code"], issue["tab"], issue["row"] or ""

    errors = {where(i) for i in everything if i["severity"] == "error"}
    assert errors <= {(r[1], r[2], r[3]) for r in listed}  # every error, then warnings
    assert sum(r[0] == "Error" for r in listed) == len(errors) < len(listed)
    assert {r[0] for r in listed} == {"Error", "Warning"}  # no room left for the notes
    assert note[1] == "issues-not-listed" and note[0] == "Info"
    left_out = len(everything) - 1 - len(listed)  # the note is one of the issues reported
    assert note[7].startswith(f"{left_out} more issues are not listed here")
    assert everything[-1]["code"] == "issues-not-listed"
    again = cli("run", str(manifest.path), *args)  # and a second run changes nothing
    assert "Nothing to write" in again.stdout


def test_names_in_brackets_are_printed_as_they_are(cli: Callable, tmp_path: Path) -> None:
    """A file named "[draft] …" (or a Google tab "[旧]线索") is printed with its brackets: the
    output is plain text, not rich markup, which would take "[draft]" for a style and drop it."""
    path = build_demo_workbook(tmp_path / "[draft] demo.xlsx").path
    args = ("--as-of", "2026-11-20T18:00", "--fail-on", "never", "--lang", "en")
    checked = cli("check", str(path), *args).stdout.splitlines()
    assert checked[0] == f"salesync · {path} · 2026-11-20 18:00"
    ran = cli("run", str(path), *args).stdout.splitlines()
    assert ran[-1].endswith(f"to {path}") and "[draft] demo.xlsx" in ran[-1]


def test_the_progress_line_shows_bracketed_names_too(
    cli: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal the step and the target show beside a spinner, which reads a str as
    markup whatever its console: the line is given as plain Text."""
    import io

    from rich.console import Console

    import sync.cli as cli_module

    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, markup=False, width=200)
    monkeypatch.setattr(cli_module, "err", terminal)
    path = build_demo_workbook(tmp_path / "[draft] demo.xlsx").path
    cli("check", str(path), "--as-of", "2026-11-20T18:00", "--fail-on", "never")
    assert f"salesync: check {path}" in screen.getvalue()
