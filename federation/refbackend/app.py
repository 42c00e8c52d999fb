"""The reference backend application: wiring, lifecycle, and a `serve` entry for the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable

import aiohttp
from aiohttp import web

from federation.config import Settings
from federation.refbackend.blocks import BlockService
from federation.refbackend.gateway import GatewayLink
from federation.refbackend.http import MAX_BODY_BYTES, auth_middleware, problem_middleware
from federation.refbackend.pages import PUBLIC_PREFIXES
from federation.refbackend.pages import routes as page_routes
from federation.refbackend.reporter import EventReporter, ReporterSettings
from federation.refbackend.routes import BLOCKS, CLOCK, GATEWAY, REPORTER, STORE
from federation.refbackend.routes import routes as api_routes
from federation.refbackend.store import BackendStore

log = logging.getLogger("federation.backend.server")


def default_gateway_url(settings: Settings) -> str:
    """The backend runs beside its gateway (same host, or same network namespace in Docker)."""
    return settings.local_url(settings.listen_port)


def default_public_url(settings: Settings) -> str:
    return settings.backend_page_url


def create_backend_app(
    settings: Settings,
    *,
    clock: Callable[[], float] | None = None,
    gateway_url: str | None = None,
    public_url: str | None = None,
    reporter: ReporterSettings | None = None,
) -> web.Application:
    """The reference backend for one instance. Store, session and reporter live only while the
    app runs (cleanup_ctx), so the same settings can start it again on the same file."""
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[problem_middleware, auth_middleware(settings.backend_token, PUBLIC_PREFIXES)],
    )
    app[CLOCK] = clock or time.time
    app.add_routes(api_routes)
    app.add_routes(page_routes)
    app.cleanup_ctx.append(
        _lifecycle(
            settings,
            gateway_url or default_gateway_url(settings),
            public_url or default_public_url(settings),
            reporter or ReporterSettings(),
        )
    )
    return app


def _lifecycle(
    settings: Settings, gateway_url: str, public_url: str, reporter_settings: ReporterSettings
) -> Callable[[web.Application], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        clock = app[CLOCK]
        store = BackendStore(settings.backend_store)
        session = aiohttp.ClientSession()
        link = GatewayLink(
            session, gateway_url, settings.backend_token, timeout=reporter_settings.request_timeout
        )
        reporter = EventReporter(store, link, clock, reporter_settings)
        app[STORE] = store
        app[GATEWAY] = link
        app[REPORTER] = reporter
        app[BLOCKS] = BlockService(store, clock, settings.name, public_url)
        task = asyncio.create_task(reporter.run(), name="backend-event-reporter")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await session.close()
            store.close()

    return lifecycle


async def serve_backend(
    settings: Settings, *, gateway_url: str | None = None, ready: asyncio.Event | None = None
) -> None:
    """Run the reference backend on listen_host:backend_listen_port until cancelled."""
    app = create_backend_app(settings, gateway_url=gateway_url)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.listen_host, settings.backend_listen_port)
        await site.start()
        log.info(
            "reference backend of %s on http://%s:%d (store %s)",
            settings.name,
            settings.listen_host,
            settings.backend_listen_port,
            settings.backend_store,
        )
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()  # until cancelled
    finally:
        await runner.cleanup()
