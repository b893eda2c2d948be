"""Seeded data of the Amazon sandbox: a selling partner's catalogue (SKUs and their listings) and its
orders, shaped as the Orders API v2026-01-01 and the Listings Items API 2021-08-01 define them. Every
value is invented; field names and enumerations come from the public models.

`(seed, size, epoch)` fixes everything. An order's skeleton (when it was created and last updated,
its marketplace, whether Amazon fulfils it, its fulfilment status) is drawn for every order in one
pass when the book is built (about a second per million orders); everything else about order `i`
(items, buyer, address, packages) is computed on its own from `(seed, i)` when it is served, so
50,000 orders cost nothing until they are read. SKU `i` of the catalogue is likewise computed on
its own, so a catalogue of 100,000 SKUs is free.
"""

import hashlib
import random
import struct
import time
from bisect import bisect_left
from itertools import chain

# Marketplace id, name, country, currency, language tag, top-level domain, share of orders.
# (Ids as Amazon publishes them for its European stores.)
MARKETPLACES = (
    ("A1PA6795UKMFR9", "Amazon.de", "DE", "EUR", "de_DE", "de", 0.50),
    ("A13V1IB3VIYZZH", "Amazon.fr", "FR", "EUR", "fr_FR", "fr", 0.20),
    ("APJ6JRA9NG5V4", "Amazon.it", "IT", "EUR", "it_IT", "it", 0.10),
    ("A1RKKUPIHCS9HS", "Amazon.es", "ES", "EUR", "es_ES", "es", 0.10),
    ("A1805IZSGTT6HS", "Amazon.nl", "NL", "EUR", "nl_NL", "nl", 0.05),
    ("AMEN7PMS3EDWL", "Amazon.com.be", "BE", "EUR", "fr_BE", "com.be", 0.05),
)
MARKETPLACE_IDS = tuple(m[0] for m in MARKETPLACES)
DEFAULT_SELLER_ID = "A2SIMSELLER7EU"

FULFILLMENT_STATUSES = ("PENDING_AVAILABILITY", "PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED",
                        "CANCELLED", "UNFULFILLABLE")
PENDING_AVAILABILITY, PENDING, UNSHIPPED, PARTIALLY_SHIPPED, SHIPPED, CANCELLED, UNFULFILLABLE = range(7)
FULFILLED_BY = ("MERCHANT", "AMAZON")

_MASK = (1 << 64) - 1
_ORDER_MULTIPLIER = 7_654_321  # odd and not a multiple of 5: scrambling mod 10**7 is a bijection
_ORDER_INVERSE = pow(_ORDER_MULTIPLIER, -1, 10 ** 7)
_ORDER_PREFIXES = ("302", "303", "304", "305", "306", "028")


def _mix(value: int) -> int:
    """splitmix64's finaliser: 64 well-mixed bits from any integer."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


class Bits:
    """A small, fast deterministic stream of random numbers for one object (splitmix64)."""

    __slots__ = ("state",)

    def __init__(self, *key: int):
        state = 0x1F2E3D4C5B6A7988
        for part in key:
            state = _mix(state ^ (part & _MASK))
        self.state = state

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & _MASK
        return _mix(self.state)

    def unit(self) -> float:
        return (self.next() >> 11) / 9007199254740992.0

    def below(self, n: int) -> int:
        return self.next() % n

    def pick(self, options):
        return options[self.next() % len(options)]


_SCALE = 1.0 / 65536


class Draws:
    """The random numbers of one order: 16-bit draws from BLAKE2b digests of its index under the
    seed (one digest holds the first 16 draws and 16 bytes for identifiers; more digests follow only
    when an order needs more). Several times cheaper than seeding a Mersenne Twister per order."""

    __slots__ = ("_take", "digest")

    def __init__(self, key: bytes, index: int):
        self.digest = hashlib.blake2b(index.to_bytes(8, "little"), digest_size=48, key=key).digest()
        self._take = chain(struct.unpack_from("<16H", self.digest), _more_draws(key, index)).__next__

    def unit(self) -> float:
        return self._take() * _SCALE

    def below(self, n: int) -> int:
        return self._take() * n >> 16

    def pick(self, options):
        return options[self._take() * len(options) >> 16]


def _more_draws(key: bytes, index: int):
    block = 1
    while True:
        yield from struct.unpack("<32H", hashlib.blake2b(index.to_bytes(8, "little") + block.to_bytes(4, "little"),
                                                         digest_size=64, key=key).digest())
        block += 1


_DAYS: dict[int, str] = {}
_TIMES: list[str] = []


def iso(seconds: float) -> str:
    """An instant (Unix seconds) as the APIs write it: `2025-01-01T10:30:00Z`. (Served orders hold
    a handful each, so the times of day are looked up, not formatted.)"""
    day, rest = divmod(int(seconds), 86400)
    prefix = _DAYS.get(day)
    if prefix is None:
        prefix = _DAYS[day] = "{:04d}-{:02d}-{:02d}T".format(*time.gmtime(day * 86400)[:3])
    if not _TIMES:
        _TIMES.extend(f"{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60))
    return prefix + _TIMES[rest]


def money(cents: int, currency: str = "EUR") -> dict:
    return {"amount": f"{cents // 100}.{cents % 100:02d}", "currencyCode": currency}


# ------------------------------------------------------------------------------------------ catalogue
_CATEGORIES = (
    # product type, SKU code, nouns, price range in cents
    ("SHIRT", "TEE", ("Organic Cotton T-Shirt", "Linen Shirt", "Merino Polo", "Hooded Sweatshirt"), (1490, 5990)),
    ("KITCHEN", "KIT", ("Espresso Cup Set", "Cast Iron Pan 28 cm", "Bamboo Cutting Board", "Enamel Teapot"),
     (990, 8990)),
    ("TOYS_AND_GAMES", "TOY", ("Wooden Marble Run", "Puzzle 1000 Pieces", "Plush Otter", "Building Blocks Set"),
     (790, 4990)),
    ("HOME", "HOM", ("Wool Throw Blanket", "Ceramic Vase", "LED Desk Lamp", "Scented Candle Trio"), (1290, 6990)),
    ("SPORTING_GOODS", "SPO", ("Yoga Mat 6 mm", "Resistance Band Set", "Insulated Bottle 750 ml", "Trail Socks 3-Pack"),
     (890, 4490)),
    ("GROCERY", "GRO", ("Single-Origin Coffee 1 kg", "Sencha Green Tea 100 g", "Olive Oil 500 ml",
                        "Dark Chocolate 70 %"),
     (390, 2990)),
)
_COLOURS = ("Black", "White", "Navy", "Sage", "Terracotta", "Sand", "Grey")
_SIZES = ("XS", "S", "M", "L", "XL")
_ASIN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class Catalogue:
    """The selling partner's SKUs: SKU `i` is `MS-` and six digits, with a size suffix for clothes,
    and every 97th carries a slash, a space and an umlaut (`MS-000005/Größe L`) for clients that
    forget to encode path segments. `index_of` inverts `sku`."""

    def __init__(self, seed: int, size: int):
        if size < 1:
            raise ValueError("a catalogue needs at least one SKU")
        self.seed = seed
        self.size = size
        self._products: dict[int, dict] = {}

    def _bits(self, index: int) -> Bits:
        return Bits(self.seed, 0xCA7, index)

    def sku(self, index: int) -> str:
        category = _CATEGORIES[index % len(_CATEGORIES)]
        if index % 97 == 5:
            return f"MS-{index:06d}/Größe {_SIZES[index % len(_SIZES)]}"
        if category[0] == "SHIRT":
            return f"MS-{index:06d}-{_SIZES[(index // 6) % len(_SIZES)]}"
        return f"MS-{index:06d}"

    def index_of(self, sku: str) -> int | None:
        digits = sku[3:9]
        if sku[:3] != "MS-" or not digits.isdigit():
            return None
        index = int(digits)
        if index >= self.size:
            return None
        if len(sku) == 9:  # the plain form: only categories without a size suffix use it
            return index if index % 97 != 5 and _CATEGORIES[index % len(_CATEGORIES)][0] != "SHIRT" else None
        return index if self.sku(index) == sku else None

    def product(self, index: int) -> dict:
        """What the catalogue knows of SKU `index`: productType, asin, itemName, price (cents),
        quantity (seeded stock) and age_days (how long before the epoch it was listed). Cached: do not
        change the answer."""
        product = self._products.get(index)
        if product is None:
            product = self._products[index] = self._product(index)
        return product

    def _product(self, index: int) -> dict:
        bits = self._bits(index)
        product_type, _, nouns, (low, high) = _CATEGORIES[index % len(_CATEGORIES)]
        noun = bits.pick(nouns)
        colour = bits.pick(_COLOURS)
        name = f"{noun}, {colour}"
        if product_type == "SHIRT":
            name += f", Size {_SIZES[(index // 6) % len(_SIZES)]}"
        asin = "B0" + "".join(_ASIN_ALPHABET[bits.below(36)] for _ in range(8))
        price = low + bits.below((high - low) // 10 + 1) * 10
        price = price - price % 100 + 90 if price % 100 > 90 else price  # x.90-ish endings
        roll = bits.unit()
        quantity = 0 if roll < 0.1 else (bits.below(5) + 1 if roll < 0.3 else bits.below(200) + 1)
        return {"productType": product_type, "asin": asin, "itemName": name, "price": price,
                "quantity": quantity, "age_days": 30 + bits.below(700)}


# -------------------------------------------------------------------------------------------- orders
_FIRST = ("Anna", "Lukas", "Marie", "Jonas", "Sophie", "Léa", "Mathis", "Giulia", "Lucía", "Sem", "Zoë", "Jürgen",
          "Chloé", "Noah", "Elif", "Mateo")
_LAST = ("Müller", "Schmit", "Dubois", "Rossi", "García", "de Vries", "Peeters", "Wagner", "Martin", "Bianchi",
         "López", "Jansen", "O'Neill", "Østergaard")
_ADDRESSES = {
    "DE": (("Berlin", "10115", "Berlin"), ("München", "80331", "Bayern"), ("Köln", "50667", "Nordrhein-Westfalen"),
           ("Trier", "54290", "Rheinland-Pfalz")),
    "FR": (("Paris", "75011", "Île-de-France"), ("Lyon", "69002", "Auvergne-Rhône-Alpes"),
           ("Metz", "57000", "Grand Est")),
    "IT": (("Milano", "20121", "MI"), ("Roma", "00184", "RM"), ("Torino", "10121", "TO")),
    "ES": (("Madrid", "28013", "Madrid"), ("Barcelona", "08001", "Barcelona"), ("Sevilla", "41001", "Sevilla")),
    "NL": (("Amsterdam", "1012 AB", "Noord-Holland"), ("Utrecht", "3511 AA", "Utrecht")),
    "BE": (("Bruxelles", "1000", "Bruxelles"), ("Antwerpen", "2000", "Antwerpen"), ("Arlon", "6700", "Luxembourg")),
}
_STREETS = ("Hauptstraße", "Rue de la Gare", "Via Roma", "Calle Mayor", "Kerkstraat", "Avenue Louise", "Lindenweg")
_CARRIERS = (("DHL", "DHL Paket"), ("DPD", "DPD Classic"), ("UPS", "UPS Standard"), ("Hermes", "Hermes Paket"),
             ("GLS", "GLS BusinessParcel"), ("Colissimo", "Colissimo Domicile"))
SHIP_FROM = {"name": "Marketsync Sandbox Lager", "addressLine1": "Rue de l'Industrie 40", "city": "Bettembourg",
             "postalCode": "3290", "countryCode": "LU"}
_CANCEL_REASONS = ("Ordered by mistake", "Found a better price", "Delivery takes too long", "No longer needed")
_HOUR = 3600
_DAY = 86400


def _cumulative(shares):
    total, out = 0.0, []
    for share in shares:
        total += share
        out.append(total)
    return out


def _choose(cumulative: list[float], roll: float) -> int:
    return min(bisect_left(cumulative, roll), len(cumulative) - 1)


# (share, status) by age of the order; merchant-fulfilled first, Amazon-fulfilled second
_STATUS_TABLES = {
    "fresh": ((0.02, PENDING_AVAILABILITY), (0.17, PENDING), (0.95, UNSHIPPED), (1.0, CANCELLED)),
    "recent": ((0.02, PENDING), (0.47, UNSHIPPED), (0.50, PARTIALLY_SHIPPED), (0.95, SHIPPED), (1.0, CANCELLED)),
    "old": ((0.02, UNSHIPPED), (0.04, PARTIALLY_SHIPPED), (0.92, SHIPPED), (1.0, CANCELLED)),
    "afn_fresh": ((0.30, PENDING), (0.95, UNSHIPPED), (1.0, CANCELLED)),
    "afn": ((0.03, UNSHIPPED), (0.95, SHIPPED), (1.0, CANCELLED)),
}


def _status(table: str, roll: float) -> int:
    for share, status in _STATUS_TABLES[table]:
        if roll < share:
            return status
    return _STATUS_TABLES[table][-1][1]


class OrderBook:
    """The seeded orders: order `i` was created at `created[i]` (Unix seconds, non-decreasing in `i`,
    spread over the `history_days` before `epoch`), last updated at `updated[i]` (never after
    `epoch`), in marketplace `market[i]` (an index into MARKETPLACES), fulfilled by Amazon when
    `afn[i]`, with fulfilment status `status[i]` (an index into FULFILLMENT_STATUSES).
    `document(i)` is the whole Order (every dataset the simulator models)."""

    def __init__(self, seed: int, size: int, epoch: int, catalogue: Catalogue, history_days: float = 30.0,
                 afn_share: float = 0.2, marketplace_ids: tuple[str, ...] = MARKETPLACE_IDS):
        self.seed, self.size, self.epoch, self.catalogue = seed, size, int(epoch), catalogue
        markets = [MARKETPLACE_IDS.index(m) for m in marketplace_ids]
        shares = _cumulative(MARKETPLACES[m][6] for m in markets)
        cumulative = [share / shares[-1] for share in shares]
        self.history = int(history_days * _DAY)
        rng = random.Random(seed * 7919 + size)
        start = self.epoch - self.history
        step = self.history / max(size, 1)
        created, updated, market, afn, status = [], [], bytearray(size), bytearray(size), bytearray(size)
        for i in range(size):
            moment = int(start + (i + rng.random()) * step)
            age = self.epoch - moment
            is_afn = rng.random() < afn_share
            roll = rng.random()
            if is_afn:
                state = _status("afn_fresh" if age < 12 * _HOUR else "afn", roll)
            else:
                state = _status("fresh" if age < 6 * _HOUR else "recent" if age < 2 * _DAY else "old", roll)
            delay = rng.random()
            if state in (PENDING, PENDING_AVAILABILITY):
                changed = moment
            elif state == UNSHIPPED:
                changed = moment + 60 + int(delay * 1800)
            elif state == CANCELLED:
                changed = moment + 300 + int(delay * _DAY)
            else:
                changed = moment + 2 * _HOUR + int(delay * 58 * _HOUR)
            created.append(moment)
            updated.append(min(changed, self.epoch))
            market[i] = markets[_choose(cumulative, rng.random())]
            afn[i] = is_afn
            status[i] = state
        self.created, self.updated, self.market, self.afn, self.status = created, updated, market, afn, status
        self._id_offset = _mix(seed ^ 0x0DE5) % 10 ** 7
        self._key = f"orders:{seed}".encode()

    # ----------------------------------------------------------------- identifiers
    def draws(self, index: int) -> Draws:
        return Draws(self._key, index)

    def order_id(self, index: int, digest: bytes | None = None) -> str:
        digest = digest or self.draws(index).digest
        middle = (index * _ORDER_MULTIPLIER + self._id_offset) % 10 ** 7
        tail = int.from_bytes(digest[32:40], "little") % 10 ** 7
        return f"{_ORDER_PREFIXES[digest[40] % len(_ORDER_PREFIXES)]}-{middle:07d}-{tail:07d}"

    def index_of(self, order_id: str, limit: int) -> int | None:
        """The index of `order_id` among the first `limit` orders, or None."""
        parts = order_id.split("-")
        if len(parts) != 3 or not all(p.isdigit() for p in parts) or [len(p) for p in parts] != [3, 7, 7]:
            return None
        index = ((int(parts[1]) - self._id_offset) * _ORDER_INVERSE) % 10 ** 7
        return index if index < limit and self.order_id(index) == order_id else None

    def item_id(self, index: int, position: int) -> str:
        return f"{(self.seed % 89) + 10:02d}{index:09d}{position:03d}"

    # ----------------------------------------------------------------- documents
    def document(self, index: int, included=None) -> dict:
        """Order `index` as it was seeded with the `included` datasets (names as the API's
        `includedData` spells them; None: every dataset the simulator models). The random draws do
        not depend on `included`, so every view of an order agrees."""
        every = included is None
        with_buyer = every or "BUYER" in included
        with_recipient = every or "RECIPIENT" in included
        with_proceeds = every or "PROCEEDS" in included
        with_fulfillment = every or "FULFILLMENT" in included
        with_packages = every or "PACKAGES" in included
        with_cancellation = every or "CANCELLATION" in included
        bits = self.draws(index)
        market_id, market_name, country, currency, _, tld, _ = MARKETPLACES[self.market[index]]
        created, updated, state = self.created[index], self.updated[index], self.status[index]
        is_afn = bool(self.afn[index])
        lines = 1 if (roll := bits.unit()) < 0.75 else 2 if roll < 0.93 else 3
        if state == PARTIALLY_SHIPPED:
            lines = max(lines, 2)  # one line shipped, one still open
        skus: list[int] = []
        size = self.catalogue.size
        while len(skus) < min(lines, size):
            candidate = int(size * bits.unit() ** 2)
            if candidate not in skus:
                skus.append(candidate)
        business = bits.unit() < 0.05
        prime = bits.unit() < 0.4
        lines_data = []
        for sku_index in skus:
            product = self.catalogue.product(sku_index)
            quantity = 1 if (roll := bits.unit()) < 0.8 else 2 if roll < 0.95 else 3
            lines_data.append((sku_index, product, quantity))
        item_total = sum(product["price"] * quantity for _, product, quantity in lines_data)
        shipping = 0 if prime or is_afn or item_total >= 2900 else 399
        shipped_lines = len(lines_data) if state == SHIPPED or len(lines_data) == 1 else 1
        items = []
        for position, (sku_index, product, quantity) in enumerate(lines_data, start=1):
            item = {
                "orderItemId": self.item_id(index, position),
                "quantityOrdered": quantity,
                "programs": [],
                "product": {
                    "asin": product["asin"], "title": product["itemName"],
                    "sellerSku": self.catalogue.sku(sku_index),
                    "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
                    "price": {"unitPrice": money(product["price"], currency)},
                },
            }
            if with_proceeds:
                line = product["price"] * quantity
                breakdowns = [{"type": "ITEM", "subtotal": money(line, currency)}]
                if position == 1 and shipping:
                    breakdowns.append({"type": "SHIPPING", "subtotal": money(shipping, currency)})
                    line += shipping
                item["proceeds"] = {"proceedsTotal": money(line, currency), "breakdowns": breakdowns}
            if with_fulfillment:
                done = quantity if state in (SHIPPED, PARTIALLY_SHIPPED) and position <= shipped_lines else 0
                item["fulfillment"] = {"quantityFulfilled": done, "quantityUnfulfilled": quantity - done}
            items.append(item)
        first, last = bits.pick(_FIRST), bits.pick(_LAST)
        city, postal, region = bits.pick(_ADDRESSES[country])
        level = "STANDARD" if (roll := bits.unit()) < 0.85 else "EXPEDITED" if roll < 0.95 else "NEXT_DAY"
        street = f"{bits.pick(_STREETS)} {1 + bits.below(120)}"
        created_text = iso(created)
        order = {
            "orderId": self.order_id(index, bits.digest),
            "orderAliases": [{"aliasId": f"MS-{created % 100000:05d}-{index}", "aliasType": "SELLER_ORDER_ID"}],
            "createdTime": created_text,
            "lastUpdatedTime": iso(updated),
            "programs": [p for p, on in (("PRIME", prime), ("AMAZON_BUSINESS", business)) if on],
            "associatedOrders": [],
            "salesChannel": {"channelName": "AMAZON", "marketplaceId": market_id, "marketplaceName": market_name},
        }
        if with_buyer:
            order["buyer"] = {"buyerName": f"{first} {last}",
                              "buyerEmail": f"{bits.digest[41:47].hex()}@marketplace.amazon.{tld}"}
            if business:
                order["buyer"]["buyerCompanyName"] = f"{last} & Partner"
        if with_recipient:
            order["recipient"] = {"deliveryAddress": {
                "name": f"{first} {last}", "addressLine1": street, "city": city, "stateOrRegion": region,
                "postalCode": postal, "countryCode": country,
                "addressType": "COMMERCIAL" if business else "RESIDENTIAL"}}
        if with_proceeds:
            order["proceeds"] = {"grandTotal": money(item_total + shipping, currency),
                                 "breakdowns": [{"type": "ITEM", "subtotal": money(item_total, currency)}]
                                 + ([{"type": "SHIPPING", "subtotal": money(shipping, currency)}] if shipping else [])}
        if with_fulfillment:
            order["fulfillment"] = {
                "fulfillmentStatus": FULFILLMENT_STATUSES[state],
                "fulfilledBy": FULFILLED_BY[is_afn],
                "fulfillmentServiceLevel": level,
                "shipByWindow": {"earliestDateTime": created_text, "latestDateTime": iso(created + 2 * _DAY)},
                "deliverByWindow": {"earliestDateTime": iso(created + 2 * _DAY),
                                    "latestDateTime": iso(created + 5 * _DAY)},
            }
        order["orderItems"] = items
        if state == CANCELLED:
            reason = bits.pick(_CANCEL_REASONS)
            if with_cancellation:
                for item in items:
                    item["cancellation"] = {
                        "cancellationRequest": {"requester": "BUYER", "cancelReason": reason},
                        "cancellationExecution": {"cancelledBy": "MERCHANT", "cancelReason": reason}}
        elif state in (SHIPPED, PARTIALLY_SHIPPED) and not is_afn:
            carrier, service = bits.pick(_CARRIERS)
            if with_packages:
                delivered = self.epoch - updated > 3 * _DAY
                order["packages"] = [{
                    "packageReferenceId": "1", "createdTime": iso(updated), "carrier": carrier,
                    "shippingService": service, "shipTime": iso(updated),
                    "trackingNumber": f"{int.from_bytes(bits.digest[32:47], 'little') % 10 ** 14:014d}",
                    "packageStatus": {"status": "DELIVERED" if delivered else "SHIPPED",
                                      "detailedStatus": "DELIVERED" if delivered else "IN_TRANSIT"},
                    "shipFromAddress": dict(SHIP_FROM),
                    "packageItems": [{"orderItemId": item["orderItemId"], "quantity": item["quantityOrdered"]}
                                     for item in items[:shipped_lines]],
                }]
        return order
