"""Admin API: per-host federation health, a host's queue and "retry now", the page's charts."""

from __future__ import annotations

from aiohttp import web

from federation.admin import params
from federation.admin.api import AdminRoutes, Operation, Param
from federation.admin.depth import QUEUE_DEPTH
from federation.admin.health_models import (
    ChartData,
    HostReportList,
    HostReportOut,
    RetryNowRequest,
)
from federation.admin.models import CountResult, JobList, JobOut
from federation.admin.service import AdminService
from federation.records import JobState

api = AdminRoutes()
routes = api.routes
R = web.Request
A = AdminService

_HOST_Q = Param("host", "query", "only this host")
_HOST_REQUIRED = Param("host", "query", "the remote host", required=True)
_JOB_STATES = (JobState.QUEUED.value, JobState.DEAD.value)
_JOB_STATE_Q = Param("state", "query", "queued (default) or dead", enum=_JOB_STATES)


@api.op(
    Operation(
        "GET", "/hosts", "Federation health per remote host", HostReportList, params=(_HOST_Q,)
    )
)
async def hosts(request: R, admin: A) -> HostReportList:
    reports = await admin.host_reports(_host(request) or None)
    return HostReportList(items=[HostReportOut.of(r) for r in reports])


@api.op(
    Operation(
        "GET",
        "/queue/jobs",
        "A host's queued (or dead) jobs with next attempt and last error",
        JobList,
        params=(_HOST_REQUIRED, _JOB_STATE_Q),
    )
)
async def host_jobs(request: R, admin: A) -> JobList:
    host = _host(request)
    if not host:
        raise params.query_problem("host", "required")
    state = JobState(params.choice(request, _JOB_STATE_Q, JobState.QUEUED.value))
    jobs = await admin.queued_jobs(host, state)
    return JobList(items=[JobOut.of(j) for j in jobs])


@api.op(
    Operation(
        "POST",
        "/queue/retry-now",
        "Make a host's waiting jobs due now",
        CountResult,
        RetryNowRequest,
    )
)
async def retry_now(request: R, admin: A, body: RetryNowRequest) -> CountResult:
    return CountResult(count=await admin.retry_now(body.host, body.job_id))


def _host(request: R) -> str:
    """The ``host`` query parameter in its stored spelling ("" when absent)."""
    host = request.query.get("host", "")
    return params.domain("host", host) if host else ""


@api.op(Operation("GET", "/charts", "Deliveries per minute and queue depth, last hour", ChartData))
async def charts(request: R, admin: A) -> ChartData:
    minutes = await admin.delivery_minutes()
    depth = request.app.get(QUEUE_DEPTH)
    return ChartData.of(minutes, await depth.series() if depth is not None else [])
