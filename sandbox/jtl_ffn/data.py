"""Seeded JTL-FFN merchant data: warehouses, shipping methods, products, stock, inbounds and outbounds,
shaped as the FFN API's schemas (field names from the public "Fulfiller Api v1" OpenAPI document,
whose schemas the Merchant API shares). Values are invented.

Identifiers follow the pattern the public examples show: a four-letter merchant (or fulfiller) id, a
two-digit object type (01 product, 02 outbound, 03 inbound, 04 warehouse, 06 outbound shipping
notification; 07 for inbound shipping notifications is our choice) and a code. A jfsku is always 11
characters.

`(seed, size)` fixes everything. Product `i` (its jfsku, master data and the stock the fulfiller holds
of it) is computed on its own from a block of random bits, so 100,000 products cost nothing until they
are served, and a catalogue is a prefix of any larger one. Inbounds and outbounds are generated in
full (a few per hundred products) because stock reservations and announcements point at them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DEFAULT_MERCHANT_ID = "MSYN"
DEFAULT_FULFILLER_ID = "FLFX"
# Seeded history happens in the 120 days before this instant; objects made through the API are "now".
EPOCH = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)
HISTORY_DAYS = 120
_MULTIPLIER = 1_000_003  # prime, so coprime with every power of 36: scrambling is a bijection
_BLOCK = 1024

_GROUPS = (
    # product group, code, nouns, manufacturers, best-before goods
    ("Apparel", "APP", ("T-Shirt", "Hoodie", "Beanie", "Socks 3-Pack", "Rain Jacket", "Polo Shirt"),
     ("Nordkap Textil", "Moselwear", "Urban Fjord"), False),
    ("Kitchen", "KIT", ("Espresso Cup Set", "Teapot", "Chef's Knife", "Cutting Board", "Mixing Bowl"),
     ("Küchenwerk", "Ardennes Home", "Brasserie & Co"), False),
    ("Electronics", "ELE", ("USB-C Cable 2 m", "Power Bank 10000 mAh", "Bluetooth Speaker", "Wall Charger 65 W"),
     ("Voltaris", "Lumen Labs", "Kabelkönig"), False),
    ("Garden", "GAR", ("Hose Reel", "Pruning Shears", "Seed Tray", "Watering Can 10 l"),
     ("Grünfink", "Terrazza"), False),
    ("Toys", "TOY", ("Wooden Train", "Puzzle 1000 pcs", "Plush Fox", "Building Blocks"),
     ("Spielwiese", "Kobold Kids"), False),
    ("Food", "FOO", ("Coffee Beans 1 kg", "Green Tea 100 g", "Olive Oil 500 ml", "Dark Chocolate 70 %"),
     ("Rösterei Süd", "Olivar"), True),
)
_COLOURS = ("Black", "White", "Navy", "Forest Green", "Bordeaux", "Sand", "Grey Melange")
_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
_ODD_NAMES = ('Crème "Brûlée" Torch', "Ægir Beard Oil & Balm", "Zoë's Café Grinder", "Straßenkreide 12er-Set",
              "Ranger <Pro> Multitool")

WAREHOUSE_SITES = (
    ("Lager Nord", "Hafenstraße 12", "Hamburg", "20457", "DE"),
    ("Lager Mitte", "Am Güterbahnhof 3", "Kassel", "34117", "DE"),
    ("Entrepôt Sud", "Rue de l'Industrie 40", "Bettembourg", "3290", "LU"),
    ("Lager Süd", "Logistikring 7", "Augsburg", "86153", "DE"),
    ("Magazijn West", "Havenweg 55", "Venlo", "5928", "NL"),
)
# name, carrier code, carrier name, shipping type, tracking URL schema (#TrackingId# is replaced)
SHIPPING_METHODS = (
    ("DHL Paket", "DHL", "DHL", "Standard", "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode=#TrackingId#"),
    ("DPD Classic", "DPD", "DPD", "Standard", "https://tracking.dpd.de/status/de_DE/parcel/#TrackingId#"),
    ("UPS Express Saver", "UPS", "UPS", "Expedited", "https://www.ups.com/track?tracknum=#TrackingId#"),
    ("GLS Business Parcel", "GLS", "GLS", "Standard", "https://gls-group.com/track/#TrackingId#"),
)
_SALES_CHANNELS = ("Letzshop", "Onlineshop", "Amazon", "eBay")
_FIRST = ("Anna", "Luc", "Marie", "Jonas", "Sophie", "Tom", "Léa", "Mats", "Zoë", "Noah", "Chloé", "Jürgen")
_LAST = ("Schmit", "Weber", "Muller", "Hoffmann", "Becker", "Wagner", "Reuter", "Kieffer", "Østergaard", "Dupont")
_CITIES = (("Luxembourg", "1111", "LU"), ("Esch-sur-Alzette", "4001", "LU"), ("Trier", "54290", "DE"),
           ("Köln", "50667", "DE"), ("Metz", "57000", "FR"), ("Arlon", "6700", "BE"), ("Wien", "1010", "AT"))
_STREETS = ("Grand-Rue", "Rue de la Gare", "Hauptstraße", "Bahnhofstraße", "Avenue de la Liberté", "Kirchweg")
_SUPPLIERS = (("Nordkap Textil GmbH", "SUP-100"), ("Küchenwerk AG", "SUP-200"), ("Voltaris Ltd", "SUP-300"),
              ("Rösterei Süd KG", "SUP-400"))

INBOUND_STATUSES = ((0.10, "Preparation"), (0.40, "Pending"), (0.60, "PartiallyReceipted"), (0.85, "Receipted"),
                    (1.0, "Closed"))
OUTBOUND_STATUSES = ((0.05, "Preparation"), (0.20, "Pending"), (0.35, "Acknowledged"), (0.45, "Pickprocess"),
                     (0.47, "Locked"), (0.52, "PartiallyShipped"), (0.92, "Shipped"), (1.0, "Canceled"))
# The status timestamps an outbound collects on its way to each status.
_STATUS_PATHS = {
    "Preparation": ("preparation",),
    "Pending": ("preparation", "pending"),
    "Acknowledged": ("preparation", "pending", "acknowledged"),
    "Pickprocess": ("preparation", "pending", "acknowledged", "pickprocess"),
    "Locked": ("preparation", "pending", "locked"),
    "PartiallyShipped": ("preparation", "pending", "acknowledged", "pickprocess", "partiallyShipped"),
    "Shipped": ("preparation", "pending", "acknowledged", "pickprocess", "shipped"),
    "Canceled": ("preparation", "pending", "canceled"),
}
# Outbounds in these states no longer hold stock.
CLOSED_OUTBOUND = frozenset({"Shipped", "Canceled"})


def timestamp(moment: datetime) -> str:
    """An FFN timestamp: ISO 8601, milliseconds, explicit UTC offset."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def base36(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 36)
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


def from_base36(text: str) -> int | None:
    number = 0
    for char in text:
        digit = ALPHABET.find(char)
        if digit < 0:
            return None
        number = number * 36 + digit
    return number


def scramble(index: int, width: int, salt: int) -> str:
    """A `width`-character base-36 code for `index`, unique per index, that does not look sequential."""
    modulus = 36 ** width
    return base36((index * _MULTIPLIER + salt) % modulus, width)


def unscramble(code: str, salt: int) -> int | None:
    number = from_base36(code)
    if number is None:
        return None
    modulus = 36 ** len(code)
    return ((number - salt) * pow(_MULTIPLIER, -1, modulus)) % modulus


def ean13(body12: int) -> str:
    """A GTIN-13 with a correct check digit for a 12-digit body."""
    digits = f"{body12:012d}"
    total = sum(int(d) * (3 if k % 2 else 1) for k, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def _modification(created: datetime, updated: datetime | None = None) -> dict:
    return {"createdAt": timestamp(created), "updatedAt": timestamp(updated or created),
            "state": "Modified" if updated and updated != created else "New"}


def _address(rng: random.Random) -> dict:
    city, zip_code, country = rng.choice(_CITIES)
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    company = rng.random() < 0.15
    return {"salutation": None, "firstname": first, "lastname": last,
            "company": f"{last} & Partner S.à r.l." if company else None,
            "street": f"{rng.choice(_STREETS)} {rng.randint(1, 180)}", "city": city, "zip": zip_code,
            "country": country, "email": f"{first.lower()}.{last.lower()}@example.com".replace(" ", ""),
            "phone": f"+352 {rng.randint(600000, 699999)}" if rng.random() < 0.5 else None,
            "extraLine": None, "extraAddressLine": None, "state": None, "mobile": None, "fax": None}


@dataclass(frozen=True)
class StockEntry:
    """What the fulfiller holds of one product in one warehouse, before anything the API changes."""

    warehouse: int  # index into the warehouses
    level: int
    blocked: int


class Catalogue:
    """Computes the seeded objects of one simulated FFN merchant."""

    def __init__(self, seed: int, size: int, *, merchant_id: str = DEFAULT_MERCHANT_ID,
                 fulfiller_id: str = DEFAULT_FULFILLER_ID, warehouse_count: int = 3):
        if len(merchant_id) != 4 or len(fulfiller_id) != 4:
            raise ValueError("merchant and fulfiller ids are four characters")
        if not 1 <= warehouse_count <= len(WAREHOUSE_SITES):
            raise ValueError(f"warehouse_count must be 1 to {len(WAREHOUSE_SITES)}")
        if not 0 <= size <= 36 ** 5:
            raise ValueError("size must be 0 to 60,466,176 (five base-36 characters of jfsku)")
        self.seed, self.size = seed, size
        self.merchant_id, self.fulfiller_id = merchant_id, fulfiller_id
        salt_rng = random.Random(f"jtlffn:salt:{seed}")
        self._salts = {kind: salt_rng.randrange(36 ** 6) for kind in ("product", "outbound", "inbound", "notice")}
        self._blocks: dict[int, list[int]] = {}
        self._summaries: dict[int, tuple[str, str, str, float]] = {}
        # Products whose merchant SKU a test or the demo chose (the merchant's own catalog's SKUs).
        self.merchant_skus: dict[int, str] = {}
        self.warehouses = [self._warehouse(k) for k in range(warehouse_count)]
        self.shipping_methods = [self._shipping_method(k) for k in range(len(SHIPPING_METHODS))]

    # ------------------------------------------------------------------ identifiers
    def jfsku(self, index: int) -> str:
        return f"{self.merchant_id}01{scramble(index, 5, self._salts['product'])}"

    def index_of(self, jfsku: str) -> int | None:
        """The product index of a jfsku this catalogue made, else None."""
        if len(jfsku) != 11 or not jfsku.startswith(f"{self.merchant_id}01"):
            return None
        index = unscramble(jfsku[6:], self._salts["product"])
        return index if index is not None and index < self.size else None

    def outbound_id(self, number: int) -> str:
        return f"{self.merchant_id}02{scramble(number, 4, self._salts['outbound'])}"

    def inbound_id(self, number: int) -> str:
        return f"{self.merchant_id}03{scramble(number, 5, self._salts['inbound'])}"

    def notice_id(self, number: int, kind: str = "06") -> str:
        return f"{self.merchant_id}{kind}{scramble(number, 6, self._salts['notice'])}"

    # ------------------------------------------------------------------ warehouses, shipping methods
    def _warehouse(self, k: int) -> dict:
        name, street, city, zip_code, country = WAREHOUSE_SITES[k]
        return {
            "warehouseId": f"{self.fulfiller_id}04{country}-{zip_code.zfill(5)}-{k + 1:04d}",
            "fulfillerId": self.fulfiller_id,
            "name": name,
            "address": {"salutation": None, "firstname": None, "lastname": None,
                        "company": f"{name} Fulfilment GmbH", "street": street, "city": city, "zip": zip_code,
                        "country": country, "email": f"lager{k + 1}@fulfiller.example", "phone": None,
                        "extraLine": None, "extraAddressLine": None, "state": None, "mobile": None, "fax": None},
            "modificationInfo": _modification(EPOCH - timedelta(days=400 + 30 * k)),
        }

    def _shipping_method(self, k: int) -> dict:
        name, code, carrier, shipping_type, schema = SHIPPING_METHODS[k]
        return {"shippingMethodId": f"{self.fulfiller_id}0A{k + 1:04d}", "name": name, "shippingType": shipping_type,
                "trackingUrlSchema": schema, "carrierCode": code, "carrierName": carrier, "cutoffTime": "14:00",
                "note": None, "fulfillerShippingMethodNumber": f"FSM-{k + 1:04d}",
                "modificationInfo": _modification(EPOCH - timedelta(days=380))}

    # ------------------------------------------------------------------ products
    def _bits(self, index: int) -> int:
        block = self._blocks.get(index // _BLOCK)
        if block is None:
            rng = random.Random(f"jtlffn:{self.seed}:{index // _BLOCK}")
            block = self._blocks[index // _BLOCK] = [rng.getrandbits(256) for _ in range(_BLOCK)]
        return block[index % _BLOCK]

    def product(self, index: int) -> dict:
        """Product `index` as `GET /api/v1/merchant/products` serves it (a ProductPageItem)."""
        bits = self._bits(index)

        def roll(shift: int) -> float:
            return (bits >> shift & 0xFFFF) / 65536

        group, code, nouns, makers, best_before = _GROUPS[(bits >> 16) % len(_GROUPS)]
        maker = makers[(bits >> 24) % len(makers)]
        noun = nouns[(bits >> 28) % len(nouns)]
        if roll(32) < 0.02:
            name = _ODD_NAMES[(bits >> 48) % len(_ODD_NAMES)]
        elif group == "Apparel":
            name = f"{maker} {noun}, {_COLOURS[(bits >> 48) % len(_COLOURS)]}, {_SIZES[(bits >> 52) % len(_SIZES)]}"
        else:
            name = f"{maker} {noun}"
        sku_roll = roll(56)
        if sku_roll < 0.9:
            merchant_sku = f"{code}-{index:06d}"
        elif sku_roll < 0.96:
            merchant_sku = f"{code.lower()}/{index}-{ALPHABET[(bits >> 72) % 26 + 10]}"
        else:
            merchant_sku = f"Größe {index} {code}"  # spaces and non-ASCII happen in real SKUs
        merchant_sku = self.merchant_skus.get(index, merchant_sku)
        ean = ean13(400000000000 + (bits >> 80) % 99999999999) if roll(120) < 0.9 else None
        created = EPOCH - timedelta(days=HISTORY_DAYS + (bits >> 136) % 600, seconds=(bits >> 152) % 86400)
        updated = created + timedelta(days=(bits >> 168) % 90) if roll(176) < 0.4 else created
        weight = round(0.05 + ((bits >> 192) % 5000) / 1000, 3)
        price = round(2.99 + ((bits >> 208) % 20000) / 100, 2)
        return {
            "jfsku": self.jfsku(index),
            "merchantId": self.merchant_id,
            "name": name,
            "merchantSku": merchant_sku,
            "pictures": [],
            "productGroup": group,
            "originCountry": ("DE", "LU", "FR", "CN", "PL")[(bits >> 224) % 5],
            "manufacturer": maker,
            "weight": weight,
            "netWeight": round(weight * 0.9, 3),
            "note": None,
            "identifier": {"mpn": {"manufacturer": maker, "partNumber": f"{code}{(bits >> 96) % 100000:05d}"},
                           "ean": ean, "isbn": None, "upc": None, "asin": None},
            "specifications": {"unNumber": None, "hazardIdentifier": None,
                               "taric": f"{(bits >> 232) % 90000000 + 10000000}", "fnsku": None, "isBatch": False,
                               "isDivisible": False, "isBestBefore": best_before, "isSerialNumber": False,
                               "isBillOfMaterials": False, "billOfMaterialsComponents": [], "isPackaging": False},
            "dimensions": {"width": 10 + (bits >> 240) % 40, "length": 10 + (bits >> 246) % 60,
                           "height": 2 + (bits >> 250) % 30},
            "attributes": [],
            "netRetailPrice": {"amount": price, "currency": "EUR"},
            "bundles": [],
            "relatedProducts": [],
            "condition": "Default",
            "modificationInfo": _modification(created, updated),
        }

    def summary(self, index: int) -> tuple[str, str, str, float]:
        """(jfsku, name, merchantSku, net price) of product `index`: what an order line needs."""
        product = self._summaries.get(index)
        if product is None:
            full = self.product(index)
            product = self._summaries[index] = (full["jfsku"], full["name"], full["merchantSku"],
                                                full["netRetailPrice"]["amount"])
        return product

    def stock_entries(self, index: int) -> list[StockEntry]:
        """Where the fulfiller holds product `index` and how much (about 15 % are held nowhere)."""
        bits = self._bits(index)
        spread = (bits >> 100 & 0xFFFF) / 65536
        count = len(self.warehouses)
        if spread < 0.15:
            return []
        held = 1 if spread < 0.75 or count == 1 else (2 if spread < 0.93 or count == 2 else count)
        first = (bits >> 116) % count
        entries = []
        for k in range(held):
            salt = bits >> (8 * k)
            level = 0 if salt % 10 == 0 else 1 + (salt >> 4) % 500
            blocked = 1 + (salt >> 13) % 5 if (salt >> 20) % 20 == 0 else 0
            entries.append(StockEntry((first + k) % count, level, blocked))
        return entries

    # ------------------------------------------------------------------ inbounds, outbounds
    def _pick_products(self, rng: random.Random, count: int) -> list[int]:
        if self.size == 0:
            return []
        picked: list[int] = []
        while len(picked) < min(count, self.size):
            index = rng.randrange(self.size)
            if index not in picked:
                picked.append(index)
        return picked

    def inbound(self, number: int, count: int) -> tuple[dict, list[dict]]:
        """Seeded inbound `number` of `count` and its shipping notifications (none while in preparation)."""
        rng = random.Random(f"jtlffn:inbound:{self.seed}:{number}")
        roll = rng.random()
        status = next(name for edge, name in INBOUND_STATUSES if roll < edge)
        created = EPOCH - timedelta(seconds=HISTORY_DAYS * 86400 * (count - number) / max(count, 1)
                                    + rng.randrange(3600))
        updated = created + timedelta(hours=rng.randrange(1, 240)) if status != "Preparation" else created
        warehouse = self.warehouses[rng.randrange(len(self.warehouses))]
        supplier_name, supplier_number = rng.choice(_SUPPLIERS)
        items = []
        for position, index in enumerate(self._pick_products(rng, rng.randint(1, 5)), start=1):
            quantity = rng.randint(1, 50) * 10
            if status in ("Preparation", "Pending"):
                open_quantity = quantity
            elif status == "PartiallyReceipted":
                open_quantity = rng.choice((0, quantity // 2, quantity)) if position > 1 else quantity // 3
            else:
                open_quantity = 0
            jfsku, name, _, _ = self.summary(index)
            items.append({"inboundItemId": str(position), "jfsku": jfsku, "quantity": quantity,
                          "quantityOpen": open_quantity, "supplierSku": f"{supplier_number}-{index}",
                          "supplierProductName": name, "note": None})
        inbound = {
            "inboundId": self.inbound_id(number),
            "merchantId": self.merchant_id,
            "items": items,
            "status": status,
            "merchantInboundNumber": f"IN-{EPOCH.year}-{number + 1:06d}",
            "warehouseId": warehouse["warehouseId"],
            "note": None,
            "purchaseOrderNumber": f"PO-{number + 1:06d}",
            "externalInboundNumber": None,
            "attributes": [],
            "modificationInfo": _modification(created, updated),
            "supplier": {"merchantSupplierName": supplier_name, "merchantSupplierNumber": supplier_number},
        }
        notices = []
        if status != "Preparation" and items:
            method = SHIPPING_METHODS[rng.randrange(len(SHIPPING_METHODS))]
            tracking = f"{rng.randrange(10 ** 11, 10 ** 12)}"
            shipped = created + timedelta(hours=rng.randrange(1, 48))
            freight = "Parcel" if len(items) < 4 else "LessThanTruckload"
            notices.append({
                "inboundShippingNotificationId": self.notice_id(number, "07"),
                "inboundId": inbound["inboundId"],
                "merchantInboundNumber": inbound["merchantInboundNumber"],
                "merchantId": self.merchant_id,
                "items": [{"inboundShippingNotificationItemId": item["inboundItemId"], "jfsku": item["jfsku"],
                           "quantity": item["quantity"], "note": None, "packageId": 0, "bestBefore": None,
                           "batch": None, "serialnumbers": []} for item in items],
                "packages": [{"estimatedDeliveryDate": timestamp(shipped + timedelta(days=2)),
                              "freightOption": freight, "note": None,
                              "trackingUrl": method[4].replace("#TrackingId#", tracking),
                              "carrierCode": method[1], "carrierName": method[2],
                              "identifier": [{"value": tracking, "identifierType": "TrackingId", "name": method[2]}],
                              "shipmentCount": 1 if freight == "Parcel" else rng.randint(1, 4),
                              "shippingDate": timestamp(shipped), "dimensions": None, "weight": None}],
                "merchantShippingNotificationNumber": f"ASN-{number + 1:06d}",
                "note": None,
                "modificationInfo": _modification(shipped),
            })
        return inbound, notices

    def outbound(self, number: int, count: int) -> tuple[dict, list[dict]]:
        """Seeded outbound `number` of `count` and its shipping notifications (shipped ones have them;
        a partially shipped one has shipped its first item)."""
        rng = random.Random(f"jtlffn:outbound:{self.seed}:{number}")
        roll = rng.random()
        status = next(name for edge, name in OUTBOUND_STATUSES if roll < edge)
        created = EPOCH - timedelta(seconds=HISTORY_DAYS * 86400 * (count - number) / max(count, 1)
                                    + rng.randrange(3600))
        warehouse = self.warehouses[rng.randrange(len(self.warehouses))]
        method = self.shipping_methods[rng.randrange(len(self.shipping_methods))]
        items = []
        for position, index in enumerate(self._pick_products(rng, rng.choice((1, 1, 1, 2, 2, 3, 4))), start=1):
            jfsku, name, merchant_sku, price = self.summary(index)
            quantity = rng.choice((1, 1, 1, 2, 3))
            items.append({"outboundItemId": str(position), "jfsku": jfsku, "itemType": "Product",
                          "quantity": quantity, "quantityOpen": quantity, "name": name,
                          "merchantSku": merchant_sku, "externalNumber": None, "price": price, "vat": 17.0,
                          "billOfMaterialsId": None, "note": None})
        stamps = dict.fromkeys(("pending", "preparation", "acknowledged", "locked", "pickprocess", "shipped",
                                "partiallyShipped", "canceled", "partiallyCanceled"))
        moment = created
        for k, step in enumerate(_STATUS_PATHS[status]):
            if k:
                moment += timedelta(minutes=rng.randrange(5, 600))
            stamps[step] = timestamp(moment)
        address = _address(rng)
        outbound = {
            "outboundId": self.outbound_id(number),
            "merchantId": self.merchant_id,
            "externalNumber": f"R{rng.randrange(10 ** 8, 10 ** 9)}" if rng.random() < 0.6 else None,
            "status": status,
            "priority": 0,
            "merchantOutboundNumber": f"MS-{EPOCH.year}-{number + 1:07d}",
            "warehouseId": warehouse["warehouseId"],
            "currency": "EUR",
            "internalNote": None,
            "externalNote": None,
            "premiumType": None,
            "salesChannel": rng.choice(_SALES_CHANNELS),
            "attributes": [],
            "desiredDeliveryDate": None,
            "shippingMethodId": method["shippingMethodId"],
            "shippingType": None,
            "shippingAddress": address,
            "senderAddress": None,
            "cancelReasonCode": "OutOfStock" if status == "Canceled" else None,
            "cancelReason": "Item no longer available" if status == "Canceled" else None,
            "shippingFee": 4.9,
            "orderValue": round(sum(i["price"] * i["quantity"] for i in items), 2),
            "items": items,
            "attachments": [],
            "relatedReturns": [],
            "modificationInfo": _modification(created, moment),
            "statusTimestamp": stamps,
        }
        notices = []
        if status in ("Shipped", "PartiallyShipped") and items:
            if status == "Shipped":
                shipped = [(item, item["quantity"]) for item in items]
            elif len(items) > 1:
                shipped = [(items[0], items[0]["quantity"])]  # the first line went out, the rest waits
            else:
                items[0]["quantity"] = max(2, items[0]["quantity"])
                shipped = [(items[0], items[0]["quantity"] - 1)]  # one piece still to come
            for item, quantity in shipped:
                item["quantityOpen"] = item["quantity"] - quantity
            outbound["orderValue"] = round(sum(i["price"] * i["quantity"] for i in items), 2)
            notices.append(self.shipping_notice(outbound, [(item["jfsku"], quantity) for item, quantity in shipped],
                                                method, f"{rng.randrange(10 ** 13, 10 ** 14)}", moment,
                                                self.notice_id(number), f"SH-{number + 1:07d}"))
        return outbound, notices

    def shipping_notice(self, outbound: dict, shipped: list[tuple[str, float]], method: dict, tracking: str,
                        moment: datetime, notice_id: str, fulfiller_number: str, freight_option: str = "Parcel",
                        weight: float | None = None) -> dict:
        """An OutboundShippingNotification: `shipped` is (jfsku, quantity) per line."""
        return {
            "outboundId": outbound["outboundId"],
            "merchantId": self.merchant_id,
            "fulfillerShippingNotificationNumber": fulfiller_number,
            "outboundShippingNotificationId": notice_id,
            "items": [{"outboundShippingNotificationItemId": str(k), "jfsku": jfsku, "quantity": quantity,
                       "note": None, "bestBefore": None, "batch": None, "serialnumbers": []}
                      for k, (jfsku, quantity) in enumerate(shipped, start=1)],
            "packages": [{"freightOption": freight_option,
                          "estimatedDeliveryDate": timestamp(moment + timedelta(days=2)),
                          "note": None,
                          "trackingUrl": method["trackingUrlSchema"].replace("#TrackingId#", tracking),
                          "identifier": [{"value": tracking, "identifierType": "TrackingId",
                                          "name": method["carrierName"]}],
                          "shippingDate": timestamp(moment),
                          "shippingMethodId": method["shippingMethodId"],
                          "dimensions": None,
                          "weight": weight}],
            "outboundStatus": outbound["status"],
            "note": None,
            "modificationInfo": _modification(moment),
        }


def default_counts(size: int) -> tuple[int, int]:
    """(inbounds, outbounds) seeded for a catalogue of `size` products."""
    return max(3, min(size // 40, 1500)), max(5, min(size // 10, 5000))
