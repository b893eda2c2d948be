"""Run the eBay sandbox in the foreground.

    python -m sandbox.ebay --seed 42 --orders 5000 --skus 500 --port 8769 --client-id ID --client-secret SECRET

It prints the refresh token of a fresh consent: enter it as the eBay account's refresh token, with every
API (and the token endpoint, /identity/v1/oauth2/token) at http://127.0.0.1:8769. The admin routes live
under /_sandbox/ (see sandbox/ebay/README.md).
"""

import argparse

import uvicorn

from .app import create_app
from .state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TOKEN_TTL, DEFAULT_USER, EbayState


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.ebay",
                                     description="Serve seeded eBay Sell Fulfillment and Inventory APIs and "
                                                 "their OAuth endpoint on loopback.")
    parser.add_argument("--seed", type=int, default=42, help="data seed (default 42)")
    parser.add_argument("--orders", type=int, default=5000, help="seeded orders (default 5000)")
    parser.add_argument("--skus", type=int, default=500, help="seeded SKUs, one published offer each (default 500)")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8769, help="port (default 8769)")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument("--user", default=DEFAULT_USER, help="the seller's eBay user")
    parser.add_argument("--marketplace", default="EBAY_DE", help="marketplace of the seeded offers (default EBAY_DE)")
    parser.add_argument("--token-ttl", type=float, default=DEFAULT_TOKEN_TTL,
                        help=f"access token lifetime in seconds (default {DEFAULT_TOKEN_TTL:g})")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)

    state = EbayState(args.seed, args.orders, args.skus, clients={args.client_id: args.client_secret},
                      token_ttl=args.token_ttl, marketplace_id=args.marketplace)
    consent = state.grant(args.user, client_id=args.client_id)
    print(f"eBay sandbox: http://{args.host}:{args.port} (seed {args.seed}, {state.order_count} orders, "
          f"{state.sku_count} SKUs on {args.marketplace}, client id {args.client_id!r}, token endpoint "
          f"/identity/v1/oauth2/token, admin at /_sandbox/)", flush=True)
    print(f"refresh token of {args.user!r} (valid 18 months, not rotated): {consent['refresh_token']}", flush=True)
    uvicorn.run(create_app(state), host=args.host, port=args.port, log_level=args.log_level, lifespan="off")


if __name__ == "__main__":
    main()
