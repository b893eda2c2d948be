"""Per-store separation: the store grants of store analyst roles (ops.store_roles), the stores, accounts
and catalog sources the current user reads (core.visible_*), and row-level security on the core tables.

Revision ID: 0015_store_separation
Revises: 0014_privacy
"""
from marketsync.resources.migrations import apply_sql

revision = "0015_store_separation"
down_revision = "0014_privacy"


def upgrade() -> None:
    apply_sql("0015_store_separation.up.sql")


def downgrade() -> None:
    apply_sql("0015_store_separation.down.sql")
