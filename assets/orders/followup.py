"""The follow-up of new orders, the same stages for every channel: match the order items to the store's
catalog (`core/<channel>_order_matches`), then apply the store's auto-confirm rule
(`ops/<channel>_auto_confirmations`) and mark the orders followed up (core.orders.followed_up_at).

The mark is what the new-orders sensor reads: an account with orders not followed up gets a follow-up
run, whatever order concurrent imports committed them in, and a follow-up that fails marks nothing, so
its orders are asked for again.
"""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    DynamicPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)
from sqlalchemy import Connection, text

from marketsync.assets.accounts import Account, get_account
from marketsync.assets.alerts.new_orders import notify_new_orders
from marketsync.assets.catalog.exceptions import auto_resolve
from marketsync.assets.catalog.matching import match_order_items
from marketsync.assets.channel_registry import channels, declared
from marketsync.assets.orders.actions import auto_confirm_ready_orders
from marketsync.assets.table_metadata import stored_in, with_table_metadata
from marketsync.resources.sql_files import query_beside
from marketsync.resources.warehouse import Warehouse

OWNERS = ["team:data-engineering"]


def confirms(channel: str) -> bool:
    """Whether the channel's orders must be confirmed (accepted) by the merchant before they ship, so the
    auto-confirm rule applies (its declaration says so: Letzshop). Amazon and eBay orders are accepted
    when paid; they have nothing to confirm."""
    declaration = declared(channel)
    return bool(declaration and declaration.orders and declaration.orders.confirms)


# What matching looks up: the store's catalog, whichever channel filled it (each declares its catalog
# asset; deps by key only, so orders stay below the channels).
CATALOG_KEYS = [AssetKey(list(c.catalog)) for c in channels().values() if c.catalog]


def matches_key(channel: str) -> AssetKey:
    return AssetKey(["core", f"{channel}_order_matches"])


def auto_confirmations_key(channel: str) -> AssetKey:
    return AssetKey(["ops", f"{channel}_auto_confirmations"])


def match_new_orders(conn: Connection, account: Account) -> tuple[dict, int]:
    """Resolve exceptions the catalog now answers, match the store's pending order items; returns the
    matching summary as metadata and how many of the account's items are still pending."""
    resolved = auto_resolve(conn, account.store_id)
    summary = match_order_items(conn, account.store_id)
    pending = conn.execute(query_beside(__file__, "items_pending_match.sql"), {"a": account.account_id}).scalar_one()
    metadata = {**{k: v for k, v in vars(summary).items() if isinstance(v, int)}, "exceptions_auto_resolved": resolved}
    return metadata, pending


def confirm_and_mark(conn: Connection, account: Account, triggered_by: str) -> dict:
    """Apply the auto-confirm rule (where the channel confirms orders), then mark the orders it saw as
    followed up. The candidates are read before the rule runs, so every order marked was visible to it."""
    candidates = list(conn.execute(query_beside(__file__, "followup_candidates.sql"),
                                   {"account_id": account.account_id}).scalars())
    metadata: dict = {"orders_followed_up": len(candidates)}
    if not confirms(account.channel):
        metadata.update(auto_confirm="not applicable",
                        reason=f"{account.channel} orders need no confirmation: nothing to confirm", queued=0)
    elif not account.setting("auto_confirm"):
        metadata.update(auto_confirm=False, queued=0)
    else:
        queued = auto_confirm_ready_orders(conn, account, triggered_by=triggered_by)
        metadata.update(auto_confirm=True, queued=len(queued), orders=MetadataValue.json(queued[:50]))
    if candidates:
        conn.execute(text("UPDATE core.orders SET followed_up_at = now() WHERE order_id = ANY(:ids)"),
                     {"ids": candidates})
        # With the mark, in its transaction: each order is notified once, whatever runs at once.
        metadata["new_order_notices"] = notify_new_orders(conn, account.store_id, candidates,
                                                          triggered_by=triggered_by)
    return metadata


def followup_assets(channel: str, partitions_def: DynamicPartitionsDefinition, orders_key: AssetKey,
                    group_name: str = "orders") -> list[AssetsDefinition]:
    """The matches and auto-confirmations assets of one channel, partitioned like its orders asset."""

    @asset(key=matches_key(channel), deps=[orders_key, *CATALOG_KEYS], metadata=stored_in("core.order_items"),
           partitions_def=partitions_def, group_name=group_name, owners=OWNERS, kinds={channel, "postgres"},
           description=f"Every {channel} order item linked to a catalog product (by GTIN-14, then SKU) or to a "
                       f"placeholder with an exception a person must resolve (product_not_found, gtin_mismatch, "
                       f"duplicate_gtin).",
           check_specs=[AssetCheckSpec("every_unit_decided", asset=matches_key(channel),
                                       description="No order item is left waiting for matching.")])
    def order_matches(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
        with warehouse.begin() as conn:
            account = get_account(conn, context.partition_key, channel)
            metadata, pending = match_new_orders(conn, account)
        return MaterializeResult(
            metadata=with_table_metadata(warehouse, "core.order_items", metadata),
            check_results=[AssetCheckResult(check_name="every_unit_decided", passed=pending == 0,
                                            severity=AssetCheckSeverity.WARN, metadata={"pending_units": pending})])

    @asset(key=auto_confirmations_key(channel), deps=[matches_key(channel)],
           partitions_def=partitions_def, group_name=group_name, owners=OWNERS, kinds={channel, "postgres"},
           description=f"The auto-confirm rule (account setting `auto_confirm`) applied to the store's new "
                       f"{channel} orders: confirmations queued for orders whose every item matched and that have "
                       f"no open exception; the orders are then marked followed up (core.orders.followed_up_at)."
                       + ("" if confirms(channel) else
                          f" {channel} orders need no confirmation: nothing is queued."))
    def auto_confirmations(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
        with warehouse.begin() as conn:
            account = get_account(conn, context.partition_key, channel)
            metadata = confirm_and_mark(conn, account, triggered_by=f"auto_confirm:{context.run_id}")
        return MaterializeResult(metadata=metadata)

    return [order_matches, auto_confirmations]
