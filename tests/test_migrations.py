"""Migrations apply idempotently; the analyst role reads core and analytics only and writes nothing."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from resources import migrations


def test_upgrade_twice_is_a_no_op(database_url, warehouse):
    migrations.upgrade(database_url)
    assert migrations.current_revision(database_url) is not None
    with warehouse.begin() as conn:
        schemas = set(conn.execute(text("SELECT nspname FROM pg_namespace")).scalars())
    assert {"raw", "core", "ops", "analytics"} <= schemas


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM ops.credentials",
        "SELECT * FROM ops.accounts",
        "SELECT * FROM raw.letzshop_shipments",
        "INSERT INTO core.products (store_id, sku) VALUES (1, 'x')",
        "UPDATE core.orders SET total = 0",
        "DELETE FROM core.order_items",
        "CREATE TABLE analytics.mine (x int)",
        "CREATE TABLE public.mine (x int)",
        "CREATE TABLE core.mine (x int)",
    ],
)
def test_analyst_cannot_read_ops_or_write(warehouse, statement):
    with warehouse.engine.connect() as conn:
        conn.execute(text("SET ROLE analyst"))
        with pytest.raises(ProgrammingError, match="permission denied"):
            conn.execute(text(statement))
        conn.rollback()


def test_analyst_reads_core_and_analytics(warehouse):
    with warehouse.engine.connect() as conn:
        conn.execute(text("SET ROLE analyst"))
        for relation in ("core.orders", "core.order_items", "core.products", "analytics.orders",
                         "analytics.order_lines", "analytics.order_exceptions", "analytics.sync_log"):
            conn.execute(text(f"SELECT count(*) FROM {relation}")).scalar_one()
        conn.rollback()
