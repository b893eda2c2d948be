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
                    threshold: int, sync_zero_stock: bool) -> int | None:
    """What a listing shows: an override replaces the availability, a maximum caps it, and at or below
    the out-of-stock threshold the channel gets 0 (`sync_zero_stock`, "sync when stock = 0") or nothing
    at all (None: not pushed, the channel keeps the number it last acknowledged). Never more than the
    availability (or the override) allows: the threshold is a limit, never a number to send."""
    quantity = available if quantity_override is None else quantity_override
    if max_quantity is not None:
        quantity = min(quantity, max_quantity)
    if quantity <= threshold:
        return 0 if sync_zero_stock else None
    return quantity


def pushed_quantity(listed: bool, available: int, quantity_override: int | None, max_quantity: int | None,
                    threshold: int, sync_zero_stock: bool) -> int | None:
    """The number a push sends: the listing rule for a listing; 0 for a product a rule took off the
    channel (sent once, so the channel stops selling it)."""
    if not listed:
        return 0
    return listed_quantity(available, quantity_override, max_quantity, threshold, sync_zero_stock)


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

    def expected_available(self) -> int:
        return sum(sign * getattr(self, column) for column, sign, _ in TERMS)

    def adds_up(self) -> bool:
        """The terms give the availability, and the rule gives the pushed number."""
        return (self.available == self.expected_available()
                and self.pushed_quantity == pushed_quantity(self.listed, self.available, self.quantity_override,
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
        if not self.listed:
            lines.append("  unlisted by a rule (`stock rule --unlist`): 0 is sent once, so the channel stops "
                         "selling it; then no more updates")
        elif base <= self.out_of_stock_threshold:
            lines.append(f"  at or below the out-of-stock threshold {self.out_of_stock_threshold}: "
                         + ("pushes 0" if self.sync_zero_stock else
                            "not pushed (sync_zero_stock is off: zeros are not sent, the channel keeps its "
                            "last number)"))
        if self.pushed_quantity is None:
            lines.append("  -> nothing pushed")
        else:
            lines.append(f"  -> {self.pushed_quantity} on the channel")
        return lines
