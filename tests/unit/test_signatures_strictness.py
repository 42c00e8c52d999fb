"""Parsers refuse rather than repair: base64 with stray characters, repeated labels on either
parsing path, impossible dates. A value that only parses after guessing is not the value that
was signed."""

from __future__ import annotations

import base64
import hashlib

import pytest

from federation.signatures import (
    Reason,
    check_content_digest,
    check_digest,
    parse_http_date,
    parse_signature,
    parse_signature_header,
    parse_signature_input,
)
from federation.signatures.model import Rejection

BODY = b'{"hello": "world"}'
SHA256 = base64.b64encode(hashlib.sha256(BODY).digest()).decode()  # 44 characters, one "="
SIG = base64.b64encode(b"\x01" * 16).decode()  # "AQEBAQEBAQEBAQEBAQEBAQ=="


def reason_of(call: object, value: str) -> Reason:
    with pytest.raises(Rejection) as info:
        call(value)  # type: ignore[operator]
    return info.value.reason


def with_stray(encoded: str, stray: str = "*") -> str:
    return f"{encoded[:4]}{stray}{encoded[4:]}"


# --- base64 ---


@pytest.mark.parametrize("stray", ["*", " ", "-", "."])
def test_cavage_signature_with_a_non_base64_character_is_malformed(stray: str) -> None:
    header = f'keyId="k",signature="{with_stray(SIG, stray)}"'
    assert reason_of(parse_signature_header, header) is Reason.MALFORMED


def detail_of(call: object, value: str) -> str:
    with pytest.raises(Rejection) as info:
        call(value)  # type: ignore[operator]
    assert info.value.reason is Reason.MALFORMED
    return info.value.detail


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("a=:AAA==:", "Signature is not base64"),
        ("a=:=:", "Signature is not base64"),
        (f"a=:{SIG}=:", "invalid structured field"),  # not even a byte sequence
    ],
)
def test_rfc9421_signature_with_excess_padding_is_malformed(value: str, detail: str) -> None:
    assert detail_of(parse_signature, value) == detail


@pytest.mark.parametrize(
    "value",
    [
        f"SHA-256={with_stray(SHA256)}",
        f"SHA-256={with_stray(SHA256, ' ')}",
        f"SHA-256={SHA256}=",  # excess padding
        f"sha-256={with_stray(SHA256)}, MD5=AAAA",
    ],
)
def test_digest_with_non_base64_characters_is_malformed(value: str) -> None:
    assert check_digest(value, BODY) is Reason.MALFORMED


@pytest.mark.parametrize(
    "value",
    [
        f"sha-256=:{SHA256}=:",  # excess padding
        f"sha-256=:{SHA256[:4]}={SHA256[4:]}:",  # padding inside
    ],
)
def test_content_digest_with_bad_base64_is_malformed(value: str) -> None:
    assert check_content_digest(value, BODY) is Reason.MALFORMED


# --- repeated labels and keys, on the fast and the full parsing path ---


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ('a=("@method");created=1, a=("@path");created=2', "duplicate signature label"),  # fast
        ('a=( "@method" );created=1, a=("@path");created=2', "invalid structured field"),  # full
    ],
)
def test_signature_input_with_a_repeated_label_is_malformed(value: str, detail: str) -> None:
    assert detail_of(parse_signature_input, value) == detail


@pytest.mark.parametrize(
    "value",
    [f"a=:{SIG}:, a=:{SIG}:", f"a=:{SIG}:;p=1, a=:{SIG}:"],
    ids=["fast", "full"],
)
def test_signature_with_a_repeated_label_is_malformed(value: str) -> None:
    assert reason_of(parse_signature, value) is Reason.MALFORMED


def test_signature_header_of_8192_characters_is_read_and_one_more_is_refused() -> None:
    longest = "a=:" + "A" * 8188 + ":"
    assert len(longest) == 8192 and parse_signature(longest) == {"a": bytes(6141)}
    assert detail_of(parse_signature, longest[:3] + "AAAA" + longest[3:]) == (
        "signature header too long"
    )
    assert detail_of(parse_signature_input, "a=()" + ";n" * 4095) == "signature header too long"


@pytest.mark.parametrize("value", ["a=?1", 'a=("@method" 1)', "a=:AAAA:"])
def test_signature_input_members_must_list_strings(value: str) -> None:
    assert detail_of(parse_signature_input, value) == "Signature-Input members must list strings"


def test_content_digest_with_a_repeated_algorithm_is_malformed_on_the_full_path() -> None:
    value = f"sha-256=:{SHA256}:;p=1, sha-256=:{SHA256}:"
    assert check_content_digest(value, BODY) is Reason.MALFORMED


def test_full_parser_reads_what_the_fast_path_cannot() -> None:
    assert parse_signature(f"a=:{SIG}:;p=1") == {"a": b"\x01" * 16}
    assert parse_signature(f"a=:{SIG}:;p=1,\tb=:AQEB:") == {"a": b"\x01" * 16, "b": b"\x01\x01\x01"}
    [first, second] = parse_signature_input('a=( "@method" );created=1, b=("@path");created=2')
    assert (first.label, first.components, first.params) == ("a", ("@method",), {"created": 1})
    assert (second.label, second.components, second.params) == ("b", ("@path",), {"created": 2})
    assert first.serialized == '("@method");created=1'


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        (f"a=:{SIG}:;p=1, b=?1", "Signature members must be byte sequences"),
        (f"a=:{SIG}:;p=1, b=abc", "Signature members must be byte sequences"),
        (f"a=:{SIG}:,", "invalid structured field"),
        (f"a=:{SIG}:, ", "invalid structured field"),
    ],
)
def test_signature_members_must_be_byte_sequences(value: str, detail: str) -> None:
    assert detail_of(parse_signature, value) == detail


def test_signature_input_parameter_values_keep_their_type() -> None:
    """Integers (negative ones too), strings, tokens and bare flags, as RFC 8941 types them."""
    [sig] = parse_signature_input('a=("@method");created=-5;nonce="n";tag=abc;x;expires=0')
    assert sig.params == {"created": -5, "nonce": "n", "tag": "abc", "x": True, "expires": 0}
    assert [type(v).__name__ for v in sig.params.values()] == ["int", "str", "Token", "bool", "int"]


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ('a=("@method");created=1;created=2', "duplicate parameter created"),  # fast path
        ('a=("@method";x);created=1;created=2', "invalid structured field"),  # full parser
    ],
)
def test_signature_input_with_a_repeated_parameter_is_malformed(value: str, detail: str) -> None:
    assert detail_of(parse_signature_input, value) == detail


# --- HTTP dates ---


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 09:49:37 +0100",  # an hour east of GMT: an hour earlier in GMT
        "Sun, 06 Nov 1994 07:49:37 -0100",
        "Sun, 06 Nov 1994 03:49:37 EST",
        "Sunday, 06-Nov-94 08:49:37 GMT",
    ],
)
def test_obsolete_dates_apply_their_zone_offset(value: str) -> None:
    assert parse_http_date(value) == 784111777.0  # Sun, 06 Nov 1994 08:49:37 GMT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Sat, 01 Jan 2000 00:00:00 GMT", 946684800.0),
        ("Tue, 29 Feb 2000 23:59:59 GMT", 951868799.0),
        ("Sun, 31 Dec 2000 23:59:59 GMT", 978307199.0),
        ("Sat, 31 Dec 2016 23:59:60 GMT", 1483228800.0),  # a leap second
    ],
)
def test_imf_fixdate_field_edges(value: str, expected: float) -> None:
    assert parse_http_date(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 23:60:00 GMT",
        "Sun, 06 Nov 1994 23:59:61 GMT",
    ],
)
def test_impossible_dates_are_refused(value: str) -> None:
    assert parse_http_date(value) is None
