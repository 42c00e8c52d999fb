"""RFC 9421 section 5: Accept-Signature, both ways.

Inbound, a 401 for a missing or unacceptable signature names what we accept, so a peer that
reads it (Fedify 2.1+) signs right on its next try instead of guessing. Outbound, a peer's 401
that carries one is met on the retry, before swapping to the other scheme, and the ask is
remembered per host (without its one-time nonce) so that peer never costs a blind knock again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import http_sf

from federation.signatures.http import parse_sf_dictionary

LABEL = "sig1"
# What our verifier needs of an RFC 9421 signature: the method, the target, a signing time and,
# on a body, its digest (signatures/verify.py). The names match Mastodon's RFC 9421 profile.
REQUIRED_COMPONENTS = ("@method", "@target-uri")
BODY_COMPONENTS = ("content-digest",)
# Components our signer can produce for any request: derived ones, and the headers it sets.
SIGNABLE = frozenset(
    {
        "@method",
        "@target-uri",
        "@authority",
        "@scheme",
        "@path",
        "@query",
        "@request-target",
        "content-type",
        "date",
        "host",
    }
)
_STRING_PARAMS = ("keyid", "alg", "nonce", "tag")
_FLAG_PARAMS = ("created", "expires")
MAX_HEADER = 4096  # an ask longer than this is not one we try to meet


@dataclass(frozen=True, slots=True)
class SignatureAsk:
    """One member of an Accept-Signature: the signature a peer asks for."""

    label: str
    components: tuple[str, ...]
    keyid: str | None = None
    alg: str | None = None
    nonce: str | None = None
    tag: str | None = None
    created: bool = False
    expires: bool = False

    def without_nonce(self) -> SignatureAsk:
        """What to remember: a nonce is good for one request only."""
        return replace(self, nonce=None)


def accept_signature_header(with_body: bool, nonce: str | None = None) -> str:
    """The Accept-Signature we send on a 401: the components we require, and `created`."""
    components = REQUIRED_COMPONENTS + (BODY_COMPONENTS if with_body else ())
    ask = SignatureAsk(LABEL, components, nonce=nonce, created=True)
    return format_ask(ask)


def format_ask(ask: SignatureAsk) -> str:
    """One ask as an Accept-Signature dictionary member (RFC 8941)."""
    params: dict[str, Any] = {}
    for name in _STRING_PARAMS:
        value = getattr(ask, name)
        if value is not None:
            params[name] = value
    for name in _FLAG_PARAMS:
        if getattr(ask, name):
            params[name] = True
    inner: list[Any] = [(name, {}) for name in ask.components]
    member: Any = (inner, params)
    return str(http_sf.ser({ask.label: member}))


def parse_accept_signature(value: str) -> list[SignatureAsk]:
    """The asks of an Accept-Signature value, in order; none when it is not a valid one.

    Members that are not inner lists of plain component names, or that ask for `@status`
    (a response-only component, RFC 9421 section 5), are left out.
    """
    if len(value) > MAX_HEADER:
        return []
    parsed = parse_sf_dictionary(value)
    if parsed is None:
        return []
    asks = []
    for label, (items, params) in parsed.items():
        ask = _ask_of(label, items, params)
        if ask is not None:
            asks.append(ask)
    return asks


def _ask_of(label: str, items: Any, params: dict[str, Any]) -> SignatureAsk | None:
    if not isinstance(items, list) or not items:
        return None
    names = tuple(name for name, _ in items)
    if any(not isinstance(name, str) or item_params for name, item_params in items):
        return None
    if "@status" in names or len(set(names)) != len(names):
        return None
    strings: dict[str, Any] = {k: v for k in _STRING_PARAMS if isinstance(v := params.get(k), str)}
    flags: dict[str, Any] = {k: params.get(k) is True for k in _FLAG_PARAMS}
    return SignatureAsk(label, names, **strings, **flags)


def meetable(ask: SignatureAsk, key_id: str, alg: str, *, with_body: bool) -> bool:
    """True when our key can make the signature `ask` describes: the same key and algorithm
    when it names them, and only components our signer produces (a body's digest needs a body)."""
    if ask.keyid is not None and ask.keyid != key_id:
        return False
    if ask.alg is not None and ask.alg != alg:
        return False
    signable = SIGNABLE | ({"content-digest"} if with_body else frozenset())
    return all(name in signable for name in ask.components)


def choose_ask(
    asks: list[SignatureAsk], key_id: str, alg: str, *, with_body: bool
) -> SignatureAsk | None:
    """The first ask our key can meet, or None."""
    for ask in asks:
        if meetable(ask, key_id, alg, with_body=with_body):
            return ask
    return None
