"""Feeds over HTTP(S): one download attempt (`fetch_http`), resumed with Range + If-Range when the server
allows it; the opening GET of a streamed feed (`open_http`); and the classification of what went wrong
(an HTTP status, or a failure below HTTP) as a FeedTransportError."""
from __future__ import annotations

import logging

import httpx

from marketsync.resources.feed_transport.errors import FeedTransportError
from marketsync.resources.feed_transport.settings import Settings, settings_tls
from marketsync.resources.feed_transport.sink import Attempts, Sink, TooLarge
from marketsync.resources.http_client import CONNECT_FAILURES, client_options, transport_failure
from marketsync.resources.http_limits import decoded_body
from marketsync.resources.http_retry import retry_after_seconds

log = logging.getLogger(__name__)

_HEADERS = {"User-Agent": "marketsync-feeds/1", "Accept-Encoding": "gzip, deflate"}


def http_client_options(settings: Settings) -> dict:
    """The httpx client of a download: no answer size cap (what is written is bounded), redirects
    followed, the transport's timeouts and trust."""
    return client_options(httpx.Timeout(settings.read_timeout_seconds, connect=settings.connect_timeout_seconds),
                          limits=None, follow_redirects=True, verify=settings_tls(settings))


def _authorisation(creds: dict | None, headers: dict[str, str]) -> httpx.Auth | None:
    """Bearer token into `headers`, or the Basic auth of a username and password."""
    if creds and (creds.get("token") or creds.get("bearer_token")):
        headers["Authorization"] = f"Bearer {creds.get('token') or creds.get('bearer_token')}"
    elif creds and creds.get("username") is not None:
        return httpx.BasicAuth(creds["username"], creds.get("password") or "")
    return None


def open_http(settings: Settings, client: httpx.Client, url: str, creds: dict | None, where: str,
              extra: dict[str, str]) -> httpx.Response:
    """The answer of one GET, streaming, once it is 200; else the failure, classified."""
    headers = {**_HEADERS, **extra}
    auth = _authorisation(creds, headers)
    try:
        response = client.send(client.build_request("GET", url, headers=headers), auth=auth, stream=True)
    except httpx.HTTPError as exc:
        raise from_httpx(settings, where, exc, 0) from None
    if response.status_code != 200:
        response.close()
        raise from_status(where, response)
    return response


def fetch_http(settings: Settings, url: str, creds: dict | None, where: str, sink: Sink, state: Attempts) -> None:
    """One attempt at downloading an http(s) feed into `sink`."""
    try:
        _transfer(settings, url, creds, where, sink, state)
    except httpx.HTTPError as exc:
        # Not chained: httpx's own text names the URL and may echo what the server said.
        raise from_httpx(settings, where, exc, sink.received) from None


def _transfer(settings: Settings, url: str, creds: dict | None, where: str, sink: Sink, state: Attempts) -> None:
    headers = dict(_HEADERS)
    auth = _authorisation(creds, headers)
    resume = sink.received > 0 and state.resumable and state.validator is not None
    if resume:
        headers["Range"] = f"bytes={sink.received}-"
        headers["If-Range"] = state.validator
    elif sink.received:
        sink.reset()
    with httpx.Client(**http_client_options(settings)) as client, \
            client.stream("GET", url, headers=headers, auth=auth) as response:
        status = response.status_code
        if (status == 206 and resume
                and response.headers.get("content-range", "").startswith(f"bytes {sink.received}-")):
            log.info("resuming %s at byte %d", where, sink.received)
        elif status == 200:
            if sink.received:
                sink.reset()  # the server sent the whole file again (or it changed)
            _remember(response, state)
        elif status in (206, 416) and resume:
            sink.reset()  # a range we did not ask for, or the file shrank: start over
            state.resumable = False
            raise FeedTransportError(where, f"the server would not resume the transfer (HTTP {status})", "broken")
        else:
            raise from_status(where, response)
        # Inflated or decoded, a body only grows: a declared length over the limit is final.
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and sink.written + int(declared) > sink.limit:
            raise TooLarge
        for chunk in decoded_body(response, settings.max_inflate_ratio):  # inflated 1 MiB at a time
            sink.write(chunk)


def _remember(response: httpx.Response, state: Attempts) -> None:
    """Notes whether a broken transfer can later resume with Range + If-Range: only for an
    unencoded body with a strong validator (a weak ETag cannot guard a byte range)."""
    state.content_type = response.headers.get("content-type")
    etag = response.headers.get("etag")
    state.validator = etag if etag and not etag.startswith("W/") else response.headers.get("last-modified")
    encoded = response.headers.get("content-encoding", "identity").lower() != "identity"
    state.resumable = response.headers.get("accept-ranges", "").lower() == "bytes" and not encoded


def from_status(where: str, response: httpx.Response) -> FeedTransportError:
    """An answer other than the one asked for, in a download's words."""
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


def from_httpx(settings: Settings, where: str, exc: httpx.HTTPError, received: int) -> FeedTransportError:
    """A failure below HTTP (classified once, resources.http_client) in a download's words."""
    failure = transport_failure(exc)
    if failure == "connect_timeout":
        return FeedTransportError(where, f"no connection within {settings.connect_timeout_seconds:g} s (timeout)",
                                  "timeout")
    if failure in ("timeout", "pool_timeout"):
        progress = f" after {received:,} bytes" if received else ""
        return FeedTransportError(where, f"the server sent nothing for {settings.read_timeout_seconds:g} s"
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
