"""The store's CodesWholesale balance, read on a schedule: the Dagster asset over the domain's balance
check (assets/digital/balance.py), with an asset check that warns while it is low and the job the hourly
schedule (sensors/schedules.py) runs."""
from decimal import Decimal

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    asset,
    define_asset_job,
)

from marketsync.assets.codeswholesale.catalog import (
    CODESWHOLESALE_POOL,
    codeswholesale_accounts,
    get_codeswholesale_source,
)
from marketsync.assets.codeswholesale.connection import source_session
from marketsync.assets.digital.balance import check_balance
from marketsync.assets.failures import worded_failure
from marketsync.resources.celery_queues import pool_queue_tags
from marketsync.resources.codeswholesale import CodesWholesaleResource
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse

SUPPLIER_BALANCE = AssetKey(["ops", "codeswholesale_balance"])


@asset(
    key=SUPPLIER_BALANCE,
    partitions_def=codeswholesale_accounts,
    group_name="digital",
    owners=["team:operations"],
    kinds={"codeswholesale", "postgres"},
    pool=CODESWHOLESALE_POOL,
    op_tags=pool_queue_tags(CODESWHOLESALE_POOL),
    check_specs=[AssetCheckSpec("balance_covers_purchases", asset=SUPPLIER_BALANCE,
                                description="The supplier balance is at least the store's threshold and what "
                                            "the purchases waiting on it would cost.")],
)
def codeswholesale_balance(context: AssetExecutionContext, warehouse: Warehouse, vault: CredentialVault,
                           codeswholesale: CodesWholesaleResource) -> MaterializeResult:
    """What the store's CodesWholesale account can spend (balance and credit), read on a schedule. While it
    is below the store's threshold (the source's `low_balance_alert` setting) or below what purchases
    waiting on it would cost, one alert is open (ops.alerts) and the check warns; a top-up closes both."""
    with worded_failure():
        with warehouse.begin() as conn:
            source = get_codeswholesale_source(conn, context.partition_key)
        threshold = Decimal(str(source.setting("low_balance_alert")))
        with source_session(warehouse, vault, codeswholesale, context.partition_key) as (store_id, api):
            balance = api.balance()
        with warehouse.begin() as conn:
            check = check_balance(conn, store_id, balance, threshold)
    return MaterializeResult(metadata=check.as_metadata(), check_results=[AssetCheckResult(
        check_name="balance_covers_purchases", passed=not check.low, severity=AssetCheckSeverity.WARN,
        description=f"{balance.total_to_use} to spend, {check.needed} needed")])


codeswholesale_balance_job = define_asset_job(
    "codeswholesale_balance_job", selection=[SUPPLIER_BALANCE], partitions_def=codeswholesale_accounts,
    description="Read a store's CodesWholesale balance and alert when it is low.")
