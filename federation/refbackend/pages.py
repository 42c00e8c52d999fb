"""Public (unauthenticated) routes of the reference backend: the human page and health."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from aiohttp import web

from federation.backend.contract import BackendBlock, Visibility
from federation.refbackend.http import json_response, not_found
from federation.refbackend.routes import CLOCK, STORE

PUBLIC_PREFIXES = ("/blocks/", "/healthz")

routes = web.RouteTableDef()


@routes.get("/blocks/{id}")
async def block_page(request: web.Request) -> web.Response:
    block_id = request.match_info["id"]
    block = request.app[STORE].get_block(block_id)
    now = datetime.fromtimestamp(request.app[CLOCK](), UTC)
    if block is None or not is_released(block, now):
        # Same answer as for a missing block, so a private block's existence does not leak.
        raise not_found(f"block with id {block_id!r}")
    return web.Response(text=render_block(block), content_type="text/html", charset="utf-8")


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok", "pending_events": request.app[STORE].count_pending()})


def is_released(block: BackendBlock, now: datetime) -> bool:
    if block.visibility is Visibility.PUBLIC:
        return True
    if block.visibility is Visibility.EMBARGOED and block.embargo_until is not None:
        return block.embargo_until <= now
    return False


def render_block(block: BackendBlock) -> str:
    refs = "".join(f"<li>{escape(ref)}</li>" for ref in block.references)
    return (
        "<!doctype html>\n<html><head><meta charset='utf-8'>"
        f"<title>{escape(block.title)}</title></head><body>\n"
        f"<article><h1>{escape(block.title)}</h1>\n"
        f"<p class='meta'>{escape(block.kind)} by {escape(block.author)}, "
        f"updated {escape(block.updated_at.isoformat())}</p>\n"
        f"<div class='content' style='white-space: pre-wrap'>{escape(block.content)}</div>\n"
        f"<ul class='references'>{refs}</ul></article>\n</body></html>\n"
    )
