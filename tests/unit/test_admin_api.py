"""The admin API in process: the real app over a temporary SQLite store (role "web": no workers,
so queued jobs stay where the tests put them)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from openapi_spec_validator import validate

from federation.admin.routes import all_operations
from federation.app import create_app
from federation.config import load_settings
from federation.instance import Instance
from federation.records import (
    CachedObject,
    CacheState,
    Direction,
    Follow,
    FollowState,
    JobState,
    NewJob,
)
from federation.web.appkeys import INSTANCE
from tests.support.stored import make_unavailable

ADMIN = "admin-secret-token-123"
BACKEND = "backend-secret-token-456"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
PEER = "peer.example"


def make_app(tmp_path: Path, admin_token: str = ADMIN) -> web.Application:
    settings = load_settings(
        None,
        domain="gw.example",
        admin_token=admin_token,
        backend_token=BACKEND,
        store=str(tmp_path / "gw.sqlite3"),
        key_dir=tmp_path / "keys",
        mode="approval",
    )
    return create_app(settings, role="web")


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(TestServer(make_app(tmp_path))) as c:
        yield c


def instance(client: TestClient[web.Request, web.Application]) -> Instance:
    return client.app[INSTANCE]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", quote("https://x.example/actor", safe=""), path)


OPS = [(op.method, "/admin/api" + op.path, op) for op in all_operations()]


def follower(actor: str, state: FollowState, domain: str = PEER) -> Follow:
    return Follow(
        direction=Direction.FOLLOWER,
        actor=actor,
        domain=domain,
        inbox=f"https://{domain}/inbox",
        shared_inbox=None,
        state=state,
        follow_id=f"{actor}#f",
        created_at=1,
        updated_at=1,
    )


# --- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "op"), OPS, ids=[f"{m} {p}" for m, p, _ in OPS])
async def test_every_endpoint_refuses_missing_or_wrong_token(
    client: TestClient[web.Request, web.Application], method: str, path: str, op: Any
) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": ADMIN}):
        resp = await client.request(method, concrete(path), headers=headers, json={})
        assert resp.status == 401, (method, path, headers)
        assert resp.content_type == "application/problem+json"
        assert (await resp.json())["title"] == "Unauthorized"


async def test_no_admin_token_configured_disables_the_api(tmp_path: Path) -> None:
    async with TestClient(TestServer(make_app(tmp_path, admin_token=""))) as c:
        resp = await c.get("/admin/api/following", headers={"Authorization": "Bearer "})
        assert resp.status == 403
        assert (await resp.json())["title"] == "Admin API disabled"


# --- validation -----------------------------------------------------------------------------

BODY_OPS = [(m, p, op) for m, p, op in OPS if op.body is not None]


@pytest.mark.parametrize(
    ("method", "path", "op"), BODY_OPS, ids=[f"{m} {p}" for m, p, _ in BODY_OPS]
)
async def test_malformed_bodies_are_422_naming_the_field(
    client: TestClient[web.Request, web.Application], method: str, path: str, op: Any
) -> None:
    resp = await client.request(method, path, headers=AUTH, json={"bogus": 1})
    assert resp.status == 422
    problem = await resp.json()
    required = {n for n, f in op.body.model_fields.items() if f.is_required()}
    assert problem["field"] in required | {"bogus"}
    assert problem["detail"].startswith(problem["field"] + ":")
    resp = await client.request(method, path, headers=AUTH, data=b"{not json")
    assert resp.status == 422
    assert (await resp.json())["field"] == "(body)"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/admin/api/following", {"target": ""}, "target"),
        ("POST", "/admin/api/following", {"target": "not a target/x"}, "target"),
        ("POST", "/admin/api/blocks", {"domain": "bad domain!"}, "domain"),
        ("POST", "/admin/api/blocks", {"domain": "a..example"}, "domain"),
        ("POST", "/admin/api/blocks", {"domain": "bücher\u200d.example"}, "domain"),
        ("POST", "/admin/api/blocks", {"domain": "a.example:99999"}, "domain"),
        ("POST", "/admin/api/hosts/reset", {"host": "ho_st.example"}, "host"),
        ("POST", "/admin/api/queue/retry", {"host": "[::1"}, "host"),
        ("POST", "/admin/api/queue/retry-now", {"host": "a..example"}, "host"),
        ("POST", "/admin/api/blocks", {"domain": PEER, "reason": 5}, "reason"),
        ("PUT", "/admin/api/mode", {"mode": "chaos"}, "mode"),
        ("PUT", "/admin/api/allowlist", {"domains": ["ok.example", "x/y"]}, "domains"),
        ("POST", "/admin/api/followers/approve", {"actor": 42}, "actor"),
        ("POST", "/admin/api/cache/purge", {}, "urn"),
    ],
)
async def test_invalid_fields_are_named(
    client: TestClient[web.Request, web.Application],
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    resp = await client.request(method, path, headers=AUTH, json=body)
    assert resp.status == 422, await resp.text()
    assert (await resp.json())["field"] == field


async def test_invalid_query_is_422(client: TestClient[web.Request, web.Application]) -> None:
    resp = await client.get("/admin/api/followers?state=nope", headers=AUTH)
    assert resp.status == 422
    assert (await resp.json())["field"] == "state"
    resp = await client.get("/admin/api/cache", headers=AUTH)
    assert (await resp.json())["field"] == "urn"
    for path in ("/admin/api/hosts?host=a..b", "/admin/api/queue/jobs?host=[::1"):
        resp = await client.get(path, headers=AUTH)
        assert resp.status == 422
        assert (await resp.json())["field"] == "host"


# --- use cases ------------------------------------------------------------------------------


async def test_followers_by_state_and_approve(
    client: TestClient[web.Request, web.Application],
) -> None:
    store = instance(client).store
    await store.put_follow(follower("https://peer.example/actor", FollowState.PENDING))
    await store.put_follow(follower("https://other.example/actor", FollowState.ACCEPTED))
    resp = await client.get("/admin/api/followers?state=pending", headers=AUTH)
    assert [f["actor"] for f in (await resp.json())["items"]] == ["https://peer.example/actor"]

    resp = await client.post(
        "/admin/api/followers/approve", headers=AUTH, json={"actor": "https://peer.example/actor"}
    )
    assert resp.status == 200
    assert (await resp.json())["state"] == "accepted"
    resp = await client.get(
        "/admin/api/followers/backfill",
        params={"actor": "https://peer.example/actor"},
        headers=AUTH,
    )
    progress = await resp.json()
    assert progress["host"] == PEER
    assert progress["backfill_jobs"] == 1  # the first page, waiting for a worker
    assert progress["deliveries_queued"] == 1  # the Accept
    resp = await client.post(
        "/admin/api/followers/reject", headers=AUTH, json={"actor": "https://none.example/a"}
    )
    assert resp.status == 404


async def test_block_cuts_every_tie_and_unblock(
    client: TestClient[web.Request, web.Application],
) -> None:
    store = instance(client).store
    await store.put_follow(follower("https://peer.example/actor", FollowState.ACCEPTED))
    await store.put_follow(
        follower("https://s.peer.example/actor", FollowState.PENDING, "s.peer.example")
    )
    job = NewJob(
        kind="deliver",
        dedupe_key="d1",
        payload={"activity_id": "x", "inbox": "https://peer.example/inbox"},
        host=PEER,
    )
    await store.enqueue([job], 1.0)
    await store.put_cached(
        CachedObject(
            urn="urn:block:peer.example:1",
            url="https://peer.example/b/1",
            domain=PEER,
            state=CacheState.OK,
            block={"id": "1"},
            etag=None,
            last_modified=None,
            fetched_at=1.0,
            expires_at=9e9,
        )
    )
    resp = await client.post("/admin/api/blocks", headers=AUTH, json={"domain": "Peer.Example"})
    assert resp.status == 201
    outcome = await resp.json()
    assert outcome["block"]["domain"] == PEER
    assert (outcome["follows_dropped"], outcome["deliveries_dropped"], outcome["cache_purged"]) == (
        2,
        1,
        1,
    )
    assert await store.list_follows(Direction.FOLLOWER) == []
    assert [j.last_error for j in await store.list_jobs(JobState.DEAD)] == ["dropped"]
    resp = await client.get("/admin/api/blocks", headers=AUTH)
    assert [b["domain"] for b in (await resp.json())["items"]] == [PEER]

    resp = await client.post(
        "/admin/api/following", headers=AUTH, json={"target": "https://peer.example/actor"}
    )
    assert resp.status == 422  # refused before any lookup traffic
    assert "blocked" in (await resp.json())["detail"]
    assert (await client.delete(f"/admin/api/blocks/{PEER}", headers=AUTH)).status == 204
    assert (await client.delete(f"/admin/api/blocks/{PEER}", headers=AUTH)).status == 404
    assert not await store.is_blocked(PEER)


async def test_mode_and_allowlist(client: TestClient[web.Request, web.Application]) -> None:
    resp = await client.get("/admin/api/mode", headers=AUTH)
    assert await resp.json() == {"mode": "approval"}  # from the settings until changed
    resp = await client.put("/admin/api/mode", headers=AUTH, json={"mode": "allowlist"})
    assert await resp.json() == {"mode": "allowlist"}
    assert await instance(client).store.get_setting("mode") == "allowlist"
    resp = await client.put(
        "/admin/api/allowlist", headers=AUTH, json={"domains": ["B.example", "a.example"]}
    )
    assert await resp.json() == {"domains": ["a.example", "b.example"]}
    resp = await client.get("/admin/api/allowlist", headers=AUTH)
    assert await resp.json() == {"domains": ["a.example", "b.example"]}


async def test_unicode_domains_are_stored_as_a_labels(
    client: TestClient[web.Request, web.Application],
) -> None:
    store = instance(client).store
    resp = await client.post(
        "/admin/api/blocks", headers=AUTH, json={"domain": "Bücher.Example.", "reason": "spam"}
    )
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["block"]["domain"] == "xn--bcher-kva.example"
    assert [b.domain for b in await store.list_blocks()] == ["xn--bcher-kva.example"]
    resp = await client.put(
        "/admin/api/allowlist", headers=AUTH, json={"domains": ["ÄÖ.example", "xn--4ca0b.example"]}
    )
    assert await resp.json() == {"domains": ["xn--4ca0b.example"]}  # one host, two spellings
    assert (await client.delete("/admin/api/blocks/bücher.example", headers=AUTH)).status == 204
    await store.enqueue(
        [NewJob(kind="deliver", dedupe_key="d1", payload={}, host="xn--bcher-kva.example")], 1.0
    )
    resp = await client.get(
        "/admin/api/queue/jobs", params={"host": "BÜCHER.example."}, headers=AUTH
    )
    assert [j["host"] for j in (await resp.json())["items"]] == ["xn--bcher-kva.example"]
    assert await store.list_blocks() == []


async def test_dead_deliveries_and_retry(client: TestClient[web.Request, web.Application]) -> None:
    store = instance(client).store
    await store.enqueue(
        [
            NewJob(kind="deliver", dedupe_key="d1", payload={}, host=PEER),
            NewJob(kind="deliver", dedupe_key="d2", payload={}, host="o.example"),
        ],
        1.0,
    )
    for job in await store.claim("me", 2.0, 60, 10):
        await store.fail(job.id, "me", "HTTP 500 from peer", 3.0)
    resp = await client.get("/admin/api/queue", headers=AUTH)
    summary = await resp.json()
    assert summary["totals"]["dead"] == 2
    assert {"state": "dead", "host": PEER, "count": 1} in summary["counts"]
    resp = await client.get("/admin/api/queue/dead", params={"host": PEER}, headers=AUTH)
    dead = (await resp.json())["items"]
    assert [(j["host"], j["last_error"]) for j in dead] == [(PEER, "HTTP 500 from peer")]
    resp = await client.post("/admin/api/queue/retry", headers=AUTH, json={"host": PEER})
    assert await resp.json() == {"count": 1}
    resp = await client.post("/admin/api/queue/retry", headers=AUTH, json={"job_id": dead[0]["id"]})
    assert await resp.json() == {"count": 0}  # already re-queued
    resp = await client.post("/admin/api/queue/retry", headers=AUTH, json={})
    assert await resp.json() == {"count": 1}  # everything left


async def test_unavailable_host_reset_reaches_the_tracker(
    client: TestClient[web.Request, web.Application],
) -> None:
    inst = instance(client)
    await inst.store.set_signature_scheme(PEER, "rfc9421")
    await make_unavailable(inst.store, PEER, time.time())
    assert await inst.health.is_unavailable(PEER)  # now cached in the tracker
    resp = await client.get("/admin/api/hosts/unavailable", headers=AUTH)
    assert [h["host"] for h in (await resp.json())["items"]] == [PEER]
    resp = await client.post("/admin/api/hosts/reset", headers=AUTH, json={"host": PEER})
    assert (await resp.json())["unavailable"] is False
    assert not await inst.health.is_unavailable(PEER)
    stored = await inst.store.get_host(PEER)
    assert stored is not None and stored.signature_scheme == "rfc9421"
    resp = await client.post("/admin/api/hosts/reset", headers=AUTH, json={"host": "nope.example"})
    assert resp.status == 404


async def test_cache_inspect_and_purge(client: TestClient[web.Request, web.Application]) -> None:
    store = instance(client).store
    for n in (1, 2):
        await store.put_cached(
            CachedObject(
                urn=f"urn:block:peer.example:{n}",
                url=f"https://peer.example/b/{n}",
                domain=PEER,
                state=CacheState.OK,
                block={"id": str(n)},
                etag=None,
                last_modified=None,
                fetched_at=1.0,
                expires_at=9e9,
            )
        )
    resp = await client.get(
        "/admin/api/cache", params={"urn": "urn:block:peer.example:1"}, headers=AUTH
    )
    assert (await resp.json())["block"] == {"id": "1"}
    resp = await client.post(
        "/admin/api/cache/purge", headers=AUTH, json={"urn": "urn:block:peer.example:1"}
    )
    assert await resp.json() == {"count": 1}
    resp = await client.post("/admin/api/cache/purge", headers=AUTH, json={"domain": PEER})
    assert await resp.json() == {"count": 1}
    resp = await client.get(
        "/admin/api/cache", params={"urn": "urn:block:peer.example:2"}, headers=AUTH
    )
    assert resp.status == 404


# --- the document, the page, and secrets ----------------------------------------------------


async def test_openapi_document_matches_the_routes_and_validates(
    client: TestClient[web.Request, web.Application],
) -> None:
    doc = await (await client.get("/admin/api/openapi.json")).json()
    validate(doc)
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    served = {
        (r.method, r.resource.canonical)
        for r in client.app.router.routes()
        if r.resource is not None
        and r.resource.canonical.startswith("/admin/api/")
        and r.resource.canonical != "/admin/api/openapi.json"
        and r.method != "HEAD"
    }
    assert documented == served


async def test_admin_page_is_served_without_a_token(
    client: TestClient[web.Request, web.Application],
) -> None:
    resp = await client.get("/admin")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    assert "sessionStorage" in await resp.text()


async def test_admin_page_scripts_come_from_its_own_files(
    client: TestClient[web.Request, web.Application],
) -> None:
    page = await client.get("/admin")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src" not in csp  # no inline script runs
    for name in ("admin.js", "charts.js"):
        resp = await client.get(f"/admin/{name}")
        assert resp.status == 200
        assert resp.content_type == "application/javascript"
        assert f'src="/admin/{name}"' in await page.text()
    assert (await client.get("/admin/other.js")).status == 404


async def test_no_secret_in_responses_or_logs(
    client: TestClient[web.Request, web.Application],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await instance(client).store.put_follow(
        follower("https://peer.example/actor", FollowState.PENDING)
    )
    bodies: list[str] = []
    for method, path, op in OPS:
        for headers in (AUTH, {"Authorization": "Bearer wrong"}, {}):
            body = {"actor": "https://peer.example/actor"} if op.body else None
            resp = await client.request(method, concrete(path), headers=headers, json=body)
            bodies.append(await resp.text())
            bodies.append(str(resp.headers))
    bodies.append(await (await client.get("/admin/api/openapi.json")).text())
    audit = [r for r in caplog.records if r.name == "federation.admin.audit"]
    assert len(audit) == 3 * len(OPS)  # every call audited
    assert any("401" in r.getMessage() for r in audit)
    private = [p.read_text() for p in (tmp_path / "keys").iterdir()]
    assert private and all("PRIVATE KEY" in p for p in private)
    everything = "\n".join(bodies) + "\n".join(r.getMessage() for r in caplog.records)
    for secret in (ADMIN, BACKEND, *private, "PRIVATE KEY"):
        assert secret not in everything
