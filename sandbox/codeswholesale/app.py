"""The CodesWholesale v3 sandbox over HTTP.

Public routes, as documented for the real service:
  POST /oauth/token              client credentials (form body, query string or HTTP Basic) -> access token
  GET  /v3/products              the price list, paged by `continuationToken`; filters platform, region,
                                 language, productIds, inStockDaysAgo
  GET  /v3/products/{productId}  one product
  GET  /v3/accounts/current      the account (balance and credit)
  GET  /v3/platforms | /v3/regions | /v3/languages

Admin routes (no token, loopback clients only):
  GET  /_sandbox/stats           counters
  GET|POST|DELETE /_sandbox/faults   list, arm ({"kind": ..., "count"?, "skip"?, "target"?, "retry_after"?}), clear
  POST /_sandbox/advance         {"generations"?: 1}: the price list drifts
  POST /_sandbox/reset           {"seed"?, "size"?}
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..admin import admin_route, faults_route, json_response, stats_route
from .data import LANGUAGES, PLATFORMS, REGIONS
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


def create_app(state: CodesWholesaleState) -> Starlette:  # noqa: C901 - the count takes in the nested route handlers; each alone is under 20
    """The CodesWholesale sandbox ASGI app serving `state`."""

    async def misbehave(target: str) -> Response | None:
        fault = state.take_fault(target)
        if fault is None:
            return None
        if fault.kind == "http_429":
            return json_response({"message": "Too many requests (sandbox fault)"}, 429,
                                 {"Retry-After": _retry_after_header(fault.retry_after)})
        if fault.kind == "http_500":
            return json_response({"message": "Internal server error (sandbox fault)"}, 500)
        if fault.kind == "http_502":
            return Response("<html><body>502 Bad Gateway</body></html>", 502, media_type="text/html")
        if fault.kind == "http_503":
            headers = {"Retry-After": _retry_after_header(fault.retry_after)} if fault.retry_after else None
            return json_response({"message": "Service unavailable (sandbox fault)"}, 503, headers)
        if fault.kind == "expire_tokens":
            state.expire_tokens()  # the request carries on and meets its expired token
        elif fault.kind == "slow":
            await asyncio.sleep(fault.seconds)
        return None

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
            response = await misbehave(target)
            if response is None and target != "token":
                response = unauthorized(request)
            if response is None:
                response = await handler(request)
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
        return json_response({"fullName": "Sandbox Reseller", "email": "sandbox@example.com",
                              "currentBalance": 1000.0, "currentCredit": 0.0, "totalToUse": 1000.0, "links": []})

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

    routes = [
        Route("/oauth/token", recorded("token", "token", token), methods=["POST"]),
        Route("/v3/products", recorded("products", "products", products), methods=["GET"]),
        Route("/v3/products/{product_id}", recorded("product", "product", product), methods=["GET"]),
        Route("/v3/accounts/current", recorded("account", "account", account), methods=["GET"]),
        Route("/v3/platforms", recorded("platforms", "platforms", platforms), methods=["GET"]),
        Route("/v3/regions", recorded("regions", "regions", regions), methods=["GET"]),
        Route("/v3/languages", recorded("languages", "languages", languages), methods=["GET"]),
        stats_route(state),
        faults_route(state),
        Route("/_sandbox/advance", admin_route(advance), methods=["POST"]),
        Route("/_sandbox/reset", admin_route(reset), methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.codeswholesale = state
    return app


__all__ = ["CodesWholesaleState", "Fault", "create_app"]
