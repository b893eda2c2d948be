"""The eBay sandbox over HTTP: the OAuth token endpoint, the Sell Fulfillment and Sell Inventory
subsets marketsync uses, the Developer Analytics rate-limit reads, and the admin routes.

OAuth (application keyset in HTTP Basic, form body):
  POST /identity/v1/oauth2/token    grant_type=refresh_token (refresh_token, scope) -> {"access_token",
                                    "expires_in", "token_type": "User Access Token"}; authorization_code
                                    (code, redirect_uri); client_credentials (scope) -> "Application Access Token"

Fulfillment API (Bearer user token; sell.fulfillment, or sell.fulfillment.readonly to read):
  GET  /sell/fulfillment/v1/order                                     getOrders (filter, limit, offset,
                                                                      orderIds, fieldGroups)
  GET  /sell/fulfillment/v1/order/{orderId}                           getOrder
  GET  /sell/fulfillment/v1/order/{orderId}/shipping_fulfillment      getShippingFulfillments
  POST /sell/fulfillment/v1/order/{orderId}/shipping_fulfillment      createShippingFulfillment -> 201, Location, {}
  GET  /sell/fulfillment/v1/order/{orderId}/shipping_fulfillment/{fulfillmentId}
                                                                      getShippingFulfillment

Inventory API (Bearer user token; sell.inventory, or sell.inventory.readonly to read):
  PUT    /sell/inventory/v1/inventory_item/{sku}          createOrReplaceInventoryItem -> 204
                                                          (Content-Language required)
  GET    /sell/inventory/v1/inventory_item/{sku}          getInventoryItem
  DELETE /sell/inventory/v1/inventory_item/{sku}          deleteInventoryItem -> 204
  GET    /sell/inventory/v1/inventory_item                getInventoryItems (limit, offset)
  POST   /sell/inventory/v1/bulk_update_price_quantity    bulkUpdatePriceQuantity -> 200 / 207
  POST   /sell/inventory/v1/bulk_get_inventory_item       bulkGetInventoryItem -> 200 / 207
  GET    /sell/inventory/v1/offer                         getOffers (sku, marketplace_id, format, limit, offset)

Developer Analytics API:
  GET /developer/analytics/v1_beta/rate_limit/            getRateLimits (application token, api_scope)
  GET /developer/analytics/v1_beta/user_rate_limit/       getUserRateLimits (user token)

Every API answer passes, in this order: an armed fault, the access token (401 errorId 1001/1002), its
scopes (403 errorId 1100), the daily quotas (429 errorId 2001), then the operation. Errors are eBay's
`{"errors": [{"errorId", "domain", "category", "message", ...}]}`.

Admin routes (no token, loopback clients only), under /_sandbox/: see README.md.
"""

import logging
from functools import partial
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..admin import admin_route, faults_route, json_response, stats_route
from ..http import oversized_json, pause
from .state import (
    ACCESS_DENIED,
    APP_SCOPE,
    FULFILLMENT_READ_SCOPE,
    FULFILLMENT_SCOPE,
    INVALID_TOKEN,
    INVENTORY_READ_SCOPE,
    INVENTORY_SCOPE,
    MISSING_TOKEN,
    ROUTES,
    USER_SCOPES,
    WRONG_ANSWERS,
    ApiError,
    EbayState,
    Fault,
    basic_credentials,
    fulfillment_error,
    inventory_error,
    oauth_error,
    system_error,
    too_many_requests,
)

FULFILLMENT = "/sell/fulfillment/v1"
INVENTORY = "/sell/inventory/v1"
ANALYTICS = "/developer/analytics/v1_beta"
TOKEN_PATH = "/identity/v1/oauth2/token"

_READ_FULFILLMENT = frozenset({FULFILLMENT_SCOPE, FULFILLMENT_READ_SCOPE})
_WRITE_FULFILLMENT = frozenset({FULFILLMENT_SCOPE})
_READ_INVENTORY = frozenset({INVENTORY_SCOPE, INVENTORY_READ_SCOPE})
_WRITE_INVENTORY = frozenset({INVENTORY_SCOPE})
# The scopes a route accepts (any one of them) and whether it needs a user (not an application) token.
ROUTE_SCOPES = {
    "getOrders": (_READ_FULFILLMENT, True), "getOrder": (_READ_FULFILLMENT, True),
    "getShippingFulfillments": (_READ_FULFILLMENT, True), "getShippingFulfillment": (_READ_FULFILLMENT, True),
    "createShippingFulfillment": (_WRITE_FULFILLMENT, True),
    "createOrReplaceInventoryItem": (_WRITE_INVENTORY, True), "deleteInventoryItem": (_WRITE_INVENTORY, True),
    "bulkUpdatePriceQuantity": (_WRITE_INVENTORY, True), "getInventoryItem": (_READ_INVENTORY, True),
    "getInventoryItems": (_READ_INVENTORY, True), "bulkGetInventoryItem": (_READ_INVENTORY, True),
    "getOffers": (_READ_INVENTORY, True),
    "getRateLimits": (frozenset({APP_SCOPE}), False),
    "getUserRateLimits": (frozenset(USER_SCOPES) - {APP_SCOPE}, True),
}

_HTML = {502: "502 Bad Gateway", 503: "503 Service Unavailable", 504: "504 Gateway Time-out"}


def _html(status: int, headers: dict | None = None) -> Response:
    title = _HTML[status]
    return Response(f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>", status,
                    headers, media_type="text/html")


def _error(error: ApiError) -> Response:
    return json_response(error.body(), error.status, error.headers)


def _api_error(error: Exception) -> Response | None:
    return _error(error) if isinstance(error, ApiError) else None


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class _AnswerLost(Exception):
    """Raised mid-response so the server drops the connection (apply_then_drop, then="close")."""


class _QuietDrop(logging.Filter):
    """uvicorn logs a traceback for a response cut short on purpose; not for ours."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], _AnswerLost))


_QUIET_DROP = _QuietDrop()


class _CutResponse(Response):
    """Announces a longer body than it sends, sends part of it, then the connection dies. An answer
    without a body (204) is announced as a 200 with a JSON body, so that it too arrives broken."""

    def __init__(self, original: Response):
        body = original.body or b"{}"
        status = original.status_code if original.body else 200
        super().__init__(body, status, media_type="application/json")
        kept = [(k, v) for k, v in original.raw_headers if k.lower() not in (b"content-length", b"content-type")]
        self.raw_headers = [*kept, (b"content-type", b"application/json"),
                            (b"content-length", str(len(body) + 64).encode())]

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": True})
        raise _AnswerLost


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def _json_body(request: Request, api: str):
    raw = await request.body()
    try:
        return orjson.loads(raw) if raw.strip() else None
    except orjson.JSONDecodeError:
        if api == "fulfillment":
            raise fulfillment_error(400, 32600, "Invalid input data",
                                    long_message="The request body is not JSON") from None
        raise inventory_error(400, 25604, "Input error. The request body is not valid JSON.") from None


def _wrong_answer(fault, response: Response) -> Response:
    """What a wrong-answer fault makes of a real 200 answer (see Fault)."""
    if fault.kind == "not_json":
        return Response("<html><body>Service temporarily unavailable (sandbox fault)</body></html>",
                        200, media_type="text/html")
    body = orjson.loads(response.body)
    if fault.kind == "huge_answer":
        return oversized_json(body, fault.size_mib or 64.0)
    if fault.kind == "repeat_next" and body.get("href"):
        body["next"] = body["href"]
    if fault.kind == "null_list":
        for key in ("orders", "offers", "fulfillments"):
            if key in body:
                body[key] = None
    return json_response(body)


def create_app(state: EbayState) -> Starlette:  # noqa: C901 - the count takes in the nested route handlers; each alone is under 20
    """The eBay sandbox ASGI app serving `state`."""
    logging.getLogger("uvicorn.error").addFilter(_QUIET_DROP)  # no-op when already there

    async def misbehave(request: Request, route: str, fault: Fault) -> Response | None:
        """The response a fault replaces the real one with, or None to carry on."""
        api = ROUTES[route]
        if fault.kind == "http_500":
            if route == "token":
                return json_response(oauth_error("server_error", "internal server error (sandbox fault)"), 500)
            return _error(system_error(api))
        if fault.kind in ("http_502", "http_504"):
            return _html(int(fault.kind[-3:]))
        if fault.kind == "http_503":
            return _html(503, {"Retry-After": _seconds(fault.retry_after)} if fault.retry_after is not None else None)
        if fault.kind == "http_429":
            headers = {"Retry-After": _seconds(fault.retry_after)} if fault.retry_after is not None else None
            return _error(too_many_requests(headers))
        if fault.kind == "expire_tokens":
            state.expire_access_tokens()
        elif fault.kind == "slow":
            await pause(request, fault.seconds, until_disconnect=False)
        elif fault.kind == "hang":
            await pause(request, fault.seconds, until_disconnect=True)
            return _html(504)
        return None  # apply_then_drop acts after the operation

    async def lose(request: Request, fault: Fault, response: Response) -> Response:
        """The answer of an operation that took effect but whose response goes missing."""
        with state.lock:
            state.counters.answers_dropped += 1
        if fault.then == "502":
            return _html(502)
        if fault.then == "hang":
            await pause(request, fault.seconds or 300.0, until_disconnect=True)
            return _html(504)
        return _CutResponse(response)

    def authenticate(request: Request, route: str):
        """(the refusal to answer, or None; the token's record)."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if not scheme:
            return _error(ApiError(401, [MISSING_TOKEN])), None
        status, record = state.access(token.strip() if scheme.lower() == "bearer" else "\0")
        if status != "valid":
            return _error(ApiError(401, [MISSING_TOKEN if status == "missing" else INVALID_TOKEN])), None
        needed, user_only = ROUTE_SCOPES[route]
        if not (record.scopes & needed) or (user_only and record.user is None):
            return _error(ApiError(403, [ACCESS_DENIED])), None
        return None, record

    def api(route: str, handler):
        async def endpoint(request: Request) -> Response:
            fault = state.take_fault(route)
            response = await misbehave(request, route, fault) if fault is not None else None
            lost = fault if fault is not None and fault.kind == "apply_then_drop" else None
            if response is None:
                response, record = authenticate(request, route)
                if response is None:
                    refusal = state.charge(route, record.client_id, record.user)
                    if refusal is not None:
                        response = _error(refusal)
                    else:
                        try:
                            response = await handler(request, record)
                        except ApiError as error:
                            response = _error(error)
                        if lost is not None and response.status_code < 400:
                            response = await lose(request, lost, response)
                        if fault is not None and fault.kind in WRONG_ANSWERS and response.status_code == 200:
                            response = _wrong_answer(fault, response)
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            state.record(route, request.method, target, response.status_code)
            return response
        return endpoint

    def locked(producer, status: int = 200, headers: dict | None = None) -> Response:
        """The JSON answer of `producer()`, built and encoded under the state's lock."""
        with state.lock:
            return json_response(producer(), status, headers)

    # ------------------------------------------------------------------ OAuth
    async def token(request: Request) -> Response:
        fault = state.take_fault("token")
        response = await misbehave(request, "token", fault) if fault is not None else None
        if response is None:
            client_id, client_secret = basic_credentials(request.headers.get("authorization"))
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            raw = await request.body()
            if not state.check_client(client_id, client_secret):
                response = json_response(oauth_error("invalid_client", "client authentication failed"), 401)
            elif content_type != "application/x-www-form-urlencoded":
                response = json_response(oauth_error("invalid_request", "the request must be "
                                                     "application/x-www-form-urlencoded"), 400)
            else:
                refusal = state.charge("token", client_id, None)
                if refusal is not None:
                    response = _error(refusal)
                else:
                    form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
                    status, body = state.token_request(client_id, form)
                    response = json_response(body, status)
            if fault is not None and fault.kind == "apply_then_drop" and response.status_code < 400:
                response = await lose(request, fault, response)
        state.record("token", "POST", TOKEN_PATH, response.status_code)
        return response

    # ------------------------------------------------------------------ Fulfillment
    async def get_orders(request: Request, record) -> Response:
        q = request.query_params
        return locked(lambda: state.search_orders(_base_url(request), q.get("filter"), q.get("limit"),
                                                  q.get("offset"), q.get("orderIds"), q.get("fieldGroups")))

    async def get_order(request: Request, record) -> Response:
        return locked(lambda: state.get_order(_base_url(request), request.path_params["order_id"],
                                              request.query_params.get("fieldGroups")))

    async def get_fulfillments(request: Request, record) -> Response:
        return locked(lambda: state.get_fulfillments(request.path_params["order_id"]))

    async def get_fulfillment(request: Request, record) -> Response:
        return locked(lambda: state.get_fulfillment(request.path_params["order_id"],
                                                    request.path_params["fulfillment_id"]))

    async def create_fulfillment(request: Request, record) -> Response:
        body = await _json_body(request, "fulfillment")
        order_id = request.path_params["order_id"]
        fulfillment = state.create_fulfillment(order_id, body)
        location = (f"{_base_url(request)}{FULFILLMENT}/order/{order_id}/shipping_fulfillment/"
                    f"{fulfillment['fulfillmentId']}")
        return json_response({}, 201, {"Location": location})

    # ------------------------------------------------------------------ Inventory
    async def put_item(request: Request, record) -> Response:
        body = await _json_body(request, "inventory")
        language = request.headers.get("content-language")
        status = state.put_inventory_item(request.path_params["sku"], body, language)
        return Response(status_code=status, headers={"Content-Language": language})

    async def get_item(request: Request, record) -> Response:
        return locked(lambda: state.get_inventory_item(request.path_params["sku"]))

    async def delete_item(request: Request, record) -> Response:
        state.delete_inventory_item(request.path_params["sku"])
        return Response(status_code=204)

    async def get_items(request: Request, record) -> Response:
        q = request.query_params
        return locked(lambda: state.list_inventory_items(_base_url(request), q.get("limit"), q.get("offset")))

    async def bulk_update(request: Request, record) -> Response:
        body = await _json_body(request, "inventory")
        with state.lock:
            status, answer = state.bulk_update_price_quantity(body)
            return json_response(answer, status)

    async def bulk_get(request: Request, record) -> Response:
        body = await _json_body(request, "inventory")
        with state.lock:
            status, answer = state.bulk_get(body)
            return json_response(answer, status)

    async def get_offers(request: Request, record) -> Response:
        q = request.query_params
        return locked(lambda: state.get_offers(_base_url(request), q.get("sku"), q.get("marketplace_id"),
                                               q.get("format"), q.get("limit"), q.get("offset")))

    # ------------------------------------------------------------------ Analytics
    async def rate_limits(request: Request, record) -> Response:
        q = request.query_params
        return locked(lambda: state.rate_limits(record.client_id, None, q.get("api_name"), q.get("api_context")))

    async def user_rate_limits(request: Request, record) -> Response:
        q = request.query_params
        return locked(lambda: state.rate_limits(record.client_id, record.user, q.get("api_name"),
                                                q.get("api_context")))

    # ------------------------------------------------------------------ admin
    admin = partial(admin_route, on_error=_api_error)

    async def grant(request: Request, body) -> Response:
        kwargs = {k: body[k] for k in ("user", "scopes", "client_id") if k in body}
        return json_response(state.grant(**kwargs))

    async def authorize(request: Request, body) -> Response:
        kwargs = {k: body[k] for k in ("user", "scopes", "client_id", "redirect_uri") if k in body}
        return json_response({"code": state.authorize(**kwargs)})

    async def expire(request: Request, body) -> Response:
        state.expire_access_tokens()
        return json_response({"expired": True})

    async def add_order(request: Request, body) -> Response:
        lines = [tuple(line) for line in body["lines"]] if body.get("lines") else None
        return json_response({"orderId": state.add_order(lines)})

    async def touch_order(request: Request, body) -> Response:
        return json_response({"lastModifiedDate": state.touch_order(request.path_params["order_id"])})

    async def update_order(request: Request, body) -> Response:
        kwargs = {k: body[k] for k in ("ship_to", "payment_status", "buyer_checkout_notes") if k in body}
        return json_response(state.update_order(request.path_params["order_id"], **kwargs))

    async def cancel_order(request: Request, body) -> Response:
        kwargs = {k: body[k] for k in ("completed", "initiator", "reason") if k in body}
        return json_response(state.cancel_order(request.path_params["order_id"], **kwargs))

    async def ship_order(request: Request, body) -> Response:
        lines = [tuple(line) for line in body["lines"]] if body.get("lines") else None
        return json_response(state.ship_order(request.path_params["order_id"], body.get("tracking_number"),
                                              body.get("carrier", "DHL"), lines))

    async def reject(request: Request, body) -> Response:
        kwargs = {k: body[k] for k in ("status", "error_id", "message") if k in body}
        state.reject_sku(request.path_params["sku"], **kwargs)
        return json_response({"rejected": sorted(state.rejections)})

    async def clear_rejections(request: Request, body) -> Response:
        state.clear_rejections()
        return json_response({"rejected": []})

    async def add_offer(request: Request, body) -> Response:
        kwargs = {k: body[k] for k in ("available_quantity", "price") if k in body}
        return json_response({"offerId": state.add_offer(request.path_params["sku"], **kwargs)})

    async def forget_offer(request: Request, body) -> Response:
        state.forget_offer(request.path_params["offer_id"])
        return json_response({"forgotten": request.path_params["offer_id"]})

    async def quotas(request: Request, body) -> Response:
        if request.method == "POST":
            if "api" in body:
                state.set_quota(body["api"], body.get("limit"), body.get("per", "application"))
            if "retry_after" in body:
                state.quota_retry_after = body["retry_after"]
        with state.lock:
            stats = state.stats()
            return json_response({"quotas": state.quotas, "user_quotas": state.user_quotas,
                                  "retry_after": state.quota_retry_after, "quota_day": stats["quota_day"],
                                  "usage": stats["quota_usage"]})

    async def reset_quotas(request: Request, body) -> Response:
        state.reset_quotas()
        return json_response({"reset": True})

    async def reset(request: Request, body) -> Response:
        state.reset(body.get("seed"), body.get("orders"), body.get("skus"))
        return json_response({"seed": state.seed, "orders": state.order_count, "skus": state.sku_count})

    order_path = f"{FULFILLMENT}/order/{{order_id}}"
    routes = [
        Route(TOKEN_PATH, token, methods=["POST"]),
        Route(f"{FULFILLMENT}/order", api("getOrders", get_orders), methods=["GET"]),
        Route(order_path, api("getOrder", get_order), methods=["GET"]),
        Route(f"{order_path}/shipping_fulfillment", api("getShippingFulfillments", get_fulfillments), methods=["GET"]),
        Route(f"{order_path}/shipping_fulfillment", api("createShippingFulfillment", create_fulfillment),
              methods=["POST"]),
        Route(f"{order_path}/shipping_fulfillment/{{fulfillment_id}}", api("getShippingFulfillment", get_fulfillment),
              methods=["GET"]),
        Route(f"{INVENTORY}/inventory_item", api("getInventoryItems", get_items), methods=["GET"]),
        Route(f"{INVENTORY}/inventory_item/{{sku}}", api("createOrReplaceInventoryItem", put_item), methods=["PUT"]),
        Route(f"{INVENTORY}/inventory_item/{{sku}}", api("getInventoryItem", get_item), methods=["GET"]),
        Route(f"{INVENTORY}/inventory_item/{{sku}}", api("deleteInventoryItem", delete_item), methods=["DELETE"]),
        Route(f"{INVENTORY}/bulk_update_price_quantity", api("bulkUpdatePriceQuantity", bulk_update),
              methods=["POST"]),
        Route(f"{INVENTORY}/bulk_get_inventory_item", api("bulkGetInventoryItem", bulk_get), methods=["POST"]),
        Route(f"{INVENTORY}/offer", api("getOffers", get_offers), methods=["GET"]),
        Route(f"{ANALYTICS}/rate_limit/", api("getRateLimits", rate_limits), methods=["GET"]),
        Route(f"{ANALYTICS}/user_rate_limit/", api("getUserRateLimits", user_rate_limits), methods=["GET"]),
        stats_route(state, on_error=_api_error),
        faults_route(state, on_error=_api_error),
        Route("/_sandbox/grant", admin(grant), methods=["POST"]),
        Route("/_sandbox/authorize", admin(authorize), methods=["POST"]),
        Route("/_sandbox/expire-tokens", admin(expire), methods=["POST"]),
        Route("/_sandbox/orders", admin(add_order), methods=["POST"]),
        Route("/_sandbox/orders/{order_id}/touch", admin(touch_order), methods=["POST"]),
        Route("/_sandbox/orders/{order_id}/update", admin(update_order), methods=["POST"]),
        Route("/_sandbox/orders/{order_id}/cancel", admin(cancel_order), methods=["POST"]),
        Route("/_sandbox/orders/{order_id}/ship", admin(ship_order), methods=["POST"]),
        Route("/_sandbox/inventory/rejections", admin(clear_rejections), methods=["DELETE"]),
        Route("/_sandbox/inventory/{sku}/reject", admin(reject), methods=["POST"]),
        Route("/_sandbox/inventory/{sku}/offers", admin(add_offer), methods=["POST"]),
        Route("/_sandbox/offers/{offer_id}/forget", admin(forget_offer), methods=["POST"]),
        Route("/_sandbox/quotas", admin(quotas), methods=["GET", "POST"]),
        Route("/_sandbox/quotas/reset", admin(reset_quotas), methods=["POST"]),
        Route("/_sandbox/reset", admin(reset), methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.ebay = state
    return app


__all__ = ["EbayState", "Fault", "create_app"]
