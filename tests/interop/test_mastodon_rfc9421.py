"""Mastodon's RFC 9421 profile (4.5+ verifies it by default; 4.7 signs it as its fallback), with
the vectors of Mastodon's own spec/requests/signature_verification_spec.rb ("with an HTTP
Message Signature (final RFC version)": the spec's fixed RSA key, 2023-12-20T10:00Z).

We verify what Mastodon signs, refuse what Mastodon's spec refuses, and build the very signature
base Mastodon signs: our base signed with Mastodon's key reproduces its signature bytes (RSA
PKCS#1 v1.5 is deterministic). What we sign meets Mastodon's profile: one signature, `created`,
and @method, @target-uri and (on a body) content-digest covered (tests/unit/
test_accept_signature.py checks our signer's output).
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from federation.signatures import (
    Reason,
    Rejected,
    SignedRequest,
    Verified,
    parse_signature_input,
    rfc9421,
    verify_request,
)
from federation.signatures.http import lower_headers, split_url
from federation.signatures.policy import RequestView
from tests.interop.test_signature_vectors import (
    MASTODON_KEY_ID,
    MASTODON_NOW,
    MASTODON_PRIVATE,
    _mastodon_resolver,
)

GET_INPUT = f'sig1=("@method" "@target-uri");created=1703066400;keyid="{MASTODON_KEY_ID}"'
OLD_INPUT = f'sig1=("@method" "@target-uri");created=1702893600;keyid="{MASTODON_KEY_ID}"'
POST_INPUT = (
    f'sig1=("@method" "@target-uri" "content-digest");created=1703066400;keyid="{MASTODON_KEY_ID}"'
)
GET = (
    "WfM6q/qBqhUyqPUDt9metjadJGtLLpmMTBzk/t+R3byKe4/TGAXC6vBB/M6NsD5qv8GCmQGtisCMQxJQO0IGODGzi+Jv"
    "+eqDJ50agMVXNV6nUOzY44c4/XTPoI98qyx1oEMa4Hefy3vSYKq96iDVAc+RDLCMTeGP3wn9wizjD1SNmU0RZI1bTB+e"
    "CkywMP9mM5zXzUOYF+Qkuf+WdEpPR1XUGPlnqfdvPalcKVfaI/VThBjI91D/lmUGoa69x4EBEHM+aJmW6086e7/dVh+F"
    "ndKkdGfXslZXFZKi2flTGQZgEWLn948SqAaJQROkJg8B14Sb1NONS1qZBhK3Mum8Pg=="
)
GET_QUERY = (
    "JbC0oqoruKkT5p3bTASZZbHQP+EwUmT6+vBjEBw/KSkLPn+tKjEj0HHIMLA2Rw3bshZyzmsVD8+2UkPcwZYnE3gzuX0r"
    "0/gC8v4dSBfwGe7EBwpekB2xU8yHW4jawxiof2LmErvEocqcnI2uiA4IlJ09uz2Os/ARmf60lj+0Qf1qqzFeM7KoXJ33"
    "1BUGMJ4cQ7iS4aO9RG4P8EJ+upe7Ik1LB/q9CZmk/6MFaB2lIemV0pcg2MwctpzMw9GWN1wL10hGxx+BPT2WCXdlPQme"
    "tVSoJ89WVV8S/4lQaCA1IucYUVDvBEFgMM//VJBuw7kg8wSTeAg9oKzbR2otLqv8Lg=="
)
OLD = (
    "LtvwxwAAyiP7fGzsgKDRUHaZNNclAq6ScmH7RY+KERgaJcrjHFuqaYraQ3d9JVNsDJzZhdtJs+7UDPfIUjYNwWj/5KRQ"
    "scB2sMQ9+EYR2tBDen+K5TILv/SXoWUdvVU/3vbGMiVIACgynaXokySNrE8AGFWdrzT5NbxE+/pJ0tkB3uWO7LfFpm0i"
    "pzo0NN07CGC2AUVl6WxsiTGWtFRqVrrHFmYmRcVYn7NxkKytx8eDg95cyIsB4xAHz8i++NqZHiXaooh79OdhOy10kMWH"
    "FDbuy/AijjI3aGtGriAbXdxb8O3nwoSCvfEJ5f7qQ+iMJl/fLvFOUZElZgRo3mk2lA=="
)
POST = (
    "c4jGY/PnOV4CwyvNnAmY6NLX0sf6EtbKu7kYseNARRZaq128PrP0GNQ4cd3XsX9cbMfJMw1ntI4zuEC81ncW8g+90OHP"
    "02bX0LkT57RweUtN4CSA01hRqSVe/MW32tjGixCiItvWqjNHoIZnZApu1bd+M3zMR+VCEue4/8a0D2eRrvfQxJUUBXZR"
    "1ZTRFlf1LNFDW3U7cuTbAKYr2zWVr7on+h2vA+vzEND9WE8z1SHd6SIFFgP0QRqrCXYx+vsTs3aLusTsamRWissoycJG"
    "exb64mI9iqiD8SD+uN1xk6iRU3nkUmhUquugjlOFyjxbbLo5ZnYjsECMt/BW+Catxw=="
)
POST_UNSIGNED_DIGEST = (
    "Rhc5CzxdUYCzwo3V7y5wjEIN4o2XD90Bhf7lTDg2TIlp33ygl6ufwZpQ156fLJ0aUCkJ4+9KQsHBIkxF4PZJn8d/ZIfz"
    "3dpHJAVyMErAToSw+36V61mbnnnJxIPZPvmTT3zYCL7HPv+3GItOA4SqBhjJZRRJwOIW6NmmyrmSpc8xF9klnkeyGbYY"
    "RusaG7w6BDzM7ECCttxk120v1rHkGyqVON9fQADqs2LNqPa9WM9kWKiC5LhnZSYgoojhPmhniiA4NpgprncEBo4dOIC8"
    "CJihafWVSf+CZp3eogb/hn3Yd0//Pz0ta/lVtLGdb7t9f0rQFiqZfwIcCCz51nDMKw=="
)
DIGEST = "sha-256=:ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw=:"
BOB = "https://remote.domain/users/bob"


def request(
    method: str, path: str, sig_input: str, signature: str, body: bytes = b""
) -> SignedRequest:
    headers = {"Host": "www.example.com", "Signature-Input": sig_input}
    headers["Signature"] = f"sig1=:{signature}:"
    if body:
        headers["Content-Digest"] = DIGEST
    return SignedRequest(method, f"https://www.example.com{path}", headers, body)


# The requests Mastodon's spec verifies: a GET, a GET with a query, a POST with a body.
MASTODON_REQUESTS = pytest.mark.parametrize(
    ("method", "path", "sig_input", "signature", "body"),
    [
        ("GET", "/activitypub/success", GET_INPUT, GET, b""),
        ("GET", "/activitypub/success?foo=42", GET_INPUT, GET_QUERY, b""),
        ("POST", "/activitypub/success", POST_INPUT, POST, b"Hello world"),
    ],
    ids=["get", "get-query", "post-content-digest"],
)


@MASTODON_REQUESTS
async def test_what_mastodon_signs_is_verified(
    method: str, path: str, sig_input: str, signature: str, body: bytes
) -> None:
    req = request(method, path, sig_input, signature, body)
    result = await verify_request(req, _mastodon_resolver(), MASTODON_NOW)
    assert result == Verified(MASTODON_KEY_ID, BOB, "rfc9421")


@pytest.mark.parametrize(
    ("method", "path", "sig_input", "signature", "body", "reason"),
    [
        ("GET", "/activitypub/success?foo=43", GET_INPUT, GET_QUERY, b"", Reason.BAD_SIGNATURE),
        ("GET", "/activitypub/alternative-path", GET_INPUT, GET, b"", Reason.BAD_SIGNATURE),
        ("POST", "/activitypub/success", GET_INPUT, GET, b"", Reason.BAD_SIGNATURE),
        ("GET", "/activitypub/success", OLD_INPUT, OLD, b"", Reason.EXPIRED),
        (
            "POST",
            "/activitypub/success",
            GET_INPUT,
            POST_UNSIGNED_DIGEST,
            b"Hello world",
            Reason.MISSING_COMPONENT,
        ),
        ("POST", "/activitypub/success", POST_INPUT, POST, b"Hello world!", Reason.DIGEST_MISMATCH),
        (
            "POST",
            "/activitypub/alternative-path",
            POST_INPUT,
            POST,
            b"Hello world",
            Reason.BAD_SIGNATURE,
        ),
    ],
    ids=[
        "query-mismatch",
        "path-mismatch",
        "method-mismatch",
        "older-than-a-day",
        "digest-not-signed",
        "tampered-body",
        "tampered-path",
    ],
)
async def test_what_mastodons_spec_refuses_is_refused(
    method: str, path: str, sig_input: str, signature: str, body: bytes, reason: Reason
) -> None:
    req = request(method, path, sig_input, signature, body)
    result = await verify_request(req, _mastodon_resolver(), MASTODON_NOW)
    assert isinstance(result, Rejected)
    assert result.reason is reason


@MASTODON_REQUESTS
def test_our_signature_base_is_the_one_mastodon_signs(
    method: str, path: str, sig_input: str, signature: str, body: bytes
) -> None:
    req = request(method, path, sig_input, signature, body)
    headers = lower_headers(req.headers)
    view = RequestView(method, split_url(req.url, headers.get("host")), headers, body)
    (sig,) = parse_signature_input(sig_input)
    private = load_pem_private_key(MASTODON_PRIVATE, password=None)
    assert isinstance(private, RSAPrivateKey)
    ours = private.sign(rfc9421.signature_base(view, sig), padding.PKCS1v15(), hashes.SHA256())
    assert base64.b64encode(ours).decode() == signature
