"""The demo's digital goods: the demo store sells three of its catalog products as keys on Letzshop. One
comes from the merchant's own pool, one is bought from CodesWholesale when the order is confirmed, one is
a pre-order whose key the supplier delivers on release day. The buyers' e-mails reach a local SMTP
server (the sandbox's), and the demo shows the first one with its keys masked.

The flow is the production one: the orders come in through the Letzshop order import, are confirmed
through the outbound queue, and the keys are bought and handed to delivery by the `ops/digital_fulfilment`
asset (run in-process); the e-mails go out through the outbound queue.
"""
from __future__ import annotations

import secrets

import click

from marketsync.assets.accounts import upsert_account
from marketsync.assets.codeswholesale.catalog import add_codeswholesale_source
from marketsync.assets.digital.keys import import_keys, load_key
from marketsync.assets.orders.actions import confirm_order, order_by_id
from marketsync.assets.outbound_runner import drain
from marketsync.assets.stores import store_id_for
from marketsync.pipelines.demo_world import mail_folder, serve, serve_smtp
from marketsync.pipelines.run_in_process import run_digital_fulfilment, run_order_sync
from marketsync.resources.credentials import mask
from marketsync.resources.database import marketsync_home
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside
from marketsync.sandbox.codeswholesale.app import create_app as create_cws_app
from marketsync.sandbox.codeswholesale.orders import TEXT
from marketsync.sandbox.codeswholesale.state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, CodesWholesaleState

SENDER = "keys@demo-shop.example"
POOL_KEYS = 5


def run_digital(rt, store: str, seed: int, letzshop_state, letzshop, base: int) -> dict:
    """Sell the three digital products; returns the figures the demo's summary checks."""
    with rt.warehouse.begin() as conn:
        store_id = store_id_for(conn, store)
        picked = conn.execute(query_beside(__file__, "demo_digital_candidates.sql"), {"c": store, "n": 3}).all()
        price_list = set(conn.execute(query_beside(__file__, "demo_digital_price_list.sql"), {"c": store}).scalars())
    if len(picked) < 3:
        raise MarketsyncError("the demo catalog has fewer than three products to sell as digital goods")
    pool_product, bought_product, pre_order_product = picked
    cws = CodesWholesaleState(seed=seed, size=500)  # the supplier the price list was imported from
    listed = [p for p in cws.products if p["productId"] in price_list and len(p["prices"]) == 1]
    supplier = next(p for p in listed if int(p.get("quantity") or 0) >= 5 and cws.code_type(p["productId"]) == TEXT)
    upcoming = next(p for p in listed if int(p.get("quantity") or 0) == 0)  # out of stock: a pre-order

    for old in mail_folder().glob("*.eml"):  # the buyers' e-mails of an earlier demo
        old.unlink()
    with serve(create_cws_app(cws), "codeswholesale", base) as cws_server, \
            serve_smtp(base, mail_folder()) as smtp:
        with rt.warehouse.begin() as conn:
            # The same supplier, served again (on any free port when the demo runs on free ports).
            add_codeswholesale_source(conn, rt.vault, store, cws_server.base_url, DEFAULT_CLIENT_ID,
                                      DEFAULT_CLIENT_SECRET)
            for product, supplier_id, sources in ((pool_product, None, "pool_only"),
                                                  (bought_product, supplier["productId"], "supplier_only"),
                                                  (pre_order_product, upcoming["productId"], "supplier_only")):
                conn.execute(query_beside(__file__, "demo_digital_product_set.sql"),
                             {"p": product.product_id, "s": store_id, "sp": supplier_id, "src": sources})
            pool = marketsync_home() / "demo" / "key_pool.csv"
            pool.write_text("sku,code,links\n" + "".join(
                f"{pool_product.sku},{_fresh_key()},https://keys.demo-shop.example/redeem\n" for _ in range(POOL_KEYS)))
            loaded = import_keys(conn, rt.vault, store, pool)
            upsert_account(conn, store, "email", smtp.endpoint,
                           {"from_address": SENDER, "from_name": "Demo shop", "security": "none"})
        pool.unlink()  # the keys live encrypted in the warehouse now, never in a file
        click.echo(f"  {pool_product.sku} from the merchant's pool ({loaded.imported} keys loaded, encrypted), "
                   f"{bought_product.sku} bought from CodesWholesale ({supplier['name']}), "
                   f"{pre_order_product.sku} a pre-order ({upcoming['name']})")
        click.echo(f"  buyers' e-mails go to the local SMTP server {smtp.endpoint}")

        # Two customers order on Letzshop: the pool key and the bought one together, the pre-order alone.
        shipments = [letzshop_state.add_shipment([pool_product.sku, bought_product.sku]),
                     letzshop_state.add_shipment([pre_order_product.sku])]
        run_order_sync(store, ["unconfirmed"])
        order_ids = _confirm(rt, store_id, shipments)
        drain(rt.warehouse, rt.vault, {"letzshop": letzshop}, store=store, channel="letzshop", triggered_by="demo")

        first = run_digital_fulfilment(store)
        click.echo(f"  fulfilment run {first['run_id'][:8]}: {first['digital_fulfilment.from_pool']} from the pool, "
                   f"{first['digital_fulfilment.purchases_bought']} bought, "
                   f"{first['digital_fulfilment.purchases_unresolved']} waiting for the supplier's key (pre-order)")
        sent = _send_mail(rt, store)
        _show(rt, smtp.recorder.messages[0], order_ids[0])

        released = cws.release_pre_orders(upcoming["productId"])
        with rt.warehouse.begin() as conn:
            conn.execute(query_beside(__file__, "demo_digital_poll_now.sql"), {"s": store_id})
        click.echo(f"  release day: the supplier delivers {released} pre-ordered key(s)")
        run_digital_fulfilment(store)
        sent += _send_mail(rt, store)
        run_digital_fulfilment(store)  # the delivered orders become fulfilled, Letzshop's shipments stand confirmed
        with rt.warehouse.begin() as conn:
            rows = conn.execute(query_beside(__file__, "demo_digital_orders.sql"), {"ids": order_ids}).all()
            figures = conn.execute(query_beside(__file__, "demo_digital_figures.sql"), {"s": store_id}).one()
        for row in rows:
            click.echo(f"  order {row.order_number} {row.sku}: key from the {row.source}, {row.kind}, "
                       f"e-mailed {row.delivered_at:%H:%M:%S}; order {row.status} ({row.sync_status})")
        click.echo(f"  the buyers' e-mails, as received: {mail_folder()} (one .eml file each)")
        charges = [len(cws.charges_for(c)) for c in _client_orders(rt, store_id)]
    return {"shipments": len(shipments), "units": 3, "emails": len(smtp.recorder.messages), "sent": sent,
            "charges": charges, "orders_fulfilled": len({row.order_id for row in rows if row.status == "fulfilled"}),
            "figures": figures._asdict()}


def _fresh_key() -> str:
    """A key like a merchant's pool file holds (new each run: a key is refused when the store has it)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(5))


def _confirm(rt, store_id: int, shipments: list[str]) -> list[int]:
    """Confirm the digital orders (the merchant's decision; the keys are bought once an order is
    confirmed). Returns their order ids, in the order of `shipments`."""
    order_ids = []
    with rt.warehouse.begin() as conn:
        for shipment in shipments:
            order_id = conn.execute(query_beside(__file__, "demo_order_of_shipment.sql"),
                                    {"s": store_id, "sh": shipment}).scalar_one()
            confirm_order(conn, order_by_id(conn, order_id), triggered_by="demo")
            order_ids.append(order_id)
    return order_ids


def _send_mail(rt, store: str) -> int:
    drained = drain(rt.warehouse, rt.vault, store=store, channel="email", triggered_by="demo")
    return sum(result.get("succeeded", 0) for result in drained.values())


def _show(rt, message, order_id: int) -> None:
    """The e-mail as the buyer received it, every key and link in it masked."""
    with rt.warehouse.begin() as conn:
        keys = [load_key(conn, rt.vault, key_id) for key_id in conn.execute(
            query_beside(__file__, "demo_order_keys.sql"), {"o": order_id}).scalars()]
    body = message.get_content()
    for key in keys:
        for secret in (key.code, *key.links):
            body = body.replace(secret, mask(secret))
    click.echo(f"  --- the e-mail received (keys masked) ---\n  From: {message['From']}\n  To: {message['To']}\n"
               f"  Subject: {message['Subject']}\n  Content-Language: {message['Content-Language']}\n")
    click.echo("\n".join(f"  | {line}" for line in body.rstrip().splitlines()))
    click.echo("  ---")


def _client_orders(rt, store_id: int) -> list[str]:
    with rt.warehouse.begin() as conn:
        return list(conn.execute(query_beside(__file__, "demo_digital_client_orders.sql"), {"s": store_id}).scalars())

