"""GET /blocks/{id} and outbox pages reuse the rendering of an unchanged block or page, and
never a stale one.

A real gateway (every route) in front of a real reference backend that reports its block events
to it. A rendering is reused only for an unchanged backend answer (and, for a page, only until
an embargo on it ends), so a change is seen on the very next read, whether or not its event has
arrived; the event itself drops the rendering.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from federation.refbackend.routes import STORE as BACKEND_STORE
from tests.support.inproc import Running, running, settings_for

pytestmark = pytest.mark.integration

AS = {"Accept": "application/activity+json"}


class Gateway:
    def __init__(self, node: Running, http: aiohttp.ClientSession) -> None:
        self.node = node
        self.http = http
        self._auth = {"Authorization": f"Bearer {node.settings.backend_token}"}
        self._api = f"{node.settings.backend_url}/api/v1/blocks"

    async def create(self, **fields: Any) -> str:
        body = {"title": "t", "content": "v1", "visibility": "public", **fields}
        async with self.http.post(self._api, json=body, headers=self._auth) as resp:
            assert resp.status == 201, await resp.text()
            return str((await resp.json())["id"])

    async def change(self, block_id: str, **fields: Any) -> None:
        url = f"{self._api}/{block_id}"
        async with self.http.patch(url, json=fields, headers=self._auth) as resp:
            assert resp.status == 200, await resp.text()

    async def read(self, block_id: str) -> tuple[int, Any]:
        url = f"{self.node.url}/blocks/{block_id}"
        async with self.http.get(url, headers=AS) as resp:
            body = await resp.json(content_type=None)
            return resp.status, body

    async def page(self, **headers: str) -> tuple[int, Mapping[str, str], bytes]:
        """The outbox's first page: status, headers and the exact bytes served."""
        url = f"{self.node.url}/actor/outbox?page=first"
        async with self.http.get(url, headers={**AS, **headers}) as resp:
            return resp.status, resp.headers, await resp.read()

    async def outbox(self) -> dict[str, str]:
        """Block content by object id, as the outbox's first page lists it."""
        status, _, body = await self.page()
        assert status == 200, body
        items = json.loads(body)["orderedItems"]
        return {str(i["object"]["id"]).rsplit("/", 1)[-1]: i["object"]["content"] for i in items}

    async def events_reported(self) -> None:
        """Barrier: every event the backend recorded has been answered by the gateway."""
        store = self.node.backend_app[BACKEND_STORE]
        for _ in range(600):
            if not store.pending_events(1):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the backend's events did not reach the gateway")


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    async with running(settings_for(tmp_path, "gw")) as node, aiohttp.ClientSession() as http:
        yield Gateway(node, http)


async def test_an_unchanged_block_is_served_byte_for_byte_again(gateway: Gateway) -> None:
    block_id = await gateway.create()
    first = await gateway.read(block_id)
    assert first[0] == 200 and first[1]["content"] == "v1"
    assert await gateway.read(block_id) == first


async def test_a_block_made_private_is_a_404_on_the_very_next_read(gateway: Gateway) -> None:
    block_id = await gateway.create()
    assert (await gateway.read(block_id))[0] == 200
    await gateway.change(block_id, visibility="private")  # its event may still be on its way
    status, body = await gateway.read(block_id)
    assert status == 404, body
    await gateway.events_reported()
    assert (await gateway.read(block_id))[0] == 404


async def test_an_updated_block_is_served_in_its_new_version(gateway: Gateway) -> None:
    block_id = await gateway.create()
    assert (await gateway.read(block_id))[1]["content"] == "v1"
    await gateway.change(block_id, content="v2")
    assert (await gateway.read(block_id))[1]["content"] == "v2"  # before its event, even
    await gateway.events_reported()
    await gateway.change(block_id, content="v3")
    await gateway.events_reported()
    status, body = await gateway.read(block_id)
    assert (status, body["content"]) == (200, "v3")


async def test_reads_racing_the_change_and_its_event_never_serve_a_private_block(
    gateway: Gateway,
) -> None:
    block_id = await gateway.create()
    assert (await gateway.read(block_id))[0] == 200
    # Reads in flight while the block goes private and its event arrives: each may see either
    # version, but once the change is made every read that starts after it is a 404.
    racing = [asyncio.create_task(gateway.read(block_id)) for _ in range(20)]
    await gateway.change(block_id, visibility="private")
    after = [asyncio.create_task(gateway.read(block_id)) for _ in range(20)]
    results = await asyncio.gather(*racing, *after)
    assert all(status in (200, 404) for status, _ in results[:20])
    assert [status for status, _ in results[20:]] == [404] * 20
    await gateway.events_reported()
    assert [(await gateway.read(block_id))[0] for _ in range(3)] == [404] * 3


# ---------------------------------------------------------------- outbox pages


async def test_an_unchanged_outbox_page_is_served_byte_for_byte_and_revalidates(
    gateway: Gateway,
) -> None:
    await gateway.create()
    await gateway.events_reported()
    status, headers, first = await gateway.page()
    assert status == 200
    again = await gateway.page()
    assert (again[0], again[2]) == (200, first)
    assert (await gateway.page(**{"If-None-Match": headers["ETag"]}))[0] == 304
    await gateway.create(content="another")
    # A new block is a new listing: the old ETag no longer matches, the page has it.
    status, _, body = await gateway.page(**{"If-None-Match": headers["ETag"]})
    assert status == 200 and b"another" in body


async def test_a_block_made_private_leaves_the_outbox_on_the_very_next_read(
    gateway: Gateway,
) -> None:
    kept, hidden = await gateway.create(content="kept"), await gateway.create()
    assert set(await gateway.outbox()) == {kept, hidden}
    await gateway.change(hidden, visibility="private")  # its event may still be on its way
    assert set(await gateway.outbox()) == {kept}
    await gateway.events_reported()
    assert set(await gateway.outbox()) == {kept}


async def test_an_updated_block_shows_in_the_outbox_in_its_new_version(gateway: Gateway) -> None:
    block_id = await gateway.create()
    assert (await gateway.outbox())[block_id] == "v1"
    await gateway.change(block_id, content="v2")
    assert (await gateway.outbox())[block_id] == "v2"  # before its event, even
    await gateway.events_reported()
    await gateway.change(block_id, content="v3")
    await gateway.events_reported()
    assert (await gateway.outbox())[block_id] == "v3"


async def test_an_embargo_ending_shows_the_block_though_the_listing_is_unchanged(
    gateway: Gateway,
) -> None:
    ends = datetime.now(UTC) + timedelta(seconds=1)
    public = await gateway.create()
    embargoed = await gateway.create(visibility="embargoed", embargo_until=ends.isoformat())
    await gateway.events_reported()
    assert set(await gateway.outbox()) == {public}  # rendered while the embargo holds
    await asyncio.sleep(max(0.0, ends.timestamp() - time.time()) + 0.05)
    assert set(await gateway.outbox()) == {public, embargoed}


async def test_outbox_reads_racing_the_change_and_its_event_never_list_a_private_block(
    gateway: Gateway,
) -> None:
    kept, hidden = await gateway.create(content="kept"), await gateway.create()
    assert set(await gateway.outbox()) == {kept, hidden}
    racing = [asyncio.create_task(gateway.outbox()) for _ in range(20)]
    await gateway.change(hidden, visibility="private")
    after = [asyncio.create_task(gateway.outbox()) for _ in range(20)]
    results = await asyncio.gather(*racing, *after)
    assert all(set(r) in ({kept, hidden}, {kept}) for r in results[:20])
    assert [set(r) for r in results[20:]] == [{kept}] * 20
    await gateway.events_reported()
    assert set(await gateway.outbox()) == {kept}
