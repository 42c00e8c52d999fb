"""RFC 9421 signing: the headers a signed request adds (Content-Digest, Signature-Input,
Signature), by default or as a peer's Accept-Signature asks. The signature base and the
algorithms are rfc9421.py's, the same code that verifies."""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from federation.signatures.accept import SignatureAsk
from federation.signatures.digests import content_digest_header
from federation.signatures.http import format_http_date, lower_headers, split_url
from federation.signatures.model import SigningKey
from federation.signatures.policy import RequestView
from federation.signatures.rfc9421 import ALGORITHMS, SignatureInput, signature_base

_PRINTABLE = re.compile(r"[\x20-\x7e]*")
ASKED_EXPIRY_SECONDS = 300  # when a peer asks for `expires`: long enough for one delivery


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
