"""What every kind of proof or signature reads of a document alike: one member taken out of it,
and a member that must be a string."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def without(document: dict[str, Any], name: str) -> dict[str, Any]:
    """`document` less its member `name`: what a proof or signature kept there covers."""
    return {key: value for key, value in document.items() if key != name}


def string_member(
    obj: dict[str, Any],
    name: str,
    malformed: Callable[[str], Exception],
    *,
    non_empty: bool = False,
) -> str:
    """The member `name` of `obj`, which must be a string (and not empty, when so asked);
    otherwise `malformed` raised with a detail that names it."""
    value = obj.get(name)
    if not isinstance(value, str) or (non_empty and not value):
        raise malformed(f"{name} must be a {'non-empty ' if non_empty else ''}string")
    return value
