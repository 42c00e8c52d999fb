"""The one host identity every module compares: `Host`.

A URL, an actor id, a domain-block or allowlist entry and a URN authority all become a `Host`
here and nowhere else, so one host has one spelling everywhere: in blocks, the allowlist,
host health, per-host limits, delivery grouping and origin checks.

Normal form: the name in lower case with internationalised labels as IDNA A-labels (UTS 46
mapping, so ``Bücher.Example`` is ``xn--bcher-kva.example``), no trailing dot, IPv4 in dotted
quad, IPv6 compressed (shown in brackets), and no port when it is the scheme's default (80 for
http, 443 for https). Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import idna

from federation.errors import HostError

DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_NAME = 253
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_MAX_AUTHORITY = 260  # a 253-character name, a colon and a port, with room for brackets


@dataclass(frozen=True, slots=True, order=True)
class Host:
    """``name`` is an A-label DNS name, a dotted-quad IPv4 or a compressed IPv6 address
    (without brackets); ``port`` is None for the scheme's default port or when none was given."""

    name: str
    port: int | None = None

    @staticmethod
    def parse(authority: str, scheme: str | None = None) -> Host:
        """``host[:port]`` in any spelling; with a scheme its default port is elided.
        Raises HostError (a ValueError) naming what is wrong."""
        if not isinstance(authority, str):
            raise HostError("a host must be a string")
        return _parse(authority, scheme)

    @staticmethod
    def canonical(authority: str) -> Host:
        """Strict: ``host[:port]`` already spelled in ASCII without a trailing dot or a port
        with leading zeros, as a URN authority must be (case and IPv6 forms still normalise)."""
        if not isinstance(authority, str):
            raise HostError("a host must be a string")
        if not authority.isascii():  # checked before lower(): "\u212a".lower() is ASCII "k"
            raise HostError(f"bad host {authority!r}: internationalised names must be in xn-- form")
        name, _, port = _split(authority)
        if name.endswith(".") or port.startswith("0"):
            raise HostError(f"bad host {authority!r}: not in canonical form")
        return _parse(authority, None)

    @staticmethod
    def of_url(url: str) -> Host:
        """The host of an http(s) URL (any other scheme keeps its explicit port)."""
        if not isinstance(url, str):
            raise HostError("a URL must be a string")
        try:
            parts = urlsplit(url)
        except ValueError:
            raise HostError(f"unparsable URL {url[:64]!r}") from None
        if not parts.netloc:
            raise HostError(f"URL without a host: {url[:64]!r}")
        authority = parts.netloc.rpartition("@")[2]  # user information names no host
        return _parse(authority, parts.scheme.lower())

    @property
    def is_ip(self) -> bool:
        return _is_ip(self.name)

    def __str__(self) -> str:
        name = f"[{self.name}]" if ":" in self.name else self.name
        return name if self.port is None else f"{name}:{self.port}"

    def covers(self, host: Host) -> bool:
        """Whether this domain-block or allowlist entry holds for `host`. An entry with a port
        names exactly that authority (a default port also matches a host with its port elided);
        one without covers every port and, for a DNS name, every subdomain."""
        if self.port is not None:
            return self.name == host.name and (
                host.port == self.port
                or (host.port is None and self.port in DEFAULT_PORTS.values())
            )
        if self.name == host.name:
            return True
        return not self.is_ip and host.name.endswith("." + self.name)

    def entries_covering(self) -> tuple[Host, ...]:
        """Every entry (in normal form) that would cover this host: itself, its name without
        the port, and each parent domain (never a bare top-level label alone)."""
        bare = Host(self.name)
        candidates = [self] if self.port is None else [self, bare]
        if self.port is None:
            # An entry naming a default port covers the host with its port elided.
            candidates += [Host(self.name, port) for port in DEFAULT_PORTS.values()]
        if self.is_ip:
            return tuple(candidates)
        labels = self.name.split(".")
        candidates += [Host(".".join(labels[i:])) for i in range(1, len(labels) - 1)]
        return tuple(candidates)


def host_of(url: str) -> Host | None:
    """The host of a URL, or None when it has none or it is malformed (such a URL matches
    no host: every caller treats None as "no host", never as equal to another None)."""
    try:
        return Host.of_url(url)
    except HostError:
        return None


def normalise_host(value: str) -> str:
    """The stored spelling of a host given as ``host[:port]`` (an admin's or a config's entry)."""
    return str(Host.parse(value.strip()))


def _split(authority: str) -> tuple[str, str, str]:
    """(name, colon, port) of ``host[:port]``; an IPv6 name keeps its brackets."""
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise HostError(f"bad host {authority!r}: unclosed IPv6 bracket")
        rest = authority[end + 1 :]
        if rest and not rest.startswith(":"):
            raise HostError(f"bad host {authority!r}: text after the IPv6 address")
        return authority[: end + 1], rest[:1], rest[1:]
    return authority.partition(":")


def _parse_uncached(authority: str, scheme: str | None) -> Host:
    if not authority or len(authority) > _MAX_AUTHORITY:
        raise HostError(f"bad host {authority[:64]!r}: empty or too long")
    name, colon, port_text = _split(authority)
    port = _port(authority, port_text) if colon else None
    if scheme is not None and port == DEFAULT_PORTS.get(scheme):
        port = None
    return Host(_name(name), port)


# A handful of peers; inbound and delivery parse on every request. (Wrapped rather than
# decorated so that scripts/mutation can mutate the function: mutmut skips decorated ones.)
_parse = lru_cache(maxsize=8192)(_parse_uncached)


def _port(authority: str, text: str) -> int:
    if not (text.isascii() and text.isdigit() and 0 < int(text) < 65536):
        raise HostError(f"bad host {authority!r}: the port must be a number from 1 to 65535")
    return int(text)


def _name(name: str) -> str:
    if name.startswith("["):
        return _ipv6(name)
    name = name[:-1] if name.endswith(".") else name  # the DNS root: same host
    last = name.rsplit(".", 1)[-1]
    if last.isascii() and last.isdigit():  # an all-numeric top label: only an IPv4 address
        try:
            return str(ipaddress.IPv4Address(name))
        except ValueError:
            raise HostError(f"bad host {name!r}: not an IPv4 address") from None
    if name.isascii():  # letters, digits and inner hyphens (A-labels are ASCII already)
        name = name.lower()
        if len(name) > _MAX_NAME or not all(_LABEL.fullmatch(label) for label in name.split(".")):
            raise HostError(
                f"bad host {name!r}: not a DNS host name "
                "(letters, digits and inner hyphens, labels of 1 to 63 characters)"
            )
        return name
    try:
        encoded = idna.encode(name, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise HostError(f"bad host {name!r}: not an internationalised host name ({exc})") from None
    # UTS 46 maps some characters to ASCII digits (fullwidth and superscript digits): the
    # result must pass the ASCII rules too, or it would print as a host that does not parse.
    return _name(encoded)


def _ipv6(bracketed: str) -> str:
    inner = bracketed[1:-1]
    try:
        if "%" in inner:  # zone ids only make sense on one machine
            raise ValueError
        return ipaddress.IPv6Address(inner).compressed
    except ValueError:
        raise HostError(f"bad host: {bracketed!r} is not a bracketed IPv6 address") from None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_key(url: str) -> str:
    """The key per-host state is stored and grouped under (host health, the learned signature
    scheme, delivery jobs, per-host limits): the URL's Host as text, "" when it has none."""
    host = host_of(url)
    return "" if host is None else str(host)


def is_on(url: str, authority: str) -> bool:
    """Whether `url` is on the host ``authority`` names (e.g. a URN's), the default port of the
    URL's scheme being implied when the authority leaves it out."""
    host = host_of(url)
    if host is None:
        return False
    try:
        return host == Host.parse(authority, urlsplit(url).scheme.lower())
    except HostError:
        return False
