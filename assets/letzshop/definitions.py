"""Letzshop: the order import with its follow-ups, and the product catalog from its feed. The code location
merges this with every other channel's (pipelines/definitions.py)."""
from dagster import Definitions

from marketsync.assets.letzshop.orders import letzshop_assets
from marketsync.assets.letzshop.product_feed import letzshop_catalog_assets

defs = Definitions(assets=[*letzshop_assets, *letzshop_catalog_assets])
