"""The Letzshop sandbox over HTTP: ``POST /graphql``, ``PUT /inventory/{filename}`` plus
loopback-only admin endpoints.

``/graphql`` behaves like the real endpoint as far as it is known: Bearer key, GraphQL
errors with HTTP 200, cursor-paged shipments, the two seller mutations. Faults armed on
the state (``/_sandbox/faults`` or ``LetzshopState.add_fault``) make it misbehave the
ways production does, so the importer's retry and idempotency logic can be tested.

``PUT /inventory/{filename}`` (same Bearer key) is the inventory file intake, our model of
Letzshop's CSV stock import: it answers with a per-row processing report (README.md).

Admin endpoints (no key, loopback clients only):
  GET  /_sandbox/stats           counters per operation, status, fault and shipment
  GET  /_sandbox/mutations       the mutation log
  GET  /_sandbox/faults          faults still armed
  POST /_sandbox/faults          arm a fault, or {"kind": "revoke_key", "key": ...},
                                 {"kind": "restore_key", "key": ...}, {"kind": "clear"}
  DELETE /_sandbox/faults        disarm all faults
  POST /_sandbox/shipments       {"count": N}: N more seeded unconfirmed shipments
  POST /_sandbox/reset           regenerate (optionally {"seed": s, "size": n}), clear all
  GET  /_sandbox/figures         expected_figures() of the generated scenario
  GET  /_sandbox/catalog.csv     the merchant catalog export that belongs to the scenario
  GET  /_sandbox/schema.graphql  our SDL
  GET  /_sandbox/inventory       stock set by files (?sku=...&sku=... for some), uploads,
                                 inventory faults
  GET|POST|DELETE /_sandbox/inventory/faults
                                 inventory faults; POST changes the fields given
  POST /_sandbox/inventory/listings  {"skus": [...]}: more known listings (strict mode)
  POST /_sandbox/inventory/reset     forget stock, uploads, keys, inventory faults, listings
"""

from __future__ import annotations

import csv
import io
import json
import logging
from functools import partial

import orjson
from graphql import FieldNode, OperationDefinitionNode
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ..admin import admin_route, json_response, stats_route
from ..http import oversized_json, pause
from .data import CATALOG_CSV_HEADER, catalog_csv_rows, expected_figures
from .executor import QueryExecutor
from .schema import DocumentCache, build, operation_type, sdl
from .state import Fault, LetzshopState


def _encode(payload) -> bytes:
    # orjson: rendering a 250-shipment page is the simulator's largest cost, and the simulator shares
    # the machine with the importer it stands in for.
    return orjson.dumps(payload)


class _ResponseLost(Exception):
    """Raised mid-response so the server drops the connection (apply_then_drop)."""


class _QuietDrop(logging.Filter):
    """uvicorn logs a traceback for a response cut short; ours are on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], _ResponseLost))


_QUIET_DROP = _QuietDrop()


def _error(message: str, status: int, code: str, headers: dict | None = None) -> Response:
    return json_response({"errors": [{"message": message, "extensions": {"code": code}}]}, status, headers)


def _file_error(message: str, status: int, code: str, headers: dict | None = None) -> Response:
    """The inventory intake's error answer: ``{"error": ..., "code": ...}``."""
    return json_response({"error": message, "code": code}, status, headers)


_UNAUTHORIZED = "Invalid or missing API key. Send 'Authorization: Bearer <key>'."
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="letzshop"'}


class _TruncatedResponse(Response):
    """Announces the whole body, sends half of it, then the connection dies."""

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2],
                    "more_body": True})
        raise _ResponseLost


_WRONG_ANSWERS = ("repeat_cursor", "null_nodes", "huge_answer", "not_json")


def _wrong_answer(fault: Fault, result: dict, variables: dict) -> Response:
    """The answer a wrong-answer fault makes of the real ``result`` (see Fault)."""
    if fault.kind == "not_json":
        return PlainTextResponse("<html><body>502 Bad Gateway (sandbox fault)</body></html>",
                                 media_type="text/html")
    if fault.kind == "huge_answer":
        return oversized_json(result, fault.size_mib or 64.0)
    shipments = (result.get("data") or {}).get("shipments")
    if isinstance(shipments, dict):
        if fault.kind == "null_nodes":
            shipments["nodes"] = None
        elif fault.kind == "repeat_cursor":
            info = shipments.setdefault("pageInfo", {})
            info["endCursor"] = variables.get("after") or info.get("endCursor") or "repeat"
            info["hasNextPage"] = True
    return json_response(result)


def _root_fields(document, operation_name: str | None) -> list[str]:
    """Root field names of the chosen operation, for per-operation counters."""
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
                operation_name is None or (definition.name and definition.name.value == operation_name)):
            return [s.name.value for s in definition.selection_set.selections
                    if isinstance(s, FieldNode) and s.name.value != "__typename"]
    return []


def _bearer(request: Request) -> str | None:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return key.strip() or None


def create_app(state: LetzshopState) -> Starlette:  # noqa: C901 - the count takes in the nested route handlers; each alone is under 20
    """The Letzshop sandbox ASGI app serving ``state``."""
    schema = build()
    documents = DocumentCache(schema)
    executor = QueryExecutor(schema)
    logging.getLogger("uvicorn.error").addFilter(_QUIET_DROP)  # no-op when already there

    async def graphql(request: Request) -> Response:
        if not state.is_authorized(_bearer(request)):
            state.record_request([], 401)
            return _error(_UNAUTHORIZED, 401, "UNAUTHENTICATED", _CHALLENGE)
        try:
            body = json.loads(await request.body())
            query = body["query"]
            variables = body.get("variables")
            operation_name = body.get("operationName")
            if not isinstance(query, str) or not isinstance(variables, (dict, type(None))) \
                    or not isinstance(operation_name, (str, type(None))):
                raise TypeError
        except (ValueError, KeyError, TypeError, AttributeError):
            state.record_request([], 400)
            return _error('Expected a JSON body {"query": str, "variables"?: object, '
                          '"operationName"?: str}.', 400, "BAD_REQUEST")

        checked = documents.get(query)
        if checked.errors:
            state.record_request([], 200)
            return json_response({"errors": [e.formatted for e in checked.errors]})
        kind = operation_type(checked.document, operation_name)
        fault = state.take_fault(kind)
        lost = None
        if fault is not None:
            response = await _misbehave(request, fault)
            if response is not None:
                state.record_request([], response.status_code)
                return response
            if fault.kind == "apply_then_drop":
                lost = fault

        context = {"idempotency_key": request.headers.get("idempotency-key"), "request": request}
        with state.lock:
            if kind == "query":
                result = executor.execute(checked.document, state, context, variables,
                                          operation_name, plans=checked.plans)
            else:
                result = executor.reference(checked.document, state, context, variables,
                                            operation_name)
        state.record_request(_root_fields(checked.document, operation_name),
                             502 if lost and lost.then == "502" else 200)
        if fault is not None and fault.kind in _WRONG_ANSWERS:
            return _wrong_answer(fault, result, variables or {})
        if lost is None:
            return json_response(result)
        return await _lose(request, lost, _encode(result), _error)

    async def _lose(request: Request, lost: Fault, body: bytes, error) -> Response:
        """The answer of a call that took effect but whose response goes missing."""
        if lost.then == "502":
            return error("Bad gateway (sandbox: the response was lost).", 502, "BAD_GATEWAY")
        if lost.then == "hang":
            await pause(request, lost.seconds or 300.0, until_disconnect=True)
            return error("Gateway timeout (sandbox: the response was lost).", 504, "TIMEOUT")
        return _TruncatedResponse(body, media_type="application/json")

    async def _misbehave(request: Request, fault: Fault, error=_error) -> Response | None:
        """The response a fault replaces the real one with, or None to carry on; ``error``
        builds error answers in the route's format."""
        if fault.kind == "http_500":
            return error("Internal server error (sandbox fault).", 500, "INTERNAL_SERVER_ERROR")
        if fault.kind == "http_429":
            retry_after = fault.retry_after
            header = str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
            return error("Too many requests (sandbox fault).", 429, "RATE_LIMITED",
                         {"Retry-After": header})
        if fault.kind == "slow":
            await pause(request, fault.seconds, until_disconnect=False)
            return None
        if fault.kind == "hang":
            await pause(request, fault.seconds, until_disconnect=True)
            return error("Gateway timeout (sandbox fault).", 504, "TIMEOUT")
        if fault.kind == "graphql_internal":
            return json_response({"data": None, "errors": [{
                "message": "Internal server error (sandbox fault).",
                "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]})
        if fault.kind == "graphql_invalid":
            return json_response({"errors": [{
                "message": "Cannot query field 'nope' on type 'Query' (sandbox fault).",
                "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]})
        return None  # apply_then_drop and the wrong answers act after execution

    async def inventory_file(request: Request) -> Response:
        """``PUT /inventory/{filename}``: process a stock CSV, answer the per-row report."""
        operations = ["inventoryFile"]
        if not state.is_authorized(_bearer(request)):
            state.record_request(operations, 401)
            return _file_error(_UNAUTHORIZED, 401, "UNAUTHENTICATED", _CHALLENGE)
        fault = state.take_fault("inventory")
        lost = None
        if fault is not None:
            response = await _misbehave(request, fault, _file_error)
            if response is not None:
                state.record_request(operations, response.status_code)
                return response
            if fault.kind == "apply_then_drop":
                lost = fault
        filename = request.path_params["filename"]
        if len(filename) <= 4 or not filename.lower().endswith(".csv"):
            state.record_request(operations, 400)
            return _file_error(f"the file name must end in .csv, got {filename!r}", 400, "BAD_REQUEST")
        body = await request.body()
        # A 10^5-row file takes a noticeable moment; the event loop keeps serving meanwhile.
        answer = await run_in_threadpool(state.receive_inventory_file, filename, body,
                                         request.headers.get("idempotency-key") or None)
        if lost is not None and answer.status == 200:
            state.record_request(operations, 502 if lost.then == "502" else 200)
            return await _lose(request, lost, answer.body, _file_error)
        state.record_request(operations, answer.status)
        return Response(answer.body, answer.status, media_type="application/json")

    # The admin handlers take no body argument: the few that need one read it (read_json).
    admin = partial(admin_route, read_body=False)

    async def read_json(request: Request):
        raw = await request.body()
        return json.loads(raw) if raw.strip() else {}

    async def mutations(request: Request) -> Response:
        with state.lock:
            log = [r._asdict() for r in state.mutation_log]
        return json_response(log)

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            state.clear_faults()
        elif request.method == "POST":
            body = await read_json(request)
            for spec in body if isinstance(body, list) else [body]:
                spec = dict(spec)
                kind = spec.pop("kind")
                if kind == "revoke_key":
                    state.revoke_key(spec["key"])
                elif kind == "restore_key":
                    state.add_key(spec["key"])
                elif kind == "clear":
                    state.clear_faults()
                else:
                    state.add_fault(kind, **spec)
        with state.lock:
            armed = [vars(f).copy() for f in state.faults]
            revoked = sorted(state.revoked_keys)
        return json_response({"faults_armed": armed, "revoked_keys": revoked})

    async def shipments(request: Request) -> Response:
        count = int((await read_json(request)).get("count", 1))
        if not 0 < count <= 100_000:
            raise ValueError("count must be between 1 and 100000")
        added = state.add_shipments(count)
        return json_response({"added": added, "total": len(state.shipments)})

    async def reset(request: Request) -> Response:
        body = await read_json(request)
        state.reset(body.get("seed"), body.get("size"))
        return json_response({"seed": state.seed, "size": state.size, "shipments": len(state.shipments)})

    def scenario_options() -> dict:
        return {"catalog_size": state.catalog_size, "anomalies": state.anomalies}

    async def figures(request: Request) -> Response:
        result = expected_figures(state.seed, state.size, history_rate=state.history_rate,
                                  **scenario_options())
        return json_response(result.as_dict())

    async def catalog_csv(request: Request) -> Response:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CATALOG_CSV_HEADER, lineterminator="\n")
        writer.writeheader()
        writer.writerows(catalog_csv_rows(state.seed, state.size, **scenario_options()))
        return PlainTextResponse(out.getvalue(), media_type="text/csv; charset=utf-8")

    async def schema_sdl(request: Request) -> Response:
        return PlainTextResponse(sdl())

    async def inventory(request: Request) -> Response:
        wanted = request.query_params.getlist("sku")
        with state.lock:
            if wanted:
                stock = {sku: state.inventory.get(sku) for sku in wanted}
            else:
                stock = dict(state.inventory)
            uploads = [u._asdict() for u in state.inventory_uploads]
            armed = state.inventory_faults.as_dict()
            added = len(state.added_listings)
        return json_response({"stock": stock, "uploads": uploads, "faults": armed,
                              "listings_added": added})

    async def inventory_faults(request: Request) -> Response:
        if request.method == "DELETE":
            state.clear_inventory_faults()
        elif request.method == "POST":
            body = await read_json(request)
            if not isinstance(body, dict):
                raise TypeError("expected a JSON object of inventory faults")
            state.set_inventory_faults(**body)
        return json_response(state.inventory_faults.as_dict())

    async def inventory_listings(request: Request) -> Response:
        body = await read_json(request)
        added = state.add_listings(body["skus"])
        return json_response({"added": added, "listings_added": len(state.added_listings)})

    async def inventory_reset(request: Request) -> Response:
        state.reset_inventory()
        return json_response({"reset": True})

    routes = [
        Route("/graphql", graphql, methods=["POST"]),
        stats_route(state, read_body=False),
        Route("/_sandbox/mutations", admin(mutations), methods=["GET"]),
        Route("/_sandbox/faults", admin(faults), methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/shipments", admin(shipments), methods=["POST"]),
        Route("/_sandbox/reset", admin(reset), methods=["POST"]),
        Route("/_sandbox/figures", admin(figures), methods=["GET"]),
        Route("/_sandbox/catalog.csv", admin(catalog_csv), methods=["GET"]),
        Route("/_sandbox/schema.graphql", admin(schema_sdl), methods=["GET"]),
        Route("/inventory/{filename}", inventory_file, methods=["PUT"]),
        Route("/_sandbox/inventory", admin(inventory), methods=["GET"]),
        Route("/_sandbox/inventory/faults", admin(inventory_faults), methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/inventory/listings", admin(inventory_listings), methods=["POST"]),
        Route("/_sandbox/inventory/reset", admin(inventory_reset), methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.letzshop = state
    app.state.executor = executor
    return app
