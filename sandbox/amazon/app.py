"""The Amazon sandbox over HTTP: Login with Amazon's token endpoint, the Selling Partner API operations
marketsync uses, the presigned document URLs behind the Feeds API, Amazon's static sandbox and the
admin routes.

A client talks to it exactly as to Amazon; only the base URLs differ (the LWA endpoint
`https://api.amazon.com/auth/o2/token` becomes `{base}/auth/o2/token`, the regional SP-API endpoint
`https://sellingpartnerapi-eu.amazon.com` becomes `{base}`, the static sandbox endpoint
`https://sandbox.sellingpartnerapi-eu.amazon.com` becomes `{base}/static-sandbox`).

LWA:
  POST /auth/o2/token            form body grant_type=refresh_token, refresh_token, client_id, client_secret
                                 -> {"access_token", "refresh_token", "token_type": "bearer", "expires_in"}

SP-API (header x-amz-access-token; every answer carries x-amzn-RequestId and x-amzn-RateLimit-Limit):
  GET    /orders/2026-01-01/orders                              searchOrders
  GET    /orders/2026-01-01/orders/{orderId}                    getOrder
  POST   /orders/v0/orders/{orderId}/shipmentConfirmation       confirmShipment -> 204
  GET    /listings/2021-08-01/items/{sellerId}/{sku}            getListingsItem
  PATCH  /listings/2021-08-01/items/{sellerId}/{sku}            patchListingsItem
  POST   /feeds/2021-06-30/documents                            createFeedDocument -> 201
  GET    /feeds/2021-06-30/documents/{feedDocumentId}           getFeedDocument
  POST   /feeds/2021-06-30/feeds                                createFeed -> 202
  GET    /feeds/2021-06-30/feeds/{feedId}                       getFeed
  DELETE /feeds/2021-06-30/feeds/{feedId}                       cancelFeed

Presigned document URLs (what createFeedDocument / getFeedDocument hand out; no access token):
  PUT    /s3/documents/{documentId}?X-Amz-...                   upload (Content-Type as declared)
  GET    /s3/documents/{documentId}?X-Amz-...                   download

Static sandbox (needs loaded vectors and an access token):
  *      /static-sandbox/{any SP-API path}

Admin (loopback only, no token):
  GET  /_sandbox/stats
  GET|POST|DELETE /_sandbox/faults                    {"kind", "count"?, "skip"?, "target"?, "retry_after"?, "seconds"?,
                                                       "then"?}
  POST /_sandbox/authorize                            {"seller_id"?, "client_id"?} -> {"refresh_token"}
  POST /_sandbox/expire-tokens
  POST /_sandbox/clock                                {"advance": seconds} -> {"now"}
  POST /_sandbox/orders                               {"items"?: [{"sku", "quantity"}], "marketplace_id"?,
                                                       "fulfilled_by"?, "status"?}
  POST /_sandbox/orders/{orderId}/cancel              {"reason"?}
  POST /_sandbox/orders/{orderId}/ship                {"carrier"?, "tracking_number"?}
  POST /_sandbox/orders/{orderId}/status              {"status"}
  POST /_sandbox/orders/{orderId}/touch
  GET  /_sandbox/orders/{orderId}/packages            -> {"packages"}
  GET|POST /_sandbox/listings/{sku}                   POST {"quantity"}: the quantity changes on Amazon's side
  POST|DELETE /_sandbox/reject-skus                   {"skus": [...] or {sku: message}, "message"?}
  POST /_sandbox/feeds/fail-next                      {"count"?}
  POST /_sandbox/feeds/finish                         {"feed_id"?} -> {"finished"}
  GET  /_sandbox/feeds/{feedId}/report
  POST /_sandbox/rate-limits                          {"enabled"?, "scale"?, "retry_after"?, "refill"?, "operation"?,
                                                       "rate"?, "burst"?}
  POST /_sandbox/reset                                {"seed"?, "size"?}
"""

import logging
from functools import partial
from urllib.parse import parse_qsl, unquote

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..admin import admin_route, faults_route, json_response, stats_route
from ..http import oversized_json, pause
from .data import iso
from .state import RATE_LIMITS, WRONG_ANSWERS, AmazonState, ApiError, Fault, Query, StorageError

STATIC_PREFIX = "/static-sandbox"
_LISTING_PREFIX = "/listings/2021-08-01/items/"


class _ResponseLost(Exception):
    """Raised mid-answer so the server drops the connection (apply_then_drop, then="close")."""


class _QuietDrop(logging.Filter):
    """uvicorn logs a traceback for an answer cut short; ours are on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], _ResponseLost))


_QUIET_DROP = _QuietDrop()


class _DroppedResponse(Response):
    """Announces a JSON answer, sends a few bytes of it, then the connection dies."""

    def __init__(self) -> None:
        super().__init__(b'{"payload": "this answer was lost on its way back to the client"}', 200,
                         media_type="application/json")

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body[:9], "more_body": True})
        raise _ResponseLost


def _error(error: ApiError, headers: dict | None = None) -> Response:
    return json_response(error.body(), error.status, {**(error.headers or {}), **(headers or {})})


def _api_error(error: Exception) -> Response | None:
    return _error(error) if isinstance(error, ApiError) else None


def _storage_error(error: StorageError) -> Response:
    return Response(error.body(), error.status, media_type="application/xml")


def _raw_path(request: Request) -> str:
    raw = request.scope.get("raw_path")
    return raw.decode("latin-1") if raw else request.url.path


async def _json_body(request: Request):
    content_type = request.headers.get("content-type", "")
    if not content_type.split(";")[0].strip().lower() == "application/json":
        raise ApiError(415, "UnsupportedMediaType", "The request payload must be application/json",
                       f"Content-Type: {content_type or '(none)'}")
    raw = await request.body()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ApiError(400, "InvalidInput", "The request body is not valid JSON") from None


def _wrong_answer(fault: Fault, response: Response, request: Request) -> Response:
    """What a wrong-answer fault makes of a real 200 answer (see Fault)."""
    if fault.kind == "not_json":
        return Response("<html><body>Service Unavailable (sandbox fault)</body></html>", 200, media_type="text/html")
    body = orjson.loads(response.body)
    if fault.kind == "huge_answer":
        return oversized_json(body, fault.size_mib or 64.0)
    if fault.kind == "repeat_token":
        body["pagination"] = {"nextToken": request.query_params.get("paginationToken") or "sandbox-repeat"}
    elif fault.kind == "null_list" and "orders" in body:
        body["orders"] = None
    return json_response(body, headers={k: v for k, v in response.headers.items()
                                        if k.lower().startswith("x-amzn")})


def create_app(state: AmazonState) -> Starlette:  # noqa: C901 - the count takes in the nested route handlers; each alone is under 20
    """The Amazon sandbox ASGI app serving `state`."""
    logging.getLogger("uvicorn.error").addFilter(_QUIET_DROP)  # no-op when already there

    async def misbehave(request: Request, target: str, error_headers: dict) -> tuple[Response | None, Fault | None]:
        """The answer a fault replaces the real one with (or None to carry on), and the fault whose
        answer must be lost after the request took effect."""
        fault = state.take_fault(target)
        if fault is None:
            return None, None
        retry = {"Retry-After": _seconds(fault.retry_after)} if fault.retry_after is not None else {}
        if fault.kind == "http_500":
            return _error(ApiError(500, "InternalFailure", "We encountered an internal error. Please try again.",
                                   "sandbox fault"), error_headers), None
        if fault.kind == "http_503":
            return _error(ApiError(503, "ServiceUnavailable", "Service temporarily unavailable. Please try again.",
                                   "sandbox fault"), {**error_headers, **retry}), None
        if fault.kind == "http_429":
            return _error(ApiError(429, "QuotaExceeded", "You exceeded your quota for the requested resource.", ""),
                          {**error_headers, **retry}), None
        if fault.kind == "slow":
            await pause(request, fault.seconds, until_disconnect=False)
        elif fault.kind == "hang":
            await pause(request, fault.seconds, until_disconnect=True)
            return _error(ApiError(504, "GatewayTimeout", "The request timed out.", "sandbox fault")), None
        elif fault.kind == "expire_tokens":
            state.expire_tokens()
        elif fault.kind in ("apply_then_drop", *WRONG_ANSWERS):
            return None, fault
        return None, None

    async def lose(request: Request, fault: Fault) -> Response:
        if fault.then == "502":
            return Response("<html><body><h1>502 Bad Gateway</h1></body></html>", 502, media_type="text/html")
        if fault.then == "hang":
            await pause(request, fault.seconds, until_disconnect=True)
            return _error(ApiError(504, "GatewayTimeout", "The request timed out.", "sandbox fault"))
        return _DroppedResponse()

    def api(operation: str, handler):
        async def endpoint(request: Request) -> Response:
            headers = {"x-amzn-RequestId": state._uuid("request"),
                       "x-amzn-RateLimit-Limit": state.rate_header(operation)}
            response, lost = await misbehave(request, operation, headers)
            if response is None:
                try:
                    access = state.authenticate(request.headers.get("x-amz-access-token"))
                    state.take_rate(access, operation)
                    response = await handler(request, access)
                except ApiError as error:
                    response = _error(error)
                for name, value in headers.items():
                    response.headers.setdefault(name, value)
                if lost is not None and lost.kind in WRONG_ANSWERS:
                    response = _wrong_answer(lost, response, request) if response.status_code == 200 else response
                elif lost is not None:
                    response = await lose(request, lost)
            state.record(operation, request.method, _target(request), 0 if isinstance(response, _DroppedResponse)
                         else response.status_code)
            return response
        return endpoint

    # ------------------------------------------------------------------ LWA
    async def token(request: Request) -> Response:
        response, lost = await misbehave(request, "token", {})
        if response is None:
            raw = await request.body()
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            form: dict | None = None
            if content_type == "application/x-www-form-urlencoded":
                form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
            elif content_type == "application/json":
                try:
                    parsed = orjson.loads(raw)
                    form = {k: str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else None
                except orjson.JSONDecodeError:
                    form = None
            if form is None:
                response = json_response({"error": "invalid_request",
                                          "error_description": "Send the grant as application/x-www-form-urlencoded"},
                                         400)
            else:
                status, body = state.token_request(form)
                response = json_response(body, status, {"Cache-Control": "no-store", "Pragma": "no-cache"})
            if lost is not None:
                response = await lose(request, lost)
        state.record("token", "POST", "/auth/o2/token", response.status_code)
        return response

    # ------------------------------------------------------------------ orders
    async def search_orders(request: Request, access) -> Response:
        return json_response(state.search_orders(access, Query(request.query_params.multi_items())))

    async def get_order(request: Request, access) -> Response:
        return json_response(state.get_order(access, request.path_params["order_id"],
                                             Query(request.query_params.multi_items())))

    async def confirm_shipment(request: Request, access) -> Response:
        body = await _json_body(request)
        state.confirm_shipment(access, request.path_params["order_id"], body)
        return Response(b"", 204)

    # ------------------------------------------------------------------ listings
    def listing_address(request: Request) -> tuple[str, str]:
        raw = _raw_path(request)
        rest = raw[len(_LISTING_PREFIX):].split("/") if raw.startswith(_LISTING_PREFIX) else []
        if len(rest) != 2 or not rest[0] or not rest[1]:
            raise ApiError(404, "NOT_FOUND", "Resource not found; encode a SKU's '/' as %2F",
                           f"path {raw}")
        return unquote(rest[0]), unquote(rest[1])

    async def get_listing(request: Request, access) -> Response:
        seller_id, sku = listing_address(request)
        return json_response(state.get_listings_item(access, seller_id, sku, Query(request.query_params.multi_items())))

    async def patch_listing(request: Request, access) -> Response:
        seller_id, sku = listing_address(request)
        body = await _json_body(request)
        return json_response(state.patch_listings_item(access, seller_id, sku,
                                                       Query(request.query_params.multi_items()), body))

    # ------------------------------------------------------------------ feeds
    def base_url(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    async def create_document(request: Request, access) -> Response:
        body = await _json_body(request)
        return json_response(state.create_feed_document(access, body, base_url(request)), 201)

    async def get_document(request: Request, access) -> Response:
        return json_response(state.get_feed_document(access, request.path_params["document_id"],
                                                     Query(request.query_params.multi_items()), base_url(request)))

    async def create_feed(request: Request, access) -> Response:
        body = await _json_body(request)
        return json_response(state.create_feed(access, body), 202)

    async def get_feed(request: Request, access) -> Response:
        return json_response(state.get_feed(access, request.path_params["feed_id"]))

    async def cancel_feed(request: Request, access) -> Response:
        state.cancel_feed(access, request.path_params["feed_id"])
        return Response(b"", 200)

    def storage(target: str):
        async def endpoint(request: Request) -> Response:
            response, lost = await misbehave(request, target, {})
            if response is None:
                params = dict(request.query_params)
                try:
                    if request.method == "PUT":
                        state.upload_document(request.path_params["document_id"], params,
                                              request.headers.get("content-type"), await request.body())
                        response = Response(b"", 200, {"ETag": '"sandbox"'})
                    else:
                        data, headers = state.download_document(request.path_params["document_id"], params)
                        response = Response(data, 200, headers)
                except StorageError as error:
                    response = _storage_error(error)
                if lost is not None:
                    response = await lose(request, lost)
            state.record(target, request.method, request.url.path, response.status_code)
            return response
        return endpoint

    # ------------------------------------------------------------------ static sandbox
    async def static(request: Request) -> Response:
        raw = _raw_path(request)[len(STATIC_PREFIX):]
        headers = {"x-amzn-RequestId": state._uuid("request")}
        try:
            state.authenticate(request.headers.get("x-amz-access-token"))
        except ApiError as error:
            return _error(error, headers)
        if not state.vectors:
            return _error(ApiError(404, "NotFound", "The static sandbox has no vectors loaded",
                                   "start the sandbox with vectors (AmazonState(vectors=...), --vectors)"), headers)
        vector = state.static_answer(request.method, raw, request.query_params.multi_items(), await request.body())
        if vector is None:
            response = _error(ApiError(404, "NotFound", "No static sandbox response matches this request",
                                       f"{request.method} {raw}"), headers)
        else:
            if vector.operation_id in RATE_LIMITS:
                headers["x-amzn-RateLimit-Limit"] = state.rate_header(vector.operation_id)
            if vector.response is None or vector.status == 204:
                response = Response(b"", vector.status, headers)
            else:
                response = json_response(vector.response, vector.status, headers)
        state.record("static", request.method, _target(request), response.status_code)
        return response

    # ------------------------------------------------------------------ admin
    admin = partial(admin_route, on_error=_api_error)

    async def authorize(request: Request, body) -> Response:
        return json_response({"refresh_token": state.authorize(body.get("seller_id"), body.get("client_id"))})

    async def expire(request: Request, body) -> Response:
        state.expire_tokens()
        return json_response({"expired": True})

    async def clock(request: Request, body) -> Response:
        moment = state.advance_clock(float(body.get("advance", 0)))
        return json_response({"now": iso(moment), "offset": state.clock_offset})

    async def add_order(request: Request, body) -> Response:
        return json_response(state.add_order(body.get("items"), marketplace_id=body.get("marketplace_id"),
                                             fulfilled_by=body.get("fulfilled_by", "MERCHANT"),
                                             status=body.get("status", "UNSHIPPED")), 201)

    async def order_action(request: Request, body) -> Response:
        order_id, action = request.path_params["order_id"], request.path_params["action"]
        if action == "cancel":
            return json_response(state.cancel_order(order_id, body.get("reason", "Buyer cancelled")))
        if action == "ship":
            return json_response(state.ship_order(order_id, body.get("carrier", "DHL"), body.get("tracking_number")))
        if action == "status":
            return json_response(state.set_order_status(order_id, body["status"]))
        if action == "touch":
            return json_response(state.touch_order(order_id))
        return json_response({"error": f"unknown action {action!r}"}, 404)

    async def packages(request: Request, body) -> Response:
        return json_response({"packages": state.packages(request.path_params["order_id"])})

    async def listing(request: Request, body) -> Response:
        sku = request.path_params["sku"]
        if request.method == "POST":
            state.set_listing_quantity(sku, body.get("quantity"))
        item = state.item_view(sku, ("summaries", "attributes", "fulfillmentAvailability"))
        if item is None:
            return json_response({"error": f"no listing has the SKU {sku!r}"}, 404)
        return json_response({"sku": sku, "quantity": state.listing_quantity(sku), "listing": item})

    async def rejections(request: Request, body) -> Response:
        if request.method == "DELETE":
            state.clear_rejections()
        else:
            skus = body["skus"]
            if isinstance(skus, dict):
                state.reject_skus(skus)
            else:
                state.reject_skus(list(skus), body.get("message", "The sandbox was told to refuse this SKU"))
        return json_response({"rejected": dict(state.rejected_skus)})

    async def fail_next(request: Request, body) -> Response:
        state.fail_next_feeds(int(body.get("count", 1)))
        return json_response({"fatal_next": state._fatal_next})

    async def finish(request: Request, body) -> Response:
        return json_response({"finished": state.finish_feeds(body.get("feed_id"))})

    async def report(request: Request, body) -> Response:
        found = state.feed_report(request.path_params["feed_id"])
        return json_response(found, 200 if found is not None else 404)

    async def rate_limits(request: Request, body) -> Response:
        with state.lock:
            if "enabled" in body:
                state.rate_limits_enabled = bool(body["enabled"])
            if "scale" in body:
                state.rate_scale = float(body["scale"])
            if "retry_after" in body:
                state.retry_after = bool(body["retry_after"])
            if body.get("operation"):
                state.set_rate_limit(body["operation"], body["rate"], body["burst"])
            if body.get("refill"):
                state.refill_buckets()
            return json_response({"enabled": state.rate_limits_enabled, "scale": state.rate_scale,
                                  "retry_after": state.retry_after,
                                  "limits": {op: list(state.rate_limit(op)) for op in RATE_LIMITS}})

    async def reset(request: Request, body) -> Response:
        state.reset(body.get("seed"), body.get("size"))
        return json_response({"seed": state.seed, "size": state.size})

    routes = [
        Route("/auth/o2/token", token, methods=["POST"]),
        Route("/orders/2026-01-01/orders", api("searchOrders", search_orders), methods=["GET"]),
        Route("/orders/2026-01-01/orders/{order_id}", api("getOrder", get_order), methods=["GET"]),
        Route("/orders/v0/orders/{order_id}/shipmentConfirmation", api("confirmShipment", confirm_shipment),
              methods=["POST"]),
        Route(_LISTING_PREFIX + "{seller_id}/{sku:path}", api("getListingsItem", get_listing), methods=["GET"]),
        Route(_LISTING_PREFIX + "{seller_id}/{sku:path}", api("patchListingsItem", patch_listing), methods=["PATCH"]),
        Route("/feeds/2021-06-30/documents", api("createFeedDocument", create_document), methods=["POST"]),
        Route("/feeds/2021-06-30/documents/{document_id}", api("getFeedDocument", get_document), methods=["GET"]),
        Route("/feeds/2021-06-30/feeds", api("createFeed", create_feed), methods=["POST"]),
        Route("/feeds/2021-06-30/feeds/{feed_id}", api("getFeed", get_feed), methods=["GET"]),
        Route("/feeds/2021-06-30/feeds/{feed_id}", api("cancelFeed", cancel_feed), methods=["DELETE"]),
        Route("/s3/documents/{document_id}", storage("upload"), methods=["PUT"]),
        Route("/s3/documents/{document_id}", storage("download"), methods=["GET"]),
        Route(STATIC_PREFIX + "/{rest:path}", static, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        stats_route(state, on_error=_api_error),
        faults_route(state, on_error=_api_error),
        Route("/_sandbox/authorize", admin(authorize), methods=["POST"]),
        Route("/_sandbox/expire-tokens", admin(expire), methods=["POST"]),
        Route("/_sandbox/clock", admin(clock), methods=["POST"]),
        Route("/_sandbox/orders", admin(add_order), methods=["POST"]),
        Route("/_sandbox/orders/{order_id}/packages", admin(packages), methods=["GET"]),
        Route("/_sandbox/orders/{order_id}/{action}", admin(order_action), methods=["POST"]),
        Route("/_sandbox/listings/{sku:path}", admin(listing), methods=["GET", "POST"]),
        Route("/_sandbox/reject-skus", admin(rejections), methods=["POST", "DELETE"]),
        Route("/_sandbox/feeds/fail-next", admin(fail_next), methods=["POST"]),
        Route("/_sandbox/feeds/finish", admin(finish), methods=["POST"]),
        Route("/_sandbox/feeds/{feed_id}/report", admin(report), methods=["GET"]),
        Route("/_sandbox/rate-limits", admin(rate_limits), methods=["POST"]),
        Route("/_sandbox/reset", admin(reset), methods=["POST"]),
    ]

    async def not_found(request: Request, exc) -> Response:
        return _error(ApiError(404, "NotFound", "Resource not found", f"{request.method} {request.url.path}"))

    async def not_allowed(request: Request, exc) -> Response:
        return _error(ApiError(405, "MethodNotAllowed", "The method is not allowed for this resource",
                               f"{request.method} {request.url.path}"))

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed})
    app.state.amazon = state
    return app


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _target(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


__all__ = ["STATIC_PREFIX", "create_app"]
