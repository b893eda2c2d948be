"""The JTL-FFN sandbox itself, over raw HTTP: the OAuth token endpoint (Basic auth, code and refresh
grants, single-use refresh tokens and family revocation, no client credentials grant), the merchant
routes and their paging, outbound creation and its duplicate-key rule, the test hooks (shipping,
receiving), faults, the seeded data (deterministic, 100,000 jfskus in well under a second or two),
and conformance of every generated field name with the public FFN OpenAPI document."""
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from marketsync.sandbox.http import serve_in_thread
from marketsync.sandbox.jtl_ffn.data import Catalogue, ean13
from marketsync.sandbox.jtl_ffn.state import JtlFfnState

CLIENT_ID = "sim-app"
CLIENT_SECRET = "sim/secret+1="
API = "/api/v1/merchant"
SPECS = Path(__file__).resolve().parents[2] / "shared" / "specs" / "jtl_ffn"


@pytest.fixture
def sim():
    """(state, httpx client on the simulator, bearer headers of a fresh authorisation)."""
    from marketsync.sandbox.jtl_ffn.app import create_app

    state = JtlFfnState(seed=5, size=500, clients={CLIENT_ID: CLIENT_SECRET}, updates_page_size=7)
    with serve_in_thread(create_app(state)) as server, httpx.Client(base_url=server.base_url) as client:
        tokens = state.grant()
        yield state, client, {"Authorization": f"Bearer {tokens['access_token']}"}


def _token(client: httpx.Client, auth=(CLIENT_ID, CLIENT_SECRET), **form) -> httpx.Response:
    return client.post("/token", data=form, auth=auth)


def _error_code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"errorCode", "errorMessages", "errorMetadata"}
    assert all(isinstance(m["message"], str) for m in body["errorMessages"])
    return body["errorCode"]["code"]


def _outbound(state: JtlFfnState, number: str, **overrides) -> dict:
    return {"merchantOutboundNumber": number, "warehouseId": state.warehouses[1]["warehouseId"],
            "shippingAddress": {"lastname": "Weber", "street": "Rue de la Gare 3", "city": "Esch-sur-Alzette",
                                "zip": "4001", "country": "LU"},
            "items": [{"jfsku": state.catalogue.jfsku(1), "quantity": 2},
                      {"jfsku": state.catalogue.jfsku(2), "quantity": 1}],
            **overrides}


# ------------------------------------------------------------------------------------------- OAuth
def test_token_endpoint_rotates_refresh_tokens_and_revokes_a_family_on_reuse(sim):
    state, client, _ = sim
    first = state.grant()
    refreshed = _token(client, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert refreshed.status_code == 200 and refreshed.headers["cache-control"] == "no-store"
    pair = refreshed.json()
    assert set(pair) == {"token_type", "expires_in", "access_token", "refresh_token"}
    assert pair["token_type"] == "Bearer" and pair["expires_in"] == 1800
    assert pair["refresh_token"] != first["refresh_token"] and pair["refresh_token"].startswith("def50200")
    assert client.get(f"{API}/warehouses",
                      headers={"Authorization": f"Bearer {pair['access_token']}"}).status_code == 200

    reused = _token(client, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    # The whole family is gone: the newer refresh token and its access token too.
    assert state.refresh_token_status(pair["refresh_token"]) == "revoked"
    assert _token(client, grant_type="refresh_token", refresh_token=pair["refresh_token"]).status_code == 400
    denied = client.get(f"{API}/warehouses", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert denied.status_code == 401 and _error_code(denied) == "Shared_Unauthorized"
    assert denied.headers["www-authenticate"].startswith("Bearer")
    stats = state.stats()
    assert stats["refresh_reuse_detected"] == 1 and stats["families_revoked"] == 1


def test_token_endpoint_checks_the_client_and_the_grant(sim):
    state, client, _ = sim
    refresh_token = state.grant()["refresh_token"]
    wrong = _token(client, auth=(CLIENT_ID, "nope"), grant_type="refresh_token", refresh_token=refresh_token)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    no_basic = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token})
    assert no_basic.status_code == 401
    credentials = _token(client, grant_type="client_credentials")
    assert credentials.status_code == 401 and credentials.json()["error"] == "unauthorized_client"
    assert _token(client, grant_type="password").json()["error"] == "unsupported_grant_type"
    assert _token(client, grant_type="refresh_token", refresh_token="def50200nothing").status_code == 400
    assert state.refresh_token_status(refresh_token) == "valid"  # refused requests spent nothing

    code = state.authorize(redirect_uri="http://127.0.0.1/ffn/callback")
    mismatch = _token(client, grant_type="authorization_code", code=code, redirect_uri="http://127.0.0.1/other")
    assert mismatch.status_code == 400 and mismatch.json()["error"] == "invalid_grant"  # and the code is spent
    code = state.authorize(redirect_uri="http://127.0.0.1/ffn/callback")
    granted = _token(client, grant_type="authorization_code", code=code, redirect_uri="http://127.0.0.1/ffn/callback")
    assert granted.status_code == 200 and granted.json()["refresh_token"]
    again = _token(client, grant_type="authorization_code", code=code, redirect_uri="http://127.0.0.1/ffn/callback")
    assert again.status_code == 400


def test_access_tokens_expire_after_expires_in(sim):
    state, client, _ = sim
    state.token_ttl = 0.2
    pair = state.grant()
    assert pair["expires_in"] == 0.2
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    assert client.get(f"{API}/warehouses", headers=headers).status_code == 200
    time.sleep(0.25)
    expired = client.get(f"{API}/warehouses", headers=headers)
    assert expired.status_code == 401 and "expired" in expired.json()["errorMessages"][0]["message"]
    assert client.get(f"{API}/warehouses").status_code == 401


def test_a_read_only_authorisation_cannot_create_outbounds(sim):
    state, client, _ = sim
    read_only = state.grant(scopes=("ffn.merchant.read",))
    headers = {"Authorization": f"Bearer {read_only['access_token']}"}
    assert client.get(f"{API}/outbounds", headers=headers).status_code == 200
    refused = client.post(f"{API}/outbounds", json=_outbound(state, "RO-1"), headers=headers)
    assert refused.status_code == 403 and _error_code(refused) == "Shared_OperationForbidden"


# ------------------------------------------------------------------------------------------- paging
def test_paged_lists_follow_the_documented_shape(sim):
    _state, client, headers = sim
    first = client.get(f"{API}/products", params={"$top": 200}, headers=headers).json()
    assert set(first) == {"items", "_page", "_links", "nextPageLink", "count"}
    assert first["_page"] == {"total": 500, "limit": 200, "offset": 0} and first["count"] == 200
    assert first["nextPageLink"] == "?$top=200&$skip=200" == first["_links"]["next"]
    last = client.get(f"{API}/products{'?$top=200&$skip=400'}", headers=headers).json()
    assert last["count"] == 100 and "nextPageLink" not in last and last["_links"]["previous"] == "?$top=200&$skip=200"
    default = client.get(f"{API}/stocks", headers=headers).json()
    assert default["_page"]["limit"] == 50
    for bad in ({"$top": 201}, {"$top": 0}, {"$skip": -1}, {"$top": "ten"}):
        refused = client.get(f"{API}/stocks", params=bad, headers=headers)
        assert refused.status_code == 400 and _error_code(refused) == "Shared_ModelValidation"


def test_filters_combine_and_links_keep_them(sim):
    state, client, headers = sim
    number = state.outbounds[3]["merchantOutboundNumber"]
    found = client.get(f"{API}/outbounds", params={"$filter": f"merchantOutboundNumber eq '{number}'"},
                       headers=headers).json()
    assert [o["merchantOutboundNumber"] for o in found["items"]] == [number]
    shipped = client.get(f"{API}/outbounds", params={"$filter": "status eq 'Shipped' and currency eq 'EUR'"},
                         headers=headers)
    assert shipped.status_code == 400  # currency is not a filterable field
    page = client.get(f"{API}/outbounds", params={"$filter": "status eq 'Shipped'", "$top": 3}, headers=headers).json()
    assert {o["status"] for o in page["items"]} == {"Shipped"} and "%24filter" not in page["nextPageLink"]
    assert page["nextPageLink"].startswith("?$filter=status%20eq%20%27Shipped%27&$top=3&$skip=3")
    quoted = client.get(f"{API}/products", params={"$filter": "name eq 'Zoë''s Café Grinder'"}, headers=headers)
    assert quoted.status_code == 200
    jfsku = state.catalogue.jfsku(17)
    by_item = client.get(f"{API}/stocks", params={"$filter": f"jfsku eq '{jfsku}'"}, headers=headers).json()
    assert [s["jfsku"] for s in by_item["items"]] == [jfsku]
    assert client.get(f"{API}/stocks", params={"$filter": "jfsku eq"}, headers=headers).status_code == 400


def test_one_hundred_thousand_jfskus_are_quick_and_distinct():
    started = time.perf_counter()
    state = JtlFfnState(seed=9, size=100_000)
    made = time.perf_counter() - started
    catalogue = state.catalogue
    jfskus = [catalogue.jfsku(i) for i in range(100_000)]
    assert len(set(jfskus)) == 100_000 and {len(j) for j in jfskus} == {11}
    assert all(catalogue.index_of(jfskus[i]) == i for i in range(0, 100_000, 997))
    assert catalogue.index_of("MSYN01ZZZZZ") is None or catalogue.index_of("MSYN01ZZZZZ") < 100_000
    page, total = state.list_page("stocks", 200, 99_900, None)
    assert total == 100_000 and [s["jfsku"] for s in page] == jfskus[99_900:]
    assert time.perf_counter() - started < 5 and made < 3


def test_seeded_data_is_deterministic_and_a_prefix_of_larger_catalogues():
    small, large, other = Catalogue(3, 100), Catalogue(3, 1000), Catalogue(4, 100)
    assert [small.product(i) for i in range(100)] == [large.product(i) for i in range(100)]
    assert small.product(0) != other.product(0)
    assert JtlFfnState(seed=3, size=300).outbounds == JtlFfnState(seed=3, size=300).outbounds
    assert ean13(400638133393) == "4006381333931"
    state = JtlFfnState(seed=3, size=2000)
    statuses = {o["status"] for o in state.outbounds}
    assert {"Shipped", "PartiallyShipped", "Pending", "Canceled"} <= statuses
    for outbound in state.outbounds:
        shipped = sum(i["quantity"] for n in state.outbound_notices[outbound["outboundId"]] for i in n["items"])
        assert shipped == sum(i["quantity"] - i["quantityOpen"] for i in outbound["items"])
    assert {i["status"] for i in state.inbounds} >= {"Pending", "Receipted"}
    stock = state.stock_of(5)
    assert stock["stockLevelReserved"] == sum(d["quantityReserved"] for d in stock["stockReservedDetails"])


# ------------------------------------------------------------------------------------------- outbounds
def test_creating_an_outbound_reserves_stock_and_a_repeat_is_a_duplicate_key(sim):
    state, client, headers = sim
    jfsku = state.catalogue.jfsku(1)
    before = client.get(f"{API}/stocks/{jfsku}", headers=headers).json()
    created = client.post(f"{API}/outbounds", json=_outbound(state, "WEB-1001"), headers=headers)
    assert created.status_code == 201
    outbound = created.json()
    assert outbound["status"] == "Pending" and outbound["outboundId"].startswith("MSYN02")
    assert [(i["outboundItemId"], i["quantityOpen"]) for i in outbound["items"]] == [("1", 2), ("2", 1)]
    assert outbound["items"][0]["merchantSku"] == state.catalogue.product(1)["merchantSku"]
    after = client.get(f"{API}/stocks/{jfsku}", headers=headers).json()
    assert after["stockLevelReserved"] == before["stockLevelReserved"] + 2
    assert {"outboundId": outbound["outboundId"], "outboundItemId": "1",
            "quantityReserved": 2} in after["stockReservedDetails"]

    repeat = client.post(f"{API}/outbounds", json=_outbound(state, "WEB-1001", items=[{"jfsku": jfsku, "quantity": 9}]),
                         headers=headers)
    assert repeat.status_code == 400 and _error_code(repeat) == "Shared_DuplicateKey"
    assert repeat.json()["errorMetadata"] == {"MerchantOutboundNumber": "WEB-1001"}
    assert sum(1 for o in state.outbounds if o["merchantOutboundNumber"] == "WEB-1001") == 1
    fetched = client.get(f"{API}/outbounds/{outbound['outboundId']}", headers=headers).json()
    assert fetched == outbound


def test_outbound_validation_answers_in_the_error_shape(sim):
    state, client, headers = sim
    cases = [
        ({"items": [], "currency": "EURO", "shippingAddress": {"street": "x", "city": "y", "country": "Lux"}},
         400, "Shared_ModelValidation"),
        ({"warehouseId": "FLFX04XX-00000-0009"}, 404, "Warehouses_WarehouseNotFound"),
        ({"items": [{"jfsku": "MSYN01ZZZZZ", "quantity": 1}]}, 400, "Products_ProductsNotFound"),
        ({"shippingType": "Standard", "shippingMethodId": state.shipping_methods[0]["shippingMethodId"]},
         400, "Outbounds_OutboundShippingMethodAndShippingTypeSet"),
    ]
    for number, (overrides, status, code) in enumerate(cases):
        refused = client.post(f"{API}/outbounds", json=_outbound(state, f"BAD-{number}", **overrides), headers=headers)
        assert (refused.status_code, _error_code(refused)) == (status, code)
    problems = client.post(f"{API}/outbounds", json=_outbound(state, "BAD-0", **cases[0][0]), headers=headers).json()
    assert len(problems["errorMessages"]) >= 4
    assert client.post(f"{API}/outbounds", content=b"{not json", headers=headers).status_code == 400
    assert state.stats()["outbounds_created"] == 0
    missing = client.get(f"{API}/outbounds/MSYN02NONE", headers=headers)
    assert missing.status_code == 404 and _error_code(missing) == "Outbounds_OutboundNotFound"


def test_the_ship_hook_makes_partial_then_full_shipping_notifications(sim):
    state, client, headers = sim
    outbound = client.post(f"{API}/outbounds", json=_outbound(state, "WEB-2002"), headers=headers).json()
    first_jfsku, second_jfsku = state.catalogue.jfsku(1), state.catalogue.jfsku(2)
    level = client.get(f"{API}/stocks/{first_jfsku}", headers=headers).json()["stockLevel"]
    partial = client.post(f"/_sandbox/outbounds/{outbound['outboundId']}/ship",
                          json={"items": {first_jfsku: 1}, "tracking_number": "1Z999AA10123456784",
                                "shipping_method_id": state.shipping_methods[2]["shippingMethodId"]}).json()
    assert partial["outboundStatus"] == "PartiallyShipped"
    assert [(i["jfsku"], i["quantity"]) for i in partial["items"]] == [(first_jfsku, 1)]
    package = partial["packages"][0]
    assert package["trackingUrl"] == "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    assert package["identifier"] == [{"value": "1Z999AA10123456784", "identifierType": "TrackingId", "name": "UPS"}]
    assert client.get(f"{API}/stocks/{first_jfsku}", headers=headers).json()["stockLevel"] == level - 1

    state.ship(outbound["outboundId"])  # the rest
    notices = client.get(f"{API}/outbounds/{outbound['outboundId']}/shipping-notifications", headers=headers).json()
    assert [n["outboundStatus"] for n in notices] == ["PartiallyShipped", "Shipped"]
    assert sorted((i["jfsku"], i["quantity"]) for i in notices[1]["items"]) == sorted(
        [(first_jfsku, 1), (second_jfsku, 1)])
    shipped = client.get(f"{API}/outbounds/{outbound['outboundId']}", headers=headers).json()
    assert shipped["status"] == "Shipped" and shipped["statusTimestamp"]["shipped"]
    assert all(i["quantityOpen"] == 0 for i in shipped["items"])
    again = client.post(f"/_sandbox/outbounds/{outbound['outboundId']}/ship", json={})
    assert again.status_code == 403 and _error_code(again) == "Outbounds_OutboundShippingNotificationStatusForbidden"
    fresh = client.post(f"{API}/outbounds", json=_outbound(state, "WEB-2003"), headers=headers).json()
    too_many = client.post(f"/_sandbox/outbounds/{fresh['outboundId']}/ship", json={"items": {first_jfsku: 5}})
    assert _error_code(too_many) == "Outbounds_OutboundShippingNotificationNotEnoughQuantityOpen"


def test_the_receive_hook_turns_announced_stock_into_stock(sim):
    state, client, headers = sim
    inbound = next(i for i in state.inbounds if i["status"] == "Pending")
    item = inbound["items"][0]
    before = client.get(f"{API}/stocks/{item['jfsku']}", headers=headers).json()
    received = client.post(f"/_sandbox/inbounds/{inbound['inboundId']}/receive",
                           json={"items": {item["jfsku"]: item["quantity"]}}).json()
    after = client.get(f"{API}/stocks/{item['jfsku']}", headers=headers).json()
    assert after["stockLevel"] == before["stockLevel"] + item["quantity"]
    assert after["stockLevelAnnounced"] == before["stockLevelAnnounced"] - item["quantity"]
    expected = "Receipted" if len(inbound["items"]) == 1 else "PartiallyReceipted"
    assert received["status"] == expected and received["items"][0]["quantityOpen"] == 0
    notices = client.get(f"{API}/inbounds/{inbound['inboundId']}/shipping-notifications", headers=headers).json()
    assert notices[0]["packages"][0]["carrierName"]
    assert notices[0]["merchantInboundNumber"] == inbound["merchantInboundNumber"]


def test_updates_lists_changes_in_chunks(sim):
    state, client, headers = sim
    since = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    numbers = [client.post(f"{API}/outbounds", json=_outbound(state, f"UPD-{k}"), headers=headers).json()["outboundId"]
               for k in range(10)]
    time.sleep(0.002)  # windows end before the current millisecond: what changes in it comes next time
    first = client.get(f"{API}/outbounds/updates", params={"fromDate": since}, headers=headers).json()
    assert first["moreDataAvailable"] and len(first["data"]) == 7
    second = client.get(first["nextChunkUrl"], headers=headers).json()
    assert not second["moreDataAvailable"] and second["nextChunkUrl"] is None
    assert [o["outboundId"] for o in first["data"] + second["data"]] == numbers
    history = client.get(f"{API}/outbounds/updates", params={"fromDate": "2020-01-01T00:00:00+00:00",
                                                            "toDate": "2020-02-01T00:00:00Z"}, headers=headers).json()
    assert history["data"] == [] and history["from"].startswith("2020-01-01")
    bad = client.get(f"{API}/inbounds/updates", params={"fromDate": "yesterday"}, headers=headers)
    assert bad.status_code == 400 and _error_code(bad) == "Shared_ModelValidation"


# ------------------------------------------------------------------------------------------- faults
def test_faults_answer_in_the_error_shape_with_retry_after(sim):
    state, client, headers = sim
    client.post("/_sandbox/faults", json=[{"kind": "http_429", "retry_after": 2, "target": "stocks"},
                                         {"kind": "http_503", "retry_after": 1.5, "target": "api"},
                                         {"kind": "http_500", "target": "token"}])
    limited = client.get(f"{API}/stocks", headers=headers)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    assert _error_code(limited) == "Shared_TooManyRequests"
    unavailable = client.get(f"{API}/warehouses", headers=headers)
    assert unavailable.status_code == 503 and unavailable.headers["retry-after"] == "1.5"
    broken = _token(client, grant_type="refresh_token", refresh_token=state.grant()["refresh_token"])
    assert broken.status_code == 500 and _error_code(broken) == "Shared_InternalServerError"
    state.add_fault("http_502", target="products")
    assert client.get(f"{API}/products", headers=headers).headers["content-type"].startswith("text/html")
    state.add_fault("lost_response", target="create_outbound")
    lost = client.post(f"{API}/outbounds", json=_outbound(state, "LOST-1"), headers=headers)
    assert lost.status_code == 502 and state.outbound_by_number("LOST-1") is not None
    state.add_fault("expire_tokens", target="warehouses")
    assert client.get(f"{API}/warehouses", headers=headers).status_code == 401
    stats = client.get("/_sandbox/stats").json()
    assert stats["faults_fired"] == {"http_429": 1, "http_503": 1, "http_500": 1, "http_502": 1,
                                     "lost_response": 1, "expire_tokens": 1}
    assert client.post("/_sandbox/faults", json={"kind": "nope"}).status_code == 400


def test_admin_grant_and_reset_over_http(sim):
    state, client, _ = sim
    pair = client.post("/_sandbox/grant", json={}).json()
    assert state.refresh_token_status(pair["refresh_token"]) == "valid"
    code = client.post("/_sandbox/authorize", json={}).json()["code"]
    assert _token(client, grant_type="authorization_code", code=code).status_code == 200
    adjusted = client.post(f"/_sandbox/stocks/{state.catalogue.jfsku(3)}/adjust",
                           json={"warehouse_id": state.warehouses[2]["warehouseId"], "delta": 7}).json()
    assert state.warehouses[2]["warehouseId"] in {w["warehouseId"] for w in adjusted["warehouses"]}
    assert client.post("/_sandbox/reset", json={"seed": 6, "size": 50}).json() == {"seed": 6, "size": 50}
    assert state.refresh_token_status(pair["refresh_token"]) == "unknown"


@pytest.mark.integration
def test_runs_standalone():
    done = subprocess.run([sys.executable, "-m", "marketsync.sandbox.jtl_ffn", "--help"], capture_output=True,
                          text=True, timeout=60, cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0 and "--client-secret" in done.stdout and "--token-ttl" in done.stdout


# ------------------------------------------------------------------------------------------- conformance
def test_simulator_conforms_to_the_public_ffn_schemas():
    """Every field the simulator serves is one the public OpenAPI document names for that schema,
    and the routes' facts (paging parameters, status enums) match it. Skips without ../shared."""
    swagger = SPECS / "fulfiller_swagger_kruegge82.json"
    if not swagger.exists():
        pytest.skip("public JTL FFN facts (../shared/specs/jtl_ffn) are not present")
    document = json.loads(swagger.read_text())
    schemas = document["components"]["schemas"]

    def check(obj: dict, name: str) -> None:
        schema = schemas[name]
        allowed = set(schema.get("properties", {})) | set(schema.get("required", []))
        assert set(obj) <= allowed, (name, set(obj) - allowed)
        for key, value in obj.items():
            ref = schema.get("properties", {}).get(key, {})
            target = ref.get("$ref") or ref.get("items", {}).get("$ref")
            if target is None or value is None:
                continue
            child = target.rsplit("/", 1)[1]
            if schemas[child].get("enum"):
                assert value in schemas[child]["enum"], (name, key, value)
            elif isinstance(value, dict):
                check(value, child)
            elif isinstance(value, list):
                for element in value:
                    if isinstance(element, dict):
                        check(element, child)

    state = JtlFfnState(seed=2, size=400)
    check(state.catalogue.product(3), "ProductPageItem")
    check(state.stock_of(next(i for i in range(400) if state.stock_of(i)["stockReservedDetails"])), "Stock")
    for outbound in state.outbounds[:60]:
        check(outbound, "Outbound")
        for notice in state.outbound_notices[outbound["outboundId"]]:
            check(notice, "OutboundShippingNotification")
    for inbound in state.inbounds:
        check(inbound, "Inbound")
        for notice in state.inbound_notices[inbound["inboundId"]]:
            check(notice, "InboundShippingNotification")
    for warehouse in state.warehouses:
        check(warehouse, "Warehouse")
    for method in state.shipping_methods:
        check(method, "ShippingMethod")
    page, total = state.list_page("outbounds", 2, 0, None)
    check({"items": page, "_page": {"total": total, "limit": 2, "offset": 0}, "count": 2}, "PagedOutboundResponse")
    error = {"errorCode": {"code": "x", "description": "y"}, "errorMessages": [{"message": "z"}]}
    check(error, "ErrorResponse")
    fulfiller_outbounds = document["paths"]["/api/v1/fulfiller/outbounds"]["get"]
    assert {p["name"] for p in fulfiller_outbounds["parameters"]} >= {"$top", "$skip", "$filter"}
    updates = document["paths"]["/api/v1/fulfiller/outbounds/updates"]["get"]
    assert {p["name"] for p in updates["parameters"]} >= {"fromDate", "toDate", "page"}
    assert set(schemas["RecentOutboundList"]["properties"]) == {"nextChunkUrl", "from", "to", "data",
                                                                "moreDataAvailable"}
    examples = json.loads((SPECS / "error_examples_from_spec.json").read_text())["examples"]
    for code in ("Shared_ModelValidation", "Shared_DuplicateKey", "Products_ProductNotFound",
                 "Products_ProductsNotFound", "Warehouses_WarehouseNotFound", "Inbounds_InboundNotFound",
                 "Shared_OperationForbidden",
                 "Outbounds_OutboundShippingMethodAndShippingTypeSet",
                 "Outbounds_OutboundShippingNotificationNotEnoughQuantityOpen",
                 "Outbounds_OutboundShippingNotificationStatusForbidden"):
        assert code in examples, code
    assert "errorMetadata" in examples["Shared_ModelValidation"]["value"]  # the spelling the examples use
    oauth = json.loads((SPECS / "oauth_token_response_example.json").read_text())
    assert set(oauth["response"]) == set(state.grant())
