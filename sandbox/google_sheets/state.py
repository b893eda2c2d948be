"""In-memory state of the Google Sheets sandbox: spreadsheets, their worksheets and cell values,
the API operations on them, access tokens, per-token quotas, armed faults and request counters.

Plain Python behind one re-entrant lock (uvicorn serves from its own thread while a test seeds
spreadsheets, arms faults and reads counters), so tests drive it directly as well as over HTTP.
Every API operation raises `ApiError` for what the real API answers with an error, and returns the
JSON body otherwise; `app.py` only moves bytes.

Cell values are kept as the API types them: str, int/float (numbers), bool, or None (empty). A
formula written with USER_ENTERED is kept as its text and never evaluated.
"""

from __future__ import annotations

import base64
import math
import re
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..admin import FaultQueue, FaultSpec
from .a1 import Block, RangeError, column_letters, format_range, parse_range, quote_sheet

DEFAULT_ROWS = 1000
DEFAULT_COLUMNS = 26
DEFAULT_QUOTA = 60  # requests per minute per user, reads and writes counted apart
SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"

READ_METHODS = frozenset({"spreadsheets.get", "spreadsheets.values.get", "spreadsheets.values.batchGet"})
WRITE_METHODS = frozenset({"spreadsheets.batchUpdate", "spreadsheets.values.update",
                           "spreadsheets.values.batchUpdate", "spreadsheets.values.clear",
                           "spreadsheets.values.batchClear"})

FAULT_KINDS = ("http_429", "http_500", "http_503")
FAULT_TARGETS = ("any", "read", "write")

_STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
_INTEGER = re.compile(r"^[+-]?\d{1,15}$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_RENDER_OPTIONS = ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA")
_INPUT_OPTIONS = ("RAW", "USER_ENTERED")


class TokenRefused(Exception):
    """The token endpoint refuses a grant: {"error": "invalid_grant", "error_description": ...}."""

    def __init__(self, description: str, error: str = "invalid_grant"):
        super().__init__(description)
        self.error = error
        self.description = description

    def body(self) -> dict:
        return {"error": self.error, "error_description": self.description}


class ApiError(Exception):
    """An error answer in Google's shape: {"error": {"code", "message", "status"}}."""

    def __init__(self, code: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = headers or {}

    @property
    def status(self) -> str:
        return _STATUS_NAMES.get(self.code, "UNKNOWN")

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "status": self.status}}


@dataclass
class Fault(FaultSpec):
    """A failure for the next `count` matching requests, after letting `skip` of them through.

    kind: http_429 (RESOURCE_EXHAUSTED), http_500 (INTERNAL) or http_503 (UNAVAILABLE);
    target: "any" Sheets request, "read" or "write" requests only; `retry_after` (seconds) adds a
    Retry-After header when set.
    """

    KINDS = FAULT_KINDS
    TARGETS = FAULT_TARGETS
    DEFAULT_RETRY_AFTER = None  # a 429 carries no Retry-After unless armed with one


@dataclass
class Worksheet:
    sheet_id: int
    title: str
    row_count: int = DEFAULT_ROWS
    column_count: int = DEFAULT_COLUMNS
    rows: list[list[Any]] = field(default_factory=list)  # sparse at the end: missing = empty
    hidden: bool = False
    frozen_rows: int = 0

    def value(self, row: int, col: int) -> Any:
        if row < len(self.rows):
            cells = self.rows[row]
            if col < len(cells):
                return cells[col]
        return None

    def put(self, row: int, col: int, value: Any) -> None:
        if value is None:
            if row < len(self.rows) and col < len(self.rows[row]):
                self.rows[row][col] = None
            return
        while len(self.rows) <= row:
            self.rows.append([])
        cells = self.rows[row]
        if len(cells) <= col:
            cells.extend([None] * (col + 1 - len(cells)))
        cells[col] = value

    def truncate(self) -> None:
        """Drop what fell outside the grid after a resize."""
        del self.rows[self.row_count:]
        for cells in self.rows:
            del cells[self.column_count:]

    def properties(self, index: int) -> dict:
        grid: dict[str, Any] = {"rowCount": self.row_count, "columnCount": self.column_count}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        props: dict[str, Any] = {"sheetId": self.sheet_id, "title": self.title, "index": index,
                                 "sheetType": "GRID", "gridProperties": grid}
        if self.hidden:
            props["hidden"] = True
        return props


@dataclass
class Spreadsheet:
    spreadsheet_id: str
    title: str
    sheets: list[Worksheet]
    private: bool = False
    locale: str = "en_US"
    time_zone: str = "Etc/GMT"
    created: str = ""
    modified: str = ""

    def sheet(self, title: str | None) -> Worksheet:
        if title is None:
            return self.sheets[0]
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        raise KeyError(f"spreadsheet {self.spreadsheet_id} has no worksheet {title!r}")


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _new_id() -> str:
    return "1" + secrets.token_urlsafe(32)[:43]


def _rgb(hex_colour: str) -> dict:
    """{"red", "green", "blue"} in 0..1 from #RRGGBB, leaving out zero channels as the API does."""
    channels = {}
    for name, offset in (("red", 1), ("green", 3), ("blue", 5)):
        value = int(hex_colour[offset:offset + 2], 16) / 255
        if value:
            channels[name] = 1 if value == 1 else round(value, 8)
    return channels


# The default look of a new spreadsheet (Arial 10 on white, Google's theme palette).
_THEME = (("TEXT", "#000000"), ("BACKGROUND", "#FFFFFF"), ("ACCENT1", "#4285F4"), ("ACCENT2", "#EA4335"),
          ("ACCENT3", "#FBBC04"), ("ACCENT4", "#34A853"), ("ACCENT5", "#FF6D01"), ("ACCENT6", "#46BDC6"),
          ("LINK", "#1155CC"))


def _default_format() -> dict:
    white = _rgb("#FFFFFF")
    return {
        "backgroundColor": white,
        "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
        "verticalAlignment": "BOTTOM",
        "wrapStrategy": "OVERFLOW_CELL",
        "textFormat": {"foregroundColor": {}, "fontFamily": "arial,sans,sans-serif", "fontSize": 10,
                       "bold": False, "italic": False, "strikethrough": False, "underline": False,
                       "foregroundColorStyle": {"rgbColor": {}}},
        "backgroundColorStyle": {"rgbColor": white},
    }


def _theme() -> dict:
    return {"primaryFontFamily": "Arial",
            "themeColors": [{"colorType": kind, "color": {"rgbColor": _rgb(colour)}} for kind, colour in _THEME]}


# ----------------------------------------------------------------------------------------- values
def format_number(value: float | int) -> str:
    """A number as the default ("automatic") number format shows it: 4, 1.45, 0.3, 1.5E+20."""
    if isinstance(value, int):
        return str(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = format(value, ".15g")
    return text.replace("e+", "E+").replace("e-", "E-")


def render(value: Any, option: str) -> Any:
    """One stored cell for output under `option` (FORMATTED_VALUE, UNFORMATTED_VALUE or FORMULA)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE") if option == "FORMATTED_VALUE" else value
    if isinstance(value, (int, float)):
        if option == "FORMATTED_VALUE":
            return format_number(value)
        return int(value) if isinstance(value, float) and value.is_integer() and abs(value) < 1e15 else value
    return value


def _is_empty(value: Any) -> bool:
    return value is None or value == ""


def trimmed(matrix: list[list[Any]]) -> list[list[Any]]:
    """Trailing empty cells of each row and trailing empty rows left out, as the API answers."""
    out: list[list[Any]] = []
    for row in matrix:
        end = len(row)
        while end and _is_empty(row[end - 1]):
            end -= 1
        out.append(row[:end])
    while out and not out[-1]:
        out.pop()
    return out


def _input_value(value: Any, option: str, where: str) -> Any:
    """A written value as stored: None means "leave the cell alone", a removed cell is ""."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ApiError(400, f"Invalid {where}: numbers must be finite")
        return value
    if not isinstance(value, str):
        raise ApiError(400, f"Invalid {where}: a cell takes a string, a number or a boolean")
    if option == "USER_ENTERED":
        if value.startswith("'"):
            return value[1:]  # a leading apostrophe forces text
        stripped = value.strip()
        if _INTEGER.match(stripped):
            return int(stripped)
        if _NUMBER.match(stripped):
            return float(stripped)
        if stripped.upper() in ("TRUE", "FALSE"):
            return stripped.upper() == "TRUE"
    return value


class GoogleSheetsState(FaultQueue):
    """One simulated Google account's spreadsheets, seen through the Sheets v4 and Drive v3 APIs.

    tokens: accepted bearer tokens (None: any non-empty token, plus those issued by `/token`).
    read_quota / write_quota: requests allowed per `quota_window` seconds per token (60 and 60 per
    minute, as Google's per-user limits); `quota_retry_after` adds a Retry-After header to quota
    answers (the real API sends none). service_accounts: client_email -> public key PEM that JWT
    assertions at `/token` must be signed with (empty: any well-formed assertion gets a token).
    """

    fault_type = Fault  # armed, cleared and taken (by request kind, read/write) as FaultQueue does

    def __init__(self, *, tokens: set[str] | None = None, read_quota: int = DEFAULT_QUOTA,
                 write_quota: int = DEFAULT_QUOTA, quota_window: float = 60.0, quota_retry_after: bool = False,
                 service_accounts: dict[str, str] | None = None, token_ttl: int = 3600):
        self.lock = threading.RLock()
        self.tokens = None if tokens is None else set(tokens)
        self.read_quota = read_quota
        self.write_quota = write_quota
        self.quota_window = quota_window
        self.quota_retry_after = quota_retry_after
        self.service_accounts = dict(service_accounts or {})
        self.token_ttl = token_ttl
        self.reset()

    def reset(self) -> None:
        """Forget every spreadsheet, issued token, fault, quota window and counter."""
        with self.lock:
            self.spreadsheets: dict[str, Spreadsheet] = {}
            self.issued_tokens: dict[str, float] = {}  # token -> monotonic expiry
            self.faults: list[Fault] = []
            self._windows: dict[tuple[str, str], deque] = {}
            self.reset_counters()

    def reset_counters(self) -> None:
        with self.lock:
            self.requests: Counter = Counter()  # API method -> requests received
            self.succeeded: Counter = Counter()  # API method -> requests answered 2xx
            self.statuses: Counter = Counter()
            self.faults_fired: Counter = Counter()
            self.quota_refusals: Counter = Counter()  # "read" / "write"

    # ------------------------------------------------------------------------------ test hooks
    def add_spreadsheet(self, title: str = "Untitled spreadsheet", rows: list[list[Any]] | None = None, *,
                        worksheet: str = "Sheet1", spreadsheet_id: str | None = None, private: bool = False,
                        row_count: int | None = None, column_count: int | None = None,
                        frozen_rows: int = 0) -> str:
        """A spreadsheet with one worksheet holding `rows` (Python values: str, int/float, bool,
        None). The grid is 1000 x 26 or as large as the rows need. Returns its id."""
        with self.lock:
            spreadsheet_id = spreadsheet_id or _new_id()
            now = _now_iso()
            sheet = self._make_sheet(0, worksheet, rows, row_count, column_count, frozen_rows)
            self.spreadsheets[spreadsheet_id] = Spreadsheet(spreadsheet_id, title, [sheet], private=private,
                                                            created=now, modified=now)
            return spreadsheet_id

    def add_worksheet(self, spreadsheet_id: str, title: str, rows: list[list[Any]] | None = None, *,
                      row_count: int | None = None, column_count: int | None = None) -> int:
        """Another worksheet (tab) at the end; returns its sheetId."""
        with self.lock:
            book = self.spreadsheets[spreadsheet_id]
            if any(s.title == title for s in book.sheets):
                raise ValueError(f"a worksheet named {title!r} already exists")
            sheet = self._make_sheet(self._free_sheet_id(book), title, rows, row_count, column_count, 0)
            book.sheets.append(sheet)
            return sheet.sheet_id

    def set_private(self, spreadsheet_id: str, private: bool = True) -> None:
        """A private spreadsheet answers 403 PERMISSION_DENIED to every caller."""
        with self.lock:
            self.spreadsheets[spreadsheet_id].private = private

    def values(self, spreadsheet_id: str, worksheet: str | None = None,
               render_option: str = "FORMATTED_VALUE") -> list[list[Any]]:
        """Every value of a worksheet (default: the first) as a whole-sheet values.get returns them
        (trailing blanks trimmed), without counting as a request."""
        with self.lock:
            sheet = self.spreadsheets[spreadsheet_id].sheet(worksheet)
            block = Block(0, 0, sheet.row_count - 1, sheet.column_count - 1)
            return self._read_block(sheet, block, "ROWS", render_option)

    def count(self, method: str) -> int:
        """Requests received for one API method, e.g. "spreadsheets.values.batchUpdate"."""
        with self.lock:
            return self.requests[method]

    @property
    def reads(self) -> int:
        with self.lock:
            return sum(n for m, n in self.requests.items() if m in READ_METHODS)

    @property
    def writes(self) -> int:
        with self.lock:
            return sum(n for m, n in self.requests.items() if m in WRITE_METHODS)

    def stats(self) -> dict:
        with self.lock:
            return {"requests": dict(self.requests), "succeeded": dict(self.succeeded),
                    "statuses": {str(k): v for k, v in self.statuses.items()},
                    "reads": self.reads, "writes": self.writes,
                    "faults_fired": dict(self.faults_fired), "faults_armed": [asdict(f) for f in self.faults],
                    "quota_refusals": dict(self.quota_refusals),
                    "quota": {"read": self.read_quota, "write": self.write_quota, "window": self.quota_window},
                    "spreadsheets": len(self.spreadsheets)}

    # ------------------------------------------------------------------------------ auth and quota
    def token_accepted(self, token: str | None) -> bool:
        if not token:
            return False
        with self.lock:
            expiry = self.issued_tokens.get(token)
            if expiry is not None:
                return time.monotonic() < expiry
            return self.tokens is None or token in self.tokens

    def issue_token(self, assertion: str) -> dict:
        """An access token for a service account's signed JWT (the jwt-bearer grant)."""
        _verify_assertion(assertion, self.service_accounts)
        token = "ya29.sandbox-" + secrets.token_urlsafe(24)
        with self.lock:
            self.issued_tokens[token] = time.monotonic() + self.token_ttl
        return {"access_token": token, "expires_in": self.token_ttl, "token_type": "Bearer"}

    def charge_quota(self, token: str, kind: str) -> None:
        """Count one read or write against the token's sliding window; ApiError 429 when full."""
        limit = self.read_quota if kind == "read" else self.write_quota
        with self.lock:
            window = self._windows.setdefault((token, kind), deque())
            now = time.monotonic()
            while window and window[0] <= now - self.quota_window:
                window.popleft()
            if len(window) >= limit:
                self.quota_refusals[kind] += 1
                metric = "Read" if kind == "read" else "Write"
                headers = {}
                if self.quota_retry_after:
                    headers["Retry-After"] = str(max(1, math.ceil(window[0] + self.quota_window - now)))
                raise ApiError(429, f"Quota exceeded: '{metric} requests per minute per user' allows {limit} "
                                    f"per {self.quota_window:g} s on sheets.googleapis.com (sandbox)", headers)
            window.append(now)

    def record(self, method: str, status: int) -> None:
        with self.lock:
            self.requests[method] += 1
            self.statuses[status] += 1
            if 200 <= status < 300:
                self.succeeded[method] += 1

    # ------------------------------------------------------------------------------ spreadsheets
    def _make_sheet(self, sheet_id: int, title: str, rows: list[list[Any]] | None, row_count: int | None,
                    column_count: int | None, frozen_rows: int) -> Worksheet:
        rows = [list(r) for r in rows or []]
        width = max((len(r) for r in rows), default=0)
        sheet = Worksheet(sheet_id, title, row_count or max(DEFAULT_ROWS, len(rows)),
                          column_count or max(DEFAULT_COLUMNS, width), frozen_rows=frozen_rows)
        if len(rows) > sheet.row_count or width > sheet.column_count:
            raise ValueError("the rows do not fit the grid")
        for r, cells in enumerate(rows):
            for c, value in enumerate(cells):
                if not _is_empty(value):
                    sheet.put(r, c, value)
        return sheet

    @staticmethod
    def _free_sheet_id(book: Spreadsheet) -> int:
        taken = {s.sheet_id for s in book.sheets}
        while True:
            candidate = secrets.randbelow(2_000_000_000) + 1
            if candidate not in taken:
                return candidate

    def _open(self, spreadsheet_id: str) -> Spreadsheet:
        book = self.spreadsheets.get(spreadsheet_id)
        if book is None:
            raise ApiError(404, "Spreadsheet not found (sandbox).")
        if book.private:
            raise ApiError(403, "The caller may not open this spreadsheet (sandbox: it is private).")
        return book

    def _resolve(self, book: Spreadsheet, text: str) -> tuple[Worksheet, Block]:
        try:
            parsed = parse_range(text, [s.title for s in book.sheets])
        except RangeError:
            raise ApiError(400, f"Unable to parse range: {text}") from None
        return book.sheet(parsed.sheet), parsed.block

    @staticmethod
    def _within_grid(sheet: Worksheet, block: Block) -> Block:
        bounded = block.bounded(sheet.row_count, sheet.column_count)
        if bounded.r1 >= sheet.row_count or bounded.c1 >= sheet.column_count or bounded.r0 > bounded.r1 \
                or bounded.c0 > bounded.c1:
            raise ApiError(400, f"Range ({format_range(sheet.title, _clip(bounded))}) exceeds grid limits. "
                                f"Max rows: {sheet.row_count}, max columns: {sheet.column_count}")
        return bounded

    def get_spreadsheet(self, spreadsheet_id: str) -> dict:
        with self.lock:
            book = self._open(spreadsheet_id)
            return {
                "spreadsheetId": book.spreadsheet_id,
                "properties": {"title": book.title, "locale": book.locale, "autoRecalc": "ON_CHANGE",
                               "timeZone": book.time_zone, "defaultFormat": _default_format(),
                               "spreadsheetTheme": _theme()},
                "sheets": [{"properties": s.properties(i)} for i, s in enumerate(book.sheets)],
                "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.spreadsheet_id}/edit",
            }

    # ------------------------------------------------------------------------------ values: read
    def _read_block(self, sheet: Worksheet, block: Block, major: str, option: str) -> list[list[Any]]:
        last_row = min(block.r1, len(sheet.rows) - 1)
        matrix = []
        for r in range(block.r0, last_row + 1):
            cells = sheet.rows[r]
            stop = min(block.c1 + 1, len(cells))
            matrix.append([render(cells[c], option) for c in range(block.c0, stop)])
        if major == "COLUMNS":
            width = max((len(r) for r in matrix), default=0)
            matrix = [[row[c] if c < len(row) else "" for row in matrix] for c in range(width)]
        return trimmed(matrix)

    def _value_range(self, book: Spreadsheet, text: str, major: str | None, option: str | None) -> dict:
        major = major or "ROWS"
        if major == "DIMENSION_UNSPECIFIED":
            major = "ROWS"
        if major not in ("ROWS", "COLUMNS"):
            raise ApiError(400, f"Invalid value at 'major_dimension' ({major})")
        option = option or "FORMATTED_VALUE"
        if option not in _RENDER_OPTIONS:
            raise ApiError(400, f"Invalid value at 'value_render_option' ({option})")
        sheet, block = self._resolve(book, text)
        bounded = self._within_grid(sheet, block)
        answer: dict[str, Any] = {"range": format_range(sheet.title, bounded), "majorDimension": major}
        values = self._read_block(sheet, bounded, major, option)
        if values:
            answer["values"] = values
        return answer

    def values_get(self, spreadsheet_id: str, range_text: str, major: str | None = None,
                   option: str | None = None) -> dict:
        with self.lock:
            return self._value_range(self._open(spreadsheet_id), range_text, major, option)

    def values_batch_get(self, spreadsheet_id: str, ranges: list[str], major: str | None = None,
                         option: str | None = None) -> dict:
        with self.lock:
            book = self._open(spreadsheet_id)
            answer: dict[str, Any] = {"spreadsheetId": spreadsheet_id}
            value_ranges = [self._value_range(book, text, major, option) for text in ranges]
            if value_ranges:
                answer["valueRanges"] = value_ranges
            return answer

    # ------------------------------------------------------------------------------ values: write
    def _plan_write(self, book: Spreadsheet, text: Any, values: Any, major: str | None, option: str,
                    where: str) -> tuple[Worksheet, Block, list[tuple[int, int, Any]]]:
        """Validate one write (range + values) without applying it: (sheet, written block, cells)."""
        prefix = f"{where}: " if where else ""
        if not isinstance(text, str):
            raise ApiError(400, f"{prefix}a range is required")
        try:
            sheet, block = self._resolve(book, text)
        except ApiError as error:
            raise ApiError(400, f"{prefix}{error.message}") from None
        if values is None:
            values = []
        if not isinstance(values, list) or not all(isinstance(row, list) for row in values):
            raise ApiError(400, f"{prefix}values must be a list of lists")
        if major == "COLUMNS":
            height = max((len(col) for col in values), default=0)
            values = [[col[r] if r < len(col) else None for col in values] for r in range(height)]
        elif major not in (None, "ROWS", "DIMENSION_UNSPECIFIED"):
            raise ApiError(400, f"{prefix}invalid majorDimension {major}")
        requested = block.bounded(sheet.row_count, sheet.column_count)
        open_ended = block.single_cell or (block.r1 is None and block.c1 is None)
        cells: list[tuple[int, int, Any]] = []
        for i, row in enumerate(values):
            for j, raw in enumerate(row):
                value = _input_value(raw, option, f"values[{i}][{j}]")
                if value is None:
                    continue
                r, c = requested.r0 + i, requested.c0 + j
                if not open_ended:
                    shown = format_range(sheet.title, _clip(requested))
                    if r > requested.r1:
                        raise ApiError(400, f"{prefix}Requested writing within range [{shown}], but tried "
                                            f"writing to row [{r + 1}]")
                    if c > requested.c1:
                        raise ApiError(400, f"{prefix}Requested writing within range [{shown}], but tried "
                                            f"writing to column [{column_letters(c)}]")
                if r >= sheet.row_count or c >= sheet.column_count:
                    far = Block(requested.r0, requested.c0, max(r, requested.r0), max(c, requested.c0))
                    raise ApiError(400, f"{prefix}Range ({format_range(sheet.title, far)}) exceeds grid limits. "
                                        f"Max rows: {sheet.row_count}, max columns: {sheet.column_count}")
                cells.append((r, c, value))
        height = len(values)
        width = max((len(row) for row in values), default=0)
        written = Block(requested.r0, requested.c0, requested.r0 + max(height, 1) - 1,
                        requested.c0 + max(width, 1) - 1)
        return sheet, written, cells

    def _apply(self, book: Spreadsheet, sheet: Worksheet, cells: list[tuple[int, int, Any]]) -> None:
        for r, c, value in cells:
            sheet.put(r, c, None if value == "" else value)
        if cells:
            book.modified = _now_iso()

    def _update_answer(self, book: Spreadsheet, sheet: Worksheet, written: Block, cells: list,
                       include: bool, response_option: str | None) -> dict:
        answer: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id,
                                  "updatedRange": format_range(sheet.title, written)}
        rows = len({r for r, _, _ in cells})
        cols = len({c for _, c, _ in cells})
        for key, number in (("updatedRows", rows), ("updatedColumns", cols), ("updatedCells", len(cells))):
            if number:
                answer[key] = number
        if include:
            data: dict[str, Any] = {"range": format_range(sheet.title, written), "majorDimension": "ROWS"}
            values = self._read_block(sheet, written, "ROWS", response_option or "FORMATTED_VALUE")
            if values:
                data["values"] = values
            answer["updatedData"] = data
        return answer

    @staticmethod
    def _input_option(option: Any) -> str:
        if option not in _INPUT_OPTIONS:
            raise ApiError(400, f"Invalid valueInputOption: {option or 'INPUT_VALUE_OPTION_UNSPECIFIED'}")
        return option

    def values_update(self, spreadsheet_id: str, range_text: str, body: dict, input_option: Any,
                      include: bool = False, response_option: str | None = None) -> dict:
        with self.lock:
            book = self._open(spreadsheet_id)
            option = self._input_option(input_option)
            if body.get("range") not in (None, range_text):
                (body_sheet, body_block), (url_sheet, url_block) = (self._resolve(book, body["range"]),
                                                                    self._resolve(book, range_text))
                if (body_sheet.sheet_id, body_block) != (url_sheet.sheet_id, url_block):
                    raise ApiError(400, "The range in the body does not match the range in the URL")
            sheet, written, cells = self._plan_write(book, range_text, body.get("values"),
                                                     body.get("majorDimension"), option, "")
            self._apply(book, sheet, cells)
            return self._update_answer(book, sheet, written, cells, include, response_option)

    def values_batch_update(self, spreadsheet_id: str, body: dict) -> dict:
        """Every range is checked before any is written: one bad range writes nothing."""
        with self.lock:
            book = self._open(spreadsheet_id)
            option = self._input_option(body.get("valueInputOption"))
            data = body.get("data") or []
            if not isinstance(data, list):
                raise ApiError(400, "Invalid data: a list of value ranges is expected")
            plans = []
            for i, entry in enumerate(data):
                if not isinstance(entry, dict):
                    raise ApiError(400, f"Invalid data[{i}]: a value range is expected")
                plans.append(self._plan_write(book, entry.get("range"), entry.get("values"),
                                              entry.get("majorDimension"), option, f"Invalid data[{i}]"))
            include = bool(body.get("includeValuesInResponse"))
            response_option = body.get("responseValueRenderOption")
            responses, rows, cols, sheets, total = [], set(), set(), set(), 0
            for sheet, _written, cells in plans:
                self._apply(book, sheet, cells)
            for sheet, written, cells in plans:
                responses.append(self._update_answer(book, sheet, written, cells, include, response_option))
                rows.update((sheet.sheet_id, r) for r, _, _ in cells)
                cols.update((sheet.sheet_id, c) for _, c, _ in cells)
                if cells:
                    sheets.add(sheet.sheet_id)
                total += len(cells)
            answer: dict[str, Any] = {"spreadsheetId": spreadsheet_id}
            for key, number in (("totalUpdatedRows", len(rows)), ("totalUpdatedColumns", len(cols)),
                                ("totalUpdatedCells", total), ("totalUpdatedSheets", len(sheets))):
                if number:
                    answer[key] = number
            if responses:
                answer["responses"] = responses
            return answer

    def _clear(self, book: Spreadsheet, text: str) -> str:
        sheet, block = self._resolve(book, text)
        bounded = block.bounded(sheet.row_count, sheet.column_count)
        bounded = Block(bounded.r0, bounded.c0, min(bounded.r1, sheet.row_count - 1),
                        min(bounded.c1, sheet.column_count - 1))
        for r in range(bounded.r0, min(bounded.r1 + 1, len(sheet.rows))):
            cells = sheet.rows[r]
            for c in range(bounded.c0, min(bounded.c1 + 1, len(cells))):
                cells[c] = None
        book.modified = _now_iso()
        return format_range(sheet.title, bounded)

    def values_clear(self, spreadsheet_id: str, range_text: str) -> dict:
        with self.lock:
            book = self._open(spreadsheet_id)
            return {"spreadsheetId": spreadsheet_id, "clearedRange": self._clear(book, range_text)}

    def values_batch_clear(self, spreadsheet_id: str, body: dict) -> dict:
        with self.lock:
            book = self._open(spreadsheet_id)
            ranges = body.get("ranges") or []
            for text in ranges:
                self._resolve(book, text)  # all or nothing
            answer: dict[str, Any] = {"spreadsheetId": spreadsheet_id}
            cleared = [self._clear(book, text) for text in ranges]
            if cleared:
                answer["clearedRanges"] = cleared
            return answer

    # ------------------------------------------------------------------------------ structure
    def batch_update(self, spreadsheet_id: str, body: dict) -> dict:
        """spreadsheets.batchUpdate with the requests gspread sends for worksheet housekeeping:
        updateSheetProperties (title, grid size, frozen rows, hidden), addSheet, deleteSheet."""
        with self.lock:
            book = self._open(spreadsheet_id)
            requests = body.get("requests") or []
            replies: list[dict] = []
            for i, request in enumerate(requests):
                if not isinstance(request, dict) or len(request) != 1:
                    raise ApiError(400, f"Invalid requests[{i}]: exactly one kind of request is expected")
                (kind, spec), = request.items()
                handler = {"updateSheetProperties": self._update_sheet_properties, "addSheet": self._add_sheet,
                           "deleteSheet": self._delete_sheet}.get(kind)
                if handler is None:
                    raise ApiError(400, f"Invalid requests[{i}]: {kind} is not simulated by the sandbox")
                replies.append(handler(book, spec or {}, f"Invalid requests[{i}].{kind}"))
            book.modified = _now_iso()
            return {"spreadsheetId": spreadsheet_id, "replies": replies}

    @staticmethod
    def _sheet_by_id(book: Spreadsheet, sheet_id: Any, where: str) -> Worksheet:
        sheet = next((s for s in book.sheets if s.sheet_id == (sheet_id or 0)), None)
        if sheet is None:
            raise ApiError(400, f"{where}: No grid with id: {sheet_id}")
        return sheet

    def _update_sheet_properties(self, book: Spreadsheet, spec: dict, where: str) -> dict:
        props = spec.get("properties") or {}
        fields = {f.strip() for f in (spec.get("fields") or "").split(",") if f.strip()}
        sheet = self._sheet_by_id(book, props.get("sheetId"), where)
        grid = props.get("gridProperties") or {}

        def wanted(name: str) -> bool:
            return "*" in fields or name in fields

        if wanted("title") and "title" in props:
            if any(s is not sheet and s.title == props["title"] for s in book.sheets):
                raise ApiError(400, f"{where}: A sheet with the name \"{props['title']}\" already exists.")
            sheet.title = props["title"]
        if wanted("hidden") and "hidden" in props:
            if props["hidden"] and all(s.hidden or s is sheet for s in book.sheets):
                raise ApiError(400, f"{where}: at least one sheet must stay visible")
            sheet.hidden = bool(props["hidden"])
        for name, attr in (("rowCount", "row_count"), ("columnCount", "column_count")):
            if (wanted(f"gridProperties/{name}") or wanted("gridProperties")) and name in grid:
                if int(grid[name]) < 1:
                    raise ApiError(400, f"{where}: {name} must be at least 1")
                setattr(sheet, attr, int(grid[name]))
        if (wanted("gridProperties/frozenRowCount") or wanted("gridProperties")) and "frozenRowCount" in grid:
            sheet.frozen_rows = int(grid["frozenRowCount"])
        sheet.truncate()
        return {}

    def _add_sheet(self, book: Spreadsheet, spec: dict, where: str) -> dict:
        props = spec.get("properties") or {}
        title = props.get("title") or f"Sheet{len(book.sheets) + 1}"
        if any(s.title == title for s in book.sheets):
            raise ApiError(400, f"{where}: A sheet with the name \"{title}\" already exists.")
        grid = props.get("gridProperties") or {}
        sheet_id = props.get("sheetId")
        if sheet_id is None:
            sheet_id = self._free_sheet_id(book)
        sheet = Worksheet(int(sheet_id), title, int(grid.get("rowCount") or DEFAULT_ROWS),
                          int(grid.get("columnCount") or DEFAULT_COLUMNS))
        index = props.get("index")
        book.sheets.insert(len(book.sheets) if index is None else int(index), sheet)
        return {"addSheet": {"properties": sheet.properties(book.sheets.index(sheet))}}

    def _delete_sheet(self, book: Spreadsheet, spec: dict, where: str) -> dict:
        sheet = self._sheet_by_id(book, spec.get("sheetId"), where)
        if len(book.sheets) == 1:
            raise ApiError(400, f"{where}: a spreadsheet keeps at least one sheet")
        book.sheets.remove(sheet)
        return {}

    # ------------------------------------------------------------------------------ drive
    def drive_create(self, body: dict) -> dict:
        mime = body.get("mimeType") or SPREADSHEET_MIME
        if mime != SPREADSHEET_MIME:
            raise ApiError(400, "The sandbox Drive only holds spreadsheets")
        name = body.get("name") or "Untitled spreadsheet"
        spreadsheet_id = self.add_spreadsheet(name)
        return {"kind": "drive#file", "id": spreadsheet_id, "name": name, "mimeType": SPREADSHEET_MIME}

    def drive_get(self, file_id: str, fields: str | None) -> dict:
        with self.lock:
            book = self.spreadsheets.get(file_id)
            if book is None or book.private:
                raise ApiError(404, f"File not found: {file_id}.")
            full = {"kind": "drive#file", "id": book.spreadsheet_id, "name": book.title,
                    "mimeType": SPREADSHEET_MIME, "createdTime": book.created, "modifiedTime": book.modified}
            if not fields:
                return {k: full[k] for k in ("kind", "id", "name", "mimeType")}
            wanted = [f.strip() for f in fields.split(",") if f.strip()]
            return {k: full[k] for k in wanted if k in full}

    def drive_delete(self, file_id: str) -> None:
        with self.lock:
            book = self.spreadsheets.get(file_id)
            if book is None or book.private:
                raise ApiError(404, f"File not found: {file_id}.")
            del self.spreadsheets[file_id]


def _clip(block: Block) -> Block:
    """A bounded block (for messages)."""
    return Block(block.r0, block.c0, block.r1 if block.r1 is not None else block.r0,
                 block.c1 if block.c1 is not None else block.c0)


# ------------------------------------------------------------------------------ service accounts
def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _verify_assertion(assertion: str, service_accounts: dict[str, str]) -> dict:
    """The claims of a service account's JWT assertion; its RS256 signature is checked against the
    registered public key when its issuer is registered. TokenRefused (invalid_grant) otherwise."""
    import json

    def refuse(reason: str) -> TokenRefused:
        return TokenRefused(reason)

    try:
        header_b64, claims_b64, signature_b64 = assertion.split(".")
        header = json.loads(_b64url(header_b64))
        claims = json.loads(_b64url(claims_b64))
        signature = _b64url(signature_b64)
    except (ValueError, TypeError):
        raise refuse("Invalid JWT: not a signed token") from None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not issuer or header.get("alg") != "RS256":
        raise refuse("Invalid JWT: an RS256 assertion with an issuer is expected")
    now = time.time()
    if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] < now:
        raise refuse("Invalid JWT: Token must be a short-lived token and in a reasonable timeframe")
    if service_accounts:
        pem = service_accounts.get(issuer)
        if pem is None:
            raise refuse("Invalid grant: account not found")
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding

        key = serialization.load_pem_public_key(pem.encode())
        try:
            key.verify(signature, f"{header_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise refuse("Invalid JWT Signature.") from None
    return claims


__all__ = [
    "READ_METHODS",
    "WRITE_METHODS",
    "ApiError",
    "Fault",
    "GoogleSheetsState",
    "Spreadsheet",
    "TokenRefused",
    "Worksheet",
    "quote_sheet",
    "render",
    "trimmed",
]
