"""What every sensor does when the warehouse is down: one worded line per tick, no traceback, and the
daemon keeps ticking (a raised error would write a full traceback into the daemon's log on every tick
and mark the tick failed). The tick is skipped with the reason, e.g.

    warehouse unreachable: connection failed: connection to server at "127.0.0.1", port 5433 failed: ...

and picked up again on the first tick after the database is back (cursors are untouched by a skip).
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from dagster import SkipReason
from sqlalchemy.exc import DBAPIError, OperationalError

log = logging.getLogger(__name__)


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an error's text (connection errors carry no secrets there: libpq
    names the host and port, never the password)."""
    for line in str(getattr(exc, "orig", None) or exc).splitlines():
        if line.strip():
            return line.strip()[:300]
    return type(exc).__name__


def is_unreachable(exc: BaseException) -> bool:
    """A lost or refused database connection, as opposed to an error in our own SQL."""
    if isinstance(exc, OperationalError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (ConnectionError, TimeoutError))


def warehouse_guard(sensor_fn: Callable) -> Callable:
    """Decorate a sensor's function (below `@sensor`): a warehouse that cannot be reached skips the tick
    with `SkipReason("warehouse unreachable: <first line>")` and logs that one line."""

    @functools.wraps(sensor_fn)
    def guarded(*args, **kwargs):
        try:
            return sensor_fn(*args, **kwargs)
        except Exception as exc:
            if not is_unreachable(exc):
                raise
            reason = f"warehouse unreachable: {first_line(exc)}"
            context = kwargs.get("context") or (args[0] if args else None)
            logger = getattr(context, "log", None) or log
            logger.warning(reason)
            return SkipReason(reason)

    return guarded
