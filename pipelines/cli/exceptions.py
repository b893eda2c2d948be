"""`marketsync exceptions ...`: order lines not matched to the catalog, listed, resolved or ignored."""
from __future__ import annotations

import click

from marketsync.pipelines.cli.inputs import store_option
from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime


@click.group()
def exceptions() -> None:
    """Order lines that could not be matched to the catalog."""


@exceptions.command("list")
@store_option
@click.option("--status", default="pending", type=click.Choice(["pending", "resolved", "ignored", "all"]))
@click.option("--kind", default=None, type=click.Choice(["product_not_found", "gtin_mismatch", "duplicate_gtin"]))
@json_option
@pass_runtime
def exceptions_list(rt: Runtime, store: str | None, status: str, kind: str | None, as_json: bool) -> None:
    """List exceptions."""
    from marketsync.assets.catalog.exceptions import list_exceptions

    with rt.warehouse.begin() as conn:
        rows = list_exceptions(conn, store, None if status == "all" else status, kind)
    emit(rows, as_json)


@exceptions.command("stats")
@store_option
@json_option
@pass_runtime
def exceptions_stats(rt: Runtime, store: str | None, as_json: bool) -> None:
    """Counts by kind and status."""
    from marketsync.assets.catalog.exceptions import exception_stats

    with rt.warehouse.begin() as conn:
        emit(exception_stats(conn, store), as_json)


@exceptions.command("resolve")
@click.argument("exception_id", type=int)
@click.option("--product", "product_ref", required=True, help="SKU or id of the store product to assign.")
@json_option
@pass_runtime
def exceptions_resolve(rt: Runtime, exception_id: int, product_ref: str, as_json: bool) -> None:
    """Resolve one exception by assigning a product."""
    from marketsync.assets.catalog.exceptions import resolve_exception

    with rt.warehouse.begin() as conn:
        emit(resolve_exception(conn, exception_id, product_ref, resolved_by="cli"), as_json)


@exceptions.command("bulk-resolve")
@click.option("--store", required=True)
@click.option("--gtin", required=True)
@click.option("--product", "product_ref", required=True, help="SKU or id of the store product to assign.")
@pass_runtime
def exceptions_bulk_resolve(rt: Runtime, store: str, gtin: str, product_ref: str) -> None:
    """Resolve every pending exception with this GTIN by assigning one product."""
    from marketsync.assets.catalog.exceptions import bulk_resolve_by_gtin

    with rt.warehouse.begin() as conn:
        count = bulk_resolve_by_gtin(conn, store, gtin, product_ref, resolved_by="cli")
    click.echo(f"resolved {count} exception(s)")


@exceptions.command("ignore")
@click.argument("exception_id", type=int)
@click.option("--reason", required=True)
@json_option
@pass_runtime
def exceptions_ignore(rt: Runtime, exception_id: int, reason: str, as_json: bool) -> None:
    """Ignore an exception, with a reason. Ignored exceptions still block confirming the order."""
    from marketsync.assets.catalog.exceptions import ignore_exception

    with rt.warehouse.begin() as conn:
        emit(ignore_exception(conn, exception_id, reason, resolved_by="cli"), as_json)
