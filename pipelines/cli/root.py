"""The root `marketsync` group and its --debug flag; pipelines/cli/__init__.py adds every command group
to it. Each command does its work through the same modules the Dagster assets and jobs use."""
from __future__ import annotations

import click


@click.group()
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def cli(debug: bool) -> None:
    """marketsync: multichannel commerce data in Postgres, run by Dagster."""
