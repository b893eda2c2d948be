"""Stock to eBay against the eBay simulator (issue 11, item 17): eBay sells the lower of the inventory
item's ship-to-home quantity and the published offer's availableQuantity, so a push sets both, the
ledger acknowledges only what buyers can buy, and the drift check reads the number buyers see."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.stock.drift import drift_check
from marketsync.assets.stock.manual import adjust, set_rule
from marketsync.assets.stock.push import push_stock
from marketsync.assets.stock.settings import save_settings
from marketsync.resources.ebay import EbayResource
from marketsync.sandbox.ebay.state import EbayState
from marketsync.sandbox.http import serve_in_thread

CLIENT_ID, CLIENT_SECRET = "MarketSy-stock-PRD-0", "PRD-secret+/="
STORE = "bay"


@pytest.fixture
def ebay_stock(warehouse, vault):
    """Store 'bay' on the eBay simulator; its first three seeded SKUs are products listed there by a rule."""
    from marketsync.sandbox.ebay.app import create_app

    state = EbayState(seed=5, orders=5, skus=10, clients={CLIENT_ID: CLIENT_SECRET})
    resource = EbayResource(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, retry_backoff_seconds=0.01)
    skus = [state.catalogue.sku(i) for i in range(3)]
    with serve_in_thread(create_app(state)) as server:
        with warehouse.begin() as conn:
            account = upsert_account(conn, STORE, "ebay", server.base_url)
            vault.store(conn, account.account_id, {"refresh_token": state.grant()["refresh_token"]})
            for sku in skus:
                conn.execute(text("INSERT INTO core.products (store_id, sku) VALUES (:s, :k)"),
                             {"s": account.store_id, "k": sku})
            save_settings(conn, STORE, "ebay", strategy="manual")
            for sku in skus:
                set_rule(conn, STORE, "ebay", sku, listed=True)
                adjust(conn, STORE, sku, count=2)
        yield state, {"ebay": resource}, skus


def push(warehouse, vault, clients):
    return push_stock(warehouse, vault, STORE, "ebay", clients=clients, triggered_by="test")


def test_a_restock_reaches_what_buyers_can_buy_not_only_the_inventory_item(ebay_stock, warehouse, vault):
    state, clients, (sku, *_) = ebay_stock
    state.set_offer_quantity(state.offer_ids(sku)[0], 2)  # the published offer sells 2 (the old number)
    assert push(warehouse, vault, clients).acknowledged == 3
    assert state.listing_quantity(sku) == 2
    with warehouse.begin() as conn:
        adjust(conn, STORE, sku, count=8)  # restocked
    restock = push(warehouse, vault, clients)
    assert (restock.pushed, restock.acknowledged) == (1, 1)
    offer = state.offer(state.offer_ids(sku)[0])
    assert state.item_quantity(sku) == 8 and offer["availableQuantity"] == 8
    assert state.listing_quantity(sku) == 8
    state.sell(sku, 8)  # buyers can buy all eight: what the ledger acknowledged
    with pytest.raises(ValueError, match="sells 0"):
        state.sell(sku, 1)



def test_the_drift_check_reads_the_number_buyers_see(ebay_stock, warehouse, vault):
    state, clients, (sku, *_) = ebay_stock
    with warehouse.begin() as conn:
        adjust(conn, STORE, sku, count=8)
    push(warehouse, vault, clients)
    assert drift_check(warehouse, vault, STORE, "ebay", clients=clients).drifted == 0
    # The seller lowers the offer's quantity in eBay's own pages: the item still says 8, buyers see 3.
    state.set_offer_quantity(state.offer_ids(sku)[0], 3)
    assert state.item_quantity(sku) == 8 and state.listing_quantity(sku) == 3
    drift = drift_check(warehouse, vault, STORE, "ebay", repair=True, clients=clients)
    assert drift.drifted == 1 and drift.examples == [{"sku": sku, "acknowledged": 8, "on_channel": 3}]
    assert drift.repair["acknowledged"] == 1 and state.listing_quantity(sku) == 8
