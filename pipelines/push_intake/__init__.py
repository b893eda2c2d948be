"""Push intake: suppliers push inventory to a store's feed over HTTP (Jetti's push flow).

`app` (the ASGI app and its routes), `auth` (signed deliveries), `secrets` (the feed's signing secrets),
`limits` (request rate, body size, daily quota), `items` (validation and the canonical mapping),
`inbox` (accepted deliveries and the Dagster job that applies batches).

Importing this package is cheap on purpose: the Dagster code location imports `inbox` through it.
"""
from __future__ import annotations

import os

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8780


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Run the intake with uvicorn until interrupted (`marketsync serve`).

    Resources come from the environment as every marketsync process finds them (`DATABASE_URL`,
    `MARKETSYNC_SECRET_KEYS`, the embedded database when unset). One process: the request-rate window
    is kept in memory. Put TLS in front (a reverse proxy on the same host: its X-Forwarded-For is
    trusted from 127.0.0.1 only, uvicorn's default, so the rate limit sees the real client).
    """
    import uvicorn

    from marketsync.pipelines.environment import prepare_environment
    from marketsync.pipelines.push_intake.app import create_push_app
    from marketsync.resources.database import engine_for
    from marketsync.resources.vault import CredentialVault

    prepare_environment()
    engine = engine_for(os.environ["DATABASE_URL"])
    vault = CredentialVault(secret_keys=os.environ["MARKETSYNC_SECRET_KEYS"])
    uvicorn.run(create_push_app(engine, vault), host=host, port=port, proxy_headers=True, log_level="info")
