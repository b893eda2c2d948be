"""The push intake against a real Postgres, served over loopback and driven with httpx: signatures,
replays, secret rotation, the limits, stale updates in any arrival order, and batches applied by the
Dagster job the sensor launches."""
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import httpx
import pytest
from dagster import SensorResult, SkipReason, build_sensor_context
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.feeds.push_inbox import apply_batch, apply_inbox_job
from marketsync.assets.stores import store_id_for
from marketsync.pipelines.push_intake.app import create_push_app
from marketsync.pipelines.push_intake.auth import sign
from marketsync.pipelines.push_intake.limits import PushLimits
from marketsync.pipelines.push_intake.secrets import retire_previous_push_secret, rotate_push_secret
from marketsync.sandbox.http import serve_in_thread
from marketsync.sensors.webhook_inbox import feed_inbox_sensor

ITEM = "/stores/shop/inventory-feeds/supplier/items"
BATCH = "/stores/shop/inventory-feeds/supplier/items:batch"
BARCODE = "4006381333931"


class FakeClock:
    """Time that moves only when told to."""

    def __init__(self):
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return FakeClock()


def _make_feed(warehouse, vault, settings=None):
    with warehouse.begin() as conn:
        upsert_account(conn, "shop", "letzshop")
        source_id = conn.execute(text(
            """INSERT INTO ops.catalog_sources (store_id, name, kind, settings)
               VALUES (:s, 'supplier', 'push_feed', CAST(:settings AS jsonb)) RETURNING source_id"""),
            {"s": store_id_for(conn, "shop"), "settings": json.dumps(settings or {})}).scalar_one()
        secret = rotate_push_secret(conn, vault, source_id)
    return SimpleNamespace(source_id=source_id, secret=secret)


@pytest.fixture
def feed(warehouse, vault):
    return _make_feed(warehouse, vault)


class Pusher:
    """A supplier's client: signs every delivery with the feed's secret at the clock's time."""

    def __init__(self, base_url: str, clock: FakeClock, secret: str):
        self.http = httpx.Client(base_url=base_url, timeout=10)
        self.clock, self.secret = clock, secret

    def send(self, method: str, path: str, payload=None, *, body: bytes | None = None, secret: str | None = None,
             event_id: str | None = None, timestamp: int | None = None, tamper=None) -> httpx.Response:
        body = json.dumps(payload).encode() if body is None else body
        timestamp = int(self.clock().timestamp()) if timestamp is None else timestamp
        event_id = event_id or str(uuid.uuid4())
        headers = {"Content-Type": "application/json", "X-Marketsync-Timestamp": str(timestamp),
                   "X-Marketsync-Event-Id": event_id,
                   "X-Marketsync-Signature": sign(secret or self.secret, timestamp, event_id, body)}
        return self.http.request(method, path, content=tamper(body) if tamper else body, headers=headers)

    def put(self, item, **kw) -> httpx.Response:
        return self.send("PUT", ITEM, item, **kw)

    def batch(self, items, **kw) -> httpx.Response:
        return self.send("POST", BATCH, items, **kw)


@pytest.fixture
def serve(warehouse, vault, clock):
    """serve(secret, limits=None) -> a Pusher talking to a fresh intake app on loopback."""
    servers, clients = [], []

    def start(secret: str, limits: PushLimits | None = None) -> Pusher:
        app = create_push_app(warehouse.engine, vault, clock=clock, limits=limits or PushLimits())
        server = serve_in_thread(app)
        servers.append(server)
        pusher = Pusher(server.base_url, clock, secret)
        clients.append(pusher.http)
        return pusher

    yield start
    for client in clients:
        client.close()
    for server in servers:
        server.stop()


def _stock(warehouse, external_id="A1"):
    with warehouse.begin() as conn:
        return conn.execute(text("SELECT quantity FROM core.marketplace_products WHERE external_id = :e"),
                            {"e": external_id}).scalar()


def _count(warehouse, sql):
    with warehouse.begin() as conn:
        return conn.execute(text(sql)).scalar_one()


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _run_job(warehouse, up_to=0):
    result = apply_inbox_job.execute_in_process(
        run_config={"ops": {"apply_feed_inbox": {"config": {"up_to_inbox_id": up_to}}}},
        resources={"warehouse": warehouse})
    assert result.success


# ------------------------------------------------------------------------------------------- PUT
def test_put_upserts_the_item_and_answers_the_stored_record(warehouse, feed, serve, clock):
    pusher = serve(feed.secret)
    item = {"externalId": "A1", "vendorSku": "SKU-1", "barcode": BARCODE, "inventoryQuantity": 7,
            "price": 12.5, "costPrice": "8.10", "name": "Kettle", "description": "A kettle",
            "translations": {"de": {"name": "Wasserkocher"}}, "updatedAt": _iso(clock.now - timedelta(minutes=1))}
    response = pusher.put(item)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["stale"] is False
    record = answer["record"]
    assert (record["externalId"], record["vendorSku"], record["barcode"], record["inventoryQuantity"]) == \
        ("A1", "SKU-1", "0" + BARCODE, 7)
    assert (record["price"], record["currency"], record["costPrice"], record["availability"]) == \
        ("12.50", "EUR", "8.1", "in stock")
    assert record["translations"] == {"de": {"name": "Wasserkocher", "description": None},
                                      "en": {"name": "Kettle", "description": "A kettle"}}
    with warehouse.begin() as conn:
        row = conn.execute(text("SELECT gtin14, sku, price, quantity, source_id FROM core.marketplace_products")).one()
    assert (row.gtin14, row.sku, row.price, row.quantity, row.source_id) == \
        ("0" + BARCODE, "SKU-1", Decimal("12.5000"), 7, feed.source_id)

    # A stock-only update (Jetti's parse-webhook shape) keeps every field it leaves out.
    stock_only = pusher.put({"externalId": "A1", "vendorSku": "SKU-1", "inventoryQuantity": 0})
    assert stock_only.status_code == 200
    record = stock_only.json()["record"]
    assert (record["inventoryQuantity"], record["availability"], record["price"], record["barcode"]) == \
        (0, "out of stock", "12.50", "0" + BARCODE)
    assert record["translations"]["en"]["name"] == "Kettle"


def test_invalid_items_are_refused_with_every_problem(warehouse, feed, serve):
    pusher = serve(feed.secret)
    response = pusher.put({"vendorSku": "x", "barcode": "4006381333932", "inventoryQuantity": "many"})
    assert response.status_code == 422
    fields = {p["field"] for p in response.json()["problems"]}
    assert fields == {"externalId", "barcode", "inventoryQuantity"}
    assert "check digit" in response.text
    assert _count(warehouse, "SELECT count(*) FROM core.marketplace_products") == 0
    assert _count(warehouse, "SELECT count(*) FROM ops.feed_inbox") == 0


def test_unknown_feed_is_404(feed, serve):
    pusher = serve(feed.secret)
    assert pusher.send("PUT", "/stores/shop/inventory-feeds/nope/items", {"externalId": "A1"}).status_code == 404


# ----------------------------------------------------------------------------------------- auth
def test_a_flipped_byte_is_refused(warehouse, feed, serve):
    pusher = serve(feed.secret)

    def flip(body: bytes) -> bytes:
        position = body.index(b"7")
        return body[:position] + b"8" + body[position + 1:]

    response = pusher.put({"externalId": "A1", "inventoryQuantity": 7}, tamper=flip)
    assert response.status_code == 401
    assert "signature" in response.json()["message"]
    assert _count(warehouse, "SELECT count(*) FROM core.marketplace_products") == 0


def test_a_wrong_secret_and_missing_headers_are_refused(feed, serve):
    pusher = serve(feed.secret)
    assert pusher.put({"externalId": "A1"}, secret="mspush_not-the-secret").status_code == 401
    bare = pusher.http.put(ITEM, content=b'{"externalId": "A1"}')
    assert bare.status_code == 401 and "X-Marketsync-Timestamp" in bare.json()["message"]


def test_an_old_or_future_timestamp_is_refused(warehouse, feed, serve, clock):
    pusher = serve(feed.secret)
    now = int(clock.now.timestamp())
    old = pusher.put({"externalId": "A1", "inventoryQuantity": 1}, timestamp=now - 301)
    assert old.status_code == 401 and "old" in old.json()["message"]
    ahead = pusher.put({"externalId": "A1", "inventoryQuantity": 1}, timestamp=now + 301)
    assert ahead.status_code == 401
    assert pusher.put({"externalId": "A1", "inventoryQuantity": 1}, timestamp=now - 299).status_code == 200
    # A captured delivery re-sent after the window is refused even with its original signature.
    event = str(uuid.uuid4())
    body = json.dumps({"externalId": "A1", "inventoryQuantity": 9}).encode()
    first = pusher.put(None, body=body, event_id=event, timestamp=now)
    assert first.status_code == 200
    clock.advance(301)
    assert pusher.put(None, body=body, event_id=event, timestamp=now).status_code == 401


def test_a_replayed_delivery_is_a_noop_with_the_same_answer(warehouse, feed, serve):
    pusher = serve(feed.secret)
    event = "delivery-1"
    first = pusher.put({"externalId": "A1", "inventoryQuantity": 4}, event_id=event)
    again = pusher.put({"externalId": "A1", "inventoryQuantity": 4}, event_id=event)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again.headers["X-Marketsync-Duplicate"] == "true" and "X-Marketsync-Duplicate" not in first.headers
    assert _count(warehouse, "SELECT count(*) FROM ops.feed_inbox") == 1
    assert _count(warehouse, "SELECT sum(sku_updates) FROM ops.feed_daily_usage") == 1
    # The same event id with another body is a client bug, not a duplicate.
    assert pusher.put({"externalId": "A1", "inventoryQuantity": 5}, event_id=event).status_code == 409
    assert _stock(warehouse) == 4

    batch = [{"externalId": "B1", "inventoryQuantity": 1}]
    accepted = pusher.batch(batch, event_id="batch-1")
    replayed = pusher.batch(batch, event_id="batch-1")
    assert (accepted.status_code, replayed.status_code) == (202, 202)
    assert replayed.json() == accepted.json()
    assert _count(warehouse, "SELECT count(*) FROM ops.feed_inbox WHERE event_id = 'batch-1'") == 1


def test_previous_secret_works_while_rotating_and_not_after_it_is_retired(warehouse, vault, feed, serve):
    pusher = serve(feed.secret)
    old = feed.secret
    assert pusher.put({"externalId": "A1", "inventoryQuantity": 1}).status_code == 200
    with warehouse.begin() as conn:
        new = rotate_push_secret(conn, vault, feed.source_id)
    assert new != old and new.startswith("mspush_")
    assert pusher.put({"externalId": "A1", "inventoryQuantity": 2}, secret=old).status_code == 200
    assert pusher.put({"externalId": "A1", "inventoryQuantity": 3}, secret=new).status_code == 200
    with warehouse.begin() as conn:
        assert retire_previous_push_secret(conn, vault, feed.source_id) is True
        assert retire_previous_push_secret(conn, vault, feed.source_id) is False
    assert pusher.put({"externalId": "A1", "inventoryQuantity": 4}, secret=old).status_code == 401
    assert pusher.put({"externalId": "A1", "inventoryQuantity": 5}, secret=new).status_code == 200
    with warehouse.begin() as conn:
        token = conn.execute(text("SELECT token FROM ops.source_credentials")).scalar_one()
    assert new.encode() not in bytes(token)


def test_base64_signatures_are_accepted(feed, serve, clock):
    import base64
    import hashlib
    import hmac

    pusher = serve(feed.secret)
    body, ts, event = b'{"externalId": "A1", "inventoryQuantity": 2}', str(int(clock.now.timestamp())), "e-b64"
    digest = hmac.new(feed.secret.encode(), f"{ts}\n{event}\n".encode() + body, hashlib.sha256).digest()
    response = pusher.http.put(ITEM, content=body, headers={
        "X-Marketsync-Timestamp": ts, "X-Marketsync-Event-Id": event,
        "X-Marketsync-Signature": "sha256=" + base64.b64encode(digest).decode()})
    assert response.status_code == 200, response.text


# --------------------------------------------------------------------------------------- limits
def test_a_batch_of_51_items_is_refused(warehouse, feed, serve):
    pusher = serve(feed.secret)
    items = [{"externalId": f"P{i}", "inventoryQuantity": i} for i in range(51)]
    response = pusher.batch(items)
    assert response.status_code == 422
    assert response.json()["error"] == "too_many_items"
    assert "at most 50 items; this one has 51" in response.json()["message"]
    assert _count(warehouse, "SELECT count(*) FROM ops.feed_inbox") == 0
    assert pusher.batch(items[:50]).status_code == 202


def test_an_oversized_body_is_refused_before_it_is_read(warehouse, feed, serve):
    pusher = serve(feed.secret, PushLimits(max_body_bytes=2048))
    big = {"externalId": "A1", "description": "x" * 4000}
    declared = pusher.put(big)
    assert declared.status_code == 413
    assert declared.json()["error"] == "body_too_large"

    # No Content-Length (chunked upload): counted while streaming.
    body = json.dumps(big).encode()

    def chunks():
        for start in range(0, len(body), 512):
            yield body[start:start + 512]

    streamed = pusher.http.put(ITEM, content=chunks(), headers={"X-Marketsync-Timestamp": "0"})
    assert streamed.status_code == 413
    assert pusher.put({"externalId": "A1", "description": "small"}).status_code == 200
    assert _count(warehouse, "SELECT count(*) FROM ops.feed_inbox") == 1


def test_a_burst_of_200_requests_gets_100_through_then_429(warehouse, feed, serve, clock):
    pusher = serve(feed.secret)
    statuses, retry_after = [], set()
    for i in range(200):
        response = pusher.put({"externalId": f"P{i % 10}", "inventoryQuantity": i})
        statuses.append(response.status_code)
        if response.status_code == 429:
            retry_after.add(response.headers["Retry-After"])
    assert statuses == [200] * 100 + [429] * 100
    assert retry_after == {"60"}  # the clock stood still: the window frees up a minute after the burst
    clock.advance(30)
    refused = pusher.put({"externalId": "P0", "inventoryQuantity": 1})
    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "30")
    clock.advance(30)
    assert pusher.put({"externalId": "P0", "inventoryQuantity": 1}).status_code == 200
    # Sliding, not fixed: the window now holds one request, so 99 more fit and the 100th does not.
    assert [pusher.put({"externalId": "P0", "inventoryQuantity": 2}).status_code for _ in range(100)] == \
        [200] * 99 + [429]


def test_the_daily_sku_limit(warehouse, vault, serve, clock):
    feed = _make_feed(warehouse, vault, {"daily_sku_update_limit": 3})
    pusher = serve(feed.secret)
    clock.now = clock.now.replace(hour=23, minute=0, second=0)
    assert pusher.put({"externalId": "A1", "inventoryQuantity": 1}).status_code == 200
    assert pusher.batch([{"externalId": "A2"}, {"externalId": "A3"}]).status_code == 202
    over = pusher.batch([{"externalId": "A4"}])
    assert over.status_code == 429
    assert over.headers["Retry-After"] == "3600"
    assert "daily SKU update limit" in over.json()["message"] and over.json()["used"] == 3
    assert pusher.put({"externalId": "A1", "inventoryQuantity": 2}).status_code == 429
    assert _stock(warehouse) == 1
    clock.advance(3600)  # midnight UTC: a new day's quota
    assert pusher.put({"externalId": "A1", "inventoryQuantity": 2}).status_code == 200
    assert _stock(warehouse) == 2


# ----------------------------------------------------------------------------- stale updates
@pytest.mark.parametrize("order", ["oldest first", "newest first"])
def test_put_out_of_order_ends_at_the_newest_update(warehouse, feed, serve, clock, order):
    pusher = serve(feed.secret)
    older = {"externalId": "A1", "inventoryQuantity": 3, "updatedAt": _iso(clock.now - timedelta(minutes=2))}
    newer = {"externalId": "A1", "inventoryQuantity": 5, "updatedAt": _iso(clock.now - timedelta(minutes=1))}
    first, second = (older, newer) if order == "oldest first" else (newer, older)
    assert pusher.put(first).status_code == 200
    last = pusher.put(second)
    assert last.status_code == 200
    assert last.json()["stale"] is (order == "newest first")
    assert last.json()["record"]["inventoryQuantity"] == 5
    assert _stock(warehouse) == 5


@pytest.mark.parametrize("order", ["oldest first", "newest first"])
def test_batches_out_of_order_end_at_the_newest_update(warehouse, feed, serve, clock, order):
    pusher = serve(feed.secret)
    moments = [clock.now - timedelta(minutes=m) for m in (3, 2, 1)]
    updates = [{"externalId": "A1", "inventoryQuantity": q, "updatedAt": _iso(t)}
               for q, t in zip((1, 2, 3), moments, strict=True)]
    if order == "newest first":
        updates.reverse()
    # Two batches, and inside the first one the same item twice, in the chosen order.
    assert pusher.batch(updates[:2]).status_code == 202
    assert pusher.batch([*updates[2:], {"externalId": "B1", "inventoryQuantity": 9}]).status_code == 202
    _run_job(warehouse)
    assert _stock(warehouse) == 3 and _stock(warehouse, "B1") == 9
    # A PUT older than what the batches left is stale too.
    stale = pusher.put({"externalId": "A1", "inventoryQuantity": 0, "updatedAt": _iso(moments[0])})
    assert stale.json()["stale"] is True and _stock(warehouse) == 3


def test_a_batch_is_acknowledged_at_once_and_applied_by_the_job(warehouse, feed, serve):
    pusher = serve(feed.secret)
    items = [{"externalId": f"P{i}", "barcode": BARCODE if i == 0 else None, "inventoryQuantity": i,
              "price": "9.99", "name": f"Thing {i}"} for i in range(5)]
    response = pusher.batch({"items": items}, event_id="nightly-1")
    assert response.status_code == 202
    inbox_id = response.json()["inboxId"]
    assert response.json()["accepted"] == 5
    with warehouse.begin() as conn:
        assert conn.execute(text("SELECT status FROM ops.feed_inbox WHERE inbox_id = :i"),
                            {"i": inbox_id}).scalar_one() == "pending"
    assert _count(warehouse, "SELECT count(*) FROM core.marketplace_products") == 0

    tick = feed_inbox_sensor(build_sensor_context(resources={"warehouse": warehouse}))
    assert isinstance(tick, SensorResult) and tick.cursor == str(inbox_id)
    (request,) = tick.run_requests
    assert request.run_key == f"feed-inbox:{inbox_id}"
    assert request.run_config["ops"]["apply_feed_inbox"]["config"]["up_to_inbox_id"] == inbox_id
    # The same tick again hands nothing new on.
    again = feed_inbox_sensor(build_sensor_context(cursor=tick.cursor, resources={"warehouse": warehouse}))
    assert isinstance(again, SkipReason)

    _run_job(warehouse, inbox_id)
    with warehouse.begin() as conn:
        status = conn.execute(text("SELECT status, applied_at FROM ops.feed_inbox WHERE inbox_id = :i"),
                              {"i": inbox_id}).one()
        products = conn.execute(text(
            """SELECT m.external_id, m.quantity, m.price, t.title FROM core.marketplace_products m
               JOIN core.marketplace_product_translations t USING (marketplace_product_id) ORDER BY 1""")).all()
        versions = conn.execute(text("SELECT external_id, xmin::text FROM core.marketplace_products")).all()
    assert status.status == "applied" and status.applied_at is not None
    assert [(p.external_id, p.quantity, p.price, p.title) for p in products] == \
        [(f"P{i}", i, Decimal("9.9900"), f"Thing {i}") for i in range(5)]
    assert isinstance(feed_inbox_sensor(build_sensor_context(cursor=tick.cursor,
                                                             resources={"warehouse": warehouse})), SkipReason)

    # Applying twice changes nothing: the row is no longer pending, and even forced back to pending
    # its items merge as unchanged.
    assert apply_batch(warehouse.engine, inbox_id) is None
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.feed_inbox SET status = 'pending' WHERE inbox_id = :i"), {"i": inbox_id})
    result = apply_batch(warehouse.engine, inbox_id)
    assert result is not None and result.products_written == 0
    with warehouse.begin() as conn:
        assert conn.execute(text("SELECT external_id, xmin::text FROM core.marketplace_products")).all() == versions


def test_a_batch_that_cannot_be_applied_is_marked_failed(warehouse, feed):
    with warehouse.begin() as conn:
        inbox_id = conn.execute(text(
            """INSERT INTO ops.feed_inbox (source_id, event_id, items) VALUES
               (:s, 'broken', '[{"externalId": "A1", "barcode": "123"}]') RETURNING inbox_id"""),
            {"s": feed.source_id}).scalar_one()
        good = conn.execute(text(
            """INSERT INTO ops.feed_inbox (source_id, event_id, items) VALUES
               (:s, 'fine', '[{"externalId": "A2", "inventoryQuantity": 2}]') RETURNING inbox_id"""),
            {"s": feed.source_id}).scalar_one()
    _run_job(warehouse)
    with warehouse.begin() as conn:
        rows = dict(conn.execute(text("SELECT inbox_id, status FROM ops.feed_inbox")).tuples().all())
        error = conn.execute(text("SELECT error FROM ops.feed_inbox WHERE inbox_id = :i"), {"i": inbox_id}).scalar()
    assert rows == {inbox_id: "failed", good: "applied"}
    assert "barcode" in error
    assert _stock(warehouse, "A2") == 2


def test_secrets_never_reach_responses_or_logs(warehouse, vault, feed, serve, caplog):
    caplog.set_level(logging.DEBUG)
    pusher = serve(feed.secret)
    with warehouse.begin() as conn:
        new = rotate_push_secret(conn, vault, feed.source_id)
    answers = [pusher.put({"externalId": "A1", "inventoryQuantity": 1}, secret=s).text
               for s in (feed.secret, new, "mspush_wrong")]
    answers.append(pusher.batch([{"externalId": "A1"}] * 51).text)
    answers.append(repr(vault))
    for secret in (feed.secret, new):
        assert not any(secret in a for a in answers)
        assert secret not in caplog.text


def test_the_sensor_launches_again_for_batches_left_pending_by_a_failed_run(warehouse, feed):
    with warehouse.begin() as conn:
        inbox_id = conn.execute(text(
            """INSERT INTO ops.feed_inbox (source_id, event_id, items, received_at) VALUES
               (:s, 'late', '[{"externalId": "A1"}]', now() - interval '11 minutes') RETURNING inbox_id"""),
            {"s": feed.source_id}).scalar_one()
    tick = feed_inbox_sensor(build_sensor_context(cursor=str(inbox_id), resources={"warehouse": warehouse}))
    assert isinstance(tick, SensorResult) and tick.cursor == str(inbox_id)
    assert tick.run_requests[0].run_key.startswith(f"feed-inbox:{inbox_id}:retry-")
