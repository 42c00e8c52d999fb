"""Instances run inside the test's event loop: the real gateway and reference-backend apps,
served over real HTTP on 127.0.0.1, with direct access to their services for set-up steps."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from federation.app import create_app
from federation.config import Settings, load_settings
from federation.instance import Instance
from federation.records import Direction, FollowState
from federation.refbackend.app import create_backend_app
from federation.resolve.lookup import ActorLookup
from federation.web.appkeys import INSTANCE
from tests.support.cluster import free_port


@dataclass
class Running:
    settings: Settings
    app: web.Application
    backend_app: web.Application
    backend_runner: web.AppRunner | None = None
    hits: Counter[str] = field(default_factory=Counter)  # gateway requests by "METHOD path"
    _reporter: Any = None
    _clock: Callable[[], float] | None = None

    @property
    def instance(self) -> Instance:
        return self.app[INSTANCE]

    @property
    def url(self) -> str:
        return self.settings.base_url

    async def follow(self, target: Running) -> None:
        """Follow `target` as an operator does: look its actor up, then send the Follow."""
        info = await ActorLookup(self.instance.transport, "http").find(target.settings.domain)
        await self.instance.follows.follow(info)

    async def relation(self, direction: Direction, other: Running) -> FollowState | None:
        """The state of this instance's `direction` relation with `other`, None when none."""
        found = await self.instance.store.get_follow(direction, f"{other.url}/actor")
        return found.state if found else None

    async def has_relation(self, direction: Direction, other: Running, state: FollowState) -> bool:
        return await self.relation(direction, other) is state

    async def stop_backend(self) -> None:
        if self.backend_runner is not None:
            await self.backend_runner.cleanup()
            self.backend_runner = None

    async def start_backend(self) -> None:
        self.backend_app = create_backend_app(
            self.settings, clock=self._clock, reporter=self._reporter
        )
        self.backend_runner = await _serve(self.backend_app, self.settings.backend_listen_port)


def settings_for(tmp: Path, name: str, **overrides: Any) -> Settings:
    port, bport = free_port(), free_port()
    root = tmp / name
    values: dict[str, Any] = {
        "name": name,
        "domain": f"127.0.0.1:{port}",
        "scheme": "http",
        "listen_port": port,
        "backend_url": f"http://127.0.0.1:{bport}",
        "backend_listen_port": bport,
        "backend_token": f"backend-{name}",
        "admin_token": f"admin-{name}",
        "backend_store": str(root / "backend.sqlite3"),
        "store": str(root / "gateway.sqlite3"),
        "key_dir": str(root / "keys"),
        "dev_allow_http": True,
        "allow_private_addresses": ["127.0.0.1"],
    }
    values.update(overrides)
    return load_settings(None, **values)


async def _serve(app: web.Application, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


def _counting(hits: Counter[str]) -> Middleware:
    @web.middleware
    async def count(request: web.Request, handler: Any) -> web.StreamResponse:
        hits[f"{request.method} {request.path}"] += 1
        response: web.StreamResponse = await handler(request)
        return response

    return count


@asynccontextmanager
async def running(
    settings: Settings,
    *,
    clock: Callable[[], float] | None = None,
    backend_reporter: Any = None,
    middlewares: Sequence[Middleware] = (),
    backend_middlewares: Sequence[Middleware] = (),
    environ: Mapping[str, str] | None = None,
) -> AsyncIterator[Running]:
    """`environ`: the gateway's OTEL_* variables (default: none, so tracing is off)."""
    app = create_app(settings, clock=clock, environ=environ or {})
    node = Running(
        settings, app, create_backend_app(settings, clock=clock, reporter=backend_reporter)
    )
    node._reporter, node._clock = backend_reporter, clock
    # Instrumentation only: counts what peers ask of this gateway; it changes nothing.
    for mw in (_counting(node.hits), *middlewares):
        app.middlewares.insert(0, mw)
    for mw in backend_middlewares:  # likewise: sees what reaches the backend
        node.backend_app.middlewares.insert(0, mw)
    gateway_runner: web.AppRunner | None = None
    try:
        node.backend_runner = await _serve(node.backend_app, settings.backend_listen_port)
        gateway_runner = await _serve(app, settings.listen_port)
        yield node
    finally:
        if gateway_runner is not None:
            await gateway_runner.cleanup()
        await node.stop_backend()
