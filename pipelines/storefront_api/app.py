"""The storefront order API: the store's own shop pushes its orders and their status changes.

    POST  /stores/{store}/orders                  an order (Idempotency-Key required): 201, or 200 when the
                                                  shop sent this very order before under another key
    GET   /stores/{store}/orders/{order_number}   the order as marketsync holds it (a shop unsure whether a
                                                  POST arrived looks it up before sending it again)
    PATCH /stores/{store}/orders/{order_number}   a status change: paid, shipped, cancelled, refunded
    GET   /openapi/storefront.json                this API's OpenAPI document (no key needed)

Every order route wants `Authorization: Bearer <the store's API key>` (`marketsync storefront key
STORE`). What a request goes through, cheapest refusal first:

  413  body over 1 MB;  415  not application/json
  401  no key, or not this store's (an unknown store is answered the same: no probing for stores)
  403  the store's storefront account is disabled
  400  POST without an Idempotency-Key, or one that is not 1-255 printable characters
  422  the body is not a valid order or change: every bad field named (values never echoed)
  409  the Idempotency-Key was used for another body; the order number exists with other content; a
       status change the order's status does not allow
  503  the intake is overloaded or the database did not answer in time: retry under the same key

A retry with the same Idempotency-Key and body is answered as the first request was, with
`Idempotent-Replayed: true`. See assets/storefront/intake.py for what an order goes through.
"""
from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from marketsync.assets.accounts import Account
from marketsync.assets.storefront.document import InvalidDocument, parse_order, parse_status_change
from marketsync.assets.storefront.intake import REPLAYED_HEADER, Answer, Submission, change_status, order_answers
from marketsync.pipelines.push_intake.limits import BodyTooLarge, read_limited
from marketsync.pipelines.storefront_api.group_commit import GroupCommit, Overloaded
from marketsync.pipelines.storefront_api.openapi import openapi_document
from marketsync.pipelines.storefront_api.shop_keys import ShopKeys
from marketsync.resources.session_context import set_actor
from marketsync.resources.sql_files import query_beside
from marketsync.resources.vault import CredentialVault

log = logging.getLogger("marketsync.storefront_api")

ORDERS_PATH = "/stores/{store}/orders"
ORDER_PATH = "/stores/{store}/orders/{order_number}"
OPENAPI_PATH = "/openapi/storefront.json"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_BODY_BYTES = 1_000_000
ANSWER_TIMEOUT_SECONDS = 30.0
_KEY = re.compile(r"[!-~]{1,255}")


class Refused(Exception):
    def __init__(self, status: int, error: str, message: str, headers: dict[str, str] | None = None,
                 problems: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.answer = {"error": error, "message": message, **({"problems": problems} if problems else {})}
        self.status, self.headers = status, headers


def _unauthorized() -> Refused:
    return Refused(401, "unauthorized", "missing or wrong API key for this store",
                   headers={"WWW-Authenticate": 'Bearer realm="marketsync storefront"'})


def _unavailable(message: str) -> Refused:
    return Refused(503, "unavailable", message, headers={"Retry-After": "1"})


class _Json(JSONResponse):
    """A JSON answer rendered by orjson (the stdlib encoder is a tenth of an order's cost at a peak)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _respond(answer: Answer) -> JSONResponse:
    return _Json(answer.body, status_code=answer.status,
                 headers={REPLAYED_HEADER: "true"} if answer.replayed else None)


class StorefrontApi:
    def __init__(self, engine: Engine, vault: CredentialVault, intake: GroupCommit | None = None,
                 keys: ShopKeys | None = None):
        self.engine = engine
        self.keys = keys or ShopKeys(engine, vault)
        self.intake = intake or GroupCommit(engine)

    async def _account(self, request: Request) -> Account:
        """The store account the request's key opens; refusals for a wrong key or a disabled account."""
        scheme, _, presented = (request.headers.get("authorization") or "").partition(" ")
        presented = presented.strip()
        if scheme.lower() != "bearer" or not presented:
            raise _unauthorized()
        store = request.path_params["store"]
        shop = self.keys.cached(store)
        if shop is None or shop.keys is None or not shop.keys.accepts(presented):
            # Not known yet, or perhaps a key made since: read the vault again.
            shop = await self._in_thread(self.keys.read, store)
        if shop is None or shop.keys is None or not shop.keys.accepts(presented):
            raise _unauthorized()
        if not shop.account.enabled:
            raise Refused(403, "disabled", f"the storefront account of store '{store}' is disabled")
        return shop.account

    async def _in_thread(self, work: Callable[..., Any], *args: Any) -> Any:
        try:
            return await asyncio.wait_for(run_in_threadpool(work, *args), ANSWER_TIMEOUT_SECONDS)
        except TimeoutError:
            raise _unavailable("the database did not answer in time; retry (under the same Idempotency-Key)") from None
        except DBAPIError as exc:
            log.warning("storefront API: database error (%s)", type(exc).__name__)
            raise _unavailable("the database is unavailable; retry (under the same Idempotency-Key)") from None

    @staticmethod
    async def _body(request: Request) -> bytes:
        media_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise Refused(415, "unsupported_media_type", "send the body as application/json")
        try:
            return await read_limited(request.headers.get("content-length"), request.stream(), MAX_BODY_BYTES)
        except BodyTooLarge:
            raise Refused(413, "body_too_large", f"the body is over {MAX_BODY_BYTES} bytes") from None

    @staticmethod
    def _idempotency_key(request: Request, required: bool) -> str | None:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            if required:
                raise Refused(400, "missing_idempotency_key",
                              f"send an {IDEMPOTENCY_HEADER} header (a UUID per order): a retry with the same key "
                              f"is then answered, never applied, twice")
            return None
        if not _KEY.fullmatch(key):
            raise Refused(400, "invalid_idempotency_key", f"{IDEMPOTENCY_HEADER} must be 1 to 255 printable characters")
        return key

    @staticmethod
    def _invalid(exc: InvalidDocument, what: str) -> Refused:
        return Refused(422, f"invalid_{what}", str(exc), problems=[p.model_dump() for p in exc.problems])

    # ------------------------------------------------------------------------------------- routes
    async def post_order(self, request: Request) -> Response:
        body = await self._body(request)
        account = await self._account(request)
        key = self._idempotency_key(request, required=True)
        try:
            order = parse_order(body)
        except InvalidDocument as exc:
            raise self._invalid(exc, "order") from None
        try:
            async with asyncio.timeout(ANSWER_TIMEOUT_SECONDS):  # no task of its own, unlike wait_for
                answer = await self.intake.submit(Submission.of(account, key, order))
        except Overloaded:
            raise _unavailable("too many orders are waiting to be written; retry in a second") from None
        except TimeoutError:
            raise _unavailable("the order was not confirmed in time; retry under the same Idempotency-Key") from None
        except DBAPIError:
            raise _unavailable("the database is unavailable; retry under the same Idempotency-Key") from None
        return _respond(answer)

    async def get_order(self, request: Request) -> Response:
        account = await self._account(request)
        number = request.path_params["order_number"]
        answer = await self._in_thread(self._read_order, account, number)
        return _respond(answer)

    def _read_order(self, account: Account, number: str) -> Answer:
        with self.engine.begin() as conn:
            order_id = conn.execute(query_beside(__file__, "order_id.sql"),
                                    {"a": account.account_id, "number": number}).scalar()
            if order_id is None:
                return Answer(404, {"error": "unknown_order", "message": f"no order {number} from this store's shop"})
            return Answer(200, order_answers(conn, [order_id])[order_id])

    async def patch_order(self, request: Request) -> Response:
        body = await self._body(request)
        account = await self._account(request)
        key = self._idempotency_key(request, required=False)
        try:
            change = parse_status_change(body)
        except InvalidDocument as exc:
            raise self._invalid(exc, "change") from None
        number = request.path_params["order_number"]

        def apply() -> Answer:
            with self.engine.begin() as conn:
                set_actor(conn, "storefront API")
                return change_status(conn, account, number, change, key)

        return _respond(await self._in_thread(apply))

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(openapi_document())


def _answering_refusals(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except Refused as refused:
            log.info("storefront %s %s: %s %s", request.method, request.url.path, refused.status,
                     refused.answer["error"])
            return _Json(refused.answer, status_code=refused.status, headers=refused.headers)
    return endpoint


def storefront_routes(engine: Engine, vault: CredentialVault, *, intake: GroupCommit | None = None,
                      keys: ShopKeys | None = None) -> list[Route]:
    """The routes of the storefront order API (mounted in `marketsync serve`'s app)."""
    api = StorefrontApi(engine, vault, intake, keys)
    return [
        Route(ORDERS_PATH, _answering_refusals(api.post_order), methods=["POST"]),
        Route(ORDER_PATH, _answering_refusals(api.get_order), methods=["GET"]),
        Route(ORDER_PATH, _answering_refusals(api.patch_order), methods=["PATCH"]),
        Route(OPENAPI_PATH, api.openapi, methods=["GET"]),
    ]
