"""What the store's own shop sends: an order, and a change of its status (the storefront order API).

These models are the API's contract: the HTTP app validates every body with them, the OpenAPI document
(`pipelines/storefront_api/openapi.py`) is generated from them, and the stored raw payload is the body
as validated here. Unknown fields are refused rather than ignored, so a shop's typo ("quantitiy") is
named in the 422 answer instead of silently losing the quantity.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
)

# An order's life in the shop; a new order arrives pending (not paid yet) or paid.
NEW_STATUSES = ("pending", "paid")
STATUSES = ("pending", "paid", "shipped", "cancelled", "refunded")
# Which status may follow which (PATCH). Setting the status an order already has is not a change and is
# always allowed, so a retried PATCH answers the same.
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    "pending": ("paid", "cancelled"),
    "paid": ("shipped", "cancelled", "refunded"),
    "shipped": ("refunded",),
    "cancelled": (),
    "refunded": (),
}

# Text the warehouse can hold and a person can read: no control characters (Postgres refuses NUL), and
# something other than spaces first. Said as patterns, so the OpenAPI document states the same rule.
# (Ranges rather than \s: regex engines disagree on which characters \s covers, and the document's
# readers run other engines than ours.)
_PRINTED = r"[^\x00-\x1f\x7f-\x9f]"
_FIRST = r"[^\x00-\x20\x7f-\x9f]"


def _text(max_length: int) -> StringConstraints:
    return StringConstraints(max_length=max_length, pattern=f"^{_FIRST}{_PRINTED}*$")


Text = Annotated[str, _text(200)]
# Letters, digits and . _ - only: it is a segment of URLs (PATCH /stores/{store}/orders/{order_number}).
OrderNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
# An amount as a decimal string ("12.90"), as shops' own APIs send money: a JSON number would pass
# through binary floating point on the way (0.1 + 0.2), and cents must arrive exactly.
Money = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}(\.[0-9]{1,2})?$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
# Deliberately loose (one @, something either side, no spaces): the shop already verified the address;
# we refuse only what cannot be an address at all.
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\x00-\x20\x7f-\x9f]+@[^@\x00-\x20\x7f-\x9f]+$")]


def _in_utc(moment: datetime) -> datetime:
    # Postgres keeps offsets up to 15:59; ISO 8601 allows more. The moment is what counts: kept in UTC.
    if not 2000 <= moment.year <= 2999:
        raise ValueError("must be a date from the year 2000 to 2999")
    return moment.astimezone(UTC)


# An ISO 8601 date-time with its offset ("2026-12-01T10:00:00+01:00"), in the years 2000 to 2999.
Moment = Annotated[AwareDatetime, AfterValidator(_in_utc),
                   WithJsonSchema({"type": "string", "format": "date-time", "pattern": "^2[0-9]{3}-"})]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Buyer(_Strict):
    email: Email
    name: Text
    locale: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}([-_][A-Za-z]{2})?$")] | None = None


class Address(_Strict):
    first_name: Text | None = None
    last_name: Text
    company: Text | None = None
    street: Text
    house_number: Annotated[str, _text(20)] | None = None
    postcode: Annotated[str, _text(20)]
    city: Text
    country: Country = Field(description="ISO 3166-1 alpha-2")
    phone: Annotated[str, _text(40)] | None = None


class Item(_Strict):
    sku: Annotated[str, _text(100)]
    gtin: Annotated[str, StringConstraints(pattern=r"^[0-9]{8,14}$")] | None = None
    title: Text
    quantity: Annotated[int, Field(ge=1, le=10000)]
    unit_price: Money = Field(description="Price of one unit in the order's currency, taxes included: \"12.90\"")


class StorefrontOrder(_Strict):
    """An order placed in the store's own shop (POST /stores/{store}/orders)."""

    order_number: OrderNumber = Field(description="The shop's order number, unique per store")
    ordered_at: Moment
    status: Literal["pending", "paid"] = "pending"
    currency: Currency
    total: Money = Field(description="What the buyer pays, shipping and taxes included: \"64.80\"")
    buyer: Buyer
    shipping_address: Address
    billing_address: Address | None = None
    # A line is known by its position, from 1: a status change never changes the lines.
    items: Annotated[list[Item], Field(min_length=1, max_length=500)]


class StatusChange(_Strict):
    """A change of an order's status in the shop (PATCH /stores/{store}/orders/{order_number})."""

    status: Literal["paid", "shipped", "cancelled", "refunded"]
    tracking_number: Annotated[str, StringConstraints(pattern=r"^[!-~]{1,64}$")] | None = None
    carrier: Text | None = None
    changed_at: Moment | None = Field(None, description="When it changed in the shop; default: now")


class OrderLine(BaseModel):
    line: int = Field(description="The line's position in the order, from 1")
    sku: str
    quantity: int
    matched: bool = Field(description="Whether the SKU or GTIN was found in the store's catalog, so the "
                                      "units are reserved in the stock the channels are told")


class OrderAnswer(BaseModel):
    """What the API answers about an order: no buyer data, so a stored answer holds none either."""

    order_id: int = Field(description="marketsync's id of the canonical order")
    order_number: str
    status: Literal["pending", "paid", "shipped", "cancelled", "refunded"]
    canonical_status: str = Field(description="The cross-channel status (core.orders.status)")
    total: Money
    currency: str
    items: list[OrderLine]


class Problem(BaseModel):
    field: str = Field(description="Where in the body: buyer.email, items[0].quantity, ...")
    message: str


class ErrorAnswer(BaseModel):
    error: str = Field(description="A stable code: invalid_order, idempotency_key_reused, ...")
    message: str
    problems: list[Problem] | None = None


class InvalidDocument(ValueError):
    """A body that is not a valid document: every problem, by field, without echoing the values (they
    may be a buyer's personal data)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        fields = ", ".join(p.field for p in problems[:10])
        more = f" and {len(problems) - 10} more" if len(problems) > 10 else ""
        super().__init__(f"{len(problems)} invalid field{'s' if len(problems) != 1 else ''}: {fields}{more}")


def _field_path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def _problems(exc: ValidationError) -> list[Problem]:
    # pydantic's messages name the rule broken ("Input should be greater than or equal to 1"); its
    # `input` and `ctx` values are never copied.
    return [Problem(field=_field_path(error["loc"]), message=error["msg"])
            for error in exc.errors(include_url=False, include_input=False, include_context=False)]


def parse_order(body: bytes) -> StorefrontOrder:
    """The order in a request body, or InvalidDocument naming each bad field."""
    try:
        return StorefrontOrder.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidDocument(_problems(exc)) from None


def parse_status_change(body: bytes) -> StatusChange:
    try:
        return StatusChange.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidDocument(_problems(exc)) from None
