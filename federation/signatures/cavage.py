"""draft-cavage-http-signatures-12: the `Signature` header, signing and verification."""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from federation.signatures.digests import digest_header
from federation.signatures.http import format_http_date, lower_headers, split_url
from federation.signatures.model import (
    MAX_SIGNATURE_HEADER,
    PublicKey,
    Reason,
    Rejection,
    SigningKey,
)

_PARAM = re.compile(
    r"[ \t]*([A-Za-z][A-Za-z0-9_-]*)[ \t]*=[ \t]*"
    r'(?:"([^"\\]*(?:\\.[^"\\]*)*)"|([^",\s]*))[ \t]*(?:,|\Z)'
)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")  # ASCII: a Kelvin sign lower-cases to "k"
_TOKEN = re.compile(r'[^",\s]*')  # as _PARAM reads an unquoted value
_NUMBER = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,9})?")
_PKCS1 = padding.PKCS1v15()
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=padding.PSS.DIGEST_LENGTH)
_SHA256 = hashes.SHA256()
_SHA512 = hashes.SHA512()
_ECDSA = ec.ECDSA(_SHA256)
ALGORITHMS = frozenset({"rsa-sha256", "rsa-sha512", "hs2019", "ed25519"})


@dataclass(slots=True)  # not frozen: a frozen __init__ costs microseconds per call
class CavageSignature:
    key_id: str
    algorithm: str | None  # lower case; None when the header names none
    headers: tuple[str, ...]  # covered components, lower case, in order
    signature: bytes
    created: str | None  # raw text: it is signed as written
    expires: str | None


def parse_signature_header(value: str) -> CavageSignature:
    """Parse a `Signature` header value; raises Rejection(MALFORMED) on anything odd."""
    if len(value) > MAX_SIGNATURE_HEADER:
        raise Rejection(Reason.MALFORMED, "Signature header too long")
    params = _parse_params(value)
    key_id, encoded = params.get("keyid"), params.get("signature")
    if not key_id or encoded is None:
        raise Rejection(Reason.MALFORMED, "keyId and signature are required")
    try:
        signature = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise Rejection(Reason.MALFORMED, "signature is not base64", key_id) from None
    created, expires = params.get("created"), params.get("expires")
    for number in (created, expires):
        if number is not None and not _NUMBER.fullmatch(number):
            raise Rejection(Reason.MALFORMED, "created/expires must be numbers", key_id)
    names = params.get("headers")
    covered = tuple(names.lower().split()) if names is not None else None
    if covered is None:  # the draft's default
        covered = ("(created)",) if created is not None else ("date",)
    if not covered or len(set(covered)) != len(covered):
        raise Rejection(Reason.MALFORMED, "headers must list distinct components", key_id)
    algorithm = params.get("algorithm")
    return CavageSignature(
        key_id, algorithm.lower() if algorithm else None, covered, signature, created, expires
    )


def _parse_params(value: str) -> dict[str, str]:
    fast = _parse_params_fast(value)
    return fast if fast is not None else _parse_params_slow(value)


def _parse_params_slow(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    pos, end = 0, len(value.rstrip(" \t"))
    while pos < end:
        m = _PARAM.match(value, pos, end)
        if m is None:
            raise Rejection(Reason.MALFORMED, "unparsable Signature header")
        name = m[1].lower()
        if name in params:
            raise Rejection(Reason.MALFORMED, f"duplicate parameter {name}")
        quoted = m[2]
        if quoted is not None and "\\" in quoted:
            quoted = re.sub(r"\\(.)", r"\1", quoted)
        params[name] = quoted if quoted is not None else m[3]
        pos = m.end()
    return params


def _parse_params_fast(value: str) -> dict[str, str] | None:
    """The form everyone sends (name="value",name=123: no whitespace between parameters, no
    escapes), split with str.find (memchr-fast over the long base64 value); None means the
    regex parser must decide."""
    if "\\" in value:
        return None
    params: dict[str, str] = {}
    pos, end = 0, len(value)
    while pos < end:
        eq = value.find("=", pos)
        name = value[pos:eq]
        if eq <= pos or not _NAME.fullmatch(name):
            return None
        name = name.lower()
        if name in params:
            return None
        if value.startswith('"', eq + 1):
            close = value.find('"', eq + 2)
            if close == -1:
                return None
            params[name], pos = value[eq + 2 : close], close + 1
        else:
            comma = value.find(",", eq)
            pos = end if comma == -1 else comma
            token = params[name] = value[eq + 1 : pos]
            if not _TOKEN.fullmatch(token):
                return None
        if pos < end:  # a comma, perhaps the last character (as the full parser allows)
            if value[pos] != ",":
                return None
            pos += 1
    return params


def signing_string(
    sig: CavageSignature, method: str, target: str, headers: Mapping[str, str]
) -> str:
    """The string the draft signs: one 'name: value' line per covered component."""
    lines = []
    for name in sig.headers:
        if name == "(request-target)":
            value: str | None = f"{method.lower()} {target}"
        elif name == "(created)":
            value = sig.created
        elif name == "(expires)":
            value = sig.expires
        else:
            value = headers.get(name)
        if value is None:
            raise Rejection(Reason.MISSING_COMPONENT, f"{name} is covered but absent", sig.key_id)
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def check_algorithm(algorithm: str | None, key_id: str) -> None:
    if algorithm is not None and algorithm not in ALGORITHMS:
        raise Rejection(Reason.UNSUPPORTED_ALGORITHM, f"algorithm {algorithm}", key_id)


def verify_bytes(algorithm: str | None, key: PublicKey, signature: bytes, message: bytes) -> bool:
    """Check one signature; `hs2019` and a missing algorithm take the scheme from the key."""
    family = _family(type(key))
    try:
        if family == "rsa" and algorithm != "ed25519":
            return _verify_rsa(algorithm, cast(RSAPublicKey, key), signature, message)
        if family == "ed25519" and algorithm in (None, "hs2019", "ed25519"):
            cast(Ed25519PublicKey, key).verify(signature, message)
            return True
        if family == "ec" and algorithm in (None, "hs2019"):
            cast(ec.EllipticCurvePublicKey, key).verify(signature, message, _ECDSA)
            return True
    except InvalidSignature:
        return False
    return False  # the key cannot make this algorithm's signatures


def _family_uncached(key_type: type) -> str:
    """The key's family. Decided once per concrete key class (_family): isinstance against
    the cryptography ABCs costs microseconds on every request otherwise."""
    if issubclass(key_type, RSAPublicKey):
        return "rsa"
    if issubclass(key_type, Ed25519PublicKey):
        return "ed25519"
    if issubclass(key_type, ec.EllipticCurvePublicKey):
        return "ec"
    return "other"


# Wrapped rather than decorated so that scripts/mutation can mutate the function.
_family = functools.cache(_family_uncached)


def _verify_rsa(algorithm: str | None, key: RSAPublicKey, signature: bytes, message: bytes) -> bool:
    hash_ = _SHA512 if algorithm == "rsa-sha512" else _SHA256
    try:
        key.verify(signature, message, _PKCS1, hash_)
        return True
    except InvalidSignature:
        if algorithm not in (None, "hs2019"):
            raise
    key.verify(signature, message, _PSS, _SHA512)  # hs2019 as RSASSA-PSS (some signers)
    return True


def sign_cavage(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key: SigningKey,
    now: float,
) -> dict[str, str]:
    """Headers to add for a draft-cavage signature over `(request-target) host date`
    (+ `digest content-type` with a body): Host, Date, Digest (with a body), Signature."""
    existing = lower_headers(headers)
    parts = split_url(url)  # a path-only URL has no authority: the Host header must name it
    added = {"Host": existing.get("host") or parts.authority, "Date": format_http_date(now)}
    covered = [
        ("(request-target)", f"{method.lower()} {parts.path_query}"),
        ("host", added["Host"]),
        ("date", added["Date"]),
    ]
    if body:
        added["Digest"] = digest_header(body)
        covered.append(("digest", added["Digest"]))
        if "content-type" in existing:
            covered.append(("content-type", existing["content-type"]))
    message = "\n".join(f"{name}: {value}" for name, value in covered).encode()
    private = key.private_key
    if isinstance(private, RSAPrivateKey):
        algorithm, raw = "rsa-sha256", private.sign(message, _PKCS1, _SHA256)
    elif isinstance(private, Ed25519PrivateKey):
        algorithm, raw = "hs2019", private.sign(message)
    else:
        raise TypeError("signing key must be RSA or Ed25519")
    added["Signature"] = (
        f'keyId="{_quote(key.key_id)}",algorithm="{algorithm}",'
        f'headers="{" ".join(name for name, _ in covered)}",'
        f'signature="{base64.b64encode(raw).decode()}"'
    )
    return added


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
