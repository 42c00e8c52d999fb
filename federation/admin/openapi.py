"""The OpenAPI 3.1 document of the admin API, generated from the operation table and the
pydantic models, so it cannot drift from the code."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from federation.admin.api import Operation, Param
from federation.admin.models import Problem

_REF = "#/components/schemas/{model}"
_PROBLEM = "application/problem+json"


class _Schemas:
    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def ref(self, model: type[BaseModel], mode: str) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template=_REF, mode=mode)  # type: ignore[arg-type]
        self.components.update(schema.pop("$defs", {}))
        self.components[model.__name__] = schema
        return {"$ref": _REF.format(model=model.__name__)}


def _param(p: Param) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "minLength": 1}
    if p.enum:
        schema = {"type": "string", "enum": list(p.enum)}
    return {
        "name": p.name,
        "in": p.where,
        "required": p.required or p.where == "path",
        "description": p.description,
        "schema": schema,
    }


def _problem(description: str, schemas: _Schemas) -> dict[str, Any]:
    return {
        "description": description,
        "content": {_PROBLEM: {"schema": schemas.ref(Problem, "serialization")}},
    }


def _responses(op: Operation, schemas: _Schemas) -> dict[str, Any]:
    if op.response is None:
        ok: dict[str, Any] = {"description": "done"}
    else:
        ok = {
            "description": "success",
            "content": {"application/json": {"schema": schemas.ref(op.response, "serialization")}},
        }
    responses: dict[str, Any] = {
        str(op.status if op.response is not None else 204): ok,
        "401": _problem("missing or wrong admin token", schemas),
        "403": _problem("the admin API is disabled (no admin_token configured)", schemas),
    }
    if op.body is not None or op.params:
        responses["422"] = _problem("malformed body or query; `field` names the culprit", schemas)
    if op.may_404:
        responses["404"] = _problem("no such relation, block, host or entry", schemas)
    return responses


def _operation(op: Operation, schemas: _Schemas) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "operationId": op.method.lower() + re.sub(r"[^A-Za-z0-9]+", "_", op.path).rstrip("_"),
        "summary": op.summary,
        "parameters": [_param(p) for p in op.params],
        "responses": _responses(op, schemas),
    }
    if op.body is not None:
        doc["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schemas.ref(op.body, "validation")}},
        }
    return doc


def build_document(operations: Sequence[Operation], prefix: str) -> dict[str, Any]:
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(prefix + op.path, {})[op.method.lower()] = _operation(op, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "federation admin API",
            "version": "1",
            "description": "Follows, moderation and the delivery queue of one gateway. Errors are"
            " RFC 9457 problem+json.",
        },
        "servers": [{"url": "/"}],
        "security": [{"adminToken": []}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.components.items())),
            "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}},
        },
    }
