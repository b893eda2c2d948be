"""Run the CodesWholesale sandbox in the foreground.

    python -m sandbox.codeswholesale --seed 42 --size 5000 --port 8766 \
        --client-id ID --client-secret SECRET

Point the importer at http://127.0.0.1:8766 with those client credentials; the admin endpoints
live under http://127.0.0.1:8766/_sandbox/ (see ``sandbox.codeswholesale.app``).
"""

from __future__ import annotations

import argparse

import uvicorn

from .app import create_app
from .data import Anomalies
from .state import (
    DEFAULT_BALANCE,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PAGE_SIZE,
    DEFAULT_TOKEN_TTL,
    CodesWholesaleState,
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.codeswholesale",
                                     description="Serve a seeded CodesWholesale v3 API on loopback.")
    parser.add_argument("--seed", type=int, default=42, help="data seed (default 42)")
    parser.add_argument("--size", type=int, default=1000, help="products in the price list (default 1000)")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8766, help="port (default 8766)")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE,
                        help=f"products per answer (default {DEFAULT_PAGE_SIZE})")
    parser.add_argument("--token-ttl", type=float, default=DEFAULT_TOKEN_TTL,
                        help=f"access token lifetime in seconds (default {DEFAULT_TOKEN_TTL:g})")
    parser.add_argument("--malformed-rate", type=float, default=0.0,
                        help="share of records the importer must refuse (default 0)")
    parser.add_argument("--balance", type=float, default=DEFAULT_BALANCE,
                        help=f"money on the account for orders (default {DEFAULT_BALANCE:g})")
    parser.add_argument("--codes-after-reads", type=int, default=0,
                        help="reads an order stays Fulfilling before its codes show (default 0)")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)

    state = CodesWholesaleState(args.seed, args.size, clients={args.client_id: args.client_secret},
                                page_size=args.page_size, token_ttl=args.token_ttl,
                                anomalies=Anomalies(malformed=args.malformed_rate), balance=args.balance,
                                codes_after_reads=args.codes_after_reads)
    print(f"CodesWholesale sandbox: http://{args.host}:{args.port} (seed {args.seed}, {args.size} products, "
          f"client id {args.client_id!r}, admin at /_sandbox/)", flush=True)
    uvicorn.run(create_app(state), host=args.host, port=args.port, log_level=args.log_level, lifespan="off")


if __name__ == "__main__":
    main()
