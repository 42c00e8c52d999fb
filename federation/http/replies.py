"""Turning what the network did into the transport's outcomes: delivery results, fetch
answers and fetch errors. Pure classification: no request is made here."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from yarl import URL

from federation.http.ssrf import refusal_in
from federation.outcomes import (
    DeliveryOutcome,
    DeliveryResult,
    FetchError,
    FetchErrorKind,
    FetchResult,
)

_ERROR_BODY_BYTES = 1024  # read at most this much of a delivery response
ERROR_TEXT_CHARS = 200
# The error of a delivery that got no answer in time (connect or read timeout, or the total).
TIMED_OUT = "timeout"


@dataclass(frozen=True, slots=True)
class Hop:
    """One GET response, body read: a redirect to follow or the answer."""

    status: int
    location: str | None
    content_type: str
    body: bytes
    etag: str | None
    last_modified: str | None
    accept_signature: str | None = None  # a 401's RFC 9421 ask, when it carries one
    scheme: str = ""  # how the request was signed


async def read_prefix(resp: aiohttp.ClientResponse) -> str:
    """The start of a response body, for error messages; the rest is never read."""
    data = b""
    async for chunk in resp.content.iter_chunked(_ERROR_BODY_BYTES):
        data += chunk
        if len(data) >= _ERROR_BODY_BYTES:
            break
    return data.decode("utf-8", "replace")[:ERROR_TEXT_CHARS].strip()


def failed_delivery(exc: Exception, scheme: str) -> DeliveryResult:
    refusal = refusal_in(exc)
    if refusal is not None:
        return DeliveryResult(DeliveryOutcome.PERMANENT, None, None, refusal.reason, scheme)
    if isinstance(exc, TimeoutError):
        return DeliveryResult(DeliveryOutcome.RETRY, None, None, TIMED_OUT, scheme)
    if isinstance(exc, aiohttp.ClientError | OSError):
        error = f"connection failed: {exc}"[:ERROR_TEXT_CHARS]
        return DeliveryResult(DeliveryOutcome.RETRY, None, None, error, scheme)
    raise exc


def fetch_failure(exc: Exception, url: URL) -> Exception:
    refusal = refusal_in(exc)
    if refusal is not None:
        return FetchError(FetchErrorKind.REFUSED, refusal.reason)
    if isinstance(exc, TimeoutError):
        return FetchError(FetchErrorKind.TIMEOUT, f"timed out fetching {url}")
    if isinstance(exc, aiohttp.ClientError | OSError):
        return FetchError(FetchErrorKind.CONNECTION, f"{url}: {exc}"[:ERROR_TEXT_CHARS])
    return exc


def answer(url: URL, hop: Hop) -> FetchResult:
    if 200 <= hop.status < 300 or hop.status == 304:
        return FetchResult(
            str(url),
            hop.status,
            hop.content_type,
            hop.body,
            hop.etag,
            hop.last_modified,
            hop.scheme,
        )
    if hop.status == 404:
        raise FetchError(FetchErrorKind.NOT_FOUND, f"{url} answered 404", 404)
    if hop.status == 410:
        raise FetchError(FetchErrorKind.GONE, f"{url} answered 410", 410)
    raise FetchError(FetchErrorKind.HTTP_STATUS, f"{url} answered {hop.status}", hop.status)
