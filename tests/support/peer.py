"""A signing peer for tests: an in-test actor with its own RSA and Ed25519 keys.

`serve_peer()` publishes the actor document (id, inbox, publicKey with owner, assertionMethod
with an Ed25519 Multikey) from a small aiohttp app on 127.0.0.1, so a real gateway can fetch
the peer's keys. `Peer.signed_post()` builds a POST to a gateway inbox signed with
draft-cavage or RFC 9421, and `post()` sends it over real HTTP.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, generate_private_key

from federation.activities import AS_CONTEXT, AS_MEDIA_TYPE, PUBLIC
from federation.keys import multibase_ed25519_public
from federation.signatures import SigningKey, sign_cavage, sign_rfc9421
from tests.support.cluster import free_port

Scheme = Literal["cavage", "rfc9421"]
KeyKind = Literal["rsa", "ed25519"]

_RSA_CACHE: list[RSAPrivateKey] = []  # RSA generation is slow-ish: reuse a few per session


def _rsa_key(index: int) -> RSAPrivateKey:
    while len(_RSA_CACHE) <= index:
        _RSA_CACHE.append(generate_private_key(public_exponent=65537, key_size=2048))
    return _RSA_CACHE[index]


_PEER_COUNT = [0]


@dataclass
class SignedPost:
    """Everything needed to send one signed POST: the URL, the headers and the body."""

    url: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Peer:
    port: int
    rsa: RSAPrivateKey
    ed25519: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    # Top-level properties to override in the served actor document (to serve a bad one).
    document_overrides: dict[str, Any] = field(default_factory=dict)
    # Bodies POSTed to the actor's inbox, in arrival order.
    received: list[bytes] = field(default_factory=list)
    # The name its URLs use; it always listens on 127.0.0.1 (e.g. "localhost." also reaches it).
    host: str = "127.0.0.1"
    received_headers: list[dict[str, str]] = field(default_factory=list)  # of each POST

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def domain(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def actor(self) -> str:
        return f"{self.origin}/actor"

    @property
    def rsa_key_id(self) -> str:
        return f"{self.actor}#main-key"

    @property
    def ed25519_key_id(self) -> str:
        return f"{self.actor}#ed25519-key"

    def signing_key(self, kind: KeyKind = "rsa") -> SigningKey:
        if kind == "ed25519":
            return SigningKey(self.ed25519_key_id, self.ed25519)
        return SigningKey(self.rsa_key_id, self.rsa)

    def actor_document(self) -> dict[str, Any]:
        pem = (
            self.rsa.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )
        return {
            **self._document(pem),
            **self.document_overrides,
        }

    def _document(self, pem: str) -> dict[str, Any]:
        return {
            "@context": [AS_CONTEXT, "https://w3id.org/security/v1"],
            "id": self.actor,
            "type": "Application",
            "preferredUsername": f"peer{self.port}",
            "inbox": f"{self.actor}/inbox",
            "publicKey": {"id": self.rsa_key_id, "owner": self.actor, "publicKeyPem": pem},
            "assertionMethod": [
                {
                    "id": self.ed25519_key_id,
                    "type": "Multikey",
                    "controller": self.actor,
                    "publicKeyMultibase": multibase_ed25519_public(self.ed25519.public_key()),
                }
            ],
        }

    def new_id(self, kind: str = "activities") -> str:
        return f"{self.origin}/{kind}/{uuid.uuid4()}"

    def note(self, object_id: str | None = None, content: str = "hello") -> dict[str, Any]:
        """A public Note on this peer's origin (or at `object_id`)."""
        return {
            "id": object_id or self.new_id("blocks"),
            "type": "Note",
            "attributedTo": self.actor,
            "content": content,
            "to": [PUBLIC],
        }

    def create(self, obj: Mapping[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        """A Create from this peer's actor (extra keys override, e.g. actor=...)."""
        activity: dict[str, Any] = {
            "@context": AS_CONTEXT,
            "id": self.new_id(),
            "type": "Create",
            "actor": self.actor,
            "object": dict(obj) if obj is not None else self.note(),
            "to": [PUBLIC],
        }
        activity.update(extra)
        return activity

    def delete(self, object_id: str, **extra: Any) -> dict[str, Any]:
        activity: dict[str, Any] = {
            "@context": AS_CONTEXT,
            "id": self.new_id(),
            "type": "Delete",
            "actor": self.actor,
            "object": object_id,
            "to": [PUBLIC],
        }
        activity.update(extra)
        return activity

    def signed_post(
        self,
        inbox_url: str,
        activity: Mapping[str, Any] | bytes,
        *,
        scheme: Scheme = "cavage",
        key: KeyKind | SigningKey = "rsa",
        now: float | None = None,
        content_type: str = AS_MEDIA_TYPE,
    ) -> SignedPost:
        """A POST of `activity` to `inbox_url`, signed with this peer's key (or `key`)."""
        body = activity if isinstance(activity, bytes) else json.dumps(activity).encode()
        signing = key if isinstance(key, SigningKey) else self.signing_key(key)
        return signed_post(
            inbox_url, body, signing, scheme=scheme, now=now, content_type=content_type
        )


def signed_post(
    url: str,
    body: bytes,
    key: SigningKey,
    *,
    scheme: Scheme = "cavage",
    now: float | None = None,
    content_type: str = AS_MEDIA_TYPE,
) -> SignedPost:
    """Sign a POST of `body` to `url` with `key` (draft-cavage or RFC 9421)."""
    headers = {"Content-Type": content_type}
    when = time.time() if now is None else now
    sign = sign_rfc9421 if scheme == "rfc9421" else sign_cavage
    added = sign("POST", url, headers, body, key, when)
    return SignedPost(url, {**headers, **added}, body)


async def post(session: aiohttp.ClientSession, req: SignedPost) -> tuple[int, str, Any]:
    """Send a SignedPost; (status, content type, parsed JSON body or raw text)."""
    async with session.post(req.url, data=req.body, headers=req.headers) as resp:
        text = await resp.text()
        try:
            payload: Any = json.loads(text)
        except ValueError:
            payload = text
        return resp.status, resp.content_type, payload


@asynccontextmanager
async def serve_peer(
    *, rsa_index: int | None = None, host: str = "127.0.0.1"
) -> AsyncIterator[Peer]:
    """Serve a fresh peer actor on 127.0.0.1 (GET /actor; anything POSTed to its inbox is
    acknowledged with 202) until the block ends; its URLs name `host`."""
    if rsa_index is None:
        rsa_index = _PEER_COUNT[0]
        _PEER_COUNT[0] += 1
    peer = Peer(port=free_port(), rsa=_rsa_key(rsa_index), host=host)
    app = web.Application()

    async def actor(request: web.Request) -> web.Response:
        return web.Response(
            body=json.dumps(peer.actor_document()).encode(), content_type=AS_MEDIA_TYPE
        )

    async def inbox(request: web.Request) -> web.Response:
        peer.received.append(await request.read())
        peer.received_headers.append(dict(request.headers))
        return web.Response(status=202)

    app.router.add_get("/actor", actor)
    app.router.add_post("/actor/inbox", inbox)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", peer.port).start()
        yield peer
    finally:
        await runner.cleanup()
