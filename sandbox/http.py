"""Run a sandbox ASGI app on loopback in a background thread.

Tests and ``make demo`` need a real HTTP server (real sockets, real timeouts, real
dropped connections) next to the code under test, started in milliseconds and stopped
without leaking threads or sockets. Every simulator in ``sandbox`` is served this way.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import uvicorn

# Key under which a request's ASGI scope carries an asyncio.Event that is set when the
# server starts stopping, so long-running sandbox handlers (a simulated hang) can end
# promptly instead of holding the shutdown up.
STOPPING_SCOPE_KEY = "sandbox.stopping"


class _StopSignal:
    """Wraps the app to hand every HTTP request the server's stopping event."""

    def __init__(self, app):
        self.app = app
        self.event: asyncio.Event | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            if self.event is None:
                self.event = asyncio.Event()  # created inside the server's event loop
            scope[STOPPING_SCOPE_KEY] = self.event
        await self.app(scope, receive, send)


class RunningServer:
    """A started server. ``stop()`` is idempotent; usable as a context manager."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, sock: socket.socket,
                 signal: _StopSignal, host: str, grace: float):
        self._server = server
        self._thread = thread
        self._socket = sock
        self._signal = signal
        self.host = host
        self.port: int = sock.getsockname()[1]
        self.grace = grace

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, let in-flight requests finish for up to ``grace`` seconds,
        then cut the rest; returns once the thread has ended."""
        if not self._thread.is_alive():
            self._socket.close()
            return
        loop = getattr(self._server, "sandbox_loop", None)
        if loop is not None and self._signal.event is not None:
            try:
                loop.call_soon_threadsafe(self._signal.event.set)
            except RuntimeError:  # the loop already closed
                pass
        self._server.should_exit = True
        self._thread.join(self.grace + 1.0)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)
        self._socket.close()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class _Server(uvicorn.Server):
    """uvicorn's server, remembering its event loop so ``stop()`` can reach into it."""

    def install_signal_handlers(self) -> None:
        pass  # older uvicorn: signal handlers belong to the main thread's owner

    async def serve(self, sockets=None) -> None:
        self.sandbox_loop = asyncio.get_running_loop()
        await super().serve(sockets=sockets)


def serve_in_thread(app, host: str = "127.0.0.1", port: int = 0, *, grace: float = 1.0,
                    log_level: str = "warning", startup_timeout: float = 5.0) -> RunningServer:
    """Serve ``app`` on ``host:port`` (0 = a free port) from a daemon thread.

    Returns once the server accepts connections. ``grace`` bounds how long ``stop()``
    waits for in-flight requests before cancelling them.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    signal = _StopSignal(app)
    config = uvicorn.Config(signal, log_level=log_level, lifespan="off", access_log=False,
                            timeout_graceful_shutdown=grace, timeout_keep_alive=5)
    server = _Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name=f"sandbox-server-{sock.getsockname()[1]}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"sandbox server on {host}:{port} did not start")
        time.sleep(0.002)
    return RunningServer(server, thread, sock, signal, host, grace)


async def pause(request, seconds: float, until_disconnect: bool) -> None:
    """Sleep up to ``seconds`` inside a simulator's handler; end early when the server stops or, if
    asked, when the client hangs up (the usual end of a simulated hang)."""
    import asyncio

    waits = []
    stopping = request.scope.get(STOPPING_SCOPE_KEY)
    if stopping is not None:
        waits.append(asyncio.ensure_future(stopping.wait()))
    if until_disconnect:
        async def disconnected() -> None:
            while (await request.receive())["type"] != "http.disconnect":
                pass
        waits.append(asyncio.ensure_future(disconnected()))
    if not waits:
        await asyncio.sleep(seconds)
        return
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()


def oversized_json(payload: dict, mebibytes: float, chunk: int = 256 * 1024):
    """A streamed JSON answer: ``payload`` with a padding field that makes it about ``mebibytes``
    MiB, sent in chunks without a Content-Length (the client learns the size only by reading), so a
    simulator can answer "a 400 MB page" without holding 400 MB. The JSON stays valid."""
    import orjson
    from starlette.responses import StreamingResponse

    head = orjson.dumps({**payload, "padding": ""})[:-2]  # ends in ,"padding":"   (no closing quote, brace)
    total = max(0, int(mebibytes * 1024 * 1024))

    async def body():
        yield head
        left, block = total, b"x" * chunk
        while left > 0:
            yield block[:min(chunk, left)]
            left -= chunk
        yield b'"}'

    return StreamingResponse(body(), media_type="application/json")
