"""An author that rotates the key its proofs or Linked Data signatures are made with is fetched
again once, for both kinds alike (resolve/authorkeys.py): a forwarded activity signed with the
new key is accepted, not refused against the key cached before the rotation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation.proofs import sign_document, sign_ld_signature
from tests.support.forwarding import ForwardingEnv
from tests.support.peer import Peer, _rsa_key, post

pytestmark = pytest.mark.integration


def proved(author: Peer, activity: dict[str, Any]) -> dict[str, Any]:
    return sign_document(activity, author.ed25519, author.ed25519_key_id, datetime.now(UTC))


def ld_signed(author: Peer, activity: dict[str, Any]) -> dict[str, Any]:
    return sign_ld_signature(activity, author.rsa, author.rsa_key_id, datetime.now(UTC))


def rotate_ed25519(author: Peer) -> None:
    author.ed25519 = Ed25519PrivateKey.generate()


def rotate_rsa(author: Peer) -> None:
    author.rsa = _rsa_key(2)  # the fixture's author holds key 0, its carrier key 1


Signs = Callable[[Peer, dict[str, Any]], dict[str, Any]]


@pytest.mark.parametrize(
    ("sign", "rotate"), [(proved, rotate_ed25519), (ld_signed, rotate_rsa)], ids=["proof", "ld"]
)
async def test_a_rotated_author_key_is_fetched_again_and_the_activity_accepted(
    author_and_carrier: ForwardingEnv, sign: Signs, rotate: Callable[[Peer], None]
) -> None:
    env = author_and_carrier
    first = sign(env.author, env.author.create())
    status, _, body = await post(env.session, env.carrier.signed_post(env.inbox, first))
    assert status == 202, body  # the author's key is fetched and cached
    rotate(env.author)
    second = sign(env.author, env.author.create())
    status, _, body = await post(env.session, env.carrier.signed_post(env.inbox, second))
    assert status == 202, body  # no match with the cached key -> fetched again -> verified
    assert await env.recorded(second["id"])
