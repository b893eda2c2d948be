"""One partition per store account that can work, for every partitioned channel, driven by ops.accounts.

An account is a partition of its channel (every channel that declares partitions of its accounts in
assets/<channel>/channel.py: letzshop_accounts, amazon_accounts, ...) while it is enabled AND
configured: its credentials are stored (ops.credentials) and the channel's application client is set
where the channel needs one (EBAY_CLIENT_ID/SECRET, AMAZON_LWA_CLIENT_ID/SECRET, JTL_FFN_CLIENT_ID/
SECRET). Disabling or deleting the account, or removing its credentials, removes the partition (its
history stays), so no automation starts runs that cannot work. Stock channels and supplier feeds keep
their own sensors (their partitions are not accounts).
"""

from dagster import (
    AddDynamicPartitionsRequest,
    DefaultSensorStatus,
    DeleteDynamicPartitionsRequest,
    DynamicPartitionsDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)
from sqlalchemy import text

from marketsync.assets.channel_clients import client_configured
from marketsync.assets.channel_registry import channels, load
from marketsync.resources.sql_files import query_beside
from marketsync.resources.warehouse import Warehouse
from marketsync.sensors.guard import warehouse_guard

MAX_PARTITIONS_ADDED_PER_TICK = 1000

PARTITIONED: dict[str, DynamicPartitionsDefinition] = {
    name: load(c.partitions) for name, c in channels().items() if c.partitions}


def configured_stores(warehouse: Warehouse) -> dict[str, set[str]]:
    """channel -> the stores whose account of that channel is enabled and configured."""
    wanted: dict[str, set[str]] = {channel: set() for channel in PARTITIONED}
    with warehouse.begin() as conn:
        rows = conn.execute(query_beside(__file__, "configured_accounts.sql"), {"channels": list(PARTITIONED)}).all()
        # A store's inbound control check (a jtl_ffn_accounts partition too) reads the sheet and what was
        # synced from the fulfiller, not its API: the inbound-sheet sensor keeps those partitions, and
        # this sensor must not take them away again.
        sheets = conn.execute(text("SELECT s.code FROM ops.inbound_sheets i JOIN ops.stores s USING (store_id) "
                                   "WHERE i.enabled")).scalars().all()
    for channel, store in rows:
        if client_configured(channel):
            wanted[channel].add(store)
    wanted["jtl_ffn"].update(sheets)
    return wanted


@sensor(minimum_interval_seconds=60, default_status=DefaultSensorStatus.RUNNING,
        description="Keeps one partition per enabled and configured store account of every partitioned channel "
                    "(Letzshop, Amazon, eBay, JTL-FFN) and removes the partitions of the others.")
@warehouse_guard
def account_partitions_sensor(context: SensorEvaluationContext, warehouse: Warehouse):
    """Adds and removes partitions; it requests no runs itself."""
    wanted = configured_stores(warehouse)
    requests, changes = [], []
    for channel, partitions in PARTITIONED.items():
        known = set(context.instance.get_dynamic_partitions(partitions.name))
        added, removed = sorted(wanted[channel] - known), sorted(known - wanted[channel])
        # Dagster writes a partition key at a time (about 10 ms each): a fleet's first tick adds them
        # over several ticks rather than outlast the 60-second limit. The rest stay missing, so the
        # next tick adds them.
        added = added[:MAX_PARTITIONS_ADDED_PER_TICK]
        if added:
            requests.append(AddDynamicPartitionsRequest(partitions.name, added))
            changes.append(f"{channel} +{len(added)}")
        if removed:
            requests.append(DeleteDynamicPartitionsRequest(partitions.name, removed))
            changes.append(f"{channel} -{len(removed)}")
    if not requests:
        return SkipReason("every enabled and configured account already has its partition, and only those")
    context.log.info("partitions changed: " + ", ".join(changes))
    return SensorResult(dynamic_partitions_requests=requests)
