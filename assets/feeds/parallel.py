"""Parsing one big feed file on several cores: the file is cut at record boundaries into parts, each
part is read and mapped by a parse worker of its own (`python -m assets.feeds.part_worker`), and the
loader relays the workers' COPY text into its one staging table, inside its one transaction.

Parsing and mapping are the loader's bottleneck (Postgres takes in the COPY text several times faster
than one Python process makes it), and a supplier feed is a flat list of records, so a part of the
file can be read on its own: a later part is read as the file's head (the CSV header row, or the XML
prologue up to the first record) followed by the part's bytes.

Where to cut is found without parsing the whole file: a line start near each cut point that looks like
the start of a record (a CSV line whose next records have as many fields as the header; an NDJSON line;
an XML line that starts with the record's start tag and holds no comment, CDATA or processing
instruction). Looks can deceive (a quoted field may hold lines that look like records), so every cut
is proven while the parts are read: the part before a cut must meet a record starting exactly on the
cut's line, and that record must be the very one the part after the cut starts with. If a cut is not
proven, or a worker fails in any way, the loader forgets the parallel attempt and reads the file in one
process, which is the reference behaviour: a parallel load either equals the sequential load or does
not happen.

Line numbers: each part counts lines in its own stream; the plan knows how many line breaks precede
each cut, so quarantined rows carry the file's own line numbers. Repeated ids: every staged row carries
its part, and parts are merged in file order, so the last occurrence in the file still wins.
"""
from __future__ import annotations

import codecs
import csv
import io
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from multiprocessing import Pipe
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from marketsync.assets.feeds import xml_safety
from marketsync.assets.feeds.bounds import BOUND_ENVS
from marketsync.assets.feeds.mapping.refs import ref_options
from marketsync.assets.feeds.readers import ENCODINGS, codec_for, record_steps
from marketsync.resources.errors import MarketsyncError

log = logging.getLogger(__name__)

PARSE_WORKERS_ENV = "MARKETSYNC_FEED_PARSE_WORKERS"
PARALLEL_MIN_BYTES_ENV = "MARKETSYNC_FEED_PARALLEL_MIN_BYTES"
DEFAULT_MIN_BYTES = 32 << 20  # below this a worker's start-up is not worth it
_WINDOW = 256 << 10           # bytes read around a cut point to find a record start
_HEAD_LIMIT = 4 << 20         # the CSV header or the XML prologue must end within this
_CSV_PROBE_RECORDS = 3
_COUNT_BLOCK = 8 << 20
_XML_ASCII_ENCODINGS = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "iso-8859-15",
                        "windows-1252", "cp1252"}
_XML_DECLARED = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_XML_UNSAFE_LINE = (b"<!", b"<?", b"-->", b"]]>", b"?>")


@dataclass(frozen=True)
class Part:
    """One part of a feed file, as a worker reads it (line numbers in the part's own stream)."""

    index: int
    start: int                  # where the part's bytes begin (0: the first part reads the file itself)
    head_end: int               # a later part reads bytes [0, head_end) of the file first
    line_offset: int            # added to the part's positions for the file's line numbers
    first_line: int | None      # the line the part's first record must start on (later parts)
    stop_line: int | None       # the line the next part begins on (all but the last part)


class SplitFailed(Exception):
    """The parallel attempt is off: the loader reads the file in one process instead."""


def worker_count() -> int:
    configured = os.environ.get(PARSE_WORKERS_ENV, "").strip()
    if configured:
        try:
            return max(1, int(configured))
        except ValueError:
            raise MarketsyncError(f"{PARSE_WORKERS_ENV} must be a whole number, not '{configured}'") from None
    return min(2, os.cpu_count() or 1)


def min_bytes() -> int:
    configured = os.environ.get(PARALLEL_MIN_BYTES_ENV, "").strip()
    return int(configured) if configured else DEFAULT_MIN_BYTES


# ---------------------------------------------------------------- planning the cuts

def plan_parts(path: str | os.PathLike, source: dict[str, Any], workers: int | None = None,
               smallest: int | None = None) -> list[Part] | None:
    """The parts to read `path` in, or None when it is read in one process: one worker, a small file,
    a format that cannot be cut (a JSON document), or no record start found near the cut points."""
    workers = worker_count() if workers is None else workers
    smallest = min_bytes() if smallest is None else smallest
    size = os.path.getsize(path)
    if workers < 2 or size < max(smallest, 1):
        return None
    fmt = source.get("format")
    mapping = source.get("mapping") or {}
    with open(path, "rb") as f:
        if fmt in ("csv", "tsv") and (mapping.get("group") or {}).get("parent") is not None:
            return None  # a variation may name a parent anywhere before it: read in one process
        if fmt in ("csv", "tsv"):
            finder = _CsvCuts(f, mapping, source.get("encoding"), fmt)
        elif fmt == "json" and mapping.get("json_lines"):
            finder = _LineCuts(f)
        elif fmt == "xml" and not isinstance(mapping.get("record"), list):  # one record tag to cut at
            finder = _XmlCuts(f, mapping, source.get("encoding"))
        else:
            return None
        head_end = finder.head_end()
        if head_end is None or head_end >= size:
            return None
        cuts: list[int] = []
        for k in range(1, workers):
            target = head_end + (size - head_end) * k // workers
            cut = finder.cut_near(max(target, cuts[-1] + 1 if cuts else head_end))
            if cut is not None and cut < size and (not cuts or cut > cuts[-1]):
                cuts.append(cut)
        if not cuts:
            return None
        universal = finder.universal_newlines
        head_lines = count_line_breaks(f, 0, head_end, universal)
        before: list[int] = []
        position, lines = 0, 0
        for cut in cuts:
            lines += count_line_breaks(f, position, cut, universal)
            position = cut
            before.append(lines)
    offsets = [0] + [b - head_lines for b in before]
    parts = []
    for index, start in enumerate([0, *cuts]):
        last = index == len(cuts)
        parts.append(Part(
            index=index, start=start, head_end=head_end if index else 0, line_offset=offsets[index],
            first_line=head_lines + 1 if index else None,
            stop_line=None if last else before[index] + 1 - offsets[index]))
    return parts


def count_line_breaks(f, start: int, end: int, universal: bool) -> int:
    """Line breaks in bytes [start, end) of `f`: \\n only, or (universal) \\n, \\r\\n and a lone \\r,
    as Python's text reader counts them for CSV and libxml2 for XML."""
    f.seek(start)
    remaining, count, previous_cr = end - start, 0, False
    while remaining > 0:
        block = f.read(min(_COUNT_BLOCK, remaining))
        if not block:
            break
        remaining -= len(block)
        count += block.count(b"\n")
        if universal:
            count += block.count(b"\r") - block.count(b"\r\n")
            if previous_cr and block[:1] == b"\n":
                count -= 1  # a \r\n split across two blocks is one break
            previous_cr = block[-1:] == b"\r"
    return count


class _LineCuts:
    """NDJSON: every line is a record."""

    universal_newlines = False

    def __init__(self, f):
        self.f = f

    def head_end(self) -> int | None:
        return 0

    def line_starts(self, target: int):
        self.f.seek(target)
        window = self.f.read(_WINDOW)
        index = window.find(b"\n")
        while index != -1 and index + 1 < len(window):
            yield target + index + 1, window, index + 1
            index = window.find(b"\n", index + 1)

    def cut_near(self, target: int) -> int | None:
        for start, _window, _at in self.line_starts(target):
            return start
        return None


class _CsvCuts(_LineCuts):
    """CSV and TSV: a line start whose next records have exactly as many fields as the header."""

    universal_newlines = True

    def __init__(self, f, mapping: dict[str, Any], encoding: str | None, fmt: str):
        super().__init__(f)
        self.codec = codec_for(encoding or "utf-8")
        self.dialect = {"delimiter": mapping.get("delimiter") or ("\t" if fmt == "tsv" else ","),
                        "quotechar": mapping.get("quotechar") or '"',
                        "quoting": csv.QUOTE_NONE if mapping.get("quoting") == "none" else csv.QUOTE_MINIMAL}
        self.width = 0
        # Rows grouped by a key (Shopify's Handle) are cut only where the key changes, so each part
        # starts with a group's first row.
        self.group_by = ref_options(group["by"]) if (group := mapping.get("group") or {}).get("by") else None
        self.by_index: int | None = None

    def head_end(self) -> int | None:
        self.f.seek(0)
        head = self.f.read(_HEAD_LIMIT)
        text = head.decode(self.codec, errors="replace")
        reader = csv.reader(io.StringIO(text, newline=""), strict=True, **self.dialect)
        try:
            header = [name.strip() for name in next(reader)]
        except (StopIteration, csv.Error):
            return None
        self.width = len(header)
        if self.group_by is not None:
            header[0] = header[0].lstrip("\ufeff")
            self.by_index = next((header.index(o) for o in self.group_by if o in header), None)
            if self.by_index is None:
                return None
        end = _after_line_breaks(head, reader.line_num)
        # The header must be read whole, and not run to the end of what was read.
        return end if end is not None and end < len(head) else None

    def cut_near(self, target: int) -> int | None:
        for start, window, at in self.line_starts(target):
            text = window[at:].decode(self.codec, errors="replace")
            reader = csv.reader(io.StringIO(text, newline=""), strict=True, **self.dialect)
            try:
                rows = [next(reader) for _ in range(_CSV_PROBE_RECORDS)]
            except (StopIteration, csv.Error):
                continue
            if all(len(row) == self.width for row in rows):
                return start if self.by_index is None else self._group_start(start, window[at:])
        return None

    def _group_start(self, start: int, data: bytes) -> int | None:
        """The first line at or after `start` where a group begins: the first record whose key differs
        from the record before it (both read from `start`, a proven record start)."""
        reader = csv.reader(io.StringIO(data.decode(self.codec, errors="replace"), newline=""), strict=True,
                            **self.dialect)
        previous = None
        try:
            while True:
                lines_before = reader.line_num
                row = next(reader)
                if len(row) != self.width:
                    return None
                key = row[self.by_index].strip()
                if previous is not None and key != previous:
                    offset = _after_line_breaks(data, lines_before)
                    return None if offset is None else start + offset
                previous = key
        except (StopIteration, csv.Error):
            return None  # no group starts within the window: read in one process


class _XmlCuts(_LineCuts):
    """XML: a line that starts with the record element's start tag, as the file writes it."""

    universal_newlines = True

    def __init__(self, f, mapping: dict[str, Any], encoding: str | None):
        super().__init__(f)
        self.mapping = mapping
        self.encoding = encoding
        self.start_tag = b""

    def head_end(self) -> int | None:
        self.f.seek(0)
        head = self.f.read(_HEAD_LIMIT)
        if not _ascii_compatible(head, self.encoding):
            return None
        steps = record_steps(self.mapping.get("record") or "", self.mapping.get("namespaces") or {})
        leaf, ancestors = steps[-1], steps[-2::-1]
        self.f.seek(0)
        try:
            for _event, element in xml_safety.iterparse(_Limited(self.f, _HEAD_LIMIT), events=("start",), tag=leaf):
                node, matches = element, True
                for tag in ancestors:
                    node = node.getparent()
                    if node is None or node.tag != tag:
                        matches = False
                        break
                if matches:
                    qname = f"{element.prefix}:{etree_local(element)}" if element.prefix else etree_local(element)
                    self.start_tag = b"<" + qname.encode("ascii", errors="strict")
                    break
        except (MarketsyncError, UnicodeEncodeError, SyntaxError, ValueError):
            return None
        if not self.start_tag:
            return None
        match = re.search(re.escape(self.start_tag) + rb"[\s/>]", head)
        return match.start() if match else None

    def cut_near(self, target: int) -> int | None:
        for start, window, at in self.line_starts(target):
            end = window.find(b"\n", at)
            line = window[at:] if end == -1 else window[at:end]
            stripped = line.lstrip(b" \t")
            if (stripped.startswith(self.start_tag) and stripped[len(self.start_tag):len(self.start_tag) + 1] in
                    (b" ", b"\t", b"\r", b"\n", b"/", b">") and not any(m in line for m in _XML_UNSAFE_LINE)):
                return start + (len(line) - len(stripped))
        return None


def etree_local(element) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag


def _ascii_compatible(head: bytes, configured: str | None) -> bool:
    """Whether record tags can be found as bytes: an ASCII-compatible encoding, no UTF-16/32 BOM."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return False
    if configured and codec_for(configured) not in ENCODINGS.values():
        return False
    match = _XML_DECLARED.match(head.removeprefix(codecs.BOM_UTF8))
    return match is None or match.group(1).decode().lower() in _XML_ASCII_ENCODINGS


def _after_line_breaks(data: bytes, lines: int) -> int | None:
    """The offset just after the `lines`-th line break of `data` (\\n, \\r\\n or \\r)."""
    position = 0
    for _ in range(lines):
        match = _LINE_BREAK.search(data, position)
        if match is None:
            return None
        position = match.end()
    return position


class _Limited(io.RawIOBase):
    """The first `limit` bytes of a file."""

    def __init__(self, f, limit: int):
        super().__init__()
        self._f, self._left = f, limit

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = self._left if size is None or size < 0 else min(size, self._left)
        data = self._f.read(size)
        self._left -= len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


# ---------------------------------------------------------------- running the parts

@dataclass
class PartOutcome:
    """Where a part's reading began and ended: what proves (or disproves) the cuts around it."""

    first: tuple[int, str] | None = None
    boundary: tuple[int, str] | None = None
    skipped: int = 0  # rows that are no product of their own


def stage_parts(path: str | os.PathLike, source: dict[str, Any], parts: list[Part], *,
                write: Callable[[bytes], None], add_bad: Callable[[int, str, str], None],
                progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Read `parts` of `path` in one worker each; `write` gets their COPY text, `add_bad` their bad rows
    (with the file's line numbers), `progress(rows staged)` is called as they go.
    Returns (rows staged, rows skipped as no product of their own); raises SplitFailed when a cut is not
    proven or a worker fails."""
    job_source = {key: source.get(key) for key in ("name", "format", "encoding", "mapping")}
    workers: list[tuple[subprocess.Popen, Connection]] = []
    outcomes = [PartOutcome() for _ in parts]
    try:
        for part in parts:
            workers.append(_start_worker({"path": os.fspath(path), "source": job_source, "part": asdict(part)}))
        live = {conn: index for index, (_proc, conn) in enumerate(workers)}
        staged = 0
        while live:
            for conn in wait(list(live)):
                index = live[conn]
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    raise SplitFailed(f"parse worker {index} stopped unexpectedly") from None
                kind = message[0]
                outcome = outcomes[index]
                if kind == "rows":
                    write(message[1])
                    staged += message[2]
                    if progress is not None:
                        progress(staged)
                elif kind == "bad":
                    add_bad(message[1] + parts[index].line_offset, message[2], message[3])
                elif kind == "end":
                    outcome.first, outcome.boundary, outcome.skipped = message[1], message[2], message[3]
                    del live[conn]
                else:  # "error"
                    raise SplitFailed(f"parse worker {index}: {message[1]}")
        _prove_cuts(parts, outcomes)
        return staged, sum(outcome.skipped for outcome in outcomes)
    finally:
        for proc, conn in workers:
            conn.close()
            if proc.poll() is None:
                proc.kill()
            proc.wait()


def _prove_cuts(parts: list[Part], outcomes: list[PartOutcome]) -> None:
    for index in range(1, len(parts)):
        before, after = outcomes[index - 1], outcomes[index]
        stop = parts[index - 1].stop_line
        if before.boundary is None or before.boundary[0] != stop:
            raise SplitFailed(f"cut {index}: the part before it did not meet a record on line "
                              f"{stop + parts[index - 1].line_offset}")
        if after.first is None or after.first[0] != parts[index].first_line:
            raise SplitFailed(f"cut {index}: the part after it does not start with a record")
        if before.boundary[1] != after.first[1]:
            raise SplitFailed(f"cut {index}: the parts disagree on the record at the cut")


def _start_worker(job: dict[str, Any]) -> tuple[subprocess.Popen, Connection]:
    ours, theirs = Pipe(duplex=True)
    # Only what Python needs, and the readers' bounds: the worker never sees the vault's keys or the
    # database's address.
    env = {key: value for key, value in os.environ.items()
           if key in ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "PYTHONPATH", "SYSTEMROOT", *BOUND_ENVS)}
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-m", "marketsync.assets.feeds.part_worker", str(theirs.fileno())],
                            pass_fds=(theirs.fileno(),), env=env, cwd=root, stdin=subprocess.DEVNULL)
    theirs.close()
    ours.send(job)
    return proc, ours
