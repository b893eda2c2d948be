"""XML feeds: the fields a mapping reads without XPath (see `simple_xpath`) must be exactly what XPath's
string(path) gives, on every record, however odd; every other path, and every record the fast way cannot
decide, is read with XPath."""
from __future__ import annotations

import io
import random
from xml.sax.saxutils import escape, quoteattr

import pytest
from lxml import etree

from marketsync.assets.feeds import mapping as mapping_module
from marketsync.assets.feeds import xml_safety
from marketsync.assets.feeds.mapping import XML_NAMESPACE, Rejected, compile_mapping, simple_xpath
from marketsync.assets.feeds.readers import XmlReader

S, G, OTHER = "urn:s", "http://base.google.com/ns/1.0", "urn:other"
NAMESPACES = {"s": S, "g": G, "o": OTHER}
ALL = {"xml": XML_NAMESPACE, **NAMESPACES}

# Paths read without XPath, covering each simple form.
SIMPLE = [
    "g:id", "s:sku", "sku", "g:sku", "o:sku", "s:missing", "missing", "s:empty", "s:blank", "s:mixed",
    "s:commented", "s:pi", "s:cdata", "s:textcdata", "s:entities", "s:emoji", "s:rep", "s:rep[1]", "div",
    "s:a-b", "s:a.b", "@id", "@g:id", "@xml:lang", "@missing", "g:price/@currency", "g:price/@g:currency",
    "s:rep/@n", "s:rep[1]/@n", "s:attributes/s:color", "s:attributes/s:size", "s:attributes/s:weight",
    "s:attributes[1]/s:size", "s:a/s:b/s:c", "s:a/s:b/@k", "s:title[@xml:lang='en']", 's:title[@xml:lang="de"]',
    "s:title[@xml:lang='fr']", "s:title[ @xml:lang = 'en' ]", "s:title[@xml:lang='en'][1]", "s:title[1]",
    "s:image[@type='main']/@url", "s:image[@type='main'][1]/@url", "s:image[1]/@url", "s:image/@url",
    "s:image[@o:type='main']/@url", "s:image[@type='']", "s:image[@type='main']/s:alt", ".", "./s:sku",
    "./@id", " s:attributes / s:color ", "s:attributes\t/\ns:size", " s:image [ @type = 'main' ] [ 1 ] / @url ",
    "s:title[@xml:lang='en']/@xml:lang",
]
# Paths XPath reads (not simple): functions, positions other than [1], axes, unions, wildcards, text().
NOT_SIMPLE = [
    "s:title[2]", "s:title[last()]", "*[1]", "s:attributes//s:color", "normalize-space(s:sku)",
    "s:sku | g:id", "s:attributes/s:color/..", "s:title/text()", "count(s:rep)", "s:rep[@n]", "//g:id",
    "s:title[@xml:lang='en' or @xml:lang='de']", "g:*", "@*", "s:title[1][@xml:lang='de']", "(g:id)",
]

RECORDS = [
    # the ordinary record
    f"""<item id="A1" xmlns="{S}" xmlns:g="{G}" xml:lang="en"><g:id>A1</g:id><sku>S-1</sku>
        <g:price currency="EUR">9.50</g:price><title xml:lang="en">Cup</title><title xml:lang="de">Tasse</title>
        <attributes><color>red</color><size>M</size></attributes>
        <image type="main" url="m.jpg"><alt>front</alt></image></item>""",
    # nothing at all
    f"""<item xmlns="{S}"/>""",
    # odd text: empty, blank, mixed content, comments, PIs, CDATA, entities, non-BMP characters
    f"""<item xmlns="{S}" xmlns:g="{G}"><g:id> A2 </g:id><empty/><blank>  \n\t </blank>
        <mixed>a<b>b</b>c<!-- no --><i>d<j>e</j></i>f</mixed><commented>x<!-- c -->y</commented>
        <pi>x<?php echo 1 ?>y</pi><cdata><![CDATA[<b>&amp;</b>]]></cdata><textcdata>a<![CDATA[b]]>c</textcdata>
        <entities>&lt;&amp;&gt;&#233;&#x1F600;&quot;</entities><emoji>\U0001F600\U00010348 \ue000 sep</emoji>
        <div>op</div><a-b>dash</a-b><a.b>dot</a.b></item>""",
    # the same local names in other namespaces, and in none; a prefix other than the mapping's
    f"""<item xmlns="{S}" xmlns:goo="{G}" xmlns:o="{OTHER}" goo:id="ga" id="plain"><sku xmlns="">none</sku>
        <o:sku>other</o:sku><goo:sku>google</goo:sku><sku>default</sku><goo:id>A3</goo:id>
        <goo:price goo:currency="CHF">1</goo:price></item>""",
    # repeated children: the first wins, for elements and for attributes
    f"""<item xmlns="{S}" xmlns:g="{G}"><rep>one</rep><rep n="2">two</rep><rep n="3">three</rep>
        <g:price>1</g:price><g:price currency="USD">2</g:price><g:price currency="GBP">3</g:price>
        <title>none</title><title xml:lang="de">erst</title><title xml:lang="en">first</title>
        <title xml:lang="en">second</title><title xml:lang="de">zweit</title>
        <attributes><color>blue</color></attributes><attributes><size>XL</size><color>green</color></attributes>
        <attributes><weight>1kg</weight></attributes></item>""",
    # what a step lacks in its first node, a later node has (the fast way must not say '')
    f"""<item xmlns="{S}" xmlns:o="{OTHER}"><a><b/></a><a><b k="v"><c>deep</c></b></a>
        <image type="main"/><image type="main" url="second.jpg"><alt>back</alt></image>
        <image o:type="main" url="ns.jpg" type=""/><image url="plain.jpg"/></item>""",
    # each step's node is the only one: a missing part is ''
    f"""<item xmlns="{S}"><a><b k=""><c/></b></a><attributes><color/></attributes><image type="main">
        <alt><!-- only a comment --></alt></image><title xml:lang="en"><![CDATA[]]></title></item>""",
    # elements where text was expected, and a leaf record
    f"""<item xmlns="{S}" xmlns:g="{G}"><g:id><x>A</x>7</g:id><sku><![CDATA[a]]>b<!--c-->d</sku>
        <title xml:lang="en">A<br/>B</title><attributes>text<color>c<?pi?>d</color></attributes></item>""",
    f"""<item xmlns="{S}" id="L1">leaf text \U0001F600</item>""",
    # quotes and separators in values
    f"""<item xmlns="{S}" xmlns:g="{G}"><g:id>'"\ue000'</g:id><title xml:lang="en">a\ue000b</title>
        <sku>tab\there</sku></item>""",
]


def _document(records: list[str]) -> bytes:
    return f'<feed xmlns:g="{G}">{"".join(records)}</feed>'.encode()


def _mapping(paths: list[str]) -> dict:
    return {"record": "s:item", "namespaces": NAMESPACES, "external_id": "g:id",
            "attributes": {f"f{i}": path for i, path in enumerate(paths)}}


def _expected(compiled, record) -> dict[str, str]:
    return {what: etree.XPath(f"string({ref})", namespaces=ALL, smart_strings=False)(record)
            for what, ref in mapping_module._refs(compiled.mapping)}


def _extracted(compiled, record) -> dict[str, str]:
    return {what: value or "" for what, value in compiled.extract(record).items()}


def test_simple_and_not_simple_paths_are_told_apart():
    assert all(simple_xpath(path, ALL) is not None for path in SIMPLE)
    assert all(simple_xpath(path, ALL) is None for path in NOT_SIMPLE)
    assert simple_xpath("g:price/@currency", ALL) == (((f"{{{G}}}price", None, False),), "currency")
    assert simple_xpath("sku", ALL) == ((("sku", None, False),), None)  # no prefix: no namespace
    assert simple_xpath("s:title[@xml:lang='en'][1]", ALL) == (
        ((f"{{{S}}}title", (f"{{{XML_NAMESPACE}}}lang", "en"), True),), None)
    assert simple_xpath(".", ALL) == ((), None) and simple_xpath("@id", ALL) == ((), "id")
    assert simple_xpath("x:sku", ALL) is None  # an unknown prefix is left to XPath (and validation)


@pytest.mark.parametrize("record", range(len(RECORDS)))
def test_extraction_equals_xpath_string_on_hostile_records(record):
    compiled = compile_mapping(_mapping(SIMPLE + NOT_SIMPLE), "xml")
    element = xml_safety.fromstring(_document([RECORDS[record]]))[0]
    assert _extracted(compiled, element) == _expected(compiled, element)


def test_an_entity_reference_left_unexpanded_is_read_as_xpath_reads_it():
    document = (f'<!DOCTYPE feed SYSTEM "feed.dtd"><feed><item xmlns="{S}" xmlns:g="{G}"><g:id>x&foo;y</g:id>'
                f'<image type="main" url="a&foo;b"/><sku>&foo;</sku></item></feed>').encode()
    element = xml_safety.fromstring(document)[0]
    compiled = compile_mapping(_mapping(SIMPLE), "xml")
    extracted = _extracted(compiled, element)
    assert extracted == _expected(compiled, element) and extracted["external_id"] == "xy"


def test_records_streamed_by_the_reader_map_as_with_xpath_alone():
    """The whole mapping (conversion included) agrees with the same mapping read by XPath alone: a
    parenthesised path means the same to XPath but is not simple."""
    mapping = {"record": "s:item", "namespaces": NAMESPACES, "external_id": "g:id", "sku": "s:sku",
               "price": "g:price", "currency": "g:price/@currency",
               "title": {"en": "s:title[@xml:lang='en']", "de": "s:title[@xml:lang='de']"},
               "attributes": {"color": "s:attributes/s:color", "size": "s:attributes/s:size",
                              "image": "s:image[@type='main']/@url", "lang": "@xml:lang"}}
    by_xpath = {**mapping, "attributes": {k: f"({v})" for k, v in mapping["attributes"].items()},
                "title": {k: f"({v})" for k, v in mapping["title"].items()},
                **{k: f"({mapping[k]})" for k in ("external_id", "sku", "price", "currency")}}
    fast, slow = compile_mapping(mapping, "xml"), compile_mapping(by_xpath, "xml")
    assert "_XP(rec)" not in fast.source and "_XP(rec)" in slow.source

    def outcome(compiled, element):
        try:
            return compiled.copy_line(element), compiled.map(element)
        except Rejected as exc:  # (the reason names the field as the mapping writes it)
            return str(exc).replace("'(", "'").replace(")'", "'")

    results = [(outcome(fast, element), outcome(slow, element)) for _line, _raw, element in
               XmlReader(io.BytesIO(_document(RECORDS)), record="s:item", namespaces=NAMESPACES)]
    assert len(results) == len(RECORDS)
    for got, want in results:
        assert got == want
    assert isinstance(results[0][0], tuple) and results[0][0][1].translations == [
        ("A1", "en", "Cup", None, None), ("A1", "de", "Tasse", None, None)]


def test_a_path_that_is_not_simple_is_read_with_xpath():
    mapping = _mapping(["s:title[2]", "normalize-space(s:sku)"])
    compiled = compile_mapping(mapping, "xml")
    record = xml_safety.fromstring(_document([f'<item xmlns="{S}" xmlns:g="{G}"><g:id>A</g:id><sku> a  b </sku>'
                                              f"<title>one</title><title>two</title></item>"]))[0]
    assert compiled.extract(record) == {"external_id": "A", "attributes.f0": "two", "attributes.f1": "a b"}
    one = compile_mapping(_mapping(["count(s:title)"]), "xml")  # one XPath field alone
    assert one.extract(record) == {"external_id": "A", "attributes.f0": "2"}


def test_mapping_values_are_bound_not_spliced_into_the_generated_source():
    hostile = "');__import__('os').system('true');('"
    compiled = compile_mapping(_mapping([f's:title[@xml:lang="{hostile}"]', "s:qqq"]), "xml")
    assert "__import__" not in compiled.source and S not in compiled.source and "qqq" not in compiled.source


def test_many_record_shapes_past_the_layout_cache(monkeypatch):
    monkeypatch.setattr(mapping_module.xpath, "_XML_LAYOUTS", 3)
    compiled = compile_mapping(_mapping(SIMPLE + NOT_SIMPLE), "xml")
    for element in xml_safety.fromstring(_document(RECORDS * 2)):
        assert _extracted(compiled, element) == _expected(compiled, element)


# ---------------------------------------------------------------- random records

_TAGS = ["s:a", "s:b", "s:c", "g:a", "a", "s:title"]  # (no prefix: no namespace, or the record's default)
_ATTRIBUTES = ["k", "g:k", "xml:lang"]
_VALUES = ["", "en", "de", "x y", "'", '"']
_RANDOM_PATHS = [
    "s:a", "a", "g:a", "s:a/s:b", "s:a/s:b/s:c", "s:a/@k", "s:a/@g:k", "s:a/s:b/@k", "s:a[1]/s:b", "s:a[1]/s:b/@k",
    "s:a[@k='en']", "s:a[@k='']", "s:a[@xml:lang='de']/s:b", "s:a[@g:k='x y']/@k", "s:a[@k='en'][1]/s:b",
    "s:a/s:b[@k='en']", "s:a/s:b[@k='en']/s:c", "s:title[@xml:lang='en']", 's:title[@xml:lang="de"]', "@k",
    "@xml:lang", ".", "s:a/s:a", "g:a/s:b", "s:title", "s:title/@xml:lang", "s:a[@k=\"'\"]", "s:a[@k='\"']",
    "a/a", "a[@k='en']", "s:a/a/@k",
]


def _random_element(rng: random.Random, depth: int) -> str:
    name = rng.choice(_TAGS)
    chosen = rng.sample(_ATTRIBUTES, rng.randint(0, 2))
    attributes = "".join(f" {a}={quoteattr(rng.choice(_VALUES))}" for a in chosen)
    content = []
    for _ in range(rng.randint(0, 4 if depth < 3 else 0)):
        kind = rng.random()
        if kind < 0.5:
            content.append(_random_element(rng, depth + 1))
        elif kind < 0.75:
            content.append(escape(rng.choice(["x", " ", "\U0001F600", "a&b", "\n"])))
        elif kind < 0.85:
            content.append("<![CDATA[c]]>")
        elif kind < 0.93:
            content.append("<!-- c -->")
        else:
            content.append("<?pi d?>")
    if not content and rng.random() < 0.5:
        return f"<{name}{attributes}/>"
    return f"<{name}{attributes}>{''.join(content)}</{name}>"


def test_random_records_read_as_xpath_reads_them():
    rng = random.Random(2026)
    compiled = compile_mapping(_mapping(_RANDOM_PATHS), "xml")
    records = []
    for _ in range(600):
        children = "".join(_random_element(rng, 1) for _ in range(rng.randint(0, 8)))
        default = f' xmlns="{S}"' if rng.random() < 0.3 else ""
        records.append(f'<s:item xmlns:s="{S}"{default} xmlns:g="{G}" k="{rng.choice(["", "v"])}"><g:id>i</g:id>'
                       f"{children}</s:item>")
    for element in xml_safety.fromstring(_document(records)):
        assert _extracted(compiled, element) == _expected(compiled, element)
