"""Block URNs: the global-name scheme (docs/architecture.md, "Global names")."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from federation.errors import UrnError
from federation.urn import (
    MAX_URN_LENGTH,
    BlockUrn,
    decode_local_id,
    encode_local_id,
    normalise,
    normalise_authority,
)

# ---------------------------------------------------------------- strategies

_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,12}[a-z0-9])?", fullmatch=True)
_top_label = st.from_regex(r"[a-z]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
dns_names = st.builds(
    lambda labels, top: ".".join([*labels, top]), st.lists(_label, max_size=3), _top_label
)
hosts = st.one_of(
    dns_names,
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a.compressed}]"),
)
ports = st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}"))
authorities = st.builds(lambda h, p: h + p, hosts, ports)
local_ids = st.text(min_size=1, max_size=60)  # any Unicode (astral too) but lone surrogates


def _case_variant(text: str, data: st.DataObject) -> str:
    flips = data.draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if f else c for c, f in zip(text, flips, strict=True))


# ---------------------------------------------------------------- format and parse


def test_canonical_form_examples() -> None:
    assert str(BlockUrn("Blocks.Example", "abc")) == "urn:block:blocks.example:abc"
    assert str(BlockUrn("blocks.example:8443", "a:b/c d")) == (
        "urn:block:blocks.example:8443:a%3Ab%2Fc%20d"
    )
    assert str(BlockUrn("[::1]:8443", "x")) == "urn:block:[::1]:8443:x"
    assert str(BlockUrn("h.example", "é~_.-")) == "urn:block:h.example:%C3%A9~_.-"
    assert BlockUrn("h.example", "x").format() == "urn:block:h.example:x"


def test_last_colon_splits_authority_from_id() -> None:
    urn = BlockUrn.parse("urn:block:127.0.0.1:8001:a%3Ab")
    assert urn == BlockUrn("127.0.0.1:8001", "a:b")


@given(authorities, local_ids)
def test_format_parse_round_trip(authority: str, local_id: str) -> None:
    urn = BlockUrn(authority, local_id)
    text = str(urn)
    assert BlockUrn.parse(text) == urn
    assert BlockUrn.parse(text).local_id == local_id
    assert text.count(":") == 3 + authority.count(":")  # the id never adds a colon
    assert decode_local_id(encode_local_id(local_id)) == local_id


@given(authorities, local_ids)
def test_url_round_trip(authority: str, local_id: str) -> None:
    urn = BlockUrn(authority, local_id)
    for scheme in ("http", "https"):
        url = urn.to_url(scheme)
        assert url.startswith(f"{scheme}://{urn.authority}/blocks/")
        assert BlockUrn.from_url(url) == urn


def test_to_url_example_and_bad_scheme() -> None:
    urn = BlockUrn("b.example", "a/b")
    assert urn.to_url("https") == "https://b.example/blocks/a%2Fb"
    with pytest.raises(UrnError):
        urn.to_url("ftp")


def test_from_url_accepts_upper_case_scheme_and_literal_sub_delims() -> None:
    assert BlockUrn.from_url("HTTPS://B.Example/blocks/a!b") == BlockUrn("b.example", "a!b")


@pytest.mark.parametrize(
    "url",
    [
        "https://b.example/blocks/",
        "https://b.example/blocks/a/b",
        "https://b.example/blocks/a?x=1",
        "https://b.example/blocks/a#f",
        "https://b.example/block/a",
        "https://b.example/x/blocks/a",
        "ftp://b.example/blocks/a",
        "https://user@b.example/blocks/a",
        "https:///blocks/a",
        "https://b.example:0/blocks/a",
        "https://b.example/blocks/%FF",
        "https://b.example/blocks/" + "a" * MAX_URN_LENGTH,
        "b.example/blocks/a",
        None,
    ],
)
def test_from_url_rejects(url: str) -> None:
    with pytest.raises(UrnError):
        BlockUrn.from_url(url)


# ---------------------------------------------------------------- equivalence


@given(authorities, local_ids, st.data())
def test_equivalent_inputs_normalise_equal(
    authority: str, local_id: str, data: st.DataObject
) -> None:
    canonical = str(BlockUrn(authority, local_id))
    encoded = encode_local_id(local_id)
    # Only the hex digits may change case: the id itself is case-sensitive.
    lower_hex = "%".join(
        part if i == 0 else part[:2].lower() + part[2:] for i, part in enumerate(encoded.split("%"))
    )
    variant = _case_variant(f"urn:block:{authority}", data) + ":" + lower_hex
    assert normalise(variant) == canonical
    assert normalise(canonical) == canonical  # idempotent
    assert normalise(normalise(variant)) == normalise(variant)


def test_unreserved_escapes_and_sub_delims_are_normalised() -> None:
    assert normalise("URN:Block:H.Example:%61b%7e") == "urn:block:h.example:ab~"
    assert normalise("urn:block:h.example:a!b@c/d") == "urn:block:h.example:a%21b%40c%2Fd"
    assert normalise("urn:block:h.example:%c3%a9") == "urn:block:h.example:%C3%A9"
    assert normalise("urn:block:[0:0::1]:1:x") == "urn:block:[::1]:1:x"


def test_equal_values_hash_equal_and_are_frozen() -> None:
    a = BlockUrn.parse("urn:block:H.example:x")
    b = BlockUrn("h.example", "x")
    assert a == b and hash(a) == hash(b)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.local_id = "y"  # type: ignore[misc]


# ---------------------------------------------------------------- authorities


@pytest.mark.parametrize(
    ("given_", "expected"),
    [
        ("Host.Example", "host.example"),
        ("Host.Example:443", "host.example:443"),
        ("127.0.0.1:8001", "127.0.0.1:8001"),
        ("[::1]", "[::1]"),
        ("[2001:DB8::0001]:8443", "[2001:db8::1]:8443"),
        ("localhost", "localhost"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("a-b.example:65535", "a-b.example:65535"),
    ],
)
def test_normalise_authority_accepts(given_: str, expected: str) -> None:
    assert normalise_authority(given_) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "host.example:",
        "host.example:0",
        "host.example:65536",
        "host.example:08443",
        "host.example:x",
        "host.example:80:80",
        "-host.example",
        "host-.example",
        "ho_st.example",
        "host..example",
        "host.example.",
        "a" * 64 + ".example",
        ".".join(["abcdefghi"] * 26),  # 259 characters
        "bücher.example",
        "\u212aexample.com",  # Kelvin sign lower-cases to an ASCII k
        "1.2.3",
        "256.1.1.1",
        "01.2.3.4",
        "::1",
        "[::1",
        "[::1]x",
        "[::1]:0",
        "[fe80::1%eth0]",
        "[1.2.3.4]",
        "[]",
        "user@host.example",
        "host.example/x",
    ],
)
def test_normalise_authority_rejects(bad: str) -> None:
    with pytest.raises(UrnError) as info:
        normalise_authority(bad)
    assert isinstance(info.value, ValueError)  # so pydantic validators report it
    assert "authority" in str(info.value)


def test_normalise_authority_rejects_non_strings() -> None:
    with pytest.raises(UrnError):
        normalise_authority(b"host.example")  # type: ignore[arg-type]


# ---------------------------------------------------------------- malformed URNs


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "urn",
        "urn:block",
        "urn:block:",
        "urn:block:h.example",
        "urn:block:h.example:",
        "urn:blocks:h.example:x",
        "urn:isbn:h.example:x",
        "block:h.example:x",
        "urn:block:h.example:%",
        "urn:block:h.example:%4",
        "urn:block:h.example:%GG",
        "urn:block:h.example:%FF",
        "urn:block:h.example:%C3",
        "urn:block:h.example:a b",
        "urn:block:h.example:a?+r",
        "urn:block:h.example:a?=q",
        "urn:block:h.example:a#f",
        "urn:block:h.example:é",
        "urn:block:h_x.example:a",
        "urn:block:h.example:99999:a",
        "urn:block:[::1:a",
        "urn:block:[::1]",
        "urn:block::a",
        "urn:block:h.example:" + "a" * MAX_URN_LENGTH,
        None,
        42,
        b"urn:block:h.example:a",
    ],
)
def test_parse_rejects(bad: str) -> None:
    with pytest.raises(UrnError):
        BlockUrn.parse(bad)


@given(st.text(max_size=80))
def test_random_text_raises_only_urn_error(text: str) -> None:
    for candidate in (text, "urn:block:" + text, "urn:block:h.example:" + text):
        try:
            BlockUrn.parse(candidate)
        except UrnError:
            pass
        try:
            BlockUrn.from_url("https://" + text)
        except UrnError:
            pass


@given(authorities, local_ids, st.data())
def test_truncated_urns_fail_cleanly(authority: str, local_id: str, data: st.DataObject) -> None:
    text = str(BlockUrn(authority, local_id))
    cut = data.draw(st.integers(0, len(text) - 1))
    try:
        parsed = BlockUrn.parse(text[:cut])
    except UrnError:
        return
    # A prefix can still be a valid URN (a shorter id or port); it must then be a different one.
    assert parsed != BlockUrn(authority, local_id)


@given(st.text(min_size=1, max_size=20).filter(lambda s: not s.isascii()))
def test_bad_percent_and_raw_unicode_in_ids_rejected(raw: str) -> None:
    with pytest.raises(UrnError):
        decode_local_id(raw)


@given(authorities, st.text(max_size=5).filter(lambda s: s.lower() != "block"))
def test_wrong_nid_rejected(authority: str, nid: str) -> None:
    assume(":" not in nid)
    with pytest.raises(UrnError):
        BlockUrn.parse(f"urn:{nid}:{authority}:x")


def test_invalid_local_ids_rejected() -> None:
    for bad in ("", "\ud800x", None):
        with pytest.raises(UrnError):
            encode_local_id(bad)  # type: ignore[arg-type]
        with pytest.raises(UrnError):
            BlockUrn("h.example", bad)  # type: ignore[arg-type]
    with pytest.raises(UrnError):
        decode_local_id("")


# ---------------------------------------------------------------- IPv6 authorities and limits


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("urn:block:[2001:DB8::0001]:8443:x", "urn:block:[2001:db8::1]:8443:x"),
        ("urn:block:[0:0:0:0:0:0:0:1]:x", "urn:block:[::1]:x"),
        ("urn:block:[::FFFF:1.2.3.4]:x", "urn:block:[::ffff:102:304]:x"),
    ],
)
def test_ipv6_authority_has_one_canonical_form(text: str, canonical: str) -> None:
    urn = BlockUrn.parse(text)
    assert str(urn) == normalise(text) == canonical
    host = canonical[len("urn:block:") : canonical.rindex(":")]
    assert urn.to_url("https") == f"https://{host}/blocks/x"
    assert BlockUrn.from_url(f"http://{host}/blocks/x") == urn


@pytest.mark.parametrize(
    "bad", ["[::1", "[::1]]", "[:::1]", "[::1]:", "[::1]:65536", "[v1.x]", "[::1%25eth0]"]
)
def test_malformed_ipv6_authorities_are_refused(bad: str) -> None:
    with pytest.raises(UrnError):
        normalise_authority(bad)


def test_urn_length_limit_is_inclusive() -> None:
    prefix = "urn:block:h.example:"
    longest = prefix + "a" * (MAX_URN_LENGTH - len(prefix))
    assert BlockUrn.parse(longest).local_id == "a" * (MAX_URN_LENGTH - len(prefix))
    with pytest.raises(UrnError, match="longer than 2048"):
        BlockUrn.parse(longest + "a")


def test_block_url_length_limit_is_inclusive() -> None:
    prefix = "https://h.example/blocks/"
    longest = prefix + "a" * (MAX_URN_LENGTH - len(prefix))
    assert BlockUrn.from_url(longest).local_id == "a" * (MAX_URN_LENGTH - len(prefix))
    with pytest.raises(UrnError):
        BlockUrn.from_url(longest + "a")


def test_host_name_limits_are_inclusive() -> None:
    longest_label = "a" * 63
    assert normalise_authority(f"{longest_label}.example") == f"{longest_label}.example"
    longest_name = ".".join(["a" * 63] * 3) + "." + "b" * 61  # 253 characters
    assert normalise_authority(longest_name) == longest_name
    with pytest.raises(UrnError):
        normalise_authority(longest_name + "b")
    assert normalise_authority("h.example:1") == "h.example:1"


# ---------------------------------------------------------------- what an operator is told


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("urn:block:h.example:" + "a" * 2029, "URN longer than 2048 characters"),
        (
            "urn:isbn:" + "x" * 80,
            f"not a block URN (expected 'urn:block:...'): {'urn:isbn:' + 'x' * 55!r}",
        ),
        ("urn:block:" + "x" * 80, f"block URN without a local id: {'urn:block:' + 'x' * 54!r}"),
        (
            "urn:block:h.example:a%2",
            "malformed local id 'a%2': empty, or bad character or %-escape",
        ),
        ("urn:block:h.example:", "malformed local id '': empty, or bad character or %-escape"),
        ("urn:block:h.example:a%FF", "local id 'a%FF' does not decode to UTF-8"),
        ("urn:block:h.example.:a", "bad authority: bad host 'h.example.': not in canonical form"),
    ],
)
def test_a_refused_urn_names_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(UrnError) as info:
        BlockUrn.parse(text)
    assert str(info.value) == message


def test_a_urn_that_is_not_text_is_refused_as_such() -> None:
    with pytest.raises(UrnError) as info:
        BlockUrn.parse(b"urn:block:h.example:a")  # type: ignore[arg-type]
    assert str(info.value) == "a URN must be a string"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (None, "a block URL must be a string of at most 2048 characters"),
        (
            "https://h.example/blocks/" + "a" * 2024,
            "a block URL must be a string of at most 2048 characters",
        ),
        (
            "ftp://h.example/blocks/" + "a" * 80,
            "not a block URL (http(s)://host/blocks/<id>): "
            + repr("ftp://h.example/blocks/" + "a" * 41),
        ),
        ("https://user@h.example/blocks/a", "a block URL must not carry user information"),
        (
            "https://h.example:65536/blocks/a",
            "bad authority: bad host 'h.example:65536': the port must be a number from 1 to 65535",
        ),
    ],
)
def test_a_refused_block_url_names_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(UrnError) as info:
        BlockUrn.from_url(url)
    assert str(info.value) == message


def test_refused_local_ids_and_schemes_name_what_is_wrong() -> None:
    for bad in ("", None):
        with pytest.raises(UrnError) as info:
            encode_local_id(bad)  # type: ignore[arg-type]
        assert str(info.value) == "a block's local id must be a non-empty string"
    with pytest.raises(UrnError) as info:
        encode_local_id("a\ud800")
    assert str(info.value) == "a block's local id must be valid Unicode (no lone surrogates)"
    with pytest.raises(UrnError) as info:
        BlockUrn("h.example", "x").to_url("ftp")
    assert str(info.value) == "unsupported URL scheme 'ftp'"
