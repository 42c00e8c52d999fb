"""Remote actor documents: fetch, validate, and pull out inboxes and keys."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag, urlsplit

from federation.errors import FederationError, HostError
from federation.hosts import Host
from federation.outcomes import Fetcher
from federation.records import ActorInfo


class InvalidActor(FederationError):
    """A fetched actor or key document is unusable."""


@dataclass(frozen=True, slots=True)
class KeyDoc:
    key_id: str
    owner: str
    public_key_pem: str | None
    multibase: str | None


def origin(url: str) -> tuple[str, Host]:
    """(scheme, Host): two URLs share an origin when these are equal."""
    try:
        return urlsplit(url).scheme.lower(), Host.of_url(url)
    except (ValueError, HostError):  # e.g. an unclosed "[": a peer's bad document
        raise InvalidActor(f"not a URL with a host: {url[:200]!r}") from None


def _str(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def load_json_object(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidActor(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidActor("not a JSON object")
    return doc


def _defragged(url: str) -> str:
    try:
        return urldefrag(url).url
    except ValueError:  # urldefrag parses the URL: a malformed one raises
        raise InvalidActor(f"not a URL: {url[:200]!r}") from None


def parse_actor(doc: dict[str, Any], fetched_url: str) -> ActorInfo:
    """The actor's id must be the URL it was fetched from; its inboxes must share its origin."""
    actor_id = _str(doc.get("id"))
    if actor_id is None or _defragged(actor_id) != _defragged(fetched_url):
        raise InvalidActor("actor id does not match the URL it was fetched from")
    inbox = _str(doc.get("inbox"))
    if inbox is None or origin(inbox) != origin(actor_id):
        raise InvalidActor("actor has no inbox on its own origin")
    shared = None
    endpoints = doc.get("endpoints")
    if isinstance(endpoints, dict):
        shared = _str(endpoints.get("sharedInbox"))
        if shared is not None and origin(shared) != origin(actor_id):
            shared = None
    return ActorInfo(id=actor_id, host=origin(actor_id)[1], inbox=inbox, shared_inbox=shared)


async def fetch_actor(fetcher: Fetcher, url: str) -> ActorInfo:
    """The actor document at `url`, fetched (signed GET) and checked as parse_actor does.
    InvalidActor when it is unusable; a TransportError propagates."""
    result = await fetcher.fetch(url)
    return parse_actor(load_json_object(result.body), result.url)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def find_key(doc: dict[str, Any], key_id: str) -> KeyDoc:
    """Find `key_id` in an actor document (publicKey or assertionMethod) or a bare key document."""
    candidates = [doc, *_as_list(doc.get("publicKey")), *_as_list(doc.get("assertionMethod"))]
    for entry in candidates:
        if not isinstance(entry, dict) or entry.get("id") != key_id:
            continue
        owner = _str(entry.get("owner")) or _str(entry.get("controller"))
        if entry is doc and owner is None:
            continue
        owner = owner or _str(doc.get("id"))
        pem = entry.get("publicKeyPem")
        multibase = entry.get("publicKeyMultibase")
        if owner is None or not (isinstance(pem, str) or isinstance(multibase, str)):
            continue
        if origin(owner) != origin(key_id):
            raise InvalidActor("key owner is on another origin than the key")
        return KeyDoc(
            key_id,
            owner,
            pem if isinstance(pem, str) else None,
            multibase if isinstance(multibase, str) else None,
        )
    raise InvalidActor(f"document has no usable key {key_id}")
