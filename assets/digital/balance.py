"""The supplier account's balance: low, or short of what purchases wait for, raises one alert per store.

Buying a key spends the store's CodesWholesale balance (and credit). When it runs short, purchases wait
(assets/digital/purchase.py) rather than fail, and someone must top it up: one alert per store is open
while the balance is below the store's threshold or below what the waiting purchases need, raised the
moment a purchase waits on it and checked on a schedule, and closed once the balance covers both.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, text

from marketsync.assets.alerts import raise_alert
from marketsync.resources.codeswholesale import Balance
from marketsync.resources.sql_files import query_beside

BALANCE_ALERT = "supplier_balance_low"
# How a purchase's reason begins when it waits on the balance (the guard, or the supplier's refusal).
SHORT_BALANCE_REASON = "the supplier account's balance"


@dataclass(frozen=True)
class BalanceCheck:
    """One reading of the store's supplier balance against its threshold and its waiting purchases."""

    store_id: int
    balance: Balance
    threshold: Decimal
    waiting: int  # purchases waiting on the balance
    waiting_amount: Decimal  # what they would cost

    @property
    def needed(self) -> Decimal:
        return max(self.threshold, self.waiting_amount)

    @property
    def low(self) -> bool:
        return self.balance.total_to_use < self.needed

    def as_metadata(self) -> dict:
        return {"balance": float(self.balance.current_balance), "credit": float(self.balance.current_credit),
                "total_to_use": float(self.balance.total_to_use), "threshold": float(self.threshold),
                "purchases_waiting_on_balance": self.waiting, "waiting_amount": float(self.waiting_amount),
                "low": self.low}


def _source(store_id: int) -> str:
    return f"{BALANCE_ALERT}:{store_id}"


def _open_once(conn: Connection, store_id: int, message: str) -> bool:
    """Open the store's balance alert unless it is open; True when this opened it."""
    source = _source(store_id)
    # One open alert per store even when two workers find the balance short at once.
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:src))"), {"src": source})
    if conn.execute(query_beside(__file__, "alert_is_open.sql"), {"src": source}).scalar():
        return False
    return raise_alert(conn, message, source=source)


def alert_short_balance(conn: Connection, store_id: int, reason: str) -> bool:
    """A purchase waits on the balance: open the store's alert (once) with the purchase's reason."""
    return _open_once(conn, store_id, f"a digital key purchase waits: {reason}; top up the CodesWholesale "
                                      f"account (`marketsync digital balance STORE` shows it)")


def check_balance(conn: Connection, store_id: int, balance: Balance, threshold: Decimal) -> BalanceCheck:
    """Compare the balance just read with the threshold and the waiting purchases; open the store's
    alert when it is low, close it when it is not."""
    waiting = conn.execute(query_beside(__file__, "purchases_waiting_on_balance.sql"),
                           {"store_id": store_id, "prefix": SHORT_BALANCE_REASON + "%"}).one()
    check = BalanceCheck(store_id, balance, threshold, int(waiting.n), Decimal(waiting.amount))
    if check.low:
        _open_once(conn, store_id, f"the CodesWholesale balance is low: {balance.total_to_use} to spend, "
                                   f"{check.needed} needed ({check.waiting} purchase(s) waiting on it, alert "
                                   f"below {threshold}); top up the account")
    else:
        conn.execute(query_beside(__file__, "alert_close.sql"), {"src": _source(store_id)})
    return check
