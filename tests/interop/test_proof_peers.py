"""FEP-8b32 proofs against an independent implementation: Fedify 2.3 (npm), run by Node.

Fedify checks what a real gateway of ours sends (the Create and the block embedded in it, our key
found through the actor's assertionMethod as Fedify's JSON-LD processing reads it), and makes a
proof of its own that our verifier must accept, and refuse once the content is altered. The
Fedify side is tests/interop/fedify/proofs.mjs, installed by scripts/setup-interop.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from federation.keys import ed25519_public_from_multibase
from federation.proofs import ProofError, split_proof, verify_proof
from tests.integration.test_federation_flow import call
from tests.support.inproc import running, settings_for
from tests.support.peer import serve_peer
from tests.support.records import accepted_follow

pytestmark = pytest.mark.integration

FEDIFY = Path(__file__).resolve().parent / "fedify"
NODE = FEDIFY / "node_modules" / ".bin" / "node"
AS_JSON = {"Accept": "application/activity+json"}


def fedify(mode: str, payload: dict[str, Any]) -> dict[str, Any]:
    if not NODE.exists():
        pytest.fail(f"Fedify is not installed in {FEDIFY}: run scripts/setup-interop")
    done = subprocess.run(
        [str(NODE), "proofs.mjs", mode],
        cwd=FEDIFY,
        input=json.dumps(payload).encode(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


async def get_json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url, headers=AS_JSON) as resp:
        assert resp.status == 200, url
        return await resp.json(content_type=None)


async def test_fedify_verifies_what_our_gateway_sends(tmp_path: Path) -> None:
    async with (
        running(settings_for(tmp_path, "alpha")) as alpha,
        serve_peer() as follower,
        aiohttp.ClientSession() as session,
    ):
        await alpha.instance.store.put_follow(accepted_follow(follower.actor))
        block = {
            "kind": "note",
            "title": "proved",
            "content": "checked by Fedify",
            "author": "ann",
            "visibility": "public",
        }
        await call(alpha, "POST", "/api/v1/blocks", block)
        deadline = asyncio.get_running_loop().time() + 20
        while not follower.received:
            assert asyncio.get_running_loop().time() < deadline, "no Create arrived"
            await asyncio.sleep(0.05)
        sent = json.loads(follower.received[0])
        assert sent["type"] == "Create" and "proof" in sent and "proof" in sent["object"]
        actor = await get_json(session, f"{alpha.url}/actor")
        documents = {
            actor["id"]: actor,
            f"{alpha.url}/ns": await get_json(session, f"{alpha.url}/ns"),
        }

        checked = await asyncio.to_thread(
            fedify, "verify", {"document": sent, "documents": documents}
        )
        assert checked == {"activity": True, "object": True}

        # The same check must fail when the content no longer is what we signed.
        altered = {**sent, "object": {**sent["object"], "content": "not what alpha wrote"}}
        refused = await asyncio.to_thread(
            fedify, "verify", {"document": altered, "documents": documents}
        )
        assert refused["object"] is False


async def test_we_verify_fedifys_proof_and_refuse_it_altered() -> None:
    made = await asyncio.to_thread(
        fedify,
        "sign",
        {"actor": "https://fedify.example/actor", "keyId": "https://fedify.example/actor#ed25519"},
    )
    key = ed25519_public_from_multibase(made["publicKeyMultibase"])
    document = made["document"]
    signed = split_proof(document)
    assert signed is not None and signed.verification_method.endswith("#ed25519")
    verify_proof(signed, key)
    altered = {**document, "object": {**document["object"], "content": "forged"}}
    tampered = split_proof(altered)
    assert tampered is not None
    with pytest.raises(ProofError):
        verify_proof(tampered, key)
