"""A fleet sync: many store accounts of one channel imported and followed up in one process, each store on
its own. It is what routine polling of hundreds of stores costs instead of a Dagster run per store.

Inside a batch every store keeps what a run of its own would give it: its own transactions, cursor and
sync-log row (the channel's import function writes them, the same one the store's import asset runs),
its own follow-up (matching, then the auto-confirm rule), and its own failure: a bad answer, a timeout or
a refused credential is caught for that store, recorded with its worded reason, and never stops, fails
or delays the other stores. Stores run a few at a time (each under its own credential and rate limit);
what they report is handed back as each one ends.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from dagster import AssetKey

from marketsync.assets.accounts import get_account
from marketsync.assets.orders.followup import auto_confirmations_key, confirm_and_mark, match_new_orders, matches_key
from marketsync.assets.sync_log import describe_error
from marketsync.assets.table_metadata import with_table_metadata
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse

# (warehouse, vault, channel client, store, run_id, triggered_by) -> each imported asset's metadata: the
# function a channel declares as its `Orders.import_store` (the one its import asset runs too).
ImportStore = Callable[[Warehouse, CredentialVault, Any, str, str | None, str], dict[AssetKey, dict]]


@dataclass(frozen=True)
class StoreSync:
    """How one store of a fleet sync ended: the metadata of each asset it materialised (the import's,
    then the follow-up's), or the stage that failed and its worded reason."""
    store: str
    materialized: dict[AssetKey, dict] = field(default_factory=dict)
    failed_stage: str | None = None  # "import" or "followup"
    error: str | None = None
    error_kind: str | None = None  # the client's classification (auth, rate_limited, server, ...)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failed_stage is None


def follow_up_store(warehouse: Warehouse, channel: str, store: str, triggered_by: str) -> dict[AssetKey, dict]:
    """The follow-up of the store's new orders, as its follow-up assets run it: match, then the
    auto-confirm rule and the followed-up mark (each stage in its own transaction)."""
    with warehouse.begin() as conn:
        account = get_account(conn, store, channel)
        matched, pending = match_new_orders(conn, account)
    with warehouse.begin() as conn:
        confirmed = confirm_and_mark(conn, account, triggered_by=triggered_by)
    return {matches_key(channel): with_table_metadata(warehouse, "core.order_items",
                                                      {**matched, "pending_units": pending}),
            auto_confirmations_key(channel): confirmed}


def sync_store(warehouse: Warehouse, vault: CredentialVault, client: Any, channel: str, store: str,
               import_store: ImportStore, run_id: str | None, triggered_by: str) -> StoreSync:
    """Import one store, then follow its new orders up; any failure is this store's alone."""
    started = time.perf_counter()
    materialized: dict[AssetKey, dict] = {}
    stage = "import"
    try:
        materialized.update(import_store(warehouse, vault, client, store, run_id, triggered_by))
        stage = "followup"
        materialized.update(follow_up_store(warehouse, channel, store, f"auto_confirm:{run_id}"))
    except Exception as exc:  # one store's failure, whatever it is, must not stop the others
        kind = getattr(exc, "kind", None)
        return StoreSync(store, materialized, stage, describe_error(exc), kind if isinstance(kind, str) else None,
                         time.perf_counter() - started)
    return StoreSync(store, materialized, seconds=time.perf_counter() - started)


def sync_fleet(stores: Iterable[str], sync_one: Callable[[str], StoreSync], concurrency: int) -> Iterator[StoreSync]:
    """`sync_one` for every store, `concurrency` at a time, yielding each store's outcome as it ends (so
    the caller reports it at once, from its own thread)."""
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="fleet-store") as pool:
        futures = [pool.submit(sync_one, store) for store in stores]
        for future in as_completed(futures):
            yield future.result()
