"""`marketsync tokens ...`: the bearer tokens of `marketsync serve`'s operations endpoints.

    tokens create NAME [--store S]   a new token (of store S only, when given), printed once
    tokens list                      name, store, made, last used, revoked (never the token)
    tokens revoke NAME               refused from the next request on

Prometheus sends one as `authorization: {credentials: ...}` (type Bearer); a browser opening /status asks
for it (any user name, the token as the password).
"""
from __future__ import annotations

import click

from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime

TOKEN_COLUMNS = ["name", "store", "created_at", "last_used_at", "revoked_at"]


@click.group()
def tokens() -> None:
    """Tokens that open /metrics, /health/stores/STORE, /status and /readyz of `marketsync serve`."""


@tokens.command("create")
@click.argument("name")
@click.option("--store", default=None, help="The token sees this store only (default: every store).")
@pass_runtime
def tokens_create(rt: Runtime, name: str, store: str | None) -> None:
    """Make token NAME and print it: it is shown this once (only its SHA-256 is kept)."""
    from marketsync.pipelines.ops_app.tokens import create_token

    with rt.warehouse.begin() as conn:
        token, _token_id = create_token(conn, name, store)
    click.echo(f"token '{name}' ({f'store {store} only' if store else 'every store'}); shown once, keep it now:",
               err=True)
    click.echo(token)


@tokens.command("list")
@json_option
@pass_runtime
def tokens_list(rt: Runtime, as_json: bool) -> None:
    """Every token: its store (- for every store), when it was made, last used and revoked."""
    from marketsync.pipelines.ops_app.tokens import list_tokens

    with rt.warehouse.begin() as conn:
        rows = list_tokens(conn)
    emit(rows, as_json, TOKEN_COLUMNS)


@tokens.command("revoke")
@click.argument("name")
@pass_runtime
def tokens_revoke(rt: Runtime, name: str) -> None:
    """Revoke token NAME: every request with it is refused from now on."""
    from marketsync.pipelines.ops_app.tokens import revoke_token

    with rt.warehouse.begin() as conn:
        revoked = revoke_token(conn, name)
    click.echo(f"token '{name}' revoked" if revoked else f"token '{name}' was revoked already")
