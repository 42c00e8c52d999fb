"""What the admin's use cases raise when the thing an operator named is not there."""

from __future__ import annotations

from federation.errors import FederationError


class NotFound(FederationError):
    """The thing the admin named does not exist."""
