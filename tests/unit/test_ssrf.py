"""The SSRF guard: address policy, URL vetting, and refusal at connect time (no connection made)."""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from yarl import URL

from federation.config import Settings, load_settings
from federation.errors import ConfigError, TransportError
from federation.http.ssrf import (
    AddressPolicy,
    ConnectRefused,
    SsrfRefused,
    check_url,
    embedded_ipv4,
    refusal_in,
)
from federation.http.transport import make_session

NOT_PUBLIC = [
    "127.0.0.1",
    "127.0.0.2",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "224.0.0.1",  # multicast: Python calls it global
    "::1",
    "::",
    "fe80::1",
    "fe80::1%eth0",
    "fc00::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1: Python calls it global
    "2002:a00:1::",  # 6to4 of 10.0.0.1: Python calls it global
    "ff02::1",
    "not-an-ip",
]
PUBLIC = ["8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("ip", NOT_PUBLIC)
def test_non_public_addresses_are_refused(ip: str) -> None:
    with pytest.raises(SsrfRefused) as info:
        AddressPolicy([]).check(ip)
    assert info.value.address == ip
    assert isinstance(info.value, TransportError)


@pytest.mark.parametrize("ip", PUBLIC)
def test_public_addresses_pass(ip: str) -> None:
    AddressPolicy([]).check(ip)  # only the check: nothing is sent anywhere


def test_allowed_entries_are_exact_ips_or_cidrs() -> None:
    policy = AddressPolicy(["127.0.0.1", "10.0.0.0/8"])
    policy.check("127.0.0.1")
    policy.check("::ffff:127.0.0.1")  # the mapped form of an allowed address
    policy.check("10.20.30.40")
    for ip in ("127.0.0.2", "::1", "169.254.169.254", "192.168.0.1"):
        with pytest.raises(SsrfRefused):
            policy.check(ip)


def test_allowed_cidr_with_host_bits_covers_its_network() -> None:
    policy = AddressPolicy([" 10.1.2.3/8 ", "fd00::1/64"])  # as people write them
    policy.check("10.200.0.1")
    policy.check("fd00::ffff")
    for ip in ("172.16.0.1", "fd00:0:0:1::1"):
        with pytest.raises(SsrfRefused):
            policy.check(ip)


def test_allowed_ipv6_scope_is_checked_without_its_zone() -> None:
    AddressPolicy(["fe80::/10"]).check("fe80::1%eth0")


def test_what_is_not_an_address_is_refused_by_name() -> None:
    with pytest.raises(SsrfRefused) as info:
        AddressPolicy([]).check("example.com")
    assert (info.value.reason, info.value.address) == (
        "not an IP address: 'example.com'",
        "example.com",
    )


def test_embedded_address_alone_is_refused_or_allowed() -> None:
    # NAT64 of 10.0.0.1: the IPv6 address itself looks public; what it reaches does not.
    with pytest.raises(SsrfRefused):
        AddressPolicy([]).check("64:ff9b::a00:1")
    AddressPolicy(["10.0.0.0/8"]).check("64:ff9b::a00:1")
    AddressPolicy(["64:ff9b::/96"]).check("64:ff9b::a00:1")  # listed as itself


def test_refusal_carries_the_reason_and_address() -> None:
    with pytest.raises(SsrfRefused) as info:
        AddressPolicy([]).check("10.0.0.1")
    assert (info.value.reason, info.value.address) == (
        "address 10.0.0.1 is not public and not allowed",
        "10.0.0.1",
    )
    assert str(info.value) == info.value.reason


def test_a_bad_allowed_entry_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not-a-net"):
        AddressPolicy(["not-a-net"])


def test_embedded_ipv4_covers_mapped_6to4_and_nat64() -> None:
    import ipaddress

    ten = ipaddress.IPv4Address("10.0.0.1")
    for v6 in ("::ffff:10.0.0.1", "2002:a00:1::", "64:ff9b::a00:1"):
        assert embedded_ipv4(ipaddress.ip_address(v6)) == ten
    assert embedded_ipv4(ipaddress.ip_address("2606:4700::1111")) is None
    assert embedded_ipv4(ten) is None


def test_socket_factory_refuses_before_a_socket_exists() -> None:
    policy = AddressPolicy(["127.0.0.1"])
    info = (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("169.254.169.254", 80))
    with pytest.raises(ConnectRefused) as caught:
        policy.socket_factory(info)
    assert isinstance(caught.value, OSError)  # so aiohttp treats it as a failed connect
    assert caught.value.refusal.address == "169.254.169.254"
    ok = policy.socket_factory((socket.AF_INET, socket.SOCK_STREAM, 0, "", ("127.0.0.1", 80)))
    assert (ok.family, ok.type) == (socket.AF_INET, socket.SOCK_STREAM)
    ok.close()


def test_socket_factory_checks_and_opens_ipv6_sockets() -> None:
    policy = AddressPolicy(["::1"])
    info6 = (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("::1", 80, 0, 0))
    sock = policy.socket_factory(info6)
    assert (sock.family, sock.type, sock.proto) == (
        socket.AF_INET6,
        socket.SOCK_STREAM,
        socket.IPPROTO_TCP,
    )
    sock.close()
    refused = (socket.AF_INET6, socket.SOCK_STREAM, 0, "", ("fc00::1", 80, 0, 0))
    with pytest.raises(ConnectRefused) as caught:
        policy.socket_factory(refused)
    assert caught.value.refusal.address == "fc00::1"
    # One errno and message for every address: aiohappyeyeballs then re-raises this very
    # exception when all of a host's addresses are refused, instead of merging them.
    assert (caught.value.errno, caught.value.strerror) == (
        errno.EACCES,
        "address refused by the SSRF guard",
    )
    datagram = policy.socket_factory((socket.AF_INET6, socket.SOCK_DGRAM, 0, "", ("::1", 9)))
    assert datagram.type == socket.SOCK_DGRAM  # the socket the connector asked for
    datagram.close()


def test_refusal_in_finds_the_guard_behind_any_wrapping() -> None:
    refusal = SsrfRefused("no", "10.0.0.1")
    connect = ConnectRefused(refusal)
    assert refusal_in(refusal) is refusal
    assert refusal_in(connect) is refusal

    class ConnectorError(Exception):  # aiohttp's ClientConnectorError keeps it as os_error
        os_error = connect

    assert refusal_in(ConnectorError()) is refusal
    outer = RuntimeError("wrapped")
    outer.__cause__ = ConnectorError()
    assert refusal_in(outer) is refusal
    assert refusal_in(RuntimeError("other")) is None


@pytest.mark.parametrize(
    ("url", "allow_http"),
    [
        ("file:///etc/passwd", True),
        ("ftp://example.com/x", True),
        ("gopher://example.com/", True),
        ("http://example.com/", False),
        ("https://user:pw@example.com/", False),  # would become an Authorization header
        ("https://user@example.com/", True),  # a user alone does too
        ("https://:pw@example.com/", True),
        ("https://user:@example.com/", True),
        ("https:///no-host", False),
        ("not a url", True),
    ],
)
def test_check_url_refuses(url: str, allow_http: bool) -> None:
    with pytest.raises(SsrfRefused):
        check_url(url, allow_http=allow_http)


def test_check_url_accepts_https_and_dev_http_and_drops_fragments() -> None:
    assert str(check_url("https://example.com/a#frag", allow_http=False)) == "https://example.com/a"
    assert check_url("http://example.com/", allow_http=True).scheme == "http"
    assert check_url("https://example.com/", allow_http=True).scheme == "https"
    parsed = URL("https://example.com/x#y")
    assert str(check_url(parsed, allow_http=False)) == "https://example.com/x"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/", "scheme 'ftp' is not allowed"),
        ("https:///path", "URL has no host"),
        ("https://u@example.com/", "URL carries credentials"),
        ("http://[::1/", "malformed URL: 'http://[::1/'"),
    ],
)
def test_check_url_says_why(url: str, reason: str) -> None:
    with pytest.raises(SsrfRefused) as info:
        check_url(url, allow_http=True)
    assert (info.value.reason, info.value.address) == (reason, None)


def test_a_malformed_url_is_quoted_up_to_200_characters() -> None:
    url = "http://[::1/" + "a" * 300
    with pytest.raises(SsrfRefused) as info:
        check_url(url, allow_http=True)
    assert info.value.reason == f"malformed URL: {url[:200]!r}"


# -- connect time: a counting listener on loopback proves nothing was connected -------------


class CountingListener:
    def __init__(self) -> None:
        self.accepted = 0
        self.port = 0

    async def _on_connect(self, _r: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        writer.close()


@pytest.fixture
async def listener() -> AsyncIterator[CountingListener]:
    counting = CountingListener()
    server = await asyncio.start_server(counting._on_connect, "127.0.0.1", 0)
    counting.port = server.sockets[0].getsockname()[1]
    yield counting
    server.close()
    await server.wait_closed()


def strict_settings() -> Settings:
    """Production-like: nothing private allowed (http only so loopback tests can reach it)."""
    limits = {"connect_timeout": 0.2, "total_timeout": 0.5}
    return load_settings(domain="gateway.example", dev_allow_http=True, limits=limits)


async def refused_by(session: aiohttp.ClientSession, url: str) -> SsrfRefused:
    with pytest.raises(aiohttp.ClientConnectorError) as info:
        await session.get(url)
    refusal = refusal_in(info.value)
    assert refusal is not None, f"not refused by the guard: {info.value!r}"
    return refusal


async def refused_get(url: str) -> SsrfRefused:
    async with make_session(strict_settings()) as session:
        return await refused_by(session, url)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_loopback_by_literal_or_dns_is_refused_without_connecting(
    listener: CountingListener, host: str
) -> None:
    refusal = await refused_get(f"http://{host}:{listener.port}/")
    assert refusal.address in ("127.0.0.1", "::1")  # the address DNS gave, checked itself
    assert listener.accepted == 0


async def test_ipv6_loopback_literal_is_refused() -> None:
    refusal = await refused_get("http://[::1]:9/")
    assert refusal.address == "::1"


@pytest.mark.parametrize("ip", ["10.0.0.1", "169.254.169.254"])
async def test_private_literals_are_refused_before_any_packet(
    listener: CountingListener, ip: str
) -> None:
    # Nothing may ever reach a non-loopback address from here, so first prove that this very
    # session's guard refuses (on loopback, where a miss is harmless); only then try `ip`.
    with pytest.raises(SsrfRefused):
        AddressPolicy([]).check(ip)
    async with make_session(strict_settings()) as session:
        await refused_by(session, f"http://127.0.0.1:{listener.port}/")
        assert listener.accepted == 0
        started = asyncio.get_running_loop().time()
        refusal = await refused_by(session, f"http://{ip}:80/latest/meta-data/")
    assert refusal.address == ip
    assert asyncio.get_running_loop().time() - started < 0.2  # refused, not timed out


async def test_allowed_loopback_connects(listener: CountingListener) -> None:
    settings = strict_settings().model_copy(update={"allow_private_addresses": ["127.0.0.1"]})
    async with make_session(settings) as session:
        with pytest.raises(aiohttp.ClientError):  # the listener hangs up without answering
            await session.get(f"http://127.0.0.1:{listener.port}/")
    assert listener.accepted >= 1  # aiohttp retries an idempotent GET once on hang-up
