"""URDNA2015 canonicalisation of untrusted JSON-LD (pyld): bounded in cost, honest about coverage.

Cost: JSON-LD expansion is linear in the document, but URDNA2015 is not: blank nodes that look
alike (a clique of `_:b` labels, or a tree of identical anonymous objects) make its "Hash N-Degree
Quads" step try every permutation of them, and a few dozen take minutes (rdf-canon's "dataset
poisoning"). pyld has no limit of its own, so we bound the document before expanding it (size,
depth), the blank nodes before canonicalising (how many), and the number of Hash N-Degree
Quads runs while canonicalising, as rdf-canonize (Fedify's) does by default. Blank-node labels
(`"id": "_:b1"`) are refused outright: they are how a document builds the cycles and cliques that
cost most per run, and without them anonymous objects can only form trees.

Coverage: a signature over the canonical form covers only what becomes RDF. A property no context
defines is dropped (or, under ActivityStreams' `"@vocab": "_:"`, becomes a blank-node predicate
that RDF leaves out), and so is a relative IRI; anyone could add or change those without breaking
the signature, so a document that has any is refused, before the costly steps.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any, TypeVar

from pyld import jsonld
from pyld.canon import URDNA2015

from federation.proofs.jsonld_contexts import UnknownContext, load_context
from federation.proofs.ld_errors import LdReason, LdSignatureError

MAX_DEPTH = 16  # nesting of JSON objects and arrays; an activity with its object needs about 6
MAX_VALUES = 5_000  # JSON values (objects, arrays, scalars); a Mastodon Create has about 60
MAX_TEXT = 256 * 1024  # characters in all keys and strings together
MAX_BLANK_NODES = 128  # objects without an id; a Note with many tags and attachments has 40
MAX_DEEP_HASHES = 500  # Hash N-Degree Quads runs; ordinary documents need one per look-alike

_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_T = TypeVar("_T")


def canonicalise(document: dict[str, Any]) -> str:
    """URDNA2015 N-Quads of `document`, loading only bundled contexts; LdSignatureError when it
    is too big or too complex, names a context we do not hold, or has properties RDF leaves out."""
    check_bounds(document)
    dropped: list[str | None] = []
    # No base: a relative IRI stays relative, to be seen below and refused (left alone, pyld
    # would resolve it against http://example.org/base/, where other processors drop it).
    options = {"documentLoader": load_context, "base": None}
    expanded = _run(lambda: jsonld.expand(document, options, on_property_dropped=dropped.append))
    uncovered = sorted({_dropped_name(name) for name in dropped} | _unsigned_in(expanded))
    if uncovered:
        raise LdSignatureError(
            LdReason.UNCOVERED,
            f"no context defines, so no signature can cover: {', '.join(uncovered[:10])}",
        )
    dataset = _run(lambda: jsonld.to_rdf(expanded, options))
    check_blank_nodes(dataset)
    canonicaliser = _BoundedUrdna2015()
    return str(_run(lambda: canonicaliser.main(dataset, {"format": "application/n-quads"})))


def digest_hex(document: dict[str, Any]) -> str:
    """hex(SHA-256(URDNA2015(document))), the half of a signed string that one document gives."""
    return hashlib.sha256(canonicalise(document).encode("utf-8")).hexdigest()


def check_bounds(document: Any) -> None:
    """Refuse a document too big or too deep to be worth expanding, before any JSON-LD work."""
    values = text = 0
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        values += 1
        if isinstance(value, dict | list) and depth > MAX_DEPTH:
            raise LdSignatureError(LdReason.TOO_LARGE, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            text += sum(len(key) for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            text += len(value)
    if values > MAX_VALUES:
        raise LdSignatureError(LdReason.TOO_LARGE, f"{values} JSON values (at most {MAX_VALUES})")
    if text > MAX_TEXT:
        raise LdSignatureError(LdReason.TOO_LARGE, f"{text} characters (at most {MAX_TEXT})")


def check_blank_nodes(dataset: dict[str, list[dict[str, Any]]]) -> None:
    """Refuse an RDF dataset whose blank nodes could make URDNA2015 explode, before running it."""
    # A blank graph name is also the object of the triple that names the graph: counted there.
    nodes: set[str] = set()
    for triples in dataset.values():
        for triple in triples:
            nodes.update(
                term["value"]
                for term in (triple["subject"], triple["object"])
                if term["type"] == "blank node"
            )
    if len(nodes) > MAX_BLANK_NODES:
        raise LdSignatureError(
            LdReason.TOO_COMPLEX, f"{len(nodes)} blank nodes (at most {MAX_BLANK_NODES})"
        )


class _BoundedUrdna2015(URDNA2015):  # type: ignore[misc]  # pyld ships no type hints
    """pyld's URDNA2015 that gives up after MAX_DEEP_HASHES runs of Hash N-Degree Quads."""

    def __init__(self) -> None:
        super().__init__()
        self._deep_hashes = 0

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> Any:
        self._deep_hashes += 1
        if self._deep_hashes > MAX_DEEP_HASHES:
            raise LdSignatureError(
                LdReason.TOO_COMPLEX,
                f"canonicalisation needs over {MAX_DEEP_HASHES} blank-node comparisons",
            )
        return super().hash_n_degree_quads(id_, issuer)


def _run(step: Callable[[], _T]) -> _T:
    """One pyld step; whatever pyld raises becomes our reason, never its traceback."""
    try:
        return step()
    except LdSignatureError:
        raise
    except Exception as exc:  # pyld raises JsonLdError, but also KeyError, TypeError, ...
        refused = _refused_context(exc)
        if refused is not None:
            raise LdSignatureError(
                LdReason.UNKNOWN_CONTEXT, f"no bundled copy of the JSON-LD context {refused.url}"
            ) from None
        raise LdSignatureError(
            LdReason.NOT_CANONICALISABLE, f"JSON-LD processing failed: {_summary(exc)}"
        ) from None


def _refused_context(exc: BaseException) -> UnknownContext | None:
    """Our loader's refusal, however deep pyld wrapped it (`raise ... from cause`)."""
    seen: BaseException | None = exc
    while seen is not None and not isinstance(seen, UnknownContext):
        seen = seen.__cause__
    return seen


def _summary(exc: Exception) -> str:
    """The exception's message, one line; pyld's own `str` is a tuple and several lines, and
    some messages repeat a value from the document (so they are cut short)."""
    message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    return f"{type(exc).__name__}: {message.partition(chr(10))[0][:200]}"


def _dropped_name(name: str | None) -> str:
    return "(a term defined as null)" if name is None else name


def _unsigned_in(expanded: Any) -> set[str]:
    """Names in expanded JSON-LD that RDF leaves out or renames: blank-node predicates (an
    undefined term under `"@vocab": "_:"`), blank or relative types, relative node identifiers.
    A blank-node label is refused here (see the module's docstring)."""
    found: set[str] = set()
    stack = [expanded]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                if key.startswith("_:"):
                    found.add(key[2:])
                elif key == "@type":
                    found.update(f"type {t}" for t in _as_list(item) if _not_an_iri(t))
                elif key == "@id" and _not_an_iri(item):
                    _refuse_label(item)
                    found.add(f"id {item}")
                stack.append(item)
    return found


def _not_an_iri(value: Any) -> bool:
    """A blank-node label (renamed by canonicalisation: `_` is not a scheme) or a relative IRI
    (left out of RDF); not a keyword such as `@json`."""
    if not isinstance(value, str) or value.startswith("@"):
        return False
    return _ABSOLUTE_IRI.match(value) is None


def _refuse_label(node_id: str) -> None:
    if node_id.startswith("_:"):
        raise LdSignatureError(
            LdReason.TOO_COMPLEX, f"blank node identifiers ({node_id[:40]}) are not accepted"
        )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
