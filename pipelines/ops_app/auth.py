"""Who may read the operations endpoints: a bearer token of ops.api_tokens (pipelines/ops_app/tokens.py).

    Authorization: Bearer mso_12_...                 (Prometheus' `authorization`, curl -H, scripts)
    Authorization: Basic base64(anything:mso_12_...) (a browser: the token is the password)

A missing or refused token is answered 401 with a challenge: `Basic realm="marketsync"` on the status page,
so a browser asks for it, `Bearer realm="marketsync"` elsewhere. The token is never logged or echoed.
When the database cannot say whether a token is valid, the answer is 503 (the service is not ready),
never a guess.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from marketsync.pipelines.ops_app.tokens import Principal, TokenRefused, verify_token

log = logging.getLogger("marketsync.ops_app")

REALM = "marketsync"
AUTH_TIMEOUT_SECONDS = 5.0
Handler = Callable[[Request, Principal], Awaitable[Response]]


def presented_token(header: str | None) -> str | None:
    """The token an Authorization header carries (Bearer, or Basic with the token as password, or as
    user name with an empty password), else None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        return password or user or None
    return None


def unavailable(html: bool, what: str = "the database did not answer") -> Response:
    if html:
        return PlainTextResponse(f"503: {what}; try again shortly", status_code=503,
                                 headers={"Retry-After": "5", "Cache-Control": "no-store"})
    return JSONResponse({"error": "unavailable", "message": what}, status_code=503, headers={"Retry-After": "5"})


def requires_token(engine: Engine, handler: Handler, *,
                   browser: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint `handler(request, principal)` behind token authentication. `browser`: challenge with
    Basic, so a browser prompts for the token."""
    challenge = f'Basic realm="{REALM}", charset="UTF-8"' if browser else f'Bearer realm="{REALM}"'

    def refuse(message: str) -> Response:
        headers = {"WWW-Authenticate": challenge, "Cache-Control": "no-store"}
        if browser:
            return PlainTextResponse(f"401: {message}. Sign in with any user name and your marketsync token "
                                     "as the password (`marketsync tokens create NAME`).", status_code=401,
                                     headers=headers)
        return JSONResponse({"error": "unauthorized", "message": message}, status_code=401, headers=headers)

    def verify(token: str) -> Principal:
        with engine.begin() as conn:
            return verify_token(conn, token)

    async def endpoint(request: Request) -> Response:
        token = presented_token(request.headers.get("authorization"))
        if token is None:
            return refuse("a token is required")
        try:
            principal = await asyncio.wait_for(run_in_threadpool(verify, token), AUTH_TIMEOUT_SECONDS)
        except TokenRefused as exc:
            log.info("ops %s %s: 401 %s", request.method, request.url.path, exc)
            return refuse(str(exc))
        except (DBAPIError, TimeoutError) as exc:
            log.warning("ops %s %s: 503 token not verified (%s)", request.method, request.url.path,
                        type(exc).__name__)
            return unavailable(browser, "the token cannot be verified: the database did not answer")
        return await handler(request, principal)

    return endpoint
