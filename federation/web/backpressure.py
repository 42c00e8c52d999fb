"""Inbound backpressure per peer: a token bucket per remote host on the inboxes (POST) and on
signed GETs (authorized fetch of blocks, the actor, the outbox).

The check runs before the body is read and before the signature is verified, so a request over
the limit costs a header parse: the key is the host of the signature's claimed keyId, or the
client address for an unsigned request. A claim is not proof, so a request whose signature
then fails gives its token back to the host it named and is charged to its address instead:
nobody can spend another host's allowance by naming its key, and an address whose failed
signatures have emptied its bucket is refused before any more are verified. Unsigned requests
have their own bucket per address.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from aiohttp.typedefs import Middleware

from federation.config import Limits
from federation.errors import ProblemError
from federation.hosts import host_key
from federation.signatures import parse_signature_header, parse_signature_input
from federation.signatures.model import Rejection
from federation.web.limits import PeerBuckets

INBOX_PATHS = frozenset({"/inbox", "/actor/inbox"})
SIGNATURE_HEADERS = ("Signature", "Signature-Input")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def claimed_signer(headers: Mapping[str, str]) -> str | None:
    """The host of the keyId a request's signature names (unverified), or None when the request
    carries no signature we can read a key URL from. RFC 9421 first, as the verifier does."""
    try:
        if "Signature-Input" in headers:
            inputs = parse_signature_input(headers["Signature-Input"])
            key_id = inputs[0].params.get("keyid") if inputs else None
        elif "Signature" in headers:
            key_id = parse_signature_header(headers["Signature"]).key_id
        else:
            return None
    except Rejection:
        return None
    return (host_key(key_id) or None) if isinstance(key_id, str) else None


def signature_failed(exc: ProblemError) -> bool:
    """A 401 that asks for a signature (Accept-Signature): the one the request bore did not
    verify, so it proves nothing about the host it named."""
    return exc.status == 401 and "Accept-Signature" in exc.headers


class Backpressure:
    def __init__(self, limits: Limits, clock: Callable[[], float]) -> None:
        self.inbox = PeerBuckets(limits.inbox_rate, limits.inbox_burst, clock)
        self.fetch = PeerBuckets(limits.fetch_rate, limits.fetch_burst, clock)

    def buckets_for(self, request: web.Request) -> PeerBuckets | None:
        """The inboxes' table for a POST to one, the fetches' for a signed GET, else None."""
        if request.method == "POST" and request.path in INBOX_PATHS:
            return self.inbox
        if request.method in ("GET", "HEAD") and any(
            name in request.headers for name in SIGNATURE_HEADERS
        ):
            return self.fetch
        return None


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
        signer = claimed_signer(request.headers)
        if signer is None:
            unsigned = f"unsigned {request.remote}"
            if not buckets.allow(unsigned):
                raise _too_many(buckets, unsigned, f"unsigned requests from {request.remote}")
            return await handler(request)
        # Kept apart from the unsigned ones: a peer's signed requests are not refused because
        # someone else at its address sends unsigned ones.
        forged = f"forged {request.remote}"
        if buckets.empty(forged):
            raise _too_many(buckets, forged, f"failed signatures from {request.remote}")
        if not buckets.allow(signer):
            raise _too_many(buckets, signer, f"host {signer}")
        try:
            return await handler(request)
        except ProblemError as exc:
            if signature_failed(exc):
                buckets.give_back(signer)
                buckets.allow(forged)
            raise

    return limit
