"""Indexes for the operations metrics, /metrics and the status page at fleet size: each account's last
successful stock push, the outbound writes still queued, orders by when they were ordered.

Revision ID: 0013_operations_indexes
Revises: 0012_operations
"""
from marketsync.resources.migrations import apply_sql

revision = "0013_operations_indexes"
down_revision = "0012_operations"


def upgrade() -> None:
    apply_sql("0013_operations_indexes.up.sql")


def downgrade() -> None:
    apply_sql("0013_operations_indexes.down.sql")
