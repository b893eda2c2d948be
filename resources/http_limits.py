"""Upper bounds every API client keeps: an answer's size, enforced while it streams in, and a paging
sequence's pages, duration and progress.

An API that misbehaves must never hold a run (and its store's slot and API pool slot) forever, nor
take the process's memory: a 400 MB answer is refused once it passes the cap, without being read
whole; a page cursor answered again with more pages to come stops the sequence instead of looping;
a sequence stops after `max_pages` pages or once `deadline_seconds` have passed. Each client turns
these into its own error type (an HttpCallError) with one of the kinds below, so every caller sees
one worded error and knows whether to try again later:

- too_large (permanent): an answer larger than the cap (decoded), or one whose gzip/deflate body
  inflates more than 200:1 (a decompression bomb, resources.inflation); a smaller page or a larger cap
  is needed;
- too_many_pages (permanent): more pages in one sequence than the cap;
- paging_stuck (transient): the API answered a cursor it had already given, with more to come;
- deadline (transient): the sequence ran past its time budget; the next run starts again;
- malformed (transient): an answer that is not what the API's contract says (not JSON, a list that
  is null, a missing field); a server-side fault, worth a later try.
"""
from __future__ import annotations

import functools
import ssl
import time
import zlib
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import cast

import httpx

from marketsync.resources.inflation import DEFAULT_MAX_RATIO, InflateRatioExceeded, content_inflater

MIB = 1024 * 1024
DEFAULT_MAX_ANSWER_MIB = 50.0
DEFAULT_MAX_PAGES = 10_000
DEFAULT_PAGING_DEADLINE_SECONDS = 4 * 3600.0

TOO_LARGE, TOO_MANY_PAGES, PAGING_STUCK, DEADLINE, MALFORMED = (
    "too_large", "too_many_pages", "paging_stuck", "deadline", "malformed")
# The kinds above that are worth another try later; every HttpCallError counts them as transient.
TRANSIENT_LIMIT_KINDS = frozenset({PAGING_STUCK, DEADLINE, MALFORMED})


@dataclass(frozen=True)
class Limits:
    """The bounds of one client: `max_answer_mib` per answer (decoded), `max_pages` per paging
    sequence, `deadline_seconds` per paging sequence (from its first page)."""

    max_answer_mib: float = DEFAULT_MAX_ANSWER_MIB
    max_pages: int = DEFAULT_MAX_PAGES
    deadline_seconds: float = DEFAULT_PAGING_DEADLINE_SECONDS

    @property
    def max_answer_bytes(self) -> int:
        return max(1, int(self.max_answer_mib * MIB))


# ------------------------------------------------------------------------------------ answer size
class AnswerTooLarge(Exception):
    """An answer passed the size cap while it was read, or its compressed body inflates past the ratio
    cap of resources.inflation (raised from inside httpx's read; each client turns it into its own error
    of kind too_large)."""

    def __init__(self, limit_bytes: int, declared: int | None = None, *, reason: str | None = None):
        self.limit_bytes = limit_bytes
        if reason is not None:
            super().__init__(f"the answer was refused: {reason}")
            return
        size = f"declares {declared / MIB:,.1f} MiB" if declared is not None else "is larger than that"
        super().__init__(f"the answer passed the {limit_bytes / MIB:,.1f} MiB cap ({size}); it was not read further")


def too_large_message(what: str, exc: AnswerTooLarge) -> str:
    return (f"{what}: {exc} (ask for smaller pages, or raise the client's max_answer_mib if such answers "
            "are expected)")


class _CountedStream(httpx.SyncByteStream):
    """The body of an answer, decoded (gzip/deflate) as it streams in steps of at most 1 MiB under the
    ratio cap (resources.inflation), refused past `limit` bytes."""

    def __init__(self, inner: httpx.SyncByteStream, limit: int, encoding: str,
                 max_ratio: float | None = DEFAULT_MAX_RATIO):
        self._inner, self._limit = inner, limit
        self._decoder = content_inflater(encoding, max_ratio) if encoding else None

    def __iter__(self) -> Iterator[bytes]:
        size = 0
        for chunk in self._inner:
            for part in self._decode(chunk):
                size += len(part)
                if size > self._limit:
                    raise AnswerTooLarge(self._limit)
                yield part
        if self._decoder is not None:
            tail = self._decoder.finish()
            if size + len(tail) > self._limit:
                raise AnswerTooLarge(self._limit)
            if tail:
                yield tail

    def _decode(self, chunk: bytes) -> Iterator[bytes]:
        if self._decoder is None:
            yield chunk
            return
        try:
            yield from self._decoder.feed(chunk)  # at most 1 MiB out per step: a bomb never inflates at once
        except zlib.error as exc:
            raise httpx.DecodingError(f"the answer's compressed body is broken ({exc})") from None
        except InflateRatioExceeded as exc:
            raise AnswerTooLarge(self._limit, reason=str(exc)) from None

    def close(self) -> None:
        self._inner.close()


def decoded_body(response: httpx.Response, max_ratio: float | None = DEFAULT_MAX_RATIO,
                 chunk_size: int | None = None) -> Iterator[bytes]:
    """The body of a streamed answer that did not go through LimitedTransport (a feed download), its
    Content-Encoding gzip or deflate undone here in steps of at most 1 MiB under the ratio cap (httpx's
    own decoders inflate a whole network chunk at once: 64 KiB of a bomb is 64 MiB). Another encoding
    (we ask for none other) is left to httpx. Raises httpx.DecodingError for a broken compressed body,
    InflateRatioExceeded for a bomb."""
    try:
        inflater = content_inflater(response.headers.get("content-encoding", ""), max_ratio)
    except ValueError:
        yield from response.iter_bytes(chunk_size)
        return
    if inflater is None:
        yield from response.iter_raw(chunk_size)
        return
    try:
        for chunk in response.iter_raw(chunk_size):
            yield from inflater.feed(chunk)
        tail = inflater.finish()
    except zlib.error as exc:
        raise httpx.DecodingError(f"the compressed body is broken ({exc})") from None
    if tail:
        yield tail


class LimitedTransport(httpx.BaseTransport):
    """An httpx transport that refuses answers larger than `max_bytes` (decoded) while they stream in:
    at once when Content-Length says so, otherwise as soon as the count passes the cap. It asks only
    for the encodings it can count as it decodes (gzip, deflate) and hands httpx the decoded body."""

    def __init__(self, max_bytes: int, inner: httpx.BaseTransport | None = None):
        self.max_bytes = max_bytes
        self._inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.headers["Accept-Encoding"] = "gzip, deflate"
        response = self._inner.handle_request(request)
        declared = _declared_length(response)
        if declared is not None and declared > self.max_bytes and response.headers.get("content-encoding") in (
                None, "", "identity"):
            response.close()
            raise AnswerTooLarge(self.max_bytes, declared)
        encoding = (response.headers.get("content-encoding") or "").strip().lower()
        headers = response.headers
        if encoding in ("gzip", "x-gzip", "deflate"):
            headers = httpx.Headers([(k, v) for k, v in response.headers.multi_items()
                                     if k.lower() not in ("content-encoding", "content-length")])
        elif encoding not in ("", "identity"):
            encoding = ""  # not ours to decode (httpx does): the raw bytes are counted
        return httpx.Response(response.status_code, headers=headers,
                              stream=_CountedStream(cast(httpx.SyncByteStream, response.stream), self.max_bytes,
                                                    encoding),
                              extensions=response.extensions, request=request)

    def close(self) -> None:
        self._inner.close()


def _declared_length(response: httpx.Response) -> int | None:
    try:
        return int(response.headers["content-length"])
    except (KeyError, ValueError):
        return None


@functools.cache
def verified_tls_context() -> ssl.SSLContext:
    """The process's one TLS context that verifies servers against httpx's default trust store (certifi).
    Built once: loading the CA bundle costs about 50 ms of CPU, paid by every client made with
    `verify=True` (a fleet sync opens a client per store); a context is safe to share between clients
    and threads."""
    return httpx.create_ssl_context()


# ------------------------------------------------------------------------------------ paging
ErrorFactory = Callable[[str, str], Exception]  # (message, kind) -> the client's error


class Paging:
    """The bounds of one paging sequence. Call `next(token)` before asking for each page, with what
    asks for it (the cursor, token or next link; None for the first page): it refuses a token seen
    before in this sequence (the API would answer the same pages forever), a page past `max_pages`
    and a page after the deadline, raising `error(message, kind)`. `what` names the list in messages."""

    def __init__(self, what: str, error: ErrorFactory, limits: Limits = Limits(), *,
                 clock: Callable[[], float] = time.monotonic):
        self.what, self._error, self._limits, self._clock = what, error, limits, clock
        self._deadline = clock() + limits.deadline_seconds
        self._seen: set[Hashable] = set()
        self.pages = 0

    def next(self, token: Hashable | None = None) -> int:
        """The number of the page about to be asked for."""
        if token is not None:
            if token in self._seen:
                raise self._error(f"{self.what}: the API answered page {self.pages} with a cursor it had already "
                                  "given and more pages to come; paging would never end, so it stopped",
                                  PAGING_STUCK)
            self._seen.add(token)
        if self.pages >= self._limits.max_pages:
            raise self._error(f"{self.what}: more than {self._limits.max_pages:,} pages in one run; stopped (raise "
                              "the client's max_pages if the list is really that long)", TOO_MANY_PAGES)
        if self._clock() > self._deadline:
            raise self._error(f"{self.what}: still paging after {self._limits.deadline_seconds:,.0f} s "
                              f"({self.pages} pages); stopped, the next run starts again", DEADLINE)
        self.pages += 1
        return self.pages


def malformed(what: str, detail: str) -> str:
    """The message of a malformed answer: what was asked for and what is wrong with the answer."""
    return f"{what}: the answer is malformed ({detail})"
