"""A new channel is one package that declares itself once: installed beside marketsync (an entry point in
the group `marketsync.channels`), with no edit of any module of ours, it gets its account kind (and its
row in ops.channels), its assets, jobs, partitions and order checks in the code location, its resource,
its stock adapter, its outbound drain op, `test-connection` and `sync orders`.

The package is written to a temporary folder with a dist-info of its own (what `pip install` leaves), and
a fresh interpreter loads the code location with it: the registries are built once, at import, as the
Dagster code server builds them.
"""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

PLUGIN = {
    "fakeshop_channel/__init__.py": "",
    "fakeshop_channel/channel.py": '''
        from marketsync.assets.channel_registry import Channel, Orders, Outbound, Stock, register

        CHANNEL = register(Channel(
            name="fakeshop", label="Fake shop",
            account_defaults={"endpoint": "https://fakeshop.invalid/api", "settings": {"page_size": 5}},
            resource="fakeshop_channel.client:FakeshopResource",
            definitions="fakeshop_channel.orders:defs",
            partitions="fakeshop_channel.orders:fakeshop_accounts",
            orders=Orders(asset=("core", "fakeshop_orders"), assets="fakeshop_channel.orders:order_assets",
                          imported="orders"),
            stock=Stock(adapters={"fakeshop_stock": "fakeshop_channel.stock:adapter"}, listings="known"),
            outbound=Outbound(open="fakeshop_channel.outbound:open_outbound", pool="fakeshop_api"),
            connection_test="fakeshop_channel.client:check_connection",
        ))
    ''',
    "fakeshop_channel/client.py": '''
        from dagster import ConfigurableResource

        class FakeshopResource(ConfigurableResource):
            greeting: str = "hello"

        def check_connection(warehouse, vault, client, store):
            return f" ({client.greeting} from {store})"
    ''',
    "fakeshop_channel/orders.py": '''
        from dagster import AssetKey, Definitions, DynamicPartitionsDefinition, MaterializeResult, asset

        from marketsync.assets.orders.followup import followup_assets

        ORDERS = AssetKey(["core", "fakeshop_orders"])
        fakeshop_accounts = DynamicPartitionsDefinition(name="fakeshop_accounts")
        IMPORTED = []

        @asset(key=ORDERS, partitions_def=fakeshop_accounts, kinds={"fakeshop"})
        def fakeshop_orders(context):
            """The fake shop's orders (none: the shop is empty)."""
            IMPORTED.append(context.partition_key)
            return MaterializeResult(metadata={"orders_created": 0})

        order_assets = [fakeshop_orders, *followup_assets("fakeshop", fakeshop_accounts, ORDERS)]
        defs = Definitions(assets=order_assets)
    ''',
    "fakeshop_channel/stock.py": '''
        from marketsync.assets.stock.channels.base import PushOutcome, StockAnswer, StockChannel

        class FakeshopStock(StockChannel):
            name = "fakeshop_stock"

            def push(self, updates, *, idempotency_key, sync_id=0):
                return PushOutcome([StockAnswer(u.sku, "accepted") for u in updates], delivered_to="fakeshop")

        def adapter(conn, settings, vault, clients):
            return FakeshopStock()
    ''',
    "fakeshop_channel/outbound.py": '''
        from contextlib import contextmanager

        SENT = []

        @contextmanager
        def open_outbound(warehouse, vault, client, account):
            class Notify:
                def send(self, item):
                    SENT.append((account.store, item.payload, client.greeting))
                    return {"sent": True}

                def already_applied(self, item):
                    return False

            yield {"notify": Notify()}
    ''',
    "fakeshop_channel-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: fakeshop-channel\nVersion: 0.1\n",
    "fakeshop_channel-0.1.dist-info/entry_points.txt": "[marketsync.channels]\nfakeshop = fakeshop_channel.channel\n",
}

# Runs in a fresh interpreter with the plugin on the path; prints what it found as one JSON line.
DRIVER = '''
import json
from dagster import AssetKey, DagsterInstance

from marketsync.assets.accounts import upsert_account
from marketsync.assets.outbound_queue import enqueue
from marketsync.assets.outbound_runner import drain
from marketsync.assets.stock.channels import build_channel
from marketsync.assets.stock.settings import load_settings, save_settings
from marketsync.pipelines.cli.connection import connection_channels
from marketsync.pipelines.cli.sync import order_channels
from marketsync.pipelines.definitions import build_resources, defs
from marketsync.pipelines.run_in_process import run_order_sync
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse
from marketsync.sensors.jobs import DRAIN_OPS
from marketsync.sensors.partitions import PARTITIONED
from marketsync.assets.stock.assets import STOCK_SOURCES
from marketsync.assets.checks.core_tables import core_table_checks
import fakeshop_channel.orders as orders
import fakeshop_channel.outbound as outbound
import os

warehouse = Warehouse(database_url=os.environ["DATABASE_URL"])
vault = CredentialVault(secret_keys=os.environ["MARKETSYNC_SECRET_KEYS"])
with warehouse.begin() as conn:
    account = upsert_account(conn, "plugstore", "fakeshop")
    label = conn.exec_driver_sql("SELECT label FROM ops.channels WHERE name = 'fakeshop'").scalar()
    enqueue(conn, account.account_id, "notify", {"order": "F-1"})
    save_settings(conn, "plugstore", "fakeshop")
    adapter = build_channel(conn, load_settings(conn, "plugstore", "fakeshop"), vault).name
sync = run_order_sync("plugstore", channel="fakeshop", instance=DagsterInstance.ephemeral())
drained = drain(warehouse, vault, {"fakeshop": build_resources()["fakeshop"]}, store="plugstore")
print(json.dumps({
    "label": label, "endpoint": account.endpoint,
    "jobs": sorted(j.name for j in defs.resolve_all_job_defs() if "fakeshop" in j.name),
    "resource": type(build_resources()["fakeshop"]).__name__,
    "partitions": PARTITIONED["fakeshop"].name, "drain_op": DRAIN_OPS["fakeshop"].name,
    "stock_source": AssetKey(["core", "fakeshop_orders"]) in STOCK_SOURCES,
    "checks": sorted(k.name for c in core_table_checks for k in c.check_keys
                     if k.asset_key.path[-1] == "fakeshop_orders"),
    "cli": ["fakeshop" in connection_channels(), "fakeshop" in order_channels()],
    "adapter": adapter, "imported": orders.IMPORTED, "synced": sorted(k for k in sync if k.startswith("fakeshop")),
    "drained": drained, "sent": outbound.SENT,
}))
'''


@pytest.fixture
def plugin_path(tmp_path) -> Path:
    for name, text in PLUGIN.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return tmp_path


@pytest.mark.integration
def test_an_installed_channel_package_is_everywhere_without_an_edit_of_ours(plugin_path, warehouse, secret_key):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), str(REPO)]),
           "DATABASE_URL": str(warehouse.database_url), "MARKETSYNC_SECRET_KEYS": secret_key,
           "MARKETSYNC_ENV": "development"}
    done = subprocess.run([sys.executable, "-c", DRIVER], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["label"] == "Fake shop" and found["endpoint"] == "https://fakeshop.invalid/api"
    assert found["jobs"] == ["fakeshop_import_job", "fakeshop_order_followup_job"]
    assert found["resource"] == "FakeshopResource"
    assert found["partitions"] == "fakeshop_accounts" and found["drain_op"] == "drain_fakeshop_outbound"
    assert found["stock_source"] is True
    assert found["checks"] == ["items_matched_or_excepted", "no_duplicate_channel_ids", "totals_equal_lines"]
    assert found["cli"] == [True, True]
    assert found["adapter"] == "fakeshop_stock"
    assert found["imported"] == ["plugstore"], "sync orders ran the plugin's own orders asset"
    assert found["drained"]["plugstore/fakeshop"]["succeeded"] == 1
    assert found["sent"] == [["plugstore", {"order": "F-1"}, "hello"]]


@pytest.mark.integration
def test_the_database_refuses_an_account_of_a_channel_nobody_declared(warehouse):
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError, match="accounts_channel_fkey"), warehouse.begin() as conn:
        store = conn.execute(text("INSERT INTO ops.stores (code) VALUES ('nochannel') RETURNING store_id")).scalar()
        conn.execute(text("INSERT INTO ops.accounts (store_id, channel) VALUES (:s, 'otto')"), {"s": store})
