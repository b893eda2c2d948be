"""Loading a supplier feed into the canonical catalog: parse -> map -> quarantine -> stage -> merge.

`load_feed` streams a feed file through its reader and the source's compiled mapping, and COPYs every
good row straight into a staging table, while bad rows go to ops.quarantine with their line, raw text
and reason. A big file is parsed by several worker processes, one part each (see `parallel`), and the
loader relays their COPY text; whatever goes wrong there, the file is read in this process instead.
Then one set-based merge writes only what changed. All catalog writes happen in one transaction: a run
either applies the whole feed or nothing.

Why the feed path stages text rather than going through CatalogWriter's typed stage and hash: on a
million-row refresh the catalog writer's merge spends its time hashing every staged row with
`md5(row(...)::text)` (type output for numeric, arrays and jsonb) and materialising the whole feed
several times over. Here Python has already checked every value, so the stage holds text, Postgres
hashes each row while the COPY streams in (on the core the loader is not using), the merge first keeps
only the rows whose hash differs, and only those are cast, written and their translations compared.
The hash covers titles and descriptions too, so a changed title is a changed product and an unchanged
product's translations are never looked at. The semantics are CatalogWriter's: unchanged rows are not
written, a stale row (older source timestamp) never overwrites a newer one, the last of repeated ids
wins. The content hash is the feed loader's own: a source is always loaded by one loader.

Counting: rows read = rows loaded (inserted or updated) + rows unchanged (identical to what the catalog
holds, stale, or repeated further down the feed) + rows quarantined.

Quarantine rows are written in batches on a connection of their own, each batch committed, so a run
that fails (too many bad rows, a broken file) still leaves its evidence behind.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import Connection, Engine, text

from marketsync.assets.catalog.columns import PRODUCT_COLUMNS
from marketsync.assets.catalog.exceptions import auto_resolve
from marketsync.assets.catalog.matching import lock_store_catalog
from marketsync.assets.catalog.runs import ImportRun, RunCounts
from marketsync.assets.feeds import parallel
from marketsync.assets.feeds import sources as feed_sources
from marketsync.assets.feeds.readers import CountingReader
from marketsync.assets.feeds.staging import ALL_BAD_ABORT_ROWS, Stager, prepare
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.scrubbing import process_scrubber
from marketsync.resources.sql_files import query_beside, sql_beside

QUARANTINE_BATCH_ROWS = 1000    # bad rows per quarantine transaction
PROGRESS_EVERY_ROWS = 100_000   # how often the run's row counts are committed while parsing
MAX_RAW_CHARS = 100_000         # the raw text kept per quarantined row
log = logging.getLogger(__name__)
_FEED_LOCK = 0x6D73_6664  # advisory lock namespace "msfd": one load per source at a time
# A big first load changes what the planner should know about the catalog before it links products.
_ANALYZE_AFTER_INSERTS = 10_000
# After this many new products the load vacuums the catalog itself (see _vacuum_catalog).
_VACUUM_AFTER_INSERTS = 100_000


@dataclass
class ImportResult:
    """What one feed import did. rows_read = rows_loaded + rows_unchanged + rows_quarantined; rows_skipped
    are the file's rows that are no product of their own (the mapping's skip and group rules), not read."""

    import_run_id: int
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_unchanged: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    inserted: int = 0
    updated: int = 0
    stale: int = 0
    translations_written: int = 0
    translations_removed: int = 0
    products_linked: int = 0
    exceptions_resolved: int = 0
    bytes_read: int = 0
    parse_workers: int = 1  # processes that parsed the file (see parallel)
    seconds: float = 0.0
    error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0


@contextmanager
def open_feed(path_or_file: str | os.PathLike | IO[bytes]) -> Iterator[IO[bytes]]:
    """A binary file object for a path (opened and closed here) or a caller's binary file object."""
    if hasattr(path_or_file, "read"):
        yield path_or_file  # type: ignore[misc]
        return
    try:
        # (Opened outside `with` so that only open()'s own OSError is worded here, not the caller's.)
        handle = open(path_or_file, "rb", buffering=1 << 20)  # noqa: SIM115 - `with handle:` below closes it
    except OSError as exc:
        raise MarketsyncError(f"cannot open feed file {os.fspath(path_or_file)}: {exc.strerror}") from None
    with handle:
        yield handle


class QuarantineWriter:
    """Bad rows of one run, written to ops.quarantine in batches, each committed on its own."""

    def __init__(self, engine: Engine, import_run_id: int, source_name: str, dagster_run_id: str | None):
        self.engine = engine
        self.import_run_id = import_run_id
        self.source = f"feed:{source_name}"
        self.dagster_run_id = dagster_run_id
        self.count = 0
        self._batch: list[tuple] = []
        # How many rows were staged so far (set by the loader): a feed whose first
        # ALL_BAD_ABORT_ROWS rows are all bad is stopped there.
        self.staged: Callable[[], int] | None = None

    def add(self, position: int, raw: str, reason: str) -> None:
        self.count += 1
        # Scrubbed of the process's secrets: a row may hold what it should not (rows are input).
        scrub = process_scrubber().scrub
        self._batch.append((position, _storable(scrub(raw)), _storable(scrub(reason))))
        if len(self._batch) >= QUARANTINE_BATCH_ROWS:
            self.flush()
        if self.count == ALL_BAD_ABORT_ROWS and self.staged is not None and self.staged() == 0:
            raise _TooManyBadRows(
                f"the first {self.count} rows were all rejected, so reading stopped: is the source's mapping, "
                "delimiter or encoding right? (ops.quarantine has the reasons)")

    def discard(self) -> None:
        """Forget every bad row of this run (a parallel attempt set aside: the rerun reports them again)."""
        self._batch = []
        self.count = 0
        with self.engine.begin() as conn:
            conn.execute(query_beside(__file__, "quarantine_discard.sql"), {"import_run_id": self.import_run_id})

    def flush(self) -> None:
        if not self._batch:
            return
        rows, self._batch = self._batch, []
        with self.engine.begin() as conn:
            cursor = conn.connection.driver_connection.cursor()
            with cursor.copy(sql_beside(__file__, "quarantine_copy.sql")) as copy:
                for position, raw, reason in rows:
                    copy.write_row((self.source, min(position, 2**31 - 1), raw, reason, self.dagster_run_id,
                                    self.import_run_id))


def _storable(value: str) -> str:
    """Text Postgres can store: no NUL, valid UTF-8, and not unbounded."""
    if len(value) > MAX_RAW_CHARS:
        value = value[:MAX_RAW_CHARS] + f"... [{len(value) - MAX_RAW_CHARS} more characters]"
    if "\x00" in value:
        value = value.replace("\x00", "\\0")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


class _TooManyBadRows(MarketsyncError):
    pass


def load_feed(engine: Engine, source: dict[str, Any], path_or_file: str | os.PathLike | IO[bytes], *,
              dagster_run_id: str | None = None, run: ImportRun | None = None) -> ImportResult:
    """Import one feed file of `source` (a dict from sources.get_source) into the canonical catalog.

    `path_or_file` is a local path or a binary file object (the transport has already downloaded it);
    `run` is the import run the caller opened for the download, if any. Returns the run's result; a run
    that fails (more bad rows than the source's max_bad_share, an unreadable file, a database error)
    applies nothing, records why, and raises MarketsyncError (or the original error).
    """
    started = time.perf_counter()
    run = run or ImportRun.start(engine, source, dagster_run_id)
    quarantine = QuarantineWriter(engine, run.import_run_id, source["name"], dagster_run_id)
    counts = RunCounts()
    result = ImportResult(import_run_id=run.import_run_id, status=run.status)
    try:
        run.parsing()
        path = None if hasattr(path_or_file, "read") else path_or_file
        with open_feed(path_or_file) as handle:
            counting = CountingReader(handle)
            with engine.connect() as conn:
                with conn.begin():
                    _load(conn, source, path, counting, quarantine, run, counts, result)
        quarantine.flush()
        counts.quarantined = quarantine.count
        result.status = run.finish(counts)
        if result.inserted > _VACUUM_AFTER_INSERTS:
            mark = time.perf_counter()
            _vacuum_catalog(engine)
            result.timings["vacuum"] = time.perf_counter() - mark
    except BaseException as exc:
        try:
            quarantine.flush()
        except Exception:  # noqa: S110 - the run's own failure is the news; a lost quarantine batch is secondary
            pass
        counts.quarantined = quarantine.count
        counts.read = max(counts.read, counts.quarantined)
        message = str(exc) if isinstance(exc, MarketsyncError) else f"{type(exc).__name__}: {exc}"
        result.status, result.error = "failed", message
        if run.status not in ("completed", "partially_completed", "failed"):
            try:
                run.fail(message.strip() or type(exc).__name__, counts)
            except Exception:  # noqa: S110 - the database is gone too: the original error is the one to see
                pass
        raise
    finally:
        result.rows_read, result.rows_quarantined = counts.read, counts.quarantined
        result.rows_loaded, result.rows_unchanged = run.counts.loaded, run.counts.unchanged
        result.bytes_read, result.rows_skipped = counts.bytes_read, counts.skipped
        result.seconds = time.perf_counter() - started
    return result


def _load(conn: Connection, source: dict[str, Any], path: str | os.PathLike | None, raw: CountingReader,
          quarantine: QuarantineWriter, run: ImportRun, counts: RunCounts, result: ImportResult) -> None:
    """Stream, stage and merge inside the caller's transaction (see the module docstring)."""
    timings = result.timings
    mark = time.perf_counter()
    # The reader is made even when the parse workers read the file: it checks the mapping against the
    # feed (a CSV header without a mapped column fails here, clearly), and it is the fallback.
    reader, compiled = prepare(source, raw, quarantine.add)
    # Naive source timestamps are UTC, as the mapping's Python side reads them; the merge's sorts and
    # hashes of a million rows fit in memory instead of spilling to disk.
    conn.execute(query_beside(__file__, "feed_lock.sql"),
                 {"namespace": _FEED_LOCK, "source_id": source["source_id"] % 2**31})
    conn.exec_driver_sql("SET LOCAL TimeZone = 'UTC'")
    conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
    # The catalog's pages are in memory or on SSD: an index lookup per changed row beats scanning every
    # product of the source when 1% changed (the default cost model assumes spinning disks).
    conn.exec_driver_sql("SET LOCAL random_page_cost = 1.1")
    conn.exec_driver_sql(_stage_sql(len(compiled.languages)))
    copy_sql = f"COPY feed_stage (part, {', '.join(compiled.stage_columns)}) FROM STDIN (NULL '')"

    accepted = None
    parts = parallel.plan_parts(path, source) if path is not None else None
    if parts:
        # A savepoint, so a parallel attempt set aside leaves an empty stage and a usable transaction.
        attempt = conn.begin_nested()
        try:
            accepted, counts.skipped = _stream_parts(conn, copy_sql, path, source, parts, quarantine, run,
                                                          counts)
        except parallel.SplitFailed as exc:
            attempt.rollback()
            log.warning("feed %s: parallel parsing set aside (%s); reading it in one process", source["name"], exc)
            quarantine.discard()
            counts.read = counts.quarantined = 0
        else:
            attempt.commit()
            counts.bytes_read = os.path.getsize(path)
            result.parse_workers = len(parts)
    if accepted is None:
        accepted, counts.skipped = _stream(conn, copy_sql, reader, compiled, quarantine, run, counts, raw)
    timings["parse_and_stage"] = time.perf_counter() - mark

    share = feed_sources.max_bad_share(source)
    if counts.read and counts.quarantined > share * counts.read:
        raise _TooManyBadRows(
            f"{counts.quarantined} of {counts.read} rows are bad ({counts.quarantined / counts.read:.1%}), more than "
            f"the source allows ({share:.1%}); nothing was loaded, the bad rows are in ops.quarantine "
            f"(import run {run.import_run_id})")
    run.upserting(counts)

    mark = time.perf_counter()
    params = {"source_id": source["source_id"]}
    # Only the id's statistics: what the merge's join and sort are planned on (a third of a full ANALYZE).
    conn.exec_driver_sql("ANALYZE feed_stage (external_id)")
    conn.execute(query_beside(__file__, "feed_classify.sql"), params)
    conn.exec_driver_sql("ANALYZE feed_changes")
    merged = conn.execute(query_beside(__file__, "feed_apply.sql"), params).one()
    result.inserted, result.updated, result.stale = merged.inserted, merged.updated, merged.stale
    timings["merge"] = time.perf_counter() - mark
    mark = time.perf_counter()
    conn.exec_driver_sql("ANALYZE feed_written")
    languages = {"languages": list(compiled.languages)}
    if merged.inserted and compiled.languages:
        result.translations_written += conn.execute(
            text(_translations_sql("feed_translations_new.sql", len(compiled.languages))), languages).rowcount
    if merged.updated and compiled.languages:
        translations = conn.execute(
            text(_translations_sql("feed_translations.sql", len(compiled.languages))), languages).one()
        result.translations_written += translations.written
        result.translations_removed = translations.removed
    elif merged.updated:
        result.translations_removed = conn.execute(query_beside(__file__, "feed_removed_translations.sql")).rowcount
    timings["translations"] = time.perf_counter() - mark

    mark = time.perf_counter()
    if merged.inserted > _ANALYZE_AFTER_INSERTS:
        conn.exec_driver_sql("ANALYZE core.marketplace_products, core.marketplace_product_translations")
    keys = feed_sources.connect_by(source)
    if keys:
        result.products_linked, result.exceptions_resolved = connect_products(conn, source, keys)
    timings["connect"] = time.perf_counter() - mark

    loaded = merged.inserted + merged.updated
    counts.loaded, counts.unchanged = loaded, accepted - loaded


class _Progress:
    """Commits the run's row counts every PROGRESS_EVERY_ROWS rows, for the UI to show while it parses."""

    def __init__(self, run: ImportRun, quarantine: QuarantineWriter, bytes_read: Callable[[], int]):
        self.run, self.quarantine, self.bytes_read = run, quarantine, bytes_read
        self.next = PROGRESS_EVERY_ROWS

    def __call__(self, staged: int) -> None:
        read = staged + self.quarantine.count
        if read >= self.next:
            self.next = read - read % PROGRESS_EVERY_ROWS + PROGRESS_EVERY_ROWS
            self.run.progress(RunCounts(read=read, quarantined=self.quarantine.count, bytes_read=self.bytes_read()))


def _stream(conn: Connection, copy_sql: str, reader, compiled, quarantine: QuarantineWriter, run: ImportRun,
            counts: RunCounts, raw: CountingReader) -> tuple[int, int]:
    """Read, map and COPY every record in this process; returns (rows staged, rows skipped as no product
    of their own). `counts.read` is kept up to date even when reading fails half-way."""
    cursor = conn.connection.driver_connection.cursor()
    stager = None
    try:
        with cursor.copy(copy_sql) as copy:
            stager = Stager(compiled, reader, lambda data, _rows: copy.write(data), quarantine.add, prefix="0\t",
                            on_batch=_Progress(run, quarantine, lambda: raw.bytes_read))
            quarantine.staged = stager.staged
            staged = stager.run()
            return staged, stager.skipped
    finally:
        counts.read = (stager.staged() if stager else 0) + quarantine.count
        counts.quarantined = quarantine.count
        counts.bytes_read = raw.bytes_read
        quarantine.staged = None


def _stream_parts(conn: Connection, copy_sql: str, path: str | os.PathLike, source: dict[str, Any],
                  parts: list[parallel.Part], quarantine: QuarantineWriter, run: ImportRun,
                  counts: RunCounts) -> tuple[int, int]:
    """Read the parts of the file in parse workers and COPY what they send; returns (rows staged, rows
    skipped). Raises parallel.SplitFailed when the caller must read the file in one process instead."""
    cursor = conn.connection.driver_connection.cursor()
    size = os.path.getsize(path)
    staged = 0
    try:
        with cursor.copy(copy_sql) as copy:
            staged, skipped = parallel.stage_parts(path, source, parts, write=copy.write, add_bad=quarantine.add,
                                                   progress=_Progress(run, quarantine, lambda: size))
            return staged, skipped
    finally:
        counts.read = staged + quarantine.count
        counts.quarantined = quarantine.count


def _vacuum_catalog(engine: Engine) -> None:
    """VACUUM (ANALYZE) the catalog after a bulk insert. The first reads of freshly inserted rows set
    their hint bits, which writes every page again, and autovacuum would soon scan them all anyway;
    done now, by the load that made the rows, the next refresh neither pays for it nor competes with it."""
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            "VACUUM (ANALYZE) core.marketplace_products, core.marketplace_product_translations")


def _stage_sql(language_count: int) -> str:
    hashed_columns = [c for c in PRODUCT_COLUMNS if c not in ("external_id", "source_updated_at")]
    translation_columns = [f"{kind}_{i}" for i in range(1, language_count + 1)
                           for kind in ("title", "description", "description_text")]
    # NULL and empty text are the same to the loader (empty values are NULL); the unit separator keeps
    # "ab" + "c" apart from "a" + "bc".
    hashed = " || chr(31) || ".join(f"coalesce({c}, '')" for c in hashed_columns + translation_columns)
    return (sql_beside(__file__, "feed_stage.sql")
            .replace("{translation_columns}", "".join(f", {c} text" for c in translation_columns))
            .replace("{hashed}", hashed))


def _translations_sql(name: str, language_count: int) -> str:
    titles = ", ".join(f"s.title_{i}" for i in range(1, language_count + 1))
    descriptions = ", ".join(f"s.description_{i}" for i in range(1, language_count + 1))
    texts = ", ".join(f"s.description_text_{i}" for i in range(1, language_count + 1))
    return (sql_beside(__file__, name).replace("{titles}", titles).replace("{descriptions}", descriptions)
            .replace("{texts}", texts))


def connect_products(conn: Connection, source: dict[str, Any], keys: list[str]) -> tuple[int, int]:
    """Link the store's own products to the source's products by SKU and/or GTIN (where not linked
    yet), then let pending order exceptions whose GTIN now matches resolve by themselves. Returns
    (products linked, exceptions resolved). Inside the caller's transaction."""
    lock_store_catalog(conn, source["store_id"])
    params = {"source_id": source["source_id"], "store_id": source["store_id"]}
    linked = 0
    for key in keys:
        linked += len(conn.execute(query_beside(__file__, f"link_by_{key}.sql"), params).all())
    resolved = auto_resolve(conn, source["store_id"])
    return linked, resolved
