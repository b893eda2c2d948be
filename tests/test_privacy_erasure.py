"""Proof of erasure and of retention (issue 15): a canary buyer, with a name and an address that URL-,
base64- and JSON-encoding change, orders on every order channel (Letzshop, Amazon, eBay, the storefront); the orders
are imported through Dagster (the CLI's `sync orders`), the store's own shop pushes one to the
storefront API, an order line goes to the exceptions, one
order ships through JTL-FFN (its address handed over in the outbound write, the warehouse's shipping
notification landed raw), a malformed copy is quarantined. Then the buyer is erased, or their orders
expire, and every text, JSON and bytea column of every schema (Dagster's event log included) is
searched for every form of every canary value: none may remain. A re-import after the erasure lands
without them and duplicates nothing."""
from __future__ import annotations

import json
from contextlib import contextmanager

import httpx
import pytest
from canary import assert_in_no_column, secret_forms
from sqlalchemy import text

from marketsync.assets.accounts import get_account, upsert_account
from marketsync.assets.catalog.matching import match_order_items
from marketsync.assets.ebay.orders import EBAY_ORDERS
from marketsync.assets.jtl_ffn.outbound import queue_outbounds, queue_tracking
from marketsync.assets.jtl_ffn.sync import sync_products, sync_shipments, sync_stock
from marketsync.assets.orders.actions import confirm_order, find_order
from marketsync.assets.orders.incremental import import_orders
from marketsync.assets.outbound_runner import drain
from marketsync.resources.jtl_ffn import JtlFfnResource, store_refresh_token
from marketsync.sandbox.http import serve_in_thread

FIRST, LAST = "Zoë-Ångström", "Ørstedóttir-Çanary"
EMAIL = "zoe.o'brien+canary7@example.org"
STREET = "Rue de l'Église & Fils"
PHONE = "+352 691 424 242"
CANARIES = (f"{FIRST} {LAST}", FIRST, LAST, EMAIL, STREET, PHONE)
CLIENT_ID, CLIENT_SECRET = "privacy-client", "privacy-secret"


def _forms() -> set[str]:
    forms: set[str] = set()
    for value in CANARIES:
        forms |= secret_forms(value) | {json.dumps(value)[1:-1]}  # and JSON's \u-escaped form
    return forms


def _replace(value, mapping: dict[str, str]):
    """`value` (a simulator's order document) with every original buyer string swapped for the canary's."""
    if isinstance(value, dict):
        return {k: _replace(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, mapping) for v in value]
    if isinstance(value, str):
        for old, new in mapping.items():
            value = value.replace(old, new)
    return value


def _plant_letzshop(state) -> None:
    for shipment in state.shipments:
        order = shipment["order"]
        order["email"] = EMAIL
        for kind in ("shipAddress", "billAddress"):
            if order.get(kind):
                order[kind].update(firstName=FIRST, lastName=LAST, streetName=STREET, phone=PHONE)


def _plant_amazon(state) -> str:
    order_id = state.order_ids()[0]
    doc = state._materialise(state._index(order_id))
    doc["buyer"] = {"buyerName": f"{FIRST} {LAST}", "buyerEmail": EMAIL}
    doc["recipient"] = {"deliveryAddress": {"name": f"{FIRST} {LAST}", "addressLine1": STREET, "city": "Luxembourg",
                                            "postalCode": "L-1234", "countryCode": "LU", "phone": PHONE,
                                            "addressType": "RESIDENTIAL"}}
    return order_id


def _plant_ebay(state) -> str:
    order_id = state.add_order()
    index = state.order_index(order_id)
    order = state._materialise(index)
    registered = order["buyer"].get("buyerRegistrationAddress") or {}
    first, _, last = (registered.get("fullName") or "").partition(" ")
    mapping = {o: n for o, n in ((registered.get("email"), EMAIL), (first, FIRST), (last, LAST)) if o}
    state._orders[index] = _replace(order, mapping)
    state.update_order(order_id, ship_to={"fullName": f"{FIRST} {LAST}", "email": EMAIL, "addressLine1": STREET,
                                          "primaryPhone": PHONE})
    return order_id


@pytest.fixture
def world(shop, run_cli, tmp_path, monkeypatch, receiver):
    """The canary buyer's orders on Letzshop (one shipped through JTL-FFN), Amazon and eBay, imported,
    with an exception, outbound writes, FFN's raw shipping notification and a quarantined copy."""
    from marketsync.sandbox.amazon import AmazonState
    from marketsync.sandbox.amazon import create_app as amazon_app
    from marketsync.sandbox.ebay.app import create_app as ebay_app
    from marketsync.sandbox.ebay.state import EbayState
    from marketsync.sandbox.jtl_ffn.app import create_app as ffn_app
    from marketsync.sandbox.jtl_ffn.state import JtlFfnState

    def cli(*args):
        code, out, err = run_cli(*args)
        assert code == 0, f"marketsync {' '.join(args)}: {err or out}"
        return out + err

    _plant_letzshop(shop.state)
    recorder, smtp = receiver  # the store's new-order notices go out by e-mail to a server on loopback
    monkeypatch.setattr("marketsync.assets.alerts.new_orders.MAX_AGE_HOURS", 1e6)  # the simulator's are old
    cli("account", "add", "shop", "email", "--endpoint", smtp, "--set", "from_address=orders@shop.example",
        "--set", "security=none")
    cli("alerts", "route", "add", "shop", "--email", "team@shop.example", "--topic", "new-orders", "--digest", "0")
    shop.load_catalog(tmp_path / "catalog.csv")
    with shop.warehouse.begin() as conn:  # one product unknown: its order lines become exceptions
        conn.execute(text("DELETE FROM core.products WHERE product_id = (SELECT min(product_id) FROM core.products)"))
    cli("sync", "orders", "shop", "letzshop")

    amazon = AmazonState(seed=5, size=3, catalog_size=5, rate_scale=10_000, clients={CLIENT_ID: CLIENT_SECRET})
    ebay = EbayState(seed=4, orders=3, skus=5, clients={CLIENT_ID: CLIENT_SECRET})
    ffn = JtlFfnState(seed=3, size=200, clients={CLIENT_ID: CLIENT_SECRET})
    with serve_in_thread(amazon_app(amazon)) as zon, serve_in_thread(ebay_app(ebay)) as bay, \
            serve_in_thread(ffn_app(ffn)) as ffn_server:
        with shop.warehouse.begin() as conn:
            zon_account = upsert_account(conn, "zon", "amazon", zon.base_url, {
                "seller_id": amazon.seller_id, "marketplace_ids": list(amazon.marketplace_ids),
                "first_import_days": 120})
            shop.vault.store(conn, zon_account.account_id, {"refresh_token": amazon.authorize()})
            bay_account = upsert_account(conn, "bay", "ebay", bay.base_url, {"first_import_days": 120})
            shop.vault.store(conn, bay_account.account_id, {"refresh_token": ebay.grant()["refresh_token"]})
        monkeypatch.setenv("AMAZON_LWA_CLIENT_ID", CLIENT_ID)
        monkeypatch.setenv("AMAZON_LWA_CLIENT_SECRET", CLIENT_SECRET)
        monkeypatch.setenv("EBAY_CLIENT_ID", CLIENT_ID)
        monkeypatch.setenv("EBAY_CLIENT_SECRET", CLIENT_SECRET)
        _plant_amazon(amazon)
        ebay_order = _plant_ebay(ebay)
        cli("sync", "orders", "zon", "amazon")
        cli("sync", "orders", "bay", "ebay")
        # A copy the importer cannot read (no line items): quarantined with its reason.
        malformed = {**ebay.order(ebay_order), "orderId": "BROKEN-1", "lineItems": []}
        import_orders(shop.warehouse, bay_account, EBAY_ORDERS, lambda since: [malformed])

        _ship_through_ffn(shop, ffn, ffn_server.base_url)
        cli("outbound", "run", "--store", "shop")
        assert recorder.messages, "the new-order notices were sent"
        with _storefront(shop) as web:
            assert web.post(_WEB_ORDER, "web-1").status_code == 201
            yield {"shop": shop, "cli": cli, "ebay": ebay, "ebay_order": ebay_order, "amazon": amazon, "web": web}


# The canary buyer's order in the store's own shop, pushed to the storefront API.
_WEB_ORDER = {
    "order_number": "WEB-1", "ordered_at": "2026-11-30T18:00:00+01:00", "status": "paid", "currency": "EUR",
    "total": "19.90", "buyer": {"email": EMAIL, "name": f"{FIRST} {LAST}"},
    "shipping_address": {"first_name": FIRST, "last_name": LAST, "street": STREET, "postcode": "L-4242",
                         "city": "Esch", "country": "LU", "phone": PHONE},
    "items": [{"sku": "WEB-SKU", "title": "Poster", "quantity": 1, "unit_price": "19.90"}]}


class _Shop:
    def __init__(self, base_url: str, key: str):
        self.http, self.key = httpx.Client(base_url=base_url, timeout=30), key

    def post(self, order: dict, idempotency: str) -> httpx.Response:
        return self.http.post("/stores/web/orders", json=order,
                              headers={"Authorization": f"Bearer {self.key}", "Idempotency-Key": idempotency})

    def patch(self, number: str, change: dict) -> httpx.Response:
        return self.http.patch(f"/stores/web/orders/{number}", json=change,
                               headers={"Authorization": f"Bearer {self.key}"})


@contextmanager
def _storefront(shop):
    from marketsync.assets.storefront.api_keys import rotate_api_key
    from marketsync.pipelines.ops_app.server import create_app
    from marketsync.pipelines.storefront_api.group_commit import GroupCommit

    with shop.warehouse.begin() as conn:
        key = rotate_api_key(conn, shop.vault, upsert_account(conn, "web", "storefront"))
    intake = GroupCommit(shop.warehouse.engine)
    with serve_in_thread(create_app(shop.warehouse.engine, shop.vault, storefront_intake=intake)) as server:
        web = _Shop(server.base_url, key)
        try:
            yield web
        finally:
            web.http.close()
            intake.close()


def _ship_through_ffn(shop, state, base_url: str) -> None:
    with shop.warehouse.begin() as conn:
        match_order_items(conn, shop.account.store_id)
        for index, sku in enumerate(conn.execute(text(
                "SELECT DISTINCT sku FROM core.order_items WHERE sku IS NOT NULL ORDER BY 1")).scalars()):
            state.assign_merchant_sku(index, sku)
        number = conn.execute(text(
            """SELECT o.order_number FROM core.orders o WHERE o.channel = 'letzshop' AND NOT EXISTS
                 (SELECT 1 FROM ops.order_exceptions e WHERE e.order_id = o.order_id)
               ORDER BY o.order_id LIMIT 1""")).scalar_one()
        confirm_order(conn, find_order(conn, number))
    resource = JtlFfnResource(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=base_url,
                              token_url=f"{base_url}/token", timeout_seconds=5, attempts=3, max_retry_wait_seconds=0.2)
    with shop.warehouse.begin() as conn:
        account = upsert_account(conn, "shop", "jtl_ffn", base_url)
        store_refresh_token(conn, shop.vault, account.account_id, state.grant(CLIENT_ID)["refresh_token"])
    clients = {"letzshop": shop.letzshop, "jtl_ffn": resource}
    drain(shop.warehouse, shop.vault, clients)
    with resource.account_session(shop.warehouse.engine, shop.vault, account.account_id, base_url=base_url) as api:
        sync_products(shop.warehouse, api, account.account_id)
        sync_stock(shop.warehouse, api, account.account_id)
    with shop.warehouse.begin() as conn:
        assert queue_outbounds(conn, get_account(conn, "shop", "jtl_ffn"))["queued"] >= 1
    drain(shop.warehouse, shop.vault, clients)
    with shop.warehouse.begin() as conn:
        ours = set(conn.execute(text("SELECT outbound_id FROM core.fulfillment_outbounds")).scalars())
    assert ours
    for outbound_id in ours:
        state.ship(outbound_id)
    with resource.account_session(shop.warehouse.engine, shop.vault, account.account_id, base_url=base_url) as api:
        assert sync_shipments(shop.warehouse, api, account.account_id).written >= 1
    with shop.warehouse.begin() as conn:
        queue_tracking(conn, get_account(conn, "shop", "jtl_ffn"))
    drain(shop.warehouse, shop.vault, clients)


def _text_columns(conn):
    return conn.execute(text(
        """SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns c
           JOIN information_schema.tables t USING (table_schema, table_name)
           WHERE t.table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
             AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea')""")).all()


def _assert_canary_everywhere_before(warehouse) -> None:
    """The world really holds the canary where the issue says it is held (so the search can fail)."""
    with warehouse.begin() as conn:
        held = {place: conn.execute(text(sql), {"e": EMAIL, "l": f"%{LAST}%"}).scalar_one() for place, sql in {
            "letzshop orders": "SELECT count(*) FROM core.orders WHERE channel = 'letzshop' AND customer_email = :e",
            "amazon orders": "SELECT count(*) FROM core.orders WHERE channel = 'amazon' AND customer_email = :e",
            "ebay orders": "SELECT count(*) FROM core.orders WHERE channel = 'ebay' AND customer_email = :e",
            "storefront orders": "SELECT count(*) FROM core.orders WHERE channel = 'storefront' "
                                 "AND customer_email = :e",
            "addresses": "SELECT count(*) FROM core.order_addresses WHERE last_name = :l OR last_name LIKE :l",
            "raw letzshop": "SELECT count(*) FROM raw.letzshop_shipments WHERE payload::text LIKE :l",
            "raw amazon/ebay": "SELECT count(*) FROM raw.channel_orders WHERE payload::text LIKE :l",
            "ffn outbound write": "SELECT count(*) FROM ops.outbound_queue WHERE operation LIKE '%outbound%' "
                                  "AND payload::text LIKE :l",
            "quarantine": "SELECT count(*) FROM ops.quarantine WHERE raw_text LIKE :l",
            "exceptions": "SELECT count(*) FROM ops.order_exceptions e JOIN core.orders o USING (order_id) "
                          "WHERE o.customer_email = :e",
            "event log": "SELECT count(*) FROM event_logs WHERE event LIKE '%order%'",
            "notices": "SELECT count(*) FROM ops.outbound_queue WHERE operation = 'send_notice' AND :e <> :l",
        }.items()}
    assert all(held.values()), f"the canary world is missing a place: {held}"


def _assert_no_canary(warehouse) -> None:
    with warehouse.engine.connect() as conn:
        columns = _text_columns(conn)
        assert any(c.table_name == "event_logs" for c in columns), "Dagster's event log is in this database"
        holding = []
        for column in columns:  # every column that holds a form, not only the first (a clearer failure)
            try:
                assert_in_no_column(conn, _forms(), [column])
            except AssertionError:
                holding.append(".".join(column[:3]))
        assert not holding, f"the canary buyer's personal data remains in {holding}"


def _order_counts(warehouse) -> dict:
    with warehouse.begin() as conn:
        return dict(conn.execute(text("SELECT channel, count(*) FROM core.orders GROUP BY 1")).tuples().all())


def test_an_erased_buyer_is_nowhere_and_stays_erased(world):
    shop, cli = world["shop"], world["cli"]
    _assert_canary_everywhere_before(shop.warehouse)
    before = _order_counts(shop.warehouse)
    totals = _totals(shop.warehouse)

    exported = cli("privacy", "export", "--store", "shop", "--email", EMAIL.upper())
    document = json.loads(exported[:exported.rindex("}") + 1])
    assert {c["section"] for c in document["contents"] if c["entries"]} >= {
        "core.orders", "core.order_addresses", "core.order_items", "raw.letzshop_shipments",
        "ops.outbound_queue", "raw.jtl_ffn_payloads"}

    out = cli("privacy", "erase", "--store", "shop", "--email", EMAIL, "--yes")
    assert "order(s)" in out and EMAIL not in out
    for store in ("zon", "bay", "web"):
        cli("privacy", "erase", "--store", store, "--email", EMAIL, "--yes")
    _assert_no_canary(shop.warehouse)
    assert _order_counts(shop.warehouse) == before and _totals(shop.warehouse) == totals, \
        "ids, amounts and dates stay for accounting"

    # The channels send the orders again (the eBay buyer even changes theirs): they land without the
    # buyer's data, and are still one order each.
    world["ebay"].update_order(world["ebay_order"], buyer_checkout_notes=f"for {FIRST} {LAST}")
    cli("sync", "orders", "shop", "letzshop")
    cli("sync", "orders", "bay", "ebay")
    cli("sync", "orders", "zon", "amazon")
    # The shop sends its order again under a new key (answered as received before), then ships it.
    assert world["web"].post(_WEB_ORDER, "web-2").status_code == 200
    assert world["web"].patch("WEB-1", {"status": "shipped", "tracking_number": "T-1"}).status_code == 200
    assert _order_counts(shop.warehouse) == before
    _assert_no_canary(shop.warehouse)

    requests = json.loads(cli("privacy", "requests", "--json"))
    assert {r["kind"] for r in requests} == {"export", "erasure"} and len(requests) == 5
    assert EMAIL.split("@")[0] not in json.dumps(requests)


def test_expired_buyers_data_is_removed_everywhere_by_retention(world):
    shop, cli = world["shop"], world["cli"]
    _assert_canary_everywhere_before(shop.warehouse)
    totals = _totals(shop.warehouse)
    for store in ("shop", "zon", "bay", "web"):
        cli("privacy", "retention", "--store", store, "--set", "30d")
    with shop.warehouse.begin() as conn:
        conn.execute(text("UPDATE core.orders SET updated_at = now() - interval '31 days'"))
        conn.execute(text("UPDATE ops.quarantine SET created_at = now() - interval '31 days'"))
        for table in ("raw.channel_orders", "raw.letzshop_shipments"):
            conn.execute(text(f"UPDATE {table} SET received_at = now() - interval '31 days'"))  # noqa: S608 - our names
    out = cli("privacy", "expire")
    assert "order(s) expired" in out
    _assert_no_canary(shop.warehouse)
    assert _totals(shop.warehouse) == totals
    with shop.warehouse.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM core.orders WHERE personal_data_removed_by = 'retention'"
                                 )).scalar_one() == sum(_order_counts(shop.warehouse).values())
        country = conn.execute(text("SELECT count(*) FROM core.order_addresses WHERE country_iso IS NOT NULL"
                                    )).scalar_one()
    assert country > 0, "the country stays for analysts"


def _totals(warehouse):
    with warehouse.begin() as conn:
        return conn.execute(text("SELECT count(*), sum(total), min(ordered_at), max(ordered_at), "
                                 "(SELECT count(*) FROM core.order_items) FROM core.orders")).one()
