"""Hypothesis: sign-then-verify always succeeds, every single mutation is refused, and no input
makes the verifier raise."""

from __future__ import annotations

import asyncio
import string
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from federation.signatures import (
    KeyResolver,
    PublicKeyInfo,
    Reason,
    Rejected,
    SignedRequest,
    SigningKey,
    Verified,
    sign_cavage,
    sign_rfc9421,
    verify_request,
)

NOW = 1_700_000_000.0
KEY_ID = "https://alpha.example/actor#main-key"
ED = ed25519.Ed25519PrivateKey.generate()
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SIGNERS = {"cavage": sign_cavage, "rfc9421": sign_rfc9421}

segment = st.text(string.ascii_letters + string.digits + "-._~%", min_size=1, max_size=12)
hosts = st.from_regex(r"[a-z]{1,10}\.(example|test)(:[1-9][0-9]{1,3})?", fullmatch=True)
queries = st.none() | st.from_regex(
    r"[a-z]{1,5}=[a-zA-Z0-9]{0,6}(&[a-z]{1,5}=[0-9]{1,3})?", fullmatch=True
)
header_values = st.text(string.ascii_letters + string.digits + " ;=/,+-", min_size=1, max_size=30)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str], bytes]:
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE"]))
    path = "/" + "/".join(draw(st.lists(segment, max_size=3)))
    query = draw(queries)
    url = f"{draw(st.sampled_from(['https', 'http']))}://{draw(hosts)}{path}"
    url += f"?{query}" if query is not None else ""
    body = draw(st.binary(min_size=1, max_size=200)) if method in ("POST", "PUT") else b""
    headers = {"Content-Type": draw(header_values).strip() or "x"} if body else {}
    return method, url, headers, body


def resolver(key: Any) -> KeyResolver:
    async def resolve(key_id: str) -> PublicKeyInfo | None:
        return PublicKeyInfo(key_id, "owner", key.public_key()) if key_id == KEY_ID else None

    return resolve


def verify(req: SignedRequest, key: Any = ED) -> Verified | Rejected:
    return asyncio.run(verify_request(req, resolver(key), NOW))


def signed(
    scheme: str, method: str, url: str, headers: dict[str, str], body: bytes, key: Any = ED
) -> SignedRequest:
    added = SIGNERS[scheme](method, url, headers, body or None, SigningKey(KEY_ID, key), NOW)
    return SignedRequest(method, url, {**headers, **added}, body)


def mutations(req: SignedRequest) -> list[tuple[str, SignedRequest]]:
    """Every single change an attacker could make to what the signature covers."""
    out = []
    other_method = "PATCH" if req.method != "PATCH" else "GET"
    out.append(("method", SignedRequest(other_method, req.url, req.headers, req.body)))
    base, sep, query = req.url.partition("?")
    out.append(("path", SignedRequest(req.method, base + "x" + sep + query, req.headers, req.body)))
    changed_query = f"{base}?{query}x" if sep else f"{base}?injected=1"
    out.append(("query", SignedRequest(req.method, changed_query, req.headers, req.body)))
    if req.body:
        flipped = bytes([req.body[0] ^ 1]) + req.body[1:]
        out.append(("body", SignedRequest(req.method, req.url, req.headers, flipped)))
    for name in ("Host", "Date", "Content-Type", "Digest", "Content-Digest"):
        if name in req.headers:
            value = req.headers[name]
            headers = {**req.headers, name: value[:-1] + ("A" if value[-1] != "A" else "B")}
            out.append((name, SignedRequest(req.method, req.url, headers, req.body)))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scheme=st.sampled_from(["cavage", "rfc9421"]), request=requests())
def test_sign_then_verify_succeeds_and_every_mutation_fails(
    scheme: str, request: tuple[str, str, dict[str, str], bytes]
) -> None:
    method, url, headers, body = request
    req = signed(scheme, method, url, headers, body)
    assert verify(req) == Verified(KEY_ID, "owner", scheme)
    for what, mutated in mutations(req):
        result = verify(mutated)
        if what == "query" and scheme == "cavage" and "?" not in url:
            # The price of the Mastodon #18638 quirk (verify again without the query): a query
            # added to a request signed without one still verifies. A changed query does not.
            assert isinstance(result, Verified)
            continue
        assert isinstance(result, Rejected), what
        if what == "body":
            assert result.reason is Reason.DIGEST_MISMATCH
        elif what in ("Digest", "Content-Digest"):
            assert result.reason in (Reason.DIGEST_MISMATCH, Reason.MALFORMED)
        elif what == "Date":
            assert result.reason in (Reason.BAD_SIGNATURE, Reason.MALFORMED, Reason.EXPIRED)
        else:
            assert result.reason is Reason.BAD_SIGNATURE, what


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
def test_rsa_sign_then_verify_and_mutations(scheme: str) -> None:
    req = signed(
        scheme, "POST", "https://beta.example/inbox?a=1", {"Content-Type": "x"}, b"{}", key=RSA
    )
    assert verify(req, RSA) == Verified(KEY_ID, "owner", scheme)
    for what, mutated in mutations(req):
        assert isinstance(verify(mutated, RSA), Rejected), what


@pytest.mark.fuzz
@settings(max_examples=400, deadline=None)
@given(
    name=st.sampled_from(["Signature", "Signature-Input"]),
    value=st.text(max_size=300) | st.from_regex(r'(keyId|sig1)="[^"]{0,20}"[,;=()a-z0-9 :"@]*'),
    extra=st.dictionaries(
        st.sampled_from(["Signature", "Date", "Digest", "Content-Digest"]),
        st.text(max_size=60),
        max_size=3,
    ),
)
def test_fuzzed_signature_headers_never_raise(name: str, value: str, extra: dict[str, str]) -> None:
    req = SignedRequest("POST", "https://beta.example/inbox", {**extra, name: value}, b"x")
    result = verify(req)
    assert isinstance(result, Rejected)
    assert result.reason is not Reason.NO_SIGNATURE


@pytest.mark.fuzz
@settings(max_examples=300, deadline=None)
@given(data=st.data(), scheme=st.sampled_from(["cavage", "rfc9421"]))
def test_fuzzed_mutations_of_a_valid_header_are_rejected_without_raising(
    data: st.DataObject, scheme: str
) -> None:
    req = signed(scheme, "POST", "https://beta.example/inbox", {"Content-Type": "a/b"}, b"{}")
    name = data.draw(
        st.sampled_from(["Signature", "Signature-Input"] if scheme == "rfc9421" else ["Signature"])
    )
    value = req.headers[name]
    i = data.draw(st.integers(0, len(value) - 1))
    new = data.draw(st.characters(codec="utf-8") | st.sampled_from(list('",;=():\\ ')))
    mutated = value[:i] + new + value[i + 1 :]
    if mutated == value:
        return
    result = verify(SignedRequest(req.method, req.url, {**req.headers, name: mutated}, req.body))
    assert isinstance(result, (Rejected, Verified))  # never raises
    if isinstance(result, Verified):  # only a harmless change (e.g. a label rename) may pass
        assert name == "Signature-Input" or scheme == "cavage"
