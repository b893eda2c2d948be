"""CodesWholesale: the supplier's price list per store source, and the digital order lines fulfilled from
it. The code location merges this with every other
channel's (pipelines/definitions.py)."""
from dagster import Definitions

from marketsync.assets.codeswholesale.balance import codeswholesale_balance, codeswholesale_balance_job
from marketsync.assets.codeswholesale.catalog import codeswholesale_assets
from marketsync.assets.codeswholesale.digital import (
    digital_fulfilment,
    digital_fulfilment_job,
    digital_fulfilment_success_rate,
)

defs = Definitions(assets=[*codeswholesale_assets, digital_fulfilment, codeswholesale_balance],
                   jobs=[digital_fulfilment_job, codeswholesale_balance_job],
                   asset_checks=[digital_fulfilment_success_rate])
