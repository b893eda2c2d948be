"""The canonical catalog: merges write only what changed, stale updates lose, and the store catalog
view resolves store overrides and the language fallback chain."""
import json
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.catalog.canonical import CatalogWriter
from marketsync.assets.stores import store_id_for


def _source(conn, store="shop", name="supplier"):
    upsert_account(conn, store, "letzshop")
    store_id = store_id_for(conn, store)
    return conn.execute(text("""INSERT INTO ops.catalog_sources (store_id, name, kind, format)
                                VALUES (:s, :n, 'pull_feed', 'csv') RETURNING source_id"""),
                        {"s": store_id, "n": name}).scalar_one(), store_id


def _row(external_id, price="9.99", quantity=5, updated=None, gtin="04006381333931"):
    return (external_id, gtin, f"SKU-{external_id}", None, "Acme", Decimal(price), "EUR", "in stock", quantity,
            "physical", None, None, None, json.dumps({"colour": "red"}), updated)


def _merge(warehouse, source_id, rows, translations=()):
    with warehouse.begin() as conn:
        writer = CatalogWriter(conn, source_id)
        writer.write_products(rows)
        writer.write_translations(translations)
        return writer.merge()


def test_refresh_writes_only_changed_rows(warehouse):
    with warehouse.begin() as conn:
        source_id, _ = _source(conn)
    rows = [_row(f"P{i}") for i in range(100)]
    first = _merge(warehouse, source_id, rows, [(f"P{i}", "en", f"Thing {i}", None) for i in range(100)])
    assert (first.inserted, first.updated, first.unchanged, first.translations_written) == (100, 0, 0, 100)
    with warehouse.begin() as conn:
        xmin_before = dict(conn.execute(text(
            "SELECT external_id, xmin::text FROM core.marketplace_products")).tuples().all())
    rows[3] = _row("P3", price="10.49")
    again = _merge(warehouse, source_id, rows, [(f"P{i}", "en", f"Thing {i}", None) for i in range(100)])
    assert (again.inserted, again.updated, again.unchanged, again.translations_written) == (0, 1, 99, 0)
    with warehouse.begin() as conn:
        xmin_after = dict(conn.execute(text(
            "SELECT external_id, xmin::text FROM core.marketplace_products")).tuples().all())
    assert [k for k in xmin_before if xmin_before[k] != xmin_after[k]] == ["P3"]


def test_stale_update_never_overwrites_a_newer_one(warehouse):
    with warehouse.begin() as conn:
        source_id, _ = _source(conn)
    newer = datetime(2026, 11, 20, 12, tzinfo=UTC)
    older = datetime(2026, 11, 20, 11, tzinfo=UTC)
    _merge(warehouse, source_id, [_row("P1", quantity=7, updated=newer)])
    result = _merge(warehouse, source_id, [_row("P1", quantity=3, updated=older)])
    assert result.stale == 1 and result.updated == 0
    with warehouse.begin() as conn:
        assert conn.execute(text("SELECT quantity FROM core.marketplace_products")).scalar_one() == 7


def test_store_catalog_resolves_overrides_and_language_fallback(warehouse):
    with warehouse.begin() as conn:
        source_id, store_id = _source(conn)
        conn.execute(text("UPDATE ops.stores SET language_fallback = '{de,fr,en}' WHERE store_id = :s"),
                     {"s": store_id})
    _merge(warehouse, source_id, [_row("P1"), _row("P2", gtin=None)],
           [("P1", "en", "Kettle", "A kettle"), ("P1", "fr", "Bouilloire", None),
            ("P2", "en", "Toaster", "Two slots")])
    with warehouse.begin() as conn:
        ids = dict(conn.execute(text(
            "SELECT external_id, marketplace_product_id FROM core.marketplace_products")).tuples().all())
        for sku, mp in (("K-1", ids["P1"]), ("T-1", ids["P2"])):
            conn.execute(text("""INSERT INTO core.products (store_id, sku, marketplace_product_id, price)
                                 VALUES (:s, :sku, :mp, CASE WHEN :sku = 'T-1' THEN 24.50 END)"""),
                         {"s": store_id, "sku": sku, "mp": mp})
        toaster = conn.execute(text("SELECT product_id FROM core.products WHERE sku = 'T-1'")).scalar_one()
        conn.execute(text("INSERT INTO core.product_translations VALUES (:p, 'de', 'Toaster deluxe', NULL)"),
                     {"p": toaster})
        rows = {r.sku: r for r in conn.execute(text("SELECT * FROM analytics.store_catalog")).all()}
    assert (rows["K-1"].title, rows["K-1"].title_language) == ("Bouilloire", "fr")
    assert (rows["K-1"].description, rows["K-1"].description_language) == ("A kettle", "en")
    assert rows["K-1"].price == Decimal("9.99") and rows["K-1"].brand == "Acme"
    assert (rows["T-1"].title, rows["T-1"].title_language) == ("Toaster deluxe", "de")
    assert rows["T-1"].price == Decimal("24.50")


def test_a_listing_inherits_its_gtin_for_matching_and_auto_resolution(warehouse):
    """A store product with no GTIN of its own matches orders by its marketplace product's GTIN, and a
    pending exception resolves by itself once such a listing appears."""
    from marketsync.assets.catalog.exceptions import auto_resolve
    from marketsync.assets.catalog.matching import match_order_items

    with warehouse.begin() as conn:
        source_id, store_id = _source(conn)
        account_id = conn.execute(text("SELECT account_id FROM ops.accounts WHERE store_id = :s"),
                                  {"s": store_id}).scalar_one()
        order_id = conn.execute(text(
            """INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id,
                                        order_number, channel_state, source_payload_sha)
               VALUES (:s, :a, 'letzshop', 'O1', 'S1', 'R1', 'unconfirmed', 'x') RETURNING order_id"""),
            {"s": store_id, "a": account_id}).scalar_one()
        conn.execute(text("""INSERT INTO core.order_items (order_id, channel_item_id, barcode, gtin14, channel_state)
                             VALUES (:o, 'U1', '4006381333931', '04006381333931', 'unconfirmed')"""), {"o": order_id})
        summary = match_order_items(conn, store_id)
        assert summary.exceptions_opened.get("product_not_found") == 1
    _merge(warehouse, source_id, [_row("P1")])
    with warehouse.begin() as conn:
        mp = conn.execute(text("SELECT marketplace_product_id FROM core.marketplace_products")).scalar_one()
        conn.execute(text("INSERT INTO core.products (store_id, sku, marketplace_product_id) VALUES (:s, 'K-1', :mp)"),
                     {"s": store_id, "mp": mp})
        assert auto_resolve(conn, store_id) == 1
        item = conn.execute(text("""SELECT p.sku, i.matched_by FROM core.order_items i
                                    JOIN core.products p USING (product_id)""")).one()
    assert tuple(item) == ("K-1", "gtin")


def test_two_batches_in_one_transaction_merge_separately(warehouse):
    with warehouse.begin() as conn:
        source_id, _ = _source(conn)
    with warehouse.begin() as conn:
        writer = CatalogWriter(conn, source_id)
        writer.write_products([_row("P1")])
        first = writer.merge()
        writer.write_products([_row("P2")])
        second = writer.merge()
    assert (first.staged, first.inserted) == (1, 1)
    assert (second.staged, second.inserted, second.unchanged) == (1, 1, 0)
