"""The marketsync Dagster code location: every channel's own definitions (each channel package declares
them, assets/<channel>/channel.py), merged with what spans channels (stock, the order checks, the jobs,
schedules and sensors) and the resources."""
from dagster import AssetSelection, AutomationConditionSensorDefinition, DefaultSensorStatus, Definitions, EnvVar

from marketsync.assets.channel_clients import channel_resources
from marketsync.assets.channel_registry import channels, load
from marketsync.assets.checks.core_tables import core_table_checks
from marketsync.assets.operations.assets import integration_metrics, integration_metrics_job
from marketsync.assets.prices.assets import price_assets, price_jobs, price_schedules
from marketsync.assets.privacy.assets import personal_data_retention, personal_data_retention_job
from marketsync.assets.stock.assets import (
    inventory_lag_job,
    inventory_lag_schedule,
    stock_assets,
    stock_checks,
    stock_push_job,
)
from marketsync.pipelines.environment import require_secret_keys
from marketsync.pipelines.executor_profile import run_executor
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse
from marketsync.sensors.alerting import alerting_sensor, integration_metrics_schedule
from marketsync.sensors.feed_refresh import supplier_feed_job
from marketsync.sensors.fleet import FLEET_JOBS
from marketsync.sensors.jobs import jobs
from marketsync.sensors.privacy import personal_data_retention_schedule
from marketsync.sensors.registry import sensors
from marketsync.sensors.schedules import schedules

# Fail closed: a deployment on its own database (or MARKETSYNC_ENV=production) without its own credential
# keys does not load at all, and the UI shows this error instead of runs failing one by one.
require_secret_keys()

# Evaluates the assets' automation conditions (CodesWholesale every six hours); running by default so a
# fresh deployment refreshes its catalogs without anyone switching it on.
automation_sensor = AutomationConditionSensorDefinition(
    "catalog_automation_sensor", target=AssetSelection.all(), default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Launches the runs the assets' automation conditions ask for: the hourly JTL-FFN sync, the "
                "six-hourly CodesWholesale refresh, Amazon and eBay order imports.")


def build_resources() -> dict:
    """The warehouse, the vault, and every channel's API resource under its key (assets/<channel>/
    channel.py). An application OAuth client (registered once with JTL, eBay, Amazon) comes from the
    environment as EnvVars; each merchant's tokens live encrypted in ops.credentials, each account's API
    base URL in its endpoint. Unset, that channel's steps fail at once naming the variables."""
    return {
        "warehouse": Warehouse(database_url=EnvVar("DATABASE_URL")),
        "vault": CredentialVault(secret_keys=EnvVar("MARKETSYNC_SECRET_KEYS")),
        **channel_resources(),
    }


defs = Definitions.merge(
    *(load(c.definitions) for c in channels().values() if c.definitions),
    Definitions(
        assets=[*stock_assets, *price_assets, integration_metrics, personal_data_retention],
        asset_checks=[*stock_checks, *core_table_checks],
        jobs=[*jobs, *(f.job for f in FLEET_JOBS.values()),
              supplier_feed_job, stock_push_job, inventory_lag_job, integration_metrics_job,
              personal_data_retention_job, *price_jobs],
        schedules=[*schedules, inventory_lag_schedule, integration_metrics_schedule,
                   personal_data_retention_schedule, *price_schedules],
        sensors=[*sensors, automation_sensor, alerting_sensor],
        resources=build_resources(),
        # Every job's executor: Dagster's default, or Celery workers with MARKETSYNC_EXECUTOR=celery
        # (pipelines/executor_profile.py).
        executor=run_executor(),
    ),
)
