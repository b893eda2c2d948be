"""The price rule of a store channel and the one function that turns a listing's base price into the price
the channel is sent. Pure: no database, no I/O; the push, `prices explain` and the tests all call it.

The steps, in this order (each kept in the ledger):

1. base: the store's own price of the product, else the catalog's (the marketplace product it lists);
2. marked up: base x (1 + markup_percent / 100) + fixed_add;
3. rounded: to the cent ("none"), or up to the next price ending in .99 or .95 (never down: rounding
   must not eat the markup);
4. clamped to the ceiling, then LAST to the floor, so whatever the inputs the floor wins: a price never
   goes out below it (a rule whose ceiling is below its floor is refused outright).

Money is Decimal throughout, never float; the currency travels with the amount.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from marketsync.resources.errors import MarketsyncError

ROUNDINGS = ("none", ".99", ".95")
BASE_SOURCES = ("store", "catalog")
CENT = Decimal("0.01")
_FOUR = Decimal("0.0001")
_HUNDRED = Decimal(100)
MAX_MARKUP = Decimal(1000)  # percent; ops.price_rules checks the same bounds


@dataclass(frozen=True)
class PriceRule:
    """One store channel's rule (ops.price_rules). `floor` and `ceiling` are in `currency`."""

    markup_percent: Decimal = Decimal(0)
    fixed_add: Decimal = Decimal(0)
    rounding: str = "none"
    floor: Decimal = CENT
    ceiling: Decimal | None = None
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if self.rounding not in ROUNDINGS:
            raise MarketsyncError(f"rounding must be one of {', '.join(ROUNDINGS)}, not '{self.rounding}'")
        if not -_HUNDRED < self.markup_percent <= MAX_MARKUP:
            raise MarketsyncError(f"markup must be above -100 % and at most {MAX_MARKUP} %, "
                                  f"not {self.markup_percent} %")
        if self.floor < 0:
            raise MarketsyncError(f"the floor cannot be negative ({self.floor})")
        if self.ceiling is not None and self.ceiling < self.floor:
            raise MarketsyncError(f"the ceiling {self.ceiling} is below the floor {self.floor}: a price cannot "
                                  f"respect both")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise MarketsyncError(f"currency must be a three-letter code like EUR, not '{self.currency}'")


    @property
    def terms_key(self) -> str:
        """The rule's terms as one string, kept with each acknowledged price: a listing whose base and
        rule are what they were has the price it had, so a push need not compute it again."""
        ceiling = "-" if self.ceiling is None else f"{self.ceiling:f}"
        return (f"{self.markup_percent:f}|{self.fixed_add:f}|{self.rounding}|{self.floor:f}|{ceiling}|"
                f"{self.currency}")


@dataclass(frozen=True)
class PriceTerms:
    """Every step of one listing's price, as the ledger keeps it."""

    base_price: Decimal
    base_source: str  # 'store' or 'catalog'
    currency: str
    markup_percent: Decimal
    fixed_add: Decimal
    marked_up: Decimal
    rounding: str
    rounded: Decimal
    ceiling_price: Decimal | None
    floor_price: Decimal
    clamped_by: str | None  # 'ceiling', 'floor' or None
    final_price: Decimal


def round_price(amount: Decimal, rounding: str) -> Decimal:
    """`amount` to the cent, or up to the nearest price at or above it ending in .99 / .95."""
    if rounding == "none":
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    ending = Decimal("0.99") if rounding == ".99" else Decimal("0.95")
    # The smallest whole number n with n + ending >= amount.
    whole = (amount - ending).to_integral_value(rounding=ROUND_CEILING)
    return (whole + ending).quantize(CENT)


def target_price(base: Decimal, base_source: str, currency: str, rule: PriceRule) -> PriceTerms:
    """The price the channel should show for a listing whose base price is `base` (in `currency`)."""
    if base_source not in BASE_SOURCES:
        raise ValueError(f"base_source must be one of {BASE_SOURCES}, not {base_source!r}")
    marked_up = (base * (1 + rule.markup_percent / _HUNDRED) + rule.fixed_add).quantize(_FOUR, rounding=ROUND_HALF_UP)
    rounded = round_price(marked_up, rule.rounding)
    final, clamped_by = rounded, None
    if rule.ceiling is not None and final > rule.ceiling:
        final, clamped_by = rule.ceiling, "ceiling"
    if final < rule.floor:  # last: the floor wins over everything before it
        final, clamped_by = rule.floor, "floor"
    return PriceTerms(base, base_source, currency, rule.markup_percent, rule.fixed_add, marked_up, rule.rounding,
                      rounded, rule.ceiling, rule.floor, clamped_by, final.quantize(CENT))


def base_of(store_price: Decimal | None, catalog_price: Decimal | None) -> tuple[Decimal, str] | None:
    """The base price and where it came from: the store's own price over the catalog's; None without either."""
    if store_price is not None:
        return store_price, "store"
    if catalog_price is not None:
        return catalog_price, "catalog"
    return None


def amount(value: Decimal) -> str:
    """A base price as people write money: at least the cents (3.10, not 3.1), more digits only where the
    source gave them (12.3456 stays)."""
    return f"{value.quantize(CENT) if value == value.quantize(CENT) else value.normalize():f}"


def explain_lines(terms: PriceTerms) -> list[str]:
    """The computation as lines a merchant can follow."""
    source = "the store's own price" if terms.base_source == "store" else "the catalog's price (no store price)"
    lines = [f"  {amount(terms.base_price)} {terms.currency}  base: {source}"]
    if terms.markup_percent or terms.fixed_add:
        lines.append(f"  x (1 + {terms.markup_percent.normalize():f} %) + {terms.fixed_add:f} = "
                     f"{terms.marked_up.normalize():f}  markup")
    how = "to the cent" if terms.rounding == "none" else "up to " + terms.rounding
    lines.append(f"  = {terms.rounded:f}  rounded ({how})")
    if terms.clamped_by == "ceiling":
        lines.append(f"  capped at the ceiling {terms.ceiling_price:f}")
    if terms.clamped_by == "floor":
        lines.append(f"  raised to the floor {terms.floor_price:f} (the floor always wins)")
    lines.append(f"  -> {terms.final_price:f} {terms.currency} on the channel")
    return lines
