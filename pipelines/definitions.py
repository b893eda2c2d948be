"""The marketsync Dagster code location."""
from dagster import AssetSelection, AutomationConditionSensorDefinition, DefaultSensorStatus, Definitions, EnvVar

from assets.codeswholesale.catalog import codeswholesale_assets, codeswholesale_sensors
from assets.feeds.pull import pull_feed_assets
from assets.letzshop.orders import letzshop_assets
from assets.letzshop.product_feed import letzshop_catalog_assets
from pipelines.jobs import jobs
from pipelines.schedules import schedules
from resources.codeswholesale import CodesWholesaleResource
from resources.feed_transport import FeedTransport
from resources.letzshop import LetzshopResource
from resources.vault import CredentialVault
from resources.warehouse import Warehouse
from sensors import sensors
from sensors.feed_refresh import supplier_feed_job, supplier_feed_refresh_sensor

# Evaluates the assets' automation conditions (CodesWholesale every six hours); running by default so a
# fresh deployment refreshes its catalogs without anyone switching it on.
automation_sensor = AutomationConditionSensorDefinition(
    "catalog_automation_sensor", target=AssetSelection.all(), default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60)


def build_resources() -> dict:
    return {
        "warehouse": Warehouse(database_url=EnvVar("DATABASE_URL")),
        "vault": CredentialVault(secret_keys=EnvVar("MARKETSYNC_SECRET_KEYS")),
        "letzshop": LetzshopResource(),
        "codeswholesale": CodesWholesaleResource(),
        "feed_transport": FeedTransport(),
    }


defs = Definitions(
    assets=[*letzshop_assets, *letzshop_catalog_assets, *codeswholesale_assets, *pull_feed_assets],
    jobs=[*jobs, supplier_feed_job],
    schedules=schedules,
    sensors=[*sensors, *codeswholesale_sensors, supplier_feed_refresh_sensor, automation_sensor],
    resources=build_resources(),
)
