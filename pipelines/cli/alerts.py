"""`marketsync alerts ...`: what needs a person now, whom it reaches, and when a metric counts as crossed.

    alerts list [--store S] [--all]          open alerts (and closed ones with --all), worst first
    alerts ack ID                            someone is on it: no more escalation notices
    alerts test STORE                        a test notice through every alert route of the store, sent now
    alerts evaluate                          measure, open/close threshold alerts, queue notices (what the
                                             alerting sensor does every minute)
    alerts metrics [--store S] [--crossed]   the metrics now, with thresholds and state
    alerts route add|list|remove             whom alerts and new-order notices reach
    alerts threshold list|set|reset          a store's own thresholds
"""
from __future__ import annotations

import getpass

import click

from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime

ALERT_COLUMNS = ["alert_id", "severity", "store", "channel", "source", "occurrences", "last_seen_at", "state",
                 "message"]


@click.group()
def alerts() -> None:
    """Alerts, their routes (e-mail, webhook), new-order notices and the metrics' thresholds."""


@alerts.command("list")
@click.option("--store", default=None, help="Only this store's alerts.")
@click.option("--all", "include_closed", is_flag=True, help="Closed alerts too.")
@click.option("--limit", type=click.IntRange(1, 10000), default=100, show_default=True)
@json_option
@pass_runtime
def alerts_list(rt: Runtime, store: str | None, include_closed: bool, limit: int, as_json: bool) -> None:
    """Open alerts, errors before warnings, the most recent first."""
    from marketsync.assets.alerts import list_alerts

    with rt.warehouse.begin() as conn:
        rows = [dict(r._mapping) for r in list_alerts(conn, store=store, include_closed=include_closed, limit=limit)]
    for row in rows:
        row["state"] = "closed" if row["closed_at"] else "acked" if row["acked_at"] else "open"
    emit(rows, as_json, ALERT_COLUMNS)


@alerts.command("ack")
@click.argument("alert_id", type=int)
@click.option("--by", default=None, help="Who is on it (default: the login name).")
@pass_runtime
def alerts_ack(rt: Runtime, alert_id: int, by: str | None) -> None:
    """Acknowledge alert ALERT_ID: it stays open until its cause clears, but is not escalated any more."""
    from marketsync.assets.alerts import acknowledge

    with rt.warehouse.begin() as conn:
        row = acknowledge(conn, alert_id, by or getpass.getuser())
    state = "closed already" if row.closed_at else "open until its cause clears"
    click.echo(f"alert {row.alert_id} acknowledged by {row.acked_by} at {row.acked_at:%Y-%m-%d %H:%M} ({state})")


@alerts.command("test")
@click.argument("store")
@pass_runtime
def alerts_test(rt: Runtime, store: str) -> None:
    """Send a test notice through every alert route of STORE now, and say what each route answered."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from marketsync.assets.alerts.notices import queue_to_route, test_payload
    from marketsync.assets.alerts.routes import routes_for
    from marketsync.assets.outbound_runner import drain
    from marketsync.assets.stores import store_id_for

    now = datetime.now(UTC)
    with rt.warehouse.begin() as conn:
        routes = routes_for(conn, store_id_for(conn, store), "alerts")
        queued = {route.route_id: queue_to_route(conn, route, test_payload(store, route.route_id, now),
                                                 ("alert_test", route.route_id, now.isoformat()), triggered_by="cli")
                  for route in routes}
    if not routes:
        raise click.ClickException(f"store '{store}' has no alert route: add one with `marketsync alerts route add "
                                   f"{store} --email ops@example.com`")
    for account_id in {item.account_id for item in queued.values() if item is not None}:
        drain(rt.warehouse, rt.vault, account_id=account_id, triggered_by="cli")
    failed = False
    with rt.warehouse.begin() as conn:
        for route in routes:
            item = queued[route.route_id]
            if item is None:
                click.echo(f"  {route.describe()}: no account to send it with")
                failed = True
                continue
            status, error = conn.execute(
                text("SELECT status, last_error FROM ops.outbound_queue WHERE outbound_id = :i"),
                {"i": item.outbound_id}).one()
            ok = status == "succeeded"
            failed |= not ok
            said = "sent" if ok else status + (f" ({error})" if error else "")
            click.echo(f"  {route.describe()}: {said}")
    if failed:
        raise click.ClickException("not every route took the test notice (a failed one stays queued and is retried)")


@alerts.command("evaluate")
@pass_runtime
def alerts_evaluate(rt: Runtime) -> None:
    """Measure every metric, open and close threshold alerts, and queue the notices due: what the alerting
    sensor does every minute."""
    from marketsync.assets.alerts.notices import queue_due_notices
    from marketsync.assets.operations.evaluate import evaluate_thresholds

    with rt.warehouse.begin() as conn:
        evaluation = evaluate_thresholds(conn)
        notices = queue_due_notices(conn, triggered_by="cli")
    click.echo(f"{evaluation.describe()}; {notices.describe()}")


@alerts.command("metrics")
@click.option("--store", default=None, help="Only this store's integrations.")
@click.option("--crossed", is_flag=True, help="Only readings that cross a threshold.")
@json_option
@pass_runtime
def alerts_metrics(rt: Runtime, store: str | None, crossed: bool, as_json: bool) -> None:
    """Every store's integrations measured now against their thresholds."""
    from marketsync.assets.operations.metrics import format_value, read_metrics

    with rt.warehouse.begin() as conn:
        readings = read_metrics(conn, store, states=["warn", "error"] if crossed else None)
    rows = [{"store": r.store, "integration": r.integration, "metric": r.metric,
             "value": r.value if as_json else format_value(r.value, r.unit), "unit": r.unit,
             "warn_at": r.warn_at, "error_at": r.error_at, "state": r.state} for r in readings]
    emit(rows, as_json, ["store", "integration", "metric", "value", "warn_at", "error_at", "state"])


# ---------------------------------------------------------------- routes
@alerts.group("route")
def route() -> None:
    """Whom a store's alerts and new-order notices reach."""


@route.command("add")
@click.argument("store")
@click.option("--email", "address", default=None, help="Send by e-mail to this address (the store's e-mail account "
                                                       "sends it).")
@click.option("--webhook", is_flag=True, help="Post to the store's webhook (its webhook account).")
@click.option("--topic", type=click.Choice(["alerts", "new-orders"]), default="alerts", show_default=True)
@click.option("--min-severity", type=click.Choice(["warn", "error"]), default="warn", show_default=True,
              help="Alerts at this severity or above.")
@click.option("--digest", "digest_minutes", type=click.IntRange(0, 1440), default=0, show_default=True,
              help="New orders: one notice per N minutes listing them (0: one per order).")
@pass_runtime
def route_add(rt: Runtime, store: str, address: str | None, webhook: bool, topic: str, min_severity: str,
              digest_minutes: int) -> None:
    """Route STORE's alerts (or new orders) to an e-mail address or to its webhook."""
    from marketsync.assets.alerts.routes import add_route

    if bool(address) == webhook:
        raise click.UsageError("give either --email ADDRESS or --webhook")
    with rt.warehouse.begin() as conn:
        added = add_route(conn, store, topic.replace("-", "_"), "webhook" if webhook else "email", address or "",
                          min_severity=min_severity, digest_minutes=digest_minutes)
    click.echo(f"route {added.route_id}: {added.describe()}")


@route.command("list")
@click.argument("store", required=False)
@json_option
@pass_runtime
def route_list(rt: Runtime, store: str | None, as_json: bool) -> None:
    """The routes (of STORE when given)."""
    from dataclasses import asdict

    from marketsync.assets.alerts.routes import list_routes

    with rt.warehouse.begin() as conn:
        rows = [asdict(r) for r in list_routes(conn, store)]
    emit(rows, as_json, ["route_id", "store", "topic", "via", "recipient", "min_severity", "digest_minutes",
                         "enabled"])


@route.command("remove")
@click.argument("route_id", type=int)
@pass_runtime
def route_remove(rt: Runtime, route_id: int) -> None:
    """Remove route ROUTE_ID (notices already queued still go out)."""
    from marketsync.assets.alerts.routes import remove_route

    with rt.warehouse.begin() as conn:
        if not remove_route(conn, route_id):
            raise click.ClickException(f"no route {route_id}")
    click.echo(f"route {route_id} removed")


# ---------------------------------------------------------------- thresholds
@alerts.group("threshold")
def threshold() -> None:
    """When a metric counts as crossed, per store."""


@threshold.command("list")
@click.argument("store")
@json_option
@pass_runtime
def threshold_list(rt: Runtime, store: str, as_json: bool) -> None:
    """STORE's thresholds per metric: its own (own = yes) or the defaults."""
    from dataclasses import asdict

    from marketsync.assets.operations.metrics import thresholds

    with rt.warehouse.begin() as conn:
        rows = [asdict(t) for t in thresholds(conn, store)]
    emit(rows, as_json, ["metric", "unit", "direction", "warn_at", "error_at", "own"])


def _limit(value: str | None) -> float | None:
    if value is None or value.lower() == "none":
        return None
    try:
        return float(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a number (or 'none')") from None


@threshold.command("set")
@click.argument("store")
@click.argument("metric")
@click.option("--warn", "warn_at", default=None, help="Warn past this value ('none': never warn).")
@click.option("--error", "error_at", default=None, help="Error past this value ('none': never an error).")
@pass_runtime
def threshold_set(rt: Runtime, store: str, metric: str, warn_at: str | None, error_at: str | None) -> None:
    """Give STORE its own thresholds for METRIC (seconds, percent or a count, as `threshold list` says). An
    option left out keeps the current value."""
    from marketsync.assets.operations.metrics import set_threshold, thresholds

    with rt.warehouse.begin() as conn:
        current = next((t for t in thresholds(conn, store) if t.metric == metric), None)
        warn = _limit(warn_at) if warn_at is not None else (float(current.warn_at) if current and current.warn_at
                                                             is not None else None)
        error = _limit(error_at) if error_at is not None else (float(current.error_at) if current and current.error_at
                                                               is not None else None)
        result = set_threshold(conn, store, metric, warn_at=warn, error_at=error)
    warn_text = result.warn_at if result.warn_at is not None else "never"
    error_text = result.error_at if result.error_at is not None else "never"
    click.echo(f"{store} {metric}: warn {result.direction} {warn_text}, error {result.direction} {error_text} "
               f"({result.unit})")


@threshold.command("reset")
@click.argument("store")
@click.argument("metric")
@pass_runtime
def threshold_reset(rt: Runtime, store: str, metric: str) -> None:
    """Back to the default thresholds of METRIC for STORE."""
    from marketsync.assets.operations.metrics import reset_threshold

    with rt.warehouse.begin() as conn:
        had = reset_threshold(conn, store, metric)
    click.echo(f"{store} {metric}: " + ("back to the defaults" if had else "already on the defaults"))
