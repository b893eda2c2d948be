"""Who may push to a feed: deliveries signed with the feed's secret, recent, and each event once.

A supplier signs every delivery with HMAC-SHA256 under the feed's secret over

    <timestamp> "\\n" <event id> "\\n" <raw request body>

and sends

    X-Marketsync-Timestamp: 1767225600          (Unix seconds, when it signed)
    X-Marketsync-Event-Id:  9f1c2d3e-...        (its id for this delivery; a re-send keeps it)
    X-Marketsync-Signature: sha256=<hex>        (or sha256=<base64>)

Signing the timestamp lets us refuse a captured delivery replayed later than the replay window;
signing the event id stops a replay inside the window from dodging duplicate detection under a new id.
Newlines cannot occur in header values, so the three parts cannot be shifted into one another.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from marketsync.resources.signing import (  # noqa: F401 (the intake's headers and signing, re-exported)
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_SCHEME,
    TIMESTAMP_HEADER,
    sign,
    signed_message,
)

# Printable ASCII without spaces: UUIDs, ULIDs, "job-42:item-7"... never something that breaks a log line.
_EVENT_ID = re.compile(r"[!-~]{1,200}")


class AuthError(Exception):
    """Why a delivery was refused, for the sender; never says which secret or what digest was expected."""


@dataclass(frozen=True)
class Delivery:
    """A delivery that passed authentication."""

    event_id: str
    signed_at: int


def _decode_signature(value: str) -> bytes:
    scheme, sep, encoded = value.strip().partition("=")
    if not sep or scheme.strip().lower() != SIGNATURE_SCHEME:
        raise AuthError(f"{SIGNATURE_HEADER} must be 'sha256=<hex or base64 digest>'")
    encoded = encoded.strip()
    try:
        if len(encoded) == 64:
            return bytes.fromhex(encoded)
        return base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error):
        raise AuthError(f"{SIGNATURE_HEADER} is neither hex nor base64") from None


def verify_delivery(headers: dict[str, str | None], body: bytes, secrets: Iterable[str], now: datetime,
                    replay_window_seconds: int) -> Delivery:
    """Check a delivery's timestamp, event id and signature; raise AuthError if any is wrong.

    `headers` maps the three header names to their values (None when absent). Every valid secret is
    tried (current, and previous while rotating); each comparison runs in constant time.
    """
    timestamp = headers.get(TIMESTAMP_HEADER)
    event_id = headers.get(EVENT_ID_HEADER)
    signature = headers.get(SIGNATURE_HEADER)
    for name, value in ((TIMESTAMP_HEADER, timestamp), (EVENT_ID_HEADER, event_id), (SIGNATURE_HEADER, signature)):
        if not value:
            raise AuthError(f"missing {name} header")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise AuthError(f"{TIMESTAMP_HEADER} must be Unix seconds")
    if not _EVENT_ID.fullmatch(event_id):
        raise AuthError(f"{EVENT_ID_HEADER} must be 1 to 200 printable ASCII characters without spaces")
    skew = now.timestamp() - int(timestamp)
    if abs(skew) > replay_window_seconds:
        raise AuthError(f"{TIMESTAMP_HEADER} is {abs(int(skew))} s {'old' if skew > 0 else 'ahead'}; "
                        f"deliveries must be signed within {replay_window_seconds} s of our clock")
    provided = _decode_signature(signature)
    message = signed_message(timestamp, event_id, body)
    matched = False
    for secret in secrets:
        expected = hmac.new(secret.encode(), message, hashlib.sha256).digest()
        # No early exit: the time taken does not tell whether the current or the previous secret matched.
        matched |= hmac.compare_digest(expected, provided)
    if not matched:
        raise AuthError("signature does not match the body for this feed's secret")
    return Delivery(event_id=event_id, signed_at=int(timestamp))
