"""eBay: the order import with its follow-ups, and the nightly reconciliation of its orders. The code
location merges this with every other channel's (pipelines/definitions.py)."""
from dagster import Definitions

from marketsync.assets.ebay.orders import ebay_assets
from marketsync.assets.operations.reconcile_assets import reconciliation_assets

defs = Definitions(assets=[*ebay_assets, *reconciliation_assets("ebay")])
