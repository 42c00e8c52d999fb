"""Domain policy in one place: which hosts a block or an allowlist entry covers, and the
federation mode and allowlist in force (the admin API stores them; the config gives defaults)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from federation.config import FederationMode, Settings
from federation.errors import HostError
from federation.hosts import Host
from federation.ports import PolicyStore


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


async def is_allowlisted(policy: PolicyStore, settings: Settings, host: Host) -> bool:
    """Allowlist entries cover hosts by the same rule as blocks."""
    entries = await current_allowlist(policy, settings)
    return any(entry.covers(host) for entry in _parsed(entries))


def _parsed(entries: list[str]) -> Iterator[Host]:
    # Entries are validated when stored; one spelled before that (an older store) still counts
    # by its normal form, and an unparsable one covers nothing.
    for text in entries:
        try:
            yield Host.parse(text)
        except HostError:
            continue
