"""`federation lookup`, `webfinger` and `nodeinfo` as subprocesses against a real gateway with
authorized fetch on: an unsigned GET is refused, the lookup (signed with another instance's
keys) is answered, and says how it was signed and whether the block's proof verifies."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from tests.support.cli import federation, lookup
from tests.support.cluster import Node, make_node, started
from tests.support.servers import serve_url

pytestmark = pytest.mark.integration


def as_json(*args: str) -> Any:
    return json.loads(federation(*args, "--json").stdout)


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    tmp_path = tmp_path_factory.mktemp("lookup")
    alpha = make_node(tmp_path, "alpha", authorized_fetch=True)
    beta = make_node(tmp_path, "beta")  # whose keys sign the lookups
    with started(alpha, beta):
        yield alpha, beta


def test_lookup_signs_and_checks_the_proof(nodes: tuple[Node, Node]) -> None:
    alpha, beta = nodes
    made = alpha.create_block(title="guarded")
    urn = made["urn"] if "urn" in made else f"urn:block:{alpha.domain}:{made['id']}"
    url = f"{alpha.url}/blocks/{made['id']}"
    request = urllib.request.Request(url, headers={"Accept": "application/activity+json"})
    with pytest.raises(urllib.error.HTTPError) as unsigned:
        urllib.request.urlopen(request, timeout=30)
    assert unsigned.value.code == 401  # authorized fetch: no signature, no block

    report = as_json("lookup", urn, "--instance", str(beta.config))
    assert report["status"] == 200 and report["url"] == url
    assert report["signature_scheme"] == "cavage"
    assert report["document"]["name"] == "guarded"
    assert report["proof"]["status"] == "valid"
    assert report["proof"]["method"].startswith(alpha.actor)

    text = federation("lookup", url, "--instance", str(beta.config)).stdout
    assert "signed GET: draft-cavage HTTP Signatures" in text
    assert f"proof:      valid ({alpha.actor}" in text
    raw = federation("lookup", url, "--raw", "--instance", str(beta.config)).stdout
    assert json.loads(raw)["id"] == url

    actor = as_json("lookup", f"acct:alpha@{alpha.domain}", "--instance", str(beta.config))
    assert actor["url"] == alpha.actor
    assert {k["type"] for k in actor["keys"]} >= {"Multikey"}
    assert any(k["id"].startswith(alpha.actor) for k in actor["keys"])


def test_webfinger_nodeinfo_and_the_guard(nodes: tuple[Node, Node]) -> None:
    alpha, beta = nodes
    jrd = as_json("webfinger", f"acct:alpha@{alpha.domain}", "--instance", str(beta.config))
    assert jrd["subject"] == f"acct:alpha@{alpha.domain}"
    info = as_json("nodeinfo", alpha.domain, "--instance", str(beta.config))
    assert info["metadata"]["instanceActor"] == alpha.actor

    # The SSRF guard holds for lookups too: beta allows 127.0.0.1 only.
    refused = federation(
        "lookup", "http://10.1.2.3/actor", "--instance", str(beta.config), expect=1
    )
    assert "refused" in refused.stderr
    missing = federation(
        "webfinger", f"acct:nobody@{alpha.domain}", "--instance", str(beta.config), expect=1
    )
    assert "nobody" in missing.stderr


async def test_a_tampered_copy_fails_its_proof(nodes: tuple[Node, Node]) -> None:
    alpha, beta = nodes
    made = alpha.create_block(title="original")
    url = f"{alpha.url}/blocks/{made['id']}"
    doc = json.loads(federation("lookup", url, "--raw", "--instance", str(beta.config)).stdout)
    doc["name"] = "forged"

    async def copy(request: web.Request) -> web.Response:
        return web.json_response(doc, content_type="application/activity+json")

    app = web.Application()
    app.router.add_get("/copy", copy)
    async with serve_url(app) as base:
        code, out, _ = await lookup(f"{base}/copy", beta.config)
    assert code == 0
    proof = json.loads(out)["proof"]
    assert proof["status"] == "invalid" and proof["detail"].startswith("bad_proof_signature")


async def test_redirects_are_followed_through_the_guard(nodes: tuple[Node, Node]) -> None:
    alpha, beta = nodes
    made = alpha.create_block(title="moved")
    target = f"{alpha.url}/blocks/{made['id']}"

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound(target if request.path == "/moved" else "http://10.1.2.3/inside")

    app = web.Application()
    app.router.add_get("/{name}", moved)
    async with serve_url(app) as base:
        good = await lookup(f"{base}/moved", beta.config)
        bad = await lookup(f"{base}/inside", beta.config)
    assert good[0] == 0 and json.loads(good[1])["url"] == target
    assert bad[0] == 1 and "refused" in bad[2]
