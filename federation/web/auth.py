"""Bearer-token checks for the backend-facing and admin APIs (constant-time comparison)."""

from __future__ import annotations

import hmac

from aiohttp import web

from federation.web.appkeys import SETTINGS
from federation.web.problems import problem


def require_bearer(request: web.Request, token: str, what: str) -> None:
    """401 unless the request carries `token`. An empty token locks the API, never opens it."""
    given = request.headers.get("Authorization", "").encode()
    if not token or not hmac.compare_digest(given, f"Bearer {token}".encode()):
        raise problem(401, "Unauthorized", f"missing or wrong {what} bearer token")


def require_backend_token(request: web.Request) -> None:
    require_bearer(request, request.app[SETTINGS].backend_token, "backend")


def require_admin_token(request: web.Request) -> None:
    token = request.app[SETTINGS].admin_token
    if not token:
        raise problem(403, "Admin API disabled", "set admin_token in the instance file to use it")
    require_bearer(request, token, "admin")
