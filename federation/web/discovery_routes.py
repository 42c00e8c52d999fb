"""Routes that let peers find the instance actor: actor, WebFinger, host-meta, NodeInfo, context."""

from __future__ import annotations

from aiohttp import web

from federation import discovery
from federation.activities.context import context_document
from federation.web.appkeys import KEYS, SETTINGS
from federation.web.negotiation import activity_response, json_response
from federation.web.problems import problem

routes = web.RouteTableDef()

MAX_RESOURCE_LEN = 2048


@routes.get("/actor")
async def actor(request: web.Request) -> web.Response:
    app = request.app
    return activity_response(
        request,
        discovery.actor_document(app[SETTINGS], app[KEYS]),
        headers={"Cache-Control": "max-age=300"},
    )


@routes.get("/.well-known/webfinger")
async def webfinger(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    resource = request.query.get("resource", "")
    if not resource:
        raise problem(400, "Missing resource", "pass ?resource=acct:user@host or an actor URL")
    if len(resource) > MAX_RESOURCE_LEN:
        raise problem(400, "Resource too long", f"at most {MAX_RESOURCE_LEN} characters")
    normalised = resource.strip()
    if normalised.lower().startswith("acct:"):
        normalised = "acct:" + normalised[5:].lower()
    if normalised not in discovery.webfinger_subjects(settings):
        raise problem(404, "Unknown resource", "this server only describes its instance actor")
    return json_response(
        discovery.webfinger_document(settings),
        content_type=discovery.JRD_TYPE,
        headers={"Access-Control-Allow-Origin": "*"},
    )


@routes.get("/.well-known/host-meta")
async def host_meta(request: web.Request) -> web.Response:
    xml = discovery.host_meta_xml(request.app[SETTINGS])
    return web.Response(text=xml, content_type="application/xrd+xml")


@routes.get("/.well-known/nodeinfo")
async def nodeinfo_links(request: web.Request) -> web.Response:
    return json_response(discovery.nodeinfo_links(request.app[SETTINGS]))


@routes.get("/nodeinfo/2.1")
async def nodeinfo(request: web.Request) -> web.Response:
    return json_response(
        discovery.nodeinfo_document(request.app[SETTINGS]),
        content_type=discovery.NODEINFO_21_TYPE,
    )


@routes.get("/ns")
async def context(request: web.Request) -> web.Response:
    return json_response(
        context_document(),
        content_type="application/ld+json",
        headers={"Cache-Control": "max-age=86400", "Access-Control-Allow-Origin": "*"},
    )


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})
