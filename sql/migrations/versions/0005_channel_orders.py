"""Orders from more channels: one order status across channels (the mapping table, core.orders.status
kept by a trigger), Amazon's and eBay's payloads as received, and each account's order cursor.

Revision ID: 0005_channel_orders
Revises: 0004_fulfillment
"""
from marketsync.resources.migrations import apply_sql

revision = "0005_channel_orders"
down_revision = "0004_fulfillment"


def upgrade() -> None:
    apply_sql("0005_channel_orders.up.sql")


def downgrade() -> None:
    apply_sql("0005_channel_orders.down.sql")
