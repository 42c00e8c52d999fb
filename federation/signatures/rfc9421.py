"""RFC 9421 HTTP Message Signatures: Signature-Input / Signature, signing and verification.

The algorithms are the `http_message_signatures` library's classes; the structured-field
parsing has a fast path for the canonical form every implementation sends, and falls back to
the `http_sf` parser (the library's own) for anything else.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

import http_sf
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from http_message_signatures import HTTPMessageSignaturesException
from http_message_signatures.algorithms import (
    ECDSA_P256_SHA256,
    ED25519,
    RSA_PSS_SHA512,
    RSA_V1_5_SHA256,
)

from federation.signatures.accept import SignatureAsk
from federation.signatures.digests import content_digest_header
from federation.signatures.http import (
    format_http_date,
    lower_headers,
    parse_sf_dictionary,
    split_url,
)
from federation.signatures.model import (
    MAX_SIGNATURE_HEADER,
    PublicKey,
    Reason,
    Rejection,
    SigningKey,
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
_PRINTABLE = re.compile(r"[\x20-\x7e]*")
ASKED_EXPIRY_SECONDS = 300  # when a peer asks for `expires`: long enough for one delivery


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


def serialize_signature_params(components: tuple[str, ...], params: Mapping[str, int | str]) -> str:
    """Canonical inner list, e.g. '("@method" "@target-uri");created=1;keyid="k"'."""
    inner = " ".join(_sf_string(name) for name in components)
    rendered = "".join(
        f";{k}={v}" if type(v) is int else f";{k}={_sf_string(str(v))}" for k, v in params.items()
    )
    return f"({inner}){rendered}"


def _sf_string_uncached(value: str) -> str:
    """RFC 8941 sf-string: printable ASCII, with backslash and double quote escaped."""
    if not _PRINTABLE.fullmatch(value):
        raise ValueError("a structured-field string must be printable ASCII")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Key ids and component names repeat. (Wrapped rather than decorated so that scripts/mutation
# can mutate the function: mutmut skips decorated ones.)
_sf_string = functools.lru_cache(maxsize=512)(_sf_string_uncached)


def sign_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key: SigningKey,
    now: float,
    *,
    ask: SignatureAsk | None = None,
) -> dict[str, str]:
    """Headers to add (Content-Digest with a body, Signature-Input, Signature).

    By default the signature covers @method @target-uri (+ content-digest content-type with a
    body); with `ask` (a peer's Accept-Signature) exactly the components it names, with its
    label, nonce and tag. `created`, `keyid` and `alg` are always given."""
    existing = lower_headers(headers)
    added: dict[str, str] = {}
    if body:
        added["Content-Digest"] = existing["content-digest"] = content_digest_header(body)
    parts = split_url(url, existing.get("host"))
    components, label = _covered(ask, existing, body), ask.label if ask else "sig1"
    for name, value in _headers_asked(components, parts.normalised_authority, now).items():
        added[name.title()] = existing[name] = value
    private = key.private_key
    alg = signing_algorithm(private)
    params: dict[str, int | str] = {"created": int(now), "keyid": key.key_id, "alg": alg}
    params.update(_asked_params(ask, now))
    serialized = serialize_signature_params(components, params)
    sig = SignatureInput(label, components, params, serialized)
    view = RequestView(method, parts, existing, body or b"")
    raw = ALGORITHMS[alg](private_key=private).sign(signature_base(view, sig))
    added["Signature-Input"] = f"{label}={serialized}"
    added["Signature"] = f"{label}=:{base64.b64encode(raw).decode('ascii')}:"
    return added


def signing_algorithm(private: object) -> str:
    """The RFC 9421 algorithm name our signer uses with this private key."""
    if isinstance(private, RSAPrivateKey):
        return "rsa-v1_5-sha256"
    if isinstance(private, Ed25519PrivateKey):
        return "ed25519"
    raise TypeError("signing key must be RSA or Ed25519")


def _covered(
    ask: SignatureAsk | None, headers: Mapping[str, str], body: bytes | None
) -> tuple[str, ...]:
    if ask is not None:
        return ask.components
    components: tuple[str, ...] = ("@method", "@target-uri")
    if body:
        components += ("content-digest",)
        if "content-type" in headers:
            components += ("content-type",)
    return components


def _headers_asked(components: tuple[str, ...], authority: str, now: float) -> dict[str, str]:
    """Headers a covered component needs that the request would not otherwise carry."""
    added = {}
    if "date" in components:
        added["date"] = format_http_date(now)
    if "host" in components:
        added["host"] = authority
    return added


def _asked_params(ask: SignatureAsk | None, now: float) -> dict[str, int | str]:
    if ask is None:
        return {}
    params: dict[str, int | str] = {}
    if ask.expires:
        params["expires"] = int(now) + ASKED_EXPIRY_SECONDS
    if ask.nonce is not None:
        params["nonce"] = ask.nonce
    if ask.tag is not None:
        params["tag"] = ask.tag
    return params
