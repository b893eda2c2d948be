"""`marketsync sync ...`: a channel's orders or JTL-FFN's holdings imported now, through the Dagster assets."""
from __future__ import annotations

import click

from pipelines.cli.inputs import require_channel, require_client
from pipelines.cli.output import emit, json_option
from pipelines.cli.runtime import Runtime, pass_runtime
from resources.errors import MarketsyncError

# The channels `sync orders` speaks; it names them when asked for another.
ORDER_CHANNELS = ("letzshop", "amazon", "ebay")


@click.group()
def sync() -> None:
    """Run imports now, in-process, through the same Dagster assets the sensors launch."""


@sync.command("orders")
@click.argument("store")
@click.argument("channel", metavar="CHANNEL")
@click.option("--state", "states", multiple=True,
              help="Letzshop only: shipment state(s) to import (default: unconfirmed).")
@json_option
@pass_runtime
def sync_orders(rt: Runtime, store: str, channel: str, states: tuple[str, ...], as_json: bool) -> None:
    """Import STORE's orders from CHANNEL (letzshop, amazon, ebay), then match them and apply the
    auto-confirm rule."""
    from pipelines.run_in_process import run_order_sync

    require_channel("order sync", channel, ORDER_CHANNELS)
    if states and channel != "letzshop":
        raise MarketsyncError(f"--state is a Letzshop shipment state; {channel} imports every order changed "
                              "since its last sync")
    from assets.accounts import get_account

    with rt.warehouse.begin() as conn:
        get_account(conn, store, channel)  # before a Dagster partition is made for it
    if channel != "letzshop":
        require_client(channel, rt.client(channel))
    emit(run_order_sync(store, list(states) or ["unconfirmed"], channel=channel), as_json)


@sync.command("fulfillment")
@click.argument("store")
@json_option
@pass_runtime
def sync_fulfillment(rt: Runtime, store: str, as_json: bool) -> None:
    """Sync what JTL-FFN holds for STORE now (products, stock, inbounds), through its Dagster asset."""
    from assets.accounts import get_account
    from pipelines.run_in_process import run_fulfillment_sync

    with rt.warehouse.begin() as conn:
        get_account(conn, store, "jtl_ffn")
    require_client("jtl_ffn", rt.client("jtl_ffn"))
    emit(run_fulfillment_sync(store), as_json)
