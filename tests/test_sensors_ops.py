"""The operational sensors against a real Dagster instance and the real warehouse: one drain per account
and none when idle, a warehouse outage skipped with one worded line by every sensor, failure alerts that
say store, channel, step and cause once per streak, sync-log rows of killed runs closed."""
import socket
import uuid
from datetime import UTC

import pytest
from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    SkipReason,
    build_run_status_sensor_context,
    build_sensor_context,
)
from sqlalchemy import text

from marketsync.assets import outbound_queue
from marketsync.assets.accounts import upsert_account
from marketsync.resources.warehouse import Warehouse
from marketsync.sensors.jobs import OUTBOUND_ACCOUNT_TAG, outbound_job


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as instance:
        yield instance


def _context(instance, warehouse):
    return build_sensor_context(instance=instance, resources={"warehouse": warehouse})


def _queue_write(warehouse, store, channel):
    with warehouse.begin() as conn:
        account = upsert_account(conn, store, channel)
        outbound_queue.enqueue(conn, account.account_id, "confirm", {"shipment_id": f"S-{store}", "decisions": {}})
    return account


# ---------------------------------------------------------------- outbound
def test_one_drain_per_account_and_none_when_idle(warehouse, instance):
    from marketsync.sensors.outbound import outbound_queue_sensor

    assert "nothing due" in outbound_queue_sensor(_context(instance, warehouse)).skip_message
    one = _queue_write(warehouse, "one", "letzshop")
    two = _queue_write(warehouse, "two", "ebay")
    result = outbound_queue_sensor(_context(instance, warehouse))
    assert sorted(r.tags[OUTBOUND_ACCOUNT_TAG] for r in result.run_requests) == sorted(
        [str(one.account_id), str(two.account_id)])
    # A drain for account one is waiting to start: only account two gets one.
    instance.add_run(DagsterRun(job_name=outbound_job.name, run_id=str(uuid.uuid4()),
                                status=DagsterRunStatus.NOT_STARTED,
                                tags={OUTBOUND_ACCOUNT_TAG: str(one.account_id)}))
    result = outbound_queue_sensor(_context(instance, warehouse))
    assert [r.tags[OUTBOUND_ACCOUNT_TAG] for r in result.run_requests] == [str(two.account_id)]


def test_an_idle_drain_takes_no_api_pool(warehouse, vault, instance):
    """With nothing due only the planning op runs: no channel's drain op (each holds its API pool) starts."""
    from marketsync.resources.amazon_sp_api import AmazonSpApiResource
    from marketsync.resources.ebay import EbayResource
    from marketsync.resources.jtl_ffn import JtlFfnResource
    from marketsync.resources.letzshop import LetzshopResource
    from marketsync.resources.smtp import SmtpResource
    from marketsync.resources.webhook import WebhookResource

    result = outbound_job.execute_in_process(
        instance=instance, tags={OUTBOUND_ACCOUNT_TAG: "1"},
        resources={"warehouse": warehouse, "vault": vault, "letzshop": LetzshopResource(),
                   "jtl_ffn": JtlFfnResource(client_id="", client_secret=""),
                   "ebay": EbayResource(client_id="", client_secret=""),
                   "amazon": AmazonSpApiResource(client_id="", client_secret=""),
                   "email": SmtpResource(), "webhook": WebhookResource()})
    assert result.success
    started = {e.step_key for e in result.all_events if e.event_type == DagsterEventType.STEP_START}
    assert started == {"plan_outbound_drain"}


def test_the_runner_builds_a_configured_client_from_the_environment(warehouse, vault, monkeypatch):
    """`marketsync outbound run` passes no eBay client: with EBAY_CLIENT_ID/SECRET set it is built from them
    (the error is then about the unreachable endpoint, not a missing client)."""
    from marketsync.assets.outbound_runner import drain

    monkeypatch.setenv("EBAY_CLIENT_ID", "id")
    monkeypatch.setenv("EBAY_CLIENT_SECRET", "secret")
    account = _queue_write(warehouse, "bay", "ebay")
    with warehouse.begin() as conn:
        vault.store(conn, account.account_id, {"refresh_token": "t"})
        conn.execute(text("UPDATE ops.accounts SET endpoint = :e WHERE account_id = :a"),
                     {"e": f"http://127.0.0.1:{_closed_port()}", "a": account.account_id})
    results = drain(warehouse, vault, store="bay")
    assert "no eBay client is configured" not in str(results)


# ---------------------------------------------------------------- warehouse down
def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.integration
def test_every_sensor_skips_with_one_worded_line_when_the_warehouse_is_down(instance, caplog):
    from marketsync.pipelines.definitions import defs

    down = Warehouse(database_url=f"postgresql://postgres@127.0.0.1:{_closed_port()}/marketsync")
    repo = defs.get_repository_def()
    checked = []
    for sensor_def in repo.sensor_defs:
        if sensor_def.name in ("catalog_automation_sensor", "run_failure_alert_sensor"):
            continue  # Dagster's own automation sensor; the failure sensor is checked below
        result = sensor_def(build_sensor_context(instance=instance, resources={"warehouse": down}))
        assert isinstance(result, SkipReason), sensor_def.name
        assert result.skip_message.startswith("warehouse unreachable: "), result.skip_message
        assert "\n" not in result.skip_message and "Traceback" not in result.skip_message
        checked.append(sensor_def.name)
    assert len(checked) >= 10


# ---------------------------------------------------------------- failures
def _failed_amazon_run(warehouse, instance, store):
    """A real run of the Amazon orders asset that fails: the account has no credentials."""
    from dagster import materialize

    from marketsync.assets.amazon.orders import amazon_accounts, amazon_orders
    from marketsync.resources.amazon_sp_api import AmazonSpApiResource

    if not instance.has_dynamic_partition(amazon_accounts.name, store):
        instance.add_dynamic_partitions(amazon_accounts.name, [store])
    result = materialize([amazon_orders], partition_key=store, instance=instance, raise_on_error=False,
                         tags={"marketsync/store": store, "marketsync/channel": "amazon", "marketsync/run": "import"},
                         resources={"warehouse": warehouse, "vault": _vault(),
                                    "amazon": AmazonSpApiResource(client_id="app-id", client_secret="s3cret-app")})
    assert not result.success
    return instance.get_run_by_id(result.run_id)


def _vault():
    from cryptography.fernet import Fernet

    from marketsync.resources.vault import CredentialVault

    return CredentialVault(secret_keys=Fernet.generate_key().decode())


def _evaluate_failure_sensor(instance, warehouse, run):
    from marketsync.sensors.failures import run_failure_alert_sensor

    [event] = instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_FAILURE)
    context = build_run_status_sensor_context(sensor_name=run_failure_alert_sensor.name,
                                              dagster_event=event.dagster_event, dagster_instance=instance,
                                              dagster_run=run, resources={"warehouse": warehouse})
    run_failure_alert_sensor(context.for_run_failure())


def test_a_failure_alert_says_store_channel_step_and_cause_once_per_streak(warehouse, instance):
    from marketsync.assets.alerts import record_successful_sync

    with warehouse.begin() as conn:
        account = upsert_account(conn, "zon", "amazon")
    for _ in range(3):
        _evaluate_failure_sensor(instance, warehouse, _failed_amazon_run(warehouse, instance, "zon"))
    with warehouse.begin() as conn:
        [alert] = conn.execute(text("SELECT message, occurrences, account_id, source, store_id FROM ops.alerts")).all()
    assert alert.occurrences == 3 and alert.account_id == account.account_id and alert.store_id == account.store_id
    # Credentials the channel does not accept (here: none stored) are their own condition, for a person.
    assert alert.source == "credential_revoked"
    assert alert.message.startswith("zon/amazon: ")
    assert "core__amazon_orders" in alert.message and "credentials" in alert.message, alert.message
    assert "s3cret-app" not in alert.message and "Traceback" not in alert.message
    with warehouse.begin() as conn:  # the account imported successfully: its next failure is a new streak
        record_successful_sync(conn, account.account_id)
    _evaluate_failure_sensor(instance, warehouse, _failed_amazon_run(warehouse, instance, "zon"))
    with warehouse.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM ops.alerts")).scalar_one() == 2


def test_a_failure_seen_after_the_retry_succeeded_closes_its_alert_at_once(warehouse, instance):
    """The daemon's failure sensor can see an import's failure only after the retry that followed it
    succeeded: the alert is kept (what happened) but closed, so no open alert claims the store is down."""
    with warehouse.begin() as conn:
        account = upsert_account(conn, "zon", "amazon")
    failed = _failed_amazon_run(warehouse, instance, "zon")
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.accounts SET last_synced_at = now() + interval '1 second' "
                          "WHERE account_id = :a"), {"a": account.account_id})
    _evaluate_failure_sensor(instance, warehouse, failed)
    with warehouse.begin() as conn:
        [alert] = conn.execute(text("SELECT closed_at FROM ops.alerts WHERE account_id = :a"),
                               {"a": account.account_id}).all()
    assert alert.closed_at is not None


# ---------------------------------------------------------------- sync log
def test_the_sync_log_row_of_a_killed_run_is_closed(warehouse, instance):
    from marketsync.assets.sync_log import ABANDONED, SyncLog
    from marketsync.sensors.failures import sync_log_sweep_sensor

    with warehouse.begin() as conn:
        account = upsert_account(conn, "shop", "letzshop")
    killed, running = str(uuid.uuid4()), str(uuid.uuid4())
    for run_id, status in ((killed, DagsterRunStatus.CANCELED), (running, DagsterRunStatus.STARTED)):
        instance.add_run(DagsterRun(job_name="letzshop_import_job", run_id=run_id, status=status))
        log = SyncLog(warehouse.engine, "import_orders", "inbound", account_id=account.account_id, run_id=run_id)
        log.__enter__()  # the process dies inside the block: __exit__ never runs
        log.add(processed=7, succeeded=7)
        log.flush()
    result = sync_log_sweep_sensor(_context(instance, warehouse))
    assert "closed 1 sync-log rows" in result.skip_message
    with warehouse.begin() as conn:
        rows = {r.run_id: (r.closed, r.errors, r.records_succeeded) for r in conn.execute(text(
            "SELECT run_id, completed_at IS NOT NULL AS closed, errors, records_succeeded FROM ops.sync_log"))}
    assert rows[killed] == (True, [ABANDONED], 7)  # closed as failed, what it counted kept
    assert rows[running] == (False, [], 7)


def test_a_failed_letzshop_import_counts_what_it_committed(shop):
    """The first page lands, the second is refused for good: the run fails and its sync-log row is
    closed with the first page's units counted (counts are flushed per committed page)."""
    from marketsync.pipelines.run_in_process import run_order_sync
    from marketsync.resources.errors import MarketsyncError

    shop.state.add_fault("slow", seconds=0.01, operation="query")  # the first page: answered normally
    shop.state.add_fault("graphql_invalid", count=5, operation="query")  # then a permanent error
    with pytest.raises(MarketsyncError):
        run_order_sync("shop", ["unconfirmed"], instance=DagsterInstance.ephemeral(),
                       resources={"warehouse": shop.warehouse, "vault": shop.vault, "letzshop": shop.letzshop})
    with shop.warehouse.begin() as conn:
        row = conn.execute(text("SELECT records_processed, completed_at, errors FROM ops.sync_log "
                                "WHERE operation = 'import_orders'")).one()
        landed = conn.execute(text("SELECT count(*) FROM core.order_items")).scalar_one()
    assert row.completed_at is not None and row.errors
    assert row.records_processed == landed > 0


def test_a_drain_runs_only_its_channels_op(shop, instance):
    """A Letzshop write due: the run's Letzshop drain op takes the letzshop_api pool and sends it; no
    other channel's op starts."""
    from marketsync.resources.amazon_sp_api import AmazonSpApiResource
    from marketsync.resources.ebay import EbayResource
    from marketsync.resources.jtl_ffn import JtlFfnResource
    from marketsync.resources.smtp import SmtpResource
    from marketsync.resources.webhook import WebhookResource

    with shop.warehouse.begin() as conn:
        outbound_queue.enqueue(conn, shop.account.account_id, "set_tracking",
                               {"shipment_id": "no-such-shipment", "code": "T1", "provider": "greco"})
    result = outbound_job.execute_in_process(
        instance=instance, tags={OUTBOUND_ACCOUNT_TAG: str(shop.account.account_id)},
        resources={"warehouse": shop.warehouse, "vault": shop.vault, "letzshop": shop.letzshop,
                   "jtl_ffn": JtlFfnResource(client_id="", client_secret=""),
                   "ebay": EbayResource(client_id="", client_secret=""),
                   "amazon": AmazonSpApiResource(client_id="", client_secret=""),
                   "email": SmtpResource(), "webhook": WebhookResource()})
    started = {e.step_key for e in result.all_events if e.event_type == DagsterEventType.STEP_START}
    assert started == {"plan_outbound_drain", "drain_letzshop_outbound"}
    with shop.warehouse.begin() as conn:
        attempts = conn.execute(text("SELECT attempts FROM ops.outbound_queue")).scalar_one()
    assert attempts >= 1


@pytest.mark.integration
def test_schedules_skip_with_one_worded_line_when_the_warehouse_is_down():
    from datetime import datetime

    from dagster import build_schedule_context

    from marketsync.sensors.schedules import schedules

    down = Warehouse(database_url=f"postgresql://postgres@127.0.0.1:{_closed_port()}/marketsync")
    reading = [s for s in schedules if "warehouse" in s.required_resource_keys]
    assert reading, "no schedule reads the warehouse: this test proves nothing"
    for schedule_def in reading:
        # (no instance: the warehouse is read first, and a tick that cannot read it needs none; schedules
        # that only read Dagster's own partitions never touch the warehouse)
        result = schedule_def(build_schedule_context(
            resources={"warehouse": down}, scheduled_execution_time=datetime(2026, 12, 5, 3, 15, tzinfo=UTC)))
        assert isinstance(result, SkipReason) and result.skip_message.startswith("warehouse unreachable: ")
