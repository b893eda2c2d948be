"""Letzshop orders as Dagster assets, one partition per store account.

fetch + land raw (`raw/letzshop_shipments`) -> normalise into the canonical model (`core/letzshop_orders`)
-> match every unit to the catalog (`core/letzshop_order_matches`) -> act: auto-confirm what may be
confirmed (`ops/letzshop_auto_confirmations`). Writes to Letzshop go through the outbound queue.
"""

from collections.abc import Sequence
from datetime import timedelta

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Backoff,
    Config,
    DynamicPartitionsDefinition,
    FreshnessPolicy,
    Jitter,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    multi_asset,
)

from marketsync.assets.accounts import get_account
from marketsync.assets.alerts import record_successful_sync
from marketsync.assets.failures import worded_failure
from marketsync.assets.letzshop.channel import API_POOL
from marketsync.assets.letzshop.connection import letzshop_session
from marketsync.assets.letzshop.load import import_shipments
from marketsync.assets.orders.followup import auto_confirmations_key, followup_assets, matches_key
from marketsync.assets.sync_log import SyncLog
from marketsync.assets.table_metadata import stored_in, with_table_metadata
from marketsync.resources.celery_queues import pool_queue_tags
from marketsync.resources.letzshop import LetzshopResource
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse

OWNERS = ["team:data-engineering"]
GROUP = "orders"  # grouped by domain; the source system is a kind
LETZSHOP_POOL = API_POOL

letzshop_accounts = DynamicPartitionsDefinition(name="letzshop_accounts")

RAW_SHIPMENTS = AssetKey(["raw", "letzshop_shipments"])
ORDERS = AssetKey(["core", "letzshop_orders"])
MATCHES = matches_key("letzshop")
AUTO_CONFIRMATIONS = auto_confirmations_key("letzshop")
SHIPMENT_STATES = ("unconfirmed", "confirmed", "declined")


class LetzshopImportConfig(Config):
    """Which shipments to import. Unconfirmed ones are the work to do; confirmed and declined are history."""

    states: list[str] = ["unconfirmed"]  # noqa: RUF012 - pydantic field
    page_size: int | None = None


@multi_asset(
    name="letzshop_order_import",
    specs=[
        AssetSpec(RAW_SHIPMENTS, group_name=GROUP, owners=OWNERS, kinds={"letzshop", "graphql", "postgres"},
                  metadata=stored_in("raw.letzshop_shipments"),
                  description="Every version of every Letzshop shipment payload, exactly as the API returned it."),
        AssetSpec(ORDERS, deps=[RAW_SHIPMENTS], group_name=GROUP, owners=OWNERS, kinds={"letzshop", "postgres"},
                  metadata=stored_in("core.orders"),
                  description="Letzshop shipments as canonical orders (core.orders), addresses and one "
                              "order item per inventory unit (core.order_items).",
                  freshness_policy=FreshnessPolicy.time_window(fail_window=timedelta(hours=2),
                                                               warn_window=timedelta(minutes=45))),
    ],
    partitions_def=letzshop_accounts,
    pool=LETZSHOP_POOL,
    op_tags=pool_queue_tags(LETZSHOP_POOL),
    retry_policy=RetryPolicy(max_retries=2, delay=30, backoff=Backoff.EXPONENTIAL, jitter=Jitter.FULL),
)
def letzshop_order_import(context: AssetExecutionContext, config: LetzshopImportConfig, warehouse: Warehouse,
                          vault: CredentialVault, letzshop: LetzshopResource):
    """Pages through the store's Letzshop shipments, lands each payload in raw and upserts the canonical
    orders. Re-running, or two runs overlapping, never duplicates a shipment or a unit."""
    unknown = set(config.states) - set(SHIPMENT_STATES)
    if unknown:
        raise ValueError(f"unknown shipment state(s) {sorted(unknown)}; use {list(SHIPMENT_STATES)}")
    # The sync log has the reason; a refused key or request fails the same way again, so only transient
    # failures are worth Dagster's retries.
    with worded_failure():
        metadata = import_store_orders(warehouse, vault, letzshop, context.partition_key, context.run_id,
                                       context.run.tags.get("dagster/sensor_name", "dagster"), config.states,
                                       config.page_size)
    for key, values in metadata.items():
        yield MaterializeResult(asset_key=key, metadata=values)


def import_store_orders(warehouse: Warehouse, vault: CredentialVault, letzshop: LetzshopResource, store: str,
                        run_id: str | None, triggered_by: str, states: Sequence[str] = ("unconfirmed",),
                        page_size: int | None = None) -> dict[AssetKey, dict]:
    """Import one store's Letzshop shipments (in a sync-log row of their own) and mark the account synced;
    returns each asset's materialization metadata. What the import asset and the fleet sync both run."""
    with warehouse.begin() as conn:
        account = get_account(conn, store, "letzshop")
    with SyncLog(warehouse.engine, "import_orders", "inbound", account_id=account.account_id,
                 triggered_by=triggered_by, run_id=run_id) as log:
        def count_page(page) -> None:
            # Counted per committed page, so a run that fails later still shows what it landed.
            log.add(processed=page.units_seen, succeeded=page.units_seen - page.quarantined,
                    failed=page.quarantined)
            for error in page.errors[:100]:
                log.error(error)
            log.flush()

        with letzshop_session(warehouse, vault, letzshop, account) as api:
            summary = import_shipments(warehouse.engine, account, api, list(states), run_id, page_size,
                                       on_page=count_page)
        with warehouse.begin() as conn:
            record_successful_sync(conn, account.account_id)
    return {
        RAW_SHIPMENTS: with_table_metadata(warehouse, "raw.letzshop_shipments", {
            "shipments_fetched": summary.shipments_seen, "versions_landed": summary.raw_versions_landed,
            "quarantined": summary.quarantined}),
        ORDERS: with_table_metadata(warehouse, "core.orders", {
            "orders_created": summary.orders_created, "orders_updated": summary.orders_updated,
            "units_seen": summary.units_seen, "units_written": summary.units_written,
            "states": MetadataValue.json(list(states))}),
    }


letzshop_assets = [letzshop_order_import, *followup_assets("letzshop", letzshop_accounts, ORDERS, group_name=GROUP)]


def import_run_config(states: list[str]) -> dict:
    """The import's run config for the shipment states a person asked for (`sync orders --state`)."""
    return {"ops": {letzshop_order_import.op.name: {"config": {"states": list(states)}}}}
