"""A supplier's feed web server on loopback: files, generated feeds and a paged REST API.

Suppliers publish feeds over HTTP(S) with varying manners: some want Basic auth or a Bearer token,
some support resuming (Range, ETag/If-Range) and conditional requests (If-None-Match -> 304), some
compress, and all of them fail now and then. This app does all of that on demand so the feed
transport and the import runs can be tested against real sockets. Serve it with
`sandbox.http.serve_in_thread(create_app(root))`.

Routes (auth applies to all but /_sandbox when the app has credentials):
  GET /files/{path}         a file under `root`; Range, ETag, Last-Modified, If-None-Match, If-Range;
                            gzip Content-Encoding when the app compresses and the client accepts it
  GET /generated/{name}     content made on the fly by a generator: built in, `bytes?size=N`
                            (deterministic CSV-like text, exactly N bytes, never held in memory)
  GET /api/{collection}     `?page=N&per_page=M` (1-based) over a JSON file:
                            {"data": [...], "next": absolute URL or null}
  GET/POST/DELETE /_sandbox/faults   see `Faults`;   GET /_sandbox/requests   the request log

Faults are armed in Python (`app.state.feeds.faults.fail(2)`) or over HTTP
(`POST /_sandbox/faults {"kind": "error", "count": 2, "status": 503}`), each for a number of requests.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import mimetypes
import secrets
import threading
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from email.utils import formatdate
from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..http import STOPPING_SCOPE_KEY

CHUNK = 1024 * 1024
Generator = Callable[[Mapping[str, str]], Iterable[bytes]]


class _CutShort(Exception):
    """Raised mid-body so the server drops the connection (the truncation fault)."""


class _QuietCut(logging.Filter):
    """uvicorn logs a traceback for a response cut short; ours are on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], _CutShort))


_QUIET_CUT = _QuietCut()


@dataclass
class Faults:
    """Misbehaviour armed for the next N data requests. Checked in this order: delay, error,
    rate limit; truncation applies to the body of a request that got through."""

    delays: int = 0
    delay_seconds: float = 0.0
    errors: int = 0
    error_status: int = 500
    rate_limits: int = 0
    retry_after: str = "1"
    truncations: int = 0
    truncate_fraction: float = 0.5

    def fail(self, count: int = 1, status: int = 500) -> None:
        self.errors, self.error_status = count, status

    def rate_limit(self, count: int = 1, retry_after: float | str = 1) -> None:
        self.rate_limits, self.retry_after = count, str(retry_after)

    def slow(self, seconds: float, count: int = 1) -> None:
        """Hold the response (headers included) for `seconds`: a read timeout for the client."""
        self.delays, self.delay_seconds = count, seconds

    def truncate(self, count: int = 1, fraction: float = 0.5) -> None:
        """Declare the full length, send `fraction` of the body, then drop the connection."""
        self.truncations, self.truncate_fraction = count, fraction

    def clear(self) -> None:
        self.__init__()


@dataclass
class RequestRecord:
    method: str
    path: str
    query: str
    status: int
    range: str | None
    authorized: bool


@dataclass
class FeedServerState:
    """What the app serves and how it behaves; tests read `requests` to see what a client sent."""

    root: Path
    auth: tuple[str, str] | None = None  # Basic user, password
    token: str | None = None  # Bearer token
    compress: bool = False  # gzip Content-Encoding for clients that accept it
    api_files: dict[str, Path] = field(default_factory=dict)
    generators: dict[str, Generator] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    requests: list[RequestRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _api_cache: dict[str, tuple[float, list]] = field(default_factory=dict, repr=False)

    def record(self, request: Request, status: int, authorized: bool) -> None:
        with self._lock:
            self.requests.append(RequestRecord(request.method, request.url.path, request.url.query, status,
                                               request.headers.get("range"), authorized))

    def take(self, name: str) -> bool:
        """Consume one armed occurrence of a fault."""
        with self._lock:
            left = getattr(self.faults, name)
            if left > 0:
                setattr(self.faults, name, left - 1)
                return True
            return False

    def authorized(self, request: Request) -> bool:
        if self.auth is None and self.token is None:
            return True
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and self.token is not None:
            return secrets.compare_digest(value.strip().encode(), self.token.encode())
        if scheme.lower() == "basic" and self.auth is not None:
            try:
                user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            # Both compared, always: no early exit that tells a valid user from a wrong one.
            ok_user = secrets.compare_digest(user.encode(), self.auth[0].encode())
            ok_password = secrets.compare_digest(password.encode(), self.auth[1].encode())
            return ok_user and ok_password
        return False

    def collection(self, name: str) -> list | None:
        path = self.api_files.get(name)
        if path is None or not path.is_file():
            return None
        mtime = path.stat().st_mtime
        cached = self._api_cache.get(name)
        if cached is None or cached[0] != mtime:
            data = json.loads(path.read_bytes())
            if isinstance(data, dict):
                data = data.get("data") or data.get("products") or data.get("items") or []
            self._api_cache[name] = cached = (mtime, data)
        return cached[1]


def filler(size: int) -> Iterable[bytes]:
    """Exactly `size` bytes of deterministic CSV-like text, one shared 1 MiB block at a time."""
    line = b"SKU-000000,04006381333931,Generated filler row for transfer tests,19.99,7\n"
    block = line * (CHUNK // len(line) + 1)
    block = block[:CHUNK]
    while size > 0:
        piece = block if size >= CHUNK else block[:size]
        size -= len(piece)
        yield piece


def create_app(root: Path, *, auth: tuple[str, str] | None = None, token: str | None = None,  # noqa: C901 - the count takes in the nested route handlers; each alone is under 20
               compress: bool = False, api_files: Mapping[str, Path] | None = None,
               generators: Mapping[str, Generator] | None = None) -> Starlette:
    """The feed server app over `root`; `app.state.feeds` is its FeedServerState.

    `api_files` maps a collection name to a JSON file (a list, or an object holding one under
    data/products/items); by default `root/products.json` is `/api/products` when it exists.
    `generators` maps `/generated/{name}` to a function of the query parameters yielding bytes."""
    root = Path(root).resolve()
    apis = dict(api_files or {})
    if "products" not in apis and (root / "products.json").is_file():
        apis["products"] = root / "products.json"
    gens: dict[str, Generator] = {"bytes": lambda params: filler(int(params.get("size", "0")))}
    gens.update(generators or {})
    state = FeedServerState(root, auth, token, compress, apis, gens)
    logging.getLogger("uvicorn.error").addFilter(_QUIET_CUT)

    async def gate(request: Request) -> Response | None:
        """Auth and armed faults, before any content is served."""
        if state.take("delays"):
            await _sleep(request, state.faults.delay_seconds)
        if state.take("errors"):
            return _answer(state, request, Response("simulated failure\n", state.faults.error_status))
        if state.take("rate_limits"):
            return _answer(state, request, Response("slow down\n", 429, {"Retry-After": state.faults.retry_after}))
        if not state.authorized(request):
            challenge = 'Basic realm="feeds"' if state.auth else 'Bearer realm="feeds"'
            return _answer(state, request, Response("unauthorized\n", 401, {"WWW-Authenticate": challenge}), False)
        return None

    async def files(request: Request) -> Response:
        if (refused := await gate(request)) is not None:
            return refused
        path = (root / request.path_params["path"]).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return _answer(state, request, Response("not found\n", 404))
        return _answer(state, request, _file_response(state, request, path))

    async def generated(request: Request) -> Response:
        if (refused := await gate(request)) is not None:
            return refused
        name = request.path_params["name"]
        make = gens.get(name)
        if make is None:
            return _answer(state, request, Response("no such generator\n", 404))
        params = dict(request.query_params)
        headers = {"Content-Type": mimetypes.guess_type(name)[0] or "text/plain; charset=utf-8"}
        if name == "bytes":
            headers["Content-Length"] = params.get("size", "0")
        body = _threaded(iter(make(params)))
        if state.take("truncations"):
            body = _cut(body, int(int(params.get("size", "0")) * state.faults.truncate_fraction))
        return _answer(state, request, StreamingResponse(body, 200, headers))

    async def api(request: Request) -> Response:
        if (refused := await gate(request)) is not None:
            return refused
        items = state.collection(request.path_params["collection"])
        if items is None:
            return _answer(state, request, JSONResponse({"error": "no such collection"}, 404))
        try:
            page = max(1, int(request.query_params.get("page", "1")))
            per_page = min(1000, max(1, int(request.query_params.get("per_page", "100"))))
        except ValueError:
            return _answer(state, request, JSONResponse({"error": "page and per_page are integers"}, 400))
        start = (page - 1) * per_page
        more = start + per_page < len(items)
        next_url = str(request.url.include_query_params(page=page + 1, per_page=per_page)) if more else None
        return _answer(state, request, JSONResponse({"data": items[start:start + per_page], "next": next_url}))

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            state.faults.clear()
        elif request.method == "POST":
            spec = await request.json()
            kind, count = spec.get("kind"), int(spec.get("count", 1))
            if kind == "error":
                state.faults.fail(count, int(spec.get("status", 500)))
            elif kind == "rate_limit":
                state.faults.rate_limit(count, spec.get("retry_after", 1))
            elif kind == "slow":
                state.faults.slow(float(spec.get("seconds", 1.0)), count)
            elif kind == "truncate":
                state.faults.truncate(count, float(spec.get("fraction", 0.5)))
            elif kind == "clear":
                state.faults.clear()
            else:
                return JSONResponse({"error": "kind is error, rate_limit, slow, truncate or clear"}, 400)
        return JSONResponse(asdict(state.faults))

    async def request_log(request: Request) -> Response:
        return JSONResponse([asdict(r) for r in state.requests])

    app = Starlette(routes=[
        Route("/files/{path:path}", files, methods=["GET"]),
        Route("/generated/{name}", generated, methods=["GET"]),
        Route("/api/{collection}", api, methods=["GET"]),
        Route("/_sandbox/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/requests", request_log, methods=["GET"]),
    ])
    app.state.feeds = state
    return app


def _answer(state: FeedServerState, request: Request, response: Response, authorized: bool = True) -> Response:
    state.record(request, response.status_code, authorized)
    return response


async def _sleep(request: Request, seconds: float) -> None:
    """A simulated slow server that still lets the sandbox shut down promptly."""
    stopping = request.scope.get(STOPPING_SCOPE_KEY)
    if stopping is None:
        await asyncio.sleep(seconds)
        return
    try:
        await asyncio.wait_for(stopping.wait(), seconds)
    except TimeoutError:
        pass


def _file_response(state: FeedServerState, request: Request, path: Path) -> Response:
    """The file as a well-mannered server sends it: validators, 304, one byte range, or gzip."""
    stat = path.stat()
    etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
    last_modified = formatdate(stat.st_mtime, usegmt=True)
    guessed, encoding = mimetypes.guess_type(path.name)
    # feed.csv.gz is a gzip file to the client, not a CSV in a Content-Encoding.
    media = {"gzip": "application/gzip", "bzip2": "application/x-bzip2"}.get(encoding or "", guessed) \
        or "application/octet-stream"
    headers = {"ETag": etag, "Last-Modified": last_modified, "Accept-Ranges": "bytes", "Content-Type": media}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and (if_none_match.strip() == "*" or etag in [t.strip().removeprefix("W/")
                                                                   for t in if_none_match.split(",")]):
        return Response(status_code=304, headers={"ETag": etag, "Last-Modified": last_modified})
    size = stat.st_size
    start, end = 0, size - 1
    status = 200
    wanted = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if wanted and (if_range is None or if_range in (etag, last_modified)):
        parsed = _parse_range(wanted, size)
        if parsed is None:
            return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
        start, end = parsed
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    length = max(0, end - start + 1)
    if status == 200 and state.compress and "gzip" in request.headers.get("accept-encoding", ""):
        headers.update({"Content-Encoding": "gzip", "ETag": f"W/{etag}", "Vary": "Accept-Encoding"})
        del headers["Accept-Ranges"]
        return StreamingResponse(_gzip(_read(path, 0, size)), 200, headers)
    headers["Content-Length"] = str(length)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)
    body = _read(path, start, length)
    if state.take("truncations"):
        body = _cut(body, int(length * state.faults.truncate_fraction))
    return StreamingResponse(body, status, headers)


def _parse_range(value: str, size: int) -> tuple[int, int] | None:
    """One `bytes=a-b`, `bytes=a-` or `bytes=-n` range, clipped to the file; None if unsatisfiable.
    A multi-range request is answered as if for the first range (allowed, and all clients need)."""
    unit, _, spec = value.partition("=")
    first, _, last = spec.split(",")[0].strip().partition("-")
    if unit.strip().lower() != "bytes":
        return None
    try:
        if first == "":
            count = int(last)
            return (max(0, size - count), size - 1) if count > 0 and size else None
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None
    return (start, end) if start <= end and start < size else None


async def _read(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    """Reads in a worker thread so a big file never stalls the event loop (or other clients)."""
    handle = await anyio.to_thread.run_sync(open, path, "rb")
    try:
        await anyio.to_thread.run_sync(handle.seek, start)
        while length > 0:
            chunk = await anyio.to_thread.run_sync(handle.read, min(CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()


async def _threaded(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    """A generator's chunks, each produced in a worker thread (generators may do real work)."""
    iterator = iter(chunks)
    done = object()
    while (chunk := await anyio.to_thread.run_sync(next, iterator, done)) is not done:
        yield chunk


async def _gzip(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    compressor = zlib.compressobj(5, zlib.DEFLATED, 31)
    async for chunk in chunks:
        if out := compressor.compress(chunk):
            yield out
    yield compressor.flush()


async def _cut(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    sent = 0
    async for chunk in chunks:
        if sent + len(chunk) >= limit:
            yield chunk[: limit - sent]
            raise _CutShort
        sent += len(chunk)
        yield chunk
