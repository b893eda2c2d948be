"""`marketsync sync ...`: a channel's orders or JTL-FFN's holdings imported now, through the Dagster assets.

`sync orders` speaks every channel that declares an order import (assets/<channel>/channel.py)."""
from __future__ import annotations

import click

from marketsync.assets.channel_registry import channels
from marketsync.pipelines.cli.inputs import require_channel, require_client
from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime
from marketsync.resources.errors import MarketsyncError


def order_channels() -> tuple[str, ...]:
    """The channels that declare an order import."""
    return tuple(name for name, c in channels().items() if c.orders)


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
    """Import STORE's orders from CHANNEL (any channel with an order import: letzshop, amazon, ebay), then
    match them and apply the auto-confirm rule."""
    from marketsync.pipelines.run_in_process import run_order_sync

    require_channel("order sync", channel, order_channels())
    declaration = channels()[channel]
    if states and not declaration.orders.states:
        by_state = ", ".join(c.label for c in channels().values() if c.orders and c.orders.states)
        raise MarketsyncError(f"--state is a {by_state} shipment state; {channel} imports every order changed "
                              "since its last sync")
    from marketsync.assets.accounts import get_account

    with rt.warehouse.begin() as conn:
        get_account(conn, store, channel)  # before a Dagster partition is made for it
    if declaration.application_client:
        require_client(channel, rt.client(declaration.key))
    emit(run_order_sync(store, list(states) or ["unconfirmed"], channel=channel), as_json)


@sync.command("fulfillment")
@click.argument("store")
@json_option
@pass_runtime
def sync_fulfillment(rt: Runtime, store: str, as_json: bool) -> None:
    """Sync what JTL-FFN holds for STORE now (products, stock, inbounds), through its Dagster asset."""
    from marketsync.assets.accounts import get_account
    from marketsync.pipelines.run_in_process import run_fulfillment_sync

    with rt.warehouse.begin() as conn:
        get_account(conn, store, "jtl_ffn")
    require_client("jtl_ffn", rt.client("jtl_ffn"))
    emit(run_fulfillment_sync(store), as_json)
