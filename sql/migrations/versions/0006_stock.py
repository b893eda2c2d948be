"""Stock out: settings, manual adjustments, listing rules, the inventory sync log, the ledger, what each
channel acknowledged, and the change feed.

Revision ID: 0006_stock
Revises: 0005_channel_orders
"""
from marketsync.resources.migrations import apply_sql

revision = "0006_stock"
down_revision = "0005_channel_orders"


def upgrade() -> None:
    apply_sql("0006_stock.up.sql")


def downgrade() -> None:
    apply_sql("0006_stock.down.sql")
