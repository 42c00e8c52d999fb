"""The machinery under the admin routes: one declarative table of operations (which also
generates the OpenAPI document), bearer-token checks, body parsing and the audit log."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from federation.admin.blocklist_import import BlocklistImports, InvalidList
from federation.admin.errors import NotFound
from federation.admin.moderation import Moderation
from federation.admin.pausing import HostPausing, NotPaused
from federation.admin.service import AdminService, TargetNotFound
from federation.admin.subscriptions import BlocklistSubscriptions, NoSuchSubscription
from federation.errors import ProblemError
from federation.instance import Instance
from federation.observability.logs import event
from federation.resolve.lookup import ActorLookup
from federation.web.auth import require_admin_token
from federation.web.negotiation import json_response
from federation.web.problems import field_problem, problem

PREFIX = "/admin/api"
M = TypeVar("M", bound=BaseModel)
audit = logging.getLogger("federation.admin.audit")

AdminHandler = Callable[..., Awaitable[BaseModel | None]]


@dataclass(frozen=True)
class Param:
    name: str
    where: str  # "query" | "path"
    description: str
    required: bool = False
    enum: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # below PREFIX, aiohttp (and OpenAPI) template syntax
    summary: str
    response: type[BaseModel] | None  # None: 204 No Content
    body: type[BaseModel] | None = None
    status: int = 200
    params: tuple[Param, ...] = ()
    may_404: bool = False


class AdminRoutes:
    """Collects operations; `routes` goes to the app, `operations` to the OpenAPI document."""

    def __init__(self) -> None:
        self.routes = web.RouteTableDef()
        self.operations: list[Operation] = []

    def op(self, operation: Operation) -> Callable[[AdminHandler], AdminHandler]:
        def register(fn: AdminHandler) -> AdminHandler:
            async def handler(request: web.Request) -> web.StreamResponse:
                return await _audited(request, operation, fn)

            self.routes.route(operation.method, PREFIX + operation.path)(handler)
            self.operations.append(operation)
            return fn

        return register


ADMIN: web.AppKey[AdminService] = web.AppKey("admin")


def admin_service(instance: Instance, clock: Callable[[], float]) -> AdminService:
    """The admin service of `instance`, built once by the composition root."""
    settings, store, wake = instance.settings, instance.store, instance.runner.wake
    moderation = Moderation(settings=settings, store=store, follows=instance.follows, clock=clock)
    return AdminService(
        settings=settings,
        store=store,
        follows=instance.follows,
        lookup=ActorLookup(instance.transport, settings.scheme),
        health=instance.health,
        wake=wake,
        clock=clock,
        moderation=moderation,
        pauses=HostPausing(store=store, queue=store, wake=wake, clock=clock),
        blocklists=BlocklistImports(store, moderation.cut_ties, clock),
        subscriptions=BlocklistSubscriptions(
            store=store,
            fetcher=instance.transport,
            settings=settings,
            cut_ties=moderation.cut_ties,
            clock=clock,
        ),
    )


async def _audited(request: web.Request, op: Operation, fn: AdminHandler) -> web.StreamResponse:
    outcome = "500 Internal error"
    try:
        require_admin_token(request)
        response = await _call(request, op, fn)
        outcome = str(response.status)
        return response
    except ProblemError as exc:
        outcome = f"{exc.status} {exc.title}"
        raise
    finally:
        # Never the Authorization header, never the query string (it is the caller's data).
        event(
            audit,
            "admin.action",
            f"admin {request.method} {request.path} -> {outcome}",
            operation=op.summary,
            method=request.method,
            path=request.path,
            outcome=outcome,
            remote_addr=request.remote,
        )


async def _call(request: web.Request, op: Operation, fn: AdminHandler) -> web.StreamResponse:
    args: list[Any] = [request, request.app[ADMIN]]
    if op.body is not None:
        args.append(await parse_body(request, op.body))
    try:
        result = await fn(*args)
    except (NotFound, NotPaused, NoSuchSubscription) as exc:
        raise problem(404, "Not found", str(exc)) from None
    except InvalidList as exc:
        raise problem(422, "Invalid blocklist", str(exc), field="text") from None
    except TargetNotFound as exc:
        raise problem(422, "Cannot follow target", str(exc), field="target") from None
    if result is None:
        return web.Response(status=204)
    return json_response(result.model_dump(mode="json"), status=op.status)


async def parse_body(request: web.Request, model: type[M]) -> M:
    raw = await request.read()
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: the decoder's guard on deep nesting
        raise problem(422, "Invalid body", "(body): not JSON", field="(body)") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise field_problem(exc) from None
