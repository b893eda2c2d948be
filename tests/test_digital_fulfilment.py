"""A store's digital order lines fulfilled end to end (assets/digital/fulfilment.py): pool keys first,
purchases from the CodesWholesale simulator when the pool is empty, nothing for an unconfirmed order or
a pool-only product with an empty pool, and delivery handed every order whose units all have keys."""
import datetime
from decimal import Decimal

import pytest
from dagster import DagsterInstance, build_sensor_context, materialize
from order_rows import add_order, add_product, add_store
from sqlalchemy import text

from marketsync.assets.codeswholesale.catalog import add_codeswholesale_source, codeswholesale_accounts
from marketsync.assets.codeswholesale.digital import digital_fulfilment, digital_stores
from marketsync.assets.digital.fulfilment import fulfil_store
from marketsync.assets.digital.keys import import_keys
from marketsync.assets.digital.purchase import vault_keeper
from marketsync.resources.codeswholesale import CodesWholesaleResource
from marketsync.sandbox.codeswholesale.data import single_unit_price
from marketsync.sandbox.codeswholesale.state import CodesWholesaleState
from marketsync.sandbox.http import serve_in_thread
from marketsync.sensors.digital_orders import digital_orders_sensor

CLIENT_ID, CLIENT_SECRET = "cws-fulfil", "fulfil-Secret=%41"


@pytest.fixture
def cws():
    from marketsync.sandbox.codeswholesale.app import create_app

    state = CodesWholesaleState(seed=5, size=100, clients={CLIENT_ID: CLIENT_SECRET}, page_size=100, balance=1000)
    with serve_in_thread(create_app(state)) as server:
        yield state, server.base_url


def _shop(warehouse, vault, state, base_url, tmp_path):
    """Store `dig`: A (pool then supplier; one pool key), B (supplier only), C (pool only, empty pool);
    confirmed orders of 2 A, 1 B, 1 C, and an unconfirmed order of 1 A."""
    products = [p for p in state.products if p["quantity"] >= 10 and len(p["prices"]) == 1
                and state.code_type(p["productId"]) == "CODE_TEXT"][:2]
    with warehouse.begin() as conn:
        store = add_store(conn, "dig")
        ids = {sku: add_product(conn, store[0], sku) for sku in ("A", "B", "C")}
        source = add_codeswholesale_source(conn, vault, "dig", base_url, CLIENT_ID, CLIENT_SECRET)
        for sku, supplier, sources in (("A", products[0], "pool_then_supplier"), ("B", products[1], "supplier_only"),
                                       ("C", None, "pool_only")):
            conn.execute(text("INSERT INTO ops.digital_products (product_id, store_id, supplier_product_id, sources) "
                              "VALUES (:p, :s, :sp, :src)"),
                         {"p": ids[sku], "s": store[0], "sp": supplier and supplier["productId"], "src": sources})
            if supplier:
                conn.execute(text("INSERT INTO core.marketplace_products (source_id, external_id, price, currency, "
                                  "product_type, content_sha) VALUES (:s, :e, :p, 'EUR', 'digital', 'sha')"),
                             {"s": source, "e": supplier["productId"], "p": Decimal(str(single_unit_price(supplier)))})
        orders = {}
        for name, skus in (("two_a", ["A", "A"]), ("one_b", ["B"]), ("one_c", ["C"]), ("unconfirmed", ["A"])):
            order_id, items = add_order(conn, store, *({"sku": sku} for sku in skus))
            for item, sku in zip(items, skus, strict=True):
                conn.execute(text("UPDATE core.order_items SET product_id = :p, match_status = 'matched' "
                                  "WHERE order_item_id = :i"), {"p": ids[sku], "i": item})
            if name != "unconfirmed":
                conn.execute(text("UPDATE core.orders SET sync_status = 'confirmed' WHERE order_id = :o"),
                             {"o": order_id})
            orders[name] = order_id
        pool = tmp_path / "pool.csv"
        pool.write_text("sku,code\nA,POOL-KEY-0001-ABCD\n")
        import_keys(conn, vault, "dig", pool)
    return store[0], orders


def test_units_get_one_key_each_from_the_pool_first_then_bought(cws, warehouse, vault, tmp_path):
    state, base_url = cws
    store_id, orders = _shop(warehouse, vault, state, base_url, tmp_path)
    delivered: list[int] = []
    with CodesWholesaleResource(timeout_seconds=5).session(base_url, CLIENT_ID, CLIENT_SECRET) as api:
        first = fulfil_store(warehouse.engine, api, store_id, vault_keeper(vault), lambda conn, o: delivered.append(o))
        again = fulfil_store(warehouse.engine, api, store_id, vault_keeper(vault), lambda conn, o: delivered.append(o))
    assert (first.from_pool, first.purchases_planned, first.waiting_for_pool) == (1, 2, 1)
    assert first.purchase_steps == {"bought": 2} and first.low_pools >= 1
    assert (again.from_pool, again.purchases_planned) == (0, 0), "nothing is sourced twice"
    assert sorted(set(delivered)) == sorted([orders["two_a"], orders["one_b"]])
    with warehouse.begin() as conn:
        keys = conn.execute(text("SELECT k.source, i.order_id FROM ops.digital_keys k JOIN core.order_items i "
                                 "USING (order_item_id) ORDER BY i.order_id, k.source")).all()
        purchases = conn.execute(text("SELECT client_order_id FROM ops.digital_purchases")).scalars().all()
    assert [(k.order_id, k.source) for k in keys] == [
        (orders["two_a"], "pool"), (orders["two_a"], "supplier"), (orders["one_b"], "supplier")]
    assert len(purchases) == 2 and all(len(state.charges_for(c)) == 1 for c in purchases)


def test_the_sensor_fires_on_undelivered_digital_orders_and_the_asset_fulfils_them(cws, warehouse, vault, tmp_path):
    state, base_url = cws
    _shop(warehouse, vault, state, base_url, tmp_path)
    instance = DagsterInstance.ephemeral()

    def tick():
        return digital_orders_sensor(build_sensor_context(instance=instance, resources={"warehouse": warehouse}))

    evaluation = tick()
    first = evaluation.run_requests
    assert [r.partition_key for r in first] == ["dig"]
    # The store's first digital work makes its partition in the same evaluation.
    assert [r.partition_keys for r in evaluation.dynamic_partitions_requests] == [["dig"]]
    instance.add_dynamic_partitions(digital_stores.name, ["dig"])
    again = tick()
    assert again.run_requests[0].run_key == first[0].run_key and not again.dynamic_partitions_requests
    result = materialize([digital_fulfilment], partition_key="dig", instance=instance, resources={
        "warehouse": warehouse, "vault": vault, "codeswholesale": CodesWholesaleResource(timeout_seconds=5)})
    assert result.success
    metadata = result.get_asset_materialization_events()[0].event_specific_data.materialization.metadata
    figures = {k: getattr(v, "value", v) for k, v in metadata.items()}
    assert (figures["from_pool"], figures["purchases_planned"], figures["purchases_bought"]) == (1, 2, 2)
    after = tick()
    # The keys wait for their delivery (no channel delivering keys in this test): the work changed.
    assert after.run_requests[0].run_key != first[0].run_key


def test_status_and_balance_through_the_cli(cws, warehouse, vault, tmp_path, run_cli):
    state, base_url = cws
    store_id, _ = _shop(warehouse, vault, state, base_url, tmp_path)
    with CodesWholesaleResource(timeout_seconds=5).session(base_url, CLIENT_ID, CLIENT_SECRET) as api:
        fulfil_store(warehouse.engine, api, store_id, vault_keeper(vault))
    code, out, err = run_cli("digital", "status", "--store", "dig")
    assert code == 0, err
    assert "dig: 4 unit(s), 1 from the pool, 2 bought, 0 delivered; purchases open 0, waiting 0, refused 0" in out
    assert "POOL-KEY-0001-ABCD" not in out
    code, out, err = run_cli("digital", "balance", "dig")
    spent = sum(c.amount for c in state.charges)
    assert code == 0 and len(state.charges) == 2, err
    assert Decimal(out.split("balance ")[1].split(",")[0]) == Decimal(1000) - spent


def test_the_success_rate_check_fails_below_95_percent_delivered(cws, warehouse, vault, tmp_path):
    from marketsync.assets.codeswholesale.digital import digital_fulfilment_success_rate

    state, base_url = cws
    store_id, _ = _shop(warehouse, vault, state, base_url, tmp_path)
    with CodesWholesaleResource(timeout_seconds=5).session(base_url, CLIENT_ID, CLIENT_SECRET) as api:
        fulfil_store(warehouse.engine, api, store_id, vault_keeper(vault))
    failing = digital_fulfilment_success_rate(warehouse)
    assert not failing.passed and "dig 0.0%" in failing.description
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.digital_keys SET delivered_at = now(), delivered_via = 'test'"))
        rows = conn.execute(text("SELECT attempted, delivered FROM analytics.digital_fulfilment_daily "
                                 "WHERE store = 'dig'")).all()
    assert [(r.attempted, r.delivered) for r in rows] == [(3, 3)]
    assert digital_fulfilment_success_rate(warehouse).passed


def test_the_scheduled_balance_check_alerts_while_low_and_closes_on_a_top_up(cws, warehouse, vault, tmp_path):
    from dagster import build_schedule_context, instance_for_test

    from marketsync.assets.codeswholesale.balance import codeswholesale_balance
    from marketsync.sensors.schedules import codeswholesale_balance_schedule

    state, base_url = cws
    _shop(warehouse, vault, state, base_url, tmp_path)
    with instance_for_test() as scheduling:  # a schedule's context needs an instance it can refer to
        scheduling.add_dynamic_partitions(codeswholesale_accounts.name, ["dig"])
        tick = datetime.datetime(2026, 12, 6, 9, 5, tzinfo=datetime.UTC)
        requests = codeswholesale_balance_schedule(build_schedule_context(instance=scheduling,
                                                                          scheduled_execution_time=tick))
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(codeswholesale_accounts.name, ["dig"])
    expected_key = f"codeswholesale-balance:dig:{tick.isoformat()}"
    assert [(r.partition_key, r.run_key) for r in requests] == [("dig", expected_key)]
    resources = {"warehouse": warehouse, "vault": vault, "codeswholesale": CodesWholesaleResource(timeout_seconds=5)}

    def check():
        result = materialize([codeswholesale_balance], partition_key="dig", instance=instance, resources=resources)
        assert result.success
        (evaluation,) = result.get_asset_check_evaluations()
        metadata = result.get_asset_materialization_events()[0].event_specific_data.materialization.metadata
        with warehouse.begin() as conn:
            alerts = conn.execute(text("SELECT message FROM ops.alerts WHERE source LIKE 'supplier_balance_low:%' "
                                       "AND closed_at IS NULL")).scalars().all()
        return evaluation.passed, metadata["total_to_use"].value, alerts

    state.set_balance(20, 0)  # below the default threshold of 50
    passed, to_spend, alerts = check()
    assert (passed, to_spend) == (False, 20.0) and len(alerts) == 1 and "20" in alerts[0]
    assert check()[2] == alerts, "still one alert while it stays low"
    state.set_balance(500, 0)
    assert check() == (True, 500.0, [])


def test_two_workers_sourcing_at_once_never_buy_a_unit_that_takes_a_pool_key(cws, warehouse, vault, tmp_path):
    """Worker A takes the pool key of a unit and has not committed; worker B, sourcing the same store at
    that moment, must not see the unit as keyless and buy it too (a key paid for twice): sourcing waits
    for A's commit. (The benchmark's two racing workers found this.)"""
    import threading

    from marketsync.assets.digital.fulfilment import FulfilmentPass, source_units

    state, base_url = cws
    store_id, _orders = _shop(warehouse, vault, state, base_url, tmp_path)
    second: list[FulfilmentPass] = []
    with warehouse.engine.connect() as first_conn:
        with first_conn.begin():
            first = FulfilmentPass()
            source_units(first_conn, store_id, first)  # the pool key goes to the first unit of two_a
            worker = threading.Thread(target=lambda: second.append(_source(warehouse, store_id)))
            worker.start()
            worker.join(1.0)
            assert worker.is_alive(), "the second worker waits for the first one's sourcing to commit"
        worker.join(10)
    assert (first.from_pool, first.purchases_planned) == (1, 2)
    assert (second[0].from_pool, second[0].purchases_planned) == (0, 0), "nothing left to source"
    with warehouse.begin() as conn:
        both = conn.execute(text("""SELECT count(*) FROM ops.digital_keys k JOIN ops.digital_purchases p
                                    USING (order_item_id, unit)""")).scalar_one()
    assert both == 0


def _source(warehouse, store_id):
    from marketsync.assets.digital.fulfilment import FulfilmentPass, source_units

    result = FulfilmentPass()
    with warehouse.begin() as conn:
        source_units(conn, store_id, result)
    return result


def test_a_bought_key_whose_unit_has_another_key_is_kept_spare_and_used_next(cws, warehouse, vault, tmp_path):
    """A key paid for is never thrown away: bought for a unit that has a key by then, it waits unassigned in
    the product's pool, and the next unit of the product (even of a supplier-only product) takes it."""
    from marketsync.assets.digital.keys import assign_pool_key, store_supplier_key
    from marketsync.resources.credentials import DigitalKey

    state, base_url = cws
    store_id, orders = _shop(warehouse, vault, state, base_url, tmp_path)
    with warehouse.begin() as conn:
        b_item, product_id = conn.execute(text(
            "SELECT order_item_id, product_id FROM core.order_items WHERE order_id = :o"), {"o": orders["one_b"]}).one()
        purchase_id = conn.execute(text(
            """INSERT INTO ops.digital_purchases (store_id, order_item_id, unit, client_order_id, supplier_product_id,
                                                  listed_unit_price, status, supplier_order_id)
               VALUES (:s, :i, 1, 'ms-spare-test-0001', 'sp', 1, 'fulfilling', 'CWS-1') RETURNING purchase_id"""),
            {"s": store_id, "i": b_item}).scalar_one()
        first = store_supplier_key(conn, vault, store_id=store_id, product_id=product_id, purchase_id=purchase_id,
                                   order_item_id=b_item, unit=1, key=DigitalKey("FIRST-KEY-0000-AAAA"))
        conn.execute(text("UPDATE ops.digital_keys SET purchase_id = NULL, source = 'pool' WHERE digital_key_id = :k"),
                     {"k": first})  # the unit has a key that is not this purchase's
        spare = store_supplier_key(conn, vault, store_id=store_id, product_id=product_id, purchase_id=purchase_id,
                                   order_item_id=b_item, unit=1, key=DigitalKey("SPARE-KEY-0000-BBBB"))
        row = conn.execute(text("SELECT order_item_id, source FROM ops.digital_keys WHERE digital_key_id = :k"),
                           {"k": spare}).one()
        assert (row.order_item_id, row.source) == (None, "supplier")
        account_id = conn.execute(text("SELECT account_id FROM ops.accounts WHERE store_id = :s AND channel = "
                                       "'letzshop'"), {"s": store_id}).scalar_one()
        _, (next_item,) = add_order(conn, (store_id, account_id), {"sku": "B"})
        assert assign_pool_key(conn, store_id, product_id, next_item, 1, spare_only=True) == spare
