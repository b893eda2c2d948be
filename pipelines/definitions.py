"""The marketsync Dagster code location."""
from dagster import Definitions, EnvVar

from assets.letzshop.orders import letzshop_assets
from pipelines.jobs import jobs
from pipelines.schedules import schedules
from resources.letzshop import LetzshopResource
from resources.vault import CredentialVault
from resources.warehouse import Warehouse
from sensors import sensors


def build_resources() -> dict:
    return {
        "warehouse": Warehouse(database_url=EnvVar("DATABASE_URL")),
        "vault": CredentialVault(secret_keys=EnvVar("MARKETSYNC_SECRET_KEYS")),
        "letzshop": LetzshopResource(),
    }


defs = Definitions(
    assets=letzshop_assets,
    jobs=jobs,
    schedules=schedules,
    sensors=sensors,
    resources=build_resources(),
)
