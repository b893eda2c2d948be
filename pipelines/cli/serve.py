"""`marketsync serve`: the push intake (signed supplier feed pushes) and the operations endpoints
(/metrics, /health/stores/{store}, /status, /healthz, /readyz) over HTTP, in one app."""
from __future__ import annotations

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8780, show_default=True)
def serve(host: str, port: int) -> None:
    """Receive pushed supplier feeds (PUT .../items, POST .../items:batch, signed with HMAC-SHA256) and serve
    the operations endpoints: /metrics, /health/stores/STORE, /status (a token of `marketsync tokens`),
    /healthz, /readyz."""
    from marketsync.pipelines.ops_app.server import serve as serve_app

    serve_app(host, port)
