"""Amazon's Selling Partner API (SP-API): orders, shipment confirmations, listing quantities (one SKU
at a time or as a JSON_LISTINGS_FEED), over httpx.

Authorisation is Login with Amazon (LWA): the seller consents once and the refresh token that yields is
stored in the account's credentials (`{"refresh_token": "Atzr|..."}`). The client trades it for an
access token (form body: grant_type=refresh_token, refresh_token, client_id, client_secret), sends it
as `x-amz-access-token`, replaces it a margin before `expires_in` runs out and once more when the API
answers 403 Unauthorized anyway. LWA refresh tokens are long-lived and not rotated.

Rate limits: every operation has a usage plan (rate per second, burst; the table in each operation's
description in the models). The client keeps a token bucket per (seller, operation), full at first,
waits for a token before each call and adopts the rate of each answer's `x-amzn-RateLimit-Limit`.
A 429 never fails a run: the client waits (Retry-After when given, else until its bucket has a token
again, with jitter, capped) and tries again. Waiting goes through the injectable `sleep` and `clock`.

Retries: every call this client makes is safe to repeat, so 5xx, timeouts and dropped connections
are retried with full-jitter backoff: reads trivially; confirmShipment because the caller's
`package_reference_id` makes a repeat edit the same package instead of adding one; listing quantities
are absolute values; a feed document or feed created twice sets the same quantities twice.

Failures are one-line `AmazonError`s built from SP-API's `{"errors": [{"code", "message", "details"}]}`,
with `retryable`, scrubbed of the client secret and every token the session has seen.
"""
import gzip
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
import orjson
from pydantic import PrivateAttr
from tenacity import RetryCallState

from marketsync.resources.client_resource import ApiClientResource
from marketsync.resources.errors import first_line
from marketsync.resources.http_client import DEFAULT_LIMITS, ApiSession, HttpClient
from marketsync.resources.http_limits import (
    MALFORMED,
    Limits,
    malformed,
)
from marketsync.resources.http_retry import HttpCallError, RetryPolicy, backoff_seconds, retry_after_seconds
from marketsync.resources.oauth import MemoryTokenStore, OAuthTokens, TokenSet, issued, lifetime_of
from marketsync.resources.scrubbing import SecretScrubber

API_URL = "https://sellingpartnerapi-eu.amazon.com"
SANDBOX_URL = "https://sandbox.sellingpartnerapi-eu.amazon.com"
TOKEN_URL = "https://api.amazon.com/auth/o2/token"  # noqa: S105 - a URL, not a secret
TOKEN_PATH = "/auth/o2/token"  # noqa: S105 - a URL path, not a secret
ORDERS = "/orders/2026-01-01/orders"
LISTINGS = "/listings/2021-08-01/items"
FEEDS = "/feeds/2021-06-30"
FEED_CONTENT_TYPE = "application/json; charset=UTF-8"
MAX_FEED_MESSAGES = 25_000  # listings-feed-schema-v2: messages maxItems
WINDOW_MARGIN = timedelta(minutes=2, seconds=5)  # searchOrders: the end at least two minutes before now
DEFAULT_INCLUDED_DATA = ("BUYER", "RECIPIENT", "PROCEEDS", "FULFILLMENT", "CANCELLATION", "PACKAGES")
# Usage plans (requests per second, burst) from the operations' descriptions in the models.
RATE_LIMITS = {
    "searchOrders": (0.0056, 20), "getOrder": (0.5, 30),                        # orders_2026-01-01.json
    "confirmShipment": (2.0, 10),                                               # ordersV0.json
    "getListingsItem": (5.0, 10), "patchListingsItem": (5.0, 5),                # listingsItems_2021-08-01.json
    "createFeedDocument": (0.5, 15), "createFeed": (0.0083, 15), "getFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),                                            # feeds_2021-06-30.json
}
# What is tried again: 429 (after the bucket's wait), 5xx and no answer; every call here may be repeated.
RETRIED_KINDS = frozenset({"rate_limited", "server", "unreachable"})
# FATAL feeds whose cause is the document itself: sending it again changes nothing.
_DOCUMENT_FAULTS = frozenset({"INVALID_DOCUMENT", "INVALID_HEADER", "TOO_MANY_MESSAGES"})

log = logging.getLogger(__name__)


class AmazonError(HttpCallError):
    """A failed SP-API call. `kind`: reauthorize (the refresh token is refused: the seller must
    authorise marketsync again), auth (the application's client id/secret), forbidden, not_found,
    rejected (Amazon refused the request), rate_limited, server, unreachable, fatal (a feed ended FATAL
    or CANCELLED). `retryable`: worth trying again later. `code`: SP-API's or LWA's error code."""

    TRANSIENT = frozenset({"rate_limited", "server", "unreachable"})

    def __init__(self, message: str, kind: str, retry_after: float | None = None, *, status: int | None = None,
                 code: str | None = None, retryable: bool | None = None):
        super().__init__(message, kind, retry_after)
        self.status, self.code = status, code
        self._retryable = retryable

    @property
    def retryable(self) -> bool:
        return self.transient if self._retryable is None else self._retryable


@dataclass(frozen=True)
class ListingResult:
    """A patchListingsItem answer: status ACCEPTED, INVALID or VALID, and the issues' messages."""

    sku: str
    status: str
    submission_id: str | None
    issues: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.status == "ACCEPTED"


@dataclass(frozen=True)
class FeedItemResult:
    """One SKU of a quantities (or prices) feed: status accepted, rejected (an ERROR issue, `messages` say
    why) or unknown (the report does not say it was processed: send again)."""

    sku: str
    quantity: int | Decimal  # the value the message set: a quantity, or a price in a prices feed
    status: str
    feed_id: str
    messages: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"


class TokenBucket:
    """A thread-safe token bucket: `reserve(now)` spends a token (going into debt when none is left)
    and says how long to wait before using it."""

    def __init__(self, rate: float, burst: int, now: float):
        self.rate, self.burst = float(rate), int(burst)
        self.tokens, self.stamp = float(burst), now
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self.tokens = min(float(self.burst), self.tokens + max(0.0, now - self.stamp) * self.rate)
        self.stamp = max(self.stamp, now)

    def reserve(self, now: float) -> float:
        with self._lock:
            self._refill(now)
            self.tokens -= 1.0
            return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def set_rate(self, rate: float, now: float) -> None:
        with self._lock:
            self._refill(now)
            self.rate = rate

    def exhausted(self, now: float, wait: float | None = None) -> None:
        """The server says it has no token: the next reservation waits `wait` (default one refill)."""
        with self._lock:
            self._refill(now)
            self.tokens = min(self.tokens, 1.0 - (wait if wait is not None else 1.0 / self.rate) * self.rate)


class RateLimiter:
    """Token buckets per (API host, seller, operation), shared by the sessions of one resource."""

    def __init__(self, rate_scale: float = 1.0):
        self.rate_scale = rate_scale
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, host: str, seller_id: str, operation: str, now: float) -> TokenBucket:
        with self._lock:
            key = (host, seller_id, operation)
            if key not in self._buckets:
                rate, burst = RATE_LIMITS[operation]
                self._buckets[key] = TokenBucket(rate * self.rate_scale, burst, now)
            return self._buckets[key]


def _instant(moment: datetime | str) -> str:
    if isinstance(moment, str):
        return moment
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _errors(response: httpx.Response) -> tuple[str | None, str]:
    """(the first error's code, "message (details)") of an SP-API error answer."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None, ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return None, ""
    first = errors[0]
    message = first_line(first.get("message") or "")
    details = first_line(first.get("details") or "", 150)
    text_ = message + (f" ({details})" if details else "")
    return (str(first.get("code")) if first.get("code") else None), \
        text_ + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")


def _unauthorized(response: httpx.Response) -> bool:
    """How SP-API refuses an access token: 403 with the error code Unauthorized."""
    return response.status_code == 403 and _errors(response)[0] == "Unauthorized"


def _quantity_patch(quantity: int) -> list[dict]:
    return [{"op": "replace", "path": "/attributes/fulfillment_availability",
             "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": int(quantity)}]}]


def _price_patch(amount: Decimal, currency: str, marketplace_id: str) -> list[dict]:
    """The `purchasable_offer` attribute as the Listings Items API takes it: the offer of one marketplace,
    for every audience, with our price (tax included, as European marketplaces sell) as a one-entry
    schedule. JSON carries the amount as a number; two decimals survive the float exactly as written."""
    return [{"op": "replace", "path": "/attributes/purchasable_offer",
             "value": [{"marketplace_id": marketplace_id, "currency": currency, "audience": "ALL",
                        "our_price": [{"schedule": [{"value_with_tax": float(amount)}]}]}]}]


class _Tries:
    """What one call's retries count: failures (5xx, no answer, a failed token call; retried with
    backoff up to `attempts`) and throttles (429: waited out by the bucket, up to `throttle_attempts`),
    and whether the last try was throttled."""

    def __init__(self) -> None:
        self.failures = self.throttles = 0
        self.throttled = False


class AmazonSpApi(ApiSession):
    """A session with one selling partner: the SP-API at `base_url`, LWA at `token_url`. Thread-safe
    (buckets and the token are locked). Use as a context manager or `close()` it. `sleep` and `clock`
    (monotonic seconds) are what every wait goes through; `waits` records them as (operation, seconds,
    reason) with reason pace, throttled or retry."""

    def __init__(self, base_url: str, token_url: str, client_id: str, client_secret: str, refresh_token: str,
                 seller_id: str, marketplace_ids: Iterable[str], *, timeout: float = 30.0,
                 connect_timeout: float = 10.0, attempts: int = 5, throttle_attempts: int = 30,
                 backoff: float = 0.5, max_wait: float = 60.0, max_throttle_wait: float = 300.0,
                 token_margin: float = 60.0, rate_scale: float = 1.0, limiter: RateLimiter | None = None,
                 feed_poll_seconds: float = 30.0, feed_timeout: float = 3600.0,
                 feed_max_messages: int = MAX_FEED_MESSAGES, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, limits: Limits = DEFAULT_LIMITS):
        self.limits = limits
        self.base_url, self.token_url = base_url.rstrip("/"), token_url
        self.seller_id, self.marketplace_ids = seller_id, list(marketplace_ids)
        if not seller_id or not self.marketplace_ids:
            raise AmazonError("an Amazon account needs the settings seller_id and marketplace_ids", "rejected")
        self._client_id, self._client_secret = client_id, client_secret
        self._attempts, self._throttle_attempts = max(1, attempts), max(1, throttle_attempts)
        self._backoff, self._max_wait, self._max_throttle_wait = backoff, max_wait, max_throttle_wait
        self._token_margin = token_margin
        self._limiter = limiter or RateLimiter(rate_scale)
        self.feed_poll_seconds, self.feed_timeout, self.feed_max_messages = \
            feed_poll_seconds, feed_timeout, min(feed_max_messages, MAX_FEED_MESSAGES)
        self._sleep, self._clock = sleep, clock
        self._http = HttpClient("Amazon", AmazonError, scrubber=SecretScrubber(client_secret, refresh_token),
                                timeout=timeout, connect_timeout=connect_timeout, limits=limits,
                                retry=RetryPolicy(self._attempts, backoff, max_wait, kinds=RETRIED_KINDS),
                                headers={"Accept": "application/json", "User-Agent": "marketsync (Language=Python)"},
                                status_error=self._api_error)
        self._tokens = OAuthTokens(self._lwa_token, MemoryTokenStore(refresh_token, clock=clock),
                                   remember=self._http.scrubber.add_token)
        self.waits: list[tuple[str, float, str]] = []
        self.token_calls = self.throttled = self.retries = 0
        self.last_window_end: str | None = None  # the lastUpdatedBefore of the last searchOrders window

    # ------------------------------------------------------------------ safety and waiting
    def _wait(self, operation: str, seconds: float, reason: str) -> None:
        if seconds > 0:
            self.waits.append((operation, seconds, reason))
            self._sleep(seconds)

    def bucket(self, operation: str) -> TokenBucket:
        """This seller's bucket for `operation` (its `rate` follows x-amzn-RateLimit-Limit)."""
        return self._limiter.bucket(self.base_url, self.seller_id, operation, self._clock())

    def _pace(self, operation: str, throttled: bool) -> None:
        delay = self.bucket(operation).reserve(self._clock())
        if delay > 0:
            if throttled:
                delay *= 1.0 + random.random() * 0.25  # noqa: S311 - jitter, not security
            self._wait(operation, min(delay, self._max_throttle_wait), "throttled" if throttled else "pace")

    def _adopt_rate(self, operation: str, response: httpx.Response) -> None:
        try:
            rate = float(response.headers.get("x-amzn-RateLimit-Limit", ""))
        except ValueError:
            return
        bucket = self.bucket(operation)
        if rate > 0 and rate != bucket.rate:
            log.info("Amazon %s rate limit now %s/s", operation, rate)
            bucket.set_rate(rate, self._clock())

    def _retrying(self, operation: str, attempt: Callable[[], httpx.Response], tries: _Tries) -> httpx.Response:
        """`attempt()` through the session's retries: a failure again after full-jitter backoff honouring
        Retry-After (through the injected sleep, counted in `retries`), up to `attempts`; a throttled try
        again at once (its bucket paces it), up to `throttle_attempts`."""
        def counted() -> httpx.Response:
            try:
                return attempt()
            except AmazonError as error:
                if error.kind in RETRIED_KINDS and not tries.throttled:
                    tries.failures += 1
                raise

        def stop(_state: RetryCallState) -> bool:
            if tries.throttled:
                return tries.throttles >= self._throttle_attempts
            return tries.failures >= self._attempts

        def wait(state: RetryCallState) -> float:
            if tries.throttled:
                return 0.0
            self.retries += 1
            hinted = getattr(state.outcome.exception(), "retry_after", None) if state.outcome else None
            # Amazon's rule of old: the first retry waits up to twice `backoff`.
            return backoff_seconds(tries.failures + 1, self._backoff, self._max_wait, hinted)

        return self._http.retrying(counted, stop=stop, wait=wait,
                                   sleep=lambda seconds: self._wait(operation, seconds, "retry"))

    # ------------------------------------------------------------------ LWA
    def _lwa_token(self, refresh_token: str | None) -> TokenSet:
        """One Login with Amazon call (under the token store's lock; retried with the call it serves)."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token or "",
                "client_id": self._client_id, "client_secret": self._client_secret}
        self.token_calls += 1
        sent = self._clock()
        response = self._http.send("POST", self.token_url, "the Login with Amazon token request", data=form)
        body = _json(response)
        if response.status_code == 200 and body.get("access_token"):
            return issued(str(body["access_token"]), lifetime_of(body, 60.0) or 60.0, sent, self._token_margin,
                          refresh_token)
        raise self._token_error(response, body)

    def _token_error(self, response: httpx.Response, body: dict) -> AmazonError:
        status, code = response.status_code, str(body.get("error") or "") or None
        if status == 429 or status >= 500:
            return self._error(f"Login with Amazon failed (HTTP {status})", "rate_limited" if status == 429
                               else "server", retry_after=retry_after_seconds(response), status=status, code=code)
        if code == "invalid_grant":
            return self._error("Login with Amazon no longer accepts this account's refresh token (revoked or "
                               "expired): authorise marketsync in Seller Central again and store the new one",
                               "reauthorize", status=status, code=code)
        if code in ("invalid_client", "unauthorized_client") or status == 401:
            return self._error(f"Login with Amazon refused the application's client id and secret (HTTP {status} "
                               f"{code or ''}): check the LWA credentials", "auth", status=status, code=code)
        detail = first_line(body.get("error_description") or "")
        return self._error(f"Login with Amazon refused the token request (HTTP {status} {code or ''}): {detail}",
                           "rejected", status=status, code=code)

    # ------------------------------------------------------------------ transport
    def _call(self, operation: str, method: str, path: str, what: str, *, params: Any = None,
              json: Any = None, expect: tuple[int, ...] = (200,)) -> httpx.Response:
        """One SP-API operation: paced by its bucket, authorised (one refresh on 403 Unauthorized),
        429 waited out, 5xx and transport failures retried (every operation here may be repeated)."""
        tries = _Tries()

        def attempt() -> httpx.Response:
            throttled, tries.throttled = tries.throttled, False

            def send(token: str) -> httpx.Response:
                nonlocal throttled
                self._pace(operation, throttled)
                throttled = False
                response = self._http.send(method, self.base_url + path, what, params=params, json=json,
                                           headers={"x-amz-access-token": token})
                self._adopt_rate(operation, response)
                return response

            response = self._tokens.authorised(send, _unauthorized)
            if response.status_code == 429:
                self.throttled += 1
                tries.throttles += 1
                hinted = retry_after_seconds(response)
                self.bucket(operation).exhausted(self._clock(), hinted)
                tries.throttled = True
                raise self._error(f"Amazon kept throttling {what} ({tries.throttles} times)", "rate_limited",
                                  retry_after=hinted, status=429, code=_errors(response)[0])
            return self._http.expect(response, what, expect)

        return self._retrying(operation, attempt, tries)

    def _api_error(self, response: httpx.Response, what: str) -> AmazonError:
        """The error mapping: an SP-API answer's status and errors as an AmazonError."""
        status = response.status_code
        code, detail = _errors(response)
        label = f"HTTP {status}{' ' + code if code else ''}"
        request_id = response.headers.get("x-amzn-RequestId")
        tail = (f": {detail}" if detail else "") + (f" [request {request_id}]" if request_id else "")
        kind = ("server" if status >= 500 else "rate_limited" if status == 429 else "forbidden" if status in (401, 403)
                else "not_found" if status == 404 else "rejected")
        verb = {"server": "failed on", "forbidden": "does not permit", "not_found": "found nothing for"}.get(kind,
                                                                                                          "refused")
        return self._error(f"Amazon SP-API {verb} {what} ({label}){tail}", kind,
                           retry_after=retry_after_seconds(response), status=status, code=code)

    def _storage(self, method: str, url: str, what: str, **kwargs) -> httpx.Response:
        """A presigned document URL (no access token goes there), retried on transient failures."""
        def attempt() -> httpx.Response:
            response = self._http.send(method, url, what, **kwargs)
            code = response.status_code
            if code == 200:
                return response
            if code < 500 and code != 429:
                raise self._error(f"the document store refused {what} (HTTP {code}: {first_line(response.text, 200)})",
                                  "rejected", status=code)
            raise self._error(f"the document store failed on {what} (HTTP {code})", "server", status=code)

        return self._retrying("document", attempt, _Tries())

    # ------------------------------------------------------------------ orders
    def search_orders(self, last_updated_after: datetime, last_updated_before: datetime | None = None,
                      page_size: int = 100, included_data: Iterable[str] = DEFAULT_INCLUDED_DATA, *,
                      by: str = "lastUpdated") -> Iterator[dict]:
        """Orders updated in [after, before] (Orders API v2026-01-01 searchOrders), oldest first, each
        with its `orderItems`; with `by="created"`, the orders created in that window instead (what a
        reconciliation of a day reads). The end is clamped to a little over two minutes before now
        (searchOrders refuses later ones); the window's effective end is kept in `last_window_end`, the
        start of the next incremental sync. Paging tokens go back exactly as received (httpx encodes them
        once)."""
        if not 1 <= page_size <= 100:
            raise ValueError("page_size must be 1 to 100")
        if by not in ("lastUpdated", "created"):
            raise ValueError("by must be lastUpdated or created")
        latest = datetime.now(UTC) - WINDOW_MARGIN
        before = min(_utc(last_updated_before), latest) if last_updated_before is not None else latest
        after = _utc(last_updated_after)
        if after > before:
            return
        params: dict[str, Any] = {f"{by}After": _instant(after), f"{by}Before": _instant(before),
                                  "marketplaceIds": ",".join(self.marketplace_ids), "maxResultsPerPage": page_size}
        included = ",".join(included_data)
        if included:
            params["includedData"] = included

        def fetch(token: str | None, number: int) -> tuple[list[dict], dict, str]:
            what = f"Amazon searchOrders page {number}"
            query = {**params, "paginationToken": token} if token else params
            response = self._call("searchOrders", "GET", ORDERS, f"searchOrders page {number}", params=query)
            # Strict: a broken answer must never pass for the end of the list (the caller moves its
            # cursor past the window once the last page is read).
            try:
                body = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                raise self._error(malformed(what, "not JSON"), MALFORMED) from None
            orders = body.get("orders") if isinstance(body, dict) else None
            if not isinstance(orders, list) or not all(isinstance(order, dict) for order in orders):
                detail = "not a JSON object" if not isinstance(body, dict) else \
                    "`orders` is " + ("missing" if "orders" not in body else "null" if orders is None
                                      else "not a list of objects")
                raise self._error(malformed(what, detail), MALFORMED)
            return orders, body, what

        def following(page: tuple[list[dict], dict, str]) -> str | None:
            _orders, body, what = page
            self.last_window_end = body.get("lastUpdatedBefore") or self.last_window_end
            token = (body.get("pagination") or {}).get("nextToken") if isinstance(body.get("pagination"), dict) \
                else None
            if not token:
                return None
            if not isinstance(token, str):
                raise self._error(malformed(what, "`pagination.nextToken` is not a string"), MALFORMED)
            return token

        for orders, *_ in self._http.pages("Amazon searchOrders", fetch, following):
            yield from orders

    def get_order(self, order_id: str, included_data: Iterable[str] = DEFAULT_INCLUDED_DATA) -> dict:
        params = {"includedData": ",".join(included_data)} if included_data else None
        return _json(self._call("getOrder", "GET", f"{ORDERS}/{quote(order_id, safe='')}", f"getOrder {order_id}",
                                params=params)).get("order") or {}

    def confirm_shipment(self, order_id: str, package_reference_id: str, carrier_code: str, tracking_number: str,
                         ship_date: datetime | str, items: list[dict], marketplace_id: str | None = None, *,
                         carrier_name: str | None = None, shipping_method: str | None = None) -> None:
        """Confirm a package of a merchant-fulfilled order (Orders v0 confirmShipment, 204). The
        caller derives `package_reference_id` (a positive number) from its own shipment: a repeat, or
        a retry after a lost answer, edits that package instead of adding another, which is what makes
        retrying every failure of unknown outcome safe. `items`: [{"orderItemId", "quantity"}]."""
        reference = str(package_reference_id)
        if not reference.isdigit() or int(reference) < 1:
            raise ValueError("package_reference_id must be a positive number (Amazon's rule)")
        detail: dict[str, Any] = {"packageReferenceId": reference, "carrierCode": carrier_code,
                                  "trackingNumber": tracking_number, "shipDate": _instant(ship_date),
                                  "orderItems": [{"orderItemId": str(i["orderItemId"]), "quantity": int(i["quantity"])}
                                                 for i in items]}
        if carrier_name:
            detail["carrierName"] = carrier_name
        if shipping_method:
            detail["shippingMethod"] = shipping_method
        self._call("confirmShipment", "POST", f"/orders/v0/orders/{quote(order_id, safe='')}/shipmentConfirmation",
                   f"confirmShipment of order {order_id} package {reference}", expect=(204,),
                   json={"marketplaceId": marketplace_id or self.marketplace_ids[0], "packageDetail": detail})

    # ------------------------------------------------------------------ listings
    def _listing_path(self, sku: str) -> str:
        return f"{LISTINGS}/{quote(self.seller_id, safe='')}/{quote(sku, safe='')}"

    def patch_listing_quantity(self, sku: str, quantity: int, product_type: str = "PRODUCT") -> ListingResult:
        """Set the merchant-fulfilled quantity of one listing (patchListingsItem, fulfillment_availability).
        An INVALID answer is returned, not raised: its issues say why."""
        body = _json(self._call("patchListingsItem", "PATCH", self._listing_path(sku), f"patchListingsItem {sku}",
                                params={"marketplaceIds": ",".join(self.marketplace_ids)},
                                json={"productType": product_type, "patches": _quantity_patch(quantity)}))
        issues = tuple(first_line(i.get("message") or i.get("code") or "") for i in body.get("issues") or []
                       if isinstance(i, dict))
        return ListingResult(sku, str(body.get("status") or "UNKNOWN"), body.get("submissionId"), issues)

    def patch_listing_price(self, sku: str, amount: Decimal, currency: str,
                            product_type: str = "PRODUCT") -> ListingResult:
        """Set one listing's price (patchListingsItem of `purchasable_offer`, for the session's first
        marketplace). An INVALID answer is returned, not raised: its issues say why. Retried: the price
        is absolute, so a retry whose first try's outcome is unknown cannot apply twice."""
        body = _json(self._call("patchListingsItem", "PATCH", self._listing_path(sku), f"patchListingsItem {sku}",
                                params={"marketplaceIds": self.marketplace_ids[0]},
                                json={"productType": product_type,
                                      "patches": _price_patch(amount, currency, self.marketplace_ids[0])}))
        issues = tuple(first_line(i.get("message") or i.get("code") or "") for i in body.get("issues") or []
                       if isinstance(i, dict))
        return ListingResult(sku, str(body.get("status") or "UNKNOWN"), body.get("submissionId"), issues)

    def listing_price(self, sku: str) -> Decimal | None:
        """Our price of a listing as Amazon shows it in its offers (getListingsItem), or None."""
        try:
            body = _json(self._call("getListingsItem", "GET", self._listing_path(sku), f"getListingsItem {sku}",
                                    params={"marketplaceIds": self.marketplace_ids[0], "includedData": "offers"}))
        except AmazonError as error:
            if error.kind == "not_found":
                return None
            raise
        for offer in body.get("offers") or []:
            amount = (offer.get("price") or {}).get("amount") if isinstance(offer, dict) else None
            if amount is not None:
                return Decimal(str(amount))
        return None

    def listing_quantity(self, sku: str) -> int | None:
        """The DEFAULT (merchant-fulfilled) quantity Amazon shows for a listing; None without a listing
        or quantity (getListingsItem)."""
        try:
            body = _json(self._call("getListingsItem", "GET", self._listing_path(sku), f"getListingsItem {sku}",
                                    params={"marketplaceIds": ",".join(self.marketplace_ids),
                                            "includedData": "fulfillmentAvailability"}))
        except AmazonError as error:
            if error.kind == "not_found":
                return None
            raise
        for entry in body.get("fulfillmentAvailability") or []:
            if entry.get("fulfillmentChannelCode") == "DEFAULT" and entry.get("quantity") is not None:
                return int(entry["quantity"])
        return None

    # ------------------------------------------------------------------ feeds
    def submit_quantities_feed(self, items: Iterable[tuple[str, int]]) -> list[FeedItemResult]:
        """Set many listings' quantities with JSON_LISTINGS_FEED feeds (at most `feed_max_messages`
        messages each): upload, create, poll until done, read the processing report. One result per
        SKU (the last quantity given for a SKU counts), in input order. FATAL or CANCELLED: AmazonError."""
        wanted = {str(sku): int(quantity) for sku, quantity in items}
        pairs = list(wanted.items())
        results: list[FeedItemResult] = []
        for start in range(0, len(pairs), self.feed_max_messages):
            results.extend(self._quantities_feed(pairs[start:start + self.feed_max_messages]))
        return results

    def submit_prices_feed(self, items: Iterable[tuple[str, Decimal, str]]) -> list[FeedItemResult]:
        """Set many listings' prices (`purchasable_offer`, the session's first marketplace) with
        JSON_LISTINGS_FEED feeds, as submit_quantities_feed sets quantities; one result per SKU."""
        wanted = {str(sku): (Decimal(amount), currency) for sku, amount, currency in items}
        market = self.marketplace_ids[0]
        rows = [(sku, amount, _price_patch(amount, currency, market)) for sku, (amount, currency) in wanted.items()]
        results: list[FeedItemResult] = []
        for start in range(0, len(rows), self.feed_max_messages):
            results.extend(self._patches_feed(rows[start:start + self.feed_max_messages]))
        return results

    def _quantities_feed(self, pairs: list[tuple[str, int]]) -> list[FeedItemResult]:
        return self._patches_feed([(sku, quantity, _quantity_patch(quantity)) for sku, quantity in pairs])

    def _patches_feed(self, rows: list[tuple[str, Any, list[dict]]]) -> list[FeedItemResult]:
        """One JSON_LISTINGS_FEED of PATCH messages (sku, the value set, its patches): upload, create, poll,
        read the processing report; per-SKU results."""
        pairs = [(sku, value) for sku, value, _ in rows]
        document = {"header": {"sellerId": self.seller_id, "version": "2.0", "issueLocale": "en_US"},
                    "messages": [{"messageId": number, "sku": sku, "operationType": "PATCH", "productType": "PRODUCT",
                                  "patches": patches}
                                 for number, (sku, _, patches) in enumerate(rows, start=1)]}
        created = _json(self._call("createFeedDocument", "POST", f"{FEEDS}/documents", "createFeedDocument",
                                   json={"contentType": FEED_CONTENT_TYPE}, expect=(201,)))
        self._storage("PUT", created["url"], "the feed document upload", content=orjson.dumps(document),
                      headers={"Content-Type": FEED_CONTENT_TYPE})
        feed_id = str(_json(self._call("createFeed", "POST", f"{FEEDS}/feeds", "createFeed", expect=(202,), json={
            "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": self.marketplace_ids,
            "inputFeedDocumentId": created["feedDocumentId"]}))["feedId"])
        feed = self._await_feed(feed_id)
        report = self._report(feed, feed_id)
        if feed["processingStatus"] != "DONE":
            reasons = [f"{i.get('code') or 'issue'}: {first_line(i.get('message') or '')}"
                       for i in (report or {}).get("issues") or [] if isinstance(i, dict) and "messageId" not in i]
            codes = {r.split(":")[0] for r in reasons}
            raise self._error(f"Amazon feed {feed_id} ended {feed['processingStatus']}"
                              + (f": {'; '.join(reasons[:3])}" if reasons else ""), "fatal",
                              retryable=not codes & _DOCUMENT_FAULTS)
        return _feed_results(report or {}, pairs, feed_id)

    def _await_feed(self, feed_id: str) -> dict:
        deadline = self._clock() + self.feed_timeout
        while True:
            feed = _json(self._call("getFeed", "GET", f"{FEEDS}/feeds/{quote(feed_id, safe='')}", f"getFeed {feed_id}"))
            if feed.get("processingStatus") in ("DONE", "FATAL", "CANCELLED"):
                return feed
            if self._clock() >= deadline:
                raise self._error(f"Amazon feed {feed_id} is still {feed.get('processingStatus')} after "
                                  f"{self.feed_timeout:.0f} s", "server")
            self._wait("getFeed", self.feed_poll_seconds, "poll")

    def _report(self, feed: dict, feed_id: str) -> dict | None:
        document_id = feed.get("resultFeedDocumentId")
        if not document_id:
            return None
        answer = _json(self._call("getFeedDocument", "GET", f"{FEEDS}/documents/{quote(document_id, safe='')}",
                                  f"getFeedDocument of feed {feed_id}"))
        data = self._storage("GET", answer["url"], f"the processing report of feed {feed_id}").content
        if answer.get("compressionAlgorithm") == "GZIP" and data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)  # (httpx already decoded it when served with Content-Encoding)
        try:
            report = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise self._error(f"the processing report of feed {feed_id} is not JSON", "server") from None
        return report if isinstance(report, dict) else None


def _feed_results(report: dict, pairs: list[tuple[str, Any]], feed_id: str) -> list[FeedItemResult]:
    """Per-SKU results from a processing report (v2): a message with an ERROR issue is rejected; the
    others are accepted when the summary says every message was processed (unknown otherwise)."""
    errors: dict[int, list[str]] = {}
    warnings: dict[int, list[str]] = {}
    for issue in report.get("issues") or []:
        if isinstance(issue, dict) and isinstance(issue.get("messageId"), int):
            target = errors if issue.get("severity") == "ERROR" else warnings
            target.setdefault(issue["messageId"], []).append(
                f"{issue.get('code') or issue.get('severity')}: {first_line(issue.get('message') or '')}")
    summary = report.get("summary") or {}
    processed = isinstance(summary.get("messagesProcessed"), int) and summary["messagesProcessed"] >= len(pairs)
    results = []
    for number, (sku, quantity) in enumerate(pairs, start=1):
        if number in errors:
            results.append(FeedItemResult(sku, quantity, "rejected", feed_id, tuple(errors[number])))
        else:
            results.append(FeedItemResult(sku, quantity, "accepted" if processed else "unknown", feed_id,
                                          tuple(warnings.get(number, ()))))
    accepted = sum(r.accepted for r in results)
    if processed and summary.get("messagesAccepted") not in (None, accepted):
        log.warning("Amazon feed %s: the report counts %s accepted, its issues %s", feed_id,
                    summary.get("messagesAccepted"), accepted)
    return results


def _json(response: httpx.Response) -> dict:
    try:
        body = orjson.loads(response.content) if response.content else {}
    except orjson.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}


class AmazonSpApiResource(ApiClientResource):
    """Opens SP-API sessions. The LWA application comes from the environment
    (`client_id=EnvVar("AMAZON_LWA_CLIENT_ID")`, `client_secret=EnvVar("AMAZON_LWA_CLIENT_SECRET")`);
    each account's refresh token from its credentials (field `refresh_token`), its `seller_id` and
    `marketplace_ids` from its settings, and the API base URL from its endpoint when it has one (the
    simulator serves LWA there too), handed to `open_session` as plain values by the domain layer
    (assets.amazon.connection.amazon_session). `rate_scale` multiplies the documented rates (tests,
    benchmarks)."""

    client_id: str
    client_secret: str
    api_base_url: str = API_URL
    sandbox_base_url: str = SANDBOX_URL
    use_sandbox: bool = False
    token_url: str = TOKEN_URL
    timeout_seconds: float = 30.0
    connect_timeout_seconds: float = 10.0
    attempts: int = 5
    throttle_attempts: int = 30
    retry_backoff_seconds: float = 0.5
    max_retry_wait_seconds: float = 60.0
    max_throttle_wait_seconds: float = 300.0
    token_margin_seconds: float = 60.0
    rate_scale: float = 1.0
    feed_poll_seconds: float = 30.0
    feed_timeout_seconds: float = 3600.0
    _limiter: Any = PrivateAttr(default=None)

    def require_client(self) -> None:
        """A permanent error, at once, when the application's LWA client is not configured."""
        missing = [name for name, value in (("AMAZON_LWA_CLIENT_ID", self.client_id),
                                            ("AMAZON_LWA_CLIENT_SECRET", self.client_secret))
                   if not (value or "").strip()]
        if missing:
            raise AmazonError(f"Amazon's LWA application client is not configured: set {' and '.join(missing)} (the "
                              "LWA credentials of marketsync's app in Seller Central)", "auth")

    def open_session(self, refresh_token: str, seller_id: str, marketplace_ids: Iterable[str] | str,
                     endpoint: str | None = None, *, sleep: Callable[[float], None] | None = None,
                     clock: Callable[[], float] | None = None, **options: Any) -> AmazonSpApi:
        """A session with the selling partner whose LWA `refresh_token` this is, at `endpoint` (None:
        Amazon's API, or its sandbox with `use_sandbox`); `marketplace_ids` a list or comma-separated.
        Sessions of this resource share rate-limit buckets, unless given their own `clock`. `options`
        override AmazonSpApi's keyword arguments."""
        self.require_client()
        base_url = (endpoint or (self.sandbox_base_url if self.use_sandbox else self.api_base_url)).rstrip("/")
        own_lwa = endpoint and self.token_url == TOKEN_URL and not httpx.URL(base_url).host.endswith(".amazon.com")
        token_url = base_url + TOKEN_PATH if own_lwa else self.token_url
        if isinstance(marketplace_ids, str):
            marketplace_ids = [m.strip() for m in marketplace_ids.split(",") if m.strip()]
        if clock is None and self._limiter is None:
            self._limiter = RateLimiter(self.rate_scale)
        arguments: dict[str, Any] = {
            "timeout": self.timeout_seconds, "connect_timeout": self.connect_timeout_seconds,
            "attempts": self.attempts, "throttle_attempts": self.throttle_attempts,
            "backoff": self.retry_backoff_seconds, "max_wait": self.max_retry_wait_seconds,
            "max_throttle_wait": self.max_throttle_wait_seconds, "token_margin": self.token_margin_seconds,
            "rate_scale": self.rate_scale, "limiter": self._limiter if clock is None else None,
            "feed_poll_seconds": self.feed_poll_seconds, "feed_timeout": self.feed_timeout_seconds,
            "sleep": sleep or time.sleep, "clock": clock or time.monotonic,
            "limits": self.limits()}
        return AmazonSpApi(base_url, token_url, self.client_id, self.client_secret, refresh_token, seller_id,
                           marketplace_ids, **{**arguments, **options})
