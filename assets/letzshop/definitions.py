"""Letzshop: the order import with its follow-ups, the product catalog from its feed, the store catalog
out to Letzshop as its product feed, and the nightly reconciliation of its orders. The code location
merges this with every other channel's (pipelines/definitions.py)."""
from dagster import Definitions

from marketsync.assets.letzshop.catalog_export import letzshop_catalog_feed_assets
from marketsync.assets.letzshop.orders import letzshop_assets
from marketsync.assets.letzshop.product_feed import letzshop_catalog_assets
from marketsync.assets.operations.reconcile_assets import reconciliation_assets

defs = Definitions(assets=[*letzshop_assets, *letzshop_catalog_assets, *letzshop_catalog_feed_assets,
                           *reconciliation_assets("letzshop")])
