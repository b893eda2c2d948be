"""HMAC-SHA256 signatures of webhook-style deliveries, the one scheme marketsync uses both ways: what
suppliers sign when they push to us (pipelines/push_intake/auth.py verifies it) and what we sign when we
post notices to a store's webhook (resources/webhook.py).

The signature covers

    <timestamp> "\\n" <event id> "\\n" <raw request body>

sent as

    X-Marketsync-Timestamp: 1767225600          (Unix seconds, when it was signed)
    X-Marketsync-Event-Id:  9f1c2d3e-...        (the delivery's id; a re-send keeps it)
    X-Marketsync-Signature: sha256=<hex>

Signing the timestamp lets a receiver refuse a captured delivery replayed later; signing the event id
stops a replay from dodging duplicate detection under a new id. Newlines cannot occur in header values,
so the three parts cannot be shifted into one another.
"""
from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Marketsync-Timestamp"
EVENT_ID_HEADER = "X-Marketsync-Event-Id"
SIGNATURE_HEADER = "X-Marketsync-Signature"
SIGNATURE_SCHEME = "sha256"


def signed_message(timestamp: str, event_id: str, body: bytes) -> bytes:
    return timestamp.encode("ascii") + b"\n" + event_id.encode("ascii") + b"\n" + body


def sign(secret: str, timestamp: int | str, event_id: str, body: bytes) -> str:
    """The X-Marketsync-Signature value of a delivery."""
    digest = hmac.new(secret.encode(), signed_message(str(timestamp), event_id, body), hashlib.sha256)
    return f"{SIGNATURE_SCHEME}={digest.hexdigest()}"


def signed_headers(secret: str, timestamp: int, event_id: str, body: bytes) -> dict[str, str]:
    """The three headers of a delivery signed now."""
    return {TIMESTAMP_HEADER: str(timestamp), EVENT_ID_HEADER: event_id,
            SIGNATURE_HEADER: sign(secret, timestamp, event_id, body)}
