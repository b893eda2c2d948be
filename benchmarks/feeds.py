"""Supplier feeds: a 1,000,000-item feed in CSV, XML and JSON, and a 1,000,000-row Shopify-style product
export (grouped rows: a product's first row and its variants' rows, image-only rows, read with the
shopify-products preset), loaded for the first time and refreshed
with 1% of its rows changed, end to end (read the file, parse, map, quarantine, COPY, diff, merge), and
the same CSV loaded with dlt (write_disposition="merge", primary key external_id) into the same
Postgres, in a schema of its own, for comparison.

House style (see letzshop_import): a database of its own on the server; every measured load runs in a
child process of its own so its peak RSS is measured alone; figures are medians of BENCH_FEED_REPEATS.
Sizes come from the environment so a quick run is possible:
BENCH_FEED_ROWS (default 1,000,000), BENCH_FEED_FORMATS (csv,xml,json,shopify), BENCH_FEED_REPEATS (1: first loads),
BENCH_FEED_REFRESHES (3: successive refreshes, each with 1% of rows changed again; the median is shown),
BENCH_FEED_DLT (1: also run dlt; it needs the `bench` extra: pip install -e '.[bench]').
Targets on the 2-core machine: CSV refresh >= 100,000 rows/s, XML refresh >= 60,000 rows/s, peak RSS
< 400 MB whatever the size, faster than dlt. The Shopify export's rate counts the rows of the file
(image-only rows included), so it compares with the plain CSV of as many rows: what grouping, inheritance,
HTML plain text, images, weights and options cost.
"""
from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROWS = int(os.environ.get("BENCH_FEED_ROWS", "1000000"))
FORMATS = [f for f in os.environ.get("BENCH_FEED_FORMATS", "csv,xml,json,shopify").split(",") if f]
REPEATS = int(os.environ.get("BENCH_FEED_REPEATS", "1"))
REFRESHES = int(os.environ.get("BENCH_FEED_REFRESHES", "3"))
WITH_DLT = os.environ.get("BENCH_FEED_DLT", "1") not in ("0", "", "false", "no")
CHANGED_SHARE = 0.01
SEED = 2026
TARGETS = {"csv": 100_000, "xml": 60_000}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- measured in a child process

def load_once(database_url: str, store: str, name: str, fmt: str, path: str, mapping_json: str) -> dict:
    """One measured load of `path` into source `name` of `store` (created on first use)."""
    from marketsync.assets.accounts import upsert_account
    from marketsync.assets.feeds.loader import load_feed
    from marketsync.assets.feeds.sources import add_source, get_source
    from marketsync.resources.errors import MarketsyncError
    from marketsync.resources.warehouse import Warehouse
    from marketsync.sandbox.feeds.generators import source_format

    warehouse = Warehouse(database_url=database_url)
    with warehouse.begin() as conn:
        upsert_account(conn, store, "feed")
        try:
            source = get_source(conn, store, name)
        except MarketsyncError:
            source = add_source(conn, store, name, "pull_feed", source_format(fmt), None, json.loads(mapping_json))
    result = load_feed(warehouse.engine, source, path)
    return {"rows": result.rows_read, "seconds": result.seconds, "inserted": result.inserted,
            "updated": result.updated, "unchanged": result.rows_unchanged, "quarantined": result.rows_quarantined,
            "status": result.status, "timings": result.timings, "parse_workers": result.parse_workers,
            "peak_rss_mb": _peak_rss_mb()}


def dlt_once(database_url: str, dataset: str, path: str, pipelines_dir: str) -> dict:
    """One measured dlt load of the CSV feed: the rows as dicts, merged on external_id."""
    import csv

    import dlt

    def rows():
        with open(path, newline="", encoding="utf-8-sig") as handle:
            for record in csv.DictReader(handle):
                record["external_id"] = record.pop("id")
                yield record

    resource_ = dlt.resource(rows(), name="products", write_disposition="merge", primary_key="external_id")
    pipeline = dlt.pipeline(pipeline_name=f"feeds_{dataset}", pipelines_dir=pipelines_dir,
                            destination=dlt.destinations.postgres(credentials=_dlt_credentials(database_url)),
                            dataset_name=dataset, progress="log" if os.environ.get("BENCH_DLT_PROGRESS") else None)
    started = time.perf_counter()
    pipeline.run(resource_)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_rss_mb": _peak_rss_mb()}


def _dlt_credentials(database_url: str) -> dict:
    """dlt wants a host; the embedded server listens on a Unix socket, named by the URL's ?host=."""
    from sqlalchemy.engine import make_url

    from marketsync.resources.database import libpq_url

    url = make_url(libpq_url(database_url))
    credentials = {"database": url.database, "username": url.username or "postgres",
                   "password": url.password or "", "host": url.host or "localhost", "port": url.port or 5432}
    if url.query.get("host"):  # a socket directory: libpq takes it from the query string
        credentials["query"] = {"host": url.query["host"]}
    return credentials


def _child(function: str, *args: str) -> dict:
    repo = Path(__file__).resolve().parents[1]
    code = (f"import json, sys; from benchmarks.feeds import {function}; "
            f"print(json.dumps({function}(*sys.argv[1:])))")
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=repo, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{function} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the benchmark

def main() -> None:
    from benchmarks.common import prepare_bench_environment
    from marketsync.resources import migrations
    from marketsync.resources.database import drop_database, ensure_database
    from marketsync.sandbox.feeds.generators import count_changed, generate, mutate

    prepare_bench_environment()
    server = os.environ["DATABASE_URL"]
    database_url = ensure_database(server, f"marketsync_bench_feeds_{os.getpid()}")
    migrations.upgrade(database_url)
    figures: dict[str, dict] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for fmt in FORMATS:
                base = str(Path(tmp) / f"feed.{fmt}")
                # Successive supplier exports: each changes the same 1% of rows again (newer timestamps).
                rounds = [str(Path(tmp) / f"feed-changed-{k}.{fmt}") for k in range(1, REFRESHES + 1)]
                started = time.perf_counter()
                mapping = generate(fmt, base, ROWS, seed=SEED)
                if fmt == "shopify":
                    from marketsync.assets.feeds.presets import get_preset

                    mapping = get_preset("shopify-products")["mapping"]
                for k, path in enumerate(rounds, 1):
                    mutate(fmt, path, ROWS, CHANGED_SHARE, seed=SEED, change_round=k)
                generated = time.perf_counter() - started
                firsts, refreshes = [], []
                for _ in range(REPEATS):
                    store = f"bench-{uuid.uuid4().hex[:8]}"
                    firsts.append(_child("load_once", database_url, store, "supplier", fmt, base, json.dumps(mapping)))
                    for path in rounds:
                        refreshes.append(_child("load_once", database_url, store, "supplier", fmt, path,
                                                json.dumps(mapping)))
                figures[fmt] = {"first": firsts, "refresh": refreshes, "generated_seconds": generated,
                                "bytes": os.path.getsize(base), "expected_changed": count_changed(ROWS, CHANGED_SHARE)}
                if fmt == "csv" and WITH_DLT:
                    figures["dlt"] = _run_dlt(database_url, base, rounds[0], tmp)
                for path in (base, *rounds):
                    os.unlink(path)
    finally:
        drop_database(server, database_url)
    _print(figures)


def _run_dlt(database_url: str, base: str, changed: str, tmp: str) -> dict:
    try:
        import dlt  # noqa: F401
    except ImportError:
        return {"skipped": "dlt is not installed (pip install -e '.[bench]')"}
    firsts, refreshes = [], []
    for i in range(REPEATS):
        dataset = f"dlt_bench_{i}"
        pipelines_dir = str(Path(tmp) / f"dlt-{i}")
        firsts.append(_child("dlt_once", database_url, dataset, base, pipelines_dir))
        refreshes.append(_child("dlt_once", database_url, dataset, changed, pipelines_dir))
    return {"first": firsts, "refresh": refreshes}


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _print(figures: dict) -> None:
    print(f"feeds: {ROWS:,} items per feed, first load x{REPEATS}, then {REFRESHES} refreshes with "
          f"{CHANGED_SHARE:.0%} of rows changed each (medians); each load in a child process of its own")
    for fmt in FORMATS:
        f = figures[fmt]
        print(f"  {fmt.upper()} ({f['bytes'] / 1e6:,.0f} MB, generated in {f['generated_seconds']:.0f} s)")
        for kind in ("first", "refresh"):
            runs = f[kind]
            seconds = _median(runs, "seconds")
            rate = (ROWS if fmt == "shopify" else runs[0]["rows"]) / seconds
            target = TARGETS.get(fmt) if kind == "refresh" else None
            timings = {k: statistics.median(r["timings"].get(k, 0) for r in runs) for k in runs[0]["timings"]}
            spread = (f" (of {len(runs)}: {min(r['seconds'] for r in runs):.1f}"
                      f"-{max(r['seconds'] for r in runs):.1f} s)"
                      if len(runs) > 1 else "")
            print(f"    {kind + ' load' if kind == 'first' else 'refresh   '}: {seconds:7.1f} s"
                  f" = {rate:9,.0f} rows/s{spread}"
                  f"{f'   (target >= {target:,})' if target else ''}   peak RSS {_median(runs, 'peak_rss_mb'):.0f} MB"
                  f"   [{', '.join(f'{k} {v:.1f} s' for k, v in timings.items())}]"
                  f"   wrote {runs[0]['inserted'] + runs[0]['updated']:,} rows,"
                  f" {runs[0]['parse_workers']} parse worker(s)")
    if "shopify" in figures and "csv" in figures:
        print("  Shopify-style export against the plain CSV, rows of the file per second:")
        for kind in ("first", "refresh"):
            shopify = ROWS / _median(figures["shopify"][kind], "seconds")
            plain = figures["csv"][kind][0]["rows"] / _median(figures["csv"][kind], "seconds")
            print(f"    {kind + ' load' if kind == 'first' else 'refresh   '}: {shopify:9,.0f} vs {plain:9,.0f} rows/s"
                  f" = {shopify / plain:.2f}x   ({figures['shopify'][kind][0]['rows']:,} products and variants)")
    dlt = figures.get("dlt")
    if dlt and "skipped" in dlt:
        print(f"  dlt: skipped: {dlt['skipped']}")
    elif dlt:
        rows = figures["csv"]["first"][0]["rows"]
        print("  dlt, the same CSV (write_disposition='merge', primary key external_id), same Postgres:")
        for kind in ("first", "refresh"):
            seconds = _median(dlt[kind], "seconds")
            ours = _median(figures["csv"][kind], "seconds")
            print(f"    {kind + ' load' if kind == 'first' else 'refresh   '}: {seconds:7.1f} s"
                  f" = {rows / seconds:9,.0f} rows/s"
                  f"   peak RSS {_median(dlt[kind], 'peak_rss_mb'):.0f} MB"
                  f"   -> marketsync is {seconds / ours:.1f}x as fast")
    print("  (peak RSS target < 400 MB)")


if __name__ == "__main__":
    main()
