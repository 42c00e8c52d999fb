"""verify_request policy: each refusal carries the right Reason; signing output is as specified."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from multidict import CIMultiDict, CIMultiDictProxy

from federation.signatures import (
    KeyResolver,
    PublicKey,
    PublicKeyInfo,
    Reason,
    Rejected,
    SignedRequest,
    SigningKey,
    Verified,
    content_digest_header,
    digest_header,
    format_http_date,
    rfc9421,
    rfc9421_signing,
    sign_cavage,
    sign_rfc9421,
    verify_request,
)
from federation.signatures.http import lower_headers, split_url
from federation.signatures.policy import RequestView

NOW = 1_700_000_000.0
KEY_ID = "https://alpha.example/actor#main-key"
OWNER = "https://alpha.example/actor"
URL = "https://beta.example/inbox?x=1"
BODY = b'{"type":"Follow"}'
CT = {"Content-Type": "application/activity+json"}
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ED = ed25519.Ed25519PrivateKey.generate()


def resolver(public: PublicKey, key_id: str = KEY_ID) -> KeyResolver:
    async def resolve(requested: str) -> PublicKeyInfo | None:
        return PublicKeyInfo(key_id, OWNER, public) if requested == key_id else None

    return resolve


def cavage_request(
    method: str = "POST", url: str = URL, body: bytes = BODY, now: float = NOW, key: object = RSA
) -> SignedRequest:
    signing = SigningKey(KEY_ID, key)  # type: ignore[arg-type]
    added = sign_cavage(method, url, CT, body or None, signing, now)
    return SignedRequest(method, url, {**CT, **added}, body)


def rfc_request(
    method: str = "POST", url: str = URL, body: bytes = BODY, now: float = NOW, key: object = RSA
) -> SignedRequest:
    signing = SigningKey(KEY_ID, key)  # type: ignore[arg-type]
    added = sign_rfc9421(method, url, CT, body or None, signing, now)
    return SignedRequest(method, url, {**CT, **added}, body)


async def verify(
    req: SignedRequest, public: PublicKey | None = None, now: float = NOW, **options: Any
) -> Verified | Rejected:
    return await verify_request(req, resolver(public or RSA.public_key()), now, **options)


async def check(
    req: SignedRequest, reason: Reason, public: PublicKey | None = None, now: float = NOW
) -> Rejected:
    result = await verify(req, public, now)
    assert isinstance(result, Rejected), result
    assert result.reason is reason, result
    return result


def hand_signed_rfc9421(
    method: str, components: tuple[str, ...], headers: dict[str, str], body: bytes, key: Any
) -> SignedRequest:
    """A request signed over chosen components, straight from the building blocks."""
    params: dict[str, int | str] = {"created": int(NOW), "keyid": KEY_ID}
    serialized = rfc9421_signing.serialize_signature_params(components, params)
    view = RequestView(method, split_url(URL), lower_headers(headers), body)
    sig = rfc9421.SignatureInput("a", components, dict(params), serialized)
    alg = "ed25519" if isinstance(key, ed25519.Ed25519PrivateKey) else "ecdsa-p256-sha256"
    raw = rfc9421.ALGORITHMS[alg](private_key=key).sign(rfc9421.signature_base(view, sig))
    signed = {"Signature-Input": f"a={serialized}", "Signature": f"a=:{b64(raw)}:"}
    return SignedRequest(method, URL, {**headers, **signed}, body)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def replace_header(req: SignedRequest, name: str, value: str | None) -> SignedRequest:
    headers = {k: v for k, v in req.headers.items() if k.lower() != name.lower()}
    if value is not None:
        headers[name] = value
    return SignedRequest(req.method, req.url, headers, req.body)


def replace_signature_param(req: SignedRequest, pattern: str, repl: str) -> SignedRequest:
    return replace_header(req, "Signature", re.sub(pattern, repl, req.headers["Signature"]))


# --- signing output ---


def test_sign_cavage_rsa_headers_as_mastodon_expects() -> None:
    added = sign_cavage("POST", URL, CT, BODY, SigningKey(KEY_ID, RSA), NOW)
    assert set(added) == {"Host", "Date", "Digest", "Signature"}
    assert added["Host"] == "beta.example"
    assert added["Date"] == format_http_date(NOW) == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert added["Digest"] == digest_header(BODY)
    sig = added["Signature"]
    assert sig.startswith(f'keyId="{KEY_ID}",algorithm="rsa-sha256",')
    assert 'headers="(request-target) host date digest content-type"' in sig


def test_sign_cavage_get_and_ed25519() -> None:
    added = sign_cavage("GET", URL, {}, None, SigningKey(KEY_ID, ED), NOW)
    assert set(added) == {"Host", "Date", "Signature"}
    assert 'algorithm="hs2019",headers="(request-target) host date"' in added["Signature"]


def test_sign_rfc9421_headers() -> None:
    added = sign_rfc9421("POST", URL, CT, BODY, SigningKey(KEY_ID, RSA), NOW)
    assert set(added) == {"Content-Digest", "Signature-Input", "Signature"}
    assert added["Content-Digest"] == content_digest_header(BODY)
    assert added["Signature-Input"] == (
        'sig1=("@method" "@target-uri" "content-digest" "content-type");'
        f'created={int(NOW)};keyid="{KEY_ID}";alg="rsa-v1_5-sha256"'
    )
    assert added["Signature"].startswith("sig1=:") and added["Signature"].endswith(":")
    get = sign_rfc9421("GET", URL, {}, None, SigningKey(KEY_ID, ED), NOW)
    assert get["Signature-Input"].startswith('sig1=("@method" "@target-uri");')
    assert get["Signature-Input"].endswith(';alg="ed25519"')


@pytest.mark.parametrize("make", [cavage_request, rfc_request], ids=["cavage", "rfc9421"])
@pytest.mark.parametrize("key", [RSA, ED], ids=["rsa", "ed25519"])
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_sign_then_verify(make: object, key: object, method: str) -> None:
    body = BODY if method == "POST" else b""
    req = make(method=method, body=body, key=key)  # type: ignore[operator]
    public = key.public_key()  # type: ignore[attr-defined]
    result = await verify_request(req, resolver(public), NOW)
    scheme = "cavage" if make is cavage_request else "rfc9421"
    assert result == Verified(KEY_ID, OWNER, scheme)


async def test_multidict_headers_are_accepted() -> None:
    req = cavage_request()
    proxy = CIMultiDictProxy(CIMultiDict(req.headers))
    result = await verify_request(
        SignedRequest("POST", URL, proxy, BODY), resolver(RSA.public_key()), NOW
    )
    assert isinstance(result, Verified)


async def test_rfc9421_is_preferred_when_both_are_present() -> None:
    rfc = rfc_request()
    cav = cavage_request()
    headers = {**cav.headers, **{k: v for k, v in rfc.headers.items() if k != "Signature"}}
    headers["Signature"] = rfc.headers["Signature"]
    result = await verify_request(
        SignedRequest("POST", URL, headers, BODY), resolver(RSA.public_key()), NOW
    )
    assert isinstance(result, Verified) and result.scheme == "rfc9421"


# --- the reasons ---


async def test_no_signature() -> None:
    await check(SignedRequest("GET", URL, {"Host": "beta.example"}, b""), Reason.NO_SIGNATURE)


async def test_key_not_found_and_bad_signature_carry_the_key_id() -> None:
    req = cavage_request()
    result = await verify_request(req, resolver(RSA.public_key(), key_id="other"), NOW)
    assert result == Rejected(Reason.KEY_NOT_FOUND, "no key for this keyId", KEY_ID)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    for make in (cavage_request, rfc_request):
        rejected = await check(make(), Reason.BAD_SIGNATURE, other)
        assert rejected.key_id == KEY_ID


async def test_refetched_key_after_bad_signature_verifies() -> None:
    """The service layer re-fetches the key once on BAD_SIGNATURE (key rotation) and retries."""
    req = cavage_request(key=ED)
    stale = ed25519.Ed25519PrivateKey.generate().public_key()
    first = await verify_request(req, resolver(stale), NOW)
    assert isinstance(first, Rejected) and first.reason is Reason.BAD_SIGNATURE
    assert await verify(req, ED.public_key(), NOW) == Verified(KEY_ID, OWNER, "cavage")


@pytest.mark.parametrize("make", [cavage_request, rfc_request], ids=["cavage", "rfc9421"])
@pytest.mark.parametrize(
    ("offset", "reason"),
    [(3601.0, Reason.EXPIRED), (-3601.0, Reason.FUTURE), (3599.0, None), (-3599.0, None)],
)
async def test_clock_window(make: object, offset: float, reason: Reason | None) -> None:
    req = make()  # type: ignore[operator]
    result = await verify(req, None, NOW + offset)
    if reason is None:
        assert isinstance(result, Verified)
    else:
        assert isinstance(result, Rejected) and result.reason is reason


async def test_skew_is_configurable() -> None:
    req = cavage_request()
    result = await verify(req, None, NOW + 120, skew=60)
    assert isinstance(result, Rejected) and result.reason is Reason.EXPIRED


async def test_cavage_expires_in_the_past() -> None:
    created, expires = int(NOW), int(NOW) + 10
    text = (
        f"(request-target): get /inbox?x=1\n(created): {created}\n(expires): {expires}\n"
        "host: beta.example"
    )
    header = (
        f'keyId="{KEY_ID}",algorithm="hs2019",created={created},expires={expires},'
        'headers="(request-target) (created) (expires) host",'
        f'signature="{b64(ED.sign(text.encode()))}"'
    )
    signed = SignedRequest("GET", URL, {"Host": "beta.example", "Signature": header}, b"")
    assert isinstance(await verify(signed, ED.public_key(), NOW + 5), Verified)
    await check(signed, Reason.EXPIRED, ED.public_key(), NOW + 11)


async def test_rfc9421_expires_in_the_past() -> None:
    req = rfc_request(method="GET", body=b"", key=ED)
    si = req.headers["Signature-Input"]
    forged = replace_header(req, "Signature-Input", si + f";expires={int(NOW) - 1}")
    await check(forged, Reason.EXPIRED, ED.public_key())


async def test_unparsable_date_header_is_malformed() -> None:
    await check(replace_header(cavage_request(), "Date", "wrong date"), Reason.MALFORMED)


# --- missing components ---


@pytest.mark.parametrize(
    "headers_list",
    [
        "host date digest content-type",  # no (request-target)
        "(request-target) date digest content-type",  # no host
        "(request-target) host digest content-type",  # neither date nor (created)
        "(request-target) host date content-type",  # a body without a signed digest
    ],
)
async def test_cavage_missing_components(headers_list: str) -> None:
    req = replace_signature_param(cavage_request(), r'headers="[^"]*"', f'headers="{headers_list}"')
    await check(req, Reason.MISSING_COMPONENT)


async def test_cavage_covered_header_absent() -> None:
    await check(replace_header(cavage_request(), "Digest", None), Reason.MISSING_COMPONENT)


@pytest.mark.parametrize(
    "components",
    [
        '"@target-uri" "content-digest"',  # no @method
        '"@method" "content-digest"',  # no target
        '"@method" "@authority" "@path" "content-digest"',  # the URL has a query
        '"@method" "@target-uri"',  # a body without a signed digest
    ],
)
async def test_rfc9421_missing_components(components: str) -> None:
    req = rfc_request()
    si = re.sub(r"\(.*\)", f"({components})", req.headers["Signature-Input"])
    await check(replace_header(req, "Signature-Input", si), Reason.MISSING_COMPONENT)


async def test_rfc9421_authority_path_query_is_an_accepted_target() -> None:
    comps = ("@method", "@authority", "@path", "@query", "content-digest")
    headers = {"Host": "beta.example", "Content-Digest": content_digest_header(BODY)}
    req = hand_signed_rfc9421("POST", comps, headers, BODY, ED)
    assert await verify(req, ED.public_key()) == Verified(KEY_ID, OWNER, "rfc9421")


async def test_rfc9421_without_created_or_date() -> None:
    req = rfc_request()
    si = re.sub(r";created=\d+", "", req.headers["Signature-Input"])
    await check(replace_header(req, "Signature-Input", si), Reason.MISSING_COMPONENT)


async def test_digest_not_required_when_disabled() -> None:
    req = replace_signature_param(
        cavage_request(), r'headers="[^"]*"', 'headers="(request-target) host date"'
    )
    # The signature no longer matches the new header list, but the policy gets past digests.
    result = await verify_request(
        req, resolver(RSA.public_key()), NOW, require_digest_for_body=False
    )
    assert isinstance(result, Rejected) and result.reason is Reason.BAD_SIGNATURE


# --- digest, algorithm ---


@pytest.mark.parametrize("make", [cavage_request, rfc_request], ids=["cavage", "rfc9421"])
async def test_body_change_is_a_digest_mismatch(make: object) -> None:
    req = make()  # type: ignore[operator]
    await check(
        SignedRequest(req.method, req.url, req.headers, BODY + b" "), Reason.DIGEST_MISMATCH
    )


@pytest.mark.parametrize("algorithm", ["hmac-sha256", "rsa-sha1", "ecdsa-sha256", "x"])
async def test_cavage_unsupported_algorithm(algorithm: str) -> None:
    req = replace_signature_param(
        cavage_request(), r'algorithm="[^"]*"', f'algorithm="{algorithm}"'
    )
    await check(req, Reason.UNSUPPORTED_ALGORITHM)


async def test_rfc9421_unsupported_algorithm() -> None:
    req = rfc_request()
    si = req.headers["Signature-Input"].replace('alg="rsa-v1_5-sha256"', 'alg="hmac-sha256"')
    await check(replace_header(req, "Signature-Input", si), Reason.UNSUPPORTED_ALGORITHM)


async def test_algorithm_key_type_mismatch_is_a_bad_signature() -> None:
    req = replace_signature_param(
        cavage_request(key=ED), r'algorithm="[^"]*"', 'algorithm="rsa-sha256"'
    )
    await check(req, Reason.BAD_SIGNATURE, ED.public_key())


async def test_cavage_without_algorithm_infers_it_from_the_key() -> None:
    for key in (RSA, ED):
        req = replace_signature_param(cavage_request(key=key), r'algorithm="[^"]*",', "")
        result = await verify(req, key.public_key(), NOW)
        assert isinstance(result, Verified)


async def test_rfc9421_ecdsa_key_verifies_without_alg() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    req = hand_signed_rfc9421("GET", ("@method", "@target-uri"), {}, b"", ec_key)
    assert await verify(req, ec_key.public_key()) == Verified(KEY_ID, OWNER, "rfc9421")
