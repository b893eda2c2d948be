"""`marketsync products ...`: the store catalog loaded from a CSV."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime


@click.group()
def products() -> None:
    """The store catalog."""


@products.command("import")
@click.argument("store")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@pass_runtime
def products_import(rt: Runtime, store: str, file: Path, as_json: bool) -> None:
    """Load products from a CSV with header sku,gtin,title (other columns kept as attributes)."""
    from marketsync.assets.catalog.products import import_products_csv
    from marketsync.assets.stores import store_id_for

    with rt.warehouse.begin() as conn:
        result = import_products_csv(conn, store_id_for(conn, store), file)
    row = {k: v for k, v in asdict(result).items() if k != "rejected"}
    row["rejected"] = len(result.rejected)
    if as_json:
        row["rejected_rows"] = [{"line": ln, "reason": reason} for ln, _, reason in result.rejected]
    emit(row, as_json)
    if not as_json:
        for line, _, reason in result.rejected[:20]:
            click.echo(f"  line {line}: {reason}")
