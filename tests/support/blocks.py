"""The fields of one valid local block, as the backend contract sends them: tests override the
few they are about, so each test names only what it changes."""

from __future__ import annotations

from typing import Any


def block_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": "b1",
        "kind": "note",
        "title": "T",
        "content": "C",
        "author": "ann",
        "visibility": "public",
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
    }
    return {**fields, **overrides}
