"""Severities in the one domain policy: only a suspension blocks, a silence limits, a noop
does nothing; each covers ports and subdomains by the blocks' rule."""

from __future__ import annotations

from federation.config import load_settings
from federation.domains import DomainPolicy, is_domain_blocked
from federation.hosts import Host
from federation.records import DomainBlock, Severity
from federation.storage import SqliteStore


async def test_each_severity_does_what_it_says(store: SqliteStore) -> None:
    await store.add_block(
        DomainBlock(domain="gone.example", reason="", created_at=0.0, severity=Severity.SUSPEND)
    )
    await store.add_block(
        DomainBlock(domain="quiet.example", reason="", created_at=0.0, severity=Severity.SILENCE)
    )
    await store.add_block(
        DomainBlock(domain="noted.example", reason="", created_at=0.0, severity=Severity.NOOP)
    )
    policy = DomainPolicy(store, load_settings(None, domain="me.example"))
    verdicts = {
        name: (await policy.is_blocked(host), await policy.is_limited(host))
        for name, host in (
            ("suspend", Host.parse("x.gone.example:8443")),
            ("silence", Host.parse("x.quiet.example:8443")),
            ("noop", Host.parse("x.noted.example")),
            ("none", Host.parse("other.example")),
        )
    }
    assert verdicts == {
        "suspend": (True, False),
        "silence": (False, True),
        "noop": (False, False),
        "none": (False, False),
    }
    assert await is_domain_blocked(store, Host.parse("x.gone.example"))
    assert not await is_domain_blocked(store, Host.parse("x.quiet.example"))
    assert not await is_domain_blocked(store, Host.parse("noted.example"))


async def test_changing_the_severity_changes_the_verdict_at_once(store: SqliteStore) -> None:
    policy = DomainPolicy(store, load_settings(None, domain="me.example"))
    host = Host.parse("a.example")
    await store.add_block(
        DomainBlock(domain="a.example", reason="", created_at=0.0, severity=Severity.SILENCE)
    )
    assert (await policy.is_blocked(host), await policy.is_limited(host)) == (False, True)
    await store.add_block(
        DomainBlock(domain="a.example", reason="", created_at=0.0, severity=Severity.SUSPEND)
    )
    assert (await policy.is_blocked(host), await policy.is_limited(host)) == (True, False)
