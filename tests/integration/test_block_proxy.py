"""The peer-facing read proxy (GET /blocks/{id}, GET /actor/outbox) over real HTTP, in front of
the reference backend on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation.backend.client import BackendClient
from federation.config import Settings, load_settings
from federation.ports import Store
from federation.proofs import ObjectSigner, ProofError, split_proof, verify_proof
from federation.refbackend.app import create_backend_app
from federation.refbackend.reporter import ReporterSettings
from federation.signatures import (
    PublicKeyInfo,
    SignedRequest,
    SigningKey,
    Verified,
    sign_cavage,
    verify_request,
)
from federation.storage.sqlite import SqliteStore
from federation.web import block_routes
from federation.web.appkeys import (
    BACKEND,
    CLOCK,
    PROOF_SIGNER,
    RENDERED_BLOCKS,
    SETTINGS,
    SIGNATURE_VERIFIER,
    STORE,
)
from federation.web.problems import problem_middleware
from federation.web.rendered import RenderedBlocks
from tests.support.servers import serve_url as serve

pytestmark = pytest.mark.integration

TOKEN = "backend-secret"
GATEWAY = "gateway.test"
AS = "application/activity+json"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PROOF_KEY = Ed25519PrivateKey.generate()
PROOF_METHOD = f"http://{GATEWAY}/actor#ed25519-key"


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    return load_settings(
        domain=GATEWAY,
        scheme="http",
        backend_token=TOKEN,
        backend_store=str(tmp_path / "backend.sqlite3"),
        key_dir=str(tmp_path / "keys"),
        **overrides,
    )


def gateway_app(
    settings: Settings, backend: BackendClient, verifier: Any = None
) -> web.Application:
    """What create_app wires for these routes, and nothing else."""
    app = web.Application(middlewares=[problem_middleware])
    app[SETTINGS] = settings
    app[CLOCK] = time.time
    app[BACKEND] = backend
    app[PROOF_SIGNER] = ObjectSigner(PROOF_KEY, PROOF_METHOD)
    app[RENDERED_BLOCKS] = RenderedBlocks()
    store = SqliteStore(":memory:")  # which blocks are published: the outbox's Create ids
    app[STORE] = store
    app.on_startup.append(lambda _: store.open())
    app.on_cleanup.append(lambda _: store.close())
    if verifier is not None:
        app[SIGNATURE_VERIFIER] = verifier
    app.router.add_routes(block_routes.routes)
    return app


class Instance:
    """A gateway (these routes only) in front of a reference backend, both on loopback."""

    def __init__(
        self, gateway: str, backend: str, http: aiohttp.ClientSession, store: Store
    ) -> None:
        self.gateway = gateway
        self.backend = backend
        self.http = http
        self.store = store  # the gateway's, where block events record what is published

    async def create(self, **fields: Any) -> dict[str, Any]:
        async with self.http.post(
            f"{self.backend}/api/v1/blocks", json={"title": "t", **fields}, headers=AUTH
        ) as resp:
            assert resp.status == 201, await resp.text()
            data: dict[str, Any] = await resp.json()
            return data

    async def change(self, block_id: str, **fields: Any) -> None:
        url = f"{self.backend}/api/v1/blocks/{block_id}"
        async with self.http.patch(url, json=fields, headers=AUTH) as resp:
            assert resp.status == 200, await resp.text()

    async def get(self, path: str, **headers: str) -> Reply:
        async with self.http.get(
            self.gateway + path, headers=headers, allow_redirects=False
        ) as resp:
            return Reply(resp.status, resp.headers, resp.content_type, await resp.read())


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    content_type: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@contextlib.asynccontextmanager
async def running(settings: Settings, verifier: Any = None) -> AsyncIterator[Instance]:
    quiet = ReporterSettings(idle_poll=3600, initial_backoff=3600, request_timeout=0.5)
    backend_app = create_backend_app(settings, gateway_url="http://127.0.0.1:1", reporter=quiet)
    async with aiohttp.ClientSession() as http, serve(backend_app) as backend_url:
        client = BackendClient(session=http, base_url=backend_url, token=TOKEN, timeout=2.0)
        app = gateway_app(settings, client, verifier)
        async with serve(app) as gateway_url:
            yield Instance(gateway_url, backend_url, http, app[STORE])


@pytest.fixture
async def inst(tmp_path: Path) -> AsyncIterator[Instance]:
    async with running(make_settings(tmp_path)) as instance:
        yield instance


# ---------------------------------------------------------------- GET /blocks/{id}


async def test_public_block_is_served_as_activitystreams(inst: Instance) -> None:
    block = await inst.create(id="note-1", title="Hello", content="world")
    resp = await inst.get("/blocks/note-1", Accept=AS)
    assert resp.status == 200
    assert resp.content_type == AS
    obj = resp.json()
    assert obj["id"] == f"http://{GATEWAY}/blocks/note-1"
    assert obj["urn"] == f"urn:block:{GATEWAY}:note-1"
    assert (obj["name"], obj["content"]) == ("Hello", "world")
    assert resp.headers["ETag"].startswith('"')
    updated = datetime.fromisoformat(block["updated_at"])
    assert resp.headers["Last-Modified"] == updated.strftime("%a, %d %b %Y %H:%M:%S GMT")


async def test_served_block_carries_our_proof_and_keeps_its_etag(inst: Instance) -> None:
    await inst.create(id="proved", title="Signed", content="by the origin")
    first = await inst.get("/blocks/proved", Accept=AS)
    signed = split_proof(first.json())
    assert signed is not None and signed.verification_method == PROOF_METHOD
    verify_proof(signed, PROOF_KEY.public_key())
    # Dated by the block's last change, not by the request: the same version, the same bytes.
    second = await inst.get("/blocks/proved", Accept=AS)
    assert second.body == first.body and second.headers["ETag"] == first.headers["ETag"]
    # The proof covers the content: a copy altered on the way no longer verifies.
    altered = split_proof({**first.json(), "content": "by someone else"})
    assert altered is not None
    with pytest.raises(ProofError):
        verify_proof(altered, PROOF_KEY.public_key())


async def test_ld_json_accept_gets_the_ld_media_type(inst: Instance) -> None:
    await inst.create(id="ld")
    accept = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
    resp = await inst.get("/blocks/ld", Accept=accept)
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("application/ld+json")


async def test_conditional_requests_get_304(inst: Instance) -> None:
    await inst.create(id="cond")
    first = await inst.get("/blocks/cond", Accept=AS)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    by_etag = await inst.get("/blocks/cond", Accept=AS, **{"If-None-Match": etag})
    assert by_etag.status == 304 and by_etag.headers["ETag"] == etag
    assert by_etag.headers["Vary"] == "Accept"
    weak = await inst.get("/blocks/cond", Accept=AS, **{"If-None-Match": f'"x", W/{etag}'})
    assert weak.status == 304
    assert (await inst.get("/blocks/cond", Accept=AS, **{"If-None-Match": "*"})).status == 304
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2), and a bad date is no date.
    newer = {"If-None-Match": '"other"', "If-Modified-Since": modified}
    assert (await inst.get("/blocks/cond", Accept=AS, **newer)).status == 200
    bad_date = {"If-Modified-Since": "yesterday"}
    assert (await inst.get("/blocks/cond", Accept=AS, **bad_date)).status == 200
    by_date = await inst.get("/blocks/cond", Accept=AS, **{"If-Modified-Since": modified})
    assert by_date.status == 304
    other = await inst.get("/blocks/cond", Accept=AS, **{"If-None-Match": '"other"'})
    assert other.status == 200
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert (await inst.get("/blocks/cond", Accept=AS, **{"If-Modified-Since": old})).status == 200


async def test_percent_encoded_ids_are_decoded(inst: Instance) -> None:
    await inst.create(id="a b/c:d")
    resp = await inst.get("/blocks/" + quote("a b/c:d", safe=""), Accept=AS)
    assert resp.status == 200
    assert (resp.json())["urn"] == f"urn:block:{GATEWAY}:a%20b%2Fc%3Ad"


async def test_browser_is_redirected_to_the_human_page(inst: Instance) -> None:
    await inst.create(id="page", url="http://kb.example/pages/page")
    await inst.create(id="no-page")
    html = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
    resp = await inst.get("/blocks/page", Accept=html)
    assert resp.status == 302
    assert resp.headers["Location"] == "http://kb.example/pages/page"
    # A shared cache must not hand this redirect to a federation client.
    assert resp.headers["Vary"] == "Accept"
    # The reference backend gives every block its own page when none was set.
    default = await inst.get("/blocks/no-page", Accept=html)
    assert default.status == 302
    assert default.headers["Location"].endswith("/blocks/no-page")


async def test_unreleased_and_missing_blocks_are_identical_404s(inst: Instance) -> None:
    await inst.create(id="secret", visibility="private")
    await inst.create(id="later", visibility="embargoed", embargo_until="2999-01-01T00:00:00Z")
    answers = []
    for block_id in ("secret", "later", "never-existed"):
        for accept in (AS, "text/html"):
            resp = await inst.get(f"/blocks/{block_id}", Accept=accept)
            assert resp.status == 404
            assert resp.content_type == "application/problem+json"
            answers.append((resp.body, resp.headers.get("ETag")))
    assert len(set(answers)) == 1


async def test_ended_embargo_is_served(inst: Instance) -> None:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    await inst.create(id="released", visibility="embargoed", embargo_until=past)
    resp = await inst.get("/blocks/released", Accept=AS)
    assert resp.status == 200
    assert (resp.json())["visibility"] == "embargoed"


async def test_backend_down_is_a_quick_503(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    settings = make_settings(tmp_path)
    async with aiohttp.ClientSession() as http:
        app = gateway_app(
            settings, BackendClient(session=http, base_url=dead, token=TOKEN, timeout=2.0)
        )
        async with serve(app) as gateway:
            started = time.monotonic()
            async with http.get(f"{gateway}/blocks/x", headers={"Accept": AS}) as resp:
                assert resp.status == 503
                assert resp.content_type == "application/problem+json"
            async with http.get(f"{gateway}/actor/outbox?page=first") as resp:
                assert resp.status == 503
            assert time.monotonic() - started < 2.0


# ---------------------------------------------------------------- GET /actor/outbox


async def test_outbox_pages_through_every_released_block(inst: Instance) -> None:
    expected = []
    for n in range(120):
        await inst.create(id=f"b{n:03}")
        expected.append(f"b{n:03}")
        if n % 10 == 0:
            await inst.create(id=f"p{n:03}", visibility="private")
            await inst.create(
                id=f"e{n:03}", visibility="embargoed", embargo_until="2999-01-01T00:00:00Z"
            )
    root = await inst.get("/actor/outbox", Accept=AS)
    collection = root.json()
    assert collection["type"] == "OrderedCollection"
    assert collection["id"] == f"http://{GATEWAY}/actor/outbox"
    seen, pages, url = [], 0, collection["first"]
    while url:
        resp = await inst.get(url.removeprefix(f"http://{GATEWAY}"), Accept=AS)
        page = resp.json()
        assert page["type"] == "OrderedCollectionPage" and page["partOf"] == collection["id"]
        for item in page["orderedItems"]:
            assert item["type"] == "Create"
            # No event was handled here: each Create is the one the fan-out is about to send.
            assert item["id"] == item["object"]["id"] + "#create-1"
            assert item["actor"] == f"http://{GATEWAY}/actor"
            seen.append(item["object"]["id"].rsplit("/", 1)[1])
        pages += 1
        again = await inst.get(page["id"].removeprefix(f"http://{GATEWAY}"), Accept=AS)
        assert again.json() == page  # a page's own id names it
        url = page.get("next")
    assert seen == expected
    assert pages >= 3


async def test_a_reused_outbox_page_follows_changes_whose_events_never_arrive(
    inst: Instance,
) -> None:
    # This backend's reporter cannot reach the gateway: only the listing each read asks for
    # tells the page has changed.
    await inst.create(id="kept", content="v1")
    await inst.create(id="hidden", content="v1")

    async def contents() -> dict[str, str]:
        page = (await inst.get("/actor/outbox?page=first", Accept=AS)).json()
        return {
            i["object"]["id"].rsplit("/", 1)[1]: i["object"]["content"]
            for i in page["orderedItems"]
        }

    assert await contents() == {"kept": "v1", "hidden": "v1"}
    assert await contents() == {"kept": "v1", "hidden": "v1"}  # the rendering reused
    await inst.change("hidden", visibility="private")
    assert await contents() == {"kept": "v1"}
    await inst.change("kept", content="v2")
    assert await contents() == {"kept": "v2"}


async def test_a_reused_outbox_page_follows_the_publication_of_its_blocks(
    inst: Instance,
) -> None:
    await inst.create(id="b")

    async def listed_id() -> str:
        page = (await inst.get("/actor/outbox?page=first", Accept=AS)).json()
        (item,) = page["orderedItems"]
        return str(item["id"])

    url = f"http://{GATEWAY}/blocks/b"
    assert await listed_id() == f"{url}#create-1"
    # As the block's events would record it: published, then withdrawn, the backend's listing
    # unchanged. The next Create is the second: the page must not be the one rendered before.
    await inst.store.publish_block("b", "event:1", 1.0)
    assert await listed_id() == f"{url}#create-1"
    await inst.store.withdraw_block("b", 2.0)
    assert await listed_id() == f"{url}#create-2"


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("page=1", "no such page"),
        ("page=zzz", "no such page"),
        ("page=", "page is empty"),
        ("page=first&page=2", "more than once"),
        ("page=" + "a" * 600, "longer than"),
        ("page=%01x", "characters"),
        ("page=%C3%A9", "characters"),
    ],
)
async def test_a_bad_outbox_page_is_a_400_saying_what_was_wrong(
    inst: Instance, query: str, reason: str
) -> None:
    await inst.create(id="only")
    resp = await inst.get(f"/actor/outbox?{query}", Accept=AS)
    assert resp.status == 400, resp.body
    assert resp.content_type == "application/problem+json"
    problem = resp.json()
    assert problem["parameter"] == "page"
    assert reason in problem["detail"]
    first = await inst.get("/actor/outbox?page=first", Accept=AS)
    assert first.status == 200
    assert [i["object"]["id"] for i in first.json()["orderedItems"]] == [
        f"http://{GATEWAY}/blocks/only"
    ]


# ---------------------------------------------------------------- authorized fetch

PEER_KEY = Ed25519PrivateKey.generate()
PEER_KEY_ID = "http://peer.test/actor#ed25519-key"


async def resolve_peer_key(key_id: str) -> PublicKeyInfo | None:
    if key_id != PEER_KEY_ID:
        return None
    return PublicKeyInfo(key_id, "http://peer.test/actor", PEER_KEY.public_key())


async def verify_signed_get(request: web.Request) -> object | None:
    url = f"http://{GATEWAY}{request.path_qs}"
    signed = SignedRequest(request.method, url, request.headers, b"")
    result = await verify_request(signed, resolve_peer_key, time.time())
    return result if isinstance(result, Verified) else None


async def test_authorized_fetch_requires_a_valid_signature(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, authorized_fetch=True)
    async with running(settings, verify_signed_get) as inst:
        await inst.create(id="guarded")
        path = "/blocks/guarded"
        assert (await inst.get(path, Accept=AS)).status == 401
        assert (await inst.get("/actor/outbox", Accept=AS)).status == 401
        url = f"http://{GATEWAY}{path}"
        headers = {"Accept": AS, "Host": GATEWAY}
        signature = sign_cavage(
            "GET", url, headers, None, SigningKey(PEER_KEY_ID, PEER_KEY), time.time()
        )
        signed = await inst.get(path, **{**headers, **signature})
        assert signed.status == 200
        other_key = SigningKey(PEER_KEY_ID, Ed25519PrivateKey.generate())
        forged = sign_cavage("GET", url, headers, None, other_key, time.time())
        assert (await inst.get(path, **{**headers, **forged})).status == 401
