"""Alerts: conditions a person must know about, kept in ops.alerts, and the notices that tell people.

- `lifecycle`: raising and closing alerts, one open alert per condition (an account's failure streak, a
  crossed threshold, a low key pool, ...), with its store and severity.
- `routes`: whom a store's alerts and new-order notices reach (an e-mail address, the store's webhook).
- `notices`: the opened / escalated / resolved notices, damped, queued as outbound writes, and how every
  notice reads (e-mail text, webhook JSON).
- `new_orders`: a notice per new order, or a digest every N minutes.

Callers import from here: `from marketsync.assets.alerts import raise_alert`.
"""
from marketsync.assets.alerts.lifecycle import (
    CREDENTIAL_REVOKED,
    RUN_FAILURE,
    Condition,
    acknowledge,
    close_alert_streak,
    close_if_synced_since,
    list_alerts,
    raise_alert,
    record_successful_sync,
    sync_conditions,
)

__all__ = ["CREDENTIAL_REVOKED", "RUN_FAILURE", "Condition", "acknowledge", "close_alert_streak",
           "close_if_synced_since", "list_alerts", "raise_alert", "record_successful_sync", "sync_conditions"]
