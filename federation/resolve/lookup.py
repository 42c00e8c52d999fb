"""Find a remote instance actor from a domain, an actor URL or an acct: handle."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from federation.discovery import NODEINFO_21
from federation.errors import HostError, TransportError
from federation.hosts import Host, host_of
from federation.http.transport import Transport
from federation.outcomes import FetchError, FetchErrorKind
from federation.records import ActorInfo
from federation.resolve.actors import InvalidActor, fetch_actor

JSON_ACCEPT = "application/json, application/jrd+json"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _normal_host(text: str) -> str:
    """A domain or an acct: handle's host as given by an admin, in its stored spelling."""
    try:
        return str(Host.parse(text))
    except HostError as exc:
        raise LookupError_(f"not a host name: {exc}") from None


class LookupError_(InvalidActor):
    """The target cannot be found or is not a usable instance actor."""


def classify_target(target: str) -> tuple[str, str]:
    """("url", actor URL) | ("acct", user@host) | ("domain", host[:port]); the host of a
    handle or a domain comes back in its stored spelling (A-labels, lower case)."""
    t = target.strip()
    if t.startswith(("http://", "https://")):
        return "url", t
    if t.startswith("acct:") or "@" in t:
        user, at, host = (t[5:] if t.startswith("acct:") else t.lstrip("@")).rpartition("@")
        if not (user and at):
            raise LookupError_(f"not an acct: handle: {target!r}")
        return "acct", f"{user}@{_normal_host(host)}"
    if t and "/" not in t and " " not in t:
        return "domain", _normal_host(t)
    raise LookupError_(f"not a domain, actor URL or acct: handle: {target!r}")


class ActorLookup:
    def __init__(self, transport: Transport, scheme: str) -> None:
        self._transport = transport
        self._scheme = scheme  # the scheme to try for bare domains (https, or http in dev)

    async def find(self, target: str) -> ActorInfo:
        try:
            return await fetch_actor(self._transport, await self.actor_url(target))
        except TransportError as exc:
            raise LookupError_(f"cannot reach {target}: {exc}") from None

    async def actor_url(self, target: str) -> str:
        """The actor URL a target names: itself, by WebFinger (acct:) or by NodeInfo (a
        domain's instance actor). TransportError when a discovery fetch fails."""
        kind, value = classify_target(target)
        if kind == "url":
            return value
        if kind == "acct":
            return await self._webfinger(value)
        return await self._nodeinfo_actor(value)

    async def webfinger(self, handle: str) -> dict[str, Any]:
        """The JRD a host answers for ``acct:user@host`` (or ``user@host``)."""
        kind, value = classify_target(handle)
        if kind != "acct":
            raise LookupError_(f"not an acct: handle: {handle!r}")
        return await self._json(self._webfinger_url(value))

    async def nodeinfo(self, domain: str) -> dict[str, Any]:
        """The NodeInfo 2.1 document a domain links from /.well-known/nodeinfo."""
        kind, value = classify_target(domain)
        if kind != "domain":
            raise LookupError_(f"not a domain: {domain!r}")
        return await self._json(await self._nodeinfo_href(value))

    async def _json(self, url: str) -> dict[str, Any]:
        result = await self._transport.fetch(url, accept=JSON_ACCEPT)
        try:
            doc = json.loads(result.body)
        except ValueError:
            raise LookupError_(f"{url} did not answer JSON") from None
        if not isinstance(doc, dict):
            raise LookupError_(f"{url} did not answer a JSON object")
        return doc

    def _webfinger_url(self, handle: str) -> str:
        host = handle.rsplit("@", 1)[1]
        if not host or "/" in host:
            raise LookupError_(f"not an acct: handle: {handle!r}")
        return (
            f"{self._scheme}://{host}/.well-known/webfinger?resource="
            f"{quote('acct:' + handle, safe=':@')}"
        )

    async def _webfinger(self, handle: str) -> str:
        host = handle.rsplit("@", 1)[1]
        try:
            doc = await self._json(self._webfinger_url(handle))
        except FetchError as exc:
            # RFC 7033 4.2: the host answered, and a 404 means it knows no such resource.
            if exc.kind in (FetchErrorKind.NOT_FOUND, FetchErrorKind.GONE):
                raise LookupError_(f"no such account at {host}: acct:{handle}") from None
            raise
        for link in _list(doc.get("links")):
            if (
                isinstance(link, dict)
                and link.get("rel") == "self"
                and "json" in str(link.get("type", ""))
                and isinstance(link.get("href"), str)
            ):
                return str(link["href"])
        raise LookupError_(f"WebFinger for {handle} names no ActivityPub actor")

    async def _nodeinfo_href(self, domain: str) -> str:
        """The NodeInfo 2.1 URL `domain` links to, which must be on `domain` itself."""
        links = await self._json(f"{self._scheme}://{domain}/.well-known/nodeinfo")
        href = next(
            (
                str(link["href"])
                for link in _list(links.get("links"))
                if isinstance(link, dict)
                and link.get("rel") == NODEINFO_21
                and isinstance(link.get("href"), str)
            ),
            None,
        )
        if href is None or host_of(href) != Host.parse(domain, self._scheme):
            raise LookupError_(f"{domain} offers no NodeInfo 2.1 on its own host")
        return href

    async def _nodeinfo_actor(self, domain: str) -> str:
        host = Host.parse(domain, self._scheme)
        info = await self._json(await self._nodeinfo_href(domain))
        metadata = info.get("metadata")
        actor = metadata.get("instanceActor") if isinstance(metadata, dict) else None
        if not isinstance(actor, str) or host_of(actor) != host:
            raise LookupError_(f"{domain}'s NodeInfo names no instance actor on its own host")
        return actor
