"""Everything the eBay simulator remembers: the application keysets and the OAuth grants, access tokens
and authorisation codes issued for them, daily call quotas, the seller's orders and shipping
fulfillments, inventory items and offers, test hooks' changes, armed faults and counters.

Plain Python behind one re-entrant lock (uvicorn serves from its own thread while a test reads the
state, arms faults or changes orders), so tests can drive it directly as well as through the
`/_sandbox/*` routes. Handlers that answer from the state take the lock for the whole answer,
encoding included (see `sandbox.ebay.app`).

OAuth as eBay documents it: the application authenticates with HTTP Basic (client id : client secret);
a user's consent yields a long-lived refresh token (18 months) that is NOT rotated; refreshing answers
`{"access_token", "expires_in", "token_type": "User Access Token"}` for the requested scopes, which must
be a subset of the consented ones. Access tokens live two hours.
"""

import base64
import binascii
import copy
import re
import secrets
import threading
import time
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter, OrderedDict, deque
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

try:
    from zoneinfo import ZoneInfo

    _PACIFIC = ZoneInfo("America/Los_Angeles")  # eBay's quota day starts at midnight Pacific time
except Exception:  # no time zone database: a fixed UTC-8
    _PACIFIC = timezone(timedelta(hours=-8))

from ..admin import FaultQueue, FaultSpec
from .data import DAY_MS, Catalogue, OrderBook, default_epoch, stamp, to_ms

# ---------------------------------------------------------------------------------------------- OAuth
SCOPE_ROOT = "https://api.ebay.com/oauth/api_scope"


def scope(name: str) -> str:
    """The full scope URI of a short name: scope("sell.inventory")."""
    return f"{SCOPE_ROOT}/{name}"


APP_SCOPE = SCOPE_ROOT
FULFILLMENT_SCOPE, FULFILLMENT_READ_SCOPE = scope("sell.fulfillment"), scope("sell.fulfillment.readonly")
INVENTORY_SCOPE, INVENTORY_READ_SCOPE = scope("sell.inventory"), scope("sell.inventory.readonly")
ACCOUNT_SCOPE, ACCOUNT_READ_SCOPE = scope("sell.account"), scope("sell.account.readonly")
# Scopes a user can consent to (what the default keyset may ask for).
USER_SCOPES = (APP_SCOPE, INVENTORY_SCOPE, INVENTORY_READ_SCOPE, FULFILLMENT_SCOPE, FULFILLMENT_READ_SCOPE,
               ACCOUNT_SCOPE, ACCOUNT_READ_SCOPE, scope("sell.marketing"), scope("sell.marketing.readonly"),
               scope("sell.analytics.readonly"), scope("sell.finances"), scope("sell.payment.dispute"),
               scope("commerce.identity.readonly"), scope("commerce.notification.subscription"))
# What a fresh consent grants unless told otherwise (the scopes marketsync asks for).
DEFAULT_GRANT_SCOPES = (APP_SCOPE, INVENTORY_SCOPE, INVENTORY_READ_SCOPE, FULFILLMENT_SCOPE, FULFILLMENT_READ_SCOPE,
                        ACCOUNT_SCOPE, ACCOUNT_READ_SCOPE)
APPLICATION_SCOPES = (APP_SCOPE,)  # what a client credentials grant may ask for

DEFAULT_CLIENT_ID = "MarketSy-marketsy-SBX-5a1f2c3d4-8e9b7a6c"
DEFAULT_CLIENT_SECRET = "SBX-5a1f2c3d4e5f-6a7b-8c9d-0e1f-2a3b"
DEFAULT_USER = "marketsync_seller"
DEFAULT_TOKEN_TTL = 7200.0  # expires_in of eBay's token responses
DEFAULT_REFRESH_TTL = 47_304_000.0  # 18 months: refresh_token_expires_in of eBay's code grant response
DEFAULT_CODE_TTL = 299.0
USER_TOKEN_TYPE = "User Access Token"
APPLICATION_TOKEN_TYPE = "Application Access Token"

# ------------------------------------------------------------------------------------ routes, quotas
# Route names are the contracts' operationIds; each belongs to one API (its quota and its errors).
ROUTES = {
    "getOrders": "fulfillment", "getOrder": "fulfillment", "createShippingFulfillment": "fulfillment",
    "getShippingFulfillments": "fulfillment", "getShippingFulfillment": "fulfillment",
    "createOrReplaceInventoryItem": "inventory", "getInventoryItem": "inventory", "getInventoryItems": "inventory",
    "deleteInventoryItem": "inventory", "bulkUpdatePriceQuantity": "inventory", "bulkGetInventoryItem": "inventory",
    "getOffers": "inventory",
    "getRateLimits": "analytics", "getUserRateLimits": "analytics",
    "token": "identity",
}
APIS = ("fulfillment", "inventory", "analytics", "identity")
# (apiContext, apiName, apiVersion) as the Developer Analytics API names them.
API_NAMES = {"fulfillment": ("sell", "fulfillment", "v1"), "inventory": ("sell", "inventory", "v1"),
             "analytics": ("developer", "analytics", "v1_beta"), "identity": ("identity", "oauth2", "v1")}
# Calls per application per day. NOT in the contracts: eBay's "API Call Limits" page lists default
# limits per API (see README); these are its figures as we know them. None: unlimited.
DEFAULT_QUOTAS = {"fulfillment": 100_000, "inventory": 2_000_000, "analytics": 5_000, "identity": None}
QUOTA_WINDOW = 86_400  # eBay's timeWindow: a day, reset at midnight Pacific time
DEFAULT_REVISION_LIMIT = 250  # revisions per listing per calendar day (Inventory API contract)

FAULT_KINDS = ("http_500", "http_502", "http_503", "http_504", "http_429", "slow", "hang", "apply_then_drop",
               "expire_tokens", *("repeat_next", "null_list", "huge_answer", "not_json"))
WRONG_ANSWERS = ("repeat_next", "null_list", "huge_answer", "not_json")
FAULT_TARGETS = (*ROUTES, "fulfillment", "inventory", "analytics", "api", "any")
_DROP_MODES = ("close", "502", "hang")

ORDER_FILTERS = ("creationdate", "lastmodifieddate", "orderfulfillmentstatus")
_STATUS_SETS = (frozenset({"NOT_STARTED", "IN_PROGRESS"}), frozenset({"FULFILLED", "IN_PROGRESS"}))
MAX_ORDER_LIMIT = 200
DEFAULT_ORDER_LIMIT = 50
DEFAULT_WINDOW_DAYS = 90  # getOrders without a date filter: orders created in the last 90 days
MAX_ORDER_IDS = 50
MAX_BULK = 25
LOCALES = ("en_US", "en_CA", "fr_CA", "en_GB", "en_AU", "en_IN", "de_AT", "fr_BE", "fr_FR", "de_DE", "it_IT",
           "nl_BE", "nl_NL", "es_ES", "de_CH", "fi_FI", "zh_HK", "hu_HU", "en_PH", "pl_PL", "pt_PT", "ru_RU",
           "en_SG", "en_IE", "en_MY")
CONDITIONS = ("NEW", "LIKE_NEW", "NEW_OTHER", "NEW_WITH_DEFECTS", "MANUFACTURER_REFURBISHED", "CERTIFIED_REFURBISHED",
              "EXCELLENT_REFURBISHED", "VERY_GOOD_REFURBISHED", "GOOD_REFURBISHED", "SELLER_REFURBISHED",
              "USED_EXCELLENT", "USED_VERY_GOOD", "USED_GOOD", "USED_ACCEPTABLE", "FOR_PARTS_OR_NOT_WORKING",
              "PRE_OWNED_EXCELLENT", "PRE_OWNED_FAIR")
_ITEM_FIELDS = ("availability", "condition", "conditionDescription", "conditionDescriptors", "packageWeightAndSize",
                "product")
_READ_ONLY_ITEM_FIELDS = ("sku", "locale", "groupIds", "inventoryItemGroupKeys")
_SKU_BAD = re.compile(r"[\s/\\?#%]")
_TRACKING = re.compile(r"[A-Za-z0-9]+")
_CARRIER = re.compile(r"[A-Za-z0-9_\-]+")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})")


# ---------------------------------------------------------------------------------------------- errors
def error_entry(error_id: int, domain: str, category: str, message: str, long_message: str | None = None,
                parameters: list[tuple[str, str]] | None = None, subdomain: str | None = None) -> dict:
    """One element of eBay's `errors` array (ErrorDetailV3)."""
    entry: dict[str, Any] = {"errorId": error_id, "domain": domain}
    if subdomain:
        entry["subdomain"] = subdomain
    entry["category"] = category
    entry["message"] = message
    if long_message:
        entry["longMessage"] = long_message
    if parameters:
        entry["parameters"] = [{"name": name, "value": value} for name, value in parameters]
    return entry


class ApiError(Exception):
    """An answer in eBay's error shape, `{"errors": [...]}`, with `status` (and `headers`)."""

    def __init__(self, status: int, errors: list[dict], headers: dict | None = None):
        super().__init__(f"{status} " + "; ".join(f"{e['errorId']} {e['message']}" for e in errors))
        self.status, self.errors, self.headers = status, errors, headers

    def body(self) -> dict:
        return {"errors": self.errors}


def fulfillment_error(status: int, error_id: int, message: str, parameters=None, long_message=None,
                      category: str = "REQUEST") -> ApiError:
    return ApiError(status, [error_entry(error_id, "API_FULFILLMENT", category, message, long_message, parameters)])


def inventory_entry(error_id: int, message: str, parameters=None, category: str = "REQUEST") -> dict:
    return error_entry(error_id, "API_INVENTORY", category, message, None, parameters, "Selling")


def inventory_error(status: int, error_id: int, message: str, parameters=None, category: str = "REQUEST") -> ApiError:
    return ApiError(status, [inventory_entry(error_id, message, parameters, category)])


def invalid_value(field: str, index: int = 0) -> dict:
    """25709 as the examples show it: "Invalid value for quantity." with parameter {"0": "quantity"}."""
    return inventory_entry(25709, f"Invalid value for {field}.", [(str(index), field)])


def system_error(api: str | None) -> ApiError:
    """A 500 in the API's own shape (its contract's documented system error)."""
    if api == "fulfillment":
        return fulfillment_error(500, 30500, "System error", category="APPLICATION")
    if api == "inventory":
        return inventory_error(500, 25001, "A system error has occurred.", category="APPLICATION")
    if api == "analytics":
        return ApiError(500, [error_entry(105000, "API_ANALYTICS", "APPLICATION",
                                          "There was a problem with an eBay internal system or process.")])
    return ApiError(500, [error_entry(10001, "API", "APPLICATION", "System error")])


def too_many_requests(headers: dict | None = None) -> ApiError:
    """eBay's 429 (a daily quota used up)."""
    return ApiError(429, [error_entry(2001, "ACCESS", "REQUEST", "Too many requests.",
                                      "The request limit has been reached for the resource.")], headers)


INVALID_TOKEN = error_entry(1001, "OAuth", "REQUEST", "Invalid access token",
                            "Invalid access token. Check the value of the Authorization HTTP request header.")
MISSING_TOKEN = error_entry(1002, "OAuth", "REQUEST", "Missing access token",
                            "Access token is missing in the Authorization HTTP request header.")
ACCESS_DENIED = error_entry(1100, "ACCESS", "REQUEST", "Access denied",
                            "Insufficient permissions to fulfill the request.")


def oauth_error(error: str, description: str) -> dict:
    return {"error": error, "error_description": description}


# ---------------------------------------------------------------------------------------------- faults
@dataclass
class Fault(FaultSpec):
    """A misbehaviour for the next `count` matching requests, after letting `skip` of them through.

    target: an operationId (see ROUTES, "token" for the OAuth endpoint), an API ("fulfillment",
    "inventory", "analytics"), "api" (every API route, not the token endpoint) or "any".
    kinds: http_500 (the API's system error body), http_502 / http_504 (an HTML gateway page), http_503
    (Retry-After when `retry_after` is set), http_429 (eBay's 429 body; Retry-After only when
    `retry_after` is set), slow (answers after `seconds`, default 1), hang (no answer for `seconds`,
    default 300, or until the client gives up; then 504), apply_then_drop (the request is carried out,
    then its answer is lost as `then` says: "close" = the connection dies mid-response, "502" = a proxy
    answers for it, "hang" = nothing until the client gives up), expire_tokens (every access token
    expires now; the request meets its expired token).
    Wrong answers (HTTP 200, the request carried out): repeat_next (a list page whose `next` is its own
    `href`: paging that never ends), null_list (the page's list, `orders` or `offers`, is null),
    huge_answer (the answer padded to `size_mib` MiB, default 64, streamed without Content-Length),
    not_json (an HTML page).
    """

    KINDS = FAULT_KINDS
    TARGETS = FAULT_TARGETS
    DEFAULT_RETRY_AFTER = None  # eBay documents no Retry-After

    target: str = "api"
    seconds: float | None = None
    then: str = "close"
    size_mib: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.then not in _DROP_MODES:
            raise ValueError(f"then must be one of {_DROP_MODES}")
        if self.seconds is None:
            self.seconds = {"slow": 1.0, "hang": 300.0}.get(self.kind, 300.0 if self.then == "hang" else None)

    def matches(self, route: str) -> bool:
        return (self.target in ("any", route, ROUTES.get(route))
                or (self.target == "api" and route != "token"))


# ---------------------------------------------------------------------------------------------- records
@dataclass
class _Grant:
    """One user consent: its refresh token's owner, scopes and lifetime."""

    client_id: str
    user: str
    scopes: frozenset
    expires_at: float
    revoked: bool = False


@dataclass
class _Access:
    client_id: str
    user: str | None  # None: an application token
    scopes: frozenset
    expires_at: float


@dataclass
class _Code:
    client_id: str
    user: str
    scopes: frozenset
    redirect_uri: str | None
    expires_at: float


@dataclass
class _Counters:
    tokens_issued: int = 0
    refreshes: int = 0
    codes_exchanged: int = 0
    application_tokens: int = 0
    invalid_grants: int = 0
    invalid_scopes: int = 0
    invalid_clients: int = 0
    unauthorized: int = 0
    forbidden: int = 0
    quota_rejections: int = 0
    orders_served: int = 0
    fulfillments_created: int = 0
    orders_changed: int = 0
    orders_created: int = 0
    inventory_items_written: int = 0
    inventory_items_deleted: int = 0
    bulk_updates: int = 0
    bulk_items_failed: int = 0
    offers_updated: int = 0
    answers_dropped: int = 0


@dataclass
class Rejection:
    """How the inventory API refuses a SKU (test hook): `status` and an error in the Inventory shape."""

    status: int = 400
    error_id: int = 25604
    message: str = "Input error. The SKU is locked (sandbox rejection)."


def _token(prefix: str, size: int) -> str:
    # eBay's tokens are base64 (with "+", "/" and "=") behind a "v^1.1#i^1#..." header: form bodies
    # and logs must encode and redact them with care. A byte count that is not a multiple of three
    # always ends in "=" padding, so every token a client sees needs that care (not 95% of them).
    return prefix + base64.b64encode(secrets.token_bytes(size - size % 3 + 1)).decode()


def parse_timestamp(text: str) -> int | None:
    """Epoch milliseconds of an ISO 8601 timestamp with a zone (eBay sends `...Z`), None if malformed."""
    text = text.strip()
    if not _TIMESTAMP.fullmatch(text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return to_ms(moment)


def _pacific_day(now: float) -> tuple[str, float]:
    """(the quota day, as a date in Pacific time; the epoch second it ends)."""
    local = datetime.fromtimestamp(now, _PACIFIC)
    midnight = datetime(local.year, local.month, local.day, tzinfo=_PACIFIC) + timedelta(days=1)
    return local.date().isoformat(), midnight.timestamp()


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ================================================================================================ state
class EbayState(FaultQueue):
    """One simulated eBay seller account, the application keysets that may act for it and the OAuth
    server in front of it.

    `orders` seeded orders over the `history_days` before `epoch` (default: the start of the current UTC
    day), `skus` seeded SKUs with one published offer each. `token_ttl` is the access tokens' lifetime
    in seconds (fractions allowed for tests). `quotas` / `user_quotas` are calls per day per
    application / per user for each API ("fulfillment", "inventory", "analytics", "identity"; None or
    absent = unlimited); `quota_retry_after` is the Retry-After of a quota 429: None (no header, eBay
    documents none), a number of seconds, or "reset" (the seconds until the quota day ends).
    `inventory_offset` is how getInventoryItems and getOffers read `offset`: "page" (a page number,
    as the Inventory contract says) or "item" (items to skip). `require_scope` makes the refresh
    grant's `scope` mandatory (eBay documents it as required).
    """

    fault_type = Fault

    def __init__(self, seed: int = 42, orders: int = 1000, skus: int = 500, *,
                 clients: dict[str, str] | None = None, token_ttl: float = DEFAULT_TOKEN_TTL,
                 refresh_ttl: float = DEFAULT_REFRESH_TTL, epoch: datetime | None = None, history_days: float = 60,
                 marketplace_id: str = "EBAY_DE", quotas: dict[str, int | None] | None = None,
                 user_quotas: dict[str, int | None] | None = None, quota_retry_after: float | str | None = None,
                 revision_limit: int | None = DEFAULT_REVISION_LIMIT, inventory_offset: str = "page",
                 require_scope: bool = True, ru_name: str | None = None,
                 max_fulfillments_per_order: int | None = None):
        if inventory_offset not in ("page", "item"):
            raise ValueError('inventory_offset must be "page" or "item"')
        self.lock = threading.RLock()
        self.clients = dict(clients or {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET})
        self.token_ttl = token_ttl
        self.refresh_ttl = refresh_ttl
        self.marketplace_id = marketplace_id
        self.history_days = history_days
        self._epoch = epoch
        self.quotas = {**DEFAULT_QUOTAS, **(quotas or {})}
        self.user_quotas = dict(user_quotas or {})
        self.quota_retry_after = quota_retry_after
        self.revision_limit = revision_limit
        self.inventory_offset = inventory_offset
        self.require_scope = require_scope
        self.ru_name = ru_name
        self.max_fulfillments_per_order = max_fulfillments_per_order
        self.seed, self.order_count_seeded, self.sku_count = seed, orders, skus
        self.reset()

    # ================================================================================ setup
    def reset(self, seed: int | None = None, orders: int | None = None, skus: int | None = None) -> None:
        """Regenerate the seeded data and forget every grant, token, change, fault, quota use and counter."""
        with self.lock:
            self.seed = self.seed if seed is None else seed
            self.order_count_seeded = self.order_count_seeded if orders is None else orders
            self.sku_count = self.sku_count if skus is None else skus
            epoch = self._epoch or default_epoch()
            self.epoch_ms = to_ms(epoch)
            self.catalogue = Catalogue(self.seed, self.sku_count, self.marketplace_id)
            self.currency = self.catalogue.currency
            self.book = OrderBook(self.seed, self.order_count_seeded, self.catalogue, self.epoch_ms, self.history_days)
            # orders
            self._count = self.book.count
            self._creation = array("q", self.book.creation)
            self._modified = array("q", self.book.modified)
            self._orders: dict[int, dict] = {}  # materialised (changed or created) orders
            self._removed: set[int] = set()  # orders gone from eBay (test hook)
            self._creation_sorted = True  # False once an order was added with an earlier creation time
            self._fulfillments: dict[int, list[dict]] = {}
            self._version = 0
            self._search_cache: OrderedDict = OrderedDict()
            self._last_ms = 0
            self._arbitrary_fulfillment_id = 999  # "an arbitrary number such as 999" (the contract)
            # inventory
            self._items: dict[str, dict] = {}
            self._deleted: set[str] = set()
            self._extra_skus: list[str] = []
            self._offers: dict[str, dict] = {}  # changed or added offers by offerId
            self._extra_offers: dict[str, list[str]] = {}  # sku -> offerIds of offers added by the hook
            self._gone_offers: set[str] = set()
            self._offer_number = 0
            self.rejections: dict[str, Rejection] = {}
            self._revisions: Counter = Counter()
            self._revision_day = None
            self._inventory_version = 0
            self._sku_list: tuple[int, list[str]] | None = None
            # OAuth
            self._grants: dict[str, _Grant] = {}
            self._access: dict[str, _Access] = {}
            self._codes: dict[str, _Code] = {}
            self.issued_secrets: list[str] = []
            # quotas, faults, counters
            self._quota_day, self._quota_reset = _pacific_day(time.time())
            self.quota_usage: Counter = Counter()  # (kind, who, api) -> calls this quota day
            self.route_usage: Counter = Counter()  # (client_id, user, route) -> calls this quota day
            self.faults: list[Fault] = []
            self.faults_fired: Counter = Counter()
            self.counters = _Counters()
            self.requests: Counter = Counter()
            self.statuses: Counter = Counter()
            self.recent: deque = deque(maxlen=5000)

    # ================================================================================ OAuth
    def check_client(self, client_id: str | None, client_secret: str | None) -> bool:
        with self.lock:
            known = self.clients.get(client_id) if client_id is not None else None
            ok = known is not None and client_secret is not None and secrets.compare_digest(known, client_secret)
            if not ok:
                self.counters.invalid_clients += 1
            return ok

    def _scopes(self, scopes) -> frozenset:
        if isinstance(scopes, str):
            scopes = scopes.split()
        return frozenset(scopes)

    def grant(self, user: str = DEFAULT_USER, scopes=DEFAULT_GRANT_SCOPES, client_id: str | None = None) -> dict:
        """A user consents (test hook): the authorisation code grant's answer, with a refresh token."""
        with self.lock:
            client_id = client_id or next(iter(self.clients))
            wanted = self._scopes(scopes)
            unknown = wanted - set(USER_SCOPES)
            if unknown:
                raise ValueError(f"unknown scopes: {sorted(unknown)}")
            refresh = _token("v^1.1#i^1#r^1#p^3#I^3#f^0#t^Ul4x", 72)
            self._grants[refresh] = _Grant(client_id, user, wanted, time.time() + self.refresh_ttl)
            self.issued_secrets.append(refresh)
            answer = self._issue(client_id, user, wanted)
            answer["refresh_token"] = refresh
            answer["refresh_token_expires_in"] = int(self.refresh_ttl)
            return {k: answer[k] for k in ("access_token", "expires_in", "refresh_token", "refresh_token_expires_in",
                                           "token_type")}

    def authorize(self, user: str = DEFAULT_USER, scopes=DEFAULT_GRANT_SCOPES, client_id: str | None = None,
                  redirect_uri: str | None = None) -> str:
        """A user consents on eBay's page (test hook): the authorisation code the redirect carries."""
        with self.lock:
            client_id = client_id or next(iter(self.clients))
            code = _token("v^1.1#i^1#f^0#I^3#r^1#p^3#t^Ul41XzI6", 48)
            self._codes[code] = _Code(client_id, user, self._scopes(scopes), redirect_uri or self.ru_name,
                                      time.time() + DEFAULT_CODE_TTL)
            self.issued_secrets.append(code)
            return code

    def _issue(self, client_id: str, user: str | None, scopes: frozenset) -> dict:
        prefix = "v^1.1#i^1#p^3#r^0#I^3#f^0#t^H4sIAAAAAAAA" if user else "v^1.1#i^1#p^1#r^0#I^3#f^0#t^H4sIAAAAAAAA"
        access = _token(prefix, 96)
        self._access[access] = _Access(client_id, user, scopes, time.time() + self.token_ttl)
        self.issued_secrets.append(access)
        self.counters.tokens_issued += 1
        ttl = self.token_ttl
        return {"access_token": access, "expires_in": int(ttl) if float(ttl).is_integer() else ttl,
                "token_type": USER_TOKEN_TYPE if user else APPLICATION_TOKEN_TYPE}

    def token_request(self, client_id: str, form: dict[str, str]) -> tuple[int, dict]:
        """POST /identity/v1/oauth2/token for an authenticated client -> (status, JSON body)."""
        with self.lock:
            grant_type = form.get("grant_type")
            if grant_type == "refresh_token":
                return self._refresh(client_id, form)
            if grant_type == "authorization_code":
                return self._exchange(client_id, form)
            if grant_type == "client_credentials":
                wanted = self._scopes(form.get("scope", ""))
                if not wanted or not wanted <= set(APPLICATION_SCOPES):
                    self.counters.invalid_scopes += 1
                    return 400, oauth_error("invalid_scope", "The requested scope is invalid, unknown, malformed, "
                                                             "or exceeds the scope granted to the client")
                self.counters.application_tokens += 1
                return 200, self._issue(client_id, None, wanted)
            if not grant_type:
                return 400, oauth_error("invalid_request", "request is missing a required parameter: grant_type")
            return 400, oauth_error("unsupported_grant_type",
                                    "grant type in request is not supported by the authorization server")

    def _refresh(self, client_id: str, form: dict[str, str]) -> tuple[int, dict]:
        token = form.get("refresh_token")
        if not token:
            return 400, oauth_error("invalid_request", "request is missing a required parameter: refresh_token")
        grant = self._grants.get(token)
        if grant is None or grant.revoked or grant.client_id != client_id or grant.expires_at <= time.time():
            self.counters.invalid_grants += 1
            return 400, oauth_error("invalid_grant", "the provided authorization refresh token is invalid or "
                                                     "was issued to another client")
        if "scope" not in form and self.require_scope:
            return 400, oauth_error("invalid_request", "request is missing a required parameter: scope")
        wanted = self._scopes(form["scope"]) if "scope" in form else grant.scopes
        if not wanted or not wanted <= grant.scopes:
            self.counters.invalid_scopes += 1
            return 400, oauth_error("invalid_scope", "The requested scope is invalid, unknown, malformed, or "
                                                     "exceeds the scope granted to the client")
        self.counters.refreshes += 1
        return 200, self._issue(client_id, grant.user, wanted)

    def _exchange(self, client_id: str, form: dict[str, str]) -> tuple[int, dict]:
        code = self._codes.pop(form.get("code", ""), None)
        if code is None or code.client_id != client_id or code.expires_at <= time.time():
            self.counters.invalid_grants += 1
            return 400, oauth_error("invalid_grant", "the provided authorization grant code is invalid or was "
                                                     "issued to another client")
        if code.redirect_uri is not None and form.get("redirect_uri") != code.redirect_uri:
            self.counters.invalid_grants += 1
            return 400, oauth_error("invalid_grant", "the provided authorization grant code is invalid or was "
                                                     "issued to another client")
        self.counters.codes_exchanged += 1
        return 200, self.grant(code.user, code.scopes, client_id)

    def access(self, token: str | None) -> tuple[str, _Access | None]:
        """("missing" | "invalid" | "expired" | "valid", the token's record)."""
        with self.lock:
            if not token:
                return "missing", None
            record = self._access.get(token)
            if record is None:
                return "invalid", None
            if record.expires_at <= time.time():
                return "expired", record
            return "valid", record

    def expire_access_tokens(self) -> None:
        """Every access token issued so far expires now (refresh tokens stay valid)."""
        with self.lock:
            now = time.time()
            for record in self._access.values():
                record.expires_at = min(record.expires_at, now)

    def revoke_refresh_token(self, refresh_token: str) -> None:
        """The user revokes the consent (or it runs out): the refresh token gets invalid_grant."""
        with self.lock:
            self._grants[refresh_token].revoked = True

    # ================================================================================ quotas
    def _roll_quota_day(self, now: float) -> None:
        if now >= self._quota_reset:
            self._quota_day, self._quota_reset = _pacific_day(now)
            self.quota_usage.clear()
            self.route_usage.clear()

    def reset_quotas(self) -> None:
        """A new quota day begins (test hook): every call count, and the listings' revision counts, start
        again from zero."""
        with self.lock:
            self.quota_usage.clear()
            self.route_usage.clear()
            self._revisions.clear()
            self._quota_day, self._quota_reset = _pacific_day(time.time())

    def set_quota(self, api: str, limit: int | None, per: str = "application") -> None:
        """Calls per day for `api` per application (or per user); None lifts the limit."""
        if api not in APIS:
            raise ValueError(f"api must be one of {APIS}")
        if per not in ("application", "user"):
            raise ValueError('per must be "application" or "user"')
        with self.lock:
            (self.quotas if per == "application" else self.user_quotas)[api] = limit

    def charge(self, route: str, client_id: str, user: str | None) -> ApiError | None:
        """Count one call of `route` against the application's (and the user's) daily quota of its API;
        the 429 to answer instead when a quota is used up (the call is then not counted)."""
        api = ROUTES[route]
        with self.lock:
            now = time.time()
            self._roll_quota_day(now)
            checks = [("application", client_id, self.quotas.get(api))]
            if user is not None:
                checks.append(("user", user, self.user_quotas.get(api)))
            for kind, who, limit in checks:
                if limit is not None and self.quota_usage[(kind, who, api)] >= limit:
                    self.counters.quota_rejections += 1
                    headers = None
                    if self.quota_retry_after == "reset":
                        headers = {"Retry-After": str(max(1, int(self._quota_reset - now + 0.999)))}
                    elif self.quota_retry_after is not None:
                        seconds = float(self.quota_retry_after)
                        headers = {"Retry-After": str(int(seconds)) if seconds.is_integer() else str(seconds)}
                    return too_many_requests(headers)
            for kind, who, _ in checks:
                self.quota_usage[(kind, who, api)] += 1
            self.route_usage[(client_id, user, route)] += 1
            return None

    def rate_limits(self, client_id: str, user: str | None = None, api_name: str | None = None,
                    api_context: str | None = None) -> dict:
        """getRateLimits (user None) / getUserRateLimits: the quota use of this quota day."""
        with self.lock:
            now = time.time()
            self._roll_quota_day(now)
            kind, who = ("application", client_id) if user is None else ("user", user)
            limits = self.quotas if user is None else self.user_quotas
            reset = stamp(int(self._quota_reset * 1000))
            answer = []
            for api in APIS:
                limit = limits.get(api)
                context, name, version = API_NAMES[api]
                if limit is None or (api_name and api_name != name) or (api_context and api_context != context):
                    continue
                count = self.quota_usage[(kind, who, api)]
                answer.append({"apiContext": context, "apiName": name, "apiVersion": version, "resources": [{
                    "name": f"{context}.{name}",
                    "rates": [{"count": count, "limit": limit, "remaining": max(0, limit - count), "reset": reset,
                               "timeWindow": QUOTA_WINDOW}]}]})
            return {"rateLimits": answer}

    # ================================================================================ orders: access
    def _now_ms(self) -> int:
        """Now in epoch ms, strictly later than every time handed out before (lastModifiedDate moves)."""
        ms = max(int(time.time() * 1000), self._last_ms + 1)
        self._last_ms = ms
        return ms

    @property
    def order_count(self) -> int:
        return self._count

    def order_id(self, index: int) -> str:
        return self.book.order_id(index)

    def order_index(self, order_id: str) -> int | None:
        with self.lock:
            index = self.book.index_of(order_id) if isinstance(order_id, str) else None
            return index if index is not None and index < self._count and index not in self._removed else None

    def _index_or_raise(self, order_id: str, status: int = 404) -> int:
        index = self.order_index(order_id)
        if index is None:
            raise fulfillment_error(status, 32100, f"Invalid order ID: {order_id}", [("orderId", order_id)])
        return index

    def _order(self, index: int) -> dict:
        known = self._orders.get(index)
        return known if known is not None else self.book.order(index)

    def _status(self, index: int) -> str:
        known = self._orders.get(index)
        return known["orderFulfillmentStatus"] if known is not None else self.book.base_status(index)

    def _materialise(self, index: int) -> dict:
        order = self._orders.get(index)
        if order is None:
            order = self._orders[index] = self.book.order(index)
            self._fulfillments[index] = self.book.fulfillments(index)
        return order

    def _fulfillment_list(self, index: int) -> list[dict]:
        known = self._fulfillments.get(index)
        return known if known is not None else self.book.fulfillments(index)

    def _touch(self, index: int) -> int:
        order = self._materialise(index)
        ms = self._now_ms()
        order["lastModifiedDate"] = stamp(ms)
        self._modified[index] = ms
        self._version += 1
        return ms

    def order(self, order_id: str) -> dict:
        """An order as getOrder answers it (fulfillmentHrefs relative): a copy."""
        with self.lock:
            return copy.deepcopy(self._order(self._index_or_raise(order_id)))

    def shipping_fulfillments(self, order_id: str) -> list[dict]:
        """The order's shipping fulfillments, oldest first: a copy."""
        with self.lock:
            return copy.deepcopy(self._fulfillment_list(self._index_or_raise(order_id)))

    def _view(self, index: int, base_url: str, in_list: bool, tax_breakdown: bool) -> dict:
        order = self._order(index)
        view = dict(order)
        view["fulfillmentHrefs"] = [base_url + href for href in order["fulfillmentHrefs"]]
        if in_list and order["cancelStatus"]["cancelRequests"]:
            view["cancelStatus"] = {**order["cancelStatus"], "cancelRequests": []}  # getOrders: always empty
        if tax_breakdown:
            view["lineItems"] = [{**line, "taxes": [{**t, "taxType": "VAT"} for t in line["taxes"]]}
                                 for line in order["lineItems"]]
        return view

    # ================================================================================ orders: getOrders
    def _parse_filter(self, text: str, now_ms: int) -> tuple[str | None, int | None, int | None, frozenset | None]:
        """(date field, start, end, statuses) of a getOrders filter; ApiError for a bad one."""
        criteria: dict[str, str] = {}
        depth, start = 0, 0
        parts = []
        for position, char in enumerate(text):
            if char in "[{":
                depth += 1
            elif char in "]}":
                depth -= 1
            elif char == "," and depth == 0:
                parts.append(text[start:position])
                start = position + 1
        parts.append(text[start:])
        for part in parts:
            name, colon, value = part.strip().partition(":")
            if name not in ORDER_FILTERS or not colon:
                raise fulfillment_error(400, 30700, f"Invalid filter name: {name}", [("fieldname", name)])
            criteria[name] = value.strip()
        statuses = None
        if "orderfulfillmentstatus" in criteria:
            value = criteria["orderfulfillmentstatus"]
            wanted = frozenset(v.strip() for v in value[1:-1].split("|")) if value[:1] == "{" and value[-1:] == "}" \
                else None
            if wanted not in _STATUS_SETS:
                raise fulfillment_error(400, 30800, f"Invalid filter value {value} for filter orderfulfillmentstatus",
                                        [("fieldvalue", value), ("fieldname", "orderfulfillmentstatus")])
            statuses = wanted
        field = "creationdate" if "creationdate" in criteria else "lastmodifieddate" if "lastmodifieddate" in criteria \
            else None
        if field is None:
            return None, None, None, statuses
        value = criteria[field]
        if not (value.startswith("[") and value.endswith("]") and ".." in value):
            raise fulfillment_error(400, 30800, f"Invalid filter value {value} for filter {field}",
                                    [("fieldvalue", value), ("fieldname", field)])
        low_text, _, high_text = value[1:-1].partition("..")
        if not low_text.strip():
            raise fulfillment_error(400, 30820, "Start date is missing")
        low = parse_timestamp(low_text)
        high = parse_timestamp(high_text) if high_text.strip() else None
        if low is None or (high_text.strip() and high is None):
            raise fulfillment_error(400, 30810, "Invalid date format")
        if low > now_ms + 1000 or (high is not None and high > now_ms + 1000):
            raise fulfillment_error(400, 30850, "Start and end dates can't be in the future")
        if high is not None and low > high:
            raise fulfillment_error(400, 30840, "Start date should be before end date")
        return field, low, high, statuses

    def _matching(self, field: str, low: int, high: int | None, statuses: frozenset | None) -> list[int]:
        """Indices of the orders whose `field` lies in [low, high] and whose status is one of `statuses`,
        in creation order (cached until the next change)."""
        key = (field, low, high, statuses)
        cached = self._search_cache.get(key)
        if cached is not None and cached[0] == self._version:
            self._search_cache.move_to_end(key)
            return cached[1]
        count = self._count
        if field == "creationdate" and self._creation_sorted:
            creation = self._creation
            first = bisect_left(creation, low, 0, count)
            last = count if high is None else bisect_right(creation, high, first, count)
            indices = range(first, last)
        elif field == "creationdate":
            creation = self._creation
            top = high if high is not None else 1 << 62
            indices = [i for i in range(count) if low <= creation[i] <= top]
        else:
            modified = self._modified
            top = high if high is not None else 1 << 62
            indices = [i for i in range(count) if low <= modified[i] <= top]
        if statuses is not None:
            status = self._status
            indices = [i for i in indices if status(i) in statuses]
        result = [i for i in indices if i not in self._removed] if self._removed else list(indices)
        self._search_cache[key] = (self._version, result)
        while len(self._search_cache) > 16:
            self._search_cache.popitem(last=False)
        return result

    def search_orders(self, base_url: str, filter_text: str | None = None, limit: str | None = None,
                      offset: str | None = None, order_ids: str | None = None,
                      field_groups: str | None = None) -> dict:
        """getOrders (query parameters as sent, `base_url` the API's root) -> OrderSearchPagedCollection."""
        with self.lock:
            tax_breakdown = self._field_groups(field_groups)
            root = f"{base_url}/sell/fulfillment/v1/order"
            if order_ids is not None:
                ids = [i.strip() for i in order_ids.split(",") if i.strip()]
                if len(ids) > MAX_ORDER_IDS:
                    raise fulfillment_error(400, 30900, "Exceeded maximum number of order IDs (the current limit is "
                                                        "50)")
                found, warnings = [], []
                for order_id in ids:
                    index = self.order_index(order_id)
                    if index is None:
                        warnings.append(error_entry(32100, "API_FULFILLMENT", "REQUEST",
                                                    f"Invalid order ID: {order_id}", None, [("orderId", order_id)]))
                    else:
                        found.append(self._view(index, base_url, True, tax_breakdown))
                self.counters.orders_served += len(found)
                body = {"href": f"{root}?orderIds={_quote(','.join(ids))}", "total": len(found), "limit": len(ids),
                        "offset": 0, "orders": found}
                if warnings:
                    body["warnings"] = warnings
                return body
            limit_value = self._whole(limit, DEFAULT_ORDER_LIMIT, 31100, "Invalid limit: ", 1, MAX_ORDER_LIMIT)
            offset_value = self._whole(offset, 0, 31000, "Invalid offset: ", 0, None)
            now_ms = int(time.time() * 1000)
            field, low, high, statuses = self._parse_filter(filter_text, now_ms) if filter_text else \
                (None, None, None, None)
            if field is None:  # no date criterion: orders created in the last 90 days
                field, low, high = "creationdate", (now_ms - DEFAULT_WINDOW_DAYS * DAY_MS) // 60_000 * 60_000, None
            matching = self._matching(field, low, high, statuses)
            total = len(matching)
            page = [self._view(i, base_url, True, tax_breakdown)
                    for i in matching[offset_value:offset_value + limit_value]]
            self.counters.orders_served += len(page)

            def link(at: int) -> str:
                query = []
                if filter_text:
                    query.append(f"filter={_quote(filter_text)}")
                if field_groups:
                    query.append(f"fieldGroups={_quote(field_groups)}")
                query += [f"limit={limit_value}", f"offset={at}"]
                return f"{root}?{'&'.join(query)}"

            body = {"href": link(offset_value), "total": total}
            if offset_value + limit_value < total:
                body["next"] = link(offset_value + limit_value)
            if offset_value > 0:
                body["prev"] = link(max(0, offset_value - limit_value))
            body.update(limit=limit_value, offset=offset_value, orders=page)
            return body

    @staticmethod
    def _field_groups(field_groups: str | None) -> bool:
        if field_groups is None:
            return False
        groups = [g.strip() for g in field_groups.split(",") if g.strip()]
        for group in groups:
            if group != "TAX_BREAKDOWN":
                raise fulfillment_error(400, 32800, f"Invalid field group: {group}", [("fieldGroup", group)])
        return bool(groups)

    @staticmethod
    def _whole(text: str | None, default: int, error_id: int, message: str, low: int, high: int | None) -> int:
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            raise fulfillment_error(400, error_id, f"{message}{text}")
        return value

    def get_order(self, base_url: str, order_id: str, field_groups: str | None = None) -> dict:
        with self.lock:
            tax_breakdown = self._field_groups(field_groups)
            index = self._index_or_raise(order_id)
            self.counters.orders_served += 1
            return self._view(index, base_url, False, tax_breakdown)

    # ================================================================================ orders: fulfillments
    def get_fulfillments(self, order_id: str) -> dict:
        """getShippingFulfillments -> ShippingFulfillmentPagedCollection."""
        with self.lock:
            fulfillments = self._fulfillment_list(self._index_or_raise(order_id, 400))
            return {"fulfillments": list(fulfillments), "total": len(fulfillments)}

    def get_fulfillment(self, order_id: str, fulfillment_id: str) -> dict:
        """getShippingFulfillment: the first fulfillment with this id (a tracking number can recur)."""
        with self.lock:
            for fulfillment in self._fulfillment_list(self._index_or_raise(order_id)):
                if fulfillment["fulfillmentId"] == fulfillment_id:
                    return fulfillment
            raise fulfillment_error(404, 32110, f"Invalid shipping fulfillment ID: {fulfillment_id}",
                                    [("fulfillmentId", fulfillment_id)])

    def create_fulfillment(self, order_id: str, body: Any) -> dict:
        """createShippingFulfillment: a NEW fulfillment every time (eBay does not deduplicate, not even a
        repeat of the same tracking number). Returns it; ApiError for an invalid request."""
        with self.lock:
            index = self._index_or_raise(order_id, 400)
            if not isinstance(body, dict):
                raise fulfillment_error(400, 32600, "Invalid input data")
            order = self._order(index)
            by_id = {line["lineItemId"]: line for line in order["lineItems"]}
            raw_lines = body.get("lineItems")
            if not isinstance(raw_lines, list) or not raw_lines:
                raise fulfillment_error(400, 32600, "Invalid input data", [("lineItems", "required")])
            errors, lines, seen = [], [], set()
            for raw in raw_lines:
                line_id = raw.get("lineItemId") if isinstance(raw, dict) else None
                quantity = raw.get("quantity", 1) if isinstance(raw, dict) else None
                if not isinstance(line_id, str) or line_id not in by_id:
                    errors.append(error_entry(32200, "API_FULFILLMENT", "REQUEST", f"Invalid line item id: {line_id}",
                                              None, [("lineItemId", str(line_id))]))
                elif line_id in seen:
                    errors.append(error_entry(32210, "API_FULFILLMENT", "REQUEST",
                                              "Duplicate line item in the request", None, [("lineItemId", line_id)]))
                elif not _integer(quantity) or quantity < 1 or quantity > by_id[line_id]["quantity"]:
                    errors.append(error_entry(32600, "API_FULFILLMENT", "REQUEST", "Invalid input data",
                                              f"quantity {quantity!r} for line item {line_id} must be a whole number "
                                              f"from 1 to {by_id[line_id]['quantity']}",
                                              [("lineItemId", line_id), ("quantity", str(quantity))]))
                else:
                    seen.add(line_id)
                    lines.append({"lineItemId": line_id, "quantity": quantity})
            carrier, tracking = body.get("shippingCarrierCode"), body.get("trackingNumber")
            if (carrier is None) != (tracking is None) or (
                    tracking is not None and not (isinstance(tracking, str) and _TRACKING.fullmatch(tracking))) or (
                    carrier is not None and not (isinstance(carrier, str) and _CARRIER.fullmatch(carrier))):
                errors.append(error_entry(32300, "API_FULFILLMENT", "REQUEST",
                                          "Invalid shipment tracking number or carrier", None,
                                          [("trackingNumber", str(tracking)), ("shippingCarrierCode", str(carrier))]))
            now_ms = int(time.time() * 1000)
            shipped_ms = now_ms
            if body.get("shippedDate") is not None:
                shipped = body["shippedDate"]
                shipped_ms = parse_timestamp(shipped) if isinstance(shipped, str) else None
                created_ms = self._creation[index]
                if shipped_ms is None or shipped_ms > now_ms + 300_000 or shipped_ms < created_ms - DAY_MS:
                    errors.append(error_entry(32500, "API_FULFILLMENT", "REQUEST", "Invalid shipped date", None,
                                              [("shippedDate", str(shipped))]))
            if errors:
                raise ApiError(400, errors)
            if order["cancelStatus"]["cancelState"] == "CANCELED":
                raise fulfillment_error(409, 32600, "Invalid input data", [("orderId", order_id)],
                                        "The order is cancelled; it cannot be shipped.")
            existing = self._fulfillment_list(index)
            if self.max_fulfillments_per_order is not None and len(existing) >= self.max_fulfillments_per_order:
                raise fulfillment_error(400, 34100, "Maximum tracking number for order is exceeded")
            return self._add_fulfillment(index, lines, carrier, tracking, shipped_ms)

    def _add_fulfillment(self, index: int, lines: list[dict], carrier: str | None, tracking: str | None,
                         shipped_ms: int) -> dict:
        order = self._materialise(index)
        if tracking is not None:
            fulfillment_id = tracking  # the contract: the fulfillment's id is the tracking number
        else:
            fulfillment_id = str(self._arbitrary_fulfillment_id)
            self._arbitrary_fulfillment_id += 1
        fulfillment: dict[str, Any] = {"fulfillmentId": fulfillment_id}
        if tracking is not None:
            fulfillment["shipmentTrackingNumber"] = tracking
            fulfillment["shippingCarrierCode"] = carrier
        fulfillment["shippedDate"] = stamp(shipped_ms)
        fulfillment["lineItems"] = lines
        fulfillments = self._fulfillments.setdefault(index, [])
        fulfillments.append(fulfillment)
        shipped: Counter = Counter()
        for known in fulfillments:
            for line in known["lineItems"]:
                shipped[line["lineItemId"]] += line["quantity"]
        done = []
        for line in order["lineItems"]:
            sent = shipped[line["lineItemId"]]
            line["lineItemFulfillmentStatus"] = "FULFILLED" if sent >= line["quantity"] else \
                "IN_PROGRESS" if sent else "NOT_STARTED"
            done.append(line["lineItemFulfillmentStatus"])
        order["orderFulfillmentStatus"] = "FULFILLED" if all(s == "FULFILLED" for s in done) else \
            "IN_PROGRESS" if any(s != "NOT_STARTED" for s in done) else "NOT_STARTED"
        order["fulfillmentHrefs"].append(
            f"/sell/fulfillment/v1/order/{order['orderId']}/shipping_fulfillment/{fulfillment_id}")
        self._touch(index)
        self.counters.fulfillments_created += 1
        return fulfillment

    # ================================================================================ orders: test hooks
    def add_order(self, lines: list[tuple[str, int]] | None = None, created_at: datetime | None = None) -> str:
        """A buyer buys now (test hook): a new paid order of `lines` (SKU, quantity; default one
        random seeded SKU) created and last modified now; `created_at` places its creation earlier (it is
        still last modified now). Returns its orderId."""
        with self.lock:
            index = self._count
            if lines is None:
                lines = [(self.catalogue.sku(index % self.catalogue.size), 1)]
            resolved = []
            for sku, quantity in lines:
                sku_index = self.catalogue.index_of(sku)
                if sku_index is None or not _integer(quantity) or quantity < 1:
                    raise ValueError(f"orders are made of seeded SKUs in whole quantities, not {sku!r} x "
                                     f"{quantity!r}")
                resolved.append((sku_index, quantity))
            now = self._now_ms()
            created = now if created_at is None else min(to_ms(created_at), now)
            self._orders[index] = self.book.order(index, created_ms=created, modified_ms=now, lines=resolved,
                                                  status="NOT_STARTED", cancelled=False)
            self._fulfillments[index] = []
            if self._count and created < self._creation[-1]:
                self._creation_sorted = False  # creation-date searches scan instead of bisecting
            self._creation.append(created)
            self._modified.append(now)
            self._count += 1
            self._version += 1
            self.counters.orders_created += 1
            return self.book.order_id(index)

    def remove_order(self, order_id: str) -> None:
        """The order is gone from eBay (test hook: one the seller never had): getOrders no longer lists
        it and getOrder answers 404."""
        with self.lock:
            self._removed.add(self._index_or_raise(order_id))
            self._version += 1

    def touch_order(self, order_id: str) -> str:
        """Something about the order changed (test hook): its lastModifiedDate moves to now."""
        with self.lock:
            ms = self._touch(self._index_or_raise(order_id))
            self.counters.orders_changed += 1
            return stamp(ms)

    def update_order(self, order_id: str, *, ship_to: dict | None = None, payment_status: str | None = None,
                     buyer_checkout_notes: str | None = None) -> dict:
        """The buyer changes the order (test hook): `ship_to` updates fullName and/or contactAddress
        fields of the ship-to contact, `payment_status` sets the payment's and the order's status
        (PAID, PENDING, FAILED). lastModifiedDate moves to now. Returns a copy of the order."""
        with self.lock:
            index = self._index_or_raise(order_id)
            order = self._materialise(index)
            if ship_to:
                contact = order["fulfillmentStartInstructions"][0]["shippingStep"]["shipTo"]
                for key, value in ship_to.items():
                    if key in ("fullName", "email", "companyName"):
                        contact[key] = value
                    elif key == "primaryPhone":
                        contact["primaryPhone"] = {"phoneNumber": value}
                    else:
                        contact["contactAddress"][key] = value
            if payment_status is not None:
                if payment_status not in ("PAID", "PENDING", "FAILED"):
                    raise ValueError("payment_status must be PAID, PENDING or FAILED")
                order["orderPaymentStatus"] = payment_status
                order["paymentSummary"]["payments"][0]["paymentStatus"] = payment_status
            if buyer_checkout_notes is not None:
                order["buyerCheckoutNotes"] = buyer_checkout_notes
            self._touch(index)
            self.counters.orders_changed += 1
            return self.order(order_id)

    def cancel_order(self, order_id: str, *, completed: bool = True, initiator: str = "Buyer",
                     reason: str = "BUYER_ASKED_CANCEL") -> dict:
        """A cancellation (test hook): `completed` cancels the order (CANCELED, refunded); otherwise a
        cancellation is requested and pending (IN_PROGRESS). lastModifiedDate moves to now."""
        with self.lock:
            index = self._index_or_raise(order_id)
            order = self._materialise(index)
            now = self._now_ms()
            cancel = order["cancelStatus"]
            request = {"cancelInitiator": initiator, "cancelReason": reason, "cancelRequestedDate": stamp(now),
                       "cancelRequestId": str(5_100_000_000 + index),
                       "cancelRequestState": "COMPLETED" if completed else "REQUESTED"}
            if completed:
                request["cancelCompletedDate"] = stamp(now)
                cancel.update(cancelState="CANCELED", cancelledDate=stamp(now))
                order["orderPaymentStatus"] = "FULLY_REFUNDED"
                due = order["paymentSummary"]["totalDueSeller"]
                order["paymentSummary"]["refunds"] = [{"amount": dict(due), "refundDate": stamp(now),
                                                       "refundId": f"5{index:011d}", "refundStatus": "REFUNDED"}]
            else:
                cancel["cancelState"] = "IN_PROGRESS"
            cancel["cancelRequests"] = [*cancel.get("cancelRequests", []), request]
            self._touch(index)
            self.counters.orders_changed += 1
            return self.order(order_id)

    def ship_order(self, order_id: str, tracking_number: str | None = None, carrier: str = "DHL",
                   lines: list[tuple[str, int]] | None = None) -> dict:
        """The seller marks the order shipped elsewhere (Seller Hub; test hook): a fulfillment of `lines`
        (lineItemId, quantity; default every line in full), as if created through the API."""
        with self.lock:
            index = self._index_or_raise(order_id)
            order = self._order(index)
            chosen = [{"lineItemId": line["lineItemId"], "quantity": line["quantity"]} for line in order["lineItems"]] \
                if lines is None else [{"lineItemId": i, "quantity": q} for i, q in lines]
            return dict(self._add_fulfillment(index, chosen, carrier if tracking_number else None, tracking_number,
                                              int(time.time() * 1000)))

    # ================================================================================ inventory: access
    def _alive_skus(self) -> list[str]:
        cached = self._sku_list
        if cached is not None and cached[0] == self._inventory_version:
            return cached[1]
        skus = [self.catalogue.sku(i) for i in range(self.catalogue.size)] if not self._deleted else \
            [s for s in (self.catalogue.sku(i) for i in range(self.catalogue.size)) if s not in self._deleted]
        skus += [s for s in self._extra_skus if s not in self._deleted]
        self._sku_list = (self._inventory_version, skus)
        return skus

    def inventory_item(self, sku: str) -> dict | None:
        """The inventory item record of `sku` (InventoryItemWithSkuLocaleGroupid), None if there is none."""
        with self.lock:
            if sku in self._deleted:
                return None
            known = self._items.get(sku)
            if known is not None:
                return known
            index = self.catalogue.index_of(sku)
            return self.catalogue.inventory_item(index) if index is not None else None

    def item_quantity(self, sku: str) -> int | None:
        item = self.inventory_item(sku)
        if item is None:
            return None
        return (((item.get("availability") or {}).get("shipToLocationAvailability") or {}).get("quantity") or 0)

    def offer(self, offer_id: str) -> dict | None:
        """A published offer (EbayOfferDetailsWithAll), None if unknown (or made unknown by the hook)."""
        with self.lock:
            if offer_id in self._gone_offers:
                return None
            known = self._offers.get(offer_id)
            if known is not None:
                return known
            index = self.catalogue.offer_index(offer_id)
            return self.catalogue.offer(index) if index is not None else None

    def offer_ids(self, sku: str) -> list[str]:
        """The offers of `sku` (the seeded one, those added by the hook), without unknown ones."""
        with self.lock:
            index = self.catalogue.index_of(sku)
            ids = ([self.catalogue.offer_id(index)] if index is not None else []) + self._extra_offers.get(sku, [])
            return [i for i in ids if i not in self._gone_offers]

    def _offer_for_change(self, offer_id: str) -> dict:
        known = self._offers.get(offer_id)
        if known is None:
            known = self._offers[offer_id] = self.offer(offer_id)
        return known

    def listing_quantity(self, sku: str) -> int | None:
        """What buyers see on the listing of `sku`'s first offer: the lower of the offer's
        availableQuantity and the inventory item's ship-to-home quantity (the contract's rule)."""
        with self.lock:
            ids = self.offer_ids(sku)
            quantity = self.item_quantity(sku)
            if not ids or quantity is None:
                return None
            available = self.offer(ids[0]).get("availableQuantity")
            return quantity if available is None else min(available, quantity)

    # ================================================================================ inventory: test hooks
    def reject_sku(self, sku: str, status: int = 400, error_id: int = 25604,
                   message: str = "Input error. The SKU is locked (sandbox rejection).") -> None:
        """Make writes to `sku` fail (test hook): createOrReplaceInventoryItem answers `status` with the
        error; bulkUpdatePriceQuantity reports it for the SKU's entries. A 5xx `status` uses the
        APPLICATION category."""
        with self.lock:
            self.rejections[sku] = Rejection(status, error_id, message)

    def clear_rejections(self) -> None:
        with self.lock:
            self.rejections.clear()

    def forget_offer(self, offer_id: str) -> None:
        """The offer becomes unknown (test hook; e.g. ended and removed): updates to it fail with 25713."""
        with self.lock:
            self._gone_offers.add(offer_id)

    def set_offer_quantity(self, offer_id: str, available_quantity: int) -> None:
        """The seller changed the offer's availableQuantity in eBay's own pages (test hook)."""
        with self.lock:
            if self.offer(offer_id) is None:
                raise ValueError(f"no offer {offer_id!r}")
            self._offer_for_change(offer_id)["availableQuantity"] = int(available_quantity)

    def sell(self, sku: str, quantity: int = 1) -> str:
        """A buyer buys `quantity` of `sku`'s listing (test hook): refused (ValueError) beyond what the
        listing sells, the lower of the offer's availableQuantity and the ship-to-home quantity; a sale
        takes the units off both. Returns the new order's orderId."""
        with self.lock:
            sellable = self.listing_quantity(sku)
            if sellable is None or quantity > sellable:
                raise ValueError(f"the listing of {sku!r} sells {sellable or 0}, not {quantity}")
            item = self._items.get(sku) or self.inventory_item(sku)
            ship = dict((item.get("availability") or {}).get("shipToLocationAvailability") or {})
            ship["quantity"] = (ship.get("quantity") or 0) - quantity
            self._items[sku] = {**item, "availability": {**(item.get("availability") or {}),
                                                         "shipToLocationAvailability": ship}}
            self._inventory_version += 1
            for offer_id in self.offer_ids(sku):
                offer = self._offer_for_change(offer_id)
                if offer.get("availableQuantity") is not None:
                    offer["availableQuantity"] = max(0, offer["availableQuantity"] - quantity)
            return self.add_order([(sku, quantity)])

    def add_offer(self, sku: str, available_quantity: int | None = None, price: str = "19.99") -> str:
        """Publish another fixed-price offer for an existing inventory item (test hook); its offerId."""
        with self.lock:
            if self.inventory_item(sku) is None:
                raise ValueError(f"no inventory item {sku!r}")
            self._offer_number += 1
            offer_id = str(5_900_000_000_000 + self._offer_number)
            self._offers[offer_id] = {
                "offerId": offer_id, "sku": sku, "marketplaceId": self.marketplace_id, "format": "FIXED_PRICE",
                "availableQuantity": available_quantity if available_quantity is not None else self.item_quantity(sku),
                "categoryId": "20625", "listingDuration": "GTC", "listingPolicies": {
                    "fulfillmentPolicyId": "6200000000001", "paymentPolicyId": "6200000000002",
                    "returnPolicyId": "6200000000003"},
                "merchantLocationKey": "LAGER-01", "pricingSummary": {"price": {"value": price,
                                                                               "currency": self.currency}},
                "hideBuyerDetails": False, "includeCatalogProductDetails": True, "status": "PUBLISHED",
                "listing": {"listingId": str(120_000_000_000 + self._offer_number), "listingStatus": "ACTIVE",
                            "soldQuantity": 0}}
            self._extra_offers.setdefault(sku, []).append(offer_id)
            return offer_id

    # ================================================================================ inventory: API
    def _check_sku(self, sku: str) -> None:
        if not sku or len(sku) > 50 or _SKU_BAD.search(sku):
            raise inventory_error(400, 25707, "Invalid sku. sku has to be alphanumeric with upto 50 characters in "
                                              "length")

    def _rejection(self, sku: str) -> dict | None:
        rejection = self.rejections.get(sku)
        if rejection is None:
            return None
        return inventory_entry(rejection.error_id, rejection.message,
                               category="APPLICATION" if rejection.status >= 500 else "REQUEST")

    def _revise(self, offer_ids: list[str]) -> list[str]:
        """Count a revision of these offers' listings; the ones over the daily revision limit."""
        day = _pacific_day(time.time())[0]
        if day != self._revision_day:
            self._revision_day = day
            self._revisions.clear()
        over = [o for o in offer_ids if self.revision_limit is not None and self._revisions[o] >= self.revision_limit]
        for offer_id in offer_ids:
            if offer_id not in over:
                self._revisions[offer_id] += 1
        return over

    def _revision_error(self, offer_id: str) -> dict:
        return inventory_entry(25002, f"Any User error. The listing of offer {offer_id} was revised "
                                      f"{self.revision_limit} times today; it can be revised again tomorrow.",
                               [("offerId", offer_id)])

    def put_inventory_item(self, sku: str, body: Any, content_language: str | None) -> int:
        """createOrReplaceInventoryItem: a complete replacement (fields left out are gone). Returns the
        status to answer (204); ApiError for a refused request."""
        with self.lock:
            self._check_sku(sku)
            locale = (content_language or "").strip().replace("-", "_")
            if locale not in LOCALES:
                raise ApiError(400, [invalid_value("header Content-Language")])
            if not isinstance(body, dict):
                raise inventory_error(400, 25604, "Input error. The request body must be a JSON object.")
            for key in body:
                if key not in _ITEM_FIELDS and key not in _READ_ONLY_ITEM_FIELDS:
                    raise inventory_error(400, 25601, f"{key} is an invalid attribute.", [("0", key)])
            problems = self._item_problems(body)
            if problems:
                raise ApiError(400, problems)
            rejection = self._rejection(sku)
            if rejection is not None:
                raise ApiError(self.rejections[sku].status, [rejection])
            offers = self.offer_ids(sku)
            old = self.item_quantity(sku)
            record = {"sku": sku, "locale": locale, **{k: body[k] for k in _ITEM_FIELDS if k in body}}
            new = ((record.get("availability") or {}).get("shipToLocationAvailability") or {}).get("quantity") or 0
            if offers and old != new:
                over = self._revise(offers)
                if over:
                    raise ApiError(400, [self._revision_error(o) for o in over])
            if self.catalogue.index_of(sku) is None and sku not in self._items:
                self._extra_skus.append(sku)
            self._items[sku] = record
            self._deleted.discard(sku)
            self._inventory_version += 1
            self.counters.inventory_items_written += 1
            return 204

    def _item_problems(self, body: dict) -> list[dict]:
        problems = []
        availability = body.get("availability")
        if availability is not None:
            ship = availability.get("shipToLocationAvailability") if isinstance(availability, dict) else None
            quantity = ship.get("quantity") if isinstance(ship, dict) else None
            if not isinstance(availability, dict) or (ship is not None and not isinstance(ship, dict)) or (
                    quantity is not None and (not _integer(quantity) or quantity < 0)):
                problems.append(invalid_value("quantity"))
        if "condition" in body and body["condition"] not in CONDITIONS:
            problems.append(invalid_value("condition"))
        product = body.get("product")
        if product is not None:
            if not isinstance(product, dict):
                problems.append(invalid_value("product"))
            else:
                aspects = product.get("aspects")
                if aspects is not None and not (isinstance(aspects, dict) and all(
                        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in aspects.values())):
                    problems.append(invalid_value("aspects"))
                title = product.get("title")
                if title is not None and (not isinstance(title, str) or len(title) > 80):
                    problems.append(invalid_value("title"))
        return problems

    def get_inventory_item(self, sku: str) -> dict:
        with self.lock:
            item = self.inventory_item(sku)
            if item is None:
                raise inventory_error(404, 25710, "We didn't find the resource/entity you are requesting. Please "
                                                  "verify the request")
            return item

    def delete_inventory_item(self, sku: str) -> None:
        """deleteInventoryItem: the record and its offers go (their listings end)."""
        with self.lock:
            if self.inventory_item(sku) is None:
                raise inventory_error(404, 25710, "We didn't find the resource/entity you are requesting. Please "
                                                  "verify the request")
            for offer_id in self.offer_ids(sku):
                self._gone_offers.add(offer_id)
            self._deleted.add(sku)
            self._items.pop(sku, None)
            self._inventory_version += 1
            self.counters.inventory_items_deleted += 1

    def _paging(self, limit: str | None, offset: str | None, default_limit: int) -> tuple[int, int]:
        try:
            limit_value = default_limit if limit is None else int(limit)
            offset_value = 0 if offset is None else int(offset)
        except ValueError:
            limit_value = offset_value = -1
        if not 1 <= limit_value <= 200 or offset_value < 0:
            raise inventory_error(400, 25706, "You have provided invalid pagination values. limit must be from 1 to "
                                              "200 and offset not negative.")
        return limit_value, offset_value

    def _page(self, items: list, limit: int, offset: int) -> tuple[list, int | None, int | None]:
        """(the page, the next offset or None, the previous offset or None) as `inventory_offset` says."""
        if self.inventory_offset == "page":
            first = offset * limit
            return (items[first:first + limit], offset + 1 if first + limit < len(items) else None,
                    offset - 1 if offset > 0 else None)
        return (items[offset:offset + limit], offset + limit if offset + limit < len(items) else None,
                max(0, offset - limit) if offset > 0 else None)

    def list_inventory_items(self, base_url: str, limit: str | None = None, offset: str | None = None) -> dict:
        """getInventoryItems -> InventoryItems (`size`: the number of pages, as the contract says)."""
        with self.lock:
            limit_value, offset_value = self._paging(limit, offset, 25)
            skus = self._alive_skus()
            page, following, previous = self._page(skus, limit_value, offset_value)
            root = f"{base_url}/sell/inventory/v1/inventory_item"
            body: dict[str, Any] = {"href": f"{root}?limit={limit_value}&offset={offset_value}"}
            if following is not None:
                body["next"] = f"{root}?limit={limit_value}&offset={following}"
            if previous is not None:
                body["prev"] = f"{root}?limit={limit_value}&offset={previous}"
            body.update(limit=limit_value, size=-(-len(skus) // limit_value), total=len(skus),
                        inventoryItems=[self.inventory_item(s) for s in page])
            return body

    def bulk_get(self, body: Any) -> tuple[int, dict]:
        """bulkGetInventoryItem -> (200 or 207, BulkGetInventoryItemResponse)."""
        with self.lock:
            requests = body.get("requests") if isinstance(body, dict) else None
            if not isinstance(requests, list) or not requests:
                raise ApiError(400, [invalid_value("requests")])
            if len(requests) > MAX_BULK:
                raise inventory_error(400, 25727, f"The number of InventoryItems in the request cannot exceed "
                                                  f"{MAX_BULK}.")
            skus = [r.get("sku") if isinstance(r, dict) else None for r in requests]
            if any(not isinstance(s, str) or not s for s in skus):
                raise inventory_error(400, 25708, "Invalid SKU.")
            if len(set(skus)) != len(skus):
                raise inventory_error(400, 25734, "SKU should be unique in the request.")
            responses = []
            for sku in skus:
                item = self.inventory_item(sku)
                if item is None:
                    responses.append({"statusCode": 404, "sku": sku, "errors": [inventory_entry(
                        25702, f"SKU {sku} is not available in the system", [("sku", sku)])]})
                else:
                    responses.append({"statusCode": 200, "sku": sku, "inventoryItem": item})
            return (200 if all(r["statusCode"] == 200 for r in responses) else 207), {"responses": responses}

    def bulk_update_price_quantity(self, body: Any) -> tuple[int, dict]:
        """bulkUpdatePriceQuantity -> (200 when every part succeeded, else 207; BulkPriceQuantityResponse).

        Each request names a SKU and may set its ship-to-home quantity and update offers. A problem
        with the SKU (unknown, rejected, a bad quantity) fails the whole request in one response without
        offerId; otherwise each offer gets its own response (offerId, sku, statusCode), or the SKU one
        when no offer is named. What succeeded is applied."""
        with self.lock:
            requests = body.get("requests") if isinstance(body, dict) else None
            if not isinstance(requests, list) or not requests:
                raise ApiError(400, [invalid_value("requests")])
            if len(requests) > MAX_BULK:
                raise inventory_error(400, 25709, f"Invalid value for requests. At most {MAX_BULK} requests per call.",
                                      [("0", "requests")])
            responses = []
            for request in requests:
                responses.extend(self._price_quantity(request))
            failed = sum(1 for r in responses if r["statusCode"] != 200)
            self.counters.bulk_updates += 1
            self.counters.bulk_items_failed += failed
            return (207 if failed else 200), {"responses": responses}

    def _price_quantity(self, request: Any) -> list[dict]:
        sku = request.get("sku") if isinstance(request, dict) else None
        if not isinstance(sku, str) or not sku:
            return [{"sku": str(sku or ""), "statusCode": 400, "errors": [invalid_value("sku")]}]
        rejection = self._rejection(sku)
        if rejection is not None:
            return [{"sku": sku, "statusCode": self.rejections[sku].status, "errors": [rejection]}]
        if self.inventory_item(sku) is None:
            return [{"sku": sku, "statusCode": 400, "errors": [inventory_entry(
                25702, f"SKU {sku} is not available in the system", [("sku", sku)])]}]
        ship = request.get("shipToLocationAvailability")
        quantity = ship.get("quantity") if isinstance(ship, dict) else None
        if ship is not None and (not isinstance(ship, dict) or not _integer(quantity) or quantity < 0):
            return [{"sku": sku, "statusCode": 400, "errors": [invalid_value("quantity")]}]
        offers = request.get("offers") or []
        if not isinstance(offers, list) or (ship is None and not offers):
            return [{"sku": sku, "statusCode": 400, "errors": [invalid_value("offers")]}]
        own = set(self.offer_ids(sku))
        if ship is not None and quantity != self.item_quantity(sku):
            over = self._revise(sorted(own))
            if over:
                return [{"sku": sku, "statusCode": 400, "errors": [self._revision_error(o) for o in over]}]
            item = self._items.get(sku) or self.inventory_item(sku)
            item = self._items[sku] = {**item, "availability": {
                **(item.get("availability") or {}),
                "shipToLocationAvailability": {**((item.get("availability") or {}).get("shipToLocationAvailability")
                                                  or {}), "quantity": quantity}}}
            self._inventory_version += 1
        if not offers:
            return [{"sku": sku, "statusCode": 200}]
        answers = []
        for position, change in enumerate(offers):
            offer_id = change.get("offerId") if isinstance(change, dict) else None
            answer = {"offerId": str(offer_id), "sku": sku, "statusCode": 200}
            offer = self.offer(offer_id) if isinstance(offer_id, str) else None
            problem = None
            if offer is None:
                problem = inventory_entry(25713, f"This Offer is not available : {offer_id}.",
                                          [("offerId", str(offer_id))])
            elif offer_id not in own:
                problem = invalid_value("offerId", position)
            else:
                available, price = change.get("availableQuantity"), change.get("price")
                if (available is None and price is None) or (
                        available is not None and (not _integer(available) or available < 0)):
                    problem = invalid_value("availableQuantity", position)
                elif price is not None and not self._valid_price(price):
                    problem = invalid_value("price", position)
                elif self._revise([offer_id]):
                    problem = self._revision_error(offer_id)
                else:
                    target = self._offer_for_change(offer_id)
                    if available is not None:
                        target["availableQuantity"] = available
                    if price is not None:
                        target["pricingSummary"] = {**target.get("pricingSummary", {}),
                                                    "price": {"value": price["value"], "currency": price["currency"]}}
                    self.counters.offers_updated += 1
            if problem is not None:
                answer.update(statusCode=400, errors=[problem])
            answers.append(answer)
        return answers

    def _valid_price(self, price: Any) -> bool:
        if not isinstance(price, dict) or price.get("currency") != self.currency:
            return False
        try:
            value = Decimal(str(price.get("value")))
        except (InvalidOperation, ValueError):
            return False
        return value.is_finite() and value > 0 and value == value.quantize(Decimal("0.01"))

    def get_offers(self, base_url: str, sku: str | None, marketplace_id: str | None = None,
                   listing_format: str | None = None, limit: str | None = None, offset: str | None = None) -> dict:
        """getOffers for a SKU -> Offers (`size`: offers on this page); 404 (25713) when it has none."""
        with self.lock:
            if not sku:
                raise ApiError(400, [invalid_value("sku")])
            limit_value, offset_value = self._paging(limit, offset, 100)
            offers = [self.offer(i) for i in self.offer_ids(sku)] if self.inventory_item(sku) is not None else []
            offers = [o for o in offers if (not marketplace_id or o["marketplaceId"] == marketplace_id)
                      and (not listing_format or o["format"] == listing_format)]
            if not offers:
                raise inventory_error(404, 25713, "This Offer is not available.")
            page, following, previous = self._page(offers, limit_value, offset_value)
            root = f"{base_url}/sell/inventory/v1/offer?sku={_quote(sku)}"
            body: dict[str, Any] = {"href": f"{root}&limit={limit_value}&offset={offset_value}"}
            if following is not None:
                body["next"] = f"{root}&limit={limit_value}&offset={following}"
            if previous is not None:
                body["prev"] = f"{root}&limit={limit_value}&offset={previous}"
            body.update(limit=limit_value, size=len(page), total=len(offers), offers=page)
            return body

    # ================================================================================ stats
    def record(self, route: str, method: str, target: str, status: int) -> None:
        with self.lock:
            self.requests[route] += 1
            self.statuses[status] += 1
            self.recent.append((route, method, target, status))
            if status == 401:
                self.counters.unauthorized += 1
            elif status == 403:
                self.counters.forbidden += 1

    def stats(self) -> dict:
        with self.lock:
            return {
                "seed": self.seed, "orders": self._count, "skus": len(self._alive_skus()),
                "epoch": stamp(self.epoch_ms),
                "requests": dict(self.requests), "statuses": {str(k): v for k, v in self.statuses.items()},
                "quota_day": self._quota_day,
                "quota_usage": [{"per": kind, "who": who, "api": api, "calls": calls}
                                for (kind, who, api), calls in sorted(self.quota_usage.items())],
                "quotas": dict(self.quotas), "user_quotas": dict(self.user_quotas),
                "faults_fired": dict(self.faults_fired), "faults_armed": [asdict(f) for f in self.faults],
                **asdict(self.counters),
            }


def _quote(text: str) -> str:
    """Percent-encode a query value as eBay's own links do (`[`, `]`, `{`, `|`, `}` encoded; `:` and
    `,` kept)."""
    from urllib.parse import quote

    return quote(text, safe=":,")


def basic_credentials(header: str | None) -> tuple[str | None, str | None]:
    """(client_id, client_secret) from an `Authorization: Basic ...` header, (None, None) otherwise."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        client_id, colon, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    return (client_id, secret) if colon else (None, None)


__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_GRANT_SCOPES",
    "DEFAULT_USER",
    "ApiError",
    "EbayState",
    "Fault",
    "Rejection",
    "scope",
]
