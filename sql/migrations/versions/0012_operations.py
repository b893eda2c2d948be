"""Operations: metrics and per-store thresholds, alerts as conditions with severity, their routes and
notices, the operations endpoints' tokens, the cached API status per account.

Revision ID: 0012_operations
Revises: 0011_digital_delivered
"""
from marketsync.resources.migrations import apply_sql

revision = "0012_operations"
down_revision = "0011_digital_delivered"


def upgrade() -> None:
    apply_sql("0012_operations.up.sql")


def downgrade() -> None:
    apply_sql("0012_operations.down.sql")
