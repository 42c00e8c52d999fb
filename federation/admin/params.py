"""The query and path parameters of admin requests: read, checked, or answered with a 422
problem naming the parameter."""

from __future__ import annotations

from aiohttp import web

from federation.admin.api import Param
from federation.admin.models import normalise_domain
from federation.errors import ProblemError
from federation.web.problems import problem


def query_problem(name: str, message: str) -> ProblemError:
    return problem(422, "Invalid parameter", f"{name}: {message}", field=name)


def required(request: web.Request, name: str) -> str:
    """A query parameter that must be given and not empty."""
    value = request.query.get(name, "")
    if not value:
        raise query_problem(name, "required")
    return value


def choice(request: web.Request, param: Param, default: str = "") -> str:
    """An enumerated query parameter's value; `default` when it is absent or empty."""
    value = request.query.get(param.name) or default
    if value and value not in param.enum:
        raise query_problem(param.name, f"must be one of {', '.join(param.enum)}")
    return value


def domain(name: str, value: str) -> str:
    """A host name from the query or the path in its stored spelling."""
    try:
        return normalise_domain(value)
    except ValueError as exc:
        raise query_problem(name, str(exc)) from None
