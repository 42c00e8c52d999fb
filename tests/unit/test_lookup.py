"""Finding an instance actor from a domain, an acct: handle or a URL, and refusing bad answers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from federation.config import load_settings
from federation.http.transport import Transport, make_session
from federation.resolve.lookup import ActorLookup, LookupError_, classify_target
from federation.signatures import SigningKey
from federation.storage import SqliteStore


def peer_app(docs: dict[str, Any]) -> web.Application:
    """A peer whose discovery documents the test chooses (hostile ones included)."""

    async def serve(request: web.Request) -> web.Response:
        doc = docs.get(request.path)
        if doc is None:
            return web.Response(status=404)
        text = doc(request.host) if callable(doc) else doc
        return web.Response(text=json.dumps(text), content_type="application/activity+json")

    app = web.Application()
    app.router.add_get("/{tail:.*}", serve)
    return app


@pytest.fixture
async def lookup_for(tmp_path: Path) -> AsyncIterator[Any]:
    settings = load_settings(
        None, domain="127.0.0.1:1", scheme="http", dev_allow_http=True,
        allow_private_addresses=["127.0.0.1"], store=str(tmp_path / "s.sqlite3"),
    )  # fmt: skip
    store = SqliteStore(settings.store)
    await store.open()
    session = make_session(settings)
    key = SigningKey("http://127.0.0.1:1/actor#main-key", rsa.generate_private_key(65537, 2048))
    runners: list[web.AppRunner] = []

    async def make(docs: dict[str, Any]) -> tuple[ActorLookup, str]:
        runner = web.AppRunner(peer_app(docs))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        host = f"127.0.0.1:{runner.addresses[0][1]}"
        return ActorLookup(
            Transport(session=session, settings=settings, key=key, hosts=store), "http"
        ), host

    yield make
    for runner in runners:
        await runner.cleanup()
    await session.close()
    await store.close()


def actor(host: str) -> dict[str, Any]:
    return {"id": f"http://{host}/actor", "type": "Application", "inbox": f"http://{host}/inbox"}


def nodeinfo_docs(instance_actor: Any) -> dict[str, Any]:
    return {
        "/.well-known/nodeinfo": lambda h: {"links": [{
            "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
            "href": f"http://{h}/nodeinfo/2.1"}]},
        "/nodeinfo/2.1": lambda h: {"metadata": {"instanceActor": instance_actor(h)}},
        "/actor": actor,
    }  # fmt: skip


async def test_domain_leads_through_nodeinfo_to_the_actor(lookup_for: Any) -> None:
    lookup, host = await lookup_for(nodeinfo_docs(lambda h: f"http://{h}/actor"))
    found = await lookup.find(host)
    assert found.id == f"http://{host}/actor" and found.inbox == f"http://{host}/inbox"


async def test_acct_handle_goes_through_webfinger(lookup_for: Any) -> None:
    docs = {
        "/.well-known/webfinger": lambda h: {"links": [
            {"rel": "self", "type": "application/activity+json", "href": f"http://{h}/actor"}]},
        "/actor": actor,
    }  # fmt: skip
    lookup, host = await lookup_for(docs)
    assert (await lookup.find(f"acct:inst@{host}")).id == f"http://{host}/actor"


async def test_a_mistyped_acct_is_no_such_account_at_the_host(lookup_for: Any) -> None:
    lookup, host = await lookup_for({"/actor": actor})  # WebFinger answers 404 for everyone
    with pytest.raises(LookupError_) as caught:
        await lookup.find(f"acct:nobdy@{host}")
    assert str(caught.value) == f"no such account at {host}: acct:nobdy@{host}"


@pytest.mark.parametrize(
    "instance_actor",
    [
        lambda h: "http://[broken/actor",  # does not even parse
        lambda h: "http://elsewhere.example/actor",  # another host's actor
        lambda h: 42,
    ],
)
async def test_hostile_nodeinfo_is_a_lookup_error(lookup_for: Any, instance_actor: Any) -> None:
    lookup, host = await lookup_for(nodeinfo_docs(instance_actor))
    with pytest.raises(LookupError_):
        await lookup.find(host)


async def test_malformed_discovery_documents_are_lookup_errors(lookup_for: Any) -> None:
    docs = {"/.well-known/nodeinfo": {"links": 7}, "/.well-known/webfinger": {"links": "x"}}
    lookup, host = await lookup_for(docs)
    for target in (host, f"acct:a@{host}"):
        with pytest.raises(LookupError_):
            await lookup.find(target)


def test_classify_target() -> None:
    assert classify_target("https://x.example/actor") == ("url", "https://x.example/actor")
    assert classify_target("@me@x.example") == ("acct", "me@x.example")
    assert classify_target("X.Example:8443") == ("domain", "x.example:8443")
    with pytest.raises(LookupError_):
        classify_target("not a target/")
