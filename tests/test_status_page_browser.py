"""The status page of `marketsync serve` in a real browser (Debian's chromium driven by playwright-core from npm,
tests/ui/status_page.mjs), signed in with a token as the Basic password: the page renders with its charts
(orders per hour, sync durations over the last day), a store with a failing integration (its import lag past
the error threshold, an open alert) shows red with the alert's cause, a healthy store green."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from browser import CHROMIUM, UI, missing
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.alerts import raise_alert
from marketsync.pipelines.ops_app.server import create_app
from marketsync.pipelines.ops_app.tokens import create_token
from marketsync.sandbox.http import serve_in_thread

REPO = Path(__file__).resolve().parents[1]
CAUSE = "Letzshop refused the API key (401): store a new one with `marketsync credentials set broken letzshop`"


pytestmark = [pytest.mark.e2e, pytest.mark.skipif(missing() is not None, reason=missing() or "")]

# A day of a store's orders and imports: orders spread over the last 23 hours, an import every 15 minutes.
_SEED_DAY = """
INSERT INTO core.orders (store_id, account_id, channel, channel_order_id, channel_shipment_id, order_number,
                         channel_state, sync_status, source_payload_sha, ordered_at)
SELECT :s, :a, 'letzshop', 'O' || :a || '-' || n, 'S' || :a || '-' || n, 'R' || :a || '-' || n, 'confirmed',
       'confirmed', 'sha', now() - make_interval(mins => (n * 37) % 1380)
FROM generate_series(1, :orders) n;
INSERT INTO ops.sync_log (account_id, operation, direction, started_at, completed_at, failed, errors)
SELECT :a, 'import_orders', 'inbound', now() - make_interval(mins => 15 * n),
       now() - make_interval(mins => 15 * n) + make_interval(secs => 2 + (n % 7) * 1.5 + (n % 23) * 0.4),
       n % 29 = 0, CASE WHEN n % 29 = 0 THEN '["Letzshop answered 503"]'::jsonb ELSE '[]' END
FROM generate_series(1, 90) n
"""


def _seed(warehouse) -> None:
    with warehouse.begin() as conn:
        calm = upsert_account(conn, "calm", "letzshop", "https://letzshop.invalid/graphql")
        broken = upsert_account(conn, "broken", "letzshop", "https://letzshop.invalid/graphql")
        slow = upsert_account(conn, "slow", "letzshop", "https://letzshop.invalid/graphql")
        conn.execute(text("UPDATE ops.stores SET name = 'Calm Corner' WHERE code = 'calm'"))
        for account, synced in ((calm, "1 minute"), (broken, "3 hours"), (slow, "20 minutes")):
            conn.execute(text("UPDATE ops.accounts SET last_synced_at = now() - CAST(:ago AS interval) "
                              "WHERE account_id = :a"), {"ago": synced, "a": account.account_id})
        for account, orders in ((calm, 120), (broken, 40)):
            for statement in _SEED_DAY.split(";\n"):
                conn.execute(text(statement), {"s": account.store_id, "a": account.account_id, "orders": orders})
        raise_alert(conn, CAUSE, source="credential_revoked", account_id=broken.account_id)


def test_the_status_page_renders_and_a_failing_store_shows_red_with_its_cause(warehouse, vault, tmp_path):
    _seed(warehouse)
    with warehouse.begin() as conn:
        token, _ = create_token(conn, "browser")
    with serve_in_thread(create_app(warehouse.engine, vault, clients=lambda channel: None)) as server:
        unsigned = httpx.get(f"{server.base_url}/status", timeout=10)
        assert unsigned.status_code == 401 and unsigned.headers["www-authenticate"].startswith("Basic")
        shots = tmp_path / "screenshots"
        shots.mkdir()
        browser = subprocess.run(["node", str(UI / "status_page.mjs"), server.base_url, token, "broken",  # noqa: S607 - node from PATH; the module is skipped without it
                                  "Letzshop refused the API key", "calm", str(shots)],
                                 cwd=UI, capture_output=True, text=True, timeout=180,
                                 env={**os.environ, "CHROMIUM": CHROMIUM})
        if os.environ.get("MARKETSYNC_UI_SCREENSHOTS"):
            shutil.copytree(shots, os.environ["MARKETSYNC_UI_SCREENSHOTS"], dirs_exist_ok=True)
    assert browser.returncode == 0, browser.stdout + browser.stderr
    seen = json.loads(browser.stdout.strip().splitlines()[-1])
    assert seen["failing"]["badge_color"] == "rgb(198, 40, 40)"  # --red
    assert seen["failing"]["cause"].startswith(CAUSE)
    assert seen["headline"].startswith("1 integration failing, 1 needs a look")
    assert seen["charts"]["orders-per-hour"]["summary"].startswith("160 orders in the last 24 h")
    assert seen["charts"]["sync-durations"]["summary"] == "180 sync operations in the last 24 h, 6 failed"
    assert seen["charts"]["sync-durations"]["failed_dots"] >= 3
    assert token not in browser.stdout + browser.stderr
