"""The one HTTP plumbing every client of the outside world sends through: `HttpClient`, a wrapper over
httpx.Client.

What each client used to do on its own, done once here:

- timeouts: `timeout` for every step, the connect step capped at `connect_timeout`;
- the answer size cap of resources.http_limits, enforced while an answer streams in (`limits`);
- what goes wrong below HTTP, classified once (`transport_failure`) and worded into the client's own
  error type (`error_type`, an HttpCallError): "<service> is unreachable on <what>" (the request never
  left), "no complete answer from <service> on <what>" (it may have arrived), too_large, malformed.
  Every message is cut to its first line and scrubbed of the client's secrets (`scrubber`);
- capped retries with full jitter honouring Retry-After (`retrying`, a resources.http_retry.RetryPolicy
  on tenacity);
- paging within the bounds of resources.http_limits (`pages`): a cursor answered again, more than
  `max_pages` pages, a sequence past its deadline.

A client keeps its endpoints and its error mapping: `status_error(response, what)` turns an answer
whose status it does not expect into its error (`expect`). Delivery and download modules that word
their failures their own way use `transport_failure` and `client_options` alone.
"""
from __future__ import annotations

import ssl
from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Any, Self, TypeVar

import httpx

from marketsync.resources.errors import first_line
from marketsync.resources.http_limits import (
    MALFORMED,
    TOO_LARGE,
    AnswerTooLarge,
    LimitedTransport,
    Limits,
    Paging,
    too_large_message,
    verified_tls_context,
)
from marketsync.resources.http_retry import HttpCallError, RetryPolicy
from marketsync.resources.http_transport import PolicyTransport
from marketsync.resources.scrubbing import SecretScrubber

T = TypeVar("T")
P = TypeVar("P")
C = TypeVar("C")

DEFAULT_LIMITS = Limits()
DEFAULT_RETRY = RetryPolicy()
# Failures below HTTP after which the request cannot have reached the server.
NOT_SENT = frozenset({"connect_timeout", "pool_timeout", "tls", "refused", "unresolved", "unreachable"})
# (reason, kind) of a failure to connect, in the words of a download or a delivery (which name the
# location themselves, and say what a person can check).
CONNECT_FAILURES = {
    "tls": ("the server's TLS certificate is not trusted", "tls"),
    "refused": ("connection refused", "unreachable"),
    "unresolved": ("the host name does not resolve", "unreachable"),
    "unreachable": ("the server cannot be reached", "unreachable"),
}


def transport_failure(exc: BaseException) -> str:
    """What went wrong below HTTP, as one word: too_large (the size cap), decoding (a compressed body
    that is not), connect_timeout, pool_timeout, tls, refused, unresolved, unreachable (no connection:
    the request never left; see NOT_SENT), timeout (a later step), redirects, unsupported (a scheme httpx
    does not speak), broken (the connection broke: the request may have arrived), failed (anything else)."""
    if isinstance(exc, AnswerTooLarge):
        return "too_large"
    if isinstance(exc, httpx.DecodingError):
        return "decoding"
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect_timeout"
    if isinstance(exc, httpx.PoolTimeout):
        return "pool_timeout"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        text = str(exc)
        lower = text.lower()
        if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text:
            return "tls"
        if "refused" in lower:
            return "refused"
        if "name" in lower and ("resolution" in lower or "known" in lower):
            return "unresolved"
        return "unreachable"
    if isinstance(exc, httpx.TooManyRedirects):
        return "redirects"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "unsupported"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.CloseError)):
        return "broken"
    return "failed"


def client_options(timeout: float | httpx.Timeout, *, connect_timeout: float = 10.0,
                   limits: Limits | None = DEFAULT_LIMITS, headers: Mapping[str, str] | None = None,
                   base_url: str | httpx.URL = "", **options: Any) -> dict[str, Any]:
    """The keyword arguments of an httpx.Client with the project's bounds: `timeout` seconds for every
    step, the connect step at most `connect_timeout` (or an httpx.Timeout as it is); the size cap of
    `limits` on every answer (None: no cap, for a download that bounds what it writes itself). `options`
    go to httpx.Client (follow_redirects, event_hooks, ...), except `verify` (see `tls_context_of`);
    `transport` there replaces the policy's and the cap's (a test's own, never production's)."""
    if not isinstance(timeout, httpx.Timeout):
        timeout = httpx.Timeout(timeout, connect=min(timeout, connect_timeout))
    made: dict[str, Any] = {"timeout": timeout}
    if headers:
        made["headers"] = dict(headers)
    if base_url:
        made["base_url"] = base_url
    if "transport" not in options:
        # Every connection through the outbound URL policy; every answer within the size cap.
        transport: httpx.BaseTransport = PolicyTransport(tls_context_of(options.pop("verify", True)))
        made["transport"] = transport if limits is None else LimitedTransport(limits.max_answer_bytes, transport)
    return {**made, **options}


def tls_context_of(verify: Any) -> ssl.SSLContext:
    """The TLS context of a client: the shared verifying one, or a caller's own context (a private CA).
    There is no switch that turns verification off: `verify=False` is refused."""
    if verify is True:
        return verified_tls_context()
    if isinstance(verify, ssl.SSLContext) and verify.verify_mode != ssl.CERT_NONE and verify.check_hostname:
        return verify
    raise ValueError("TLS verification cannot be turned off; trust a private CA with its certificate instead")


class HttpClient:
    """One client's connection to one service. `service` names it in messages ("eBay"); `error_type` is
    the client's HttpCallError subclass, built as `error_type(message, kind, retry_after, **details)`;
    `lost` holds the details of a failure after which the request may have arrived (eBay:
    {"outcome_unknown": True}); `status_error(response, what, **context)` is the client's mapping of an
    unexpected status to its error. Not thread-safe beyond what httpx.Client is; counts `requests`
    (retries and token calls included) and the `bytes_received` of whole answers."""

    def __init__(self, service: str, error_type: type[HttpCallError], *, scrubber: SecretScrubber | None = None,
                 timeout: float = 30.0, connect_timeout: float = 10.0, limits: Limits = DEFAULT_LIMITS,
                 retry: RetryPolicy = DEFAULT_RETRY, headers: Mapping[str, str] | None = None,
                 base_url: str | httpx.URL = "", lost: Mapping[str, Any] | None = None, message_limit: int = 500,
                 status_error: Callable[..., HttpCallError] | None = None, **options: Any):
        self.service = service
        self.error_type = error_type
        self.scrubber = scrubber if scrubber is not None else SecretScrubber()
        self.limits = limits
        self.retry = retry
        self._lost = dict(lost or {})
        self._message_limit = message_limit
        self._status_error = status_error
        self.http = httpx.Client(**client_options(timeout, connect_timeout=connect_timeout, limits=limits,
                                                  headers=headers, base_url=base_url, **options))
        self.requests = 0
        self.bytes_received = 0

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------------ errors
    def error(self, message: str, kind: str, retry_after: float | None = None, **details: Any) -> HttpCallError:
        """The client's error: `message` cut to its first line and scrubbed of every secret it knows."""
        return self.error_type(self.scrubber.scrub(first_line(message, self._message_limit)), kind, retry_after,
                               **details)

    def transport_error(self, exc: BaseException, what: str) -> HttpCallError:
        """A failure below HTTP on `what`, worded and typed as the client's error."""
        failure = transport_failure(exc)
        if failure == "too_large":
            return self.error(too_large_message(f"{self.service}'s answer to {what}", exc), TOO_LARGE)
        if failure == "decoding":
            return self.error(f"{self.service}'s answer to {what} could not be decoded ({exc})", MALFORMED)
        if failure in NOT_SENT:
            return self.error(f"{self.service} is unreachable on {what} ({type(exc).__name__})", "unreachable")
        return self.error(f"no complete answer from {self.service} on {what} ({type(exc).__name__})", "unreachable",
                          **self._lost)

    def expect(self, response: httpx.Response, what: str, ok: tuple[int, ...] = (200,),
               **context: Any) -> httpx.Response:
        """`response` when its status is one of `ok`; else the client's error for it (`status_error`)."""
        if response.status_code in ok:
            return response
        if self._status_error is None:
            raise self.error(f"{self.service} answered {what} with HTTP {response.status_code}", "rejected")
        raise self._status_error(response, what, **context)

    def same_origin(self, url: httpx.URL, origin: httpx.URL, what: str) -> httpx.URL:
        """`url` (a link from an answer to `what`) when it points back at `origin`: credentials go nowhere
        else. Otherwise the client's error (kind server)."""
        if (url.scheme, url.host, url.port) != (origin.scheme, origin.host, origin.port):
            raise self.error(f"{self.service} answered {what} with a link to another host; not followed", "server")
        return url

    # ------------------------------------------------------------------ sending
    def send(self, method: str, url: str | httpx.URL, what: str, **kwargs: Any) -> httpx.Response:
        """One HTTP exchange, its answer read whole within the size cap; a failure below HTTP becomes the
        client's error (see `transport_error`). The answer's status is the caller's to judge."""
        self.requests += 1
        try:
            response = self.http.request(method, url, **kwargs)
        except (httpx.TransportError, httpx.DecodingError, AnswerTooLarge) as exc:
            raise self.transport_error(exc, what) from None
        self.bytes_received += len(response.content)
        return response

    def retrying(self, call: Callable[..., T], *args: Any, policy: RetryPolicy | None = None,
                 **options: Any) -> T:
        """`call(*args)`, tried again on the client's failures its retry policy (or `policy`) calls worth
        another try: capped, with full-jitter backoff honouring Retry-After. `options` go to
        RetryPolicy.retrying (stop, wait, sleep, before_sleep). The last failure is raised scrubbed."""
        try:
            return (policy or self.retry).retrying(self.error_type, **options)(call, *args)
        except HttpCallError as exc:
            raise exc.scrubbed(self.scrubber) from None

    # ------------------------------------------------------------------ paging
    def pages(self, what: str, fetch: Callable[[C | None, int], P], following: Callable[[P], C | None],
              key: Callable[[C], Hashable] = lambda cursor: cursor) -> Iterator[P]:
        """A paging sequence within the client's bounds: `fetch(cursor, number)` asks for a page (cursor
        None for the first), `following(page)` says what asks for the next one (None after the last; it
        runs once the caller is done with the page), `key(cursor)` what the guard compares. Stops with
        the client's error when a cursor comes back (paging_stuck), past `max_pages` (too_many_pages) or
        past the deadline (deadline); `what` names the list in those messages."""
        return paged(what, self.error, self.limits, fetch, following, key)


class ApiSession:
    """What every API session shares: its HttpClient (`_http`), closed with the session (use it as a
    context manager, or `close()` it), the `requests` sent so far (retries and token calls included)
    and its errors (`_error`: first line, scrubbed, of the client's type)."""

    _http: HttpClient

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def requests(self) -> int:
        return self._http.requests

    def _error(self, message: str, kind: str, retry_after: float | None = None, **details: Any) -> Any:
        return self._http.error(message, kind, retry_after, **details)


def paged(what: str, error: Callable[[str, str], Exception], limits: Limits,
          fetch: Callable[[C | None, int], P], following: Callable[[P], C | None],
          key: Callable[[C], Hashable] = lambda cursor: cursor) -> Iterator[P]:
    """`HttpClient.pages` for a client that sends through another library (gql): the same bounds,
    `error(message, kind)` the client's error."""
    paging = Paging(what, error, limits)
    cursor: C | None = None
    while True:
        number = paging.next(None if cursor is None else key(cursor))
        page = fetch(cursor, number)
        yield page
        cursor = following(page)
        if cursor is None:
            return
