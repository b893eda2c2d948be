"""`marketsync outbound ...`: the queue of writes to the channels, sent, listed and re-queued."""
from __future__ import annotations

import click

from marketsync.pipelines.cli.inputs import store_option
from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime
from marketsync.resources.errors import MarketsyncError


@click.group()
def outbound() -> None:
    """The queue of writes to the channels."""


@outbound.command("run")
@store_option
@json_option
@pass_runtime
def outbound_run(rt: Runtime, store: str | None, as_json: bool) -> None:
    """Send every due write now."""
    from marketsync.assets.outbound_runner import drain

    # Each channel's client is built from its declaration (the application's OAuth clients from the
    # environment) when it has writes due, and only then.
    results = drain(rt.warehouse, rt.vault, store=store, triggered_by="cli")
    if as_json:
        emit(results, True)
    elif not results:
        click.echo("nothing due")
    for name, summary in ({} if as_json else results).items():
        if "error" in summary:
            click.echo(f"{name}: {summary['error']}")
            continue
        click.echo(f"{name}: {summary['succeeded']} sent, {summary['failed']} to retry, {summary['dead']} dead-lettered"
                   + (f" ({summary['already_applied']} found already applied)"
                      if summary.get("already_applied") else ""))
        for error in summary.get("errors", [])[:10]:
            click.echo(f"  {error}")
    unsent = [name for name, summary in results.items()
              if "error" in summary or summary.get("failed") or summary.get("dead")]
    if unsent:
        # The writes stay queued (or dead-lettered): the caller (a script, cron) must see that.
        raise MarketsyncError(f"writes of {', '.join(unsent)} were not all sent; see `marketsync outbound list`")


@outbound.command("list")
@click.option("--status", default=None, type=click.Choice(["pending", "in_flight", "succeeded", "dead"]))
@json_option
@pass_runtime
def outbound_list(rt: Runtime, status: str | None, as_json: bool) -> None:
    """List queued writes."""
    from marketsync.assets.outbound_queue import list_items

    with rt.warehouse.begin() as conn:
        rows = list_items(conn, status=status)
    emit(rows, as_json, ["outbound_id", "operation", "status", "attempts", "next_attempt_at", "last_error"])


@outbound.command("requeue")
@click.argument("outbound_id", type=int, required=False)
@click.option("--all-dead", is_flag=True, help="Re-queue every dead-lettered write.")
@pass_runtime
def outbound_requeue(rt: Runtime, outbound_id: int | None, all_dead: bool) -> None:
    """Put a dead-lettered write back in the queue (same idempotency key)."""
    from marketsync.assets.outbound_queue import requeue

    if not outbound_id and not all_dead:
        raise MarketsyncError("name an outbound id, or pass --all-dead")
    with rt.warehouse.begin() as conn:
        count = requeue(conn, outbound_id, all_dead=all_dead)
    click.echo(f"re-queued {count} write(s)")
