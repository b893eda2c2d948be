"""Jobs: what sensors, schedules and people launch."""

from dagster import AssetSelection, OpExecutionContext, define_asset_job, job, op

from assets.letzshop.orders import AUTO_CONFIRMATIONS, MATCHES, letzshop_accounts, letzshop_order_import, LETZSHOP_POOL
from pipelines.outbound_runner import drain
from pipelines.push_intake.inbox import apply_inbox_job
from resources.amazon_sp_api import AmazonSpApiResource
from resources.ebay import EbayResource
from resources.jtl_ffn import JtlFfnResource
from resources.letzshop import LetzshopResource
from resources.vault import CredentialVault
from resources.warehouse import Warehouse

# One import per store at a time: the run coordinator limits runs by this tag (dagster.yaml).
STORE_TAG = "marketsync/store"

letzshop_import_job = define_asset_job(
    "letzshop_import_job",
    selection=AssetSelection.assets(letzshop_order_import),
    partitions_def=letzshop_accounts,
    description="Import a store's Letzshop shipments into raw and the canonical orders.",
)

letzshop_order_followup_job = define_asset_job(
    "letzshop_order_followup_job",
    selection=AssetSelection.assets(MATCHES, AUTO_CONFIRMATIONS),
    partitions_def=letzshop_accounts,
    description="Match new orders' units to the catalog, then queue what the auto-confirm rule allows.",
)


@op(pool=LETZSHOP_POOL)
def drain_outbound_queue(context: OpExecutionContext, warehouse: Warehouse, vault: CredentialVault,
                         letzshop: LetzshopResource, jtl_ffn: JtlFfnResource, ebay: EbayResource,
                         amazon: AmazonSpApiResource) -> None:
    """Send every due confirmation, rejection, tracking update and fulfillment order to its channel,
    exactly once."""
    results = drain(warehouse, vault, letzshop, triggered_by="dagster", run_id=context.run_id, jtl_ffn=jtl_ffn,
                    ebay=ebay, amazon=amazon)
    for account, summary in results.items():
        context.log.info(f"{account}: {summary}")


@job(description="Push queued confirmations, rejections and tracking to the channels.")
def outbound_job():
    drain_outbound_queue()


jobs = [letzshop_import_job, letzshop_order_followup_job, outbound_job, apply_inbox_job]
