"""PolicyStore contract for severities and the all-or-nothing apply of an imported list."""

from __future__ import annotations

from federation.ports import Store
from federation.records import DomainBlock, Severity

from .builders import T0


async def test_severities_are_kept_and_only_a_suspension_blocks(store: Store) -> None:
    entries = [
        DomainBlock(domain="a.example", reason="spam", created_at=T0, severity=Severity.SUSPEND),
        DomainBlock(domain="b.example", reason="noisy", created_at=T0, severity=Severity.SILENCE),
        DomainBlock(domain="c.example", reason="", created_at=T0, severity=Severity.NOOP),
    ]
    for entry in entries:
        await store.add_block(entry)
    assert await store.list_blocks() == entries
    assert [await store.is_blocked(e.domain) for e in entries] == [True, False, False]


async def test_a_block_without_a_severity_is_a_suspension(store: Store) -> None:
    await store.add_block(DomainBlock(domain="a.example", reason="spam", created_at=T0))
    assert (await store.list_blocks())[0].severity is Severity.SUSPEND


async def test_apply_blocks_puts_replaces_and_removes_at_once(store: Store) -> None:
    await store.add_block(DomainBlock(domain="old.example", reason="", created_at=T0))
    await store.add_block(
        DomainBlock(domain="keep.example", reason="", created_at=T0, severity=Severity.SILENCE)
    )
    version = await store.policy_version()
    await store.apply_blocks(
        [
            DomainBlock(domain="new.example", reason="listed", created_at=T0 + 1),
            DomainBlock(
                domain="keep.example",
                reason="now suspended",
                created_at=T0 + 1,
                severity=Severity.SUSPEND,
            ),
        ],
        ["old.example", "never.example"],
    )
    assert await store.list_blocks() == [
        DomainBlock(
            domain="keep.example",
            reason="now suspended",
            created_at=T0 + 1,
            severity=Severity.SUSPEND,
        ),
        DomainBlock(domain="new.example", reason="listed", created_at=T0 + 1),
    ]
    assert await store.policy_version() != version
    assert await store.is_blocked("keep.example")
