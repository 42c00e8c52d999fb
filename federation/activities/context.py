"""Our JSON-LD vocabulary and the ActivityStreams media types."""

from __future__ import annotations

import re
from typing import Any

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
# Equivalent spellings of the Public collection that peers send (Mastodon accepts all three).
PUBLIC_ALIASES = frozenset({PUBLIC, "as:Public", "Public"})
AS_MEDIA_TYPE = "application/activity+json"
LD_MEDIA_TYPE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'

_PARAM = re.compile(r';\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


# One vocabulary for every instance, as Mastodon's http://joinmastodon.org/ns# or GoToSocial's
# https://gotosocial.org/ns: alpha's `urn` and beta's `urn` are the same property to a JSON-LD
# reader, so checking a Linked Data signature over a block never means fetching its origin's
# context. (Before, each gateway defined its terms under its own {base}/ns#.)
VOCABULARY = "https://w3id.org/kbfed/ns#"
BLOCK_TERMS: dict[str, Any] = {
    "kbfed": VOCABULARY,
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    # A URN is an IRI, so the values of urn and references are node references.
    "urn": {"@id": "kbfed:urn", "@type": "@id"},
    "blockKind": "kbfed:blockKind",
    "blockAuthor": "kbfed:blockAuthor",
    "references": {"@id": "kbfed:references", "@type": "@id", "@container": "@set"},
    "visibility": "kbfed:visibility",
    "embargoUntil": {"@id": "kbfed:embargoUntil", "@type": "xsd:dateTime"},
}


def ns_url(base_url: str) -> str:
    """Where an instance serves the vocabulary's context document (and the old per-instance
    context URL that objects from earlier versions still name)."""
    return f"{base_url}/ns"


def context_document() -> dict[str, Any]:
    """The context served at ``{base}/ns``: the same document on every instance, so an object
    that still names an older gateway's ``{base}/ns`` reads with the shared vocabulary too."""
    return {"@context": dict(BLOCK_TERMS)}


def object_context() -> list[Any]:
    """The ``@context`` of our objects and activities: the block terms travel inline (as
    Mastodon's extension terms do), so no reader ever has to fetch a context of ours."""
    return [AS_CONTEXT, dict(BLOCK_TERMS)]


def is_activitystreams_media_type(content_type_header: str) -> bool:
    """True for application/activity+json, and for application/ld+json with the AS profile."""
    media_type, _, params = content_type_header.partition(";")
    media_type = media_type.strip().lower()
    if media_type == AS_MEDIA_TYPE:
        return True
    if media_type != "application/ld+json":
        return False
    for match in _PARAM.finditer(";" + params):
        if match.group(1).lower() == "profile":
            value = match.group(2).strip()
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            # RFC 6906: a profile parameter is a space-separated list of URIs.
            if AS_CONTEXT in value.lower().split():
                return True
    return False
