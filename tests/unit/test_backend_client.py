"""BackendClient over real HTTP on 127.0.0.1: against the real reference backend, and against
tiny misbehaving servers (down, hanging, 5xx, garbage, redirecting) that stand for a broken
backend."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from federation.backend.client import BackendClient, BackendRejected
from federation.backend.contract import InboundNotification, Visibility
from federation.config import load_settings
from federation.errors import BackendError
from federation.refbackend.app import create_backend_app
from tests.support.servers import serve_url as serve

TOKEN = "backend-secret"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def backend_url(tmp_path: Path) -> AsyncIterator[str]:
    settings = load_settings(
        domain="alpha.test", backend_token=TOKEN, backend_store=tmp_path / "b.sqlite3"
    )
    # The gateway URL points at a closed port: these tests do not look at reported events.
    async with serve(create_backend_app(settings, gateway_url="http://127.0.0.1:9")) as url:
        yield url


def stub(handler: Any) -> web.Application:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


async def test_get_block_and_missing_block(
    session: aiohttp.ClientSession, backend_url: str
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    body = {"id": "notes/2025 q1:draft", "title": "Q1", "visibility": "private"}
    async with session.post(f"{backend_url}/api/v1/blocks", json=body, headers=auth) as resp:
        assert resp.status == 201
    client = BackendClient(session=session, base_url=backend_url + "/", token=TOKEN)
    block = await client.get_block("notes/2025 q1:draft")
    assert block is not None
    assert block.title == "Q1" and block.visibility is Visibility.PRIVATE
    assert await client.get_block("nope") is None


async def test_list_federated_pages_through_public_blocks(
    session: aiohttp.ClientSession, backend_url: str
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for n in range(25):
        body = {
            "id": f"b{n:02d}",
            "title": "t",
            "visibility": "private" if n % 5 == 0 else "public",
        }
        async with session.post(f"{backend_url}/api/v1/blocks", json=body, headers=auth) as resp:
            assert resp.status == 201
    client = BackendClient(session=session, base_url=backend_url, token=TOKEN)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await client.list_federated(cursor, 7)
        pages += 1
        seen.extend(block.id for block in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [f"b{n:02d}" for n in range(25) if n % 5]
    assert pages == 3
    with pytest.raises(ValueError, match="limit"):
        await client.list_federated(None, 201)


async def test_notify_delivers_to_the_backend(
    session: aiohttp.ClientSession, backend_url: str
) -> None:
    client = BackendClient(session=session, base_url=backend_url, token=TOKEN)
    note = InboundNotification.model_validate(
        {
            "id": "n1",
            "type": "follow.changed",
            "follow": {
                "direction": "follower",
                "actor": "https://beta.test/actor",
                "domain": "beta.test",
                "state": "accepted",
            },
        }
    )
    await client.notify(note)
    await client.notify(note)  # a repeat is acknowledged too
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with session.get(f"{backend_url}/api/v1/follows", headers=auth) as resp:
        items = (await resp.json())["items"]
    assert [i["actor"] for i in items] == ["https://beta.test/actor"]


async def test_wrong_token_is_a_rejection(session: aiohttp.ClientSession, backend_url: str) -> None:
    client = BackendClient(session=session, base_url=backend_url, token="wrong")
    with pytest.raises(BackendRejected) as info:
        await client.get_block("x")
    assert info.value.status == 401
    assert "bearer token" in str(info.value)


async def test_backend_down_fails_fast(session: aiohttp.ClientSession) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nobody listens
    client = BackendClient(
        session=session, base_url=f"http://127.0.0.1:{port}", token=TOKEN, timeout=5.0
    )
    started = time.monotonic()
    with pytest.raises(BackendError, match=r"127\.0\.0\.1"):
        await client.get_block("x")
    assert time.monotonic() - started < 1.0


async def test_hanging_backend_times_out(session: aiohttp.ClientSession) -> None:
    release = asyncio.Event()

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)  # the request arrives; no answer ever leaves
        await release.wait()
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = BackendClient(
        session=session, base_url=f"http://127.0.0.1:{port}", token=TOKEN, timeout=0.5
    )
    started = time.monotonic()
    try:
        with pytest.raises(BackendError, match="timed out"):
            await client.list_federated(None, 10)
    finally:
        release.set()
        server.close()
        await server.wait_closed()
    assert 0.4 < time.monotonic() - started < 2.0


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_backend_errors(
    session: aiohttp.ClientSession, status: int
) -> None:
    async def failing(request: web.Request) -> web.Response:
        return web.json_response({"title": "boom", "detail": "db down"}, status=status)

    async with serve(stub(failing)) as url:
        client = BackendClient(session=session, base_url=url, token=TOKEN)
        for call in (client.get_block("x"), client.list_federated(None, 5)):
            with pytest.raises(BackendError, match=f"{status}.*db down") as info:
                await call
            assert not isinstance(info.value, BackendRejected)


@pytest.mark.parametrize(
    "body",
    [b"<html>not json</html>", b'{"id": "x"}', b"[]", b""],
)
async def test_unparsable_answers_are_backend_errors(
    session: aiohttp.ClientSession, body: bytes
) -> None:
    async def garbage(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    async with serve(stub(garbage)) as url:
        client = BackendClient(session=session, base_url=url, token=TOKEN)
        with pytest.raises(BackendError, match="not a valid Block"):
            await client.get_block("x")
        with pytest.raises(BackendError, match="BlockPage"):
            await client.list_federated(None, 5)


async def test_oversized_answer_is_refused(session: aiohttp.ClientSession) -> None:
    async def huge(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 5000, content_type="application/json")

    async with serve(stub(huge)) as url:
        client = BackendClient(session=session, base_url=url, token=TOKEN, max_response_bytes=4096)
        with pytest.raises(BackendError, match="larger than 4096"):
            await client.get_block("x")


async def test_token_is_never_sent_on_a_redirect(session: aiohttp.ClientSession) -> None:
    seen_elsewhere: list[str | None] = []

    async def elsewhere(request: web.Request) -> web.Response:
        seen_elsewhere.append(request.headers.get("Authorization"))
        return web.json_response({"items": [], "next_cursor": None})

    async with serve(stub(elsewhere)) as other_url:

        async def redirecting(request: web.Request) -> web.Response:
            # The real backend must see the token; the redirect target must not.
            assert request.headers["Authorization"] == f"Bearer {TOKEN}"
            raise web.HTTPFound(other_url + request.path_qs)

        async with serve(stub(redirecting)) as url:
            client = BackendClient(session=session, base_url=url, token=TOKEN)
            with pytest.raises(BackendError, match="redirect"):
                await client.list_federated(None, 5)
            with pytest.raises(BackendError, match="redirect"):
                await client.get_block("x")
    assert seen_elsewhere == []
