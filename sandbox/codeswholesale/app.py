"""The CodesWholesale v3 sandbox over HTTP.

Public routes, as documented for the real service:
  POST /oauth/token              client credentials (form body, query string or HTTP Basic) -> access token
  GET  /v3/products              the price list, paged by `continuationToken`; filters platform, region,
                                 language, productIds, inStockDaysAgo
  GET  /v3/products/{productId}  one product
  GET  /v3/accounts/current      the account (balance and credit)
  POST /v3/orders                buy keys: {"allowPreOrder", "orderId" (the buyer's own id, answered as
                                 clientOrderId), "products": [{"productId", "quantity", "price"}]}; charges
                                 the account and answers the order (status, totalPrice, codes per product)
  GET  /v3/orders                the order history, `startFrom` / `endOn` (a date or a date-time) -> {"items"}
  GET  /v3/orders/{orderId}      one order, its codes once it is Completed
  GET  /v3/codes/{codeId}        one code bought
  GET  /v3/platforms | /v3/regions | /v3/languages

Admin routes (no token, loopback clients only):
  GET  /_sandbox/stats           counters
  GET|POST|DELETE /_sandbox/faults   list, arm ({"kind": ..., "count"?, "skip"?, "target"?, "retry_after"?,
                                 "seconds"?, "reads"?}), clear
  POST /_sandbox/advance         {"generations"?: 1}: the price list drifts
  POST /_sandbox/reset           {"seed"?, "size"?}
  GET  /_sandbox/orders          every order (with its codes), every charge, the account
  POST /_sandbox/account         {"balance"?, "credit"?}: what the account holds
  POST /_sandbox/price           {"productId", "value"}: a product's price changes in the price list
  POST /_sandbox/pre_orders      {"productId"?}: pre-ordered keys are delivered
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from datetime import UTC, date, datetime, time
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..admin import admin_route, faults_route, json_response, stats_route
from ..http import pause
from .data import LANGUAGES, PLATFORMS, REGIONS
from .orders import CODE_NOT_FOUND, INVALID_REQUEST, OrderRefused
from .state import CodesWholesaleState, Fault

_FILTERS = ("platform", "region", "language", "productIds", "inStockDaysAgo")


def _retry_after_header(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


def _client_credentials(request: Request, body: bytes) -> tuple[str | None, str | None, str | None]:
    """(grant_type, client_id, client_secret) from the form body, the query string or HTTP Basic."""
    fields = dict(request.query_params)
    if body:
        fields.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and "client_id" not in fields:
        try:
            client_id, _, client_secret = base64.b64decode(encoded).decode().partition(":")
            fields.update(client_id=client_id, client_secret=client_secret)
        except (binascii.Error, UnicodeDecodeError):
            pass
    return fields.get("grant_type"), fields.get("client_id"), fields.get("client_secret")


def _moment(value: str | None, end: bool) -> datetime | None:
    """A window bound of the order history: a date (its first or, for `end`, its last moment) or an
    ISO 8601 date-time (UTC when it names no offset). ValueError when it is neither."""
    if not value:
        return None
    if len(value) == 10:
        day = date.fromisoformat(value)
        return datetime.combine(day, time.max if end else time.min, UTC)
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


class _AnswerLost(Exception):
    """Raised mid-answer so the server drops the connection (the lost_answer fault)."""


class _QuietDrop(logging.Filter):
    """uvicorn logs a traceback for an answer cut short on purpose; not for ours."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], _AnswerLost))


_QUIET_DROP = _QuietDrop()


class _CutAnswer(Response):
    """Announces the whole answer, sends half of it, then the connection dies: the request was carried
    out, the client never learns how."""

    def __init__(self, original: Response):
        super().__init__(original.body, original.status_code, media_type="application/json")
        kept = [(k, v) for k, v in self.raw_headers if k.lower() != b"content-length"]
        self.raw_headers = [*kept, (b"content-length", str(len(original.body) + 64).encode())]

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": True})
        raise _AnswerLost


def _refused(refusal: OrderRefused) -> Response:
    return json_response(refusal.body(), refusal.status)


def create_app(state: CodesWholesaleState) -> Starlette:  # noqa: C901 - the count takes in the nested route handlers; each alone is under 20
    """The CodesWholesale sandbox ASGI app serving `state`."""
    logging.getLogger("uvicorn.error").addFilter(_QUIET_DROP)  # no-op when already there

    async def misbehave(fault: Fault) -> Response | None:
        """What a fault does before the request is carried out: an answer in its place, or None."""
        if fault.kind == "http_429":
            return json_response({"message": "Too many requests (sandbox fault)"}, 429,
                                 {"Retry-After": _retry_after_header(fault.retry_after)})
        if fault.kind == "http_500":
            return json_response({"message": "Internal server error (sandbox fault)"}, 500)
        if fault.kind in ("http_502", "http_504"):
            status = int(fault.kind[-3:])
            title = {502: "Bad Gateway", 504: "Gateway Time-out"}[status]
            return Response(f"<html><body>{status} {title}</body></html>", status, media_type="text/html")
        if fault.kind == "http_503":
            headers = {"Retry-After": _retry_after_header(fault.retry_after)} if fault.retry_after else None
            return json_response({"message": "Service unavailable (sandbox fault)"}, 503, headers)
        if fault.kind == "expire_tokens":
            state.expire_tokens()  # the request carries on and meets its expired token
        elif fault.kind == "slow" and fault.target != "place_order":
            await asyncio.sleep(fault.seconds)
        return None

    async def afterwards(fault: Fault, request: Request, response: Response) -> Response:
        """What a fault does to the answer of a request carried out (an order placed and charged)."""
        if response.status_code >= 400:
            return response
        if fault.kind == "lost_answer":
            return _CutAnswer(response)
        if fault.kind == "slow_answer":
            await pause(request, fault.seconds, until_disconnect=True)
        return response

    def unauthorized(request: Request) -> Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        status = state.token_status(token.strip() if scheme.lower() == "bearer" else None)
        if status == "valid":
            return None
        description = {"expired": "Access token expired", "invalid": "Invalid access token"}[status]
        return json_response({"error": "invalid_token", "error_description": description}, 401,
                             {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'})

    def recorded(route: str, target: str, handler):
        async def endpoint(request: Request) -> Response:
            fault = state.take_fault(target)
            request.state.fault = fault
            response = await misbehave(fault) if fault is not None else None
            if response is None and target != "token":
                response = unauthorized(request)
            if response is None:
                response = await handler(request)
                if fault is not None:
                    response = await afterwards(fault, request, response)
            state.record(route, response.status_code)
            return response
        return endpoint

    async def token(request: Request) -> Response:
        grant_type, client_id, client_secret = _client_credentials(request, await request.body())
        if grant_type != "client_credentials":
            return json_response({"error": "unsupported_grant_type",
                                  "error_description": "Only client_credentials is supported"}, 400)
        issued = state.issue_token(client_id, client_secret)
        if issued is None:
            return json_response({"error": "invalid_client", "error_description": "Bad client credentials"}, 401)
        return json_response(issued, headers={"Cache-Control": "no-store"})

    async def products(request: Request) -> Response:
        params = request.query_params
        filters = {name: params[name] for name in _FILTERS if params.get(name)}
        days = filters.get("inStockDaysAgo")
        if days is not None and not (days.isdigit() and 0 <= int(days) <= 60):
            return json_response({"message": "inStockDaysAgo must be a whole number from 0 to 60"}, 400)
        try:
            page = state.page(params.get("continuationToken"), filters)
        except KeyError:
            return json_response({"message": "Invalid continuationToken"}, 400)
        return json_response(page)

    async def product(request: Request) -> Response:
        found = state.product(request.path_params["product_id"])
        if found is None:
            return json_response({"message": "Product not found"}, 404)
        return json_response(found)

    async def account(request: Request) -> Response:
        return json_response(state.account())

    async def place_order(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _refused(OrderRefused(400, INVALID_REQUEST, "The order request is not JSON"))
        fault = request.state.fault
        if fault is not None and fault.kind == "slow":
            # The body is in hand: the order is placed after the wait even when the client hung up.
            await asyncio.sleep(fault.seconds)
        delay = fault.reads if fault is not None and fault.kind == "delay_codes" else None
        try:
            return json_response(state.place_order(body, _base_url(request), codes_after_reads=delay))
        except OrderRefused as refusal:
            return _refused(refusal)

    async def order(request: Request) -> Response:
        found = state.read_order(request.path_params["order_id"], _base_url(request))
        if found is None:
            return json_response({"status": 404, "code": None, "message": "Order not found"}, 404)
        return json_response(found)

    async def order_history(request: Request) -> Response:
        params = request.query_params
        try:
            start, end = _moment(params.get("startFrom"), False), _moment(params.get("endOn"), True)
        except ValueError:
            return _refused(OrderRefused(400, INVALID_REQUEST, "startFrom and endOn must be dates or date-times"))
        return json_response(state.order_history(start, end, _base_url(request)))

    async def code(request: Request) -> Response:
        found = state.read_code(request.path_params["code_id"], _base_url(request))
        if found is None:
            return _refused(OrderRefused(404, CODE_NOT_FOUND, "Code not found"))
        return json_response(found)

    async def platforms(request: Request) -> Response:
        return json_response({"platforms": [name for name, _ in PLATFORMS]})

    async def regions(request: Request) -> Response:
        return json_response({"regions": list(REGIONS)})

    async def languages(request: Request) -> Response:
        return json_response({"languages": ["Multilanguage", *LANGUAGES]})

    async def advance(request: Request, body) -> Response:
        changed = state.advance(int(body.get("generations", 1)))
        return json_response({"generation": state.generation, "changed": changed})

    async def reset(request: Request, body) -> Response:
        state.reset(body.get("seed"), body.get("size"))
        return json_response({"seed": state.seed, "size": state.size})

    async def orders_admin(request: Request, body) -> Response:
        return json_response(state.orders_json(_base_url(request)))

    async def account_admin(request: Request, body) -> Response:
        return json_response(state.set_balance(body.get("balance"), body.get("credit")))

    async def price_admin(request: Request, body) -> Response:
        return json_response({"productId": body["productId"],
                              "prices": state.change_price(body["productId"], float(body["value"]))})

    async def pre_orders_admin(request: Request, body) -> Response:
        return json_response({"delivered": state.release_pre_orders(body.get("productId"))})

    routes = [
        Route("/oauth/token", recorded("token", "token", token), methods=["POST"]),
        Route("/v3/products", recorded("products", "products", products), methods=["GET"]),
        Route("/v3/products/{product_id}", recorded("product", "product", product), methods=["GET"]),
        Route("/v3/accounts/current", recorded("account", "account", account), methods=["GET"]),
        Route("/v3/orders", recorded("place_order", "place_order", place_order), methods=["POST"]),
        Route("/v3/orders", recorded("order_history", "order_history", order_history), methods=["GET"]),
        Route("/v3/orders/{order_id}", recorded("order", "order", order), methods=["GET"]),
        Route("/v3/codes/{code_id}", recorded("code", "code", code), methods=["GET"]),
        Route("/v3/platforms", recorded("platforms", "platforms", platforms), methods=["GET"]),
        Route("/v3/regions", recorded("regions", "regions", regions), methods=["GET"]),
        Route("/v3/languages", recorded("languages", "languages", languages), methods=["GET"]),
        stats_route(state),
        faults_route(state),
        Route("/_sandbox/advance", admin_route(advance), methods=["POST"]),
        Route("/_sandbox/reset", admin_route(reset), methods=["POST"]),
        Route("/_sandbox/orders", admin_route(orders_admin), methods=["GET"]),
        Route("/_sandbox/account", admin_route(account_admin), methods=["POST"]),
        Route("/_sandbox/price", admin_route(price_admin), methods=["POST"]),
        Route("/_sandbox/pre_orders", admin_route(pre_orders_admin), methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.codeswholesale = state
    return app


__all__ = ["CodesWholesaleState", "Fault", "create_app"]
