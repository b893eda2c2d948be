"""The drift check: where a channel lets us read its stock, compare it with what it acknowledged and
repair the difference.

Someone may change stock in the channel's own back office, or the channel may lose an update it had
confirmed. Each listing whose channel quantity differs from our acknowledged number gets the channel's
number as its acknowledged one; the next delta push then sends the computed quantity to exactly those
listings (and `repair=True` runs that push at once)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from sqlalchemy import text

from marketsync.assets.stock.channels import build_channel
from marketsync.assets.stock.push import ChannelFactory, PushResult, push_stock
from marketsync.assets.stock.settings import load_settings
from marketsync.assets.sync_log import SyncLog
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse

READ_BATCH = 500


@dataclass
class DriftResult:
    store: str
    channel: str
    checked: int = 0
    drifted: int = 0
    missing_on_channel: int = 0
    examples: list[dict] = field(default_factory=list)
    repair: dict | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _batches(items: Sequence, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def drift_check(warehouse: Warehouse, vault: CredentialVault, store: str, channel: str, *, repair: bool = False,
                triggered_by: str = "cli", run_id: str | None = None,
                channel_factory: ChannelFactory = build_channel, clients: dict | None = None) -> DriftResult:
    with warehouse.begin() as conn:
        settings = load_settings(conn, store, channel)
        adapter = channel_factory(conn, settings, vault, clients)
        acknowledged = conn.execute(query_beside(__file__, "acknowledged_listings.sql"),
                                    {"a": settings.account_id}).all()
    result = DriftResult(store, channel)
    with SyncLog(warehouse.engine, "stock_drift_check", "inbound", account_id=settings.account_id,
                 triggered_by=triggered_by, run_id=run_id) as log:
        drifted: list[tuple[int, int | None]] = []
        for batch in _batches(acknowledged, READ_BATCH):
            seen = adapter.read_stock([row.sku for row in batch])
            if seen is None:
                raise MarketsyncError(f"{channel}'s API offers no way to read stock ({settings.adapter}): "
                                      "there is nothing to compare with")
            for row in batch:
                result.checked += 1
                actual = seen.get(row.sku)
                if actual != row.acknowledged_quantity:
                    drifted.append((row.product_id, actual))
                    result.missing_on_channel += actual is None
                    if len(result.examples) < 20:
                        result.examples.append({"sku": row.sku, "acknowledged": row.acknowledged_quantity,
                                                "on_channel": actual})
        result.drifted = len(drifted)
        log.add(processed=result.checked, succeeded=result.checked - result.drifted, failed=result.drifted)
        if drifted:
            with warehouse.begin() as conn:
                # The channel's own number becomes the acknowledged one; unknown listings are forgotten.
                conn.execute(query_beside(__file__, "channel_stock_set_acknowledged.sql"),
                             [{"a": settings.account_id, "p": p, "q": q} for p, q in drifted if q is not None])
                missing = [p for p, q in drifted if q is None]
                if missing:
                    conn.execute(text("DELETE FROM core.channel_stock WHERE account_id = :a AND product_id = ANY(:p)"),
                                 {"a": settings.account_id, "p": missing})
    if repair and drifted:
        pushed: PushResult = push_stock(warehouse, vault, store, channel, mode="incremental",
                                        triggered_by=triggered_by, run_id=run_id, channel_factory=channel_factory,
                                        clients=clients)
        result.repair = pushed.as_dict()
    return result
