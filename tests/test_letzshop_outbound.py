"""Confirm, reject and tracking reach Letzshop exactly once: through 500s, 429s, lost responses and a
worker killed mid-request; confirming an order with an open exception is refused."""
import pytest
from sqlalchemy import text

from marketsync.assets import outbound_queue
from marketsync.assets.catalog.exceptions import ignore_exception, list_exceptions
from marketsync.assets.catalog.matching import match_order_items
from marketsync.assets.letzshop.connection import letzshop_session
from marketsync.assets.letzshop.load import import_shipments
from marketsync.assets.letzshop.outbound import letzshop_handlers
from marketsync.assets.orders.actions import confirm_order, find_order, reject_order, set_tracking, ship_order
from marketsync.assets.outbound_runner import drain
from marketsync.resources.errors import MarketsyncError


@pytest.fixture
def imported(shop, tmp_path):
    shop.load_catalog(tmp_path / "catalog.csv")
    with letzshop_session(shop.warehouse, shop.vault, shop.letzshop, shop.account) as api:
        import_shipments(shop.warehouse.engine, shop.account, api, ["unconfirmed"])
    with shop.warehouse.begin() as conn:
        match_order_items(conn, shop.account.store_id)
    return shop


def _clean_order(shop):
    with shop.warehouse.begin() as conn:
        number = conn.execute(text(
            """SELECT o.order_number FROM core.orders o WHERE NOT EXISTS
                 (SELECT 1 FROM ops.order_exceptions e WHERE e.order_id = o.order_id)
               ORDER BY o.order_id LIMIT 1""")).scalar_one()
        return find_order(conn, number)


def _blocked_order(shop):
    with shop.warehouse.begin() as conn:
        order_id = conn.execute(text(
            "SELECT order_id FROM ops.order_exceptions WHERE status = 'pending' ORDER BY order_id LIMIT 1"
        )).scalar_one()
        return find_order(conn, str(order_id))


def _applied(state, operation, shipment_id):
    return [m for m in state.mutation_log if m.operation == operation and m.shipment_id == shipment_id]


def _drain(shop, **kw):
    return drain(shop.warehouse, shop.vault, {"letzshop": shop.letzshop}, **kw).get("shop/letzshop", {})


def test_confirm_reaches_letzshop_once_through_500_and_429(imported):
    shop = imported
    order = _clean_order(shop)
    with shop.warehouse.begin() as conn:
        confirm_order(conn, order)
        confirm_order(conn, find_order(conn, order.order_number))  # asking twice queues once
    shop.state.add_fault("http_500", count=1, operation="mutation")
    first = _drain(shop)
    assert first["succeeded"] == 0 and first["failed"] == 1, (first, shop.state.stats()["statuses"])
    _make_due(shop)
    shop.state.add_fault("http_429", count=1, retry_after=0, operation="mutation")
    for _ in range(3):
        _make_due(shop)
        _drain(shop)
    assert len(_applied(shop.state, "confirmInventoryUnits", order.channel_shipment_id)) == 1
    with shop.warehouse.begin() as conn:
        status = conn.execute(text("SELECT sync_status FROM core.orders WHERE order_id = :o"),
                              {"o": order.order_id}).scalar_one()
        queue = conn.execute(text("SELECT status, attempts FROM ops.outbound_queue")).all()
    assert status == "confirmed"
    assert [q.status for q in queue] == ["succeeded"]


def _make_due(shop):
    with shop.warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.outbound_queue SET next_attempt_at = now() WHERE status = 'pending'"))


@pytest.mark.parametrize("then", ["close", "502", "hang"])
def test_lost_response_is_re_read_not_resent(imported, then):
    shop = imported
    order = _clean_order(shop)
    with shop.warehouse.begin() as conn:
        confirm_order(conn, order)
    _drain(shop)
    with shop.warehouse.begin() as conn:
        set_tracking(conn, find_order(conn, order.order_number), "TRK123", "greco")
    shop.state.add_fault("apply_then_drop", count=1, then=then, seconds=5)
    first = _drain(shop)
    assert first["succeeded"] == 0
    _make_due(shop)
    second = _drain(shop)
    assert second["succeeded"] == 1 and second["already_applied"] == 1, (first["errors"], second["errors"])
    assert len(_applied(shop.state, "setShipmentTracking", order.channel_shipment_id)) == 1


def test_worker_killed_mid_request_is_re_read_not_resent(imported, wait_for_dead_workers):
    """A worker claims the item, the write reaches Letzshop, and the worker dies before recording it."""
    shop = imported
    order = _clean_order(shop)
    with shop.warehouse.begin() as conn:
        confirm_order(conn, order)
    with letzshop_session(shop.warehouse, shop.vault, shop.letzshop, shop.account) as api:
        handlers = letzshop_handlers(api)

        class DiesAfterSending:
            def send(self, item):
                handlers["confirm"].send(item)
                raise KeyboardInterrupt("worker killed")

            def already_applied(self, item):
                return handlers["confirm"].already_applied(item)

        with pytest.raises(KeyboardInterrupt):
            outbound_queue.process_queue(shop.warehouse.engine, {"confirm": DiesAfterSending()}, lease_seconds=0.01)
    with shop.warehouse.begin() as conn:
        assert conn.execute(text("SELECT status FROM ops.outbound_queue")).scalar_one() == "in_flight"
        # Time passes beyond the dead worker's lease: said outright, since on a fast machine the whole
        # test can run inside a 10 ms lease and the drain would then rightly leave the item alone.
        conn.execute(text("UPDATE ops.outbound_queue SET lease_expires_at = now() - interval '1 second'"))
    wait_for_dead_workers()
    result = _drain(shop)
    assert result.get("succeeded") == 1 and result.get("already_applied") == 1, result
    assert len(_applied(shop.state, "confirmInventoryUnits", order.channel_shipment_id)) == 1


def test_tracking_needs_a_confirmed_order(imported):
    shop = imported
    with shop.warehouse.begin() as conn:
        with pytest.raises(MarketsyncError, match="confirm it before"):
            set_tracking(conn, _clean_order(shop), "TRK1", "greco")


def test_confirm_with_pending_exception_is_refused(imported):
    shop = imported
    order = _blocked_order(shop)
    with shop.warehouse.begin() as conn:
        with pytest.raises(MarketsyncError, match=r"cannot be confirmed: .* not resolved"):
            confirm_order(conn, order)
        exc = list_exceptions(conn, "shop", "pending")[0]
        ignore_exception(conn, exc["exception_id"], "supplier discontinued", resolved_by="test")
    with shop.warehouse.begin() as conn:
        with pytest.raises(MarketsyncError, match="cannot be confirmed"):
            confirm_order(conn, find_order(conn, str(exc["order_id"])))
        assert conn.execute(text("SELECT count(*) FROM ops.outbound_queue")).scalar_one() == 0


def test_reject_declines_every_unit_once(imported):
    shop = imported
    order = _blocked_order(shop)
    with shop.warehouse.begin() as conn:
        reject_order(conn, order, "out of stock")
    _drain(shop)
    applied = _applied(shop.state, "confirmInventoryUnits", order.channel_shipment_id)
    assert len(applied) == 1
    shipment = shop.state.shipment(order.channel_shipment_id)
    assert {u["state"] for u in shipment["inventoryUnits"]} == {"confirmed_unavailable"}
    with shop.warehouse.begin() as conn:
        row = conn.execute(text("SELECT sync_status, rejection_reason FROM core.orders WHERE order_id = :o"),
                           {"o": order.order_id}).one()
    assert tuple(row) == ("rejected", "out of stock")


def test_ship_sets_label_url_and_pushes_tracking_once(imported):
    shop = imported
    order = _clean_order(shop)
    with shop.warehouse.begin() as conn:
        confirm_order(conn, order)
    _drain(shop)
    with shop.warehouse.begin() as conn:
        shipped = ship_order(conn, find_order(conn, order.order_number))
        ship_order(conn, find_order(conn, order.order_number))  # twice: one push
    assert shipped["tracking_url"] == f"https://dispatchweb.fr/Tracky/Home/{order.shipment_number}"
    assert shipped["carrier"] == "greco"
    _drain(shop)
    assert len(_applied(shop.state, "setShipmentTracking", order.channel_shipment_id)) == 1
    with shop.warehouse.begin() as conn:
        row = conn.execute(text("SELECT sync_status, shipped_at, tracking_url FROM core.orders WHERE order_id = :o"),
                           {"o": order.order_id}).one()
    assert row.sync_status == "shipped" and row.shipped_at is not None and row.tracking_url == shipped["tracking_url"]


def test_revoked_key_dead_letters_with_a_clear_error_and_requeue_recovers(imported):
    shop = imported
    order = _clean_order(shop)
    with shop.warehouse.begin() as conn:
        confirm_order(conn, order)
    shop.state.revoke_key("sandbox-test-key")
    result = _drain(shop)
    assert result["dead"] == 1
    with shop.warehouse.begin() as conn:
        error = conn.execute(text("SELECT last_error FROM ops.outbound_queue")).scalar_one()
    assert "refused the API key" in error
    shop.state.add_key("sandbox-test-key")
    with shop.warehouse.begin() as conn:
        assert outbound_queue.requeue(conn, all_dead=True) == 1
    assert _drain(shop)["succeeded"] == 1
    assert len(_applied(shop.state, "confirmInventoryUnits", order.channel_shipment_id)) == 1


def test_tracking_waits_for_the_confirmation_it_depends_on(imported):
    shop = imported
    order = _clean_order(shop)
    with shop.warehouse.begin() as conn:
        confirm_order(conn, order)
    shop.state.add_fault("http_500", count=1, operation="mutation")
    _drain(shop)  # the confirmation fails and is rescheduled
    with shop.warehouse.begin() as conn:  # well into the future, whatever the jitter drew
        conn.execute(text("UPDATE ops.outbound_queue SET next_attempt_at = now() + interval '1 hour'"))
    with shop.warehouse.begin() as conn:
        ship_order(conn, find_order(conn, order.order_number), number="TRK9", carrier="greco")
    early = _drain(shop)
    assert early.get("succeeded", 0) == 0
    assert not _applied(shop.state, "setShipmentTracking", order.channel_shipment_id)
    _make_due(shop)
    _drain(shop)
    assert len(_applied(shop.state, "confirmInventoryUnits", order.channel_shipment_id)) == 1
    assert len(_applied(shop.state, "setShipmentTracking", order.channel_shipment_id)) == 1
