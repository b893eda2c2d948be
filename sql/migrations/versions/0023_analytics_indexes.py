"""Analytics: indexes for the filters and joins of the analysts' views (sql/analytics_question_views.sql).

Revision ID: 0023_analytics_indexes
Revises: 0022_personal_data_roles
"""
from marketsync.resources.migrations import apply_sql

revision = "0023_analytics_indexes"
down_revision = "0022_personal_data_roles"


def upgrade() -> None:
    apply_sql("0023_analytics_indexes.up.sql")


def downgrade() -> None:
    apply_sql("0023_analytics_indexes.down.sql")
