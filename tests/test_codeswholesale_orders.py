"""CodesWholesale orders: buying keys through the real client against the simulator on loopback.

What matters is money: an order is charged once when it is placed, and an order whose answer is lost
must be found again (by our own client order id) instead of being bought a second time. The tests
count the simulator's charges per client order id to prove it, read the codes (text, image,
pre-ordered) an order hands out, and check that a key never prints.
"""
import base64
import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from marketsync.resources.codeswholesale import (
    IMAGE,
    PRE_ORDER,
    TEXT,
    CodesWholesaleApi,
    CodesWholesaleError,
    CodesWholesaleResource,
    Order,
    OrderLineRequest,
    _order_from,
)
from marketsync.sandbox.codeswholesale.data import single_unit_price
from marketsync.sandbox.codeswholesale.orders import CODE_STATUS
from marketsync.sandbox.codeswholesale.state import CodesWholesaleState
from marketsync.sandbox.http import serve_in_thread

CLIENT_ID = "cws-orders-client"
CLIENT_SECRET = "$2a$10$Orders+Secret/Value=%41xyz"
SPECS = Path(__file__).resolve().parents[2] / "shared" / "specs" / "codeswholesale"


@pytest.fixture
def cws():
    """A seeded CodesWholesale simulator on loopback with 1,000.00 EUR on the account: (state, base URL)."""
    from marketsync.sandbox.codeswholesale.app import create_app

    state = CodesWholesaleState(seed=7, size=400, clients={CLIENT_ID: CLIENT_SECRET}, page_size=100, balance=1000)
    with serve_in_thread(create_app(state)) as server:
        yield state, server.base_url


def _api(base_url: str, **overrides) -> CodesWholesaleApi:
    options = {"timeout_seconds": 5, "attempts": 3, "max_retry_wait_seconds": 0.2, **overrides}
    return CodesWholesaleResource(**options).session(base_url, CLIENT_ID, CLIENT_SECRET)


def _product(state: CodesWholesaleState, kind: str = "CODE_TEXT", *, stock: int = 5, tiers: int = 1) -> dict:
    """A product of the price list with at least `stock` keys, `tiers` price tiers and codes of `kind`."""
    return next(p for p in state.products if p["productId"] and p["quantity"] >= stock and len(p["prices"]) == tiers
                and state.code_type(p["productId"]) == kind)


def _line(product: dict, quantity: int = 1, price: float | None = None) -> OrderLineRequest:
    return OrderLineRequest(product["productId"], quantity, Decimal(str(price or single_unit_price(product))))


def _window() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(minutes=5), now + timedelta(minutes=5)


# ------------------------------------------------------------------------------------------- buying
def test_place_and_read_an_order_charges_the_account_once(cws):
    state, base_url = cws
    first, second = _product(state), _product(state, stock=8, tiers=2)
    quantities = {first["productId"]: 2, second["productId"]: 1}
    expected = sum(Decimal(str(single_unit_price(p))) * quantities[p["productId"]] for p in (first, second))
    with _api(base_url) as api:
        before = api.balance()
        order = api.place_order("ms-1001", [_line(first, 2), _line(second, 1)], allow_pre_order=False)
        after = api.balance()
        again = api.get_order(order.order_id)
        code = api.get_code(order.codes[0].code_id)
    assert order.completed and order.status == "Completed" and order.client_order_id == "ms-1001"
    assert order.total_price == expected and before.total_to_use - after.total_to_use == expected
    assert after.current_balance == Decimal("1000.00") - expected and after.current_credit == Decimal("0.00")
    assert [(line.product_id, len(line.codes)) for line in order.lines] == list(quantities.items())
    key = re.compile(r"[A-Z2-9]{5}(-[A-Z2-9]{5}){2}")
    assert all(c.kind == TEXT and c.delivered and key.fullmatch(c.value.get_secret_value()) for c in order.codes)
    assert order.codes[0].link() == f"{base_url}/v3/codes/{order.codes[0].code_id}"
    assert again == order and code == order.codes[0]
    assert [c.amount for c in state.charges_for("ms-1001")] == [expected]
    # Stock goes with the keys sold; the price list the catalog reads says so.
    assert state.product(first["productId"])["quantity"] == first["quantity"] - 2


def test_the_price_charged_is_the_price_list_tier_for_the_quantity(cws):
    state, base_url = cws
    tiered = _product(state, stock=12, tiers=2)
    with _api(base_url) as api:
        listed = next(p for page in api.product_pages(product_ids=[tiered["productId"]]) for p in page)
        order = api.place_order("ms-tier", [OrderLineRequest(tiered["productId"], 10, Decimal("999"))])
    bulk = next(t for t in listed["prices"] if t["from"] == 10)
    assert order.lines[0].unit_price == Decimal(str(bulk["value"])) < Decimal(str(listed["prices"][0]["value"]))
    assert order.total_price == Decimal(str(bulk["value"])) * 10


def test_image_and_pre_ordered_codes_and_their_links(cws):
    state, base_url = cws
    image_product = _product(state, "CODE_IMAGE")
    sold_out = next(p for p in state.products if p["productId"] and p["quantity"] == 0 and p["prices"])
    with _api(base_url) as api:
        with pytest.raises(CodesWholesaleError) as refused:
            api.place_order("ms-2000", [_line(sold_out)], allow_pre_order=False)
        order = api.place_order("ms-2001", [_line(image_product), _line(sold_out, 2)], allow_pre_order=True)
        image, pre_orders = order.lines[0].codes[0], order.lines[1].codes
        assert image.kind == IMAGE and image.filename == f"{image.code_id}.png"
        assert image.image().startswith(b"\x89PNG\r\n\x1a\n") and image.link().endswith(f"/v3/codes/{image.code_id}")
        assert [c.kind for c in pre_orders] == [PRE_ORDER, PRE_ORDER] and order.pre_orders == pre_orders
        assert all(c.value is None and not c.delivered and c.link() for c in pre_orders)
        with pytest.raises(ValueError, match="not an image code"):
            pre_orders[0].image()
        assert state.release_pre_orders(sold_out["productId"]) == 2
        delivered = api.get_code(pre_orders[0].code_id)
    assert refused.value.kind == "out_of_stock" and not refused.value.transient
    assert "not enough keys in stock" in str(refused.value) and "nothing was bought" in str(refused.value)
    assert state.charges_for("ms-2000") == [] and len(state.charges_for("ms-2001")) == 1
    assert delivered.kind in (TEXT, IMAGE) and delivered.delivered and delivered.code_id == pre_orders[0].code_id


def test_delayed_codes_arrive_after_polling(cws):
    state, base_url = cws
    product = _product(state)
    state.add_fault("delay_codes", reads=2)
    with _api(base_url) as api:
        placed = api.place_order("ms-3001", [_line(product, 2)])
        polls = [api.get_order(placed.order_id) for _ in range(3)]
    assert placed.status == "Fulfilling" and not placed.completed and placed.codes == ()
    assert [p.status for p in polls] == ["Fulfilling", "Fulfilling", "Completed"]
    assert polls[0].lines[0].product_id == product["productId"] and polls[0].codes == ()
    assert len(polls[2].codes) == 2 and all(c.delivered for c in polls[2].codes)
    assert len(state.charges_for("ms-3001")) == 1  # charged when placed, not when the codes came


# ------------------------------------------------------------------------------------ lost answers
def test_a_lost_answer_is_outcome_unknown_and_the_order_is_found_not_bought_again(cws):
    state, base_url = cws
    product = _product(state)
    state.add_fault("lost_answer")  # placed and charged, then the connection dies mid-answer
    since, until = _window()
    with _api(base_url) as api:
        with pytest.raises(CodesWholesaleError) as lost:
            api.place_order("ms-4001", [_line(product)])
        found = api.find_orders("ms-4001", since, until)
        order = api.get_order(found[0].order_id)
    assert lost.value.kind == "outcome_unknown" and lost.value.outcome_unknown and lost.value.transient
    assert "may have been placed and paid" in str(lost.value) and "\n" not in str(lost.value)
    assert len(found) == 1 and found[0].client_order_id == "ms-4001" and found[0].completed
    assert order.order_id == found[0].order_id and len(order.codes) == 1
    assert len(state.charges_for("ms-4001")) == 1
    assert state.stats()["requests"]["place_order"] == 1  # sent once: the client never re-sent it


def test_a_timeout_after_the_charge_is_outcome_unknown(cws):
    state, base_url = cws
    product = _product(state)
    state.add_fault("slow_answer", seconds=3)
    since, until = _window()
    with _api(base_url, timeout_seconds=0.5) as api:
        with pytest.raises(CodesWholesaleError) as timed_out:
            api.place_order("ms-4002", [_line(product)])
        found = api.find_orders("ms-4002", since, until)
    assert timed_out.value.kind == "outcome_unknown" and "ReadTimeout" in str(timed_out.value)
    assert [f.order_id for f in found] == [c.order_id for c in state.charges_for("ms-4002")]
    assert len(found) == 1
    # The simulator records the request once its slow answer is over (it may still be writing it).
    deadline = time.monotonic() + 10
    while "place_order" not in state.stats()["requests"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert state.stats()["requests"]["place_order"] == 1


@pytest.mark.parametrize(("fault", "kind"), [("http_503", "server"), ("http_500", "outcome_unknown"),
                                             ("http_502", "outcome_unknown"), ("http_504", "outcome_unknown"),
                                             ("http_429", "rate_limited")])
def test_a_failure_before_the_charge_buys_nothing(cws, fault, kind):
    state, base_url = cws
    product = _product(state)
    state.add_fault(fault, target="place_order", retry_after=0.1)
    since, until = _window()
    with _api(base_url) as api:
        before = api.balance()
        with pytest.raises(CodesWholesaleError) as failed:
            api.place_order("ms-5001", [_line(product)])
        assert api.find_orders("ms-5001", since, until) == []  # what the caller checks on outcome_unknown
        assert api.balance() == before
    assert failed.value.kind == kind and failed.value.transient
    assert failed.value.outcome_unknown == (kind == "outcome_unknown")
    assert ("nothing was bought" in str(failed.value)) == (kind != "outcome_unknown")
    assert state.charges_for("ms-5001") == [] and state.stats()["requests"]["place_order"] == 1


def test_an_expired_token_is_renewed_and_the_order_sent_once_more_safely(cws):
    state, base_url = cws
    product = _product(state)
    with _api(base_url) as api:
        api.balance()  # a token in hand
        state.add_fault("expire_tokens", target="place_order")  # the API refuses the token, not the order
        order = api.place_order("ms-5002", [_line(product)])
        assert api.tokens_fetched == 2
    assert order.completed and len(state.charges_for("ms-5002")) == 1
    assert state.stats()["statuses"]["401"] == 1


def test_the_simulator_does_not_deduplicate_client_order_ids(cws):
    """Like the real API as far as public material shows: the same client order id placed twice is
    bought twice. Guarding against that is the caller's job (find_orders first)."""
    state, base_url = cws
    product = _product(state)
    since, until = _window()
    with _api(base_url) as api:
        first = api.place_order("ms-6001", [_line(product)])
        second = api.place_order("ms-6001", [_line(product)])
        found = api.find_orders("ms-6001", since, until)
    assert first.order_id != second.order_id
    assert [f.order_id for f in found] == [first.order_id, second.order_id]
    assert len(state.charges_for("ms-6001")) == 2


def test_find_orders_asks_for_whole_days_and_matches_our_id(cws):
    state, base_url = cws
    product = _product(state)
    with _api(base_url) as api:
        api.place_order("ms-6101", [_line(product)])
        api.place_order("ms-6102", [_line(product)])
        since, until = _window()
        assert [o.client_order_id for o in api.find_orders("ms-6102", since, until)] == ["ms-6102"]
        assert api.find_orders("ms-6102", since - timedelta(days=3), since - timedelta(days=2)) == []
        assert api.find_orders("ms-6103", since, until) == []
        with pytest.raises(ValueError):
            api.find_orders("ms-6102", until, since)
    with httpx.Client(base_url=base_url) as raw:
        token = raw.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                               "client_secret": CLIENT_SECRET}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        today = datetime.now(UTC).date().isoformat()
        by_date = raw.get("/v3/orders", params={"startFrom": today, "endOn": today}, headers=headers).json()
        later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        by_time = raw.get("/v3/orders", params={"startFrom": later}, headers=headers).json()
        bad = raw.get("/v3/orders", params={"startFrom": "yesterday"}, headers=headers)
    assert len(by_date["items"]) == 2 and by_time["items"] == [] and bad.status_code == 400


# ------------------------------------------------------------------------------------------ refusals
def test_a_price_change_is_refused_in_words_and_buys_nothing(cws):
    state, base_url = cws
    product = _product(state)
    old_price = single_unit_price(product)
    tiers = state.change_price(product["productId"], old_price + 1.25)
    with _api(base_url) as api:
        listed = next(p for page in api.product_pages(product_ids=[product["productId"]]) for p in page)
        with pytest.raises(CodesWholesaleError) as refused:
            api.place_order("ms-7001", [_line(product, price=old_price)])
        accepted = api.place_order("ms-7002", [_line(product, price=old_price + 1.25)])
    assert listed["prices"] == tiers and tiers[0]["value"] == round(old_price + 1.25, 2)
    assert refused.value.kind == "price_changed" and not refused.value.transient and refused.value.status == 400
    assert "costs more than the price offered" in str(refused.value) and "re-read the price list" in str(refused.value)
    assert state.charges_for("ms-7001") == []
    assert accepted.total_price == Decimal(str(tiers[0]["value"]))


def test_a_short_balance_is_refused_in_words_and_buys_nothing(cws):
    state, base_url = cws
    product = _product(state)
    state.set_balance(0.5, credit=0.25)
    with _api(base_url) as api:
        assert api.balance().total_to_use == Decimal("0.75")
        with pytest.raises(CodesWholesaleError) as refused:
            api.place_order("ms-7101", [_line(product)])
        assert api.balance().current_balance == Decimal("0.50")
    assert refused.value.kind == "insufficient_funds" and refused.value.code == 10002
    assert not refused.value.transient and "top up the CodesWholesale account" in str(refused.value)
    assert state.charges_for("ms-7101") == []


def test_a_recent_balance_serves_less_our_own_orders_and_a_fresh_one_on_demand(cws):
    """balance(max_age_seconds) saves the account call per purchase: the last reading less what this
    session's orders cost since; balance() always asks."""
    state, base_url = cws
    product = _product(state, stock=5)
    with _api(base_url) as api:
        first = api.balance(max_age_seconds=60)
        reads = state.stats()["requests"].get("account", 0)
        order = api.place_order("ms-7201", [_line(product)])
        estimate = api.balance(max_age_seconds=60)
        assert state.stats()["requests"].get("account", 0) == reads, "served from the reading, no call"
        assert estimate.total_to_use == first.total_to_use - order.total_price
        state.set_balance(500, 0)  # a top-up the estimate cannot know of
        assert api.balance().total_to_use == Decimal("500.00")
        assert state.stats()["requests"].get("account", 0) == reads + 1


def test_other_refusals_and_a_missing_order(cws):
    state, base_url = cws
    with _api(base_url) as api:
        with pytest.raises(CodesWholesaleError) as unknown_product:
            api.place_order("ms-7201", [OrderLineRequest("no-such-product", 1, Decimal("5"))])
        with pytest.raises(CodesWholesaleError) as missing:
            api.get_order("00000000-0000-4000-8000-000000000000")
        with pytest.raises(ValueError):
            api.place_order("", [_line(_product(state))])
        with pytest.raises(ValueError):
            api.place_order("ms-7202", [OrderLineRequest("x", 0, Decimal("5"))])
    assert unknown_product.value.kind == "not_found" and unknown_product.value.code == 20001
    assert missing.value.kind == "not_found" and not missing.value.transient
    assert state.charges == []


def test_concurrent_orders_each_charge_once(cws):
    state, base_url = cws
    product = _product(state, stock=20)
    errors = []

    def buy(number: int) -> None:
        try:
            with _api(base_url) as api:
                api.place_order(f"ms-8{number:03d}", [_line(product)])
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=buy, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    price = Decimal(str(single_unit_price(product)))
    assert errors == [] and len(state.charges) == 8
    assert {c.client_order_id for c in state.charges} == {f"ms-8{n:03d}" for n in range(8)}
    assert state.balance == Decimal("1000.00") - 8 * price


# ------------------------------------------------------------------------------------------- secrets
ANSWER = {
    "orderId": "5b1e0c8e-0d7c-4a39-9d0e-6f1f4f3c2a10", "clientOrderId": "ms-9001", "identifier": "CWS-100001",
    "totalPrice": 12.5, "createdOn": "2026-01-05T10:00:00.123Z", "status": "Completed",
    "products": [{"productId": "p-1", "name": "Quiet Tides", "unitPrice": 6.25, "links": [], "codes": [
        {"codeType": "CODE_TEXT", "status": "Text code", "codeId": "c-1", "filename": "", "code": "SECRET-KEY-0001",
         "links": [{"rel": "self", "href": "https://sandbox.example/v3/codes/c-1"}]},
        {"codeType": "CODE_IMAGE", "status": "Image code", "codeId": "c-2", "filename": "c-2.png",
         "code": base64.b64encode(b"\x89PNG SECRET-KEY-0002").decode(), "links": []}]}],
    "links": [{"rel": "self", "href": "https://sandbox.example/v3/orders/ms-9001"}],
}


def test_an_order_never_prints_a_key():
    order = _order_from(ANSWER)
    shown = " ".join([repr(order), str(order), f"{order}", repr(order.lines), repr(order.codes[0]),
                      str(order.codes[1]), repr(order.codes[0].value)])
    image = ANSWER["products"][0]["codes"][1]["code"]
    assert "SECRET-KEY-0001" not in shown and image not in shown and "**********" in shown
    assert order.codes[0].value.get_secret_value() == "SECRET-KEY-0001"
    assert b"SECRET-KEY-0002" in order.codes[1].image()
    assert isinstance(order, Order) and order.total_price == Decimal("12.50")
    assert order.created_on == datetime(2026, 1, 5, 10, 0, 0, 123000, tzinfo=UTC)


def test_keys_never_reach_an_error_or_the_simulators_stats(cws):
    state, base_url = cws
    with _api(base_url) as api:
        order = api.place_order("ms-9002", [_line(_product(state))])
    key = order.codes[0].value.get_secret_value()
    assert key not in repr(order) and key not in json.dumps(state.stats())


# ------------------------------------------------------------------------------------------- admin
def test_the_admin_surface_arms_order_faults_and_sets_money_and_prices(cws):
    state, base_url = cws
    product = _product(state)
    with httpx.Client(base_url=base_url) as admin:
        armed = admin.post("/_sandbox/faults", json={"kind": "lost_answer"}).json()["faults_armed"]
        account = admin.post("/_sandbox/account", json={"balance": 50}).json()
        prices = admin.post("/_sandbox/price", json={"productId": product["productId"], "value": 3.1}).json()
        refused = admin.post("/_sandbox/faults", json={"kind": "delay_codes", "target": "order"})
    assert armed[0]["kind"] == "lost_answer" and armed[0]["target"] == "place_order"
    assert account["currentBalance"] == 50.0 and account["totalToUse"] == 50.0
    assert prices["prices"][0]["value"] == 3.1 and refused.status_code == 400
    with _api(base_url) as api, pytest.raises(CodesWholesaleError):
        api.place_order("ms-9101", [_line(product, price=3.1)])
    with httpx.Client(base_url=base_url) as admin:
        seen = admin.get("/_sandbox/orders").json()
        released = admin.post("/_sandbox/pre_orders", json={}).json()
    assert [o["clientOrderId"] for o in seen["orders"]] == ["ms-9101"]
    assert len(seen["orders"][0]["products"][0]["codes"]) == 1  # the admin view shows the codes
    assert seen["charges"][0]["amount"] == 3.1 and seen["account"]["currentBalance"] == 46.9
    assert released == {"delivered": 0}


def test_the_simulator_is_deterministic_by_seed():
    def buy() -> tuple:
        state = CodesWholesaleState(seed=21, size=50, clock=lambda: datetime(2026, 1, 5, tzinfo=UTC))
        product = _product(state, stock=1)
        answer = state.place_order({"orderId": "x", "allowPreOrder": False, "products": [
            {"productId": product["productId"], "quantity": 1, "price": 999}]}, "http://sim")
        return answer["orderId"], answer["products"][0]["codes"][0]["code"], answer["createdOn"]

    assert buy() == buy()


# ------------------------------------------------------------------------------------------- conformance
def _documented_object(text: str, anchor: str, skip: int = 0) -> dict:
    """The JSON object of the Swagger copy that follows `anchor` (the `skip`+1-th one after it)."""
    position = text.index(anchor)
    for _ in range(skip + 1):
        start = text.index("{", position)
        depth, end = 0, start
        for end in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                break
        position = end + 1
    return json.loads(text[start:end + 1])


def _keys(value, path: str = "") -> set[str]:
    """Every key path of a JSON value (`products[].codes[].codeId`), list items merged."""
    if isinstance(value, dict):
        return {f"{path}{k}" for k in value} | {p for k, v in value.items() for p in _keys(v, f"{path}{k}.")}
    if isinstance(value, list):
        return {p for item in value for p in _keys(item, f"{path[:-1]}[].")}
    return set()


def _link_detail(paths: set[str]) -> set[str]:
    """Key paths inside link objects: the Swagger model lists Spring HATEOAS's optional fields."""
    return {p for p in paths if re.search(r"links\[\]\.(?!rel$|href$)", p)}


def test_the_simulator_conforms_to_the_public_order_facts(cws):
    """The order routes, parameters, fields and values the simulator serves are the documented ones:
    the Swagger copy's models and the captured sandbox answers (skips without ../shared)."""
    docs, flow = SPECS / "cws_v3_api_docs_copy.txt", SPECS / "cws_v3_order_flow_examples.md"
    if not docs.exists() or not flow.exists():
        pytest.skip("public CodesWholesale facts (../shared/specs/codeswholesale) are not present")
    documented, examples = docs.read_text(), flow.read_text()
    for route in ("/v3/orders", "/v3/orders/{orderId}", "/v3/codes/{codeId}", "/v3/accounts/current"):
        assert f"\n{route}\n" in documented, route
    assert "startFrom" in documented and "endOn" in documented
    captured = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", examples, re.S)]
    request_example = next(b for b in captured if isinstance(b, dict) and "allowPreOrder" in b)
    fulfilling = next(b for b in captured if isinstance(b, dict) and b.get("status") == "Fulfilling")
    completed = next(b for b in captured if isinstance(b, dict) and b.get("status") == "Completed")

    state, base_url = cws
    product = _product(state)
    state.add_fault("delay_codes", reads=1)
    with _api(base_url) as api:
        placed = api.place_order("ms-conform", [_line(product, 2)], allow_pre_order=True)
    with httpx.Client(base_url=base_url) as raw:
        token = raw.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                               "client_secret": CLIENT_SECRET}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        first = raw.get(f"/v3/orders/{placed.order_id}", headers=headers).json()
        done = raw.get(f"/v3/orders/{placed.order_id}", headers=headers).json()
        history = raw.get("/v3/orders", params={"startFrom": "2020-01-01", "endOn": "2099-12-31"}, headers=headers)
        code = raw.get(f"/v3/codes/{done['products'][0]['codes'][0]['codeId']}", headers=headers).json()
        account = raw.get("/v3/accounts/current", headers=headers).json()

    # The request our client sent: exactly the documented fields.
    sent = state.orders[placed.order_id].request
    assert _keys(sent) == _keys(request_example) == _keys(_documented_object(documented, "Create order with"))
    # The answers: every documented field present, nothing undocumented.
    order_model = _keys(_documented_object(documented, "Create order with", skip=1))
    assert order_model == _keys(_documented_object(documented, "Fetch order with"))
    for answer, example in ((first, fulfilling), (done, completed)):
        assert _keys(example) <= _keys(answer) <= order_model | _keys(example), answer["status"]
    assert (first["status"], first["products"][0]["codes"]) == ("Fulfilling", [])
    assert done["status"] == "Completed" and {c["codeType"] for c in done["products"][0]["codes"]} == {"CODE_TEXT"}
    assert {c["status"] for c in done["products"][0]["codes"]} == {CODE_STATUS["CODE_TEXT"]} == {
        c["status"] for p in completed["products"] for c in p["codes"]}
    assert done["totalPrice"] == round(done["products"][0]["unitPrice"] * 2, 2)
    history_model = _keys(_documented_object(documented, "Get order history"))
    assert _keys(history.json()) - _link_detail(history_model) == history_model - _link_detail(history_model)
    code_model = _keys(_documented_object(documented, "Get ordered code"))
    assert _keys(code) - {"status"} == code_model - _link_detail(code_model)
    account_model = _keys(_documented_object(documented, "Account Details provide"))
    assert set(account) == {k for k in account_model if "." not in k}
