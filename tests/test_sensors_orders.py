"""The order sensors against a real Dagster instance and the real warehouse: every new order of every store
and channel is followed up whatever the commit order, one store's state never stops another's, one
follow-up per import batch, at most one import per account queued or running, failed imports retried
with a bounded backoff, partitions only for enabled and configured accounts."""
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from dagster import DagsterInstance, DagsterRun, DagsterRunStatus, build_sensor_context
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.sensors.jobs import ORDER_CHANNELS

# A run the daemon created for a request and has not launched yet. (QUEUED itself needs a code location
# origin that only a workspace gives; the sensors treat NOT_STARTED, QUEUED, STARTING, STARTED alike.)
WAITING = DagsterRunStatus.NOT_STARTED
CLIENT_ENV = ("EBAY_CLIENT_ID", "EBAY_CLIENT_SECRET", "AMAZON_LWA_CLIENT_ID", "AMAZON_LWA_CLIENT_SECRET",
              "JTL_FFN_CLIENT_ID", "JTL_FFN_CLIENT_SECRET")


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as instance:
        yield instance


def _context(instance, warehouse, cursor=None):
    return build_sensor_context(instance=instance, cursor=cursor, resources={"warehouse": warehouse})


def _account(warehouse, instance, store, channel="letzshop", partition=True, **settings):
    with warehouse.begin() as conn:
        account = upsert_account(conn, store, channel, settings=settings or None)
    if partition:
        instance.add_dynamic_partitions(ORDER_CHANNELS[channel].partitions.name, [store])
    return account


def _order(conn, account, number, state="unconfirmed"):
    return conn.execute(text(
        """INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id,
                                    order_number, channel_state, source_payload_sha)
           VALUES (:s, :a, :c, :n, :n, :n, :st, 'x') RETURNING order_id"""),
        {"s": account.store_id, "a": account.account_id, "c": account.channel, "n": number, "st": state}).scalar_one()


def _add_run(instance, job_name, store, channel, kind, status, run_id=None):
    run = DagsterRun(job_name=job_name, run_id=run_id or str(uuid.uuid4()), status=status,
                     tags={"marketsync/store": store, "marketsync/channel": channel, "marketsync/run": kind,
                           "dagster/partition": store})
    instance.add_run(run)
    return run


def _follow_up(warehouse, instance, store, channel="letzshop"):
    """Run the account's follow-up job's assets in process, as the daemon would."""
    from marketsync.assets.amazon.orders import amazon_assets
    from marketsync.assets.ebay.orders import ebay_assets
    from marketsync.assets.letzshop.orders import letzshop_assets
    from marketsync.pipelines.run_in_process import run_assets

    assets = {"letzshop": letzshop_assets[1:], "amazon": amazon_assets[1:], "ebay": ebay_assets[1:]}[channel]
    return run_assets(assets, ORDER_CHANNELS[channel].partitions, store, instance=instance,
                      resources={"warehouse": warehouse})


def _skip(result) -> str:
    """A tick's skip message, whether it returned a SkipReason or a SensorResult with one."""
    reason = getattr(result, "skip_reason", result)
    return reason.skip_message if reason is not None else ""


def _requests(result) -> list:
    return list(getattr(result, "run_requests", None) or [])


def _waiting(warehouse):
    with warehouse.begin() as conn:
        return dict(conn.execute(text("SELECT order_number, followed_up_at IS NOT NULL FROM core.orders")).all())


def test_out_of_order_commits_of_two_stores_are_all_followed_up(warehouse, instance):
    from marketsync.sensors.new_orders import new_orders_sensor

    a = _account(warehouse, instance, "a-store")
    b = _account(warehouse, instance, "b-store")
    # Store A's import takes its order ids first but commits after store B's import committed higher ones.
    slow = warehouse.engine.connect()
    slow.begin()
    a_low = _order(slow, a, "A1")
    with warehouse.begin() as conn:
        b_high = _order(conn, b, "B1")
    assert a_low < b_high
    first = new_orders_sensor(_context(instance, warehouse))
    assert [(r.job_name, r.partition_key) for r in first.run_requests] == [("letzshop_order_followup_job", "b-store")]
    _follow_up(warehouse, instance, "b-store")
    slow.commit()
    slow.close()
    second = new_orders_sensor(_context(instance, warehouse))
    assert [r.partition_key for r in second.run_requests] == ["a-store"]
    assert second.run_requests[0].run_key == f"followup:letzshop:a-store:{a_low}:1"
    _follow_up(warehouse, instance, "a-store")
    assert _waiting(warehouse) == {"A1": True, "B1": True}
    assert "no order waits" in _skip(new_orders_sensor(_context(instance, warehouse)))


def test_a_removed_store_does_not_stop_the_others(warehouse, instance):
    from marketsync.sensors.new_orders import new_orders_sensor

    gone = _account(warehouse, instance, "gone", partition=False)  # its partition was removed
    kept = _account(warehouse, instance, "kept")
    with warehouse.begin() as conn:
        _order(conn, gone, "G1")
        _order(conn, kept, "K1")
    result = new_orders_sensor(_context(instance, warehouse))
    assert [r.partition_key for r in result.run_requests] == ["kept"]


def test_one_follow_up_per_import_batch_never_during_the_import(warehouse, instance):
    from marketsync.sensors.new_orders import new_orders_sensor

    account = _account(warehouse, instance, "shop")
    importing = _add_run(instance, "letzshop_import_job", "shop", "letzshop", "import", DagsterRunStatus.STARTED)
    with warehouse.begin() as conn:
        first_page = [_order(conn, account, f"R{n}") for n in range(3)]
    tick = new_orders_sensor(_context(instance, warehouse))
    assert tick.run_requests == [] and "still importing" in _skip(tick)
    with warehouse.begin() as conn:
        second_page = [_order(conn, account, f"R{n}") for n in range(3, 5)]
    assert new_orders_sensor(_context(instance, warehouse)).run_requests == []
    instance.report_run_canceled(importing)  # the import ended (however): its whole batch is followed up once
    ticks = [new_orders_sensor(_context(instance, warehouse)) for _ in range(3)]
    keys = {r.run_key for t in ticks for r in t.run_requests}
    assert keys == {f"followup:letzshop:shop:{max(first_page + second_page)}:5"}
    # Once the follow-up is queued no other is requested, whatever the run key.
    _add_run(instance, "letzshop_order_followup_job", "shop", "letzshop", "followup", WAITING)
    assert new_orders_sensor(_context(instance, warehouse)).run_requests == []


@pytest.mark.parametrize("channel,state", [("amazon", "Unshipped"), ("ebay", "NOT_STARTED")])
def test_amazon_and_ebay_orders_are_followed_up(warehouse, instance, channel, state):
    from marketsync.sensors.new_orders import new_orders_sensor

    account = _account(warehouse, instance, "multi", channel)
    with warehouse.begin() as conn:
        order_id = _order(conn, account, f"{channel}-1", state)
        conn.execute(text("INSERT INTO core.order_items (order_id, channel_item_id, sku, channel_state) "
                          "VALUES (:o, 'l1', 'SKU-1', :st)"),
                     {"o": order_id, "st": state})
        conn.execute(text("INSERT INTO core.products (store_id, sku) VALUES (:s, 'SKU-1')"), {"s": account.store_id})
    [request] = new_orders_sensor(_context(instance, warehouse)).run_requests
    assert request.job_name == f"{channel}_order_followup_job" and request.partition_key == "multi"
    result = _follow_up(warehouse, instance, "multi", channel)
    assert result[f"{channel}_auto_confirmations.auto_confirm"] == "not applicable"
    assert "nothing to confirm" in result[f"{channel}_auto_confirmations.reason"]
    with warehouse.begin() as conn:
        assert conn.execute(text("SELECT match_status FROM core.order_items")).scalar_one() == "matched"
    assert _waiting(warehouse) == {f"{channel}-1": True}


# ---------------------------------------------------------------- auto-sync
def test_every_channel_is_imported_on_its_interval_and_never_twice_while_queued(warehouse, instance):
    from marketsync.sensors.auto_sync import order_auto_sync_sensor

    for channel in ("letzshop", "amazon", "ebay"):
        _account(warehouse, instance, "shop", channel)
    _add_run(instance, "ebay_import_job", "shop", "ebay", "import", WAITING)
    result = order_auto_sync_sensor(_context(instance, warehouse))
    assert sorted((r.job_name, r.partition_key) for r in result.run_requests) == [
        ("amazon_import_job", "shop"), ("letzshop_import_job", "shop")]
    assert all(r.tags["marketsync/store"] == "shop" and r.tags["marketsync/run"] == "import"
               for r in result.run_requests)
    for request in result.run_requests:  # the daemon queued them
        _add_run(instance, request.job_name, "shop", request.tags["marketsync/channel"], "import",
                 WAITING)
    # A slow queue: ticks later, in new interval slots, still nothing more is requested.
    again = order_auto_sync_sensor(_context(instance, warehouse))
    assert again.run_requests == [] and "3 queued or running" in _skip(again)


def test_a_recent_sync_waits_for_its_interval(warehouse, instance):
    from marketsync.sensors.auto_sync import order_auto_sync_sensor

    _account(warehouse, instance, "fresh", sync_interval_minutes=60)
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.accounts SET last_synced_at = now() - interval '10 minutes'"))
    assert order_auto_sync_sensor(_context(instance, warehouse)).run_requests == []
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.accounts SET last_synced_at = now() - interval '61 minutes'"))
    [request] = order_auto_sync_sensor(_context(instance, warehouse)).run_requests
    assert request.run_key.startswith("letzshop-sync:fresh:")


def test_a_failed_import_is_retried_with_a_bounded_backoff(warehouse, instance, monkeypatch):
    import marketsync.sensors.auto_sync as auto_sync

    _account(warehouse, instance, "flaky", sync_interval_minutes=1440)
    with warehouse.begin() as conn:  # synced an hour ago: the next slot is a day away
        conn.execute(text("UPDATE ops.accounts SET last_synced_at = now() - interval '1 hour'"))
    failed = _add_run(instance, "letzshop_import_job", "flaky", "letzshop", "import", DagsterRunStatus.STARTED)
    instance.report_run_failed(failed)
    real_now = datetime.now(UTC)

    def tick(minutes_later):
        monkeypatch.setattr(auto_sync, "utcnow", lambda: real_now + timedelta(minutes=minutes_later))
        return auto_sync.order_auto_sync_sensor(_context(instance, warehouse))

    assert tick(1).run_requests == []  # first retry after 2 minutes
    [retry] = tick(3).run_requests
    assert retry.run_key == f"letzshop-sync:flaky:retry:{failed.run_id}"
    second = _add_run(instance, "letzshop_import_job", "flaky", "letzshop", "import", DagsterRunStatus.STARTED)
    instance.report_run_failed(second)
    assert tick(3).run_requests == []  # two failures in a row: 4 minutes
    assert [r.run_key for r in tick(5).run_requests] == [f"letzshop-sync:flaky:retry:{second.run_id}"]
    assert auto_sync.retry_wait(10) == timedelta(minutes=30)  # bounded
    with warehouse.begin() as conn:  # the retry succeeded: the streak is over, the daily interval rules again
        conn.execute(text("UPDATE ops.accounts SET last_synced_at = :t"), {"t": real_now + timedelta(minutes=6)})
    assert tick(7).run_requests == []


# ---------------------------------------------------------------- partitions
def test_partitions_follow_enabled_and_configured_accounts(warehouse, vault, instance, monkeypatch):
    from marketsync.sensors.partitions import account_partitions_sensor

    for name in CLIENT_ENV:
        monkeypatch.delenv(name, raising=False)
    with warehouse.begin() as conn:
        for store, channel in [("lz", "letzshop"), ("zon", "amazon"), ("bay", "ebay"), ("ffn", "jtl_ffn"),
                               ("nokey", "letzshop"), ("off", "letzshop")]:
            account = upsert_account(conn, store, channel)
            if store != "nokey":
                vault.store(conn, account.account_id, {"api_key": "k"})
        conn.execute(text("UPDATE ops.accounts SET enabled = false WHERE store_id = "
                          "(SELECT store_id FROM ops.stores WHERE code = 'off')"))
    instance.add_dynamic_partitions("letzshop_accounts", ["off", "deleted"])
    result = account_partitions_sensor(_context(instance, warehouse))
    changes = {(type(r).__name__, r.partitions_def_name): sorted(r.partition_keys)
               for r in result.dynamic_partitions_requests}
    assert changes == {("AddDynamicPartitionsRequest", "letzshop_accounts"): ["lz"],
                       ("DeleteDynamicPartitionsRequest", "letzshop_accounts"): ["deleted", "off"]}
    monkeypatch.setenv("EBAY_CLIENT_ID", "id")
    monkeypatch.setenv("EBAY_CLIENT_SECRET", "secret")
    result = account_partitions_sensor(_context(instance, warehouse))
    assert {(r.partitions_def_name, tuple(r.partition_keys)) for r in result.dynamic_partitions_requests
            if type(r).__name__ == "AddDynamicPartitionsRequest"} == {("letzshop_accounts", ("lz",)),
                                                                     ("ebay_accounts", ("bay",))}


def test_a_fleet_due_at_once_is_requested_over_ticks_longest_waiting_first(warehouse, instance, monkeypatch):
    """A tick requests at most MARKETSYNC_SENSOR_MAX_RUNS runs (Dagster submits each inside the tick,
    which must end within 60 s); what does not fit stays due and the next ticks request it, none twice."""
    from marketsync.sensors.auto_sync import order_auto_sync_sensor
    from marketsync.sensors.new_orders import new_orders_sensor

    monkeypatch.setenv("MARKETSYNC_SENSOR_MAX_RUNS", "2")
    monkeypatch.setenv("MARKETSYNC_FLEET_BATCH", "0")  # a run per store (tests/test_fleet_sync.py: fleets)
    accounts = [_account(warehouse, instance, f"s{n}") for n in range(5)]
    with warehouse.begin() as conn:
        # s3 has waited longest since its last sync, then s1; the others never synced (first of all).
        conn.execute(text("UPDATE ops.accounts SET last_synced_at = now() - interval '3 hours' "
                          "WHERE account_id = :a"), {"a": accounts[3].account_id})
        conn.execute(text("UPDATE ops.accounts SET last_synced_at = now() - interval '2 hours' "
                          "WHERE account_id = :a"), {"a": accounts[1].account_id})
    cursor, ticks = None, []
    for _ in range(4):
        result = order_auto_sync_sensor(_context(instance, warehouse, cursor))
        cursor = result.cursor
        ticks.append([r.partition_key for r in result.run_requests])
    assert [len(t) for t in ticks] == [2, 2, 1, 0]
    assert sorted(ticks[0]) == ["s0", "s2"] and ticks[1] == ["s4", "s3"] and ticks[2] == ["s1"]

    with warehouse.begin() as conn:
        for n, account in enumerate(accounts):
            _order(conn, account, f"R{n}")
    seen = []
    for _ in range(3):
        requested = _requests(new_orders_sensor(_context(instance, warehouse)))
        assert len(requested) <= 2
        seen += [r.partition_key for r in requested]
        for request in requested:  # their follow-ups ran
            _follow_up(warehouse, instance, request.partition_key)
    assert sorted(seen) == [f"s{n}" for n in range(5)]
    assert all(_waiting(warehouse).values())
