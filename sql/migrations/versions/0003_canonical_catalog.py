"""The canonical multi-language catalog, catalog sources, import runs and the push inbox.

Revision ID: 0003_canonical_catalog
Revises: 0002_catalog_matching
"""
from marketsync.resources.migrations import apply_sql

revision = "0003_canonical_catalog"
down_revision = "0002_catalog_matching"


def upgrade() -> None:
    apply_sql("0003_canonical_catalog.up.sql")


def downgrade() -> None:
    apply_sql("0003_canonical_catalog.down.sql")
