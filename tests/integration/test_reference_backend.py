"""The reference backend over real HTTP on 127.0.0.1: management API, contract endpoints,
human page, and the outbox reporter.

The gateway side is played by a small aiohttp stub app (GatewayStub): the gateway's routes are
not part of this module, and the stub implements exactly the documented contract.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web

from federation.config import Settings, load_settings
from federation.refbackend.app import create_backend_app
from federation.refbackend.reporter import ReporterSettings
from federation.urn import BlockUrn
from tests.support.servers import serve_url as serve

pytestmark = pytest.mark.integration

TOKEN = "backend-secret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FAST = ReporterSettings(initial_backoff=0.05, max_backoff=0.2, idle_poll=0.2, request_timeout=2)
T0 = 1_750_000_000.0


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class GatewayStub:
    """A fake gateway: records events (in arrival order) and answers resolve requests."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.statuses = statuses or []  # answers for the first posts, then 202
        self.resolve_queries: list[str] = []
        self.app = web.Application()
        self.app.router.add_post("/backend/v1/events", self._events)
        self.app.router.add_get("/backend/v1/resolve", self._resolve)

    async def _events(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"title": "Unauthorized", "status": 401}, status=401)
        if self.statuses:
            return web.json_response({"title": "nope"}, status=self.statuses.pop(0))
        self.events.append(await request.json())
        return web.Response(status=202)

    async def _resolve(self, request: web.Request) -> web.Response:
        assert request.headers.get("Authorization") == f"Bearer {TOKEN}"
        urn = request.query["urn"]
        self.resolve_queries.append(urn)
        return web.json_response(
            {"urn": urn, "status": "not_found", "block": None, "error": None, "cached": False}
        )


def settings_for(tmp_path: Path) -> Settings:
    return load_settings(
        name="alpha",
        domain="alpha.test",
        backend_token=TOKEN,
        backend_store=tmp_path / "backend.sqlite3",
    )


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


@contextlib.asynccontextmanager
async def backend(
    tmp_path: Path, gateway_url: str, clock: Callable[[], float] | None = None
) -> AsyncIterator[str]:
    app = create_backend_app(
        settings_for(tmp_path), clock=clock, gateway_url=gateway_url, reporter=FAST
    )
    async with serve(app) as url:
        yield url


async def drained(http: aiohttp.ClientSession, url: str, timeout: float = 5.0) -> None:
    """Wait until the backend's outbox is empty: every event acknowledged (or dropped as
    rejected), so nothing more will be sent. The barrier after which "nothing more arrived"
    means something."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with http.get(f"{url}/healthz") as resp:
            if (await resp.json())["pending_events"] == 0:
                return
        assert asyncio.get_running_loop().time() < deadline, "events still pending"
        await asyncio.sleep(0.02)


async def create(http: aiohttp.ClientSession, url: str, **fields: Any) -> dict[str, Any]:
    async with http.post(f"{url}/api/v1/blocks", json={"title": "T", **fields}) as resp:
        assert resp.status == 201, await resp.text()
        body: dict[str, Any] = await resp.json()
        return body


async def problem(resp: aiohttp.ClientResponse, status: int) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/problem+json"
    body: dict[str, Any] = await resp.json()
    assert body["status"] == status and body["title"] and "detail" in body
    return body


# -- management API -------------------------------------------------------------------------


async def test_crud_through_the_management_api(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    clock = FakeClock()
    async with backend(tmp_path, "http://127.0.0.1:1", clock) as url:
        made = await create(http, url, title="Meeting notes", content="x", references=["r1"])
        assert made["id"].startswith("meeting-notes-")
        assert made["author"] == "alpha" and made["visibility"] == "public"
        assert made["created_at"] == made["updated_at"] == "2025-06-15T15:06:40Z"
        assert made["url"] == f"http://127.0.0.1:9000/blocks/{made['id']}"
        block_url = f"{url}/api/v1/blocks/{made['id']}"
        async with http.get(block_url) as resp:
            assert resp.status == 200 and await resp.json() == made

        clock.now += 60
        async with http.patch(block_url, json={"content": "y", "visibility": "private"}) as resp:
            edited = await resp.json()
        assert edited["content"] == "y" and edited["visibility"] == "private"
        assert edited["updated_at"] == "2025-06-15T15:07:40Z"
        assert edited["created_at"] == made["created_at"] and edited["title"] == "Meeting notes"

        chosen = await create(http, url, id="my/own id", title="Mine")
        assert chosen["id"] == "my/own id"
        async with http.get(f"{url}/api/v1/blocks/{quote('my/own id', safe='')}") as resp:
            assert (await resp.json())["title"] == "Mine"
        async with http.post(f"{url}/api/v1/blocks", json={"id": "my/own id", "title": "x"}) as r:
            await problem(r, 409)

        async with http.delete(block_url) as resp:
            assert resp.status == 204
        async with http.get(block_url) as resp:
            assert "meeting-notes" in (await problem(resp, 404))["detail"]
        async with http.delete(block_url) as resp:
            await problem(resp, 404)
        async with http.patch(block_url, json={"title": "z"}) as resp:
            await problem(resp, 404)


@pytest.mark.parametrize(
    ("method", "body", "field"),
    [
        ("POST", {"content": "no title"}, "title"),
        ("POST", {"title": "t", "visibility": "secret"}, "visibility"),
        ("POST", {"title": "t", "visibility": "embargoed"}, "embargo_until"),
        ("POST", {"title": "t", "embargo_until": "tomorrow"}, "embargo_until"),
        ("POST", {"title": "t", "titel": "typo"}, "titel"),
        ("POST", {"title": "t", "id": ""}, "id"),
        ("POST", {"title": "t", "references": "r1"}, "references"),
        ("PATCH", {"content": 5}, "content"),
        ("PATCH", {"visibility": "embargoed"}, "embargo_until"),
        ("PATCH", {"author": "someone else"}, "author"),
    ],
)
async def test_bad_bodies_are_422_naming_the_field(
    tmp_path: Path, http: aiohttp.ClientSession, method: str, body: dict[str, Any], field: str
) -> None:
    async with backend(tmp_path, "http://127.0.0.1:1") as url:
        target = f"{url}/api/v1/blocks"
        if method == "PATCH":
            target += "/" + (await create(http, url))["id"]
        async with http.request(method, target, json=body) as resp:
            answer = await problem(resp, 422)
        assert field in answer["detail"]


async def test_malformed_and_oversized_bodies(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    async with backend(tmp_path, "http://127.0.0.1:1") as url:
        async with http.post(f"{url}/api/v1/blocks", data=b"{not json") as resp:
            await problem(resp, 400)
        huge = {"title": "t", "content": "x" * (1024 * 1024)}
        async with http.post(f"{url}/api/v1/blocks", json=huge) as resp:
            await problem(resp, 413)
        async with http.get(f"{url}/api/v1/nothing-here") as resp:
            await problem(resp, 404)


async def test_missing_or_wrong_token_is_401(tmp_path: Path) -> None:
    async with backend(tmp_path, "http://127.0.0.1:1") as url, aiohttp.ClientSession() as anon:
        cases = [
            ("GET", "/api/v1/blocks", {}),
            ("GET", "/api/v1/blocks/x", {"Authorization": "Bearer wrong"}),
            ("POST", "/api/v1/blocks", {"Authorization": TOKEN}),  # no "Bearer "
            ("POST", "/api/v1/inbound", {"Authorization": "Bearer " + TOKEN + "x"}),
            ("GET", "/api/v1/remote-blocks", {}),
            ("GET", "/api/v1/follows", {}),
            ("GET", "/api/v1/resolve?urn=x", {}),
        ]
        for method, path, headers in cases:
            async with anon.request(method, url + path, headers=headers, json={}) as resp:
                await problem(resp, 401)
                assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        async with anon.get(f"{url}/healthz") as resp:
            assert resp.status == 200 and (await resp.json())["status"] == "ok"


async def test_an_empty_configured_token_locks_the_api(tmp_path: Path) -> None:
    settings = settings_for(tmp_path).model_copy(update={"backend_token": ""})
    async with serve(create_backend_app(settings)) as url, aiohttp.ClientSession() as anon:
        async with anon.get(f"{url}/api/v1/blocks", headers={"Authorization": "Bearer "}) as r:
            await problem(r, 401)


# -- gateway -> backend contract ------------------------------------------------------------


async def fetch_all(
    http: aiohttp.ClientSession, url: str, query: str, limit: int, between: Any = None
) -> list[str]:
    ids: list[str] = []
    cursor = ""
    while True:
        async with http.get(f"{url}/api/v1/blocks?{query}&limit={limit}&cursor={cursor}") as r:
            assert r.status == 200
            page = await r.json()
        assert len(page["items"]) <= limit
        ids.extend(item["id"] for item in page["items"])
        if page["next_cursor"] is None:
            return ids
        cursor = page["next_cursor"]
        if between is not None:
            await between()
            between = None


async def test_federated_list_pages_through_everything_once(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with backend(tmp_path, "http://127.0.0.1:1") as url:
        expected_federated: list[str] = []
        every: list[str] = []
        for n in range(450):
            vis = ["public", "private", "embargoed"][n % 3]
            extra = {"embargo_until": "2099-01-01T00:00:00Z"} if vis == "embargoed" else {}
            made = await create(http, url, id=f"b{n:03d}", visibility=vis, **extra)
            every.append(made["id"])
            if vis != "private":
                expected_federated.append(made["id"])

        late: list[str] = []

        async def create_one_more() -> None:  # a block created mid-backfill is not missed
            late.append((await create(http, url, id="late"))["id"])

        federated = await fetch_all(http, url, "federated=1", 200, create_one_more)
        assert federated == [*expected_federated, "late"]
        assert await fetch_all(http, url, "federated=1", 7) == [*expected_federated, "late"]
        assert await fetch_all(http, url, "x=1", 200) == [*every, "late"]

        for bad in ("limit=0", "limit=201", "limit=abc", "cursor=%21%21"):
            async with http.get(f"{url}/api/v1/blocks?federated=1&{bad}") as resp:
                await problem(resp, 400)


def upsert(note_id: str, urn: str, title: str, updated: str) -> dict[str, Any]:
    name = BlockUrn.parse(urn)
    block = {
        "id": name.local_id,
        "kind": "note",
        "title": title,
        "content": "",
        "author": "bob",
        "visibility": "public",
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": updated,
        "urn": urn,
        "origin": "beta.test",
        "object_url": name.to_url("https"),  # a remote block's names must agree
    }
    return {"id": note_id, "type": "remote_block.upsert", "urn": urn, "block": block}


async def test_inbound_is_idempotent_by_id(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    urn = "urn:block:beta.test:notes%2F1"
    async with backend(tmp_path, "http://127.0.0.1:1") as url:
        inbound = f"{url}/api/v1/inbound"
        # The URN's own %2F must survive: the path segment is percent-encoded once more.
        one = f"{url}/api/v1/remote-blocks/{quote(urn, safe='')}"
        for note in (
            upsert("n1", urn, "first", "2025-01-02T00:00:00Z"),
            upsert("n1", urn, "replayed id", "2025-01-09T00:00:00Z"),  # same id: ignored
            upsert("n2", urn, "stale", "2025-01-01T12:00:00Z"),  # older version: ignored
        ):
            async with http.post(inbound, json=note) as resp:
                assert resp.status == 204
        async with http.get(one) as resp:
            assert (await resp.json())["title"] == "first"
        async with http.post(
            inbound, json=upsert("n3", urn, "second", "2025-01-03T00:00:00Z")
        ) as r:
            assert r.status == 204
        async with http.get(f"{url}/api/v1/remote-blocks") as resp:
            items = (await resp.json())["items"]
        assert [(i["urn"], i["title"]) for i in items] == [(urn, "second")]

        delete = {"id": "n4", "type": "remote_block.delete", "urn": urn}
        for _ in range(2):
            async with http.post(inbound, json=delete) as resp:
                assert resp.status == 204
        async with http.get(one) as resp:
            await problem(resp, 404)
        async with http.post(inbound, json={"id": "n5", "type": "remote_block.upsert"}) as resp:
            assert "urn" in (await problem(resp, 422))["detail"]


async def test_follow_changes_keep_the_last_state_per_actor(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with backend(tmp_path, "http://127.0.0.1:1") as url:
        changes = [
            ("f1", "following", "https://beta.test/actor", "pending"),
            ("f2", "following", "https://beta.test/actor", "accepted"),
            ("f3", "follower", "https://gamma.test/actor", "accepted"),
        ]
        for note_id, direction, actor, state in changes:
            follow = {"direction": direction, "actor": actor, "domain": actor[8:18], "state": state}
            note = {"id": note_id, "type": "follow.changed", "follow": follow}
            async with http.post(f"{url}/api/v1/inbound", json=note) as resp:
                assert resp.status == 204
        async with http.get(f"{url}/api/v1/follows") as resp:
            items = (await resp.json())["items"]
        assert [(i["actor"], i["direction"], i["state"]) for i in items] == [
            ("https://beta.test/actor", "following", "accepted"),
            ("https://gamma.test/actor", "follower", "accepted"),
        ]


async def test_human_page_is_escaped_and_hides_unreleased_blocks(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    clock = FakeClock()
    async with backend(tmp_path, "http://127.0.0.1:1", clock) as url:
        await create(http, url, id="pub", title="<script>alert(1)</script>", content="a & b")
        await create(http, url, id="priv", title="secret", visibility="private")
        await create(
            http,
            url,
            id="emb",
            title="soon",
            visibility="embargoed",
            embargo_until="2025-06-15T16:00:00Z",
        )
        async with aiohttp.ClientSession() as anon:  # the page needs no token
            async with anon.get(f"{url}/blocks/pub") as resp:
                assert resp.status == 200 and resp.content_type == "text/html"
                page = await resp.text()
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
            assert "a &amp; b" in page
            for block_id in ("priv", "emb", "missing"):
                async with anon.get(f"{url}/blocks/{block_id}") as resp:
                    await problem(resp, 404)
            clock.now = T0 + 3600  # 16:06:40, past the embargo
            async with anon.get(f"{url}/blocks/emb") as resp:
                assert resp.status == 200 and "soon" in await resp.text()


async def test_resolve_asks_the_gateway(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    gateway = GatewayStub()
    urn = "urn:block:beta.test:x%3Ay"
    async with serve(gateway.app) as gw_url, backend(tmp_path, gw_url) as url:
        async with http.get(f"{url}/api/v1/resolve", params={"urn": urn}) as resp:
            assert resp.status == 200
            assert await resp.json() == {
                "urn": urn,
                "status": "not_found",
                "block": None,
                "error": None,
                "cached": False,
            }
        assert gateway.resolve_queries == [urn]
        async with http.get(f"{url}/api/v1/resolve") as resp:
            await problem(resp, 400)
    async with backend(tmp_path, f"http://127.0.0.1:{free_port()}") as url:
        async with http.get(f"{url}/api/v1/resolve", params={"urn": urn}) as resp:
            await problem(resp, 502)


# -- backend -> gateway: the outbox reporter ------------------------------------------------


async def make_changes(http: aiohttp.ClientSession, url: str) -> None:
    await create(http, url, id="a", title="A")
    await create(http, url, id="b", title="B")
    async with http.patch(f"{url}/api/v1/blocks/a", json={"title": "A2"}) as resp:
        assert resp.status == 200
    async with http.patch(f"{url}/api/v1/blocks/a", json={"title": "A2"}) as resp:
        assert resp.status == 200  # no change: no event
    async with http.patch(f"{url}/api/v1/blocks/b", json={"visibility": "private"}) as resp:
        assert resp.status == 200
    async with http.delete(f"{url}/api/v1/blocks/a") as resp:
        assert resp.status == 204


EXPECTED = [
    ("created", "a", "A"),
    ("created", "b", "B"),
    ("updated", "a", "A2"),
    ("visibility_changed", "b", "B"),
    ("deleted", "a", None),
]


def summary(events: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    return [(e["type"], e["block_id"], e["block"] and e["block"]["title"]) for e in events]


async def test_changes_are_reported_in_order(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    gateway = GatewayStub()
    async with serve(gateway.app) as gw_url, backend(tmp_path, gw_url) as url:
        await make_changes(http, url)
        await drained(http, url)
    assert summary(gateway.events) == EXPECTED
    assert len({e["event_id"] for e in gateway.events}) == len(EXPECTED)
    assert gateway.events[3]["block"]["visibility"] == "private"


async def test_gateway_down_then_up_loses_nothing(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    port = free_port()
    gateway = GatewayStub(statuses=[503, 429])  # once up, it still refuses twice
    async with backend(tmp_path, f"http://127.0.0.1:{port}") as url:
        await make_changes(http, url)
        await asyncio.sleep(0.3)  # several failed attempts against the closed port
        async with http.get(f"{url}/healthz") as resp:
            assert (await resp.json())["pending_events"] == len(EXPECTED)
        async with serve(gateway.app, port):
            await drained(http, url)
    assert summary(gateway.events) == EXPECTED
    assert len({e["event_id"] for e in gateway.events}) == len(EXPECTED)


async def test_events_survive_a_backend_restart(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    port = free_port()
    async with backend(tmp_path, f"http://127.0.0.1:{port}") as url:
        await make_changes(http, url)
    gateway = GatewayStub()
    async with serve(gateway.app, port), backend(tmp_path, f"http://127.0.0.1:{port}") as again:
        await drained(http, again)
    assert summary(gateway.events) == EXPECTED


async def test_a_rejected_event_does_not_block_later_ones(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    gateway = GatewayStub(statuses=[400])
    async with serve(gateway.app) as gw_url, backend(tmp_path, gw_url) as url:
        await make_changes(http, url)
        await drained(http, url)  # the rejected event dropped, the others acknowledged
    assert summary(gateway.events) == EXPECTED[1:]
