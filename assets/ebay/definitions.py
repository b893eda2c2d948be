"""eBay: the order import with its follow-ups. The code location merges this with every other channel's
(pipelines/definitions.py)."""
from dagster import Definitions

from marketsync.assets.ebay.orders import ebay_assets

defs = Definitions(assets=ebay_assets)
