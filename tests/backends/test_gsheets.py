"""The Google Sheets backend through the real gspread and google-auth, against a loopback
Sheets API v4 server (tests/backends/sheets_server.py): the contract the xlsx backend passes
(reading, issues, owned-cells-only writing, idempotence, text never a formula), plus what is
particular to Google: the call budget, retries, concurrent edits and access errors.
An opt-in live test runs against a real sheet when SALESYNC_LIVE_GOOGLE_SHEET and
credentials (SALESYNC_GOOGLE_CREDENTIALS) are set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sync.backends.google_auth import (
    CredentialsMissing,
    CredentialsRejected,
    credentials_from_info,
    load_credentials,
)
from sync.backends.gsheets import (
    MAX_REQUEST_BYTES,
    PROTECTION_DESCRIPTION,
    GoogleApiError,
    GoogleSheetsBackend,
    InitConflict,
    InitSummary,
    QuotaExceeded,
    RetryPolicy,
    SheetChanged,
    SheetNotShared,
    init_google_workbook,
    is_google_target,
    parse_spreadsheet_id,
)
from sync.core.errors import SalesyncError, WorkbookNotFound
from sync.core.model import CellWrite, ExcelError, TabWrite, WritePlan
from sync.core.schema import SCHEMA, SETTING_KEYS, Kind, Lang, Owner
from sync.core.sla import STATUS_LABELS, Status
from sync.job import sync_workbook
from sync.templates import choice_labels, setting_value
from tests.backends.sheets_server import SCOPE, Rich, SheetsServer
from tests.workbooks import leads_rows

EMAIL = "salesync-bot@sales-team.iam.gserviceaccount.com"
SHEET_ID = "1SaLeSyNcTeStShEeT0123456789abcdefGHIJ"
AS_OF = datetime(2026, 6, 30, 18, 0)


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(autouse=True)
def _no_regional_access_boundary_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    """google-auth ≥ 2.60 looks up a service account's "allowed locations" at
    iamcredentials.googleapis.com in a background thread after each token refresh; these
    tests never leave the loopback server."""
    from google.auth import credentials

    monkeypatch.setattr(
        credentials.CredentialsWithRegionalAccessBoundary,
        "_is_regional_access_boundary_lookup_required",
        lambda self: False,
    )


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return _key()


@pytest.fixture
def server(signing_key: rsa.RSAPrivateKey) -> Iterator[SheetsServer]:
    with SheetsServer() as srv:
        srv.add_service_account(EMAIL, signing_key.public_key())
        yield srv


def key_json(server: SheetsServer, key: rsa.RSAPrivateKey, email: str = EMAIL) -> str:
    """A service-account key file as Google Cloud console writes it, its token_uri pointing
    at the loopback server."""
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "sales-team",
            "private_key_id": "0123456789abcdef",
            "private_key": _pem(key),
            "client_email": email,
            "client_id": "1234567890",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": server.token_uri,
        }
    )


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def backend(
    server: SheetsServer, signing_key: rsa.RSAPrivateKey, sleeps: Sleeps
) -> Callable[..., GoogleSheetsBackend]:
    def make(sheet_id: str = SHEET_ID, **kwargs: Any) -> GoogleSheetsBackend:
        kwargs.setdefault("retry", RetryPolicy(sleep=sleeps))
        credentials = kwargs.pop("credentials", key_json(server, signing_key))
        return GoogleSheetsBackend(sheet_id, credentials, endpoint=server.url, **kwargs)

    return make


def posts(server: SheetsServer) -> list[str]:
    """What the POST requests were: "{id}:batchUpdate", "values:batchUpdate" …"""
    return [p.split("?")[0].rpartition("/")[2] for m, p, *_ in server.api_requests() if m == "POST"]


def batch_updates(server: SheetsServer) -> int:
    return sum(1 for m, p, *_ in server.api_requests() if p.split("?")[0].endswith(":batchUpdate"))


# --------------------------------------------------------------------------- ids


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (f"https://docs.google.com/spreadsheets/d/{SHEET_ID}/edit#gid=0", SHEET_ID),
        (f"https://docs.google.com/spreadsheets/u/1/d/{SHEET_ID}/", SHEET_ID),
        (SHEET_ID, SHEET_ID),
        ("leads.xlsx", None),
        ("short", None),
        ("C:/Users/me/very_long_workbook_file_name_here.xlsx", None),
    ],
)
def test_spreadsheet_ids(target: str, expected: str | None) -> None:
    assert parse_spreadsheet_id(target) == expected
    assert is_google_target(target) is (expected is not None)


# --------------------------------------------------------------------------- reading


@pytest.fixture
def rich(server: SheetsServer) -> None:
    """Data from B2, numbers, dates, a formula with an error, a typed "#N/A", a hidden tab,
    a tab whose name needs quoting, an empty tab."""
    book = server.create(
        SHEET_ID,
        {
            "Leads": [
                [],
                [None, "Name", "Amount", "Date", "Total", "Status"],
                [None, "Customer 3", 3001.5, date(2024, 1, 3), "=2*3", "=1/0"],
                [None, "Customer 4", 12, datetime(2024, 1, 4, 9, 30), "=NA()", "#N/A"],
                [None, "=HYPERLINK text", True, None, None, None],
            ],
            "Bob's list": [["open"], ["won"]],
            "Empty": [],
        },
    )
    book.sheets[1].hidden = True


def test_read_grid_is_a1_aligned_and_typed(
    rich: None, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    book = backend().read()
    assert book.source == f"https://docs.google.com/spreadsheets/d/{SHEET_ID}"
    assert [s.name for s in book.sheets] == ["Leads", "Bob's list", "Empty"]
    leads = book.sheet("Leads")
    assert leads is not None
    assert leads.value(1, 1) in ("", None)
    assert leads.value(2, 2) == "Name"
    assert leads.value(3, 3) == pytest.approx(3001.5)
    assert leads.value(4, 3) == 12 and isinstance(leads.value(4, 3), int)
    assert leads.value(3, 4) == date(2024, 1, 3)
    assert leads.value(4, 4) == datetime(2024, 1, 4, 9, 30)
    assert leads.value(5, 3) is True
    # trailing blanks are padded back: a rectangle as wide as the widest row
    assert {len(r) for r in leads.rows} == {6}
    assert leads.rows[0] == [""] * 6


def test_read_formulas_errors_and_error_looking_text(
    rich: None, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    book = backend().read()
    leads = book.sheet("Leads")
    assert leads is not None
    assert leads.formulas == frozenset({(3, 5), (3, 6), (4, 5), (5, 2)})
    assert leads.value(3, 5) == 6
    assert leads.value(3, 6) == ExcelError("#DIV/0!")
    assert leads.value(4, 5) == ExcelError("#N/A")
    assert leads.value(4, 6) == "#N/A"  # typed by a person: text, not an error
    hidden = book.sheet("Bob's list")
    assert hidden is not None and hidden.hidden and hidden.value(2, 1) == "won"
    empty = book.sheet("Empty")
    assert empty is not None and empty.rows == [] and not empty.hidden


def test_read_costs_two_requests_and_a_real_token_exchange(
    rich: None, server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    gs = backend()
    gs.read()
    assert gs.requests == 2
    assert server.token_requests == 1
    paths = [p.split("?")[0] for _, p, *_ in server.api_requests()]
    assert paths == [f"/v4/spreadsheets/{SHEET_ID}", f"/v4/spreadsheets/{SHEET_ID}/values:batchGet"]
    batch = server.api_requests()[1][1]
    assert "valueRenderOption=UNFORMATTED_VALUE" in batch
    assert "dateTimeRenderOption=SERIAL_NUMBER" in batch
    assert "ranges=%27Bob%27%27s+list%27" in batch  # quoted, quote doubled


# --------------------------------------------------------------------------- writing


ALL_VALUES = [
    ("text", "hello 世界", {"stringValue": "hello 世界"}),
    ("formula-like text", '=HYPERLINK("x")', {"stringValue": '=HYPERLINK("x")'}),
    ("int", 42, {"numberValue": 42}),
    ("float", 3.25, {"numberValue": 3.25}),
    ("bool", True, {"boolValue": True}),
]


@pytest.mark.parametrize(("label", "value", "entered"), ALL_VALUES)
def test_written_values_are_typed(
    server: SheetsServer,
    backend: Callable[..., GoogleSheetsBackend],
    label: str,
    value: Any,
    entered: dict[str, Any],
) -> None:
    server.create(SHEET_ID, {"S": [["a"]]})
    gs = backend()
    gs.read()
    gs.apply(WritePlan(cells={"S": [CellWrite(5, 3, value)]}))
    cell = server.raw_cell(SHEET_ID, "S", 5, 3)
    assert not isinstance(cell, Rich) or cell.formula is None
    got = backend().read().sheet("S")
    assert got is not None
    assert got.value(5, 3) == value and type(got.value(5, 3)) is type(value)
    assert (5, 3) not in got.formulas
    stored = server.raw_cell(SHEET_ID, "S", 5, 3)
    kind = next(iter(entered))  # what Google stored: a typed value, never a formula
    expected = {"stringValue": str, "numberValue": float, "boolValue": bool}[kind]
    assert type(stored) is expected and stored == value


@pytest.mark.parametrize("value", [date(2024, 2, 29), datetime(2024, 3, 1, 13, 45, 30)])
def test_dates_get_a_date_format_unless_the_cell_has_one(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend], value: date
) -> None:
    server.create(SHEET_ID, {"S": [["a", date(2020, 1, 1)]]})
    fmt = server.raw_cell(SHEET_ID, "S", 1, 2).fmt
    gs = backend()
    gs.read()
    gs.apply(WritePlan(cells={"S": [CellWrite(1, 2, value), CellWrite(2, 2, value)]}))
    assert server.raw_cell(SHEET_ID, "S", 1, 2).fmt == fmt  # the user's format stays
    fresh = server.raw_cell(SHEET_ID, "S", 2, 2)
    kind = "DATE_TIME" if isinstance(value, datetime) else "DATE"
    assert fresh.fmt["numberFormat"]["type"] == kind
    got = backend().read().sheet("S")
    assert got is not None and got.value(2, 2) == value


def test_writes_keep_formats_and_none_clears_only_the_value(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    server.create(SHEET_ID, {"S": [["a", 5, "keep"]]})
    bold = {"textFormat": {"bold": True}, "numberFormat": {"type": "NUMBER", "pattern": "0.00"}}
    server.books[SHEET_ID].sheets[0].grid[0][1] = Rich(value=5.0, fmt=bold)
    gs = backend()
    gs.read()
    gs.apply(WritePlan(cells={"S": [CellWrite(1, 2, None), CellWrite(1, 4, "new")]}))
    cell = server.raw_cell(SHEET_ID, "S", 1, 2)
    assert isinstance(cell, Rich) and cell.value is None and cell.fmt == bold
    assert server.grid(SHEET_ID, "S") == [["a", None, "keep", "new"]]


def test_style_like_copies_the_format_of_a_neighbour(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    server.create(SHEET_ID, {"S": [["Name", "Owner"]]})
    head = {"textFormat": {"bold": True}, "backgroundColor": {"red": 0.8}}
    server.books[SHEET_ID].sheets[0].grid[0][1] = Rich(value="Owner", fmt=head)
    gs = backend()
    gs.read()
    gs.apply(WritePlan(cells={"S": [CellWrite(1, 3, "⚙ flags", style_like=(1, 2))]}))
    cell = server.raw_cell(SHEET_ID, "S", 1, 3)
    assert cell.value == "⚙ flags"
    assert cell.fmt["textFormat"] == head["textFormat"]
    assert cell.fmt["backgroundColor"] == head["backgroundColor"]


def test_grid_grows_for_cells_beyond_it(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    server.create(SHEET_ID, {"S": [["a"]]}, rows=10, cols=3)
    gs = backend()
    gs.read()
    gs.apply(WritePlan(cells={"S": [CellWrite(25, 5, "far")]}))
    sheet = server.books[SHEET_ID].sheets[0]
    assert (sheet.rows, sheet.cols) == (25, 5)
    assert server.grid(SHEET_ID, "S")[24] == [None, None, None, None, "far"]


def test_new_owned_tab_then_replaced_shorter(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    server.create(SHEET_ID, {"Leads": [["x"]]})
    first = TabWrite(
        "Issues",
        (("Sheet", "Row", "When"), ("Leads", 3, date(2024, 1, 2)), ("Leads", 4, None)),
        column_widths=(12, 8),
    )
    gs = backend()
    gs.read()
    gs.apply(WritePlan(tabs=[first]))
    book = server.books[SHEET_ID]
    issues = book.sheet("Issues")
    assert issues is not None and [s.title for s in book.sheets] == ["Leads", "Issues"]
    assert issues.frozen_rows == 1
    assert server.raw_cell(SHEET_ID, "Issues", 1, 1).fmt == {"textFormat": {"bold": True}}
    assert issues.dims[("COLUMNS", 0)] == {"pixelSize": 89}
    got = backend().read().sheet("Issues")
    assert got is not None and got.value(2, 3) == date(2024, 1, 2)
    gs = backend()
    gs.read()
    gs.apply(WritePlan(tabs=[TabWrite("Issues", (("Sheet", "Row"), ("Leads", 9)))]))
    assert server.grid(SHEET_ID, "Issues") == [["Sheet", "Row"], ["Leads", 9]]
    assert len(book.sheets) == 2


def test_a_new_owned_tab_has_a_filter_a_rewrite_leaves_as_it_is(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    # the filter's rows are open-ended: the tab may grow; a user's criteria on it stay
    server.create(SHEET_ID, {"Leads": [["x"]]})
    gs = backend()
    gs.read()
    gs.apply(WritePlan(tabs=[TabWrite("Issues", (("Sheet", "Row", "Code"), ("Leads", 3, "c")))]))
    issues = server.books[SHEET_ID].sheet("Issues")
    assert issues is not None
    span = {"sheetId": issues.sheet_id, "startRowIndex": 0, "startColumnIndex": 0}
    assert issues.extra["basicFilter"] == {"range": {**span, "endColumnIndex": 3}}
    issues.extra["basicFilter"]["criteria"] = {"2": {"hiddenValues": ["c"]}}  # the user's
    gs = backend()
    gs.read()
    rows = (("Sheet", "Row", "Code"), *(("Leads", 3, "c"),) * 5)
    gs.apply(WritePlan(tabs=[TabWrite("Issues", rows)]))
    again = server.books[SHEET_ID].sheet("Issues")
    assert again is not None and server.grid(SHEET_ID, "Issues")[5] == ["Leads", 3, "c"]
    assert again.extra["basicFilter"]["criteria"] == {"2": {"hiddenValues": ["c"]}}
    assert "setBasicFilter" not in server.batches[-1]


def test_a_write_past_googles_cells_says_so(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    # the grids of all the tabs count: a new Issues tab no longer fits beside a big log
    server.create(SHEET_ID, {"Leads": [["x"]]}, rows=384_612, cols=26)  # 9,999,912 cells
    gs = backend()
    gs.read()
    with pytest.raises(GoogleApiError, match="more cells than Google allows a spreadsheet") as e:
        gs.apply(WritePlan(tabs=[TabWrite("Issues", (("Code", "Row"), ("required", 3)))]))
    assert "10000000 cells" in str(e.value) and str(e.value).endswith("and run again")
    assert [s.title for s in server.books[SHEET_ID].sheets] == ["Leads"]  # the batch refused


def test_formula_cells_and_unknown_tabs_are_refused_before_any_write(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    server.create(SHEET_ID, {"S": [["a", "=1+1"]]})
    gs = backend()
    gs.read()
    with pytest.raises(SalesyncError, match="formula"):
        gs.apply(WritePlan(cells={"S": [CellWrite(1, 2, 1)]}))
    with pytest.raises(SalesyncError, match="no tab named"):
        gs.apply(WritePlan(cells={"Nope": [CellWrite(1, 1, 1)]}))
    assert batch_updates(server) == 0


def test_empty_plan_sends_nothing(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    server.create(SHEET_ID, {"S": [["a"]]})
    gs = backend()
    gs.read()
    gs.apply(WritePlan(cells={"S": []}))
    assert gs.requests == 2


def test_a_write_above_the_size_limit_sends_its_values_apart(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    server.create(SHEET_ID, {"S": [["a"]]}, rows=3000)
    plan = WritePlan(cells={"S": [CellWrite(r, 2, f"value {r}") for r in range(1, 2001)]})
    gs = backend()
    gs.read()
    gs.apply(plan)
    assert posts(server) == [f"{SHEET_ID}:batchUpdate"]  # one batch update, applied atomically
    server.create(SHEET_ID, {"S": [["a"]]}, rows=3000)
    server.log.clear()
    plan = WritePlan(
        cells={"S": [CellWrite(r, c, f"v{r}") for r in range(1, 2001) for c in (2, 4)]}
    )
    gs = backend(max_request_bytes=12_000)
    gs.read()
    gs.apply(plan)
    # the grid is wide enough and nothing is dated: no batch update, only the values, in as
    # few bodies as the limit allows (4,000 cells, ~10 bytes each with the brackets of its
    # row's run, 12 kB a body at most)
    assert posts(server) == ["values:batchUpdate"] * 4
    assert all(n <= 12_000 for m, p, s, n in server.api_requests() if m == "POST")
    assert server.grid(SHEET_ID, "S")[1999] == [None, "v2000", None, "v2000"]
    assert server.grid(SHEET_ID, "S")[0] == ["a", "v1", None, "v1"]


def test_bodies_are_sent_as_compact_utf8(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    server.create(SHEET_ID, {"S": [["a"]]})
    server.keep_bodies = True
    gs = backend()
    gs.read()
    gs.apply(WritePlan(cells={"S": [CellWrite(r, 2, "超时：晚了 5 天") for r in range(1, 4)]}))
    ((_, _, content_type, body),) = [b for b in server.bodies if b[0] == "POST"]
    assert content_type == "application/json; charset=UTF-8"
    assert "超时：晚了 5 天".encode() in body and b"\\u" not in body
    payload = json.loads(body.decode())
    assert body == json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    assert gs.bytes_sent == len(body)  # counted as sent, reads have no body
    text = "超时：晚了 5 天"
    assert server.grid(SHEET_ID, "S") == [["a", text], [None, text], [None, text]]


def test_adjacent_owned_cells_go_as_blocks_and_skip_the_others(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    rows = [["h1", "h2", "h3", "h4", "h5"]] + [[f"k{r}", "", "", "", "mine"] for r in range(2, 41)]
    rows[10][3] = "keep"  # row 11, column D: not in the plan, stays
    server.create(SHEET_ID, {"S": rows})
    writes = [
        CellWrite(r, c, f"{r}.{c}")
        for r in range(2, 41)
        for c in (2, 3, 4)
        if (r, c) != (11, 4) and not (20 <= r <= 24)  # rows 20-24 not written at all
    ]
    writes += [CellWrite(r, 6, r) for r in range(2, 41, 2)]  # every other row, past column E
    gs = backend()
    gs.read()
    gs.apply(WritePlan(cells={"S": writes}))
    (batch,) = server.batches
    assert batch.count("updateCells") == 2  # B:D (B:C in row 11), F (empty rows between)
    grid = server.grid(SHEET_ID, "S")
    for r in range(2, 41):
        row = grid[r - 1]
        expected_bcd = [f"{r}.{c}" for c in (2, 3, 4)] if not 20 <= r <= 24 else [None] * 3
        if r == 11:
            expected_bcd[2] = "keep"
        assert row[1:4] == expected_bcd and row[4] == "mine"
        assert row[5:] == ([r] if r % 2 == 0 else [])


def test_dates_are_formatted_by_runs_and_only_where_written(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    server.create(SHEET_ID, {"S": [["a", "when", "n"]] + [[f"k{r}"] for r in range(2, 13)]})
    custom = {"numberFormat": {"type": "DATE", "pattern": "dd/mm/yyyy"}}
    sheet = server.books[SHEET_ID].sheets[0]
    sheet.put(5, 1, Rich(value=45000.0, fmt=custom))  # B6 already holds a date

    def day(r: int) -> date:
        return date(2024, 2, r)

    def moment(r: int) -> datetime:
        return datetime(2024, 3, 1, r, 45, 30)

    writes = [CellWrite(r, 2, day(r)) for r in range(2, 8)]
    writes += [CellWrite(r, 2, moment(r)) for r in (8, 9)] + [CellWrite(11, 2, day(11))]
    writes += [CellWrite(r, 3, r) for r in range(2, 12)]  # numbers beside: no date format
    gs = backend()
    gs.read()
    gs.apply(WritePlan(cells={"S": writes}))
    (batch,) = server.batches
    assert batch.count("repeatCell") == 4  # B2:B5, B7, B8:B9, B11

    def fmt(r: int, c: int) -> Any:
        cell = server.raw_cell(SHEET_ID, "S", r, c)
        return cell.fmt if isinstance(cell, Rich) else None

    date_format = {"numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}}
    time_format = {"numberFormat": {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm:ss"}}
    assert [fmt(r, 2) for r in range(2, 13)] == [date_format] * 4 + [custom, date_format] + [
        time_format
    ] * 2 + [None, date_format, None]
    assert all(fmt(r, 3) is None for r in range(1, 13))
    got = backend().read().sheet("S")
    assert got is not None
    assert [got.value(r, 2) for r in (2, 6, 8, 11)] == [day(2), day(6), moment(8), day(11)]


def test_runs_of_one_value_go_as_repeat_cell(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    """A column run of one value is one repeatCell after the blocks (its cells left out of
    them, or written as {} and then set), in a column of a data tab and in an owned tab;
    what the sheet holds is the same as cell by cell."""
    rows = [["k", "a", "b", "c"]] + [[f"k{r}", "", "", "own"] for r in range(2, 62)]
    server.create(SHEET_ID, {"S": rows})
    writes = [CellWrite(r, 2, "达标") for r in range(2, 42)]  # B2:B41 one value …
    writes += [CellWrite(r, 2, "超时") for r in range(42, 62)]  # … then another
    writes += [CellWrite(r, 3, f"x{r}") for r in range(2, 62)]  # C: all different
    writes += [CellWrite(r, 5, 1.5) for r in range(2, 62) if r != 30]  # E, a gap at row 30
    issues = TabWrite("Issues", (("Level", "Note", "N"),) + (("警告", "同一", None),) * 30)
    gs = backend()
    gs.read()
    gs.apply(WritePlan(cells={"S": writes}, tabs=[issues]))
    (batch,) = server.batches
    assert batch.count("repeatCell") == 2 + 2 + 2 + 1  # B twice, E twice; Issues A and B; bold
    grid = server.grid(SHEET_ID, "S")
    for r in range(2, 62):
        e = [] if r == 30 else [1.5]
        assert grid[r - 1] == [f"k{r}", "达标" if r < 42 else "超时", f"x{r}", "own", *e]
    assert server.grid(SHEET_ID, "Issues") == [["Level", "Note", "N"]] + [["警告", "同一"]] * 30


def test_a_large_write_costs_fewer_bytes_per_cell(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    """Three adjacent ⚙ columns of short Chinese text and a datetime column on 20,000 rows,
    more than a 1 MB request limit takes as CellData (about 50 bytes a cell): the values go
    as values:batchUpdate, about 11 bytes a cell, the datetime column's format as one
    repeatCell in the batch update before them."""
    words = ["达标", "超时", "未到期"]
    rows = [["编号", "状态", "时效", "提示", "时间"]] + [[f"L{r}"] for r in range(2, 20_002)]
    server.create(SHEET_ID, {"S": rows})
    writes = [CellWrite(r, c, words[(r + c) % 3]) for r in range(2, 20_002) for c in (2, 3, 4)]
    writes += [CellWrite(r, 5, datetime(2026, 1, 1 + r % 28, 9)) for r in range(2, 20_002)]
    gs = backend(max_request_bytes=1_000_000)
    gs.read()
    gs.apply(WritePlan(cells={"S": writes}))
    assert gs.bytes_sent / len(writes) < 12
    assert batch_updates(server) == 2 and gs.requests == 3 + 2
    assert server.batches == [["repeatCell"]]
    assert all(n <= 1_000_000 for m, p, s, n in server.api_requests() if m == "POST")
    got = backend().read().sheet("S")
    assert got is not None and got.value(20_001, 4) == words[(20_001 + 4) % 3]
    assert got.value(20_001, 5) == datetime(2026, 1, 1 + 20_001 % 28, 9)


def _written(
    server: SheetsServer,
    backend: Callable[..., GoogleSheetsBackend],
    plan: Callable[[], WritePlan],
    rows: list[list[Any]],
    **kwargs: Any,
) -> tuple[dict[tuple[str, int, int], Any], list[str]]:
    """The spreadsheet after `plan` is applied to a sheet "S" holding `rows` (and an Issues
    tab of 40 rows the plan replaces), and the kinds of the writing requests."""
    server.create(SHEET_ID, {"S": rows, "Issues": [["Level", "Note"]] + [["old", "x"]] * 39})
    number = {"numberFormat": {"type": "NUMBER", "pattern": "0.0"}}
    server.edit(SHEET_ID, "S", 3, 6, Rich(value=3.0, fmt=number))
    server.log.clear()
    gs = backend(**kwargs)
    gs.read()
    gs.apply(plan())
    return snapshot(server), posts(server)


def test_both_ways_of_writing_give_the_same_spreadsheet(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    """The same plan, within the request limit (one batch update of CellData) and above it
    (formats in a batch update, values as RAW ValueRanges): the same cells, values and formats
    alike. Text that looks like a formula or a number stays text; a write of None clears; a
    cell between written ones, and every cell not written, stays as it was; the owned tab is
    replaced, its old rows below the new ones cleared."""
    rows: list[list[Any]] = [["k", "a", "b", "mine", "c", "d"]]
    rows += [[f"k{r}", "old", None, f"mine {r}", 7, None] for r in range(2, 400)]
    values: list[Any] = ["=1+1", "12", 12, 1.5, True, "'quoted", "", "达标", None]

    def plan() -> WritePlan:
        writes = [CellWrite(r, 2, values[r % len(values)]) for r in range(2, 400)]
        writes += [CellWrite(r, 3, date(2026, 1, 1 + r % 28)) for r in range(2, 300)]
        writes += [CellWrite(r, 5, datetime(2026, 2, 1, r % 24)) for r in range(2, 400, 3)]
        writes += [CellWrite(r, 6, r * 1.25) for r in range(2, 400, 7)]
        writes += [CellWrite(3, 6, None)]  # clears a number, its format kept
        issues = [["Level", "Note", "When"]] + [
            ["警告", f"note {i}", date(2026, 3, 1 + i % 28)] for i in range(25)
        ]
        return WritePlan(cells={"S": writes}, tabs=[TabWrite("Issues", issues, 1, [10, 30, 12])])

    one, sent = _written(server, backend, plan, rows)
    assert sent == [f"{SHEET_ID}:batchUpdate"]
    apart, sent = _written(server, backend, plan, rows, max_request_bytes=6_000)
    assert sent[0] == f"{SHEET_ID}:batchUpdate" and sent[-1] == "values:batchUpdate"
    assert "updateCells" in server.batches[0] and len(sent) > 3
    assert all(n <= 6_000 for m, p, s, n in server.api_requests() if m == "POST")
    assert apart == one
    assert [one.get(("S", r, 2)) for r in range(9, 18)] == [
        "=1+1", "12", 12, 1.5, True, "'quoted", None, "达标", None  # "" and None: cleared
    ]  # fmt: skip
    assert isinstance(one["S", 10, 2], str) and not isinstance(one["S", 9, 2], Rich)
    assert one[("S", 5, 4)] == "mine 5" and ("Issues", 27, 1) not in one
    assert isinstance(one[("S", 3, 6)], Rich) and one[("S", 3, 6)].value is None
    again = backend(max_request_bytes=6_000).read()
    assert again.sheet("S").value(5, 3) == date(2026, 1, 6)  # type: ignore[union-attr]
    assert again.sheet("Issues").value(2, 3) == date(2026, 3, 1)  # type: ignore[union-attr]


def test_the_whole_sync_above_the_size_limit_gives_the_same_spreadsheet(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    """The job's own plan (⚙ columns, flags, the owned tabs, the Dashboard) through both
    ways, and a second sync after the values went apart plans nothing."""
    snapshots, requests = [], []
    for limit in (MAX_REQUEST_BYTES, 40_000):
        _team(server)
        server.log.clear()
        gs = backend(max_request_bytes=limit)
        assert sync_workbook(gs, write=True, as_of=AS_OF).wrote
        snapshots.append(snapshot(server))
        requests.append(gs.requests)
    assert snapshots[0] == snapshots[1]
    assert requests[0] == 4 and requests[1] > 4
    again = backend(max_request_bytes=40_000)
    assert sync_workbook(again, write=True, as_of=AS_OF).plan.is_empty()


# --------------------------------------------------------------------------- the job


@pytest.fixture
def team(server: SheetsServer) -> None:
    _team(server)


def _team(server: SheetsServer) -> None:
    server.create(
        SHEET_ID,
        {
            "线索跟踪": leads_rows(),
            "销售人员": [["姓名", "团队"], ["李雷", "华东"], ["韩梅", "华东"]],
            "helper": [["x", "=1+1"]],
        },
    )
    server.books[SHEET_ID].sheets[2].hidden = True


def snapshot(server: SheetsServer) -> dict[tuple[str, int, int], Any]:
    cells = {}
    for sheet in server.books[SHEET_ID].sheets:
        for r, row in enumerate(sheet.grid):
            for c, cell in enumerate(row):
                if cell is not None:
                    cells[(sheet.title, r + 1, c + 1)] = cell
    return cells


def test_sync_writes_owned_cells_only(
    team: None, server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    before = snapshot(server)
    gs = backend()
    result = sync_workbook(gs, write=True, as_of=AS_OF)
    assert result.wrote
    assert gs.requests == 4  # metadata, values, verify, one batch update
    assert batch_updates(server) == 1
    codes = {i.code for i in result.issues}
    assert "duplicate-id" in codes
    after = snapshot(server)
    grid = server.grid(SHEET_ID, "线索跟踪")
    flags_col = grid[2].index("⚙ 系统提示") + 1
    owned_cols = {c + 1 for c, h in enumerate(grid[2]) if str(h).startswith("⚙")}
    assert flags_col in owned_cols and min(owned_cols) == 14  # right of the user's columns
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    owned_tabs = {t.title(Lang.ZH_HANS) for t in SCHEMA.owned_tables}
    owned = {
        k for k in changed if k[0] in owned_tabs or (k[0] == "线索跟踪" and k[2] in owned_cols)
    }
    assert changed - owned == {("线索跟踪", 4, 12), ("线索跟踪", 6, 12)}
    assert (grid[3][11], grid[4][11], grid[5][11]) == ("A", "A", "B")
    assert "编号重复" in grid[4][flags_col - 1]
    assert after[("线索跟踪", 5, 13)].formula == '=HYPERLINK("x")'  # the user's own formula
    assert server.books[SHEET_ID].sheet("helper").hidden  # type: ignore[union-attr]
    issues = server.grid(SHEET_ID, "问题清单")
    assert len(issues) == len(result.issues) + 1


def test_second_sync_writes_nothing(
    team: None, server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    sync_workbook(backend(), write=True, as_of=AS_OF)
    first = snapshot(server)
    gs = backend()
    again = sync_workbook(gs, write=True, as_of=AS_OF)
    assert again.plan.is_empty() and not again.wrote
    assert gs.requests == 2 and batch_updates(server) == 1
    assert snapshot(server) == first


def test_text_that_looks_like_a_formula_is_written_as_text(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    server.create(SHEET_ID, {"Leads": [["Lead ID", "Source", "Customer"]]})
    # typed as text by a web form: not a formula
    server.books[SHEET_ID].sheets[0].grid.append(["=cmd|'/c calc'!A1", "nope", "x"])
    sync_workbook(backend(), write=True, as_of=AS_OF)
    issues = server.books[SHEET_ID].sheet("Issues")
    assert issues is not None
    cells = [c for row in issues.grid for c in row if c is not None]
    assert cells and not any(isinstance(c, Rich) and c.formula for c in cells)


def _leads(n: int) -> list[list[Any]]:
    rows: list[list[Any]] = [["Lead ID", "Source", "Customer", "Owner", "BANT class"]]
    rows += [[f"L{i}", "website", f"Customer {i}", "Li", None] for i in range(1, n + 1)]
    return rows


@pytest.mark.slow
def test_same_number_of_requests_for_10_and_100000_rows(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    counts = []
    for n in (10, 100_000):
        server.create(SHEET_ID, {"Leads": _leads(n), "Reps": [["Name"], ["Li"]]})
        server.log.clear()
        gs = backend()
        result = sync_workbook(gs, write=True, as_of=AS_OF)
        assert result.wrote
        counts.append(gs.requests)
        assert batch_updates(server) == 1
    assert counts[0] == counts[1] <= 4


# --------------------------------------------------------------------------- the Dashboard

# what the helper blocks may call: functions Google Sheets has, with Excel's meaning
SHEETS_FUNCTIONS = {"IF", "OR", "N", "COUNTA", "COUNTIFS", "SUMIFS", "INDEX", "MATCH"}
SHEETS_FUNCTIONS |= {"IFERROR", "MIN", "ROWS"}


def dashboard_charts(server: SheetsServer, title: str) -> tuple[Any, list[dict[str, Any]]]:
    sheet = tab(server, title)
    return sheet, sheet.extra.get("charts", [])


def check_dashboard(server: SheetsServer, title: str, reads: set[str]) -> None:
    """Four charts whose data are helper blocks of the Dashboard, whose formulas read
    `reads` (tabs that exist) and call functions Google Sheets has."""
    import re

    sheet, charts = dashboard_charts(server, title)
    titles = {s.title for s in server.books[SHEET_ID].sheets}
    assert len(charts) == 4
    kinds = [c["spec"]["basicChart"]["chartType"] for c in charts]
    assert kinds == ["COLUMN", "BAR", "COLUMN", "BAR"]
    assert [c["spec"]["basicChart"].get("stackedType") for c in charts][3] == "STACKED"
    for chart in charts:
        basic = chart["spec"]["basicChart"]
        assert chart["spec"]["title"]
        anchor = chart["position"]["overlayPosition"]["anchorCell"]
        assert anchor["sheetId"] == sheet.sheet_id
        data = [d["domain"] for d in basic["domains"]] + [s["series"] for s in basic["series"]]
        for entry in data:
            (span,) = entry["sourceRange"]["sources"]
            assert span["sheetId"] == sheet.sheet_id  # the helper blocks, in an existing tab
            assert span["endRowIndex"] <= sheet.rows and span["endColumnIndex"] <= sheet.cols
            assert span["endColumnIndex"] - span["startColumnIndex"] == 1
            header = sheet.get(span["startRowIndex"], span["startColumnIndex"])
            assert isinstance(header, Rich) and (header.fmt or {})["textFormat"]["bold"]
            assert isinstance(header.value, str) and header.value  # headerCount 1: its name
            for r in range(span["startRowIndex"] + 1, span["endRowIndex"]):
                assert sheet.get(r, span["startColumnIndex"]) is not None
    formulas = [c.formula for row in sheet.grid for c in row if isinstance(c, Rich) and c.formula]
    assert len(formulas) > 100
    referenced = set()
    for formula in formulas:
        assert formula.startswith("=")
        text = re.sub(r'"[^"]*"', '""', formula)
        referenced |= {m.replace("''", "'") for m in re.findall(r"'((?:[^']|'')+)'!", text)}
        assert set(re.findall(r"([A-Z]+)\(", text)) <= SHEETS_FUNCTIONS, formula
    assert referenced == reads and reads <= titles
    # INDEX stops at the Funnel tab's last row: Google has no rows past a tab's grid
    assert any("MIN(" in f and "ROWS('漏斗'!$C:$C)" in f for f in formulas)
    assert sheet.get(4, 17).fmt["numberFormat"]["type"] == "PERCENT"  # completion: a percent
    assert sheet.get(3, 14).fmt["textFormat"]["bold"]


def test_sync_adds_the_dashboard_with_its_charts_in_one_batch_update(
    team: None, server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    gs = backend()
    result = sync_workbook(gs, write=True, as_of=AS_OF)
    assert result.plan.dashboard is not None and result.plan.dashboard.sheet == "仪表盘"
    assert gs.requests == 4 and batch_updates(server) == 1  # the same budget
    (batch,) = server.batches
    assert batch.count("addChart") == 4
    assert batch.index("addChart") > batch.index("addSheet")
    check_dashboard(server, "仪表盘", {"业绩", "漏斗", "问题清单", "销售人员"})

    first = snapshot(server)
    again = backend()
    result = sync_workbook(again, write=True, as_of=AS_OF)
    assert result.plan.is_empty() and result.plan.dashboard is None and not result.wrote
    assert again.requests == 2 and batch_updates(server) == 1  # found by name: nothing added
    assert snapshot(server) == first and len(dashboard_charts(server, "仪表盘")[1]) == 4


def test_dashboard_of_an_english_sheet_is_protected_with_the_owned_tabs(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    server.create(SHEET_ID, {"Leads": _leads(3), "Reps": [["Name", "Team"], ["Li", "East"]]})
    gs = backend(protect_owned=True)
    sync_workbook(gs, write=True, as_of=AS_OF)
    assert gs.requests == 4 and batch_updates(server) == 1
    sheet, charts = dashboard_charts(server, "Dashboard")
    assert len(charts) == 4
    formulas = " ".join(c.formula or "" for row in sheet.grid for c in row if isinstance(c, Rich))
    assert "'Reps'!A2" in formulas and "'Performance'!$B:$B" in formulas
    # an owned tab: protected like the others, once
    assert [p["range"] for p in sheet.extra["protectedRanges"]] == [{"sheetId": sheet.sheet_id}]


def test_a_metadata_read_lists_the_charts(
    team: None, server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    sync_workbook(backend(), write=True, as_of=AS_OF)
    gs = backend()
    meta = gs._call(
        "reading", "fetch_sheet_metadata", {"fields": "sheets(properties/title,charts)"}
    )
    found = {e["properties"]["title"]: len(e.get("charts", [])) for e in meta["sheets"]}
    assert found["仪表盘"] == 4 and sum(found.values()) == 4


# --------------------------------------------------------------------------- concurrency


def test_an_edit_while_syncing_writes_nothing(
    team: None, server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    seen: list[str] = []

    def person_edits(method: str, path: str) -> None:
        seen.append(path)
        if len(seen) == 3:  # after the job's read, before its check
            server.edit(SHEET_ID, "线索跟踪", 6, 3, "丙公司")

    server.before_request = person_edits
    before = snapshot(server)
    with pytest.raises(SheetChanged, match="changed while syncing; nothing was written; run again"):
        sync_workbook(backend(), write=True, as_of=AS_OF)
    assert batch_updates(server) == 0
    after = snapshot(server)
    assert {k for k in after if after[k] != before.get(k)} == {("线索跟踪", 6, 3)}
    assert SheetChanged("x").exit_code == 2


# --------------------------------------------------------------------------- retries


def test_reads_retry_429_honouring_retry_after(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend], sleeps: Sleeps
) -> None:
    server.create(SHEET_ID, {"S": [["a"]]})
    server.fail(429, times=2, match="values:batchGet", retry_after="3")
    gs = backend()
    assert gs.read().sheets[0].rows == [["a"]]
    assert sleeps == [3.0, 3.0]
    assert gs.requests == 4 and gs.retries == 2


def test_5xx_on_read_retries_with_capped_jittered_backoff(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend], sleeps: Sleeps
) -> None:
    server.create(SHEET_ID, {"S": [["a"]]})
    server.fail(503, times=4, match=SHEET_ID)
    policy = RetryPolicy(attempts=5, base=1.0, cap=2.5, sleep=sleeps)
    backend(retry=policy).read()
    assert len(sleeps) == 4
    assert all(0 <= s <= bound for s, bound in zip(sleeps, [1, 2, 2.5, 2.5], strict=True))


def test_retries_are_bounded(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend], sleeps: Sleeps
) -> None:
    server.create(SHEET_ID, {"S": [["a"]]})
    server.fail(429, times=100)
    gs = backend(retry=RetryPolicy(attempts=4, sleep=sleeps))
    with pytest.raises(QuotaExceeded, match="quota exceeded") as caught:
        gs.read()
    assert gs.requests == 4 and len(sleeps) == 3
    assert caught.value.status == 429 and caught.value.exit_code == 2


def test_long_retry_after_gives_up_at_once(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend], sleeps: Sleeps
) -> None:
    server.create(SHEET_ID, {"S": [["a"]]})
    server.fail(429, times=100, retry_after="3600")
    with pytest.raises(QuotaExceeded):
        backend().read()
    assert sleeps == []


def test_batch_update_is_retried_on_429_only(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend], sleeps: Sleeps
) -> None:
    server.create(SHEET_ID, {"S": [["a"]]})
    server.fail(429, times=1, match=":batchUpdate", retry_after="1")
    gs = backend()
    gs.read()
    gs.apply(WritePlan(cells={"S": [CellWrite(1, 2, "b")]}))
    assert server.grid(SHEET_ID, "S") == [["a", "b"]] and batch_updates(server) == 2
    # a 500 may have been applied: never repeated, and the message says what to do
    server.fail(500, times=1, match=":batchUpdate", applied=True)
    gs = backend()
    gs.read()
    with pytest.raises(GoogleApiError, match="may or may not have been applied: run again"):
        gs.apply(WritePlan(cells={"S": [CellWrite(1, 3, "c")]}))
    assert batch_updates(server) == 3
    assert server.grid(SHEET_ID, "S") == [["a", "b", "c"]]


# --------------------------------------------------------------------------- access


def test_wrong_id_is_not_found(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    with pytest.raises(WorkbookNotFound, match="no such Google Sheet") as caught:
        backend("1NoSuchSheet00000000000000000000").read()
    assert caught.value.exit_code == 2 and "\n" not in str(caught.value)


def test_not_shared_names_the_service_account(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    book = server.create(SHEET_ID, {"S": [["a"]]})
    book.readers, book.writers = {"someone@example.com"}, {"someone@example.com"}
    with pytest.raises(SheetNotShared, match=f"not shared with {EMAIL}.*Share"):
        backend().read()
    book.readers = {EMAIL}  # a viewer: reads, may not write
    gs = backend()
    gs.read()
    with pytest.raises(SheetNotShared, match="may view but not edit"):
        gs.apply(WritePlan(cells={"S": [CellWrite(1, 2, "b")]}))


def test_rejected_key_is_one_clear_line(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    server.create(SHEET_ID, {"S": [["a"]]})
    stranger = key_json(server, _key())  # a key Google does not know for this account
    with pytest.raises(CredentialsRejected, match=f"rejected the credentials of {EMAIL}"):
        backend(credentials=stranger).read()
    assert server.api_requests() == []


def test_missing_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("SALESYNC_GOOGLE_CREDENTIALS", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(CredentialsMissing, match="SALESYNC_GOOGLE_CREDENTIALS"):
        GoogleSheetsBackend(SHEET_ID).read()
    monkeypatch.setenv("SALESYNC_GOOGLE_CREDENTIALS", str(tmp_path / "nope.json"))
    with pytest.raises(CredentialsMissing, match="no such credentials file"):
        load_credentials()
    monkeypatch.setenv("SALESYNC_GOOGLE_CREDENTIALS", '{"type": "weird"}')
    with pytest.raises(CredentialsRejected, match="unsupported credentials type"):
        load_credentials()


def test_key_file_from_environment_has_the_spreadsheets_scope_only(
    server: SheetsServer,
    signing_key: rsa.RSAPrivateKey,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    path = tmp_path / "key.json"
    path.write_text(key_json(server, signing_key))
    monkeypatch.delenv("SALESYNC_GOOGLE_CREDENTIALS", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    creds = load_credentials()
    assert tuple(creds.scopes) == (SCOPE,)
    server.create(SHEET_ID, {"S": [["a"]]})
    assert GoogleSheetsBackend(SHEET_ID, endpoint=server.url).read().sheets[0].rows == [["a"]]
    assert all(scopes == {SCOPE} for _, scopes in server.tokens.values())


def test_user_oauth_credentials(
    server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    server.add_oauth_user(
        "client.apps.googleusercontent.com", "s3cret", "1//refresh", "li@example.com"
    )
    user = {
        "type": "authorized_user",
        "client_id": "client.apps.googleusercontent.com",
        "client_secret": "s3cret",
        "refresh_token": "1//refresh",
        "token_uri": server.token_uri,
    }
    book = server.create(SHEET_ID, {"S": [["a"]]})
    book.readers = book.writers = {"li@example.com"}

    def loopback(info: dict[str, str]) -> Any:
        # google-auth always sends authorized_user refreshes to Google's endpoint
        return credentials_from_info(info).with_token_uri(server.token_uri)

    assert backend(credentials=loopback(user)).read().sheets[0].rows == [["a"]]
    assert server.token_requests == 1
    user["refresh_token"] = "1//revoked"
    with pytest.raises(CredentialsRejected, match="rejected the credentials"):
        backend(credentials=loopback(user)).read()


# --------------------------------------------------------------------------- init --google


@pytest.fixture
def init(
    server: SheetsServer, signing_key: rsa.RSAPrivateKey, sleeps: Sleeps
) -> Callable[..., InitSummary]:
    def run(lang: Lang = Lang.ZH_HANS, **kwargs: Any) -> InitSummary:
        server.log.clear()
        return init_google_workbook(
            SHEET_ID,
            lang,
            credentials=key_json(server, signing_key),
            endpoint=server.url,
            as_of=AS_OF,
            retry=RetryPolicy(sleep=sleeps),
            **kwargs,
        )

    return run


def tab(server: SheetsServer, title: str) -> Any:
    sheet = server.books[SHEET_ID].sheet(title)
    assert sheet is not None, title
    return sheet


def job_columns(table_name: str) -> list[int]:
    return [i for i, f in enumerate(SCHEMA.table(table_name).fields) if f.owner is Owner.JOB]


def test_init_sets_up_the_template_in_one_batch_update(
    server: SheetsServer, init: Callable[..., InitSummary]
) -> None:
    server.create(SHEET_ID)  # a new spreadsheet: one empty Sheet1
    summary = init()
    lang = Lang.ZH_HANS
    # one metadata read, one batch update; every request of it valid for the discovery doc
    assert summary.requests == 2 and [m for m, *_ in server.api_requests()] == ["GET", "POST"]
    assert len(server.batches) == 1 and len(server.batches[0]) == summary.updates
    kinds = set(server.batches[0])
    assert {"addSheet", "updateCells", "setDataValidation", "repeatCell"} <= kinds
    assert {"addConditionalFormatRule", "addProtectedRange"} <= kinds
    titles = [s.title for s in server.books[SHEET_ID].sheets]
    expected = [t.title(lang) for t in SCHEMA.data_tables]
    assert titles[0] == "Sheet1" and titles[1 : 1 + len(expected)] == expected
    assert summary.created[: len(expected)] == expected and not summary.kept
    assert {"问题清单", "业绩", "绩效", "漏斗"} <= set(titles)

    for table in SCHEMA.data_tables:
        sheet = tab(server, table.title(lang))
        assert sheet.frozen_rows == 1
        header = [f.header(lang) for f in table.fields]
        assert server.grid(SHEET_ID, table.title(lang))[0][: len(header)] == header
        assert all(sheet.get(0, c).fmt["textFormat"]["bold"] for c in range(len(header)))
        if table.name == "settings":
            continue
        for c, f in enumerate(table.fields):
            labels = choice_labels(f, lang)
            for row in (1, sheet.rows - 1):  # every row below the header, none above
                cell = sheet.get(row, c)
                rule = cell.validation if isinstance(cell, Rich) else None
                if labels:
                    assert rule is not None, (table.name, f.name)
                    assert rule["condition"]["type"] == "ONE_OF_LIST"
                    assert [v["userEnteredValue"] for v in rule["condition"]["values"]] == labels
                    assert rule["strict"] is False  # aliases can still be typed
                else:
                    assert rule is None
                fmt = (cell.fmt or {}).get("numberFormat") if isinstance(cell, Rich) else None
                if f.kind in (Kind.DATE, Kind.DATETIME, Kind.PERCENT):
                    assert fmt is not None and fmt["type"] in ("DATE", "DATE_TIME", "PERCENT")
                else:
                    assert fmt is None
            assert not isinstance(sheet.get(0, c), Rich) or sheet.get(0, c).validation is None

    # the Settings tab: every key with its default, then the SLA/scoring/assignment tables
    settings = server.grid(SHEET_ID, "设置")
    for i, setting in enumerate(SETTING_KEYS, start=1):
        default = setting_value(setting, lang)
        assert settings[i][:2] == [setting.labels[lang], default if default != "" else None]
    assert any(row and row[0] == "SLA规则" for row in settings)

    # SLA status columns: breached/overdue red, open amber
    leads = tab(server, "线索跟踪")
    status_col = [f.name for f in SCHEMA.table("leads").fields].index("first_contact_sla")
    rules = leads.extra["conditionalFormats"]
    words = {}
    for rule in rules:
        assert any(r.get("startColumnIndex") == status_col for r in rule["ranges"])
        condition = rule["booleanRule"]["condition"]
        assert condition["type"] == "TEXT_EQ"
        words[condition["values"][0]["userEnteredValue"]] = rule["booleanRule"]["format"]
    red = words[STATUS_LABELS[Status.BREACHED][lang]]["backgroundColor"]
    assert words[STATUS_LABELS[Status.OVERDUE][lang]]["backgroundColor"] == red
    amber = words[STATUS_LABELS[Status.OPEN][lang]]["backgroundColor"]
    assert red["red"] > 0.9 and red["green"] < 0.8 and amber["green"] > red["green"]
    assert "conditionalFormats" not in tab(server, "销售人员").extra

    # warning-only protection of every ⚙ column and of the owned tabs
    protected = leads.extra["protectedRanges"]
    assert sorted(p["range"]["startColumnIndex"] for p in protected) == job_columns("leads")
    assert all(p["warningOnly"] and p["description"] == PROTECTION_DESCRIPTION for p in protected)
    assert all("startRowIndex" not in p["range"] for p in protected)
    assert [p["range"] for p in tab(server, "问题清单").extra["protectedRanges"]] == [
        {"sheetId": tab(server, "问题清单").sheet_id}
    ]
    assert "protectedRanges" not in tab(server, "销售人员").extra


def test_init_adds_the_dashboard(server: SheetsServer, init: Callable[..., InitSummary]) -> None:
    server.create(SHEET_ID)
    summary = init()
    assert summary.requests == 2 and len(server.batches) == 1
    assert "仪表盘" in summary.created and server.batches[0].count("addChart") == 4
    check_dashboard(server, "仪表盘", {"业绩", "漏斗", "问题清单", "销售人员"})
    sheet = tab(server, "仪表盘")
    assert [p["range"] for p in sheet.extra["protectedRanges"]] == [{"sheetId": sheet.sheet_id}]
    again = init()
    assert "仪表盘" in again.kept and again.requests == 1 and len(server.batches) == 1


def test_a_sync_of_the_new_sheet_finds_nothing_to_do(
    server: SheetsServer,
    init: Callable[..., InitSummary],
    backend: Callable[..., GoogleSheetsBackend],
) -> None:
    server.create(SHEET_ID)
    init()
    gs = backend()
    result = sync_workbook(gs, write=True, as_of=AS_OF)
    assert result.issues == []
    assert result.plan.is_empty() and not result.wrote and gs.requests == 2


@pytest.mark.parametrize("lang", [Lang.ZH_HANT, Lang.EN])
def test_init_in_other_languages(
    lang: Lang,
    server: SheetsServer,
    init: Callable[..., InitSummary],
    backend: Callable[..., GoogleSheetsBackend],
) -> None:
    server.create(SHEET_ID)
    summary = init(lang)
    assert SCHEMA.table("leads").title(lang) in summary.created
    result = sync_workbook(backend(), write=True, as_of=AS_OF)
    assert result.lang is lang and result.issues == [] and result.plan.is_empty()


def test_init_again_changes_nothing(server: SheetsServer, init: Callable[..., InitSummary]) -> None:
    server.create(SHEET_ID)
    first = init()
    before = snapshot(server)
    again = init()
    assert not again.created and not again.prepared and again.protected == 0
    assert sorted(again.kept) == sorted(first.created)
    assert again.requests == 1 and len(server.batches) == 1  # the metadata read only
    assert snapshot(server) == before


def test_init_refuses_a_template_tab_holding_other_data(
    server: SheetsServer, init: Callable[..., InitSummary]
) -> None:
    server.create(SHEET_ID, {"Leads": [["Name", "Phone"], ["Ann", "555"]], "跟进记录": []})
    before = snapshot(server)
    with pytest.raises(InitConflict, match=r"'Leads' already hold data.*nothing was changed"):
        init()
    assert server.batches == [] and snapshot(server) == before
    assert InitConflict("x").exit_code == 2


def test_init_keeps_salesync_tabs_and_sets_up_empty_ones(
    team: None, server: SheetsServer, init: Callable[..., InitSummary]
) -> None:
    book = server.books[SHEET_ID]
    book.sheets.append(type(book.sheets[0])(424242, "Follow-ups", rows=50, cols=5))
    before = snapshot(server)
    summary = init()
    assert {"线索跟踪", "销售人员"} <= set(summary.kept)
    assert summary.prepared == ["Follow-ups"]  # found by its English name, empty: set up
    assert "跟进记录" not in summary.created and "合同订单" in summary.created
    after = snapshot(server)
    assert {k: v for k, v in after.items() if k in before} == before  # nothing overwritten
    assert not any(k[0] in ("线索跟踪", "销售人员", "helper") for k in set(after) - set(before))
    follow_ups = tab(server, "Follow-ups")
    header = [f.header(Lang.ZH_HANS) for f in SCHEMA.table("follow_ups").fields]
    assert server.grid(SHEET_ID, "Follow-ups")[0] == header
    assert follow_ups.frozen_rows == 1 and follow_ups.cols >= len(header)
    assert "protectedRanges" not in tab(server, "线索跟踪").extra  # kept: left as it was


def test_init_without_protection(server: SheetsServer, init: Callable[..., InitSummary]) -> None:
    server.create(SHEET_ID)
    summary = init(protect_owned=False)
    assert summary.protected == 0 and "addProtectedRange" not in server.batches[0]


# --------------------------------------------------------------------------- protection


def protections(server: SheetsServer) -> dict[str, list[dict[str, Any]]]:
    return {
        s.title: s.extra["protectedRanges"]
        for s in server.books[SHEET_ID].sheets
        if s.extra.get("protectedRanges")
    }


def test_owned_columns_and_tabs_are_protected_once(
    team: None, server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    gs = backend(protect_owned=True)
    sync_workbook(gs, write=True, as_of=AS_OF)
    assert gs.requests == 4 and batch_updates(server) == 1  # the same budget
    found = protections(server)
    grid = server.grid(SHEET_ID, "线索跟踪")
    gear = sorted(c for c, h in enumerate(grid[2]) if str(h).startswith("⚙"))
    assert gear  # the owned columns the sync added right of the user's columns
    columns = sorted(p["range"]["startColumnIndex"] for p in found["线索跟踪"])
    assert columns == gear
    for entries in found.values():
        assert all(p["warningOnly"] and p["description"] == PROTECTION_DESCRIPTION for p in entries)
    owned = {"问题清单", "业绩", "绩效", "漏斗"} & set(found)
    assert owned and all(
        len(found[t]) == 1 and set(found[t][0]["range"]) <= {"sheetId"} for t in owned
    )
    assert "销售人员" not in found and "helper" not in found
    assert gs.protections_added == sum(len(v) for v in found.values())

    server.edit(SHEET_ID, "线索跟踪", 6, 3, "丙公司")  # a change that the next sync writes
    again = backend(protect_owned=True)
    result = sync_workbook(again, write=True, as_of=AS_OF)
    assert result.wrote and again.protections_added == 0
    assert again.requests == 4 and batch_updates(server) == 2
    assert protections(server) == found
    assert "addProtectedRange" not in server.batches[-1]


def test_protection_is_off_by_default(
    team: None, server: SheetsServer, backend: Callable[..., GoogleSheetsBackend]
) -> None:
    sync_workbook(backend(), write=True, as_of=AS_OF)
    assert protections(server) == {}
    assert "protectedRanges" not in server.api_requests()[0][1]


# --------------------------------------------------------------------------- live (opt-in)


LIVE_SHEET = os.environ.get("SALESYNC_LIVE_GOOGLE_SHEET")
LIVE_CREDS = os.environ.get("SALESYNC_GOOGLE_CREDENTIALS") or os.environ.get(
    "GOOGLE_APPLICATION_CREDENTIALS"
)


@pytest.mark.skipif(
    not (LIVE_SHEET and LIVE_CREDS),
    reason="live Google test: set SALESYNC_LIVE_GOOGLE_SHEET (a scratch sheet shared with the "
    "service account as Editor) and SALESYNC_GOOGLE_CREDENTIALS",
)
@pytest.mark.parametrize("limit", [MAX_REQUEST_BYTES, 2_000], ids=["one batch", "values apart"])
def test_live_round_trip(limit: int) -> None:
    """Both ways of writing against Google itself: one batch update of CellData, and (with a
    request limit the 60 rows exceed) a batch update of formats then RAW values."""
    assert LIVE_SHEET is not None
    gs = GoogleSheetsBackend(LIVE_SHEET, max_request_bytes=limit)
    book = gs.read()
    title = f"salesync-live-test-{limit}"
    rows = [("text", "when")] + [('=HYPERLINK("x")', date(2024, 1, 2))] * 60
    gs.apply(WritePlan(tabs=[TabWrite(title, rows)]))
    again = GoogleSheetsBackend(LIVE_SHEET).read().sheet(title)
    assert again is not None
    assert again.value(61, 1) == '=HYPERLINK("x")' and (61, 1) not in again.formulas
    assert again.value(61, 2) == date(2024, 1, 2)
    assert book.source.endswith(parse_spreadsheet_id(LIVE_SHEET) or "")
