"""Linked Data signature (RsaSignature2017) verify time per activity, beside proof verify.

Run: .venv/bin/python -m bench.ld_signatures [--rounds N] [--seconds S]

The activities are the recorded vectors (tests/vectors/ld_signatures): the Create a real Fedify
2.3.6 server sent, which carries both an eddsa-jcs-2022 proof and an LD signature, and a
Mastodon-shaped Create. Per round, on the same activity: ours is split + verify_ld_signature
(two bounded URDNA2015 canonicalisations with cached contexts, one RSA verify); the baselines
are the FEP-8b32 proof's split + verify_proof, and one raw RSA-2048 PKCS#1 v1.5 verify. The
ratios say what JSON-LD costs: LD verify per second over proof verify per second (how many
proof checks one LD check is worth), and over raw RSA.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from bench.common import micro_args
from bench.signatures import rate
from federation.keys import ed25519_public_from_multibase
from federation.proofs import split_ld_signature, split_proof, verify_ld_signature, verify_proof

VECTORS = Path(__file__).resolve().parents[1] / "tests" / "vectors" / "ld_signatures"
ACTIVITIES = {
    "Fedify server Create": "fedify-server-create.json",
    "Mastodon-shaped Create": "mastodon-shaped-create.json",
}


def _operations(recorded: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    document = recorded["document"]
    key = load_pem_public_key(recorded["publicKeyPem"].encode())
    assert isinstance(key, RSAPublicKey)
    signed = split_ld_signature(document)
    assert signed is not None
    verify_ld_signature(signed, key)  # a vector that no longer verifies would measure a refusal
    message, signature = b"x" * 128, signed.signature_bytes

    def ld() -> None:
        parsed = split_ld_signature(document)
        assert parsed is not None
        verify_ld_signature(parsed, key)

    def raw() -> None:
        # Not the bytes signed (those are ours to compute), but an RSA verify costs the same.
        with suppress(InvalidSignature):
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())

    operations = {"ld": ld, "raw": raw}
    if "ed25519PublicKeyMultibase" in recorded:
        proof_key = ed25519_public_from_multibase(recorded["ed25519PublicKeyMultibase"])
        unsigned = signed.unsigned

        def proof() -> None:
            proved = split_proof(unsigned)
            assert proved is not None
            verify_proof(proved, proof_key)

        proof()
        operations["proof"] = proof
    return operations


def run(rounds: int, seconds: float) -> list[dict[str, Any]]:
    rows = []
    for activity, name in ACTIVITIES.items():
        operations = _operations(json.loads((VECTORS / name).read_text()))
        series: dict[str, list[float]] = {op: [] for op in operations}
        for _ in range(rounds):
            for op, call in operations.items():
                series[op].append(rate(call, seconds))
        row: dict[str, Any] = {"activity": activity}
        for op, values in series.items():
            row[f"{op}_per_s"] = statistics.median(values)
        for base in ("proof", "raw"):
            if base in series:
                ratios = [o / b for o, b in zip(series["ld"], series[base], strict=True)]
                row[f"ratio_to_{base}"] = statistics.median(ratios)
                row[f"ratio_to_{base}_range"] = (min(ratios), max(ratios))
        rows.append(row)
    return rows


def main() -> None:
    args = micro_args(__doc__)
    for row in run(args.rounds, args.seconds):
        print(describe(row))


def describe(row: dict[str, Any]) -> str:
    text = f"LD signature verify, {row['activity']}: {1000 / row['ld_per_s']:.2f} ms"
    if "proof_per_s" in row:
        low, high = row["ratio_to_proof_range"]
        text += (
            f"; proof verify {1000 / row['proof_per_s']:.3f} ms,"
            f" ratio {row['ratio_to_proof']:.4f} ({low:.4f}-{high:.4f})"
        )
    low, high = row["ratio_to_raw_range"]
    return text + f"; raw RSA ratio {row['ratio_to_raw']:.4f} ({low:.4f}-{high:.4f})"


if __name__ == "__main__":
    main()
