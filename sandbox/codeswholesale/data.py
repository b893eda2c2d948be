"""Seeded CodesWholesale price list: digital game keys as `GET /v3/products` returns them.

A product is a key for one platform (Steam, Xbox Live, ...) valid in some regions, with a stock
quantity and a price list that drops with the quantity bought (tiers `{from, to, value}`; the last
tier's `to` is null). Field names and shapes follow the public v3 documentation and a captured live
item; the values are invented.

`(seed, size)` fixes everything, and product `i` is computed on its own from a block of random bits,
so a catalogue of any size is a prefix of a larger one. `generation` moves a seeded share of the
products (new stock, new prices), the way the live price list drifts between two imports.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date

# Real platform names as the API spells them, with cumulative shares: Steam dominates the trade.
PLATFORMS = (
    ("Steam", 0.55), ("Epic Games", 0.62), ("EA App", 0.68), ("Ubisoft Connect", 0.73), ("Battle.net", 0.76),
    ("GOG.com", 0.80), ("Xbox Live", 0.87), ("PSN", 0.92), ("Nintendo eShop", 0.96), ("Rockstar Social Club", 1.0),
)
_PLATFORM_CODES = {"Steam": "PCS", "Epic Games": "PCE", "EA App": "PCO", "Ubisoft Connect": "PCU",
                   "Battle.net": "PCB", "GOG.com": "PCG", "Xbox Live": "XBL", "PSN": "PSN",
                   "Nintendo eShop": "NSW", "Rockstar Social Club": "PCR"}
REGIONS = ("WORLDWIDE", "EU", "EUROPE", "US", "UK", "ROW", "LATAM", "ASIA")
LANGUAGES = ("English", "German", "French", "Spanish", "Italian", "Polish", "Portuguese", "Dutch", "Czech")
BADGES = ({"id": 1, "name": "Hot", "slug": "hot"}, {"id": 2, "name": "Pre-order", "slug": "pre-order"},
          {"id": 3, "name": "New", "slug": "new"}, {"id": 4, "name": "Bestseller", "slug": "bestseller"})
IMAGE_BASE = "https://sandbox.codeswholesale.com/v1/products"

_ADJECTIVES = ("Ancient", "Broken", "Crimson", "Dark", "Eternal", "Frozen", "Galactic", "Hidden", "Iron",
               "Last", "Lost", "Neon", "Silent", "Stellar", "Wild", "Hollow", "Savage", "Quiet", "Rogue")
_NOUNS = ("Odyssey", "Kingdom", "Frontier", "Legends", "Horizon", "Dynasty", "Empire", "Chronicles", "Protocol",
          "Outpost", "Harbor", "Tactics", "Drifters", "Skies", "Depths", "Colony", "Reckoning", "Circuit")
_SUBTITLES = ("", "", "", ": Rebirth", ": Origins", " II", " 3", ": The Lost Tapes", " - Deluxe Edition",
              " - Season Pass", " - Gold Edition", ": Director's Cut", " Remastered", " (DLC)")
_EXOTIC = ("Ōkami Tales", "Déjà Vu: Café Noir", "Straße der Könige", "Ægir's Wrath", "Zoë & Chloé",
           "Night \"Run\" Club", "Ranger's Trail: 100% Edition")

_BLOCK = 1024
_EPOCH_DAY = date(2012, 1, 1).toordinal()


@dataclass(frozen=True)
class Anomalies:
    """Per-product rates (0..1) of malformed records the live API has been seen to send.

    no_price: a product with an empty price list (out of the trade for now; still listed).
    malformed: a record the importer must refuse (no productId, or a tier without a value).
    """

    no_price: float = 0.01
    malformed: float = 0.0


DEFAULT_ANOMALIES = Anomalies()


class ProductMaker:
    """Computes product `index` of a seed's price list (see `generate_products`)."""

    def __init__(self, seed: int, anomalies: Anomalies = DEFAULT_ANOMALIES):
        self.seed = seed
        self.anomalies = anomalies
        self._blocks: dict[int, list[int]] = {}

    def _bits(self, index: int) -> int:
        """256 random bits owned by product `index`."""
        block = self._blocks.get(index // _BLOCK)
        if block is None:
            rng = random.Random(f"codeswholesale:{self.seed}:{index // _BLOCK}")
            block = self._blocks[index // _BLOCK] = [rng.getrandbits(256) for _ in range(_BLOCK)]
        return block[index % _BLOCK]

    def product(self, index: int, generation: int = 0, drift: float = 0.01) -> dict:
        """Product `index` as the API serves it. From `generation` 1 on, a seeded `drift` share of
        the products has new stock and prices in each generation."""
        bits = self._bits(index)

        def roll(shift: int) -> float:
            return (bits >> shift & 0xFFFF) / 65536

        product_id = str(uuid.UUID(int=bits & ((1 << 128) - 1), version=4))
        platform = next(name for name, edge in PLATFORMS if roll(128) < edge)
        if roll(144) < 0.03:
            name = _EXOTIC[(bits >> 160) % len(_EXOTIC)]
        else:
            name = (f"{_ADJECTIVES[(bits >> 160) % len(_ADJECTIVES)]} {_NOUNS[(bits >> 168) % len(_NOUNS)]}"
                    f"{_SUBTITLES[(bits >> 176) % len(_SUBTITLES)]}")
        initials = "".join(w[0] for w in name.split() if w[:1].isalpha()).upper()[:4]
        identifier = f"{initials}{_PLATFORM_CODES[platform]}{index:05d}"

        region_roll = roll(184)
        if region_roll < 0.6:
            regions, region_description = ["WORLDWIDE"], None
        elif region_roll < 0.85:
            regions, region_description = ["EU"], "Works in the European Union"
        else:
            first = REGIONS[1 + (bits >> 200) % (len(REGIONS) - 1)]
            second = REGIONS[1 + (bits >> 204) % (len(REGIONS) - 1)]
            regions = sorted({first, second})
            region_description = "Does not work in: Russia, Belarus" if roll(208) < 0.5 else None
        if roll(224) < 0.5:
            languages = ["Multilanguage"]
        else:
            count = 1 + (bits >> 240) % 4
            start = (bits >> 244) % len(LANGUAGES)
            languages = [LANGUAGES[(start + k) % len(LANGUAGES)] for k in range(count)]

        # Stock and prices drift with the generation; everything else is fixed for the product.
        last = _generation_of(bits, generation, drift)
        state = bits >> 64 if last == 0 else random.Random((bits << 8) | last).getrandbits(64)
        quantity = 0 if (state & 0xFFFF) < 6554 else 1 + (state >> 16 & 0xFFFF) % 800
        base = 99 + (state >> 32 & 0xFFFF) % 6901  # cents
        tier_roll = (state >> 48 & 0xFFFF) / 65536
        if roll(232) < self.anomalies.no_price:
            prices: list[dict] = []
        elif tier_roll < 0.6:
            prices = [{"value": base / 100, "from": 1, "to": None}]
        elif tier_roll < 0.9:
            prices = [{"value": base / 100, "from": 1, "to": 9},
                      {"value": round(base * 0.95) / 100, "from": 10, "to": None}]
        else:
            prices = [{"value": base / 100, "from": 1, "to": 9},
                      {"value": round(base * 0.95) / 100, "from": 10, "to": 49},
                      {"value": round(base * 0.9) / 100, "from": 50, "to": None}]
        released = _EPOCH_DAY + (bits >> 16) % 5200
        badge_roll = roll(216)
        badges = [dict(BADGES[(bits >> 12) % len(BADGES)])] if badge_roll < 0.15 else []

        product = {
            "productId": product_id,
            "identifier": identifier,
            "name": name,
            "platform": platform,
            "quantity": quantity,
            "images": [{"image": f"{IMAGE_BASE}/{product_id}/image?format=SMALL", "format": "SMALL"},
                       {"image": f"{IMAGE_BASE}/{product_id}/image?format=MEDIUM", "format": "MEDIUM"}],
            "regionDescription": region_description,
            "regions": regions,
            "languages": languages,
            "badges": badges,
            "prices": prices,
            "releaseDate": f"{date.fromordinal(released).isoformat()}T22:00:00.000Z",
        }
        if self.anomalies.malformed and roll(96) < self.anomalies.malformed:
            if bits >> 112 & 1:
                product["productId"] = None
            else:
                product["prices"] = [{"from": 1, "to": None}]
        return product


def _generation_of(bits: int, generation: int, drift: float) -> int:
    """The last generation (<= `generation`) in which this product's stock and prices changed."""
    last = 0
    for g in range(1, generation + 1):
        if random.Random(bits ^ g).random() < drift:
            last = g
    return last


def generate_products(seed: int, size: int, *, generation: int = 0, drift: float = 0.01,
                      anomalies: Anomalies = DEFAULT_ANOMALIES) -> list[dict]:
    """The price list of `size` products for `seed` (a prefix of any larger one)."""
    maker = ProductMaker(seed, anomalies)
    return [maker.product(i, generation, drift) for i in range(size)]


def single_unit_price(product: dict) -> float | None:
    """What one key costs: the tier that covers a quantity of 1 (for tests and figures)."""
    for tier in product.get("prices") or []:
        if (tier.get("value") is not None and (tier.get("from") or 1) <= 1
                and (tier.get("to") is None or tier["to"] >= 1)):
            return tier["value"]
    return None
