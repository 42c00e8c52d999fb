"""The instance actor's key pairs: RSA-2048 (draft-cavage interop) and Ed25519 (RFC 9421, FEP-521a).

Keys live in ``key_dir`` as unencrypted PKCS#8 PEM files, created on first start with mode 0600
(the folder 0700). Errors name the file, never its content.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import base58
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import (
    RSAPrivateKey,
    RSAPublicKey,
    generate_private_key,
)
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from federation.errors import KeyError_

RSA_FILE = "rsa.pem"
ED25519_FILE = "ed25519.pem"
RSA_BITS = 2048
_ED25519_MULTICODEC = b"\xed\x01"  # multicodec "ed25519-pub" as an unsigned varint
_MAX_MULTIBASE_LENGTH = 128  # an Ed25519 Multikey is 48 characters; bounds the bignum work


@dataclass(frozen=True, repr=False)
class InstanceKeys:
    rsa: RSAPrivateKey
    ed25519: Ed25519PrivateKey

    def rsa_public_pem(self) -> str:
        return (
            self.rsa.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )

    def ed25519_multibase(self) -> str:
        return multibase_ed25519_public(self.ed25519.public_key())

    def __repr__(self) -> str:
        return "InstanceKeys(rsa=<RSA private key>, ed25519=<Ed25519 private key>)"

    __str__ = __repr__


def load_or_create_keys(key_dir: Path) -> InstanceKeys:
    """Load both key pairs from ``key_dir``, generating (and saving) any that is missing."""
    try:
        key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise KeyError_(f"cannot create key folder {key_dir}: {exc.strerror}") from None
    rsa_path, ed_path = key_dir / RSA_FILE, key_dir / ED25519_FILE
    rsa = _load_or_create(rsa_path, _new_rsa)
    if not isinstance(rsa, RSAPrivateKey) or rsa.key_size < RSA_BITS:
        raise KeyError_(f"key file {rsa_path} does not hold an RSA key of {RSA_BITS}+ bits")
    ed25519 = _load_or_create(ed_path, Ed25519PrivateKey.generate)
    if not isinstance(ed25519, Ed25519PrivateKey):
        raise KeyError_(f"key file {ed_path} does not hold an Ed25519 key")
    return InstanceKeys(rsa=rsa, ed25519=ed25519)


def _new_rsa() -> RSAPrivateKey:
    return generate_private_key(public_exponent=65537, key_size=RSA_BITS)


def _load_or_create(path: Path, generate: Callable[[], PrivateKeyTypes]) -> PrivateKeyTypes:
    if not path.exists():
        key = generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        if _write_new_file(path, pem):
            return key
        # Another process created the file first: use its key so both agree.
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyError_(f"cannot read key file {path}: {exc.strerror}") from None
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise KeyError_(f"key file {path} is not an unencrypted PKCS#8 PEM private key") from None


def _write_new_file(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically with mode 0600; False if ``path`` appeared meanwhile.

    The temp file is created 0600 (no window where it is readable by others), then hard-linked
    into place, which unlike rename never replaces a file a concurrent starter has just written.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)  # whatever the umask
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:  # file systems without hard links: fall back to a plain rename
            os.replace(tmp, path)
        _fsync_dir(path.parent)
        return True
    except OSError as exc:
        raise KeyError_(f"cannot write key file {path}: {exc.strerror}") from None
    finally:
        tmp.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def public_key_from_pem(pem: str) -> RSAPublicKey | Ed25519PublicKey | EllipticCurvePublicKey:
    """Load a peer's SubjectPublicKeyInfo PEM (as published in ``publicKeyPem``)."""
    try:
        key = serialization.load_pem_public_key(pem.encode("utf-8"))
    except (ValueError, TypeError, UnsupportedAlgorithm, UnicodeEncodeError, AttributeError):
        raise KeyError_("not a PEM public key") from None
    if not isinstance(key, RSAPublicKey | Ed25519PublicKey | EllipticCurvePublicKey):
        raise KeyError_(f"unsupported public key type {type(key).__name__}")
    return key


def multibase_ed25519_public(pub: Ed25519PublicKey) -> str:
    """The Multikey form of an Ed25519 public key: 'z' + base58btc(0xed 0x01 + raw key)."""
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + base58.b58encode(_ED25519_MULTICODEC + raw).decode("ascii")


def ed25519_public_from_multibase(s: str) -> Ed25519PublicKey:
    """Inverse of multibase_ed25519_public; ValueError for anything but an Ed25519 Multikey."""
    if not isinstance(s, str) or not s.startswith("z") or len(s) > _MAX_MULTIBASE_LENGTH:
        raise ValueError("not a base58btc multibase string")
    data = base58.b58decode(s[1:])  # ValueError on a character outside the alphabet
    if len(data) != 34 or not data.startswith(_ED25519_MULTICODEC):
        raise ValueError("not an Ed25519 Multikey (0xed01 + 32 bytes)")
    return Ed25519PublicKey.from_public_bytes(data[2:])
