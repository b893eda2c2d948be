"""The store catalog out to Letzshop: the store's products as Letzshop's product feed (one TSV per language),
re-imported through the Letzshop feed reader into another store, gives back the same products; cells a
spreadsheet would run go out escaped and come back as they were; the encodings the reader reads; delivery
to a folder and by HTTP PUT; the CLI command and the Dagster asset."""
import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from dagster import DagsterInstance, materialize
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from marketsync.assets.accounts import upsert_account
from marketsync.assets.letzshop.catalog_export import (
    CATALOG_FEED,
    ExportSettings,
    export_catalog,
    letzshop_catalog_feed,
)
from marketsync.assets.letzshop.feed_cells import escape_cell, unescape_cell
from marketsync.assets.letzshop.orders import letzshop_accounts
from marketsync.assets.letzshop.product_feed import add_letzshop_feed_source, import_letzshop_feed
from marketsync.resources.errors import MarketsyncError
from marketsync.sandbox.http import serve_in_thread
from marketsync.sandbox.letzshop.catalog import DEFAULT_ANOMALIES, Anomalies
from marketsync.sandbox.letzshop.product_feed import ProductFeedState, create_feed_app

CLEAN = Anomalies(**{**vars(DEFAULT_ANOMALIES), "bad_check_digit": 0.0})
RUNNABLE = ("=", "+", "-", "@", "\t", "\r")
# Products of the store's own, beside those it lists from its Letzshop feed: (sku, gtin14, brand, mpn,
# price, quantity, attributes, {language: (title, description)}).
OWN = [
    ("=HYPERLINK(\"http://evil.example\")", None, "+Brand", "@mpn-1", Decimal("12.5"), 3,
     {"link": "-http://shop.example/x", "condition": "new"},
     {"de": ("=1+1 Titel", "-Aufzählung\n- zweite Zeile"), "fr": ("@SUM(A1:A2)", "+33 1 23 45 67 89")}),
    ("'=already-quoted", None, None, None, Decimal("1.2345"), None, {},
     {"de": ("'-Apostroph zuerst", "it's 'quoted'"), "en": ("''=two apostrophes", None)}),
    ("UMLAUT-1", "04006381333931", "Müller & Söhne", "M\u00fc-7", Decimal("19.90"), -2,
     {"image_link": "https://img.example/ü.jpg", "additional_image_link": ["https://img.example/a.jpg",
                                                                           "https://img.example/b.jpg"],
      "other_gtins": ["5901234123457"], "colour": "Grün"},
     {"de": ("Größe \"XL\" – Grün", "Zeile 1\tmit Tab\nZeile 2; «Anführung»"),
      "fr": ("Ça coûte 5 €", "Crème brûlée"), "en": ("Plain", "")}),
    ("EMOJI-1", None, None, None, Decimal("3"), 0, {}, {"de": ("Geschenk 🎁 日本", "Beschreibung 🎉")}),
]


# ------------------------------------------------------------------------------------------- seeding
def _seed(warehouse, state: ProductFeedState, base_url: str) -> None:
    """Store 'shop': its Letzshop feed imported, every feed product listed by the store (some with the
    store's own price or translation), and the products of OWN; one product without a price and one
    without a title, which no feed line can carry."""
    with warehouse.begin() as conn:
        add_letzshop_feed_source(conn, "shop", state.urls(base_url))
    summary = import_letzshop_feed(warehouse.engine, "shop")
    assert summary.quarantined == 0 and summary.loaded == state.size
    with warehouse.begin() as conn:
        upsert_account(conn, "shop", "letzshop")
        store_id = conn.execute(text("SELECT store_id FROM ops.stores WHERE code = 'shop'")).scalar_one()
        conn.execute(text("""INSERT INTO core.products (store_id, sku, marketplace_product_id)
                             SELECT :s, external_id, marketplace_product_id FROM core.marketplace_products"""),
                     {"s": store_id})
        # The store's own values over the feed's: a price, a brand, a French title.
        conn.execute(text("""UPDATE core.products SET price = 7.77, brand = '-Store brand', quantity = 9
                             WHERE sku IN (SELECT sku FROM core.products ORDER BY sku LIMIT 3)"""))
        conn.execute(text("""INSERT INTO core.product_translations (product_id, language, title)
                             SELECT product_id, 'fr', '+Titre du magasin ' || sku FROM core.products
                             ORDER BY sku LIMIT 2"""))
        for sku, gtin14, brand, mpn, price, quantity, attributes, texts in OWN:
            product_id = conn.execute(text(
                """INSERT INTO core.products (store_id, sku, gtin14, brand, mpn, price, currency, quantity, attributes)
                   VALUES (:s, :sku, :g, :b, :m, :p, 'EUR', :q, CAST(:a AS jsonb)) RETURNING product_id"""),
                {"s": store_id, "sku": sku, "g": gtin14, "b": brand, "m": mpn, "p": price, "q": quantity,
                 "a": json.dumps(attributes)}).scalar_one()
            for language, (title, description) in texts.items():
                conn.execute(text("""INSERT INTO core.product_translations (product_id, language, title, description)
                                     VALUES (:p, :l, :t, :d)"""),
                             {"p": product_id, "l": language, "t": title, "d": description})
        conn.execute(text("""INSERT INTO core.products (store_id, sku, title) VALUES (:s, 'NO-PRICE', 'No price'),
                                 (:s, 'ZZ-NO-TITLE', NULL)"""), {"s": store_id})
        conn.execute(text("UPDATE core.products SET price = 1 WHERE sku = 'ZZ-NO-TITLE'"))


@pytest.fixture
def seeded(warehouse):
    state = ProductFeedState(seed=11, size=60, anomalies=CLEAN, broken_rate=0.0)
    with serve_in_thread(create_feed_app(state)) as server:
        _seed(warehouse, state, server.base_url)
    return warehouse


def _serve_files(files: dict[str, bytes], requests: list[dict] | None = None):
    """An HTTP intake: PUT /catalog/NAME keeps the file (and its request in `requests`), GET /catalog/NAME
    serves it."""
    requests = [] if requests is None else requests

    async def handle(request: Request) -> Response:
        name = request.path_params["name"]
        if request.method == "PUT":
            files[name] = await request.body()
            requests.append({"name": name, "headers": dict(request.headers)})
            return Response(status_code=201)
        if name not in files:
            return Response(status_code=404)
        return Response(files[name], media_type="text/tab-separated-values")

    return serve_in_thread(Starlette(routes=[Route("/catalog/{name}", handle, methods=["GET", "PUT"])]))


def _reimport(warehouse, export, files: dict[str, bytes], store: str = "back"):
    """The exported files, served over loopback HTTP, imported through the Letzshop feed reader into `store`."""
    with _serve_files(files) as server:
        urls = {f.language: f"{server.base_url}/catalog/{f.filename}" for f in export.files}
        with warehouse.begin() as conn:
            add_letzshop_feed_source(conn, store, urls, primary_language=export.primary_language,
                                     encoding=export.encoding)
        return import_letzshop_feed(warehouse.engine, store)


def _store_products(warehouse, store: str) -> dict:
    """What the store sells, as analytics.store_catalog resolves it, with every language's own text and
    the attributes a feed carries."""
    with warehouse.begin() as conn:
        rows = conn.execute(text(
            """SELECT c.sku, c.gtin14, c.mpn, c.brand, c.price, c.currency, c.availability, c.quantity,
                      coalesce(mp.attributes, '{}') || p.attributes AS attributes,
                      (SELECT jsonb_object_agg(language, jsonb_build_array(title, description))
                       FROM (SELECT language, coalesce(pt.title, mpt.title) AS title,
                                    coalesce(pt.description, mpt.description) AS description
                             FROM (SELECT * FROM core.product_translations WHERE product_id = p.product_id) pt
                             FULL JOIN (SELECT * FROM core.marketplace_product_translations
                                        WHERE marketplace_product_id = p.marketplace_product_id) mpt
                             USING (language)) t) AS texts
               FROM analytics.store_catalog c JOIN core.products p USING (product_id)
               LEFT JOIN core.marketplace_products mp ON mp.marketplace_product_id = p.marketplace_product_id
               WHERE c.store = :store AND c.price IS NOT NULL AND c.title IS NOT NULL"""), {"store": store})
        return {r.sku: _product(r.sku, r.gtin14, r.mpn, r.brand, r.price, r.currency, r.availability, r.quantity,
                                r.attributes, r.texts or {}) for r in rows}


def _reimported(warehouse, store: str) -> dict:
    with warehouse.begin() as conn:
        rows = conn.execute(text(
            """SELECT m.external_id, m.sku, m.gtin14, m.mpn, m.brand, m.price, m.currency, m.availability,
                      m.quantity, m.attributes,
                      (SELECT jsonb_object_agg(language, jsonb_build_array(title, description))
                       FROM core.marketplace_product_translations t
                       WHERE t.marketplace_product_id = m.marketplace_product_id) AS texts
               FROM core.marketplace_products m JOIN ops.catalog_sources s USING (source_id)
               JOIN ops.stores st ON st.store_id = s.store_id WHERE st.code = :store"""), {"store": store})
        products = {}
        for r in rows:
            assert r.external_id == r.sku
            products[r.sku] = _product(r.sku, r.gtin14, r.mpn, r.brand, r.price, r.currency, r.availability,
                                       r.quantity, r.attributes, r.texts or {})
        return products


def _product(sku, gtin14, mpn, brand, price, currency, availability, quantity, attributes, texts) -> dict:
    def clean(value):
        return value.strip() if isinstance(value, str) and value.strip() else None

    carried = {k: v for k, v in attributes.items() if isinstance(v, (str, list)) and k not in ("sku",)}
    return {"sku": sku, "gtin14": gtin14, "mpn": clean(mpn), "brand": clean(brand), "price": Decimal(price),
            "currency": currency, "availability": availability, "quantity": quantity, "attributes": carried,
            "texts": {lang: (clean(t), clean(d)) for lang, (t, d) in texts.items() if clean(t) or clean(d)}}


def _cells(data: bytes, encoding: str = "utf-8") -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(encoding)), delimiter="\t"))


# ------------------------------------------------------------------------------------------- the round trip
def test_an_export_reimported_through_the_feed_reader_gives_back_the_same_products(seeded, tmp_path):
    export = export_catalog(seeded.engine, "shop", out=tmp_path)
    assert export.languages == ["de", "en", "fr"] and export.primary_language == "de"
    assert [f.filename for f in export.files] == ["shop-catalog-de.tsv", "shop-catalog-en.tsv", "shop-catalog-fr.tsv"]
    assert dict(export.left_out) == {"no price": 1, "no title in any language": 1}
    files = {f.filename: (tmp_path / f.filename).read_bytes() for f in export.files}
    assert all(files[f.filename] == f.data for f in export.files)

    summary = _reimport(seeded, export, files)
    assert (summary.status, summary.quarantined, summary.translations_without_product) == ("completed", 0, 0)
    assert summary.loaded == export.products == 60 + len(OWN)
    expected = _store_products(seeded, "shop")
    assert len(expected) == export.products
    assert _reimported(seeded, "back") == expected
    # The store's own values won over its feed's, and came back.
    back = _reimported(seeded, "back")
    assert sum(1 for p in back.values() if p["brand"] == "-Store brand" and p["price"] == Decimal("7.77")) == 3
    assert sum(1 for p in back.values() if (p["texts"].get("fr") or ("",))[0].startswith("+Titre du magasin")) == 2
    umlaut = back["UMLAUT-1"]
    assert umlaut["gtin14"] == "04006381333931" and umlaut["attributes"]["other_gtins"] == ["5901234123457"]
    assert umlaut["attributes"]["additional_image_link"] == ["https://img.example/a.jpg", "https://img.example/b.jpg"]
    assert umlaut["texts"]["de"][1] == "Zeile 1\tmit Tab\nZeile 2; «Anführung»" and umlaut["quantity"] == -2

    # A second export of the same catalog is the same bytes.
    (tmp_path / "again").mkdir()
    again = export_catalog(seeded.engine, "shop", out=tmp_path / "again")
    assert [f.data for f in again.files] == [f.data for f in export.files]


def test_a_product_without_text_in_the_primary_language_takes_the_store_fallback(seeded, tmp_path):
    with seeded.begin() as conn:
        store_id = conn.execute(text("SELECT store_id FROM ops.stores WHERE code = 'shop'")).scalar_one()
        product_id = conn.execute(text("""INSERT INTO core.products (store_id, sku, price) VALUES (:s, 'ONLY-FR', 4)
                                          RETURNING product_id"""), {"s": store_id}).scalar_one()
        conn.execute(text("""INSERT INTO core.product_translations (product_id, language, title, description)
                             VALUES (:p, 'fr', 'Seulement en français', 'Rien en allemand')"""), {"p": product_id})
    export = export_catalog(seeded.engine, "shop", out=tmp_path)
    by_language = {f.language: _cells(f.data) for f in export.files}
    [de] = [row for row in by_language["de"] if row[0] == "ONLY-FR"]
    assert de[1:3] == ["Seulement en français", "Rien en allemand"]
    assert not [row for row in by_language["en"] if row[0] == "ONLY-FR"]  # no English text: not in that file
    _reimport(seeded, export, {f.filename: f.data for f in export.files})
    assert _reimported(seeded, "back")["ONLY-FR"]["texts"] == {
        "de": ("Seulement en français", "Rien en allemand"), "fr": ("Seulement en français", "Rien en allemand")}


# ------------------------------------------------------------------------------------------- formula cells
@pytest.mark.parametrize("value", ["=1+1", "+33", "-x", "@SUM(A1)", "\tx", "\rx", "'=x", "''-x", "'", "it's",
                                   "'quoted'", "plain", "", "'x", "=", "-"])
def test_escaping_a_cell_never_runs_and_reads_back_the_same(value):
    cell = escape_cell(value)
    assert not cell.startswith(RUNNABLE)
    assert unescape_cell(cell) == value


def test_cells_a_spreadsheet_would_run_go_out_escaped(seeded, tmp_path):
    export = export_catalog(seeded.engine, "shop", out=tmp_path)
    for feed in export.files:
        for row in _cells(feed.data)[1:]:
            assert not [cell for cell in row if cell.startswith(RUNNABLE) and not _number(cell)], row
    de = {row[0]: row for row in _cells(export.files[0].data)}
    header = _cells(export.files[0].data)[0]
    row = de["'=HYPERLINK(\"http://evil.example\")"]
    assert row[header.index("title")] == "'=1+1 Titel" and row[header.index("brand")] == "'+Brand"
    assert row[header.index("mpn")] == "'@mpn-1" and row[header.index("link")] == "'-http://shop.example/x"
    assert de["''=already-quoted"][header.index("title")] == "''-Apostroph zuerst"
    assert de["''=already-quoted"][header.index("description")] == "it's 'quoted'"
    assert de["UMLAUT-1"][header.index("quantity")] == "-2"  # a number, not a formula


def _number(cell: str) -> bool:
    try:
        int(cell)
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------------------------------- encodings
@pytest.mark.parametrize(("encoding", "left_out"), [("utf-8", set()), ("cp1252", {"EMOJI-1"}),
                                                    ("iso-8859-15", {"EMOJI-1", "UMLAUT-1"}),
                                                    ("utf-16", set())])
def test_encodings_the_reader_reads(seeded, tmp_path, encoding, left_out):
    with seeded.begin() as conn:
        upsert_account(conn, "shop", "letzshop", settings={"catalog_export": {"encoding": encoding}})
    export = export_catalog(seeded.engine, "shop", out=tmp_path)
    left = {e.split(": ")[0] for e in export.examples}
    assert sum(export.left_out.values()) == len(left) and left >= {"NO-PRICE", "ZZ-NO-TITLE", *left_out}
    if left_out:
        assert export.left_out[f"text {export.encoding} cannot write"] == len(left) - 2
        assert f"EMOJI-1: text {export.encoding} cannot write ('🎁')" in export.examples
    else:
        assert left == {"NO-PRICE", "ZZ-NO-TITLE"}
    files = {f.filename: f.data for f in export.files}
    if encoding == "utf-8":
        assert "Größe".encode() in files["shop-catalog-de.tsv"] and b"\xef\xbb\xbf" not in files["shop-catalog-de.tsv"]
    if encoding == "cp1252":
        assert "Ça coûte 5 €".encode("cp1252") in files["shop-catalog-fr.tsv"]
    _reimport(seeded, export, files)
    expected = {sku: p for sku, p in _store_products(seeded, "shop").items() if sku not in left}
    assert _reimported(seeded, "back") == expected


def test_bad_settings_are_refused_in_words(seeded, tmp_path):
    for settings, words in [({"encoding": "klingon"}, "is not an encoding"),
                            ({"password": "x"}, "secrets belong in `marketsync credentials set`"),
                            ({"languages": ["deu"]}, "two-letter codes"),
                            ({"filename": "catalog.tsv"}, "needs {language}")]:
        with seeded.begin() as conn:
            conn.execute(text("UPDATE ops.accounts SET settings = settings - 'catalog_export'"))
            upsert_account(conn, "shop", "letzshop", settings={"catalog_export": settings})
        with pytest.raises(MarketsyncError, match=words.replace("{", r"\{").replace("}", r"\}")):
            export_catalog(seeded.engine, "shop", out=tmp_path)
    with pytest.raises(MarketsyncError, match="no catalog export location for shop"):
        export_catalog(seeded.engine, "shop")


def test_languages_and_primary_language_settings():
    settings = ExportSettings({"languages": ["fr", "en"], "primary_language": "en"})
    from marketsync.assets.letzshop.catalog_export import choose_languages

    assert choose_languages(["de", "en", "fr"], ["de", "fr", "en"], settings) == (["en", "fr"], "en")
    assert choose_languages(["en", "fr"], ["de", "fr", "en"], ExportSettings({})) == (["fr", "en"], "fr")
    assert choose_languages([], ["lb", "de"], ExportSettings({})) == (["lb"], "lb")


# ------------------------------------------------------------------------------------------- delivery
def test_delivered_to_the_configured_folder(seeded, tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    with seeded.begin() as conn:
        upsert_account(conn, "shop", "letzshop", settings={"catalog_export": {
            "location": f"file://{drop}/", "filename": "letzshop-{language}.txt"}})
    export = export_catalog(seeded.engine, "shop")
    assert sorted(p.name for p in drop.iterdir()) == ["letzshop-de.txt", "letzshop-en.txt", "letzshop-fr.txt"]
    assert [f.location for f in export.files] == [f"file://{drop}/letzshop-{lang}.txt" for lang in ("de", "en", "fr")]
    assert (drop / "letzshop-fr.txt").read_bytes() == export.files[2].data


def test_delivered_by_http_put_with_the_accounts_key_then_reimported(seeded, vault):
    files: dict[str, bytes] = {}
    requests: list[dict] = []
    with _serve_files(files, requests) as server:
        with seeded.begin() as conn:
            account = upsert_account(conn, "shop", "letzshop", settings={"catalog_export": {
                "location": f"{server.base_url}/catalog/"}})
            vault.store(conn, account.account_id, {"api_key": "letz-key-123"})
        export = export_catalog(seeded.engine, "shop", vault=vault)
        assert [r["name"] for r in requests] == [f.filename for f in export.files]
        headers = requests[0]["headers"]
        assert headers["authorization"] == "Bearer letz-key-123"
        assert headers["idempotency-key"].startswith("letzshop-catalog-shop-de-")
        assert headers["content-type"] == "text/tab-separated-values; charset=utf-8"
        assert export.files[0].location == f"{server.base_url}/catalog/shop-catalog-de.tsv"
    summary = _reimport(seeded, export, files)
    assert summary.loaded == export.products and summary.quarantined == 0


# ------------------------------------------------------------------------------------------- CLI and Dagster
def test_the_cli_exports_to_a_folder_or_the_configured_location(seeded, run_cli, tmp_path):
    out = tmp_path / "out"
    code, stdout, err = run_cli("catalog", "export", "shop", "letzshop", "--out", str(out), "--json")
    assert code == 0, err
    answer = json.loads(stdout)
    assert answer["products"] == 60 + len(OWN) and answer["left_out"] == {"no price": 1, "no title in any language": 1}
    assert sorted(p.name for p in out.iterdir()) == [f["filename"] for f in answer["files"]]

    code, _, err = run_cli("catalog", "export", "shop", "letzshop")
    assert code == 1 and "no catalog export location for shop" in err and err.count("\n") == 1
    code, _, err = run_cli("catalog", "export", "shop", "amazon")
    assert code != 0 and "letzshop" in err

    drop = tmp_path / "drop"
    drop.mkdir()
    assert run_cli("account", "add", "shop", "letzshop", "--set", f"catalog_export.location={drop}")[0] == 0
    code, stdout, err = run_cli("catalog", "export", "shop", "letzshop", "--json")
    assert code == 0, err
    figures = json.loads(stdout)
    assert figures["letzshop_catalog_feed.dagster/row_count"] == 60 + len(OWN)
    assert figures["letzshop_catalog_feed.delivered_to"] == str(drop)
    assert sorted(p.name for p in drop.iterdir()) == sorted(p.name for p in out.iterdir())


def test_the_asset_materialises_a_store_partition(seeded, vault, tmp_path):
    spec = letzshop_catalog_feed.specs_by_key[CATALOG_FEED]
    assert letzshop_catalog_feed.partitions_def == letzshop_accounts
    assert spec.kinds == {"letzshop", "postgres", "csv"} and spec.owners == ["team:data-engineering"]
    assert spec.automation_condition is not None
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(letzshop_accounts.name, ["shop"])

    def run() -> dict:
        result = materialize([letzshop_catalog_feed], partition_key="shop", instance=instance,
                             resources={"warehouse": seeded, "vault": vault})
        assert result.success
        metadata = result.get_asset_materialization_events()[0].event_specific_data.materialization.metadata
        return {k: getattr(v, "value", v) for k, v in metadata.items()}

    assert run()["delivered_to"] == "nowhere (no location)"  # a store that exports nothing is left alone
    with seeded.begin() as conn:
        upsert_account(conn, "shop", "letzshop", settings={"catalog_export": {"location": str(tmp_path)}})
    figures = run()
    assert figures["dagster/row_count"] == 60 + len(OWN) and figures["left_out"] == 2
    assert figures["languages"] == ["de", "en", "fr"] and figures["primary_language"] == "de"
    assert figures["files"][0]["rows"] == 60 + len(OWN)
    assert sorted(p.name for p in Path(tmp_path).iterdir() if p.suffix == ".tsv") == [
        "shop-catalog-de.tsv", "shop-catalog-en.tsv", "shop-catalog-fr.tsv"]


def test_the_feed_carries_the_price_the_price_push_put_on_letzshop(seeded, tmp_path):
    """A product the price push priced on Letzshop (its rule applied) goes out at that price in the
    product feed too, so the two files never tell Letzshop two prices; the others keep the store's."""
    with seeded.begin() as conn:
        conn.execute(text("""
            INSERT INTO core.channel_prices (account_id, product_id, acknowledged_price, currency, acknowledged_at)
            SELECT a.account_id, p.product_id, 12.99, 'EUR', now()
            FROM core.products p JOIN ops.accounts a ON a.store_id = p.store_id AND a.channel = 'letzshop'
            WHERE p.sku = 'UMLAUT-1'"""))
    export = export_catalog(seeded.engine, "shop", out=tmp_path)
    rows = _cells((tmp_path / export.files[0].filename).read_bytes())
    header = rows[0]
    prices = {row[header.index("id")]: row[header.index("price")] for row in rows[1:]}
    assert prices["UMLAUT-1"] == "12.99 EUR"
    assert sum(1 for price in prices.values() if price == "7.77 EUR") == 3  # the store's own, unpriced by a rule
