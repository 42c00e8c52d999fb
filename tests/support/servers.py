"""Run a small aiohttp app on 127.0.0.1 for the length of a test (peers, stub gateways)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web


@contextlib.asynccontextmanager
async def serve(app: web.Application, port: int = 0) -> AsyncIterator[str]:
    """Run `app` and yield its authority, "127.0.0.1:<port>"."""
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def serve_url(app: web.Application, port: int = 0) -> AsyncIterator[str]:
    """Run `app` and yield its base URL, "http://127.0.0.1:<port>"."""
    async with serve(app, port) as authority:
        yield f"http://{authority}"
