"""Instances run inside the test's event loop: the real gateway and reference-backend apps,
served over real HTTP on 127.0.0.1, with direct access to their services for set-up steps."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from federation.app import create_app
from federation.backend.server import create_backend_app
from federation.config import Settings, load_settings
from federation.instance import Instance
from federation.web.appkeys import INSTANCE
from tests.support.cluster import free_port


@dataclass
class Running:
    settings: Settings
    app: web.Application
    backend_app: web.Application

    @property
    def instance(self) -> Instance:
        return self.app[INSTANCE]

    @property
    def url(self) -> str:
        return self.settings.base_url


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


@asynccontextmanager
async def running(
    settings: Settings, *, clock: Callable[[], float] | None = None, backend_reporter: Any = None
) -> AsyncIterator[Running]:
    app = create_app(settings, clock=clock)
    backend_app = create_backend_app(settings, clock=clock, reporter=backend_reporter)
    runners: list[web.AppRunner] = []
    try:
        for a, port in ((backend_app, settings.backend_listen_port), (app, settings.listen_port)):
            runner = web.AppRunner(a, access_log=None)
            await runner.setup()
            runners.append(runner)
            await web.TCPSite(runner, "127.0.0.1", port).start()
        yield Running(settings, app, backend_app)
    finally:
        for runner in reversed(runners):
            await runner.cleanup()
