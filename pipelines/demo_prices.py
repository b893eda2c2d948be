"""The demo's prices-out part: the demo store sets a price rule for Letzshop (12 % markup, rounded up to
.99, a floor and a ceiling), pushes its prices through the daily product_price_sync asset (Dagster,
in-process) as Letzshop's price file (the product file's `id` and `price` columns, to the folder of the
demo's Letzshop files), raises one product's price and pushes again (one ledger row: a delta; the file
still carries every listing), and explains that one number term by term."""
from __future__ import annotations

from decimal import Decimal

import click
from sqlalchemy import text

from marketsync.assets.prices.explain import explain, render
from marketsync.assets.prices.settings import save_settings
from marketsync.assets.stores import store_id_for
from marketsync.pipelines.demo_world import run_statements
from marketsync.pipelines.run_in_process import run_price_push
from marketsync.resources.database import marketsync_home
from marketsync.resources.sql_files import query_beside, sql_beside

CHANNEL = "letzshop"
FLOOR, CEILING = Decimal("4.99"), Decimal("999.99")


def run_prices(rt, store: str) -> dict:
    """Set a rule, push twice (full, then the one changed price), explain that price. Returns the figures
    the summary checks: `pushed` (first push), `delta` (second push: 1), `below_floor` (ledger rows whose
    price is under the rule's floor: 0)."""
    folder = marketsync_home() / "demo" / "letzshop-prices"
    folder.mkdir(parents=True, exist_ok=True)
    with rt.warehouse.begin() as conn:
        # A second demo run starts as the first: no rule, no acknowledged price, no ledger.
        run_statements(conn, sql_beside(__file__, "demo_prices_reset.sql"), {"s": store_id_for(conn, store)})
        save_settings(conn, store, CHANNEL, markup_percent=Decimal(12), rounding=".99", floor=FLOOR, ceiling=CEILING,
                      delivery={"location": str(folder)})
    click.echo(f"rule for {store} on {CHANNEL}: +12 %, up to .99, floor {FLOOR}, ceiling {CEILING} "
               f"(`marketsync prices rules {store} {CHANNEL}`)")
    first = run_price_push(store, CHANNEL, "full")
    name = f"{CHANNEL}_channel_prices"
    click.echo(f"run {first['run_id'][:8]}: {first[f'{name}.pushed']} prices pushed of "
               f"{first[f'{name}.listings']} listings ({first[f'{name}.no_price']} without a price) -> "
               f"{first[f'{name}.delivered_to']}")
    with rt.warehouse.begin() as conn:
        sku = conn.execute(query_beside(__file__, "demo_priced_sku.sql"), {"c": store}).scalar_one()
        # The store sets its own price for one product: 3.10, which the markup and rounding make 3.99,
        # under the floor: the floor wins.
        conn.execute(text("UPDATE core.products SET price = 3.10, currency = 'EUR' WHERE sku = :k AND store_id = "
                          "(SELECT store_id FROM ops.stores WHERE code = :c)"), {"k": sku, "c": store})
    second = run_price_push(store, CHANNEL)
    click.echo(f"run {second['run_id'][:8]}: {sku} repriced by the store: {second[f'{name}.pushed']} price pushed "
               f"(a delta), {second[f'{name}.restated']} others restated in the file that replaces the last one")
    with rt.warehouse.begin() as conn:
        click.echo(render(explain(conn, store, sku, CHANNEL, history=2)))
        below = conn.execute(query_beside(__file__, "demo_prices_below_floor.sql"), {"c": store}).scalar_one()
    return {"pushed": first[f"{name}.pushed"], "delta": second[f"{name}.pushed"], "below_floor": below, "sku": sku}
