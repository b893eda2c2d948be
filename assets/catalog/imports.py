"""A catalog import through one CatalogWriter transaction, recorded as an ops.import_runs row
(assets.catalog.runs): how the API-fed sources (the Letzshop product feed, the CodesWholesale price list)
share their bookkeeping. read = loaded + unchanged + quarantined, always."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from dagster import MetadataValue
from sqlalchemy import Connection, text

from marketsync.assets.catalog.canonical import CatalogWriter
from marketsync.assets.catalog.runs import FINAL, ImportRun, RunCounts
from marketsync.resources.errors import MarketsyncError


@dataclass
class CatalogImportSummary:
    """One import's figures. read = loaded + unchanged + quarantined (records refused)."""

    refused_what: ClassVar[str] = "records"  # what the refusal message counts

    import_run_id: int | None = None
    status: str = "pending"
    read: int = 0
    loaded: int = 0
    unchanged: int = 0
    quarantined: int = 0
    inserted: int = 0
    updated: int = 0
    translations_written: int = 0
    duplicates: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    reasons: list[str] = field(default_factory=list)

    def metadata(self) -> dict[str, Any]:
        figures = {name: value for name, value in vars(self).items() if isinstance(value, (int, float))}
        return figures | {"status": self.status, "first_refusals": MetadataValue.json(self.reasons[:5])}

    def counts(self) -> RunCounts:
        return RunCounts(read=self.read, loaded=self.loaded, unchanged=self.unchanged, quarantined=self.quarantined,
                         bytes_read=self.bytes_read)

    def too_many_refused(self, max_bad_share: float) -> str:
        share = self.quarantined / self.read if self.read else 0.0
        first = f"; first: {self.reasons[0]}" if self.reasons else ""
        return (f"{self.quarantined} of {self.read} {self.refused_what} ({share:.1%}) refused, above the limit of "
                f"{max_bad_share:.1%}: nothing was loaded{first}")


def merge_unless_refused(run: ImportRun, conn: Connection, writer: CatalogWriter, summary: CatalogImportSummary,
                         max_bad_share: float) -> None:
    """Merge the staged rows, inside the import's transaction; when more than `max_bad_share` was
    refused, merge nothing (status 'failed'; the quarantined records are committed all the same)."""
    staged_rows = writer.staged
    estimate = staged_rows + summary.quarantined
    if estimate and summary.quarantined / estimate > max_bad_share:
        summary.read, summary.status = estimate, "failed"
        summary.unchanged = summary.loaded = 0
        conn.execute(text("TRUNCATE stage_catalog, stage_catalog_translations"))
        return
    run.upserting(RunCounts(read=estimate, quarantined=summary.quarantined, bytes_read=summary.bytes_read))
    result = writer.merge()
    summary.duplicates = staged_rows - result.staged  # an id listed twice is one product; the last listing wins
    summary.inserted, summary.updated, summary.loaded = result.inserted, result.updated, result.loaded
    summary.unchanged = result.unchanged + result.stale
    summary.translations_written = result.translations_written
    summary.read = result.staged + summary.quarantined


def close_run(run: ImportRun, summary: CatalogImportSummary, max_bad_share: float,
              refused: type[MarketsyncError] = MarketsyncError) -> None:
    """Once the import's transaction has committed: the run is completed or partially_completed; or,
    when merge_unless_refused refused the import, failed, and `refused` is raised saying why."""
    if summary.status != "failed":
        summary.status = run.finish(summary.counts())
        return
    message = summary.too_many_refused(max_bad_share)
    run.fail(message, summary.counts())
    raise refused(message)


@contextmanager
def failure_recorded(run: ImportRun, summary: CatalogImportSummary) -> Iterator[None]:
    """Around an import: when it breaks off (its transaction rolled back), the run fails with the
    error's first line, and the error is raised as it was. A run that is already closed stays so."""
    try:
        yield
    except Exception as exc:
        summary.status = "failed"
        if run.status not in FINAL:
            message = str(exc).strip() if isinstance(exc, MarketsyncError) else ""
            message = message or f"import failed: {type(exc).__name__}"
            run.fail(message.splitlines()[0][:500], summary.counts())
        raise
