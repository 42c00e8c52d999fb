"""The bundled JSON-LD contexts: which URLs they answer, registration, caching, and the block
vocabulary every instance shares."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

import federation.proofs.ld_canonical as ld_canonical
from federation.activities.context import (
    BLOCK_TERMS,
    context_document,
    object_context,
)
from federation.activities.context import VOCABULARY as BLOCK_VOCABULARY
from federation.proofs import (
    LdReason,
    LdSignatureError,
    register_context,
    sign_ld_signature,
    split_ld_signature,
    verify_ld_signature,
)
from federation.proofs.jsonld_contexts import (
    AS_CONTEXT,
    BUNDLED,
    IDENTITY_CONTEXT,
    UnknownContext,
    load_context,
    served_url,
)
from federation.proofs.ld_canonical import canonicalise

CONTEXTS = Path(__file__).resolve().parents[2] / "federation" / "proofs" / "contexts"
# Where a reader that fetched it keeps our served context document ({base}/ns), to name it.
SERVED_CONTEXT = "https://vocabulary.test.example/ns"


# Made once, at import: mutation testing forks each run from a process that imported this.
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key() -> RSAPrivateKey:
    return _KEY


@pytest.mark.parametrize("url", sorted(BUNDLED))
def test_every_bundled_context_loads_as_its_published_file(url: str) -> None:
    remote = load_context(url, {})
    assert remote["document"] == json.loads((CONTEXTS / BUNDLED[url]).read_text())
    assert remote["documentUrl"] == url
    assert remote["contextUrl"] is None
    assert remote["tag"] == "static"  # what pyld keys its process-wide context cache on


def test_the_readme_lists_every_bundled_file() -> None:
    readme = (CONTEXTS / "README.md").read_text()
    for url, name in BUNDLED.items():
        assert f"`{url}` | `{name}`" in readme


@pytest.mark.parametrize(
    ("url", "served"),
    [
        (AS_CONTEXT, AS_CONTEXT),
        ("https://www.w3.org/ns/activitystreams#", AS_CONTEXT),
        ("http://www.w3.org/ns/activitystreams", AS_CONTEXT),
        ("http://www.w3.org/ns/activitystreams#", AS_CONTEXT),
        ("http://w3id.org/security/v1", "https://w3id.org/security/v1"),
        ("http://w3id.org/identity/v1#x", IDENTITY_CONTEXT),
        ("http://joinmastodon.org/ns", "http://joinmastodon.org/ns"),
        ("https://gotosocial.org/ns", "https://gotosocial.org/ns"),
        # Hosts we do not know to serve the same document over http.
        ("http://gotosocial.org/ns", None),
        ("https://joinmastodon.org/ns", None),
        ("https://www.w3.org/ns/activitystreams.jsonld", None),
        ("https://www.w3.org/ns/activitystreams/", None),
        ("https://evil.example/ns", None),
        ("http://evil.example/ns", None),
        ("http:", None),
        ("", None),
    ],
)
def test_spellings_senders_use_are_served_deliberately(url: str, served: str | None) -> None:
    assert served_url(url) == served


def test_an_other_spelling_keeps_its_own_document_url() -> None:
    remote = load_context("http://www.w3.org/ns/activitystreams", {})
    assert remote["documentUrl"] == "http://www.w3.org/ns/activitystreams"
    assert remote["document"] == load_context(AS_CONTEXT, {})["document"]


def test_an_unknown_url_is_refused_by_the_loader() -> None:
    with pytest.raises(UnknownContext) as caught:
        load_context("https://evil.example/ns", {})
    assert caught.value.url == "https://evil.example/ns"
    assert str(caught.value) == "no bundled JSON-LD context for https://evil.example/ns"


def test_what_pyld_does_to_a_served_document_cannot_change_the_next() -> None:
    first = load_context(AS_CONTEXT, {})
    first["document"]["@context"]["Note"] = "https://evil.example/Note"
    assert load_context(AS_CONTEXT, {})["document"]["@context"]["Note"] == "as:Note"


def test_contexts_are_loaded_once_then_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyld caches what it derives from a context marked static: verifying a second activity
    loads no context again."""
    loads: list[str] = []

    def counting(url: str, options: dict[str, Any]) -> dict[str, Any]:
        loads.append(url)
        return load_context(url, options)

    monkeypatch.setattr(ld_canonical, "load_context", counting)
    document = {
        "@context": ["http://www.w3.org/ns/activitystreams#", "https://w3id.org/security/v1"],
        "id": "https://a.example/cache-1",
        "type": "Note",
    }
    canonicalise(document)
    loads.clear()
    canonicalise({**document, "id": "https://a.example/cache-2"})
    assert loads == []


def test_a_registered_context_is_served_and_may_be_registered_again() -> None:
    url = "https://registered.test.example/ns"
    document = {"@context": {"thing": "https://registered.test.example/ns#thing"}}
    assert served_url(url) is None
    register_context(url, document)
    register_context(url, json.loads(json.dumps(document)))
    assert served_url(url) == url
    assert served_url(url + "#thing") == url
    assert load_context(url, {})["document"] == document
    document["@context"]["thing"] = "changed after registering"
    assert load_context(url, {})["document"]["@context"]["thing"].endswith("#thing")


@pytest.mark.parametrize(
    ("url", "document", "message"),
    [
        (AS_CONTEXT, {"@context": {}}, "already served with another document"),
        (
            "https://registered.test.example/twice",
            {"@context": {"b": "https://b.example/"}},
            "already served with another document",
        ),
        (
            "https://registered.test.example/bare",
            {"a": 1},
            "a context document needs an @context member",
        ),
    ],
)
def test_registration_never_changes_what_a_url_means(
    url: str, document: dict[str, Any], message: str
) -> None:
    register_context("https://registered.test.example/twice", {"@context": {}})
    with pytest.raises(ValueError, match=f"^(https://\\S+ is )?{message}$"):
        register_context(url, document)
    assert served_url("https://registered.test.example/bare") is None


def test_only_plain_json_can_be_registered() -> None:
    with pytest.raises(TypeError):
        register_context("https://registered.test.example/odd", {"@context": {"x": {1, 2}}})
    assert served_url("https://registered.test.example/odd") is None


def block_create(context: list[Any]) -> dict[str, Any]:
    return {
        "@context": context,
        "id": "https://alpha.example/activities/7",
        "type": "Create",
        "actor": "https://alpha.example/actor",
        "object": {
            "id": "https://alpha.example/blocks/n-1",
            "type": "Note",
            "attributedTo": "https://alpha.example/actor",
            "content": "a block",
            "urn": "urn:block:alpha.example:n-1",
            "blockKind": "note",
            "blockAuthor": "ann",
            "references": ["urn:block:beta.example:x-7"],
            "visibility": "public",
            "embargoUntil": "2027-01-01T00:00:00Z",
        },
    }


def quads_with(nquads: str, predicate: str) -> list[str]:
    return [line for line in nquads.splitlines() if f"<{BLOCK_VOCABULARY}{predicate}>" in line]


def test_the_block_vocabulary_gives_every_term_one_shared_iri() -> None:
    """As our objects carry it: inline, so no reader fetches a context of ours."""
    nquads = canonicalise(block_create(object_context()))
    expected: dict[str, Callable[[str], bool]] = {
        "urn": lambda line: line.endswith("<urn:block:alpha.example:n-1> ."),
        "blockKind": lambda line: line.endswith('"note" .'),
        "blockAuthor": lambda line: line.endswith('"ann" .'),
        "references": lambda line: line.endswith("<urn:block:beta.example:x-7> ."),
        "visibility": lambda line: line.endswith('"public" .'),
        "embargoUntil": lambda line: line.endswith(
            '"2027-01-01T00:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> .'
        ),
    }
    for term, check in expected.items():
        (line,) = quads_with(nquads, term)
        assert line.startswith("<https://alpha.example/blocks/n-1> ") and check(line), line


def test_the_served_block_vocabulary_stands_on_its_own() -> None:
    """The document {base}/ns serves, without ActivityStreams' context beside it (which defines
    `xsd:` too)."""
    register_context(SERVED_CONTEXT, context_document())
    document = {
        "@context": SERVED_CONTEXT,
        "@id": "https://alpha.example/blocks/n-1",
        "embargoUntil": "2027-01-01T00:00:00Z",
    }
    (line,) = quads_with(canonicalise(document), "embargoUntil")
    assert line.endswith('"2027-01-01T00:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> .')


def test_the_block_vocabulary_keeps_references_a_set() -> None:
    document = block_create(object_context())
    document["object"]["references"] = "urn:block:beta.example:x-7"
    assert quads_with(canonicalise(document), "references")
    assert BLOCK_TERMS["references"]["@container"] == "@set"


def test_a_block_signed_over_the_shared_vocabulary_verifies_and_is_covered() -> None:
    created = datetime(2026, 12, 1, tzinfo=UTC)
    signed = sign_ld_signature(
        block_create(object_context()), key(), "https://alpha.example/actor#main", created
    )
    parsed = split_ld_signature(signed)
    assert parsed is not None
    verify_ld_signature(parsed, key().public_key())
    signed["object"]["blockKind"] = "task"
    tampered = split_ld_signature(signed)
    assert tampered is not None
    with pytest.raises(LdSignatureError) as caught:
        verify_ld_signature(tampered, key().public_key())
    assert caught.value.reason is LdReason.BAD_SIGNATURE


def test_a_per_instance_context_is_not_fetched_to_check_a_block() -> None:
    """The old `{base}/ns` contexts: refused, since checking them would mean fetching them."""
    with pytest.raises(LdSignatureError) as caught:
        canonicalise(block_create([AS_CONTEXT, "https://alpha.example/ns"]))
    assert caught.value.reason is LdReason.UNKNOWN_CONTEXT
