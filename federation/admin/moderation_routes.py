"""Admin API: moderation, i.e. domain blocks, the federation mode and the allowlist."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from federation.admin import params
from federation.admin.api import AdminRoutes, Operation, Param
from federation.admin.models import (
    AllowlistBody,
    AllowlistOut,
    BlockList,
    BlockOut,
    BlockRequest,
    BlockResult,
    ModeBody,
)
from federation.admin.moderation import Moderation
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
    await admin.moderation.unblock(params.domain("domain", request.match_info["domain"]))


@dataclass(frozen=True)
class _Setting:
    """An instance-wide setting: GET reads it, PUT replaces it and answers what it stored."""

    path: str
    summaries: tuple[str, str]  # of the GET, of the PUT
    out: type[BaseModel]  # the answer: `field` alone
    body: type[BaseModel]  # the PUT's request: `field` alone
    field: str
    read: Callable[[Moderation], Awaitable[object]]
    write: Callable[[Moderation, Any], Awaitable[None]]

    def register(self) -> None:
        async def get(request: R, admin: A) -> BaseModel:
            return self.out.model_validate({self.field: await self.read(admin.moderation)})

        async def put(request: R, admin: A, body: BaseModel) -> BaseModel:
            value = getattr(body, self.field)
            await self.write(admin.moderation, value)
            return self.out.model_validate({self.field: value})

        api.op(Operation("GET", self.path, self.summaries[0], self.out))(get)
        api.op(Operation("PUT", self.path, self.summaries[1], self.out, self.body))(put)


# A table, one row a setting: its columns are _Setting's fields, in order.
for _setting in (
    _Setting(
        "/mode",
        ("Federation mode", "Set the federation mode"),
        ModeBody,
        ModeBody,
        "mode",
        Moderation.get_mode,
        Moderation.set_mode,
    ),
    _Setting(
        "/allowlist",
        ("Allowlisted domains", "Replace the allowlist"),
        AllowlistOut,
        AllowlistBody,
        "domains",
        Moderation.get_allowlist,
        Moderation.set_allowlist,
    ),
):
    _setting.register()
