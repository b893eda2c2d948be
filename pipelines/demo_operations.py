"""The demo's operations: the store's team is told about new orders and alerts without opening a
database. Before any order arrives, the demo store routes its alerts by e-mail (through its SMTP account,
the local SMTP server) and to its webhook (the sandbox's receiver on loopback, which verifies each
signature), and every new order to the webhook; at the end it measures every integration against the
thresholds (the supplier feeds' quarantined rows cross theirs), lets the alert notices go out,
and shows the status summary and what both receivers got.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import click

from marketsync.assets.accounts import list_accounts, upsert_account
from marketsync.assets.alerts.notices import queue_due_notices
from marketsync.assets.alerts.routes import add_route
from marketsync.assets.operations.evaluate import evaluate_thresholds
from marketsync.assets.operations.metrics import read_metrics
from marketsync.assets.orders.followup import confirm_and_mark
from marketsync.assets.outbound_runner import drain
from marketsync.pipelines.demo_world import WEBHOOK_SECRET, port_of, serve_smtp, serve_webhook
from marketsync.resources.database import marketsync_home
from marketsync.resources.sql_files import query_beside
from marketsync.sandbox.webhook import WebhookReceiver

OPS_ADDRESS = "ops@demo-shop.example"
SENDER = "keys@demo-shop.example"  # the store's one SMTP account sends its buyers' keys and its alerts


def ops_mail_folder():
    """Where the local SMTP server keeps the alert e-mails of the demo's operations team."""
    return marketsync_home() / "demo" / "ops-mail"


@contextmanager
def receiving(base: int) -> Iterator[WebhookReceiver]:
    """The store's webhook receiver, up for the whole demo (new-order notices go out with every drain)."""
    with serve_webhook(base) as receiver:
        yield receiver


def prepare(rt, store: str, base: int, receiver: WebhookReceiver) -> None:
    """The store's e-mail and webhook accounts and its routes: alerts to the team's address and to the
    webhook, each new order to the webhook."""
    smtp_endpoint = f"smtp://127.0.0.1:{port_of('smtp', base)}"
    with rt.warehouse.begin() as conn:
        upsert_account(conn, store, "email", smtp_endpoint, {"from_address": SENDER, "from_name": "Demo shop",
                                                              "security": "none"})
        hook = upsert_account(conn, store, "webhook", receiver.url)
        rt.vault.store(conn, hook.account_id, {"secret": WEBHOOK_SECRET})
        add_route(conn, store, "alerts", "email", OPS_ADDRESS)
        add_route(conn, store, "alerts", "webhook")
        add_route(conn, store, "new_orders", "webhook")
    click.echo(f"  alerts -> {OPS_ADDRESS} and the store's webhook {receiver.url}; new orders -> the webhook")


def run_operations(rt, store: str, base: int, receiver: WebhookReceiver) -> dict:
    """Measure, alert, notify; returns the figures the demo's summary checks."""
    folder = ops_mail_folder()
    for old in folder.glob("*.eml"):
        old.unlink()
    with rt.warehouse.begin() as conn:
        # The demo imported its Amazon and eBay orders directly; the new-orders sensor would now run their
        # follow-up, which marks them followed up and notifies them in one transaction.
        for account in list_accounts(conn, store=store):
            if account.channel in ("amazon", "ebay"):
                confirm_and_mark(conn, account, "demo")
    with rt.warehouse.begin() as conn:
        evaluation = evaluate_thresholds(conn)
        notices = queue_due_notices(conn, damping_seconds=0, triggered_by="demo")
        readings = read_metrics(conn, store)
        notified = conn.execute(query_beside(__file__, "demo_notified_orders.sql"), {"c": store}).one()
    with serve_smtp(base, folder) as smtp:
        with rt.warehouse.begin() as conn:  # the same SMTP account, served again (any free port in the tests)
            upsert_account(conn, store, "email", smtp.endpoint)
        drained = drain(rt.warehouse, rt.vault, store=store, channel="email", triggered_by="demo")
        drained.update(drain(rt.warehouse, rt.vault, store=store, channel="webhook", triggered_by="demo"))
        mails = list(smtp.recorder.messages)
    _status_summary(store, readings, evaluation, notices)
    documents = receiver.recorder.documents
    kinds = Counter(d["type"] for d in documents)
    per_order = Counter(o["order_id"] for d in documents if d["type"] == "order.created" for o in d["orders"])
    click.echo(f"  the SMTP server got {len(mails)} e-mail(s): " + "; ".join(m["Subject"] for m in mails))
    click.echo(f"  the webhook receiver got {len(documents)} signed notice(s): "
               + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
               + f" ({receiver.recorder.refused_signatures} with a bad signature)")
    for account, result in drained.items():
        if "error" in result:
            click.echo(f"  outbound {account}: {result['error']}")
    return {"alert_emails": sum("ALERT" in m["Subject"] for m in mails),
            "alert_webhooks": kinds["alert.opened"],
            "order_notices": len(per_order), "orders_to_notify": notified.orders,
            "most_notices_per_order": max(per_order.values(), default=0),
            "bad_signatures": receiver.recorder.refused_signatures, "crossed": len(evaluation.crossed)}


def _status_summary(store: str, readings, evaluation, notices) -> None:
    """What the status page says of the store, in a few lines."""
    by_integration: dict[str, str] = {}
    rank = {"ok": 0, "warn": 1, "error": 2}
    for r in readings:
        worst = by_integration.get(r.integration, "ok")
        by_integration[r.integration] = r.state if rank[r.state] > rank[worst] else worst
    colour = {"ok": "green", "warn": "amber", "error": "red"}
    click.echo(f"  status of {store}: " + ", ".join(f"{name} {colour[state]}"
                                                     for name, state in sorted(by_integration.items())))
    for r in readings:
        if r.state != "ok":
            click.echo(f"    {r.state}: {r.describe()}")
    click.echo(f"  {evaluation.describe()}; {notices.describe()}")
