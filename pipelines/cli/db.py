"""`marketsync db ...`: the warehouse database (migrations, its URL, its data dictionary)."""
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


@db.command("dictionary")
@click.option("--readme", "readme", type=click.Path(exists=True, dir_okay=False),
              help="Rewrite the data dictionary section of this file (between its markers) instead of printing.")
@click.option("--asset-columns", is_flag=True,
              help="Also rewrite assets/table_columns.json, the columns (with these comments) of every table an "
                   "asset is stored in, which the asset definitions carry as dagster/column_schema.")
@pass_runtime
def db_dictionary(rt: Runtime, readme: str | None, asset_columns: bool) -> None:
    """Print the data dictionary (markdown) from the database's comments on core, analytics and support."""
    from pathlib import Path

    from marketsync.pipelines.data_dictionary import data_dictionary, replace_section

    with rt.warehouse.begin() as conn:
        dictionary = data_dictionary(conn)
    if readme is None and not asset_columns:
        click.echo(dictionary, nl=False)
        return
    if readme is not None:
        path = Path(readme)
        path.write_text(replace_section(path.read_text(), dictionary))
        click.echo(f"data dictionary written to {readme}")
    if asset_columns:
        from marketsync.pipelines.table_columns import write_table_columns  # loads the Dagster definitions

        with rt.warehouse.begin() as conn:
            click.echo(f"asset table columns written to {write_table_columns(conn)}")
