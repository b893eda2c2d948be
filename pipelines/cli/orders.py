"""`marketsync orders ...`: orders listed and shown, confirmed, rejected, tracked and shipped."""
from __future__ import annotations

import click

from marketsync.pipelines.cli.inputs import store_option
from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime
from marketsync.resources.sql_files import query_beside


@click.group()
def orders() -> None:
    """Orders; ORDER is the marketplace order number (Letzshop R…), the shipment number, or our id."""


@orders.command("list")
@store_option
@click.option("--status", default=None, help="Local sync status, e.g. imported, confirmed, shipped.")
@click.option("--limit", default=50, show_default=True)
@json_option
@pass_runtime
def orders_list(rt: Runtime, store: str | None, status: str | None, limit: int, as_json: bool) -> None:
    """List orders, newest first."""
    with rt.warehouse.begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query_beside(__file__, "recent_orders.sql"),
                                                       {"store": store, "status": status, "limit": limit})]
    emit(rows, as_json)


@orders.command("show")
@click.argument("order")
@store_option
@json_option
@pass_runtime
def orders_show(rt: Runtime, order: str, store: str | None, as_json: bool) -> None:
    """One order with its units, exceptions and the timeline of its status changes."""
    from marketsync.assets.catalog.exceptions import blocking_exceptions
    from marketsync.assets.orders.actions import find_order, order_units
    from marketsync.assets.orders.history import describe, order_timeline

    with rt.warehouse.begin() as conn:
        ref = find_order(conn, order, store)
        detail = dict(conn.execute(query_beside(__file__, "order_detail.sql"), {"o": ref.order_id}).mappings().one())
        detail["units_detail"] = order_units(conn, ref.order_id)
        detail["blocking_exceptions"] = blocking_exceptions(conn, ref.order_id)
        detail["timeline"] = order_timeline(conn, ref.order_id)
    if as_json:
        emit(detail, True)
        return
    units, blocking, timeline = detail.pop("units_detail"), detail.pop("blocking_exceptions"), detail.pop("timeline")
    emit(detail, False)
    click.echo("\nunits:")
    emit(units, False)
    if blocking:
        click.echo("\nblocking exceptions:")
        emit(blocking, False)
    click.echo("\ntimeline:")
    for change in timeline:
        click.echo(f"  {describe(change)}")


def _queued(item, what: str) -> None:
    state = "queued" if item.created else f"already queued ({item.status})"
    click.echo(f"{what}: {state} as outbound {item.outbound_id}; `marketsync outbound run` sends it now")


@orders.command("confirm")
@click.argument("order")
@click.option("--unit", "units", multiple=True, help="Only these units (channel unit id or our item id).")
@store_option
@pass_runtime
def orders_confirm(rt: Runtime, order: str, units: tuple[str, ...], store: str | None) -> None:
    """Confirm all unconfirmed units, or the listed ones."""
    from marketsync.assets.orders.actions import confirm_order, find_order

    with rt.warehouse.begin() as conn:
        ref = find_order(conn, order, store)
        _queued(confirm_order(conn, ref, list(units) or None), f"confirm {ref.label}")


@orders.command("reject")
@click.argument("order")
@click.option("--reason", required=True)
@click.option("--unit", "units", multiple=True, help="Only these units (channel unit id or our item id).")
@store_option
@pass_runtime
def orders_reject(rt: Runtime, order: str, reason: str, units: tuple[str, ...], store: str | None) -> None:
    """Reject (decline) all unconfirmed units, or the listed ones."""
    from marketsync.assets.orders.actions import find_order, reject_order

    with rt.warehouse.begin() as conn:
        ref = find_order(conn, order, store)
        _queued(reject_order(conn, ref, reason, list(units) or None), f"reject {ref.label}")


@orders.command("tracking")
@click.argument("order")
@click.option("--number", required=True)
@click.option("--carrier", required=True)
@store_option
@pass_runtime
def orders_tracking(rt: Runtime, order: str, number: str, carrier: str, store: str | None) -> None:
    """Set the tracking number and carrier."""
    from marketsync.assets.orders.actions import find_order, set_tracking

    with rt.warehouse.begin() as conn:
        ref = find_order(conn, order, store)
        _queued(set_tracking(conn, ref, number, carrier), f"tracking {ref.label}")


@orders.command("ship")
@click.argument("order")
@click.option("--number", default=None, help="Tracking number (default: the shipment's).")
@click.option("--carrier", default=None, help="Carrier (default: the shipment's, else the account default).")
@store_option
@json_option
@pass_runtime
def orders_ship(rt: Runtime, order: str, number: str | None, carrier: str | None, store: str | None,
                as_json: bool) -> None:
    """Mark shipped: tracking number, carrier, label URL, shipped_at; tracking goes to the channel."""
    from marketsync.assets.orders.actions import find_order, ship_order

    with rt.warehouse.begin() as conn:
        emit(ship_order(conn, find_order(conn, order, store), number, carrier), as_json)


@orders.command("label")
@click.argument("order")
@store_option
@pass_runtime
def orders_label(rt: Runtime, order: str, store: str | None) -> None:
    """Print the carrier label URL."""
    from marketsync.assets.orders.actions import find_order, label_url

    with rt.warehouse.begin() as conn:
        click.echo(label_url(conn, find_order(conn, order, store)))
