"""The JSON-LD contexts a Linked Data signature can be checked against: bundled, never fetched.

Canonicalising a document (URDNA2015) needs every context its `@context` names. Fetching them at
run time would let any sender make us issue requests, and a context that changed since it was
signed would break every signature made against it; so pyld gets a document loader that serves
only the copies bundled in `contexts/` (provenance and licences in contexts/README.md) and any
a caller registers, and refuses every other URL. (Our own block terms need neither: objects
carry them inline, activities/context.py.)

Contexts are immutable, so pyld may cache what it derives from them: the loader marks what it
serves `"tag": "static"`, the mark pyld's context resolver keys its process-wide cache on. That
is why registration is process-wide and append-only: one URL always means one document.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pyld.documentloader.frozen import FrozenDocumentLoader

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
IDENTITY_CONTEXT = "https://w3id.org/identity/v1"

BUNDLED = {
    AS_CONTEXT: "activitystreams.jsonld",
    SECURITY_CONTEXT: "security-v1.jsonld",
    IDENTITY_CONTEXT: "identity-v1.jsonld",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.jsonld",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
    "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
    "https://www.w3.org/ns/did/v1": "did-v1.jsonld",
    "https://www.w3.org/ns/cid/v1": "cid-v1.jsonld",
    "https://gotosocial.org/ns": "gotosocial.jsonld",
    "http://joinmastodon.org/ns": "joinmastodon.jsonld",
    "https://join-lemmy.org/context.json": "join-lemmy.jsonld",
    "https://purl.archive.org/miscellany": "miscellany.jsonld",
    "https://purl.archive.org/socialweb/webfinger": "webfinger.jsonld",
    "https://w3id.org/fep/5711": "fep-5711.jsonld",
    "https://w3id.org/fep/ef61": "fep-ef61.jsonld",
}
# Hosts whose contexts are the same document over http and https (w3id.org redirects http to
# https; the W3C serves both): senders still write `http://www.w3.org/ns/activitystreams`.
_SCHEME_BLIND_HOSTS = ("www.w3.org", "w3id.org")

_FOLDER = Path(__file__).parent / "contexts"
_documents: dict[str, Any] = {url: _FOLDER / name for url, name in BUNDLED.items()}
_loader = FrozenDocumentLoader(_documents)  # reads each file once, on first use


class UnknownContext(Exception):
    """A context URL we hold no copy of: refused, never fetched."""

    def __init__(self, url: str) -> None:
        super().__init__(f"no bundled JSON-LD context for {url}")
        self.url = url


def register_context(url: str, document: Mapping[str, Any]) -> None:
    """Serve `document` (a context document, `{"@context": ...}`) for `url` from now on.

    For a context defined outside the bundle (a test's, a deployment's). Registering the same
    document again is harmless; another document for a URL already served is refused, since pyld
    may have cached what it derived from the first."""
    global _loader
    if "@context" not in document:
        raise ValueError("a context document needs an @context member")
    frozen = json.loads(json.dumps(document))  # a private copy, and proof it is plain JSON
    known = _documents.get(url)
    if known is not None:
        if known != frozen:
            raise ValueError(f"{url} is already served with another document")
        return
    _documents[url] = frozen
    _loader = FrozenDocumentLoader(_documents)


def served_url(url: str) -> str | None:
    """The URL whose document `url` names, or None when we hold none.

    A fragment never changes the document a URL dereferences to (`.../activitystreams#` is the
    ActivityStreams context), and on the hosts above neither does http for https."""
    bare = url.partition("#")[0]
    if bare in _documents:
        return bare
    if bare.startswith("http://") and bare.split("/")[2] in _SCHEME_BLIND_HOSTS:
        secure = "https://" + bare.removeprefix("http://")
        if secure in _documents:
            return secure
    return None


def load_context(url: str, options: dict[str, Any]) -> dict[str, Any]:
    """pyld's document loader: a bundled or registered context, or UnknownContext."""
    served = served_url(url)
    if served is None:
        raise UnknownContext(url)
    remote = _loader(served, options)
    # A copy, so that nothing pyld does to what it is given can alter the next document served.
    document = copy.deepcopy(remote["document"])
    return {**remote, "document": document, "documentUrl": url, "tag": "static"}
