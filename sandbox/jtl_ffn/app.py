"""The JTL-FFN sandbox over HTTP: the OAuth token endpoint and the Merchant API.

OAuth (application credentials in HTTP Basic, form body):
  POST /token      grant_type=authorization_code (code, redirect_uri) or refresh_token (refresh_token)
                   -> {"token_type": "Bearer", "expires_in", "access_token", "refresh_token"};
                   client_credentials -> 401 unauthorized_client; a refresh token spent twice -> 400
                   invalid_grant and its whole family revoked

Merchant API (Bearer token; scope ffn.merchant.read, and ffn.merchant.write to create):
  GET  /api/v1/merchant/products                    paged ($top <= max_top, $skip, $filter)
  GET  /api/v1/merchant/products/{jfsku}
  GET  /api/v1/merchant/stocks                      paged Stock documents (every product)
  GET  /api/v1/merchant/stocks/{jfsku}
  GET  /api/v1/merchant/stocks/warehouse/{warehouseId}   paged StockInWarehouse
  GET  /api/v1/merchant/warehouses                  paged
  GET  /api/v1/merchant/shippingmethods             paged
  GET  /api/v1/merchant/inbounds                    paged
  GET  /api/v1/merchant/inbounds/updates            fromDate, toDate, page
                                                    -> {from, to, data, moreDataAvailable, nextChunkUrl}
  GET  /api/v1/merchant/inbounds/{inboundId}
  GET  /api/v1/merchant/inbounds/{inboundId}/shipping-notifications
  GET  /api/v1/merchant/outbounds                   paged
  POST /api/v1/merchant/outbounds                   201 Outbound; 400 Shared_DuplicateKey for a known
                                                    merchantOutboundNumber
  GET  /api/v1/merchant/outbounds/updates
  GET  /api/v1/merchant/outbounds/{outboundId}
  GET  /api/v1/merchant/outbounds/{outboundId}/shipping-notifications

Paged answers: {"items", "_page": {"total", "limit", "offset"}, "_links": {"previous", "next"},
"nextPageLink", "count"}; `nextPageLink` (a query string, relative to the list's URL, keeping $filter)
is there only while more items follow. Errors: {"errorCode": {"code", "description"}, "errorMessages":
[{"message"}], "errorMetadata"}.

Admin routes (no token, loopback clients only):
  GET  /_sandbox/stats
  GET|POST|DELETE /_sandbox/faults                  list, arm ({"kind", "count"?, "skip"?, "target"?, "retry_after"?,
                                                    "seconds"?}), clear
  POST /_sandbox/authorize                          {"client_id"?, "redirect_uri"?} -> {"code"}: the merchant consents
  POST /_sandbox/grant                              {"client_id"?} -> a token response: a fresh authorisation
  POST /_sandbox/expire-tokens                      every access token expires now
  POST /_sandbox/outbounds/{outboundId}/ship        {"items"?: {jfsku: quantity}, "shipping_method_id"?,
                                                     "tracking_number"?, "freight_option"?, "weight"?}
                                                    -> the shipping notification
  POST /_sandbox/inbounds/{inboundId}/receive       {"items"?: {jfsku: quantity}} -> the inbound
  POST /_sandbox/stocks/{jfsku}/adjust              {"warehouse_id", "delta"} -> the Stock
  POST /_sandbox/reset                              {"seed"?, "size"?}
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from functools import partial
from urllib.parse import parse_qsl, quote, urlencode

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..admin import admin_route, faults_route, json_response, stats_route
from .state import DEFAULT_TOP, ApiError, Fault, JtlFfnState, validation_error

PREFIX = "/api/v1/merchant"


def _error(error: ApiError) -> Response:
    return json_response(error.body(), error.status, error.headers)


def _api_error(error: Exception) -> Response | None:
    """The FFN error answer for an ApiError an admin handler raised, None for any other exception."""
    return _error(error) if isinstance(error, ApiError) else None


def _retry_after_header(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


def _basic_credentials(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    """The application's (client_id, client_secret): HTTP Basic as documented (taken as sent, not
    URL-decoded, as the PHP server behind the real endpoint does), else the form body."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, client_secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
            return client_id, client_secret
        except (binascii.Error, UnicodeDecodeError):
            return None, None
    return form.get("client_id"), form.get("client_secret")


def _paging(request: Request, state: JtlFfnState) -> tuple[int, int]:
    params = request.query_params
    try:
        top = int(params.get("$top", DEFAULT_TOP))
        skip = int(params.get("$skip", 0))
    except ValueError:
        raise validation_error(["$top and $skip must be whole numbers"]) from None
    if not 1 <= top <= state.max_top:
        raise validation_error([f"$top must be from 1 to {state.max_top}"])
    if skip < 0:
        raise validation_error(["$skip must not be negative"])
    return top, skip


def _paged(request: Request, items: list, total: int, top: int, skip: int, links: bool = True) -> Response:
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("$top", "$skip")]

    def link(offset: int) -> str:
        return "?" + urlencode([*kept, ("$top", top), ("$skip", offset)], quote_via=quote, safe="$/")

    body: dict = {"items": items, "_page": {"total": total, "limit": top, "offset": skip}, "_links": {},
                  "count": len(items)}
    if skip > 0:
        body["_links"]["previous"] = link(max(0, skip - top))
    if skip + len(items) < total and links:
        body["_links"]["next"] = body["nextPageLink"] = link(skip + top)
    return json_response(body)


def create_app(state: JtlFfnState) -> Starlette:  # noqa: C901 - the count takes in the nested route handlers; each alone is under 20
    """The JTL-FFN sandbox ASGI app serving `state`."""

    async def misbehave(route: str) -> tuple[Response | None, Fault | None]:
        fault = state.take_fault(route)
        if fault is None:
            return None, None
        if fault.kind == "http_429":
            return json_response(ApiError(429, "Shared_TooManyRequests", "Too many requests",
                                          ["Request limit reached (sandbox fault)"]).body(), 429,
                                 {"Retry-After": _retry_after_header(fault.retry_after)}), None
        if fault.kind == "http_500":
            return json_response(ApiError(500, "Shared_InternalServerError", "Unexpected server error",
                                          ["Internal error (sandbox fault)"]).body(), 500), None
        if fault.kind == "http_502":
            return Response("<html><body><h1>502 Bad Gateway</h1></body></html>", 502, media_type="text/html"), None
        if fault.kind == "http_503":
            headers = {"Retry-After": _retry_after_header(fault.retry_after)} if fault.retry_after else None
            return json_response(ApiError(503, "Shared_ServiceUnavailable", "Service unavailable",
                                          ["Maintenance (sandbox fault)"]).body(), 503, headers), None
        if fault.kind == "expire_tokens":
            state.expire_access_tokens()  # the request carries on and meets its expired token
        elif fault.kind == "slow":
            await asyncio.sleep(fault.seconds)
        elif fault.kind == "lost_response":
            return None, fault
        return None, None

    def unauthorised(request: Request, write: bool) -> Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        status, scopes = state.access_status(token.strip() if scheme.lower() == "bearer" else None)
        if status != "valid":
            description = {"expired": "The access token has expired", "revoked": "The access token was revoked",
                           "invalid": "No valid access token"}[status]
            error = ApiError(401, "Shared_Unauthorized", description, [description])
            return json_response(error.body(), 401, {"WWW-Authenticate": f'Bearer error="invalid_token", '
                                                                         f'error_description="{description}"'})
        needed = "ffn.merchant.write" if write else "ffn.merchant.read"
        if needed not in scopes and not (not write and "ffn.merchant.write" in scopes):
            return _error(ApiError(403, "Shared_OperationForbidden", "The operation is not permitted",
                                   [f"The token lacks the scope {needed}"]))
        return None

    def api(route: str, handler, *, write: bool = False):
        async def endpoint(request: Request) -> Response:
            response, lost = await misbehave(route)
            if response is None:
                response = unauthorised(request, write)
            if response is None:
                try:
                    response = await handler(request)
                except ApiError as error:
                    response = _error(error)
                if lost is not None:  # carried out, but the client never hears about it
                    response = Response("<html><body><h1>502 Bad Gateway</h1></body></html>", 502,
                                        media_type="text/html")
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            state.record(route, request.method, target, response.status_code)
            return response
        return endpoint

    # ------------------------------------------------------------------ OAuth
    async def token(request: Request) -> Response:
        response, lost = await misbehave("token")
        if response is None:
            form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
            client_id, client_secret = _basic_credentials(request, form)
            if not state.check_client(client_id, client_secret):
                response = json_response({"error": "invalid_client",
                                          "error_description": "Client authentication failed"},
                                         401, {"WWW-Authenticate": 'Basic realm="oauth"'})
            else:
                status, body = state.token_request(client_id, form)
                response = json_response(body, status, {"Cache-Control": "no-store", "Pragma": "no-cache"})
            if lost is not None:
                response = Response("<html><body><h1>502 Bad Gateway</h1></body></html>", 502, media_type="text/html")
        state.record("token", "POST", "/token", response.status_code)
        return response

    # ------------------------------------------------------------------ lists
    def paged_list(kind: str, param: str | None = None):
        async def handler(request: Request) -> Response:
            top, skip = _paging(request, state)
            items, total = state.list_page(kind, top, skip, request.query_params.get("$filter"),
                                           request.path_params.get(param) if param else None)
            return _paged(request, items, total, top, skip, state.page_links)
        return handler

    def updates(kind: str):
        async def handler(request: Request) -> Response:
            params = request.query_params
            try:
                page = int(params.get("page", 1))
            except ValueError:
                raise validation_error(["page must be a whole number"]) from None
            body = state.updates(kind, params.get("fromDate"), params.get("toDate"), page)
            if body["moreDataAvailable"]:
                query = urlencode({"fromDate": body["from"], "toDate": body["to"], "page": page + 1,
                                   "ignoreOwnApplicationId": params.get("ignoreOwnApplicationId", "false"),
                                   "ignoreOwnUserId": params.get("ignoreOwnUserId", "false")})
                body["nextChunkUrl"] = f"{str(request.base_url).rstrip('/')}{request.url.path}?{query}"
            else:
                body["nextChunkUrl"] = None
            return json_response(body)
        return handler

    def one(getter, param: str):
        async def handler(request: Request) -> Response:
            return json_response(getter(request.path_params[param]))
        return handler

    async def create_outbound(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise validation_error(["the request body is not JSON"]) from None
        return json_response(state.create_outbound(body), 201)

    # ------------------------------------------------------------------ admin
    admin = partial(admin_route, on_error=_api_error)  # FFN errors answer in FFN's shape

    async def authorize(request: Request, body) -> Response:
        return json_response({"code": state.authorize(body.get("client_id"), body.get("redirect_uri"))})

    async def grant(request: Request, body) -> Response:
        return json_response(state.grant(body.get("client_id")))

    async def expire(request: Request, body) -> Response:
        state.expire_access_tokens()
        return json_response({"expired": True})

    async def ship(request: Request, body) -> Response:
        return json_response(state.ship(request.path_params["outbound_id"], body.get("items"),
                                        shipping_method_id=body.get("shipping_method_id"),
                                        tracking_number=body.get("tracking_number"),
                                        freight_option=body.get("freight_option", "Parcel"), weight=body.get("weight")))

    async def receive(request: Request, body) -> Response:
        return json_response(state.receive(request.path_params["inbound_id"], body.get("items")))

    async def adjust(request: Request, body) -> Response:
        return json_response(state.adjust_stock(request.path_params["jfsku"], body["warehouse_id"],
                                                float(body["delta"])))

    async def reset(request: Request, body) -> Response:
        state.reset(body.get("seed"), body.get("size"))
        return json_response({"seed": state.seed, "size": state.size})

    routes = [
        Route("/token", token, methods=["POST"]),
        Route(f"{PREFIX}/products", api("products", paged_list("products")), methods=["GET"]),
        Route(f"{PREFIX}/products/{{jfsku}}", api("product", one(state.product, "jfsku")), methods=["GET"]),
        Route(f"{PREFIX}/stocks", api("stocks", paged_list("stocks")), methods=["GET"]),
        Route(f"{PREFIX}/stocks/warehouse/{{warehouse_id}}",
              api("stocks_in_warehouse", paged_list("stocks_in_warehouse", "warehouse_id")), methods=["GET"]),
        Route(f"{PREFIX}/stocks/{{jfsku}}", api("stock", one(state.stock, "jfsku")), methods=["GET"]),
        Route(f"{PREFIX}/warehouses", api("warehouses", paged_list("warehouses")), methods=["GET"]),
        Route(f"{PREFIX}/shippingmethods", api("shipping_methods", paged_list("shipping_methods")), methods=["GET"]),
        Route(f"{PREFIX}/inbounds", api("inbounds", paged_list("inbounds")), methods=["GET"]),
        Route(f"{PREFIX}/inbounds/updates", api("inbound_updates", updates("inbounds")), methods=["GET"]),
        Route(f"{PREFIX}/inbounds/{{inbound_id}}", api("inbound", one(state.inbound, "inbound_id")), methods=["GET"]),
        Route(f"{PREFIX}/inbounds/{{inbound_id}}/shipping-notifications",
              api("inbound_shipping_notifications", one(state.inbound_shipping_notifications, "inbound_id")),
              methods=["GET"]),
        Route(f"{PREFIX}/outbounds", api("outbounds", paged_list("outbounds")), methods=["GET"]),
        Route(f"{PREFIX}/outbounds", api("create_outbound", create_outbound, write=True), methods=["POST"]),
        Route(f"{PREFIX}/outbounds/updates", api("outbound_updates", updates("outbounds")), methods=["GET"]),
        Route(f"{PREFIX}/outbounds/{{outbound_id}}", api("outbound", one(state.outbound, "outbound_id")),
              methods=["GET"]),
        Route(f"{PREFIX}/outbounds/{{outbound_id}}/shipping-notifications",
              api("shipping_notifications", one(state.shipping_notifications, "outbound_id")), methods=["GET"]),
        stats_route(state, on_error=_api_error),
        faults_route(state, on_error=_api_error),
        Route("/_sandbox/authorize", admin(authorize), methods=["POST"]),
        Route("/_sandbox/grant", admin(grant), methods=["POST"]),
        Route("/_sandbox/expire-tokens", admin(expire), methods=["POST"]),
        Route("/_sandbox/outbounds/{outbound_id}/ship", admin(ship), methods=["POST"]),
        Route("/_sandbox/inbounds/{inbound_id}/receive", admin(receive), methods=["POST"]),
        Route("/_sandbox/stocks/{jfsku}/adjust", admin(adjust), methods=["POST"]),
        Route("/_sandbox/reset", admin(reset), methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.jtl_ffn = state
    return app


__all__ = ["Fault", "JtlFfnState", "create_app"]
