"""Sending alert and new-order notices by e-mail: the `send_notice` writes of the outbound queue, to the
address of the route that queued them (payload "to"), through the store's SMTP server and sender.

The text comes from assets/alerts/notices.py `render`; every attempt of one queued notice carries the
same Message-ID (from the write's idempotency key), by which a mail system can drop a second copy after
an attempt whose outcome was unknown.
"""
from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Any

from marketsync.assets.accounts import Account
from marketsync.assets.alerts.notices import render
from marketsync.assets.email.connection import email_session
from marketsync.assets.outbound_queue import OutcomeUnknown, PermanentError, QueuedItem, RetryableError
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.smtp import SmtpError, SmtpResource
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse


def notice_message_id(idempotency_key: str, from_address: str) -> str:
    domain = from_address.rpartition("@")[2] or "marketsync.invalid"
    return f"<notice.{hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]}@{domain}>"


class NoticeEmailHandler:
    """Sends one queued notice by e-mail. SMTP has no look-up, so `already_applied` is always False."""

    def __init__(self, warehouse: Warehouse, vault: CredentialVault, smtp: SmtpResource | None, account: Account):
        self.warehouse, self.vault, self.smtp, self.account = warehouse, vault, smtp, account

    def compose(self, item: QueuedItem) -> EmailMessage:
        from_address = self.account.setting("from_address")
        if not from_address:
            store = self.account.store
            raise PermanentError(f"the e-mail account of store '{store}' has no sender: set one with "
                                 f"`marketsync account add {store} email --set from_address=ops@YOUR-SHOP`")
        recipient = item.payload.get("to")
        if not recipient:
            raise PermanentError("the notice names no recipient")
        subject, body, _ = render(item.payload)
        message = EmailMessage()
        message["From"] = formataddr((self.account.setting("from_name") or "marketsync", from_address))
        message["To"] = recipient
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = notice_message_id(item.idempotency_key, from_address)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to a machine's notice
        message.set_content(body, charset="utf-8")
        return message

    def send(self, item: QueuedItem) -> dict[str, Any]:
        message = self.compose(item)
        try:
            with email_session(self.warehouse, self.vault, self.smtp, self.account) as session:
                answer = session.send(message)
        except SmtpError as exc:
            if exc.kind == "outcome_unknown":
                raise OutcomeUnknown(str(exc)) from None
            if exc.transient:
                raise RetryableError(str(exc)) from None
            raise PermanentError(str(exc)) from None
        except MarketsyncError as exc:  # the account's configuration or login: a person must fix it
            raise PermanentError(str(exc)) from None
        return {"message_id": message["Message-ID"], "refused": dict(answer["refused"])}

    def already_applied(self, item: QueuedItem) -> bool:
        return False
