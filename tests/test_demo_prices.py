"""The demo's prices step (pipelines/demo_prices.py) on its own: a rule, a full push and a one-price delta
through the product_price_sync asset (Dagster, in-process), and one number explained, the floor winning."""
from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import text

from marketsync.assets.accounts import upsert_account


def test_the_demo_pushes_prices_and_explains_one_number(cli_env, warehouse, vault, capsys):
    from marketsync.pipelines.demo_prices import run_prices

    with warehouse.begin() as conn:
        account = upsert_account(conn, "demo", "letzshop", "http://letzshop.invalid/graphql")
        for n, price in enumerate(("19.90", "5.00", None, "120.00")):
            conn.execute(text("INSERT INTO core.products (store_id, sku, price, currency) VALUES (:s, :k, :p, 'EUR')"),
                         {"s": account.store_id, "k": f"D-{n}", "p": Decimal(price) if price else None})
    figures = run_prices(SimpleNamespace(warehouse=warehouse, vault=vault), "demo")
    out = capsys.readouterr().out
    assert (figures["pushed"], figures["delta"], figures["below_floor"], figures["sku"]) == (3, 1, 0, "D-0")
    assert "3 prices pushed of 4 listings (1 without a price)" in out
    assert "raised to the floor 4.99 (the floor always wins)" in out and "-> 4.99 EUR on the channel" in out
    assert "pushed 4.99 EUR (was 22.99) -> delivered" in out

    # A second demo run (the demo's reset recreates its products as they were) gives the same figures.
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE core.products SET price = 19.90 WHERE sku = 'D-0'"))
    again = run_prices(SimpleNamespace(warehouse=warehouse, vault=vault), "demo")
    assert again == figures
    assert capsys.readouterr().out.count("-> delivered") == 2  # the ledger starts again: this run's two pushes
