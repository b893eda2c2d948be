"""The operations endpoints of `marketsync serve` (pipelines/ops_app), served on loopback with the push intake
in one app against a real Postgres: tokens (none, wrong, revoked, of one store), /metrics parsed as
Prometheus parses it, the health endpoint's live call made once a minute per account however many ask,
/readyz without a database, the status page escaping what it shows, and `marketsync tokens`."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.alerts import raise_alert
from marketsync.assets.channel_registry import Channel, register, unregister
from marketsync.pipelines.ops_app.server import create_app
from marketsync.pipelines.ops_app.tokens import create_token, revoke_token
from marketsync.resources.database import engine_for
from marketsync.resources.errors import MarketsyncError
from marketsync.sandbox.http import serve_in_thread

STUB = "opsprobe"  # a channel of this test's own, whose connection test counts its calls


class Probe:
    """The stub channel's API: counts the connection tests, answers after `delay` or fails with `error`."""

    def __init__(self):
        self.calls = 0
        self.delay = 0.0
        self.error: Exception | None = None
        self.lock = threading.Lock()

    def reset(self):
        self.calls, self.delay, self.error = 0, 0.0, None


PROBE = Probe()


def check_probe(warehouse, vault, client, store):
    """The stub channel's connection test (what `marketsync test-connection` would run)."""
    with PROBE.lock:
        PROBE.calls += 1
    assert client == "probe-client"
    with warehouse.begin() as conn:  # the warehouse it is given works as the CLI's does
        conn.execute(text("SELECT 1"))
    time.sleep(PROBE.delay)
    if PROBE.error is not None:
        raise PROBE.error
    return f" ({store})"


@pytest.fixture
def probe_channel(warehouse):
    register(Channel(name=STUB, label="Ops probe", connection_test=f"{__name__}:check_probe"))
    PROBE.reset()
    yield PROBE
    unregister(STUB)
    with warehouse.begin() as conn:
        conn.execute(text("DELETE FROM ops.accounts WHERE channel = :c"), {"c": STUB})
        conn.execute(text("DELETE FROM ops.channels WHERE name = :c"), {"c": STUB})


def _clients(channel):
    return "probe-client" if channel.name == STUB else None


@pytest.fixture
def server(warehouse, vault):
    """serve(**options) -> an httpx client on the whole app (push intake + operations) on loopback."""
    started, clients = [], []

    def start(engine=None, **options):
        options.setdefault("clients", _clients)
        running = serve_in_thread(create_app(engine or warehouse.engine, vault, **options))
        started.append(running)
        client = httpx.Client(base_url=running.base_url, timeout=30)
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.close()
    for running in started:
        running.stop()


def _token(warehouse, name, store=None):
    with warehouse.begin() as conn:
        return create_token(conn, name, store)[0]


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _stores(warehouse):
    """Store 'shop' (Letzshop, last imported two hours ago: its import lag is past the error threshold,
    with an open alert) and store 'other' (Letzshop, just imported)."""
    with warehouse.begin() as conn:
        shop = upsert_account(conn, "shop", "letzshop", "https://letzshop.invalid/graphql")
        other = upsert_account(conn, "other", "letzshop", "https://letzshop.invalid/graphql")
        conn.execute(text("UPDATE ops.accounts SET last_synced_at = now() - interval '2 hours' WHERE account_id = :a"),
                     {"a": shop.account_id})
        conn.execute(text("UPDATE ops.accounts SET last_synced_at = now() WHERE account_id = :a"),
                     {"a": other.account_id})
        raise_alert(conn, "Letzshop import failed: the API answered 503 three times", account_id=shop.account_id)
    return shop, other


# ------------------------------------------------------------------------------------------ authentication
def test_healthz_needs_no_token_and_everything_else_does(warehouse, server):
    http = server()
    assert http.get("/healthz").json() == {"status": "ok"}
    for path in ("/readyz", "/metrics", "/health/stores/shop"):
        answer = http.get(path)
        assert answer.status_code == 401, path
        assert answer.headers["www-authenticate"] == 'Bearer realm="marketsync"'
        assert answer.json()["error"] == "unauthorized"
    page = http.get("/status")
    assert page.status_code == 401
    assert page.headers["www-authenticate"].startswith('Basic realm="marketsync"'), "a browser must prompt"
    # The push intake's routes are served by the same app, with their own signatures.
    assert http.put("/stores/shop/inventory-feeds/supplier/items", json={}).status_code == 404


def test_a_wrong_malformed_or_revoked_token_is_refused(warehouse, server):
    http = server()
    token = _token(warehouse, "prometheus")
    assert http.get("/readyz", headers=_bearer(token)).status_code == 200
    prefix, token_id, secret = token.split("_", 2)
    wrong_secret = f"{prefix}_{token_id}_{'A' * 43}"
    unknown_id = f"{prefix}_999_{secret}"
    for bad in (wrong_secret, unknown_id, "not-a-token", token + "x", token.upper()):
        answer = http.get("/readyz", headers=_bearer(bad))
        assert answer.status_code == 401, bad
        assert answer.json()["message"] == "the token is not valid"
        assert bad not in answer.text and secret not in answer.text
    assert http.get("/readyz", headers={"Authorization": f"Token {token}"}).status_code == 401
    with warehouse.begin() as conn:
        assert revoke_token(conn, "prometheus") is True
        assert revoke_token(conn, "prometheus") is False
    answer = http.get("/readyz", headers=_bearer(token))
    assert answer.status_code == 401 and answer.json()["message"] == "the token was revoked"


def test_a_browser_sends_the_token_as_a_basic_password_and_its_use_is_noted_once_a_minute(warehouse, server):
    _stores(warehouse)
    http = server()
    token = _token(warehouse, "browser")
    assert http.get("/status", auth=("anyone", token)).status_code == 200
    assert http.get("/status", auth=(token, "")).status_code == 200  # curl -u TOKEN:
    assert http.get("/status", auth=("anyone", "wrong")).status_code == 401
    def last_used():
        with warehouse.begin() as conn:
            return conn.execute(text("SELECT last_used_at FROM ops.api_tokens WHERE name = 'browser'")).scalar_one()

    first = last_used()
    assert first is not None
    http.get("/metrics", headers=_bearer(token))
    assert last_used() == first, "noted at most once a minute"
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.api_tokens SET last_used_at = now() - interval '61 seconds'"))
    moved_back = last_used()
    http.get("/metrics", headers=_bearer(token))
    assert last_used() > moved_back


def test_a_store_token_sees_only_its_store(warehouse, server):
    _stores(warehouse)
    http = server()
    mine = _bearer(_token(warehouse, "other-ops", "other"))
    assert http.get("/health/stores/other", headers=mine).status_code == 200
    refused = http.get("/health/stores/shop", headers=mine)
    assert refused.status_code == 404 and refused.json() == {"error": "unknown_store", "message": "no store 'shop'"}
    assert http.get("/health/stores/nowhere", headers=mine).status_code == 404
    scraped = http.get("/metrics", headers=mine).text
    assert 'store="other"' in scraped and 'store="shop"' not in scraped
    page = http.get("/status", headers=mine).text
    assert "store other" in page and 'data-store="shop"' not in page and "three times" not in page
    # A token of every store sees both.
    everything = _bearer(_token(warehouse, "all-ops"))
    assert http.get("/health/stores/shop", headers=everything).status_code == 200
    assert 'store="shop"' in http.get("/metrics", headers=everything).text


# --------------------------------------------------------------------------------------------------- metrics
def _families(body: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(body)}


def test_metrics_parse_as_prometheus_and_carry_the_crossed_metric(warehouse, server):
    shop, _other = _stores(warehouse)
    with warehouse.begin() as conn:
        conn.execute(text("INSERT INTO ops.metric_thresholds (store_id, metric, warn_at, error_at) "
                          "VALUES (:s, 'sync_error_rate', 10, 50)"), {"s": shop.store_id})
        conn.execute(text("INSERT INTO ops.sync_log (account_id, operation, direction, completed_at, failed) "
                          "VALUES (:a, 'import_orders', 'inbound', now(), true), "
                          "(:a, 'import_orders', 'inbound', now(), false)"), {"a": shop.account_id})
        conn.execute(text("INSERT INTO ops.outbound_queue (account_id, operation, payload, idempotency_key, status) "
                          "VALUES (:a, 'confirm', '{}', 'k1', 'pending'), (:a, 'confirm', '{}', 'k2', 'dead'), "
                          "(:a, 'confirm', '{}', 'k3', 'succeeded')"), {"a": shop.account_id})
    http = server()
    answer = http.get("/metrics", headers=_bearer(_token(warehouse, "prometheus")))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = _families(answer.text)

    def sample(family, **labels):
        found = [s for s in families[family].samples if all(s.labels.get(k) == v for k, v in labels.items())]
        assert len(found) == 1, (family, labels, families[family].samples)
        return found[0].value

    lag = sample("marketsync_order_import_lag_seconds", store="shop", integration="letzshop")
    assert 7100 < lag < 7300
    assert families["marketsync_order_import_lag_seconds"].type == "gauge"
    assert sample("marketsync_order_import_lag_seconds", store="other", integration="letzshop") < 60
    assert sample("marketsync_metric_crossed", store="shop", integration="letzshop", metric="order_import_lag",
                  severity="error") == 1
    assert not [s for s in families["marketsync_metric_crossed"].samples if s.labels["store"] == "other"]
    assert sample("marketsync_metric_threshold", store="shop", metric="order_import_lag", severity="error") == 3600
    assert sample("marketsync_metric_threshold", store="shop", metric="order_import_lag", severity="warn") == 900
    # Percentages are ratios, the store's own thresholds in the same unit.
    assert sample("marketsync_sync_error_rate_ratio", store="shop", integration="letzshop") == 0.5
    assert sample("marketsync_metric_threshold", store="shop", metric="sync_error_rate", severity="error") == 0.5
    assert sample("marketsync_metric_threshold", store="other", metric="outbound_queue_depth", severity="warn") == 100
    assert sample("marketsync_open_alerts", store="shop", severity="error") == 1
    assert sample("marketsync_open_alerts", store="other", severity="error") == 0
    assert sample("marketsync_outbound_items", store="shop", channel="letzshop", status="pending") == 1
    assert sample("marketsync_outbound_items", store="shop", channel="letzshop", status="dead") == 1
    assert sample("marketsync_dead_letters", store="shop", integration="letzshop") == 1
    assert not [s for s in families["marketsync_outbound_items"].samples if s.labels["status"] == "succeeded"]
    # Never the process registry's own metrics.
    assert not [name for name in families if name.startswith(("process_", "python_"))]
    # OpenMetrics when the scraper asks for it.
    open_metrics = http.get("/metrics", headers={**_bearer(_token(warehouse, "om")),
                                                 "Accept": "application/openmetrics-text; version=1.0.0"})
    assert open_metrics.headers["content-type"].startswith("application/openmetrics-text")
    assert open_metrics.text.rstrip().endswith("# EOF")


# ---------------------------------------------------------------------------------------------------- health
def test_health_reports_each_integration_and_operation(warehouse, server, probe_channel):
    shop, _other = _stores(warehouse)
    with warehouse.begin() as conn:
        upsert_account(conn, "shop", STUB)
        conn.execute(text(
            """INSERT INTO ops.sync_log (account_id, operation, direction, started_at, completed_at, failed, errors)
               VALUES (:a, 'import_orders', 'inbound', now() - interval '3 hours', now() - interval '179 minutes',
                       false, '[]'),
                      (:a, 'import_orders', 'inbound', now() - interval '1 hour', now() - interval '59 minutes', true,
                       '["Letzshop answered 503: try later"]'),
                      (:a, 'outbound', 'outbound', now() - interval '30 minutes', now() - interval '29 minutes',
                       false, '["H123: refused", "... and 3 more errors"]')"""), {"a": shop.account_id})
        conn.execute(text("UPDATE ops.sync_log SET records_failed = 4 WHERE operation = 'outbound'"))
        conn.execute(text("UPDATE ops.accounts SET enabled = false WHERE account_id = :a"), {"a": shop.account_id})
    http = server()
    answer = http.get("/health/stores/shop", headers=_bearer(_token(warehouse, "ops")))
    assert answer.status_code == 200
    health = answer.json()
    assert health["store"] == "shop" and health["ok"] is False
    by_channel = {i["channel"]: i for i in health["integrations"]}
    letzshop = by_channel["letzshop"]
    assert letzshop["enabled"] is False
    assert letzshop["api"] == {"ok": None, "detail": "the account is disabled: its API is not called",
                               "checked_at": None, "cached": False}
    operations = {o["operation"]: o for o in letzshop["operations"]}
    imported = operations["import_orders"]
    assert imported["last_success_at"] < imported["last_error"]["at"]
    assert imported["last_error"]["message"] == "Letzshop answered 503: try later"
    assert imported["last_error"]["operation_failed"] is True
    outbound = operations["outbound"]["last_error"]
    assert outbound["message"] == "H123: refused" and outbound["records_failed"] == 4
    assert [a["message"] for a in letzshop["open_alerts"]] == \
        ["Letzshop import failed: the API answered 503 three times"]
    probe = by_channel[STUB]
    assert probe["enabled"] is True and probe["label"] == "Ops probe" and probe["operations"] == []
    assert probe["api"]["ok"] is True and probe["api"]["detail"].startswith("answered in ")


def test_the_live_call_is_made_once_a_minute_per_account_however_many_ask(warehouse, server, probe_channel):
    with warehouse.begin() as conn:
        account = upsert_account(conn, "shop", STUB)
    http = server()
    headers = _bearer(_token(warehouse, "ops"))
    probe_channel.delay = 0.6
    # Two requests at once: the second waits for the first's call and reads its answer.
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: http.get("/health/stores/shop", headers=headers).json(), range(2)))
    assert probe_channel.calls == 1
    apis = sorted((a["integrations"][0]["api"] for a in answers), key=lambda api: api["cached"])
    assert [api["cached"] for api in apis] == [False, True]
    assert apis[0]["ok"] is True and apis[0]["checked_at"] == apis[1]["checked_at"]
    # Within the minute, from the cache.
    again = http.get("/health/stores/shop", headers=headers).json()["integrations"][0]["api"]
    assert probe_channel.calls == 1 and again["cached"] is True
    # A minute later, a new call.
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.api_status SET checked_at = now() - interval '61 seconds' WHERE account_id = :a"),
                     {"a": account.account_id})
    fresh = http.get("/health/stores/shop", headers=headers).json()["integrations"][0]["api"]
    assert probe_channel.calls == 2 and fresh["cached"] is False and fresh["ok"] is True


def test_a_failing_or_silent_api_is_reported_not_raised(warehouse, server, probe_channel):
    with warehouse.begin() as conn:
        account = upsert_account(conn, "shop", STUB)
    http = server(api_timeout_seconds=0.5)
    headers = _bearer(_token(warehouse, "ops"))
    probe_channel.error = MarketsyncError("the probe refused the stored key: store a new one")
    answer = http.get("/health/stores/shop", headers=headers)
    assert answer.status_code == 200
    api = answer.json()["integrations"][0]["api"]
    assert api["ok"] is False and api["detail"] == "the probe refused the stored key: store a new one"
    assert answer.json()["ok"] is False
    with warehouse.begin() as conn:
        conn.execute(text("DELETE FROM ops.api_status WHERE account_id = :a"), {"a": account.account_id})
    probe_channel.error = RuntimeError("https://user:hunter2@probe.invalid/ exploded")
    api = http.get("/health/stores/shop", headers=headers).json()["integrations"][0]["api"]
    assert api == {**api, "ok": False, "detail": "unexpected RuntimeError (details in the run's log)"}
    with warehouse.begin() as conn:
        conn.execute(text("DELETE FROM ops.api_status WHERE account_id = :a"), {"a": account.account_id})
    probe_channel.error, probe_channel.delay = None, 2.0
    started = time.monotonic()
    api = http.get("/health/stores/shop", headers=headers).json()["integrations"][0]["api"]
    assert time.monotonic() - started < 1.8
    assert api["ok"] is False and api["detail"] == "no answer within 0.5 s"


def test_health_of_a_letzshop_store_calls_the_simulator(shop, server):
    """The default clients: the channel's own resource, as the code location builds it."""
    http = server(clients=None)
    headers = _bearer(_token(shop.warehouse, "ops"))
    before = shop.state.requests
    api = http.get("/health/stores/shop", headers=headers).json()["integrations"][0]["api"]
    assert api["ok"] is True, api
    assert http.get("/health/stores/shop", headers=headers).json()["integrations"][0]["api"]["cached"] is True
    assert shop.state.requests == before + 1, "one ping of the simulator for two requests"


# ---------------------------------------------------------------------------------------------------- readyz
def test_readyz_is_503_without_a_database(warehouse, server):
    http = server()
    token = _token(warehouse, "probe")
    assert http.get("/readyz", headers=_bearer(token)).json() == {"status": "ready", "database": "ok"}
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    gone = server(engine=engine_for(f"postgresql://postgres@127.0.0.1:{closed}/marketsync"))
    answer = gone.get("/readyz", headers=_bearer(token))
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert "database" in answer.json()["message"]
    assert gone.get("/healthz").status_code == 200, "the process is up"
    assert gone.get("/metrics", headers=_bearer(token)).status_code == 503
    assert gone.get("/status", headers=_bearer(token)).status_code == 503


# ---------------------------------------------------------------------------------------------------- status
HOSTILE_NAME = '<script>alert("store")</script>'
HOSTILE_ALERT = '<img src=x onerror=alert(1)> & "quoted" </td></tr><tr><td>'


def test_the_status_page_escapes_what_it_shows(warehouse, server):
    shop, _other = _stores(warehouse)
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.stores SET name = :n WHERE code = 'shop'"), {"n": HOSTILE_NAME})
        raise_alert(conn, HOSTILE_ALERT, source="reconciliation", account_id=shop.account_id, severity="warn")
    http = server()
    answer = http.get("/status", headers=_bearer(_token(warehouse, "ops")))
    assert answer.status_code == 200
    page = answer.text
    assert "<script" not in page and "<img" not in page and "</td></tr><tr><td>" not in page
    assert "&lt;script&gt;alert(&#34;store&#34;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &#34;quoted&#34;" in page
    assert "script-src" not in answer.headers["content-security-policy"]
    assert answer.headers["content-security-policy"].startswith("default-src 'none'")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert 'data-store="shop" data-integration="letzshop"\n        data-state="error"' in page
    assert "Letzshop import failed: the API answered 503 three times" in page
    assert 'id="orders-per-hour"' in page and 'id="sync-durations"' in page


# ------------------------------------------------------------------------------------------------------ CLI
def test_tokens_cli_prints_a_token_once_and_never_lists_it(run_cli, warehouse, server):
    _stores(warehouse)
    code, out, err = run_cli("tokens", "create", "grafana", "--store", "shop")
    assert code == 0, err
    token = out.strip()
    assert token.startswith("mso_") and "shown once" in err
    code, out, _ = run_cli("tokens", "create", "grafana")
    assert code == 1
    code, out, _ = run_cli("tokens", "list", "--json")
    assert code == 0 and token not in out and token.split("_", 2)[2] not in out
    assert '"store": "shop"' in out
    http = server()
    assert http.get("/health/stores/shop", headers=_bearer(token)).status_code == 200
    code, out, _ = run_cli("tokens", "revoke", "grafana")
    assert code == 0 and "revoked" in out
    assert http.get("/health/stores/shop", headers=_bearer(token)).status_code == 401
    code, out, err = run_cli("tokens", "revoke", "nobody")
    assert code == 1 and "no token named 'nobody'" in err


# ---------------------------------------------------------------------------------------------- make dev
def test_make_dev_serves_the_status_page_with_a_development_token(cli_env, warehouse):
    from marketsync.pipelines import demo_world
    from marketsync.pipelines.cli.runtime import Runtime

    _stores(warehouse)
    rt = Runtime()
    with demo_world.serve_status(rt, {}, port=0) as (url, token):
        page = httpx.get(f"{url}/status", auth=("me", token), timeout=10)
        assert page.status_code == 200 and 'data-store="shop"' in page.text
        assert httpx.put(f"{url}/stores/shop/inventory-feeds/supplier/items", json={}).status_code == 404
    kept = cli_env / "home" / "demo" / "status-token"
    assert kept.read_text().strip() == token and kept.stat().st_mode & 0o777 == 0o600
    with demo_world.serve_status(rt, {}, port=0) as (_url, again):
        assert again == token, "the next make dev keeps the token"
    with warehouse.begin() as conn:
        revoke_token(conn, demo_world.DEV_TOKEN_NAME)
    with demo_world.serve_status(rt, {}, port=0) as (url, renewed):
        assert renewed != token
        assert httpx.get(f"{url}/readyz", headers=_bearer(renewed), timeout=10).status_code == 200


def test_sync_durations_per_hour_are_read_from_a_histogram_within_its_precision(warehouse):
    """The status page's durations chart reads the median and 95th percentile from 5% buckets: each within
    2.5% of the exact percentile_disc, the counts and the longest exact."""
    from marketsync.assets.operations.status import sync_durations

    with warehouse.begin() as conn:
        account = upsert_account(conn, "shop", "letzshop")
        conn.execute(text(
            """INSERT INTO ops.sync_log (account_id, operation, direction, started_at, completed_at, failed)
               SELECT :a, 'import_orders', 'inbound', date_trunc('hour', now()) - interval '2 hours'
                          + make_interval(secs => n), date_trunc('hour', now()) - interval '2 hours'
                          + make_interval(secs => n) + make_interval(secs => (n * 7919 % 1000) / 37.0),
                      n % 50 = 0
               FROM generate_series(1, 800) n"""), {"a": account.account_id})
        exact = conn.execute(text(
            """SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50,
                      percentile_disc(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95, max(duration_ms) AS longest
               FROM ops.sync_log""")).one()
        hours = sync_durations(conn)
    assert len(hours) == 24 and sum(h.runs for h in hours) == 800
    hour = next(h for h in hours if h.runs)
    assert (hour.runs, hour.failed, hour.max_ms) == (800, 16, exact.longest)
    assert abs(hour.p50_ms - exact.p50) <= 0.025 * exact.p50 + 1
    assert abs(hour.p95_ms - exact.p95) <= 0.025 * exact.p95 + 1
