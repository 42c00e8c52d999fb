"""The admin API (/admin/api/...), its OpenAPI document, and the admin web page (/admin)."""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from federation.admin import (
    blocklist_routes,
    health_routes,
    moderation_routes,
    params,
    pause_routes,
    subscription_routes,
)
from federation.admin.api import PREFIX, AdminRoutes, Operation, Param
from federation.admin.models import (
    ActorRequest,
    BackfillProgress,
    CacheEntryOut,
    CachePurgeRequest,
    CountResult,
    FollowList,
    FollowOut,
    FollowRequest,
    HostList,
    HostOut,
    HostRequest,
    JobList,
    JobOut,
    QueueCount,
    QueueSummary,
    RetryRequest,
)
from federation.admin.openapi import build_document
from federation.admin.service import AdminService
from federation.records import Direction, FollowState, JobState
from federation.web.negotiation import json_response

api = AdminRoutes()
routes = api.routes
R = web.Request
A = AdminService

_ACTOR_PATH = Param("actor", "path", "the actor URL, percent-encoded", required=True)
_STATES = tuple(s.value for s in FollowState)
_STATE_Q = Param("state", "query", "only relations in this state", enum=_STATES)


# --- following ------------------------------------------------------------------------------


@api.op(Operation("GET", "/following", "Instances we follow", FollowList, params=(_STATE_Q,)))
async def list_following(request: R, admin: A) -> FollowList:
    follows = await admin.list_follows(Direction.FOLLOWING, _state(request))
    return FollowList(items=[FollowOut.of(f) for f in follows])


@api.op(Operation("POST", "/following", "Follow an instance", FollowOut, FollowRequest, 201))
async def follow(request: R, admin: A, body: FollowRequest) -> FollowOut:
    return FollowOut.of(await admin.follow(body.target))


@api.op(
    Operation(
        "DELETE", "/following/{actor}", "Unfollow", FollowOut, params=(_ACTOR_PATH,), may_404=True
    )
)
async def unfollow_by_path(request: R, admin: A) -> FollowOut:
    return FollowOut.of(await admin.unfollow(request.match_info["actor"]))


@api.op(Operation("POST", "/following/unfollow", "Unfollow", FollowOut, ActorRequest, may_404=True))
async def unfollow(request: R, admin: A, body: ActorRequest) -> FollowOut:
    return FollowOut.of(await admin.unfollow(body.actor))


# --- followers ------------------------------------------------------------------------------


@api.op(Operation("GET", "/followers", "Instances following us", FollowList, params=(_STATE_Q,)))
async def list_followers(request: R, admin: A) -> FollowList:
    follows = await admin.list_follows(Direction.FOLLOWER, _state(request))
    return FollowList(items=[FollowOut.of(f) for f in follows])


def _follower_op(path: str, summary: str) -> Operation:
    return Operation("POST", path, summary, FollowOut, ActorRequest, may_404=True)


@api.op(_follower_op("/followers/approve", "Approve a follow request"))
async def approve(request: R, admin: A, body: ActorRequest) -> FollowOut:
    return FollowOut.of(await admin.approve(body.actor))


@api.op(_follower_op("/followers/reject", "Reject a follow request"))
async def reject(request: R, admin: A, body: ActorRequest) -> FollowOut:
    return FollowOut.of(await admin.reject(body.actor))


@api.op(_follower_op("/followers/remove", "Remove a follower"))
async def remove_follower(request: R, admin: A, body: ActorRequest) -> FollowOut:
    return FollowOut.of(await admin.remove_follower(body.actor))


_ACTOR_Q = Param("actor", "query", "the follower's actor URL", required=True)


@api.op(
    Operation(
        "GET",
        "/followers/backfill",
        "Backfill progress of a follower",
        BackfillProgress,
        params=(_ACTOR_Q,),
        may_404=True,
    )
)
async def backfill(request: R, admin: A) -> BackfillProgress:
    actor = params.required(request, "actor")
    host, pages, deliveries = await admin.backfill_progress(actor)
    return BackfillProgress(
        actor=actor, host=host, backfill_jobs=pages, deliveries_queued=deliveries
    )


# --- delivery queue -------------------------------------------------------------------------


@api.op(Operation("GET", "/queue", "Jobs by state and host", QueueSummary))
async def queue(request: R, admin: A) -> QueueSummary:
    counts = await admin.queue_counts()
    totals: dict[str, int] = {s.value: 0 for s in JobState}
    for (state, _host), n in counts.items():
        totals[state] = totals.get(state, 0) + n
    rows = [QueueCount(state=s, host=h, count=n) for (s, h), n in sorted(counts.items())]
    return QueueSummary(totals=totals, counts=rows)


_HOST_Q = Param("host", "query", "only this host")


@api.op(Operation("GET", "/queue/dead", "Dead deliveries", JobList, params=(_HOST_Q,)))
async def dead(request: R, admin: A) -> JobList:
    host = request.query.get("host")
    jobs = await admin.dead_jobs(None if host is None else params.domain("host", host))
    return JobList(items=[JobOut.of(j) for j in jobs])


@api.op(Operation("POST", "/queue/retry", "Retry dead deliveries", CountResult, RetryRequest))
async def retry(request: R, admin: A, body: RetryRequest) -> CountResult:
    return CountResult(count=await admin.retry_dead(body.job_id, body.host))


@api.op(Operation("GET", "/hosts/unavailable", "Hosts marked unavailable", HostList))
async def unavailable(request: R, admin: A) -> HostList:
    return HostList(items=[HostOut.of(h) for h in await admin.unavailable_hosts()])


@api.op(
    Operation("POST", "/hosts/reset", "Make a host available", HostOut, HostRequest, may_404=True)
)
async def reset_host(request: R, admin: A, body: HostRequest) -> HostOut:
    return HostOut.of(await admin.reset_host(body.host))


# --- resolver cache -------------------------------------------------------------------------

_URN_Q = Param("urn", "query", "the block URN", required=True)


@api.op(
    Operation("GET", "/cache", "A cached object", CacheEntryOut, params=(_URN_Q,), may_404=True)
)
async def cache_entry(request: R, admin: A) -> CacheEntryOut:
    return CacheEntryOut.of(await admin.cached(params.required(request, "urn")))


@api.op(
    Operation("POST", "/cache/purge", "Purge a URN or a domain", CountResult, CachePurgeRequest)
)
async def cache_purge(request: R, admin: A, body: CachePurgeRequest) -> CountResult:
    if (body.urn is None) == (body.domain is None):
        raise params.query_problem("urn", "give exactly one of urn and domain")
    return CountResult(count=await admin.purge_cache(body.urn, body.domain))


# --- helpers, the document and the page -----------------------------------------------------


def _state(request: web.Request) -> FollowState | None:
    value = params.choice(request, _STATE_Q)
    return FollowState(value) if value else None


def all_operations() -> list[Operation]:
    """Every admin API operation, whichever module declares it."""
    return [
        *api.operations,
        *moderation_routes.api.operations,
        *health_routes.api.operations,
        *pause_routes.api.operations,
        *blocklist_routes.api.operations,
        *subscription_routes.api.operations,
    ]


@routes.get(PREFIX + "/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    """Public: the document describes the API, it grants nothing."""
    return json_response(build_document(all_operations(), PREFIX))


_PAGE_FILES = {"admin.js": "application/javascript", "charts.js": "application/javascript"}


@routes.get("/admin")
async def admin_page(request: web.Request) -> web.Response:
    return _static("admin.html", "text/html")


@routes.get("/admin/{name:admin\\.js|charts\\.js}")
async def admin_script(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    return _static(name, _PAGE_FILES[name])


def _static(name: str, content_type: str) -> web.Response:
    page = resources.files("federation").joinpath(f"admin/static/{name}").read_bytes()
    return web.Response(
        body=page,
        content_type=content_type,
        charset="utf-8",
        headers={
            "Cache-Control": "no-store",
            # Scripts only from this origin: the page's own files, nothing inline.
            "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline';"
            " frame-ancestors 'none'",
            "X-Content-Type-Options": "nosniff",
        },
    )
