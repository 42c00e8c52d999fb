"""Importing a blocklist: the diff against the stored domain policy, and applying it.

A dry run by default: the admin sees what would be added, changed, removed and kept, and every
invalid or skipped line with its number. Applying writes every change in one store call
(PolicyStore.apply_blocks: one SQLite transaction), and only when no line is invalid: a list
the gateway cannot read whole is not applied in part. Each new suspension then cuts that
domain's ties as a hand-made block does (follows, queued deliveries, cached objects).

Merge by default (entries not in the list stay); with `replace` the list is the whole of the
admin's policy and the admin's entries it lacks are removed (those subscriptions hold stay
theirs). An entry is changed when its severity differs, when the list gives a comment that
differs (an empty comment keeps the stored reason), or when a subscription held it: importing
it makes it the admin's.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from federation.admin.blocklists import Listed, ListFormat, ParsedList, Unusable, export, parse
from federation.errors import FederationError
from federation.ports import PolicyStore
from federation.records import DomainBlock, Severity

log = logging.getLogger("federation.admin")


class InvalidList(FederationError):
    """Asked to apply a list with invalid lines: nothing was applied."""

    def __init__(self, invalid: Sequence[Unusable]) -> None:
        shown = "; ".join(f"line {u.line}: {u.reason}" for u in invalid[:5])
        more = f" (and {len(invalid) - 5} more)" if len(invalid) > 5 else ""
        super().__init__(f"{len(invalid)} invalid lines, nothing applied: {shown}{more}")
        self.invalid = tuple(invalid)


@dataclass(frozen=True)
class BlocklistDiff:
    format: ListFormat
    added: tuple[DomainBlock, ...]
    changed: tuple[tuple[DomainBlock, DomainBlock], ...]  # (stored, as it would become)
    removed: tuple[DomainBlock, ...]
    kept: tuple[DomainBlock, ...]
    invalid: tuple[Unusable, ...]
    skipped: tuple[Unusable, ...]
    applied: bool = False


def diff(
    stored: Sequence[DomainBlock], parsed: ParsedList, now: float, *, replace_all: bool
) -> BlocklistDiff:
    current = {b.domain: b for b in stored}
    listed = {e.domain: e for e in parsed.entries}
    added, changed, kept = [], [], []
    for entry in parsed.entries:
        before = current.get(entry.domain)
        if before is None:
            added.append(
                DomainBlock(
                    domain=entry.domain,
                    reason=entry.comment,
                    created_at=now,
                    severity=entry.severity,
                )
            )
            continue
        after = _updated(before, entry)
        if after == before:
            kept.append(before)
        else:
            changed.append((before, after))
    # Only the admin's own entries: what subscriptions hold is theirs to retract.
    removed = [b for b in stored if b.domain not in listed and b.by_admin] if replace_all else []
    return BlocklistDiff(
        parsed.format,
        tuple(added),
        tuple(changed),
        tuple(removed),
        tuple(kept),
        parsed.invalid,
        parsed.skipped,
    )


def _updated(before: DomainBlock, entry: Listed) -> DomainBlock:
    """The entry as the import leaves it: the admin's from now on (an entry a subscription
    held is taken over, and no subscription will change or retract it again)."""
    return replace(
        before, severity=entry.severity, reason=entry.comment or before.reason, by_admin=True
    )


def _newly_suspended(planned: BlocklistDiff) -> list[DomainBlock]:
    added = [b for b in planned.added if b.severity is Severity.SUSPEND]
    return added + [
        after
        for before, after in planned.changed
        if after.severity is Severity.SUSPEND and before.severity is not Severity.SUSPEND
    ]


class BlocklistImports:
    def __init__(
        self,
        store: PolicyStore,
        cut_ties: Callable[[str], Awaitable[object]],
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._cut_ties = cut_ties  # what a new suspension does besides being stored
        self._clock = clock

    async def preview(
        self, text: str, fmt: ListFormat | None = None, *, replace_all: bool = False
    ) -> BlocklistDiff:
        stored = await self._store.list_blocks()
        return diff(stored, parse(text, fmt), self._clock(), replace_all=replace_all)

    async def apply(
        self, text: str, fmt: ListFormat | None = None, *, replace_all: bool = False
    ) -> BlocklistDiff:
        planned = await self.preview(text, fmt, replace_all=replace_all)
        if planned.invalid:
            raise InvalidList(planned.invalid)
        put = [*planned.added, *(after for _, after in planned.changed)]
        await self._store.apply_blocks(put, [b.domain for b in planned.removed])
        for block in _newly_suspended(planned):
            await self._cut_ties(block.domain)
        log.info(
            "blocklist imported: %d added, %d changed, %d removed, %d kept",
            len(planned.added),
            len(planned.changed),
            len(planned.removed),
            len(planned.kept),
        )
        return replace(planned, applied=True)

    async def export(self, fmt: ListFormat) -> tuple[str, int]:
        blocks = await self._store.list_blocks()
        return export(blocks, fmt), len(blocks)
