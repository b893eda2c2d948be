"""What every simulator's admin surface and fault injection share.

Each simulator in ``sandbox`` serves, next to the API it stands in for, loopback-only admin routes
under ``/_sandbox/`` (no credentials: a test or ``make demo`` on the same machine drives them) and
can be armed with faults that make its next requests misbehave. This module holds the parts that
are the same everywhere:

- ``json_response``: a JSON answer (orjson-encoded);
- ``is_loopback`` and ``admin_route``: the loopback-only guard around an admin handler, its JSON
  body and its 400 answer to a bad one;
- ``stats_route`` and ``faults_route``: ``GET /_sandbox/stats`` and ``GET|POST|DELETE
  /_sandbox/faults``;
- ``FaultSpec`` and ``FaultQueue``: a fault's common fields and their checks, and the armed faults
  of a state (arm, clear, take the next that applies).

What a fault does when it fires, which kinds and targets exist and any admin route of its own stay
with each simulator.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from ipaddress import ip_address
from typing import Any, ClassVar

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

JSON_MEDIA_TYPE = "application/json"

# An exception a simulator's admin handler raised -> the answer for it, or None when it is not one
# of the simulator's own (the guard then answers it as usual).
ErrorMapper = Callable[[Exception], Response | None]


def json_response(payload: Any, status: int = 200, headers: dict | None = None,
                  media_type: str = JSON_MEDIA_TYPE) -> Response:
    """``payload`` as a JSON answer with ``status`` and ``headers``."""
    return Response(orjson.dumps(payload), status, headers, media_type=media_type)


def is_loopback(request: Request) -> bool:
    """Whether the request comes from this machine (or from an in-process test client)."""
    host = request.client.host if request.client else None
    if host is None or host in ("localhost", "testclient"):
        return True  # not a TCP peer: an in-process transport
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def admin_route(handler: Callable[..., Awaitable[Response]], *, on_error: ErrorMapper | None = None,
                read_body: bool = True, media_type: str = JSON_MEDIA_TYPE):
    """The endpoint serving ``handler`` to loopback clients only (403 for anyone else).

    With ``read_body`` the handler is called as ``handler(request, body)``, ``body`` being the
    request's JSON body (``{}`` when empty); without, as ``handler(request)``, and it reads the body
    itself if it needs one. ``on_error`` turns an exception of the simulator's own into its answer
    (None for any other); ValueError, TypeError and KeyError (a malformed body or argument) answer
    400 ``{"error": ...}``; anything else propagates.
    """

    async def guarded(request: Request) -> Response:
        if not is_loopback(request):
            return json_response({"error": "sandbox admin is loopback-only"}, 403, media_type=media_type)
        try:
            if not read_body:
                return await handler(request)
            raw = await request.body()
            return await handler(request, orjson.loads(raw) if raw.strip() else {})
        except Exception as error:
            answer = on_error(error) if on_error is not None else None
            if answer is not None:
                return answer
            if isinstance(error, (ValueError, TypeError, KeyError)):
                return json_response({"error": str(error)}, 400, media_type=media_type)
            raise

    return guarded


def stats_route(state, *, on_error: ErrorMapper | None = None, read_body: bool = True,
                media_type: str = JSON_MEDIA_TYPE) -> Route:
    """``GET /_sandbox/stats``: ``state.stats()``. The options are ``admin_route``'s."""

    async def stats(request: Request, body: Any = None) -> Response:
        return json_response(state.stats(), media_type=media_type)

    return Route("/_sandbox/stats", admin_route(stats, on_error=on_error, read_body=read_body,
                                                media_type=media_type), methods=["GET"])


def faults_route(state, *, on_error: ErrorMapper | None = None, media_type: str = JSON_MEDIA_TYPE) -> Route:
    """``/_sandbox/faults``: GET lists the armed faults, DELETE disarms them all, POST arms one
    (``{"kind": ..., **fields}``, passed to ``state.add_fault``) or a list of them. Every answer is
    ``{"faults_armed": [...]}`` as it stands afterwards. The options are ``admin_route``'s."""

    async def faults(request: Request, body: Any) -> Response:
        if request.method == "DELETE":
            state.clear_faults()
        elif request.method == "POST":
            for spec in body if isinstance(body, list) else [body]:
                spec = dict(spec)
                state.add_fault(spec.pop("kind"), **spec)
        with state.lock:
            armed = [vars(f).copy() for f in state.faults]
        return json_response({"faults_armed": armed}, media_type=media_type)

    return Route("/_sandbox/faults", admin_route(faults, on_error=on_error, media_type=media_type),
                 methods=["GET", "POST", "DELETE"])


@dataclass
class FaultSpec:
    """A misbehaviour for the next ``count`` matching requests, after letting ``skip`` of them through.

    ``kind`` is one of the simulator's ``KINDS``; ``target`` one of its ``TARGETS`` and says which
    requests match (see ``matches``); ``retry_after`` (seconds) is the Retry-After of the answer,
    for "http_429" ``DEFAULT_RETRY_AFTER`` when not given. A simulator's ``Fault`` subclasses this,
    setting ``KINDS``, ``TARGETS`` and the default ``target``, and adds its own fields after these.
    Invalid values raise ValueError.
    """

    KINDS: ClassVar[tuple[str, ...]] = ()
    TARGETS: ClassVar[tuple[str, ...]] = ("any",)
    DEFAULT_RETRY_AFTER: ClassVar[float | None] = 1

    kind: str
    count: int = 1
    skip: int = 0
    target: str = "any"
    retry_after: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {self.KINDS}")
        if self.target not in self.TARGETS:
            raise ValueError(f"target must be one of {self.TARGETS}")
        if self.count < 1 or self.skip < 0:
            raise ValueError("count must be at least 1 and skip at least 0")
        if self.kind == "http_429" and self.retry_after is None:
            self.retry_after = self.DEFAULT_RETRY_AFTER

    def matches(self, target: str) -> bool:
        """Whether the fault applies to a request to ``target``: its own target, or any for "any"."""
        return self.target in ("any", target)


class FaultQueue:
    """The armed faults of a simulator's state, for the state class to inherit.

    The state sets ``fault_type`` (its ``Fault``) and holds ``lock`` (re-entrant), ``faults`` (the
    armed ones, in the order they fire) and ``faults_fired`` (a Counter per kind, which
    ``take_fault`` counts in).
    """

    fault_type: ClassVar[type] = FaultSpec
    lock: Any
    faults: list
    faults_fired: Counter

    def add_fault(self, kind: str, count: int = 1, **params: Any):
        """Arm a fault (see the state's ``Fault``); faults fire in the order they were added."""
        fault = self.fault_type(kind, count, **params)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def take_fault(self, target: str):
        """Consume one firing of the first armed fault matching a request to ``target``: a copy of
        it that fires once, or None."""
        with self.lock:
            for i, fault in enumerate(self.faults):
                if not fault.matches(target):
                    continue
                if fault.skip:
                    fault.skip -= 1
                    continue
                fault.count -= 1
                if fault.count == 0:
                    del self.faults[i]
                self.faults_fired[fault.kind] += 1
                return replace(fault, count=1, skip=0)
            return None
