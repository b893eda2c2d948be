"""The demo's stock part: the demo store pushes what each listing may sell to the Letzshop simulator's
inventory file intake, explains one number term by term, and shows that a push the channel answers
only in part is completed by the next delta push, which sends those listings and no others."""
from __future__ import annotations

import click

from marketsync.assets.stock.explain import explain, render
from marketsync.assets.stock.manual import adjust
from marketsync.assets.stock.settings import save_settings
from marketsync.pipelines.run_in_process import run_stock_push
from marketsync.resources.sql_files import query_beside


def _pushed(summary: dict) -> str:
    return (f"{summary['channel_stock.pushed']} of {summary['channel_stock.listings']} listings pushed, "
            f"{summary['channel_stock.acknowledged']} acknowledged, {summary['channel_stock.rejected']} rejected, "
            f"{summary['channel_stock.unanswered']} unanswered ({summary['channel_stock.seconds']:.2f} s)")


def run_stock(rt, store: str, state, endpoint: str) -> dict:
    with rt.warehouse.begin() as conn:
        settings = save_settings(conn, store, "letzshop", strategy="realtime", safety_stock=1,
                                 delivery={"location": endpoint.replace("/graphql", "/inventory/")})
        store_id = settings.store_id
        skus = conn.execute(query_beside(__file__, "demo_shelf_skus.sql"), {"s": store_id}).scalars().all()
        for n, sku in enumerate(skus):
            adjust(conn, store, sku, count=5 + n, reason="demo shelf count", by="demo")
    click.echo(f"letzshop: {settings.adapter} to {settings.delivery['location']} ({settings.strategy}, "
               f"safety stock {settings.safety_stock}); shelf counts for {', '.join(skus)}")
    first = run_stock_push(store, "letzshop")
    click.echo(f"  first push: {_pushed(first)}")
    again = run_stock_push(store, "letzshop")
    click.echo(f"  again, nothing changed: {_pushed(again)}")

    with rt.warehouse.begin() as conn:
        sku = conn.execute(query_beside(__file__, "demo_explained_sku.sql"), {"s": store_id}).scalar() or skus[0]
        click.echo(f"\n$ marketsync stock explain {store} {sku}")
        click.echo(render(explain(conn, store, sku, history=2)))

    # The channel drops one row and rejects another of the next file.
    with rt.warehouse.begin() as conn:
        for sku in skus:
            adjust(conn, store, sku, delta=2, reason="demo delivery", by="demo")
    state.set_inventory_faults(drop_skus={skus[0]}, reject_skus={skus[1]})
    partial = run_stock_push(store, "letzshop")
    click.echo(f"\n  {len(skus)} listings restocked; the channel drops {skus[0]} and rejects {skus[1]}: "
               f"{_pushed(partial)}")
    state.clear_inventory_faults()
    retried = run_stock_push(store, "letzshop")
    click.echo(f"  next delta push sends only those two: {_pushed(retried)}")
    return {"first": first["channel_stock.pushed"], "idle": again["channel_stock.pushed"],
            "retried": retried["channel_stock.pushed"]}
