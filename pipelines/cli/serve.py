"""`marketsync serve`: the push intake, receiving signed supplier feed pushes over HTTP."""
from __future__ import annotations

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8780, show_default=True)
def serve(host: str, port: int) -> None:
    """Receive pushed supplier feeds (PUT .../items, POST .../items:batch), signed with HMAC-SHA256."""
    from marketsync.pipelines.push_intake import serve as serve_intake

    serve_intake(host, port)
