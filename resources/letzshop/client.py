"""The Letzshop seller GraphQL API, through gql over httpx.

Letzshop publishes no SDL; our operations (operations/*.graphql) follow the public facts and are
validated in the tests against the schema the sandbox serves. Reads retry transient failures
themselves; writes never do: a write is retried only by the outbound queue, which first re-reads the
shipment when an earlier attempt's outcome is unknown.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import orjson
from dagster import ConfigurableResource
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportProtocolError,
    TransportQueryError,
    TransportServerError,
)
from gql.transport.httpx import HTTPXTransport
from graphql import DocumentNode

from resources.http_retry import HttpCallError, retry_after_seconds, retrying

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
    resending), rejected (Letzshop refused the request itself)."""

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


def _translate(exc: Exception) -> LetzshopError:
    """Turn a gql/httpx failure into a LetzshopError with a one-line message and no secrets."""
    cause = exc.__cause__
    if isinstance(cause, httpx.HTTPStatusError):
        return _from_status(cause.response.status_code, cause.response)
    if isinstance(exc, TransportServerError):
        response = getattr(cause, "response", None)
        return _from_status(exc.code or (response.status_code if response is not None else 0), response)
    if isinstance(exc, TransportConnectionFailed):
        if isinstance(cause, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
            return LetzshopError(f"Letzshop is unreachable ({type(cause).__name__})", "unreachable")
        return LetzshopError(
            f"no complete answer from Letzshop ({type(cause).__name__ if cause else 'connection lost'})",
            "outcome_unknown",
        )
    if isinstance(exc, TransportQueryError):
        messages = "; ".join(str(e.get("message", e)) for e in (exc.errors or [])) or str(exc)
        return LetzshopError(f"Letzshop refused the request: {messages}", "rejected")
    if isinstance(exc, TransportProtocolError):
        return LetzshopError("Letzshop answered with something that is not GraphQL", "server")
    return LetzshopError(f"Letzshop call failed: {type(exc).__name__}", "server")


class LetzshopApi:
    """A connected session with one account's Letzshop endpoint and key."""

    def __init__(self, endpoint: str, api_key: str, *, timeout: float = 30.0, read_attempts: int = 5,
                 max_wait: float = 60.0, idempotency_header: bool = True):
        self._transport = HTTPXTransport(
            url=endpoint,
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            event_hooks={"response": [_raise_for_status]},
            json_deserialize=orjson.loads,
        )
        self._client = Client(transport=self._transport, fetch_schema_from_transport=False)
        self._session = None
        self._read_attempts = read_attempts
        self._max_wait = max_wait
        self._idempotency_header = idempotency_header

    def __enter__(self) -> LetzshopApi:
        self._session = self._client.connect_sync()
        return self

    def __exit__(self, *exc) -> None:
        self._client.close_sync()
        self._session = None

    def _execute(self, name: str, variables: dict[str, Any] | None = None,
                 idempotency_key: str | None = None) -> dict[str, Any]:
        extra = {"headers": {"Idempotency-Key": idempotency_key}} if idempotency_key and self._idempotency_header else None
        try:
            request = GraphQLRequest(operation(name), variable_values=variables)
            return self._session.execute(request, extra_args=extra)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a classified LetzshopError
            raise _translate(exc) from None

    def _read(self, name: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """A read, retried on transient failures with full-jitter backoff, honouring Retry-After."""
        return retrying(LetzshopError, self._read_attempts, 0.5, self._max_wait)(self._execute, name, variables)

    # ------------------------------------------------------------------ reads
    def ping(self) -> float:
        """Seconds one authenticated round trip takes."""
        started = time.perf_counter()
        self._execute("ping")
        return time.perf_counter() - started

    def shipment_pages(self, state: str, page_size: int = 100, query: str = "shipments") -> Iterator[list[dict]]:
        """Every shipment in `state`, a page at a time, following the cursor to the end."""
        after = None
        while True:
            data = self._read(query, {"state": state, "first": page_size, "after": after})["shipments"]
            yield data["nodes"]
            info = data["pageInfo"]
            if not info["hasNextPage"]:
                return
            after = info["endCursor"]

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


def _raise_user_errors(payload: dict | None) -> None:
    errors = (payload or {}).get("errors") or []
    if errors:
        raise LetzshopError("Letzshop refused the change: " + "; ".join(e.get("message", "?") for e in errors), "rejected")


class LetzshopResource(ConfigurableResource):
    """Opens Letzshop API sessions for store accounts; the endpoint comes from each account."""

    timeout_seconds: float = 30.0
    read_attempts: int = 5
    max_retry_wait_seconds: float = 60.0

    def session(self, endpoint: str, api_key: str, timeout: float | None = None) -> LetzshopApi:
        return LetzshopApi(endpoint, api_key, timeout=timeout or self.timeout_seconds,
                           read_attempts=self.read_attempts, max_wait=self.max_retry_wait_seconds)
