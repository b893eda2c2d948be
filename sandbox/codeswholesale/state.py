"""Everything the CodesWholesale simulator remembers: the price list, API clients, access tokens,
continuation tokens handed out, armed faults and counters.

Plain Python behind one re-entrant lock (uvicorn serves from its own thread while a test reads and
arms faults), so tests can drive it directly as well as through the `/_sandbox/*` endpoints.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass

from ..admin import FaultQueue, FaultSpec
from .data import DEFAULT_ANOMALIES, Anomalies, ProductMaker

DEFAULT_CLIENT_ID = "sandbox-client"
DEFAULT_CLIENT_SECRET = "$2a$10$sandbox/secret+with=chars"
DEFAULT_TOKEN_TTL = 1800.0
DEFAULT_PAGE_SIZE = 500

FAULT_KINDS = ("http_500", "http_502", "http_503", "http_429", "expire_tokens", "slow")
FAULT_TARGETS = ("products", "token", "any")


@dataclass
class Fault(FaultSpec):
    """A misbehaviour for the next `count` matching requests, after letting `skip` of them through.

    target: "products" (GET /v3/products, the default), "token" (POST /oauth/token) or "any" request.
    kinds: http_500 / http_502 / http_503 (an error page; 503 carries `retry_after` when set),
    http_429 (Retry-After: `retry_after`, default 1), expire_tokens (every access token issued so far
    expires now, before its announced lifetime: the request gets 401 as a real expiry would),
    slow (answers after `seconds`).
    """

    KINDS = FAULT_KINDS
    TARGETS = FAULT_TARGETS

    target: str = "products"
    seconds: float = 1.0


class CodesWholesaleState(FaultQueue):
    """One simulated CodesWholesale account: its price list, OAuth clients and tokens, and faults.

    `page_size` is how many products one `GET /v3/products` answer holds. `token_ttl` is the
    `expires_in` announced for new access tokens, and enforced.
    """

    fault_type = Fault  # armed, cleared and taken (by request target) as FaultQueue does

    def __init__(self, seed: int = 42, size: int = 1000, *, clients: dict[str, str] | None = None,
                 page_size: int = DEFAULT_PAGE_SIZE, token_ttl: float = DEFAULT_TOKEN_TTL,
                 anomalies: Anomalies = DEFAULT_ANOMALIES, drift: float = 0.01):
        self.lock = threading.RLock()
        self.clients = dict(clients or {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET})
        self.page_size = page_size
        self.token_ttl = token_ttl
        self.anomalies = anomalies
        self.drift = drift
        self.seed, self.size = seed, size
        self.reset(seed, size)

    # ------------------------------------------------------------------ data

    def reset(self, seed: int | None = None, size: int | None = None) -> None:
        """Regenerate the price list (generation 0) and forget tokens, faults and counters."""
        with self.lock:
            self.seed = self.seed if seed is None else seed
            self.size = self.size if size is None else size
            self.generation = 0
            self._maker = ProductMaker(self.seed, self.anomalies)
            self.products = [self._maker.product(i) for i in range(self.size)]
            self.access_tokens: dict[str, float] = {}  # token -> monotonic expiry
            self.continuations: dict[str, tuple[str, int]] = {}  # token -> (filter key, offset)
            self.faults: list[Fault] = []
            self.requests: Counter = Counter()
            self.statuses: Counter = Counter()
            self.faults_fired: Counter = Counter()
            self.tokens_issued = 0
            self.items_served = 0

    def advance(self, generations: int = 1) -> int:
        """Let the price list drift: a seeded `drift` share of products gets new stock and prices
        per generation. Returns how many products differ from before."""
        with self.lock:
            self.generation += generations
            fresh = [self._maker.product(i, self.generation, self.drift) for i in range(self.size)]
            changed = sum(1 for old, new in zip(self.products, fresh, strict=True) if old != new)
            self.products = fresh
            return changed

    # ------------------------------------------------------------------ OAuth

    def issue_token(self, client_id: str | None, client_secret: str | None) -> dict | None:
        """An access token for valid client credentials (constant-time compare), else None."""
        with self.lock:
            expected = self.clients.get(client_id or "")
            if expected is None or not secrets.compare_digest(expected.encode(), (client_secret or "").encode()):
                return None
            token = secrets.token_hex(16)
            token = f"{token[:8]}-{token[8:12]}-{token[12:16]}-{token[16:20]}-{token[20:]}"
            self.access_tokens[token] = time.monotonic() + self.token_ttl
            self.tokens_issued += 1
            return {"access_token": token, "token_type": "bearer", "expires_in": int(self.token_ttl)}

    def token_status(self, token: str | None) -> str:
        """"valid", "expired" or "invalid"."""
        with self.lock:
            expiry = self.access_tokens.get(token or "")
            if expiry is None:
                return "invalid"
            return "valid" if time.monotonic() < expiry else "expired"

    def expire_tokens(self) -> None:
        with self.lock:
            for token in self.access_tokens:
                self.access_tokens[token] = 0.0

    # ---------------------------------------------------------------- paging

    def _continuation(self, key: str, offset: int) -> str:
        """An opaque continuation token. Standard base64 plus a suffix, so every token holds `+`,
        `/`, `=` and `%`: a client that does not percent-encode it exactly once loses its place."""
        digest = hashlib.sha256(f"{self.seed}:{self.generation}:{key}:{offset}:{len(self.continuations)}".encode())
        body = base64.b64encode(digest.digest()[:10] + offset.to_bytes(4, "big")).decode()
        return f"{body}+/%2B%{offset % 100:02d}=="

    def page(self, continuation: str | None, filters: dict[str, str]) -> dict:
        """One answer of `GET /v3/products`: `{"items": [...], "continuationToken": str|None}`.
        Raises KeyError for a continuation token this server never issued (or for other filters)."""
        key = repr(sorted(filters.items()))
        with self.lock:
            if continuation is None:
                offset = 0
            else:
                token_key, offset = self.continuations[continuation]
                if token_key != key:
                    raise KeyError(continuation)
            matching = _matcher(filters)
            items: list[dict] = []
            position = offset
            products = self.products
            while position < len(products) and len(items) < self.page_size:
                product = products[position]
                if matching is None or matching(product):
                    items.append(product)
                position += 1
            if matching is not None:
                # Step over what cannot match, so the last page never promises more than it has.
                while position < len(products) and not matching(products[position]):
                    position += 1
            has_more = position < len(products)
            token = None
            if has_more:
                token = self._continuation(key, position)
                self.continuations[token] = (key, position)
            self.items_served += len(items)
            return {"items": items, "continuationToken": token}

    def product(self, product_id: str) -> dict | None:
        with self.lock:
            return next((p for p in self.products if p["productId"] == product_id), None)

    # ----------------------------------------------------------------- stats

    def record(self, route: str, status: int) -> None:
        with self.lock:
            self.requests[route] += 1
            self.statuses[status] += 1

    def stats(self) -> dict:
        with self.lock:
            return {
                "seed": self.seed, "size": self.size, "generation": self.generation,
                "requests": dict(self.requests), "statuses": {str(k): v for k, v in self.statuses.items()},
                "faults_fired": dict(self.faults_fired), "faults_armed": [asdict(f) for f in self.faults],
                "tokens_issued": self.tokens_issued, "items_served": self.items_served,
                "continuations_issued": len(self.continuations),
            }


def _matcher(filters: dict[str, str]):
    """A predicate for the documented query filters (platform, region, language, productIds,
    inStockDaysAgo), or None when there are none."""
    tests = []
    if filters.get("platform"):
        wanted = filters["platform"].lower()
        tests.append(lambda p: p["platform"].lower() == wanted)
    if filters.get("region"):
        wanted_region = filters["region"].upper()
        tests.append(lambda p: wanted_region in p["regions"])
    if filters.get("language"):
        wanted_language = filters["language"].lower()
        tests.append(lambda p: any(lang.lower() == wanted_language for lang in p["languages"]))
    if filters.get("productIds"):
        ids = {i.strip() for i in filters["productIds"].split(",") if i.strip()}
        tests.append(lambda p: p["productId"] in ids)
    if filters.get("inStockDaysAgo") is not None:
        # The simulator has no stock history: every product in stock counts as recently added.
        tests.append(lambda p: p["quantity"] > 0)
    if not tests:
        return None
    return lambda p: all(test(p) for test in tests)
