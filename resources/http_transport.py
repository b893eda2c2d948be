"""The httpx transport every client of the outside world connects through: httpx's own HTTP/1.1 over
httpcore, with the outbound URL policy (resources.url_policy) as its network backend, so that every
connection, the first and each redirect's, goes only to an address the policy allows, checked after the
name was resolved and again once connected.

httpx's `HTTPTransport` cannot be given a network backend, so this is the same thin layer over
httpcore's public `ConnectionPool` that it is: the request handed down, the answer handed up, and
httpcore's exceptions raised as httpx's (every caller classifies those, resources.http_client).
"""
from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

from marketsync.resources.url_policy import UrlRefused, check_address, checked_addresses

# httpcore's exceptions and the httpx ones callers know; the most specific match wins.
_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextlib.contextmanager
def _as_httpx() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for source, target in _EXCEPTIONS:
            if isinstance(exc, source):
                raise target(str(exc)) from exc
        raise


class _Body(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]):
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class PolicyNetworkBackend(httpcore.SyncBackend):
    """httpcore's network backend, through the policy: the host of each new connection is resolved and
    checked here, and the connection made to a checked address. TLS still verifies the host *name*
    (httpcore passes it as the server name), so pinning the address weakens nothing."""

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        try:
            addresses = checked_addresses(host, port, "")
        except OSError as exc:
            raise httpcore.ConnectError(f"the host name does not resolve ({type(exc).__name__})") from None
        last: Exception | None = None
        for address in addresses:
            try:
                stream = super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            peer = stream.get_extra_info("server_addr")
            if peer:
                try:
                    check_address(host, peer[0], "")
                except UrlRefused:
                    stream.close()
                    raise
            return stream
        raise last or httpcore.ConnectError("no address to connect to")

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        raise UrlRefused("a Unix socket is not a URL marketsync connects to", "scheme")


class PolicyTransport(httpx.BaseTransport):
    """HTTP/1.1 with TLS as `ssl_context` says, connecting only where the outbound URL policy allows."""

    def __init__(self, ssl_context: ssl.SSLContext, retries: int = 0):
        self._pool = httpcore.ConnectionPool(ssl_context=ssl_context, retries=retries,
                                             network_backend=PolicyNetworkBackend())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)  # noqa: S101 - httpx's sync client only sends these
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host, port=request.url.port,
                             target=request.url.raw_path),
            headers=request.headers.raw, content=request.stream, extensions=request.extensions)
        with _as_httpx():
            answer = self._pool.handle_request(core)
        assert isinstance(answer.stream, Iterable)  # noqa: S101 - httpcore's sync pool answers with these
        return httpx.Response(status_code=answer.status, headers=answer.headers, stream=_Body(answer.stream),
                              extensions=answer.extensions)

    def close(self) -> None:
        with _as_httpx():
            self._pool.close()
