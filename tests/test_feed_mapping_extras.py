"""What shop exports need from a mapping, usable in any mapping (assets/feeds/mapping/extras.py,
rows_schema.py, grouping.py): alternative column names, sale prices, several images in a cell, weights
with units, availability words as a quantity, the negative stock policy, option pairs, HTML descriptions
with their plain text, rows grouped by a key or by a parent, and rows that are no product."""
from __future__ import annotations

import io

import orjson
import pytest

from marketsync.assets.feeds.mapping import Rejected, compile_mapping, mapping_problems
from marketsync.assets.feeds.mapping.extras import availability_word, plain_text, weight_grams
from marketsync.assets.feeds.preview import preview_feed
from marketsync.assets.feeds.readers import XmlReader

pytestmark = pytest.mark.unit

BASE = {"external_id": "id", "price": "price", "defaults": {"currency": "EUR"}}


def attributes(mapped) -> dict:
    return orjson.loads(mapped.product[13])


def csv_row(mapping: dict, header: list[str], row: list[str]):
    compiled = compile_mapping({**BASE, **mapping}, "csv", header)
    mapped = compiled.map(row)
    # The loader's COPY line says the same as the mapped row.
    fields = compiled.copy_line(row).rstrip("\n").split("\t")
    assert orjson.loads(fields[13].replace("\\\\", "\\")) == attributes(mapped)
    return mapped


def test_alternatives_read_the_first_column_the_header_has():
    mapping = {"sku": ["Variant SKU", "SKU"]}
    assert csv_row(mapping, ["id", "price", "SKU"], ["1", "2", "new"]).product[2] == "new"
    assert csv_row(mapping, ["id", "price", "Variant SKU", "SKU"], ["1", "2", "old", "x"]).product[2] == "old"
    with pytest.raises(Exception, match="no column 'Variant SKU' or 'SKU'"):
        compile_mapping({**BASE, **mapping}, "csv", ["id", "price"])


def test_optional_fields_are_read_only_where_the_file_has_them():
    mapping = {"sale_price": "sale", "title": {"en": "title", "de": "titel"}, "optional": ["sale_price", "title.de"]}
    mapped = csv_row(mapping, ["id", "price", "title"], ["1", "2", "Mug"])
    assert mapped.translations == [("1", "en", "Mug", None, None)]
    assert attributes(csv_row(mapping, ["id", "price", "title", "sale"], ["1", "2", "Mug", "1.50"])) == {
        "sale_price": "1.50"}
    with pytest.raises(Exception, match="no column 'title'"):  # not optional: still required of the file
        compile_mapping({**BASE, **mapping}, "csv", ["id", "price"])
    assert any("external_id" in p for p in mapping_problems({**BASE, "optional": ["external_id"]}, "csv"))


def test_xml_alternatives_take_the_first_with_a_value_and_records_may_have_several_paths():
    mapping = {"external_id": "g:id", "price": "g:price", "title": {"en": ["g:title", "title", "a:title"]},
               "record": ["rss/channel/item", "a:feed/a:entry"],
               "namespaces": {"g": "http://base.google.com/ns/1.0", "a": "http://www.w3.org/2005/Atom"}}
    rss = (b'<rss xmlns:g="http://base.google.com/ns/1.0" version="2.0"><channel><title>shop</title>'
           b'<item><title>Plain</title><g:id>1</g:id><g:price>5.00 EUR</g:price></item>'
           b'<item><g:title>From g</g:title><title>ignored</title><g:id>2</g:id><g:price>6 EUR</g:price></item>'
           b'</channel></rss>')
    atom = (b'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:g="http://base.google.com/ns/1.0"><title>shop</title>'
            b'<entry><title>Atom title</title><g:id>3</g:id><g:price>7.00 USD</g:price></entry></feed>')
    compiled = compile_mapping(mapping, "xml")
    found = []
    for document in (rss, atom):
        reader = XmlReader(io.BytesIO(document), record=mapping["record"], namespaces=mapping["namespaces"])
        found += [(m.product[0], m.product[6], m.translations[0][2])
                  for m in (compiled.map(e) for _line, _raw, e in reader)]
    assert found == [("1", "EUR", "Plain"), ("2", "EUR", "From g"), ("3", "USD", "Atom title")]


def test_sale_price_images_weight_and_options_land_in_the_attributes():
    header = ["id", "price", "sale", "img", "img2", "w", "o1n", "o1v", "o2n", "o2v"]
    mapping = {"sale_price": "sale", "images": ["img", "img2", "missing column"], "weight": "w", "weight_unit": "kg",
               "option_pairs": [["o1n", "o1v"], ["o2n", "o2v"], ["o3n", "o3v"]], "decimal_comma": True}
    mapped = csv_row(mapping, header, ["1", "20,00", "15,50", "a.jpg , b.jpg,,a.jpg", "c.jpg", "1,5",
                                       "Size", "M", "Colour", ""])
    assert attributes(mapped) == {"Size": "M", "sale_price": "15.50", "images": ["a.jpg", "b.jpg", "c.jpg"],
                                  "weight_grams": 1500}
    with pytest.raises(Rejected, match="price 'soon' is not a number"):
        csv_row(mapping, header, ["1", "20", "soon", "", "", "", "", "", "", ""])


@pytest.mark.parametrize(("cell", "unit", "grams"), [
    ("1.5 kg", None, 1500), ("300", "g", 300), ("2 lb", None, 907.2), ("16 oz", "kg", 453.6), ("0.25", "kg", 250),
    ("", "kg", None)])
def test_weights_are_read_with_their_units(cell, unit, grams):
    assert weight_grams(cell, unit, False) == grams


def test_a_weight_unit_comes_from_the_column_name_and_a_weight_without_one_is_refused():
    assert attributes(csv_row({"weight": "Weight (lbs)"}, ["id", "price", "Weight (lbs)"], ["1", "2", "1"])) == {
        "weight_grams": 453.6}
    with pytest.raises(Rejected, match="has no unit"):
        csv_row({"weight": "w"}, ["id", "price", "w"], ["1", "2", "3"])
    with pytest.raises(Rejected, match="not one of g, kg, lb, oz"):
        csv_row({"weight": "w"}, ["id", "price", "w"], ["1", "2", "3 stone"])


@pytest.mark.parametrize(("raw", "word"), [
    ("in_stock", "in_stock"), ("In stock", "in_stock"), ("https://schema.org/InStock", "in_stock"),
    ("OutOfStock", "out_of_stock"), ("out-of-stock", "out_of_stock"), ("PreOrder", "preorder"),
    ("backorder", "backorder"), ("maybe", None), ("", None)])
def test_availability_words_are_normalised(raw, word):
    assert availability_word(raw) == word


def test_availability_gives_a_quantity_only_where_the_row_has_none():
    mapping = {"availability": "av", "quantity": "qty",
               "availability_quantity": {"in_stock": 5, "out_of_stock": 0, "preorder": "unknown", "backorder": 2}}
    header = ["id", "price", "av", "qty"]
    quantities = [csv_row(mapping, header, ["1", "2", av, qty]).product[8] for av, qty in [
        ("in stock", ""), ("out_of_stock", ""), ("preorder", ""), ("https://schema.org/BackOrder", ""),
        ("in stock", "7"), ("discontinued-ish", "")]]
    assert quantities == [5, 0, None, 2, 7, None]


def test_a_feeds_own_availability_words_say_what_they_mean():
    mapping = {"availability": "in_stock_flag", "quantity": "qty",
               "availability_words": {"1": "in_stock", "0": "out_of_stock", "OnBackorder": "backorder"},
               "availability_quantity": {"in_stock": "unknown", "out_of_stock": 0, "backorder": 0}}
    header = ["id", "price", "in_stock_flag", "qty"]
    assert [csv_row(mapping, header, ["1", "2", flag, ""]).product[8] for flag in ("1", "0", "onbackorder", "yes")] == [
        None, 0, 0, None]
    assert csv_row(mapping, header, ["1", "2", "0", "4"]).product[8] == 4  # a stock cell wins over the word
    assert any("availability_words" in p for p in mapping_problems({**BASE, "availability_words": {"1": "yes"}}, "csv"))


def test_xml_images_read_every_repeated_element():
    mapping = {"external_id": "g:id", "price": "g:price", "images": ["g:image_link", "g:additional_image_link"],
               "record": "rss/channel/item", "namespaces": {"g": "http://base.google.com/ns/1.0"}}
    document = (b'<rss xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>1</g:id><g:price>5 EUR</g:price>'
                b'<g:image_link>a.jpg</g:image_link><g:additional_image_link>b.jpg</g:additional_image_link>'
                b'<g:additional_image_link> c.jpg </g:additional_image_link></item></channel></rss>')
    compiled = compile_mapping(mapping, "xml")
    seen = []
    for _line, _raw, element in XmlReader(io.BytesIO(document), record=mapping["record"],
                                          namespaces=mapping["namespaces"]):
        assert attributes(compiled.map(element)) == {"images": ["a.jpg", "b.jpg", "c.jpg"]}
        assert '"images":["a.jpg","b.jpg","c.jpg"]' in compiled.copy_line(element)
        seen.append(element)
    assert len(seen) == 1


def test_negative_stock_is_clamped_and_noted_or_quarantined_by_the_feeds_policy():
    header = ["id", "price", "qty"]
    clamped = csv_row({"quantity": "qty"}, header, ["1", "2", "-3"])
    assert clamped.product[8] == 0
    assert attributes(clamped) == {"stock_note": "the feed said -3; loaded as 0"}
    with pytest.raises(Rejected, match="negative stock -3"):
        csv_row({"quantity": "qty", "negative_stock": "quarantine"}, header, ["1", "2", "-3"])


def test_html_descriptions_are_kept_and_offered_as_plain_text():
    header = ["id", "price", "body"]
    mapped = csv_row({"description": {"en": "body"}}, header,
                     ["1", "2", "<p>Warm &amp; soft</p><ul><li>cotton</li><li>&#8364; 5</li></ul><script>x()</script>"])
    assert mapped.translations == [("1", "en", None, "<p>Warm &amp; soft</p><ul><li>cotton</li><li>&#8364; 5</li>"
                                    "</ul><script>x()</script>", "Warm & soft\ncotton\n€ 5")]
    assert plain_text("fish & chips") is None  # an ampersand alone is plain text already
    assert csv_row({"description": {"en": "body"}}, header, ["1", "2", "plain"]).translations[0][4] is None


@pytest.mark.parametrize(("mapping", "problem"), [
    ({"group": {"by": "Handle", "inherit": ["title", "sku"]}}, "never inherits"),
    ({"group": {"by": "Handle", "inherit": ["price"]}}, "never inherits"),
    ({"group": {"by": "Handle", "inherit": ["attributes.colour", "quantity"]}}, "'quantity'"),
    ({"group": {"by": "Handle", "parent": "Parent"}}, "exactly one of"),
    ({"group": {"parent": "Parent"}}, "parent_keys"),
    ({"group": {"parent": "Parent", "parent_keys": {"SKU": ""}, "collect": ["images"]}}, "collect"),
    ({"skip": [{"field": "Type"}]}, "each 'skip' rule"),
    ({"availability_quantity": {"in_stock": -1}}, "at least 0"),
    ({"availability_quantity": {"sometimes": 1}}, "no word 'sometimes'"),
    ({"negative_stock": "ignore"}, "'negative_stock'"),
    ({"weight_unit": "stone"}, "'weight_unit'"),
])
def test_the_schema_refuses_what_cannot_work(mapping, problem):
    assert any(problem in p for p in mapping_problems({**BASE, **mapping}, "csv")), mapping_problems(
        {**BASE, **mapping}, "csv")


def test_grouping_is_for_delimited_feeds():
    assert any("CSV and TSV" in p for p in mapping_problems({**BASE, "record": "item",
                                                             "group": {"by": "h"}}, "xml"))


SHOPIFY_LIKE = {
    "external_id": "Variant SKU", "sku": "Variant SKU", "gtin": "Variant Barcode", "price": "Variant Price",
    "quantity": "Variant Inventory Qty", "brand": "Vendor", "title": {"en": "Title"},
    "description": {"en": "Body (HTML)"}, "images": ["Image Src"], "option_pairs": [["Option1 Name", "Option1 Value"]],
    "defaults": {"currency": "EUR"},
    "group": {"by": "Handle", "inherit": ["title", "description", "brand", "option_pairs"], "collect": ["images"]},
}
SHOPIFY_FILE = (
    "\ufeffHandle,Title,Body (HTML),Vendor,Option1 Name,Option1 Value,Variant SKU,Variant Inventory Qty,"
    "Variant Price,Variant Barcode,Image Src\r\n"
    'tee,Tee,"<p>Soft\r\n&amp; warm</p>",Acme,Size,S,TEE-S,5,19.99,4006381333931,a.jpg\r\n'
    "tee,,,,,M,TEE-M,,19.99,,b.jpg\r\n"
    "tee,,,,,,,,,,c.jpg\r\n"
    "tee,,,,,L,,3,21.00,,\r\n"
    "mug,Mug,,Other,Title,Default Title,MUG,-2,9.50,,\r\n"
)


def preview(tmp_path, mapping: dict, content: str, **source) -> dict:
    path = tmp_path / "feed.csv"
    path.write_bytes(content.encode("utf-8"))
    return preview_feed({"format": "csv", "mapping": mapping, "name": "t", **source}, path, limit=50)


def test_continuation_rows_inherit_product_fields_and_never_variant_fields(tmp_path):
    result = preview(tmp_path, SHOPIFY_LIKE, SHOPIFY_FILE)
    rows = {r["external_id"]: r for r in result["rows"]}
    assert list(rows) == ["TEE-S", "TEE-M", "MUG"]
    assert [(r["title_en"], r["brand"], r["description_text_en"]) for r in rows.values()] == [
        ("Tee", "Acme", "Soft & warm"), ("Tee", "Acme", "Soft & warm"), ("Mug", "Other", None)]
    # Variant-level cells stay the row's own: TEE-M has no barcode and no stock of its own.
    assert (rows["TEE-M"]["gtin14"], rows["TEE-M"]["quantity"]) == (None, None)
    assert (rows["TEE-S"]["gtin14"], rows["TEE-S"]["quantity"]) == ("04006381333931", 5)
    assert rows["TEE-M"]["attributes"] == {"Size": "M", "images": ["a.jpg", "b.jpg", "c.jpg"]}
    assert rows["MUG"]["attributes"] == {"stock_note": "the feed said -2; loaded as 0"}
    # The L row has no SKU: it is a variant (it has a price), so it is quarantined, not merged.
    assert [(line, reason) for line, _raw, reason in result["rejected"]] == [
        (6, "no external id (field 'Variant SKU')")]
    # The image-only row is no product: not read as a record, not rejected.
    assert (result["records_read"], result["skipped"]) == (4, 1)


def test_a_continuation_row_never_takes_a_variant_field_from_its_leader(tmp_path):
    """Every variant-level cell left empty on a continuation row stays empty after grouping, whatever
    the leader holds."""
    mapping = {**SHOPIFY_LIKE, "sale_price": "Compare", "availability": "Avail",
               "group": {**SHOPIFY_LIKE["group"], "inherit": ["title", "description", "brand", "option_pairs",
                                                                 "attributes", "images", "weight"]}}
    content = ("Handle,Title,Body (HTML),Vendor,Option1 Name,Option1 Value,Variant SKU,Variant Inventory Qty,"
               "Variant Price,Variant Barcode,Image Src,Compare,Avail\r\n"
               "h,T,,V,Size,S,A,9,5.00,4006381333931,x.jpg,7.00,in stock\r\n"
               "h,,,,,M,B,,6.00,,,,\r\n")
    rows = {r["external_id"]: r for r in preview(tmp_path, mapping, content)["rows"]}
    assert (rows["B"]["gtin14"], rows["B"]["quantity"], rows["B"]["price"], rows["B"]["availability"]) == (
        None, None, "6.00", None)
    assert "sale_price" not in rows["B"]["attributes"] and rows["A"]["attributes"]["sale_price"] == "7.00"


WOO_LIKE = {
    "external_id": ["SKU", "ID"], "sku": "SKU", "price": "Regular price", "sale_price": "Sale price",
    "quantity": "Stock", "title": {"en": "Name"}, "description": {"en": "Description"},
    "weight": "Weight (kg)", "defaults": {"currency": "EUR"},
    "skip": [{"field": "Type", "in": ["variable"]}],
    "group": {"parent": "Parent", "parent_keys": {"SKU": "", "ID": "id:"}, "inherit": ["description", "weight"]},
}


def test_variations_inherit_from_the_parent_they_name_and_the_parent_is_no_product(tmp_path):
    content = ("ID,Type,SKU,Name,Description,Weight (kg),Stock,Sale price,Regular price,Parent\r\n"
               "10,variable,HOOD,Hoodie,<b>Warm</b>,0.5,,,,\r\n"
               "11,variation,HOOD-R,Hoodie - Red,,,4,,30,id:10\r\n"
               "12,variation,HOOD-B,Hoodie - Blue,,0.6,,25,30,HOOD\r\n"
               "13,variation,LOST,Lost,,,1,,5,id:99\r\n"
               "14,simple,CAP,Cap,Cap,0.1,3,,12,\r\n")
    result = preview(tmp_path, WOO_LIKE, content)
    rows = {r["external_id"]: r for r in result["rows"]}
    assert list(rows) == ["HOOD-R", "HOOD-B", "CAP"]
    assert rows["HOOD-R"]["description_en"] == "<b>Warm</b>" and rows["HOOD-R"]["description_text_en"] == "Warm"
    assert rows["HOOD-R"]["attributes"] == {"weight_grams": 500}
    assert rows["HOOD-B"]["attributes"] == {"sale_price": "25", "weight_grams": 600}
    assert rows["HOOD-B"]["quantity"] is None  # its stock is its own, never the parent's
    assert [(line, reason) for line, _raw, reason in result["rejected"]] == [
        (5, "its parent 'id:99' is not among the rows before it")]
    assert result["skipped"] == 1


def test_skip_rules_drop_rows_that_are_no_product(tmp_path):
    mapping = {**BASE, "skip": [{"field": "store_view_code", "not_empty": True},
                                {"field": "product_type", "in": ["configurable"]}]}
    content = ("id,price,store_view_code,product_type\r\n1,5,,simple\r\n1,6,fr,simple\r\n2,7,,configurable\r\n"
               "3,8,,virtual\r\n")
    result = preview(tmp_path, mapping, content)
    assert [(r["external_id"], r["price"]) for r in result["rows"]] == [("1", "5"), ("3", "8")]
    assert result["skipped"] == 2


def test_a_malformed_row_inside_a_group_is_quarantined_and_the_group_goes_on(tmp_path):
    content = SHOPIFY_FILE.replace("tee,,,,,M,TEE-M,,19.99,,b.jpg\r\n", "tee,,,,,M,TEE-M,,19.99,,b.jpg,extra\r\n")
    result = preview(tmp_path, SHOPIFY_LIKE, content)
    assert [r["external_id"] for r in result["rows"]] == ["TEE-S", "MUG"]
    assert [(line, reason) for line, _r, reason in result["rejected"]] == [
        (4, "the row has 12 fields, the header 11"), (6, "no external id (field 'Variant SKU')")]
    assert result["skipped"] == 1  # the image-only row still joins its group
