"""Peer-facing mirror: GET /mirror/blocks?urn=... hands over an origin-signed copy we hold.

Only signed requests from peers are answered (the copy is public, but this endpoint exists for
instances resolving through us while an origin is down), and each signer's host gets a bounded
number of answers per minute so nobody can use us to crawl someone else's instance.
"""

from __future__ import annotations

from aiohttp import web

from federation.errors import UrnError
from federation.hosts import host_key
from federation.resolve.mirrors import MIRROR_PATH
from federation.urn import BlockUrn
from federation.web.appkeys import MIRROR_LIMIT, MIRRORS, SETTINGS, SIGNATURE_VERIFIER
from federation.web.negotiation import json_response
from federation.web.problems import problem

ANSWERS_PER_MINUTE = 120

routes = web.RouteTableDef()


@routes.get(MIRROR_PATH)
async def get_copy(request: web.Request) -> web.Response:
    verifier = request.app.get(SIGNATURE_VERIFIER)
    signer = None if verifier is None else await verifier(request)
    owner = getattr(signer, "owner", None)
    if not isinstance(owner, str):
        raise problem(401, "Signature required", "the mirror answers signed requests only")
    if not request.app[MIRROR_LIMIT].allow(host_key(owner)):
        raise problem(429, "Too many requests", f"at most {ANSWERS_PER_MINUTE} copies a minute")
    try:
        urn = BlockUrn.parse(request.query.get("urn", ""))
    except UrnError as exc:
        raise problem(400, "Malformed URN", str(exc)) from None
    if urn.authority == request.app[SETTINGS].domain:
        raise problem(404, "Not found", "our own blocks are read at /blocks/{id}")
    copy = await request.app[MIRRORS].copy_for(urn)
    if copy is None:
        raise problem(404, "Not found", "no origin-signed copy of this block is held here")
    return json_response(copy)
