"""An http(s) feed read as it arrives instead of landing on disk (`FeedTransport.open_stream`)."""
from __future__ import annotations

from collections.abc import Iterator

import httpx

from marketsync.resources.feed_transport.errors import FeedTransportError
from marketsync.resources.feed_transport.http import from_httpx
from marketsync.resources.feed_transport.settings import Settings
from marketsync.resources.feed_transport.sink import SizeLimit, default_size_limit
from marketsync.resources.http_limits import decoded_body
from marketsync.resources.inflation import InflateRatioExceeded
from marketsync.resources.scrubbing import SecretScrubber


class FeedStream:
    """An open http(s) feed (`FeedTransport.open_stream`): iterate it for the chunks of its body, then
    close it. A failure while the body flows is a FeedTransportError, scrubbed of the credentials; so is
    a body past `limit` (counted decoded: a Content-Encoding is undone here a megabyte at a time, under
    the transport's ratio cap), kind too_large, raised before the chunk that passes it is handed on."""

    def __init__(self, transport: Settings, client: httpx.Client, response: httpx.Response, where: str,
                 scrubber: SecretScrubber, limit: SizeLimit | None = None):
        self._transport, self._client, self.response = transport, client, response
        self.where, self._scrubber = where, scrubber
        self.limit = limit or default_size_limit(transport.max_download_bytes)
        self.received = 0

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in decoded_body(self.response, self._transport.max_inflate_ratio, self._transport.chunk_bytes):
                self.received += len(chunk)
                if self.received > self.limit.bytes:
                    raise FeedTransportError(self.where, self.limit.reason(), "too_large")
                yield chunk
        except httpx.HTTPError as exc:
            error = from_httpx(self._transport, self.where, exc, self.received)
            error.args = (self._scrubber.scrub(error.args[0]),)
            raise error from None
        except InflateRatioExceeded as exc:
            raise FeedTransportError(self.where, f"{exc} (max_inflate_ratio)", "too_large") from None

    def close(self) -> None:
        self.response.close()
        self._client.close()

    def __enter__(self) -> FeedStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
