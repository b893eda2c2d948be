"""Catalog sources through the CLI: add the Letzshop product feed and CodesWholesale, import both through
their Dagster assets, and see the runs; secrets only from stdin."""
import json

from sqlalchemy import text

from marketsync.sandbox.http import serve_in_thread


def test_catalog_sources_import_through_the_cli(run_cli, warehouse):
    from marketsync.sandbox.codeswholesale.app import create_app as create_cws_app
    from marketsync.sandbox.codeswholesale.state import CodesWholesaleState
    from marketsync.sandbox.letzshop.product_feed import ProductFeedState, create_feed_app

    feed = ProductFeedState(seed=3, size=40)
    cws = CodesWholesaleState(seed=3, size=60, clients={"client-1": "s3cret+/="})
    with serve_in_thread(create_feed_app(feed)) as feed_server, serve_in_thread(create_cws_app(cws)) as cws_server:
        urls = [f"--url={lang}={url}" for lang, url in feed.urls(feed_server.base_url).items()]
        code, out, err = run_cli("catalog", "add-letzshop-feed", "shop", *urls)
        assert code == 0, err
        code, out, err = run_cli("catalog", "add-codeswholesale", "shop", "--base-url", cws_server.base_url,
                                 stdin=json.dumps({"client_id": "client-1", "client_secret": "s3cret+/="}))
        assert code == 0, err
        code, out, err = run_cli("catalog", "import", "shop", "letzshop", "--json")
        assert code == 0, err
        letzshop = json.loads(out)
        code, out, err = run_cli("catalog", "import", "shop", "codeswholesale", "--json")
        assert code == 0, err
        cws_result = json.loads(out)
    runs = json.loads(run_cli("catalog", "runs", "--json")[1])
    assert sorted(r["source"] for r in runs) == ["codeswholesale", "letzshop_feed"]
    for run in runs:
        assert run["rows_read"] == run["rows_loaded"] + run["rows_unchanged"] + run["rows_quarantined"]
        assert run["status"] in ("completed", "partially_completed")
    with warehouse.begin() as conn:
        digital = conn.execute(text(
            "SELECT count(*) FROM core.marketplace_products WHERE product_type = 'digital'")).scalar_one()
        languages = conn.execute(text(
            "SELECT count(DISTINCT language) FROM core.marketplace_product_translations")).scalar_one()
    assert digital > 0 and languages >= 3
    assert letzshop["run_id"] and cws_result["run_id"]
    assert "s3cret" not in out
