"""The order status history written once per statement (from its transition tables) instead of once per
row: the same rows, a fraction of the cost when an import merges a page of orders.

Revision ID: 0017_status_history_statement
Revises: 0016_order_status_history
"""
from marketsync.resources.migrations import apply_sql

revision = "0017_status_history_statement"
down_revision = "0016_order_status_history"


def upgrade() -> None:
    apply_sql("0017_status_history_statement.up.sql")


def downgrade() -> None:
    apply_sql("0017_status_history_statement.down.sql")
