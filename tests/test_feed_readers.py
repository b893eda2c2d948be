"""Streaming feed readers: encodings, quoted newlines, namespaced XML, JSON paths, NDJSON, and memory
that stays flat as feeds grow."""
from __future__ import annotations

import io
import tracemalloc

import pytest

from marketsync.assets.feeds.readers import CsvReader, JsonReader, XmlReader, open_reader
from marketsync.resources.errors import MarketsyncError
from marketsync.sandbox.feeds.generators import generate


def _csv(text: str, encoding: str = "utf-8", **kwargs):
    bad = []
    reader = CsvReader(io.BytesIO(text.encode(encoding)), encoding=kwargs.pop("declared", encoding),
                       on_bad=lambda *a: bad.append(a), **kwargs)
    return reader, list(reader), bad


def test_utf8_with_bom_never_reaches_the_first_column_name():
    for declared in ("utf-8-sig", "utf-8"):
        reader, records, bad = _csv("id,title\nA1,Schürze\n", "utf-8-sig", declared=declared)
        assert reader.header == ["id", "title"]
        assert [row for _line, _raw, row in records] == [["A1", "Schürze"]]
        assert bad == []


def test_cp1252_feed_decodes_accents_and_umlauts():
    _reader, records, bad = _csv("id;brand\nA1;Böhm & Söhne – café €\n", "cp1252", delimiter=";")
    assert records[0][2] == ["A1", "Böhm & Söhne – café €"]
    assert bad == []


def test_bytes_invalid_in_the_declared_encoding_go_to_the_quarantine_not_the_catalog():
    raw = "id,brand\nA1,ok\nA2,Böhm\nA3,fine\n".encode("cp1252")
    bad = []
    records = list(CsvReader(io.BytesIO(raw), encoding="utf-8", on_bad=lambda *a: bad.append(a)))
    assert [row[0] for _l, _r, row in records] == ["A1", "A3"]
    assert [(line, reason.split(" (")[0]) for line, _raw, reason in bad] == [
        (3, "the row contains bytes that are not valid utf-8")]


def test_quoted_newlines_keep_one_record_with_its_first_line_and_raw_text():
    text = 'id,description,price\r\nA1,"two\r\nlines, ""quoted""",1.00\r\nA2,plain,2.00\r\n'
    _reader, records, _bad = _csv(text)
    assert [(line, row) for line, _raw, row in records] == [
        (2, ["A1", 'two\r\nlines, "quoted"', "1.00"]), (4, ["A2", "plain", "2.00"])]
    assert records[0][1] == 'A1,"two\r\nlines, ""quoted""",1.00\r\n'
    assert records[1][1] == "A2,plain,2.00\r\n"


def test_tsv_and_custom_delimiters():
    reader = open_reader("tsv", io.BytesIO(b"id\ttitle\nA1\tx, y\n"), {})
    assert [row for _l, _r, row in reader] == [["A1", "x, y"]]
    reader = open_reader("csv", io.BytesIO(b"id|title\nA1|x;y\n"), {"delimiter": "|"})
    assert [row for _l, _r, row in reader] == [["A1", "x;y"]]


def test_an_empty_feed_has_no_header():
    with pytest.raises(MarketsyncError, match="no header"):
        CsvReader(io.BytesIO(b""))


def test_namespaced_xml_by_record_path_and_clean_up():
    document = b"""<?xml version="1.0" encoding="UTF-8"?>
<f:feed xmlns:f="urn:feed" xmlns:g="http://base.google.com/ns/1.0">
  <f:header><f:product><g:id>not-a-record</g:id></f:product></f:header>
  <f:products>
    <f:product><g:id>A1</g:id></f:product>
    <f:product><g:id>A2</g:id></f:product>
    <f:product><g:id>A3</g:id></f:product>
  </f:products>
</f:feed>"""
    reader = XmlReader(io.BytesIO(document), record="f:products/f:product",
                       namespaces={"f": "urn:feed", "g": "http://base.google.com/ns/1.0"})
    seen = []
    for line, raw, element in reader:
        seen.append((line, element.findtext("{http://base.google.com/ns/1.0}id")))
        assert raw is None and "A" in reader.render(element)
        # The records before this one are cleared and gone but for the last (emptied): the tree never grows.
        previous = element.getprevious()
        assert previous is None or (len(previous) == 0 and previous.getprevious() is None)
    assert seen == [(5, "A1"), (6, "A2"), (7, "A3")]


def test_xml_record_path_prefixes_must_be_declared():
    with pytest.raises(MarketsyncError, match="prefix 'x'"):
        XmlReader(io.BytesIO(b"<a/>"), record="x:item", namespaces={})


def test_json_records_under_a_dotted_path_or_at_the_top():
    document = b'{"meta": {"n": 2}, "data": {"items": [{"id": "A1", "price": 12.5}, {"id": "A2"}, 7]}}'
    bad = []
    records = list(JsonReader(io.BytesIO(document), record="data.items", on_bad=lambda *a: bad.append(a)))
    assert [(index, item) for index, _raw, item in records] == [(1, {"id": "A1", "price": 12.5}), (2, {"id": "A2"})]
    assert bad == [(3, "7", "the record is not a JSON object")]
    top = list(JsonReader(io.BytesIO(b'\xef\xbb\xbf[{"id": "B1"}]')))  # with a BOM
    assert [item for _i, _r, item in top] == [{"id": "B1"}]


def test_cp1252_json_is_recoded():
    records = list(JsonReader(io.BytesIO('[{"brand": "Böhm €"}]'.encode("cp1252")), encoding="cp1252"))
    assert records[0][2] == {"brand": "Böhm €"}


def test_ndjson_lines_and_a_broken_line():
    data = b'{"id": "A1"}\n\n{"id": \n{"id": "A3"}\n'
    bad = []
    records = list(JsonReader(io.BytesIO(data), lines=True, on_bad=lambda *a: bad.append(a)))
    assert [(line, item["id"]) for line, _raw, item in records] == [(1, "A1"), (4, "A3")]
    assert [line for line, _raw, _reason in bad] == [3]


def test_malformed_json_document_fails_clearly():
    with pytest.raises(MarketsyncError, match="not well-formed"):
        list(JsonReader(io.BytesIO(b'{"data": {"items": [{"id": "A1"}, {"id": '), record="data.items"))


@pytest.mark.parametrize("fmt", ["csv", "xml", "json", "ndjson"])
def test_memory_stays_flat_as_the_feed_grows(fmt):
    """Reading ten times the rows does not take (anywhere near) ten times the memory."""
    peaks = []
    for rows in (2_000, 20_000):
        buffer = io.BytesIO()
        mapping = generate(fmt, buffer, rows)
        buffer.seek(0)
        tracemalloc.start()
        reader = open_reader("json" if fmt == "ndjson" else fmt, buffer, mapping)
        count = sum(1 for _ in reader)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert count == rows
    assert peaks[1] < 2 * peaks[0] + 256 * 1024, peaks


def test_a_malformed_record_is_reported_and_reading_goes_on():
    huge = "x" * 1_100_000  # beyond the field bound (1 MB): a runaway quote looks like this
    _reader, records, bad = _csv(f"id,title\nA1,ok\nA2,{huge}\nA3,fine\n")
    assert [row[0] for _l, _r, row in records] == ["A1", "A3"]
    assert [(line, reason) for line, _raw, reason in bad] == [
        (3, "a field is longer than 1 MB (MARKETSYNC_FEED_MAX_FIELD_MB)")]
