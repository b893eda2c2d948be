"""Run the Letzshop sandbox in the foreground.

    python -m sandbox.letzshop --seed 42 --size 200 --port 8765 --api-key KEY

Point the importer at http://127.0.0.1:8765/graphql with that key; the admin
endpoints live under http://127.0.0.1:8765/_sandbox/ (see ``sandbox.letzshop.app``).
``--catalog-csv PATH`` also writes the merchant's catalog for the same scenario, and
``--figures`` prints the figures a correct sync must report, then exits.
"""

from __future__ import annotations

import argparse
import json

import uvicorn

from .app import create_app
from .data import expected_figures, write_catalog_csv
from .state import DEFAULT_API_KEY, LetzshopState


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.letzshop",
                                     description="Serve a seeded Letzshop seller API on loopback.")
    parser.add_argument("--seed", type=int, default=42, help="data seed (default 42)")
    parser.add_argument("--size", type=int, default=200, help="number of shipments (default 200)")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    parser.add_argument("--api-key", action="append", dest="api_keys",
                        help=f"accepted Bearer key; repeatable (default {DEFAULT_API_KEY!r})")
    parser.add_argument("--catalog-size", type=int, default=None,
                        help="variants in the shop's pool (default: twice the size, at least 50)")
    parser.add_argument("--history-rate", type=float, default=0.0,
                        help="share of shipments already confirmed/declined (default 0)")
    parser.add_argument("--hide-tracking", action="store_true",
                        help="do not read tracking back, as integrators report of the real API")
    parser.add_argument("--catalog-csv", metavar="PATH",
                        help="write the merchant catalog CSV (sku,gtin,title) for this scenario")
    parser.add_argument("--figures", action="store_true",
                        help="print the expected figures of this scenario as JSON and exit")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)

    scenario = {"catalog_size": args.catalog_size}
    if args.catalog_csv:
        rows = write_catalog_csv(args.catalog_csv, args.seed, args.size, **scenario)
        print(f"wrote {rows} catalog rows to {args.catalog_csv}", flush=True)
    if args.figures:
        figures = expected_figures(args.seed, args.size, history_rate=args.history_rate, **scenario)
        print(json.dumps(figures.as_dict(), indent=2, ensure_ascii=False))
        return

    state = LetzshopState(args.seed, args.size, api_keys=args.api_keys or (DEFAULT_API_KEY,),
                          catalog_size=args.catalog_size, history_rate=args.history_rate,
                          echo_tracking=not args.hide_tracking, freeze_gc=True)
    print(f"Letzshop sandbox: http://{args.host}:{args.port}/graphql "
          f"(seed {args.seed}, {len(state.shipments)} shipments, admin at /_sandbox/)", flush=True)
    uvicorn.run(create_app(state), host=args.host, port=args.port, log_level=args.log_level,
                lifespan="off")


if __name__ == "__main__":
    main()
