"""Getting supplier feeds onto disk: HTTP(S), FTP/FTPS and local drops, streamed in chunks.

A supplier publishes its catalog or stock as a file somewhere: on its web server, on an FTP box, or
dropped into a shared folder. The "downloading" step of an import run calls `FeedTransport.download`,
which writes that file to local disk a chunk at a time, so memory stays flat whether the feed is 2 MB
or 20 GB; the parsers then stream from disk.

Credentials arrive the way Jetti's pull flow has them, in the URL (RFC 1738:
`ftp://user:p%40ss@host:21/exports/feed.csv`), or separately. The project stores a feed's URL without
them (`split_credentials`) and the credentials encrypted in `ops.credentials`, then hands both back
here; credentials passed separately win over the URL's. Any URL that reaches a log line, an error or a
return value goes through `redact` first (`user:***@host`), and every error message is additionally
scrubbed of the secret values themselves.
"""
from __future__ import annotations

import ftplib
import functools
import logging
import mimetypes
import os
import re
import socket
import ssl
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit
from urllib.request import url2pathname

import httpx
from dagster import ConfigurableResource
from tenacity import Retrying

from marketsync.resources.errors import MarketsyncError
from marketsync.resources.http_client import CONNECT_FAILURES, client_options, transport_failure
from marketsync.resources.http_retry import HttpCallError, retry_after_seconds, retrying
from marketsync.resources.scrubbing import SecretScrubber

log = logging.getLogger(__name__)

_GZIP_MAGIC = b"\x1f\x8b"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
# Query parameters that carry secrets in feed URLs more often than not (`?token=`, `?apikey=`,
# signed-URL signatures); their values are hidden like a password.
_SECRET_PARAM = re.compile(r"pass|pwd|secret|token|key|sig|auth|credential|session", re.I)


# --------------------------------------------------------------------------- URLs and credentials
@dataclass(frozen=True)
class UrlParts:
    prefix: str  # "scheme://", as written
    userinfo: str | None  # percent-encoded, as written
    hostport: str
    tail: str  # path, query and fragment, as written


def _first(text: str, chars: str, start: int = 0) -> int:
    found = [i for i in (text.find(c, start) for c in chars) if i != -1]
    return min(found) if found else len(text)


def _port_ok(hostport: str) -> bool:
    """True when `hostport` is a plausible host[:port]: a non-numeric "port" means a password that
    was pasted without percent-encoding has swallowed the real host."""
    if hostport.startswith("["):
        close = hostport.find("]")
        rest = hostport[close + 1:] if close != -1 else ":x"
    else:
        rest = hostport[hostport.find(":"):] if ":" in hostport else ""
    return rest == "" or (rest.startswith(":") and rest[1:].isdigit()) or rest == ":"


def url_parts(url: str) -> UrlParts | None:
    """Splits a URL without trusting it to be well-formed; None when it has no `scheme://`.

    RFC 3986 wants reserved characters in a password percent-encoded, but people paste them raw.
    When the strict reading gives an implausible host (`user:p@ss:w/rd@host` reads as host `ss:w`),
    the userinfo is taken to run to the last '@' before the query: over-hiding beats leaking."""
    scheme, sep, rest = url.partition("://")
    if not sep or not _SCHEME.fullmatch(scheme):
        return None
    prefix = url[: len(scheme) + 3]
    end = _first(rest, "/?#")
    authority = rest[:end]
    if "@" not in authority and _port_ok(authority):
        return UrlParts(prefix, None, authority, rest[end:])
    at = authority.rfind("@")
    if at != -1 and _port_ok(authority[at + 1:]) and authority[at + 1:]:
        return UrlParts(prefix, authority[:at], authority[at + 1:], rest[end:])
    at = rest.rfind("@", 0, _first(rest, "?#"))
    if at == -1:
        return UrlParts(prefix, "", "", "")  # unreadable: hide all of it
    after = rest[at + 1:]
    end = _first(after, "/?#")
    if not _port_ok(after[:end]):
        return UrlParts(prefix, "", "", "")
    return UrlParts(prefix, rest[:at], after[:end], after[end:])


def _redact_query(tail: str) -> str:
    path, q, rest = tail.partition("?")
    if not q:
        return tail
    query, hash_, fragment = rest.partition("#")
    params = []
    for param in query.split("&"):
        name, eq, _ = param.partition("=")
        params.append(f"{name}=***" if eq and _SECRET_PARAM.search(unquote(name)) else param)
    return f"{path}?{'&'.join(params)}{hash_}{fragment}"


def redact(url: str) -> str:
    """The URL as it may be shown anywhere: `ftp://user:***@host/path`, secret-looking query values
    as `***`. A local path comes back unchanged; a URL too malformed to read is hidden whole."""
    parts = url_parts(url)
    if parts is None:
        return url
    if parts.userinfo == "" and not parts.hostport:
        return parts.prefix + "***"
    userinfo = ""
    if parts.userinfo is not None:
        user, colon, _ = parts.userinfo.partition(":")
        # A user without a password is often a token (`https://TOKEN@host`): hide it whole.
        userinfo = f"{user}:***@" if colon else "***@"
    return f"{parts.prefix}{userinfo}{parts.hostport}{_redact_query(parts.tail)}"


def split_credentials(url: str) -> tuple[str, dict[str, str] | None]:
    """`(url_without_credentials, {"username", "password"})`, the values percent-decoded per RFC 1738
    (`%40` is '@'; '+' stays '+'), or `(url, None)` when the URL carries none. The project stores the
    first in plain text and the second encrypted."""
    parts = url_parts(url)
    if parts is None or parts.userinfo is None:
        return url, None
    if not parts.hostport:
        raise MarketsyncError(f"the feed URL {redact(url)} cannot be read: percent-encode "
                              "the reserved characters ('/', '?', '#') in its password")
    user, _, password = parts.userinfo.partition(":")
    return f"{parts.prefix}{parts.hostport}{parts.tail}", {"username": unquote(user), "password": unquote(password)}


def credentials_scrubber(*credentials: dict[str, str] | None) -> SecretScrubber:
    """A scrubber of every password and token in `credentials` ({"username", "password"} or {"token"}),
    in every spelling (resources/scrubbing.py), the Basic pair with the username included."""
    scrubber = SecretScrubber()
    for creds in credentials:
        for name in ("password", "token", "bearer_token"):
            scrubber.pin((creds or {}).get(name), username=(creds or {}).get("username") or "")
    return scrubber


# --------------------------------------------------------------------------- results and errors
@dataclass(frozen=True)
class DownloadResult:
    """A feed on local disk: `bytes` as written (after gzip inflation), `seconds` of wall time
    including retries, the server's `content_type` (guessed from the name for FTP and files)."""

    path: Path
    bytes: int
    seconds: float
    content_type: str | None
    attempts: int = 1

    @property
    def megabytes_per_second(self) -> float:
        return self.bytes / 1e6 / self.seconds if self.seconds > 0 else float("inf")


class FeedTransportError(HttpCallError):
    """A feed that could not be fetched, as one sentence naming the URL (redacted) and the cause.

    `kind` tells an import run what to do: auth (fix the credentials), not_found (fix the URL),
    rejected, tls, too_large, corrupt (the supplier must fix the file), or the transient ones it
    already retried: server, rate_limited, unreachable, timeout, broken."""

    TRANSIENT = frozenset({"server", "rate_limited", "unreachable", "timeout", "broken"})

    def __init__(self, where: str, reason: str, kind: str, *, status: int | None = None,
                 retry_after: float | None = None):
        super().__init__(f"could not download {where}: {reason}", kind, retry_after)
        self.where, self.reason = where, reason
        self.status = status
        self.attempts = 1

    def after_attempts(self, attempts: int) -> FeedTransportError:
        self.attempts = attempts
        if attempts > 1:
            self.args = (f"{self.args[0]} (gave up after {attempts} attempts)",)
        return self


class _TooLarge(Exception):
    pass


class _WriteFailed(Exception):
    """The local disk refused a write (full, read-only): never worth a retry."""

    def __init__(self, error: OSError):
        super().__init__(error.strerror or type(error).__name__)


# --------------------------------------------------------------------------- writing to disk
class _Gunzip:
    """Streaming gzip inflation, multi-member files included, with bounded output per step so a
    small compressed chunk cannot balloon in memory (a decompression bomb hits the size limit
    one megabyte at a time instead)."""

    STEP = 1 << 20

    def __init__(self) -> None:
        self._inflater = zlib.decompressobj(wbits=31)
        self._started = False
        self._done = False  # finished a member and saw nothing after it yet

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            if self._done:
                if not data.startswith(_GZIP_MAGIC[: len(data)]):
                    return  # trailing padding some tools append: not another member
                self._inflater, self._done = zlib.decompressobj(wbits=31), False
            self._started = True
            piece = self._inflater.decompress(data, self.STEP)
            if piece:
                yield piece
            if self._inflater.eof:
                self._done = True
                data = self._inflater.unused_data
            else:
                data = self._inflater.unconsumed_tail

    def finish(self) -> bytes:
        if self._done or not self._started:
            return b""
        tail = self._inflater.flush()
        if not self._inflater.eof:
            raise zlib.error("the gzip stream ends early")
        return tail


class _Sink:
    """The partial file of one download. Counts the bytes received (where a resumed attempt picks
    up), inflates a gzip payload unless the destination is itself named *.gz, and stops at the
    size limit, which therefore also bounds what a gzip bomb can write."""

    def __init__(self, path: Path, limit: int, inflate: bool):
        self.path, self.limit, self._inflate = path, limit, inflate
        self._file = open(path, "wb")  # noqa: SIM115 - kept on the sink across writes; close() closes it
        self.received = 0
        self.written = 0
        self._head = b""
        self._gunzip: _Gunzip | None = None
        self._decided = False

    @property
    def inflating(self) -> bool:
        return self._gunzip is not None

    def write(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if not self._decided:
            self._head += chunk
            if len(self._head) < len(_GZIP_MAGIC):
                return
            chunk, self._head, self._decided = self._head, b"", True
            if self._inflate and chunk.startswith(_GZIP_MAGIC):
                self._gunzip = _Gunzip()
        if self._gunzip is None:
            self._emit(chunk)
        else:
            for piece in self._gunzip.feed(chunk):
                self._emit(piece)

    def _emit(self, data: bytes) -> None:
        if self.written + len(data) > self.limit:
            raise _TooLarge
        try:
            self._file.write(data)
        except OSError as exc:
            raise _WriteFailed(exc) from None
        self.written += len(data)

    def finish(self) -> None:
        if self._head:
            self._emit(self._head)
            self._head = b""
        if self._gunzip is not None:
            self._emit(self._gunzip.finish())
        self._file.close()

    def reset(self) -> None:
        """Start over: the server would not resume, or the file changed under us."""
        self._file.seek(0)
        self._file.truncate()
        self.received = self.written = 0
        self._head, self._gunzip, self._decided = b"", None, False

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)


@dataclass
class _Attempts:
    """What one download remembers between attempts, to resume rather than restart."""

    validator: str | None = None  # HTTP strong ETag or Last-Modified of the first response
    resumable: bool = False
    ftp_size: int | None = None
    content_type: str | None = None
    count: int = 0
    step: str = "connect"  # the FTP command under way, for error messages


# --------------------------------------------------------------------------- the resource
class FeedTransport(ConfigurableResource):
    """Downloads supplier feeds to local disk: http(s)://, ftp:// and ftps:// (explicit TLS), file://
    and plain paths. Transient failures (connection errors, timeouts, HTTP 5xx and 429, FTP 4xx, a
    body cut short) are retried with jittered exponential backoff that honours Retry-After, resuming
    where the last attempt stopped when the server allows it."""

    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 60.0  # longest silence allowed mid-transfer
    max_download_bytes: int = 20 * 1024**3
    retry_attempts: int = 4
    retry_wait_seconds: float = 1.0  # backoff base: waits are random in [0, base * 2**n]
    max_retry_wait_seconds: float = 60.0
    chunk_bytes: int = 1024 * 1024
    verify_tls: bool = True
    ca_file: str | None = None  # a private CA to trust (a supplier's, or the sandbox's)
    allow_local_files: bool = True

    # ---------------------------------------------------------------- public
    def download(self, url: str, dest: Path, credentials: dict | None = None) -> DownloadResult:
        """Fetch `url` to `dest` (written to a sibling `.part` file, renamed when complete).

        `credentials`: {"username", "password"} (HTTP Basic, FTP login) or {"token"} (HTTP Bearer);
        they win over credentials in the URL. A gzip payload is inflated on the way unless `dest`
        ends in `.gz`. Raises FeedTransportError (a MarketsyncError) naming the redacted URL."""
        dest = Path(dest)
        bare, from_url = split_credentials(url)
        creds = dict(credentials) if credentials else from_url
        where = self._where(bare, creds)
        scrubber = credentials_scrubber(creds, from_url)
        scheme = urlsplit(bare).scheme.lower() if url_parts(bare) else "file"
        fetchers: dict[str, Callable[[str, dict | None, str, _Sink, _Attempts], None]] = {
            "http": self._http, "https": self._http, "ftp": self._ftp, "ftps": self._ftp, "file": self._local}
        fetch = fetchers.get(scheme)
        if fetch is None:
            raise FeedTransportError(where, f"the scheme '{scheme}' is not supported "
                                     "(use http, https, ftp, ftps or file)", "rejected")
        partial = dest.with_name(f".{dest.name}.part")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            sink = _Sink(partial, self.max_download_bytes, inflate=not dest.name.lower().endswith(".gz"))
        except OSError as exc:
            raise FeedTransportError(where, f"could not write {dest} ({exc.strerror or type(exc).__name__})",
                                     "rejected") from None
        state = _Attempts()
        started = time.perf_counter()
        log.debug("downloading %s to %s", where, dest)
        try:
            for attempt in self._retrying(where):
                with attempt:
                    state.count += 1
                    fetch(bare, creds, where, sink, state)
            sink.finish()
        except FeedTransportError as exc:
            sink.discard()
            exc.after_attempts(state.count)
            exc.args = (scrubber.scrub(exc.args[0]),)
            log.warning("%s", exc.args[0])
            raise exc from None
        except _TooLarge:
            sink.discard()
            raise self._too_large(where) from None
        except zlib.error:
            sink.discard()
            raise FeedTransportError(where, "the gzip data is corrupt or cut short", "corrupt") from None
        except _WriteFailed as exc:
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

    # ---------------------------------------------------------------- plumbing
    @staticmethod
    def _where(bare: str, creds: dict | None) -> str:
        """The URL as shown in logs and errors, with the user that is logging in (if any)."""
        shown = redact(bare)
        parts = url_parts(bare)
        if parts is None or not creds or not (creds.get("username") or creds.get("token") or creds.get("bearer_token")):
            return shown
        user = quote(creds.get("username") or "", safe="")
        # A user without a password is usually a token in disguise (`https://TOKEN@host`).
        at = f"{user}:***@" if user and creds.get("password") else "***@"
        return shown.replace(parts.prefix, parts.prefix + at, 1)

    def _retrying(self, where: str) -> Retrying:
        def before_sleep(retry_state) -> None:
            exc = retry_state.outcome.exception()
            log.warning("attempt %d of %d failed (%s); retrying in %.1f s", retry_state.attempt_number,
                        self.retry_attempts, exc.reason if isinstance(exc, FeedTransportError) else type(exc).__name__,
                        retry_state.next_action.sleep if retry_state.next_action else 0.0)

        return retrying(FeedTransportError, self.retry_attempts, self.retry_wait_seconds, self.max_retry_wait_seconds,
                        before_sleep=before_sleep)

    def _tls_context(self) -> ssl.SSLContext:
        return _tls_context(self.verify_tls, self.ca_file)

    def _too_large(self, where: str) -> FeedTransportError:
        return FeedTransportError(where, f"the feed is larger than the {self.max_download_bytes:,} byte limit "
                                  "(max_download_bytes)", "too_large")

    # ---------------------------------------------------------------- HTTP(S)
    def open_stream(self, url: str, credentials: dict | None = None,
                    headers: dict[str, str] | None = None) -> FeedStream:
        """An http(s) feed read as it arrives instead of landing on disk: iterate the returned stream for
        the chunks of its body (a Content-Encoding undone) and close it (or use it as a context manager).
        Opening it (connecting, a 200 answer) is retried as `download` retries; a failure once the body
        flows raises FeedTransportError (kind broken, timeout, ...) at once: the reader has used what came.
        `credentials` and `headers` as `download` takes them, `headers` added to the request's."""
        bare, from_url = split_credentials(url)
        creds = dict(credentials) if credentials else from_url
        where = self._where(bare, creds)
        scrubber = credentials_scrubber(creds, from_url)
        if not url_parts(bare) or urlsplit(bare).scheme.lower() not in ("http", "https"):
            raise FeedTransportError(where, "only http(s) feeds can be read as a stream", "rejected")
        client = httpx.Client(**self._client_options())
        count = 0
        try:
            for attempt in self._retrying(where):
                with attempt:
                    count += 1
                    response = self._open_http(client, bare, creds, where, headers or {})
        except FeedTransportError as exc:
            client.close()
            exc.after_attempts(count)
            exc.args = (scrubber.scrub(exc.args[0]),)
            raise exc from None
        except BaseException:
            client.close()
            raise
        return FeedStream(self, client, response, where, scrubber)

    def _client_options(self) -> dict:
        """The httpx client of a download: no answer size cap (what is written is bounded), redirects
        followed, this transport's timeouts and trust."""
        return client_options(httpx.Timeout(self.read_timeout_seconds, connect=self.connect_timeout_seconds),
                              limits=None, follow_redirects=True, verify=self._tls_context())

    @staticmethod
    def _authorisation(creds: dict | None, headers: dict[str, str]) -> httpx.Auth | None:
        """Bearer token into `headers`, or the Basic auth of a username and password."""
        if creds and (creds.get("token") or creds.get("bearer_token")):
            headers["Authorization"] = f"Bearer {creds.get('token') or creds.get('bearer_token')}"
        elif creds and creds.get("username") is not None:
            return httpx.BasicAuth(creds["username"], creds.get("password") or "")
        return None

    def _open_http(self, client: httpx.Client, url: str, creds: dict | None, where: str,
                   extra: dict[str, str]) -> httpx.Response:
        """The answer of one GET, streaming, once it is 200; else the failure, classified."""
        headers = {"User-Agent": "marketsync-feeds/1", "Accept-Encoding": "gzip, deflate", **extra}
        auth = self._authorisation(creds, headers)
        try:
            response = client.send(client.build_request("GET", url, headers=headers), auth=auth, stream=True)
        except httpx.HTTPError as exc:
            raise self._from_httpx(where, exc, 0) from None
        if response.status_code != 200:
            response.close()
            raise self._from_status(where, response)
        return response

    def _http(self, url: str, creds: dict | None, where: str, sink: _Sink, state: _Attempts) -> None:
        try:
            self._http_transfer(url, creds, where, sink, state)
        except httpx.HTTPError as exc:
            # Not chained: httpx's own text names the URL and may echo what the server said.
            raise self._from_httpx(where, exc, sink.received) from None

    def _http_transfer(self, url: str, creds: dict | None, where: str, sink: _Sink, state: _Attempts) -> None:
        headers = {"User-Agent": "marketsync-feeds/1", "Accept-Encoding": "gzip, deflate"}
        auth = self._authorisation(creds, headers)
        resume = sink.received > 0 and state.resumable and state.validator is not None
        if resume:
            headers["Range"] = f"bytes={sink.received}-"
            headers["If-Range"] = state.validator
        elif sink.received:
            sink.reset()
        with httpx.Client(**self._client_options()) as client, \
                client.stream("GET", url, headers=headers, auth=auth) as response:
            status = response.status_code
            if (status == 206 and resume
                    and response.headers.get("content-range", "").startswith(f"bytes {sink.received}-")):
                log.info("resuming %s at byte %d", where, sink.received)
            elif status == 200:
                if sink.received:
                    sink.reset()  # the server sent the whole file again (or it changed)
                self._remember(response, state)
            elif status in (206, 416) and resume:
                sink.reset()  # a range we did not ask for, or the file shrank: start over
                state.resumable = False
                raise FeedTransportError(where, f"the server would not resume the transfer (HTTP {status})", "broken")
            else:
                raise self._from_status(where, response)
            # Inflated or decoded, a body only grows: a declared length over the limit is final.
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and sink.written + int(declared) > self.max_download_bytes:
                raise _TooLarge
            for chunk in response.iter_bytes():
                sink.write(chunk)

    @staticmethod
    def _remember(response: httpx.Response, state: _Attempts) -> None:
        """Notes whether a broken transfer can later resume with Range + If-Range: only for an
        unencoded body with a strong validator (a weak ETag cannot guard a byte range)."""
        state.content_type = response.headers.get("content-type")
        etag = response.headers.get("etag")
        state.validator = etag if etag and not etag.startswith("W/") else response.headers.get("last-modified")
        encoded = response.headers.get("content-encoding", "identity").lower() != "identity"
        state.resumable = response.headers.get("accept-ranges", "").lower() == "bytes" and not encoded

    @staticmethod
    def _from_status(where: str, response: httpx.Response) -> FeedTransportError:
        code = response.status_code
        if code in (401, 403):
            return FeedTransportError(where, f"the server refused the credentials (HTTP {code})", "auth", status=code)
        if code in (404, 410):
            return FeedTransportError(where, f"the server has no such file (HTTP {code})", "not_found", status=code)
        if code == 429:
            return FeedTransportError(where, "the server is rate limiting us (HTTP 429)", "rate_limited",
                                      status=code, retry_after=retry_after_seconds(response))
        if code == 408 or code >= 500:
            return FeedTransportError(where, f"server error (HTTP {code})", "server", status=code,
                                      retry_after=retry_after_seconds(response))
        return FeedTransportError(where, f"the server answered HTTP {code}", "rejected", status=code)

    def _from_httpx(self, where: str, exc: httpx.HTTPError, received: int) -> FeedTransportError:
        """A failure below HTTP (classified once, resources.http_client) in a download's words."""
        failure = transport_failure(exc)
        if failure == "connect_timeout":
            return FeedTransportError(where, f"no connection within {self.connect_timeout_seconds:g} s (timeout)",
                                      "timeout")
        if failure in ("timeout", "pool_timeout"):
            progress = f" after {received:,} bytes" if received else ""
            return FeedTransportError(where, f"the server sent nothing for {self.read_timeout_seconds:g} s"
                                      f"{progress} (timeout)", "timeout")
        if failure in CONNECT_FAILURES:
            return FeedTransportError(where, *CONNECT_FAILURES[failure])
        reason, kind = {
            "decoding": ("the server sent a body it declared compressed but is not", "corrupt"),
            "redirects": ("too many redirects", "rejected"),
            "unsupported": ("a redirect led to an unsupported scheme", "rejected"),
            "broken": (f"the connection broke after {received:,} bytes", "broken"),
        }.get(failure, (f"the transfer failed ({type(exc).__name__})", "broken"))
        return FeedTransportError(where, reason, kind)

    # ---------------------------------------------------------------- FTP and FTPS
    def _ftp(self, url: str, creds: dict | None, where: str, sink: _Sink, state: _Attempts) -> None:
        try:
            self._ftp_transfer(url, creds, where, sink, state)
        except ftplib.all_errors as exc:  # replies, OSError (socket, TLS), EOFError
            raise self._from_ftp(where, exc, state) from None

    def _ftp_transfer(self, url: str, creds: dict | None, where: str, sink: _Sink, state: _Attempts) -> None:
        """Passive-mode binary RETR; explicit TLS (AUTH TLS, then PROT P so the data is encrypted
        too) for ftps://. The path is walked with one CWD per segment, as RFC 1738 prescribes."""
        parsed = urlsplit(url)
        tls = parsed.scheme.lower() == "ftps"
        segments = [unquote(s) for s in parsed.path.split("/")]
        name = segments.pop().split(";type=")[0] if segments else ""
        directories = [s for s in segments if s]
        if not name:
            raise FeedTransportError(where, "the URL names a directory, not a file", "rejected")
        user = (creds or {}).get("username") or "anonymous"
        password = (creds or {}).get("password") or ("anonymous@" if user == "anonymous" else "")
        ftp: ftplib.FTP = FtpTls(context=self._tls_context()) if tls else ftplib.FTP()  # noqa: S321 - FTP and FTPS are protocols merchants' feeds use; FTPS when configured
        state.content_type = mimetypes.guess_type(name)[0]
        try:
            state.step = "connect"
            ftp.connect(parsed.hostname or "", parsed.port or 21, timeout=self.connect_timeout_seconds)
            ftp.sock.settimeout(self.read_timeout_seconds)
            ftp.timeout = self.read_timeout_seconds  # data connections use it
            if tls:
                state.step = "AUTH TLS"
                ftp.auth()
            state.step = "login"
            ftp.login(user, password)
            if tls:
                state.step = "PROT P"
                ftp.prot_p()
            ftp.set_pasv(True)
            for directory in directories:
                state.step = f"CWD {directory}"
                ftp.cwd(directory)
            state.step = "TYPE I"
            ftp.voidcmd("TYPE I")
            state.step = f"SIZE {name}"
            try:
                size = ftp.size(name)
            except ftplib.error_perm:
                size = None  # SIZE is an extension; the transfer itself will tell
            if size is not None and size > self.max_download_bytes:
                raise _TooLarge
            # Resume (REST) only if the file still has the size it had: FTP has no better validator.
            if sink.received and (size is None or size != state.ftp_size):
                sink.reset()
            state.ftp_size = size
            if sink.received:
                log.info("resuming %s at byte %d", where, sink.received)
            state.step = f"RETR {name}"
            ftp.retrbinary(f"RETR {name}", sink.write, blocksize=self.chunk_bytes, rest=sink.received or None)
            if size is not None and sink.received != size:
                raise FeedTransportError(where, f"the transfer ended after {sink.received:,} "
                                         f"of {size:,} bytes", "broken")
            try:
                ftp.quit()
            except ftplib.all_errors:
                pass
        finally:
            ftp.close()

    def _from_ftp(self, where: str, exc: BaseException, state: _Attempts) -> FeedTransportError:
        step = state.step
        if isinstance(exc, (ftplib.error_perm, ftplib.error_temp, ftplib.error_reply)):
            code = str(exc)[:3]
            if code == "530" or (step == "login" and code.startswith("5")):
                return FeedTransportError(where, f"the FTP server refused the login (reply {code})", "auth")
            if code == "550" or (code == "450" and step.startswith("RETR")):
                return FeedTransportError(where, f"the FTP server has no such file or denies access to it "
                                          f"({step.split(' ')[0]} answered {code})", "not_found")
            if step == "AUTH TLS":
                return FeedTransportError(where, "the FTP server does not offer explicit TLS "
                                          f"(AUTH TLS answered {code})", "tls")
            kind = "server" if isinstance(exc, ftplib.error_temp) else "rejected"
            return FeedTransportError(where, f"the FTP server answered {code} to {step.split(' ')[0]}", kind)
        if isinstance(exc, ssl.SSLCertVerificationError):
            return FeedTransportError(where, "the FTP server's TLS certificate is not trusted", "tls")
        if isinstance(exc, ssl.SSLError):
            return FeedTransportError(where, f"TLS failed during {step.split(' ')[0]} ({exc.reason or 'handshake'})",
                                      "tls")
        if isinstance(exc, ConnectionRefusedError):
            return FeedTransportError(where, "connection refused", "unreachable")
        if isinstance(exc, TimeoutError):
            seconds = self.connect_timeout_seconds if step == "connect" else self.read_timeout_seconds
            return FeedTransportError(where, f"no answer within {seconds:g} s during {step.split(' ')[0]} (timeout)",
                                      "timeout")
        if isinstance(exc, ftplib.error_proto):
            return FeedTransportError(where, "the FTP server's reply makes no sense", "rejected")
        if isinstance(exc, socket.gaierror):
            return FeedTransportError(where, "the host name does not resolve", "unreachable")
        return FeedTransportError(where, f"the connection broke during {step.split(' ')[0]}", "broken")

    # ---------------------------------------------------------------- local files
    def _local(self, url: str, creds: dict | None, where: str, sink: _Sink, state: _Attempts) -> None:
        """A local drop: `file:///srv/drop/feed.csv` or a plain path. Copied through the same sink,
        so size limit and gzip inflation apply as for any download."""
        if not self.allow_local_files:
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
            while chunk := source.read(self.chunk_bytes):
                sink.write(chunk)


class FeedStream:
    """An open http(s) feed (`FeedTransport.open_stream`): iterate it for the chunks of its body, then
    close it. A failure while the body flows is a FeedTransportError, scrubbed of the credentials."""

    def __init__(self, transport: FeedTransport, client: httpx.Client, response: httpx.Response, where: str,
                 scrubber: SecretScrubber):
        self._transport, self._client, self.response = transport, client, response
        self.where, self._scrubber = where, scrubber
        self.received = 0

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self.response.iter_bytes(chunk_size=self._transport.chunk_bytes):
                self.received += len(chunk)
                yield chunk
        except httpx.HTTPError as exc:
            error = self._transport._from_httpx(self.where, exc, self.received)
            error.args = (self._scrubber.scrub(error.args[0]),)
            raise error from None

    def close(self) -> None:
        self.response.close()
        self._client.close()

    def __enter__(self) -> FeedStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class FtpTls(ftplib.FTP_TLS):
    """FTP_TLS that reuses the control connection's TLS session on data connections. vsftpd
    (`require_ssl_reuse`), FileZilla Server and others refuse data connections that do not, and
    ftplib does not by itself."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)  # noqa: S321 - FTPS's data connection, wrapped in TLS below under PROT P
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size


@functools.lru_cache(maxsize=8)
def _tls_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    """Shared per configuration: loading the system's CA store costs tens of milliseconds, and
    an SSLContext is safe to share between connections and threads."""
    context = ssl.create_default_context(cafile=ca_file)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context

