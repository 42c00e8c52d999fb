"""One exception tree for the gateway."""

from __future__ import annotations


class FederationError(Exception):
    """Base of every error the gateway raises on purpose."""


class ConfigError(FederationError):
    """The instance configuration is missing or invalid."""


class KeyError_(FederationError):
    """A key file is missing, unreadable or malformed."""


class HostError(FederationError, ValueError):
    """A host (from a URL, an entry or an authority) is malformed."""


class SelfFollow(FederationError):
    """A follow between this instance and itself: its own blocks would come back as remote.
    (Here, not in follows/, because inbound/ and admin/ catch it too.)"""

    def __init__(self, domain: str) -> None:
        super().__init__(f"{domain} is this instance; an instance cannot follow itself")


class UrnError(FederationError, ValueError):
    """A block URN (or the URL it maps to) is malformed."""


class BackendError(FederationError):
    """The local backend is unreachable or answered badly."""


class TransportError(FederationError):
    """An outbound request was refused (SSRF guard, limits) or failed."""


class ProblemError(FederationError):
    """An error to answer to an HTTP client as RFC 9457 problem+json."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        type_: str = "about:blank",
        extra: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_
        self.extra = extra or {}
        self.headers = headers or {}  # e.g. Accept-Signature on a 401 for a signature
