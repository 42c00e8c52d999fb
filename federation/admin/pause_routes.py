"""Admin API: pausing and resuming delivery to one host."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from federation.admin.api import AdminRoutes, Operation
from federation.admin.models import CountResult, HostRequest, Out
from federation.admin.service import AdminService

api = AdminRoutes()
routes = api.routes
R = web.Request
A = AdminService


class PauseRequest(HostRequest):
    reason: str = Field("", max_length=2000)


class PauseOut(Out):
    host: str
    reason: str
    paused_at: float


class PauseList(BaseModel):
    items: list[PauseOut]


@api.op(Operation("GET", "/hosts/paused", "Hosts whose delivery is paused", PauseList))
async def paused(request: R, admin: A) -> PauseList:
    return PauseList(items=[PauseOut.of(p) for p in await admin.pauses.paused()])


@api.op(Operation("POST", "/hosts/pause", "Pause delivery to a host", PauseOut, PauseRequest))
async def pause(request: R, admin: A, body: PauseRequest) -> PauseOut:
    return PauseOut.of(await admin.pauses.pause(body.host, body.reason))


@api.op(
    Operation(
        "POST",
        "/hosts/resume",
        "Resume delivery to a host",
        CountResult,
        HostRequest,
        may_404=True,
    )
)
async def resume(request: R, admin: A, body: HostRequest) -> CountResult:
    """The count: the host's jobs waiting to go."""
    return CountResult(count=await admin.pauses.resume(body.host))
