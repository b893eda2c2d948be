"""Follow-up of new orders (core.orders.followed_up_at) and one open alert per failure streak.

Revision ID: 0007_order_followup
Revises: 0006_stock
"""
from marketsync.resources.migrations import apply_sql

revision = "0007_order_followup"
down_revision = "0006_stock"


def upgrade() -> None:
    apply_sql("0007_order_followup.up.sql")


def downgrade() -> None:
    apply_sql("0007_order_followup.down.sql")
