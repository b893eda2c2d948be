"""eBay orders into the canonical model, end to end against the eBay simulator: every order once,
re-imports write nothing, changes arrive through the cursor's overlap, statuses follow the mapping
table, items match the catalog by SKU, malformed orders are quarantined and the rest loads."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.ebay.connection import ebay_session
from marketsync.assets.ebay.orders import import_ebay_orders
from marketsync.resources.ebay import EbayResource
from marketsync.sandbox.ebay.state import EbayState
from marketsync.sandbox.http import serve_in_thread

CLIENT_ID, CLIENT_SECRET = "MarketSy-test-PRD-0", "PRD-secret+/="


@pytest.fixture
def ebay_store(warehouse, vault):
    from marketsync.sandbox.ebay.app import create_app

    state = EbayState(seed=9, orders=600, skus=40, clients={CLIENT_ID: CLIENT_SECRET})
    resource = EbayResource(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, retry_backoff_seconds=0.01)
    with serve_in_thread(create_app(state)) as server:
        with warehouse.begin() as conn:
            account = upsert_account(conn, "bay", "ebay", server.base_url, {"first_import_days": 120})
            vault.store(conn, account.account_id, {"refresh_token": state.grant()["refresh_token"]})
            skus = sorted({line["sku"] for i in range(state.order_count)
                           for line in state.order(state.order_id(i))["lineItems"]})
            for sku in skus[: len(skus) // 2]:  # half the SKUs are in the catalog
                conn.execute(text("INSERT INTO core.products (store_id, sku) VALUES (:s, :k)"),
                             {"s": account.store_id, "k": sku})
        yield state, resource, account


def _counts(warehouse):
    with warehouse.begin() as conn:
        return conn.execute(text("""SELECT (SELECT count(*) FROM core.orders WHERE channel = 'ebay'),
                                           (SELECT count(*) FROM core.order_items),
                                           (SELECT count(*) FROM raw.channel_orders)""")).one()


def test_every_order_lands_once_and_a_reimport_writes_nothing(ebay_store, warehouse, vault):
    state, resource, _account = ebay_store
    first = import_ebay_orders(warehouse, vault, resource, "bay")
    matched = first.items_matched
    orders, items, raw = _counts(warehouse)
    assert first.orders_created == orders == state.order_count == raw
    assert items == sum(len(state.order(state.order_id(i))["lineItems"]) for i in range(state.order_count))
    assert matched > 0
    with warehouse.begin() as conn:
        mismatched = conn.execute(text("""
            SELECT count(*) FROM core.orders o JOIN core.order_status_map m
              ON m.channel = 'ebay' AND m.channel_state = o.channel_state
            WHERE o.status IS DISTINCT FROM m.status""")).scalar()
        unmapped = conn.execute(text("SELECT count(*) FROM core.orders WHERE status IS NULL")).scalar()
        units = conn.execute(text("SELECT sum(quantity) FROM core.order_items")).scalar()
    assert mismatched == 0 and unmapped == 0
    assert units == sum(li["quantity"] for i in range(state.order_count)
                        for li in state.order(state.order_id(i))["lineItems"])
    again = import_ebay_orders(warehouse, vault, resource, "bay")
    assert (again.orders_changed, again.orders_created, again.raw_versions_landed) == (0, 0, 0)
    assert _counts(warehouse) == (orders, items, raw)


def test_changes_arrive_through_the_cursor_and_cancellations_release_stock(ebay_store, warehouse, vault):
    state, resource, account = ebay_store
    import_ebay_orders(warehouse, vault, resource, "bay")
    open_order = next(state.order(state.order_id(i)) for i in range(state.order_count - 1, -1, -1)
                      if state.order(state.order_id(i))["orderFulfillmentStatus"] == "NOT_STARTED"
                      and state.order(state.order_id(i))["cancelStatus"]["cancelState"] == "NONE_REQUESTED")
    state.cancel_order(open_order["orderId"])
    new_id = state.add_order()
    update = import_ebay_orders(warehouse, vault, resource, "bay")
    assert update.orders_created == 1 and update.orders_updated >= 1
    with warehouse.begin() as conn:
        cancelled = conn.execute(text("SELECT status, sync_status FROM core.orders WHERE channel_order_id = :o"),
                                 {"o": open_order["orderId"]}).one()
        assert cancelled.status == "cancelled"
        assert conn.execute(text("SELECT count(*) FROM core.orders WHERE channel_order_id = :o"),
                            {"o": new_id}).scalar() == 1
        holding = conn.execute(text("""SELECT count(*) FROM core.stock_order_units(:s) h
                                       JOIN core.orders o USING (order_id)
                                       WHERE o.channel_order_id = :o"""),
                               {"s": account.store_id, "o": open_order["orderId"]}).scalar()
    assert holding == 0


def test_a_malformed_order_is_quarantined_and_the_rest_loads(ebay_store, warehouse, vault):
    from marketsync.assets.ebay.normalise import normalise

    good = {"orderId": "1-2-3", "creationDate": "2026-11-01T10:00:00.000Z", "orderFulfillmentStatus": "NOT_STARTED",
            "orderPaymentStatus": "PAID", "pricingSummary": {"total": {"value": "12.00", "currency": "EUR"}},
            "lineItems": [{"lineItemId": "9", "sku": "A", "quantity": 2, "lineItemCost": {"value": "12.00"}}]}
    bad = {**good, "orderId": "1-2-4", "lineItems": [{"lineItemId": "8", "sku": "B", "quantity": 0}]}
    page = normalise([(good, "a"), (bad, "b")], "EUR")
    assert len(page.orders) == 1 and page.items[0][10] == 6 and page.items[0][12] == 2
    assert page.rejected == [(bad, "line item 8 has quantity 0")]


def test_stock_goes_to_ebay_and_the_drift_check_repairs_what_changed_there(ebay_store, warehouse, vault):
    """The eBay adapter behind the stock interface: a delta push through bulkUpdatePriceQuantity with
    per-SKU answers (a refused SKU is pushed again next time), and eBay's own quantities read back."""
    from marketsync.assets.stock.drift import drift_check
    from marketsync.assets.stock.manual import adjust, set_rule
    from marketsync.assets.stock.push import push_stock
    from marketsync.assets.stock.settings import save_settings

    state, resource, account = ebay_store
    with warehouse.begin() as conn:
        skus = conn.execute(text("SELECT sku FROM core.products WHERE store_id = :s ORDER BY sku LIMIT 30"),
                            {"s": account.store_id}).scalars().all()
        conn.execute(text("DELETE FROM core.products WHERE store_id = :s AND sku <> ALL(:k)"),
                     {"s": account.store_id, "k": skus})
        for n, sku in enumerate(skus):
            adjust(conn, "bay", sku, count=100 + n)
            set_rule(conn, "bay", "ebay", sku, listed=True)  # nothing sold yet: the merchant says what is listed
        save_settings(conn, "bay", "ebay")
    state.reject_sku(skus[3])
    clients = {"ebay": resource}
    first = push_stock(warehouse, vault, "bay", "ebay", clients=clients)
    n = len(skus)
    assert n >= 10 and (first.pushed, first.acknowledged, first.rejected) == (n, n - 1, 1)
    assert state.item_quantity(skus[0]) == 100 and state.item_quantity(skus[3]) != 103
    state.clear_rejections()
    second = push_stock(warehouse, vault, "bay", "ebay", clients=clients)
    assert (second.pushed, second.acknowledged) == (1, 1) and state.item_quantity(skus[3]) == 103
    # Someone changes a quantity in Seller Hub.
    with ebay_store_api(resource, warehouse, vault, account) as api:
        api.create_or_replace_inventory_item(skus[5], 7)
    found = drift_check(warehouse, vault, "bay", "ebay", repair=True, clients=clients)
    assert (found.checked, found.drifted) == (n, 1) and found.repair["pushed"] == 1
    assert state.item_quantity(skus[5]) == 105


def ebay_store_api(resource, warehouse, vault, account):
    return ebay_session(resource, warehouse.engine, vault, account.account_id)


def test_tracking_reaches_ebay_once_even_when_the_answer_is_lost(ebay_store, warehouse, vault):
    """Ship an imported eBay order: the queue creates one shipping fulfillment; the answer to the first
    attempt is lost, and the retry finds the fulfillment instead of adding a second."""
    from marketsync.assets.orders.actions import order_by_id, ship_order
    from marketsync.assets.outbound_runner import drain
    from marketsync.resources.letzshop import LetzshopResource

    state, resource, _account = ebay_store
    import_ebay_orders(warehouse, vault, resource, "bay")
    with warehouse.begin() as conn:
        order_id = conn.execute(text("""SELECT order_id FROM core.orders WHERE channel = 'ebay' AND status = 'confirmed'
                                        ORDER BY ordered_at DESC LIMIT 1""")).scalar_one()
        ship_order(conn, order_by_id(conn, order_id), "JJD0099887766", "DHL")
        ebay_order = conn.execute(text("SELECT channel_order_id FROM core.orders WHERE order_id = :o"),
                                  {"o": order_id}).scalar_one()
    state.add_fault("apply_then_drop", target="createShippingFulfillment")
    letzshop = LetzshopResource()
    first = drain(warehouse, vault, {"letzshop": letzshop, "ebay": resource}, store="bay")
    # The lost answer was found by reading the order's fulfillments, not by sending again.
    assert first["bay/ebay"]["succeeded"] == 1 and state.faults_fired["apply_then_drop"] == 1
    assert drain(warehouse, vault, {"letzshop": letzshop, "ebay": resource}, store="bay") == {}
    fulfillments = state.shipping_fulfillments(ebay_order)
    assert [f["shipmentTrackingNumber"] for f in fulfillments].count("JJD0099887766") == 1


def test_hostile_paging_every_order_lands_once(ebay_store, warehouse, vault):
    """The access token expiring mid-paging and a 429 storm with and without Retry-After: every order
    lands exactly once."""
    state, resource, _account = ebay_store
    state.add_fault("http_429", count=2, skip=1, target="getOrders", retry_after=1)
    state.add_fault("http_429", count=2, target="getOrders")
    state.add_fault("expire_tokens", target="getOrders")
    patient = resource.model_copy(update={"rate_limit_attempts": 6})  # a storm, not a used-up daily quota
    result = import_ebay_orders(warehouse, vault, patient, "bay")
    with warehouse.begin() as conn:
        landed = conn.execute(text("SELECT count(*), count(DISTINCT channel_order_id) FROM core.orders "
                                   "WHERE channel = 'ebay'")).one()
    assert landed == (state.order_count, state.order_count) == (result.orders_created,) * 2
    assert state.faults_fired["http_429"] == 4 and state.faults_fired["expire_tokens"] == 1


def test_tracking_that_timed_out_is_not_added_twice(ebay_store, warehouse, vault):
    from marketsync.assets.orders.actions import order_by_id, ship_order
    from marketsync.assets.outbound_runner import drain

    state, resource, _account = ebay_store
    import_ebay_orders(warehouse, vault, resource, "bay")
    with warehouse.begin() as conn:
        row = conn.execute(text("""SELECT order_id, channel_order_id FROM core.orders WHERE channel = 'ebay'
                                   AND status = 'confirmed' ORDER BY ordered_at LIMIT 1""")).one()
        ship_order(conn, order_by_id(conn, row.order_id), "JJD0099887700", "DHL")
    # Applied, then nothing comes back until the client gives up.
    state.add_fault("apply_then_drop", target="createShippingFulfillment", then="hang")
    impatient = resource.model_copy(update={"timeout_seconds": 1.0, "attempts": 1})
    drain(warehouse, vault, {"ebay": impatient}, store="bay", lease_seconds=0.5)
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.outbound_queue SET next_attempt_at = now(), lease_expires_at = now()"))
    drain(warehouse, vault, {"ebay": resource}, store="bay")
    with warehouse.begin() as conn:
        assert conn.execute(text("SELECT status FROM ops.outbound_queue")).scalar() == "succeeded"
    tracking = [f["shipmentTrackingNumber"] for f in state.shipping_fulfillments(row.channel_order_id)]
    assert tracking.count("JJD0099887700") == 1
