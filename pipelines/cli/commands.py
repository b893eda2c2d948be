"""The commands. Each does its work through the same modules the Dagster assets and jobs use."""
from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import UTC
from pathlib import Path

import click
from sqlalchemy import text

from pipelines.cli.output import emit
from pipelines.cli.runtime import Runtime, resolved
from resources.errors import MarketsyncError

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
store_option = click.option("--store", default=None, help="Only this store.")


def _resolved(resource):
    """Kept for callers of the old name; see pipelines/cli/runtime.py."""
    return resolved(resource)


pass_runtime = click.make_pass_decorator(Runtime, ensure=True)


@click.group()
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def cli(debug: bool) -> None:
    """marketsync: multichannel commerce data in Postgres, run by Dagster."""


# ---------------------------------------------------------------- db
@cli.group()
def db() -> None:
    """The warehouse database."""


@db.command("upgrade")
@pass_runtime
def db_upgrade(rt: Runtime) -> None:
    """Apply schema migrations (safe to re-run)."""
    from resources import migrations
    from resources.database import masked_url

    migrations.upgrade(rt.database_url)
    click.echo(f"database at revision {migrations.current_revision(rt.database_url)} ({masked_url(rt.database_url)})")


@db.command("url")
@pass_runtime
def db_url(rt: Runtime) -> None:
    """Print the warehouse URL (password masked)."""
    from resources.database import masked_url

    click.echo(masked_url(rt.database_url))


# ---------------------------------------------------------------- accounts and credentials
@cli.group()
def account() -> None:
    """Store accounts per channel."""


@account.command("add")
@click.argument("store")
@click.argument("channel")
@click.option("--endpoint", default=None, help="API base URL (defaults to the channel's production URL).")
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE",
              help="A setting, e.g. sync_interval_minutes=30 or carrier_label_prefixes.dhl=https://...")
@json_option
@pass_runtime
def account_add(rt: Runtime, store: str, channel: str, endpoint: str | None, pairs: tuple[str, ...],
                as_json: bool) -> None:
    """Add a store's account on CHANNEL, or update its endpoint and settings."""
    from assets.accounts import parse_settings, upsert_account

    with rt.warehouse.begin() as conn:
        acct = upsert_account(conn, store, channel, endpoint, parse_settings(list(pairs)))
    emit(_account_row(acct), as_json)


def _account_row(acct) -> dict:
    return {"store": acct.store, "channel": acct.channel, "endpoint": acct.endpoint,
            "sync_interval_minutes": acct.sync_interval_minutes, "enabled": acct.enabled,
            "last_synced_at": acct.last_synced_at, "settings": acct.settings}


@account.command("list")
@json_option
@pass_runtime
def account_list(rt: Runtime, as_json: bool) -> None:
    """List accounts."""
    from assets.accounts import list_accounts

    with rt.warehouse.begin() as conn:
        rows = [_account_row(a) for a in list_accounts(conn)]
    emit(rows, as_json, ["store", "channel", "endpoint", "sync_interval_minutes", "enabled", "last_synced_at"])


@cli.group()
def credentials() -> None:
    """Encrypted channel credentials."""


@credentials.command("set")
@click.argument("store")
@click.argument("channel")
@pass_runtime
def credentials_set(rt: Runtime, store: str, channel: str) -> None:
    """Read a JSON object of secret fields from stdin (never from arguments), e.g. {"api_key": "..."}."""
    from assets.accounts import get_account

    fields = _secret_fields_from_stdin()
    with rt.warehouse.begin() as conn:
        acct = get_account(conn, store, channel)
        rt.vault.store(conn, acct.account_id, fields)
        masked = rt.vault.load(conn, acct.account_id).masked()
    click.echo(f"stored credentials for {store}/{channel}: " + ", ".join(f"{k}={v}" for k, v in masked.items()))


def _secret_fields_from_stdin() -> dict[str, str]:
    """Secrets come from stdin, never from arguments (which show in `ps` and shell history)."""
    try:
        fields = json.loads(sys.stdin.read())
    except ValueError:
        raise MarketsyncError("stdin must be a JSON object of secret fields, e.g. {\"api_key\": \"...\"}") from None
    if not isinstance(fields, dict) or not fields or not all(isinstance(v, str) and v for v in fields.values()):
        raise MarketsyncError("stdin must be a JSON object whose values are non-empty strings")
    if not all(v.isascii() and v.isprintable() for v in fields.values()):
        # They travel in HTTP headers and URLs, which carry printable ASCII only.
        raise MarketsyncError("secret values must be printable ASCII (check for pasted line breaks or quotes)")
    return fields


@credentials.command("show")
@click.argument("store")
@click.argument("channel")
@json_option
@pass_runtime
def credentials_show(rt: Runtime, store: str, channel: str, as_json: bool) -> None:
    """Show which secret fields are set, masked."""
    from assets.accounts import get_account

    with rt.warehouse.begin() as conn:
        acct = get_account(conn, store, channel)
        emit(rt.vault.load(conn, acct.account_id).masked(), as_json)


@credentials.command("new-key")
def credentials_new_key() -> None:
    """Print a new key for MARKETSYNC_SECRET_KEYS (put it first, keep the old keys after it, then rotate)."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode())


@credentials.command("rotate")
@pass_runtime
def credentials_rotate(rt: Runtime) -> None:
    """Re-encrypt every credential with the newest key in MARKETSYNC_SECRET_KEYS (resumable)."""
    count = rt.vault.rotate(rt.warehouse.engine)
    click.echo(f"re-encrypted {count} credential row(s) with key {rt.vault.primary_key_id}")


# Which channel each command speaks; a command names the others when asked for one it does not.
CONNECTION_CHANNELS = ("letzshop", "amazon", "ebay", "jtl_ffn", "codeswholesale")
ORDER_CHANNELS = ("letzshop", "amazon", "ebay")


def _supported(command: str, channel: str, channels: tuple[str, ...]) -> None:
    if channel not in channels:
        raise MarketsyncError(f"{command} does not support '{channel}': it supports {', '.join(channels)}")


@cli.command("test-connection")
@click.argument("store")
@click.argument("channel", metavar="CHANNEL")
@pass_runtime
def test_connection(rt: Runtime, store: str, channel: str) -> None:
    """Call CHANNEL (letzshop, amazon, ebay, jtl_ffn, codeswholesale) with STORE's stored credentials and
    report the response time."""
    import time

    _supported("test-connection", channel, CONNECTION_CHANNELS)
    if channel == "codeswholesale":
        from assets.codeswholesale.catalog import get_codeswholesale_source

        with rt.warehouse.begin() as conn:
            source = get_codeswholesale_source(conn, store)
            secrets = rt.vault.load_source(conn, source.source_id)
        if secrets is None:
            raise MarketsyncError(f"no client credentials stored for the CodesWholesale source of '{store}'")
        started = time.perf_counter()
        with rt.client("codeswholesale").session(source.base_url, secrets.reveal("client_id"),
                                                 secrets.reveal("client_secret")) as api:
            api.ping()
        click.echo(f"ok: {store}/{channel} answered in {(time.perf_counter() - started) * 1000:.0f} ms "
                   f"({source.base_url})")
        return
    from assets.accounts import get_account

    with rt.warehouse.begin() as conn:
        acct = get_account(conn, store, channel)
    started = time.perf_counter()
    detail = ""
    if channel == "jtl_ffn":
        from assets.jtl_ffn.assets import ffn_session

        with ffn_session(rt.warehouse, rt.vault, rt.client("jtl_ffn"), store) as (_account, api):
            detail = f", {api.test_connection()['warehouses']} warehouse(s)"
    elif channel == "letzshop":
        from assets.letzshop.connection import letzshop_session

        with letzshop_session(rt.warehouse, rt.vault, rt.letzshop, acct) as api:
            api.ping()
    else:
        _check_client(channel, rt.client(channel))
        # One page of the orders changed in the last hour: the token exchange and one authorised read.
        from datetime import datetime, timedelta

        since = datetime.now(UTC) - timedelta(hours=1)
        with rt.client(channel).session(rt.warehouse.engine, rt.vault, acct.account_id) as api:
            orders = (api.search_orders(last_updated_after=since) if channel == "amazon"
                      else api.orders_modified(since))
            next(iter(orders), None)
    click.echo(f"ok: {store}/{channel} answered in {(time.perf_counter() - started) * 1000:.0f} ms"
               f"{detail} ({acct.endpoint or 'production endpoint'})")


def _check_client(channel: str, client) -> None:
    """Amazon, eBay and JTL-FFN talk through the application's OAuth client, configured once per
    installation in the environment (never per store)."""
    from assets.channel_clients import not_configured

    if not getattr(client, "client_id", None) or not getattr(client, "client_secret", None):
        raise MarketsyncError(not_configured(channel))


# ---------------------------------------------------------------- sync
@cli.group()
def sync() -> None:
    """Run imports now, in-process, through the same Dagster assets the sensors launch."""


@sync.command("orders")
@click.argument("store")
@click.argument("channel", metavar="CHANNEL")
@click.option("--state", "states", multiple=True,
              help="Letzshop only: shipment state(s) to import (default: unconfirmed).")
@json_option
@pass_runtime
def sync_orders(rt: Runtime, store: str, channel: str, states: tuple[str, ...], as_json: bool) -> None:
    """Import STORE's orders from CHANNEL (letzshop, amazon, ebay), then match them and apply the
    auto-confirm rule."""
    from pipelines.run_in_process import run_order_sync

    _supported("order sync", channel, ORDER_CHANNELS)
    if states and channel != "letzshop":
        raise MarketsyncError(f"--state is a Letzshop shipment state; {channel} imports every order changed "
                              "since its last sync")
    from assets.accounts import get_account

    with rt.warehouse.begin() as conn:
        get_account(conn, store, channel)  # before a Dagster partition is made for it
    if channel != "letzshop":
        _check_client(channel, rt.client(channel))
    emit(run_order_sync(store, list(states) or ["unconfirmed"], channel=channel), as_json)


@sync.command("fulfillment")
@click.argument("store")
@json_option
@pass_runtime
def sync_fulfillment(rt: Runtime, store: str, as_json: bool) -> None:
    """Sync what JTL-FFN holds for STORE now (products, stock, inbounds), through its Dagster asset."""
    from assets.accounts import get_account
    from pipelines.run_in_process import run_fulfillment_sync

    with rt.warehouse.begin() as conn:
        get_account(conn, store, "jtl_ffn")
    _check_client("jtl_ffn", rt.client("jtl_ffn"))
    emit(run_fulfillment_sync(store), as_json)


# ---------------------------------------------------------------- products and exceptions
@cli.group()
def products() -> None:
    """The store catalog."""


@products.command("import")
@click.argument("store")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@pass_runtime
def products_import(rt: Runtime, store: str, file: Path, as_json: bool) -> None:
    """Load products from a CSV with header sku,gtin,title (other columns kept as attributes)."""
    from assets.accounts import store_id_for
    from assets.catalog.products import import_products_csv

    with rt.warehouse.begin() as conn:
        result = import_products_csv(conn, store_id_for(conn, store), file)
    row = {k: v for k, v in asdict(result).items() if k != "rejected"}
    row["rejected"] = len(result.rejected)
    if as_json:
        row["rejected_rows"] = [{"line": ln, "reason": reason} for ln, _, reason in result.rejected]
    emit(row, as_json)
    if not as_json:
        for line, _, reason in result.rejected[:20]:
            click.echo(f"  line {line}: {reason}")


@cli.group()
def exceptions() -> None:
    """Order lines that could not be matched to the catalog."""


@exceptions.command("list")
@store_option
@click.option("--status", default="pending", type=click.Choice(["pending", "resolved", "ignored", "all"]))
@click.option("--kind", default=None, type=click.Choice(["product_not_found", "gtin_mismatch", "duplicate_gtin"]))
@json_option
@pass_runtime
def exceptions_list(rt: Runtime, store: str | None, status: str, kind: str | None, as_json: bool) -> None:
    """List exceptions."""
    from assets.catalog.exceptions import list_exceptions

    with rt.warehouse.begin() as conn:
        rows = list_exceptions(conn, store, None if status == "all" else status, kind)
    emit(rows, as_json)


@exceptions.command("stats")
@store_option
@json_option
@pass_runtime
def exceptions_stats(rt: Runtime, store: str | None, as_json: bool) -> None:
    """Counts by kind and status."""
    from assets.catalog.exceptions import exception_stats

    with rt.warehouse.begin() as conn:
        emit(exception_stats(conn, store), as_json)


@exceptions.command("resolve")
@click.argument("exception_id", type=int)
@click.option("--product", "product_ref", required=True, help="SKU or id of the store product to assign.")
@json_option
@pass_runtime
def exceptions_resolve(rt: Runtime, exception_id: int, product_ref: str, as_json: bool) -> None:
    """Resolve one exception by assigning a product."""
    from assets.catalog.exceptions import resolve_exception

    with rt.warehouse.begin() as conn:
        emit(resolve_exception(conn, exception_id, product_ref, resolved_by="cli"), as_json)


@exceptions.command("bulk-resolve")
@click.option("--store", required=True)
@click.option("--gtin", required=True)
@click.option("--product", "product_ref", required=True, help="SKU or id of the store product to assign.")
@pass_runtime
def exceptions_bulk_resolve(rt: Runtime, store: str, gtin: str, product_ref: str) -> None:
    """Resolve every pending exception with this GTIN by assigning one product."""
    from assets.catalog.exceptions import bulk_resolve_by_gtin

    with rt.warehouse.begin() as conn:
        count = bulk_resolve_by_gtin(conn, store, gtin, product_ref, resolved_by="cli")
    click.echo(f"resolved {count} exception(s)")


@exceptions.command("ignore")
@click.argument("exception_id", type=int)
@click.option("--reason", required=True)
@json_option
@pass_runtime
def exceptions_ignore(rt: Runtime, exception_id: int, reason: str, as_json: bool) -> None:
    """Ignore an exception, with a reason. Ignored exceptions still block confirming the order."""
    from assets.catalog.exceptions import ignore_exception

    with rt.warehouse.begin() as conn:
        emit(ignore_exception(conn, exception_id, reason, resolved_by="cli"), as_json)


# ---------------------------------------------------------------- orders
@cli.group()
def orders() -> None:
    """Orders; ORDER is the marketplace order number (Letzshop R…), the shipment number, or our id."""


@orders.command("list")
@store_option
@click.option("--status", default=None, help="Local sync status, e.g. imported, confirmed, shipped.")
@click.option("--limit", default=50, show_default=True)
@json_option
@pass_runtime
def orders_list(rt: Runtime, store: str | None, status: str | None, limit: int, as_json: bool) -> None:
    """List orders, newest first."""
    with rt.warehouse.begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text(
            """SELECT order_id, store, channel, order_number, shipment_number, units, total, currency,
                      channel_state, sync_status, open_exceptions, ordered_at
               FROM analytics.orders
               WHERE (CAST(:store AS text) IS NULL OR store = :store)
                 AND (CAST(:status AS text) IS NULL OR sync_status = :status)
               ORDER BY ordered_at DESC NULLS LAST, order_id DESC LIMIT :limit"""),
            {"store": store, "status": status, "limit": limit})]
    emit(rows, as_json)


@orders.command("show")
@click.argument("order")
@store_option
@json_option
@pass_runtime
def orders_show(rt: Runtime, order: str, store: str | None, as_json: bool) -> None:
    """One order with its units and exceptions."""
    from assets.catalog.exceptions import blocking_exceptions
    from assets.orders.actions import find_order, order_units

    with rt.warehouse.begin() as conn:
        ref = find_order(conn, order, store)
        detail = dict(conn.execute(text("SELECT * FROM analytics.orders WHERE order_id = :o"),
                                   {"o": ref.order_id}).mappings().one())
        detail["units_detail"] = order_units(conn, ref.order_id)
        detail["blocking_exceptions"] = blocking_exceptions(conn, ref.order_id)
    if as_json:
        emit(detail, True)
        return
    units, blocking = detail.pop("units_detail"), detail.pop("blocking_exceptions")
    emit(detail, False)
    click.echo("\nunits:")
    emit(units, False)
    if blocking:
        click.echo("\nblocking exceptions:")
        emit(blocking, False)


def _queued(item, what: str) -> None:
    state = "queued" if item.created else f"already queued ({item.status})"
    click.echo(f"{what}: {state} as outbound {item.outbound_id}; `marketsync outbound run` sends it now")


@orders.command("confirm")
@click.argument("order")
@click.option("--unit", "units", multiple=True, help="Only these units (channel unit id or our item id).")
@store_option
@pass_runtime
def orders_confirm(rt: Runtime, order: str, units: tuple[str, ...], store: str | None) -> None:
    """Confirm all unconfirmed units, or the listed ones."""
    from assets.orders.actions import confirm_order, find_order

    with rt.warehouse.begin() as conn:
        ref = find_order(conn, order, store)
        _queued(confirm_order(conn, ref, list(units) or None), f"confirm {ref.label}")


@orders.command("reject")
@click.argument("order")
@click.option("--reason", required=True)
@click.option("--unit", "units", multiple=True, help="Only these units (channel unit id or our item id).")
@store_option
@pass_runtime
def orders_reject(rt: Runtime, order: str, reason: str, units: tuple[str, ...], store: str | None) -> None:
    """Reject (decline) all unconfirmed units, or the listed ones."""
    from assets.orders.actions import find_order, reject_order

    with rt.warehouse.begin() as conn:
        ref = find_order(conn, order, store)
        _queued(reject_order(conn, ref, reason, list(units) or None), f"reject {ref.label}")


@orders.command("tracking")
@click.argument("order")
@click.option("--number", required=True)
@click.option("--carrier", required=True)
@store_option
@pass_runtime
def orders_tracking(rt: Runtime, order: str, number: str, carrier: str, store: str | None) -> None:
    """Set the tracking number and carrier."""
    from assets.orders.actions import find_order, set_tracking

    with rt.warehouse.begin() as conn:
        ref = find_order(conn, order, store)
        _queued(set_tracking(conn, ref, number, carrier), f"tracking {ref.label}")


@orders.command("ship")
@click.argument("order")
@click.option("--number", default=None, help="Tracking number (default: the shipment's).")
@click.option("--carrier", default=None, help="Carrier (default: the shipment's, else the account default).")
@store_option
@json_option
@pass_runtime
def orders_ship(rt: Runtime, order: str, number: str | None, carrier: str | None, store: str | None,
                as_json: bool) -> None:
    """Mark shipped: tracking number, carrier, label URL, shipped_at; tracking goes to the channel."""
    from assets.orders.actions import find_order, ship_order

    with rt.warehouse.begin() as conn:
        emit(ship_order(conn, find_order(conn, order, store), number, carrier), as_json)


@orders.command("label")
@click.argument("order")
@store_option
@pass_runtime
def orders_label(rt: Runtime, order: str, store: str | None) -> None:
    """Print the carrier label URL."""
    from assets.orders.actions import find_order, label_url

    with rt.warehouse.begin() as conn:
        click.echo(label_url(conn, find_order(conn, order, store)))


# ---------------------------------------------------------------- outbound and logs
@cli.group()
def outbound() -> None:
    """The queue of writes to the channels."""


@outbound.command("run")
@store_option
@json_option
@pass_runtime
def outbound_run(rt: Runtime, store: str | None, as_json: bool) -> None:
    """Send every due write now."""
    from assets.outbound_runner import drain

    # Every channel's client from the code location's own factories (the application's OAuth clients
    # come from the environment); drain opens only the ones with writes due.
    results = drain(rt.warehouse, rt.vault, rt.letzshop, store=store, triggered_by="cli",
                    jtl_ffn=rt.client("jtl_ffn"), ebay=rt.client("ebay"), amazon=rt.client("amazon"))
    if as_json:
        emit(results, True)
    elif not results:
        click.echo("nothing due")
    for name, summary in ({} if as_json else results).items():
        if "error" in summary:
            click.echo(f"{name}: {summary['error']}")
            continue
        click.echo(f"{name}: {summary['succeeded']} sent, {summary['failed']} to retry, {summary['dead']} dead-lettered"
                   + (f" ({summary['already_applied']} found already applied)"
                      if summary.get("already_applied") else ""))
        for error in summary.get("errors", [])[:10]:
            click.echo(f"  {error}")
    unsent = [name for name, summary in results.items()
              if "error" in summary or summary.get("failed") or summary.get("dead")]
    if unsent:
        # The writes stay queued (or dead-lettered): the caller (a script, cron) must see that.
        raise MarketsyncError(f"writes of {', '.join(unsent)} were not all sent; see `marketsync outbound list`")


@outbound.command("list")
@click.option("--status", default=None, type=click.Choice(["pending", "in_flight", "succeeded", "dead"]))
@json_option
@pass_runtime
def outbound_list(rt: Runtime, status: str | None, as_json: bool) -> None:
    """List queued writes."""
    from assets.outbound_queue import list_items

    with rt.warehouse.begin() as conn:
        rows = list_items(conn, status=status)
    emit(rows, as_json, ["outbound_id", "operation", "status", "attempts", "next_attempt_at", "last_error"])


@outbound.command("requeue")
@click.argument("outbound_id", type=int, required=False)
@click.option("--all-dead", is_flag=True, help="Re-queue every dead-lettered write.")
@pass_runtime
def outbound_requeue(rt: Runtime, outbound_id: int | None, all_dead: bool) -> None:
    """Put a dead-lettered write back in the queue (same idempotency key)."""
    from assets.outbound_queue import requeue

    if not outbound_id and not all_dead:
        raise MarketsyncError("name an outbound id, or pass --all-dead")
    with rt.warehouse.begin() as conn:
        count = requeue(conn, outbound_id, all_dead=all_dead)
    click.echo(f"re-queued {count} write(s)")


@cli.command("logs")
@store_option
@click.option("--limit", default=30, show_default=True)
@json_option
@pass_runtime
def logs(rt: Runtime, store: str | None, limit: int, as_json: bool) -> None:
    """The sync log: what ran, how much, how long, what failed."""
    from assets.sync_log import recent_logs

    with rt.warehouse.begin() as conn:
        rows = recent_logs(conn, store=store, limit=limit)
    emit(rows, as_json)


# ---------------------------------------------------------------- demo and dev
@cli.command("demo")
@click.option("--seed", default=42, show_default=True)
@click.option("--size", default=40, show_default=True, help="Shipments in the simulated Letzshop.")
@click.option("--port", default=None, type=int,
              help="First of the simulators' ten loopback ports: Letzshop on it, its product feed, CodesWholesale, "
                   "supplier feeds (HTTP, FTP), Amazon, eBay, JTL-FFN, Google Sheets and the push intake on the "
                   "ports after it (default MARKETSYNC_SANDBOX_PORT or 8765; 0 = any free ports). `marketsync dev` "
                   "serves MARKETSYNC_SANDBOX_PORT's ports: to move both, set that variable instead.")
@pass_runtime
def demo(rt: Runtime, seed: int, size: int, port: int | None) -> None:
    """Run the main job end to end against the sandbox simulators."""
    from pipelines.demo import run_demo

    run_demo(rt, seed=seed, size=size, port=port)


@cli.command("dev")
@click.option("--port", default=3000, show_default=True, help="Port of the Dagster UI.")
@pass_runtime
def dev(rt: Runtime, port: int) -> None:
    """The Dagster UI (and daemon) on the same setup as the demo, with the simulator running."""
    from pipelines.demo import run_dev

    run_dev(rt, port=port)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8780, show_default=True)
def serve(host: str, port: int) -> None:
    """Receive pushed supplier feeds (PUT .../items, POST .../items:batch), signed with HMAC-SHA256."""
    from pipelines.push_intake import serve as serve_intake

    serve_intake(host, port)


# ---------------------------------------------------------------- catalog sources
@cli.group()
def catalog() -> None:
    """Catalog sources: the Letzshop product feed, CodesWholesale, supplier feeds."""


@catalog.command("add-letzshop-feed")
@click.argument("store")
@click.option("--url", "urls", multiple=True, required=True, metavar="LANG=URL",
              help="One per language file, e.g. --url en=https://.../en.tsv")
@click.option("--primary-language", default=None, help="The file whose prices, GTINs etc. count.")
@pass_runtime
def catalog_add_letzshop_feed(rt: Runtime, store: str, urls: tuple[str, ...], primary_language: str | None) -> None:
    """Add (or update) the store's Letzshop product feed: one tab-separated file per language."""
    from assets.letzshop.product_feed import add_letzshop_feed_source

    pairs = {}
    for pair in urls:
        lang, sep, url = pair.partition("=")
        if not sep:
            raise MarketsyncError(f"--url '{pair}' is not of the form LANG=URL")
        pairs[lang.strip()] = url.strip()
    with rt.warehouse.begin() as conn:
        source_id = add_letzshop_feed_source(conn, store, pairs, vault=rt.vault, primary_language=primary_language)
    click.echo(f"Letzshop feed source {source_id} for {store}: languages {', '.join(sorted(pairs))}")


@catalog.command("add-codeswholesale")
@click.argument("store")
@click.option("--base-url", required=True, help="API base URL (sandbox or production).")
@pass_runtime
def catalog_add_codeswholesale(rt: Runtime, store: str, base_url: str) -> None:
    """Add CodesWholesale; reads {"client_id": ..., "client_secret": ...} from stdin."""
    from assets.codeswholesale.catalog import add_codeswholesale_source

    fields = _secret_fields_from_stdin()
    with rt.warehouse.begin() as conn:
        source_id = add_codeswholesale_source(conn, rt.vault, store, base_url, fields.get("client_id", ""),
                                              fields.get("client_secret", ""))
    click.echo(f"CodesWholesale source {source_id} for {store}; client secret stored encrypted")


@catalog.command("import")
@click.argument("store")
@click.argument("source")
@json_option
@pass_runtime
def catalog_import(rt: Runtime, store: str, source: str, as_json: bool) -> None:
    """Import STORE's catalog from SOURCE now, through its Dagster asset.

    SOURCE is `letzshop` (the store's Letzshop product feed), `codeswholesale`, or the name of one of
    its pulled supplier feeds (`marketsync feeds list --store STORE`)."""
    from pipelines.run_in_process import run_catalog_import

    _known_catalog_source(rt, store, source)
    emit(run_catalog_import(store, source), as_json)


def _known_catalog_source(rt: Runtime, store: str, source: str) -> None:
    """Refuse, in words, a source the store does not have (before a Dagster partition is made for it)."""
    if source in ("letzshop", "codeswholesale"):
        return
    from assets.feeds.sources import list_sources

    with rt.warehouse.begin() as conn:
        feeds = [s for s in list_sources(conn, store) if s["kind"] == "pull_feed"]
    if not any(s["name"] == source for s in feeds):
        names = ", ".join(["letzshop", "codeswholesale", *sorted(s["name"] for s in feeds)])
        raise MarketsyncError(f"store '{store}' has no catalog source '{source}': catalog import reads {names}")


@catalog.command("runs")
@store_option
@click.option("--limit", default=20, show_default=True)
@json_option
@pass_runtime
def catalog_runs(rt: Runtime, store: str | None, limit: int, as_json: bool) -> None:
    """Recent catalog imports: status and rows read / loaded / unchanged / quarantined."""
    with rt.warehouse.begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text(
            """SELECT import_run_id, store, source, status, rows_read, rows_loaded, rows_unchanged,
                      rows_quarantined, started_at, round(seconds::numeric, 2) AS seconds
               FROM analytics.import_runs WHERE CAST(:s AS text) IS NULL OR store = :s
               ORDER BY import_run_id DESC LIMIT :n"""), {"s": store, "n": limit})]
    emit(rows, as_json)


# ---------------------------------------------------------------- supplier feeds
@cli.group()
def feeds() -> None:
    """Supplier feeds: pulled (CSV/TSV/XML/JSON over HTTP(S) or FTP(S)) or pushed (signed webhooks)."""


def _source_row(source: dict, username: str | None = None) -> dict:
    from assets.feeds.sources import shown_location

    return {"store": source.get("store"), "name": source["name"], "kind": source["kind"],
            "format": source.get("format"), "location": shown_location(source.get("location"), username),
            "mapping_version": source.get("mapping_version"), "enabled": source.get("enabled"),
            "settings": source.get("settings")}


def _feed_usernames(rt: Runtime, conn, sources: list[dict]) -> dict[int, str]:
    """The user of each pulled feed whose URL credentials are stored (encrypted, apart from the URL):
    only those sources need the vault."""
    with_credentials = set(conn.execute(text(
        "SELECT source_id FROM ops.source_credentials WHERE source_id = ANY(:ids)"),
        {"ids": [s["source_id"] for s in sources if s["kind"] == "pull_feed"]}).scalars())
    users = {}
    for source_id in with_credentials:
        secrets = rt.vault.load_source(conn, source_id)
        if secrets is not None and "username" in secrets.masked():
            users[source_id] = secrets.reveal("username")
    return users


def _mapping_from(path: Path | None) -> dict | None:
    """A --mapping file's JSON, or one worded error naming the file and where its JSON breaks."""
    if path is None:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise MarketsyncError(f"the mapping file {path} is not valid JSON: {exc.msg} at line {exc.lineno}, "
                              f"column {exc.colno}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MarketsyncError(f"the mapping file {path} cannot be read: {exc}") from None


@feeds.command("add")
@click.argument("store")
@click.argument("name")
@click.option("--url", default=None, help="Where to pull from; user:password@ in it is stored encrypted.")
@click.option("--format", "fmt", type=click.Choice(["csv", "tsv", "xml", "json"]), default=None)
@click.option("--mapping", "mapping_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The mapping as a JSON file (see README).")
@click.option("--encoding", default="utf-8", show_default=True)
@click.option("--push", is_flag=True, help="A pushed feed: prints its signing secret once.")
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE",
              help="e.g. connect_by='[\"sku\"]', max_bad_share=0.02, refresh_minutes=30")
@pass_runtime
def feeds_add(rt: Runtime, store: str, name: str, url: str | None, fmt: str | None, mapping_file: Path | None,
              encoding: str, push: bool, pairs: tuple[str, ...]) -> None:
    """Add a supplier feed to STORE."""
    from assets.accounts import parse_settings
    from assets.feeds.sources import add_source
    from resources.feed_transport import split_credentials

    settings = parse_settings(list(pairs))
    mapping = _mapping_from(mapping_file)
    with rt.warehouse.begin() as conn:
        if push:
            from pipelines.push_intake.secrets import rotate_push_secret

            source = add_source(conn, store, name, "push_feed", None, None, mapping, encoding, settings, "cli")
            secret = rotate_push_secret(conn, rt.vault, source["source_id"])
            click.echo(f"push feed {store}/{name} added. Its signing secret, shown only now:\n{secret}")
            return
        if not url or not fmt:
            raise MarketsyncError("a pulled feed needs --url and --format")
        location, credentials = split_credentials(url)
        source = add_source(conn, store, name, "pull_feed", fmt, location, mapping, encoding, settings, "cli")
        if credentials:
            rt.vault.store_source(conn, source["source_id"], credentials)
    username = (credentials or {}).get("username")
    click.echo(f"feed {store}/{name} added: {_source_row(source, username)['location']}")


@feeds.command("list")
@store_option
@json_option
@pass_runtime
def feeds_list(rt: Runtime, store: str | None, as_json: bool) -> None:
    """List catalog sources."""
    from assets.feeds.sources import list_sources

    with rt.warehouse.begin() as conn:
        sources = list_sources(conn, store)
        users = _feed_usernames(rt, conn, sources)
        rows = [_source_row(s, users.get(s["source_id"])) for s in sources]
    emit(rows, as_json, ["store", "name", "kind", "format", "location", "mapping_version", "enabled"])


@feeds.command("mapping")
@click.argument("store")
@click.argument("name")
@click.option("--set", "mapping_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Replace the mapping with this JSON file (a new version).")
@pass_runtime
def feeds_mapping(rt: Runtime, store: str, name: str, mapping_file: Path | None) -> None:
    """Show the feed's mapping, or set a new version of it."""
    from assets.feeds.sources import get_source, set_mapping

    with rt.warehouse.begin() as conn:
        source = get_source(conn, store, name)
        if mapping_file:
            source = set_mapping(conn, source["source_id"], _mapping_from(mapping_file), "cli")
    click.echo(f"# version {source['mapping_version']}")
    click.echo(json.dumps(source["mapping"], indent=2))


@feeds.command("preview")
@click.argument("store")
@click.argument("name")
@click.option("--limit", default=10, show_default=True)
@json_option
@pass_runtime
def feeds_preview(rt: Runtime, store: str, name: str, limit: int, as_json: bool) -> None:
    """Show the first rows as mapped and count the rows it would reject over the whole feed (up to a
    million records; a larger feed is judged on those, and the answer says so), loading nothing."""
    import tempfile

    from assets.feeds.preview import preview_feed
    from assets.feeds.sources import get_source
    from resources.feed_transport import FeedTransport

    with rt.warehouse.begin() as conn:
        source = get_source(conn, store, name)
        secrets = rt.vault.load_source(conn, source["source_id"])
    credentials = {k: secrets.reveal(k) for k in secrets.masked()} if secrets else None
    with tempfile.TemporaryDirectory(prefix="marketsync-preview-") as tmp:
        path = Path(tmp) / "feed"
        FeedTransport().download(source["location"], path, credentials=credentials)
        result = preview_feed(source, path, limit)
    if as_json:
        emit(result, True)
        return
    emit(result["rows"], False, ["external_id", "gtin14", "sku", "price", "currency", "quantity",
                                 *[c for c in result["columns"] if c.startswith("title_")][:1]])
    scope = "" if result["complete"] else " (the feed is larger: only these were read)"
    click.echo(f"\nwould reject {result['rejected_count']} of the {result['records_read']} records read{scope}"
               + (f"; the first {len(result['rejected'])}:" if result["rejected"] else ""))
    for line, raw, reason in result["rejected"]:
        click.echo(f"  line {line}: {reason}: {raw[:80]!r}")


@feeds.command("run")
@click.argument("store")
@click.argument("name")
@json_option
@pass_runtime
def feeds_run(rt: Runtime, store: str, name: str, as_json: bool) -> None:
    """Import the feed now (through its Dagster asset)."""
    from pipelines.run_in_process import run_catalog_import

    emit(run_catalog_import(store, name), as_json)


@feeds.command("apply-inbox")
@store_option
@json_option
@pass_runtime
def feeds_apply_inbox(rt: Runtime, store: str | None, as_json: bool) -> None:
    """Apply the pushed batches waiting in the inbox now (what the daemon's job does), oldest first."""
    from dataclasses import asdict as as_dict

    from assets.feeds.push_inbox import apply_pending_batches

    summary = apply_pending_batches(rt.warehouse.engine, store=store)
    if as_json:
        emit(as_dict(summary), True)
    else:
        click.echo(f"applied {summary.applied} batch(es) ({summary.items_applied} items, {summary.items_stale} "
                   f"older than what is stored), {summary.failed} failed, {summary.skipped} taken by another run")
    if summary.failed:
        raise MarketsyncError(f"{summary.failed} pushed batch(es) could not be applied: their reason is kept in "
                              "ops.feed_inbox.error")


@feeds.command("push-secret")
@click.argument("store")
@click.argument("name")
@click.option("--retire-previous", is_flag=True, help="End a rotation: only the newest secret verifies.")
@pass_runtime
def feeds_push_secret(rt: Runtime, store: str, name: str, retire_previous: bool) -> None:
    """Rotate a push feed's signing secret (the old one keeps working until retired)."""
    from assets.feeds.sources import get_source
    from pipelines.push_intake.secrets import retire_previous_push_secret, rotate_push_secret

    with rt.warehouse.begin() as conn:
        source = get_source(conn, store, name)
        if retire_previous:
            done = retire_previous_push_secret(conn, rt.vault, source["source_id"])
            click.echo("previous secret retired" if done else "there was no previous secret")
            return
        secret = rotate_push_secret(conn, rt.vault, source["source_id"])
    click.echo(f"new signing secret for {store}/{name}, shown only now (the previous one still works "
               f"until `--retire-previous`):\n{secret}")


@cli.group()
def sheets() -> None:
    """The operations team's inbound control sheet (Google Sheets), checked against JTL-FFN."""


@sheets.command("set")
@click.argument("store")
@click.option("--spreadsheet", "spreadsheet_id", help="The spreadsheet's id (from its URL).")
@click.option("--worksheet", help="The worksheet (tab) title.")
@click.option("--header-row", type=int, help="The row holding the column names (default 1).")
@click.option("--sku-column", help="Header text or letter of the merchant-SKU column.")
@click.option("--expected-column", help="Header text or letter of the expected-units column.")
@click.option("--status-column", help="Header text or letter of the column the check writes to.")
@click.option("--reference-column", help="Header text or letter of an inbound-reference column (optional).")
@click.option("--compare-with", type=click.Choice(["receipts", "stock"]),
              help="Compare with units received over the SKU's inbounds (default) or units in stock.")
@click.option("--cron", "check_cron", help="When the daily check runs (default '0 8 * * *').")
@click.option("--timezone", "check_timezone", help="The cron's time zone (default Europe/Berlin).")
@click.option("--enabled/--disabled", default=None, help="Switch the scheduled check on or off.")
@pass_runtime
def sheets_set(rt: Runtime, store: str, **settings) -> None:
    """Create or change STORE's inbound control sheet settings."""
    from assets.inbound_sheet.run import save_settings

    with rt.warehouse.begin() as conn:
        saved = save_settings(conn, store, **settings)
    click.echo(f"inbound sheet for {store}: {saved['worksheet']} of spreadsheet {saved['spreadsheet_id']}, "
               f"checked at '{saved['check_cron']}' {saved['check_timezone']} against {saved['compare_with']}")


@sheets.command("check")
@click.argument("store")
@json_option
@pass_runtime
def sheets_check(rt: Runtime, store: str, as_json: bool) -> None:
    """Check STORE's inbound control sheet now, through its Dagster asset, after syncing what JTL-FFN
    holds (a check never writes a verdict from holdings it did not read)."""
    from assets.accounts import get_account
    from pipelines.run_in_process import run_inbound_check

    with rt.warehouse.begin() as conn:
        get_account(conn, store, "jtl_ffn")
    _check_client("jtl_ffn", rt.client("jtl_ffn"))  # the holdings are synced first, through this client
    emit(run_inbound_check(store), as_json)
