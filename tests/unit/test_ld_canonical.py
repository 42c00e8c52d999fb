"""Bounded URDNA2015: the same canonical form as pyld's own, refusals before the costly steps,
contexts never fetched, and properties a signature could not cover named."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld

from federation.proofs import LdReason, LdSignatureError
from federation.proofs.jsonld_contexts import load_context
from federation.proofs.ld_canonical import (
    MAX_BLANK_NODES,
    MAX_DEPTH,
    MAX_TEXT,
    MAX_VALUES,
    _summary,
    canonicalise,
    digest_hex,
)

AS = "https://www.w3.org/ns/activitystreams"
P = "http://ex.example/p"
VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "ld_signatures"


def refused(document: Any) -> LdSignatureError:
    with pytest.raises(LdSignatureError) as caught:
        canonicalise(document)
    return caught.value


def note(**extra: Any) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": "https://alpha.example/notes/1",
        "type": "Note",
        "content": "x",
        **extra,
    }


@pytest.mark.parametrize("name", sorted(path.name for path in VECTORS.glob("*.json")))
def test_the_canonical_form_is_pyld_normalize_urdna2015(name: str) -> None:
    document = json.loads((VECTORS / name).read_text())["document"]
    unsigned = {k: v for k, v in document.items() if k != "signature"}
    options = {"algorithm": "URDNA2015", "format": "application/n-quads"}
    expected = jsonld.normalize(unsigned, {**options, "documentLoader": load_context})
    assert canonicalise(unsigned) == expected
    assert len(digest_hex(unsigned)) == 64


def test_the_digest_is_sha256_of_the_nquads_in_hex() -> None:
    document = {"@context": AS, "id": "https://a.example/1", "type": "Note"}
    nquads = (
        "<https://a.example/1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
        " <https://www.w3.org/ns/activitystreams#Note> .\n"
    )
    assert canonicalise(document) == nquads
    # printf '%s' "$nquads" | sha256sum
    assert (
        digest_hex(document) == "e5dd3743af2fdb5813cb9d16acd418de8805f7e5927d47e6047e2d0c6b3b2695"
    )


def nested(depth: int) -> dict[str, Any]:
    """A document whose JSON nests exactly `depth` containers deep."""
    value: Any = {P: "leaf"}
    for _ in range(depth - 1):
        value = {P: value}
    return value


def nested_in_lists(depth: int) -> dict[str, Any]:
    """As `nested`, every other level an array (the outermost an object)."""
    value: Any = {P: "leaf"}
    for level in range(2, depth + 1):
        value = {P: value} if (depth - level) % 2 == 0 else [value]
    assert isinstance(value, dict)
    return value


def test_depth_is_capped_before_expansion() -> None:
    canonicalise(nested(MAX_DEPTH))
    error = refused(nested(MAX_DEPTH + 1))
    assert (error.reason, error.detail) == (LdReason.TOO_LARGE, "nested deeper than 16 levels")
    canonicalise(nested_in_lists(MAX_DEPTH))
    error = refused(nested_in_lists(MAX_DEPTH + 1))
    assert (error.reason, error.detail) == (LdReason.TOO_LARGE, "nested deeper than 16 levels")


def test_the_number_of_values_is_capped() -> None:
    """The object counts as one value, each key's value as one more."""
    at_limit = {f"http://ex.example/p{i}": i for i in range(MAX_VALUES - 1)}
    canonicalise(at_limit)
    error = refused({**at_limit, "http://ex.example/last": 0})
    assert (error.reason, error.detail) == (LdReason.TOO_LARGE, "5001 JSON values (at most 5000)")


def test_the_text_is_capped() -> None:
    """Keys and strings together; `P` is 19 characters."""
    at_limit = {P: "x" * (MAX_TEXT - len(P))}
    canonicalise(at_limit)
    error = refused({P: "x" * (MAX_TEXT - len(P) + 1)})
    assert (error.reason, error.detail) == (
        LdReason.TOO_LARGE,
        "262145 characters (at most 262144)",
    )


def test_text_in_nested_keys_and_lists_counts() -> None:
    error = refused({P: [{"k" * MAX_TEXT: 1}]})
    assert error.reason is LdReason.TOO_LARGE and "characters" in error.detail


def look_alikes(count: int) -> dict[str, Any]:
    """A node with `count` identical anonymous children: `count` blank nodes."""
    return {"@id": "https://ex.example/root", P: [{"http://ex.example/v": "same"}] * count}


def test_the_number_of_blank_nodes_is_capped() -> None:
    canonicalise(look_alikes(MAX_BLANK_NODES))
    error = refused(look_alikes(MAX_BLANK_NODES + 1))
    assert (error.reason, error.detail) == (
        LdReason.TOO_COMPLEX,
        "129 blank nodes (at most 128)",
    )


def tree(predicate: str, depth: int, width: int) -> dict[str, Any]:
    if depth == 0:
        return {"http://ex.example/v": "x"}
    return {predicate: [tree(predicate, depth - 1, width) for _ in range(width)]}


def symmetric(look_alike_leaves: int) -> dict[str, Any]:
    """Trees of identical anonymous objects (49 blank nodes, plus the leaves): canonicalising
    them runs Hash N-Degree Quads 463 + `look_alike_leaves` times (counted once by overriding
    the method as our bounded subclass does)."""
    document: dict[str, Any] = {
        "@id": "https://ex.example/root",
        "http://ex.example/c": [{"http://ex.example/v": "y"}] * look_alike_leaves,
    }
    for number, (depth, width) in enumerate([(2, 4), (3, 2), (2, 3)]):
        predicate = f"http://ex.example/t{number}"
        document[predicate] = tree(predicate, depth, width)
    return document


def test_canonicalisation_gives_up_after_its_budget_of_deep_hashes() -> None:
    canonicalise(symmetric(37))  # 500 runs
    error = refused(symmetric(38))  # 501
    assert (error.reason, error.detail) == (
        LdReason.TOO_COMPLEX,
        "canonicalisation needs over 500 blank-node comparisons",
    )


@pytest.mark.parametrize(("depth", "width"), [(2, 10), (3, 4), (6, 2)])
def test_poisoned_trees_are_refused_quickly(depth: int, width: int) -> None:
    """Unbounded, pyld takes about a minute on tree(2, 8) and longer beyond."""
    started = time.monotonic()
    assert refused(tree(P, depth, width)).reason is LdReason.TOO_COMPLEX
    assert time.monotonic() - started < 5


def clique(size: int) -> dict[str, Any]:
    nodes = [
        {"@id": f"_:b{i}", P: [{"@id": f"_:b{j}"} for j in range(size) if j != i]}
        for i in range(size)
    ]
    return {"@graph": nodes}


def test_blank_node_labels_are_refused_before_canonicalising() -> None:
    """A 9-clique takes pyld minutes; refused at once."""
    started = time.monotonic()
    error = refused(clique(9))
    assert error.reason is LdReason.TOO_COMPLEX
    assert error.detail.startswith("blank node identifiers (_:b") and error.detail.endswith(
        ") are not accepted"
    )
    assert time.monotonic() - started < 1
    long_label = "_:" + "b" * 60
    assert refused({"@id": long_label, P: 1}).detail == (
        f"blank node identifiers ({long_label[:40]}) are not accepted"
    )


class Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        Recorder.hits.append(self.path)
        body = json.dumps({"@context": {"evil": "http://evil.example/ns#evil"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/ld+json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def context_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/context.jsonld"
    finally:
        server.shutdown()
        server.server_close()


def test_an_unknown_context_is_refused_and_never_fetched(context_server: str) -> None:
    Recorder.hits.clear()
    error = refused({"@context": [AS, context_server], "type": "Note", "evil": "x"})
    assert (error.reason, error.detail) == (
        LdReason.UNKNOWN_CONTEXT,
        f"no bundled copy of the JSON-LD context {context_server}",
    )
    assert Recorder.hits == []  # canonicalise has returned: a fetch would have been made by now


def test_a_context_named_inside_a_property_is_refused_too() -> None:
    document = note(tag={"@context": "https://evil.example/ctx", "type": "Mention"})
    assert refused(document).reason is LdReason.UNKNOWN_CONTEXT


@pytest.mark.parametrize(
    ("document", "names"),
    [
        (note(injected="x"), "injected"),  # ActivityStreams' "@vocab": "_:" makes it _:injected
        (note(zeta=1, alpha=2), "alpha, zeta"),
        (note(**{f"p{i:02}": i for i in range(12)}), ", ".join(f"p{i:02}" for i in range(10))),
        ({"@context": {"t": P}, "@id": "https://a.example/1", "other": 1}, "other"),
        ({"@context": [AS, {"content": None}], "content": "x"}, "(a term defined as null)"),
        (note(type="Invented"), "type _:Invented"),
        ({"@context": {"p": P}, "@type": "Relative", "p": 1}, "type Relative"),
        (note(id="relative/1"), "id relative/1"),
        (note(tag=[{"id": "mention-1", "type": "Mention"}]), "id mention-1"),
    ],
)
def test_what_a_signature_could_not_cover_is_refused(document: dict[str, Any], names: str) -> None:
    error = refused(document)
    assert (error.reason, error.detail) == (
        LdReason.UNCOVERED,
        f"no context defines, so no signature can cover: {names}",
    )


def test_keywords_and_json_literals_are_not_uncovered() -> None:
    document = {
        "@context": [AS, {"data": {"@id": "http://ex.example/data", "@type": "@json"}}],
        "id": "https://a.example/1",
        "type": ["Note", "https://ex.example/Extra"],
        "data": {"anything": ["goes", 1]},
        "contentMap": {"en": "x"},
    }
    assert "<http://ex.example/data>" in canonicalise(document)


@pytest.mark.parametrize(
    "document",
    [
        {"@context": 5, "@id": "https://a.example/1"},
        {"@context": {"@base": 5}, "@id": "x"},
        {"@context": AS, "id": "https://a.example/1", "content": {"@value": ["x"]}},
    ],
)
def test_what_pyld_cannot_process_is_refused_with_our_reason(document: dict[str, Any]) -> None:
    error = refused(document)
    assert error.reason is LdReason.NOT_CANONICALISABLE
    assert error.detail.startswith("JSON-LD processing failed: JsonLdError: Invalid JSON-LD")


def test_pylds_message_is_given_on_one_line_and_cut_short() -> None:
    error = refused({"@context": {"@version": 2.0}, "@id": "https://a.example/1"})
    assert (
        error.detail == "JSON-LD processing failed: JsonLdError: Unsupported JSON-LD version: 2.0"
    )
    error = refused({"@context": {"@version": "9" * 300}, "@id": "https://a.example/1"})
    message = "Unsupported JSON-LD version: " + "9" * 300
    assert error.detail == f"JSON-LD processing failed: JsonLdError: {message[:200]}"


@pytest.mark.parametrize(
    ("exc", "summary"),
    [
        (ValueError("first line\nsecond line"), "ValueError: first line"),
        (ValueError("one\vline"), "ValueError: one\vline"),
        (KeyError(5), "KeyError: 5"),
        (ValueError(), "ValueError: "),
    ],
)
def test_any_exception_pyld_raises_is_summed_up_on_one_line(exc: Exception, summary: str) -> None:
    """pyld raises JsonLdError with one string argument, but also plain KeyError, TypeError..."""
    assert _summary(exc) == summary
