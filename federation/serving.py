"""Run an aiohttp application until SIGINT/SIGTERM, with clear start-up errors."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import signal
from collections.abc import Awaitable, Callable

from aiohttp import web

from federation.errors import FederationError
from federation.observability.logs import event

log = logging.getLogger("federation")


class StartupError(FederationError):
    """The server could not start (port in use, cannot bind)."""


class SlowClientGuard:
    """Closes connections whose request headers, or whose announced body, do not arrive in
    time. aiohttp has no header-read timeout: a client sending a byte a second would hold its
    connection (and a file descriptor) forever, and enough of them exhaust the process.

    The header clock starts when a connection opens and stops when aiohttp hands the request
    to the app (the middleware below). Bodies with a Content-Length within the app's size cap
    are read under the body clock; larger ones are left to the routes, which refuse them."""

    def __init__(self, header_timeout: float, body_timeout: float) -> None:
        self._header_timeout = header_timeout
        self._body_timeout = body_timeout
        self._clocks: dict[asyncio.BaseTransport, asyncio.TimerHandle] = {}

    def protocol_factory(self, server: web.Server) -> Callable[[], asyncio.Protocol]:
        return lambda: _Guarded(self, server())

    def start(self, transport: asyncio.BaseTransport) -> None:
        loop = asyncio.get_running_loop()
        self._clocks[transport] = loop.call_later(self._header_timeout, self._expire, transport)

    def stop(self, transport: asyncio.BaseTransport | None) -> None:
        clock = self._clocks.pop(transport, None) if transport is not None else None
        if clock is not None:
            clock.cancel()

    def _expire(self, transport: asyncio.BaseTransport) -> None:
        self._clocks.pop(transport, None)
        log.info("closing a connection whose request headers did not arrive in time")
        transport.close()

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        self.stop(request.transport)
        length = request.content_length
        if request.can_read_body and length is not None and length <= request.client_max_size:
            try:
                async with asyncio.timeout(self._body_timeout):
                    await request.read()  # cached: the route's own read() returns it
            except TimeoutError:
                return await _refuse_and_close(request)
        return await handler(request)


async def _refuse_and_close(request: web.Request) -> web.StreamResponse:
    """Answer 408 and close at once: aiohttp would otherwise linger to read the rest of a body
    that is arriving too slowly on purpose."""
    problem = {
        "type": "about:blank",
        "title": "Request timeout",
        "status": 408,
        "detail": "the request body did not arrive in time",
    }
    response = web.json_response(
        problem,
        status=408,
        content_type="application/problem+json",
        headers={"Connection": "close"},
    )
    await response.prepare(request)
    await response.write_eof()
    request.protocol.force_close()
    return response


class _Guarded(asyncio.Protocol):
    """aiohttp's request handler, with the guard told when its connection opens and closes."""

    def __init__(self, guard: SlowClientGuard, inner: asyncio.Protocol) -> None:
        self._guard = guard
        self._inner = inner
        self._transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        self._inner.connection_made(transport)
        self._guard.start(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._guard.stop(self._transport)
        self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


def settle_heap() -> None:
    """Start-up is over: move the ~70k objects it made (modules, the app, caches' first
    entries) out of the garbage collector's sight. A full collection otherwise walks them all
    every few thousand requests (about 0.1 s each, measured under the inbox bench: a
    latency spike for whatever request it lands on); they live as long as the process anyway."""
    gc.collect()
    gc.freeze()


async def run_until_stopped(
    app: web.Application,
    host: str,
    port: int,
    label: str,
    *,
    header_timeout: float = 10.0,
    body_timeout: float = 30.0,
    reuse_port: bool = False,
) -> None:
    """`reuse_port`: share the port with sibling processes (the kernel spreads connections)."""
    guard = SlowClientGuard(header_timeout, body_timeout)
    app.middlewares.append(guard.middleware)  # innermost: problem+json still wraps it
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=5.0)
    await runner.setup()
    listener: asyncio.Server | None = None
    try:
        loop = asyncio.get_running_loop()
        assert runner.server is not None  # set by setup()
        try:
            listener = await loop.create_server(
                guard.protocol_factory(runner.server),
                host,
                port,
                reuse_address=True,
                reuse_port=reuse_port or None,
            )
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise StartupError(f"{label}: port {port} on {host} is already in use") from None
            raise StartupError(f"{label}: cannot listen on {host}:{port}: {exc.strerror}") from None
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        # One log line (not a print): it carries the instance like every other line.
        event(log, "server.listening", f"{label} listening on http://{host}:{port}", port=port)
        settle_heap()
        await stop.wait()
        log.info("%s stopping", label)
    finally:
        if listener is not None:
            listener.close()  # stop accepting; runner.cleanup() drains the open connections
        await runner.cleanup()


async def run_without_listening(app: web.Application, label: str) -> None:
    """Run the app's start-up and cleanup (its queue workers) until SIGINT/SIGTERM, binding
    no port, so any number of worker processes can run beside the web process."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=5.0)
    await runner.setup()  # runs cleanup_ctx: opens the store, starts the job runner
    try:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        event(log, "server.running", f"{label} running (no HTTP listener)")
        settle_heap()
        await stop.wait()
        log.info("%s stopping", label)
    finally:
        await runner.cleanup()
