"""Body digests: legacy `Digest` (RFC 3230) and `Content-Digest` (RFC 9530)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from typing import Any

from federation.signatures.http import parse_sf_dictionary
from federation.signatures.model import Reason

_HASHES: dict[str, Callable[[bytes], Any]] = {
    "sha-256": hashlib.sha256,
    "sha-512": hashlib.sha512,
}
_CONTENT_DIGEST_MEMBER = re.compile(r"([a-z*][a-z0-9_\-.*]*)=:([A-Za-z0-9+/=]*):")
_SEPARATOR = re.compile(r"[ \t]*,[ \t]*")


def digest_header(body: bytes) -> str:
    """`Digest` value for a body: 'SHA-256=<base64>' (the form Mastodon sends and checks)."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest_header(body: bytes, algorithm: str = "sha-256") -> str:
    """`Content-Digest` value for a body: 'sha-256=:<base64>:' (or sha-512)."""
    digest = _HASHES[algorithm](body).digest()
    return f"{algorithm}=:{base64.b64encode(digest).decode('ascii')}:"


def mismatched_digest(headers: Mapping[str, str], body: bytes) -> str | None:
    """The name of a `Digest` or `Content-Digest` header that is present but does not match the
    body (malformed counts as not matching), else None. A signature need not cover a digest,
    but a digest that is sent must be true: otherwise a reader that trusts the header (a proxy,
    a cache, the backend) sees one body while we processed another."""
    for name, value in headers.items():
        lowered = name.lower()
        if lowered == "digest" and check_digest(value, body) is not None:
            return "Digest"
        if lowered == "content-digest" and check_content_digest(value, body) is not None:
            return "Content-Digest"
    return None


def check_digest(value: str, body: bytes) -> Reason | None:
    """None when every supported algorithm listed in a `Digest` value matches the body."""
    if value[:8] in ("SHA-256=", "sha-256=") and "," not in value:  # the usual single value
        expected = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
        if hmac.compare_digest(value[8:], expected):
            return None
    pairs: list[tuple[str, bytes]] = []
    for part in value.split(","):
        name, sep, encoded = part.strip().partition("=")
        if not sep or not name:
            return Reason.MALFORMED
        try:
            pairs.append((name.lower(), base64.b64decode(encoded, validate=True)))
        except (binascii.Error, ValueError):
            return Reason.MALFORMED
    return _compare(pairs, body)


def check_content_digest(value: str, body: bytes) -> Reason | None:
    """None when every supported algorithm listed in a `Content-Digest` value matches."""
    pairs = _parse_content_digest(value)
    if pairs is None:
        return Reason.MALFORMED
    return _compare(pairs, body)


def _parse_content_digest(value: str) -> list[tuple[str, bytes]] | None:
    members = _SEPARATOR.split(value.strip())
    matches = [_CONTENT_DIGEST_MEMBER.fullmatch(m) for m in members]
    try:
        if all(matches):  # the common, canonical form: no need for a full parser
            return [(m[1], base64.b64decode(m[2], validate=True)) for m in matches if m]
    except (binascii.Error, ValueError):
        return None
    parsed = parse_sf_dictionary(value)
    if parsed is None:
        return None
    pairs: list[tuple[str, bytes]] = []
    for name, (item, _params) in parsed.items():
        if not isinstance(item, bytes):
            return None
        pairs.append((name, item))
    return pairs


def _compare(pairs: list[tuple[str, bytes]], body: bytes) -> Reason | None:
    if len({name for name, _ in pairs}) != len(pairs):
        return Reason.MALFORMED
    checked = False
    for name, expected in pairs:
        hasher = _HASHES.get(name)
        if hasher is None:
            continue  # unknown algorithms are ignored (RFC 9530 section 2)
        if not hmac.compare_digest(hasher(body).digest(), expected):
            return Reason.DIGEST_MISMATCH
        checked = True
    return None if checked else Reason.UNSUPPORTED_ALGORITHM
