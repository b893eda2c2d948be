"""Feed mappings: validation, per-column conversion and rejection reasons, and the COPY line the loader
writes agreeing with the values people see."""
from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from marketsync.assets.catalog.canonical import PRODUCT_COLUMNS
from marketsync.assets.feeds.mapping import (
    Rejected,
    compile_mapping,
    mapping_problems,
    parse_price,
    pg_array,
    validate_mapping,
)
from marketsync.assets.feeds.readers import XmlReader
from marketsync.resources.errors import MarketsyncError

HEADER = ["id", "ean", "sku", "price", "cur", "stock", "type", "updated", "title_en", "title_de", "desc_en", "color",
          "regions"]
MAPPING = {
    "external_id": "id", "gtin": "ean", "sku": "sku", "price": "price", "currency": "cur", "quantity": "stock",
    "product_type": "type", "source_updated_at": "updated", "regions": "regions",
    "title": {"en": "title_en", "de": "title_de"}, "description": {"en": "desc_en"},
    "attributes": ["color"], "defaults": {"currency": "EUR"},
}


def row(**values: str) -> list[str]:
    base = {"id": "A1", "ean": "4006381333931", "sku": " SKU-1 ", "price": "12.50", "cur": "", "stock": "3",
            "type": "", "updated": "2026-03-01T10:00:00Z", "title_en": "Mug", "title_de": "Becher", "desc_en": "",
            "color": "red", "regions": "EU, DE"}
    base.update(values)
    return [base[name] for name in HEADER]


@pytest.fixture(scope="module")
def compiled():
    return compile_mapping(MAPPING, "csv", HEADER)


def _copy_fields(line: str) -> list[str | None]:
    assert line.endswith("\n")
    return [None if f == "" else f for f in line[:-1].split("\t")]


def test_a_row_maps_to_product_and_translations(compiled):
    mapped = compiled.map(row())
    product = dict(zip(PRODUCT_COLUMNS, mapped.product, strict=True))
    assert product == {
        "external_id": "A1", "gtin14": "04006381333931", "sku": "SKU-1", "mpn": None, "brand": None,
        "price": Decimal("12.50"), "currency": "EUR", "availability": None, "quantity": 3,
        "product_type": "physical", "platform": None, "regions": ["EU", "DE"], "languages": None,
        "attributes": '{"color":"red"}',
        "source_updated_at": datetime(2026, 3, 1, 10, tzinfo=UTC),
    }
    assert mapped.translations == [("A1", "en", "Mug", None, None), ("A1", "de", "Becher", None, None)]


def test_the_copy_line_says_the_same_as_the_mapped_row(compiled):
    fields = _copy_fields(compiled.copy_line(row()))
    assert fields == ["A1", "04006381333931", "SKU-1", None, None, "12.50", "EUR", None, "3", "physical", None,
                      '{"EU","DE"}', None, '{"color":"red"}', "2026-03-01T10:00:00Z", "Mug", None, None, "Becher", None,
                      None]
    assert len(fields) == len(compiled.stage_columns)


@pytest.mark.parametrize("values, reason", [
    ({"id": "  "}, "no external id (field 'id')"),
    ({"ean": "4006381333932"}, "invalid GTIN: barcode 4006381333932 has a wrong check digit (expected 1)"),
    ({"price": "call us"}, "price 'call us' is not a number"),
    ({"price": "-1.00"}, "price '-1.00' is negative"),
    ({"price": "NaN"}, "price 'NaN' is not a number"),
    ({"price": "99999999999"}, "price '99999999999' is too large"),
    ({"stock": "2.5"}, "quantity '2.5' is not a whole number"),
    ({"cur": "euro"}, "currency 'euro' is not a three-letter ISO 4217 code"),
    ({"type": "service"}, "product type 'service' is neither physical nor digital"),
    ({"updated": "yesterday"}, "timestamp 'yesterday' is not an ISO 8601 date and time"),
    ({"updated": "2026-02-30T10:00:00Z"}, "timestamp '2026-02-30T10:00:00Z' is not a valid date and time"),
])
def test_rejections_name_the_reason(compiled, values, reason):
    with pytest.raises(Rejected) as map_error:
        compiled.map(row(**values))
    with pytest.raises(Rejected) as copy_error:
        compiled.copy_line(row(**values))
    assert reason in (str(map_error.value), str(copy_error.value))
    assert str(copy_error.value).split(" (")[0] in reason or reason.startswith("timestamp")


def test_a_row_of_the_wrong_width_is_rejected(compiled):
    with pytest.raises(Rejected, match="the row has 3 fields, the header 13"):
        compiled.copy_line(["A1", "x", "y"])


@pytest.mark.parametrize("raw, decimal_comma, expected", [
    ("12.50", False, ("12.50", None)), ("12,50", False, ("12.50", None)), ("1.234,50", False, ("1234.50", None)),
    ("1,234.50", False, ("1234.50", None)), ("1,234", False, ("1234", None)), ("1.234", True, ("1234", None)),
    ("12.50 EUR", False, ("12.50", "EUR")), ("€ 9,99", True, ("9.99", "EUR")), ("USD 3", False, ("3", "USD")),
    (12.5, False, ("12.5", None)), (7, False, ("7", None)), ("1'234.50", False, ("1234.50", None)),
])
def test_prices_in_the_forms_suppliers_write_them(raw, decimal_comma, expected):
    value, currency = parse_price(raw, decimal_comma)
    assert (str(value), currency) == expected


def test_decimal_comma_mapping_on_the_fast_path():
    compiled = compile_mapping({**MAPPING, "decimal_comma": True}, "csv", HEADER)
    assert _copy_fields(compiled.copy_line(row(price="1.234,5")))[5] == "1234.5"
    assert _copy_fields(compiled.copy_line(row(price="12,50")))[5] == "12.50"
    assert compiled.map(row(price="12,50")).product[5] == Decimal("12.50")


def test_currency_from_the_price_text_and_defaults():
    compiled = compile_mapping({**MAPPING, "defaults": {"currency": "CHF", "quantity": 0}}, "csv", HEADER)
    assert compiled.map(row(price="5.00 EUR")).product[6] == "EUR"
    assert compiled.map(row()).product[6] == "CHF"
    assert compiled.map(row(stock="")).product[8] == 0
    assert _copy_fields(compiled.copy_line(row(stock="")))[8] == "0"


def test_values_that_need_copy_escaping():
    compiled = compile_mapping(MAPPING, "csv", HEADER)
    line = compiled.copy_line(row(title_en="tab\there", desc_en="line one\nline two \\ backslash"))
    assert line.count("\n") == 1
    fields = line[:-1].split("\t")
    assert fields[15] == "tab\\there" and fields[16] == "line one\\nline two \\\\ backslash"


def test_mapping_validation_lists_every_problem():
    problems = mapping_problems({"gtin": "", "title": {"english": "t"}, "colour": "c",
                                 "defaults": {"currency": "euro", "external_id": "x"}, "delimiter": ";;"}, "csv")
    text = "; ".join(problems)
    for expected in ("unknown keys colour", "'external_id' is required", "'gtin' must name a source field",
                     "language 'english'", "default for 'currency'", "'defaults' cannot set 'external_id'",
                     "'delimiter' must be a single character"):
        assert expected in text
    with pytest.raises(MarketsyncError, match="the feed mapping is not valid"):
        validate_mapping([], "csv")


def test_a_mapped_column_missing_from_the_header_is_named():
    with pytest.raises(MarketsyncError, match=r"no column 'ean'.*its header: 'id', 'sku'"):
        compile_mapping({"external_id": "id", "gtin": "ean"}, "csv", ["id", "sku"])


def test_field_names_are_data_never_code():
    """A hostile column name is only ever a string the generated code looks up."""
    name = "x'); import os; os.system('echo pwned'); ('"
    compiled = compile_mapping({"external_id": name, "attributes": [name]}, "csv", [name])
    assert compiled.map([" A1 "]).product[0] == "A1"
    assert "os.system" not in compiled.source


def test_json_dotted_paths_lists_and_types():
    mapping = {"external_id": "id", "price": "offer.price", "quantity": "offer.stock", "sku": "codes.0",
               "regions": "regions", "title": {"en": "names.en"}, "attributes": {"weight": "specs.weight"}}
    compiled = compile_mapping(mapping, "json")
    record = {"id": 42, "offer": {"price": 19.99, "stock": 4}, "codes": ["S-1", "S-2"], "regions": ["EU", " WW "],
              "names": {"en": " Game "}, "specs": {"weight": 1.5}}
    product = compiled.map(record).product
    assert product[:3] == ("42", None, "S-1") and product[5] == Decimal("19.99") and product[8] == 4
    assert product[11] == ["EU", "WW"] and product[13] == '{"weight":1.5}'
    fields = _copy_fields(compiled.copy_line(record))
    assert fields[5] == "19.99" and fields[8] == "4" and fields[15] == "Game"
    with pytest.raises(Rejected, match="no external id"):
        compiled.map({"offer": {"price": 1}})
    with pytest.raises(Rejected, match="NUL"):
        compiled.copy_line({"id": "A\x00B", "offer": {"price": 1}})


@pytest.mark.parametrize("variant", ["map", "copy_line"])
@pytest.mark.parametrize("fmt, header, record", [
    ("json", None, {"id": "A", "price": None, "sku": "S"}),
    ("json", None, {"id": "A", "sku": "S"}),
    ("csv", ["id", "price", "sku"], ["A", "", "S"]),
])
def test_a_mapped_price_is_required_never_loaded_as_a_wipe(variant, fmt, header, record):
    compiled = compile_mapping({"external_id": "id", "price": "price", "sku": "sku"}, fmt, header)
    with pytest.raises(Rejected, match=r"no price .*'price'.*required"):
        getattr(compiled, variant)(record)
    # With a default price the record loads with it; an unmapped price is not required at all.
    with_default = compile_mapping({"external_id": "id", "price": "price", "sku": "sku",
                                    "defaults": {"price": "9.50"}}, fmt, header)
    assert getattr(with_default, variant)(record) is not None
    assert compile_mapping({"external_id": "id", "sku": "sku"}, fmt, header).map(record) is not None


@pytest.mark.parametrize("variant", ["map", "copy_line"])
def test_required_fields_quarantine_records_without_them(variant):
    compiled = compile_mapping({"external_id": "id", "sku": "sku", "quantity": "stock",
                                "required": ["sku", "quantity"]}, "json")
    assert getattr(compiled, variant)({"id": "A", "sku": "S", "stock": 3}) is not None
    with pytest.raises(Rejected, match=r"no sku .*'sku'.*requires"):
        getattr(compiled, variant)({"id": "A", "sku": "", "stock": 3})
    with pytest.raises(Rejected, match="no quantity"):
        getattr(compiled, variant)({"id": "A", "sku": "S", "stock": None})


def test_required_must_name_mapped_catalog_columns():
    problems = mapping_problems({"external_id": "id", "required": ["colour", "sku"]}, "json")
    assert any("'colour', which is not a catalog column" in p for p in problems)
    assert any("'sku', which the mapping does not map" in p for p in problems)


def test_xml_xpaths_with_namespaces_predicates_and_attributes():
    document = b"""<feed xmlns="urn:s" xmlns:g="http://base.google.com/ns/1.0">
      <item><g:id>A1</g:id><g:price currency="CHF">7.10</g:price>
        <title xml:lang="en">Cup</title><title xml:lang="de">Tasse</title><size>M</size></item></feed>"""
    mapping = {"record": "s:item", "namespaces": {"s": "urn:s", "g": "http://base.google.com/ns/1.0"},
               "external_id": "g:id", "price": "g:price", "currency": "g:price/@currency",
               "title": {"en": "s:title[@xml:lang='en']", "de": "s:title[@xml:lang='de']"}, "attributes": ["s:size"]}
    compiled = compile_mapping(mapping, "xml")
    # (mapped while it is the current record: the reader clears each element once it moves on)
    mapped, = [compiled.map(element) for _line, _raw, element in
               XmlReader(io.BytesIO(document), record="s:item", namespaces=mapping["namespaces"])]
    assert mapped.product[0] == "A1" and mapped.product[5] == Decimal("7.10") and mapped.product[6] == "CHF"
    assert mapped.product[13] == '{"size":"M"}'
    assert mapped.translations == [("A1", "en", "Cup", None, None), ("A1", "de", "Tasse", None, None)]


def test_an_invalid_xpath_is_a_mapping_problem():
    problems = mapping_problems({"record": "item", "external_id": "id[", "sku": "@@"}, "xml")
    assert any("'external_id' is not a valid XPath" in p for p in problems)


def test_pg_array_quotes_every_element():
    assert pg_array(['a,b', 'say "hi"', "back\\slash", "{x}"]) == '{"a,b","say \\"hi\\"","back\\\\slash","{x}"}'


def test_a_price_that_would_round_past_the_column_is_refused_before_postgres_sees_it(compiled):
    with pytest.raises(Rejected, match="too large"):
        compiled.copy_line(row(price="9999999999.99995"))
    assert _copy_fields(compiled.copy_line(row(price="9999999999.9999")))[5] == "9999999999.9999"


def test_a_json_attribute_that_json_cannot_hold_is_a_rejection_not_a_crash():
    compiled = compile_mapping({"external_id": "id", "attributes": ["big"]}, "json")
    with pytest.raises(Rejected, match="attribute"):
        compiled.copy_line({"id": "A1", "big": 2**70})
