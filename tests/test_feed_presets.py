"""The presets read their formats: each sample file (tests/fixtures/feed_presets, written from the formats'
public documentation) through `preview_feed` with its preset's mapping, row by row: titles, prices, sale
prices, quantities, images, weights, options, the rows rejected and why, and what a continuation row may
and may not take from the row it continues.

The preview tests need the mapping keys of issue 19 (alternatives, sale_price, images, weight,
availability_quantity, negative_stock, option_pairs, skip, group) in the engine."""
from pathlib import Path

import pytest

from marketsync.assets.feeds.detect import detect
from marketsync.assets.feeds.mapping import validate_mapping
from marketsync.assets.feeds.presets import (
    PRESETS,
    get_preset,
    list_presets,
    preset_mapping,
    preset_ref,
)
from marketsync.assets.feeds.preview import preview_feed
from marketsync.resources.errors import MarketsyncError

SAMPLES = Path(__file__).parent / "fixtures" / "feed_presets"
NOTE = "the feed said -3; loaded as 0"


def _preview(sample: str, preset_name: str, form: str | None = None) -> dict:
    """The sample through its preset's mapping as `feeds add` stores it (the optional fields are read
    where the file's header has them)."""
    preset = get_preset(preset_name)
    found = detect((SAMPLES / sample).read_bytes())
    source = {"name": preset_name, "format": found.format, "encoding": "utf-8",
              "mapping": preset_mapping(preset, form, found.delimiter)}
    return preview_feed(source, SAMPLES / sample, limit=50)


def _by_id(result: dict) -> dict[str, dict]:
    return {row["external_id"]: row for row in result["rows"]}


def _reasons(result: dict) -> list[tuple[int, str]]:
    return [(line, reason) for line, _raw, reason in result["rejected"]]


# ---------------------------------------------------------------- the presets themselves

def test_the_presets_and_their_metadata():
    assert [p["name"] for p in list_presets()] == [
        "google-merchant-tsv", "google-merchant-xml", "magento-products", "prestashop-products", "shopify-products",
        "woocommerce-products"]
    for name, preset in PRESETS.items():
        assert preset["version"] == 1 and preset["format"] in ("csv", "tsv", "xml") and preset["title"]
        assert preset["documentation"] and all(url.startswith("https://") for url in preset["documentation"])
        assert preset["mapping"]["preset"] == preset_ref(preset) == f"{name}@1"


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_mapping_is_valid(name):
    preset = PRESETS[name]
    validate_mapping(preset_mapping(preset), preset["format"])
    for form in preset["signature"].get("forms", []):
        validate_mapping(preset_mapping(preset, form["name"]), preset["format"])


def test_get_preset_by_name_and_version():
    assert get_preset("shopify-products@1")["name"] == "shopify-products"
    with pytest.raises(MarketsyncError, match=r"unknown preset 'shopify'.*feeds presets"):
        get_preset("shopify")
    with pytest.raises(MarketsyncError, match="version 1, not 2"):
        get_preset("shopify-products@2")


def test_a_preset_mapping_is_a_copy_with_the_form_and_delimiter_of_the_file():
    preset = get_preset("google-merchant-xml")
    atom = preset_mapping(preset, "atom")
    atom["namespaces"]["g"] = "changed"
    assert atom["record"] == "a:entry" and preset_mapping(preset)["record"] == "channel/item"
    assert preset["mapping"]["namespaces"]["g"] == "http://base.google.com/ns/1.0"
    assert preset_mapping(get_preset("shopify-products"), delimiter=";")["delimiter"] == ";"
    with pytest.raises(MarketsyncError, match="no form 'json'"):
        preset_mapping(preset, "json")


# ---------------------------------------------------------------- Shopify (current template and older names)

@pytest.mark.parametrize("sample", ["shopify-products.csv", "shopify-products-old.csv"])
def test_shopify_variants_continuations_and_image_rows(sample):
    result = _preview(sample, "shopify-products")
    rows = _by_id(result)
    assert list(rows) == ["LS-S", "LS-M", "LS-L", "CT-1"]  # the image-only row continues LS, it is no product
    images = ["https://cdn.example.com/linen-front.jpg", "https://cdn.example.com/linen-s.jpg",
              "https://cdn.example.com/linen-back.jpg", "https://cdn.example.com/linen-detail.jpg"]

    first = rows["LS-S"]
    assert (first["sku"], first["gtin14"], first["price"], first["quantity"]) == ("LS-S", "04006381333931", "39.90", 12)
    assert (first["brand"], first["title_en"], first["attributes"]["type"]) == ("Atelier Nord", "Linen Shirt", "Shirts")
    assert first["description_en"].startswith("<p>Soft linen &amp; cotton, made in Portugal.</p>")
    text = first["description_text_en"]
    assert "Soft linen & cotton, made in Portugal." in text and "Machine wash 30°C" in text and "<" not in text
    assert first["attributes"]["Size"] == "S" and first["attributes"]["Color"] == "Blue"
    assert first["attributes"]["compare_at_price"] == "49.90" and first["attributes"]["tags"] == "linen, summer"
    assert first["attributes"]["images"] == images and first["attributes"]["weight_grams"] == 250
    assert "sale_price" not in first["attributes"]  # Shopify's compare-at price is the was-price, kept apart

    second = rows["LS-M"]
    # Inherited from the group's first row: the product's fields and the option names.
    assert (second["title_en"], second["brand"], second["attributes"]["type"]) == ("Linen Shirt", "Atelier Nord",
                                                                                  "Shirts")
    assert second["description_en"] == first["description_en"]
    assert second["attributes"]["Size"] == "M" and second["attributes"]["Color"] == "Blue"
    assert second["attributes"]["tags"] == "linen, summer" and second["attributes"]["images"] == images
    # Its own variant fields, never the first row's: no barcode, its own price, its stock clamped.
    assert (second["gtin14"], second["price"], second["quantity"]) == (None, "39.90", 0)
    assert second["attributes"]["stock_note"] == NOTE and second["attributes"]["weight_grams"] == 260
    assert second["attributes"].get("compare_at_price") in (None, "")

    third = rows["LS-L"]
    assert (third["sku"], third["gtin14"], third["price"], third["quantity"]) == ("LS-L", None, "41.00", None)
    assert third["attributes"]["Size"] == "L" and third["attributes"]["weight_grams"] == 270
    assert third["attributes"].get("compare_at_price") in (None, "") and "stock_note" not in third["attributes"]

    tote = rows["CT-1"]
    assert (tote["title_en"], tote["price"], tote["quantity"], tote["gtin14"]) == ("Canvas Tote", "19.00", 7, None)
    assert tote["attributes"]["images"] == ["https://cdn.example.com/tote.jpg"]
    assert tote["attributes"]["weight_grams"] == 400
    assert "Title" not in tote["attributes"]  # Shopify's "Title: Default Title" of a single-variant product

    assert result["rejected_count"] == 1
    [(line, reason)] = _reasons(result)
    assert line == 8 and "abc" in reason  # the description's quoted newline makes LS-S two lines


# ---------------------------------------------------------------- WooCommerce

def test_woocommerce_variations_by_parent_id_and_by_parent_sku():
    result = _preview("woocommerce-products.csv", "woocommerce-products")
    rows = _by_id(result)
    assert list(rows) == ["101", "102", "103", "200"]  # the variable parent (100) is skipped, not rejected
    parent_images = ["https://shop.example.com/hoodie.jpg", "https://shop.example.com/hoodie-back.jpg"]
    description = "<p>Organic cotton hoodie.</p>\n<p>Unisex fit.</p>"

    blue = rows["101"]  # Parent id:100
    assert (blue["sku"], blue["price"], blue["quantity"], blue["title_en"]) == ("HOOD-BLUE", "45", 5, "Hoodie - Blue")
    assert blue["attributes"]["sale_price"] == "34.50"
    assert blue["attributes"]["images"] == ["https://shop.example.com/hoodie-blue.jpg"]  # its own image
    assert blue["description_en"] == description and blue["attributes"]["categories"] == "Clothing > Hoodies"
    assert "Organic cotton hoodie." in blue["description_text_en"] and "<p>" not in blue["description_text_en"]
    assert blue["attributes"]["weight_grams"] == 500  # the parent's 0.5, in the kg of "Weight (kg)"
    assert blue["attributes"]["Color"] == "Blue" and blue["attributes"]["short_description"] == "Warm &amp; cosy"

    red = rows["102"]  # Parent id:100, no name of its own, negative stock
    assert (red["title_en"], red["price"], red["quantity"]) == ("Hoodie", "45", 0)
    assert red["attributes"]["stock_note"] == NOTE and red["attributes"]["weight_grams"] == 600
    assert red["attributes"]["images"] == parent_images and red["attributes"]["Color"] == "Red"
    assert "sale_price" not in red["attributes"]  # the sale is the blue variation's, never inherited

    green = rows["103"]  # Parent given by the parent's SKU, no stock given
    assert (green["title_en"], green["quantity"], green["description_en"]) == ("Hoodie - Green", None, description)
    assert green["attributes"]["images"] == parent_images and green["attributes"]["weight_grams"] == 500

    mug = rows["200"]
    assert (mug["sku"], mug["price"], mug["quantity"], mug["title_en"]) == ("MUG-1", "12.50", 20, "Stoneware Mug")
    assert mug["description_en"] == "Hand-glazed &lt;b&gt;stoneware&lt;/b&gt; mug."
    assert mug["attributes"]["weight_grams"] == 350 and mug["attributes"]["images"] == ["https://shop.example.com/mug.jpg"]
    assert "sale_price" not in mug["attributes"]  # an empty Sale price is no sale

    [(line, reason)] = _reasons(result)
    assert line == 8 and "cheap" in reason  # MUG-2's sale price is not a number


# ---------------------------------------------------------------- Google Merchant Center

def test_google_merchant_rss():
    result = _preview("google-merchant-rss.xml", "google-merchant-xml", "rss")
    rows = _by_id(result)
    assert list(rows) == ["LS-S", "LS-M", "TOTE-1"]
    shirt = rows["LS-S"]
    assert (shirt["price"], shirt["currency"], shirt["gtin14"], shirt["mpn"]) == ("49.90", "EUR", "04006381333931",
                                                                                  "AN-LS-S")
    assert shirt["attributes"]["sale_price"] == "39.90" and shirt["brand"] == "Atelier Nord"
    assert shirt["availability"] == "in_stock" and shirt["quantity"] is None  # in stock, how many is unknown
    assert shirt["title_en"] == "Linen Shirt S"
    assert shirt["description_en"] == "<p>Soft linen &amp; cotton.</p>\n<p>Made in Portugal.</p>"
    assert shirt["attributes"]["images"] == ["https://cdn.example.com/linen-front.jpg",
                                             "https://cdn.example.com/linen-back.jpg"]
    assert shirt["attributes"]["weight_grams"] == 250 and shirt["attributes"]["item_group_id"] == "linen-shirt"
    assert shirt["attributes"]["link"] == "https://shop.example.com/products/linen-shirt?variant=1"

    medium = rows["LS-M"]  # RSS's own title, description and link stand in for g:title, g:description, g:link
    assert (medium["title_en"], medium["description_en"]) == ("Linen Shirt M", "Soft linen")
    assert medium["attributes"]["link"] == "https://shop.example.com/products/linen-shirt?variant=2"
    assert medium["quantity"] == 0 and medium["attributes"]["weight_grams"] == 260  # "out of stock"; 0.26 kg

    tote = rows["TOTE-1"]
    assert tote["quantity"] == 0 and tote["attributes"]["weight_grams"] == 453.6  # preorder; 1 lb
    assert "sale_price" not in tote["attributes"]

    [(_line, reason)] = _reasons(result)
    assert "price" in reason  # BAD-1 has none


def test_google_merchant_atom():
    result = _preview("google-merchant-atom.xml", "google-merchant-xml", "atom")
    rows = _by_id(result)
    assert list(rows) == ["LS-S", "TOTE-1"]
    shirt = rows["LS-S"]
    assert (shirt["title_en"], shirt["description_en"]) == ("Linen Shirt S", "Soft linen & cotton")
    assert shirt["attributes"]["link"] == "https://shop.example.com/products/linen-shirt?variant=1"
    assert (shirt["price"], shirt["currency"], shirt["attributes"]["sale_price"]) == ("49.90", "EUR", "39.90")
    assert shirt["quantity"] is None and shirt["attributes"]["weight_grams"] == 250  # "in stock"
    assert shirt["attributes"]["images"] == ["https://cdn.example.com/linen-front.jpg"]
    tote = rows["TOTE-1"]
    assert (tote["title_en"], tote["price"], tote["quantity"]) == ("Canvas Tote", "19.00", 0)
    assert tote["attributes"]["weight_grams"] == 400
    assert result["rejected_count"] == 0


def test_google_merchant_tsv():
    result = _preview("google-merchant.tsv", "google-merchant-tsv")
    rows = _by_id(result)
    assert list(rows) == ["LS-S", "LS-M", "TOTE-1"]
    shirt = rows["LS-S"]
    assert shirt["attributes"]["images"] == ["https://cdn.example.com/linen-front.jpg",
                                             "https://cdn.example.com/linen-back.jpg",
                                             "https://cdn.example.com/linen-detail.jpg"]
    assert (shirt["price"], shirt["currency"], shirt["attributes"]["sale_price"]) == ("49.90", "EUR", "39.90")
    assert shirt["quantity"] is None and shirt["gtin14"] == "04006381333931"
    assert "Soft linen & cotton." in shirt["description_text_en"]
    assert (rows["LS-M"]["quantity"], rows["LS-M"]["attributes"]["weight_grams"]) == (0, 260)
    assert (rows["TOTE-1"]["quantity"], rows["TOTE-1"]["attributes"]["weight_grams"]) == (0, 3000)  # backorder
    [(line, reason)] = _reasons(result)
    assert line == 6 and "free" in reason


# ---------------------------------------------------------------- PrestaShop

def test_prestashop_semicolons_and_decimal_commas():
    result = _preview("prestashop-products.csv", "prestashop-products")
    rows = _by_id(result)
    assert list(rows) == ["1", "2", "3"]
    shirt = rows["1"]
    assert (shirt["sku"], shirt["gtin14"], shirt["brand"]) == ("LS-1", "04006381333931", "Atelier Nord")
    assert (shirt["price"], shirt["quantity"], shirt["title_en"]) == ("12.50", 12, "Linen Shirt")  # "12,50"
    assert shirt["attributes"]["weight_grams"] == 250  # "0,25" kg
    assert shirt["attributes"]["images"] == ["https://shop.example.com/img/1.jpg", "https://shop.example.com/img/2.jpg"]
    assert shirt["attributes"]["summary"] == "<p>Soft linen</p>"
    assert shirt["attributes"]["supplier_reference"] == "AN-LS-1"
    assert shirt["attributes"]["categories"] == "Clothing,Shirts"
    assert "Made in Portugal." in shirt["description_text_en"]
    tote = rows["2"]
    assert (tote["price"], tote["quantity"], tote["attributes"]["stock_note"]) == ("19.00", 0, NOTE)
    assert tote["attributes"]["weight_grams"] == 400  # "0.4": a point is read too
    scarf = rows["3"]
    assert (scarf["price"], scarf["quantity"]) == ("1234.00", None)  # "1.234,00"; no stock given
    assert "weight_grams" not in scarf["attributes"]
    [(line, reason)] = _reasons(result)
    assert line == 6 and "n/a" in reason


# ---------------------------------------------------------------- Magento

def test_magento_store_view_rows_and_configurable_parents_are_skipped():
    result = _preview("magento-products.csv", "magento-products")
    rows = _by_id(result)
    assert list(rows) == ["LS-S", "LS-M", "MUG-1"]
    shirt = rows["LS-S"]
    assert (shirt["price"], shirt["attributes"]["sale_price"], shirt["quantity"]) == ("49.90", "39.90", 12)
    assert shirt["title_en"] == "Linen Shirt S"  # the default store view's name, not the "de" row's
    assert shirt["attributes"]["images"] == ["https://cdn.example.com/media/linen-s.jpg",
                                             "https://cdn.example.com/media/linen-back.jpg",
                                             "https://cdn.example.com/media/linen-detail.jpg"]
    assert shirt["attributes"]["weight_grams"] == 250
    assert shirt["attributes"]["additional_attributes"] == "color=Blue,size=S"
    assert shirt["attributes"]["categories"] == "Default Category/Clothing/Shirts"
    medium = rows["LS-M"]
    assert (medium["quantity"], medium["attributes"]["stock_note"]) == (0, NOTE)
    assert "sale_price" not in medium["attributes"]
    mug = rows["MUG-1"]
    assert (mug["price"], mug["quantity"], mug["attributes"]["images"]) == (
        "12.50", None, ["https://cdn.example.com/media/mug.jpg"])
    [(line, reason)] = _reasons(result)
    assert line == 8 and "half" in reason
