"""Running assets in this process (the CLI's `sync` and `catalog import`), recorded in the Dagster
instance like any run, so the UI shows them beside the runs that sensors launched."""
from __future__ import annotations

import re
import sys
from collections.abc import Sequence

from dagster import AssetsDefinition, DagsterInstance, DynamicPartitionsDefinition, materialize

from marketsync.assets import channel_registry
from marketsync.assets.codeswholesale.catalog import codeswholesale_accounts, codeswholesale_assets
from marketsync.assets.codeswholesale.digital import digital_fulfilment, digital_stores
from marketsync.assets.feeds.pull import feed_partition_key, pull_feed_assets, supplier_feeds
from marketsync.assets.inbound_sheet.assets import inbound_sheet_assets
from marketsync.assets.jtl_ffn.assets import fulfillment_holdings, jtl_ffn_accounts
from marketsync.assets.letzshop.orders import letzshop_accounts
from marketsync.assets.letzshop.product_feed import letzshop_catalog_assets
from marketsync.assets.prices.assets import PRICE_SYNCS, price_partitions
from marketsync.assets.stock.assets import channel_stock, stock_channels
from marketsync.assets.stock.settings import partition_key
from marketsync.pipelines.definitions import build_resources
from marketsync.resources.errors import MarketsyncError

# Whether Dagster's console log and a failed step's traceback reach the terminal (the CLI's --debug).
# Without it a failure is the one worded line of the MarketsyncError; the event log keeps everything.
_debug = False


def show_dagster_output(debug: bool) -> None:
    global _debug
    _debug = debug


def dagster_instance() -> DagsterInstance:
    """The instance configured by dagster.yaml in DAGSTER_HOME (Postgres storage)."""
    return DagsterInstance.get()


def run_assets(assets: Sequence[AssetsDefinition], partitions: DynamicPartitionsDefinition, key: str, *,
               run_config: dict | None = None, instance: DagsterInstance | None = None,
               resources: dict | None = None, log_level: str | None = None, what: str = "run",
               store: str | None = None) -> dict:
    """Materialise `assets` for one partition; returns their materialisation metadata as
    `{"<asset name>.<metadata key>": value}` plus the run id, or raises one clear MarketsyncError."""
    instance = instance or dagster_instance()
    log_level = log_level or ("INFO" if _debug else "CRITICAL")
    if not instance.has_dynamic_partition(partitions.name, key):
        instance.add_dynamic_partitions(partitions.name, [key])
    result = materialize(
        assets,
        partition_key=key,
        resources=resources or build_resources(),
        instance=instance,
        # The event log keeps everything; the terminal shows only what needs attention.
        # A person is waiting: a failure is reported at once (and the command can be re-run), not
        # retried after minutes of backoff that would also hide its reason behind "max retries".
        run_config={**(run_config or {}), "loggers": {"console": {"config": {"log_level": log_level}}},
                    "execution": {"config": {"retries": {"disabled": {}}}}},
        tags={"marketsync/store": store or key, "marketsync/triggered_by": "cli"},
        raise_on_error=False,
    )
    if not result.success:
        failures = result.get_step_failure_events()
        message = failures[0].step_failure_data.error.message.strip() if failures else "the run failed"
        if _debug and failures:
            sys.stderr.write(failures[0].step_failure_data.error.to_string() + "\n")
        # Dagster prefixes the op context; the last line is the error as we worded it.
        reason = re.sub(r"^dagster\.[\w.]+\.(Failure|DagsterError\w*): ", "", message.splitlines()[-1])
        raise MarketsyncError(f"{what} of {key} failed (run {result.run_id[:8]}): {reason}")
    summary: dict = {"run_id": result.run_id}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        name = materialization.asset_key.path[-1]
        for meta_key, value in materialization.metadata.items():
            value = getattr(value, "value", value)
            # Counters and plain values; a table's column schema is for the UI, not a summary line.
            if value is None or isinstance(value, (str, int, float, bool)):
                summary[f"{name}.{meta_key}"] = value
    return summary


def run_order_sync(store: str, states: list[str] | None = None, instance: DagsterInstance | None = None,
                   resources: dict | None = None, log_level: str | None = None, *, channel: str = "letzshop") -> dict:
    """Import one store's orders from `channel` (any channel declaring an order import), then match them
    and apply the auto-confirm rule: the channel's definitions' order assets, as the auto-sync sensor
    launches them. `states`: the shipment states to import, for a channel that imports by state."""
    declaration = channel_registry.channel(channel)
    orders = declaration.orders
    if orders is None:
        importing = ", ".join(name for name, c in channel_registry.channels().items() if c.orders)
        raise MarketsyncError(f"order sync does not support '{channel}': it supports {importing}")
    partitions = channel_registry.load(declaration.partitions)
    assets = channel_registry.load(orders.assets)
    run_config = channel_registry.load(orders.states)(list(states or ["unconfirmed"])) if orders.states else None
    return run_assets(assets, partitions, store, instance=instance, resources=resources, log_level=log_level,
                      what=f"{declaration.label} order sync", run_config=run_config)


def run_fulfillment_sync(store: str, instance: DagsterInstance | None = None, resources: dict | None = None) -> dict:
    """Sync what JTL-FFN holds for one store now: products, stock and inbounds (full snapshots)."""

    return run_assets([fulfillment_holdings], jtl_ffn_accounts, store, instance=instance, resources=resources,
                      what="JTL-FFN holdings sync")


def run_catalog_import(store: str, source: str, instance: DagsterInstance | None = None,
                       resources: dict | None = None) -> dict:
    """Import one store's catalog from `source`: letzshop (its product feed), codeswholesale, or the name
    of one of its pulled supplier feeds."""
    if source == "letzshop":

        return run_assets(letzshop_catalog_assets, letzshop_accounts, store, instance=instance,
                          resources=resources, what="Letzshop catalog import")
    if source == "codeswholesale":

        return run_assets(codeswholesale_assets, codeswholesale_accounts, store, instance=instance,
                          resources=resources, what="CodesWholesale catalog import")

    return run_assets(pull_feed_assets, supplier_feeds, feed_partition_key(store, source), instance=instance,
                      resources=resources, what="supplier feed import", store=store)


def run_inbound_check(store: str, instance: DagsterInstance | None = None, resources: dict | None = None) -> dict:
    """Check one store's inbound control sheet against JTL-FFN now, after syncing what JTL-FFN holds in
    the same run: a verdict is only ever written from holdings just read (a failed sync writes none)."""

    return run_assets([fulfillment_holdings, *inbound_sheet_assets], jtl_ffn_accounts, store, instance=instance,
                      resources=resources, what="inbound sheet check")


def run_stock_push(store: str, channel: str, mode: str = "incremental", skus: list[str] | None = None,
                   instance: DagsterInstance | None = None, resources: dict | None = None) -> dict:
    """Push one store channel's stock now, through its Dagster asset (so the UI shows the run)."""

    return run_assets([channel_stock], stock_channels, partition_key(store, channel), instance=instance,
                      resources=resources, what="stock push", store=store,
                      run_config={"ops": {"core__channel_stock": {"config": {"mode": mode, "skus": list(skus or [])}}}})


def run_price_push(store: str, channel: str, mode: str = "incremental", instance: DagsterInstance | None = None,
                   resources: dict | None = None) -> dict:
    """Push one store's prices to `channel` now, through its product_price_sync asset (the UI shows the run)."""
    if channel not in PRICE_SYNCS:
        raise MarketsyncError(f"{channel} takes no prices (price channels: {', '.join(PRICE_SYNCS) or 'none'})")
    asset_def = PRICE_SYNCS[channel][0]
    op_name = asset_def.op.name
    return run_assets([asset_def], price_partitions(channel), store, instance=instance, resources=resources,
                      what="price push", store=store, run_config={"ops": {op_name: {"config": {"mode": mode}}}})


def run_digital_fulfilment(store: str, instance: DagsterInstance | None = None, resources: dict | None = None) -> dict:
    """One digital fulfilment pass for a store now (pool keys, purchases, deliveries queued, delivered
    orders recorded), through its Dagster asset."""
    return run_assets([digital_fulfilment], digital_stores, store, instance=instance, resources=resources,
                      what="digital fulfilment", store=store)
