"""A real gateway process: WebFinger, NodeInfo, host-meta, the actor and the context document."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.cluster import Node, make_node

pytestmark = pytest.mark.integration

AS = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    n = make_node(tmp_path_factory.mktemp("disc"), "delta", mode="approval")
    n.start_gateway()
    yield n
    n.stop()


def get(url: str, accept: str | None = None) -> tuple[int, str, Any]:
    req = urllib.request.Request(url)
    if accept:
        req.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def test_nodeinfo_leads_to_the_instance_actor(node: Node) -> None:
    status, ctype, body = get(f"{node.url}/.well-known/nodeinfo")
    assert status == 200 and ctype.startswith("application/json")
    href = json.loads(body)["links"][0]["href"]
    status, ctype, body = get(href)
    info = json.loads(body)
    assert status == 200 and "nodeinfo.diaspora.software/ns/schema/2.1" in ctype
    assert info["version"] == "2.1" and info["protocols"] == ["activitypub"]
    assert info["software"]["name"] == "kbfed-gateway"
    assert info["metadata"]["instanceActor"] == node.actor


@pytest.mark.parametrize("resource", ["acct:delta@{d}", "{u}/actor", "ACCT:DELTA@{d}"])
def test_webfinger_finds_the_actor_by_acct_and_by_url(node: Node, resource: str) -> None:
    res = resource.format(d=node.domain, u=node.url)
    status, ctype, body = get(f"{node.url}/.well-known/webfinger?resource={res}")
    assert status == 200 and ctype.startswith("application/jrd+json")
    jrd = json.loads(body)
    assert any(link["href"] == node.actor and link["rel"] == "self" for link in jrd["links"])


def test_webfinger_errors_are_problems(node: Node) -> None:
    for query in ("", "?resource=acct:nobody@elsewhere", "?resource=" + "x" * 3000):
        status, ctype, body = get(f"{node.url}/.well-known/webfinger{query}")
        assert 400 <= status < 500 and ctype.startswith("application/problem+json")
        assert json.loads(body)["title"]


@pytest.mark.parametrize("accept", [AS, LD])
def test_actor_document_with_content_negotiation(node: Node, accept: str) -> None:
    status, ctype, body = get(f"{node.url}/actor", accept)
    assert status == 200
    assert ctype.split(";")[0] == accept.split(";")[0]
    actor = json.loads(body)
    assert actor["id"] == node.actor and actor["type"] in ("Application", "Service")
    assert actor["publicKey"]["owner"] == node.actor
    assert "BEGIN PUBLIC KEY" in actor["publicKey"]["publicKeyPem"]
    method = actor["assertionMethod"][0]
    assert method["type"] == "Multikey" and method["publicKeyMultibase"].startswith("z6Mk")
    assert actor["endpoints"]["sharedInbox"] == f"{node.url}/inbox"
    for key in ("inbox", "outbox", "followers", "following"):
        assert actor[key].startswith(node.url)
    assert actor["manuallyApprovesFollowers"] is True
    # No context of ours to fetch: the actor uses no block terms, and objects carry them inline.
    assert not any(node.url in str(context) for context in actor["@context"])
    # FEP-521a: `assertionMethod` is a term of the data-integrity context, so JSON-LD readers
    # (Fedify's getAssertionMethods) find the Multikey only when that context is declared.
    assert "https://w3id.org/security/data-integrity/v1" in actor["@context"]


def test_host_meta_and_context(node: Node) -> None:
    status, ctype, body = get(f"{node.url}/.well-known/host-meta")
    assert status == 200 and "xrd+xml" in ctype and b"/.well-known/webfinger" in body
    status, ctype, body = get(f"{node.url}/ns")
    assert status == 200 and "ld+json" in ctype
    terms = json.loads(body)["@context"]
    assert "urn" in terms and "blockKind" in terms
    assert terms["kbfed"] == "https://w3id.org/kbfed/ns#"  # one vocabulary for every instance


def test_unknown_path_is_a_problem(node: Node) -> None:
    status, ctype, _ = get(f"{node.url}/no/such/thing")
    assert status == 404 and ctype.startswith("application/problem+json")
