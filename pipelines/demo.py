"""`make demo` and `make dev`: the whole Letzshop order flow on this machine, with no credentials.

The demo starts the embedded Postgres (or uses DATABASE_URL) and the Letzshop simulator, creates a demo
store, imports its catalog and orders through the Dagster assets, shows the exceptions, confirms what
can be confirmed, rejects one order, ships a few, pushes everything through the outbound queue, and
checks its figures against what the simulator's seed says they must be.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from marketsync.assets.accounts import upsert_account
from marketsync.assets.catalog.exceptions import blocking_exceptions, exception_stats, ignore_exception, list_exceptions
from marketsync.assets.catalog.products import import_products_csv
from marketsync.assets.codeswholesale.catalog import add_codeswholesale_source
from marketsync.assets.feeds.push_inbox import apply_pending_batches
from marketsync.assets.feeds.sources import add_source
from marketsync.assets.letzshop.product_feed import add_letzshop_feed_source
from marketsync.assets.orders.actions import confirm_order, find_order, order_by_id, reject_order, ship_order
from marketsync.assets.outbound_runner import drain
from marketsync.assets.stores import find_store_id, store_id_for
from marketsync.pipelines import (
    demo_catalog_export,
    demo_channels,
    demo_digital,
    demo_feed_presets,
    demo_fulfillment,
    demo_operations,
    demo_prices,
    demo_stock,
    demo_storefront,
    demo_world,
)
from marketsync.pipelines.environment import allow_sandbox_network
from marketsync.pipelines.push_intake.app import create_push_app
from marketsync.pipelines.push_intake.auth import EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from marketsync.pipelines.push_intake.secrets import rotate_push_secret
from marketsync.pipelines.run_in_process import run_catalog_import, run_order_sync
from marketsync.resources import migrations
from marketsync.resources.database import REPO_ROOT, marketsync_home, masked_url
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.feed_transport import split_credentials
from marketsync.resources.sql_files import query_beside, sql_beside
from marketsync.sandbox.codeswholesale.app import create_app as create_cws_app
from marketsync.sandbox.codeswholesale.state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, CodesWholesaleState
from marketsync.sandbox.feeds.http_server import create_app as create_feed_server
from marketsync.sandbox.letzshop.app import create_app
from marketsync.sandbox.letzshop.data import expected_figures, write_catalog_csv
from marketsync.sandbox.letzshop.product_feed import ProductFeedState, create_feed_app
from marketsync.sandbox.letzshop.state import LetzshopState

DEMO_STORE = "demo"
SANDBOX_KEY = demo_world.SANDBOX_KEY
DEFAULT_SANDBOX_PORT = demo_world.DEFAULT_BASE_PORT
# How long `marketsync dev` lets the Dagster processes stop on their own before killing them.
STOP_GRACE_SECONDS = 3.0

def _step(title: str) -> None:
    click.secho(f"\n== {title}", bold=True)


def start_simulator(seed: int, size: int, base_port: int):
    """The Letzshop simulator on the first of the demo's ports (base_port 0: any free port)."""

    state = LetzshopState(seed=seed, size=size, api_keys=(SANDBOX_KEY,))
    return state, demo_world.serve(create_app(state), "letzshop", base_port)


def prepare_demo_store(rt, endpoint: str) -> None:
    with rt.warehouse.begin() as conn:
        store_id = find_store_id(conn, DEMO_STORE)
        if store_id is not None:
            demo_fulfillment.reset(conn, store_id)
            demo_channels.reset(conn, store_id)
            demo_world.run_statements(conn, sql_beside(__file__, "demo_reset_store.sql"), {"s": store_id})
        account = upsert_account(conn, DEMO_STORE, "letzshop", endpoint, {"page_size": 50})
        rt.vault.store(conn, account.account_id, {"api_key": SANDBOX_KEY})


def run_demo(rt, seed: int = 42, size: int = 40, port: int | None = None) -> dict:

    _step("Warehouse")
    click.echo(allow_sandbox_network(marketsync_home()))
    migrations.upgrade(rt.database_url)
    click.echo(f"Postgres: {masked_url(rt.database_url)} (schemas raw, core, ops, analytics migrated)")

    _step("Letzshop simulator")
    base = DEFAULT_SANDBOX_PORT if port is None else port
    state, server = start_simulator(seed, size, base)
    with server, demo_operations.receiving(base) as receiver:
        endpoint = f"{server.base_url}/graphql"
        click.echo(f"serving {size} seeded shipments (seed {seed}) at {endpoint}")
        prepare_demo_store(rt, endpoint)
        click.echo(f"store '{DEMO_STORE}': letzshop account added, API key stored encrypted")
        demo_operations.prepare(rt, DEMO_STORE, base, receiver)

        _step("Catalog")
        catalog = marketsync_home() / "demo" / "catalog.csv"
        catalog.parent.mkdir(parents=True, exist_ok=True)
        write_catalog_csv(catalog, seed, size)
        with rt.warehouse.begin() as conn:
            store_id = store_id_for(conn, DEMO_STORE)
            loaded = import_products_csv(conn, store_id, catalog)
        click.echo(f"{catalog.name}: {loaded.read} rows read, {loaded.loaded} loaded, {len(loaded.rejected)} rejected")

        _catalog_sources(rt, seed, base)

        _step("Orders (Dagster assets, in-process)")
        sync = run_order_sync(DEMO_STORE, ["unconfirmed"])
        click.echo(f"run {sync['run_id'][:8]}: {sync.get('letzshop_orders.orders_created', 0)} orders created, "
                   f"{sync.get('letzshop_orders.units_written', 0)} units written")

        _step("Exceptions")
        with rt.warehouse.begin() as conn:
            stats = exception_stats(conn, DEMO_STORE)
            listed = list_exceptions(conn, DEMO_STORE, "pending")
        pending = {kind: n["pending"] for kind, n in stats.get("by_kind", {}).items() if n.get("pending")}
        click.echo(f"open: {stats.get('open', 0)}  pending by kind: {pending or 'none'}")
        for exc in listed[:5]:
            click.echo(f"  #{exc['exception_id']} {exc['kind']:<18} order {exc['order_number']} "
                       f"barcode {exc.get('barcode') or '-'} sku {exc.get('sku') or '-'}")

        _step("Confirm, reject, ship")
        confirmed, rejected = _decide(rt)
        click.echo(f"queued {len(confirmed)} confirmation(s); rejected {rejected or 'none'} (unresolvable lines)")
        _drain(rt)
        shipped = _ship(rt, confirmed[:3])
        _drain(rt)
        for line in shipped:
            click.echo(f"  shipped {line['order']}: {line['carrier']} {line['tracking_number']} {line['tracking_url']}")

        _step("Fulfillment: JTL-FFN and the inbound control sheet (Dagster assets, in-process)")
        demo_fulfillment.run_fulfillment(rt, DEMO_STORE, seed, demo_fulfillment.drain_with(rt, DEMO_STORE),
                                         base)

        _step("Stock out: availability, ledger, delta pushes (Dagster asset, in-process)")
        demo_stock.run_stock(rt, DEMO_STORE, state, endpoint)

        _step("Amazon and eBay: orders in, one status across channels, shipments and stock out")
        channels = demo_channels.run_channels(rt, DEMO_STORE, seed, rt.letzshop, base)

        _step("Digital goods: a key from the pool, one bought, one pre-ordered; e-mailed to the buyers")
        digital = demo_digital.run_digital(rt, DEMO_STORE, seed, state, rt.letzshop, base)

        _step("Operations: metrics against thresholds, alerts and new-order notices that reach people")
        operations = demo_operations.run_operations(rt, DEMO_STORE, base, receiver)

        _step("Catalog out: the store catalog as Letzshop's product feed (Dagster asset, in-process)")
        demo_catalog_export.run_catalog_export(rt, DEMO_STORE)

        _step("Prices out: a rule, a push and one number explained (Dagster asset, in-process)")
        prices = demo_prices.run_prices(rt, DEMO_STORE)

        _step("Storefront: the store's own shop pushes an order to marketsync serve")
        storefront = demo_storefront.run_storefront(rt, DEMO_STORE)

        figures = _summary(rt, expected_figures(seed, size), state, len(confirmed), rejected, channels, digital,
                           operations, prices, storefront)
    return figures


def _catalog_sources(rt, seed: int, base: int) -> None:
    """The store's marketplace catalog (Letzshop product feed, one TSV per language) and its digital
    goods supplier (CodesWholesale), each from its simulator through its Dagster asset."""

    _step("Catalog sources (Dagster assets, in-process)")
    feed = ProductFeedState(seed=seed, size=300)
    cws = CodesWholesaleState(seed=seed, size=500)
    with demo_world.serve(create_feed_app(feed), "letzshop_feed", base) as feed_server, \
            demo_world.serve(create_cws_app(cws), "codeswholesale", base) as cws_server:
        with rt.warehouse.begin() as conn:
            add_letzshop_feed_source(conn, DEMO_STORE, feed.urls(feed_server.base_url), vault=rt.vault)
            add_codeswholesale_source(conn, rt.vault, DEMO_STORE, cws_server.base_url, DEFAULT_CLIENT_ID,
                                      DEFAULT_CLIENT_SECRET)
        for source in ("letzshop", "codeswholesale"):
            run_catalog_import(DEMO_STORE, source)
    _supplier_feeds(rt, base)
    with rt.warehouse.begin() as conn:
        runs = conn.execute(query_beside(__file__, "demo_import_runs.sql"), {"c": DEMO_STORE}).all()
    for r in runs:
        click.echo(f"  {r.source:<15} {r.status:<20} read {r.rows_read:>5} = loaded {r.rows_loaded} + "
                   f"unchanged {r.rows_unchanged} + quarantined {r.rows_quarantined}")


def _supplier_feeds(rt, base: int) -> None:
    """A dropshipper's CSV pulled over HTTP with basic auth, a supplier's XML over FTP with RFC 1738
    credentials, a supplier's own Shopify export added by preset, and a push feed receiving signed
    deliveries: the ways supplier stock arrives."""
    import httpx


    # Kept between runs (the same seeded files each time), so `make dev` serves what the demo read.
    root = demo_world.feeds_folder()
    mappings = demo_world.write_supplier_feeds(root)
    with demo_world.serve(create_feed_server(root, auth=demo_world.FEED_AUTH), "feeds_http", base) as http, \
            demo_world.serve_ftp_feeds(root, base) as ftp:
        with rt.warehouse.begin() as conn:
            # The FTP simulator speaks plain FTP only, as some suppliers' servers do: that feed says its
            # login may cross unencrypted (without the setting only ftps:// or anonymous logins are used).
            for name, fmt, url, (user, password), mapping, encoding, plain in (
                    ("dropship", "csv", f"{http.base_url}/files/dropship.csv", demo_world.FEED_AUTH,
                     mappings["dropship"], "utf-8-sig", {}),
                    ("supplier-xml", "xml", split_credentials(ftp.url("supplier.xml"))[0], demo_world.FTP_AUTH,
                     mappings["supplier-xml"], "utf-8", {"plain_ftp_login": True})):
                source = add_source(conn, DEMO_STORE, name, "pull_feed", fmt, url, mapping, encoding,
                                    {"connect_by": ["sku", "gtin"], **plain}, "demo")
                rt.vault.store_source(conn, source["source_id"], {"username": user, "password": password})
        for name in ("dropship", "supplier-xml"):
            run_catalog_import(DEMO_STORE, name)
        demo_feed_presets.run_shopify_export(rt, DEMO_STORE, http.base_url)

    with rt.warehouse.begin() as conn:
        source_id = add_source(conn, DEMO_STORE, "pushed", "push_feed", None, None, None, "utf-8", {},
                               "demo")["source_id"]
        secret = rotate_push_secret(conn, rt.vault, source_id)
    app = create_push_app(rt.warehouse.engine, rt.vault)
    items = [{"externalId": f"PUSH-{i}", "vendorSku": f"PUSH-{i}", "inventoryQuantity": 10 + i,
              "price": "9.90", "title": f"Pushed item {i}"} for i in range(20)]
    with demo_world.serve(app, "push_intake", base) as server, httpx.Client(base_url=server.base_url) as client:
        body = json.dumps(items).encode()
        stamp, event = int(time.time()), f"demo-{time.time_ns()}"
        answer = client.post(f"/stores/{DEMO_STORE}/inventory-feeds/pushed/items:batch", content=body, headers={
            TIMESTAMP_HEADER: str(stamp), EVENT_ID_HEADER: event, SIGNATURE_HEADER: sign(secret, stamp, event, body),
            "Content-Type": "application/json"})
        forged = client.post(f"/stores/{DEMO_STORE}/inventory-feeds/pushed/items:batch", content=body + b" ",
                             headers={TIMESTAMP_HEADER: str(stamp), EVENT_ID_HEADER: event + "x",
                                      SIGNATURE_HEADER: sign(secret, stamp, event, body)})
    applied = apply_pending_batches(rt.warehouse.engine)
    click.echo(f"  push feed: batch of {len(items)} answered {answer.status_code}, "
               f"a tampered copy {forged.status_code}; inbox applied: {applied}")


def _decide(rt) -> tuple[list[str], str | None]:
    """Confirm every order with no open exception; reject the first one that has some."""
    confirmed, rejected = [], None
    with rt.warehouse.begin() as conn:
        order_ids = conn.execute(query_beside(__file__, "demo_imported_orders.sql"), {"c": DEMO_STORE}).scalars().all()
        for order_id in order_ids:
            order = order_by_id(conn, order_id)
            blocking = blocking_exceptions(conn, order_id)
            if not blocking:
                confirm_order(conn, order, triggered_by="demo")
                confirmed.append(order.order_number)
            elif rejected is None:
                for exc in blocking:
                    if exc["status"] == "pending":
                        ignore_exception(conn, exc["exception_id"], "demo: not in our assortment", resolved_by="demo")
                reject_order(conn, order, "article not in our assortment", triggered_by="demo")
                rejected = order.order_number
    return confirmed, rejected


def _ship(rt, order_numbers: list[str]) -> list[dict]:
    with rt.warehouse.begin() as conn:
        return [ship_order(conn, find_order(conn, number, DEMO_STORE), carrier="greco", triggered_by="demo")
                for number in order_numbers]


def _drain(rt) -> None:
    drained = drain(rt.warehouse, rt.vault, {"letzshop": rt.letzshop}, store=DEMO_STORE, triggered_by="demo")
    for account, result in drained.items():
        if "error" in result:
            raise MarketsyncError(f"outbound for {account} failed: {result['error']}")
        click.echo(f"outbound {account}: {result['succeeded']} sent, {result['failed']} retrying, "
                   f"{result['dead']} dead")


def _summary(rt, expected, state, confirmed: int, rejected: str | None, channels: dict, digital: dict,
             operations: dict, prices: dict, storefront: dict) -> dict:
    with rt.warehouse.begin() as conn:
        row = conn.execute(query_beside(__file__, "demo_letzshop_units.sql"), {"c": DEMO_STORE}).one()
        duplicates = conn.execute(query_beside(__file__, "demo_duplicate_gtin_exceptions.sql"),
                                  {"c": DEMO_STORE}).scalar_one()
        queue = dict(conn.execute(query_beside(__file__, "demo_letzshop_queue.sql"), {"c": DEMO_STORE}).tuples().all())
        untitled = demo_feed_presets.untitled_variants(conn, DEMO_STORE)
    sim = state.stats()
    most_calls = max((n for calls in sim["per_shipment"].values() for n in calls.values()), default=0)
    bought = digital["figures"]
    checks = [
        # The seed's shipments, and the digital step's orders of catalog products with a unique GTIN.
        ("shipments imported", row.shipments, expected.shipments + digital["shipments"]),
        ("units imported (one row per piece)", row.units, expected.units + digital["units"]),
        ("units matched by GTIN-14", row.matched_by_gtin, expected.units_matched + digital["units"]),
        ("units on a duplicate GTIN", duplicates, expected.units_ambiguous),
        ("units not matched by GTIN", row.not_by_gtin, expected.units_ambiguous + expected.units_unmatched),
        ("writes Letzshop received", sim["mutations"]["applied"] + sim["mutations"]["unchanged"],
         queue.get("succeeded", 0)),
        ("most calls of one kind per shipment", most_calls, 1),
        ("Amazon packages of the shipped order", channels["packages"], 1),
        ("eBay fulfillments of the shipped order", channels["fulfillments"], 1),
        ("most keys on one digital unit", bought["keys_per_unit"], 1),
        ("digital units without a key", bought["units_without_key"], 0),
        ("supplier purchases (one a pre-order)", bought["purchases"], 2),
        ("most supplier charges for one purchase", max(digital["charges"], default=0), 1),
        ("buyers' e-mails received", digital["emails"], 2),
        ("digital orders fulfilled", digital["orders_fulfilled"], 2),
        ("new orders notified to the webhook", operations["order_notices"], operations["orders_to_notify"]),
        ("most notices of one new order", operations["most_notices_per_order"], 1),
        # Each crossed threshold: one e-mail to the team and one signed post to the webhook.
        ("alert notices (e-mail + signed webhook)", operations["alert_emails"] + operations["alert_webhooks"]
         - operations["bad_signatures"], 2 * operations["crossed"]),
        ("prices pushed below the floor", prices["below_floor"], 0),
        ("prices in the one-price delta push", prices["delta"], 1),
        # The shop's order and its retry under the same Idempotency-Key: one order, answered alike.
        ("storefront orders (a POST and its retry)", storefront["orders"], 1),
        ("storefront units reserved in stock", storefront["reserved"], 3),
        # Every variant of the Shopify export took its product's title from the product's first row.
        ("Shopify export variants without a title", untitled, 0),
    ]
    _step("Summary")
    ok = True
    for label, actual, want in checks:
        good = actual == want
        ok &= good
        click.echo(f"  {'ok ' if good else 'BAD'} {label:<40} {actual:>6}  (expected {want})")
    click.echo(f"  outbound queue: {queue}; Letzshop simulator saw {sim['operations']}")
    click.echo(f"  confirmed {confirmed} order(s), rejected {1 if rejected else 0}; "
               "`marketsync orders list --store demo` and `make dev` to look around")
    if not ok:
        raise MarketsyncError("the demo's figures do not match the simulator's seed")
    return {"checks": checks, "queue": queue}


def run_dev(rt, port: int = 3000, base_port: int | None = None) -> int:
    """Dagster's webserver and daemon (`dagster dev`) in the demo's world: every simulator the demo store
    uses, on the ports `make demo` stored, and the channel clients' settings in the Dagster processes'
    environment. Ctrl-C or SIGTERM stops everything it started within seconds; returns dagster's exit code."""
    click.echo(allow_sandbox_network(marketsync_home()))
    migrations.upgrade(rt.database_url)
    base = DEFAULT_SANDBOX_PORT if base_port is None else base_port
    with demo_world.dev_world(rt, DEMO_STORE, base) as world, \
            demo_world.serve_status(rt, world["env"]) as (status_url, token):
        urls = world["urls"]
        click.echo("simulators: " + ", ".join(f"{name} {url}" for name, url in urls.items() if name != "feeds_ftp"))
        click.echo(f"status page on {status_url}/status (any user name, the development token as password: {token}); "
                   f"/metrics and /health/stores/{DEMO_STORE} with 'Authorization: Bearer <token>'")
        click.echo(f"Dagster UI on http://127.0.0.1:{port} (Ctrl-C stops everything)")
        dagster = Path(sys.executable).with_name("dagster")
        return run_until_stopped([str(dagster), "dev", "-w", str(REPO_ROOT / "workspace.yaml"), "-p", str(port)],
                                 env={**os.environ, **world["env"]})


def run_until_stopped(command: list[str], env: dict[str, str], grace: float = STOP_GRACE_SECONDS) -> int:
    """Run `command` in its own process group until it ends or this process gets SIGINT/SIGTERM; then
    forward the signal to the whole group (the webserver, the daemon, code servers and run workers
    `dagster dev` started), and SIGKILL whatever still lives after `grace` seconds."""
    child = subprocess.Popen(command, cwd=REPO_ROOT, env=env, start_new_session=True)
    received: list[int] = []

    def forward(signum, _frame) -> None:
        received.append(signum)
        _signal_group(child.pid, signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while child.poll() is None and not received:
            time.sleep(0.2)
        if received:
            deadline = time.monotonic() + grace
            while child.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            # Processes of the group that outlived the grace (the daemon waits for its threads) are killed,
            # and so are stragglers once dagster itself has ended.
            _signal_group(child.pid, signal.SIGKILL)
        return child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass  # every process of the group has ended
