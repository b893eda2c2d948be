"""The price rule as a pure function: the floor always wins, over random inputs (hypothesis), and each step
(markup, rounding, ceiling, floor) does what `prices explain` says it does."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketsync.assets.prices.rules import PriceRule, base_of, explain_lines, round_price, target_price
from marketsync.resources.errors import MarketsyncError

pytestmark = pytest.mark.unit

money = st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("10000000000"), places=4,
                    allow_nan=False, allow_infinity=False)
amount = st.decimals(min_value=Decimal(0), max_value=Decimal("1000000000"), places=2,
                     allow_nan=False, allow_infinity=False)
markup = st.decimals(min_value=Decimal("-99.999"), max_value=Decimal(1000), places=3,
                     allow_nan=False, allow_infinity=False)
fixed = st.decimals(min_value=Decimal("-100000"), max_value=Decimal("100000"), places=2,
                    allow_nan=False, allow_infinity=False)
rounding = st.sampled_from(["none", ".99", ".95"])


@settings(max_examples=2000, deadline=None)
@given(base=money, markup_percent=markup, fixed_add=fixed, rounding=rounding, floor=amount,
       ceiling=st.one_of(st.none(), amount), source=st.sampled_from(["store", "catalog"]))
def test_the_final_price_is_never_below_the_floor_whatever_the_inputs(base, markup_percent, fixed_add, rounding,
                                                                       floor, ceiling, source):
    arguments = {"markup_percent": markup_percent, "fixed_add": fixed_add, "rounding": rounding, "floor": floor,
                     "ceiling": ceiling}
    if ceiling is not None and ceiling < floor:
        # A rule that cannot respect both limits is refused outright, never half applied.
        with pytest.raises(MarketsyncError, match="below the floor"):
            PriceRule(**arguments)
        return
    terms = target_price(base, source, "EUR", PriceRule(**arguments))
    assert terms.final_price >= floor
    assert terms.final_price == terms.final_price.quantize(Decimal("0.01"))
    if ceiling is not None:
        assert terms.final_price <= ceiling
    if floor <= terms.rounded and (ceiling is None or terms.rounded <= ceiling):
        assert terms.final_price == terms.rounded and terms.clamped_by is None


@settings(max_examples=500, deadline=None)
@given(value=money, ending=st.sampled_from([".99", ".95"]))
def test_rounding_goes_up_to_the_next_ending_and_never_down(value, ending):
    rounded = round_price(value, ending)
    assert rounded >= value
    assert rounded - value < 1
    assert f"{abs(rounded):.2f}".endswith(ending[1:]) or rounded < 0


def test_the_steps_in_order_markup_rounding_ceiling_floor():
    rule = PriceRule(markup_percent=Decimal(20), fixed_add=Decimal("0.50"), rounding=".99", floor=Decimal(5),
                     ceiling=Decimal(30))
    terms = target_price(Decimal("10.00"), "store", "EUR", rule)
    assert (terms.marked_up, terms.rounded, terms.final_price, terms.clamped_by) == (
        Decimal("12.5000"), Decimal("12.99"), Decimal("12.99"), None)
    assert target_price(Decimal("100"), "catalog", "EUR", rule).clamped_by == "ceiling"
    low = target_price(Decimal("1"), "catalog", "EUR", rule)
    assert (low.final_price, low.clamped_by) == (Decimal(5), "floor")
    assert "raised to the floor 5" in "\n".join(explain_lines(low))
    assert round_price(Decimal("9.991"), ".99") == Decimal("10.99")
    assert round_price(Decimal("9.99"), ".99") == Decimal("9.99")
    assert round_price(Decimal("9.96"), ".95") == Decimal("10.95")
    assert round_price(Decimal("9.005"), "none") == Decimal("9.01")


def test_the_floor_wins_over_a_ceiling_equal_to_it_and_bad_rules_are_refused():
    rule = PriceRule(floor=Decimal(10), ceiling=Decimal(10), rounding=".99")
    assert target_price(Decimal(50), "store", "EUR", rule).final_price == Decimal(10)
    for bad in ({"floor": Decimal(-1)}, {"rounding": ".49"}, {"markup_percent": Decimal(-100)},
                {"currency": "eur"}):
        with pytest.raises(MarketsyncError):
            PriceRule(**bad)


def test_the_base_is_the_stores_price_else_the_catalogs():
    assert base_of(Decimal(3), Decimal(4)) == (Decimal(3), "store")
    assert base_of(None, Decimal(4)) == (Decimal(4), "catalog")
    assert base_of(None, None) is None
