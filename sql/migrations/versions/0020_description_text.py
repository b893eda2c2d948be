"""Feeds: the plain text of an HTML description beside it.

Revision ID: 0020_description_text
Revises: 0019_prices
"""
from marketsync.resources.migrations import apply_sql

revision = "0020_description_text"
down_revision = "0019_prices"


def upgrade() -> None:
    apply_sql("0020_description_text.up.sql")


def downgrade() -> None:
    apply_sql("0020_description_text.down.sql")
