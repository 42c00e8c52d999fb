"""What an outbound request came to: delivery outcomes, fetch results and errors, and the
status rules that classify them (pure: no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Protocol

from federation.errors import TransportError


class DeliveryOutcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    PERMANENT = "permanent"
    NOT_FOUND = "not_found"  # 404: a failure, never a success (retried)
    GONE = "gone"  # 410: the inbox was deleted


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    outcome: DeliveryOutcome
    status: int | None
    retry_after: float | None  # seconds from now, when the peer said so
    error: str | None
    scheme: str  # the signature scheme of the last attempt


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str  # the final URL, after redirects
    status: int  # 2xx, or 304 with an empty body
    content_type: str  # the raw header: checking it is the caller's job
    body: bytes
    etag: str | None
    last_modified: str | None
    scheme: str = ""  # the HTTP signature scheme of the request that got this answer


class FetchErrorKind(StrEnum):
    REFUSED = "refused"  # scheme, credentials or SSRF guard
    TOO_LARGE = "too_large"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    HTTP_STATUS = "http_status"  # non-2xx other than 304/404/410
    NOT_FOUND = "not_found"  # 404: absent, or not public (the two look the same)
    GONE = "gone"  # 410: deleted


class FetchError(TransportError):
    def __init__(self, kind: FetchErrorKind, reason: str, status: int | None = None) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason
        self.status = status


def classify(status: int) -> DeliveryOutcome:
    """Mastodon's rules: no retry on 4xx except 401/408/429, nor on 501."""
    if 200 <= status < 300:
        return DeliveryOutcome.DELIVERED
    if status == 404:
        return DeliveryOutcome.NOT_FOUND
    if status == 410:
        return DeliveryOutcome.GONE
    if status == 409:
        # An inbox answers 409 to an activity it already holds (ours does, for replays): a
        # retry after a lost 202 has, in effect, been delivered.
        return DeliveryOutcome.DELIVERED
    if status in (401, 408, 429):
        return DeliveryOutcome.RETRY
    if status == 501 or 400 <= status < 500:
        return DeliveryOutcome.PERMANENT
    return DeliveryOutcome.RETRY  # 5xx, and 3xx since POSTs never follow redirects


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Retry-After as seconds from `now`: delta-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" dates come back naive; HTTP-dates are GMT
        return None
    return max(0.0, when.timestamp() - now)


class Fetcher(Protocol):
    """The signed GET of remote documents (federation.http.transport.Transport provides it)."""

    async def fetch(
        self,
        url: str,
        *,
        accept: str = ...,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        """The document at `url`; FetchError when there is none to accept."""
