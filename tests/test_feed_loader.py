"""Loading supplier feeds into the canonical catalog (real Postgres): every format, bad rows quarantined
while the rest loads, the failure threshold, refreshes that write only what changed, import-run
accounting on every outcome, preview writing nothing, connecting store products, hostile XML."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.catalog.runs import ImportRun, get_run
from marketsync.assets.feeds.loader import load_feed
from marketsync.assets.feeds.preview import preview_feed
from marketsync.assets.feeds.sources import (
    add_source,
    get_source,
    list_sources,
    redacted,
    set_mapping,
    split_credentials,
)
from marketsync.resources.errors import MarketsyncError
from marketsync.sandbox.feeds.generators import count_bad, count_changed, generate, mutate, source_format

STORE = "feedshop"


@pytest.fixture
def store(warehouse):
    with warehouse.begin() as conn:
        account = upsert_account(conn, STORE, "letzshop")
    return account.store_id


def make_source(warehouse, name: str, fmt: str, mapping: dict, encoding: str = "utf-8", **settings) -> dict:
    with warehouse.begin() as conn:
        return add_source(conn, STORE, name, "pull_feed", source_format(fmt), "https://feeds.example.com/x",
                          mapping, encoding, settings)


def feed(fmt: str, rows: int, **options) -> tuple[io.BytesIO, dict]:
    buffer = io.BytesIO()
    mapping = generate(fmt, buffer, rows, **options)
    buffer.seek(0)
    return buffer, mapping


def scalar(warehouse, sql: str, **params):
    with warehouse.begin() as conn:
        return conn.execute(text(sql), params).scalar()


def run_row(warehouse, import_run_id: int) -> dict:
    with warehouse.begin() as conn:
        return get_run(conn, import_run_id)


def assert_balanced(run: dict) -> None:
    assert run["rows_read"] == run["rows_loaded"] + run["rows_unchanged"] + run["rows_quarantined"], run


# ---------------------------------------------------------------- every format

@pytest.mark.parametrize("fmt, encoding", [
    ("csv", "utf-8-sig"), ("csv", "cp1252"), ("tsv", "utf-8"), ("xml", "utf-8"), ("xml", "cp1252"),
    ("json", "utf-8"), ("ndjson", "utf-8"),
])
def test_each_format_and_encoding_loads(warehouse, store, fmt, encoding):
    data, mapping = feed(fmt, 40, encoding=encoding, languages=("en", "de", "fr"))
    source = make_source(warehouse, f"s-{fmt}-{encoding}".replace("_", "-"), fmt, mapping, encoding)
    result = load_feed(warehouse.engine, source, data)
    assert (result.status, result.rows_read, result.inserted, result.rows_quarantined) == ("completed", 40, 40, 0)
    assert result.translations_written == 120
    with warehouse.begin() as conn:
        product = conn.execute(text("""
            SELECT m.*, t.title FROM core.marketplace_products m
            JOIN core.marketplace_product_translations t USING (marketplace_product_id)
            WHERE m.source_id = :s AND m.external_id = 'P00000001' AND t.language = 'de'"""),
            {"s": source["source_id"]}).one()
    assert product.gtin14 == "04000000079194" and product.price == Decimal("108.46") and product.currency == "EUR"
    assert product.brand == "Nordstad Goods" and product.quantity == 65
    assert product.attributes == {"category": "Apparel", "color": "blue", "size": "XL"}
    assert product.title == "Esch Honigglas blau XL"
    assert scalar(warehouse, "SELECT count(*) FROM core.marketplace_products WHERE brand = 'Böhm & Söhne'") > 0
    assert_balanced(run_row(warehouse, result.import_run_id))


def test_quoted_newlines_survive_the_round_trip(warehouse, store):
    data, mapping = feed("csv", 20, quoted_newlines=True)
    source = make_source(warehouse, "multiline", "csv", mapping)
    load_feed(warehouse.engine, source, data)
    description = scalar(warehouse, """
        SELECT t.description FROM core.marketplace_product_translations t
        JOIN core.marketplace_products m USING (marketplace_product_id)
        WHERE m.external_id = 'P00000004' AND t.language = 'en'""")
    assert description == 'Honey jar by Mamer Mills, "Wiltz" series.\nSecond line: care instructions inside.'


# ---------------------------------------------------------------- bad rows and the threshold

def test_bad_rows_are_quarantined_with_line_raw_text_and_reason_and_the_rest_loads(warehouse, store):
    data, mapping = feed("csv", 100, bad_share=0.04, quoted_newlines=False)
    source = make_source(warehouse, "some-bad", "csv", mapping)
    result = load_feed(warehouse.engine, source, data, dagster_run_id="dagster-run-1")
    assert (result.status, result.rows_read, result.rows_loaded, result.rows_quarantined) == (
        "partially_completed", 100, 96, count_bad(100, 0.04))
    with warehouse.begin() as conn:
        quarantined = conn.execute(text("""
            SELECT source, line_number, raw_text, reason, run_id FROM ops.quarantine
            WHERE import_run_id = :r ORDER BY line_number"""), {"r": result.import_run_id}).all()
    assert [(q.line_number, q.reason.split(":")[0]) for q in quarantined] == [
        (26, "invalid GTIN"), (51, "price 'call us' is not a number"), (76, "no external id (field 'id')"),
        (101, "invalid GTIN")]
    assert quarantined[0].raw_text.startswith("P00000025,SKU-01-00000025,")
    assert {q.source for q in quarantined} == {"feed:some-bad"} and quarantined[0].run_id == "dagster-run-1"
    run = run_row(warehouse, result.import_run_id)
    assert run["status"] == "partially_completed" and run["rows_quarantined"] == 4 and run["finished_at"]
    assert_balanced(run)


def test_above_the_bad_share_the_run_fails_applies_nothing_and_keeps_the_evidence(warehouse, store):
    data, mapping = feed("csv", 50, bad_share=0.1)
    source = make_source(warehouse, "too-bad", "csv", mapping, max_bad_share=0.05)
    with pytest.raises(MarketsyncError, match=r"5 of 50 rows are bad \(10.0%\), more than the source allows \(5.0%\)"):
        load_feed(warehouse.engine, source, data)
    assert scalar(warehouse, "SELECT count(*) FROM core.marketplace_products") == 0
    run_id = scalar(warehouse, "SELECT max(import_run_id) FROM ops.import_runs")
    run = run_row(warehouse, run_id)
    assert (run["status"], run["rows_read"], run["rows_loaded"], run["rows_quarantined"]) == ("failed", 50, 0, 5)
    assert "more than the source allows" in run["error"]
    assert_balanced(run)
    assert scalar(warehouse, "SELECT count(*) FROM ops.quarantine WHERE import_run_id = :r", r=run_id) == 5

    # The same feed under a looser setting loads.
    data.seek(0)
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE ops.catalog_sources SET settings = '{\"max_bad_share\": 0.2}' WHERE source_id = :s"),
                     {"s": source["source_id"]})
        source = get_source(conn, STORE, "too-bad")
    assert load_feed(warehouse.engine, source, data).rows_loaded == 45


def test_a_feed_whose_first_rows_are_all_bad_stops_early(warehouse, store):
    data, mapping = feed("csv", 1500)
    mapping["gtin"] = "price"  # a mapping mistake: every price is read as a barcode
    source = make_source(warehouse, "wrong-map", "csv", mapping)
    with pytest.raises(MarketsyncError, match="the first 1000 rows were all rejected"):
        load_feed(warehouse.engine, source, data)
    run = run_row(warehouse, scalar(warehouse, "SELECT max(import_run_id) FROM ops.import_runs"))
    assert (run["status"], run["rows_read"], run["rows_quarantined"]) == ("failed", 1000, 1000)
    assert_balanced(run)


def test_a_broken_file_fails_the_run_and_the_books_still_balance(warehouse, store):
    source = make_source(warehouse, "broken-json", "json", {"external_id": "id", "record": "data.items"})
    broken = io.BytesIO(b'{"data": {"items": [{"id": "A1"}, {"id": "A2"}, {"id": ')
    with pytest.raises(MarketsyncError, match="not well-formed"):
        load_feed(warehouse.engine, source, broken)
    run = run_row(warehouse, scalar(warehouse, "SELECT max(import_run_id) FROM ops.import_runs"))
    assert run["status"] == "failed" and run["rows_read"] == 2 and run["rows_loaded"] == 0
    assert_balanced(run)
    assert scalar(warehouse, "SELECT count(*) FROM core.marketplace_products") == 0


# ---------------------------------------------------------------- refreshes write only what changed

def _updated_at(warehouse, source_id: int) -> dict[str, object]:
    with warehouse.begin() as conn:
        return dict(conn.execute(text("SELECT external_id, updated_at FROM core.marketplace_products "
                                      "WHERE source_id = :s"), {"s": source_id}).all())


@pytest.mark.parametrize("fmt", ["csv", "xml", "json"])
def test_a_refresh_with_one_changed_row_writes_one_row(warehouse, store, fmt):
    data, mapping = feed(fmt, 50)
    source = make_source(warehouse, f"refresh-{fmt}", fmt, mapping)
    first = load_feed(warehouse.engine, source, data)
    assert (first.inserted, first.rows_loaded) == (50, 50)
    before = _updated_at(warehouse, source["source_id"])
    first_price = scalar(warehouse, "SELECT price FROM core.marketplace_products WHERE external_id = 'P00000026'")

    data.seek(0)
    same = load_feed(warehouse.engine, source, data)
    assert (same.status, same.rows_loaded, same.rows_unchanged, same.translations_written) == ("completed", 0, 50, 0)

    assert count_changed(50, 0.02) == 1
    changed = io.BytesIO()
    mutate(fmt, changed, 50, 0.02)
    changed.seek(0)
    refresh = load_feed(warehouse.engine, source, changed)
    assert (refresh.updated, refresh.inserted, refresh.rows_loaded, refresh.rows_unchanged) == (1, 0, 1, 49)
    assert refresh.translations_written == 0  # price and stock moved, the texts did not
    after = _updated_at(warehouse, source["source_id"])
    assert [k for k in before if before[k] != after[k]] == ["P00000026"]
    price = "SELECT price FROM core.marketplace_products WHERE external_id = 'P00000026' AND source_id = :s"
    assert scalar(warehouse, price, s=source["source_id"]) == first_price + 1  # the supplier's next export
    for result in (first, same, refresh):
        assert_balanced(run_row(warehouse, result.import_run_id))


def test_a_changed_title_rewrites_the_product_and_only_its_translation(warehouse, store):
    source = make_source(warehouse, "titles", "csv", {"external_id": "id", "title": {"en": "t_en", "de": "t_de"}})
    load_feed(warehouse.engine, source, io.BytesIO(b"id,t_en,t_de\nA,Mug,Becher\nB,Cap,Kappe\n"))
    result = load_feed(warehouse.engine, source, io.BytesIO(b"id,t_en,t_de\nA,Mug,Tasse\nB,Cap,\n"))
    assert (result.updated, result.translations_written, result.translations_removed) == (2, 1, 1)
    with warehouse.begin() as conn:
        titles = conn.execute(text("""SELECT m.external_id, t.language, t.title
            FROM core.marketplace_product_translations t JOIN core.marketplace_products m USING (marketplace_product_id)
            ORDER BY 1, 2""")).all()
    assert [tuple(t) for t in titles] == [("A", "de", "Tasse"), ("A", "en", "Mug"), ("B", "en", "Cap")]


def test_a_repeated_id_keeps_the_last_row_and_a_stale_row_never_overwrites(warehouse, store):
    source = make_source(warehouse, "dupes", "csv", {"external_id": "id", "price": "price", "source_updated_at": "at"})
    first = load_feed(warehouse.engine, source, io.BytesIO(
        b"id,price,at\nA,1.00,2026-01-02T00:00:00Z\nA,2.00,2026-01-03T00:00:00Z\nB,5.00,2026-01-02T00:00:00Z\n"))
    assert (first.inserted, first.rows_loaded, first.rows_unchanged) == (2, 2, 1)
    assert scalar(warehouse, "SELECT price FROM core.marketplace_products WHERE external_id = 'A'") == Decimal("2.00")
    stale = load_feed(warehouse.engine, source, io.BytesIO(
        b"id,price,at\nA,9.00,2026-01-01T00:00:00Z\nB,6.00,2026-01-04T00:00:00\n"))
    assert (stale.stale, stale.updated, stale.rows_unchanged) == (1, 1, 1)
    with warehouse.begin() as conn:
        prices = dict(conn.execute(text("SELECT external_id, price FROM core.marketplace_products")).all())
    assert prices == {"A": Decimal("2.00"), "B": Decimal("6.00")}
    for result in (first, stale):
        assert_balanced(run_row(warehouse, result.import_run_id))


# ---------------------------------------------------------------- preview

def test_preview_shows_mapped_and_rejected_rows_and_writes_nothing(warehouse, store):
    data, mapping = feed("csv", 60, bad_share=0.1)
    source = make_source(warehouse, "preview", "csv", mapping)
    tables = ("core.marketplace_products", "core.marketplace_product_translations", "ops.import_runs",
              "ops.quarantine")
    before = [scalar(warehouse, f"SELECT count(*) FROM {t}") for t in tables]  # noqa: S608 - our table names
    shown = preview_feed(source, data, limit=12)
    assert [scalar(warehouse, f"SELECT count(*) FROM {t}") for t in tables] == before  # noqa: S608 - as above
    assert len(shown["rows"]) == 12
    assert sorted(shown["columns"][-6:]) == ["description_de", "description_en", "description_text_de",
                                             "description_text_en", "title_de", "title_en"]
    first = shown["rows"][0]
    assert first["external_id"] == "P00000001" and first["price"] == "108.46"
    assert first["title_de"] == "Esch Honigglas blau XL"
    assert first["attributes"] == {"category": "Apparel", "color": "blue", "size": "XL"}
    # (row 10 starts on line 13: the description of row 4 runs over three lines)
    line, _raw, reason = shown["rejected"][0]
    assert (line, reason.split(":")[0]) == (13, "invalid GTIN")
    # The whole feed is read: the bad rows after the first 12 good ones are counted too.
    assert shown["records_read"] == 60 and shown["complete"]
    assert shown["rejected_count"] == len(shown["rejected"]) == 6
    sample = preview_feed(source, feed("csv", 60, bad_share=0.1)[0], limit=12, max_records=20)
    assert sample["records_read"] == 20 and not sample["complete"] and sample["rejected_count"] < 6


# ---------------------------------------------------------------- connecting store products

def _order_with_exception(conn, store_id: int, sku: str, gtin: str) -> int:
    account_id = conn.execute(text("SELECT account_id FROM ops.accounts WHERE store_id = :s"), {"s": store_id}).scalar()
    order_id = conn.execute(text("""
        INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id, order_number,
                                 channel_state, source_payload_sha)
        VALUES (:s, :a, 'letzshop', 'R1', 'H1', 'R1', 'unconfirmed', 'sha') RETURNING order_id"""),
        {"s": store_id, "a": account_id}).scalar_one()
    placeholder = conn.execute(text("""INSERT INTO core.products (store_id, sku, is_placeholder)
        VALUES (:s, :p, true) RETURNING product_id"""), {"s": store_id, "p": f"unmatched:{gtin}"}).scalar_one()
    item_id = conn.execute(text("""
        INSERT INTO core.order_items (order_id, channel_item_id, sku, barcode, gtin14, channel_state, product_id,
                                      match_status)
        VALUES (:o, 'i1', :sku, :barcode, :gtin, 'unconfirmed', :p, 'unmatched') RETURNING order_item_id"""),
        {"o": order_id, "sku": sku, "barcode": gtin, "gtin": gtin, "p": placeholder}).scalar_one()
    conn.execute(text("""INSERT INTO ops.order_exceptions (store_id, order_id, order_item_id, kind, gtin14, barcode,
                                                       sku)
        VALUES (:s, :o, :i, 'product_not_found', :g, :barcode, :sku)"""),
        {"s": store_id, "o": order_id, "i": item_id, "g": gtin, "barcode": gtin, "sku": sku})
    return item_id


def test_connect_by_sku_links_store_products_and_resolves_a_pending_exception(warehouse, store):
    gtin = "04000000079194"  # product P00000001 of the generated feed, SKU SKU-01-00000001
    with warehouse.begin() as conn:
        own = conn.execute(text("INSERT INTO core.products (store_id, sku, title) "
                                "VALUES (:s, 'SKU-01-00000001', 'Mug') RETURNING product_id"),
                           {"s": store}).scalar_one()
        other = conn.execute(text("INSERT INTO core.products (store_id, sku) VALUES (:s, 'NOT-IN-FEED') "
                                  "RETURNING product_id"), {"s": store}).scalar_one()
        item_id = _order_with_exception(conn, store, "CHANNEL-SKU", gtin)
    data, mapping = feed("csv", 10)
    source = make_source(warehouse, "connect", "csv", mapping, connect_by=["sku"])
    result = load_feed(warehouse.engine, source, data)
    assert (result.products_linked, result.exceptions_resolved) == (1, 1)
    with warehouse.begin() as conn:
        linked = dict(conn.execute(text("SELECT product_id, marketplace_product_id IS NOT NULL FROM core.products "
                                        "WHERE NOT is_placeholder")).all())
        exception = conn.execute(text("SELECT status, resolved_product_id, resolved_by "
                                      "FROM ops.order_exceptions")).one()
        item = conn.execute(text("SELECT product_id, match_status, matched_by FROM core.order_items "
                                 "WHERE order_item_id = :i"), {"i": item_id}).one()
        # The listing keeps no GTIN of its own: it inherits the feed's (and follows later changes of it).
        own_gtin = conn.execute(text("SELECT gtin14 FROM core.products WHERE product_id = :p"), {"p": own}).scalar()
        gtin_now = conn.execute(text("SELECT gtin14 FROM analytics.store_catalog WHERE product_id = :p"),
                                {"p": own}).scalar()
    assert linked == {own: True, other: False}
    assert own_gtin is None and gtin_now == gtin
    assert (exception.status, exception.resolved_product_id, exception.resolved_by) == (
        "resolved", own, "marketsync (automatic)")
    assert tuple(item) == (own, "matched", "gtin")


def test_connect_by_gtin_links_a_store_product_with_the_same_barcode(warehouse, store):
    with warehouse.begin() as conn:
        own = conn.execute(text("INSERT INTO core.products (store_id, sku, gtin14) "
                                "VALUES (:s, 'MINE', '04000000079200') RETURNING product_id"),
                           {"s": store}).scalar_one()
    data, mapping = feed("csv", 5)
    source = make_source(warehouse, "connect-gtin", "csv", mapping, connect_by=["gtin"])
    assert load_feed(warehouse.engine, source, data).products_linked == 1
    assert scalar(warehouse, """SELECT m.external_id FROM core.products p JOIN core.marketplace_products m
                                USING (marketplace_product_id) WHERE p.product_id = :p""", p=own) == "P00000002"


# ---------------------------------------------------------------- hostile XML through the whole loader

def test_an_xml_feed_with_an_external_entity_payload_fails_cleanly(warehouse, store, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("CANARY-d41d8c")
    document = f"""<?xml version="1.0"?>
<!DOCTYPE items [<!ENTITY x SYSTEM "file://{secret}"><!ENTITY p SYSTEM "file:///etc/passwd">]>
<items><item><id>&x;</id><name>&p;</name></item><item><id>ok</id></item></items>""".encode()
    source = make_source(warehouse, "xxe", "xml", {"record": "item", "external_id": "id", "sku": "name"})
    with pytest.raises(MarketsyncError, match="declares entities"):
        load_feed(warehouse.engine, source, io.BytesIO(document))
    run = run_row(warehouse, scalar(warehouse, "SELECT max(import_run_id) FROM ops.import_runs"))
    assert run["status"] == "failed" and "never expands XML entities" in run["error"]
    assert_balanced(run)
    dump = scalar(warehouse, "SELECT string_agg(raw_text || reason, '') FROM ops.quarantine") or ""
    dump += scalar(warehouse, "SELECT string_agg(m::text, '') FROM core.marketplace_products m") or ""
    assert "CANARY" not in dump and "root:" not in dump


# ---------------------------------------------------------------- sources and runs

def test_sources_registry_mapping_versions_and_redacted_locations(warehouse, store):
    mapping = {"external_id": "id"}
    with warehouse.begin() as conn:
        with pytest.raises(MarketsyncError, match="carries a password"):
            add_source(conn, STORE, "secret", "pull_feed", "csv", "ftp://bob:s3cret@ftp.example.com/feed.csv", mapping)
        with pytest.raises(MarketsyncError, match="'external_id' is required"):
            add_source(conn, STORE, "nomap", "pull_feed", "csv", None, {"sku": "sku"})
        bare, user, password = split_credentials("ftp://bob:s3cr%40t@ftp.example.com/feed.csv")
        assert (bare, user, password) == ("ftp://bob@ftp.example.com/feed.csv", "bob", "s3cr@t")
        source = add_source(conn, STORE, "supplier-a", "pull_feed", "csv", bare, mapping, "cp1252",
                            {"connect_by": ["sku"]})
        assert (source["mapping_version"], source["encoding"], source["settings"]) == (
            1, "cp1252", {"connect_by": ["sku"]})
        updated = set_mapping(conn, source["source_id"], {"external_id": "id", "sku": "sku"}, "anna")
        assert updated["mapping_version"] == 2 and updated["mapping"] == {"external_id": "id", "sku": "sku"}
        with pytest.raises(MarketsyncError, match="not valid"):
            set_mapping(conn, source["source_id"], {"sku": "sku"}, "anna")
        versions = conn.execute(text("SELECT version, created_by FROM ops.feed_mapping_versions "
                                     "WHERE source_id = :s ORDER BY 1"), {"s": source["source_id"]}).all()
        assert [tuple(v) for v in versions] == [(1, "marketsync"), (2, "anna")]
        assert [s["name"] for s in list_sources(conn, STORE)] == ["supplier-a"]
        assert list_sources(conn, STORE)[0]["location"] == "ftp://bob:***@ftp.example.com/feed.csv"
    assert redacted("https://user:pa%40ss@host.example/x.csv?token=abc&page=2") == \
        "https://user:***@host.example/x.csv?token=***&page=2"
    assert redacted("ftps://host.example/feed.xml") == "ftps://host.example/feed.xml"


def test_import_run_transitions_are_guarded(warehouse, store):
    source = make_source(warehouse, "runs", "csv", {"external_id": "id"})
    run = ImportRun.start(warehouse.engine, source, "dagster-7")
    run.downloading()
    run.parsing()
    with pytest.raises(MarketsyncError, match="cannot go from parsing to completed"):
        run._move("completed")
    run.fail("the supplier's server said 503")
    with pytest.raises(MarketsyncError, match="cannot go from failed to parsing"):
        run.parsing()
    row = run_row(warehouse, run.import_run_id)
    assert (row["status"], row["dagster_run_id"], row["mapping_version"]) == ("failed", "dagster-7", 1)
    assert_balanced(row)


def test_an_html_description_is_stored_with_its_plain_text_and_shown_in_the_store_catalog(warehouse, store):
    """The feed's HTML stays as written; its plain text sits beside it, is rewritten when the HTML
    changes, and the analysts' store catalog offers it."""
    mapping = {"external_id": "id", "sku": "id", "price": "price", "description": {"en": "body"},
               "defaults": {"currency": "EUR"}}
    source = make_source(warehouse, "html", "csv", mapping, connect_by=["sku"])
    with warehouse.begin() as conn:
        own = conn.execute(text("INSERT INTO core.products (store_id, sku) VALUES (:s, 'H-1') RETURNING product_id"),
                           {"s": store}).scalar_one()

    def load(body: str) -> tuple:
        data = io.BytesIO(f'id,price,body\r\nH-1,5.00,"{body}"\r\nP-2,6.00,plain text\r\n'.encode())
        load_feed(warehouse.engine, source, data)
        with warehouse.begin() as conn:
            return tuple(conn.execute(text(
                "SELECT t.description, t.description_text FROM core.marketplace_product_translations t "
                "JOIN core.marketplace_products m USING (marketplace_product_id) WHERE m.source_id = :s "
                "ORDER BY m.external_id"), {"s": source["source_id"]}).all()), conn.execute(text(
                    "SELECT description_text FROM analytics.store_catalog WHERE product_id = :p"), {"p": own}).scalar()

    stored, shown = load("<p>Warm &amp; soft</p><ul><li>wool</li></ul>")
    assert [tuple(r) for r in stored] == [("<p>Warm &amp; soft</p><ul><li>wool</li></ul>", "Warm & soft\nwool"),
                                          ("plain text", None)]
    assert shown == "Warm & soft\nwool"
    stored, shown = load("<p>Cold</p>")
    assert tuple(stored[0]) == ("<p>Cold</p>", "Cold") and shown == "Cold"
