"""Every place a buyer's personal data is held, and the statement that removes it from the orders in
the session's `forget_orders` table (see `forget.py`).

An order's own places are found through the order (its id, or its channel's id for the raw payload
and a quarantined copy). Free-text logs (the sync log's errors, alerts, outbound errors) are not tied
to one order: an erasure searches the store's rows for the buyer's values; retention reaches them
through the order they name (see `SWEPT`).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    """A table that can hold a buyer's data and the SQL file that cleans it (its columns: the file's SET)."""
    table: str
    sql: str
    what: str  # what it holds about a buyer, as the README and an export's table of contents say it


# In the order they are cleaned: documents first (they are searched for values the canonical rows
# still hold), the canonical rows last.
ORDER_PLACES = (
    Place("raw.letzshop_shipments", "forget_letzshop_shipments.sql",
          "Letzshop shipments as received: the buyer's e-mail, billing and shipping address"),
    Place("raw.channel_orders", "forget_channel_orders.sql",
          "Amazon and eBay orders as received: the buyer's name, e-mail, user name, shipping address"),
    Place("raw.jtl_ffn_payloads", "forget_ffn_payloads.sql",
          "JTL-FFN shipping notifications of the order's outbound"),
    Place("ops.outbound_queue", "forget_outbound_queue.sql",
          "writes to the channels and the fulfiller: the shipping address handed to JTL-FFN"),
    Place("ops.order_exceptions", "forget_order_exceptions.sql",
          "order lines that could not be matched, with what the line said"),
    Place("ops.quarantine", "forget_quarantine.sql",
          "order payloads that could not be read, kept with the reason"),
    Place("core.order_addresses", "forget_order_addresses.sql",
          "billing and shipping addresses (the country stays)"),
    Place("core.orders", "forget_orders.sql",
          "the buyer's e-mail address and name (ids, dates, amounts, items stay)"),
)

# Rows of a store not tied to one of its orders that may quote a buyer (a payload that never became an
# order, an error naming a field's value): an erasure searches them for the buyer's values; retention
# cleans those older than the retention period (`RETENTION_SWEEPS`).
SWEPT = (
    Place("raw.letzshop_shipments", "sweep_letzshop_unmerged.sql",
          "shipments that never became an order (unreadable)"),
    Place("raw.channel_orders", "sweep_raw_unmerged.sql",
          "Amazon and eBay orders that never became an order (unreadable)"),
    Place("ops.sync_log", "sweep_sync_log.sql", "errors of imports and pushes"),
    Place("ops.quarantine", "sweep_quarantine.sql",
          "records of any source that could not be read"),
    Place("ops.outbound_queue", "sweep_outbound_queue.sql",
          "writes not tied to one order (notices, webhooks)"),
    Place("ops.alerts", "sweep_alerts.sql", "alerts raised for the store"),
)

# Held nowhere else: Dagster's event log gets counts and ids only (tests/test_privacy_erasure.py
# searches it), notices carry nothing about a buyer (assets/alerts/notices.py), digital keys and the
# stock ledger carry none.

# What retention cleans by age, beside the expired orders' own places (by the order's last change).
RETENTION_SWEEPS = (
    Place("raw.letzshop_shipments", "retention_letzshop_unmerged.sql",
          "shipments that never became an order"),
    Place("raw.channel_orders", "retention_raw_unmerged.sql", "orders that never became an order"),
    Place("ops.quarantine", "retention_quarantine.sql", "records that could not be read"),
)
