"""The shop's Letzshop product feed: seeded Google-Shopping-format, tab-separated files, one per
language, served over HTTP the way a merchant hosts them for Letzshop to pick up.

Letzshop ingests a Google Shopping feed as TSV with one file per language: title and description are
localised per file, everything else (price, barcode, brand, ...) repeats in each. The products are
the shop's variant pool (`catalog.VariantMaker`), so the feed describes the very products the
simulated orders sell: the same SKUs (the feed `id`), barcodes as Letzshop holds them, brands, prices.

Bad rows come at small seeded rates, the way real feeds break:
- a barcode with a wrong check digit (the pool's `bad_check_digit` anomaly, about 1 %), in every file;
- a price that is not a price ("on request"), in every file (`broken_rate` / 2);
- a stray, unquoted tab in one language's description, which shifts that line's columns
  (`broken_rate` / 2), in one file only.
Descriptions also carry quotes and, now and then, a line break (quoted, as TSV allows).

    from marketsync.sandbox.letzshop.product_feed import ProductFeedState, create_feed_app
    state = ProductFeedState(seed=7, size=500)
    with serve_in_thread(create_feed_app(state)) as server:
        urls = state.urls(server.base_url)   # {"de": ".../feeds/de.tsv", "en": ..., "fr": ...}

`feed_expectations(...)` says what a correct import reports. Admin (loopback): `POST
/_sandbox/feed/advance` (prices drift), `POST /_sandbox/feed/faults` ({"kind": "http_503"|"http_429"|
"truncate", "count"?, "language"?, "retry_after"?}), `GET /_sandbox/feed/stats`.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import ip_address

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .catalog import DEFAULT_ANOMALIES, Anomalies, VariantMaker

LANGUAGES = ("en", "fr", "de")
FEED_COLUMNS = (
    "id", "title", "description", "link", "image_link", "additional_image_link", "availability", "price",
    "brand", "gtin", "mpn", "condition", "google_product_category", "product_type",
)
_AVAILABILITY = (("in_stock", 0.85), ("out_of_stock", 0.95), ("preorder", 0.98), ("backorder", 1.0))
# Google product taxonomy ids of the kinds of goods the pool sells (apparel, home, food, ...).
_CATEGORIES = ("212", "2271", "1604", "177", "588", "543", "4171", "638", "5710", "499990")
_DESCRIPTION = {
    "en": ("{title} by {brand}. Made to last, shipped from Luxembourg.",
           "{title}: the \"{brand}\" classic. Handle with care.",
           "{title} by {brand}.\nCare: wipe clean, do not bleach."),
    "fr": ("{title} de {brand}. Fait pour durer, expédié depuis le Luxembourg.",
           "{title} : le classique « {brand} ». À manipuler avec soin.",
           "{title} de {brand}.\nEntretien : essuyer, ne pas javelliser."),
    "de": ("{title} von {brand}. Langlebig, versandt aus Luxemburg.",
           "{title}: der \"{brand}\"-Klassiker. Mit Sorgfalt behandeln.",
           "{title} von {brand}.\nPflege: feucht abwischen, nicht bleichen."),
}


@dataclass(frozen=True)
class FeedProduct:
    """One product of the feed, in every language, and what is wrong with it (if anything)."""

    index: int
    id: str
    titles: dict[str, str]
    descriptions: dict[str, str]
    brand: str
    gtin: str
    mpn: str
    price: str
    availability: str
    fields: dict[str, str]
    problem: str | None          # "bad_gtin", "bad_price" or "stray_tab"
    stray_tab_language: str | None


def _roll(*parts) -> float:
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class FeedMaker:
    """Computes feed product `index` of a seed (same seed = same shop as the order simulator)."""

    def __init__(self, seed: int, *, languages=LANGUAGES, anomalies: Anomalies = DEFAULT_ANOMALIES,
                 broken_rate: float = 0.005, drift: float = 0.01):
        self.seed = seed
        self.languages = tuple(languages)
        self.broken_rate = broken_rate
        self.drift = drift
        self._variants = VariantMaker(seed, anomalies)

    def product(self, index: int, generation: int = 0) -> FeedProduct:
        entry = self._variants.entry(index)
        sku, brand = entry["sku"], entry["brand"]
        titles = {lang: f"{brand} {entry['names'][lang]}" for lang in self.languages}
        style = int(_roll(self.seed, index, "style") * 40)
        template = 1 if style < 4 else 2 if style < 6 else 0
        broken = _roll(self.seed, index, "broken")
        if self.broken_rate / 2 <= broken < self.broken_rate:
            template = 0  # the stray tab goes into a plain description
        descriptions = {lang: _DESCRIPTION[lang][template].format(title=titles[lang], brand=brand)
                        for lang in self.languages}
        cents = round(entry["price"] * 100)
        for g in range(1, generation + 1):
            if _roll(self.seed, index, "drift", g) < self.drift:
                cents = max(99, cents + int(_roll(self.seed, index, "delta", g) * 400) - 200)
        availability_roll = _roll(self.seed, index, "availability")
        availability = next(name for name, edge in _AVAILABILITY if availability_roll < edge)
        trade_id = entry["trade_id"]

        problem, stray = None, None
        if entry["anomaly"] == "bad_check_digit":
            problem = "bad_gtin"
        else:
            if broken < self.broken_rate / 2:
                problem = "bad_price"
            elif broken < self.broken_rate:
                problem = "stray_tab"
                stray = self.languages[int(_roll(self.seed, index, "stray") * len(self.languages))]
        price = "on request" if problem == "bad_price" else f"{cents // 100}.{cents % 100:02d} EUR"
        slug = sku.lower()
        fields = {
            "link": "https://letzshop.lu/{lang}/vendors/sandbox-shop/products/" + slug,
            "image_link": f"https://images.letzshop.lu/sandbox-shop/{slug}.jpg",
            "additional_image_link": (f"https://images.letzshop.lu/sandbox-shop/{slug}-2.jpg,"
                                      f"https://images.letzshop.lu/sandbox-shop/{slug}-3.jpg"),
            "condition": "new",
            "google_product_category": _CATEGORIES[index % len(_CATEGORIES)],
            "product_type": "Home > Gifts" if index % 3 else "Apparel & Accessories",
        }
        return FeedProduct(index, sku, titles, descriptions, brand, trade_id["number"] if trade_id else "",
                           entry["mpn"] or "", price, availability, fields, problem, stray)


def _cell(value: str) -> str:
    """A TSV cell: quoted (quotes doubled) only when it holds a tab, a line break or a quote."""
    if "\t" in value or "\n" in value or "\r" in value or '"' in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def feed_lines(maker: FeedMaker, size: int, language: str, generation: int = 0) -> Iterator[str]:
    """The TSV text of one language's file, line by line (header first)."""
    yield "\t".join(FEED_COLUMNS) + "\n"
    for index in range(size):
        p = maker.product(index, generation)
        description = p.descriptions[language]
        cells = [_cell(p.id), _cell(p.titles[language]),
                 description.replace(".", ".\t", 1) if p.stray_tab_language == language else _cell(description),
                 p.fields["link"].format(lang=language), p.fields["image_link"], p.fields["additional_image_link"],
                 p.availability, p.price, _cell(p.brand), p.gtin, p.mpn, p.fields["condition"],
                 p.fields["google_product_category"], _cell(p.fields["product_type"])]
        yield "\t".join(cells) + "\n"


@dataclass(frozen=True)
class FeedExpectations:
    """What a correct import of the feed reports (primary language = the one product fields come from)."""

    products: int                 # distinct ids in the feed
    loaded: int                   # products a first import inserts
    quarantined: int              # lines refused: bad products' primary lines + stray-tab lines
    bad_gtin: tuple[str, ...]
    bad_price: tuple[str, ...]
    stray_tab: tuple[tuple[str, str], ...]   # (id, language)
    translations: int             # translation rows a first import writes

    @property
    def read(self) -> int:
        return self.loaded + self.quarantined


def feed_expectations(seed: int, size: int, *, primary: str = "de", languages=LANGUAGES,
                      anomalies: Anomalies = DEFAULT_ANOMALIES, broken_rate: float = 0.005) -> FeedExpectations:
    maker = FeedMaker(seed, languages=languages, anomalies=anomalies, broken_rate=broken_rate)
    products = [maker.product(i) for i in range(size)]
    refused = {p.id for p in products if p.problem in ("bad_gtin", "bad_price")
               or p.stray_tab_language == primary}
    stray = tuple((p.id, p.stray_tab_language) for p in products if p.problem == "stray_tab")
    secondary_stray = sum(1 for _, lang in stray if lang != primary)
    loaded = size - len(refused)
    translations = sum(1 for p in products if p.id not in refused for lang in languages
                       if p.stray_tab_language != lang)
    return FeedExpectations(
        products=size, loaded=loaded, quarantined=len(refused) + secondary_stray,
        bad_gtin=tuple(p.id for p in products if p.problem == "bad_gtin"),
        bad_price=tuple(p.id for p in products if p.problem == "bad_price"),
        stray_tab=stray, translations=translations)


class ConnectionLost(Exception):
    """Raised mid-body so the server drops the connection (the "truncate" fault)."""


class _QuietDrop(logging.Filter):
    """uvicorn logs a traceback for a response cut short; ours are on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionLost))


_QUIET_DROP = _QuietDrop()


@dataclass
class FeedFault:
    kind: str                     # http_503 | http_429 | truncate
    count: int = 1
    language: str | None = None
    retry_after: float | None = None


class ProductFeedState:
    """The feed files of one simulated shop: seed, size, languages, encoding, drift and faults."""

    def __init__(self, seed: int = 42, size: int = 500, *, languages=LANGUAGES, encoding: str = "utf-8",
                 anomalies: Anomalies = DEFAULT_ANOMALIES, broken_rate: float = 0.005, drift: float = 0.01):
        self.lock = threading.RLock()
        self.seed, self.size = seed, size
        self.languages = tuple(languages)
        self.encoding = encoding
        self.maker = FeedMaker(seed, languages=languages, anomalies=anomalies, broken_rate=broken_rate, drift=drift)
        self.anomalies, self.broken_rate = anomalies, broken_rate
        self.generation = 0
        self.faults: list[FeedFault] = []
        self.requests: Counter = Counter()

    def urls(self, base_url: str) -> dict[str, str]:
        return {lang: f"{base_url}/feeds/{lang}.tsv" for lang in self.languages}

    def expectations(self, primary: str = "de") -> FeedExpectations:
        return feed_expectations(self.seed, self.size, primary=primary, languages=self.languages,
                                 anomalies=self.anomalies, broken_rate=self.broken_rate)

    def advance(self, generations: int = 1) -> None:
        """Prices drift: a seeded share of products gets a new price per generation."""
        with self.lock:
            self.generation += generations

    def add_fault(self, kind: str, count: int = 1, **params) -> FeedFault:
        if kind not in ("http_503", "http_429", "truncate"):
            raise ValueError(f"unknown feed fault {kind!r}")
        fault = FeedFault(kind, count, **params)
        with self.lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, language: str) -> FeedFault | None:
        with self.lock:
            for i, fault in enumerate(self.faults):
                if fault.language in (None, language):
                    fault.count -= 1
                    if fault.count <= 0:
                        del self.faults[i]
                    return fault
        return None

    def body(self, language: str, truncate: bool = False) -> Iterator[bytes]:
        """The file's bytes in ~64 KiB chunks (a BOM first when the encoding says so)."""
        chunk: list[str] = []
        size = 0
        errors = "strict" if self.encoding.lower().replace("_", "-").startswith("utf") else "replace"
        for line in feed_lines(self.maker, self.size, language, self.generation):
            chunk.append(line)
            size += len(line)
            if size >= 65536:
                data = "".join(chunk).encode(self.encoding, errors)
                chunk, size = [], 0
                yield data
                if truncate:
                    raise ConnectionLost  # the connection breaks after the first chunk
        if chunk:
            data = "".join(chunk).encode(self.encoding, errors)
            if truncate:
                yield data[: len(data) // 2]
                raise ConnectionLost
            yield data


def create_feed_app(state: ProductFeedState) -> Starlette:
    """The ASGI app serving `state`'s files at `/feeds/{language}.tsv`."""
    logging.getLogger("uvicorn.error").addFilter(_QUIET_DROP)  # no-op when already there

    async def feed(request: Request) -> Response:
        language = request.path_params["language"]
        state.requests[language] += 1
        if language not in state.languages:
            return Response("not found", 404)
        fault = state.take_fault(language)
        if fault is not None and fault.kind == "http_503":
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
            return Response("service unavailable", 503, headers)
        if fault is not None and fault.kind == "http_429":
            return Response("slow down", 429, {"Retry-After": str(fault.retry_after or 1)})
        charset = state.encoding.replace("-sig", "")
        return StreamingResponse(state.body(language, truncate=fault is not None and fault.kind == "truncate"),
                                 media_type=f"text/tab-separated-values; charset={charset}")

    def loopback_only(handler):
        async def guarded(request: Request) -> Response:
            host = request.client.host if request.client else None
            try:
                local = host in (None, "localhost", "testclient") or ip_address(host).is_loopback
            except ValueError:
                local = False
            if not local:
                return JSONResponse({"error": "sandbox admin is loopback-only"}, 403)
            return await handler(request)
        return guarded

    async def advance(request: Request) -> Response:
        state.advance()
        return JSONResponse({"generation": state.generation})

    async def faults(request: Request) -> Response:
        spec = await request.json()
        fault = state.add_fault(spec.pop("kind"), **spec)
        return JSONResponse({"armed": vars(fault)})

    async def stats(request: Request) -> Response:
        return JSONResponse({"requests": dict(state.requests), "generation": state.generation,
                             "faults_armed": [vars(f) for f in state.faults]})

    return Starlette(routes=[
        Route("/feeds/{language}.tsv", feed, methods=["GET"]),
        Route("/_sandbox/feed/advance", loopback_only(advance), methods=["POST"]),
        Route("/_sandbox/feed/faults", loopback_only(faults), methods=["POST"]),
        Route("/_sandbox/feed/stats", loopback_only(stats), methods=["GET"]),
    ])



def main(argv: list[str] | None = None) -> None:
    """Serve the feed files in the foreground:

        python -m sandbox.letzshop.product_feed --seed 42 --size 500 --port 8767
    """
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m sandbox.letzshop.product_feed",
                                     description="Serve a seeded Letzshop product feed (TSV per language).")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--size", type=int, default=500, help="products (default 500)")
    parser.add_argument("--languages", default="en,fr,de")
    parser.add_argument("--encoding", default="utf-8", help="utf-8, utf-8-sig (with BOM) or cp1252")
    parser.add_argument("--broken-rate", type=float, default=0.005)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8767)
    args = parser.parse_args(argv)
    state = ProductFeedState(args.seed, args.size, languages=tuple(args.languages.split(",")),
                             encoding=args.encoding, broken_rate=args.broken_rate)
    for language, url in state.urls(f"http://{args.host}:{args.port}").items():
        print(f"{language}: {url}", flush=True)
    uvicorn.run(create_feed_app(state), host=args.host, port=args.port, log_level="warning", lifespan="off")


if __name__ == "__main__":
    main()
