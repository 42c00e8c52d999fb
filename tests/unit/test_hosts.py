"""One Host for every spelling of a host, and one coverage rule for blocks and the allowlist."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from federation.errors import HostError
from federation.hosts import Host, host_key, host_of, is_on, normalise_host

# ---------------------------------------------------------------- strategies

# Letters whose upper case maps back to them under UTS 46 (not "ß", whose upper case is "SS").
_LETTERS = "abcdefghijklmnopqrstuvwxyzäöüéñçåø"
_unicode_label = st.text(alphabet=_LETTERS + "0123456789", min_size=1, max_size=12).filter(
    lambda label: not label.isdigit()
)
_top_label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=6)
unicode_names = st.builds(
    lambda labels, top: ".".join([*labels, top]),
    st.lists(_unicode_label, min_size=1, max_size=3),
    _top_label,
)
schemes = st.sampled_from(["http", "https"])
ports = st.one_of(st.none(), st.integers(1, 65535))


def _a_labels(name: str) -> str:
    return name.encode("idna").decode("ascii") if not name.isascii() else name


def _flip_case(text: str, data: st.DataObject) -> str:
    flips = data.draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if f else c for c, f in zip(text, flips, strict=True))


def _port_suffix(scheme: str, port: int | None, data: st.DataObject) -> str:
    """The port as written: nothing, or the scheme's default spelled out, or a real port."""
    if port is None:
        return data.draw(st.sampled_from(["", f":{443 if scheme == 'https' else 80}"]))
    return f":{port}"


@st.composite
def dns_spellings(draw: st.DrawFn) -> tuple[str, int | None, str, str]:
    """(unicode name, port, scheme, one spelling of its URL's authority)."""
    name = draw(unicode_names)
    port, scheme = draw(ports), draw(schemes)
    data = draw(st.data())
    written = draw(st.sampled_from([name, _a_labels(name)]))
    written = _flip_case(written, data) + draw(st.sampled_from(["", "."]))
    return name, port, scheme, written + _port_suffix(scheme, port, data)


@st.composite
def ipv6_spellings(draw: st.DrawFn) -> tuple[ipaddress.IPv6Address, int | None, str, str]:
    address = draw(st.ip_addresses(v=6))
    assert isinstance(address, ipaddress.IPv6Address)
    port, scheme = draw(ports), draw(schemes)
    data = draw(st.data())
    text = draw(st.sampled_from([address.compressed, address.exploded]))
    return address, port, scheme, f"[{_flip_case(text, data)}]" + _port_suffix(scheme, port, data)


# ---------------------------------------------------------------- one Host per host


@given(dns_spellings())
def test_every_spelling_of_a_dns_host_is_one_host(
    spelled: tuple[str, int | None, str, str],
) -> None:
    name, port, scheme, authority = spelled
    default = 443 if scheme == "https" else 80
    expected = Host(name=_a_labels(name).lower(), port=None if port == default else port)
    assert Host.parse(authority, scheme) == expected
    assert Host.of_url(f"{scheme}://{authority}/actor") == expected
    assert Host.parse(str(expected)) == Host.parse(authority, scheme)  # str() round-trips


@given(ipv6_spellings())
def test_every_spelling_of_an_ipv6_host_is_one_host(
    spelled: tuple[ipaddress.IPv6Address, int | None, str, str],
) -> None:
    address, port, scheme, authority = spelled
    host = Host.of_url(f"{scheme}://{authority}/inbox")
    assert host.name == address.compressed
    assert str(host).startswith(f"[{address.compressed}]")
    default = 443 if scheme == "https" else 80
    assert host.port == (None if port == default else port)


@pytest.mark.parametrize(
    "url",
    [
        "https://bücher.example/actor",
        "https://BÜCHER.example./actor",
        "https://xn--bcher-kva.example:443/actor",
        "https://XN--BCHER-KVA.EXAMPLE/actor",
        "https://user@xn--bcher-kva.example/actor",
    ],
)
def test_examples_of_one_host(url: str) -> None:
    assert Host.of_url(url) == Host(name="xn--bcher-kva.example")
    assert str(Host.of_url(url)) == "xn--bcher-kva.example"


def test_a_default_port_is_elided_only_for_its_own_scheme() -> None:
    assert str(Host.of_url("http://a.example:80/")) == "a.example"
    assert str(Host.of_url("http://a.example:443/")) == "a.example:443"
    assert str(Host.of_url("https://a.example:80/")) == "a.example:80"
    assert str(Host.parse("a.example:443")) == "a.example:443"  # no scheme: nothing elided


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "host..example",
        "-a.example",
        "a.example:0",
        "a.example:x",
        "a.example:65536",
        "[::1",
        "[fe80::1%eth0]",
        "1.2.3",
        "ho_st.example",
        "a" * 64 + ".example",
        "[::1]x",
        "bad­label‍.example",
    ],
)
def test_malformed_hosts_are_refused(bad: str) -> None:
    with pytest.raises(HostError):
        Host.parse(bad)


def test_host_of_answers_none_for_urls_without_a_host() -> None:
    assert host_of("http://[x") is None
    assert host_of("/relative") is None
    assert host_of("https://ho_st.example/") is None


def test_canonical_refuses_unicode_and_trailing_dots() -> None:
    assert Host.canonical("Host.Example:8443") == Host(name="host.example", port=8443)
    for bad in ("bücher.example", "host.example.", "host.example:08443"):
        with pytest.raises(HostError):
            Host.canonical(bad)


# ---------------------------------------------------------------- blocks and the allowlist


@given(dns_spellings(), st.sampled_from(["", "sub.", "a.b."]), st.data())
def test_an_entry_holds_for_every_spelling(
    spelled: tuple[str, int | None, str, str], prefix: str, data: st.DataObject
) -> None:
    name, _, scheme, authority = spelled
    entry_text = data.draw(st.sampled_from([name, _a_labels(name)]))
    entry = Host.parse(_flip_case(entry_text, data) + data.draw(st.sampled_from(["", "."])))
    host = Host.of_url(f"{scheme}://{prefix}{authority}/actor")
    assert entry.covers(host)
    assert entry in host.entries_covering()  # the stored-entry lookup finds it too


@given(dns_spellings())
def test_an_entry_with_a_port_names_that_authority(
    spelled: tuple[str, int | None, str, str],
) -> None:
    name, port, scheme, authority = spelled
    host = Host.of_url(f"{scheme}://{authority}/")
    other = 8443 if port != 8443 else 8444
    assert not Host.parse(f"{name}:{other}").covers(host)
    if port is not None:
        assert Host.parse(f"{name}:{port}").covers(host)
        assert Host.parse(f"{name}:{port}") in host.entries_covering()


def test_a_default_port_entry_covers_the_host_with_its_port_elided() -> None:
    host = Host.of_url("https://a.example/actor")
    assert Host.parse("a.example:443").covers(host)
    assert Host.parse("a.example:443") in host.entries_covering()


def test_entries_never_cover_a_sibling_or_a_bare_top_label() -> None:
    host = Host.of_url("https://x.a.example:1/")
    assert not Host.parse("nota.example").covers(Host.parse("a.example"))
    assert Host(name="example") not in host.entries_covering()
    assert not Host.parse("0.0.0.1").covers(Host.parse("10.0.0.1"))


def test_entries_covering_lists_each_entry_once() -> None:
    def entries(authority: str) -> list[str]:
        return sorted(map(str, Host.parse(authority).entries_covering()))

    assert entries("x.a.example") == [
        "a.example",
        "x.a.example",
        "x.a.example:443",
        "x.a.example:80",
    ]
    assert entries("x.a.example:8443") == ["a.example", "x.a.example", "x.a.example:8443"]
    assert entries("10.0.0.1") == ["10.0.0.1", "10.0.0.1:443", "10.0.0.1:80"]


# ---------------------------------------------------------------- per-host keys and origins


def test_host_key_is_the_host_as_text_or_empty() -> None:
    assert host_key("https://B.Example:443/inbox") == "b.example"
    assert host_key("http://[0:0::1]:8080/inbox") == "[::1]:8080"
    assert host_key("/inbox") == ""
    assert host_key("https://ho_st.example/inbox") == ""


def test_is_on_implies_the_default_port_of_the_urls_scheme() -> None:
    assert is_on("https://b.example/blocks/x", "b.example")
    assert is_on("https://B.example:443/blocks/x", "b.example")
    assert is_on("https://b.example/blocks/x", "b.example:443")
    assert is_on("HTTP://b.example/blocks/x", "b.example:80")
    assert is_on("https://b.example:8443/blocks/x", "b.example:8443")
    assert not is_on("http://b.example/blocks/x", "b.example:443")
    assert not is_on("https://b.example:8443/blocks/x", "b.example")
    assert not is_on("https://c.example/blocks/x", "b.example")
    assert not is_on("https://b.example.c.example/blocks/x", "b.example")


def test_is_on_is_false_when_either_host_is_malformed() -> None:
    assert not is_on("/blocks/x", "b.example")
    assert not is_on("https://ho_st.example/blocks/x", "ho_st.example")
    assert not is_on("https://b.example/blocks/x", "b.example:0")
    assert not is_on("https://b.example/blocks/x", "")


def test_normalise_host_stores_one_spelling() -> None:
    assert normalise_host("  B\u00dcCHER.Example.:8443 ") == "xn--bcher-kva.example:8443"
    assert normalise_host("[2001:DB8::0001]") == "[2001:db8::1]"
    assert normalise_host("b.example:443") == "b.example:443"  # no scheme: the port is kept


# ---------------------------------------------------------------- what an operator is told


@pytest.mark.parametrize(
    ("authority", "message"),
    [
        ("", "bad host '': empty or too long"),
        ("a.example:0", "bad host 'a.example:0': the port must be a number from 1 to 65535"),
        ("1.2.3", "bad host '1.2.3': not an IPv4 address"),
        (
            "ho_st.example.",
            "bad host 'ho_st.example': not a DNS host name "
            "(letters, digits and inner hyphens, labels of 1 to 63 characters)",
        ),
        ("[::1%eth0]", "bad host: '[::1%eth0]' is not a bracketed IPv6 address"),
        ("[::1", "bad host '[::1': unclosed IPv6 bracket"),
        ("[::1]x", "bad host '[::1]x': text after the IPv6 address"),
        ("[::1]]", "bad host '[::1]]': text after the IPv6 address"),
    ],
)
def test_a_refusal_names_the_host_and_what_is_wrong(authority: str, message: str) -> None:
    with pytest.raises(HostError) as info:
        Host.parse(authority)
    assert str(info.value) == message


def test_a_refused_internationalised_name_says_why() -> None:
    name = "a\u00ad\u200db.example"  # a joiner where IDNA allows none
    with pytest.raises(HostError) as info:
        Host.parse(name)
    assert str(info.value).startswith(f"bad host {name!r}: not an internationalised host name (")


def test_canonical_refusals_name_what_is_wrong() -> None:
    with pytest.raises(HostError) as info:
        Host.canonical("b\u00fccher.example")
    assert str(info.value) == (
        "bad host 'b\u00fccher.example': internationalised names must be in xn-- form"
    )
    with pytest.raises(HostError) as info:
        Host.canonical("host.example:08443")
    assert str(info.value) == "bad host 'host.example:08443': not in canonical form"


def test_non_strings_are_refused_with_a_message() -> None:
    for parse in (Host.parse, Host.canonical):
        with pytest.raises(HostError) as info:
            parse(b"b.example")  # type: ignore[arg-type]
        assert str(info.value) == "a host must be a string"
    with pytest.raises(HostError) as info:
        Host.of_url(b"https://b.example/")  # type: ignore[arg-type]
    assert str(info.value) == "a URL must be a string"


def test_a_refused_url_is_quoted_up_to_64_characters() -> None:
    tail = "x" * 100
    with pytest.raises(HostError) as info:
        Host.of_url("http://[x/" + tail)
    assert str(info.value) == f"unparsable URL {('http://[x/' + tail)[:64]!r}"
    with pytest.raises(HostError) as info:
        Host.of_url("/relative/" + tail)
    assert str(info.value) == f"URL without a host: {('/relative/' + tail)[:64]!r}"


def test_an_authority_longer_than_260_characters_is_refused() -> None:
    """A long run of zeros in the port still parses as a small number: only the length cap
    refuses it, whatever the name and port would say."""
    longest = "a.example:" + "0" * 249 + "1"  # 260 characters
    assert Host.parse(longest) == Host(name="a.example", port=1)
    too_long = "a.example:" + "0" * 250 + "1"
    with pytest.raises(HostError) as info:
        Host.parse(too_long)
    assert str(info.value) == f"bad host {too_long[:64]!r}: empty or too long"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\uff12", "bad host '2': not an IPv4 address"),  # fullwidth 2
        ("a.\uff12", "bad host 'a.2': not an IPv4 address"),
        ("\u00b9", "bad host '1': not an IPv4 address"),  # superscript 1
    ],
)
def test_a_name_mapped_to_ascii_digits_meets_the_ascii_rules(text: str, expected: str) -> None:
    """UTS 46 maps these to ASCII digits: an all-numeric top label is only an IPv4 address, so
    they are refused, never kept as a host that prints as something that does not parse."""
    with pytest.raises(HostError) as caught:
        Host.parse(text)
    assert str(caught.value) == expected


def test_fullwidth_digits_spell_an_ipv4_address() -> None:
    host = Host.parse("\uff11.\uff12.\uff13.\uff14")
    assert str(host) == "1.2.3.4" and Host.parse(str(host)) == host
