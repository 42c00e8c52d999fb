"""Published test vectors, typed in from the public documents.

- RFC 9421 (HTTP Message Signatures), Appendix B.1 keys and B.2 request signatures.
- draft-cavage-http-signatures-12, Appendix C (the 1024-bit "Test" key, C.1-C.3).
- Mastodon spec/requests/signature_verification_spec.rb (fixed key, 2023-12-20T10:00Z).
"""

from __future__ import annotations

import base64
import calendar

import pytest
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from federation.signatures import (
    KeyResolver,
    PublicKey,
    PublicKeyInfo,
    Reason,
    Rejected,
    SignedRequest,
    Verified,
    cavage,
    check_content_digest,
    check_digest,
    parse_signature,
    parse_signature_input,
    rfc9421,
    verify_request,
)
from federation.signatures.http import lower_headers, split_url
from federation.signatures.policy import RequestView

# --- RFC 9421 Appendix B.1.2: test-key-rsa-pss (public half) ---
RSA_PSS_PUBLIC = b"""-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr4tmm3r20Wd/PbqvP1s2
+QEtvpuRaV8Yq40gjUR8y2Rjxa6dpG2GXHbPfvMs8ct+Lh1GH45x28Rw3Ry53mm+
oAXjyQ86OnDkZ5N8lYbggD4O3w6M6pAvLkhk95AndTrifbIFPNU8PPMO7OyrFAHq
gDsznjPFmTOtCEcN2Z1FpWgchwuYLPL+Wokqltd11nqqzi+bJ9cvSKADYdUAAN5W
Utzdpiy6LbTgSxP7ociU4Tn0g5I6aDZJ7A8Lzo0KSyZYoA485mqcO0GVAdVw9lq4
aOT9v6d+nb4bnNkQVklLQ3fVAvJm+xdDOp9LCNCN48V2pnDOkFV6+U9nV5oyc6XI
2wIDAQAB
-----END PUBLIC KEY-----"""

# --- RFC 9421 Appendix B.1.3: test-key-ecc-p256 (public half) ---
ECC_P256_PUBLIC = b"""-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lf
w0EkjqF7xB4FivAxzic30tMM4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==
-----END PUBLIC KEY-----"""

# --- RFC 9421 Appendix B.1.4: test-key-ed25519 ---
ED25519_PUBLIC = b"""-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----"""
ED25519_PRIVATE = b"""-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----"""

# --- RFC 9421 Appendix B.2: the test request ---
B2_URL = "https://example.com/foo?param=Value&Pet=dog"
B2_BODY = b'{"hello": "world"}'
B2_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+"
    "AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
    "Content-Length": "18",
}
B2_CREATED = 1618884473

# B.2.1 Minimal Signature Using rsa-pss-sha512
B21_INPUT = 'sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"'
B21_SIGNATURE = (
    "sig-b21=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopem"
    "LJcWDy/lkbbHAve4cRAtx31Iq786U7it++wgGxbtRxf8Udx7zFZsckzXaJMkA7ChG"
    "52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72rgFWhzx"
    "2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6"
    "UnCh8jYzuVG5WSb/QEVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3"
    "+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q==:"
)
# B.2.2 Selective Covered Components Using rsa-pss-sha512
B22_INPUT = (
    'sig-b22=("@authority" "content-digest" "@query-param";name="Pet");created=1618884473'
    ';keyid="test-key-rsa-pss";tag="header-example"'
)
B22_SIGNATURE = (
    "sig-b22=:LjbtqUbfmvjj5C5kr1Ugj4PmLYvx9wVjZvD9GsTT4F7GrcQ"
    "EdJzgI9qHxICagShLRiLMlAJjtq6N4CDfKtjvuJyE5qH7KT8UCMkSowOB4+ECxCmT"
    "8rtAmj/0PIXxi0A0nxKyB09RNrCQibbUjsLS/2YyFYXEu4TRJQzRw1rLEuEfY17SA"
    "RYhpTlaqwZVtR8NV7+4UKkjqpcAoFqWFQh62s7Cl+H2fjBSpqfZUJcsIk4N6wiKYd"
    "4je2U/lankenQ99PZfB4jY3I5rSV2DSBVkSFsURIjYErOs0tFTQosMTAoxk//0RoK"
    "UqiYY8Bh0aaUEb0rQl3/XaVe4bXTugEjHSw==:"
)
# B.2.3 Full Coverage Using rsa-pss-sha512
B23_INPUT = (
    'sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest"'
    ' "content-length");created=1618884473;keyid="test-key-rsa-pss"'
)
B23_SIGNATURE = (
    "sig-b23=:bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yB"
    "iMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeGt683+qRpRRU5p2voTp768ZrCUb38K0fU"
    "xN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsLNmvKiLJH1"
    "pFkh/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9"
    "bpG6A9BmzhuzF8Eim5f8ui9eH8LZH896+QIF61ka39VBrohr9iyMUJpvRX2Zbhl5Z"
    "JzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4cUA==:"
)
# B.2.4 Signing a Response Using ecdsa-p256-sha256 (the test response, HTTP 200)
B24_HEADERS = {
    "Date": "Tue, 20 Apr 2021 02:07:56 GMT",
    "Content-Type": "application/json",
    "Content-Digest": "sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX69wWdX"
    "ymyU0rjJuahq4l5aGgfLQ==:",
    "Content-Length": "23",
}
B24_INPUT = (
    'sig-b24=("@status" "content-type" "content-digest" "content-length");created=1618884473'
    ';keyid="test-key-ecc-p256"'
)
B24_SIGNATURE = (
    "sig-b24=:wNmSUAhwb5LxtOtOpNa6W5xj067m5hFrj0XQ4fvpaCLx0NKocgPquLgyahnzDnDAU"
    "y5eCdlYUEkLIj+32oiasw==:"
)
# B.2.6 Signing a Request Using ed25519 (deterministic: reproduced byte for byte)
B26_INPUT = (
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE = (
    "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu"
    "4A0w6vuQv5lIp5WPpBKRCw==:"
)
B26_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    '"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
    '"content-length");created=1618884473;keyid="test-key-ed25519"'
)


def _view(headers: dict[str, str], status: int | None = None) -> RequestView:
    return RequestView("POST", split_url(B2_URL), lower_headers(headers), B2_BODY, status)


def _rfc_check(
    headers: dict[str, str], sig_input: str, signature: str, pem: bytes, status: int | None = None
) -> tuple[bytes, bool]:
    [parsed] = parse_signature_input(sig_input)
    raw = parse_signature(signature)[parsed.label]
    base = rfc9421.signature_base(_view(headers, status), parsed)
    return base, rfc9421.verify_bytes(None, _public(pem), raw, base)


@pytest.mark.parametrize(
    ("sig_input", "signature"),
    [(B21_INPUT, B21_SIGNATURE), (B22_INPUT, B22_SIGNATURE), (B23_INPUT, B23_SIGNATURE)],
    ids=["B.2.1", "B.2.2", "B.2.3"],
)
def test_rfc9421_b2_rsa_pss_vectors_verify(sig_input: str, signature: str) -> None:
    _base, ok = _rfc_check(B2_HEADERS, sig_input, signature, RSA_PSS_PUBLIC)
    assert ok
    tampered = dict(B2_HEADERS, **{"Content-Digest": "sha-512=:AAAA:"})
    assert not _rfc_check(tampered, B23_INPUT, B23_SIGNATURE, RSA_PSS_PUBLIC)[1]


def test_rfc9421_b24_ecdsa_response_verifies() -> None:
    assert _rfc_check(B24_HEADERS, B24_INPUT, B24_SIGNATURE, ECC_P256_PUBLIC, status=200)[1]
    assert not _rfc_check(B24_HEADERS, B24_INPUT, B24_SIGNATURE, ECC_P256_PUBLIC, status=201)[1]


def test_rfc9421_b26_ed25519_signature_reproduced_exactly() -> None:
    [parsed] = parse_signature_input(B26_INPUT)
    base = rfc9421.signature_base(_view(B2_HEADERS), parsed)
    assert base.decode() == B26_BASE
    private = load_pem_private_key(ED25519_PRIVATE, password=None)
    assert isinstance(private, Ed25519PrivateKey)
    expected = parse_signature(B26_SIGNATURE)["sig-b26"]
    assert private.sign(base) == expected
    assert rfc9421.verify_bytes("ed25519", _public(ED25519_PUBLIC), expected, base)


def test_rfc9421_b2_content_digest_matches_body() -> None:
    assert check_content_digest(B2_HEADERS["Content-Digest"], B2_BODY) is None
    assert check_content_digest(B24_HEADERS["Content-Digest"], b'{"message": "good dog"}') is None


def _public(pem: bytes) -> PublicKey:
    key = load_pem_public_key(pem)
    assert isinstance(key, RSAPublicKey | Ed25519PublicKey | EllipticCurvePublicKey)
    return key


def _resolver(pem: bytes, key_id: str, owner: str = "https://example.com/actor") -> KeyResolver:
    key = _public(pem)

    async def resolve(requested: str) -> PublicKeyInfo | None:
        return PublicKeyInfo(key_id, owner, key) if requested == key_id else None

    return resolve


async def test_rfc9421_b23_passes_the_full_policy() -> None:
    headers = dict(B2_HEADERS, **{"Signature-Input": B23_INPUT, "Signature": B23_SIGNATURE})
    req = SignedRequest("POST", B2_URL, headers, B2_BODY)
    result = await verify_request(req, _resolver(RSA_PSS_PUBLIC, "test-key-rsa-pss"), B2_CREATED)
    assert result == Verified("test-key-rsa-pss", "https://example.com/actor", "rfc9421")


async def test_rfc9421_b26_is_refused_by_policy_for_leaving_query_and_digest_out() -> None:
    headers = dict(B2_HEADERS, **{"Signature-Input": B26_INPUT, "Signature": B26_SIGNATURE})
    req = SignedRequest("POST", B2_URL, headers, B2_BODY)
    result = await verify_request(req, _resolver(ED25519_PUBLIC, "test-key-ed25519"), B2_CREATED)
    assert isinstance(result, Rejected)
    assert result.reason is Reason.MISSING_COMPONENT


# --- draft-cavage-http-signatures-12, Appendix C: the "Test" key (1024-bit RSA) ---
CAVAGE_PUBLIC = b"""-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCFENGw33yGihy92pDjZQhl0C3
6rPJj+CvfSC8+q28hxA161QFNUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6
Z4UMR7EOcpfdUE9Hf3m/hs+FUR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJw
oYi+1hqp1fIekaxsyQIDAQAB
-----END PUBLIC KEY-----"""
CAVAGE_PRIVATE = b"""-----BEGIN RSA PRIVATE KEY-----
MIICXgIBAAKBgQDCFENGw33yGihy92pDjZQhl0C36rPJj+CvfSC8+q28hxA161QF
NUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6Z4UMR7EOcpfdUE9Hf3m/hs+F
UR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJwoYi+1hqp1fIekaxsyQIDAQAB
AoGBAJR8ZkCUvx5kzv+utdl7T5MnordT1TvoXXJGXK7ZZ+UuvMNUCdN2QPc4sBiA
QWvLw1cSKt5DsKZ8UETpYPy8pPYnnDEz2dDYiaew9+xEpubyeW2oH4Zx71wqBtOK
kqwrXa/pzdpiucRRjk6vE6YY7EBBs/g7uanVpGibOVAEsqH1AkEA7DkjVH28WDUg
f1nqvfn2Kj6CT7nIcE3jGJsZZ7zlZmBmHFDONMLUrXR/Zm3pR5m0tCmBqa5RK95u
412jt1dPIwJBANJT3v8pnkth48bQo/fKel6uEYyboRtA5/uHuHkZ6FQF7OUkGogc
mSJluOdc5t6hI1VsLn0QZEjQZMEOWr+wKSMCQQCC4kXJEsHAve77oP6HtG/IiEn7
kpyUXRNvFsDE0czpJJBvL/aRFUJxuRK91jhjC68sA7NsKMGg5OXb5I5Jj36xAkEA
gIT7aFOYBFwGgQAQkWNKLvySgKbAZRTeLBacpHMuQdl1DfdntvAyqpAZ0lY0RKmW
G6aFKaqQfOXKCyWoUiVknQJAXrlgySFci/2ueKlIE1QqIiLSZ8V8OlpFLRnb1pzI
7U1yQXnTAEFYM560yJlzUpOb1V4cScGd365tiSMvxLOvTA==
-----END RSA PRIVATE KEY-----"""
# The Appendix C request: POST /foo?param=value&pet=dog
CAVAGE_URL = "https://example.com/foo?param=value&pet=dog"
CAVAGE_BODY = b'{"hello": "world"}'
CAVAGE_HEADERS = {
    "Host": "example.com",
    "Date": "Sun, 05 Jan 2014 21:31:40 GMT",
    "Content-Type": "application/json",
    "Digest": "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
    "Content-Length": "18",
}
CAVAGE_NOW = float(calendar.timegm((2014, 1, 5, 21, 31, 40)))
# C.1 Default Test (no headers parameter: only `date` is signed)
C1_SIGNATURE = (
    "SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttBqtifLN7Sazz6m79cNfwwb8DMJ5cou1s7uEGKKCs+FLEEaDV5lp7"
    "q25WqS+lavg7T8hc0GppauB6hbgEKTwblDHYGEtbGmtdHgVCk9SuS13F0hZ8FD0k/5OxEPXe5WozsbM="
)
# C.2 Basic Test: (request-target) host date
C2_SIGNATURE = (
    "qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HMbe"
    "8VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0="
)
# C.3 All Headers Test. The value published in -12 was computed over the -10 header list
# "(request-target) host date content-type digest content-length" (no (created)/(expires)),
# although -12 prints a list with them; several implementations mark that vector broken.
C3_SIGNATURE = (
    "vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52LaEU"
    "HFv120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE="
)


def _cavage_sign(header: str) -> str:
    private = load_pem_private_key(CAVAGE_PRIVATE, password=None)
    assert isinstance(private, RSAPrivateKey)
    sig = cavage.parse_signature_header(header + ',signature=""')
    text = cavage.signing_string(
        sig, "POST", split_url(CAVAGE_URL).path_query, lower_headers(CAVAGE_HEADERS)
    )
    return base64.b64encode(private.sign(text.encode(), cavage._PKCS1, cavage._SHA256)).decode()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ('keyId="Test",algorithm="rsa-sha256"', C1_SIGNATURE),
        ('keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date"', C2_SIGNATURE),
        (
            'keyId="Test",algorithm="rsa-sha256",'
            'headers="(request-target) host date content-type digest content-length"',
            C3_SIGNATURE,
        ),
    ],
    ids=["C.1", "C.2", "C.3"],
)
def test_cavage_appendix_c_signatures_reproduced_exactly(params: str, expected: str) -> None:
    assert _cavage_sign(params) == expected


async def test_cavage_c3_passes_the_full_policy_and_c1_does_not() -> None:
    resolver = _resolver(CAVAGE_PUBLIC, "Test")
    c3 = (
        'keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date content-type '
        f'digest content-length",signature="{C3_SIGNATURE}"'
    )
    req = SignedRequest("POST", CAVAGE_URL, dict(CAVAGE_HEADERS, Signature=c3), CAVAGE_BODY)
    assert await verify_request(req, resolver, CAVAGE_NOW) == Verified(
        "Test", "https://example.com/actor", "cavage"
    )
    assert check_digest(CAVAGE_HEADERS["Digest"], CAVAGE_BODY) is None
    c1 = f'keyId="Test",algorithm="rsa-sha256",signature="{C1_SIGNATURE}"'
    req = SignedRequest("POST", CAVAGE_URL, dict(CAVAGE_HEADERS, Signature=c1), CAVAGE_BODY)
    result = await verify_request(req, resolver, CAVAGE_NOW)
    assert isinstance(result, Rejected) and result.reason is Reason.MISSING_COMPONENT


# --- Mastodon spec/requests/signature_verification_spec.rb ---
MASTODON_PRIVATE = b"""-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAqIAYvNFGbZ5g4iiK6feSdXD4bDStFM58A7tHycYXaYtzZQpI
eHXAmaXuZzXIwtrP4N0gIk8JNwZvXj2UPS+S07t0V9wNK94he01LV5EMz/GN4eNn
FmDL64HIEuKLvV8TvgjbUPRD6Y5X0UpKi2ZIFLSb96Q5w0Z/k7ntpVKV52y8kz5F
jr/O/0JuHryZe0yItzJh8kzFfeMf0EXzfSnaKvT7P9jhgC6uTre+jXyvVZjiHDrn
qvvucdI3I7DRfXo1OqARBrLjy+TdseUAjNYJ+OuPRI1URIWQI01DCHqcohVu9+Ar
+BiCjFp3ua+XMuJvrvbD61d1Fvig/9nbBRR+8QIDAQABAoIBAAgySHnFWI6gItR3
fkfiqIm80cHCN3Xk1C6iiVu+3oBOZbHpW9R7vl9e/WOA/9O+LPjiSsQOegtWnVvd
RRjrl7Hj20VDlZKv5Mssm6zOGAxksrcVbqwdj+fUJaNJCL0AyyseH0x/IE9T8rDC
I1GH+3tB3JkhkIN/qjipdX5ab8MswEPu8IC4ViTpdBgWYY/xBcAHPw4xuL0tcwzh
FBlf4DqoEVQo8GdK5GAJ2Ny0S4xbXHUURzx/R4y4CCts7niAiLGqd9jmLU1kUTMk
QcXfQYK6l+unLc7wDYAz7sFEHh04M48VjWwiIZJnlCqmQbLda7uhhu8zkF1DqZTu
ulWDGQECgYEA0TIAc8BQBVab979DHEEmMdgqBwxLY3OIAk0b+r50h7VBGWCDPRsC
STD73fQY3lNet/7/jgSGwwAlAJ5PpMXxXiZAE3bUwPmHzgF7pvIOOLhA8O07tHSO
L2mvQe6NPzjZ+6iAO2U9PkClxcvGvPx2OBvisfHqZLmxC9PIVxzruQECgYEAzjM6
BTUXa6T/qHvLFbN699BXsUOGmHBGaLRapFDBfVvgZrwqYQcZpBBhesLdGTGSqwE7
gWsITPIJ+Ldo+38oGYyVys+w/V67q6ud7hgSDTW3hSvm+GboCjk6gzxlt9hQ0t9X
8vfDOYhEXvVUJNv3mYO60ENqQhILO4bQ0zi+VfECgYBb/nUccfG+pzunU0Cb6Dp3
qOuydcGhVmj1OhuXxLFSDG84Tazo7juvHA9mp7VX76mzmDuhpHPuxN2AzB2SBEoE
cSW0aYld413JRfWukLuYTc6hJHIhBTCRwRQFFnae2s1hUdQySm8INT2xIc+fxBXo
zrp+Ljg5Wz90SAnN5TX0AQKBgDaatDOq0o/r+tPYLHiLtfWoE4Dau+rkWJDjqdk3
lXWn/e3WyHY3Vh/vQpEqxzgju45TXjmwaVtPATr+/usSykCxzP0PMPR3wMT+Rm1F
rIoY/odij+CaB7qlWwxj0x/zRbwB7x1lZSp4HnrzBpxYL+JUUwVRxPLIKndSBTza
GvVRAoGBAIVBcNcRQYF4fvZjDKAb4fdBsEuHmycqtRCsnkGOz6ebbEQznSaZ0tZE
+JuouZaGjyp8uPjNGD5D7mIGbyoZ3KyG4mTXNxDAGBso1hrNDKGBOrGaPhZx8LgO
4VXJ+ybXrATf4jr8ccZYsZdFpOphPzz+j55Mqg5vac5P1XjmsGTb
-----END RSA PRIVATE KEY-----"""
MASTODON_KEY_ID = "https://remote.domain/users/bob#main-key"
MASTODON_NOW = float(calendar.timegm((2023, 12, 20, 10, 0, 0)))
MASTODON_GET = (
    "Z8ilar3J7bOwqZkMp7sL8sRs4B1FT+UorbmvWoE+A5UeoOJ3KBcUmbsh+k3wQwbP5gMNUrra9rEWabpasZGphLsbDxfb"
    "sWL3Cf0PllAc7c1c7AFEwnewtExI83/qqgEkfWc2z7UDutXc2NfgAx89Ox8DXU/fA2GG0jILjB6UpFyNugkY9rg6oI31"
    "UnvfVi3R7sr3/x8Ea3I9thPvqI2byF6cojknSpDAwYzeKdngX3TAQEGzFHz3SDWwyp3jeMWfwvVVbM38FxhvAnSumw7Y"
    "wWW4L7M7h4M68isLimoT3yfCn2ucBVL5Dz8koBpYf/40w7QidClAwCafZQFC29yDOg=="
)
MASTODON_GET_QUERY = (
    "SDMa4r/DQYMXYxVgYO2yEqGWWUXugKjVuz0I8dniQAk+aunzBaF2aPu+4grBfawAshlx1Xytl8lhb0H2MllEz16/tKY7"
    "rUrb70MK0w8ohXgpb0qs3YvQgdj4X24L1x2MnkFfKHR/J+7TBlnivq0HZqXm8EIkPWLv+eQxu8fbowLwHIVvRd/3t6Fz"
    "vcfsE0UZKkoMEX02542MhwSif6cu7Ec/clsY9qgKahb9JVGOGS1op9Lvg/9y1mc8KCgD83U5IxVygYeYXaVQ6gixA9Ng"
    "ZiTCwEWzHM5ELm7w5hpdLFYxYOHg/3G3fiqJzpzNQAcCD4S4JxfE7hMI0IzVlNLT6A=="
)
MASTODON_POST = (
    "gmhMjgMROGElJU3fpehV2acD5kMHeELi8EFP2UPHOdQ54H0r55AxIpji+J3lPe+N2qSb/4H1KXIh6f0lRu8TGSsu12OQ"
    "mg5hiO8VA9flcA/mh9Lpk+qwlQZIPRqKP9xUEfqD+Z7ti5wPzDKrWAUK/7FIqWgcT/mlqB1R1MGkpMFc/q4CIs2OSNiW"
    "gA4K+Kp21oQxzC2kUuYob04gAZ7cyE/FTia5t08uv6lVYFdRsn4XNPn1MsHgFBwBMRG79ng3SyhoG4PrqBEi5q2IdLq3"
    "zfre/M6He3wlCpyO2VJNdGVoTIzeZ0Zz8jUscPV3XtWUchpGclLGSaKaq/JyNZeiYQ=="
)
MASTODON_DIGEST = "SHA-256=ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw="


def _mastodon_resolver() -> KeyResolver:
    private = load_pem_private_key(MASTODON_PRIVATE, password=None)
    assert isinstance(private, RSAPrivateKey)
    key = private.public_key()

    async def resolve(key_id: str) -> PublicKeyInfo | None:
        if key_id != MASTODON_KEY_ID:
            return None
        return PublicKeyInfo(key_id, "https://remote.domain/users/bob", key)

    return resolve


def _mastodon_request(
    method: str, path: str, signed: str, headers_list: str, body: bytes = b""
) -> SignedRequest:
    header = (
        f'keyId="{MASTODON_KEY_ID}",algorithm="rsa-sha256",headers="{headers_list}",'
        f'signature="{signed}"'
    )
    headers = {"Host": "www.example.com", "Date": "Wed, 20 Dec 2023 10:00:00 GMT"}
    if body:
        headers["Digest"] = MASTODON_DIGEST
    headers["Signature"] = header
    return SignedRequest(method, f"https://www.example.com{path}", headers, body)


@pytest.mark.parametrize(
    ("method", "path", "signed", "headers_list", "body", "ok"),
    [
        ("GET", "/activitypub/success", MASTODON_GET, "date host (request-target)", b"", True),
        (
            "GET",
            "/activitypub/success?foo=42",
            MASTODON_GET_QUERY,
            "date host (request-target)",
            b"",
            True,
        ),
        # the compatibility quirk: a signature over the path without its query (#18638)
        (
            "GET",
            "/activitypub/success?foo=42",
            MASTODON_GET,
            "date host (request-target)",
            b"",
            True,
        ),
        (
            "GET",
            "/activitypub/success?foo=43",
            MASTODON_GET_QUERY,
            "date host (request-target)",
            b"",
            False,
        ),
        (
            "GET",
            "/activitypub/alternative-path",
            MASTODON_GET,
            "date host (request-target)",
            b"",
            False,
        ),
        ("POST", "/activitypub/success", MASTODON_GET, "date host (request-target)", b"", False),
        (
            "POST",
            "/activitypub/success",
            MASTODON_POST,
            "host date digest (request-target)",
            b"Hello world",
            True,
        ),
    ],
    ids=[
        "get",
        "get-query",
        "query-quirk",
        "query-mismatch",
        "path-mismatch",
        "method-mismatch",
        "post-digest",
    ],
)
async def test_mastodon_spec_vectors(
    method: str, path: str, signed: str, headers_list: str, body: bytes, ok: bool
) -> None:
    req = _mastodon_request(method, path, signed, headers_list, body)
    result = await verify_request(req, _mastodon_resolver(), MASTODON_NOW)
    if ok:
        assert result == Verified(MASTODON_KEY_ID, "https://remote.domain/users/bob", "cavage")
    else:
        assert isinstance(result, Rejected) and result.reason is Reason.BAD_SIGNATURE
