"""Blocks as ActivityStreams objects, both ways.

Rendering trusts our backend; reading trusts nothing: ``object_to_block`` checks every property
of a fetched or received object and says which one is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from federation.activities.block import (
    MAX_REFERENCES,
    Block,
    RemoteBlock,
    Visibility,
    format_rfc3339,
)
from federation.activities.context import PUBLIC, PUBLIC_ALIASES, object_context
from federation.activities.errors import InvalidObject
from federation.errors import UrnError
from federation.hosts import host_of, is_on
from federation.urn import BlockUrn, normalise

AS_NAMESPACE = "https://www.w3.org/ns/activitystreams#"
OBJECT_TYPE = "Note"  # what Mastodon-like servers display; blockKind carries our own kind
# Block field -> the object property it comes from, to name the culprit in reasons.
_PROPERTY_OF = {
    "title": "name",
    "kind": "blockKind",
    "author": "blockAuthor",
    "created_at": "published",
    "updated_at": "updated",
    "embargo_until": "embargoUntil",
}


def actor_url(base_url: str) -> str:
    return f"{base_url}/actor"


def followers_url(base_url: str) -> str:
    return f"{base_url}/actor/followers"


def block_to_object(block: Block, *, base_url: str, authority: str, scheme: str) -> dict[str, Any]:
    """Render one of our blocks. Private blocks never leave, so they are refused here too."""
    if block.visibility is Visibility.PRIVATE:
        raise ValueError("a private block is never rendered for the federation")
    urn = block.block_urn(authority)
    obj: dict[str, Any] = {
        "@context": object_context(),
        "id": urn.to_url(scheme),
        "type": OBJECT_TYPE,
        "urn": str(urn),
        "attributedTo": actor_url(base_url),
        "name": block.title,
        "content": block.content,
        "blockKind": block.kind,
        "blockAuthor": block.author,
        "published": format_rfc3339(block.created_at),
        "updated": format_rfc3339(block.updated_at),
        "references": block.reference_urns(urn.authority),
        "visibility": block.visibility.value,
        "to": [PUBLIC],
        "cc": [followers_url(base_url)],
    }
    if block.embargo_until is not None:
        obj["embargoUntil"] = format_rfc3339(block.embargo_until)
    if block.url is not None:
        obj["url"] = block.url
    return obj


def tombstone(url: str, urn: str) -> dict[str, Any]:
    """What a deleted block's object becomes (the object of a Delete)."""
    # formerType is an IRI-valued property in the AS2 context: a bare "Note" would be a
    # relative IRI, which JSON-LD readers drop. The full IRI reads the same in plain JSON.
    return {"id": url, "type": "Tombstone", "formerType": AS_NAMESPACE + OBJECT_TYPE, "urn": urn}


def is_block_shaped(obj: Mapping[str, Any]) -> bool:
    """Whether an object claims to be a block: its id is a block URL, or it carries one of our
    block properties. Anything else (a plain Note from a Mastodon-like peer) is ordinary
    ActivityPub that a knowledge base has no use for: ignored, never an error."""
    if "urn" in obj or "blockKind" in obj:
        return True
    object_id = obj.get("id")
    if not isinstance(object_id, str):
        return False
    try:
        BlockUrn.from_url(object_id)
    except UrnError:
        return False
    return True


def object_to_block(obj: Mapping[str, Any], *, expected_url: str) -> RemoteBlock:
    """Validate a remote block object fetched from (or claimed to live at) ``expected_url``."""
    if not isinstance(obj, Mapping):
        raise InvalidObject("the object is not a JSON object")
    urn = _check_identity(obj, expected_url)
    _check_origin(obj.get("attributedTo"), expected_url, urn)
    audience = [*_as_list(obj.get("to")), *_as_list(obj.get("cc"))]
    if not any(isinstance(a, str) and a in PUBLIC_ALIASES for a in audience):
        raise InvalidObject("the object is not addressed to the public")
    if obj.get("visibility", "public") not in ("public", "embargoed"):
        raise InvalidObject("visibility must be 'public' or 'embargoed'")
    page = obj.get("url")
    if page is not None and not (isinstance(page, str) and _is_web_url(page)):
        raise InvalidObject("url must be an http(s) URL of the block's page")
    fields = {
        "id": urn.local_id,
        "kind": obj.get("blockKind"),
        "title": obj.get("name"),
        "content": obj.get("content"),
        "author": obj.get("blockAuthor"),
        "visibility": obj.get("visibility", "public"),
        "embargo_until": obj.get("embargoUntil"),
        "created_at": obj.get("published"),
        "updated_at": obj.get("updated", obj.get("published")),
        "references": _reference_urns(obj.get("references", []), urn.authority),
        "url": obj.get("url"),
        "urn": str(urn),
        "origin": urn.authority,
        "object_url": expected_url,
    }
    try:
        return RemoteBlock.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "object"
        raise InvalidObject(f"{_PROPERTY_OF.get(name, name)}: {error['msg']}") from None


def _check_identity(obj: Mapping[str, Any], expected_url: str) -> BlockUrn:
    object_id = obj.get("id")
    if not isinstance(object_id, str):
        raise InvalidObject("the object has no string id")
    if object_id != expected_url:
        raise InvalidObject(f"id {object_id[:200]!r} is not the URL it came from")
    try:
        urn = BlockUrn.from_url(object_id)
    except UrnError as exc:
        raise InvalidObject(f"id is not a block URL: {exc}") from None
    kind = obj.get("type")
    if kind != OBJECT_TYPE and not (isinstance(kind, list) and OBJECT_TYPE in kind):
        raise InvalidObject(f"type must be {OBJECT_TYPE!r}")
    claimed = obj.get("urn", str(urn))
    try:
        matches = isinstance(claimed, str) and normalise(claimed) == str(urn)
    except UrnError:
        matches = False
    if not matches:
        raise InvalidObject("the urn property does not name the block at this id")
    return urn


def _check_origin(attributed_to: object, object_url: str, urn: BlockUrn) -> None:
    """The author actor must live on the object's origin (same scheme, host and port)."""
    if isinstance(attributed_to, Mapping):
        attributed_to = attributed_to.get("id")
    if not isinstance(attributed_to, str):
        raise InvalidObject("attributedTo must be an actor URL")
    try:
        parts = urlsplit(attributed_to)
        same = (
            parts.scheme.lower() == urlsplit(object_url).scheme.lower()
            and "@" not in parts.netloc
            and is_on(attributed_to, urn.authority)
        )
    except ValueError:  # UrnError included
        same = False
    if not same:
        raise InvalidObject("attributedTo is not on the object's origin")


def _reference_urns(values: object, origin: str) -> list[str]:
    """References as URNs: URNs as given, block URLs mapped back, bare ids on the origin."""
    if not isinstance(values, list) or len(values) > MAX_REFERENCES:
        raise InvalidObject(f"references must be a list of at most {MAX_REFERENCES} strings")
    urns = []
    for value in values:
        if not isinstance(value, str):
            raise InvalidObject("references must be a list of strings")
        try:
            if value[:4].lower() == "urn:":
                urns.append(normalise(value))
            elif "://" in value:
                urns.append(str(BlockUrn.from_url(value)))
            else:
                urns.append(str(BlockUrn(origin, value)))
        except UrnError as exc:
            reason = f"references: {value[:100]!r} is not a block reference: {exc}"
            raise InvalidObject(reason) from None
    return urns


def _is_web_url(value: str) -> bool:
    if host_of(value) is None:  # also every URL that does not parse
        return False
    return urlsplit(value).scheme.lower() in ("http", "https")


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
