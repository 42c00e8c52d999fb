"""A real gateway's 401s say what it accepts (RFC 9421 section 5, Accept-Signature), and a peer
that signs as asked gets in: on the inbox (POST, with its body's digest) and, with authorized
fetch on, on a signed GET. The peer is a real actor on 127.0.0.1 whose key the gateway fetches."""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key

from federation.activities import AS_MEDIA_TYPE
from federation.signatures import (
    SigningKey,
    parse_accept_signature,
    sign_cavage,
    sign_rfc9421,
)
from tests.support.inproc import running, settings_for
from tests.support.peer import Peer, serve_peer

pytestmark = pytest.mark.integration

POST_ASK = 'sig1=("@method" "@target-uri" "content-digest");created'
GET_ASK = 'sig1=("@method" "@target-uri");created'


async def knock(
    session: aiohttp.ClientSession, method: str, url: str, **kw: object
) -> tuple[int, str | None, str]:
    async with session.request(method, url, **kw) as resp:  # type: ignore[arg-type]
        return resp.status, resp.headers.get("Accept-Signature"), resp.content_type


async def test_an_inbox_401_names_what_we_accept_and_a_peer_signing_so_gets_in(
    tmp_path: Path,
) -> None:
    async with (
        running(settings_for(tmp_path, "gw")) as node,
        serve_peer() as peer,
        aiohttp.ClientSession() as session,
    ):
        inbox = f"{node.url}/inbox"
        body = peer.signed_post(inbox, peer.create()).body
        plain = {"Content-Type": AS_MEDIA_TYPE}
        status, asked, kind = await knock(session, "POST", inbox, data=body, headers=plain)
        assert (status, asked, kind) == (401, POST_ASK, "application/problem+json")
        # A bad signature is answered the same way: the ask is for every unacceptable one.
        forged = {**plain, **sign_cavage("POST", inbox, plain, body, _other_key(peer), time.time())}
        assert (await knock(session, "POST", inbox, data=body, headers=forged))[:2] == (
            401,
            POST_ASK,
        )
        (ask,) = parse_accept_signature(asked)
        added = sign_rfc9421("POST", inbox, plain, body, peer.signing_key(), time.time(), ask=ask)
        status, asked, _ = await knock(
            session, "POST", inbox, data=body, headers={**plain, **added}
        )
        assert (status, asked) == (202, None)


async def test_a_signed_get_401_names_what_we_accept(tmp_path: Path) -> None:
    async with (
        running(settings_for(tmp_path, "gw", authorized_fetch=True)) as node,
        serve_peer() as peer,
        aiohttp.ClientSession() as session,
    ):
        outbox = f"{node.url}/actor/outbox"
        accept = {"Accept": AS_MEDIA_TYPE}
        status, asked, _ = await knock(session, "GET", outbox, headers=accept)
        assert (status, asked) == (401, GET_ASK)
        (ask,) = parse_accept_signature(asked)
        added = sign_rfc9421("GET", outbox, accept, None, peer.signing_key(), time.time(), ask=ask)
        assert (await knock(session, "GET", outbox, headers={**accept, **added}))[0] == 200


def _other_key(peer: Peer) -> SigningKey:
    """The peer's key id on a key it does not publish: a forged signature."""
    return SigningKey(peer.rsa_key_id, generate_private_key(public_exponent=65537, key_size=2048))
