"""Everything the JTL-FFN simulator remembers: OAuth clients, authorisation codes, access and refresh
tokens (grouped in families, one per authorisation), the merchant's seeded data and what the API and
the test hooks changed in it, armed faults and counters.

Plain Python behind one re-entrant lock (uvicorn serves from its own thread while a test reads the state
and arms faults), so tests can drive it directly as well as through the `/_sandbox/*` endpoints.

OAuth as the FFN documentation describes it: authorisation code grant with the application's client
id and secret in HTTP Basic; every refresh answers with a new refresh token and spends the old one.
Spending a refresh token a second time is treated as theft, the way a careful provider does: the
request fails with `invalid_grant` and the whole family (every access and refresh token descended from
that authorisation) is revoked, so the merchant has to authorise the application again.
"""

from __future__ import annotations

import base64
import random
import re
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from ..admin import FaultQueue, FaultSpec
from .data import CLOSED_OUTBOUND, DEFAULT_FULFILLER_ID, DEFAULT_MERCHANT_ID, Catalogue, default_counts, timestamp

DEFAULT_CLIENT_ID = "sandbox-ffn-app"
DEFAULT_CLIENT_SECRET = "sbx/FFN+secret=Value%2F"
DEFAULT_TOKEN_TTL = 1800.0
DEFAULT_REFRESH_TTL = 30 * 86400.0
DEFAULT_CODE_TTL = 600.0
DEFAULT_TOP = 50
MAX_TOP = 200
DEFAULT_UPDATES_PAGE_SIZE = 100
SCOPES = ("ffn.merchant.read", "ffn.merchant.write")

FAULT_KINDS = ("http_500", "http_502", "http_503", "http_429", "expire_tokens", "slow", "lost_response")
# Route names a fault can aim at, besides "api" (every merchant API route), "token" and "any".
ROUTES = ("products", "product", "stocks", "stock", "stocks_in_warehouse", "warehouses", "shipping_methods",
          "inbounds", "inbound_updates", "inbound", "inbound_shipping_notifications", "outbounds",
          "create_outbound", "outbound_updates", "outbound", "shipping_notifications")
FAULT_TARGETS = (*ROUTES, "api", "token", "any")

# $filter fields each list accepts (the ones the public API documents for the same lists).
FILTER_FIELDS = {
    "products": ("jfsku", "merchantId", "name", "merchantSku", "productGroup", "manufacturer", "condition",
                 "identifier/ean", "identifier/isbn", "identifier/upc", "identifier/asin",
                 "identifier/mpn/manufacturer", "identifier/mpn/partNumber", "specifications/isBestBefore",
                 "attributes/key", "attributes/value"),
    "stocks": ("jfsku", "merchantSku", "stockLevel", "stockLevelAnnounced", "stockLevelReserved", "stockLevelBlocked",
               "stockReservedDetails/outboundId", "stockAnnouncedDetails/inboundId", "warehouses/warehouseId",
               "warehouses/stockLevel"),
    "stocks_in_warehouse": ("warehouseId", "stockLevel", "stockLevelAnnounced", "stockLevelReserved",
                            "stockLevelBlocked", "stockReservedDetails/outboundId", "stockAnnouncedDetails/inboundId"),
    "warehouses": ("warehouseId", "fulfillerId", "name", "address/city", "address/company"),
    "shipping_methods": ("shippingMethodId", "name", "carrierCode", "carrierName", "shippingType"),
    "inbounds": ("inboundId", "merchantId", "status", "merchantInboundNumber", "warehouseId", "purchaseOrderNumber",
                 "externalInboundNumber", "items/inboundItemId", "items/jfsku", "items/supplierSku"),
    "outbounds": ("outboundId", "merchantId", "merchantOutboundNumber", "warehouseId", "externalNumber", "status",
                  "shippingAddress/lastname", "shippingAddress/city", "items/jfsku", "items/merchantSku",
                  "items/outboundItemId"),
}


class ApiError(Exception):
    """An answer in the FFN error shape: `{"errorCode": {"code", "description"}, "errorMessages":
    [{"message"}], "errorMetadata": {...}}` with `status`."""

    def __init__(self, status: int, code: str, description: str, messages: list[str] | None = None,
                 metadata: dict | None = None, headers: dict | None = None):
        super().__init__(f"{status} {code}")
        self.status, self.code, self.description = status, code, description
        self.messages = messages or [description]
        self.metadata = metadata or {}
        self.headers = headers

    def body(self) -> dict:
        # The public examples spell the last key `errorMetadata` (the schema says errorMetaData).
        return {"errorCode": {"code": self.code, "description": self.description},
                "errorMessages": [{"message": m} for m in self.messages], "errorMetadata": self.metadata}


def validation_error(messages: list[str], metadata: dict | None = None) -> ApiError:
    return ApiError(400, "Shared_ModelValidation", "The request did not pass validation", messages, metadata)


@dataclass
class Fault(FaultSpec):
    """A misbehaviour for the next `count` matching requests, after letting `skip` of them through.

    target: a route name (see ROUTES), "api" (any merchant API route), "token" (POST /token) or "any".
    kinds: http_500 (FFN error body), http_502 (an HTML gateway page), http_503 (Retry-After when
    `retry_after` is set), http_429 (Retry-After: `retry_after`, default 1), expire_tokens (every access
    token expires now; the request meets its expired token), slow (answers after `seconds`),
    lost_response (the request is carried out, then the answer is replaced by a 502: a write whose
    outcome the client cannot know).
    """

    KINDS = FAULT_KINDS
    TARGETS = FAULT_TARGETS

    target: str = "api"
    seconds: float = 1.0

    def matches(self, route: str) -> bool:
        """As FaultSpec.matches, and "api" matches every route but the token endpoint."""
        return self.target in ("any", route) or (self.target == "api" and route != "token")


@dataclass
class _Family:
    """One authorisation: every token pair that descends from one consent."""

    client_id: str
    scopes: tuple[str, ...]
    revoked: bool = False
    refreshes: int = 0
    latest_refresh: str | None = None


@dataclass
class _RefreshToken:
    family: int
    expires_at: float
    used: bool = False


@dataclass
class _AccessToken:
    family: int
    expires_at: float


@dataclass
class _Code:
    client_id: str
    redirect_uri: str | None
    scopes: tuple[str, ...]
    expires_at: float


@dataclass
class _Counters:
    tokens_issued: int = 0
    codes_exchanged: int = 0
    refreshes: int = 0
    refresh_reuse_detected: int = 0
    families_revoked: int = 0
    outbounds_created: int = 0
    duplicate_outbounds: int = 0
    shipping_notifications_added: int = 0
    items_served: int = 0


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def parse_timestamp(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip().replace(" ", "+"))  # a '+' sent unencoded arrives as a space
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_CLAUSE = re.compile(r"\s*([A-Za-z][A-Za-z/]*)\s+eq\s+('(?:[^']|'')*'|-?\d+(?:\.\d+)?|true|false|null)\s*",
                     re.IGNORECASE)


def parse_filter(text: str, allowed: tuple[str, ...]) -> list[tuple[list[str], Any]]:
    """An OData `$filter` of `field eq literal` clauses joined by `and` -> [(path, value)].
    Raises ApiError (400) for anything else or a field the list does not allow."""
    clauses: list[tuple[list[str], Any]] = []
    position = 0
    while True:
        match = _CLAUSE.match(text, position)
        if match is None:
            raise validation_error([f"$filter: cannot read the expression at position {position}"])
        name, literal = match.group(1), match.group(2)
        if name not in allowed:
            raise validation_error([f"$filter: field '{name}' cannot be filtered on (allowed: {', '.join(allowed)})"])
        if literal.startswith("'"):
            value: Any = literal[1:-1].replace("''", "'")
        elif literal.lower() in ("true", "false"):
            value = literal.lower() == "true"
        elif literal.lower() == "null":
            value = None
        else:
            value = float(literal)
        clauses.append((name.split("/"), value))
        position = match.end()
        if position == len(text):
            return clauses
        joiner = re.compile(r"and\s+", re.IGNORECASE).match(text, position)
        if joiner is None:
            raise validation_error([f"$filter: expected 'and' at position {position}"])
        position = joiner.end()


def _values(obj: Any, path: list[str]) -> list[Any]:
    """Every value at `path` in `obj`, stepping into lists (so items/jfsku matches any item)."""
    current = [obj]
    for key in path:
        following = []
        for node in current:
            for element in node if isinstance(node, list) else [node]:
                if isinstance(element, dict) and key in element:
                    following.append(element[key])
        current = following
    flat: list[Any] = []
    for value in current:
        flat.extend(value if isinstance(value, list) else [value])
    return flat


def matches_filter(obj: dict, clauses: list[tuple[list[str], Any]]) -> bool:
    for path, wanted in clauses:
        found = _values(obj, path)
        if isinstance(wanted, float):
            if not any(isinstance(v, (int, float)) and not isinstance(v, bool) and float(v) == wanted for v in found):
                return False
        elif wanted not in found:
            return False
    return True


class JtlFfnState(FaultQueue):
    """One simulated FFN merchant account and the OAuth server in front of it.

    `token_ttl` is the `expires_in` of new access tokens (seconds, fractions allowed for tests) and is
    enforced; refresh tokens live `refresh_ttl` and are single-use. `max_top` bounds `$top`.
    `inbounds`/`outbounds`: how many seeded ones (default: a few per hundred products). `page_links`
    False leaves `nextPageLink` out of paged answers (clients must then count `$skip` themselves).
    """

    fault_type = Fault  # armed, cleared and taken (by route, see Fault.matches) as FaultQueue does

    def __init__(self, seed: int = 42, size: int = 1000, *, clients: dict[str, str] | None = None,
                 token_ttl: float = DEFAULT_TOKEN_TTL, refresh_ttl: float = DEFAULT_REFRESH_TTL,
                 max_top: int = MAX_TOP, updates_page_size: int = DEFAULT_UPDATES_PAGE_SIZE,
                 warehouses: int = 3, inbounds: int | None = None, outbounds: int | None = None,
                 merchant_id: str = DEFAULT_MERCHANT_ID, fulfiller_id: str = DEFAULT_FULFILLER_ID,
                 redirect_uri: str | None = None, page_links: bool = True):
        self.lock = threading.RLock()
        self.clients = dict(clients or {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET})
        self.token_ttl = token_ttl
        self.refresh_ttl = refresh_ttl
        self.max_top = max_top
        self.updates_page_size = updates_page_size
        self.redirect_uri = redirect_uri
        self.page_links = page_links
        self._shape = {"warehouse_count": warehouses, "merchant_id": merchant_id, "fulfiller_id": fulfiller_id}
        self._counts = (inbounds, outbounds)
        self.seed, self.size = seed, size
        self.reset(seed, size)

    # ------------------------------------------------------------------ data

    def reset(self, seed: int | None = None, size: int | None = None) -> None:
        """Regenerate the seeded data and forget every token, fault, change and counter."""
        with self.lock:
            self.seed = self.seed if seed is None else seed
            self.size = self.size if size is None else size
            self.catalogue = Catalogue(self.seed, self.size, **self._shape)
            self.warehouses = self.catalogue.warehouses
            self.shipping_methods = self.catalogue.shipping_methods
            self._warehouse_index = {w["warehouseId"]: k for k, w in enumerate(self.warehouses)}
            inbound_count, outbound_count = default_counts(self.size)
            inbound_count = self._counts[0] if self._counts[0] is not None else inbound_count
            outbound_count = self._counts[1] if self._counts[1] is not None else outbound_count
            self.inbounds: list[dict] = []
            self.inbound_notices: dict[str, list[dict]] = {}
            for number in range(inbound_count):
                inbound, notices = self.catalogue.inbound(number, inbound_count)
                self.inbounds.append(inbound)
                self.inbound_notices[inbound["inboundId"]] = notices
            self.outbounds: list[dict] = []
            self.outbound_notices: dict[str, list[dict]] = {}
            for number in range(outbound_count):
                outbound, notices = self.catalogue.outbound(number, outbound_count)
                self.outbounds.append(outbound)
                self.outbound_notices[outbound["outboundId"]] = notices
            self._inbound_by_id = {i["inboundId"]: i for i in self.inbounds}
            self._outbound_by_id = {o["outboundId"]: o for o in self.outbounds}
            self._outbound_by_number = {o["merchantOutboundNumber"]: o for o in self.outbounds}
            # Open lines by jfsku: what stock reservations (outbounds) and announcements (inbounds) are.
            self._reserving: dict[str, list[tuple[dict, dict]]] = {}
            for outbound in self.outbounds:
                self._index_lines(self._reserving, outbound)
            self._announcing: dict[str, list[tuple[dict, dict]]] = {}
            for inbound in self.inbounds:
                self._index_lines(self._announcing, inbound)
            self._level_changes: dict[int, dict[int, float]] = {}  # product index -> warehouse -> delta
            self._stock_touched: dict[int, str] = {}  # product index -> fulfillerTimestamp of its last change
            self._warehouse_members: dict[int, list[int]] | None = None
            self._notice_number = 10 ** 6
            # OAuth
            self._families: list[_Family] = []
            self._refresh_tokens: dict[str, _RefreshToken] = {}
            self._access_tokens: dict[str, _AccessToken] = {}
            self._codes: dict[str, _Code] = {}
            self.issued_secrets: list[str] = []  # every token and code handed out, for leak checks
            # faults and counters
            self.faults: list[Fault] = []
            self.counters = _Counters()
            self.requests: Counter = Counter()
            self.statuses: Counter = Counter()
            self.faults_fired: Counter = Counter()
            self.recent: deque = deque(maxlen=5000)  # (route, method, path?query)

    @staticmethod
    def _index_lines(index: dict, document: dict) -> None:
        for item in document["items"]:
            if item.get("jfsku"):
                index.setdefault(item["jfsku"], []).append((document, item))

    # ------------------------------------------------------------------ OAuth

    def _new_access_token(self) -> str:
        header = base64.urlsafe_b64encode(orjson.dumps({"typ": "JWT", "alg": "RS256"})).rstrip(b"=").decode()
        claims = base64.urlsafe_b64encode(orjson.dumps({"jti": secrets.token_hex(20), "scopes": list(SCOPES)}))
        return f"{header}.{claims.rstrip(b'=').decode()}.{secrets.token_urlsafe(64)}"

    def _issue_pair(self, family_id: int) -> dict:
        family = self._families[family_id]
        access, refresh = self._new_access_token(), "def50200" + secrets.token_hex(96)
        now = time.monotonic()
        self._access_tokens[access] = _AccessToken(family_id, now + self.token_ttl)
        self._refresh_tokens[refresh] = _RefreshToken(family_id, now + self.refresh_ttl)
        family.latest_refresh = refresh
        self.issued_secrets += [access, refresh]
        self.counters.tokens_issued += 1
        return {"token_type": "Bearer", "expires_in": _number(self.token_ttl), "access_token": access,
                "refresh_token": refresh}

    def authorize(self, client_id: str | None = None, redirect_uri: str | None = None,
                  scopes: tuple[str, ...] = SCOPES) -> str:
        """The merchant consents in the browser: an authorisation code for the application (test hook)."""
        with self.lock:
            client_id = client_id or next(iter(self.clients))
            code = "def50200" + secrets.token_hex(64)
            self._codes[code] = _Code(client_id, redirect_uri, tuple(scopes), time.monotonic() + DEFAULT_CODE_TTL)
            self.issued_secrets.append(code)
            return code

    def grant(self, client_id: str | None = None, scopes: tuple[str, ...] = SCOPES) -> dict:
        """A new authorisation, as if the merchant consented and the code was exchanged: the token
        response (its `refresh_token` is what a user enters once). Test hook."""
        with self.lock:
            client_id = client_id or next(iter(self.clients))
            self._families.append(_Family(client_id, tuple(scopes)))
            return self._issue_pair(len(self._families) - 1)

    def check_client(self, client_id: str | None, client_secret: str | None) -> bool:
        expected = self.clients.get(client_id or "")
        return expected is not None and secrets.compare_digest(expected.encode(), (client_secret or "").encode())

    def token_request(self, client_id: str, form: dict[str, str]) -> tuple[int, dict]:
        """POST /token for an authenticated client: (status, body)."""
        grant_type = form.get("grant_type")
        with self.lock:
            if grant_type == "authorization_code":
                return self._exchange_code(client_id, form)
            if grant_type == "refresh_token":
                return self._refresh(client_id, form.get("refresh_token") or "")
        if grant_type == "client_credentials":
            # The FFN documentation: only the code grant (with a user) is supported, and says 401.
            return 401, {"error": "unauthorized_client",
                         "error_description": "This server does not issue tokens for the client_credentials grant; "
                                              "use the authorization code grant"}
        return 400, {"error": "unsupported_grant_type",
                     "error_description": "grant_type must be authorization_code or refresh_token"}

    def _exchange_code(self, client_id: str, form: dict[str, str]) -> tuple[int, dict]:
        code = self._codes.pop(form.get("code") or "", None)  # single use whatever happens
        if code is None or code.client_id != client_id or time.monotonic() >= code.expires_at:
            return 400, _invalid_grant("The authorisation code is unknown, expired or used already")
        expected_redirect = code.redirect_uri or self.redirect_uri
        if expected_redirect and form.get("redirect_uri") != expected_redirect:
            return 400, _invalid_grant("redirect_uri does not match the one of the authorisation request")
        self._families.append(_Family(client_id, code.scopes))
        self.counters.codes_exchanged += 1
        return 200, self._issue_pair(len(self._families) - 1)

    def _refresh(self, client_id: str, token: str) -> tuple[int, dict]:
        record = self._refresh_tokens.get(token)
        if record is None:
            return 400, _invalid_grant("The refresh token is unknown")
        family = self._families[record.family]
        if family.client_id != client_id:
            return 400, _invalid_grant("The refresh token was not issued to this client")
        if family.revoked:
            return 400, _invalid_grant("The refresh token has been revoked")
        if record.used:
            # Someone spends a token a second time: assume it leaked and revoke the whole family.
            self.counters.refresh_reuse_detected += 1
            self.revoke_family(record.family)
            return 400, _invalid_grant("The refresh token has been used already; the authorisation is revoked")
        if time.monotonic() >= record.expires_at:
            return 400, _invalid_grant("The refresh token has expired")
        record.used = True
        family.refreshes += 1
        self.counters.refreshes += 1
        return 200, self._issue_pair(record.family)

    def revoke_family(self, family_id: int) -> None:
        with self.lock:
            family = self._families[family_id]
            if not family.revoked:
                family.revoked = True
                self.counters.families_revoked += 1

    def access_status(self, token: str | None) -> tuple[str, tuple[str, ...]]:
        """("valid" | "expired" | "revoked" | "invalid", scopes) for a bearer token."""
        with self.lock:
            record = self._access_tokens.get(token or "")
            if record is None:
                return "invalid", ()
            family = self._families[record.family]
            if family.revoked:
                return "revoked", ()
            if time.monotonic() >= record.expires_at:
                return "expired", ()
            return "valid", family.scopes

    def refresh_token_status(self, token: str) -> str:
        """"valid", "used", "revoked", "expired" or "unknown" (test helper)."""
        with self.lock:
            record = self._refresh_tokens.get(token)
            if record is None:
                return "unknown"
            if self._families[record.family].revoked:
                return "revoked"
            if record.used:
                return "used"
            return "expired" if time.monotonic() >= record.expires_at else "valid"

    def family_of(self, refresh_token: str) -> int | None:
        with self.lock:
            record = self._refresh_tokens.get(refresh_token)
            return None if record is None else record.family

    def latest_refresh_token(self, family_id: int) -> str | None:
        with self.lock:
            return self._families[family_id].latest_refresh

    def expire_access_tokens(self) -> None:
        with self.lock:
            for record in self._access_tokens.values():
                record.expires_at = 0.0

    # ------------------------------------------------------------------ products and stock

    def product(self, jfsku: str) -> dict:
        index = self.catalogue.index_of(jfsku)
        if index is None:
            raise ApiError(404, "Products_ProductNotFound", "No product has this jfsku",
                           [f"Product '{jfsku}' does not exist"], {"Jfsku": jfsku})
        return self.catalogue.product(index)

    def _stock_lines(self, index: int) -> dict[int, dict]:
        """Warehouse index -> StockInWarehouse for product `index`, current."""
        jfsku, _, merchant_sku, _ = self.catalogue.summary(index)
        levels: dict[int, list[float]] = {e.warehouse: [e.level, e.blocked]
                                          for e in self.catalogue.stock_entries(index)}
        for warehouse, delta in self._level_changes.get(index, {}).items():
            levels.setdefault(warehouse, [0, 0])[0] += delta
        reserved: dict[int, list[dict]] = {}
        for outbound, item in self._reserving.get(jfsku, ()):
            if outbound["status"] not in CLOSED_OUTBOUND and item["quantityOpen"] > 0:
                reserved.setdefault(self._warehouse_index[outbound["warehouseId"]], []).append(
                    {"outboundId": outbound["outboundId"], "outboundItemId": item["outboundItemId"],
                     "quantityReserved": item["quantityOpen"]})
        announced: dict[int, list[dict]] = {}
        for inbound, item in self._announcing.get(jfsku, ()):
            if inbound["status"] != "Closed" and item["quantityOpen"] > 0:
                announced.setdefault(self._warehouse_index[inbound["warehouseId"]], []).append(
                    {"inboundId": inbound["inboundId"], "inboundItemId": item["inboundItemId"],
                     "quantityAnnounced": item["quantityOpen"]})
        stamp = self._stock_touched.get(index) or timestamp(
            datetime(2025, 3, 1, tzinfo=UTC) - timedelta(minutes=index % 5000))
        lines = {}
        for warehouse in sorted(set(levels) | set(reserved) | set(announced)):
            level, blocked = levels.get(warehouse, [0, 0])
            reservations, announcements = reserved.get(warehouse, []), announced.get(warehouse, [])
            lines[warehouse] = {
                "jfsku": jfsku, "warehouseId": self.warehouses[warehouse]["warehouseId"],
                "stockLevel": _number(level),
                "stockLevelReserved": _number(sum(r["quantityReserved"] for r in reservations)),
                "stockLevelAnnounced": _number(sum(a["quantityAnnounced"] for a in announcements)),
                "stockLevelBlocked": _number(blocked),
                "stockLevelDetails": [{"batch": None, "bestBefore": None, "stockLevel": _number(level),
                                       "stockLevelBlocked": _number(blocked)}] if level or blocked else [],
                "stockReservedDetails": reservations, "stockAnnouncedDetails": announcements,
                "merchantSku": merchant_sku, "fulfillerTimestamp": stamp,
            }
        return lines

    def stock_of(self, index: int) -> dict:
        """The Stock document of product `index`: totals over its warehouses, and each warehouse."""
        jfsku, _, merchant_sku, _ = self.catalogue.summary(index)
        lines = list(self._stock_lines(index).values())

        def total(key: str) -> int | float:
            return _number(sum(line[key] for line in lines))

        return {"jfsku": jfsku, "stockLevel": total("stockLevel"), "stockLevelReserved": total("stockLevelReserved"),
                "stockLevelBlocked": total("stockLevelBlocked"), "stockLevelAnnounced": total("stockLevelAnnounced"),
                "stockLevelDetails": [d for line in lines for d in line["stockLevelDetails"]],
                "stockReservedDetails": [d for line in lines for d in line["stockReservedDetails"]],
                "stockAnnouncedDetails": [d for line in lines for d in line["stockAnnouncedDetails"]],
                "warehouses": lines, "merchantSku": merchant_sku,
                "fulfillerTimestamp": max((line["fulfillerTimestamp"] for line in lines), default=None)}

    def stock(self, jfsku: str) -> dict:
        with self.lock:
            index = self.catalogue.index_of(jfsku)
            if index is None:
                raise ApiError(404, "Products_ProductNotFound", "No product has this jfsku",
                               [f"Product '{jfsku}' does not exist"], {"Jfsku": jfsku})
            return self.stock_of(index)

    def warehouse_index(self, warehouse_id: str) -> int:
        try:
            return self._warehouse_index[warehouse_id]
        except KeyError:
            raise ApiError(404, "Warehouses_WarehouseNotFound", "No warehouse has this id",
                           [f"Warehouse '{warehouse_id}' does not exist"], {"WarehouseId": warehouse_id}) from None

    def _members(self, warehouse: int) -> list[int]:
        """Product indexes that may have a stock line in `warehouse` (computed once, kept up to date;
        a superset: lines of closed outbounds and emptied announcements count)."""
        if self._warehouse_members is None:
            members: dict[int, set[int]] = {k: set() for k in range(len(self.warehouses))}
            for index in range(self.size):
                for entry in self.catalogue.stock_entries(index):
                    members[entry.warehouse].add(index)
            for lines_index in (self._reserving, self._announcing):
                for jfsku, lines in lines_index.items():
                    index = self.catalogue.index_of(jfsku)
                    for document, _ in lines:
                        members[self._warehouse_index[document["warehouseId"]]].add(index)
            for index, changes in self._level_changes.items():
                for warehouse in changes:
                    members[warehouse].add(index)
            self._warehouse_members = {k: sorted(v) for k, v in members.items()}
        return self._warehouse_members[warehouse]

    def _touch_member(self, index: int, warehouse: int) -> None:
        if self._warehouse_members is not None and index not in self._warehouse_members[warehouse]:
            self._warehouse_members[warehouse] = sorted({*self._warehouse_members[warehouse], index})

    def adjust_stock(self, jfsku: str, warehouse_id: str, delta: float) -> dict:
        """The fulfiller counts `delta` more (or fewer) pieces in a warehouse (test hook)."""
        with self.lock:
            index = self.catalogue.index_of(jfsku)
            if index is None:
                raise ApiError(404, "Products_ProductNotFound", "No product has this jfsku", metadata={"Jfsku": jfsku})
            self._change_level(index, self.warehouse_index(warehouse_id), delta)
            return self.stock_of(index)

    def _change_level(self, index: int, warehouse: int, delta: float) -> None:
        changes = self._level_changes.setdefault(index, {})
        changes[warehouse] = changes.get(warehouse, 0) + delta
        self._stock_touched[index] = timestamp(datetime.now(UTC))
        self._touch_member(index, warehouse)

    # ------------------------------------------------------------------ lists

    def list_page(self, kind: str, top: int, skip: int, filter_text: str | None,
                  warehouse_id: str | None = None) -> tuple[list[dict], int]:
        """One page of a paged list: (items, total matching)."""
        clauses = parse_filter(filter_text, FILTER_FIELDS[kind]) if filter_text else []
        with self.lock:
            if kind in ("products", "stocks"):
                make = self.catalogue.product if kind == "products" else self.stock_of
                jfsku = next((v for p, v in clauses if p == ["jfsku"] and isinstance(v, str)), None)
                if jfsku is not None:  # the common lookup, without a scan
                    index = self.catalogue.index_of(jfsku)
                    candidates = [] if index is None else [make(index)]
                    matching = [c for c in candidates if matches_filter(c, clauses)]
                    page = matching[skip:skip + top]
                    total = len(matching)
                elif clauses:
                    matching = [doc for doc in (make(i) for i in range(self.size)) if matches_filter(doc, clauses)]
                    page, total = matching[skip:skip + top], len(matching)
                else:
                    page, total = [make(i) for i in range(skip, min(skip + top, self.size))], self.size
            elif kind == "stocks_in_warehouse":
                warehouse = self.warehouse_index(warehouse_id or "")
                # Members are a superset (a closed outbound leaves no line): keep the lines that exist.
                lines = (held.get(warehouse) for held in map(self._stock_lines, self._members(warehouse)))
                matching = [line for line in lines if line is not None and matches_filter(line, clauses)]
                page, total = matching[skip:skip + top], len(matching)
            else:
                documents = {"warehouses": self.warehouses, "shipping_methods": self.shipping_methods,
                             "inbounds": self.inbounds, "outbounds": self.outbounds}[kind]
                matching = [d for d in documents if matches_filter(d, clauses)] if clauses else documents
                page, total = matching[skip:skip + top], len(matching)
            self.counters.items_served += len(page)
            return orjson.loads(orjson.dumps(page)), total  # a snapshot: later changes do not leak into it

    def updates(self, kind: str, from_text: str | None, to_text: str | None, page: int) -> dict:
        """GET …/updates: inbounds or outbounds changed in [fromDate, toDate), oldest change first,
        `updates_page_size` a page; `to` defaults to now and `from` to a day before it."""
        try:
            to = parse_timestamp(to_text) if to_text else datetime.now(UTC)
            start = parse_timestamp(from_text) if from_text else to - timedelta(days=1)
        except ValueError:
            raise validation_error(["fromDate and toDate must be ISO 8601 date-times"]) from None
        # Stamps are kept to the millisecond: so is the window, or a chunk link would cut it differently.
        start, to = (moment.replace(microsecond=moment.microsecond // 1000 * 1000) for moment in (start, to))
        if start > to:
            raise validation_error(["fromDate must not be after toDate"])
        if page < 1:
            raise validation_error(["page starts at 1"])
        with self.lock:
            documents = self.inbounds if kind == "inbounds" else self.outbounds
            changed = []
            for position, document in enumerate(documents):  # ties (same millisecond): creation order
                info = document["modificationInfo"]
                moment = parse_timestamp(info.get("updatedAt") or info["createdAt"])
                if start <= moment < to:
                    changed.append((moment, position, document))
            changed.sort(key=lambda entry: entry[:2])
            size = self.updates_page_size
            chunk = [document for _, _, document in changed[(page - 1) * size:page * size]]
            self.counters.items_served += len(chunk)
            return {"from": timestamp(start), "to": timestamp(to), "data": orjson.loads(orjson.dumps(chunk)),
                    "moreDataAvailable": page * size < len(changed)}

    def inbound(self, inbound_id: str) -> dict:
        with self.lock:
            found = self._inbound_by_id.get(inbound_id)
            if found is None:
                raise ApiError(404, "Inbounds_InboundNotFound", "No inbound has this id",
                               [f"Inbound '{inbound_id}' does not exist"], {"InboundId": inbound_id})
            return orjson.loads(orjson.dumps(found))

    def inbound_shipping_notifications(self, inbound_id: str) -> list[dict]:
        with self.lock:
            self.inbound(inbound_id)
            return orjson.loads(orjson.dumps(self.inbound_notices[inbound_id]))

    def outbound(self, outbound_id: str) -> dict:
        with self.lock:
            return orjson.loads(orjson.dumps(self._outbound(outbound_id)))

    def _outbound(self, outbound_id: str) -> dict:
        found = self._outbound_by_id.get(outbound_id)
        if found is None:
            raise ApiError(404, "Outbounds_OutboundNotFound", "No outbound has this id",
                           [f"Outbound '{outbound_id}' does not exist"], {"OutboundId": outbound_id})
        return found

    def outbound_by_number(self, merchant_outbound_number: str) -> dict | None:
        with self.lock:
            return self._outbound_by_number.get(merchant_outbound_number)

    def shipping_notifications(self, outbound_id: str) -> list[dict]:
        with self.lock:
            self._outbound(outbound_id)
            return orjson.loads(orjson.dumps(self.outbound_notices[outbound_id]))

    # ------------------------------------------------------------------ writes

    def create_outbound(self, body: Any) -> dict:
        """POST /api/v1/merchant/outbounds. `merchantOutboundNumber` is unique per merchant: a second
        outbound with the same number is refused with 400 Shared_DuplicateKey (the duplicate-key error
        the public API documents; it documents no 409), and nothing changes."""
        with self.lock:
            fields = _validated_outbound(body, self)
            number = fields["merchantOutboundNumber"]
            if number in self._outbound_by_number:
                self.counters.duplicate_outbounds += 1
                raise ApiError(400, "Shared_DuplicateKey", "An object with this key exists already",
                               [f"An outbound with merchantOutboundNumber '{number}' exists already"],
                               {"MerchantOutboundNumber": number})
            now = datetime.now(UTC)
            sequence = len(self.outbounds)
            outbound = {
                "outboundId": self.catalogue.outbound_id(sequence),
                "merchantId": self.catalogue.merchant_id,
                "status": "Pending",
                "priority": 0,
                "currency": "EUR",
                "attributes": [],
                "attachments": [],
                "relatedReturns": [],
                **{k: v for k, v in fields.items() if k != "items"},
                "items": fields["items"],
                "modificationInfo": {"createdAt": timestamp(now), "updatedAt": timestamp(now), "state": "New"},
                "statusTimestamp": {**dict.fromkeys(("pending", "preparation", "acknowledged", "locked", "pickprocess",
                                                     "shipped", "partiallyShipped", "canceled", "partiallyCanceled")),
                                    "pending": timestamp(now)},
            }
            for name in ("externalNumber", "internalNote", "externalNote", "premiumType", "salesChannel",
                         "desiredDeliveryDate", "shippingMethodId", "shippingType", "senderAddress",
                         "cancelReasonCode", "cancelReason", "shippingFee", "orderValue"):
                outbound.setdefault(name, None)
            self.outbounds.append(outbound)
            self._outbound_by_id[outbound["outboundId"]] = outbound
            self._outbound_by_number[number] = outbound
            self.outbound_notices[outbound["outboundId"]] = []
            self._index_lines(self._reserving, outbound)
            warehouse = self._warehouse_index[outbound["warehouseId"]]
            for item in outbound["items"]:
                if item.get("jfsku"):
                    self._touch_member(self.catalogue.index_of(item["jfsku"]), warehouse)
            self.counters.outbounds_created += 1
            return orjson.loads(orjson.dumps(outbound))

    def assign_merchant_sku(self, index: int, merchant_sku: str) -> str:
        """Give product `index` the merchant's own SKU (the products a store ships through FFN); returns
        its jfsku."""
        with self.lock:
            self.catalogue.merchant_skus[index] = merchant_sku
            self.catalogue._summaries.pop(index, None)
            return self.catalogue.jfsku(index)

    def ship(self, outbound_id: str, items: dict[str, float] | None = None, *, shipping_method_id: str | None = None,
             tracking_number: str | None = None, freight_option: str = "Parcel", weight: float | None = None) -> dict:
        """The warehouse ships an outbound (test hook): a shipping notification for `items` (jfsku ->
        quantity; None: everything still open). Fewer than all open pieces is a partial shipment and
        leaves the outbound PartiallyShipped. Stock falls and reservations shrink accordingly."""
        with self.lock:
            outbound = self._outbound(outbound_id)
            if outbound["status"] in CLOSED_OUTBOUND:
                raise ApiError(403, "Outbounds_OutboundShippingNotificationStatusForbidden",
                               "The outbound's status does not allow a shipping notification",
                               [f"Outbound '{outbound_id}' is {outbound['status']}"], {"OutboundId": outbound_id})
            open_by_jfsku: dict[str, float] = {}
            for item in outbound["items"]:
                if item.get("jfsku") and item["quantityOpen"] > 0:
                    open_by_jfsku[item["jfsku"]] = open_by_jfsku.get(item["jfsku"], 0) + item["quantityOpen"]
            wanted = dict(open_by_jfsku) if items is None else {k: v for k, v in dict(items).items() if v}
            short = [jfsku for jfsku, quantity in wanted.items()
                     if quantity > open_by_jfsku.get(jfsku, 0) or quantity < 0]
            if short or not wanted:
                raise ApiError(400, "Outbounds_OutboundShippingNotificationNotEnoughQuantityOpen",
                               "More pieces than the outbound still has open",
                               [f"Not enough open quantity for {', '.join(short) or 'any item'}"],
                               {"OutboundId": outbound_id})
            method = self._method_for(outbound, shipping_method_id)
            warehouse = self._warehouse_index[outbound["warehouseId"]]
            for jfsku, quantity in wanted.items():
                remaining = quantity
                for item in outbound["items"]:
                    if item.get("jfsku") == jfsku and remaining > 0:
                        taken = min(item["quantityOpen"], remaining)
                        item["quantityOpen"] = _number(item["quantityOpen"] - taken)
                        remaining -= taken
                self._change_level(self.catalogue.index_of(jfsku), warehouse, -quantity)
            now = datetime.now(UTC)
            done = all(item["quantityOpen"] <= 0 for item in outbound["items"] if item.get("jfsku"))
            outbound["status"] = "Shipped" if done else "PartiallyShipped"
            outbound["statusTimestamp"]["shipped" if done else "partiallyShipped"] = timestamp(now)
            outbound["modificationInfo"].update(updatedAt=timestamp(now), state="Modified")
            self._notice_number += 1
            rng = random.Random(f"jtlffn:ship:{self.seed}:{self._notice_number}")
            tracking = tracking_number or f"00340434{rng.randrange(10 ** 11, 10 ** 12)}"
            notice = self.catalogue.shipping_notice(
                outbound, list(wanted.items()), method, tracking, now,
                self.catalogue.notice_id(self._notice_number), f"SH-{self._notice_number}", freight_option, weight)
            self.outbound_notices[outbound_id].append(notice)
            self.counters.shipping_notifications_added += 1
            return orjson.loads(orjson.dumps(notice))

    def _method_for(self, outbound: dict, shipping_method_id: str | None) -> dict:
        wanted = shipping_method_id or outbound.get("shippingMethodId")
        if wanted:
            method = next((m for m in self.shipping_methods if m["shippingMethodId"] == wanted), None)
            if method is None:
                raise ApiError(404, "ShippingMethods_ShippingMethodNotFound", "No shipping method has this id",
                               metadata={"ShippingMethodId": wanted})
            return method
        return next((m for m in self.shipping_methods if m["shippingType"] == outbound.get("shippingType")),
                    self.shipping_methods[0])

    def receive(self, inbound_id: str, items: dict[str, float] | None = None) -> dict:
        """Goods of an inbound arrive at the warehouse (test hook): `items` jfsku -> quantity (None:
        everything still open). Stock rises, the announcement shrinks, the status follows."""
        with self.lock:
            inbound = self._inbound_by_id.get(inbound_id)
            if inbound is None:
                raise ApiError(404, "Inbounds_InboundNotFound", "No inbound has this id",
                               metadata={"InboundId": inbound_id})
            warehouse = self._warehouse_index[inbound["warehouseId"]]
            wanted = items if items is not None else {i["jfsku"]: i["quantityOpen"] for i in inbound["items"]}
            for jfsku, quantity in wanted.items():
                remaining = quantity
                for item in inbound["items"]:
                    if item["jfsku"] == jfsku and remaining > 0:
                        taken = min(item["quantityOpen"], remaining)
                        item["quantityOpen"] = _number(item["quantityOpen"] - taken)
                        remaining -= taken
                if quantity:
                    self._change_level(self.catalogue.index_of(jfsku), warehouse, quantity)
            done = all(item["quantityOpen"] <= 0 for item in inbound["items"])
            inbound["status"] = "Receipted" if done else "PartiallyReceipted"
            inbound["modificationInfo"].update(updatedAt=timestamp(datetime.now(UTC)), state="Modified")
            return orjson.loads(orjson.dumps(inbound))

    # ----------------------------------------------------------------- stats

    def record(self, route: str, method: str, target: str, status: int) -> None:
        with self.lock:
            self.requests[route] += 1
            self.statuses[status] += 1
            self.recent.append((route, method, target))

    def stats(self) -> dict:
        with self.lock:
            counters = asdict(self.counters)
            return {
                "seed": self.seed, "size": self.size, "inbounds": len(self.inbounds), "outbounds": len(self.outbounds),
                "requests": dict(self.requests), "statuses": {str(k): v for k, v in self.statuses.items()},
                "faults_fired": dict(self.faults_fired), "faults_armed": [asdict(f) for f in self.faults],
                "families": len(self._families), **counters,
            }


def _invalid_grant(description: str) -> dict:
    return {"error": "invalid_grant", "error_description": description}


_ADDRESS_KEYS = ("salutation", "firstname", "lastname", "company", "street", "city", "zip", "country", "email",
                 "phone", "extraLine", "extraAddressLine", "state", "mobile", "fax")
_ITEM_TYPES = ("Product", "Shipping", "Other", "BillOfMaterials")
_SHIPPING_TYPES = ("Standard", "Expedited", "NextDay", "SecondDay", "SameDay", "ByShippingLabelProvider")


def _text(value: Any, name: str, problems: list[str], *, required: bool = False, low: int = 0, high: int = 255):
    if value is None:
        if required:
            problems.append(f"{name} is required")
        return None
    if not isinstance(value, str) or not low <= len(value) <= high:
        problems.append(f"{name} must be text of {low} to {high} characters")
        return None
    return value


def _address_of(value: Any, name: str, problems: list[str]) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.append(f"{name} must be an object")
        return None
    address = {key: value.get(key) for key in _ADDRESS_KEYS}
    for key in ("street", "city"):
        _text(address[key], f"{name}.{key}", problems, required=True, low=1)
    country = address["country"]
    if not (isinstance(country, str) and len(country) == 2 and country.isalpha()):
        problems.append(f"{name}.country must be an ISO 3166 alpha-2 code")
    if not (address["lastname"] or address["company"]):
        problems.append(f"{name} needs a lastname or a company")
    return address


def _validated_outbound(body: Any, state: JtlFfnState) -> dict:
    """The outbound fields of a create request, or ApiError (400 with every problem, or 404 for an
    unknown warehouse, 400 Products_ProductsNotFound for unknown jfskus)."""
    if not isinstance(body, dict):
        raise validation_error(["the request body must be a JSON object"])
    problems: list[str] = []
    number = body.get("merchantOutboundNumber")
    _text(number, "merchantOutboundNumber", problems, required=True, low=1)
    warehouse_id = _text(body.get("warehouseId"), "warehouseId", problems, required=True, low=14)
    currency = body.get("currency", "EUR")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
        problems.append("currency must be an ISO 4217 code")
    priority = body.get("priority", 0)
    if not (isinstance(priority, int) and -5 <= priority <= 5):
        problems.append("priority must be a whole number from -5 to 5")
    shipping_type = body.get("shippingType")
    if shipping_type is not None and shipping_type not in _SHIPPING_TYPES:
        problems.append(f"shippingType must be one of {', '.join(_SHIPPING_TYPES)}")
    address = _address_of(body.get("shippingAddress"), "shippingAddress", problems)
    if body.get("shippingAddress") is None:
        problems.append("shippingAddress is required")
    raw_items = body.get("items")
    items: list[dict] = []
    if not isinstance(raw_items, list) or not raw_items:
        problems.append("items must hold at least one item")
        raw_items = []
    unknown: list[str] = []
    for position, raw in enumerate(raw_items, start=1):
        label = f"items[{position - 1}]"
        if not isinstance(raw, dict):
            problems.append(f"{label} must be an object")
            continue
        item_type = raw.get("itemType", "Product")
        if item_type not in _ITEM_TYPES:
            problems.append(f"{label}.itemType must be one of {', '.join(_ITEM_TYPES)}")
        quantity = raw.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, (int, float)) or quantity <= 0:
            problems.append(f"{label}.quantity must be a number above 0")
            quantity = 0
        jfsku = raw.get("jfsku")
        summary = None
        if item_type in ("Product", "BillOfMaterials"):
            if not jfsku:
                problems.append(f"{label}.jfsku is required for a product")
            elif not isinstance(jfsku, str) or (index := state.catalogue.index_of(jfsku)) is None:
                unknown.append(str(jfsku))
            else:
                summary = state.catalogue.summary(index)
        items.append({
            "outboundItemId": str(raw.get("outboundItemId") or position),
            "jfsku": jfsku, "itemType": item_type, "quantity": quantity, "quantityOpen": quantity,
            "name": raw.get("name") or (summary[1] if summary else None),
            "merchantSku": raw.get("merchantSku") or (summary[2] if summary else None),
            "externalNumber": raw.get("externalNumber"), "price": raw.get("price"), "vat": raw.get("vat"),
            "billOfMaterialsId": raw.get("billOfMaterialsId"), "note": raw.get("note"),
        })
    if problems:
        raise validation_error(problems)
    if body.get("shippingMethodId") and body.get("shippingType"):
        raise ApiError(400, "Outbounds_OutboundShippingMethodAndShippingTypeSet",
                       "Give a shippingMethodId or a shippingType, not both",
                       ["shippingMethodId and shippingType are both set"])
    state.warehouse_index(warehouse_id)
    if body.get("shippingMethodId") and not any(m["shippingMethodId"] == body["shippingMethodId"]
                                                for m in state.shipping_methods):
        raise ApiError(404, "ShippingMethods_ShippingMethodNotFound", "No shipping method has this id",
                       metadata={"ShippingMethodId": body["shippingMethodId"]})
    if unknown:
        raise ApiError(400, "Products_ProductsNotFound", "Some of the products do not exist",
                       [f"Unknown jfsku: {', '.join(unknown)}"], {"Jfskus": ",".join(unknown)})
    fields = {key: body.get(key) for key in (
        "externalNumber", "internalNote", "externalNote", "premiumType", "salesChannel", "attributes",
        "desiredDeliveryDate", "shippingMethodId", "shippingType", "senderAddress", "shippingFee", "orderValue")
        if key in body}
    fields.update(merchantOutboundNumber=number, warehouseId=warehouse_id, currency=currency.upper(),
                  priority=priority, shippingAddress=address, items=items)
    if fields.get("attributes") is None:
        fields["attributes"] = []
    return fields
