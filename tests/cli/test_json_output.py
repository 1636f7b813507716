"""`--json`: one JSON object, a record a line in its lists, the same value as the json module
gives."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sync.report import write_json

DIRTY = {"Leads": [["Lead ID", "Source", "Customer"], ["L1", "Website", None]]}


def written(document: dict[str, Any]) -> str:
    out = io.StringIO()
    write_json(document, out)
    return out.getvalue()


def test_lists_go_a_record_a_line_and_the_rest_indented() -> None:
    document = {
        "issues": [
            {"code": "x", "message": 'line\nbreak }, { and "quotes"', "row": 2},
            {"code": "y", "message": "跟进超时", "value": None, "when": date(2026, 11, 20)},
        ],
        "summary": {"issues": {"error": 1}, "tabs": ["线索跟踪"], "at": datetime(2026, 11, 20, 18)},
        "referrals": [],
        "requests": None,
    }
    text = written(document)
    assert json.loads(text) == json.loads(json.dumps(document, default=str))
    lines = text.splitlines()
    assert lines[:4] == [
        "{",
        '  "issues": [',
        '    {"code": "x", "message": "line\\nbreak }, { and \\"quotes\\"", "row": 2},',
        '    {"code": "y", "message": "跟进超时", "value": null, "when": "2026-11-20"}',
    ]
    assert lines[4:8] == ["  ],", '  "summary": {', '    "issues": {', '      "error": 1']
    assert '  "referrals": [],' in lines and lines[-2:] == ['  "requests": null', "}"]
    assert text.endswith("}\n")


def test_long_lists_are_written_in_pieces_without_a_seam() -> None:
    records = [{"row": i, "text": f"第{i}行"} for i in range(10_000)]  # three pieces
    text = written({"issues": records})
    assert json.loads(text) == {"issues": records}
    assert text.count("\n    {") == len(records)


def test_an_empty_document() -> None:
    assert written({}) == "{}\n" and json.loads(written({})) == {}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), JSON_VALUES, max_size=5))
def test_any_document_reads_back_as_the_json_module_writes_it(document: dict[str, Any]) -> None:
    assert json.loads(written(document)) == json.loads(json.dumps(document))


def test_check_json_has_an_issue_a_line(cli: Callable, xlsx: Callable) -> None:
    result = cli("check", str(xlsx(DIRTY)), "--json", "--as-of", "2026-06-30T18:00")
    issues = result.json()["issues"]
    assert issues
    lines = result.stdout.splitlines()
    start = lines.index('  "issues": [')
    records = lines[start + 1 : start + 1 + len(issues)]
    assert [json.loads(line.rstrip(",")) for line in records] == issues
