"""`marketsync prices explain STORE SKU`: why a listing costs what it costs, on every channel with a price
rule: the terms as they are now (base and where it came from, markup, rounding, ceiling, floor), what
that would push, what the channel last acknowledged, and the ledger of the last pushes (each with its
terms and the channel's answer). A listing that gets no price says why."""
from __future__ import annotations

from sqlalchemy import Connection

from marketsync.assets.prices.listing import listing_terms
from marketsync.assets.prices.rules import PriceTerms, amount, explain_lines
from marketsync.assets.prices.settings import all_settings
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.sql_files import query_beside


def explain(conn: Connection, store: str, sku: str, channel: str | None = None, history: int = 5) -> dict:
    product = conn.execute(query_beside(__file__, "product_by_sku.sql"), {"store": store, "sku": sku}).first()
    if product is None:
        raise MarketsyncError(f"{store} has no product with SKU '{sku}'")
    channels = [s for s in all_settings(conn, store, enabled_only=False) if channel in (None, s.channel)]
    if not channels:
        raise MarketsyncError(f"{store} has no price rule{f' on {channel}' if channel else ''} yet: "
                              f"`marketsync prices rules {store} CHANNEL --floor 1.00`")
    report: dict = {"store": store, "sku": sku, "title": product.title, "channels": []}
    for settings in channels:
        row = conn.execute(query_beside(__file__, "listings.sql"), {
            "a": settings.account_id, "s": settings.store_id, "sku": sku,
            "catalog": settings.listings == "catalog", "everything": True, "rule": settings.rule.terms_key,
            "currency": settings.rule.currency}).first()
        terms, reason = None, None
        if product.is_placeholder:
            reason = "a placeholder for an unmatched barcode, not a product: no channel lists it"
        elif row is None:
            reason = (f"not a listing on {settings.channel}: it gets prices only for what it already lists "
                      f"(an acknowledged stock number or price there)")
        else:
            terms = listing_terms(row, settings)
            if terms is None:
                reason = "no price: neither the store nor the catalog has one, so nothing is pushed"
            elif terms.currency != settings.rule.currency:
                reason = (f"priced in {terms.currency}, the rule is in {settings.rule.currency}: not pushed "
                          f"(no conversion is made)")
        ledger = [dict(r) for r in conn.execute(query_beside(__file__, "ledger_history.sql"), {
            "a": settings.account_id, "p": product.product_id, "n": history}).mappings()]
        report["channels"].append({
            "channel": settings.channel, "enabled": settings.enabled, "terms": terms, "not_pushed_because": reason,
            "acknowledged": None if row is None or row.acknowledged_price is None else row.acknowledged_price,
            "ledger": ledger})
    return report


def render(report: dict) -> str:
    lines = [f"{report['store']} {report['sku']}" + (f"  {report['title']}" if report.get("title") else "")]
    for entry in report["channels"]:
        lines.append("")
        terms: PriceTerms | None = entry["terms"]
        acknowledged = "nothing yet" if entry["acknowledged"] is None else f"{entry['acknowledged']:f}"
        state = "" if entry["enabled"] else ", pushes off"
        if terms is None or entry["not_pushed_because"]:
            lines.append(f"{entry['channel']}{state}: not pushed: {entry['not_pushed_because']}")
        else:
            change = "unchanged" if entry["acknowledged"] == terms.final_price else "to push"
            lines.append(f"{entry['channel']}{state}: would push {terms.final_price:f} {terms.currency} "
                         f"({change}), channel acknowledged {acknowledged}")
            lines.extend(explain_lines(terms))
        if entry["ledger"]:
            lines.append("  pushes (newest first):")
            for row in entry["ledger"]:
                answer = row["answer"] + (f" ({row['answer_message']})" if row.get("answer_message") else "")
                was = "nothing" if row["previous_acknowledged"] is None else f"{row['previous_acknowledged']:f}"
                lines.append(f"    #{row['price_sync_id']} {row['computed_at']:%Y-%m-%d %H:%M:%S} {row['mode']}: "
                             f"pushed {row['final_price']:f} {row['currency'].strip()} (was {was}) -> {answer}")
                lines.append("      " + formula(row))
        else:
            lines.append("  never pushed")
    return "\n".join(lines)


def formula(row) -> str:
    """One ledger row's number as a line: base (source) x markup + add -> rounded -> clamp -> final."""
    text_ = (f"{amount(row['base_price'])} ({row['base_source']}) x (1 + {row['markup_percent'].normalize():f} %)"
             f" + {row['fixed_add']:f} = {row['marked_up'].normalize():f}; rounded {row['rounding']} = "
             f"{row['rounded']:f}")
    limits = f"floor {row['floor_price']:f}" + (f", ceiling {row['ceiling_price']:f}" if row["ceiling_price"] else "")
    clamp = f" (clamped by the {row['clamped_by']})" if row["clamped_by"] else ""
    return f"{text_}; {limits}{clamp} -> {row['final_price']:f}"
