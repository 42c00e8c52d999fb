"""Admin API: moderation, i.e. domain blocks, the federation mode and the allowlist."""

from __future__ import annotations

from aiohttp import web

from federation.admin.api import AdminRoutes, Operation, Param, query_problem
from federation.admin.models import (
    AllowlistBody,
    AllowlistOut,
    BlockList,
    BlockOut,
    BlockRequest,
    BlockResult,
    ModeBody,
    normalise_domain,
)
from federation.admin.service import AdminService

api = AdminRoutes()
routes = api.routes
R = web.Request
A = AdminService


@api.op(Operation("GET", "/blocks", "Blocked domains", BlockList))
async def list_blocks(request: R, admin: A) -> BlockList:
    return BlockList(items=[BlockOut.of(b) for b in await admin.moderation.list_blocks()])


@api.op(Operation("POST", "/blocks", "Block a domain", BlockResult, BlockRequest, 201))
async def block(request: R, admin: A, body: BlockRequest) -> BlockResult:
    done = await admin.moderation.block(body.domain, body.reason, body.severity)
    return BlockResult(
        block=BlockOut.of(done.block),
        follows_dropped=done.follows_dropped,
        deliveries_dropped=done.deliveries_dropped,
        cache_purged=done.cache_purged,
    )


_DOMAIN_PATH = Param("domain", "path", "the blocked domain", required=True)


@api.op(
    Operation(
        "DELETE", "/blocks/{domain}", "Unblock a domain", None, params=(_DOMAIN_PATH,), may_404=True
    )
)
async def unblock(request: R, admin: A) -> None:
    try:
        domain = normalise_domain(request.match_info["domain"])
    except ValueError as exc:
        raise query_problem("domain", str(exc)) from None
    await admin.moderation.unblock(domain)


@api.op(Operation("GET", "/mode", "Federation mode", ModeBody))
async def get_mode(request: R, admin: A) -> ModeBody:
    return ModeBody(mode=await admin.moderation.get_mode())


@api.op(Operation("PUT", "/mode", "Set the federation mode", ModeBody, ModeBody))
async def set_mode(request: R, admin: A, body: ModeBody) -> ModeBody:
    await admin.moderation.set_mode(body.mode)
    return body


@api.op(Operation("GET", "/allowlist", "Allowlisted domains", AllowlistOut))
async def get_allowlist(request: R, admin: A) -> AllowlistOut:
    return AllowlistOut(domains=await admin.moderation.get_allowlist())


@api.op(Operation("PUT", "/allowlist", "Replace the allowlist", AllowlistOut, AllowlistBody))
async def set_allowlist(request: R, admin: A, body: AllowlistBody) -> AllowlistOut:
    await admin.moderation.set_allowlist(body.domains)
    return AllowlistOut(domains=body.domains)
