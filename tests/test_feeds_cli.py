"""Supplier feeds through the CLI: a CSV pulled over HTTP with basic auth, an XML feed over FTP with
RFC 1738 credentials, preview without loading, the Dagster asset import, and a push feed's secret."""
import json
from datetime import UTC
from pathlib import Path

from sqlalchemy import text

from marketsync.sandbox.feeds.generators import count_bad, generate
from marketsync.sandbox.feeds.http_server import create_app
from marketsync.sandbox.http import serve_in_thread


def _counts(warehouse):
    with warehouse.begin() as conn:
        return conn.execute(text(
            """SELECT (SELECT count(*) FROM core.marketplace_products) AS products,
                      (SELECT count(*) FROM ops.quarantine) AS quarantined""")).one()


def test_pulled_csv_over_http_preview_then_import(run_cli, warehouse, tmp_path):
    feeds = tmp_path / "files"
    feeds.mkdir()
    mapping = generate("csv", feeds / "supplier.csv", 200, bad_share=0.02, encoding="utf-8-sig")
    (tmp_path / "mapping.json").write_text(json.dumps(mapping))
    run_cli("account", "add", "shop", "letzshop")
    with serve_in_thread(create_app(feeds, auth=("feeduser", "p@ss:w/rd%+"))) as server:
        url = server.base_url.replace("http://", "http://feeduser:p%40ss%3Aw%2Frd%25%2B@") + "/files/supplier.csv"
        code, out, err = run_cli("feeds", "add", "shop", "acme", "--url", url, "--format", "csv",
                                 "--mapping", str(tmp_path / "mapping.json"), "--encoding", "utf-8-sig")
        assert code == 0, err
        assert "p@ss" not in out and "p%40ss" not in out
        listed = json.loads(run_cli("feeds", "list", "--json")[1])
        shown = server.base_url.replace("http://", "http://feeduser:***@") + "/files/supplier.csv"
        assert listed[0]["location"] == shown and shown in out  # the user shown, the password never
        with warehouse.begin() as conn:
            stored = conn.execute(text("SELECT location FROM ops.catalog_sources")).scalar_one()
            kept = conn.execute(text("SELECT count(*) FROM ops.source_credentials")).scalar_one()
        assert stored == f"{server.base_url}/files/supplier.csv" and kept == 1  # the credentials, encrypted

        code, out, err = run_cli("feeds", "preview", "shop", "acme", "--limit", "60", "--json")
        assert code == 0, err
        preview = json.loads(out)
        assert len(preview["rows"]) == 60 and preview["rejected"]
        # Bad rows anywhere in the feed are counted, not only those met before the first good rows.
        assert preview["records_read"] == 200 and preview["complete"]
        assert preview["rejected_count"] == count_bad(200, 0.02)
        code, out, err = run_cli("feeds", "preview", "shop", "acme", "--limit", "3")
        assert code == 0, err
        assert f"would reject {count_bad(200, 0.02)} of the 200 records read" in out
        assert _counts(warehouse).products == 0  # preview loads nothing

        code, out, err = run_cli("feeds", "run", "shop", "acme", "--json")
        assert code == 0, err
        result = json.loads(out)
    bad = count_bad(200, 0.02)
    assert result["supplier_feed_products.rows_read"] == 200
    assert result["supplier_feed_products.rows_loaded"] == 200 - bad
    assert result["supplier_feed_products.rows_quarantined"] == bad
    assert tuple(_counts(warehouse)) == (200 - bad, bad)


def test_pulled_xml_over_ftp(run_cli, warehouse, tmp_path):
    from marketsync.sandbox.feeds.ftp_server import serve_ftp

    root = tmp_path / "ftp"
    root.mkdir()
    mapping = generate("xml", root / "catalog.xml", 50)
    (tmp_path / "mapping.json").write_text(json.dumps(mapping))
    run_cli("account", "add", "shop", "letzshop")
    with serve_ftp(root, "supplier", "ftp+pass/word") as ftp:
        url = f"ftp://supplier:ftp%2Bpass%2Fword@{ftp.host}:{ftp.port}/catalog.xml"
        # The test server speaks plain FTP only: the feed says its login may cross unencrypted.
        assert run_cli("feeds", "add", "shop", "xmlfeed", "--url", url, "--format", "xml",
                       "--mapping", str(tmp_path / "mapping.json"), "--set", "plain_ftp_login=true")[0] == 0
        code, out, err = run_cli("feeds", "run", "shop", "xmlfeed", "--json")
        assert code == 0, err
    assert json.loads(out)["supplier_feed_products.rows_loaded"] == 50
    assert "ftp+pass" not in out


def test_push_feed_secret_is_shown_once_and_rotates(run_cli, warehouse):
    run_cli("account", "add", "shop", "letzshop")
    code, out, err = run_cli("feeds", "add", "shop", "dropship", "--push")
    assert code == 0, err
    first = out.strip().splitlines()[-1]
    code, out, _ = run_cli("feeds", "push-secret", "shop", "dropship")
    second = out.strip().splitlines()[-1]
    assert first != second and len(second) > 20
    assert "previous secret retired" in run_cli("feeds", "push-secret", "shop", "dropship", "--retire-previous")[1]
    listed = run_cli("feeds", "list")[1]
    assert first not in listed and second not in listed


def test_feeds_add_says_how_to_create_a_store_and_where_a_mapping_breaks(run_cli, warehouse, tmp_path):
    code, out, err = run_cli("feeds", "add", "newshop", "acme", "--url", "http://127.0.0.1:9/f.csv",
                             "--format", "csv")
    assert code == 1 and "marketsync account add newshop feed" in err
    assert run_cli("account", "add", "newshop", "feed")[0] == 0
    broken = tmp_path / "mapping.json"
    broken.write_text('{"external_id": "id",\n  "price": }')
    code, out, err = run_cli("feeds", "add", "newshop", "acme", "--url", "http://127.0.0.1:9/f.csv",
                             "--format", "csv", "--mapping", str(broken))
    assert code == 1 and str(broken) in err and "line 2, column" in err and len(err.strip().splitlines()) == 1
    broken.write_text('{"external_id": "id", "price": "price"}')
    code, out, err = run_cli("feeds", "add", "newshop", "acme", "--url", "http://127.0.0.1:9/f.csv",
                             "--format", "csv", "--mapping", str(broken))
    assert code == 0, err
    code, out, err = run_cli("catalog", "import", "--help")
    assert "letzshop" in out and "codeswholesale" in out and "supplier feeds" in out


def test_a_json_record_with_a_null_price_is_quarantined_not_a_price_wipe(run_cli, warehouse, tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    feed = files / "feed.json"
    feed.write_text(json.dumps([{"id": "A", "price": "12.50", "stock": 3}, {"id": "B", "price": "4.00", "stock": 1}]))
    (tmp_path / "mapping.json").write_text(json.dumps({"external_id": "id", "price": "price", "quantity": "stock",
                                                      "defaults": {"currency": "EUR"}}))
    run_cli("account", "add", "shop", "feed")
    with serve_in_thread(create_app(files)) as server:
        assert run_cli("feeds", "add", "shop", "json", "--url", f"{server.base_url}/files/feed.json", "--format",
                       "json", "--mapping", str(tmp_path / "mapping.json"), "--set", "max_bad_share=0.6")[0] == 0
        assert run_cli("feeds", "run", "shop", "json")[0] == 0
        feed.write_text(json.dumps([{"id": "A", "price": None, "stock": 2}, {"id": "B", "price": "4.20", "stock": 1}]))
        code, out, err = run_cli("feeds", "run", "shop", "json", "--json")
    assert code == 0, err
    assert json.loads(out)["supplier_feed_products.rows_quarantined"] == 1
    with warehouse.begin() as conn:
        prices = dict(conn.execute(text("SELECT external_id, price FROM core.marketplace_products")).all())
        reason = conn.execute(text("SELECT reason FROM ops.quarantine")).scalar_one()
    assert str(prices["A"]) .startswith("12.5") and str(prices["B"]).startswith("4.2")
    assert "no price" in reason


def test_apply_inbox_applies_pushed_batches_without_the_daemon(run_cli, warehouse):
    from datetime import datetime

    from marketsync.assets.feeds.push_inbox import record_delivery

    run_cli("account", "add", "shop", "feed")
    assert run_cli("feeds", "add", "shop", "dropship", "--push")[0] == 0
    with warehouse.begin() as conn:
        source_id = conn.execute(text("SELECT source_id FROM ops.catalog_sources WHERE name = 'dropship'")).scalar_one()
        record_delivery(conn, source_id, "event-1", [{"externalId": "P1", "vendorSku": "SKU-P1", "price": 3.5,
                                                      "inventoryQuantity": 4}],
                        datetime.now(UTC), applied=False)
    code, out, err = run_cli("feeds", "apply-inbox", "--store", "othershop")
    assert code == 0 and "applied 0 batch(es)" in out, err
    code, out, err = run_cli("feeds", "apply-inbox", "--store", "shop")
    assert code == 0 and "applied 1 batch(es) (1 items" in out, err
    with warehouse.begin() as conn:
        assert conn.execute(text(
            "SELECT quantity FROM core.marketplace_products WHERE external_id = 'P1'")).scalar() == 4
        assert conn.execute(text("SELECT status FROM ops.feed_inbox")).scalar_one() == "applied"


# ---------------------------------------------------------------- presets and detection (issue 19)
PRESET_SAMPLES = Path(__file__).parent / "fixtures" / "feed_presets"


def test_feeds_presets_lists_every_preset(run_cli):
    code, out, err = run_cli("feeds", "presets", "--json")
    assert code == 0, err
    listed = {p["name"]: p for p in json.loads(out)}
    assert set(listed) == {"shopify-products", "woocommerce-products", "google-merchant-xml", "google-merchant-tsv",
                           "prestashop-products", "magento-products"}
    assert listed["google-merchant-xml"]["format"] == "xml" and listed["shopify-products"]["version"] == 1
    assert "prestashop-products" in run_cli("feeds", "presets")[1]


def test_feeds_detect_over_http_shows_the_ranking_and_the_best_presets_preview(run_cli):
    with serve_in_thread(create_app(PRESET_SAMPLES)) as server:
        url = f"{server.base_url}/files/woocommerce-products.csv"
        code, out, err = run_cli("feeds", "detect", url, "--json")
        assert code == 0, err
        found = json.loads(out)
        assert (found["best"], found["encoding"], found["has_bom"], found["line_endings"], found["delimiter"]) == (
            "woocommerce-products", "utf-8-sig", True, "CRLF", ",")
        assert found["scores"][0]["preset"] == "woocommerce-products" and found["scores"][0]["confidence"] == 1.0
        preview = found["preview"]
        assert "error" not in preview, preview.get("error")
        assert [row["external_id"] for row in preview["rows"]] == ["101", "102", "103", "200"]
        assert preview["rejected_count"] == 1 and "cheap" in preview["rejected"][0][2]

        code, out, err = run_cli("feeds", "detect", f"{server.base_url}/files/google-merchant-atom.xml")
        assert code == 0, err
        assert "root         {http://www.w3.org/2005/Atom}feed" in out and "best: google-merchant-xml" in out
        assert "preview with google-merchant-xml:" in out and "TOTE-1" in out
        assert "gives no currency" not in out  # Google's prices carry theirs ("15.00 USD")

        code, out, err = run_cli("feeds", "detect", f"{server.base_url}/files/shopify-products.csv")
        assert code == 0, err
        assert "best: shopify-products" in out and "rows skipped, no product of their own" in out
        assert "the file gives no currency for its prices" in out and "--currency" in out


def test_feeds_add_without_a_preset_detects_one_and_stores_its_mapping(run_cli, warehouse):
    run_cli("account", "add", "shop", "feed")
    with serve_in_thread(create_app(PRESET_SAMPLES)) as server:
        code, out, err = run_cli("feeds", "add", "shop", "google", "--url",
                                 f"{server.base_url}/files/google-merchant-atom.xml")
        assert code == 0, err
        assert "detected google-merchant-xml@1 (confidence 1.00)" in out
        assert "not read by" not in out and "marketsync feeds preview shop google" in out
        code, out, err = run_cli("feeds", "add", "shop", "presta", "--url",
                                 f"{server.base_url}/files/prestashop-products.csv", "--preset", "prestashop-products",
                                 "--currency", "EUR")
        assert code == 0, err
        code, _out, err = run_cli("feeds", "add", "shop", "bad-currency", "--url",
                                  f"{server.base_url}/files/shopify-products.csv", "--preset", "shopify-products",
                                  "--currency", "euros")
        assert code == 1 and "currency" in err and "euros" in err
        code, out, err = run_cli("feeds", "preview", "shop", "google", "--json")
        assert code == 0, err
        assert [row["external_id"] for row in json.loads(out)["rows"]] == ["LS-S", "TOTE-1"]
    with warehouse.begin() as conn:
        stored = {row.name: row for row in conn.execute(text(
            "SELECT name, format, mapping, settings FROM ops.catalog_sources ORDER BY name"))}
    google, presta = stored["google"], stored["presta"]
    assert google.format == "xml" and google.mapping["record"] == "a:entry"  # the Atom form, read off the file
    assert google.settings["preset"] == "google-merchant-xml@1" and google.mapping["preset"] == "google-merchant-xml@1"
    assert presta.format == "csv" and presta.mapping["delimiter"] == ";" and presta.settings["preset"] == (
        "prestashop-products@1")
    assert presta.mapping["defaults"]["currency"] == "EUR"  # --currency: what the file does not say
    assert "bad-currency" not in stored
    # A preset's mapping is the source's own: shown and changed like any other.
    code, out, err = run_cli("feeds", "mapping", "shop", "presta")
    assert code == 0 and '"preset": "prestashop-products@1"' in out, err


def test_feeds_add_of_a_file_no_preset_reads_names_the_closest(run_cli, warehouse, tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    (files / "export.csv").write_bytes(b"article_no;label;net_price;stock_level\r\nA-1;Lamp;12,00;4\r\n")
    run_cli("account", "add", "shop", "feed")
    with serve_in_thread(create_app(files)) as server:
        code, _out, err = run_cli("feeds", "add", "shop", "misc", "--url", f"{server.base_url}/files/export.csv")
    assert code == 1 and "cannot tell which preset reads" in err and "no preset matches this file" in err
    assert "article_no" in err and "--preset" in err
    with warehouse.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM ops.catalog_sources")).scalar_one() == 0


def test_feeds_add_reads_only_the_head_of_an_endless_export_to_detect_it(run_cli, warehouse):
    """A supplier's export served as an endless stream (a huge file, or a server that never stops):
    detection reads its first megabyte and stops; the feed is added, nothing else is fetched."""
    import asyncio

    from starlette.applications import Starlette
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    sample = (Path(__file__).parent / "fixtures" / "feed_presets" / "shopify-products.csv").read_bytes()
    header, _, rest = sample.partition(b"\r\n")
    sent = []

    async def endless(_request):
        async def body():
            yield header + b"\r\n"
            while True:
                sent.append(len(rest))
                yield rest
                await asyncio.sleep(0)
        return StreamingResponse(body(), media_type="text/csv")

    run_cli("account", "add", "shop", "feed")
    with serve_in_thread(Starlette(routes=[Route("/export.csv", endless)])) as server:
        code, out, err = run_cli("feeds", "add", "shop", "endless", "--url", f"{server.base_url}/export.csv",
                                 "--currency", "EUR")
    assert code == 0, err
    assert "detected shopify-products@1" in out
    # The stream was left after about a megabyte, not read on.
    assert sum(sent) < 8 * (1 << 20), sum(sent)
    with warehouse.begin() as conn:
        mapping = conn.execute(text("SELECT mapping FROM ops.catalog_sources WHERE name = 'endless'")).scalar_one()
    assert mapping["preset"] == "shopify-products@1" and mapping["defaults"] == {"currency": "EUR"}


def test_feeds_add_names_the_columns_its_detected_preset_does_not_read(run_cli, warehouse, tmp_path):
    import csv
    import io

    sample = (Path(__file__).parent / "fixtures" / "feed_presets" / "shopify-products.csv").read_text(
        encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(sample, newline="")))
    out_text = io.StringIO()
    csv.writer(out_text, lineterminator="\r\n").writerows(
        [[*rows[0], "Supplier note"], *([*row, "n/a"] for row in rows[1:])])
    files = tmp_path / "files"
    files.mkdir()
    (files / "export.csv").write_text(out_text.getvalue(), encoding="utf-8")
    run_cli("account", "add", "shop", "feed")
    with serve_in_thread(create_app(files)) as server:
        code, out, err = run_cli("feeds", "add", "shop", "noted", "--url", f"{server.base_url}/files/export.csv")
    assert code == 0, err
    assert "detected shopify-products@1" in out and "not read by shopify-products@1: Supplier note" in out
