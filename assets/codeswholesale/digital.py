"""Digital order lines fulfilled from the merchant's key pool and CodesWholesale, per store: the Dagster
asset over the domain's fulfilment pass (assets/digital/fulfilment.py). It runs in the CodesWholesale API
pool, with no Dagster retry policy: a purchase is never retried blindly; the next run looks up what an
interrupted one left. Its partitions are the stores that sell digital goods (`digital_stores`, kept by
the digital orders sensor): a store selling only from its own pool needs no CodesWholesale source.

Delivery to the buyer is whichever channel declares `key_delivery` (the e-mail channel), found through
the channel registry, so this package imports no other channel."""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    DynamicPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
    define_asset_job,
)

from marketsync.assets.channel_registry import channels, load
from marketsync.assets.codeswholesale.catalog import (
    CODESWHOLESALE_POOL,
    find_codeswholesale_source,
)
from marketsync.assets.codeswholesale.connection import source_session
from marketsync.assets.digital.fulfilment import Deliver, fulfil_store
from marketsync.assets.digital.purchase import vault_keeper
from marketsync.assets.failures import worded_failure
from marketsync.assets.stores import find_store_id
from marketsync.resources.celery_queues import pool_queue_tags
from marketsync.resources.codeswholesale import CodesWholesaleResource
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse

DIGITAL_FULFILMENT = AssetKey(["ops", "digital_fulfilment"])
# One partition per store with digital goods to fulfil (the digital orders sensor adds them).
digital_stores = DynamicPartitionsDefinition(name="digital_stores")


def key_delivery() -> Deliver | None:
    """The declared way an order's keys reach its buyer, or None when no channel declares one."""
    declared = [c.key_delivery for c in channels().values() if c.key_delivery]
    return load(declared[0]) if declared else None


def fulfil(warehouse: Warehouse, vault: CredentialVault, codeswholesale: CodesWholesaleResource, store: str):
    """One fulfilment pass for `store`: through its CodesWholesale source's client when it has one, from
    its pool alone when it has none (nothing can be bought then)."""
    with warehouse.begin() as conn:
        store_id = find_store_id(conn, store)
        source = find_codeswholesale_source(conn, store)
    if store_id is None:
        raise MarketsyncError(f"no store '{store}'")
    if source is None:
        return fulfil_store(warehouse.engine, None, store_id, vault_keeper(vault), key_delivery())
    with source_session(warehouse, vault, codeswholesale, store) as (store_id, api):
        return fulfil_store(warehouse.engine, api, store_id, vault_keeper(vault), key_delivery())


@asset(
    key=DIGITAL_FULFILMENT,
    partitions_def=digital_stores,
    group_name="digital",
    owners=["team:operations"],
    kinds={"codeswholesale", "postgres"},
    pool=CODESWHOLESALE_POOL,
    op_tags=pool_queue_tags(CODESWHOLESALE_POOL),
)
def digital_fulfilment(context: AssetExecutionContext, warehouse: Warehouse, vault: CredentialVault,
                       codeswholesale: CodesWholesaleResource) -> MaterializeResult:
    """Every unit of a digital product on the store's confirmed orders with exactly one key (the
    merchant's pool first, else bought from CodesWholesale exactly once), and every order whose units
    all have keys handed to delivery; a fully digital order whose buyer has every key becomes fulfilled
    and its marketplace is told. Safe to run at any time and as often as wanted."""
    with worded_failure():
        result = fulfil(warehouse, vault, codeswholesale, context.partition_key)
    if result.delivery_errors:
        context.log.warning(f"{len(result.delivery_errors)} order(s) wait for delivery: {result.delivery_errors[0]}")
    if result.purchase_errors:
        context.log.warning(f"{len(result.purchase_errors)} purchase step(s) failed (tried again next run): "
                            f"{result.purchase_errors[0]}")
    if result.settle_errors:
        context.log.warning(f"{len(result.settle_errors)} delivered order(s) could not be recorded as fulfilled "
                            f"(their marketplace refused; tried again next run): {result.settle_errors[0]}")
    return MaterializeResult(metadata=result.as_metadata())


digital_fulfilment_job = define_asset_job(
    "digital_fulfilment_job", selection=[DIGITAL_FULFILMENT], partitions_def=digital_stores,
    description="Fulfil a store's digital order lines now: pool keys, purchases, deliveries.")


# Below this share of the day's attempted digital units delivered, the check fails.
SUCCESS_RATE_FLOOR_PERCENT = 95.0


@asset_check(asset=DIGITAL_FULFILMENT, description="Digital fulfilment success rate: delivered / attempted units per "
                                                   "store over the last day, at least 95%.")
def digital_fulfilment_success_rate(warehouse: Warehouse) -> AssetCheckResult:
    with warehouse.begin() as conn:
        rows = conn.execute(query_beside(__file__, "digital_success_rate.sql")).mappings().all()
    low = [r for r in rows if r["success_rate_percent"] < SUCCESS_RATE_FLOOR_PERCENT]
    return AssetCheckResult(
        passed=not low, severity=AssetCheckSeverity.ERROR,
        description="every store delivered at least 95% of its digital units" if not low else
        "below 95%: " + ", ".join(f"{r['store']} {r['success_rate_percent']}%" for r in low),
        metadata={"stores": len(rows), "below": len(low),
                  "rates": MetadataValue.json({r["store"]: float(r["success_rate_percent"]) for r in rows})})
