"""The sync log: one ops.sync_log row per sync operation (an import, a drain of the outbound queue, ...),
saying what ran for which account, how many records it handled, what went wrong and how long it took.

The row is written when the operation starts, in its own committed transaction, so an operation whose
process dies still shows up (started, never completed); it is completed at the end, also when the
operation fails. It is the operator's answer to "did last night's sync run, and what did it do?".
"""
from __future__ import annotations

import json
import logging
from types import TracebackType
from typing import Any, Literal

from sqlalchemy import Connection, Engine

from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside

log = logging.getLogger(__name__)

DIRECTIONS = ("inbound", "outbound", "internal")
MAX_ERRORS = 50  # errors kept per row; beyond that only a count, so one bad run cannot bloat the log
MAX_ERROR_CHARS = 500


def describe_error(exc: BaseException) -> str:
    """A short, storable line for an exception. A MarketsyncError's message is written for people and
    free of secrets; any other exception's text is not vetted (it may quote a URL or a request), so only
    its type is stored and the details stay in the run's log."""
    if isinstance(exc, MarketsyncError):
        return (str(exc) or type(exc).__name__)[:MAX_ERROR_CHARS]
    return f"unexpected {type(exc).__name__} (details in the run's log)"


class SyncLog:
    """Context manager recording one operation in ops.sync_log.

        with SyncLog(warehouse.engine, "import_shipments", "inbound", account_id=account.account_id,
                     triggered_by="schedule", run_id=context.run_id) as sync:
            for shipment in shipments:
                ...
                sync.record(ok, error)

    It takes the engine, not a connection: the log must survive the rollback of the work it describes.
    """

    def __init__(self, engine: Engine, operation: str, direction: str, *, account_id: int | None = None,
                 triggered_by: str = "cli", run_id: str | None = None):
        if direction not in DIRECTIONS:
            raise MarketsyncError(f"sync direction must be one of {', '.join(DIRECTIONS)}, not '{direction}'")
        self.engine = engine
        self.operation = operation
        self.direction = direction
        self.account_id = account_id
        self.triggered_by = triggered_by
        self.run_id = run_id
        self.sync_id: int | None = None
        self.processed = 0
        self.succeeded = 0
        self.failed = 0
        self.errors: list[str] = []
        self._dropped_errors = 0
        self.failed_operation = False  # the operation itself ended on an error (not only some records)

    # ------------------------------------------------------------ counting
    def add(self, processed: int = 0, succeeded: int = 0, failed: int = 0) -> None:
        """Add to the counts, e.g. a whole batch at once."""
        self.processed += processed
        self.succeeded += succeeded
        self.failed += failed

    def record(self, ok: bool, error: str | None = None) -> None:
        """One record handled: it succeeded, or it failed (with a short reason, when given)."""
        self.add(processed=1, succeeded=int(ok), failed=int(not ok))
        if error:
            self.error(error)

    def error(self, message: str | BaseException) -> None:
        """Note an error. Messages must not contain secrets; exceptions are reduced by `describe_error`."""
        line = describe_error(message) if isinstance(message, BaseException) else str(message)[:MAX_ERROR_CHARS]
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(line)
        else:
            self._dropped_errors += 1

    def stored_errors(self) -> list[str]:
        if not self._dropped_errors:
            return list(self.errors)
        return [*self.errors, f"... and {self._dropped_errors} more errors"]

    # ------------------------------------------------------------ writing
    def __enter__(self) -> SyncLog:
        with self.engine.begin() as conn:
            self.sync_id = conn.execute(
                query_beside(__file__, "sync_log_start.sql"),
                {"a": self.account_id, "op": self.operation, "d": self.direction, "t": self.triggered_by,
                 "r": self.run_id},
            ).scalar_one()
        return self

    def flush(self, completed: bool = False) -> None:
        """Write the counts and errors so far (a long operation can show its progress)."""
        if self.sync_id is None:
            raise RuntimeError("SyncLog.flush outside its `with` block")
        with self.engine.begin() as conn:
            conn.execute(
                query_beside(__file__, "sync_log_flush.sql"),
                {"p": self.processed, "s": self.succeeded, "f": self.failed,
                 "e": json.dumps(self.stored_errors()), "done": completed, "failed": self.failed_operation,
                 "id": self.sync_id},
            )

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Literal[False]:
        if exc is None:
            self.flush(completed=True)
            return False
        self.error(exc)
        self.failed_operation = True
        try:
            self.flush(completed=True)
        except Exception:
            # The operation's own failure is what the caller must see, not the log's.
            log.exception("could not complete sync_log row %s", self.sync_id)
        return False  # never swallow the operation's exception


ABANDONED = "run ended without completing (killed?)"


def open_run_ids(conn: Connection, limit: int = 500) -> list[str]:
    """Dagster runs with a sync-log row still open (started, never completed), oldest first."""
    return list(conn.execute(query_beside(__file__, "open_sync_runs.sql"), {"lim": limit}).scalars())


def close_abandoned(conn: Connection, run_ids: list[str], reason: str = ABANDONED) -> int:
    """Close the open rows of runs that have ended (killed, crashed, failed before the log could be
    completed), marking them failed with `reason`; returns how many rows were closed."""
    if not run_ids:
        return 0
    return len(conn.execute(query_beside(__file__, "close_abandoned_sync_rows.sql"),
                            {"run_ids": list(run_ids), "reason": reason}).all())


def recent_logs(conn: Connection, store: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The latest sync operations, newest first, optionally of one store, with store code and channel."""
    rows = conn.execute(
        query_beside(__file__, "recent_sync_logs.sql"),
        {"store": store, "lim": limit},
    ).mappings().all()
    return [dict(row) for row in rows]
