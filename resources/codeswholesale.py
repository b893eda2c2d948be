"""The CodesWholesale v3 API (a wholesaler of digital game keys), over httpx.

Authorisation is OAuth 2 client credentials: `POST /oauth/token` trades the account's client id and
secret for a bearer token that lives `expires_in` seconds. The token is cached until shortly before
it expires and fetched again once when the API answers 401 anyway (tokens can be revoked early).
The price list (`GET /v3/products`) comes in pages chained by an opaque `continuationToken`, which is
sent back exactly as received: it carries characters (`+ / = %`) that must be percent-encoded once.

Reads (the price list, an order, the order history, a code, the account) are retried on transient
failures (5xx, 429, timeouts, dropped connections) with full-jitter backoff that honours Retry-After.

Buying (`place_order`, `POST /v3/orders`) spends the account's money at once, so it is sent exactly
once and never retried here: when its answer is lost (a timeout, a dropped connection, a gateway
error, an answer that cannot be read) the order may or may not exist, and the error says so (kind
`outcome_unknown`): the caller looks the order up by its own order id (`find_orders`) before it ever
places it again. Public material says nothing of the API refusing or merging a second order with
the same client order id, so nothing here counts on it.

Failures surface as one-line `CodesWholesaleError`s that never contain the client secret, a token
or a key; a key bought is held so that it never prints (`OrderCode.value` is a pydantic SecretStr).
"""
from __future__ import annotations

import base64
import binascii
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, cast
from urllib.parse import quote

import httpx
import orjson
from pydantic import SecretStr

from marketsync.resources.client_resource import ApiClientResource
from marketsync.resources.http_client import DEFAULT_LIMITS, ApiSession, HttpClient
from marketsync.resources.http_limits import (
    MALFORMED,
    Limits,
    malformed,
)
from marketsync.resources.http_retry import HttpCallError, RetryPolicy, retry_after_seconds
from marketsync.resources.oauth import OAuthTokens, TokenSet, issued, lifetime_of, unauthorized
from marketsync.resources.scrubbing import SecretScrubber

LIVE_URL = "https://api.codeswholesale.com"
SANDBOX_URL = "https://sandbox.codeswholesale.com"
# Query filters `GET /v3/products` documents, by our name -> the API's.
PRODUCT_FILTERS = {"platform": "platform", "region": "region", "language": "language",
                   "product_ids": "productIds", "in_stock_days_ago": "inStockDaysAgo"}


OUTCOME_UNKNOWN = "outcome_unknown"
# The error body's `code`s that public material documents (the official v2 SDK's examples, and an
# issue of it for the stock): what the API means by them.
BALANCE_TOO_LOW, PRODUCT_NOT_FOUND, INVALID_QUANTITY, CODE_NOT_FOUND, TOO_LOW_STOCK = 10002, 20001, 40002, 50002, 310003
# A code's kind as `codeType` spells it (v3), and as the v2 `status` words it: ours is TEXT (a key to
# type in), IMAGE (a picture of the key) or PRE_ORDER (paid for, the key comes later).
TEXT, IMAGE, PRE_ORDER = "TEXT", "IMAGE", "PRE_ORDER"
CODE_KINDS = {"CODE_TEXT": TEXT, "TEXT": TEXT, "CODE_IMAGE": IMAGE, "IMAGE": IMAGE, "PRE_ORDER": PRE_ORDER,
              "PREORDER": PRE_ORDER, "CODE_PREORDER": PRE_ORDER, "CODE_PRE_ORDER": PRE_ORDER}
CODE_STATUS_KINDS = {"text code": TEXT, "image code": IMAGE, "pre-ordered code": PRE_ORDER}
COMPLETED = "Completed"  # the status of an order whose codes are there (a captured sandbox answer)


class CodesWholesaleError(HttpCallError):
    """A failed CodesWholesale call. `kind` says what a caller may do about it:

    transient (a later try can succeed): rate_limited, server and unreachable (nothing was bought:
    the request was refused before it was carried out, or never left), outcome_unknown (an order
    was sent and its answer lost: it may have been placed and paid; look it up with `find_orders`
    before anything places it again), and the bounds' transient kinds (resources.http_limits).
    permanent (someone must act first): auth (fix the client credentials), insufficient_funds (top
    up the account), price_changed (a product costs more than the price offered: re-read the price
    list and decide again), out_of_stock (not enough keys and pre-orders not allowed), not_found (no
    such order, code or product in the price list), rejected (the API refused the request itself).

    `status` is the HTTP status and `code` the error body's code, when there was an answer;
    `answer_lost`: the request left but no complete answer came back."""

    TRANSIENT = frozenset({"rate_limited", "server", "unreachable", OUTCOME_UNKNOWN})

    def __init__(self, message: str, kind: str, retry_after: float | None = None, *, status: int | None = None,
                 code: int | None = None, answer_lost: bool = False):
        super().__init__(message, kind, retry_after)
        self.status = status
        self.code = code
        self.answer_lost = answer_lost

    @property
    def outcome_unknown(self) -> bool:
        """Whether an order may have been placed although the call failed (look it up first)."""
        return self.kind == OUTCOME_UNKNOWN


def _error_body(response: httpx.Response) -> tuple[int | None, str]:
    """(the error body's `code`, its message cut to one short line) of a refusal; (None, "") without."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    # Only the server's own short message; never echo the request.
    message = body.get("message") or body.get("error_description") or ""
    code = body.get("code")
    return (code if isinstance(code, int) and not isinstance(code, bool) else None,
            str(message).splitlines()[0][:200] if str(message).strip() else "")


def _error_for(response: httpx.Response, what: str) -> CodesWholesaleError:
    """The error mapping of a read: an answer's status as a CodesWholesaleError."""
    code = response.status_code
    if code == 429:
        return CodesWholesaleError(f"CodesWholesale rate limit reached on {what} (HTTP 429)", "rate_limited",
                                   retry_after_seconds(response), status=code)
    if code >= 500:
        return CodesWholesaleError(f"CodesWholesale server error on {what} (HTTP {code})", "server",
                                   retry_after_seconds(response), status=code)
    if code in (401, 403):
        return CodesWholesaleError(f"CodesWholesale refused the client credentials on {what} (HTTP {code}): "
                                   "set valid ones for the store's codeswholesale source", "auth", status=code)
    error_code, message = _error_body(response)
    detail = f": {message}" if message else ""
    if code == 404:
        return CodesWholesaleError(f"CodesWholesale has no {what} (HTTP 404){detail}", "not_found", status=code,
                                   code=error_code)
    return CodesWholesaleError(f"CodesWholesale refused {what} (HTTP {code}){detail}", "rejected", status=code,
                               code=error_code)


def _order_error(response: httpx.Response, what: str) -> CodesWholesaleError:
    """The error mapping of `POST /v3/orders`: whether the order can exist, and what to do, by status
    and the error body's code. Only a refusal the API makes before it carries an order out (429, 503
    by HTTP's meaning, 401/403, 4xx) says nothing was bought; any other 5xx may come after the order
    was placed (a gateway that lost the backend's answer), so the outcome is unknown."""
    status = response.status_code
    error_code, message = _error_body(response)
    label = f"HTTP {status}{', ' + message if message else ''}"

    def error(text: str, kind: str, retry_after: float | None = None) -> CodesWholesaleError:
        return CodesWholesaleError(text, kind, retry_after, status=status, code=error_code)

    if status == 429:
        return error(f"CodesWholesale rate limit reached on {what} (HTTP 429): nothing was bought; try later",
                     "rate_limited", retry_after_seconds(response))
    if status == 503:
        return error(f"CodesWholesale was unavailable for {what} ({label}): nothing was bought; try later",
                     "server", retry_after_seconds(response))
    if status >= 500:
        return error(f"CodesWholesale failed on {what} ({label}): the order may have been placed and paid; "
                     "look it up by its client order id before placing it again", OUTCOME_UNKNOWN)
    if status in (401, 403):
        return error(f"CodesWholesale refused the client credentials on {what} (HTTP {status}): nothing was "
                     "bought; set valid ones for the store's codeswholesale source", "auth")
    if error_code == BALANCE_TOO_LOW:
        return error(f"CodesWholesale refused {what}: the account's balance is too low ({label}); nothing was "
                     "bought: top up the CodesWholesale account", "insufficient_funds")
    if error_code == TOO_LOW_STOCK:
        return error(f"CodesWholesale refused {what}: not enough keys in stock ({label}); nothing was bought",
                     "out_of_stock")
    if error_code == PRODUCT_NOT_FOUND or status == 404:
        return error(f"CodesWholesale refused {what}: a product is not in the price list ({label}); nothing was "
                     "bought", "not_found")
    if "price" in message.lower() and error_code != INVALID_QUANTITY:
        return error(f"CodesWholesale refused {what}: a product costs more than the price offered ({label}); "
                     "nothing was bought: re-read the price list and decide again", "price_changed")
    return error(f"CodesWholesale refused {what} ({label}); nothing was bought", "rejected")


# ------------------------------------------------------------------------------------------ orders
CENT = Decimal("0.01")


def _money(value: Any, what: str) -> Decimal:
    """An amount in euros, to the cent; ValueError naming `what` when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ValueError(f"{what} is not a number")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{what} is not a number") from None
    if not amount.is_finite():
        raise ValueError(f"{what} is not a number")
    return amount.quantize(CENT, ROUND_HALF_UP)


def _moment(value: Any) -> datetime | None:
    """`createdOn` as an aware datetime (UTC when it names no offset), or None when it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class OrderLineRequest:
    """One product to buy: `quantity` keys of `product_id`, at most `price` euros each. The API
    refuses the order when the price list asks more than `price` (kind price_changed)."""

    product_id: str
    quantity: int
    price: Decimal


@dataclass(frozen=True)
class Link:
    """A link an answer carries: `rel` (self, ...) and `href`."""

    rel: str
    href: str


def _links(value: Any) -> tuple[Link, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(Link(str(item.get("rel") or ""), str(item.get("href") or ""))
                 for item in value if isinstance(item, dict) and item.get("href"))


@dataclass(frozen=True)
class OrderCode:
    """One key bought. `kind`: TEXT (`value` is the key), IMAGE (`value` is a picture of the key,
    base64-encoded; `filename` names it; `image()` decodes it) or PRE_ORDER (paid for, no key yet:
    `value` is None; read the code again by `code_id` once the supplier delivers). `value` is a
    SecretStr: a key is money, so it never shows in a repr, a log line or an error;
    `value.get_secret_value()` reveals it. `links`: the code's own (`self` is /v3/codes/{codeId})."""

    code_id: str
    kind: str
    value: SecretStr | None
    filename: str | None
    links: tuple[Link, ...] = ()

    @property
    def delivered(self) -> bool:
        """Whether the key is there (not a pre-order still waiting for it)."""
        return self.kind != PRE_ORDER and self.value is not None

    def image(self) -> bytes:
        """The picture of an IMAGE key, decoded. ValueError for any other kind or a broken picture."""
        if self.kind != IMAGE or self.value is None:
            raise ValueError(f"code {self.code_id} is not an image code")
        try:
            return base64.b64decode(self.value.get_secret_value(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"code {self.code_id}: the image is not valid base64") from None

    def link(self, rel: str = "self") -> str | None:
        return next((link.href for link in self.links if link.rel == rel), None)


def _code_from(item: Any) -> OrderCode:
    if not isinstance(item, dict) or not isinstance(item.get("codeId"), str) or not item["codeId"]:
        raise ValueError("a code without a codeId")
    raw_type = str(item.get("codeType") or "").upper()
    kind = CODE_KINDS.get(raw_type) or CODE_STATUS_KINDS.get(str(item.get("status") or "").lower()) or raw_type
    if not kind:
        raise ValueError(f"code {item['codeId']} has no codeType")
    code = item.get("code")
    value = SecretStr(code) if isinstance(code, str) and code.strip() and kind != PRE_ORDER else None
    return OrderCode(item["codeId"], kind, value, item.get("filename") or None, _links(item.get("links")))


@dataclass(frozen=True)
class OrderLine:
    """One product of an order: its unit price, and one code per key bought (none while the order is
    still being fulfilled)."""

    product_id: str
    name: str
    unit_price: Decimal
    codes: tuple[OrderCode, ...]
    links: tuple[Link, ...] = ()


def _line_from(item: Any) -> OrderLine:
    if not isinstance(item, dict) or not isinstance(item.get("productId"), str) or not item["productId"]:
        raise ValueError("a product without a productId")
    codes = item.get("codes") or []
    if not isinstance(codes, list):
        raise ValueError(f"the codes of product {item['productId']} are not a list")
    return OrderLine(item["productId"], str(item.get("name") or ""),
                     _money(item.get("unitPrice"), f"the unitPrice of product {item['productId']}"),
                     tuple(_code_from(code) for code in codes), _links(item.get("links")))


@dataclass(frozen=True)
class OrderSummary:
    """An order as the order history lists it: who placed it under which client order id (ours),
    what it cost, where it stands; no products or codes (`get_order(order_id)` has them)."""

    order_id: str
    client_order_id: str | None
    identifier: str | None
    status: str
    total_price: Decimal
    created_on: datetime | None
    links: tuple[Link, ...] = ()

    @property
    def completed(self) -> bool:
        return self.status.lower() == COMPLETED.lower()


def _summary_from(item: Any) -> OrderSummary:
    if not isinstance(item, dict) or not isinstance(item.get("orderId"), str) or not item["orderId"]:
        raise ValueError("an order without an orderId")
    client_order_id = item.get("clientOrderId")
    return OrderSummary(item["orderId"], client_order_id if isinstance(client_order_id, str) else None,
                        str(item["identifier"]) if item.get("identifier") is not None else None,
                        str(item.get("status") or ""),
                        _money(item.get("totalPrice"), f"the totalPrice of order {item['orderId']}"),
                        _moment(item.get("createdOn")), _links(item.get("links")))


@dataclass(frozen=True)
class Order(OrderSummary):
    """An order with its products and codes. It is `completed` once the supplier has handed out its
    codes (status Completed); before that (status Fulfilling) its lines carry no codes yet. A
    completed order may still hold PRE_ORDER codes (`pre_orders`), paid for and delivered later."""

    lines: tuple[OrderLine, ...] = ()

    @property
    def codes(self) -> tuple[OrderCode, ...]:
        return tuple(code for line in self.lines for code in line.codes)

    @property
    def pre_orders(self) -> tuple[OrderCode, ...]:
        return tuple(code for code in self.codes if code.kind == PRE_ORDER)


def _order_from(item: Any) -> Order:
    summary = _summary_from(item)
    products = item.get("products") or []
    if not isinstance(products, list):
        raise ValueError(f"the products of order {summary.order_id} are not a list")
    return Order(**vars(summary), lines=tuple(_line_from(product) for product in products))


@dataclass(frozen=True)
class Balance:
    """What the account can spend: its balance, its credit, and both together (`total_to_use`)."""

    current_balance: Decimal
    current_credit: Decimal
    total_to_use: Decimal


class CodesWholesaleApi(ApiSession):
    """A session with one CodesWholesale account (base URL + client credentials)."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, *, timeout: float = 30.0,
                 attempts: int = 5, max_wait: float = 60.0, token_margin: float = 60.0,
                 limits: Limits = DEFAULT_LIMITS):
        self.limits = limits
        self.base_url = base_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._token_margin = token_margin
        self._http = HttpClient("CodesWholesale", CodesWholesaleError,
                                scrubber=SecretScrubber(client_secret, username=client_id), timeout=timeout,
                                limits=limits, retry=RetryPolicy(attempts, 0.5, max_wait), base_url=self.base_url,
                                headers={"Accept": "application/json"}, status_error=_error_for,
                                lost={"answer_lost": True})
        self._tokens = OAuthTokens(self._fetch_token, clock=time.monotonic, remember=self._http.scrubber.add_token)
        self.tokens_fetched = 0
        # The balance last read and when, less what this session's orders cost since (balance(max_age)).
        self._balance: Balance | None = None
        self._balance_read_at = 0.0
        self._balance_lock = threading.Lock()

    @property
    def bytes_received(self) -> int:
        return self._http.bytes_received

    # ------------------------------------------------------------------ OAuth
    def _fetch_token(self, _refresh_token: str | None) -> TokenSet:
        """Client credentials for a bearer token (one call, inside the retries of the read it serves)."""
        response = self._http.expect(self._http.send("POST", "/oauth/token", "the token request", data={
            "grant_type": "client_credentials", "client_id": self._client_id, "client_secret": self._client_secret}),
            "the token request")
        try:
            body = orjson.loads(response.content)
            # The getting-started guide shows OAuth's access_token/expires_in; the Swagger model the
            # Spring names value/expiresIn. Accept either.
            value = body.get("access_token") or body.get("value")
            lifetime = float(lifetime_of(body, 0.0, "expires_in", "expiresIn") or 0)
        except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
            value = None
        if not value:
            raise self._http.error("CodesWholesale answered the token request without a token", "server")
        self.tokens_fetched += 1
        return issued(value, lifetime, time.monotonic(), self._token_margin)

    def _get_once(self, path: str, params: dict[str, Any] | None, what: str) -> Any:
        """One authorised GET, with one token refresh when the API says the token is no good."""
        response = self._tokens.authorised(
            lambda token: self._http.send("GET", path, what, params=params,
                                          headers={"Authorization": f"Bearer {token}"}), unauthorized)
        self._http.expect(response, what)
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise self._http.error(f"CodesWholesale answered {what} with something that is not JSON",
                                   "server") from None

    def get(self, path: str, params: dict[str, Any] | None = None, what: str | None = None) -> Any:
        """An authorised, retried GET of `path`; the decoded JSON body."""
        return self._http.retrying(self._get_once, path, params, what or f"GET {path}")

    # ------------------------------------------------------------------ reads
    def ping(self) -> float:
        """Seconds one authorised round trip takes (token included when none is cached)."""
        started = time.perf_counter()
        self.current_account()
        return time.perf_counter() - started

    def current_account(self) -> dict:
        return self.get("/v3/accounts/current", what="the account")

    def product_pages(self, **filters: Any) -> Iterator[list[dict]]:
        """The price list, one page (a list of product dicts) at a time, to the end.

        `filters`: platform, region, language, product_ids (list or comma-separated), in_stock_days_ago.
        """
        params: dict[str, Any] = {}
        for name, value in filters.items():
            if name not in PRODUCT_FILTERS:
                raise ValueError(f"unknown product filter '{name}' (known: {', '.join(PRODUCT_FILTERS)})")
            if value is None:
                continue
            params[PRODUCT_FILTERS[name]] = ",".join(value) if isinstance(value, (list, tuple)) else value

        def fetch(token: str | None, number: int) -> tuple[list[dict], str | None]:
            if token is not None:
                # Exactly as received; httpx percent-encodes it once (`+` -> %2B, `/` -> %2F, `%` -> %25).
                params["continuationToken"] = token
            body = self.get("/v3/products", dict(params), f"products page {number}")
            if isinstance(body, list):  # a bare list, as some captures show: one page, no more
                return body, None
            what = f"CodesWholesale products page {number}"
            if not isinstance(body, dict):
                raise self._http.error(malformed(what, "not an object"), MALFORMED)
            items = body.get("items", [])
            if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
                shape = "null" if items is None else "not a list of objects"
                raise self._http.error(malformed(what, f"`items` is {shape}"), MALFORMED)
            return items, body.get("continuationToken") or None

        for items, _following in self._http.pages("CodesWholesale products", fetch, lambda page: page[1]):
            yield items

    # ------------------------------------------------------------------ orders
    def _parsed(self, parse: Any, body: Any, what: str) -> Any:
        """`parse(body)`, or the malformed-answer error naming `what`."""
        try:
            return parse(body)
        except (ValueError, TypeError, AttributeError) as exc:
            raise self._http.error(malformed(f"CodesWholesale {what}", str(exc)), MALFORMED) from None

    def place_order(self, client_order_id: str, lines: Sequence[OrderLineRequest],
                    allow_pre_order: bool = False) -> Order:
        """Buy keys: one `POST /v3/orders` for `lines`, under our own `client_order_id` (the API keeps
        it as the order's clientOrderId; make it unique per purchase). The account is charged at once.
        With `allow_pre_order`, keys the supplier does not have yet are bought as PRE_ORDER codes.

        Returns the order as placed: Completed with its codes, or Fulfilling (codes to come: poll
        `get_order`). Sent once, never retried: a CodesWholesaleError of kind outcome_unknown means
        the order may exist; look it up (`find_orders(client_order_id, ...)`) before placing it again.
        Any other error says nothing was bought (see CodesWholesaleError for the kinds)."""
        if not isinstance(client_order_id, str) or not client_order_id.strip():
            raise ValueError("an order needs a client order id of our own (to find it again)")
        if not lines:
            raise ValueError(f"order {client_order_id} has no products")
        products = []
        for line in lines:
            if isinstance(line.quantity, bool) or not isinstance(line.quantity, int) or line.quantity < 1:
                raise ValueError(f"order {client_order_id}: the quantity of {line.product_id} must be at least 1")
            price = _money(line.price, f"the price of {line.product_id}")
            if price <= 0:
                raise ValueError(f"order {client_order_id}: the price of {line.product_id} must be above 0")
            products.append({"productId": line.product_id, "quantity": line.quantity, "price": float(price)})
        body = orjson.dumps({"allowPreOrder": bool(allow_pre_order), "orderId": client_order_id,
                             "products": products})
        what = f"order {client_order_id}"
        self._http.retrying(self._tokens.bearer)  # a token first, with retries: nothing is sent before it

        def send(token: str) -> httpx.Response:
            try:
                return self._http.send("POST", "/v3/orders", what, content=body, headers={
                    "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            except CodesWholesaleError as exc:
                if exc.kind == "unreachable" and not exc.answer_lost:
                    raise  # no connection: the order never left
                raise self._unknown(str(exc)) from None

        # A 401 is the API refusing the token before it looks at the order: sending again is safe.
        response = self._tokens.authorised(send, unauthorized)
        if response.status_code not in (200, 201):
            raise _order_error(response, what).scrubbed(self._http.scrubber)
        try:
            order = _order_from(orjson.loads(response.content))
        except (orjson.JSONDecodeError, ValueError, TypeError, AttributeError) as exc:
            raise self._unknown(f"CodesWholesale answered {what} with HTTP {response.status_code} but no "
                                f"order that can be read ({exc})") from None
        if order.client_order_id != client_order_id:
            raise self._unknown(f"CodesWholesale answered {what} with order {order.order_id} of another "
                                "client order id")
        self._spent(order.total_price)
        return order

    def _unknown(self, detail: str) -> CodesWholesaleError:
        """The error of an order sent whose answer is lost or unreadable: it may exist."""
        return cast(CodesWholesaleError, self._http.error(
            f"{detail}: the order may have been placed and paid; look it up by its client order id before "
            "placing it again", OUTCOME_UNKNOWN, answer_lost=True))

    def get_order(self, order_id: str) -> Order:
        """The order `order_id` (the API's orderId) as it stands: Fulfilling, or Completed with its
        codes. A retried read; kind not_found when the API has no such order."""
        what = f"order {order_id}"
        body = self.get(f"/v3/orders/{quote(order_id, safe='')}", what=what)
        return self._parsed(_order_from, body, what)

    def find_orders(self, client_order_id: str, since: datetime, until: datetime | None = None) -> list[OrderSummary]:
        """Every order placed under our `client_order_id` from `since` to `until` (default now): how a
        caller learns whether an order whose answer was lost exists, and how many times it was bought
        (the API does not refuse a second order with the same client order id, so there may be more than
        one). The order history (`GET /v3/orders?startFrom=&endOn=`) is asked for whole UTC days, from
        `since`'s day to the day after `until`'s, in dates as the official SDK sends them, and matched
        here on clientOrderId; the API documents no paging for it. Oldest first as the API lists them.
        An order whose request is still on its way (sent, the answer not yet lost) shows up only once
        the API has taken it: "none found" right after a timeout is no proof that none will be."""
        until = until or datetime.now(UTC)
        since, until = (m if m.tzinfo else m.replace(tzinfo=UTC) for m in (since, until))
        if since > until:
            raise ValueError("find_orders: since is after until")
        first, last = since.astimezone(UTC).date(), until.astimezone(UTC).date() + timedelta(days=1)
        what = f"the order history from {first} to {last}"
        body = self.get("/v3/orders", {"startFrom": first.isoformat(), "endOn": last.isoformat()}, what)

        def matching(answer: Any) -> list[OrderSummary]:
            # An answer without its list is malformed, never "no order": that would invite a second purchase.
            items = answer.get("items") if isinstance(answer, dict) else answer
            if not isinstance(items, list):
                raise ValueError("`items` is missing or not a list")
            return [_summary_from(item) for item in items
                    if isinstance(item, dict) and item.get("clientOrderId") == client_order_id]

        return self._parsed(matching, body, what)

    def get_code(self, code_id: str) -> OrderCode:
        """One code bought (`GET /v3/codes/{codeId}`): how a PRE_ORDER code is read again once the
        supplier delivers its key. A retried read; kind not_found when the API has no such code."""
        what = f"code {code_id}"
        return self._parsed(_code_from, self.get(f"/v3/codes/{quote(code_id, safe='')}", what=what), what)

    def balance(self, max_age_seconds: float = 0.0) -> Balance:
        """What the account can spend (`GET /v3/accounts/current`). With `max_age_seconds`, a reading at
        most that old serves, less what this session's own orders cost since: an estimate (another
        client's orders, or ours whose answer was lost, are not in it), so a caller that finds it short
        reads again fresh, and the supplier's own refusal of an order for funds stays the last word.
        Saves a call per purchase when many are bought in a row."""
        with self._balance_lock:
            if self._balance is not None and time.monotonic() - self._balance_read_at <= max_age_seconds:
                return self._balance

        def parse(body: Any) -> Balance:
            return Balance(_money(body.get("currentBalance"), "currentBalance"),
                           _money(body.get("currentCredit") or 0, "currentCredit"),
                           _money(body.get("totalToUse"), "totalToUse"))

        read = self._parsed(parse, self.current_account(), "account")
        with self._balance_lock:
            self._balance, self._balance_read_at = read, time.monotonic()
        return read

    def _spent(self, amount: Decimal) -> None:
        with self._balance_lock:
            if self._balance is not None:
                b = self._balance
                self._balance = Balance(b.current_balance - amount, b.current_credit, b.total_to_use - amount)


class CodesWholesaleResource(ApiClientResource):
    """Opens CodesWholesale API sessions; base URL and client credentials come from each store's source."""

    timeout_seconds: float = 30.0
    attempts: int = 5
    max_retry_wait_seconds: float = 60.0
    token_margin_seconds: float = 60.0

    def session(self, base_url: str, client_id: str, client_secret: str) -> CodesWholesaleApi:
        if not (client_id or "").strip() or not (client_secret or "").strip():
            raise CodesWholesaleError("the store's codeswholesale source has no client id or secret: set them for the "
                                      "source", "auth")
        return CodesWholesaleApi(base_url, client_id, client_secret, timeout=self.timeout_seconds,
                                 attempts=self.attempts, max_wait=self.max_retry_wait_seconds,
                                 token_margin=self.token_margin_seconds,
                                 limits=self.limits())
