"""Peer-facing read proxy: GET /blocks/{id} and GET /actor/outbox.

Blocks are read from the backend on every request (it is the system of record) and leave only
when `is_released` says so; the rendering of an unchanged answer is reused (web/rendered.py).
Private, still-embargoed and missing blocks all get the very same 404 body, so a peer cannot
tell which one it hit.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web

from federation.activities.local import create_generation, listed_create, local_object
from federation.backend.client import BackendRejected
from federation.backend.contract import BackendBlock, BlockPage
from federation.config import Settings
from federation.discovery import AS_CONTEXT, ActorUrls
from federation.errors import ProblemError, UrnError
from federation.signatures import accept_signature_header
from federation.urn import BlockUrn
from federation.visibility import is_released
from federation.web.appkeys import (
    BACKEND,
    CLOCK,
    PROOF_SIGNER,
    RENDERED_BLOCKS,
    SETTINGS,
    SIGNATURE_VERIFIER,
    STORE,
)
from federation.web.negotiation import (
    activity_body_response,
    activity_response,
    browser_redirect,
    not_modified,
    wants_html,
)
from federation.web.problems import problem
from federation.web.rendered import Rendered, RenderedPage

OUTBOX_PAGE_SIZE = 50
FIRST_PAGE = "first"
MAX_PAGE_TOKEN = 512  # far above any backend cursor; bounds what we pass on
PAGE_HELP = f"use '{FIRST_PAGE}' or the page named by a previous page's next link"

routes = web.RouteTableDef()


def _not_found() -> ProblemError:
    # One body for private, embargoed and missing blocks: existence must not leak.
    return problem(404, "Not found", "no such block")


@routes.get("/blocks/{id}")
async def get_block(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    urn = _urn_of(request, settings)
    browser = wants_html(request)
    if not browser:
        await _require_signature(request)
    backend = request.app[BACKEND]
    answer = await backend.get_block_answer(urn.local_id)
    cache = request.app[RENDERED_BLOCKS]
    if answer is None:
        cache.drop(urn.local_id)
        raise _not_found()
    rendered = None if browser else cache.get(urn.local_id, answer)
    if rendered is None:
        block = backend.parse_block(answer)
        if not is_released(block, request.app[CLOCK]()):
            cache.drop(urn.local_id)
            raise _not_found()
        if browser:
            if not block.url:
                raise _not_found()
            raise browser_redirect(block.url)
        rendered = _render(request, block, settings)
        cache.put(urn.local_id, answer, rendered)
    validators = {"ETag": rendered.etag, "Last-Modified": rendered.last_modified}
    if _not_modified(request, rendered.etag, rendered.updated_at):
        return not_modified(validators)
    return activity_body_response(request, rendered.body, headers=validators)


def _render(request: web.Request, block: BackendBlock, settings: Settings) -> Rendered:
    # Signed, dated by the block's last change: the same version has the same bytes (and ETag).
    obj = local_object(block, settings, request.app[PROOF_SIGNER])
    body = json.dumps(obj, separators=(",", ":")).encode()
    return Rendered(
        body=body,
        etag=_etag(body),
        last_modified=format_datetime(block.updated_at, usegmt=True),
        updated_at=block.updated_at,
    )


@routes.get("/actor/outbox")
async def get_outbox(request: web.Request) -> web.StreamResponse:
    await _require_signature(request)
    settings = request.app[SETTINGS]
    outbox = ActorUrls(settings.base_url).outbox
    page = _page_param(request)
    if page is None:
        collection = {
            "@context": AS_CONTEXT,
            "id": outbox,
            "type": "OrderedCollection",
            "first": f"{outbox}?page={FIRST_PAGE}",
        }
        return activity_response(request, collection)
    listing = await _listing(request, page)
    # The page is listed afresh on every read (web/rendered.py): its rendering is reused only
    # for an equal listing, so a block made private leaves the page on the very next read.
    now = request.app[CLOCK]()
    released = [b for b in listing.items if is_released(b, now)]
    generations = await _create_generations(request, released)
    pages = request.app[RENDERED_BLOCKS].pages
    rendered = pages.get(page, listing, now, generations)
    if rendered is None:
        rendered = _render_page(listing, settings, page, now, generations)
        pages.put(page, rendered)
    validators = {"ETag": rendered.etag}
    if request.if_none_match is not None and _etag_in(request, rendered.etag):
        return not_modified(validators)
    return activity_body_response(request, rendered.body, headers=validators)


async def _listing(request: web.Request, page: str) -> BlockPage:
    cursor = None if page == FIRST_PAGE else page
    try:
        return await request.app[BACKEND].list_federated(cursor, OUTBOX_PAGE_SIZE)
    except BackendRejected as exc:
        # The cursor is opaque to us: only the backend knows a well-formed one is not its own.
        if cursor is not None and exc.status == 400:
            raise _bad_page("no such page") from None
        raise


async def _create_generations(
    request: web.Request, released: list[BackendBlock]
) -> tuple[int, ...]:
    """The generation of each listed Create's id: the one the fan-out sends (or, its event
    not handled yet, is about to send) the block under."""
    publications = await request.app[STORE].publications([b.id for b in released])
    return tuple(create_generation(publications.get(b.id)) for b in released)


def _render_page(
    listing: BlockPage, settings: Settings, page: str, now: float, generations: tuple[int, ...]
) -> RenderedPage:
    outbox = ActorUrls(settings.base_url).outbox
    released = [b for b in listing.items if is_released(b, now)]
    result: dict[str, Any] = {
        "@context": AS_CONTEXT,
        "id": f"{outbox}?page={quote(page, safe='')}",
        "type": "OrderedCollectionPage",
        "partOf": outbox,
        "orderedItems": [
            listed_create(b, settings, n) for b, n in zip(released, generations, strict=True)
        ],
    }
    if listing.next_cursor:
        result["next"] = f"{outbox}?page={quote(listing.next_cursor, safe='')}"
    body = json.dumps(result, separators=(",", ":")).encode()
    # An embargo ending changes the page without changing the listing: the rendering lasts
    # only until the first one on the page ends.
    ends = [
        b.embargo_until.timestamp()
        for b in listing.items
        if b.embargo_until is not None and not is_released(b, now)
    ]
    return RenderedPage(body, _etag(body), listing, min(ends, default=math.inf), generations)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


def _page_param(request: web.Request) -> str | None:
    """The `page` query parameter, refused at the edge when it cannot be one of our pages."""
    pages = request.query.getall("page", [])
    if not pages:
        return None
    if len(pages) > 1:
        raise _bad_page("page is given more than once")
    page = pages[0]
    if not page:
        raise _bad_page("page is empty")
    if len(page) > MAX_PAGE_TOKEN:
        raise _bad_page(f"page is longer than {MAX_PAGE_TOKEN} characters")
    if not (page.isascii() and page.isprintable()):
        raise _bad_page("page holds characters no page name has")
    return page


def _bad_page(reason: str) -> ProblemError:
    return problem(400, "Invalid page", f"{reason}; {PAGE_HELP}", parameter="page")


def _urn_of(request: web.Request, settings: Settings) -> BlockUrn:
    """The block's URN; aiohttp has percent-decoded the id (%2F included) exactly once."""
    try:
        return BlockUrn(settings.domain, request.match_info["id"])
    except UrnError:
        raise _not_found() from None


async def _require_signature(request: web.Request) -> None:
    """Authorized fetch: only signed requests from peers may read ActivityStreams."""
    if not request.app[SETTINGS].authorized_fetch:
        return
    verifier = request.app.get(SIGNATURE_VERIFIER)
    if verifier is None:  # misconfigured: fail closed
        raise problem(503, "Signature verification unavailable", "authorized fetch is on")
    if await verifier(request) is None:
        raise ProblemError(
            401,
            "Signature required",
            "this instance requires signed fetches",
            headers={"Accept-Signature": accept_signature_header(with_body=False)},
        )


def _not_modified(request: web.Request, etag: str, updated_at: datetime) -> bool:
    """RFC 9110 13.2.2: If-None-Match (weak comparison) wins over If-Modified-Since; aiohttp
    parses both headers (a malformed date reads as absent)."""
    if request.if_none_match is not None:
        return _etag_in(request, etag)
    since = request.if_modified_since
    return since is not None and int(updated_at.timestamp()) <= int(since.timestamp())


def _etag_in(request: web.Request, etag: str) -> bool:
    """If-None-Match names this ETag (weak comparison: W/ is ignored) or any ("*")."""
    return any(tag.value in ("*", etag.strip('"')) for tag in request.if_none_match or ())
