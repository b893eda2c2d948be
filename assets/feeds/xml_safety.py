"""The one way marketsync parses XML: a hardened lxml configuration, for whole documents and for
streaming (`iterparse`) alike.

Supplier feeds come from outside, so an XML feed is treated as hostile input. The classic attacks are
all about the parser doing more than reading the bytes it was given:
- external entities (XXE): `<!ENTITY x SYSTEM "file:///etc/passwd">` or an `http://` URL makes a naive
  parser read a local file or call a server on our network, and put the answer into the data;
- entity expansion ("billion laughs"): nested entities that expand a 1 kB document into gigabytes;
- external DTDs fetched from the network, and "huge tree" documents that exhaust memory.

Every parse therefore uses `SAFE_OPTIONS`: entities are never resolved (an entity reference stays an
unexpanded node, so the row reads as if the value were absent and is refused by the mapping), no
network access at all, no DTD loaded or validated, libxml2's limits on tree depth and text size kept.
On top of that, a document that declares entities in an internal DTD subset is refused outright
(`XmlRefused`): no supplier feed needs them, and refusing is clearer than loading rows with holes.

Nothing else in marketsync may call `lxml.etree.XMLParser`, `fromstring` or `iterparse` directly.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

from lxml import etree

from marketsync.resources.errors import MarketsyncError

# The parser options every XML parse uses. `iterparse` takes the same keywords as XMLParser.
SAFE_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "dtd_validation": False,
    "attribute_defaults": False,
}

# libxml2's nesting limit with huge_tree off (a deeper document is refused, XmlRefused); with it off
# libxml2 also refuses a text node over 10,000,000 bytes.
MAX_DEPTH = 256

# How much of a document's start is looked at for a DOCTYPE with entity declarations: a prolog is
# short, and a DOCTYPE can only come before the root element.
_PROLOG_BYTES = 64 * 1024
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)


class XmlRefused(MarketsyncError):
    """The document is not parsed at all (it declares entities, or is not well-formed XML)."""


def safe_parser(**extra: Any) -> etree.XMLParser:
    """A new hardened XMLParser (one per parse: lxml parsers are not thread-safe)."""
    return etree.XMLParser(**SAFE_OPTIONS, **extra)


def check_prolog(head: bytes) -> None:
    """Refuse a document whose first bytes declare entities (they can only be declared in the DOCTYPE,
    before the root element). Entities are never expanded anyway; this makes the refusal explicit."""
    if _ENTITY_DECLARATION.search(head) or (b"\x00" in head[:200]
                                            and _ENTITY_DECLARATION.search(head.replace(b"\x00", b""))):
        # (The second test: a UTF-16 document hides "<!ENTITY" between NUL bytes.)
        raise XmlRefused("the XML feed declares entities (<!ENTITY ...> in its DOCTYPE); marketsync never "
                         "expands XML entities, so the document is refused")


def fromstring(data: bytes) -> etree._Element:
    """Parse a whole (small) XML document safely: API answers, test payloads. Feeds stream instead."""
    check_prolog(data[:_PROLOG_BYTES])
    try:
        return etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise XmlRefused(f"not well-formed XML: {exc}") from None


class _PrologChecked:
    """A binary file wrapper that checks the document's prolog before lxml sees any byte of it."""

    def __init__(self, raw: IO[bytes]):
        self._raw = raw
        self._head = raw.read(_PROLOG_BYTES)
        check_prolog(self._head)

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        if self._head:
            if size is None or size < 0:
                data, self._head = self._head + self._raw.read(), b""
                return data
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._raw.read(size)


def iterparse(source: IO[bytes], *, events: tuple[str, ...] = ("end",), tag: Any = None,
              encoding: str | None = None) -> Iterator[tuple[str, etree._Element]]:
    """lxml's iterparse with the hardened options, over a binary file object.

    `encoding` overrides what the document declares (for feeds known to lie about it). Parse errors
    surface as XmlRefused with libxml2's message and position.
    """
    checked = _PrologChecked(source)
    options = dict(SAFE_OPTIONS)
    if encoding:
        options["encoding"] = encoding
    parser = etree.iterparse(checked, events=events, tag=tag, **options)
    try:
        yield from parser
    except etree.XMLSyntaxError as exc:
        if "Excessive depth" in str(exc):
            raise XmlRefused(f"the XML feed nests elements deeper than {MAX_DEPTH} levels, libxml2's limit without "
                             f"huge trees ({exc})") from None
        raise XmlRefused(f"the XML feed is not well-formed: {exc}") from None
