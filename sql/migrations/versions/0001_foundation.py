"""Foundation: schemas, accounts, credentials, canonical orders, exceptions, outbound queue, sync log.

Revision ID: 0001_foundation
Revises:
"""
from marketsync.resources.migrations import apply_sql

revision = "0001_foundation"
down_revision = None


def upgrade() -> None:
    apply_sql("0001_foundation.up.sql")


def downgrade() -> None:
    apply_sql("0001_foundation.down.sql")
