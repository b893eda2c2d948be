"""The storefront order API's OpenAPI document checked against the live app's real answers: schemathesis
generates valid and invalid requests from the document for every operation, sends them to the app on
loopback (a real Postgres behind it) and checks each answer: no server error, a documented status code,
content type and headers, a body matching the documented schema, invalid data refused, valid data
accepted, and the key checked."""
from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.storefront.api_keys import rotate_api_key
from marketsync.pipelines.ops_app.server import create_app
from marketsync.pipelines.storefront_api.group_commit import GroupCommit
from marketsync.sandbox.http import serve_in_thread

STORE = "shop"


@pytest.fixture
def live(warehouse, vault):
    """(base URL, the store's API key) of `marketsync serve`'s app on loopback."""
    with warehouse.begin() as conn:
        account = upsert_account(conn, STORE, "storefront")
        key = rotate_api_key(conn, vault, account)
        conn.execute(text("INSERT INTO core.products (store_id, sku, title) VALUES (:s, 'MUG-1', 'Mug')"),
                     {"s": account.store_id})
    intake = GroupCommit(warehouse.engine)
    server = serve_in_thread(create_app(warehouse.engine, vault, storefront_intake=intake))
    yield server.base_url, key
    server.stop()
    intake.close()


OPERATIONS = [("POST", "/stores/{store}/orders"), ("GET", "/stores/{store}/orders/{order_number}"),
              ("PATCH", "/stores/{store}/orders/{order_number}")]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_the_live_app_answers_as_its_document_says(live, method, path, mode):
    """Requests drawn from the served document, for this store (a drawn store code has no key, so every
    answer would be the same 401), each answer checked by schemathesis' checks."""
    base_url, key = live
    loaded = schemathesis.openapi.from_url(f"{base_url}/openapi/storefront.json")
    operation = loaded[path][method]
    session = requests.Session()

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters={"store": STORE}))
    @settings(max_examples=40, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def answers_as_documented(case):
        case.call_and_validate(base_url=base_url, session=session, headers={"Authorization": f"Bearer {key}"})

    answers_as_documented()


def test_the_document_is_valid_openapi(live):
    """The document itself, as served, passes the OpenAPI 3.1 validation schemathesis loads it with."""
    loaded = schemathesis.openapi.from_url(f"{live[0]}/openapi/storefront.json")
    operations = [result.ok() for result in loaded.get_all_operations()]
    assert {(o.method.upper(), o.path) for o in operations} == {
        ("POST", "/stores/{store}/orders"), ("GET", "/stores/{store}/orders/{order_number}"),
        ("PATCH", "/stores/{store}/orders/{order_number}")}
