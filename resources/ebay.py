"""eBay's Sell APIs (Fulfillment and Inventory), over httpx.

Authorisation is OAuth 2: the seller consents once and the refresh token that yields is stored in the
account's credentials (`{"refresh_token": "v^1.1#..."}`). The client trades it for a user access
token at the token endpoint (the application's client id and secret in HTTP Basic, a form body with
`grant_type=refresh_token`, the refresh token and the space-separated scopes), keeps the access token
in memory and replaces it a margin before `expires_in` runs out, and once more when the API answers
401 anyway. eBay's refresh tokens live 18 months and are not rotated; should an answer carry a new one
all the same, it is handed to `on_refresh_token` (the resource stores it in the vault).

Reads are retried on 429, 5xx, timeouts and dropped connections with full-jitter backoff honouring
Retry-After (resources.http_retry). A 429 whose Retry-After is longer than the longest wait we accept
(eBay's daily call limit, used up until midnight Pacific time) is raised at once, and a 429 without
Retry-After only a few times (`rate_limit_attempts`): both end as `EbayError(kind="quota" or
"rate_limited", retryable=True)` and the caller decides when to come back. Writes are retried only
when repeating them is harmless: quantity updates set absolute values and inventory items are replaced
whole; a shipping fulfillment is created anew by every call (eBay does not deduplicate), so
`ensure_shipping_fulfillment` reads the order's fulfillments first and again after every attempt whose
outcome is unknown, and never sends the same tracking number twice.

Failures are one-line `EbayError`s with eBay's errorId and message, scrubbed of the client secret and
every token the session has seen.
"""
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote, unquote

import httpx
import orjson
from tenacity import RetryCallState

from marketsync.resources.client_resource import ApiClientResource
from marketsync.resources.errors import first_line
from marketsync.resources.http_client import DEFAULT_LIMITS, ApiSession, HttpClient
from marketsync.resources.http_limits import (
    MALFORMED,
    Limits,
    malformed,
)
from marketsync.resources.http_retry import HttpCallError, RetryPolicy, retry_after_seconds
from marketsync.resources.oauth import (
    MemoryTokenStore,
    OAuthTokens,
    TokenSet,
    issued,
    lifetime_of,
    unauthorized,
)
from marketsync.resources.scrubbing import SecretScrubber

API_URL = "https://api.ebay.com"
TOKEN_PATH = "/identity/v1/oauth2/token"  # noqa: S105 - a URL path, not a secret
TOKEN_URL = API_URL + TOKEN_PATH
SCOPE_ROOT = "https://api.ebay.com/oauth/api_scope"
DEFAULT_SCOPES = (f"{SCOPE_ROOT}/sell.fulfillment", f"{SCOPE_ROOT}/sell.inventory")
FULFILLMENT = "/sell/fulfillment/v1"
INVENTORY = "/sell/inventory/v1"
MAX_ORDER_PAGE = 200
MAX_BULK = 25  # requests per bulkUpdatePriceQuantity / bulkGetInventoryItem call
# What is tried again: never a quota that resets later than we wait, nor a malformed answer.
RETRIED_KINDS = frozenset({"rate_limited", "server", "unreachable"})

log = logging.getLogger(__name__)


class EbayError(HttpCallError):
    """A failed eBay call. `kind`: reauthorize (the refresh token is unknown, revoked or expired: the
    seller must consent again), auth (the application's client id/secret, or a token the API refuses),
    forbidden (the consent lacks a scope), not_found, conflict, rejected (eBay refused the request),
    quota (a call limit that resets later than we wait), rate_limited, server and unreachable.
    `retryable` (= `transient`): worth trying again later. `outcome_unknown`: a write that may or may
    not have taken effect. `status` and `error_id`: the HTTP status and eBay's first errorId."""

    TRANSIENT = frozenset({"quota", "rate_limited", "server", "unreachable"})

    def __init__(self, message: str, kind: str, retry_after: float | None = None, *, status: int | None = None,
                 error_id: int | None = None, outcome_unknown: bool = False):
        super().__init__(message, kind, retry_after)
        self.status = status
        self.error_id = error_id
        self.outcome_unknown = outcome_unknown

    @property
    def retryable(self) -> bool:
        return self.transient


@dataclass(frozen=True)
class QuantityResult:
    """The outcome of one SKU's quantity (or price) update: status "ok" or "rejected" (with eBay's message)."""

    sku: str
    status: str
    status_code: int
    message: str = ""
    error_id: int | None = None
    retryable: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _stamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and Z, as eBay wants (naive datetimes are taken as UTC)."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def tracking_key(tracking_number: str) -> str:
    """A tracking number as eBay takes it (alphanumeric only) and compares it (case-insensitively)."""
    return re.sub(r"[^A-Za-z0-9]", "", tracking_number or "").upper()


def _error_detail(body: Any) -> tuple[int | None, str]:
    """(the first errorId, "errorId N: message (and k more)") from eBay's `{"errors": [...]}`."""
    errors = body.get("errors") if isinstance(body, dict) else body
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return None, ""
    first = errors[0]
    error_id = first.get("errorId") if isinstance(first.get("errorId"), int) else None
    message = first_line(first.get("message") or first.get("longMessage") or "")
    detail = f"errorId {error_id}: {message}" if error_id is not None else message
    return error_id, detail + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")


class EbayApi(ApiSession):
    """A session with one eBay seller account: the APIs at `base_url`, user tokens from `token_url`.
    Not thread-safe: one session per thread. Use as a context manager or `close()` it."""

    def __init__(self, base_url: str, token_url: str, client_id: str, client_secret: str, refresh_token: str, *,
                 scopes: Iterable[str] = DEFAULT_SCOPES, timeout: float = 30.0, attempts: int = 5,
                 rate_limit_attempts: int = 3, backoff: float = 0.5, max_wait: float = 60.0,
                 token_margin: float = 300.0, content_language: str = "de-DE",
                 on_refresh_token: Callable[[str], None] | None = None, limits: Limits = DEFAULT_LIMITS):
        self.limits = limits
        self.base_url = base_url.rstrip("/")
        self.token_url = token_url
        self.scopes = " ".join(scopes)
        self.content_language = content_language
        self._client_id, self._client_secret = client_id, client_secret
        self._attempts, self._rate_limit_attempts = max(1, attempts), max(1, rate_limit_attempts)
        self._max_wait, self._token_margin = max_wait, token_margin
        self._on_refresh_token = on_refresh_token
        # The client secret (alone and as the Basic pair with the client id) for the session's life; the
        # refresh and access tokens as they are issued.
        scrubber = SecretScrubber(client_secret, username=client_id)
        scrubber.add_token(refresh_token)
        self._http = HttpClient("eBay", EbayError, scrubber=scrubber, timeout=timeout, limits=limits,
                                retry=RetryPolicy(self._attempts, backoff, max_wait, kinds=RETRIED_KINDS),
                                headers={"Accept": "application/json"}, lost={"outcome_unknown": True},
                                status_error=self._api_error)
        store = MemoryTokenStore(refresh_token, clock=time.monotonic, on_rotate=self._rotated)
        self._tokens = OAuthTokens(self._renew_token, store, remember=scrubber.add_token)
        self._origin = httpx.URL(self.base_url)
        self.token_calls = 0

    def __repr__(self) -> str:
        return f"EbayApi({self.base_url!r}, token=****)"

    # ------------------------------------------------------------------ transport
    def _retrying(self, call: Callable, *args):
        """Transient failures again with backoff (never a quota that resets later than we wait); a 429
        without Retry-After only `rate_limit_attempts` times."""
        def stop(state: RetryCallState) -> bool:
            failure = state.outcome.exception() if state.outcome is not None else None
            limit = self._rate_limit_attempts if isinstance(failure, EbayError) and failure.kind == "rate_limited" \
                and failure.retry_after is None else self._attempts
            return state.attempt_number >= min(limit, self._attempts)

        return self._http.retrying(call, *args, stop=stop)

    def _url(self, path: str) -> httpx.URL:
        return httpx.URL(self.base_url + path)

    # ------------------------------------------------------------------ OAuth
    def _rotated(self, refresh_token: str) -> None:
        """A token answer replaced the refresh token: hand it to `on_refresh_token` (to be stored)."""
        if self._on_refresh_token is not None:
            self._on_refresh_token(refresh_token)

    def _renew_token(self, refresh_token: str | None) -> TokenSet:
        """Trade the refresh token for a user access token (one call; retried with the request it serves)."""
        what = "the token refresh"
        sent = time.monotonic()
        self.token_calls += 1
        response = self._http.send("POST", self.token_url, what, auth=(self._client_id, self._client_secret),
                                   data={"grant_type": "refresh_token", "refresh_token": refresh_token or "",
                                         "scope": self.scopes})
        body = self._json(response, what, strict=False)
        body = body if isinstance(body, dict) else {}
        if response.status_code != 200:
            raise self._token_error(response, body)
        access = body.get("access_token")
        if not access:
            raise self._error("eBay answered the token refresh without an access token", "server")
        lifetime = lifetime_of(body, 300.0)
        log.info("eBay user access token renewed (lives %.0f s)", lifetime)
        return issued(access, lifetime, sent, self._token_margin, body.get("refresh_token") or refresh_token)

    def _token_error(self, response: httpx.Response, body: dict) -> EbayError:
        code, error = response.status_code, str(body.get("error") or "")
        label = f"HTTP {code}{', ' + error if error else ''}"
        if code == 429 or code >= 500:
            return self._api_error(response, "the token refresh")
        if error == "invalid_grant":
            return self._error("eBay no longer accepts this account's refresh token (revoked, expired or issued to "
                               "another application): the seller must authorise marketsync on eBay again",
                               "reauthorize", status=code)
        if error == "invalid_scope":
            return self._error(f"eBay refused the scopes {self.scopes} for this account ({label}): authorise "
                               "marketsync again with them", "forbidden", status=code)
        if code == 401 or error in ("invalid_client", "unauthorized_client"):
            return self._error(f"eBay refused the application's client id and secret ({label}): check EBAY_CLIENT_ID "
                               "and EBAY_CLIENT_SECRET", "auth", status=code)
        detail = first_line(body.get("error_description") or "")
        return self._error(f"eBay refused the token refresh ({label}){': ' + detail if detail else ''}", "rejected",
                           status=code)

    def _authorised(self, method: str, url: str | httpx.URL, what: str, **kwargs) -> httpx.Response:
        """One authorised exchange, with one token renewal when the API says the token is no good."""
        extra = kwargs.pop("headers", None) or {}
        return self._tokens.authorised(
            lambda token: self._http.send(method, url, what, headers={**extra, "Authorization": f"Bearer {token}"},
                                          **kwargs), unauthorized)

    # ------------------------------------------------------------------ answers
    def _json(self, response: httpx.Response, what: str, strict: bool = True) -> Any:
        try:
            return orjson.loads(response.content) if response.content else {}
        except orjson.JSONDecodeError:
            if strict:
                raise self._error(f"eBay answered {what} with something that is not JSON "
                                  f"(HTTP {response.status_code})", "server", status=response.status_code) from None
            return None

    def _api_error(self, response: httpx.Response, what: str, sent_write: bool = False) -> EbayError:
        """The error mapping: an answer's status (and eBay's errors) as an EbayError."""
        code = response.status_code
        error_id, detail = _error_detail(self._json(response, what, strict=False))
        label = f"HTTP {code}{', ' + detail if detail else ''}"
        details = {"status": code, "error_id": error_id}
        if code == 429:
            wait = retry_after_seconds(response)
            if wait is not None and wait > self._max_wait:
                return self._error(f"eBay's call limit for {what} is used up ({label}): try again in {wait:.0f} s",
                                   "quota", wait, **details)
            return self._error(f"eBay's call limit reached on {what} ({label}): the daily quota may be used up "
                               "(it resets at midnight Pacific time)", "rate_limited", wait, **details)
        if code >= 500:
            return self._error(f"eBay server error on {what} ({label})", "server", retry_after_seconds(response),
                               outcome_unknown=sent_write, **details)
        kind = {401: "auth", 403: "forbidden", 404: "not_found", 409: "conflict"}.get(code, "rejected")
        hint = {"auth": " even after a token refresh", "forbidden": f" (the consent must include {self.scopes})"}
        return self._error(f"eBay refused {what}{hint.get(kind, '')} ({label})", kind, **details)

    def _call(self, method: str, url: str | httpx.URL, what: str, ok: tuple[int, ...] = (200,),
              **kwargs) -> httpx.Response:
        return self._http.expect(self._authorised(method, url, what, **kwargs), what, ok, sent_write=method != "GET")

    def _get_once(self, url: str | httpx.URL, params: dict | None, what: str) -> tuple[Any, httpx.URL]:
        response = self._call("GET", url, what, params=params)
        return self._json(response, what), response.request.url

    def _get(self, path: str, what: str, params: dict | None = None) -> Any:
        return self._retrying(self._get_once, self._url(path), params, what)[0]

    def _pages(self, path: str, params: dict, what: str, key: str) -> Iterator[dict]:
        """Every element of `key` over the pages of a list, following `next` exactly as eBay gives it,
        within the session's paging bounds (a link answered again, a page or time cap). A page whose
        list is not a list of objects is a malformed answer, never an empty page: a caller that moves a
        cursor after the last page must not take a broken answer for the end of the list."""
        def fetch(link: httpx.URL | None, number: int) -> tuple[list[dict], dict, httpx.URL, str]:
            page_what = f"eBay {what} (page {number})"
            body, requested = self._retrying(self._get_once, link or self._url(path), None if link else params,
                                             f"{what} (page {number})")
            if not isinstance(body, dict):
                raise self._error(malformed(page_what, "not a JSON object"), MALFORMED)
            items = body.get(key)
            if items is None and key not in body and body.get("total") in (0, "0") and not body.get("next"):
                items = []  # an empty list may leave the field out
            if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
                found = "missing" if key not in body else "null" if items is None else "not a list of objects"
                raise self._error(malformed(page_what, f"`{key}` is {found}"), MALFORMED)
            return items, body, requested, page_what

        def following(page: tuple[list[dict], dict, httpx.URL, str]) -> httpx.URL | None:
            _items, body, requested, page_what = page
            link = body.get("next")
            if not link:
                return None
            if not isinstance(link, str):
                raise self._error(malformed(page_what, "`next` is not a link"), MALFORMED)
            return self._http.same_origin(requested.join(link), self._origin, what)  # as given

        for items, *_ in self._http.pages(f"eBay {what}", fetch, following, key=str):
            yield from items

    # ------------------------------------------------------------------ orders
    def orders_modified(self, since: datetime, until: datetime | None = None,
                        page_size: int = MAX_ORDER_PAGE, *, field: str = "lastmodifieddate") -> Iterator[dict]:
        """Orders whose lastModifiedDate is in [since, until] (open-ended without `until`), oldest
        creation first, each once. The next window starts after the latest lastModifiedDate seen (an
        order changed during a walk with `until` leaves this window and falls into the next). With
        `field="creationdate"`, the orders created in the window instead (a reconciliation's day)."""
        if not 1 <= page_size <= MAX_ORDER_PAGE:
            raise ValueError(f"page_size must be 1 to {MAX_ORDER_PAGE}")
        if field not in ("lastmodifieddate", "creationdate"):
            raise ValueError("field must be lastmodifieddate or creationdate")
        window = f"{field}:[{_stamp(since)}..{_stamp(until) if until is not None else ''}]"
        seen: set[str] = set()
        for order in self._pages(f"{FULFILLMENT}/order", {"filter": window, "limit": page_size}, "getOrders",
                                 "orders"):
            if order.get("orderId") not in seen:  # offsets can shift while orders change
                seen.add(order.get("orderId"))
                yield order

    def get_order(self, order_id: str) -> dict:
        return self._get(f"{FULFILLMENT}/order/{quote(order_id, safe='')}", f"getOrder {order_id}")

    def shipping_fulfillments(self, order_id: str) -> list[dict]:
        return self._retrying(self._shipping_fulfillments_once, order_id)

    def _shipping_fulfillments_once(self, order_id: str) -> list[dict]:
        path = f"{FULFILLMENT}/order/{quote(order_id, safe='')}/shipping_fulfillment"
        body, _ = self._get_once(self._url(path), None, f"getShippingFulfillments {order_id}")
        return list(body.get("fulfillments") or []) if isinstance(body, dict) else []

    def _find_fulfillment_once(self, order_id: str, tracking_number: str) -> str | None:
        key = tracking_key(tracking_number)
        return next((f.get("fulfillmentId") for f in self._shipping_fulfillments_once(order_id)
                     if tracking_key(f.get("shipmentTrackingNumber") or "") == key), None)

    def create_shipping_fulfillment(self, order_id: str, line_items: list[dict], carrier: str | None,
                                    tracking_number: str | None, shipped_at: datetime | None = None) -> str:
        """createShippingFulfillment, sent once: the new fulfillment's id (from Location). eBay makes a
        new fulfillment for every call; use ensure_shipping_fulfillment unless a duplicate is harmless.
        A failure with `outcome_unknown` may have created it."""
        what = f"createShippingFulfillment {order_id}"
        body: dict[str, Any] = {"lineItems": [{"lineItemId": str(li["lineItemId"]), "quantity": int(li["quantity"])}
                                              for li in line_items]}
        if shipped_at is not None:
            body["shippedDate"] = _stamp(shipped_at)
        if tracking_number:
            body.update(shippingCarrierCode=carrier, trackingNumber=re.sub(r"[^A-Za-z0-9]", "", tracking_number))
        path = f"{FULFILLMENT}/order/{quote(order_id, safe='')}/shipping_fulfillment"
        response = self._call("POST", self._url(path), what, ok=(200, 201), json=body)
        location = response.headers.get("location", "").rstrip("/")
        if location:
            return unquote(location.rsplit("/", 1)[-1])
        found = self._find_fulfillment_once(order_id, tracking_number) if tracking_number else None
        if found is None:
            raise self._error(f"eBay created {what} but answered without a Location", "server")
        return found

    def ensure_shipping_fulfillment(self, order_id: str, line_items: list[dict], carrier: str, tracking_number: str,
                                    shipped_at: datetime | None = None) -> str:
        """The order's fulfillment with this tracking number: the existing one's id, or a new one's.
        Retried; after any attempt that may have reached eBay the fulfillments are read again before
        sending anew, so the tracking number is never added twice."""
        if not tracking_key(tracking_number):
            raise ValueError("ensure_shipping_fulfillment needs a tracking number: it is what identifies the shipment")
        checked = False

        def attempt() -> str:
            nonlocal checked
            if not checked:
                existing = self._find_fulfillment_once(order_id, tracking_number)
                if existing is not None:
                    return existing
                checked = True
            try:
                return self.create_shipping_fulfillment(order_id, line_items, carrier, tracking_number, shipped_at)
            except EbayError:
                checked = False  # whatever happened, look before sending again
                raise

        return self._retrying(attempt)

    def _fulfillment_covering_once(self, order_id: str, line_items: list[dict]) -> str | None:
        """The id of the newest fulfillment once the order's fulfillments together ship every unit of
        `line_items`; None while any unit is not shipped."""
        fulfillments = self._shipping_fulfillments_once(order_id)
        shipped: Counter = Counter()
        for fulfillment in fulfillments:
            for line in fulfillment.get("lineItems") or []:
                shipped[str(line.get("lineItemId"))] += int(line.get("quantity") or 0)
        if not fulfillments or any(shipped[str(li["lineItemId"])] < int(li["quantity"]) for li in line_items):
            return None
        return str(fulfillments[-1].get("fulfillmentId") or "")

    def lines_fulfilled(self, order_id: str, line_items: list[dict]) -> bool:
        """Whether the order's fulfillments already ship every unit of `line_items`."""
        return self._retrying(self._fulfillment_covering_once, order_id, line_items) is not None

    def ensure_lines_fulfilled(self, order_id: str, line_items: list[dict]) -> str:
        """Fulfil `line_items` without tracking (a download: eBay documents the carrier and the tracking
        number as optional), unless the order's fulfillments already ship them; the fulfillment's id.
        Retried; before every attempt the fulfillments are read, so the lines are never fulfilled twice."""
        if not line_items:
            raise ValueError("ensure_lines_fulfilled needs the line items to fulfil")

        def attempt() -> str:
            existing = self._fulfillment_covering_once(order_id, line_items)
            if existing is not None:
                return existing
            return self.create_shipping_fulfillment(order_id, line_items, None, None)

        return self._retrying(attempt)

    # ------------------------------------------------------------------ inventory
    def bulk_update_quantities(self, items: Iterable[tuple[str, str | Sequence[str] | None, int]]
                               ) -> list[QuantityResult]:
        """Set each SKU's ship-to-home quantity and the availableQuantity of the published offers given
        (an offer id or a list of them: buyers see the lower of the two numbers) with
        bulkUpdatePriceQuantity, 25 SKUs a call; one result per SKU, ok only when every part succeeded
        (the last entry of a SKU named twice wins). Retried: the values are absolute."""
        latest: dict[str, tuple[list[str], int]] = {}
        for sku, offer_ids, quantity in items:
            latest.pop(sku, None)
            ids = [offer_ids] if isinstance(offer_ids, str) else list(offer_ids or ())
            latest[sku] = ([str(i) for i in ids if i], int(quantity))
        requests = []
        for sku, (offer_ids, quantity) in latest.items():
            request: dict[str, Any] = {"sku": sku, "shipToLocationAvailability": {"quantity": quantity}}
            if offer_ids:
                request["offers"] = [{"offerId": i, "availableQuantity": quantity} for i in offer_ids]
            requests.append(request)
        return self._bulk_price_quantity(requests, "bulkUpdatePriceQuantity")

    def bulk_update_prices(self, items: Iterable[tuple[str, Sequence[str], Decimal, str]]) -> list[QuantityResult]:
        """Set the price of each SKU's published offers (bulkUpdatePriceQuantity with `offers` entries of
        `price` only: quantities stay as they are), 25 SKUs a call; one result per SKU, ok only when every
        offer took it. A SKU with no published offer cannot carry a price: rejected without a call.
        Retried: the prices are absolute."""
        latest: dict[str, tuple[list[str], Decimal, str]] = {}
        for sku, offer_ids, amount, currency in items:
            latest.pop(sku, None)
            latest[sku] = ([str(i) for i in offer_ids if i], Decimal(amount), currency)
        results: list[QuantityResult] = []
        requests = []
        for sku, (offer_ids, amount, currency) in latest.items():
            if not offer_ids:
                results.append(QuantityResult(sku, "rejected", 0, "no published offer: eBay prices offers, and this "
                                                                  "SKU has none to price"))
                continue
            price = {"value": f"{amount.quantize(Decimal('0.01')):f}", "currency": currency}
            requests.append({"sku": sku, "offers": [{"offerId": i, "price": price} for i in offer_ids]})
        return results + self._bulk_price_quantity(requests, "bulkUpdatePriceQuantity (prices)")

    def _bulk_price_quantity(self, requests: list[dict], what: str) -> list[QuantityResult]:
        """bulkUpdatePriceQuantity for `requests` (one per SKU), MAX_BULK a call, each call retried (the
        values are absolute); one result per request's SKU, in their order."""
        results: list[QuantityResult] = []
        for start in range(0, len(requests), MAX_BULK):
            chunk = requests[start:start + MAX_BULK]
            body = self._retrying(self._post_json_once, f"{INVENTORY}/bulk_update_price_quantity",
                                  {"requests": chunk}, what)
            answers: dict[str, list[dict]] = {}
            for answer in (body.get("responses") if isinstance(body, dict) else None) or []:
                answers.setdefault(str(answer.get("sku")), []).append(answer)
            results += [self._quantity_result(r["sku"], answers.get(r["sku"], [])) for r in chunk]
        return results

    @staticmethod
    def _quantity_result(sku: str, answers: list[dict]) -> QuantityResult:
        if not answers:
            return QuantityResult(sku, "rejected", 0, "eBay's answer has no result for this SKU", retryable=True)
        failed = [a for a in answers if a.get("statusCode") != 200]
        if not failed:
            return QuantityResult(sku, "ok", 200)
        code = int(failed[0].get("statusCode") or 0)
        error_id, detail = _error_detail(failed[0].get("errors"))
        where = f"offer {failed[0]['offerId']}: " if failed[0].get("offerId") else ""
        return QuantityResult(sku, "rejected", code, f"{where}{detail or f'HTTP {code}'}", error_id,
                              retryable=code == 429 or code >= 500)

    def _post_json_once(self, path: str, payload: dict, what: str) -> Any:
        return self._json(self._call("POST", self._url(path), what, ok=(200, 207), json=payload), what)

    def offer_ids(self, sku: str) -> list[str]:
        """The ids of the SKU's offers (getOffers); [] when it has none."""
        return [str(o["offerId"]) for o in self.offers(sku) if o.get("offerId")]

    def offers(self, sku: str) -> list[dict]:
        """The SKU's offers as getOffers gives them (offerId, status, availableQuantity, ...); [] when
        it has none."""
        try:
            return list(self._pages(f"{INVENTORY}/offer", {"sku": sku}, f"getOffers {sku}", "offers"))
        except EbayError as error:
            if error.kind == "not_found":
                return []
            raise

    def create_or_replace_inventory_item(self, sku: str, quantity: int, item: dict | None = None,
                                         content_language: str | None = None) -> None:
        """createOrReplaceInventoryItem: `item` (condition, product, ...) replaces the whole inventory
        item, with its ship-to-home quantity set to `quantity`. Retried: a repeat replaces it again."""
        body = {**(item or {}), "availability": {**((item or {}).get("availability") or {}),
                                                 "shipToLocationAvailability": {"quantity": int(quantity)}}}
        headers = {"Content-Language": content_language or self.content_language}
        self._retrying(lambda: self._call("PUT", self._url(f"{INVENTORY}/inventory_item/{quote(sku, safe='')}"),
                                          f"createOrReplaceInventoryItem {sku}", ok=(200, 201, 204), json=body,
                                          headers=headers))

    def inventory_quantities(self, skus: Iterable[str]) -> dict[str, int]:
        """The ship-to-home quantity of each SKU eBay knows (bulkGetInventoryItem, 25 a call); SKUs
        eBay does not know are left out."""
        unique = list(dict.fromkeys(skus))
        quantities: dict[str, int] = {}
        for start in range(0, len(unique), MAX_BULK):
            body = self._retrying(self._post_json_once, f"{INVENTORY}/bulk_get_inventory_item",
                                  {"requests": [{"sku": s} for s in unique[start:start + MAX_BULK]]},
                                  "bulkGetInventoryItem")
            for answer in (body.get("responses") if isinstance(body, dict) else None) or []:
                if answer.get("statusCode") == 200 and isinstance(answer.get("inventoryItem"), dict):
                    ship = ((answer["inventoryItem"].get("availability") or {}).get("shipToLocationAvailability")
                            or {})
                    quantities[str(answer.get("sku"))] = int(ship.get("quantity") or 0)
        return quantities


class EbayResource(ApiClientResource):
    """Opens eBay sessions. The application's OAuth client comes from the environment
    (`client_id=EnvVar("EBAY_CLIENT_ID")`, `client_secret=EnvVar("EBAY_CLIENT_SECRET")`); a seller's
    refresh token and the API base URL (an account's endpoint, when it has one: the simulator serves the
    token endpoint there too) are handed to `open_session` as plain values. The domain layer opens an
    account's session (assets.ebay.connection.ebay_session)."""

    client_id: str
    client_secret: str
    api_base_url: str = API_URL
    token_url: str = TOKEN_URL
    scopes: list[str] = list(DEFAULT_SCOPES)  # noqa: RUF012 - pydantic field
    timeout_seconds: float = 30.0
    attempts: int = 5
    rate_limit_attempts: int = 3
    retry_backoff_seconds: float = 0.5
    max_retry_wait_seconds: float = 60.0
    token_margin_seconds: float = 300.0
    content_language: str = "de-DE"

    def require_client(self) -> None:
        """A permanent error, at once, when the application's OAuth client is not configured."""
        missing = [name for name, value in (("EBAY_CLIENT_ID", self.client_id),
                                            ("EBAY_CLIENT_SECRET", self.client_secret)) if not (value or "").strip()]
        if missing:
            raise EbayError(f"eBay's application client is not configured: set {' and '.join(missing)} (the keys "
                            "of marketsync's application in the eBay developer portal)", "auth")

    def open_session(self, refresh_token: str, endpoint: str | None = None, *,
                     on_refresh_token: Callable[[str], None] | None = None) -> EbayApi:
        """A session with the seller whose `refresh_token` this is, at `endpoint` (None: eBay's API). A
        new refresh token in a token answer (eBay does not rotate them, but would be obeyed) is handed to
        `on_refresh_token`."""
        self.require_client()
        base_url = (endpoint or self.api_base_url).rstrip("/")
        token_url = self.token_url if self.token_url != TOKEN_URL or not endpoint else base_url + TOKEN_PATH
        return EbayApi(base_url, token_url, self.client_id, self.client_secret, refresh_token, scopes=self.scopes,
                       timeout=self.timeout_seconds, attempts=self.attempts,
                       rate_limit_attempts=self.rate_limit_attempts, backoff=self.retry_backoff_seconds,
                       max_wait=self.max_retry_wait_seconds, token_margin=self.token_margin_seconds,
                       content_language=self.content_language, on_refresh_token=on_refresh_token,
                       limits=self.limits())
