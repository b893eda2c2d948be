"""One order status across channels: every state each channel reports maps to one of ours, the trigger
keeps core.orders.status in step with whatever an importer writes, and a cancelled order holds no stock."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from order_rows import add_order, add_product, add_store
from sqlalchemy import text

SPECS = Path(__file__).resolve().parents[2] / "shared" / "specs"
STATUSES = {"pending", "confirmed", "processing", "shipped", "delivered", "cancelled", "refunded",
            "partially_refunded"}
# What each channel reports (eBay's fulfillment, payment and cancel states are folded into one by its
# importer, in this precedence: cancelled, refunded, payment pending, fulfillment).
CHANNEL_STATES = {
    "letzshop": {"unconfirmed": "pending", "confirmed": "confirmed", "declined": "cancelled"},
    "amazon": {"PENDING_AVAILABILITY": "pending", "PENDING": "pending", "UNSHIPPED": "confirmed",
               "PARTIALLY_SHIPPED": "processing", "SHIPPED": "shipped", "DELIVERED": "delivered",
               "CANCELLED": "cancelled", "UNFULFILLABLE": "cancelled", "REFUNDED": "refunded",
               "PARTIALLY_REFUNDED": "partially_refunded"},
    "ebay": {"PAYMENT_PENDING": "pending", "NOT_STARTED": "confirmed", "IN_PROGRESS": "processing",
             "FULFILLED": "shipped", "DELIVERED": "delivered", "CANCELED": "cancelled",
             "FULLY_REFUNDED": "refunded", "PARTIALLY_REFUNDED": "partially_refunded"},
}


def _mapping(conn) -> dict:
    rows = conn.execute(text("SELECT channel, channel_state, status FROM core.order_status_map")).all()
    mapping: dict = {}
    for channel, state, status in rows:
        mapping.setdefault(channel, {})[state] = status
    return mapping


@pytest.mark.parametrize("channel", sorted(CHANNEL_STATES))
def test_every_channel_state_maps_to_one_status(warehouse, channel):
    with warehouse.begin() as conn:
        mapping = _mapping(conn)
    assert mapping[channel] == CHANNEL_STATES[channel]
    assert set(mapping[channel].values()) <= STATUSES


def test_amazon_fulfillment_statuses_of_the_public_model_are_all_mapped(warehouse):
    model = SPECS / "amazon_sp_api" / "orders_2026-01-01.json"
    if not model.exists():
        pytest.skip("the shared Amazon specs are not present")
    schemas = json.loads(model.read_text())
    schemas = schemas.get("definitions") or schemas["components"]["schemas"]
    with warehouse.begin() as conn:
        mapped = set(_mapping(conn)["amazon"])
    assert set(schemas["FulfillmentStatus"]["enum"]) <= mapped


def test_the_status_follows_the_channel_state_whoever_writes_it(warehouse):
    with warehouse.begin() as conn:
        store = add_store(conn)
        order_id, _ = add_order(conn, store, {"sku": "A"})
        assert conn.execute(text("SELECT status FROM core.orders WHERE order_id = :o"),
                            {"o": order_id}).scalar() == "pending"
        conn.execute(text("UPDATE core.orders SET channel_state = 'declined' WHERE order_id = :o"), {"o": order_id})
        assert conn.execute(text("SELECT status FROM core.orders WHERE order_id = :o"),
                            {"o": order_id}).scalar() == "cancelled"
        conn.execute(text("UPDATE core.orders SET channel_state = 'something new' WHERE order_id = :o"),
                     {"o": order_id})
        assert conn.execute(text("SELECT status FROM core.orders WHERE order_id = :o"),
                            {"o": order_id}).scalar() is None


def test_an_order_the_channel_cancelled_holds_no_stock(warehouse):
    with warehouse.begin() as conn:
        store = add_store(conn)
        product = add_product(conn, store[0], "A")
        order_id, items = add_order(conn, store, {"sku": "A"})
        conn.execute(text("UPDATE core.order_items SET product_id = :p WHERE order_item_id = ANY(:i)"),
                     {"p": product, "i": items})
        holding = text("SELECT coalesce(sum(units), 0) FROM core.stock_order_units(:s) WHERE product_id = :p")
        assert conn.execute(holding, {"s": store[0], "p": product}).scalar() == 1
        # Cancelled on the channel while our own status still says imported: released all the same.
        conn.execute(text("UPDATE core.orders SET channel_state = 'declined' WHERE order_id = :o"), {"o": order_id})
        assert conn.execute(holding, {"s": store[0], "p": product}).scalar() == 0
