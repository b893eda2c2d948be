"""The demo store's world: every simulator `make demo` uses, on fixed loopback ports, and what `make dev`
needs to serve the same world to the Dagster webserver and daemon.

`make demo` stores the demo store's accounts with these simulators' URLs; `make dev` serves the same
simulators on the same ports (same seeds), hands their fresh in-memory states the credentials the
accounts need (new refresh tokens, the control sheet under its stored id) and gives the Dagster
processes the application clients' settings (client ids and secrets, token and Sheets URLs), so that
every sensor and schedule finds a working channel behind every account the demo configured.
"""
from __future__ import annotations

import contextlib
import os
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text

from marketsync.assets.accounts import list_accounts, upsert_account
from marketsync.assets.jtl_ffn.outbound import OPERATION
from marketsync.pipelines.demo_sheet import restore_control_sheet
from marketsync.pipelines.ops_app.server import DEFAULT_PORT as SERVE_PORT
from marketsync.pipelines.ops_app.server import create_app as create_serve_app
from marketsync.pipelines.ops_app.tokens import TokenRefused, create_token, verify_token
from marketsync.pipelines.push_intake.app import create_push_app
from marketsync.resources.database import marketsync_home
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.jtl_ffn import store_refresh_token
from marketsync.resources.sql_files import query_beside
from marketsync.sandbox.amazon import AmazonState
from marketsync.sandbox.amazon import create_app as create_amazon_app
from marketsync.sandbox.codeswholesale.app import create_app as create_cws_app
from marketsync.sandbox.codeswholesale.state import CodesWholesaleState
from marketsync.sandbox.ebay.app import create_app as create_ebay_app
from marketsync.sandbox.ebay.state import EbayState
from marketsync.sandbox.feeds.ftp_server import serve_ftp
from marketsync.sandbox.feeds.generators import generate
from marketsync.sandbox.feeds.http_server import create_app as create_feed_server
from marketsync.sandbox.google_sheets.app import create_app as create_sheets_app
from marketsync.sandbox.google_sheets.state import GoogleSheetsState
from marketsync.sandbox.http import serve_in_thread
from marketsync.sandbox.jtl_ffn.app import create_app as create_ffn_app
from marketsync.sandbox.jtl_ffn.state import JtlFfnState
from marketsync.sandbox.letzshop.app import create_app as create_letzshop_app
from marketsync.sandbox.letzshop.product_feed import ProductFeedState, create_feed_app
from marketsync.sandbox.letzshop.state import LetzshopState
from marketsync.sandbox.smtp import SmtpServer
from marketsync.sandbox.webhook import WebhookReceiver

# One loopback port per simulator, at these offsets from the base port (MARKETSYNC_SANDBOX_PORT, 8765):
# 8765-8776. A base of 0 serves each on any free port (the tests' demo).
SERVICES = ("letzshop", "letzshop_feed", "codeswholesale", "feeds_http", "feeds_ftp", "amazon", "ebay", "jtl_ffn",
            "google_sheets", "push_intake", "smtp", "webhook")
DEFAULT_BASE_PORT = int(os.environ.get("MARKETSYNC_SANDBOX_PORT", "8765"))

# The application clients the simulators accept (the demo's own, never real ones).
CHANNEL_CLIENT = ("marketsync-demo", "demo-channel-client-secret")  # Amazon LWA and eBay OAuth
FFN_CLIENT = ("marketsync-demo", "demo-ffn-client-secret")
SHEETS_TOKEN = "sandbox-demo-sheets-token"  # noqa: S105 - the sheets simulator's demo token, never a real one
SANDBOX_KEY = "sandbox-demo-key"
FEED_AUTH = ("demo", "feed-pass")  # the dropshipper's HTTP basic auth
FTP_AUTH = ("supplier", "ftp-pass")
WEBHOOK_SECRET = "demo-webhook-signing-secret"  # noqa: S105 - the sandbox receiver's, never a real one


def port_of(service: str, base: int) -> int:
    """The simulator's port: fixed, so the accounts `make demo` stores keep working under `make dev`."""
    return 0 if base == 0 else base + SERVICES.index(service)


def run_statements(conn, script: str, params: dict) -> None:
    """Run the statements of a .sql script one by one, each with `params` (a statement with parameters
    is sent alone). In the script, every statement ends with ';' at the end of a line."""
    for statement in script.split(";\n"):
        if any(line.strip() and not line.lstrip().startswith("--") for line in statement.splitlines()):
            conn.execute(text(statement), params)


def serve(app, service: str, base: int):
    """Serve a simulator's ASGI app on its port, or say which port is taken."""

    try:
        return serve_in_thread(app, port=port_of(service, base))
    except OSError as exc:
        raise _port_taken(service, base, exc) from None


def serve_ftp_feeds(root: Path, base: int):

    try:
        return serve_ftp(root, *FTP_AUTH, port=port_of("feeds_ftp", base))
    except OSError as exc:
        raise _port_taken("feeds_ftp", base, exc) from None


def serve_smtp(base: int, folder: Path | None = None) -> SmtpServer:
    """The local SMTP server that receives the buyers' e-mails (kept in `folder` as .eml files)."""
    try:
        return SmtpServer(port_of("smtp", base), folder)
    except OSError as exc:
        raise _port_taken("smtp", base, exc) from None


def serve_webhook(base: int) -> WebhookReceiver:
    """The store's webhook receiver (alerts and new-order notices, signed with WEBHOOK_SECRET)."""
    try:
        return WebhookReceiver(WEBHOOK_SECRET, port_of("webhook", base))
    except OSError as exc:
        raise _port_taken("webhook", base, exc) from None


def mail_folder() -> Path:
    """Where the local SMTP server keeps the e-mails the demo's buyers received, one .eml file each."""
    return marketsync_home() / "demo" / "mail"


def _port_taken(service: str, base: int, exc: OSError) -> MarketsyncError:
    return MarketsyncError(
        f"cannot start the {service} simulator on port {port_of(service, base)} ({exc.strerror}); the demo's "
        f"simulators use ports {base}-{base + len(SERVICES) - 1}: set MARKETSYNC_SANDBOX_PORT to the first of "
        f"{len(SERVICES)} free ports")


def feeds_folder() -> Path:
    """Where the supplier feeds' files live, kept between runs so `make dev` serves what the demo read."""
    return marketsync_home() / "demo" / "feeds"


SHOPIFY_EXPORT = "shopify-export.csv"


def write_supplier_feeds(root: Path) -> dict[str, dict]:
    """The dropshipper's CSV, the supplier's XML and a supplier's own Shopify product export (seeded: the
    same files every time); the mappings of the first two (the export is read by its preset)."""

    root.mkdir(parents=True, exist_ok=True)
    generate("shopify", root / SHOPIFY_EXPORT, 300, seed=9, bad_share=0.01, encoding="utf-8-sig")
    return {"dropship": generate("csv", root / "dropship.csv", 2000, seed=7, bad_share=0.01, encoding="utf-8-sig"),
            "supplier-xml": generate("xml", root / "supplier.xml", 1000, seed=8)}


def ffn_state(conn, store: str, seed: int):
    """The JTL-FFN warehouse: 2,000 products, the SKUs of the store's Letzshop orders among them."""

    state = JtlFfnState(seed=seed, size=2000, clients=dict([FFN_CLIENT]))
    skus = conn.execute(query_beside(__file__, "demo_letzshop_order_skus.sql"), {"c": store}).scalars().all()
    for index, sku in enumerate(skus):
        state.assign_merchant_sku(index, sku)
    return state, len(skus)


def replay_outbounds(conn, state, account_id: int) -> int:
    """`make dev`: the orders the demo handed to the warehouse, created again in a fresh FFN simulator in
    the order they were sent (its outbound ids are numbered by creation, so they come out the same),
    so the hourly shipments sync finds every outbound the warehouse holds. Returns how many differ."""

    sent = conn.execute(query_beside(__file__, "demo_sent_outbounds.sql"), {"a": account_id, "op": OPERATION}).all()
    return sum(state.create_outbound(payload)["outboundId"] != outbound_id for payload, outbound_id in sent)


def amazon_state(seed: int, rate_scale: float = 1.0):

    return AmazonState(seed=seed, size=40, catalog_size=30, rate_scale=rate_scale, clients=dict([CHANNEL_CLIENT]))


def ebay_state(seed: int):

    return EbayState(seed=seed, orders=40, skus=30, clients=dict([CHANNEL_CLIENT]))


def dagster_environment(urls: dict[str, str]) -> dict[str, str]:
    """What the Dagster processes read to build the channel clients (pipelines/definitions.py), pointed at
    the simulators: without these the demo store's Amazon, eBay, JTL-FFN and inbound check runs fail."""
    return {
        "AMAZON_LWA_CLIENT_ID": CHANNEL_CLIENT[0], "AMAZON_LWA_CLIENT_SECRET": CHANNEL_CLIENT[1],
        "EBAY_CLIENT_ID": CHANNEL_CLIENT[0], "EBAY_CLIENT_SECRET": CHANNEL_CLIENT[1],
        "JTL_FFN_CLIENT_ID": FFN_CLIENT[0], "JTL_FFN_CLIENT_SECRET": FFN_CLIENT[1],
        "MARKETSYNC_FFN_TOKEN_URL": f"{urls['jtl_ffn']}/token",
        "MARKETSYNC_SHEETS_URL": urls["google_sheets"], "MARKETSYNC_SHEETS_TOKEN": SHEETS_TOKEN,
    }


@contextlib.contextmanager
def dev_world(rt, store: str, base: int = DEFAULT_BASE_PORT, seed: int = 42, size: int = 40
              ) -> Iterator[dict[str, str]]:
    """Serve every simulator of the demo store's world on its port until the block ends; yields the
    environment the Dagster processes need. The store's accounts get fresh credentials from the new
    simulator states (their tokens live in memory only); a Letzshop account is created if none exists."""

    write_supplier_feeds(feeds_folder())
    with rt.warehouse.begin() as conn:
        ffn, _skus = ffn_state(conn, store, seed)
    zon, bay, sheets = amazon_state(seed), ebay_state(seed), GoogleSheetsState()
    apps = {
        "letzshop": create_letzshop_app(LetzshopState(seed=seed, size=size, api_keys=(SANDBOX_KEY,))),
        "letzshop_feed": create_feed_app(ProductFeedState(seed=seed, size=300)),
        "codeswholesale": create_cws_app(CodesWholesaleState(seed=seed, size=500)),
        "feeds_http": create_feed_server(feeds_folder(), auth=FEED_AUTH),
        "amazon": create_amazon_app(zon), "ebay": create_ebay_app(bay), "jtl_ffn": create_ffn_app(ffn),
        "google_sheets": create_sheets_app(sheets),
        "push_intake": create_push_app(rt.warehouse.engine, rt.vault),
    }
    servers = []
    try:
        for name, app in apps.items():
            servers.append(serve(app, name, base))
        servers.append(serve_ftp_feeds(feeds_folder(), base))
        urls = {name: server.base_url for name, server in zip(apps, servers, strict=False)}
        urls["feeds_ftp"] = servers[-1].url("")
        servers.append(serve_smtp(base, mail_folder()))
        urls["smtp"] = servers[-1].endpoint
        servers.append(serve_webhook(base))
        urls["webhook"] = servers[-1].url
        with rt.warehouse.begin() as conn:
            letzshop = upsert_account(conn, store, "letzshop", f"{urls['letzshop']}/graphql")
            rt.vault.store(conn, letzshop.account_id, {"api_key": SANDBOX_KEY})
            accounts = {account.channel: account.account_id for account in list_accounts(conn, store=store)}
            if "email" in accounts:  # the local SMTP server of this base port
                upsert_account(conn, store, "email", urls["smtp"])
            if "webhook" in accounts:
                upsert_account(conn, store, "webhook", urls["webhook"])
                rt.vault.store(conn, accounts["webhook"], {"secret": WEBHOOK_SECRET})
            if "amazon" in accounts:
                upsert_account(conn, store, "amazon", urls["amazon"])
                rt.vault.store(conn, accounts["amazon"], {"refresh_token": zon.authorize()})
            if "ebay" in accounts:
                upsert_account(conn, store, "ebay", urls["ebay"])
                rt.vault.store(conn, accounts["ebay"], {"refresh_token": bay.grant()["refresh_token"]})
            if "jtl_ffn" in accounts:
                upsert_account(conn, store, "jtl_ffn", urls["jtl_ffn"])
                store_refresh_token(conn, rt.vault, accounts["jtl_ffn"], ffn.grant(FFN_CLIENT[0])["refresh_token"])
                differ = replay_outbounds(conn, ffn, accounts["jtl_ffn"])
                if differ:
                    # Outbounds sent to an earlier simulator that did not replay them: numbered differently.
                    warnings.warn(f"{differ} outbound(s) of the demo store are unknown to the JTL-FFN simulator: "
                                  "run `make demo` again for a consistent world", stacklevel=2)
                restore_control_sheet(conn, store, accounts["jtl_ffn"], sheets)
        yield {"urls": urls, "env": dagster_environment(urls)}
    finally:
        _stop_all(servers)


# `make dev` serves `marketsync serve`'s app (the status page, /metrics, the health endpoints, the push
# intake) on its own default port, outside the simulators' range, with a token kept in the demo's home.
STATUS_PORT = int(os.environ.get("MARKETSYNC_STATUS_PORT", str(SERVE_PORT)))
DEV_TOKEN_NAME = "make-dev"  # noqa: S105 - the development token's name, not a secret


def dev_token(rt) -> str:
    """The development token of `make dev` (every store), kept in the demo's home (mode 0600) and made
    again when missing or no longer valid."""
    path = marketsync_home() / "demo" / "status-token"
    with rt.warehouse.begin() as conn:
        if path.exists():
            try:
                verify_token(conn, path.read_text().strip())
                return path.read_text().strip()
            except TokenRefused:
                pass
        conn.execute(text("DELETE FROM ops.api_tokens WHERE name = :n"), {"n": DEV_TOKEN_NAME})
        token, _ = create_token(conn, DEV_TOKEN_NAME)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(token + "\n")
    return token


@contextlib.contextmanager
def serve_status(rt, env: dict[str, str], port: int = STATUS_PORT) -> Iterator[tuple[str, str]]:
    """`make dev`: the app of `marketsync serve` on `port` until the block ends; yields (its URL, the
    development token). `env`: the channel clients' settings, which its health checks read too."""
    os.environ.update(env)  # this process is make dev's own: its live calls reach the simulators
    token = dev_token(rt)
    try:
        server = serve_in_thread(create_serve_app(rt.warehouse.engine, rt.vault), port=port)
    except OSError as exc:
        raise MarketsyncError(f"cannot serve the status page on port {port} ({exc.strerror}): set "
                              "MARKETSYNC_STATUS_PORT to a free port") from None
    with server:
        yield server.base_url, token


def _stop_all(servers) -> None:
    """Stop the simulators side by side: each may wait a moment for its open connections."""
    threads = [threading.Thread(target=server.stop) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
