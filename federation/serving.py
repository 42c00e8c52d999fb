"""Run an aiohttp application until SIGINT/SIGTERM, with clear start-up errors."""

from __future__ import annotations

import asyncio
import errno
import logging
import signal

from aiohttp import web

from federation.errors import FederationError

log = logging.getLogger("federation")


class StartupError(FederationError):
    """The server could not start (port in use, cannot bind)."""


async def run_until_stopped(app: web.Application, host: str, port: int, label: str) -> None:
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=5.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise StartupError(f"{label}: port {port} on {host} is already in use") from None
            raise StartupError(f"{label}: cannot listen on {host}:{port}: {exc.strerror}") from None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        log.info("%s listening on http://%s:%d", label, host, port)
        print(f"{label} listening on http://{host}:{port}", flush=True)
        await stop.wait()
        log.info("%s stopping", label)
    finally:
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
        log.info("%s running without an HTTP listener", label)
        print(f"{label} running (no HTTP listener)", flush=True)
        await stop.wait()
        log.info("%s stopping", label)
    finally:
        await runner.cleanup()
