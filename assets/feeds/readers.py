"""Streaming readers for supplier feeds: CSV/TSV, XML and JSON (a document or NDJSON).

A supplier feed can be a million rows or more, so a reader never holds the file: it yields one record
at a time from a binary file object and keeps nothing behind it (XML elements are cleared as soon as the
next record is asked for), so memory stays flat whatever the feed's size.

Every reader yields `(position, raw_text, record)`:
- position: where the record starts, for the quarantine: the 1-based line of the file for CSV, TSV,
  NDJSON and XML (the record element's start tag), the 1-based index of the record for a JSON document;
- raw_text: the record as it stood in the file, or None where rendering it costs more than it is worth
  on the happy path (XML and JSON): `reader.render(record)` gives it on demand, for rejected rows only;
- record: what the mapping reads: a list of fields aligned with `reader.header` (CSV), an lxml element
  (XML), a dict (JSON).

Records a reader cannot even split into fields (a malformed CSV record, bytes that are not valid in the
feed's encoding, an NDJSON line that is not JSON, a CSV field longer than its bound) are not yielded: they
go to `on_bad(position, raw, reason)`, so the caller quarantines them and counts them as read. Every
reader keeps the bounds of `bounds.ReadLimits` (longest field, line or record, deepest nesting): one
passed where no record boundary lets the reader carry on fails the run (bounds.FeedBoundExceeded).
"""
from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from typing import IO, Any

import ijson
import orjson
from lxml import etree

from marketsync.assets.feeds import xml_safety
from marketsync.assets.feeds.bounds import (
    MAX_FIELD_ENV,
    GapBound,
    JsonDepthBound,
    LineBound,
    ReadLimits,
    mb,
    record_too_long,
)
from marketsync.resources.errors import MarketsyncError

OnBad = Callable[[int, str, str], None]
Record = tuple[int, "str | None", Any]

# Encodings a feed may declare, and the codec each is read with. UTF-8 is read as utf-8-sig, so a BOM
# that a spreadsheet put in front of a feed declared plain UTF-8 never ends up in the first column name.
ENCODINGS = {
    "utf-8": "utf-8-sig", "utf8": "utf-8-sig", "utf-8-sig": "utf-8-sig",
    "cp1252": "cp1252", "windows-1252": "cp1252", "latin-1": "latin-1", "iso-8859-1": "latin-1",
    "iso-8859-15": "iso-8859-15",
}
_READ_SIZE = 1 << 20


def codec_for(encoding: str | None) -> str:
    """The Python codec a feed's declared encoding is read with; MarketsyncError if unsupported."""
    key = (encoding or "utf-8").strip().lower().replace("_", "-")
    if key not in ENCODINGS:
        raise MarketsyncError(f"unsupported feed encoding '{encoding}' (supported: utf-8, utf-8-sig, cp1252, "
                              "iso-8859-1, iso-8859-15)")
    return ENCODINGS[key]


class CountingReader(io.RawIOBase):
    """Counts the bytes a reader consumed (for the import run's bytes_read and progress)."""

    def __init__(self, raw: IO[bytes]):
        super().__init__()
        self._raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.bytes_read += n
        return n

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.bytes_read += len(data)
        return data


# ---------------------------------------------------------------- CSV and TSV

class CsvReader:
    """Delimited text with a header row. Quoted fields may span lines; each record carries the line it
    starts on and its exact raw text (all its lines)."""

    def __init__(self, raw: IO[bytes], *, encoding: str = "utf-8", delimiter: str = ",", quotechar: str = '"',
                 quoting: str = "minimal", on_bad: OnBad | None = None, limits: ReadLimits | None = None):
        self.codec = codec_for(encoding)
        self.encoding = encoding
        self.limits = limits or ReadLimits.from_env()
        # (The csv module's limit is per process; every reader of a process reads the same setting.)
        csv.field_size_limit(self.limits.field_bytes)
        self._text = io.TextIOWrapper(LineBound(raw, self.limits.record_bytes, "CSV"), encoding=self.codec,
                                      errors="replace", newline="")
        self._lines: list[str] = []
        self._on_bad = on_bad or _ignore
        quote_mode = {"minimal": csv.QUOTE_MINIMAL, "none": csv.QUOTE_NONE}.get(quoting)
        if quote_mode is None:
            raise MarketsyncError(f"CSV quoting must be 'minimal' or 'none', not '{quoting}'")
        self._reader = csv.reader(self._source(), delimiter=delimiter, quotechar=quotechar, quoting=quote_mode,
                                  strict=False)
        self._next_line = 1
        self.header = self._read_header()

    def _source(self) -> Iterator[str]:
        # Every physical line csv asks for is kept until its record is complete: the record's raw text,
        # at most max_record long (a single line is bounded below, by LineBound, before it is read).
        lines, keep, limit = self._lines, self._lines.append, self.limits.record_bytes
        size = 0
        for line in self._text:
            if lines:  # a record over several lines (one line alone is within the bound already)
                size = (size or len(lines[0])) + len(line)
                if size > limit:
                    raise record_too_long(self._next_line, limit)
            else:
                size = 0
            keep(line)
            yield line

    def _read_header(self) -> list[str]:
        for _line, _raw, row in self._rows(header=True):
            header = [name.strip() for name in row]
            header[0] = header[0].lstrip("\ufeff")
            return header
        raise MarketsyncError("the feed is empty: no header row")

    def __iter__(self) -> Iterator[Record]:
        return self._rows(header=False)

    def _rows(self, header: bool) -> Iterator[Record]:
        # One flat loop (generator layers cost per row): csv's own iteration, restarted after a
        # malformed record, which is reported and skipped.
        reader, lines, on_bad = self._reader, self._lines, self._on_bad
        encoding = self.encoding
        while True:
            try:
                for row in reader:
                    start = self._next_line
                    self._next_line = reader.line_num + 1
                    raw = lines[0] if len(lines) == 1 else "".join(lines)
                    lines.clear()
                    if not row:
                        continue  # a blank line is no record
                    # Cheap scans of the raw text for what would otherwise load as garbage.
                    if header:
                        yield start, raw, row
                    elif "\ufffd" in raw:
                        on_bad(start, raw, f"the row contains bytes that are not valid {encoding} "
                                           "(is the feed's encoding set right?)")
                    elif "\x00" in raw:
                        on_bad(start, raw, "the row contains NUL characters")
                    else:
                        yield start, raw, row
                return
            except csv.Error as exc:
                raw = "".join(lines)
                lines.clear()
                start = self._next_line
                self._next_line = reader.line_num + 1
                if "field limit" in str(exc):
                    on_bad(start, raw, f"a field is longer than {mb(self.limits.field_bytes)} ({MAX_FIELD_ENV})")
                else:
                    on_bad(start, raw, f"malformed CSV record: {exc}")

    @staticmethod
    def render(record: list[str]) -> str:
        return "\t".join(record)


def _ignore(position: int, raw: str, reason: str) -> None:
    pass


# ---------------------------------------------------------------- XML

class XmlReader:
    """Record elements of an XML feed, parsed by the hardened iterparse (see xml_safety).

    `record` names the record element by tag or by a short path of tags ("products/product", with
    prefixes from `namespaces`, e.g. "s:products/s:product"); a path only matches elements whose
    ancestors end with its leading steps. Each element is cleared, and removed from its parent, once
    the next record is asked for.
    """

    def __init__(self, raw: IO[bytes], *, record: str | list[str], namespaces: dict[str, str] | None = None,
                 encoding: str | None = None, on_bad: OnBad | None = None, limits: ReadLimits | None = None):
        self._raw = GapBound(raw, (limits or ReadLimits.from_env()).record_bytes, "XML")
        # Several record paths (RSS's rss/channel/item and Atom's feed/entry, say): any of them is a record.
        paths = record if isinstance(record, list) else [record]
        self.alternatives = [record_steps(path, namespaces or {}) for path in paths]
        self.steps = self.alternatives[0]
        self._encoding = _xml_override(encoding)

    def __iter__(self) -> Iterator[Record]:
        ancestors_of: dict[str, list[list[str]]] = {}
        for steps in self.alternatives:
            ancestors_of.setdefault(steps[-1], []).append(steps[-2::-1])
        leaves = list(ancestors_of)
        # One record path (nearly every feed): its ancestors checked directly, as cheaply as before.
        only = self.alternatives[0][-2::-1] if len(self.alternatives) == 1 else None
        for _event, element in xml_safety.iterparse(self._raw, events=("end",),
                                                    tag=leaves[0] if len(leaves) == 1 else leaves,
                                                    encoding=self._encoding):
            if only is not None:
                if only and not _has_ancestors(element, only):
                    continue
            elif not any(not ancestors or _has_ancestors(element, ancestors)
                         for ancestors in ancestors_of[element.tag]):
                continue
            self._raw.mark()
            yield element.sourceline or 0, None, element
            # The record was used: drop it and everything before it, so the tree never grows.
            # (Only the elements before it: the parser has usually read ahead, past this record.)
            element.clear(keep_tail=False)
            parent = element.getparent()
            if parent is not None:
                while element.getprevious() is not None:
                    del parent[0]

    @staticmethod
    def render(record: etree._Element) -> str:
        return etree.tostring(record, encoding="unicode", with_tail=False)


def record_steps(record: str, namespaces: dict[str, str]) -> list[str]:
    """The Clark-notation tags ({uri}local) of a record path like "s:products/s:product"."""
    if not record or not record.strip("/ "):
        raise MarketsyncError("an XML mapping needs 'record': the tag (or path of tags) of the record element")
    steps = []
    for step in record.strip().strip("/").split("/"):
        step = step.strip()
        if step.startswith("{"):
            steps.append(step)
        elif ":" in step:
            prefix, local = step.split(":", 1)
            if prefix not in namespaces:
                raise MarketsyncError(f"record path '{record}' uses prefix '{prefix}', "
                                      "which 'namespaces' does not define")
            steps.append(f"{{{namespaces[prefix]}}}{local}")
        elif step and all(c.isalnum() or c in "_-." for c in step):
            steps.append(step)
        else:
            raise MarketsyncError(f"record path '{record}' must be tags separated by '/', like 'products/product'")
    return steps


def _has_ancestors(element: etree._Element, ancestors: list[str]) -> bool:
    node = element
    for tag in ancestors:
        node = node.getparent()
        if node is None or node.tag != tag:
            return False
    return True


def _xml_override(encoding: str | None) -> str | None:
    # An XML document says its own encoding; only a feed configured as a legacy encoding overrides it.
    codec = codec_for(encoding)
    return None if codec == "utf-8-sig" else {"cp1252": "windows-1252"}.get(codec, codec)


# ---------------------------------------------------------------- JSON

class JsonReader:
    """Records of a JSON document (the array at `record`, a dotted path like "data.items"; empty for a
    top-level array), streamed with ijson, or of NDJSON (`lines=True`: one JSON object per line).

    Numbers arrive as int or float; float is exact for what the catalog stores (14 significant digits
    at most), and the mapping turns prices into Decimal through their shortest repr.
    """

    def __init__(self, raw: IO[bytes], *, record: str = "", lines: bool = False, encoding: str | None = None,
                 on_bad: OnBad | None = None, limits: ReadLimits | None = None):
        self._raw = raw
        self.limits = limits or ReadLimits.from_env()
        self._record = (record or "").strip().strip(".")
        self._lines = lines
        self._codec = codec_for(encoding)
        self._on_bad = on_bad or _ignore

    def __iter__(self) -> Iterator[Record]:
        return self._ndjson() if self._lines else self._document()

    def _utf8(self) -> IO[bytes]:
        if self._codec == "utf-8-sig":
            return _SkipBom(self._raw)
        return _Recoded(self._raw, self._codec)

    def _document(self) -> Iterator[Record]:
        prefix = f"{self._record}.item" if self._record else "item"
        index = 0
        bound = JsonDepthBound(self._utf8(), self.limits.record_bytes, self.limits.depth)
        try:
            for index, item in enumerate(ijson.items(bound, prefix, use_float=True), 1):
                bound.mark()
                if type(item) is dict:
                    yield index, None, item
                else:
                    self._on_bad(index, self.render(item), "the record is not a JSON object")
        except ijson.JSONError as exc:
            raise MarketsyncError(f"the JSON feed is not well-formed after record {index}: {exc}") from None

    def _ndjson(self) -> Iterator[Record]:
        text = io.TextIOWrapper(LineBound(self._raw, self.limits.record_bytes, "NDJSON"), encoding=self._codec,
                                errors="replace", newline="\n")
        loads = orjson.loads
        for number, line in enumerate(text, 1):
            if not line.strip():
                continue
            try:
                item = loads(line)
            except orjson.JSONDecodeError as exc:
                self._on_bad(number, line, f"the line is not valid JSON: {exc}")
                continue
            if type(item) is dict:
                yield number, line, item
            else:
                self._on_bad(number, line, "the line is not a JSON object")

    @staticmethod
    def render(record: Any) -> str:
        return orjson.dumps(record, default=str).decode()


class _SkipBom(io.RawIOBase):
    """The bytes of a UTF-8 document without a leading byte-order mark (ijson's parser rejects it)."""

    def __init__(self, raw: IO[bytes]):
        super().__init__()
        self._raw = raw
        head = raw.read(3)
        self._head = head[3:] if head.startswith(codecs.BOM_UTF8) else head

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        if self._head:
            head, self._head = self._head, b""
            return head + self._raw.read(max(size - len(head), 0) if size and size > 0 else -1)
        return self._raw.read(size)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _Recoded(io.RawIOBase):
    """A legacy-encoded JSON stream re-encoded to UTF-8 as it is read (JSON parsers read UTF-8)."""

    def __init__(self, raw: IO[bytes], codec: str):
        super().__init__()
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(codec)(errors="replace")

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        chunk = self._raw.read(_READ_SIZE if size is None or size < 0 else size)
        return self._decoder.decode(chunk, final=not chunk).encode("utf-8")

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer) // 2 or 1)  # re-encoding may grow the text: leave room
        buffer[: len(data)] = data
        return len(data)


# ---------------------------------------------------------------- choosing a reader

def open_reader(fmt: str, raw: IO[bytes], mapping: dict[str, Any], *, encoding: str | None = None,
                on_bad: OnBad | None = None):
    """The reader for a feed of format `fmt` (csv, tsv, xml, json), configured by its mapping's reader
    keys: delimiter, quotechar, quoting (CSV/TSV), record and namespaces (XML), record and json_lines
    (JSON)."""
    if fmt in ("csv", "tsv"):
        return CsvReader(raw, encoding=encoding or "utf-8",
                         delimiter=mapping.get("delimiter") or ("\t" if fmt == "tsv" else ","),
                         quotechar=mapping.get("quotechar") or '"', quoting=mapping.get("quoting") or "minimal",
                         on_bad=on_bad)
    if fmt == "xml":
        return XmlReader(raw, record=mapping.get("record") or "", namespaces=mapping.get("namespaces"),
                         encoding=encoding, on_bad=on_bad)
    if fmt == "json":
        return JsonReader(raw, record=mapping.get("record") or "", lines=bool(mapping.get("json_lines")),
                          encoding=encoding, on_bad=on_bad)
    raise MarketsyncError(f"unknown feed format '{fmt}' (known: csv, tsv, xml, json)")
