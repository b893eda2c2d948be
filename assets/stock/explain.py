"""`marketsync stock explain STORE SKU`: why a listing shows the number it shows, on every channel.

Per channel: the terms as they are now and what that would push, what the channel last acknowledged,
the open orders holding units, and the ledger of the last pushes (terms, pushed number, previously
acknowledged number, the channel's answer). A channel that does not list the SKU says why (not in its
listing scope, unlisted by a rule, a placeholder), with the pushes it had before."""
from __future__ import annotations

from sqlalchemy import Connection

from marketsync.assets.stock.rules import StockTerms
from marketsync.assets.stock.settings import StockSettings, all_settings
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside


def not_listed_reason(conn: Connection, settings: StockSettings, sku: str, product_id: int,
                      is_placeholder: bool) -> str | None:
    """Why the product is no listing on the settings' channel, in words with the command that changes
    it; None when it is one. The same rule as core.stock_availability's, for one product."""
    where = f"{settings.store} {settings.channel}"
    if is_placeholder:
        return f"'{sku}' is a placeholder for an unmatched barcode, not a product: no channel lists it"
    row = conn.execute(query_beside(__file__, "listing_scope.sql"), {"a": settings.account_id, "p": product_id}).one()
    listed = (row.rule_listed if row.rule_listed is not None
              else settings.listings == "catalog" or row.acknowledged or row.sold)
    if listed or (row.acknowledged and row.acknowledged_quantity != 0):  # unlisted: 0 still to be sent
        return None
    if row.rule_listed is False:
        sent = (" and the channel acknowledged the 0 it was sent, so it no longer sells it"
                if row.acknowledged else "")
        return (f"unlisted by a rule{sent} (`marketsync stock rule {where} {sku} --list` or "
                f"`--clear-list` lists it again)")
    if settings.listings == "known" and not (row.acknowledged or row.sold):
        return (f"not in {settings.channel}'s listing scope: it lists only the products it knows (sold or "
                f"acknowledged there, or listed by a rule), and this one is none of them "
                f"(`marketsync stock rule {where} {sku} --list` makes it a listing)")
    return f"not a listing on {settings.channel}"


def explain(conn: Connection, store: str, sku: str, history: int = 5) -> dict:
    product = conn.execute(query_beside(__file__, "product_by_sku.sql"), {"store": store, "sku": sku}).first()
    if product is None:
        raise MarketsyncError(f"{store} has no product with SKU '{sku}'")
    channels = [s for s in all_settings(conn, enabled_only=False) if s.store == store]
    if not channels:
        raise MarketsyncError(f"{store} pushes stock to no channel yet: `marketsync stock settings {store} CHANNEL`")
    holding = [dict(r) for r in conn.execute(query_beside(__file__, "orders_holding_units.sql"),
                                             {"s": product.store_id, "p": product.product_id}).mappings()]
    report = {"store": store, "sku": sku, "title": product.title, "orders": holding, "channels": []}
    for settings in channels:
        # The database computes the number (core.stock_availability, by core.listed_quantity's rule).
        now = conn.execute(query_beside(__file__, "listing_now.sql"),
                           {"s": settings.store_id, "a": settings.account_id, "sku": sku}).mappings().first()
        reason = None if now is not None else (
            not_listed_reason(conn, settings, sku, product.product_id, product.is_placeholder)
            or f"not a listing on {settings.channel}")
        ledger = [dict(r) for r in conn.execute(query_beside(__file__, "ledger_history.sql"),
                                                {"a": settings.account_id, "p": product.product_id,
                                                 "n": history}).mappings()]
        report["channels"].append({"channel": settings.channel, "strategy": settings.strategy,
                                   "listed": now is not None, "not_listed_because": reason,
                                   "now": dict(now) if now is not None else None, "ledger": ledger})
    return report


def render(report: dict) -> str:
    lines = [f"{report['store']} {report['sku']}" + (f"  {report['title']}" if report.get("title") else "")]
    for entry in report["channels"]:
        now = entry["now"]
        lines.append("")
        if now is None:
            lines.append(f"{entry['channel']} ({entry['strategy']}): not listed: {entry['not_listed_because']}")
        else:
            terms = StockTerms.from_row(now)
            would = "nothing" if now["pushed_quantity"] is None else now["pushed_quantity"]
            lines.append(f"{entry['channel']} ({entry['strategy']}): would push {would}, "
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
        elif now is not None:
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
    if not t.listed:
        rules.append("unlisted by a rule: 0")
    return f"{text_}; {', '.join(rules)} -> {t.pushed_quantity}"


def _or_none(value) -> str:
    return "nothing yet" if value is None else str(value)
