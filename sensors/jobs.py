"""Jobs: what sensors, schedules and people launch.

Every order channel has the same two jobs, partitioned by its accounts: an import job (its orders asset)
and a follow-up job (matching, then the auto-confirm rule). ORDER_CHANNELS holds them for every channel
that declares an order import (assets/<channel>/channel.py); the auto-sync and new-orders sensors drive
every channel through it.
"""

from dataclasses import dataclass
from typing import Any

from dagster import (
    AssetKey,
    AssetSelection,
    DynamicPartitionsDefinition,
    In,
    Nothing,
    OpExecutionContext,
    Out,
    Output,
    define_asset_job,
    job,
    op,
)

from marketsync.assets.channel_registry import Channel, channels, load
from marketsync.assets.feeds.push_inbox import apply_inbox_job
from marketsync.assets.orders.followup import auto_confirmations_key, matches_key
from marketsync.assets.outbound_runner import accounts_with_due_writes, drain
from marketsync.resources.celery_queues import pool_queue_tags
from marketsync.resources.warehouse import Warehouse

# One run per store at a time (imports and follow-ups): the run coordinator limits runs by this tag
# (dagster.yaml).
STORE_TAG = "marketsync/store"
# The channel of an import or follow-up run; with the store it names the account.
CHANNEL_TAG = "marketsync/channel"
# What a run does for its account: "import" or "followup" (the sensors find active runs by it).
RUN_KIND_TAG = "marketsync/run"
# One drain per channel account at a time (dagster.yaml limits runs by this tag).
OUTBOUND_ACCOUNT_TAG = "marketsync/outbound_account"
PARTITION_TAG = "dagster/partition"


@dataclass(frozen=True)
class OrderChannel:
    """The jobs of one order channel and the partitions (one per store account) they run on."""
    channel: str
    partitions: DynamicPartitionsDefinition
    orders: AssetKey
    import_job: Any  # the asset job (define_asset_job) importing its orders asset
    followup_job: Any  # the asset job of its matches and auto-confirmations assets
    pushed: bool = False  # its orders are pushed to us: the import is a daily catch-up

    def tags(self, store: str, kind: str) -> dict[str, str]:
        return {STORE_TAG: store, CHANNEL_TAG: self.channel, RUN_KIND_TAG: kind}


def order_channel(channel: Channel) -> OrderChannel:
    """A channel's import job (its orders asset, or the asset it declares to import with when that one
    comes with others) and follow-up job (its matches and auto-confirmations assets), both partitioned
    by its accounts."""
    name, orders = channel.label, channel.orders
    orders_key = AssetKey(list(orders.asset))
    partitions = load(channel.partitions)
    import_selection = (AssetSelection.assets(load(orders.import_asset)) if orders.import_asset
                        else AssetSelection.assets(orders_key))
    import_job = define_asset_job(
        f"{channel.name}_import_job", selection=import_selection, partitions_def=partitions,
        description=f"Import a store's {name} {orders.imported} into raw and the canonical orders.")
    followup_job = define_asset_job(
        f"{channel.name}_order_followup_job",
        selection=AssetSelection.assets(matches_key(channel.name), auto_confirmations_key(channel.name)),
        partitions_def=partitions,
        description=f"Match a store's new {name} orders to the catalog, then "
                    + ("queue what the auto-confirm rule allows and mark them followed up." if orders.confirms else
                       f"mark them followed up ({name} orders need no confirmation)."))
    return OrderChannel(channel.name, partitions, orders_key, import_job, followup_job, orders.pushed)


ORDER_CHANNELS: dict[str, OrderChannel] = {name: order_channel(c) for name, c in channels().items() if c.orders}
letzshop_import_job = ORDER_CHANNELS["letzshop"].import_job


# ---------------------------------------------------------------- outbound
# Each channel's drain runs in its own op holding that channel's API pool; the plan op (no pool) reads
# which channels have due writes, so a drain with nothing to do takes no pool slot an import needs.
# Every channel that declares outbound writes (assets/<channel>/channel.py) has a drain op with its pool.
DRAIN_POOLS = {name: c.outbound.pool for name, c in channels().items() if c.outbound is not None}


def _run_account(context: OpExecutionContext) -> int | None:
    """The account a drain run is for (the outbound sensor tags one run per account); None: every account."""
    tagged = context.run.tags.get(OUTBOUND_ACCOUNT_TAG)
    return int(tagged) if tagged else None


@op(out={channel: Out(Nothing, is_required=False) for channel in DRAIN_POOLS})
def plan_outbound_drain(context: OpExecutionContext, warehouse: Warehouse):
    """Which channels have writes due (for the run's account, or all): only their drain ops run."""
    due = accounts_with_due_writes(warehouse, account_id=_run_account(context))
    channels = sorted({channel for _, channel in due})
    if not channels:
        context.log.info("nothing due in the outbound queue")
    for channel in channels:
        if channel in DRAIN_POOLS:
            yield Output(None, output_name=channel)


def _drain_op(channel: str):
    declaration = channels()[channel]
    client_key = declaration.outbound.client or declaration.key

    # The channel's client is asked for by its declared resource key, so the op takes its resources by key.
    @op(name=f"drain_{channel}_outbound", pool=DRAIN_POOLS[channel], tags=pool_queue_tags(DRAIN_POOLS[channel]),
        ins={"due": In(Nothing)},
        required_resource_keys={"warehouse", "vault", client_key})
    def drain_channel(context: OpExecutionContext) -> None:
        results = drain(context.resources.warehouse, context.resources.vault,
                        {client_key: getattr(context.resources, client_key)}, triggered_by="dagster",
                        run_id=context.run_id, channel=channel, account_id=_run_account(context))
        for account, summary in results.items():
            context.log.info(f"{account}: {summary}")

    drain_channel.__doc__ = (f"Send every due {channel} write (confirmations, rejections, tracking, fulfillment "
                             f"orders) to the channel, exactly once.")
    return drain_channel


DRAIN_OPS = {channel: _drain_op(channel) for channel in DRAIN_POOLS}


@job(description="Push queued confirmations, rejections, tracking and fulfillment orders to the channels: "
                 "one run per account with writes due (the outbound sensor), or every account (the sweep).")
def outbound_job():
    due = plan_outbound_drain()
    for channel, drain_op in DRAIN_OPS.items():
        drain_op(getattr(due, channel))


jobs = [*(j for c in ORDER_CHANNELS.values() for j in (c.import_job, c.followup_job)), outbound_job,
        apply_inbox_job]
