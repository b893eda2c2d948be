"""The demo's Amazon and eBay part: the demo store also sells on Amazon and eBay (their simulators on
loopback); their orders join the canonical orders with one status across channels, one order per
channel is shipped through the outbound queue (an Amazon shipment confirmation, an eBay shipping
fulfillment), and the listings each channel knows get their stock."""
from __future__ import annotations

import click
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.amazon.orders import import_amazon_orders
from marketsync.assets.ebay.orders import import_ebay_orders
from marketsync.assets.orders.actions import order_by_id, ship_order
from marketsync.assets.outbound_runner import drain
from marketsync.assets.stock.manual import adjust, set_rule
from marketsync.assets.stock.push import push_stock
from marketsync.assets.stock.settings import save_settings
from marketsync.pipelines.demo_world import CHANNEL_CLIENT, serve
from marketsync.pipelines.demo_world import amazon_state as new_amazon_state
from marketsync.pipelines.demo_world import ebay_state as new_ebay_state
from marketsync.resources.amazon_sp_api import AmazonSpApiResource
from marketsync.resources.ebay import EbayResource
from marketsync.sandbox.amazon import create_app as create_amazon_app
from marketsync.sandbox.ebay.app import create_app as create_ebay_app

CLIENT_ID, CLIENT_SECRET = CHANNEL_CLIENT
RESET = [
    "DELETE FROM raw.channel_orders WHERE account_id IN (SELECT account_id FROM ops.accounts WHERE store_id = :s)",
    "DELETE FROM ops.order_cursors WHERE account_id IN (SELECT account_id FROM ops.accounts WHERE store_id = :s)",
]
_STATUSES = """SELECT channel, status, count(*) FROM core.orders WHERE store_id = :s AND channel IN ('amazon', 'ebay')
               GROUP BY 1, 2 ORDER BY 1, 2"""


def reset(conn, store_id: int) -> None:
    for statement in RESET:
        conn.execute(text(statement), {"s": store_id})


def run_channels(rt, store: str, seed: int, letzshop, base_port: int = 0) -> dict:

    amazon_state = new_amazon_state(seed, rate_scale=1000.0)
    ebay_state = new_ebay_state(seed)
    amazon = AmazonSpApiResource(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rate_scale=1000.0,
                                 feed_poll_seconds=0.2, retry_backoff_seconds=0.05)
    ebay = EbayResource(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, retry_backoff_seconds=0.05)
    with serve(create_amazon_app(amazon_state), "amazon", base_port) as amazon_server, \
            serve(create_ebay_app(ebay_state), "ebay", base_port) as ebay_server:
        with rt.warehouse.begin() as conn:
            zon = upsert_account(conn, store, "amazon", amazon_server.base_url,
                                 {"seller_id": amazon_state.seller_id, "first_import_days": 120,
                                  "marketplace_ids": list(amazon_state.marketplace_ids)})
            rt.vault.store(conn, zon.account_id, {"refresh_token": amazon_state.authorize()})
            bay = upsert_account(conn, store, "ebay", ebay_server.base_url, {"first_import_days": 120})
            rt.vault.store(conn, bay.account_id, {"refresh_token": ebay_state.grant()["refresh_token"]})
            # The merchant's catalog also holds what it sells on Amazon and eBay, with a shelf count each.
            channel_skus = {"amazon": [amazon_state.catalogue.sku(i) for i in range(30)],
                            "ebay": sorted({line["sku"] for i in range(ebay_state.order_count)
                                            for line in ebay_state.order(ebay_state.order_id(i))["lineItems"]})}
            for n, sku in enumerate(channel_skus["amazon"] + channel_skus["ebay"]):
                conn.execute(text("INSERT INTO core.products (store_id, sku) VALUES (:s, :k) ON CONFLICT DO NOTHING"),
                             {"s": zon.store_id, "k": sku})
                adjust(conn, store, sku, count=20 + n % 9, reason="demo shelf count", by="demo")
        # Two buyers ordered five minutes ago (the Orders API shows an order once it is 2 minutes old).
        amazon_state.advance_clock(-300)
        amazon_state.add_order([(channel_skus["amazon"][0], 2)])
        amazon_state.advance_clock(300)
        ebay_state.add_order([(channel_skus["ebay"][0], 1)])
        click.echo(f"Amazon simulator at {amazon_server.base_url}, eBay simulator at {ebay_server.base_url}")
        for label, run in (("amazon", lambda: import_amazon_orders(rt.warehouse, rt.vault, amazon, store)),
                           ("ebay", lambda: import_ebay_orders(rt.warehouse, rt.vault, ebay, store))):
            result = run()
            click.echo(f"  {label} orders: {result.orders_created} created, {result.items_written} items, "
                       f"{result.items_matched} matched to the catalog")
        with rt.warehouse.begin() as conn:
            statuses = conn.execute(text(_STATUSES), {"s": zon.store_id}).all()
            click.echo("  one status across channels: " + ", ".join(f"{c} {s}: {n}" for c, s, n in statuses))
            shipped = _ship_one(conn, zon.store_id, amazon_state)
        drained = drain(rt.warehouse, rt.vault, {"letzshop": letzshop, "amazon": amazon, "ebay": ebay}, store=store,
                        triggered_by="demo")
        for name in (f"{store}/amazon", f"{store}/ebay"):
            click.echo(f"  outbound {name}: {drained.get(name, {}).get('succeeded', 0)} sent")
        for channel, number in shipped.items():
            click.echo(f"  shipped {channel} order {number}")
        packages = amazon_state.packages(shipped["amazon"])
        fulfillments = ebay_state.shipping_fulfillments(shipped["ebay"])
        click.echo(f"  Amazon now has {len(packages)} package(s) on {shipped['amazon']}, eBay "
                   f"{len(fulfillments)} fulfillment(s) on {shipped['ebay']}")
        clients = {"amazon": amazon, "ebay": ebay}
        pushes = {}
        with rt.warehouse.begin() as conn:
            save_settings(conn, store, "amazon", strategy="manual")
            save_settings(conn, store, "ebay", strategy="manual")
        with rt.warehouse.begin() as conn:
            # Amazon and eBay list what the merchant listed there: known from sales, and these rules for
            # the listings nobody bought yet (the demo store's Letzshop catalog is not on either).
            for channel, skus in channel_skus.items():
                for sku in skus:
                    set_rule(conn, store, channel, sku, listed=True)
        for channel in channel_skus:
            result = push_stock(rt.warehouse, rt.vault, store, channel, clients=clients, triggered_by="demo")
            pushes[channel] = result.acknowledged
            click.echo(f"  stock to {channel}: {result.pushed} listings pushed, {result.acknowledged} acknowledged, "
                       f"{result.rejected} rejected ({result.delivered_to})")
    return {"packages": len(packages), "fulfillments": len(fulfillments), **pushes}


def _ship_one(conn, store_id: int, amazon_state) -> dict[str, str]:
    """Ship the newest open order of each channel (Amazon: one it does not fulfil itself)."""
    merchant = [oid for oid in amazon_state.order_ids()
                if amazon_state.order(oid)["fulfillment"]["fulfilledBy"] == "MERCHANT"]
    shipped = {}
    for channel, tracking, carrier in (("amazon", "1Z999AA10123456784", "UPS"), ("ebay", "JJD000390007788", "DHL")):
        row = conn.execute(text(
            """SELECT order_id, channel_order_id FROM core.orders
               WHERE store_id = :s AND channel = :c AND status = 'confirmed' AND sync_status = 'confirmed'
                 AND (:c <> 'amazon' OR channel_order_id = ANY(:m))
               ORDER BY ordered_at DESC LIMIT 1"""), {"s": store_id, "c": channel, "m": merchant}).one()
        ship_order(conn, order_by_id(conn, row.order_id), tracking, carrier, triggered_by="demo")
        shipped[channel] = row.channel_order_id
    return shipped
