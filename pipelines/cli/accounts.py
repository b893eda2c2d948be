"""`marketsync account ...`: a store's account on each channel (endpoint, settings)."""
from __future__ import annotations

import click

from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime


@click.group()
def account() -> None:
    """Store accounts per channel."""


@account.command("add")
@click.argument("store")
@click.argument("channel")
@click.option("--endpoint", default=None, help="API base URL (defaults to the channel's production URL).")
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE",
              help="A setting, e.g. sync_interval_minutes=30 or carrier_label_prefixes.dhl=https://...")
@json_option
@pass_runtime
def account_add(rt: Runtime, store: str, channel: str, endpoint: str | None, pairs: tuple[str, ...],
                as_json: bool) -> None:
    """Add a store's account on CHANNEL, or update its endpoint and settings."""
    from marketsync.assets.accounts import parse_settings, upsert_account

    with rt.warehouse.begin() as conn:
        acct = upsert_account(conn, store, channel, endpoint, parse_settings(list(pairs)))
    emit(_account_row(acct), as_json)


def _account_row(acct) -> dict:
    return {"store": acct.store, "channel": acct.channel, "endpoint": acct.endpoint,
            "sync_interval_minutes": acct.sync_interval_minutes, "enabled": acct.enabled,
            "last_synced_at": acct.last_synced_at, "settings": acct.settings}


@account.command("list")
@json_option
@pass_runtime
def account_list(rt: Runtime, as_json: bool) -> None:
    """List accounts."""
    from marketsync.assets.accounts import list_accounts

    with rt.warehouse.begin() as conn:
        rows = [_account_row(a) for a in list_accounts(conn)]
    emit(rows, as_json, ["store", "channel", "endpoint", "sync_interval_minutes", "enabled", "last_synced_at"])
