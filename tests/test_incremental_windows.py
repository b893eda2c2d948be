"""An incremental order import never skips orders: the cursor moves past a window of last-modified
times only once every page of it is committed, so an import that fails part-way through paging leaves
the cursor where it was and the next import reads the whole window again (what it re-reads costs no
write: the payload hashes are known).

The channels do not list orders by last-modified time (eBay pages by creation, Amazon by its own
order), so moving the cursor to the newest time of each committed page would pass over orders on
pages never read."""
from __future__ import annotations

from datetime import UTC
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.amazon.orders import import_amazon_orders
from marketsync.assets.ebay.orders import import_ebay_orders
from marketsync.assets.orders.incremental import read_cursor
from marketsync.resources.amazon_sp_api import AmazonError, AmazonSpApiResource
from marketsync.resources.ebay import EbayError, EbayResource
from marketsync.sandbox.http import serve_in_thread

CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret+/="


def _landed(warehouse, channel: str) -> tuple[int, int]:
    with warehouse.begin() as conn:
        return conn.execute(text("SELECT count(*), count(DISTINCT channel_order_id) FROM core.orders "
                                 "WHERE channel = :c"), {"c": channel}).one()


@pytest.fixture
def ebay_store(warehouse, vault):
    from marketsync.sandbox.ebay.app import create_app
    from marketsync.sandbox.ebay.state import EbayState

    state = EbayState(seed=9, orders=450, skus=40, clients={CLIENT_ID: CLIENT_SECRET})
    resource = EbayResource(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, retry_backoff_seconds=0.01)
    with serve_in_thread(create_app(state)) as server:
        with warehouse.begin() as conn:
            account = upsert_account(conn, "bay", "ebay", server.base_url, {"first_import_days": 120})
            vault.store(conn, account.account_id, {"refresh_token": state.grant()["refresh_token"]})
        yield SimpleNamespace(state=state, resource=resource, account=account)


def test_an_ebay_import_failing_on_page_three_loses_no_order(ebay_store, warehouse, vault):
    """Three 429s on page 3 use up the client's retries: the import fails after two pages committed,
    the cursor stays, and the next import lands every order of the window."""
    shop = ebay_store
    shop.state.add_fault("http_429", count=3, skip=2, target="getOrders")
    with pytest.raises(EbayError) as failed:
        import_ebay_orders(warehouse, vault, shop.resource, "bay")
    assert failed.value.transient
    committed, _ = _landed(warehouse, "ebay")
    assert committed == 400  # two pages of 200 are kept: the next import's re-read of them writes nothing
    with warehouse.begin() as conn:
        cursor_after_failure = read_cursor(conn, shop.account.account_id)
    again = import_ebay_orders(warehouse, vault, shop.resource, "bay")
    assert _landed(warehouse, "ebay") == (shop.state.order_count, shop.state.order_count)
    assert again.orders_created == shop.state.order_count - committed
    assert cursor_after_failure is None  # the first window was never read whole
    with warehouse.begin() as conn:
        assert read_cursor(conn, shop.account.account_id) == again.cursor is not None


def test_a_failed_import_leaves_a_set_cursor_where_it_was(ebay_store, warehouse, vault):
    """With a cursor already set 60 days back: the window holds several pages, the second fails, the
    cursor does not move, and the next import lands every order modified in the window."""
    from datetime import datetime, timedelta

    from marketsync.assets.ebay.normalise import modified_at
    from marketsync.assets.orders.incremental import OVERLAP

    shop = ebay_store
    before = datetime.now(UTC).replace(microsecond=0) - timedelta(days=60)
    with warehouse.begin() as conn:
        conn.execute(text("INSERT INTO ops.order_cursors (account_id, last_modified_at) VALUES (:a, :t)"),
                     {"a": shop.account.account_id, "t": before})
    in_window = {shop.state.order_id(i) for i in range(shop.state.order_count)
                 if modified_at(shop.state.order(shop.state.order_id(i))) >= before - OVERLAP}
    assert len(in_window) > 200  # more than one page
    shop.state.add_fault("http_500", count=5, skip=1, target="getOrders")
    with pytest.raises(EbayError):
        import_ebay_orders(warehouse, vault, shop.resource, "bay")
    with warehouse.begin() as conn:
        assert read_cursor(conn, shop.account.account_id) == before
    import_ebay_orders(warehouse, vault, shop.resource, "bay")
    with warehouse.begin() as conn:
        landed = set(conn.execute(text("SELECT channel_order_id FROM core.orders WHERE channel = 'ebay'")).scalars())
        assert read_cursor(conn, shop.account.account_id) > before
    assert landed == in_window


@pytest.fixture
def amazon_store(warehouse, vault):
    from marketsync.sandbox.amazon import AmazonState, create_app

    scale = 20_000.0
    state = AmazonState(seed=12, size=450, catalog_size=50, rate_scale=scale, clients={CLIENT_ID: CLIENT_SECRET})
    resource = AmazonSpApiResource(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rate_scale=scale,
                                   timeout_seconds=2, retry_backoff_seconds=0.01, max_retry_wait_seconds=0.05)
    with serve_in_thread(create_app(state)) as server:
        with warehouse.begin() as conn:
            account = upsert_account(conn, "zon", "amazon", server.base_url,
                                     {"seller_id": state.seller_id, "marketplace_ids": list(state.marketplace_ids),
                                      "first_import_days": 120})
            vault.store(conn, account.account_id, {"refresh_token": state.authorize()})
        yield SimpleNamespace(state=state, resource=resource, account=account)


def test_an_amazon_import_failing_part_way_loses_no_order(amazon_store, warehouse, vault):
    shop = amazon_store
    shop.state.add_fault("http_500", count=10, skip=2, target="searchOrders")
    with pytest.raises(AmazonError) as failed:
        import_amazon_orders(warehouse, vault, shop.resource, "zon")
    assert failed.value.transient
    committed, _ = _landed(warehouse, "amazon")
    assert 0 < committed < 450
    with warehouse.begin() as conn:
        cursor_after_failure = read_cursor(conn, shop.account.account_id)
    shop.state.clear_faults()
    import_amazon_orders(warehouse, vault, shop.resource, "zon")
    assert _landed(warehouse, "amazon") == (450, 450)
    assert cursor_after_failure is None
