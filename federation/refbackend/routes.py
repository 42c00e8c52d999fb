"""Routes of the reference backend: the contract endpoints and the management API."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiohttp import web
from pydantic import BaseModel

from federation.backend.contract import (
    API_PREFIX,
    MAX_PAGE_LIMIT,
    BlockPage,
    InboundBatch,
    InboundNotification,
)
from federation.errors import ProblemError
from federation.problem_json import Handler
from federation.refbackend.blocks import (
    BlockCreate,
    BlockPatch,
    BlockService,
    decode_cursor,
    encode_cursor,
)
from federation.refbackend.gateway import GatewayLink
from federation.refbackend.http import (
    found_response,
    items_response,
    model_response,
    read_json,
    read_model,
    validate,
)
from federation.refbackend.reporter import EventReporter
from federation.refbackend.store import BackendStore

STORE: web.AppKey[BackendStore] = web.AppKey("backend_store")
BLOCKS: web.AppKey[BlockService] = web.AppKey("backend_blocks")
REPORTER: web.AppKey[EventReporter] = web.AppKey("backend_reporter")
GATEWAY: web.AppKey[GatewayLink] = web.AppKey("backend_gateway")
CLOCK: web.AppKey[Callable[[], float]] = web.AppKey("backend_clock")

DEFAULT_PAGE_LIMIT = 50

routes = web.RouteTableDef()


@routes.get(API_PREFIX + "/blocks")
async def list_blocks(request: web.Request) -> web.Response:
    query = request.query
    limit = _limit(query.get("limit"))
    after = decode_cursor(query["cursor"]) if query.get("cursor") else 0
    federated = query.get("federated") in ("1", "true")
    page = request.app[STORE].list_blocks(after, limit, federated)
    more = page.has_more and page.last_seq is not None
    cursor = encode_cursor(page.last_seq) if more and page.last_seq is not None else None
    return model_response(BlockPage(items=page.items, next_cursor=cursor))


@routes.post(API_PREFIX + "/blocks")
async def create_block(request: web.Request) -> web.Response:
    body = await read_model(request, BlockCreate)
    block = request.app[BLOCKS].create(body)
    request.app[REPORTER].wake()
    response = model_response(block, status=201)
    response.headers["Location"] = f"{API_PREFIX}/blocks/{block.id}"
    return response


@routes.patch(API_PREFIX + "/blocks/{id}")
async def edit_block(request: web.Request) -> web.Response:
    patch = await read_model(request, BlockPatch)
    block = request.app[BLOCKS].edit(request.match_info["id"], patch)
    request.app[REPORTER].wake()
    return model_response(block)


@routes.delete(API_PREFIX + "/blocks/{id}")
async def delete_block(request: web.Request) -> web.Response:
    request.app[BLOCKS].delete(request.match_info["id"])
    request.app[REPORTER].wake()
    return web.Response(status=204)


@routes.post(API_PREFIX + "/inbound")
async def inbound(request: web.Request) -> web.Response:
    """One notification (an object) or several (an array, each applied as if posted alone)."""
    data = await read_json(request)
    notes = (
        validate(InboundBatch, {"items": data}).items
        if isinstance(data, list)
        else [validate(InboundNotification, data)]
    )
    now = request.app[CLOCK]()
    for note in notes:
        # A repeated id is acknowledged the same way: the gateway's queue must stop retrying it.
        request.app[STORE].apply_inbound(note, now)
    return web.Response(status=204)


# The plain reads of the store: GET {path} answers the one record its {key} names (404
# naming `what` when there is none), or the listing.
Lookup = Callable[[BackendStore, str], BaseModel | None]
Listing = Callable[[BackendStore], Sequence[BaseModel]]
_LOOKUPS: tuple[tuple[str, str, Lookup, str], ...] = (
    ("/blocks/{id}", "id", BackendStore.get_block, "block with id"),
    ("/remote-blocks/{urn}", "urn", BackendStore.get_remote_block, "remote block"),
)
_LISTINGS: tuple[tuple[str, Listing], ...] = (
    ("/remote-blocks", BackendStore.list_remote_blocks),
    ("/follows", BackendStore.list_follows),
)


def _lookup_route(key: str, lookup: Lookup, what: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        value = request.match_info[key]
        return found_response(lookup(request.app[STORE], value), f"{what} {value!r}")

    return handler


def _listing_route(listing: Listing) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return items_response(listing(request.app[STORE]))

    return handler


def _add_store_reads() -> None:
    for path, key, lookup, what in _LOOKUPS:
        routes.get(API_PREFIX + path)(_lookup_route(key, lookup, what))
    for path, listing in _LISTINGS:
        routes.get(API_PREFIX + path)(_listing_route(listing))


_add_store_reads()


@routes.get(API_PREFIX + "/resolve")
async def resolve(request: web.Request) -> web.Response:
    urn = request.query.get("urn", "")
    if not urn:
        raise ProblemError(400, "Missing parameter", "give the URN as ?urn=")
    return model_response(await request.app[GATEWAY].resolve(urn))


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_LIMIT:
        raise ProblemError(400, "Invalid limit", f"limit must be 1..{MAX_PAGE_LIMIT}")
    return int(raw)
