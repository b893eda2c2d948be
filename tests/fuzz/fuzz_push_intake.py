"""Fuzz the push intake's request handling without a database: the body as the app reads it (JSON, then
one item or a batch through parse_item / parse_items, the item folded into a record and answered), and
the signature check over the three headers and the body.

Contract: a request is refused with the intake's own errors (Refusal, ItemsInvalid, AuthError), never
another exception; a delivery verify_delivery accepts carries a signature computed over exactly its
timestamp, event id and body with one of the feed's secrets.

The first byte picks the part: even = the body, odd = the signature check.

    python -m tests.fuzz.fuzz_push_intake -max_total_time=60 tests/fuzz/corpus/push_intake
"""
from __future__ import annotations

from datetime import UTC, datetime

from tests.fuzz.common import fuzz, instrumented

with instrumented(__name__ == "__main__"):
    from marketsync.assets.feeds.push_items import FeedDefaults, ItemsInvalid, _fold, parse_item, parse_items
    from marketsync.pipelines.push_intake.app import Refusal, _json
    from marketsync.pipelines.push_intake.auth import AuthError, verify_delivery
    from marketsync.resources.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
SECRETS = ("current-secret", "previous-secret")
WINDOW = 300
MAX_BATCH = 50


def _body(data: bytes) -> None:
    try:
        raw = _json(data)
    except Refusal:
        return
    defaults = FeedDefaults.from_settings(raw.get("settings") if isinstance(raw, dict)
                                          and isinstance(raw.get("settings"), dict) else None)
    try:
        if isinstance(raw, dict) and "items" not in raw:
            items = [parse_item(raw, NOW, defaults)]
        else:
            raw_items = raw.get("items") if isinstance(raw, dict) else raw
            if not isinstance(raw_items, list) or not raw_items or len(raw_items) > MAX_BATCH:
                return
            items = parse_items(raw_items, NOW, defaults)
    except ItemsInvalid as exc:
        assert exc.problems and str(exc)
        for problem in exc.problems:
            problem.as_json()
        return
    for item in items:
        record = _fold(None, item, defaults)
        record.as_json()
        record.product_row()
        record.translation_rows()


def _signature(data: bytes) -> None:
    # The input: the three header values and the body, separated by newlines (header values cannot hold
    # one); a timestamp of "now" is replaced by the clock's, and a signature of "sign" or "sign:N" by a
    # correct one under secret N, so the fuzzer reaches the accepting path too.
    parts = data.split(b"\n", 3)
    while len(parts) < 4:
        parts.append(b"")
    text = [p.decode("latin-1") for p in parts[:3]]
    timestamp, event_id, signature = text
    body = parts[3]
    if timestamp == "now":
        timestamp = str(int(NOW.timestamp()))
    if signature.startswith("sign") and timestamp.isascii() and event_id.isascii():
        which = 1 if signature.endswith("1") else 0
        signature = sign(SECRETS[which], timestamp, event_id, body)
    headers: dict[str, str | None] = {TIMESTAMP_HEADER: timestamp or None, EVENT_ID_HEADER: event_id or None,
                                      SIGNATURE_HEADER: signature or None}
    try:
        delivery = verify_delivery(headers, body, SECRETS, NOW, WINDOW)
    except AuthError as exc:
        assert str(exc)
        return
    assert delivery.event_id == event_id and delivery.signed_at == int(timestamp)
    assert any(_same_digest(signature, sign(secret, timestamp, event_id, body)) for secret in SECRETS)
    assert abs(NOW.timestamp() - delivery.signed_at) <= WINDOW


def _same_digest(given: str, expected: str) -> bool:
    import base64
    import binascii

    encoded = given.strip().partition("=")[2].strip()
    want = bytes.fromhex(expected.partition("=")[2])
    try:
        got = bytes.fromhex(encoded) if len(encoded) == 64 else base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error):
        return False
    return got == want


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    if data[0] % 2 == 0:
        _body(data[1:])
    else:
        _signature(data[1:])


if __name__ == "__main__":
    fuzz(TestOneInput)
