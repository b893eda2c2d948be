"""Digital goods: digital products and their guards, purchase intents (at most one purchase per order item
unit), and the keys (the pool and those bought), encrypted and assigned to one order item unit each.

Revision ID: 0010_digital_goods
Revises: 0009_declared_channels
"""
from marketsync.resources.migrations import apply_sql

revision = "0010_digital_goods"
down_revision = "0009_declared_channels"


def upgrade() -> None:
    apply_sql("0010_digital_goods.up.sql")


def downgrade() -> None:
    apply_sql("0010_digital_goods.down.sql")
