"""Import runs: one row in ops.import_runs per catalog import, so people see what every feed load did.

A run moves through pending -> downloading -> parsing -> upserting and ends completed (every row read
was loaded or found unchanged), partially_completed (some rows were quarantined, the rest loaded) or
failed (nothing was applied). A local file skips downloading. Each transition is its own short
transaction, committed at once, so the Dagster UI and `analytics.import_runs` show a run's progress
while its data is still being written in the loader's own, much longer, transaction.

Every run accounts for every row it read: rows_read = rows_loaded + rows_unchanged + rows_quarantined,
whatever the outcome. In a failed run nothing reached the catalog, so every row that was not
quarantined counts as unchanged: the catalog is exactly as unchanged by it as by an identical row.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside

STATUSES = ("pending", "downloading", "parsing", "upserting", "completed", "partially_completed", "failed")
FINAL = ("completed", "partially_completed", "failed")
# Where each status may be reached from.
_FROM: dict[str, tuple[str, ...]] = {
    "downloading": ("pending",),
    "parsing": ("pending", "downloading"),
    "upserting": ("parsing",),
    "completed": ("upserting",),
    "partially_completed": ("upserting",),
    "failed": ("pending", "downloading", "parsing", "upserting"),
}


@dataclass
class RunCounts:
    """What a run has done so far. loaded + unchanged + quarantined = read once the run is over."""

    read: int = 0
    loaded: int = 0
    unchanged: int = 0
    quarantined: int = 0
    bytes_read: int = 0
    skipped: int = 0  # rows that are no product of their own (a grouped feed's variants): not in `read`

    @property
    def balanced(self) -> bool:
        return self.read == self.loaded + self.unchanged + self.quarantined


class ImportRun:
    """One import of one catalog source; every method commits on its own (see the module docstring)."""

    def __init__(self, engine: Engine, import_run_id: int, source_id: int, status: str = "pending"):
        self.engine = engine
        self.import_run_id = import_run_id
        self.source_id = source_id
        self.status = status
        self.counts = RunCounts()

    @classmethod
    def start(cls, engine: Engine, source: dict[str, Any], dagster_run_id: str | None = None) -> ImportRun:
        """Record a new pending run of `source` (a dict from sources.get_source)."""
        with engine.begin() as conn:
            run_id = conn.execute(query_beside(__file__, "run_start.sql"), {
                "source_id": source["source_id"], "mapping_version": source.get("mapping_version"),
                "dagster_run_id": dagster_run_id,
            }).scalar_one()
        return cls(engine, run_id, source["source_id"])

    def downloading(self) -> None:
        """The feed is being fetched (the transport calls this before it downloads)."""
        self._move("downloading")

    def parsing(self) -> None:
        """Rows are being read, mapped and staged."""
        self._move("parsing")

    def upserting(self, counts: RunCounts) -> None:
        """Every row is read; the staged rows are being merged into the catalog."""
        self._move("upserting", counts)

    def finish(self, counts: RunCounts) -> str:
        """The merge is committed: completed, or partially_completed when rows were quarantined."""
        if not counts.balanced:
            raise MarketsyncError(
                f"import run {self.import_run_id} does not add up: read {counts.read} != loaded {counts.loaded} "
                f"+ unchanged {counts.unchanged} + quarantined {counts.quarantined}")
        status = "partially_completed" if counts.quarantined else "completed"
        self._move(status, counts)
        return status

    def fail(self, error: str, counts: RunCounts | None = None) -> None:
        """Nothing was applied. Rows read and not quarantined count as unchanged (see the module docstring)."""
        counts = counts or self.counts
        settled = RunCounts(read=counts.read, loaded=0, unchanged=max(counts.read - counts.quarantined, 0),
                            quarantined=min(counts.quarantined, counts.read), bytes_read=counts.bytes_read)
        if counts.quarantined > counts.read:  # cannot happen; never let the record contradict itself
            settled.read = counts.quarantined
            settled.quarantined = counts.quarantined
        self._move("failed", settled, error=error[:2000])

    def progress(self, counts: RunCounts) -> None:
        """Record how far the run has got, without changing its status."""
        self.counts = counts
        with self.engine.begin() as conn:
            conn.execute(query_beside(__file__, "run_progress.sql"), {
                "import_run_id": self.import_run_id, "rows_read": counts.read,
                "rows_quarantined": counts.quarantined, "bytes_read": counts.bytes_read,
            })

    def _move(self, status: str, counts: RunCounts | None = None, error: str | None = None) -> None:
        counts = counts or self.counts
        with self.engine.begin() as conn:
            moved = conn.execute(query_beside(__file__, "run_transition.sql"), {
                "import_run_id": self.import_run_id, "status": status, "allowed_from": list(_FROM[status]),
                "rows_read": counts.read, "rows_loaded": counts.loaded, "rows_unchanged": counts.unchanged,
                "rows_quarantined": counts.quarantined, "bytes_read": counts.bytes_read, "error": error,
                "rows_skipped": counts.skipped, "final": status in FINAL,
            }).scalar()
            if moved is None:
                current = conn.execute(query_beside(__file__, "run_status.sql"),
                                       {"import_run_id": self.import_run_id}).scalar()
                raise MarketsyncError(f"import run {self.import_run_id} cannot go from {current} to {status}")
        self.status = status
        self.counts = counts


def get_run(conn, import_run_id: int) -> dict[str, Any]:
    """An import run as a dict (all of its ops.import_runs columns)."""
    row = conn.execute(query_beside(__file__, "run_get.sql"), {"import_run_id": import_run_id}).first()
    if row is None:
        raise MarketsyncError(f"there is no import run {import_run_id}")
    return dict(row._mapping)
