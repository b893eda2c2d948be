"""The core tables' asset checks (assets/checks/) pass on consistent data and name what breaks them; the
standard table metadata (assets/table_metadata.py) describes the table it is read from."""
from sqlalchemy import text

from marketsync.assets.checks.core_tables import core_table_checks
from marketsync.assets.table_metadata import table_metadata

_ORDER = """INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id, order_number,
                                     total, channel_state, source_payload_sha)
            VALUES (:s, :a, 'letzshop', :o, :sh, :n, :t, 'unconfirmed', 'sha') RETURNING order_id"""
_ITEM = """INSERT INTO core.order_items (order_id, channel_item_id, unit_price, quantity, channel_state, match_status)
           VALUES (:o, :i, :p, 1, 'unconfirmed', :m) RETURNING order_item_id"""


def _run(name: str, warehouse):
    check = next(c for c in core_table_checks
                 if any(k.name == name and k.asset_key.path[-1] == "letzshop_orders" for k in c.check_keys))
    return check(warehouse=warehouse)


def test_core_checks_fail_on_what_breaks_them_and_pass_once_fixed(warehouse, shop):
    store, account = shop.account.store_id, shop.account.account_id
    with warehouse.begin() as conn:
        good = conn.execute(text(_ORDER),
                            {"s": store, "a": account, "o": "O-1", "sh": "S-1", "n": "R1", "t": 12}).scalar()
        conn.execute(text(_ITEM), {"o": good, "i": "u1", "p": 5, "m": "matched"})
        conn.execute(text(_ITEM), {"o": good, "i": "u2", "p": 7, "m": "matched"})
    for name in ("no_duplicate_channel_ids", "items_matched_or_excepted", "totals_equal_lines"):
        assert _run(name, warehouse).passed, name

    with warehouse.begin() as conn:
        # An order stored whole, and again as if it were a shipment of itself.
        twice = conn.execute(text(_ORDER),
                             {"s": store, "a": account, "o": "O-2", "sh": "O-2", "n": "R2", "t": 3}).scalar()
        conn.execute(text(_ORDER), {"s": store, "a": account, "o": "O-2", "sh": "O-2b", "n": "R2", "t": 3})
        # A line that does not add up to the total, and one matching gave up on without an exception.
        item = conn.execute(text(_ITEM), {"o": twice, "i": "u1", "p": 2, "m": "unmatched"}).scalar()
    duplicates = _run("no_duplicate_channel_ids", warehouse)
    assert not duplicates.passed and "O-2 x2" in duplicates.description
    totals = _run("totals_equal_lines", warehouse)
    assert not totals.passed and "R2: lines 2" in totals.description
    unexplained = _run("items_matched_or_excepted", warehouse)
    assert not unexplained.passed and "R2 item u1" in unexplained.description

    with warehouse.begin() as conn:
        conn.execute(text("""INSERT INTO ops.order_exceptions (store_id, order_id, order_item_id, kind)
                             VALUES (:s, :o, :i, 'product_not_found')"""), {"s": store, "o": twice, "i": item})
    assert _run("items_matched_or_excepted", warehouse).passed


def test_table_metadata_describes_the_table(warehouse, shop, tmp_path):
    shop.load_catalog(tmp_path / "catalog.csv")
    with warehouse.begin() as conn:
        products = conn.execute(text("SELECT count(*) FROM core.products")).scalar_one()
        metadata = table_metadata(conn, "core.products")
    assert metadata["dagster/table_name"] == "core.products"
    assert metadata["dagster/row_count"] == products > 0 and metadata["row_count_exact"]
    columns = {c.name: c for c in metadata["dagster/column_schema"].columns}
    assert columns["sku"].type == "text" and columns["product_id"].constraints.nullable is False
