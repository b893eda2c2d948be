"""The operations team's inbound sheet: the control check and the job running it. The code location merges this
with every other channel's (pipelines/definitions.py)."""
from dagster import Definitions

from marketsync.assets.inbound_sheet.assets import inbound_check_job, inbound_sheet_assets

defs = Definitions(assets=inbound_sheet_assets, jobs=[inbound_check_job])
