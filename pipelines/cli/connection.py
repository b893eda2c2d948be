"""`marketsync test-connection STORE CHANNEL`: one authorised call to a channel, timed."""
from __future__ import annotations

from datetime import UTC

import click

from pipelines.cli.inputs import require_channel, require_client
from pipelines.cli.runtime import Runtime, pass_runtime
from resources.errors import MarketsyncError

# The channels test-connection speaks; it names them when asked for another.
CONNECTION_CHANNELS = ("letzshop", "amazon", "ebay", "jtl_ffn", "codeswholesale")


@click.command("test-connection")
@click.argument("store")
@click.argument("channel", metavar="CHANNEL")
@pass_runtime
def test_connection(rt: Runtime, store: str, channel: str) -> None:
    """Call CHANNEL (letzshop, amazon, ebay, jtl_ffn, codeswholesale) with STORE's stored credentials and
    report the response time."""
    import time

    require_channel("test-connection", channel, CONNECTION_CHANNELS)
    if channel == "codeswholesale":
        from assets.codeswholesale.catalog import get_codeswholesale_source

        with rt.warehouse.begin() as conn:
            source = get_codeswholesale_source(conn, store)
            secrets = rt.vault.load_source(conn, source.source_id)
        if secrets is None:
            raise MarketsyncError(f"no client credentials stored for the CodesWholesale source of '{store}'")
        started = time.perf_counter()
        with rt.client("codeswholesale").session(source.base_url, secrets.reveal("client_id"),
                                                 secrets.reveal("client_secret")) as api:
            api.ping()
        click.echo(f"ok: {store}/{channel} answered in {(time.perf_counter() - started) * 1000:.0f} ms "
                   f"({source.base_url})")
        return
    from assets.accounts import get_account

    with rt.warehouse.begin() as conn:
        acct = get_account(conn, store, channel)
    started = time.perf_counter()
    detail = ""
    if channel == "jtl_ffn":
        from assets.jtl_ffn.assets import ffn_session

        with ffn_session(rt.warehouse, rt.vault, rt.client("jtl_ffn"), store) as (_account, api):
            detail = f", {api.test_connection()['warehouses']} warehouse(s)"
    elif channel == "letzshop":
        from assets.letzshop.connection import letzshop_session

        with letzshop_session(rt.warehouse, rt.vault, rt.letzshop, acct) as api:
            api.ping()
    else:
        require_client(channel, rt.client(channel))
        # One page of the orders changed in the last hour: the token exchange and one authorised read.
        from datetime import datetime, timedelta

        since = datetime.now(UTC) - timedelta(hours=1)
        with rt.client(channel).session(rt.warehouse.engine, rt.vault, acct.account_id) as api:
            orders = (api.search_orders(last_updated_after=since) if channel == "amazon"
                      else api.orders_modified(since))
            next(iter(orders), None)
    click.echo(f"ok: {store}/{channel} answered in {(time.perf_counter() - started) * 1000:.0f} ms"
               f"{detail} ({acct.endpoint or 'production endpoint'})")
