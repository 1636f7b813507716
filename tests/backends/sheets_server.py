"""A loopback Google Sheets API v4 server, for tests that must not reach Google.

It implements the endpoints salesync's Google backend uses (and the few more that the recorded
gspread traffic in /work/shared/google-sheets-recordings exercises) with Google's documented
behaviour, so that the real gspread and google-auth can run against it:

- ``GET  /v4/spreadsheets/{id}``: metadata; grid data when ``fields`` asks for
  ``sheets.data`` (``includeGridData`` is ignored when a field mask is set, as on Google);
  ``ranges`` limit the grid data; partial responses follow the ``fields`` mask.
- ``GET  /v4/spreadsheets/{id}/values/{range}`` and ``values:batchGet``: trailing empty cells
  and rows trimmed, no ``values`` key for an empty range, A1 ranges with quoted tab names
  (``'My Tab'!A1:Z``), every value/date render option (dates as serial numbers).
- ``PUT  …/values/{range}`` (RAW and USER_ENTERED), ``POST …/values/{range}:clear``,
  ``POST …/values:batchUpdate``: enough to replay the recordings.
- ``POST /v4/spreadsheets/{id}:batchUpdate``: every request is checked against the Sheets API
  discovery document shipped in google-api-python-client (request types, field names, types,
  enums, field masks); the whole batch is validated and applied to a copy, which replaces the
  spreadsheet only when every request succeeded (an invalid request changes nothing: 400).
  ``addChart`` (basic charts) checks that every data range lies in an existing tab's grid and
  that the anchor cell does; the charts come back in the tab's ``charts``.
- ``POST /token``: the OAuth 2.0 token endpoint. A service account's JWT assertion is checked
  against the public key registered for it (RS256), so the real token exchange runs.
- Failure injection (429 with Retry-After, 5xx), a request size limit on the body's bytes as
  sent, and a hook that runs before each API request (to play a person editing the sheet
  while a sync runs). JSON bodies are decoded as UTF-8; `keep_bodies` keeps them raw.

Dates are serial numbers with Google's epoch, 1899-12-30; a cell is a date when its number
format type is DATE, DATE_TIME or TIME.
"""

from __future__ import annotations

import ast
import base64
import copy
import json
import operator
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

SCOPE = "https://www.googleapis.com/auth/spreadsheets"
EPOCH = datetime(1899, 12, 30)
MAX_BODY = 10 * 1024 * 1024  # Google: "Request payload size exceeds the limit: 10485760 bytes."
ERROR_TYPES = {
    "#N/A": "N_A",
    "#DIV/0!": "DIVIDE_BY_ZERO",
    "#REF!": "REF",
    "#VALUE!": "VALUE",
    "#NAME?": "NAME",
    "#NUM!": "NUM",
    "#NULL!": "NULL_VALUE",
    "#ERROR!": "ERROR",
}
DATE_TYPES = {"DATE", "DATE_TIME", "TIME"}


def discovery_document() -> dict[str, Any]:
    import googleapiclient

    path = Path(googleapiclient.__file__).parent / "discovery_cache/documents/sheets.v4.json"
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- cells


@dataclass(frozen=True, slots=True)
class Err:
    code: str  # "#DIV/0!"


@dataclass(frozen=True, slots=True)
class Rich:
    """A cell with more than a plain value: a formula, a format, a validation rule."""

    value: Any = None  # effective value: str | float | bool | Err | None
    formula: str | None = None
    fmt: dict[str, Any] | None = None  # userEnteredFormat, never mutated in place
    validation: dict[str, Any] | None = None
    note: str | None = None


def _value(cell: Any) -> Any:
    return cell.value if isinstance(cell, Rich) else cell


def _is_empty(cell: Any) -> bool:
    return cell is None or (isinstance(cell, Rich) and cell.value is None and not cell.formula)


def serial(value: date | datetime) -> float:
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return (value - EPOCH) / timedelta(days=1)


def _number(x: float) -> int | float:
    return int(x) if isinstance(x, float) and x.is_integer() and abs(x) < 2**53 else x


@dataclass
class Sheet:
    sheet_id: int
    title: str
    rows: int = 1000
    cols: int = 26
    hidden: bool = False
    frozen_rows: int = 0
    grid: list[list[Any]] = field(default_factory=list)  # sparse: ragged, None for blank
    extra: dict[str, Any] = field(default_factory=dict)  # protectedRanges, conditionalFormats…
    dims: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)

    def get(self, r: int, c: int) -> Any:
        if r < len(self.grid) and c < len(self.grid[r]):
            return self.grid[r][c]
        return None

    def put(self, r: int, c: int, cell: Any) -> None:
        while len(self.grid) <= r:
            self.grid.append([])
        row = self.grid[r]
        if c >= len(row):
            if cell is None:
                return
            row.extend([None] * (c + 1 - len(row)))
        row[c] = cell

    def properties(self, index: int) -> dict[str, Any]:
        grid: dict[str, Any] = {"rowCount": self.rows, "columnCount": self.cols}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        props: dict[str, Any] = {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": index,
            "sheetType": "GRID",
            "gridProperties": grid,
        }
        if self.hidden:
            props["hidden"] = True
        return props

    def clone(self) -> Sheet:
        twin = copy.copy(self)
        twin.grid = [list(r) for r in self.grid]
        twin.extra = copy.deepcopy(self.extra)
        twin.dims = dict(self.dims)
        return twin


@dataclass
class Spreadsheet:
    spreadsheet_id: str
    title: str
    sheets: list[Sheet]
    readers: set[str] | None = None  # principals allowed to read; None: anyone with a token
    writers: set[str] | None = None

    def sheet(self, title: str) -> Sheet | None:
        return next((s for s in self.sheets if s.title == title), None)

    def by_id(self, sheet_id: int) -> Sheet:
        for s in self.sheets:
            if s.sheet_id == sheet_id:
                return s
        raise ApiError(400, f"No grid with id: {sheet_id}")


class ApiError(Exception):
    STATUS: ClassVar[dict[int, str]] = {
        400: "INVALID_ARGUMENT",
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        429: "RESOURCE_EXHAUSTED",
        500: "INTERNAL",
        503: "UNAVAILABLE",
    }

    def __init__(self, code: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.headers = code, message, headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "status": self.STATUS.get(self.code, "UNKNOWN"),
            }
        }


# --------------------------------------------------------------------------- A1 notation


def col_letters(index: int) -> str:
    """0-based column index → letters: 0 → A, 26 → AA."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def quote_title(title: str) -> str:
    plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) and not re.fullmatch(
        r"[A-Za-z]{1,3}[0-9]+", title
    )
    return title if plain else "'" + title.replace("'", "''") + "'"


_CELL = re.compile(r"^([A-Za-z]*)([0-9]*)$")


def parse_range(book: Spreadsheet, text: str) -> tuple[Sheet, int, int, int, int]:
    """An A1 range → (sheet, row0, col0, row1, col1), 0-based and half-open, within the grid."""
    title, _, cells = text.rpartition("!") if "!" in text else (text, "", "")
    if title.startswith("'") and title.endswith("'") and len(title) >= 2:
        title = title[1:-1].replace("''", "'")
    sheet = book.sheet(title) if "!" in text or title else None
    if sheet is None and "!" not in text:
        # no tab: a bare A1 range on the first sheet, unless the whole text is a tab name
        sheet, cells = book.sheets[0], text
        if not _looks_like_cells(text):
            raise ApiError(400, f"Unable to parse range: {text}")
    if sheet is None:
        raise ApiError(400, f"Unable to parse range: {text}")
    if not cells:
        return sheet, 0, 0, sheet.rows, sheet.cols
    first, _, last = cells.partition(":")
    m1, m2 = _CELL.match(first), _CELL.match(last or first)
    if not m1 or not m2 or not (first and (m1.group(1) or m1.group(2))):
        raise ApiError(400, f"Unable to parse range: {text}")
    c0 = _col_index(m1.group(1)) if m1.group(1) else 0
    r0 = int(m1.group(2)) - 1 if m1.group(2) else 0
    c1 = _col_index(m2.group(1)) + 1 if m2.group(1) else sheet.cols
    r1 = int(m2.group(2)) if m2.group(2) else sheet.rows
    if not last:
        if not m1.group(2):  # "A" alone is not a range
            raise ApiError(400, f"Unable to parse range: {text}")
        if not m1.group(1):
            raise ApiError(400, f"Unable to parse range: {text}")
    if r1 > sheet.rows or c1 > sheet.cols:
        raise ApiError(
            400,
            f"Range ({quote_title(sheet.title)}!{cells}) exceeds grid limits. "
            f"Max rows: {sheet.rows}, max columns: {sheet.cols}",
        )
    return sheet, r0, c0, max(r0, r1), max(c0, c1)


def _looks_like_cells(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z]{0,3}[0-9]*(:[A-Za-z]{0,3}[0-9]*)?", text)) and any(
        ch.isalnum() for ch in text
    )


def a1(sheet: Sheet, r0: int, c0: int, r1: int, c1: int) -> str:
    if r1 - r0 == 1 and c1 - c0 == 1:
        return f"{quote_title(sheet.title)}!{col_letters(c0)}{r0 + 1}"
    return f"{quote_title(sheet.title)}!{col_letters(c0)}{r0 + 1}:{col_letters(c1 - 1)}{r1}"


# --------------------------------------------------------------------------- rendering


def _fmt_type(cell: Any) -> str | None:
    if isinstance(cell, Rich) and cell.fmt:
        return (cell.fmt.get("numberFormat") or {}).get("type")
    return None


def _format_date(x: float, pattern: str, kind: str) -> str:
    moment = EPOCH + timedelta(days=x)
    if kind == "DATE":
        return moment.strftime("%Y-%m-%d")
    if kind == "TIME":
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _formatted(cell: Any) -> str:
    value = _value(cell)
    if value is None:
        return ""
    if isinstance(value, Err):
        return value.code
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        kind = _fmt_type(cell)
        if kind in DATE_TYPES:
            pattern = (cell.fmt.get("numberFormat") or {}).get("pattern", "")
            return _format_date(float(value), pattern, kind)
        return str(_number(float(value)))
    return str(value)


def render(cell: Any, value_option: str, date_option: str) -> Any:
    value = _value(cell)
    if value_option == "FORMULA" and isinstance(cell, Rich) and cell.formula:
        return cell.formula
    if value_option == "FORMATTED_VALUE":
        return _formatted(cell)
    if value is None:
        return ""
    if isinstance(value, Err):
        return value.code
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if date_option == "FORMATTED_STRING" and _fmt_type(cell) in DATE_TYPES:
            return _formatted(cell)
        return _number(float(value))
    return value


def _typed(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int | float):
        return {"numberValue": _number(float(value))}
    if isinstance(value, Err):
        return {"errorValue": {"type": ERROR_TYPES.get(value.code, "ERROR"), "message": "error"}}
    return {"stringValue": value}


DEFAULT_FORMAT = {
    "backgroundColor": {"red": 1, "green": 1, "blue": 1},
    "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
    "horizontalAlignment": "LEFT",
    "verticalAlignment": "BOTTOM",
    "wrapStrategy": "OVERFLOW_CELL",
    "textFormat": {"fontFamily": "arial,sans,sans-serif", "fontSize": 10},
}


def cell_data(cell: Any) -> dict[str, Any]:
    """The full CellData of a cell (filtered later by the field mask)."""
    if cell is None:
        return {}
    out: dict[str, Any] = {}
    value = _value(cell)
    if isinstance(cell, Rich) and cell.formula:
        out["userEnteredValue"] = {"formulaValue": cell.formula}
    elif value is not None:
        out["userEnteredValue"] = _typed(value)
    if value is not None:
        out["effectiveValue"] = _typed(value)
        out["formattedValue"] = _formatted(cell)
    fmt = cell.fmt if isinstance(cell, Rich) else None
    if fmt:
        out["userEnteredFormat"] = fmt
    if value is not None or fmt:
        out["effectiveFormat"] = {**DEFAULT_FORMAT, **(fmt or {})}
    if isinstance(cell, Rich) and cell.validation:
        out["dataValidation"] = cell.validation
    if isinstance(cell, Rich) and cell.note:
        out["note"] = cell.note
    return out


# --------------------------------------------------------------------------- field masks


def parse_mask(text: str) -> dict[str, Any]:
    """'a,b(c,d/e),f.g' → {'a': None, 'b': {'c': None, 'd': {'e': None}}, 'f': {'g': None}}.

    None means "everything below"."""
    tree: dict[str, Any] = {}
    pos = 0

    def merge(into: dict[str, Any], path: list[str], sub: dict[str, Any] | None) -> None:
        for part in path[:-1]:
            nxt = into.get(part, {})
            if nxt is None:
                return
            into[part] = nxt
            into = nxt
        last = path[-1]
        if sub is None or into.get(last, {}) is None:
            into[last] = None
        else:
            existing = into.setdefault(last, {})
            for k, v in sub.items():
                merge(existing, [k], v)

    def parse_list(into: dict[str, Any]) -> None:
        nonlocal pos
        while pos < len(text):
            m = re.compile(r"\s*([A-Za-z0-9_*./]+)\s*").match(text, pos)
            if not m:
                raise ApiError(400, f"Invalid field selection {text}")
            pos = m.end()
            path = re.split(r"[./]", m.group(1))
            sub: dict[str, Any] | None = None
            if pos < len(text) and text[pos] == "(":
                pos += 1
                sub = {}
                parse_list(sub)
                if pos >= len(text) or text[pos] != ")":
                    raise ApiError(400, f"Invalid field selection {text}")
                pos += 1
            merge(into, path, sub)
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            return

    parse_list(tree)
    if pos != len(text):
        raise ApiError(400, f"Invalid field selection {text}")
    return tree


def apply_mask(obj: Any, tree: dict[str, Any] | None) -> Any:
    if tree is None or "*" in tree:
        return obj
    if isinstance(obj, list):
        return [apply_mask(x, tree) for x in obj]
    if not isinstance(obj, dict):
        return obj
    out = {}
    for key, sub in tree.items():
        if key in obj:
            value = apply_mask(obj[key], sub)
            if value != {} or sub is None:
                out[key] = value
    return out


# --------------------------------------------------------------------------- discovery checks


class Validator:
    """Checks a request body against a schema of the discovery document."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.schemas: dict[str, Any] = doc["schemas"]

    def check(self, value: Any, schema: dict[str, Any], where: str) -> None:
        if value is None:  # proto3 JSON: null means the default value
            return
        if "$ref" in schema:
            schema = self.schemas[schema["$ref"]]
        kind = schema.get("type")
        if kind == "object":
            if not isinstance(value, dict):
                raise ApiError(400, f"Invalid value at '{where}', expected an object")
            props = schema.get("properties")
            extra = schema.get("additionalProperties")
            for key, item in value.items():
                if props is not None and key in props:
                    self.check(item, props[key], f"{where}.{key}")
                elif extra is not None:
                    self.check(item, extra, f"{where}.{key}")
                else:
                    raise ApiError(
                        400,
                        f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': "
                        "Cannot find field.",
                    )
        elif kind == "array":
            if not isinstance(value, list):
                raise ApiError(400, f"Invalid value at '{where}', expected a list")
            for i, item in enumerate(value):
                self.check(item, schema["items"], f"{where}[{i}]")
        elif kind == "string":
            fmt = schema.get("format")
            if fmt in ("int64", "uint64") and isinstance(value, int):
                return
            if not isinstance(value, str):
                raise ApiError(400, f"Invalid value at '{where}' ({value!r}), expected a string")
            if "enum" in schema and value not in schema["enum"]:
                raise ApiError(400, f"Invalid value at '{where}' (TYPE_ENUM), \"{value}\"")
        elif kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ApiError(400, f"Invalid value at '{where}' (TYPE_INT32), {value!r}")
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ApiError(400, f"Invalid value at '{where}' (TYPE_DOUBLE), {value!r}")
        elif kind == "boolean" and not isinstance(value, bool):
            raise ApiError(400, f"Invalid value at '{where}' (TYPE_BOOL), {value!r}")

    def check_mask(self, mask: str, schema_name: str, where: str) -> dict[str, Any]:
        """A `fields` mask of an update request: every path must name fields of the schema."""
        tree = parse_mask(mask)

        def walk(node: dict[str, Any] | None, schema: dict[str, Any]) -> None:
            if node is None or "*" in node:
                return
            if "$ref" in schema:
                schema = self.schemas[schema["$ref"]]
            if schema.get("type") == "array":
                walk(node, schema["items"])
                return
            props = schema.get("properties", {})
            for key, sub in node.items():
                if key not in props:
                    raise ApiError(
                        400, f"Invalid {where}: Invalid field mask path '{key}' in '{mask}'"
                    )
                walk(sub, props[key])

        walk(tree, self.schemas[schema_name])
        return tree


# --------------------------------------------------------------------------- the state


_ARITH = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


def evaluate(formula: str) -> Any:
    """A tiny formula evaluator: arithmetic on numbers, NA(); anything else is #NAME?."""
    body = formula[1:].strip()
    if body.upper() == "NA()":
        return Err("#N/A")

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
            return _ARITH[type(node.op)](ev(node.left), ev(node.right))
        raise ValueError(body)

    try:
        return ev(ast.parse(body.replace("^", "**"), mode="eval").body)
    except ZeroDivisionError:
        return Err("#DIV/0!")
    except (ValueError, SyntaxError):
        return Err("#NAME?")


_DATE_TEXT = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def user_entered(text: Any) -> Any:
    """A value typed by a person (valueInputOption USER_ENTERED) → a cell."""
    if not isinstance(text, str):
        return None if text is None or text == "" else text
    if text.startswith("="):
        return Rich(value=evaluate(text), formula=text)
    if text.startswith("'"):
        return text[1:]
    if text.upper() in ("TRUE", "FALSE"):
        return text.upper() == "TRUE"
    m = _DATE_TEXT.match(text)
    if m:
        day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        return Rich(
            value=serial(day), fmt={"numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}}
        )
    try:
        return float(text) if text.strip() else None
    except ValueError:
        return text if text else None


@dataclass
class Failure:
    status: int
    times: int
    match: str = ""
    retry_after: str | None = None
    applied: bool = False  # for 5xx: the change went through before the error (worst case)


class SheetsServer:
    """Use as a context manager: `with SheetsServer() as server: server.url …`."""

    def __init__(self, *, max_body: int = MAX_BODY) -> None:
        self.max_body = max_body
        self.books: dict[str, Spreadsheet] = {}
        self.validator = Validator(discovery_document())
        self.service_accounts: dict[str, Any] = {}  # email → RSA public key
        self.oauth_clients: dict[tuple[str, str, str], str] = {}  # (id, secret, rt) → email
        self.tokens: dict[str, tuple[str, set[str]]] = {}  # access token → (principal, scopes)
        self.failures: list[Failure] = []
        self.log: list[tuple[str, str, int, int]] = []  # method, path, status, body bytes
        self.keep_bodies = False  # True: `bodies` keeps each API request's raw body
        self.bodies: list[tuple[str, str, str, bytes]] = []  # method, path, Content-Type, body
        self.batches: list[list[str]] = []  # the request kinds of each applied batchUpdate
        self.token_requests = 0
        self.before_request: Callable[[str, str], None] | None = None
        self.lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._next_sheet_id = 1_000_000

    # -- lifecycle
    def __enter__(self) -> SheetsServer:
        server = self

        class Handler(_Handler):
            owner = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._httpd is not None and self._thread is not None
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def token_uri(self) -> str:
        return self.url + "/token"

    # -- set-up helpers (test side)
    def create(
        self,
        spreadsheet_id: str,
        tabs: dict[str, list[list[Any]]] | None = None,
        *,
        title: str = "Untitled spreadsheet",
        rows: int = 1000,
        cols: int = 26,
    ) -> Spreadsheet:
        """A spreadsheet whose tabs hold these rows (values as people type them: a str
        starting with = is a formula; date/datetime become serials with a date format)."""
        sheets = []
        for i, (name, data) in enumerate((tabs or {"Sheet1": []}).items()):
            sheet = Sheet(
                0 if i == 0 else self._new_id(),
                name,
                rows=max(rows, len(data)),
                cols=max([cols, *(len(r) for r in data)]),
            )
            for r, row in enumerate(data):
                for c, value in enumerate(row):
                    sheet.put(r, c, self.cell(value))
            sheets.append(sheet)
        book = Spreadsheet(spreadsheet_id, title, sheets)
        with self.lock:
            self.books[spreadsheet_id] = book
        return book

    @staticmethod
    def cell(value: Any) -> Any:
        if isinstance(value, datetime):
            return Rich(
                value=serial(value),
                fmt={"numberFormat": {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm:ss"}},
            )
        if isinstance(value, date):
            return Rich(
                value=serial(value), fmt={"numberFormat": {"type": "DATE", "pattern": "yyyy-mm-dd"}}
            )
        if isinstance(value, str):
            return user_entered(value) if value.startswith("=") else (value or None)
        return value

    def _new_id(self) -> int:
        self._next_sheet_id += 7919
        return self._next_sheet_id

    def add_service_account(self, email: str, public_key: Any) -> None:
        self.service_accounts[email] = public_key

    def add_oauth_user(self, client_id: str, secret: str, refresh_token: str, email: str) -> None:
        self.oauth_clients[(client_id, secret, refresh_token)] = email

    def fail(
        self,
        status: int,
        *,
        times: int = 1,
        match: str = "",
        retry_after: str | None = None,
        applied: bool = False,
    ) -> None:
        """The next `times` API requests whose path contains `match` fail with `status`."""
        self.failures.append(Failure(status, times, match, retry_after, applied))

    def api_requests(self) -> list[tuple[str, str, int, int]]:
        return [e for e in self.log if not e[1].startswith("/token")]

    def grid(self, spreadsheet_id: str, title: str) -> list[list[Any]]:
        """A tab as plain values (effective values; Err for errors), trailing blanks trimmed."""
        sheet = self.books[spreadsheet_id].sheet(title)
        assert sheet is not None, title
        rows = [[_value(c) for c in row] for row in sheet.grid]
        for row in rows:
            while row and row[-1] is None:
                row.pop()
        while rows and not rows[-1]:
            rows.pop()
        return rows

    def raw_cell(self, spreadsheet_id: str, title: str, row: int, col: int) -> Any:
        """The stored cell at 1-based (row, col): a plain value or a Rich."""
        sheet = self.books[spreadsheet_id].sheet(title)
        assert sheet is not None
        return sheet.get(row - 1, col - 1)

    def edit(self, spreadsheet_id: str, title: str, row: int, col: int, value: Any) -> None:
        """A person types `value` into a cell (1-based)."""
        with self.lock:
            sheet = self.books[spreadsheet_id].sheet(title)
            assert sheet is not None
            sheet.put(row - 1, col - 1, self.cell(value))

    # -- request handling (server side)
    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        parts = urlsplit(raw_path)
        path, query = parts.path, parse_qs(parts.query, keep_blank_values=True)
        if path == "/token":
            self.token_requests += 1
            return self._token(body)
        if self.before_request is not None:
            self.before_request(method, path)
        if self.keep_bodies:
            self.bodies.append((method, path, headers.get("content-type", ""), body))
        if len(body) > self.max_body:  # the body's bytes as they came over the wire
            raise ApiError(400, f"Request payload size exceeds the limit: {self.max_body} bytes.")
        for failure in self.failures:
            if failure.times > 0 and failure.match in path:
                failure.times -= 1
                extra = {"Retry-After": failure.retry_after} if failure.retry_after else {}
                if failure.applied:
                    self._route(method, path, query, headers, body)
                message = (
                    "Quota exceeded for quota metric 'Write requests' and limit 'Write requests "
                    "per minute per user' of service 'sheets.googleapis.com'."
                    if failure.status == 429
                    else "The service is currently unavailable."
                )
                raise ApiError(failure.status, message, extra)
        return self._route(method, path, query, headers, body)

    def _principal(self, headers: dict[str, str]) -> str:
        auth = headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else None
        if token is None or token not in self.tokens:
            raise ApiError(
                401,
                "Request is missing required authentication credential. Expected OAuth 2 "
                "access token, login cookie or other valid authentication credential."
                if token is None
                else "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
            )
        principal, scopes = self.tokens[token]
        if not scopes & {SCOPE, "https://www.googleapis.com/auth/drive"}:
            raise ApiError(403, "Request had insufficient authentication scopes.")
        return principal

    def _book(self, spreadsheet_id: str, principal: str, write: bool) -> Spreadsheet:
        book = self.books.get(spreadsheet_id)
        if book is None:
            raise ApiError(404, "Requested entity was not found.")
        allowed = book.writers if write else book.readers
        if (
            allowed is not None
            and principal not in allowed
            and principal not in (book.writers or set())
        ):
            raise ApiError(403, "The caller does not have permission")
        return book

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        m = re.fullmatch(r"/v4/spreadsheets/([^/:]+)(.*)", path)
        if not m:
            raise ApiError(404, f"Method not found: {path}")
        principal = self._principal(headers)
        sid, rest = unquote(m.group(1)), m.group(2)
        try:  # a JSON body is UTF-8 (RFC 8259), whatever its Content-Type says
            payload = json.loads(body.decode("utf-8")) if body else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ApiError(400, f"Invalid JSON payload received. {error}") from None
        with self.lock:
            if method == "GET" and rest == "":
                return 200, self._get(self._book(sid, principal, False), query), {}
            if method == "GET" and rest == "/values:batchGet":
                return 200, self._batch_get(self._book(sid, principal, False), query), {}
            if method == "GET" and rest.startswith("/values/"):
                book = self._book(sid, principal, False)
                return 200, self._values_get(book, unquote(rest[8:]), query), {}
            if method == "POST" and rest == ":batchUpdate":
                book = self._book(sid, principal, True)
                return 200, self._batch_update(book, payload), {}
            if method == "PUT" and rest.startswith("/values/"):
                book = self._book(sid, principal, True)
                return 200, self._values_update(book, unquote(rest[8:]), query, payload), {}
            if method == "POST" and rest.startswith("/values/") and rest.endswith(":clear"):
                book = self._book(sid, principal, True)
                return 200, self._values_clear(book, unquote(rest[8:-6])), {}
            if method == "POST" and rest == "/values:batchClear":
                book = self._book(sid, principal, True)
                self.validator.check(payload, {"$ref": "BatchClearValuesRequest"}, "")
                cleared = [self._values_clear(book, r) for r in payload.get("ranges", [])]
                return (
                    200,
                    {
                        "spreadsheetId": sid,
                        "clearedRanges": [c["clearedRange"] for c in cleared],
                    },
                    {},
                )
            if method == "POST" and rest == "/values:batchUpdate":
                book = self._book(sid, principal, True)
                return 200, self._values_batch_update(book, payload), {}
        raise ApiError(404, f"Method not found: {method} {path}")

    # -- OAuth token endpoint
    def _token(self, body: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        grant = form.get("grant_type")
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            claims = self._verify_jwt(form.get("assertion", ""))
            if claims is None:
                return (
                    400,
                    {"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
                    {},
                )
            principal, scopes = claims["iss"], set(str(claims.get("scope", "")).split())
        elif grant == "refresh_token":
            key = (
                form.get("client_id", ""),
                form.get("client_secret", ""),
                form.get("refresh_token", ""),
            )
            if key not in self.oauth_clients:
                return 400, {"error": "invalid_grant", "error_description": "Bad Request"}, {}
            principal = self.oauth_clients[key]
            scopes = set(form.get("scope", SCOPE).split())
        else:
            return 400, {"error": "unsupported_grant_type"}, {}
        token = "ya29." + secrets.token_urlsafe(24)
        self.tokens[token] = (principal, scopes)
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}, {}

    def _verify_jwt(self, assertion: str) -> dict[str, Any] | None:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        def unb64(part: str) -> bytes:
            return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

        try:
            head, payload, signature = assertion.split(".")
            claims = json.loads(unb64(payload))
            if json.loads(unb64(head)).get("alg") != "RS256":
                return None
            key = self.service_accounts.get(claims.get("iss"))
            # google-auth signs for Google's token endpoint whatever token_uri says
            audiences = (self.token_uri, "https://oauth2.googleapis.com/token")
            if key is None or claims.get("aud") not in audiences:
                return None
            if not claims.get("iat", 0) - 300 <= time.time() <= claims.get("exp", 0) + 300:
                return None
            key.verify(
                unb64(signature), f"{head}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except (ValueError, InvalidSignature, KeyError):
            return None
        return claims

    # -- spreadsheets.get
    def _check_params(self, query: dict[str, list[str]], method: dict[str, Any]) -> None:
        allowed = set(method["parameters"]) | set(_GLOBAL_PARAMS)
        for key in query:
            if key not in allowed:
                raise ApiError(
                    400,
                    f'Invalid JSON payload received. Unknown name "{key}": '
                    "Cannot bind query parameter.",
                )

    def _get(self, book: Spreadsheet, query: dict[str, list[str]]) -> dict[str, Any]:
        self._check_params(query, _METHODS["get"])
        mask = parse_mask(query["fields"][0]) if "fields" in query else None
        grid = (
            _wants(mask, "sheets", "data")
            if mask
            else (query.get("includeGridData", ["false"])[0].lower() == "true")
        )
        ranges = [parse_range(book, r) for r in query.get("ranges", [])]
        sheets = []
        for index, sheet in enumerate(book.sheets):
            mine = [r for r in ranges if r[0] is sheet]
            if ranges and not mine:
                continue
            entry: dict[str, Any] = {"properties": sheet.properties(index)}
            for key in ("protectedRanges", "conditionalFormats", "charts", "basicFilter"):
                if sheet.extra.get(key):
                    entry[key] = sheet.extra[key]
            if grid:
                cell_mask = _sub(mask, "sheets", "data", "rowData", "values") if mask else None
                spans = [(r0, c0, r1, c1) for _, r0, c0, r1, c1 in mine] or [
                    (0, 0, sheet.rows, sheet.cols)
                ]
                entry["data"] = [self._grid_data(sheet, span, cell_mask) for span in spans]
            sheets.append(entry)
        full = {
            "spreadsheetId": book.spreadsheet_id,
            "properties": {
                "title": book.title,
                "locale": "en_US",
                "autoRecalc": "ON_CHANGE",
                "timeZone": "Etc/GMT",
            },
            "sheets": sheets,
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.spreadsheet_id}/edit",
        }
        return apply_mask(full, mask) if mask else full

    def _grid_data(
        self, sheet: Sheet, span: tuple[int, int, int, int], cell_mask: dict[str, Any] | None
    ) -> dict[str, Any]:
        r0, c0, r1, c1 = span
        rows: list[dict[str, Any]] = []
        last_row = 0
        for r in range(r0, min(r1, len(sheet.grid))):
            line = sheet.grid[r]
            cells: list[dict[str, Any]] = []
            last = 0
            for c in range(c0, min(c1, len(line))):
                data = apply_mask(cell_data(line[c]), cell_mask) if line[c] is not None else {}
                cells.append(data)
                if data:
                    last = len(cells)
            rows.append({"values": cells[:last]} if last else {})
            if last:
                last_row = len(rows)
        out: dict[str, Any] = {}
        if r0:
            out["startRow"] = r0
        if c0:
            out["startColumn"] = c0
        if last_row:
            out["rowData"] = rows[:last_row]
        return out

    # -- values
    def _value_range(
        self, book: Spreadsheet, text: str, query: dict[str, list[str]]
    ) -> dict[str, Any]:
        value_option = query.get("valueRenderOption", ["FORMATTED_VALUE"])[0]
        date_option = query.get("dateTimeRenderOption", ["SERIAL_NUMBER"])[0]
        major = query.get("majorDimension", ["ROWS"])[0]
        sheet, r0, c0, r1, c1 = parse_range(book, text)
        rows: list[list[Any]] = []
        for r in range(r0, min(r1, len(sheet.grid))):
            line = sheet.grid[r]
            out = [
                render(line[c], value_option, date_option) for c in range(c0, min(c1, len(line)))
            ]
            while out and _is_empty(line[c0 + len(out) - 1]):
                out.pop()
            rows.append(out)
        while rows and not rows[-1]:
            rows.pop()
        if major == "COLUMNS":
            width = max((len(r) for r in rows), default=0)
            cols = [[r[c] if c < len(r) else "" for r in rows] for c in range(width)]
            for col in cols:
                while col and col[-1] == "":
                    col.pop()
            rows = cols
        result: dict[str, Any] = {"range": a1(sheet, r0, c0, r1, c1), "majorDimension": major}
        if rows:
            result["values"] = rows
        return result

    def _values_get(
        self, book: Spreadsheet, text: str, query: dict[str, list[str]]
    ) -> dict[str, Any]:
        self._check_params(query, _VALUES["get"])
        return self._value_range(book, text, query)

    def _batch_get(self, book: Spreadsheet, query: dict[str, list[str]]) -> dict[str, Any]:
        self._check_params(query, _VALUES["batchGet"])
        ranges = query.get("ranges", [])
        return {
            "spreadsheetId": book.spreadsheet_id,
            "valueRanges": [self._value_range(book, r, query) for r in ranges],
        }

    def _write_values(
        self, book: Spreadsheet, text: str, values: list[list[Any]], option: str
    ) -> dict[str, Any]:
        if option not in ("RAW", "USER_ENTERED"):
            raise ApiError(400, "'valueInputOption' is required but not specified")
        sheet, r0, c0, r1, c1 = parse_range(book, text)
        cells = text.rpartition("!")[2] if "!" in text else text
        if cells and ":" not in cells:  # a single cell anchors the values at its top left
            r1, c1 = sheet.rows, sheet.cols
        if len(values) > r1 - r0 or any(len(r) > c1 - c0 for r in values):
            raise ApiError(
                400, f"Requested writing within range [{text}], but tried writing beyond it"
            )
        touched_rows, touched_cols, count = set(), set(), 0
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                if value is None:
                    continue  # null: leave the cell as it is
                cell = (
                    user_entered(value)
                    if option == "USER_ENTERED"
                    else (value if value != "" else None)
                )
                old = sheet.get(r0 + i, c0 + j)
                if isinstance(old, Rich) and old.fmt and not isinstance(cell, Rich):
                    cell = Rich(value=cell, fmt=old.fmt) if cell is not None else Rich(fmt=old.fmt)
                sheet.put(r0 + i, c0 + j, cell)
                touched_rows.add(i)
                touched_cols.add(j)
                count += 1
        width = max((len(r) for r in values), default=0)
        return {
            "spreadsheetId": book.spreadsheet_id,
            "updatedRange": a1(sheet, r0, c0, r0 + len(values), c0 + width),
            "updatedRows": len(touched_rows),
            "updatedColumns": len(touched_cols),
            "updatedCells": count,
        }

    def _values_update(
        self, book: Spreadsheet, text: str, query: dict[str, list[str]], payload: dict[str, Any]
    ) -> dict[str, Any]:
        self._check_params(query, _VALUES["update"])
        self.validator.check(payload, {"$ref": "ValueRange"}, "")
        option = query.get("valueInputOption", [""])[0]
        return self._write_values(book, text, payload.get("values", []), option)

    def _values_batch_update(self, book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
        self.validator.check(payload, {"$ref": "BatchUpdateValuesRequest"}, "")
        responses = [
            self._write_values(
                book, d["range"], d.get("values", []), payload.get("valueInputOption", "")
            )
            for d in payload.get("data", [])
        ]
        return {
            "spreadsheetId": book.spreadsheet_id,
            "totalUpdatedRows": sum(r["updatedRows"] for r in responses),
            "totalUpdatedColumns": max((r["updatedColumns"] for r in responses), default=0),
            "totalUpdatedCells": sum(r["updatedCells"] for r in responses),
            "totalUpdatedSheets": len({r["updatedRange"].rpartition("!")[0] for r in responses}),
            "responses": responses,
        }

    def _values_clear(self, book: Spreadsheet, text: str) -> dict[str, Any]:
        sheet, r0, c0, r1, c1 = parse_range(book, text)
        for r in range(r0, min(r1, len(sheet.grid))):
            for c in range(c0, min(c1, len(sheet.grid[r]))):
                old = sheet.grid[r][c]
                sheet.grid[r][c] = (
                    Rich(fmt=old.fmt, validation=old.validation)
                    if (isinstance(old, Rich) and (old.fmt or old.validation))
                    else None
                )
        return {"spreadsheetId": book.spreadsheet_id, "clearedRange": a1(sheet, r0, c0, r1, c1)}

    # -- spreadsheets.batchUpdate: validate every request, apply to a copy, then swap
    def _batch_update(self, book: Spreadsheet, payload: dict[str, Any]) -> dict[str, Any]:
        self.validator.check(payload, {"$ref": "BatchUpdateSpreadsheetRequest"}, "")
        requests = payload.get("requests", [])
        if not requests:
            raise ApiError(400, "Must specify at least one request.")
        for i, request in enumerate(requests):
            if len(request) != 1:
                raise ApiError(
                    400, f"Invalid requests[{i}]: exactly one kind of request is allowed"
                )
        work = Spreadsheet(
            book.spreadsheet_id,
            book.title,
            [s.clone() for s in book.sheets],
            book.readers,
            book.writers,
        )
        replies = []
        for i, request in enumerate(requests):
            ((kind, body),) = request.items()
            handler = getattr(self, f"_do_{kind}", None)
            if handler is None:
                raise ApiError(500, f"the loopback server does not simulate {kind}")
            try:
                replies.append(handler(work, body, f"requests[{i}].{kind}"))
            except ApiError as error:
                if error.message.startswith("Invalid requests["):
                    raise
                raise ApiError(
                    error.code, f"Invalid requests[{i}].{kind}: {error.message}"
                ) from None
        book.sheets = work.sheets  # all or nothing
        self.batches.append([next(iter(r)) for r in requests])
        return {"spreadsheetId": book.spreadsheet_id, "replies": replies}

    def _do_addSheet(self, book: Spreadsheet, body: dict[str, Any], where: str) -> dict[str, Any]:
        props = body.get("properties", {})
        title = props.get("title") or f"Sheet{len(book.sheets) + 1}"
        if book.sheet(title) is not None:
            raise ApiError(
                400, f'A sheet with the name "{title}" already exists. Please enter another name.'
            )
        sheet_id = props.get("sheetId")
        if sheet_id is None:
            sheet_id = self._new_id()
        elif any(s.sheet_id == sheet_id for s in book.sheets):
            raise ApiError(400, f"Sheet with id {sheet_id} already exists.")
        grid = props.get("gridProperties", {})
        sheet = Sheet(
            sheet_id,
            title,
            rows=grid.get("rowCount", 1000),
            cols=grid.get("columnCount", 26),
            hidden=props.get("hidden", False),
            frozen_rows=grid.get("frozenRowCount", 0),
        )
        if sheet.frozen_rows >= sheet.rows:
            raise ApiError(400, "You can't freeze all visible rows on the sheet.")
        index = props.get("index", len(book.sheets))
        book.sheets.insert(index, sheet)
        _check_cell_limit(book)
        return {"addSheet": {"properties": sheet.properties(book.sheets.index(sheet))}}

    def _do_deleteSheet(
        self, book: Spreadsheet, body: dict[str, Any], where: str
    ) -> dict[str, Any]:
        sheet = book.by_id(body.get("sheetId", 0))
        if len(book.sheets) == 1:
            raise ApiError(400, "You can't remove all the sheets in a document.")
        book.sheets.remove(sheet)
        return {}

    def _do_updateSheetProperties(
        self, book: Spreadsheet, body: dict[str, Any], where: str
    ) -> dict[str, Any]:
        tree = self.validator.check_mask(body.get("fields", ""), "SheetProperties", where)
        props = body.get("properties", {})
        sheet = book.by_id(props.get("sheetId", 0))
        grid = props.get("gridProperties", {})
        sub = tree.get("gridProperties", {}) if "gridProperties" in tree else {}
        full = "gridProperties" in tree and tree["gridProperties"] is None
        if full or "rowCount" in (sub or {}):
            sheet.rows = grid.get("rowCount", sheet.rows)
            del sheet.grid[sheet.rows :]
        if full or "columnCount" in (sub or {}):
            sheet.cols = grid.get("columnCount", sheet.cols)
            for row in sheet.grid:
                del row[sheet.cols :]
        _check_cell_limit(book)
        if full or "frozenRowCount" in (sub or {}):
            sheet.frozen_rows = grid.get("frozenRowCount", 0)
        if "title" in tree:
            sheet.title = props.get("title", sheet.title)
        if "hidden" in tree:
            sheet.hidden = props.get("hidden", False)
        return {}

    def _do_appendDimension(
        self, book: Spreadsheet, body: dict[str, Any], where: str
    ) -> dict[str, Any]:
        sheet = book.by_id(body.get("sheetId", 0))
        length = body.get("length", 0)
        if length <= 0:
            raise ApiError(400, "length must be positive")
        if body.get("dimension") == "ROWS":
            sheet.rows += length
        else:
            sheet.cols += length
        _check_cell_limit(book)
        return {}

    def _do_updateDimensionProperties(
        self, book: Spreadsheet, body: dict[str, Any], where: str
    ) -> dict[str, Any]:
        self.validator.check_mask(body.get("fields", ""), "DimensionProperties", where)
        span = body.get("range", {})
        sheet = book.by_id(span.get("sheetId", 0))
        for i in range(span.get("startIndex", 0), span.get("endIndex", 0)):
            sheet.dims[(span.get("dimension", "ROWS"), i)] = body.get("properties", {})
        return {}

    def _span(self, sheet: Sheet, grid_range: dict[str, Any]) -> tuple[int, int, int, int]:
        r0 = grid_range.get("startRowIndex", 0)
        c0 = grid_range.get("startColumnIndex", 0)
        r1 = grid_range.get("endRowIndex", sheet.rows)
        c1 = grid_range.get("endColumnIndex", sheet.cols)
        if r1 > sheet.rows or c1 > sheet.cols or r0 < 0 or c0 < 0:
            raise ApiError(
                400,
                f"Range ({quote_title(sheet.title)}!{col_letters(c0)}{r0 + 1}:"
                f"{col_letters(max(c1 - 1, 0))}{r1}) exceeds grid limits. "
                f"Max rows: {sheet.rows}, max columns: {sheet.cols}",
            )
        return r0, c0, r1, c1

    def _set_cell(
        self, sheet: Sheet, r: int, c: int, data: dict[str, Any], tree: dict[str, Any]
    ) -> None:
        old = sheet.get(r, c)
        value, formula = _value(old), old.formula if isinstance(old, Rich) else None
        fmt = old.fmt if isinstance(old, Rich) else None
        validation = old.validation if isinstance(old, Rich) else None
        note = old.note if isinstance(old, Rich) else None
        if "userEnteredValue" in tree:
            entered = data.get("userEnteredValue") or {}
            if "errorValue" in entered:
                raise ApiError(400, "errorValue is read-only")
            formula = entered.get("formulaValue")
            if formula is not None:
                value = evaluate(formula)
            elif "stringValue" in entered:
                value = entered["stringValue"]  # text, even when it starts with "="
            elif "numberValue" in entered:
                value = float(entered["numberValue"])
            elif "boolValue" in entered:
                value = entered["boolValue"]
            else:
                value = None
        if "userEnteredFormat" in tree:
            fmt = _merge_masked(
                fmt or {}, data.get("userEnteredFormat") or {}, tree["userEnteredFormat"]
            )
            fmt = _with_color_styles(fmt) if fmt else None
        if "dataValidation" in tree:
            validation = data.get("dataValidation")
        if "note" in tree:
            note = data.get("note")
        if formula or fmt or validation or note:
            sheet.put(
                r, c, Rich(value=value, formula=formula, fmt=fmt, validation=validation, note=note)
            )
        else:
            sheet.put(r, c, value)

    def _do_updateCells(
        self, book: Spreadsheet, body: dict[str, Any], where: str
    ) -> dict[str, Any]:
        if "start" in body and "range" in body:
            raise ApiError(400, "only one of start and range may be set")
        tree = self.validator.check_mask(body.get("fields", ""), "CellData", where)
        if "*" in tree:
            tree = {
                k: None for k in ("userEnteredValue", "userEnteredFormat", "dataValidation", "note")
            }
        rows = body.get("rows", [])
        if "range" in body:
            sheet = book.by_id(body["range"].get("sheetId", 0))
            r0, c0, r1, c1 = self._span(sheet, body["range"])
        else:
            start = body.get("start", {})
            sheet = book.by_id(start.get("sheetId", 0))
            r0, c0 = start.get("rowIndex", 0), start.get("columnIndex", 0)
            r1 = r0 + len(rows)
            c1 = c0 + max((len(r.get("values", [])) for r in rows), default=0)
            self._span(
                sheet,
                {
                    "startRowIndex": r0,
                    "startColumnIndex": c0,
                    "endRowIndex": r1,
                    "endColumnIndex": max(c1, c0),
                },
            )
        for i in range(r1 - r0):
            values = rows[i].get("values", []) if i < len(rows) else []
            if "range" in body and len(values) > c1 - c0:
                raise ApiError(400, "more data than fits the range")
            width = c1 - c0 if "range" in body else len(values)
            for j in range(width):
                self._set_cell(sheet, r0 + i, c0 + j, values[j] if j < len(values) else {}, tree)
        if "range" in body and len(rows) > r1 - r0:
            raise ApiError(400, "more rows than fit the range")
        return {}

    def _do_repeatCell(self, book: Spreadsheet, body: dict[str, Any], where: str) -> dict[str, Any]:
        tree = self.validator.check_mask(body.get("fields", ""), "CellData", where)
        sheet = book.by_id(body.get("range", {}).get("sheetId", 0))
        r0, c0, r1, c1 = self._span(sheet, body.get("range", {}))
        for r in range(r0, r1):
            for c in range(c0, c1):
                self._set_cell(sheet, r, c, body.get("cell", {}), tree)
        return {}

    def _do_copyPaste(self, book: Spreadsheet, body: dict[str, Any], where: str) -> dict[str, Any]:
        source = book.by_id(body["source"].get("sheetId", 0))
        target = book.by_id(body["destination"].get("sheetId", 0))
        sr0, sc0, sr1, sc1 = self._span(source, body["source"])
        tr0, tc0, tr1, tc1 = self._span(target, body["destination"])
        kind = body.get("pasteType", "PASTE_NORMAL")
        tree = (
            {"userEnteredFormat": None}
            if kind == "PASTE_FORMAT"
            else {"userEnteredValue": None, "userEnteredFormat": None}
        )
        if kind not in ("PASTE_FORMAT", "PASTE_NORMAL"):
            raise ApiError(500, f"the loopback server does not simulate pasteType {kind}")
        for r in range(tr0, tr1):
            for c in range(tc0, tc1):
                src = source.get(sr0 + (r - tr0) % (sr1 - sr0), sc0 + (c - tc0) % (sc1 - sc0))
                data = cell_data(src)
                self._set_cell(target, r, c, data, tree)
        return {}

    def _do_setDataValidation(
        self, book: Spreadsheet, body: dict[str, Any], where: str
    ) -> dict[str, Any]:
        sheet = book.by_id(body.get("range", {}).get("sheetId", 0))
        r0, c0, r1, c1 = self._span(sheet, body.get("range", {}))
        rule = body.get("rule")
        if rule is not None:
            _check_condition(rule.get("condition") or {}, "dataValidation")
        for r in range(r0, r1):
            for c in range(c0, c1):
                self._set_cell(
                    sheet, r, c, {"dataValidation": body.get("rule")}, {"dataValidation": None}
                )
        return {}

    def _do_addConditionalFormatRule(
        self, book: Spreadsheet, body: dict[str, Any], where: str
    ) -> dict[str, Any]:
        rule = body.get("rule", {})
        ranges = rule.get("ranges") or []
        if not ranges:
            raise ApiError(400, "At least one range must be specified.")
        sheet = book.by_id(ranges[0].get("sheetId", 0))
        for span in ranges:
            if span.get("sheetId", 0) != sheet.sheet_id:
                raise ApiError(400, "All ranges of a conditional format must be on one sheet.")
            self._span(sheet, span)
        if ("booleanRule" in rule) == ("gradientRule" in rule):
            raise ApiError(400, "Exactly one of booleanRule or gradientRule must be set.")
        if "booleanRule" in rule:
            _check_condition(rule["booleanRule"].get("condition") or {}, "conditionalFormat")
        rules = sheet.extra.setdefault("conditionalFormats", [])
        index = body.get("index", 0)  # Google: the rule goes first unless an index is given
        if index > len(rules):
            raise ApiError(400, f"index {index} is beyond the {len(rules)} rules of the sheet")
        rules.insert(index, _proto(_with_color_styles(rule)))
        return {}

    def _do_setBasicFilter(
        self, book: Spreadsheet, body: dict[str, Any], where: str
    ) -> dict[str, Any]:
        """The sheet's basic filter, replacing any it had (a sheet has at most one); its range
        may leave its ends open (gspread's `set_basic_filter()` sends only the sheet's id)."""
        basic = body.get("filter") or {}
        span = basic.get("range") or {}
        sheet = book.by_id(span.get("sheetId", 0))
        self._span(sheet, span)
        sheet.extra["basicFilter"] = _proto(basic)
        return {}

    def _do_addProtectedRange(
        self, book: Spreadsheet, body: dict[str, Any], where: str
    ) -> dict[str, Any]:
        # as Google answers: nulls and proto defaults (sheetId 0) left out, the caller can edit
        protected = _proto(body.get("protectedRange", {}))
        sheet = book.by_id(protected.get("range", {}).get("sheetId", 0))
        self._span(sheet, protected.get("range", {}))
        if protected.get("warningOnly") and protected.get("editors"):
            raise ApiError(400, "Cannot set editors on a warning only protected range.")
        protected = {
            "protectedRangeId": protected.get("protectedRangeId") or self._new_id(),
            **{k: v for k, v in protected.items() if k != "protectedRangeId"},
        }
        protected["requestingUserCanEdit"] = True
        protected.setdefault("editors", {})  # recorded: {} for warning-only ranges too
        sheet.extra.setdefault("protectedRanges", []).append(protected)
        return {"addProtectedRange": {"protectedRange": protected}}

    def _do_addChart(self, book: Spreadsheet, body: dict[str, Any], where: str) -> dict[str, Any]:
        """An embedded chart: its data ranges must lie in existing tabs' grids; a basic chart
        needs a chart type and, per series, an axis its type can use (Google refuses a BAR
        series on LEFT_AXIS: the value axis of a bar chart is the bottom one)."""
        chart = _proto(body.get("chart", {}))
        spec = chart.get("spec") or {}
        kinds = [k for k in spec if k.endswith("Chart")]
        if len(kinds) != 1:
            raise ApiError(400, "Exactly one chart type spec must be set.")
        if kinds != ["basicChart"]:
            raise ApiError(500, f"the loopback server does not simulate {kinds[0]}")
        basic = spec["basicChart"]
        chart_type = basic.get("chartType", "BASIC_CHART_TYPE_UNSPECIFIED")
        if chart_type == "BASIC_CHART_TYPE_UNSPECIFIED":
            raise ApiError(400, "Invalid chart spec: chartType must be specified.")
        series = basic.get("series") or []
        if not series:
            raise ApiError(400, "Invalid chart spec: a basic chart needs at least one series.")
        minor = {"BAR": {"BOTTOM_AXIS"}}.get(chart_type, {"LEFT_AXIS", "RIGHT_AXIS"})
        data = [d.get("domain") or {} for d in basic.get("domains") or []]
        for i, s in enumerate(series):
            axis = s.get("targetAxis")
            if axis is not None and axis not in minor:
                raise ApiError(
                    400, f"Invalid series[{i}]: {axis} is not a valid minor axis for {chart_type}"
                )
            data.append(s.get("series") or {})
        for d in data:
            sources = (d.get("sourceRange") or {}).get("sources") or []
            if not sources:
                raise ApiError(400, "Invalid chart data: a source range is required.")
            for span in sources:
                sheet = book.by_id(span.get("sheetId", 0))
                r0, c0, r1, c1 = self._span(sheet, span)
                if r1 - r0 != 1 and c1 - c0 != 1:
                    raise ApiError(
                        400, "Invalid chart data: each source range must be one row or column."
                    )
        position = chart.get("position") or {}
        if not position.get("newSheet"):
            anchor = (position.get("overlayPosition") or {}).get("anchorCell")
            if anchor is None:
                raise ApiError(400, "Invalid chart position: an anchor cell is required.")
            sheet = book.by_id(anchor.get("sheetId", 0))
            r, c = anchor.get("rowIndex", 0), anchor.get("columnIndex", 0)
            self._span(
                sheet,
                {
                    "startRowIndex": r,
                    "endRowIndex": r + 1,
                    "startColumnIndex": c,
                    "endColumnIndex": c + 1,
                },
            )
        else:
            raise ApiError(500, "the loopback server does not simulate charts on a new sheet")
        chart_id = chart.get("chartId") or self._new_id()
        if any(
            x.get("chartId") == chart_id for s in book.sheets for x in s.extra.get("charts", [])
        ):
            raise ApiError(400, f"A chart with id {chart_id} already exists.")
        chart = {"chartId": chart_id, **{k: v for k, v in chart.items() if k != "chartId"}}
        sheet.extra.setdefault("charts", []).append(chart)
        return {"addChart": {"chart": chart}}


_LIST_CONDITIONS = {"ONE_OF_LIST", "TEXT_EQ", "TEXT_CONTAINS", "NUMBER_GREATER", "NUMBER_EQ"}


def _check_condition(condition: dict[str, Any], what: str) -> None:
    """What Google checks beyond the discovery document: a condition that compares with
    values needs them (ONE_OF_LIST at least one, TEXT_EQ exactly one)."""
    kind = condition.get("type")
    values = condition.get("values") or []
    if kind in _LIST_CONDITIONS and not values:
        raise ApiError(400, f"Invalid {what}: condition type {kind} requires at least 1 value.")
    if kind == "TEXT_EQ" and len(values) != 1:
        raise ApiError(400, f"Invalid {what}: condition type TEXT_EQ requires exactly 1 value.")
    if kind == "ONE_OF_LIST" and what == "conditionalFormat":
        raise ApiError(400, "Invalid conditionalFormat: ONE_OF_LIST is for data validation only.")


CELL_LIMIT = 10_000_000
"""Google's cells a spreadsheet: the grids of all its sheets together."""


def _check_cell_limit(book: Spreadsheet) -> None:
    if sum(sheet.rows * sheet.cols for sheet in book.sheets) > CELL_LIMIT:
        raise ApiError(
            400,
            "This action would increase the number of cells in the workbook above the limit "
            f"of {CELL_LIMIT} cells.",
        )


def _proto(value: Any) -> Any:
    """proto3 JSON as Google writes it: no nulls, no zero sheetId (indexes sent as 0 stay:
    they are optional fields, recorded as sent)."""
    if isinstance(value, dict):
        return {
            k: _proto(v)
            for k, v in value.items()
            if v is not None and not (k == "sheetId" and v == 0)
        }
    if isinstance(value, list):
        return [_proto(v) for v in value]
    return value


def _with_color_styles(fmt: dict[str, Any]) -> dict[str, Any]:
    """Google mirrors every colour of a format as a colour style: backgroundColor
    {…} is also returned as backgroundColorStyle {rgbColor: {…}}."""
    out: dict[str, Any] = {}
    for key, value in fmt.items():
        value = _with_color_styles(value) if isinstance(value, dict) else value
        out[key] = value
        if key.endswith("Color") and isinstance(value, dict):
            out.setdefault(key + "Style", {"rgbColor": value})
    return out


def _merge_masked(
    old: dict[str, Any], new: dict[str, Any], tree: dict[str, Any] | None
) -> dict[str, Any]:
    if tree is None or "*" in tree:
        return copy.deepcopy(new)
    out = dict(old)
    for key, sub in tree.items():
        if key not in new:
            out.pop(key, None)
        elif sub is None or not isinstance(new[key], dict):
            out[key] = copy.deepcopy(new[key])
        else:
            merged = _merge_masked(
                old.get(key, {}) if isinstance(old.get(key), dict) else {}, new[key], sub
            )
            if merged:
                out[key] = merged
            else:
                out.pop(key, None)
    return out


def _wants(mask: dict[str, Any] | None, *path: str) -> bool:
    node: Any = mask
    for key in path:
        if node is None or "*" in node:
            return True
        if key not in node:
            return False
        node = node[key]
    return True


def _sub(mask: dict[str, Any] | None, *path: str) -> dict[str, Any] | None:
    node: Any = mask
    for key in path:
        if node is None or "*" in node:
            return None
        node = node.get(key, {})
    return node


_DOC = discovery_document()
_METHODS = _DOC["resources"]["spreadsheets"]["methods"]
_VALUES = _DOC["resources"]["spreadsheets"]["resources"]["values"]["methods"]
_GLOBAL_PARAMS = _DOC["parameters"]


class _Handler(BaseHTTPRequestHandler):
    owner: SheetsServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            status, payload, extra = self.owner.handle(self.command, self.path, headers, body)
        except ApiError as error:
            status, payload, extra = error.code, error.body(), error.headers
        except Exception as error:  # a bug in the fake: make it loud, never a hang
            status, payload, extra = (
                500,
                ApiError(500, f"loopback server bug: {error!r}").body(),
                {},
            )
        self.owner.log.append((self.command, self.path, status, len(body)))
        data = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _serve
