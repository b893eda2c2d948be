"""Every order's status history (issue 16, part 4): each change of its cross-channel status, channel
state and sync status is a row saying what caused it and who, written by the database whichever code
changed the order; `marketsync orders show` prints the timeline, analytics.order_status_history exposes
it, and orders that existed before the history began get what was known of their past."""
from __future__ import annotations

import json
import os
import uuid

from order_rows import add_order, add_store
from sqlalchemy import create_engine, text

from marketsync.resources import migrations
from marketsync.resources.database import drop_database, ensure_database, sqlalchemy_url


def test_the_timeline_of_an_import_a_confirmation_and_a_shipment(run_cli, shop, tmp_path):
    from marketsync.sandbox.letzshop.data import write_catalog_csv

    write_catalog_csv(tmp_path / "c.csv", 7, 30)
    assert run_cli("products", "import", "shop", str(tmp_path / "c.csv"))[0] == 0
    assert run_cli("sync", "orders", "shop", "letzshop")[0] == 0
    with shop.warehouse.begin() as conn:
        number = conn.execute(text("SELECT min(order_number) FROM analytics.orders WHERE open_exceptions = 0"
                                   )).scalar_one()
    assert run_cli("orders", "confirm", number)[0] == 0
    assert run_cli("outbound", "run")[0] == 0
    assert run_cli("orders", "ship", number)[0] == 0
    assert run_cli("outbound", "run")[0] == 0

    shown = json.loads(run_cli("orders", "show", number, "--json")[1])
    steps = [(c["field"], c["old_value"], c["new_value"], c["cause"], c["actor"] or "") for c in shown["timeline"]]
    sync = [s for s in steps if s[0] == "sync_status"]
    assert [(old, new) for _, old, new, _, _ in sync] == [
        (None, "imported"), ("imported", "confirming"), ("confirming", "confirmed"), ("confirmed", "shipped")]
    imported, confirming, confirmed, shipped = sync
    assert imported[3].startswith("import of letzshop orders (run ")
    assert confirming[3] == "confirmation queued" and confirming[4].endswith(": marketsync orders confirm")
    assert confirmed[3].startswith("outbound write ") and confirmed[3].endswith("(confirm)")
    assert shipped[3] == "shipment recorded (tracking queued)"
    assert shipped[4].endswith(": marketsync orders ship")
    # The channel's own state (and the status it means) moved with the confirmation, and the history says so.
    channel_states = [(old, new) for field, old, new, _, _ in steps if field == "channel_state"]
    assert channel_states[0][0] is None and len(channel_states) >= 1
    assert any(field == "status" for field, *_ in steps)

    _, out, _ = run_cli("orders", "show", number)
    timeline = out.split("\ntimeline:\n", 1)[1]
    assert "sync_status    imported -> confirming" in timeline and "(confirmation queued; cli " in timeline
    with shop.warehouse.begin() as conn:
        viewed = conn.execute(text("SELECT count(*) FROM analytics.order_status_history WHERE order_number = :n"),
                              {"n": number}).scalar_one()
    assert viewed == len(shown["timeline"])


def test_a_change_by_any_writer_is_recorded_once_with_unknown_cause_when_unnamed(warehouse):
    with warehouse.begin() as conn:
        store = add_store(conn, "hist")
        order_id, _ = add_order(conn, store, {"sku": "A"})
    with warehouse.begin() as conn:  # a writer that names nothing: still recorded
        conn.execute(text("UPDATE core.orders SET sync_status = 'rejected' WHERE order_id = :o"), {"o": order_id})
        conn.execute(text("UPDATE core.orders SET total = 5 WHERE order_id = :o"), {"o": order_id})
    with warehouse.begin() as conn:
        rows = conn.execute(text("SELECT field, old_value, new_value, cause, actor FROM core.order_status_history "
                                 "WHERE order_id = :o ORDER BY history_id"), {"o": order_id}).all()
    assert [tuple(r) for r in rows] == [
        ("sync_status", None, "imported", "created", None), ("channel_state", None, "unconfirmed", "created", None),
        ("status", None, "pending", "created", None), ("sync_status", "imported", "rejected", "changed", None)]


def test_orders_that_existed_before_get_their_known_past(database_url):
    """Migrating a warehouse with orders to the history: imported, confirmed (its confirmation's write),
    shipped, and the current state and status, in that order."""
    server = os.environ.get("DATABASE_URL") or database_url
    url = ensure_database(server, f"marketsync_test_history_{uuid.uuid4().hex[:8]}")
    engine = create_engine(sqlalchemy_url(url))
    try:
        migrations.upgrade(url, "0015_store_separation")
        with engine.begin() as conn:
            store = add_store(conn, "old")
            order_id, _ = add_order(conn, store, {"sku": "A"})
            conn.execute(text("""UPDATE core.orders SET sync_status = 'shipped', channel_state = 'confirmed',
                                        imported_at = '2026-01-01', shipped_at = '2026-01-03',
                                        updated_at = '2026-01-04' WHERE order_id = :o"""), {"o": order_id})
            conn.execute(text("""INSERT INTO ops.outbound_queue (account_id, order_id, operation, payload,
                                                                idempotency_key, status, completed_at)
                                 VALUES (:a, :o, 'confirm', '{}', 'k1', 'succeeded', '2026-01-02')"""),
                         {"a": store[1], "o": order_id})
        migrations.upgrade(url)
        with engine.begin() as conn:
            rows = conn.execute(text("""SELECT field, old_value, new_value, changed_at::date::text AS day
                                        FROM core.order_status_history WHERE order_id = :o ORDER BY history_id"""),
                                {"o": order_id}).all()
        assert [tuple(r) for r in rows] == [
            ("sync_status", None, "imported", "2026-01-01"), ("sync_status", "imported", "confirmed", "2026-01-02"),
            ("sync_status", "confirmed", "shipped", "2026-01-03"), ("channel_state", None, "confirmed", "2026-01-04"),
            ("status", None, "confirmed", "2026-01-04")]
    finally:
        engine.dispose()
        drop_database(server, url)
