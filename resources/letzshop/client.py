"""The Letzshop seller GraphQL API, through gql over httpx.

Letzshop publishes no SDL; our operations (operations/*.graphql) follow the public facts and are
validated in the tests against the schema the sandbox serves. Reads retry transient failures
themselves; writes never do: a write is retried only by the outbound queue, which first re-reads the
shipment when an earlier attempt's outcome is unknown.

gql sends; the project's HTTP plumbing (resources.http_client) gives it its httpx client (timeouts and
the size cap), classifies what goes wrong below HTTP, retries reads and bounds the paging. Every answer
is bounded (resources.http_limits): refused past `max_answer_mib` while it streams in; a paging
sequence stops at a cursor answered again, after `max_pages` pages or `paging_deadline_seconds`.
A GraphQL error answered with HTTP 200 is a server fault (transient) when its extensions code says
so (INTERNAL_SERVER_ERROR, ...), a refusal (permanent) otherwise; an answer that is not the shape the
operation asked for (`nodes: null`, a missing pageInfo) is a worded `malformed` error.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import orjson
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportProtocolError,
    TransportQueryError,
    TransportServerError,
)
from gql.transport.httpx import HTTPXTransport
from graphql import DocumentNode

from marketsync.resources.client_resource import ApiClientResource
from marketsync.resources.errors import first_line
from marketsync.resources.http_client import DEFAULT_LIMITS, NOT_SENT, client_options, paged, transport_failure
from marketsync.resources.http_limits import (
    MALFORMED,
    TOO_LARGE,
    Limits,
    malformed,
    too_large_message,
)
from marketsync.resources.http_retry import HttpCallError, RetryPolicy, retry_after_seconds
from marketsync.resources.scrubbing import SecretScrubber

OPERATIONS = Path(__file__).parent / "operations"
UNIT_STATE_FOR = {True: "confirmed_available", False: "confirmed_unavailable"}


@cache
def operation(name: str) -> DocumentNode:
    """A parsed operation from operations/NAME.graphql."""
    return gql((OPERATIONS / f"{name}.graphql").read_text())


class LetzshopError(HttpCallError):
    """A failed Letzshop call. `kind` says what a caller may do about it:
    auth (fix the key), rate_limited and server and unreachable (try later; nothing was applied, except
    that a server error on a write may have been), outcome_unknown (the request left; re-read before
    resending), rejected (Letzshop refused the request itself), and the bounds' kinds of
    resources.http_limits (too_large, too_many_pages, paging_stuck, deadline, malformed)."""

    TRANSIENT = frozenset({"rate_limited", "server", "unreachable", "outcome_unknown"})


def _from_status(code: int, response: httpx.Response | None) -> LetzshopError:
    if code in (401, 403):
        return LetzshopError(f"Letzshop refused the API key (HTTP {code}): set a valid key with "
                             "`marketsync credentials set STORE letzshop`", "auth")
    if code == 429:
        return LetzshopError("Letzshop rate limit reached (HTTP 429)", "rate_limited", retry_after_seconds(response))
    if code >= 500:
        return LetzshopError(f"Letzshop server error (HTTP {code})", "server", retry_after_seconds(response))
    return LetzshopError(f"Letzshop answered HTTP {code}", "rejected")


def _raise_for_status(response: httpx.Response) -> None:
    """An httpx response hook: a GraphQL error body on an HTTP error status is still an HTTP error
    (gql would read it as a query error, and a 500 must never look like a refusal)."""
    if response.status_code >= 400:
        raise httpx.HTTPStatusError(f"HTTP {response.status_code}", request=response.request, response=response)


# GraphQL error codes (extensions.code) that say the server failed, not the request: worth a retry.
SERVER_SIDE_CODES = frozenset({"INTERNAL", "INTERNAL_SERVER_ERROR", "INTERNAL_ERROR", "SERVER_ERROR",
                               "SERVICE_UNAVAILABLE", "UNAVAILABLE", "TIMEOUT", "DEADLINE_EXCEEDED",
                               "BAD_GATEWAY", "GATEWAY_TIMEOUT"})
RATE_LIMIT_CODES = frozenset({"RATE_LIMITED", "THROTTLED", "TOO_MANY_REQUESTS"})
AUTH_CODES = frozenset({"UNAUTHENTICATED", "UNAUTHORIZED", "FORBIDDEN"})


def _query_error(errors: list) -> LetzshopError:
    """A GraphQL error answered with HTTP 200, classified by its extensions code."""
    errors = [e if isinstance(e, dict) else {"message": str(e)} for e in errors or []]
    messages = "; ".join(str(e.get("message", e))[:200] for e in errors[:3]) or "no message"
    codes = {str((e.get("extensions") or {}).get("code") or "").upper()
             for e in errors if isinstance(e.get("extensions"), dict)}
    if codes & SERVER_SIDE_CODES:
        return LetzshopError(f"Letzshop failed on the request (GraphQL error {', '.join(sorted(codes))}): "
                             f"{messages}", "server")
    if codes & RATE_LIMIT_CODES:
        return LetzshopError(f"Letzshop rate limit reached (GraphQL error): {messages}", "rate_limited")
    if codes & AUTH_CODES:
        return LetzshopError(f"Letzshop refused the API key ({', '.join(sorted(codes))}): set a valid key with "
                             "`marketsync credentials set STORE letzshop`", "auth")
    return LetzshopError(f"Letzshop refused the request: {messages}", "rejected")


def _translate(exc: Exception) -> LetzshopError:
    """The error mapping: a gql/httpx failure as a LetzshopError with a one-line message."""
    cause = exc.__cause__
    failure = transport_failure(cause) if cause is not None else None
    if failure == "too_large":
        return LetzshopError(too_large_message("Letzshop's answer", cause), TOO_LARGE)
    if failure == "decoding":
        return LetzshopError(f"Letzshop's answer could not be decoded ({first_line(cause)})", MALFORMED)
    if isinstance(cause, httpx.HTTPStatusError):
        return _from_status(cause.response.status_code, cause.response)
    if isinstance(exc, TransportServerError):
        response = getattr(cause, "response", None)
        return _from_status(exc.code or (response.status_code if response is not None else 0), response)
    if isinstance(exc, TransportConnectionFailed):
        if failure in NOT_SENT:
            return LetzshopError(f"Letzshop is unreachable ({type(cause).__name__})", "unreachable")
        return LetzshopError(
            f"no complete answer from Letzshop ({type(cause).__name__ if cause else 'connection lost'})",
            "outcome_unknown",
        )
    if isinstance(exc, TransportQueryError):
        return _query_error(exc.errors or [{"message": str(exc)}])
    if isinstance(exc, TransportProtocolError):
        return LetzshopError("Letzshop answered with something that is not GraphQL (not JSON, or neither data nor "
                             "errors)", MALFORMED)
    return LetzshopError(f"Letzshop call failed: {type(exc).__name__}", "server")


class LetzshopApi:
    """A connected session with one account's Letzshop endpoint and key."""

    def __init__(self, endpoint: str, api_key: str, *, timeout: float = 30.0, read_attempts: int = 5,
                 max_wait: float = 60.0, idempotency_header: bool = True, limits: Limits = DEFAULT_LIMITS):
        self.limits = limits
        self._transport = HTTPXTransport(
            url=endpoint, json_deserialize=orjson.loads,
            **client_options(timeout, limits=limits, headers={"Authorization": f"Bearer {api_key}"},
                             event_hooks={"response": [_raise_for_status]}),
        )
        self._client = Client(transport=self._transport, fetch_schema_from_transport=False)
        self._session = None
        self._reads = RetryPolicy(read_attempts, 0.5, max_wait)
        self._idempotency_header = idempotency_header
        self._scrubber = SecretScrubber(api_key)

    def __enter__(self) -> LetzshopApi:
        self._session = self._client.connect_sync()
        return self

    def __exit__(self, *exc) -> None:
        self._client.close_sync()
        self._session = None

    def _execute(self, name: str, variables: dict[str, Any] | None = None,
                 idempotency_key: str | None = None) -> dict[str, Any]:
        extra = ({"headers": {"Idempotency-Key": idempotency_key}}
                 if idempotency_key and self._idempotency_header else None)
        try:
            request = GraphQLRequest(operation(name), variable_values=variables)
            return self._session.execute(request, extra_args=extra)
        except Exception as exc:
            raise _translate(exc).scrubbed(self._scrubber) from None

    def _read(self, name: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """A read, retried on transient failures with full-jitter backoff, honouring Retry-After."""
        return self._reads.retrying(LetzshopError)(self._execute, name, variables)

    # ------------------------------------------------------------------ reads
    def ping(self) -> float:
        """Seconds one authenticated round trip takes."""
        started = time.perf_counter()
        self._execute("ping")
        return time.perf_counter() - started

    def shipment_pages(self, state: str, page_size: int = 100, query: str = "shipments") -> Iterator[list[dict]]:
        """Every shipment in `state`, a page at a time, following the cursor to the end (within the
        session's paging bounds)."""
        def fetch(after: str | None, number: int) -> tuple[list[dict], bool, str | None]:
            data = self._read(query, {"state": state, "first": page_size, "after": after})
            return _shipments_page(data, f"Letzshop {query} ({state}) page {number}")

        for nodes, _has_next, _cursor in paged(f"Letzshop {query} ({state})", LetzshopError, self.limits, fetch,
                                                lambda page: page[2] if page[1] else None):
            yield nodes

    def find_shipment(self, shipment_id: str, states: tuple[str, ...] = ("confirmed", "declined", "unconfirmed"),
                      page_size: int = 250) -> dict | None:
        """The current unit states and tracking of one shipment. Letzshop offers no lookup by id, so
        this pages through the likely states; it is used only when an earlier write's outcome is unknown."""
        for state in states:
            for page in self.shipment_pages(state, page_size, query="shipment_states"):
                for node in page:
                    if node["id"] == shipment_id:
                        return node
        return None

    # ------------------------------------------------------------------ writes (never retried here)
    def confirm_units(self, decisions: dict[str, bool], idempotency_key: str | None = None) -> dict:
        """Confirm (True) or decline (False) each inventory unit."""
        units = [{"inventoryUnitId": unit_id, "isAvailable": ok} for unit_id, ok in decisions.items()]
        payload = self._execute("confirm_inventory_units", {"input": {"inventoryUnits": units}},
                                idempotency_key)["confirmInventoryUnits"]
        _raise_user_errors(payload)
        return payload

    def set_tracking(self, shipment_id: str, code: str, provider: str, idempotency_key: str | None = None) -> dict:
        payload = self._execute(
            "set_shipment_tracking",
            {"input": {"shipmentId": shipment_id, "code": code, "provider": provider}},
            idempotency_key,
        )["setShipmentTracking"]
        _raise_user_errors(payload)
        return payload


def _shipments_page(data: Any, what: str) -> tuple[list[dict], bool, str | None]:
    """(nodes, hasNextPage, endCursor) of a `shipments` answer, or a worded malformed error."""
    shipments = data.get("shipments") if isinstance(data, dict) else None
    if not isinstance(shipments, dict):
        raise LetzshopError(malformed(what, "no `shipments` object"), MALFORMED)
    nodes = shipments.get("nodes")
    if not isinstance(nodes, list):
        raise LetzshopError(malformed(what, f"`nodes` is {_type_name(nodes)}, not a list"), MALFORMED)
    if not all(isinstance(node, dict) for node in nodes):
        raise LetzshopError(malformed(what, "`nodes` holds something that is not a shipment object"), MALFORMED)
    info = shipments.get("pageInfo")
    if not isinstance(info, dict) or not isinstance(info.get("hasNextPage"), bool):
        raise LetzshopError(malformed(what, "no `pageInfo.hasNextPage` true or false"), MALFORMED)
    cursor = info.get("endCursor")
    if info["hasNextPage"] and not (isinstance(cursor, str) and cursor):
        raise LetzshopError(malformed(what, "`hasNextPage` is true but there is no `endCursor`"), MALFORMED)
    return nodes, info["hasNextPage"], cursor


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _raise_user_errors(payload: dict | None) -> None:
    errors = (payload or {}).get("errors") or []
    if errors:
        raise LetzshopError("Letzshop refused the change: " + "; ".join(e.get("message", "?") for e in errors),
                            "rejected")


class LetzshopResource(ApiClientResource):
    """Opens Letzshop API sessions for store accounts; the endpoint comes from each account."""

    timeout_seconds: float = 30.0
    read_attempts: int = 5
    max_retry_wait_seconds: float = 60.0

    def session(self, endpoint: str, api_key: str, timeout: float | None = None) -> LetzshopApi:
        return LetzshopApi(endpoint, api_key, timeout=timeout or self.timeout_seconds,
                           read_attempts=self.read_attempts, max_wait=self.max_retry_wait_seconds,
                           limits=self.limits())
