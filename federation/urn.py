"""Global block names: ``urn:block:<authority>:<local-id>`` and the URLs they map to.

The authority is the instance's ``host[:port]`` in lower case; the local id is percent-encoded
so that only RFC 3986 unreserved characters stay literal, which makes the LAST ``:`` the split
between authority and id. Parsing follows RFC 8141 with one deliberate exception: an IPv6
authority keeps its URL brackets (``urn:block:[::1]:8443:x``), so a URN's authority is always the
same string as its URL's authority. Every malformed input raises ``UrnError`` and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote_to_bytes

from federation.errors import HostError, UrnError
from federation.hosts import Host

MAX_URN_LENGTH = 2048
_PREFIX = "urn:block:"
_SCHEMES = ("http", "https")

_UNRESERVED = re.compile(r"[A-Za-z0-9\-._~]+")
# RFC 8141 NSS characters (pchar and "/") without ":", which never occurs inside a local id.
_ENCODED_ID = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=@/]|%[0-9A-Fa-f]{2})+")
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
    """Validate ``host[:port]`` (DNS name, IPv4, or ``[IPv6]``) in canonical form and return it
    in lower case (IPv6 compressed): the Host of a URN is spelled one way only."""
    try:
        return str(Host.canonical(value))
    except HostError as exc:
        raise UrnError(f"bad authority: {exc}") from None


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
