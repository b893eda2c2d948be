"""Supplier feeds: the pulled feeds' products. The code location merges this with every other channel's
(pipelines/definitions.py)."""
from dagster import Definitions

from marketsync.assets.feeds.pull import pull_feed_assets

defs = Definitions(assets=pull_feed_assets)
