"""The Google Sheets backend: a shared spreadsheet read and written in a fixed number of calls.

A sync costs four Sheets API requests, whatever the number of rows, as long as its writes fit
in one request (Google refuses bodies above 10 MiB; see 5.):

1. ``GET spreadsheets/{id}`` with a field mask: every tab's id, title, hidden state and grid
   size, plus, for each cell, only the markers the values cannot carry: whether it holds a
   formula, whether its value is an error, and whether its number format is a date or time.
2. ``values:batchGet`` of every tab, UNFORMATTED_VALUE with SERIAL_NUMBER dates. Google trims
   trailing blank cells and rows; rows are padded back to a rectangle. A date-formatted number
   becomes a `date` (DATE), `datetime` (DATE_TIME) or `time` (TIME), so the core compares it
   with what it would write and a second sync plans nothing. An error cell becomes an
   `ExcelError` only when Google marks it as an error, so a person who types "#N/A" keeps text.
3. just before writing, the same ``values:batchGet`` again: if any value changed since step 2
   (someone edited while the job computed), nothing is written and `SheetChanged` says to
   run again.
4. one ``spreadsheets:batchUpdate``: new owned tabs (addSheet, with a frozen bold header),
   grid growth (appendDimension), then ``updateCells`` with typed values (stringValue for text,
   so "=HYPERLINK(…)" stays text; numberValue for dates) and a field mask of
   ``userEnteredValue`` only, so formats, notes and validations stay as they are; a new date
   gets its date format from a ``repeatCell`` over its run of dated cells. Owned cells that
   are adjacent in a row go together: one updateCells per block of rows that start writing at
   the same column, each row as long as its run (`_cell_blocks`); a run of one value down a
   column is one ``repeatCell`` (`_repeats`). Only the written cells are touched. Google
   applies a batch atomically. Bodies go as compact UTF-8 JSON (`_encode`) and are measured
   as sent.
   A plan's Dashboard (a sheet without one) goes into the same batch update: addSheet, its
   helper blocks as values and formulas, four addChart requests (`gsheets_dashboard`). The
   next sync finds the tab by name and adds nothing.
5. a write larger than one request (the first sync of a sheet of hundreds of thousands of
   rows) goes another way, no longer atomic as a whole: the batch update keeps what is not a
   value (new tabs, grid growth, formats, an owned tab's old rows cleared, the Dashboard,
   protections), split at request boundaries if it must be, and the values follow as
   ``values:batchUpdate`` with RAW input (a text is stored as it is, never parsed as a formula,
   a number or a date; a date goes as its serial number, its format set in the batch update;
   "" clears a cell and null leaves it alone), blocks of rows as in 4., about a fifth of the
   bytes of CellData, in as few requests as the limit allows (`_value_blocks`).

Requests that fail with 429 or 5xx are retried with capped exponential backoff and full
jitter, honouring Retry-After, a bounded number of times, and only when repeating is safe:
reads always, a batch update (or values:batchUpdate) only on 429 (Google rejected it before
applying anything).
gspread's own BackOffHTTPClient is not used: it never stops retrying.

With ``protect_owned=True`` the metadata read also asks for the protected ranges, and the batch
update of step 4 also adds a warning-only protected range ("computed by salesync") for each ⚙
column and owned tab not yet covered by one: same four requests, none added the second time.

`init_google_workbook` (``salesync init --google``) sets up the template in an existing
spreadsheet in two requests: a metadata read, then one batch update (tabs, bold frozen
headers, drop-downs, number formats, SLA conditional formats, Settings defaults, owned tabs,
protection, the Dashboard with its charts). It never writes into a tab that has content.

A target is told to be a Google Sheet by `sync.backends.targets`.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import math
import random
import time as clock
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sync.backends.targets import is_google_target as is_google_target
from sync.backends.targets import parse_spreadsheet_id
from sync.core.errors import ExtraMissing, SalesyncError, WorkbookChanged, WorkbookNotFound
from sync.core.model import (
    CellValue,
    CellWrite,
    CellWrites,
    DashboardWrite,
    ExcelError,
    Position,
    RawSheet,
    RawWorkbook,
    TabWrite,
    WritableValue,
    WritePlan,
    sheet_ref,
)
from sync.core.schema import Lang, Table

from .google_auth import CredentialsRejected, load_credentials, principal
from .gsheets_dashboard import column_width_request, dashboard_requests

API_ROOT = "https://sheets.googleapis.com"
# Google refuses bodies above 10 MiB ("Request payload size exceeds the limit: 10485760
# bytes"). Bodies are measured exactly as they are sent (`_encode`), so a small margin will do.
MAX_REQUEST_BYTES = 10 * 1024 * 1024 - 64 * 1024
JSON_UTF8 = "application/json; charset=UTF-8"
EPOCH = datetime(1899, 12, 30)  # Google Sheets' serial 0
ERROR_CODES = frozenset(
    {"#N/A", "#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#ERROR!"}
)
ERROR_TYPE_CODES = {
    "N_A": "#N/A",
    "REF": "#REF!",
    "DIVIDE_BY_ZERO": "#DIV/0!",
    "VALUE": "#VALUE!",
    "NAME": "#NAME?",
    "NUM": "#NUM!",
    "NULL_VALUE": "#NULL!",
    "ERROR": "#ERROR!",
}
DATE_FORMAT = {"type": "DATE", "pattern": "yyyy-mm-dd"}
DATETIME_FORMAT = {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm:ss"}
METADATA_FIELDS = (
    "properties/title,"
    "sheets(properties(sheetId,title,index,hidden,gridProperties(rowCount,columnCount)),"
    "data(startRow,startColumn,rowData(values("
    "userEnteredValue/formulaValue,effectiveValue/errorValue/type,"
    "effectiveFormat/numberFormat/type))))"
)
# with protect_owned: the protected ranges already there, so a second sync adds none
PROTECTED_FIELDS = "protectedRanges(protectedRangeId,range,description,warningOnly)"
PROTECTION_DESCRIPTION = "computed by salesync: edits are overwritten by the next sync"
VALUE_PARAMS = {
    "valueRenderOption": "UNFORMATTED_VALUE",
    "dateTimeRenderOption": "SERIAL_NUMBER",
    "majorDimension": "ROWS",
}
_RUN_BYTES = 512 * 1024  # one updateCells request stays well below the body limit
_MAX_GAP = 32  # rows without a write inside one block of cells: cheaper than a new request


class GoogleApiError(SalesyncError):
    """Google Sheets refused a request; `status` is the HTTP status code."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class SheetNotShared(GoogleApiError):
    """The spreadsheet exists but these credentials may not read (or edit) it."""


class QuotaExceeded(GoogleApiError):
    """Google kept answering 429 after every retry."""


class SheetChanged(WorkbookChanged):
    """The inputs changed between reading and writing; nothing was written."""


# --------------------------------------------------------------------------- transport


@dataclass(slots=True)
class RetryPolicy:
    """Bounded retries: `attempts` tries in all, waits of min(cap, base·2ⁿ) with full jitter;
    a Retry-After longer than `max_retry_after` seconds gives up at once."""

    attempts: int = 5
    base: float = 1.0
    cap: float = 32.0
    max_retry_after: float = 120.0
    sleep: Callable[[float], None] = clock.sleep
    rng: random.Random = field(default_factory=random.Random)

    def wait(self, attempt: int, retry_after: str | None) -> float | None:
        """Seconds to wait before attempt `attempt + 1`; None: do not retry."""
        if attempt >= self.attempts:
            return None
        if retry_after:
            seconds = _retry_after_seconds(retry_after)
            if seconds is not None:
                return seconds if seconds <= self.max_retry_after else None
        return self.rng.uniform(0, min(self.cap, self.base * 2 ** (attempt - 1)))


def _retry_after_seconds(value: str) -> float | None:
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - clock.time())


@dataclass(slots=True)
class Traffic:
    """What a backend sent to the Sheets API: requests (retries included) and body bytes."""

    requests: int = 0
    bytes_sent: int = 0
    retries: int = 0
    log: list[str] = field(default_factory=list)


def _encode(obj: Any) -> bytes:
    """JSON as the backend sends it: compact, UTF-8 (Chinese text is 3 bytes a character, not
    the 6 of a \\uXXXX escape), NaN refused as requests' own encoder does."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _session(credentials: Any, endpoint: str | None, policy: RetryPolicy, traffic: Traffic) -> Any:
    import requests
    from google.auth.transport.requests import AuthorizedSession

    class Session(AuthorizedSession):
        """Points the Sheets API at `endpoint`, counts requests, retries what is safe."""

        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            if endpoint and url.startswith(API_ROOT):
                url = endpoint.rstrip("/") + url[len(API_ROOT) :]
            if kwargs.get("json") is not None:  # gspread's bodies: compact UTF-8 as well
                kwargs["data"] = _encode(kwargs.pop("json"))
                kwargs["headers"] = {**(kwargs.get("headers") or {}), "Content-Type": JSON_UTF8}
            safe = method.upper() == "GET"
            attempt = 0
            while True:
                attempt += 1
                try:
                    response = super().request(method, url, *args, **kwargs)
                except (requests.ConnectionError, requests.Timeout):
                    delay = policy.wait(attempt, None) if safe else None
                    if delay is None:
                        raise
                else:
                    status = response.status_code
                    if not (status == 429 or (safe and status >= 500)):
                        return response
                    delay = policy.wait(attempt, response.headers.get("Retry-After"))
                    if delay is None:
                        return response
                traffic.retries += 1
                policy.sleep(delay)

        def send(self, request: Any, **kwargs: Any) -> Any:
            traffic.requests += 1
            body = request.body or b""
            traffic.bytes_sent += len(body.encode() if isinstance(body, str) else body)
            traffic.log.append(f"{request.method} {request.path_url.split('?')[0]}")
            return super().send(request, **kwargs)

    return Session(credentials)


# --------------------------------------------------------------------------- values


def _from_serial(x: float, kind: str) -> date | datetime | time:
    moment = EPOCH + timedelta(milliseconds=round(x * 86_400_000))
    if kind == "DATE":
        return moment.date()
    if kind == "TIME":
        return moment.time()
    return moment


def _serial(value: date | datetime) -> int | float:
    if isinstance(value, datetime):
        return (value.replace(tzinfo=None) - EPOCH) / timedelta(days=1)
    return (value - EPOCH.date()).days


def _entered(value: WritableValue) -> dict[str, Any]:
    """The CellData that sets the value only: `_raw`'s value, typed; {} (which clears the
    cell) for None and "", as values:batchUpdate takes "" and the .xlsx backend writes no
    cell for it."""
    raw = _raw(value, "")
    if raw == "":
        return {}
    if isinstance(raw, bool):
        return {"userEnteredValue": {"boolValue": raw}}
    if isinstance(raw, int | float):
        return {"userEnteredValue": {"numberValue": raw}}
    return {"userEnteredValue": {"stringValue": raw}}


def _lists(
    writes: Sequence[CellWrite],
) -> tuple[list[int], list[int], list[WritableValue], dict[int, Position]]:
    """The writes' rows, columns and values, place by place, and their model cells by place
    (`CellWrites.lists`, for any sequence of writes)."""
    if isinstance(writes, CellWrites):
        return writes.lists()
    likes = {i: w.style_like for i, w in enumerate(writes) if w.style_like is not None}
    return [w.row for w in writes], [w.col for w in writes], [w.value for w in writes], likes


def _date_format(value: WritableValue) -> dict[str, str] | None:
    """The number format a date or datetime is written with."""
    if isinstance(value, datetime):
        return DATETIME_FORMAT
    return DATE_FORMAT if isinstance(value, date) else None


def _cell(value: WritableValue) -> dict[str, Any]:
    """The CellData that sets the value and, for a date, its number format. None clears."""
    data = _entered(value)
    fmt = _date_format(value)
    if fmt is not None:
        data["userEnteredFormat"] = {"numberFormat": dict(fmt)}
    return data


def _a1(row: int, col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


@dataclass(slots=True)
class _Tab:
    sheet_id: int
    title: str
    rows: int
    cols: int
    formulas: frozenset[Position] = frozenset()
    dated: frozenset[Position] = frozenset()
    grid: list[list[CellValue]] = field(default_factory=list)
    protected: list[dict[str, Any]] = field(default_factory=list)  # protectedRanges


# --------------------------------------------------------------------------- the backend


class GoogleSheetsBackend:
    """A Google spreadsheet as a salesync workbook: `read()` and `apply(plan)`.

    `credentials`: google.auth credentials, a key file path or JSON text; None reads the
    environment (see `sync.backends.google_auth`). `endpoint` replaces
    https://sheets.googleapis.com (tests use a loopback server). After a sync, `requests`,
    `bytes_sent` and `retries` tell what it cost.

    `protect_owned`: every write also puts a warning-only protection ("computed by salesync")
    on each ⚙ column and owned tab that has none yet, in the same batch update (no extra
    request: the metadata read also returns the existing protected ranges, so a second sync
    adds none). People can still edit those cells; Google asks them to confirm first.
    `protections_added` counts what the last write added.

    `adds_dashboard`: a sheet without a Dashboard tab gets one (with its four native charts)
    in the sync's one batch update.
    """

    adds_dashboard = True

    def __init__(
        self,
        spreadsheet: str,
        credentials: Any = None,
        *,
        endpoint: str | None = None,
        retry: RetryPolicy | None = None,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        timeout: float | tuple[float, float] = (10.0, 300.0),
        protect_owned: bool = False,
    ) -> None:
        spreadsheet_id = parse_spreadsheet_id(spreadsheet)
        if spreadsheet_id is None:
            raise WorkbookNotFound(f"{spreadsheet}: not a Google Sheets URL or spreadsheet id")
        self.spreadsheet_id = spreadsheet_id
        self.source = f"https://docs.google.com/spreadsheets/d/{spreadsheet_id}"
        self.traffic = Traffic()
        self._credentials_arg = credentials
        self._endpoint = endpoint
        self._retry = retry or RetryPolicy()
        self._max_bytes = max_request_bytes
        self._run_bytes = min(_RUN_BYTES, max_request_bytes // 4)
        self._timeout = timeout
        self._http: Any = None
        self._credentials: Any = None
        self._tabs: dict[str, _Tab] = {}
        self._ranges: list[str] = []
        self._digest: str | None = None
        self.protect_owned = protect_owned
        self.protections_added = 0

    def __repr__(self) -> str:
        return f"GoogleSheetsBackend({self.spreadsheet_id!r})"

    @property
    def requests(self) -> int:
        return self.traffic.requests

    @property
    def bytes_sent(self) -> int:
        return self.traffic.bytes_sent

    @property
    def retries(self) -> int:
        return self.traffic.retries

    # -- HTTP through gspread
    def _client(self) -> Any:
        if self._http is None:
            try:
                import gspread
            except ImportError:
                raise ExtraMissing("gspread", "google") from None
            self._credentials = load_credentials(self._credentials_arg)
            session = _session(self._credentials, self._endpoint, self._retry, self.traffic)
            client = gspread.Client(None, session=session)  # type: ignore[arg-type]
            client.set_timeout(self._timeout)
            self._http = client.http_client
        return self._http

    def _call(self, action: str, method: str | Callable[[Any], Any], *args: Any) -> Any:
        """gspread's HTTP client `method` with the spreadsheet id and `args` (or `method`
        itself called with the client), Google's errors turned into salesync's."""
        import requests
        from google.auth import exceptions as auth_errors
        from gspread.exceptions import APIError

        http = self._client()
        try:
            if callable(method):
                return method(http)
            return getattr(http, method)(self.spreadsheet_id, *args)
        except APIError as error:
            raise self._api_error(error, action) from error
        except auth_errors.RefreshError as error:
            reason = error.args[0] if error.args else error
            raise CredentialsRejected(
                f"Google rejected the credentials of {principal(self._credentials)}: {reason}"
            ) from error
        except (auth_errors.TransportError, requests.RequestException) as error:
            raise GoogleApiError(
                f"cannot reach Google Sheets while {action} ({type(error).__name__}); "
                "check the network and run again"
            ) from error

    def _api_error(self, error: Any, action: str) -> SalesyncError:
        status = int(getattr(error, "code", 0) or 0)
        message = str(error.error.get("message", "")) if hasattr(error, "error") else str(error)
        who = principal(self._credentials)
        if status == 404:
            return WorkbookNotFound(f"{self.source}: no such Google Sheet (check the URL or id)")
        if status == 401 or "insufficient authentication scopes" in message:
            return CredentialsRejected(f"Google rejected the credentials of {who}: {message}")
        if status == 403:
            if action == "writing":
                return SheetNotShared(
                    f"{self.source}: {who} may view but not edit this sheet; share it with "
                    f"{who} as Editor",
                    status,
                )
            return SheetNotShared(
                f"{self.source} is not shared with {who}: open it, click Share and add {who} "
                "as Editor",
                status,
            )
        if status == 429:
            return QuotaExceeded(
                f"Google Sheets quota exceeded while {action} (429 after "
                f"{self._retry.attempts} attempts); wait a minute and run again",
                status,
            )
        if status == 400 and "above the limit of" in message and "cells" in message:
            return GoogleApiError(
                f"{self.source}: the write needs more cells than Google allows a spreadsheet "
                "(10 million, all its tabs together; Google: "
                f"{message.rsplit(': ', 1)[-1]}). Delete the empty rows and columns at the "
                "ends of its tabs, or move old rows to another spreadsheet, and run again",
                status,
            )
        if status >= 500 and action == "writing":
            return GoogleApiError(
                f"Google Sheets failed while writing ({status}: {message}); the write may or may "
                "not have been applied: run again (a sync only writes what is still missing)",
                status,
            )
        return GoogleApiError(f"Google Sheets refused {action} ({status}): {message}", status)

    # -- read
    def read(self) -> RawWorkbook:
        fields = METADATA_FIELDS
        if self.protect_owned:
            fields = fields.replace("sheets(", f"sheets({PROTECTED_FIELDS},", 1)
        meta = self._call("reading", "fetch_sheet_metadata", {"fields": fields})
        tabs = [self._tab(entry) for entry in meta.get("sheets", [])]
        self._ranges = [sheet_ref(tab.title) for tab in tabs]
        batch = self._batch_get() if tabs else {"valueRanges": []}
        ranges = batch.get("valueRanges", [])
        self._digest = _digest(ranges)
        self._tabs = {}
        sheets = []
        for tab, entry, value_range in zip(tabs, meta.get("sheets", []), ranges, strict=True):
            tab.grid = self._grid(value_range.get("values", []), tab, entry)
            self._tabs[tab.title] = tab
            hidden = bool(entry.get("properties", {}).get("hidden", False))
            sheets.append(RawSheet(tab.title, tab.grid, hidden=hidden, formulas=tab.formulas))
        return RawWorkbook(sheets, source=self.source)

    def _batch_get(self) -> dict[str, Any]:
        return self._call("reading", "values_batch_get", list(self._ranges), dict(VALUE_PARAMS))

    @staticmethod
    def _tab(entry: dict[str, Any]) -> _Tab:
        props = entry.get("properties", {})
        grid = props.get("gridProperties", {})
        return _Tab(
            int(props.get("sheetId", 0)),
            str(props.get("title", "")),
            int(grid.get("rowCount", 0)),
            int(grid.get("columnCount", 0)),
            protected=list(entry.get("protectedRanges", [])),
        )

    @staticmethod
    def _grid(values: list[list[Any]], tab: _Tab, entry: dict[str, Any]) -> list[list[CellValue]]:
        width = max((len(r) for r in values), default=0)
        grid: list[list[CellValue]] = [
            [*row, *([""] * (width - len(row)))] if len(row) < width else list(row)
            for row in values
        ]
        formulas: set[Position] = set()
        dated: set[Position] = set()
        # a date column repeats its days and times: each distinct serial is converted once
        moments: dict[tuple[float, str], date | datetime | time] = {}
        for block in entry.get("data", []):
            r0, c0 = block.get("startRow", 0), block.get("startColumn", 0)
            for i, row in enumerate(block.get("rowData", [])):
                for j, cell in enumerate(row.get("values", [])):
                    if not cell:
                        continue
                    r, c = r0 + i, c0 + j
                    if "userEnteredValue" in cell:
                        formulas.add((r + 1, c + 1))
                    current = grid[r][c] if r < len(grid) and c < len(grid[r]) else None
                    error = cell.get("effectiveValue", {}).get("errorValue")
                    if error is not None and current is not None:
                        code = current if current in ERROR_CODES else None
                        grid[r][c] = ExcelError(
                            code or ERROR_TYPE_CODES.get(error.get("type"), "#ERROR!")
                        )
                        continue
                    kind = cell.get("effectiveFormat", {}).get("numberFormat", {}).get("type")
                    if kind in ("DATE", "DATE_TIME", "TIME"):
                        dated.add((r + 1, c + 1))
                        if isinstance(current, int | float) and not isinstance(current, bool):
                            key = (float(current), kind)
                            moment = moments.get(key)
                            if moment is None:
                                moment = moments[key] = _from_serial(*key)
                            grid[r][c] = moment
        tab.formulas = frozenset(formulas)
        tab.dated = frozenset(dated)
        return grid

    # -- write
    def apply(self, plan: WritePlan) -> None:
        if plan.is_empty():
            return
        if self._digest is None:
            self.read()
        tabs = {title: replace(tab) for title, tab in self._tabs.items()}
        values: list[dict[str, Any]] | None = None
        bodies = None
        if _cells_in(plan) * _MIN_CELL_BYTES <= self._max_bytes:
            bodies = list(self._bodies(self._all_requests(plan, None)))
        if bodies is None or len(bodies) > 1:
            # More than one batch update's worth: the values go apart, as values:batchUpdate
            # (RAW), several times more compact than CellData; formats and tabs stay in the
            # batch update, sent first so that the grid is there for the values.
            self._tabs, values = tabs, []
            bodies = list(self._bodies(self._all_requests(plan, values)))
        if _digest(self._batch_get().get("valueRanges", [])) != self._digest:
            raise SheetChanged(
                f"{self.source}: the sheet changed while syncing; nothing was written; run again"
            )
        for body in bodies:
            self._batch_update(body)
        for body in self._value_bodies(values or []):
            self._values_batch_update(body)
        self._digest = None  # what we read is stale now

    def _all_requests(
        self, plan: WritePlan, values: list[dict[str, Any]] | None
    ) -> list[dict[str, Any]]:
        """`_requests`, and the protections when asked for; checks the plan first."""
        requests = self._requests(plan, values)
        self.protections_added = 0
        if self.protect_owned:
            protections = self._protection_requests(plan)
            self.protections_added = len(protections)
            requests += protections
        return requests

    def _values_batch_update(self, body: bytes) -> None:
        """POST one values:batchUpdate body, already encoded (`_value_bodies`)."""
        from gspread.urls import SPREADSHEET_VALUES_BATCH_UPDATE_URL

        url = SPREADSHEET_VALUES_BATCH_UPDATE_URL % self.spreadsheet_id
        headers = {"Content-Type": JSON_UTF8}
        self._call("writing", lambda http: http.request("post", url, data=body, headers=headers))

    def _batch_update(self, body: bytes) -> None:
        """POST one batchUpdate body, already encoded (`_bodies`)."""
        from gspread.urls import SPREADSHEET_BATCH_UPDATE_URL

        url = SPREADSHEET_BATCH_UPDATE_URL % self.spreadsheet_id
        headers = {"Content-Type": JSON_UTF8}
        self._call("writing", lambda http: http.request("post", url, data=body, headers=headers))

    def _requests(
        self, plan: WritePlan, values: list[dict[str, Any]] | None = None
    ) -> list[dict[str, Any]]:
        """The batch update's requests; with `values`, the cells' values are left out of them
        and go into `values` as ValueRanges instead."""
        out: list[dict[str, Any]] = []
        for title, writes in plan.cells.items():
            if writes:
                out.extend(self._cell_requests(title, writes, values))
        used = {tab.sheet_id for tab in self._tabs.values()}
        for tab_write in plan.tabs:
            out.extend(self._tab_requests(tab_write, used, values))
        if plan.dashboard is not None:
            out.extend(self._dashboard_requests(plan.dashboard, used))
        return out

    def _dashboard_requests(self, dash: DashboardWrite, used: set[int]) -> list[dict[str, Any]]:
        """The Dashboard tab with its helper blocks and charts (after the owned tabs its
        formulas read, so those exist when Google applies them)."""
        if dash.sheet in self._tabs:
            raise SalesyncError(f"{self.source}: a tab named {dash.sheet!r} is already there")
        sheet_id = _new_sheet_id(used, dash.sheet)
        used.add(sheet_id)
        requests = dashboard_requests(dash, sheet_id)
        grid = requests[0]["addSheet"]["properties"]["gridProperties"]
        self._tabs[dash.sheet] = _Tab(sheet_id, dash.sheet, grid["rowCount"], grid["columnCount"])
        return requests

    def _cell_requests(
        self, title: str, writes: Sequence[CellWrite], into: list[dict[str, Any]] | None
    ) -> Iterator[dict[str, Any]]:
        tab = self._tabs.get(title)
        if tab is None:
            raise SalesyncError(f"{self.source}: no tab named {title!r}")
        # the writes as lists, not a CellWrite each (a first sync writes a million cells)
        rows, cols, written, likes = _lists(writes)
        positions = list(zip(rows, cols, strict=True))
        if tab.formulas:
            for r, c in filter(tab.formulas.__contains__, positions):
                raise SalesyncError(
                    f"{self.source}: {title}!{_a1(r, c)} holds a formula; "
                    "salesync never overwrites formulas"
                )
        yield from _grow(tab, max(rows), max(cols))
        for i, (src_row, src_col) in sorted(likes.items()):  # in the order of the writes
            r, c = positions[i]
            if _blank(tab.grid, r, c):
                yield {
                    "copyPaste": {
                        "source": _span(tab.sheet_id, src_row, src_col),
                        "destination": _span(tab.sheet_id, r, c),
                        "pasteType": "PASTE_FORMAT",
                    }
                }
        latest = dict(zip(positions, written, strict=True))  # a cell written twice: the last
        dates: dict[Position, dict[str, str]] = {}
        for position, value in latest.items():
            fmt = _date_format(value)
            if fmt is not None and position not in tab.dated:
                dates[position] = fmt
        if into is not None:
            raw = {position: _raw(value, "") for position, value in latest.items()}
            into.extend(_value_blocks(title, raw, self._run_bytes))
            yield from _format_runs(tab.sheet_id, dates)
            return
        values = {position: _entered(value) for position, value in latest.items()}
        columns: dict[int, list[int]] = {}
        for r, c in values:
            columns.setdefault(c, []).append(r)
        repeats = _repeats(columns, values)
        yield from _cell_blocks(tab.sheet_id, values, self._run_bytes)
        for c, r0, r1, cell in repeats:
            yield _repeat_cell(tab.sheet_id, r0, r1, c, c, cell, "userEnteredValue")
        yield from _format_runs(tab.sheet_id, dates)

    def _tab_requests(
        self, tab_write: TabWrite, used: set[int], into: list[dict[str, Any]] | None = None
    ) -> Iterator[dict[str, Any]]:
        rows = tab_write.rows
        height = len(rows)
        width = max((len(r) for r in rows), default=0)
        tab = self._tabs.get(tab_write.sheet)
        if tab is None:
            sheet_id = _new_sheet_id(used, tab_write.sheet)
            used.add(sheet_id)
            header = min(tab_write.header_rows, height)
            grid_rows = max(height + 1, 100)
            props: dict[str, Any] = {
                "sheetId": sheet_id,
                "title": tab_write.sheet,
                "gridProperties": {"rowCount": grid_rows, "columnCount": max(width, 1)},
            }
            if header:
                props["gridProperties"]["frozenRowCount"] = header
            yield {"addSheet": {"properties": props}}
            if header and width:
                yield {
                    "repeatCell": {
                        "range": {
                            "sheetId": sheet_id,
                            "startRowIndex": 0,
                            "endRowIndex": header,
                            "startColumnIndex": 0,
                            "endColumnIndex": width,
                        },
                        "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                        "fields": "userEnteredFormat.textFormat.bold",
                    }
                }
            if header and width:  # a filter button on each header: its rows open-ended
                yield {
                    "setBasicFilter": {
                        "filter": {
                            "range": {
                                "sheetId": sheet_id,
                                "startRowIndex": header - 1,
                                "startColumnIndex": 0,
                                "endColumnIndex": width,
                            }
                        }
                    }
                }
            for i, chars in enumerate(tab_write.column_widths[: max(width, 1)]):
                yield column_width_request(sheet_id, i, chars)
            tab = _Tab(sheet_id, tab_write.sheet, grid_rows, max(width, 1))
            self._tabs[tab.title] = tab
        else:
            yield from _grow(tab, height, width)
        has_dates = any(isinstance(v, date) for r in rows for v in r)
        fields = "userEnteredValue" + (",userEnteredFormat.numberFormat" if has_dates else "")
        total = max(tab.rows, height)
        if into is not None:  # the rows cleared, the dates formatted, then the values
            yield _replace_rows(tab.sheet_id, 0, total, [], fields)
            dates = {
                (r, c): fmt
                for r, values in enumerate(rows, start=1)
                for c, v in enumerate(values, start=1)
                if (fmt := _date_format(v)) is not None
            }
            yield from _format_runs(tab.sheet_id, dates)
            raw = {
                (r, c): _raw(v, None)
                for r, values in enumerate(rows, start=1)
                for c, v in enumerate(values, start=1)
            }
            into.extend(_value_blocks(tab_write.sheet, raw, self._run_bytes))
            return
        # whole rows of the grid: the range clears the cells its rows leave out, so a row
        # goes without its trailing blanks and the grid's rows past the new content are cleared
        grid = {
            (r, c): _cell(v)
            for r, values in enumerate(rows, start=1)
            for c, v in enumerate(values, start=1)
        }
        columns: dict[int, list[int]] = {}
        for r, c in grid:
            columns.setdefault(c, []).append(r)
        repeats = _repeats(columns, grid)
        encoded: list[dict[str, Any]] = []
        sizes: list[int] = []
        for r, values in enumerate(rows, start=1):
            cells = [grid[r, c] for c in range(1, len(values) + 1)]
            while cells and (not cells[-1] or cells[-1] is _SKIP):
                cells.pop()
            encoded.append({"values": cells} if cells else {})
            sizes.append(14 + sum(_size(cell) for cell in cells))
        start, chunk, size = 0, [], 0
        for i, row in enumerate(encoded):
            chunk.append(row)
            size += sizes[i]
            if size >= self._run_bytes and i + 1 < len(encoded):
                yield _replace_rows(tab.sheet_id, start, start + len(chunk), chunk, fields)
                start, chunk, size = start + len(chunk), [], 0
        yield _replace_rows(tab.sheet_id, start, total, chunk, fields)
        for c, r0, r1, cell in repeats:  # after the rows that cleared those cells
            yield _repeat_cell(tab.sheet_id, r0, r1, c, c, cell, fields)

    # -- init
    def init_template(
        self, lang: Lang | str, *, protect_owned: bool = True, as_of: datetime | None = None
    ) -> InitSummary:
        """Set up the template's tabs in this (existing) spreadsheet: one metadata read, then
        one batch update. See `init_google_workbook`."""
        from sync.core.headers import find_header_row, find_table_by_name
        from sync.core.schema import SCHEMA

        lang = Lang(lang)
        meta = self._call("reading", "fetch_sheet_metadata", {"fields": INIT_FIELDS})
        entries = meta.get("sheets", [])
        self._tabs = {}
        existing: dict[str, tuple[_Tab, dict[str, Any], RawSheet]] = {}
        for entry in entries:
            tab = self._tab(entry)
            tab.grid = _entered_grid(entry)
            self._tabs[tab.title] = tab
            existing[tab.title] = (tab, entry, RawSheet(tab.title, tab.grid))
        by_table: dict[str, str] = {}  # table name → the existing tab that holds it
        for title in existing:
            table = find_table_by_name(title)
            if table is not None and (table.name not in by_table or title == table.title(lang)):
                by_table[table.name] = title

        summary = InitSummary(self.source, lang)
        conflicts: list[str] = []
        setups: list[tuple[Table, _Tab | None, dict[str, Any] | None]] = []
        for table in SCHEMA.data_tables:
            found = by_table.get(table.name)
            if found is None:
                setups.append((table, None, None))
                continue
            tab, entry, sheet = existing[found]
            if not any(v not in (None, "") for row in tab.grid for v in row):
                setups.append((table, tab, entry))  # an empty tab of that name: set it up
            elif find_header_row(sheet, table)[0]:
                summary.kept.append(found)  # already a salesync tab: left as it is
            else:
                conflicts.append(found)
        if conflicts:
            names = ", ".join(repr(t) for t in conflicts)
            raise InitConflict(
                f"{self.source}: {names} already hold data that is not a salesync table; "
                "nothing was changed: rename or empty them, then run init again"
            )

        used = {tab.sheet_id for tab in self._tabs.values()}
        requests: list[dict[str, Any]] = []
        for table, target, entry in setups:
            if target is None:
                summary.created.append(table.title(lang))
            else:
                summary.prepared.append(target.title)
            requests.extend(
                self._table_setup(table, lang, target, entry or {}, used, protect_owned, summary)
            )
        for tab_write in _owned_tabs(lang, as_of):
            table = find_table_by_name(tab_write.sheet)
            if table is not None and table.name in by_table:
                summary.kept.append(by_table[table.name])  # the sync regenerates it
                continue
            requests.extend(self._tab_requests(tab_write, used))
            summary.created.append(tab_write.sheet)
            if protect_owned:
                requests.append(_protect(self._tabs[tab_write.sheet].sheet_id, None))
                summary.protected += 1
        dashboard = _init_dashboard(lang, by_table)
        if dashboard is None:
            summary.kept.append(by_table["dashboard"])
        else:
            requests.extend(self._dashboard_requests(dashboard, used))
            summary.created.append(dashboard.sheet)
            if protect_owned:
                requests.append(_protect(self._tabs[dashboard.sheet].sheet_id, None))
                summary.protected += 1
        summary.updates = len(requests)
        for body in self._bodies(requests):
            self._batch_update(body)
        self._digest = None
        summary.requests = self.requests
        return summary

    def _table_setup(
        self,
        table: Table,
        lang: Lang,
        tab: _Tab | None,
        entry: dict[str, Any],
        used: set[int],
        protect: bool,
        summary: InitSummary,
    ) -> Iterator[dict[str, Any]]:
        """The requests that give a new tab (`tab` None) or an existing empty one the
        template's header, widths, formats, drop-downs, conditional formats and protection."""
        from sync.core.schema import SETTING_KEYS, Owner
        from sync.templates import (
            HEADER_FILL,
            OWNED_FILL,
            choice_labels,
            column_format_hint,
            setting_value,
        )

        fields = list(table.fields)
        rows: list[list[Any]] = [[f.header(lang) for f in fields]]
        bold_rows = {0}
        choice_rows: list[tuple[int, list[str]]] = []
        if table.name == "settings":
            from sync.templates import settings_sections

            for setting in SETTING_KEYS:
                value = setting_value(setting, lang)
                rows.append([setting.labels[lang], value, setting.help.get(lang, "")])
                if setting.choices is not None:
                    labels = [c.labels[lang] for c in setting.choices.choices]
                    choice_rows.append((len(rows) - 1, labels))
            for section in settings_sections(lang):
                rows.append([])
                bold_rows.add(len(rows))
                rows.extend(list(r) for r in section)
        width = max(len(r) for r in rows)
        height = max(INIT_ROWS, len(rows) + 1)
        if tab is None:
            sheet_id = _new_sheet_id(used, table.title(lang))
            used.add(sheet_id)
            yield {
                "addSheet": {
                    "properties": {
                        "sheetId": sheet_id,
                        "title": table.title(lang),
                        "gridProperties": {
                            "rowCount": height,
                            "columnCount": width,
                            "frozenRowCount": 1,
                        },
                    }
                }
            }
            tab = _Tab(sheet_id, table.title(lang), height, width)
            self._tabs[tab.title] = tab
        else:
            sheet_id = tab.sheet_id
            yield from _grow(tab, len(rows) + 1, width)
            yield {
                "updateSheetProperties": {
                    "properties": {"sheetId": sheet_id, "gridProperties": {"frozenRowCount": 1}},
                    "fields": "gridProperties.frozenRowCount",
                }
            }
        header = [
            {
                "userEnteredValue": {"stringValue": h},
                "userEnteredFormat": {
                    "textFormat": {"bold": True},
                    "backgroundColor": _color(OWNED_FILL if f.owned else HEADER_FILL),
                },
            }
            for h, f in zip(rows[0], fields, strict=True)
        ]
        body = [{"values": header}]
        for i, row in enumerate(rows[1:], start=1):
            cells = [_cell(v if v != "" else None) for v in row]
            if i in bold_rows:
                for cell in cells:
                    cell["userEnteredFormat"] = {"textFormat": {"bold": True}}
            body.append({"values": cells})
        yield {
            "updateCells": {
                "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
                "rows": body,
                "fields": "userEnteredValue,userEnteredFormat.textFormat.bold,"
                "userEnteredFormat.backgroundColor",
            }
        }
        for i, chars in enumerate(_widths(table, lang)):
            yield column_width_request(sheet_id, i, chars)
        data = {"sheetId": sheet_id, "startRowIndex": 1}  # below the header, every row
        for c, f in enumerate(fields):
            column = data | {"startColumnIndex": c, "endColumnIndex": c + 1}
            kind = _NUMBER_TYPES.get(f.kind.value)
            pattern = column_format_hint(f)
            if table.name != "settings" and kind and pattern:
                number_format = {"type": kind, "pattern": pattern}
                yield {
                    "repeatCell": {
                        "range": column,
                        "cell": {"userEnteredFormat": {"numberFormat": number_format}},
                        "fields": "userEnteredFormat.numberFormat",
                    }
                }
            options = choice_labels(f, lang)
            if table.name != "settings" and options:
                yield _one_of(column, options)
            if protect and f.owner is Owner.JOB and not _covered(tab.protected, c + 1):
                yield _protect(sheet_id, c + 1)
                summary.protected += 1
        for at, labels in choice_rows:
            yield _one_of(
                {
                    "sheetId": sheet_id,
                    "startRowIndex": at,
                    "endRowIndex": at + 1,
                    "startColumnIndex": 1,
                    "endColumnIndex": 2,
                },
                labels,
            )
        yield from _status_formats(table, lang, sheet_id, entry)

    def _protection_requests(self, plan: WritePlan) -> list[dict[str, Any]]:
        """addProtectedRange (warning only) for every ⚙ column and owned tab as they will be
        after `plan`, unless a protected range already covers it. Call after `_requests`
        (new owned tabs have their sheet id then)."""
        from sync.core.headers import HEADER_SCAN_ROWS, bind_workbook
        from sync.core.schema import Owner

        # the tabs' header rows as they will be once the plan's cells are written
        sheets = []
        for tab in self._tabs.values():
            top = [list(row) for row in tab.grid[:HEADER_SCAN_ROWS]]
            for w in plan.cells.get(tab.title, ()):
                if w.row <= HEADER_SCAN_ROWS and isinstance(w.value, str):
                    while len(top) < w.row:
                        top.append([])
                    row = top[w.row - 1]
                    row.extend([None] * (w.col - len(row)))
                    row[w.col - 1] = w.value
            sheets.append(RawSheet(tab.title, top))
        binding = bind_workbook(sheets)
        whole = {t.sheet for t in plan.tabs}
        columns: list[tuple[str, int]] = []
        for bound in binding.tables.values():
            if bound.table.owned:
                whole.add(bound.sheet.name)
            elif bound.table.section_of is None:
                for f in bound.table.fields:
                    col = bound.columns.get(f.name)
                    if f.owner is Owner.JOB and col and f.name not in bound.unusable:
                        columns.append((bound.sheet.name, col))
        out = []
        for title in sorted(whole):
            tab = self._tabs[title]
            if not _covered(tab.protected, None):
                out.append(_protect(tab.sheet_id, None))
        for title, col in columns:
            tab = self._tabs[title]
            if title not in whole and not _covered(tab.protected, col):
                out.append(_protect(tab.sheet_id, col))
        return out

    def _bodies(self, requests: list[dict[str, Any]]) -> Iterator[bytes]:
        """One batchUpdate body, or several when Google's size limit demands it."""
        return self._packed(requests, b'{"requests":[', b"]}")

    def _value_bodies(self, ranges: list[dict[str, Any]]) -> Iterator[bytes]:
        """values:batchUpdate bodies (RAW: a text is stored as the text, never parsed as a
        formula or a number) of the ValueRanges, as few as Google's size limit allows."""
        return self._packed(ranges, b'{"valueInputOption":"RAW","data":[', b"]}")

    def _packed(self, items: list[dict[str, Any]], head: bytes, tail: bytes) -> Iterator[bytes]:
        """`head`, the items as a JSON list, `tail`: in as few bodies as `max_request_bytes`
        allows, each encoded as it is sent, so its length is exactly what is checked."""
        envelope = len(head) + len(tail)
        batch: list[bytes] = []
        size = envelope
        for item in items:
            encoded = _encode(item)
            n = len(encoded) + 1  # and a comma
            if batch and size + n > self._max_bytes:
                yield head + b",".join(batch) + tail
                batch, size = [], envelope
            if envelope + n - 1 > self._max_bytes:
                raise SalesyncError(
                    f"{self.source}: one update is larger than Google's request size limit"
                )
            batch.append(encoded)
            size += n
        if batch:
            yield head + b",".join(batch) + tail


# --------------------------------------------------------------------------- init


class InitConflict(SalesyncError):
    """A tab that init would set up already holds something else; nothing was written."""


@dataclass(slots=True)
class InitSummary:
    """What `init_google_workbook` did: tabs created, existing empty tabs set up, existing
    salesync tabs kept as they were, protected ranges added, and what it cost (`updates`
    requests inside the batch update, `requests` HTTP requests to the Sheets API)."""

    source: str
    lang: Lang
    created: list[str] = field(default_factory=list)
    prepared: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    protected: int = 0
    updates: int = 0
    requests: int = 0

    def lines(self) -> list[str]:
        out = []
        if self.created:
            out.append("created: " + ", ".join(self.created))
        if self.prepared:
            out.append("set up (were empty): " + ", ".join(self.prepared))
        if self.kept:
            out.append("kept as they were: " + ", ".join(self.kept))
        if not self.created and not self.prepared:
            out.append("nothing to do: every tab of the template is there")
        out.append(f"{self.requests} Google Sheets API requests")
        return out


def init_google_workbook(
    target: str,
    lang: Lang | str,
    *,
    credentials: Any = None,
    endpoint: str | None = None,
    protect_owned: bool = True,
    as_of: datetime | None = None,
    retry: RetryPolicy | None = None,
) -> InitSummary:
    """Set up the template in an existing Google spreadsheet (`salesync init --google`).

    One metadata read, then one batch update (split only above Google's size limit) that adds
    each data tab of the template in `lang` with its bold frozen header (⚙ columns grey),
    column widths, date/percent number formats, drop-downs on every enumeration and yes/no
    column (a list, not strict: aliases such as "展会-行业展" can still be typed), red/amber
    conditional formats on the SLA status columns, the Settings rows with their defaults and
    the SLA, scoring and assignment tables; the owned tabs as a sync of the empty workbook
    writes them; the Dashboard with its four native charts; and, with `protect_owned`, a
    warning-only protection on each ⚙ column and owned tab.

    Tabs are matched by name in any language. A missing tab is added; an existing empty tab is
    set up in place; an existing tab that already holds its salesync table (its header found)
    is kept untouched, and so is an existing owned tab. A tab under a template name that holds
    anything else stops init before anything is written (`InitConflict`): user data is never
    overwritten. Running init again changes nothing.
    """
    backend = GoogleSheetsBackend(target, credentials, endpoint=endpoint, retry=retry)
    return backend.init_template(lang, protect_owned=protect_owned, as_of=as_of)


INIT_ROWS = 1000  # a new tab's grid, as Google makes one
INIT_FIELDS = (
    "properties/title,"
    "sheets(properties(sheetId,title,index,hidden,gridProperties(rowCount,columnCount)),"
    f"{PROTECTED_FIELDS},conditionalFormats(ranges,booleanRule/condition),"
    "data(startRow,startColumn,rowData(values(userEnteredValue))))"
)
_NUMBER_TYPES = {"date": "DATE", "datetime": "DATE_TIME", "percent": "PERCENT"}


def _entered_grid(entry: dict[str, Any]) -> list[list[CellValue]]:
    """A tab's content as typed (formulas as their text), from grid data."""
    grid: list[list[CellValue]] = []
    for block in entry.get("data", []):
        r0, c0 = block.get("startRow", 0), block.get("startColumn", 0)
        for i, row in enumerate(block.get("rowData", [])):
            for j, cell in enumerate(row.get("values", [])):
                entered = cell.get("userEnteredValue") if cell else None
                if not entered:
                    continue
                r, c = r0 + i, c0 + j
                while len(grid) <= r:
                    grid.append([])
                line = grid[r]
                line.extend([None] * (c + 1 - len(line)))
                line[c] = next(iter(entered.values()))
    return grid


def _widths(table: Table, lang: Lang) -> list[float]:
    from sync.templates import column_width

    if table.name == "settings":
        return [22.0, 18.0, 60.0]  # label, value, help: as the xlsx template
    return [column_width(f, lang) for f in table.fields]


def _color(hex_rgb: str) -> dict[str, float]:
    value = hex_rgb.lstrip("#")
    red, green, blue = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return {"red": round(red, 4), "green": round(green, 4), "blue": round(blue, 4)}


def _one_of(span: dict[str, int], labels: list[str]) -> dict[str, Any]:
    """A drop-down that warns but accepts other text (aliases, "展会-detail")."""
    return {
        "setDataValidation": {
            "range": span,
            "rule": {
                "condition": {
                    "type": "ONE_OF_LIST",
                    "values": [{"userEnteredValue": label} for label in labels],
                },
                "strict": False,
                "showCustomUi": True,
            },
        }
    }


def _status_formats(
    table: Table, lang: Lang, sheet_id: int, entry: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """Red for breached / overdue, amber for open, on the table's SLA status columns; a rule
    the tab already has (same word, same column) is not added twice."""
    from sync.core.sla import DEFAULT_RULES, OUTPUTS, STATUS_LABELS, Status
    from sync.templates import BAD_FILL, BAD_FONT, OPEN_FILL, OPEN_FONT

    names = {
        OUTPUTS[r.id][1] for r in DEFAULT_RULES if r.table == table.name and r.id in OUTPUTS
    } - {None}
    columns = [i for i, f in enumerate(table.fields) if f.name in names]
    if not columns:
        return
    have = set()
    for rule in entry.get("conditionalFormats", []):
        condition = rule.get("booleanRule", {}).get("condition", {})
        words = tuple(v.get("userEnteredValue") for v in condition.get("values", []))
        for span in rule.get("ranges", []):
            have.add((condition.get("type"), words, span.get("startColumnIndex", 0)))
    looks = [
        (Status.BREACHED, BAD_FILL, BAD_FONT),
        (Status.OVERDUE, BAD_FILL, BAD_FONT),
        (Status.OPEN, OPEN_FILL, OPEN_FONT),
    ]
    for status, fill, font in looks:
        word = STATUS_LABELS[status][lang]
        spans = [
            {
                "sheetId": sheet_id,
                "startRowIndex": 1,
                "startColumnIndex": c,
                "endColumnIndex": c + 1,
            }
            for c in columns
            if ("TEXT_EQ", (word,), c) not in have
        ]
        if spans:
            yield {
                "addConditionalFormatRule": {
                    "rule": {
                        "ranges": spans,
                        "booleanRule": {
                            "condition": {
                                "type": "TEXT_EQ",
                                "values": [{"userEnteredValue": word}],
                            },
                            "format": {
                                "backgroundColor": _color(fill),
                                "textFormat": {"foregroundColor": _color(font)},
                            },
                        },
                    },
                    "index": 0,
                }
            }


def _owned_tabs(lang: Lang, as_of: datetime | None) -> list[TabWrite]:
    """The owned tabs as a sync of the blank workbook writes them: the job itself is run on
    the template's tabs in memory, so `check` on a fresh sheet has nothing to change."""
    from sync.core.schema import SCHEMA, SETTING_KEYS
    from sync.job import sync_workbook
    from sync.templates import setting_value, settings_sections

    sheets = []
    for table in SCHEMA.data_tables:
        rows: list[list[CellValue]] = [[f.header(lang) for f in table.fields]]
        if table.name == "settings":
            for s in SETTING_KEYS:
                rows.append([s.labels[lang], setting_value(s, lang), s.help.get(lang, "")])
            for section in settings_sections(lang):
                rows.append([])
                rows.extend(list(r) for r in section)
        sheets.append(RawSheet(table.title(lang), rows))

    class Blank:
        plan = WritePlan()

        def read(self) -> RawWorkbook:
            return RawWorkbook(sheets, "template")

        def apply(self, plan: WritePlan) -> None:
            self.plan = plan

    blank = Blank()
    sync_workbook(blank, write=True, as_of=as_of, lang=lang)
    return list(blank.plan.tabs)


def _init_dashboard(lang: Lang, by_table: dict[str, str]) -> DashboardWrite | None:
    """The Dashboard init adds (none when a tab is there): it reads the tabs init keeps by
    their names, the others by the titles init gives them."""
    from sync.core.plan import DASHBOARD_SOURCES
    from sync.core.schema import DASHBOARD, SCHEMA

    if DASHBOARD.name in by_table:
        return None
    tabs = tuple(
        (name, by_table.get(name) or SCHEMA.table(name).title(lang)) for name in DASHBOARD_SOURCES
    )
    return DashboardWrite(DASHBOARD.title(lang), lang.value, tabs)


def _protect(sheet_id: int, col: int | None) -> dict[str, Any]:
    """A warning-only protected range: the whole tab, or the whole (1-based) column `col`."""
    span: dict[str, int] = {"sheetId": sheet_id}
    if col is not None:
        span |= {"startColumnIndex": col - 1, "endColumnIndex": col}
    return {
        "addProtectedRange": {
            "protectedRange": {
                "range": span,
                "description": PROTECTION_DESCRIPTION,
                "warningOnly": True,
            }
        }
    }


def _covered(protected: list[dict[str, Any]], col: int | None) -> bool:
    """Whether a protected range of the tab already spans the whole tab (`col` None) or every
    row of column `col`. Google leaves zero indexes and unbounded ends out of its answers."""
    for entry in protected:
        span = entry.get("range")
        if span is None or span.get("startRowIndex", 0) or "endRowIndex" in span:
            continue
        start, end = span.get("startColumnIndex", 0), span.get("endColumnIndex")
        if col is None:
            if start == 0 and end is None:
                return True
        elif start <= col - 1 and (end is None or end >= col):
            return True
    return False


def _digest(value_ranges: list[dict[str, Any]]) -> str:
    payload = json.dumps([r.get("values", []) for r in value_ranges], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _blank(grid: list[list[CellValue]], row: int, col: int) -> bool:
    if row - 1 < len(grid) and col - 1 < len(grid[row - 1]):
        return grid[row - 1][col - 1] in (None, "")
    return True


def _span(sheet_id: int, row: int, col: int) -> dict[str, int]:
    return {
        "sheetId": sheet_id,
        "startRowIndex": row - 1,
        "endRowIndex": row,
        "startColumnIndex": col - 1,
        "endColumnIndex": col,
    }


def _grow(tab: _Tab, rows: int, cols: int) -> Iterator[dict[str, Any]]:
    if rows > tab.rows:
        yield {
            "appendDimension": {
                "sheetId": tab.sheet_id,
                "dimension": "ROWS",
                "length": rows - tab.rows,
            }
        }
        tab.rows = rows
    if cols > tab.cols:
        yield {
            "appendDimension": {
                "sheetId": tab.sheet_id,
                "dimension": "COLUMNS",
                "length": cols - tab.cols,
            }
        }
        tab.cols = cols


def _size(cell: dict[str, Any]) -> int:
    """About the encoded length of a CellData of `_cell` and its comma (at least that, unless
    its text has control characters or characters beyond the BMP), without encoding it."""
    entered = cell.get("userEnteredValue")
    if not entered:
        return 3
    value = next(iter(entered.values()))
    size = 48 + (3 * len(value) if isinstance(value, str) else 24)
    return size + 96 if "userEnteredFormat" in cell else size


_SKIP: dict[str, Any] = {}  # in a block, a cell a repeatCell after it writes (never mutated)
_REPEAT_COST = 200  # a repeatCell request without its cell, about, encoded


def _repeats(
    columns: dict[int, list[int]], cells: dict[Position, dict[str, Any]]
) -> list[tuple[int, int, int, dict[str, Any]]]:
    """The runs of one value down a column (rows one after another, all in `cells`) that cost
    fewer bytes as a repeatCell than cell by cell: (column, first row, last row, CellData).
    Their cells in `cells` become `_SKIP`: the blocks write (and clear) them as {} or leave
    them out, and the repeatCell, sent after the blocks, writes the value."""
    out = []
    for c in sorted(columns):
        rows = sorted(columns[c])
        i = 0
        while i < len(rows):
            cell = cells[rows[i], c]
            j = i
            while (
                j + 1 < len(rows) and rows[j + 1] == rows[j] + 1 and cells[rows[j + 1], c] == cell
            ):
                j += 1
            size = _size(cell)
            if cell and (j - i + 1) * (size - 3) > _REPEAT_COST + size:
                out.append((c, rows[i], rows[j], cell))
                for r in rows[i : j + 1]:
                    cells[r, c] = _SKIP
            i = j + 1
    return out


def _repeat_cell(
    sheet_id: int, r0: int, r1: int, c0: int, c1: int, cell: dict[str, Any], fields: str
) -> dict[str, Any]:
    """repeatCell of `cell` over rows r0…r1 and columns c0…c1 (1-based, inclusive)."""
    return {
        "repeatCell": {
            "range": {
                "sheetId": sheet_id,
                "startRowIndex": r0 - 1,
                "endRowIndex": r1,
                "startColumnIndex": c0 - 1,
                "endColumnIndex": c1,
            },
            "cell": cell,
            "fields": fields,
        }
    }


def _cell_blocks(
    sheet_id: int, values: dict[Position, dict[str, Any]], max_bytes: int
) -> Iterator[dict[str, Any]]:
    """updateCells requests (values only) that write exactly the cells of `values`, no other:
    one per block of `_row_blocks`, whose rows without a run are an empty RowData and write
    nothing ("any number of rows and columns, including a different number of columns per
    row, may be written"). A cell that a repeatCell writes (`_SKIP`) ends no row."""

    def cost(cells: list[dict[str, Any]]) -> int:
        return 14 + sum(map(_size, cells))

    for top, col, rows in _row_blocks(values, _SKIP, cost, max_bytes):
        yield _update_cells(sheet_id, top, col, [{"values": r} if r else {} for r in rows])


def _row_blocks(
    values: dict[Position, Any], skip: Any, cost: Callable[[list[Any]], int], max_bytes: int
) -> Iterator[tuple[int, int, list[list[Any]]]]:
    """The cells of `values` as blocks (first row, first column, rows), each row the values
    of one run from that column on ([] for a row without one there). In each row the written
    columns fall into runs of adjacent columns; the runs that start at the same column, in
    rows close together (`_MAX_GAP`), go as one block of about `max_bytes` at most (`cost`
    of a run, 3 bytes an empty row). A run loses its trailing `skip` values."""
    by_row: dict[int, list[int]] = {}
    for r, c in values:
        by_row.setdefault(r, []).append(c)
    runs: dict[int, list[tuple[int, list[Any]]]] = {}  # start column → (row, values)
    for r in sorted(by_row):
        cols = sorted(by_row[r])
        first = 0
        for i in range(1, len(cols) + 1):
            if i == len(cols) or cols[i] != cols[i - 1] + 1:
                run = [values[r, c] for c in cols[first:i]]
                while run and run[-1] is skip:
                    run.pop()
                if run:
                    runs.setdefault(cols[first], []).append((r, run))
                first = i
    for col in sorted(runs):
        rows: list[list[Any]] = []
        top = size = 0
        for r, run in runs[col]:
            gap = r - top - len(rows)
            n = cost(run)
            if rows and (gap > _MAX_GAP or size + 3 * gap + n > max_bytes):
                yield top, col, rows
                rows = []
            if not rows:
                top, size, gap = r, 0, 0
            rows.extend([] for _ in range(gap))
            rows.append(run)
            size += 3 * gap + n
        if rows:
            yield top, col, rows


def _update_cells(sheet_id: int, row: int, col: int, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": row - 1, "columnIndex": col - 1},
            "rows": rows,
            "fields": "userEnteredValue",
        }
    }


_MIN_CELL_BYTES = len(b'{"userEnteredValue":{"numberValue":1}},')
"""The fewest bytes a written cell takes in an updateCells request."""


def _cells_in(plan: WritePlan) -> int:
    """How many cells the plan writes a value into (not a blank), at least."""
    cells = sum(w.value not in _BLANKS for writes in plan.cells.values() for w in writes)
    return cells + sum(v not in _BLANKS for tab in plan.tabs for row in tab.rows for v in row)


_BLANKS = (None, "")


def _raw(value: WritableValue, blank: str | None) -> Any:
    """A value as values:batchUpdate takes it with RAW input (a date as its serial number;
    its format is set apart); a blank as `blank`: "" clears the cell, None (null) skips it."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return blank
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, date):
        return _serial(value)
    return str(value)


def _raw_size(value: Any) -> int:
    """About the encoded length of a `_raw` value and its comma (at least that, unless its
    text has control characters or characters beyond the BMP)."""
    if value is None:
        return 5
    if isinstance(value, str):
        return 3 + 3 * len(value)
    return 24


def _value_blocks(
    title: str, values: dict[Position, Any], max_bytes: int
) -> Iterator[dict[str, Any]]:
    """ValueRanges that write exactly the cells of `values` (raw values; None skips a cell),
    no other: one per block of `_row_blocks`, a row without a run there as [] (nothing
    written)."""

    def cost(run: list[Any]) -> int:
        return 3 + sum(map(_raw_size, run))

    for top, col, rows in _row_blocks(values, None, cost, max_bytes):
        yield _value_range(title, top, col, rows, max(map(len, rows)))


def _value_range(
    title: str, row: int, col: int, rows: list[list[Any]], width: int
) -> dict[str, Any]:
    cells = f"{_a1(row, col)}:{_a1(row + len(rows) - 1, col + width - 1)}"
    return {"range": f"{sheet_ref(title)}!{cells}", "majorDimension": "ROWS", "values": rows}


def _format_runs(
    sheet_id: int, formats: dict[Position, dict[str, str]]
) -> Iterator[dict[str, Any]]:
    """repeatCell requests that give each cell of `formats` its number format (and no other
    cell one): one per rectangle of adjacent cells with the same format, found as runs of rows
    in a column, then runs of the same rows in adjacent columns."""
    spans: dict[tuple[int, int, str], list[int]] = {}  # (first row, last row, type) → columns
    by_col: dict[int, list[int]] = {}
    for r, c in formats:
        by_col.setdefault(c, []).append(r)
    for c in sorted(by_col):
        rows = sorted(by_col[c])
        first = 0
        for i in range(1, len(rows) + 1):
            if (
                i == len(rows)
                or rows[i] != rows[i - 1] + 1
                or formats[rows[i], c] != formats[rows[first], c]
            ):
                kind = formats[rows[first], c]["type"]
                spans.setdefault((rows[first], rows[i - 1], kind), []).append(c)
                first = i
    for (r0, r1, kind), cols in spans.items():
        fmt = DATETIME_FORMAT if kind == DATETIME_FORMAT["type"] else DATE_FORMAT
        c0 = 0
        for i in range(1, len(cols) + 1):
            if i == len(cols) or cols[i] != cols[i - 1] + 1:
                cell = {"userEnteredFormat": {"numberFormat": dict(fmt)}}
                field = "userEnteredFormat.numberFormat"
                yield _repeat_cell(sheet_id, r0, r1, cols[c0], cols[i - 1], cell, field)
                c0 = i


def _replace_rows(
    sheet_id: int, start: int, end: int, rows: list[dict[str, Any]], fields: str
) -> dict[str, Any]:
    return {
        "updateCells": {
            "range": {"sheetId": sheet_id, "startRowIndex": start, "endRowIndex": end},
            "rows": rows,
            "fields": fields,
        }
    }


def _new_sheet_id(used: set[int], title: str) -> int:
    """A stable id for a new tab (derived from its title), unique in the spreadsheet."""
    candidate = int(hashlib.sha256(title.encode()).hexdigest()[:7], 16) + 1
    while candidate in used:
        candidate += 1
    return candidate
