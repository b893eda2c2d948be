"""Amazon orders into the canonical model, shipment confirmations and stock out, end to end against the
Amazon simulator: every order once, re-imports write nothing, changes arrive through the cursor's
overlap, statuses follow the mapping table, a confirmation retried after a lost answer is one package,
stock goes out by patch (few) or feed (many) with per-SKU answers, and drift is repaired."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.amazon.orders import import_amazon_orders
from marketsync.resources.amazon_sp_api import AmazonSpApiResource
from marketsync.sandbox.amazon import AmazonState, create_app
from marketsync.sandbox.http import serve_in_thread

CLIENT_ID, CLIENT_SECRET = "amzn1.application-oa2-client.ms", "amzn1.oa2-cs.v1.Secret+/="
SCALE = 20_000.0  # documented rates x20,000 on both sides: throttling still applies, refills are instant


@pytest.fixture
def amazon_store(warehouse, vault):
    state = AmazonState(seed=12, size=400, catalog_size=200, rate_scale=SCALE, clients={CLIENT_ID: CLIENT_SECRET})
    resource = AmazonSpApiResource(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rate_scale=SCALE,
                                   timeout_seconds=2, retry_backoff_seconds=0.01, max_retry_wait_seconds=0.05,
                                   feed_poll_seconds=0.05)
    with serve_in_thread(create_app(state)) as server:
        with warehouse.begin() as conn:
            account = upsert_account(conn, "zon", "amazon", server.base_url,
                                     {"seller_id": state.seller_id, "marketplace_ids": list(state.marketplace_ids),
                                      "first_import_days": 120})
            vault.store(conn, account.account_id, {"refresh_token": state.authorize()})
            skus = sorted({line["product"]["sellerSku"] for oid in state.order_ids()
                           for line in state.order(oid)["orderItems"]})
            for sku in skus:
                conn.execute(text("INSERT INTO core.products (store_id, sku) VALUES (:s, :k)"),
                             {"s": account.store_id, "k": sku})
        yield SimpleNamespace(state=state, resource=resource, account=account, skus=skus)


def test_every_order_lands_once_and_changes_arrive_through_the_cursor(amazon_store, warehouse, vault):
    shop = amazon_store
    first = import_amazon_orders(warehouse, vault, shop.resource, "zon")
    matched = first.items_matched
    with warehouse.begin() as conn:
        orders, items, units, unmapped = conn.execute(text("""
            SELECT count(DISTINCT o.order_id), count(i.*), sum(i.quantity), count(*) FILTER (WHERE o.status IS NULL)
            FROM core.orders o JOIN core.order_items i USING (order_id) WHERE o.channel = 'amazon'""")).one()
    expected = [shop.state.order(oid) for oid in shop.state.order_ids()]
    assert first.orders_created == orders == len(expected) and unmapped == 0
    assert items == sum(len(o["orderItems"]) for o in expected)
    assert units == sum(line["quantityOrdered"] for o in expected for line in o["orderItems"])
    assert matched == items  # every SKU is in the catalog
    again = import_amazon_orders(warehouse, vault, shop.resource, "zon")
    assert (again.orders_changed, again.orders_created, again.raw_versions_landed) == (0, 0, 0)

    unshipped = next(o for o in reversed(expected) if o["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED")
    # Cancelled 5 minutes ago: the API shows a change only once it is 2 minutes old.
    shop.state.advance_clock(-300)
    shop.state.cancel_order(unshipped["orderId"])
    shop.state.advance_clock(300)
    update = import_amazon_orders(warehouse, vault, shop.resource, "zon")
    assert update.orders_updated == 1
    with warehouse.begin() as conn:
        assert conn.execute(text("SELECT status FROM core.orders WHERE channel_order_id = :o"),
                            {"o": unshipped["orderId"]}).scalar() == "cancelled"


def test_a_confirmation_retried_after_a_lost_answer_is_one_package(amazon_store, warehouse, vault):
    from marketsync.assets.orders.actions import order_by_id, ship_order
    from marketsync.assets.outbound_runner import drain

    shop = amazon_store
    import_amazon_orders(warehouse, vault, shop.resource, "zon")
    merchant_fulfilled = [oid for oid in shop.state.order_ids()
                          if shop.state.order(oid)["fulfillment"]["fulfilledBy"] == "MERCHANT"
                          and shop.state.order(oid)["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"]
    with warehouse.begin() as conn:
        row = conn.execute(text("""SELECT order_id, channel_order_id FROM core.orders
                                   WHERE channel = 'amazon' AND channel_order_id = :o"""),
                           {"o": merchant_fulfilled[0]}).one()
        ship_order(conn, order_by_id(conn, row.order_id), "1Z999AA10123456784", "UPS")
    shop.state.add_fault("apply_then_drop", target="confirmShipment")
    result = drain(warehouse, vault, {"amazon": shop.resource}, store="zon")
    with warehouse.begin() as conn:
        errors = conn.execute(text("SELECT last_error FROM ops.outbound_queue")).scalars().all()
    assert result["zon/amazon"]["succeeded"] == 1, errors
    assert [p["trackingNumber"] for p in shop.state.packages(row.channel_order_id)] == ["1Z999AA10123456784"]


def test_stock_goes_to_amazon_by_patch_or_feed_and_drift_is_repaired(amazon_store, warehouse, vault):
    from marketsync.assets.stock.drift import drift_check
    from marketsync.assets.stock.manual import adjust
    from marketsync.assets.stock.push import push_stock
    from marketsync.assets.stock.settings import save_settings

    shop = amazon_store
    with warehouse.begin() as conn:
        for n, sku in enumerate(shop.skus):
            adjust(conn, "zon", sku, count=50 + n % 7)
        save_settings(conn, "zon", "amazon", listings="catalog")  # every product of this store is on Amazon
    clients = {"amazon": shop.resource}
    shop.state.reject_skus([shop.skus[2]])
    many = push_stock(warehouse, vault, "zon", "amazon", clients=clients)  # > 20 listings: one feed
    assert "feed" in many.delivered_to and many.pushed == len(shop.skus)
    assert (many.acknowledged, many.rejected) == (len(shop.skus) - 1, 1)
    assert shop.state.listing_quantity(shop.skus[0]) == 50
    shop.state.clear_rejections()
    few = push_stock(warehouse, vault, "zon", "amazon", clients=clients)  # only the rejected one: a patch
    assert "listings API" in few.delivered_to and (few.pushed, few.acknowledged) == (1, 1)
    shop.state.set_listing_quantity(shop.skus[4], 999)
    found = drift_check(warehouse, vault, "zon", "amazon", repair=True, clients=clients)
    assert found.drifted == 1 and found.repair["pushed"] == 1
    assert shop.state.listing_quantity(shop.skus[4]) == 50 + 4 % 7


def test_hostile_paging_every_order_lands_once(amazon_store, warehouse, vault):
    """Pagination tokens with + / = : %, the access token expiring mid-paging and a 429 storm with and
    without Retry-After: every order lands exactly once."""
    shop = amazon_store
    shop.state.add_fault("http_429", count=2, skip=1, target="searchOrders", retry_after=1)
    shop.state.add_fault("http_429", count=2, target="searchOrders")
    shop.state.add_fault("expire_tokens", target="searchOrders")
    waits = []
    result = import_amazon_orders(warehouse, vault, shop.resource, "zon", sleep=waits.append)
    tokens = [t for op, _, t, _ in shop.state.recent if op == "searchOrders" and "paginationToken" in t]
    assert tokens and all("%2B" in t or "%2F" in t or "%3D" in t for t in tokens)
    with warehouse.begin() as conn:
        landed = conn.execute(text("SELECT count(*), count(DISTINCT channel_order_id) FROM core.orders "
                                   "WHERE channel = 'amazon'")).one()
    assert landed == (len(shop.state.order_ids()), len(shop.state.order_ids())) == (result.orders_created,) * 2
    assert shop.state.faults_fired["http_429"] == 4 and shop.state.faults_fired["expire_tokens"] == 1
    assert any(w >= 1 for w in waits)  # the Retry-After was honoured (on the injected clock)


def test_a_confirmation_that_timed_out_is_retried_into_the_same_package(amazon_store, warehouse, vault):
    from marketsync.assets.orders.actions import order_by_id, ship_order
    from marketsync.assets.outbound_runner import drain

    shop = amazon_store
    import_amazon_orders(warehouse, vault, shop.resource, "zon")
    order_id = next(oid for oid in shop.state.order_ids()
                    if shop.state.order(oid)["fulfillment"]["fulfilledBy"] == "MERCHANT"
                    and shop.state.order(oid)["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED")
    with warehouse.begin() as conn:
        row = conn.execute(text("SELECT order_id FROM core.orders WHERE channel_order_id = :o"), {"o": order_id}).one()
        ship_order(conn, order_by_id(conn, row.order_id), "1Z999AA10123456785", "UPS")
    # The confirmation is applied, then nothing comes back until the client gives up (2 s).
    shop.state.add_fault("apply_then_drop", target="confirmShipment", then="hang", count=1)
    resource = shop.resource.model_copy(update={"attempts": 1})
    drain(warehouse, vault, {"amazon": resource}, store="zon", lease_seconds=0.5)
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.outbound_queue SET next_attempt_at = now(), lease_expires_at = now()"))
    drain(warehouse, vault, {"amazon": shop.resource}, store="zon")
    with warehouse.begin() as conn:
        assert conn.execute(text("SELECT status FROM ops.outbound_queue")).scalar() == "succeeded"
    assert [p["trackingNumber"] for p in shop.state.packages(order_id)] == ["1Z999AA10123456785"]


def test_orders_amazon_fulfils_itself_hold_none_of_our_stock(amazon_store, warehouse, vault):
    shop = amazon_store
    import_amazon_orders(warehouse, vault, shop.resource, "zon")
    with warehouse.begin() as conn:
        held = conn.execute(text("""SELECT o.channel_order_id FROM core.stock_order_units(:s) h
                                    JOIN core.orders o USING (order_id)"""),
                            {"s": shop.account.store_id}).scalars().all()
    by_amazon = {oid for oid in shop.state.order_ids()
                 if shop.state.order(oid)["fulfillment"]["fulfilledBy"] == "AMAZON"}
    assert by_amazon and held and not (set(held) & by_amazon)


def test_orders_amazon_fulfils_itself_are_never_shipped_by_us(amazon_store, warehouse, vault):
    """An FBA order cannot get our tracking, and the fulfiller's queue never receives it; a merchant-
    fulfilled order goes to the fulfiller with its lines' quantities (not one per item row)."""
    from marketsync.assets.accounts import get_account
    from marketsync.assets.jtl_ffn.outbound import queue_outbounds
    from marketsync.assets.orders.actions import order_by_id, ship_order
    from marketsync.resources.errors import MarketsyncError

    shop = amazon_store
    import_amazon_orders(warehouse, vault, shop.resource, "zon")
    orders = [shop.state.order(oid) for oid in shop.state.order_ids()]
    fba = next(o for o in orders if o["fulfillment"]["fulfilledBy"] == "AMAZON"
               and o["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED")
    with warehouse.begin() as conn:
        upsert_account(conn, "zon", "jtl_ffn", "http://ffn.invalid", {"warehouse_id": "W1"})
        ffn = get_account(conn, "zon", "jtl_ffn")
        conn.execute(text("""INSERT INTO core.fulfillment_products (account_id, jfsku, merchant_sku)
                             SELECT :a, 'J' || row_number() OVER (), sku FROM core.products WHERE store_id = :s"""),
                     {"a": ffn.account_id, "s": shop.account.store_id})
        fba_id = conn.execute(text("SELECT order_id FROM core.orders WHERE channel_order_id = :o"),
                              {"o": fba["orderId"]}).scalar_one()
        with pytest.raises(MarketsyncError, match="fulfilled by Amazon"):
            ship_order(conn, order_by_id(conn, fba_id), "1Z1", "UPS")
        queue_outbounds(conn, ffn)
        handed = dict(conn.execute(text("""SELECT o.channel_order_id, q.payload FROM ops.outbound_queue q
                                           JOIN core.orders o USING (order_id)
                                           WHERE q.operation = 'create_outbound'""")).all())
    assert handed and fba["orderId"] not in handed
    merchant = {o["orderId"]: o for o in orders if o["orderId"] in handed}
    assert any(line["quantityOrdered"] > 1 for o in merchant.values() for line in o["orderItems"])
    for order_id, payload in handed.items():
        wanted = sorted(line["quantityOrdered"] for line in merchant[order_id]["orderItems"])
        assert sorted(int(item["quantity"]) for item in payload["items"]) == wanted
