"""What a refused peer is told: the exact reason, detail and key id of each refusal.

The detail is the only thing a remote operator sees when their request is refused, so each
one names the rule that was broken; the key id lets them tell which of their keys it was."""

from __future__ import annotations

import pytest

from federation.signatures import Reason, Rejected, SignedRequest, Verified
from tests.support.signing import (
    ED,
    KEY_ID,
    NOW,
    OWNER,
    cavage,
    ed25519_sign,
    rfc,
    verify,
)

SKEW = 3600


def without(req: SignedRequest, name: str) -> SignedRequest:
    headers = {k: v for k, v in req.headers.items() if k != name}
    return SignedRequest(req.method, req.url, headers, req.body)


def tampered(req: SignedRequest) -> SignedRequest:
    """The same signature over another path: it no longer verifies."""
    return SignedRequest(req.method, req.url + "x", dict(req.headers), req.body)


# --- any request ---


async def test_unsigned_request_is_told_so() -> None:
    req = SignedRequest("GET", "https://beta.example/inbox", {"Host": "beta.example"}, b"")
    expected = Rejected(Reason.NO_SIGNATURE, "the request is not signed")
    assert await verify(req, ED.public_key()) == expected


async def test_request_url_that_is_neither_absolute_nor_a_path_is_malformed() -> None:
    req = rfc(ed25519_sign)
    req = SignedRequest(req.method, "beta.example/inbox", dict(req.headers), req.body)
    expected = Rejected(Reason.MALFORMED, "request URL is not absolute")
    assert await verify(req, ED.public_key()) == expected


@pytest.mark.parametrize("host_field", ["Host", "host", "HOST"])
async def test_path_only_request_takes_its_authority_from_the_host_header(host_field: str) -> None:
    """What a server sees is a path and a Host header: the signed authority must be that one."""
    req = rfc(ed25519_sign, components=("@method", "@authority", "@request-target"))
    headers = {**req.headers, host_field: "beta.example"}
    as_served = SignedRequest(req.method, "/inbox", headers, req.body)
    assert await verify(as_served, ED.public_key()) == Verified(KEY_ID, OWNER, "rfc9421")
    elsewhere = SignedRequest(req.method, "/inbox", {**headers, host_field: "gamma.example"}, b"")
    result = await verify(elsewhere, ED.public_key())
    assert isinstance(result, Rejected) and result.reason is Reason.BAD_SIGNATURE


# --- draft-cavage ---


@pytest.mark.parametrize(
    ("covered", "created", "expected"),
    [
        (
            ("host", "(created)"),
            NOW,
            (Reason.MISSING_COMPONENT, "(request-target) and host must be signed"),
        ),
        (
            ("(request-target)", "(created)"),
            NOW,
            (Reason.MISSING_COMPONENT, "(request-target) and host must be signed"),
        ),
        (
            ("(request-target)", "host"),
            NOW,
            (Reason.MISSING_COMPONENT, "date or (created) must be signed"),
        ),
        (
            ("(request-target)", "host", "(created)"),
            NOW - SKEW - 1,
            (Reason.EXPIRED, "created is too old"),
        ),
        (
            ("(request-target)", "host", "(created)"),
            NOW + SKEW + 1,
            (Reason.FUTURE, "created is in the future"),
        ),
    ],
)
async def test_cavage_refusals_say_what_was_wrong(
    covered: tuple[str, ...], created: int, expected: tuple[Reason, str]
) -> None:
    req = cavage(ed25519_sign, covered=covered, created=created)
    assert await verify(req, ED.public_key()) == Rejected(*expected, KEY_ID)


async def test_cavage_signature_that_does_not_verify_names_its_key() -> None:
    req = tampered(cavage(ed25519_sign))
    expected = Rejected(Reason.BAD_SIGNATURE, "signature does not verify", KEY_ID)
    assert await verify(req, ED.public_key()) == expected


# --- RFC 9421 ---


async def test_rfc9421_signature_input_without_signature_is_malformed() -> None:
    req = without(rfc(ed25519_sign), "Signature")
    expected = Rejected(Reason.MALFORMED, "Signature-Input without a matching Signature")
    assert await verify(req, ED.public_key()) == expected


async def test_rfc9421_signature_under_another_label_is_malformed() -> None:
    req = rfc(ed25519_sign)
    other = req.headers["Signature"].replace("sig1=", "sig2=", 1)
    req = SignedRequest(req.method, req.url, {**req.headers, "Signature": other}, req.body)
    expected = Rejected(Reason.MALFORMED, "Signature-Input without a matching Signature")
    assert await verify(req, ED.public_key()) == expected


async def test_rfc9421_without_keyid_is_malformed() -> None:
    req = rfc(ed25519_sign, params={"created": NOW})
    expected = Rejected(Reason.MALFORMED, "keyid is required")
    assert await verify(req, ED.public_key()) == expected


async def test_rfc9421_signature_that_does_not_verify_names_its_key() -> None:
    req = tampered(rfc(ed25519_sign))
    expected = Rejected(Reason.BAD_SIGNATURE, "signature does not verify", KEY_ID)
    assert await verify(req, ED.public_key()) == expected


# --- draft-cavage: signers that leave the query out of (request-target) (Mastodon #18638) ---


async def test_cavage_signature_without_the_query_verifies_with_an_empty_path_as_slash() -> None:
    req = cavage(ed25519_sign, url="https://beta.example/")
    sent = SignedRequest(req.method, "https://beta.example?page=2", dict(req.headers), req.body)
    assert await verify(sent, ED.public_key()) == Verified(KEY_ID, OWNER, "cavage")


async def test_cavage_signature_without_the_query_keeps_its_algorithm_label() -> None:
    """The retry without the query is the same check: an Ed25519 key labelled rsa-sha256 is
    refused there too, not verified as if no label had been sent."""
    req = cavage(ed25519_sign, algorithm="rsa-sha256", url="https://beta.example/inbox")
    sent = SignedRequest(req.method, req.url + "?page=2", dict(req.headers), req.body)
    expected = Rejected(Reason.BAD_SIGNATURE, "signature does not verify", KEY_ID)
    assert await verify(sent, ED.public_key()) == expected
    labelled = cavage(ed25519_sign, algorithm="ed25519", url="https://beta.example/inbox")
    sent = SignedRequest(req.method, req.url + "?page=2", dict(labelled.headers), req.body)
    assert await verify(sent, ED.public_key()) == Verified(KEY_ID, OWNER, "cavage")
