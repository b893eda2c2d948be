"""Seeded eBay seller data: the catalogue (SKUs, their inventory items and published offers) and the
order book (orders with line items, buyers, ship-to addresses and the seller's shipping fulfillments),
shaped as the Sell Inventory and Sell Fulfillment contracts' schemas. Every value is invented.

`(seed, size)` fixes everything. Nothing is generated up front but two arrays of timestamps: order `i`
(and SKU `i`) is computed on its own from a hash of `(seed, i)`, so a book of 50,000 orders costs a
few milliseconds until pages of it are served. Orders are numbered in creation order (their creation
times strictly increase with the index), which is also the order getOrders lists them in.

Identifiers look like eBay's: order ids `NN-NNNNN-NNNNN` (a scrambled, reversible number), line item
ids of 14 digits, legacy item (listing) ids of 12 digits, offer ids of 13 digits, tracking numbers
alphanumeric only (as the contract demands).
"""

import random
from array import array
from datetime import UTC, datetime

MASK64 = (1 << 64) - 1
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
_ORDER_MODULUS = 10 ** 12
_ORDER_MULTIPLIER = 1_000_003  # coprime with 10**12: the scramble is a bijection
_ORDER_INVERSE = pow(_ORDER_MULTIPLIER, -1, _ORDER_MODULUS)

ORDER_STATUSES = ("NOT_STARTED", "IN_PROGRESS", "FULFILLED")

_GROUPS = (
    # SKU code, nouns, brands, category id, base price range in cents
    ("HOM", ("Espresso Cup Set", "Linen Tea Towel", "Enamel Mug", "Oak Serving Board", "Glass Carafe 1 l"),
     ("Atelier Mosel", "Hausgold", "Kordel & Co"), "20625", (899, 4999)),
    ("ELE", ("USB-C Cable 2 m", "Power Bank 10000 mAh", "Bluetooth Speaker", "GaN Charger 65 W", "HDMI Adapter"),
     ("Voltano", "Kabelwerk", "Lumix Labs"), "44932", (699, 6999)),
    ("OUT", ("Camping Lantern", "Trail Bottle 750 ml", "Folding Stool", "Dry Bag 20 l"),
     ("Nordpfad", "Ardennes Outdoor"), "16034", (1299, 5999)),
    ("TOY", ("Wooden Marble Run", "Puzzle 1000 pcs", "Plush Otter", "Magnetic Blocks 60 pcs"),
     ("Spielkiste", "Kobold Kids"), "19169", (999, 3999)),
    ("FAS", ("Merino Beanie", "Wool Socks 2-Pack", "Canvas Tote Bag", "Leather Belt"),
     ("Moselwear", "Urban Fjord"), "52365", (1499, 4499)),
    ("GAR", ("Pruning Shears", "Seed Tray Set", "Watering Can 10 l", "Hose Nozzle"),
     ("Grünfink", "Terrazza"), "2032", (799, 3499)),
)
_COLOURS = ("Black", "White", "Navy", "Sage", "Bordeaux", "Sand", "Grey")
_FIRST = ("Anna", "Luc", "Marie", "Jonas", "Sophie", "Tom", "Léa", "Mats", "Zoë", "Noah", "Chloé", "Jürgen", "Emma",
          "Ben", "Inès", "Felix")
_LAST = ("Schmit", "Weber", "Müller", "Hoffmann", "Becker", "Wagner", "Reuter", "Kieffer", "Østergaard", "Dupont",
         "Martin", "Klein", "Peters", "Lambert")
# city, postal code, country, state or province (None: not used there)
_PLACES = (
    ("Berlin", "10115", "DE", "Berlin"), ("Hamburg", "20095", "DE", "Hamburg"),
    ("München", "80331", "DE", "Bayern"),
    ("Köln", "50667", "DE", "Nordrhein-Westfalen"), ("Trier", "54290", "DE", "Rheinland-Pfalz"),
    ("Leipzig", "04109", "DE", "Sachsen"), ("Luxembourg", "1111", "LU", None), ("Esch-sur-Alzette", "4001", "LU", None),
    ("Wien", "1010", "AT", "Wien"), ("Graz", "8010", "AT", "Steiermark"), ("Metz", "57000", "FR", None),
    ("Arlon", "6700", "BE", None), ("Utrecht", "3511", "NL", None),
    ("Manchester", "M1 1AE", "GB", "Greater Manchester"),
    ("London", "EC1A 1BB", "GB", "London"),
)
_STREETS = ("Hauptstraße", "Bahnhofstraße", "Grand-Rue", "Rue de la Gare", "Lindenweg", "Am Markt", "Kirchgasse",
            "High Street", "Schillerstraße", "Avenue de la Liberté")
_LINE2 = ("Apt 3", "2. OG", "c/o Packstation 104", "Bâtiment B")
_NOTES = ("Bitte nicht klingeln.", "Gift – no invoice please", "Leave at the door", "Zustellung nur werktags")
_CARRIERS = (("DHL", "DE_DHLPaket"), ("DHL", "DE_DHLPaket"), ("DPD", "DE_DPDClassic"), ("HERMES", "DE_HermesPaket"),
             ("GLS", "DE_GLSBusinessParcel"))
_MARKETPLACES = {"EBAY_DE": ("EUR", "de_DE"), "EBAY_AT": ("EUR", "de_AT"), "EBAY_FR": ("EUR", "fr_FR"),
                 "EBAY_GB": ("GBP", "en_GB"), "EBAY_US": ("USD", "en_US")}


def mix(value: int) -> int:
    """splitmix64: a well-spread 64-bit hash of `value`."""
    z = (value + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


_DAYS: dict[int, str] = {}
_CLOCK: dict[int, str] = {}
_MILLIS = [f".{n:03d}Z" for n in range(1000)]


def stamp(ms: int) -> str:
    """An eBay timestamp: ISO 8601, UTC, milliseconds, `Z` (2015-08-04T19:09:02.768Z)."""
    day, rest = divmod(ms, DAY_MS)
    date = _DAYS.get(day)
    if date is None:
        date = _DAYS[day] = datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%dT")
    second, millis = divmod(rest, 1000)
    clock = _CLOCK.get(second)
    if clock is None:
        clock = _CLOCK[second] = f"{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
    return date + clock + _MILLIS[millis]


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def money(cents: int, currency: str) -> dict:
    return {"value": f"{cents / 100:.2f}", "currency": currency}


def ean13(body12: str) -> str:
    total = sum(int(d) * (3 if k % 2 else 1) for k, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


def marketplace_defaults(marketplace_id: str) -> tuple[str, str]:
    """(currency, locale) of a marketplace."""
    if marketplace_id not in _MARKETPLACES:
        raise ValueError(f"marketplace_id must be one of {sorted(_MARKETPLACES)}")
    return _MARKETPLACES[marketplace_id]


class Catalogue:
    """The seller's `size` seeded SKUs: product data, stock, price, and one published fixed-price offer
    each (`offerId`, the listing's `legacyItemId`)."""

    def __init__(self, seed: int, size: int, marketplace_id: str = "EBAY_DE"):
        if size < 1:
            raise ValueError("the catalogue needs at least one SKU")
        self.seed, self.size, self.marketplace_id = seed, size, marketplace_id
        self.currency, self.locale = marketplace_defaults(marketplace_id)
        self._skus = [self._sku_name(i) for i in range(size)]
        self._index = {sku: i for i, sku in enumerate(self._skus)}
        self._offer_index = {self.offer_id(i): i for i in range(size)}
        self._products: dict[int, dict] = {}

    def _bits(self, i: int, salt: int = 0) -> int:
        return mix((self.seed * 0x9E3779B1 + 0x51ED27) ^ (i * 0x100 + salt + 0xC0FFEE))

    def _sku_name(self, i: int) -> str:
        code = _GROUPS[self._bits(i) % len(_GROUPS)][0]
        bits = self._bits(i, 1)
        if bits % 10 == 0:  # a variant SKU: colour suffix, mixed case, a dot
            return f"{code}-{i:05d}.{_COLOURS[(bits >> 8) % len(_COLOURS)][:3].upper()}"
        if bits % 10 == 1:
            return f"{code.lower()}_{i:05d}"
        return f"{code}-{i:05d}"

    def sku(self, i: int) -> str:
        return self._skus[i]

    def index_of(self, sku: str) -> int | None:
        return self._index.get(sku)

    def offer_id(self, i: int) -> str:
        return str(5_000_000_000_000 + i * 37 + self.seed % 37)

    def offer_index(self, offer_id: str) -> int | None:
        return self._offer_index.get(offer_id)

    def listing_id(self, i: int) -> str:
        return str(110_000_000_000 + (i * 7919 + self.seed) % 10_000_000_000)

    def product(self, i: int) -> dict:
        """Title, brand, price (cents), stock and identifiers of SKU `i` (shared: do not change it)."""
        known = self._products.get(i)
        if known is not None:
            return known
        known = self._products[i] = self._product(i)
        return known

    def _product(self, i: int) -> dict:
        rng = random.Random(self._bits(i, 2))
        code, nouns, brands, category, (low, high) = _GROUPS[self._bits(i) % len(_GROUPS)]
        noun, brand = rng.choice(nouns), rng.choice(brands)
        colour = rng.choice(_COLOURS)
        stock_roll = rng.random()
        quantity = 0 if stock_roll < 0.08 else rng.randint(1, 5) if stock_roll < 0.4 else rng.randint(6, 250)
        return {
            "sku": self._skus[i], "title": f"{brand} {noun} – {colour}", "brand": brand, "colour": colour,
            "category_id": category, "price": rng.randrange(low, high, 10) - 1, "quantity": quantity,
            "ean": ean13(f"40{rng.randrange(10 ** 10):010d}"), "mpn": f"{code}{rng.randrange(10 ** 6):06d}",
        }

    def inventory_item(self, i: int) -> dict:
        """The seeded inventory item record (InventoryItemWithSkuLocaleGroupid) of SKU `i`."""
        p = self.product(i)
        return {
            "sku": p["sku"],
            "locale": self.locale,
            "product": {
                "title": p["title"],
                "description": f"<p>{p['title']}. Brand: {p['brand']}. Colour: {p['colour']}.</p>",
                "aspects": {"Marke": [p["brand"]], "Farbe": [p["colour"]]},
                "brand": p["brand"],
                "mpn": p["mpn"],
                "ean": [p["ean"]],
                "imageUrls": [f"https://images.example.com/{p['sku'].lower()}/1.jpg"],
            },
            "condition": "NEW",
            "availability": {"shipToLocationAvailability": {"quantity": p["quantity"]}},
        }

    def offer(self, i: int) -> dict:
        """The seeded published fixed-price offer (EbayOfferDetailsWithAll) of SKU `i`."""
        p = self.product(i)
        return {
            "offerId": self.offer_id(i),
            "sku": p["sku"],
            "marketplaceId": self.marketplace_id,
            "format": "FIXED_PRICE",
            "availableQuantity": p["quantity"],
            "categoryId": p["category_id"],
            "listingDescription": f"<p>{p['title']}</p>",
            "listingDuration": "GTC",
            "listingPolicies": {"fulfillmentPolicyId": "6200000000001", "paymentPolicyId": "6200000000002",
                                "returnPolicyId": "6200000000003"},
            "merchantLocationKey": "LAGER-01",
            "pricingSummary": {"price": money(p["price"], self.currency)},
            "hideBuyerDetails": False,
            "includeCatalogProductDetails": True,
            "status": "PUBLISHED",
            "listing": {"listingId": self.listing_id(i), "listingStatus": "ACTIVE" if p["quantity"] else "OUT_OF_STOCK",
                        "soldQuantity": (self._bits(i, 3) % 40)},
        }


class OrderBook:
    """`count` seeded orders created in the `history_days` before `epoch_ms`, oldest first.

    Only their creation and last-modification times (and, cheaply from a hash, their fulfilment
    status) are known without building them; `order(i)` builds order `i`, `fulfillments(i)` its seeded
    shipping fulfillments.
    """

    def __init__(self, seed: int, count: int, catalogue: Catalogue, epoch_ms: int, history_days: float = 60):
        if count < 0:
            raise ValueError("count must not be negative")
        self.seed, self.count, self.catalogue = seed, count, catalogue
        self.epoch_ms = epoch_ms
        self.currency = catalogue.currency
        span = int(history_days * DAY_MS)
        self.start_ms = epoch_ms - span
        step = max(1, span // max(count, 1))
        self._salt = mix(seed * 7 + 3) % _ORDER_MODULUS
        creation = array("q", bytes(8 * count))
        modified = array("q", bytes(8 * count))
        start, m = self.start_ms, mix
        base = seed * 0x2545F491 + 0x1234567
        for i in range(count):
            h = m(base ^ (i * 0x9E37 + 1))
            created = start + i * step + (h >> 40) % step
            creation[i] = created
            modified[i] = self._modified_from(i, h, created)
        self.creation = creation
        self.modified = modified

    # -------------------------------------------------------------- cheap facts from the hash
    def _hash(self, i: int) -> int:
        return mix((self.seed * 0x2545F491 + 0x1234567) ^ (i * 0x9E37 + 1))

    def _shape(self, i: int, h: int | None = None) -> tuple[str, bool, int, int]:
        """(fulfillment status, cancelled, line item count, quantity of the first line item)."""
        h = self._hash(i) if h is None else h
        roll = (h & 0xFFFF) / 65536
        items = 1 if (h >> 16) & 0xFF < 205 else 2 if (h >> 16) & 0xFF < 243 else 3
        quantity = 1 if (h >> 24) & 0xF < 12 else 2 if (h >> 24) & 0xF < 15 else 3
        age_ms = self.epoch_ms - (self.start_ms + i * max(1, (self.epoch_ms - self.start_ms) // max(self.count, 1)))
        if roll < 0.03:
            return "NOT_STARTED", True, items, quantity
        splittable = items > 1 or quantity > 1
        if age_ms < 2 * DAY_MS:
            status = "FULFILLED" if roll < 0.13 else "IN_PROGRESS" if roll < 0.18 and splittable else "NOT_STARTED"
        else:
            status = "NOT_STARTED" if roll < 0.05 else "IN_PROGRESS" if roll < 0.09 and splittable else "FULFILLED"
        return status, False, items, quantity

    def _modified_from(self, i: int, h: int, created: int) -> int:
        status, cancelled, _, _ = self._shape(i, h)
        later = mix(h ^ 0x5555)
        if cancelled:
            delta = HOUR_MS + later % (20 * HOUR_MS)
        elif status == "NOT_STARTED":
            delta = 1000 + later % (5 * 60_000)  # payment arrived within minutes
        else:
            delta = 6 * HOUR_MS + later % (2 * DAY_MS)  # shipped within two days
        return max(created + 1, min(created + delta, self.epoch_ms - 1 - (later >> 50) % 60_000))

    def base_status(self, i: int) -> str:
        return self._shape(i)[0]

    # -------------------------------------------------------------- identifiers
    def order_id(self, i: int) -> str:
        n = (i * _ORDER_MULTIPLIER + self._salt) % _ORDER_MODULUS
        return f"{n // 10 ** 10:02d}-{n // 10 ** 5 % 10 ** 5:05d}-{n % 10 ** 5:05d}"

    def index_of(self, order_id: str) -> int | None:
        """The index of an order id of this book's form (whether or not such an order exists)."""
        parts = order_id.split("-")
        if len(parts) != 3 or [len(p) for p in parts] != [2, 5, 5] or not all(p.isdigit() for p in parts):
            return None
        n = int("".join(parts))
        return (n - self._salt) * _ORDER_INVERSE % _ORDER_MODULUS

    @staticmethod
    def line_item_id(i: int, k: int) -> str:
        return str(10_000_000_000_000 + i * 8 + k)

    # -------------------------------------------------------------- people
    @staticmethod
    def person(r) -> dict:
        """A buyer or recipient drawn with `r` (a `random.Random().random`)."""
        first, last = _FIRST[int(r() * len(_FIRST))], _LAST[int(r() * len(_LAST))]
        city, postal, country, region = _PLACES[int(r() * len(_PLACES))]
        address = {"addressLine1": f"{_STREETS[int(r() * len(_STREETS))]} {1 + int(r() * 180)}", "city": city,
                   "postalCode": postal, "countryCode": country}
        if r() < 0.25:
            address["addressLine2"] = _LINE2[int(r() * len(_LINE2))]
        if region is not None:
            address["stateOrProvince"] = region
        return {"first": first, "last": last, "address": address,
                "phone": f"+49 {150 + int(r() * 30)} {int(r() * 10 ** 7):07d}"}

    # -------------------------------------------------------------- orders
    def order(self, i: int, created_ms: int | None = None, modified_ms: int | None = None,
              lines: list[tuple[int, int]] | None = None, status: str | None = None,
              cancelled: bool | None = None) -> dict:
        """Order `i` as getOrder answers it (fulfillmentHrefs relative to the API root).

        The keyword arguments build a new order (not a seeded one): its times, its lines as
        (SKU index, quantity) and a status other than the hash's."""
        seeded = lines is None
        base_status, base_cancelled, item_count, first_quantity = self._shape(i)
        status = base_status if status is None else status
        cancelled = base_cancelled if cancelled is None else cancelled
        created = self.creation[i] if created_ms is None else created_ms
        modified = self.modified[i] if modified_ms is None else modified_ms
        rng = random.Random(self._hash(i) ^ 0xABCDEF)
        r = rng.random
        cur = self.currency
        buyer = self.person(r)
        ship_to = buyer if r() < 0.85 else self.person(r)
        if seeded:
            lines = []
            size = self.catalogue.size
            for k in range(item_count):
                sku_index = int(size * r() ** 1.6)  # a few best sellers
                lines.append((sku_index, first_quantity if k == 0 else 1 + (r() < 0.1)))
        order_id = self.order_id(i)
        fulfilled = self._seeded_shipped(i, status, lines) if seeded else {}
        gb = ship_to["address"]["countryCode"] == "GB"
        carrier, service = _CARRIERS[int(r() * len(_CARRIERS))]
        ship_by = created + 2 * DAY_MS
        min_delivery, max_delivery = created + 3 * DAY_MS, created + 5 * DAY_MS
        line_items, subtotal, delivery_total, tax_total = [], 0, 0, 0
        min_stamp, max_stamp, ship_by_stamp = stamp(min_delivery), stamp(max_delivery), stamp(ship_by)
        for k, (sku_index, quantity) in enumerate(lines):
            product = self.catalogue.product(sku_index)
            cost = product["price"] * quantity
            shipping = 0 if k else (0 if cost >= 4000 else 495)
            tax = round(cost * 0.2) if gb else 0
            subtotal, delivery_total, tax_total = subtotal + cost, delivery_total + shipping, tax_total + tax
            shipped = fulfilled.get(k, 0)
            line = {
                "lineItemId": self.line_item_id(i, k),
                "legacyItemId": self.catalogue.listing_id(sku_index),
                "sku": product["sku"],
                "title": product["title"],
                "lineItemCost": money(cost, cur),
                "quantity": quantity,
                "soldFormat": "FIXED_PRICE",
                "listingMarketplaceId": self.catalogue.marketplace_id,
                "purchaseMarketplaceId": "EBAY_GB" if gb else self.catalogue.marketplace_id,
                "lineItemFulfillmentStatus": "FULFILLED" if shipped >= quantity else "IN_PROGRESS" if shipped
                else "NOT_STARTED",
                "total": money(cost + shipping + tax, cur),
                "deliveryCost": {"shippingCost": money(shipping, cur)},
                "appliedPromotions": [],
                "taxes": [{"amount": money(tax, cur)}] if tax else [],
                "properties": {"buyerProtection": True},
                "lineItemFulfillmentInstructions": {
                    "minEstimatedDeliveryDate": min_stamp, "maxEstimatedDeliveryDate": max_stamp,
                    "shipByDate": ship_by_stamp, "guaranteedDelivery": False},
                "itemLocation": {"location": "Trier", "countryCode": "DE", "postalCode": "54290"},
                "refunds": [],
            }
            if tax:
                line["ebayCollectAndRemitTaxes"] = [{"taxType": "VAT", "amount": money(tax, cur),
                                                     "collectionMethod": "NET"}]
            line_items.append(line)
        total = subtotal + delivery_total + tax_total
        fee = round((subtotal + delivery_total) * 0.11) + 35
        email = f"{rng.getrandbits(80):020x}@members.ebay.com"
        recent = self.epoch_ms - created < 14 * DAY_MS or not seeded

        def contact(person: dict) -> dict:
            shown = {"fullName": f"{person['first']} {person['last']}", "contactAddress": dict(person["address"]),
                     "primaryPhone": {"phoneNumber": person["phone"]}}
            if recent:
                shown["email"] = email
            return shown

        payment_status = "PAID"
        order_payment = "PAID"
        if cancelled:
            order_payment = "FULLY_REFUNDED"
        elif status == "NOT_STARTED" and self.epoch_ms - created < DAY_MS and r() < 0.04:
            payment_status = order_payment = "PENDING"
        order = {
            "orderId": order_id,
            "legacyOrderId": order_id,
            "creationDate": stamp(created),
            "lastModifiedDate": stamp(modified),
            "orderFulfillmentStatus": status,
            "orderPaymentStatus": order_payment,
            "sellerId": "marketsync_seller",
            "buyer": {
                "username": f"{buyer['first'].lower()}_{buyer['last'][:3].lower()}{int(r() * 1000)}",
                "taxAddress": {k: v for k, v in buyer["address"].items() if k in ("city", "stateOrProvince",
                                                                                  "postalCode", "countryCode")},
                "buyerRegistrationAddress": contact(buyer),
            },
            "pricingSummary": {"priceSubtotal": money(subtotal, cur), "deliveryCost": money(delivery_total, cur),
                               "total": money(total, cur)},
            "cancelStatus": {"cancelState": "CANCELED" if cancelled else "NONE_REQUESTED", "cancelRequests": []},
            "paymentSummary": {
                "totalDueSeller": money(total - tax_total, cur),
                "refunds": [],
                "payments": [{"paymentMethod": "EBAY", "paymentReferenceId": f"{int(r() * 10 ** 12):012d}",
                              "amount": money(total - tax_total, cur), "paymentStatus": payment_status}],
            },
            "fulfillmentStartInstructions": [{
                "fulfillmentInstructionsType": "SHIP_TO",
                "minEstimatedDeliveryDate": min_stamp,
                "maxEstimatedDeliveryDate": max_stamp,
                "ebaySupportedFulfillment": False,
                "shippingStep": {"shipTo": contact(ship_to), "shippingCarrierCode": carrier,
                                 "shippingServiceCode": service},
            }],
            "fulfillmentHrefs": [],
            "lineItems": line_items,
            "salesRecordReference": str(10_000 + i),
            "totalFeeBasisAmount": money(total, cur),
            "totalMarketplaceFee": money(fee, cur),
        }
        if payment_status == "PAID":
            order["paymentSummary"]["payments"][0]["paymentDate"] = stamp(created + 1000 + self._hash(i) % 60_000)
        if tax_total:
            order["pricingSummary"]["tax"] = money(tax_total, cur)
            order["ebayCollectAndRemitTax"] = True
        if cancelled:
            when = stamp(modified)
            order["cancelStatus"]["cancelledDate"] = when
            order["cancelStatus"]["cancelRequests"] = [{
                "cancelCompletedDate": when, "cancelInitiator": "Buyer", "cancelReason": "BUYER_ASKED_CANCEL",
                "cancelRequestedDate": stamp(max(created, modified - HOUR_MS)),
                "cancelRequestId": str(5_000_000_000 + i), "cancelRequestState": "COMPLETED"}]
            order["paymentSummary"]["refunds"] = [{"amount": money(total - tax_total, cur), "refundDate": when,
                                                   "refundId": f"5{i:011d}", "refundStatus": "REFUNDED"}]
        if r() < 0.05:
            order["buyerCheckoutNotes"] = _NOTES[int(r() * len(_NOTES))]
        if fulfilled:
            order["fulfillmentHrefs"] = [f"/sell/fulfillment/v1/order/{order_id}/shipping_fulfillment/"
                                         f"{self._tracking(i)[1]}"]
        return order

    def _seeded_shipped(self, i: int, status: str, lines: list[tuple[int, int]]) -> dict[int, int]:
        """Line position -> quantity shipped by the seeded fulfillment of order `i`."""
        if status == "FULFILLED":
            return {k: quantity for k, (_, quantity) in enumerate(lines)}
        if status == "IN_PROGRESS":
            return {0: lines[0][1]} if len(lines) > 1 else {0: 1}
        return {}

    def seeded_lines(self, i: int) -> list[tuple[int, int]]:
        """(line position, quantity) shipped by the seeded fulfillment of order `i`."""
        status, cancelled, items, first_quantity = self._shape(i)
        if cancelled or status == "NOT_STARTED":
            return []
        if status == "IN_PROGRESS":
            return [(0, first_quantity if items > 1 else 1)]
        return [(k, None) for k in range(items)]  # None: the whole line

    def _tracking(self, i: int) -> tuple[str, str]:
        """(carrier code, tracking number) of the seeded package of order `i`."""
        h = mix(self._hash(i) ^ 0x7777)
        carrier = _CARRIERS[h % len(_CARRIERS)][0]
        return carrier, {"DHL": f"00340434{h % 10 ** 12:012d}", "DPD": f"0{h % 10 ** 13:013d}",
                         "HERMES": f"H{h % 10 ** 19:019d}", "GLS": f"{h % 10 ** 11:011d}"}[carrier]

    def fulfillments(self, i: int) -> list[dict]:
        """The seeded shipping fulfillments of order `i` (none, or one package)."""
        if i >= self.count:
            return []
        status, cancelled, _, _ = self._shape(i)
        if cancelled or status == "NOT_STARTED":
            return []
        order_lines = None
        h, (carrier, tracking) = self._hash(i), self._tracking(i)
        items = []
        for k, quantity in self.seeded_lines(i):
            if quantity is None:
                if order_lines is None:
                    order_lines = self.order(i)["lineItems"]
                quantity = order_lines[k]["quantity"]
            items.append({"lineItemId": self.line_item_id(i, k), "quantity": quantity})
        shipped = self.modified[i] - (h >> 40) % HOUR_MS
        return [{"fulfillmentId": tracking, "shipmentTrackingNumber": tracking, "shippingCarrierCode": carrier,
                 "shippedDate": stamp(max(self.creation[i], shipped)), "lineItems": items}]


def default_epoch() -> datetime:
    """Where seeded history ends by default: the start of the current UTC day."""
    now = datetime.now(UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC)
