"""Reconciliation (issue 14, part 5), against the Letzshop, Amazon and eBay simulators on loopback and a
real Postgres: a day the channel and the warehouse agree on is clean; an order deleted at the channel is
extra in the warehouse, an order the warehouse never imported is missing, an order whose total changed
differs; the difference opens one alert per account, and a clean reconciliation of the account closes it.
Then the same through `marketsync reconcile` (its output and exit code), the Dagster asset and its
partitioned check materialised in-process, and the nightly sensor's run requests."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.operations.reconcile import SOURCE, reconcile_account
from marketsync.sandbox.http import serve_in_thread

CLIENT_ID, CLIENT_SECRET = "reconcile-client", "reconcile-secret+/="
AMAZON_SCALE = 20_000.0  # documented rates x20,000 on both sides: throttling still applies, refills are instant
LETZSHOP_KEY = "sandbox-test-key"  # tests/conftest.py's letzshop_sim accepts it
LETZSHOP_OTHER_DAY = "2025-01-02"  # the seeded shipments are all of 2025-01-01; two more are of this day


# ---------------------------------------------------------------- one store on each channel's simulator
def _letzshop(warehouse, vault, letzshop_sim):
    from marketsync.assets.letzshop.connection import letzshop_session
    from marketsync.assets.letzshop.load import import_shipments
    from marketsync.resources.letzshop import LetzshopResource

    state, endpoint = letzshop_sim
    with warehouse.begin() as conn:
        account = upsert_account(conn, "shop", "letzshop", endpoint, {"page_size": 7, "request_timeout_seconds": 2})
        vault.store(conn, account.account_id, {"api_key": LETZSHOP_KEY})
    skus = [unit["variant"]["sku"] for unit in state.shipments[0]["inventoryUnits"]]
    for hour in (9, 15):  # a second day with orders
        state.add_shipment(skus[:1], completed_at=f"{LETZSHOP_OTHER_DAY}T{hour:02d}:00:00Z")
    client = LetzshopResource(timeout_seconds=2, max_retry_wait_seconds=0.2)

    def import_all():
        with letzshop_session(warehouse, vault, client, account) as api:
            import_shipments(warehouse.engine, account, api, ["unconfirmed", "confirmed", "declined"])

    def add(day: date) -> str:
        shipment_id = state.add_shipment(skus, completed_at=f"{day.isoformat()}T12:00:00Z")
        return state.shipment(shipment_id)["number"]

    def remove(key: str) -> None:
        state.remove_shipment(key)

    return SimpleNamespace(name="letzshop", label="Letzshop", store="shop", account=account, client=client,
                           import_all=import_all, add=add, remove=remove)


def _amazon(warehouse, vault, stack):
    from marketsync.assets.amazon.orders import import_amazon_orders
    from marketsync.resources.amazon_sp_api import AmazonSpApiResource
    from marketsync.sandbox.amazon import AmazonState, create_app

    state = AmazonState(seed=12, size=80, catalog_size=40, rate_scale=AMAZON_SCALE,
                        clients={CLIENT_ID: CLIENT_SECRET})
    server = stack.enter_context(serve_in_thread(create_app(state)))
    client = AmazonSpApiResource(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rate_scale=AMAZON_SCALE,
                                 timeout_seconds=2, retry_backoff_seconds=0.01, max_retry_wait_seconds=0.05)
    with warehouse.begin() as conn:
        account = upsert_account(conn, "zon", "amazon", server.base_url,
                                 {"seller_id": state.seller_id, "marketplace_ids": list(state.marketplace_ids),
                                  "first_import_days": 120})
        vault.store(conn, account.account_id, {"refresh_token": state.authorize()})
    sku = state.order(state.order_ids()[0])["orderItems"][0]["product"]["sellerSku"]

    def add(day: date) -> str:
        # Last updated five minutes ago: searchOrders shows nothing younger than two minutes.
        state.advance_clock(-300)
        order = state.add_order([(sku, 2)], created_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
                                .timestamp())
        state.advance_clock(300)
        return order["orderId"]

    return SimpleNamespace(name="amazon", label="Amazon", store="zon", account=account, client=client,
                           import_all=lambda: import_amazon_orders(warehouse, vault, client, "zon"),
                           add=add, remove=state.remove_order)


def _ebay(warehouse, vault, stack):
    from marketsync.assets.ebay.orders import import_ebay_orders
    from marketsync.resources.ebay import EbayResource
    from marketsync.sandbox.ebay.app import create_app
    from marketsync.sandbox.ebay.state import EbayState

    state = EbayState(seed=9, orders=400, skus=20, clients={CLIENT_ID: CLIENT_SECRET})
    server = stack.enter_context(serve_in_thread(create_app(state)))
    client = EbayResource(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, retry_backoff_seconds=0.01)
    with warehouse.begin() as conn:
        account = upsert_account(conn, "bay", "ebay", server.base_url, {"first_import_days": 120})
        vault.store(conn, account.account_id, {"refresh_token": state.grant()["refresh_token"]})
    sku = state.order(state.order_id(0))["lineItems"][0]["sku"]

    def add(day: date) -> str:
        return state.add_order([(sku, 2)], created_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC))

    return SimpleNamespace(name="ebay", label="eBay", store="bay", account=account, client=client,
                           import_all=lambda: import_ebay_orders(warehouse, vault, client, "bay"),
                           add=add, remove=state.remove_order)


@pytest.fixture(params=["letzshop", "amazon", "ebay"])
def store(request, warehouse, vault, letzshop_sim):
    """A store with an account on one channel's simulator, every order of it imported."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        shop = {"letzshop": lambda: _letzshop(warehouse, vault, letzshop_sim),
                "amazon": lambda: _amazon(warehouse, vault, stack),
                "ebay": lambda: _ebay(warehouse, vault, stack)}[request.param]()
        shop.import_all()
        shop.days = _busiest_days(warehouse, shop.account.account_id)
        yield shop


def _busiest_days(warehouse, account_id: int) -> list[date]:
    """The account's past UTC days with orders in the warehouse, busiest first."""
    with warehouse.begin() as conn:
        return conn.execute(text("""
            SELECT (ordered_at AT TIME ZONE 'UTC')::date AS day FROM core.orders
            WHERE account_id = :a AND ordered_at < date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
            GROUP BY 1 ORDER BY count(*) DESC, 1 DESC"""), {"a": account_id}).scalars().all()


def _orders_of(warehouse, account_id: int, day: date) -> list:
    with warehouse.begin() as conn:
        return conn.execute(text("""
            SELECT channel_shipment_id AS key, coalesce(shipment_number, order_number) AS number FROM core.orders
            WHERE account_id = :a AND (ordered_at AT TIME ZONE 'UTC')::date = :d ORDER BY order_id"""),
            {"a": account_id, "d": day}).all()


def _alerts(warehouse, account_id: int) -> list:
    with warehouse.begin() as conn:
        return conn.execute(text("SELECT message, occurrences, closed_at FROM ops.alerts "
                                 "WHERE source = :s AND account_id = :a ORDER BY alert_id"),
                            {"s": SOURCE, "a": account_id}).all()


def _reconcile(store, warehouse, vault, day: date):
    return reconcile_account(warehouse, vault, store.client, store.store, store.name, day)


# ---------------------------------------------------------------- the comparison and its alert
def test_a_deleted_order_is_extra_an_unimported_one_missing_and_a_clean_day_closes_the_alert(store, warehouse, vault):
    day, other_day = store.days[0], store.days[1]
    held = _orders_of(warehouse, store.account.account_id, day)
    assert len(held) >= 3

    clean = _reconcile(store, warehouse, vault, day)
    assert clean.clean and clean.matched == clean.channel_orders == clean.warehouse_orders == len(held)
    assert clean.channel_units == clean.warehouse_units > 0 and clean.channel_totals == clean.warehouse_totals
    assert _alerts(warehouse, store.account.account_id) == []

    deleted, changed = held[0], held[1]
    store.remove(deleted.key)  # deleted at the channel (or never existed there): extra in the warehouse
    added = store.add(day)  # at the channel, never imported: missing in the warehouse
    with warehouse.begin() as conn:  # the warehouse's total of another order is off by one
        conn.execute(text("UPDATE core.orders SET total = total + 1 "
                          "WHERE account_id = :a AND channel_shipment_id = :k"),
                     {"a": store.account.account_id, "k": changed.key})

    found = _reconcile(store, warehouse, vault, day)
    assert [o.number for o in found.missing] == [added]
    assert [o.number for o in found.extra] == [deleted.number]
    assert [d.number for d in found.differing] == [changed.number]
    assert found.differing[0].warehouse_total - found.differing[0].channel_total == 1
    assert found.matched == len(held) - 2 and found.differences == 3 and found.alert_opened
    (alert,) = _alerts(warehouse, store.account.account_id)
    assert alert.closed_at is None
    for words in (store.label, day.isoformat(), added, deleted.number, changed.number, "1 missing"):
        assert words in alert.message

    again = _reconcile(store, warehouse, vault, day)  # the difference persists: counted on the same alert
    assert again.differences == 3 and not again.alert_opened
    (alert,) = _alerts(warehouse, store.account.account_id)
    assert alert.occurrences == 2 and alert.closed_at is None

    other = _reconcile(store, warehouse, vault, other_day)  # a clean day: nothing opened, the alert closed
    assert other.clean and other.matched > 0 and other.alert_closed and not other.alert_opened
    (alert,) = _alerts(warehouse, store.account.account_id)
    assert alert.closed_at is not None


def test_messages_name_orders_never_buyers(store, warehouse, vault):
    day = store.days[0]
    held = _orders_of(warehouse, store.account.account_id, day)
    store.remove(held[0].key)
    _reconcile(store, warehouse, vault, day)
    with warehouse.begin() as conn:
        (message,) = conn.execute(text("SELECT message FROM ops.alerts WHERE source = :s"), {"s": SOURCE}).scalars()
        people = conn.execute(text("""
            SELECT o.customer_email, o.customer_name, a.last_name, a.city, a.street_name FROM core.orders o
            LEFT JOIN core.order_addresses a USING (order_id) WHERE o.account_id = :a"""),
            {"a": store.account.account_id}).all()
    personal = {v for row in people for v in row if v and len(v) > 3}
    assert held[0].number in message and not [v for v in personal if v in message]


# ---------------------------------------------------------------- the command line
def test_the_command_prints_the_comparison_and_exits_non_zero_on_a_difference(warehouse, vault, letzshop_sim,
                                                                              run_cli):
    store = _letzshop(warehouse, vault, letzshop_sim)
    store.import_all()
    day = _busiest_days(warehouse, store.account.account_id)[0]
    held = _orders_of(warehouse, store.account.account_id, day)

    code, out, err = run_cli("reconcile", "shop", "letzshop", "--day", day.isoformat())
    assert code == 0 and err == ""
    assert f"Letzshop, store shop, {day.isoformat()} (UTC)" in out and f"matched: {len(held)}" in out
    assert "missing in the warehouse (0): -" in out and "in the warehouse, not at Letzshop (0): -" in out

    store.remove(held[0].key)
    added = store.add(day)
    code, out, err = run_cli("reconcile", "shop", "letzshop", "--day", day.isoformat())
    assert code == 1
    assert f"missing in the warehouse (1): {added}" in out
    assert f"in the warehouse, not at Letzshop (1): {held[0].number}" in out and "alert opened" in out
    assert err.startswith("error: 2 difference(s) between Letzshop and the warehouse for store 'shop'")

    code, out, _ = run_cli("reconcile", "shop", "letzshop", "--day", day.isoformat(), "--json")
    figures = json.loads(out)
    assert code == 1 and figures["missing"] == [added] and figures["extra"] == [held[0].number]
    assert figures["channel_orders"] == figures["warehouse_orders"] == len(held)

    code, out, _ = run_cli("reconcile", "shop", "letzshop", "--day", LETZSHOP_OTHER_DAY)
    assert code == 0 and "the store's reconciliation alert is closed" in out
    code, _, err = run_cli("reconcile", "shop", "letzshop", "--day", "yesterday")
    assert code == 1 and "YYYY-MM-DD" in err
    future = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    code, _, err = run_cli("reconcile", "shop", "letzshop", "--day", future)
    assert code == 1 and "in the future" in err
    code, _, err = run_cli("reconcile", "shop", "jtl_ffn")
    assert code == 1 and "reconcile does not support 'jtl_ffn'" in err and "amazon, ebay, letzshop" in err
    code, _, err = run_cli("reconcile", "nosuchstore", "letzshop")
    assert code == 1 and "no letzshop account for store 'nosuchstore'" in err


# ---------------------------------------------------------------- Dagster
def test_the_asset_check_fails_with_severity_error_naming_the_orders(store, warehouse, vault):
    from dagster import AssetCheckSeverity, DagsterInstance, materialize

    from marketsync.assets.channel_registry import channel, load
    from marketsync.assets.operations.reconcile_assets import reconciliation_assets, reconciliation_op

    day = store.days[0]
    held = _orders_of(warehouse, store.account.account_id, day)
    store.remove(held[0].key)
    added = store.add(day)
    (assets_def,) = reconciliation_assets(store.name)
    declaration = channel(store.name)
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(load(declaration.partitions).name, [store.store])
    result = materialize([assets_def], partition_key=store.store, instance=instance,
                         resources={"warehouse": warehouse, "vault": vault, declaration.key: store.client},
                         run_config={"ops": {reconciliation_op(store.name): {"config": {"day": day.isoformat()}}}})
    assert result.success
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity == AssetCheckSeverity.ERROR
    assert evaluation.partition == store.store
    assert evaluation.metadata["missing_ids"].value == [added]
    assert evaluation.metadata["extra_ids"].value == [held[0].number]
    (materialization,) = result.asset_materializations_for_node(reconciliation_op(store.name))
    assert materialization.partition == store.store
    assert materialization.metadata["dagster/row_count"].value == len(held)
    assert materialization.metadata["missing"].value == 1 and materialization.metadata["extra"].value == 1
    (alert,) = _alerts(warehouse, store.account.account_id)
    assert alert.closed_at is None and added in alert.message


def test_the_nightly_sensor_requests_one_run_per_enabled_account_and_night_once(warehouse, vault, letzshop_sim,
                                                                               monkeypatch):
    from dagster import DagsterInstance, build_sensor_context

    from marketsync.sensors.reconciliation import due_day, reconciliation_sensor

    _letzshop(warehouse, vault, letzshop_sim)
    with warehouse.begin() as conn:
        for store in ("other", "later"):
            upsert_account(conn, store, "letzshop", letzshop_sim[1], {})
        conn.execute(text("UPDATE ops.accounts SET enabled = false WHERE store_id = "
                          "(SELECT store_id FROM ops.stores WHERE code = 'other')"))
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("letzshop_accounts", ["shop", "other", "later"])
    day = due_day(datetime.now(UTC))

    def tick(cursor):
        return reconciliation_sensor(build_sensor_context(instance=instance, cursor=cursor,
                                                          resources={"warehouse": warehouse}))

    first = tick(None)  # a sensor started now begins with the next night, as a schedule would
    assert not first.run_requests and json.loads(first.cursor) == {"day": day.isoformat(), "pending": []}
    monkeypatch.setenv("MARKETSYNC_SENSOR_MAX_RUNS", "1")
    night = tick(json.dumps({"day": (day - timedelta(days=1)).isoformat(), "pending": []}))
    (request,) = night.run_requests  # one per tick here; the disabled account is left out
    assert request.run_key == f"reconcile:letzshop:later:{day.isoformat()}" and request.partition_key == "later"
    assert request.job_name == "letzshop_reconciliation_job"
    assert request.run_config == {"ops": {"ops__letzshop_reconciliation": {"config": {"day": day.isoformat()}}}}
    assert request.tags["marketsync/store"] == "later" and request.tags["marketsync/run"] == "reconcile"
    following = tick(night.cursor)
    (second,) = following.run_requests
    assert second.run_key == f"reconcile:letzshop:shop:{day.isoformat()}"
    assert not tick(following.cursor).run_requests  # the night is requested: nothing more until the next


def test_the_night_slot_is_two_thirty_utc():
    from marketsync.sensors.reconciliation import due_day, run_key

    assert due_day(datetime(2026, 12, 6, 2, 29, tzinfo=UTC)) == date(2026, 12, 4)
    assert due_day(datetime(2026, 12, 6, 2, 30, tzinfo=UTC)) == date(2026, 12, 5)
    assert run_key("ebay", "bay", date(2026, 12, 5)) == "reconcile:ebay:bay:2026-12-05"


@pytest.mark.unit
def test_a_window_of_today_ends_a_few_minutes_before_now_on_both_sides():
    from datetime import UTC, date, datetime, timedelta

    from marketsync.assets.operations.reconcile import SETTLING, day_window

    now = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)
    assert day_window(date(2026, 12, 5), now) == (datetime(2026, 12, 5, tzinfo=UTC), datetime(2026, 12, 6, tzinfo=UTC))
    assert day_window(date(2026, 12, 6), now) == (datetime(2026, 12, 6, tzinfo=UTC), now - SETTLING)
    early = datetime(2026, 12, 6, 0, 2, tzinfo=UTC)  # nothing has settled yet: an empty window, never inverted
    assert day_window(date(2026, 12, 6), early) == (datetime(2026, 12, 6, tzinfo=UTC),) * 2
    assert timedelta(minutes=2) <= SETTLING  # Amazon refuses windows ending in the last two minutes
