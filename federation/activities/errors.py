"""Why a received object or activity was refused (the reason goes into logs and problem+json)."""

from __future__ import annotations

from federation.errors import FederationError


class InvalidObject(FederationError):
    """A fetched or received block object failed validation."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidActivity(FederationError):
    """An inbound activity body is not one we accept."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
