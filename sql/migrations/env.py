"""Alembic environment: the DDL lives in sql/*.sql; revisions only say which files to apply."""
from alembic import context
from sqlalchemy import create_engine

from marketsync.resources.migrations import VERSION_TABLE

url = context.config.get_main_option("sqlalchemy.url")
engine = create_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, version_table=VERSION_TABLE,
                      version_table_schema="public", transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
