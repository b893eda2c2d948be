"""Sending a store's notices to its webhook: the `post_notice` writes of the outbound queue.

The queued payload holds the notice's facts (assets/alerts/notices.py renders the JSON document from it);
the handler signs the document with the store's secret at each attempt (a fresh timestamp) under the
write's idempotency key as the event id, so a receiver that saw an earlier attempt drops the copy. A
receiver cannot be asked whether it took a notice, so `already_applied` is always False: after an attempt
whose outcome is unknown the notice is posted again, with the same event id.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from marketsync.assets.accounts import Account, get_account
from marketsync.assets.alerts.notices import WEBHOOK_NOTICE, render, test_payload
from marketsync.assets.outbound_queue import OutcomeUnknown, PermanentError, QueuedItem, RetryableError
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.vault import CredentialVault, VaultError
from marketsync.resources.warehouse import Warehouse
from marketsync.resources.webhook import WebhookError, WebhookResource


def webhook_secret(warehouse: Warehouse, vault: CredentialVault, account: Account) -> str:
    with warehouse.begin() as conn:
        try:
            return vault.load(conn, account.account_id).reveal("secret")
        except VaultError as exc:
            raise VaultError(f"no signing secret for the webhook of store '{account.store}' ({exc}): store "
                             f'{{"secret": "..."}} with `marketsync credentials set {account.store} webhook`') from None


class NoticeWebhookHandler:
    """Posts one queued notice to the store's webhook."""

    def __init__(self, warehouse: Warehouse, vault: CredentialVault, sender: WebhookResource | None,
                 account: Account):
        self.warehouse, self.vault, self.account = warehouse, vault, account
        self.sender = sender if sender is not None else WebhookResource()

    def send(self, item: QueuedItem) -> dict[str, Any]:
        if not self.account.endpoint:
            raise PermanentError(f"the webhook account of store '{self.account.store}' has no URL: set one with "
                                 f"`marketsync account add {self.account.store} webhook --endpoint https://...`")
        try:
            secret = webhook_secret(self.warehouse, self.vault, self.account)
        except MarketsyncError as exc:
            raise PermanentError(str(exc)) from None
        _, _, document = render(item.payload)
        timeout = float(self.account.setting("timeout_seconds") or 10)
        try:
            status = self.sender.post(self.account.endpoint, document, secret=secret,
                                      event_id=item.idempotency_key, timeout=timeout)
        except WebhookError as exc:
            if exc.outcome_unknown:
                raise OutcomeUnknown(str(exc)) from None
            if exc.transient:
                raise RetryableError(str(exc), retry_after=exc.retry_after) from None
            raise PermanentError(str(exc)) from None
        return {"status": status, "event_id": item.idempotency_key, "type": document.get("type")}

    def already_applied(self, item: QueuedItem) -> bool:
        return False  # a receiver has no look-up; the event id lets it drop a second copy


@contextmanager
def open_outbound(warehouse: Warehouse, vault: CredentialVault, sender: WebhookResource | None,
                  account: Account) -> Iterator[dict[str, NoticeWebhookHandler]]:
    """The outbound handlers of one store's webhook account (its Channel declaration names this)."""
    yield {WEBHOOK_NOTICE: NoticeWebhookHandler(warehouse, vault, sender, account)}


def check_connection(warehouse: Warehouse, vault: CredentialVault, sender: WebhookResource | None,
                     store: str) -> str:
    """`marketsync test-connection STORE webhook`: posts a signed test notice (type "test") and expects a
    2xx; returns the URL it answered from."""
    with warehouse.begin() as conn:
        account = get_account(conn, store, "webhook")
    if not account.endpoint:
        raise MarketsyncError(f"the webhook account of store '{store}' has no URL")
    _, _, document = render(test_payload(store, 0, datetime.now(UTC)))
    (sender or WebhookResource()).post(account.endpoint, document, secret=webhook_secret(warehouse, vault, account),
                                       event_id=f"test-connection:{store}:{int(datetime.now(UTC).timestamp())}",
                                       timeout=float(account.setting("timeout_seconds") or 10))
    return f" ({account.endpoint})"
