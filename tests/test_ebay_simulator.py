"""The eBay sandbox itself, over real HTTP on loopback with httpx: the OAuth token endpoint (HTTP Basic,
refresh grant with scopes, expiry), getOrders paging and filters, incremental changes, shipping
fulfillments (201 + Location, no deduplication, answers lost after the write), the Inventory API
(createOrReplaceInventoryItem, bulkUpdatePriceQuantity 200/207, paging), daily quotas, faults, a
50,000-order seller, and conformance with the request/response examples in ../shared/specs/ebay."""
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from marketsync.sandbox.ebay.data import stamp
from marketsync.sandbox.ebay.state import APP_SCOPE, EbayState, scope
from marketsync.sandbox.http import serve_in_thread

CLIENT_ID = "MarketSy-test-SBX-0a1b2c3d4-5e6f7a8b"
CLIENT_SECRET = "SBX-0a1b2c3d4e5f-aa11-bb22-cc33-dd44"
TOKEN = "/identity/v1/oauth2/token"
ORDERS = "/sell/fulfillment/v1/order"
INVENTORY = "/sell/inventory/v1"
FULFILLMENT_SCOPES = f"{scope('sell.fulfillment')} {scope('sell.inventory')}"
EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "specs" / "ebay" / "examples"


@pytest.fixture
def sim():
    """(state, httpx client on the simulator, bearer headers of a fresh consent)."""
    from marketsync.sandbox.ebay.app import create_app

    state = EbayState(seed=7, orders=400, skus=60, clients={CLIENT_ID: CLIENT_SECRET})
    with serve_in_thread(create_app(state)) as server, httpx.Client(base_url=server.base_url, timeout=10) as client:
        consent = state.grant()
        yield state, client, {"Authorization": f"Bearer {consent['access_token']}"}


def _refresh(client: httpx.Client, refresh_token: str, scopes: str | None = FULFILLMENT_SCOPES,
             auth=(CLIENT_ID, CLIENT_SECRET)) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if scopes is not None:
        form["scope"] = scopes
    return client.post(TOKEN, data=form, auth=auth)


def _bearer(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _error_ids(response: httpx.Response) -> list[int]:
    errors = response.json()["errors"]
    for error in errors:
        assert {"errorId", "domain", "category", "message"} <= set(error)
    return [e["errorId"] for e in errors]


def _walk(client: httpx.Client, headers: dict, params: dict) -> tuple[list[dict], int, int]:
    """(every order reached by following `next`, the announced total, the number of pages)."""
    response = client.get(ORDERS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    orders, total, pages = list(body["orders"]), body["total"], 1
    while "next" in body:
        response = client.get(body["next"], headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == total and body["prev"]
        orders += body["orders"]
        pages += 1
    return orders, total, pages


def _open_order(state: EbayState, lines: int = 1) -> dict:
    """A seeded order that can still be shipped, with `lines` line items."""
    for index in range(state.order_count - 1, -1, -1):
        order = state.order(state.order_id(index))
        if (order["orderFulfillmentStatus"] == "NOT_STARTED" and order["cancelStatus"]["cancelState"] ==
                "NONE_REQUESTED" and len(order["lineItems"]) == lines):
            return order
    raise AssertionError("no open order")


# ------------------------------------------------------------------------------------------------- OAuth
def test_refresh_grant_with_basic_auth_scopes_and_client_checks(sim):
    state, client, _ = sim
    consent = state.grant()
    assert set(consent) == {"access_token", "expires_in", "refresh_token", "refresh_token_expires_in", "token_type"}
    refreshed = _refresh(client, consent["refresh_token"])
    body = refreshed.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["token_type"] == "User Access Token" and body["expires_in"] == 7200
    assert body["access_token"].startswith("v^1.1#")
    assert client.get(ORDERS, headers=_bearer(refreshed)).status_code == 200
    # The refresh token is not rotated: it works again.
    assert _refresh(client, consent["refresh_token"]).status_code == 200

    wider = _refresh(client, consent["refresh_token"], f"{FULFILLMENT_SCOPES} {scope('sell.finances')}")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    assert _refresh(client, consent["refresh_token"], "https://api.ebay.com/oauth/api_scope/nonsense") \
        .json()["error"] == "invalid_scope"
    assert _refresh(client, consent["refresh_token"], None).json()["error"] == "invalid_request"
    bad_client = _refresh(client, consent["refresh_token"], auth=(CLIENT_ID, "wrong"))
    assert bad_client.status_code == 401 and bad_client.json()["error"] == "invalid_client"
    no_basic = client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": consent["refresh_token"],
                                        "scope": FULFILLMENT_SCOPES, "client_id": CLIENT_ID,
                                        "client_secret": CLIENT_SECRET})
    assert no_basic.status_code == 401
    unknown = _refresh(client, consent["refresh_token"] + "x")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_grant"
    state.revoke_refresh_token(consent["refresh_token"])
    assert _refresh(client, consent["refresh_token"]).json()["error"] == "invalid_grant"

    # Scopes are checked per API: inventory only -> 403 on orders; readonly fulfillment reads but cannot ship.
    inventory_only = _bearer(_refresh(client, state.grant()["refresh_token"], scope("sell.inventory")))
    denied = client.get(ORDERS, headers=inventory_only)
    assert denied.status_code == 403 and _error_ids(denied) == [1100]
    assert client.get(f"{INVENTORY}/inventory_item", headers=inventory_only).status_code == 200
    reader = _bearer(_refresh(client, state.grant()["refresh_token"], scope("sell.fulfillment.readonly")))
    order = _open_order(state)
    assert client.get(ORDERS, headers=reader).status_code == 200
    ship = client.post(f"{ORDERS}/{order['orderId']}/shipping_fulfillment", headers=reader,
                       json={"lineItems": [{"lineItemId": order["lineItems"][0]["lineItemId"], "quantity": 1}]})
    assert ship.status_code == 403

    # An application token (client credentials) reads rate limits but no seller data.
    app = client.post(TOKEN, data={"grant_type": "client_credentials", "scope": APP_SCOPE},
                      auth=(CLIENT_ID, CLIENT_SECRET))
    assert app.status_code == 200 and app.json()["token_type"] == "Application Access Token"
    assert client.get(ORDERS, headers=_bearer(app)).status_code == 403
    limits = client.get("/developer/analytics/v1_beta/rate_limit/", headers=_bearer(app))
    assert limits.status_code == 200
    assert {r["apiName"] for r in limits.json()["rateLimits"]} >= {"fulfillment", "inventory"}
    stats = state.stats()
    assert stats["invalid_scopes"] == 2 and stats["invalid_grants"] == 2 and stats["forbidden"] == 3


def test_expired_token_gets_401_then_a_refresh_works(sim):
    state, client, headers = sim
    assert client.get(ORDERS, headers=headers).status_code == 200
    state.expire_access_tokens()
    expired = client.get(ORDERS, headers=headers)
    assert expired.status_code == 401
    assert expired.json()["errors"][0] | {} == {
        "errorId": 1001, "domain": "OAuth", "category": "REQUEST", "message": "Invalid access token",
        "longMessage": "Invalid access token. Check the value of the Authorization HTTP request header."}
    missing = client.get(ORDERS)
    assert missing.status_code == 401 and _error_ids(missing) == [1002]
    fresh = _bearer(_refresh(client, state.grant()["refresh_token"]))
    assert client.get(ORDERS, headers=fresh).status_code == 200

    # Short-lived tokens really expire, and a fault can expire them mid-paging.
    state.token_ttl = 0.2
    short = _bearer(_refresh(client, state.grant()["refresh_token"]))
    assert client.get(ORDERS, headers=short).status_code == 200
    time.sleep(0.25)
    assert client.get(ORDERS, headers=short).status_code == 401
    state.token_ttl = 7200
    fresh = _bearer(_refresh(client, state.grant()["refresh_token"]))
    state.add_fault("expire_tokens", skip=1, target="getOrders")
    assert client.get(ORDERS, headers=fresh).status_code == 200
    assert client.get(ORDERS, headers=fresh).status_code == 401


# ------------------------------------------------------------------------------------------------- orders
def test_get_orders_pages_through_next_with_the_lastmodifieddate_filter(sim):
    state, client, headers = sim
    since_ms = state.epoch_ms - 20 * 86_400_000
    since = stamp(since_ms)
    expected = [o["orderId"] for o in (state.order(state.order_id(i)) for i in range(state.order_count))
                if o["lastModifiedDate"] >= since]
    assert 50 < len(expected) < state.order_count

    orders, total, pages = _walk(client, headers, {"filter": f"lastmodifieddate:[{since}..]", "limit": 25})
    ids = [o["orderId"] for o in orders]
    assert total == len(expected) and ids == expected  # creation order, no gaps, no repeats
    assert pages == -(-total // 25)
    assert all(o["lastModifiedDate"] >= since for o in orders)
    assert [o["creationDate"] for o in orders] == sorted(o["creationDate"] for o in orders)
    order = orders[0]
    assert {"orderId", "lastModifiedDate", "orderFulfillmentStatus", "orderPaymentStatus", "cancelStatus",
            "lineItems", "buyer", "fulfillmentStartInstructions", "pricingSummary"} <= set(order)
    line = order["lineItems"][0]
    assert {"lineItemId", "sku", "quantity", "title", "legacyItemId", "lineItemCost"} <= set(line)
    assert set(order["fulfillmentStartInstructions"][0]["shippingStep"]["shipTo"]["contactAddress"]) >= {
        "addressLine1", "city", "postalCode", "countryCode"}

    # A closed range, the next/prev links, an absolute href on the simulator.
    until = stamp(since_ms + 5 * 86_400_000)
    first = client.get(ORDERS, params={"filter": f"lastmodifieddate:[{since}..{until}]", "limit": 10},
                       headers=headers).json()
    assert first["limit"] == 10 and first["offset"] == 0 and "prev" not in first
    assert urlsplit(first["href"]).path == ORDERS and "%5B" in first["next"] and "offset=10" in first["next"]
    assert all(since <= o["lastModifiedDate"] <= until for o in first["orders"])
    assert client.get(ORDERS, headers=headers, params={"orderIds": ",".join(expected[:3])}).json()["total"] == 3

    status = client.get(ORDERS, headers=headers,
                        params={"filter": "orderfulfillmentstatus:{NOT_STARTED|IN_PROGRESS}", "limit": 200}).json()
    assert status["orders"] and {o["orderFulfillmentStatus"] for o in status["orders"]} <= {"NOT_STARTED",
                                                                                          "IN_PROGRESS"}
    for params, error_id in (({"filter": "modifieddate:[2026-01-01T00:00:00.000Z..]"}, 30700),
                             ({"filter": "lastmodifieddate:[yesterday..]"}, 30810),
                             ({"filter": "lastmodifieddate:[..2026-01-01T00:00:00.000Z]"}, 30820),
                             ({"filter": f"lastmodifieddate:[{stamp(int(time.time() * 1000) + 3_600_000)}..]"}, 30850),
                             ({"filter": "orderfulfillmentstatus:{FULFILLED}"}, 30800),
                             ({"limit": 201}, 31100), ({"offset": -1}, 31000)):
        response = client.get(ORDERS, params=params, headers=headers)
        assert response.status_code == 400 and _error_ids(response) == [error_id], params


def test_incremental_sync_sees_changed_cancelled_shipped_and_new_orders(sim):
    state, client, headers = sim
    since = stamp(int(time.time() * 1000) - 1)
    window = {"filter": f"lastmodifieddate:[{since}..]"}
    assert client.get(ORDERS, params=window, headers=headers).json()["total"] == 0

    cancelled, changed, shipped = state.order_id(10), state.order_id(20), _open_order(state)
    state.cancel_order(cancelled)
    state.update_order(changed, ship_to={"addressLine1": "Neue Straße 1", "city": "Trier"})
    assert client.post(f"{ORDERS}/{shipped['orderId']}/shipping_fulfillment", headers=headers, json={
        "lineItems": [{"lineItemId": shipped["lineItems"][0]["lineItemId"],
                       "quantity": shipped["lineItems"][0]["quantity"]}],
        "shippingCarrierCode": "DHL", "trackingNumber": "00340434123456789012"}).status_code == 201
    new = state.add_order([(state.catalogue.sku(3), 2)])

    orders, total, _ = _walk(client, headers, window)
    by_id = {o["orderId"]: o for o in orders}
    assert total == 4 and set(by_id) == {cancelled, changed, shipped["orderId"], new}
    assert all(o["lastModifiedDate"] >= since for o in orders)
    assert orders[-1]["orderId"] == new  # the newest creation comes last
    assert by_id[cancelled]["cancelStatus"]["cancelState"] == "CANCELED"
    assert by_id[cancelled]["cancelStatus"]["cancelRequests"] == []  # getOrders leaves them out
    full = client.get(f"{ORDERS}/{cancelled}", headers=headers).json()
    assert full["cancelStatus"]["cancelRequests"][-1]["cancelRequestState"] == "COMPLETED"
    ship_to = by_id[changed]["fulfillmentStartInstructions"][0]["shippingStep"]["shipTo"]["contactAddress"]
    assert ship_to["addressLine1"] == "Neue Straße 1"
    assert by_id[shipped["orderId"]]["orderFulfillmentStatus"] == "FULFILLED"
    assert by_id[new]["lineItems"][0]["quantity"] == 2 and by_id[new]["orderFulfillmentStatus"] == "NOT_STARTED"
    # The next incremental window starts after the newest lastModifiedDate seen: nothing new.
    latest = max(o["lastModifiedDate"] for o in orders)
    later = stamp(int(datetime.fromisoformat(latest.replace("Z", "+00:00")).timestamp() * 1000) + 1)
    assert client.get(ORDERS, params={"filter": f"lastmodifieddate:[{later}..]"}, headers=headers).json()["total"] == 0
    assert client.get(f"{ORDERS}/99-99999-99999", headers=headers).status_code == 404


# ------------------------------------------------------------------------------------------- fulfillments
def test_create_shipping_fulfillment_answers_201_with_location_and_never_deduplicates(sim):
    state, client, headers = sim
    order = _open_order(state, lines=2)
    first, second = order["lineItems"]
    path = f"{ORDERS}/{order['orderId']}/shipping_fulfillment"
    body = {"lineItems": [{"lineItemId": first["lineItemId"], "quantity": first["quantity"]}],
            "shippedDate": stamp(int(time.time() * 1000) - 60_000), "shippingCarrierCode": "DHL",
            "trackingNumber": "00340434161094042557"}
    created = client.post(path, json=body, headers=headers)
    assert created.status_code == 201 and created.json() == {}
    location = created.headers["location"]
    assert location == f"{client.base_url}{path}/00340434161094042557"
    fulfillment = client.get(location, headers=headers).json()
    assert fulfillment == {"fulfillmentId": "00340434161094042557", "shipmentTrackingNumber": "00340434161094042557",
                           "shippingCarrierCode": "DHL", "shippedDate": body["shippedDate"],
                           "lineItems": body["lineItems"]}
    listed = client.get(path, headers=headers).json()
    assert listed == {"fulfillments": [fulfillment], "total": 1}
    after = client.get(f"{ORDERS}/{order['orderId']}", headers=headers).json()
    assert after["orderFulfillmentStatus"] == "IN_PROGRESS" and after["fulfillmentHrefs"] == [location]
    assert [li["lineItemFulfillmentStatus"] for li in after["lineItems"]] == ["FULFILLED", "NOT_STARTED"]
    assert after["lastModifiedDate"] > order["lastModifiedDate"]

    # The same request again is a second fulfillment (eBay does not deduplicate).
    assert client.post(path, json=body, headers=headers).status_code == 201
    assert client.get(path, headers=headers).json()["total"] == 2
    # Without tracking: an arbitrary id; the order is complete once every line shipped.
    untracked = client.post(path, headers=headers,
                            json={"lineItems": [{"lineItemId": second["lineItemId"], "quantity": second["quantity"]}]})
    assert untracked.status_code == 201 and untracked.headers["location"].endswith("/shipping_fulfillment/999")
    assert client.get(f"{ORDERS}/{order['orderId']}", headers=headers).json()["orderFulfillmentStatus"] == "FULFILLED"
    assert state.stats()["fulfillments_created"] == 3

    line = {"lineItemId": first["lineItemId"], "quantity": 1}
    for bad, status, error_id in (
            ({"lineItems": [{"lineItemId": "10000000000000", "quantity": 1}]}, 400, 32200),
            ({"lineItems": [{**line, "quantity": first["quantity"] + 1}]}, 400, 32600),
            ({"lineItems": [line, line]}, 400, 32210),
            ({"lineItems": [line], "shippingCarrierCode": "DHL", "trackingNumber": "0034-0434"}, 400, 32300),
            ({"lineItems": [line], "shippingCarrierCode": "DHL"}, 400, 32300),
            ({"lineItems": [line], "shippedDate": "2026-13-45"}, 400, 32500),
            ({"lineItems": []}, 400, 32600)):
        response = client.post(path, json=bad, headers=headers)
        assert response.status_code == status and _error_ids(response) == [error_id], bad
    unknown = client.post(f"{ORDERS}/01-00000-00000/shipping_fulfillment", json=body, headers=headers)
    assert unknown.status_code == 400 and _error_ids(unknown) == [32100]
    state.cancel_order(order["orderId"])
    assert client.post(path, json=body, headers=headers).status_code == 409
    assert state.stats()["fulfillments_created"] == 3


def test_a_lost_answer_is_found_by_reading_before_retrying(sim):
    state, client, headers = sim
    for then in ("close", "502"):
        order = _open_order(state)
        path = f"{ORDERS}/{order['orderId']}/shipping_fulfillment"
        line = order["lineItems"][0]
        tracking = {"close": "01234567890071", "502": "01234567890502"}[then]
        body = {"lineItems": [{"lineItemId": line["lineItemId"], "quantity": line["quantity"]}],
                "shippingCarrierCode": "DPD", "trackingNumber": tracking}
        state.add_fault("apply_then_drop", target="createShippingFulfillment", then=then)
        if then == "close":
            with pytest.raises(httpx.TransportError):
                client.post(path, json=body, headers=headers)
        else:
            assert client.post(path, json=body, headers=headers).status_code == 502
        # The write took effect: a client that reads before retrying finds it and does not post again.
        existing = client.get(path, headers=headers).json()
        assert existing["total"] == 1
        assert existing["fulfillments"][0]["shipmentTrackingNumber"] == body["trackingNumber"]
        assert client.get(f"{ORDERS}/{order['orderId']}", headers=headers).json()["orderFulfillmentStatus"] == \
            "FULFILLED"
    # A blind retry would have shipped twice: the simulator does not deduplicate.
    assert client.post(path, json=body, headers=headers).status_code == 201
    assert client.get(path, headers=headers).json()["total"] == 2
    stats = state.stats()
    assert stats["answers_dropped"] == 2 and stats["faults_fired"] == {"apply_then_drop": 2}


# ------------------------------------------------------------------------------------------- inventory
def test_create_or_replace_inventory_item_then_get_and_page(sim):
    state, client, headers = sim
    item = {"availability": {"shipToLocationAvailability": {"quantity": 12}}, "condition": "NEW",
            "product": {"title": "Zoë's Espresso Tamper", "description": "Stainless.", "aspects": {"Marke": ["Zoë"]},
                        "imageUrls": ["https://images.example.com/tamper.jpg"]}}
    url = f"{INVENTORY}/inventory_item/MS-TAMPER-01"
    put = client.put(url, json=item, headers={**headers, "Content-Language": "de-DE"})
    assert put.status_code == 204 and put.content == b""
    got = client.get(url, headers=headers)
    assert got.status_code == 200 and got.json() == {"sku": "MS-TAMPER-01", "locale": "de_DE", **item}
    # A complete replacement: the quantity changes, fields left out are gone.
    replaced = client.put(url, headers={**headers, "Content-Language": "de-DE"},
                          json={"availability": {"shipToLocationAvailability": {"quantity": 3}}})
    assert replaced.status_code == 204
    assert client.get(url, headers=headers).json() == {
        "sku": "MS-TAMPER-01", "locale": "de_DE", "availability": {"shipToLocationAvailability": {"quantity": 3}}}

    no_language = client.put(url, json=item, headers=headers)
    assert no_language.status_code == 400 and _error_ids(no_language) == [25709]
    negative = client.put(url, headers={**headers, "Content-Language": "en-US"},
                          json={"availability": {"shipToLocationAvailability": {"quantity": -1}}})
    assert negative.status_code == 400 and _error_ids(negative) == [25709]
    state.reject_sku("MS-TAMPER-01")
    rejected = client.put(url, json=item, headers={**headers, "Content-Language": "en-US"})
    assert rejected.status_code == 400 and _error_ids(rejected) == [25604]
    missing = client.get(f"{INVENTORY}/inventory_item/NOPE-1", headers=headers)
    assert missing.status_code == 404 and _error_ids(missing) == [25710]

    # getInventoryItems: offset is a page number (as the contract says); `next` walks every item.
    page = client.get(f"{INVENTORY}/inventory_item", params={"limit": 25}, headers=headers).json()
    assert page["total"] == 61 and page["size"] == 3 and len(page["inventoryItems"]) == 25
    assert page["next"].endswith("limit=25&offset=1")
    skus = [i["sku"] for i in page["inventoryItems"]]
    while "next" in page:
        page = client.get(page["next"], headers=headers).json()
        skus += [i["sku"] for i in page["inventoryItems"]]
    assert len(skus) == len(set(skus)) == 61 and skus[-1] == "MS-TAMPER-01"
    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404

    bulk = client.post(f"{INVENTORY}/bulk_get_inventory_item", headers=headers,
                       json={"requests": [{"sku": state.catalogue.sku(0)}, {"sku": "NOPE-1"}]})
    assert bulk.status_code == 207
    assert [r["statusCode"] for r in bulk.json()["responses"]] == [200, 404]


def test_bulk_update_price_quantity_answers_200_or_207_with_per_item_results(sim):
    state, client, headers = sim
    sku_a, sku_b = state.catalogue.sku(1), state.catalogue.sku(2)
    offer_a = client.get(f"{INVENTORY}/offer", params={"sku": sku_a}, headers=headers).json()["offers"][0]["offerId"]
    offer_b = state.offer_ids(sku_b)[0]
    url = f"{INVENTORY}/bulk_update_price_quantity"
    ok = client.post(url, headers=headers, json={"requests": [
        {"sku": sku_a, "shipToLocationAvailability": {"quantity": 40},
         "offers": [{"offerId": offer_a, "availableQuantity": 30, "price": {"value": "24.99", "currency": "EUR"}}]},
        {"sku": sku_b, "shipToLocationAvailability": {"quantity": 0}}]})
    assert ok.status_code == 200
    assert ok.json() == {"responses": [{"offerId": offer_a, "sku": sku_a, "statusCode": 200},
                                       {"sku": sku_b, "statusCode": 200}]}
    assert client.get(f"{INVENTORY}/inventory_item/{sku_a}", headers=headers).json()["availability"] == {
        "shipToLocationAvailability": {"quantity": 40}}
    offer = client.get(f"{INVENTORY}/offer", params={"sku": sku_a}, headers=headers).json()["offers"][0]
    assert offer["availableQuantity"] == 30 and offer["pricingSummary"]["price"] == {"value": "24.99",
                                                                                     "currency": "EUR"}
    assert state.listing_quantity(sku_a) == 30 and state.listing_quantity(sku_b) == 0

    rejected, gone = state.catalogue.sku(4), state.catalogue.sku(5)
    state.reject_sku(rejected, status=500, error_id=25001, message="A system error has occurred.")
    state.forget_offer(state.offer_ids(gone)[0])
    partial = client.post(url, headers=headers, json={"requests": [
        {"sku": sku_a, "shipToLocationAvailability": {"quantity": 7}},
        {"sku": rejected, "shipToLocationAvailability": {"quantity": 1}},
        {"sku": "NOT-A-SKU", "shipToLocationAvailability": {"quantity": 1}},
        {"sku": sku_b, "shipToLocationAvailability": {"quantity": -5}},
        {"sku": gone, "offers": [{"offerId": "5000000000000", "availableQuantity": 1}]},
        {"sku": sku_b, "offers": [{"offerId": offer_b, "price": {"value": "9.999", "currency": "EUR"}},
                                  {"offerId": offer_a, "availableQuantity": 1}]}]})
    assert partial.status_code == 207
    responses = partial.json()["responses"]
    assert [(r["sku"], r["statusCode"]) for r in responses] == [
        (sku_a, 200), (rejected, 500), ("NOT-A-SKU", 400), (sku_b, 400), (gone, 400), (sku_b, 400), (sku_b, 400)]
    assert [r["errors"][0]["errorId"] for r in responses[1:]] == [25001, 25702, 25709, 25713, 25709, 25709]
    assert responses[3]["errors"][0] == {"errorId": 25709, "domain": "API_INVENTORY", "subdomain": "Selling",
                                         "category": "REQUEST", "message": "Invalid value for quantity.",
                                         "parameters": [{"name": "0", "value": "quantity"}]}
    assert state.item_quantity(sku_a) == 7 and state.item_quantity(sku_b) == 0  # successes applied, failures not
    too_many = client.post(url, headers=headers, json={"requests": [{"sku": sku_a}] * 26})
    assert too_many.status_code == 400 and _error_ids(too_many) == [25709]
    assert state.stats()["bulk_items_failed"] == 6

    # The daily revision limit of a listing (250 per the contract) shows per item.
    state.revision_limit = 1
    state.reset_quotas()  # a new day
    limited = client.post(url, headers=headers, json={"requests": [
        {"sku": sku_a, "offers": [{"offerId": offer_a, "availableQuantity": 2}]},
        {"sku": sku_a, "offers": [{"offerId": offer_a, "availableQuantity": 3}]}]})
    assert limited.status_code == 207 and [r["statusCode"] for r in limited.json()["responses"]] == [200, 400]


# ------------------------------------------------------------------------------------------------ quotas
def test_daily_quota_answers_429_with_and_without_retry_after(sim):
    state, client, headers = sim
    state.set_quota("fulfillment", 3)
    for _ in range(3):
        assert client.get(ORDERS, headers=headers, params={"limit": 1}).status_code == 200
    over = client.get(ORDERS, headers=headers)
    assert over.status_code == 429 and "retry-after" not in over.headers
    assert over.json() == {"errors": [{"errorId": 2001, "domain": "ACCESS", "category": "REQUEST",
                                       "message": "Too many requests.",
                                       "longMessage": "The request limit has been reached for the resource."}]}
    # Other APIs have their own quota.
    assert client.get(f"{INVENTORY}/inventory_item", headers=headers).status_code == 200
    state.quota_retry_after = 30
    assert client.get(ORDERS, headers=headers).headers["retry-after"] == "30"
    state.quota_retry_after = "reset"  # the seconds until midnight Pacific time
    assert 0 < int(client.get(ORDERS, headers=headers).headers["retry-after"]) <= 25 * 3600
    usage = client.get("/developer/analytics/v1_beta/user_rate_limit/", headers=headers)
    assert usage.status_code == 200  # no user quota set: nothing listed
    stats = state.stats()
    assert stats["quota_rejections"] == 3
    assert {"per": "application", "who": CLIENT_ID, "api": "fulfillment", "calls": 3} in stats["quota_usage"]
    state.reset_quotas()  # a new day
    assert client.get(ORDERS, headers=headers).status_code == 200

    # Per user, too, and visible through getUserRateLimits.
    state.set_quota("inventory", 2, per="user")
    assert client.get(f"{INVENTORY}/inventory_item", headers=headers).status_code == 200
    limits = client.get("/developer/analytics/v1_beta/user_rate_limit/", headers=headers).json()
    rate = limits["rateLimits"][0]["resources"][0]["rates"][0]
    assert limits["rateLimits"][0]["apiName"] == "inventory" and rate["count"] == 1 and rate["remaining"] == 1
    assert rate["timeWindow"] == 86400
    assert client.get(f"{INVENTORY}/inventory_item", headers=headers).status_code == 200
    assert client.get(f"{INVENTORY}/inventory_item", headers=headers).status_code == 429


# ------------------------------------------------------------------------------------------------ faults
def test_faults_5xx_429_storms_slow_and_hang(sim):
    state, client, headers = sim
    state.add_fault("http_500", target="getOrders")
    failed = client.get(ORDERS, headers=headers)
    assert failed.status_code == 500 and failed.json()["errors"][0]["errorId"] == 30500
    state.add_fault("http_500", target="inventory")
    assert client.get(ORDERS, headers=headers).status_code == 200  # aimed at another API
    broken = client.get(f"{INVENTORY}/inventory_item", headers=headers)
    assert broken.status_code == 500 and _error_ids(broken) == [25001]
    state.add_fault("http_429", count=3, target="fulfillment")
    state.add_fault("http_429", retry_after=2, target="fulfillment")
    storm = [client.get(ORDERS, headers=headers) for _ in range(5)]
    assert [r.status_code for r in storm] == [429, 429, 429, 429, 200]
    assert "retry-after" not in storm[0].headers and storm[3].headers["retry-after"] == "2"
    assert _error_ids(storm[0]) == [2001]
    state.add_fault("http_503", retry_after=5)
    unavailable = client.get(ORDERS, headers=headers)
    assert unavailable.status_code == 503 and unavailable.headers["retry-after"] == "5"
    state.add_fault("http_500", target="token")
    assert _refresh(client, state.grant()["refresh_token"]).json()["error"] == "server_error"

    state.add_fault("slow", seconds=0.3, target="getOrders")
    started = time.monotonic()
    assert client.get(ORDERS, headers=headers).status_code == 200
    assert time.monotonic() - started >= 0.3
    state.add_fault("hang", target="getOrders")
    with pytest.raises(httpx.ReadTimeout):
        client.get(ORDERS, headers=headers, timeout=0.3)
    assert client.get(ORDERS, headers=headers).status_code == 200
    assert state.stats()["faults_fired"] == {"http_500": 3, "http_429": 4, "http_503": 1, "slow": 1, "hang": 1}
    # Faults armed over HTTP on the admin route.
    armed = client.post("/_sandbox/faults", json={"kind": "http_502", "target": "getOrder"}).json()
    assert armed["faults_armed"][0]["kind"] == "http_502"
    assert client.get(f"{ORDERS}/{state.order_id(1)}", headers=headers).status_code == 502


def test_admin_routes_drive_the_state(sim):
    state, client, _ = sim
    consent = client.post("/_sandbox/grant", json={"scopes": [scope("sell.fulfillment")]}).json()
    headers = _bearer(_refresh(client, consent["refresh_token"], scope("sell.fulfillment")))
    order_id = client.post("/_sandbox/orders", json={"lines": [[state.catalogue.sku(2), 1]]}).json()["orderId"]
    assert client.get(f"{ORDERS}/{order_id}", headers=headers).json()["lineItems"][0]["sku"] == state.catalogue.sku(2)
    shipped = client.post(f"/_sandbox/orders/{order_id}/ship", json={"tracking_number": "H1234"}).json()
    assert shipped["fulfillmentId"] == "H1234"
    cancelled = client.post(f"/_sandbox/orders/{state.order_id(5)}/cancel", json={"completed": False}).json()
    assert cancelled["cancelStatus"]["cancelState"] == "IN_PROGRESS"
    assert client.post("/_sandbox/quotas", json={"api": "fulfillment", "limit": 0}).json()["quotas"][
        "fulfillment"] == 0
    assert client.get(ORDERS, headers=headers).status_code == 429
    client.post("/_sandbox/quotas", json={"api": "fulfillment", "limit": None})
    client.post("/_sandbox/expire-tokens")
    assert client.get(ORDERS, headers=headers).status_code == 401
    assert client.post("/_sandbox/orders/00-00000-00000/touch").status_code == 404
    stats = client.get("/_sandbox/stats").json()
    assert stats["orders"] == 401 and stats["requests"]["getOrders"] == 2 and stats["orders_created"] == 1


def test_seeded_data_is_deterministic():
    epoch = datetime(2026, 6, 1, tzinfo=UTC)
    one, two = (EbayState(seed=3, orders=300, skus=40, epoch=epoch), EbayState(seed=3, orders=300, skus=40,
                                                                                epoch=epoch))
    assert [one.order(one.order_id(i)) for i in (0, 150, 299)] == [two.order(two.order_id(i)) for i in (0, 150, 299)]
    assert one.search_orders("http://x", limit="200") == two.search_orders("http://x", limit="200")
    other = EbayState(seed=4, orders=300, skus=40, epoch=epoch)
    assert other.order_id(0) != one.order_id(0)
    statuses = {one.order(one.order_id(i))["orderFulfillmentStatus"] for i in range(300)}
    assert statuses == {"NOT_STARTED", "IN_PROGRESS", "FULFILLED"}


# ------------------------------------------------------------------------------------------------ scale
@pytest.mark.integration
def test_fifty_thousand_orders_start_fast_and_page_quickly():
    from marketsync.sandbox.ebay.app import create_app

    state = EbayState(seed=11, orders=50_000, clients={CLIENT_ID: CLIENT_SECRET})
    with serve_in_thread(create_app(state)) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        headers = {"Authorization": f"Bearer {state.grant()['access_token']}"}
        everything = {"filter": f"creationdate:[{stamp(state.epoch_ms - 61 * 86_400_000)}..]", "limit": 200}
        first = client.get(ORDERS, params=everything, headers=headers).json()
        assert first["total"] == 50_000
        last = client.get(ORDERS, params={**everything, "offset": 49_800}, headers=headers).json()
        assert len(last["orders"]) == 200 and "next" not in last
        assert last["orders"][-1]["orderId"] == state.order_id(49_999)
        # Every open order of the 50,000 (a filter over all of them), followed page by page.
        open_orders = f"orderfulfillmentstatus:{{NOT_STARTED|IN_PROGRESS}},{everything['filter']}"
        orders, total, _pages = _walk(client, headers, {"filter": open_orders, "limit": 200})
        assert 1_000 < total == len(orders) == len({o["orderId"] for o in orders})
        # An incremental window over the last day.
        since = stamp(state.epoch_ms - 86_400_000)
        recent, total, _ = _walk(client, headers, {"filter": f"lastmodifieddate:[{since}..]", "limit": 200})
        assert total == len(recent) > 0 and all(o["lastModifiedDate"] >= since for o in recent)


# ---------------------------------------------------------------------------------------------- examples
def _shape(value):
    """The JSON shape of `value`: dict keys -> shapes, a list -> the merged shape of its elements."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        merged: dict | str | None = None
        for element in value:
            merged = _merge(merged, _shape(element))
        return [merged] if merged is not None else []
    return "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__


def _merge(a, b):
    if a is None:
        return b
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: _merge(a.get(k), b.get(k)) for k in {*a, *b}}
    if isinstance(a, list) and isinstance(b, list):
        return [_merge(a[0] if a else None, b[0] if b else None)] if a or b else []
    return a


def _missing(expected, actual, path: str = "$", optional: frozenset = frozenset()) -> list[str]:
    """Paths of `expected`'s shape absent from (or typed differently in) `actual`'s shape."""
    if path in optional:
        return []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [path]
        return [p for k, v in expected.items() for p in
                ([f"{path}.{k}"] if k not in actual and f"{path}.{k}" not in optional
                 else _missing(v, actual.get(k), f"{path}.{k}", optional) if k in actual else [])]
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [path]
        if not expected or not actual:
            return []
        return _missing(expected[0], actual[0], f"{path}[]", optional)
    return [] if expected == actual else [f"{path} ({expected} vs {actual})"]


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="../shared/specs/ebay/examples is not there")
def test_answers_have_the_shape_of_the_contract_examples(sim):
    state, client, headers = sim
    load = lambda name: json.loads((EXAMPLES / name).read_text())  # noqa: E731

    oauth = load("oauth_and_errors.examples.json")
    consent = state.grant()
    assert set(consent) == set(oauth["authorization_code_grant_response"])
    assert consent["token_type"] == oauth["authorization_code_grant_response"]["token_type"]
    request = oauth["refresh_token_grant_request"]
    refreshed = client.post(urlsplit(request["url_production"]).path, auth=(CLIENT_ID, CLIENT_SECRET),
                            data={**request["form"], "refresh_token": consent["refresh_token"]})
    assert refreshed.status_code == 200
    assert set(refreshed.json()) == set(oauth["refresh_token_grant_response"])
    assert refreshed.json()["token_type"] == oauth["refresh_token_grant_response"]["token_type"]
    assert refreshed.json()["expires_in"] == oauth["refresh_token_grant_response"]["expires_in"]
    headers = _bearer(refreshed)
    bad_filter = client.get(ORDERS, params={"filter": "fieldname:[x..]"}, headers=headers)
    expected = oauth["getOrders_400_invalid_filter"]
    assert bad_filter.status_code == expected["status"]
    assert _missing(_shape(expected["body"]), _shape(bad_filter.json())) == []
    assert _error_ids(bad_filter) == [e["errorId"] for e in expected["body"]["errors"]]

    orders = load("fulfillment_getOrders.example.json")
    split = urlsplit(orders["request"]["url"])
    answer = client.get(f"{split.path}?{split.query}", headers=headers)
    assert answer.status_code == orders["response_status"]
    body = answer.json()
    assert "%5B" in body["href"] and "%7BNOT_STARTED%7CIN_PROGRESS%7D" in body["href"] and body["limit"] == 50
    assert {o["orderFulfillmentStatus"] for o in body["orders"]} <= {"NOT_STARTED", "IN_PROGRESS"}
    # What the example has but this page may lack: a next page, e-mails (orders older than 14 days have none).
    optional = frozenset({"$.next", "$.orders[].buyer.buyerRegistrationAddress.email",
                          "$.orders[].fulfillmentStartInstructions[].shippingStep.shipTo.email"})
    assert _missing(_shape(orders["response"]), _shape(body), optional=optional) == []
    recent = {"filter": f"creationdate:[{stamp(state.epoch_ms - 10 * 86_400_000)}..]", "limit": 200}
    page = client.get(ORDERS, params=recent, headers=headers).json()
    assert _missing(_shape(orders["response"]["orders"]), _shape(page["orders"])) == []

    shipping = load("fulfillment_createShippingFulfillment.example.json")
    order = _open_order(state)
    sent = {**shipping["request"]["body"],
            "lineItems": [{"lineItemId": order["lineItems"][0]["lineItemId"], "quantity": 1}],
            "shippedDate": stamp(int(time.time() * 1000) - 3_600_000)}
    path = urlsplit(shipping["request"]["url"]).path.replace("13-00000-00001", order["orderId"])
    created = client.post(path, json=sent, headers=headers)
    assert created.status_code == shipping["response_status"] and created.json() == shipping["response"]
    assert urlsplit(created.headers["location"]).path == urlsplit(
        shipping["response_headers"]["Location"]).path.replace("13-00000-00001", order["orderId"])
    followup = client.get(created.headers["location"], headers=headers).json()
    assert _missing(_shape(shipping["followup_getShippingFulfillment_response"]), _shape(followup)) == []
    assert set(followup) == set(shipping["followup_getShippingFulfillment_response"])

    bulk = load("inventory_bulkUpdatePriceQuantity.example.json")
    sku = state.catalogue.sku(1)
    offer_id = state.offer_ids(sku)[0]
    requested = json.loads(json.dumps(bulk["request"]["body"]).replace("SKU-ABC-001", sku)
                           .replace("5000000000001", offer_id).replace('"USD"', '"EUR"'))
    updated = client.post(urlsplit(bulk["request"]["url"]).path, json=requested, headers=headers)
    assert updated.status_code == bulk["response_status"]
    assert updated.json() == json.loads(json.dumps(bulk["response"]).replace("SKU-ABC-001", sku)
                                        .replace("5000000000001", offer_id))
    requested["requests"][0]["shipToLocationAvailability"]["quantity"] = -1
    partial = client.post(urlsplit(bulk["request"]["url"]).path, json=requested, headers=headers)
    assert partial.status_code == bulk["partial_failure_response_status"]
    assert partial.json() == json.loads(json.dumps(bulk["partial_failure_response"]).replace("SKU-ABC-001", sku))

    item = load("inventory_createOrReplaceInventoryItem.example.json")
    put = client.put(urlsplit(item["request"]["url"]).path, json=item["request"]["body"],
                     headers={**headers, "Content-Language": item["request"]["headers"]["Content-Language"]})
    assert put.status_code == item["response_status"]
    listed = client.get(f"{INVENTORY}/inventory_item", params={"limit": 200}, headers=headers).json()
    assert _missing(_shape(item["getInventoryItems_paged_response_shape"]), _shape(listed)) == []
    mine = [i for i in listed["inventoryItems"] if i["sku"] == "SKU-ABC-001"]
    assert mine[0]["locale"] == "en_US" and mine[0]["availability"] == item["request"]["body"]["availability"]

    state.set_quota("fulfillment", 0)
    limited = client.get(ORDERS, headers=headers)
    assert limited.status_code == oauth["rate_limited_429"]["status"]
    assert limited.json() == oauth["rate_limited_429"]["body"]
