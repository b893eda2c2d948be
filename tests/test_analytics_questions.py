"""The analysts' questions (sql/analytics_question_views.sql): each view's figures on the demo's data equal
a hand computation in Python from the base tables; a crafted case per rule the demo does not exercise
(refunds, cancelled units, a missing confirmation, aged exceptions, a stock-out, failed imports and syncs)
with its expected figures written out; and a store role reads only its store's rows in each view.

The demo runs once, into a database of this module's own (the `warehouse` fixture empties the session's
database before each test). Durations follow the views' definition: exact seconds as double precision /
3600 (or 60, 86400), percentiles as percentile_cont, rounded half away from zero after the float8 ->
numeric conversion (15 significant digits)."""
from __future__ import annotations

import math
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import psycopg
import pytest
from sqlalchemy import text

from marketsync.resources import migrations
from marketsync.resources.database import (
    REPO_ROOT,
    dagster_storage_url,
    engine_for,
    ensure_database,
    libpq_url,
    with_database,
)

VIEWS = ("sales_daily", "order_lead_times", "fulfilment_lead_times", "exception_backlog", "stock_cover",
         "feed_import_health", "sync_freshness")
CANCELLED_UNITS = ("confirmed_unavailable", "declined", "cancelled", "canceled")
NOT_SOLD_UNITS = (*CANCELLED_UNITS, "returned", "FULFILLED_BY_AMAZON")


# ------------------------------------------------------------------ the views' arithmetic, in Python
def rounded(value, places: int = 2) -> Decimal | None:
    """round(x::numeric, places) of a double precision x, as Postgres does it."""
    if value is None:
        return None
    number = Decimal(f"{value:.15g}") if isinstance(value, float) else Decimal(value)
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def span(later: datetime | None, earlier: datetime | None, unit: int = 3600) -> float | None:
    """extract(epoch FROM later - earlier)::float8 / unit."""
    if later is None or earlier is None:
        return None
    return (later - earlier).total_seconds() / unit


def percentile_cont(fraction: float, values: list[float]) -> float | None:
    """Postgres's percentile_cont: linear interpolation between the two nearest rows."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    if high == low:
        return ordered[low]
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def rows(conn, sql: str, **params) -> list:
    return conn.execute(text(sql), params).all()


def view(conn, name: str) -> list[dict]:
    return [dict(r._mapping) for r in conn.execute(text(f"SELECT * FROM analytics.{name}"))]  # noqa: S608 - VIEWS


def orders_and_items(conn):
    orders = rows(conn, "SELECT o.order_id, s.code AS store, o.channel, o.currency, o.ordered_at, o.imported_at, "
                        "o.total, o.status, o.sync_status, o.shipped_at, o.account_id, o.store_id, o.order_number "
                        "FROM core.orders o JOIN ops.stores s USING (store_id)")
    items = defaultdict(list)
    for item in rows(conn, "SELECT order_id, quantity, unit_price, channel_state, product_id FROM core.order_items"):
        items[item.order_id].append(item)
    return orders, items


def whole(order) -> str | None:
    if order.status == "refunded":
        return "refunded"
    if order.status == "cancelled" or order.sync_status == "rejected":
        return "cancelled"
    return None


def expected_sales(conn) -> dict:
    orders, items = orders_and_items(conn)
    days: dict = defaultdict(lambda: defaultdict(Decimal))
    for o in orders:
        lines = items[o.order_id]
        units = sum(i.quantity for i in lines)
        cancelled = [i for i in lines if i.channel_state in CANCELLED_UNITS]
        returned = [i for i in lines if i.channel_state == "returned"]
        priced = [i.unit_price * i.quantity for i in lines if i.unit_price is not None]
        amount = o.total if o.total is not None else (sum(priced) if priced else Decimal(0))
        cancelled_amount = sum((i.unit_price or 0) * i.quantity for i in cancelled)
        returned_amount = sum((i.unit_price or 0) * i.quantity for i in returned)
        kind = whole(o)
        row = days[(utc_day(o.ordered_at or o.imported_at), o.store, o.channel, o.currency)]
        row["orders"] += 1
        row["cancelled_orders"] += kind == "cancelled"
        row["refunded_orders"] += kind == "refunded"
        row["partially_refunded_orders"] += kind is None and o.status == "partially_refunded"
        row["units"] += units
        row["gross_revenue"] += amount
        if kind is None:
            row["net_units"] += units - sum(i.quantity for i in cancelled) - sum(i.quantity for i in returned)
            row["cancelled_amount"] += cancelled_amount
            row["refunded_amount"] += returned_amount
            row["net_revenue"] += amount - cancelled_amount - returned_amount
        else:
            row[f"{kind}_amount"] += amount
    return {key: dict(figures) for key, figures in days.items()}


def actual_sales(conn) -> dict:
    figures = ("orders", "cancelled_orders", "refunded_orders", "partially_refunded_orders", "units", "net_units",
               "gross_revenue", "cancelled_amount", "refunded_amount", "net_revenue")
    return {(r["day"], r["store"], r["channel"], r["currency"]): {f: r[f] for f in figures if r[f]}
            for r in view(conn, "sales_daily")}


def expected_lead_times(conn) -> tuple[dict, dict]:
    """(per order, per month, store and channel) as the two lead-time views show them."""
    orders, _ = orders_and_items(conn)
    confirmed: dict[int, datetime] = {}
    for h in rows(conn, "SELECT order_id, changed_at FROM core.order_status_history "
                        "WHERE field = 'sync_status' AND new_value = 'confirmed'"):
        confirmed[h.order_id] = min(h.changed_at, confirmed.get(h.order_id, h.changed_at))
    per_order, groups = {}, defaultdict(lambda: {"n": 0, "oc": [], "cs": [], "os": []})
    for o in orders:
        shipped = o.shipped_at if o.sync_status == "shipped" else None
        steps = {"oc": span(confirmed.get(o.order_id), o.ordered_at),
                 "cs": span(shipped, confirmed.get(o.order_id)), "os": span(shipped, o.ordered_at)}
        day = utc_day(o.ordered_at or o.imported_at)
        per_order[o.order_id] = (o.store, o.channel, o.order_number, day, o.ordered_at, confirmed.get(o.order_id),
                                 shipped, rounded(steps["oc"]), rounded(steps["cs"]), rounded(steps["os"]))
        group = groups[(day.replace(day=1), o.store, o.channel)]
        group["n"] += 1
        for step, hours in steps.items():
            if hours is not None:
                group[step].append(hours)
    monthly = {}
    names = {"oc": "ordered_to_confirmed", "cs": "confirmed_to_shipped", "os": "ordered_to_shipped"}
    counts = {"oc": "confirmed_orders", "cs": "confirmed_shipped_orders", "os": "shipped_orders"}
    for key, group in groups.items():
        figures = {"orders": group["n"]}
        for step, name in names.items():
            values = group[step]
            figures[counts[step]] = len(values)
            for label, fraction in (("p50", 0.5), ("p90", 0.9), ("p95", 0.95)):
                figures[f"{name}_{label}_hours"] = rounded(percentile_cont(fraction, values))
            figures[f"{name}_max_hours"] = rounded(max(values)) if values else None
        monthly[key] = figures
    return per_order, monthly


def actual_lead_times(conn) -> tuple[dict, dict]:
    per_order = {r["order_id"]: (r["store"], r["channel"], r["order_number"], r["day"], r["ordered_at"],
                                 r["confirmed_at"], r["shipped_at"], r["ordered_to_confirmed_hours"],
                                 r["confirmed_to_shipped_hours"], r["ordered_to_shipped_hours"])
                 for r in view(conn, "order_lead_times")}
    monthly = {(r.pop("month"), r.pop("store"), r.pop("channel")): r for r in view(conn, "fulfilment_lead_times")}
    return per_order, monthly


def expected_backlog(conn, now: datetime) -> dict:
    groups = defaultdict(list)
    for e in rows(conn, "SELECT s.code, o.channel, e.kind, e.status, e.order_id, e.created_at "
                        "FROM ops.order_exceptions e JOIN ops.stores s USING (store_id) "
                        "JOIN core.orders o USING (order_id)"):
        if e.status in ("pending", "ignored"):
            groups[(e.code, e.channel, e.kind)].append(e)
    backlog = {}
    for key, open_ones in groups.items():
        ages = [span(now, e.created_at) for e in open_ones]
        oldest = min(e.created_at for e in open_ones)
        backlog[key] = {
            "open_exceptions": len(open_ones),
            "pending": sum(e.status == "pending" for e in open_ones),
            "ignored": sum(e.status == "ignored" for e in open_ones),
            "orders_held": len({e.order_id for e in open_ones}),
            "oldest_created_at": oldest, "oldest_age_hours": rounded(span(now, oldest)),
            "median_age_hours": rounded(percentile_cont(0.5, ages)),
            "age_under_1d": sum(e.created_at > now - timedelta(hours=24) for e in open_ones),
            "age_1d_to_3d": sum(now - timedelta(hours=72) < e.created_at <= now - timedelta(hours=24)
                                for e in open_ones),
            "age_3d_to_7d": sum(now - timedelta(hours=168) < e.created_at <= now - timedelta(hours=72)
                                for e in open_ones),
            "age_over_7d": sum(e.created_at <= now - timedelta(hours=168) for e in open_ones),
        }
    return backlog


def keyed(conn, name: str, *key: str) -> dict:
    result = {}
    for r in view(conn, name):
        result[tuple(r.pop(k) for k in key)] = r
    return result


def expected_stock_cover(conn, now: datetime) -> dict:
    orders, items = orders_and_items(conn)
    today = utc_day(now)
    by_account, by_store = defaultdict(int), defaultdict(int)
    for o in orders:
        if not today - timedelta(days=28) <= utc_day(o.ordered_at or o.imported_at) <= today - timedelta(days=1):
            continue
        if o.status in ("cancelled", "refunded") or o.sync_status == "rejected":
            continue
        for i in items[o.order_id]:
            if i.product_id is not None and i.channel_state not in NOT_SOLD_UNITS:
                by_account[(o.account_id, i.product_id)] += i.quantity
                by_store[(o.store_id, i.product_id)] += i.quantity
    ledger = defaultdict(list)
    for row in rows(conn, "SELECT account_id, product_id, ledger_id, pushed_quantity, answer, answered_at, computed_at "
                          "FROM core.stock_ledger ORDER BY ledger_id"):
        ledger[(row.account_id, row.product_id)].append(row)
    cover = {}
    for c in rows(conn, "SELECT s.code, a.channel, a.account_id, a.store_id, p.sku, c.product_id, "
                        "c.acknowledged_quantity, c.acknowledged_at FROM core.channel_stock c "
                        "JOIN ops.accounts a USING (account_id) JOIN ops.stores s ON s.store_id = a.store_id "
                        "JOIN core.products p ON p.product_id = c.product_id"):
        sold = by_account[(c.account_id, c.product_id)]
        store_sold = by_store[(c.store_id, c.product_id)]
        since = None
        if c.acknowledged_quantity <= 0:
            taken = [r for r in ledger[(c.account_id, c.product_id)] if r.answer in ("accepted", "delivered")]
            last_positive = max((r.ledger_id for r in taken if r.pushed_quantity > 0), default=0)
            zeros = [r.answered_at or r.computed_at for r in taken
                     if r.ledger_id > last_positive and r.pushed_quantity == 0]
            since = min(zeros, default=None)
        cover[(c.code, c.channel, c.product_id)] = {
            "sku": c.sku, "available_units": c.acknowledged_quantity, "acknowledged_at": c.acknowledged_at,
            "units_sold_28d": sold, "avg_daily_units": rounded(Decimal(sold) / 28),
            "days_of_cover": rounded(Decimal(c.acknowledged_quantity * 28) / sold, 1) if sold else None,
            "store_units_sold_28d": store_sold,
            "store_days_of_cover": (rounded(Decimal(c.acknowledged_quantity * 28) / store_sold, 1)
                                    if store_sold else None),
            "out_of_stock": c.acknowledged_quantity <= 0, "out_of_stock_since": since,
            "days_out_of_stock": rounded(span(now, since, 86400)),
        }
    return cover


def expected_feed_health(conn, now: datetime) -> dict:
    runs = defaultdict(list)
    for r in rows(conn, "SELECT import_run_id, source_id, status, rows_read, rows_loaded, rows_unchanged, "
                        "rows_quarantined, rows_skipped, started_at, finished_at FROM ops.import_runs"):
        runs[r.source_id].append(r)
    health = {}
    for c in rows(conn, "SELECT c.source_id, s.code, c.name, c.kind, c.enabled FROM ops.catalog_sources c "
                        "JOIN ops.stores s USING (store_id)"):
        newest = sorted(runs[c.source_id], key=lambda r: (r.started_at, r.import_run_id), reverse=True)
        last = newest[0] if newest else None
        ok = next((r for r in newest if r.status in ("completed", "partially_completed")), None)
        done = next((r for r in newest if r.finished_at is not None), None)
        week = [r for r in newest if r.started_at > now - timedelta(hours=168)]
        health[(c.code, c.name)] = {
            "kind": c.kind, "enabled": c.enabled,
            "last_run_at": last and last.started_at, "last_run_status": last and last.status,
            "last_success_at": ok and ok.finished_at,
            "last_success_age_hours": rounded(span(now, ok and ok.finished_at)),
            "runs_7d": len(week), "failed_runs_7d": sum(r.status == "failed" for r in week),
            "last_finished_run_at": done and done.started_at, "last_finished_status": done and done.status,
            "rows_read": done and done.rows_read, "rows_loaded": done and done.rows_loaded,
            "rows_unchanged": done and done.rows_unchanged, "rows_quarantined": done and done.rows_quarantined,
            "rows_skipped": done and done.rows_skipped,
            "quarantine_share": (rounded(Decimal(done.rows_quarantined) / done.rows_read, 4)
                                 if done and done.rows_read else None),
        }
    return health


def expected_freshness(conn, now: datetime) -> dict:
    logs = defaultdict(list)
    for r in rows(conn, "SELECT account_id, operation, direction, started_at, completed_at, failed FROM ops.sync_log "
                        "WHERE account_id IS NOT NULL"):
        logs[r.account_id].append(r)
    fresh = {}
    for a in rows(conn, "SELECT a.account_id, s.code, a.channel, a.enabled, a.sync_interval_minutes "
                        "FROM ops.accounts a JOIN ops.stores s USING (store_id)"):
        per_operation = defaultdict(list)
        for r in logs[a.account_id]:
            per_operation[(r.operation, r.direction)].append(r)
        base = {"enabled": a.enabled, "sync_interval_minutes": a.sync_interval_minutes}
        if not per_operation:
            fresh[(a.code, a.channel, None, None)] = {
                **base, "last_attempt_at": None, "last_success_at": None, "minutes_since_attempt": None,
                "minutes_since_success": None, "failures_since_success": 0, "unfinished_since_success": 0}
        for (operation, direction), attempts in per_operation.items():
            ok = [r for r in attempts if r.completed_at is not None and not r.failed]
            last_ok_start = max((r.started_at for r in ok), default=None)
            after = [r for r in attempts if last_ok_start is None or r.started_at > last_ok_start]
            last_attempt = max(r.started_at for r in attempts)
            last_success = max((r.completed_at for r in ok), default=None)
            fresh[(a.code, a.channel, operation, direction)] = {
                **base, "last_attempt_at": last_attempt, "last_success_at": last_success,
                "minutes_since_attempt": rounded(span(now, last_attempt, 60)),
                "minutes_since_success": rounded(span(now, last_success, 60)),
                "failures_since_success": sum(r.failed for r in after),
                "unfinished_since_success": sum(not r.failed and r.completed_at is None for r in after)}
    return fresh


def check_every_view(conn) -> None:
    """Each view equals its hand computation, within one transaction (one now())."""
    now = conn.execute(text("SELECT now()")).scalar_one()
    assert actual_sales(conn) == {k: {f: v for f, v in figures.items() if v} for k, figures in
                                  expected_sales(conn).items()}
    assert actual_lead_times(conn) == expected_lead_times(conn)
    assert keyed(conn, "exception_backlog", "store", "channel", "kind") == expected_backlog(conn, now)
    assert keyed(conn, "stock_cover", "store", "channel", "product_id") == expected_stock_cover(conn, now)
    assert keyed(conn, "feed_import_health", "store", "source") == expected_feed_health(conn, now)
    assert keyed(conn, "sync_freshness", "store", "channel", "operation", "direction") == expected_freshness(conn, now)


# ------------------------------------------------------------------------------------ on the demo's data
@pytest.fixture(scope="module")
def demo_database(server_url, secret_key, tmp_path_factory):
    """A database of this module's own with `marketsync demo` run into it once (in-process, as the CLI
    runs it); dropped at the end."""
    from marketsync.pipelines.cli import main

    name = f"marketsync_test_{uuid.uuid4().hex[:10]}"
    url = ensure_database(server_url, name)
    migrations.upgrade(url)
    home = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as env:
        for variable, value in (("DATABASE_URL", url), ("MARKETSYNC_DAGSTER_DATABASE_URL", dagster_storage_url(url)),
                                ("MARKETSYNC_SECRET_KEYS", secret_key), ("DAGSTER_HOME", str(REPO_ROOT)),
                                ("MARKETSYNC_HOME", str(home / "home")),
                                ("MARKETSYNC_DAGSTER_ARTIFACTS", str(home / "dagster" / "storage")),
                                ("MARKETSYNC_DAGSTER_COMPUTE_LOGS", str(home / "dagster" / "logs"))):
            env.setenv(variable, value)
        assert main(["demo", "--port", "0"]) == 0
    yield url
    engine_for(url).dispose()
    from sqlalchemy.engine import make_url

    maintenance = with_database(server_url, make_url(server_url).database or "postgres")
    with psycopg.connect(libpq_url(maintenance), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.e2e
def test_every_view_equals_a_hand_computation_on_the_demo(demo_database):
    with engine_for(demo_database).begin() as conn:
        for name in VIEWS:
            assert view(conn, name), f"the demo leaves analytics.{name} empty"
        check_every_view(conn)
        # The demo's own figures, as a cross-check of the rules on real flows: one Letzshop order rejected,
        # Amazon and eBay orders the channels cancelled, and units declined one by one.
        totals = conn.execute(text("SELECT sum(orders), sum(cancelled_orders), sum(units) - sum(net_units) "
                                   "FROM analytics.sales_daily")).one()
        assert totals[0] == conn.execute(text("SELECT count(*) FROM core.orders")).scalar_one()
        assert totals[1] >= 2 and totals[2] > 0


# ------------------------------------------------------------------------------------- crafted cases
NOW_SQL = "SELECT now()"


def add_order(conn, account, number: str, state: str, sync_status: str, total, *, ordered_at, currency="EUR",
              imported_at=None, shipped_at=None) -> int:
    return conn.execute(text(
        "INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id, order_number, "
        "channel_state, sync_status, total, currency, ordered_at, imported_at, shipped_at, source_payload_sha) "
        "VALUES (:store, :account, :channel, :n, :n, :n, :state, :sync, :total, :currency, :ordered, "
        "coalesce(:imported, now()), :shipped, 'x') RETURNING order_id"),
        {"store": account.store_id, "account": account.account_id, "channel": account.channel, "n": number,
         "state": state, "sync": sync_status, "total": total, "currency": currency, "ordered": ordered_at,
         "imported": imported_at, "shipped": shipped_at}).scalar_one()


def add_item(conn, order_id: int, n: int, quantity: int, price, state: str, product_id=None) -> int:
    return conn.execute(text(
        "INSERT INTO core.order_items (order_id, channel_item_id, quantity, unit_price, channel_state, product_id) "
        "VALUES (:o, :n, :q, :p, :s, :product) RETURNING order_item_id"),
        {"o": order_id, "n": str(n), "q": quantity, "p": price, "s": state, "product": product_id}).scalar_one()


def confirmed_at(conn, order_id: int, at) -> None:
    conn.execute(text("INSERT INTO core.order_status_history (order_id, store_id, field, old_value, new_value, "
                      "changed_at, cause) SELECT order_id, store_id, 'sync_status', 'confirming', 'confirmed', :at, "
                      "'test' FROM core.orders WHERE order_id = :o"), {"o": order_id, "at": at})


def accounts(conn, code: str) -> dict:
    from marketsync.assets.accounts import upsert_account

    return {channel: upsert_account(conn, code, channel, "http://127.0.0.1:9/", {})
            for channel in ("letzshop", "amazon")}


def seed_questions(conn, code: str) -> dict:
    """Store CODE with a case of each rule; returns its accounts, products and the instant it took as now."""
    now = conn.execute(text(NOW_SQL)).scalar_one()
    acc = accounts(conn, code)
    letzshop, amazon = acc["letzshop"], acc["amazon"]
    products = [conn.execute(text("INSERT INTO core.products (store_id, sku) VALUES (:s, :sku) RETURNING product_id"),
                             {"s": letzshop.store_id, "sku": f"SKU-{k}"}).scalar_one() for k in range(4)]
    day = datetime(2025, 3, 1, 23, 30, tzinfo=UTC)
    # Sales of one day: a Letzshop order with a declined and a returned unit, one we rejected; Amazon orders
    # refunded in full, in part, cancelled, one without a total, one in another currency; one of the next
    # UTC day (00:30 UTC) and one with no order time, counted on the day it was imported.
    o1 = add_order(conn, letzshop, f"{code}-L1", "confirmed", "confirmed", Decimal("50.00"), ordered_at=day)
    add_item(conn, o1, 1, 2, Decimal("10.00"), "confirmed_available")
    add_item(conn, o1, 2, 1, Decimal("20.00"), "confirmed_unavailable")
    add_item(conn, o1, 3, 1, Decimal("10.00"), "returned")
    o2 = add_order(conn, letzshop, f"{code}-L2", "unconfirmed", "rejected", Decimal("30.00"), ordered_at=day)
    add_item(conn, o2, 1, 3, Decimal("10.00"), "unconfirmed")
    for number, state, total in (("A1", "REFUNDED", "40.00"), ("A2", "PARTIALLY_REFUNDED", "60.00"),
                                 ("A3", "CANCELLED", "25.00"), ("A4", "SHIPPED", None)):
        order = add_order(conn, amazon, f"{code}-{number}", state, "shipped", total and Decimal(total), ordered_at=day)
        add_item(conn, order, 1, 2, Decimal("7.50"), state)
    gbp = add_order(conn, amazon, f"{code}-A5", "SHIPPED", "shipped", Decimal("9.99"), ordered_at=day, currency="GBP")
    add_item(conn, gbp, 1, 1, Decimal("9.99"), "SHIPPED")
    late = add_order(conn, letzshop, f"{code}-L3", "confirmed", "confirmed", Decimal("5.00"),
                     ordered_at=day + timedelta(hours=1))
    add_item(conn, late, 1, 1, Decimal("5.00"), "confirmed_available")
    untimed = add_order(conn, letzshop, f"{code}-L4", "confirmed", "confirmed", Decimal("8.00"), ordered_at=None,
                        imported_at=day - timedelta(days=1))
    add_item(conn, untimed, 1, 1, Decimal("8.00"), "confirmed_available")

    # Lead times (April, Amazon): ordered -> shipped 1, 2, 3, 4 and 10 hours; two of them confirmed (one twice:
    # the first counts), one shipped with no confirmation, one confirmed and not shipped yet.
    start = datetime(2025, 4, 10, 8, 0, tzinfo=UTC)
    for k, hours in enumerate((1, 2, 3, 4, 10)):
        order = add_order(conn, amazon, f"{code}-T{k}", "SHIPPED", "shipped", Decimal("1.00"),
                          ordered_at=start + timedelta(days=k), shipped_at=start + timedelta(days=k, hours=hours))
        if k in (0, 1):
            confirmed_at(conn, order, start + timedelta(days=k, minutes=30))
        if k == 1:
            confirmed_at(conn, order, start + timedelta(days=k, minutes=45))
    waiting = add_order(conn, amazon, f"{code}-T9", "UNSHIPPED", "confirmed", Decimal("1.00"),
                        ordered_at=start + timedelta(days=9))
    confirmed_at(conn, waiting, start + timedelta(days=9, hours=6))

    # Open exceptions 2, 10 (ignored), 30, 100 and 200 hours old, and a resolved one (not open).
    held = add_order(conn, letzshop, f"{code}-E1", "unconfirmed", "imported", Decimal("6.00"),
                     ordered_at=datetime(2025, 5, 1, tzinfo=UTC))
    for k, (hours, status) in enumerate(((2, "pending"), (10, "ignored"), (30, "pending"), (100, "pending"),
                                         (200, "pending"), (5, "resolved"))):
        item = add_item(conn, held, 1 + k, 1, Decimal("1.00"), "unconfirmed")
        conn.execute(text("INSERT INTO ops.order_exceptions (store_id, order_id, order_item_id, kind, status, "
                          "created_at) "
                          "VALUES (:s, :o, :i, 'product_not_found', :status, now() - make_interval(hours => :h))"),
                     {"s": letzshop.store_id, "o": held, "i": item, "status": status, "h": hours})

    # Stock: product 0 sold 14 units on Letzshop in the window (and 3 on Amazon), 10 available -> 20 days;
    # sales of today, of 29 days ago, of a cancelled order, declined or Amazon-fulfilled units do not count.
    # Product 1 sold nothing. Product 2 is out of stock since its first zero after the last positive push;
    # product 3 is out of stock with no ledger row.
    today = now.astimezone(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    for k, (account, ago, quantity, state, order_state) in enumerate((
            (letzshop, 1, 10, "confirmed_available", "confirmed"),
            (letzshop, 28, 4, "confirmed_available", "confirmed"),
            (letzshop, 0, 5, "confirmed_available", "confirmed"), (letzshop, 29, 5, "confirmed_available", "confirmed"),
            (letzshop, 3, 2, "confirmed_unavailable", "confirmed"), (letzshop, 3, 6, "confirmed_available", "declined"),
            (amazon, 2, 3, "UNSHIPPED", "UNSHIPPED"), (amazon, 2, 4, "FULFILLED_BY_AMAZON", "SHIPPED"))):
        order = add_order(conn, account, f"{code}-S{k}", order_state, "rejected" if order_state == "declined" else
                          "confirmed", Decimal("1.00"), ordered_at=today - timedelta(days=ago))
        add_item(conn, order, 1, quantity, Decimal("1.00"), state, products[0])
    sync = conn.execute(text("INSERT INTO ops.inventory_syncs (account_id, mode, status) VALUES (:a, 'full', "
                             "'succeeded') RETURNING inventory_sync_id"), {"a": letzshop.account_id}).scalar_one()
    for quantity, answer, ago in ((5, "accepted", 50), (0, "accepted", 30), (0, "accepted", 20), (3, "rejected", 10),
                                  (0, "accepted", 5)):
        conn.execute(text(
            "INSERT INTO core.stock_ledger (inventory_sync_id, account_id, product_id, sku, ffn_on_hand, "
            "ffn_foreign_reserved, feed_quantity, manual_quantity, reserved, shipped_uncounted, safety_stock, "
            "available, "
            "out_of_stock_threshold, sync_zero_stock, on_demand, pushed_quantity, answer, answered_at) VALUES (:y, :a, "
            ":p, 'SKU-2', 0, 0, :q, 0, 0, 0, 0, :q, 0, true, false, :q, :answer, now() - make_interval(hours => :h))"),
            {"y": sync, "a": letzshop.account_id, "p": products[2], "q": quantity, "answer": answer, "h": ago})
    for product, quantity in ((products[0], 10), (products[1], 7), (products[2], 0), (products[3], 0)):
        conn.execute(text("INSERT INTO core.channel_stock (account_id, product_id, acknowledged_quantity, "
                          "acknowledged_at) VALUES (:a, :p, :q, now())"),
                     {"a": letzshop.account_id, "p": product, "q": quantity})

    # Feeds: a run still going, one partially completed yesterday, one failed two days ago, one completed ten
    # days ago; and a source that never ran.
    source, _idle = (conn.execute(text("INSERT INTO ops.catalog_sources (store_id, name, kind) VALUES (:s, :n, "
                                      "'pull_feed') RETURNING source_id"), {"s": letzshop.store_id, "n": name}
                                 ).scalar_one() for name in ("supplier", "idle"))
    for status, hours, counts in (("pending", 0.1, (0, 0, 0, 0, 0)), ("partially_completed", 24, (100, 90, 5, 5, 7)),
                                  ("failed", 48, (0, 0, 0, 0, 0)), ("completed", 240, (50, 50, 0, 0, 0))):
        conn.execute(text(
            "INSERT INTO ops.import_runs (source_id, status, rows_read, rows_loaded, rows_unchanged, rows_quarantined, "
            "rows_skipped, started_at, finished_at) VALUES (:src, :status, :r, :l, :u, :q, :k, "
            "now() - make_interval(secs => :h * 3600), "
            "CASE WHEN :status <> 'pending' THEN now() - make_interval(secs => :h * 3600 - 60) END)"),
            {"src": source, "status": status, "r": counts[0], "l": counts[1], "u": counts[2], "q": counts[3],
             "k": counts[4], "h": hours})

    # Sync log: imports succeeded an hour ago, failed twice since and one is still open; stock pushes never
    # succeeded (two failures). The Amazon account logged nothing.
    for operation, direction, minutes, done, failed in (
            ("import_orders", "inbound", 60, True, False), ("import_orders", "inbound", 90, True, True),
            ("import_orders", "inbound", 30, True, True), ("import_orders", "inbound", 15, True, True),
            ("import_orders", "inbound", 5, False, False),
            ("stock_push_full", "outbound", 20, True, True), ("stock_push_full", "outbound", 10, True, True)):
        conn.execute(text(
            "INSERT INTO ops.sync_log (account_id, operation, direction, started_at, completed_at, failed) VALUES (:a, "
            ":op, :dir, now() - make_interval(mins => :m), CASE WHEN :done THEN now() - make_interval(mins => :m) "
            "+ interval '2 seconds' END, :failed)"),
            {"a": letzshop.account_id, "op": operation, "dir": direction, "m": minutes, "done": done, "failed": failed})
    return {"now": now, "letzshop": letzshop, "amazon": amazon, "products": products}


@pytest.mark.integration
def test_crafted_cases_give_the_figures_each_rule_says(warehouse):
    with warehouse.begin() as conn:
        seeded = seed_questions(conn, "x")
        check_every_view(conn)
        sales = actual_sales(conn)
        day = date(2025, 3, 1)
        assert sales[(day, "x", "letzshop", "EUR")] == {
            # L1: 50 less a declined unit (20) and a returned one (10); L2 rejected by us: cancelled whole.
            "orders": 2, "cancelled_orders": 1, "units": 7, "net_units": 2, "gross_revenue": Decimal("80.00"),
            "cancelled_amount": Decimal("50.00"), "refunded_amount": Decimal("10.00"), "net_revenue": Decimal("20.00")}
        assert sales[(day, "x", "amazon", "EUR")] == {
            # A1 refunded, A2 partly refunded (counted, not subtracted), A3 cancelled, A4 without a total (its
            # lines: 2 x 7.50).
            "orders": 4, "cancelled_orders": 1, "refunded_orders": 1, "partially_refunded_orders": 1, "units": 8,
            "net_units": 4, "gross_revenue": Decimal("140.00"), "cancelled_amount": Decimal("25.00"),
            "refunded_amount": Decimal("40.00"), "net_revenue": Decimal("75.00")}
        assert sales[(day, "x", "amazon", "GBP")]["net_revenue"] == Decimal("9.99")
        assert sales[(date(2025, 3, 2), "x", "letzshop", "EUR")]["orders"] == 1
        assert sales[(date(2025, 2, 28), "x", "letzshop", "EUR")]["orders"] == 1  # no order time: imported

        april = keyed(conn, "fulfilment_lead_times", "month", "store", "channel")[(date(2025, 4, 1), "x", "amazon")]
        assert (april["orders"], april["confirmed_orders"], april["confirmed_shipped_orders"],
                april["shipped_orders"]) == (6, 3, 2, 5)
        assert [april[f"ordered_to_shipped_{p}_hours"] for p in ("p50", "p90", "p95", "max")] == [
            Decimal("3.00"), Decimal("7.60"), Decimal("8.80"), Decimal("10.00")]
        assert [april[f"ordered_to_confirmed_{p}_hours"] for p in ("p50", "max")] == [Decimal("0.50"), Decimal("6.00")]
        assert [april[f"confirmed_to_shipped_{p}_hours"] for p in ("p50", "max")] == [Decimal("1.00"), Decimal("1.50")]
        unconfirmed = conn.execute(text("SELECT ordered_to_confirmed_hours, confirmed_to_shipped_hours, "
                                        "ordered_to_shipped_hours FROM analytics.order_lead_times "
                                        "WHERE order_number = 'x-T2'")).one()
        assert tuple(unconfirmed) == (None, None, Decimal("3.00"))

        backlog = keyed(conn, "exception_backlog", "store", "channel", "kind")
        assert backlog == {("x", "letzshop", "product_not_found"): {
            "open_exceptions": 5, "pending": 4, "ignored": 1, "orders_held": 1,
            "oldest_created_at": seeded["now"] - timedelta(hours=200), "oldest_age_hours": Decimal("200.00"),
            "median_age_hours": Decimal("30.00"), "age_under_1d": 2, "age_1d_to_3d": 1, "age_3d_to_7d": 1,
            "age_over_7d": 1}}

        cover = keyed(conn, "stock_cover", "store", "channel", "sku")
        sold = {k: cover[("x", "letzshop", f"SKU-{k}")]["units_sold_28d"] for k in range(4)}
        assert sold == {0: 14, 1: 0, 2: 0, 3: 0}
        listing = cover[("x", "letzshop", "SKU-0")]
        assert (listing["avg_daily_units"], listing["days_of_cover"], listing["store_units_sold_28d"],
                listing["store_days_of_cover"]) == (Decimal("0.50"), Decimal("20.0"), 17, Decimal("16.5"))
        assert cover[("x", "letzshop", "SKU-1")]["days_of_cover"] is None
        out = cover[("x", "letzshop", "SKU-2")]
        assert out["out_of_stock"] and out["out_of_stock_since"] == seeded["now"] - timedelta(hours=30)
        assert out["days_out_of_stock"] == Decimal("1.25")
        assert cover[("x", "letzshop", "SKU-3")]["out_of_stock"]
        assert cover[("x", "letzshop", "SKU-3")]["out_of_stock_since"] is None

        feeds = keyed(conn, "feed_import_health", "store", "source")
        supplier = feeds[("x", "supplier")]
        assert (supplier["last_run_status"], supplier["last_finished_status"], supplier["runs_7d"],
                supplier["failed_runs_7d"], supplier["rows_quarantined"], supplier["rows_skipped"],
                supplier["quarantine_share"]) == ("pending", "partially_completed", 3, 1, 5, 7, Decimal("0.0500"))
        assert supplier["last_success_age_hours"] == Decimal("23.98")
        assert feeds[("x", "idle")]["last_run_at"] is None and feeds[("x", "idle")]["runs_7d"] == 0

        fresh = keyed(conn, "sync_freshness", "store", "channel", "operation", "direction")
        imports = fresh[("x", "letzshop", "import_orders", "inbound")]
        assert (imports["failures_since_success"], imports["unfinished_since_success"],
                imports["minutes_since_attempt"], imports["minutes_since_success"]) == (2, 1, Decimal("5.00"),
                                                                                         Decimal("59.97"))
        pushes = fresh[("x", "letzshop", "stock_push_full", "outbound")]
        assert pushes["last_success_at"] is None and pushes["failures_since_success"] == 2
        assert fresh[("x", "amazon", None, None)]["last_attempt_at"] is None


# ------------------------------------------------------------------------------------- store separation
@pytest.fixture
def store_roles(warehouse, run_cli):
    """Stores a and b, each with every case above; role A granted store a, role B store b (through the CLI).
    The roles are the server's: dropped afterwards."""
    suffix = uuid.uuid4().hex[:10]
    made = {store: f"ms_questions_{store}_{suffix}" for store in ("a", "b")}
    with warehouse.begin() as conn:
        seed_questions(conn, "a")
        seed_questions(conn, "b")
    try:
        for store, role in made.items():
            code, _, err = run_cli("analyst", "grant", "--store", store, role)
            assert code == 0, err
        yield made
    finally:
        with warehouse.begin() as conn:
            for role in made.values():
                conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))


def as_role(conn, role: str | None, name: str) -> list[dict]:
    if role is not None:
        conn.execute(text(f'SET LOCAL ROLE "{role}"'))
    try:
        return view(conn, name)
    finally:
        conn.execute(text("RESET ROLE"))


@pytest.mark.integration
def test_a_store_role_reads_only_its_stores_rows_in_each_view(warehouse, store_roles):
    with warehouse.begin() as conn:
        for name in VIEWS:
            owner = as_role(conn, None, name)
            assert as_role(conn, "analyst", name) == owner, name
            for store, role in store_roles.items():
                seen = as_role(conn, role, name)
                assert seen, f"{name}: store {store}'s role reads nothing"
                assert {r["store"] for r in seen} == {store}, name
                assert sorted(map(repr, seen)) == sorted(repr(r) for r in owner if r["store"] == store), name


@pytest.mark.integration
def test_every_column_of_the_views_is_described(warehouse):
    with warehouse.begin() as conn:
        for name in VIEWS:
            described = conn.execute(text(
                "SELECT obj_description(c.oid, 'pg_class') FROM pg_class c WHERE c.oid = to_regclass(:v)"),
                {"v": f"analytics.{name}"}).scalar_one()
            assert described and described.startswith("Grain: one row per"), name
            bare = conn.execute(text(
                "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = to_regclass(:v) AND a.attnum > 0 "
                "AND col_description(a.attrelid, a.attnum) IS NULL"), {"v": f"analytics.{name}"}).scalars().all()
            assert bare == [], f"analytics.{name}: columns without a comment: {bare}"
