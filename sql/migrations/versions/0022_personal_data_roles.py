"""Personal data by role: pseudonymous buyer keys, postcode areas, the support schema.

Revision ID: 0022_personal_data_roles
Revises: 0021_data_dictionary
"""
from marketsync.resources.migrations import apply_sql

revision = "0022_personal_data_roles"
down_revision = "0021_data_dictionary"


def upgrade() -> None:
    apply_sql("0022_personal_data_roles.up.sql")


def downgrade() -> None:
    apply_sql("0022_personal_data_roles.down.sql")
