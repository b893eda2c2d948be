"""The database's list of channels (ops.channels), kept equal to the declarations in the code.

An account's channel must be a row of ops.channels (a foreign key, migration 0009): the database itself
refuses an account of a channel nobody declared. A channel is recorded when its first account is added,
so a new channel package needs no migration of its own.
"""
from __future__ import annotations

from sqlalchemy import Connection

from marketsync.assets.channel_registry import channel
from marketsync.resources.sql_files import query_beside


def record_channel(conn: Connection, name: str) -> None:
    """Records the declared channel `name` in ops.channels (a worded error for an undeclared one)."""
    declaration = channel(name)
    conn.execute(query_beside(__file__, "record_channel.sql"), {"name": declaration.name, "label": declaration.label})
