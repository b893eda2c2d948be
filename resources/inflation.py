"""Inflating compressed input (gzip, deflate) in bounded steps, with a cap on the compression ratio.

A decompression bomb is a small input that inflates to something huge: ten megabytes of gzip'd zeros
are ten gigabytes. Two things keep one harmless, wherever compressed input arrives (a .gz feed file, a
download or an API answer with Content-Encoding gzip or deflate):

- every step inflates at most `STEP` (1 MiB), so memory never holds more than that of a bomb's output,
  whatever one compressed chunk holds (zlib's `max_length`, the rest kept as its unconsumed tail);
- the output may not exceed `max_ratio` times the compressed input consumed so far, once more than
  `RATIO_FREE_BYTES` have come out (`InflateRatioExceeded`). Real data compresses far less: the
  benchmark's feeds compress 5:1 (CSV) to 10:1 (XML) with gzip -6, and sparse or very repetitive
  exports a few times more; zeros, the bomb's usual payload, compress about 1,000:1 (deflate's
  ceiling). `DEFAULT_MAX_RATIO` (200:1) leaves real data twenty times its usual ratio and refuses a bomb
  after its first 16 MiB of output.

The size cap of what comes out stays the caller's (a download's max_download_bytes, an answer's
max_answer_mib): the ratio cap refuses early, the size cap refuses in the end.
"""
from __future__ import annotations

import zlib
from collections.abc import Iterator

MIB = 1 << 20
STEP = MIB
DEFAULT_MAX_RATIO = 200.0
RATIO_FREE_BYTES = 16 * MIB
_GZIP_MAGIC = b"\x1f\x8b"
GZIP_WBITS = 16 + zlib.MAX_WBITS
ZLIB_OR_RAW_WBITS = 32 + zlib.MAX_WBITS  # deflate as sent: a zlib header (RFC 1950), gzip, or (see feed) raw


class InflateRatioExceeded(Exception):
    """The compressed input inflates past the ratio cap: a decompression bomb, never worth a retry."""

    def __init__(self, produced: int, consumed: int, max_ratio: float):
        self.produced, self.consumed, self.max_ratio = produced, consumed, max_ratio
        super().__init__(f"the compressed data inflates more than {max_ratio:,.0f} to 1 ({produced / MIB:,.0f} MiB "
                         f"out of {consumed / 1024:,.0f} KiB), which no real feed or answer does: a decompression "
                         "bomb, refused")


class Inflater:
    """Streaming inflation of one compressed stream: `feed(data)` yields the output in pieces of at most
    `STEP` bytes, `finish()` the rest. `wbits` as zlib takes them (GZIP_WBITS, ZLIB_OR_RAW_WBITS, or
    -15 for raw deflate); `multi_member`: a gzip file may hold several members, one after the other
    (trailing bytes that are not another member, padding some tools append, are ignored). `strict`:
    a stream that ends early is a zlib.error at `finish()`. `max_ratio` None: no ratio cap."""

    def __init__(self, wbits: int = GZIP_WBITS, *, max_ratio: float | None = DEFAULT_MAX_RATIO,
                 multi_member: bool = False, strict: bool = True):
        self._wbits, self._max_ratio = wbits, max_ratio
        self._multi, self._strict = multi_member, strict
        self._inflater = zlib.decompressobj(wbits)
        self._started = False
        self._done = False  # finished a member and saw nothing after it yet
        self.consumed = 0  # compressed bytes used
        self.produced = 0  # bytes inflated

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            if self._done:
                if not self._multi or not data.startswith(_GZIP_MAGIC[: len(data)]):
                    self.consumed += len(data)
                    return  # trailing bytes after the stream: not another member
                self._inflater, self._done = zlib.decompressobj(self._wbits), False
            self._started = True
            try:
                piece = self._inflater.decompress(data, STEP)
            except zlib.error:
                if self._wbits != ZLIB_OR_RAW_WBITS or self.consumed:
                    raise
                # Deflate without its zlib header, as some servers send it: read as raw deflate.
                self._wbits = -zlib.MAX_WBITS
                self._inflater = zlib.decompressobj(self._wbits)
                piece = self._inflater.decompress(data, STEP)
            if self._inflater.eof:
                self._done = True
                rest = self._inflater.unused_data
            else:
                rest = self._inflater.unconsumed_tail
            self.consumed += len(data) - len(rest)
            data = rest
            if piece:
                self._count(len(piece))
                yield piece

    def finish(self) -> bytes:
        if self._done or not self._started:
            return b""
        tail = self._inflater.flush()
        if self._strict and not self._inflater.eof:
            raise zlib.error("the compressed stream ends early")
        self._count(len(tail))
        return tail

    def _count(self, size: int) -> None:
        self.produced += size
        if (self._max_ratio is not None and self.produced > RATIO_FREE_BYTES
                and self.produced > self._max_ratio * max(self.consumed, 1)):
            raise InflateRatioExceeded(self.produced, self.consumed, self._max_ratio)


def content_inflater(encoding: str, max_ratio: float | None = DEFAULT_MAX_RATIO) -> Inflater | None:
    """The inflater of an HTTP Content-Encoding (gzip, x-gzip, deflate), None for identity or empty;
    ValueError for an encoding this module does not inflate."""
    encoding = (encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return Inflater(GZIP_WBITS, max_ratio=max_ratio, multi_member=True, strict=False)
    if encoding == "deflate":
        return Inflater(ZLIB_OR_RAW_WBITS, max_ratio=max_ratio, strict=False)
    raise ValueError(encoding)
