"""JTL-FFN end to end against both simulators (Letzshop and FFN, over loopback) and the test Postgres:
what the warehouse holds lands in core.fulfillment_*, a confirmed Letzshop order becomes exactly one FFN
outbound, and the warehouse's shipment ends as tracking on Letzshop exactly once (a partial shipment
included), with no human step."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from marketsync.assets.accounts import get_account, upsert_account
from marketsync.assets.catalog.matching import match_order_items
from marketsync.assets.jtl_ffn.outbound import queue_outbounds, queue_tracking
from marketsync.assets.jtl_ffn.sync import sync_inbounds, sync_products, sync_shipments, sync_stock
from marketsync.assets.letzshop.connection import letzshop_session
from marketsync.assets.letzshop.load import import_shipments
from marketsync.assets.orders.actions import confirm_order, find_order
from marketsync.assets.outbound_runner import drain
from marketsync.resources.jtl_ffn import JtlFfnResource, store_refresh_token
from marketsync.sandbox.http import serve_in_thread
from marketsync.sandbox.jtl_ffn.app import create_app
from marketsync.sandbox.jtl_ffn.state import JtlFfnState

CLIENT_ID, CLIENT_SECRET = "marketsync-test", "ffn-flow-secret"


@pytest.fixture
def ffn(shop, tmp_path):
    """The shop's Letzshop orders imported and matched, plus an FFN account on a simulator whose
    products carry the shop's SKUs."""
    shop.load_catalog(tmp_path / "catalog.csv")
    with letzshop_session(shop.warehouse, shop.vault, shop.letzshop, shop.account) as api:
        import_shipments(shop.warehouse.engine, shop.account, api, ["unconfirmed"])
    with shop.warehouse.begin() as conn:
        match_order_items(conn, shop.account.store_id)
        skus = conn.execute(text(
            "SELECT DISTINCT sku FROM core.order_items WHERE sku IS NOT NULL ORDER BY 1")).scalars().all()
    state = JtlFfnState(seed=3, size=500, clients={CLIENT_ID: CLIENT_SECRET})
    for index, sku in enumerate(skus):
        state.assign_merchant_sku(index, sku)
    with serve_in_thread(create_app(state)) as server:
        resource = JtlFfnResource(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=server.base_url,
                                  token_url=f"{server.base_url}/token", timeout_seconds=5, attempts=3,
                                  max_retry_wait_seconds=0.2)
        with shop.warehouse.begin() as conn:
            account = upsert_account(conn, "shop", "jtl_ffn", server.base_url)
            store_refresh_token(conn, shop.vault, account.account_id, state.grant(CLIENT_ID)["refresh_token"])
        shop.ffn_state, shop.ffn, shop.ffn_account = state, resource, account
        yield shop


def _session(shop):
    return shop.ffn.account_session(shop.warehouse.engine, shop.vault, shop.ffn_account.account_id,
                                    base_url=shop.ffn_account.endpoint)


def _confirmed_order(shop):
    with shop.warehouse.begin() as conn:
        number = conn.execute(text(
            """SELECT o.order_number FROM core.orders o WHERE NOT EXISTS
                 (SELECT 1 FROM ops.order_exceptions e WHERE e.order_id = o.order_id)
               ORDER BY o.order_id LIMIT 1""")).scalar_one()
        confirm_order(conn, find_order(conn, number))
    drain(shop.warehouse, shop.vault, {"letzshop": shop.letzshop, "jtl_ffn": shop.ffn})
    with shop.warehouse.begin() as conn:
        return find_order(conn, number)


def test_holdings_land_and_a_second_sync_writes_nothing(ffn):
    shop = ffn
    with _session(shop) as api:
        products = sync_products(shop.warehouse, api, shop.ffn_account.account_id)
        stock = sync_stock(shop.warehouse, api, shop.ffn_account.account_id)
        inbounds = sync_inbounds(shop.warehouse, api, shop.ffn_account.account_id)
        assert products.fetched == 500 and products.written == 500 and stock.fetched == 500
        assert inbounds.fetched > 0 and inbounds.written > 0
        again = [sync(shop.warehouse, api, shop.ffn_account.account_id)
                 for sync in (sync_products, sync_stock, sync_inbounds)]
    assert [(r.raw_new, r.written, r.removed) for r in again] == [(0, 0, 0)] * 3
    with shop.warehouse.begin() as conn:
        total = conn.execute(text("SELECT sum(stock_level) FROM core.fulfillment_stock WHERE account_id = :a"),
                             {"a": shop.ffn_account.account_id}).scalar()
    expected = sum(shop.ffn_state.stock_of(i)["stockLevel"] for i in range(500))
    assert total == expected


def test_a_confirmed_order_ships_through_ffn_and_its_tracking_reaches_letzshop_once(ffn):
    shop = ffn
    order = _confirmed_order(shop)
    account_id = shop.ffn_account.account_id
    with _session(shop) as api:
        sync_products(shop.warehouse, api, account_id)
        sync_stock(shop.warehouse, api, account_id)
    with shop.warehouse.begin() as conn:
        ffn_account = get_account(conn, "shop", "jtl_ffn")
        assert queue_outbounds(conn, ffn_account)["queued"] >= 1
        assert queue_outbounds(conn, ffn_account)["queued"] == 0  # asked twice: queued once
    drain(shop.warehouse, shop.vault, {"letzshop": shop.letzshop, "jtl_ffn": shop.ffn})
    number = order.shipment_number or order.order_number
    created = [o for o in shop.ffn_state.outbounds if o["merchantOutboundNumber"] == number]
    assert len(created) == 1
    outbound = created[0]
    with shop.warehouse.begin() as conn:
        assert conn.execute(text("SELECT outbound_id FROM core.fulfillment_outbounds "
                                 "WHERE merchant_outbound_number = :n"),
                            {"n": number}).scalar() == outbound["outboundId"]

    # The warehouse ships one piece first (a partial shipment), the rest later.
    first_item = outbound["items"][0]
    shop.ffn_state.ship(outbound["outboundId"], {first_item["jfsku"]: 1})
    with _session(shop) as api:
        assert sync_shipments(shop.warehouse, api, account_id).written == 1
    with shop.warehouse.begin() as conn:
        assert queue_tracking(conn, ffn_account) == {"tracking_queued": 1, "additional_shipments": 0}
    drain(shop.warehouse, shop.vault, {"letzshop": shop.letzshop, "jtl_ffn": shop.ffn})
    if sum(i["quantityOpen"] for i in shop.ffn_state.outbound(outbound["outboundId"])["items"]) > 0:
        shop.ffn_state.ship(outbound["outboundId"])
    with _session(shop) as api:
        sync_shipments(shop.warehouse, api, account_id)
        assert sync_shipments(shop.warehouse, api, account_id).written == 0
    with shop.warehouse.begin() as conn:
        queue_tracking(conn, ffn_account)
        assert queue_tracking(conn, ffn_account) == {"tracking_queued": 0, "additional_shipments": 0}
    drain(shop.warehouse, shop.vault, {"letzshop": shop.letzshop, "jtl_ffn": shop.ffn})

    applied = [m for m in shop.state.mutation_log
               if m.operation == "setShipmentTracking" and m.shipment_id == order.channel_shipment_id]
    assert len(applied) == 1
    notices = shop.ffn_state.shipping_notifications(outbound["outboundId"])
    first_tracking = notices[0]["packages"][0]["identifier"][0]["value"]
    with shop.warehouse.begin() as conn:
        row = conn.execute(text("SELECT sync_status, tracking_number, tracking_url FROM core.orders "
                                "WHERE order_id = :o"),
                           {"o": order.order_id}).one()
    assert row.sync_status == "shipped" and row.tracking_number == first_tracking
    assert row.tracking_url == notices[0]["packages"][0]["trackingUrl"]


def test_cli_test_connection_for_an_ffn_account(ffn, run_cli, monkeypatch):
    shop = ffn
    monkeypatch.setenv("JTL_FFN_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("JTL_FFN_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("MARKETSYNC_FFN_TOKEN_URL", f"{shop.ffn_account.endpoint}/token")
    code, out, err = run_cli("test-connection", "shop", "jtl_ffn")
    assert code == 0, err
    assert out.startswith("ok: shop/jtl_ffn answered in") and "3 warehouse(s)" in out
    assert CLIENT_SECRET not in out + err


def test_holdings_through_dagster_fail_once_without_retries_when_the_client_is_missing(ffn):
    """A missing API client fails the same way on every try: the step fails at once, saying what to set,
    instead of burning the retry policy's three tries (and minutes) first."""
    from dagster import DagsterEventType, DagsterInstance, materialize

    from marketsync.assets.jtl_ffn.assets import fulfillment_holdings, jtl_ffn_accounts

    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(jtl_ffn_accounts.name, ["shop"])
        result = materialize([fulfillment_holdings], partition_key="shop", instance=instance, raise_on_error=False,
                             resources={"warehouse": ffn.warehouse, "vault": ffn.vault,
                                        "jtl_ffn": JtlFfnResource(client_id="", client_secret="",
                                                                  base_url=ffn.ffn.base_url)})
        assert not result.success
        kinds = [entry.dagster_event.event_type for entry in instance.all_logs(result.run_id) if entry.dagster_event]
    assert DagsterEventType.STEP_UP_FOR_RETRY not in kinds and kinds.count(DagsterEventType.STEP_FAILURE) == 1
    [failure] = [event for event in result.all_events if event.event_type == DagsterEventType.STEP_FAILURE]
    assert "JTL_FFN_CLIENT_ID" in failure.step_failure_data.user_failure_data.description


def test_holdings_through_dagster_carry_table_metadata(ffn):
    from dagster import DagsterInstance, materialize

    from marketsync.assets.jtl_ffn.assets import fulfillment_holdings, jtl_ffn_accounts

    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(jtl_ffn_accounts.name, ["shop"])
        result = materialize([fulfillment_holdings], partition_key="shop", instance=instance,
                             resources={"warehouse": ffn.warehouse, "vault": ffn.vault, "jtl_ffn": ffn.ffn})
    tables = {event.asset_key.to_user_string():
              event.event_specific_data.materialization.metadata["dagster/table_name"].value
              for event in result.get_asset_materialization_events()}
    assert tables == {"core/fulfillment_products": "core.fulfillment_products",
                      "core/fulfillment_stock": "core.fulfillment_stock",
                      "core/fulfillment_inbounds": "core.fulfillment_inbounds"}
