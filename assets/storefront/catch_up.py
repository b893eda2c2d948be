"""The storefront's daily catch-up (its orders asset): what the API received, reconciled with the
canonical orders, and the answers kept for retries pruned."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection

from marketsync.assets.accounts import Account
from marketsync.assets.storefront.intake import merge_documents, prune_keys
from marketsync.assets.storefront.normalise import Version
from marketsync.resources.sql_files import query_beside

LOOK_BACK_HOURS = 48  # a day's catch-up, with a day of overlap for a missed run


@dataclass
class CatchUp:
    remerged: int = 0
    keys_pruned: int = 0
    received_last_day: dict[str, int] = field(default_factory=dict)

    def metadata(self) -> dict:
        return {"orders_remerged": self.remerged, "idempotency_keys_pruned": self.keys_pruned,
                "orders_received_last_day": sum(self.received_last_day.values()),
                **{f"received_last_day_{status}": n for status, n in self.received_last_day.items()}}


def catch_up(conn: Connection, account: Account) -> CatchUp:
    """Merge any received version the canonical orders do not hold, prune old Idempotency-Keys, and
    count what arrived in the last day; in the caller's transaction."""
    result = CatchUp()
    versions = conn.execute(query_beside(__file__, "unmerged_versions.sql"),
                            {"a": account.account_id, "hours": LOOK_BACK_HOURS}).all()
    if versions:
        merge_documents(conn, [(account, Version.of(row.payload, row.payload_sha)) for row in versions],
                        cause="storefront catch-up: a received version merged again")
        result.remerged = len(versions)
    result.keys_pruned = prune_keys(conn, account, int(account.setting("idempotency_key_days") or 7))
    result.received_last_day = dict(conn.execute(query_beside(__file__, "received_summary.sql"),
                                                 {"a": account.account_id}).tuples().all())
    return result
