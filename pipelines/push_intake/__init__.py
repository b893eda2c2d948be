"""Push intake: suppliers push inventory to a store's feed over HTTP (Jetti's push flow).

`app` (the ASGI app and its routes), `auth` (signed deliveries), `secrets` (the feed's signing secrets),
`limits` (request rate, body size, daily quota), `items` (validation and the canonical mapping),
`inbox` (accepted deliveries and the Dagster job that applies batches).

Importing this package is cheap on purpose: the Dagster code location imports `inbox` through it.
"""
from __future__ import annotations

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8780


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Run `marketsync serve`'s app (this intake's routes beside the operations endpoints) until
    interrupted: pipelines/ops_app/server.py."""
    from marketsync.pipelines.ops_app.server import serve as serve_app

    serve_app(host, port)
