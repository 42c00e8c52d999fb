"""Fixtures of the signed HTTP client's tests: an in-memory HostStore (the port, not one of our
adapters), a clock that moves, real aiohttp servers on 127.0.0.1 and transports built on them."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa

from federation.config import Settings, load_settings
from federation.http.transport import Transport, make_session
from federation.records import HostFailure, HostHealth
from federation.signatures import SigningKey

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ServerFactory = Callable[..., Awaitable[TestServer]]
NOW = 1_800_000_000.0


class MemoryHosts:
    """An in-memory HostStore (the port, not one of our adapters), counting field writes.
    The transport only reads records and writes the learned scheme."""

    def __init__(self) -> None:
        self.rows: dict[str, HostHealth] = {}
        self.puts = 0

    async def get_host(self, host: str) -> HostHealth | None:
        return self.rows.get(host)

    async def list_hosts(self, unavailable_only: bool = False) -> list[HostHealth]:
        return [h for h in self.rows.values() if h.unavailable or not unavailable_only]

    async def set_signature_scheme(self, host: str, scheme: str) -> None:
        self._write(host, signature_scheme=scheme)

    async def record_failure(self, host: str, failure: HostFailure) -> HostHealth:
        raise AssertionError("the transport judges no deliveries")

    async def record_success(self, host: str, at: float) -> None:
        raise AssertionError("the transport judges no deliveries")

    async def reset_host(self, host: str) -> HostHealth | None:
        raise AssertionError("the transport resets no hosts")

    def _write(self, host: str, **fields: Any) -> None:
        self.puts += 1
        self.rows[host] = dataclasses.replace(
            self.rows.get(host) or HostHealth(host=host), **fields
        )


class Clock:
    """Advances 10 s per reading, so every signature gets a new Date."""

    def __init__(self) -> None:
        self._ticks = itertools.count()

    def __call__(self) -> float:
        return NOW + 10 * next(self._ticks)


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def key(rsa_key: rsa.RSAPrivateKey) -> SigningKey:
    return SigningKey(key_id="http://127.0.0.1:8000/actor#main-key", private_key=rsa_key)


def loopback_settings(tmp: Path, domain: str, **values: Any) -> Settings:
    """A gateway at `domain` that may speak plain HTTP to 127.0.0.1 (where the tests' peers
    listen), its keys and its backend's store under `tmp`; `values` add to or override."""
    defaults: dict[str, Any] = {
        "scheme": "http",
        "dev_allow_http": True,
        "allow_private_addresses": ["127.0.0.1"],
        "backend_store": str(tmp / "backend.sqlite3"),
        "key_dir": str(tmp / "keys"),
    }
    return load_settings(domain=domain, **{**defaults, **values})


def dev_settings(**limits: Any) -> Settings:
    return load_settings(
        domain="127.0.0.1:8000",
        scheme="http",
        dev_allow_http=True,
        allow_private_addresses=["127.0.0.1"],
        limits=limits,
    )


@pytest.fixture
def hosts() -> MemoryHosts:
    return MemoryHosts()


@pytest.fixture
async def make_transport(
    key: SigningKey, hosts: MemoryHosts
) -> AsyncIterator[Callable[..., Transport]]:
    sessions = []

    def build(settings: Settings | None = None, store: MemoryHosts | None = None) -> Transport:
        settings = settings or dev_settings()
        session = make_session(settings)
        sessions.append(session)
        return Transport(
            session=session, settings=settings, key=key, hosts=store or hosts, clock=Clock()
        )

    yield build
    for session in sessions:
        await session.close()


@pytest.fixture
def serve(aiohttp_server: ServerFactory) -> Callable[..., Awaitable[TestServer]]:
    async def start(routes: dict[str, Handler], host: str = "127.0.0.1") -> TestServer:
        app = web.Application()
        for path, handler in routes.items():
            app.router.add_route("*", path, handler)
        return await aiohttp_server(app, host=host)

    return start
