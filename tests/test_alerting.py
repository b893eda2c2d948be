"""Alerts that reach people (issue 14): each metric's threshold crossed and cleared gives one alert and
one resolution notice; a flapping condition is damped; an SMTP server that refuses then accepts gets the
alert once; a webhook receiver that answers 500 then 200 gets it once, signed; routes, thresholds and
acknowledgement through the CLI. Real Postgres, the local SMTP server and webhook receiver on loopback."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.alerts import raise_alert
from marketsync.assets.alerts.notices import queue_due_notices
from marketsync.assets.alerts.routes import add_route
from marketsync.assets.operations.evaluate import THRESHOLD_SOURCE, evaluate_thresholds
from marketsync.assets.operations.metrics import METRICS, read_metrics, set_threshold
from marketsync.assets.outbound_queue import enqueue
from marketsync.assets.outbound_runner import drain
from marketsync.resources.errors import MarketsyncError
from marketsync.sandbox.webhook import WebhookReceiver

STORE = "opsshop"
SECRET = "whsec-test-0123456789"
FROM = "alerts@opsshop.example"


@pytest.fixture
def webhook():
    with WebhookReceiver(SECRET) as served:
        yield served


@pytest.fixture
def routed(warehouse, vault, receiver, webhook):
    """STORE with an e-mail account (the local SMTP server), a webhook account (the local receiver, its
    secret in the vault) and an alert route through each; returns (mail recorder, webhook recorder)."""
    recorder, endpoint = receiver
    with warehouse.begin() as conn:
        upsert_account(conn, STORE, "email", endpoint, {"from_address": FROM, "security": "none",
                                                        "timeout_seconds": 5})
        hook = upsert_account(conn, STORE, "webhook", webhook.url)
        vault.store(conn, hook.account_id, {"secret": SECRET})
        add_route(conn, STORE, "alerts", "email", "ops@opsshop.example")
        add_route(conn, STORE, "alerts", "webhook")
    return recorder, webhook.recorder


def _tick(warehouse, damping: int = 900):
    """What the alerting sensor does each minute."""
    with warehouse.begin() as conn:
        evaluation = evaluate_thresholds(conn)
        notices = queue_due_notices(conn, damping_seconds=damping)
    return evaluation, notices


def _send(warehouse, vault):
    """Drain the store's notice writes now (retries included: due now)."""
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.outbound_queue SET next_attempt_at = now() WHERE status = 'pending'"))
    return drain(warehouse, vault, store=STORE)


def _age_clear(warehouse, seconds: int = 3600):
    """Move every closed alert's closing back in time (past the damping window)."""
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.alerts SET closed_at = closed_at - make_interval(secs => :s) "
                          "WHERE closed_at IS NOT NULL"), {"s": seconds})


def _store_id(warehouse) -> int:
    with warehouse.begin() as conn:
        return conn.execute(text("SELECT store_id FROM ops.stores WHERE code = :c"), {"c": STORE}).scalar_one()


# ---------------------------------------------------------------- each metric, crossed and cleared
def _cross(warehouse, metric: str, vault) -> tuple[callable, callable]:
    """(make it cross, make it clear) for `metric` on STORE, by the data the metric reads."""
    with warehouse.begin() as conn:
        account = upsert_account(conn, STORE, "letzshop", "http://127.0.0.1:9/")
    a, s = account.account_id, account.store_id

    def sql(statement, **params):
        def run():
            with warehouse.begin() as conn:
                conn.execute(text(statement), {"a": a, "s": s, **params})
        return run

    if metric == "order_import_lag":
        return (sql("UPDATE ops.accounts SET last_synced_at = now() - interval '2 hours' WHERE account_id = :a"),
                sql("UPDATE ops.accounts SET last_synced_at = now() WHERE account_id = :a"))
    if metric == "inventory_sync_lag":
        return (sql("INSERT INTO ops.stock_settings (account_id, adapter, updated_at) "
                    "VALUES (:a, 'letzshop_inventory_file', now() - interval '3 hours')"),
                sql("INSERT INTO ops.inventory_syncs (account_id, mode, status, finished_at) "
                    "VALUES (:a, 'full', 'succeeded', now())"))
    if metric in ("outbound_queue_depth", "dead_letters"):
        with warehouse.begin() as conn:
            set_threshold(conn, STORE, "outbound_queue_depth", warn_at=2, error_at=None)
        def fill():
            with warehouse.begin() as conn:
                for i in range(3):
                    enqueue(conn, a, "set_tracking", {"n": i})
                if metric == "dead_letters":
                    conn.execute(text("UPDATE ops.outbound_queue SET status = 'dead' WHERE account_id = :a"),
                                 {"a": a})
        return fill, sql("UPDATE ops.outbound_queue SET status = 'succeeded' WHERE account_id = :a")
    if metric == "sync_error_rate":
        return (sql("INSERT INTO ops.sync_log (account_id, operation, direction, failed, completed_at) "
                    "VALUES (:a, 'import_orders', 'inbound', true, now()), "
                    "(:a, 'import_orders', 'inbound', false, now())"),
                sql("UPDATE ops.sync_log SET started_at = now() - interval '2 hours' WHERE account_id = :a"))
    if metric == "digital_fulfilment_success_rate":
        with warehouse.begin() as conn:
            product = conn.execute(text("INSERT INTO core.products (store_id, sku, title) VALUES (:s, 'KEY-1', 'Key') "
                                        "RETURNING product_id"), {"s": s}).scalar_one()
            conn.execute(text("INSERT INTO ops.digital_products (store_id, product_id, supplier_product_id) "
                              "VALUES (:s, :p, 'cw-1')"), {"s": s, "p": product})
            order = conn.execute(text(
                "INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id, "
                "order_number, channel_state, source_payload_sha) VALUES (:s, :a, 'letzshop', 'o1', 's1', 'N1', "
                "'confirmed', 'x') RETURNING order_id"), {"s": s, "a": a}).scalar_one()
            item = conn.execute(text(
                "INSERT INTO core.order_items (order_id, channel_item_id, sku, quantity, channel_state, product_id) "
                "VALUES (:o, 'i1', 'KEY-1', 1, 'confirmed', :p) RETURNING order_item_id"),
                {"o": order, "p": product}).scalar_one()
            conn.execute(text(
                "INSERT INTO ops.digital_purchases (store_id, order_item_id, unit, client_order_id, "
                "supplier_product_id, listed_unit_price) VALUES (:s, :i, 1, 'ms-test-0001', 'cw-1', 9.99)"),
                {"s": s, "i": item})
        # Attempted three hours ago and never delivered: 0 % (a purchase of the last hour is not judged yet).
        return (sql("UPDATE ops.digital_purchases SET created_at = now() - interval '3 hours' WHERE store_id = :s"),
                sql("UPDATE ops.digital_purchases SET created_at = now() - interval '2 days' WHERE store_id = :s"))
    if metric == "quarantined_rows":
        with warehouse.begin() as conn:
            source = conn.execute(text("INSERT INTO ops.catalog_sources (store_id, name, kind, format, location) "
                                       "VALUES (:s, 'supplier', 'pull_feed', 'csv', 'https://feeds.example/x.csv') "
                                       "RETURNING source_id"), {"s": s}).scalar_one()
        insert = ("INSERT INTO ops.import_runs (source_id, status, rows_read, rows_loaded, rows_quarantined, "
                  "finished_at) VALUES (:src, 'partially_completed', 10, :loaded, :q, now())")
        def run_with(quarantined):
            def run():
                with warehouse.begin() as conn:
                    conn.execute(text(insert), {"src": source, "loaded": 10 - quarantined, "q": quarantined})
            return run
        return run_with(2), run_with(0)
    if metric in ("pending_exceptions", "pending_exception_age"):
        with warehouse.begin() as conn:
            if metric == "pending_exceptions":  # one is enough here; for the age, one that waits two days
                set_threshold(conn, STORE, "pending_exceptions", warn_at=0, error_at=None)
            order = conn.execute(text(
                "INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id, "
                "order_number, channel_state, source_payload_sha) VALUES (:s, :a, 'letzshop', 'o2', 's2', 'N2', "
                "'unshipped', 'x') RETURNING order_id"), {"s": s, "a": a}).scalar_one()
            item = conn.execute(text(
                "INSERT INTO core.order_items (order_id, channel_item_id, sku, quantity, channel_state) "
                "VALUES (:o, 'i2', 'NOPE', 1, 'unshipped') RETURNING order_item_id"), {"o": order}).scalar_one()
        return (sql("INSERT INTO ops.order_exceptions (store_id, order_id, order_item_id, kind, created_at) "
                    "VALUES (:s, :o, :i, 'product_not_found', now() - make_interval(days => :d))", o=order, i=item,
                    d=2 if metric == "pending_exception_age" else 0),
                sql("UPDATE ops.order_exceptions SET status = 'resolved' WHERE store_id = :s"))
    raise AssertionError(f"no way to cross {metric}")


@pytest.mark.parametrize("metric", METRICS)
def test_each_threshold_crossed_and_cleared_gives_one_alert_and_one_resolution(metric, warehouse, vault, routed):
    mail, hooks = routed
    cross, clear = _cross(warehouse, metric, vault)
    _tick(warehouse)  # before: nothing of this metric is crossed
    with warehouse.begin() as conn:
        assert not [r for r in read_metrics(conn, STORE, states=["warn", "error"]) if r.metric == metric]

    cross()
    for _ in range(3):  # crossed for three evaluations: one alert, counted on
        evaluation, _ = _tick(warehouse)
    crossed = [r for r in evaluation.crossed if r.metric == metric]
    assert len(crossed) == 1 and crossed[0].store == STORE, evaluation.crossed
    with warehouse.begin() as conn:
        alerts = conn.execute(text("SELECT condition_key, severity, occurrences, closed_at FROM ops.alerts "
                                   "WHERE source = :s"), {"s": THRESHOLD_SOURCE}).all()
    assert len(alerts) == 1 and alerts[0].closed_at is None and alerts[0].occurrences == 3
    assert alerts[0].condition_key == crossed[0].condition_key
    _send(warehouse, vault)
    assert len(mail.messages) == 1 and len(hooks.deliveries) == 1
    assert "ALERT" in mail.messages[0]["Subject"] and crossed[0].label in mail.messages[0].get_content()
    assert hooks.documents[0]["type"] == "alert.opened" and hooks.documents[0]["store"] == STORE

    clear()
    _tick(warehouse)
    with warehouse.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM ops.alerts WHERE closed_at IS NULL")).scalar_one() == 0
    _send(warehouse, vault)
    assert len(mail.messages) == 1  # cleared, but not yet for the damping time: no resolution yet
    _age_clear(warehouse)
    for _ in range(2):
        _tick(warehouse)
        _send(warehouse, vault)
    assert len(mail.messages) == 2 and "RESOLVED" in mail.messages[1]["Subject"]
    assert [d["type"] for d in hooks.documents] == ["alert.opened", "alert.resolved"]


def test_the_database_defines_exactly_the_metrics_the_code_shows(warehouse):
    with warehouse.begin() as conn:
        assert set(conn.execute(text("SELECT metric FROM ops.metric_definitions")).scalars()) == set(METRICS)


# ---------------------------------------------------------------- damping and escalation
def test_a_flapping_condition_sends_one_notice_and_one_resolution(warehouse, vault, routed):
    mail, hooks = routed
    store_id = _store_id(warehouse)
    for _ in range(5):  # opens and clears five times within the damping time
        with warehouse.begin() as conn:
            raise_alert(conn, "the feed flaps", source="flappy", store_id=store_id, severity="warn")
        _tick(warehouse)
        with warehouse.begin() as conn:
            conn.execute(text("UPDATE ops.alerts SET closed_at = now() WHERE source = 'flappy' AND closed_at IS NULL"))
        _tick(warehouse)
    _send(warehouse, vault)
    assert [d["type"] for d in hooks.documents] == ["alert.opened"] and len(mail.messages) == 1
    _age_clear(warehouse)
    _tick(warehouse)
    _tick(warehouse)
    _send(warehouse, vault)
    assert [d["type"] for d in hooks.documents] == ["alert.opened", "alert.resolved"] and len(mail.messages) == 2


def test_an_alert_that_turns_error_is_escalated_once_unless_acknowledged(warehouse, vault, routed, run_cli):
    mail, hooks = routed
    store_id = _store_id(warehouse)
    with warehouse.begin() as conn:
        add_route(conn, STORE, "alerts", "email", "oncall@opsshop.example", min_severity="error")
        raise_alert(conn, "slow", source="lag", store_id=store_id, severity="warn")
    _tick(warehouse)
    _send(warehouse, vault)
    assert [m["To"] for m in mail.messages] == ["ops@opsshop.example"]  # warn: not to the error-only route
    with warehouse.begin() as conn:
        raise_alert(conn, "very slow", source="lag", store_id=store_id, severity="error")
    _tick(warehouse)
    _tick(warehouse)
    _send(warehouse, vault)
    assert sorted(m["To"] for m in mail.messages[1:]) == ["oncall@opsshop.example", "ops@opsshop.example"]
    assert all("ESCALATED" in m["Subject"] for m in mail.messages[1:])
    assert [d["type"] for d in hooks.documents] == ["alert.opened", "alert.escalated"]

    # An acknowledged warn alert that turns error is not escalated.
    with warehouse.begin() as conn:
        raise_alert(conn, "stale", source="other", store_id=store_id, severity="warn")
        alert_id = conn.execute(text("SELECT alert_id FROM ops.alerts WHERE source = 'other'")).scalar_one()
    _tick(warehouse)
    code, out, err = run_cli("alerts", "ack", str(alert_id), "--by", "kim")
    assert code == 0 and "acknowledged by kim" in out, err
    with warehouse.begin() as conn:
        raise_alert(conn, "staler", source="other", store_id=store_id, severity="error")
    _tick(warehouse)
    _send(warehouse, vault)
    assert [d["type"] for d in hooks.documents] == ["alert.opened", "alert.escalated", "alert.opened"]


# ---------------------------------------------------------------- delivery faults
def test_an_smtp_server_that_refuses_then_accepts_gets_the_alert_once(warehouse, vault, routed):
    mail, _ = routed
    mail.replies = ["451 4.3.0 try again later", "421 4.3.2 shutting down"]
    with warehouse.begin() as conn:
        raise_alert(conn, "the import failed", source="run_failure", store_id=_store_id(warehouse))
    _tick(warehouse)
    for _ in range(4):
        _send(warehouse, vault)
        _tick(warehouse)
    assert len(mail.messages) == 1 and mail.replies == []
    with warehouse.begin() as conn:
        attempts = conn.execute(text("SELECT attempts, status FROM ops.outbound_queue "
                                     "WHERE operation = 'send_notice'")).one()
    assert attempts.status == "succeeded" and attempts.attempts == 3


def test_a_webhook_that_answers_500_then_200_gets_the_alert_once_signed(warehouse, vault, routed):
    _, hooks = routed
    hooks.statuses = [500, 503]
    with warehouse.begin() as conn:
        raise_alert(conn, "dead letter on ebay", source="dead_letter", store_id=_store_id(warehouse))
    _tick(warehouse)
    for _ in range(4):
        _send(warehouse, vault)
    assert hooks.attempts == 3 and len(hooks.deliveries) == 1 and hooks.refused_signatures == 0
    assert hooks.deliveries[0].signature_ok and hooks.documents[0]["message"] == "dead letter on ebay"
    with warehouse.begin() as conn:
        row = conn.execute(text("SELECT status, idempotency_key FROM ops.outbound_queue "
                                "WHERE operation = 'post_notice'")).one()
    assert row.status == "succeeded" and hooks.deliveries[0].event_id == row.idempotency_key


def test_a_webhook_answer_lost_to_a_timeout_is_sent_again_with_the_same_event_id(warehouse, vault, routed, webhook):
    _, hooks = routed
    with warehouse.begin() as conn:
        upsert_account(conn, STORE, "webhook", webhook.url, {"timeout_seconds": 1})
        raise_alert(conn, "slow receiver", source="slow", store_id=_store_id(warehouse))
    hooks.slow = [3.0]  # takes the first delivery, answers after the sender gave up
    _tick(warehouse)
    _send(warehouse, vault)
    with warehouse.begin() as conn:
        first = conn.execute(text("SELECT status, outcome_unknown FROM ops.outbound_queue "
                                  "WHERE operation = 'post_notice'")).one()
    assert first.status == "pending" and first.outcome_unknown
    _send(warehouse, vault)
    assert len(hooks.deliveries) == 1 and hooks.duplicates == 1 and hooks.attempts == 2
    with warehouse.begin() as conn:
        status = conn.execute(text("SELECT status FROM ops.outbound_queue "
                                   "WHERE operation = 'post_notice'")).scalar_one()
    assert status == "succeeded"


def test_a_webhook_with_the_wrong_secret_is_dead_lettered_with_the_reason(warehouse, vault, routed, webhook):
    with warehouse.begin() as conn:
        account = upsert_account(conn, STORE, "webhook", webhook.url)
        vault.store(conn, account.account_id, {"secret": "not-the-receivers"})
        raise_alert(conn, "x", source="x", store_id=_store_id(warehouse))
    _tick(warehouse)
    _send(warehouse, vault)
    with warehouse.begin() as conn:
        row = conn.execute(text("SELECT status, last_error FROM ops.outbound_queue "
                                "WHERE operation = 'post_notice'")).one()
    assert row.status == "dead" and "HTTP 401" in row.last_error and "not-the-receivers" not in row.last_error


# ---------------------------------------------------------------- routes, thresholds, CLI
def test_a_route_needs_an_account_to_send_with(warehouse):
    with warehouse.begin() as conn:
        upsert_account(conn, "bare", "letzshop", "http://127.0.0.1:9/")
        with pytest.raises(MarketsyncError, match=r"no enabled email account.*marketsync account add bare email"):
            add_route(conn, "bare", "alerts", "email", "ops@bare.example")
        with pytest.raises(MarketsyncError, match="one address"):
            add_route(conn, "bare", "alerts", "email", "ops@bare.example, boss@bare.example")


def test_thresholds_and_alerts_through_the_cli(warehouse, vault, routed, run_cli):
    with warehouse.begin() as conn:
        upsert_account(conn, STORE, "letzshop", "http://127.0.0.1:9/")
        conn.execute(text("UPDATE ops.accounts SET last_synced_at = now() - interval '20 minutes' "
                          "WHERE channel = 'letzshop'"))
    code, out, err = run_cli("alerts", "metrics", "--store", STORE, "--crossed")
    assert code == 0 and "order_import_lag" in out and "warn" in out, out + err
    code, out, err = run_cli("alerts", "threshold", "set", STORE, "order_import_lag", "--warn", "3600")
    assert code == 0 and "warn above 3600" in out and "error above 3600" in out, out + err
    code, out, err = run_cli("alerts", "threshold", "set", STORE, "order_import_lag", "--warn", "7200")
    assert code == 1 and "warn must be at most error" in err
    code, out, _ = run_cli("alerts", "metrics", "--store", STORE, "--crossed")
    assert "order_import_lag" not in out
    code, out, _ = run_cli("alerts", "threshold", "reset", STORE, "order_import_lag")
    assert code == 0 and "back to the defaults" in out
    code, out, err = run_cli("alerts", "evaluate")
    assert code == 0 and "1 alert(s) opened" in out, out + err
    code, out, _ = run_cli("alerts", "list", "--store", STORE, "--json")
    [alert] = json.loads(out)
    assert alert["source"] == "threshold" and alert["severity"] == "warn" and alert["state"] == "open"
    code, out, err = run_cli("alerts", "test", STORE)
    assert code == 0 and out.count(": sent") == 2, out + err
    mail, hooks = routed
    assert "test notice" in mail.messages[-1]["Subject"] and hooks.documents[-1]["type"] == "test"
    code, out, _ = run_cli("alerts", "route", "list", STORE)
    assert code == 0 and "ops@opsshop.example" in out and "webhook" in out
