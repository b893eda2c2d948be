"""Letzshop order import against the simulator: every shipment and unit lands once, however often and
however concurrently it runs; malformed shipments are quarantined and the rest loads."""
import threading

from sqlalchemy import text

from marketsync.assets.catalog.matching import match_order_items
from marketsync.assets.letzshop.connection import letzshop_session
from marketsync.assets.letzshop.load import import_shipments, load_page
from marketsync.sandbox.letzshop.data import expected_figures


def _counts(warehouse):
    with warehouse.begin() as conn:
        return conn.execute(text(
            """SELECT (SELECT count(*) FROM core.orders) AS orders,
                      (SELECT count(*) FROM core.order_items) AS units,
                      (SELECT count(*) FROM core.order_addresses) AS addresses,
                      (SELECT count(*) FROM raw.letzshop_shipments) AS raw_versions,
                      (SELECT count(DISTINCT order_number) FROM core.orders) AS order_numbers""")).one()


def _import(shop, states=("unconfirmed",)):
    with letzshop_session(shop.warehouse, shop.vault, shop.letzshop, shop.account) as api:
        return import_shipments(shop.warehouse.engine, shop.account, api, states, run_id="test")


def test_import_lands_each_shipment_and_unit_once(shop):
    expected = expected_figures(7, 30)
    summary = _import(shop)
    counts = _counts(shop.warehouse)
    assert (counts.orders, counts.units) == (expected.shipments, expected.units)
    assert summary.orders_created == expected.shipments and summary.units_written == expected.units
    assert counts.raw_versions == expected.shipments

    again = _import(shop)
    assert again.shipments_changed == 0 and again.raw_versions_landed == 0 and again.units_written == 0
    assert _counts(shop.warehouse) == counts


def test_overlapping_imports_never_duplicate(shop):
    shop.state.reset(seed=11, size=120)
    errors = []

    def run():
        try:
            _import(shop)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    expected = expected_figures(11, 120)
    counts = _counts(shop.warehouse)
    assert (counts.orders, counts.units, counts.raw_versions) == (
        expected.shipments, expected.units, expected.shipments)


def test_changed_shipment_is_updated_not_duplicated(shop):
    _import(shop)
    first = shop.state.page("unconfirmed", 1)["nodes"][0]
    shop.state.confirm_units([(first["inventoryUnits"][0]["id"], True)])
    _import(shop, states=("unconfirmed", "confirmed"))
    with shop.warehouse.begin() as conn:
        row = conn.execute(text("SELECT channel_state, sync_status FROM core.orders WHERE channel_shipment_id = :s"),
                           {"s": first["id"]}).one()
        versions = conn.execute(text("SELECT count(*) FROM raw.letzshop_shipments WHERE shipment_id = :s"),
                                {"s": first["id"]}).scalar_one()
    assert (row.channel_state, row.sync_status) == ("confirmed", "confirmed")
    assert versions == 2
    assert _counts(shop.warehouse).orders == expected_figures(7, 30).shipments


def test_malformed_shipment_is_quarantined_and_the_rest_loads(shop):
    good = shop.state.page("unconfirmed", 2)["nodes"]
    broken = {**good[0], "id": "broken-1", "inventoryUnits": []}
    bad_price = {**good[1], "id": "broken-2", "order": {**good[1]["order"], "total": "lots"}}
    with shop.warehouse.begin() as conn:
        summary = load_page(conn, shop.account, [broken, bad_price, *good], run_id="t")
    assert summary.quarantined == 2 and summary.orders_created == 2
    with shop.warehouse.begin() as conn:
        reasons = dict(conn.execute(text("SELECT record_ref, reason FROM ops.quarantine")).tuples().all())
    assert reasons == {"broken-1": "shipment has no inventory units", "broken-2": "amount 'lots' is not a number"}


def test_units_match_the_catalog_as_the_seed_says(shop, tmp_path):
    expected = expected_figures(7, 30)
    shop.load_catalog(tmp_path / "catalog.csv")
    _import(shop)
    with shop.warehouse.begin() as conn:
        match_order_items(conn, shop.account.store_id)
        by_gtin = conn.execute(text("SELECT count(*) FROM core.order_items WHERE matched_by = 'gtin'")).scalar_one()
        pending = conn.execute(text(
            "SELECT count(*) FROM core.order_items WHERE match_status = 'pending'")).scalar_one()
        dup = conn.execute(text("SELECT count(*) FROM ops.order_exceptions WHERE kind = 'duplicate_gtin'")).scalar_one()
    assert pending == 0
    assert by_gtin == expected.units_matched
    assert dup == expected.units_ambiguous


def test_history_states_import_confirmed_and_declined(shop):
    shop.state.history_rate = 0.5
    shop.state.reset(seed=5, size=40)
    _import(shop, states=("unconfirmed", "confirmed", "declined"))
    with shop.warehouse.begin() as conn:
        states = dict(conn.execute(text("SELECT channel_state, count(*) FROM core.orders GROUP BY 1")).tuples().all())
    assert states == expected_figures(5, 40, history_rate=0.5).shipments_by_state


def test_prefetch_hands_on_pages_in_order_and_raises_producer_errors():
    import pytest

    from marketsync.resources.prefetch import prefetched

    assert list(prefetched(iter([[1], [2], [3]]))) == [[1], [2], [3]]

    def broken():
        yield [1]
        raise RuntimeError("page 2 failed")

    seen = []
    with pytest.raises(RuntimeError, match="page 2 failed"):
        for page in prefetched(broken()):
            seen.append(page)
    assert seen == [[1]]


def test_stopping_early_stops_the_prefetch_thread():
    import threading

    from marketsync.resources.prefetch import prefetched

    produced = []

    def endless():
        n = 0
        while True:
            n += 1
            produced.append(n)
            yield [n]

    for _page in prefetched(endless(), depth=1):
        break
    assert not any(t.name == "letzshop-prefetch" and t.is_alive() for t in threading.enumerate())
    assert len(produced) <= 3
