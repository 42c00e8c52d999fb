"""Value types shared by the signing and verification code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

PublicKey = RSAPublicKey | Ed25519PublicKey | EllipticCurvePublicKey
PrivateKey = RSAPrivateKey | Ed25519PrivateKey

# Longest Signature / Signature-Input value we parse; anything longer is malformed.
MAX_SIGNATURE_HEADER = 8192


@dataclass(frozen=True)
class SignedRequest:
    """An inbound request as the verifier sees it.

    `headers` may be any mapping (a dict, or an aiohttp CIMultiDictProxy); lookups are
    case-insensitive and repeated fields are joined with ", ". `url` is the absolute URL the
    request was sent to (a path-only URL takes its authority from the Host header).
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class PublicKeyInfo:
    key_id: str
    owner: str
    public_key: PublicKey


KeyResolver = Callable[[str], Awaitable[PublicKeyInfo | None]]


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    private_key: PrivateKey


class Reason(StrEnum):
    NO_SIGNATURE = "no_signature"
    MALFORMED = "malformed"
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
    MISSING_COMPONENT = "missing_component"
    EXPIRED = "expired"
    FUTURE = "future"
    DIGEST_MISMATCH = "digest_mismatch"
    BAD_SIGNATURE = "bad_signature"  # the caller may re-fetch the key once and retry
    KEY_NOT_FOUND = "key_not_found"


@dataclass(frozen=True)
class Verified:
    key_id: str
    owner: str
    scheme: str  # "cavage" | "rfc9421"


@dataclass(frozen=True)
class Rejected:
    reason: Reason
    detail: str
    key_id: str | None = None


class Rejection(Exception):
    """Raised inside the verifier; verify_request turns it into a Rejected value."""

    def __init__(self, reason: Reason, detail: str, key_id: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.key_id = key_id

    def result(self) -> Rejected:
        return Rejected(self.reason, self.detail, self.key_id)
