"""The Dagster UI in a real browser (Debian's chromium driven by playwright-core from npm, tests/ui/):
`dagster dev` (webserver and daemon) on a free loopback port against the test database; the code
location loads without errors, the asset graph renders, and a partition materialised with the UI's
Materialize button (the store's Letzshop product feed, from its simulator) succeeds."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from browser import CHROMIUM, UI, missing

REPO = Path(__file__).resolve().parents[1]
ASSET = "core/letzshop_catalog"


pytestmark = pytest.mark.skipif(missing() is not None, reason=missing() or "")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_webserver(url: str, dagster: subprocess.Popen, log: Path) -> None:
    for _ in range(600):
        if dagster.poll() is not None:
            raise AssertionError(f"dagster dev ended early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"the webserver did not answer:\n{log.read_text()[-3000:]}")


def test_ui_loads_renders_the_graph_and_materialises_a_partition(cli_env, shop, tmp_path):
    from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

    from marketsync.assets.letzshop.orders import letzshop_accounts
    from marketsync.assets.letzshop.product_feed import add_letzshop_feed_source
    from marketsync.sandbox.http import serve_in_thread
    from marketsync.sandbox.letzshop.product_feed import ProductFeedState, create_feed_app

    feed = ProductFeedState(seed=3, size=40)
    with serve_in_thread(create_feed_app(feed)) as feed_server:
        with shop.warehouse.begin() as conn:
            add_letzshop_feed_source(conn, "shop", feed.urls(feed_server.base_url), vault=shop.vault)
        instance = DagsterInstance.get()
        instance.add_dynamic_partitions(letzshop_accounts.name, ["shop"])

        port = _free_port()
        log = tmp_path / "dagster-dev.log"
        with open(log, "w") as out:
            dagster = subprocess.Popen(
                [str(Path(sys.executable).with_name("dagster")), "dev", "-w", str(REPO / "workspace.yaml"),
                 "-h", "127.0.0.1", "-p", str(port)],
                cwd=REPO, env=os.environ.copy(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_for_webserver(url, dagster, log)
            shots = tmp_path / "screenshots"
            shots.mkdir()
            browser = subprocess.run(["node", str(UI / "dagster_ui.mjs"), url, ASSET, "catalog", "shop", str(shots)],  # noqa: S607 - node from PATH; the module is skipped without it
                                     cwd=UI, capture_output=True, text=True, timeout=600,
                                     env={**os.environ, "CHROMIUM": CHROMIUM})
            assert browser.returncode == 0, browser.stdout + browser.stderr
            seen = json.loads(browser.stdout.strip().splitlines()[-1])
            assert seen["location"] == "RepositoryLocation" and seen["graph"]
            assert seen["launched_by"] == "materialize button"
            # The run the button launched, followed to its end through the instance.
            for _ in range(600):
                runs = instance.get_runs(RunsFilter(run_ids=seen["run_ids"]))
                if runs and all(r.is_finished for r in runs):
                    break
                time.sleep(0.5)
            assert runs and all(r.status == DagsterRunStatus.SUCCESS for r in runs), \
                [(r.run_id, r.status) for r in runs]
            assert all(r.tags.get("dagster/partition") == "shop" for r in runs)
            materialized = instance.get_latest_materialization_event(
                __import__("dagster").AssetKey(ASSET.split("/")))
            assert materialized is not None and materialized.run_id in seen["run_ids"]
            metadata = materialized.asset_materialization.metadata
            assert metadata["dagster/row_count"].value > 0 and metadata["dagster/table_name"].value == \
                "core.marketplace_products"
        finally:
            if os.environ.get("MARKETSYNC_UI_SCREENSHOTS") and (tmp_path / "screenshots").exists():
                shutil.copytree(tmp_path / "screenshots", os.environ["MARKETSYNC_UI_SCREENSHOTS"], dirs_exist_ok=True)
            try:
                os.killpg(dagster.pid, signal.SIGTERM)
                dagster.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
            try:
                os.killpg(dagster.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            dagster.wait()
