"""Feeds from local drops: `file:///srv/drop/feed.csv` or a plain path, copied through the same sink as a
download, so the size limit and gzip inflation apply as for any other feed."""
from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from marketsync.resources.feed_transport.errors import FeedTransportError
from marketsync.resources.feed_transport.settings import Settings
from marketsync.resources.feed_transport.sink import Attempts, Sink
from marketsync.resources.feed_transport.urls import url_parts


def fetch_local(settings: Settings, url: str, creds: dict | None, where: str, sink: Sink, state: Attempts) -> None:
    """One attempt at copying a local file into `sink` (`creds` are not used)."""
    if not settings.allow_local_files:
        raise FeedTransportError(where, "local files are disabled (allow_local_files)", "rejected")
    if url_parts(url):
        parsed = urlsplit(url)
        if parsed.netloc not in ("", "localhost"):
            raise FeedTransportError(where, "file:// URLs must name a local path", "rejected")
        path = Path(url2pathname(parsed.path))
    else:
        path = Path(url)
    state.content_type = mimetypes.guess_type(path.name)[0]
    if sink.received:
        sink.reset()
    try:
        source = open(path, "rb")  # noqa: SIM115 - `with source:` below closes it; the try is for open() only
    except FileNotFoundError:
        raise FeedTransportError(where, "no such file", "not_found") from None
    except OSError as exc:
        raise FeedTransportError(where, f"cannot read it ({exc.strerror or type(exc).__name__})",
                                 "rejected") from None
    with source:
        while chunk := source.read(settings.chunk_bytes):
            sink.write(chunk)
