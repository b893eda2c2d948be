"""The demo's storefront part: the store's own shop pushes an order to `marketsync serve`'s order API (a
real HTTP server on loopback, with the store's API key), retries it, marks it paid; the order is merged
with the others, reserves its units, and is followed up by the same Dagster stages as every channel's."""
from __future__ import annotations

import uuid

import click
import httpx

from marketsync.assets.accounts import upsert_account
from marketsync.assets.orders.history import describe, order_timeline
from marketsync.assets.storefront.api_keys import rotate_api_key
from marketsync.assets.storefront.orders import storefront_accounts, storefront_assets
from marketsync.pipelines.ops_app.server import create_app
from marketsync.pipelines.run_in_process import run_assets
from marketsync.pipelines.storefront_api.group_commit import GroupCommit
from marketsync.resources.sql_files import query_beside
from marketsync.sandbox.http import serve_in_thread

ORDER_NUMBER = "WEB-1001"


def _order(skus: list[str]) -> dict:
    return {
        "order_number": ORDER_NUMBER, "ordered_at": "2026-12-06T09:30:00+01:00", "status": "pending",
        "currency": "EUR", "total": "57.80",
        "buyer": {"email": "demo.buyer@example.org", "name": "Demo Buyer", "locale": "fr-LU"},
        "shipping_address": {"first_name": "Demo", "last_name": "Buyer", "street": "Rue du Marché",
                             "house_number": "12", "postcode": "L-1111", "city": "Luxembourg", "country": "LU"},
        "items": [{"sku": skus[0], "title": "From the shop", "quantity": 2, "unit_price": "19.90"},
                  {"sku": skus[1], "title": "From the shop", "quantity": 1, "unit_price": "18.00"}],
    }


def run_storefront(rt, store: str) -> dict:
    with rt.warehouse.begin() as conn:
        account = upsert_account(conn, store, "storefront")
        key = rotate_api_key(conn, rt.vault, account)
        skus = conn.execute(query_beside(__file__, "demo_storefront_skus.sql"), {"s": account.store_id}).scalars().all()
    click.echo(f"store '{store}': storefront account added, its API key made (shown once by "
               f"`marketsync storefront key {store}`)")
    intake = GroupCommit(rt.warehouse.engine)
    with serve_in_thread(create_app(rt.warehouse.engine, rt.vault, storefront_intake=intake)) as server, \
            httpx.Client(base_url=server.base_url, timeout=30) as http:
        auth = {"Authorization": f"Bearer {key}"}
        once = {**auth, "Idempotency-Key": str(uuid.uuid4())}
        first = http.post(f"/stores/{store}/orders", json=_order(skus), headers=once)
        again = http.post(f"/stores/{store}/orders", json=_order(skus), headers=once)
        click.echo(f"POST {server.base_url}/stores/{store}/orders: {first.status_code}; the shop's retry with the "
                   f"same Idempotency-Key: {again.status_code} (replayed: {again.headers.get('Idempotent-Replayed')})")
        answer = first.json()
        lines = ", ".join(f"{i['sku']} x{i['quantity']} {'matched' if i['matched'] else 'unmatched'}"
                          for i in answer["items"])
        click.echo(f"  order {answer['order_number']} (id {answer['order_id']}): {answer['status']}, {lines}")
        paid = http.patch(f"/stores/{store}/orders/{ORDER_NUMBER}", json={"status": "paid"}, headers=auth)
        click.echo(f"PATCH .../orders/{ORDER_NUMBER} paid: {paid.status_code}, cross-channel status "
                   f"{paid.json()['canonical_status']}")
    intake.close()
    figures = run_assets(storefront_assets, storefront_accounts, store, what="storefront follow-up")
    click.echo(f"run {figures['run_id'][:8]}: the storefront's orders asset and follow-up "
               f"({figures.get('storefront_auto_confirmations.orders_followed_up', 0)} order followed up)")
    with rt.warehouse.begin() as conn:
        for change in order_timeline(conn, answer["order_id"]):
            click.echo(f"  {describe(change)}")
        counted = conn.execute(query_beside(__file__, "demo_storefront_figures.sql"),
                               {"a": account.account_id, "s": account.store_id, "o": answer["order_id"]}).one()
    return {"orders": counted.orders, "reserved": counted.reserved, "replayed": again.json() == answer}
