"""The hardened XML parser: external entities, entity expansion and external DTDs read nothing from disk
or network and do not blow up, whether the document reaches the parser or is refused before it."""
from __future__ import annotations

import io
import socket
import threading
import time

import pytest
from lxml import etree

from marketsync.assets.feeds import xml_safety
from marketsync.assets.feeds.readers import XmlReader
from marketsync.assets.feeds.xml_safety import SAFE_OPTIONS, XmlRefused


@pytest.fixture
def listener():
    """A TCP server on loopback that counts the connections it gets (none, if the parser behaves)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    hits: list[bytes] = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            hits.append(conn.recv(1024))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    stop.set()
    thread.join(timeout=2)
    server.close()


@pytest.fixture
def canary(tmp_path):
    """A local file with a secret in it: if the parser ever reads it, the secret shows up in the data."""
    path = tmp_path / "secret.txt"
    path.write_text("CANARY-7f3a9c-not-for-feeds")
    return path


def _xxe(canary_path, port: int) -> bytes:
    return f"""<?xml version="1.0"?>
<!DOCTYPE items [
  <!ENTITY file SYSTEM "file://{canary_path}">
  <!ENTITY passwd SYSTEM "file:///etc/passwd">
  <!ENTITY local SYSTEM "http://127.0.0.1:{port}/leak">
  <!ENTITY closed SYSTEM "http://127.0.0.1:1/">
]>
<items><item><id>&file;</id><name>&passwd;&local;&closed;</name></item><item><id>ok</id><name>fine</name></item></items>
""".encode()


_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<items><item><id>&lol9;</id></item></items>
"""


def test_the_parser_options_alone_resolve_no_external_entity(listener, canary):
    """Below the prolog check: even a document that reaches lxml reads neither the file nor the URL."""
    port, hits = listener
    texts = []
    for _event, item in etree.iterparse(io.BytesIO(_xxe(canary, port)), events=("end",), tag="item", **SAFE_OPTIONS):
        texts.append((item.findtext("id"), item.findtext("name"), etree.tostring(item)))
    time.sleep(0.3)
    assert hits == []
    dump = repr(texts)
    assert "CANARY" not in dump and "root:" not in dump
    assert texts[0][0] == "" and texts[1][0] == "ok"  # the entity stays an unexpanded reference


def test_the_safe_parser_refuses_entity_expansion_at_once():
    started = time.perf_counter()
    with pytest.raises(etree.XMLSyntaxError, match=r"amplification|loop|entity"):
        etree.fromstring(_LAUGHS, xml_safety.safe_parser())
    assert time.perf_counter() - started < 5


def test_documents_declaring_entities_are_refused_with_a_clear_error(listener, canary):
    port, hits = listener
    with pytest.raises(XmlRefused, match="declares entities"):
        list(XmlReader(io.BytesIO(_xxe(canary, port)), record="item"))
    with pytest.raises(XmlRefused, match="declares entities"):
        list(XmlReader(io.BytesIO(_LAUGHS), record="item"))
    with pytest.raises(XmlRefused, match="declares entities"):
        xml_safety.fromstring(_LAUGHS)
    assert hits == []


def test_entities_hidden_past_the_prolog_check_still_read_nothing(listener, canary):
    """A DOCTYPE pushed beyond the bytes the prolog check looks at reaches the parser, which still
    resolves nothing: the record reads as empty (and the mapping then refuses it)."""
    port, hits = listener
    padding = b"<!--" + b" " * (70 * 1024) + b"-->\n"
    document = _xxe(canary, port).replace(b"<!DOCTYPE", padding + b"<!DOCTYPE", 1)
    records = [(position, element.findtext("id")) for position, _raw, element in
               XmlReader(io.BytesIO(document), record="item")]
    time.sleep(0.3)
    assert hits == []
    assert [value for _position, value in records] == ["", "ok"]


def test_entity_expansion_past_the_prolog_check_is_refused_by_the_parser():
    padding = b"<!--" + b" " * (70 * 1024) + b"-->\n"
    document = _LAUGHS.replace(b"<!DOCTYPE", padding + b"<!DOCTYPE", 1)
    started = time.perf_counter()
    with pytest.raises(XmlRefused, match="not well-formed"):
        list(XmlReader(io.BytesIO(document), record="item"))
    assert time.perf_counter() - started < 5


def test_an_external_dtd_is_never_fetched(listener):
    port, hits = listener
    document = f"""<?xml version="1.0"?>
<!DOCTYPE items SYSTEM "http://127.0.0.1:{port}/evil.dtd">
<items><item><id>a</id></item></items>""".encode()
    records = [element.findtext("id") for _p, _r, element in XmlReader(io.BytesIO(document), record="item")]
    time.sleep(0.3)
    assert records == ["a"]
    assert hits == []


def test_malformed_xml_is_refused_with_the_parser_message():
    with pytest.raises(XmlRefused, match="not well-formed"):
        list(XmlReader(io.BytesIO(b"<items><item><id>a</id></item>"), record="item"))
