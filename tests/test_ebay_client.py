"""The eBay client against the eBay simulator over loopback HTTP (no mocks): user-token refresh with
HTTP Basic and scopes, renewal before expiry and on a 401 in the middle of paging, getOrders paging
through more than 1,000 orders via `next`, incremental lastmodifieddate windows, idempotent shipping
fulfillments (answers lost after the write), bulk quantity updates answered 200 and 207, retries of
429 and 5xx, quota exhaustion surfacing as a retryable error, errors without secrets, and sessions
opened from an account's vault credentials in Postgres."""
import re
import time
from datetime import UTC, datetime, timedelta

import pytest

from marketsync.assets.accounts import upsert_account
from marketsync.assets.ebay.connection import ebay_session
from marketsync.resources.ebay import TOKEN_PATH, EbayApi, EbayError, EbayResource
from marketsync.sandbox.ebay.data import stamp
from marketsync.sandbox.ebay.state import EbayState, scope
from marketsync.sandbox.http import serve_in_thread

CLIENT_ID = "MarketSy-client-PRD-1a2b3c4d5-6e7f8a9b"
CLIENT_SECRET = "PRD-1a2b3c4d5e6f+Canary/Secret=42"  # characters that must survive Basic auth untouched


@pytest.fixture
def ebay():
    """(state, base URL) of a seeded seller with 1,200 orders and 60 SKUs."""
    from marketsync.sandbox.ebay.app import create_app

    state = EbayState(seed=5, orders=1200, skus=60, clients={CLIENT_ID: CLIENT_SECRET})
    with serve_in_thread(create_app(state)) as server:
        yield state, server.base_url


def _api(state: EbayState, base_url: str, refresh_token: str | None = None, **options) -> EbayApi:
    settings = {"backoff": 0.01, "max_wait": 2.0, "timeout": 5.0, **options}
    return EbayApi(base_url, base_url + TOKEN_PATH, settings.pop("client_id", CLIENT_ID),
                   settings.pop("client_secret", CLIENT_SECRET), refresh_token or state.grant()["refresh_token"],
                   **settings)


def _open_order(state: EbayState, skip: int = 0) -> dict:
    """A seeded order that can still be shipped (the `skip`-th from the newest)."""
    for index in range(state.order_count - 1, -1, -1):
        order = state.order(state.order_id(index))
        if order["orderFulfillmentStatus"] == "NOT_STARTED" and order["cancelStatus"]["cancelState"] == \
                "NONE_REQUESTED":
            if skip == 0:
                return order
            skip -= 1
    raise AssertionError("no open order")


def _lines(order: dict) -> list[dict]:
    return [{"lineItemId": li["lineItemId"], "quantity": li["quantity"]} for li in order["lineItems"]]


def _calls(state: EbayState, route: str) -> list[tuple]:
    return [r for r in state.recent if r[0] == route]


# ------------------------------------------------------------------------------------------- paging
def test_pages_through_all_orders_once_while_the_token_expires_mid_paging(ebay):
    state, base_url = ebay
    since_ms = state.epoch_ms - 61 * 86_400_000
    expected = [state.order_id(i) for i in range(state.order_count)]  # every order, oldest creation first
    state.add_fault("expire_tokens", skip=4, target="getOrders")  # the 5th page meets an expired token
    with _api(state, base_url) as api:
        orders = list(api.orders_modified(datetime.fromtimestamp(since_ms / 1000, UTC), page_size=100))
        assert api.token_calls == 2
    ids = [o["orderId"] for o in orders]
    assert len(ids) >= 1000 and ids == expected  # every order exactly once, in order
    stats = state.stats()
    assert stats["refreshes"] == 2 and stats["unauthorized"] == 1 and stats["requests"]["getOrders"] == 13
    # The filter was sent once (ISO 8601 UTC with milliseconds and Z); `next` links followed as given.
    targets = [t for _, _, t, _ in _calls(state, "getOrders")]
    assert re.search(r"filter=lastmodifieddate%3A%5B\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\d\.\d{3}Z\.\.%5D", targets[0])
    assert all("lastmodifieddate:%5B" in t and "offset=" in t for t in targets[1:])
    assert targets[4] == targets[5]  # the page that met the 401, asked again after the renewal


def test_token_is_renewed_before_it_expires(ebay):
    state, base_url = ebay
    state.token_ttl = 0.6
    with _api(state, base_url, token_margin=0.3) as api:
        order_id = state.order_id(3)
        assert api.get_order(order_id)["orderId"] == order_id
        time.sleep(0.35)  # past the renewal point (0.6 s - margin), before the expiry
        assert api.get_order(order_id)["orderId"] == order_id
        assert api.token_calls == 2
    assert state.stats()["unauthorized"] == 0


def test_lastmodifieddate_windows_are_incremental(ebay):
    state, base_url = ebay
    with _api(state, base_url) as api:
        since = datetime.now(UTC) - timedelta(milliseconds=1)
        assert list(api.orders_modified(since)) == []
        cancelled, changed, shipped = state.order_id(10), state.order_id(20), _open_order(state)
        state.cancel_order(cancelled)
        state.update_order(changed, ship_to={"addressLine1": "Neue Straße 1", "city": "Trier"})
        api.ensure_shipping_fulfillment(shipped["orderId"], _lines(shipped), "DHL", "00340434123456789012")
        new = state.add_order([(state.catalogue.sku(3), 2)])

        orders = list(api.orders_modified(since))
        assert {o["orderId"] for o in orders} == {cancelled, changed, shipped["orderId"], new}
        assert orders[-1]["orderId"] == new
        # A closed window that ended before the changes sees none of them.
        assert list(api.orders_modified(since - timedelta(seconds=5), since - timedelta(seconds=1))) == []
        # The next window starts after the latest lastModifiedDate seen: nothing new, until something changes.
        latest = max(datetime.fromisoformat(o["lastModifiedDate"].replace("Z", "+00:00")) for o in orders)
        after = latest + timedelta(milliseconds=1)
        assert list(api.orders_modified(after)) == []
        state.touch_order(changed)
        assert [o["orderId"] for o in api.orders_modified(after)] == [changed]


# ------------------------------------------------------------------------------------------- fulfillments
def test_ensure_shipping_fulfillment_never_adds_tracking_twice(ebay):
    state, base_url = ebay
    first, second, third = _open_order(state), _open_order(state, 1), _open_order(state, 2)
    with _api(state, base_url, timeout=0.5) as api:
        # The fulfillment is created, then its answer is lost (connection cut mid-response): the retry
        # reads the order's fulfillments, finds it, and does not send it again.
        state.add_fault("apply_then_drop", target="createShippingFulfillment")
        shipped = datetime.now(UTC) - timedelta(minutes=5)
        fid = api.ensure_shipping_fulfillment(first["orderId"], _lines(first), "DHL", "JJD0001 2345-67", shipped)
        assert fid == "JJD0001234567"
        assert [f["shipmentTrackingNumber"] for f in state.shipping_fulfillments(first["orderId"])] == [fid]
        assert state.shipping_fulfillments(first["orderId"])[0]["shippedDate"] == stamp(
            int(shipped.timestamp() * 1000))
        # Repeated (a re-run of the job): the existing fulfillment, no POST.
        assert api.ensure_shipping_fulfillment(first["orderId"], _lines(first), "DHL", "jjd0001234567") == fid
        assert len(_calls(state, "createShippingFulfillment")) == 1

        # A proxy answers 502 after eBay applied it; then an answer that never comes (timeout).
        state.add_fault("apply_then_drop", target="createShippingFulfillment", then="502")
        assert api.ensure_shipping_fulfillment(second["orderId"], _lines(second), "DPD", "01234567890123") == \
            "01234567890123"
        state.add_fault("apply_then_drop", target="createShippingFulfillment", then="hang", seconds=5)
        assert api.ensure_shipping_fulfillment(third["orderId"], _lines(third), "GLS", "H1000000000000") == \
            "H1000000000000"
        for order in (first, second, third):
            assert len(state.shipping_fulfillments(order["orderId"])) == 1
        assert state.stats()["fulfillments_created"] == 3 and state.stats()["answers_dropped"] == 3

        # Shipped in Seller Hub already: found, not sent.
        seller_hub = _open_order(state)
        state.ship_order(seller_hub["orderId"], "SH99887766")
        assert api.ensure_shipping_fulfillment(seller_hub["orderId"], _lines(seller_hub), "DHL", "SH99887766") == \
            "SH99887766"
        assert len(_calls(state, "createShippingFulfillment")) == 3

        # The plain create is sent once: a lost answer is reported as an unknown outcome.
        state.add_fault("apply_then_drop", target="createShippingFulfillment")
        other = _open_order(state)
        with pytest.raises(EbayError) as caught:
            api.create_shipping_fulfillment(other["orderId"], _lines(other), "DHL", "X1")
        assert caught.value.outcome_unknown and caught.value.retryable
        assert len(state.shipping_fulfillments(other["orderId"])) == 1
        # A refusal is not retried: one POST, eBay's errorId in the message.
        with pytest.raises(EbayError) as caught:
            api.ensure_shipping_fulfillment(other["orderId"], [{"lineItemId": "10000000000000", "quantity": 1}],
                                            "DHL", "X2")
        assert caught.value.kind == "rejected" and caught.value.error_id == 32200 and "errorId 32200" in str(
            caught.value)
        assert len(_calls(state, "createShippingFulfillment")) == 5


# ------------------------------------------------------------------------------------------- inventory
def test_bulk_quantities_answered_200_and_207_per_sku(ebay):
    state, base_url = ebay
    skus = [state.catalogue.sku(i) for i in range(30)]
    with _api(state, base_url) as api:
        assert api.offer_ids(skus[0]) == state.offer_ids(skus[0])
        items = [(sku, state.offer_ids(sku)[0] if i % 2 else None, 100 + i) for i, sku in enumerate(skus)]
        results = api.bulk_update_quantities(items)
        assert [(r.sku, r.status) for r in results] == [(sku, "ok") for sku in skus]
        assert len(_calls(state, "bulkUpdatePriceQuantity")) == 2  # 25 + 5
        assert all(state.item_quantity(sku) == 100 + i for i, sku in enumerate(skus))
        assert state.listing_quantity(skus[1]) == 101  # the offer's availableQuantity too
        assert api.inventory_quantities([*skus, "NOT-ON-EBAY"]) == {sku: 100 + i for i, sku in enumerate(skus)}

        rejected, gone, fine = skus[4], skus[5], skus[6]
        state.reject_sku(rejected, status=500, error_id=25001, message="A system error has occurred.")
        state.forget_offer(state.offer_ids(gone)[0])
        results = {r.sku: r for r in api.bulk_update_quantities([
            (fine, None, 7), (rejected, None, 1), ("NOT-ON-EBAY", None, 1), (skus[7], None, -5),
            (gone, "5000000000000", 3), (fine, state.offer_ids(fine)[0], 8)])}
        assert results[fine].ok and state.listing_quantity(fine) == 8  # the last entry of a SKU wins
        assert (results[rejected].status, results[rejected].error_id, results[rejected].retryable) == \
            ("rejected", 25001, True)
        assert results["NOT-ON-EBAY"].error_id == 25702 and "NOT-ON-EBAY is not available" in \
            results["NOT-ON-EBAY"].message
        assert results[skus[7]].message == "errorId 25709: Invalid value for quantity."
        assert results[gone].error_id == 25713 and results[gone].message.startswith("offer 5000000000000: ")
        assert state.item_quantity(rejected) == 104 and state.item_quantity(skus[7]) == 107

        api.create_or_replace_inventory_item("MS-NEW-1", 12, {"condition": "NEW",
                                                             "product": {"title": "A new thing"}})
        assert state.item_quantity("MS-NEW-1") == 12
        assert api.inventory_quantities(["MS-NEW-1"]) == {"MS-NEW-1": 12}
        assert api.offer_ids("MS-NEW-1") == []


# ------------------------------------------------------------------------------------------- retries
def test_429_and_5xx_are_retried_on_reads_and_safe_writes(ebay):
    state, base_url = ebay
    order_id = state.order_id(7)
    with _api(state, base_url) as api:
        state.add_fault("http_429", count=2, target="getOrder")  # no Retry-After
        assert api.get_order(order_id)["orderId"] == order_id
        state.add_fault("http_429", retry_after=0.3, target="getOrder")
        started = time.monotonic()
        assert api.get_order(order_id)["orderId"] == order_id
        assert time.monotonic() - started >= 0.3  # Retry-After honoured
        for kind in ("http_500", "http_502", "http_503", "http_504"):
            state.add_fault(kind, target="getShippingFulfillments")
        assert isinstance(api.shipping_fulfillments(order_id), list)
        state.add_fault("http_500", target="token")
        state.expire_access_tokens()
        assert api.get_order(order_id)["orderId"] == order_id
        state.add_fault("http_503", count=2, target="bulkUpdatePriceQuantity")
        assert api.bulk_update_quantities([(state.catalogue.sku(1), None, 9)])[0].ok
        state.add_fault("apply_then_drop", target="bulkUpdatePriceQuantity")  # absolute: sent again
        assert api.bulk_update_quantities([(state.catalogue.sku(1), None, 10)])[0].ok
        assert state.item_quantity(state.catalogue.sku(1)) == 10
        state.add_fault("http_500", target="createOrReplaceInventoryItem")
        api.create_or_replace_inventory_item("MS-NEW-2", 3)
        assert state.item_quantity("MS-NEW-2") == 3
    assert state.stats()["faults_fired"] == {"http_429": 3, "http_500": 3, "http_502": 1, "http_503": 3,
                                             "http_504": 1, "apply_then_drop": 1}


def test_quota_exhaustion_surfaces_as_a_retryable_error(ebay):
    state, base_url = ebay
    with _api(state, base_url, rate_limit_attempts=3) as api:
        assert api.get_order(state.order_id(1))  # a token first
        state.set_quota("fulfillment", 0)
        with pytest.raises(EbayError) as caught:  # no Retry-After: tried a few times, then given up
            api.get_order(state.order_id(1))
        error = caught.value
        assert error.kind == "rate_limited" and error.retryable and error.retry_after is None
        assert error.status == 429 and error.error_id == 2001 and "Too many requests." in str(error)
        assert state.stats()["quota_rejections"] == 3
        state.quota_retry_after = "reset"  # hours until midnight Pacific: raised at once, not waited for
        with pytest.raises(EbayError) as caught:
            list(api.orders_modified(datetime.now(UTC) - timedelta(days=1)))
        assert caught.value.kind == "quota" and caught.value.retryable and caught.value.retry_after > 2.0
        assert state.stats()["quota_rejections"] == 4
        order = _open_order(state)
        with pytest.raises(EbayError) as caught:
            api.ensure_shipping_fulfillment(order["orderId"], _lines(order), "DHL", "Q123")
        assert caught.value.kind == "quota" and state.shipping_fulfillments(order["orderId"]) == []
        assert api.inventory_quantities([state.catalogue.sku(0)])  # the Inventory API has its own quota
        state.reset_quotas()
        state.set_quota("fulfillment", None)
        assert api.ensure_shipping_fulfillment(order["orderId"], _lines(order), "DHL", "Q123") == "Q123"


# ------------------------------------------------------------------------------------------- errors
def test_errors_are_one_line_classified_and_free_of_secrets(ebay):
    state, base_url = ebay
    errors: list[EbayError] = []

    def failing(call, kind):
        with pytest.raises(EbayError) as caught:
            call()
        assert caught.value.kind == kind, str(caught.value)
        errors.append(caught.value)

    refresh = state.grant()["refresh_token"]
    with _api(state, base_url, refresh) as api:
        failing(lambda: api.get_order("99-99999-99999"), "not_found")
        assert errors[-1].error_id == 32100
        state.revoke_refresh_token(refresh)
        state.expire_access_tokens()
        failing(lambda: api.get_order(state.order_id(1)), "reauthorize")
    with _api(state, base_url, client_secret="wrong-" + CLIENT_SECRET) as api:
        failing(lambda: api.get_order(state.order_id(1)), "auth")
    narrow = state.grant(scopes=[scope("sell.fulfillment.readonly")])["refresh_token"]
    with _api(state, base_url, narrow) as api:
        failing(lambda: api.get_order(state.order_id(1)), "forbidden")  # invalid_scope at the token endpoint
    with _api(state, base_url, narrow, scopes=[scope("sell.fulfillment.readonly")]) as api:
        order = _open_order(state)
        failing(lambda: api.ensure_shipping_fulfillment(order["orderId"], _lines(order), "DHL", "F1"), "forbidden")
        assert errors[-1].error_id == 1100
        assert repr(api) == f"EbayApi({base_url!r}, token=****)"
    secrets = [CLIENT_SECRET, *state.issued_secrets]
    assert len(errors) == 5
    for error in errors:
        text = str(error)
        assert "\n" not in text and not any(secret in text for secret in secrets), text


# ------------------------------------------------------------------------------------------- vault
def test_session_from_the_account_and_its_vault_credentials(ebay, warehouse, vault):
    state, base_url = ebay
    refresh = state.grant()["refresh_token"]
    assert re.search(r"[+/=]", refresh)  # must be form-encoded properly
    resource = EbayResource(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, retry_backoff_seconds=0.01)
    with warehouse.begin() as conn:
        account = upsert_account(conn, "shop", "ebay", base_url, {})
        bare = upsert_account(conn, "other", "ebay", None, {})
        vault.store(conn, account.account_id, {"refresh_token": refresh, "note": "kept"})
    with ebay_session(resource, warehouse.engine, vault, account.account_id) as api:
        assert api.base_url == base_url and api.token_url == base_url + TOKEN_PATH
        assert api.get_order(state.order_id(2))["orderId"] == state.order_id(2)
        # A token answer with a new refresh token (eBay does not rotate, but would be obeyed) is stored.
        api._on_refresh_token("v^1.1#i^1#r^1#new+token/==")
    with warehouse.begin() as conn:
        stored = vault.load(conn, account.account_id)
        assert stored.reveal("refresh_token") == "v^1.1#i^1#r^1#new+token/==" and stored.reveal("note") == "kept"
        overridden = resource.model_copy(update={"token_url": "https://auth.example.test/token"})
        api = ebay_session(overridden, conn, vault, account.account_id)
        assert api.token_url == "https://auth.example.test/token"
        api.close()
        with pytest.raises(EbayError) as caught:
            ebay_session(resource, conn, vault, bare.account_id)
        assert caught.value.kind == "reauthorize"
