"""Resolving through a mirror while the origin is down (FEP-8b32 origin-signed copies).

Three real instances on 127.0.0.1, each a gateway with its reference backend: beta follows
alpha (so beta holds alpha's signed blocks), gamma follows beta (so gamma may ask beta). gamma
has read one of alpha's blocks before, so it holds alpha's key. Then alpha stops.
"""

from __future__ import annotations

import asyncio
import dataclasses
from contextlib import AsyncExitStack
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from federation.records import Direction, FollowState
from tests.integration.test_federation_flow import call
from tests.support.cluster import http_json, until
from tests.support.inproc import Running, running, settings_for

pytestmark = pytest.mark.integration


async def resolve(node: Running, urn: str) -> dict[str, Any]:
    """What a backend does on meeting a reference: ask its gateway (the contract's resolve)."""
    url = f"{node.url}/backend/v1/resolve?urn={quote(urn)}"
    result: dict[str, Any] = await asyncio.to_thread(
        http_json, "GET", url, None, token=node.settings.backend_token
    )
    return result


async def new_block(node: Running, title: str) -> str:
    made = await call(
        node,
        "POST",
        "/api/v1/blocks",
        {
            "kind": "note",
            "title": title,
            "content": f"{title} text",
            "author": "ann",
            "visibility": "public",
        },
    )
    return f"urn:block:{node.settings.domain}:{made['id']}"


async def cached_at(node: Running, urn: str) -> Any:
    return await node.instance.store.get_cached(urn)


async def test_alphas_block_resolves_through_beta_while_alpha_is_down(tmp_path: Path) -> None:
    async with AsyncExitStack() as alpha_up:
        alpha = await alpha_up.enter_async_context(running(settings_for(tmp_path, "alpha")))
        async with (
            running(settings_for(tmp_path, "beta")) as beta,
            running(settings_for(tmp_path, "gamma")) as gamma,
        ):
            await beta.follow(alpha)
            await gamma.follow(beta)
            for node, other in ((beta, alpha), (gamma, beta)):
                await until(partial(_accepted, node, other))
            shared = await new_block(alpha, "shared")
            altered = await new_block(alpha, "altered")
            withdrawn = await new_block(alpha, "withdrawn")
            seen = await new_block(alpha, "seen")
            for urn in (shared, altered, withdrawn):
                await until(partial(_signed_copy, beta, urn))
            # alpha withdraws one block before it stops: beta's copy goes with it.
            local_id = withdrawn.rsplit(":", 1)[1]
            await call(alpha, "PATCH", f"/api/v1/blocks/{local_id}", {"visibility": "private"})
            await until(lambda: _no_ok_copy(beta, withdrawn))
            # gamma reads one of alpha's blocks while alpha is up: it now holds alpha's key.
            assert (await resolve(gamma, seen))["status"] == "ok"
            # beta's copy of one block is altered (a dishonest or broken mirror).
            entry = await cached_at(beta, altered)
            forged = {**entry.signed, "content": "not what alpha wrote"}
            await beta.instance.store.put_cached(dataclasses.replace(entry, signed=forged))

            await alpha_up.aclose()  # alpha is down from here on

            via_mirror = await resolve(gamma, shared)
            assert via_mirror["status"] == "ok", via_mirror
            assert via_mirror["block"]["title"] == "shared"
            assert via_mirror["block"]["content"] == "shared text"
            assert via_mirror["mirror"]["host"] == beta.settings.domain
            assert 0 <= via_mirror["mirror"]["age_seconds"] < 120
            # the altered copy fails alpha's proof: discarded, never served as alpha's block
            caught = await resolve(gamma, altered)
            assert caught["status"] == "error" and "mirror" not in caught, caught
            # what alpha withdrew is not handed out by beta
            hidden = await resolve(gamma, withdrawn)
            assert hidden["status"] != "ok" and "mirror" not in hidden, hidden


async def _accepted(node: Running, other: Running) -> bool:
    return await node.has_relation(Direction.FOLLOWING, other, FollowState.ACCEPTED)


async def _signed_copy(node: Running, urn: str) -> bool:
    entry = await cached_at(node, urn)
    return entry is not None and entry.signed is not None and "proof" in entry.signed


async def _no_ok_copy(node: Running, urn: str) -> bool:
    entry = await cached_at(node, urn)
    return entry is None or entry.block is None
