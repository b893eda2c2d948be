"""`marketsync privacy ...`: buyers' personal data under the GDPR.

    privacy export --store S --email ADDRESS [--out FILE]   everything held about the buyer, as JSON
    privacy erase --store S --email ADDRESS [--yes]         remove it everywhere; recorded without it
    privacy retention [--store S] [--set PERIOD]            each store's retention period, and what is due
    privacy expire [--store S]                              apply retention now (the daily asset does)
    privacy requests [--store S]                            the record of exports, erasures and runs
"""
from __future__ import annotations

import getpass
import json
from pathlib import Path

import click

from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime


@click.group()
def privacy() -> None:
    """Buyers' personal data: retention, access requests (export) and erasure."""


@privacy.command("export")
@click.option("--store", required=True)
@click.option("--email", required=True, help="The buyer's e-mail address, as given with their orders.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the document here (default: standard output).")
@pass_runtime
def privacy_export(rt: Runtime, store: str, email: str, out: Path | None) -> None:
    """Everything held about one buyer of STORE, as one JSON document with a table of contents."""
    from marketsync.assets.privacy.export import export_buyer

    with rt.warehouse.begin() as conn:
        document = export_buyer(conn, store, email, getpass.getuser())
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
    if out is None:
        click.echo(text)
        return
    out.write_text(text + "\n", encoding="utf-8")
    out.chmod(0o600)  # it holds the buyer's personal data: for the person answering the request only
    entries = sum(c["entries"] for c in document["contents"])
    click.echo(f"request {document['request_id']}: {entries} entries in {len(document['contents'])} sections "
               f"written to {out}", err=True)


@privacy.command("erase")
@click.option("--store", required=True)
@click.option("--email", required=True, help="The buyer's e-mail address, as given with their orders.")
@click.option("--cancel-queued", is_flag=True,
              help="Cancel writes still queued for the buyer's orders (otherwise the erasure is refused).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_runtime
def privacy_erase(rt: Runtime, store: str, email: str, cancel_queued: bool, yes: bool) -> None:
    """Erase one buyer's personal data in STORE everywhere it is held. Order ids, dates, amounts and
    items stay (accounting); a later import of the same orders lands without it."""
    from marketsync.assets.privacy.erasure import erase_buyer

    if not yes:
        click.confirm(f"Erase the personal data of this buyer in store {store}? This cannot be undone",
                      abort=True, err=True)
    with rt.warehouse.begin() as conn:
        erasure = erase_buyer(conn, store, email, getpass.getuser(), cancel_queued=cancel_queued)
    rows = sum(erasure.rows_changed.values())
    click.echo(f"request {erasure.request_id}: {len(erasure.orders)} order(s) "
               f"({', '.join(erasure.orders) or 'none found'}), {rows} row(s) cleaned"
               + (f", {erasure.writes_cancelled} queued write(s) cancelled" if erasure.writes_cancelled else ""))


@privacy.command("retention")
@click.option("--store", default=None)
@click.option("--set", "period", default=None, help="A new period for --store: 540d, 18months, 2y (minimum 30 days).")
@json_option
@pass_runtime
def privacy_retention(rt: Runtime, store: str | None, period: str | None, as_json: bool) -> None:
    """Each store's retention period for buyers' personal data, the orders due, expired and erased."""
    from marketsync.assets.privacy.retention import retention_overview, set_retention

    if period is not None:
        if not store:
            raise click.UsageError("--set needs --store")
        with rt.warehouse.begin() as conn:
            click.echo(f"store {store}: personal data kept for {set_retention(conn, store, period)} "
                       "after an order's last change", err=True)
    with rt.warehouse.begin() as conn:
        emit(retention_overview(conn, store), as_json)


@privacy.command("expire")
@click.option("--store", default=None, help="Only this store (default: every store).")
@pass_runtime
def privacy_expire(rt: Runtime, store: str | None) -> None:
    """Remove the personal data whose retention period has run out, now (the daily asset
    privacy/personal_data_retention does the same)."""
    from marketsync.assets.privacy.retention import apply_retention

    for run in apply_retention(rt.warehouse, store, requested_by=getpass.getuser()):
        click.echo(f"{run.store}: {run.orders} order(s) expired (last change before {run.cutoff:%Y-%m-%d}), "
                   f"{sum(run.rows_changed.values())} row(s) cleaned")


@privacy.command("requests")
@click.option("--store", default=None)
@click.option("--limit", default=50, show_default=True)
@json_option
@pass_runtime
def privacy_requests(rt: Runtime, store: str | None, limit: int, as_json: bool) -> None:
    """The record of exports, erasures and retention runs (counts only; never whom they were about)."""
    from marketsync.assets.privacy.requests import list_requests

    with rt.warehouse.begin() as conn:
        emit(list_requests(conn, store, limit), as_json,
             ["request_id", "store", "kind", "requested_by", "orders", "started_at", "completed_at"])
