"""One store's rows in every core table, and reading a relation's rows as a given role: for the tests of
per-store separation and of what each reader role reads."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import text

# Core tables of no store, which every analyst reads whole.
REFERENCE = {"core.order_status_map"}

# One store's rows in every table the core and analytics relations read: an order with two items, its
# addresses and an exception, a product with its catalog source, marketplace product and translations,
# stock (settings, a count, a rule, a push with its ledger row, the channel's acknowledgement), fulfilment
# (products, stock, an inbound, an outbound, a shipment), a catalog import, a sync-log row and a digital
# purchase. Every statement reads the ids of the ones before it from the store's code.
SEED = [
    "INSERT INTO ops.stores (code) VALUES (:code)",
    "INSERT INTO ops.accounts (store_id, channel) SELECT store_id, 'letzshop' FROM ops.stores WHERE code = :code",
    """INSERT INTO ops.catalog_sources (store_id, name, kind)
       SELECT store_id, 'feed', 'pull_feed' FROM ops.stores WHERE code = :code""",
    """INSERT INTO core.marketplace_products (source_id, external_id, content_sha)
       SELECT c.source_id, 'ext-' || :code, 'sha' FROM ops.catalog_sources c JOIN ops.stores s USING (store_id)
       WHERE s.code = :code""",
    """INSERT INTO core.marketplace_product_translations (marketplace_product_id, language, title)
       SELECT marketplace_product_id, 'de', 'Titel ' || :code FROM core.marketplace_products
       WHERE external_id = 'ext-' || :code""",
    """INSERT INTO core.products (store_id, sku, marketplace_product_id)
       SELECT s.store_id, 'SKU-' || :code, m.marketplace_product_id FROM ops.stores s, core.marketplace_products m
       WHERE s.code = :code AND m.external_id = 'ext-' || :code""",
    """INSERT INTO core.product_translations (product_id, language, title)
       SELECT product_id, 'fr', 'Titre ' || :code FROM core.products WHERE sku = 'SKU-' || :code""",
    """INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id, order_number,
                               channel_state, source_payload_sha, customer_email, total)
       SELECT store_id, account_id, 'letzshop', 'o-' || :code, 's-' || :code, 'R-' || :code, 'confirmed', 'x',
              'buyer@' || :code, 10
       FROM ops.accounts JOIN ops.stores USING (store_id) WHERE code = :code""",
    """INSERT INTO core.order_items (order_id, channel_item_id, channel_state, product_id, match_status, sku,
                                    channel_variant_id, unit_price)
       SELECT o.order_id, 'i' || k || '-' || :code, 'confirmed', p.product_id, 'matched', p.sku, 'v', 5
       FROM core.orders o, core.products p, generate_series(1, 2) k
       WHERE o.channel_order_id = 'o-' || :code AND p.sku = 'SKU-' || :code""",
    """INSERT INTO core.order_addresses (order_id, kind, country_iso, country_name, city)
       SELECT order_id, kind, 'LU', 'Land ' || :code, 'City ' || :code
       FROM core.orders, unnest(ARRAY['shipping', 'billing']) kind
       WHERE channel_order_id = 'o-' || :code""",
    """INSERT INTO ops.order_exceptions (store_id, order_id, order_item_id, kind, sku)
       SELECT o.store_id, o.order_id, min(i.order_item_id), 'product_not_found', 'SKU-' || :code
       FROM core.orders o JOIN core.order_items i USING (order_id) WHERE o.channel_order_id = 'o-' || :code
       GROUP BY o.store_id, o.order_id""",
    """INSERT INTO ops.stock_settings (account_id, adapter)
       SELECT account_id, 'letzshop_inventory' FROM ops.accounts JOIN ops.stores USING (store_id)
       WHERE code = :code""",
    """INSERT INTO core.stock_adjustments (store_id, product_id, kind, quantity)
       SELECT store_id, product_id, 'count', 5 FROM core.products WHERE sku = 'SKU-' || :code""",
    """INSERT INTO core.stock_listing_rules (account_id, product_id, max_quantity)
       SELECT a.account_id, p.product_id, 3 FROM core.products p JOIN ops.accounts a USING (store_id)
       WHERE p.sku = 'SKU-' || :code""",
    """INSERT INTO ops.inventory_syncs (account_id, mode, status, finished_at)
       SELECT account_id, 'full', 'succeeded', now() FROM ops.accounts JOIN ops.stores USING (store_id)
       WHERE code = :code""",
    """INSERT INTO core.stock_ledger (inventory_sync_id, account_id, product_id, sku, ffn_on_hand,
                                     ffn_foreign_reserved, feed_quantity, manual_quantity, reserved,
                                     shipped_uncounted, safety_stock, available, max_quantity,
                                     out_of_stock_threshold, sync_zero_stock, on_demand, pushed_quantity, answer)
       SELECT y.inventory_sync_id, y.account_id, p.product_id, p.sku, 0, 0, 0, 5, 0, 0, 0, 5, 3, 0, false, false,
              core.listed_quantity(5, NULL, 3, 0, false), 'accepted'
       FROM ops.inventory_syncs y JOIN ops.accounts a USING (account_id) JOIN core.products p USING (store_id)
       WHERE p.sku = 'SKU-' || :code""",
    """INSERT INTO core.channel_stock (account_id, product_id, acknowledged_quantity, acknowledged_at)
       SELECT a.account_id, p.product_id, 3, now() FROM core.products p JOIN ops.accounts a USING (store_id)
       WHERE p.sku = 'SKU-' || :code""",
    """INSERT INTO ops.price_syncs (account_id, mode, status, finished_at)
       SELECT account_id, 'full', 'succeeded', now() FROM ops.accounts JOIN ops.stores USING (store_id)
       WHERE code = :code""",
    """INSERT INTO core.price_ledger (price_sync_id, account_id, product_id, sku, currency, base_price, base_source,
                                     markup_percent, fixed_add, marked_up, rounding, rounded, floor_price,
                                     final_price, answer)
       SELECT y.price_sync_id, y.account_id, p.product_id, p.sku, 'EUR', 10, 'store', 0, 0, 10, 'none', 10, 1, 10,
              'delivered'
       FROM ops.price_syncs y JOIN ops.accounts a USING (account_id) JOIN core.products p USING (store_id)
       WHERE p.sku = 'SKU-' || :code""",
    """INSERT INTO core.channel_prices (account_id, product_id, acknowledged_price, currency, acknowledged_at)
       SELECT a.account_id, p.product_id, 10, 'EUR', now() FROM core.products p JOIN ops.accounts a USING (store_id)
       WHERE p.sku = 'SKU-' || :code""",
    """INSERT INTO core.fulfillment_products (account_id, jfsku, merchant_sku)
       SELECT account_id, 'JF-' || :code, 'SKU-' || :code FROM ops.accounts JOIN ops.stores USING (store_id)
       WHERE code = :code""",
    """INSERT INTO core.fulfillment_stock (account_id, jfsku, warehouse_id, stock_level)
       SELECT account_id, 'JF-' || :code, 'W1', 4 FROM ops.accounts JOIN ops.stores USING (store_id)
       WHERE code = :code""",
    """INSERT INTO core.fulfillment_inbounds (account_id, inbound_id, merchant_inbound_number)
       SELECT account_id, 'IN-' || :code, 'MIN-' || :code FROM ops.accounts JOIN ops.stores USING (store_id)
       WHERE code = :code""",
    """INSERT INTO core.fulfillment_inbound_items (account_id, inbound_id, jfsku, quantity)
       SELECT account_id, 'IN-' || :code, 'JF-' || :code, 2 FROM ops.accounts JOIN ops.stores USING (store_id)
       WHERE code = :code""",
    """INSERT INTO core.fulfillment_outbounds (account_id, merchant_outbound_number, order_id)
       SELECT o.account_id, 'OUT-' || :code, o.order_id FROM core.orders o WHERE o.channel_order_id = 'o-' || :code""",
    """INSERT INTO core.fulfillment_shipments (account_id, notification_id, merchant_outbound_number)
       SELECT account_id, 'N-' || :code, 'OUT-' || :code FROM ops.accounts JOIN ops.stores USING (store_id)
       WHERE code = :code""",
    """INSERT INTO ops.import_runs (source_id, status)
       SELECT source_id, 'pending' FROM ops.catalog_sources JOIN ops.stores USING (store_id) WHERE code = :code""",
    """INSERT INTO ops.sync_log (account_id, operation, direction)
       SELECT account_id, 'import_orders', 'inbound' FROM ops.accounts JOIN ops.stores USING (store_id)
       WHERE code = :code""",
    """INSERT INTO ops.digital_purchases (store_id, order_item_id, client_order_id, supplier_product_id,
                                         listed_unit_price)
       SELECT o.store_id, min(i.order_item_id), 'client-order-' || :code, 'cws-1', 5
       FROM core.orders o JOIN core.order_items i USING (order_id) WHERE o.channel_order_id = 'o-' || :code
       GROUP BY o.store_id""",
]


def seed_store(conn, code: str) -> None:
    for statement in SEED:
        conn.execute(text(statement), {"code": code})


def relations(conn) -> list[str]:
    """Every table and view of core and analytics, from the catalog: a new one is checked without asking."""
    return list(conn.execute(text(
        """SELECT format('%I.%I', n.nspname, c.relname)
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname IN ('core', 'analytics') AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
           ORDER BY 1""")).scalars())


def readable_columns(conn, relation: str) -> str:
    """The columns of `relation` that every reader role reads (the analyst roles read no buyer's personal
    data), quoted and comma-separated: rows compare across roles on these."""
    return ", ".join(conn.execute(text(
        """SELECT quote_ident(a.attname) FROM pg_attribute a
           WHERE a.attrelid = CAST(:r AS regclass) AND a.attnum > 0 AND NOT a.attisdropped
             AND has_column_privilege('store_analyst', a.attrelid, a.attnum, 'SELECT')
           ORDER BY a.attnum"""), {"r": relation}).scalars())


def rows_as(conn, role: str | None, relation: str, *, session: bool = False) -> Counter:
    """The rows of `relation` as `role` reads them (as JSON text), inside the caller's transaction so that
    now() is one instant for every role; role None: the owner."""
    columns = readable_columns(conn, relation)
    if role is not None:
        conn.execute(text(f'SET LOCAL {"SESSION AUTHORIZATION" if session else "ROLE"} "{role}"'))
    try:
        return Counter(conn.execute(text(
            f"SELECT to_jsonb(t)::text FROM (SELECT {columns} FROM {relation}) t")).scalars())  # noqa: S608 - catalog names
    finally:
        conn.execute(text("RESET SESSION AUTHORIZATION" if session else "RESET ROLE"))
