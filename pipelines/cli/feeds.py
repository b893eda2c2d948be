"""`marketsync feeds ...`: supplier feeds, pulled or pushed: added, mapped, previewed, imported."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy import text

from marketsync.pipelines.cli.inputs import store_option
from marketsync.pipelines.cli.output import emit, json_option
from marketsync.pipelines.cli.runtime import Runtime, pass_runtime
from marketsync.resources.errors import MarketsyncError

if TYPE_CHECKING:  # (detection is imported when a command uses it)
    from marketsync.assets.feeds.detect import Detection


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
@click.option("--format", "fmt", type=click.Choice(["csv", "tsv", "xml", "json"]), default=None,
              help="The feed's format (default: the preset's, or what detection found).")
@click.option("--mapping", "mapping_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The mapping as a JSON file (see README).")
@click.option("--preset", default=None, help="Start from a preset's mapping (`marketsync feeds presets`).")
@click.option("--encoding", default=None, help="The feed's encoding (default utf-8, or what detection found).")
@click.option("--currency", default=None, metavar="CODE",
              help="With a preset: the prices' currency where the file does not give it (shop exports seldom do).")
@click.option("--push", is_flag=True, help="A pushed feed: prints its signing secret once.")
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE",
              help="e.g. connect_by='[\"sku\"]', max_bad_share=0.02, refresh_minutes=30")
@pass_runtime
def feeds_add(rt: Runtime, store: str, name: str, url: str | None, fmt: str | None, mapping_file: Path | None,
              preset: str | None, encoding: str | None, currency: str | None, push: bool,
              pairs: tuple[str, ...]) -> None:
    """Add a supplier feed to STORE. A pulled feed without --mapping or --preset is detected: its file is
    downloaded and the preset that reads it is used (see `feeds detect`)."""
    from marketsync.assets.accounts import parse_settings
    from marketsync.assets.feeds.sources import add_source
    from marketsync.resources.feed_transport import split_credentials

    settings = parse_settings(list(pairs))
    mapping = _mapping_from(mapping_file)
    if mapping is not None and preset:
        raise MarketsyncError("give either --mapping or --preset, not both")
    if not push and url and mapping is None:
        _require_store(rt, store)  # before downloading anything: a missing store is the likelier mistake
        mapping, fmt, encoding, chosen = _mapping_for_url(url, preset, fmt, encoding, currency)
        settings.setdefault("preset", chosen)
    elif preset or currency:
        raise MarketsyncError("--preset and --currency are for a pulled feed added without --mapping: give its "
                              "--url (a mapping file says its own defaults)")
    elif isinstance(mapping, dict) and mapping.get("preset"):
        settings.setdefault("preset", mapping["preset"])
    encoding = encoding or "utf-8"
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
    click.echo(f"what it makes of the file, loading nothing: marketsync feeds preview {store} {name}")


def _require_store(rt: Runtime, store: str) -> None:
    from marketsync.assets.feeds.sources import feed_store_id

    with rt.warehouse.begin() as conn:
        feed_store_id(conn, store)


def _mapping_for_url(url: str, preset_name: str | None, fmt: str | None, encoding: str | None,
                     currency: str | None) -> tuple[dict, str, str, str]:
    """(mapping, format, encoding, "preset@version") for a pulled feed added without --mapping: the named
    preset, or the one detection finds in the file's head. The head is read for a named preset too: it
    gives the delimiter, the XML form (RSS or Atom) and the encoding the preset leaves open."""
    from marketsync.assets.feeds.preset_choice import choose_preset

    try:
        choice = choose_preset(_detect_url(url), preset_name, currency)
    except MarketsyncError as exc:
        raise MarketsyncError(f"{_shown_url(url)}: {exc}") from None
    if choice.detected:
        click.echo(f"detected {choice.ref} (confidence {choice.confidence:.2f})")
    if choice.unplaced:
        shown = ", ".join(choice.unplaced[:8]) + (", ..." if len(choice.unplaced) > 8 else "")
        click.echo(f"not read by {choice.ref}: {shown} (`feeds mapping ... --set` maps more)")
    return choice.mapping, fmt or choice.format, encoding or choice.encoding, choice.ref


def _shown_url(url: str) -> str:
    from marketsync.resources.feed_transport import redact

    return redact(url)


def _download_head(url: str, folder: Path) -> tuple[Path, bytes]:
    """The feed at `url` on disk in `folder` (credentials from the URL, as `feeds add` keeps them) and its
    first bytes, which detection reads."""
    from marketsync.assets.feeds.detect import HEAD_BYTES
    from marketsync.resources.feed_transport import FeedTransport

    path = folder / "feed"
    FeedTransport().download(url, path)
    with path.open("rb") as handle:
        return path, handle.read(HEAD_BYTES)


def _detect_url(url: str) -> Detection:
    """Detection over the head of the feed at `url`: an http(s) feed is read only that far (a supplier's
    full export can be gigabytes); FTP and local files are downloaded, then their head read."""
    import tempfile
    import zlib
    from urllib.parse import urlsplit

    from marketsync.assets.feeds.detect import HEAD_BYTES, detect
    from marketsync.resources.feed_transport import FeedTransport

    if urlsplit(url).scheme.lower() not in ("http", "https"):
        with tempfile.TemporaryDirectory(prefix="marketsync-detect-") as tmp:
            return detect(_download_head(url, Path(tmp))[1])
    head = bytearray()
    with FeedTransport().open_stream(url) as stream:
        for chunk in stream:
            head += chunk
            if len(head) >= HEAD_BYTES:
                break
    head = bytes(head)
    if head.startswith(b"\x1f\x8b"):  # a .gz file served as such: its start, inflated
        head = zlib.decompressobj(wbits=31).decompress(head, HEAD_BYTES)
    return detect(head)


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
    from marketsync.assets.feeds.sources import get_source, max_download_bytes, plain_ftp_login
    from marketsync.resources.feed_transport import FeedTransport

    with rt.warehouse.begin() as conn:
        source = get_source(conn, store, name)
        secrets = rt.vault.load_source(conn, source["source_id"])
    credentials = {k: secrets.reveal(k) for k in secrets.masked()} if secrets else None
    with tempfile.TemporaryDirectory(prefix="marketsync-preview-") as tmp:
        path = Path(tmp) / "feed"
        FeedTransport().download(source["location"], path, credentials=credentials,
                                 max_bytes=max_download_bytes(source), plain_ftp_login=plain_ftp_login(source))
        result = preview_feed(source, path, limit)
    if as_json:
        emit(result, True)
        return
    show_preview(result)


def _attribute_summary(attributes: dict, width: int = 72) -> str:
    """A row's attributes on one line: what marketsync read beside the columns first (a stock note, the
    sale price, images as a count, the weight), then the rest; name=value, long values cut."""
    first = ("stock_note", "sale_price", "images", "weight_grams")
    ordered = [(n, attributes[n]) for n in first if n in attributes]
    ordered += [(n, v) for n, v in attributes.items() if n not in first]
    parts = [f"images={len(value)}" if name == "images" else f"{name}={str(value)[:32]}" for name, value in ordered]
    text = " ".join(parts)
    return text if len(text) <= width else text[:width - 1] + "…"


def show_preview(result: dict) -> None:
    """A preview as a merchant reads it: the first rows as mapped (with their attributes: sale price,
    images, weight, options, a stock note), then how many rows it would reject, the first ones and why."""
    rows = [{**row, "attributes": _attribute_summary(row["attributes"])} for row in result["rows"]]
    emit(rows, False, ["external_id", "gtin14", "price", "currency", "quantity",
                       *[c for c in result["columns"] if c.startswith("title_")][:1], "attributes"])
    scope = "" if result["complete"] else " (the feed is larger: only these were read)"
    skipped = f"; {result['skipped']} rows skipped, no product of their own" if result.get("skipped") else ""
    click.echo(f"\nwould reject {result['rejected_count']} of the {result['records_read']} records read{scope}{skipped}"
               + (f"; the first {len(result['rejected'])}:" if result["rejected"] else ""))
    for line, raw, reason in result["rejected"]:
        click.echo(f"  line {line}: {reason}: {raw[:80]!r}")
    if result["rows"] and all(row["currency"] is None for row in result["rows"]):
        click.echo("\nthe file gives no currency for its prices: say which with `feeds add ... --currency CODE` "
                   "(or \"defaults\": {\"currency\": ...} in the mapping)")


@feeds.command("presets")
@json_option
def feeds_presets(as_json: bool) -> None:
    """List the presets: ready mappings for the exports of common shop systems."""
    from marketsync.assets.feeds.presets import list_presets

    emit(list_presets(), as_json, ["name", "version", "format", "title"])


@feeds.command("detect")
@click.argument("url")
@click.option("--limit", default=5, show_default=True, help="How many mapped and rejected rows to show.")
@json_option
def feeds_detect(url: str, limit: int, as_json: bool) -> None:
    """Download URL and tell what it is: encoding, delimiter or XML root, which preset reads it (each
    preset's confidence and the columns it cannot place), then the best preset's preview."""
    import tempfile

    from marketsync.assets.feeds.detect import detect

    with tempfile.TemporaryDirectory(prefix="marketsync-detect-") as tmp:
        path, head = _download_head(url, Path(tmp))
        found = detect(head)
        preview = _preset_preview(found, path, limit)
    if as_json:
        emit({**found.as_dict(), "preview": preview}, True)
        return
    _print_detection(found)
    _print_preview(preview)


def _preset_preview(found: Detection, path: Path, limit: int) -> dict | None:
    """The best preset's preview of the file ({"error": ...} when the mapping cannot read it), or None."""
    from marketsync.assets.feeds.preset_choice import choose_preset
    from marketsync.assets.feeds.preview import preview_feed

    if found.best is None:
        return None
    try:
        choice = choose_preset(found)
        source = {"name": found.best, "format": choice.format, "mapping": choice.mapping, "encoding": choice.encoding}
        return {"preset": found.best, **preview_feed(source, path, limit)}
    except MarketsyncError as exc:
        return {"preset": found.best, "error": str(exc)}


def _print_detection(found: Detection) -> None:
    click.echo(f"encoding     {found.encoding}{' (with BOM)' if found.has_bom else ''}")
    click.echo(f"line endings {found.line_endings}")
    click.echo(f"format       {found.format}")
    if found.delimiter is not None:
        click.echo(f"delimiter    {found.delimiter!r}")
    if found.root is not None:
        click.echo(f"root         {found.root}")
    click.echo("")
    emit([{"preset": s.preset, "confidence": f"{s.confidence:.2f}", "form": s.form,
           "missing": ", ".join(s.missing_required) or None,
           "unplaced": ", ".join(s.unplaced[:6]) + (", ..." if len(s.unplaced) > 6 else "") or None}
          for s in found.scores], False, ["preset", "confidence", "form", "missing", "unplaced"])
    click.echo(f"\n{'best: ' if found.best else ''}{found.message}")


def _print_preview(preview: dict | None) -> None:
    if preview is None:
        return
    if "error" in preview:
        click.echo(f"\npreview with {preview['preset']} failed: {preview['error']}")
        return
    click.echo(f"\npreview with {preview['preset']}:")
    show_preview(preview)


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
