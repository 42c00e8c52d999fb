"""`federation lookup` against documents Fedify signed (the interop suite's Fedify peer,
tests/interop/fedify/proofs.mjs): its FEP-8b32 proof verifies through the key its actor
publishes, and the same document altered does not."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.interop.test_proof_peers import fedify
from tests.support.cli import lookup
from tests.support.cluster import free_port, make_node
from tests.support.servers import serve_url

pytestmark = pytest.mark.integration


def fedify_actor(actor: str, key_id: str, multibase: str) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": actor,
        "type": "Application",
        "inbox": f"{actor}/inbox",
        "assertionMethod": [
            {
                "id": key_id,
                "type": "Multikey",
                "controller": actor,
                "publicKeyMultibase": multibase,
            }
        ],
    }


async def lookup_report(url: str, instance: Path) -> dict[str, Any]:
    code, out, err = await lookup(url, instance)
    assert code == 0, err
    report: dict[str, Any] = json.loads(out)
    return report


async def test_lookup_verifies_fedifys_proof_and_refuses_it_altered(tmp_path: Path) -> None:
    port = free_port()
    actor = f"http://127.0.0.1:{port}/actor"
    key_id = f"{actor}#ed25519"
    made = await asyncio.to_thread(fedify, "sign", {"actor": actor, "keyId": key_id})
    signed = made["document"]
    altered = {**signed, "object": {**signed["object"], "content": "forged"}}
    served = {
        "/actor": fedify_actor(actor, key_id, made["publicKeyMultibase"]),
        "/signed": signed,
        "/altered": altered,
    }

    async def document(request: web.Request) -> web.Response:
        return web.json_response(served[request.path], content_type="application/activity+json")

    app = web.Application()
    for path in served:
        app.router.add_get(path, document)
    instance = make_node(tmp_path, "alpha").config  # its keys sign; it need not run
    async with serve_url(app, port) as base:
        good = await lookup_report(f"{base}/signed", instance)
        bad = await lookup_report(f"{base}/altered", instance)
    assert good["proof"] == {"status": "valid", "method": key_id, "detail": f"by {actor}"}
    assert good["document"] == signed
    assert bad["proof"]["status"] == "invalid"
    assert bad["proof"]["detail"].startswith("bad_proof_signature")
