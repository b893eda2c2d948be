"""The storefront order API under load (issue 16): orders per second accepted by `marketsync serve` on
loopback, and their latency.

`marketsync serve` runs as its own process (uvicorn, one worker, as a user starts it) on a fresh
database with BENCH_SF_STORES stores (default 10), each with a storefront account, its API key, a
catalog of 1,000 products and BENCH_SF_HISTORY orders received before (default 20,000: a shop that has
been selling for a while, not empty tables with empty statistics). A load generator in this process
(plain HTTP/1.1 over keep-alive connections on asyncio, so that the client costs little of the
machine's CPU) POSTs new orders of one to three lines, each with its own Idempotency-Key, to random
stores:

1. open loop at BENCH_SF_RATE orders per second (default 1,000) for BENCH_SF_SECONDS (default 20):
   each order is sent at its scheduled moment whatever the answers before it, and its latency counts
   from that moment (so a stall is not hidden by the client waiting for it); the figures are the
   achieved rate and the p50, p99 and max latency;
2. closed loop, BENCH_SF_CONNECTIONS connections (default 64) sending as fast as answers come back:
   the most the intake accepts on this machine;
3. the peer: the same closed loop against a server writing one transaction per order
   (MARKETSYNC_STOREFRONT_BATCH=1), what a straightforward intake does.

Every answer must be 201 and every order must be in core.orders exactly once afterwards, or the
benchmark exits non-zero. The target is the open loop's rate with a p99 under a second.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import bench_database, run_seed_script

STORES = int(os.environ.get("BENCH_SF_STORES", "10"))
RATE = int(os.environ.get("BENCH_SF_RATE", "1000"))
SECONDS = float(os.environ.get("BENCH_SF_SECONDS", "20"))
CONNECTIONS = int(os.environ.get("BENCH_SF_CONNECTIONS", "64"))
CLOSED_ORDERS = int(os.environ.get("BENCH_SF_CLOSED_ORDERS", "20000"))
PRODUCTS = 1000
HISTORY = int(os.environ.get("BENCH_SF_HISTORY", "20000"))  # orders each store received before the run
TARGET_P99_SECONDS = 1.0


@dataclass
class Run:
    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def figures(self) -> str:
        ordered = sorted(self.latencies)

        def at(q: float) -> float:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

        return (f"{self.sent:,} orders in {self.seconds:.1f} s = {self.sent / self.seconds:,.0f}/s; latency "
                f"p50 {at(0.5):.1f} ms, p99 {at(0.99):.1f} ms, max {ordered[-1] * 1000:.1f} ms; answers "
                + ", ".join(f"{code}: {n:,}" for code, n in sorted(self.statuses.items())))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(warehouse, vault) -> dict[str, str]:
    """The stores, their accounts and catalogs; returns store -> API key."""
    from sqlalchemy import text

    from marketsync.assets.accounts import upsert_account
    from marketsync.assets.storefront.api_keys import rotate_api_key

    keys = {}
    with warehouse.begin() as conn:
        for n in range(STORES):
            store = f"shop-{n:03d}"
            account = upsert_account(conn, store, "storefront")
            keys[store] = rotate_api_key(conn, vault, account)
            conn.execute(text("INSERT INTO core.products (store_id, sku, title) "
                              "SELECT :s, 'SKU-' || g, 'Product ' || g FROM generate_series(1, :n) g"),
                         {"s": account.store_id, "n": PRODUCTS})
    run_seed_script(warehouse, Path(__file__).with_name("storefront_seed.sql"), {"history": HISTORY})
    with warehouse.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return keys


def requests_for(keys: dict[str, str], count: int, label: str, seed_value: int) -> list[bytes]:
    """`count` POST requests, each a new order of one to three lines to a random store."""
    rng = random.Random(seed_value)
    stores = sorted(keys)
    made = []
    for i in range(count):
        store = rng.choice(stores)
        lines = [{"sku": f"SKU-{rng.randint(1, PRODUCTS)}", "title": "Product", "quantity": rng.randint(1, 3),
                  "unit_price": f"{rng.randint(100, 9999) / 100:.2f}"} for _ in range(rng.randint(1, 3))]
        body = json.dumps({
            "order_number": f"{label}-{i}", "ordered_at": "2026-12-06T12:00:00+01:00", "status": "paid",
            "currency": "EUR", "total": "49.90",
            "buyer": {"email": f"buyer{i}@example.org", "name": f"Buyer {i}"},
            "shipping_address": {"last_name": f"Buyer {i}", "street": "Rue du Benchmark 1", "postcode": "L-1234",
                                 "city": "Luxembourg", "country": "LU"},
            "items": lines}).encode()
        made.append(b"POST /stores/%s/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    b"Authorization: Bearer %s\r\nIdempotency-Key: %s-%d\r\nContent-Length: %d\r\n\r\n%s"
                    % (store.encode(), keys[store].encode(), label.encode(), i, len(body), body))
    return made


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def open_loop(port: int, requests: list[bytes], rate: float) -> Run:
    """Each request at its scheduled moment over a pool of connections; latency from that moment."""
    run = Run(sent=len(requests))
    idle: asyncio.Queue = asyncio.Queue()
    for _ in range(256):
        idle.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.1

    async def send(i: int, request: bytes) -> None:
        connection = await idle.get()
        status = await _exchange(*connection, request)
        run.latencies.append(loop.time() - (start + i / rate))
        run.statuses[status] = run.statuses.get(status, 0) + 1
        idle.put_nowait(connection)

    tasks = []
    for i, request in enumerate(requests):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(i, request)))
    await asyncio.gather(*tasks)
    run.seconds = loop.time() - start
    while not idle.empty():
        idle.get_nowait()[1].close()
    return run


async def closed_loop(port: int, requests: list[bytes], connections: int) -> Run:
    """`connections` clients, each sending its next request when the last one was answered."""
    run = Run(sent=len(requests))
    queue = list(reversed(requests))
    loop = asyncio.get_running_loop()

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while queue:
            request = queue.pop()
            sent = loop.time()
            status = await _exchange(reader, writer, request)
            run.latencies.append(loop.time() - sent)
            run.statuses[status] = run.statuses.get(status, 0) + 1
        writer.close()

    started = loop.time()
    await asyncio.gather(*(client() for _ in range(connections)))
    run.seconds = loop.time() - started
    return run


@contextmanager
def serving(database_url: str, **settings: str):
    """`marketsync serve` in a process of its own on a free port."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, **settings}
    command = str(Path(sys.executable).with_name("marketsync"))
    process = subprocess.Popen([command, "serve", "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("marketsync serve did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _orders(warehouse, label: str) -> tuple[int, int]:
    from sqlalchemy import text

    with warehouse.begin() as conn:
        return tuple(conn.execute(text("SELECT count(*), count(DISTINCT channel_shipment_id) FROM core.orders "
                                       "WHERE channel_shipment_id LIKE :l"), {"l": f"{label}-%"}).one())


def main() -> None:
    import uvloop

    print(f"storefront order API: {STORES} stores, {PRODUCTS:,} products each; marketsync serve in its own process")
    failed = False
    with bench_database("storefront") as (warehouse, vault, database_url):
        keys = seed(warehouse, vault)
        runs = [("open loop", "OPEN", {}, lambda port, reqs: open_loop(port, reqs, RATE), int(RATE * SECONDS)),
                ("closed loop", "CLOSED", {}, lambda port, reqs: closed_loop(port, reqs, CONNECTIONS), CLOSED_ORDERS),
                ("peer: a transaction per order", "PEER", {"MARKETSYNC_STOREFRONT_BATCH": "1"},
                 lambda port, reqs: closed_loop(port, reqs, CONNECTIONS), CLOSED_ORDERS)]
        for name, label, settings, load, count in runs:
            requests = requests_for(keys, count, label, seed_value=len(label))
            with serving(database_url, **settings) as port:
                # A warm-up (connections, the first plans), then the run.
                uvloop.run(closed_loop(port, requests_for(keys, 200, f"WARM{label}", 1), 8))
                run = uvloop.run(load(port, requests))
            stored, distinct = _orders(warehouse, label)
            accepted = run.statuses.get(201, 0)
            print(f"  {name:<32} {run.figures()}")
            print(f"  {'':<32} in core.orders: {stored:,} ({distinct:,} distinct)")
            if accepted != run.sent or stored != accepted or distinct != stored:
                failed = True
                print("  FAILED: not every order was accepted exactly once")
            if label == "OPEN":
                p99 = sorted(run.latencies)[int(0.99 * len(run.latencies))]
                if run.sent / run.seconds < RATE * 0.95 or p99 > TARGET_P99_SECONDS:
                    failed = True
                    print(f"  FAILED: target {RATE:,}/s with a p99 under {TARGET_P99_SECONDS:g} s")
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
