"""`salesync` on the command line: options in, library calls, one readable line per failure.

Exit codes: 0 clean, 1 issues at or above --fail-on, 2 usage or access errors.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from .core.errors import SalesyncError
from .core.schema import Lang, Severity

app = typer.Typer(
    name="salesync",
    help="Keep a B2B sales pipeline in a spreadsheet and make it a managed system.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# No markup: what is printed holds the users' names (a file "[draft] pipeline.xlsx", a Google
# tab "[旧]线索"), which rich would otherwise read as style tags and drop; styles are given as
# Text and table styles instead.
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)

_left_to_exit: list[object] | None = None
"""Where a command leaves what it built when the process is to end as soon as its output is
out (`entry` sets it; in-process callers of `main` leave it None and free as usual)."""


class FailOn(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    NEVER = "never"


TargetArg = Annotated[
    str | None,
    typer.Argument(
        help="Workbook: a path to an .xlsx or .xlsm file, or a Google Sheet URL or id "
        "(omit it with --excel)."
    ),
]
ExcelOpt = Annotated[
    bool,
    typer.Option(
        "--excel",
        help="Use the workbook active in the running Excel (Windows or macOS; "
        "pip install 'salesync[excel]'). Changes are not saved: save in Excel.",
    ),
]
ProtectOpt = Annotated[
    bool,
    typer.Option(
        "--protect",
        help="Google Sheets: add warning-only protection to the owned columns and tabs.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object: issues and summary.")]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Treat this moment as now (2026-06-30 or 2026-06-30T18:00)."),
]
FailOnOpt = Annotated[
    FailOn, typer.Option("--fail-on", help="Exit 1 when an issue at or above this level exists.")
]
LangOpt = Annotated[
    Lang | None, typer.Option("--lang", help="Language of messages (default: the workbook's).")
]


def _as_of(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"'{text}' is not a date or time; use 2026-06-30 or 2026-06-30T18:00",
            param_hint="--as-of",
        ) from None


def _exit_code(result: Any, fail_on: FailOn) -> int:
    if fail_on is FailOn.NEVER:
        return 0
    worst = result.worst()
    return 1 if worst is not None and worst.rank >= Severity(fail_on.value).rank else 0


@contextmanager
def _reported() -> Iterator[None]:
    """Library errors become one line on stderr and exit code 2, never a traceback."""
    try:
        yield
    except SalesyncError as error:
        err.print(f"salesync: error: {error}")
        raise typer.Exit(error.exit_code) from None


def _sync(
    target: str | None,
    *,
    as_json: bool,
    fail_on: FailOn,
    write: bool,
    as_of: str | None,
    excel: bool = False,
    protect: bool = False,
    **job: Any,
) -> int:
    """Run the job on `target` and print its result; `job` holds sync_workbook's options."""
    from .backends import open_backend
    from .collector import gc_paused

    moment = _as_of(as_of)
    step = ["read"]  # the step the sync is in, for the line an interrupt prints
    # the collector stays off through the report too: after a large workbook's sync, each of
    # its passes would walk millions of cells for cycles the job does not make
    try:
        with _reported(), gc_paused():
            backend = open_backend(target, excel=excel, protect=protect)
            start_read = getattr(backend, "start_read", None)
            if start_read is not None:
                start_read()  # a file: its sheets are parsed while the rules' modules load
            from .job import sync_workbook
            from .report import print_report, write_json

            if as_json or not err.is_terminal:
                result = sync_workbook(
                    backend, write=write, as_of=moment, progress=step.append, **job
                )
            else:
                with err.status("…") as status:

                    def progress(name: str) -> None:
                        step.append(name)
                        # a Text: the spinner reads a str as markup whatever the console
                        status.update(Text(f"salesync: {name} {target or 'Excel'}"))

                    result = sync_workbook(
                        backend, write=write, as_of=moment, progress=progress, **job
                    )
            step.append("done")
            if as_json:
                # not rich's print_json, which parses and highlights every token (at 100,000
                # follow-ups: 13 s of a 15 s check)
                write_json(result.to_json(), out.file)
            else:
                print_report(result, out, wrote_requested=write)
    except KeyboardInterrupt:
        err.print(f"salesync: {_interrupted(step[-1], target, excel)}")
        raise typer.Exit(INTERRUPTED) from None
    if _left_to_exit is not None:
        _left_to_exit.append(result)
    return _exit_code(result, fail_on)


INTERRUPTED = 130
"""The exit code of a command stopped by Ctrl-C (128 + SIGINT, as shells report it)."""


def _interrupted(step: str, target: str | None, excel: bool) -> str:
    """What Ctrl-C left behind, said at the step it stopped the sync in."""
    from .backends.targets import is_google_target

    if step == "done":
        return "interrupted after the sync had finished"
    if step != "write":
        return (
            f"interrupted while {'reading' if step == 'read' else 'checking'}: nothing was written"
        )
    if excel or target is None:
        return (
            "interrupted while writing into Excel: some owned cells may hold new values; "
            "the workbook is not saved (close it without saving, or run salesync again)"
        )
    if is_google_target(target):
        return (
            "interrupted while writing to the Google Sheet: a write that fits one request is "
            "applied whole or not at all, a bigger one may be partly done; run salesync again "
            "to finish it"
        )
    return (
        f"interrupted while writing: {target} is as it was or fully synced, never half "
        "written (the file is replaced in one step); run salesync again to be sure it is "
        "up to date"
    )


@app.command()
def check(
    target: TargetArg = None,
    as_json: JsonOpt = False,
    as_of: AsOfOpt = None,
    fail_on: FailOnOpt = FailOn.ERROR,
    lang: LangOpt = None,
    excel: ExcelOpt = False,
) -> None:
    """Validate the workbook and report every issue; write nothing."""
    raise typer.Exit(
        _sync(
            target,
            write=False,
            as_of=as_of,
            lang=lang,
            as_json=as_json,
            fail_on=fail_on,
            excel=excel,
        )
    )


@app.command()
def run(
    target: TargetArg = None,
    as_json: JsonOpt = False,
    as_of: AsOfOpt = None,
    fail_on: FailOnOpt = FailOn.ERROR,
    lang: LangOpt = None,
    assign: Annotated[
        bool,
        typer.Option(
            "--assign",
            help="Also fill blank lead owners (负责人) and assignment times (分配时间) from the "
            "Settings assignment rules; non-blank cells are never changed.",
        ),
    ] = False,
    excel: ExcelOpt = False,
    protect: ProtectOpt = False,
) -> None:
    """Validate, compute and write the owned columns and tabs back into the workbook."""
    raise typer.Exit(
        _sync(
            target,
            write=True,
            as_of=as_of,
            lang=lang,
            as_json=as_json,
            fail_on=fail_on,
            assign=assign,
            excel=excel,
            protect=protect,
        )
    )


@app.command()
def init(
    path: Annotated[
        str,
        typer.Argument(
            help="Where to create the workbook (.xlsx), or with --google an existing Google "
            "Sheet's URL or id to set up."
        ),
    ],
    lang: Annotated[
        Lang, typer.Option("--lang", help="Language of tabs and headers.")
    ] = Lang.ZH_HANS,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    google: Annotated[
        bool,
        typer.Option(
            "--google",
            help="Set up the tabs, headers, drop-downs and formats in an existing Google "
            "Sheet (one batch update; tabs holding other data are never overwritten).",
        ),
    ] = False,
) -> None:
    """Create a blank workbook with every tab and header (or set up a Google Sheet)."""
    if google:
        from .backends.gsheets import init_google_workbook

        with _reported():
            summary = init_google_workbook(path, lang)
        for line in summary.lines():
            out.print(line)
        return
    from .templates import write_blank_workbook

    target = Path(path)
    with _reported():
        if target.suffix.lower() != ".xlsx":
            raise SalesyncError(f"{target}: the workbook name must end in .xlsx")
        if target.exists() and not force:
            raise SalesyncError(f"{target} already exists; pass --force to replace it")
        write_blank_workbook(target, lang)
    out.print(f"{target} ({lang.value})")


@app.command()
def template(
    out_dir: Annotated[
        Path, typer.Option("--out", help="The folder to write the templates into.")
    ] = Path("workbook_templates"),
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace template files that were filled in or edited."),
    ] = False,
) -> None:
    """Write the workbook templates, one a language (salesync-zh-Hans.xlsx, salesync-zh-Hant.xlsx,
    salesync-en.xlsx), generated from the schema: the same bytes every time. A template file
    there that differs (filled in, edited) is replaced only with --force."""
    from .templates import write_templates

    with _reported():
        try:
            paths = write_templates(out_dir, force=force)
        except OSError as error:
            raise SalesyncError(f"{out_dir}: cannot write the templates ({error})") from error
    for path in paths:
        out.print(str(path))


@app.command()
def demo(
    out_path: Annotated[
        Path, typer.Option("--out", help="Where to write the sample workbook.")
    ] = Path("salesync-demo.xlsx"),
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the sample.")] = Lang.ZH_HANS,
    as_json: JsonOpt = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace an existing file that is not a demo workbook."),
    ] = False,
) -> None:
    """Write a realistic sample workbook (a 12-rep team over a year, with a few deliberate
    mistakes), sync it, and print the summary. A demo workbook already there is replaced;
    another file only with --force."""
    from .demo import build_demo_workbook, is_demo_workbook

    with _reported():
        if out_path.exists() and not force and not is_demo_workbook(out_path):
            raise SalesyncError(
                f"{out_path} already exists and is not a workbook salesync demo wrote; "
                "pass --force to replace it, or choose another --out"
            )
        manifest = build_demo_workbook(out_path, lang=lang)
    _sync(
        str(out_path),
        write=True,
        as_of=manifest.as_of.isoformat(),
        lang=None,
        as_json=as_json,
        fail_on=FailOn.NEVER,
    )


def main() -> None:
    """The command line, in this process: it ends with SystemExit (tests call it so)."""
    app()


def entry() -> None:
    """Console entry point: `main`, and the process ends as soon as the output is out.

    A sync leaves millions of objects behind at a million follow-ups, and freeing them one by
    one after the report costs a third of a second the operating system would spend on nothing
    (it takes the memory back at once). So the command leaves its result alive, the output is
    flushed, the atexit handlers run, and the process exits without tearing the interpreter
    down, as mypy does. An exception ends it the usual way, with its traceback; so does an
    exit while a thread other than the main one still runs, except after Ctrl-C (see below)."""
    global _left_to_exit
    _left_to_exit = []
    try:
        main()
    except SystemExit as done:
        code = done.code
    else:
        code = None
    if code == INTERRUPTED and not _copies_being_read():
        # Ctrl-C: the reader's threads may be deep in a sheet's parse (seconds at a million
        # rows, in native code that cannot be stopped) and hold nothing to write or remove
        # (a write is removed on the way out): the process ends without waiting for them
        _flushed()
        os._exit(code)
    if threading.active_count() > 1:
        raise SystemExit(code)
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe: the interpreter's own exit reports it
        raise SystemExit(code) from None
    atexit._run_exitfuncs()
    os._exit(code or 0)


def _copies_being_read() -> bool:
    """Whether a reader's thread holds a temporary copy of a workbook, which it removes once
    its parse is done (see `xlsx_read.copies_being_read`)."""
    reader = sys.modules.get("sync.backends.xlsx_read")
    return reader is not None and reader.copies_being_read()


def _flushed() -> None:
    with contextlib.suppress(OSError):
        sys.stdout.flush()
    with contextlib.suppress(OSError):
        sys.stderr.flush()


if __name__ == "__main__":
    entry()
