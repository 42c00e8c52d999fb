"""The actor's followers and following collections (accepted relations between instances)."""

from __future__ import annotations

from aiohttp import web

from federation.activities import AS_CONTEXT
from federation.discovery import ActorUrls
from federation.records import Direction, FollowState
from federation.web.appkeys import SETTINGS, STORE
from federation.web.negotiation import activity_response

routes = web.RouteTableDef()


async def _collection(request: web.Request, direction: Direction, url: str) -> web.Response:
    store = request.app[STORE]
    follows = await store.list_follows(direction, FollowState.ACCEPTED)
    return activity_response(
        request,
        {
            "@context": AS_CONTEXT,
            "id": url,
            "type": "OrderedCollection",
            "totalItems": len(follows),
            "orderedItems": [f.actor for f in follows],
        },
    )


@routes.get("/actor/followers")
async def followers(request: web.Request) -> web.Response:
    urls = ActorUrls(request.app[SETTINGS].base_url)
    return await _collection(request, Direction.FOLLOWER, urls.followers)


@routes.get("/actor/following")
async def following(request: web.Request) -> web.Response:
    urls = ActorUrls(request.app[SETTINGS].base_url)
    return await _collection(request, Direction.FOLLOWING, urls.following)
