"""The data dictionary: a comment on every schema, and on every table, view and column of core.

Revision ID: 0021_data_dictionary
Revises: 0020_description_text
"""
from marketsync.resources.migrations import apply_sql

revision = "0021_data_dictionary"
down_revision = "0020_description_text"


def upgrade() -> None:
    apply_sql("0021_data_dictionary.up.sql")


def downgrade() -> None:
    apply_sql("0021_data_dictionary.down.sql")
