"""`marketsync test-connection STORE CHANNEL`: one authorised call to a channel, timed.

Which channels it speaks and how, each channel declares (`connection_test` in assets/<channel>/channel.py):
the command knows none of them by name."""
from __future__ import annotations

import time

import click

from marketsync.assets.channel_registry import channels, load
from marketsync.pipelines.cli.inputs import require_channel
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime


def connection_channels() -> tuple[str, ...]:
    """The channels that declare a connection test."""
    return tuple(name for name, c in channels().items() if c.connection_test)


@click.command("test-connection")
@click.argument("store")
@click.argument("channel", metavar="CHANNEL")
@pass_runtime
def test_connection(rt: Runtime, store: str, channel: str) -> None:
    """Call CHANNEL (any channel with a connection test: letzshop, amazon, ebay, jtl_ffn, codeswholesale, email)
    with STORE's stored credentials and report the response time."""
    require_channel("test-connection", channel, connection_channels())
    declaration = channels()[channel]
    check = load(declaration.connection_test)
    started = time.perf_counter()
    where = check(rt.warehouse, rt.vault, rt.client(declaration.key), store)
    click.echo(f"ok: {store}/{channel} answered in {(time.perf_counter() - started) * 1000:.0f} ms{where}")
