"""`marketsync logs`: the sync log."""
from __future__ import annotations

import click

from marketsync.pipelines.cli.inputs import store_option
from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime


@click.command("logs")
@store_option
@click.option("--limit", default=30, show_default=True)
@json_option
@pass_runtime
def logs(rt: Runtime, store: str | None, limit: int, as_json: bool) -> None:
    """The sync log: what ran, how much, how long, what failed."""
    from marketsync.assets.sync_log import recent_logs

    with rt.warehouse.begin() as conn:
        rows = recent_logs(conn, store=store, limit=limit)
    emit(rows, as_json)
