"""Run the JTL-FFN sandbox in the foreground.

    python -m sandbox.jtl_ffn --seed 42 --size 5000 --port 8767 --client-id ID --client-secret SECRET

It prints a refresh token of a fresh authorisation: enter it as the account's first refresh token
(`{"refresh_token": "..."}`), with the API at http://127.0.0.1:8767 and the token endpoint at
http://127.0.0.1:8767/token. The admin endpoints live under /_sandbox/ (see ``sandbox.jtl_ffn.app``).
"""

from __future__ import annotations

import argparse

import uvicorn

from .app import create_app
from .state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TOKEN_TTL, MAX_TOP, JtlFfnState


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.jtl_ffn",
                                     description="Serve a seeded JTL-FFN Merchant API and its OAuth endpoint "
                                                 "on loopback.")
    parser.add_argument("--seed", type=int, default=42, help="data seed (default 42)")
    parser.add_argument("--size", type=int, default=1000, help="products (jfskus) of the merchant (default 1000)")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8767, help="port (default 8767)")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument("--token-ttl", type=float, default=DEFAULT_TOKEN_TTL,
                        help=f"access token lifetime in seconds (default {DEFAULT_TOKEN_TTL:g})")
    parser.add_argument("--max-top", type=int, default=MAX_TOP, help=f"largest $top accepted (default {MAX_TOP})")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)

    state = JtlFfnState(args.seed, args.size, clients={args.client_id: args.client_secret},
                        token_ttl=args.token_ttl, max_top=args.max_top)
    first = state.grant(args.client_id)
    print(f"JTL-FFN sandbox: http://{args.host}:{args.port} (seed {args.seed}, {args.size} products, "
          f"{len(state.inbounds)} inbounds, {len(state.outbounds)} outbounds, client id {args.client_id!r}, "
          f"token endpoint /token, admin at /_sandbox/)", flush=True)
    print(f"refresh token of a fresh authorisation (single use): {first['refresh_token']}", flush=True)
    uvicorn.run(create_app(state), host=args.host, port=args.port, log_level=args.log_level, lifespan="off")


if __name__ == "__main__":
    main()
