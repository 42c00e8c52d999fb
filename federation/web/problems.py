"""RFC 9457 problem+json responses, and the middleware that makes every error one."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from federation.errors import BackendError, ProblemError

PROBLEM_TYPE = "application/problem+json"
log = logging.getLogger("federation.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem_response(
    status: int,
    title: str,
    detail: str = "",
    *,
    type_: str = "about:blank",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> web.Response:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    sent = {"Cache-Control": "no-store"}
    if status == 401 and not headers:
        sent["WWW-Authenticate"] = 'Bearer realm="federation"'
    sent.update(headers or {})
    return web.Response(
        status=status,
        body=json.dumps(body, separators=(",", ":")).encode(),
        content_type=PROBLEM_TYPE,
        headers=sent,
    )


def problem(status: int, title: str, detail: str = "", **extra: Any) -> ProblemError:
    return ProblemError(status, title, detail, extra=extra)


def field_problem(exc: ValidationError) -> ProblemError:
    """422 naming the first field a pydantic model refused."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "(body)"
    return problem(422, "Invalid body", f"{field}: {first['msg']}", field=field)


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ProblemError as exc:
        return problem_response(
            exc.status, exc.title, exc.detail, type_=exc.type, headers=exc.headers, **exc.extra
        )
    except web.HTTPRequestEntityTooLarge:
        return problem_response(413, "Payload too large", "the request body exceeds the limit")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return problem_response(exc.status, exc.reason, exc.text or "")
    except BackendError as exc:
        log.warning("backend unavailable: %s", exc)
        return problem_response(503, "Backend unavailable", str(exc))
    except sqlite3.OperationalError as exc:
        # Disk full, read-only file, locked: nothing was stored; the caller should retry.
        log.error("store unavailable: %s", exc)
        return problem_response(503, "Store unavailable", "the gateway cannot write right now")
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(500, "Internal error", "the gateway failed; see its log")
