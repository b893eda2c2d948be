"""The channels an account may be of: the declared channels in ops.channels, not a CHECK constraint's list.

Revision ID: 0009_declared_channels
Revises: 0008_stock_listing_rules
"""
from marketsync.resources.migrations import apply_sql

revision = "0009_declared_channels"
down_revision = "0008_stock_listing_rules"


def upgrade() -> None:
    apply_sql("0009_declared_channels.up.sql")


def downgrade() -> None:
    apply_sql("0009_declared_channels.down.sql")
