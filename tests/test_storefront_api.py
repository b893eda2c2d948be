"""The storefront order API through the real app on loopback, a real Postgres behind it: orders landed,
merged, matched and reserving stock; Idempotency-Key rules under concurrent retries; 422s naming each
bad field; status changes by PATCH with their history; nothing ever queued to go back out."""
from __future__ import annotations

import copy
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.storefront.api_keys import retire_previous_api_key, rotate_api_key
from marketsync.pipelines.ops_app.server import create_app
from marketsync.pipelines.storefront_api.group_commit import GroupCommit
from marketsync.sandbox.http import serve_in_thread

STORE = "shop"


def an_order(number: str = "SO-1001", **changes) -> dict:
    order = {
        "order_number": number, "ordered_at": "2026-12-01T10:00:00+01:00", "status": "pending",
        "currency": "EUR", "total": "64.80",
        "buyer": {"email": "ana.buyer@example.org", "name": "Ana Buyer", "locale": "fr-LU"},
        "shipping_address": {"first_name": "Ana", "last_name": "Buyer", "street": "Rue du Canary",
                             "house_number": "7", "postcode": "L-1234", "city": "Luxembourg", "country": "LU"},
        "items": [{"sku": "MUG-1", "title": "Mug", "quantity": 2, "unit_price": "12.90"},
                  {"sku": "TEE-1", "gtin": "4006381333931", "title": "T-shirt", "quantity": 1, "unit_price": "39.00"}],
    }
    order.update(changes)
    return order


class Shop:
    """The shop's side: an HTTP client with the store's key."""

    def __init__(self, base_url: str, key: str):
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.key = key

    def headers(self, key: str | None = None, idempotency: str | None = None) -> dict:
        headers = {"Authorization": f"Bearer {key or self.key}"}
        if idempotency is not None:
            headers["Idempotency-Key"] = idempotency
        return headers

    def post(self, order: dict, idempotency: str | None = "k-1", *, key: str | None = None,
             store: str = STORE) -> httpx.Response:
        return self.http.post(f"/stores/{store}/orders", json=order, headers=self.headers(key, idempotency))

    def patch(self, number: str, change: dict, idempotency: str | None = None) -> httpx.Response:
        return self.http.patch(f"/stores/{STORE}/orders/{number}", json=change, headers=self.headers(None, idempotency))

    def get(self, number: str) -> httpx.Response:
        return self.http.get(f"/stores/{STORE}/orders/{number}", headers=self.headers())


@pytest.fixture
def storefront(warehouse, vault):
    """(store account, its API key); the store's catalog holds MUG-1 (matched by SKU) and the T-shirt
    (matched by its GTIN)."""
    with warehouse.begin() as conn:
        account = upsert_account(conn, STORE, "storefront")
        key = rotate_api_key(conn, vault, account)
        conn.execute(text("INSERT INTO core.products (store_id, sku, title) VALUES (:s, 'MUG-1', 'Mug')"),
                     {"s": account.store_id})
        conn.execute(text("INSERT INTO core.products (store_id, sku, title, gtin14) "
                          "VALUES (:s, 'TSHIRT-BLUE', 'T-shirt', '04006381333931')"), {"s": account.store_id})
    return account, key


@pytest.fixture
def serve(warehouse, vault, storefront):
    """A Shop talking to `marketsync serve`'s app on loopback."""
    intake = GroupCommit(warehouse.engine)
    server = serve_in_thread(create_app(warehouse.engine, vault, storefront_intake=intake))
    shop = Shop(server.base_url, storefront[1])
    yield shop
    shop.http.close()
    server.stop()
    intake.close()


def _count(warehouse, sql: str, **params) -> int:
    with warehouse.begin() as conn:
        return conn.execute(text(sql), params).scalar_one()


def test_an_order_is_landed_merged_matched_and_reserves_stock(warehouse, storefront, serve):
    account, _ = storefront
    answer = serve.post(an_order())
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["order_number"] == "SO-1001" and body["status"] == "pending" and body["canonical_status"] == "pending"
    assert [(i["sku"], i["quantity"], i["matched"]) for i in body["items"]] == [("MUG-1", 2, True), ("TEE-1", 1, True)]
    assert "Ana" not in answer.text and "example.org" not in answer.text  # no buyer data in the answer
    with warehouse.begin() as conn:
        order = conn.execute(text("SELECT * FROM core.orders WHERE order_id = :o"), {"o": body["order_id"]}).one()
        assert (order.channel, order.account_id, order.customer_email, str(order.total)) == \
            ("storefront", account.account_id, "ana.buyer@example.org", "64.80")
        assert conn.execute(text("SELECT count(*) FROM raw.channel_orders WHERE account_id = :a"),
                            {"a": account.account_id}).scalar_one() == 1
        address = conn.execute(text("SELECT street_name, zip_code, country_iso FROM core.order_addresses "
                                    "WHERE order_id = :o"), {"o": order.order_id}).one()
        assert tuple(address) == ("Rue du Canary", "L-1234", "LU")
        # Both lines hold their units in the stock the channels are told, at once.
        held = dict(conn.execute(text("SELECT p.sku, u.units FROM core.stock_order_units(:s) u "
                                      "JOIN core.products p USING (product_id) WHERE u.order_id = :o"),
                                 {"s": account.store_id, "o": order.order_id}).tuples().all())
        assert held == {"MUG-1": 2, "TSHIRT-BLUE": 1}
        history = conn.execute(text("SELECT cause, actor FROM core.order_status_history WHERE order_id = :o"),
                               {"o": order.order_id}).all()
        assert history and {h.cause for h in history} == {"storefront API: order received"}
        assert {h.actor for h in history} == {"storefront API"}


def test_a_retry_with_the_same_key_and_body_gets_the_stored_answer(warehouse, serve):
    first = serve.post(an_order(), "retry-key")
    again = serve.post(an_order(), "retry-key")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    # The same order said with other whitespace and key order is the same body.
    raw = json.dumps(an_order(), indent=3, sort_keys=True).encode()
    third = serve.http.post(f"/stores/{STORE}/orders", content=raw,
                            headers={**serve.headers(idempotency="retry-key"), "Content-Type": "application/json"})
    assert third.status_code == 201 and third.json() == first.json()
    assert _count(warehouse, "SELECT count(*) FROM core.orders") == 1
    assert _count(warehouse, "SELECT count(*) FROM raw.channel_orders") == 1


def test_the_same_key_with_another_body_is_refused(warehouse, serve):
    assert serve.post(an_order(), "k").status_code == 201
    other = serve.post(an_order(total="99.00"), "k")
    assert other.status_code == 409 and other.json()["error"] == "idempotency_key_reused"
    assert _count(warehouse, "SELECT count(*) FROM core.orders WHERE total = 99.00") == 0


def test_the_same_order_under_a_new_key_is_recognised(warehouse, serve):
    created = serve.post(an_order(), "k-a")
    again = serve.post(an_order(), "k-b")
    assert (created.status_code, again.status_code) == (201, 200)
    assert again.json() == created.json()
    changed = serve.post(an_order(total="1.00"), "k-c")
    assert changed.status_code == 409 and changed.json()["error"] == "order_exists"
    assert _count(warehouse, "SELECT count(*) FROM core.orders") == 1


def test_concurrent_retries_create_one_order_and_answer_alike(warehouse, serve):
    """Twenty copies of one request at once (a shop's retry storm), then twenty requests with twenty keys
    for one order number: one order each time, every answer the same."""
    barrier = threading.Barrier(20)

    def send(i: int, key: str | None) -> httpx.Response:
        barrier.wait()
        return serve.post(an_order("SO-STORM"), key or f"storm-{i}")

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda i: send(i, "same-key"), range(20)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.text for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 19

    barrier.reset()
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda i: send(i, None), range(20)))
    assert {a.status_code for a in answers} == {200}  # received before, under "same-key"
    assert len({json.dumps(a.json(), sort_keys=True) for a in answers}) == 1
    assert _count(warehouse, "SELECT count(*) FROM core.orders") == 1
    assert _count(warehouse, "SELECT count(*) FROM core.order_items") == 2


def test_concurrent_new_orders_each_get_their_own(warehouse, serve):
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda i: serve.post(an_order(f"SO-{i}"), f"key-{i}"), range(200)))
    assert [a.status_code for a in answers] == [201] * 200
    assert sorted(a.json()["order_number"] for a in answers) == sorted(f"SO-{i}" for i in range(200))
    assert _count(warehouse, "SELECT count(DISTINCT order_id) FROM core.orders") == 200


def test_an_invalid_order_is_refused_naming_each_field_without_echoing_it(warehouse, serve):
    order = an_order()
    order["buyer"]["email"] = "not an address"
    order["items"][0]["quantity"] = 0
    order["items"][1]["quantitiy"] = 3
    order["currency"] = "euro"
    del order["shipping_address"]["city"]
    answer = serve.post(order)
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "invalid_order"
    assert {p["field"] for p in body["problems"]} == {
        "buyer.email", "items[0].quantity", "items[1].quantitiy", "currency", "shipping_address.city"}
    assert "not an address" not in answer.text and "euro" not in answer.text
    assert _count(warehouse, "SELECT count(*) FROM core.orders") == 0
    # A refused request leaves its key free: the corrected order goes through under the same key.
    assert serve.post(an_order()).status_code == 201


@pytest.mark.parametrize(("body", "content_type", "status"), [
    (b"{", "application/json", 422), (b"[]", "application/json", 422),
    (b"order_number=1", "application/x-www-form-urlencoded", 415), (b" " * 1_000_001, "application/json", 413)])
def test_malformed_requests_get_a_clear_refusal(serve, body, content_type, status):
    answer = serve.http.post(f"/stores/{STORE}/orders", content=body,
                             headers={**serve.headers(idempotency="k"), "Content-Type": content_type})
    assert answer.status_code == status and answer.json()["message"]


def test_an_idempotency_key_is_required_and_checked(serve):
    missing = serve.post(an_order(), idempotency=None)
    assert missing.status_code == 400 and missing.json()["error"] == "missing_idempotency_key"
    assert serve.post(an_order(), idempotency="a key with spaces").status_code == 400


def test_only_the_stores_key_opens_it(warehouse, vault, storefront, serve):
    account, key = storefront
    with warehouse.begin() as conn:
        other_key = rotate_api_key(conn, vault, upsert_account(conn, "other", "storefront"))
    assert serve.http.post(f"/stores/{STORE}/orders", json=an_order()).status_code == 401
    for wrong in ("mssf_wrong", other_key):
        answer = serve.post(an_order(), key=wrong)
        assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Bearer")
    unknown = serve.post(an_order(), store="nosuchstore")
    assert unknown.status_code == 401 and unknown.json() == serve.post(an_order(), key="x").json()
    assert _count(warehouse, "SELECT count(*) FROM core.orders") == 0
    # A rotation: the new key works at once and the previous one until it is retired.
    with warehouse.begin() as conn:
        new_key = rotate_api_key(conn, vault, account)
    assert serve.post(an_order("SO-A"), "a", key=new_key).status_code == 201
    assert serve.post(an_order("SO-B"), "b", key=key).status_code == 201


def test_a_retired_key_and_a_disabled_account_are_refused(warehouse, vault, storefront):
    from starlette.applications import Starlette

    from marketsync.pipelines.storefront_api.app import storefront_routes
    from marketsync.pipelines.storefront_api.shop_keys import ShopKeys

    account, key = storefront
    keys = ShopKeys(warehouse.engine, vault, ttl_seconds=0)  # every request reads the vault
    server = serve_in_thread(Starlette(routes=storefront_routes(warehouse.engine, vault, keys=keys)))
    shop = Shop(server.base_url, key)
    try:
        with warehouse.begin() as conn:
            new_key = rotate_api_key(conn, vault, account)
            retire_previous_api_key(conn, vault, account)
        assert shop.post(an_order()).status_code == 401
        assert shop.post(an_order(), key=new_key).status_code == 201
        with warehouse.begin() as conn:
            conn.execute(text("UPDATE ops.accounts SET enabled = false WHERE account_id = :a"),
                         {"a": account.account_id})
        refused = shop.post(an_order("SO-2"), "k-2", key=new_key)
        assert refused.status_code == 403 and refused.json()["error"] == "disabled"
    finally:
        shop.http.close()
        server.stop()


def test_status_changes_follow_the_shops_life_of_an_order(warehouse, storefront, serve):
    account, _ = storefront
    order_id = serve.post(an_order()).json()["order_id"]
    paid = serve.patch("SO-1001", {"status": "paid"})
    assert paid.status_code == 200 and (paid.json()["status"], paid.json()["canonical_status"]) == ("paid", "confirmed")
    assert serve.patch("SO-1001", {"status": "paid"}).json() == paid.json()  # no change, same answer
    back = serve.patch("SO-1001", {"status": "cancelled", "tracking_number": "x"})
    assert back.status_code == 200 and back.json()["status"] == "cancelled"
    # A cancelled order holds no stock.
    assert _count(warehouse, "SELECT count(*) FROM core.stock_order_units(:s) WHERE order_id = :o",
                  s=account.store_id, o=order_id) == 0
    refused = serve.patch("SO-1001", {"status": "shipped"})
    assert refused.status_code == 409 and refused.json()["error"] == "invalid_transition"
    assert "cancelled" in refused.json()["message"]
    assert serve.patch("SO-404", {"status": "paid"}).status_code == 404
    invalid = serve.patch("SO-1001", {"status": "lost", "colour": "red"})
    assert invalid.status_code == 422 and {p["field"] for p in invalid.json()["problems"]} == {"status", "colour"}
    with warehouse.begin() as conn:
        changes = conn.execute(text(
            "SELECT old_value, new_value, cause FROM core.order_status_history "
            "WHERE order_id = :o AND field = 'channel_state' ORDER BY history_id"), {"o": order_id}).tuples().all()
    assert changes == [(None, "pending", "storefront API: order received"),
                       ("pending", "paid", "storefront API: pending -> paid"),
                       ("paid", "cancelled", "storefront API: paid -> cancelled")]


def test_a_shipment_and_a_refund_and_a_lookup(warehouse, serve):
    serve.post(an_order(status="paid"))
    shipped = serve.patch("SO-1001", {"status": "shipped", "tracking_number": "1Z999", "carrier": "UPS"},
                          idempotency="ship-1")
    assert shipped.status_code == 200 and shipped.json()["canonical_status"] == "shipped"
    replay = serve.patch("SO-1001", {"status": "shipped", "tracking_number": "1Z999", "carrier": "UPS"},
                         idempotency="ship-1")
    assert replay.json() == shipped.json() and replay.headers["Idempotent-Replayed"] == "true"
    with warehouse.begin() as conn:
        row = conn.execute(text("SELECT sync_status, shipped_at, tracking_number, tracking_carrier FROM core.orders"
                                )).one()
    assert (row.sync_status, row.tracking_number, row.tracking_carrier) == ("shipped", "1Z999", "UPS")
    assert row.shipped_at is not None
    assert serve.patch("SO-1001", {"status": "refunded"}).json()["canonical_status"] == "refunded"
    looked_up = serve.get("SO-1001")
    assert looked_up.status_code == 200 and looked_up.json()["status"] == "refunded"
    assert serve.get("SO-NONE").status_code == 404


def test_nothing_goes_back_out_to_the_shop(warehouse, storefront, serve):
    serve.post(an_order(status="paid"))
    serve.patch("SO-1001", {"status": "shipped", "tracking_number": "T1"})
    serve.patch("SO-1001", {"status": "refunded"})
    assert _count(warehouse, "SELECT count(*) FROM ops.outbound_queue") == 0


def test_an_order_the_database_refuses_fails_alone(warehouse, storefront, serve):
    """A batch the database refuses is written order by order: only the refused order fails (503, its
    key free for the retry), the others of its batch are received."""
    with warehouse.begin() as conn:
        conn.execute(text("""
            CREATE FUNCTION pg_temp_refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.channel_order_id = 'SO-BOOM' THEN RAISE EXCEPTION 'refused for the test'; END IF;
                  RETURN NEW; END $$;
            CREATE TRIGGER refuse_boom BEFORE INSERT ON core.orders FOR EACH ROW EXECUTE FUNCTION pg_temp_refuse_boom();
        """))
    try:
        numbers = [f"SO-{i}" for i in range(30)] + ["SO-BOOM"]
        with ThreadPoolExecutor(31) as pool:
            answers = dict(zip(numbers, pool.map(lambda n: serve.post(an_order(n), f"key-{n}"), numbers),
                               strict=True))
        assert answers.pop("SO-BOOM").status_code == 503
        assert {a.status_code for a in answers.values()} == {201}
        assert _count(warehouse, "SELECT count(*) FROM core.orders") == 30
        assert _count(warehouse, "SELECT count(*) FROM ops.api_idempotency_keys "
                                 "WHERE idempotency_key = 'key-SO-BOOM'") == 0
    finally:
        with warehouse.begin() as conn:
            conn.execute(text("DROP TRIGGER refuse_boom ON core.orders; DROP FUNCTION pg_temp_refuse_boom()"))
    assert serve.post(an_order("SO-BOOM"), "key-SO-BOOM").status_code == 201


def test_the_catch_up_merges_what_the_canonical_orders_lost(warehouse, storefront, serve):
    from marketsync.assets.storefront.catch_up import catch_up

    account, _ = storefront
    serve.post(an_order())
    serve.post(an_order("SO-2"), "k-2")
    with warehouse.begin() as conn:
        conn.execute(text("DELETE FROM core.orders WHERE channel_shipment_id = 'SO-2'"))
        conn.execute(text("UPDATE ops.api_idempotency_keys SET created_at = now() - interval '8 days' "
                          "WHERE idempotency_key = 'k-1'"))
        result = catch_up(conn, account)
    assert (result.remerged, result.keys_pruned) == (1, 1)
    assert result.metadata()["orders_received_last_day"] == 2
    assert _count(warehouse, "SELECT count(*) FROM core.orders WHERE channel_shipment_id = 'SO-2'") == 1


def test_the_document_is_served_and_names_every_route(serve):
    document = serve.http.get("/openapi/storefront.json").json()
    assert set(document["paths"]) == {"/stores/{store}/orders", "/stores/{store}/orders/{order_number}"}
    assert set(document["paths"]["/stores/{store}/orders/{order_number}"]) == {"get", "patch"}


def test_a_storefront_order_is_followed_up_like_every_channels(warehouse, storefront, serve):
    """The follow-up stages every channel has: the line matching could not settle opens an exception, and
    the orders are marked followed up."""
    from dagster import DagsterInstance, materialize

    from marketsync.assets.storefront.orders import storefront_accounts, storefront_assets

    order = an_order()
    order["items"].append({"sku": "UNKNOWN-9", "title": "Something else", "quantity": 1, "unit_price": "1.00"})
    assert serve.post(order).status_code == 201
    assert _count(warehouse, "SELECT count(*) FROM core.orders WHERE followed_up_at IS NULL") == 1
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(storefront_accounts.name, [STORE])
        result = materialize(storefront_assets, partition_key=STORE, instance=instance,
                             resources={"warehouse": warehouse})
    assert result.success
    assert _count(warehouse, "SELECT count(*) FROM core.orders WHERE followed_up_at IS NULL") == 0
    assert _count(warehouse, "SELECT count(*) FROM ops.order_exceptions WHERE kind = 'product_not_found'") == 1


def test_the_order_document_is_the_body_as_received(warehouse, serve):
    order = an_order()
    order["billing_address"] = None  # an empty optional field is left out of the document
    serve.post(copy.deepcopy(order))
    with warehouse.begin() as conn:
        payload = conn.execute(text("SELECT payload FROM raw.channel_orders")).scalar_one()
    del order["billing_address"]
    order["ordered_at"] = "2026-12-01T09:00:00Z"  # the same moment, kept in UTC
    assert payload == order


def test_orders_of_several_stores_written_together_stay_in_their_store(warehouse, vault, storefront, serve):
    """Orders of many stores arriving at once are written in shared transactions: each lands in its own
    store's account, once."""
    with warehouse.begin() as conn:
        other = upsert_account(conn, "other", "storefront")
        other_key = rotate_api_key(conn, vault, other)
    jobs = [(STORE if i % 2 else "other", f"SO-{i}") for i in range(120)]
    with ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(lambda job: serve.post(an_order(job[1]), f"k-{job[1]}", store=job[0],
                                                       key=None if job[0] == STORE else other_key), jobs))
    assert {a.status_code for a in answers} == {201}
    with warehouse.begin() as conn:
        placed = dict(conn.execute(text("SELECT o.channel_shipment_id, s.code FROM core.orders o "
                                        "JOIN ops.stores s USING (store_id)")).tuples().all())
        raw = conn.execute(text("SELECT count(*) FROM raw.channel_orders")).scalar_one()
    assert placed == {number: store for store, number in jobs}
    assert raw == 120
