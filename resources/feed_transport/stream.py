"""An http(s) feed read as it arrives instead of landing on disk (`FeedTransport.open_stream`)."""
from __future__ import annotations

from collections.abc import Iterator

import httpx

from marketsync.resources.feed_transport.http import from_httpx
from marketsync.resources.feed_transport.settings import Settings
from marketsync.resources.scrubbing import SecretScrubber


class FeedStream:
    """An open http(s) feed (`FeedTransport.open_stream`): iterate it for the chunks of its body, then
    close it. A failure while the body flows is a FeedTransportError, scrubbed of the credentials."""

    def __init__(self, transport: Settings, client: httpx.Client, response: httpx.Response, where: str,
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
            error = from_httpx(self._transport, self.where, exc, self.received)
            error.args = (self._scrubber.scrub(error.args[0]),)
            raise error from None

    def close(self) -> None:
        self.response.close()
        self._client.close()

    def __enter__(self) -> FeedStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
