"""Google Sheets (API v4) through gspread: open a worksheet, read all its values, write many cells
in one request.

Credentials are a service-account key (the JSON Google issues; `EnvVar` it) whose access tokens
google-auth fetches and renews, or, for the sandbox and short-lived tokens minted elsewhere, a
static bearer token. gspread addresses Google's hosts itself; when `base_url` is not Google's, a
requests transport adapter mounted for https://sheets.googleapis.com and https://www.googleapis.com
sends those requests to `base_url` instead (path and query kept), so the same gspread calls reach
the sandbox. Nothing in gspread is patched.

Every HTTP exchange gspread makes goes through `_SheetsHttpClient`, gspread's own `http_client`
extension point: 429 and 5xx answers and broken connections are retried by the project's one retry
policy (resources.http_retry.RetryPolicy: full-jitter exponential backoff that honours Retry-After),
within a bounded number of attempts and a bounded total time. gspread sends over requests, so the
httpx client of resources.http_client is not the one here; the retry rule is. Writes are retried
too: a values:batchUpdate sets fixed cells to fixed values, so sending it again leaves the sheet as
one delivery would. Every answer is read streaming and refused past `max_answer_mib` (50 MiB decoded,
kind too_large), a compressed one inflated a megabyte at a time under the ratio cap of
resources.inflation, as every API client's. Failures surface as one-line `GoogleSheetsError`s that never
contain a token or key material.
"""
from __future__ import annotations

import functools
import json
import re
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlsplit

import gspread
import requests
from dagster import ConfigurableResource
from google.auth.exceptions import RefreshError, TransportError
from google.auth.transport.requests import AuthorizedSession
from gspread.exceptions import APIError, WorksheetNotFound
from gspread.http_client import HTTPClient
from pydantic import PrivateAttr
from requests.adapters import HTTPAdapter

from marketsync.resources.http_limits import DEFAULT_MAX_ANSWER_MIB, MIB
from marketsync.resources.http_retry import HttpCallError, RetryPolicy, retry_after_seconds
from marketsync.resources.inflation import InflateRatioExceeded, content_inflater
from marketsync.resources.url_policy import check_url, checked_addresses

SHEETS_URL = "https://sheets.googleapis.com"
# The hosts gspread sends requests to: the Sheets API, and Drive (file metadata) under www.
GOOGLE_API_ORIGINS = ("https://sheets.googleapis.com", "https://www.googleapis.com")
SPREADSHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
VALUE_INPUT_OPTIONS = ("RAW", "USER_ENTERED")
_CONNECTION_PROBE_ID = "marketsync-connection-test"


class GoogleSheetsError(HttpCallError):
    """A failed Google Sheets call. `kind`: config (fix the resource's settings), auth (credentials
    refused), forbidden (the spreadsheet is not shared with us, or the API is off for the project),
    not_found, rejected (the API refused the request itself), and the transient rate_limited, server
    and unreachable (retried; raised once the retries are spent)."""

    TRANSIENT = frozenset({"rate_limited", "server", "unreachable"})


# ------------------------------------------------------------------------------------------ errors
def _operation(method: str, url: str) -> tuple[str, str | None]:
    """("values.get", spreadsheet id) for a Sheets/Drive URL, for messages."""
    path = urlsplit(url).path
    match = re.search(r"/v4/spreadsheets/([^/:]+)(.*)$", path)
    if match:
        spreadsheet_id, rest = unquote(match.group(1)), match.group(2)
        if not rest:
            return "spreadsheets.get", spreadsheet_id
        if rest == ":batchUpdate":
            return "spreadsheets.batchUpdate", spreadsheet_id
        verb = re.match(r"/values(?::(\w+)|/[^:]*(?::(\w+))?)", rest)
        name = (verb.group(1) or verb.group(2)) if verb else None
        if name is None:
            name = {"GET": "get", "PUT": "update"}.get(method.upper(), method.lower())
        return f"values.{name}", spreadsheet_id
    if "/drive/" in path:
        return f"Drive {method.upper()}", None
    return f"{method.upper()} {path}", None


def _google_error(response: requests.Response) -> tuple[str, str]:
    """(status, first line of message) from Google's error body; empty strings when absent."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return "", ""
    if not isinstance(error, dict):
        return "", ""
    message = str(error.get("message") or "").strip().splitlines()
    return str(error.get("status") or ""), (message[0][:200].rstrip(". ") if message else "")


def _error_for(response: requests.Response, operation: str, spreadsheet_id: str | None,
               account: str | None) -> GoogleSheetsError:
    code = response.status_code
    status, message = _google_error(response)
    answer = f"HTTP {code}{' ' + status if status else ''}"
    target = f"spreadsheet '{spreadsheet_id}'" if spreadsheet_id else "Google Sheets"
    where = f"{operation} of {target}" if spreadsheet_id else operation
    if code == 429:
        return GoogleSheetsError(f"Google Sheets quota exceeded on {where} ({answer})", "rate_limited",
                                 retry_after_seconds(response))
    if code >= 500:
        return GoogleSheetsError(f"Google Sheets server error on {where} ({answer})", "server",
                                 retry_after_seconds(response))
    if code == 401:
        return GoogleSheetsError(f"Google Sheets did not accept the credentials ({answer} on {operation}): "
                                 "check the service-account key or access token", "auth")
    detail = f": {message}" if message else ""
    if code == 403:
        who = f"the service account {account}" if account else "the account the token belongs to"
        return GoogleSheetsError(f"Google Sheets denied access to {target} ({answer}{detail}); share it with "
                                 f"{who} or enable the Sheets API for its project", "forbidden")
    if code == 404:
        return GoogleSheetsError(f"Google Sheets has no {target} ({answer}): check the spreadsheet id",
                                 "not_found")
    return GoogleSheetsError(f"Google Sheets refused {where} ({answer}{detail})", "rejected")


def _refresh_failure(exc: RefreshError, account: str | None) -> GoogleSheetsError:
    """A token endpoint failure, without echoing the assertion or the key."""
    reason = str(exc.args[0]).splitlines()[0][:160] if exc.args else type(exc).__name__
    who = f"service account {account}" if account else "the credentials"
    if getattr(exc, "retryable", False):
        return GoogleSheetsError(f"Google's token endpoint failed for {who} ({reason})", "server")
    return GoogleSheetsError(f"Google did not issue an access token for {who} ({reason})", "auth")


# ------------------------------------------------------------------------------------------ transport
class _RedirectAdapter(HTTPAdapter):
    """A requests transport adapter that sends each request to `base_url` + the request's path and
    query, for requests addressed to one of Google's API origins (the session's mount point)."""

    def __init__(self, base_url: str):
        super().__init__()
        self._target = base_url.rstrip("/")

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url)
        request.url = f"{self._target}{parts.path}{'?' + parts.query if parts.query else ''}"
        # A base URL other than Google's passes the outbound URL policy (resources.url_policy) before each
        # request; requests resolves the name again to connect, so the pinned connection of the httpx
        # clients is not matched here, but nothing reaches an address the policy refuses by name.
        target = urlsplit(self._target)
        check_url(self._target, ("http", "https"), "the Google Sheets base URL")
        try:
            checked_addresses(target.hostname or "", target.port or 443, "the Google Sheets base URL")
        except OSError as exc:
            raise requests.ConnectionError(f"the host name does not resolve ({type(exc).__name__})") from None
        # Proxies were chosen for Google's host: choose again for the real destination.
        kwargs["proxies"] = requests.utils.get_environ_proxies(request.url)
        return super().send(request, **kwargs)


def _read_capped(response: requests.Response, limit: int, operation: str) -> requests.Response:
    """The answer of a streamed request with its body read, refused past `limit` bytes (decoded) as it
    streams in: a declared length over the cap at once, else as soon as the count passes it. A gzip or
    deflate body is inflated here a megabyte at a time under the ratio cap (resources.inflation); an
    encoding we did not ask for is left to urllib3."""
    def too_large(detail: str) -> GoogleSheetsError:
        response.close()
        return GoogleSheetsError(f"the Google Sheets answer on {operation} was refused: {detail} (read a smaller "
                                 "range, or raise the resource's max_answer_mib if such answers are expected)",
                                 "too_large")

    encoding = response.headers.get("content-encoding", "")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit and encoding.strip().lower() in ("", "identity"):
        raise too_large(f"it declares {int(declared) / MIB:,.1f} MiB, over the {limit / MIB:,.1f} MiB cap")
    try:
        inflater, decode = content_inflater(encoding), False
    except ValueError:
        inflater, decode = None, True
    body: list[bytes] = []
    size = 0
    try:
        for chunk in response.raw.stream(64 * 1024, decode_content=decode):
            for piece in (inflater.feed(chunk) if inflater is not None else (chunk,)):
                size += len(piece)
                if size > limit:
                    raise too_large(f"it passed the {limit / MIB:,.1f} MiB cap; it was not read further")
                body.append(piece)
        if inflater is not None:
            body.append(inflater.finish())
    except InflateRatioExceeded as exc:
        raise too_large(str(exc)) from None
    except zlib.error as exc:
        response.close()
        raise GoogleSheetsError(f"no complete answer from Google Sheets on {operation} (its compressed body is "
                                f"broken: {exc})", "unreachable") from None
    response._content = b"".join(body)  # what requests keeps of a body read whole; .json() and .text read it
    response._content_consumed = True
    return response


class _SheetsHttpClient(HTTPClient):
    """gspread's HTTP client with our retries, error wording and answer cap (gspread's `http_client` hook):
    every answer is read streaming and refused past `max_answer_mib` (kind too_large)."""

    def __init__(self, auth: Any, session: requests.Session | None = None, *, account: str | None = None,
                 attempts: int = 6, base_wait: float = 1.0, max_wait: float = 32.0, max_total: float = 120.0,
                 max_answer_mib: float = DEFAULT_MAX_ANSWER_MIB):
        super().__init__(auth, session)
        self.auth = auth
        self.account = account
        self.max_answer_bytes = max(1, int(max_answer_mib * MIB))
        self._retry = RetryPolicy(max(1, attempts), base_wait, max_wait, max_total)
        self.requests_sent = 0
        self.retries = 0

    def request(self, method: str, endpoint: str, params: Any = None, data: Any = None, json: Any = None,
                files: Any = None, headers: Any = None) -> requests.Response:
        operation, spreadsheet_id = _operation(method, endpoint)

        def once() -> requests.Response:
            self.requests_sent += 1
            try:
                # gspread's HTTPClient.request, streaming, so that the answer is read under the cap.
                response = self.session.request(method=method, url=endpoint, json=json, params=params, data=data,
                                                files=files, headers=headers, timeout=self.timeout, stream=True)
                response = _read_capped(response, self.max_answer_bytes, operation)
                if not response.ok:
                    raise APIError(response)
                return response
            except APIError as exc:
                raise _error_for(exc.response, operation, spreadsheet_id, self.account) from None
            except RefreshError as exc:
                raise _refresh_failure(exc, self.account) from None
            except (requests.ConnectionError, requests.Timeout, TransportError) as exc:
                raise GoogleSheetsError(f"Google Sheets is unreachable on {operation} ({type(exc).__name__})",
                                        "unreachable") from None
            except requests.RequestException as exc:
                raise GoogleSheetsError(f"no complete answer from Google Sheets on {operation} "
                                        f"({type(exc).__name__})", "unreachable") from None

        def count_retry(_state: Any) -> None:
            self.retries += 1

        return self._retry.retrying(GoogleSheetsError, before_sleep=count_retry)(once)


# ------------------------------------------------------------------------------------------ worksheet
def _matrix(values: Any) -> list[list[Any]]:
    """Cell values as the API takes them: a scalar is one cell, a flat list one row."""
    if not isinstance(values, (list, tuple)):
        return [[_cell(values)]]
    if all(not isinstance(v, (list, tuple)) for v in values):
        return [[_cell(v) for v in values]] if values else []
    return [[_cell(v) for v in row] if isinstance(row, (list, tuple)) else [_cell(row)] for row in values]


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class ConnectionCheck:
    """What `test_connection` saw: round-trip seconds, and the spreadsheet when one was named."""

    seconds: float
    spreadsheet_title: str | None = None
    worksheets: tuple[str, ...] = ()


class SheetsWorksheet:
    """One worksheet (tab) of a spreadsheet: read every value, write many cells in one request."""

    def __init__(self, worksheet: gspread.Worksheet, value_input_option: str = "RAW"):
        self.gspread = worksheet
        self.value_input_option = value_input_option

    @property
    def spreadsheet_id(self) -> str:
        return self.gspread.spreadsheet_id

    @property
    def title(self) -> str:
        return self.gspread.title

    @property
    def sheet_id(self) -> int:
        return self.gspread.id

    @property
    def row_count(self) -> int:
        return self.gspread.row_count

    @property
    def col_count(self) -> int:
        return self.gspread.col_count

    def rows(self) -> list[list[str]]:
        """Every row as displayed (FORMATTED_VALUE strings), in one request. Rows are padded with
        "" to the widest one; trailing empty rows are not returned (the API leaves them out)."""
        values = self.gspread.get_all_values()
        return [] if values == [[]] else values

    def write_cells(self, updates: Sequence[tuple[str, Any]], *, value_input_option: str | None = None) -> dict:
        """Write every (range, values) pair in exactly one values:batchUpdate request; nothing when
        `updates` is empty. Ranges are A1 ranges inside this worksheet ("F2", "F2:G2"); values a 2-D
        list, a flat list (one row) or a scalar (one cell). RAW by default: text such as "=1+1" or
        "007" is stored as typed, never as a formula or number. Returns the API's answer ({} when
        nothing was sent)."""
        option = value_input_option or self.value_input_option
        if option not in VALUE_INPUT_OPTIONS:
            raise ValueError(f"value_input_option must be one of {VALUE_INPUT_OPTIONS}")
        data = []
        for a1_range, values in updates:
            if not isinstance(a1_range, str) or not a1_range.strip() or "!" in a1_range:
                raise ValueError(f"write_cells takes A1 ranges inside worksheet '{self.title}' such as 'F2' "
                                 f"or 'F2:G3', not {a1_range!r}")
            data.append({"range": a1_range.strip(), "values": _matrix(values)})
        if not data:
            return {}
        return self.gspread.batch_update(data, value_input_option=option)


# ------------------------------------------------------------------------------------------ resource
class GoogleSheetsResource(ConfigurableResource):
    """Google Sheets through gspread. Set `service_account_json` (the key file's JSON, e.g.
    `EnvVar("GOOGLE_SHEETS_SERVICE_ACCOUNT_JSON")`) in production, or `bearer_token` for the sandbox
    (`python -m sandbox.google_sheets`) or a token minted elsewhere; `base_url` moves every request
    gspread makes to another server (the sandbox), keeping the path."""

    service_account_json: str | None = None
    bearer_token: str | None = None
    base_url: str = SHEETS_URL
    scopes: list[str] = [SPREADSHEETS_SCOPE]  # noqa: RUF012 - pydantic field
    value_input_option: str = "RAW"
    timeout_seconds: float = 30.0
    attempts: int = 6
    retry_base_seconds: float = 1.0
    max_retry_wait_seconds: float = 32.0
    max_retry_total_seconds: float = 120.0
    max_answer_mib: float = DEFAULT_MAX_ANSWER_MIB  # the largest answer read (decoded), as every API client's

    _client: gspread.Client | None = PrivateAttr(default=None)

    # -------------------------------------------------------------- credentials and client
    def _credentials(self) -> tuple[Any, str | None]:
        if self.service_account_json and self.bearer_token:
            raise GoogleSheetsError("GoogleSheetsResource takes service_account_json or bearer_token, not both",
                                    "config")
        if self.service_account_json:
            from google.oauth2 import service_account

            try:
                info = json.loads(self.service_account_json)
            except ValueError:
                raise GoogleSheetsError("service_account_json is not JSON (expected the key file Google "
                                        "issued for the service account)", "config") from None
            if not isinstance(info, dict):
                raise GoogleSheetsError("service_account_json is not a JSON object", "config")
            try:
                credentials = service_account.Credentials.from_service_account_info(info, scopes=list(self.scopes))
            except (ValueError, KeyError, TypeError):
                raise GoogleSheetsError("service_account_json is not a usable service-account key (it needs "
                                        "client_email, a PEM private_key and token_uri)", "config") from None
            return credentials, str(info.get("client_email") or "") or None
        if self.bearer_token:
            from google.oauth2.credentials import Credentials

            return Credentials(token=self.bearer_token.strip()), None
        raise GoogleSheetsError("GoogleSheetsResource needs service_account_json or bearer_token: set "
                                "GOOGLE_SHEETS_SERVICE_ACCOUNT_JSON to the service-account key file's JSON (or "
                                "MARKETSYNC_SHEETS_TOKEN for the sandbox)", "config")

    def _session(self, credentials: Any) -> AuthorizedSession:
        # A static token cannot be renewed: a 401 is an answer, not a cue to refresh.
        refresh_on = () if self.bearer_token else (401,)
        session = AuthorizedSession(credentials, refresh_status_codes=refresh_on)
        if self.base_url.rstrip("/") != SHEETS_URL:
            adapter = _RedirectAdapter(self.base_url)
            for origin in GOOGLE_API_ORIGINS:
                session.mount(origin + "/", adapter)
        return session

    def client(self) -> gspread.Client:
        """The gspread client (made once per resource instance; tokens are reused and renewed)."""
        if self._client is None:
            credentials, account = self._credentials()
            http_client = functools.partial(
                _SheetsHttpClient, account=account, attempts=self.attempts, base_wait=self.retry_base_seconds,
                max_wait=self.max_retry_wait_seconds, max_total=self.max_retry_total_seconds,
                max_answer_mib=self.max_answer_mib)
            client = gspread.Client(auth=credentials, session=self._session(credentials),
                                    http_client=http_client)  # type: ignore[arg-type]
            client.set_timeout((min(self.timeout_seconds, 10.0), self.timeout_seconds))
            self._client = client
        return self._client

    def teardown_after_execution(self, context: Any) -> None:
        if self._client is not None:
            self._client.http_client.session.close()
            self._client = None

    @property
    def requests_sent(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self._client.http_client.requests_sent if self._client is not None else 0

    # -------------------------------------------------------------- operations
    def open_spreadsheet(self, spreadsheet_id: str) -> gspread.Spreadsheet:
        """The spreadsheet (one spreadsheets.get)."""
        if not spreadsheet_id or not spreadsheet_id.strip():
            raise GoogleSheetsError("no spreadsheet id given", "config")
        return self.client().open_by_key(spreadsheet_id.strip())

    def open_worksheet(self, spreadsheet_id: str, worksheet_title: str) -> SheetsWorksheet:
        """One worksheet of a spreadsheet, by its tab title (exact, case-sensitive)."""
        spreadsheet = self.open_spreadsheet(spreadsheet_id)
        try:
            worksheet = spreadsheet.worksheet(worksheet_title)
        except WorksheetNotFound:
            titles = _titles(spreadsheet)
            known = f"; it has {', '.join(repr(t) for t in titles)}" if titles else ""
            raise GoogleSheetsError(f"spreadsheet '{spreadsheet.id}' has no worksheet '{worksheet_title}'{known}",
                                    "not_found") from None
        return SheetsWorksheet(worksheet, self.value_input_option)

    def test_connection(self, spreadsheet_id: str | None = None) -> ConnectionCheck:
        """Check the credentials, and given a spreadsheet id that the spreadsheet opens: one request.
        Without an id it asks for a spreadsheet that cannot exist; Google answers 404 to valid
        credentials and 401 to anything else."""
        started = time.perf_counter()
        http = self.client().http_client
        if spreadsheet_id:
            metadata = http.fetch_sheet_metadata(spreadsheet_id.strip())
            titles = tuple(sheet["properties"]["title"] for sheet in metadata.get("sheets", []))
            return ConnectionCheck(time.perf_counter() - started, metadata["properties"]["title"], titles)
        try:
            http.fetch_sheet_metadata(_CONNECTION_PROBE_ID)
        except GoogleSheetsError as error:
            if error.kind not in ("not_found", "forbidden"):
                raise
        return ConnectionCheck(time.perf_counter() - started)


def _titles(spreadsheet: gspread.Spreadsheet) -> list[str]:
    """The spreadsheet's worksheet titles; best effort (empty when they cannot be had)."""
    try:
        metadata = spreadsheet.fetch_sheet_metadata()
        return [sheet["properties"]["title"] for sheet in metadata.get("sheets", [])]
    except (GoogleSheetsError, KeyError, TypeError):
        return []


__all__ = [
    "SHEETS_URL",
    "ConnectionCheck",
    "GoogleSheetsError",
    "GoogleSheetsResource",
    "SheetsWorksheet",
]
