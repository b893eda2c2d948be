"""`marketsync credentials ...`: the channels' secrets, encrypted in the vault, and its keys."""
from __future__ import annotations

import click

from marketsync.pipelines.cli.inputs import secrets_from_stdin
from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime


@click.group()
def credentials() -> None:
    """Encrypted channel credentials."""


@credentials.command("set")
@click.argument("store")
@click.argument("channel")
@pass_runtime
def credentials_set(rt: Runtime, store: str, channel: str) -> None:
    """Read a JSON object of secret fields from stdin (never from arguments), e.g. {"api_key": "..."}."""
    from marketsync.assets.accounts import get_account

    fields = secrets_from_stdin()
    with rt.warehouse.begin() as conn:
        acct = get_account(conn, store, channel)
        rt.vault.store(conn, acct.account_id, fields)
        masked = rt.vault.load(conn, acct.account_id).masked()
    click.echo(f"stored credentials for {store}/{channel}: " + ", ".join(f"{k}={v}" for k, v in masked.items()))


@credentials.command("show")
@click.argument("store")
@click.argument("channel")
@json_option
@pass_runtime
def credentials_show(rt: Runtime, store: str, channel: str, as_json: bool) -> None:
    """Show which secret fields are set, masked."""
    from marketsync.assets.accounts import get_account

    with rt.warehouse.begin() as conn:
        acct = get_account(conn, store, channel)
        emit(rt.vault.load(conn, acct.account_id).masked(), as_json)


@credentials.command("new-key")
def credentials_new_key() -> None:
    """Print a new key for MARKETSYNC_SECRET_KEYS (put it first, keep the old keys after it, then rotate)."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode())


@credentials.command("rotate")
@pass_runtime
def credentials_rotate(rt: Runtime) -> None:
    """Re-encrypt every credential with the newest key in MARKETSYNC_SECRET_KEYS (resumable)."""
    count = rt.vault.rotate(rt.warehouse.engine)
    click.echo(f"re-encrypted {count} credential row(s) with key {rt.vault.primary_key_id}")
