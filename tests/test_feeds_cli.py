"""Supplier feeds through the CLI: a CSV pulled over HTTP with basic auth, an XML feed over FTP with
RFC 1738 credentials, preview without loading, the Dagster asset import, and a push feed's secret."""
import json

from sqlalchemy import text

from sandbox.feeds.generators import count_bad, generate
from sandbox.feeds.http_server import create_app
from sandbox.http import serve_in_thread


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
        assert listed[0]["location"] == f"{server.base_url}/files/supplier.csv"
        with warehouse.begin() as conn:
            stored = conn.execute(text("SELECT location FROM ops.catalog_sources")).scalar_one()
            kept = conn.execute(text("SELECT count(*) FROM ops.source_credentials")).scalar_one()
        assert stored == f"{server.base_url}/files/supplier.csv" and kept == 1  # the credentials, encrypted

        code, out, err = run_cli("feeds", "preview", "shop", "acme", "--limit", "60", "--json")
        assert code == 0, err
        preview = json.loads(out)
        assert len(preview["rows"]) == 60 and preview["rejected"]
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
    from sandbox.feeds.ftp_server import serve_ftp

    root = tmp_path / "ftp"
    root.mkdir()
    mapping = generate("xml", root / "catalog.xml", 50)
    (tmp_path / "mapping.json").write_text(json.dumps(mapping))
    run_cli("account", "add", "shop", "letzshop")
    with serve_ftp(root, "supplier", "ftp+pass/word") as ftp:
        url = f"ftp://supplier:ftp%2Bpass%2Fword@{ftp.host}:{ftp.port}/catalog.xml"
        assert run_cli("feeds", "add", "shop", "xmlfeed", "--url", url, "--format", "xml",
                       "--mapping", str(tmp_path / "mapping.json"))[0] == 0
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
