"""The storefront channel: its order states, and the stored answers of its order API by Idempotency-Key.

Revision ID: 0018_storefront
Revises: 0017_status_history_statement
"""
from marketsync.resources.migrations import apply_sql

revision = "0018_storefront"
down_revision = "0017_status_history_statement"


def upgrade() -> None:
    apply_sql("0018_storefront.up.sql")


def downgrade() -> None:
    apply_sql("0018_storefront.down.sql")
