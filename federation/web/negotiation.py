"""Content negotiation for ActivityStreams documents.

Every answer a route chooses by the Accept header (the ActivityStreams document, the browser's
redirect to the human page, a 304 revalidating either) is built here and carries `Vary: Accept`,
so a shared cache never hands one client's variant to another.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

AS_MEDIA_TYPE = "application/activity+json"
LD_MEDIA_TYPE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
VARY_ON_ACCEPT = {"Vary": "Accept"}


def wants_html(request: web.Request) -> bool:
    """True when a browser asks (text/html first) and no ActivityStreams type is acceptable."""
    accept = request.headers.get("Accept", "")
    if "activity+json" in accept or "ld+json" in accept:
        return False
    return "text/html" in accept


def activity_response(
    request: web.Request, data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """Answer with the ActivityStreams type the client asked for (ld+json when it named it)."""
    body = json.dumps(data, separators=(",", ":")).encode()
    return activity_body_response(request, body, status=status, headers=headers)


def activity_body_response(
    request: web.Request, body: bytes, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """activity_response for an object already encoded."""
    accept = request.headers.get("Accept", "")
    ctype = (
        "application/ld+json"
        if "ld+json" in accept and "activity+json" not in accept
        else (AS_MEDIA_TYPE)
    )
    resp = web.Response(status=status, body=body, headers=headers)
    if ctype == "application/ld+json":
        resp.headers["Content-Type"] = LD_MEDIA_TYPE
    else:
        resp.content_type = AS_MEDIA_TYPE
    resp.headers.update(VARY_ON_ACCEPT)
    return resp


def browser_redirect(location: str) -> web.HTTPFound:
    """The browser's variant: a redirect to the human page (raise it)."""
    return web.HTTPFound(location, headers=VARY_ON_ACCEPT)


def not_modified(validators: dict[str, str]) -> web.Response:
    """304 for a negotiated resource whose validators still match."""
    return web.Response(status=304, headers={**validators, **VARY_ON_ACCEPT})


def json_response(
    data: Any,
    *,
    status: int = 200,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> web.Response:
    resp = web.Response(
        status=status, body=json.dumps(data, separators=(",", ":")).encode(), headers=headers
    )
    resp.headers["Content-Type"] = content_type
    return resp
