"""The composition root: the only module that names concrete adapters."""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from aiohttp import web
from aiohttp.typedefs import Middleware

from federation.admin import (
    blocklist_routes,
    depth,
    health_routes,
    moderation_routes,
    pause_routes,
    subscription_routes,
    subscription_schedule,
)
from federation.admin import routes as admin_routes
from federation.admin.api import ADMIN, admin_service
from federation.config import Settings
from federation.delivery.events import BlockEvents
from federation.errors import ConfigError
from federation.inbound.pipeline import InboundRequest
from federation.instance import Instance, build_instance
from federation.keys import InstanceKeys, load_or_create_keys
from federation.observability.setup import Telemetry, build_telemetry
from federation.ports import Store
from federation.signatures import SignedRequest, Verified, verify_request
from federation.web import (
    block_routes,
    collection_routes,
    discovery_routes,
    events_routes,
    inbox_routes,
    metrics_routes,
    mirror_routes,
    resolve_routes,
)
from federation.web.appkeys import (
    BACKEND,
    BLOCK_EVENTS,
    CLOCK,
    INBOX,
    INSTANCE,
    KEYS,
    MIRROR_LIMIT,
    MIRRORS,
    PROOF_SIGNER,
    RENDERED_BLOCKS,
    RESOLVER,
    SETTINGS,
    SIGNATURE_VERIFIER,
    STORE,
    TELEMETRY,
)
from federation.web.backpressure import backpressure
from federation.web.limits import per_minute
from federation.web.problems import problem_middleware
from federation.web.rendered import RenderedBlocks

ROLES = ("web", "worker", "all")
log = logging.getLogger("federation.app")


def open_store(settings: Settings) -> Store:
    """The adapter named by `settings.store`: a SQLite path (default) or a mongodb:// URL."""
    if _is_shared(settings):
        from federation.storage.mongodb import MongoStore

        return MongoStore(settings.store)
    from federation.storage.sqlite import SqliteStore

    return SqliteStore(settings.store, synchronous=settings.sqlite_synchronous)


def _is_shared(settings: Settings) -> bool:
    """Whether other processes may work on this store (MongoDB is for several workers)."""
    return settings.store.startswith(("mongodb://", "mongodb+srv://"))


ROUTES = (
    discovery_routes,
    inbox_routes,
    events_routes,
    resolve_routes,
    block_routes,
    collection_routes,
    admin_routes,
    metrics_routes,
    health_routes,
    moderation_routes,
    pause_routes,
    blocklist_routes,
    subscription_routes,
    mirror_routes,
)


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    clock: Callable[[], float] | None = None,
    keys: InstanceKeys | None = None,
    role: str = "all",
    environ: Mapping[str, str] | None = None,
    owns_store: bool = True,
) -> web.Application:
    """The gateway. role "web" serves HTTP only; "worker" runs queue workers only; "all" both.
    `environ` (default: the process environment) is where OTEL_* variables are read.
    `owns_store` False: sibling processes share the store (serve --processes)."""
    if role not in ROLES:
        raise ConfigError(f"role must be one of {', '.join(ROLES)}")
    clock = clock or time.time
    # Outermost first: every request measured, every refusal rendered, then the per-peer limit.
    middlewares: list[Middleware] = [metrics_routes.observe_requests, problem_middleware]
    middlewares.append(backpressure(settings.limits, clock))
    app = web.Application(middlewares=middlewares, client_max_size=settings.limits.max_body_bytes)
    app[TELEMETRY] = build_telemetry(
        settings.name,
        metrics=bool(settings.metrics_token),
        environ=os.environ if environ is None else environ,
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[KEYS] = keys if keys is not None else load_or_create_keys(settings.key_dir)
    app[STORE] = store if store is not None else open_store(settings)
    app.cleanup_ctx.append(functools.partial(_services, role=role, owns_store=owns_store))
    app.cleanup_ctx.append(inbox_routes.refusal_log)
    if role != "web":
        app.cleanup_ctx.append(subscription_schedule.scheduling)
    if role != "worker":
        app.cleanup_ctx.append(depth.sampling)
    for module in ROUTES:
        app.router.add_routes(module.routes)
    return app


async def _services(app: web.Application, *, role: str, owns_store: bool) -> AsyncIterator[None]:
    """The instance's services for the app's lifetime: built, started, and closed."""
    settings, store, clock, telemetry = app[SETTINGS], app[STORE], app[CLOCK], app[TELEMETRY]
    await store.open()
    instance = build_instance(settings, store, app[KEYS], clock, telemetry=telemetry)
    _share(app, instance)
    if role == "all" and owns_store and not _is_shared(settings):
        await _release_leases(store, clock)
    if role in ("worker", "all"):
        await instance.start_workers()
    listener = await _metrics_listener(settings, telemetry, store)
    try:
        yield
    finally:
        if listener is not None:
            await listener.cleanup()
        await instance.close()
        await store.close()
        telemetry.shutdown()


def _share(app: web.Application, instance: Instance) -> None:
    """What the routes use, each under its own typed key (web/appkeys.py)."""
    clock = app[CLOCK]
    app[INSTANCE] = instance
    app[RESOLVER] = instance.resolver
    app[BACKEND] = instance.backend
    app[PROOF_SIGNER] = instance.signer
    app[RENDERED_BLOCKS] = rendered = RenderedBlocks()
    app[INBOX] = instance.inbox
    app[BLOCK_EVENTS] = BlockEvents(
        queue=instance.store, clock=clock, wake=instance.runner.wake, changed=rendered.changed
    )
    app[MIRRORS] = instance.mirrors
    app[MIRROR_LIMIT] = per_minute(mirror_routes.ANSWERS_PER_MINUTE, clock)
    app[SIGNATURE_VERIFIER] = _verifier(app)
    app[ADMIN] = admin_service(instance, clock)


async def _release_leases(store: Store, clock: Callable[[], float]) -> None:
    """A single-process gateway on SQLite owns its store: any lease in it belongs to this
    process's previous incarnation, which is dead. Waiting for those leases to expire would
    hold the backlog for a whole lease after a crash."""
    released = await store.release_all_leases(clock())
    if released:
        log.info("released %d lease(s) left by a previous run", released)


async def _metrics_listener(
    settings: Settings, telemetry: Telemetry, store: Store
) -> web.AppRunner | None:
    """GET /metrics on its own port when `metrics_listen_port` is set: how a worker process,
    which serves no HTTP otherwise, is scraped."""
    if settings.metrics_listen_port is None:
        return None
    app = metrics_routes.metrics_app(telemetry, settings.metrics_token, store)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.listen_host, settings.metrics_listen_port).start()
    except OSError as exc:
        await runner.cleanup()
        where = f"{settings.listen_host}:{settings.metrics_listen_port}"
        raise ConfigError(
            f"metrics_listen_port: cannot listen on {where}: {exc.strerror}"
        ) from None
    log.info("metrics on http://%s:%d/metrics", settings.listen_host, settings.metrics_listen_port)
    return runner


def _verifier(app: web.Application) -> Callable[[web.Request], Awaitable[object | None]]:
    """Authorized fetch: who signed a GET, or None."""

    async def verify(request: web.Request) -> object | None:
        instance = app[INSTANCE]
        req = InboundRequest(
            request.method, app[SETTINGS].base_url + request.path_qs, request.headers, b""
        )
        result = await verify_request(
            SignedRequest(method=req.method, url=req.url, headers=req.headers, body=req.body),
            instance.key_service.resolve,
            app[CLOCK](),
            skew=float(app[SETTINGS].limits.clock_skew_seconds),
        )
        return result if isinstance(result, Verified) else None

    return verify
