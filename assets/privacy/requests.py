"""The record of access requests, erasures and retention runs (ops.privacy_requests): who, when, how
many orders and rows per place. It never holds the buyer's address or anything derived from it."""
from __future__ import annotations

from collections.abc import Mapping

import orjson
from sqlalchemy import Connection

from marketsync.resources.sql_files import query_beside


def open_request(conn: Connection, store_id: int, kind: str, requested_by: str) -> int:
    return conn.execute(query_beside(__file__, "request_open.sql"),
                        {"store_id": store_id, "kind": kind, "by": requested_by}).scalar_one()


def add_to_request(conn: Connection, request_id: int, orders: int, rows: Mapping[str, int]) -> None:
    """Count a batch of the request's work, in the batch's own transaction."""
    conn.execute(query_beside(__file__, "request_add.sql"),
                 {"request_id": request_id, "orders": orders, "rows": orjson.dumps(dict(rows)).decode()})


def close_request(conn: Connection, request_id: int, orders: int = 0, rows: Mapping[str, int] | None = None) -> None:
    """The request is complete (with its last counts); one never closed was interrupted."""
    if orders or rows:
        add_to_request(conn, request_id, orders, rows or {})
    conn.execute(query_beside(__file__, "request_close.sql"), {"request_id": request_id})


def list_requests(conn: Connection, store: str | None = None, limit: int = 50) -> list[dict]:
    """The newest requests and runs first."""
    return [dict(row._mapping) for row in conn.execute(query_beside(__file__, "requests_list.sql"),
                                                       {"store": store, "limit": limit})]
