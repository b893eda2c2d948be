"""The push intake's OpenAPI document (GET /openapi.json) checked against the live app on loopback with a
real Postgres behind it: the document is valid OpenAPI 3.1 and describes every route; schemathesis draws
requests from it for each operation (bounded, deterministic) and checks every answer (no server error, a
documented status, content type, headers and body). Unsigned requests are all refused with the documented
401; a second run signs each request as a supplier's pusher does, so the accepting paths answer too.
`make fuzz` runs this file."""
from __future__ import annotations

import json
import time
import uuid
from collections import Counter

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.stores import store_id_for
from marketsync.pipelines.push_intake.app import create_push_app
from marketsync.pipelines.push_intake.limits import PushLimits
from marketsync.pipelines.push_intake.secrets import rotate_push_secret
from marketsync.resources.signing import signed_headers
from marketsync.sandbox.http import serve_in_thread

pytestmark = pytest.mark.integration

STORE, FEED = "shop", "supplier"
ITEM = ("PUT", "/stores/{store}/inventory-feeds/{feed}/items")
BATCH = ("POST", "/stores/{store}/inventory-feeds/{feed}/items:batch")
# Enough for every drawn request: the rate limit is not what this checks (tests/test_push_intake.py does).
LIMITS = PushLimits(requests_per_window=100_000, daily_sku_updates=10_000_000)
EXAMPLES = 25


@pytest.fixture
def live(warehouse, vault):
    """(base URL, the feed's signing secret) of the intake on loopback."""
    with warehouse.begin() as conn:
        upsert_account(conn, STORE, "letzshop")
        source_id = conn.execute(text(
            """INSERT INTO ops.catalog_sources (store_id, name, kind, settings)
               VALUES (:s, :name, 'push_feed', '{}'::jsonb) RETURNING source_id"""),
            {"s": store_id_for(conn, STORE), "name": FEED}).scalar_one()
        secret = rotate_push_secret(conn, vault, source_id)
    server = serve_in_thread(create_push_app(warehouse.engine, vault, limits=LIMITS))
    yield server.base_url, secret
    server.stop()


class _Signed(requests.auth.AuthBase):
    """Signs the request as it leaves, over the exact body bytes: what a supplier's pusher does."""

    def __init__(self, secret: str):
        self.secret = secret

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        body = body.encode() if isinstance(body, str) else body
        request.headers.update(signed_headers(self.secret, int(time.time()), str(uuid.uuid4()), body))
        return request


def _operation(base_url: str, method: str, path: str):
    return schemathesis.openapi.from_url(f"{base_url}/openapi.json")[path][method]


def test_the_document_is_valid_openapi_and_served_unsigned(live):
    base_url, _ = live
    answer = httpx.get(f"{base_url}/openapi.json")
    assert answer.status_code == 200 and answer.json()["openapi"] == "3.1.0"
    loaded = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [result.ok() for result in loaded.get_all_operations()]
    # (schemathesis leaves out the path it loaded the document from)
    assert {(o.method.upper(), o.path) for o in operations} == {ITEM, BATCH, ("GET", "/healthz")}
    document = answer.json()
    assert "/openapi.json" in document["paths"]
    for method, path in (ITEM, BATCH):
        operation = document["paths"][path][method.lower()]
        # Every status the module docstring lists, with its JSON error shape.
        assert {"400", "401", "403", "404", "409", "413", "422", "429"} <= set(operation["responses"])
        assert {p["name"] for p in operation["parameters"]} >= {
            "X-Marketsync-Timestamp", "X-Marketsync-Event-Id", "X-Marketsync-Signature"}
    assert "HMAC-SHA256" in document["info"]["description"]


@pytest.mark.parametrize(("method", "path", "mode"), [
    (*ITEM, GenerationMode.POSITIVE), (*ITEM, GenerationMode.NEGATIVE), (*BATCH, GenerationMode.POSITIVE),
    (*BATCH, GenerationMode.NEGATIVE), ("GET", "/healthz", GenerationMode.POSITIVE)])  # (nothing to negate)
def test_unsigned_requests_are_answered_as_documented(live, method, path, mode):
    """Requests drawn from the document as they are: their drawn signatures never match, so every delivery
    is the documented 401 (or 404 for a drawn feed that does not exist)."""
    base_url, _ = live
    operation = _operation(base_url, method, path)
    session = requests.Session()
    statuses: Counter[int] = Counter()

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def answers_as_documented(case):
        statuses[case.call_and_validate(base_url=base_url, session=session).status_code] += 1

    answers_as_documented()
    if path != "/healthz":
        assert set(statuses) <= {401, 404, 413}, statuses


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), [ITEM, BATCH])
def test_signed_deliveries_are_answered_as_documented(live, method, path, mode):
    """The same, for this store's feed and signed with its secret: items are applied (200, 202) or refused
    with their problems (422). A valid-looking item may still be refused for what JSON Schema cannot say
    (a GS1 check digit, an updatedAt ahead of our clock, name and title differing), so schemathesis'
    positive-data check is left out here; every other check applies."""
    base_url, secret = live
    operation = _operation(base_url, method, path)
    session = requests.Session()
    session.auth = _Signed(secret)
    statuses: Counter[int] = Counter()

    # The signature headers are given (and replaced by _Signed as the request leaves), so a negative case
    # is always about the path or the body: a drawn header could not be invalid once signed.
    placeholders = signed_headers(secret, int(time.time()), "placeholder", b"")
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters={"store": STORE, "feed": FEED},
                                      headers=placeholders))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def answers_as_documented(case):
        response = case.call_and_validate(base_url=base_url, session=session,
                                          excluded_checks=[positive_data_acceptance])
        statuses[response.status_code] += 1

    answers_as_documented()
    assert 401 not in statuses, statuses  # every request was signed right
    if mode == GenerationMode.POSITIVE:
        assert statuses[200 if method == "PUT" else 202], statuses


def test_a_signed_item_is_applied_and_answered_as_documented(live):
    """One delivery written by hand as the document's signing section says, byte for byte."""
    base_url, secret = live
    body = json.dumps({"externalId": "A1", "inventoryQuantity": 3, "price": "9.99", "barcode": "4006381333931",
                       "name": "Mug"}).encode()
    headers = {"Content-Type": "application/json",
               **signed_headers(secret, int(time.time()), "evt-1", body)}
    answer = httpx.put(f"{base_url}/stores/{STORE}/inventory-feeds/{FEED}/items", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["record"]["inventoryQuantity"] == 3
