"""`JtlFfnApi`: a session with one FFN merchant account (OAuth token handling, paging, retries, and
the merchant API's reads and outbound creation)."""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple
from urllib.parse import quote

import httpx
import orjson

from marketsync.resources.errors import first_line
from marketsync.resources.http_client import DEFAULT_LIMITS, ApiSession, HttpClient
from marketsync.resources.http_limits import MALFORMED, Limits, malformed
from marketsync.resources.http_retry import RetryPolicy, retry_after_seconds
from marketsync.resources.jtl_ffn.errors import JtlFfnError
from marketsync.resources.oauth import OAuthTokens, TokenSet, TokenStore, issued, lifetime_of, unauthorized
from marketsync.resources.scrubbing import SecretScrubber

LIVE_URL = "https://ffn2.api.jtl-software.com"
SANDBOX_URL = "https://ffn-sbx.api.jtl-software.com"
TOKEN_URL = "https://oauth2.api.jtl-software.com/token"  # noqa: S105 - a URL, not a secret
CHANNEL = "jtl_ffn"
MAX_PAGE_SIZE = 200
MERCHANT = "/api/v1/merchant"

log = logging.getLogger(__name__)


def _since(value: datetime | str) -> str:
    if isinstance(value, str):
        return value
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


class JtlFfnApi(ApiSession):
    """A session with one FFN merchant account: the API at `base_url` (the host; a trailing `/api`
    is accepted), tokens from `token_url` with the application's client credentials, the account's
    tokens in `token_store`. Not thread-safe: one session per thread (they may share a store)."""

    def __init__(self, base_url: str, token_url: str, client_id: str, client_secret: str, token_store: TokenStore,
                 *, timeout: float = 30.0, attempts: int = 5, max_wait: float = 60.0, token_margin: float = 120.0,
                 page_size: int = MAX_PAGE_SIZE, limits: Limits = DEFAULT_LIMITS):
        self.limits = limits
        base = base_url.rstrip("/")
        self.base_url = base[:-4] if base.endswith("/api") else base
        self.token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._token_margin = token_margin
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1 to {MAX_PAGE_SIZE}")
        self.page_size = page_size
        # The client secret (alone and as the Basic pair) for the session's life; tokens as they are seen.
        self._http = HttpClient("JTL FFN", JtlFfnError, scrubber=SecretScrubber(client_secret, username=client_id),
                                timeout=timeout, limits=limits, retry=RetryPolicy(attempts, 0.5, max_wait),
                                headers={"Accept": "application/json"}, message_limit=400,
                                status_error=self._api_error)
        self._tokens = OAuthTokens(self._exchange, token_store, remember=self._http.scrubber.add_token)
        self._origin = httpx.URL(self.base_url)
        self.token_calls = 0  # refreshes this session made itself (not ones it found in the store)
        self.outbounds_found_existing = 0
        self.last_updates_to: str | None = None  # the `to` of the last …/updates window read

    def _error(self, message: str, kind: str, retry_after: float | None = None, code: str | None = None) -> JtlFfnError:
        return self._http.error(message, kind, retry_after, code=code)  # type: ignore[return-value]

    def _retrying(self, call, *args):
        return self._http.retrying(call, *args)

    def _url(self, path: str) -> httpx.URL:
        return httpx.URL(f"{self.base_url}{path}")

    def _same_origin(self, url: httpx.URL, what: str) -> httpx.URL:
        """A link from an answer, only if it points back at the API: the bearer token goes nowhere else."""
        return self._http.same_origin(url, self._origin, what)

    # ------------------------------------------------------------------ OAuth
    def _token_call(self, form: dict[str, str], what: str) -> TokenSet:
        """POST the token endpoint once (application credentials in HTTP Basic); the new tokens."""
        sent = time.time()
        response = self._http.send("POST", self.token_url, what, data=form,
                                   auth=(self._client_id, self._client_secret), headers={"Accept": "application/json"})
        body: Any = None
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            pass
        if response.status_code != 200:
            raise self._token_error(response, body if isinstance(body, dict) else {}, what)
        access = body.get("access_token") if isinstance(body, dict) else None
        if not access:
            raise self._error(f"JTL FFN answered {what} without an access token", "server")
        lifetime = lifetime_of(body, 60.0)  # no usable lifetime announced: assume a short one rather than none
        refresh = body.get("refresh_token") or form.get("refresh_token") or ""
        self._http.scrubber.add_token(access)
        self._http.scrubber.add_token(refresh)
        self.token_calls += 1
        log.info("JTL FFN access token renewed (lives %.0f s)", lifetime)
        return issued(access, lifetime, sent, self._token_margin, refresh)

    def _token_error(self, response: httpx.Response, body: dict, what: str) -> JtlFfnError:
        code = response.status_code
        error = str(body.get("error") or "")
        if code == 429:
            return self._error(f"JTL FFN rate limit reached on {what} (HTTP 429)", "rate_limited",
                               retry_after_seconds(response), error or None)
        if code >= 500:
            return self._error(f"JTL FFN token endpoint error on {what} (HTTP {code})", "server",
                               retry_after_seconds(response), error or None)
        if error == "invalid_grant":
            return self._error("JTL FFN no longer accepts this account's refresh token (spent, expired or revoked): "
                               "authorise marketsync in JTL FFN again and store the new refresh token", "reauthorize",
                               code="invalid_grant")
        if code == 401 or error in ("invalid_client", "unauthorized_client"):
            return self._error(f"JTL FFN refused the application's client id and secret on {what} "
                               f"(HTTP {code}{', ' + error if error else ''}): check JTL_FFN_CLIENT_ID and "
                               "JTL_FFN_CLIENT_SECRET", "auth", code=error or None)
        detail = first_line(body.get("error_description") or "", 200)
        return self._error(f"JTL FFN refused {what} (HTTP {code}{', ' + error if error else ''})"
                           f"{': ' + detail if detail else ''}", "rejected", code=error or None)

    def _exchange(self, refresh_token: str | None) -> TokenSet:
        """Spend `refresh_token` for a new pair (called by the token store, under its lock). One call:
        a transient failure is retried by the caller's retries, each taking the lock anew, so no
        backoff wait ever holds the lock and retries do not multiply."""
        self._http.scrubber.add_token(refresh_token)
        return self._token_call({"grant_type": "refresh_token", "refresh_token": refresh_token or ""},
                                "the token refresh")

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        """Trade an authorisation code (from the merchant's consent) for the first token pair. Not
        retried: a code is single-use."""
        return self._token_call({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
                                "the authorisation code exchange")

    def _authorised(self, method: str, url: httpx.URL | str, what: str, **kwargs) -> httpx.Response:
        """One authorised exchange, with one token refresh when the API says the token is no good (the
        store refreshes unless another process already did)."""
        return self._tokens.authorised(
            lambda bearer: self._http.send(method, url, what, headers={"Authorization": f"Bearer {bearer}"}, **kwargs),
            unauthorized)

    def _api_error(self, response: httpx.Response, what: str) -> JtlFfnError:
        code = response.status_code
        ffn_code, message = None, ""
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        if isinstance(body, dict):
            error_code = body.get("errorCode")
            ffn_code = (error_code.get("code") if isinstance(error_code, dict) else error_code) or None
            messages = body.get("errorMessages") or []
            first = messages[0] if isinstance(messages, list) and messages else None
            message = first_line(first.get("message") if isinstance(first, dict) else first or "", 200)
            if not message and isinstance(error_code, dict):
                message = first_line(error_code.get("description") or "", 200)
            if message and isinstance(messages, list) and len(messages) > 1:
                message += f" (and {len(messages) - 1} more)"
        label = f"HTTP {code}{' ' + str(ffn_code) if ffn_code else ''}"
        detail = f": {message}" if message else ""
        if code == 429:
            return self._error(f"JTL FFN rate limit reached on {what} ({label})", "rate_limited",
                               retry_after_seconds(response), ffn_code)
        if code >= 500:
            return self._error(f"JTL FFN server error on {what} ({label})", "server", retry_after_seconds(response),
                               ffn_code)
        if code == 401:
            return self._error(f"JTL FFN refused the access token on {what} even after a refresh ({label})", "auth",
                               code=ffn_code)
        if code == 403:
            return self._error(f"JTL FFN does not permit {what} for this authorisation ({label}){detail}: authorise "
                               "marketsync again with the ffn.merchant.read and ffn.merchant.write scopes",
                               "forbidden", code=ffn_code)
        if code == 404:
            return self._error(f"JTL FFN found nothing for {what} ({label}){detail}", "not_found", code=ffn_code)
        if code == 409 or ffn_code == "Shared_DuplicateKey":
            return self._error(f"JTL FFN already has {what} ({label}){detail}", "duplicate", code=ffn_code)
        return self._error(f"JTL FFN refused {what} ({label}){detail}", "rejected", code=ffn_code)

    def _decoded(self, response: httpx.Response, what: str) -> Any:
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise self._error(f"JTL FFN answered {what} with something that is not JSON", "server") from None

    # ------------------------------------------------------------------ reads
    def _get_once(self, url: httpx.URL | str, params: dict[str, Any] | None, what: str) -> tuple[Any, httpx.URL]:
        response = self._http.expect(self._authorised("GET", url, what, params=params), what)
        return self._decoded(response, what), response.request.url

    def _get(self, url: httpx.URL | str, params: dict[str, Any] | None, what: str) -> tuple[Any, httpx.URL]:
        return self._retrying(self._get_once, url, params, what)

    def get(self, path: str, params: dict[str, Any] | None = None, what: str | None = None) -> Any:
        """An authorised, retried GET of a path under the API's host; the decoded JSON body."""
        return self._get(self._url(path), params, what or f"GET {path}")[0]

    def pages(self, path: str, params: dict[str, Any] | None = None, what: str | None = None) -> Iterator[list[dict]]:
        """Every page of a paged list, in order: follows `nextPageLink`, or counts `$skip` on while
        pages come back full when an answer has no such link."""
        what = what or path
        base_params = {"$top": self.page_size, **(params or {})}
        received = 0

        def fetch(cursor: _Cursor | None, number: int) -> _Page:
            cursor = cursor or _Cursor(self._url(path), dict(base_params), "")
            body, requested = self._get(cursor.url, cursor.query, f"{what} page {number}")
            if not isinstance(body, dict):
                raise self._error(malformed(f"JTL FFN {what} page {number}", "not a paged list"), MALFORMED)
            items = body.get("items", [])
            if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
                raise self._error(malformed(f"JTL FFN {what} page {number}",
                                            f"`items` is {'null' if items is None else 'not a list of objects'}"),
                                  MALFORMED)
            return _Page(items, body, requested, number)

        def following(page: _Page) -> _Cursor | None:
            nonlocal received
            received += len(page.items)
            link = page.body.get("nextPageLink")
            if link:
                url = self._same_origin(page.requested.join(str(link)), f"{what} page {page.number}")
                return _Cursor(url, None, str(url))
            if "nextPageLink" not in page.body and page.items and len(page.items) >= int(base_params["$top"]):
                return _Cursor(self._url(path), {**base_params, "$skip": received}, f"$skip={received}")
            return None

        for page in self._http.pages(f"JTL FFN {what}", fetch, following, key=_Cursor.guard):
            yield page.items

    def _items(self, path: str, params: dict[str, Any] | None, what: str) -> Iterator[dict]:
        for page in self.pages(path, params, what):
            yield from page

    def _updates(self, path: str, since: datetime | str, until: datetime | str | None, what: str) -> Iterator[dict]:
        """Objects changed in [since, until) from a …/updates list, chunk by chunk (`nextChunkUrl`).
        The server's end of the window is kept in `last_updates_to`: the next `since`."""
        first: dict[str, Any] = {"fromDate": _since(since), "page": 1}
        if until is not None:
            first["toDate"] = _since(until)

        def fetch(cursor: _Cursor | None, number: int) -> _Page:
            cursor = cursor or _Cursor(self._url(path), first, "")
            body, requested = self._get(cursor.url, cursor.query, f"{what} chunk {number}")
            if not isinstance(body, dict):
                raise self._error(malformed(f"JTL FFN {what} chunk {number}", "not a list of changes"), MALFORMED)
            data = body.get("data", [])
            if not isinstance(data, list):
                raise self._error(malformed(f"JTL FFN {what} chunk {number}",
                                            f"`data` is {'null' if data is None else 'not a list'}"), MALFORMED)
            return _Page(data, body, requested, number)

        def following(page: _Page) -> _Cursor | None:
            body = page.body
            self.last_updates_to = body.get("to") or self.last_updates_to
            if not body.get("moreDataAvailable"):
                return None
            link = body.get("nextChunkUrl")
            if link:
                url, query = self._same_origin(page.requested.join(str(link)), f"{what} chunk {page.number}"), None
            else:
                url, query = self._url(path), {"fromDate": body.get("from") or _since(since),
                                               "toDate": body.get("to"), "page": page.number + 1}
            return _Cursor(url, query, str(url) + repr(query))

        for page in self._http.pages(f"JTL FFN {what}", fetch, following, key=_Cursor.guard):
            yield from page.items

    def test_connection(self) -> dict:
        """One authorised round trip (a token refresh included when needed): seconds and warehouses."""
        started = time.perf_counter()
        warehouses = self.warehouses()
        return {"seconds": time.perf_counter() - started, "warehouses": len(warehouses)}

    def products(self, **filters: Any) -> Iterator[dict]:
        """Every product (jfsku, merchantSku, name, identifier/ean, …). `filters`: field=value pairs
        ANDed into `$filter` (e.g. merchantSku="ABC-1")."""
        return self._items(f"{MERCHANT}/products", _filter_params(filters), "products")

    def product(self, jfsku: str) -> dict:
        return self.get(f"{MERCHANT}/products/{quote(jfsku, safe='')}", what=f"product {jfsku}")

    def stocks(self, warehouse_id: str | None = None) -> Iterator[dict]:
        """Stock of every product (stockLevel, stockLevelReserved, stockLevelBlocked, stockLevelAnnounced
        and `warehouses`, one entry per warehouse), or of one warehouse's products (StockInWarehouse)."""
        if warehouse_id is None:
            return self._items(f"{MERCHANT}/stocks", None, "stocks")
        return self._items(f"{MERCHANT}/stocks/warehouse/{quote(warehouse_id, safe='')}", None,
                           f"stocks of warehouse {warehouse_id}")

    def stock(self, jfsku: str) -> dict:
        return self.get(f"{MERCHANT}/stocks/{quote(jfsku, safe='')}", what=f"stock of {jfsku}")

    def warehouses(self) -> list[dict]:
        return list(self._items(f"{MERCHANT}/warehouses", None, "warehouses"))

    def shipping_methods(self) -> list[dict]:
        """The fulfiller's shipping methods: shippingMethodId -> carrierCode, carrierName, trackingUrlSchema
        (what a shipping notification's `shippingMethodId` means)."""
        return list(self._items(f"{MERCHANT}/shippingmethods", None, "shipping methods"))

    def inbounds(self, since: datetime | str | None = None, until: datetime | str | None = None) -> Iterator[dict]:
        """Every inbound, or those changed since `since` (received quantity per item = quantity -
        quantityOpen)."""
        if since is None:
            return self._items(f"{MERCHANT}/inbounds", None, "inbounds")
        return self._updates(f"{MERCHANT}/inbounds/updates", since, until, "inbound updates")

    def inbound(self, inbound_id: str) -> dict:
        return self.get(f"{MERCHANT}/inbounds/{quote(inbound_id, safe='')}", what=f"inbound {inbound_id}")

    def inbound_shipping_notifications(self, inbound_id: str) -> list[dict]:
        return self.get(f"{MERCHANT}/inbounds/{quote(inbound_id, safe='')}/shipping-notifications",
                        what=f"shipping notifications of inbound {inbound_id}")

    def outbounds(self, since: datetime | str | None = None, until: datetime | str | None = None,
                  **filters: Any) -> Iterator[dict]:
        """Every outbound (optionally `$filter`ed, e.g. status="Shipped"), or those changed since `since`."""
        if since is None:
            return self._items(f"{MERCHANT}/outbounds", _filter_params(filters), "outbounds")
        if filters:
            raise ValueError("filters apply to the full list, not to changes since a moment")
        return self._updates(f"{MERCHANT}/outbounds/updates", since, until, "outbound updates")

    def outbound(self, outbound_id: str) -> dict:
        return self.get(f"{MERCHANT}/outbounds/{quote(outbound_id, safe='')}", what=f"outbound {outbound_id}")

    def shipping_notifications(self, outbound_id: str) -> list[dict]:
        """The outbound's shipping notifications: what left the warehouse (`items`: jfsku, quantity) and
        how (`packages`: freightOption, identifier [{value, identifierType: TrackingId}], trackingUrl,
        shippingMethodId, shippingDate). A partial shipment has fewer pieces than the outbound."""
        return self.get(f"{MERCHANT}/outbounds/{quote(outbound_id, safe='')}/shipping-notifications",
                        what=f"shipping notifications of outbound {outbound_id}")

    def _find_outbound_once(self, number: str) -> dict | None:
        body, _ = self._get_once(self._url(f"{MERCHANT}/outbounds"),
                                 {"$top": 2, **_filter_params({"merchantOutboundNumber": number})},
                                 f"the outbound lookup of {number}")
        items = body.get("items") if isinstance(body, dict) else None
        return next((o for o in items or [] if o.get("merchantOutboundNumber") == number), None)

    def find_outbound(self, merchant_outbound_number: str) -> dict | None:
        """The outbound with this merchantOutboundNumber, or None."""
        return self._retrying(self._find_outbound_once, merchant_outbound_number)

    # ------------------------------------------------------------------ writes
    def create_outbound(self, payload: dict) -> dict:
        """Create an outbound; returns it (status, outboundId, items with quantityOpen, …).

        Idempotent by `merchantOutboundNumber` (required): when FFN already has an outbound with that
        number (a repeat, or an earlier attempt whose answer was lost) the existing outbound is
        returned and nothing new is made; its content is not compared with `payload`. That is what
        makes the retries here safe: after any attempt whose outcome is unknown, the number is
        looked up before the payload is sent again."""
        number = payload.get("merchantOutboundNumber")
        if not isinstance(number, str) or not number:
            raise ValueError("an outbound needs a merchantOutboundNumber: it is what makes creating it idempotent")
        what = f"outbound {number}"
        uncertain = False

        def attempt() -> dict:
            nonlocal uncertain
            if uncertain:
                existing = self._find_outbound_once(number)
                if existing is not None:
                    self.outbounds_found_existing += 1
                    return existing
            try:
                response = self._authorised("POST", self._url(f"{MERCHANT}/outbounds"), what, json=payload)
            except JtlFfnError:
                uncertain = True  # the request may have arrived
                raise
            if response.status_code in (200, 201):
                return self._decoded(response, what)
            error = self._api_error(response, what)
            if error.kind == "duplicate":
                existing = self._find_outbound_once(number)
                if existing is None:  # not listed yet: try again after a while
                    raise self._error(f"JTL FFN calls {what} a duplicate but does not list an outbound with that "
                                      "number (yet)", "server", code=error.code)
                self.outbounds_found_existing += 1
                return existing
            if response.status_code >= 500:
                uncertain = True
            raise error

        return self._retrying(attempt)


class _Cursor(NamedTuple):
    """What asks for the next page of a list: a URL and its query, and the key the paging guard compares."""

    url: httpx.URL
    query: dict[str, Any] | None
    key: str

    def guard(self) -> str:
        return self.key


class _Page(NamedTuple):
    """One page of a list as read: its elements, the whole answer and the URL it answered."""

    items: list
    body: dict
    requested: httpx.URL
    number: int


def _odata_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _filter_params(filters: dict[str, Any]) -> dict[str, str] | None:
    """field=value pairs as an OData `$filter` (a double underscore stands for '/': items__jfsku)."""
    clauses = [f"{name.replace('__', '/')} eq {_odata_literal(value)}" for name, value in filters.items()
               if value is not None]
    return {"$filter": " and ".join(clauses)} if clauses else None
