"""Listings as the Amazon sandbox keeps them, and the checks and changes the Listings Items API
(`patchListingsItem`) and JSON_LISTINGS_FEED messages share.

A listing starts as the seeded catalogue says (`Catalogue.product`); what the API and the feeds
change is kept apart, per SKU, so a catalogue of 100,000 SKUs costs nothing until it is touched and
a feed of 100,000 messages changes 100,000 small entries, not 100,000 listings:

- `fulfillment`: SKU -> the `fulfillment_availability` attribute as last written (a list of
  `{"fulfillment_channel_code", "quantity"}`), or None once deleted;
- `attributes`: SKU -> any other attribute written (name -> value);
- `created`: SKUs that an UPDATE message brought into being (productType, when);
- `deleted`: SKUs a DELETE message removed;
- `touched`: SKU -> when it last changed (Unix seconds).

Problems are `(code, message, attribute or None, category)`; the API turns them into `Issue`s, the
feed report into report issues. The codes are the simulator's own (Amazon's are numbers whose
meaning is not public): see the README.
"""

from decimal import Decimal, InvalidOperation

from .data import Catalogue

PATCH_OPS = ("add", "replace", "merge", "delete")
FEED_OPERATIONS = ("UPDATE", "PARTIAL_UPDATE", "PATCH", "DELETE")
FULFILLMENT = "fulfillment_availability"
OFFER = "purchasable_offer"
_FULFILLMENT_PATH = "/attributes/" + FULFILLMENT
DEFAULT_CHANNEL = "DEFAULT"
_INT_MAX = 2147483647

Problem = tuple[str, str, "str | None", str]


def quantity_problems(value) -> list[Problem]:
    """What is wrong with a `fulfillment_availability` attribute value."""
    if type(value) is list and len(value) == 1 and type(value[0]) is dict:  # the usual shape, checked fast
        entry = value[0]
        code, quantity = entry.get("fulfillment_channel_code"), entry.get("quantity")
        if type(code) is str and code and type(quantity) is int and 0 <= quantity <= _INT_MAX:
            return []
    if not isinstance(value, list) or not value:
        return [("INVALID_VALUE", "fulfillment_availability must be a non-empty list of objects", FULFILLMENT,
                 "INVALID_ATTRIBUTE")]
    problems: list[Problem] = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("fulfillment_channel_code"), str) \
                or not entry["fulfillment_channel_code"]:
            problems.append(("INVALID_VALUE", "each fulfillment_availability entry needs a fulfillment_channel_code",
                             FULFILLMENT, "INVALID_ATTRIBUTE"))
            continue
        quantity = entry.get("quantity")
        if quantity is None and entry["fulfillment_channel_code"] != DEFAULT_CHANNEL:
            continue  # Amazon-fulfilled channels carry no quantity of the seller's
        if type(quantity) is not int or not 0 <= quantity <= _INT_MAX:
            problems.append(("INVALID_QUANTITY", f"quantity must be a whole number of at least 0, not {quantity!r}",
                             FULFILLMENT, "INVALID_ATTRIBUTE"))
    return problems


def _amount(value) -> Decimal | None:
    """A JSON number as money: finite, above 0, at most two decimals; else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        return None
    return amount


def price_problems(value) -> list[Problem]:
    """What is wrong with a `purchasable_offer` attribute value: a list of offers, each with a
    marketplace_id, a three-letter currency and `our_price` as a schedule of `value_with_tax` amounts
    (positive, at most two decimals); `audience`, when given, ALL (B2C) or B2B."""
    def bad(message: str) -> list[Problem]:
        return [("INVALID_PRICE", message, OFFER, "INVALID_ATTRIBUTE")]

    if not isinstance(value, list) or not value:
        return bad("purchasable_offer must be a non-empty list of offers")
    for offer in value:
        if not isinstance(offer, dict) or not isinstance(offer.get("marketplace_id"), str) \
                or not offer["marketplace_id"]:
            return bad("each purchasable_offer needs a marketplace_id")
        currency = offer.get("currency")
        if not isinstance(currency, str) or len(currency) != 3 or not currency.isupper():
            return bad(f"currency must be a three-letter code, not {currency!r}")
        if offer.get("audience", "ALL") not in ("ALL", "B2B"):
            return bad(f"audience must be ALL or B2B, not {offer.get('audience')!r}")
        prices = offer.get("our_price")
        schedules = [s for p in prices if isinstance(p, dict) for s in p.get("schedule") or []] \
            if isinstance(prices, list) and prices else []
        if not schedules:
            return bad("our_price must hold a schedule with a value_with_tax")
        for entry in schedules:
            if not isinstance(entry, dict) or _amount(entry.get("value_with_tax")) is None:
                shown = entry.get("value_with_tax") if isinstance(entry, dict) else entry
                return bad(f"value_with_tax must be a positive amount with at most two decimals, not {shown!r}")
    return []


def offer_price(value) -> tuple[Decimal, str] | None:
    """Our price and its currency from a valid `purchasable_offer` value (the first offer's first entry)."""
    try:
        offer = value[0]
        return Decimal(str(offer["our_price"][0]["schedule"][0]["value_with_tax"])), offer["currency"]
    except (TypeError, LookupError, InvalidOperation):
        return None


class Listings:
    """The listings of one selling partner (not thread-safe: the state's lock guards it)."""

    def __init__(self, catalogue: Catalogue):
        self.catalogue = catalogue
        self.fulfillment: dict[str, list | None] = {}
        self.attributes: dict[str, dict] = {}
        self.created: dict[str, dict] = {}
        self.deleted: set[str] = set()
        self.touched: dict[str, int] = {}

    # ------------------------------------------------------------------ reading
    def exists(self, sku: str) -> bool:
        if sku in self.created:
            return True
        return sku not in self.deleted and self.catalogue.index_of(sku) is not None

    def view(self, sku: str) -> dict | None:
        """Everything known about a listing: productType, asin, itemName, price (cents, or None),
        createdDays (days before the epoch, or None), createdAt/touched (Unix seconds or None),
        attributes (name -> value, `fulfillment_availability` included), or None when it does not
        exist."""
        if sku in self.created:
            base = dict(self.created[sku])
        else:
            index = self.catalogue.index_of(sku)
            if index is None or sku in self.deleted:
                return None
            product = self.catalogue.product(index)
            base = {"productType": product["productType"], "asin": product["asin"], "itemName": product["itemName"],
                    "price": product["price"], "createdDays": product["age_days"], "createdAt": None,
                    "attributes": {FULFILLMENT: [{"fulfillment_channel_code": DEFAULT_CHANNEL,
                                                  "quantity": product["quantity"]}]}}
        attributes = dict(base.get("attributes") or {})
        attributes.update(self.attributes.get(sku, {}))
        attributes = {name: value for name, value in attributes.items() if value is not None}
        if sku in self.fulfillment:
            value = self.fulfillment[sku]
            if value is None:
                attributes.pop(FULFILLMENT, None)
            else:
                attributes[FULFILLMENT] = value
        base["attributes"] = attributes
        base["touched"] = self.touched.get(sku)
        offered = offer_price(attributes.get(OFFER)) if OFFER in attributes else None
        if offered is not None:  # a price set through the API or a feed is the one buyers see
            base["price"] = int(offered[0] * 100)
        return base

    def quantity(self, sku: str) -> int | None:
        """The DEFAULT channel's quantity, or None (no such listing, or no quantity)."""
        view = self.view(sku)
        if view is None:
            return None
        for entry in view["attributes"].get(FULFILLMENT) or ():
            if entry.get("fulfillment_channel_code") == DEFAULT_CHANNEL:
                return entry.get("quantity")
        return None

    # ------------------------------------------------------------------ checking
    def patch_problems(self, sku: str, patches, *, must_exist: bool = True) -> list[Problem]:
        """What is wrong with applying JSON Patch `patches` to listing `sku`."""
        if must_exist and not self.exists(sku):
            return [("SKU_NOT_FOUND", f"No listing has the SKU '{sku}'", None, "INVALID_ATTRIBUTE")]
        if type(patches) is list and len(patches) == 1 and type(patches[0]) is dict:  # the usual shape, fast
            patch = patches[0]
            if patch.get("path") == _FULFILLMENT_PATH and patch.get("op") in PATCH_OPS and patch["op"] != "delete":
                return quantity_problems(patch.get("value"))
        if not isinstance(patches, list) or not patches:
            return [("INVALID_PATCH", "patches must hold at least one operation", None, "INVALID_ATTRIBUTE")]
        problems: list[Problem] = []
        for patch in patches:
            if (not isinstance(patch, dict) or patch.get("op") not in PATCH_OPS
                    or not isinstance(patch.get("path"), str)):
                problems.append(("INVALID_PATCH", "each patch needs an op (add, replace, merge, delete) and a path",
                                 None, "INVALID_ATTRIBUTE"))
                continue
            path = patch["path"]
            name = path[len("/attributes/"):] if path.startswith("/attributes/") else ""
            if not name or "/" in name:
                problems.append(("INVALID_PATCH", f"only top-level attributes can be patched, not {path!r}", None,
                                 "INVALID_ATTRIBUTE"))
                continue
            if patch["op"] != "delete":
                if "value" not in patch or not isinstance(patch["value"], list):
                    problems.append(("INVALID_VALUE", f"{name}: the value must be a list", name, "INVALID_ATTRIBUTE"))
                elif name == FULFILLMENT:
                    problems.extend(quantity_problems(patch["value"]))
                elif name == OFFER:
                    problems.extend(price_problems(patch["value"]))
        return problems

    def attribute_problems(self, attributes) -> list[Problem]:
        if not isinstance(attributes, dict) or not attributes:
            return [("INVALID_MESSAGE", "attributes must be an object with at least one attribute", None,
                     "INVALID_ATTRIBUTE")]
        problems: list[Problem] = []
        for name, value in attributes.items():
            if not isinstance(value, list):
                problems.append(("INVALID_VALUE", f"{name}: the value must be a list", name, "INVALID_ATTRIBUTE"))
            elif name == FULFILLMENT:
                problems.extend(quantity_problems(value))
            elif name == OFFER:
                problems.extend(price_problems(value))
        return problems

    # ------------------------------------------------------------------ changing
    def apply_patches(self, sku: str, patches: list, now: int) -> None:
        if len(patches) == 1:  # the usual case, a quantity replaced: fast
            patch = patches[0]
            if patch["path"] == _FULFILLMENT_PATH and patch["op"] in ("replace", "add"):
                self.fulfillment[sku] = patch["value"]
                self.touched[sku] = now
                return
        for patch in patches:
            name = patch["path"][len("/attributes/"):]
            op = patch["op"]
            if op == "delete":
                self._set(sku, name, None)
            elif op == "merge" and name == FULFILLMENT:
                current = {e.get("fulfillment_channel_code"): e for e in (self.view(sku) or {}).get(
                    "attributes", {}).get(FULFILLMENT) or []}
                for entry in patch["value"]:
                    current[entry["fulfillment_channel_code"]] = {**current.get(entry["fulfillment_channel_code"], {}),
                                                                   **entry}
                self._set(sku, name, list(current.values()))
            else:
                self._set(sku, name, patch["value"])
        self.touched[sku] = now

    def replace_attributes(self, sku: str, attributes: dict, now: int) -> None:
        for name, value in attributes.items():
            self._set(sku, name, value)
        self.touched[sku] = now

    def put(self, sku: str, product_type: str, attributes: dict, now: int) -> None:
        """An UPDATE message: the listing is exactly `attributes` from now on (created if new)."""
        previous = self.view(sku)
        self.created[sku] = {"productType": product_type,
                             "asin": previous["asin"] if previous else None,
                             "itemName": _item_name(attributes) or (previous["itemName"] if previous else sku),
                             "price": previous["price"] if previous else None,
                             "createdDays": previous["createdDays"] if previous else None,
                             "createdAt": previous.get("createdAt") if previous else now,
                             "attributes": {}}
        self.deleted.discard(sku)
        self.attributes[sku] = {k: v for k, v in attributes.items() if k != FULFILLMENT}
        self.fulfillment[sku] = attributes.get(FULFILLMENT)
        self.touched[sku] = now

    def delete(self, sku: str, now: int) -> None:
        self.created.pop(sku, None)
        self.attributes.pop(sku, None)
        self.fulfillment.pop(sku, None)
        self.deleted.add(sku)
        self.touched[sku] = now

    def set_quantity(self, sku: str, quantity: int | None, now: int) -> None:
        """The quantity changes on Amazon's side (a test hook: drift)."""
        self.fulfillment[sku] = [{"fulfillment_channel_code": DEFAULT_CHANNEL, "quantity": quantity}]
        self.touched[sku] = now

    def _set(self, sku: str, name: str, value) -> None:
        if name == FULFILLMENT:
            self.fulfillment[sku] = value
        elif value is None:
            self.attributes.setdefault(sku, {})[name] = None
        else:
            self.attributes.setdefault(sku, {})[name] = value


def _item_name(attributes: dict) -> str | None:
    names = attributes.get("item_name")
    if isinstance(names, list) and names and isinstance(names[0], dict) and isinstance(names[0].get("value"), str):
        return names[0]["value"]
    return None
