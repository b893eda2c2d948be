"""`deliver_file`: checks the request, picks the protocol's sender and retries what may succeed later."""
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from marketsync.resources.http_retry import retrying
from marketsync.resources.stock_delivery.core import (
    Call,
    Delivery,
    DeliveryError,
    DeliveryTarget,
    check_filename,
    check_idempotency_key,
    classify_location,
    describe_location,
    scrubber_of,
)
from marketsync.resources.stock_delivery.ftp import send_ftp
from marketsync.resources.stock_delivery.http import send_http
from marketsync.resources.stock_delivery.local import send_local
from marketsync.resources.stock_delivery.sftp import send_sftp

log = logging.getLogger(__name__)

RETRY_ATTEMPTS = 4
RETRY_WAIT_SECONDS = 1.0  # backoff base: waits are random in [0, base * 2**n]
MAX_RETRY_WAIT_SECONDS = 30.0


def deliver_file(target: DeliveryTarget, filename: str, data: bytes, *, idempotency_key: str,
                 attempts: int = RETRY_ATTEMPTS, retry_wait_seconds: float = RETRY_WAIT_SECONDS,
                 content_type: str = "text/csv; charset=utf-8") -> Delivery:
    """Put `data` at `target` under the name `filename`, atomically (see the package's doc).

    `idempotency_key` identifies this file's content (the same key for a retry of the same bytes); it
    is sent as the HTTP ``Idempotency-Key`` header, `content_type` as its ``Content-Type``. Retryable
    failures are retried up to `attempts` tries in all. Raises DeliveryError (a MarketsyncError) when the
    file could not be delivered."""
    scrubber = scrubber_of(target)
    location = (target.location or "").strip()
    scheme, parsed = classify_location(location, target.operator_folder)
    check_filename(filename)
    check_idempotency_key(idempotency_key)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DeliveryError("deliver_file needs the file's bytes (encode the CSV first)")
    data = bytes(data)
    if not target.timeout or target.timeout <= 0:
        raise DeliveryError(f"the delivery timeout must be positive, not {target.timeout!r}")
    if scheme in ("http", "https"):
        url = location + quote(filename) if location.endswith("/") else location
    else:
        url = f"{location.rstrip('/')}/{filename}"
    call = Call(target, filename, data, idempotency_key, describe_location(url), scrubber, content_type)
    senders: dict[str, Callable[[Call, Any], Delivery]] = {
        "file": send_local, "ftp": send_ftp, "ftps": send_ftp, "sftp": send_sftp,
        "http": send_http, "https": send_http}
    send = senders[scheme]
    destination = url if scheme in ("http", "https") else parsed  # what the sender needs to know
    count = 0

    def before_sleep(state) -> None:
        exc = state.outcome.exception()
        log.warning("delivering %s: attempt %d of %d failed (%s); retrying in %.1f s", call.where,
                    state.attempt_number, attempts, exc, state.next_action.sleep if state.next_action else 0.0)

    log.debug("delivering %s (%d bytes)", call.where, len(data))
    try:
        for attempt in retrying(DeliveryError, attempts, retry_wait_seconds, MAX_RETRY_WAIT_SECONDS,
                                before_sleep=before_sleep):
            with attempt:
                count += 1
                delivery = send(call, destination)
    except DeliveryError as exc:
        exc.attempts = count
        message = exc.args[0] if exc.args else str(exc)
        if count > 1:
            message += f" (gave up after {count} attempts)"
        exc.args = (scrubber.scrub(message),)
        log.warning("%s", exc.args[0])
        raise exc from None
    log.info("delivered %s: %d bytes%s", call.where, len(data),
             f", HTTP {delivery.status_code}" if delivery.status_code else "")
    return delivery
