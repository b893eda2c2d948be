"""`marketsync serve`: the push intake (signed supplier feed pushes), the storefront order API and the
operations endpoints (/metrics, /health/stores/{store}, /status, /healthz, /readyz) over HTTP, in one app."""
from __future__ import annotations

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8780, show_default=True)
@click.option("--access-log", is_flag=True,
              help="Log a line per request (off by default: a reverse proxy in front logs requests, and at a "
                   "shop's peak a line per order costs a fifth of the intake's time).")
def serve(host: str, port: int, access_log: bool) -> None:
    """Receive pushed supplier feeds (PUT .../items, POST .../items:batch, signed with HMAC-SHA256) and the
    store's own shop's orders (POST /stores/STORE/orders, PATCH .../orders/NUMBER, with the key of
    `marketsync storefront key`), and serve the operations endpoints: /metrics, /health/stores/STORE,
    /status (a token of `marketsync tokens`), /healthz, /readyz."""
    from marketsync.pipelines.ops_app.server import serve as serve_app

    serve_app(host, port, access_log=access_log)
