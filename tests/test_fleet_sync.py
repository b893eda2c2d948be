"""Fleet sync: routine polling of many stores in one run, each store on its own. A batch of 20 Letzshop
stores on the simulator with one store's key revoked, one store answered 429 by its own (second)
simulator and one store removed while its batch waits: the others land exactly once, each partition is
materialised with its own metadata, the failed stores are retried alone (their own import runs, whose
failure their partition shows), and nothing is imported twice."""
import time

import pytest
from dagster import AssetKey, DagsterInstance, build_sensor_context
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.sandbox.letzshop.state import Fault
from marketsync.sensors.jobs import ORDER_CHANNELS

STORES = [f"fleet{n:02d}" for n in range(20)]
ORDERS = AssetKey(["core", "letzshop_orders"])
RAW = AssetKey(["raw", "letzshop_shipments"])
MATCHES = AssetKey(["core", "letzshop_order_matches"])


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as instance:
        yield instance


@pytest.fixture
def throttled_sim():
    """A second Letzshop simulator that answers every call 429, for one store of the fleet."""
    from marketsync.sandbox.http import serve_in_thread
    from marketsync.sandbox.letzshop.app import create_app
    from marketsync.sandbox.letzshop.state import LetzshopState

    state = LetzshopState(seed=3, size=5, api_keys=("throttled-key",))
    with serve_in_thread(create_app(state)) as server:
        yield state, f"{server.base_url}/graphql"


def _fleet(warehouse, vault, instance, letzshop_sim, throttled_sim):
    """20 stores on the simulator, each with its own key; fleet05's key is revoked, fleet07 is on the
    throttled simulator."""
    state, endpoint = letzshop_sim
    state.reset(seed=11, size=6)
    with warehouse.begin() as conn:
        for store in STORES:
            key = f"key-{store}"
            state.add_key(key)
            account = upsert_account(conn, store, "letzshop",
                                     throttled_sim[1] if store == "fleet07" else endpoint,
                                     {"page_size": 50, "request_timeout_seconds": 2})
            vault.store(conn, account.account_id, {"api_key": "throttled-key" if store == "fleet07" else key})
    state.revoke_key("key-fleet05")
    instance.add_dynamic_partitions(ORDER_CHANNELS["letzshop"].partitions.name, STORES)


def _resources(warehouse, vault):
    from marketsync.resources.letzshop import LetzshopResource

    return {"warehouse": warehouse, "vault": vault,
            "letzshop": LetzshopResource(timeout_seconds=2, max_retry_wait_seconds=0.1)}


def _tick(instance, warehouse, cursor=None):
    from marketsync.sensors.auto_sync import order_auto_sync_sensor

    return order_auto_sync_sensor(build_sensor_context(instance=instance, cursor=cursor,
                                                       resources={"warehouse": warehouse}))


def _orders_per_store(warehouse) -> dict[str, int]:
    with warehouse.begin() as conn:
        return dict(conn.execute(text(
            "SELECT s.code, count(*) FROM core.orders o JOIN ops.stores s USING (store_id) GROUP BY s.code")).all())


def _run_fleet(request, instance, warehouse, vault):
    from marketsync.sensors.fleet import FLEET_JOBS

    job = FLEET_JOBS["letzshop"].job
    return job.execute_in_process(run_config=request.run_config, instance=instance, tags=request.tags,
                                  resources=_resources(warehouse, vault), raise_on_error=False)


def test_a_batch_of_20_stores_lands_19_and_retries_the_failing_ones_alone(
        warehouse, vault, instance, letzshop_sim, throttled_sim, monkeypatch):
    from marketsync.pipelines.run_in_process import run_order_sync
    from marketsync.sensors.fleet import FLEET_JOBS

    monkeypatch.setenv("MARKETSYNC_IMPORT_FIRST_RETRY_SECONDS", "1")
    monkeypatch.setenv("MARKETSYNC_FLEET_STORE_CONCURRENCY", "4")
    throttled_sim[0].faults.append(Fault("http_429", count=10_000, retry_after=0.05))
    _fleet(warehouse, vault, instance, letzshop_sim, throttled_sim)
    # One tick: the 20 due stores are one fleet run, not 20 runs.
    first = _tick(instance, warehouse)
    [request] = first.run_requests
    assert request.job_name == "letzshop_fleet_sync_job"
    assert sorted(FLEET_JOBS["letzshop"].stores_of(request.run_config)) == STORES
    assert request.tags["marketsync/run"] == "fleet"
    # A re-evaluated tick requests nothing more: the batch's slots are in the cursor.
    assert _tick(instance, warehouse, first.cursor).run_requests == []

    # fleet11 is removed while its batch waits in the queue.
    with warehouse.begin() as conn:
        conn.execute(text("DELETE FROM ops.accounts WHERE account_id = (SELECT a.account_id FROM ops.accounts a "
                          "JOIN ops.stores s USING (store_id) WHERE s.code = 'fleet11')"))
    result = _run_fleet(request, instance, warehouse, vault)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.user_failure_data.description
    assert message.startswith("3 of 20 Letzshop stores failed")
    assert "fleet05" in message and "fleet07" in message and "fleet11" in message
    assert "key-fleet05" not in message  # the key is never quoted

    landed = _orders_per_store(warehouse)
    good = [s for s in STORES if s not in ("fleet05", "fleet07", "fleet11")]
    assert sorted(landed) == good and set(landed.values()) == {6}
    # Each good store's partitions are materialised with its own metadata; the failed ones are not.
    for key in (RAW, ORDERS, MATCHES):
        assert instance.get_materialized_partitions(key) == set(good)
    event = instance.get_latest_materialization_event(ORDERS)
    assert event.asset_materialization.metadata["orders_created"].value == 6
    with warehouse.begin() as conn:
        log = dict(conn.execute(text(
            "SELECT s.code, l.failed FROM ops.sync_log l JOIN ops.accounts a USING (account_id) "
            "JOIN ops.stores s USING (store_id) WHERE l.operation = 'import_orders'")).all())
        followed = conn.execute(text("SELECT count(*) FROM core.orders WHERE followed_up_at IS NULL")).scalar_one()
    assert log["fleet05"] is True and log["fleet07"] is True and len(log) == 19
    assert {log[s] for s in good} == {False}
    assert followed == 0  # the batch followed its stores' orders up too

    # After the backoff, the failed stores (those still configured) are retried alone, each as its own
    # import run; the removed store is not.
    time.sleep(1.2)
    retries = _tick(instance, warehouse, first.cursor).run_requests
    assert sorted((r.job_name, r.partition_key) for r in retries) == [
        ("letzshop_import_job", "fleet05"), ("letzshop_import_job", "fleet07")]
    assert all(r.run_key.endswith(f":retry:{result.run_id}") for r in retries)
    # fleet05's key is still revoked: its own run fails, and its partition shows the failure.
    with pytest.raises(Exception, match="refused the API key"):
        run_order_sync("fleet05", ["unconfirmed"], instance=instance, resources=_resources(warehouse, vault))
    status = instance.get_status_by_partition(ORDERS, ["fleet05", "fleet06"],
                                              ORDER_CHANNELS["letzshop"].partitions)
    assert status["fleet05"].value == "FAILED" and status["fleet06"].value == "MATERIALIZED"

    # Running the same batch again (a re-execution) imports nothing twice.
    again = _run_fleet(request, instance, warehouse, vault)
    assert not again.success
    assert _orders_per_store(warehouse) == landed


def test_batches_are_bounded_per_channel_and_per_tick(warehouse, instance, monkeypatch):
    """12 Letzshop and 3 eBay stores due, batches of 5, two runs a tick: the Letzshop stores go in fleets
    of at most 5 over the ticks, the 3 eBay stores (fewer than MARKETSYNC_FLEET_MIN_STORES) each in its
    own run; every store is requested once and the run keys are stable."""
    from marketsync.sensors.fleet import FLEET_JOBS

    monkeypatch.setenv("MARKETSYNC_FLEET_BATCH", "5")
    monkeypatch.setenv("MARKETSYNC_SENSOR_MAX_RUNS", "2")
    monkeypatch.setenv("EBAY_CLIENT_ID", "x")
    monkeypatch.setenv("EBAY_CLIENT_SECRET", "x")
    with warehouse.begin() as conn:
        for n in range(12):
            upsert_account(conn, f"lz{n:02d}", "letzshop")
        for n in range(3):
            upsert_account(conn, f"eb{n}", "ebay")
    instance.add_dynamic_partitions("letzshop_accounts", [f"lz{n:02d}" for n in range(12)])
    instance.add_dynamic_partitions("ebay_accounts", [f"eb{n}" for n in range(3)])
    cursor, seen, sizes = None, [], []
    for _ in range(6):
        result = _tick(instance, warehouse, cursor)
        cursor = result.cursor
        assert len(result.run_requests) <= 2
        for request in result.run_requests:
            if request.job_name == "letzshop_fleet_sync_job":
                stores = FLEET_JOBS["letzshop"].stores_of(request.run_config)
                sizes.append(len(stores))
                seen += stores
            else:
                assert request.job_name in ("letzshop_import_job", "ebay_import_job")
                sizes.append(1)
                seen.append(request.partition_key)
    assert sorted(seen) == sorted([f"lz{n:02d}" for n in range(12)] + ["eb0", "eb1", "eb2"])
    assert max(sizes) == 5
    # The same due batch gets the same run key, whichever tick asks for it.
    from marketsync.sensors.auto_sync import order_auto_sync_sensor

    monkeypatch.setenv("MARKETSYNC_SENSOR_MAX_RUNS", "10")
    keys = [[r.run_key for r in order_auto_sync_sensor(
        build_sensor_context(instance=instance, resources={"warehouse": warehouse})).run_requests] for _ in range(2)]
    assert keys[0] == keys[1] and any(key.startswith("letzshop-fleet:") for key in keys[0])


def test_postgres_connections_cut_mid_batch_lose_nothing_and_duplicate_nothing(
        warehouse, vault, instance, letzshop_sim, throttled_sim, monkeypatch):
    """Every connection to the warehouse is cut (what a Postgres restart does to its clients) while a
    batch of 20 stores runs: each store whose work was cut fails alone and is retried alone; in the end
    every store holds its orders exactly once."""
    import threading

    from marketsync.pipelines.run_in_process import run_order_sync
    from marketsync.sensors.fleet import FLEET_JOBS

    monkeypatch.setenv("MARKETSYNC_FLEET_STORE_CONCURRENCY", "2")
    _fleet(warehouse, vault, instance, letzshop_sim, throttled_sim)
    state = letzshop_sim[0]
    state.add_key("key-fleet05")  # every store can work here; only the cut connections fail them
    with warehouse.begin() as conn:
        account = conn.execute(text("SELECT a.account_id FROM ops.accounts a JOIN ops.stores s USING (store_id) "
                                    "WHERE s.code = 'fleet07'")).scalar_one()
        conn.execute(text("UPDATE ops.accounts SET endpoint = :e WHERE account_id = :a"),
                     {"e": letzshop_sim[1], "a": account})
        vault.store(conn, account, {"api_key": "key-fleet07"})
    state.add_key("key-fleet07")

    cut = threading.Event()

    def cut_when_half_done() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with warehouse.engine.connect() as conn:
                synced = conn.execute(text("SELECT count(*) FROM ops.accounts WHERE last_synced_at IS NOT NULL")
                                      ).scalar_one()
                if synced >= 6:
                    conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                      "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
                    conn.commit()
                    cut.set()
                    return
            time.sleep(0.02)

    cutter = threading.Thread(target=cut_when_half_done)
    cutter.start()
    fleet = FLEET_JOBS["letzshop"]
    result = fleet.job.execute_in_process(run_config=fleet.run_config(STORES), instance=instance,
                                          resources=_resources(warehouse, vault), raise_on_error=False)
    cutter.join()
    assert cut.is_set(), "the connections were never cut"
    landed = _orders_per_store(warehouse)
    assert len(landed) >= 6 and all(n == 6 for n in landed.values())  # what landed is whole, never doubled
    if not result.success:  # the run names the stores the cut failed
        [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        assert "Letzshop stores failed" in failure.step_failure_data.user_failure_data.description
    for store in STORES:  # the retries (each store alone), and a repeat of those that had landed
        run_order_sync(store, ["unconfirmed"], instance=instance, resources=_resources(warehouse, vault))
    assert _orders_per_store(warehouse) == dict.fromkeys(STORES, 6)
    with warehouse.begin() as conn:  # every store holds the same shipments' units, none lost or doubled
        units = conn.execute(text("SELECT count(*) FROM core.order_items i JOIN core.orders o USING (order_id) "
                                  "GROUP BY o.account_id")).scalars().all()
    assert len(units) == 20 and len(set(units)) == 1 and units[0] >= 6
