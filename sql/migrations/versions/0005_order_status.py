"""One order status across channels: the mapping table and core.orders.status kept by a trigger.

Revision ID: 0005_order_status
Revises: 0004_fulfillment
"""
from resources.migrations import apply_sql

revision = "0005_order_status"
down_revision = "0004_fulfillment"


def upgrade() -> None:
    apply_sql("0005_order_status.up.sql")


def downgrade() -> None:
    apply_sql("0005_order_status.down.sql")
