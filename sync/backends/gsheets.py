"""The Google Sheets backend: a shared spreadsheet read and written in a fixed number of calls.

A sync costs at most four Sheets API requests, whatever the number of rows:

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
   so "=HYPERLINK(…)" stays text; numberValue plus a date format for dates) and a field mask
   of ``userEnteredValue`` only, so formats, notes and validations stay as they are. Google
   applies a batch atomically. Only a body above Google's request size limit is split, at
   request boundaries, into several batches (and is then no longer atomic as a whole).

Requests that fail with 429 or 5xx are retried with capped exponential backoff and full
jitter, honouring Retry-After, a bounded number of times, and only when repeating is safe:
reads always, a batch update only on 429 (Google rejected it before applying anything).
gspread's own BackOffHTTPClient is not used: it never stops retrying.

>>> parse_spreadsheet_id("https://docs.google.com/spreadsheets/d/1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789/edit#gid=0")
'1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'
>>> parse_spreadsheet_id("report.xlsx") is None
True
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import math
import random
import re
import time as clock
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sync.core.errors import ExtraMissing, SalesyncError, WorkbookNotFound
from sync.core.model import (
    CellValue,
    CellWrite,
    ExcelError,
    Position,
    RawSheet,
    RawWorkbook,
    TabWrite,
    WritableValue,
    WritePlan,
)

from .google_auth import CredentialsRejected, load_credentials, principal

API_ROOT = "https://sheets.googleapis.com"
MAX_REQUEST_BYTES = 9 * 1024 * 1024  # Google refuses bodies above 10 MiB; keep a margin
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
VALUE_PARAMS = {
    "valueRenderOption": "UNFORMATTED_VALUE",
    "dateTimeRenderOption": "SERIAL_NUMBER",
    "majorDimension": "ROWS",
}
_ID = re.compile(r"^[A-Za-z0-9_-]{25,}$")
_URL = re.compile(r"docs\.google\.com/spreadsheets/(?:u/\d+/)?d/([A-Za-z0-9_-]+)")
_RUN_BYTES = 512 * 1024  # one updateCells request stays well below the body limit


class GoogleApiError(SalesyncError):
    """Google Sheets refused a request; `status` is the HTTP status code."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class SheetNotShared(GoogleApiError):
    """The spreadsheet exists but these credentials may not read (or edit) it."""


class QuotaExceeded(GoogleApiError):
    """Google kept answering 429 after every retry."""


class SheetChanged(SalesyncError):
    """The inputs changed between reading and writing; nothing was written."""


def parse_spreadsheet_id(target: str) -> str | None:
    """The spreadsheet id in a Google Sheets URL, or `target` itself when it looks like one."""
    text = target.strip()
    found = _URL.search(text)
    if found:
        return found.group(1)
    return text if _ID.match(text) and "." not in text else None


def is_google_target(target: str) -> bool:
    return parse_spreadsheet_id(target) is not None


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


def _session(credentials: Any, endpoint: str | None, policy: RetryPolicy, traffic: Traffic) -> Any:
    import requests
    from google.auth.transport.requests import AuthorizedSession

    class Session(AuthorizedSession):
        """Points the Sheets API at `endpoint`, counts requests, retries what is safe."""

        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            if endpoint and url.startswith(API_ROOT):
                url = endpoint.rstrip("/") + url[len(API_ROOT) :]
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


def _cell(value: WritableValue, keep_date_format: bool) -> tuple[dict[str, Any], bool]:
    """(CellData, whether it sets a number format). None clears the value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return {}, False
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}, False
    if isinstance(value, int | float):
        return {"userEnteredValue": {"numberValue": value}}, False
    if isinstance(value, date):
        data: dict[str, Any] = {"userEnteredValue": {"numberValue": _serial(value)}}
        if keep_date_format:
            return data, False
        fmt = DATETIME_FORMAT if isinstance(value, datetime) else DATE_FORMAT
        data["userEnteredFormat"] = {"numberFormat": dict(fmt)}
        return data, True
    return {"userEnteredValue": {"stringValue": str(value)}}, False


def _quote(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


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


# --------------------------------------------------------------------------- the backend


class GoogleSheetsBackend:
    """A Google spreadsheet as a salesync workbook: `read()` and `apply(plan)`.

    `credentials`: google.auth credentials, a key file path or JSON text; None reads the
    environment (see `sync.backends.google_auth`). `endpoint` replaces
    https://sheets.googleapis.com (tests use a loopback server). After a sync, `requests`,
    `bytes_sent` and `retries` tell what it cost.
    """

    def __init__(
        self,
        spreadsheet: str,
        credentials: Any = None,
        *,
        endpoint: str | None = None,
        retry: RetryPolicy | None = None,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        timeout: float | tuple[float, float] = (10.0, 300.0),
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

    def _call(self, action: str, method: str, *args: Any) -> Any:
        import requests
        from google.auth import exceptions as auth_errors
        from gspread.exceptions import APIError

        http = self._client()
        try:
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
        if status >= 500 and action == "writing":
            return GoogleApiError(
                f"Google Sheets failed while writing ({status}: {message}); the write may or may "
                "not have been applied: run again (a sync only writes what is still missing)",
                status,
            )
        return GoogleApiError(f"Google Sheets refused {action} ({status}): {message}", status)

    # -- read
    def read(self) -> RawWorkbook:
        meta = self._call("reading", "fetch_sheet_metadata", {"fields": METADATA_FIELDS})
        tabs = [self._tab(entry) for entry in meta.get("sheets", [])]
        self._ranges = [_quote(tab.title) for tab in tabs]
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
                            grid[r][c] = _from_serial(float(current), kind)
        tab.formulas = frozenset(formulas)
        tab.dated = frozenset(dated)
        return grid

    # -- write
    def apply(self, plan: WritePlan) -> None:
        if plan.is_empty():
            return
        if self._digest is None:
            self.read()
        requests = self._requests(plan)  # checks the plan before any request is sent
        if _digest(self._batch_get().get("valueRanges", [])) != self._digest:
            raise SheetChanged(
                f"{self.source}: the sheet changed while syncing; nothing was written; run again"
            )
        for body in self._bodies(requests):
            self._call("writing", "batch_update", body)
        self._digest = None  # what we read is stale now

    def _requests(self, plan: WritePlan) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for title, writes in plan.cells.items():
            if writes:
                out.extend(self._cell_requests(title, writes))
        used = {tab.sheet_id for tab in self._tabs.values()}
        for tab_write in plan.tabs:
            out.extend(self._tab_requests(tab_write, used))
        return out

    def _cell_requests(self, title: str, writes: list[CellWrite]) -> Iterator[dict[str, Any]]:
        tab = self._tabs.get(title)
        if tab is None:
            raise SalesyncError(f"{self.source}: no tab named {title!r}")
        for w in writes:
            if (w.row, w.col) in tab.formulas:
                raise SalesyncError(
                    f"{self.source}: {title}!{_a1(w.row, w.col)} holds a formula; "
                    "salesync never overwrites formulas"
                )
        yield from _grow(tab, max(w.row for w in writes), max(w.col for w in writes))
        for w in writes:
            blank = _blank(tab.grid, w.row, w.col)
            if w.style_like is not None and blank:
                src_row, src_col = w.style_like
                yield {
                    "copyPaste": {
                        "source": _span(tab.sheet_id, src_row, src_col),
                        "destination": _span(tab.sheet_id, w.row, w.col),
                        "pasteType": "PASTE_FORMAT",
                    }
                }
        cells = sorted(writes, key=lambda w: (w.col, w.row))
        run: list[dict[str, Any]] = []
        run_start: CellWrite | None = None
        run_format = False
        run_bytes = 0
        previous: CellWrite | None = None
        for w in cells:
            data, sets_format = _cell(w.value, (w.row, w.col) in tab.dated)
            size = len(json.dumps(data))
            contiguous = (
                previous is not None
                and run_start is not None
                and w.col == previous.col
                and w.row == previous.row + 1
                and sets_format == run_format
                and run_bytes + size < self._run_bytes
            )
            if not contiguous and run:
                assert run_start is not None
                yield _update_cells(tab.sheet_id, run_start, run, run_format)
                run, run_bytes = [], 0
            if not run:
                run_start, run_format = w, sets_format
            run.append(data)
            run_bytes += size
            previous = w
        if run:
            assert run_start is not None
            yield _update_cells(tab.sheet_id, run_start, run, run_format)

    def _tab_requests(self, tab_write: TabWrite, used: set[int]) -> Iterator[dict[str, Any]]:
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
            for i, chars in enumerate(tab_write.column_widths[: max(width, 1)]):
                yield {
                    "updateDimensionProperties": {
                        "range": {
                            "sheetId": sheet_id,
                            "dimension": "COLUMNS",
                            "startIndex": i,
                            "endIndex": i + 1,
                        },
                        "properties": {"pixelSize": round(chars * 7 + 5)},
                        "fields": "pixelSize",
                    }
                }
            tab = _Tab(sheet_id, tab_write.sheet, grid_rows, max(width, 1))
            self._tabs[tab.title] = tab
        else:
            yield from _grow(tab, height, width)
        has_dates = any(isinstance(v, date) for r in rows for v in r)
        fields = "userEnteredValue" + (",userEnteredFormat.numberFormat" if has_dates else "")
        encoded = [{"values": [_cell(v, False)[0] for v in row]} for row in rows]
        # whole rows of the grid: cells past the new content are cleared
        start, chunk, size = 0, [], 0
        total = max(tab.rows, height)
        for i, row in enumerate(encoded):
            chunk.append(row)
            size += len(json.dumps(row))
            if size >= self._run_bytes and i + 1 < len(encoded):
                yield _replace_rows(tab.sheet_id, start, start + len(chunk), chunk, fields)
                start, chunk, size = start + len(chunk), [], 0
        yield _replace_rows(tab.sheet_id, start, total, chunk, fields)

    def _bodies(self, requests: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """One batchUpdate body, or several when Google's size limit demands it."""
        batch: list[dict[str, Any]] = []
        size = 20
        for request in requests:
            n = len(json.dumps(request)) + 2
            if batch and size + n > self._max_bytes:
                yield {"requests": batch}
                batch, size = [], 20
            if n > self._max_bytes:
                raise SalesyncError(
                    f"{self.source}: one update is larger than Google's request size limit"
                )
            batch.append(request)
            size += n
        if batch:
            yield {"requests": batch}


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


def _update_cells(
    sheet_id: int, start: CellWrite, run: list[dict[str, Any]], sets_format: bool
) -> dict[str, Any]:
    fields = "userEnteredValue" + (",userEnteredFormat.numberFormat" if sets_format else "")
    return {
        "updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": start.row - 1, "columnIndex": start.col - 1},
            "rows": [{"values": [cell]} for cell in run],
            "fields": fields,
        }
    }


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
