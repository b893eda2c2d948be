"""Every crash the fuzzing harnesses (tests/fuzz/) found, kept as the exact input that crashed
(tests/fuzz/regressions/<harness>-<what>) and the fix it led to: each test feeds that input to its
harness's TestOneInput (whose contract the crash broke) and states the fixed behaviour directly.
Pure functions only: no database, network or atheris."""
from __future__ import annotations

import importlib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from marketsync.assets.amazon import normalise as amazon_normalise
from marketsync.assets.catalog.gtin import normalize_gtin
from marketsync.assets.codeswholesale.normalise import RefusedProduct, normalise_product
from marketsync.assets.ebay import normalise as ebay_normalise
from marketsync.assets.feeds.mapping import extras
from marketsync.assets.feeds.mapping.copy_text import timestamp_text
from marketsync.assets.feeds.mapping.parsers import Rejected, parse_timestamp, whole_number
from marketsync.assets.feeds.push_items import FeedDefaults, ItemsInvalid, parse_item
from marketsync.assets.inbound_sheet.check import parse_units
from marketsync.assets.jtl_ffn.sync import shipment_rows
from marketsync.assets.orders.load import MalformedOrder, order_money
from marketsync.pipelines.push_intake.app import Refusal, _json
from marketsync.resources.jtl_ffn.errors import JtlFfnError
from tests.fuzz import fuzz_push_intake

pytestmark = pytest.mark.unit

REGRESSIONS = Path(__file__).parent / "fuzz" / "regressions"
NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def _replay(name: str) -> None:
    """The crashing input through its harness again: it must pass now."""
    harness = name.split("-", 1)[0]
    module = importlib.import_module(f"tests.fuzz.fuzz_{harness}")
    module.TestOneInput((REGRESSIONS / name).read_bytes())


def test_every_kept_crash_has_a_test_here():
    source = Path(__file__).read_text(encoding="utf-8")
    for path in REGRESSIONS.iterdir():
        assert f'"{path.name}"' in source, f"{path.name} has no regression test"


# ------------------------------------------------------------------------------------ gtin_price
def test_weight_of_a_huge_json_integer_is_refused_in_words():
    # weight_grams rounded 10^93 grams to a tenth, beyond the decimal context: InvalidOperation.
    _replay("gtin_price-weight-huge-int")
    with pytest.raises(Rejected, match="too large"):
        extras.weight_grams(int("5" * 90 + "4"), "g", False)


@pytest.mark.parametrize("raw", [-5, -0.5, float("nan"), float("inf")])
def test_weight_that_is_negative_or_not_finite_is_refused(raw):
    with pytest.raises(Rejected):
        extras.weight_grams(raw, "kg", False)


def test_quantity_with_a_huge_exponent_is_refused_before_it_is_expanded():
    # whole_number("+6666E6610") made an integer of 6,614 digits, then failed to word it (ValueError);
    # "1E999999999" would have taken gigabytes.
    _replay("gtin_price-quantity-exponent")
    for text in ("+6666E6610", "1E999999999", "-66e66666666610", "9" * 5000):
        with pytest.raises(Rejected, match=r"out of range|too large"):
            whole_number(text)
    with pytest.raises(Rejected, match="too large"):
        whole_number(10**5000)
    assert whole_number(" 5.0E1 ") == 50


def test_isbn10_with_digits_of_another_script_is_refused_not_a_crash():
    # "4001１39３0x" (a fullwidth one): str.isdigit() took it, the ISBN-10 check passed, and the GS1 check
    # digit of "978..." failed to encode as ASCII: UnicodeEncodeError out of normalize_gtin.
    _replay("gtin_price-isbn10-fullwidth-digit")
    for raw in ("4001\uff1139\uff130x", "\u0661" * 8 + "2X"):
        code = normalize_gtin(raw)
        assert code.gtin14 is None and code.problem
    assert normalize_gtin("080442957X").gtin14 == "09780804429573"


# ----------------------------------------------------------------------------------- push_intake
@pytest.mark.parametrize("text", ["--0", "-" * 100 + "0", "\u00b2", "\u0661", "1" * 5000])
def test_push_quantity_that_is_no_whole_number_is_a_problem_for_the_sender(text):
    # "--...0" passed the digits test after lstrip("-") and int() raised ValueError: a 500 for the sender.
    _replay("push_intake-quantity-dashes")
    with pytest.raises(ItemsInvalid) as refused:
        parse_item({"externalId": "a", "inventoryQuantity": text}, NOW, FeedDefaults())
    assert refused.value.problems[0].field == "inventoryQuantity"


def test_push_quantity_as_signed_text_still_reads():
    item = parse_item({"externalId": "a", "inventoryQuantity": " -7 "}, NOW, FeedDefaults())
    assert item.columns["quantity"] == -7


# ---------------------------------------------------------------------------------- amazon, ebay
def test_amazon_order_with_an_unreadable_update_time_does_not_stop_the_import():
    # modified_at raised ValueError on "2025=12-30T01:29:30Z", failing the whole page.
    _replay("amazon-modified-at")
    assert amazon_normalise.modified_at({"lastUpdatedTime": "2025=12-30T01:29:30Z"}) is None
    assert amazon_normalise.modified_at({"lastUpdatedTime": ["x"]}) is None
    assert amazon_normalise.modified_at({"lastUpdatedTime": "2025-12-30T01:29:30"}) == \
        datetime(2025, 12, 30, 1, 29, 30, tzinfo=UTC)  # no offset: UTC, so it compares with the others
    assert amazon_normalise.order_id({"orderId": {"id": 1}}) is None


def test_ebay_order_with_an_unreadable_modification_time_does_not_stop_the_import():
    _replay("ebay-modified-at")
    assert ebay_normalise.modified_at({"lastModifiedDate": "2025-12-02T18:14:03.I518Z"}) is None
    assert ebay_normalise.modified_at({"lastModifiedDate": "2025-12-02T18:14:03.518Z"}) == \
        datetime(2025, 12, 2, 18, 14, 3, 518000, tzinfo=UTC)


def test_ebay_line_cost_beyond_the_column_quarantines_the_order():
    # A lineItemCost of "12.E78" divided by the quantity could not be rounded to cents: InvalidOperation
    # out of the import. Amounts beyond numeric(14, 2) (or not finite) now quarantine the order.
    _replay("ebay-line-cost-1e40")
    line = {"lineItemId": "l", "quantity": 2, "lineItemCost": {"value": "12.E78", "currency": "EUR"}}
    page = ebay_normalise.normalise([({"orderId": "1", "lineItems": [line]}, "sha")], "EUR")
    assert not page.orders and page.rejected[0][1] == "amount '12.E78' is out of range"
    for value in ("NaN", "-Infinity", 10**12):
        with pytest.raises(MalformedOrder, match="out of range"):
            order_money(value)
    assert order_money(19.9) == Decimal("19.9") and order_money(" 5 ") == 5 and order_money(None) is None


def test_order_failing_half_way_leaves_no_rows_behind():
    # The order row was appended, then the address failed (fullName an object): the order was both
    # quarantined and loaded, without its address and items.
    _replay("ebay-half-normalised-order")
    order = {"orderId": "1", "lineItems": [{"lineItemId": "l", "quantity": 1}],
             "fulfillmentStartInstructions": [{"shippingStep": {"shipTo": {"fullName": {"adr": "x"}}}}]}
    page = ebay_normalise.normalise([(order, "sha"), ({**order, "orderId": "2", "fulfillmentStartInstructions": []},
                                                      "sha2")], "EUR")
    assert [row[0] for row in page.orders] == ["2"] and [row[0] for row in page.items] == ["2"]
    assert not page.addresses and [payload["orderId"] for payload, _ in page.rejected] == ["1"]


def test_order_of_another_shape_is_quarantined_with_its_reason():
    # (What made the normalisers' shape errors worth a guard: every field was read as the API documents
    # it, so a product that is a text instead of an object raised AttributeError out of the import.)
    order = {"orderId": "1", "orderItems": [{"orderItemId": "i", "quantityOrdered": 1, "product": "text"}]}
    page = amazon_normalise.normalise([(order, "sha")], "EUR")
    assert not page.orders and not page.items
    assert page.rejected == [(order, "the order does not have the shape the channel documents "
                                     "(AttributeError: 'str' object has no attribute 'get')")]


# --------------------------------------------------------------------------------------- jtl_ffn
def test_jtl_shipping_notification_without_its_id_is_a_malformed_answer():
    # shipment_row read notice["outboundShippingNotificationId"]: a bare KeyError failed the sync.
    _replay("jtl_ffn-notice-without-id")
    with pytest.raises(JtlFfnError, match=r"malformed.*outboundShippingNotificationId") as refused:
        shipment_rows([("OUT-1", {"packages": []})])
    assert refused.value.kind == "malformed"
    with pytest.raises(JtlFfnError, match="malformed"):
        shipment_rows([("OUT-1", {"outboundShippingNotificationId": "N", "packages": "abc"})])


# -------------------------------------------------------------------------------- codeswholesale
def test_codeswholesale_tier_bound_beyond_64_bits_is_refused():
    # A tier's "from" of 1e+117 (orjson's reading of a huge integer) became a 118-digit int that
    # orjson.dumps of the attributes refused with a TypeError.
    _replay("codeswholesale-tier-from-1e117")
    item = {"productId": "p", "prices": [{"from": 1.7777777777777777e117, "value": 1}]}
    with pytest.raises(RefusedProduct, match="out of range"):
        normalise_product(item)
    with pytest.raises(RefusedProduct, match="whole number"):
        normalise_product({"productId": "p", "quantity": "\u00b2"})
    assert normalise_product({"productId": "p", "quantity": " 12 "})[0][8] == 12


# ------------------------------------------------------ found by schemathesis on the push intake (make fuzz)
def test_push_time_with_an_offset_postgres_cannot_store_is_kept_in_utc():
    # updatedAt "1536-01-19T20:45:46-20:47" was accepted with its offset, and the COPY into the catalog's
    # stage failed: Postgres stores offsets up to 15:59 only. A 500 for the sender.
    item = parse_item({"externalId": "a", "updatedAt": "1536-01-19T20:45:46-20:47"}, NOW, FeedDefaults())
    assert item.updated_at == datetime(1536, 1, 20, 17, 32, 46, tzinfo=UTC)
    assert item.updated_at.utcoffset().total_seconds() == 0
    with pytest.raises(ItemsInvalid, match="out of range"):
        parse_item({"externalId": "a", "updatedAt": "0001-01-01T00:00:00+05:00"}, NOW, FeedDefaults())


def test_feed_timestamp_with_a_large_offset_is_kept_in_utc():
    # The same in a feed: parse_timestamp's answer went into the stage's COPY text and failed the load.
    assert parse_timestamp("2025-01-01T00:00:00-20:00") == datetime(2025, 1, 1, 20, tzinfo=UTC)
    assert timestamp_text("2025-01-01T00:00:00-20:00") == "2025-01-01T20:00:00+00:00"
    with pytest.raises(Rejected, match="out of range"):
        parse_timestamp("9999-12-31T23:00:00-05:00")


@pytest.mark.parametrize(("body", "reason"), [
    (b'{"externalId": "a", "\\u0000": 1}', "NUL"),
    (b'{"externalId": "a\\u0000b"}', "NUL"),
    (b'{"externalId": "\\ud800"}', "surrogate"),
    (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
])
def test_push_body_that_postgres_cannot_store_is_refused_as_bad_json(body, reason):
    # A NUL or a lone surrogate reached the inbox's jsonb (500); JSON nested 5,000 deep raised
    # RecursionError out of json.loads (500).
    fuzz_push_intake.TestOneInput(b"\x00" + body)
    with pytest.raises(Refusal, match=reason) as refused:
        _json(body)
    assert (refused.value.status, refused.value.code) == (400, "invalid_json")


# ------------------------------------------------------------------------------------ inbound_sheet
def test_expected_units_with_a_huge_exponent_are_bad_units_not_an_overflow():
    # "2,1e+4000001" read as a Decimal; subtracting the units received overflowed the context.
    _replay("inbound_sheet-units-exponent")
    for text in ("2,1e+4000001", "1e-999999", "1e12", "0.0000001"):
        assert parse_units(text) is None, text
    assert parse_units("2,5") == Decimal("2.5") and parse_units("1.000") == 1000


def test_expected_units_below_the_smallest_exponent_are_bad_units_not_a_memory_error():
    # "1018446744071e-4003709551616" normalised to 0 (below the context's smallest exponent), passed the
    # six-decimals test, and printing the value itself asked for four billion zeros (MemoryError).
    _replay("inbound_sheet-units-below-the-smallest-exponent")
    for text in ("1018446744071e-4003709551616", "1e-1000027", "5e-7"):
        assert parse_units(text) is None, text
    assert parse_units("12.000000") == 12 and parse_units("0.000001") == Decimal("0.000001")
