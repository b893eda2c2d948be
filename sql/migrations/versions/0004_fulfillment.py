"""Fulfillment through JTL-FFN (stock, inbounds, outbounds, shipments) and the inbound control sheet.

Revision ID: 0004_fulfillment
Revises: 0003_canonical_catalog
"""
from marketsync.resources.migrations import apply_sql

revision = "0004_fulfillment"
down_revision = "0003_canonical_catalog"


def upgrade() -> None:
    apply_sql("0004_fulfillment.up.sql")


def downgrade() -> None:
    apply_sql("0004_fulfillment.down.sql")
