"""Which key may make which signature: an algorithm label is a promise the key must keep.

draft-cavage: `hs2019` (or no label) takes the scheme from the key (RSA PKCS#1 v1.5, or
RSASSA-PSS as some signers send it; Ed25519; ECDSA P-256); a concrete label must match the key.
RFC 9421: a declared `alg` is the only algorithm tried.
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from federation.signatures import Reason, Rejected, Verified
from tests.support.signing import (
    EC,
    ED,
    KEY_ID,
    NOW,
    OWNER,
    RSA,
    Signer,
    cavage,
    ecdsa_p256,
    ecdsa_p256_raw,
    ed25519_sign,
    rfc,
    rsa_pkcs1_sha256,
    rsa_pkcs1_sha512,
    rsa_pss_sha512,
    verify,
)

CAVAGE_OK = Verified(KEY_ID, OWNER, "cavage")
RFC_OK = Verified(KEY_ID, OWNER, "rfc9421")


def bad_signature(result: Verified | Rejected) -> bool:
    return isinstance(result, Rejected) and result.reason is Reason.BAD_SIGNATURE


# --- draft-cavage: ECDSA ---


@pytest.mark.parametrize("algorithm", ["hs2019", None])
async def test_cavage_ecdsa_signature_verifies_under_hs2019_or_no_label(
    algorithm: str | None,
) -> None:
    req = cavage(ecdsa_p256, algorithm=algorithm)
    assert await verify(req, EC.public_key()) == CAVAGE_OK


@pytest.mark.parametrize("algorithm", ["rsa-sha256", "rsa-sha512", "ed25519"])
async def test_cavage_ecdsa_signature_under_another_label_is_refused(algorithm: str) -> None:
    req = cavage(ecdsa_p256, algorithm=algorithm)
    assert bad_signature(await verify(req, EC.public_key()))


async def test_cavage_ecdsa_signature_by_another_key_is_refused() -> None:
    req = cavage(ecdsa_p256)
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    assert bad_signature(await verify(req, other))


# --- draft-cavage: RSA ---


@pytest.mark.parametrize("algorithm", ["hs2019", None])
async def test_cavage_hs2019_accepts_rsa_pss(algorithm: str | None) -> None:
    req = cavage(rsa_pss_sha512, algorithm=algorithm)
    assert await verify(req, RSA.public_key()) == CAVAGE_OK


@pytest.mark.parametrize("algorithm", ["rsa-sha256", "rsa-sha512"])
async def test_cavage_rsa_pss_under_a_pkcs1_label_is_refused(algorithm: str) -> None:
    req = cavage(rsa_pss_sha512, algorithm=algorithm)
    assert bad_signature(await verify(req, RSA.public_key()))


@pytest.mark.parametrize(
    ("sign", "algorithm", "accepted"),
    [
        (rsa_pkcs1_sha512, "rsa-sha512", True),
        (rsa_pkcs1_sha256, "rsa-sha256", True),
        (rsa_pkcs1_sha256, "hs2019", True),
        (rsa_pkcs1_sha256, None, True),
        (rsa_pkcs1_sha512, "rsa-sha256", False),  # the label names the hash
        (rsa_pkcs1_sha256, "rsa-sha512", False),
        (rsa_pkcs1_sha512, "hs2019", False),  # hs2019 with RSA means SHA-256 or PSS
    ],
)
async def test_cavage_rsa_label_names_the_hash(
    sign: Signer, algorithm: str | None, accepted: bool
) -> None:
    result = await verify(cavage(sign, algorithm=algorithm), RSA.public_key())
    assert result == CAVAGE_OK if accepted else bad_signature(result)


async def test_cavage_rsa_key_labelled_ed25519_is_refused() -> None:
    req = cavage(rsa_pkcs1_sha256, algorithm="ed25519")
    assert bad_signature(await verify(req, RSA.public_key()))


@pytest.mark.parametrize("algorithm", ["rsa-sha256", "rsa-sha512"])
async def test_cavage_ed25519_key_under_an_rsa_label_is_refused(algorithm: str) -> None:
    req = cavage(ed25519_sign, algorithm=algorithm)
    assert bad_signature(await verify(req, ED.public_key()))


@pytest.mark.parametrize("algorithm", ["ed25519", "hs2019", None])
async def test_cavage_ed25519_key_verifies_under_its_labels(algorithm: str | None) -> None:
    assert await verify(cavage(ed25519_sign, algorithm=algorithm), ED.public_key()) == CAVAGE_OK


@pytest.mark.parametrize("algorithm", ["RSA-SHA256", "HS2019"])
async def test_cavage_algorithm_labels_are_case_insensitive(algorithm: str) -> None:
    assert await verify(cavage(rsa_pkcs1_sha256, algorithm=algorithm), RSA.public_key()) == (
        CAVAGE_OK
    )


# --- RFC 9421: the declared alg ---


def with_alg(alg: str) -> dict[str, int | str]:
    return {"created": NOW, "keyid": KEY_ID, "alg": alg}


@pytest.mark.parametrize(
    ("sign", "alg", "key"),
    [
        (rsa_pkcs1_sha256, "rsa-v1_5-sha256", RSA),
        (rsa_pss_sha512, "rsa-pss-sha512", RSA),
        (ed25519_sign, "ed25519", ED),
        (ecdsa_p256_raw, "ecdsa-p256-sha256", EC),
    ],
)
async def test_rfc9421_declared_alg_that_matches_verifies(sign: Signer, alg: str, key: Any) -> None:
    req = rfc(sign, params=with_alg(alg))
    assert await verify(req, key.public_key()) == RFC_OK


@pytest.mark.parametrize(
    ("sign", "alg", "key"),
    [
        (rsa_pkcs1_sha256, "rsa-pss-sha512", RSA),  # the key could, but the label says PSS
        (rsa_pss_sha512, "rsa-v1_5-sha256", RSA),
        (ed25519_sign, "rsa-v1_5-sha256", ED),  # the key cannot make this algorithm's signatures
        (ed25519_sign, "ecdsa-p256-sha256", ED),
        (ecdsa_p256_raw, "ed25519", EC),
        (rsa_pkcs1_sha256, "ed25519", RSA),
    ],
)
async def test_rfc9421_declared_alg_that_does_not_match_is_refused(
    sign: Signer, alg: str, key: Any
) -> None:
    req = rfc(sign, params=with_alg(alg))
    assert bad_signature(await verify(req, key.public_key()))


@pytest.mark.parametrize(
    ("sign", "key"),
    [(rsa_pkcs1_sha256, RSA), (rsa_pss_sha512, RSA), (ed25519_sign, ED), (ecdsa_p256_raw, EC)],
)
async def test_rfc9421_without_alg_takes_the_algorithm_from_the_key(sign: Signer, key: Any) -> None:
    assert await verify(rfc(sign), key.public_key()) == RFC_OK
