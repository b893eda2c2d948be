"""Stores (ops.stores): a merchant's code, the partition key of everything that is theirs. A store comes
into being with its first account or catalog source (`ensure_store`), and only with a valid code."""
from __future__ import annotations

import re

from sqlalchemy import Connection, text

from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside

_STORE_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


def validate_store_code(code: str) -> None:
    """Store codes name partitions and appear in URLs: lower-case letters, digits, '-' and '_'."""
    if not _STORE_CODE.fullmatch(code or ""):
        raise MarketsyncError(f"store code '{code}' must be lower-case letters, digits, '-' or '_'")


def ensure_store(conn: Connection, code: str) -> int:
    """The store_id of store `code`, created if new (its code checked first)."""
    validate_store_code(code)
    return conn.execute(query_beside(__file__, "store_upsert.sql"), {"c": code}).scalar_one()


def find_store_id(conn: Connection, code: str) -> int | None:
    """The store_id of store `code`; None when there is no such store."""
    return conn.execute(text("SELECT store_id FROM ops.stores WHERE code = :c"), {"c": code}).scalar()


def store_id_for(conn: Connection, code: str) -> int:
    """The store_id of store `code`; a worded error when there is no such store."""
    store_id = find_store_id(conn, code)
    if store_id is None:
        raise MarketsyncError(f"unknown store '{code}'")
    return store_id
