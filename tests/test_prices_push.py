"""Prices out through the real simulators on loopback (issue 16, part 2): each channel's push sends deltas
(a second push sends only what changed), a rejected listing is sent again, the ledger explains every
number, and no price a channel receives is ever below the rule's floor, over random inputs."""
from __future__ import annotations

import csv
import io
import json
import random
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.prices.explain import explain, render
from marketsync.assets.prices.push import push_prices
from marketsync.assets.prices.settings import save_settings
from marketsync.resources.amazon_sp_api import AmazonSpApiResource
from marketsync.resources.ebay import EbayResource
from marketsync.resources.errors import MarketsyncError
from marketsync.sandbox.amazon import AmazonState, create_app
from marketsync.sandbox.ebay.state import EbayState
from marketsync.sandbox.http import serve_in_thread

AMAZON_ID, AMAZON_SECRET = "amzn1.application-oa2-client.px", "amzn1.oa2-cs.v1.Secret+/="
EBAY_ID, EBAY_SECRET = "MarketSy-price-PRD-0", "PRD-secret+/="
SCALE = 20_000.0


def add_products(conn, account, prices: dict[str, Decimal | None], catalog: dict[str, Decimal] | None = None,
                 listed: bool = False) -> None:
    """Products of the account's store with a store price (or none); `catalog`: SKUs whose price comes
    from a marketplace product instead; `listed`: the channel already lists them (acknowledged stock)."""
    source = None
    if catalog:
        source = conn.execute(text("INSERT INTO ops.catalog_sources (store_id, name, kind) VALUES (:s, 'feed', "
                                   "'pull_feed') RETURNING source_id"), {"s": account.store_id}).scalar_one()
    for sku, price in prices.items():
        marketplace_product = None
        if catalog and sku in catalog:
            marketplace_product = conn.execute(text(
                "INSERT INTO core.marketplace_products (source_id, external_id, content_sha, price, currency) "
                "VALUES (:src, :k, 'sha', :p, 'EUR') RETURNING marketplace_product_id"),
                {"src": source, "k": sku, "p": catalog[sku]}).scalar_one()
        product_id = conn.execute(text(
            "INSERT INTO core.products (store_id, sku, price, currency, marketplace_product_id) "
            "VALUES (:s, :k, CAST(:p AS numeric), CASE WHEN CAST(:p AS numeric) IS NULL THEN NULL ELSE 'EUR' END, "
            ":m) "
            "RETURNING product_id"),
            {"s": account.store_id, "k": sku, "p": price, "m": marketplace_product}).scalar_one()
        if listed:
            conn.execute(text("INSERT INTO core.channel_stock (account_id, product_id, acknowledged_quantity, "
                              "acknowledged_at) VALUES (:a, :p, 1, now())"),
                         {"a": account.account_id, "p": product_id})


def set_price(warehouse, store: str, sku: str, price) -> None:
    with warehouse.begin() as conn:
        conn.execute(text("UPDATE core.products SET price = :p WHERE sku = :k AND store_id = "
                          "(SELECT store_id FROM ops.stores WHERE code = :s)"), {"p": price, "k": sku, "s": store})


def ledger(warehouse, sync_id: int) -> dict[str, dict]:
    with warehouse.begin() as conn:
        return {r["sku"]: dict(r) for r in conn.execute(text(
            "SELECT * FROM core.price_ledger WHERE price_sync_id = :s"), {"s": sync_id}).mappings()}


# ------------------------------------------------------------------------------------------- Amazon
@pytest.fixture
def amazon(warehouse, vault):
    state = AmazonState(seed=3, size=10, catalog_size=60, rate_scale=SCALE, clients={AMAZON_ID: AMAZON_SECRET})
    resource = AmazonSpApiResource(client_id=AMAZON_ID, client_secret=AMAZON_SECRET, rate_scale=SCALE,
                                   timeout_seconds=5, retry_backoff_seconds=0.01, max_retry_wait_seconds=0.05,
                                   feed_poll_seconds=0.05)
    skus = [state.catalogue.sku(i) for i in range(30)]
    with serve_in_thread(create_app(state)) as server:
        with warehouse.begin() as conn:
            account = upsert_account(conn, "zon", "amazon", server.base_url,
                                     {"seller_id": state.seller_id, "marketplace_ids": list(state.marketplace_ids)})
            vault.store(conn, account.account_id, {"refresh_token": state.authorize()})
            add_products(conn, account, {sku: Decimal("10.00") + i for i, sku in enumerate(skus)}, listed=True)
        yield SimpleNamespace(state=state, clients={"amazon": resource}, skus=skus, account=account)


def amazon_push(warehouse, vault, shop, mode="incremental"):
    return push_prices(warehouse, vault, "zon", "amazon", mode=mode, clients=shop.clients, triggered_by="test")


def test_amazon_a_feed_then_deltas_by_patch_and_a_rejected_listing_goes_again(amazon, warehouse, vault):
    shop = amazon
    with warehouse.begin() as conn:
        save_settings(conn, "zon", "amazon", markup_percent=Decimal(10), rounding=".99", floor=Decimal("12.00"))
    first = amazon_push(warehouse, vault, shop)
    assert (first.status, first.pushed, first.acknowledged) == ("succeeded", 30, 30)
    assert "feed" in first.delivered_to  # 30 listings: one JSON_LISTINGS_FEED, not 30 patches
    # 10.00 x 1.1 = 11.00 -> 11.99 (.99), below the floor 12.00: the floor wins.
    assert shop.state.listing_price(shop.skus[0]) == (Decimal("12.00"), "EUR")
    assert shop.state.listing_price(shop.skus[5]) == (Decimal("16.99"), "EUR")  # 15 x 1.1 = 16.5 -> 16.99

    assert amazon_push(warehouse, vault, shop).pushed == 0  # nothing changed, nothing sent

    set_price(warehouse, "zon", shop.skus[5], Decimal("20.00"))
    shop.state.reject_skus([shop.skus[6]])
    set_price(warehouse, "zon", shop.skus[6], Decimal("21.00"))
    delta = amazon_push(warehouse, vault, shop)
    assert (delta.pushed, delta.acknowledged, delta.rejected) == (2, 1, 1)
    assert "listings API" in delta.delivered_to  # two listings: patches
    assert shop.state.listing_price(shop.skus[5]) == (Decimal("22.99"), "EUR")
    rows = ledger(warehouse, delta.price_sync_id)
    assert rows[shop.skus[6]]["answer"] == "rejected" and rows[shop.skus[6]]["answer_message"]
    assert rows[shop.skus[5]]["previous_acknowledged"] == Decimal("16.99")

    shop.state.clear_rejections()
    again = amazon_push(warehouse, vault, shop)
    assert (again.pushed, again.acknowledged) == (1, 1)  # only the rejected one, sent again
    assert shop.state.listing_price(shop.skus[6]) == (Decimal("23.99"), "EUR")

    # A new rule changes every listing's inputs: all are computed again, and those whose price moved go.
    with warehouse.begin() as conn:
        save_settings(conn, "zon", "amazon", markup_percent=Decimal(20))
    assert amazon_push(warehouse, vault, shop).pushed == 30
    assert shop.state.listing_price(shop.skus[0]) == (Decimal("12.99"), "EUR")


def test_no_price_below_the_floor_reaches_amazon_whatever_the_inputs(amazon, warehouse, vault):
    shop, rng = amazon, random.Random(16)
    for _ in range(3):
        floor = Decimal(rng.randint(1, 5000)) / 100
        ceiling = None if rng.random() < 0.3 else floor + Decimal(rng.randint(0, 5000)) / 100
        with warehouse.begin() as conn:
            save_settings(conn, "zon", "amazon", markup_percent=Decimal(rng.randint(-9999, 30000)) / 100,
                          fixed_add=Decimal(rng.randint(-2000, 2000)) / 100,
                          rounding=rng.choice(["none", ".99", ".95"]),
                          floor=floor, ceiling=ceiling, clear_ceiling=ceiling is None)
        for sku in shop.skus:
            set_price(warehouse, "zon", sku, Decimal(rng.randint(-1000, 100000)) / 100)
        result = amazon_push(warehouse, vault, shop, mode="full")
        assert result.acknowledged == 30
        for sku in shop.skus:
            price, _ = shop.state.listing_price(sku)
            assert price >= floor and (ceiling is None or price <= ceiling), (sku, price, floor, ceiling)


def test_a_ceiling_below_the_floor_is_refused_by_the_command_and_the_database(amazon, warehouse):
    with warehouse.begin() as conn, pytest.raises(MarketsyncError, match="below the floor"):
        save_settings(conn, "zon", "amazon", floor=Decimal(10), ceiling=Decimal(5))
    with pytest.raises(Exception, match=r"price_rules_check|check constraint"), warehouse.begin() as conn:
        conn.execute(text("INSERT INTO ops.price_rules (account_id, floor_price, ceiling_price) VALUES (:a, 10, 5)"),
                     {"a": amazon.account.account_id})


# ------------------------------------------------------------------------------------------- eBay
@pytest.fixture
def ebay(warehouse, vault):
    from marketsync.sandbox.ebay.app import create_app as create_ebay

    state = EbayState(seed=5, orders=5, skus=10, clients={EBAY_ID: EBAY_SECRET})
    resource = EbayResource(client_id=EBAY_ID, client_secret=EBAY_SECRET, retry_backoff_seconds=0.01)
    skus = [state.catalogue.sku(i) for i in range(4)]
    with serve_in_thread(create_ebay(state)) as server:
        with warehouse.begin() as conn:
            account = upsert_account(conn, "bay", "ebay", server.base_url)
            vault.store(conn, account.account_id, {"refresh_token": state.grant()["refresh_token"]})
            add_products(conn, account, {skus[0]: Decimal("30.00"), skus[1]: None, skus[2]: None,
                                         skus[3]: Decimal("8.00")}, catalog={skus[1]: Decimal("40.00")}, listed=True)
            save_settings(conn, "bay", "ebay", markup_percent=Decimal(5), floor=Decimal("9.50"))
        yield SimpleNamespace(state=state, clients={"ebay": resource}, skus=skus)


def offer_price(state, sku: str) -> str:
    return state.offer(state.offer_ids(sku)[0])["pricingSummary"]["price"]["value"]


def test_ebay_prices_the_offers_in_deltas_and_sends_a_rejected_one_again(ebay, warehouse, vault):
    shop = ebay
    push = lambda: push_prices(warehouse, vault, "bay", "ebay", clients=shop.clients, triggered_by="test")  # noqa: E731
    first = push()
    # skus[2] has no price at all (neither the store nor the catalog): not pushed.
    assert (first.pushed, first.acknowledged, first.no_price) == (3, 3, 1)
    assert offer_price(shop.state, shop.skus[0]) == "31.50"
    assert offer_price(shop.state, shop.skus[1]) == "42.00"  # the catalog's 40.00 + 5 %
    assert offer_price(shop.state, shop.skus[3]) == "9.50"  # 8.40 is below the floor: the floor
    rows = ledger(warehouse, first.price_sync_id)
    assert rows[shop.skus[1]]["base_source"] == "catalog" and rows[shop.skus[3]]["clamped_by"] == "floor"
    assert push().pushed == 0

    shop.state.reject_sku(shop.skus[0])
    set_price(warehouse, "bay", shop.skus[0], Decimal("50.00"))
    rejected = push()
    assert (rejected.pushed, rejected.rejected) == (1, 1) and offer_price(shop.state, shop.skus[0]) == "31.50"
    shop.state.clear_rejections()
    again = push()
    assert (again.pushed, again.acknowledged) == (1, 1) and offer_price(shop.state, shop.skus[0]) == "52.50"

    with warehouse.begin() as conn:
        report = explain(conn, "bay", shop.skus[0])
        none = render(explain(conn, "bay", shop.skus[2]))
    shown = render(report)
    assert "base: the store's own price" in shown and "-> 52.50 EUR on the channel" in shown
    assert "rejected" in shown and "(was 31.50)" in shown
    assert "no price: neither the store nor the catalog has one" in none


# ------------------------------------------------------------------------------------------- Letzshop
def test_letzshop_gets_a_product_file_with_every_listing_and_a_ledger_row_per_change(warehouse, vault, tmp_path):
    with warehouse.begin() as conn:
        account = upsert_account(conn, "lux", "letzshop", "http://letzshop.invalid/graphql")
        add_products(conn, account, {"A-1": Decimal("10.00"), "=B-2": Decimal("20.00"), "C-3": Decimal("0.10")})
        save_settings(conn, "lux", "letzshop", rounding=".95", floor=Decimal("1.00"),
                      delivery={"location": str(tmp_path)})
    first = push_prices(warehouse, vault, "lux", "letzshop", triggered_by="test")
    assert (first.pushed, first.acknowledged) == (3, 3)

    def read() -> dict[str, str]:
        rows = list(csv.reader(io.StringIO((tmp_path / "lux-prices.tsv").read_text("utf-8")), delimiter="\t"))
        assert rows[0] == ["id", "price"]
        return dict(rows[1:])

    assert read() == {"A-1": "10.95 EUR", "'=B-2": "20.95 EUR", "C-3": "1.00 EUR"}
    set_price(warehouse, "lux", "A-1", Decimal("12.00"))
    second = push_prices(warehouse, vault, "lux", "letzshop", triggered_by="test")
    # One listing changed: one ledger row, but the file (which replaces the last) carries all three.
    assert (second.pushed, second.restated) == (1, 2)
    assert read() == {"A-1": "12.95 EUR", "'=B-2": "20.95 EUR", "C-3": "1.00 EUR"}
    assert list(ledger(warehouse, second.price_sync_id)) == ["A-1"]


def test_prices_explain_and_rules_from_the_command_line(warehouse, vault, tmp_path, run_cli):
    with warehouse.begin() as conn:
        account = upsert_account(conn, "lux", "letzshop", "http://letzshop.invalid/graphql")
        add_products(conn, account, {"A-1": Decimal("10.00")})
    code, _, err = run_cli("prices", "rules", "lux", "letzshop")
    assert code == 1 and "no price rule for lux on letzshop" in err
    code, out, err = run_cli("prices", "rules", "lux", "letzshop", "--markup", "20", "--round", ".99", "--floor",
                             "5", "--ceiling", "11.50", "--location", str(tmp_path))
    assert code == 0, err
    assert "11.50" in out and ".99" in out
    code, _, err = run_cli("prices", "rules", "lux", "letzshop", "--floor", "20")
    assert code == 1 and "below the floor" in err
    code, out, err = run_cli("prices", "push", "lux", "letzshop", "--json")  # through the Dagster asset
    assert code == 0, err
    assert json.loads(out)["letzshop_channel_prices.pushed"] == 1
    code, out, err = run_cli("prices", "explain", "lux", "A-1")
    assert code == 0, err
    assert "x (1 + 20 %)" in out and "= 12.99  rounded (up to .99)" in out and "capped at the ceiling 11.50" in out
    assert "pushed 11.50 EUR (was nothing) -> delivered" in out


def test_amazon_a_patch_whose_answer_is_lost_is_looked_up_before_it_is_sent_again(amazon, warehouse, vault):
    shop = amazon
    with warehouse.begin() as conn:
        save_settings(conn, "zon", "amazon", floor=Decimal("1.00"))
    amazon_push(warehouse, vault, shop)
    set_price(warehouse, "zon", shop.skus[2], Decimal("77.00"))
    # Every try of the patch takes effect, then its answer is lost: the client gives up not knowing.
    shop.state.add_fault("apply_then_drop", target="patchListingsItem", count=20)
    result = amazon_push(warehouse, vault, shop)
    shop.state.clear_faults()
    assert (result.pushed, result.acknowledged, result.unanswered) == (1, 1, 0)
    assert shop.state.listing_price(shop.skus[2]) == (Decimal("77.00"), "EUR")
    row = ledger(warehouse, result.price_sync_id)[shop.skus[2]]
    assert row["answer"] == "accepted" and row["answer_message"] == "read back after an unanswered patch"
    assert amazon_push(warehouse, vault, shop).pushed == 0


def test_the_daily_schedule_asks_one_push_per_store_with_a_rule_and_keeps_the_partitions(warehouse):
    from datetime import UTC, datetime

    from dagster import build_schedule_context, instance_for_test

    from marketsync.pipelines.definitions import defs

    repository = defs.get_repository_def()
    schedule = repository.get_schedule_def("letzshop_product_price_sync_schedule")
    with warehouse.begin() as conn:
        upsert_account(conn, "lux", "letzshop", "http://letzshop.invalid/graphql")
        upsert_account(conn, "off", "letzshop", "http://letzshop.invalid/graphql")
        save_settings(conn, "lux", "letzshop", floor=Decimal(1))
        save_settings(conn, "off", "letzshop", enabled=False)
    with instance_for_test() as instance:
        context = build_schedule_context(instance=instance, resources={"warehouse": warehouse},
                                         repository_def=repository,
                                         scheduled_execution_time=datetime(2026, 12, 7, 4, 30, tzinfo=UTC))
        requests = schedule.evaluate_tick(context).run_requests
        assert [(r.partition_key, r.run_key) for r in requests] == [("lux", "prices:lux.letzshop:2026-12-07")]
        assert instance.get_dynamic_partitions("letzshop_price_stores") == ["lux"]
