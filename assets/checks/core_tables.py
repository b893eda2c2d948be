"""Asset checks on the core tables: what must hold in the data whatever wrote it.

Per channel, on its orders asset: no channel order id stored twice; every order item matched to a product
or explained by an exception; the lines add up to the items' total the channel states. On
core/channel_stock: every acknowledged quantity is the ledger row it names. Each check is one SQL query
(in sql/, beside this file) returning how many rows fail and up to five examples (order numbers, SKUs;
never a buyer's data). They run after the asset's materialisations that include them, or from the UI.
"""
from __future__ import annotations

from dagster import AssetCheckResult, AssetChecksDefinition, AssetCheckSeverity, AssetKey, MetadataValue, asset_check

from marketsync.assets.channel_registry import channels
from marketsync.resources.sql_files import query_beside
from marketsync.resources.warehouse import Warehouse

# Every channel that imports orders (assets/<channel>/channel.py declares it).
CHANNELS = tuple(name for name, c in channels().items() if c.orders is not None)
CHANNEL_STOCK = AssetKey(["core", "channel_stock"])
# How long a new order's items may wait for their follow-up (matching) before the check calls them lost.
MATCHING_GRACE_MINUTES = 60


def orders_key(channel: str) -> AssetKey:
    return AssetKey(list(channels()[channel].orders.asset))


def _result(warehouse: Warehouse, query: str, params: dict, ok: str, failing: str) -> AssetCheckResult:
    with warehouse.begin() as conn:
        row = conn.execute(query_beside(__file__, query), params).one()
    examples = list(row.examples or [])
    return AssetCheckResult(
        passed=row.failing == 0, severity=AssetCheckSeverity.ERROR,
        description=ok if row.failing == 0 else f"{row.failing} {failing}; e.g. {', '.join(examples)}",
        metadata={"failing": row.failing, "examples": MetadataValue.json(examples)})


def _channel_checks(channel: str) -> list[AssetChecksDefinition]:
    asset = orders_key(channel)
    params = {"channel": channel}

    @asset_check(asset=asset, name="no_duplicate_channel_ids",
                 description=f"No {channel} order id names two orders of one account.")
    def no_duplicate_channel_ids(warehouse: Warehouse) -> AssetCheckResult:
        return _result(warehouse, "duplicate_channel_ids.sql", params, "every channel order id stored once",
                       "channel order id(s) stored more than once")

    @asset_check(asset=asset, name="items_matched_or_excepted",
                 description=f"Every {channel} order item is matched to a product or has an exception "
                             f"(pending, or ignored by a person); none waits for matching over "
                             f"{MATCHING_GRACE_MINUTES} minutes.")
    def items_matched_or_excepted(warehouse: Warehouse) -> AssetCheckResult:
        return _result(warehouse, "unexplained_items.sql", {**params, "grace_minutes": MATCHING_GRACE_MINUTES},
                       "every item matched or explained by an exception", "item(s) neither matched nor excepted")

    @asset_check(asset=asset, name="totals_equal_lines",
                 description=f"Each {channel} order's lines add up to the items' total the channel states "
                             "(shipping and collected tax come on top where the channel charges them).")
    def totals_equal_lines(warehouse: Warehouse) -> AssetCheckResult:
        return _result(warehouse, "totals_off_lines.sql", params, "every order's lines add up to its items' total",
                       "order(s) whose lines do not add up")

    return [no_duplicate_channel_ids, items_matched_or_excepted, totals_equal_lines]


@asset_check(asset=CHANNEL_STOCK, name="stock_ledger_adds_up",
             description="Every acknowledged quantity a channel lists is the pushed quantity of the ledger row it "
                         "names, answered accepted or delivered by the channel.")
def stock_ledger_adds_up(warehouse: Warehouse) -> AssetCheckResult:
    return _result(warehouse, "stock_ledger_off.sql", {}, "every acknowledged quantity is its ledger row's",
                   "listing(s) whose acknowledged quantity differs from the ledger")


core_table_checks = [check for channel in CHANNELS for check in _channel_checks(channel)] + [stock_ledger_adds_up]
