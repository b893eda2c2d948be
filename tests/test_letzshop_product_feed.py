"""The Letzshop product feed: per-language Google-Shopping TSV files, fetched over loopback HTTP from
the simulator, merged into one canonical product per id with a translation per language, bad lines
quarantined with line number, raw text and reason, and refreshes that write only what changed."""
from decimal import Decimal
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, materialize
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from marketsync.assets.letzshop.orders import letzshop_accounts
from marketsync.assets.letzshop.product_feed import (
    FeedError,
    add_letzshop_feed_source,
    get_letzshop_feed_source,
    import_letzshop_feed,
    letzshop_catalog,
    parse_price,
    redact_url,
)
from marketsync.resources.errors import MarketsyncError
from marketsync.sandbox.http import serve_in_thread
from marketsync.sandbox.letzshop.catalog import DEFAULT_ANOMALIES, Anomalies
from marketsync.sandbox.letzshop.product_feed import (
    FEED_COLUMNS,
    FeedMaker,
    ProductFeedState,
    create_feed_app,
    feed_lines,
)

SPECS = Path(__file__).resolve().parents[2] / "shared" / "specs" / "letzshop"
CLEAN = Anomalies(**{**vars(DEFAULT_ANOMALIES), "bad_check_digit": 0.0})


@pytest.fixture
def feed():
    """A seeded feed of 600 products in en, fr and de on loopback: (state, urls)."""
    state = ProductFeedState(seed=7, size=600)
    with serve_in_thread(create_feed_app(state)) as server:
        yield state, state.urls(server.base_url)


def _serve(files: dict[str, bytes]):
    """A plain HTTP server for hand-written feed files: /NAME -> bytes."""
    async def serve(request):
        return Response(files[request.path_params["name"]], media_type="text/tab-separated-values")
    return serve_in_thread(Starlette(routes=[Route("/{name}", serve)]))


def _add(warehouse, urls, **kwargs) -> int:
    with warehouse.begin() as conn:
        return add_letzshop_feed_source(conn, "shop", urls, **kwargs)


def _products(warehouse, source_id) -> dict:
    """Products by external id, and their translations under ("t", external id) -> {language: (title, description)}."""
    with warehouse.begin() as conn:
        rows = {r.external_id: r for r in conn.execute(text(
            "SELECT * FROM core.marketplace_products WHERE source_id = :s"), {"s": source_id})}
        for row in conn.execute(text(
                """SELECT m.external_id, t.language, t.title, t.description FROM core.marketplace_product_translations t
                   JOIN core.marketplace_products m USING (marketplace_product_id) WHERE m.source_id = :s"""),
                {"s": source_id}):
            rows.setdefault(("t", row.external_id), {})[row.language] = (row.title, row.description)
    return rows


def _run(warehouse, import_run_id):
    with warehouse.begin() as conn:
        return conn.execute(text("SELECT * FROM ops.import_runs WHERE import_run_id = :i"), {"i": import_run_id}).one()


# ------------------------------------------------------------------------------------------- merging
def test_languages_merge_into_one_product_with_three_translations(feed, warehouse):
    state, urls = feed
    source_id = _add(warehouse, urls)
    summary = import_letzshop_feed(warehouse.engine, "shop", "run-1")
    expected = state.expectations(primary="de")
    assert summary.languages == ["de", "en", "fr"]
    assert (summary.read, summary.loaded, summary.unchanged, summary.quarantined) == (
        expected.read, expected.loaded, 0, expected.quarantined)
    assert summary.translations_written == expected.translations
    run = _run(warehouse, summary.import_run_id)
    assert run.rows_read == run.rows_loaded + run.rows_unchanged + run.rows_quarantined == expected.read
    assert run.status == "partially_completed" and run.dagster_run_id == "run-1" and run.bytes_read > 0

    rows = _products(warehouse, source_id)
    maker = FeedMaker(7)
    plain = next(maker.product(i) for i in range(600) if maker.product(i).problem is None
                 and "\n" in maker.product(i).descriptions["en"])
    row = rows[plain.id]
    cents = Decimal(plain.price.split()[0])
    assert (row.sku, row.brand, row.price, row.currency, row.availability, row.product_type) == (
        plain.id, plain.brand, cents, "EUR", plain.availability, "physical")
    assert row.gtin14 == plain.gtin.replace(" ", "").rjust(14, "0") and row.mpn == (plain.mpn or None)
    assert row.attributes["link"].endswith(plain.id.lower()) and "/de/" in row.attributes["link"]
    assert len(row.attributes["additional_image_link"]) == 2 and row.attributes["condition"] == "new"
    translations = rows[("t", plain.id)]
    assert translations == {lang: (plain.titles[lang], plain.descriptions[lang]) for lang in ("en", "fr", "de")}
    assert "\n" in translations["fr"][1]  # a quoted line break survives


def test_invalid_gtin_is_quarantined_with_line_number_and_the_rest_loads(feed, warehouse):
    state, urls = feed
    source_id = _add(warehouse, urls, primary_language="en")
    summary = import_letzshop_feed(warehouse.engine, "shop")
    expected = state.expectations(primary="en")
    assert expected.bad_gtin and summary.loaded == expected.loaded
    rows = _products(warehouse, source_id)
    with warehouse.begin() as conn:
        quarantined = {q.record_ref: q for q in conn.execute(text(
            "SELECT * FROM ops.quarantine WHERE import_run_id = :i"), {"i": summary.import_run_id})}
    assert len(quarantined) == expected.quarantined == summary.quarantined
    maker = FeedMaker(7)
    first_line, physical = {}, 1  # physical line where each record starts (quoted line breaks count)
    for record in list(feed_lines(maker, 600, "en"))[1:]:
        first_line[record.split("\t", 1)[0]] = physical + 1
        physical += record.count("\n")
    for bad_id in expected.bad_gtin:
        entry = quarantined[bad_id]
        product = next(maker.product(i) for i in range(600) if maker.product(i).id == bad_id)
        assert entry.line_number == first_line[bad_id]
        assert entry.raw_text.startswith(bad_id + "\t") and product.gtin in entry.raw_text
        assert entry.reason.startswith("en feed: ") and "wrong check digit" in entry.reason
        assert entry.source == "letzshop_feed" and bad_id not in rows
    for bad_id in expected.bad_price:
        assert "price 'on request'" in quarantined[bad_id].reason
    for bad_id, language in expected.stray_tab:
        assert "fields, the header has" in quarantined[bad_id].reason
        if language != "en":
            assert set(rows[("t", bad_id)]) == {"en", "fr", "de"} - {language}


def test_second_run_with_nothing_changed_writes_nothing(warehouse):
    state = ProductFeedState(seed=3, size=400, anomalies=CLEAN, broken_rate=0.0)
    with serve_in_thread(create_feed_app(state)) as server:
        source_id = _add(warehouse, state.urls(server.base_url))
        first = import_letzshop_feed(warehouse.engine, "shop")
        assert (first.read, first.loaded, first.quarantined, first.status) == (400, 400, 0, "completed")
        with warehouse.begin() as conn:
            before = dict(conn.execute(text(
                "SELECT external_id, xmin::text FROM core.marketplace_products")).tuples().all())
        again = import_letzshop_feed(warehouse.engine, "shop")
        assert (again.unchanged, again.loaded, again.translations_written) == (again.read, 0, 0)
        with warehouse.begin() as conn:
            after = dict(conn.execute(text(
                "SELECT external_id, xmin::text FROM core.marketplace_products")).tuples().all())
        assert before == after

        state.advance()  # a seeded 1 % of prices move
        maker = FeedMaker(3, anomalies=CLEAN, broken_rate=0.0)
        moved = sum(1 for i in range(400) if maker.product(i, 1).price != maker.product(i, 0).price)
        third = import_letzshop_feed(warehouse.engine, "shop")
        assert (third.updated, third.unchanged, third.translations_written) == (moved, 400 - moved, 0)
    with warehouse.begin() as conn:
        statuses = conn.execute(text("SELECT status FROM ops.import_runs WHERE source_id = :s ORDER BY 1"),
                                {"s": source_id}).scalars().all()
    assert statuses == ["completed"] * 3


# ------------------------------------------------------------------------------------------- robustness
def test_small_copy_batches_load_the_same(feed, warehouse, monkeypatch):
    """Lines travel to COPY in batches; a batch boundary must lose nothing."""
    import marketsync.assets.letzshop.product_feed as product_feed

    state, urls = feed
    monkeypatch.setattr(product_feed, "BATCH_ROWS", 7)
    _add(warehouse, urls)
    summary = import_letzshop_feed(warehouse.engine, "shop")
    expected = state.expectations()
    assert (summary.read, summary.loaded, summary.quarantined, summary.translations_written) == (
        expected.read, expected.loaded, expected.quarantined, expected.translations)


def test_encodings_bom_and_cp1252(warehouse):
    maker = FeedMaker(5, languages=("fr", "de"), anomalies=CLEAN, broken_rate=0.0)
    for encoding, declared in (("utf-8-sig", "utf-8"), ("cp1252", "cp1252")):
        state = ProductFeedState(seed=5, size=120, languages=("fr", "de"), encoding=encoding,
                                 anomalies=CLEAN, broken_rate=0.0)
        with serve_in_thread(create_feed_app(state)) as server:
            source_id = _add(warehouse, state.urls(server.base_url), encoding=declared)
            summary = import_letzshop_feed(warehouse.engine, "shop")
        assert (summary.read, summary.quarantined) == (120, 0), encoding
        rows = _products(warehouse, source_id)
        for index in range(120):
            product = maker.product(index)
            title = product.titles["fr"].encode(encoding, "replace").decode(encoding).lstrip("\ufeff")
            assert rows[("t", product.id)]["fr"][0] == title.strip(), encoding  # the BOM is not in the first id
        assert any("é" in rows[("t", maker.product(i).id)]["fr"][0] for i in range(120))


def test_wrong_encoding_fails_in_one_line(warehouse):
    state = ProductFeedState(seed=5, size=300, languages=("fr",), encoding="cp1252", anomalies=CLEAN)
    with serve_in_thread(create_feed_app(state)) as server:
        _add(warehouse, state.urls(server.base_url))
        with pytest.raises(FeedError, match="not valid utf-8 text") as failed:
            import_letzshop_feed(warehouse.engine, "shop")
    assert "\n" not in str(failed.value)


def test_hand_written_breakage_is_quarantined_line_by_line(warehouse):
    header = "\t".join(("g:id", "Title", "description", "price", "availability", "gtin", "brand")) + "\r\n"
    lines = [
        "A-1\tKettle\tSteel\t19.99 EUR\tin stock\t4006381333931\tAcme\r\n",       # 2 fine (CRLF, Google's old spelling)
        "\r\n",                                                                 # 3 blank: skipped
        "A-2\tToaster\tTwo slots\t24,50 EUR\tsold out\t\tAcme\r\n",             # 4 unknown availability
        "A-3\tLamp\tNul\x00here\t9.99 EUR\tin_stock\t\tAcme\r\n",               # 5 NUL
        "A-4\tShort line\r\n",                                                  # 6 too few fields
        "\tNo id\t\t1.00 EUR\tin_stock\t\tAcme\r\n",                            # 7 no id
        'A-5\t"Mug ""XL"""\t"two\nlines"\tEUR 5\tpreorder\t\tAcme\r\n',         # 8-9 fine, quoted
        "A-6\tFree\t\t\tin_stock\t\tAcme\r\n",                                  # 10 no price
    ]
    files = {"en.tsv": (header + "".join(lines)).encode(),
             "fr.tsv": (header + "A-1\tBouilloire\tAcier\t19.99 EUR\tin_stock\t4006381333931\tAcme\n"
                        "A-9\tFantôme\t\t1 EUR\tin_stock\t\tAcme\n").encode()}
    with _serve(files) as server:
        source_id = _add(warehouse, {"en": f"{server.base_url}/en.tsv", "fr": f"{server.base_url}/fr.tsv"},
                         primary_language="en", settings={"max_bad_share": 0.9})
        summary = import_letzshop_feed(warehouse.engine, "shop")
    assert (summary.loaded, summary.quarantined, summary.read) == (2, 5, 7)
    assert summary.translations_without_product == 1  # A-9 is in the fr file only
    with warehouse.begin() as conn:
        refused = {q.line_number: q.reason for q in conn.execute(text(
            "SELECT line_number, reason FROM ops.quarantine WHERE import_run_id = :i"), {"i": summary.import_run_id})}
    assert sorted(refused) == [4, 5, 6, 7, 10]
    assert "availability 'sold out'" in refused[4] and "NUL" in refused[5] and "2 fields" in refused[6]
    assert refused[7].endswith("no id") and refused[10].endswith("no price")
    rows = _products(warehouse, source_id)
    assert rows["A-1"].availability == "in_stock" and rows["A-5"].price == Decimal("5")
    assert rows[("t", "A-5")]["en"] == ('Mug "XL"', "two\nlines")
    assert rows[("t", "A-1")] == {"en": ("Kettle", "Steel"), "fr": ("Bouilloire", "Acier")}


def test_too_many_bad_lines_fail_the_run_and_keep_the_quarantine(warehouse):
    header = "id\ttitle\tprice\n"
    body = "".join(f"P{i}\tThing\t{'n/a' if i % 3 == 0 else '1.00 EUR'}\n" for i in range(30))
    with _serve({"en.tsv": (header + body).encode()}) as server:
        source_id = _add(warehouse, {"en": f"{server.base_url}/en.tsv"})
        with pytest.raises(FeedError, match=r"above the limit of 10\.0%"):
            import_letzshop_feed(warehouse.engine, "shop")
    with warehouse.begin() as conn:
        run = conn.execute(text("SELECT * FROM ops.import_runs WHERE source_id = :s"), {"s": source_id}).one()
        products = conn.execute(text("SELECT count(*) FROM core.marketplace_products")).scalar_one()
    assert (run.status, run.rows_quarantined, products) == ("failed", 10, 0)


def test_missing_required_column_fails_with_a_clear_message(warehouse):
    with _serve({"en.tsv": b"id\ttitle\n1\tx\n"}) as server:
        _add(warehouse, {"en": f"{server.base_url}/en.tsv"})
        with pytest.raises(FeedError, match="en feed has no price column"):
            import_letzshop_feed(warehouse.engine, "shop")


def test_downloads_retry_5xx_and_429_and_a_broken_download_fails_transiently(feed, warehouse):
    state, urls = feed
    _add(warehouse, urls)
    state.add_fault("http_503", language="de", retry_after=0.2)
    state.add_fault("http_429", language="fr", retry_after=0.1)
    summary = import_letzshop_feed(warehouse.engine, "shop", max_retry_wait=0.5)
    assert summary.loaded == state.expectations().loaded and state.requests["de"] == 2
    state.add_fault("truncate", language="en")
    with pytest.raises(FeedError, match="en feed broke off") as broken:
        import_letzshop_feed(warehouse.engine, "shop")
    assert broken.value.transient


def test_credentials_in_feed_urls_are_kept_in_the_vault_and_redacted(warehouse, vault):
    files = {"en.tsv": b"id\ttitle\tprice\nP1\tThing\t1.00 EUR\n"}

    seen = []

    async def serve(request):
        seen.append(request.headers.get("authorization"))
        return Response(files["en.tsv"])

    with serve_in_thread(Starlette(routes=[Route("/{name}", serve)])) as server:
        url = server.base_url.replace("http://", "http://feeduser:S3cr%2Ft@") + "/en.tsv"
        source_id = _add(warehouse, {"en": url}, vault=vault)
        with pytest.raises(MarketsyncError, match="vault"):
            import_letzshop_feed(warehouse.engine, "shop")
        summary = import_letzshop_feed(warehouse.engine, "shop", vault=vault)
    assert summary.loaded == 1 and seen[-1].startswith("Basic ")
    with warehouse.begin() as conn:
        source = get_letzshop_feed_source(conn, "shop")
        row = conn.execute(text("SELECT location, settings::text AS settings FROM ops.catalog_sources "
                                "WHERE source_id = :s"), {"s": source_id}).one()
    assert "S3cr" not in row.location + row.settings and "feeduser" not in row.settings
    assert source.urls["en"] == server.base_url + "/en.tsv"
    assert redact_url(url) == server.base_url.replace("http://", "http://feeduser:***@") + "/en.tsv"


def test_parse_price():
    assert parse_price("19.99 EUR", "EUR") == (Decimal("19.99"), "EUR")
    assert parse_price("USD 5", "EUR") == (Decimal("5"), "USD")
    assert parse_price("12,50 eur", "EUR") == (Decimal("12.50"), "EUR")
    assert parse_price("7.10", "CHF") == (Decimal("7.10"), "CHF")
    for broken in ("on request", "-1 EUR", "NaN EUR", "1e99 EUR"):
        with pytest.raises(ValueError):
            parse_price(broken, "EUR")


# ------------------------------------------------------------------------------------------- Dagster
def test_asset_materializes_a_letzshop_partition(feed, warehouse, vault):
    _, urls = feed
    _add(warehouse, urls)
    spec = letzshop_catalog.specs_by_key[AssetKey(["core", "letzshop_catalog"])]
    assert letzshop_catalog.partitions_def == letzshop_accounts and spec.kinds == {"letzshop", "http", "postgres"}
    assert spec.group_name == "catalog"
    assert spec.owners == ["team:data-engineering"]
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(letzshop_accounts.name, ["shop"])
    result = materialize([letzshop_catalog], partition_key="shop", instance=instance,
                         resources={"warehouse": warehouse, "vault": vault})
    assert result.success
    metadata = result.get_asset_materialization_events()[0].event_specific_data.materialization.metadata
    figures = {k: getattr(v, "value", v) for k, v in metadata.items()}
    assert figures["read"] == figures["loaded"] + figures["unchanged"] + figures["quarantined"] > 0
    assert figures["languages"] == ["de", "en", "fr"]
    assert figures["dagster/table_name"] == "core.marketplace_products"
    assert figures["dagster/row_count"] >= figures["loaded"]


# ------------------------------------------------------------------------------------------- conformance
def test_feed_conforms_to_the_public_facts():
    """The simulator serves what the public pages say Letzshop ingests (skips without ../shared)."""
    facts = SPECS / "letzshop_api_facts_from_public_pages.md"
    if not facts.exists():
        pytest.skip("public Letzshop facts (../shared/specs/letzshop) are not present")
    text_ = facts.read_text()
    assert "tab-separated" in text_ and "one file per language" in text_
    line = next(ln for ln in text_.splitlines() if "Columns shown begin" in ln or ln.strip().startswith("id, title"))
    listed = [c.strip() for c in text_.split("Columns shown begin:")[-1].split("...")[0].replace("\n", " ").split(",")]
    listed = [c.split(" ")[0] for c in listed if c]
    assert line and list(FEED_COLUMNS[: len(listed)]) == listed
