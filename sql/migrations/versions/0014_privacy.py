"""Buyers' personal data: a retention period per store, which orders had it removed and why, the
record of access requests, erasures and retention runs, and the indexes that find a buyer's rows.

Revision ID: 0014_privacy
Revises: 0013_operations_indexes
"""
from marketsync.resources.migrations import apply_sql

revision = "0014_privacy"
down_revision = "0013_operations_indexes"


def upgrade() -> None:
    apply_sql("0014_privacy.up.sql")


def downgrade() -> None:
    apply_sql("0014_privacy.down.sql")
