"""The one signed HTTP client: POST to inboxes, GET remote objects.

Every attempt is signed afresh (new Date), every URL is vetted (scheme, credentials) and every
connection passes the SSRF guard in the connector (federation.http.ssrf). Outcomes are
classified here so that the delivery worker and the resolver only decide what to do next,
never how HTTP went.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import aiohttp
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from yarl import URL

from federation.config import Settings
from federation.hosts import host_key
from federation.http.hostrecords import HostRecords
from federation.http.replies import Hop, answer, failed_delivery, fetch_failure, read_prefix
from federation.http.session import make_session
from federation.http.ssrf import SsrfRefused, check_url, refusal_in
from federation.outcomes import (
    DeliveryOutcome,
    DeliveryResult,
    FetchError,
    FetchErrorKind,
    FetchResult,
    classify,
    parse_retry_after,
)
from federation.ports import HostStore
from federation.signatures import SigningKey, sign_cavage, sign_rfc9421
from federation.signatures.accept import (
    SignatureAsk,
    choose_ask,
    format_ask,
    parse_accept_signature,
)
from federation.signatures.rfc9421_signing import signing_algorithm

__all__ = [
    "DeliveryOutcome",
    "DeliveryResult",
    "FetchError",
    "FetchErrorKind",
    "FetchResult",
    "Transport",
    "classify",
    "make_session",
    "parse_retry_after",
]

AS_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
ACTIVITY_JSON = "application/activity+json"
CAVAGE = "cavage"
RFC9421 = "rfc9421"

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@functools.cache
def signing_pool() -> ThreadPoolExecutor:
    """RSA signing threads, one per CPU this process may run on. `cryptography` releases the
    GIL while it signs (measured: two threads sign about twice as fast as one on two cores),
    so threads, not processes, let a fan-out use every core; sized by the affinity mask, not
    the machine's CPU count, because a gateway pinned to some cores cannot use the others."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return ThreadPoolExecutor(max(1, cpus or 1), thread_name_prefix="rsa-sign")


class Transport:
    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        settings: Settings,
        key: SigningKey,
        hosts: HostStore,
        clock: Callable[[], float] = time.time,
        rfc9421_key: SigningKey | None = None,
        records: HostRecords | None = None,
    ) -> None:
        self._session = session
        self._settings = settings
        self._allow_http = settings.dev_allow_http
        self._max_body = settings.limits.max_body_bytes
        self._key = key
        self._rfc9421_key = rfc9421_key or key
        self._clock = clock
        # The learned scheme is a field of the host's record: read through the process's one
        # record cache (shared with host health), which saves a store read per delivery.
        self._records = records or HostRecords(hosts)

    # -- signing and per-host memory ---------------------------------------------------------

    async def _signed(
        self, scheme: str, method: str, url: URL, headers: dict[str, str], body: bytes | None
    ) -> dict[str, str]:
        """Sign with `scheme`: "cavage", "rfc9421", or "rfc9421 <ask>" (as a peer asked)."""
        now = self._clock()
        name, _, asked = scheme.partition(" ")
        if name == RFC9421:
            key = self._rfc9421_key
            ask = _remembered_ask(asked)
            sign: Callable[..., dict[str, str]] = functools.partial(sign_rfc9421, ask=ask)
        else:
            key, sign = self._key, sign_cavage
        if isinstance(key.private_key, RSAPrivateKey):
            # An RSA-2048 signature costs ~0.5-1 ms of CPU: signing on worker threads keeps
            # the event loop free and lets a fan-out use every core (see signing_pool).
            loop = asyncio.get_running_loop()
            added = await loop.run_in_executor(
                signing_pool(), sign, method, str(url), headers, body, key, now
            )
        else:  # Ed25519 signs in microseconds: a thread hop would cost more than it saves
            added = sign(method, str(url), headers, body, key, now)
        return {**headers, **added}

    def _answer_to(self, accept_signature: str | None, *, with_body: bool) -> str | None:
        """The scheme that meets a peer's Accept-Signature, or None when it asks for nothing
        our RFC 9421 key can make."""
        if not accept_signature:
            return None
        key = self._rfc9421_key
        alg = signing_algorithm(key.private_key)
        ask = choose_ask(
            parse_accept_signature(accept_signature), key.key_id, alg, with_body=with_body
        )
        return None if ask is None else f"{RFC9421} {format_ask(ask)}"

    async def _remembered_scheme(self, host: str) -> str:
        """The scheme that worked last for `host`, "" when none is stored."""
        return (await self._records.get(host)).signature_scheme or ""

    async def _remember(self, host: str, scheme: str) -> None:
        if await self._remembered_scheme(host) != scheme:
            await self._records.set_signature_scheme(host, scheme)

    # -- delivery ----------------------------------------------------------------------------

    async def deliver(self, inbox_url: str, body: bytes) -> DeliveryResult:
        """POST one activity. Double knock: on 400/401 re-sign with the other scheme once."""
        try:
            url = check_url(inbox_url, allow_http=self._allow_http)
        except SsrfRefused as exc:
            return DeliveryResult(DeliveryOutcome.PERMANENT, None, None, exc.reason, CAVAGE)
        host = host_key(str(url))
        stored = await self._remembered_scheme(host)
        scheme = stored or CAVAGE
        result, asked = await self._post(url, body, scheme)
        if result.status in (400, 401):
            # A peer that says what it wants (Accept-Signature) gets it; otherwise swap schemes.
            answer_scheme = self._answer_to(asked, with_body=True)
            other = answer_scheme or (RFC9421 if scheme == CAVAGE else CAVAGE)
            retried, _ = await self._post(url, body, other)
            if retried.outcome is DeliveryOutcome.DELIVERED:
                await self._remember(host, _without_nonce(other))
            return retried
        if result.outcome is DeliveryOutcome.DELIVERED and not stored:
            await self._remember(host, scheme)
        return result

    async def _post(self, url: URL, body: bytes, scheme: str) -> tuple[DeliveryResult, str | None]:
        """The result, and the peer's Accept-Signature when it sent one."""
        headers = await self._signed(scheme, "POST", url, {"Content-Type": ACTIVITY_JSON}, body)
        name = scheme.partition(" ")[0]
        try:
            async with self._session.post(
                url, data=body, headers=headers, allow_redirects=False
            ) as resp:
                status = resp.status
                outcome = classify(status)
                retry_after = parse_retry_after(resp.headers.get("Retry-After"), self._clock())
                asked = resp.headers.get("Accept-Signature")
                text = await read_prefix(resp)
        except Exception as exc:
            return failed_delivery(exc, name), None
        error = None
        if outcome is not DeliveryOutcome.DELIVERED:
            error = f"HTTP {status}: {text}" if text else f"HTTP {status}"
        return DeliveryResult(outcome, status, retry_after, error, name), asked

    # -- fetching ----------------------------------------------------------------------------

    async def fetch(
        self,
        url: str,
        *,
        accept: str = AS_ACCEPT,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        """Signed GET, following at most limits.max_redirects redirects, each re-vetted."""
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = self._vet(url)
        for _ in range(self._settings.limits.max_redirects + 1):
            hop = await self._get_knocking(current, headers)
            if hop.status in _REDIRECTS and hop.location:
                current = self._vet(current.join(URL(hop.location)))
                continue
            return answer(current, hop)
        raise FetchError(
            FetchErrorKind.TOO_MANY_REDIRECTS,
            f"more than {self._settings.limits.max_redirects} redirects",
        )

    def _vet(self, url: str | URL) -> URL:
        try:
            return check_url(url, allow_http=self._allow_http)
        except SsrfRefused as exc:
            raise FetchError(FetchErrorKind.REFUSED, exc.reason) from exc

    async def _get_knocking(self, url: URL, headers: dict[str, str]) -> Hop:
        host = host_key(str(url))
        scheme = await self._remembered_scheme(host) or CAVAGE
        hop = await self._get(url, headers, scheme)
        if hop.status == 401:
            answer_scheme = self._answer_to(hop.accept_signature, with_body=False)
            other = answer_scheme or (RFC9421 if scheme == CAVAGE else CAVAGE)
            hop = await self._get(url, headers, other)
            if 200 <= hop.status < 400:
                await self._remember(host, _without_nonce(other))
        return hop

    async def _get(self, url: URL, headers: dict[str, str], scheme: str) -> Hop:
        signed = await self._signed(scheme, "GET", url, headers, None)
        try:
            async with self._session.get(url, headers=signed, allow_redirects=False) as resp:
                body = b""
                if 200 <= resp.status < 300:
                    body = await self._read_capped(resp)
                return Hop(
                    resp.status,
                    resp.headers.get("Location"),
                    resp.headers.get("Content-Type", ""),
                    body,
                    resp.headers.get("ETag"),
                    resp.headers.get("Last-Modified"),
                    resp.headers.get("Accept-Signature"),
                    scheme.partition(" ")[0],  # "rfc9421", also when signed as a peer asked
                )
        except FetchError:
            raise
        except Exception as exc:
            # Chain the guard's refusal itself, when it was one, so callers can see why.
            raise fetch_failure(exc, url) from (refusal_in(exc) or exc)

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes:
        cap = self._max_body
        if resp.content_length is not None and resp.content_length > cap:
            raise FetchError(FetchErrorKind.TOO_LARGE, f"Content-Length over {cap} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > cap:
                raise FetchError(FetchErrorKind.TOO_LARGE, f"body over {cap} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def _remembered_ask(asked: str) -> SignatureAsk | None:
    """The ask stored after "rfc9421 " in a host's scheme (None: our default RFC 9421)."""
    asks = parse_accept_signature(asked) if asked else []
    return asks[0] if asks else None


def _without_nonce(scheme: str) -> str:
    """A scheme to remember: a nonce was good for one request only."""
    name, _, asked = scheme.partition(" ")
    ask = _remembered_ask(asked)
    return name if ask is None else f"{name} {format_ask(ask.without_nonce())}"
