"""One rule for what a domain block or allowlist entry covers, and the mode in force."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from federation.config import FederationMode, load_settings
from federation.domains import (
    block_candidates,
    current_allowlist,
    current_mode,
    host_in_domain,
    is_allowlisted,
    is_domain_blocked,
)
from federation.records import DomainBlock
from federation.storage import SqliteStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(tmp_path / "p.sqlite3")
    await s.open()
    yield s
    await s.close()


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
def test_host_in_domain(host: str, domain: str, covered: bool) -> None:
    assert host_in_domain(host, domain) is covered


def test_block_candidates_never_include_a_bare_tld() -> None:
    assert block_candidates("x.a.example:1") == ("x.a.example:1", "x.a.example", "a.example")
    assert block_candidates("127.0.0.1:8001") == ("127.0.0.1:8001", "127.0.0.1")


async def test_blocks_cover_ports_and_subdomains(store: SqliteStore) -> None:
    await store.add_block(DomainBlock("a.example", "spam", 0.0))
    assert await is_domain_blocked(store, "x.a.example:8443")
    assert not await is_domain_blocked(store, "b.example")


async def test_mode_and_allowlist_come_from_the_store_else_the_config(
    store: SqliteStore,
) -> None:
    settings = load_settings(None, domain="me.example", mode="approval", allowlist=["a.example"])
    assert await current_mode(store, settings) is FederationMode.APPROVAL
    assert await current_allowlist(store, settings) == ["a.example"]
    assert await is_allowlisted(store, settings, "sub.a.example:443")
    assert not await is_allowlisted(store, settings, "b.example")
    await store.set_setting("mode", "allowlist")
    await store.set_setting("allowlist", '["127.0.0.1"]')
    assert await current_mode(store, settings) is FederationMode.ALLOWLIST
    assert await is_allowlisted(store, settings, "127.0.0.1:8001")
    assert not await is_allowlisted(store, settings, "a.example")
