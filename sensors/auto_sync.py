"""Imports each Letzshop account when its auto-sync interval (5-1440 min, default 15) has elapsed."""

import json
from datetime import datetime, timezone

from dagster import (
    AddDynamicPartitionsRequest,
    DeleteDynamicPartitionsRequest,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from assets.letzshop.orders import letzshop_accounts
from pipelines.accounts import Account, list_accounts
from pipelines.jobs import STORE_TAG, letzshop_import_job
from resources.warehouse import Warehouse


def due_slot(account: Account, now: datetime) -> int | None:
    """The interval slot an import is due for, or None when the last sync is recent enough.

    Slots number the account's intervals since the epoch, so the run_key is the same whichever sensor
    tick notices it: one run per account and interval, however often the sensor runs."""
    interval = account.sync_interval_minutes * 60
    if account.last_synced_at and (now - account.last_synced_at).total_seconds() < interval:
        return None
    return int(now.timestamp() // interval)


@sensor(job=letzshop_import_job, minimum_interval_seconds=60, default_status=DefaultSensorStatus.RUNNING)
def letzshop_auto_sync_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
    """Keeps the partitions in step with the enabled Letzshop accounts and requests an import for each
    account that is due."""
    now = datetime.now(timezone.utc)
    with warehouse.begin() as conn:
        accounts = [a for a in list_accounts(conn, channel="letzshop") if a.enabled]
    known = set(context.instance.get_dynamic_partitions(letzshop_accounts.name))
    new_keys = sorted({a.key for a in accounts} - known)
    # A store whose Letzshop account was removed (or disabled) stops being a partition: its history stays.
    gone = sorted(known - {a.key for a in accounts})
    cursor = json.loads(context.cursor) if context.cursor else {}
    requests = []
    for account in accounts:
        slot = due_slot(account, now)
        if slot is None or cursor.get(account.key) == slot:
            continue
        cursor[account.key] = slot
        requests.append(RunRequest(run_key=f"letzshop-sync:{account.key}:{slot}", partition_key=account.key,
                                   tags={STORE_TAG: account.store}))
    return SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=(
            ([AddDynamicPartitionsRequest(letzshop_accounts.name, new_keys)] if new_keys else [])
            + ([DeleteDynamicPartitionsRequest(letzshop_accounts.name, gone)] if gone else [])),
        cursor=json.dumps(cursor, sort_keys=True),
    )
