"""A simulated peer instance: its key and follow relation go straight into the gateway's store,
and the load generator signs its activities (Create of a block) with that key.

Nothing listens on the peer's port: the gateway finds the key in its cache and never needs
to fetch the actor. The default key is Ed25519 (cavage hs2019) so that pre-signing thousands
of requests takes well under a second; `rsa` makes the peer sign rsa-sha256 (~2.5 ms each).
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from bench.common import free_port
from bench.loadgen import Item, http_request
from federation.activities import Block, block_to_object, builders
from federation.proofs import sign_document
from federation.records import Direction, Follow, FollowState, RemoteKey
from federation.signatures import SigningKey, sign_cavage, sign_rfc9421

CONTENT_TYPE = "application/activity+json"
INVALID_KINDS = ("unsigned", "bad_digest", "not_json")


@dataclass(frozen=True)
class Peer:
    domain: str
    private_pem: bytes
    # Also prove each activity (FEP-8b32 eddsa-jcs-2022), as Fedify and Mitra peers do: the
    # gateway then verifies the proof too. Ed25519 peers only (the proof key is the HTTP key).
    proofs: bool = False
    # Send what a Fedify server sends: RFC 9421 first, a proof, then a Linked Data signature
    # added after it. (The LD signature is shaped like Fedify's but not computed per activity:
    # URDNA2015 in the generator would dominate the run, and the gateway ignores an LD
    # signature when the actor itself signed the request, as Mastodon does.)
    fedify: bool = False

    @property
    def base_url(self) -> str:
        return f"http://{self.domain}"

    @property
    def actor(self) -> str:
        return f"{self.base_url}/actor"

    @property
    def key_id(self) -> str:
        return f"{self.actor}#main-key"

    def private_key(self) -> Any:
        return serialization.load_pem_private_key(self.private_pem, password=None)

    def remote_key(self, now: float) -> RemoteKey:
        public = (
            self.private_key()
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        return RemoteKey(
            key_id=self.key_id, owner=self.actor, public_key_pem=public.decode(), fetched_at=now
        )

    def following(self, now: float) -> Follow:
        """The gateway follows this peer, so its Creates are stored, not ignored."""
        return Follow(
            direction=Direction.FOLLOWING,
            actor=self.actor,
            domain=self.domain,
            inbox=f"{self.actor}/inbox",
            shared_inbox=None,
            state=FollowState.ACCEPTED,
            follow_id=f"{self.base_url}/follows/1",
            created_at=now,
            updated_at=now,
        )


def make_peer(kind: str = "ed25519", *, proofs: bool = False, fedify: bool = False) -> Peer:
    key: Any = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if kind == "rsa"
        else ed25519.Ed25519PrivateKey.generate()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    proving = (proofs or fedify) and kind == "ed25519"
    return Peer(f"127.0.0.1:{free_port()}", pem, proofs=proving, fedify=fedify)


def create_body(peer: Peer) -> bytes:
    """A Create of a fresh public block with a unique activity id."""
    now = datetime.now(UTC)
    unique = uuid.uuid4().hex
    block = Block(
        id=f"b-{unique}",
        kind="note",
        title="bench block",
        content="x" * 200,
        author="bench",
        visibility="public",
        created_at=now,
        updated_at=now,
    )
    obj = block_to_object(block, base_url=peer.base_url, authority=peer.domain, scheme="http")
    activity = builders.create(obj, peer.actor, f"{peer.base_url}/activities/{unique}")
    if peer.proofs:
        activity = sign_document(activity, peer.private_key(), peer.key_id, now)
    if peer.fedify:
        activity["signature"] = _ld_signature_shape(peer, now)
    return json.dumps(activity, separators=(",", ":")).encode()


def _ld_signature_shape(peer: Peer, now: datetime) -> dict[str, str]:
    """An RsaSignature2017 member of the size and shape a Fedify server adds (2048-bit RSA)."""
    return {
        "type": "RsaSignature2017",
        "creator": f"{peer.actor}#main-key",
        "created": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "signatureValue": base64.b64encode(os.urandom(256)).decode("ascii"),
    }


def signed_post(peer: Peer, target: str, path: str, body: bytes, key: SigningKey) -> bytes:
    headers = {"Content-Type": CONTENT_TYPE}
    sign = sign_rfc9421 if peer.fedify else sign_cavage  # Fedify knocks with RFC 9421 first
    added = sign("POST", f"http://{target}{path}", headers, body, key, time.time())
    return http_request("POST", target, path, {**headers, **added}, body)


def signed_creates(peer: Peer, target: str, count: int) -> list[Item]:
    """`count` signed Creates for the gateway at `target` (host:port); runs in the generator."""
    key = SigningKey(peer.key_id, peer.private_key())
    return [
        ("valid", signed_post(peer, target, "/inbox", create_body(peer), key)) for _ in range(count)
    ]


def invalid_post(peer: Peer, target: str, kind: str) -> Item:
    """Traffic the gateway must refuse: unsigned, a body that does not match its digest, not
    JSON at all."""
    headers = {"Content-Type": CONTENT_TYPE}
    if kind == "unsigned":
        return kind, http_request("POST", target, "/inbox", headers, create_body(peer))
    if kind == "not_json":
        return kind, http_request("POST", target, "/inbox", headers, b"{not json at all")
    key = SigningKey(peer.key_id, peer.private_key())
    signed = signed_post(peer, target, "/inbox", create_body(peer), key)
    return kind, signed.replace(b'"bench block"', b'"bench bl0ck"')  # same length, bad digest


def mixed(peer: Peer, target: str, count: int, invalid_share: float = 0.25) -> list[Item]:
    """Valid and invalid traffic interleaved: every 1/invalid_share-th request is invalid."""
    every = max(1, round(1 / invalid_share)) if invalid_share > 0 else 0
    key = SigningKey(peer.key_id, peer.private_key())
    items: list[Item] = []
    for n in range(count):
        if every and n % every == every - 1:
            items.append(invalid_post(peer, target, INVALID_KINDS[(n // every) % 3]))
        else:
            body = create_body(peer)
            items.append(("valid", signed_post(peer, target, "/inbox", body, key)))
    return items
