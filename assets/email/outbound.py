"""Delivering an order's digital keys to the buyer by e-mail, as a write of the outbound queue.

`enqueue_key_delivery` queues the delivery once every digital unit of the order has its key. The queued
payload names what to send, never the keys themselves (ops.outbound_queue.payload is a plain jsonb
column): the order, its items with keys, the buyer's language, and whether it is an explicit re-send.
The handler reads the buyer's address and decrypts the keys when it sends, composes the message from the
store's template in the buyer's language, sends it through the store's SMTP server, and marks the keys
delivered (ops.digital_keys.delivered_at, delivered_via) in the transaction that marks the write done.
The keys appear in clear only in the message body handed to smtplib: never in the payload, the queue's
answer or error, the sync log, an alert or a log line (an error is scrubbed of them).

A failed send stays queued and is retried with backoff; a refusal (a 5xx reply, a refused login) is
dead-lettered with its worded reason. A delivery never buys a key: it only reads the stored ones.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

from sqlalchemy import Connection, Row, text

from marketsync.assets.accounts import Account
from marketsync.assets.alerts.notices import EMAIL_NOTICE
from marketsync.assets.digital.keys import load_key
from marketsync.assets.email.connection import email_session
from marketsync.assets.email.notices import NoticeEmailHandler
from marketsync.assets.outbound_queue import (
    OutcomeUnknown,
    PermanentError,
    QueuedItem,
    RetryableError,
    enqueue,
)
from marketsync.resources.credentials import DigitalKey
from marketsync.resources.errors import MarketsyncError
from marketsync.resources.scrubbing import SecretScrubber
from marketsync.resources.smtp import SmtpError, SmtpResource
from marketsync.resources.sql_files import query_beside
from marketsync.resources.vault import CredentialVault
from marketsync.resources.warehouse import Warehouse

OPERATION = "deliver_digital_keys"
DELIVERED_VIA = "email"
LANGUAGES = ("de", "fr", "en")
DEFAULT_LANGUAGE = "en"
TEMPLATES = Path(__file__).parent / "templates"

# How a key is shown in the message, per language.
LABELS: dict[str, dict[str, str]] = {
    "de": {"key": "Schlüssel", "image": "Schlüssel (Bild)", "link": "Link",
           "pre_order": "Vorbestellung: der Schlüssel gilt ab dem Erscheinungstag"},
    "fr": {"key": "Clé", "image": "Clé (image)", "link": "Lien",
           "pre_order": "Précommande : la clé est valable dès la date de sortie"},
    "en": {"key": "Key", "image": "Key (image)", "link": "Link",
           "pre_order": "Pre-order: the key works from the release date"},
}


def buyer_language(value: str | None) -> str:
    """One of LANGUAGES from a language or locale ("de", "fr-LU", "de_DE"); English otherwise."""
    code = (value or "").strip().replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


# ---------------------------------------------------------------- queueing a delivery
def enqueue_key_delivery(conn: Connection, order_id: int, language: str | None = None, resend: bool = False,
                         triggered_by: str = "fulfilment") -> QueuedItem:
    """Queue the e-mail delivering order `order_id`'s keys (all its items that have one) to the buyer, in
    the caller's transaction. `language` ("de", "fr", "en"; None: the order's customer locale).

    Once per order: calling again returns the same queued write, which once sent sends nothing more. A
    deliberate re-send (`resend=True`, what `marketsync digital resend ORDER` asks for) is a new write with
    its own idempotency key (the order and the count of deliveries before it), unless a delivery of the
    order is still waiting to go out, which is then returned. The payload holds no key."""
    order = conn.execute(query_beside(__file__, "email_account_of_order.sql"), {"o": order_id}).first()
    if order is None:
        raise MarketsyncError(f"no order {order_id}")
    if order.account_id is None:
        raise MarketsyncError(f"store '{order.store}' has no e-mail account to deliver keys with: add one with "
                              f"`marketsync account add {order.store} email --endpoint smtps://HOST:465` and its "
                              f"login with `marketsync credentials set {order.store} email`")
    items: list[int] = list(conn.execute(query_beside(__file__, "order_items_with_keys.sql"),
                                         {"o": order_id}).scalars())
    if not items:
        raise MarketsyncError(f"order {order_id} has no digital keys to deliver")
    # One decision at a time per order: two re-sends asked at once are one.
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"{OPERATION}:{order_id}"})
    queued = conn.execute(query_beside(__file__, "deliveries_of_order.sql"),
                          {"a": order.account_id, "op": OPERATION, "o": order_id}).one()
    if not resend or queued.queued == 0:
        number = 0
    else:
        # Deliveries are numbered 0, 1, ...; only the newest can still be waiting.
        number = queued.queued - 1 if queued.open_id is not None else queued.queued
    payload = {"order_id": order_id, "order_item_ids": items,
               "language": buyer_language(language or order.customer_locale),
               "to_ref": f"order:{order_id}", "resend": bool(resend and number > 0)}
    return enqueue(conn, order.account_id, OPERATION, payload, order_id=order_id, triggered_by=triggered_by,
                   key_parts=(OPERATION, order_id, number))


# ---------------------------------------------------------------- the message
@cache
def shipped_template(language: str) -> tuple[str, str]:
    """(subject, body) of the template shipped for `language` (assets/email/templates/<language>.txt:
    a `Subject:` line, a blank line, the body)."""
    return _split_template((TEMPLATES / f"{language}.txt").read_text(encoding="utf-8"))


def _split_template(source: str) -> tuple[str, str]:
    head, _, body = source.partition("\n\n")
    if not head.lower().startswith("subject:"):
        raise MarketsyncError("an e-mail template starts with a 'Subject:' line, then a blank line, then the body")
    return head.split(":", 1)[1].strip(), body


def store_template(overrides: Any, language: str) -> tuple[str, str]:
    """(subject, body) for `language`: the store's override from its e-mail account's `templates`
    setting ({"de": {"subject": ..., "body": ...}} or the text of a template file), each part it leaves
    out from the shipped template."""
    subject, body = shipped_template(language)
    override = overrides.get(language) if isinstance(overrides, Mapping) else None
    if isinstance(override, str):
        return _split_template(override)
    if isinstance(override, Mapping):
        return str(override.get("subject") or subject), str(override.get("body") or body)
    return subject, body


def keys_text(keys: Sequence[tuple[str, DigitalKey]], language: str) -> str:
    """The keys as the message lists them: per key its product, the key, its links."""
    labels = LABELS[language]
    lines: list[str] = []
    for title, key in keys:
        lines.append(f"* {title}")
        lines.append(f"  {labels['image' if key.kind == 'image' else 'key']}: {key.code}")
        if key.kind == "pre_order":
            lines.append(f"  {labels['pre_order']}")
        lines.extend(f"  {labels['link']}: {link}" for link in key.links)
        lines.append("")
    return "\n".join(lines).rstrip()


def message_id(idempotency_key: str, from_address: str) -> str:
    """The delivery's Message-ID, the same for every attempt of one queued delivery (a receiving side can
    drop a second copy by it); a deliberate re-send is another delivery with another Message-ID."""
    domain = from_address.rpartition("@")[2] or "marketsync.invalid"
    return f"<keys.{hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]}@{domain}>"


def compose(account: Account, order: Row, keys: Sequence[tuple[str, DigitalKey]], language: str,
            msg_id: str) -> EmailMessage:
    """The buyer's message: the store's template in `language` filled in with the order and the keys."""
    from_address = account.setting("from_address")
    if not from_address:
        raise PermanentError(f"the e-mail account of store '{account.store}' has no sender: set one with "
                             f"`marketsync account add {account.store} email --set from_address=keys@YOUR-SHOP`")
    subject, body = store_template(account.setting("templates") or {}, language)
    values = {"store": order.store, "order_number": order.order_number,
              "customer_name": order.customer_name or "", "keys": keys_text(keys, language)}
    message = EmailMessage()
    message["From"] = formataddr((account.setting("from_name") or "", from_address))
    message["To"] = formataddr((order.customer_name or "", order.customer_email))
    # Substituted once: a `$` in a key or a name is never read as a placeholder.
    message["Subject"] = Template(subject).safe_substitute({k: v for k, v in values.items() if k != "keys"})
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = msg_id
    message.set_content(Template(body).safe_substitute(values), charset="utf-8")
    message["Content-Language"] = language  # after set_content, which replaces the Content-* headers
    return message


# ---------------------------------------------------------------- the handler
def _queue_error(exc: SmtpError) -> Exception:
    if exc.kind == "outcome_unknown":
        return OutcomeUnknown(str(exc))
    if exc.transient:
        return RetryableError(str(exc))
    return PermanentError(str(exc))


class KeyDeliveryHandler:
    """Sends one queued key delivery (the `deliver_digital_keys` operation) through the store's SMTP
    server.

    SMTP has no way to ask a server whether it already took a message, so `already_applied` is always
    False: after an attempt whose outcome is unknown (the connection broke while the message was sent)
    the message is sent again. Every attempt of one queued delivery carries the same Message-ID, derived
    from the item's idempotency key, by which a receiving side can recognise and drop the second copy."""

    def __init__(self, warehouse: Warehouse, vault: CredentialVault, smtp: SmtpResource | None, account: Account):
        self.warehouse = warehouse
        self.vault = vault
        self.smtp = smtp
        self.account = account
        self._sent: dict[int, list[int]] = {}  # outbound_id -> the keys its message carried

    def _read(self, item: QueuedItem) -> tuple[Row, list[tuple[int, str, DigitalKey]]]:
        payload = item.payload
        order_id = int(payload["order_id"])
        with self.warehouse.begin() as conn:
            order = conn.execute(query_beside(__file__, "delivery_order.sql"), {"o": order_id}).first()
            if order is None:
                raise PermanentError(f"order {order_id} no longer exists: its keys are not sent")
            if not order.customer_email:
                raise PermanentError(f"order {order.order_number} has no buyer e-mail address: its keys are not sent")
            rows = conn.execute(query_beside(__file__, "delivery_keys.sql"),
                                {"o": order_id, "items": [int(i) for i in payload["order_item_ids"]]}).all()
            if not rows:
                raise PermanentError(f"order {order.order_number} has no keys on the items to deliver")
            if not payload.get("resend"):
                rows = [r for r in rows if r.delivered_at is None]
                if not rows:
                    raise PermanentError(f"the keys of order {order.order_number} were already delivered: a second "
                                         f"e-mail goes out only when asked (`marketsync digital resend {order_id}`)")
            keys = [(r.digital_key_id, r.title or "", load_key(conn, self.vault, r.digital_key_id)) for r in rows]
        return order, keys

    def send(self, item: QueuedItem) -> dict[str, Any]:
        order, keys = self._read(item)
        scrubber = SecretScrubber(*(key.code for _, _, key in keys),
                                  *(link for _, _, key in keys for link in key.links))
        language = buyer_language(item.payload.get("language"))
        msg_id = message_id(item.idempotency_key, self.account.setting("from_address") or "")
        message = compose(self.account, order, [(title, key) for _, title, key in keys], language, msg_id)
        try:
            with email_session(self.warehouse, self.vault, self.smtp, self.account) as session:
                answer = session.send(message)
        except SmtpError as exc:
            raise _queue_error(exc.scrubbed(scrubber)) from None
        except MarketsyncError as exc:  # the account's configuration or login: a person must fix it
            raise PermanentError(scrubber.scrub(str(exc))) from None
        sent = [key_id for key_id, _, _ in keys]
        self._sent[item.outbound_id] = sent
        return {"message_id": msg_id, "language": language, "digital_key_ids": sent,
                "refused": {rcpt: scrubber.scrub(reply) for rcpt, reply in dict(answer["refused"]).items()}}

    def already_applied(self, item: QueuedItem) -> bool:
        return False  # SMTP has no look-up; the stable Message-ID lets the receiver drop a second copy

    def on_success(self, conn: Connection, item: QueuedItem) -> None:
        """Record on each key sent that it was delivered, and how, with the write's success."""
        sent = self._sent.pop(item.outbound_id, None)
        if sent is None:  # not sent by this handler (cannot happen while already_applied is False)
            sent = list(conn.execute(query_beside(__file__, "delivery_keys.sql"),
                                     {"o": item.payload["order_id"], "items": item.payload["order_item_ids"]}
                                     ).scalars())
        conn.execute(query_beside(__file__, "keys_mark_delivered.sql"), {"ids": sent, "via": DELIVERED_VIA})


def email_handlers(warehouse: Warehouse, vault: CredentialVault, smtp: SmtpResource | None,
                   account: Account) -> dict[str, KeyDeliveryHandler | NoticeEmailHandler]:
    """The keys to buyers, and the store's alert and new-order notices to its routes' addresses."""
    return {OPERATION: KeyDeliveryHandler(warehouse, vault, smtp, account),
            EMAIL_NOTICE: NoticeEmailHandler(warehouse, vault, smtp, account)}


@contextmanager
def open_outbound(warehouse: Warehouse, vault: CredentialVault, smtp: SmtpResource | None,
                  account: Account) -> Iterator[dict[str, KeyDeliveryHandler | NoticeEmailHandler]]:
    """The outbound handlers of one store's e-mail account (its Channel declaration names this). Each
    delivery opens its own SMTP session when it is sent, so one failing message leaves the others alone."""
    yield email_handlers(warehouse, vault, smtp, account)
