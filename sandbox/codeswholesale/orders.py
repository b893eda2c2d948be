"""The simulated account's purchases: what `POST /v3/orders` buys, what it costs, and the keys it hands out.

Buying a digital key from CodesWholesale spends money from the reseller's account at once. This module
holds the plain pieces of that, with no locking and no HTTP (``state.py`` serialises access, ``app.py``
serves them): an order, its lines, its codes, the charge it made, the refusals the API answers with,
and the JSON shapes the v3 API uses for them.

Public facts the shapes follow (see /work/shared/specs/codeswholesale):

* the v3 Swagger copy: the order request (``allowPreOrder``, ``orderId`` = our own order id,
  ``products`` of ``productId``/``quantity``/``price``), the order (``orderId``, ``clientOrderId``,
  ``identifier``, ``createdOn``, ``status``, ``totalPrice``, ``links``, ``products`` of ``productId``,
  ``name``, ``unitPrice``, ``links``, ``codes`` of ``codeId``, ``codeType``, ``code``, ``filename``,
  ``links``), the order history item and the account (``currentBalance``, ``currentCredit``,
  ``totalToUse``);
* two captured sandbox answers: an order ``Fulfilling`` with empty ``codes``, then ``Completed`` with a
  code of ``codeType`` ``CODE_TEXT`` and ``status`` "Text code" whose ``self`` link is
  ``/v3/codes/{codeId}``; one entry per product however many units; ``totalPrice`` = the sum of unit
  price x quantity; the order's own ``self`` link carries the *client* order id (reproduced as seen);
* the official v2 SDK: code kinds text, image (``code`` holds the image base64-encoded, ``filename``
  its name) and pre-ordered (no key yet); the error body ``{"status", "code", "message"}`` with code
  10002 (balance too low), 20001 (product not in the price list), 40002 (quantity below 1), 50002
  (code not found); its issue #41: 310003 (too low stock);
* the v3 PHP client fefrik/codeswholesale-v3: ``codeType`` values ``CODE_TEXT``, ``CODE_IMAGE``,
  ``PRE_ORDER``.

What no public source says and the simulator decides: the refusal of a price above the one offered
(code ``PRICE_CHANGED``, the simulator's own), units beyond the stock becoming pre-ordered codes when
``allowPreOrder`` is true, and an order with pre-ordered codes being ``Completed``.
"""

from __future__ import annotations

import base64
import struct
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

TEXT, IMAGE, PRE_ORDER = "CODE_TEXT", "CODE_IMAGE", "PRE_ORDER"
CODE_STATUS = {TEXT: "Text code", IMAGE: "Image code", PRE_ORDER: "Pre-ordered code"}
FULFILLING, COMPLETED = "Fulfilling", "Completed"

# Error codes of the error body. The first five are public (see the module docstring).
BALANCE_TOO_LOW = 10002
PRODUCT_NOT_FOUND = 20001
INVALID_QUANTITY = 40002
CODE_NOT_FOUND = 50002
TOO_LOW_STOCK = 310003
PRICE_CHANGED = 90001  # the simulator's own: how the real API refuses a price change is not public
INVALID_REQUEST = 90002  # the simulator's own: a request body it cannot read

CENT = Decimal("0.01")


def money(value: object) -> Decimal:
    """An amount in euros, to the cent."""
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def iso_millis(moment: datetime) -> str:
    """A moment as the API writes `createdOn`: UTC, milliseconds, `Z`."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


class OrderRefused(Exception):
    """A request the API refuses: HTTP `status` with the error body `{"status", "code", "message"}`."""

    def __init__(self, status: int, code: int | None, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict:
        return {"status": self.status, "code": self.code, "message": self.message}


@dataclass
class SimCode:
    """One key bought: text (the key itself), image (a PNG, base64) or pre-ordered (no key yet)."""

    code_id: str
    code_type: str
    code: str = ""
    filename: str = ""

    def as_json(self, base_url: str) -> dict:
        return {"codeType": self.code_type, "status": CODE_STATUS[self.code_type], "codeId": self.code_id,
                "filename": self.filename, "code": self.code,
                "links": [{"rel": "self", "href": f"{base_url}/v3/codes/{self.code_id}"}]}


@dataclass
class SimLine:
    """One product of an order: `quantity` units at `unit_price`, one code per unit."""

    product_id: str
    name: str
    unit_price: Decimal
    quantity: int
    codes: list[SimCode] = field(default_factory=list)

    def as_json(self, base_url: str, completed: bool) -> dict:
        return {"productId": self.product_id, "name": self.name, "unitPrice": float(self.unit_price),
                "codes": [c.as_json(base_url) for c in self.codes] if completed else [], "links": []}


@dataclass
class SimOrder:
    """An order the account placed. Its codes exist from the start but show only once it is
    Completed: `pending_reads` more reads of it (`GET /v3/orders/{orderId}`) and `ready_at` (a
    monotonic time) must pass first. `request` is the body it was placed with, as received."""

    order_id: str
    client_order_id: str | None
    identifier: str
    created_on: datetime
    total_price: Decimal
    lines: list[SimLine]
    request: dict
    pending_reads: int = 0
    ready_at: float = 0.0

    def status(self, now: float) -> str:
        return COMPLETED if self.pending_reads <= 0 and now >= self.ready_at else FULFILLING

    def codes(self) -> list[SimCode]:
        return [code for line in self.lines for code in line.codes]

    def self_link(self, base_url: str) -> list[dict]:
        # Both captured sandbox answers link the order under its client order id, not its orderId.
        return [{"rel": "self", "href": f"{base_url}/v3/orders/{self.client_order_id or self.order_id}"}]

    def as_json(self, base_url: str, now: float, *, show_codes: bool = False) -> dict:
        """The order as `POST /v3/orders` and `GET /v3/orders/{orderId}` answer it (its codes only once
        it is Completed, unless `show_codes`: the admin view)."""
        status = self.status(now)
        return {"orderId": self.order_id, "clientOrderId": self.client_order_id, "identifier": self.identifier,
                "totalPrice": float(self.total_price), "createdOn": iso_millis(self.created_on), "status": status,
                "products": [line.as_json(base_url, show_codes or status == COMPLETED) for line in self.lines],
                "links": self.self_link(base_url)}

    def summary_json(self, base_url: str, now: float) -> dict:
        """The order as an item of the order history (`GET /v3/orders`): no products."""
        return {"orderId": self.order_id, "clientOrderId": self.client_order_id, "identifier": self.identifier,
                "totalPrice": float(self.total_price), "createdOn": iso_millis(self.created_on),
                "status": self.status(now), "links": self.self_link(base_url)}


@dataclass(frozen=True)
class Charge:
    """Money taken from the account for one order: what a test counts to prove nothing bought twice."""

    order_id: str
    client_order_id: str | None
    amount: Decimal
    balance_after: Decimal
    at: datetime

    def as_json(self) -> dict:
        return {"orderId": self.order_id, "clientOrderId": self.client_order_id, "amount": float(self.amount),
                "balanceAfter": float(self.balance_after), "at": iso_millis(self.at)}


@dataclass(frozen=True)
class RequestedLine:
    """One product of an order request, checked: the units wanted and the most one unit may cost."""

    product_id: str
    quantity: int
    price: Decimal


def read_request(body: object) -> tuple[str | None, bool, list[RequestedLine]]:
    """(client order id, allowPreOrder, lines) of an order request body; OrderRefused when it cannot be
    read. Two entries for one product are one line (their quantities added, the lower price kept)."""
    if not isinstance(body, dict):
        raise OrderRefused(400, INVALID_REQUEST, "The order request must be a JSON object")
    client_order_id = body.get("orderId")
    if client_order_id is not None and not isinstance(client_order_id, str):
        raise OrderRefused(400, INVALID_REQUEST, "orderId must be a string")
    allow = body.get("allowPreOrder", False)
    if not isinstance(allow, bool):
        raise OrderRefused(400, INVALID_REQUEST, "allowPreOrder must be true or false")
    products = body.get("products")
    if not isinstance(products, list) or not products:
        raise OrderRefused(400, INVALID_REQUEST, "products must be a non-empty list")
    merged: dict[str, RequestedLine] = {}
    for entry in products:
        if not isinstance(entry, dict) or not isinstance(entry.get("productId"), str):
            raise OrderRefused(400, INVALID_REQUEST, "every product needs a productId")
        quantity = entry.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise OrderRefused(400, INVALID_QUANTITY, "Quantity must be at least 1")
        price = entry.get("price")
        if isinstance(price, bool) or not isinstance(price, (int, float)) or price <= 0:
            raise OrderRefused(400, INVALID_REQUEST, f"price of product {entry['productId']} must be a positive number")
        product_id = entry["productId"]
        earlier = merged.get(product_id)
        if earlier is not None:
            quantity, price = earlier.quantity + quantity, min(earlier.price, money(price))
        merged[product_id] = RequestedLine(product_id, quantity, money(price))
    return client_order_id, allow, list(merged.values())


def unit_price(product: dict, quantity: int) -> Decimal | None:
    """What one unit costs when `quantity` are bought: the price-list tier covering that quantity."""
    for tier in product.get("prices") or []:
        value = tier.get("value")
        if value is None:
            continue
        low = tier.get("from") or 1
        high = tier.get("to")
        if low <= quantity and (high is None or quantity <= high):
            return money(value)
    return None


def image_code(text: str) -> str:
    """A 1x1 PNG carrying `text` in a tEXt chunk, base64-encoded: an image key as the API delivers it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
           + chunk(b"tEXt", b"Key\x00" + text.encode()) + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
           + chunk(b"IEND", b""))
    return base64.b64encode(png).decode()
