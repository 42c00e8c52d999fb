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


def ns_url(base_url: str) -> str:
    """Where an instance serves its context document."""
    return f"{base_url}/ns"


def context_document(base_url: str) -> dict[str, Any]:
    """The context served at ``{base}/ns``; its terms are IRIs under ``{base}/ns#``."""
    return {
        "@context": {
            "blk": f"{ns_url(base_url)}#",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
            # A URN is an IRI, so the values of urn and references are node references.
            "urn": {"@id": "blk:urn", "@type": "@id"},
            "blockKind": "blk:blockKind",
            "blockAuthor": "blk:blockAuthor",
            "references": {"@id": "blk:references", "@type": "@id", "@container": "@set"},
            "visibility": "blk:visibility",
            "embargoUntil": {"@id": "blk:embargoUntil", "@type": "xsd:dateTime"},
        }
    }


def object_context(base_url: str) -> list[str]:
    """The ``@context`` of our objects and activities."""
    return [AS_CONTEXT, ns_url(base_url)]


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
