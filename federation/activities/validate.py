"""First look at inbound JSON: bounded nesting, and the properties every activity needs."""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Mapping
from itertools import accumulate, repeat
from typing import Any
from urllib.parse import urlsplit

from federation.activities.errors import InvalidActivity
from federation.hosts import host_of

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")  # 1 + depth step, as a byte


def load_object(body: bytes, *, max_depth: int) -> dict[str, Any]:
    """Parse JSON text that must be an object nested at most `max_depth` levels deep
    (activities, and the objects the resolver fetches); InvalidActivity says what is wrong."""
    try:
        parsed = json.loads(
            body.decode("utf-8"),
            parse_constant=_reject_constant,
            object_pairs_hook=_object_with_unique_keys,
        )
    except UnicodeDecodeError:
        raise InvalidActivity("the body is not UTF-8") from None
    except RecursionError:  # the C decoder guards its own recursion: nesting far too deep
        raise InvalidActivity(f"JSON nested deeper than {max_depth} levels") from None
    except ValueError:
        raise InvalidActivity("the body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise InvalidActivity("the body is not a JSON object")
    if _depth_exceeds(body, max_depth):
        raise InvalidActivity(f"JSON nested deeper than {max_depth} levels")
    return parsed


def _object_with_unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are unique. Parsers disagree on which of two equal keys wins
    (first or last), so an object that names one twice is ambiguous: a signer could show a
    checker one actor and a handler another. Refuse it instead of picking one."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidActivity(f"the JSON object names the key {key!r} more than once")
            seen.add(key)
    return obj


def parse_activity(body: bytes, *, max_depth: int) -> dict[str, Any]:
    """Parse and check an activity; InvalidActivity says what is wrong."""
    parsed = load_object(body, max_depth=max_depth)
    if not _is_web_url(parsed.get("id")):
        raise InvalidActivity("id must be an http(s) URL")
    kind = parsed.get("type")
    if not (_is_name(kind) or (isinstance(kind, list) and kind and all(map(_is_name, kind)))):
        raise InvalidActivity("type must be a non-empty string or list of strings")
    actor_of(parsed)
    return parsed


def actor_of(activity: Mapping[str, Any]) -> str:
    """The activity's actor URL; the actor may be given by URL or as an object with an id."""
    actor = activity.get("actor")
    if isinstance(actor, Mapping):
        actor = actor.get("id")
    if not isinstance(actor, str) or not _is_web_url(actor):
        raise InvalidActivity("actor must be an http(s) URL or an object with such an id")
    return actor


def types_of(activity: Mapping[str, Any]) -> tuple[str, ...]:
    """The activity's types: ActivityStreams allows one name or a list, ["Add", "Activity"]."""
    kind = activity.get("type")
    if isinstance(kind, str):
        return (kind,)
    if isinstance(kind, list):
        return tuple(name for name in kind if isinstance(name, str))
    return ()


def object_id_of(activity: Mapping[str, Any]) -> str | None:
    """The id of the activity's object (given by URL or embedded), None when there is none."""
    obj = activity.get("object")
    if isinstance(obj, Mapping):
        obj = obj.get("id")
    return obj if isinstance(obj, str) else None


def _depth_exceeds(body: bytes, max_depth: int) -> bool:
    """Nesting depth of (already valid) JSON text, computed at C speed, no recursion.

    Strings and every non-bracket byte are cut out; each opening bracket then counts +1 and
    each closing one -1: the depth is the highest running sum.
    """
    if body.count(b"{") + body.count(b"[") <= max_depth:
        return False  # too few brackets in all (strings included) to nest that deep
    steps = _STRING.sub(b"", body).translate(_STEP, _NOT_BRACKETS)
    running = accumulate(map(operator.sub, steps, repeat(1)))
    return max(running, default=0) > max_depth


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _is_name(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _is_web_url(value: object) -> bool:
    """An http(s) URL with a well-formed host (see federation.hosts)."""
    if not isinstance(value, str) or host_of(value) is None:
        return False
    return urlsplit(value).scheme in ("http", "https")
