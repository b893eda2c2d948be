"""Stock out as merchants expect it: an unlisted listing is sent 0 once (core.stock_ledger.listed), and
with sync_zero_stock off a listing at or below the threshold is not pushed (never the threshold).

Revision ID: 0008_stock_listing_rules
Revises: 0007_order_followup
"""
from marketsync.resources.migrations import apply_sql

revision = "0008_stock_listing_rules"
down_revision = "0007_order_followup"


def upgrade() -> None:
    apply_sql("0008_stock_listing_rules.up.sql")


def downgrade() -> None:
    apply_sql("0008_stock_listing_rules.down.sql")
