"""HTTP plumbing of the reference backend: problem+json errors, bearer auth, body parsing.

Kept apart from federation/web on purpose: the reference backend stands for a separate product
(in production a Convex deployment) and must not lean on the gateway's web layer.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Sequence
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.typedefs import Middleware
from pydantic import BaseModel, ValidationError

from federation.errors import ProblemError
from federation.problem_json import Handler, ProblemPolicy

MAX_BODY_BYTES = 1024 * 1024
log = logging.getLogger("federation.backend.server")

ModelT = TypeVar("ModelT", bound=BaseModel)


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(data).encode(), content_type="application/json"
    )


def model_response(model: BaseModel, status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=model.model_dump_json().encode(), content_type="application/json"
    )


def not_found(what: str) -> ProblemError:
    return ProblemError(404, "Not found", f"no {what}")


def found_response(model: BaseModel | None, what: str) -> web.Response:
    """`model` as JSON, or 404 saying there is no `what`."""
    if model is None:
        raise not_found(what)
    return model_response(model)


def items_response(items: Sequence[BaseModel]) -> web.Response:
    """A listing: {"items": [...]}."""
    return json_response({"items": [item.model_dump(mode="json") for item in items]})


_POLICY = ProblemPolicy(
    realm="backend",
    log=log,
    too_large=f"bodies are capped at {MAX_BODY_BYTES}",
    store_down="nothing was stored; retry later",
    failed="the backend failed; see its log",
    http_detail=lambda request, exc: f"{request.method} {request.path}",
)


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as RFC 9457 problem+json."""
    return await _POLICY.handle(request, handler)


def auth_middleware(token: str, public_prefixes: tuple[str, ...]) -> Middleware:
    """Bearer auth on everything except the public paths (human pages, health)."""
    expected = f"Bearer {token}".encode()

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(public_prefixes):
            given = request.headers.get("Authorization", "").encode()
            # An empty configured token locks the API rather than opening it.
            if not token or not hmac.compare_digest(given, expected):
                raise ProblemError(401, "Unauthorized", "missing or wrong bearer token")
        return await handler(request)

    return middleware


async def read_model(request: web.Request, model: type[ModelT]) -> ModelT:
    """Parse a JSON body into `model`: 400 on bad JSON, 422 naming the fields on bad shapes."""
    return validate(model, await read_json(request))


async def read_json(request: web.Request) -> Any:
    """The JSON body: 400 when it is not JSON."""
    raw = await request.read()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProblemError(400, "Invalid JSON", f"the body is not JSON: {exc}") from None
    except RecursionError:  # the C decoder's own guard against absurd nesting
        raise ProblemError(400, "Invalid JSON", "the body is nested too deeply") from None


def validate(model: type[ModelT], data: Any) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(exc) from None


def validation_problem(exc: ValidationError) -> ProblemError:
    errors = [
        {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "message": err["msg"]}
        for err in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return ProblemError(422, "Invalid request", detail, extra={"errors": errors})
