"""Migrations apply idempotently; the analyst role reads core and analytics only and writes nothing."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from marketsync.resources import migrations


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
            conn.execute(text(f"SELECT count(*) FROM {relation}")).scalar_one()  # noqa: S608 - the names above
        conn.rollback()


def test_a_database_of_an_earlier_release_upgrades_to_head(server_url):
    """A deployment at 0004 (issue 4) with orders in it: the upgrade maps their status, and the views
    and functions that follow the current schema exist afterwards (they are applied at head)."""
    import uuid

    import psycopg

    from marketsync.resources.database import engine_for, ensure_database, libpq_url, with_database

    name = f"marketsync_upgrade_{uuid.uuid4().hex[:8]}"
    url = ensure_database(server_url, name)
    try:
        migrations.upgrade(url, "0004_fulfillment")
        with engine_for(url).begin() as conn:
            conn.execute(text("INSERT INTO ops.stores (code) VALUES ('old')"))
            conn.execute(text("INSERT INTO ops.accounts (store_id, channel) VALUES (1, 'letzshop')"))
            conn.execute(text("""INSERT INTO core.orders (store_id, account_id, channel, channel_order_id,
                                     channel_shipment_id, order_number, channel_state, source_payload_sha)
                                 VALUES (1, 1, 'letzshop', 'o', 's', 'R1', 'declined', 'x')"""))
        migrations.upgrade(url)
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(migrations.alembic_config(url)).get_current_head()
        assert migrations.current_revision(url) == head
        with engine_for(url).begin() as conn:
            assert conn.execute(text("SELECT status FROM analytics.orders")).scalar() == "cancelled"
            assert conn.execute(text("SELECT count(*) FROM analytics.inventory_sync_lag")).scalar() == 0
    finally:
        engine_for(url).dispose()
        with psycopg.connect(libpq_url(with_database(server_url, "postgres")), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_operations_go_down_and_come_back_with_open_alerts_of_one_condition(server_url):
    """0012 down to 0011 and up again: its views go first, and open alerts of one condition from before
    conditions existed (two open alerts of the same source and no account) become one open alert."""
    import uuid

    import psycopg
    from alembic import command

    from marketsync.resources.database import engine_for, ensure_database, libpq_url, with_database

    name = f"marketsync_down_{uuid.uuid4().hex[:8]}"
    url = ensure_database(server_url, name)
    try:
        migrations.upgrade(url)
        command.downgrade(migrations.alembic_config(url), "0011_digital_delivered")
        with engine_for(url).begin() as conn:
            conn.execute(text("INSERT INTO ops.alerts (source, message) VALUES ('pool_low', 'a'), ('pool_low', 'b')"))
        migrations.upgrade(url)
        with engine_for(url).begin() as conn:
            open_alerts = conn.execute(text("SELECT message FROM ops.alerts WHERE closed_at IS NULL")).scalars().all()
            assert open_alerts == ["b"]
            assert conn.execute(text("SELECT count(*) FROM analytics.integration_metrics")).scalar() == 0
    finally:
        engine_for(url).dispose()
        with psycopg.connect(libpq_url(with_database(server_url, "postgres")), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
