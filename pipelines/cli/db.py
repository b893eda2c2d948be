"""`marketsync db ...`: the warehouse database (migrations, its URL)."""
from __future__ import annotations

import click

from marketsync.pipelines.cli.runtime import Runtime, pass_runtime


@click.group()
def db() -> None:
    """The warehouse database."""


@db.command("upgrade")
@pass_runtime
def db_upgrade(rt: Runtime) -> None:
    """Apply schema migrations (safe to re-run)."""
    from marketsync.resources import migrations
    from marketsync.resources.database import masked_url

    migrations.upgrade(rt.database_url)
    click.echo(f"database at revision {migrations.current_revision(rt.database_url)} ({masked_url(rt.database_url)})")


@db.command("url")
@pass_runtime
def db_url(rt: Runtime) -> None:
    """Print the warehouse URL (password masked)."""
    from marketsync.resources.database import masked_url

    click.echo(masked_url(rt.database_url))
