"""Prices out: price rules per store channel, price pushes, the price ledger and acknowledged prices.

Revision ID: 0019_prices
Revises: 0018_storefront
"""
from marketsync.resources.migrations import apply_sql

revision = "0019_prices"
# The lead's 0018 lands on main meanwhile; whoever merges second points this at 0018.
down_revision = "0018_storefront"


def upgrade() -> None:
    apply_sql("0019_prices.up.sql")


def downgrade() -> None:
    apply_sql("0019_prices.down.sql")
