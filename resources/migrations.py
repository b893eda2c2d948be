"""Schema migrations: Alembic tracks which revisions ran; the DDL itself is plain SQL under sql/."""
from __future__ import annotations

from pathlib import Path

from alembic import command, op
from alembic.config import Config

from resources.database import sqlalchemy_url

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


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the warehouse to `revision`; running it again on an up-to-date database changes nothing."""
    command.upgrade(alembic_config(database_url), revision)


def current_revision(database_url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()
    finally:
        engine.dispose()
