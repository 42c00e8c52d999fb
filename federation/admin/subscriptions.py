"""Blocklist subscriptions (GoToSocial 0.18's domain permission subscriptions): the gateway
follows a shared list by URL and keeps its entries in the domain policy.

Each fetch goes through the instance's one signed, SSRF-guarded client, with the validators of
the last list applied (ETag / If-Modified-Since: a 304 changes nothing) and its body cap. A list
that is applied adds its new entries and retracts the ones it dropped, but only ever those this
subscription holds: an admin's entry (by hand or imported) is never changed or removed, and an
entry another subscription also holds stays until the last one drops it (at the strictest
severity its holders give). A list is held back (nothing changes, the admin sees why in its
history, the log says so) when any line is invalid, or when it shrank by more than its
`max_shrink` fraction since the last list applied: a truncated download or a list emptied by
mistake must not unblock half the fediverse.

Precedence with the allowlist: a subscribed entry covering, or covered by, an allowlist entry
is skipped (the allowlist is the admin's own word, a shared list is someone else's); an admin's
own block still wins over the allowlist, as it always has.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from federation.admin.blocklists import Listed, ListFormat, ParsedList, parse
from federation.config import Settings
from federation.domains import current_allowlist
from federation.errors import FederationError, HostError, TransportError
from federation.hosts import Host
from federation.outcomes import Fetcher
from federation.ports import Store
from federation.records import BlocklistSubscription, DomainBlock, Severity, SubscriptionFetch

log = logging.getLogger("federation.admin")

REFRESH_SECONDS = 6 * 3600.0  # how often each list is fetched
LIST_ACCEPT = "text/csv, text/plain, application/json;q=0.9, */*;q=0.5"
APPLIED, NOT_MODIFIED, FAILED, HELD_BACK = "applied", "not modified", "failed", "held back"


class NoSuchSubscription(FederationError):
    pass


@dataclass(frozen=True)
class Fetched:
    """A list as fetched and read, before it is judged."""

    parsed: ParsedList
    etag: str | None
    last_modified: str | None


class BlocklistSubscriptions:
    def __init__(
        self,
        *,
        store: Store,
        fetcher: Fetcher,
        settings: Settings,
        cut_ties: Callable[[str], Awaitable[object]],
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._fetcher = fetcher
        self._settings = settings
        self._cut_ties = cut_ties  # what a new suspension does besides being stored
        self._clock = clock

    async def subscribe(
        self, url: str, title: str, fmt: ListFormat | None, max_shrink: float
    ) -> BlocklistSubscription:
        """Subscribe; the first fetch is due at once (the scheduler, or refresh()). Subscribing
        to a URL again answers the existing subscription, unchanged."""
        subscription = BlocklistSubscription(
            id=uuid.uuid4().hex,
            url=url,
            title=title or url,
            format=fmt,
            max_shrink=max_shrink,
            created_at=self._clock(),
        )
        if not await self._store.add_subscription(subscription):
            return next(s for s in await self._store.list_subscriptions() if s.url == url)
        log.info("subscribed to the blocklist %s", url)
        return subscription

    async def unsubscribe(self, subscription_id: str) -> list[str]:
        """Forget it and retract what it alone held; the domains unblocked."""
        removed = await self._store.remove_subscription(subscription_id)
        if removed is None:
            raise NoSuchSubscription(f"no subscription {subscription_id}")
        log.info("unsubscribed %s: %d entries retracted", subscription_id, len(removed))
        return removed

    async def every(self) -> list[BlocklistSubscription]:
        return await self._store.list_subscriptions()

    async def get(self, subscription_id: str) -> BlocklistSubscription:
        found = await self._store.get_subscription(subscription_id)
        if found is None:
            raise NoSuchSubscription(f"no subscription {subscription_id}")
        return found

    async def refresh_due(self) -> int:
        """The scheduler's tick: fetch every list that is due, each by one process only."""
        done = 0
        for subscription in await self._store.list_subscriptions():
            now = self._clock()
            if await self._store.claim_subscription(subscription.id, now, now + REFRESH_SECONDS):
                await self.refresh(subscription.id)
                done += 1
        return done

    async def refresh(self, subscription_id: str) -> SubscriptionFetch:
        """Fetch the list now and apply it (or hold it back); the outcome is its history's."""
        subscription = await self.get(subscription_id)
        try:
            fetched = await self._fetch(subscription)
        except TransportError as exc:
            failed = SubscriptionFetch(at=self._clock(), status=FAILED, error=str(exc))
            return await self._record(subscription, failed)
        if fetched is None:
            unchanged = SubscriptionFetch(
                at=self._clock(), status=NOT_MODIFIED, listed=subscription.listed
            )
            return await self._record(subscription, unchanged)
        entries = await self._usable(fetched.parsed)
        reason = _held_back(subscription, fetched.parsed, entries)
        if reason is not None:
            log.warning("blocklist %s held back: %s", subscription.url, reason)
            held = SubscriptionFetch(
                at=self._clock(), status=HELD_BACK, listed=len(entries), error=reason
            )
            return await self._record(subscription, held)
        return await self._apply(subscription, fetched, entries)

    async def _fetch(self, subscription: BlocklistSubscription) -> Fetched | None:
        result = await self._fetcher.fetch(
            subscription.url,
            accept=LIST_ACCEPT,
            etag=subscription.etag,
            last_modified=subscription.last_modified,
        )
        if result.status == 304:
            return None
        fmt = ListFormat(subscription.format) if subscription.format else None
        parsed = parse(result.body.decode("utf-8", "replace"), fmt)
        return Fetched(parsed, result.etag, result.last_modified)

    async def _usable(self, parsed: ParsedList) -> list[Listed]:
        allowed = []
        for text in await current_allowlist(self._store, self._settings):
            with contextlib.suppress(HostError):  # an unparsable old entry allows nothing
                allowed.append(Host.parse(text))
        return [e for e in parsed.entries if not _allowlisted(Host.parse(e.domain), allowed)]

    async def _apply(
        self, subscription: BlocklistSubscription, fetched: Fetched, entries: Sequence[Listed]
    ) -> SubscriptionFetch:
        now = self._clock()
        blocks = [
            DomainBlock(
                domain=e.domain,
                reason=e.comment,
                created_at=now,
                severity=e.severity,
                by_admin=False,
            )
            for e in entries
        ]
        added, removed = await self._store.apply_subscription(subscription.id, blocks)
        suspended = {e.domain for e in entries if e.severity is Severity.SUSPEND}
        for domain in added:
            if domain in suspended:
                await self._cut_ties(domain)
        applied = SubscriptionFetch(
            at=now, status=APPLIED, listed=len(entries), added=len(added), removed=len(removed)
        )
        log.info(
            "blocklist %s applied: %d entries, %d added, %d retracted",
            subscription.url,
            len(entries),
            len(added),
            len(removed),
        )
        await self._store.record_fetch(
            subscription.id,
            applied,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            listed=len(entries),
        )
        return applied

    async def _record(
        self, subscription: BlocklistSubscription, fetch: SubscriptionFetch
    ) -> SubscriptionFetch:
        await self._store.record_fetch(subscription.id, fetch)
        return fetch


def _allowlisted(host: Host, allowed: Sequence[Host]) -> bool:
    return any(entry.covers(host) or host.covers(entry) for entry in allowed)


def _held_back(
    subscription: BlocklistSubscription, parsed: ParsedList, entries: Sequence[Listed]
) -> str | None:
    if parsed.invalid:
        first = parsed.invalid[0]
        return f"{len(parsed.invalid)} invalid lines (line {first.line}: {first.reason})"
    floor = subscription.listed * (1 - subscription.max_shrink)
    if subscription.listed and len(entries) < floor:
        return (
            f"the list shrank from {subscription.listed} to {len(entries)} entries,"
            f" more than {subscription.max_shrink:.0%}"
        )
    return None
