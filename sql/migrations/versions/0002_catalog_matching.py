"""Catalog matching: index exceptions by the product they were resolved to.

Revision ID: 0002_catalog_matching
Revises: 0001_foundation
"""
from marketsync.resources.migrations import apply_sql

revision = "0002_catalog_matching"
down_revision = "0001_foundation"


def upgrade() -> None:
    apply_sql("0002_catalog_matching.up.sql")


def downgrade() -> None:
    apply_sql("0002_catalog_matching.down.sql")
