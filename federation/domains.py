"""Domain policy in one place: which hosts a block or an allowlist entry covers, and the
federation mode and allowlist in force (the admin API stores them; the config gives defaults).

Hot paths (every inbound request, every resolve) read the policy through `DomainPolicy`, an
in-memory snapshot that costs one read of the store's policy version per check instead of a read
per block candidate, the mode and the allowlist. The store changes that version on every write of
blocks or settings, by any process sharing it, so a block applies to the very next request in
every process; the admin API (rare, and wanting the stored truth) reads the store directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from federation.config import FederationMode, Settings
from federation.errors import HostError
from federation.hosts import Host
from federation.ports import PolicyStore
from federation.records import Severity


async def is_domain_blocked(policy: PolicyStore, host: Host) -> bool:
    """Whether a stored block covers `host` (entries are stored in normal form, so each entry
    that could cover it is looked up by its exact spelling)."""
    for candidate in host.entries_covering():
        if await policy.is_blocked(str(candidate)):
            return True
    return False


async def current_mode(policy: PolicyStore, settings: Settings) -> FederationMode:
    stored = await policy.get_setting("mode")
    return FederationMode(stored) if stored else settings.mode


async def current_allowlist(policy: PolicyStore, settings: Settings) -> list[str]:
    stored = await policy.get_setting("allowlist")
    return list(json.loads(stored)) if stored else list(settings.allowlist)


def _parsed(entries: list[str]) -> Iterator[Host]:
    # Entries are validated when stored; one spelled before that (an older store) still counts
    # by its normal form, and an unparsable one covers nothing.
    for text in entries:
        try:
            yield Host.parse(text)
        except HostError:
            continue


@dataclass(frozen=True, slots=True)
class PolicySnapshot:
    """The whole domain policy as of one store version."""

    version: int
    blocked: frozenset[str]  # suspend entries in normal form
    mode: FederationMode
    allowlist: tuple[Host, ...]
    limited: frozenset[str] = frozenset()  # silence entries in normal form

    def blocks(self, host: Host) -> bool:
        return any(str(candidate) in self.blocked for candidate in host.entries_covering())

    def limits(self, host: Host) -> bool:
        """Whether a silence entry covers `host` (by the blocks' rule): it federates, but its
        follows wait for an admin and its blocks reach the backend marked limited. A host
        both suspended and silenced (a parent entry of each) is simply blocked."""
        return any(str(candidate) in self.limited for candidate in host.entries_covering())

    def allowlists(self, host: Host) -> bool:
        """Allowlist entries cover hosts by the same rule as blocks."""
        return any(entry.covers(host) for entry in self.allowlist)


class DomainPolicy:
    """The policy snapshot, reloaded whenever the store's policy version differs from the one
    it was loaded at. The version is read before the data: a write landing during a load leaves
    a snapshot labelled with the older version, which the next check replaces."""

    def __init__(self, store: PolicyStore, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self._snapshot: PolicySnapshot | None = None

    async def current(self) -> PolicySnapshot:
        version = await self._store.policy_version()
        snapshot = self._snapshot
        if snapshot is None or snapshot.version != version:
            snapshot = await self._load(version)
            self._snapshot = snapshot
        return snapshot

    async def is_blocked(self, host: Host) -> bool:
        return (await self.current()).blocks(host)

    async def is_limited(self, host: Host) -> bool:
        return (await self.current()).limits(host)

    async def _load(self, version: int) -> PolicySnapshot:
        blocks = await self._store.list_blocks()
        return PolicySnapshot(
            version=version,
            blocked=frozenset(b.domain for b in blocks if b.severity is Severity.SUSPEND),
            mode=await current_mode(self._store, self._settings),
            allowlist=tuple(_parsed(await current_allowlist(self._store, self._settings))),
            limited=frozenset(b.domain for b in blocks if b.severity is Severity.SILENCE),
        )
