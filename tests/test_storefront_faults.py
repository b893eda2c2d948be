"""Faults at the storefront API's boundaries, with `marketsync serve` as a user runs it (its own process):
the server killed while orders are being written, and the database's connections cut under load. The
shop retries whatever got no answer, under the same Idempotency-Key; afterwards every order is in the
warehouse exactly once and every retry got the first answer or applied the order now."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from marketsync.assets.accounts import upsert_account
from marketsync.assets.storefront.api_keys import rotate_api_key

pytestmark = pytest.mark.e2e
STORE = "shop"
ORDERS = 240


def _order(number: str) -> dict:
    return {"order_number": number, "ordered_at": "2026-12-06T10:00:00Z", "status": "paid", "currency": "EUR",
            "total": "10.00", "buyer": {"email": "b@example.org", "name": "B"},
            "shipping_address": {"last_name": "B", "street": "S 1", "postcode": "1", "city": "C", "country": "LU"},
            "items": [{"sku": "A", "title": "A", "quantity": 1, "unit_price": "10.00"}]}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`marketsync serve` in its own process on loopback."""

    def __init__(self, database_url: str, secret_key: str, home: Path):
        self.port = _free_port()
        self.env = {**os.environ, "DATABASE_URL": database_url, "MARKETSYNC_SECRET_KEYS": secret_key,
                    "MARKETSYNC_HOME": str(home), "MARKETSYNC_ENV": "development"}
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = str(Path(sys.executable).with_name("marketsync"))
        self.process = subprocess.Popen([command, "serve", "--port", str(self.port)], env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert self.process.poll() is None, "marketsync serve exited"
                time.sleep(0.2)
        raise AssertionError("marketsync serve did not start")

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture
def shop(warehouse, vault, database_url, secret_key, tmp_path):
    with warehouse.begin() as conn:
        key = rotate_api_key(conn, vault, upsert_account(conn, STORE, "storefront"))
        conn.execute(text("INSERT INTO core.products (store_id, sku, title) SELECT store_id, 'A', 'A' "
                          "FROM ops.stores WHERE code = :c"), {"c": STORE})
    server = Server(database_url, secret_key, tmp_path)
    server.start()
    yield server, key
    server.stop()


RETRIES: list[str] = []  # one entry per request that got no answer and was sent again


def _send_until_answered(base_url: str, key: str, number: str, stop_at: float) -> httpx.Response:
    """What a shop does: send, and on no answer (connection refused or reset, timeout, 503) send again
    with the same Idempotency-Key, until it has an answer."""
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": f"key-{number}"}
    while True:
        try:
            answer = httpx.post(f"{base_url}/stores/{STORE}/orders", json=_order(number), headers=headers, timeout=10)
            if answer.status_code != 503:
                return answer
            RETRIES.append(f"{number}: 503")
        except httpx.TransportError as exc:
            RETRIES.append(f"{number}: {type(exc).__name__}")
        assert time.monotonic() < stop_at, f"order {number} got no answer"
        time.sleep(0.2)


def _exactly_once(warehouse) -> tuple[int, int, int]:
    with warehouse.begin() as conn:
        return tuple(conn.execute(text(
            "SELECT count(*), count(DISTINCT channel_shipment_id), (SELECT count(*) FROM raw.channel_orders) "
            "FROM core.orders")).one())


def test_a_server_killed_mid_write_loses_and_doubles_nothing(warehouse, shop):
    server, key = shop
    RETRIES.clear()
    base_url = f"http://127.0.0.1:{server.port}"
    stop_at = time.monotonic() + 120

    def restart_soon() -> None:
        time.sleep(0.4)  # the first orders are being written
        server.kill()
        time.sleep(0.5)
        server.start()

    killer = threading.Thread(target=restart_soon)
    killer.start()
    with ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(lambda i: _send_until_answered(base_url, key, f"K-{i}", stop_at), range(ORDERS)))
    killer.join()
    assert RETRIES, "the kill hit no request: the test proved nothing"
    assert {a.status_code for a in answers} <= {200, 201}
    assert _exactly_once(warehouse) == (ORDERS, ORDERS, ORDERS)
    # Every retry now answers as the order's first answer did.
    again = _send_until_answered(base_url, key, "K-0", stop_at)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json()["order_number"] == "K-0"


def test_database_connections_cut_under_load(warehouse, shop):
    server, key = shop
    RETRIES.clear()
    base_url = f"http://127.0.0.1:{server.port}"
    stop_at = time.monotonic() + 120
    cutting = threading.Event()

    def cut_connections() -> None:
        with warehouse.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            while not cutting.is_set():
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                                  "AND state = 'active'"))
                time.sleep(0.15)

    cutter = threading.Thread(target=cut_connections)
    cutter.start()
    try:
        with ThreadPoolExecutor(24) as pool:
            answers = list(pool.map(lambda i: _send_until_answered(base_url, key, f"C-{i}", stop_at), range(ORDERS)))
    finally:
        cutting.set()
        cutter.join()
    assert any(r.endswith("503") for r in RETRIES), "no connection was cut mid-request: the test proved nothing"
    assert {a.status_code for a in answers} <= {200, 201}
    assert _exactly_once(warehouse) == (ORDERS, ORDERS, ORDERS)
