"""Domain policy in one place: which hosts a block or an allowlist entry covers, and the
federation mode and allowlist in force (the admin API stores them; the config gives defaults)."""

from __future__ import annotations

import functools
import ipaddress
import json
from urllib.parse import urlsplit

from federation.config import FederationMode, Settings
from federation.ports import PolicyStore


def host_in_domain(host: str, domain: str) -> bool:
    """Whether `host` (host[:port]) falls under a blocked `domain`: a domain with a port names
    exactly that authority; one without covers every port and every subdomain."""
    host, domain = host.lower(), domain.lower()
    if host == domain:
        return True
    if ":" in domain.rsplit("]", 1)[-1]:
        return False
    name = urlsplit(f"//{host}").hostname or host
    return name == domain or name.endswith("." + domain)


@functools.lru_cache(maxsize=4096)
def block_candidates(host: str) -> tuple[str, ...]:
    """Every stored block entry that would cover `host`: itself, its name without the port,
    and each parent domain (never a bare top-level label alone)."""
    host = host.lower()
    name = urlsplit(f"//{host}").hostname or host
    candidates = [host] if host == name else [host, name]
    try:
        ipaddress.ip_address(name)
        return tuple(candidates)
    except ValueError:
        pass
    labels = name.split(".")
    candidates += [".".join(labels[i:]) for i in range(1, len(labels) - 1)]
    return tuple(candidates)


async def is_domain_blocked(policy: PolicyStore, host: str) -> bool:
    for candidate in block_candidates(host):
        if await policy.is_blocked(candidate):
            return True
    return False


async def current_mode(policy: PolicyStore, settings: Settings) -> FederationMode:
    stored = await policy.get_setting("mode")
    return FederationMode(stored) if stored else settings.mode


async def current_allowlist(policy: PolicyStore, settings: Settings) -> list[str]:
    stored = await policy.get_setting("allowlist")
    return list(json.loads(stored)) if stored else list(settings.allowlist)


async def is_allowlisted(policy: PolicyStore, settings: Settings, host: str) -> bool:
    """Allowlist entries cover hosts by the same rule as blocks."""
    return any(host_in_domain(host, entry) for entry in await current_allowlist(policy, settings))
