"""Schema migrations: Alembic tracks which revisions ran; the DDL itself is plain SQL under sql/."""
from __future__ import annotations

from pathlib import Path

from alembic import command, op
from alembic.config import Config

from marketsync.resources.database import sqlalchemy_url

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"
# Our own version table: Dagster's storage, also managed by Alembic, may share the database.
VERSION_TABLE = "marketsync_schema_version"


def apply_sql(*names: str) -> None:
    """Run SQL files from sql/ inside the current Alembic migration's transaction."""
    for name in names:
        op.get_bind().exec_driver_sql((SQL_DIR / name).read_text())


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SQL_DIR / "migrations"))
    # ConfigParser interpolation would treat a '%' in a URL-encoded password as a placeholder.
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
    return config


# Views, functions and grants that always describe the current schema: (re)applied after the revisions
# when the database reaches head, in this order, never by a revision (an old revision would otherwise
# run today's view of a column a later revision adds). Each file is idempotent (CREATE OR REPLACE).
REPEATABLE = ("analytics_views.sql", "analytics_catalog_views.sql", "stock_availability.sql",
              "analytics_stock_views.sql", "analytics_price_views.sql", "analytics_digital_views.sql",
              "operations_metrics.sql", "analytics_question_views.sql",
              "support_views.sql", "privacy_functions.sql", "analyst_role.sql")


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the warehouse to `revision` (at head: then the repeatable views, functions and grants);
    running it again on an up-to-date database changes nothing."""
    command.upgrade(alembic_config(database_url), revision)
    if revision == "head":
        apply_repeatable(database_url)


def apply_repeatable(database_url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.begin() as conn:
            for name in REPEATABLE:
                conn.exec_driver_sql((SQL_DIR / name).read_text())
    finally:
        engine.dispose()


def current_revision(database_url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()
    finally:
        engine.dispose()
