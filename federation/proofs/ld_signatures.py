"""Linked Data Signatures 1.0 with `RsaSignature2017`, as Mastodon and Fedify make and check them.

What Mastodon puts on the activities it forwards and relays, and a Fedify server on every activity
(after its FEP-8b32 proof): `"signature": {"type": "RsaSignature2017", "creator": <key id>,
"created": <time>, "signatureValue": <base64>}`. The signed string is
hex(SHA-256(URDNA2015(options))) + hex(SHA-256(URDNA2015(document))), where the options are the
signature object without `type`, `id` and `signatureValue`, with `"@context":
"https://w3id.org/identity/v1"`, and the document is the activity without `signature`; the
signature is RSA PKCS#1 v1.5 with SHA-256 over those 128 ASCII characters.

Pure: no I/O. Finding the key `creator` names, and checking that its owner is the activity's
actor, is the caller's job (as for proofs). Canonicalisation loads only bundled contexts
(jsonld_contexts.py) and is bounded in cost (ld_canonical.py).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from federation.proofs.eddsa_jcs import utc_timestamp
from federation.proofs.jsonld_contexts import IDENTITY_CONTEXT
from federation.proofs.ld_canonical import digest_hex
from federation.proofs.ld_errors import LdReason, LdSignatureError
from federation.proofs.members import string_member, without
from federation.signatures import PublicKey

SIGNATURE_TYPE = "RsaSignature2017"
_NOT_OPTIONS = ("type", "id", "signatureValue")  # left out of the signed options
_MAX_SIGNATURE_VALUE = 1400  # base64 of an 8192-bit RSA signature is 1368 characters


@dataclass(frozen=True, slots=True)
class LdSigned:
    """A document split into its unsigned part and its one Linked Data signature."""

    unsigned: dict[str, Any]
    signature: dict[str, Any]
    signature_bytes: bytes

    @property
    def creator(self) -> str:
        """The key id the signature names: the caller fetches it and checks its owner."""
        return str(self.signature["creator"])

    @property
    def created(self) -> str:
        return str(self.signature["created"])


def split_ld_signature(document: dict[str, Any]) -> LdSigned | None:
    """The document's LD signature, checked for shape; None when it carries none."""
    if "signature" not in document:
        return None
    signature = document["signature"]
    if not isinstance(signature, dict):
        raise _malformed("signature is not an object")
    kind = signature.get("type")
    if not isinstance(kind, str):
        raise _malformed("signature type must be a string")
    if kind != SIGNATURE_TYPE:
        raise LdSignatureError(LdReason.UNSUPPORTED, f"only {SIGNATURE_TYPE}, not {kind[:64]}")
    string_member(signature, "creator", _malformed, non_empty=True)
    string_member(signature, "created", _malformed)
    return LdSigned(
        without(document, "signature"), signature, _decode(signature.get("signatureValue"))
    )


def verify_ld_signature(signed: LdSigned, key: PublicKey) -> None:
    """Raise LdSignatureError unless `signed.signature` is `key`'s signature over the document,
    and covers every property of it (see ld_canonical.py on coverage)."""
    if not isinstance(key, RSAPublicKey):
        raise LdSignatureError(LdReason.UNSUPPORTED, f"the key {signed.creator} is not an RSA key")
    message = _to_be_signed(_options(signed.signature), signed.unsigned)
    try:
        key.verify(signed.signature_bytes, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise LdSignatureError(
            LdReason.BAD_SIGNATURE, "the signature does not match the document"
        ) from None


def sign_ld_signature(
    document: dict[str, Any], private_key: RSAPrivateKey, creator: str, created: datetime
) -> dict[str, Any]:
    """Return a copy of `document` (which must carry no signature) with an RsaSignature2017."""
    if "signature" in document:
        raise ValueError("the document already carries a signature")
    options = {"creator": creator, "created": utc_timestamp(created)}
    message = _to_be_signed(_options(options), document)
    value = private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    signature = {"type": SIGNATURE_TYPE, **options, "signatureValue": _encode(value)}
    return {**document, "signature": signature}


def _to_be_signed(options: dict[str, Any], document: dict[str, Any]) -> bytes:
    return (digest_hex(options) + digest_hex(document)).encode("ascii")


def _options(signature: dict[str, Any]) -> dict[str, Any]:
    """What the signature signs about itself: as sent, less three names, in the identity context
    (replacing any context the sender put there, as Mastodon and Fedify both do)."""
    kept = {name: value for name, value in signature.items() if name not in _NOT_OPTIONS}
    return {**kept, "@context": IDENTITY_CONTEXT}


def _malformed(detail: str) -> LdSignatureError:
    return LdSignatureError(LdReason.MALFORMED, detail)


def _decode(value: Any) -> bytes:
    if not isinstance(value, str) or len(value) > _MAX_SIGNATURE_VALUE:
        raise _malformed("signatureValue must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise _malformed("signatureValue is not valid base64") from None


def _encode(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")
