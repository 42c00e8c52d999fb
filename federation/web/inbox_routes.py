"""Peer-facing POST routes: the instance inbox and the shared inbox."""

from __future__ import annotations

from aiohttp import web

from federation.inbound.pipeline import InboundRequest
from federation.web.appkeys import INSTANCE, SETTINGS
from federation.web.negotiation import json_response
from federation.web.problems import problem

routes = web.RouteTableDef()


async def _inbox(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
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
    instance = request.app[INSTANCE]
    activity_id = await instance.inbox.accept(inbound)
    instance.runner.wake()
    return json_response({"status": "accepted", "id": activity_id}, status=202)


routes.post("/actor/inbox")(_inbox)
routes.post("/inbox")(_inbox)


@routes.get("/actor/inbox")
async def inbox_get(request: web.Request) -> web.Response:
    raise problem(405, "Method not allowed", "the inbox only accepts POST")
