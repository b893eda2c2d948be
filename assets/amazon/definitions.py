"""Amazon: the order import with its follow-ups, and the nightly reconciliation of its orders. The code
location merges this with every other channel's (pipelines/definitions.py)."""
from dagster import Definitions

from marketsync.assets.amazon.orders import amazon_assets
from marketsync.assets.operations.reconcile_assets import reconciliation_assets

defs = Definitions(assets=[*amazon_assets, *reconciliation_assets("amazon")])
