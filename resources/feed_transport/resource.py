"""The FeedTransport Dagster resource: its configuration, `download` (any supported scheme to local disk,
retried and resumed) and `open_stream` (an http(s) feed read as it arrives). The protocol modules do
the transfers; this module picks one by the URL's scheme, runs the attempts, and turns every failure
into one FeedTransportError scrubbed of the credentials."""
from __future__ import annotations

import logging
import mimetypes
import os
import time
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from dagster import ConfigurableResource
from tenacity import Retrying

from marketsync.resources.feed_transport.errors import DownloadResult, FeedTransportError
from marketsync.resources.feed_transport.ftp import fetch_ftp
from marketsync.resources.feed_transport.http import fetch_http, http_client_options, open_http
from marketsync.resources.feed_transport.local import fetch_local
from marketsync.resources.feed_transport.settings import Fetcher
from marketsync.resources.feed_transport.sink import (
    Attempts,
    Sink,
    SizeLimit,
    TooLarge,
    WriteFailed,
    default_size_limit,
)
from marketsync.resources.feed_transport.stream import FeedStream
from marketsync.resources.feed_transport.urls import credentials_scrubber, shown_as, split_credentials, url_parts
from marketsync.resources.http_retry import retrying
from marketsync.resources.inflation import DEFAULT_MAX_RATIO, InflateRatioExceeded
from marketsync.resources.url_policy import FEED_SCHEMES, UrlRefused, check_location

log = logging.getLogger(__name__)

FETCHERS: dict[str, Fetcher] = {
    "http": fetch_http, "https": fetch_http, "ftp": fetch_ftp, "ftps": fetch_ftp, "file": fetch_local}


class FeedTransport(ConfigurableResource):
    """Downloads supplier feeds to local disk: http(s)://, ftp:// and ftps:// (explicit TLS), and file://
    or plain paths inside the folders the deployment allows. Every URL and every connection passes the
    outbound URL policy (resources.url_policy). Transient failures (connection errors, timeouts, HTTP 5xx
    and 429, FTP 4xx, a body cut short) are retried with jittered exponential backoff that honours
    Retry-After, resuming where the last attempt stopped when the server allows it."""

    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 60.0  # longest silence allowed mid-transfer
    # None: MARKETSYNC_FEED_MAX_DOWNLOAD_MB, else 2,048 MB; a feed's own max_download_mb wins (sink.SizeLimit).
    max_download_bytes: int | None = None
    max_inflate_ratio: float = DEFAULT_MAX_RATIO  # gzip/deflate output per compressed byte (resources.inflation)
    retry_attempts: int = 4
    retry_wait_seconds: float = 1.0  # backoff base: waits are random in [0, base * 2**n]
    max_retry_wait_seconds: float = 60.0
    chunk_bytes: int = 1024 * 1024
    ca_file: str | None = None  # a private CA to trust (a supplier's, or the sandbox's)
    allow_local_files: bool = True

    # ---------------------------------------------------------------- public
    def download(self, url: str, dest: Path, credentials: dict | None = None, max_bytes: int | None = None, *,
                 plain_ftp_login: bool = False) -> DownloadResult:
        """Fetch `url` to `dest` (written to a sibling `.part` file, renamed when complete).

        `credentials`: {"username", "password"} (HTTP Basic, FTP login) or {"token"} (HTTP Bearer);
        they win over credentials in the URL. A login goes over plain ftp:// only with `plain_ftp_login`
        (the feed's own setting says the server offers nothing else). A gzip payload is inflated on the
        way unless `dest` ends in `.gz`. `max_bytes`: this feed's cap (its max_download_mb), over the
        transport's default. Raises FeedTransportError (a MarketsyncError) naming the redacted URL."""
        dest = Path(dest)
        bare, from_url = split_credentials(url)
        creds = dict(credentials) if credentials else from_url
        where = shown_as(bare, creds)
        scrubber = credentials_scrubber(creds, from_url)
        scheme = urlsplit(bare).scheme.lower() if url_parts(bare) else "file"
        fetch = FETCHERS.get(scheme)
        if fetch is None:
            raise FeedTransportError(where, f"the scheme '{scheme}' is not supported "
                                     "(use http, https, ftp or ftps)", "rejected")
        self._check_policy(bare, where)
        partial = dest.with_name(f".{dest.name}.part")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            limit = self.size_limit(max_bytes)
            sink = Sink(partial, limit.bytes, inflate=not dest.name.lower().endswith(".gz"),
                        max_ratio=self.max_inflate_ratio)
        except OSError as exc:
            raise FeedTransportError(where, f"could not write {dest} ({exc.strerror or type(exc).__name__})",
                                     "rejected") from None
        state = Attempts(plain_ftp_login=plain_ftp_login)
        started = time.perf_counter()
        log.debug("downloading %s to %s", where, dest)
        try:
            for attempt in self._retrying(where):
                with attempt:
                    state.count += 1
                    fetch(self, bare, creds, where, sink, state)
            sink.finish()
        except FeedTransportError as exc:
            sink.discard()
            exc.after_attempts(state.count)
            exc.args = (scrubber.scrub(exc.args[0]),)
            log.warning("%s", exc.args[0])
            raise exc from None
        except UrlRefused as exc:  # a connection (a redirect's included) to an address the policy refuses
            sink.discard()
            raise FeedTransportError(where, str(exc), "rejected") from None
        except TooLarge:
            sink.discard()
            raise FeedTransportError(where, limit.reason(), "too_large") from None
        except InflateRatioExceeded as exc:
            sink.discard()
            raise FeedTransportError(where, f"{exc} (max_inflate_ratio)", "too_large") from None
        except zlib.error:
            sink.discard()
            raise FeedTransportError(where, "the gzip data is corrupt or cut short", "corrupt") from None
        except WriteFailed as exc:
            sink.discard()
            raise FeedTransportError(where, f"could not write {dest} ({exc})", "rejected") from None
        except BaseException:
            sink.discard()
            raise
        os.replace(partial, dest)
        seconds = time.perf_counter() - started
        content_type = state.content_type
        if sink.inflating:  # what is on disk is what was inside the gzip
            content_type = (mimetypes.guess_type(urlsplit(bare).path.removesuffix(".gz"))[0]
                            or "application/octet-stream")
        result = DownloadResult(dest, sink.written, seconds, content_type, state.count)
        log.info("downloaded %s: %d bytes in %.2f s (%.1f MB/s, %d attempt(s))", where, result.bytes,
                 seconds, result.megabytes_per_second, state.count)
        return result

    def open_stream(self, url: str, credentials: dict | None = None,
                    headers: dict[str, str] | None = None, max_bytes: int | None = None) -> FeedStream:
        """An http(s) feed read as it arrives instead of landing on disk: iterate the returned stream for
        the chunks of its body (a Content-Encoding undone) and close it (or use it as a context manager).
        Opening it (connecting, a 200 answer) is retried as `download` retries; a failure once the body
        flows raises FeedTransportError (kind broken, timeout, ...) at once: the reader has used what came.
        `credentials`, `headers` and `max_bytes` as `download` takes them, `headers` added to the request's;
        past the size cap, or the ratio cap of a compressed body, iterating raises kind too_large."""
        bare, from_url = split_credentials(url)
        creds = dict(credentials) if credentials else from_url
        where = shown_as(bare, creds)
        scrubber = credentials_scrubber(creds, from_url)
        if not url_parts(bare) or urlsplit(bare).scheme.lower() not in ("http", "https"):
            raise FeedTransportError(where, "only http(s) feeds can be read as a stream", "rejected")
        self._check_policy(bare, where)
        client = httpx.Client(**http_client_options(self))
        count = 0
        try:
            for attempt in self._retrying(where):
                with attempt:
                    count += 1
                    response = open_http(self, client, bare, creds, where, headers or {})
        except UrlRefused as exc:
            client.close()
            raise FeedTransportError(where, str(exc), "rejected") from None
        except FeedTransportError as exc:
            client.close()
            exc.after_attempts(count)
            exc.args = (scrubber.scrub(exc.args[0]),)
            raise exc from None
        except BaseException:
            client.close()
            raise
        return FeedStream(self, client, response, where, scrubber, self.size_limit(max_bytes))

    # ---------------------------------------------------------------- plumbing
    @staticmethod
    def _check_policy(bare: str, where: str) -> None:
        """The outbound URL policy, before anything is opened: a network URL's scheme and host (each
        connection checks its address again), a local path's folder."""
        try:
            check_location(bare, FEED_SCHEMES, "the feed location")
        except UrlRefused as exc:
            raise FeedTransportError(where, str(exc), "rejected") from None

    def _retrying(self, where: str) -> Retrying:
        def before_sleep(retry_state) -> None:
            exc = retry_state.outcome.exception()
            log.warning("attempt %d of %d failed (%s); retrying in %.1f s", retry_state.attempt_number,
                        self.retry_attempts, exc.reason if isinstance(exc, FeedTransportError) else type(exc).__name__,
                        retry_state.next_action.sleep if retry_state.next_action else 0.0)

        return retrying(FeedTransportError, self.retry_attempts, self.retry_wait_seconds, self.max_retry_wait_seconds,
                        before_sleep=before_sleep)

    def size_limit(self, max_bytes: int | None = None) -> SizeLimit:
        """The cap of one download: `max_bytes` (the feed's own setting), else the transport's default."""
        if max_bytes is not None:
            return SizeLimit(int(max_bytes), "max_download_mb of this feed")
        return default_size_limit(self.max_download_bytes)
