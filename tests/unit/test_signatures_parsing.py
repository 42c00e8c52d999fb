"""Header parsing (Signature, Signature-Input), digests and HTTP dates."""

from __future__ import annotations

import base64
import hashlib
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from federation.signatures import (
    Reason,
    check_content_digest,
    check_digest,
    content_digest_header,
    digest_header,
    format_http_date,
    parse_http_date,
    parse_signature,
    parse_signature_header,
    parse_signature_input,
)
from federation.signatures.cavage import _parse_params_fast, _parse_params_slow
from federation.signatures.model import MAX_SIGNATURE_HEADER, Rejection
from federation.signatures.rfc9421 import _slow_input, _slow_parse

SIG = base64.b64encode(b"\x01" * 16).decode()


def rejected(call: object, *args: str) -> Reason:
    with pytest.raises(Rejection) as info:
        call(*args)  # type: ignore[operator]
    return info.value.reason


# --- draft-cavage Signature header ---


def test_cavage_header_quoted_values_commas_unknown_params_and_spacing() -> None:
    header = (
        f' keyId = "https://a.example/u,1#k" , foo="ignored, really" ,algorithm="RSA-SHA256",'
        f'created=1402170695,headers="(request-target) Host  date",signature="{SIG}", bar=baz'
    )
    sig = parse_signature_header(header)
    assert sig.key_id == "https://a.example/u,1#k"
    assert sig.algorithm == "rsa-sha256"
    assert sig.headers == ("(request-target)", "host", "date")
    assert sig.created == "1402170695" and sig.expires is None
    assert sig.signature == b"\x01" * 16


def test_cavage_header_escapes_and_default_headers() -> None:
    sig = parse_signature_header(f'keyId="a\\"b",signature="{SIG}"')
    assert sig.key_id == 'a"b' and sig.headers == ("date",) and sig.algorithm is None
    created = parse_signature_header(f'keyId="k",created=1,signature="{SIG}"')
    assert created.headers == ("(created)",)


@pytest.mark.parametrize(
    "header",
    [
        f'keyId="a",keyId="b",signature="{SIG}"',  # duplicate parameter
        f'keyid="a",KEYID="b",signature="{SIG}"',  # duplicate, case-insensitively
        f'signature="{SIG}"',  # no keyId
        'keyId="a"',  # no signature
        'keyId="a",signature="not base64!"',
        f'keyId="a",signature="{SIG}",headers=""',
        f'keyId="a",signature="{SIG}",headers="date date"',
        f'keyId="a",signature="{SIG}",created=yesterday',
        f'keyId="a" signature="{SIG}"',  # missing comma
        f'keyId="a,signature="{SIG}"',  # unterminated quote
        f'keyId="a",signature="{SIG}",headers="date' + " x" * 5000 + '"',  # over 8 KiB
        "",
    ],
)
def test_cavage_header_malformed(header: str) -> None:
    assert rejected(parse_signature_header, header) is Reason.MALFORMED


def at_length(length: int) -> str:
    """A valid header padded with an unknown parameter to exactly `length` characters."""
    head = f'keyId="a",signature="{SIG}",pad="'
    return head + "x" * (length - len(head) - 1) + '"'


@pytest.mark.parametrize(
    ("header", "detail", "key_id"),
    [
        (at_length(MAX_SIGNATURE_HEADER + 1), "Signature header too long", None),
        (f'signature="{SIG}"', "keyId and signature are required", None),
        (f'keyId="",signature="{SIG}"', "keyId and signature are required", None),
        ('keyId="a"', "keyId and signature are required", None),
        ('keyId="a",signature="AAA"', "signature is not base64", "a"),
        (f'keyId="a",signature="{SIG}",created=yesterday', "created/expires must be numbers", "a"),
        (f'keyId="a",signature="{SIG}",expires=1e9', "created/expires must be numbers", "a"),
        (f'keyId="a",signature="{SIG}",created={"1" * 16}', "created/expires must be numbers", "a"),
        (
            f'keyId="a",signature="{SIG}",expires=1.{"5" * 10}',
            "created/expires must be numbers",
            "a",
        ),
        (f'keyId="a",signature="{SIG}",headers=""', "headers must list distinct components", "a"),
        (
            f'keyId="a",signature="{SIG}",headers="Date date"',
            "headers must list distinct components",
            "a",
        ),
        (f'keyId="a" signature="{SIG}"', "unparsable Signature header", None),
        (f'keyId="a", KeyId="b",signature="{SIG}"', "duplicate parameter keyid", None),
        (f'keyId="a",keyId="b",signature="{SIG}"', "duplicate parameter keyid", None),
    ],
)
def test_cavage_header_refusals_say_what_was_wrong(
    header: str, detail: str, key_id: str | None
) -> None:
    with pytest.raises(Rejection) as info:
        parse_signature_header(header)
    assert (info.value.reason, info.value.detail, info.value.key_id) == (
        Reason.MALFORMED,
        detail,
        key_id,
    )


def test_a_cavage_header_at_the_length_limit_is_read() -> None:
    assert parse_signature_header(at_length(MAX_SIGNATURE_HEADER)).key_id == "a"


def test_cavage_numbers_take_up_to_fifteen_digits_and_nine_decimals() -> None:
    sig = parse_signature_header(
        f'keyId="a",signature="{SIG}",created={"1" * 15},expires=2.{"5" * 9}'
    )
    assert (sig.created, sig.expires) == ("1" * 15, "2." + "5" * 9)


def test_an_empty_algorithm_label_is_no_label() -> None:
    assert parse_signature_header(f'keyId="a",algorithm="",signature="{SIG}"').algorithm is None


def test_the_full_parser_unescapes_and_lower_cases_names() -> None:
    """A space after a comma sends the header to the full parser; it answers as the fast one."""
    sig = parse_signature_header(
        f'KeyId="a\\\\b\\"c" ,  Algorithm=RSA-SHA512 , Headers="(Request-Target) HOST",'
        f'Signature="{SIG}"\t '
    )
    assert (sig.key_id, sig.algorithm, sig.headers, sig.signature) == (
        'a\\b"c',
        "rsa-sha512",
        ("(request-target)", "host"),
        b"\x01" * 16,
    )


cavage_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,8}", fullmatch=True)
cavage_values = st.text(
    st.characters(min_codepoint=32, max_codepoint=126, exclude_characters='"\\')
)
cavage_tokens = st.text(
    st.characters(min_codepoint=33, max_codepoint=126, exclude_characters='",\\')
)


def full_parse(value: str) -> dict[str, str] | None:
    """The regex parser's answer, None when it refuses the header."""
    try:
        return _parse_params_slow(value)
    except Rejection:
        return None


def fast_path_agrees(value: str) -> None:
    fast = _parse_params_fast(value)
    if fast is not None:  # the fast path may pass a header on, but never answer differently
        assert fast == full_parse(value), repr(value)


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(cavage_names, cavage_values | cavage_tokens, st.booleans()),
        min_size=1,
        max_size=6,
        unique_by=lambda param: param[0].lower(),
    )
)
def test_the_form_everyone_sends_takes_the_fast_path(params: list[tuple[str, str, bool]]) -> None:
    """name="value" or name=token, joined by bare commas: parsed without the regex parser,
    to exactly the parameters written (names lower-cased)."""
    quoted = [(n, v, q or not v or any(c in v for c in '", \t')) for n, v, q in params]
    value = ",".join(f'{n}="{v}"' if q else f"{n}={v}" for n, v, q in quoted)
    expected = {n.lower(): v for n, v, _ in quoted}
    assert _parse_params_fast(value) == expected
    assert full_parse(value) == expected


# Pieces of header-shaped text: every character the fast path decides on (separators, quotes,
# escapes, whitespace of every kind, a Kelvin sign that lower-cases to ASCII "k").
CAVAGE_PIECES = [
    "a",
    "B",
    "1",
    "-",
    "=",
    '"',
    ",",
    " ",
    "\t",
    "\\",
    "\n",
    "\xa0",
    "\u212a",
    "a=",
    ',a="',
]


def test_the_fast_path_agrees_with_the_full_parser_on_every_short_header() -> None:
    for length in range(1, 5):
        for pieces in itertools.product(CAVAGE_PIECES, repeat=length):
            fast_path_agrees("".join(pieces))


@settings(max_examples=500)
@given(st.lists(st.sampled_from(CAVAGE_PIECES) | cavage_names | cavage_values, max_size=14))
def test_the_fast_path_agrees_with_the_full_parser_on_header_shaped_text(
    pieces: list[str],
) -> None:
    fast_path_agrees("".join(pieces))


@pytest.mark.parametrize(
    "header",
    [
        'keyId="a",\u212aeyId="b"',  # a Kelvin sign is not the letter K
        "\u212aeyId=a",
        "keyId=a\nb",  # whitespace other than space and tab ends a token
        "keyId=a\xa0b",
        "keyId=a\x0bb",
    ],
)
def test_parameter_names_and_tokens_are_ascii_without_whitespace(header: str) -> None:
    assert full_parse(header) is None
    assert _parse_params_fast(header) is None
    assert rejected(parse_signature_header, header + f',signature="{SIG}"') is Reason.MALFORMED


# --- RFC 9421 Signature-Input / Signature ---


def test_signature_input_fast_path() -> None:
    value = 'sig1=("@method" "@target-uri");created=1;keyid="k, x";alg="ed25519";flag, b=()'
    [first, second] = parse_signature_input(value)
    assert first.label == "sig1" and first.components == ("@method", "@target-uri")
    assert first.params == {"created": 1, "keyid": "k, x", "alg": "ed25519", "flag": True}
    assert first.serialized == '("@method" "@target-uri");created=1;keyid="k, x";alg="ed25519";flag'
    assert second.components == () and second.component_params is None


@pytest.mark.parametrize(
    "value",
    [
        'sig1=("@method"  "@path");created=1;keyid="k"',  # two spaces: non-canonical
        'sig1=( "@method" "@path" );created=01;keyid="k"',
        'sig1=("@method" "@path");created=1;keyid="k\\"q"',
        'sig1=("@method" "@path");created=1;keyid="k";x=?1',
    ],
)
def test_signature_input_slow_path_serializes_canonically(value: str) -> None:
    [sig] = parse_signature_input(value)
    assert sig.components == ("@method", "@path")
    assert sig.serialized.startswith('("@method" "@path");created=1;keyid=')
    assert sig.component_params == ({}, {})


@pytest.mark.parametrize(
    "value",
    [
        'a=("@method");created=1, a=("@path");created=2',  # duplicate label
        'a=("@method");created=1;created=2',  # duplicate parameter
        'a=("@method";created=1',
        "a=1",  # not an inner list
        "a=(1 2);created=1",  # components must be strings
        'a=("@method");keyid="' + "k" * 9000 + '"',
    ],
)
def test_signature_input_malformed(value: str) -> None:
    assert rejected(parse_signature_input, value) is Reason.MALFORMED


def test_empty_signature_input_is_an_empty_dictionary() -> None:
    assert parse_signature_input("") == []


def test_signature_member_parsing() -> None:
    assert parse_signature(f"a=:{SIG}:, b=:{SIG}:") == {"a": b"\x01" * 16, "b": b"\x01" * 16}
    for bad in ("a=:!!:", "a=1", f"a=:{SIG}:, a=:{SIG}:", "a=:AAAA"):
        assert rejected(parse_signature, bad) is Reason.MALFORMED


components = st.lists(
    st.from_regex(r"@?[a-z][a-z0-9-]{0,10}", fullmatch=True), max_size=5, unique=True
)
params = st.fixed_dictionaries(
    {"created": st.integers(0, 2**40)},
    optional={
        "keyid": st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
        "alg": st.sampled_from(["ed25519", "rsa-v1_5-sha256"]),
        "expires": st.integers(-5, 2**40),
    },
)


@settings(max_examples=200)
@given(label=st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True), names=components, values=params)
def test_fast_and_full_parsers_agree(
    label: str, names: list[str], values: dict[str, object]
) -> None:
    inner = " ".join(f'"{n}"' for n in names)
    rendered = "".join(
        f';{k}="' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, str)
        else f";{k}={v}"
        for k, v in values.items()
    )
    value = f"{label}=({inner}){rendered}"
    [fast] = parse_signature_input(value)
    slow = _slow_input(label, _slow_parse(value)[label])
    assert (fast.label, fast.components, fast.params, fast.serialized) == (
        slow.label,
        slow.components,
        slow.params,
        slow.serialized,
    )


# --- digests ---


def test_digest_forms() -> None:
    body = b'{"hello": "world"}'
    assert digest_header(body) == "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
    assert check_digest(digest_header(body), body) is None
    assert check_digest("sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", body) is None
    sha512 = base64.b64encode(hashlib.sha512(body).digest()).decode()
    both = f"SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=, SHA-512={sha512}"
    assert check_digest(both, body) is None
    assert check_digest(f"MD5=abcd, SHA-512={sha512}", body) is None
    assert check_digest(digest_header(body), body + b"!") is Reason.DIGEST_MISMATCH
    assert (
        check_digest("SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=, SHA-512=AAAA", body)
        is Reason.DIGEST_MISMATCH
    )
    assert check_digest("MD5=Sd/dVLAcvNLSq16eXua5uQ==", body) is Reason.UNSUPPORTED_ALGORITHM
    assert check_digest("SHA-256", body) is Reason.MALFORMED
    assert check_digest("SHA-256=***", body) is Reason.MALFORMED


def test_content_digest_forms() -> None:
    body = b'{"hello": "world"}'
    assert check_content_digest(content_digest_header(body), body) is None
    assert check_content_digest(content_digest_header(body, "sha-512"), body) is None
    assert content_digest_header(body, "sha-512") == (
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"
    )
    combined = f"{content_digest_header(body)},{content_digest_header(body, 'sha-512')}"
    assert check_content_digest(combined, body) is None
    with_unknown = f"md5=:AAAA:;p=1, {content_digest_header(body)}"  # via the full parser
    assert check_content_digest(with_unknown, body) is None
    assert check_content_digest(content_digest_header(body), b"") is Reason.DIGEST_MISMATCH
    assert check_content_digest("md5=:AAAA:", body) is Reason.UNSUPPORTED_ALGORITHM
    assert check_content_digest("sha-256=AAAA", body) is Reason.MALFORMED
    assert check_content_digest("sha-256=:AAAA:, sha-256=:AAAA:", body) is Reason.MALFORMED


# --- HTTP dates ---


def test_http_dates() -> None:
    assert format_http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777.0
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == 784111777.0  # RFC 850
    assert parse_http_date("Sun Nov  6 08:49:37 1994") == 784111777.0  # asctime
    assert parse_http_date("Sun, 06 Xyz 1994 08:49:37 GMT") is None
    assert parse_http_date("wrong date") is None


@given(st.integers(0, 2**33))
def test_http_date_round_trip(seconds: int) -> None:
    assert parse_http_date(format_http_date(seconds)) == seconds


def test_a_rejection_reads_as_what_was_wrong() -> None:
    """Should one ever reach a log or a traceback, it says why, as a refused peer is told."""
    assert str(Rejection(Reason.MALFORMED, "keyId and signature are required", "k")) == (
        "keyId and signature are required"
    )
