"""Calibration of the loopback Sheets API server against Google itself.

1. Replay: every Sheets API request recorded by gspread against the real Google Sheets
   (/work/shared/google-sheets-recordings, gspread's MIT-licensed cassettes, see its README
   and LICENSE.txt) is sent to the loopback server in order, and each response is compared
   with the recorded one: status, keys, value types, trimming and the values themselves.
2. Documented behaviour checked directly: discovery-document validation, atomic batches,
   429 injection, the size limit, the token endpoint.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.backends.sheets_server import SCOPE, SheetsServer

RECORDINGS = Path(
    os.environ.get(
        "SALESYNC_SHEETS_RECORDINGS",
        Path(__file__).parents[3] / "shared" / "google-sheets-recordings",
    )
)
CASSETTES = sorted(RECORDINGS.glob("*.json"))
TOKEN = "ya29.loopback-test-token"


@pytest.fixture
def server() -> Any:
    with SheetsServer() as srv:
        srv.tokens[TOKEN] = ("tester@example.com", {SCOPE})
        yield srv


def call(
    server: SheetsServer, method: str, path: str, body: Any = None, **kw: Any
) -> requests.Response:
    data = body if isinstance(body, bytes | None) else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    headers.update(kw.pop("headers", {}))
    return requests.request(method, server.url + path, data=data, headers=headers, timeout=30, **kw)


def shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(v) for v in value]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _body(interaction: dict[str, Any], side: str) -> Any:
    body = interaction[side]["body"]
    return body.get("string", "") if isinstance(body, dict) else (body or "")


def _swap_ids(value: Any, ids: dict[int, int]) -> Any:
    if isinstance(value, dict):
        return {
            k: ids.get(v, v) if k == "sheetId" and isinstance(v, int) else _swap_ids(v, ids)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_swap_ids(v, ids) for v in value]
    return value


# Replies whose ids Google makes up: compared by shape (keys, types), not value.
SHAPE_ONLY = {"addProtectedRange"}


def _comparable(path: str, recorded: Any, ours: Any) -> tuple[Any, Any]:
    """What must match exactly: for metadata, the sheets' properties the backend uses and the
    top-level keys the server claims to produce (a subset of Google's)."""
    if isinstance(recorded, dict) and "error" in recorded:  # same code and status; wording varies

        def gist(doc: Any) -> Any:
            return {k: doc["error"].get(k) for k in ("code", "status")}

        return gist(recorded), gist(ours)
    is_metadata = path.count("/") == 3 and ":" not in path.rsplit("/", 1)[-1]
    if is_metadata and all("properties" in s for s in recorded.get("sheets", [{}])):

        def props(doc: Any) -> Any:
            return [
                {
                    k: s["properties"].get(k)
                    for k in ("sheetId", "title", "index", "sheetType", "gridProperties")
                }
                for s in doc.get("sheets", [])
            ]

        assert set(ours) <= set(recorded), set(ours) - set(recorded)
        return props(recorded), props(ours)
    return recorded, ours


@pytest.mark.parametrize("cassette", CASSETTES, ids=[c.stem for c in CASSETTES])
def test_replayed_recordings_match_google(server: SheetsServer, cassette: Path) -> None:
    interactions = json.loads(cassette.read_text(encoding="utf-8"))["interactions"]
    ids: dict[int, int] = {}
    compared = 0
    for interaction in interactions:
        request, response = interaction["request"], interaction["response"]
        url = urlsplit(request["uri"])
        status = response["status"]["code"]
        text = _body(interaction, "response")
        if url.netloc == "www.googleapis.com":  # Drive: create the file, ignore the rest
            if request["method"] == "POST" and status == 200:
                created = json.loads(text)
                server.create(created["id"], title=created["name"])
            continue
        body = _body(interaction, "request")
        payload = _swap_ids(json.loads(body), ids) if body else None
        path = url.path + (f"?{url.query}" if url.query else "")
        got = call(server, request["method"], path, payload)
        recorded = json.loads(text) if text else None
        kinds = [next(iter(r)) for r in (payload or {}).get("requests", [])]
        assert got.status_code == status, (path, body[:300], got.text[:500])
        ours = got.json() if got.content else None
        if kinds and "addSheet" in kinds:
            for mine, theirs in zip(ours["replies"], recorded["replies"], strict=True):
                if "addSheet" in theirs:
                    ids[theirs["addSheet"]["properties"]["sheetId"]] = mine["addSheet"][
                        "properties"
                    ]["sheetId"]
            recorded, ours = _swap_ids(recorded, ids), _swap_ids(ours, ids)
        recorded = _swap_ids(recorded, ids)
        if any(k in SHAPE_ONLY for k in kinds):
            assert shape(ours) == shape(recorded)
        else:
            recorded, ours = _comparable(url.path, recorded, ours)
            assert ours == recorded, (request["method"], path, body[:300])
        compared += 1
    assert compared > 0


def test_recordings_are_present() -> None:
    assert len(CASSETTES) >= 15, RECORDINGS
    assert (RECORDINGS / "LICENSE.txt").exists()


# --------------------------------------------------------------------------- documented behaviour


def _book(server: SheetsServer) -> None:
    server.create("book", {"My Tab": [["a", "", "c", None], [], [1, 2.5, True], [None, None]]})


def test_values_are_trimmed_and_empty_ranges_have_no_values_key(server: SheetsServer) -> None:
    _book(server)
    got = call(
        server,
        "GET",
        "/v4/spreadsheets/book/values:batchGet",
        params={
            "ranges": ["'My Tab'!A1:Z", "'My Tab'!E10:F12", "'My Tab'"],
            "valueRenderOption": "UNFORMATTED_VALUE",
        },
    ).json()
    first, empty, whole = got["valueRanges"]
    assert first == {
        "range": "'My Tab'!A1:Z1000",
        "majorDimension": "ROWS",
        "values": [["a", "", "c"], [], [1, 2.5, True]],
    }
    assert empty == {"range": "'My Tab'!E10:F12", "majorDimension": "ROWS"}
    assert whole["range"] == "'My Tab'!A1:Z1000"


def test_dates_are_serial_numbers(server: SheetsServer) -> None:
    from datetime import date, datetime

    server.create("d", {"S": [[date(2020, 1, 1), datetime(2020, 1, 1, 12)]]})
    got = call(
        server,
        "GET",
        "/v4/spreadsheets/d/values/S",
        params={"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER"},
    ).json()
    assert got["values"] == [[43831, 43831.5]]


def test_unknown_names_are_rejected_against_the_discovery_document(server: SheetsServer) -> None:
    _book(server)
    bad = [
        {"updateCell": {}},
        {"updateCells": {"rows": [], "fields": "userEnteredValue", "strat": {}}},
        {
            "updateCells": {
                "rows": [{"values": [{"userEnteredValue": {"text": "x"}}]}],
                "fields": "userEnteredValue",
                "start": {"sheetId": 0},
            }
        },
        {"updateCells": {"rows": [], "fields": "userEnteredValues", "start": {"sheetId": 0}}},
        {"appendDimension": {"sheetId": 0, "dimension": "ROW", "length": 1}},
    ]
    for request in bad:
        got = call(server, "POST", "/v4/spreadsheets/book:batchUpdate", {"requests": [request]})
        assert got.status_code == 400, request
        assert got.json()["error"]["status"] == "INVALID_ARGUMENT"
    got = call(server, "GET", "/v4/spreadsheets/book", params={"includeGridDat": "true"})
    assert got.status_code == 400


def test_a_batch_is_all_or_nothing(server: SheetsServer) -> None:
    _book(server)
    good = {
        "updateCells": {
            "rows": [{"values": [{"userEnteredValue": {"stringValue": "new"}}]}],
            "fields": "userEnteredValue",
            "start": {"sheetId": 0},
        }
    }
    add = {"addSheet": {"properties": {"title": "Issues"}}}
    beyond = {
        "updateCells": {
            "rows": [{"values": [{}]}],
            "fields": "userEnteredValue",
            "start": {"sheetId": 0, "rowIndex": 5000},
        }
    }
    got = call(
        server, "POST", "/v4/spreadsheets/book:batchUpdate", {"requests": [good, add, beyond]}
    )
    assert got.status_code == 400 and "requests[2]" in got.json()["error"]["message"]
    assert server.grid("book", "My Tab")[0][0] == "a"
    assert [s.title for s in server.books["book"].sheets] == ["My Tab"]
    got = call(server, "POST", "/v4/spreadsheets/book:batchUpdate", {"requests": [good, add]})
    assert got.status_code == 200 and got.json()["replies"][0] == {}
    assert server.grid("book", "My Tab")[0][0] == "new"


def test_text_starting_with_equals_stays_text(server: SheetsServer) -> None:
    _book(server)
    cell = {"userEnteredValue": {"stringValue": "=1+1"}}
    call(
        server,
        "POST",
        "/v4/spreadsheets/book:batchUpdate",
        {
            "requests": [
                {
                    "updateCells": {
                        "rows": [{"values": [cell]}],
                        "fields": "userEnteredValue",
                        "start": {"sheetId": 0},
                    }
                }
            ]
        },
    )
    got = call(
        server,
        "GET",
        "/v4/spreadsheets/book/values/'My Tab'!A1",
        params={"valueRenderOption": "FORMULA"},
    ).json()
    assert got["values"] == [["=1+1"]]
    meta = call(
        server,
        "GET",
        "/v4/spreadsheets/book",
        params={"fields": "sheets.data.rowData.values.userEnteredValue", "ranges": "'My Tab'!A1"},
    ).json()
    assert meta == {"sheets": [{"data": [{"rowData": [{"values": [cell]}]}]}]}


def test_429_injection_and_size_limit(server: SheetsServer) -> None:
    _book(server)
    server.fail(429, times=1, retry_after="7")
    got = call(server, "GET", "/v4/spreadsheets/book")
    assert got.status_code == 429 and got.headers["Retry-After"] == "7"
    assert got.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert call(server, "GET", "/v4/spreadsheets/book").status_code == 200
    server.max_body = 1000
    big = {"requests": [{"addSheet": {"properties": {"title": "x" * 2000}}}]}
    got = call(server, "POST", "/v4/spreadsheets/book:batchUpdate", big)
    assert got.status_code == 400
    assert "Request payload size exceeds the limit: 1000 bytes." in got.json()["error"]["message"]


def test_auth_is_required(server: SheetsServer) -> None:
    _book(server)
    got = requests.get(server.url + "/v4/spreadsheets/book", timeout=10)
    assert got.status_code == 401 and got.json()["error"]["status"] == "UNAUTHENTICATED"
    got = call(server, "GET", "/v4/spreadsheets/nope")
    assert (
        got.status_code == 404
        and got.json()["error"]["message"] == "Requested entity was not found."
    )
    token = requests.post(
        server.token_uri,
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": "a.b.c"},
        timeout=10,
    )
    assert token.status_code == 400 and token.json()["error"] == "invalid_grant"


def test_formats_validation_and_protection_of_a_template(server: SheetsServer) -> None:
    """What `salesync init --google` sends: frozen header, a drop-down, a conditional format
    and a warning-only protection; returned by a metadata read with a field mask."""
    _book(server)
    column = {"sheetId": 0, "startRowIndex": 1, "startColumnIndex": 2, "endColumnIndex": 3}
    requests_ = [
        {
            "updateSheetProperties": {
                "properties": {"sheetId": 0, "gridProperties": {"frozenRowCount": 1}},
                "fields": "gridProperties.frozenRowCount",
            }
        },
        {
            "setDataValidation": {
                "range": column,
                "rule": {
                    "condition": {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": "a"}]},
                    "strict": False,
                },
            }
        },
        {
            "addConditionalFormatRule": {
                "rule": {
                    "ranges": [column],
                    "booleanRule": {
                        "condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": "x"}]},
                        "format": {"backgroundColor": {"red": 1}},
                    },
                },
                "index": 0,
            }
        },
        {
            "addProtectedRange": {
                "protectedRange": {
                    "range": {"sheetId": 0, "startColumnIndex": 2, "endColumnIndex": 3},
                    "description": "computed",
                    "warningOnly": True,
                }
            }
        },
    ]
    got = call(server, "POST", "/v4/spreadsheets/book:batchUpdate", {"requests": requests_})
    assert got.status_code == 200, got.text
    assert server.batches == [[next(iter(r)) for r in requests_]]
    fields = (
        "sheets(properties(gridProperties(frozenRowCount)),"
        "protectedRanges(range,description,warningOnly),conditionalFormats(ranges,booleanRule/condition))"
    )
    meta = call(server, "GET", "/v4/spreadsheets/book", params={"fields": fields}).json()
    (sheet,) = meta["sheets"]
    assert sheet["properties"] == {"gridProperties": {"frozenRowCount": 1}}
    assert sheet["protectedRanges"] == [
        {
            "range": {"startColumnIndex": 2, "endColumnIndex": 3},  # sheetId 0 left out
            "description": "computed",
            "warningOnly": True,
        }
    ]
    (rule,) = sheet["conditionalFormats"]
    assert rule == {
        "ranges": [{"startRowIndex": 1, "startColumnIndex": 2, "endColumnIndex": 3}],
        "booleanRule": {"condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": "x"}]}},
    }
    assert server.raw_cell("book", "My Tab", 2, 3).validation["strict"] is False


def _chart(kind: str, axis: str, sheet_id: int, rows: int) -> dict[str, Any]:
    def data(col: int) -> dict[str, Any]:
        span = {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": rows}
        return {
            "sourceRange": {
                "sources": [span | {"startColumnIndex": col, "endColumnIndex": col + 1}]
            }
        }

    return {
        "addChart": {
            "chart": {
                "spec": {
                    "basicChart": {
                        "chartType": kind,
                        "domains": [{"domain": data(0)}],
                        "series": [{"series": data(1), "targetAxis": axis}],
                    }
                },
                "position": {
                    "overlayPosition": {
                        "anchorCell": {"sheetId": 0, "rowIndex": 0, "columnIndex": 3}
                    }
                },
            }
        }
    }


def test_charts_are_added_and_listed(server: SheetsServer) -> None:
    _book(server)
    body = {"requests": [_chart("COLUMN", "LEFT_AXIS", 0, 10), _chart("BAR", "BOTTOM_AXIS", 0, 5)]}
    got = call(server, "POST", "/v4/spreadsheets/book:batchUpdate", body)
    assert got.status_code == 200, got.text
    ids = [r["addChart"]["chart"]["chartId"] for r in got.json()["replies"]]
    meta = call(
        server,
        "GET",
        "/v4/spreadsheets/book?fields=sheets(charts(chartId,spec/basicChart/chartType))",
    )
    charts = meta.json()["sheets"][0]["charts"]
    assert [c["chartId"] for c in charts] == ids and len(set(ids)) == 2
    assert [c["spec"]["basicChart"]["chartType"] for c in charts] == ["COLUMN", "BAR"]


@pytest.mark.parametrize(
    "request_",
    [
        {
            "setDataValidation": {
                "range": {"sheetId": 0},
                "rule": {"condition": {"type": "ONE_OF_LIST", "values": []}},
            }
        },
        {"addConditionalFormatRule": {"rule": {"ranges": []}}},
        {
            "addConditionalFormatRule": {
                "rule": {
                    "ranges": [{"sheetId": 0}],
                    "booleanRule": {"condition": {"type": "TEXT_EQ"}, "format": {}},
                }
            }
        },
        {
            "addProtectedRange": {
                "protectedRange": {
                    "range": {"sheetId": 0},
                    "warningOnly": True,
                    "editors": {"users": ["a@example.com"]},
                }
            }
        },
        {"addProtectedRange": {"protectedRange": {"range": {"sheetId": 0, "endRowIndex": 5000}}}},
        _chart("BAR", "LEFT_AXIS", 0, 10),
        _chart("COLUMN", "LEFT_AXIS", 0, 5000),
        _chart("BASIC_CHART_TYPE_UNSPECIFIED", "LEFT_AXIS", 0, 10),
        _chart("COLUMN", "LEFT_AXIS", 99, 10),
    ],
    ids=[
        "empty-list",
        "no-ranges",
        "no-value",
        "warning-with-editors",
        "beyond-grid",
        "bar-on-left-axis",
        "chart-data-beyond-grid",
        "chart-without-type",
        "chart-on-unknown-tab",
    ],
)
def test_invalid_template_requests_are_refused(server: SheetsServer, request_: Any) -> None:
    _book(server)
    got = call(server, "POST", "/v4/spreadsheets/book:batchUpdate", {"requests": [request_]})
    assert got.status_code == 400 and got.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert server.batches == []


def test_bodies_are_utf8_and_the_size_limit_counts_their_bytes(server: SheetsServer) -> None:
    _book(server)
    text = "回款已逾期" * 80  # 400 characters, 1,200 bytes in UTF-8
    sheet_id = server.books["book"].sheets[0].sheet_id
    cell = {"userEnteredValue": {"stringValue": text}}
    update = {
        "start": {"sheetId": sheet_id, "rowIndex": 5, "columnIndex": 0},
        "rows": [{"values": [cell]}],
        "fields": "userEnteredValue",
    }
    body = {"requests": [{"updateCells": update}]}
    compact = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    assert len(compact) > 1200
    server.max_body = len(compact) - 1
    got = call(server, "POST", "/v4/spreadsheets/book:batchUpdate", compact)
    assert got.status_code == 400 and "payload size exceeds" in got.json()["error"]["message"]
    server.max_body = len(compact)  # a body of exactly the limit is accepted
    headers = {"Content-Type": "application/json; charset=UTF-8"}
    got = call(server, "POST", "/v4/spreadsheets/book:batchUpdate", compact, headers=headers)
    assert got.status_code == 200 and server.grid("book", "My Tab")[5] == [text]
    latin1 = json.dumps(body, ensure_ascii=False).replace(text, "é").encode("latin-1")
    got = call(server, "POST", "/v4/spreadsheets/book:batchUpdate", latin1)
    assert got.status_code == 400 and "Invalid JSON payload" in got.json()["error"]["message"]


def test_the_cell_limit_counts_every_sheet(server: SheetsServer) -> None:
    """Google's 10 million cells are a spreadsheet's, all its sheets together: adding a sheet,
    growing one or resizing one past them is refused with Google's message, and the batch
    changes nothing."""
    server.create("full", {"A": [["x"]]}, rows=200_000, cols=26)  # 5.2 million cells
    limit = "above the limit of 10000000 cells."

    def batch(*requests_: dict[str, Any]) -> Any:
        return call(server, "POST", "/v4/spreadsheets/full:batchUpdate", {"requests": requests_})

    grid = {"rowCount": 100_000, "columnCount": 26}
    ok = batch({"addSheet": {"properties": {"title": "B", "gridProperties": grid}}})
    assert ok.status_code == 200  # 7.8 million
    b = ok.json()["replies"][0]["addSheet"]["properties"]["sheetId"]
    for too_many in (
        {"addSheet": {"properties": {"title": "C", "gridProperties": grid}}},
        {"appendDimension": {"sheetId": b, "dimension": "ROWS", "length": 90_000}},
        {
            "updateSheetProperties": {
                "properties": {"sheetId": b, "gridProperties": {"columnCount": 60}},
                "fields": "gridProperties.columnCount",
            }
        },
    ):
        got = batch({"appendDimension": {"sheetId": b, "dimension": "ROWS", "length": 1}}, too_many)
        assert got.status_code == 400 and got.json()["error"]["message"].endswith(limit)
    book = server.books["full"]
    assert [(s.title, s.rows, s.cols) for s in book.sheets] == [
        ("A", 200_000, 26),
        ("B", 100_000, 26),
    ]
