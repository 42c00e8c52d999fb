"""Global block names: ``urn:block:<authority>:<local-id>`` and the URLs they map to.

The authority is the instance's ``host[:port]`` in lower case; the local id is percent-encoded
so that only RFC 3986 unreserved characters stay literal, which makes the LAST ``:`` the split
between authority and id. Parsing follows RFC 8141 with one deliberate exception: an IPv6
authority keeps its URL brackets (``urn:block:[::1]:8443:x``), so a URN's authority is always the
same string as its URL's authority. Every malformed input raises ``UrnError`` and nothing else.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, unquote_to_bytes

from federation.errors import UrnError

MAX_URN_LENGTH = 2048
_PREFIX = "urn:block:"
_SCHEMES = ("http", "https")

_UNRESERVED = re.compile(r"[A-Za-z0-9\-._~]+")
# RFC 8141 NSS characters (pchar and "/") without ":", which never occurs inside a local id.
_ENCODED_ID = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=@/]|%[0-9A-Fa-f]{2})+")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_PORT = re.compile(r"[1-9][0-9]{0,4}")
_BLOCK_URL = re.compile(r"([A-Za-z]+)://([^/?#]*)/blocks/([^/?#]*)")


def encode_local_id(local_id: str) -> str:
    """Percent-encode a local id: unreserved characters stay, every other UTF-8 byte is %XX."""
    if not isinstance(local_id, str) or not local_id:
        raise UrnError("a block's local id must be a non-empty string")
    if _UNRESERVED.fullmatch(local_id):  # the common case: nothing to encode
        return local_id
    try:
        return quote(local_id, safe="", encoding="utf-8", errors="strict")
    except UnicodeEncodeError:
        raise UrnError("a block's local id must be valid Unicode (no lone surrogates)") from None


def decode_local_id(encoded: str) -> str:
    """Decode a percent-encoded local id (as found in a URN or a block URL)."""
    if not isinstance(encoded, str) or not _ENCODED_ID.fullmatch(encoded):
        raise UrnError(f"malformed local id {encoded!r}: empty, or bad character or %-escape")
    if "%" not in encoded:
        return encoded
    try:
        return unquote_to_bytes(encoded).decode("utf-8")
    except UnicodeDecodeError:
        raise UrnError(f"local id {encoded!r} does not decode to UTF-8") from None


def normalise_authority(value: str) -> str:
    """Validate ``host[:port]`` (DNS name, IPv4, or ``[IPv6]``) and return it in lower case."""
    if not isinstance(value, str):
        raise UrnError("an authority must be a string")
    return _normalise_authority(value)


@lru_cache(maxsize=4096)  # a handful of peers; parsing URNs on hot paths hits this
def _normalise_authority(value: str) -> str:
    if not value.isascii():  # checked before lower(): "\u212a".lower() is an ASCII "k"
        raise UrnError(f"bad authority {value!r}: internationalised names must be in xn-- form")
    lowered = value.lower()
    if lowered.startswith("["):
        end = lowered.find("]")
        host, rest = _ipv6_host(lowered[: end + 1] if end > 0 else lowered), lowered[end + 1 :]
    else:
        name, colon, port = lowered.partition(":")
        host, rest = _named_host(name), colon + port
    if rest and not (rest.startswith(":") and _PORT.fullmatch(rest[1:]) and int(rest[1:]) < 65536):
        raise UrnError(f"bad authority {value!r}: port must be 1-65535 without leading zeros")
    return host + rest


def _ipv6_host(bracketed: str) -> str:
    inner = bracketed[1:-1] if bracketed.endswith("]") else ""
    try:
        if "%" in inner:  # zone ids only make sense on one machine
            raise ValueError
        return f"[{ipaddress.IPv6Address(inner).compressed}]"
    except ValueError:
        raise UrnError(f"bad authority: {bracketed!r} is not a bracketed IPv6 address") from None


def _named_host(name: str) -> str:
    labels = name.split(".")
    if labels[-1].isdigit():  # all-numeric top label: it must be a dotted-quad IPv4 address
        try:
            return str(ipaddress.IPv4Address(name))
        except ValueError:
            raise UrnError(f"bad authority: {name!r} is not an IPv4 address") from None
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise UrnError(
            f"bad authority: {name!r} is not a DNS host name "
            "(letters, digits and inner hyphens; internationalised names in xn-- form)"
        )
    return name


@dataclass(frozen=True, slots=True)
class BlockUrn:
    """A block's global name. ``local_id`` is the decoded id, ``authority`` is normalised."""

    authority: str
    local_id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "authority", normalise_authority(self.authority))
        encode_local_id(self.local_id)  # validates: non-empty, encodable

    @classmethod
    def parse(cls, text: str) -> BlockUrn:
        if not isinstance(text, str):
            raise UrnError("a URN must be a string")
        if len(text) > MAX_URN_LENGTH:
            raise UrnError(f"URN longer than {MAX_URN_LENGTH} characters")
        if text[: len(_PREFIX)].lower() != _PREFIX:
            raise UrnError(f"not a block URN (expected 'urn:block:...'): {text[:64]!r}")
        authority, colon, encoded = text[len(_PREFIX) :].rpartition(":")
        if not colon:
            raise UrnError(f"block URN without a local id: {text[:64]!r}")
        return cls(authority, decode_local_id(encoded))

    def __str__(self) -> str:
        return f"{_PREFIX}{self.authority}:{encode_local_id(self.local_id)}"

    def format(self) -> str:
        return str(self)

    def to_url(self, scheme: str) -> str:
        """The dereferenceable URL of the block: its ActivityPub object id."""
        if scheme not in _SCHEMES:
            raise UrnError(f"unsupported URL scheme {scheme!r}")
        return f"{scheme}://{self.authority}/blocks/{encode_local_id(self.local_id)}"

    @classmethod
    def from_url(cls, url: str) -> BlockUrn:
        """Inverse of to_url; rejects anything but ``http(s)://authority/blocks/<id>``."""
        if not isinstance(url, str) or len(url) > MAX_URN_LENGTH:
            raise UrnError("a block URL must be a string of at most 2048 characters")
        match = _BLOCK_URL.fullmatch(url)
        if match is None or match.group(1).lower() not in _SCHEMES:
            raise UrnError(f"not a block URL (http(s)://host/blocks/<id>): {url[:64]!r}")
        if "@" in match.group(2):
            raise UrnError("a block URL must not carry user information")
        return cls(match.group(2), decode_local_id(match.group(3)))


def normalise(text: str) -> str:
    """The canonical string of any URN lexically equivalent to ``text``."""
    return str(BlockUrn.parse(text))
