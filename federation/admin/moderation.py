"""Moderation use cases: domain blocks (and what a suspension cuts), the federation mode and
the allowlist. Blocklist imports and subscriptions reuse `cut_ties` for their suspensions."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from federation.admin.errors import NotFound
from federation.config import FederationMode, Settings
from federation.domains import current_allowlist, current_mode
from federation.errors import HostError
from federation.hosts import Host
from federation.ports import Store
from federation.records import DomainBlock, Severity

log = logging.getLogger("federation.admin")


@dataclass(frozen=True)
class BlockOutcome:
    block: DomainBlock
    follows_dropped: int
    deliveries_dropped: int
    cache_purged: int


class FollowEnds(Protocol):
    """Ending the follows a block covers, each one reported (FollowService provides it)."""

    async def domain_blocked(self, domain: str, /) -> int: ...


@dataclass(eq=False, kw_only=True)
class Moderation:
    settings: Settings
    store: Store
    follows: FollowEnds
    clock: Callable[[], float]

    async def block(
        self, domain: str, reason: str, severity: Severity = Severity.SUSPEND
    ) -> BlockOutcome:
        """Record a domain block; a suspension also cuts every tie (cut_ties)."""
        block = DomainBlock(
            domain=domain, reason=reason, created_at=self.clock(), severity=severity
        )
        await self.store.add_block(block)
        if severity is not Severity.SUSPEND:
            return BlockOutcome(block, 0, 0, 0)
        return replace(await self.cut_ties(domain), block=block)

    async def cut_ties(self, domain: str) -> BlockOutcome:
        """What a suspension does: follows both ways, queued work and cached objects of
        `domain` (and its subdomains) dropped."""
        block = DomainBlock(domain=domain, reason="", created_at=self.clock())
        now = self.clock()
        follows = await self.follows.domain_blocked(domain)  # each one reported
        deliveries = 0
        for host in await self._known_hosts(domain):
            deliveries += await self.store.drop_queued_for_host(host, now)
        purged = await self.store.purge_cached_domain(domain)
        log.info(
            "blocked %s: %d follows, %d deliveries, %d cached objects dropped",
            domain,
            follows,
            deliveries,
            purged,
        )
        return BlockOutcome(block, follows, deliveries, purged)

    async def _known_hosts(self, domain: str) -> set[str]:
        hosts = {host for _, host in await self.store.counts()}
        hosts |= {h.host for h in await self.store.list_hosts()}
        return _covered(domain, hosts)

    async def unblock(self, domain: str) -> None:
        if not await self.store.remove_block(domain):
            raise NotFound(f"{domain} is not blocked")

    async def list_blocks(self) -> list[DomainBlock]:
        return await self.store.list_blocks()

    async def get_mode(self) -> FederationMode:
        return await current_mode(self.store, self.settings)

    async def set_mode(self, mode: FederationMode) -> None:
        await self.store.set_setting("mode", mode.value)

    async def get_allowlist(self) -> list[str]:
        return await current_allowlist(self.store, self.settings)

    async def set_allowlist(self, domains: list[str]) -> None:
        await self.store.set_setting("allowlist", json.dumps(domains))


def _covered(domain: str, hosts: set[str]) -> set[str]:
    """The stored host keys among `hosts` that the block on `domain` covers."""
    entry = Host.parse(domain)
    covered = set()
    for text in hosts:
        try:
            if text and entry.covers(Host.parse(text)):
                covered.add(text)
        except HostError:
            continue  # a key no host has: nothing to cover
    return covered
