"""`federation lookup|webfinger|nodeinfo`: what a remote server really serves, fetched the way
this instance fetches (Fedify's `fedify lookup`).

Every request goes through the instance's one signed client: a signed GET with its keys (so
peers with authorized fetch answer), the double knock from draft-cavage to RFC 9421 on a 401,
the SSRF guard on every connection and every redirect re-vetted. What it learns is kept in a
private in-memory store the caller hands in: a lookup never writes to the instance's store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from federation.errors import UrnError
from federation.http.transport import Transport
from federation.outcomes import FetchResult
from federation.proofs import ProofError, split_proof
from federation.resolve.keyservice import KeyService
from federation.resolve.lookup import ActorLookup
from federation.resolve.proofcheck import ProofChecker
from federation.urn import BlockUrn

SCHEME_NAMES = {"cavage": "draft-cavage HTTP Signatures", "rfc9421": "RFC 9421 HTTP Signatures"}


@dataclass(frozen=True)
class LookupReport:
    target: str
    answer: FetchResult  # its url is the one after redirects; its scheme signed the request
    document: dict[str, Any] | None  # None when the body is not a JSON object
    keys: list[dict[str, str]]  # the keys the document declares: id and type
    proof: dict[str, str]  # status: valid | none | invalid; method; detail

    def as_json(self) -> dict[str, Any]:
        answer = self.answer
        return {
            "target": self.target,
            "url": answer.url,
            "status": answer.status,
            "content_type": answer.content_type,
            "signature_scheme": answer.scheme,
            "keys": self.keys,
            "proof": self.proof,
            "document": self.document,
        }


class Inspector:
    def __init__(self, transport: Transport, keys: KeyService, scheme: str) -> None:
        self._transport = transport
        self._lookup = ActorLookup(transport, scheme)
        self._proofs = ProofChecker(keys)
        self._scheme = scheme

    async def lookup(self, target: str) -> LookupReport:
        """Raises TransportError (the fetch failed) or LookupError_ (no such target)."""
        url = await self._url_of(target)
        answer = await self._transport.fetch(url)
        document = _json_object(answer.body)
        keys = declared_keys(document or {})
        proof = await self._proof(document)
        return LookupReport(target=target, answer=answer, document=document, keys=keys, proof=proof)

    async def webfinger(self, handle: str) -> dict[str, Any]:
        return await self._lookup.webfinger(handle)

    async def nodeinfo(self, domain: str) -> dict[str, Any]:
        return await self._lookup.nodeinfo(domain)

    async def _url_of(self, target: str) -> str:
        if target.startswith("urn:"):
            try:
                return BlockUrn.parse(target).to_url(self._scheme)
            except UrnError as exc:
                raise ValueError(f"not a block URN: {exc}") from None
        return await self._lookup.actor_url(target)

    async def _proof(self, document: dict[str, Any] | None) -> dict[str, str]:
        """The document's FEP-8b32 proof checked against its author's key, as the inbox and
        the resolver check it."""
        if document is None or "proof" not in document:
            return {"status": "none"}
        owner = _author(document)
        try:
            signed = split_proof(document)
            method = signed.verification_method if signed is not None else ""
            await self._proofs.verify(document, owner)
        except ProofError as exc:
            return {"status": "invalid", "detail": f"{exc.reason.value}: {exc.detail}"}
        return {"status": "valid", "method": method, "detail": f"by {owner}"}


def _author(document: dict[str, Any]) -> str:
    """Who must own the proof's key: a block's attributedTo, an activity's actor, an actor
    itself."""
    for name in ("attributedTo", "actor", "id"):
        value = document.get(name)
        if isinstance(value, str):
            return value
    return ""


def declared_keys(document: dict[str, Any]) -> list[dict[str, str]]:
    """The keys an actor document publishes: publicKey (RSA, for HTTP signatures) and its
    assertionMethod Multikeys (Ed25519, for object proofs)."""
    keys = []
    for name, kind in (("publicKey", "publicKey"), ("assertionMethod", "Multikey")):
        value = document.get(name)
        for entry in value if isinstance(value, list) else [value]:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                keys.append({"id": entry["id"], "type": str(entry.get("type", kind))})
    return keys


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def render(report: LookupReport) -> str:
    """The human form: a header of facts, then the document."""
    keys = ", ".join(f"{k['id']} ({k['type']})" for k in report.keys) or "(none declared)"
    proof = report.proof["status"]
    if "method" in report.proof:
        proof += f" ({report.proof['method']}, {report.proof['detail']})"
    elif "detail" in report.proof:
        proof += f" ({report.proof['detail']})"
    answer = report.answer
    scheme = SCHEME_NAMES.get(answer.scheme, answer.scheme or "unsigned")
    header = [
        f"url:        {answer.url}",
        f"status:     {answer.status} {answer.content_type}",
        f"signed GET: {scheme}",
        f"keys:       {keys}",
        f"proof:      {proof}",
        "",
    ]
    if report.document is None:
        return "\n".join(header) + answer.body.decode("utf-8", "replace")
    return "\n".join(header) + json.dumps(report.document, indent=2, ensure_ascii=False)
