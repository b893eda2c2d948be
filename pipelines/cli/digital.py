"""`marketsync digital ...`: digital goods; `digital keys` loads and lists the merchant's key pool."""
from __future__ import annotations

import click

from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime


@click.group()
def digital() -> None:
    """Digital goods: license keys from the merchant's pool or bought from the supplier."""


@digital.group("products")
def products() -> None:
    """Which of a store's products are digital goods, and how each gets its keys."""


@products.command("set")
@click.argument("store")
@click.argument("sku")
@click.option("--sources", type=click.Choice(["pool_then_supplier", "supplier_only", "pool_only"]), default=None,
              help="Where its keys come from (default for a new one: pool_then_supplier).")
@click.option("--supplier-product", default=None, help="The CodesWholesale product id it is bought as.")
@click.option("--max-cost", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Never buy a unit above this cost (the listing's currency).")
@click.option("--margin", type=click.FloatRange(min=0), default=None,
              help="Never buy when the supplier's price rose more than this many percent above the price "
                   "list's (default 5).")
@click.option("--low-pool", type=click.IntRange(min=0), default=None,
              help="Alert when fewer unassigned pool keys than this remain (default 5).")
@json_option
@pass_runtime
def products_set(rt: Runtime, store: str, sku: str, sources: str | None, supplier_product: str | None,
                 max_cost: float | None, margin: float | None, low_pool: int | None, as_json: bool) -> None:
    """Sell STORE's product SKU as a digital good (or change how): its keys come from the merchant's pool
    and/or are bought from CodesWholesale, within the guards given."""
    from decimal import Decimal

    from marketsync.assets.digital.products import set_digital_product

    with rt.warehouse.begin() as conn:
        row = set_digital_product(conn, store, sku, sources=sources, supplier_product_id=supplier_product,
                                  max_unit_cost=Decimal(str(max_cost)) if max_cost is not None else None,
                                  price_margin_percent=Decimal(str(margin)) if margin is not None else None,
                                  low_pool_threshold=low_pool)
    if as_json:
        emit(row, True)
        return
    click.echo(f"{store} {sku}: digital, keys {row['sources'].replace('_', ' ')}"
               + (f", bought as {row['supplier_product_id']}" if row["supplier_product_id"] else "")
               + f"; {row['pool_keys']} key(s) in the pool")
    if not row["in_price_list"]:
        click.echo(f"  warning: the CodesWholesale price list of {store} does not carry "
                   f"{row['supplier_product_id']}: nothing is bought until it does (`marketsync catalog import "
                   f"{store} codeswholesale`)")


@products.command("list")
@click.argument("store")
@json_option
@pass_runtime
def products_list(rt: Runtime, store: str, as_json: bool) -> None:
    """STORE's digital products: where their keys come from, the guards, the price list's price and the
    keys left in the pool."""
    from marketsync.assets.digital.products import LIST_COLUMNS, list_digital_products

    with rt.warehouse.begin() as conn:
        emit(list_digital_products(conn, store), as_json, LIST_COLUMNS)


@products.command("remove")
@click.argument("store")
@click.argument("sku")
@pass_runtime
def products_remove(rt: Runtime, store: str, sku: str) -> None:
    """Stop selling SKU as a digital good (keys already assigned to orders stay theirs)."""
    from marketsync.assets.digital.products import remove_digital_product
    from marketsync.resources.errors import MarketsyncError

    with rt.warehouse.begin() as conn:
        if not remove_digital_product(conn, store, sku):
            raise MarketsyncError(f"'{sku}' is not a digital product of store '{store}'")
    click.echo(f"{store} {sku}: no longer digital")


@digital.command("fulfil")
@click.argument("store")
@json_option
@pass_runtime
def digital_fulfil(rt: Runtime, store: str, as_json: bool) -> None:
    """Fulfil STORE's digital order lines now, through the `ops/digital_fulfilment` asset (what the
    sensor runs): pool keys, purchases, deliveries queued, delivered orders recorded as fulfilled."""
    from marketsync.assets.stores import store_id_for
    from marketsync.pipelines.run_in_process import run_digital_fulfilment

    with rt.warehouse.begin() as conn:
        store_id_for(conn, store)  # a worded error before a Dagster partition is made for it
    emit(run_digital_fulfilment(store), as_json)


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


@digital.command("status")
@click.option("--store", default=None, help="Only this store.")
@json_option
@pass_runtime
def digital_status(rt: Runtime, store: str | None, as_json: bool) -> None:
    """Per store: the digital units on confirmed orders, their keys (from the pool, bought), delivered,
    and the purchases still open, waiting (with why) or refused."""
    from marketsync.resources.sql_files import query_beside

    with rt.warehouse.begin() as conn:
        rows = [dict(r) for r in conn.execute(query_beside(__file__, "digital_status.sql"),
                                              {"store": store}).mappings()]
    if as_json:
        emit(rows, True)
        return
    if not rows:
        click.echo("no digital order lines")
    for row in rows:
        click.echo(f"{row['store']}: {row['units']} unit(s), {row['from_pool']} from the pool, {row['bought']} bought, "
                   f"{row['delivered']} delivered; purchases open {row['purchases_open']}, waiting "
                   f"{row['purchases_waiting']}, refused {row['purchases_refused']}")
        for reason in row["reasons"]:
            click.echo(f"  waiting/refused: {reason}")


@digital.command("balance")
@click.argument("store")
@json_option
@pass_runtime
def digital_balance(rt: Runtime, store: str, as_json: bool) -> None:
    """What STORE's CodesWholesale account can spend (balance and credit), against the store's alert
    threshold and what purchases waiting on it need; opens or closes the balance alert like the hourly
    check does."""
    from decimal import Decimal

    from marketsync.assets.codeswholesale.catalog import get_codeswholesale_source
    from marketsync.assets.codeswholesale.connection import source_session
    from marketsync.assets.digital.balance import check_balance

    with rt.warehouse.begin() as conn:
        threshold = Decimal(str(get_codeswholesale_source(conn, store).setting("low_balance_alert")))
    with source_session(rt.warehouse, rt.vault, rt.client("codeswholesale"), store) as (store_id, api):
        balance = api.balance()
    with rt.warehouse.begin() as conn:
        check = check_balance(conn, store_id, balance, threshold)
    figures = {"store": store, "balance": str(balance.current_balance), "credit": str(balance.current_credit),
               "total_to_use": str(balance.total_to_use), "alert_below": str(threshold),
               "purchases_waiting": check.waiting, "waiting_amount": str(check.waiting_amount), "low": check.low}
    if as_json:
        emit(figures, True)
    else:
        click.echo(f"{store}: balance {balance.current_balance}, credit {balance.current_credit}, "
                   f"{balance.total_to_use} to spend; alert below {threshold}"
                   + (f"; {check.waiting} purchase(s) waiting on it need {check.waiting_amount}" if check.waiting
                      else "") + ("; LOW: top up the account" if check.low else ""))


@digital.command("resend")
@click.argument("order")
@click.option("--store", default=None, help="The store, when ORDER's number is not unique.")
@click.option("--language", default=None, type=click.Choice(["de", "fr", "en"]),
              help="The e-mail's language (default: the buyer's).")
@pass_runtime
def digital_resend(rt: Runtime, order: str, store: str | None, language: str | None) -> None:
    """Send ORDER's keys to its buyer again (what was bought; nothing is bought again), through the
    channel that delivers keys (e-mail); the outbound queue sends it with its next drain."""
    from marketsync.assets.channel_registry import channels, load
    from marketsync.assets.orders.actions import find_order
    from marketsync.resources.errors import MarketsyncError

    delivering = [c for c in channels().values() if c.key_delivery]
    if not delivering:
        raise MarketsyncError("no channel delivers digital keys (the e-mail channel declares it)")
    with rt.warehouse.begin() as conn:
        found = find_order(conn, order, store)
        item = load(delivering[0].key_delivery)(conn, found.order_id, language, resend=True)
    click.echo(f"queued: the keys of order {order} go to its buyer again by {delivering[0].label} "
               f"(outbound item {item.outbound_id}); `marketsync outbound run` sends it now")
