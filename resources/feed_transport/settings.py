"""What the protocol modules (http, ftp, local, stream) are given by the FeedTransport resource: its
configuration, read through the `Settings` protocol (the resource itself is passed, so no module below
it imports it), and the signature of one download attempt (`Fetcher`)."""
from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Protocol

from marketsync.resources.feed_transport.sink import Attempts, Sink
from marketsync.resources.feed_transport.tls import tls_context


class Settings(Protocol):
    """The fields of FeedTransport that a download attempt reads (see the resource for their meaning)."""

    connect_timeout_seconds: float
    read_timeout_seconds: float
    max_download_bytes: int | None
    max_inflate_ratio: float
    chunk_bytes: int
    ca_file: str | None
    allow_local_files: bool


def settings_tls(settings: Settings) -> ssl.SSLContext:
    """The TLS context of these settings, shared by every download with the same trust."""
    return tls_context(settings.ca_file)


# One attempt at one download: (settings, url without credentials, credentials, redacted URL, sink, state).
Fetcher = Callable[[Settings, str, dict | None, str, Sink, Attempts], None]
