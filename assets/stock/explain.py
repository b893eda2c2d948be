"""`marketsync stock explain STORE SKU`: why a listing shows the number it shows, on every channel.

Per channel: the terms as they are now and what that would push, what the channel last acknowledged,
the open orders holding units, and the ledger of the last pushes (terms, pushed number, previously
acknowledged number, the channel's answer)."""
from __future__ import annotations

from sqlalchemy import Connection, text

from assets.stock.rules import StockTerms
from assets.stock.settings import all_settings
from resources.errors import MarketsyncError

_NOW = "SELECT * FROM core.stock_availability(:s, :a) WHERE sku = :sku"
_HOLDING = """
SELECT o.order_number, o.channel, o.sync_status, h.shipped_at, h.units
FROM core.stock_order_units(:s) h JOIN core.orders o USING (order_id)
WHERE h.product_id = :p ORDER BY h.shipped_at NULLS FIRST, o.order_number LIMIT 50
"""
_LEDGER = """
SELECT l.*, y.mode, y.triggered_by FROM core.stock_ledger l
LEFT JOIN ops.inventory_syncs y USING (inventory_sync_id)
WHERE l.account_id = :a AND l.product_id = :p ORDER BY l.ledger_id DESC LIMIT :n
"""


def explain(conn: Connection, store: str, sku: str, history: int = 5) -> dict:
    product = conn.execute(text("""SELECT p.store_id, p.product_id, p.title FROM core.products p JOIN ops.stores s USING (store_id)
                                   WHERE s.code = :store AND p.sku = :sku"""), {"store": store, "sku": sku}).first()
    if product is None:
        raise MarketsyncError(f"{store} has no product with SKU '{sku}'")
    channels = [s for s in all_settings(conn, enabled_only=False) if s.store == store]
    if not channels:
        raise MarketsyncError(f"{store} pushes stock to no channel yet: `marketsync stock settings {store} CHANNEL`")
    holding = [dict(r) for r in conn.execute(text(_HOLDING), {"s": product.store_id, "p": product.product_id}).mappings()]
    report = {"store": store, "sku": sku, "title": product.title, "orders": holding, "channels": []}
    for settings in channels:
        now = conn.execute(text(_NOW), {"s": settings.store_id, "a": settings.account_id, "sku": sku}).mappings().first()
        if now is None:  # a placeholder for an unmatched barcode is no listing
            raise MarketsyncError(f"'{sku}' of {store} is a placeholder for an unmatched barcode, not a listing")
        ledger = [dict(r) for r in conn.execute(text(_LEDGER), {"a": settings.account_id, "p": product.product_id,
                                                                "n": history}).mappings()]
        report["channels"].append({"channel": settings.channel, "strategy": settings.strategy,
                                   "now": dict(now), "ledger": ledger})
    return report


def render(report: dict) -> str:
    lines = [f"{report['store']} {report['sku']}" + (f"  {report['title']}" if report.get("title") else "")]
    for entry in report["channels"]:
        now = entry["now"]
        terms = StockTerms.from_row(now)
        lines.append("")
        lines.append(f"{entry['channel']} ({entry['strategy']}): would push {now['pushed_quantity']}, "
                     f"channel acknowledged {_or_none(now['acknowledged_quantity'])}")
        lines.extend(terms.explain())
        if now["shipped_uncounted"]:
            lines.append(f"  (sources last counted {now['counted_at']:%Y-%m-%d %H:%M %Z})"
                         if now.get("counted_at") else "  (no source has counted yet)")
        if entry["ledger"]:
            lines.append("  pushes (newest first):")
            for row in entry["ledger"]:
                row_terms = StockTerms.from_row(row)
                answer = row["answer"] + (f" ({row['answer_message']})" if row.get("answer_message") else "")
                lines.append(
                    f"    #{row['inventory_sync_id']} {row['computed_at']:%Y-%m-%d %H:%M:%S} {row['mode']}: "
                    f"pushed {row['pushed_quantity']} (was {_or_none(row['previous_acknowledged'])}) -> {answer}")
                lines.append("      " + _formula(row_terms))
        else:
            lines.append("  never pushed")
    if report["orders"]:
        lines.append("")
        lines.append("orders holding units:")
        for order in report["orders"]:
            state = (f"shipped {order['shipped_at']:%Y-%m-%d %H:%M}" if order["sync_status"] == "shipped"
                     else order["sync_status"])
            lines.append(f"  {order['order_number']} ({order['channel']}, {state}): {order['units']}")
    return "\n".join(lines)


def _formula(t: StockTerms) -> str:
    text_ = (f"{t.ffn_on_hand} - {t.ffn_foreign_reserved} + {t.feed_quantity} + {t.manual_quantity} - {t.reserved}"
             f" - {t.shipped_uncounted} - {t.safety_stock} = {t.available}")
    rules = []
    if t.quantity_override is not None:
        rules.append(f"override {t.quantity_override}")
    if t.max_quantity is not None:
        rules.append(f"max {t.max_quantity}")
    rules.append(f"threshold {t.out_of_stock_threshold}{'' if t.sync_zero_stock else ' (no zero sync)'}")
    return f"{text_}; {', '.join(rules)} -> {t.pushed_quantity}"


def _or_none(value) -> str:
    return "nothing yet" if value is None else str(value)
