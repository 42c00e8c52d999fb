"""Backend-facing: the local backend reports block events here (POST /backend/v1/events)."""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from federation.activities import InvalidActivity, load_object
from federation.backend.contract import BlockEvent
from federation.web.appkeys import BLOCK_EVENTS, SETTINGS
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
    inserted = await request.app[BLOCK_EVENTS].report(event)
    return json_response(
        {"status": "accepted" if inserted else "duplicate", "event_id": event.event_id}, status=202
    )
