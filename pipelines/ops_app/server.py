"""The app of `marketsync serve`: the push intake's routes, the storefront order API and the operations
routes, in one process.

`create_app` builds it (what `marketsync serve` and `make dev` serve, and the tests drive); `serve` runs it
with uvicorn until interrupted.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from marketsync.assets.channel_registry import Channel
from marketsync.assets.operations.health import API_CALL_TIMEOUT_SECONDS, API_STATUS_MAX_AGE_SECONDS
from marketsync.pipelines.ops_app.app import ops_routes
from marketsync.pipelines.push_intake.app import DEFAULT_PUSH_LIMITS, create_push_app
from marketsync.pipelines.push_intake.limits import Clock, PushLimits, utc_now
from marketsync.pipelines.storefront_api.app import storefront_routes
from marketsync.pipelines.storefront_api.group_commit import GroupCommit
from marketsync.resources.vault import CredentialVault

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8780


def create_app(engine: Engine, vault: CredentialVault, *, clock: Clock = utc_now,
               limits: PushLimits = DEFAULT_PUSH_LIMITS, clients: Callable[[Channel], Any] | None = None,
               api_max_age_seconds: float = API_STATUS_MAX_AGE_SECONDS,
               api_timeout_seconds: float = API_CALL_TIMEOUT_SECONDS,
               storefront_intake: GroupCommit | None = None) -> Starlette:
    """The whole app: the operations routes, the storefront order API, then the push intake's routes as
    its own app has them (its /healthz is the same answer as ours, so ours serves it). `clock` and
    `limits` are the push intake's; `clients` and the API status settings the health endpoint's;
    `storefront_intake` the storefront's order writers (default: two)."""
    ops = ops_routes(engine, vault, clients=clients, api_max_age_seconds=api_max_age_seconds,
                     api_timeout_seconds=api_timeout_seconds)
    ours = {route.path for route in ops}
    push: list[BaseRoute] = [route for route in create_push_app(engine, vault, clock=clock, limits=limits).routes
                             if not (isinstance(route, Route) and route.path in ours)]
    storefront = storefront_routes(engine, vault, intake=storefront_intake)
    # The storefront's routes first: an order at a shop's peak is the busiest request, and routes are
    # matched in order.
    return Starlette(routes=[*storefront, *ops, *push])


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, access_log: bool = False) -> None:
    """Run the app with uvicorn until interrupted (`marketsync serve`).

    Resources come from the environment as every marketsync process finds them (`DATABASE_URL`,
    `MARKETSYNC_SECRET_KEYS`, the embedded database when unset); the channels' application clients for
    the health endpoint's live calls too, as the code location reads them. One process: the push
    intake's request-rate window is kept in memory. Put TLS in front (a reverse proxy on the same host:
    its X-Forwarded-For is trusted from 127.0.0.1 only, uvicorn's default, so the rate limit sees the
    real client); tokens travel in the Authorization header and need it.
    """
    import uvicorn

    from marketsync.pipelines.environment import prepare_environment
    from marketsync.resources.database import engine_for

    prepare_environment()
    engine = engine_for(os.environ["DATABASE_URL"])
    vault = CredentialVault(secret_keys=os.environ["MARKETSYNC_SECRET_KEYS"])
    # The storefront's order writers: MARKETSYNC_STOREFRONT_WRITERS transactions at once, each of up to
    # MARKETSYNC_STOREFRONT_BATCH orders (1: a transaction per order, what benchmarks/storefront.py compares).
    intake = GroupCommit(engine, writers=int(os.environ.get("MARKETSYNC_STOREFRONT_WRITERS", "2")),
                         max_batch=int(os.environ.get("MARKETSYNC_STOREFRONT_BATCH", "200")))
    try:
        uvicorn.run(create_app(engine, vault, storefront_intake=intake), host=host, port=port, proxy_headers=True,
                    log_level="info", access_log=access_log)
    finally:
        intake.close()
