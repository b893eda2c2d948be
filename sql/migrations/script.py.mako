"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
"""
from resources.migrations import apply_sql

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}


def upgrade() -> None:
    apply_sql("${up_revision}.up.sql")


def downgrade() -> None:
    apply_sql("${up_revision}.down.sql")
