"""Posting signed JSON to a webhook receiver (a store's chat, ticketing or on-call endpoint).

One POST per delivery, the body signed with the store's secret (resources/signing.py); the receiver
answers 2xx when it took it. A 5xx, 429 or a dropped connection may succeed later; any other answer is a
refusal a person must look at (a wrong URL, a secret the receiver does not know). A connection that broke
after the request was sent leaves the outcome unknown: the receiver may have the notice, so it is sent
again with the same event id, by which the receiver drops the second copy.
"""
from __future__ import annotations

import json
import time
from typing import Any, ClassVar

from dagster import ConfigurableResource

from marketsync.resources.http_client import HttpClient
from marketsync.resources.http_retry import HttpCallError, RetryPolicy, retry_after_seconds
from marketsync.resources.scrubbing import SecretScrubber
from marketsync.resources.signing import signed_headers

USER_AGENT = "marketsync-webhook/1"


class WebhookError(HttpCallError):
    """A delivery that failed. `kind`: server, rate_limited, unreachable (worth another try), rejected;
    `outcome_unknown`: the request may have reached the receiver."""

    TRANSIENT: ClassVar[frozenset[str]] = frozenset({"server", "rate_limited", "unreachable"})

    def __init__(self, message: str, kind: str, retry_after: float | None = None, *, status: int | None = None,
                 outcome_unknown: bool = False):
        super().__init__(message, kind, retry_after)
        self.status = status
        self.outcome_unknown = outcome_unknown


def body_of(document: dict[str, Any]) -> bytes:
    """The bytes posted (and signed) for a JSON document: compact, keys sorted, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def post_signed(url: str, document: dict[str, Any], *, secret: str, event_id: str, timeout: float = 10.0,
                clock=time.time) -> int:
    """POST `document` to `url`, signed; returns the receiver's status (2xx), else raises WebhookError.
    No retries here: the outbound queue retries with backoff, and keeps the event id."""
    scrubber = SecretScrubber(secret)
    body = body_of(document)
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               **signed_headers(secret, int(clock()), event_id, body)}
    with HttpClient("the webhook receiver", WebhookError, scrubber=scrubber, timeout=timeout,
                    retry=RetryPolicy(attempts=1), lost={"outcome_unknown": True}) as client:
        response = client.send("POST", url, "a notice", content=body, headers=headers)
    status = response.status_code
    if 200 <= status < 300:
        return status
    if status == 429 or status >= 500:
        raise client.error(f"the webhook receiver answered HTTP {status}",
                           "rate_limited" if status == 429 else "server", retry_after_seconds(response), status=status)
    raise client.error(f"the webhook receiver refused the notice with HTTP {status}", "rejected", status=status)


class WebhookResource(ConfigurableResource):
    """The code location's webhook sender (resource key `webhook`): what the drain of a store's webhook
    writes is given. Stateless; each delivery opens its own connection."""

    timeout_seconds: float = 10.0

    def post(self, url: str, document: dict[str, Any], *, secret: str, event_id: str,
             timeout: float | None = None) -> int:
        return post_signed(url, document, secret=secret, event_id=event_id, timeout=timeout or self.timeout_seconds)
