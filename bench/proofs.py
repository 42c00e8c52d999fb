"""Object integrity proof (eddsa-jcs-2022) throughput, as a ratio to raw Ed25519 on the same key.

Run: .venv/bin/python -m bench.proofs [--rounds N] [--seconds S]

Ours signs or verifies a typical Create (a block object embedded, ~1 KB of JSON) as FEP-8b32
does: JCS-canonicalise the proof options and the document, hash both, Ed25519 over the hashes,
base58 the signature. Raw is one Ed25519 sign or verify of the document's compact JSON bytes,
so the ratio is what canonicalisation, hashing and encoding cost around the curve operation.
Goal: >= 0.7.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.common import micro_args
from bench.signatures import rate
from federation.proofs import sign_document, split_proof, verify_proof

GOAL = 0.7
CREATED = datetime(2026, 12, 2, tzinfo=UTC)
METHOD = "https://alpha.example/actor#ed25519-key"


def _activity() -> dict[str, Any]:
    obj = {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://alpha.example/ns"],
        "id": "https://alpha.example/blocks/n-1",
        "type": "Note",
        "urn": "urn:block:alpha.example:n-1",
        "attributedTo": "https://alpha.example/actor",
        "name": "Meeting notes",
        "content": "Decisions taken today: " + "ship the gateway; " * 20,
        "blockKind": "note",
        "blockAuthor": "ann",
        "published": "2026-12-01T10:00:00Z",
        "updated": "2026-12-01T10:05:00Z",
        "references": ["urn:block:beta.example:x-7", "urn:block:alpha.example:n-0"],
        "visibility": "public",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": ["https://alpha.example/actor/followers"],
    }
    return {
        "@context": obj["@context"],
        "id": "https://alpha.example/activities/1",
        "type": "Create",
        "actor": "https://alpha.example/actor",
        "object": obj,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }


def run(rounds: int, seconds: float) -> list[dict[str, Any]]:
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    document = _activity()
    raw_message = json.dumps(document, separators=(",", ":")).encode()
    raw_signature = key.sign(raw_message)
    signed = split_proof(sign_document(document, key, METHOD, CREATED))
    assert signed is not None
    verify_proof(signed, public)
    operations: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
        "sign": (
            lambda: sign_document(document, key, METHOD, CREATED),
            lambda: key.sign(raw_message),
        ),
        "verify": (
            lambda: verify_proof(signed, public),
            lambda: public.verify(raw_signature, raw_message),
        ),
    }
    rows = []
    for name, (ours, raw) in operations.items():
        pairs = [(rate(ours, seconds), rate(raw, seconds)) for _ in range(rounds)]
        ratios = [o / r for o, r in pairs]
        rows.append(
            {
                "operation": name,
                "ours_per_s": statistics.median(o for o, _ in pairs),
                "raw_per_s": statistics.median(r for _, r in pairs),
                "ratio_median": statistics.median(ratios),
                "ratio_min": min(ratios),
                "ratio_max": max(ratios),
                "goal": GOAL,
            }
        )
    return rows


def main() -> None:
    args = micro_args(__doc__)
    print(f"{'proof op':<9} {'ours/s':>9} {'raw/s':>9} {'ratio':>6} {'spread':>11} {'goal':>5}")
    for row in run(args.rounds, args.seconds):
        spread = f"{row['ratio_min']:.2f}-{row['ratio_max']:.2f}"
        print(
            f"{row['operation']:<9} {row['ours_per_s']:>9.0f} {row['raw_per_s']:>9.0f} "
            f"{row['ratio_median']:>6.2f} {spread:>11} {row['goal']:>5.2f}"
        )


if __name__ == "__main__":
    main()
