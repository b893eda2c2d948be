"""Import runs: rows_skipped, the rows of a grouped feed that are no product of their own.

Revision ID: 0024_import_rows_skipped
Revises: 0023_analytics_indexes
"""
from marketsync.resources.migrations import apply_sql

revision = "0024_import_rows_skipped"
down_revision = "0023_analytics_indexes"


def upgrade() -> None:
    apply_sql("0024_import_rows_skipped.up.sql")


def downgrade() -> None:
    apply_sql("0024_import_rows_skipped.down.sql")
