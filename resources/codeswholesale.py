"""The CodesWholesale v3 API (a wholesaler of digital game keys), over httpx.

Authorisation is OAuth 2 client credentials: `POST /oauth/token` trades the account's client id and
secret for a bearer token that lives `expires_in` seconds. The token is cached until shortly before
it expires and fetched again once when the API answers 401 anyway (tokens can be revoked early).
The price list (`GET /v3/products`) comes in pages chained by an opaque `continuationToken`, which is
sent back exactly as received: it carries characters (`+ / = %`) that must be percent-encoded once.

Every call is a read, so transient failures (5xx, 429, timeouts, dropped connections) are retried
with full-jitter backoff that honours Retry-After. Failures surface as one-line `CodesWholesaleError`s
that never contain the client secret or a token.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
from dagster import ConfigurableResource

from resources.http_limits import (
    DEFAULT_MAX_ANSWER_MIB,
    DEFAULT_MAX_PAGES,
    DEFAULT_PAGING_DEADLINE_SECONDS,
    MALFORMED,
    TOO_LARGE,
    AnswerTooLarge,
    Limits,
    Paging,
    limited_transport,
    malformed,
    too_large_message,
)
from resources.http_retry import HttpCallError, retry_after_seconds, retrying
from resources.scrubbing import SecretScrubber

LIVE_URL = "https://api.codeswholesale.com"
SANDBOX_URL = "https://sandbox.codeswholesale.com"
DEFAULT_LIMITS = Limits()
# Query filters `GET /v3/products` documents, by our name -> the API's.
PRODUCT_FILTERS = {"platform": "platform", "region": "region", "language": "language",
                   "product_ids": "productIds", "in_stock_days_ago": "inStockDaysAgo"}


class CodesWholesaleError(HttpCallError):
    """A failed CodesWholesale call. `kind`: auth (fix the client credentials), rate_limited, server
    and unreachable (transient: try later), rejected (the API refused the request itself)."""

    TRANSIENT = frozenset({"rate_limited", "server", "unreachable"})


def _error_for(response: httpx.Response, what: str) -> CodesWholesaleError:
    code = response.status_code
    if code == 429:
        return CodesWholesaleError(f"CodesWholesale rate limit reached on {what} (HTTP 429)", "rate_limited",
                                   retry_after_seconds(response))
    if code >= 500:
        return CodesWholesaleError(f"CodesWholesale server error on {what} (HTTP {code})", "server",
                                   retry_after_seconds(response))
    if code in (401, 403):
        return CodesWholesaleError(f"CodesWholesale refused the client credentials on {what} (HTTP {code}): "
                                   "set valid ones for the store's codeswholesale source", "auth")
    detail = ""
    try:
        body = orjson.loads(response.content)
        # Only the server's own short message; never echo the request.
        message = body.get("message") or body.get("error_description") if isinstance(body, dict) else None
        detail = f": {str(message).splitlines()[0][:200]}" if message else ""
    except orjson.JSONDecodeError:
        pass
    return CodesWholesaleError(f"CodesWholesale refused {what} (HTTP {code}){detail}", "rejected")


class _Token:
    __slots__ = ("refresh_at", "value")

    def __init__(self, value: str, refresh_at: float):
        self.value = value
        self.refresh_at = refresh_at


class CodesWholesaleApi:
    """A session with one CodesWholesale account (base URL + client credentials)."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, *, timeout: float = 30.0,
                 attempts: int = 5, max_wait: float = 60.0, token_margin: float = 60.0,
                 limits: Limits = DEFAULT_LIMITS):
        self.limits = limits
        self.base_url = base_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._scrubber = SecretScrubber(client_secret, username=client_id)
        self._attempts = attempts
        self._max_wait = max_wait
        self._token_margin = token_margin
        self._token: _Token | None = None
        self._http = httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                                  headers={"Accept": "application/json"}, transport=limited_transport(limits))
        self.requests = 0
        self.tokens_fetched = 0
        self.bytes_received = 0

    def __enter__(self) -> CodesWholesaleApi:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ transport
    def _send(self, method: str, path: str, what: str, **kwargs) -> httpx.Response:
        """One HTTP exchange; any failure becomes a classified CodesWholesaleError."""
        self.requests += 1
        try:
            response = self._http.request(method, path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise CodesWholesaleError(f"CodesWholesale is unreachable on {what} ({type(exc).__name__})",
                                      "unreachable") from None
        except httpx.TransportError as exc:
            # Reads only: an answer lost on the way is simply asked for again.
            raise CodesWholesaleError(f"no complete answer from CodesWholesale on {what} ({type(exc).__name__})",
                                      "unreachable") from None
        except AnswerTooLarge as exc:
            raise CodesWholesaleError(too_large_message(f"CodesWholesale's answer to {what}", exc), TOO_LARGE) from None
        except httpx.DecodingError as exc:
            raise CodesWholesaleError(f"CodesWholesale's answer to {what} could not be decoded ({exc})",
                                      MALFORMED) from None
        self.bytes_received += len(response.content)
        return response

    def _retrying(self, call, *args):
        """`call(*args)`, retried on transient failures with full-jitter backoff honouring Retry-After."""
        try:
            return retrying(CodesWholesaleError, self._attempts, 0.5, self._max_wait)(call, *args)
        except CodesWholesaleError as exc:
            raise exc.scrubbed(self._scrubber) from None

    # ------------------------------------------------------------------ OAuth
    def _fetch_token(self) -> _Token:
        response = self._send("POST", "/oauth/token", "the token request", data={
            "grant_type": "client_credentials", "client_id": self._client_id, "client_secret": self._client_secret})
        if response.status_code != 200:
            raise _error_for(response, "the token request")
        try:
            body = orjson.loads(response.content)
            # The getting-started guide shows OAuth's access_token/expires_in; the Swagger model the
            # Spring names value/expiresIn. Accept either.
            value = body.get("access_token") or body.get("value")
            lifetime = float(body.get("expires_in", body.get("expiresIn", 0)) or 0)
        except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
            value = None
        if not value:
            raise CodesWholesaleError("CodesWholesale answered the token request without a token", "server")
        self.tokens_fetched += 1
        self._scrubber.add_token(value)
        # Refresh a margin before expiry, but never plan on a token for less than half its life.
        margin = min(self._token_margin, lifetime / 2)
        return _Token(value, time.monotonic() + lifetime - margin)

    def _bearer(self) -> str:
        if self._token is None or time.monotonic() >= self._token.refresh_at:
            self._token = self._fetch_token()  # inside the caller's retries
        return self._token.value

    def _get_once(self, path: str, params: dict[str, Any] | None, what: str) -> Any:
        """One authorised GET, with one token refresh when the API says the token is no good."""
        for refreshed in (False, True):
            response = self._send("GET", path, what, params=params,
                                  headers={"Authorization": f"Bearer {self._bearer()}"})
            if response.status_code == 401 and not refreshed:
                self._token = None  # expired or revoked early: fetch a new one, once
                continue
            break
        if response.status_code != 200:
            raise _error_for(response, what)
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise CodesWholesaleError(f"CodesWholesale answered {what} with something that is not JSON",
                                      "server") from None

    def get(self, path: str, params: dict[str, Any] | None = None, what: str | None = None) -> Any:
        """An authorised, retried GET of `path`; the decoded JSON body."""
        return self._retrying(self._get_once, path, params, what or f"GET {path}")

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
        paging = Paging("CodesWholesale products", CodesWholesaleError, self.limits)
        token = None
        while True:
            page_number = paging.next(token)
            body = self.get("/v3/products", dict(params), f"products page {page_number}")
            if isinstance(body, list):  # a bare list, as some captures show: one page, no more
                yield body
                return
            what = f"CodesWholesale products page {page_number}"
            if not isinstance(body, dict):
                raise CodesWholesaleError(malformed(what, "not an object"), MALFORMED)
            items = body.get("items", [])
            if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
                shape = "null" if items is None else "not a list of objects"
                raise CodesWholesaleError(malformed(what, f"`items` is {shape}"), MALFORMED)
            yield items
            token = body.get("continuationToken")
            if not token:
                return
            # Exactly as received; httpx percent-encodes it once (`+` -> %2B, `/` -> %2F, `%` -> %25).
            params["continuationToken"] = token


class CodesWholesaleResource(ConfigurableResource):
    """Opens CodesWholesale API sessions; base URL and client credentials come from each store's source."""

    timeout_seconds: float = 30.0
    attempts: int = 5
    max_retry_wait_seconds: float = 60.0
    token_margin_seconds: float = 60.0
    max_answer_mib: float = DEFAULT_MAX_ANSWER_MIB  # an answer larger than this is refused while it streams
    max_pages: int = DEFAULT_MAX_PAGES  # per paging sequence
    paging_deadline_seconds: float = DEFAULT_PAGING_DEADLINE_SECONDS  # per paging sequence

    def session(self, base_url: str, client_id: str, client_secret: str) -> CodesWholesaleApi:
        if not (client_id or "").strip() or not (client_secret or "").strip():
            raise CodesWholesaleError("the store's codeswholesale source has no client id or secret: set them for the "
                                      "source", "auth")
        return CodesWholesaleApi(base_url, client_id, client_secret, timeout=self.timeout_seconds,
                                 attempts=self.attempts, max_wait=self.max_retry_wait_seconds,
                                 token_margin=self.token_margin_seconds,
                                 limits=Limits(self.max_answer_mib, self.max_pages, self.paging_deadline_seconds))
