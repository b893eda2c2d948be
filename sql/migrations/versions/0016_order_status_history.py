"""Every change of an order's status, channel state and sync status as a row, with what caused it and
who; backfilled for existing orders from what is known.

Revision ID: 0016_order_status_history
Revises: 0015_store_separation
"""
from marketsync.resources.migrations import apply_sql

revision = "0016_order_status_history"
down_revision = "0015_store_separation"


def upgrade() -> None:
    apply_sql("0016_order_status_history.up.sql")


def downgrade() -> None:
    apply_sql("0016_order_status_history.down.sql")
