"""A Postgres session-level advisory lock held for a block of code: one worker at a time per key, across
every process of the deployment, without a table of locks."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text


@contextmanager
def try_session_lock(engine: Engine, namespace: int, key: int) -> Iterator[bool]:
    """Try the lock (namespace, key) on a connection of its own, held until the block ends; yields whether
    it was taken (False: another session holds it; nothing is waited for). The connection keeps no
    transaction open meanwhile, so the lock holds no snapshot back and the block's own transactions see
    what others commit. A session that dies releases its locks, so a killed worker never leaves one."""
    with engine.connect() as conn:
        taken = bool(conn.execute(text("SELECT pg_try_advisory_lock(:n, :k)"), {"n": namespace, "k": key}).scalar())
        conn.commit()
        try:
            yield taken
        finally:
            if taken:
                conn.execute(text("SELECT pg_advisory_unlock(:n, :k)"), {"n": namespace, "k": key})
                conn.commit()
