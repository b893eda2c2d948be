"""The SP-API client against the Amazon simulator over loopback HTTP (no mocks): paging with tokens that
must be encoded exactly once, a token expiring mid-paging, the two-minute rule, 429 storms with and
without Retry-After, x-amzn-RateLimit-Limit adjusting the buckets, confirmShipment retried after a lost
answer, listing quantities patched and read back, JSON_LISTINGS_FEED end to end (rejections, GZIP
reports, FATAL, splitting at 25,000 messages), 5xx retries and error texts without secrets."""
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs

import pytest

from marketsync.assets.accounts import upsert_account
from marketsync.assets.amazon.connection import amazon_session
from marketsync.resources.amazon_sp_api import AmazonError, AmazonSpApiResource
from marketsync.sandbox.amazon import AmazonState, create_app
from marketsync.sandbox.http import serve_in_thread

CLIENT_ID = "amzn1.application-oa2-client.marketsynctest"
CLIENT_SECRET = "amzn1.oa2-cs.v1.Canary+Secret/Value=%41xyz"
SCALE = 20_000.0  # the documented rates x20,000 on both sides: bursts apply, refills take microseconds
OLD = timedelta(days=45)


class Timer:
    """The client's `sleep` and `clock`: records every wait; virtual (time jumps) unless `real`."""

    def __init__(self, real: bool = False):
        self.real, self.offset, self.slept = real, 0.0, []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if self.real:
            time.sleep(seconds)
        else:
            self.offset += seconds

    def clock(self) -> float:
        return time.monotonic() + self.offset


@pytest.fixture
def amazon(warehouse, vault):
    """A seeded seller on the simulator, an Amazon account for store 'store' with its refresh token in
    the vault, and `open(**options)` -> a client session (closed at the end)."""
    state = AmazonState(seed=5, size=1500, catalog_size=1200, rate_scale=SCALE, clients={CLIENT_ID: CLIENT_SECRET})
    sessions = []
    with serve_in_thread(create_app(state)) as server:
        with warehouse.begin() as conn:
            account = upsert_account(conn, "store", "amazon", server.base_url,
                                     {"seller_id": state.seller_id, "marketplace_ids": list(state.marketplace_ids)})
            vault.store(conn, account.account_id, {"refresh_token": state.authorize()})

        def open_session(real_sleep: bool = False, **options):
            timer = Timer(real_sleep)
            resource = AmazonSpApiResource(client_id=CLIENT_ID, client_secret=options.pop("secret", CLIENT_SECRET),
                                           rate_scale=SCALE, timeout_seconds=2, retry_backoff_seconds=0.01,
                                           max_retry_wait_seconds=0.05, feed_poll_seconds=0.5)
            with warehouse.begin() as conn:
                api = amazon_session(resource, conn, vault, account.account_id, sleep=timer.sleep,
                                     clock=timer.clock, **options)
            sessions.append(api)
            api.timer = timer
            return api

        yield SimpleNamespace(state=state, account=account, open=open_session, base_url=server.base_url)
        for api in sessions:
            api.close()


def _search_targets(state: AmazonState) -> list[dict]:
    return [parse_qs(target.split("?", 1)[1]) | {"_status": status, "_raw": target}
            for operation, _, target, status in state.recent if operation == "searchOrders"]


def _open_orders(state: AmazonState, count: int) -> list[dict]:
    found = []
    for order_id in state.order_ids():
        order = state.order(order_id)
        fulfillment = order["fulfillment"]
        if fulfillment["fulfillmentStatus"] == "UNSHIPPED" and fulfillment["fulfilledBy"] == "MERCHANT":
            found.append(order)
            if len(found) == count:
                return found
    raise AssertionError("not enough open orders in the seed")


def _assert_clean(error: AmazonError, state: AmazonState) -> None:
    text = str(error)
    assert "\n" not in text and text
    for secret in {*state.issued_secrets, CLIENT_SECRET}:
        assert secret not in text


# ------------------------------------------------------------------------------------------------ orders
def test_search_orders_pages_every_order_exactly_once_with_awkward_tokens(amazon):
    state = amazon.state
    api = amazon.open()
    orders = list(api.search_orders(datetime.now(UTC) - OLD, page_size=40))
    ids = [o["orderId"] for o in orders]
    assert len(ids) == len(set(ids)) == state.order_count == 1500
    assert set(ids) == set(state.order_ids())
    assert all(o["orderItems"] and "fulfillment" in o for o in orders)  # items embedded, datasets included
    # 38 pages answered; the simulator's buckets run on the wall clock, the client's on a virtual one,
    # so now and then a request meets a 429 and is sent again: allowed, nothing else is.
    answered = [r for r in _search_targets(state) if r["_status"] == 200]
    assert len(answered) == 38 and all(r["_status"] in (200, 429) for r in _search_targets(state))
    paged = [r for r in answered if "paginationToken" in r]
    assert len(paged) == 37
    for request in paged:  # every token arrived intact: + / = : % encoded exactly once
        token = request["paginationToken"][0]
        assert all(c in token for c in "+/=:%")
        assert all(code in request["_raw"] for code in ("%2B", "%2F", "%3D", "%3A", "%25"))
    assert api.last_window_end is not None
    assert api.token_calls == 1


def test_token_expiring_in_the_middle_of_paging(amazon):
    state = amazon.state
    state.add_fault("expire_tokens", target="searchOrders", skip=5)
    api = amazon.open()
    ids = [o["orderId"] for o in api.search_orders(datetime.now(UTC) - OLD, page_size=100)]
    assert len(ids) == len(set(ids)) == 1500
    assert api.token_calls == 2
    requests = _search_targets(state)
    assert [r["_status"] for r in requests].count(200) == 15
    refused = [r for r in requests if r["_status"] == 403]
    assert len(refused) == 1 and "paginationToken" in refused[0]  # mid-paging; the same page again after
    assert requests[requests.index(refused[0]) + 1]["_raw"] == refused[0]["_raw"]


def test_two_minute_rule_is_respected(amazon):
    state = amazon.state
    api = amazon.open()
    fresh = state.add_order()  # updated now: inside no window we may ask for yet
    now = datetime.now(UTC)
    orders = list(api.search_orders(now - timedelta(hours=2), now + timedelta(hours=1)))
    assert fresh["orderId"] not in {o["orderId"] for o in orders}
    sent = _search_targets(state)
    assert sent and all(r["_status"] == 200 for r in sent)
    before = datetime.fromisoformat(sent[0]["lastUpdatedBefore"][0])
    assert before <= now - timedelta(minutes=2)
    assert datetime.fromisoformat(api.last_window_end) == before
    # a start inside the last two minutes: nothing to ask yet, and no request at all
    assert list(api.search_orders(now - timedelta(seconds=30))) == []
    assert len(_search_targets(state)) == len(sent)


def test_429_storms_with_and_without_retry_after_never_fail(amazon):
    state = amazon.state
    api = amazon.open()
    state.add_fault("http_429", count=6, target="searchOrders", skip=2)
    ids = [o["orderId"] for o in api.search_orders(datetime.now(UTC) - OLD, page_size=100)]
    assert len(ids) == len(set(ids)) == 1500
    throttled = [w for w in api.waits if w[2] == "throttled"]
    assert len(throttled) == 6 and api.throttled == 6
    refill = 1 / (0.0056 * SCALE)  # no Retry-After: the bucket's refill time (one more each time in a row)
    assert all(0 < w[1] <= 6 * refill * 1.25 for w in throttled) and throttled[0][1] <= refill * 1.25

    sku = state.catalogue.sku(3)
    state.add_fault("http_429", count=4, target="getListingsItem", retry_after=7)
    assert api.listing_quantity(sku) == state.listing_quantity(sku)
    hinted = [w for w in api.waits if w[0] == "getListingsItem" and w[2] == "throttled"]
    assert len(hinted) == 4 and all(7 <= w[1] <= 7 * 1.25 for w in hinted)  # Retry-After, with jitter
    assert api.timer.offset >= 28  # observed through the injected sleep, never really waited


def test_rate_limit_header_adjusts_the_bucket(amazon):
    state = amazon.state
    api = amazon.open(real_sleep=True)
    sku = state.catalogue.sku(4)
    assert api.bucket("getListingsItem").rate == 5.0 * SCALE
    state.rate_scale = 1.0
    state.set_rate_limit("getListingsItem", 4.0, 2)  # Amazon gives this seller less than documented
    for _ in range(5):
        assert api.listing_quantity(sku) == state.listing_quantity(sku)
    assert api.bucket("getListingsItem").rate == 4.0
    assert state.statuses[429] <= 2  # the server's burst is 2, ours 10: at most one surprise, then paced
    paced = [w for w in api.waits if w[0] == "getListingsItem"]
    assert paced and all(w[1] <= 0.25 * 1.25 + 0.01 for w in paced)


def test_throttling_without_end_is_a_retryable_error(amazon):
    state = amazon.state
    api = amazon.open(throttle_attempts=3)
    state.add_fault("http_429", count=10, target="getListingsItem")
    with pytest.raises(AmazonError) as caught:
        api.listing_quantity(state.catalogue.sku(1))
    assert caught.value.kind == "rate_limited" and caught.value.retryable
    _assert_clean(caught.value, state)


# ------------------------------------------------------------------------------------------- shipments
@pytest.mark.parametrize("then", ["close", "502"])
def test_confirm_shipment_retried_after_a_lost_answer_makes_one_package(amazon, then):
    state = amazon.state
    api = amazon.open()
    order = _open_orders(state, 1)[0]
    state.add_fault("apply_then_drop", target="confirmShipment", then=then)
    items = [{"orderItemId": i["orderItemId"], "quantity": i["quantityOrdered"]} for i in order["orderItems"]]
    api.confirm_shipment(order["orderId"], "4711", "DHL", "00340434161094", datetime.now(UTC), items,
                         order["salesChannel"]["marketplaceId"])
    packages = state.packages(order["orderId"])
    assert [p["packageReferenceId"] for p in packages] == ["4711"]
    assert state.counters.packages_created == 1 and state.counters.package_repeats == 1
    assert state.order(order["orderId"])["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    assert [w[2] for w in api.waits] == ["retry"]


def test_confirm_shipment_refused_is_one_line_without_secrets(amazon):
    state = amazon.state
    api = amazon.open()
    order = _open_orders(state, 1)[0]
    with pytest.raises(AmazonError) as caught:
        api.confirm_shipment(order["orderId"], "1", "DHL", "T1", "2026-01-05T10:00:00Z",
                             [{"orderItemId": "99999999999999", "quantity": 1}], order["salesChannel"]["marketplaceId"])
    error = caught.value
    assert error.kind == "rejected" and error.status == 400 and error.code == "InvalidInput" and not error.retryable
    assert "99999999999999" in str(error) and "request" in str(error)
    _assert_clean(error, state)
    with pytest.raises(ValueError):
        api.confirm_shipment(order["orderId"], "ship-1", "DHL", "T1", "2026-01-05T10:00:00Z", [], "x")


# -------------------------------------------------------------------------------------------- listings
def test_patch_and_read_listing_quantity(amazon):
    state = amazon.state
    api = amazon.open()
    awkward = state.catalogue.sku(5)  # "MS-000005/Größe XS": a slash and umlauts in one path segment
    assert "/" in awkward
    for sku in (state.catalogue.sku(2), awkward):
        result = api.patch_listing_quantity(sku, 17)
        assert result.accepted and result.sku == sku and result.submission_id
        assert state.listing_quantity(sku) == 17 and api.listing_quantity(sku) == 17
    state.set_listing_quantity(awkward, 3)  # drift on Amazon's side
    assert api.listing_quantity(awkward) == 3
    assert api.listing_quantity("NO-SUCH-SKU") is None
    state.reject_skus([awkward], "Listing is blocked for review")
    refused = api.patch_listing_quantity(awkward, 9)
    assert refused.status == "INVALID" and not refused.accepted
    assert any("blocked for review" in m for m in refused.issues)
    assert state.listing_quantity(awkward) == 3


def test_5xx_retried_and_persistent_failure_is_retryable_error(amazon):
    state = amazon.state
    api = amazon.open()
    sku = state.catalogue.sku(7)
    state.add_fault("http_500", count=2, target="getListingsItem")
    state.add_fault("http_503", count=1, target="patchListingsItem", retry_after=0.02)
    assert api.patch_listing_quantity(sku, 5).accepted
    assert api.listing_quantity(sku) == 5
    assert [w[2] for w in api.waits] == ["retry"] * 3 and api.waits[0][1] >= 0.02 - 1e-9
    state.add_fault("http_500", count=10, target="getListingsItem")
    with pytest.raises(AmazonError) as caught:
        api.listing_quantity(sku)
    assert caught.value.kind == "server" and caught.value.retryable and caught.value.code == "InternalFailure"
    _assert_clean(caught.value, state)


# ----------------------------------------------------------------------------------------------- feeds
def test_quantities_feed_of_1000_skus_end_to_end(amazon):
    state = amazon.state
    state.report_compression = "GZIP"
    api = amazon.open()
    skus = [state.catalogue.sku(i) for i in range(1000)]
    rejected = {skus[i]: f"blocked {i}" for i in range(0, 1000, 97)}
    state.reject_skus(rejected)
    items = [(sku, 1000 + i) for i, sku in enumerate(skus)]
    items[500] = (skus[500], -1)  # an invalid quantity
    items.append(("NO-SUCH-SKU-1", 4))
    results = api.submit_quantities_feed(items)
    assert [r.sku for r in results] == [sku for sku, _ in items]
    by_sku = {r.sku: r for r in results}
    refused = {r.sku for r in results if r.status == "rejected"}
    assert refused == {*rejected, skus[500], "NO-SUCH-SKU-1"}
    for sku, message in rejected.items():
        assert any(message in m and "SANDBOX_REJECTED" in m for m in by_sku[sku].messages)
    assert any("INVALID_QUANTITY" in m for m in by_sku[skus[500]].messages)
    assert any("SKU_NOT_FOUND" in m for m in by_sku["NO-SUCH-SKU-1"].messages)
    assert sum(r.accepted for r in results) == 1001 - len(refused)
    for sku, quantity in items[:1000]:
        if sku not in refused:
            assert state.listing_quantity(sku) == quantity
    assert state.counters.feeds_done == 1
    assert [w[2] for w in api.waits].count("poll") == 2  # IN_QUEUE, IN_PROGRESS, DONE
    assert all(r.feed_id == results[0].feed_id for r in results)


def test_feeds_split_at_25000_messages(amazon):
    state = amazon.state
    api = amazon.open()
    items = [(state.catalogue.sku(i % 1200) if i < 1200 else f"X-{i}", 7) for i in range(25_001)]
    results = api.submit_quantities_feed(items)
    assert len(results) == 25_001 and state.counters.feeds_done == 2 and state.counters.feeds_fatal == 0
    assert len({r.feed_id for r in results}) == 2
    assert sum(r.accepted for r in results) == 1200
    assert all(r.status == "rejected" for r in results[1200:])


def test_fatal_feed_is_surfaced(amazon):
    state = amazon.state
    api = amazon.open()
    state.fail_next_feeds(1)
    with pytest.raises(AmazonError) as caught:
        api.submit_quantities_feed([(state.catalogue.sku(1), 3)])
    assert caught.value.kind == "fatal" and caught.value.retryable
    assert "FATAL" in str(caught.value) and "SANDBOX_FATAL" in str(caught.value)
    _assert_clean(caught.value, state)


# ------------------------------------------------------------------------------------------ credentials
def test_errors_never_carry_secrets(amazon, warehouse, vault):
    state = amazon.state
    wrong = amazon.open(secret="amzn1.oa2-cs.v1.Wrong+Secret/Value=1")
    with pytest.raises(AmazonError) as caught:
        wrong.listing_quantity(state.catalogue.sku(1))
    assert caught.value.kind == "auth" and not caught.value.retryable
    _assert_clean(caught.value, state)
    assert "Wrong+Secret" not in str(caught.value)

    api = amazon.open()
    assert api.listing_quantity(state.catalogue.sku(1)) is not None
    with warehouse.begin() as conn:
        refresh = vault.load(conn, amazon.account.account_id).reveal("refresh_token")
    state.revoke(refresh)
    state.expire_tokens()
    with pytest.raises(AmazonError) as caught:
        api.listing_quantity(state.catalogue.sku(1))
    assert caught.value.kind == "reauthorize" and caught.value.code == "invalid_grant"
    _assert_clean(caught.value, state)
    assert "refresh_token" not in repr(api.__dict__.get("waits"))
