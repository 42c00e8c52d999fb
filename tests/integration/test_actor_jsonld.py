"""Our actor document read as JSON-LD (pyld), as Fedify's getAssertionMethods() reads it: the
Ed25519 key must survive expansion as a security:Multikey under security:assertionMethod.

There is no network: the document loader serves the published contexts bundled in
federation/proofs/contexts/ (see its README) and, where a test says so, our /ns document as the
running gateway serves it, and refuses any other URL, so the expansion can never quietly fetch
something else.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pyld import jsonld  # type: ignore[import-untyped]

from federation.activities import AS_CONTEXT, Block, block_to_object
from tests.support.blocks import block_fields
from tests.support.inproc import Running, running, settings_for

pytestmark = pytest.mark.integration

CONTEXTS = Path(__file__).resolve().parents[2] / "federation" / "proofs" / "contexts"
VENDORED = {
    "https://www.w3.org/ns/activitystreams": "activitystreams.jsonld",
    "https://w3id.org/security/v1": "security-v1.jsonld",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.jsonld",
    "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
    "https://www.w3.org/ns/did/v1": "did-v1.jsonld",
}
SEC = "https://w3id.org/security#"
AS = "application/activity+json"


class Refused(Exception):
    """A context URL that is not vendored: the test must not go to the network for it."""


def document_loader(served: dict[str, Any]) -> Any:
    documents = {url: json.loads((CONTEXTS / name).read_text()) for url, name in VENDORED.items()}
    documents.update(served)

    def load(url: str, options: Any = None) -> dict[str, Any]:
        if url not in documents:
            raise Refused(f"not vendored, not fetched: {url}")
        return {"contextUrl": None, "documentUrl": url, "document": documents[url]}

    return load


async def get_json(url: str) -> Any:
    async with aiohttp.ClientSession() as http, http.get(url, headers={"Accept": AS}) as resp:
        assert resp.status == 200, await resp.text()
        return json.loads(await resp.read())


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Running]:
    async with running(settings_for(tmp_path, "alpha")) as node:
        yield node


async def test_the_ed25519_key_survives_json_ld_expansion_as_a_multikey(gateway: Running) -> None:
    actor = await get_json(f"{gateway.url}/actor")
    loader = document_loader({})

    [node] = jsonld.expand(actor, {"documentLoader": loader})

    assert node["@id"] == actor["id"]
    [key] = node[SEC + "assertionMethod"]
    published = actor["assertionMethod"][0]
    assert key["@id"] == published["id"]
    assert key["@type"] == [SEC + "Multikey"]
    assert key[SEC + "controller"] == [{"@id": actor["id"]}]
    [multibase] = key[SEC + "publicKeyMultibase"]
    assert multibase["@value"] == published["publicKeyMultibase"]
    assert multibase["@value"].startswith("z6Mk")  # an Ed25519 public key, base58btc


def test_the_loader_refuses_what_is_not_vendored() -> None:
    doc = {"@context": "https://example.org/ctx", "name": "x"}
    with pytest.raises(jsonld.JsonLdError) as caught:
        jsonld.expand(doc, {"documentLoader": document_loader({})})
    assert isinstance(caught.value.__cause__, Refused)


KBFED = "https://w3id.org/kbfed/ns#"


def urn_property(document: dict[str, Any], loader: Any) -> list[Any]:
    [node] = jsonld.expand(document, {"documentLoader": loader})
    urn: list[Any] = node[KBFED + "urn"]
    return urn


async def test_every_instance_and_every_older_object_speak_one_vocabulary(
    gateway: Running,
) -> None:
    """alpha's `urn` and beta's `urn` are one property to a JSON-LD reader, with no context of
    ours to fetch; an object naming an older gateway's {base}/ns reads the same way."""
    for base in ("https://alpha.example", "https://beta.example:8443"):
        block = Block(**block_fields(id="b1"))
        authority = base.split("://")[1]
        rendered = block_to_object(block, base_url=base, authority=authority, scheme="https")
        assert urn_property(rendered, document_loader({})) == [{"@id": rendered["urn"]}]
    ns = f"{gateway.url}/ns"
    older = {
        "@context": [AS_CONTEXT, ns],
        "id": f"{gateway.url}/blocks/b1",
        "urn": "urn:block:x:b1",
    }
    loader = document_loader({ns: await get_json(ns)})
    assert urn_property(older, loader) == [{"@id": "urn:block:x:b1"}]
