"""A local webhook receiver that keeps what it is sent: the store's chat or on-call endpoint in the demo,
`make dev` and the tests. It verifies each delivery's signature (X-Marketsync-Timestamp, -Event-Id and
-Signature, HMAC-SHA256 under the shared secret, as a real receiver should), keeps one copy per event id
(a re-sent notice is answered 200 and not kept again), and can be told to answer the next deliveries with
an error (`statuses`) to exercise the sender's retries."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from marketsync.sandbox.http import serve_in_thread


@dataclass
class Delivery:
    event_id: str
    document: dict[str, Any]
    signature_ok: bool


@dataclass
class WebhookRecorder:
    """What the receiver got. `statuses`: answers for the next deliveries instead of accepting them;
    `slow`: seconds to wait before answering the next deliveries, after taking them (the sender's answer
    is lost when it gives up first, though the receiver has the notice)."""

    secret: str
    deliveries: list[Delivery] = field(default_factory=list)
    attempts: int = 0
    refused_signatures: int = 0
    duplicates: int = 0
    statuses: list[int] = field(default_factory=list)
    slow: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def verify(self, timestamp: str, event_id: str, body: bytes, signature: str) -> bool:
        expected = hmac.new(self.secret.encode(), timestamp.encode() + b"\n" + event_id.encode() + b"\n" + body,
                            hashlib.sha256).hexdigest()
        return hmac.compare_digest(f"sha256={expected}", signature)

    @property
    def documents(self) -> list[dict[str, Any]]:
        return [d.document for d in self.deliveries]


def create_app(recorder: WebhookRecorder) -> Starlette:
    async def receive(request: Request) -> JSONResponse:
        body = await request.body()
        headers = request.headers
        event_id = headers.get("x-marketsync-event-id", "")
        with recorder._lock:
            recorder.attempts += 1
            if recorder.statuses:
                return JSONResponse({"error": "scripted"}, status_code=recorder.statuses.pop(0))
            ok = recorder.verify(headers.get("x-marketsync-timestamp", ""), event_id, body,
                                 headers.get("x-marketsync-signature", ""))
            if not ok:
                recorder.refused_signatures += 1
                return JSONResponse({"error": "bad signature"}, status_code=401)
            if any(d.event_id == event_id for d in recorder.deliveries):
                recorder.duplicates += 1
                return JSONResponse({"duplicate": True})
            recorder.deliveries.append(Delivery(event_id, json.loads(body), ok))
            delay = recorder.slow.pop(0) if recorder.slow else 0.0
        if delay:
            await asyncio.sleep(delay)
        return JSONResponse({"received": True})

    return Starlette(routes=[Route("/hooks/{name}", receive, methods=["POST"])])


class WebhookReceiver:
    """A running receiver on loopback: `url` (POST there), `recorder`, `stop()`; a context manager."""

    def __init__(self, secret: str, port: int = 0) -> None:
        self.recorder = WebhookRecorder(secret)
        self._server = serve_in_thread(create_app(self.recorder), port=port)

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def url(self) -> str:
        return f"{self._server.base_url}/hooks/ops"

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
