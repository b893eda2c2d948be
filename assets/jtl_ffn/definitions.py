"""JTL-FFN: what the fulfiller holds and the flow of fulfilment orders, and the job syncing them. The code
location merges this with every other channel's (pipelines/definitions.py)."""
from dagster import Definitions

from marketsync.assets.jtl_ffn.assets import jtl_ffn_assets, jtl_ffn_job

defs = Definitions(assets=jtl_ffn_assets, jobs=[jtl_ffn_job])
