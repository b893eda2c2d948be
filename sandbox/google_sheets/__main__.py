"""Run the Google Sheets sandbox in the foreground, with the demo spreadsheet.

    python -m sandbox.google_sheets --port 8767 [--token TOKEN] [--read-quota 60] [--write-quota 60]

Point gspread (or GoogleSheetsResource with base_url=http://127.0.0.1:8767 and a bearer token) at it;
the admin endpoints live under http://127.0.0.1:8767/_sandbox/ (see ``sandbox.google_sheets.app``).
"""

from __future__ import annotations

import argparse

import uvicorn

from .app import create_app
from .demo import DEMO_WORKSHEET, seed_demo
from .state import DEFAULT_QUOTA, GoogleSheetsState


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.google_sheets",
                                     description="Serve a Google Sheets v4 API sandbox on loopback.")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8767, help="port (default 8767)")
    parser.add_argument("--token", action="append", default=None,
                        help="accepted bearer token (repeatable; default: any non-empty token)")
    parser.add_argument("--read-quota", type=int, default=DEFAULT_QUOTA, help="reads per window per token (60)")
    parser.add_argument("--write-quota", type=int, default=DEFAULT_QUOTA, help="writes per window per token (60)")
    parser.add_argument("--quota-window", type=float, default=60.0, help="quota window in seconds (60)")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)

    state = GoogleSheetsState(tokens=set(args.token) if args.token else None, read_quota=args.read_quota,
                              write_quota=args.write_quota, quota_window=args.quota_window)
    spreadsheet_id = seed_demo(state)
    print(f"Google Sheets sandbox: http://{args.host}:{args.port} (demo spreadsheet {spreadsheet_id}, "
          f"worksheet {DEMO_WORKSHEET!r}; admin at /_sandbox/)", flush=True)
    uvicorn.run(create_app(state), host=args.host, port=args.port, log_level=args.log_level, lifespan="off")


if __name__ == "__main__":
    main()
