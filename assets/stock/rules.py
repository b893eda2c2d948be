"""The listing rule and the terms of availability, in Python: the same arithmetic as the database's
core.listed_quantity and core.stock_availability, for `stock explain` and for tests that prove the two
agree. The database computes every pushed number; this module only re-states it for people."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

# Order and wording of the terms as `stock explain` prints them: (column, sign, label).
TERMS = (
    ("ffn_on_hand", +1, "on hand in FFN warehouses"),
    ("ffn_foreign_reserved", -1, "reserved by FFN for other systems' outbounds"),
    ("feed_quantity", +1, "listing / supplier feed quantity"),
    ("manual_quantity", +1, "manual stock (last count + deltas)"),
    ("reserved", -1, "reserved for open orders"),
    ("shipped_uncounted", -1, "shipped, not yet counted by a source"),
    ("safety_stock", -1, "safety stock"),
)


def listed_quantity(available: int, quantity_override: int | None, max_quantity: int | None,
                    threshold: int, sync_zero_stock: bool) -> int:
    """What a listing shows: an override replaces the availability, a maximum caps it, and at or below
    the out-of-stock threshold the channel gets 0 (`sync_zero_stock`) or the threshold itself."""
    quantity = available if quantity_override is None else quantity_override
    if max_quantity is not None:
        quantity = min(quantity, max_quantity)
    if quantity <= threshold:
        return 0 if sync_zero_stock else threshold
    return quantity


@dataclass(frozen=True)
class StockTerms:
    """One listing's availability on one channel, as core.stock_availability (or a ledger row) has it."""
    sku: str
    ffn_on_hand: int
    ffn_foreign_reserved: int
    feed_quantity: int
    manual_quantity: int
    reserved: int
    shipped_uncounted: int
    safety_stock: int
    available: int
    quantity_override: int | None
    max_quantity: int | None
    out_of_stock_threshold: int
    sync_zero_stock: bool
    on_demand: bool
    pushed_quantity: int

    @classmethod
    def from_row(cls, row: Any) -> StockTerms:
        mapping = row._mapping if hasattr(row, "_mapping") else row
        return cls(**{f.name: mapping[f.name] for f in fields(cls)})

    def expected_available(self) -> int:
        return sum(sign * getattr(self, column) for column, sign, _ in TERMS)

    def adds_up(self) -> bool:
        """The terms give the availability, and the rule gives the pushed number."""
        return (self.available == self.expected_available()
                and self.pushed_quantity == listed_quantity(self.available, self.quantity_override,
                                                            self.max_quantity, self.out_of_stock_threshold,
                                                            self.sync_zero_stock))

    def explain(self) -> list[str]:
        """The computation as lines a merchant can follow."""
        lines = [f"  {'+' if sign > 0 else '-'} {getattr(self, column):>8}  {label}"
                 for column, sign, label in TERMS if getattr(self, column) or column == "feed_quantity"]
        lines.append(f"  = {self.available:>8}  available")
        if self.on_demand:
            lines.append("            (digital, bought on demand: available up to the supplier's quantity)")
        if self.quantity_override is not None:
            lines.append(f"  override {self.quantity_override} replaces it for this listing")
        if self.max_quantity is not None:
            lines.append(f"  capped at {self.max_quantity} for this listing")
        base = self.available if self.quantity_override is None else self.quantity_override
        if self.max_quantity is not None:
            base = min(base, self.max_quantity)
        if base <= self.out_of_stock_threshold:
            shown = 0 if self.sync_zero_stock else self.out_of_stock_threshold
            lines.append(f"  at or below the out-of-stock threshold {self.out_of_stock_threshold}: pushes {shown}"
                         + ("" if self.sync_zero_stock else " (sync_zero_stock is off)"))
        lines.append(f"  -> {self.pushed_quantity} on the channel")
        return lines
