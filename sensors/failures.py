"""Failed runs become alerts in ops.alerts, where the CLI (`marketsync logs`) and on-call look, saying
which store, channel and asset failed and the step's own worded error; a store account that keeps failing
raises one alert per failure streak (assets/alerts.py). A sweep closes the sync-log rows of runs that
ended without completing them (killed or crashed runs)."""

from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunsFilter,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from marketsync.assets.alerts import CREDENTIAL_REVOKED, RUN_FAILURE, close_if_synced_since, raise_alert
from marketsync.assets.failures import CREDENTIAL_KINDS, ERROR_KIND
from marketsync.assets.stores import find_store_id
from marketsync.assets.sync_log import close_abandoned, open_run_ids
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside
from marketsync.resources.warehouse import Warehouse
from marketsync.sensors.guard import warehouse_guard
from marketsync.sensors.jobs import CHANNEL_TAG, OUTBOUND_ACCOUNT_TAG, RUN_KIND_TAG
from marketsync.sensors.runs import run_slot

STOCK_CHANNEL_TAG = "marketsync/stock_channel"  # "<store>.<channel>" (assets/stock/settings.py)
ENDED = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]


def _worded_classes() -> set[str]:
    """Exception classes whose text is written for people and free of secrets: ours, and Dagster's
    Failure (we raise it with a worded description)."""
    names, todo = {"Failure"}, [MarketsyncError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names


def worded_cause(failure_data) -> str:
    """The step's own error in words: a Failure's description, our errors' text; for anything else only
    its type (its text is not vetted for secrets; the details stay in the run's log)."""
    if failure_data.user_failure_data is not None and failure_data.user_failure_data.description:
        return first_line_of(failure_data.user_failure_data.description)
    worded = _worded_classes()
    error = failure_data.error
    while error is not None:
        if error.cls_name in worded:
            # format_exception_only: "<module.Class>: <text>"; keep the text.
            head = first_line_of(error.message)
            prefix, sep, rest = head.partition(": ")
            return rest if sep and prefix.split(".")[-1] == error.cls_name else head
        if error.cause is None:
            return f"unexpected {error.cls_name} (details in the run's log)"
        error = error.cause
    return "the step failed (details in the run's log)"


def first_line_of(message: str) -> str:
    return next((line.strip() for line in message.splitlines() if line.strip()), message)[:500]


def step_failures(instance: DagsterInstance, run_id: str) -> list[tuple[str, str]]:
    """(step key, worded cause) of each failed step of the run, from its event log."""
    return [(step, cause) for step, cause, _ in classified_step_failures(instance, run_id)]


def classified_step_failures(instance: DagsterInstance, run_id: str) -> list[tuple[str, str, str | None]]:
    """(step key, worded cause, the client's error kind when the step said it) of each failed step."""
    failures = []
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE):
        event = entry.dagster_event
        data = event.step_failure_data.user_failure_data
        kind = data.metadata.get(ERROR_KIND) if data is not None and data.metadata else None
        failures.append((event.step_key, worded_cause(event.step_failure_data),
                         getattr(kind, "value", None) if kind is not None else None))
    return failures


def _account(conn, run) -> tuple[int | None, str | None, str | None]:
    """(account id, store, channel) the run worked for, from its tags."""
    tags = run.tags
    if tags.get(OUTBOUND_ACCOUNT_TAG):
        row = conn.execute(query_beside(__file__, "account_by_id.sql"),
                           {"a": int(tags[OUTBOUND_ACCOUNT_TAG])}).first()
        return tuple(row) if row else (None, None, None)
    slot = run_slot(tags, run.job_name)
    store, channel = (slot[2], slot[1]) if slot else (None, tags.get(CHANNEL_TAG))
    if "." in tags.get(STOCK_CHANNEL_TAG, ""):
        store, channel = tags[STOCK_CHANNEL_TAG].rsplit(".", 1)
    if store is None and tags.get("dagster/partition"):
        store = tags["dagster/partition"]
    if store is None or channel is None:
        return None, store, channel
    account_id = conn.execute(query_beside(__file__, "account_id_by_store_channel.sql"),
                              {"s": store, "c": channel}).scalar()
    return account_id, store, channel


def alert_message(run, store: str | None, channel: str | None, failures: list[tuple[str, str]],
                  fallback: str) -> str:
    where = "/".join(p for p in (store, channel) if p) or "no store"
    assets = ", ".join(k.to_user_string() for k in sorted(run.asset_selection or [], key=str))
    if failures:
        causes = "; ".join(f"step {step}: {cause}" for step, cause in failures[:5])
    else:
        causes = first_line_of(fallback)
    return f"{where}: {run.job_name} failed" + (f" (assets {assets})" if assets else "") + f": {causes}"


@run_failure_sensor(default_status=DefaultSensorStatus.RUNNING, monitor_all_code_locations=False,
                    description="Turns each failed run into an alert saying store, channel, asset and the step's "
                                "worded error; one alert per failure streak of a store account.")
@warehouse_guard
def run_failure_alert_sensor(context: RunFailureSensorContext, warehouse: Warehouse):
    """Never a secret in the alert: a step error's text is kept only when we worded it (Failure,
    MarketsyncError); anything else is named by its type."""
    run = context.dagster_run
    classified = classified_step_failures(context.instance, run.run_id)
    failures = [(step, cause) for step, cause, _ in classified]
    # Credentials the channel no longer accepts are their own condition: no retry or later run clears
    # them, a person must authorise again.
    revoked = any(kind in CREDENTIAL_KINDS for _, _, kind in classified)
    with warehouse.begin() as conn:
        account_id, store, channel = _account(conn, run)
        message = alert_message(run, store, channel, failures, context.failure_event.message or "run failed")
        store_id = None if account_id is not None or store is None else find_store_id(conn, store)
        opened = raise_alert(conn, message, source=CREDENTIAL_REVOKED if revoked else RUN_FAILURE, run_id=run.run_id,
                             job_name=run.job_name, account_id=account_id, store_id=store_id)
        # The daemon may see an import's failure only after the retry that followed it succeeded: then
        # the streak is already over, and the alert is closed at once.
        recovered = False
        if account_id is not None and run.tags.get(RUN_KIND_TAG) == "import":
            record = context.instance.get_run_record_by_id(run.run_id)
            recovered = bool(record and record.end_time) and close_if_synced_since(conn, account_id, record.end_time)
        close_abandoned(conn, [run.run_id], reason=f"run failed: {message}"[:500])
    if recovered:
        context.log.warning(f"(already recovered: a later import succeeded) {message}")
    else:
        context.log.error(message if opened else f"(failure streak continues) {message}")


@sensor(minimum_interval_seconds=120, default_status=DefaultSensorStatus.RUNNING,
        description="Closes the sync-log rows of runs that ended without completing them (killed or crashed "
                    "runs), marking them failed.")
@warehouse_guard
def sync_log_sweep_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
    with warehouse.begin() as conn:
        run_ids = open_run_ids(conn)
    if not run_ids:
        return SkipReason("no sync-log row is open")
    ended = [r.run_id for r in context.instance.get_runs(filters=RunsFilter(run_ids=run_ids, statuses=ENDED))]
    if not ended:
        return SkipReason(f"{len(run_ids)} open sync-log rows belong to runs still going")
    with warehouse.begin() as conn:
        closed = close_abandoned(conn, ended)
    return SkipReason(f"closed {closed} sync-log rows of {len(ended)} runs that ended without completing them")
