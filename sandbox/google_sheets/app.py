"""The Google Sheets v4 sandbox over HTTP: the routes gspread 6 calls, at the paths Google serves
them on (point a client's https://sheets.googleapis.com and https://www.googleapis.com at it).

Public routes (Bearer token required, else 401 UNAUTHENTICATED):
  GET  /v4/spreadsheets/{id}                         spreadsheets.get (metadata; grid data is never sent)
  POST /v4/spreadsheets/{id}:batchUpdate             spreadsheets.batchUpdate (updateSheetProperties,
                                                     addSheet, deleteSheet)
  GET  /v4/spreadsheets/{id}/values/{range}          spreadsheets.values.get
  PUT  /v4/spreadsheets/{id}/values/{range}          spreadsheets.values.update (?valueInputOption=)
  POST /v4/spreadsheets/{id}/values/{range}:clear    spreadsheets.values.clear
  GET  /v4/spreadsheets/{id}/values:batchGet         spreadsheets.values.batchGet (?ranges=...&ranges=...)
  POST /v4/spreadsheets/{id}/values:batchUpdate      spreadsheets.values.batchUpdate
  POST /v4/spreadsheets/{id}/values:batchClear       spreadsheets.values.batchClear
  POST /drive/v3/files | GET, DELETE /drive/v3/files/{id}   Drive: create / metadata / delete a spreadsheet
  POST /token                                        OAuth 2 jwt-bearer grant for service accounts

Sheets requests are counted per token against the read and write quotas (sliding window) and may
meet an armed fault first. Errors use Google's body: {"error": {"code", "message", "status"}}.

Admin routes (no token, loopback clients only):
  GET  /_sandbox/stats                   counters
  GET|POST|DELETE /_sandbox/faults       list, arm ({"kind", "count"?, "skip"?, "target"?, "retry_after"?}), clear
  POST /_sandbox/spreadsheets            {"title", "rows"?, "worksheet"?, "spreadsheetId"?, "private"?} -> id
  GET  /_sandbox/spreadsheets/{id}       {"values": [...]} of ?worksheet= (default: the first)
  POST /_sandbox/reset                   forget everything
"""

from __future__ import annotations

from functools import partial
from urllib.parse import parse_qsl, unquote

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..admin import admin_route, faults_route, json_response, stats_route
from .state import READ_METHODS, ApiError, GoogleSheetsState, TokenRefused

_SHEETS_PREFIX = "/v4/spreadsheets/"
_DRIVE_PREFIX = "/drive/v3/files"
_FAULT_ANSWERS = {"http_429": 429, "http_500": 500, "http_503": 503}
_FAULT_MESSAGES = {429: "Resource has been exhausted (sandbox fault).",
                   500: "Internal error encountered (sandbox fault).",
                   503: "The service is currently unavailable (sandbox fault)."}


_MEDIA_TYPE = "application/json; charset=UTF-8"  # as Google labels its JSON answers
_json = partial(json_response, media_type=_MEDIA_TYPE)


def _error(error: ApiError) -> Response:
    headers = dict(error.headers)
    if error.code == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
    return _json(error.body(), error.code, headers)


def _flag(value: str | None) -> bool:
    return (value or "").lower() == "true"


def _raw_path(request: Request) -> str:
    """The path as sent, still percent-encoded (a range may hold an encoded `/`)."""
    raw = request.scope.get("raw_path")
    return raw.decode("latin-1") if raw else request.url.path


def _sheets_route(method: str, tail: str) -> tuple[str, str, str | None]:
    """(API method, spreadsheet id, range) for a path below /v4/spreadsheets/; KeyError if none."""
    parts = tail.split("/")
    head = parts[0]
    if len(parts) == 1:
        if head.endswith(":batchUpdate") and method == "POST":
            return "spreadsheets.batchUpdate", unquote(head[:-len(":batchUpdate")]), None
        if method == "GET":
            return "spreadsheets.get", unquote(head), None
        raise KeyError(tail)
    spreadsheet_id = unquote(head)
    collection = parts[1]
    if len(parts) == 2:
        verbs = {("GET", "values:batchGet"): "spreadsheets.values.batchGet",
                 ("POST", "values:batchUpdate"): "spreadsheets.values.batchUpdate",
                 ("POST", "values:batchClear"): "spreadsheets.values.batchClear"}
        return verbs[(method, collection)], spreadsheet_id, None
    if collection != "values":
        raise KeyError(tail)
    range_raw = "/".join(parts[2:])
    if method == "POST" and range_raw.endswith(":clear"):
        return "spreadsheets.values.clear", spreadsheet_id, unquote(range_raw[:-len(":clear")])
    api = {"GET": "spreadsheets.values.get", "PUT": "spreadsheets.values.update"}[method]
    return api, spreadsheet_id, unquote(range_raw)


async def _body(request: Request) -> dict:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ApiError(400, "Invalid JSON payload received.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Invalid JSON payload received: an object is expected.")
    return body


def create_app(state: GoogleSheetsState) -> Starlette:  # noqa: C901 - the count takes in the nested route handlers; each alone is under 20
    """The Google Sheets sandbox ASGI app serving `state`."""

    def bearer(request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        return token if scheme.lower() == "bearer" and token else None

    def authenticate(request: Request) -> str:
        token = bearer(request)
        if token is None:
            raise ApiError(401, "Request is missing an OAuth 2 access token (sandbox).")
        if not state.token_accepted(token):
            raise ApiError(401, "Request had invalid authentication credentials (sandbox).")
        return token

    def fault_answer(kind: str) -> ApiError | None:
        fault = state.take_fault(kind)
        if fault is None:
            return None
        code = _FAULT_ANSWERS[fault.kind]
        headers = {}
        if fault.retry_after is not None:
            seconds = fault.retry_after
            headers["Retry-After"] = str(int(seconds)) if float(seconds).is_integer() else str(seconds)
        return ApiError(code, _FAULT_MESSAGES[code], headers)

    async def sheets(request: Request) -> Response:
        tail = _raw_path(request)
        tail = tail[tail.index(_SHEETS_PREFIX) + len(_SHEETS_PREFIX):] if _SHEETS_PREFIX in tail else ""
        try:
            api, spreadsheet_id, range_text = _sheets_route(request.method, tail)
        except KeyError:
            return _json(ApiError(404, f"Method not found: {request.method} {request.url.path}").body(), 404)
        kind = "read" if api in READ_METHODS else "write"
        params = request.query_params
        try:
            token = authenticate(request)
            injected = fault_answer(kind)
            if injected is not None:
                raise injected
            state.charge_quota(token, kind)
            if api == "spreadsheets.get":
                answer = state.get_spreadsheet(spreadsheet_id)
            elif api == "spreadsheets.values.get":
                answer = state.values_get(spreadsheet_id, range_text, params.get("majorDimension"),
                                          params.get("valueRenderOption"))
            elif api == "spreadsheets.values.batchGet":
                answer = state.values_batch_get(spreadsheet_id, params.getlist("ranges"),
                                                params.get("majorDimension"), params.get("valueRenderOption"))
            elif api == "spreadsheets.values.update":
                answer = state.values_update(spreadsheet_id, range_text, await _body(request),
                                             params.get("valueInputOption"),
                                             _flag(params.get("includeValuesInResponse")),
                                             params.get("responseValueRenderOption"))
            elif api == "spreadsheets.values.batchUpdate":
                answer = state.values_batch_update(spreadsheet_id, await _body(request))
            elif api == "spreadsheets.values.clear":
                answer = state.values_clear(spreadsheet_id, range_text)
            elif api == "spreadsheets.values.batchClear":
                answer = state.values_batch_clear(spreadsheet_id, await _body(request))
            else:
                answer = state.batch_update(spreadsheet_id, await _body(request))
            response = _json(answer)
        except ApiError as error:
            response = _error(error)
        state.record(api, response.status_code)
        return response

    async def drive(request: Request) -> Response:
        path = request.url.path
        file_id = unquote(_raw_path(request).rstrip("/")[len(_DRIVE_PREFIX) + 1:]) if path != _DRIVE_PREFIX else ""
        api = {("POST", False): "drive.files.create", ("GET", True): "drive.files.get",
               ("DELETE", True): "drive.files.delete"}.get((request.method, bool(file_id)))
        if api is None:
            return _json(ApiError(404, f"Method not found: {request.method} {path}").body(), 404)
        try:
            authenticate(request)
            if api == "drive.files.create":
                response = _json(state.drive_create(await _body(request)))
            elif api == "drive.files.get":
                response = _json(state.drive_get(file_id, request.query_params.get("fields")))
            else:
                state.drive_delete(file_id)
                response = Response(b"", 204)
        except ApiError as error:
            response = _error(error)
        state.record(api, response.status_code)
        return response

    async def token(request: Request) -> Response:
        fields = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        if fields.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            response = _json({"error": "unsupported_grant_type", "error_description": "Invalid grant_type."}, 400)
        else:
            try:
                response = _json(state.issue_token(fields.get("assertion", "")), headers={"Cache-Control": "no-store"})
            except TokenRefused as refused:
                response = _json(refused.body(), 400)
        state.record("oauth2.token", response.status_code)
        return response

    admin = partial(admin_route, media_type=_MEDIA_TYPE)

    async def add_spreadsheet(request: Request, body) -> Response:
        spreadsheet_id = state.add_spreadsheet(body.get("title", "Untitled spreadsheet"), body.get("rows"),
                                               worksheet=body.get("worksheet", "Sheet1"),
                                               spreadsheet_id=body.get("spreadsheetId"),
                                               private=bool(body.get("private")))
        return _json({"spreadsheetId": spreadsheet_id})

    async def dump(request: Request, body) -> Response:
        values = state.values(request.path_params["spreadsheet_id"], request.query_params.get("worksheet"))
        return _json({"values": values})

    async def reset(request: Request, body) -> Response:
        state.reset()
        return _json({"spreadsheets": 0})

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH"]
    routes = [
        Route("/v4/spreadsheets/{rest:path}", sheets, methods=methods),
        Route("/drive/v3/files", drive, methods=methods),
        Route("/drive/v3/files/{rest:path}", drive, methods=methods),
        Route("/token", token, methods=["POST"]),
        stats_route(state, media_type=_MEDIA_TYPE),
        faults_route(state, media_type=_MEDIA_TYPE),
        Route("/_sandbox/spreadsheets", admin(add_spreadsheet), methods=["POST"]),
        Route("/_sandbox/spreadsheets/{spreadsheet_id}", admin(dump), methods=["GET"]),
        Route("/_sandbox/reset", admin(reset), methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.google_sheets = state
    return app


__all__ = ["GoogleSheetsState", "create_app"]
