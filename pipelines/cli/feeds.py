"""`marketsync feeds ...`: supplier feeds, pulled or pushed: added, mapped, previewed, imported."""
from __future__ import annotations

import json
from pathlib import Path

import click
from sqlalchemy import text

from marketsync.pipelines.cli.inputs import store_option
from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime
from marketsync.resources.errors import MarketsyncError


@click.group()
def feeds() -> None:
    """Supplier feeds: pulled (CSV/TSV/XML/JSON over HTTP(S) or FTP(S)) or pushed (signed webhooks)."""


def _source_row(source: dict, username: str | None = None) -> dict:
    from marketsync.assets.feeds.sources import shown_location

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
    from marketsync.assets.accounts import parse_settings
    from marketsync.assets.feeds.sources import add_source
    from marketsync.resources.feed_transport import split_credentials

    settings = parse_settings(list(pairs))
    mapping = _mapping_from(mapping_file)
    with rt.warehouse.begin() as conn:
        if push:
            from marketsync.pipelines.push_intake.secrets import rotate_push_secret

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
    from marketsync.assets.feeds.sources import list_sources

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
    from marketsync.assets.feeds.sources import get_source, set_mapping

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

    from marketsync.assets.feeds.preview import preview_feed
    from marketsync.assets.feeds.sources import get_source
    from marketsync.resources.feed_transport import FeedTransport

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
    from marketsync.pipelines.run_in_process import run_catalog_import

    emit(run_catalog_import(store, name), as_json)


@feeds.command("apply-inbox")
@store_option
@json_option
@pass_runtime
def feeds_apply_inbox(rt: Runtime, store: str | None, as_json: bool) -> None:
    """Apply the pushed batches waiting in the inbox now (what the daemon's job does), oldest first."""
    from dataclasses import asdict as as_dict

    from marketsync.assets.feeds.push_inbox import apply_pending_batches

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
    from marketsync.assets.feeds.sources import get_source
    from marketsync.pipelines.push_intake.secrets import retire_previous_push_secret, rotate_push_secret

    with rt.warehouse.begin() as conn:
        source = get_source(conn, store, name)
        if retire_previous:
            done = retire_previous_push_secret(conn, rt.vault, source["source_id"])
            click.echo("previous secret retired" if done else "there was no previous secret")
            return
        secret = rotate_push_secret(conn, rt.vault, source["source_id"])
    click.echo(f"new signing secret for {store}/{name}, shown only now (the previous one still works "
               f"until `--retire-previous`):\n{secret}")
