"""Amazon: the order import with its follow-ups. The code location merges this with every other channel's
(pipelines/definitions.py)."""
from dagster import Definitions

from marketsync.assets.amazon.orders import amazon_assets

defs = Definitions(assets=amazon_assets)
