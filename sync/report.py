"""What a person sees at the end of a sync: a summary table and the first issues, in the
workbook's language."""

from __future__ import annotations

import heapq
import json
from collections.abc import Mapping
from typing import IO, Any, NamedTuple

from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from .core.issues import Issue
from .core.schema import SEVERITY, Lang, Severity
from .job import SyncResult

_WORDS: dict[Lang, dict[str, str]] = {
    Lang.ZH_HANS: {
        "tab": "工作表",
        "rows": "行数",
        "total": "合计",
        "more": "……另有 {n} 条，见“问题清单”工作表",
        "more_unwritten": (
            "……另有 {n} 条：salesync run 会把全部问题写入“问题清单”工作表，--json 可列出全部"
        ),
        "wrote": "已写回 {cells} 个单元格{tabs}到 {source}",
        "tabs": "和工作表 {names} ",
        "clean": "没有需要写回的内容：工作簿已是最新。",
        "checked": "只检查，未写入（{cells} 个单元格待更新）。",
        "none": "没有发现问题。",
        "title": "salesync · {source} · {as_of}",
        "alike": "（同类另有 {n} 处{cells}）",
        "alike_cells": "：{cells}",
        "cells_sep": "、",
        "cells_more": "…",
    },
    Lang.ZH_HANT: {
        "tab": "工作表",
        "rows": "列數",
        "total": "合計",
        "more": "……另有 {n} 條，見「問題清單」工作表",
        "more_unwritten": (
            "……另有 {n} 條：salesync run 會把全部問題寫入「問題清單」工作表，--json 可列出全部"
        ),
        "wrote": "已寫回 {cells} 個儲存格{tabs}到 {source}",
        "tabs": "和工作表 {names} ",
        "clean": "沒有需要寫回的內容：活頁簿已是最新。",
        "checked": "只檢查，未寫入（{cells} 個儲存格待更新）。",
        "none": "沒有發現問題。",
        "title": "salesync · {source} · {as_of}",
        "alike": "（同類另有 {n} 處{cells}）",
        "alike_cells": "：{cells}",
        "cells_sep": "、",
        "cells_more": "…",
    },
    Lang.EN: {
        "tab": "Tab",
        "rows": "Rows",
        "total": "Total",
        "more": "… and {n} more in the Issues tab",
        "more_unwritten": (
            "… and {n} more: salesync run writes them all to the Issues tab, --json lists them all"
        ),
        "wrote": "Wrote {cells} cells {tabs}to {source}",
        "tabs": "and tab(s) {names} ",
        "clean": "Nothing to write: the workbook is up to date.",
        "checked": "Checked only, nothing written ({cells} cells would change).",
        "none": "No issues found.",
        "title": "salesync · {source} · {as_of}",
        "alike": " ({n} more like it{cells})",
        "alike_cells": ": {cells}",
        "cells_sep": ", ",
        "cells_more": " …",
    },
}
_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
SHOWN_ISSUES = 15
"""Issues a report shows, one of each kind (`_kind`): the worst kinds first."""
SHOWN_CELLS = 3
"""Cells named after a shown issue, of the others of its kind (the rest only counted)."""


class Shown(NamedTuple):
    """A line of the report: the first issue of its kind, how many more of that kind there
    are, and where the next `SHOWN_CELLS` of them are."""

    issue: Issue
    alike: int
    cells: list[str]


def _kind(issue: Issue) -> tuple[Any, ...]:
    """Issues of a kind say the same of one column of one tab: the same code (and SLA rule),
    severity, tab and column; only their rows and values differ."""
    return issue.severity, issue.code, issue.rule, issue.tab, issue.column


def first_shown(issues: list[Issue], order: tuple[Severity, ...]) -> list[Shown]:
    """The `SHOWN_ISSUES` lines shown: the first issue (in `Issue.sort_key` order) of each
    kind, the worst severity first, kinds of a severity in the order of their first issues.

    A large workbook has hundreds of thousands of issues, most of a few kinds: showing the
    first fifteen would show one kind fifteen times (a misspelt source type on fifteen rows),
    and none of the others. One pass groups them; only each kind's first few are sorted."""
    kinds: dict[tuple[Any, ...], list[Issue]] = {}
    for issue in issues:
        kind = _kind(issue)
        found = kinds.get(kind)
        if found is None:
            kinds[kind] = [issue]
        else:
            found.append(issue)
    rank = {severity: n for n, severity in enumerate(order)}
    heads = [
        (rank[kind[0]], heapq.nsmallest(1 + SHOWN_CELLS, group, key=Issue.sort_key), len(group))
        for kind, group in kinds.items()
        if kind[0] in rank
    ]
    heads.sort(key=lambda head: (head[0], head[1][0].sort_key()))
    return [
        Shown(first[0], size - 1, [f"{i.column or ''}{i.row}" for i in first[1:] if i.row])
        for _, first, size in heads[:SHOWN_ISSUES]
    ]


def _alike(shown: Shown, words: Mapping[str, str]) -> str:
    """What follows a shown issue: how many more of its kind, and where the first are."""
    if not shown.alike:
        return ""
    cells = ""
    if shown.cells:
        named = words["cells_sep"].join(shown.cells)
        if shown.alike > len(shown.cells):
            named += words["cells_more"]
        cells = words["alike_cells"].format(cells=named)
    return words["alike"].format(n=shown.alike, cells=cells)


def print_report(result: SyncResult, console: Console, *, wrote_requested: bool) -> None:
    words = _WORDS[result.lang]
    order = (Severity.ERROR, Severity.WARNING, Severity.INFO)
    table = RichTable(
        title=words["title"].format(
            source=result.source, as_of=result.as_of.isoformat(sep=" ", timespec="minutes")
        )
    )
    table.add_column(words["tab"])
    table.add_column(words["rows"], justify="right")
    for severity in order:
        table.add_column(
            SEVERITY.label(severity.value, result.lang), justify="right", style=_STYLE[severity]
        )
    summary = result.summary()
    for tab, counts in summary["tabs"].items():
        table.add_row(tab, str(counts["rows"]), *(str(counts[s.value]) for s in order))
    totals = summary["issues"]
    table.add_row(
        words["total"],
        str(sum(c["rows"] for c in summary["tabs"].values())),
        *(str(totals[s.value]) for s in order),
        end_section=True,
    )
    console.print(table)

    shown = first_shown(result.issues, order)
    if not shown:
        console.print(words["none"])
    for line in shown:
        issue = line.issue
        where = issue.tab + (f"!{issue.column or ''}{issue.row}" if issue.row else "")
        label = SEVERITY.label(issue.severity.value, result.lang)
        console.print(
            Text.assemble(
                (label, _STYLE[issue.severity]),
                f" {where}  {issue.message}",
                (_alike(line, words), "dim"),
            ),
            highlight=False,
        )
    if len(result.issues) > len(shown):
        # the Issues tab holds them once a run has written it (or found it up to date); a check
        # leaves it as the last run wrote it, or empty
        more = words["more" if wrote_requested else "more_unwritten"]
        console.print(more.format(n=len(result.issues) - len(shown)))

    cells = summary["cells_to_write"]
    if result.wrote:
        tabs = (
            words["tabs"].format(
                names=(", " if result.lang is Lang.EN else "、").join(summary["tabs_to_write"])
            )
            if summary["tabs_to_write"]
            else ""
        )
        console.print(words["wrote"].format(cells=cells, tabs=tabs, source=result.source))
    elif wrote_requested:
        console.print(words["clean"])
    else:
        console.print(words["checked"].format(cells=cells))


_RECORDS_A_WRITE = 4096


def write_json(document: Mapping[str, Any], file: IO[str]) -> None:
    """`document` as one JSON object: a key a line, a list one item a line, any other value
    indented by two. At a million follow-ups a check has some 260,000 issues: a record a line
    keeps the output readable and greppable, and each line goes through the json module's C
    encoder (indenting every field goes through its Python one, six times slower), a few
    thousand lines a write rather than the whole text built first. Values json does not know
    (dates) are written as their text."""
    encode = json.JSONEncoder(ensure_ascii=False, default=str).encode
    for n, (key, value) in enumerate(document.items()):
        file.write(("{\n  " if n == 0 else ",\n  ") + encode(key) + ": ")
        if isinstance(value, list) and value:
            file.write("[")
            for start in range(0, len(value), _RECORDS_A_WRITE):
                lines = map(encode, value[start : start + _RECORDS_A_WRITE])
                file.write(("\n    " if start == 0 else ",\n    ") + ",\n    ".join(lines))
            file.write("\n  ]")
        else:
            # a JSON text holds no raw line break but between its tokens
            indented = json.dumps(value, ensure_ascii=False, default=str, indent=2)
            file.write(indented.replace("\n", "\n  "))
    file.write("\n}\n" if document else "{}\n")
