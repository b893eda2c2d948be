"""The XPath subset a mapping's XML fields are read with in Python rather than with libxml2's XPath:
`simple_xpath` recognises it, `_xml_layout` finds the wanted children of an element from their tags."""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from operator import attrgetter, itemgetter
from typing import Any

XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"

# The XPath forms read without XPath (see `simple_xpath`): names are ASCII NCNames (a QName with a
# prefix), a predicate compares one attribute with a literal, `[1]` keeps the first of the step's nodes.
_XPATH_SPACE = " \t\r\n"
_NCNAME = r"[A-Za-z_][A-Za-z0-9_.\-]*"
_QNAME = rf"(?:{_NCNAME}:)?{_NCNAME}"
_W = r"[ \t\r\n]*"
_XML_STEP = re.compile(rf"({_QNAME})(?:{_W}\[{_W}@({_QNAME}){_W}={_W}('[^']*'|\"[^\"]*\"){_W}\])?"
                       rf"({_W}\[{_W}1{_W}\])?")
_XML_ATTRIBUTE = re.compile(rf"@({_QNAME})")
_XML_SLASH = re.compile(rf"{_W}/{_W}")
_TAG = attrgetter("tag")


# A step of a simple XPath: (Clark tag, (Clark attribute name, value) or None, first_only).
XmlStep = tuple[str, "tuple[str, str] | None", bool]


def simple_xpath(ref: str, namespaces: dict[str, str]) -> tuple[tuple[XmlStep, ...], str | None] | None:
    """The steps and final attribute of an XPath the mapping reads without XPath, None for any other.

    Simple means child steps by name from the record, each optionally filtered by one attribute equal to
    a literal and/or `[1]`, optionally ending in an attribute: `g:id`, `s:attributes/s:color`, `@id`,
    `g:price/@currency`, `s:title[@xml:lang='en']`, `image[@type="main"][1]/@url`, `.` and `./...`.
    Names are QNames of ASCII NCNames, resolved as XPath 1.0 does: a prefix through `namespaces`, no
    prefix meaning no namespace (not the document's default namespace). Returns (steps, attribute) with
    Clark names ("{uri}local"), steps empty for the record itself.
    """
    def clark(qname: str, attribute: bool) -> str | None:
        prefix, _, local = qname.rpartition(":")
        if not prefix:
            return None if attribute and local == "xmlns" else local
        if prefix == "xmlns" or prefix not in namespaces:
            return None
        return f"{{{namespaces[prefix]}}}{local}"

    text = ref.strip(_XPATH_SPACE)
    if text == ".":
        return (), None
    if text.startswith("./"):
        text = text[2:].lstrip(_XPATH_SPACE)
    steps: list[XmlStep] = []
    position = 0
    while True:
        match = _XML_ATTRIBUTE.fullmatch(text, position)
        if match:
            attribute = clark(match[1], True)
            return None if attribute is None else (tuple(steps), attribute)
        match = _XML_STEP.match(text, position)
        if not match:
            return None
        tag = clark(match[1], False)
        predicate = None
        if match[2]:
            name = clark(match[2], True)
            if name is None:
                return None
            predicate = (name, match[3][1:-1])
        if tag is None:
            return None
        steps.append((tag, predicate, bool(match[4])))
        position = match.end()
        if position == len(text):
            return tuple(steps), None
        match = _XML_SLASH.match(text, position)
        if not match:
            return None
        position = match.end()


# How many distinct layouts (tag sequences of an element's children) one compiled mapping remembers per
# element of its paths; a feed with more (records of ever-changing shape) has the rest worked out anew.
_XML_LAYOUTS = 4096


def _xml_layout(tags: Sequence[str], groups: Sequence[str]) -> tuple[dict, Callable[[tuple], tuple]]:
    """Where the wanted children are, for the tag sequences of an element's children: a cache and the
    function that fills it (the cache holds only what the function returns: a pure function of `tags`).

    For a sequence of child tags (comments, PIs and entity references have lxml's non-str tags), the
    layout is (an itemgetter of the position of the first child with each of `tags`, -1 for none, if
    `tags` is not empty; then for each tag of `groups`, a function of the children giving all those with
    that tag as a tuple, last in document order first). The extraction appends None to the children, for
    -1.
    """
    cache: dict[tuple, tuple] = {}

    def layout(child_tags: tuple) -> tuple:
        first: dict[Any, int] = {}
        for position, tag in enumerate(child_tags):
            first.setdefault(tag, position)
        parts: list[Any] = []
        if tags:
            parts.append(itemgetter(*(first.get(tag, -1) for tag in tags)))
        for group in groups:
            positions = [position for position in range(len(child_tags) - 1, -1, -1)
                         if child_tags[position] == group]
            # (itemgetter gives a tuple for two positions or more: a lone child comes twice, harmlessly.)
            parts.append(itemgetter(*positions * (2 if len(positions) == 1 else 1)) if positions else _none)
        found = tuple(parts)
        if len(cache) < _XML_LAYOUTS:
            cache[child_tags] = found
        return found

    return cache, layout


def _none(_children: list) -> tuple:
    return ()
