"""Run the Amazon SP-API sandbox in the foreground.

    python -m sandbox.amazon --seed 42 --size 5000 --port 8768 --client-id ID --client-secret SECRET

It prints a refresh token of a fresh authorisation: enter it (with the client id and secret) as the
account's LWA credentials, with the LWA endpoint at http://127.0.0.1:8768/auth/o2/token and the SP-API
endpoint at http://127.0.0.1:8768. `--vectors DIR` loads the static sandbox's request/response pairs
(`*.sandbox.json`), served under http://127.0.0.1:8768/static-sandbox. The admin endpoints live under
/_sandbox/ (see ``sandbox.amazon.app``).
"""

import argparse

import uvicorn

from .app import create_app
from .data import DEFAULT_SELLER_ID
from .state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TOKEN_TTL, AmazonState


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.amazon",
                                     description="Serve a seeded Amazon SP-API selling partner and its LWA "
                                                 "endpoint on loopback.")
    parser.add_argument("--seed", type=int, default=42, help="data seed (default 42)")
    parser.add_argument("--size", type=int, default=1000, help="seeded orders (default 1000)")
    parser.add_argument("--catalog-size", type=int, default=None, help="SKUs (default: size / 20, 100 to 5000)")
    parser.add_argument("--history-days", type=float, default=30.0, help="days the seeded orders span (default 30)")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8768, help="port (default 8768)")
    parser.add_argument("--seller-id", default=DEFAULT_SELLER_ID)
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument("--token-ttl", type=float, default=DEFAULT_TOKEN_TTL,
                        help=f"access token lifetime in seconds (default {DEFAULT_TOKEN_TTL:g})")
    parser.add_argument("--rate-scale", type=float, default=1.0,
                        help="multiply every documented rate (default 1: Amazon's usage plans)")
    parser.add_argument("--no-rate-limits", action="store_true", help="never throttle")
    parser.add_argument("--retry-after", action="store_true", help="send Retry-After with throttled answers")
    parser.add_argument("--gzip-reports", action="store_true", help="compress processing reports (GZIP)")
    parser.add_argument("--vectors", metavar="DIR", help="static sandbox vectors (*.sandbox.json) to serve")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)

    state = AmazonState(args.seed, args.size, catalog_size=args.catalog_size, history_days=args.history_days,
                        seller_id=args.seller_id, clients={args.client_id: args.client_secret},
                        token_ttl=args.token_ttl, rate_limits=not args.no_rate_limits, rate_scale=args.rate_scale,
                        retry_after=args.retry_after, report_compression="GZIP" if args.gzip_reports else None,
                        vectors=args.vectors)
    refresh_token = state.authorize()
    print(f"Amazon SP-API sandbox: http://{args.host}:{args.port} (seed {args.seed}, {state.order_count} orders, "
          f"{state.catalog_size} SKUs, seller {state.seller_id}, client id {args.client_id!r}, "
          f"LWA at /auth/o2/token, {len(state.vectors)} static vectors at /static-sandbox, admin at /_sandbox/)",
          flush=True)
    print(f"refresh token of a fresh authorisation: {refresh_token}", flush=True)
    uvicorn.run(create_app(state), host=args.host, port=args.port, log_level=args.log_level, lifespan="off")


if __name__ == "__main__":
    main()
