"""The instance actor's key pairs: files, permissions, Multikey encoding, PEM loading."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519
from hypothesis import given
from hypothesis import strategies as st

from federation.errors import KeyError_
from federation.keys import (
    ED25519_FILE,
    RSA_FILE,
    InstanceKeys,
    ed25519_public_from_multibase,
    load_or_create_keys,
    multibase_ed25519_public,
    public_key_from_pem,
)

# Published Ed25519 Multikey vectors (raw public key -> publicKeyMultibase):
# - sicpa-dlab/peer-did-python tests/test_vectors.py: the did:peer:0 document gives the same key
#   as JWK x "owBhCbktDjkfS6PdQddT0D3yjSitaSysP3YimJ_YgmA" and as "z6MkqRYqQ...F4s8M7V".
# - openwallet-foundation/acapy aries_cloudagent/did/tests/test_dids.py: did:key
#   z6MkmjY8...ab7th with publicKeyBase58 8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K.
VECTORS = [
    (
        base64.urlsafe_b64decode("owBhCbktDjkfS6PdQddT0D3yjSitaSysP3YimJ_YgmA="),
        "z6MkqRYqQiSgvZQdnBytw86Qbs2ZWUkGv22od935YF4s8M7V",
    ),
    (
        bytes.fromhex("6c2d48b1605684ef94363dc6158eeb6577466e1a36a740f2fc624617edb7712e"),
        "z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th",
    ),
]


def _raw(pub: ed25519.Ed25519PublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture(scope="module")
def created(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, InstanceKeys]:
    key_dir = tmp_path_factory.mktemp("k") / "keys" / "nested"
    return key_dir, load_or_create_keys(key_dir)


# ---------------------------------------------------------------- Multikey


@pytest.mark.parametrize(("raw", "multikey"), VECTORS)
def test_multikey_vectors(raw: bytes, multikey: str) -> None:
    pub = ed25519.Ed25519PublicKey.from_public_bytes(raw)
    assert multibase_ed25519_public(pub) == multikey
    assert _raw(ed25519_public_from_multibase(multikey)) == raw


@given(st.binary(min_size=32, max_size=32))
def test_multikey_round_trip(raw: bytes) -> None:
    pub = ed25519.Ed25519PublicKey.from_public_bytes(raw)
    encoded = multibase_ed25519_public(pub)
    assert encoded.startswith("z6Mk")
    assert _raw(ed25519_public_from_multibase(encoded)) == raw


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "6MkqRYqQiSgvZQdnBytw86Qbs2ZWUkGv22od935YF4s8M7V",  # no multibase prefix
        "z6MkqRYqQiSgvZQdnBytw86Qbs2ZWUkGv22od935YF4s8M70",  # '0' is not base58
        "z6MkqRYqQiSgvZQdnBytw86Qbs2ZWUkGv22od935YF4s8M7",  # truncated
        "z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc",  # an X25519 key (0xec01)
        "z" + "2" * 200,  # oversized
        None,
    ],
)
def test_multikey_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        ed25519_public_from_multibase(bad)


# ---------------------------------------------------------------- files


def test_creates_both_keys_with_private_permissions(created: tuple[Path, InstanceKeys]) -> None:
    key_dir, instance_keys = created
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    for name in (RSA_FILE, ED25519_FILE):
        assert stat.S_IMODE((key_dir / name).stat().st_mode) == 0o600
    assert sorted(p.name for p in key_dir.iterdir()) == [ED25519_FILE, RSA_FILE]  # no temp left
    assert instance_keys.rsa.key_size == 2048
    assert (key_dir / RSA_FILE).read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


def test_second_start_loads_the_same_keys(created: tuple[Path, InstanceKeys]) -> None:
    key_dir, first = created
    before = {p: p.read_bytes() for p in key_dir.iterdir()}
    again = load_or_create_keys(key_dir)
    assert again.rsa_public_pem() == first.rsa_public_pem()
    assert again.ed25519_multibase() == first.ed25519_multibase()
    assert {p: p.read_bytes() for p in key_dir.iterdir()} == before


def test_public_forms(created: tuple[Path, InstanceKeys]) -> None:
    _, instance_keys = created
    pem = instance_keys.rsa_public_pem()
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert isinstance(public_key_from_pem(pem), rsa.RSAPublicKey)
    multikey = instance_keys.ed25519_multibase()
    assert _raw(ed25519_public_from_multibase(multikey)) == _raw(instance_keys.ed25519.public_key())


def test_repr_and_str_show_no_key_material(created: tuple[Path, InstanceKeys]) -> None:
    key_dir, instance_keys = created
    secrets = [
        (key_dir / RSA_FILE).read_text(),
        instance_keys.rsa_public_pem(),
        instance_keys.ed25519_multibase(),
    ]
    for text in (repr(instance_keys), str(instance_keys), f"{instance_keys}"):
        assert "private key" in text
        for secret in secrets:
            for line in secret.splitlines()[1:-1]:
                assert line[:16] not in text
        assert instance_keys.ed25519_multibase() not in text


def test_missing_file_is_created_other_kept(tmp_path: Path) -> None:
    first = load_or_create_keys(tmp_path)
    (tmp_path / ED25519_FILE).unlink()
    second = load_or_create_keys(tmp_path)
    assert second.rsa_public_pem() == first.rsa_public_pem()
    assert second.ed25519_multibase() != first.ed25519_multibase()


def test_unreadable_file_names_the_path(tmp_path: Path) -> None:
    (tmp_path / RSA_FILE).mkdir()  # unreadable as a file, whoever runs the tests (root too)
    with pytest.raises(KeyError_, match=r"cannot read key file .*rsa\.pem"):
        load_or_create_keys(tmp_path)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        (RSA_FILE, b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "PKCS#8"),
        (RSA_FILE, b"\x00\xffgarbage", "PKCS#8"),
        (RSA_FILE, _pem(ed25519.Ed25519PrivateKey.generate()), "RSA key"),
        (RSA_FILE, _pem(rsa.generate_private_key(65537, 1024)), "RSA key of 2048"),  # noqa: S505
        (ED25519_FILE, _pem(ec.generate_private_key(ec.SECP256R1())), "Ed25519 key"),
    ],
)
def test_bad_key_file(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    if name == ED25519_FILE:
        (tmp_path / RSA_FILE).write_bytes(_pem(rsa.generate_private_key(65537, 2048)))
    (tmp_path / name).write_bytes(content)
    with pytest.raises(KeyError_) as info:
        load_or_create_keys(tmp_path)
    message = str(info.value)
    assert str(tmp_path / name) in message and reason in message
    assert "AAAA" not in message and "garbage" not in message


def test_folder_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(KeyError_, match="cannot create key folder"):
        load_or_create_keys(tmp_path / "file" / "keys")


def test_write_failure_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(fd: int, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(KeyError_, match=r"cannot write key file .*rsa.pem: No space left"):
        load_or_create_keys(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_concurrent_creator_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    theirs = rsa.generate_private_key(65537, 2048)
    real_link = os.link

    def link_after_other_process(src: str, dst: str) -> None:
        if str(dst).endswith(RSA_FILE):
            Path(dst).write_bytes(_pem(theirs))
        real_link(src, dst)

    monkeypatch.setattr(os, "link", link_after_other_process)
    loaded = load_or_create_keys(tmp_path)
    assert loaded.rsa.private_numbers() == theirs.private_numbers()
    assert sorted(p.name for p in tmp_path.iterdir()) == [ED25519_FILE, RSA_FILE]


def test_rename_fallback_without_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src: str, dst: str) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    created = load_or_create_keys(tmp_path)
    assert stat.S_IMODE((tmp_path / RSA_FILE).stat().st_mode) == 0o600
    assert load_or_create_keys(tmp_path).rsa_public_pem() == created.rsa_public_pem()


def test_permissions_ignore_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        load_or_create_keys(tmp_path / "k")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "k" / ED25519_FILE).stat().st_mode) == 0o600


# ---------------------------------------------------------------- peers' public keys


def _public_pem(key: object) -> str:
    pub = key.public_key()  # type: ignore[attr-defined]
    return str(
        pub.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
    )


def test_public_key_from_pem_types() -> None:
    assert isinstance(
        public_key_from_pem(_public_pem(ed25519.Ed25519PrivateKey.generate())),
        ed25519.Ed25519PublicKey,
    )
    assert isinstance(
        public_key_from_pem(_public_pem(ec.generate_private_key(ec.SECP256R1()))),
        ec.EllipticCurvePublicKey,
    )


@pytest.mark.parametrize(
    ("pem", "reason"),
    [
        ("", "not a PEM public key"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a PEM public key"),
        ("\ud800", "not a PEM public key"),
        (None, "not a PEM public key"),
        (_public_pem(x25519.X25519PrivateKey.generate()), "unsupported public key type"),
    ],
)
def test_public_key_from_pem_rejects(pem: str, reason: str) -> None:
    with pytest.raises(KeyError_, match=reason) as info:
        public_key_from_pem(pem)
    assert "AAAA" not in str(info.value)
