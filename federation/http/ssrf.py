"""The SSRF guard: which URLs may be requested and which addresses may be connected to.

The address check runs at connect time, inside the connector's socket factory, on the address
actually dialled. That single point covers IP literals (which skip DNS), DNS answers (including
rebinding) and every redirect hop; a resolver-only check would miss literals.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Sequence

from aiohappyeyeballs import AddrInfoType
from yarl import URL

from federation.errors import ConfigError, TransportError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address


class SsrfRefused(TransportError):
    """A URL or an address was refused by the guard; nothing was sent to it.

    `address` is the IP refused at connect time (None for URL-level refusals such as a scheme).
    """

    def __init__(self, reason: str, address: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.address = address


class ConnectRefused(OSError):
    """Carries an SsrfRefused through aiohttp, which only treats OSError as a failed connect.

    The message is the same for every address, so that aiohappyeyeballs, when all of a host's
    addresses are refused, re-raises this exception rather than a merged plain OSError.
    """

    def __init__(self, refusal: SsrfRefused) -> None:
        super().__init__(errno.EACCES, "address refused by the SSRF guard")
        self.refusal = refusal


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), if any."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _is_public(ip: IPAddress) -> bool:
    # Python counts multicast (224.0.0.0/4) as global; it is never a federation peer.
    return ip.is_global and not ip.is_multicast


class AddressPolicy:
    """Refuses every non-public address unless the configuration lists it (an IP or a CIDR)."""

    def __init__(self, allowed: Sequence[str]) -> None:
        networks: list[IPNetwork] = []
        for entry in allowed:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ConfigError(
                    f"allow_private_addresses: not an IP or CIDR: {entry!r}"
                ) from None
        self._allowed = tuple(networks)

    def _listed(self, ip: IPAddress) -> bool:
        return any(ip in net for net in self._allowed)

    def check(self, ip: str) -> None:
        """Raise SsrfRefused unless `ip` may be connected to."""
        try:
            addr = ipaddress.ip_address(ip)  # an IPv6 zone id is kept and ignored in comparisons
        except ValueError:
            raise SsrfRefused(f"not an IP address: {ip!r}", ip) from None
        inner = embedded_ipv4(addr)
        if self._listed(addr) or (inner is not None and self._listed(inner)):
            return
        if not _is_public(addr) or (inner is not None and not _is_public(inner)):
            raise SsrfRefused(f"address {ip} is not public and not allowed", ip)

    def socket_factory(self, addr_info: AddrInfoType) -> socket.socket:
        """aiohttp's TCPConnector(socket_factory=...): check before the socket even exists."""
        family, type_, proto, _, sockaddr = addr_info
        try:
            self.check(str(sockaddr[0]))
        except SsrfRefused as refusal:
            raise ConnectRefused(refusal) from refusal
        return socket.socket(family=family, type=type_, proto=proto)


def check_url(url: str | URL, *, allow_http: bool) -> URL:
    """Parse and vet a URL before any request: scheme, host, no credentials."""
    try:
        parsed = URL(url)  # a URL is returned as it is
    except (ValueError, TypeError):
        raise SsrfRefused(f"malformed URL: {str(url)[:200]!r}") from None
    allowed_schemes = ("https", "http") if allow_http else ("https",)
    if parsed.scheme not in allowed_schemes:
        raise SsrfRefused(f"scheme {parsed.scheme!r} is not allowed")
    if not parsed.host:
        raise SsrfRefused("URL has no host")
    if parsed.user is not None or parsed.password is not None:
        # aiohttp would turn these into an Authorization header.
        raise SsrfRefused("URL carries credentials")
    return parsed.with_fragment(None)


def refusal_in(exc: BaseException) -> SsrfRefused | None:
    """The guard's refusal behind an aiohttp connection error, if that is what it was."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, SsrfRefused):
            return seen
        if isinstance(seen, ConnectRefused):
            return seen.refusal
        os_error = getattr(seen, "os_error", None)  # aiohttp.ClientConnectorError
        if isinstance(os_error, ConnectRefused):
            return os_error.refusal
        seen = seen.__cause__
    return None
