"""Independent implementations agree with ours, in both directions.

- RFC 9421: the `http_message_signatures` library (HTTPMessageSigner / HTTPMessageVerifier).
- draft-cavage: bovine (a Python ActivityPub library with its own hand-written cavage code),
  run in a separate virtualenv (.venv-interop) so its dependencies never mix with ours.
"""

from __future__ import annotations

import base64
import datetime
import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
)
from http_message_signatures.algorithms import (
    ECDSA_P256_SHA256,
    ED25519,
    RSA_PSS_SHA512,
    RSA_V1_5_SHA256,
)
from http_message_signatures.structures import CaseInsensitiveDict

from federation.signatures import (
    KeyResolver,
    PublicKey,
    PublicKeyInfo,
    SignedRequest,
    SigningKey,
    Verified,
    sign_cavage,
    sign_rfc9421,
    verify_request,
)

KEY_ID = "https://alpha.example/actor#main-key"
OWNER = "https://alpha.example/actor"
URL = "https://beta.example/inbox?page=2"
BODY = b'{"type": "Create", "object": {"content": "h\\u00e9llo, world"}}'
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ED_KEY = ed25519.Ed25519PrivateKey.generate()
EC_KEY = ec.generate_private_key(ec.SECP256R1())


@dataclass
class _Message:
    """The request shape http_message_signatures reads: method, url, headers."""

    method: str
    url: str
    headers: CaseInsensitiveDict


def _resolver(public_key: PublicKey) -> KeyResolver:
    async def resolve(key_id: str) -> PublicKeyInfo | None:
        return PublicKeyInfo(key_id, OWNER, public_key) if key_id == KEY_ID else None

    return resolve


@pytest.mark.parametrize(
    ("private", "algorithm"),
    [(RSA_KEY, RSA_V1_5_SHA256), (ED_KEY, ED25519)],
    ids=["rsa", "ed25519"],
)
@pytest.mark.parametrize("body", [b"", BODY], ids=["get", "post"])
def test_rfc9421_ours_verified_by_http_message_signatures(
    private: Any, algorithm: Any, body: bytes
) -> None:
    method = "POST" if body else "GET"
    base = {"Content-Type": "application/activity+json"} if body else {}
    added = sign_rfc9421(method, URL, base, body or None, SigningKey(KEY_ID, private), time.time())
    message = _Message(method, URL, CaseInsensitiveDict({**base, **added}))  # type: ignore[no-untyped-call]
    keys = MappingKeyResolver(public_keys={KEY_ID: private.public_key()}, private_keys={})
    verifier = HTTPMessageVerifier(signature_algorithm=algorithm, key_resolver=keys)
    [result] = verifier.verify(message, body=body, require_components=("@method", "@target-uri"))
    assert result.parameters["keyid"] == KEY_ID
    message.url = URL.replace("beta.example", "gamma.example")
    with pytest.raises(InvalidSignature):
        verifier.verify(message, body=body)


@pytest.mark.parametrize(
    ("private", "algorithm"),
    [
        (RSA_KEY, RSA_V1_5_SHA256),
        (RSA_KEY, RSA_PSS_SHA512),
        (ED_KEY, ED25519),
        (EC_KEY, ECDSA_P256_SHA256),
    ],
    ids=["rsa-v1_5", "rsa-pss", "ed25519", "ecdsa-p256"],
)
async def test_rfc9421_http_message_signatures_verified_by_ours(
    private: Any, algorithm: Any
) -> None:
    now = int(time.time())
    headers = CaseInsensitiveDict({"Content-Type": "application/activity+json"})  # type: ignore[no-untyped-call]
    message = _Message("POST", URL, headers)
    keys = MappingKeyResolver(public_keys={}, private_keys={KEY_ID: private})
    HTTPMessageSigner(signature_algorithm=algorithm, key_resolver=keys).sign(
        message,
        key_id=KEY_ID,
        created=datetime.datetime.fromtimestamp(now, tz=datetime.UTC),
        covered_component_ids=("@method", "@target-uri", "content-digest", "content-type"),
        body=BODY,  # the library computes Content-Digest itself
    )
    req = SignedRequest("POST", URL, dict(message.headers), BODY)
    result = await verify_request(req, _resolver(private.public_key()), float(now))
    assert result == Verified(KEY_ID, OWNER, "rfc9421")
    tampered = SignedRequest("POST", URL.replace("page=2", "page=3"), dict(message.headers), BODY)
    rejected = await verify_request(tampered, _resolver(private.public_key()), now)
    assert not isinstance(rejected, Verified)


# --- draft-cavage against bovine, run in .venv-interop ---

_BOVINE_PEER = r"""
import asyncio, base64, json, sys
from bovine.crypto.http_signature import build_signature
from bovine.crypto.helper import content_digest_sha256
from bovine.crypto.signature_checker import SignatureChecker
from bovine.crypto.types import CryptographicIdentifier, CryptographicSecret
from bovine.clients.utils import host_target_from_url
from bovine.utils import get_gmt_now

job = json.load(sys.stdin)
body = base64.b64decode(job["body"])

async def verify():
    async def key_retriever(key_id):
        if key_id != job["key_id"]:
            return None
        return CryptographicIdentifier.from_pem(job["public_pem"], job["owner"])
    async def get_body():
        return body
    checker = SignatureChecker(key_retriever)
    return await checker.validate_signature(job["method"], job["url"], job["headers"], get_body)

def sign():
    host, target = host_target_from_url(job["url"])
    helper = build_signature(host, job["method"].lower(), target).with_field("date", get_gmt_now())
    if body:
        helper = helper.with_field("digest", content_digest_sha256(body, prefix="SHA-256"))
        helper = helper.with_field("content-type", "application/activity+json")
    secret = CryptographicSecret.from_pem(job["key_id"], job["private_pem"])
    return {**helper.headers, "signature": helper.sign_for_http_draft(secret)}

if job["op"] == "verify":
    print(json.dumps({"owner": asyncio.run(verify())}))
else:
    print(json.dumps({"headers": sign()}))
"""


def _bovine(python: Path, job: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [str(python), "-c", _BOVINE_PEER],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _pem(private: rsa.RSAPrivateKey) -> tuple[str, str]:
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    secret = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return public.decode(), secret.decode()


# bovine signs and checks `(request-target)` without the query, so these URLs carry none.
@pytest.mark.parametrize(("method", "body"), [("GET", b""), ("POST", BODY)], ids=["get", "post"])
def test_cavage_ours_verified_by_bovine(bovine_python: Path, method: str, body: bytes) -> None:
    url = "https://beta.example/inbox"
    base = {"Content-Type": "application/activity+json"} if body else {}
    added = sign_cavage(method, url, base, body or None, SigningKey(KEY_ID, RSA_KEY), time.time())
    headers = {k.lower(): v for k, v in {**base, **added}.items()}
    public_pem, _ = _pem(RSA_KEY)
    job = {
        "op": "verify",
        "method": method,
        "url": url,
        "headers": headers,
        "body": base64.b64encode(body).decode(),
        "key_id": KEY_ID,
        "public_pem": public_pem,
        "owner": OWNER,
    }
    assert _bovine(bovine_python, job)["owner"] == OWNER
    job["headers"] = {**headers, "host": "gamma.example"}
    assert _bovine(bovine_python, job)["owner"] is None


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "https://beta.example/blocks/1", b""),
        ("GET", "https://beta.example/blocks?page=2", b""),
        ("POST", "https://beta.example/inbox", BODY),
    ],
    ids=["get", "get-query", "post"],
)
async def test_cavage_bovine_verified_by_ours(
    bovine_python: Path, method: str, url: str, body: bytes
) -> None:
    _, private_pem = _pem(RSA_KEY)
    job = {
        "op": "sign",
        "method": method,
        "url": url,
        "body": base64.b64encode(body).decode(),
        "key_id": KEY_ID,
        "private_pem": private_pem,
    }
    headers = _bovine(bovine_python, job)["headers"]
    req = SignedRequest(method, url, headers, body)
    result = await verify_request(req, _resolver(RSA_KEY.public_key()), time.time())
    assert result == Verified(KEY_ID, OWNER, "cavage")
    tampered = (
        SignedRequest(method, url, headers, body + b" ")
        if body
        else SignedRequest("DELETE", url, headers, body)
    )
    assert not isinstance(
        await verify_request(tampered, _resolver(RSA_KEY.public_key()), time.time()), Verified
    )
