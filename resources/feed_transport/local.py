"""Feeds from local drops: `file:///srv/drop/feed.csv` or a plain path inside a folder the deployment
allows (MARKETSYNC_LOCAL_FILE_DIRS, resources.url_policy), copied through the same sink as a download, so
the size limit and gzip inflation apply as for any other feed."""
from __future__ import annotations

import mimetypes

from marketsync.resources.feed_transport.errors import FeedTransportError
from marketsync.resources.feed_transport.settings import Settings
from marketsync.resources.feed_transport.sink import Attempts, Sink
from marketsync.resources.url_policy import UrlRefused, check_local_path


def fetch_local(settings: Settings, url: str, creds: dict | None, where: str, sink: Sink, state: Attempts) -> None:
    """One attempt at copying a local file into `sink` (`creds` are not used)."""
    if not settings.allow_local_files:
        raise FeedTransportError(where, "local files are disabled (allow_local_files)", "rejected")
    try:
        # The real path (links resolved) inside an allowed folder: the file that is then opened.
        path = check_local_path(url, "the feed location")
    except UrlRefused as exc:
        raise FeedTransportError(where, str(exc), "rejected") from None
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
