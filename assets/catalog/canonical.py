"""Writing products from any catalog source into the canonical catalog (core.marketplace_products and
core.marketplace_product_translations), touching only what changed.

Every loader (supplier feeds pulled or pushed, the Letzshop product feed, CodesWholesale) streams plain
tuples in `PRODUCT_COLUMNS` order into a `CatalogWriter`, which COPYs them into staging tables and then
merges set-based: rows whose content hash is unchanged are not written at all, so a refresh where 1% of
a feed changed writes about 1% of the rows. A record with a `source_updated_at` older than the stored
one never overwrites it (stale updates lose).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection

from marketsync.assets.catalog.columns import PRODUCT_COLUMNS, TRANSLATION_COLUMNS
from marketsync.resources.sql_files import query_beside, sql_beside
from marketsync.resources.warehouse import copy_rows


@dataclass
class MergeResult:
    """staged = inserted + updated + unchanged + stale (a stale row is older than what we hold)."""

    staged: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    translations_written: int = 0

    @property
    def loaded(self) -> int:
        return self.inserted + self.updated


class CatalogWriter:
    """Stages one batch of a source's products inside the caller's transaction, then merges it."""

    def __init__(self, conn: Connection, source_id: int):
        self.conn = conn
        self.source_id = source_id
        self.staged = 0
        self.translations = 0
        conn.exec_driver_sql(sql_beside(__file__, "catalog_stage.sql"))

    def write_products(self, rows: Iterable[tuple]) -> int:
        """COPY product tuples (PRODUCT_COLUMNS order) into the stage; returns how many."""
        count = copy_rows(self.conn, "stage_catalog", PRODUCT_COLUMNS, rows)
        self.staged += count
        return count

    def write_translations(self, rows: Iterable[tuple]) -> int:
        """COPY (external_id, language, title, description) tuples into the stage."""
        count = copy_rows(self.conn, "stage_catalog_translations", TRANSLATION_COLUMNS, rows)
        self.translations += count
        return count

    def merge(self) -> MergeResult:
        """Apply the stage: insert new products, update changed ones, leave the rest untouched."""
        params = {"source_id": self.source_id}
        self.conn.exec_driver_sql("ANALYZE stage_catalog")
        counts = self.conn.execute(query_beside(__file__, "catalog_merge.sql"), params).one()
        translations = (self.conn.execute(query_beside(__file__, "catalog_merge_translations.sql"), params).scalar_one()
                        if self.translations else 0)
        # Emptied now, not only at commit: a second batch in the same transaction starts clean.
        self.conn.exec_driver_sql("TRUNCATE stage_catalog, stage_catalog_translations")
        self.staged = self.translations = 0
        return MergeResult(staged=counts.staged, inserted=counts.inserted, updated=counts.updated,
                           unchanged=counts.staged - counts.inserted - counts.updated - counts.stale,
                           stale=counts.stale, translations_written=translations)
