"""Peer-facing POST routes: the instance inbox and the shared inbox."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from federation.errors import ProblemError
from federation.hosts import host_key
from federation.inbound.pipeline import InboundRequest
from federation.jobs.periodic import Periodic
from federation.observability.ratelimit import RateLimitedEvents
from federation.web.appkeys import CLOCK, INBOX, SETTINGS
from federation.web.negotiation import json_response
from federation.web.problems import problem

routes = web.RouteTableDef()
log = logging.getLogger("federation.inbound.refused")

# One line per refused request, rate-limited per reason; the suppressed ones are summarised.
REFUSALS: web.AppKey[RateLimitedEvents] = web.AppKey("inbox_refusals")
SUMMARY_INTERVAL = 10.0


async def _inbox(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    body = b""
    try:
        length = request.content_length
        if length is not None and length > settings.limits.max_body_bytes:
            raise problem(413, "Payload too large", "the activity exceeds the body limit")
        body = await request.read()
        if not body:
            raise problem(400, "Empty body", "POST an ActivityStreams activity")
        inbound = InboundRequest(
            method=request.method,
            # Peers sign our public URL, which may differ from what a reverse proxy hands us.
            url=settings.base_url + request.path_qs,
            headers=request.headers,
            body=body,
        )
        activity_id = await request.app[INBOX].accept(inbound)
    except ProblemError as exc:
        _log_refusal(request, exc, body)
        raise
    return json_response({"status": "accepted", "id": activity_id}, status=202)


def _log_refusal(request: web.Request, exc: ProblemError, body: bytes) -> None:
    """Status, reason and who asked: never a header (the Signature, a token) or the body."""
    refusals = request.app.get(REFUSALS)
    if refusals is None:
        return
    actor = _claimed_actor(body)
    refusals.emit(
        exc.title,
        exc.detail[:300],
        status=exc.status,
        remote_host=host_key(actor) if actor else None,
        remote_addr=request.remote,
        actor=actor,
    )


def _claimed_actor(body: bytes) -> str | None:
    """The actor the body names, if it names one (claimed, not verified)."""
    with contextlib.suppress(ValueError, RecursionError, AttributeError):
        actor = json.loads(body).get("actor") if body else None
        if isinstance(actor, str) and actor.startswith(("http://", "https://")):
            return actor[:500]
    return None


async def refusal_log(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: the refusal log, and its periodic summary of suppressed lines."""
    refusals = RateLimitedEvents(log, "inbound.refused", app[CLOCK])
    app[REFUSALS] = refusals

    async def summarise() -> None:
        refusals.flush()

    summaries = Periodic("refusal-summaries", summarise, SUMMARY_INTERVAL, logger=log)
    summaries.start()
    try:
        yield
    finally:
        await summaries.stop()
        refusals.flush()


routes.post("/actor/inbox")(_inbox)
routes.post("/inbox")(_inbox)


@routes.get("/actor/inbox")
async def inbox_get(request: web.Request) -> web.Response:
    raise problem(405, "Method not allowed", "the inbox only accepts POST")
