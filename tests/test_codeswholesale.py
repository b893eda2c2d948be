"""CodesWholesale: the v3 client against the simulator over loopback (OAuth client credentials,
continuation-token paging, retries), the normaliser (digital goods, quantity-tiered prices), and the
import into the canonical catalog through CatalogWriter with an ops.import_runs row."""
import json
import re
import time
from decimal import Decimal
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, SkipReason, build_sensor_context, materialize
from sqlalchemy import text

from marketsync.assets.codeswholesale.catalog import (
    add_codeswholesale_source,
    codeswholesale_accounts,
    codeswholesale_products,
    codeswholesale_store_codes,
    import_codeswholesale_catalog,
)
from marketsync.assets.codeswholesale.normalise import RefusedProduct, normalise_product
from marketsync.resources.codeswholesale import CodesWholesaleApi, CodesWholesaleError, CodesWholesaleResource
from marketsync.resources.errors import MarketsyncError
from marketsync.sandbox.codeswholesale.data import Anomalies, generate_products, single_unit_price
from marketsync.sandbox.codeswholesale.state import CodesWholesaleState
from marketsync.sandbox.http import serve_in_thread
from marketsync.sensors.codeswholesale_partitions import codeswholesale_partitions_sensor

CLIENT_ID = "cws-test-client"
CLIENT_SECRET = "$2a$10$Canary+Secret/Value=%41xyz"  # characters that must survive form encoding
SPECS = Path(__file__).resolve().parents[2] / "shared" / "specs" / "codeswholesale"


def _resource(**overrides) -> CodesWholesaleResource:
    return CodesWholesaleResource(**{"timeout_seconds": 5, "attempts": 4, "max_retry_wait_seconds": 0.5, **overrides})


@pytest.fixture
def cws():
    """A seeded CodesWholesale simulator on loopback: (state, base URL). 1,234 products, 100 per page."""
    from marketsync.sandbox.codeswholesale.app import create_app

    state = CodesWholesaleState(seed=11, size=1234, clients={CLIENT_ID: CLIENT_SECRET}, page_size=100)
    with serve_in_thread(create_app(state)) as server:
        yield state, server.base_url


def _api(base_url: str, **overrides) -> CodesWholesaleApi:
    return _resource(**overrides).session(base_url, CLIENT_ID, CLIENT_SECRET)


# ------------------------------------------------------------------------------------------- client
def test_pages_through_every_product_exactly_once(cws):
    state, base_url = cws
    with _api(base_url) as api:
        seen = [p["productId"] for page in api.product_pages() for p in page]
    assert len(seen) == len(set(seen)) == 1234
    assert set(seen) == {p["productId"] for p in state.products}
    tokens = list(state.continuations)
    assert len(tokens) == 12  # 13 pages, the last one without a token
    assert all(all(c in token for c in "+/=%") for token in tokens)
    assert state.stats()["statuses"] == {"200": 14}  # one token request, 13 pages


def test_filters_are_passed_and_paged(cws):
    state, base_url = cws
    with _api(base_url) as api:
        steam = [p for page in api.product_pages(platform="Steam", region="WORLDWIDE") for p in page]
    expected = [p for p in state.products if p["platform"] == "Steam" and "WORLDWIDE" in p["regions"]]
    assert [p["productId"] for p in steam] == [p["productId"] for p in expected]


def test_token_is_cached_and_refreshed_once_when_it_expires_mid_paging(cws):
    state, base_url = cws
    state.add_fault("expire_tokens", skip=4)  # the 5th page request finds its token expired
    with _api(base_url) as api:
        seen = [p["productId"] for page in api.product_pages() for p in page]
        assert api.tokens_fetched == 2
    assert len(seen) == len(set(seen)) == 1234
    stats = state.stats()
    assert stats["tokens_issued"] == 2 and stats["statuses"]["401"] == 1


def test_token_is_renewed_before_it_expires(cws):
    state, base_url = cws
    state.token_ttl = 1.0
    with _api(base_url, token_margin_seconds=60) as api:
        api.ping()
        time.sleep(0.6)  # past half the token's life: renewed before use, no 401 needed
        api.ping()
        assert api.tokens_fetched == 2
    assert "401" not in state.stats()["statuses"]


def test_429_and_5xx_are_retried_honouring_retry_after(cws):
    state, base_url = cws
    state.add_fault("http_429", retry_after=0.4, skip=2)
    state.add_fault("http_500", skip=2)
    state.add_fault("http_502", skip=2)
    state.add_fault("http_503", retry_after=0.1, target="token")
    started = time.perf_counter()
    with _api(base_url) as api:
        seen = [p["productId"] for page in api.product_pages() for p in page]
    assert time.perf_counter() - started >= 0.4
    assert len(seen) == len(set(seen)) == 1234
    assert state.stats()["faults_fired"] == {"http_429": 1, "http_500": 1, "http_502": 1, "http_503": 1}


def test_errors_are_one_line_and_never_carry_secrets(cws):
    state, base_url = cws
    state.add_fault("http_500", count=10)
    with _api(base_url, attempts=3) as api:
        with pytest.raises(CodesWholesaleError) as failed:
            list(api.product_pages())
    assert failed.value.kind == "server" and failed.value.transient
    with _resource().session(base_url, CLIENT_ID, "wrong " + CLIENT_SECRET) as api:
        with pytest.raises(CodesWholesaleError) as refused:
            api.ping()
    assert refused.value.kind == "auth" and not refused.value.transient
    for message in (str(failed.value), str(refused.value)):
        assert "\n" not in message and CLIENT_SECRET not in message and "Canary" not in message


def test_unknown_continuation_token_is_refused_by_the_simulator(cws):
    _state, base_url = cws
    with _api(base_url) as api:
        with pytest.raises(CodesWholesaleError) as refused:
            api.get("/v3/products", {"continuationToken": "not-a-token"})
    assert refused.value.kind == "rejected" and "Invalid continuationToken" in str(refused.value)


# ------------------------------------------------------------------------------------------- normalise
LIVE_ITEM = {  # the shape of a captured live item (values invented)
    "productId": "0b1f4c36-8a0e-4c57-9d55-2d2b4a51e6f1", "identifier": "QTSPCS", "name": "Quiet Tides",
    "platform": "Steam", "quantity": 216,
    "images": [{"image": "https://example.test/img?format=SMALL", "format": "SMALL"}],
    "regionDescription": None, "regions": ["WORLDWIDE"], "languages": ["Multilanguage"], "badges": [],
    "prices": [{"value": 6.32, "from": 1, "to": None}], "releaseDate": "2020-08-26T22:00:00.000Z",
}


def test_normalise_a_digital_product():
    product, translations = normalise_product(LIVE_ITEM)
    (external_id, gtin14, sku, mpn, brand, price, currency, availability, quantity, product_type, platform,
     regions, languages, attributes, updated) = product
    assert (external_id, sku, product_type, platform, regions, languages) == (
        LIVE_ITEM["productId"], "QTSPCS", "digital", "Steam", ["WORLDWIDE"], ["mul"])
    assert price == Decimal("6.32") and currency == "EUR" and quantity == 216 and availability == "in_stock"
    assert gtin14 is None and mpn is None and brand is None and updated is None
    assert json.loads(attributes)["price_tiers"] == [{"from": 1, "to": None, "price": "6.32"}]
    assert translations == [(LIVE_ITEM["productId"], "en", "Quiet Tides", None)]


def test_normalise_keeps_every_quantity_tier_and_prices_one_key():
    item = {**LIVE_ITEM, "quantity": 0, "languages": ["English", "German"], "prices": [
        {"value": 4.5, "from": 50, "to": None}, {"value": 5.1, "from": 1, "to": 9},
        {"value": 4.85, "from": 10, "to": 49}]}
    product, _ = normalise_product(item, currency="usd".upper())
    assert product[5] == Decimal("5.1") and product[6] == "USD"
    assert product[7] == "out_of_stock" and product[12] == ["en", "de"]
    assert json.loads(product[13])["price_tiers"] == [
        {"from": 1, "to": 9, "price": "5.1"}, {"from": 10, "to": 49, "price": "4.85"},
        {"from": 50, "to": None, "price": "4.5"}]


def test_normalise_identifiers_and_refusals():
    product, _ = normalise_product({**LIVE_ITEM, "ean": "4006381333931"})
    assert product[1] == "04006381333931"
    for broken, reason in (({**LIVE_ITEM, "productId": None}, "no productId"),
                           ({**LIVE_ITEM, "ean": "4006381333932"}, "wrong check digit"),
                           ({**LIVE_ITEM, "prices": [{"from": 1, "to": None}]}, "value is missing"),
                           ({**LIVE_ITEM, "prices": [{"value": "cheap", "from": 1}]}, "not a number"),
                           ({**LIVE_ITEM, "quantity": "lots"}, "not a whole number")):
        with pytest.raises(RefusedProduct, match=reason):
            normalise_product(broken)
    empty, _ = normalise_product({**LIVE_ITEM, "prices": []})
    assert empty[5] is None and empty[6] is None


def test_simulator_prices_match_the_normaliser():
    for item in generate_products(3, 300):
        product, _ = normalise_product(item)
        expected = single_unit_price(item)
        assert product[5] == (None if expected is None else Decimal(repr(expected)))


# ------------------------------------------------------------------------------------------- import
def _add_source(warehouse, vault, base_url, **settings) -> int:
    with warehouse.begin() as conn:
        return add_codeswholesale_source(conn, vault, "keys", base_url, CLIENT_ID, CLIENT_SECRET, settings or None)


def _run(warehouse, source_id):
    with warehouse.begin() as conn:
        return conn.execute(text("SELECT * FROM ops.import_runs WHERE source_id = :s ORDER BY import_run_id DESC"),
                            {"s": source_id}).first()


def test_import_lands_the_price_list_and_a_refresh_writes_only_changes(cws, warehouse, vault):
    state, base_url = cws
    source_id = _add_source(warehouse, vault, base_url)
    first = import_codeswholesale_catalog(warehouse.engine, vault, _resource(), "keys", "run-1")
    assert (first.read, first.loaded, first.unchanged, first.quarantined) == (1234, 1234, 0, 0)
    assert first.status == "completed" and first.pages == 13 and first.translations_written == 1234
    run = _run(warehouse, source_id)
    assert (run.status, run.rows_read, run.rows_loaded, run.dagster_run_id) == ("completed", 1234, 1234, "run-1")
    assert run.rows_read == run.rows_loaded + run.rows_unchanged + run.rows_quarantined and run.bytes_read > 0

    with warehouse.begin() as conn:
        rows = {r.external_id: r for r in conn.execute(text(
            "SELECT * FROM core.marketplace_products WHERE source_id = :s"), {"s": source_id})}
        titles = dict(conn.execute(text(
            """SELECT m.external_id, t.title FROM core.marketplace_product_translations t
               JOIN core.marketplace_products m USING (marketplace_product_id) WHERE t.language = 'en'"""
        )).tuples().all())
    assert {r.product_type for r in rows.values()} == {"digital"}
    tiered = next(p for p in state.products if len(p["prices"]) == 3)
    row = rows[tiered["productId"]]
    assert row.price == Decimal(repr(tiered["prices"][0]["value"])) and row.currency == "EUR"
    assert [t["from"] for t in row.attributes["price_tiers"]] == [1, 10, 50]
    assert row.platform == tiered["platform"] and row.regions == tiered["regions"]
    assert row.sku == tiered["identifier"] and row.quantity == tiered["quantity"]
    assert titles[tiered["productId"]] == tiered["name"]

    again = import_codeswholesale_catalog(warehouse.engine, vault, _resource(), "keys", "run-2")
    assert (again.read, again.loaded, again.unchanged, again.translations_written) == (1234, 0, 1234, 0)

    changed = state.advance()
    assert 0 < changed < 60
    third = import_codeswholesale_catalog(warehouse.engine, vault, _resource(), "keys", "run-3")
    assert (third.loaded, third.updated, third.unchanged) == (changed, changed, 1234 - changed)


def test_refused_records_are_quarantined_and_the_rest_loads(warehouse, vault):
    from marketsync.sandbox.codeswholesale.app import create_app

    state = CodesWholesaleState(seed=5, size=400, clients={CLIENT_ID: CLIENT_SECRET}, page_size=64,
                                anomalies=Anomalies(malformed=0.05))
    bad = sum(1 for p in state.products if p["productId"] is None or any("value" not in t for t in p["prices"]))
    assert bad > 5
    with serve_in_thread(create_app(state)) as server:
        source_id = _add_source(warehouse, vault, server.base_url)
        summary = import_codeswholesale_catalog(warehouse.engine, vault, _resource(), "keys")
    assert summary.status == "partially_completed"
    assert (summary.read, summary.loaded, summary.quarantined) == (400, 400 - bad, bad)
    with warehouse.begin() as conn:
        quarantined = conn.execute(text("SELECT * FROM ops.quarantine WHERE import_run_id = :i"),
                                   {"i": summary.import_run_id}).all()
    assert len(quarantined) == bad and {q.source for q in quarantined} == {"codeswholesale"}
    assert all(q.reason and q.raw_text.startswith("{") for q in quarantined)
    assert _run(warehouse, source_id).status == "partially_completed"


def test_too_many_refused_records_fail_the_run_and_load_nothing(warehouse, vault):
    from marketsync.sandbox.codeswholesale.app import create_app

    state = CodesWholesaleState(seed=5, size=200, clients={CLIENT_ID: CLIENT_SECRET}, page_size=64,
                                anomalies=Anomalies(malformed=0.3))
    with serve_in_thread(create_app(state)) as server:
        source_id = _add_source(warehouse, vault, server.base_url, max_bad_share=0.1)
        with pytest.raises(MarketsyncError, match="above the limit"):
            import_codeswholesale_catalog(warehouse.engine, vault, _resource(), "keys")
    run = _run(warehouse, source_id)
    with warehouse.begin() as conn:
        products = conn.execute(text("SELECT count(*) FROM core.marketplace_products")).scalar_one()
        quarantined = conn.execute(text("SELECT count(*) FROM ops.quarantine WHERE import_run_id = :i"),
                                   {"i": run.import_run_id}).scalar_one()
    assert run.status == "failed" and "above the limit" in run.error and products == 0
    assert quarantined == run.rows_quarantined > 0


def test_a_failed_call_fails_the_run_in_one_line(cws, warehouse, vault):
    state, base_url = cws
    source_id = _add_source(warehouse, vault, base_url)
    state.add_fault("http_500", count=50, skip=3)
    with pytest.raises(CodesWholesaleError):
        import_codeswholesale_catalog(warehouse.engine, vault, _resource(attempts=2), "keys")
    run = _run(warehouse, source_id)
    assert run.status == "failed" and "HTTP 500" in run.error and "\n" not in run.error
    with warehouse.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM core.marketplace_products")).scalar_one() == 0


def test_source_keeps_credentials_encrypted(cws, warehouse, vault):
    _, base_url = cws
    source_id = _add_source(warehouse, vault, base_url, currency="EUR")
    with pytest.raises(MarketsyncError, match="credentials"):
        with warehouse.begin() as conn:
            add_codeswholesale_source(conn, vault, "keys", "https://id:pw@api.codeswholesale.com", "a", "b")
    with warehouse.begin() as conn:
        source = conn.execute(text("SELECT * FROM ops.catalog_sources WHERE source_id = :s"), {"s": source_id}).one()
        token = conn.execute(text("SELECT token FROM ops.source_credentials WHERE source_id = :s"),
                             {"s": source_id}).scalar_one()
        assert codeswholesale_store_codes(conn) == ["keys"]
    assert (source.kind, source.name, source.location) == ("codeswholesale", "codeswholesale", base_url)
    assert CLIENT_SECRET.encode() not in bytes(token) and CLIENT_SECRET not in json.dumps(source.settings)
    assert vault.decrypt(token).reveal("client_secret") == CLIENT_SECRET


# ------------------------------------------------------------------------------------------- Dagster
def test_asset_shape():
    spec = codeswholesale_products.specs_by_key[AssetKey(["core", "codeswholesale_products"])]
    assert codeswholesale_products.partitions_def.name == "codeswholesale_accounts"
    assert spec.owners == ["team:data-engineering"] and spec.kinds == {"codeswholesale", "http", "postgres"}
    assert codeswholesale_products.op.pool == "codeswholesale_api"
    assert spec.automation_condition.get_label() == "on_cron(0 */6 * * *, Europe/Berlin)"
    assert "every 6 hours" in spec.description


def test_partitions_sensor_registers_stores_with_a_source(cws, warehouse, vault):
    _, base_url = cws
    _add_source(warehouse, vault, base_url)
    instance = DagsterInstance.ephemeral()
    result = codeswholesale_partitions_sensor(build_sensor_context(instance=instance,
                                                                   resources={"warehouse": warehouse}))
    assert [r.partition_keys for r in result.dynamic_partitions_requests] == [["keys"]]
    assert not result.run_requests
    instance.add_dynamic_partitions(codeswholesale_accounts.name, ["keys"])
    again = codeswholesale_partitions_sensor(build_sensor_context(instance=instance,
                                                                  resources={"warehouse": warehouse}))
    assert isinstance(again, SkipReason) and "has its partition" in again.skip_message


def test_asset_materializes_a_store_partition(cws, warehouse, vault):
    _, base_url = cws
    _add_source(warehouse, vault, base_url)
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(codeswholesale_accounts.name, ["keys"])
    result = materialize([codeswholesale_products], partition_key="keys", instance=instance,
                         resources={"warehouse": warehouse, "vault": vault, "codeswholesale": _resource()})
    assert result.success
    metadata = result.get_asset_materialization_events()[0].event_specific_data.materialization.metadata
    figures = {k: getattr(v, "value", v) for k, v in metadata.items()}
    assert (figures["read"], figures["loaded"], figures["unchanged"], figures["quarantined"]) == (1234, 1234, 0, 0)


# ------------------------------------------------------------------------------------------- conformance
def test_simulator_conforms_to_the_public_v3_facts():
    """Field names and routes the simulator serves are the documented ones (skips without ../shared)."""
    docs = SPECS / "cws_v3_api_docs_copy.txt"
    live = SPECS / "cws_v3_live_product_sample_notes.txt"
    if not docs.exists() or not live.exists():
        pytest.skip("public CodesWholesale facts (../shared/specs/codeswholesale) are not present")
    documented = docs.read_text()
    sample = live.read_text()
    for route in ("/oauth/token", "/v3/products", "/v3/products/{productId}", "/v3/accounts/current"):
        assert route in documented
    for url in ("https://api.codeswholesale.com", "https://sandbox.codeswholesale.com"):
        assert url in documented
    from marketsync.resources.codeswholesale import LIVE_URL, SANDBOX_URL

    assert {LIVE_URL, SANDBOX_URL} <= set(re.findall(r"https://[a-z.]+\.com", documented))
    product = generate_products(1, 1)[0]
    for name in product:
        assert f'"{name}"' in documented or f'"{name}"' in sample, name
    for tier_field in ("value", "from", "to"):
        assert f'"{tier_field}"' in documented
    for token_field in ("access_token", "token_type", "expires_in", "continuationToken", "grant_type"):
        assert token_field in documented


def test_test_connection_through_the_cli_uses_the_store_sources_client(cws, warehouse, vault, run_cli):
    _state, base_url = cws
    _add_source(warehouse, vault, base_url)
    code, out, err = run_cli("test-connection", "keys", "codeswholesale")
    assert code == 0 and out.startswith("ok: keys/codeswholesale answered in") and base_url in out, err
    assert CLIENT_SECRET not in out + err
    code, _out, err = run_cli("test-connection", "nobody", "codeswholesale")
    assert code == 1 and err.startswith("error: ") and len(err.strip().splitlines()) == 1
