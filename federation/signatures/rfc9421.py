"""RFC 9421 HTTP Message Signatures: Signature-Input / Signature, signing and verification.

The algorithms are the `http_message_signatures` library's classes; the structured-field
parsing has a fast path for the canonical form every implementation sends, and falls back to
the `http_sf` parser (the library's own) for anything else.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

import http_sf
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from http_message_signatures import HTTPMessageSignaturesException
from http_message_signatures.algorithms import (
    ECDSA_P256_SHA256,
    ED25519,
    RSA_PSS_SHA512,
    RSA_V1_5_SHA256,
)

from federation.signatures.http import (
    parse_sf_dictionary,
)
from federation.signatures.model import (
    MAX_SIGNATURE_HEADER,
    PublicKey,
    Reason,
    Rejection,
)
from federation.signatures.policy import RequestView

ALGORITHMS: dict[str, Any] = {
    "rsa-v1_5-sha256": RSA_V1_5_SHA256,
    "rsa-pss-sha512": RSA_PSS_SHA512,
    "ed25519": ED25519,
    "ecdsa-p256-sha256": ECDSA_P256_SHA256,
}
_KEY = r"[a-z*][a-z0-9_\-.*]*"
_STRING = r'"[\x20\x21\x23-\x5b\x5d-\x7e]*"'  # sf-string without escapes
_BARE = rf"(?:0|-?[1-9][0-9]{{0,14}}|{_STRING}|[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*)"
_INPUT_MEMBER = re.compile(
    rf"({_KEY})=((\((?:{_STRING}(?: {_STRING})*)?\))((?:;{_KEY}(?:={_BARE})?)*))"
)
_INPUT_PARAM = re.compile(rf";({_KEY})(?:=({_BARE}))?")
_SIGNATURE_MEMBER = re.compile(rf"({_KEY})=:([A-Za-z0-9+/]*={{0,2}}):")
_SEPARATOR = re.compile(r"[ \t]*,[ \t]*")
_COMPONENT = re.compile(r'"([^"]*)"')


@dataclass(slots=True)  # not frozen: a frozen __init__ costs microseconds per call
class SignatureInput:
    label: str
    components: tuple[str, ...]  # component names
    params: dict[str, Any]
    serialized: str  # the inner list with its parameters: the @signature-params value
    component_params: tuple[dict[str, Any], ...] | None = None  # None: no component has any


def parse_signature_input(value: str) -> list[SignatureInput]:
    """All members of a Signature-Input value, in order; Rejection(MALFORMED) when invalid."""
    _check_size(value)
    members = _fast_members(value, _INPUT_MEMBER)
    if members is not None:
        return [
            SignatureInput(m[1], tuple(_COMPONENT.findall(m[3])), _fast_params(m[4]), m[2])
            for m in members
        ]
    return [_slow_input(label, member) for label, member in _slow_parse(value).items()]


def parse_signature(value: str) -> dict[str, bytes]:
    """Label -> signature bytes from a Signature value; Rejection(MALFORMED) when invalid."""
    _check_size(value)
    members = _fast_members(value, _SIGNATURE_MEMBER)
    try:
        if members is not None:
            return {m[1]: base64.b64decode(m[2], validate=True) for m in members}
    except (binascii.Error, ValueError):
        raise Rejection(Reason.MALFORMED, "Signature is not base64") from None
    out: dict[str, bytes] = {}
    for label, (item, _params) in _slow_parse(value).items():
        if not isinstance(item, bytes):
            raise Rejection(Reason.MALFORMED, "Signature members must be byte sequences")
        out[label] = item
    return out


def _check_size(value: str) -> None:
    if len(value) > MAX_SIGNATURE_HEADER:
        raise Rejection(Reason.MALFORMED, "signature header too long")


def _fast_members(value: str, pattern: re.Pattern[str]) -> list[re.Match[str]] | None:
    """Matches covering the whole value, or None to use the full parser."""
    members, pos, end = [], 0, len(value)
    while True:
        m = pattern.match(value, pos)
        if m is None:
            return None
        members.append(m)
        pos = m.end()
        if pos == end:
            break
        sep = _SEPARATOR.match(value, pos)
        if sep is None or sep.end() == end:
            return None
        pos = sep.end()
    if len({m[1] for m in members}) != len(members):
        raise Rejection(Reason.MALFORMED, "duplicate signature label")
    return members


def _fast_params(text: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, raw in _INPUT_PARAM.findall(text):
        if name in params:
            raise Rejection(Reason.MALFORMED, f"duplicate parameter {name}")
        if not raw:
            params[name] = True
        elif raw[0] == '"':
            params[name] = raw[1:-1]
        elif raw[0] == "-" or raw[0].isdigit():
            params[name] = int(raw)
        else:
            params[name] = http_sf.Token(raw)
    return params


def _slow_parse(value: str) -> dict[str, Any]:
    parsed = parse_sf_dictionary(value)
    if parsed is None:
        raise Rejection(Reason.MALFORMED, "invalid structured field")
    return parsed


def _slow_input(label: str, member: Any) -> SignatureInput:
    items, params = member
    if not isinstance(items, list) or not all(isinstance(n, str) for n, _ in items):
        raise Rejection(Reason.MALFORMED, "Signature-Input members must list strings")
    names = tuple(name for name, _ in items)
    component_params = tuple(dict(p) for _, p in items)
    serialized = http_sf.ser({label: member})[len(label) + 1 :]
    return SignatureInput(label, names, dict(params), serialized, component_params)


def _query_param(view: RequestView, params: dict[str, Any]) -> str:
    """RFC 9421 section 2.2.8: one named query parameter, re-encoded."""
    name = params.get("name")
    if set(params) != {"name"} or not isinstance(name, str):
        raise Rejection(Reason.MALFORMED, "@query-param needs exactly a name")
    wanted = unquote(name)
    query = view.parts.query or ""
    values = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == wanted]
    if len(values) != 1:
        raise Rejection(Reason.MISSING_COMPONENT, f"query parameter {name} absent or repeated")
    return quote(values[0], safe="*").replace("~", "%7E")


def component_value(view: RequestView, name: str) -> str:
    """The value RFC 9421 section 2 gives one covered component of this request."""
    parts = view.parts
    if name[0] != "@":
        value = view.headers.get(name)
    elif name == "@method":
        value = view.method
    elif name == "@target-uri":
        value = f"{parts.scheme}://{parts.authority}{parts.path_query}"
    elif name == "@authority":
        value = parts.normalised_authority
    elif name == "@path":
        value = parts.path or "/"
    elif name == "@query":
        value = f"?{parts.query or ''}"
    elif name == "@request-target":
        value = parts.path_query
    elif name == "@scheme":
        value = parts.scheme
    elif name == "@status" and view.status is not None:
        value = str(view.status)
    else:
        raise Rejection(Reason.MALFORMED, f"unsupported derived component {name}")
    if value is None:
        raise Rejection(Reason.MISSING_COMPONENT, f"{name} is covered but absent")
    return value


def signature_base(view: RequestView, sig: SignatureInput) -> bytes:
    lines = []
    if sig.component_params is None:
        _check_repeats(sig.components)
        lines = [f'"{name}": {component_value(view, name)}' for name in sig.components]
    else:
        for name, params in zip(sig.components, sig.component_params, strict=True):
            if name == "@query-param":
                lines.append(f"{http_sf.ser((name, params))}: {_query_param(view, params)}")
            elif params:
                raise Rejection(Reason.MALFORMED, f"unsupported parameters on {name}")
            else:
                lines.append(f'"{name}": {component_value(view, name)}')
        _check_repeats([line.partition(": ")[0] for line in lines])
    lines.append(f'"@signature-params": {sig.serialized}')
    try:
        return "\n".join(lines).encode("ascii")
    except UnicodeEncodeError:
        raise Rejection(Reason.MALFORMED, "non-ASCII signature base") from None


# Fedify 2.x adds content-digest to any signature over a body, even when the Accept-Signature
# it answers already asked for it, so its answer covers content-digest twice (the same line
# twice in the base it signed). RFC 9421 forbids repeats; this one, and only this one, is
# tolerated: both lines hold the same value, so the signature covers nothing less.
TOLERATED_REPEATS = frozenset({"content-digest", '"content-digest"'})


def _check_repeats(identifiers: Sequence[str]) -> None:
    seen: set[str] = set()
    for identifier in identifiers:
        if identifier in seen and identifier not in TOLERATED_REPEATS:
            raise Rejection(Reason.MALFORMED, "a component is covered twice")
        seen.add(identifier)


def candidate_algorithms(alg: str | None, key: PublicKey) -> tuple[str, ...]:
    """Algorithms to try: the named one, or those the key type allows (RSA: v1.5 first)."""
    if alg is not None:
        return (alg,)
    if isinstance(key, RSAPublicKey):
        return ("rsa-v1_5-sha256", "rsa-pss-sha512")
    if isinstance(key, Ed25519PublicKey):
        return ("ed25519",)
    return ("ecdsa-p256-sha256",)


def verify_bytes(alg: str | None, key: PublicKey, signature: bytes, base: bytes) -> bool:
    for name in candidate_algorithms(alg, key):
        try:
            ALGORITHMS[name](public_key=key).verify(signature, base)
            return True
        except (InvalidSignature, HTTPMessageSignaturesException, TypeError, ValueError):
            continue
    return False
