"""Hand-made HTTP signatures for verifier tests: any components, any parameters, any
algorithm label and any signing primitive, so a test can build exactly the request a rule is
about (including ones our own signers never produce: ECDSA, RSA-PSS, rsa-sha512)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from federation.signatures import (
    KeyResolver,
    PublicKey,
    PublicKeyInfo,
    Rejected,
    SignedRequest,
    Verified,
    rfc9421,
    rfc9421_signing,
    verify_request,
)
from federation.signatures.http import lower_headers, split_url
from federation.signatures.policy import RequestView

NOW = 1_700_000_000
KEY_ID = "https://alpha.example/actor#main-key"
OWNER = "https://alpha.example/actor"

RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ED = ed25519.Ed25519PrivateKey.generate()
EC = ec.generate_private_key(ec.SECP256R1())

Signer = Callable[[bytes], bytes]
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=padding.PSS.DIGEST_LENGTH)


def rsa_pkcs1_sha256(message: bytes) -> bytes:
    return RSA.sign(message, padding.PKCS1v15(), hashes.SHA256())


def rsa_pkcs1_sha512(message: bytes) -> bytes:
    return RSA.sign(message, padding.PKCS1v15(), hashes.SHA512())


def rsa_pss_sha512(message: bytes) -> bytes:
    return RSA.sign(message, _PSS, hashes.SHA512())


def ecdsa_p256(message: bytes) -> bytes:
    """ECDSA P-256 as draft-cavage carries it: DER."""
    return EC.sign(message, ec.ECDSA(hashes.SHA256()))


def ecdsa_p256_raw(message: bytes) -> bytes:
    """ECDSA P-256 as RFC 9421 carries it: r || s, 32 bytes each."""
    return bytes(rfc9421.ALGORITHMS["ecdsa-p256-sha256"](private_key=EC).sign(message))


def ed25519_sign(message: bytes) -> bytes:
    return ED.sign(message)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def resolver(public: PublicKey, key_id: str = KEY_ID) -> KeyResolver:
    async def resolve(requested: str) -> PublicKeyInfo | None:
        return PublicKeyInfo(key_id, OWNER, public) if requested == key_id else None

    return resolve


async def verify(
    req: SignedRequest, public: PublicKey, now: float = NOW, **options: Any
) -> Verified | Rejected:
    return await verify_request(req, resolver(public), now, **options)


def cavage(
    sign: Signer,
    *,
    covered: tuple[str, ...] = ("(request-target)", "host", "(created)"),
    algorithm: str | None = "hs2019",
    created: int | None = NOW,
    expires: int | None = None,
    method: str = "GET",
    url: str = "https://beta.example/inbox",
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
) -> SignedRequest:
    """A draft-cavage request signed over `covered` with `sign`, labelled `algorithm`."""
    parts = split_url(url)
    sent = {"Host": parts.authority, **(headers or {})}
    lower = lower_headers(sent)
    lines = []
    for name in covered:
        if name == "(request-target)":
            value = f"{method.lower()} {parts.path_query}"
        elif name == "(created)":
            value = str(created)
        elif name == "(expires)":
            value = str(expires)
        else:
            value = lower[name]
        lines.append(f"{name}: {value}")
    params = [f'keyId="{KEY_ID}"']
    if algorithm is not None:
        params.append(f'algorithm="{algorithm}"')
    params += [f"created={created}"] if created is not None else []
    params += [f"expires={expires}"] if expires is not None else []
    params.append(f'headers="{" ".join(covered)}"')
    params.append(f'signature="{b64(sign(chr(10).join(lines).encode()))}"')
    return SignedRequest(method, url, {**sent, "Signature": ",".join(params)}, body)


def rfc(
    sign: Signer,
    *,
    components: tuple[str, ...] = ("@method", "@target-uri"),
    params: Mapping[str, int | str] | None = None,
    method: str = "GET",
    url: str = "https://beta.example/inbox",
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    label: str = "sig1",
) -> SignedRequest:
    """An RFC 9421 request signed over `components` with `params` (default: created, keyid)."""
    chosen: dict[str, int | str] = (
        {"created": NOW, "keyid": KEY_ID} if params is None else dict(params)
    )
    serialized = rfc9421_signing.serialize_signature_params(components, chosen)
    sent = dict(headers or {})
    view = RequestView(
        method, split_url(url, lower_headers(sent).get("host")), lower_headers(sent), body
    )
    sig = rfc9421.SignatureInput(label, components, dict(chosen), serialized)
    raw = sign(rfc9421.signature_base(view, sig))
    signed = {"Signature-Input": f"{label}={serialized}", "Signature": f"{label}=:{b64(raw)}:"}
    return SignedRequest(method, url, {**sent, **signed}, body)
