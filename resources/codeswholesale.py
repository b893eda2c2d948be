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


class CodesWholesaleError(HttpCallError):
    """A failed CodesWholesale call. `kind`: auth (fix the client credentials), rate_limited, server
    and unreachable (transient: try later), rejected (the API refused the request itself)."""

    TRANSIENT = frozenset({"rate_limited", "server", "unreachable"})


def _error_for(response: httpx.Response, what: str) -> CodesWholesaleError:
    """The error mapping: an answer's status as a CodesWholesaleError."""
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
                                headers={"Accept": "application/json"}, status_error=_error_for)
        self._tokens = OAuthTokens(self._fetch_token, clock=time.monotonic, remember=self._http.scrubber.add_token)
        self.tokens_fetched = 0

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
