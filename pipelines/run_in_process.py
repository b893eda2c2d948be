"""Running the Letzshop assets in this process (the CLI's `sync orders`), recorded in the Dagster
instance like any run, so the UI shows it beside the runs that sensors launched."""
from __future__ import annotations

from dagster import DagsterInstance, materialize

from assets.letzshop.orders import letzshop_accounts, letzshop_assets
from pipelines.definitions import build_resources
from resources.errors import MarketsyncError


def dagster_instance() -> DagsterInstance:
    """The instance configured by dagster.yaml in DAGSTER_HOME (Postgres storage)."""
    return DagsterInstance.get()


def run_order_sync(store: str, states: list[str], instance: DagsterInstance | None = None,
                   resources: dict | None = None, log_level: str = "WARNING") -> dict:
    """Import, match and auto-confirm one store's Letzshop orders; returns the materialization metadata."""
    instance = instance or dagster_instance()
    if not instance.has_dynamic_partition(letzshop_accounts.name, store):
        instance.add_dynamic_partitions(letzshop_accounts.name, [store])
    result = materialize(
        letzshop_assets,
        partition_key=store,
        resources=resources or build_resources(),
        instance=instance,
        run_config={"ops": {"letzshop_order_import": {"config": {"states": states}}},
                    # The event log keeps everything; the terminal shows only what needs attention.
                    "loggers": {"console": {"config": {"log_level": log_level}}}},
        tags={"marketsync/store": store, "marketsync/triggered_by": "cli"},
        raise_on_error=False,
    )
    if not result.success:
        failures = result.get_step_failure_events()
        message = failures[0].step_failure_data.error.message.strip() if failures else "the run failed"
        # Dagster prefixes the op context; the last line is the error as we worded it.
        raise MarketsyncError(f"sync of {store} failed (run {result.run_id[:8]}): {message.splitlines()[-1]}")
    summary: dict = {"run_id": result.run_id}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        name = materialization.asset_key.path[-1]
        for key, value in materialization.metadata.items():
            summary[f"{name}.{key}"] = getattr(value, "value", value)
    return summary
