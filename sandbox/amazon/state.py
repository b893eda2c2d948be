"""Everything the Amazon sandbox remembers: Login with Amazon (LWA) clients, refresh and access tokens,
the selling partner's seeded orders and listings and what the API and the test hooks changed in them,
paging tokens, feed documents and feeds, rate-limit buckets, armed faults, the static sandbox's
vectors and counters.

Plain Python behind one re-entrant lock (uvicorn serves from its own thread while a test reads the
state, moves the clock and arms faults), so tests drive it directly as well as over HTTP. Every API
operation raises `ApiError` for what the real API answers with an error and returns the JSON body
otherwise; `app.py` only moves bytes.

Time: everything (token expiry, the two-minute rule, order timestamps, rate-limit refills, paging
token and URL expiry) reads `now()`, the wall clock plus `clock_offset`; `advance_clock(seconds)`
lets a test skip ahead instead of sleeping.
"""

import base64
import gzip
import hashlib
import math
import re
import secrets
import threading
import time
from bisect import bisect_left, bisect_right, insort
from collections import Counter, OrderedDict, deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from ..admin import FaultQueue, FaultSpec
from .data import (
    CANCELLED,
    DEFAULT_SELLER_ID,
    FULFILLED_BY,
    FULFILLMENT_STATUSES,
    MARKETPLACE_IDS,
    MARKETPLACES,
    PARTIALLY_SHIPPED,
    PENDING,
    PENDING_AVAILABILITY,
    SHIP_FROM,
    SHIPPED,
    UNSHIPPED,
    Catalogue,
    OrderBook,
    iso,
    money,
)
from .feeds import FEED_TYPE, MAX_MESSAGES, fatal_report, process_listings_feed
from .listings import DEFAULT_CHANNEL, FULFILLMENT, OFFER, Listings, offer_price
from .vectors import Vector, load_vectors, match

DEFAULT_CLIENT_ID = "amzn1.application-oa2-client.marketsyncsandbox01"
DEFAULT_CLIENT_SECRET = "amzn1.oa2-cs.v1.sbx+Secret/Value=0%2F"
DEFAULT_TOKEN_TTL = 3600.0
WINDOW_MARGIN = 120  # the end of a searchOrders window must lie at least two minutes before now
PAGE_TOKEN_TTL = 86400  # "The token will expire after 24 hours."
MAX_PAGE_SIZE = 100
MAX_MARKETPLACES = 50
DOCUMENT_URL_TTL = 300  # "This URL expires after 5 minutes."
_PAGE_TOKENS_KEPT = 200_000

# Usage plans (requests per second, burst) from the operations' descriptions in the models.
RATE_LIMITS = {
    "searchOrders": (0.0056, 20),        # orders_2026-01-01.json
    "getOrder": (0.5, 30),               # orders_2026-01-01.json
    "confirmShipment": (2.0, 10),        # ordersV0.json
    "getListingsItem": (5.0, 10),        # listingsItems_2021-08-01.json
    "patchListingsItem": (5.0, 5),       # listingsItems_2021-08-01.json
    "createFeedDocument": (0.5, 15),     # feeds_2021-06-30.json
    "createFeed": (0.0083, 15),          # feeds_2021-06-30.json
    "getFeed": (2.0, 15),                # feeds_2021-06-30.json
    "cancelFeed": (2.0, 15),             # feeds_2021-06-30.json
    "getFeedDocument": (0.0222, 10),     # feeds_2021-06-30.json
}
OPERATIONS = tuple(RATE_LIMITS)
INCLUDED_DATA = ("BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION", "FULFILLMENT", "PACKAGES",
                 "TAX", "PAYMENT", "FULFILLMENT_ORDERS")
LISTING_DATA = ("summaries", "attributes", "issues", "offers", "fulfillmentAvailability", "procurement",
                "relationships", "productTypes")
_ORDER_DATASETS = {"buyer": "BUYER", "recipient": "RECIPIENT", "proceeds": "PROCEEDS", "fulfillment": "FULFILLMENT",
                   "packages": "PACKAGES", "payment": "PAYMENT", "tax": "TAX",
                   "fulfillmentOrders": "FULFILLMENT_ORDERS"}
_ITEM_DATASETS = {"proceeds": "PROCEEDS", "fulfillment": "FULFILLMENT", "cancellation": "CANCELLATION",
                  "promotion": "PROMOTION", "expense": "EXPENSE", "tax": "TAX"}
_ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")
_PACKAGE_REFERENCE = re.compile(r"^[0-9]+$")

FAULT_KINDS = ("http_500", "http_503", "http_429", "slow", "hang", "apply_then_drop", "expire_tokens",
               *("repeat_token", "null_list", "huge_answer", "not_json"))
WRONG_ANSWERS = ("repeat_token", "null_list", "huge_answer", "not_json")
FAULT_TARGETS = (*OPERATIONS, "token", "upload", "download", "api", "any")
DROP_MODES = ("close", "502", "hang")


class ApiError(Exception):
    """An SP-API error answer: `{"errors": [{"code", "message", "details"?}]}` with `status`."""

    def __init__(self, status: int, code: str, message: str, details: str | None = None,
                 headers: dict | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers = headers

    def body(self) -> dict:
        error = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"errors": [error]}


class StorageError(Exception):
    """An answer of the document store behind the presigned URLs (S3's XML error shape)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> bytes:
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{self.code}</Code>'
                f"<Message>{self.message}</Message></Error>").encode()


def invalid(message: str, details: str | None = None, code: str = "InvalidInput") -> ApiError:
    return ApiError(400, code, message, details)


def _unauthorized(details: str) -> ApiError:
    return ApiError(403, "Unauthorized", "Access to requested resource is denied.", details,
                    {"x-amzn-ErrorType": "AccessDeniedException"})


@dataclass
class Fault(FaultSpec):
    """A misbehaviour for the next `count` matching requests, after letting `skip` of them through.

    target: an operation name (see OPERATIONS), "token" (the LWA endpoint), "upload" / "download"
    (the presigned document URLs), "api" (every SP-API operation) or "any".
    kinds: http_500 and http_503 (SP-API error bodies; 503 with Retry-After when `retry_after` is
    set), http_429 (QuotaExceeded; Retry-After only when `retry_after` is set, as Amazon sends none),
    slow (answers after `seconds`, default 1), hang (no answer until the client gives up or `seconds`,
    default 300, pass), expire_tokens (every access token expires now and the request meets its
    expired token), apply_then_drop (the request takes effect, then its answer is lost as `then`
    says: "close" the connection dies mid-answer, "502" a gateway answers instead, "hang" nothing
    comes back until the client gives up).
    Wrong answers (HTTP 200, the request carried out): repeat_token (a searchOrders page whose
    `pagination.nextToken` is the token the request sent, or a fixed one on the first page: paging
    that never ends), null_list (`orders` is null), huge_answer (the answer padded to `size_mib` MiB,
    default 64, streamed without Content-Length), not_json (an HTML page).
    """

    KINDS = FAULT_KINDS
    TARGETS = FAULT_TARGETS
    DEFAULT_RETRY_AFTER = None

    target: str = "api"
    seconds: float | None = None
    then: str = "close"
    size_mib: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.then not in DROP_MODES:
            raise ValueError(f"then must be one of {DROP_MODES}")
        if self.seconds is None:
            self.seconds = {"slow": 1.0, "hang": 300.0}.get(self.kind, 300.0)

    def matches(self, target: str) -> bool:
        return self.target in ("any", target) or (self.target == "api" and target in RATE_LIMITS)


@dataclass
class Access:
    """Who an access token speaks for."""

    seller_id: str
    client_id: str
    expires_at: float


@dataclass
class _Cursor:
    seller_id: str
    signature: tuple
    field: str  # "created" or "updated"
    after: float
    before: float
    key: tuple | None
    issued: float


@dataclass
class _Document:
    document_id: str
    seller_id: str
    kind: str  # "feed" (uploaded by the client) or "report" (a processing report)
    content_type: str
    created: float
    data: bytes | None = None
    compression: str | None = None


@dataclass
class _Feed:
    feed_id: str
    seller_id: str
    feed_type: str
    marketplace_ids: list[str]
    created: float
    input_document: str
    options: dict | None = None
    status: str = "IN_QUEUE"
    polls: int = 0
    started: float | None = None
    ended: float | None = None
    result_document: str | None = None
    force_fatal: bool = False


@dataclass
class Counters:
    tokens_issued: int = 0
    orders_served: int = 0
    orders_added: int = 0
    shipment_confirmations: int = 0
    packages_created: int = 0
    package_edits: int = 0
    package_repeats: int = 0
    listings_patched: int = 0
    listings_patch_invalid: int = 0
    feeds_created: int = 0
    feeds_done: int = 0
    feeds_fatal: int = 0
    feed_messages_processed: int = 0
    documents_uploaded: int = 0
    throttled: int = 0
    static_answers: int = 0


def _rate_text(rate: float) -> str:
    return repr(float(round(rate, 6)))


def parse_instant(text: str, name: str) -> float:
    """An ISO 8601 date-time -> Unix seconds; naive ones are UTC. 400 InvalidInput otherwise."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise invalid(f"{name} must be an ISO 8601 date-time", f"{name}={text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class Query:
    """Query parameters as they arrived (decoded, in order), with SP-API's conventions: arrays
    travel comma-separated (or repeated), a scalar may appear once."""

    def __init__(self, items: list[tuple[str, str]] | dict | None = None):
        if isinstance(items, dict):
            items = [(k, v) for k, values in items.items() for v in (values if isinstance(values, list) else [values])]
        self.values: dict[str, list[str]] = {}
        for name, value in items or []:
            self.values.setdefault(name, []).append(value)

    def one(self, name: str) -> str | None:
        values = self.values.get(name)
        if not values:
            return None
        if len(values) > 1:
            raise invalid(f"{name} may be given only once")
        return values[0]

    def array(self, name: str, allowed: tuple[str, ...] | None = None) -> list[str] | None:
        values = self.values.get(name)
        if values is None:
            return None
        items = [item for value in values for item in value.split(",")]
        if any(not item for item in items):
            raise invalid(f"{name} holds an empty value")
        if allowed is not None:
            unknown = [item for item in items if item not in allowed]
            if unknown:
                raise invalid(f"{name} has unknown values: {', '.join(unknown)}",
                              f"allowed: {', '.join(allowed)}")
        return items


class AmazonState(FaultQueue):
    """One simulated selling partner (seller `seller_id`, selling in `marketplace_ids`) behind LWA.

    `size` seeded orders spread over the `history_days` before `epoch` (Unix seconds; default:
    when the state is made, minus ten minutes, so the whole history can be searched at once under
    the two-minute rule); `catalog_size` SKUs (default: size / 20, 100 to 5,000). `clients` maps LWA
    client ids to secrets; `token_ttl` is the lifetime of access tokens (seconds). Rate limits:
    `rate_limits` False turns them off, `rate_scale` multiplies every rate (not the bursts),
    `retry_after` True adds a Retry-After header to a throttled answer (Amazon sends none).
    Feeds: `feed_steps` (polls answered IN_QUEUE, then IN_PROGRESS, before a feed is done) or
    `feed_delay` (seconds a feed takes; IN_QUEUE the first half); `max_feed_messages` (the schema's
    25,000; None: no limit); `report_compression` None or "GZIP". `vectors`: a directory or file
    of `*.sandbox.json` static sandbox vectors for `/static-sandbox/...`.
    """

    fault_type = Fault

    def __init__(self, seed: int = 42, size: int = 1000, *, catalog_size: int | None = None,
                 epoch: float | None = None, history_days: float = 30.0, seller_id: str = DEFAULT_SELLER_ID,
                 marketplace_ids: tuple[str, ...] = MARKETPLACE_IDS, clients: dict[str, str] | None = None,
                 token_ttl: float = DEFAULT_TOKEN_TTL, rate_limits: bool = True, rate_scale: float = 1.0,
                 retry_after: bool = False, feed_steps: tuple[int, int] = (1, 1), feed_delay: float | None = None,
                 max_feed_messages: int | None = MAX_MESSAGES, report_compression: str | None = None,
                 document_url_ttl: float = DOCUMENT_URL_TTL, afn_share: float = 0.2, vectors=None):
        unknown = [m for m in marketplace_ids if m not in MARKETPLACE_IDS]
        if unknown:
            raise ValueError(f"unknown marketplaces {unknown}; the sandbox knows {MARKETPLACE_IDS}")
        if report_compression not in (None, "GZIP"):
            raise ValueError('report_compression must be None or "GZIP"')
        self.lock = threading.RLock()
        self.clock_offset = 0.0
        self.seller_id = seller_id
        self.marketplace_ids = tuple(marketplace_ids)
        self.clients = dict(clients or {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET})
        self.token_ttl = token_ttl
        self.rate_limits_enabled = rate_limits
        self.rate_scale = rate_scale
        self.retry_after = retry_after
        self.rate_overrides: dict[str, tuple[float, int]] = {}
        self.feed_steps = feed_steps
        self.feed_delay = feed_delay
        self.max_feed_messages = max_feed_messages
        self.report_compression = report_compression
        self.document_url_ttl = document_url_ttl
        self.history_days = history_days
        self.afn_share = afn_share
        self._requested_catalog_size = catalog_size
        self._epoch = epoch
        self._url_key = secrets.token_bytes(16)
        self.vectors: list[Vector] = []
        if vectors is not None:
            self.load_vectors(vectors)
        self.reset(seed, size)

    # ------------------------------------------------------------------ lifecycle
    def reset(self, seed: int | None = None, size: int | None = None) -> None:
        """Regenerate the seeded data and forget every token, change, feed, fault and counter
        (clients, settings and vectors stay)."""
        with self.lock:
            self.seed = self.seed if seed is None else seed
            self.size = self.size if size is None else size
            if self.size < 0:
                raise ValueError("size must not be negative")
            self.catalog_size = self._requested_catalog_size or min(5000, max(100, self.size // 20))
            epoch = self._epoch if self._epoch is not None else time.time() - 600
            self.epoch = int(epoch)
            self.catalogue = Catalogue(self.seed, self.catalog_size)
            self.book = OrderBook(self.seed, self.size, self.epoch, self.catalogue, self.history_days, self.afn_share,
                                  self.marketplace_ids)
            self._by_created = sorted(zip(self.book.created, range(self.size), strict=True))
            self._by_updated = sorted(zip(self.book.updated, range(self.size), strict=True))
            self._docs: dict[int, dict] = {}
            self._deleted: set[int] = set()  # orders gone from Amazon (test hook)
            self.listings = Listings(self.catalogue)
            self.rejected_skus: dict[str, str] = {}
            self._refresh: dict[str, tuple[str, str]] = {}
            self._access: dict[str, Access] = {}
            self._page_tokens: OrderedDict[str, _Cursor] = OrderedDict()
            self._buckets: dict[tuple, tuple[float, float]] = {}
            self.documents: dict[str, _Document] = {}
            self.feeds: dict[str, _Feed] = {}
            self._fatal_next = 0
            self._serial = 0
            self.faults: list[Fault] = []
            self.faults_fired: Counter = Counter()
            self.counters = Counters()
            self.requests: Counter = Counter()
            self.statuses: Counter = Counter()
            self.recent: deque = deque(maxlen=5000)
            self.confirmations: list[dict] = []
            self.issued_secrets: list[str] = list(self.clients.values())

    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance_clock(self, seconds: float) -> float:
        """Move the sandbox's clock forward (tokens age, buckets refill, windows move); returns now."""
        with self.lock:
            self.clock_offset += seconds
            return self.now()

    def _next(self) -> int:
        with self.lock:
            self._serial += 1
            return self._serial

    def _uuid(self, purpose: str) -> str:
        digest = hashlib.blake2b(f"{self.seed}:{purpose}:{self._next()}".encode(), digest_size=16).hexdigest()
        return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"

    # ------------------------------------------------------------------ LWA
    def authorize(self, seller_id: str | None = None, client_id: str | None = None) -> str:
        """The selling partner authorises the application: a new LWA refresh token."""
        with self.lock:
            client_id = client_id or next(iter(self.clients))
            if client_id not in self.clients:
                raise ValueError(f"unknown client {client_id!r}")
            token = "Atzr|IwEB" + base64.urlsafe_b64encode(secrets.token_bytes(48)).decode().rstrip("=")
            self._refresh[token] = (seller_id or self.seller_id, client_id)
            self.issued_secrets.append(token)
            return token

    def revoke(self, refresh_token: str) -> None:
        """The selling partner withdraws the authorisation: the refresh token stops working (access
        tokens already issued live on until they expire, as with LWA)."""
        with self.lock:
            self._refresh.pop(refresh_token, None)

    def token_request(self, form: dict[str, str]) -> tuple[int, dict]:
        """POST /auth/o2/token -> (status, body)."""
        grant = form.get("grant_type")
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        with self.lock:
            if not grant:
                return 400, _oauth_error("invalid_request", "The request is missing the parameter grant_type")
            if not client_id or self.clients.get(client_id) != client_secret:
                return 401, _oauth_error("invalid_client", "Client authentication failed")
            if grant != "refresh_token":
                return 400, _oauth_error("unsupported_grant_type",
                                         f"The sandbox grants refresh_token only, not {grant!r}")
            refresh = form.get("refresh_token")
            if not refresh:
                return 400, _oauth_error("invalid_request", "The request is missing the parameter refresh_token")
            owner = self._refresh.get(refresh)
            if owner is None or owner[1] != client_id:
                return 400, _oauth_error("invalid_grant", "The refresh token is invalid, revoked or was issued "
                                                          "to another client")
            token = "Atza|IwEB" + base64.urlsafe_b64encode(secrets.token_bytes(48)).decode().rstrip("=")
            self._access[token] = Access(owner[0], client_id, self.now() + self.token_ttl)
            self.issued_secrets.append(token)
            self.counters.tokens_issued += 1
            return 200, {"access_token": token, "refresh_token": refresh, "token_type": "bearer",
                         "expires_in": max(1, math.ceil(self.token_ttl))}

    def grant(self, seller_id: str | None = None, client_id: str | None = None) -> dict:
        """A refresh token and a fresh access token at once (tests): the token response plus
        nothing else."""
        client_id = client_id or next(iter(self.clients))
        refresh = self.authorize(seller_id, client_id)
        status, body = self.token_request({"grant_type": "refresh_token", "refresh_token": refresh,
                                           "client_id": client_id, "client_secret": self.clients[client_id]})
        if status != 200:
            raise RuntimeError(f"the token request for a fresh grant was refused: {body}")
        return body

    def expire_tokens(self) -> None:
        """Every access token issued so far expires now."""
        with self.lock:
            moment = self.now()
            for access in self._access.values():
                access.expires_at = min(access.expires_at, moment)

    def authenticate(self, token: str | None) -> Access:
        """The caller of an SP-API request carrying `x-amz-access-token: token`, or 403."""
        if not token:
            raise _unauthorized("Access token is missing in the request header.")
        with self.lock:
            access = self._access.get(token)
            if access is None:
                raise _unauthorized("The access token you provided is revoked, malformed or invalid.")
            if access.expires_at <= self.now():
                raise _unauthorized("The access token you provided has expired.")
            return access

    # ------------------------------------------------------------------ rate limits
    def rate_limit(self, operation: str) -> tuple[float, int]:
        """(requests per second, burst) of `operation` as the sandbox applies it now."""
        rate, burst = self.rate_overrides.get(operation, RATE_LIMITS[operation])
        return rate * self.rate_scale, burst

    def rate_header(self, operation: str) -> str:
        return _rate_text(self.rate_limit(operation)[0])

    def set_rate_limit(self, operation: str, rate: float, burst: int) -> None:
        with self.lock:
            if operation not in RATE_LIMITS:
                raise ValueError(f"unknown operation {operation!r}")
            self.rate_overrides[operation] = (float(rate), int(burst))
            self._buckets = {k: v for k, v in self._buckets.items() if k[2] != operation}

    def refill_buckets(self) -> None:
        """Every bucket full again."""
        with self.lock:
            self._buckets.clear()

    def take_rate(self, access: Access, operation: str) -> None:
        """Spend a token of the caller's bucket for `operation`, or 429 QuotaExceeded."""
        if not self.rate_limits_enabled:
            return
        rate, burst = self.rate_limit(operation)
        key = (access.seller_id, access.client_id, operation)
        with self.lock:
            moment = self.now()
            tokens, stamp = self._buckets.get(key, (float(burst), moment))
            tokens = min(float(burst), tokens + max(0.0, moment - stamp) * rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, moment)
                self.counters.throttled += 1
                headers = None
                if self.retry_after:
                    headers = {"Retry-After": str(max(1, math.ceil((1.0 - tokens) / rate)))}
                raise ApiError(429, "QuotaExceeded", "You exceeded your quota for the requested resource.", "",
                               headers)
            self._buckets[key] = (tokens - 1.0, moment)

    # ------------------------------------------------------------------ orders: reading
    @property
    def order_count(self) -> int:
        return len(self.book.created)

    def _index(self, order_id: str) -> int:
        if not isinstance(order_id, str) or not _ORDER_ID.match(order_id):
            raise invalid("orderId must be an Amazon order id (3-7-7 digits)", f"orderId={order_id!r}")
        index = self.book.index_of(order_id, self.order_count)
        if index is None or index in self._deleted:
            raise ApiError(404, "NotFound", f"No order has the id {order_id}")
        return index

    def _doc(self, index: int) -> dict:
        doc = self._docs.get(index)
        return doc if doc is not None else self.book.document(index)

    def _view(self, index: int, included: frozenset) -> dict:
        """Order `index` with the `included` datasets, never shared with the state."""
        doc = self._docs.get(index)
        if doc is None:
            return self.book.document(index, included)
        return orjson.loads(orjson.dumps(self._project(doc, included)))

    def _materialise(self, index: int) -> dict:
        doc = self._docs.get(index)
        if doc is None:
            doc = self._docs[index] = self.book.document(index)
        return doc

    @staticmethod
    def _project(doc: dict, included: frozenset) -> dict:
        out = {k: v for k, v in doc.items() if k not in _ORDER_DATASETS or _ORDER_DATASETS[k] in included}
        out["orderItems"] = [{k: v for k, v in item.items() if k not in _ITEM_DATASETS or _ITEM_DATASETS[k] in included}
                             for item in doc["orderItems"]]
        return out

    def order(self, order_id: str, included=INCLUDED_DATA) -> dict:
        """Order `order_id` as getOrder shows it with `included` datasets (a copy)."""
        with self.lock:
            return self._view(self._index(order_id), frozenset(included))

    def order_ids(self) -> list[str]:
        """Every order id, oldest first."""
        with self.lock:
            return [self.book.order_id(i) for _, i in self._by_created]

    def packages(self, order_id: str) -> list[dict]:
        """The packages of an order (seeded and confirmed), as PACKAGES shows them."""
        with self.lock:
            return orjson.loads(orjson.dumps(self._doc(self._index(order_id)).get("packages", [])))

    def get_order(self, access: Access, order_id: str, query: Query) -> dict:
        included = frozenset(query.array("includedData", INCLUDED_DATA) or ())
        with self.lock:
            index = self._index(order_id)
            self.counters.orders_served += 1
            return {"order": self._view(index, included)}

    def _criteria(self, query: Query, moment: float) -> tuple[str, float, float, bool, tuple, tuple]:
        created_after, created_before = query.one("createdAfter"), query.one("createdBefore")
        updated_after, updated_before = query.one("lastUpdatedAfter"), query.one("lastUpdatedBefore")
        if (created_after is None) == (updated_after is None):
            raise invalid("Exactly one of createdAfter and lastUpdatedAfter is required")
        if created_after is not None and (updated_after is not None or updated_before is not None):
            raise invalid("lastUpdatedAfter and lastUpdatedBefore cannot be combined with createdAfter")
        if updated_after is not None and created_before is not None:
            raise invalid("createdBefore cannot be combined with lastUpdatedAfter")
        if created_after is not None:
            field_name, after_name, before_name = "created", "createdAfter", "createdBefore"
            after_text, before_text = created_after, created_before
        else:
            field_name, after_name, before_name = "updated", "lastUpdatedAfter", "lastUpdatedBefore"
            after_text, before_text = updated_after, updated_before
        after = parse_instant(after_text, after_name)
        latest = moment - WINDOW_MARGIN
        if before_text is not None:
            before = parse_instant(before_text, before_name)
            if before < after:
                raise invalid(f"{before_name} must be equal to or after {after_name}")
            if before > latest:
                raise invalid(f"{before_name} must be at least two minutes before the time of the request",
                              f"{before_name}={before_text}")
        else:
            before = latest
            if after > latest:
                raise invalid(f"{after_name} must be at least two minutes before the time of the request",
                              f"{after_name}={after_text}")
        statuses = query.array("fulfillmentStatuses", FULFILLMENT_STATUSES)
        fulfilled_by = query.array("fulfilledBy", FULFILLED_BY)
        markets = query.array("marketplaceIds")
        if markets is not None:
            if len(markets) > MAX_MARKETPLACES:
                raise invalid(f"marketplaceIds takes at most {MAX_MARKETPLACES} values")
            unknown = [m for m in markets if m not in self.marketplace_ids]
            if unknown:
                raise invalid(f"The selling partner does not sell in {', '.join(unknown)}", "marketplaceIds")
        filters = (tuple(sorted(set(statuses))) if statuses else None,
                   tuple(sorted(set(fulfilled_by))) if fulfilled_by else None,
                   tuple(sorted(set(markets))) if markets else None)
        signature = (field_name, after, before if before_text is not None else None, filters)
        return field_name, after, before, before_text is not None, signature, filters

    def search_orders(self, access: Access, query: Query) -> dict:
        """searchOrders: one page of orders (see the README for the rules it enforces)."""
        moment = self.now()
        field_name, after, before, _, signature, (statuses, fulfilled_by, markets) = self._criteria(query, moment)
        size_text = query.one("maxResultsPerPage")
        try:
            size = MAX_PAGE_SIZE if size_text is None else int(size_text)
        except ValueError:
            raise invalid("maxResultsPerPage must be a whole number from 1 to 100") from None
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise invalid("maxResultsPerPage must be a whole number from 1 to 100")
        included = frozenset(query.array("includedData", INCLUDED_DATA) or ())
        token = query.one("paginationToken")
        with self.lock:
            key = None
            if token is not None:
                cursor = self._page_tokens.get(token)
                if cursor is None or cursor.seller_id != access.seller_id:
                    raise invalid("The paginationToken is not one this API issued", "paginationToken")
                if moment - cursor.issued > PAGE_TOKEN_TTL:
                    raise invalid("The paginationToken has expired", "paginationToken")
                if cursor.signature != signature:
                    raise invalid("Every parameter but maxResultsPerPage and includedData must keep the values of "
                                  "the request that issued the paginationToken", "paginationToken")
                before, key = cursor.before, cursor.key
            index = self._by_updated if field_name == "updated" else self._by_created
            position = bisect_right(index, key) if key is not None else bisect_left(index, (after, -1))
            status_codes = {FULFILLMENT_STATUSES.index(s) for s in statuses} if statuses else None
            afn_values = {FULFILLED_BY.index(f) for f in fulfilled_by} if fulfilled_by else None
            market_codes = {MARKETPLACE_IDS.index(m) for m in markets} if markets else \
                {MARKETPLACE_IDS.index(m) for m in self.marketplace_ids}
            book_status, book_afn, book_market = self.book.status, self.book.afn, self.book.market
            chosen: list[tuple] = []
            more = False
            end = len(index)
            while position < end:
                entry = index[position]
                position += 1
                if entry[0] > before:
                    break
                i = entry[1]
                if (status_codes is not None and book_status[i] not in status_codes) \
                        or (afn_values is not None and book_afn[i] not in afn_values) \
                        or book_market[i] not in market_codes:
                    continue
                if len(chosen) == size:
                    more = True
                    break
                chosen.append(entry)
            orders = [self._view(i, included) for _, i in chosen]
            self.counters.orders_served += len(orders)
            body: dict[str, Any] = {"orders": orders}
            if more:
                body["pagination"] = {"nextToken": self._page_token(
                    _Cursor(access.seller_id, signature, field_name, after, before, chosen[-1], moment))}
            body["lastUpdatedBefore" if field_name == "updated" else "createdBefore"] = iso(before)
            return body

    def _page_token(self, cursor: _Cursor) -> str:
        """A fresh opaque token: standard base64 (with + and / and = padding), a colon and a
        percent sign, so a client that does not encode it exactly once in the query breaks it."""
        serial = self._next()
        digest = hashlib.blake2b(f"{self.seed}:{serial}:{cursor.key}".encode(), digest_size=16,
                                 key=self._url_key).digest()
        head = base64.b64encode(b"\xfb\xff\xbf" + digest).decode()  # "+/+/" ... "=="
        tail = base64.b64encode(serial.to_bytes(4, "big") + digest[:2]).decode()
        token = f"{head}:{tail}%{digest[2]:02X}"
        self._page_tokens[token] = cursor
        while len(self._page_tokens) > _PAGE_TOKENS_KEPT:
            self._page_tokens.popitem(last=False)
        return token

    # ------------------------------------------------------------------ orders: changing
    def _touch(self, index: int, doc: dict) -> None:
        old = self.book.updated[index]
        stamp = int(self.now())
        position = bisect_left(self._by_updated, (old, index))
        if position < len(self._by_updated) and self._by_updated[position] == (old, index):
            del self._by_updated[position]
        self.book.updated[index] = stamp
        insort(self._by_updated, (stamp, index))
        doc["lastUpdatedTime"] = iso(stamp)

    def _set_status(self, index: int, doc: dict, status: int) -> None:
        self.book.status[index] = status
        doc["fulfillment"]["fulfillmentStatus"] = FULFILLMENT_STATUSES[status]

    def add_order(self, items: list | None = None, *, marketplace_id: str | None = None,
                  fulfilled_by: str = "MERCHANT", status: str = "UNSHIPPED", created_at: float | None = None) -> dict:
        """A buyer places a new order now (test hook). `items`: [(sku, quantity)] or
        [{"sku", "quantity"}] (default: seeded ones); `created_at` (Unix seconds) places it earlier,
        last updated now all the same. Returns the order with every dataset."""
        with self.lock:
            marketplace_id = marketplace_id or self.marketplace_ids[0]
            if marketplace_id not in self.marketplace_ids:
                raise ValueError(f"the selling partner does not sell in {marketplace_id}")
            if status not in FULFILLMENT_STATUSES or fulfilled_by not in FULFILLED_BY:
                raise ValueError("unknown status or fulfilled_by")
            market = MARKETPLACE_IDS.index(marketplace_id)
            index = self.order_count
            stamp = int(self.now())
            created = stamp if created_at is None else min(int(created_at), stamp)
            self.book.created.append(created)
            self.book.updated.append(stamp)
            self.book.market.append(market)
            self.book.afn.append(FULFILLED_BY.index(fulfilled_by))
            self.book.status.append(FULFILLMENT_STATUSES.index(status))
            doc = self.book.document(index)
            if items:
                self._replace_items(index, doc, items)
            self._docs[index] = doc
            insort(self._by_created, (created, index))
            insort(self._by_updated, (stamp, index))
            self.counters.orders_added += 1
            return orjson.loads(orjson.dumps(doc))

    def remove_order(self, order_id: str) -> None:
        """The order is gone from Amazon (test hook: one the seller never had): searchOrders no longer
        lists it and getOrder answers 404."""
        with self.lock:
            index = self._index(order_id)
            self._by_created.remove((self.book.created[index], index))
            self._by_updated.remove((self.book.updated[index], index))
            self._deleted.add(index)

    def _replace_items(self, index: int, doc: dict, items: list) -> None:
        currency = doc["proceeds"]["grandTotal"]["currencyCode"]
        lines, total = [], 0
        for position, entry in enumerate(items, start=1):
            sku, quantity = (entry["sku"], entry.get("quantity", 1)) if isinstance(entry, dict) else entry
            catalogue_index = self.catalogue.index_of(sku)
            product = self.catalogue.product(catalogue_index) if catalogue_index is not None else \
                {"asin": "B0SANDBOX0", "itemName": sku, "price": 1000}
            line = product["price"] * quantity
            total += line
            lines.append({
                "orderItemId": self.book.item_id(index, position), "quantityOrdered": quantity, "programs": [],
                "product": {"asin": product["asin"], "title": product["itemName"], "sellerSku": sku,
                            "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
                            "price": {"unitPrice": money(product["price"], currency)}},
                "proceeds": {"proceedsTotal": money(line, currency),
                             "breakdowns": [{"type": "ITEM", "subtotal": money(line, currency)}]},
                "fulfillment": {"quantityFulfilled": 0, "quantityUnfulfilled": quantity},
            })
        doc["orderItems"] = lines
        doc.pop("packages", None)
        doc["proceeds"] = {"grandTotal": money(total, currency),
                           "breakdowns": [{"type": "ITEM", "subtotal": money(total, currency)}]}

    def set_order_status(self, order_id: str, status: str) -> dict:
        """The order's fulfilment status changes on Amazon's side (test hook); lastUpdatedTime is now."""
        if status not in FULFILLMENT_STATUSES:
            raise ValueError(f"status must be one of {FULFILLMENT_STATUSES}")
        with self.lock:
            index = self._index(order_id)
            doc = self._materialise(index)
            self._set_status(index, doc, FULFILLMENT_STATUSES.index(status))
            self._touch(index, doc)
            return orjson.loads(orjson.dumps(doc))

    def cancel_order(self, order_id: str, reason: str = "Buyer cancelled", by: str = "BUYER") -> dict:
        """The order is cancelled (test hook): CANCELLED, every item with its cancellation."""
        with self.lock:
            index = self._index(order_id)
            doc = self._materialise(index)
            for item in doc["orderItems"]:
                item["cancellation"] = {"cancellationRequest": {"requester": "BUYER", "cancelReason": reason},
                                        "cancellationExecution": {"cancelledBy": by, "cancelReason": reason}}
            self._set_status(index, doc, CANCELLED)
            self._touch(index, doc)
            return orjson.loads(orjson.dumps(doc))

    def touch_order(self, order_id: str) -> dict:
        """Something about the order changes (test hook): only lastUpdatedTime moves to now."""
        with self.lock:
            index = self._index(order_id)
            doc = self._materialise(index)
            self._touch(index, doc)
            return orjson.loads(orjson.dumps(doc))

    def ship_order(self, order_id: str, carrier: str = "DHL", tracking_number: str | None = None) -> dict:
        """The seller ships everything still open outside the API (e.g. in Seller Central): a package
        under the next free packageReferenceId. Returns the order."""
        with self.lock:
            index = self._index(order_id)
            doc = self._materialise(index)
            shipped = self._shipped(doc)
            items = [{"orderItemId": item["orderItemId"],
                      "quantity": item["quantityOrdered"] - shipped[item["orderItemId"]]}
                     for item in doc["orderItems"] if item["quantityOrdered"] > shipped[item["orderItemId"]]]
            references = [int(p["packageReferenceId"]) for p in doc.get("packages", [])
                          if p["packageReferenceId"].isdigit()]
            self._confirm(index, doc, doc["salesChannel"]["marketplaceId"], {
                "packageReferenceId": str(max(references, default=0) + 1), "carrierCode": carrier,
                "trackingNumber": tracking_number or f"SBX{self._next():011d}",
                "shipDate": iso(self.now()), "orderItems": items})
            return orjson.loads(orjson.dumps(doc))

    # ------------------------------------------------------------------ confirmShipment
    @staticmethod
    def _shipped(doc: dict, skip_reference: str | None = None) -> Counter:
        shipped: Counter = Counter()
        for package in doc.get("packages", []):
            if package["packageReferenceId"] == skip_reference:
                continue
            for entry in package.get("packageItems", []):
                shipped[entry["orderItemId"]] += entry["quantity"]
        return shipped

    def confirm_shipment(self, access: Access, order_id: str, body: Any) -> None:
        """confirmShipment: add the package, or edit it when its packageReferenceId is known."""
        if not isinstance(body, dict):
            raise invalid("The request body must be a JSON object")
        marketplace_id = body.get("marketplaceId")
        detail = body.get("packageDetail")
        if not isinstance(marketplace_id, str) or not marketplace_id:
            raise invalid("marketplaceId is required")
        if not isinstance(detail, dict):
            raise invalid("packageDetail is required")
        if "codCollectionMethod" in body and body["codCollectionMethod"] != "DirectPayment":
            raise invalid("codCollectionMethod must be DirectPayment")
        with self.lock:
            index = self._index(order_id)
            doc = self._materialise(index)
            self._confirm(index, doc, marketplace_id, detail)

    @staticmethod
    def _checked_package_detail(detail: dict) -> tuple[str, float, list]:
        """The package reference, the ship date (Unix seconds) and the order items of a shipment
        confirmation's `packageDetail`, its fields checked first (400 InvalidInput otherwise)."""
        reference = detail.get("packageReferenceId")
        if not isinstance(reference, str) or not _PACKAGE_REFERENCE.match(reference) or int(reference) < 1:
            raise invalid("packageReferenceId must be a positive number (sent as a string)",
                          f"packageReferenceId={reference!r}")
        for name in ("carrierCode", "trackingNumber", "shipDate"):
            if not isinstance(detail.get(name), str) or not detail[name].strip():
                raise invalid(f"packageDetail.{name} is required")
        if detail["carrierCode"] == "Other" and not (isinstance(detail.get("carrierName"), str)
                                                     and detail["carrierName"].strip()):
            raise invalid("packageDetail.carrierName is required when carrierCode is Other")
        ship_date = parse_instant(detail["shipDate"], "packageDetail.shipDate")
        if "T" not in detail["shipDate"]:
            raise invalid("packageDetail.shipDate must be an ISO 8601 date-time", detail["shipDate"])
        lines = detail.get("orderItems")
        if not isinstance(lines, list) or not lines:
            raise invalid("packageDetail.orderItems must list at least one order item")
        return reference, ship_date, lines

    def _confirm(self, index: int, doc: dict, marketplace_id: str, detail: dict) -> None:
        reference, ship_date, lines = self._checked_package_detail(detail)
        if marketplace_id != doc["salesChannel"]["marketplaceId"]:
            raise invalid(f"The order was placed in {doc['salesChannel']['marketplaceId']}, not {marketplace_id}",
                          "marketplaceId")
        if self.book.afn[index]:
            raise invalid("The order is fulfilled by Amazon; only the seller's own orders take shipment confirmations")
        status = self.book.status[index]
        if status == CANCELLED:
            raise invalid("The order is cancelled")
        if status in (PENDING, PENDING_AVAILABILITY):
            raise invalid("The order is pending (payment not yet authorised) and cannot be shipped yet")
        items = {item["orderItemId"]: item for item in doc["orderItems"]}
        wanted: dict[str, int] = {}
        for line in lines:
            if not isinstance(line, dict) or not isinstance(line.get("orderItemId"), str) \
                    or type(line.get("quantity")) is not int or line["quantity"] < 1:
                raise invalid("each orderItems entry needs an orderItemId and a quantity of at least 1")
            if line["orderItemId"] not in items:
                raise invalid(f"The order has no item {line['orderItemId']}", "orderItemId")
            if line["orderItemId"] in wanted:
                raise invalid(f"Order item {line['orderItemId']} is listed twice", "orderItemId")
            wanted[line["orderItemId"]] = line["quantity"]
        shipped = self._shipped(doc, skip_reference=reference)
        for item_id, quantity in wanted.items():
            if shipped[item_id] + quantity > items[item_id]["quantityOrdered"]:
                raise invalid(f"Order item {item_id}: {quantity} more would ship more than the "
                              f"{items[item_id]['quantityOrdered']} ordered", "quantity")
        packages = doc.setdefault("packages", [])
        existing = next((p for p in packages if p["packageReferenceId"] == reference), None)
        carrier = detail.get("carrierName") if detail["carrierCode"] == "Other" else detail["carrierCode"]
        package = {
            "packageReferenceId": reference,
            "createdTime": existing["createdTime"] if existing else iso(self.now()),
            "packageStatus": {"status": "SHIPPED", "detailedStatus": "PENDING_PICK_UP"},
            "carrier": carrier,
            "shipTime": iso(ship_date),
            "shippingService": detail.get("shippingMethod") or carrier,
            "trackingNumber": detail["trackingNumber"],
            "shipFromAddress": dict(SHIP_FROM),
            "packageItems": [{"orderItemId": item_id, "quantity": quantity} for item_id, quantity in wanted.items()],
        }
        for line in lines:
            if isinstance(line.get("transparencyCodes"), list):
                for entry in package["packageItems"]:
                    if entry["orderItemId"] == line["orderItemId"]:
                        entry["transparencyCodes"] = list(line["transparencyCodes"])
        self.counters.shipment_confirmations += 1
        self.confirmations.append({"orderId": doc["orderId"], "packageReferenceId": reference,
                                   "trackingNumber": detail["trackingNumber"], "at": self.now()})
        if existing is not None:
            if {k: v for k, v in existing.items() if k != "createdTime"} == \
                    {k: v for k, v in package.items() if k != "createdTime"}:
                self.counters.package_repeats += 1
                return
            packages[packages.index(existing)] = package
            self.counters.package_edits += 1
        else:
            packages.append(package)
            self.counters.packages_created += 1
        shipped = self._shipped(doc)
        for item in doc["orderItems"]:
            done = min(shipped[item["orderItemId"]], item["quantityOrdered"])
            item["fulfillment"] = {**item.get("fulfillment", {}), "quantityFulfilled": done,
                                   "quantityUnfulfilled": item["quantityOrdered"] - done}
        complete = all(item["fulfillment"]["quantityUnfulfilled"] == 0 for item in doc["orderItems"])
        partial = any(item["fulfillment"]["quantityFulfilled"] for item in doc["orderItems"])
        self._set_status(index, doc, SHIPPED if complete else PARTIALLY_SHIPPED if partial else UNSHIPPED)
        self._touch(index, doc)

    # ------------------------------------------------------------------ listings
    def _listing_marketplaces(self, query: Query) -> list[str]:
        markets = query.array("marketplaceIds")
        if not markets:
            raise invalid("marketplaceIds is required", "marketplaceIds", code="BAD_REQUEST")
        unknown = [m for m in markets if m not in self.marketplace_ids]
        if unknown:
            raise invalid(f"The selling partner does not sell in {', '.join(unknown)}", "marketplaceIds",
                          code="BAD_REQUEST")
        return markets

    def _check_seller(self, access: Access, seller_id: str) -> None:
        if seller_id != access.seller_id:
            raise _unauthorized(f"The access token does not speak for selling partner {seller_id}.")

    def item_view(self, sku: str, included, marketplace_ids=None) -> dict | None:
        """Listing `sku` as getListingsItem shows it with `included` data sets, or None."""
        with self.lock:
            view = self.listings.view(sku)
        if view is None:
            return None
        markets = list(marketplace_ids or self.marketplace_ids)
        created = iso(view["createdAt"]) if view.get("createdAt") else \
            iso(self.epoch - (view.get("createdDays") or 0) * 86400)
        updated = iso(view["touched"]) if view.get("touched") else created
        attributes = view["attributes"]
        availability = attributes.get(FULFILLMENT) or []
        quantity = next((e.get("quantity") for e in availability
                         if e.get("fulfillment_channel_code") == DEFAULT_CHANNEL), None)
        item: dict[str, Any] = {"sku": sku}
        languages = {m[0]: m[4] for m in MARKETPLACES}
        if "summaries" in included:
            summaries = []
            for market in markets:
                summary = {"marketplaceId": market}
                if view.get("asin"):
                    summary["asin"] = view["asin"]
                summary.update({"productType": view["productType"], "conditionType": "new_new",
                                "status": ["BUYABLE", "DISCOVERABLE"] if quantity else ["DISCOVERABLE"],
                                "itemName": view["itemName"], "createdDate": created, "lastUpdatedDate": updated})
                summaries.append(summary)
            item["summaries"] = summaries
        if "attributes" in included:
            shown = {"item_name": [{"value": view["itemName"], "language_tag": languages[m], "marketplace_id": m}
                                   for m in markets],
                     "condition_type": [{"value": "new_new", "marketplace_id": m} for m in markets]}
            shown.update(attributes)
            item["attributes"] = shown
        if "issues" in included:
            item["issues"] = []
        if "offers" in included and view.get("price") is not None:
            item["offers"] = [{"marketplaceId": m, "offerType": "B2C", "price": money(view["price"]),
                               "audience": {"value": "ALL", "displayName": "Sell on Amazon"}} for m in markets]
        elif "offers" in included:
            item["offers"] = []
        if "fulfillmentAvailability" in included:
            item["fulfillmentAvailability"] = [
                {"fulfillmentChannelCode": e["fulfillment_channel_code"],
                 **({"quantity": e["quantity"]} if e.get("quantity") is not None else {})}
                for e in availability if isinstance(e, dict) and "fulfillment_channel_code" in e]
        if "procurement" in included:
            item["procurement"] = []
        if "relationships" in included:
            item["relationships"] = [{"marketplaceId": m, "relationships": []} for m in markets]
        if "productTypes" in included:
            item["productTypes"] = [{"marketplaceId": m, "productType": view["productType"]} for m in markets]
        return item

    def get_listings_item(self, access: Access, seller_id: str, sku: str, query: Query) -> dict:
        self._check_seller(access, seller_id)
        markets = self._listing_marketplaces(query)
        try:
            included = query.array("includedData", LISTING_DATA) or ["summaries"]
        except ApiError as error:
            raise invalid(error.message, error.details, code="BAD_REQUEST") from None
        item = self.item_view(sku, included, markets)
        if item is None:
            raise ApiError(404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace {markets[0]}")
        return item

    def patch_listings_item(self, access: Access, seller_id: str, sku: str, query: Query, body: Any) -> dict:
        self._check_seller(access, seller_id)
        markets = self._listing_marketplaces(query)
        try:
            included = query.array("includedData", ("identifiers", "issues")) or ["issues"]
        except ApiError as error:
            raise invalid(error.message, error.details, code="BAD_REQUEST") from None
        mode = query.one("mode")
        if mode is not None and mode != "VALIDATION_PREVIEW":
            raise invalid("mode must be VALIDATION_PREVIEW", code="BAD_REQUEST")
        if not isinstance(body, dict) or not isinstance(body.get("productType"), str) or not body["productType"]:
            raise invalid("The body needs a productType and patches", code="BAD_REQUEST")
        patches = body.get("patches")
        if not isinstance(patches, list) or not patches or any(
                not isinstance(p, dict) or p.get("op") not in ("add", "replace", "merge", "delete")
                or not isinstance(p.get("path"), str) for p in patches):
            raise invalid("patches must hold at least one {op, path, value} operation (op: add, replace, merge, "
                          "delete)", code="BAD_REQUEST")
        with self.lock:
            problems = self.listings.patch_problems(sku, patches)
            if sku in self.rejected_skus:
                problems = [("SANDBOX_REJECTED", self.rejected_skus[sku], None, "INVALID_ATTRIBUTE"), *problems]
            if problems:
                status = "INVALID"
                self.counters.listings_patch_invalid += 1
            elif mode == "VALIDATION_PREVIEW":
                status = "VALID"
            else:
                status = "ACCEPTED"
                self.listings.apply_patches(sku, patches, int(self.now()))
                self.counters.listings_patched += 1
            answer: dict[str, Any] = {"sku": sku, "status": status, "submissionId": self._uuid("submission")}
            if "issues" in included:
                answer["issues"] = [
                    {"code": code, "message": message, "severity": "ERROR", "categories": [category],
                     **({"attributeNames": [attribute]} if attribute else {})}
                    for code, message, attribute, category in problems]
            if "identifiers" in included:
                view = self.listings.view(sku)
                answer["identifiers"] = [{"marketplaceId": m, "asin": view["asin"]} for m in markets] \
                    if view is not None and view.get("asin") else []
            return answer

    def listing_quantity(self, sku: str) -> int | None:
        """The DEFAULT channel quantity of a listing (None: no listing or no quantity)."""
        with self.lock:
            return self.listings.quantity(sku)

    def listing_price(self, sku: str):
        """Our price of a listing as last set by `purchasable_offer` (Decimal, currency), else None."""
        with self.lock:
            view = self.listings.view(sku)
            return offer_price(view["attributes"].get(OFFER)) if view and OFFER in view["attributes"] else None

    def set_listing_quantity(self, sku: str, quantity: int | None) -> None:
        """The quantity changes on Amazon's side (test hook: drift)."""
        with self.lock:
            if not self.listings.exists(sku):
                raise KeyError(f"no listing has the SKU {sku!r}")
            self.listings.set_quantity(sku, quantity, int(self.now()))

    def reject_skus(self, skus, message: str = "The sandbox was told to refuse this SKU") -> None:
        """Patches and feed messages for these SKUs come back INVALID with an issue (test hook)."""
        with self.lock:
            if isinstance(skus, dict):
                self.rejected_skus.update(skus)
            else:
                self.rejected_skus.update(dict.fromkeys(skus, message))

    def clear_rejections(self) -> None:
        with self.lock:
            self.rejected_skus.clear()

    # ------------------------------------------------------------------ feeds: documents
    def _signature(self, method: str, document_id: str, stamp: str, extra: str) -> str:
        return hashlib.blake2b(f"{method}|{document_id}|{stamp}|{extra}".encode(), digest_size=32,
                               key=self._url_key).hexdigest()

    def _presigned(self, base_url: str, method: str, document_id: str, extra: str = "") -> str:
        stamp = datetime.fromtimestamp(self.now(), UTC).strftime("%Y%m%dT%H%M%SZ")
        query = (f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=SBXACCESSKEY%2F{stamp[:8]}%2Feu-west-1%2Fs3"
                 f"%2Faws4_request&X-Amz-Date={stamp}&X-Amz-Expires={int(self.document_url_ttl)}"
                 f"&X-Amz-SignedHeaders={'content-type%3Bhost' if method == 'PUT' else 'host'}")
        if extra:
            query += f"&response-content-encoding={extra}"
        query += f"&X-Amz-Signature={self._signature(method, document_id, stamp, extra)}"
        return f"{base_url.rstrip('/')}/s3/documents/{document_id}?{query}"

    def _check_url(self, method: str, document_id: str, params: dict[str, str]) -> _Document:
        stamp, signature = params.get("X-Amz-Date", ""), params.get("X-Amz-Signature", "")
        extra = params.get("response-content-encoding", "")
        if not secrets.compare_digest(signature, self._signature(method, document_id, stamp, extra)):
            raise StorageError(403, "SignatureDoesNotMatch",
                               "The request signature we calculated does not match the signature you provided.")
        try:
            signed = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
        except ValueError:
            raise StorageError(403, "AccessDenied", "X-Amz-Date is not a valid date") from None
        if self.now() > signed + float(params.get("X-Amz-Expires", self.document_url_ttl)):
            raise StorageError(403, "AccessDenied", "Request has expired")
        document = self.documents.get(document_id)
        if document is None:
            raise StorageError(404, "NoSuchKey", "The specified key does not exist.")
        return document

    def create_feed_document(self, access: Access, body: Any, base_url: str) -> dict:
        if not isinstance(body, dict) or not isinstance(body.get("contentType"), str) or not body["contentType"]:
            raise invalid("contentType is required", "contentType")
        with self.lock:
            document_id = f"amzn1.tortuga.4.eu.{self._uuid('document')}.T{self._next():012d}"
            self.documents[document_id] = _Document(document_id, access.seller_id, "feed", body["contentType"],
                                                    self.now())
            return {"feedDocumentId": document_id, "url": self._presigned(base_url, "PUT", document_id)}

    def upload_document(self, document_id: str, params: dict[str, str], content_type: str | None, data: bytes) -> None:
        """PUT to a presigned upload URL (S3's rules: the signature, the expiry, the Content-Type)."""
        with self.lock:
            document = self._check_url("PUT", document_id, params)
            if document.kind != "feed":
                raise StorageError(403, "AccessDenied", "Access Denied")
            if (content_type or "").strip() != document.content_type.strip():
                raise StorageError(403, "SignatureDoesNotMatch",
                                   f"The Content-Type {content_type!r} is not the one the URL was signed for "
                                   f"({document.content_type!r}).")
            document.data = bytes(data)
            self.counters.documents_uploaded += 1

    def download_document(self, document_id: str, params: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        """GET of a presigned download URL: (content, headers)."""
        with self.lock:
            document = self._check_url("GET", document_id, params)
            if document.data is None:
                raise StorageError(404, "NoSuchKey", "The specified key does not exist.")
            headers = {"Content-Type": document.content_type}
            if params.get("response-content-encoding"):
                headers["Content-Encoding"] = params["response-content-encoding"]
            return document.data, headers

    def get_feed_document(self, access: Access, document_id: str, query: Query, base_url: str) -> dict:
        flag = query.one("enableContentEncodingUrlHeader")
        if flag not in (None, "true", "false"):
            raise invalid("enableContentEncodingUrlHeader must be true or false")
        with self.lock:
            document = self.documents.get(document_id)
            if document is None or document.seller_id != access.seller_id:
                raise ApiError(404, "NotFound", f"No feed document has the id {document_id}")
            extra = "gzip" if flag == "true" and document.compression == "GZIP" else ""
            answer = {"feedDocumentId": document_id, "url": self._presigned(base_url, "GET", document_id, extra)}
            if document.compression:
                answer["compressionAlgorithm"] = document.compression
            return answer

    def document_content(self, document_id: str) -> bytes | None:
        """A document's content as stored (decompressed), for tests."""
        with self.lock:
            document = self.documents[document_id]
            if document.data is None or document.compression != "GZIP":
                return document.data
            return gzip.decompress(document.data)

    # ------------------------------------------------------------------ feeds: feeds
    def create_feed(self, access: Access, body: Any) -> dict:
        if not isinstance(body, dict):
            raise invalid("The request body must be a JSON object")
        feed_type, markets, document_id = body.get("feedType"), body.get("marketplaceIds"), \
            body.get("inputFeedDocumentId")
        if not isinstance(feed_type, str) or not feed_type:
            raise invalid("feedType is required", "feedType")
        if not isinstance(markets, list) or not 1 <= len(markets) <= 25 or not all(isinstance(m, str) for m in markets):
            raise invalid("marketplaceIds must list 1 to 25 marketplace ids", "marketplaceIds")
        unknown = [m for m in markets if m not in self.marketplace_ids]
        if unknown:
            raise invalid(f"The selling partner does not sell in {', '.join(unknown)}", "marketplaceIds")
        if not isinstance(document_id, str) or not document_id:
            raise invalid("inputFeedDocumentId is required", "inputFeedDocumentId")
        options = body.get("feedOptions")
        if options is not None and (not isinstance(options, dict)
                                    or not all(isinstance(v, str) for v in options.values())):
            raise invalid("feedOptions must map names to strings", "feedOptions")
        if feed_type != FEED_TYPE:
            raise invalid(f"The sandbox processes {FEED_TYPE} feeds only, not {feed_type}", "feedType")
        with self.lock:
            document = self.documents.get(document_id)
            if document is None or document.seller_id != access.seller_id or document.kind != "feed":
                raise invalid(f"No feed document has the id {document_id}", "inputFeedDocumentId")
            feed_id = str(50_001_000_000 + self._next())
            feed = _Feed(feed_id, access.seller_id, feed_type, list(markets), self.now(), document_id, options)
            if self._fatal_next:
                self._fatal_next -= 1
                feed.force_fatal = True
            self.feeds[feed_id] = feed
            self.counters.feeds_created += 1
            return {"feedId": feed_id}

    def _feed(self, access: Access | None, feed_id: str) -> _Feed:
        feed = self.feeds.get(feed_id)
        if feed is None or (access is not None and feed.seller_id != access.seller_id):
            raise ApiError(404, "NotFound", f"No feed has the id {feed_id}")
        return feed

    def _advance(self, feed: _Feed, poll: bool) -> None:
        if feed.status not in ("IN_QUEUE", "IN_PROGRESS"):
            return
        if self.feed_delay is not None:
            elapsed = self.now() - feed.created
            if elapsed >= self.feed_delay:
                self._finish(feed)
            elif elapsed >= self.feed_delay / 2 and feed.status == "IN_QUEUE":
                feed.status, feed.started = "IN_PROGRESS", self.now()
            return
        if poll:
            feed.polls += 1
        in_queue, in_progress = self.feed_steps
        if feed.polls > in_queue + in_progress:
            self._finish(feed)
        elif feed.polls > in_queue and feed.status == "IN_QUEUE":
            feed.status, feed.started = "IN_PROGRESS", self.now()

    def _finish(self, feed: _Feed) -> None:
        moment = self.now()
        feed.started = feed.started or moment
        document = self.documents[feed.input_document]
        if feed.force_fatal:
            status, report = "FATAL", fatal_report(feed.seller_id, feed.feed_id, "SANDBOX_FATAL",
                                                   "The feed could not be processed (the sandbox was told to fail it)")
        else:
            status, report = process_listings_feed(
                document.data, listings=self.listings, seller_id=feed.seller_id, feed_id=feed.feed_id,
                rejected=self.rejected_skus, now=int(moment), max_messages=self.max_feed_messages,
                item_view=lambda sku, included: self.item_view(sku, included, feed.marketplace_ids))
        data = orjson.dumps(report)
        if self.report_compression == "GZIP":
            data = gzip.compress(data, compresslevel=5)
        report_id = f"amzn1.tortuga.4.eu.{self._uuid('report')}.T{self._next():012d}"
        self.documents[report_id] = _Document(report_id, feed.seller_id, "report", "application/json", moment, data,
                                              self.report_compression)
        feed.status, feed.ended, feed.result_document = status, moment, report_id
        self.counters.feed_messages_processed += report["summary"]["messagesProcessed"]
        if status == "DONE":
            self.counters.feeds_done += 1
        else:
            self.counters.feeds_fatal += 1

    @staticmethod
    def _feed_body(feed: _Feed) -> dict:
        body = {"feedId": feed.feed_id, "feedType": feed.feed_type, "marketplaceIds": list(feed.marketplace_ids),
                "createdTime": iso(feed.created), "processingStatus": feed.status}
        if feed.started is not None:
            body["processingStartTime"] = iso(feed.started)
        if feed.ended is not None:
            body["processingEndTime"] = iso(feed.ended)
        if feed.result_document is not None:
            body["resultFeedDocumentId"] = feed.result_document
        return body

    def get_feed(self, access: Access, feed_id: str) -> dict:
        with self.lock:
            feed = self._feed(access, feed_id)
            self._advance(feed, poll=True)
            return self._feed_body(feed)

    def cancel_feed(self, access: Access, feed_id: str) -> None:
        with self.lock:
            feed = self._feed(access, feed_id)
            self._advance(feed, poll=False)
            if feed.status != "IN_QUEUE":
                raise invalid(f"Only feeds IN_QUEUE can be cancelled; this one is {feed.status}")
            feed.status, feed.ended = "CANCELLED", self.now()

    def fail_next_feeds(self, count: int = 1) -> None:
        """The next `count` feeds created end FATAL whatever their document says (test hook)."""
        with self.lock:
            self._fatal_next += count

    def finish_feeds(self, feed_id: str | None = None) -> list[str]:
        """Process `feed_id` (or every feed still queued or in progress) now; returns their ids."""
        with self.lock:
            feeds = [self._feed(None, feed_id)] if feed_id else list(self.feeds.values())
            done = []
            for feed in feeds:
                if feed.status in ("IN_QUEUE", "IN_PROGRESS"):
                    self._finish(feed)
                    done.append(feed.feed_id)
            return done

    def feed(self, feed_id: str) -> dict:
        """getFeed's view of a feed, without counting as a poll (tests)."""
        with self.lock:
            return self._feed_body(self._feed(None, feed_id))

    def feed_report(self, feed_id: str) -> dict | None:
        """The processing report of a finished feed (tests)."""
        with self.lock:
            feed = self._feed(None, feed_id)
            if feed.result_document is None:
                return None
            return orjson.loads(self.document_content(feed.result_document))

    # ------------------------------------------------------------------ static sandbox
    def load_vectors(self, path) -> int:
        """Load `*.sandbox.json` vectors (a directory or a file) for /static-sandbox; returns how many."""
        vectors = load_vectors(path)
        with self.lock:
            self.vectors = vectors
        return len(vectors)

    def static_answer(self, method: str, raw_path: str, query: list[tuple[str, str]], body: bytes) -> Vector | None:
        with self.lock:
            vector = match(self.vectors, method, raw_path, query, body)
            if vector is not None:
                self.counters.static_answers += 1
            return vector

    # ------------------------------------------------------------------ stats
    def record(self, operation: str, method: str, target: str, status: int) -> None:
        with self.lock:
            self.requests[operation] += 1
            self.statuses[status] += 1
            self.recent.append((operation, method, target, status))

    def stats(self) -> dict:
        with self.lock:
            return {
                "seed": self.seed, "size": self.size, "orders": self.order_count, "catalog_size": self.catalog_size,
                "epoch": iso(self.epoch), "now": iso(self.now()), "seller_id": self.seller_id,
                "requests": dict(self.requests), "statuses": {str(k): v for k, v in self.statuses.items()},
                "faults_fired": dict(self.faults_fired), "faults_armed": [asdict(f) for f in self.faults],
                "feeds": dict(Counter(f.status for f in self.feeds.values())), "vectors": len(self.vectors),
                "rate_limits": {op: {"rate": self.rate_limit(op)[0], "burst": self.rate_limit(op)[1]}
                                for op in OPERATIONS} if self.rate_limits_enabled else None,
                **asdict(self.counters),
            }


def _oauth_error(error: str, description: str) -> dict:
    return {"error": error, "error_description": description}


__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_TOKEN_TTL",
    "OPERATIONS",
    "RATE_LIMITS",
    "Access",
    "AmazonState",
    "ApiError",
    "Fault",
    "Query",
    "StorageError",
]
