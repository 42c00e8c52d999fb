"""Backend-facing: the local backend reports block events here (POST /backend/v1/events)."""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from federation.activities import InvalidActivity, load_object
from federation.backend.contract import BlockEvent
from federation.jobs.kinds import EventPayload, new_job
from federation.web.appkeys import CLOCK, INSTANCE, RENDERED_BLOCKS, SETTINGS
from federation.web.auth import require_backend_token
from federation.web.negotiation import json_response
from federation.web.problems import field_problem, problem

routes = web.RouteTableDef()


@routes.post("/backend/v1/events")
async def block_event(request: web.Request) -> web.Response:
    require_backend_token(request)
    raw = await request.read()
    max_depth = request.app[SETTINGS].limits.max_json_depth
    try:
        event = BlockEvent.model_validate(load_object(raw, max_depth=max_depth))
    except InvalidActivity as exc:  # not JSON, not an object, or nested too deep
        raise problem(400, "Invalid JSON", exc.reason) from None
    except ValidationError as exc:
        raise field_problem(exc) from None
    # Before anything else: the next read in this process renders the block and the outbox
    # pages afresh. (Reads check the backend's answer anyway, so other processes need not hear
    # of it.)
    request.app[RENDERED_BLOCKS].changed(event.block_id)
    instance = request.app[INSTANCE]
    body = event.model_dump(mode="json")
    job = new_job(
        EventPayload(event.event_id, body["type"], event.block_id, body["block"]),
        dedupe_key=f"event:{event.event_id}",
    )
    inserted = await instance.store.enqueue([job], request.app[CLOCK]())
    instance.runner.wake()
    return json_response(
        {"status": "accepted" if inserted else "duplicate", "event_id": event.event_id}, status=202
    )
