"""Issue 4 end to end: beta's backend resolves references to blocks that live on alpha.

Both instances are the real gateway and reference backend apps over real HTTP on 127.0.0.1; the
only instrumentation is a counter of the requests alpha's gateway serves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from tests.support.cluster import HttpFailure, http_json
from tests.support.inproc import Running, running, settings_for

pytestmark = pytest.mark.integration


async def backend(node: Running, method: str, path: str, body: Any = None) -> Any:
    url = f"http://127.0.0.1:{node.settings.backend_listen_port}{path}"
    return await asyncio.to_thread(http_json, method, url, body, token=node.settings.backend_token)


async def create(node: Running, **fields: Any) -> str:
    block = {"kind": "note", "title": "t", "content": "c", "author": "ann", **fields}
    created = await backend(node, "POST", "/api/v1/blocks", {"visibility": "public", **block})
    return f"urn:block:{node.settings.domain}:{created['id']}"


async def resolve_via_backend(node: Running, urn: str) -> dict[str, Any]:
    """What the local backend does when it meets a reference: ask its gateway."""
    result: dict[str, Any] = await backend(node, "GET", f"/api/v1/resolve?urn={quote(urn)}")
    return result


def block_path(urn: str) -> str:
    return "GET /blocks/" + urn.rsplit(":", 1)[1]


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[Running, Running]]:
    alpha = settings_for(tmp_path, "alpha")
    beta = settings_for(
        tmp_path,
        "beta",
        cache={"negative_seconds": 1.0, "fresh_seconds": 600.0},
        limits={"total_timeout": 5.0},
    )
    async with running(alpha) as a, running(beta) as b:
        yield a, b


async def test_resolve_is_cached_and_single_flight(pair: tuple[Running, Running]) -> None:
    alpha, beta = pair
    urn = await create(alpha, title="shared", content="hello")
    first = await resolve_via_backend(beta, urn)
    assert first["status"] == "ok" and first["cached"] is False
    assert first["block"]["title"] == "shared" and first["block"]["urn"] == urn
    second = await resolve_via_backend(beta, urn)
    assert second["status"] == "ok" and second["cached"] is True
    assert alpha.hits[block_path(urn)] == 1  # alpha saw no second fetch

    # 200 concurrent resolves of one uncached URN: exactly one fetch at alpha.
    fresh = await create(alpha, title="hot")
    url = f"{beta.url}/backend/v1/resolve?urn={quote(fresh)}"
    headers = {"Authorization": f"Bearer {beta.settings.backend_token}"}
    async with aiohttp.ClientSession() as session:

        async def one() -> dict[str, Any]:
            async with session.get(url, headers=headers) as resp:
                assert resp.status == 200
                data: dict[str, Any] = await resp.json()
                return data

        results = await asyncio.gather(*(one() for _ in range(200)))
    assert all(r["status"] == "ok" for r in results)
    assert alpha.hits[block_path(fresh)] == 1


async def test_private_block_is_404_at_alpha_and_unresolvable_from_beta(
    pair: tuple[Running, Running],
) -> None:
    alpha, beta = pair
    secret = await create(alpha, title="secret", visibility="private")
    local_id = secret.rsplit(":", 1)[1]
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{alpha.url}/blocks/{local_id}", headers={"Accept": "application/activity+json"}
        ) as resp,
    ):
        assert resp.status == 404
        assert resp.content_type == "application/problem+json"
        assert "secret" not in await resp.text()
    result = await resolve_via_backend(beta, secret)
    assert result["status"] != "ok" and result["block"] is None


async def test_embargoed_block_resolves_after_its_time(pair: tuple[Running, Running]) -> None:
    alpha, beta = pair
    release = time.time() + 3.0
    until = datetime.fromtimestamp(release, UTC).isoformat().replace("+00:00", "Z")
    urn = await create(alpha, title="later", visibility="embargoed", embargo_until=until)
    before = await resolve_via_backend(beta, urn)
    assert before["status"] != "ok" and before["block"] is None
    await asyncio.sleep(max(0.0, release - time.time()) + 1.2)  # past release and the 404 TTL
    after = await resolve_via_backend(beta, urn)
    assert after["status"] == "ok" and after["block"]["title"] == "later"


async def test_embargo_release_federates_without_anyone_calling(
    pair: tuple[Running, Running],
) -> None:
    alpha, beta = pair
    await beta.follow(alpha)
    release = time.time() + 2.0
    until = datetime.fromtimestamp(release, UTC).isoformat().replace("+00:00", "Z")
    urn = await create(alpha, title="scheduled", visibility="embargoed", embargo_until=until)
    deadline = time.time() + 15
    seen_at = None
    while time.time() < deadline:
        items = (await backend(beta, "GET", "/api/v1/remote-blocks"))["items"]
        if any(b["urn"] == urn for b in items):
            seen_at = time.time()
            break
        await asyncio.sleep(0.1)
    assert seen_at is not None, "the embargoed block never reached the follower"
    assert seen_at >= release, "the block left alpha before its embargo ended"


async def test_alpha_backend_down_gives_a_clear_error_in_time(
    pair: tuple[Running, Running],
) -> None:
    alpha, beta = pair
    urn = await create(alpha, title="unreachable later")
    await alpha.stop_backend()
    started = time.monotonic()
    gateway_url = f"{beta.url}/backend/v1/resolve?urn={quote(urn)}"
    result = await asyncio.to_thread(
        http_json, "GET", gateway_url, token=beta.settings.backend_token
    )
    assert time.monotonic() - started < beta.settings.limits.total_timeout + 1
    assert result["status"] == "error" and result["block"] is None
    assert "503" in result["error"] or "status" in result["error"]
    # alpha's own proxy answers 503 problem+json, not a hang or a 500.
    with pytest.raises(HttpFailure) as failure:
        await asyncio.to_thread(
            http_json,
            "GET",
            f"{alpha.url}/blocks/{urn.rsplit(':', 1)[1]}",
            headers={"Accept": "application/activity+json"},
        )
    assert failure.value.status == 503
