"""Digital orders delivered: the cross-channel status `fulfilled` for an order whose items are all
digital and whose buyer has every key (core.orders.digital_delivered_at).

Revision ID: 0011_digital_delivered
Revises: 0010_digital_goods
"""
from marketsync.resources.migrations import apply_sql

revision = "0011_digital_delivered"
down_revision = "0010_digital_goods"


def upgrade() -> None:
    apply_sql("0011_digital_delivered.up.sql")


def downgrade() -> None:
    apply_sql("0011_digital_delivered.down.sql")
