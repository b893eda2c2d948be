"""The Amazon SP-API sandbox over real HTTP: LWA tokens and their expiry, searchOrders paging with
opaque tokens and its window rules, incremental sync by lastUpdated, getOrder, confirmShipment
idempotent by packageReferenceId (also across a lost answer), listings patch and read-back, a
JSON_LISTINGS_FEED end to end (DONE, FATAL, gzip), rate limits, faults, the static sandbox's vectors,
conformance of generated bodies with the public models (both skip without ../shared/specs), and the
large sizes (50,000 orders, 100,000 feed messages)."""
import gzip
import math
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import httpx
import orjson
import pytest

from marketsync.sandbox.amazon.data import iso
from marketsync.sandbox.amazon.state import RATE_LIMITS, AmazonState
from marketsync.sandbox.http import serve_in_thread

SPECS = Path(__file__).resolve().parents[2] / "shared" / "specs" / "amazon_sp_api"
ORDERS = "/orders/2026-01-01/orders"
FEEDS = "/feeds/2021-06-30"
LISTINGS = "/listings/2021-08-01/items"
JSON_TYPE = "application/json; charset=UTF-8"
needs_specs = pytest.mark.skipif(not SPECS.is_dir(), reason="public SP-API models not available (../shared/specs)")


def _serve(state: AmazonState):
    from marketsync.sandbox.amazon.app import create_app

    return serve_in_thread(create_app(state))


def _login(client: httpx.Client, state: AmazonState) -> dict:
    client_id, secret = next(iter(state.clients.items()))
    answer = client.post("/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": state.authorize(),
                                                 "client_id": client_id, "client_secret": secret})
    assert answer.status_code == 200, answer.text
    return {"x-amz-access-token": answer.json()["access_token"]}


@pytest.fixture
def sim():
    """A small seeded seller (rates x1000, so only the rate tests meet the documented limits)."""
    state = AmazonState(seed=11, size=400, rate_scale=1000.0)
    with _serve(state) as server, httpx.Client(base_url=server.base_url, timeout=5) as client:
        yield SimpleNamespace(state=state, client=client, base=server.base_url, headers=_login(client, state))


def _error_code(answer: httpx.Response) -> str:
    body = answer.json()
    assert set(body) == {"errors"} and body["errors"] and all({"code", "message"} <= set(e) for e in body["errors"])
    return body["errors"][0]["code"]


def _everything(state: AmazonState) -> str:
    return iso(state.epoch - 40 * 86400)


def _page_through(client, headers, params: dict) -> tuple[list[dict], list[str], dict]:
    orders, tokens, body = [], [], {}
    token = None
    while True:
        answer = client.get(ORDERS, params={**params, **({"paginationToken": token} if token else {})},
                            headers=headers)
        assert answer.status_code == 200, answer.text
        body = orjson.loads(answer.content)
        orders.extend(body["orders"])
        token = body.get("pagination", {}).get("nextToken")
        if token is None:
            return orders, tokens, body
        tokens.append(token)


def _open_order(state: AmazonState, lines: int = 1) -> dict:
    """An unshipped merchant-fulfilled order with `lines` items or more."""
    for order_id in state.order_ids():
        order = state.order(order_id)
        if order["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED" and order["fulfillment"]["fulfilledBy"] == \
                "MERCHANT" and len(order["orderItems"]) >= lines:
            return order
    raise AssertionError("no open order in the seed")


def _confirmation(order: dict, reference: str = "1", items=None, **detail) -> dict:
    lines = items if items is not None else [{"orderItemId": i["orderItemId"], "quantity": i["quantityOrdered"]}
                                             for i in order["orderItems"]]
    return {"marketplaceId": order["salesChannel"]["marketplaceId"],
            "packageDetail": {"packageReferenceId": reference, "carrierCode": "DHL", "trackingNumber": "00340434161094",
                              "shipDate": "2026-01-05T10:00:00Z", "orderItems": lines, **detail}}


# ------------------------------------------------------------------------------------------------- LWA
def test_lwa_tokens_expire_and_refresh(sim):
    state, client = sim.state, sim.client
    client_id, secret = next(iter(state.clients.items()))
    refresh = state.authorize()
    answer = client.post("/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": refresh,
                                                 "client_id": client_id, "client_secret": secret})
    body = answer.json()
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600 and body["refresh_token"] == refresh
    assert body["access_token"].startswith("Atza|")
    headers = {"x-amz-access-token": body["access_token"]}
    order_id = state.order_ids()[0]
    assert client.get(f"{ORDERS}/{order_id}", headers=headers).status_code == 200

    wrong = client.post("/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": refresh,
                                                "client_id": client_id, "client_secret": "nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    unknown = client.post("/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": "Atzr|forged",
                                                  "client_id": client_id, "client_secret": secret})
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_grant"
    other = client.post("/auth/o2/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                "client_secret": secret})
    assert other.status_code == 400 and other.json()["error"] == "unsupported_grant_type"

    missing = client.get(f"{ORDERS}/{order_id}")
    assert missing.status_code == 403 and _error_code(missing) == "Unauthorized"
    assert "missing" in missing.json()["errors"][0]["details"]
    assert client.get(f"{ORDERS}/{order_id}", headers={"x-amz-access-token": "Atza|forged"}).status_code == 403

    state.advance_clock(3601)
    expired = client.get(f"{ORDERS}/{order_id}", headers=headers)
    assert expired.status_code == 403 and "expired" in expired.json()["errors"][0]["details"]
    again = client.post("/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": refresh,
                                                "client_id": client_id, "client_secret": secret})
    fresh = {"x-amz-access-token": again.json()["access_token"]}
    assert client.get(f"{ORDERS}/{order_id}", headers=fresh).status_code == 200

    state.expire_tokens()
    assert client.get(f"{ORDERS}/{order_id}", headers=fresh).status_code == 403
    state.revoke(refresh)
    revoked = client.post("/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": refresh,
                                                  "client_id": client_id, "client_secret": secret})
    assert revoked.status_code == 400 and revoked.json()["error"] == "invalid_grant"


# ------------------------------------------------------------------------------------- searchOrders
def test_search_orders_pages_through_everything_with_opaque_tokens(sim):
    state, client, headers = sim.state, sim.client, sim.headers
    params = {"lastUpdatedAfter": _everything(state), "maxResultsPerPage": 37, "includedData": "FULFILLMENT"}
    orders, tokens, last = _page_through(client, headers, params)
    ids = [o["orderId"] for o in orders]
    assert len(ids) == len(set(ids)) == state.order_count == 400
    assert len(tokens) == math.ceil(400 / 37) - 1
    assert all(all(c in token for c in "+/=:%") for token in tokens)
    stamps = [o["lastUpdatedTime"] for o in orders]
    assert stamps == sorted(stamps) and "fulfillmentStatus" in orders[0]["fulfillment"]
    assert last["lastUpdatedBefore"] <= iso(state.now() - 120)

    token = tokens[0]
    base = {k: v for k, v in params.items() if k != "maxResultsPerPage"}
    replay = client.get(ORDERS, params={**params, "paginationToken": token}, headers=headers)
    assert [o["orderId"] for o in replay.json()["orders"]] == ids[37:74]  # a retried page is the same page
    resized = client.get(ORDERS, params={**base, "maxResultsPerPage": 5, "paginationToken": token}, headers=headers)
    assert [o["orderId"] for o in resized.json()["orders"]] == ids[37:42]

    double = client.get(ORDERS, params={**params, "paginationToken": quote(token, safe="")}, headers=headers)
    assert double.status_code == 400 and _error_code(double) == "InvalidInput"
    raw = client.get(f"{ORDERS}?lastUpdatedAfter={quote(params['lastUpdatedAfter'])}&paginationToken={token}",
                     headers=headers)  # sent unencoded: '+' turns into a space, '%xx' into a byte
    assert raw.status_code == 400
    altered = client.get(ORDERS, params={**params, "paginationToken": token[:-1] + ("0" if token[-1] != "0" else "1")},
                         headers=headers)
    assert altered.status_code == 400
    moved = client.get(ORDERS, params={**params, "lastUpdatedAfter": iso(state.epoch - 20 * 86400),
                                       "paginationToken": token}, headers=headers)
    assert moved.status_code == 400 and "paginationToken" in moved.json()["errors"][0]["details"]
    state.advance_clock(86401)
    assert client.get(ORDERS, params={**params, "paginationToken": token}, headers=_login(client, state)).status_code \
        == 400  # expired after 24 hours


def test_search_orders_window_rules(sim):
    state, client, headers = sim.state, sim.client, sim.headers
    now = state.now()

    def search(**params):
        return client.get(ORDERS, params=params, headers=headers)

    too_late = search(lastUpdatedAfter=_everything(state), lastUpdatedBefore=iso(now - 60))
    assert too_late.status_code == 400 and _error_code(too_late) == "InvalidInput"
    assert "two minutes" in too_late.json()["errors"][0]["message"]
    assert search(lastUpdatedAfter=_everything(state), lastUpdatedBefore=iso(now - 180)).status_code == 200
    assert search(createdAfter=_everything(state), createdBefore=iso(now - 60)).status_code == 400
    assert search(lastUpdatedAfter=iso(now - 30)).status_code == 400  # no end given: now - 2 min is before start
    assert search(lastUpdatedAfter=iso(now - 300), lastUpdatedBefore=iso(now - 400)).status_code == 400
    assert search().status_code == 400
    assert search(createdAfter=_everything(state), lastUpdatedAfter=_everything(state)).status_code == 400
    assert search(createdAfter=_everything(state), lastUpdatedBefore=iso(now - 300)).status_code == 400
    assert search(lastUpdatedAfter="yesterday").status_code == 400
    assert search(lastUpdatedAfter="2025-01-01T00:00:00 01:00").status_code == 400  # an unencoded '+'
    assert search(lastUpdatedAfter="2025-01-01T00:00:00+01:00").status_code == 200
    for size in (0, 101, "ten"):
        assert search(lastUpdatedAfter=_everything(state), maxResultsPerPage=size).status_code == 400
    assert search(lastUpdatedAfter=_everything(state), fulfillmentStatuses="SHIPPED,LOST").status_code == 400
    assert search(lastUpdatedAfter=_everything(state), includedData="EVERYTHING").status_code == 400
    assert search(lastUpdatedAfter=_everything(state), marketplaceIds="ATVPDKIKX0DER").status_code == 400

    created = search(createdAfter=_everything(state), maxResultsPerPage=100)
    assert "createdBefore" in created.json() and "lastUpdatedBefore" not in created.json()
    shipped = search(lastUpdatedAfter=_everything(state), fulfillmentStatuses="SHIPPED", fulfilledBy="MERCHANT",
                     marketplaceIds="A1PA6795UKMFR9,A13V1IB3VIYZZH", includedData="FULFILLMENT").json()["orders"]
    assert shipped and all(o["fulfillment"]["fulfillmentStatus"] == "SHIPPED" and
                           o["fulfillment"]["fulfilledBy"] == "MERCHANT" and
                           o["salesChannel"]["marketplaceId"] in ("A1PA6795UKMFR9", "A13V1IB3VIYZZH") for o in shipped)
    repeated = client.get(f"{ORDERS}?lastUpdatedAfter={quote(_everything(state))}&fulfillmentStatuses=SHIPPED"
                          f"&fulfillmentStatuses=CANCELLED", headers=headers)
    assert {o["orderId"] for o in repeated.json()["orders"]} >= {o["orderId"] for o in shipped[:5]}


def test_incremental_sync_sees_every_change_once(sim):
    state, client, headers = sim.state, sim.client, sim.headers
    first, _, last = _page_through(client, headers, {"lastUpdatedAfter": _everything(state)})
    assert len(first) == state.order_count
    bound = last["lastUpdatedBefore"]

    open_order = _open_order(state)
    ids = state.order_ids()
    cancelled, touched = ids[3], ids[4]
    state.cancel_order(cancelled, "Ordered by mistake")
    state.ship_order(open_order["orderId"])
    state.touch_order(touched)
    sku = state.catalogue.sku(2)
    new = state.add_order([(sku, 2)])

    quiet, _, _ = _page_through(client, headers, {"lastUpdatedAfter": bound})
    assert quiet == []  # changed just now: not before now - 2 minutes yet
    state.advance_clock(150)
    changed, _, _ = _page_through(client, headers, {"lastUpdatedAfter": bound,
                                                    "includedData": "FULFILLMENT,CANCELLATION,PACKAGES"})
    by_id = {o["orderId"]: o for o in changed}
    assert set(by_id) == {cancelled, open_order["orderId"], touched, new["orderId"]}
    assert by_id[cancelled]["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
    assert by_id[cancelled]["orderItems"][0]["cancellation"]["cancellationRequest"]["cancelReason"] == \
        "Ordered by mistake"
    assert by_id[open_order["orderId"]]["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert len(by_id[open_order["orderId"]]["packages"]) == 1
    assert by_id[new["orderId"]]["orderItems"][0]["product"]["sellerSku"] == sku
    assert by_id[new["orderId"]]["orderItems"][0]["quantityOrdered"] == 2
    assert state.order_count == 401
    created = client.get(ORDERS, params={"createdAfter": bound}, headers=headers).json()["orders"]
    assert [o["orderId"] for o in created] == [new["orderId"]]


def test_get_order_and_its_datasets(sim):
    state, client, headers = sim.state, sim.client, sim.headers
    order_id = state.order_ids()[10]
    bare = client.get(f"{ORDERS}/{order_id}", headers=headers).json()["order"]
    assert {"orderId", "createdTime", "lastUpdatedTime", "salesChannel", "orderItems"} <= set(bare)
    assert not {"buyer", "recipient", "proceeds", "fulfillment", "packages"} & set(bare)
    assert {"orderItemId", "quantityOrdered", "product"} <= set(bare["orderItems"][0])
    assert "proceeds" not in bare["orderItems"][0]
    full = client.get(f"{ORDERS}/{order_id}", params={"includedData": "BUYER,RECIPIENT,PROCEEDS,FULFILLMENT"},
                      headers=headers).json()["order"]
    assert {"buyer", "recipient", "proceeds", "fulfillment"} <= set(full)
    assert full == state.order(order_id, ("BUYER", "RECIPIENT", "PROCEEDS", "FULFILLMENT"))
    unit = full["orderItems"][0]["product"]["price"]["unitPrice"]
    assert unit["currencyCode"] == "EUR" and isinstance(unit["amount"], str)
    assert client.get(f"{ORDERS}/123-4567890-1234567", headers=headers).status_code == 404
    assert client.get(f"{ORDERS}/not-an-order", headers=headers).status_code == 400


# ---------------------------------------------------------------------------------- confirmShipment
def test_confirm_shipment_is_idempotent_by_package_reference(sim):
    state, client, headers = sim.state, sim.client, sim.headers
    order = _open_order(state, lines=2)
    url = f"/orders/v0/orders/{order['orderId']}/shipmentConfirmation"
    first = order["orderItems"][0]
    part = [{"orderItemId": first["orderItemId"], "quantity": first["quantityOrdered"]}]

    answer = client.post(url, json=_confirmation(order, "1", part), headers=headers)
    assert answer.status_code == 204 and answer.content == b""
    assert answer.headers["x-amzn-ratelimit-limit"] == state.rate_header("confirmShipment")
    assert client.post(url, json=_confirmation(order, "1", part), headers=headers).status_code == 204
    assert len(state.packages(order["orderId"])) == 1
    assert state.order(order["orderId"])["fulfillment"]["fulfillmentStatus"] == "PARTIALLY_SHIPPED"
    edited = client.post(url, json=_confirmation(order, "1", part, trackingNumber="NEW-TRACKING"), headers=headers)
    assert edited.status_code == 204
    packages = state.packages(order["orderId"])
    assert len(packages) == 1 and packages[0]["trackingNumber"] == "NEW-TRACKING"
    rest = [{"orderItemId": i["orderItemId"], "quantity": i["quantityOrdered"]} for i in order["orderItems"][1:]]
    assert client.post(url, json=_confirmation(order, "2", rest), headers=headers).status_code == 204
    assert [p["packageReferenceId"] for p in state.packages(order["orderId"])] == ["1", "2"]
    shipped = state.order(order["orderId"])
    assert shipped["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert all(i["fulfillment"]["quantityUnfulfilled"] == 0 for i in shipped["orderItems"])
    counters = state.counters
    assert (counters.packages_created, counters.package_edits, counters.package_repeats) == (2, 1, 1)

    def refused(body, status=400, **kwargs):
        answer = client.post(url, json=body, headers=headers, **kwargs)
        assert answer.status_code == status, answer.text
        return answer

    assert _error_code(refused(_confirmation(order, "PKG-1", part))) == "InvalidInput"
    refused(_confirmation(order, "3", part))  # every piece already shipped
    refused(_confirmation(order, "3", [{"orderItemId": "99999999999999", "quantity": 1}]))
    refused(_confirmation(order, "3", part, shipDate="02/21/2022"))
    refused({**_confirmation(order, "3", part), "marketplaceId": "APJ6JRA9NG5V4"
             if order["salesChannel"]["marketplaceId"] != "APJ6JRA9NG5V4" else "A1PA6795UKMFR9"})
    refused(_confirmation(order, "3", part, carrierCode="Other"))
    bad_type = client.post(url, content=orjson.dumps(_confirmation(order, "3", part)), headers=headers)
    assert bad_type.status_code == 415
    cancelled = _open_order(state)
    state.cancel_order(cancelled["orderId"])
    assert client.post(f"/orders/v0/orders/{cancelled['orderId']}/shipmentConfirmation",
                       json=_confirmation(cancelled), headers=headers).status_code == 400
    assert client.post("/orders/v0/orders/123-4567890-1234567/shipmentConfirmation", json=_confirmation(order),
                       headers=headers).status_code == 404


@pytest.mark.parametrize("then", ["close", "502"])
def test_confirm_shipment_retried_after_a_lost_answer_leaves_one_package(sim, then):
    state, client, headers = sim.state, sim.client, sim.headers
    order = _open_order(state)
    url = f"/orders/v0/orders/{order['orderId']}/shipmentConfirmation"
    state.add_fault("apply_then_drop", target="confirmShipment", then=then)
    if then == "close":
        with pytest.raises(httpx.TransportError):
            client.post(url, json=_confirmation(order), headers=headers)
    else:
        assert client.post(url, json=_confirmation(order), headers=headers).status_code == 502
    assert len(state.packages(order["orderId"])) == 1  # it did take effect
    assert client.post(url, json=_confirmation(order), headers=headers).status_code == 204
    assert len(state.packages(order["orderId"])) == 1
    assert state.counters.shipment_confirmations == 2 and state.counters.packages_created == 1
    assert state.faults_fired["apply_then_drop"] == 1


# ------------------------------------------------------------------------------------------ listings
def test_patch_listings_item_and_read_the_quantity_back(sim):
    state, client, headers = sim.state, sim.client, sim.headers
    sku = state.catalogue.sku(5)
    assert "/" in sku and " " in sku
    url = f"{LISTINGS}/{state.seller_id}/{quote(sku, safe='')}"
    market = {"marketplaceIds": "A1PA6795UKMFR9"}

    def quantity() -> int:
        answer = client.get(url, params={**market, "includedData": "summaries,fulfillmentAvailability"},
                            headers=headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["sku"] == sku and body["summaries"][0]["marketplaceId"] == "A1PA6795UKMFR9"
        return next(e["quantity"] for e in body["fulfillmentAvailability"] if e["fulfillmentChannelCode"] == "DEFAULT")

    def patch(value, sku_url=url, **params) -> httpx.Response:
        return client.patch(sku_url, params={**market, **params}, headers=headers, json={
            "productType": "GROCERY", "patches": [{
                "op": "replace", "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": value}]}]})

    assert quantity() == state.listing_quantity(sku)
    accepted = patch(17)
    assert accepted.status_code == 200 and accepted.json()["status"] == "ACCEPTED" and accepted.json()["issues"] == []
    assert accepted.json()["submissionId"] and quantity() == 17
    preview = patch(3, mode="VALIDATION_PREVIEW", includedData="identifiers,issues").json()
    assert preview["status"] == "VALID" and preview["identifiers"][0]["asin"].startswith("B0") and quantity() == 17
    invalid = patch(-3).json()
    assert invalid["status"] == "INVALID" and invalid["issues"][0]["attributeNames"] == ["fulfillment_availability"]
    assert invalid["issues"][0]["severity"] == "ERROR" and quantity() == 17
    state.reject_skus([sku], "Listing suppressed (test)")
    rejected = patch(4).json()
    assert rejected["status"] == "INVALID" and rejected["issues"][0]["message"] == "Listing suppressed (test)"
    state.clear_rejections()
    state.set_listing_quantity(sku, 2)  # changed on Amazon's side: drift
    assert quantity() == 2

    missing = f"{LISTINGS}/{state.seller_id}/NO-SUCH-SKU"
    assert patch(1, sku_url=missing).json()["issues"][0]["code"] == "SKU_NOT_FOUND"
    assert client.get(missing, params=market, headers=headers).status_code == 404
    unencoded = client.get(f"{LISTINGS}/{state.seller_id}/{sku}", params=market, headers=headers)
    assert unencoded.status_code == 404
    assert client.get(url, headers=headers).status_code == 400  # marketplaceIds is required
    assert client.get(f"{LISTINGS}/A1OTHERSELLER/{quote(sku, safe='')}", params=market,
                      headers=headers).status_code == 403
    no_type = client.patch(url, params=market, headers=headers, json={"patches": []})
    assert no_type.status_code == 400 and _error_code(no_type) == "BAD_REQUEST"


# --------------------------------------------------------------------------------------------- feeds
def _feed_document(state: AmazonState, messages: list[dict], **header) -> bytes:
    return orjson.dumps({"header": {"sellerId": state.seller_id, "version": "2.0", **header}, "messages": messages})


def _quantity_message(message_id: int, sku: str, quantity, operation: str = "PATCH") -> dict:
    value = [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]
    if operation == "PARTIAL_UPDATE":
        return {"messageId": message_id, "sku": sku, "operationType": operation, "productType": "HOME",
                "attributes": {"fulfillment_availability": value}}
    return {"messageId": message_id, "sku": sku, "operationType": "PATCH", "productType": "HOME",
            "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability", "value": value}]}


def _submit_feed(client, headers, document: bytes, content_type: str = JSON_TYPE) -> str:
    created = client.post(f"{FEEDS}/documents", json={"contentType": content_type}, headers=headers)
    assert created.status_code == 201, created.text
    upload = httpx.put(created.json()["url"], content=document, headers={"Content-Type": content_type})
    assert upload.status_code == 200, upload.text
    feed = client.post(f"{FEEDS}/feeds", headers=headers, json={
        "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": ["A1PA6795UKMFR9"],
        "inputFeedDocumentId": created.json()["feedDocumentId"]})
    assert feed.status_code == 202, feed.text
    return feed.json()["feedId"]


def _poll(client, headers, feed_id: str) -> list[dict]:
    seen = []
    while not seen or seen[-1]["processingStatus"] in ("IN_QUEUE", "IN_PROGRESS"):
        answer = client.get(f"{FEEDS}/feeds/{feed_id}", headers=headers)
        assert answer.status_code == 200
        seen.append(answer.json())
        assert len(seen) < 10
    return seen


def _report(client, headers, document_id: str, **params) -> tuple[httpx.Response, dict]:
    meta = client.get(f"{FEEDS}/documents/{document_id}", params=params, headers=headers).json()
    return httpx.get(meta["url"]), meta


def test_json_listings_feed_end_to_end(sim):
    state, client, headers = sim.state, sim.client, sim.headers
    ok_a, ok_b, refused, absent = state.catalogue.sku(1), state.catalogue.sku(2), state.catalogue.sku(3), "NO-SUCH"
    unchanged = state.listing_quantity(refused)
    state.reject_skus({refused: "Quantity updates are blocked for this SKU (test)"})
    document = _feed_document(state, [
        _quantity_message(1, ok_a, 5),
        _quantity_message(2, ok_b, 0, "PARTIAL_UPDATE"),
        _quantity_message(3, refused, 9),
        _quantity_message(4, absent, 9),
        _quantity_message(5, state.catalogue.sku(4), "12"),
    ], report={"includedData": ["fulfillmentAvailability"], "apiVersion": "2021-08-01"})

    created = client.post(f"{FEEDS}/documents", json={"contentType": JSON_TYPE}, headers=headers).json()
    wrong_type = httpx.put(created["url"], content=document, headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 403 and b"SignatureDoesNotMatch" in wrong_type.content
    forged = httpx.put(created["url"].replace("X-Amz-Signature=", "X-Amz-Signature=0"), content=document,
                       headers={"Content-Type": JSON_TYPE})
    assert forged.status_code == 403
    state.advance_clock(301)  # presigned URLs live five minutes
    late = httpx.put(created["url"], content=document, headers={"Content-Type": JSON_TYPE})
    assert late.status_code == 403 and b"expired" in late.content

    feed_id = _submit_feed(client, headers, document)
    statuses = _poll(client, headers, feed_id)
    assert [s["processingStatus"] for s in statuses] == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
    done = statuses[-1]
    assert done["feedType"] == "JSON_LISTINGS_FEED" and {"processingStartTime", "processingEndTime"} <= set(done)
    download, meta = _report(client, headers, done["resultFeedDocumentId"])
    assert "compressionAlgorithm" not in meta and download.status_code == 200
    report = download.json()
    assert report["header"] == {"sellerId": state.seller_id, "version": "2.0", "feedId": feed_id,
                                "report": {"includedData": ["fulfillmentAvailability"], "apiVersion": "2021-08-01"}}
    assert report["summary"] == {"errors": 3, "warnings": 0, "messagesProcessed": 5, "messagesAccepted": 2,
                                 "messagesInvalid": 3, "itemSummary": {"items": 2, "errors": 0, "warnings": 0}}
    invalid = {i["messageId"]: i for i in report["issues"] if i["severity"] == "ERROR"}
    status = {m: "INVALID" if m in invalid else "ACCEPTED" for m in range(1, 6)}
    assert status == {1: "ACCEPTED", 2: "ACCEPTED", 3: "INVALID", 4: "INVALID", 5: "INVALID"}
    assert (invalid[3]["sku"], invalid[3]["code"]) == (refused, "SANDBOX_REJECTED")
    assert invalid[4]["code"] == "SKU_NOT_FOUND" and invalid[5]["attributeName"] == "fulfillment_availability"
    assert [item["sku"] for item in report["items"]] == [ok_a, ok_b]
    assert report["items"][0]["fulfillmentAvailability"] == [{"fulfillmentChannelCode": "DEFAULT", "quantity": 5}]
    assert (state.listing_quantity(ok_a), state.listing_quantity(ok_b), state.listing_quantity(refused)) == \
        (5, 0, unchanged)
    assert state.feed_report(feed_id) == report


@pytest.mark.integration
def test_feed_reports_compressed_with_gzip():
    state = AmazonState(seed=5, size=20, rate_scale=1000.0, report_compression="GZIP", feed_steps=(0, 0))
    with _serve(state) as server, httpx.Client(base_url=server.base_url, timeout=5) as client:
        headers = _login(client, state)
        feed_id = _submit_feed(client, headers,
                               _feed_document(state, [_quantity_message(1, state.catalogue.sku(1), 8)]))
        done = _poll(client, headers, feed_id)
        assert [s["processingStatus"] for s in done] == ["DONE"]
        raw, meta = _report(client, headers, done[-1]["resultFeedDocumentId"])
        assert meta["compressionAlgorithm"] == "GZIP" and "content-encoding" not in raw.headers
        assert orjson.loads(gzip.decompress(raw.content))["summary"]["messagesAccepted"] == 1
        decoded, _ = _report(client, headers, done[-1]["resultFeedDocumentId"], enableContentEncodingUrlHeader="true")
        assert decoded.headers["content-encoding"] == "gzip" and decoded.json()["header"]["feedId"] == feed_id

        state.feed_delay = 10.0  # time-based processing instead of polls
        timed = _submit_feed(client, headers, _feed_document(state, [_quantity_message(1, state.catalogue.sku(1), 2)]))
        seen = []
        for step in (0, 6, 5):
            state.advance_clock(step)
            seen.append(client.get(f"{FEEDS}/feeds/{timed}", headers=headers).json()["processingStatus"])
        assert seen == ["IN_QUEUE", "IN_PROGRESS", "DONE"] and state.listing_quantity(state.catalogue.sku(1)) == 2


def test_fatal_feeds_apply_nothing(sim):
    state, client, headers = sim.state, sim.client, sim.headers
    sku = state.catalogue.sku(1)
    before = state.listing_quantity(sku)

    def fatal(document: bytes) -> dict:
        feed_id = _submit_feed(client, headers, document)
        last = _poll(client, headers, feed_id)[-1]
        assert last["processingStatus"] == "FATAL" and last["resultFeedDocumentId"]
        report = _report(client, headers, last["resultFeedDocumentId"])[0].json()
        assert report["summary"]["messagesAccepted"] == 0 and "messageId" not in report["issues"][0]
        return report["issues"][0]

    assert fatal(b'{"header": {"sellerId": "x", "version": "2.0"}, "messages": [')["code"] == "INVALID_DOCUMENT"
    assert fatal(b"\xff\xfe not utf-8")["code"] == "INVALID_DOCUMENT"
    assert fatal(orjson.dumps({"header": {"sellerId": state.seller_id, "version": "1.0"},
                               "messages": [_quantity_message(1, sku, 1)]}))["code"] == "INVALID_HEADER"
    state.max_feed_messages = 2
    assert fatal(_feed_document(state, [_quantity_message(i, sku, i) for i in (1, 2, 3)]))["code"] == \
        "TOO_MANY_MESSAGES"
    state.max_feed_messages = 25_000
    state.fail_next_feeds()
    assert fatal(_feed_document(state, [_quantity_message(1, sku, 1)]))["code"] == "SANDBOX_FATAL"
    never_uploaded = client.post(f"{FEEDS}/documents", json={"contentType": JSON_TYPE}, headers=headers).json()
    lost = client.post(f"{FEEDS}/feeds", headers=headers, json={
        "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": ["A1PA6795UKMFR9"],
        "inputFeedDocumentId": never_uploaded["feedDocumentId"]}).json()["feedId"]
    assert _poll(client, headers, lost)[-1]["processingStatus"] == "FATAL"
    assert state.feed_report(lost)["issues"][0]["code"] == "DOCUMENT_MISSING"
    assert state.listing_quantity(sku) == before and state.counters.feeds_fatal == 6

    queued = _submit_feed(client, headers, _feed_document(state, [_quantity_message(1, sku, 1)]))
    assert client.delete(f"{FEEDS}/feeds/{queued}", headers=headers).status_code == 200
    assert state.feed(queued)["processingStatus"] == "CANCELLED"
    finished = _submit_feed(client, headers, _feed_document(state, [_quantity_message(1, sku, 1)]))
    state.finish_feeds(finished)
    assert client.delete(f"{FEEDS}/feeds/{finished}", headers=headers).status_code == 400
    assert client.get(f"{FEEDS}/feeds/999", headers=headers).status_code == 404
    other_type = client.post(f"{FEEDS}/feeds", headers=headers, json={
        "feedType": "POST_PRODUCT_DATA", "marketplaceIds": ["A1PA6795UKMFR9"], "inputFeedDocumentId": "x"})
    assert other_type.status_code == 400


def test_feed_of_100000_messages_is_processed_in_under_two_seconds():
    state = AmazonState(seed=9, size=0, catalog_size=100_000, max_feed_messages=None)
    access = state.authenticate(state.grant()["access_token"])
    document = _feed_document(state, [_quantity_message(i + 1, state.catalogue.sku(i), i % 40) for i in range(100_000)])
    created = state.create_feed_document(access, {"contentType": JSON_TYPE}, "http://127.0.0.1")
    state.documents[created["feedDocumentId"]].data = document  # what the upload stores
    state.reject_skus([state.catalogue.sku(77)])
    feed_id = state.create_feed(access, {"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": ["A1PA6795UKMFR9"],
                                         "inputFeedDocumentId": created["feedDocumentId"]})["feedId"]
    state.finish_feeds(feed_id)
    summary = state.feed_report(feed_id)["summary"]
    assert summary["messagesProcessed"] == 100_000 and summary["messagesAccepted"] == 99_999
    assert state.listing_quantity(state.catalogue.sku(99_999)) == 99_999 % 40


# --------------------------------------------------------------------------------------- rate limits
@pytest.mark.integration
def test_rate_limits_follow_the_usage_plans():
    state = AmazonState(seed=2, size=50)
    with _serve(state) as server, httpx.Client(base_url=server.base_url, timeout=5) as client:
        headers = _login(client, state)
        params = {"lastUpdatedAfter": _everything(state), "maxResultsPerPage": 1}
        for _ in range(20):  # the burst
            answer = client.get(ORDERS, params=params, headers=headers)
            assert answer.status_code == 200 and answer.headers["x-amzn-ratelimit-limit"] == "0.0056"
        throttled = client.get(ORDERS, params=params, headers=headers)
        assert throttled.status_code == 429 and _error_code(throttled) == "QuotaExceeded"
        assert throttled.json()["errors"][0]["message"] == "You exceeded your quota for the requested resource."
        assert "retry-after" not in throttled.headers and throttled.headers["x-amzn-ratelimit-limit"] == "0.0056"
        state.retry_after = True
        hinted = client.get(ORDERS, params=params, headers=headers)
        assert hinted.status_code == 429 and 170 <= int(hinted.headers["retry-after"]) <= 180
        order_id = state.order_ids()[0]
        other = client.get(f"{ORDERS}/{order_id}", headers=headers)  # another operation, another bucket
        assert other.status_code == 200 and other.headers["x-amzn-ratelimit-limit"] == "0.5"
        state.advance_clock(180)  # 180 s x 0.0056/s: one token back
        assert client.get(ORDERS, params=params, headers=headers).status_code == 200
        assert client.get(ORDERS, params=params, headers=headers).status_code == 429

        documented = {"confirmShipment": "2.0", "getListingsItem": "5.0", "patchListingsItem": "5.0",
                      "createFeedDocument": "0.5", "createFeed": "0.0083", "getFeed": "2.0",
                      "getFeedDocument": "0.0222", "cancelFeed": "2.0"}
        assert {op: state.rate_header(op) for op in documented} == documented
        assert set(RATE_LIMITS) == set(documented) | {"searchOrders", "getOrder"}
        refused = client.post(f"/orders/v0/orders/{order_id}/shipmentConfirmation", json={}, headers=headers)
        assert refused.status_code == 400 and refused.headers["x-amzn-ratelimit-limit"] == "2.0"
        assert client.get(f"{FEEDS}/documents/x", headers=headers).headers["x-amzn-ratelimit-limit"] == "0.0222"

        state.rate_scale = 1e6  # a benchmark: practically unthrottled
        assert all(client.get(ORDERS, params=params, headers=headers).status_code == 200 for _ in range(30))
        state.rate_scale = 1.0
        state.set_rate_limit("getOrder", 0.1, 2)
        codes = [client.get(f"{ORDERS}/{order_id}", headers=headers).status_code for _ in range(3)]
        assert codes == [200, 200, 429] and state.counters.throttled >= 4


# -------------------------------------------------------------------------------------------- faults
def test_faults_errors_storms_slowness_and_hangs(sim):
    state, client, headers = sim.state, sim.client, sim.headers
    order_id = state.order_ids()[0]
    url = f"{ORDERS}/{order_id}"
    state.add_fault("http_500", target="getOrder")
    failed = client.get(url, headers=headers)
    assert failed.status_code == 500 and _error_code(failed) == "InternalFailure"
    assert failed.headers["x-amzn-ratelimit-limit"] and client.get(url, headers=headers).status_code == 200

    state.add_fault("http_429", count=3)
    storm = [client.get(url, headers=headers) for _ in range(4)]
    assert [a.status_code for a in storm] == [429, 429, 429, 200]
    assert all("retry-after" not in a.headers for a in storm[:3]) and _error_code(storm[0]) == "QuotaExceeded"
    state.add_fault("http_429", count=2, retry_after=2)
    assert [client.get(url, headers=headers).headers.get("retry-after") for _ in range(2)] == ["2", "2"]
    state.add_fault("http_503", retry_after=1.5)
    unavailable = client.get(url, headers=headers)
    assert unavailable.status_code == 503 and unavailable.headers["retry-after"] == "1.5"

    state.add_fault("slow", seconds=0.3, target="getOrder")
    started = time.perf_counter()
    assert client.get(url, headers=headers).status_code == 200 and time.perf_counter() - started >= 0.3
    state.add_fault("hang", target="getOrder")
    with pytest.raises(httpx.ReadTimeout):
        client.get(url, headers=headers, timeout=0.3)
    state.add_fault("expire_tokens", target="getOrder")
    assert client.get(url, headers=headers).status_code == 403
    headers = _login(client, state)
    state.add_fault("http_500", target="token")
    client_id, secret = next(iter(state.clients.items()))
    assert client.post("/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": state.authorize(),
                                               "client_id": client_id, "client_secret": secret}).status_code == 500

    armed = client.post("/_sandbox/faults", json={"kind": "http_500", "target": "searchOrders", "count": 2})
    assert armed.status_code == 200 and armed.json()["faults_armed"][0]["count"] == 2
    assert client.get(url, headers=headers).status_code == 200  # another operation
    assert client.get(ORDERS, params={"lastUpdatedAfter": _everything(state)}, headers=headers).status_code == 500
    assert client.delete("/_sandbox/faults").json() == {"faults_armed": []}
    assert client.post("/_sandbox/faults", json={"kind": "explode"}).status_code == 400
    stats = client.get("/_sandbox/stats").json()
    assert stats["faults_fired"]["http_429"] == 5 and stats["requests"]["getOrder"] >= 10


def test_admin_routes_drive_the_state(sim):
    state, client, headers = sim.state, sim.client, sim.headers
    assert client.post("/_sandbox/authorize", json={}).json()["refresh_token"].startswith("Atzr|")
    order = client.post("/_sandbox/orders", json={"items": [{"sku": state.catalogue.sku(1), "quantity": 1}]})
    assert order.status_code == 201
    order_id = order.json()["orderId"]
    shipped = client.post(f"/_sandbox/orders/{order_id}/ship", json={"carrier": "UPS"}).json()
    assert shipped["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert client.get(f"/_sandbox/orders/{order_id}/packages").json()["packages"][0]["carrier"] == "UPS"
    sku = state.catalogue.sku(5)
    assert client.post(f"/_sandbox/listings/{quote(sku)}", json={"quantity": 4}).json()["quantity"] == 4
    assert client.post("/_sandbox/reject-skus", json={"skus": [sku]}).json()["rejected"] == {
        sku: "The sandbox was told to refuse this SKU"}
    assert client.post("/_sandbox/clock", json={"advance": 60}).json()["offset"] == 60
    limits = client.post("/_sandbox/rate-limits", json={"scale": 2, "retry_after": True}).json()
    assert limits["limits"]["getFeed"] == [4.0, 15] and limits["retry_after"] is True
    client.post("/_sandbox/expire-tokens", json={})
    assert client.get(f"{ORDERS}/{order_id}", headers=headers).status_code == 403
    assert client.post("/_sandbox/reset", json={"size": 10}).json() == {"seed": 11, "size": 10}
    assert state.order_count == 10 and client.get("/_sandbox/orders/123-4567890-1234567/packages").status_code == 404


# ------------------------------------------------------------------------------------- determinism
def test_seeded_data_is_deterministic():
    epoch = 1_767_225_600  # 2026-01-01
    first, again, other = (AmazonState(seed=s, size=300, epoch=epoch) for s in (4, 4, 5))
    assert first.order_ids() == again.order_ids() and first.order_ids() != other.order_ids()
    assert [first.order(i) for i in first.order_ids()[:25]] == [again.order(i) for i in again.order_ids()[:25]]
    ids = first.order_ids()
    assert len(set(ids)) == 300 and all(first.book.index_of(i, 300) is not None for i in ids)
    statuses = {first.order(i)["fulfillment"]["fulfillmentStatus"] for i in ids}
    assert {"UNSHIPPED", "SHIPPED", "CANCELLED"} <= statuses
    every = ("BUYER", "RECIPIENT", "PROCEEDS", "FULFILLMENT", "PACKAGES", "CANCELLATION", "EXPENSE", "PROMOTION",
             "TAX", "PAYMENT", "FULFILLMENT_ORDERS")
    assert all(first.order(i) == first.order(i, every) for i in ids[:50])  # every view of an order agrees


def test_command_line_help(capsys):
    from marketsync.sandbox.amazon.__main__ import main

    with pytest.raises(SystemExit) as stopped:
        main(["--help"])
    assert stopped.value.code == 0 and "--vectors" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------ big sizes
@pytest.mark.integration
def test_50000_orders_start_fast_and_page_through_quickly():
    state = AmazonState(seed=21, size=50_000, rate_scale=1e6)
    with _serve(state) as server, httpx.Client(base_url=server.base_url, timeout=10) as client:
        headers = _login(client, state)
        params = {"lastUpdatedAfter": _everything(state), "includedData": "FULFILLMENT"}
        ids: list[str] = []  # ids only: keeping 50,000 parsed orders would mostly measure the garbage collector
        pages, token = 0, None
        while True:
            answer = client.get(ORDERS, params={**params, **({"paginationToken": token} if token else {})},
                                headers=headers)
            assert answer.status_code == 200, answer.text
            body = orjson.loads(answer.content)
            ids.extend(order["orderId"] for order in body["orders"])
            pages += 1
            token = body.get("pagination", {}).get("nextToken")
            if token is None:
                break
    assert len(ids) == len(set(ids)) == 50_000 and pages == 500


# --------------------------------------------------------------------------- static sandbox + models
@pytest.mark.integration
@needs_specs
def test_static_sandbox_answers_every_vector_exactly():
    from marketsync.sandbox.amazon.vectors import load_vectors

    vectors = load_vectors(SPECS / "sandbox_vectors")
    assert len(vectors) > 50
    state = AmazonState(seed=1, size=5, vectors=SPECS / "sandbox_vectors")
    with _serve(state) as server, httpx.Client(base_url=f"{server.base_url}/static-sandbox", timeout=5) as client, \
            httpx.Client(base_url=server.base_url, timeout=5) as lwa:
        headers = _login(lwa, state)
        for vector in vectors:
            path, query, body = vector.request_parts()
            extra = {"content": orjson.dumps(body), "headers": {**headers, "Content-Type": "application/json"}} \
                if body is not None else {"headers": headers}
            answer = client.request(vector.method, path, params=query, **extra)
            label = f"{vector.source} {vector.operation_id} {vector.status} {path}"
            assert answer.status_code == vector.status, label
            if vector.response is None or vector.status == 204:
                assert answer.content == b"", label
            else:
                assert answer.json() == vector.response, label
        assert client.get("/orders/v0/orders/TEST_CASE_200").status_code == 403  # a token is still needed
        assert client.get("/nothing/here", headers=headers).status_code == 404
    assert state.counters.static_answers == len(vectors)


def _conforms(value, schema: dict, definitions: dict, path: str = "$") -> None:
    """A small checker for the parts of JSON Schema / Swagger the models use, stricter than JSON
    Schema in one way: an object may hold only the properties its schema names, unless it allows
    additional ones."""
    if "$ref" in schema:
        _conforms(value, definitions[schema["$ref"].rsplit("/", 1)[-1]], definitions, path)
        return
    if "enum" in schema:
        assert value in schema["enum"], f"{path}: {value!r} not in {schema['enum']}"
    if "const" in schema:
        assert value == schema["const"], path
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        assert isinstance(value, dict), f"{path}: not an object"
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            assert name in value, f"{path}.{name} is required"
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            if name in properties:
                _conforms(item, properties[name], definitions, f"{path}.{name}")
            elif isinstance(extra, dict):
                _conforms(item, extra, definitions, f"{path}.{name}")
            else:
                assert extra is True or not properties, f"{path}.{name} is not in the model"
    elif kind == "array":
        assert isinstance(value, list), f"{path}: not an array"
        for position, item in enumerate(value):
            _conforms(item, schema.get("items", {}), definitions, f"{path}[{position}]")
    elif kind == "string":
        assert isinstance(value, str), f"{path}: not a string"
    elif kind == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), f"{path}: not an integer"
    elif kind == "boolean":
        assert isinstance(value, bool), path


@needs_specs
def test_generated_bodies_follow_the_public_models(sim):
    state, client, headers = sim.state, sim.client, sim.headers
    state.rate_scale = 1e6  # 200 getOrder calls in a row
    orders_model = orjson.loads((SPECS / "orders_2026-01-01.json").read_bytes())
    listings_model = orjson.loads((SPECS / "listingsItems_2021-08-01.json").read_bytes())
    feeds_model = orjson.loads((SPECS / "feeds_2021-06-30.json").read_bytes())
    report_schema = orjson.loads((SPECS / "listings-feed-processing-report-schema-v2.json").read_bytes())
    feed_schema = orjson.loads((SPECS / "listings-feed-schema-v2.json").read_bytes())

    every = ",".join(("BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "FULFILLMENT",
                      "PACKAGES", "TAX", "PAYMENT", "FULFILLMENT_ORDERS"))
    order = _open_order(state, lines=2)
    client.post(f"/orders/v0/orders/{order['orderId']}/shipmentConfirmation", headers=headers,
                json=_confirmation(order, "4", [{"orderItemId": order["orderItems"][0]["orderItemId"], "quantity": 1}]))
    page = client.get(ORDERS, params={"lastUpdatedAfter": _everything(state), "includedData": every}, headers=headers)
    _conforms(page.json(), {"$ref": "#/definitions/SearchOrdersResponse"}, orders_model["definitions"])
    for order_id in [*state.order_ids()[:200], order["orderId"]]:
        single = client.get(f"{ORDERS}/{order_id}", params={"includedData": every}, headers=headers).json()
        _conforms(single, {"$ref": "#/definitions/GetOrderResponse"}, orders_model["definitions"])

    sku = quote(state.catalogue.sku(3), safe="")
    item = client.get(f"{LISTINGS}/{state.seller_id}/{sku}", headers=headers, params={
        "marketplaceIds": "A1PA6795UKMFR9,A13V1IB3VIYZZH",
        "includedData": "summaries,attributes,issues,offers,fulfillmentAvailability,procurement,relationships,"
                        "productTypes"}).json()
    _conforms(item, {"$ref": "#/definitions/Item"}, listings_model["definitions"])
    submission = client.patch(f"{LISTINGS}/{state.seller_id}/{sku}", headers=headers,
                              params={"marketplaceIds": "A1PA6795UKMFR9", "includedData": "identifiers,issues"},
                              json={"productType": "HOME", "patches": [{"op": "merge", "path": "/attributes/x",
                                                                        "value": "not a list"}]}).json()
    assert submission["status"] == "INVALID"
    _conforms(submission, {"$ref": "#/definitions/ListingsItemSubmissionResponse"}, listings_model["definitions"])

    messages = [_quantity_message(1, state.catalogue.sku(1), 3), _quantity_message(2, "NOPE", 1),
                _quantity_message(3, state.catalogue.sku(2), 4, "PARTIAL_UPDATE"),
                {"messageId": 4, "sku": state.catalogue.sku(6), "operationType": "DELETE"}]
    document = _feed_document(state, messages, issueLocale="en_US",
                              report={"includedData": ["summaries", "fulfillmentAvailability", "issues"],
                                      "apiVersion": "2021-08-01"})
    _conforms(orjson.loads(document), feed_schema, {})
    created = client.post(f"{FEEDS}/documents", json={"contentType": JSON_TYPE}, headers=headers).json()
    _conforms(created, {"$ref": "#/definitions/CreateFeedDocumentResponse"}, feeds_model["definitions"])
    feed_id = _submit_feed(client, headers, document)
    last = _poll(client, headers, feed_id)[-1]
    _conforms(last, {"$ref": "#/definitions/Feed"}, feeds_model["definitions"])
    meta = client.get(f"{FEEDS}/documents/{last['resultFeedDocumentId']}", headers=headers).json()
    _conforms(meta, {"$ref": "#/definitions/FeedDocument"}, feeds_model["definitions"])
    report = httpx.get(meta["url"]).json()
    _conforms(report, report_schema, {})
    assert report["summary"]["messagesAccepted"] == 3 and state.listing_quantity(state.catalogue.sku(6)) is None
    _conforms(client.get(f"{ORDERS}/bad", headers=headers).json(), {"$ref": "#/definitions/ErrorList"},
              orders_model["definitions"])
