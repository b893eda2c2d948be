"""Everything the CodesWholesale simulator remembers: the price list, API clients, access tokens,
continuation tokens handed out, the account's balance, its orders, the keys they bought and the
charges they made, armed faults and counters.

Plain Python behind one re-entrant lock (uvicorn serves from its own thread while a test reads and
arms faults), so tests can drive it directly as well as through the `/_sandbox/*` endpoints. An order
is checked, charged and recorded under that lock in one step, so two requests never spend the same
money and every charge is in `charges`.
"""

from __future__ import annotations

import base64
import hashlib
import random
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal

from ..admin import FaultQueue, FaultSpec
from .data import DEFAULT_ANOMALIES, Anomalies, ProductMaker
from .orders import (
    BALANCE_TOO_LOW,
    COMPLETED,
    IMAGE,
    PRE_ORDER,
    PRICE_CHANGED,
    PRODUCT_NOT_FOUND,
    TEXT,
    TOO_LOW_STOCK,
    Charge,
    OrderRefused,
    SimCode,
    SimLine,
    SimOrder,
    image_code,
    money,
    read_request,
    unit_price,
)

DEFAULT_CLIENT_ID = "sandbox-client"
DEFAULT_CLIENT_SECRET = "$2a$10$sandbox/secret+with=chars"
DEFAULT_TOKEN_TTL = 1800.0
DEFAULT_PAGE_SIZE = 500
DEFAULT_BALANCE = 1000.0
KEY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

# Faults that act on an order being placed (their default target is "place_order").
ORDER_FAULTS = ("lost_answer", "slow_answer", "delay_codes")
FAULT_KINDS = ("http_500", "http_502", "http_503", "http_504", "http_429", "expire_tokens", "slow", *ORDER_FAULTS)
FAULT_TARGETS = ("products", "token", "any", "place_order", "order", "order_history", "code", "account")


@dataclass
class Fault(FaultSpec):
    """A misbehaviour for the next `count` matching requests, after letting `skip` of them through.

    target: "products" (GET /v3/products, the default but for the order faults), "token" (POST
    /oauth/token), "place_order" (POST /v3/orders, the order faults' default), "order" (GET
    /v3/orders/{orderId}), "order_history" (GET /v3/orders), "code" (GET /v3/codes/{codeId}),
    "account" (GET /v3/accounts/current) or "any" request.
    kinds, before the request is carried out (so an order is neither placed nor charged):
    http_500 / http_502 / http_503 / http_504 (an error page; 503 carries `retry_after` when set),
    http_429 (Retry-After: `retry_after`, default 1), expire_tokens (every access token issued so far
    expires now, before its announced lifetime: the request gets 401 as a real expiry would),
    slow (waits `seconds`, then carries the request out even if the client gave up meanwhile).
    After the request is carried out (an order is placed and charged): lost_answer (the connection
    dies halfway through the answer), slow_answer (the answer waits `seconds`, or until the client
    hangs up). delay_codes (place_order only): the order placed stays Fulfilling, without codes, for
    its next `reads` reads.
    """

    KINDS = FAULT_KINDS
    TARGETS = FAULT_TARGETS

    target: str = ""
    seconds: float = 1.0
    reads: int = 2

    def __post_init__(self) -> None:
        if not self.target:
            self.target = "place_order" if self.kind in ORDER_FAULTS else "products"
        super().__post_init__()
        if self.kind == "delay_codes" and self.target != "place_order":
            raise ValueError("delay_codes applies to place_order only")
        if self.reads < 0 or self.seconds < 0:
            raise ValueError("reads and seconds must not be negative")


class CodesWholesaleState(FaultQueue):
    """One simulated CodesWholesale account: its price list, OAuth clients and tokens, its money and
    orders, and faults.

    `page_size` is how many products one `GET /v3/products` answer holds. `token_ttl` is the
    `expires_in` announced for new access tokens, and enforced. `balance` and `credit` are what the
    account may spend (an order costing more than both together is refused). Every order stays
    Fulfilling, without codes, for its first `codes_after_reads` reads and `codes_after_seconds`
    seconds (0 and 0: it is Completed at once). `image_share` of the products deliver image codes,
    the rest text codes (`code_types` overrides that per product id). `clock` gives the wall-clock
    time orders are created at (`createdOn`).
    """

    fault_type = Fault  # armed, cleared and taken (by request target) as FaultQueue does

    def __init__(self, seed: int = 42, size: int = 1000, *, clients: dict[str, str] | None = None,
                 page_size: int = DEFAULT_PAGE_SIZE, token_ttl: float = DEFAULT_TOKEN_TTL,
                 anomalies: Anomalies = DEFAULT_ANOMALIES, drift: float = 0.01, balance: float = DEFAULT_BALANCE,
                 credit: float = 0.0, codes_after_reads: int = 0, codes_after_seconds: float = 0.0,
                 image_share: float = 0.1, clock: Callable[[], datetime] | None = None):
        self.lock = threading.RLock()
        self.clients = dict(clients or {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET})
        self.page_size = page_size
        self.token_ttl = token_ttl
        self.anomalies = anomalies
        self.drift = drift
        self.initial_balance, self.initial_credit = balance, credit
        self.codes_after_reads = codes_after_reads
        self.codes_after_seconds = codes_after_seconds
        self.image_share = image_share
        self.clock = clock or (lambda: datetime.now(UTC))
        self.seed, self.size = seed, size
        self.reset(seed, size)

    # ------------------------------------------------------------------ data

    def reset(self, seed: int | None = None, size: int | None = None) -> None:
        """Regenerate the price list (generation 0), refill the account and forget tokens, orders,
        charges, faults and counters."""
        with self.lock:
            self.seed = self.seed if seed is None else seed
            self.size = self.size if size is None else size
            self.generation = 0
            self._maker = ProductMaker(self.seed, self.anomalies)
            self.products = [self._maker.product(i) for i in range(self.size)]
            self._reindex()
            self.balance = money(self.initial_balance)
            self.credit = money(self.initial_credit)
            self.orders: dict[str, SimOrder] = {}  # by orderId, in the order they were placed
            self.charges: list[Charge] = []
            self.code_types: dict[str, str] = {}  # product id -> TEXT or IMAGE, over the seeded choice
            self._codes: dict[str, tuple[SimOrder, SimCode]] = {}
            self._order_rng = random.Random(f"codeswholesale:{self.seed}:orders")
            self.order_refusals: Counter = Counter()
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
            self._reindex()
            return changed

    def _reindex(self) -> None:
        self._index = {p["productId"]: i for i, p in enumerate(self.products) if p.get("productId")}

    def change_price(self, product_id: str, value: float) -> list[dict]:
        """The product's price changes in the price list (what `GET /v3/products` shows and what an
        order is charged): one unit now costs `value`, the other quantity tiers move in proportion.
        Returns the new tiers. KeyError for a product not in the price list."""
        with self.lock:
            index = self._index[product_id]
            product = self.products[index]
            tiers = [dict(t) for t in product.get("prices") or [{"value": value, "from": 1, "to": None}]]
            base = unit_price(product, 1)
            factor = Decimal(str(value)) / base if base else Decimal(1)
            for tier in tiers:
                tier["value"] = float(money(Decimal(str(tier["value"])) * factor))
            tiers[0]["value"] = float(money(value))
            # A new dict, never a change in place: an answer being encoded may hold the old one.
            self.products[index] = {**product, "prices": tiers}
            return tiers

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
            index = self._index.get(product_id)
            return None if index is None else self.products[index]

    # ---------------------------------------------------------------- money

    def set_balance(self, balance: float | None = None, credit: float | None = None) -> dict:
        """Set what the account holds (a short balance makes the next orders fail). Returns the account."""
        with self.lock:
            if balance is not None:
                self.balance = money(balance)
            if credit is not None:
                self.credit = money(credit)
            return self.account()

    def account(self) -> dict:
        """`GET /v3/accounts/current`: the account, with its balance, credit and both together."""
        with self.lock:
            return {"fullName": "Sandbox Reseller", "email": "sandbox@example.com",
                    "currentBalance": float(self.balance), "currentCredit": float(self.credit),
                    "totalToUse": float(self.balance + self.credit), "links": []}

    def charges_for(self, client_order_id: str | None) -> list[Charge]:
        """Every charge made for orders placed under `client_order_id` (a test asserts there is one)."""
        with self.lock:
            return [c for c in self.charges if c.client_order_id == client_order_id]

    # ---------------------------------------------------------------- orders

    def code_type(self, product_id: str) -> str:
        """Whether the product's keys come as text (CODE_TEXT) or as an image (CODE_IMAGE): seeded per
        product, `image_share` of them images, unless `code_types` says otherwise."""
        with self.lock:
            if product_id in self.code_types:
                return self.code_types[product_id]
            roll = int.from_bytes(hashlib.sha256(f"{self.seed}:{product_id}".encode()).digest()[:4], "big") / 2**32
            return IMAGE if roll < self.image_share else TEXT

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._order_rng.getrandbits(128), version=4))

    def _key(self) -> str:
        return "-".join("".join(self._order_rng.choice(KEY_ALPHABET) for _ in range(5)) for _ in range(3))

    def _deliver(self, code: SimCode, product_id: str) -> None:
        """Give a code its key: a text key, or an image of one."""
        code.code_type = self.code_type(product_id)
        key = self._key()
        if code.code_type == IMAGE:
            code.code, code.filename = image_code(key), f"{code.code_id}.png"
        else:
            code.code, code.filename = key, ""

    def place_order(self, body: object, base_url: str, *, codes_after_reads: int | None = None) -> dict:
        """`POST /v3/orders`: check the request against the price list, the stock and the money, then
        in one step take the money, the stock and the keys and record the order and its charge.
        Returns the order as the API answers it; OrderRefused (nothing taken) when it cannot be placed.
        Orders are never matched on their client order id: the same one placed twice buys twice.
        `codes_after_reads` overrides the state's delay for this order (the delay_codes fault)."""
        with self.lock:
            try:
                client_order_id, allow_pre_order, lines = read_request(body)
                order = self._place(client_order_id, allow_pre_order, lines, body, codes_after_reads)
            except OrderRefused as refusal:
                self.order_refusals[str(refusal.code)] += 1
                raise
            return order.as_json(base_url, time.monotonic())

    def _place(self, client_order_id, allow_pre_order, lines, body, codes_after_reads) -> SimOrder:
        priced = []
        for line in lines:
            product = self.product(line.product_id)
            price = unit_price(product, line.quantity) if product is not None else None
            if product is None or price is None:
                raise OrderRefused(404, PRODUCT_NOT_FOUND, f"Product {line.product_id} is not in the price list")
            if price > line.price:
                raise OrderRefused(400, PRICE_CHANGED, f"The price of product {line.product_id} has changed: "
                                                       f"{price} per unit, {line.price} offered")
            stock = max(int(product.get("quantity") or 0), 0)
            in_stock = min(line.quantity, stock)
            if in_stock < line.quantity and not allow_pre_order:
                raise OrderRefused(400, TOO_LOW_STOCK, f"Not enough stock of product {line.product_id} "
                                                       "to complete the order")
            priced.append((line, product, price, stock, in_stock))
        total = money(sum((price * line.quantity for line, _, price, _, _ in priced), Decimal(0)))
        if total > self.balance + self.credit:
            raise OrderRefused(400, BALANCE_TOO_LOW, f"Balance too low to complete the order: it costs {total}, "
                                                     f"the account has {self.balance + self.credit}")
        # Every check passed: take the money, the stock and the keys at once.
        self.balance -= total
        order_lines = []
        for line, product, price, stock, in_stock in priced:
            codes = [SimCode(self._uuid(), PRE_ORDER) for _ in range(line.quantity)]
            for code in codes[:in_stock]:
                self._deliver(code, line.product_id)
            self.products[self._index[line.product_id]] = {**product, "quantity": stock - in_stock}
            order_lines.append(SimLine(line.product_id, product.get("name") or "", price, line.quantity, codes))
        reads = self.codes_after_reads if codes_after_reads is None else codes_after_reads
        order = SimOrder(self._uuid(), client_order_id, f"CWS-{100001 + len(self.orders)}", self.clock(), total,
                         order_lines, body, reads, time.monotonic() + self.codes_after_seconds)
        self.orders[order.order_id] = order
        for code in order.codes():
            self._codes[code.code_id] = (order, code)
        self.charges.append(Charge(order.order_id, client_order_id, total, self.balance, order.created_on))
        return order

    def read_order(self, order_id: str, base_url: str) -> dict | None:
        """`GET /v3/orders/{orderId}`: the order as it stands, or None. Each read of an order still
        waiting for its codes counts towards `codes_after_reads`."""
        with self.lock:
            order = self.orders.get(order_id)
            if order is None:
                return None
            answer = order.as_json(base_url, time.monotonic())
            if order.pending_reads > 0:
                order.pending_reads -= 1
            return answer

    def order_history(self, start: datetime | None, end: datetime | None, base_url: str) -> dict:
        """`GET /v3/orders`: every order created from `start` to `end` (both included; None: open),
        oldest first, in one answer (the API documents no paging here)."""
        with self.lock:
            now = time.monotonic()
            return {"items": [o.summary_json(base_url, now) for o in self.orders.values()
                              if (start is None or o.created_on >= start) and (end is None or o.created_on <= end)]}

    def read_code(self, code_id: str, base_url: str) -> dict | None:
        """`GET /v3/codes/{codeId}`: one code bought, once its order is Completed; else None."""
        with self.lock:
            found = self._codes.get(code_id)
            if found is None or found[0].status(time.monotonic()) != COMPLETED:
                return None
            return found[1].as_json(base_url)

    def release_pre_orders(self, product_id: str | None = None) -> int:
        """The supplier delivers pre-ordered keys (of `product_id`, or of every product): each
        PRE_ORDER code gets its text or image key. Returns how many codes were delivered."""
        with self.lock:
            delivered = 0
            for order in self.orders.values():
                for line in order.lines:
                    if product_id not in (None, line.product_id):
                        continue
                    for code in line.codes:
                        if code.code_type == PRE_ORDER:
                            self._deliver(code, line.product_id)
                            delivered += 1
            return delivered

    def orders_json(self, base_url: str) -> dict:
        """Every order (codes shown whatever its status) and charge, for the admin surface."""
        with self.lock:
            now = time.monotonic()
            return {"orders": [o.as_json(base_url, now, show_codes=True) for o in self.orders.values()],
                    "charges": [c.as_json() for c in self.charges], "account": self.account()}

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
                "orders": len(self.orders), "charges": len(self.charges), "balance": float(self.balance),
                "order_refusals": dict(self.order_refusals),
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
