"""Backend-facing URN resolution: GET/POST /backend/v1/resolve, bearer-token protected."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from federation.backend.contract import GATEWAY_PREFIX
from federation.errors import ProblemError, UrnError
from federation.urn import BlockUrn
from federation.web.appkeys import RESOLVER, SETTINGS
from federation.web.auth import require_backend_token
from federation.web.negotiation import json_response
from federation.web.problems import problem

routes = web.RouteTableDef()


class ResolveBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    urns: list[str]


@routes.get(GATEWAY_PREFIX + "/resolve")
async def resolve_one(request: web.Request) -> web.Response:
    require_backend_token(request)
    urn = request.query.get("urn")
    if not urn:
        raise problem(400, "Missing URN", "pass the block URN as ?urn=")
    try:
        result = await request.app[RESOLVER].resolve(urn)
    except UrnError as exc:
        raise problem(400, "Malformed URN", str(exc), urn=urn[:256]) from None
    return json_response(result.as_dict())


@routes.post(GATEWAY_PREFIX + "/resolve")
async def resolve_batch(request: web.Request) -> web.Response:
    require_backend_token(request)
    batch = _parse_batch(await request.read())
    limit = request.app[SETTINGS].limits.resolve_batch_max
    if len(batch.urns) > limit:
        raise problem(413, "Batch too large", f"at most {limit} URNs per request")
    if not batch.urns:
        raise _invalid([{"field": "urns", "message": "must name at least one URN"}])
    _check_urns(batch.urns)
    results = await request.app[RESOLVER].resolve_many(batch.urns)
    return json_response({"results": [r.as_dict() for r in results]})


def _parse_batch(raw: bytes) -> ResolveBatch:
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise problem(400, "Invalid JSON", f"the body is not JSON: {exc}") from None
    except RecursionError:  # the C decoder's own guard against absurd nesting
        raise problem(400, "Invalid JSON", "the body is nested too deeply") from None
    try:
        return ResolveBatch.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "message": err["msg"]}
            for err in exc.errors()
        ]
        raise _invalid(errors) from None


def _check_urns(urns: list[str]) -> None:
    """Every URN is checked before any is fetched, so a bad batch costs the peers nothing."""
    errors = []
    for index, urn in enumerate(urns):
        try:
            BlockUrn.parse(urn)
        except UrnError as exc:
            errors.append({"field": f"urns.{index}", "message": str(exc)})
    if errors:
        raise _invalid(errors)


def _invalid(errors: list[dict[str, Any]]) -> ProblemError:
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:10])
    return problem(422, "Invalid request", detail, errors=errors[:100])
