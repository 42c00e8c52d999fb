"""Activities from our instance actor.

Block activities (Create, Update, Delete) go to Public with our followers in cc; the follow
family (Follow, Accept, Reject, Undo) is addressed to the other instance's actor. An embedded
object never repeats the ``@context``: the activity carries it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID, uuid4

from federation.activities.context import AS_CONTEXT, PUBLIC, object_context
from federation.activities.objects import tombstone
from federation.activities.validate import actor_of

_ACTOR_SUFFIX = "/actor"


def new_activity_id(base_url: str, make_uuid: Callable[[], UUID] = uuid4) -> str:
    return f"{base_url}/activities/{make_uuid()}"


def create(obj: Mapping[str, Any], actor: str, activity_id: str) -> dict[str, Any]:
    return _block_activity("Create", obj, actor, activity_id)


def update(obj: Mapping[str, Any], actor: str, activity_id: str) -> dict[str, Any]:
    return _block_activity("Update", obj, actor, activity_id)


def delete(url: str, urn: str, actor: str, activity_id: str) -> dict[str, Any]:
    return _block_activity("Delete", tombstone(url, urn), actor, activity_id)


def follow(actor: str, target: str, activity_id: str) -> dict[str, Any]:
    return {
        "@context": AS_CONTEXT,
        "id": activity_id,
        "type": "Follow",
        "actor": actor,
        "object": target,
        "to": [target],
    }


def accept(actor: str, follow_activity: Mapping[str, Any], activity_id: str) -> dict[str, Any]:
    return _answer("Accept", actor, follow_activity, activity_id)


def reject(actor: str, follow_activity: Mapping[str, Any], activity_id: str) -> dict[str, Any]:
    return _answer("Reject", actor, follow_activity, activity_id)


def undo(actor: str, inner: Mapping[str, Any], activity_id: str) -> dict[str, Any]:
    """Undo one of our earlier activities, addressed as that one was."""
    activity: dict[str, Any] = {
        "@context": inner.get("@context", AS_CONTEXT),
        "id": activity_id,
        "type": "Undo",
        "actor": actor,
        "object": _embedded(inner),
        "to": list(inner.get("to", [])),
    }
    if "cc" in inner:
        activity["cc"] = list(inner["cc"])
    return activity


def _block_activity(
    kind: str, obj: Mapping[str, Any], actor: str, activity_id: str
) -> dict[str, Any]:
    return {
        "@context": obj.get("@context", _instance_context(actor)),
        "id": activity_id,
        "type": kind,
        "actor": actor,
        "object": _embedded(obj),
        "to": [PUBLIC],
        "cc": [f"{actor}/followers"],
    }


def _answer(
    kind: str, actor: str, follow_activity: Mapping[str, Any], activity_id: str
) -> dict[str, Any]:
    follower = actor_of(follow_activity)
    return {
        "@context": AS_CONTEXT,
        "id": activity_id,
        "type": kind,
        "actor": actor,
        "object": _embedded(follow_activity),
        "to": [follower],
    }


def _instance_context(actor: str) -> list[Any] | str:
    """Our context list for an activity by our actor ``{base}/actor``."""
    if actor.endswith(_ACTOR_SUFFIX):
        return object_context()
    return AS_CONTEXT


def _embedded(obj: Mapping[str, Any]) -> dict[str, Any]:
    if "proof" in obj:
        # A proved object is embedded whole: its proof covers its own @context too.
        return dict(obj)
    return {key: value for key, value in obj.items() if key != "@context"}
