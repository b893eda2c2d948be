"""The marketsync Dagster code location."""
import os

from dagster import AssetSelection, AutomationConditionSensorDefinition, DefaultSensorStatus, Definitions, EnvVar

from assets.amazon.orders import amazon_assets
from assets.channel_clients import application_client
from assets.checks.core_tables import core_table_checks
from assets.codeswholesale.catalog import codeswholesale_assets
from assets.ebay.orders import ebay_assets
from assets.feeds.pull import pull_feed_assets
from assets.inbound_sheet.assets import inbound_check_job, inbound_sheet_assets
from assets.jtl_ffn.assets import jtl_ffn_assets, jtl_ffn_job
from assets.letzshop.orders import letzshop_assets
from assets.letzshop.product_feed import letzshop_catalog_assets
from assets.stock.assets import inventory_lag_job, inventory_lag_schedule, stock_assets, stock_checks, stock_push_job
from pipelines.environment import require_secret_keys
from resources.codeswholesale import CodesWholesaleResource
from resources.feed_transport import FeedTransport
from resources.google_sheets import SHEETS_URL, GoogleSheetsResource
from resources.letzshop import LetzshopResource
from resources.vault import CredentialVault
from resources.warehouse import Warehouse
from sensors.feed_refresh import supplier_feed_job
from sensors.jobs import jobs
from sensors.registry import sensors
from sensors.schedules import schedules

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
    return {
        "warehouse": Warehouse(database_url=EnvVar("DATABASE_URL")),
        "vault": CredentialVault(secret_keys=EnvVar("MARKETSYNC_SECRET_KEYS")),
        "letzshop": LetzshopResource(),
        "codeswholesale": CodesWholesaleResource(),
        "feed_transport": FeedTransport(),
        "google_sheets": google_sheets_resource(),
        # Each integration's application OAuth client (registered once with JTL, eBay, Amazon) from the
        # environment; each merchant's tokens live encrypted in ops.credentials, each account's API base
        # URL in its endpoint. Unset, that channel's steps fail at once naming the variables.
        "jtl_ffn": application_client("jtl_ffn"),
        "ebay": application_client("ebay"),
        "amazon": application_client("amazon"),
    }


def google_sheets_resource() -> GoogleSheetsResource:
    """Production: a service account's key JSON in GOOGLE_SHEETS_SERVICE_ACCOUNT_JSON (read by Dagster at
    run time, never shown in the UI). The sandbox: MARKETSYNC_SHEETS_URL and MARKETSYNC_SHEETS_TOKEN."""
    if os.environ.get("GOOGLE_SHEETS_SERVICE_ACCOUNT_JSON"):
        return GoogleSheetsResource(service_account_json=EnvVar("GOOGLE_SHEETS_SERVICE_ACCOUNT_JSON"),
                                    base_url=os.environ.get("MARKETSYNC_SHEETS_URL") or SHEETS_URL)
    return GoogleSheetsResource(bearer_token=EnvVar("MARKETSYNC_SHEETS_TOKEN") if os.environ.get(
        "MARKETSYNC_SHEETS_TOKEN") else None, base_url=os.environ.get("MARKETSYNC_SHEETS_URL") or SHEETS_URL)


defs = Definitions(
    assets=[*letzshop_assets, *letzshop_catalog_assets, *codeswholesale_assets, *pull_feed_assets,
            *jtl_ffn_assets, *inbound_sheet_assets, *stock_assets, *ebay_assets, *amazon_assets],
    asset_checks=[*stock_checks, *core_table_checks],
    jobs=[*jobs, supplier_feed_job, inbound_check_job, jtl_ffn_job, stock_push_job, inventory_lag_job],
    schedules=[*schedules, inventory_lag_schedule],
    sensors=[*sensors, automation_sensor],
    resources=build_resources(),
)
