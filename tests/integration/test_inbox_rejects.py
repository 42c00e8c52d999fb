"""Bad input at a real gateway's inboxes (POST /inbox and POST /actor/inbox).

Every bad request is answered 4xx application/problem+json with a clear title and detail,
records nothing (no "inbox" job, job counts unchanged), and leaves the gateway serving: a valid
signed activity sent right after is accepted (202) and recorded. The peers are real actors
served on 127.0.0.1 whose keys the gateway fetches over HTTP.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key

from federation.activities import AS_MEDIA_TYPE
from federation.records import DomainBlock
from federation.signatures import SigningKey, content_digest_header
from tests.support.inproc import Running, running, settings_for
from tests.support.peer import Peer, SignedPost, post, serve_peer
from tests.support.stored import has_job_keyed

pytestmark = pytest.mark.integration

PATHS = ("/inbox", "/actor/inbox")
PROBLEM = "application/problem+json"


@dataclass
class Env:
    node: Running
    a: Peer
    b: Peer
    session: aiohttp.ClientSession

    def url(self, path: str) -> str:
        return f"{self.node.url}{path}"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with (
        running(settings_for(tmp_path, "gw")) as node,
        serve_peer(rsa_index=0) as a,
        serve_peer(rsa_index=1) as b,
        aiohttp.ClientSession() as session,
    ):
        yield Env(node, a, b, session)


async def total_jobs(env: Env) -> int:
    return sum((await env.node.instance.store.counts()).values())


async def recorded(env: Env, activity_id: str) -> bool:
    return await has_job_keyed(env.node.instance.store, f"inbox:{activity_id}")


async def expect_rejected(
    env: Env,
    req: SignedPost,
    status: int,
    title: str,
    detail_has: str = "",
    *,
    activity_id: str | None = None,
) -> dict[str, Any]:
    """Send `req`; check the problem answer and that nothing was stored."""
    before = await total_jobs(env)
    got, content_type, body = await post(env.session, req)
    assert (got, content_type) == (status, PROBLEM), body
    assert isinstance(body, dict), body
    assert body["status"] == status
    assert body["title"] == title
    assert isinstance(body.get("detail"), str) and body["detail"], body
    assert detail_has.lower() in body["detail"].lower(), body
    assert await total_jobs(env) == before  # (states may move on: the runner works)
    if activity_id is not None:
        assert not await recorded(env, activity_id)
    return body


async def expect_still_serving(env: Env, path: str, sender: Peer | None = None) -> None:
    """A valid signed activity right after is accepted and recorded as an inbox job."""
    peer = sender or env.a
    activity = peer.create()
    before = await total_jobs(env)
    got, _, body = await post(env.session, peer.signed_post(env.url(path), activity))
    assert got == 202, body
    assert body == {"status": "accepted", "id": activity["id"]}
    assert await recorded(env, activity["id"])
    assert await total_jobs(env) == before + 1


def unsigned(env: Env, path: str, activity: dict[str, Any]) -> SignedPost:
    return SignedPost(env.url(path), {"Content-Type": AS_MEDIA_TYPE}, json.dumps(activity).encode())


# -- each bad request: (build it, expected status, title, text in the detail) -------------------

Case = Callable[[Env, str], tuple[SignedPost, str | None]]


def case_unsigned(env: Env, path: str) -> tuple[SignedPost, str | None]:
    activity = env.a.create()
    return unsigned(env, path, activity), activity["id"]


OTHER_KEY = generate_private_key(public_exponent=65537, key_size=2048)


def case_bad_signature(env: Env, path: str) -> tuple[SignedPost, str | None]:
    activity = env.a.create()
    forged = SigningKey(env.a.rsa_key_id, OTHER_KEY)  # A's key id, another key
    return env.a.signed_post(env.url(path), activity, key=forged), activity["id"]


def case_owner_not_actor(env: Env, path: str) -> tuple[SignedPost, str | None]:
    # Peer A signs (with its own, valid key) an activity that claims peer B as its actor.
    activity = env.b.create()
    return env.a.signed_post(env.url(path), activity), activity["id"]


def case_expired_date(env: Env, path: str) -> tuple[SignedPost, str | None]:
    activity = env.a.create()
    req = env.a.signed_post(env.url(path), activity, now=time.time() - 2 * 3600)
    return req, activity["id"]


def case_digest_mismatch(env: Env, path: str) -> tuple[SignedPost, str | None]:
    activity = env.a.create()
    req = env.a.signed_post(env.url(path), activity)
    activity["object"]["content"] = "changed after signing"
    req.body = json.dumps(activity).encode()
    return req, activity["id"]


def case_uncovered_digest_mismatch(env: Env, path: str) -> tuple[SignedPost, str | None]:
    # The signature covers Digest; a second digest header it does not cover lies about the body.
    activity = env.a.create()
    req = env.a.signed_post(env.url(path), activity)
    req.headers["Content-Digest"] = content_digest_header(b"another body")
    return req, activity["id"]


def case_foreign_object(env: Env, path: str) -> tuple[SignedPost, str | None]:
    activity = env.a.create(env.a.note(object_id=f"{env.b.origin}/blocks/theirs"))
    return env.a.signed_post(env.url(path), activity), activity["id"]


def case_foreign_object_listed_type(env: Env, path: str) -> tuple[SignedPost, str | None]:
    # ActivityStreams allows a list of types: an Update among them is still an Update.
    obj = env.a.note(object_id=f"{env.b.origin}/blocks/theirs")
    activity = env.a.create(obj, type=["Activity", "Update"])
    return env.a.signed_post(env.url(path), activity), activity["id"]


def case_oversized(env: Env, path: str) -> tuple[SignedPost, str | None]:
    activity = env.a.create(env.a.note(content="x" * (1024 * 1024 + 10)))
    return env.a.signed_post(env.url(path), activity), activity["id"]


def case_deep_nesting(env: Env, path: str) -> tuple[SignedPost, str | None]:
    activity = env.a.create()
    body = json.dumps(activity)[:-1] + ', "deep": ' + "[" * 100 + "]" * 100 + "}"
    return env.a.signed_post(env.url(path), body.encode()), activity["id"]


def case_not_json(env: Env, path: str) -> tuple[SignedPost, str | None]:
    return env.a.signed_post(env.url(path), b'{"id": "http://x/1", "type": '), None


def case_duplicate_actor_key(env: Env, path: str) -> tuple[SignedPost, str | None]:
    # The victim's actor first, the signer's last: a last-wins parser checks the signer's
    # ownership while a first-wins reader would act for the victim. Ambiguous, so refused.
    activity = env.a.create()
    body = '{"actor": ' + json.dumps(env.b.actor) + ", " + json.dumps(activity)[1:]
    return env.a.signed_post(env.url(path), body.encode()), activity["id"]


def case_text_plain(env: Env, path: str) -> tuple[SignedPost, str | None]:
    activity = env.a.create()
    req = env.a.signed_post(env.url(path), activity, content_type="text/plain")
    return req, activity["id"]


def case_delete_gateway_block(env: Env, path: str) -> tuple[SignedPost, str | None]:
    activity = env.a.delete(f"{env.node.url}/blocks/local-block")
    return env.a.signed_post(env.url(path), activity), activity["id"]


def case_delete_other_peers_block(env: Env, path: str) -> tuple[SignedPost, str | None]:
    activity = env.a.delete(f"{env.b.origin}/blocks/b-block")
    return env.a.signed_post(env.url(path), activity), activity["id"]


def case_create_unparsable_object_id(env: Env, path: str) -> tuple[SignedPost, str | None]:
    activity = env.a.create(env.a.note(object_id="http://[127.0.0.1/blocks/1"))
    return env.a.signed_post(env.url(path), activity), activity["id"]


def case_delete_unparsable_object_id(env: Env, path: str) -> tuple[SignedPost, str | None]:
    activity = env.a.delete("http://[::1/blocks/1")
    return env.a.signed_post(env.url(path), activity), activity["id"]


def case_malformed_key_id(env: Env, path: str) -> tuple[SignedPost, str | None]:
    # Correctly signed, but the keyId does not even parse as a URL (an unclosed IPv6 "[").
    activity = env.a.create()
    key = SigningKey("http://[127.0.0.1/actor#main-key", env.a.rsa)
    return env.a.signed_post(env.url(path), activity, key=key), activity["id"]


CASES: list[tuple[str, Case, int, str, str]] = [
    ("unsigned", case_unsigned, 401, "Signature rejected", "no_signature"),
    ("bad-signature", case_bad_signature, 401, "Signature rejected", "bad_signature"),
    ("owner-not-actor", case_owner_not_actor, 401, "Signer is not the actor", "belongs to"),
    ("expired-date", case_expired_date, 401, "Signature rejected", "expired"),
    ("digest-mismatch", case_digest_mismatch, 401, "Signature rejected", "digest_mismatch"),
    ("malformed-key-id", case_malformed_key_id, 401, "Signature rejected", "key_not_found"),
    ("uncovered-digest", case_uncovered_digest_mismatch, 400, "Digest mismatch", "Content-"),
    ("foreign-object", case_foreign_object, 403, "Foreign object", "own objects"),
    ("foreign-object-listed", case_foreign_object_listed_type, 403, "Foreign object", "own"),
    ("oversized", case_oversized, 413, "Payload too large", "limit"),
    ("deep-nesting", case_deep_nesting, 400, "Invalid activity", "nested deeper"),
    ("not-json", case_not_json, 400, "Invalid activity", "not valid JSON"),
    ("duplicate-key", case_duplicate_actor_key, 400, "Invalid activity", "more than once"),
    ("text-plain", case_text_plain, 415, "Unsupported media type", "activity+json"),
    ("create-unparsable-object", case_create_unparsable_object_id, 403, "Foreign object", "own"),
    ("delete-unparsable-object", case_delete_unparsable_object_id, 403, "Foreign object", "own"),
    ("delete-gateway-block", case_delete_gateway_block, 403, "Foreign object", "own objects"),
    ("delete-peer-b-block", case_delete_other_peers_block, 403, "Foreign object", "own objects"),
]


@pytest.mark.parametrize(
    ("build", "status", "title", "detail"),
    [pytest.param(*c[1:], id=c[0]) for c in CASES],
)
async def test_bad_request_is_refused_and_nothing_is_stored(
    env: Env, build: Case, status: int, title: str, detail: str
) -> None:
    for path in PATHS:
        req, activity_id = build(env, path)
        await expect_rejected(env, req, status, title, detail, activity_id=activity_id)
        await expect_still_serving(env, path)


async def test_owner_mismatch_uses_two_real_actors(env: Env) -> None:
    """The owner check is what refuses it: B's own signature on the same activity passes."""
    activity = env.b.create()
    req = env.a.signed_post(env.url("/inbox"), activity)
    await expect_rejected(
        env, req, 401, "Signer is not the actor", env.a.actor, activity_id=activity["id"]
    )
    got, _, _ = await post(env.session, env.b.signed_post(env.url("/inbox"), activity))
    assert got == 202
    assert await recorded(env, activity["id"])


async def test_oversized_body_without_content_length_is_refused(env: Env) -> None:
    """A chunked body (no Content-Length) over 1 MiB is refused too, not read to the end."""
    activity = env.a.create(env.a.note(content="y" * (1024 * 1024 + 10)))
    req = env.a.signed_post(env.url("/inbox"), activity)
    before = await total_jobs(env)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(req.body), 65536):
            yield req.body[start : start + 65536]

    async with env.session.post(req.url, data=chunks(), headers=req.headers) as resp:
        assert resp.status == 413
        assert resp.content_type == PROBLEM
        assert (await resp.json(content_type=None))["title"] == "Payload too large"
    assert await total_jobs(env) == before
    assert not await recorded(env, activity["id"])
    await expect_still_serving(env, "/inbox")


async def test_replayed_activity_is_a_409_and_recorded_once(env: Env) -> None:
    for path in PATHS:
        activity = env.a.create()
        req = env.a.signed_post(env.url(path), activity)
        before = await total_jobs(env)
        got, _, body = await post(env.session, req)
        assert got == 202, body
        await expect_rejected(env, req, 409, "Duplicate activity", activity["id"])
        assert await recorded(env, activity["id"])
        assert await total_jobs(env) == before + 1
        await expect_still_serving(env, path)


async def test_activity_from_a_blocked_domain_is_refused(env: Env) -> None:
    await env.node.instance.store.add_block(
        DomainBlock(domain=env.a.domain, reason="spam", created_at=time.time())
    )
    for path in PATHS:
        activity = env.a.create()
        req = env.a.signed_post(env.url(path), activity)
        await expect_rejected(
            env, req, 403, "Domain blocked", env.a.domain, activity_id=activity["id"]
        )
        await expect_still_serving(env, path, sender=env.b)


@pytest.mark.parametrize(
    ("scheme", "key"),
    [("rfc9421", "rsa"), ("rfc9421", "ed25519"), ("cavage", "ed25519"), ("cavage", "rsa")],
)
async def test_valid_signatures_of_every_kind_are_accepted(env: Env, scheme: Any, key: Any) -> None:
    for path in PATHS:
        activity = env.a.create()
        before = await total_jobs(env)
        req = env.a.signed_post(env.url(path), activity, scheme=scheme, key=key)
        got, _, body = await post(env.session, req)
        assert got == 202, body
        assert body["id"] == activity["id"]
        assert await recorded(env, activity["id"])
        assert await total_jobs(env) == before + 1


async def test_a_peer_serving_a_malformed_key_document_is_refused(env: Env) -> None:
    """A key whose owner is not a URL (an unclosed IPv6 "[") is unusable: 401, not a crash."""
    env.a.document_overrides["publicKey"] = {
        "id": env.a.rsa_key_id,
        "owner": "http://[127.0.0.1/actor",
        "publicKeyPem": env.a.actor_document()["publicKey"]["publicKeyPem"],
    }
    activity = env.a.create()
    req = env.a.signed_post(env.url("/inbox"), activity)
    await expect_rejected(
        env, req, 401, "Signature rejected", "key_not_found", activity_id=activity["id"]
    )
    await expect_still_serving(env, "/inbox", sender=env.b)


async def test_a_block_holds_for_a_trailing_dot_spelling_of_the_host(env: Env) -> None:
    """`http://localhost.:PORT/actor` is the host `localhost`: a block entered as `LocalHost.`
    refuses it (before any key fetch: this machine's resolver cannot even look the dotted name
    up) as it refuses the spelling whose activities were accepted before the block."""
    async with serve_peer(rsa_index=2, host="LocalHost") as peer:
        accepted = peer.create()
        got, _, body = await post(env.session, peer.signed_post(env.url("/inbox"), accepted))
        assert got == 202, body  # a live peer: it is the block that refuses it below
        admin = {"Authorization": f"Bearer {env.node.settings.admin_token}"}
        async with env.session.post(
            env.url("/admin/api/blocks"), json={"domain": "LocalHost."}, headers=admin
        ) as resp:
            assert resp.status == 201, await resp.text()
        dotted = dataclasses.replace(peer, host="localhost.")
        for sender, path in itertools.product((dotted, peer), PATHS):
            activity = sender.create()
            assert activity["actor"].startswith(f"http://{sender.host}:")
            req = sender.signed_post(env.url(path), activity)
            await expect_rejected(
                env, req, 403, "Domain blocked", "localhost", activity_id=activity["id"]
            )
            await expect_still_serving(env, path, sender=env.b)
