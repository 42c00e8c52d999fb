"""Backend-facing: the local backend reports block events here (POST /backend/v1/events)."""

from __future__ import annotations

import hmac
import json

from aiohttp import web
from pydantic import ValidationError

from federation.backend.contract import BlockEvent
from federation.records import NewJob
from federation.web.appkeys import CLOCK, INSTANCE, SETTINGS
from federation.web.negotiation import json_response
from federation.web.problems import problem

routes = web.RouteTableDef()


def require_backend_token(request: web.Request) -> None:
    expected = request.app[SETTINGS].backend_token
    given = request.headers.get("Authorization", "")
    if not expected or not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        raise problem(401, "Unauthorized", "a valid backend bearer token is required")


def validation_problem(exc: ValidationError) -> Exception:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "(body)"
    return problem(422, "Invalid body", f"{field}: {first['msg']}", field=field)


@routes.post("/backend/v1/events")
async def block_event(request: web.Request) -> web.Response:
    require_backend_token(request)
    raw = await request.read()
    try:
        event = BlockEvent.model_validate(json.loads(raw))
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            raise validation_problem(exc) from None
        raise problem(400, "Invalid JSON", str(exc)) from None
    instance = request.app[INSTANCE]
    job = NewJob(
        kind="event", dedupe_key=f"event:{event.event_id}", payload=event.model_dump(mode="json")
    )
    inserted = await instance.store.enqueue([job], request.app[CLOCK]())
    instance.runner.wake()
    return json_response(
        {"status": "accepted" if inserted else "duplicate", "event_id": event.event_id}, status=202
    )
