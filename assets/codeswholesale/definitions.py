"""CodesWholesale: the supplier's price list per store source. The code location merges this with every other
channel's (pipelines/definitions.py)."""
from dagster import Definitions

from marketsync.assets.codeswholesale.catalog import codeswholesale_assets

defs = Definitions(assets=codeswholesale_assets)
