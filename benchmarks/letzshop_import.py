"""Letzshop order import: 10,000 shipments (about 30,000 units) paged from the simulator over loopback,
landed, normalised, merged and matched against a 100,000-product catalog.

The simulator runs in its own process (it stands for Letzshop, not for us); the importer runs in a
child process of its own so that its peak RSS is measured alone. Target: >= 5,000 units/s end to end,
peak RSS < 300 MB, on the 2-core machine. Each figure is the median of the repeats.
"""
from __future__ import annotations

import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

SHIPMENTS = int(os.environ.get("BENCH_SHIPMENTS", "10000"))
CATALOG = int(os.environ.get("BENCH_CATALOG", "100000"))
# The merchant's export leaves out about 5% of the simulator's variant pool (those orders will not
# match): a pool this much larger makes the exported catalog at least CATALOG rows.
CATALOG_POOL = int(CATALOG * 1.06)
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
SEED = 2026
KEY = "bench-key"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("simulator did not start")


def run_once(database_url: str, endpoint: str, catalog_csv: str) -> dict:
    """One measured import in this (fresh) process: a new store, its catalog, then the orders."""
    from cryptography.fernet import Fernet

    from marketsync.assets.accounts import upsert_account
    from marketsync.assets.catalog.exceptions import auto_resolve
    from marketsync.assets.catalog.matching import match_order_items
    from marketsync.assets.catalog.products import import_products_csv
    from marketsync.assets.letzshop.connection import letzshop_session
    from marketsync.assets.letzshop.load import import_shipments
    from marketsync.resources.letzshop import LetzshopResource
    from marketsync.resources.vault import CredentialVault
    from marketsync.resources.warehouse import Warehouse

    warehouse = Warehouse(database_url=database_url)
    vault = CredentialVault(secret_keys=Fernet.generate_key().decode())
    store = f"bench-{uuid.uuid4().hex[:8]}"
    with warehouse.begin() as conn:
        account = upsert_account(conn, store, "letzshop", endpoint, {"page_size": 250})
        vault.store(conn, account.account_id, {"api_key": KEY})
    started = time.perf_counter()
    with warehouse.begin() as conn:
        catalog = import_products_csv(conn, account.store_id, catalog_csv)
    catalog_seconds = time.perf_counter() - started

    started = time.perf_counter()
    with letzshop_session(warehouse, vault, LetzshopResource(), account) as api:
        summary = import_shipments(warehouse.engine, account, api, ["unconfirmed"])
    imported = time.perf_counter()
    with warehouse.begin() as conn:
        auto_resolve(conn, account.store_id)
        match = match_order_items(conn, account.store_id)
    finished = time.perf_counter()
    return {
        "units": summary.units_seen, "shipments": summary.shipments_seen, "catalog_rows": catalog.read,
        "catalog_seconds": catalog_seconds, "import_seconds": imported - started, "match_seconds": finished - imported,
        "end_to_end_seconds": finished - started,
        "matched_by_gtin": getattr(match, "matched_by_gtin", None),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    from benchmarks.common import prepare_bench_environment
    from marketsync.resources import migrations
    from marketsync.resources.database import drop_database, ensure_database
    from marketsync.sandbox.letzshop.data import write_catalog_csv

    prepare_bench_environment()
    # A database of its own on the same server: the bench's stores never show up in the demo's.
    server = os.environ["DATABASE_URL"]
    database_url = ensure_database(server, f"marketsync_bench_{os.getpid()}")
    migrations.upgrade(database_url)
    port = _free_port()
    repo = Path(__file__).resolve().parents[1]
    simulator = subprocess.Popen(
        [sys.executable, "-m", "marketsync.sandbox.letzshop", "--seed", str(SEED), "--size", str(SHIPMENTS),
         "--port", str(port), "--api-key", KEY, "--catalog-size", str(CATALOG_POOL), "--log-level", "warning"],
        cwd=repo)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            catalog_csv = str(Path(tmp) / "catalog.csv")
            write_catalog_csv(catalog_csv, SEED, SHIPMENTS, catalog_size=CATALOG_POOL)
            _wait_for(port)
            runs = []
            for _ in range(REPEATS):
                out = subprocess.run(
                    [sys.executable, "-c",
                     "import json,sys; from benchmarks.letzshop_import import run_once; "
                     "print(json.dumps(run_once(*sys.argv[1:])))",
                     database_url, f"http://127.0.0.1:{port}/graphql", catalog_csv],
                    cwd=repo, capture_output=True, text=True, check=True)
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
        drop_database(server, database_url)

    def median(key):
        return statistics.median(r[key] for r in runs)

    units = runs[0]["units"]
    print(f"letzshop_import: {runs[0]['shipments']} shipments, {units} units, catalog {runs[0]['catalog_rows']} rows, "
          f"{REPEATS} repeats (medians)")
    print(f"  end to end (fetch, land raw, normalise, merge, match): {median('end_to_end_seconds'):.2f} s "
          f"= {units / median('end_to_end_seconds'):,.0f} units/s   (target >= 5,000)")
    print(f"    of which import {median('import_seconds'):.2f} s, matching {median('match_seconds'):.2f} s")
    print(f"  catalog load: {median('catalog_seconds'):.2f} s"
          f" = {runs[0]['catalog_rows'] / median('catalog_seconds'):,.0f} rows/s")
    print(f"  peak RSS of the importer: {median('peak_rss_mb'):.0f} MB   (target < 300)")
