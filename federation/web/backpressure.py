"""Inbound backpressure per peer: a token bucket per remote host on the inboxes (POST) and on
signed GETs (authorized fetch of blocks, the actor, the outbox).

The check runs before the body is read and before the signature is verified, so a request over
the limit costs a header parse: the key is the host of the signature's claimed keyId, or the
client address for an unsigned request. A claim is not proof, so a request whose signature
then fails gives its token back to the host it named and is charged to its address instead:
nobody can spend another host's allowance by naming its key, and an address whose failed
signatures have emptied its bucket is refused before any more are verified. Unsigned requests
have their own bucket per address.

Refusing is cheap but not free (aiohttp parses each request): a sender that ignores Retry-After
could make us spend a core on 429s. So a 429 is answered after a hold (`throttled_hold_seconds`,
1 s; at most MAX_HELD held at once, each a sleeping task): every sender has a bounded number of
connections, and each then carries at most one refused request per hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from aiohttp import web
from aiohttp.typedefs import Middleware
from cachetools import LRUCache

from federation.config import Limits
from federation.errors import ProblemError
from federation.hosts import host_key
from federation.web.limits import MAX_PEERS, PeerBuckets

INBOX_PATHS = frozenset({"/inbox", "/actor/inbox"})
# draft-cavage `keyId="..."`, RFC 9421 `;keyid="..."`: the first one, within the first 8 KiB.
_KEY_ID = re.compile(r'keyid="([^"]{1,2048})"', re.IGNORECASE)
MAX_HEADER = 8192
# Refusals held back at once (each a sleeping task): past this, the rest are answered at once.
MAX_HELD = 1000
SIGNATURE_HEADERS = ("Signature", "Signature-Input")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def claimed_key_id(headers: Mapping[str, str]) -> str | None:
    """The keyId a request's signature names (RFC 9421 first, as the verifier reads them), by a
    glance at the header: a claim to key the limit by, never trusted. The verifier parses the
    header strictly later, and a request whose claim was false fails there."""
    value = headers.get("Signature-Input") or headers.get("Signature")
    if value is None:
        return None
    found = _KEY_ID.search(value[:MAX_HEADER])
    return found.group(1) if found else None


def signature_failed(exc: ProblemError) -> bool:
    """A 401 that asks for a signature (Accept-Signature): the one the request bore did not
    verify, so it proves nothing about the host it named."""
    return exc.status == 401 and "Accept-Signature" in exc.headers


class Backpressure:
    def __init__(self, limits: Limits, clock: Callable[[], float]) -> None:
        self.inbox = PeerBuckets(limits.inbox_rate, limits.inbox_burst, clock)
        self.fetch = PeerBuckets(limits.fetch_rate, limits.fetch_burst, clock)
        self._hold = limits.throttled_hold_seconds
        self._held = 0
        # keyId -> its host: parsing a URL into a Host is the dearest step of the check.
        self._hosts: LRUCache[str, str | None] = LRUCache(maxsize=MAX_PEERS)
        self._width = limits.peer_concurrency
        self._lanes: dict[str, tuple[asyncio.Semaphore, int]] = {}

    def buckets_for(self, request: web.Request) -> PeerBuckets | None:
        """The inboxes' table for a POST to one, the fetches' for a signed GET, else None."""
        if request.method == "POST" and request.path in INBOX_PATHS:
            return self.inbox
        if request.method in ("GET", "HEAD") and any(
            name in request.headers for name in SIGNATURE_HEADERS
        ):
            return self.fetch
        return None

    def claimed_signer(self, headers: Mapping[str, str]) -> str | None:
        """The host of the keyId the signature names, or None (unsigned, or no key URL)."""
        key_id = claimed_key_id(headers)
        if key_id is None:
            return None
        if key_id not in self._hosts:
            self._hosts[key_id] = host_key(key_id) or None
        return self._hosts[key_id]

    async def refuse(self, buckets: PeerBuckets, key: str, who: str) -> ProblemError:
        """The 429, answered after the hold: a sender that ignores Retry-After then sends at
        most one request per connection and hold, not as fast as we can refuse. The hold is
        jittered (half to one and a half of it) so a flooder's connections do not come back
        all at once."""
        if self._held < MAX_HELD and self._hold > 0:
            self._held += 1
            try:
                await asyncio.sleep(self._hold * random.uniform(0.5, 1.5))
            finally:
                self._held -= 1
        return _too_many(buckets, key, who)

    @contextlib.asynccontextmanager
    async def lane(self, key: str) -> AsyncIterator[None]:
        """At most `peer_concurrency` requests of one peer checked at once; the rest wait
        their turn, so a peer sending many at once interleaves with the others instead of
        queueing them behind all of its own. A lane lives while it has requests."""
        semaphore, users = self._lanes.get(key, (None, 0))
        if semaphore is None:
            semaphore = asyncio.Semaphore(self._width)
        self._lanes[key] = (semaphore, users + 1)
        try:
            async with semaphore:
                yield
        finally:
            semaphore, users = self._lanes[key]
            if users == 1:
                del self._lanes[key]
            else:
                self._lanes[key] = (semaphore, users - 1)


def _too_many(buckets: PeerBuckets, key: str, who: str) -> ProblemError:
    wait = buckets.retry_after(key)
    return ProblemError(
        429,
        "Too many requests",
        f"{who} is over its limit of {buckets.rate:g} requests a second "
        f"(bursts of {buckets.burst:g}); retry after {wait} s",
        headers={"Retry-After": str(wait)},
    )


def backpressure(limits: Limits, clock: Callable[[], float]) -> Middleware:
    """The middleware; it must sit inside the problem middleware, which renders its 429."""
    state = Backpressure(limits, clock)

    @web.middleware
    async def limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        buckets = state.buckets_for(request)
        if buckets is None:
            return await handler(request)
        signer = state.claimed_signer(request.headers)
        if signer is None:
            unsigned = f"unsigned {request.remote}"
            if not buckets.allow(unsigned):
                who = f"unsigned requests from {request.remote}"
                raise await state.refuse(buckets, unsigned, who)
            async with state.lane(unsigned):
                return await handler(request)
        # Kept apart from the unsigned ones: a peer's signed requests are not refused because
        # someone else at its address sends unsigned ones.
        forged = f"forged {request.remote}"
        if buckets.empty(forged):
            raise await state.refuse(buckets, forged, f"failed signatures from {request.remote}")
        if not buckets.allow(signer):
            raise await state.refuse(buckets, signer, f"host {signer}")
        try:
            async with state.lane(signer):
                return await handler(request)
        except ProblemError as exc:
            if signature_failed(exc):
                buckets.give_back(signer)
                buckets.allow(forged)
            raise

    return limit
