"""How fast the Letzshop sandbox serves orders, so importer benchmarks measure the importer.

    python -m sandbox.letzshop.bench [--size 10000] [--page 250] [--subprocess]

Reports data generation time, the in-process cost of one page (execution and JSON),
and an end-to-end paged read of every shipment over HTTP with httpx, using the field
set real integrations request. ``--subprocess`` serves from a separate process, as a
real API would be; otherwise the server shares the client's process (and its GIL).
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time

import httpx
from graphql import parse

from ..http import serve_in_thread
from .app import create_app
from .data import generate_catalog, generate_shipments
from .executor import QueryExecutor
from .queries import PAGE_QUERY
from .schema import build
from .state import LetzshopState

KEY = "bench-key"


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _one_page(base_url: str, page: int, repeat: int = 20) -> float:
    """Median time for the first page over HTTP, response read but not decoded."""
    body = {"query": PAGE_QUERY, "operationName": "Page", "variables": {"state": "unconfirmed", "first": page}}
    times = []
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30) as client:
        for _ in range(repeat):
            started = time.perf_counter()
            client.post("/graphql", json=body).read()
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def _read_all(base_url: str, page: int) -> tuple[int, int, list[float], float]:
    shipments = units = 0
    page_times = []
    started = time.perf_counter()
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30) as client:
        after = None
        while True:
            t0 = time.perf_counter()
            response = client.post("/graphql", json={"query": PAGE_QUERY, "operationName": "Page",
                                                     "variables": {"state": "unconfirmed", "first": page,
                                                                   "after": after}})
            result = response.json()["data"]["shipments"]
            page_times.append(time.perf_counter() - t0)
            shipments += len(result["nodes"])
            units += sum(len(n["inventoryUnits"]) for n in result["nodes"])
            if not result["pageInfo"]["hasNextPage"]:
                break
            after = result["pageInfo"]["endCursor"]
    return shipments, units, page_times, time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.letzshop.bench")
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--page", type=int, default=250)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--subprocess", action="store_true")
    args = parser.parse_args(argv)

    print(f"generate_shipments({args.size}): {_best(lambda: generate_shipments(args.seed, args.size), 3):.3f} s")
    print(f"generate_catalog(100000): {_best(lambda: generate_catalog(args.seed, 100_000), 3):.3f} s")

    state = LetzshopState(args.seed, args.size, api_keys=[KEY])
    executor, document, plans = QueryExecutor(build()), parse(PAGE_QUERY), {}
    variables = {"state": "unconfirmed", "first": args.page}
    result = executor.execute(document, state, None, variables, plans=plans)
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)
    fast = _best(lambda: executor.execute(document, state, None, variables, plans=plans), 10)
    encode = _best(lambda: encoder.encode(result).encode(), 10)
    core = _best(lambda: executor.reference(document, state, None, variables), 2)
    print(f"one page of {args.page}: fast executor {fast * 1e3:.1f} ms, JSON {encode * 1e3:.1f} ms "
          f"({len(encoder.encode(result).encode()) // 1024} KiB); graphql-core executor {core * 1e3:.1f} ms")

    if args.subprocess:
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "marketsync.sandbox.letzshop", "--seed", str(args.seed), "--size", str(args.size),
             "--port", str(port), "--api-key", KEY, "--log-level", "warning"], stdout=subprocess.DEVNULL)
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{base_url}/_sandbox/stats", timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            one = _one_page(base_url, args.page)
            shipments, units, page_times, total = _read_all(base_url, args.page)
        finally:
            process.terminate()
            process.wait(10)
    else:
        with serve_in_thread(create_app(state)) as server:
            one = _one_page(server.base_url, args.page)
            shipments, units, page_times, total = _read_all(server.base_url, args.page)
    where = "separate process" if args.subprocess else "same process"
    print(f"HTTP ({where}): one page of {args.page}, response read but not decoded: median {one * 1e3:.1f} ms")
    print(f"HTTP ({where}): {shipments} shipments, {units} units in {len(page_times)} pages, "
          f"{total:.2f} s = {units / total:,.0f} units/s; page incl. client JSON decoding: median "
          f"{statistics.median(page_times) * 1e3:.1f} ms, max {max(page_times) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
