"""URLs the reference backend hands out are ones a browser or the gateway can reach: a
configured backend_public_url, or loopback when it listens on every interface (0.0.0.0), never
the wildcard address itself. Real HTTP on 127.0.0.1: the backend and a recording gateway."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from federation.config import load_settings
from federation.errors import ConfigError
from federation.refbackend.app import create_backend_app
from federation.refbackend.reporter import ReporterSettings
from tests.support.servers import serve_url

pytestmark = pytest.mark.integration

TOKEN = "backend-secret"
FAST = ReporterSettings(initial_backoff=0.05, max_backoff=0.2, idle_poll=0.2, request_timeout=2)


class EventSink:
    """The gateway's event endpoint: records each event and sets `arrived`."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()
        self.app = web.Application()
        self.app.router.add_post("/backend/v1/events", self._events)

    async def _events(self, request: web.Request) -> web.Response:
        self.events.append(await request.json())
        self.arrived.set()
        return web.Response(status=202)


async def create_block(url: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(f"{url}/api/v1/blocks", json={"title": "T"}) as resp:
            assert resp.status == 201, await resp.text()
            body: dict[str, Any] = await resp.json()
            return body


async def test_behind_a_proxy_blocks_carry_the_public_url_and_events_go_to_loopback(
    tmp_path: Path,
) -> None:
    sink = EventSink()
    async with serve_url(sink.app) as gateway_url:
        port = int(gateway_url.rsplit(":", 1)[1])
        settings = load_settings(
            domain="alpha.test",
            backend_token=TOKEN,
            backend_store=tmp_path / "backend.sqlite3",
            listen_host="0.0.0.0",
            listen_port=port,  # no gateway_url given: the backend derives it from this
            backend_public_url="https://alpha.test/kb/",
        )
        app = create_backend_app(settings, reporter=FAST)
        async with serve_url(app) as url:
            made = await create_block(url)
            assert made["url"] == f"https://alpha.test/kb/blocks/{made['id']}"
            await asyncio.wait_for(sink.arrived.wait(), 10)
    assert sink.events[0]["block"]["url"] == made["url"]


async def test_without_a_public_url_a_wildcard_listener_publishes_loopback(tmp_path: Path) -> None:
    settings = load_settings(
        domain="alpha.test",
        backend_token=TOKEN,
        backend_store=tmp_path / "backend.sqlite3",
        listen_host="0.0.0.0",
        backend_listen_port=9123,
    )
    app = create_backend_app(settings, gateway_url="http://127.0.0.1:1", reporter=FAST)
    async with serve_url(app) as url:
        made = await create_block(url)
    assert made["url"] == f"http://127.0.0.1:9123/blocks/{made['id']}"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("http://0.0.0.0:9000", "0.0.0.0 is a listen address"),
        ("https://[::]/kb", ":: is a listen address"),
        ("blocks.example/kb", "must be an http:// or https:// URL"),
    ],
)
def test_a_public_url_nobody_can_reach_is_refused(value: str, reason: str) -> None:
    with pytest.raises(ConfigError, match="backend_public_url") as caught:
        load_settings(domain="alpha.test", backend_public_url=value)
    assert reason in str(caught.value)
