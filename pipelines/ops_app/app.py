"""The operations endpoints of `marketsync serve`:

    GET /healthz                the process is up (no token: what a supervisor polls)
    GET /readyz                 the database answers a trivial query within 2 s: 200, else 503
    GET /metrics                the operations metrics in Prometheus' text format (pipelines/ops_app/prometheus.py)
    GET /health/stores/{store}  per integration and sync operation: last success, last error, the account's
                                open alerts and its API's status from a cheap live call (at most one a minute
                                per account; assets/operations/health.py)
    GET /status                 the status page (HTML; pipelines/ops_app/page.py)

Every endpoint but /healthz wants a token of ops.api_tokens (pipelines/ops_app/auth.py); a token of one store
sees that store only: its /metrics and /status show only it, and another store's health is 404, as an
unknown store is. Database work runs in the thread pool with a deadline; a database that does not answer
makes a 503 with the reason, never a hanging request or a 500.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from marketsync.assets.channel_registry import Channel
from marketsync.assets.operations.health import (
    API_CALL_TIMEOUT_SECONDS,
    API_STATUS_MAX_AGE_SECONDS,
    ChannelClients,
    store_health,
)
from marketsync.assets.operations.status import orders_per_hour, status, sync_durations
from marketsync.assets.stores import find_store_id, validate_store_code
from marketsync.pipelines.ops_app.auth import requires_token, unavailable
from marketsync.pipelines.ops_app.page import SECURITY_HEADERS, render_status
from marketsync.pipelines.ops_app.prometheus import exposition
from marketsync.pipelines.ops_app.tokens import Principal
from marketsync.resources.errors import MarketsyncError

log = logging.getLogger("marketsync.ops_app")

READY_TIMEOUT_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 30.0  # /metrics, /status: far above what 1,000 stores take (benchmarks/operations.py)


class OpsEndpoints:
    """The handlers behind the routes; database work runs in the thread pool, off the event loop."""

    def __init__(self, engine: Engine, vault: Any, clients: Callable[[Channel], Any], *,
                 api_max_age_seconds: float, api_timeout_seconds: float):
        self.engine, self.vault, self.clients = engine, vault, clients
        self.api_max_age_seconds, self.api_timeout_seconds = api_max_age_seconds, api_timeout_seconds

    async def _in_thread(self, work: Callable[..., Any], *args: Any, timeout: float = READ_TIMEOUT_SECONDS) -> Any:
        return await asyncio.wait_for(run_in_threadpool(work, *args), timeout)

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    def _ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text(f"SET LOCAL statement_timeout = '{int(READY_TIMEOUT_SECONDS * 1000)}ms'"))
            conn.execute(text("SELECT 1"))

    async def readyz(self, request: Request, principal: Principal) -> Response:
        try:
            await self._in_thread(self._ping, timeout=READY_TIMEOUT_SECONDS)
        except TimeoutError:
            return unavailable(False, f"the database did not answer within {READY_TIMEOUT_SECONDS:g} s")
        except DBAPIError as exc:
            log.warning("readyz: database unreachable (%s)", type(exc).__name__)
            return unavailable(False, "the database is unreachable")
        return JSONResponse({"status": "ready", "database": "ok"})

    async def metrics(self, request: Request, principal: Principal) -> Response:
        try:
            body, content_type = await self._in_thread(exposition, self.engine, request.headers.get("accept"),
                                                       principal.store_id)
        except (DBAPIError, TimeoutError) as exc:
            log.warning("metrics: not read (%s)", type(exc).__name__)
            return unavailable(False)
        return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})

    def _store_id(self, code: str) -> int | None:
        try:
            validate_store_code(code)
        except MarketsyncError:
            return None
        with self.engine.connect() as conn:
            return find_store_id(conn, code)

    async def store_health(self, request: Request, principal: Principal) -> Response:
        code = request.path_params["store"]
        try:
            store_id = await self._in_thread(self._store_id, code, timeout=READY_TIMEOUT_SECONDS * 2)
            if store_id is None or not principal.sees(store_id):
                return JSONResponse({"error": "unknown_store", "message": f"no store '{code}'"}, status_code=404)
            health = await self._in_thread(
                lambda: store_health(self.engine, self.vault, code, store_id, self.clients,
                                     max_age_seconds=self.api_max_age_seconds,
                                     timeout_seconds=self.api_timeout_seconds))
        except (DBAPIError, TimeoutError) as exc:
            log.warning("health of %s: not read (%s)", code, type(exc).__name__)
            return unavailable(False)
        return JSONResponse(health.as_json(), headers={"Cache-Control": "no-store"})

    def _status_page(self, principal: Principal) -> str:
        with self.engine.connect() as conn:
            conn.execute(text("SET LOCAL statement_timeout = '20s'"))
            current = status(conn, principal.store_id)
            orders = orders_per_hour(conn, principal.store_id)
            durations = sync_durations(conn, principal.store_id)
        scope = f"store {principal.store}" if principal.store_id is not None else "all stores"
        return render_status(current, orders, durations, scope=scope)

    async def status_page(self, request: Request, principal: Principal) -> Response:
        try:
            page = await self._in_thread(self._status_page, principal)
        except (DBAPIError, TimeoutError) as exc:
            log.warning("status page: not read (%s)", type(exc).__name__)
            return unavailable(True)
        return HTMLResponse(page, headers=SECURITY_HEADERS)


def ops_routes(engine: Engine, vault: Any, *, clients: Callable[[Channel], Any] | None = None,
               api_max_age_seconds: float = API_STATUS_MAX_AGE_SECONDS,
               api_timeout_seconds: float = API_CALL_TIMEOUT_SECONDS) -> list[Route]:
    """The operations routes. `clients(channel)`: the channel's API resource for its connection test
    (default: built as the code location builds it, once per process)."""
    ops = OpsEndpoints(engine, vault, clients or ChannelClients(), api_max_age_seconds=api_max_age_seconds,
                       api_timeout_seconds=api_timeout_seconds)
    return [
        Route("/healthz", ops.healthz, methods=["GET"]),
        Route("/readyz", requires_token(engine, ops.readyz), methods=["GET"]),
        Route("/metrics", requires_token(engine, ops.metrics), methods=["GET"]),
        Route("/health/stores/{store}", requires_token(engine, ops.store_health), methods=["GET"]),
        Route("/status", requires_token(engine, ops.status_page, browser=True), methods=["GET"]),
    ]
