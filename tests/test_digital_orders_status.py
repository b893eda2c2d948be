"""Issue 13 item 6: a fully digital order whose buyer has every key is `fulfilled` in the cross-channel
status and its marketplace is told (Letzshop: the shipment stands confirmed; eBay: the digital line items
fulfilled without tracking, once, through a lost answer; Amazon: nothing it documents, the merchant is
alerted); a mixed order goes on with its physical flow and only its physical lines go to the warehouse;
a unit the channel declined wants no key."""
from __future__ import annotations

import pytest
from order_rows import add_order, add_product, add_store
from sqlalchemy import text

from marketsync.assets import jtl_ffn
from marketsync.assets.accounts import upsert_account
from marketsync.assets.digital.fulfilment import fulfil_store
from marketsync.assets.digital.keys import import_keys
from marketsync.assets.digital.purchase import vault_keeper
from marketsync.assets.email.outbound import enqueue_key_delivery
from marketsync.assets.outbound_runner import drain
from marketsync.resources.ebay import EbayResource
from marketsync.resources.sql_files import query_beside
from marketsync.sandbox.ebay.state import EbayState
from marketsync.sandbox.http import serve_in_thread

CLIENT_ID, CLIENT_SECRET = "MarketSy-digital-PRD-0", "PRD-secret+/=digital"


def _digital(conn, store_id: int, sku: str) -> int:
    product_id = conn.execute(text("SELECT product_id FROM core.products WHERE store_id = :s AND sku = :k"),
                              {"s": store_id, "k": sku}).scalar() or add_product(conn, store_id, sku, title=sku)
    conn.execute(text("INSERT INTO ops.digital_products (product_id, store_id, sources) VALUES (:p, :s, 'pool_only')"),
                 {"p": product_id, "s": store_id})
    return product_id


def _pool(conn, vault, store: str, tmp_path, **keys_per_sku: int) -> None:
    pool = tmp_path / f"{store}-pool.csv"
    pool.write_text("sku,code\n" + "".join(f"{sku},{sku}-KEY-{n:04d}-{store}\n"
                                           for sku, count in keys_per_sku.items() for n in range(count)))
    import_keys(conn, vault, store, pool)


def _email(conn, store: str, endpoint: str) -> None:
    upsert_account(conn, store, "email", endpoint, {"from_address": f"keys@{store}.example", "security": "none",
                                                     "timeout_seconds": 5})


def _match(conn, item_id: int, product_id: int, state: str | None = None) -> None:
    conn.execute(text("UPDATE core.order_items SET product_id = :p, match_status = 'matched', "
                      "channel_state = coalesce(:s, channel_state) WHERE order_item_id = :i"),
                 {"p": product_id, "i": item_id, "s": state})


def _confirmed(conn, order_id: int, email: str = "buyer@example.org") -> None:
    conn.execute(text("UPDATE core.orders SET channel_state = 'confirmed', sync_status = 'confirmed', "
                      "customer_email = :e WHERE order_id = :o"), {"o": order_id, "e": email})


def _pass(warehouse, vault, store_id: int):
    # Pool-only products: no purchase is planned, so no supplier client is needed.
    return fulfil_store(warehouse.engine, None, store_id, vault_keeper(vault), enqueue_key_delivery)


def _order(conn, order_id: int):
    return conn.execute(text("SELECT status, sync_status, digital_delivered_at, shipped_at FROM core.orders "
                             "WHERE order_id = :o"), {"o": order_id}).one()


@pytest.fixture
def letzshop_shop(warehouse, vault, receiver, tmp_path):
    """Store `keys` on Letzshop: a fully digital order (GAME x2), a mixed one (GAME + a BOOK), and one
    whose second GAME unit was declined; all confirmed, the pool holding enough keys."""
    recorder, endpoint = receiver
    with warehouse.begin() as conn:
        store = add_store(conn, "keys")
        game = _digital(conn, store[0], "GAME")
        book = add_product(conn, store[0], "BOOK")
        _pool(conn, vault, "keys", tmp_path, GAME=6)
        _email(conn, "keys", endpoint)
        digital, items = add_order(conn, store, {"sku": "GAME"}, {"sku": "GAME"})
        for item in items:
            _match(conn, item, game, "confirmed_available")
        mixed, items = add_order(conn, store, {"sku": "GAME"}, {"sku": "BOOK"})
        _match(conn, items[0], game, "confirmed_available")
        _match(conn, items[1], book, "confirmed_available")
        declined, items = add_order(conn, store, {"sku": "GAME"}, {"sku": "GAME"})
        _match(conn, items[0], game, "confirmed_available")
        _match(conn, items[1], game, "confirmed_unavailable")
        for order_id in (digital, mixed, declined):
            _confirmed(conn, order_id)
    return {"store_id": store[0], "recorder": recorder,
            "orders": {"digital": digital, "mixed": mixed, "declined": declined}}


def test_a_fully_digital_letzshop_order_is_fulfilled_and_a_mixed_one_goes_on(warehouse, vault, letzshop_shop):
    orders, store_id = letzshop_shop["orders"], letzshop_shop["store_id"]
    first = _pass(warehouse, vault, store_id)
    assert first.from_pool == 4, "2 + 1 + 1: the declined unit wants no key"
    assert first.deliveries == 3 and first.orders_fulfilled == 0, "nothing is fulfilled before the buyer has it"
    with warehouse.begin() as conn:
        # The warehouse gets the mixed order's book only, and nothing of the digital orders.
        to_ship = conn.execute(query_beside(jtl_ffn.__file__, "orders_to_ship.sql"),
                               {"store_id": store_id, "ffn_account_id": 0}).all()
    assert [(r.order_id, r.sku) for r in to_ship] == [(orders["mixed"], "BOOK")]

    assert drain(warehouse, vault, store="keys", channel="email")["keys/email"]["succeeded"] == 3
    assert len(letzshop_shop["recorder"].messages) == 3
    second = _pass(warehouse, vault, store_id)
    assert second.orders_fulfilled == 2 and not second.settle_errors
    with warehouse.begin() as conn:
        digital, mixed, declined = (_order(conn, orders[k]) for k in ("digital", "mixed", "declined"))
        letzshop_writes = conn.execute(text("SELECT count(*) FROM ops.outbound_queue q JOIN ops.accounts a "
                                            "USING (account_id) WHERE a.channel = 'letzshop'")).scalar()
    assert (digital.status, digital.sync_status) == ("fulfilled", "shipped") and digital.digital_delivered_at
    assert (declined.status, declined.sync_status) == ("fulfilled", "shipped")
    assert (mixed.status, mixed.sync_status, mixed.digital_delivered_at) == ("confirmed", "confirmed", None)
    assert letzshop_writes == 0, "the shipments were confirmed before the keys were bought: nothing more to send"
    assert _pass(warehouse, vault, store_id).orders_fulfilled == 0, "recorded once"

    with warehouse.begin() as conn:
        # The next import brings the same channel state: still fulfilled; a cancellation still wins.
        conn.execute(text("UPDATE core.orders SET channel_state = 'confirmed' WHERE order_id = :o"),
                     {"o": orders["digital"]})
        assert _order(conn, orders["digital"]).status == "fulfilled"
        conn.execute(text("UPDATE core.orders SET channel_state = 'declined' WHERE order_id = :o"),
                     {"o": orders["digital"]})
        assert _order(conn, orders["digital"]).status == "cancelled"


def test_an_unconfirmed_letzshop_order_gets_its_confirmation_queued(warehouse, vault, letzshop_shop):
    """Letzshop's `digital_delivered` queues the confirmation when an order reached its buyer without
    one (e.g. its status came from the channel while the local workflow never confirmed it)."""
    from marketsync.assets.letzshop.digital import confirm_digital_delivery

    with warehouse.begin() as conn:
        conn.execute(text("UPDATE core.orders SET sync_status = 'imported' WHERE order_id = :o"),
                     {"o": letzshop_shop["orders"]["digital"]})
        conn.execute(text("UPDATE core.order_items SET channel_state = 'unconfirmed' WHERE order_id = :o"),
                     {"o": letzshop_shop["orders"]["digital"]})
        told = confirm_digital_delivery(conn, letzshop_shop["orders"]["digital"])
        queued = conn.execute(text("SELECT operation, payload FROM ops.outbound_queue")).one()
    assert told.startswith("Letzshop: shipment confirmation queued")
    assert queued.operation == "confirm" and all(queued.payload["decisions"].values())


@pytest.fixture
def ebay_shop(warehouse, vault, receiver, tmp_path):
    """Store `bay` on the eBay simulator with one paid order of 1 + 2 digital units, imported."""
    from marketsync.assets.ebay.orders import import_ebay_orders
    from marketsync.sandbox.ebay.app import create_app

    state = EbayState(seed=3, orders=0, skus=10, clients={CLIENT_ID: CLIENT_SECRET})
    resource = EbayResource(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, retry_backoff_seconds=0.01)
    skus = [state.catalogue.sku(0), state.catalogue.sku(1)]
    ebay_order = state.add_order([(skus[0], 1), (skus[1], 2)])
    with serve_in_thread(create_app(state)) as server:
        with warehouse.begin() as conn:
            account = upsert_account(conn, "bay", "ebay", server.base_url, {"first_import_days": 30})
            vault.store(conn, account.account_id, {"refresh_token": state.grant()["refresh_token"]})
            for sku in skus:
                _digital(conn, account.store_id, sku)
            _pool(conn, vault, "bay", tmp_path, **dict.fromkeys(skus, 3))
            _email(conn, "bay", receiver[1])
        import_ebay_orders(warehouse, vault, resource, "bay")
        with warehouse.begin() as conn:
            order_id = conn.execute(text("SELECT order_id FROM core.orders WHERE channel_order_id = :o"),
                                    {"o": ebay_order}).scalar_one()
            conn.execute(text("UPDATE core.orders SET customer_email = coalesce(customer_email, 'b@example.org') "
                              "WHERE order_id = :o"), {"o": order_id})
        yield state, resource, account, order_id, ebay_order


def test_a_digital_ebay_order_is_fulfilled_without_tracking_once(warehouse, vault, ebay_shop):
    state, resource, account, order_id, ebay_order = ebay_shop
    with warehouse.begin() as conn:
        assert _order(conn, order_id).status == "confirmed"
    assert _pass(warehouse, vault, account.store_id).from_pool == 3
    assert drain(warehouse, vault, {"ebay": resource}, store="bay", channel="email")["bay/email"]["succeeded"] == 1
    assert _pass(warehouse, vault, account.store_id).orders_fulfilled == 1
    with warehouse.begin() as conn:
        assert _order(conn, order_id).status == "fulfilled"
        queued = conn.execute(text("SELECT operation, payload FROM ops.outbound_queue WHERE operation <> "
                                   "'deliver_digital_keys'")).one()
    assert queued.operation == "fulfil_download"
    assert sorted(li["quantity"] for li in queued.payload["line_items"]) == [1, 2]

    # eBay creates the fulfillment and the answer is lost: the retry reads it instead of adding one.
    state.add_fault("apply_then_drop", target="createShippingFulfillment")
    result = drain(warehouse, vault, {"ebay": resource}, store="bay", channel="ebay")
    assert result["bay/ebay"]["succeeded"] == 1 and state.faults_fired["apply_then_drop"] == 1
    assert drain(warehouse, vault, {"ebay": resource}, store="bay", channel="ebay") == {}
    fulfillments = state.shipping_fulfillments(ebay_order)
    assert len(fulfillments) == 1 and "shipmentTrackingNumber" not in fulfillments[0]
    assert sorted(li["quantity"] for li in fulfillments[0]["lineItems"]) == [1, 2]
    assert state.order(ebay_order)["orderFulfillmentStatus"] == "FULFILLED"

    from marketsync.assets.ebay.orders import import_ebay_orders

    state.touch_order(ebay_order)
    import_ebay_orders(warehouse, vault, resource, "bay")
    with warehouse.begin() as conn:
        row = conn.execute(text("SELECT channel_state, status FROM core.orders WHERE order_id = :o"),
                           {"o": order_id}).one()
    assert (row.channel_state, row.status) == ("FULFILLED", "fulfilled"), "eBay's FULFILLED reads as fulfilled"


def test_amazon_has_no_documented_confirmation_of_a_download_so_the_merchant_is_alerted(warehouse, vault,
                                                                                        receiver, tmp_path):
    with warehouse.begin() as conn:
        account = upsert_account(conn, "amz", "amazon", "http://127.0.0.1:9/", {})
        game = _digital(conn, account.store_id, "GAME")
        _pool(conn, vault, "amz", tmp_path, GAME=2)
        _email(conn, "amz", receiver[1])
        orders = []
        for n in (1, 2):
            order_id = conn.execute(text(
                """INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id,
                                            order_number, channel_state, source_payload_sha, customer_email)
                   VALUES (:s, :a, 'amazon', :o, :o, :o, 'UNSHIPPED', 'sha', 'b@example.org') RETURNING order_id"""),
                {"s": account.store_id, "a": account.account_id, "o": f"303-000000{n}-0000001"}).scalar_one()
            item = conn.execute(text("INSERT INTO core.order_items (order_id, channel_item_id, sku, channel_state) "
                                     "VALUES (:o, 'L1', 'GAME', 'UNSHIPPED') RETURNING order_item_id"),
                                {"o": order_id}).scalar_one()
            _match(conn, item, game)
            orders.append(order_id)
    _pass(warehouse, vault, account.store_id)
    drain(warehouse, vault, store="amz", channel="email")
    assert _pass(warehouse, vault, account.store_id).orders_fulfilled == 2
    with warehouse.begin() as conn:
        assert {_order(conn, o).status for o in orders} == {"fulfilled"}
        alerts = conn.execute(text("SELECT source, occurrences, message FROM ops.alerts WHERE account_id = :a"),
                              {"a": account.account_id}).all()
        amazon_writes = conn.execute(text("SELECT count(*) FROM ops.outbound_queue WHERE account_id = :a"),
                                     {"a": account.account_id}).scalar()
    assert amazon_writes == 0, "no invented tracking number goes to Amazon"
    assert [(a.source, a.occurrences) for a in alerts] == [("digital_delivery_unconfirmed", 2)]
    assert "Seller Central" in alerts[0].message and "303-0000002-0000001" in alerts[0].message
