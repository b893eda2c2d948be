"""The terms of availability as `stock explain` shows them to people: their order and wording, and one
listing's terms as a row of core.stock_availability (or of the ledger) has them.

Nothing here computes a number: the database does, in one place (core.listed_quantity, the listing
rule, and core.stock_availability, the terms; sql/stock_availability.sql and the migrations)."""
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
    pushed_quantity: int | None  # None: at or below the threshold with zeros not sent
    listed: bool = True  # False: a rule took the product off the channel (0 is sent once)

    @classmethod
    def from_row(cls, row: Any) -> StockTerms:
        mapping = row._mapping if hasattr(row, "_mapping") else row
        values = {f.name: mapping[f.name] for f in fields(cls) if f.name in mapping}
        if values.get("listed") is None:
            values["listed"] = True
        return cls(**values)

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
        if not self.listed:
            lines.append("  unlisted by a rule (`stock rule --unlist`): 0 is sent once, so the channel stops "
                         "selling it; then no more updates")
        elif self.pushed_quantity in (None, 0):
            # The database's rule gives a listing 0 or nothing exactly when its number is at or below the
            # threshold (which is never negative); above it, the number itself, at least 1.
            lines.append(f"  at or below the out-of-stock threshold {self.out_of_stock_threshold}: "
                         + ("pushes 0" if self.sync_zero_stock else
                            "not pushed (sync_zero_stock is off: zeros are not sent, the channel keeps its "
                            "last number)"))
        if self.pushed_quantity is None:
            lines.append("  -> nothing pushed")
        else:
            lines.append(f"  -> {self.pushed_quantity} on the channel")
        return lines
