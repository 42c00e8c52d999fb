"""One rule for what a domain block or allowlist entry covers, and the mode in force."""

from __future__ import annotations

import pytest

from federation.config import FederationMode, load_settings
from federation.domains import DomainPolicy, current_allowlist, current_mode, is_domain_blocked
from federation.hosts import Host
from federation.records import DomainBlock
from federation.storage import SqliteStore


@pytest.mark.parametrize(
    ("host", "domain", "covered"),
    [
        ("a.example:8443", "a.example:8443", True),
        ("a.example:8443", "a.example", True),  # no port: every port
        ("sub.a.example", "a.example", True),  # and every subdomain
        ("a.example:8443", "a.example:443", False),  # a port names exactly that authority
        ("nota.example", "a.example", False),
        ("127.0.0.1:8001", "127.0.0.1", True),
    ],
)
def test_an_entry_covers(host: str, domain: str, covered: bool) -> None:
    assert Host.parse(domain).covers(Host.parse(host)) is covered


def test_entries_covering_never_include_a_bare_tld() -> None:
    assert [str(h) for h in Host.parse("x.a.example:1").entries_covering()] == [
        "x.a.example:1",
        "x.a.example",
        "a.example",
    ]
    assert [str(h) for h in Host.parse("127.0.0.1:8001").entries_covering()] == [
        "127.0.0.1:8001",
        "127.0.0.1",
    ]


async def test_blocks_cover_ports_and_subdomains(store: SqliteStore) -> None:
    await store.add_block(DomainBlock(domain="a.example", reason="spam", created_at=0.0))
    assert await is_domain_blocked(store, Host.parse("x.a.example:8443"))
    assert not await is_domain_blocked(store, Host.parse("b.example"))


async def test_a_block_holds_for_every_spelling_of_the_host(store: SqliteStore) -> None:
    await store.add_block(
        DomainBlock(domain="xn--bcher-kva.example", reason="spam", created_at=0.0)
    )
    for url in (
        "https://Bücher.example./actor",
        "https://sub.xn--bcher-kva.example:443/actor",
        "http://BÜCHER.EXAMPLE:8080/actor",
    ):
        assert await is_domain_blocked(store, Host.of_url(url)), url


async def test_mode_and_allowlist_come_from_the_store_else_the_config(
    store: SqliteStore,
) -> None:
    settings = load_settings(None, domain="me.example", mode="approval", allowlist=["a.example"])
    policy = DomainPolicy(store, settings)
    assert await current_mode(store, settings) is FederationMode.APPROVAL
    assert await current_allowlist(store, settings) == ["a.example"]
    snapshot = await policy.current()
    assert snapshot.mode is FederationMode.APPROVAL
    assert snapshot.allowlists(Host.parse("sub.a.example:443"))
    assert snapshot.allowlists(Host.of_url("https://SUB.A.example./x"))
    assert not snapshot.allowlists(Host.parse("b.example"))
    await store.set_setting("mode", "allowlist")
    await store.set_setting("allowlist", '["127.0.0.1"]')
    assert await current_mode(store, settings) is FederationMode.ALLOWLIST
    snapshot = await policy.current()  # the next check sees the writes
    assert snapshot.mode is FederationMode.ALLOWLIST
    assert snapshot.allowlists(Host.parse("127.0.0.1:8001"))
    assert not snapshot.allowlists(Host.parse("a.example"))


async def test_the_snapshot_follows_every_block_write(store: SqliteStore) -> None:
    policy = DomainPolicy(store, load_settings(None, domain="me.example"))
    assert not await policy.is_blocked(Host.parse("x.a.example:8443"))
    await store.add_block(DomainBlock(domain="a.example", reason="spam", created_at=0.0))
    assert await policy.is_blocked(Host.parse("x.a.example:8443"))
    assert not await policy.is_blocked(Host.parse("b.example"))
    await store.remove_block("a.example")
    assert not await policy.is_blocked(Host.parse("x.a.example:8443"))


async def test_the_snapshot_is_kept_while_the_policy_version_is_unchanged(
    store: SqliteStore,
) -> None:
    """A check costs one read of the version, not a reload of every block and setting."""
    policy = DomainPolicy(store, load_settings(None, domain="me.example"))
    first = await policy.current()
    assert first.version == await store.policy_version()
    assert await policy.current() is first
    await store.add_block(DomainBlock(domain="a.example", reason="spam", created_at=0.0))
    reloaded = await policy.current()
    assert reloaded is not first
    assert reloaded.version == await store.policy_version() != first.version
    assert await policy.current() is reloaded


async def test_an_unparsable_allowlist_entry_covers_nothing_and_hides_no_other(
    store: SqliteStore,
) -> None:
    policy = DomainPolicy(store, load_settings(None, domain="me.example"))
    await store.set_setting("allowlist", '["bad host!", "a.example"]')  # stored by an older version
    snapshot = await policy.current()
    assert snapshot.allowlists(Host.parse("a.example"))
    assert not snapshot.allowlists(Host.parse("b.example"))
