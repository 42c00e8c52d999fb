"""The gateway's RFC 9457 problems, and its middleware that makes every error one
(problem_json.py writes them)."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from federation.errors import BackendError, ProblemError
from federation.problem_json import Handler, ProblemPolicy

log = logging.getLogger("federation.web")

_POLICY = ProblemPolicy(
    realm="federation",
    log=log,
    too_large="the request body exceeds the limit",
    store_down="the gateway cannot write right now",
    failed="the gateway failed; see its log",
    http_detail=lambda request, exc: exc.text or "",
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
    return await _POLICY.handle(request, partial(_backend_unavailable, handler))


async def _backend_unavailable(handler: Handler, request: web.Request) -> web.StreamResponse:
    """The local backend did not answer: 503, so the caller retries later."""
    try:
        return await handler(request)
    except BackendError as exc:
        log.warning("backend unavailable: %s", exc)
        raise problem(503, "Backend unavailable", str(exc)) from None
