"""The bounds a feed reader keeps whatever the file holds: the longest field, the longest line or
record, the deepest nesting. A hostile or broken feed (a 2 GB line with no line break, a 100,000-deep
`[[[[...` JSON document, a description of a gigabyte) must fail its run or lose its row with a clear
reason, never take the process's memory.

What each bound does when passed:

- a CSV/TSV field longer than `field_bytes` (MARKETSYNC_FEED_MAX_FIELD_MB, default 1): the row is
  quarantined ("a field is longer than ..."), the reader carries on with the next line (the csv
  module's field_size_limit, so the field never grows past it);
- a line longer than `record_bytes` (MARKETSYNC_FEED_MAX_RECORD_MB, default 8) in a CSV, TSV or NDJSON
  feed, or a CSV record whose lines together are: the run fails (`FeedBoundExceeded`). A line that long
  has no record boundary to resynchronise at; it is caught while the bytes are read, before the text
  reader would build it, so memory holds at most that much of it;
- more than `record_bytes` of a JSON document or an XML feed between two records (one record that
  large, a string that long, or a part of the document outside the records): the run fails;
- JSON nested deeper than `depth` (MARKETSYNC_FEED_MAX_DEPTH, default 64): the run fails. The check
  runs on the bytes before the JSON parser sees them (ijson's memory grows with the square of the
  nesting: 10,000 levels take 250 MB). An NDJSON line nested too deep is quarantined (orjson stops at
  1,024 levels). XML nesting stops at libxml2's own limit, 256 levels (huge trees are off, see
  xml_safety), and libxml2 refuses a text node over 10,000,000 bytes.

The part workers of a parallel load (see parallel) read the same environment, so they keep the same
bounds; a worker that meets one hands the file back to the one-process read, which fails the same way.
"""
from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from itertools import accumulate
from typing import IO

from marketsync.resources.errors import MarketsyncError

MIB = 1 << 20
MAX_FIELD_ENV = "MARKETSYNC_FEED_MAX_FIELD_MB"
MAX_RECORD_ENV = "MARKETSYNC_FEED_MAX_RECORD_MB"
MAX_DEPTH_ENV = "MARKETSYNC_FEED_MAX_DEPTH"
BOUND_ENVS = (MAX_FIELD_ENV, MAX_RECORD_ENV, MAX_DEPTH_ENV)
DEFAULT_FIELD_MB = 1
DEFAULT_RECORD_MB = 8
DEFAULT_DEPTH = 64


class FeedBoundExceeded(MarketsyncError):
    """The feed passed one of the reader's bounds where no record boundary lets it carry on: the run fails."""


def _setting(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise MarketsyncError(f"{name} must be a positive number, not '{text}'")
    return value


@dataclass(frozen=True)
class ReadLimits:
    """The bounds of one reader (see the module docstring): in bytes (characters for a CSV field), and levels."""

    field_bytes: int = DEFAULT_FIELD_MB * MIB
    record_bytes: int = DEFAULT_RECORD_MB * MIB
    depth: int = DEFAULT_DEPTH

    @classmethod
    def from_env(cls) -> ReadLimits:
        return cls(field_bytes=int(_setting(MAX_FIELD_ENV, DEFAULT_FIELD_MB) * MIB),
                   record_bytes=int(_setting(MAX_RECORD_ENV, DEFAULT_RECORD_MB) * MIB),
                   depth=int(_setting(MAX_DEPTH_ENV, DEFAULT_DEPTH)))


def mb(size: int) -> str:
    """A bound as it is set, in megabytes of 1,048,576 bytes."""
    return f"{size / MIB:,.{0 if size % MIB == 0 else 2}f} MB"


class _Guard(io.RawIOBase):
    """A binary file that checks what passes through it (`_check`) before its reader sees it."""

    def __init__(self, raw: IO[bytes]):
        super().__init__()
        self._raw = raw

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if data:
            self._check(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _check(self, data: bytes) -> None:
        raise NotImplementedError


_BREAKS = re.compile(rb"[\r\n]")


class LineBound(_Guard):
    """Refuses a line (up to \\n or \\r) longer than `limit` bytes while the bytes are read."""

    def __init__(self, raw: IO[bytes], limit: int, what: str):
        super().__init__(raw)
        self._limit, self._what = limit, what
        self._run = 0       # bytes since the last line break
        self._breaks = 0    # \n seen before the current line: its number is this + 1

    def _check(self, data: bytes) -> None:
        first = _BREAKS.search(data)
        if first is None:
            self._run += len(data)
            if self._run > self._limit:
                self._refuse()
            return
        if self._run + first.start() > self._limit:
            self._refuse()
        if len(data) > self._limit:  # a whole over-long line could sit inside this block
            self._breaks += data.count(b"\n", 0, first.start())
            self._run = 0
            for line in re.finditer(rb"[^\r\n]{%d,}" % (self._limit + 1), data):
                self._breaks += data.count(b"\n", 0, line.start())
                self._refuse()
        self._breaks += data.count(b"\n")
        last = max(data.rfind(b"\n"), data.rfind(b"\r"))
        self._run = len(data) - last - 1

    def _refuse(self) -> None:
        raise FeedBoundExceeded(
            f"line {self._breaks + 1:,} of the {self._what} feed is longer than {mb(self._limit)} "
            f"({MAX_RECORD_ENV}) with no line break in it: not a file of records (is the format or the delimiter "
            "right?) or a broken one; the run stops, nothing of it is loaded")


def record_too_long(line: int, limit: int) -> FeedBoundExceeded:
    return FeedBoundExceeded(
        f"the CSV record starting on line {line:,} is longer than {mb(limit)} ({MAX_RECORD_ENV}) over its lines (a "
        "quoted field that never closes?); the run stops, nothing of it is loaded")


class GapBound(_Guard):
    """Refuses more than `limit` bytes read between two records (`mark()` at each record)."""

    def __init__(self, raw: IO[bytes], limit: int, what: str, slack: int = 1 << 16):
        super().__init__(raw)
        self._limit, self._what, self._slack = limit, what, slack
        self._since = 0
        self.records = 0

    def mark(self) -> None:
        self._since = 0
        self.records += 1

    def where(self) -> str:
        return f"after record {self.records:,}" if self.records else "before the first record"

    def _check(self, data: bytes) -> None:
        self._since += len(data)
        if self._since > self._limit + self._slack:
            raise FeedBoundExceeded(
                f"more than {mb(self._limit)} of the {self._what} feed lie {self.where()} with no record end "
                f"({MAX_RECORD_ENV}): one record that large, or a part of the document outside the records; "
                "the run stops, nothing of it is loaded")


_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class JsonDepthBound(GapBound):
    """Refuses a JSON document (UTF-8) nested deeper than `depth` by scanning its bytes before the parser
    reads them, and, as GapBound, more than `limit` bytes between two records (a string that long too).

    The scan stays in C but for the brackets outside strings: escapes (backslash and the byte after it)
    are dropped, then everything but quotes and brackets; what lies between every other quote is
    outside the strings. About 3 s per GB of JSON."""

    def __init__(self, raw: IO[bytes], limit: int, depth: int):
        super().__init__(raw, limit, "JSON")
        self._depth_limit = depth
        self._depth = 0
        self._in_string = False
        self._carry = b""  # a backslash that ended the last block: it escapes the first byte of this one

    def _check(self, data: bytes) -> None:
        super()._check(data)
        data = self._carry + data
        trailing = len(data) - len(data.rstrip(b"\\"))
        self._carry = b"\\" if trailing % 2 else b""
        if trailing % 2:
            data = data[:-1]
        if b"\\" in data:
            data = _ESCAPE.sub(b"", data)
        # Two quotes side by side (an open and a close, or a close and an open) change no string's
        # parity: dropping them leaves little to split.
        pieces = data.translate(None, _NOT_STRUCTURE).replace(b'""', b"").split(b'"')
        outside = pieces[1::2] if self._in_string else pieces[0::2]
        if len(pieces) % 2 == 0:
            self._in_string = not self._in_string
        self._walk(b"".join(outside))

    def _walk(self, brackets: bytes) -> None:
        if not brackets:
            return
        # The deepest point of this block, counted in C: each bracket's step (+1 or -1) summed as it goes.
        deepest = max(accumulate(map(_STEP.__getitem__, brackets), initial=self._depth))
        if deepest > self._depth_limit:
            raise FeedBoundExceeded(
                f"the JSON feed nests deeper than {self._depth_limit} levels ({MAX_DEPTH_ENV}) {self.where()}; the "
                "run stops, nothing of it is loaded")
        opens = brackets.count(b"[") + brackets.count(b"{")
        self._depth += 2 * opens - len(brackets)
