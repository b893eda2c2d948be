"""Catalog sources: where a store's products come from, and how each source's records are read.

A source (ops.catalog_sources) is one feed of one store: a pulled supplier feed (CSV, TSV, XML or JSON at
an HTTP(S) or FTP(S) location), a pushed feed, the Letzshop product feed or the CodesWholesale catalog.
Its mapping (see assets.feeds.mapping) is versioned: every change is kept in ops.feed_mapping_versions,
and each import run records the version it used, so a run can always be explained afterwards.

Feed URLs may carry credentials (RFC 1738: ftp://user:password@host/path). A location is stored without
its password (ops.source_credentials keeps secrets, encrypted), and `redacted` is the only way a
location is ever shown: `user:***@host`.

Settings a pulled feed understands (JSON in ops.catalog_sources.settings):
- max_bad_share: the share of rows that may be quarantined before the whole run fails (default 0.05);
- connect_by: ["sku"] and/or ["gtin"]: link the store's own products to the feed's products by SKU or GTIN;
- plain_ftp_login: true lets the login of an ftp:// feed cross the network unencrypted (a server without
  FTPS); without it only ftps:// or an anonymous login is used.
- max_download_mb: the most this feed's download may be, in MB of 1,048,576 bytes (inflated, for a
  gzip'd feed); default MARKETSYNC_FEED_MAX_DOWNLOAD_MB, else 2,048 (resources.feed_transport).
"""
from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from sqlalchemy import Connection

from marketsync.assets.feeds.mapping import validate_mapping
from marketsync.assets.feeds.readers import codec_for
from marketsync.assets.stores import find_store_id
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside
from marketsync.resources.url_policy import FEED_SCHEMES, UrlRefused
from marketsync.resources.url_policy import check_location as check_url_or_path

KINDS = ("letzshop_feed", "codeswholesale", "pull_feed", "push_feed")
FORMATS = ("csv", "tsv", "xml", "json")
SCHEMES = FEED_SCHEMES
CONNECT_KEYS = ("sku", "gtin")
DEFAULT_MAX_BAD_SHARE = 0.05
MAX_DOWNLOAD_MB_CEILING = 1 << 20  # a terabyte: a typo guard, not a limit anyone should reach
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# Query parameters whose values are secrets in the URLs suppliers hand out.
_SECRET_PARAMS = re.compile(r"(token|key|secret|pass|password|pwd|signature|sig|auth)", re.IGNORECASE)


def add_source(conn: Connection, store: str, name: str, kind: str, format: str | None, location: str | None,
               mapping: dict[str, Any] | None = None, encoding: str = "utf-8",
               settings: dict[str, Any] | None = None, created_by: str = "marketsync") -> dict[str, Any]:
    """Register a catalog source of `store` and return it (as get_source does).

    The mapping is validated for the format (pulled feeds need one); the location must not carry a
    password: keep it in the source's credentials (`split_credentials` separates the two).
    """
    store_id = feed_store_id(conn, store)
    if not isinstance(name, str) or not _NAME.match(name):
        raise MarketsyncError(f"source name '{name}' must be lowercase letters, digits, '-' or '_' (at most 63)")
    if kind not in KINDS:
        raise MarketsyncError(f"unknown source kind '{kind}' (known: {', '.join(KINDS)})")
    if format is not None and format not in FORMATS:
        raise MarketsyncError(f"unknown feed format '{format}' (known: {', '.join(FORMATS)})")
    if kind == "pull_feed":
        if format is None:
            raise MarketsyncError("a pulled feed needs a format (csv, tsv, xml or json)")
        if mapping is None:
            raise MarketsyncError("a pulled feed needs a mapping (which field feeds which catalog column)")
    if mapping is not None:
        validate_mapping(mapping, format)
    codec_for(encoding)
    settings = validate_settings(settings or {})
    if location is not None:
        check_location(location)
    exists = conn.execute(query_beside(__file__, "source_select.sql"), {"store": store, "name": name, "source_id": None,
                                                      "kind": None}).first()
    if exists is not None:
        raise MarketsyncError(f"store '{store}' already has a catalog source named '{name}'")
    source_id = conn.execute(query_beside(__file__, "source_insert.sql"), {
        "store_id": store_id, "name": name, "kind": kind, "format": format, "location": location,
        "encoding": encoding, "mapping": json.dumps(mapping or {}), "settings": json.dumps(settings),
    }).scalar_one()
    conn.execute(query_beside(__file__, "mapping_version_first.sql"),
                 {"source_id": source_id, "created_by": created_by})
    return _one(conn, source_id=source_id)


def feed_store_id(conn: Connection, store: str) -> int:
    """The id of the store a feed is added to; MarketsyncError saying how a store comes into being."""
    store_id = find_store_id(conn, store)
    if store_id is None:
        raise MarketsyncError(f"unknown store '{store}': a store comes into being with its first account; for a "
                              f"store fed only by supplier feeds, `marketsync account add {store} feed`")
    return store_id


def get_source(conn: Connection, store: str, name: str) -> dict[str, Any]:
    """The source `name` of `store` as a dict (source_id, store_id, store, name, kind, format, location,
    encoding, mapping, mapping_version, settings, enabled, created_at, updated_at)."""
    rows = conn.execute(query_beside(__file__, "source_select.sql"), {"store": store, "name": name, "source_id": None,
                                                    "kind": None}).all()
    if not rows:
        raise MarketsyncError(f"store '{store}' has no catalog source '{name}'")
    return dict(rows[0]._mapping)


def get_source_by_id(conn: Connection, source_id: int) -> dict[str, Any]:
    return _one(conn, source_id=source_id)


def list_sources(conn: Connection, store: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    """The catalog sources of `store` (all stores if None), optionally of one kind; locations redacted."""
    rows = conn.execute(query_beside(__file__, "source_select.sql"), {"store": store, "name": None, "source_id": None,
                                                    "kind": kind}).all()
    return [{**row._mapping, "location": redacted(row.location)} for row in rows]


def set_mapping(conn: Connection, source_id: int, mapping: dict[str, Any], created_by: str) -> dict[str, Any]:
    """Validate and store a new mapping for a source: it becomes the next version (returned with the
    source). Import runs already under way keep the version they started with."""
    source = _one(conn, source_id=source_id)
    validate_mapping(mapping, source["format"])
    if not (created_by or "").strip():
        raise MarketsyncError("say who is changing the mapping (created_by)")
    conn.execute(query_beside(__file__, "mapping_version_insert.sql"), {
        "source_id": source_id, "mapping": json.dumps(mapping), "created_by": created_by.strip(),
    }).scalar_one()
    return _one(conn, source_id=source_id)


def _one(conn: Connection, source_id: int) -> dict[str, Any]:
    row = conn.execute(query_beside(__file__, "source_select.sql"),
                       {"store": None, "name": None, "source_id": source_id, "kind": None}).first()
    if row is None:
        raise MarketsyncError(f"there is no catalog source {source_id}")
    return dict(row._mapping)


def validate_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Check the settings a pulled feed understands (see the module docstring); others pass through."""
    if not isinstance(settings, dict):
        raise MarketsyncError("source settings must be an object of name: value")
    share = settings.get("max_bad_share", DEFAULT_MAX_BAD_SHARE)
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
        raise MarketsyncError(f"max_bad_share must be a number from 0 to 1, not {share!r}")
    connect_by = settings.get("connect_by", [])
    if isinstance(connect_by, str):
        connect_by = [connect_by]
    if not isinstance(connect_by, list) or any(key not in CONNECT_KEYS for key in connect_by):
        raise MarketsyncError(f"connect_by must list 'sku' and/or 'gtin', not {settings.get('connect_by')!r}")
    if not isinstance(settings.get("plain_ftp_login", False), bool):
        raise MarketsyncError("plain_ftp_login must be true or false")
    limit = settings.get("max_download_mb")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, float))
                              or not 0 < limit <= MAX_DOWNLOAD_MB_CEILING):
        raise MarketsyncError(f"max_download_mb must be a number of megabytes above 0 and at most "
                              f"{MAX_DOWNLOAD_MB_CEILING:,}, not {limit!r}")
    return {**settings, **({"connect_by": connect_by} if "connect_by" in settings else {})}


def max_download_bytes(source: dict[str, Any]) -> int | None:
    """This feed's own download cap in bytes (its max_download_mb), or None for the transport's default."""
    limit = (source.get("settings") or {}).get("max_download_mb")
    return None if limit is None else int(float(limit) * 1024 * 1024)


def plain_ftp_login(source: dict[str, Any]) -> bool:
    """True when the feed's settings say its FTP server takes a login only over plain FTP."""
    return (source.get("settings") or {}).get("plain_ftp_login") is True


def max_bad_share(source: dict[str, Any]) -> float:
    return float((source.get("settings") or {}).get("max_bad_share", DEFAULT_MAX_BAD_SHARE))


def connect_by(source: dict[str, Any]) -> list[str]:
    keys = (source.get("settings") or {}).get("connect_by") or []
    return [keys] if isinstance(keys, str) else list(keys)


# ---------------------------------------------------------------- locations and their credentials

def check_location(location: str) -> None:
    """A feed location is an http(s) or ftp(s) URL the outbound URL policy allows (or a path inside a
    local folder the deployment allows), without a password in it."""
    try:
        check_url_or_path(location, SCHEMES, f"feed location {redacted(location)}")
    except UrlRefused as exc:
        raise MarketsyncError(str(exc)) from None
    if urlsplit(location).password is not None:
        raise MarketsyncError(f"feed location {redacted(location)} carries a password: store it as the source's "
                              "credentials, not in the URL")


def split_credentials(location: str) -> tuple[str, str | None, str | None]:
    """(location without the password, user, password) of an RFC 1738 URL; user and password decoded."""
    from urllib.parse import unquote

    parts = urlsplit(location)
    if parts.password is None:
        return location, (unquote(parts.username) if parts.username else None), None
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    bare = urlunsplit((parts.scheme, f"{user}@{host}" if user else host, parts.path, parts.query, parts.fragment))
    return bare, unquote(user) if user else None, unquote(parts.password)


def shown_location(location: str | None, username: str | None = None) -> str | None:
    """A location as a person sees it: redacted, with the user whose password is stored encrypted
    (kept apart from the location) shown as `user:***@host`."""
    shown = redacted(location)
    if not shown or not username:
        return shown
    parts = urlsplit(shown)
    if "@" in parts.netloc or not parts.netloc:
        return shown
    return urlunsplit((parts.scheme, f"{quote(username, safe='')}:***@{parts.netloc}", parts.path, parts.query,
                       parts.fragment))


def redacted(location: str | None) -> str | None:
    """A location fit to show anywhere: credentials become `user:***@host`, secret-looking query
    parameters `***`. Never fails, whatever the input (a malformed URL is masked as a whole after '@')."""
    if location is None:
        return None
    try:
        parts = urlsplit(location)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:***@{host}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode([(k, "***" if _SECRET_PARAMS.search(k) else v) for k, v in pairs], safe="*")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        head, at, tail = location.rpartition("@")
        if not at:
            return location
        scheme, sep, userinfo = head.rpartition("://")
        return f"{scheme}{sep}{userinfo.split(':', 1)[0]}:***@{tail}"
