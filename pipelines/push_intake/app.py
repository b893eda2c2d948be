"""The push intake: suppliers push their inventory to a feed over HTTP (Jetti's push flow).

    PUT  /stores/{store}/inventory-feeds/{feed}/items         one item, applied in the request
    POST /stores/{store}/inventory-feeds/{feed}/items:batch   1 to 50 items, applied later by a sensor
    GET  /healthz
    GET  /openapi.json                                        this API's OpenAPI 3.1 document (unsigned)

`{store}` is the store code and `{feed}` the name of the store's `push_feed` catalog source (feed names
are unique per store only, hence both in the path). Every delivery is signed (see `auth`: the
X-Marketsync-Timestamp, -Event-Id and -Signature headers).

What each request goes through, cheapest refusal first:
  429  more than 100 requests in the last 60 s from this client (feed + remote address); Retry-After
  413  body over the size limit (from Content-Length, else counted while streaming)
  404  no such push feed; 403 the feed is disabled
  401  missing or malformed headers, timestamp outside the replay window, signature not matching
  400  body not JSON;  422 items invalid, or a batch of more than 50 (every problem listed)
  409  the event id was already used for a different delivery
  429  the feed's daily SKU update quota is used up; Retry-After until midnight UTC

A re-sent delivery (same event id, same body) writes nothing and answers as the first one did, with
`X-Marketsync-Duplicate: true`.

PUT answers 200 with the record as the catalog now holds it. An update older than the stored record
(its updatedAt is earlier) is not an error: the sender's information is simply out of date, so the
answer is still 200, with `"stale": true` and the newer stored record; retrying would not help, which
is why it is not a 409.

POST answers 202 with the inbox id; the batch is applied by `apply_inbox_job`.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from marketsync.assets.feeds.push_inbox import record_delivery, same_items
from marketsync.assets.feeds.push_items import (
    FeedDefaults,
    ItemsInvalid,
    apply_items,
    parse_item,
    parse_items,
    read_records,
)
from marketsync.pipelines.push_intake.auth import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    AuthError,
    Delivery,
    verify_delivery,
)
from marketsync.pipelines.push_intake.limits import (
    BodyTooLarge,
    Clock,
    DailyLimitExceeded,
    PushLimits,
    RequestRateLimiter,
    charge_sku_updates,
    read_limited,
    utc_now,
)
from marketsync.pipelines.push_intake.openapi import OPENAPI_PATH, openapi_document
from marketsync.pipelines.push_intake.secrets import PushSecrets, load_push_secrets
from marketsync.resources.sql_files import query_beside
from marketsync.resources.vault import CredentialVault, VaultError

log = logging.getLogger("marketsync.push_intake")

DUPLICATE_HEADER = "X-Marketsync-Duplicate"
ITEM_PATH = "/stores/{store}/inventory-feeds/{feed}/items"
BATCH_PATH = "/stores/{store}/inventory-feeds/{feed}/items:batch"
DEFAULT_PUSH_LIMITS = PushLimits()


class Refusal(Exception):
    """A request answered with an error: status, a stable code, a message for the sender."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None,
                 **details: Any):
        super().__init__(message)
        self.status, self.code, self.message, self.headers, self.details = status, code, message, headers, details

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.code, "message": self.message, **self.details}, status_code=self.status,
                            headers=self.headers)


@dataclass(frozen=True)
class PushFeed:
    """A push feed as a delivery needs it: where it writes, what it defaults to, what verifies it."""

    store: str
    name: str
    source_id: int
    enabled: bool
    defaults: FeedDefaults
    daily_limit: int
    secrets: PushSecrets | None = field(repr=False)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _json(body: bytes) -> Any:
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refusal(400, "invalid_json", f"the body is not valid UTF-8 JSON: {exc}") from None
    except RecursionError:
        raise Refusal(400, "invalid_json", "the body's JSON is nested too deeply") from None
    problem = _unstorable_text(value)
    if problem:
        raise Refusal(400, "invalid_json", f"the body's JSON holds {problem}, which no text field can store")
    return value


def _unstorable_text(value: Any) -> str | None:
    """What in a parsed body Postgres cannot store as text or jsonb: a NUL character ("\\u0000") or half a
    surrogate pair ("\\ud800" alone), in any key or string; None when there is none. (Without this check
    they reach the inbox's jsonb and the request fails with a 500.)"""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return "a NUL character (\\u0000)"
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "half a UTF-16 surrogate pair"
    return None


class PushIntake:
    """The request handling behind the routes; DB work runs in the thread pool, off the event loop."""

    def __init__(self, engine: Engine, vault: CredentialVault, clock: Clock, limits: PushLimits):
        self.engine, self.vault, self.clock, self.limits = engine, vault, clock, limits
        self.rate = RequestRateLimiter(limits, clock)

    # ------------------------------------------------------------------------ shared by both routes
    def _load_feed(self, store: str, name: str) -> PushFeed | None:
        with self.engine.begin() as conn:
            row = conn.execute(query_beside(__file__, "push_feed.sql"), {"store": store, "feed": name}).first()
            if row is None:
                return None
            secrets = load_push_secrets(conn, self.vault, row.source_id)
        settings = row.settings or {}
        daily = settings.get("daily_sku_update_limit")
        return PushFeed(store, name, row.source_id, row.enabled, FeedDefaults.from_settings(settings),
                        daily if isinstance(daily, int) and not isinstance(daily, bool) and daily >= 0
                        else self.limits.daily_sku_updates,
                        secrets)

    async def _receive(self, request: Request) -> tuple[PushFeed, Delivery, Any, datetime]:
        """Rate, size, feed, signature and JSON checks; returns the feed, the delivery and its body."""
        store, name = request.path_params["store"], request.path_params["feed"]
        client = request.client.host if request.client else "unknown"
        decision = self.rate.hit(f"{store}/{name}", client)
        if not decision.allowed:
            raise Refusal(429, "rate_limited",
                          f"more than {self.limits.requests_per_window} requests in {self.limits.window_seconds} s "
                          f"from this client; retry in {decision.retry_after} s",
                          headers={"Retry-After": str(decision.retry_after)}, retry_after=decision.retry_after)
        try:
            body = await read_limited(request.headers.get("content-length"), request.stream(),
                                      self.limits.max_body_bytes)
        except BodyTooLarge:
            raise Refusal(413, "body_too_large", f"the body is over {self.limits.max_body_bytes} bytes",
                          limit=self.limits.max_body_bytes) from None
        try:
            feed = await run_in_threadpool(self._load_feed, store, name)
        except VaultError as exc:
            log.error("push feed %s/%s: %s", store, name, exc)
            raise Refusal(503, "secret_unavailable", "deliveries to this feed cannot be verified right now") from None
        if feed is None:
            raise Refusal(404, "unknown_feed", f"store '{store}' has no push feed '{name}'")
        if not feed.enabled:
            raise Refusal(403, "feed_disabled", f"push feed '{name}' of store '{store}' is disabled")
        if feed.secrets is None:
            raise Refusal(401, "no_secret", "this feed has no signing secret yet; the store must create one")
        now = self.clock()
        headers = {h: request.headers.get(h) for h in (TIMESTAMP_HEADER, EVENT_ID_HEADER, SIGNATURE_HEADER)}
        try:
            delivery = verify_delivery(headers, body, feed.secrets.valid(), now, self.limits.replay_window_seconds)
        except AuthError as exc:
            raise Refusal(401, "unauthorized", str(exc)) from None
        return feed, delivery, _json(body), now

    def _daily_refusal(self, exc: DailyLimitExceeded) -> Refusal:
        return Refusal(429, "daily_limit_reached", str(exc), headers={"Retry-After": str(exc.retry_after)},
                       limit=exc.limit, used=exc.used, requested=exc.requested, retry_after=exc.retry_after)

    # -------------------------------------------------------------------------------------- PUT item
    async def put_item(self, request: Request) -> JSONResponse:
        feed, delivery, raw, now = await self._receive(request)
        if not isinstance(raw, dict):
            raise Refusal(422, "invalid_items", "the body must be one item (a JSON object)")
        try:
            parse_item(raw, now, feed.defaults)  # refused here, before anything is recorded
        except ItemsInvalid as exc:
            raise Refusal(422, "invalid_items", str(exc), problems=[p.as_json() for p in exc.problems]) from None
        answer, duplicate = await run_in_threadpool(self._put_item, feed, delivery, raw, now)
        return JSONResponse(answer, status_code=200, headers={DUPLICATE_HEADER: "true"} if duplicate else None)

    def _put_item(self, feed: PushFeed, delivery: Delivery, raw: dict[str, Any], now: datetime
                  ) -> tuple[dict[str, Any], bool]:
        with self.engine.begin() as conn:
            entry = record_delivery(conn, feed.source_id, delivery.event_id, [raw], now, applied=True)
            if not entry.created and (entry.status != "applied" or not same_items(entry.items, [raw])):
                raise Refusal(409, "event_id_reused",
                              f"event id '{delivery.event_id}' was already used for a different delivery")
            # The item as first received: a missing updatedAt means the time of the first delivery.
            item = parse_item(raw, entry.received_at, feed.defaults)
            if entry.created:
                try:
                    charge_sku_updates(conn, feed.source_id, 1, feed.daily_limit, now)
                except DailyLimitExceeded as exc:
                    raise self._daily_refusal(exc) from None
                apply_items(conn, feed.source_id, [item], feed.defaults)
            record = read_records(conn, feed.source_id, [item.external_id])[item.external_id]
        stale = record.source_updated_at is not None and record.source_updated_at > item.updated_at
        log.info("push feed %s/%s: item %s %s", feed.store, feed.name, item.external_id,
                 "duplicate" if not entry.created else "stale" if stale else "applied")
        return {"feed": feed.name, "eventId": delivery.event_id, "stale": stale, "record": record.as_json()}, \
            not entry.created

    # ------------------------------------------------------------------------------------ POST batch
    async def post_batch(self, request: Request) -> JSONResponse:
        feed, delivery, raw, now = await self._receive(request)
        raw_items = raw.get("items") if isinstance(raw, dict) else raw
        if not isinstance(raw_items, list):
            raise Refusal(422, "invalid_items", "the body must be a JSON array of items, or {\"items\": [...]}")
        if not raw_items:
            raise Refusal(422, "invalid_items", "the batch has no items")
        if len(raw_items) > self.limits.max_batch_items:
            raise Refusal(422, "too_many_items",
                          f"a batch holds at most {self.limits.max_batch_items} items; this one has {len(raw_items)}: "
                          f"split it, or PUT items one by one",
                          limit=self.limits.max_batch_items, received=len(raw_items))
        try:
            parse_items(raw_items, now, feed.defaults)
        except ItemsInvalid as exc:
            raise Refusal(422, "invalid_items", str(exc), problems=[p.as_json() for p in exc.problems]) from None
        answer, duplicate = await run_in_threadpool(self._accept_batch, feed, delivery, raw_items, now)
        return JSONResponse(answer, status_code=202, headers={DUPLICATE_HEADER: "true"} if duplicate else None)

    def _accept_batch(self, feed: PushFeed, delivery: Delivery, raw_items: list[Any], now: datetime
                      ) -> tuple[dict[str, Any], bool]:
        with self.engine.begin() as conn:
            entry = record_delivery(conn, feed.source_id, delivery.event_id, raw_items, now, applied=False)
            if not entry.created and not same_items(entry.items, raw_items):
                raise Refusal(409, "event_id_reused",
                              f"event id '{delivery.event_id}' was already used for a different delivery")
            if entry.created:
                try:
                    charge_sku_updates(conn, feed.source_id, len(raw_items), feed.daily_limit, now)
                except DailyLimitExceeded as exc:
                    raise self._daily_refusal(exc) from None
        log.info("push feed %s/%s: batch %s of %d items %s", feed.store, feed.name, entry.inbox_id,
                 len(raw_items), "accepted" if entry.created else "duplicate")
        return {"feed": feed.name, "eventId": delivery.event_id, "inboxId": entry.inbox_id,
                "accepted": len(entry.items)}, not entry.created

    async def health(self, request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def openapi(self, request: Request) -> JSONResponse:
        return JSONResponse(openapi_document(self.limits))


def _answering_refusals(handler: Callable) -> Callable:
    async def endpoint(request: Request) -> JSONResponse:
        try:
            return await handler(request)
        except Refusal as refusal:
            if refusal.status >= 400:
                log.info("push %s %s: %s %s", request.method, request.url.path, refusal.status, refusal.code)
            return refusal.response()
    return endpoint


def create_push_app(engine: Engine, vault: CredentialVault, *, clock: Clock = utc_now,
                    limits: PushLimits = DEFAULT_PUSH_LIMITS) -> Starlette:
    """The ASGI app of the push intake. `clock` (aware UTC datetimes) drives the replay window, the
    rate window and the daily quota, so tests can move time instead of waiting for it."""
    intake = PushIntake(engine, vault, clock, limits)
    return Starlette(routes=[
        Route(ITEM_PATH, _answering_refusals(intake.put_item), methods=["PUT"]),
        Route(BATCH_PATH, _answering_refusals(intake.post_batch), methods=["POST"]),
        Route("/healthz", intake.health, methods=["GET"]),
        Route(OPENAPI_PATH, intake.openapi, methods=["GET"]),
    ])
