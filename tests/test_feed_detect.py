"""Detection of a supplier file from its first bytes: encoding, BOM, line endings, delimiter or XML root,
and which preset reads it (assets/feeds/detect.py). Pure functions: unit tests."""
import codecs
from pathlib import Path

import pytest

from marketsync.assets.feeds.detect import (
    THRESHOLD,
    detect,
    line_endings,
    sniff_delimiter,
    sniff_encoding,
)
from marketsync.assets.feeds.presets import PRESETS
from marketsync.resources.errors import MarketsyncError

SAMPLES = Path(__file__).parent / "fixtures" / "feed_presets"


@pytest.mark.parametrize(("sample", "preset", "form", "fmt", "delimiter"), [
    ("shopify-products.csv", "shopify-products", None, "csv", ","),
    ("shopify-products-old.csv", "shopify-products", None, "csv", ","),
    ("woocommerce-products.csv", "woocommerce-products", None, "csv", ","),
    ("google-merchant-rss.xml", "google-merchant-xml", "rss", "xml", None),
    ("google-merchant-atom.xml", "google-merchant-xml", "atom", "xml", None),
    ("google-merchant.tsv", "google-merchant-tsv", None, "tsv", "\t"),
    ("prestashop-products.csv", "prestashop-products", None, "csv", ";"),
    ("magento-products.csv", "magento-products", None, "csv", ","),
])
def test_every_sample_is_read_by_its_preset(sample, preset, form, fmt, delimiter):
    found = detect((SAMPLES / sample).read_bytes())
    assert (found.best, found.best_form, found.format, found.delimiter) == (preset, form, fmt, delimiter)
    assert found.confidence == 1.0 and found.confidence >= THRESHOLD
    # Every sample is written the way spreadsheet tools on Windows write: a BOM and CRLF.
    assert (found.encoding, found.has_bom, found.line_endings) == ("utf-8-sig", True, "CRLF")
    others = [s for s in found.scores if s.preset != preset]
    assert all(s.confidence < THRESHOLD for s in others)


def test_old_and_new_shopify_columns_are_told_apart_only_by_the_names_present():
    old = detect((SAMPLES / "shopify-products-old.csv").read_bytes())
    new = detect((SAMPLES / "shopify-products.csv").read_bytes())
    assert "Variant SKU" in old.scores[0].present and "Variant SKU" not in new.scores[0].present
    assert "URL handle" in new.scores[0].present and "Handle" not in new.scores[0].present
    assert old.scores[0].missing_required == new.scores[0].missing_required == []


def test_rss_and_atom_report_their_root_namespaces_and_record_elements():
    rss = detect((SAMPLES / "google-merchant-rss.xml").read_bytes())
    atom = detect((SAMPLES / "google-merchant-atom.xml").read_bytes())
    assert rss.root == "rss" and rss.namespaces["g"] == "http://base.google.com/ns/1.0"
    assert atom.root == "{http://www.w3.org/2005/Atom}feed" and atom.namespaces[""] == "http://www.w3.org/2005/Atom"
    assert {"g:id", "g:price", "g:shipping_weight", "title", "link"} <= set(rss.names)
    assert {"g:id", "a:title", "a:summary", "a:link"} <= set(atom.names)
    assert rss.scores[0].unplaced == [] and atom.scores[0].unplaced == []


def test_an_xml_file_of_another_root_gets_no_preset():
    found = detect(b'<?xml version="1.0"?><products><product><id>1</id><price>2</price></product></products>')
    assert found.best is None and found.root == "products"
    assert "google-merchant-xml" in found.message and "'g:id'" in found.message


def test_a_truncated_xml_head_is_read_up_to_the_cut():
    whole = (SAMPLES / "google-merchant-rss.xml").read_bytes()
    found = detect(whole[: whole.index(b"<g:mpn>") + 3])
    assert found.best == "google-merchant-xml" and found.best_form == "rss"


def test_unrelated_columns_get_no_preset_and_a_message_naming_the_closest():
    head = b"article_no,label,net_price,stock_level,ean\r\nA-1,Lamp,12.00,4,4006381333931\r\n"
    found = detect(head)
    assert found.best is None and found.confidence < THRESHOLD
    assert found.message.startswith("no preset matches this file well enough (best: ")
    closest = found.scores[0]
    assert closest.preset in found.message
    assert closest.unplaced == ["article_no", "label", "net_price", "stock_level", "ean"]
    assert "article_no" in found.message and "requires" in found.message
    assert (found.encoding, found.has_bom, found.line_endings) == ("utf-8", False, "CRLF")


def test_columns_a_preset_cannot_place_are_listed_and_lower_the_confidence():
    text = (SAMPLES / "magento-products.csv").read_bytes()
    header, rest = text.split(b"\r\n", 1)
    found = detect(header + b",supplier_note,warehouse_bin\r\n" + rest)
    best = found.scores[0]
    assert found.best == "magento-products" and best.unplaced == ["supplier_note", "warehouse_bin"]
    assert 0.9 < best.confidence < 1.0  # 27 of the 29 columns are Magento's, and every required one is there


def test_a_store_added_column_matching_a_preset_pattern_is_not_unplaced():
    text = (SAMPLES / "shopify-products.csv").read_bytes()
    header, rest = text.split(b"\r\n", 1)
    found = detect(header + b",Google Shopping / Gender,Color (product.metafields.shopify.color-pattern)\r\n" + rest)
    assert found.best == "shopify-products" and found.scores[0].unplaced == [] and found.confidence == 1.0


def test_a_missing_required_column_is_named():
    text = (SAMPLES / "woocommerce-products.csv").read_bytes().replace(b"Regular price", b"Price (gross)")
    found = detect(text)
    woo = next(s for s in found.scores if s.preset == "woocommerce-products")
    assert woo.missing_required == ["'Regular price'"] and woo.unplaced == ["Price (gross)"]
    assert woo.confidence < 1.0


def test_encodings_utf8_without_bom_cp1252_and_utf16_refused():
    assert sniff_encoding("Größe;Preis\r\n".encode()) == ("utf-8", False)
    assert sniff_encoding("Größe;Preis\r\n".encode("cp1252")) == ("cp1252", False)
    assert sniff_encoding(codecs.BOM_UTF8 + b"a,b\n") == ("utf-8-sig", True)
    # A head cut inside a multi-byte character is still UTF-8.
    assert sniff_encoding("a,b\nÄ".encode()[:-1]) == ("utf-8", False)
    with pytest.raises(MarketsyncError, match=r"UTF-16.*save or export it as UTF-8"):
        sniff_encoding(codecs.BOM_UTF16_LE + "a,b".encode("utf-16-le"))
    with pytest.raises(MarketsyncError, match="UTF-16"):
        detect(codecs.BOM_UTF16_BE + "a,b".encode("utf-16-be"))


def test_a_cp1252_file_is_detected_and_scored():
    head = "Product ID;Name *;Price tax excluded;Quantity\r\n1;Größe M;12,50;3\r\n".encode("cp1252")
    found = detect(head)
    assert (found.encoding, found.delimiter, found.best) == ("cp1252", ";", "prestashop-products")


def test_line_endings():
    assert line_endings("a\r\nb\r\n") == "CRLF"
    assert line_endings("a\nb\n") == "LF"
    assert line_endings("a\rb\r") == "CR"
    assert line_endings("a,b") == "none"
    assert line_endings('a\r\n"x\ny"\r\n') == "CRLF"  # a quoted newline inside a cell does not decide


def test_delimiters_and_html_entities_in_the_rows():
    assert sniff_delimiter("a|b|c\n1|2|3\n") == "|"
    assert sniff_delimiter("a\tb\tc\n1\t2\t3\n") == "\t"
    assert sniff_delimiter("a;b;c\n1;2;3\n") == ";"
    # Entities end in ';': the header line keeps the Sniffer from taking them for the delimiter.
    html = 'id,title,body\n1,Mug,"<p>Tea &amp; coffee &lt;hot&gt; &amp; &amp;</p>"\n2,Cup,"&amp;&amp;&amp;"\n'
    assert sniff_delimiter(html) == ","
    assert sniff_delimiter('"a,b";c;d\n1;2;3\n') == ";"  # a quoted header name may hold another candidate


def test_json_has_no_preset_and_empty_is_refused():
    found = detect(b'[{"id": 1}]')
    assert found.format == "json" and found.best is None and found.scores == []
    assert "no preset reads JSON" in found.message
    with pytest.raises(MarketsyncError, match="empty"):
        detect(b"\xef\xbb\xbf \r\n")


def test_every_preset_signature_is_consistent():
    """A required name is one the signature knows, and a signature names what detection needs."""
    for name, preset in PRESETS.items():
        signature = preset["signature"]
        known = set(signature.get("columns", [])) | set(signature.get("elements", []))
        assert known, name
        for requirement in signature["required"]:
            options = requirement if isinstance(requirement, list) else [requirement]
            assert set(options) <= known, (name, requirement)
        if preset["format"] == "xml":
            assert signature["forms"] and all({"name", "root", "record"} <= set(f) for f in signature["forms"])
