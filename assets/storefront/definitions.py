"""The storefront: its orders asset (the API's daily catch-up) with the follow-ups every channel has.
The code location merges this with every other channel's (pipelines/definitions.py)."""
from dagster import Definitions

from marketsync.assets.storefront.orders import storefront_assets

defs = Definitions(assets=storefront_assets)
