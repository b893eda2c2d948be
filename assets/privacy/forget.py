"""Removing the personal data of a set of orders' buyers from every place it is held (`places.py`),
in the caller's transaction: what an erasure does for one buyer and retention for a batch of orders.
"""
from __future__ import annotations

from collections import Counter

from sqlalchemy import Connection

from marketsync.assets.privacy.places import ORDER_PLACES, SWEPT
from marketsync.resources.sql_files import query_beside, sql_beside


def forget_orders(conn: Connection, order_ids: list[int], reason: str, *,
                  sweep_store: int | None = None, also_known: tuple[str, ...] = ()) -> Counter[str]:
    """Remove the buyers' personal data of `order_ids` (reason 'erasure' or 'retention') and return
    the rows changed per table. With `sweep_store`, the store's logs are also searched for the buyers'
    values and `also_known` (an erasure: one buyer's values, and the address asked for, against the
    store's logs, which finds a quarantined order that never became one of `order_ids`)."""
    changed: Counter[str] = Counter()
    if not order_ids and sweep_store is None:
        return changed
    conn.exec_driver_sql(sql_beside(__file__, "forget_stage.sql"))
    conn.execute(query_beside(__file__, "forget_collect.sql"), {"order_ids": order_ids})
    for place in ORDER_PLACES:
        changed[place.table] += conn.execute(query_beside(__file__, place.sql), {"reason": reason}).rowcount
    if sweep_store is not None:
        conn.execute(query_beside(__file__, "forget_known.sql"), {"extra": list(also_known)})
        for place in SWEPT:
            changed[place.table] += conn.execute(query_beside(__file__, place.sql),
                                                 {"store_id": sweep_store}).rowcount
    # Empty the session tables now: a caller may forget several batches in one transaction.
    conn.exec_driver_sql("DELETE FROM forget_orders; DELETE FROM forget_known")
    return changed
