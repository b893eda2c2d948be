"""`marketsync digital ...`: digital goods; `digital keys` loads and lists the merchant's key pool."""
from __future__ import annotations

import click

from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime


@click.group()
def digital() -> None:
    """Digital goods: license keys from the merchant's pool or bought from the supplier."""


@digital.group("keys")
def keys() -> None:
    """The merchant's pool of license keys (shown masked)."""


@keys.command("import")
@click.argument("store")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@json_option
@pass_runtime
def keys_import(rt: Runtime, store: str, file: str, as_json: bool) -> None:
    """Load FILE (CSV: sku, code, optional kind text|image, optional links separated by spaces) into
    STORE's key pool, encrypted at once. Duplicates (in the file or already stored), unknown SKUs and
    malformed rows are refused by line number; the other rows load."""
    from marketsync.assets.digital.keys import import_keys

    with rt.warehouse.begin() as conn:
        result = import_keys(conn, rt.vault, store, file)
    summary = result.summary()
    if as_json:
        emit(summary, True)
        return
    click.echo(f"imported {result.imported} of {result.read} key(s) into {store}'s pool"
               + (f"; refused {result.refused_count}" if result.refused_count else ""))
    for sku, count in summary["imported_per_sku"].items():
        click.echo(f"  {sku}: {count}")
    for kind, lines in sorted(result.refused.items()):
        click.echo(f"  refused {len(lines)} ({kind}): line(s) {', '.join(map(str, sorted(lines)))}")
    for line, reason in sorted(result.reasons.items()):
        click.echo(f"    line {line}: {reason}")


@keys.command("list")
@click.argument("store")
@click.option("--sku", help="Only this product's keys.")
@json_option
@pass_runtime
def keys_list(rt: Runtime, store: str, sku: str | None, as_json: bool) -> None:
    """STORE's keys, masked, with their state: in_pool, assigned (to an order item unit) or delivered."""
    from marketsync.assets.digital.keys import LIST_COLUMNS, list_keys

    with rt.warehouse.begin() as conn:
        emit(list_keys(conn, rt.vault, store, sku), as_json, LIST_COLUMNS)
