"""RFC 9457 problem+json: the one writer, and the middleware that makes every error one.

Both HTTP apps of this package use it: the gateway (web/problems.py) and the reference backend
(refbackend/http.py), which stands for a separate product and shares no other web code with
the gateway. `ProblemPolicy` holds what differs between them: the realm a 401 names, where
failures are logged, and the words of the details.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from federation.errors import ProblemError

PROBLEM_TYPE = "application/problem+json"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem_response(
    status: int,
    title: str,
    detail: str = "",
    *,
    realm: str,
    type_: str = "about:blank",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> web.Response:
    """The problem as a response; a 401 without headers of its own challenges for a bearer
    token in `realm`."""
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    sent = {"Cache-Control": "no-store"}
    if status == 401 and not headers:
        sent["WWW-Authenticate"] = f'Bearer realm="{realm}"'
    sent.update(headers or {})
    return web.Response(
        status=status,
        body=json.dumps(body, separators=(",", ":")).encode(),
        content_type=PROBLEM_TYPE,
        headers=sent,
    )


@dataclass(frozen=True, kw_only=True)
class ProblemPolicy:
    """What one app answers when a request fails."""

    realm: str  # named by a 401's bearer challenge
    log: logging.Logger
    too_large: str  # the 413's detail
    store_down: str  # the 503's detail when the SQLite store cannot write (disk full, locked)
    failed: str  # the 500's detail: an unexpected error, logged with its traceback
    # The detail of an aiohttp HTTPException of 400 or more (an unknown path, a wrong method).
    http_detail: Callable[[web.Request, web.HTTPException], str]

    def answer(self, exc: ProblemError) -> web.Response:
        return problem_response(
            exc.status,
            exc.title,
            exc.detail,
            realm=self.realm,
            type_=exc.type,
            headers=exc.headers,
            **exc.extra,
        )

    async def handle(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """`handler`'s response, or the problem every error it raises stands for."""
        try:
            return await handler(request)
        except ProblemError as exc:
            return self.answer(exc)
        except web.HTTPRequestEntityTooLarge:
            return self.answer(ProblemError(413, "Payload too large", self.too_large))
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return self.answer(ProblemError(exc.status, exc.reason, self.http_detail(request, exc)))
        except sqlite3.OperationalError as exc:
            # Nothing was stored; the caller should retry.
            self.log.error("store unavailable: %s", exc)
            return self.answer(ProblemError(503, "Store unavailable", self.store_down))
        except Exception:
            self.log.exception("unhandled error on %s %s", request.method, request.path)
            return self.answer(ProblemError(500, "Internal error", self.failed))
